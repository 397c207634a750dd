// audit.js - the audit log for auditors, legal and security: search by actor, customer,
// action, decision and time; the "who accessed this customer" and "what did this person do"
// reports; one entry (the target of an alert's evidence, #/audit/entry/<index>); the current
// checkpoint; and verification IN THE BROWSER: a checkpoint saved earlier in this browser
// (localStorage) is checked against the log as it is now with an RFC 9162 consistency proof
// and an inclusion proof, hashed here with WebCrypto (console/lib/verify.js), its signature
// checked with the verifier key the operator gave (audit.pub) where the browser has Ed25519.
// The server's own claims (its roots, its leaf hashes) are shown beside what the page computed.
import { put, table, errorNote, qs, values, labelled, toRfc3339, useWatchStyles } from '../lib/chart_ui.js';
import * as V from '../lib/verify.js';

const ROLES = ['auditor', 'legal', 'security'];
const SAVED = 'custos.audit.checkpoint';
const VKEY = 'custos.audit.vkey';
const ACTIONS = ['login', 'logout', 'customer.read', 'customer.search', 'customer.list', 'customer.create', 'customer.update',
    'customer.erase', 'customer.import', 'customer.export', 'customer.export.page', 'customer.rotate_key', 'transaction.create',
    'transaction.read', 'communication.create', 'communication.read', 'account.create', 'audit.checkpoint', 'audit.proof',
    'audit.search', 'audit.report.subject', 'audit.report.actor', 'audit.sign', 'alert.list', 'violation.list'];

function store(key, value) {
    try {
        if (value === undefined) return localStorage.getItem(key);
        if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, value);
    } catch (_) { /* storage refused */ }
    return null;
}

function b64ToBytes(s) {
    return V.b64decode(s);
}

// One entry's bytes by index: the query returns entries with index > after, in order.
async function fetchEntry(ctx, index) {
    const i = Number(index);
    const res = await ctx.api('GET', '/v1/audit/entries' + qs({ after: i > 0 ? i - 1 : undefined, limit: 1 }));
    const e = (res.entries || [])[0];
    return e && Number(e.index) === i ? e : null;
}

function entryCols(ctx) {
    const { el, t } = ctx;
    const d = (e) => e.decoded || {};
    return [
        { key: 'index', label: t('audit.c.index'), cell: (e) => el('a', { href: '#/audit/entry/' + e.index, 'aria-label': t('audit.open_entry', { index: e.index }) }, '#' + e.index) },
        { key: 'ts', label: t('audit.c.time'), cell: (e) => ctx.fmt.dateTime(d(e).ts) },
        { key: 'actor', label: t('audit.c.actor'), cell: (e) => el('span', {}, d(e).actor || '', el('div', { class: 'muted small' }, d(e).role || '')) },
        { key: 'action', label: t('audit.c.action'), cell: (e) => el('span', { class: 'mono small' }, d(e).action || '') },
        { key: 'customer', label: t('audit.c.customer'), cell: (e) => el('span', { class: 'mono small' }, d(e).customer || (d(e).customers ? t('audit.n_customers', { n: String(d(e).customers).split(',').length }) : '')) },
        { key: 'decision', label: t('audit.c.decision'), cell: (e) => el('span', { class: 'badge ' + (d(e).decision === 'deny' ? 'danger' : 'ok') }, t('audit.decision.' + (d(e).decision === 'deny' ? 'deny' : 'allow'))) },
        { key: 'rule', label: t('audit.c.rule'), cell: (e) => el('span', { class: 'small' }, d(e).rule || '') },
        { key: 'fields', label: t('audit.c.fields'), cell: (e) => el('span', { class: 'small' }, d(e).fields || d(e).categories || '') },
    ];
}

const SHOW_MAX = 500;

// Long reports are shown in part (the whole answer stays available to search page by page).
function entryTable(ctx, entries, label) {
    const shown = entries.length > SHOW_MAX ? entries.slice(0, SHOW_MAX) : entries;
    const tbl = table(ctx.el, entryCols(ctx), shown, { label, idOf: (e) => e.index });
    if (shown === entries) return tbl;
    return ctx.el('div', {}, ctx.el('p', { class: 'notice warn', role: 'status' }, ctx.t('audit.shown_part', { shown: SHOW_MAX, n: entries.length })), tbl);
}

