// training.test.mjs - the training views' logic and dictionary, without a browser:
//   node --test tests/console/training.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import dict from '../../console/i18n/training.js';
import core from '../../console/i18n/core.js';
import dicts from '../../console/i18n/index.js';
import training from '../../console/views/training.js';
import report from '../../console/views/training_report.js';
import {
    sortAssignments, deadlineNote, daysUntil, answersBody, questionnaireBody, quarterOf, quarterRange, trends,
    weakest, weakestTopics, movement, csvField, reportCsv, rebuildLesson, courseFile, STATES, badgeClass,
} from '../../console/views/training_lib.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const files = ['console/views/training.js', 'console/views/training_report.js', 'console/views/training_lib.js', 'console/views/training_phish.js'];
const ROLES = ['sales', 'customer_service', 'data_steward', 'security', 'legal', 'hr', 'auditor', 'admin'];

test('the dictionary: both languages, the same keys, none empty, the same placeholders, zh-CN first', () => {
    assert.equal(Object.keys(dict)[0], 'zh-CN');
    assert.deepEqual(Object.keys(dict['zh-CN']).sort(), Object.keys(dict.en).sort());
    for (const l of ['zh-CN', 'en']) for (const [k, v] of Object.entries(dict[l])) assert.ok(typeof v === 'string' && v.trim(), `${l} ${k}`);
    const ph = (s) => (s.match(/\{\w+\}/g) || []).sort().join();
    for (const k of Object.keys(dict.en)) assert.equal(ph(dict['zh-CN'][k]), ph(dict.en[k]), k);
    assert.ok(dicts.includes(dict), 'registered in console/i18n/index.js');
    // no key of another view's dictionary is redefined here
    for (const d of dicts) if (d !== dict) for (const k of Object.keys(dict.en)) assert.ok(!(k in d.en), `${k} also elsewhere`);
});

test('every key the training views use exists in both languages (a missing key fails here)', () => {
    const used = new Set();
    for (const f of files) {
        const src = readFileSync(join(root, f), 'utf8');
        for (const m of src.matchAll(/'((?:training|trainrep|phish)\.[a-z0-9_.]+)'/g)) if (!m[1].endsWith('.')) used.add(m[1]);
    }
    const dynamic = {
        'training.state.': STATES,
        'training.likert.': ['1', '2', '3', '4', '5'],
        'training.q_title.': ['pre', 'post'],
        'training.q_intro.': ['pre', 'post'],
        'trainrep.table.': ['groups', 'weakest', 'questionnaire', 'trends'],
        'phish.outcome.': ['submitted', 'clicked', 'reported', 'opened', 'delivered'],
        'phish.tile.': ['delivered', 'prone', 'report_rate', 'median_report', 'repeat'],
    };
    for (const [p, vs] of Object.entries(dynamic)) for (const v of vs) used.add(p + v);
    assert.ok(used.size > 120, `only ${used.size} keys found`);
    for (const k of used) {
        assert.ok(k in dict['zh-CN'], `zh-CN lacks ${k}`);
        assert.ok(k in dict.en, `en lacks ${k}`);
    }
    // the role names the report shows come from the shell's dictionary
    for (const r of ROLES) for (const l of ['zh-CN', 'en']) assert.ok(`role.${r}` in core[l], `${l} role.${r}`);
});

test('what a role cannot use it never sees: my training for everyone, the report for HR', () => {
    const sees = (v) => ROLES.filter((r) => v.visible({ role: r, username: 'x' }));
    assert.deepEqual(sees(training), ROLES);
    assert.deepEqual(sees(report), ['data_steward', 'hr']);
    assert.equal(training.visible(null), false);
    assert.equal(report.visible(null), false);
    // registered in the navigation (console/views/index.js imports views that need a browser)
    const index = readFileSync(join(root, 'console/views/index.js'), 'utf8');
    assert.match(index, /import training from '\.\/training\.js'/);
    assert.match(index, /import trainingReport from '\.\/training_report\.js'/);
    assert.match(index, /export default \[[^\]]*\btraining, trainingReport\b[^\]]*\]/);
    assert.notEqual(training.name, report.name);
});

test('the employee view never names another account in a request', () => {
    const src = readFileSync(join(root, 'console/views/training.js'), 'utf8');
    const calls = [...src.matchAll(/ctx\.api\(\s*'[A-Z]+',\s*([^,)]+)/g)].map((m) => m[1]);
    assert.ok(calls.length >= 6, 'the API calls are found');
    for (const c of calls) assert.ok(!/username/.test(c), `a request with a username: ${c}`);
    assert.ok(!/username/.test(src), 'training.js does not mention username at all');
    // and nothing turns data into markup
    for (const f of files) {
        const s = readFileSync(join(root, f), 'utf8');
        assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/.test(s), f);
    }
});

