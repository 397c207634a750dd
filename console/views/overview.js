// overview.js - a dashboard per role, its charts drawn here as SVG from the API's numbers:
// accesses to customer data per day by department and refusals per day (GET /v1/stats/activity,
// all departments for the audit roles and security, a data steward's own department), alerts
// over time by severity (GET /v1/alerts, as routed to the role), the violation trend (HR), open
// requests (GET /v1/requests), and training coverage by department where the account list is
// readable (admin). A panel whose route the role may not use is left out, never shown empty.
import { put, errorNote, qs, useWatchStyles } from '../lib/chart_ui.js';
import { lineChart, barChart, dayBuckets, PALETTE } from '../lib/chart.js';

const DAYS = 14;

const PANELS = {
    activity: ['security', 'auditor', 'legal', 'data_steward'],
    alerts: ['security', 'data_steward', 'hr'],
    violations: ['hr', 'security'],
    requests: ['sales', 'customer_service', 'data_steward', 'security', 'admin'],
    training: ['admin'],
};

const has = (me, panel) => PANELS[panel].includes(me.role);

function tile(ctx, key, value, extra) {
    const { el, t } = ctx;
    return el('div', { class: 'tile', 'data-tile': key }, el('div', { class: 'tile-value' }, String(value)), el('div', { class: 'tile-label' }, t('overview.tile.' + key)), extra || null);
}

