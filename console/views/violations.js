// violations.js - the violation register for HR (and security): every refusal by policy and
// every finding about a person's conduct, counted per person (and per department, where the
// server names it), with the trend over the last weeks as a chart and each row's evidence
// opening the audit entry it points to (for roles that may read the audit log). HR sends an
// employee from the register back to training (a remedial course, blocking their customer
// access until they pass when HR says so) and sees the remedial courses a person has open.
import { put, table, errorNote, qs, values, labelled, useWatchStyles, confirmBox } from '../lib/chart_ui.js';
import { lineChart, barChart, dayBuckets } from '../lib/chart.js';

const ROLES = ['hr', 'security'];
const AUDIT_ROLES = ['security', 'auditor', 'legal'];
const DAYS = 28;

function group(rows, keyOf) {
    const m = new Map();
    for (const r of rows) {
        const k = keyOf(r) || '—';
        const g = m.get(k) || { key: k, denied: 0, finding: 0, last: null, rules: new Set() };
        g[r.kind === 'finding' ? 'finding' : 'denied'] += Number(r.count) || 1;
        if (!g.last || (r.time && r.time > g.last)) g.last = r.time;
        if (r.rule) g.rules.add(r.rule);
        m.set(k, g);
    }
    return [...m.values()].sort((a, b) => b.denied + b.finding - (a.denied + a.finding));
}

