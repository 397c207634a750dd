// incidents.js - the incident board: the open incidents (phase, severity, owner, late tasks) as
// a live list refreshed every few seconds like the alerts view, opening an incident by hand or
// from an alert (#/incidents/new/<alert id>), the drill button and the drill history with its
// timings; #/incidents/<id> is one incident (incidents_detail.js). Shown to security, legal,
// data stewards, customer service and auditors (read-only); sales, admin and HR never see it.
import { put, errorNote, poll, qs, values, labelled, useWatchStyles } from '../lib/chart_ui.js';
import * as M from './incidents_model.js';
import { renderDetail, useIncidentStyles, phaseBadge, sevBadge, itable } from './incidents_detail.js';
import { drillsSection } from './incidents_drills.js';

export const REFRESH_MS = 5000;

export default {
    name: 'incidents',
    titleKey: 'inc.title',
    visible: M.visible,
    async render(root, ctx) {
        useWatchStyles();
        useIncidentStyles();
        const [first, second] = ctx.params || [];
        if (first && first !== 'new') return renderDetail(root, ctx, first);
        return renderBoard(root, ctx, first === 'new' ? second || '' : null);
    },
};

// The list names an incident by its playbook, in the language shown (its stored title is one).
function playbookTitle(ctx, i) {
    return M.PLAYBOOKS.includes(i.playbook) ? ctx.t('inc.playbook.' + i.playbook) : M.titleOf(i, document.documentElement.lang, i.id);
}

async function renderBoard(root, ctx, fromAlert) {
    const { el, t, me } = ctx;
    const state = { filter: { state: 'open', drill: '0' }, sig: '', list: [] };
    const status = el('p', { class: 'muted small live-status', role: 'status', 'aria-live': 'polite' });
    const listBox = el('div', { class: 'incidents-list' });
    const errBox = el('div');

    const stateSel = el('select', { name: 'state' }, ['open', 'closed', 'all'].map((s) => el('option', { value: s }, t('inc.state.' + s))));
    const drillSel = el('select', { name: 'drill' }, el('option', { value: '0' }, t('inc.f.real')), el('option', { value: '1' }, t('inc.f.drills')));
    const filterForm = el('form', { class: 'row filters', 'aria-label': t('inc.filters') },
        labelled(el, t('inc.f.state'), stateSel), labelled(el, t('inc.f.kind'), drillSel),
        el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'filter' }, t('inc.apply'))));
    filterForm.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const v = values(filterForm);
        state.filter = { state: v.state || 'open', drill: v.drill || '0' };
        state.sig = '';
        load();
    });

    root.append(
        el('div', { class: 'row view-head' }, el('h1', {}, t('inc.title')), el('div', { class: 'spacer' }),
            el('button', { type: 'button', 'data-action': 'refresh', 'on:click': () => load() }, t('inc.refresh'))),
        el('p', { class: 'muted' }, t('inc.intro.' + me.role)));
    if (M.can(me, 'open')) root.appendChild(openSection(ctx, fromAlert));
    root.appendChild(el('section', { class: 'card', 'aria-labelledby': 'inc-list-h', 'data-section': 'incidents' },
        el('h2', { id: 'inc-list-h' }, t('inc.list')), filterForm, status, errBox, listBox));

    function showStatus() {
        status.textContent = t('inc.live', { time: state.updated ? ctx.fmt.dateTime(state.updated) : '—', seconds: REFRESH_MS / 1000 });
    }

    function draw() {
        if (listBox.contains(document.activeElement) && document.activeElement !== document.body) return false;
        const now = Date.now();
        const rows = state.list;
        put(listBox, rows.length === 0 ? el('p', { class: 'empty', 'data-state': 'empty' }, t('inc.none')) : itable(el, [
            { key: 'title', label: t('inc.c.incident'), cell: (i) => el('span', {},
                el('a', { href: '#/incidents/' + encodeURIComponent(i.id), 'data-action': 'open-incident' }, playbookTitle(ctx, i)),
                i.drill ? el('span', { class: 'badge warn drill-mark', 'data-drill': '1' }, t('inc.drill_mark')) : null,
                el('div', { class: 'muted small mono' }, i.id)) },
            { key: 'severity', label: t('inc.c.severity'), cell: (i) => sevBadge(ctx, i.severity) },
            { key: 'phase', label: t('inc.c.phase'), cell: (i) => phaseBadge(ctx, i.phase) },
            { key: 'owner', label: t('inc.c.owner'), cell: (i) => i.owner || el('span', { class: 'muted' }, t('inc.no_owner')) },
            { key: 'aware', label: t('inc.c.aware'), cell: (i) => el('span', { class: 'small' }, ctx.fmt.dateTime(M.field(i, 'aware')), el('br'), el('span', { class: 'muted' }, t('inc.ago', { d: M.fmtDuration((now - (M.field(i, 'aware') || now)) / 1000, t) }))) },
            { key: 'late', label: t('inc.c.late'), class: 'num', cell: (i) => {
                const n = M.lateCount(i, now);
                return n ? el('span', { class: 'badge danger', 'data-late': String(n) }, t('inc.late_n', { n })) : el('span', { class: 'muted', 'data-late': '0' }, '0');
            } },
            { key: 'source_alert', label: t('inc.c.alert'), cell: (i) => i.source_alert ? el('span', { class: 'mono small' }, i.source_alert) : el('span', { class: 'muted' }, '—') },
        ], rows, { label: t('inc.list'), rowClass: (i) => (M.lateCount(i, now) ? 'late' : null) }));
        return true;
    }

    async function load() {
        try {
            const res = await ctx.api('GET', '/v1/incidents' + qs(state.filter));
            put(errBox);
            const list = (res && res.incidents) || [];
            state.updated = new Date();
            const sig = M.signature(list);
            if (sig !== state.sig) {
                const prev = state.list;
                state.list = list;
                if (draw()) state.sig = sig; else state.list = prev;
            }
            showStatus();
        } catch (e) {
            if (e && e.status === 401) { poller.stop(); return; }
            put(errBox, errorNote(ctx, e));
        }
    }

    const poller = poll(root, REFRESH_MS, load);
    await load();
    if (M.can(me, 'drills')) await drillsSection(ctx, root);
}

