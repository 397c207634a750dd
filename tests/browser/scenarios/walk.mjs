// walk.mjs - after every other scenario: each request the console made went to a /v1/ route
// that docs/API.md documents, and none tried to leave loopback.
import assert from 'node:assert/strict';
import { matchRoute } from '../lib/routes.mjs';

export const scenarios = [
  {
    name: 'route walk: every request the console made hit a route documented in docs/API.md',
    always: true,
    async run(t) {
      const seen = new Map();
      for (const q of t.requests) {
        const u = new URL(q.url);
        if (!u.pathname.startsWith('/v1/')) continue;
        const key = `${q.method} ${u.pathname.replace(/\/(cus|req|txn|com|alr|key|bg|csk)_[A-Za-z0-9_-]+/g, '/$1_…')}`;
        if (!seen.has(key)) seen.set(key, { ...q, path: u.pathname });
      }
      const ran = t.results.filter((r) => t.usingApi.has(r.name));
      assert.ok(seen.size > 0 || !ran.length, 'the console made requests to /v1/');
      const undocumented = [...seen.entries()].filter(([, q]) => !matchRoute(t.routes, q.method, q.path)).map(([k]) => k);
      t.log(`${seen.size} distinct console requests (${t.requests.length} in all) against ${t.routes.length} documented routes`);
      assert.deepEqual(undocumented, [], `undocumented routes used by the console: ${undocumented.join(', ')}`);
    },
  },
  {
    name: 'the console asks for nothing the role may not have (no 403 in ordinary work)',
    always: true,
    async run(t) {
      // Each refusal is a "denied" event against the person: counted in the violation register
      // HR reads and by the guard's probing rules. The console must not cause them by itself.
      const refused = t.requests.filter((q) => q.status === 403 && !t.refusing.has(q.scenario));
      const distinct = [...new Set(refused.map((q) => `${q.method} ${new URL(q.url).pathname
        .replace(/\/(cus|req|txn|com)_[A-Za-z0-9_-]+/g, '/$1_…')}`))];
      assert.deepEqual(distinct, [], `the console's own requests refused with 403 (${refused.length}): ${distinct.join(', ')}`);
    },
  },
  {
    name: 'no request of the browser left loopback',
    always: true,
    async run(t) {
      assert.deepEqual(t.offLoopback, [], `requests to other hosts: ${t.offLoopback.map((o) => `${o.url} (${o.scenario})`).join(', ')}`);
    },
  },
];
