#!/usr/bin/env node
// run.mjs - the web console's end-to-end tests in Debian's headless Chromium.
//
//   node tests/browser/run.mjs [--only TEXT]... [--list]
//
// Starts real `custos serve` processes on 127.0.0.1 with demo vaults (CUSTOS_BIN, default
// build/san/custos), launches /usr/bin/chromium (CHROMIUM) through playwright-core, and runs
// the scenarios of scenarios/*.mjs in order, each as the demo account whose job it is. The
// browser may reach loopback only: every other host is refused and fails the run.
// Prints "ok"/"not ok" per scenario and closes with "browser: N passed, N failed".
// Output: build/test-output/console/ (screenshots, timings.json, axe.json, routes.json).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Vault } from './lib/vault.mjs';
import { documentedRoutes } from './lib/routes.mjs';
import { scenarios as daily } from './scenarios/daily.mjs';
import { scenarios as watch } from './scenarios/watch.mjs';
import { scenarios as admin } from './scenarios/admin.mjs';
import { scenarios as security } from './scenarios/security.mjs';
import { scenarios as incidents } from './scenarios/incidents.mjs';
import { scenarios as training } from './scenarios/training.mjs';
import { scenarios as tour } from './scenarios/tour.mjs';
import { scenarios as walk } from './scenarios/walk.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
process.chdir(root);

const argv = process.argv.slice(2);
const only = [];
let list = false;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--only') only.push(argv[++i]);
  else if (argv[i] === '--list') list = true;
  else { console.error(`usage: run.mjs [--only TEXT]... [--list]`); process.exit(2); }
}

const all = [...daily, ...watch, ...admin, ...security, ...training, ...incidents, ...tour, ...walk];
const chosen = all.filter((s) => s.always || !only.length || only.some((o) => s.name.includes(o)));
if (list) {
  for (const s of all) console.log(s.name);
  process.exit(0);
}

const OUT = path.resolve(process.env.CONSOLE_TEST_OUTPUT || 'build/test-output/console');
fs.mkdirSync(OUT, { recursive: true });
const BIN = path.resolve(process.env.CUSTOS_BIN || 'build/san/custos');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
for (const [what, p] of [['CUSTOS_BIN', BIN], ['CHROMIUM', CHROMIUM]]) {
  if (!fs.existsSync(p)) {
    console.log(`not ok - setup: ${what} ${p} does not exist`);
    console.log('browser: 0 passed, 1 failed');
    process.exit(1);
  }
}

// Loopback only: 127.0.0.0/8, localhost, [::1].
export function isLoopback(u) {
  const h = u.hostname.replace(/^\[|\]$/g, '');
  return /^127\.\d+\.\d+\.\d+$/.test(h) || h === 'localhost' || h === '::1';
}

// A second origin on loopback for the attacks (framing, cross-site POST): plain HTTP on
// 127.0.0.1, visited as http://localhost:PORT, a different site from https://127.0.0.1.
function attackerServer() {
  const pages = new Map();
  const srv = http.createServer((req, res) => {
    const body = pages.get(req.url.split('?')[0]);
    if (!body) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(body);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => {
    const origin = `http://localhost:${srv.address().port}`;
    resolve({ origin, put: (p, html) => { pages.set(p, html); return origin + p; }, close: () => srv.close() });
  }));
}

const results = [];
const env = {
  out: OUT,
  root,
  // The tree under test's docs/API.md (API_MD names another, e.g. a merge being tried).
  routes: documentedRoutes(path.resolve(process.env.API_MD || path.join(root, 'docs', 'API.md'))),
  requests: [], // every request the console made: {scenario, method, url, status, cacheControl}
  offLoopback: [], // requests that tried to leave loopback (refused)
  axe: [],
  timings: {},
  state: {},
  results,
  // Scenarios that provoke refusals on purpose (their 403s are not the console's doing).
  refusing: new Set(all.filter((s) => s.refusals).map((s) => s.name)),
  // Scenarios that use the console's API (the route walk wants their requests).
  usingApi: new Set(all.filter((s) => !s.always && !s.noApi).map((s) => s.name)),
};

