// training_report.js - training figures for HR: per department (certified, pass rate, average
// score) with charts, the trend across quarters from the submitted attempts, the weakest topics
// and questions, the questionnaire's movement before and after the course, the simulated
// phishing figures (phish-prone %, report rate, time to report, repeat clickers), a CSV download of
// all of it, and one person's status and results on request. What HR may read is the server's
// decision (training.manage); the page only asks for it where the role may.
import { put, table, errorNote, labelled, useWatchStyles, useSheet } from '../lib/chart_ui.js';
import { lineChart, barChart } from '../lib/chart.js';
import { campaignsSection } from './training_phish.js';
import { trends, weakest, weakestTopics, movement, reportCsv, sortAssignments, badgeClass, reportFromMetrics, trendsFromMetrics } from './training_lib.js';

// Who reads training figures beyond their own: HR (its department and training.json's
// hr_scope) and data stewards (their department); the server decides the scope.
export const REPORT_ROLES = ['hr', 'data_steward'];
const PERSON_ROLES = ['hr'];
const CSV_TABLES = ['groups', 'weakest', 'questionnaire', 'trends', 'phishing'];
const enc = encodeURIComponent;

function lang() {
    return typeof document !== 'undefined' && document.documentElement.lang === 'en' ? 'en' : 'zh-CN';
}

function styles() {
    useWatchStyles();
    useSheet('training');
}

function pct(x) {
    return typeof x === 'number' ? Math.round(x * 100) : 0;
}

function tile(el, key, label, value) {
    return el('div', { class: 'tile', 'data-tile': key }, el('div', { class: 'tile-value' }, value), el('div', { class: 'tile-label' }, label));
}

