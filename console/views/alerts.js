// alerts.js - the guard's alerts as a live list (a timed refresh of GET /v1/alerts every few
// seconds while the view is open and the tab visible; the API has no event stream), with
// filters, acknowledge and close with a reason; every evidence entry opens the audit entry it
// points to (for roles that may read the audit log). Security also sees the sanctions in force
// (blocks, throttles, locks) with their lift buttons, blocks an address, and the honeytokens.
// Data stewards and HR see only the alerts routed to them (the server filters), and no control.
import { put, table, errorNote, poll, qs, values, labelled, useWatchStyles } from '../lib/chart_ui.js';

const REFRESH_MS = 4000;
const ROLES = ['security', 'data_steward', 'hr'];
const AUDIT_ROLES = ['security', 'auditor', 'legal'];

function sevBadge(ctx, sev) {
    const cls = sev === 'critical' || sev === 'high' ? 'danger' : sev === 'medium' ? 'warn' : '';
    return ctx.el('span', { class: 'badge ' + cls, 'data-severity': sev }, ctx.t('alerts.severity.' + sev));
}

function statusBadge(ctx, st) {
    const cls = st === 'open' ? 'danger' : st === 'acknowledged' ? 'warn' : 'ok';
    return ctx.el('span', { class: 'badge ' + cls, 'data-status': st }, ctx.t('alerts.status.' + st));
}

function evidence(ctx, a) {
    const ev = Array.isArray(a.evidence) ? a.evidence : [];
    if (ev.length === 0) return ctx.el('span', { class: 'muted' }, '—');
    const canOpen = AUDIT_ROLES.includes(ctx.me.role);
    const shown = ev.slice(0, 8);
    return ctx.el('span', { class: 'evidence' },
        shown.map((i) => canOpen
            ? ctx.el('a', { href: '#/audit/entry/' + encodeURIComponent(i), 'data-evidence': i, 'aria-label': ctx.t('alerts.evidence_open', { index: i }) }, '#' + i)
            : ctx.el('span', { 'data-evidence': i }, '#' + i)),
        ev.length > shown.length ? ctx.el('span', { class: 'muted' }, ctx.t('alerts.evidence_more', { n: ev.length - shown.length })) : null);
}

// The route and body that lift a sanction. Subjects read "address:A" (an IPv6 client as its
// prefix, "address:P/N": any address inside names it) or "account:NAME".
export function sanctionLift(s) {
    const subj = String(s.subject || '');
    const acct = subj.startsWith('account:') ? subj.slice(8) : null;
    const addr = subj.startsWith('address:') ? subj.slice(8).replace(/\/\d+$/, '') : acct ? null : subj;
    if (s.kind === 'block' && addr) return ['/v1/guard/unblock', { address: addr }];
    if (s.kind === 'throttle') return ['/v1/guard/unthrottle', acct ? { account: acct } : { address: addr }];
    if ((s.kind === 'lock' || s.kind === 'lock-login') && acct) return ['/v1/guard/unlock', { account: acct }];
    return null;
}

