// watch.mjs - the watch-and-check views: security's live alerts, HR's violations, the
// auditor's in-browser verification.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pollUntil } from '../lib/vault.mjs';
import { signIn, go, click, fill, row, field, shot } from '../lib/console.mjs';

// The honeytoken reader's address: a documentation address (RFC 5737) that no packet goes to;
// it reaches the server only as X-Forwarded-For from 127.0.0.1, a trusted proxy in the test vault.
const READER_ADDR = '198.51.100.7';

// Clicks `verb` in the row; when the console asks for details (an inline form), fills them in
// the row and confirms with "confirm-<verb>" (or "confirm").
async function rowAction(page, scope, verb, formValues = {}) {
  await click(scope, verb);
  for (const [k, val] of Object.entries(formValues)) {
    const el = scope.locator(field(k)).first();
    if (await el.count() && await el.isVisible()) await fill(scope, { [k]: val });
  }
  const confirm = scope.locator(`[data-action="confirm-${verb}"], [data-action="confirm"]`).first();
  if (await confirm.count() && await confirm.isVisible()) await confirm.click();
}

// The result of a verification in the audit view: [data-result] "ok" or "fail".
async function verifyResult(page) {
  const v = page.locator('[data-view="audit"]').first();
  return pollUntil(async () => {
    const r = v.locator('[data-result="ok"], [data-result="fail"]').first();
    if (!(await r.count())) return false;
    return { val: await r.getAttribute('data-result'), text: await r.innerText() };
  }, { timeout: 20000, what: 'the verification result' });
}

const SAVED_KEY = 'custos.audit.checkpoint'; // where the audit view keeps the saved checkpoint

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
    name: 'hr1 sends sales1 from the register to a remedial course and sees it open (then withdraws it)',
    async run(t) {
      // A violation of sales1's in the register (a refused phone change), whatever ran before.
      const sa = await t.demo.as('sales1');
      const cid = (await sa.get('/v1/customers?limit=1')).json.customers[0].id;
      assert.equal((await sa.patch(`/v1/customers/${cid}`, { phone: '13800000001' })).status, 403);
      const hr = await t.demo.as('hr1');
      await pollUntil(async () => ((await hr.get('/v1/violations?username=sales1')).json?.violations || []).length > 0,
        { what: 'the violation in the API' });
      const page = await t.page();
      await signIn(page, t.demo.url, 'hr1');
      const v = await go(page, 'violations');
      await fill(v, { username: 'sales1' });
      await click(v, 'filter');
      await pollUntil(async () => (await v.locator('[data-section="per-employee"]').innerText()).includes('sales1'), { what: 'sales1 in the per-employee table' });
      await click(v.locator('[data-section="per-employee"]'), 'remedial');
      const f = v.locator('form[data-form="remedial"]');
      await f.waitFor({ state: 'visible', timeout: 10000 });
      await f.locator('input[name="blocking"]').uncheck(); // the later scenarios still read as sales1
      await shot(page, t.out, 'violations-remedial-hr1');
      await click(f, 'confirm-remedial');
      const open = await pollUntil(async () => {
        const r = ((await hr.get('/v1/training/remedial?username=sales1&open=1')).json?.remedial || []);
        return r.length > 0 ? r : false;
      }, { what: 'the remedial course in the API' });
      assert.equal(open.length, 1, 'one open remedial course');
      assert.equal(open[0].blocking, false, 'not blocking, as chosen');
      assert.equal(open[0].assigned_by, 'hr1');
      await click(v, 'filter');
      const sec = v.locator('[data-section="remedial"]');
      await pollUntil(async () => (await sec.innerText()).includes(open[0].course), { what: 'the open course in the view' });
      const w = await hr.del(`/v1/training/remedial/${open[0].id}`, { reason: 'browser test cleanup' });
      assert.equal(w.status, 200, `withdrawn: ${w.status}`);
    },
  },
  {
    name: 'auditor1 saves a checkpoint; after more entries the in-browser verification succeeds, then fails against a forged checkpoint',
    async run(t) {
      const page = await t.page();
      await signIn(page, t.demo.url, 'auditor1');
      const v = await go(page, 'audit');
      // The verifier key, given by the operator out of band (the "vkey" line of the vault's audit.pub).
      const pub = fs.readFileSync(path.join(t.demo.dir, 'audit.pub'), 'utf8');
      const vkey = (pub.match(/^vkey (\S+)$/m) || [])[1];
      assert.ok(vkey, 'audit.pub names the verifier key');
      await fill(v, { vkey });
      await click(v, 'save-checkpoint');
      const saved = await pollUntil(async () => {
        const rec = await page.evaluate((k) => localStorage.getItem(k), SAVED_KEY);
        return rec ? JSON.parse(rec).note : false;
      }, { what: 'the saved checkpoint' });
      const size0 = parseInt(saved.split('\n')[1], 10);
      const root0 = Buffer.from(saved.split('\n')[2], 'base64');
      // More entries: steward1 works.
      const st = await t.demo.as('steward1');
      const cs = (await st.get('/v1/customers?limit=5')).json.customers;
      for (const c of cs) await st.get(`/v1/customers/${c.id}`);
      const cp = (await (await t.demo.as('auditor1')).get('/v1/audit/checkpoint')).json;
      assert.ok(cp.size > size0, `the log grew past the saved checkpoint (${size0} → ${cp.size})`);
      await click(v, 'verify');
      const ok = await verifyResult(page);
      assert.equal(ok.val, 'ok', `verification against the saved checkpoint: ${ok.text}`);
      assert.ok(ok.text.includes(root0.toString('hex')) || ok.text.includes(root0.toString('base64')),
        'the result shows the saved root hash');
      await shot(page, t.out, 'audit-verify-ok-auditor1');
      // The same checkpoint with one bit of its root changed, kept as if saved earlier.
      const lines = saved.split('\n');
      const forgedRoot = Buffer.from(root0);
      forgedRoot[0] ^= 0x01;
      lines[2] = forgedRoot.toString('base64');
      const forged = lines.join('\n');
      await fill(v, { checkpoint_note: forged });
      await click(v, 'save-pasted');
      await pollUntil(async () => {
        const rec = await page.evaluate((k) => localStorage.getItem(k), SAVED_KEY);
        return rec && JSON.parse(rec).note.includes(lines[2]);
      }, { what: 'the forged checkpoint kept' });
      await page.evaluate(() => document.querySelectorAll('[data-view="audit"] [data-result]').forEach((r) => r.remove()));
      await click(v, 'verify');
      const bad = await verifyResult(page);
      assert.equal(bad.val, 'fail', `verification against a forged checkpoint must fail: ${bad.text}`);
      await shot(page, t.out, 'audit-verify-forged-auditor1');
      // And without the verifier key (signatures not checked), the proof alone still refuses it.
      await fill(v, { vkey: '' });
      await page.evaluate(() => document.querySelectorAll('[data-view="audit"] [data-result]').forEach((r) => r.remove()));
      await click(v, 'verify');
      const bad2 = await verifyResult(page);
      assert.equal(bad2.val, 'fail', `without the key, the consistency proof refuses the forged root: ${bad2.text}`);
    },
  },
];
