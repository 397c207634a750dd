// incidents.test.mjs - the incident board's rules and dictionary, without a browser:
//   node --test tests/console/incidents.test.mjs
// Who sees the board and which controls; late tasks and the regulators' clocks at a given
// moment; durations in both languages; the scope as chart series; containment targets from the
// alert; the drill timings; and every string the board's files use present in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as M from '../../console/views/incidents_model.js';
import dict from '../../console/i18n/incidents.js';
import core from '../../console/i18n/core.js';
import overview from '../../console/i18n/overview.js';
import alertsDict from '../../console/i18n/alerts.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROLES = ['sales', 'customer_service', 'data_steward', 'security', 'legal', 'hr', 'auditor', 'admin'];
const T0 = Date.parse('2026-12-04T08:00:00Z');

// A t() like the console's over the given dictionary (missing keys as ⟦key⟧).
function tOf(lang) {
    const table = Object.assign({}, core[lang], overview[lang], dict[lang]);
    return (k, vars) => {
        let s = table[k];
        if (s === undefined) return '\u27e6' + k + '\u27e7';
        if (vars) s = s.replace(/\{(\w+)\}/g, (m, x) => (vars[x] !== undefined ? String(vars[x]) : m));
        return s;
    };
}

test('only security, legal, stewards, customer service and auditors see the board; sales, admin and HR never', () => {
    const sees = ROLES.filter((r) => M.visible({ role: r, username: 'x' }));
    assert.deepEqual(sees, ['customer_service', 'data_steward', 'security', 'legal', 'auditor']);
    assert.equal(M.visible(null), false);
    for (const r of ['sales', 'admin', 'hr']) {
        for (const what of ['open', 'contain', 'scope', 'readScope', 'documents', 'drills', 'drill', 'clocks', 'note']) {
            assert.equal(M.can({ role: r }, what), false, `${r} ${what}`);
        }
    }
});

test('each role is offered only its own controls; auditors none', () => {
    const who = (what) => ROLES.filter((r) => M.can({ role: r }, what));
    assert.deepEqual(who('contain'), ['security']);
    assert.deepEqual(who('scope'), ['security']);
    assert.deepEqual(who('drill'), ['security']);
    assert.deepEqual(who('approve'), ['legal']);
    assert.deepEqual(who('evidence'), ['legal']);
    assert.deepEqual(who('filed'), ['legal']);
    assert.deepEqual(who('open'), ['security', 'legal']);
    assert.deepEqual(who('send'), ['customer_service']);
    for (const what of ['open', 'contain', 'scope', 'phase', 'owner', 'note', 'close', 'evidence', 'filed', 'approve', 'send', 'drill']) {
        assert.equal(M.can({ role: 'auditor' }, what), false, what);
    }
    for (const what of ['readScope', 'documents', 'drills', 'clocks']) assert.equal(M.can({ role: 'auditor' }, what), true, what);
    assert.throws(() => M.can({ role: 'security' }, 'nonsense'));
});

test('a task is worked only by the roles it names (either spelling), never by an auditor', () => {
    const tk = { id: 'notify', roles: ['customer-service', 'legal'] };
    assert.equal(M.mayWork({ role: 'customer_service' }, tk), true);
    assert.equal(M.mayWork({ role: 'legal' }, tk), true);
    assert.equal(M.mayWork({ role: 'security' }, tk), false);
    assert.equal(M.mayWork({ role: 'auditor' }, { id: 'scope', roles: ['security', 'auditor'] }), false);
    assert.equal(M.mayWork({ role: 'sales' }, { id: 'x', roles: ['sales'] }), false);
    assert.equal(M.mayWork({ role: 'data_steward' }, { id: 'x', roles: ['data_steward'] }), true);
    assert.equal(M.mayWork({ role: 'security' }, { id: 'x' }), false);
});

test('late: the server says so, or an unfinished task past its due time; never a done one', () => {
    const due = new Date(T0).toISOString();
    assert.equal(M.isLate({ state: 'open', due_at: due }, T0 + 1000), true);
    assert.equal(M.isLate({ state: 'started', due_at: due }, T0 + 1000), true);
    assert.equal(M.isLate({ state: 'open', due_at: due }, T0 - 1000), false);
    assert.equal(M.isLate({ state: 'done', due_at: due }, T0 + 1e9), false);
    assert.equal(M.isLate({ state: 'open', due_at: due, late: false }, T0 + 1000), false);
    assert.equal(M.isLate({ state: 'open', due_at: due, late: true }, T0 - 1000), true);
    // the stored form's microseconds
    assert.equal(M.isLate({ state: 'open', due_us: T0 * 1000 }, T0 + 1), true);
    const inc = { tasks: [{ state: 'open', due_at: due }, { state: 'done', due_at: due }, { state: 'open', due_at: new Date(T0 + 3600e3).toISOString() }] };
    assert.equal(M.lateCount(inc, T0 + 60e3), 1);
    assert.equal(M.lateCount({ late_tasks: 3 }, T0), 3);
});