export default {
    name: 'alerts',
    titleKey: 'alerts.title',
    visible: (me) => !!me && ROLES.includes(me.role),
    async render(root, ctx) {
        useWatchStyles();
        const { el, t } = ctx;
        const security = ctx.me.role === 'security';
        const state = { filters: { status: '', severity: '', rule: '', account: '' }, alerts: [], next: null, seen: null, sig: '' };
        const status = el('p', { class: 'muted small live-status', role: 'status', 'aria-live': 'polite', tabindex: '-1' });
        const listBox = el('div', { class: 'alerts-list' });
        const errBox = el('div');

        const filterForm = el('form', { class: 'row filters', 'aria-label': t('alerts.filters') },
            labelled(el, t('alerts.f.status'), el('select', { name: 'status' },
                el('option', { value: '' }, t('alerts.any')),
                ['open', 'acknowledged', 'closed'].map((s) => el('option', { value: s }, t('alerts.status.' + s))))),
            labelled(el, t('alerts.f.severity'), el('select', { name: 'severity' },
                el('option', { value: '' }, t('alerts.any')),
                ['low', 'medium', 'high', 'critical'].map((s) => el('option', { value: s }, t('alerts.severity_min', { s: t('alerts.severity.' + s) }))))),
            labelled(el, t('alerts.f.rule'), el('input', { name: 'rule', type: 'text', autocomplete: 'off', maxlength: 64 })),
            labelled(el, t('alerts.f.account'), el('input', { name: 'account', type: 'text', autocomplete: 'off', maxlength: 64 })),
            el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'filter' }, t('alerts.apply'))));
        filterForm.addEventListener('submit', (ev) => {
            ev.preventDefault();
            const v = values(filterForm);
            state.filters = { status: v.status || '', severity: v.severity || '', rule: v.rule || '', account: v.account || '' };
            state.sig = '';
            state.seen = null;
            load(true);
        });

        const pauseBtn = el('button', { type: 'button', 'data-action': 'pause', 'aria-pressed': 'false' }, t('alerts.pause'));
        pauseBtn.addEventListener('click', () => {
            if (poller.running) { poller.stop(); pauseBtn.textContent = t('alerts.resume'); pauseBtn.setAttribute('aria-pressed', 'true'); }
            else { poller.start(); pauseBtn.textContent = t('alerts.pause'); pauseBtn.setAttribute('aria-pressed', 'false'); load(false); }
            showStatus();
        });

        root.append(
            el('div', { class: 'row view-head' }, el('h1', {}, t('alerts.title')), el('div', { class: 'spacer' }), pauseBtn,
                el('button', { type: 'button', 'data-action': 'refresh', 'on:click': () => load(false) }, t('alerts.refresh'))),
            el('p', { class: 'muted' }, t(security ? 'alerts.intro.security' : ctx.me.role === 'hr' ? 'alerts.intro.hr' : 'alerts.intro.steward')),
            el('section', { class: 'card', 'aria-labelledby': 'alerts-h' },
                el('h2', { id: 'alerts-h', class: 'sr-only' }, t('alerts.list')),
                filterForm, status, errBox, listBox));

        function showStatus(extra) {
            const when = state.updated ? ctx.fmt.dateTime(state.updated) : '—';
            status.textContent = (poller && poller.running ? t('alerts.live', { time: when, seconds: REFRESH_MS / 1000 }) : t('alerts.paused', { time: when })) + (extra ? ' ' + extra : '');
        }

        function actions(a) {
            if (!security) return null;
            const box = el('div', { class: 'actions' });
            if (a.status === 'open') {
                box.appendChild(el('button', { type: 'button', 'data-action': 'ack', 'on:click': () => ack(a, box) }, t('alerts.ack')));
            }
            if (a.status !== 'closed') {
                box.appendChild(el('button', { type: 'button', 'data-action': 'close', 'on:click': () => closeForm(a, box) }, t('alerts.close')));
            }
            // An incident from this alert, carrying its evidence (the board asks to confirm).
            box.appendChild(el('button', { type: 'button', 'data-action': 'open-incident', 'on:click': () => ctx.navigate('#/incidents/new/' + encodeURIComponent(a.id)) }, t('alerts.open_incident')));
            if (a.address && a.address !== '-') {
                box.appendChild(el('button', { type: 'button', class: 'danger', 'data-action': 'block', 'on:click': () => blockForm(a.address, box) }, t('alerts.block_address')));
            }
            return box;
        }

        async function ack(a, box) {
            box.querySelectorAll('button').forEach((b) => (b.disabled = true));
            try {
                await ctx.api('POST', `/v1/alerts/${encodeURIComponent(a.id)}/ack`, {});
                ctx.toast(t('alerts.acked', { id: a.id }), 'ok');
                state.sig = '';
                document.activeElement && document.activeElement.blur();
                await load(false);
                refocus(a.id);
            } catch (e) {
                box.querySelectorAll('button').forEach((b) => (b.disabled = false));
                box.appendChild(errorNote(ctx, e));
            }
        }

        function closeForm(a, box) {
            if (box.querySelector('form')) return;
            const reason = el('input', { name: 'reason', type: 'text', required: true, minlength: 3, maxlength: 500, autocomplete: 'off' });
            const f = el('form', { class: 'inline-form', 'data-form': 'close' },
                labelled(el, t('alerts.close_reason'), reason, t('alerts.close_reason_hint')),
                el('div', { class: 'actions' },
                    el('button', { type: 'submit', class: 'primary', 'data-action': 'confirm-close' }, t('alerts.close_confirm')),
                    el('button', { type: 'button', 'data-action': 'cancel', 'on:click': () => f.remove() }, t('alerts.cancel'))));
            f.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                const r = reason.value.trim();
                if (!r) { reason.focus(); return; }
                f.querySelectorAll('button').forEach((b) => (b.disabled = true));
                f.setAttribute('aria-busy', 'true');
                try {
                    await ctx.api('POST', `/v1/alerts/${encodeURIComponent(a.id)}/close`, { reason: r });
                    ctx.toast(t('alerts.closed', { id: a.id }), 'ok');
                    f.remove();
                    state.sig = '';
                    await load(false);
                    refocus(a.id);
                } catch (e) {
                    f.querySelectorAll('button').forEach((b) => (b.disabled = false));
                    f.removeAttribute('aria-busy');
                    f.appendChild(errorNote(ctx, e));
                }
            });
            box.appendChild(f);
            reason.focus();
        }

        function blockForm(address, box) {
            if (box.querySelector('form')) return;
            const secs = el('select', { name: 'seconds' },
                [[3600, 'alerts.dur.1h'], [21600, 'alerts.dur.6h'], [86400, 'alerts.dur.1d'], [604800, 'alerts.dur.7d']].map(([s, k]) => el('option', { value: s }, t(k))));
            const reason = el('input', { name: 'reason', type: 'text', maxlength: 200, autocomplete: 'off' });
            const f = el('form', { class: 'inline-form', 'data-form': 'block' },
                el('p', {}, t('alerts.block_what', { address })),
                labelled(el, t('alerts.block_for'), secs), labelled(el, t('alerts.block_reason'), reason),
                el('div', { class: 'actions' },
                    el('button', { type: 'submit', class: 'danger', 'data-action': 'confirm-block' }, t('alerts.block_confirm')),
                    el('button', { type: 'button', 'data-action': 'cancel', 'on:click': () => f.remove() }, t('alerts.cancel'))));
            f.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                f.querySelectorAll('button').forEach((b) => (b.disabled = true));
                try {
                    await ctx.api('POST', '/v1/guard/block', { address, seconds: Number(secs.value), reason: reason.value.trim() || 'console' });
                    ctx.toast(t('alerts.blocked', { address }), 'ok');
                    f.remove();
                    if (sanctions) await sanctions.load();
                } catch (e) {
                    f.querySelectorAll('button').forEach((b) => (b.disabled = false));
                    f.appendChild(errorNote(ctx, e));
                }
            });
            box.appendChild(f);
            secs.focus();
        }

        // After an action the list is drawn anew: keep the keyboard where it was.
        function refocus(id) {
            const row = listBox.querySelector(`tr[data-id="${CSS.escape(String(id))}"]`);
            const target = row && (row.querySelector('[data-action]') || row.querySelector('a'));
            if (target) target.focus(); else status.focus();
        }

        function draw() {
            // Do not pull the list from under someone typing a reason or using a control.
            if (listBox.contains(document.activeElement) && document.activeElement !== document.body || listBox.querySelector('form')) return false;
            const rows = state.alerts;
            const cols = [
                { key: 'severity', label: t('alerts.c.severity'), cell: (a) => sevBadge(ctx, a.severity) },
                { key: 'rule', label: t('alerts.c.rule'), cell: (a) => el('span', {}, el('strong', {}, a.rule), el('div', { class: 'muted small' }, a.detail || '')) },
                { key: 'status', label: t('alerts.c.status'), cell: (a) => statusBadge(ctx, a.status) },
                { key: 'who', label: t('alerts.c.subject'), cell: (a) => el('span', {}, a.account ? el('div', {}, a.account) : null, a.address ? el('div', { class: 'mono small' }, a.address) : null, a.department ? el('div', { class: 'muted small' }, a.department) : null) },
                { key: 'count', label: t('alerts.c.count'), class: 'num' },
                { key: 'last_seen', label: t('alerts.c.seen'), cell: (a) => el('span', { class: 'small' }, ctx.fmt.dateTime(a.first_seen), el('br'), ctx.fmt.dateTime(a.last_seen)) },
                { key: 'evidence', label: t('alerts.c.evidence'), cell: (a) => evidence(ctx, a) },
            ];
            if (security) cols.push({ key: 'actions', label: t('alerts.c.actions'), cell: (a) => actions(a) });
            put(listBox, 
                rows.length === 0 ? el('p', { class: 'empty', 'data-state': 'empty' }, t('alerts.none'))
                    : table(el, cols, rows, { label: t('alerts.list'), rowClass: (a) => (state.fresh && state.fresh.has(a.id) ? 'fresh' : null) }),
                state.next ? el('div', { class: 'pager' }, el('button', { type: 'button', 'data-action': 'more', 'on:click': more }, t('alerts.more'))) : null);
            return true;
        }

        async function fetchPage(before) {
            const f = state.filters;
            return ctx.api('GET', '/v1/alerts' + qs({ status: f.status, severity: f.severity, rule: f.rule, account: f.account, limit: 50, before }));
        }

        async function load(reset) {
            try {
                const res = await fetchPage();
                put(errBox);
                const list = res.alerts || [];
                const sig = JSON.stringify(list.map((a) => [a.id, a.status, a.count, a.last_seen]));
                const known = state.seen || new Set(list.map((a) => a.id));
                const fresh = new Set(list.filter((a) => !known.has(a.id)).map((a) => a.id));
                state.seen = new Set([...known, ...list.map((a) => a.id)]);
                state.updated = new Date();
                if (sig !== state.sig || reset) {
                    // Older pages loaded with "more" stay below the refreshed first page.
                    const low = list.length ? Math.min(...list.map((a) => a.id)) : Infinity;
                    const older = !reset && state.pages > 1 ? state.alerts.filter((a) => a.id < low) : [];
                    const prev = { alerts: state.alerts, next: state.next, fresh: state.fresh };
                    state.alerts = list.concat(older);
                    if (reset || !(state.pages > 1)) { state.next = res.next; state.pages = 1; }
                    state.fresh = fresh;
                    if (draw()) state.sig = sig; else Object.assign(state, prev);
                }
                showStatus(fresh.size ? t('alerts.new', { n: fresh.size }) : '');
            } catch (e) {
                if (e && e.status === 401) { poller.stop(); return; }
                put(errBox, errorNote(ctx, e));
                showStatus();
            }
        }

        async function more() {
            try {
                const res = await fetchPage(state.next);
                state.alerts = state.alerts.concat(res.alerts || []);
                state.next = res.next;
                state.pages = (state.pages || 1) + 1;
                draw();
            } catch (e) {
                put(errBox, errorNote(ctx, e));
            }
        }

        const poller = poll(root, REFRESH_MS, () => load(false));
        await load(true);

        let sanctions = null;
        if (security) {
            sanctions = sanctionsSection(ctx, root);
            await sanctions.load();
            await honeytokensSection(ctx, root);
        }
    },
};