// Opening an incident: the playbook, severity, when the company became aware, and the alert it
// comes from (filled in when the board is opened from an alert). A confirmation step first.
function openSection(ctx, fromAlert) {
    const { el, t } = ctx;
    const playbook = el('select', { name: 'playbook', required: true }, M.PLAYBOOKS.map((p) => el('option', { value: p }, t('inc.playbook.' + p))));
    const severity = el('select', { name: 'severity' }, el('option', { value: '' }, t('inc.sev_default')),
        M.SEVERITIES.map((s) => el('option', { value: s }, t('inc.severity.' + s))));
    const alert = el('input', { name: 'alert', type: 'text', autocomplete: 'off', maxlength: 40, value: fromAlert || '' });
    const note = el('input', { name: 'note', type: 'text', autocomplete: 'off', maxlength: 500 });
    // The regulators' clocks depend on these: 1 hour for critical infrastructure (CAC), GDPR's
    // 72 hours when people in Europe are concerned.
    const check = (name, label) => {
        const box = el('input', { type: 'checkbox', name, id: 'inc-open-' + name });
        return el('div', { class: 'field check' }, box, el('label', { for: 'inc-open-' + name }, label));
    };
    const err = el('div');
    const confirmBox = el('div');
    const form = el('form', { class: 'row', 'data-form': 'open-incident' },
        labelled(el, t('inc.f.playbook'), playbook), labelled(el, t('inc.f.severity'), severity),
        labelled(el, t('inc.f.alert'), alert, t('inc.f.alert_hint')), labelled(el, t('inc.f.note'), note),
        check('critical_infrastructure', t('inc.f.cii')), check('eu_people', t('inc.f.eu')),
        el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'open' }, t('inc.open'))));
    form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const v = values(form);
        v.critical_infrastructure = form.elements.critical_infrastructure.checked;
        v.eu_people = form.elements.eu_people.checked;
        put(confirmBox, el('div', { class: 'inline-form', 'data-form': 'confirm-open', role: 'group', 'aria-label': t('inc.open_confirm_q') },
            el('p', {}, t(v.alert ? 'inc.open_confirm_alert' : 'inc.open_confirm', { playbook: t('inc.playbook.' + v.playbook), alert: v.alert || '' })),
            el('div', { class: 'actions' },
                el('button', { type: 'button', class: 'primary', 'data-action': 'confirm-open', 'on:click': (e2) => go(v, e2.currentTarget) }, t('inc.open_confirm_yes')),
                el('button', { type: 'button', 'data-action': 'cancel', 'on:click': () => put(confirmBox) }, t('inc.cancel')))));
        confirmBox.querySelector('[data-action="confirm-open"]').focus();
    });
    async function go(v, btn) {
        btn.disabled = true;
        confirmBox.setAttribute('aria-busy', 'true');
        try {
            const body = { playbook: v.playbook };
            if (v.severity) body.severity = v.severity;
            if (v.alert) body.alert = v.alert;
            if (v.note) body.note = v.note;
            if (v.critical_infrastructure) body.critical_infrastructure = true;
            if (v.eu_people) body.eu_people = true;
            const inc = await ctx.api('POST', '/v1/incidents', body);
            ctx.toast(t('inc.opened', { id: inc && inc.id }), 'ok');
            ctx.navigate('#/incidents/' + encodeURIComponent(inc.id));
        } catch (e) {
            btn.disabled = false;
            confirmBox.removeAttribute('aria-busy');
            put(err, errorNote(ctx, e));
        }
    }
    const sec = el('section', { class: 'card', 'aria-labelledby': 'inc-open-h', 'data-section': 'open-incident' },
        el('h2', { id: 'inc-open-h' }, t('inc.open_title')),
        fromAlert ? el('p', { class: 'notice', 'data-state': 'from-alert' }, t('inc.from_alert', { alert: fromAlert })) : el('p', { class: 'muted' }, t('inc.open_intro')),
        form, confirmBox, err);
    if (fromAlert) queueMicrotask(() => playbook.focus());
    return sec;
}
