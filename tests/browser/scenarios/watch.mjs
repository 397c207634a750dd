// watch.mjs - the watch-and-check views: security's live alerts, HR's violations, the
// auditor's in-browser verification.
import assert from 'node:assert/strict';
import { pollUntil } from '../lib/vault.mjs';
import { signIn, go, waitView, click, fill, row, field } from '../lib/console.mjs';

// The honeytoken reader's address: a documentation address (RFC 5737) that no packet goes to;
// it reaches the server only as X-Forwarded-For from 127.0.0.1, a trusted proxy in the test vault.
const READER_ADDR = '198.51.100.7';

// Clicks `verb` in the row, then confirms a dialog form when the console asks for one.
async function rowAction(page, scope, verb, formValues = {}) {
  await click(scope, verb);
  const v = page.locator('[data-view]').first();
  for (const [k, val] of Object.entries(formValues)) {
    const el = v.locator(field(k)).first();
    if (await el.count() && await el.isVisible()) await fill(v, { [k]: val });
  }
  const confirm = page.locator('[data-action="confirm"]').first();
  if (await confirm.count() && await confirm.isVisible()) await confirm.click();
}

// The auditor's result of a verification: [data-result] "ok" or "fail" in the audit view.
async function verifyResult(page) {
  const v = page.locator('[data-view="audit"]').first();
  return pollUntil(async () => {
    const r = v.locator('[data-result]').first();
    if (!(await r.count())) return false;
    const val = await r.getAttribute('data-result');
    return val === 'ok' || val === 'fail' ? { val, text: await r.innerText() } : false;
  }, { timeout: 20000, what: 'the verification result' });
}

export const scenarios = [
  {
    name: 'security1 sees a honeytoken alert appear by itself, acknowledges it and blocks the address',
    async run(t) {
      const sec = await t.demo.as('security1');
      const hts = (await sec.get('/v1/honeytokens')).json.honeytokens;
      const ht = hts.find((h) => h.department === 'shanghai');
      assert.ok(ht, 'the demo vault plants shanghai honeytokens');
      const page = await t.page();
      await signIn(page, t.demo.url, 'security1');
      const v = await go(page, 'alerts');
      // The read, through the API, from "another machine": steward2 opens the decoy.
      const reader = await t.demo.as('steward2', { headers: { 'X-Forwarded-For': READER_ADDR } });
      const readAt = Date.now();
      await reader.get(`/v1/customers/${ht.id}`);
      const alert = await pollUntil(async () => {
        const r = await sec.get('/v1/alerts?rule=honeytoken');
        return (r.json?.alerts || []).find((a) => a.address === READER_ADDR || a.account === 'steward2');
      }, { what: 'the honeytoken alert in the API' });
      // No reload, no click: the list updates by itself.
      const line = v.locator(row(alert.id)).first();
      await line.waitFor({ state: 'visible', timeout: 20000 }).catch(() => {
        throw new Error(`alert ${alert.id} did not appear in the open alerts view within 20 s of the read`);
      });
      const seconds = ((Date.now() - readAt) / 1000).toFixed(1);
      t.timings.honeytoken_alert_on_screen_s = +seconds;
      t.log(`honeytoken alert ${alert.id} on screen ${seconds} s after the read`);
      await rowAction(page, line, 'ack');
      await pollUntil(async () => {
        const r = await sec.get('/v1/alerts?rule=honeytoken');
        const a = (r.json?.alerts || []).find((x) => x.id === alert.id);
        return a && a.status !== 'open';
      }, { what: 'the alert acknowledged' });
      await rowAction(page, page.locator(row(alert.id)).first(), 'block',
        { address: READER_ADDR, seconds: '3600', reason: '蜜罐客户被读取 honeytoken read' });
      await pollUntil(async () => JSON.stringify((await sec.get('/v1/guard/sanctions')).json || {}).includes(READER_ADDR),
        { what: `a block of ${READER_ADDR} in force` });
      const blocked = await t.demo.request('GET', '/healthz', { headers: { 'X-Forwarded-For': READER_ADDR } });
      const again = await t.demo.request('POST', '/v1/login', {
        body: { username: 'steward2', password: 'x' }, headers: { 'X-Forwarded-For': READER_ADDR } });
      assert.equal(again.status, 403, `the blocked address is refused (healthz ${blocked.status}, login ${again.status})`);
    },
  },
  {
    name: 'hr1 sees the violation in the register',
    async run(t) {
      // sales1 tries to change a phone: refused (sales may not write contact data) and counted.
      const sa = await t.demo.as('sales1');
      const list = await sa.get('/v1/customers?limit=1');
      const id = list.json.customers[0].id;
      const r = await sa.patch(`/v1/customers/${id}`, { phone: '13800000000' });
      assert.equal(r.status, 403, `sales1 may not write phones: ${r.status}`);
      const hr = await t.demo.as('hr1');
      await pollUntil(async () => ((await hr.get('/v1/violations?username=sales1')).json?.violations || []).length > 0,
        { what: 'the violation in the API' });
      const page = await t.page();
      await signIn(page, t.demo.url, 'hr1');
      const v = await go(page, 'violations');
      await pollUntil(async () => (await v.innerText()).includes('sales1'), { what: 'sales1 in the violations view' });
    },
  },
  {
    name: 'auditor1 saves a checkpoint; after more entries the in-browser verification succeeds, then fails against a forged checkpoint',
    async run(t) {
      const page = await t.page();
      await signIn(page, t.demo.url, 'auditor1');
      const v = await go(page, 'audit');
      await click(v, 'save-checkpoint');
      const saved = await pollUntil(async () => {
        const box = v.locator(field('checkpoint')).first();
        if (!(await box.count())) return false;
        const txt = await box.inputValue().catch(() => box.innerText());
        return txt && txt.includes('\n') ? txt : false;
      }, { what: 'the saved checkpoint' });
      const size0 = parseInt(saved.split('\n')[1], 10);
      // More entries: steward1 works.
      const st = await t.demo.as('steward1');
      const cs = (await st.get('/v1/customers?limit=5')).json.customers;
      for (const c of cs) await st.get(`/v1/customers/${c.id}`);
      const cp = (await (await t.demo.as('auditor1')).get('/v1/audit/checkpoint')).json;
      assert.ok(cp.size > size0, `the log grew past the saved checkpoint (${size0} → ${cp.size})`);
      await click(v, 'verify');
      const ok = await verifyResult(page);
      assert.equal(ok.val, 'ok', `verification against the saved checkpoint: ${ok.text}`);
      assert.match(ok.text, /[A-Za-z0-9+/]{43}=/, 'the result shows the hashes');
      // The same checkpoint with its root replaced: signed text no longer matches the signature.
      const lines = saved.split('\n');
      const root = Buffer.from(lines[2], 'base64');
      root[0] ^= 0x01;
      lines[2] = root.toString('base64');
      const forged = lines.join('\n');
      await v.locator(field('checkpoint')).first().fill(forged);
      await page.evaluate(() => { const r = document.querySelector('[data-view="audit"] [data-result]'); if (r) r.remove(); });
      await click(v, 'verify');
      const bad = await verifyResult(page);
      assert.equal(bad.val, 'fail', `verification against a forged checkpoint must fail: ${bad.text}`);
      await waitView(page, 'audit');
    },
  },
];