function hashLine(ctx, label, bytes, cls) {
    const { el } = ctx;
    return el('div', { class: 'hash-line ' + (cls || '') }, el('span', { class: 'hash-label' }, label), el('code', { class: 'hash' }, bytes ? V.hex(bytes) : '—'));
}

export default {
    name: 'audit',
    titleKey: 'audit.title',
    visible: (me) => !!me && ROLES.includes(me.role),
    async render(root, ctx) {
        useWatchStyles();
        const { el, t } = ctx;
        const params = ctx.params || [];
        root.appendChild(el('h1', {}, t('audit.title')));
        if (params[0] === 'entry' && params[1] !== undefined) {
            root.appendChild(await entrySection(ctx, params[1]));
        }
        root.appendChild(checkpointSection(ctx));
        root.appendChild(searchSection(ctx));
        root.appendChild(subjectSection(ctx));
        root.appendChild(actorSection(ctx));
    },
};

async function entrySection(ctx, indexText) {
    const { el, t } = ctx;
    const sec = el('section', { class: 'card', 'aria-labelledby': 'entry-h', 'data-section': 'entry' });
    const index = /^\d{1,19}$/.test(indexText) ? Number(indexText) : NaN;
    sec.appendChild(el('h2', { id: 'entry-h' }, t('audit.entry_title', { index: indexText })));
    if (!Number.isSafeInteger(index)) {
        sec.appendChild(el('div', { class: 'notice error', role: 'alert' }, t('audit.bad_index')));
        return sec;
    }
    try {
        const e = await fetchEntry(ctx, index);
        if (!e) {
            sec.appendChild(el('div', { class: 'notice error', role: 'alert', 'data-error-code': 'not_found' }, t('audit.no_entry', { index })));
            return sec;
        }
        const bytes = b64ToBytes(e.entry);
        const leaf = await V.leafHash(bytes);
        const same = V.b64encode(leaf) === e.leaf_hash;
        const dl = el('dl', { class: 'fields entry-fields' });
        for (const [k, v] of Object.entries(e.decoded || {})) {
            dl.append(el('dt', {}, k), el('dd', { class: k === 'ts' ? '' : 'mono' }, k === 'ts' ? `${ctx.fmt.dateTime(v)} (${v})` : String(v)));
        }
        sec.append(dl,
            hashLine(ctx, t('audit.leaf_computed'), leaf, same ? 'ok' : 'bad'),
            hashLine(ctx, t('audit.leaf_server'), b64ToBytes(e.leaf_hash), same ? 'ok' : 'bad'),
            el('p', { class: same ? 'result ok' : 'result bad', role: same ? 'status' : 'alert', 'data-result': same ? 'ok' : 'fail' }, t(same ? 'audit.leaf_match' : 'audit.leaf_mismatch')),
            el('details', {}, el('summary', {}, t('audit.raw_bytes')), el('pre', { class: 'raw' }, new TextDecoder().decode(bytes))));
        const verifyIdx = el('button', { type: 'button', class: 'primary', 'data-action': 'verify-entry', 'on:click': () => {
            const input = document.querySelector('[data-section="checkpoint"] input[name="index"]');
            if (input) { input.value = String(index); input.closest('form').requestSubmit(); input.closest('section').scrollIntoView(); }
        } }, t('audit.verify_this'));
        sec.appendChild(el('div', { class: 'actions' }, verifyIdx));
    } catch (e) {
        sec.appendChild(errorNote(ctx, e));
    }
    return sec;
}