test('assignments: the most urgent first, then by due date; a deadline note per state', () => {
    const list = [
        { course: 'a', state: 'certified', due: '2027-01-01T00:00:00Z' },
        { course: 'b', state: 'pending', due: '2027-02-01T00:00:00Z' },
        { course: 'c', state: 'expired', due: '2026-01-01T00:00:00Z' },
        { course: 'd', state: 'pending', due: '2027-01-15T00:00:00Z' },
        { course: 'e', state: 'future', due: '2027-06-01T00:00:00Z' },
        { course: 'f', state: 'overdue', due: '2026-11-01T00:00:00Z' },
    ];
    assert.deepEqual(sortAssignments(list).map((x) => x.course), ['c', 'f', 'd', 'b', 'e', 'a']);
    assert.deepEqual(sortAssignments(undefined), []);
    const now = Date.parse('2026-12-05T00:00:00Z');
    assert.equal(daysUntil('2026-12-06T00:00:00Z', now), 1);
    assert.equal(daysUntil('2026-12-06T00:00:01Z', now), 2);
    assert.equal(daysUntil('2026-12-04T12:00:00Z', now), -1);
    assert.equal(daysUntil('nonsense', now), null);
    assert.deepEqual(deadlineNote({ state: 'pending', due: '2026-12-15T00:00:00Z' }, now), ['training.note.pending', { days: 10 }]);
    assert.deepEqual(deadlineNote({ state: 'overdue', grace_ends: '2026-12-08T00:00:00Z' }, now), ['training.note.overdue', { days: 3 }]);
    assert.deepEqual(deadlineNote({ state: 'future', window_opens: '2027-01-01T00:00:00Z' }, now), ['training.note.future', { days: 27 }]);
    assert.equal(deadlineNote({ state: 'expired' }, now)[0], 'training.note.expired');
    assert.equal(deadlineNote({ state: 'certified' }, now)[0], 'training.note.certified');
    assert.equal(badgeClass('overdue'), 'badge danger');
    assert.equal(badgeClass('certified'), 'badge ok');
});

test('the quiz body: shown indexes sorted, one for a single choice, out-of-range dropped, unanswered named', () => {
    const qs = [
        { id: 'q1', kind: 'single', choices: ['a', 'b', 'c'] },
        { id: 'q2', kind: 'multiple', choices: ['a', 'b', 'c', 'd'] },
        { id: 'q3', kind: 'single', choices: ['a', 'b'] },
        { id: 'q4', kind: 'multiple', choices: ['a', 'b'] },
    ];
    const chosen = new Map([['q1', new Set([2])], ['q2', new Set([3, 0, 9, -1])], ['q4', new Set([5])]]);
    const { body, missing } = answersBody(qs, chosen);
    assert.deepEqual(body, { answers: { q1: [2], q2: [0, 3], q3: [], q4: [] } });
    assert.deepEqual(missing, ['q3', 'q4']);
    assert.deepEqual(answersBody(qs.slice(0, 1), new Map([['q1', new Set([0, 1])]])).body.answers.q1, [0]);
});

test('the questionnaire body: Likert 1..5 as integers, text trimmed, blanks and nonsense left out', () => {
    const items = [{ id: 'a', kind: 'likert' }, { id: 'b', kind: 'likert' }, { id: 'c', kind: 'text' }, { id: 'd', kind: 'text' }, { id: 'e', kind: 'likert' }];
    assert.deepEqual(questionnaireBody(items, { a: '4', b: '9', c: '  学到了 <b>x</b>  ', d: '   ', e: '' }), { answers: { a: 4, c: '学到了 <b>x</b>' } });
});

test('quarters are counted in the vault\'s zone, across year ends', () => {
    assert.equal(quarterOf('2026-12-31T16:30:00Z'), '2027Q1'); // 00:30 on 1 January in Shanghai
    assert.equal(quarterOf('2026-12-31T16:30:00Z', 'UTC'), '2026Q4');
    assert.equal(quarterOf('2026-09-30T15:59:59Z'), '2026Q3');
    assert.equal(quarterOf('2026-09-30T16:00:00Z'), '2026Q4');
    assert.equal(quarterOf('2028-02-29T12:00:00Z'), '2028Q1');
    assert.equal(quarterOf('bad'), null);
    assert.deepEqual(quarterRange('2026Q3', '2027Q2'), ['2026Q3', '2026Q4', '2027Q1', '2027Q2']);
});

