// console.mjs - driving the web console through its test contract only:
//   view roots          [data-view="<name>"]     routing by #/<view>
//   nav links           [data-nav="<name>"]
//   action buttons      [data-action="<verb>"]   language switch "lang", sign-out "logout"
//   form inputs         [name="<field>"]
//   list rows           [data-id="<id>"]
//   API errors          [role="alert"][data-error-code]
//   a missing translation renders as ⟦key⟧
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { DEMO_PW, pollUntil } from './vault.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const MISSING = '⟦';
const HAN = /[\u3400-\u9fff]/;

export const view = (name) => `[data-view="${name}"]`;
export const act = (verb) => `[data-action="${verb}"]`;
export const nav = (name) => `[data-nav="${name}"]`;
export const row = (id) => `[data-id="${id}"]`;
export const field = (name) => `[name="${name}"]`;

export async function waitView(page, name, timeout = 15000) {
  const loc = page.locator(view(name)).first();
  try {
    await loc.waitFor({ state: 'visible', timeout });
  } catch {
    const present = await page.locator('[data-view]').evaluateAll((els) => els.map((e) => e.getAttribute('data-view')));
    throw new Error(`view "${name}" did not show within ${timeout} ms (views on the page: ${present.join(', ') || 'none'}; url ${page.url()})`);
  }
  return loc;
}

// Signs in through the sign-in view: username, password and, when given, a TOTP code.
export async function signIn(page, base, user, { password = DEMO_PW, otp, expect = 'in' } = {}) {
  await page.goto(`${base}/#/signin`);
  const v = await waitView(page, 'signin');
  await v.locator(field('username')).fill(user);
  await v.locator(field('password')).fill(password);
  if (otp) {
    const o = v.locator(`${field('otp')}, ${field('code')}`).first();
    if (await o.count()) await o.fill(otp);
  }
  await v.locator(field('password')).press('Enter');
  if (expect === 'in') await signedIn(page);
}

export async function signedIn(page, timeout = 15000) {
  await page.locator('[data-nav]').first().waitFor({ state: 'visible', timeout }).catch(async () => {
    const err = await page.locator('[role="alert"]').allInnerTexts().catch(() => []);
    throw new Error(`not signed in after ${timeout} ms (url ${page.url()}; alerts: ${err.join(' | ') || 'none'})`);
  });
}

export async function navNames(page) {
  return page.locator('[data-nav]').evaluateAll((els) =>
    els.filter((e) => e.offsetParent !== null || e.getClientRects().length).map((e) => e.getAttribute('data-nav')));
}

// Opens a view by its nav link, as a person would.
export async function go(page, name) {
  const link = page.locator(nav(name)).first();
  if (!(await link.count())) {
    throw new Error(`no nav link "${name}" for this account (links: ${(await navNames(page)).join(', ')})`);
  }
  await link.click();
  return waitView(page, name);
}

export async function actions(scope) {
  return scope.locator('[data-action]').evaluateAll((els) =>
    els.filter((e) => e.getClientRects().length).map((e) => e.getAttribute('data-action')));
}

export async function click(scope, verb) {
  const b = scope.locator(act(verb)).first();
  try {
    await b.waitFor({ state: 'visible', timeout: 10000 });
  } catch {
    throw new Error(`no visible [data-action="${verb}"] (actions here: ${(await actions(scope)).join(', ') || 'none'})`);
  }
  await b.click();
}

export async function fill(scope, values) {
  for (const [k, v] of Object.entries(values)) {
    const el = scope.locator(field(k)).first();
    try {
      await el.waitFor({ state: 'visible', timeout: 10000 });
    } catch {
      const names = await scope.locator('[name]').evaluateAll((els) => els.map((e) => e.getAttribute('name')));
      throw new Error(`no visible input name="${k}" (inputs here: ${names.join(', ') || 'none'})`);
    }
    const tag = await el.evaluate((e) => e.tagName.toLowerCase());
    if (tag === 'select') await el.selectOption(String(v));
    else await el.fill(String(v));
  }
}