async function main() {
  const t0 = Date.now();
  // The shipped guard rules, but for the bulk-read limit: the run opens the customer list (up to
  // 50 customers a page, each counted as read) dozens of times in minutes as the same few accounts,
  // which no person does in an hour; every other rule (honeytokens, brute force, probing) stays.
  const shipped = fs.readFileSync(path.join(root, 'etc', 'guard.rules'), 'utf8');
  const guardRules = shipped.replace(/(rule bulk-read\n(?:.*\n)*?\s*threshold )300( within 1h)/, '$15000$2');
  if (guardRules === shipped) throw new Error('etc/guard.rules: the bulk-read rule was not found');
  const demo = new Vault({
    bin: BIN, tag: 'demo', customers: 40, guardRules,
    // As `make run`'s demo vault (second factor off), and a trusted proxy on loopback so the
    // guard scenario can give its API client another address (X-Forwarded-For) to block.
    config: { access: { second_factor: 'off' }, server: { trusted_proxies: ['127.0.0.1'] } },
  });
  // A vault as `custos init` makes it: the second factor required (admin must enrol).
  const enrol = new Vault({ bin: BIN, tag: 'enrol', customers: 0, config: { access: { second_factor: 'customer-roles' } } });
  // Sessions that end 14.4 s after sign-in (access.session_hours 0.004): a real expiry.
  const expiry = new Vault({ bin: BIN, tag: 'expiry', customers: 2,
    config: { access: { second_factor: 'off', session_hours: 0.004 } } });
  const vaults = [demo, enrol, expiry];
  Object.assign(env, { demo, enrol, expiry });
  let browser;
  let attacker;
  try {
    await Promise.all(vaults.map((v) => v.start()));
    attacker = await attackerServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        `--ignore-certificate-errors-spki-list=${vaults.map((v) => v.spkiHash()).join(',')}`,
        // No name resolves but localhost: Chromium's own background traffic cannot leave either.
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--disable-domain-reliability', '--no-first-run', '--no-default-browser-check',
        '--disable-features=Translate,OptimizationHints,MediaRouter',
      ],
    });
    console.log(`# servers ${demo.url} (demo, ${demo.customers} customers), ${enrol.url} (second factor required), ` +
      `${expiry.url} (sessions of 14.4 s); ` +
      `chromium ${browser.version()}; playwright-core; ready in ${Date.now() - t0} ms`);
    env.attacker = attacker;
    env.browser = browser;
    for (const s of chosen) await runOne(s);
  } catch (e) {
    results.push({ name: 'setup', ok: false, error: e.stack || String(e) });
    console.log(`not ok - setup: ${String(e.message || e).split('\n')[0]}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (attacker) attacker.close();
    for (const v of vaults) {
      const st = await v.stop().catch((e) => ({ error: String(e) }));
      if (!st || st.error || st.code !== 0) { // a signal (code null) or a sanitizer's exit status fails too
        results.push({ name: `server ${v.tag} exit`, ok: false, error: `exit ${JSON.stringify(st)}; log ${v.logFile}` });
        console.log(`not ok - server ${v.tag} exited with ${JSON.stringify(st)} (log ${v.logFile})`);
      }
    }
  }
  fs.writeFileSync(path.join(OUT, 'axe.json'), JSON.stringify(env.axe, null, 2) + '\n');
  fs.writeFileSync(path.join(OUT, 'routes.json'), JSON.stringify(env.requests.map(({ scenario, method, url, status }) =>
    ({ scenario, method, path: new URL(url).pathname, status })), null, 2) + '\n');
  if (Object.keys(env.timings).length) {
    fs.writeFileSync(path.join(OUT, 'timings.json'), JSON.stringify({ ...env.timings, server: path.relative(root, BIN), chromium: CHROMIUM }, null, 2) + '\n');
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  // The vaults' folders (server logs included) stay for a failed run, and go after a green one.
  for (const v of [env.demo, env.enrol, env.expiry]) {
    if (!v?.root) continue;
    if (failed) console.log(`# ${v.tag} vault and server log kept in ${v.root}`);
    else fs.rmSync(v.root, { recursive: true, force: true });
  }
  fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`# output in ${path.relative(root, OUT)}/ (screenshots, axe.json, routes.json, timings.json)`);
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exitCode = failed || !passed ? 1 : 0;
}