test('trends per department and quarter, a quarter without quizzes kept as a gap', () => {
    const a = (department, submitted_at, score, passed, course = 'c') => ({ department, submitted_at, score, passed, course });
    const tr = trends([
        a('beijing', '2026-02-01T00:00:00Z', 90, true),
        a('beijing', '2026-02-02T00:00:00Z', 50, false),
        a('shanghai', '2026-08-01T00:00:00Z', 80, true),
        a('beijing', '2026-08-01T00:00:00Z', 100, true, 'other'),
        { department: 'beijing', submitted_at: null, score: 0, passed: false, course: 'c' },
    ], 'c');
    assert.deepEqual(tr.quarters, ['2026Q1', '2026Q2', '2026Q3']);
    assert.deepEqual(tr.departments, ['beijing', 'shanghai']);
    assert.deepEqual(tr.cell('beijing', '2026Q1'), { attempts: 2, passed: 1, pass_rate: 50, average: 70 });
    assert.deepEqual(tr.cell('', '2026Q3'), { attempts: 1, passed: 1, pass_rate: 100, average: 80 });
    assert.deepEqual(tr.cell('', '2026Q2'), { attempts: 0, passed: 0, pass_rate: null, average: null });
    assert.deepEqual(trends([], 'c').quarters, []);
});

const REPORT = {
    departments: [{ department: 'beijing', accounts: 4, certified: 1, attempts: 3, passed: 1, pass_rate: 1 / 3, average_score: 61.7 }],
    weakest_questions: [
        { question: 'q-a', lesson: 'phishing', answered: 4, wrong: 3 },
        { question: 'q-b', lesson: 'pipl', answered: 4, wrong: 1 },
        { question: 'q-c', lesson: 'phishing', answered: 2, wrong: 0 },
        { question: 'q-d', lesson: 'roles', answered: 0, wrong: 0 },
    ],
    questionnaire: { 'my-job': { pre: { mean: 2.5, n: 2 }, post: { mean: 4.25, n: 2 } }, 'know-report': { pre: { mean: 3, n: 1 } } },
};
const COURSE = { id: 'c', lessons: [{ id: 'phishing', title: 'Phishing' }, { id: 'pipl', title: 'PIPL' }] };

test('the weakest questions and topics, worst first; the questionnaire\'s movement', () => {
    assert.deepEqual(weakest(REPORT, COURSE).map((w) => [w.question, w.rate, w.topic]), [['q-a', 75, 'Phishing'], ['q-b', 25, 'PIPL'], ['q-c', 0, 'Phishing']]);
    assert.deepEqual(weakestTopics(REPORT, COURSE).map((g) => [g.lesson, g.rate]), [['phishing', 50], ['pipl', 25]]);
    assert.deepEqual(movement(REPORT), [
        { item: 'know-report', pre: 3, post: null, n_pre: 1, n_post: 0, delta: null },
        { item: 'my-job', pre: 2.5, post: 4.25, n_pre: 2, n_post: 2, delta: 1.75 },
    ]);
    assert.deepEqual(movement({}), []);
});

test('the CSV: quoted where needed, formulas defused, every block with its header', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"');
    assert.equal(csvField('-1+2'), '"\'-1+2"');
    assert.equal(csvField('@SUM(A1)'), '"\'@SUM(A1)"');
    assert.equal(csvField(null), '');
    assert.equal(csvField(42), '42');
    assert.equal(csvField(-0.5), '-0.5', 'a negative number is a number');
    assert.equal(csvField('-0.5'), '"\'-0.5"', 'the same as text is defused');
    const tr = trends([{ department: 'beijing', submitted_at: '2026-11-01T00:00:00Z', score: 70, passed: false, course: 'c' }], 'c');
    const text = reportCsv('c', REPORT, tr, COURSE);
    const lines = text.trim().split('\r\n');
    assert.equal(lines[0], 'section,course,department,accounts,certified,attempts,passed,pass_rate_percent,average_score');
    assert.equal(lines[1], 'department,c,beijing,4,1,3,1,33,62');
    assert.ok(lines.includes('trend,c,*,2026Q4,1,0,0,70'));
    assert.ok(lines.includes('trend,c,beijing,2026Q4,1,0,0,70'));
    assert.ok(lines.includes('weakest,c,q-a,phishing,4,3,75'));
    assert.ok(lines.includes('questionnaire,c,my-job,2.5,2,4.25,2,1.75'));
    assert.ok(text.endsWith('\r\n'));
});