function checkpointSection(ctx) {
    const { el, t } = ctx;
    const sec = el('section', { class: 'card', 'aria-labelledby': 'cp-h', 'data-section': 'checkpoint' });
    const current = el('div', { class: 'cp-current' });
    const saved = el('div', { class: 'cp-saved' });
    const result = el('div', { class: 'verify-result', 'aria-live': 'polite' });
    const err = el('div');
    const vkey = el('input', { name: 'vkey', type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono wide', value: store(VKEY) || '' });
    const paste = el('textarea', { name: 'checkpoint_note', rows: 5, spellcheck: 'false', class: 'mono wide' });
    const index = el('input', { name: 'index', type: 'number', min: 0, step: 1, inputmode: 'numeric' });
    let latest = null;

    const edNote = el('p', { class: 'small muted', 'data-state': 'ed25519' });
    V.ed25519Supported().then((ok) => { edNote.textContent = t(ok ? 'audit.ed_yes' : 'audit.ed_no'); });

    function showSaved() {
        const note = store(SAVED);
        put(saved);
        if (!note) {
            saved.appendChild(el('p', { class: 'muted', 'data-state': 'none-saved' }, t('audit.none_saved')));
            return null;
        }
        let parsed = null;
        try {
            const rec = JSON.parse(note);
            parsed = { ...rec, cp: V.parseCheckpoint(rec.note) };
            saved.append(
                el('p', {}, t('audit.saved_at', { time: ctx.fmt.dateTime(rec.saved_at), size: String(parsed.cp.size) })),
                hashLine(ctx, t('audit.saved_root'), parsed.cp.root),
                el('details', {}, el('summary', {}, t('audit.note_text')), el('pre', { class: 'raw' }, rec.note)),
                el('button', { type: 'button', 'data-action': 'forget', 'on:click': () => { store(SAVED, null); showSaved(); } }, t('audit.forget')));
            if (!index.value) index.value = parsed.cp.size > 0n ? String(parsed.cp.size - 1n) : '0';
        } catch (e) {
            saved.appendChild(el('div', { class: 'notice error', role: 'alert' }, t('audit.saved_unreadable', { why: e.code || String(e) })));
        }
        return parsed;
    }

    function save(note) {
        V.parseCheckpoint(note); // refuse to keep what is no checkpoint
        store(SAVED, JSON.stringify({ note, saved_at: new Date().toISOString() }));
        index.value = '';
        showSaved();
    }

    async function fetchCurrent() {
        const res = await ctx.api('GET', '/v1/audit/checkpoint');
        latest = res;
        put(current, 
            el('p', {}, t('audit.current_size', { size: res.size })),
            el('pre', { class: 'raw', 'data-checkpoint': 'current' }, res.checkpoint));
        return res;
    }

    const getBtn = el('button', { type: 'button', 'data-action': 'checkpoint', 'on:click': async (ev) => {
        const b = ev.currentTarget;
        b.disabled = true;
        try { await fetchCurrent(); put(err); } catch (e) { put(err, errorNote(ctx, e)); }
        b.disabled = false;
    } }, t('audit.get_current'));
    const saveBtn = el('button', { type: 'button', class: 'primary', 'data-action': 'save-checkpoint', 'on:click': async (ev) => {
        const b = ev.currentTarget;
        b.disabled = true;
        try {
            const res = latest || (await fetchCurrent());
            save(res.checkpoint);
            latest = null;
            ctx.toast(t('audit.saved'), 'ok');
            put(err);
        } catch (e) { put(err, e instanceof V.VerifyError ? el('div', { class: 'notice error', role: 'alert' }, t('audit.vfy.' + e.code)) : errorNote(ctx, e)); }
        b.disabled = false;
    } }, t('audit.save_current'));
    const pasteForm = el('form', { 'data-form': 'paste-checkpoint' },
        labelled(el, t('audit.paste_label'), paste, t('audit.paste_hint')),
        el('div', { class: 'actions' }, el('button', { type: 'submit', 'data-action': 'save-pasted' }, t('audit.save_pasted'))));
    pasteForm.addEventListener('submit', (ev) => {
        ev.preventDefault();
        try {
            let note = paste.value.replace(/\r\n/g, '\n');
            if (!note.endsWith('\n')) note += '\n';
            save(note);
            paste.value = '';
            ctx.toast(t('audit.saved'), 'ok');
            put(err);
        } catch (e) {
            put(err, el('div', { class: 'notice error', role: 'alert' }, t('audit.vfy.' + (e.code || 'bad_note'))));
        }
    });
    vkey.addEventListener('change', () => store(VKEY, vkey.value.trim() || null));

    const verifyForm = el('form', { class: 'row', 'data-form': 'verify' },
        labelled(el, t('audit.vkey_label'), vkey, t('audit.vkey_hint')),
        labelled(el, t('audit.index_label'), index, t('audit.index_hint')),
        el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'verify' }, t('audit.verify'))));
    verifyForm.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        store(VKEY, vkey.value.trim() || null);
        const btn = verifyForm.querySelector('[data-action="verify"]');
        btn.disabled = true;
        verifyForm.setAttribute('aria-busy', 'true');
        put(result, el('p', { class: 'muted', role: 'status' }, t('audit.verifying')));
        try {
            put(result, await verify(ctx, showSaved(), vkey.value.trim(), index.value, (res) => { latest = null; put(current, el('p', {}, t('audit.current_size', { size: res.size })), el('pre', { class: 'raw', 'data-checkpoint': 'current' }, res.checkpoint)); }));
        } catch (e) {
            put(result, errorNote(ctx, e));
        }
        btn.disabled = false;
        verifyForm.removeAttribute('aria-busy');
    });

    sec.append(el('h2', { id: 'cp-h' }, t('audit.checkpoint_title')), el('p', { class: 'muted' }, t('audit.checkpoint_intro')), edNote, el('p', { class: 'small muted' }, t('audit.independent')), err,
        el('div', { class: 'grid2 cp-grid' },
            el('div', {}, el('h3', {}, t('audit.current')), el('div', { class: 'actions' }, getBtn, saveBtn), current),
            el('div', {}, el('h3', {}, t('audit.saved_title')), saved, pasteForm)),
        el('h3', {}, t('audit.verify_title')), verifyForm, result);
    showSaved();
    return sec;
}

