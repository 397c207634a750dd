// security.mjs - the console under attack: script in data, framing, cross-site requests,
// the back button after sign-out, a session that ends under the page.
import assert from 'node:assert/strict';
import { pollUntil } from '../lib/vault.mjs';
import { signIn, go, waitView, signOut } from '../lib/console.mjs';
import { newCustomer, search, openCard } from './daily.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const SQL = '"; DROP TABLE customers; --';

export const scenarios = [
  {
    name: 'customers named <img src=x onerror=alert(1)> and "; DROP TABLE show as text',
    async run(t) {
      const a = await newCustomer(t, { name: XSS });
      const b = await newCustomer(t, { name: SQL });
      const page = await t.page();
      t.dialogs = [];
      await signIn(page, t.demo.url, 'steward1');
      for (const c of [a, b]) {
        await go(page, 'customers');
        await search(page, 'name', c.name);
        const card = await openCard(page, c);
        await pollUntil(async () => (await card.innerText()).includes(c.name),
          { what: `the name shown exactly, as text: ${c.name}` });
        const injected = await page.evaluate(() => [...document.querySelectorAll('img')]
          .filter((i) => i.getAttribute('src') === 'x').length);
        assert.equal(injected, 0, 'no <img src=x> element was made from the name');
      }
      // The list shows them as text too.
      await go(page, 'customers');
      await search(page, 'name', XSS);
      await pollUntil(async () => (await page.locator('[data-view]').first().innerText()).includes(XSS), { what: 'the name in the list' });
      assert.deepEqual(t.dialogs, [], 'no dialog fired');
      // The vault still holds both (no statement ran).
      const st = t.state.steward1;
      for (const c of [a, b]) assert.equal((await st.get(`/v1/customers/${c.id}`)).json.name, c.name);
    },
  },
  {
    name: 'the console refuses to be framed (headers, and a framing page gets nothing)',
    noApi: true,
    async run(t) {
      const r = await t.demo.request('GET', '/', { raw: true });
      assert.equal(r.status, 200, 'the console is served at /');
      const csp = String(r.headers['content-security-policy'] || '');
      assert.match(csp, /frame-ancestors 'none'/, `CSP: ${csp}`);
      assert.match(csp, /default-src 'self'/, `CSP: ${csp}`);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `CSP: ${csp}`);
      assert.equal(String(r.headers['x-frame-options'] || '').toUpperCase(), 'DENY');
      const url = t.attacker.put('/frame.html',
        `<!doctype html><title>framing</title><iframe id=f src="${t.demo.url}/" width=800 height=600></iframe>`);
      const page = await t.page();
      const framed = page.waitForResponse((res) => res.url() === `${t.demo.url}/`, { timeout: 15000 });
      await page.goto(url);
      const res = await framed;
      assert.equal(res.status(), 200, 'the browser fetched the console for the frame, then refused to show it');
      const frame = page.frames().find((f) => f !== page.mainFrame());
      assert.ok(frame, 'the iframe exists');
      await pollUntil(async () => {
        const n = await frame.locator('[data-view], #app').count().catch(() => 0);
        return n === 0 ? true : Promise.reject(new Error('the console rendered inside a frame'));
      }, { what: 'the frame to stay empty' });
      const inside = await frame.evaluate(() => document.documentElement.outerHTML).catch(() => '');
      assert.ok(!inside.includes('data-view') && !inside.includes('app.js'), 'the framed page shows no console');
    },
  },
  {
    name: 'a forged cross-site POST fails for want of the CSRF token',
    refusals: true,
    async run(t) {
      const page = await t.page();
      await signIn(page, t.demo.url, 'steward1');
      const marker = `csrf-${Date.now()}`;
      // From another site, in the same browser, while steward1 is signed in.
      const url = t.attacker.put('/csrf.html', `<!doctype html><title>win a vase</title>
<form id=f method=POST action="${t.demo.url}/v1/customers" enctype="text/plain">
<input name='{"name":"${marker}","x":"' value='"}'></form>
<script>document.getElementById('f').submit()</script>`);
      const evil = await page.context().newPage();
      const answer = evil.waitForResponse((r) => r.url() === `${t.demo.url}/v1/customers` && r.request().method() === 'POST', { timeout: 15000 });
      await evil.goto(url);
      const res = await answer;
      assert.ok([401, 403].includes(res.status()), `the cross-site POST was refused: ${res.status()}`);
      // From the console's own origin, with the session cookie but without the header.
      const same = await page.evaluate(async (m) => {
        const r = await fetch('/v1/customers', { method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: m }) });
        return { status: r.status, body: await r.text() };
      }, marker);
      assert.equal(same.status, 403, `a POST with the cookie and no X-CSRF-Token: ${same.status} ${same.body}`);
      const wrong = await page.evaluate(async (m) => {
        const r = await fetch('/v1/customers', { method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, body: JSON.stringify({ name: m }) });
        return r.status;
      }, marker);
      assert.equal(wrong, 403, 'a wrong X-CSRF-Token is refused');
      const st = t.state.steward1 ||= await t.demo.as('steward1');
      const found = await st.get(`/v1/customers?name=${encodeURIComponent(marker)}`);
      assert.equal((found.json.customers || []).length, 0, 'no customer was created');
      // The session still works in the console afterwards.
      await go(page, 'customers');
    },
  },
  {
    name: 'after logout the back button shows no customer data',
    async run(t) {
      const c = await newCustomer(t, { name: `返回键测试${Date.now() % 10000}` });
      const page = await t.page();
      await signIn(page, t.demo.url, 'service1');
      await go(page, 'customers');
      await search(page, 'phone', c.phone);
      await openCard(page, c);
      await signOut(page);
      assert.ok(!(await page.content()).includes(c.name), 'the signed-out page holds no customer data');
      await page.goBack();
      await page.waitForLoadState('domcontentloaded');
      await waitView(page, 'signin');
      const html = await page.content();
      assert.ok(!html.includes(c.name) && !html.includes(c.phone), 'back after logout shows no customer data');
      await page.goBack().catch(() => {});
      await page.waitForLoadState('domcontentloaded');
      await waitView(page, 'signin');
      assert.ok(!(await page.content()).includes(c.name), 'nor two steps back');
      // What the browser may keep: every answer of the API, and the page, say no-store.
      const r = await t.demo.request('GET', '/', { raw: true });
      assert.match(String(r.headers['cache-control']), /no-store/, 'the console page is no-store');
      const mine = t.requests.filter((q) => q.scenario === t.name && q.status);
      const stored = mine.filter((q) => !/no-store/.test(q.cacheControl || ''));
      assert.deepEqual(stored.map((q) => q.url), [], 'every /v1/ answer is no-store');
    },
  },
  {
    name: 'an expired session returns to sign-in without data',
    async run(t) {
      // The expiry vault's sessions end 14.4 s after sign-in (access.session_hours 0.004).
      const v = t.expiry;
      const c = await newCustomer(t, { name: `到期测试${Date.now() % 10000}` }, v);
      const page = await t.page();
      await signIn(page, v.url, 'service1');
      const signedAt = Date.now();
      await go(page, 'customers');
      await search(page, 'phone', c.phone);
      await openCard(page, c);
      // Wait for the expiry itself, asked of the server with a cookie-less probe: a fresh
      // session signed in at the same moment as the page's (so the page's session is never touched).
      const probe = await v.login('sales1');
      await pollUntil(async () => (await v.request('GET', '/v1/me', { token: probe })).status === 401,
        { timeout: 40000, every: 250, what: 'the probe session to expire' });
      t.log(`sessions expired ${((Date.now() - signedAt) / 1000).toFixed(1)} s after the page's sign-in`);
      // The page's session is older than the probe's: it has expired too. The next step in the console:
      await go(page, 'customers').catch(() => {});
      await waitView(page, 'signin');
      const html = await page.content();
      assert.ok(!html.includes(c.name) && !html.includes(c.phone), 'no customer data after the session expired');
    },
  },
  {
    name: 'a session that ends under the page returns to sign-in without data',
    async run(t) {
      const c = await newCustomer(t, { name: `过期测试${Date.now() % 10000}` });
      const page = await t.page();
      await signIn(page, t.demo.url, 'service1');
      await go(page, 'customers');
      await search(page, 'phone', c.phone);
      await openCard(page, c);
      // The server ends the session (as the idle or absolute expiry does): every later call is 401.
      const adm = await t.demo.as('admin');
      const r = await adm.post('/v1/accounts/service1/revoke-sessions');
      assert.equal(r.status, 200, `revoke-sessions: ${r.status} ${r.text}`);
      await go(page, 'customers').catch(() => {});
      await waitView(page, 'signin');
      const html = await page.content();
      assert.ok(!html.includes(c.name) && !html.includes(c.phone), 'no customer data after the session ended');
    },
  },
];