function sanctionsSection(ctx, root) {
    const { el, t } = ctx;
    const box = el('div');
    const err = el('div');
    const address = el('input', { name: 'address', type: 'text', required: true, autocomplete: 'off', maxlength: 64, placeholder: '203.0.113.7' });
    const secs = el('select', { name: 'seconds' },
        [[3600, 'alerts.dur.1h'], [21600, 'alerts.dur.6h'], [86400, 'alerts.dur.1d'], [604800, 'alerts.dur.7d']].map(([s, k]) => el('option', { value: s }, t(k))));
    const reason = el('input', { name: 'reason', type: 'text', maxlength: 200, autocomplete: 'off' });
    const form = el('form', { class: 'row', 'data-form': 'block-address' },
        labelled(el, t('alerts.block_address_label'), address), labelled(el, t('alerts.block_for'), secs), labelled(el, t('alerts.block_reason'), reason),
        el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'danger', 'data-action': 'block-address' }, t('alerts.block_confirm'))));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        try {
            await ctx.api('POST', '/v1/guard/block', { address: address.value.trim(), seconds: Number(secs.value), reason: reason.value.trim() || 'console' });
            ctx.toast(t('alerts.blocked', { address: address.value.trim() }), 'ok');
            form.reset();
            await load();
        } catch (e) {
            put(err, errorNote(ctx, e));
        }
    });
    root.appendChild(el('section', { class: 'card', 'aria-labelledby': 'sanctions-h', 'data-section': 'sanctions' },
        el('div', { class: 'row' }, el('h2', { id: 'sanctions-h' }, t('alerts.sanctions')), el('div', { class: 'spacer' }),
            el('button', { type: 'button', 'data-action': 'refresh-sanctions', 'on:click': () => load() }, t('alerts.refresh'))),
        el('p', { class: 'muted' }, t('alerts.sanctions_intro')), err, box, form));

    async function lift(s, btn) {
        const how = sanctionLift(s);
        if (!how) return;
        btn.disabled = true;
        try {
            await ctx.api('POST', how[0], how[1]);
            ctx.toast(t('alerts.lifted', { subject: s.subject }), 'ok');
            await load();
        } catch (e) {
            btn.disabled = false;
            put(err, errorNote(ctx, e));
        }
    }

    async function load() {
        try {
            const res = await ctx.api('GET', '/v1/guard/sanctions');
            put(err);
            const rows = (res.sanctions || []).map((s, i) => ({ ...s, id: s.kind + ':' + s.subject + ':' + i }));
            put(box, rows.length === 0 ? el('p', { class: 'empty', 'data-state': 'empty' }, t('alerts.no_sanctions')) :
                table(el, [
                    { key: 'kind', label: t('alerts.s.kind'), cell: (s) => el('span', { class: 'badge' }, t('alerts.kind.' + s.kind)) },
                    { key: 'subject', label: t('alerts.s.subject'), cell: (s) => el('span', { class: 'mono' }, s.subject) },
                    { key: 'until', label: t('alerts.s.until'), cell: (s) => ctx.fmt.dateTime(s.until) },
                    { key: 'rule', label: t('alerts.s.rule') },
                    { key: 'by', label: t('alerts.s.by') },
                    { key: 'lift', label: t('alerts.c.actions'), cell: (s) => sanctionLift(s) ? el('button', { type: 'button', 'data-action': 'lift', 'aria-label': t('alerts.lift_what', { subject: s.subject }), 'on:click': (ev) => lift(s, ev.currentTarget) }, t('alerts.lift')) : '' },
                ], rows, { label: t('alerts.sanctions'), idOf: (s) => s.subject }));
        } catch (e) {
            put(err, errorNote(ctx, e));
        }
    }
    return { load };
}