// The verification itself: each step with its outcome and the hashes it compared.
async function verify(ctx, saved, vkeyText, indexText, onCurrent) {
    const { el, t } = ctx;
    const steps = [];
    let ok = true;
    const step = (key, pass, vars, ...hashes) => {
        ok = ok && pass !== false;
        steps.push(el('li', { class: pass === false ? 'bad' : pass === null ? 'skip' : 'ok', 'data-step': key, 'data-pass': pass === false ? 'false' : pass === null ? 'skip' : 'true' },
            el('span', { class: 'mark', 'aria-hidden': 'true' }, pass === false ? '✗' : pass === null ? '–' : '✓'), ' ',
            el('span', { class: 'sr-only' }, t(pass === false ? 'audit.step_fail' : pass === null ? 'audit.step_skip' : 'audit.step_ok') + ': '),
            t('audit.step.' + key, vars), ...hashes));
    };
    if (!saved) {
        return el('div', { class: 'notice warn', role: 'alert', 'data-result': 'none' }, t('audit.need_saved'));
    }
    // 1. The saved checkpoint, and its signature.
    let old = saved.cp;
    try {
        const o = await V.openCheckpoint(saved.note, vkeyText);
        old = o.checkpoint;
        step('saved_sig', o.signature === 'valid' ? true : null, { state: t('audit.sig.' + o.signature) });
    } catch (e) {
        step('saved_sig', false, { state: t('audit.vfy.' + (e.code || 'bad_signature')) });
    }
    // 2. The log's checkpoint now, and its signature.
    const res = await ctx.api('GET', '/v1/audit/checkpoint');
    onCurrent(res);
    let cur;
    try {
        const c = await V.openCheckpoint(res.checkpoint, vkeyText);
        cur = c.checkpoint;
        step('current_sig', c.signature === 'valid' ? true : null, { state: t('audit.sig.' + c.signature) });
    } catch (e) {
        step('current_sig', false, { state: t('audit.vfy.' + (e.code || 'bad_signature')) });
        try { cur = V.parseCheckpoint(res.checkpoint); } catch (_) { cur = null; }
    }
    if (!cur) {
        return resultBox(ctx, false, steps);
    }
    step('origin', old.origin === cur.origin, { saved: old.origin, current: cur.origin });
    const m = old.size;
    const n = cur.size;
    step('sizes', m <= n, { m: String(m), n: String(n) });
    // 3. Consistency: the saved tree is a prefix of today's.
    if (m > n) {
        // nothing more can hold
    } else if (m === 0n) {
        step('consistency_empty', null, {});
    } else if (m === n) {
        const same = V.b64encode(old.root) === V.b64encode(cur.root);
        step('same_size', same, {}, hashLine(ctx, t('audit.saved_root'), old.root), hashLine(ctx, t('audit.current_root'), cur.root));
    } else {
        const p = await ctx.api('GET', '/v1/audit/proof/consistency' + qs({ from: String(m), to: String(n) }));
        const proof = (p.proof || []).map(b64ToBytes);
        const good = await V.verifyConsistency(m, n, old.root, cur.root, proof);
        step('consistency', good, { m: String(m), n: String(n), k: proof.length },
            hashLine(ctx, t('audit.saved_root'), old.root, good ? 'ok' : 'bad'),
            hashLine(ctx, t('audit.server_root_from'), b64ToBytes(p.root_from), V.b64encode(b64ToBytes(p.root_from)) === V.b64encode(old.root) ? 'ok' : 'bad'),
            hashLine(ctx, t('audit.current_root'), cur.root),
            el('details', {}, el('summary', {}, t('audit.proof_hashes', { k: proof.length })), el('ol', { class: 'proof' }, proof.map((h) => el('li', {}, el('code', { class: 'hash' }, V.hex(h)))))));
    }
    // 4. Inclusion of one entry, hashed here from its bytes, in the saved tree and in today's.
    const i = indexText === '' || indexText === undefined ? (m > 0n ? m - 1n : n - 1n) : BigInt(indexText);
    if (n === 0n || i < 0n || i >= n) {
        step('inclusion_range', false, { index: String(i), n: String(n) });
    } else {
        const e = await fetchEntry(ctx, Number(i));
        if (!e) {
            step('entry', false, { index: String(i) });
        } else {
            const leaf = await V.leafHash(b64ToBytes(e.entry));
            step('leaf', V.b64encode(leaf) === e.leaf_hash, { index: String(i) }, hashLine(ctx, t('audit.leaf_computed'), leaf), hashLine(ctx, t('audit.leaf_server'), b64ToBytes(e.leaf_hash)));
            const trees = [];
            if (i < m) trees.push([m, old.root, 'saved']);
            trees.push([n, cur.root, 'current']);
            for (const [size, rootHash, which] of trees) {
                const p = await ctx.api('GET', '/v1/audit/proof/inclusion' + qs({ index: String(i), size: String(size) }));
                const proof = (p.proof || []).map(b64ToBytes);
                const good = await V.verifyInclusion(leaf, i, size, proof, rootHash);
                step('inclusion_' + which, good, { index: String(i), size: String(size), k: proof.length },
                    hashLine(ctx, t(which === 'saved' ? 'audit.saved_root' : 'audit.current_root'), rootHash, good ? 'ok' : 'bad'),
                    el('details', {}, el('summary', {}, t('audit.proof_hashes', { k: proof.length })), el('ol', { class: 'proof' }, proof.map((h) => el('li', {}, el('code', { class: 'hash' }, V.hex(h)))))));
            }
        }
    }
    return resultBox(ctx, ok, steps);
}