// Switches the language with the switch until <html lang> starts with `lang`.
export async function setLang(page, lang) {
  for (let i = 0; i < 4; i++) {
    const cur = await page.evaluate(() => document.documentElement.lang || '');
    if (cur.toLowerCase().startsWith(lang)) return;
    await page.locator(act('lang')).first().click();
    await pollUntil(async () => (await page.evaluate(() => document.documentElement.lang || '')) !== cur,
      { timeout: 5000, what: 'the language to change' }).catch(() => {});
  }
  const cur = await page.evaluate(() => document.documentElement.lang || '');
  if (!cur.toLowerCase().startsWith(lang)) throw new Error(`the language switch did not reach ${lang} (html lang="${cur}")`);
}

// No ⟦key⟧ anywhere in the page's text or its labels.
export async function assertTranslated(page, where) {
  const bad = await page.evaluate((mark) => {
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.nodeValue.includes(mark)) found.push(n.nodeValue.trim());
    for (const el of document.querySelectorAll('[placeholder],[title],[aria-label],[alt],input[type=submit],input[type=button]')) {
      for (const a of ['placeholder', 'title', 'aria-label', 'alt', 'value']) {
        const v = el.getAttribute(a);
        if (v && v.includes(mark)) found.push(`${a}=${v}`);
      }
    }
    if (document.title.includes(mark)) found.push(`title=${document.title}`);
    return found.slice(0, 10);
  }, MISSING);
  if (bad.length) throw new Error(`missing translations on ${where}: ${bad.join(' | ')}`);
}

// In English the console's own words (nav, actions, labels, headings, table heads, buttons)
// carry no Chinese; customers' names and notes may, and are not looked at.
export async function assertEnglishChrome(page, where) {
  const bad = await page.evaluate((src) => {
    const han = new RegExp(src);
    // Data: table cells, definitions, fields, outputs, code, and what is marked Chinese.
    const DATA = 'td,dd,[data-field],[data-value],output,pre,code,[lang^="zh"]';
    const data = new Set([...document.querySelectorAll(DATA)].map((e) => e.textContent.trim()).filter(Boolean));
    const sel = '[data-nav],[data-action],label,h1,h2,h3,h4,th,button,legend,caption,[role="alert"],[role="status"],[placeholder]';
    const out = [];
    for (const el of document.querySelectorAll(sel)) {
      if (!el.getClientRects().length) continue;
      if (el.closest('[data-action="lang"]')) continue; // the switch names the other language in its own script
      if (el.tagName !== 'BUTTON' && el.closest(DATA)) continue;
      const t = ((el.matches('[placeholder]') && !el.textContent.trim() ? el.getAttribute('placeholder') : el.textContent) || '').trim();
      if (!han.test(t) || data.has(t)) continue;
      // A heading or link that names a datum shown in the page (a customer's name) is data too.
      if (el.matches('h1,h2,h3,h4,a') && [...data].some((d) => d && t.includes(d) && han.test(d))) continue;
      out.push(`${el.tagName.toLowerCase()}: ${t.slice(0, 40)}`);
    }
    return out.slice(0, 10);
  }, HAN.source);
  if (bad.length) throw new Error(`Chinese left in the English console on ${where}: ${bad.join(' | ')}`);
}

// axe-core in the page: every serious or critical violation fails.
export async function axe(page, where, results) {
  await page.evaluate(AXE_SOURCE);
  const r = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const res = await axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  results.push({ where, violations: r });
  const bad = r.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    throw new Error(`axe on ${where}: ${bad.map((v) => `${v.impact} ${v.id} (${v.help}; ${v.nodes} nodes: ${v.targets.join(', ')})`).join('; ')}`);
  }
}

// axe-core on the view; a serious or critical finding is kept (t.state.axeFailures) for the
// scenario that judges every view at once.
export async function axeInto(t, page, where) {
  (t.state.axeChecked ||= []).push(where);
  try {
    await axe(page, where, t.axe);
  } catch (e) {
    (t.state.axeFailures ||= []).push(String(e.message).split('\n')[0]);
  }
}

export async function shot(page, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

export async function errorShown(page, timeout = 10000) {
  const e = page.locator('[role="alert"][data-error-code]').first();
  await e.waitFor({ state: 'visible', timeout });
  return { code: await e.getAttribute('data-error-code'), text: await e.innerText() };
}

export async function signOut(page) {
  await click(page, 'logout');
  await waitView(page, 'signin');
}