test('who is late: the teams with late tasks and the roles they wait on', () => {
    const due = new Date(T0).toISOString();
    const tasks = [
        { id: 'contain', team: 'technical', roles: ['security'], state: 'open', due_at: due },
        { id: 'scope', team: 'technical', roles: ['security', 'auditor'], state: 'done', due_at: due },
        { id: 'notices', team: 'customer-service', roles: ['customer-service'], state: 'started', due_at: due },
        { id: 'statement', team: 'communications', roles: ['legal'], state: 'open', due_at: new Date(T0 + 3600e3).toISOString() },
    ];
    assert.deepEqual(M.lateByTeam(tasks, T0 + 1000), [
        { team: 'technical', tasks: ['contain'], roles: ['security'] },
        { team: 'customer-service', tasks: ['notices'], roles: ['customer_service'] },
    ]);
    assert.deepEqual(M.lateByTeam(tasks, T0 - 1000), []);
});

test('tasks are grouped by team in the response order', () => {
    const g = M.byTeam([{ id: 'a', team: 'legal' }, { id: 'b', team: 'technical' }, { id: 'c', team: 'legal' }, { id: 'd', team: 'stewards' }, { id: 'e', team: 'customer-service' }]);
    assert.deepEqual(g.map((x) => x.team), ['technical', 'legal', 'customer-service', 'stewards']);
    assert.deepEqual(g[1].tasks.map((x) => x.id), ['a', 'c']);
});

test('titles in the language shown: title_zh for Chinese, title for English', () => {
    const o = { id: 'contain', title: 'Cut the source', title_zh: '切断来源' };
    assert.equal(M.titleOf(o, 'zh-CN'), '切断来源');
    assert.equal(M.titleOf(o, 'en'), 'Cut the source');
    assert.equal(M.titleOf({ id: 'x', title: { 'zh-CN': '甲', en: 'A' } }, 'en'), 'A');
    assert.equal(M.titleOf({ id: 'x' }, 'zh-CN'), 'x');
    assert.equal(M.titleOf(null, 'en', 'f'), 'f');
});

test('regulator clocks: time left, late, filed, not applying, not yet known', () => {
    const due = new Date(T0 + 4 * 3600e3).toISOString();
    assert.deepEqual(M.clock({ report: 'cac-initial', applies: true, due_at: due }, T0), { state: 'running', left_s: 14400 });
    assert.deepEqual(M.clock({ report: 'cac-initial', applies: true, due_at: due }, T0 + 5 * 3600e3), { state: 'late', left_s: -3600 });
    assert.equal(M.clock({ applies: true, due_at: due, filed_at: new Date(T0).toISOString() }, T0 + 9e9).state, 'filed');
    assert.equal(M.clock({ applies: false, due_at: due }, T0).state, 'na');
    assert.equal(M.clock({ applies: true, due_at: null }, T0).state, 'unknown');
    assert.equal(M.clock({ applies: true, due_at: '' }, T0).state, 'unknown');
});

test('durations read the same in both languages', () => {
    const zh = tOf('zh-CN');
    const en = tOf('en');
    assert.equal(M.fmtDuration(14400, en), '4 h 0 min');
    assert.equal(M.fmtDuration(3 * 86400 + 7200, en), '3 d 2 h');
    assert.equal(M.fmtDuration(125, en), '2 min 5 s');
    assert.equal(M.fmtDuration(9, en), '9 s');
    assert.equal(M.fmtDuration(-3725, en), '1 h 2 min');
    assert.equal(M.fmtDuration(14400, zh), '4 小时 0 分');
    assert.equal(M.fmtDuration(null, zh), '—');
    assert.equal(M.fmtDuration(0.024598, en), '25 ms', 'a machine step in milliseconds');
    assert.equal(M.fmtDuration(0.0001, zh), '1 毫秒');
    assert.equal(M.fmtDuration(0, en), '0 s');
    assert.equal(M.chartUnit([{ timings: { detect_s: 0.02, contain_s: 90 } }]).key, 'seconds');
    assert.equal(M.chartUnit([{ timings: { report_s: 5400, x: null } }]).key, 'minutes');
    assert.equal(M.chartUnit([]).key, 'seconds');
});