function resultBox(ctx, ok, steps) {
    const { el, t } = ctx;
    return el('div', { class: 'verify-box ' + (ok ? 'ok' : 'bad'), 'data-result': ok ? 'ok' : 'fail' },
        el('p', { class: 'result ' + (ok ? 'ok' : 'bad'), role: ok ? 'status' : 'alert' }, t(ok ? 'audit.result_ok' : 'audit.result_fail')),
        el('ol', { class: 'steps' }, steps));
}

function searchSection(ctx) {
    const { el, t } = ctx;
    const out = el('div');
    let last = null;
    const dl = el('datalist', { id: 'audit-actions' }, ACTIONS.map((a) => el('option', { value: a })));
    const form = el('form', { class: 'row', 'data-form': 'search' },
        labelled(el, t('audit.f.actor'), el('input', { name: 'actor', type: 'text', autocomplete: 'off', maxlength: 128 })),
        labelled(el, t('audit.f.customer'), el('input', { name: 'customer', type: 'text', autocomplete: 'off', maxlength: 64, class: 'mono' })),
        labelled(el, t('audit.f.action'), el('input', { name: 'action', type: 'text', list: 'audit-actions', autocomplete: 'off', maxlength: 64 })),
        labelled(el, t('audit.f.decision'), el('select', { name: 'decision' }, el('option', { value: '' }, t('audit.any')),
            el('option', { value: 'allow' }, t('audit.decision.allow')), el('option', { value: 'deny' }, t('audit.decision.deny')))),
        labelled(el, t('audit.f.from'), el('input', { name: 'from', type: 'datetime-local' }), t('audit.local_time')),
        labelled(el, t('audit.f.to'), el('input', { name: 'to', type: 'datetime-local' })),
        dl,
        el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'search' }, t('audit.search'))));
    async function run(after) {
        const v = values(form);
        const q = { actor: v.actor, customer: v.customer, action: v.action, decision: v.decision, from: toRfc3339(v.from), to: toRfc3339(v.to), limit: 50, after };
        form.setAttribute('aria-busy', 'true');
        try {
            const res = await ctx.api('GET', '/v1/audit/entries' + qs(q));
            const rows = after !== undefined && last ? last.concat(res.entries || []) : res.entries || [];
            last = rows;
            put(out, 
                el('p', { class: 'muted', role: 'status' }, t('audit.found', { n: rows.length })),
                rows.length ? entryTable(ctx, rows, t('audit.results')) : el('p', { class: 'empty', 'data-state': 'empty' }, t('audit.nothing')),
                res.next !== null && res.next !== undefined ? el('div', { class: 'pager' }, el('button', { type: 'button', 'data-action': 'more', 'on:click': () => run(res.next) }, t('audit.more'))) : null);
        } catch (e) {
            put(out, errorNote(ctx, e));
        }
        form.removeAttribute('aria-busy');
    }
    form.addEventListener('submit', (ev) => { ev.preventDefault(); last = null; run(); });
    return el('section', { class: 'card', 'aria-labelledby': 'search-h', 'data-section': 'search' },
        el('h2', { id: 'search-h' }, t('audit.search_title')), form, out);
}

