// training.mjs - the training views: an employee takes the course, the quiz and both
// questionnaires; HR reads the department figures with their charts and downloads the CSV; an
// employee cannot see another's results (the page never asks, and the server refuses).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pollUntil } from '../lib/vault.mjs';
import {
  signIn, go, waitView, click, fill, row, field, shot, axe, setLang, assertTranslated, assertEnglishChrome, navNames, view,
} from '../lib/console.mjs';

const COURSE = 'security-basics';

// The course as shipped: the right answers of each question, by the choice's text in a language.
function pool(root) {
  const c = JSON.parse(fs.readFileSync(path.join(root, 'training', COURSE, 'course.json'), 'utf8'));
  return new Map(c.quiz.map((q) => [q.id, q]));
}

// The shown indexes that are right in a paper the server drew (choices come shuffled).
function rightIndexes(root, paperQ, lang) {
  const q = pool(root).get(paperQ.id);
  assert.ok(q, `question ${paperQ.id} is in the course`);
  const right = new Set(q.answer.map((i) => q.choices[i][lang]));
  return paperQ.choices.map((text, i) => (right.has(text) ? i : -1)).filter((i) => i >= 0);
}

// One passed quiz through the API for `user` (the report scenario's data when run alone).
async function passByApi(t, user) {
  const api = await t.demo.as(user);
  const p = await api.post(`/v1/training/courses/${COURSE}/attempts`, { lang: 'en' });
  assert.equal(p.status, 201, `${user} starts a quiz: ${p.status} ${p.text}`);
  const answers = Object.fromEntries(p.json.questions.map((q) => [q.id, rightIndexes(t.root, q, 'en')]));
  const r = await api.post(`/v1/training/attempts/${p.json.attempt}/submit`, { answers });
  assert.equal(r.status, 200, `${user} submits: ${r.status} ${r.text}`);
  assert.equal(r.json.passed, true);
  return p.json.attempt;
}