// A file made in the page, offered as a download (no request: the numbers are on the page).
function download(name, text, type) {
    const url = URL.createObjectURL(new Blob(['\ufeff' + text], { type }));
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export default {
    name: 'training-report',
    titleKey: 'trainrep.nav',
    visible: (me) => !!me && REPORT_ROLES.includes(me.role),
    async render(root, ctx) {
        styles();
        const { el, t } = ctx;
        const out = el('div');
        const person = el('div');
        root.append(el('h1', {}, t('trainrep.title')), el('p', { class: 'muted' }, t('trainrep.intro')));
        let list;
        try {
            list = (await ctx.api('GET', '/v1/training/courses?lang=' + enc(lang()))).courses || [];
        } catch (e) {
            return root.append(errorNote(ctx, e));
        }
        if (!list.length) return root.append(el('section', { class: 'card' }, el('p', { class: 'empty', 'data-state': 'empty' }, t('trainrep.no_courses'))));
        const select = el('select', { name: 'course' }, list.map((c) => el('option', { value: c.id }, c.title + ' (' + c.version + ')')));
        if (ctx.params && ctx.params[0] && list.some((c) => c.id === ctx.params[0])) select.value = ctx.params[0];
        const csvBtn = el('button', { type: 'button', 'data-action': 'csv', disabled: true }, t('trainrep.csv'));
        const user = el('input', { name: 'username', type: 'text', autocomplete: 'off', maxlength: 64 });
        const lookup = el('form', { class: 'row person-lookup', 'data-form': 'person' },
            labelled(el, t('trainrep.person'), user, t('trainrep.person_hint')),
            el('div', { class: 'actions' }, el('button', { type: 'submit', 'data-action': 'person' }, t('trainrep.show_person'))));
        const scopeLine = el('p', { class: 'muted', 'data-field': 'scope' });
        const serverCsv = el('p', { class: 'small' });
        const phishBox = el('div');
        root.append(el('section', { class: 'card' },
            el('div', { class: 'row' }, labelled(el, t('trainrep.course'), select), el('div', { class: 'actions' }, csvBtn)), scopeLine, serverCsv),
        out, phishBox,
        ...(PERSON_ROLES.includes(ctx.me.role) ? [el('section', { class: 'card', 'data-section': 'person' }, el('h2', {}, t('trainrep.person_title')), lookup, person)] : []));
        select.addEventListener('change', () => load(select.value));
        lookup.addEventListener('submit', (ev) => { ev.preventDefault(); showPerson(user.value.trim()); });
        let current = null;
        csvBtn.addEventListener('click', () => {
            if (!current) return;
            download(`training-${current.id}-${new Date().toISOString().slice(0, 10)}.csv`, current.csv, 'text/csv;charset=utf-8');
        });

        async function load(id) {
            const course = list.find((c) => c.id === id) || list[0];
            out.setAttribute('aria-busy', 'true');
            csvBtn.disabled = true;
            put(out, el('p', { class: 'muted', role: 'status' }, t('training.loading')));
            let report;
            let tr;
            let scope;
            let people;
            let phishing;
            try {
                ({ report, tr, scope, people, phishing } = await figures(course));
            } catch (e) {
                out.removeAttribute('aria-busy');
                return put(out, errorNote(ctx, e));
            }
            put(scopeLine, scope ? t('trainrep.scope', { departments: (scope.departments || []).join(', ') || '—' }) : null);
            // The server's own CSV tables, where it has the metrics route.
            put(serverCsv, ...(scope ? [t('trainrep.server_csv'), ' ', ...CSV_TABLES.flatMap((tb, i) => [i ? ' · ' : '', el('a', {
                href: `/v1/training/metrics?by=department&course=${enc(course.id)}&format=csv&table=${tb}`, download: `training-${tb}.csv`, 'data-csv': tb,
            }, t('trainrep.table.' + tb))])] : []));
            current = { id: course.id, csv: reportCsv(course.id, report, tr, course) };
            csvBtn.disabled = false;
            out.removeAttribute('aria-busy');
            put(out, ...draw(course, report, tr), phishing ? phishingSection(phishing) : null, people ? perPerson(people) : null);
        }

        // One row per person of the scope (the metrics route's by=person).
        function perPerson(groups) {
            const stateOf = (g) => ['expired', 'overdue', 'pending', 'future', 'certified'].find((k) => g.statuses && g.statuses[k] > 0);
            return el('section', { class: 'card', 'data-section': 'people' },
                el('h2', {}, t('trainrep.people')),
                groups.length ? table(el, [
                    { key: 'key', label: t('trainrep.c.person') },
                    { key: 'state', label: t('trainrep.c.state'), cell: (g) => { const st = stateOf(g); return st ? el('span', { class: badgeClass(st) }, t('training.state.' + st)) : '—'; } },
                    { key: 'attempts', label: t('trainrep.c.attempts'), class: 'num' },
                    { key: 'pass_rate', label: t('trainrep.c.pass_rate'), class: 'num', cell: (g) => (g.attempts ? pct(g.pass_rate) + '%' : '—') },
                    { key: 'average_score', label: t('trainrep.c.average'), class: 'num', cell: (g) => (g.attempts ? String(Math.round(g.average_score || 0)) : '—') },
                    { key: 'remedial_open', label: t('trainrep.c.remedial'), class: 'num', cell: (g) => String(g.remedial_open || 0) },
                ], groups, { label: t('trainrep.people'), idOf: (g) => g.key }) : el('p', { class: 'empty', 'data-state': 'empty' }, t('trainrep.no_people')));
        }

        // The phishing practice of the scope (the metrics route's `phishing`): per department and
        // per quarter, what was delivered, clicked, submitted and reported.
        function phishingSection(ph) {
            const groups = ph.groups || [];
            const quarters = ph.trends || [];
            const tot = ph.totals;
            const numbers = t('trainrep.numbers');
            const pc = (x) => (typeof x === 'number' ? x.toFixed(1).replace(/\.0$/, '') + '%' : '—');
            const secs = (s) => (typeof s !== 'number' ? '—' : s < 120 ? t('trainrep.ph.seconds', { n: s }) : t('trainrep.ph.minutes', { n: Math.round(s / 60) }));
            const cols = (first) => [
                first,
                { key: 'delivered', label: t('trainrep.ph.delivered'), class: 'num' },
                { key: 'clicked', label: t('trainrep.ph.clicked'), class: 'num' },
                { key: 'submitted', label: t('trainrep.ph.submitted'), class: 'num' },
                { key: 'reported', label: t('trainrep.ph.reported'), class: 'num' },
                { key: 'phish_prone_pct', label: t('trainrep.ph.prone'), class: 'num', cell: (g) => pc(g.phish_prone_pct) },
                { key: 'report_rate_pct', label: t('trainrep.ph.report_rate'), class: 'num', cell: (g) => pc(g.report_rate_pct) },
                { key: 'median_report_s', label: t('trainrep.ph.median'), class: 'num', cell: (g) => secs(g.median_report_s) },
                { key: 'repeat_clickers', label: t('trainrep.ph.repeat'), class: 'num', cell: (g) => String(g.repeat_clickers || 0) },
            ];
            return el('section', { class: 'card', 'data-section': 'phishing' },
                el('h2', {}, t('trainrep.ph.title')),
                tot ? [
                    el('div', { class: 'tiles', 'data-section': 'phishing-tiles' },
                        tile(el, 'ph-delivered', t('trainrep.ph.delivered'), String(tot.delivered)),
                        tile(el, 'ph-prone', t('trainrep.ph.prone'), pc(tot.phish_prone_pct)),
                        tile(el, 'ph-report', t('trainrep.ph.report_rate'), pc(tot.report_rate_pct)),
                        tile(el, 'ph-median', t('trainrep.ph.median'), secs(tot.median_report_s)),
                        tile(el, 'ph-repeat', t('trainrep.ph.repeat'), String(tot.repeat_clickers || 0))),
                    barChart({
                        title: t('trainrep.ph.chart'), desc: t('trainrep.ph.chart_desc'), labels: groups.map((g) => g.key),
                        xName: t('trainrep.c.department'), tableLabel: numbers, legend: true,
                        series: [{ name: t('trainrep.ph.prone'), values: groups.map((g) => g.phish_prone_pct || 0), color: '#a4262c' },
                            { name: t('trainrep.ph.report_rate'), values: groups.map((g) => g.report_rate_pct || 0), color: '#1e6b3a' }],
                    }),
                    table(el, cols({ key: 'key', label: t('trainrep.c.department') }), groups, { label: t('trainrep.ph.title'), idOf: (g) => 'ph-' + g.key }),
                    el('h3', {}, t('trainrep.ph.quarters')),
                    table(el, cols({ key: 'quarter', label: t('trainrep.quarter') }), quarters, { label: t('trainrep.ph.quarters'), idOf: (g) => 'phq-' + g.quarter }),
                    el('p', { class: 'hint' }, t('trainrep.ph.hint')),
                ] : el('p', { class: 'empty', 'data-state': 'empty' }, t('trainrep.ph.none')));
        }

        function draw(course, report, tr) {
            const depts = report.departments || [];
            const sum = (k) => depts.reduce((a, d) => a + (Number(d[k]) || 0), 0);
            const accounts = sum('accounts');
            const attempts = sum('attempts');
            const passed = sum('passed');
            const avg = attempts ? Math.round(depts.reduce((a, d) => a + (d.average_score || 0) * (d.attempts || 0), 0) / attempts) : null;
            const numbers = t('trainrep.numbers');
            const sections = [];
            sections.push(el('div', { class: 'tiles', 'data-section': 'tiles' },
                tile(el, 'accounts', t('trainrep.tile.accounts'), String(accounts)),
                tile(el, 'certified', t('trainrep.tile.certified'), accounts ? Math.round((100 * sum('certified')) / accounts) + '%' : '—'),
                tile(el, 'pass_rate', t('trainrep.tile.pass_rate'), attempts ? Math.round((100 * passed) / attempts) + '%' : '—'),
                tile(el, 'average', t('trainrep.tile.average'), avg === null ? '—' : String(avg))));
            const labels = depts.map((d) => d.department);
            sections.push(el('section', { class: 'card', 'data-section': 'departments' },
                el('h2', {}, t('trainrep.per_department')),
                depts.length ? [
                    el('div', { class: 'charts' },
                        barChart({
                            title: t('trainrep.chart.coverage'), desc: t('trainrep.chart.coverage_desc'), labels, stacked: true,
                            xName: t('trainrep.c.department'), tableLabel: numbers,
                            series: [{ name: t('trainrep.certified'), values: depts.map((d) => d.certified || 0), color: '#1e6b3a' },
                                { name: t('trainrep.not_certified'), values: depts.map((d) => Math.max(0, (d.accounts || 0) - (d.certified || 0))), color: '#a4262c' }],
                        }),
                        barChart({
                            title: t('trainrep.chart.scores'), desc: t('trainrep.chart.scores_desc'), labels,
                            xName: t('trainrep.c.department'), tableLabel: numbers, legend: true,
                            series: [{ name: t('trainrep.c.pass_rate'), values: depts.map((d) => pct(d.pass_rate)), color: '#1e6b3a' },
                                { name: t('trainrep.c.average'), values: depts.map((d) => Math.round(d.average_score || 0)), color: '#1f4e79' }],
                        })),
                    table(el, [
                        { key: 'department', label: t('trainrep.c.department') },
                        { key: 'accounts', label: t('trainrep.c.accounts'), class: 'num' },
                        { key: 'certified', label: t('trainrep.c.certified'), class: 'num' },
                        { key: 'attempts', label: t('trainrep.c.attempts'), class: 'num' },
                        { key: 'passed', label: t('trainrep.c.passed'), class: 'num' },
                        { key: 'pass_rate', label: t('trainrep.c.pass_rate'), class: 'num', cell: (d) => pct(d.pass_rate) + '%' },
                        { key: 'average_score', label: t('trainrep.c.average'), class: 'num', cell: (d) => String(Math.round(d.average_score || 0)) },
                    ], depts, { label: t('trainrep.per_department'), idOf: (d) => d.department }),
                ] : el('p', { class: 'empty', 'data-state': 'empty' }, t('trainrep.no_departments'))));
            sections.push(el('section', { class: 'card', 'data-section': 'trend' },
                el('h2', {}, t('trainrep.trend')),
                tr.quarters.length ? [
                    lineChart({
                        title: t('trainrep.chart.trend'), desc: t('trainrep.chart.trend_desc'), labels: tr.quarters,
                        xName: t('trainrep.quarter'), tableLabel: numbers, legend: true,
                        series: ['', ...tr.departments].map((d) => ({
                            name: d || t('trainrep.company'), values: tr.quarters.map((q) => tr.cell(d, q).pass_rate ?? 0),
                        })),
                    }),
                    table(el, [
                        { key: 'q', label: t('trainrep.quarter'), cell: (q) => q },
                        ...['', ...tr.departments].map((d) => ({
                            key: d, label: d || t('trainrep.company'), class: 'num',
                            cell: (q) => { const c = tr.cell(d, q); return c.attempts ? `${c.pass_rate}% · ${c.average} (${c.attempts})` : '—'; },
                        })),
                    ], tr.quarters.map((q) => q), { label: t('trainrep.trend'), idOf: (q) => q }),
                    el('p', { class: 'hint' }, t('trainrep.trend_hint')),
                ] : el('p', { class: 'empty', 'data-state': 'empty' }, t('trainrep.no_attempts'))));
            const topics = weakestTopics(report, course);
            const qs = weakest(report, course);
            sections.push(el('section', { class: 'card', 'data-section': 'weakest' },
                el('h2', {}, t('trainrep.weakest')),
                topics.length ? [
                    barChart({
                        title: t('trainrep.chart.topics'), desc: t('trainrep.chart.topics_desc'), labels: topics.map((g) => g.lesson),
                        xName: t('trainrep.c.topic'), tableLabel: numbers,
                        series: [{ name: t('trainrep.c.wrong_rate'), values: topics.map((g) => g.rate), color: '#a4262c' }],
                    }),
                    table(el, [
                        { key: 'lesson', label: t('trainrep.c.lesson'), cell: (g) => el('code', {}, g.lesson) },
                        { key: 'topic', label: t('trainrep.c.topic') },
                        { key: 'answered', label: t('trainrep.c.answered'), class: 'num' },
                        { key: 'wrong', label: t('trainrep.c.wrong'), class: 'num' },
                        { key: 'rate', label: t('trainrep.c.wrong_rate'), class: 'num', cell: (g) => g.rate + '%' },
                    ], topics, { label: t('trainrep.topics'), idOf: (g) => 'topic-' + g.lesson }),
                    el('h3', {}, t('trainrep.weakest_questions')),
                    table(el, [
                        { key: 'question', label: t('trainrep.c.question'), cell: (w) => el('code', {}, w.question) },
                        { key: 'topic', label: t('trainrep.c.topic') },
                        { key: 'answered', label: t('trainrep.c.answered'), class: 'num' },
                        { key: 'wrong', label: t('trainrep.c.wrong'), class: 'num' },
                        { key: 'rate', label: t('trainrep.c.wrong_rate'), class: 'num', cell: (w) => w.rate + '%' },
                    ], qs, { label: t('trainrep.weakest'), idOf: (w) => w.question }),
                ] : el('p', { class: 'empty', 'data-state': 'empty' }, t('trainrep.no_attempts'))));
            const mv = movement(report);
            sections.push(el('section', { class: 'card', 'data-section': 'questionnaire' },
                el('h2', {}, t('trainrep.questionnaire')),
                mv.length ? [
                    barChart({
                        title: t('trainrep.chart.movement'), desc: t('trainrep.chart.movement_desc'), labels: mv.map((m) => m.item),
                        xName: t('trainrep.c.item'), tableLabel: numbers, legend: true,
                        series: [{ name: t('trainrep.before'), values: mv.map((m) => m.pre ?? 0), color: '#4a5565' },
                            { name: t('trainrep.after'), values: mv.map((m) => m.post ?? 0), color: '#1f4e79' }],
                    }),
                    table(el, [
                        { key: 'item', label: t('trainrep.c.item'), cell: (m) => el('code', {}, m.item) },
                        { key: 'pre', label: t('trainrep.before'), class: 'num', cell: (m) => (m.pre ?? '—') + ` (n=${m.n_pre})` },
                        { key: 'post', label: t('trainrep.after'), class: 'num', cell: (m) => (m.post ?? '—') + ` (n=${m.n_post})` },
                        { key: 'delta', label: t('trainrep.change'), class: 'num', cell: (m) => (m.delta === null ? '—' : (m.delta > 0 ? '+' : '') + m.delta) },
                    ], mv, { label: t('trainrep.questionnaire'), idOf: (m) => m.item }),
                ] : el('p', { class: 'empty', 'data-state': 'empty' }, t('trainrep.no_answers'))));
            return sections;
        }

        // The figures of the role's scope from the metrics route (per department, and the trend
        // of each department); where the server has no metrics route yet, HR's course report
        // and the submitted attempts give the same figures.
        async function figures(course) {
            const base = '/v1/training/metrics?by=department&course=' + enc(course.id);
            let m;
            try {
                m = await ctx.api('GET', base);
            } catch (e) {
                if (e.status !== 404 || ctx.me.role !== 'hr') throw e;
                const [report, results] = await Promise.all([
                    ctx.api('GET', `/v1/training/courses/${enc(course.id)}/report`),
                    ctx.api('GET', '/v1/training/results?username=*'),
                ]);
                return { report, tr: trends(results.attempts, course.id) };
            }
            const per = {};
            const [people] = await Promise.all([
                ctx.api('GET', '/v1/training/metrics?by=person&course=' + enc(course.id)),
                ...(m.groups || []).map(async (g) => { per[g.key] = await ctx.api('GET', base + '&department=' + enc(g.key)); }),
            ]);
            return { report: reportFromMetrics(m), tr: trendsFromMetrics(m, per), scope: m.scope, people: people.groups || [], phishing: m.phishing || null };
        }

        async function showPerson(name) {
            if (!name) return put(person);
            person.setAttribute('aria-busy', 'true');
            try {
                const [st, res] = await Promise.all([
                    ctx.api('GET', '/v1/training/status?username=' + enc(name)),
                    ctx.api('GET', '/v1/training/results?username=' + enc(name)),
                ]);
                const titles = new Map(list.map((c) => [c.id, c.title]));
                put(person,
                    el('p', { 'data-person': st.username },
                        el('strong', {}, st.username), ' · ', t('role.' + st.role), st.department ? ' · ' + st.department : '', ' · ',
                        el('span', { class: st.training_current ? 'badge ok' : 'badge danger' }, t(st.training_current ? 'training.current' : 'training.lapsed')), ' ',
                        st.training_valid_until ? t('training.valid_until', { date: ctx.fmt.date(st.training_valid_until) }) : ''),
                    table(el, [
                        { key: 'course', label: t('training.c.course'), cell: (c) => titles.get(c.course) || c.course },
                        { key: 'state', label: t('trainrep.c.state'), cell: (c) => el('span', { class: badgeClass(c.state) }, t('training.state.' + c.state)) },
                        { key: 'due', label: t('training.due'), cell: (c) => ctx.fmt.dateTime(c.due) },
                        { key: 'grace_ends', label: t('training.grace_ends'), cell: (c) => ctx.fmt.dateTime(c.grace_ends) },
                    ], sortAssignments(st.courses), { label: t('trainrep.person_title'), idOf: (c) => c.course }),
                    table(el, [
                        { key: 'course', label: t('training.c.course'), cell: (r) => titles.get(r.course) || r.course },
                        { key: 'score', label: t('training.c.score'), class: 'num', cell: (r) => (r.submitted_at ? r.score + '%' : '—') },
                        { key: 'passed', label: t('training.c.result'), cell: (r) => (r.submitted_at ? t(r.passed ? 'training.passed' : 'training.failed') : t('trainrep.open_attempt')) },
                        { key: 'started_at', label: t('training.c.when'), cell: (r) => ctx.fmt.dateTime(r.submitted_at || r.started_at) },
                    ], res.attempts || [], { label: t('training.my_results'), idOf: (r) => r.attempt }));
            } catch (e) {
                put(person, errorNote(ctx, e));
            } finally {
                person.removeAttribute('aria-busy');
            }
        }

        await Promise.all([load(select.value), campaignsSection(ctx).then((box) => put(phishBox, box))]);
    },
};
