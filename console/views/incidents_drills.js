// incidents_drills.js - the drill button (security: a synthetic breach on the live system, marked
// as a drill everywhere, confirmed first) and the drill history: each drill's timings (to detect,
// acknowledge, decide, contain, the evidence, notices and report ready) and hand-offs, compared
// over time as a table and a chart, with the after-action report in both languages.
import { put, errorNote, poll } from '../lib/chart_ui.js';
import { lineChart } from '../lib/chart.js';
import * as M from './incidents_model.js';
import { confirmBox, itable } from './incidents_detail.js';

export function timingLabel(t, key) {
    const s = t('inc.timing.' + key);
    return s.startsWith('\u27e6') ? key : s;
}

export async function drillsSection(ctx, root) {
    const { el, t, me } = ctx;
    const err = el('div');
    const box = el('div');
    const startBox = el('div');
    const sec = el('section', { class: 'card', 'aria-labelledby': 'inc-drills-h', 'data-section': 'drills' },
        el('div', { class: 'row' }, el('h2', { id: 'inc-drills-h' }, t('inc.drills')), el('div', { class: 'spacer' }),
            el('button', { type: 'button', 'data-action': 'refresh-drills', 'on:click': () => load() }, t('inc.refresh'))), el('p', { class: 'muted small' }, t('inc.drills_intro')), startBox, err, box);
    root.appendChild(sec);

    if (M.can(me, 'drill')) {
        startBox.appendChild(el('button', { type: 'button', class: 'primary', 'data-action': 'drill', 'on:click': () => {
            const pb = el('select', { name: 'playbook' }, M.PLAYBOOKS.map((p) => el('option', { value: p }, t('inc.playbook.' + p))));
            confirmBox(ctx, startBox, {
                name: 'drill', question: t('inc.drill_q'), yes: t('inc.drill_yes'), fields: [[t('inc.f.playbook'), pb, t('inc.drill_hint')]],
                run: async (v) => {
                    const r = await ctx.api('POST', '/v1/drills', { playbook: v.playbook });
                    ctx.toast(t('inc.drill_started', { id: (r && (r.drill && (r.drill.id || r.drill))) || '' }), 'ok');
                    running = true;
                    await load();
                },
            });
        } }, t('inc.drill_start')));
    }

    function reportLinks(d) {
        return el('div', { class: 'downloads' }, M.LANGS.map((l) => el('div', { class: 'dl-lang' },
            el('span', { class: 'muted small' }, t('inc.lang.' + l) + ': '),
            ['text', 'html', 'pdf'].map((f) => el('a', {
                href: `/v1/drills/${encodeURIComponent(d.id)}/report?lang=${encodeURIComponent(l)}&format=${f}`,
                download: `drill-${d.id}-${l}.${f === 'text' ? 'txt' : f}`, 'data-action': 'drill-report', 'data-lang': l, 'data-format': f,
            }, t('inc.format.' + f), el('span', { class: 'sr-only' }, t('inc.drill_report_what', { id: d.id, lang: t('inc.lang.' + l) })))))));
    }

    const teamOr = (team, task) => (M.TEAMS.includes(team) ? t('inc.team.' + team) + (task ? ' · ' + task : '') : task || '');

    function draw(drills) {
        if (drills.length === 0) { put(box, el('p', { class: 'empty', 'data-state': 'no-drills' }, t('inc.no_drills'))); return; }
        const rows = M.timingRows(drills);
        const cols = [
            { key: 'id', label: t('inc.c.drill'), cell: (d) => el('span', {},
                d.incident ? el('a', { href: '#/incidents/' + encodeURIComponent(d.incident), 'data-action': 'open-incident' }, d.id) : d.id,
                el('div', { class: 'muted small' }, ctx.fmt.dateTime(M.field(d, 'started'))),
                d.state ? el('span', { class: 'badge ' + (d.state === 'contained' ? 'ok' : d.state === 'failed' ? 'danger' : 'warn'), 'data-drill-state': d.state },
                    ['running', 'contained', 'failed'].includes(d.state) ? t('inc.drill_state.' + d.state) : d.state) : null) },
            ...rows.map((r) => ({ key: r.key, label: timingLabel(t, r.key), class: 'num', cell: (d) => {
                const v = d.timings && d.timings[r.key];
                return typeof v === 'number' ? M.fmtDuration(v, t) : el('span', { class: 'muted' }, '—');
            } })),
            { key: 'handoffs', label: t('inc.c.handoffs'), cell: (d) => {
                const hs = Array.isArray(d.handoffs) ? d.handoffs : [];
                return hs.length ? el('ul', { class: 'handoffs' }, hs.map((h) => el('li', {},
                    t('inc.handoff', { from: teamOr(h.from_team, h.from), to: teamOr(h.to_team, h.to), d: M.fmtDuration(h.wait_s ?? 0, t) })))) : el('span', { class: 'muted' }, '—');
            } },
            { key: 'report', label: t('inc.c.report'), cell: (d) => reportLinks(d) },
        ];
        // The chart compares drills over time: oldest on the left, minutes per timing.
        const chrono = drills.slice().reverse();
        const chartRows = M.timingRows(chrono);
        const unit = M.chartUnit(chrono);
        put(box,
            itable(el, cols, drills, { label: t('inc.drills') }),
            chrono.length > 0 && chartRows.length ? el('div', { class: 'chart-card', 'data-chart': 'drills' }, lineChart({
                title: t('inc.drill_chart', { unit: t('inc.' + unit.key) }), desc: t('inc.drill_chart_desc'),
                labels: chrono.map((d) => ctx.fmt.date(M.field(d, 'started')) || d.id), xName: t('inc.c.drill'), yLabel: t('inc.' + unit.key),
                tableLabel: t('chart.show_numbers'), legend: true,
                series: chartRows.map((r) => ({ name: timingLabel(t, r.key), values: r.values.map((v) => (v === null ? 0 : Math.round((v / unit.div) * 100) / 100)) })),
            })) : null);
    }

    // While a drill runs, its line follows it (the timings fill in as the teams work).
    let running = false;
    let sig = '';
    async function load() {
        try {
            const list = M.drillList(await ctx.api('GET', '/v1/drills'));
            running = list.some((d) => d.state === 'running');
            put(err);
            const s = M.signature(list);
            if (s !== sig && !(box.contains(document.activeElement) && document.activeElement !== document.body)) { draw(list); sig = s; }
        } catch (e) {
            put(err, errorNote(ctx, e));
        }
    }
    poll(root, 5000, async () => { if (running) await load(); });
    await load();
    return { load };
}