test('the scope as a per-department chart: people (and records when given), departments sorted', () => {
    assert.deepEqual(M.scopeSeries({ by_department: { shanghai: 3, beijing: 1 } }), { labels: ['beijing', 'shanghai'], series: [{ key: 'people', values: [1, 3] }] });
    const s = M.scopeSeries({ by_department: { shanghai: { people: 2, records: 5 }, shenzhen: { customers: 4, records: 9 } } });
    assert.deepEqual(s.labels, ['shanghai', 'shenzhen']);
    assert.deepEqual(s.series, [{ key: 'people', values: [2, 4] }, { key: 'records', values: [5, 9] }]);
    assert.deepEqual(M.scopeSeries({}), { labels: [], series: [{ key: 'people', values: [] }] });
    assert.deepEqual(M.categoryRows({ by_category: { contact: 2, identity: 5, finance: 2 } }).map((r) => [r.category, r.count]),
        [['identity', 5], ['contact', 2], ['finance', 2]]);
});

test('containment is offered aimed at the alert subject; only the containment actions', () => {
    const alert = { account: 'steward2', address: '2001:db8:1:2::/64', api_key: 'k-7' };
    assert.equal(M.targetFor('lock-account', alert), 'steward2');
    assert.equal(M.targetFor('revoke-sessions', alert), 'steward2');
    assert.equal(M.targetFor('block-address', alert), '2001:db8:1:2::');
    assert.equal(M.targetFor('block-address', { address: '-' }), '');
    assert.equal(M.targetFor('revoke-api-key', alert), 'k-7');
    assert.equal(M.targetFor('seal-vault', null), 'vault');
    assert.equal(M.targetFor('lock-account', null), '');
    assert.deepEqual(M.containmentActions({ actions: ['lock-account', 'scope', 'block-address', 'evidence-bundle'] }), ['lock-account', 'block-address']);
    assert.deepEqual(M.containmentActions({}), []);
});

test('phases move one step forward or back to an earlier one', () => {
    assert.equal(M.nextPhase('detection'), 'containment');
    assert.equal(M.nextPhase('recovery'), 'post-incident');
    assert.equal(M.nextPhase('post-incident'), null);
    assert.equal(M.nextPhase('closed'), null);
    assert.deepEqual(M.earlierPhases('recovery'), ['detection', 'containment']);
    assert.deepEqual(M.earlierPhases('detection'), []);
});

test('the scope form becomes the contract body', () => {
    assert.deepEqual(M.scopeBody({ actors: 'steward2, sales1，hr1', addresses: '198.51.100.7', from: '2026-12-04T00:00:00Z' }),
        { actors: ['steward2', 'sales1', 'hr1'], api_keys: [], addresses: ['198.51.100.7'], windows: [{ from: '2026-12-04T00:00:00Z', to: '' }] });
    assert.deepEqual(M.scopeBody({}), { actors: [], api_keys: [], addresses: [], windows: [] });
});

test('timeline newest first; times as RFC 3339 or microseconds', () => {
    const tl = M.timeline({ timeline: [{ at_us: T0 * 1000, kind: 'opened' }, { at: new Date(T0 + 5000).toISOString(), kind: 'note' }, { at_us: T0 * 1000, kind: 'owner' }] });
    assert.deepEqual(tl.map((e) => e.kind), ['note', 'owner', 'opened']);
    assert.equal(tl[2].at, T0);
    assert.deepEqual(M.timeline({}), []);
});

test('drills newest first; timings compared in the response order, unknown ones kept', () => {
    const drills = M.drillList({ drills: [
        { id: 'd1', started_at: '2026-11-01T00:00:00Z', timings: { detect_s: 30, contain_s: 50 } },
        { id: 'd2', started_at: '2026-12-01T00:00:00Z', timings: { detect_s: 20, acknowledge_s: 40, decide_s: null, extra_s: 7 } },
    ] });
    assert.deepEqual(drills.map((d) => d.id), ['d2', 'd1']);
    const rows = M.timingRows(drills);
    assert.deepEqual(rows.map((r) => r.key), ['detect_s', 'acknowledge_s', 'contain_s', 'extra_s'], 'a timing nobody measured yet (null) is left out');
    assert.deepEqual(rows[0].values, [20, 30]);
    assert.deepEqual(rows[1].values, [40, null]);
    assert.deepEqual(M.drillList([{ id: 'x' }]).map((d) => d.id), ['x']);
    assert.deepEqual(M.drillList(null), []);
});

