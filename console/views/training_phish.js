// training_phish.js - the phishing parts of the training views: the employee's "report a
// suspicious mail" button (POST /v1/phish/report, with the mail's link when there is one) and
// their own practice mails (GET /v1/phish/mine); for HR and stewards, each campaign's figures
// per department (GET /v1/phish/campaigns, /v1/phish/campaigns/{id}/metrics) with a chart.
import { put, table, errorNote, labelled } from '../lib/chart_ui.js';
import { barChart } from '../lib/chart.js';

const enc = encodeURIComponent;

// Seconds as "1 h 5 min", "3 min 20 s", "12 s" (language-neutral units, translated by t).
export function duration(s, t = (k, v) => `${v.n}${k.slice(-1)}`) {
    if (s === null || s === undefined || !(s >= 0)) return '—';
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = Math.floor(s % 60);
    if (h) return [t('phish.unit.h', { n: h }), m ? t('phish.unit.min', { n: m }) : ''].filter(Boolean).join(' ');
    if (m) return [t('phish.unit.min', { n: m }), sec ? t('phish.unit.s', { n: sec }) : ''].filter(Boolean).join(' ');
    return t('phish.unit.s', { n: sec });
}

// A campaign's departments ({name: figures}) as rows, the most phish-prone first.
export function departmentRows(metrics) {
    const d = (metrics && metrics.departments) || {};
    return Object.keys(d).map((k) => ({ department: k, ...d[k] }))
        .sort((a, b) => (b.phish_prone_pct || 0) - (a.phish_prone_pct || 0) || a.department.localeCompare(b.department));
}

// What happened to one of my practice mails, worst first: submitted, clicked, reported, opened.
export function mailOutcome(m) {
    if (m.submitted_at) return 'submitted';
    if (m.clicked_at) return 'clicked';
    if (m.reported_at) return 'reported';
    if (m.opened_at) return 'opened';
    return 'delivered';
}
const OUTCOME_BADGE = { submitted: 'danger', clicked: 'danger', reported: 'ok', opened: 'warn', delivered: '' };

// The employee's report button, and what to do with a suspicious mail.
export function reportSection(ctx) {
    const { el, t } = ctx;
    const link = el('input', { name: 'link', type: 'text', autocomplete: 'off', maxlength: 2000, inputmode: 'url' });
    const msg = el('div', { 'aria-live': 'polite' });
    const btn = el('button', { type: 'submit', class: 'primary', 'data-action': 'report-phish' }, t('phish.report.button'));
    const form = el('form', { 'data-form': 'report-phish' },
        labelled(el, t('phish.report.link'), link, t('phish.report.link_hint')),
        el('div', { class: 'actions' }, btn), msg);
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        btn.disabled = true;
        btn.setAttribute('aria-busy', 'true');
        try {
            const v = link.value.trim();
            const r = await ctx.api('POST', '/v1/phish/report', v ? { link: v } : {});
            put(msg, el('div', { class: 'notice ok', role: 'status', 'data-state': r.simulation ? 'reported-simulation' : 'reported' },
                t(r.simulation ? 'phish.report.simulation' : 'phish.report.thanks')));
            link.value = '';
        } catch (e) {
            put(msg, errorNote(ctx, e));
        } finally {
            btn.disabled = false;
            btn.removeAttribute('aria-busy');
        }
    });
    return el('section', { class: 'card', 'data-section': 'report-phishing' },
        el('h2', {}, t('training.report.title')),
        el('p', {}, t('training.report.text')),
        el('ol', {}, el('li', {}, t('training.report.step1')), el('li', {}, t('phish.report.step2')), el('li', {}, t('training.report.step3'))),
        form);
}

// My practice mails (only mine: the route names no account).
export function mineSection(ctx, mails) {
    const { el, t } = ctx;
    if (!mails || !mails.length) return null;
    return el('section', { class: 'card', 'data-section': 'my-phishing' },
        el('h2', {}, t('phish.mine.title')),
        el('p', { class: 'muted' }, t('phish.mine.intro')),
        table(el, [
            { key: 'delivered_at', label: t('phish.c.delivered'), cell: (m) => ctx.fmt.dateTime(m.delivered_at) },
            { key: 'outcome', label: t('phish.c.outcome'), cell: (m) => { const o = mailOutcome(m); return el('span', { class: 'badge ' + OUTCOME_BADGE[o] }, t('phish.outcome.' + o)); } },
            { key: 'reported_at', label: t('phish.c.reported'), cell: (m) => (m.reported_at ? ctx.fmt.dateTime(m.reported_at) : '—') },
            { key: 'remedial', label: t('phish.c.remedial'), cell: (m) => t(m.remedial_assigned ? 'phish.yes' : 'phish.no') },
        ], mails, { label: t('phish.mine.title'), idOf: (m) => m.campaign }));
}

