// incidents_detail.js - one incident (#/incidents/<id>): its phase after NIST SP 800-61 and the
// controls that move it, the regulators' clocks counting down (late in red), the tasks per team
// with due times and who is late (refreshed every few seconds), the one-click containment
// actions (each confirmed first, aimed at the source alert's subject), the scope with its
// per-department chart, the documents (notice preview in both languages, approval, downloads
// as text, HTML and PDF), the evidence bundle, the notes and closing, and the timeline.
import { put, table, errorNote, poll, values, labelled, toRfc3339, confirmBox, useSheet } from '../lib/chart_ui.js';

export { confirmBox };
import { barChart, PALETTE } from '../lib/chart.js';
import * as M from './incidents_model.js';
import { documentsSection, reportsSection } from './incidents_docs.js';

const REFRESH_MS = 5000;
const lang = () => (typeof document !== 'undefined' && document.documentElement.lang) || 'zh-CN';

export function useIncidentStyles() {
    useSheet('incidents');
}

// A table whose wrapper scrolls sideways on a narrow screen: reachable by keyboard, named.
export function itable(el, columns, rows, opts = {}) {
    const w = table(el, columns, rows, opts);
    w.setAttribute('tabindex', '0');
    w.setAttribute('role', 'group'); // not a landmark: its section is the landmark
    if (opts.label) w.setAttribute('aria-label', opts.label);
    return w;
}

export function sevBadge(ctx, sev) {
    const cls = sev === 'critical' || sev === 'high' ? 'danger' : sev === 'medium' ? 'warn' : '';
    return ctx.el('span', { class: 'badge ' + cls, 'data-severity': sev }, M.SEVERITIES.includes(sev) ? ctx.t('inc.severity.' + sev) : String(sev || '—'));
}

export function phaseBadge(ctx, phase) {
    const cls = phase === 'closed' ? 'ok' : phase === 'containment' ? 'danger' : phase === 'detection' ? 'warn' : '';
    return ctx.el('span', { class: 'badge ' + cls, 'data-phase': phase }, M.PHASES.includes(phase) ? ctx.t('inc.phase.' + phase) : String(phase || '—'));
}

// The phases as steps, the current one marked for screen readers too.
function phaseSteps(ctx, phase) {
    const { el, t } = ctx;
    const cur = M.PHASES.indexOf(phase);
    return el('ol', { class: 'phase-steps', 'aria-label': t('inc.phases') },
        M.PHASES.map((p, i) => el('li', { class: i < cur ? 'done' : i === cur ? 'current' : '', 'aria-current': i === cur ? 'step' : null, 'data-phase-step': p },
            el('span', { class: 'step-n', 'aria-hidden': 'true' }, String(i + 1)), t('inc.phase.' + p))));
}