// A parsed document as plain objects, and a builder that records what the page would make.
function node(tag, attrs = {}, ...kids) {
    return { nodeType: 1, tagName: tag.toUpperCase(), getAttribute: (a) => (a in attrs ? attrs[a] : null), attrs, childNodes: kids.map((k) => (typeof k === 'string' ? { nodeType: 3, nodeValue: k } : k)) };
}
const make = {
    el: (tag, attrs, ...kids) => ({ tag, attrs: Object.fromEntries(Object.entries(attrs || {}).filter(([, v]) => v !== null && v !== undefined)), kids: kids.flat().filter((k) => k) }),
    text: (s) => ({ text: s }),
};
const flat = (nodes) => nodes.flatMap((n) => [n, ...(n.kids ? flat(n.kids) : [])]);

test('a lesson is rebuilt from an allow-list: no script, no handler, no outside picture, files as media', () => {
    const F = '/v1/training/files/security-basics/2026.4/';
    const src = node('body', {},
        node('h1', { onclick: 'alert(1)', style: 'color:red' }, 'Title'),
        node('script', {}, 'alert(1)'),
        node('p', {}, node('img', { src: F + 'img/03-phishing-comic.svg', alt: 'Comic', onerror: 'alert(2)' })),
        node('p', {}, node('img', { src: 'https://evil.example/track.png', alt: 'outside' })),
        node('p', {}, node('img', { src: F + 'video/clip.mp4', alt: 'A short film' })),
        node('p', {}, node('a', { href: F + 'docs/checklist.pdf' }, 'Checklist')),
        node('p', {}, node('a', { href: 'javascript:alert(3)' }, 'bad link')),
        node('p', {}, node('a', { href: 'https://www.cac.gov.cn/' }, 'CAC')),
        node('p', {}, node('img', { src: F + '../../other/x.svg', alt: 'escape' })),
        node('iframe', { src: 'https://evil.example/' }, 'x'),
        node('div', {}, node('em', {}, 'kept text')),
        node('ol', { start: '3' }, node('li', {}, 'three')));
    const out = rebuildLesson(src, make);
    const all = flat(out);
    const tags = all.filter((n) => n.tag).map((n) => n.tag);
    assert.ok(!tags.includes('script') && !tags.includes('iframe') && !tags.includes('div'));
    for (const n of all) for (const a of Object.keys(n.attrs || {})) assert.ok(!/^on|^style$/.test(a), `attribute ${a}`);
    assert.ok(!JSON.stringify(out).includes('alert'), 'no script text or handler survives');
    assert.ok(!JSON.stringify(out).includes('evil.example'), 'nothing from outside is loaded');
    const imgs = all.filter((n) => n.tag === 'img');
    assert.deepEqual(imgs.map((i) => [i.attrs.src, i.attrs.alt, i.attrs.class]), [[F + 'img/03-phishing-comic.svg', 'Comic', 'comic']]);
    assert.ok(all.some((n) => n.text === 'outside'), 'an outside picture leaves its alt text');
    assert.ok(all.some((n) => n.text === 'escape'), 'a path with .. is no course file');
    const video = all.find((n) => n.tag === 'video');
    assert.deepEqual([video.attrs.src, video.attrs.controls, video.attrs.preload], [F + 'video/clip.mp4', true, 'metadata']);
    const links = all.filter((n) => n.tag === 'a');
    assert.deepEqual(links.map((a) => a.attrs), [
        { href: F + 'docs/checklist.pdf', download: '', 'data-attachment': 'checklist.pdf' },
        { href: 'https://www.cac.gov.cn/', rel: 'noopener noreferrer', target: '_blank' },
    ]);
    assert.ok(all.some((n) => n.text === 'bad link'), 'a javascript: link becomes its text');
    assert.ok(all.some((n) => n.text === 'kept text'));
    assert.equal(all.find((n) => n.tag === 'ol').attrs.start, '3');
    assert.equal(courseFile('/v1/training/files/a/1/img/x.svg?x=1'), '/v1/training/files/a/1/img/x.svg');
    assert.equal(courseFile('/v1/training/files/a//x.svg'), null);
    assert.equal(courseFile('//evil/v1/training/files/a/1/x.svg'), null);
});