// One scenario: its own browser contexts (closed afterwards), its failures with a screenshot.
async function runOne(s) {
  const contexts = [];
  const pageErrors = [];
  const t = {
    ...env,
    name: s.name,
    log: (m) => console.log(`#   ${m}`),
    // A new browser (context) and page at the console, as one person at one machine.
    async page({ lang = 'zh-CN', viewport = { width: 1280, height: 800 } } = {}) {
      const ctx = await env.browser.newContext({ viewport, locale: lang, timezoneId: 'Asia/Shanghai' });
      contexts.push(ctx);
      await ctx.route('**/*', (route) => {
        const u = new URL(route.request().url());
        if (u.protocol === 'data:' || u.protocol === 'blob:' || isLoopback(u)) return route.continue();
        env.offLoopback.push({ scenario: s.name, url: u.href });
        return route.abort('blockedbyclient');
      });
      await ctx.routeWebSocket(/.*/, (ws) => {
        const u = new URL(ws.url());
        if (isLoopback(u)) return ws.connectToServer();
        env.offLoopback.push({ scenario: s.name, url: u.href });
        return ws.close();
      });
      ctx.on('requestfinished', async (req) => record(req, s.name));
      ctx.on('requestfailed', async (req) => record(req, s.name, true));
      const page = await ctx.newPage();
      page.on('pageerror', (e) => pageErrors.push(String(e.message || e)));
      page.on('dialog', (d) => { (t.dialogs ||= []).push(d.message()); d.dismiss().catch(() => {}); });
      return page;
    },
    pageErrors,
  };
  const started = Date.now();
  let ok = true;
  let error = '';
  try {
    await withTimeout(s.run(t), s.timeout || 120000, s.name);
    if (pageErrors.length && !s.allowPageErrors) throw new Error(`uncaught errors in the page: ${pageErrors.slice(0, 3).join(' | ')}`);
    if (t.dialogs?.length) throw new Error(`a page opened a dialog: ${t.dialogs.join(' | ')}`);
  } catch (e) {
    ok = false;
    error = e.stack || String(e);
    for (const [i, ctx] of contexts.entries()) {
      for (const [j, p] of ctx.pages().entries()) {
        await p.screenshot({ path: path.join(env.out, 'failures', `${slug(s.name)}-${i}-${j}.png`), fullPage: true })
          .catch(() => {});
      }
    }
  }
  for (const ctx of contexts) await ctx.close().catch(() => {});
  results.push({ name: s.name, ok, ms: Date.now() - started, error });
  if (ok) console.log(`ok - ${s.name} (${Date.now() - started} ms)`);
  else console.log(`not ok - ${s.name}: ${String(error).split('\n').slice(0, 1).join('')}`);
  if (!ok && process.env.BROWSER_TEST_VERBOSE) console.log(error);
}

function record(req, scenario, failed = false) {
  const u = new URL(req.url());
  if (!u.pathname.startsWith('/v1/') && !u.pathname.startsWith('/healthz')) return;
  if (!isLoopback(u)) return;
  const entry = { scenario, method: req.method(), url: req.url(), failed };
  env.requests.push(entry);
  if (!failed) {
    req.response().then((r) => {
      if (!r) return;
      entry.status = r.status();
      return r.allHeaders().then((h) => { entry.cacheControl = h['cache-control'] || ''; });
    }).catch(() => {});
  }
}

function slug(s) { return s.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 60); }

function withTimeout(p, ms, name) {
  let timer;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${name}: no end after ${ms} ms`)), ms); }),
  ]);
}

fs.mkdirSync(path.join(OUT, 'failures'), { recursive: true });
for (const f of fs.readdirSync(path.join(OUT, 'failures'))) fs.rmSync(path.join(OUT, 'failures', f));
await main();