function listLine(ctx, label, items) {
    const { el } = ctx;
    return el('p', {}, el('strong', {}, label + ': '), items && items.length ? items.join(', ') : '—');
}

function subjectSection(ctx) {
    const { el, t } = ctx;
    const out = el('div');
    const form = el('form', { class: 'row', 'data-form': 'subject-report' },
        labelled(el, t('audit.f.customer'), el('input', { name: 'customer', type: 'text', required: true, autocomplete: 'off', maxlength: 64, class: 'mono' })),
        el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'subject-report' }, t('audit.run_report'))));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const v = values(form);
        form.setAttribute('aria-busy', 'true');
        try {
            const r = await ctx.api('GET', '/v1/audit/reports/subject' + qs({ customer: (v.customer || '').trim() }));
            const acc = r.accesses || [];
            put(out, listLine(ctx, t('audit.r.actors'), r.actors), listLine(ctx, t('audit.r.fields'), r.fields),
                acc.length ? entryTable(ctx, acc, t('audit.subject_title')) : el('p', { class: 'empty', 'data-state': 'empty' }, t('audit.nothing')));
        } catch (e) {
            put(out, errorNote(ctx, e));
        }
        form.removeAttribute('aria-busy');
    });
    return el('section', { class: 'card', 'aria-labelledby': 'subj-h', 'data-section': 'subject-report' },
        el('h2', { id: 'subj-h' }, t('audit.subject_title')), el('p', { class: 'muted' }, t('audit.subject_intro')), form, out);
}

function actorSection(ctx) {
    const { el, t } = ctx;
    const out = el('div');
    const form = el('form', { class: 'row', 'data-form': 'actor-report' },
        labelled(el, t('audit.f.actor'), el('input', { name: 'actor', type: 'text', required: true, autocomplete: 'off', maxlength: 128 })),
        labelled(el, t('audit.f.from'), el('input', { name: 'from', type: 'datetime-local' }), t('audit.local_time')),
        labelled(el, t('audit.f.to'), el('input', { name: 'to', type: 'datetime-local' })),
        el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'actor-report' }, t('audit.run_report'))));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const v = values(form);
        form.setAttribute('aria-busy', 'true');
        try {
            const r = await ctx.api('GET', '/v1/audit/reports/actor' + qs({ actor: (v.actor || '').trim(), from: toRfc3339(v.from), to: toRfc3339(v.to) }));
            const ents = r.entries || [];
            put(out, 
                el('p', { class: 'muted' }, t('audit.window', { from: ctx.fmt.dateTime(r.from), to: ctx.fmt.dateTime(r.to) })),
                listLine(ctx, t('audit.r.customers'), r.customers), listLine(ctx, t('audit.r.fields'), r.fields),
                ents.length ? entryTable(ctx, ents, t('audit.actor_title')) : el('p', { class: 'empty', 'data-state': 'empty' }, t('audit.nothing')));
        } catch (e) {
            put(out, errorNote(ctx, e));
        }
        form.removeAttribute('aria-busy');
    });
    return el('section', { class: 'card', 'aria-labelledby': 'actor-h', 'data-section': 'actor-report' },
        el('h2', { id: 'actor-h' }, t('audit.actor_title')), el('p', { class: 'muted' }, t('audit.actor_intro')), form, out);
}