export async function renderDetail(root, ctx, id) {
    const { el, t, me } = ctx;
    const base = '/v1/incidents/' + encodeURIComponent(id);
    const state = { inc: null, sig: '', alert: null };
    const head = el('div');
    const status = el('p', { class: 'muted small live-status', role: 'status', 'aria-live': 'polite' });
    const errBox = el('div');
    const clocksBox = el('div');
    const tasksBox = el('div');
    const timelineBox = el('div');
    const controlsBox = el('div');

    root.append(
        el('p', {}, el('a', { href: '#/incidents', 'data-action': 'back' }, t('inc.back'))),
        head, status, errBox);
    const clocksSec = M.can(me, 'clocks') ? el('section', { class: 'card', 'aria-labelledby': 'inc-clocks-h', 'data-section': 'clocks' },
        el('h2', { id: 'inc-clocks-h' }, t('inc.clocks')), el('p', { class: 'muted small' }, t('inc.clocks_intro')), clocksBox) : null;
    if (clocksSec) root.appendChild(clocksSec);
    root.appendChild(el('section', { class: 'card', 'aria-labelledby': 'inc-tasks-h', 'data-section': 'tasks' },
        el('h2', { id: 'inc-tasks-h' }, t('inc.tasks')), el('p', { class: 'muted small' }, t('inc.tasks_intro')), tasksBox));

    const scopeHost = el('div');
    const docsHost = el('div');
    root.append(scopeHost, docsHost, controlsBox,
        el('section', { class: 'card', 'aria-labelledby': 'inc-tl-h', 'data-section': 'timeline' },
            el('h2', { id: 'inc-tl-h' }, t('inc.timeline')), timelineBox));

    const busy = (box) => box.querySelector('form') || (box.contains(document.activeElement) && document.activeElement !== document.body);

    function drawHead(inc) {
        const title = M.titleOf(inc, lang(), inc.id);
        put(head,
            el('div', { class: 'row view-head' }, el('h1', {}, title), inc.drill ? el('span', { class: 'badge warn drill-mark', 'data-drill': '1' }, t('inc.drill_mark')) : null),
            el('dl', { class: 'inc-facts' },
                el('dt', {}, t('inc.c.id')), el('dd', { class: 'mono' }, inc.id),
                el('dt', {}, t('inc.c.severity')), el('dd', {}, sevBadge(ctx, inc.severity)),
                el('dt', {}, t('inc.c.phase')), el('dd', {}, phaseBadge(ctx, inc.phase)),
                el('dt', {}, t('inc.c.owner')), el('dd', { 'data-field': 'owner' }, inc.owner || t('inc.no_owner')),
                el('dt', {}, t('inc.c.aware')), el('dd', {}, ctx.fmt.dateTime(M.field(inc, 'aware'))),
                el('dt', {}, t('inc.c.opened')), el('dd', {}, ctx.fmt.dateTime(M.field(inc, 'opened'))),
                inc.source_alert ? [el('dt', {}, t('inc.c.alert')), el('dd', { class: 'mono' }, inc.source_alert)] : null,
                inc.closing ? [el('dt', {}, t('inc.c.closing')), el('dd', {}, M.CLOSINGS.includes(inc.closing) ? t('inc.closing.' + inc.closing) : inc.closing)] : null),
            phaseSteps(ctx, inc.phase));
    }

    function drawClocks(inc) {
        if (!clocksSec) return;
        const list = Array.isArray(inc.deadlines) ? inc.deadlines : [];
        if (list.length === 0) { put(clocksBox, el('p', { class: 'empty' }, t('inc.no_clocks'))); return; }
        const now = Date.now();
        put(clocksBox, el('ul', { class: 'clocks' }, list.map((d) => {
            const c = M.clock(d, now);
            const due = M.field(d, 'due');
            const li = el('li', { class: 'clock ' + c.state, 'data-report': d.report, 'data-clock': c.state },
                el('div', { class: 'clock-name' }, M.REPORTS.includes(d.report) ? t('inc.report.' + d.report) : d.report),
                el('div', { class: 'clock-left', 'data-due': due || '' }, clockText(c)),
                el('div', { class: 'muted small' }, due ? t('inc.due_at', { time: ctx.fmt.dateTime(due) }) : t('inc.clock.unknown_hint')));
            if (M.can(me, 'filed') && (c.state === 'running' || c.state === 'late') && inc.phase !== 'closed') {
                li.appendChild(el('button', { type: 'button', 'data-action': 'filed', 'on:click': () => confirmBox(ctx, li, {
                    name: 'filed', question: t('inc.filed_q', { report: t('inc.report.' + d.report) }),
                    run: async () => { await ctx.api('POST', base + '/filed', { report: d.report }); ctx.toast(t('inc.filed_done'), 'ok'); await load(true); },
                }) }, t('inc.filed')));
            }
            return li;
        })));
    }

    function clockText(c) {
        switch (c.state) {
            case 'filed': return t('inc.clock.filed');
            case 'na': return t('inc.clock.na');
            case 'unknown': return t('inc.clock.unknown');
            case 'late': return t('inc.clock.late', { d: M.fmtDuration(-c.left_s, t) });
            default: return t('inc.clock.left', { d: M.fmtDuration(c.left_s, t) });
        }
    }

    // The clocks and the tasks' "due in" count every second without asking the server.
    function tick() {
        const now = Date.now();
        for (const n of root.querySelectorAll('.clock-left[data-due]')) {
            const due = Number(n.getAttribute('data-due'));
            if (!due) continue;
            const c = M.clock({ applies: true, due_at: new Date(due).toISOString() }, now);
            n.textContent = clockText(c);
            const li = n.closest('.clock');
            if (li && c.state === 'late' && !li.classList.contains('late')) { li.classList.remove('running'); li.classList.add('late'); li.setAttribute('data-clock', 'late'); }
        }
    }

    function taskActions(inc, tk) {
        if (inc.phase === 'closed' || me.role === 'auditor') return null;
        const box = el('div', { class: 'actions task-actions' });
        if (M.mayWork(me, tk) && tk.state !== 'done') {
            if (tk.state === 'open') {
                box.appendChild(el('button', { type: 'button', 'data-action': 'start', 'on:click': async (ev) => {
                    ev.currentTarget.disabled = true;
                    try { await ctx.api('POST', `${base}/tasks/${encodeURIComponent(tk.id)}/start`, {}); ctx.toast(t('inc.started'), 'ok'); await load(true); }
                    catch (e) { ev.target.disabled = false; box.appendChild(errorNote(ctx, e)); }
                } }, t('inc.start')));
            }
            box.appendChild(el('button', { type: 'button', class: 'primary', 'data-action': 'done', 'on:click': () => {
                const note = el('input', { name: 'note', type: 'text', autocomplete: 'off', maxlength: 500 });
                confirmBox(ctx, box, { name: 'done', question: t('inc.done_q', { task: taskTitle(tk) }), fields: [[t('inc.done_note'), note, t('inc.done_note_hint')]],
                    run: async (v) => { await ctx.api('POST', `${base}/tasks/${encodeURIComponent(tk.id)}/done`, { note: v.note || '' }); ctx.toast(t('inc.done_ok'), 'ok'); await load(true); } });
            } }, t('inc.done')));
        }
        if (M.can(me, 'contain') && tk.state !== 'done') {
            for (const action of M.containmentActions(tk)) {
                box.appendChild(el('button', { type: 'button', class: 'danger', 'data-action': action, 'data-contain': action, 'on:click': () => contain(tk, action, box) }, t('inc.act.' + action)));
            }
        }
        return box.childNodes.length ? box : null;
    }

    function contain(tk, action, box) {
        const target = el('input', { name: 'target', type: 'text', autocomplete: 'off', maxlength: 200, required: true, value: M.targetFor(action, state.alert), readonly: action === 'seal-vault' ? true : null });
        confirmBox(ctx, box, {
            name: action, danger: true, yes: t('inc.act_yes.' + action),
            question: t('inc.act_q.' + action),
            fields: action === 'seal-vault' ? [] : [[t('inc.target.' + action), target, t('inc.target_hint')]],
            run: async (v) => {
                const tg = action === 'seal-vault' ? 'vault' : String(v.target || '').trim();
                if (!tg) { target.focus(); throw { code: 'invalid_input', message: t('inc.target_missing') }; }
                const res = await ctx.api('POST', base + '/actions', { task: tk.id, action, target: tg });
                // An overseer's lock or key waits for a second lead: proposed, not done.
                ctx.toast(res && res.pending ? t('inc.act_pending', { target: tg }) : t('inc.act_done.' + action, { target: tg }), 'ok');
                await load(true);
            },
        });
    }

    function taskTitle(tk) {
        return M.titleOf(tk, lang(), tk.id);
    }

    function drawTasks(inc) {
        const now = Date.now();
        const groups = M.byTeam(inc.tasks || []);
        if (groups.length === 0) { put(tasksBox, el('p', { class: 'empty' }, t('inc.no_tasks'))); return; }
        const late = M.lateByTeam(inc.tasks || [], now);
        const summary = late.length
            ? el('p', { class: 'notice error late-summary', 'data-state': 'late-summary' }, t('inc.late_summary', {
                teams: late.map((g) => t('inc.late_team', { team: t('inc.team.' + g.team), n: g.tasks.length, roles: g.roles.map((r) => t('role.' + r)).join('、') })).join('；') }))
            : el('p', { class: 'muted small', 'data-state': 'none-late' }, t('inc.none_late'));
        const pending = (inc.pending_actions || []).map((p) => el('p', { class: 'notice warn', 'data-state': 'pending-action' },
            t('inc.pending_line', { action: t('inc.act.' + p.action).replace(/…$/, ''), target: String(p.target || ''), by: String(p.by || ''), time: ctx.fmt.dateTime(p.expires_at) })));
        put(tasksBox, summary, pending, groups.map((g) => el('div', { class: 'team', 'data-team': g.team },
            el('h3', {}, t('inc.team.' + g.team)),
            itable(el, [
                { key: 'task', label: t('inc.c.task'), cell: (tk) => el('span', {}, el('strong', {}, taskTitle(tk)), tk.mandatory === false ? el('span', { class: 'muted small' }, ' ' + t('inc.optional')) : null, el('div', { class: 'muted small mono' }, tk.id)) },
                { key: 'roles', label: t('inc.c.roles'), cell: (tk) => (tk.roles || []).map((r) => t('role.' + M.normRole(r))).join('、') || '—' },
                { key: 'due', label: t('inc.c.due'), cell: (tk) => {
                    const due = M.taskDue(tk);
                    if (!due) return '—';
                    const left = (due - now) / 1000;
                    return el('span', { class: 'small' }, ctx.fmt.dateTime(due), el('br'), el('span', { class: tk.state !== 'done' && left < 0 ? 'late-text' : 'muted' },
                        tk.state === 'done' ? '' : left < 0 ? t('inc.overdue', { d: M.fmtDuration(-left, t) }) : t('inc.due_in', { d: M.fmtDuration(left, t) })));
                } },
                { key: 'state', label: t('inc.c.state'), cell: (tk) => el('span', {},
                    el('span', { class: 'badge ' + (tk.state === 'done' ? 'ok' : tk.state === 'started' ? 'warn' : ''), 'data-state': tk.state }, t('inc.task_state.' + (['open', 'started', 'done'].includes(tk.state) ? tk.state : 'open'))),
                    M.isLate(tk, now) ? el('span', { class: 'badge danger late-badge', 'data-late': '1' }, t('inc.late')) : null,
                    tk.done_by ? el('div', { class: 'muted small' }, t('inc.done_by', { who: tk.done_by })) : tk.started_by ? el('div', { class: 'muted small' }, t('inc.started_by', { who: tk.started_by })) : null) },
                { key: 'actions', label: t('inc.c.actions'), cell: (tk) => taskActions(inc, tk) || '' },
            ], g.tasks, { label: t('inc.team_tasks', { team: t('inc.team.' + g.team) }), rowClass: (tk) => (M.isLate(tk, now) ? 'late' : null) }))));
    }

    function drawTimeline(inc) {
        const evs = M.timeline(inc);
        put(timelineBox, evs.length === 0 ? el('p', { class: 'empty' }, t('inc.no_events')) :
            el('ol', { class: 'timeline' }, evs.map((e) => el('li', { 'data-event': e.kind },
                el('time', { class: 'small mono', datetime: e.at ? new Date(e.at).toISOString() : null }, ctx.fmt.dateTime(e.at)),
                el('span', { class: 'badge' }, t('inc.ev.' + (EVENT_KINDS.includes(e.kind) ? e.kind : 'other'))),
                e.actor ? el('strong', {}, e.actor) : null,
                e.what ? el('span', { class: 'what' }, e.what) : null))));
    }

    function drawControls(inc) {
        const box = el('section', { class: 'card', 'aria-labelledby': 'inc-ctl-h', 'data-section': 'controls' }, el('h2', { id: 'inc-ctl-h' }, t('inc.controls')));
        const closed = inc.phase === 'closed';
        if (M.can(me, 'phase') && !closed) {
            const choices = [M.nextPhase(inc.phase), ...M.earlierPhases(inc.phase)].filter(Boolean);
            if (choices.length) {
                const sel = el('select', { name: 'phase' }, choices.map((p) => el('option', { value: p }, t('inc.phase.' + p))));
                const f = el('form', { class: 'row', 'data-form': 'phase' }, labelled(el, t('inc.f.phase'), sel),
                    el('div', { class: 'actions' }, el('button', { type: 'submit', 'data-action': 'phase' }, t('inc.set_phase'))));
                f.addEventListener('submit', (ev) => { ev.preventDefault(); act(f, '/phase', { phase: sel.value }, 'inc.phase_set'); });
                box.appendChild(f);
            }
        }
        if (M.can(me, 'owner') && !closed) {
            const owner = el('input', { name: 'owner', type: 'text', autocomplete: 'off', maxlength: 64, value: inc.owner || '' });
            const f = el('form', { class: 'row', 'data-form': 'owner' }, labelled(el, t('inc.f.owner'), owner),
                el('div', { class: 'actions' }, el('button', { type: 'submit', 'data-action': 'owner' }, t('inc.set_owner'))));
            f.addEventListener('submit', (ev) => { ev.preventDefault(); if (owner.value.trim()) act(f, '/owner', { owner: owner.value.trim() }, 'inc.owner_set'); });
            box.appendChild(f);
        }
        if (M.can(me, 'note') && !closed) {
            const note = el('input', { name: 'note', type: 'text', autocomplete: 'off', maxlength: 500, required: true });
            const f = el('form', { class: 'row', 'data-form': 'note' }, labelled(el, t('inc.f.add_note'), note, t('inc.f.note_hint')),
                el('div', { class: 'actions' }, el('button', { type: 'submit', 'data-action': 'note' }, t('inc.add_note'))));
            f.addEventListener('submit', (ev) => { ev.preventDefault(); if (note.value.trim()) act(f, '/notes', { note: note.value.trim() }, 'inc.note_added'); });
            box.appendChild(f);
        }
        if (M.can(me, 'evidence')) {
            const reason = el('input', { name: 'reason', type: 'text', autocomplete: 'off', maxlength: 500, required: true });
            const f = el('form', { class: 'row', 'data-form': 'evidence' }, labelled(el, t('inc.f.evidence_reason'), reason, t('inc.f.evidence_hint')),
                el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'evidence' }, t('inc.evidence'))));
            f.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                if (!reason.value.trim()) { reason.focus(); return; }
                const btn = f.querySelector('button');
                btn.disabled = true;
                f.setAttribute('aria-busy', 'true');
                try {
                    // The bundle byte for byte as the server wrote it (its manifest hashes it).
                    const res = await ctx.apiText('POST', base + '/evidence', { reason: reason.value.trim() });
                    saveFile(res.text, 'application/json', `evidence-${inc.id}.json`);
                    ctx.toast(t('inc.evidence_done'), 'ok');
                    f.reset();
                    await load(true);
                } catch (e) {
                    f.appendChild(errorNote(ctx, e));
                } finally {
                    btn.disabled = false;
                    f.removeAttribute('aria-busy');
                }
            });
            box.appendChild(f);
        }
        if (M.can(me, 'close') && !closed) {
            const holder = el('div');
            holder.appendChild(el('button', { type: 'button', class: 'danger', 'data-action': 'close', 'on:click': () => {
                const sel = el('select', { name: 'closing' }, M.CLOSINGS.map((c) => el('option', { value: c }, t('inc.closing.' + c))));
                confirmBox(ctx, holder, { name: 'close', danger: true, question: t('inc.close_q'), fields: [[t('inc.f.closing'), sel, t('inc.f.closing_hint')]],
                    run: async (v) => { await ctx.api('POST', base + '/close', { closing: v.closing }); ctx.toast(t('inc.closed'), 'ok'); await load(true); } });
            } }, t('inc.close')));
            box.appendChild(holder);
        }
        put(controlsBox, box.childNodes.length > 1 ? box : null);
    }

    async function act(form, path, body, okKey) {
        const btn = form.querySelector('button');
        btn.disabled = true;
        try {
            await ctx.api('POST', base + path, body);
            ctx.toast(t(okKey), 'ok');
            await load(true);
        } catch (e) {
            form.appendChild(errorNote(ctx, e));
        } finally {
            btn.disabled = false;
        }
    }

    let scope = null;
    let docs = null;
    async function load(force) {
        let inc;
        try {
            inc = await ctx.api('GET', base);
            put(errBox);
        } catch (e) {
            if (e && e.status === 401) { poller.stop(); ticker.stop(); return; }
            put(errBox, errorNote(ctx, e));
            return;
        }
        const sig = M.signature(inc);
        const first = !state.inc;
        state.inc = inc;
        state.updated = new Date();
        status.textContent = t('inc.live', { time: ctx.fmt.dateTime(state.updated), seconds: REFRESH_MS / 1000 });
        if (sig === state.sig && !force) return;
        // A part with an open form or the keyboard in it waits for the next refresh.
        let complete = true;
        const part = (box, fn) => { if (force || !busy(box)) fn(inc); else complete = false; };
        drawHead(inc);
        part(clocksBox, drawClocks);
        part(tasksBox, drawTasks);
        drawTimeline(inc);
        part(controlsBox, drawControls);
        state.sig = complete ? sig : '';
        if (first) {
            // The alert the incident came from (the API carries it; else security reads it).
            state.alert = inc.alert && typeof inc.alert === 'object' ? inc.alert
                : inc.source_alert && me.role === 'security' ? await sourceAlert(ctx, inc.source_alert) : null;
            if (M.can(me, 'readScope')) scope = scopeSection(ctx, scopeHost, inc, state);
            reportsSection(ctx, docsHost, inc);
            if (M.can(me, 'documents')) docs = documentsSection(ctx, docsHost, inc);
            if (scope) await scope.load();
            if (docs) await docs.load();
        }
    }

    const poller = poll(root, REFRESH_MS, () => load(false));
    const ticker = poll(root, 1000, async () => tick());
    await load(true);
}

