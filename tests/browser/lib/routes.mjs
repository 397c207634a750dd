// routes.mjs - the /v1/ routes documented in docs/API.md, read from the document itself, so
// the route walk checks the console against what is written, not against a copy of it.
import fs from 'node:fs';

const METHOD = '(GET|POST|PUT|PATCH|DELETE|HEAD)';

function toRegex(p) {
  // A last segment named {path} is a file's path below the route (training's files): one or more segments.
  const parts = p.split('/').map((seg, i, all) =>
    seg === '{path}' && i === all.length - 1 ? '[^/]+(?:/[^/]+)*'
      : /^\{[^}]+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('/')}$`);
}

// Every "METHOD /v1/path" in backticks; a following "`…/other`" or "`/other`" on the same line
// (as in "`POST /v1/accounts/{user}/disable` · `/enable`") replaces the last segment.
export function documentedRoutes(apiMd) {
  const text = fs.readFileSync(apiMd, 'utf8');
  const routes = [];
  const add = (method, p) => {
    p = p.replace(/\[?[?#].*$/, '').replace(/[.,;:]+$/, ''); // "…/status[?username=]": the path
    if (!routes.some((r) => r.method === method && r.path === p)) routes.push({ method, path: p, re: toRegex(p) });
  };
  for (const line of text.split('\n')) {
    let last = null;
    const spans = line.match(/`[^`]+`/g) || [];
    for (const span of spans) {
      const s = span.slice(1, -1).trim();
      const m = s.match(new RegExp(`^(?:\\(\\w+ )?${METHOD} (/v1/[^\\s\`]*)`));
      if (m) {
        last = { method: m[1], path: m[2].replace(/\[?[?].*$/, '') };
        add(last.method, last.path);
        continue;
      }
      const alt = s.match(/^(?:…|\.\.\.)?(\/[a-z][a-z0-9_-]*)(?:\s|$)/);
      if (last && alt && !s.startsWith('/v1/')) {
        const base = last.path.replace(/\/[^/]+$/, '');
        add(last.method, base + alt[1]);
      }
    }
  }
  return routes;
}

export function matchRoute(routes, method, pathname) {
  return routes.find((r) => (r.method === method || (method === 'HEAD' && r.method === 'GET')) && r.re.test(pathname));
}