export default {
    name: 'violations',
    titleKey: 'violations.title',
    visible: (me) => !!me && ROLES.includes(me.role),
    async render(root, ctx) {
        useWatchStyles();
        const { el, t } = ctx;
        const out = el('div');
        const user = el('input', { name: 'username', type: 'text', autocomplete: 'off', maxlength: 64 });
        const form = el('form', { class: 'row', 'data-form': 'violations' },
            labelled(el, t('violations.f.username'), user, t('violations.f.hint')),
            el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'filter' }, t('violations.show'))));
        form.addEventListener('submit', (ev) => { ev.preventDefault(); load(values(form).username || ''); });
        root.append(el('h1', {}, t('violations.title')), el('p', { class: 'muted' }, t('violations.intro')),
            el('section', { class: 'card' }, form), out);

        async function load(username) {
            put(out, el('p', { class: 'muted', role: 'status' }, t('violations.loading')));
            try {
                const res = await ctx.api('GET', '/v1/violations' + qs({ username }));
                put(out, ...draw(res.violations || [], username));
            } catch (e) {
                put(out, errorNote(ctx, e));
            }
        }

        const isHr = ctx.me.role === 'hr';
        let courses = null;
        async function courseSelect() {
            if (!courses) courses = ((await ctx.api('GET', '/v1/training/courses' + qs({ lang: document.documentElement.lang === 'en' ? 'en' : 'zh-CN' }))).courses || []);
            return el('select', { name: 'course', required: true },
                courses.map((c) => el('option', { value: c.id }, (c.title || c.id) + ' (' + c.id + ')')));
        }

        // "Send to training": a remedial course for the person, tied to the rule of their latest
        // violation; blocking (the default) cuts their customer access until they pass.
        function remedialCell(g) {
            const box = el('div', { class: 'remedial-cell' });
            box.appendChild(el('button', { type: 'button', 'data-action': 'remedial', 'on:click': async () => {
                let sel;
                try { sel = await courseSelect(); } catch (e) { put(box, errorNote(ctx, e)); return; }
                const blocking = el('input', { name: 'blocking', type: 'checkbox', checked: true });
                confirmBox(ctx, box, {
                    name: 'remedial', question: t('violations.remedial_q', { user: g.key }), yes: t('violations.remedial_yes'),
                    fields: [[t('violations.f.course'), sel], [t('violations.f.blocking'), blocking, t('violations.f.blocking_hint')]],
                    run: async () => {
                        await ctx.api('POST', '/v1/training/remedial', {
                            username: g.key, course: sel.value, blocking: blocking.checked, violation: [...g.rules][0] || undefined });
                        ctx.toast(t('violations.remedial_done', { user: g.key }), 'ok');
                    },
                });
            } }, t('violations.remedial')));
            return box;
        }

        function remedialList(username) {
            const sec = el('section', { class: 'card', 'data-section': 'remedial' }, el('h2', {}, t('violations.remedial_open', { user: username })),
                el('p', { class: 'muted', role: 'status' }, t('violations.loading')));
            ctx.api('GET', '/v1/training/remedial' + qs({ username, open: 1 })).then((res) => {
                const rows = res.remedial || [];
                put(sec, el('h2', {}, t('violations.remedial_open', { user: username })), rows.length === 0
                    ? el('p', { class: 'empty', 'data-state': 'no-remedial' }, t('violations.remedial_none'))
                    : table(el, [
                        { key: 'course', label: t('violations.f.course') },
                        { key: 'source', label: t('violations.c.source') },
                        { key: 'blocking', label: t('violations.f.blocking'), cell: (r) => r.blocking ? t('violations.yes') : t('violations.no') },
                        { key: 'assigned_at', label: t('violations.c.assigned'), cell: (r) => ctx.fmt.dateTime(r.assigned_at) },
                        { key: 'assigned_by', label: t('violations.c.assigned_by') },
                    ], rows, { label: t('violations.remedial_open', { user: username }), idOf: (r) => r.id }));
            }, (e) => put(sec, errorNote(ctx, e)));
            return sec;
        }

        function draw(rows, username) {
            if (rows.length === 0) {
                return [el('section', { class: 'card' }, el('p', { class: 'empty', 'data-state': 'empty' }, t('violations.none')))];
            }
            const b = dayBuckets(DAYS);
            const denied = new Array(DAYS).fill(0);
            const finding = new Array(DAYS).fill(0);
            for (const r of rows) {
                const d = b.dayOf(r.time);
                if (d !== undefined) (r.kind === 'finding' ? finding : denied)[d] += Number(r.count) || 1;
            }
            const trend = lineChart({
                title: username ? t('violations.trend_for', { user: username, days: DAYS }) : t('violations.trend', { days: DAYS }),
                desc: t('violations.trend_desc'), labels: b.labels, xName: t('chart.day'), tableLabel: t('chart.show_numbers'),
                series: [{ name: t('violations.kind.denied'), values: denied }, { name: t('violations.kind.finding'), values: finding }],
            });
            const people = group(rows, (r) => r.username);
            const sections = [el('section', { class: 'card', 'data-section': 'trend' }, trend)];
            sections.push(el('section', { class: 'card', 'data-section': 'per-employee' },
                el('h2', {}, t('violations.per_employee')),
                barChart({
                    title: t('violations.top_people'), desc: t('violations.top_desc'), labels: people.slice(0, 12).map((g) => g.key),
                    xName: t('violations.c.username'), tableLabel: t('chart.show_numbers'), stacked: true,
                    series: [{ name: t('violations.kind.denied'), values: people.slice(0, 12).map((g) => g.denied) },
                        { name: t('violations.kind.finding'), values: people.slice(0, 12).map((g) => g.finding) }],
                }),
                table(el, [
                    { key: 'key', label: t('violations.c.username'), cell: (g) => el('button', { type: 'button', class: 'link', 'data-action': 'person', 'on:click': () => { user.value = g.key; load(g.key); } }, g.key) },
                    { key: 'denied', label: t('violations.kind.denied'), class: 'num' },
                    { key: 'finding', label: t('violations.kind.finding'), class: 'num' },
                    { key: 'rules', label: t('violations.c.rules'), cell: (g) => [...g.rules].join(', ') },
                    { key: 'last', label: t('violations.c.last'), cell: (g) => ctx.fmt.dateTime(g.last) },
                    ...(isHr ? [{ key: 'remedial', label: t('violations.c.remedial'), cell: (g) => remedialCell(g) }] : []),
                ], people, { label: t('violations.per_employee'), idOf: (g) => g.key })));
            if (isHr && username) sections.push(remedialList(username));
            if (rows.some((r) => r.department)) {
                const depts = group(rows, (r) => r.department);
                sections.push(el('section', { class: 'card', 'data-section': 'per-department' },
                    el('h2', {}, t('violations.per_department')),
                    table(el, [
                        { key: 'key', label: t('violations.c.department') },
                        { key: 'denied', label: t('violations.kind.denied'), class: 'num' },
                        { key: 'finding', label: t('violations.kind.finding'), class: 'num' },
                        { key: 'last', label: t('violations.c.last'), cell: (g) => ctx.fmt.dateTime(g.last) },
                    ], depts, { label: t('violations.per_department'), idOf: (g) => g.key })));
            }
            const canOpen = AUDIT_ROLES.includes(ctx.me.role);
            sections.push(el('section', { class: 'card', 'data-section': 'register' },
                el('h2', {}, t('violations.register')),
                table(el, [
                    { key: 'username', label: t('violations.c.username'), cell: (r) => el('span', {}, r.username, r.department ? el('div', { class: 'muted small' }, r.department) : null) },
                    { key: 'kind', label: t('violations.c.kind'), cell: (r) => el('span', { class: 'badge ' + (r.kind === 'finding' ? 'danger' : 'warn') }, t('violations.kind.' + (r.kind === 'finding' ? 'finding' : 'denied'))) },
                    { key: 'rule', label: t('violations.c.rule') },
                    { key: 'detail', label: t('violations.c.detail'), cell: (r) => el('span', { class: 'small' }, r.detail || '') },
                    { key: 'count', label: t('violations.c.count'), class: 'num' },
                    { key: 'time', label: t('violations.c.when'), cell: (r) => el('span', { class: 'small' }, ctx.fmt.dateTime(r.first), r.first !== r.time ? [el('br'), ctx.fmt.dateTime(r.time)] : null) },
                    { key: 'evidence', label: t('violations.c.evidence'), cell: (r) => r.evidence === null || r.evidence === undefined ? '—'
                        : canOpen ? el('a', { href: '#/audit/entry/' + r.evidence, 'data-evidence': r.evidence }, '#' + r.evidence) : el('span', { 'data-evidence': r.evidence }, '#' + r.evidence) },
                ], rows, { label: t('violations.register') })));
            return sections;
        }

        await load('');
    },
};
