// incidents.mjs - the incident board, each scenario as the person whose job it is: security
// opens an incident from a honeytoken alert, contains it with one click (confirmed) and
// computes the scope (the per-department chart drawn); legal previews the notices in both
// languages and downloads a PDF; the board shows a late task and a regulator clock running
// late in red; the auditor reads without a control; sales, admin and HR never see the board.
// Screenshots in build/test-output/console/ (incident-*), axe-core on every page.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pollUntil } from '../lib/vault.mjs';
import { signIn, go, click, waitView, navNames, row, act, setLang, assertTranslated, assertEnglishChrome, axe, shot } from '../lib/console.mjs';

// The reader's address: a documentation address (RFC 5737) that no packet goes to, seen by the
// server as X-Forwarded-For from 127.0.0.1 (a trusted proxy in the test vault). Not the one
// the alerts scenario blocks, and sales2 is an account no later scenario signs in as (the
// guard locks it for the honeytoken read; the training scenarios, which take sales2 through
// the course, run before these).
const READER_ADDR = '198.51.100.23';
const READER = 'sales2';

// The controls that change something; an auditor is offered none of them.
const MUTATING = /^(open|confirm-.*|start|done|lock-account|revoke-sessions|revoke-api-key|block-address|seal-vault|compute-scope|approve|send-notices|retry|filed|phase|owner|note|evidence|close|drill)$/;

async function settle(page) {
  await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
  await pollUntil(async () => (await page.locator('[aria-busy="true"]').count()) === 0, { timeout: 10000, what: 'the view to finish loading' });
}

// axe on the page: serious and critical findings fail the scenario at once.
async function checked(t, page, where, name) {
  await settle(page);
  await assertTranslated(page, where);
  if ((await page.evaluate(() => document.documentElement.lang)) === 'en') await assertEnglishChrome(page, where);
  await shot(page, t.out, name);
  (t.state.axeChecked ||= []).push(where);
  await axe(page, where, t.axe);
}

async function incidentPage(page, id) {
  await page.evaluate((h) => { location.hash = h; }, '#/incidents/' + encodeURIComponent(id));
  const v = await waitView(page, 'incidents');
  await v.locator('[data-section="tasks"] [data-team]').first().waitFor({ state: 'visible', timeout: 15000 });
  return v;
}