const EVENT_KINDS = ['opened', 'phase', 'owner', 'severity', 'task_started', 'task_done', 'reminded', 'escalated', 'note', 'action', 'closed', 'filed'];

// The alert the incident was opened from, for the containment targets (security reads alerts).
async function sourceAlert(ctx, alertId) {
    try {
        const res = await ctx.api('GET', '/v1/alerts?limit=200');
        return ((res && res.alerts) || []).find((a) => String(a.id) === String(alertId)) || null;
    } catch (_) {
        return null;
    }
}

// A file handed to the browser's download (a blob of the server's own bytes).
export function saveFile(data, type, name) {
    const url = URL.createObjectURL(new Blob([data], { type }));
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.setAttribute('data-download', name);
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { a.remove(); URL.revokeObjectURL(url); }, 60000);
}

// The scope: computed from the audit log by security (actors, keys, addresses, a window), read
// by legal, stewards and auditors; a per-department chart, the categories, the honeytokens.
function scopeSection(ctx, host, inc, state) {
    const { el, t, me } = ctx;
    const base = '/v1/incidents/' + encodeURIComponent(inc.id);
    const out = el('div');
    const err = el('div');
    const sec = el('section', { class: 'card', 'aria-labelledby': 'inc-scope-h', 'data-section': 'scope' },
        el('h2', { id: 'inc-scope-h' }, t('inc.scope')), el('p', { class: 'muted small' }, t('inc.scope_intro')));
    if (M.can(me, 'scope') && inc.phase !== 'closed') {
        const a = state.alert || {};
        const actors = el('input', { name: 'actors', type: 'text', autocomplete: 'off', maxlength: 500, value: a.account || '' });
        const keys = el('input', { name: 'api_keys', type: 'text', autocomplete: 'off', maxlength: 500 });
        const addrs = el('input', { name: 'addresses', type: 'text', autocomplete: 'off', maxlength: 500, value: M.targetFor('block-address', a) });
        const from = el('input', { name: 'from', type: 'datetime-local' });
        const to = el('input', { name: 'to', type: 'datetime-local' });
        const f = el('form', { class: 'row', 'data-form': 'scope' },
            labelled(el, t('inc.f.actors'), actors, t('inc.f.list_hint')), labelled(el, t('inc.f.api_keys'), keys),
            labelled(el, t('inc.f.addresses'), addrs), labelled(el, t('inc.f.from'), from, t('inc.f.window_hint')), labelled(el, t('inc.f.to'), to),
            el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'compute-scope' }, t('inc.compute_scope'))));
        f.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            const v = values(f);
            const body = M.scopeBody({ ...v, from: toRfc3339(v.from), to: toRfc3339(v.to) });
            const btn = f.querySelector('button');
            btn.disabled = true;
            f.setAttribute('aria-busy', 'true');
            put(out, el('p', { class: 'muted', role: 'status' }, t('inc.scope_computing')));
            try {
                const res = await ctx.api('POST', base + '/scope', body);
                put(err);
                ctx.toast(t('inc.scope_done'), 'ok');
                draw(res && res.checkpoint ? res : await ctx.api('GET', base + '/scope'));
            } catch (e) {
                put(err, errorNote(ctx, e));
                put(out);
            } finally {
                btn.disabled = false;
                f.removeAttribute('aria-busy');
            }
        });
        sec.appendChild(f);
    }
    sec.append(err, out);
    host.appendChild(sec);

    function draw(s) {
        if (!s) { put(out, el('p', { class: 'empty', 'data-state': 'no-scope' }, t('inc.no_scope'))); return; }
        const ser = M.scopeSeries(s);
        const cats = M.categoryRows(s);
        const customers = Array.isArray(s.customers) ? s.customers : [];
        const cp = s.checkpoint || {};
        put(out,
            el('div', { class: 'tiles' },
                el('div', { class: 'tile', 'data-tile': 'people' }, el('div', { class: 'tile-value' }, String(s.people ?? customers.length)), el('div', { class: 'tile-label' }, t('inc.scope_people'))),
                el('div', { class: 'tile', 'data-tile': 'records' }, el('div', { class: 'tile-value' }, String(s.records ?? 0)), el('div', { class: 'tile-label' }, t('inc.scope_records'))),
                el('div', { class: 'tile', 'data-tile': 'honeytokens' }, el('div', { class: 'tile-value' }, String((s.honeytokens || []).length)), el('div', { class: 'tile-label' }, t('inc.scope_honeytokens')))),
            el('p', { class: 'small', 'data-checkpoint': cp.size ?? '' }, t('inc.scope_checkpoint', { size: cp.size ?? '—' }), ' ', el('code', { class: 'hash' }, cp.root || '—')),
            ser.labels.length ? el('div', { class: 'chart-card', 'data-chart': 'departments' }, barChart({
                title: t('inc.scope_chart'), desc: t('inc.scope_chart_desc'), labels: ser.labels, legend: ser.series.length > 1,
                xName: t('inc.department'), tableLabel: t('chart.show_numbers'),
                series: ser.series.map((x, i) => ({ name: t('inc.scope_' + x.key), values: x.values, color: PALETTE[i % PALETTE.length] })),
            })) : el('p', { class: 'empty' }, t('inc.scope_no_departments')),
            cats.length ? itable(el, [
                { key: 'category', label: t('inc.c.category') },
                { key: 'count', label: t('inc.c.people'), class: 'num' },
            ], cats, { label: t('inc.scope_categories') }) : null,
            (s.honeytokens || []).length ? el('p', { class: 'notice warn', 'data-state': 'honeytokens' }, t('inc.scope_ht_touched', { ids: s.honeytokens.map((h) => (typeof h === 'object' ? h.id : h)).join(', ') })) : null,
            customers.length ? el('details', { class: 'scope-customers' }, el('summary', {}, t('inc.scope_customers', { n: customers.length })),
                itable(el, [
                    { key: 'id', label: t('inc.c.customer'), cell: (c) => el('span', { class: 'mono small' }, c.id) },
                    { key: 'department', label: t('inc.department') },
                    { key: 'categories', label: t('inc.c.categories'), cell: (c) => (c.categories || []).join(', ') },
                    { key: 'fields', label: t('inc.c.fields'), cell: (c) => (c.fields || []).join(', ') },
                ], customers.slice(0, 200), { label: t('inc.scope_customers', { n: customers.length }) })) : null);
    }

    async function load() {
        if (inc.has_scope === false) { draw(null); return; }
        try {
            draw(await ctx.api('GET', base + '/scope'));
            put(err);
        } catch (e) {
            if (e && e.status === 404) { draw(null); return; }
            put(err, errorNote(ctx, e));
        }
    }
    return { load };
}