test('documents: one row per kind with its languages and approval; paths as the contract has them', () => {
    const rows = M.documentKinds([{ kind: 'customer-notice', lang: 'zh-CN' }, { kind: 'customer-notice', lang: 'en', approved_by: 'legal1', approved_at: '2026-12-04T09:00:00Z' }, { kind: 'cac-initial', lang: 'zh-CN' }]);
    assert.deepEqual(rows.map((r) => [r.kind, Object.keys(r.langs), r.approved_by]), [['customer-notice', ['zh-CN', 'en'], 'legal1'], ['cac-initial', ['zh-CN'], '']]);
    assert.deepEqual(M.documentKinds({ documents: [{ kind: 'statement' }] }).map((r) => r.kind), ['statement']);
    // The server's "approved" is whether the approval still holds (template and facts unchanged).
    const held = M.documentKinds({ documents: [
        { kind: 'customer-notice', lang: 'zh-CN', approved: true, approved_by: 'legal1', approved_at: '2026-12-04T09:00:00Z' },
        { kind: 'customer-notice', lang: 'en', approved: true, approved_by: 'legal1', approved_at: '2026-12-04T09:00:00Z' },
        { kind: 'cac-initial', lang: 'zh-CN', approved: false, approved_by: 'legal1', approved_at: '2026-12-04T09:00:00Z' },
        { kind: 'cac-initial', lang: 'en', approved: false, approved_by: null } ] });
    assert.deepEqual(held.map((r) => [r.kind, r.approved, r.approved_by]), [['customer-notice', true, 'legal1'], ['cac-initial', false, '']]);
    assert.equal(M.docPath('INC 1', 'customer-notice', 'zh-CN', 'pdf', '42'), '/v1/incidents/INC%201/documents/customer-notice?lang=zh-CN&format=pdf&customer=42');
    assert.equal(M.docPath('i1', 'cac-initial', 'en', 'text'), '/v1/incidents/i1/documents/cac-initial?lang=en&format=text');
    assert.equal(M.reportPath('INC 1', 'report', 'zh-CN', 'pdf'), '/v1/incidents/INC%201/report?lang=zh-CN&format=pdf');
    assert.equal(M.reportPath('i1', 'evidence-index', 'en', 'html'), '/v1/incidents/i1/evidence/index?lang=en&format=html');
    // the report is every reader's; the evidence index only theirs who may export the evidence
    for (const role of ['security', 'legal', 'customer_service', 'data_steward', 'auditor']) assert.ok(M.can({ role }, 'report'), role);
    for (const role of ['customer_service', 'data_steward', 'sales', 'admin']) assert.ok(!M.can({ role }, 'evidenceIndex'), role);
    assert.ok(!M.can({ role: 'sales' }, 'report'));
});

test('the teams\' texts: only what was written, never a brace, never nothing', () => {
    assert.deepEqual(M.textsBody('en', { measures: ' Locked the account. ', harm: '' }), { body: { lang: 'en', texts: { measures: 'Locked the account.' } } });
    assert.deepEqual(M.textsBody('zh-CN', { cause: '见 {company}' }), { error: 'brace', key: 'cause' });
    assert.deepEqual(M.textsBody('zh-CN', {}), { error: 'empty' });
    assert.deepEqual(M.textsBody('zh-CN', { lessons: 'x', bogus: 'y' }).body.texts, { lessons: 'x' });
    assert.deepEqual(ROLES.filter((r) => M.can({ role: r }, 'texts')), ['security', 'legal']);
});

// ---- the dictionary ----