// An incident made through the API (each scenario makes what it needs when run alone).
async function openByApi(t, body) {
  const sec = await t.demo.as('security1');
  const r = await sec.post('/v1/incidents', body);
  assert.equal(r.status, 201, `POST /v1/incidents: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

async function honeytokenAlert(t) {
  const sec = await t.demo.as('security1');
  const hts = (await sec.get('/v1/honeytokens')).json.honeytokens || [];
  const ht = hts.find((h) => h.department === 'shanghai');
  assert.ok(ht, 'the demo vault plants shanghai honeytokens');
  // A real customer first (the scope counts people without the decoys), then the decoy: the
  // guard alerts, locks the reader and ends its sessions.
  const reader = await t.demo.as(READER, { headers: { 'X-Forwarded-For': READER_ADDR } });
  const mine = ((await reader.get('/v1/customers?limit=5')).json?.customers || []).find((c) => String(c.id) !== String(ht.id));
  assert.ok(mine, `${READER} reads customers of its department`);
  assert.equal((await reader.get(`/v1/customers/${mine.id}`)).status, 200);
  await reader.get(`/v1/customers/${ht.id}`);
  const alert = await pollUntil(async () => {
    const r = await sec.get('/v1/alerts?rule=honeytoken&limit=200');
    return (r.json?.alerts || []).find((a) => a.address === READER_ADDR || a.account === READER);
  }, { what: 'the honeytoken alert in the API' });
  return { alert, ht, sec, read: mine };
}

// The company's settings for the documents (VAULT/notices.json), as the operator writes them
// once; kept when the demo vault already has its own.
function companySettings(t) {
  const p = path.join(t.demo.dir, 'notices.json');
  if (fs.existsSync(p)) return;
  fs.writeFileSync(p, JSON.stringify({
    company: { 'zh-CN': '示例催收服务有限公司', en: 'Example Collections Co., Ltd.' },
    system: { 'zh-CN': '客户数据保护系统', en: 'the customer data protection system' },
    contact_phone: '400-000-0000',
    contact_email: 'privacy@example.com',
  }, null, 2) + '\n', { mode: 0o600 });
}

const TEXTS = {
  'zh-CN': {
    event_type: '员工越权读取客户数据', measures: '已封禁来源地址，锁定相关账户并撤销其全部会话。', impact: '部分客户的姓名和偏好信息被查看，未发现数据被修改或外传。',
    cause: '一名员工在工作职责之外读取了客户记录。', harm: '可能出现冒充本公司的电话或短信。', customer_steps: '如接到自称本公司的可疑来电，请挂断后拨打官方电话核实。',
  },
  en: {
    event_type: 'customer data read by an employee outside their job', measures: 'We blocked the source address, locked the account concerned and ended all of its sessions.',
    impact: 'Some customers\' names and preferences were viewed; nothing was changed or sent out.', cause: 'An employee read customer records outside their duties.',
    harm: 'You may receive calls or messages from people pretending to be us.', customer_steps: 'If a suspicious caller claims to be us, hang up and call our official number to check.',
  },
};

// Run alone: an incident from a honeytoken alert with its scope computed, through the API.
async function incidentWithScope(t) {
  const { alert, sec } = await honeytokenAlert(t);
  const inc = await openByApi(t, { playbook: 'customer-data-misread', alert: alert.id });
  const r = await sec.post(`/v1/incidents/${encodeURIComponent(inc.id)}/scope`, {});
  assert.equal(r.status, 200, `scope: ${r.status} ${JSON.stringify(r.json)}`);
  return (t.state.incident = inc.id);
}

export const scenarios = [
  {
    name: 'incidents: security1 opens an incident from an alert, blocks the address with one click and computes the scope (chart drawn)',
    timeout: 180000,
    async run(t) {
      const { alert, ht, sec, read } = await honeytokenAlert(t);
      const page = await t.page();
      await signIn(page, t.demo.url, 'security1');
      assert.ok((await navNames(page)).includes('incidents'), 'security has the incident board');
      const alerts = await go(page, 'alerts');
      const line = alerts.locator(row(alert.id)).first();
      await line.waitFor({ state: 'visible', timeout: 20000 });
      await click(line, 'open-incident');
      let v = await waitView(page, 'incidents');
      const form = v.locator('[data-form="open-incident"]');
      await form.waitFor({ state: 'visible' });
      assert.equal(await form.locator('[name="alert"]').inputValue(), String(alert.id), 'the alert is carried into the form');
      await form.locator('[name="playbook"]').selectOption('customer-data-misread');
      await form.locator('[name="eu_people"]').check();
      await checked(t, page, 'incident board: open from alert (security1)', 'incident-open-security1-zh-CN');
      await click(v, 'open');
      await click(v, 'confirm-open');
      await pollUntil(() => /#\/incidents\/[^/]+$/.test(page.url()) && !page.url().includes('/new/'), { what: 'the new incident page' });
      const id = decodeURIComponent(page.url().split('#/incidents/')[1]);
      t.state.incident = id;
      v = await incidentPage(page, id);
      const inc = (await sec.get(`/v1/incidents/${encodeURIComponent(id)}`)).json;
      assert.equal(String(inc.source_alert), String(alert.id), 'the incident names its alert');
      assert.ok((inc.deadlines || []).some((d) => d.report === 'gdpr-33' && d.applies), 'people in the EU: the GDPR clock runs');
      await v.locator('[data-section="clocks"] [data-report="gdpr-33"][data-clock="running"]').waitFor({ state: 'visible' });

      // One click (and its confirmation): block the address the alert names.
      const contain = v.locator('[data-section="tasks"] ' + row('contain')).first();
      await click(contain, 'block-address');
      const target = contain.locator('[data-form="block-address"] [name="target"]');
      assert.equal(await target.inputValue(), READER_ADDR, 'the target comes from the alert');
      await click(contain, 'confirm-block-address');
      await pollUntil(async () => JSON.stringify((await sec.get('/v1/guard/sanctions')).json || {}).includes(READER_ADDR),
        { what: `a block of ${READER_ADDR} in force` });
      await pollUntil(async () => {
        const j = (await sec.get(`/v1/incidents/${encodeURIComponent(id)}`)).json;
        return (j.timeline || []).some((e) => e.kind === 'action' && String(e.what || '').includes(READER_ADDR));
      }, { what: 'the action on the incident timeline' });
      await v.locator('[data-section="timeline"] [data-event="action"]').first().waitFor({ state: 'visible', timeout: 15000 });

      // The scope from the audit log, computed in the page: the chart by department is drawn.
      const scope = v.locator('[data-section="scope"]');
      assert.equal(await scope.locator('[name="actors"]').inputValue(), READER, 'the actor comes from the alert');
      await click(scope, 'compute-scope');
      const chart = scope.locator('[data-chart="departments"] svg[role="img"]');
      await chart.waitFor({ state: 'visible', timeout: 30000 });
      assert.ok(await chart.locator('rect').count() > 0, 'the chart has bars');
      const s = (await sec.get(`/v1/incidents/${encodeURIComponent(id)}/scope`)).json;
      assert.ok(Object.keys(s.by_department || {}).includes('shanghai'), `the scope names shanghai: ${JSON.stringify(s.by_department)}`);
      assert.ok(JSON.stringify(s.honeytokens || []).includes(String(ht.id)), 'the honeytoken read is in the scope');
      assert.ok((s.customers || []).some((c) => String(c.id) === String(read.id)), 'the customer read is in the scope');
      assert.equal(await scope.locator('[data-tile="people"] .tile-value').innerText(), String(s.people ?? (s.customers || []).length));
      await checked(t, page, 'incident page (security1, zh-CN)', 'incident-security1-zh-CN');
      // The Chinese toasts of the actions go before the page turns English.
      await pollUntil(async () => (await page.locator('.toast').count()) === 0, { timeout: 15000, what: 'the toasts to go' });
      await setLang(page, 'en');
      await incidentPage(page, id);
      await page.locator('[data-chart="departments"] svg').first().waitFor({ state: 'visible', timeout: 15000 });
      await checked(t, page, 'incident page (security1, en)', 'incident-security1-en');
      await page.setViewportSize({ width: 768, height: 1000 });
      await checked(t, page, 'incident page (security1, en, tablet)', 'incident-security1-en-tablet');
    },
  },
  {
    name: 'incidents: legal1 previews the notices in both languages and downloads a PDF',
    timeout: 180000,
    async run(t) {
      const id = t.state.incident || await incidentWithScope(t);
      companySettings(t);
      const page = await t.page();
      await signIn(page, t.demo.url, 'legal1');
      const v = await incidentPage(page, id);
      const docs = v.locator('[data-section="documents"]');
      const notice = docs.locator(row('customer-notice')).first();
      await notice.waitFor({ state: 'visible', timeout: 20000 });
      // Legal writes the team's words in each language (the other facts come from the incident).
      for (const [lang, texts] of Object.entries(TEXTS)) {
        const texts_ = docs.locator('[data-section="texts"]');
        if (!(await texts_.getAttribute('open') !== null)) await texts_.locator('summary').click();
        await texts_.locator('[name="lang"]').selectOption(lang);
        for (const [k, val] of Object.entries(texts)) await texts_.locator(`[name="${k}"]`).fill(val);
        await click(texts_, 'save-texts');
        await pollUntil(async () => (await texts_.locator('[name="measures"]').inputValue()) === '', { what: `the ${lang} texts saved` });
      }
      await click(notice, 'preview');
      const pair = docs.locator('[data-preview="customer-notice"]');
      await pair.waitFor({ state: 'visible', timeout: 20000 });
      const zh = await pair.locator('pre[lang="zh-CN"]').innerText();
      const en = await pair.locator('pre[lang="en"]').innerText();
      fs.writeFileSync(path.join(t.out, 'incident-notice-legal1-zh-CN.txt'), zh);
      fs.writeFileSync(path.join(t.out, 'incident-notice-legal1-en.txt'), en);
      assert.match(zh, /[\u4e00-\u9fff]{8}/, 'the Chinese notice is Chinese');
      assert.ok(!/\uFFFD|Ã|â€/.test(zh), 'no mojibake in the Chinese notice');
      assert.match(en, /[A-Za-z]{4,}(\s+[A-Za-z]{2,}){5}/, 'the English notice is English');
      // (an unapproved draft carries a bilingual "草稿 DRAFT" line; the letter itself is English)
      assert.ok(!/[\u4e00-\u9fff]{2}/.test(en.split('\n').filter((l) => !/DRAFT/.test(l)).join('\n')), 'no Chinese in the English letter');
      assert.ok(en.includes(TEXTS.en.measures) && zh.includes(TEXTS['zh-CN'].measures), 'the letters carry what legal wrote in each language');
      await checked(t, page, 'incident documents preview (legal1, zh-CN)', 'incident-notices-legal1-zh-CN');
      // The PDF, downloaded as the person would: a real PDF with its pages.
      const [dl] = await Promise.all([
        page.waitForEvent('download', { timeout: 30000 }),
        notice.locator('[data-action="download"][data-lang="zh-CN"][data-format="pdf"]').click(),
      ]);
      const file = await dl.path();
      const bytes = fs.readFileSync(file);
      assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-', `a PDF (${bytes.length} bytes)`);
      assert.ok(bytes.length > 1000, 'the PDF has content');
      fs.copyFileSync(file, `${t.out}/incident-notice-legal1.pdf`);
      t.log(`notice PDF ${bytes.length} bytes (${dl.suggestedFilename()})`);
      // Legal approves it (confirmed); the board shows who approved.
      const approve = notice.locator(act('approve'));
      if (await approve.count()) {
        await approve.click();
        await click(notice, 'confirm-approve');
        await docs.locator(row('customer-notice') + ' [data-approved="1"]').first().waitFor({ state: 'visible', timeout: 15000 });
      }
      await pollUntil(async () => (await page.locator('.toast').count()) === 0, { timeout: 15000, what: 'the toasts to go' });
      await setLang(page, 'en');
      const v2 = await incidentPage(page, id);
      await click(v2.locator('[data-section="documents"] ' + row('customer-notice')).first(), 'preview');
      await v2.locator('[data-preview="customer-notice"]').waitFor({ state: 'visible', timeout: 20000 });
      await checked(t, page, 'incident documents preview (legal1, en)', 'incident-notices-legal1-en');
    },
  },
  {
    name: 'incidents: legal1 downloads the incident report and the evidence index as PDF; service1 gets the report only',
    timeout: 180000,
    async run(t) {
      const id = t.state.incident || await incidentWithScope(t);
      const page = await t.page();
      await signIn(page, t.demo.url, 'legal1');
      const v = await incidentPage(page, id);
      const rep = v.locator('[data-section="reports"]');
      await rep.waitFor({ state: 'visible', timeout: 20000 });
      for (const w of ['report', 'evidence-index']) {
        const [dl] = await Promise.all([
          page.waitForEvent('download', { timeout: 30000 }),
          rep.locator(`[data-action="download-${w}"][data-lang="zh-CN"][data-format="pdf"]`).click(),
        ]);
        const bytes = fs.readFileSync(await dl.path());
        assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-', `the ${w} is a PDF (${bytes.length} bytes)`);
        fs.writeFileSync(`${t.out}/incident-${w}-legal1.pdf`, bytes);
        t.log(`${w} PDF ${bytes.length} bytes (${dl.suggestedFilename()})`);
      }
      await checked(t, page, 'incident reports (legal1, zh-CN)', 'incident-reports-legal1-zh-CN');
      const p2 = await t.page();
      await signIn(p2, t.demo.url, 'service1');
      const v2 = await incidentPage(p2, id);
      const rep2 = v2.locator('[data-section="reports"]');
      await rep2.waitFor({ state: 'visible', timeout: 20000 });
      assert.equal(await rep2.locator('[data-action="download-report"]').count(), 6, 'the report in two languages and three formats');
      assert.equal(await rep2.locator('[data-action="download-evidence-index"]').count(), 0, 'no evidence index for customer service');
    },
  },
  {
    name: 'incidents: the board shows a late task and a regulator clock running late in red',
    timeout: 120000,
    async run(t) {
      const aware = new Date(Date.now() - 5 * 3600e3).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const inc = await openByApi(t, { playbook: 'credentials-stolen', aware_at: aware, note: 'late board' });
      const page = await t.page();
      await signIn(page, t.demo.url, 'security1');
      const v = await go(page, 'incidents');
      const line = v.locator(row(inc.id)).first();
      await line.waitFor({ state: 'visible', timeout: 15000 });
      const late = await line.locator('[data-late]').first().getAttribute('data-late');
      assert.ok(Number(late) > 0, `the board counts late tasks (${late})`);
      assert.match(await line.getAttribute('class') || '', /\blate\b/, 'the row is marked late');
      await checked(t, page, 'incident board (security1, zh-CN)', 'incidents-security1-zh-CN');
      const d = await incidentPage(page, inc.id);
      const task = d.locator('[data-section="tasks"] ' + row('contain')).first();
      await task.locator('.late-badge').waitFor({ state: 'visible' });
      // Who is late, named above the tasks: the technical team, waiting on security.
      const who = await d.locator('[data-state="late-summary"]').innerText();
      assert.ok(who.includes('技术团队') && who.includes('安全'), `the late teams named: ${who}`);
      const clock = d.locator('[data-section="clocks"] [data-report="cac-initial"]');
      await clock.waitFor({ state: 'visible' });
      assert.equal(await clock.getAttribute('data-clock'), 'late', 'four hours after awareness the CAC clock is late');
      const color = await clock.locator('.clock-left').evaluate((n) => getComputedStyle(n).color);
      assert.equal(color, 'rgb(164, 38, 44)', 'late is shown in red');
      await checked(t, page, 'incident page with late tasks (security1)', 'incident-late-security1-zh-CN');
    },
  },
  {
    name: 'incidents: security1 starts a drill from the board; it shows in the drill history with its timings and after-action report',
    timeout: 180000,
    async run(t) {
      const sec = await t.demo.as('security1');
      const before = new Set(((await sec.get('/v1/drills')).json?.drills || []).map((d) => d.id));
      const page = await t.page();
      await signIn(page, t.demo.url, 'security1');
      const v = await go(page, 'incidents');
      const drills = v.locator('[data-section="drills"]');
      await drills.waitFor({ state: 'visible', timeout: 15000 });
      await click(drills, 'drill');
      await drills.locator('[name="playbook"]').selectOption('customer-data-misread');
      await checked(t, page, 'drill confirmation (security1)', 'incident-drill-confirm-security1-zh-CN');
      const startedAt = Date.now();
      await click(drills, 'confirm-drill');
      const drill = await pollUntil(async () => {
        const list = (await sec.get('/v1/drills')).json?.drills || [];
        const d = list.find((x) => !before.has(x.id));
        return d && d.state !== 'running' ? d : false;
      }, { timeout: 120000, every: 500, what: 'the drill to finish its injection' });
      assert.equal(drill.state, 'contained', `the guard contained the drill: ${JSON.stringify(drill).slice(0, 300)}`);
      t.timings.drill_contained_s = +((Date.now() - startedAt) / 1000).toFixed(1);
      // The line follows by itself (no reload): detection and containment timed.
      const line = drills.locator(row(drill.id)).first();
      await line.waitFor({ state: 'visible', timeout: 20000 });
      await pollUntil(async () => (await line.locator('[data-drill-state="contained"]').count()) > 0, { timeout: 20000, what: 'the drill shown contained' });
      const detect = await line.locator('td').nth(1).innerText();
      assert.match(detect, /\d/, `time to detect shown (${detect})`);
      assert.equal(typeof drill.timings.detect_s, 'number');
      t.log(`drill ${drill.id}: contained ${t.timings.drill_contained_s} s after the click; detect ${drill.timings.detect_s} s, contain ${drill.timings.contain_s} s`);
      await drills.locator('[data-chart="drills"] svg').waitFor({ state: 'visible' });
      const [dl] = await Promise.all([
        page.waitForEvent('download', { timeout: 30000 }),
        line.locator('[data-action="drill-report"][data-lang="en"][data-format="text"]').click(),
      ]);
      const text = fs.readFileSync(await dl.path(), 'utf8');
      assert.ok(text.length > 200 && /detect/i.test(text), 'the after-action report names the timings');
      fs.writeFileSync(path.join(t.out, 'drill-report-security1-en.txt'), text);
      // The drill's incident is marked as a drill and kept out of the real list.
      assert.equal(await v.locator('[data-section="incidents"] ' + row(drill.incident)).count(), 0, 'no drill among the real incidents');
      await checked(t, page, 'drill history (security1)', 'incident-drills-security1-zh-CN');
    },
  },
  {
    name: 'incidents: service1 and steward1 are offered their own tasks only (no containment, evidence, phases or clocks)',
    timeout: 120000,
    async run(t) {
      const id = t.state.incident || (await openByApi(t, { playbook: 'customer-data-misread', note: 'teams' })).id;
      for (const [user, task, scope] of [['service1', 'notices', false], ['steward1', 'department-exposure', true]]) {
        const page = await t.page();
        await signIn(page, t.demo.url, user);
        const d = await incidentPage(page, id);
        await settle(page);
        const mine = d.locator('[data-section="tasks"] ' + row(task)).first();
        await mine.waitFor({ state: 'visible' });
        assert.ok(await mine.locator(`${act('start')}, ${act('done')}`).count() > 0, `${user} may work the ${task} task`);
        const others = d.locator('[data-section="tasks"] ' + row('contain')).first();
        assert.equal(await others.locator('button').count(), 0, `${user} has no control on security's task`);
        for (const sel of ['[data-contain]', '[data-form="phase"]', '[data-form="owner"]', '[data-form="evidence"]', act('close'), '[data-section="clocks"]', act('compute-scope'), act('approve'), '[data-section="texts"]']) {
          assert.equal(await d.locator(sel).count(), 0, `${user} is not offered ${sel}`);
        }
        assert.equal(await d.locator('[data-section="scope"]').count(), scope ? 1 : 0, `${user} ${scope ? 'reads' : 'does not see'} the scope`);
        await checked(t, page, `incident page (${user})`, `incident-${user}-zh-CN`);
      }
    },
  },
  {
    name: 'incidents: auditor1 reads the board, the incident and the drills without a single control',
    timeout: 120000,
    async run(t) {
      const id = t.state.incident || (await openByApi(t, { playbook: 'customer-data-misread', note: 'auditor read' })).id;
      const page = await t.page();
      await signIn(page, t.demo.url, 'auditor1');
      const v = await go(page, 'incidents');
      await v.locator('[data-section="drills"]').waitFor({ state: 'visible', timeout: 15000 });
      assert.equal(await v.locator('[data-section="open-incident"]').count(), 0, 'no opening form');
      assert.equal(await v.locator(act('drill')).count(), 0, 'no drill button');
      const d = await incidentPage(page, id);
      await settle(page);
      const verbs = await d.locator('[data-action]').evaluateAll((ns) => ns.map((n) => n.getAttribute('data-action')));
      const bad = verbs.filter((a) => MUTATING.test(a));
      assert.deepEqual(bad, [], `the auditor is offered no control (${verbs.join(', ')})`);
      await checked(t, page, 'incident page (auditor1)', 'incident-auditor1-zh-CN');
    },
  },
  {
    name: 'incidents: sales1, admin and hr1 never see the board',
    async run(t) {
      for (const user of ['sales1', 'admin', 'hr1']) {
        const page = await t.page();
        await signIn(page, t.demo.url, user);
        assert.ok(!(await navNames(page)).includes('incidents'), `${user} has no incident board in the navigation`);
        await page.evaluate(() => { location.hash = '#/incidents'; });
        const v = await waitView(page, 'incidents');
        await v.locator('[data-state="not-available"]').waitFor({ state: 'visible', timeout: 10000 });
        await page.evaluate(() => { location.hash = '#/incidents/new/1'; });
        await page.locator('[data-state="not-available"]').first().waitFor({ state: 'visible', timeout: 10000 });
        assert.equal(await page.locator('[data-section="open-incident"], [data-section="drills"]').count(), 0);
      }
      const asked = t.requests.filter((r) => r.scenario === t.name && /\/v1\/(incidents|drills)/.test(r.url));
      assert.deepEqual(asked.map((r) => r.url), [], 'their pages never asked for an incident');
    },
  },
];
