// incidents_docs.js - an incident's documents: the customer notices, the regulator reports and
// the public statement, each previewed in both languages side by side (the server's text, shown
// as text), downloaded as text, HTML or PDF, approved by legal before anything is sent; the
// notices sent by e-mail (customer service or legal, once approved), their delivery records with
// a retry of failures, and the SMS/post export.
import { put, errorNote, labelled } from '../lib/chart_ui.js';
import * as M from './incidents_model.js';
import { confirmBox, itable } from './incidents_detail.js';

const NOTICE_KINDS = /^(customer-notice|gdpr-34)$/;
const OUTCOMES = ['pending', 'sending', 'sent', 'failed', 'gave-up', 'no-address'];
const FAILED = ['failed', 'gave-up', 'no-address'];
const outcome = (r) => r.outcome || r.state || r.status || '';

export function kindLabel(t, kind) {
    const s = t('inc.doc.' + kind);
    return s.startsWith('\u27e6') ? kind : s;
}

export function documentsSection(ctx, host, inc) {
    const { el, t, me } = ctx;
    const base = '/v1/incidents/' + encodeURIComponent(inc.id);
    const err = el('div');
    const listBox = el('div');
    const preview = el('div', { class: 'doc-preview', 'aria-live': 'polite' });
    const recordsBox = el('div');
    const customer = el('input', { name: 'customer', type: 'text', autocomplete: 'off', maxlength: 64, inputmode: 'numeric' });
    const sec = el('section', { class: 'card', 'aria-labelledby': 'inc-docs-h', 'data-section': 'documents' },
        el('h2', { id: 'inc-docs-h' }, t('inc.documents')),
        el('p', { class: 'muted small' }, t('inc.documents_intro')),
        el('div', { class: 'row' }, labelled(el, t('inc.f.customer'), customer, t('inc.f.customer_hint'))),
        err, listBox, preview, recordsBox);
    if (M.can(me, 'texts') && inc.phase !== 'closed') sec.insertBefore(textsForm(), err);
    host.appendChild(sec);

    // The teams' words the documents are written from, one language at a time.
    function textsForm() {
        const langSel = el('select', { name: 'lang' }, M.LANGS.map((l) => el('option', { value: l }, t('inc.lang.' + l))));
        const note = el('div');
        const f = el('form', { 'data-form': 'texts' },
            el('div', { class: 'row' }, labelled(el, t('inc.f.texts_lang'), langSel, t('inc.f.texts_hint'))),
            M.TEXT_KEYS.map((k) => labelled(el, t('inc.text.' + k), el('textarea', { name: k, rows: 2, maxlength: 2000, class: 'wide' }))),
            el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'save-texts' }, t('inc.save_texts'))),
            note);
        f.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            const v = {};
            for (const k of M.TEXT_KEYS) v[k] = f.elements[k].value;
            const r = M.textsBody(langSel.value, v);
            if (r.error) {
                put(note, el('div', { class: 'notice error', role: 'alert' }, r.error === 'brace' ? t('inc.texts_brace', { field: t('inc.text.' + r.key) }) : t('inc.texts_empty')));
                return;
            }
            const btn = f.querySelector('[data-action="save-texts"]');
            btn.disabled = true;
            f.setAttribute('aria-busy', 'true');
            try {
                await ctx.api('POST', base + '/documents/texts', r.body);
                put(note);
                for (const k of M.TEXT_KEYS) f.elements[k].value = '';
                ctx.toast(t('inc.texts_saved', { lang: t('inc.lang.' + r.body.lang) }), 'ok');
                await load();
            } catch (e) {
                put(note, errorNote(ctx, e));
            } finally {
                btn.disabled = false;
                f.removeAttribute('aria-busy');
            }
        });
        return el('details', { class: 'texts', 'data-section': 'texts' }, el('summary', {}, t('inc.texts')), el('p', { class: 'muted small' }, t('inc.texts_intro')), f);
    }

    const cust = (kind) => (NOTICE_KINDS.test(kind) ? customer.value.trim() : '');

    function downloads(kind) {
        return el('div', { class: 'downloads' }, M.LANGS.map((l) => el('div', { class: 'dl-lang' },
            el('span', { class: 'muted small' }, t('inc.lang.' + l) + ': '),
            M.DOC_FORMATS.map((f) => el('a', {
                href: M.docPath(inc.id, kind, l, f, cust(kind)), download: `${inc.id}-${kind}-${l}.${f === 'text' ? 'txt' : f}`,
                'data-action': 'download', 'data-kind': kind, 'data-lang': l, 'data-format': f,
            }, t('inc.format.' + f), el('span', { class: 'sr-only' }, t('inc.download_what', { doc: kindLabel(t, kind), lang: t('inc.lang.' + l) })))))));
    }

    async function show(kind, btn) {
        if (btn) btn.disabled = true;
        put(preview, el('p', { class: 'muted', role: 'status' }, t('inc.preview_loading')));
        try {
            const texts = await Promise.all(M.LANGS.map((l) => ctx.apiText('GET', M.docPath(inc.id, kind, l, 'text', cust(kind)))));
            put(preview, el('h3', { id: 'inc-prev-h' }, t('inc.preview_of', { doc: kindLabel(t, kind) })),
                el('div', { class: 'preview-pair', 'data-preview': kind, role: 'group', 'aria-labelledby': 'inc-prev-h' },
                    M.LANGS.map((l, i) => el('figure', { class: 'preview-one', 'data-lang': l },
                        el('figcaption', {}, t('inc.lang.' + l)),
                        el('pre', { class: 'doc-text', lang: l, tabindex: '0' }, texts[i].text)))));
        } catch (e) {
            put(preview, errorNote(ctx, e));
        } finally {
            if (btn) btn.disabled = false;
        }
    }

    function rowActions(d) {
        const box = el('div', { class: 'actions' });
        box.appendChild(el('button', { type: 'button', 'data-action': 'preview', 'on:click': (ev) => show(d.kind, ev.currentTarget) }, t('inc.preview')));
        if (M.can(me, 'approve') && !d.approved && inc.phase !== 'closed') {
            box.appendChild(el('button', { type: 'button', class: 'primary', 'data-action': 'approve', 'on:click': () => confirmBox(ctx, box, {
                name: 'approve', question: t('inc.approve_q', { doc: kindLabel(t, d.kind) }),
                run: async () => { await ctx.api('POST', `${base}/documents/${encodeURIComponent(d.kind)}/approve`, {}); ctx.toast(t('inc.approved_ok'), 'ok'); await load(); },
            }) }, t('inc.approve')));
        }
        return box;
    }

    function exportApprovals() {
        return el('div', { class: 'actions', 'data-section': 'export-approve' },
            ['sms', 'post'].map((ch) => el('button', { type: 'button', 'data-action': 'approve-export-' + ch, 'on:click': (ev) => confirmBox(ctx, ev.currentTarget.parentNode, {
                name: 'approve-export-' + ch, question: t('inc.export.approve_q.' + ch),
                run: async () => { await ctx.api('POST', base + '/notices/export/approve', { channel: ch }); ctx.toast(t('inc.export.approved_ok'), 'ok'); },
            }) }, t('inc.export.approve.' + ch))));
    }

    function drawRecords(recs, canSend, canApproveExport) {
        const list = Array.isArray(recs) ? recs : (recs && (recs.notices || recs.records)) || [];
        const failed = list.filter((r) => FAILED.includes(outcome(r))).length;
        put(recordsBox,
            el('h3', {}, t('inc.notices')),
            canSend ? el('div', { class: 'actions' },
                el('button', { type: 'button', class: 'primary', 'data-action': 'send-notices', 'on:click': (ev) => confirmBox(ctx, ev.currentTarget.parentNode, {
                    name: 'send-notices', question: t('inc.send_q'),
                    run: async () => { await ctx.api('POST', base + '/notices/send', {}); ctx.toast(t('inc.sent_ok'), 'ok'); await loadRecords(); },
                }) }, t('inc.send')),
                failed ? el('button', { type: 'button', 'data-action': 'retry', 'on:click': async (ev) => {
                    ev.currentTarget.disabled = true;
                    try { await ctx.api('POST', base + '/notices/retry', {}); ctx.toast(t('inc.retried'), 'ok'); await loadRecords(); } catch (e) { put(err, errorNote(ctx, e)); }
                } }, t('inc.retry', { n: failed })) : null,
                ['sms', 'post'].map((ch) => el('a', { href: `${base}/notices/export?channel=${ch}`, download: `${inc.id}-notices-${ch}.csv`, 'data-action': 'export-' + ch, title: t('inc.export.needs') }, t('inc.export.' + ch))),
                el('p', { class: 'hint small' }, t('inc.export.needs'))) : null,
            canApproveExport ? exportApprovals() : null,
            list.length === 0 ? el('p', { class: 'empty', 'data-state': 'no-notices' }, t('inc.no_notices')) : itable(el, [
                { key: 'customer', label: t('inc.c.customer'), cell: (r) => el('span', { class: 'mono small' }, r.customer ?? r.customer_id ?? '') },
                { key: 'channel', label: t('inc.c.channel'), cell: (r) => r.channel || r.how || '' },
                { key: 'lang', label: t('inc.c.lang'), cell: (r) => (M.LANGS.includes(r.lang) ? t('inc.lang.' + r.lang) : r.lang || '') },
                { key: 'state', label: t('inc.c.state'), cell: (r) => {
                    const st = outcome(r);
                    return el('span', { class: 'badge ' + (FAILED.includes(st) ? 'danger' : st === 'sent' ? 'ok' : 'warn'), 'data-outcome': st }, OUTCOMES.includes(st) ? t('inc.outcome.' + st) : st);
                } },
                { key: 'attempts', label: t('inc.c.attempts'), class: 'num', cell: (r) => String(r.attempts ?? '') },
                { key: 'by', label: t('inc.c.by'), cell: (r) => r.by || '' },
                { key: 'at', label: t('inc.c.when'), cell: (r) => ctx.fmt.dateTime(M.field(r, 'last') || M.field(r, 'first')) },
            ], list.slice(0, 200), { label: t('inc.notices'), idOf: (r) => String(r.customer ?? r.customer_id ?? r.id ?? '') }));
    }

    let approvedNotice = false;
    async function loadRecords() {
        const canSend = M.can(me, 'send') && approvedNotice;
        const canApproveExport = M.can(me, 'approveExport') && approvedNotice && inc.phase !== 'closed';
        try {
            drawRecords(await ctx.api('GET', base + '/notices'), canSend, canApproveExport);
        } catch (e) {
            if (e && (e.status === 404 || e.status === 403)) { put(recordsBox); return; }
            put(recordsBox, errorNote(ctx, e));
        }
    }

    async function load() {
        try {
            const rows = M.documentKinds(await ctx.api('GET', base + '/documents'));
            put(err);
            approvedNotice = rows.some((d) => NOTICE_KINDS.test(d.kind) && Object.values(d.langs).some((x) => x.approved));
            put(listBox, rows.length === 0 ? el('p', { class: 'empty', 'data-state': 'no-documents' }, t('inc.no_documents')) : itable(el, [
                { key: 'kind', label: t('inc.c.document'), cell: (d) => el('strong', {}, kindLabel(t, d.kind)) },
                { key: 'approved', label: t('inc.c.approved'), cell: (d) => el('span', { 'data-approved': d.approved ? '1' : '0' },
                    d.approved
                        ? el('span', { class: 'badge ok' }, t('inc.approved_by', { who: d.approved_by, time: ctx.fmt.dateTime(M.toMs(d.approved_at)) }))
                        : el('span', { class: 'badge warn' }, t('inc.not_approved')),
                    !d.approved && Object.values(d.langs).some((x) => x.approved)
                        ? el('div', { class: 'muted small' }, t('inc.approved_langs', { langs: M.LANGS.filter((l) => d.langs[l] && d.langs[l].approved).map((l) => t('inc.lang.' + l)).join('、') })) : null) },
                { key: 'downloads', label: t('inc.c.downloads'), cell: (d) => downloads(d.kind) },
                { key: 'actions', label: t('inc.c.actions'), cell: (d) => rowActions(d) },
            ], rows, { label: t('inc.documents') }));
            if (M.can(me, 'send') || me.role === 'legal' || me.role === 'auditor') await loadRecords();
        } catch (e) {
            if (e && e.status === 404 && e.code === 'not_found' && !/incident/i.test(e.message || '')) {
                put(listBox, el('p', { class: 'empty', 'data-state': 'no-documents' }, t('inc.no_documents')));
                return;
            }
            put(err, errorNote(ctx, e));
        }
    }
    return { load };
}