const files = ['incidents.js', 'incidents_detail.js', 'incidents_docs.js', 'incidents_drills.js', 'incidents_model.js'].map((f) => 'console/views/' + f);
const dynamic = {
    'inc.state.': ['open', 'closed', 'all'],
    'inc.intro.': M.BOARD_ROLES,
    'inc.playbook.': M.PLAYBOOKS,
    'inc.severity.': M.SEVERITIES,
    'inc.phase.': M.PHASES,
    'inc.closing.': M.CLOSINGS,
    'inc.report.': M.REPORTS,
    'inc.team.': M.TEAMS,
    'inc.task_state.': ['open', 'started', 'done'],
    'inc.rep.': ['report', 'evidence-index'],
    'inc.act.': M.CONTAINMENT,
    'inc.act_q.': M.CONTAINMENT,
    'inc.act_yes.': M.CONTAINMENT,
    'inc.act_done.': M.CONTAINMENT,
    'inc.target.': M.CONTAINMENT,
    'inc.ev.': ['opened', 'phase', 'owner', 'severity', 'task_started', 'task_done', 'reminded', 'escalated', 'note', 'action', 'closed', 'filed', 'other'],
    'inc.lang.': M.LANGS,
    'inc.format.': M.DOC_FORMATS,
    'inc.export.': ['sms', 'post'],
    'inc.outcome.': ['pending', 'sending', 'sent', 'failed', 'gave-up', 'no-address'],
    'inc.drill_state.': ['running', 'contained', 'failed'],
    'inc.text.': M.TEXT_KEYS,
    'inc.timing.': M.TIMINGS,
    'inc.doc.': ['customer-notice', 'cac-initial', 'cac-summary', 'pipl-57', 'gdpr-33', 'statement', 'gdpr-34'],
    'inc.dur.': ['dh', 'hm', 'ms', 's', 'msec'],
    'inc.': ['seconds', 'minutes'],
    'inc.scope_': ['people', 'records'],
    'inc.clock.': ['left', 'late', 'filed', 'na', 'unknown'],
};

test('both languages have the same keys, none empty, placeholders agreeing, zh-CN first', () => {
    assert.equal(Object.keys(dict)[0], 'zh-CN');
    assert.deepEqual(Object.keys(dict['zh-CN']).sort(), Object.keys(dict.en).sort());
    const ph = (s) => (s.match(/\{\w+\}/g) || []).sort().join();
    for (const k of Object.keys(dict.en)) {
        for (const l of ['zh-CN', 'en']) assert.ok(typeof dict[l][k] === 'string' && dict[l][k].trim(), `${l} ${k}`);
        assert.equal(ph(dict['zh-CN'][k]), ph(dict.en[k]), k);
        assert.ok(k.startsWith('inc.'), `${k} outside the board's prefix`);
    }
    // the Chinese side is Chinese (or a name such as HTML/PDF), not English left untranslated
    for (const k of Object.keys(dict.en)) {
        if (/^inc\.format\./.test(k)) continue;
        assert.ok(/[\u4e00-\u9fff]/.test(dict['zh-CN'][k]), `zh-CN ${k} has no Chinese`);
    }
});

test('every key the board uses exists in both languages (a missing one fails here)', () => {
    const all = {
        'zh-CN': Object.assign({}, core['zh-CN'], overview['zh-CN'], dict['zh-CN'], alertsDict['zh-CN']),
        en: Object.assign({}, core.en, overview.en, dict.en, alertsDict.en),
    };
    const used = new Set();
    for (const f of [...files, 'console/views/alerts.js']) {
        const src = readFileSync(join(root, f), 'utf8');
        for (const m of src.matchAll(/\bt\(\s*'([a-z_]+\.[a-z0-9_.-]+)'/g)) if (!m[1].endsWith('.') && !m[1].endsWith('_')) used.add(m[1]);
        for (const m of src.matchAll(/[?:,(]\s*'(inc\.[a-z0-9_.-]+)'/g)) if (!m[1].endsWith('.') && !m[1].endsWith('_')) used.add(m[1]);
    }
    for (const [p, vs] of Object.entries(dynamic)) for (const v of vs) used.add(p + v);
    // the playbooks' roles shown by name
    for (const r of ['security', 'legal', 'customer_service', 'data_steward', 'auditor', 'admin']) used.add('role.' + r);
    assert.ok(used.has('alerts.open_incident'), 'the alerts view offers an incident');
    assert.ok(used.size > 250, `only ${used.size} keys found`);
    for (const k of used) {
        assert.ok(k in all['zh-CN'], `zh-CN lacks ${k}`);
        assert.ok(k in all.en, `en lacks ${k}`);
    }
});

test('the board builds DOM from data as text only', () => {
    for (const f of files) {
        const src = readFileSync(join(root, f), 'utf8');
        assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/.test(src), f);
        assert.ok(!/\bstyle\s*=|\.style\./.test(src), `${f} sets no inline style (strict CSP)`);
    }
});