test('the metrics route\'s figures in the report\'s shape, trends per department and quarter', async () => {
    const { reportFromMetrics, trendsFromMetrics } = await import('../../console/views/training_lib.js');
    const m = {
        groups: [{ key: 'beijing', people: 3, attempts: 5, passed: 4, pass_rate: 0.8, average_score: 82, assigned: 3, certified: 2,
            statuses: { future: 0, pending: 1, overdue: 0, certified: 2, expired: 0 }, coverage: 0.6667, remedial_open: 1 }],
        weakest: [{ course: 'c', question: 'q-1', lesson: 'phishing', answered: 9, wrong: 5, wrong_rate: 0.5556 }],
        questionnaire: [{ course: 'c', item: 'recognise-phishing', pre: { mean: 2.4, n: 5 }, post: { mean: 3.9, n: 4 }, change: 1.5 }],
        trends: [{ quarter: '2026Q2', attempts: 4, passed: 2, pass_rate: 0.5, average_score: 70, people: 3 },
            { quarter: '2026Q4', attempts: 1, passed: 1, pass_rate: 1, average_score: 90, people: 1 }],
    };
    const r = reportFromMetrics(m);
    assert.deepEqual(r.departments[0], { department: 'beijing', accounts: 3, certified: 2, attempts: 5, passed: 4, pass_rate: 0.8, average_score: 82,
        statuses: m.groups[0].statuses, remedial_open: 1 });
    assert.deepEqual(weakest(r, COURSE).map((w) => [w.question, w.rate]), [['q-1', 56]]);
    assert.deepEqual(movement(r)[0], { item: 'recognise-phishing', pre: 2.4, post: 3.9, n_pre: 5, n_post: 4, delta: 1.5 });
    const tr = trendsFromMetrics(m, { beijing: { trends: [{ quarter: '2026Q4', attempts: 1, passed: 1, pass_rate: 1, average_score: 90 }] } });
    assert.deepEqual(tr.quarters, ['2026Q2', '2026Q3', '2026Q4']);
    assert.deepEqual(tr.departments, ['beijing']);
    assert.deepEqual(tr.cell('', '2026Q2'), { attempts: 4, passed: 2, pass_rate: 50, average: 70 });
    assert.deepEqual(tr.cell('', '2026Q3'), { attempts: 0, passed: 0, pass_rate: null, average: null });
    assert.deepEqual(tr.cell('beijing', '2026Q4'), { attempts: 1, passed: 1, pass_rate: 100, average: 90 });
    assert.deepEqual(reportFromMetrics(null), { departments: [], weakest_questions: [], questionnaire: {} });
    // the CSV is made from either shape alike
    assert.ok(reportCsv('c', r, tr, COURSE).includes('department,c,beijing,3,2,5,4,80,82'));
});

test('a remedial course names where it came from', async () => {
    const { remedialSource } = await import('../../console/views/training_lib.js');
    assert.deepEqual(remedialSource('violation:permission-probing'), ['training.remedial.by_rule', 'permission-probing']);
    assert.deepEqual(remedialSource('guard:bulk-read'), ['training.remedial.by_guard', 'bulk-read']);
    assert.deepEqual(remedialSource('hr'), ['training.remedial.by_hr', null]);
    assert.deepEqual(remedialSource(undefined), ['training.remedial.by_hr', null]);
});

test('phishing: durations, departments most phish-prone first, a mail\'s worst outcome', async () => {
    const { duration, departmentRows, mailOutcome } = await import('../../console/views/training_phish.js');
    const t = (k, v) => `${v.n}${k.split('.').pop()}`;
    assert.equal(duration(null, t), '—');
    assert.equal(duration(12, t), '12s');
    assert.equal(duration(200, t), '3min 20s');
    assert.equal(duration(3600 + 300, t), '1h 5min');
    assert.equal(duration(7200, t), '2h');
    const rows = departmentRows({ departments: { beijing: { phish_prone_pct: 10 }, shanghai: { phish_prone_pct: 40 }, hr: { phish_prone_pct: 10 } } });
    assert.deepEqual(rows.map((r) => r.department), ['shanghai', 'beijing', 'hr']);
    assert.deepEqual(departmentRows({}), []);
    assert.equal(mailOutcome({ opened_at: 'x', clicked_at: 'x', reported_at: 'x' }), 'clicked');
    assert.equal(mailOutcome({ opened_at: 'x', reported_at: 'x' }), 'reported');
    assert.equal(mailOutcome({ submitted_at: 'x' }), 'submitted');
    assert.equal(mailOutcome({}), 'delivered');
    // the employee's phishing routes name no account
    const src = readFileSync(join(root, 'console/views/training_phish.js'), 'utf8');
    assert.ok(!/username/.test(src));
});