// The incident report (every reader) and the evidence index (those who may export the evidence,
// once the scope is computed), each in both languages as text, HTML or PDF: the server's bytes.
export function reportsSection(ctx, host, inc) {
    const { el, t, me } = ctx;
    const which = [];
    if (M.can(me, 'report')) which.push('report');
    if (M.can(me, 'evidenceIndex') && inc.has_scope) which.push('evidence-index');
    if (which.length === 0) return null;
    const links = (w) => el('div', { class: 'downloads' }, M.LANGS.map((l) => el('div', { class: 'dl-lang' },
        el('span', { class: 'muted small' }, t('inc.lang.' + l)),
        M.DOC_FORMATS.map((f) => el('a', {
            href: M.reportPath(inc.id, w, l, f), download: `${inc.id}-${w}-${l}.${f === 'text' ? 'txt' : f}`,
            'data-action': 'download-' + w, 'data-lang': l, 'data-format': f,
        }, t('inc.format.' + f), el('span', { class: 'sr-only' }, t('inc.download_what', { doc: t('inc.rep.' + w), lang: t('inc.lang.' + l) })))))));
    const sec = el('section', { class: 'card', 'aria-labelledby': 'inc-rep-h', 'data-section': 'reports' },
        el('h2', { id: 'inc-rep-h' }, t('inc.reports')),
        el('p', { class: 'muted small' }, t('inc.reports_intro')),
        itable(el, [
            { key: 'doc', label: t('inc.c.document'), cell: (w) => el('strong', {}, t('inc.rep.' + w)) },
            { key: 'downloads', label: t('inc.c.downloads'), cell: (w) => links(w) },
        ], which, { label: t('inc.reports') }));
    host.appendChild(sec);
    return sec;
}