export default {
    name: 'overview',
    titleKey: 'overview.title',
    visible: (me) => !!me && !!me.role,
    async render(root, ctx) {
        useWatchStyles();
        const { el, t, me } = ctx;
        const tiles = el('div', { class: 'tiles' });
        const grid = el('div', { class: 'charts' });
        root.append(el('h1', {}, t('overview.title')), el('p', { class: 'muted' }, t('overview.intro.' + me.role)), tiles, grid);
        const b = dayBuckets(DAYS);
        const since = new Date(Date.now() - DAYS * 86400000).toISOString().replace(/\.\d{3}Z$/, 'Z');
        const card = (key, ...kids) => el('section', { class: 'card chart-card', 'data-panel': key }, ...kids);
        const jobs = [];

        if (has(me, 'activity')) {
            jobs.push((async () => {
                try {
                    const s = await ctx.api('GET', '/v1/stats/activity' + qs({ days: DAYS }));
                    const labels = (s.days || []).map((d) => d.slice(5));
                    const depts = Object.keys(s.accesses || {}).sort();
                    const total = depts.reduce((a, d) => a + s.accesses[d].reduce((x, y) => x + y, 0), 0);
                    tiles.appendChild(tile(ctx, 'accesses', total));
                    grid.appendChild(card('accesses', barChart({
                        title: t('overview.accesses', { days: labels.length }), desc: t('overview.accesses_desc'), labels, stacked: true, legend: true,
                        xName: t('chart.day'), tableLabel: t('chart.show_numbers'),
                        series: depts.length ? depts.map((d, i) => ({ name: d, values: s.accesses[d], color: PALETTE[i % PALETTE.length] })) : [{ name: t('overview.none'), values: labels.map(() => 0) }],
                    }), s.truncated ? el('p', { class: 'notice warn small' }, t('overview.truncated')) : null));
                    grid.appendChild(card('denials', lineChart({
                        title: t('overview.denials', { days: labels.length }), desc: t('overview.denials_desc'), labels,
                        xName: t('chart.day'), tableLabel: t('chart.show_numbers'),
                        series: [{ name: t('overview.denied'), values: s.denied || [], color: PALETTE[1] }],
                    })));
                } catch (e) {
                    if (e && (e.status === 403 || e.status === 404)) return; // not this role's, or an older server
                    grid.appendChild(card('accesses', errorNote(ctx, e)));
                }
            })());
        }

        if (has(me, 'alerts')) {
            jobs.push((async () => {
                try {
                    const res = await ctx.api('GET', '/v1/alerts' + qs({ since, limit: 1000 }));
                    const list = res.alerts || [];
                    const sev = ['critical', 'high', 'medium', 'low'];
                    const per = Object.fromEntries(sev.map((x) => [x, new Array(DAYS).fill(0)]));
                    for (const a of list) {
                        const d = b.dayOf(a.first_seen);
                        if (d !== undefined && per[a.severity]) per[a.severity][d] += 1;
                    }
                    tiles.appendChild(tile(ctx, 'open_alerts', list.filter((a) => a.status === 'open').length));
                    grid.appendChild(card('alerts', barChart({
                        title: t('overview.alerts', { days: DAYS }), desc: t('overview.alerts_desc'), labels: b.labels, stacked: true,
                        xName: t('chart.day'), tableLabel: t('chart.show_numbers'),
                        series: sev.map((x, i) => ({ name: t('alerts.severity.' + x), values: per[x], color: ['#7d1c21', '#a4262c', '#7a4b00', '#4a5565'][i] })),
                    })));
                } catch (e) {
                    if (e && e.status === 403) return;
                    grid.appendChild(card('alerts', errorNote(ctx, e)));
                }
            })());
        }

        if (has(me, 'violations')) {
            jobs.push((async () => {
                try {
                    const res = await ctx.api('GET', '/v1/violations');
                    const denied = new Array(DAYS).fill(0);
                    const finding = new Array(DAYS).fill(0);
                    for (const r of res.violations || []) {
                        const d = b.dayOf(r.time);
                        if (d !== undefined) (r.kind === 'finding' ? finding : denied)[d] += Number(r.count) || 1;
                    }
                    tiles.appendChild(tile(ctx, 'violations', denied.concat(finding).reduce((a, x) => a + x, 0)));
                    grid.appendChild(card('violations', lineChart({
                        title: t('violations.trend', { days: DAYS }), desc: t('violations.trend_desc'), labels: b.labels,
                        xName: t('chart.day'), tableLabel: t('chart.show_numbers'),
                        series: [{ name: t('violations.kind.denied'), values: denied }, { name: t('violations.kind.finding'), values: finding }],
                    })));
                } catch (e) {
                    if (e && e.status === 403) return;
                    grid.appendChild(card('violations', errorNote(ctx, e)));
                }
            })());
        }

        if (has(me, 'requests')) {
            jobs.push((async () => {
                try {
                    const res = await ctx.api('GET', '/v1/requests' + qs({ status: 'pending' }));
                    const list = res.requests || [];
                    const kinds = {};
                    for (const r of list) kinds[r.kind || 'change'] = (kinds[r.kind || 'change'] || 0) + 1;
                    const keys = Object.keys(kinds).sort();
                    tiles.appendChild(tile(ctx, 'open_requests', list.length, me.role === 'data_steward' || me.role === 'customer_service'
                        ? el('a', { href: '#/requests', class: 'small' }, t('overview.to_requests')) : null));
                    if (keys.length) {
                        grid.appendChild(card('requests', barChart({
                            title: t('overview.requests'), desc: t('overview.requests_desc'), labels: keys.map((k) => t('overview.kind.' + k)),
                            xName: t('overview.kind'), tableLabel: t('chart.show_numbers'),
                            series: [{ name: t('overview.open'), values: keys.map((k) => kinds[k]) }],
                        })));
                    }
                } catch (e) {
                    if (e && e.status === 403) return;
                    grid.appendChild(card('requests', errorNote(ctx, e)));
                }
            })());
        }

        if (has(me, 'training')) {
            jobs.push((async () => {
                try {
                    const res = await ctx.api('GET', '/v1/accounts');
                    const per = {};
                    for (const a of res.accounts || []) {
                        if (a.disabled) continue;
                        const d = a.department || '—';
                        per[d] = per[d] || { ok: 0, lapsed: 0 };
                        per[d][a.training_current ? 'ok' : 'lapsed'] += 1;
                    }
                    const depts = Object.keys(per).sort();
                    const ok = depts.reduce((x, d) => x + per[d].ok, 0);
                    const all = depts.reduce((x, d) => x + per[d].ok + per[d].lapsed, 0);
                    tiles.appendChild(tile(ctx, 'training', all ? Math.round((100 * ok) / all) + '%' : '—'));
                    grid.appendChild(card('training', barChart({
                        title: t('overview.training'), desc: t('overview.training_desc'), labels: depts, stacked: true,
                        xName: t('overview.department'), tableLabel: t('chart.show_numbers'),
                        series: [{ name: t('overview.trained'), values: depts.map((d) => per[d].ok), color: PALETTE[2] },
                            { name: t('overview.lapsed'), values: depts.map((d) => per[d].lapsed), color: PALETTE[1] }],
                    })));
                } catch (e) {
                    if (e && e.status === 403) return;
                    grid.appendChild(card('training', errorNote(ctx, e)));
                }
            })());
        }

        await Promise.all(jobs);
        if (!tiles.firstChild && !grid.firstChild) {
            grid.appendChild(el('p', { class: 'muted', 'data-state': 'empty' }, t('overview.nothing')));
        }
    },
};