// HR and stewards: the campaigns and one campaign's figures per department.
export async function campaignsSection(ctx) {
    const { el, t } = ctx;
    const box = el('section', { class: 'card', 'data-section': 'campaigns' }, el('h2', {}, t('phish.campaigns')));
    let list;
    try {
        list = (await ctx.api('GET', '/v1/phish/campaigns')).campaigns || [];
    } catch (e) {
        box.append(errorNote(ctx, e));
        return box;
    }
    if (!list.length) {
        box.append(el('p', { class: 'empty', 'data-state': 'empty' }, t('phish.no_campaigns')));
        return box;
    }
    list.sort((a, b) => String(b.starts_at || '').localeCompare(String(a.starts_at || '')));
    const select = el('select', { name: 'campaign' }, list.map((c) => el('option', { value: c.id }, `${c.name} (${(c.starts_at || '').slice(0, 10)})`)));
    const out = el('div');
    box.append(labelled(el, t('phish.campaign'), select), out);
    async function show(id) {
        out.setAttribute('aria-busy', 'true');
        try {
            const m = await ctx.api('GET', `/v1/phish/campaigns/${enc(id)}/metrics`);
            const tot = m.totals || {};
            const rows = departmentRows(m);
            const pc = (x) => (typeof x === 'number' ? Math.round(x * 10) / 10 + '%' : '—');
            put(out,
                el('p', { class: 'muted' }, t('phish.window', { from: ctx.fmt.dateTime(m.campaign.starts_at), to: ctx.fmt.dateTime(m.campaign.ends_at) })),
                el('div', { class: 'tiles', 'data-campaign': id },
                    ...[['delivered', String(tot.delivered ?? 0)], ['prone', pc(tot.phish_prone_pct)], ['report_rate', pc(tot.report_rate_pct)],
                        ['median_report', duration(tot.median_report_s, t)], ['repeat', String(tot.repeat_clickers ?? 0)]]
                        .map(([k, v]) => el('div', { class: 'tile', 'data-tile': 'phish-' + k }, el('div', { class: 'tile-value' }, v), el('div', { class: 'tile-label' }, t('phish.tile.' + k))))),
                m.filtered !== undefined ? el('p', { class: 'hint' }, t('phish.filtered', { n: m.filtered })) : null,
                rows.length ? barChart({
                    title: t('phish.chart'), desc: t('phish.chart_desc'), labels: rows.map((r) => r.department), xName: t('trainrep.c.department'),
                    tableLabel: t('trainrep.numbers'), legend: true,
                    series: [{ name: t('phish.c.prone'), values: rows.map((r) => Math.round(r.phish_prone_pct || 0)), color: '#a4262c' },
                        { name: t('phish.c.report_rate'), values: rows.map((r) => Math.round(r.report_rate_pct || 0)), color: '#1e6b3a' }],
                }) : null,
                table(el, [
                    { key: 'department', label: t('trainrep.c.department') },
                    { key: 'delivered', label: t('phish.c.delivered_n'), class: 'num' },
                    { key: 'opened', label: t('phish.c.opened'), class: 'num' },
                    { key: 'clicked', label: t('phish.c.clicked'), class: 'num' },
                    { key: 'submitted', label: t('phish.c.submitted'), class: 'num' },
                    { key: 'reported', label: t('phish.c.reported_n'), class: 'num' },
                    { key: 'phish_prone_pct', label: t('phish.c.prone'), class: 'num', cell: (r) => pc(r.phish_prone_pct) },
                    { key: 'report_rate_pct', label: t('phish.c.report_rate'), class: 'num', cell: (r) => pc(r.report_rate_pct) },
                    { key: 'median_report_s', label: t('phish.c.median'), class: 'num', cell: (r) => duration(r.median_report_s, t) },
                    { key: 'repeat_clickers', label: t('phish.c.repeat'), class: 'num' },
                ], rows, { label: t('phish.campaigns'), idOf: (r) => r.department }));
        } catch (e) {
            put(out, errorNote(ctx, e));
        } finally {
            out.removeAttribute('aria-busy');
        }
    }
    select.addEventListener('change', () => show(select.value));
    await show(select.value);
    return box;
}