// HR reads the departments training.json's hr_scope gives it (its own, "hr", else): hr1 is
// given the two sales departments, as an operator would (read on every request: no restart).
function hrScope(t) {
  const f = path.join(t.demo.dir, 'training.json');
  const cfg = fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : {};
  cfg.hr_scope = { ...(cfg.hr_scope || {}), hr1: ['beijing', 'shanghai'] };
  fs.writeFileSync(f, JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
}

async function settled(scope) {
  await pollUntil(async () => (await scope.page().locator('[aria-busy="true"]').count()) === 0,
    { timeout: 15000, what: 'the view to finish loading' });
}

export const scenarios = [
  {
    name: 'training: sales2 takes the course, the quiz and both questionnaires in the console',
    timeout: 180000,
    async run(t) {
      const page = await t.page();
      await signIn(page, t.demo.url, 'sales2');
      let v = await go(page, 'training');
      const item = v.locator(row(COURSE)).first();
      await item.waitFor({ state: 'visible', timeout: 15000 });
      const before = await item.getAttribute('data-state');
      assert.ok(['pending', 'overdue', 'future'].includes(before), `the demo course is to do for sales2 (state ${before})`);
      assert.ok((await item.locator('[data-field="due"]').innerText()).trim(), 'the due date is shown');
      assert.ok((await item.locator('[data-field="grace"]').innerText()).trim(), 'the grace period is shown');
      await shot(page, t.out, 'training-sales2-zh-CN');
      await axe(page, 'my training (sales2)', t.axe);

      // Before the course: Likert and free text, saved and read back by the server.
      await click(item, 'questionnaire-pre');
      v = await waitView(page, 'training');
      const form = v.locator('[data-form="questionnaire"][data-phase="pre"]');
      await form.waitFor({ state: 'visible', timeout: 15000 });
      for (const [id, n] of [['recognise-phishing', 2], ['my-job', 3], ['know-rights', 2], ['know-report', 1]]) {
        await form.locator(`input[name="${id}"][value="${n}"]`).check();
      }
      const wish = '怎样识别冒充收藏家的邮件？ How to spot a fake collector <b>?';
      await fill(form, { expect: wish });
      await axe(page, 'pre-course questionnaire (sales2)', t.axe);
      await click(form, 'save-questionnaire');
      await form.locator('[data-state="saved"]').waitFor({ state: 'visible', timeout: 10000 });
      const api = await t.demo.as('sales2');
      const pre = await api.get(`/v1/training/courses/${COURSE}/questionnaires/pre`);
      assert.deepEqual(pre.json.answers, { 'recognise-phishing': 2, 'my-job': 3, 'know-rights': 2, 'know-report': 1, expect: wish },
        'the server holds the answers as given');

      // The course: every lesson in order, each opening with its comic page.
      await page.goto(`${t.demo.url}/#/training`);
      v = await waitView(page, 'training');
      await click(v.locator(row(COURSE)), 'open-course');
      const courses = (await api.get('/v1/training/courses?lang=zh-CN')).json.courses;
      const lessons = courses.find((c) => c.id === COURSE).lessons;
      for (const [i, l] of lessons.entries()) {
        const art = page.locator(`article.lesson[data-lesson="${l.id}"]`);
        await art.waitFor({ state: 'visible', timeout: 15000 });
        const comic = art.locator('img.comic').first();
        await comic.waitFor({ state: 'visible', timeout: 10000 });
        await pollUntil(() => comic.evaluate((img) => img.complete && img.naturalWidth > 0), { what: `the comic of ${l.id} drawn` });
        assert.match(await comic.getAttribute('src'), new RegExp(`^/v1/training/files/${COURSE}/`));
        assert.equal(await art.locator('script, iframe, [onclick], [onerror], [style]').count(), 0, 'nothing active in a lesson');
        if (l.id === 'phishing') {
          await shot(page, t.out, 'training-lesson-sales2-zh-CN');
          await axe(page, 'a lesson (sales2)', t.axe);
        }
        if (i < lessons.length - 1) await click(page.locator(view('training')), 'next');
      }
      // After the last lesson: on to the quiz.
      await click(page.locator(view('training')), 'open-quiz');
      // Three questions of the pool's twenty carry an example mail; a paper of ten holds one
      // eleven times in twelve. A paper without one is left unsubmitted and a new one drawn (at
      // most four: five papers a day per person).
      let quiz;
      let qs;
      let mails = [];
      for (let paper = 0; paper < 4 && !mails.length; paper++) {
        if (paper) await page.reload();
        v = await waitView(page, 'training');
        await click(v, 'start-quiz');
        quiz = v.locator('[data-form="quiz"]');
        await quiz.waitFor({ state: 'visible', timeout: 15000 });
        qs = await quiz.locator('fieldset.question').evaluateAll((fs) => fs.map((f) => ({
          id: f.dataset.id, kind: f.dataset.kind, choices: [...f.querySelectorAll('label.choice')].map((l) => l.textContent.trim()),
        })));
        assert.equal(qs.length, 10, 'a paper of ten questions');
        mails = qs.filter((q) => q.kind === 'mail');
      }
      assert.ok(mails.length >= 1, 'a paper with an "is this mail phishing?" question');
      const attempt = await quiz.getAttribute('data-attempt');
      const mail = quiz.locator(`fieldset[data-id="${mails[0].id}"] figure.mail`);
      assert.ok((await mail.locator('[data-field="from"]').innerText()).includes('@'), 'the example mail shows its sender');
      assert.ok((await mail.locator('[data-field="subject"]').innerText()).trim(), 'and its subject');
      assert.equal(await quiz.locator('.explanation').count(), 0, 'no explanation before answering');
      await shot(page, t.out, 'training-quiz-sales2-zh-CN');
      await axe(page, 'the quiz (sales2)', t.axe);
      // Answer as the course says is right (the choices are shuffled: matched by their text).
      for (const q of qs) {
        const right = rightIndexes(t.root, { id: q.id, choices: q.choices }, 'zh-CN');
        assert.ok(right.length, `a right answer of ${q.id} is shown`);
        for (const i of right) await quiz.locator(`fieldset[data-id="${q.id}"] input[data-choice="${i}"]`).check();
      }
      await click(quiz, 'submit-quiz');
      const result = v.locator('[data-result]').first();
      await result.waitFor({ state: 'visible', timeout: 15000 });
      assert.equal(await result.getAttribute('data-result'), 'passed', await result.innerText());
      assert.equal(await result.getAttribute('data-score'), '100');
      assert.equal(await quiz.locator('.explanation').count(), 10, 'each question explained after answering');
      assert.equal(await quiz.locator('fieldset[data-marked="right"]').count(), 10);
      await shot(page, t.out, 'training-quiz-result-sales2-zh-CN');
      await axe(page, 'the quiz marked (sales2)', t.axe);
      const mine = (await api.get('/v1/training/results')).json.attempts.find((a) => a.attempt === attempt);
      assert.ok(mine && mine.passed && mine.score === 100, 'the server recorded the pass');

      // After the course.
      await click(v, 'questionnaire-post');
      const post = page.locator('[data-form="questionnaire"][data-phase="post"]');
      await post.waitFor({ state: 'visible', timeout: 15000 });
      for (const [id, n] of [['recognise-phishing', 4], ['my-job', 5], ['know-rights', 4], ['know-report', 4]]) {
        await post.locator(`input[name="${id}"][value="${n}"]`).check();
      }
      await click(post, 'save-questionnaire');
      await post.locator('[data-state="saved"]').waitFor({ state: 'visible', timeout: 10000 });

      // My training now: certified, the result listed.
      await page.goto(`${t.demo.url}/#/training`);
      v = await waitView(page, 'training');
      await pollUntil(async () => (await v.locator(row(COURSE)).first().getAttribute('data-state').catch(() => null)) === 'certified',
        { what: 'the course certified on my training' });
      await v.locator(`[data-section="results"] ${row(attempt)}`).waitFor({ state: 'visible', timeout: 10000 });
      assert.equal((await api.get('/v1/training/status')).json.courses.find((c) => c.course === COURSE).state, 'certified');
      await setLang(page, 'en');
      v = await waitView(page, 'training');
      await v.locator(row(COURSE)).first().waitFor({ state: 'visible', timeout: 15000 });
      await settled(v);
      for (const w of (await v.innerText()).split(/\s+/)) assert.ok(w !== 'null' && w !== 'undefined', 'no "null" or "undefined" shown as text');
      await assertTranslated(page, 'my training (sales2, en)');
      await assertEnglishChrome(page, 'my training (sales2, en)');
      await shot(page, t.out, 'training-sales2-en');
      t.state.trainingAttempt = attempt;
    },
  },
  {
    name: 'training: hr1 sees the figures per department with charts and trends, and downloads the CSV',
    timeout: 120000,
    async run(t) {
      if (!t.state.trainingAttempt) t.state.trainingAttempt = await passByApi(t, 'sales2');
      hrScope(t);
      const hr = await t.demo.as('hr1');
      const rep = (await hr.get(`/v1/training/courses/${COURSE}/report`)).json;
      const page = await t.page({ lang: 'zh-CN' });
      await signIn(page, t.demo.url, 'hr1');
      const v = await go(page, 'training-report');
      await v.locator('[data-section="departments"]').waitFor({ state: 'visible', timeout: 15000 });
      await settled(v);
      // Every department of the report, with its numbers as the server counts them.
      for (const d of rep.departments) {
        const cells = await v.locator(`[data-section="departments"] tbody ${row(d.department)} td`).allInnerTexts();
        assert.deepEqual(cells.slice(0, 5).map((c) => c.trim()), [d.department, d.accounts, d.certified, d.attempts, d.passed].map(String),
          `the row of ${d.department}`);
      }
      const sh = rep.departments.find((d) => d.department === 'shanghai');
      assert.ok(sh && sh.certified >= 1 && sh.passed >= 1, 'sales2 (shanghai) counts as certified');
      // Charts drawn by the page: department coverage, scores, the quarterly trend, weakest topics.
      const charts = await v.locator('svg.chart[role="img"]').count();
      assert.ok(charts >= 4, `charts on the report: ${charts}`);
      const bars = await v.locator('[data-section="departments"] svg.chart rect').count();
      assert.ok(bars >= rep.departments.length, 'the department chart has bars');
      assert.ok(await v.locator('[data-section="trend"] svg.chart polyline').count() >= 1, 'a trend line');
      assert.ok(await v.locator('[data-section="weakest"] tbody tr').count() >= 1, 'the weakest questions');
      const scope = await v.locator('[data-field="scope"]').innerText();
      assert.ok(scope.includes('beijing') && scope.includes('shanghai'), `the scope the server gives HR: ${scope}`);
      // Per person: sales2 certified, with the passed quiz.
      const p2 = v.locator(`[data-section="people"] ${row('sales2')}`).first();
      await p2.waitFor({ state: 'visible', timeout: 10000 });
      assert.equal((await p2.locator('td').nth(2).innerText()).trim(), String((await hr.get(
        `/v1/training/metrics?by=person&course=${COURSE}&username=sales2`)).json.groups[0].attempts));
      // The server's own CSV table of the departments, through the page's link.
      const [sdl] = await Promise.all([page.waitForEvent('download', { timeout: 15000 }), v.locator('[data-csv="groups"]').click()]);
      const sfile = path.join(t.out, 'training-groups.csv');
      await sdl.saveAs(sfile);
      const stext = fs.readFileSync(sfile, 'utf8');
      assert.match(stext.split('\r\n')[0], /^key,people,attempts,passed,pass_rate,average_score/);
      assert.ok(stext.split('\r\n').some((l) => l.startsWith('shanghai,')), `shanghai in the server's CSV:\n${stext}`);
      await shot(page, t.out, 'training-report-hr1-zh-CN');
      await axe(page, 'training report (hr1)', t.axe);

      // The CSV, made from the same numbers.
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 15000 }), click(v, 'csv')]);
      const file = path.join(t.out, 'training-report.csv');
      await dl.saveAs(file);
      const text = fs.readFileSync(file, 'utf8').replace(/^\ufeff/, '');
      const lines = text.split('\r\n');
      assert.equal(lines[0], 'section,course,department,accounts,certified,attempts,passed,pass_rate_percent,average_score');
      assert.ok(lines.includes(`department,${COURSE},shanghai,${sh.accounts},${sh.certified},${sh.attempts},${sh.passed},` +
        `${Math.round(sh.pass_rate * 100)},${Math.round(sh.average_score)}`), `the shanghai line in the CSV:\n${text.slice(0, 600)}`);
      assert.ok(lines.some((l) => l.startsWith(`trend,${COURSE},shanghai,`)), 'the trend in the CSV');

      // One person, on request: HR may read anyone's training.
      const look = v.locator('[data-form="person"]');
      await fill(look, { username: 'sales2' });
      await click(look, 'person');
      const st = v.locator(`[data-section="person"] ${row(COURSE)}`).first();
      await st.waitFor({ state: 'visible', timeout: 10000 });
      await v.locator(`[data-section="person"] ${row(t.state.trainingAttempt)}`).waitFor({ state: 'visible', timeout: 10000 });

      // The demo's finished phishing campaign, per department, as the server counts it.
      const camps = (await hr.get('/v1/phish/campaigns')).json.campaigns;
      assert.ok(camps.length >= 1, 'the demo has a finished phishing campaign');
      const sel = await v.locator('[data-section="campaigns"] select[name="campaign"]').inputValue();
      const pm = (await hr.get(`/v1/phish/campaigns/${sel}/metrics`)).json;
      await v.locator(`[data-section="campaigns"] [data-campaign="${sel}"]`).waitFor({ state: 'visible', timeout: 15000 });
      assert.equal((await v.locator('[data-tile="phish-delivered"] .tile-value').innerText()).trim(), String(pm.totals.delivered));
      for (const [d, f] of Object.entries(pm.departments)) {
        const cells = await v.locator(`[data-section="campaigns"] tbody ${row(d)} td`).allInnerTexts();
        assert.deepEqual(cells.slice(0, 6).map((c) => c.trim()), [d, f.delivered, f.opened, f.clicked, f.submitted, f.reported].map(String), `campaign row ${d}`);
      }
      assert.ok(await v.locator('[data-section="campaigns"] svg.chart rect').count() >= 1, 'the campaign chart');
      // The training metrics' phishing figures (every campaign of the scope), per department.
      const mph = (await hr.get(`/v1/training/metrics?by=department&course=${COURSE}`)).json.phishing;
      assert.ok(mph && mph.totals && mph.totals.delivered >= 1, 'the training metrics carry the demo campaign');
      await v.locator('[data-section="phishing"]').waitFor({ state: 'visible', timeout: 15000 });
      assert.equal((await v.locator('[data-tile="ph-delivered"] .tile-value').innerText()).trim(), String(mph.totals.delivered));
      for (const g of mph.groups) {
        const cells = await v.locator(`[data-section="phishing"] tbody ${row('ph-' + g.key)} td`).allInnerTexts();
        assert.deepEqual(cells.slice(0, 5).map((c) => c.trim()), [g.key, g.delivered, g.clicked, g.submitted, g.reported].map(String), `phishing row ${g.key}`);
        assert.equal(cells[8].trim(), String(g.repeat_clickers), `repeat clickers of ${g.key}`);
      }
      assert.ok(await v.locator('[data-section="phishing"] svg.chart rect').count() >= 1, 'the phishing chart');
      await shot(page, t.out, 'training-report-hr1-zh-CN');

      await setLang(page, 'en');
      const ve = await waitView(page, 'training-report');
      await ve.locator('[data-section="departments"]').waitFor({ state: 'visible', timeout: 15000 });
      await settled(ve);
      for (const w of (await ve.innerText()).split(/\s+/)) assert.ok(w !== 'null' && w !== 'undefined', 'no "null" or "undefined" shown as text');
      await assertTranslated(page, 'training report (hr1, en)');
      await assertEnglishChrome(page, 'training report (hr1, en)');
      await shot(page, t.out, 'training-report-hr1-en');
      await axe(page, 'training report (hr1, en)', t.axe);
    },
  },
  {
    name: 'training: service1 reports a suspicious mail with the button and sees their own practice mails',
    timeout: 60000,
    async run(t) {
      const api = await t.demo.as('service1');
      const mine = (await api.get('/v1/phish/mine')).json.mails;
      const page = await t.page();
      await signIn(page, t.demo.url, 'service1');
      const v = await go(page, 'training');
      const sec = v.locator('[data-section="report-phishing"]');
      await sec.waitFor({ state: 'visible', timeout: 15000 });
      if (mine.length) {
        await v.locator('[data-section="my-phishing"]').waitFor({ state: 'visible', timeout: 10000 });
        assert.equal(await v.locator('[data-section="my-phishing"] tbody tr[data-id]').count(), mine.length, 'my practice mails, each once');
      }
      const posted = page.waitForResponse((r) => r.url().endsWith('/v1/phish/report') && r.request().method() === 'POST');
      await click(sec, 'report-phish');
      const res = await posted;
      assert.equal(res.status(), 200);
      const body = await res.json();
      assert.equal(body.reported, true);
      const note = sec.locator('[data-state^="reported"]');
      await note.waitFor({ state: 'visible', timeout: 10000 });
      assert.equal(await note.getAttribute('data-state'), body.simulation ? 'reported-simulation' : 'reported');
      await shot(page, t.out, 'training-report-phish-service1-zh-CN');
      await axe(page, 'report a suspicious mail (service1)', t.axe);
      // Someone else's tracking link reports nothing for them, and is no error to the reporter.
      const other = await api.post('/v1/phish/report', { link: 'https://127.0.0.1/t/c/not-a-token-of-mine' });
      assert.equal(other.status, 200);
      assert.equal(other.json.simulation, false);
    },
  },
  {
    name: 'training: steward1 sees the figures of their own department only',
    timeout: 60000,
    async run(t) {
      // A quiz passed in beijing, so that the steward's trend and weakest topics have data.
      t.state.beijingAttempt ||= await passByApi(t, 'sales1');
      const page = await t.page({ lang: 'en' });
      await signIn(page, t.demo.url, 'steward1');
      await setLang(page, 'en');
      const v = await go(page, 'training-report');
      await v.locator('[data-section="departments"]').waitFor({ state: 'visible', timeout: 15000 });
      await settled(v);
      const depts = await v.locator('[data-section="departments"] tbody tr[data-id]').evaluateAll((rs) => rs.map((r) => r.dataset.id));
      assert.deepEqual(depts, ['beijing'], 'a steward sees their own department');
      const people = await v.locator('[data-section="people"] tbody tr[data-id]').evaluateAll((rs) => rs.map((r) => r.dataset.id));
      assert.ok(people.includes('sales1') && !people.includes('sales2'), `the people of beijing only: ${people}`);
      assert.equal(await v.locator('[data-section="person"]').count(), 0, 'no look-up of any one person for a steward');
      const words = (await v.innerText()).split(/\s+/);
      assert.ok(!words.includes('null') && !words.includes('undefined'), 'no "null" or "undefined" shown as text');
      assert.ok(await v.locator('svg.chart[role="img"]').count() >= 4, 'the charts');
      await assertTranslated(page, 'training report (steward1, en)');
      await assertEnglishChrome(page, 'training report (steward1, en)');
      await shot(page, t.out, 'training-report-steward1-en');
      await axe(page, 'training report (steward1)', t.axe);
      // And the server holds the line: another department is refused.
      const st = await t.demo.as('steward1');
      const r = await st.get(`/v1/training/metrics?by=department&course=${COURSE}&department=shanghai`);
      assert.equal(r.status, 403, `steward1 asking for shanghai: ${r.status}`);
    },
    refusals: true,
  },
  {
    name: 'training: steward3 sees a blocking remedial course HR assigned, and passing it gives access back',
    timeout: 90000,
    async run(t) {
      const hr = await t.demo.as('hr1');
      const r = await hr.post('/v1/training/remedial', { username: 'steward3', course: COURSE, blocking: true, violation: 'permission-probing' });
      assert.equal(r.status, 201, `HR assigns remedial training: ${r.status} ${r.text}`);
      const page = await t.page();
      await signIn(page, t.demo.url, 'steward3');
      let v = await go(page, 'training');
      const item = v.locator(`[data-section="remedial"] ${row('remedial-' + r.json.id)}`);
      await item.waitFor({ state: 'visible', timeout: 15000 });
      assert.equal(await item.getAttribute('data-state'), 'blocking');
      assert.equal(await item.locator('[data-field="rule"]').innerText().then((s) => s.trim()), 'permission-probing', 'the violation it came from');
      await shot(page, t.out, 'training-remedial-steward3-zh-CN');
      await axe(page, 'remedial training (steward3)', t.axe);
      const st3 = await t.demo.as('steward3');
      assert.equal((await st3.get('/v1/customers?limit=1')).status, 403, 'customer access paused while the course is open');
      await passByApi(t, 'steward3');
      assert.equal((await st3.get('/v1/customers?limit=1')).status, 200, 'passing gives customer access back');
      await page.reload();
      v = await waitView(page, 'training');
      await v.locator('[data-section="results"]').waitFor({ state: 'visible', timeout: 15000 });
      assert.equal(await v.locator('[data-section="remedial"]').count(), 0, 'no open remedial course after the pass');
    },
    refusals: true,
  },
  {
    name: 'training: an employee cannot see another\'s results (the page never asks; the server refuses)',
    refusals: true,
    timeout: 120000,
    async run(t) {
      const other = t.state.trainingAttempt || await passByApi(t, 'sales2');
      const page = await t.page();
      const asked = [];
      page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/v1/training/')) asked.push(r.url()); });
      await signIn(page, t.demo.url, 'sales1');
      assert.ok(!(await navNames(page)).includes('training-report'), 'no training report in sales1\'s navigation');
      let v = await go(page, 'training');
      await v.locator('[data-section="results"]').waitFor({ state: 'visible', timeout: 15000 });
      await settled(v);
      assert.equal(await v.locator(row(other)).count(), 0, 'sales2\'s attempt is not on sales1\'s page');
      // Addresses typed by hand: another person's results, HR's report.
      for (const hash of ['#/training/results/sales2', '#/training/sales2', `#/training/quiz/${COURSE}/sales2`]) {
        await page.goto(`${t.demo.url}/${hash}`);
        v = await waitView(page, 'training');
        await settled(v);
        assert.equal(await v.locator(row(other)).count(), 0, `${hash} shows nothing of sales2`);
      }
      await page.goto(`${t.demo.url}/#/training-report`);
      await page.locator('[data-view="training-report"] [data-state="not-available"]').waitFor({ state: 'visible', timeout: 10000 });
      const named = asked.filter((u) => /username=|sales2|\/report/.test(u));
      assert.deepEqual(named, [], 'the page never asked for another account\'s training');
      assert.ok(asked.some((u) => u.endsWith('/v1/training/results')), 'it asked for its own results');

      // The server refuses, to the browser's own session as to an API client. (Refusals in
      // several categories make the guard end sales1's sessions and ask for a new sign-in:
      // each API check signs in afresh.)
      const s1 = await t.demo.as('sales1');
      const own = (await s1.get('/v1/training/results')).json.attempts;
      assert.ok(own.every((a) => a.username === 'sales1'), 'sales1\'s own results are only sales1\'s');
      const sub = await s1.post(`/v1/training/attempts/${other}/submit`, { answers: {} });
      assert.equal(sub.status, 404, `submitting sales2's attempt as sales1: ${sub.status}`);
      const inPage = await page.evaluate(async () => {
        const codes = {};
        for (const p of ['/v1/training/results?username=sales2', '/v1/training/status?username=sales2']) {
          codes[p] = (await fetch(p, { credentials: 'same-origin', cache: 'no-store' })).status;
        }
        return codes;
      });
      for (const [p, code] of Object.entries(inPage)) assert.equal(code, 403, `${p} from sales1's browser: ${code}`);
      for (const p of ['/v1/training/results?username=sales2', '/v1/training/status?username=sales2', '/v1/training/results?username=*',
        `/v1/training/courses/${COURSE}/report`, '/v1/training/metrics?by=person&username=sales2',
        '/v1/training/metrics?by=department&department=shanghai', '/v1/training/remedial?username=sales2', '/v1/phish/campaigns']) {
        let r;
        // A session the guard ended a moment ago answers 401: sign in again and ask again.
        for (let i = 0; i < 3 && (!r || r.status === 401); i++) r = await (await t.demo.as('sales1')).get(p);
        assert.equal(r.status, 403, `${p}: ${r.status}`);
        assert.ok(!r.text.includes(other), 'the refusal names no attempt');
      }
    },
  },
];