async function honeytokensSection(ctx, root) {
    const { el, t } = ctx;
    const box = el('div');
    const err = el('div');
    const dept = el('input', { name: 'department', type: 'text', required: true, autocomplete: 'off', maxlength: 64 });
    const form = el('form', { class: 'row', 'data-form': 'honeytoken' },
        labelled(el, t('alerts.ht_department'), dept, t('alerts.ht_hint')),
        el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'plant' }, t('alerts.ht_plant'))));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        try {
            const r = await ctx.api('POST', '/v1/honeytokens', { department: dept.value.trim() });
            ctx.toast(t('alerts.ht_planted', { id: r && r.id }), 'ok');
            form.reset();
            await load();
        } catch (e) {
            put(err, errorNote(ctx, e));
        }
    });
    root.appendChild(el('section', { class: 'card', 'aria-labelledby': 'ht-h', 'data-section': 'honeytokens' },
        el('h2', { id: 'ht-h' }, t('alerts.honeytokens')), el('p', { class: 'muted' }, t('alerts.ht_intro')), err, box, form));
    async function load() {
        try {
            const res = await ctx.api('GET', '/v1/honeytokens');
            const rows = res.honeytokens || [];
            put(box, rows.length === 0 ? el('p', { class: 'empty', 'data-state': 'empty' }, t('alerts.ht_none')) :
                table(el, [
                    { key: 'id', label: t('alerts.ht_id'), cell: (h) => el('span', { class: 'mono' }, h.id) },
                    { key: 'department', label: t('alerts.ht_department') },
                    { key: 'created_at', label: t('alerts.ht_created'), cell: (h) => ctx.fmt.dateTime(h.created_at) },
                ], rows, { label: t('alerts.honeytokens') }));
        } catch (e) {
            put(err, errorNote(ctx, e));
        }
    }
    await load();
}
