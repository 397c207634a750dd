// chart_ui.js - small helpers shared by the watch-and-check views (alerts, violations, audit,
// overview): their stylesheet, tables built from rows with textContent only, a poller that
// stops when its view leaves the page, and the API's error shown where it happened.

// The views' own styles (console/views/watch.css), added once beside the shell's.
export function useWatchStyles() {
    useSheet('watch');
}

// A view's own stylesheet (console/views/NAME.css), linked once, the first time a view needs it.
const sheets = new Set();
export function useSheet(name) {
    if (sheets.has(name) || typeof document === 'undefined') return;
    sheets.add(name);
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL('../views/' + name + '.css', import.meta.url).pathname;
    document.head.appendChild(link);
}

// A table: columns [{key, label, cell?(row) -> Node|string, class?}], rows with an id.
export function table(el, columns, rows, opts = {}) {
    const head = el('tr', {}, columns.map((c) => el('th', { scope: 'col', class: c.class }, c.label)));
    const body = rows.map((r) => el('tr', { 'data-id': opts.idOf ? opts.idOf(r) : r.id, class: opts.rowClass ? opts.rowClass(r) : null },
        columns.map((c) => el('td', { class: c.class }, c.cell ? c.cell(r) : (r[c.key] ?? '')))));
    return el('div', { class: 'table-wrap' },
        el('table', { 'aria-label': opts.label || null },
            opts.caption ? el('caption', { class: 'sr-only' }, opts.caption) : null,
            el('thead', {}, head), el('tbody', {}, body)));
}

// An error from the API where it happened: role="alert", the code for tests.
export function errorNote(ctx, e) {
    const known = e && e.code ? ctx.t('error.' + e.code) : '';
    const text = known && !known.startsWith('\u27e6') ? `${known} (${e.message || e.code})` : (e && (e.message || e.code)) || String(e);
    return ctx.el('div', { class: 'notice error', role: 'alert', 'data-error-code': e && e.code }, text);
}

// Calls fn every `ms` while `root` is on the page; skips ticks while the tab is hidden.
// Answers {stop, now} (now runs fn at once and restarts the timer).
export function poll(root, ms, fn) {
    let timer = null;
    let stopped = false;
    const tick = async () => {
        timer = null;
        if (stopped) return;
        if (!root.isConnected) { stopped = true; return; }
        if (typeof document === 'undefined' || !document.hidden) {
            try { await fn(); } catch (_) { /* fn shows its own errors */ }
        }
        if (!stopped && root.isConnected) timer = setTimeout(tick, ms);
    };
    timer = setTimeout(tick, ms);
    return {
        stop() { stopped = true; if (timer) clearTimeout(timer); timer = null; },
        start() { if (stopped) { stopped = false; timer = setTimeout(tick, ms); } },
        get running() { return !stopped; },
        async now() { if (timer) clearTimeout(timer); timer = null; await tick(); },
    };
}

export function qs(o) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(o || {})) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
    const s = p.toString();
    return s ? '?' + s : '';
}

// Form values by name, empty ones left out.
export function values(form) {
    const out = {};
    for (const e of form.elements) {
        if (e.name && e.value !== '') out[e.name] = e.value;
    }
    return out;
}

// A labelled input (the label's for= names the input's id).
let fid = 0;
export function labelled(el, label, input, hint) {
    const id = input.id || 'w-' + ++fid;
    input.id = id;
    return el('div', { class: 'field' }, el('label', { for: id }, label), input, hint ? el('div', { class: 'hint' }, hint) : null);
}

// A local datetime input's value (vault zone not known to the input) as RFC 3339 in UTC.
export function toRfc3339(v) {
    if (!v) return '';
    const d = new Date(v);
    return isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// node.replaceChildren without the empty parts (replaceChildren would print "null").
export function put(node, ...kids) {
    node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}

// An inline confirmation: a question, optional fields, confirm and cancel; fn(values) runs on
// confirm and its error stays in the box.
export function confirmBox(ctx, host, opts) {
    const { el, t } = ctx;
    if (host.querySelector('form[data-form]')) return;
    const err = el('div');
    const f = el('form', { class: 'inline-form', 'data-form': opts.name, 'aria-label': opts.question },
        el('p', { class: opts.danger ? 'confirm-q danger-text' : 'confirm-q' }, opts.question),
        (opts.fields || []).map(([label, input, hint]) => labelled(el, label, input, hint)),
        el('div', { class: 'actions' },
            el('button', { type: 'submit', class: opts.danger ? 'danger' : 'primary', 'data-action': 'confirm-' + opts.name }, opts.yes || t('inc.confirm')),
            el('button', { type: 'button', 'data-action': 'cancel', 'on:click': () => f.remove() }, t('inc.cancel'))),
        err);
    f.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const buttons = f.querySelectorAll('button');
        buttons.forEach((b) => (b.disabled = true));
        f.setAttribute('aria-busy', 'true');
        try {
            await opts.run(values(f));
            f.remove();
        } catch (e) {
            buttons.forEach((b) => (b.disabled = false));
            f.removeAttribute('aria-busy');
            put(err, errorNote(ctx, e));
        }
    });
    host.appendChild(f);
    const firstInput = f.querySelector('input, select, textarea');
    (firstInput || f.querySelector('button')).focus();
}
