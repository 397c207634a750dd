// customers.js - find a customer (phone, e-mail, ID number, name), page through the list,
// open the card as the policy shapes it (masked fields masked, hidden fields absent), add
// transactions and communications, request a correction (customer service), edit and erase
// (data stewards), import a file and request an export (data stewards).
import { clear, field, formValues } from '../lib/dom.js';
import { qs } from '../lib/api.js';
import { has } from '../lib/i18n.js';

const READERS = ['sales', 'customer_service', 'data_steward'];
// What each role may do beyond reading, in the default policy (the server decides; these only
// choose which controls to show, and a refusal is shown as it comes).
// Records are fetched only where the role may read them: a refused read is a denial that the
// audit log records and the guard counts against the person.
const CAN = {
  sales: { txnRead: true, txnCreate: true },
  customer_service: { commRead: true, commCreate: true, request: true },
  data_steward: { txnRead: true, commRead: true, txnCreate: true, commCreate: true, edit: true, erase: true, create: true, import: true, export: true },
};
const CARD_FIELDS = ['name', 'id_number', 'birth_date', 'phone', 'email', 'wechat', 'address', 'preferences', 'vip_level', 'department', 'salesperson', 'marketing_consent', 'notes'];
const CORRECTABLE = ['name', 'phone', 'email', 'wechat', 'address'];
const EDITABLE = ['name', 'id_number', 'phone', 'email', 'wechat', 'address', 'vip_level', 'salesperson', 'notes'];
const SEARCH_BY = ['phone', 'email', 'id_number', 'name'];
const CHANNELS = ['phone', 'email', 'wechat', 'visit', 'letter', 'other'];

function can(me, what) {
  if (me.break_glass && (what === 'txnRead' || what === 'commRead')) return true; // reads any customer in full
  return !!((CAN[me.role] || {})[what]);
}
function masked(v) { return typeof v === 'string' && v.includes('*'); }

export function showValue(c, name, v) {
  const el = c.el;
  if (v === undefined || v === null) return '—';
  if (name === 'preferences' && Array.isArray(v)) return v.map((p) => (has('pref.' + p) ? c.t('pref.' + p) : p)).join(c.t('cust.list_sep'));
  if (name === 'marketing_consent') return v ? c.t('common.yes') : c.t('common.no');
  if (masked(v)) return el('span', { class: 'masked', title: c.t('cust.masked'), 'data-masked': '' }, v, el('span', { class: 'small' }, ' (' + c.t('cust.masked') + ')'));
  return String(v);
}

export default {
  name: 'customers',
  titleKey: 'nav.customers',
  visible: (me) => !!me && (READERS.includes(me.role) || !!me.break_glass),
  async render(root, c) {
    if (c.params[0]) return card(root, c, c.params[0]);
    return list(root, c);
  },
};

// ---- the list and search ----
const pageState = { by: 'phone', term: '', cursors: [null] };

async function list(root, c) {
  const el = c.el;
  const me = c.me;
  const results = el('div', { 'aria-live': 'polite' });
  const by = el('select', { name: 'by' }, SEARCH_BY.map((k) => el('option', { value: k, selected: pageState.by === k }, c.t('cust.field.' + k))));
  const term = el('input', { name: 'term', type: 'search', value: pageState.term, placeholder: c.t('cust.search_placeholder') });
  const form = el('form', { class: 'card', role: 'search' },
    el('div', { class: 'row' },
      field(c.t('cust.search_by'), by),
      el('div', { class: 'spacer' }, field(c.t('cust.term'), term)),
      el('div', { class: 'field' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'search' }, c.t('common.search'))),
      el('div', { class: 'field' }, el('button', { type: 'button', 'data-action': 'list-all', 'on:click': () => { pageState.term = ''; term.value = ''; pageState.cursors = [null]; load(); } }, c.t('cust.list_all')))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    pageState.by = by.value;
    pageState.term = term.value.trim();
    pageState.cursors = [null];
    load();
  });
  const tools = el('div', { class: 'actions' },
    can(me, 'create') ? el('button', { type: 'button', 'data-action': 'new', 'on:click': () => newCustomer(root, c) }, c.t('cust.new')) : null,
    can(me, 'import') ? el('button', { type: 'button', 'data-action': 'import', 'on:click': () => importPanel(root, c) }, c.t('cust.import')) : null,
    can(me, 'export') ? el('button', { type: 'button', 'data-action': 'export', 'on:click': () => exportPanel(root, c) }, c.t('cust.export')) : null);
  const panel = el('div', { class: 'panel' });
  root.append(el('div', { class: 'row' }, el('h1', {}, c.t('nav.customers')), el('div', { class: 'spacer' }), tools), panel, form, results);

  async function load() {
    clear(results).appendChild(el('p', { class: 'muted', role: 'status' }, c.t('common.loading')));
    const page = pageState.cursors.length - 1;
    const q = { limit: 25, after: pageState.cursors[page] || undefined };
    if (pageState.term) q[pageState.by] = pageState.term;
    let res;
    try {
      res = await c.api('GET', '/v1/customers' + qs(q));
    } catch (e) {
      clear(results).appendChild(c.errorBox(e));
      return;
    }
    clear(results);
    const rows = res.customers || [];
    if (!rows.length) {
      results.appendChild(el('p', { class: 'card muted', role: 'status', 'data-state': 'empty' }, c.t('cust.none')));
      return;
    }
    const cols = ['name', 'phone', 'email', 'id_number', 'vip_level', 'department'].filter((k) => rows.some((r) => r[k] !== undefined));
    results.appendChild(el('div', { class: 'table-wrap' }, el('table', {},
      el('caption', { class: 'muted small' }, c.t('cust.page', { n: page + 1 })),
      el('thead', {}, el('tr', {}, cols.map((k) => el('th', { scope: 'col' }, c.t('cust.field.' + k))), el('th', { scope: 'col' }, c.t('cust.updated')))),
      el('tbody', {}, rows.map((r) => el('tr', { 'data-id': r.id },
        cols.map((k, i) => el('td', {}, i === 0 ? el('a', { href: '#/customers/' + encodeURIComponent(r.id), 'data-action': 'open' }, showValue(c, k, r[k])) : showValue(c, k, r[k]))),
        el('td', { class: 'small muted' }, c.fmt.dateTime(r.updated_at || r.created_at))))))));
    results.appendChild(el('div', { class: 'pager' },
      page > 0 ? el('button', { type: 'button', 'data-action': 'prev', 'on:click': () => { pageState.cursors.pop(); load(); } }, c.t('cust.prev')) : null,
      res.next ? el('button', { type: 'button', 'data-action': 'next', 'on:click': () => { pageState.cursors.push(res.next); load(); } }, c.t('common.next')) : null));
  }
  load();
}

// ---- new customer (stewards) ----
function newCustomer(root, c) {
  const el = c.el;
  const panel = root.querySelector('.panel');
  const errSlot = el('div');
  const form = el('form', { class: 'card', 'aria-labelledby': 'new-h' },
    el('h2', { id: 'new-h' }, c.t('cust.new')), errSlot,
    el('div', { class: 'grid2' },
      ['name', 'phone', 'email', 'id_number', 'address', 'wechat'].map((k) => field(c.t('cust.field.' + k), el('input', { name: k, required: k === 'name' })))),
    field(c.t('cust.field.notes'), el('textarea', { name: 'notes' })),
    el('div', { class: 'actions' },
      el('button', { type: 'submit', class: 'primary', 'data-action': 'create' }, c.t('common.save')),
      el('button', { type: 'button', 'data-action': 'cancel', 'on:click': () => clear(panel) }, c.t('common.cancel'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(errSlot);
    try {
      const res = await c.api('POST', '/v1/customers', formValues(form));
      c.toast(c.t('cust.created'), 'ok');
      c.navigate('#/customers/' + encodeURIComponent(res.id));
    } catch (e) { errSlot.appendChild(c.errorBox(e)); }
  });
  clear(panel).appendChild(form);
  form.querySelector('input').focus();
}

// ---- import (stewards): the row errors are shown inline when the file is refused ----
function importPanel(root, c) {
  const el = c.el;
  const panel = root.querySelector('.panel');
  const out = el('div', { 'aria-live': 'polite' });
  const form = el('form', { class: 'card', 'aria-labelledby': 'imp-h' },
    el('h2', { id: 'imp-h' }, c.t('cust.import')),
    el('p', { class: 'muted' }, c.t('cust.import_help')),
    field(c.t('cust.import_file'), el('input', { name: 'file', type: 'file', accept: '.csv,.json,.jsonl,text/csv,application/json', required: true })),
    field(c.t('cust.import_charset'), el('select', { name: 'charset' }, ['utf-8', 'gb18030'].map((x) => el('option', { value: x }, x)))),
    el('div', { class: 'row' }, el('input', { type: 'checkbox', name: 'dry_run', id: 'imp-dry', checked: true }), el('label', { for: 'imp-dry' }, c.t('cust.import_dry'))),
    el('div', { class: 'actions' },
      el('button', { type: 'submit', class: 'primary', 'data-action': 'upload' }, c.t('cust.import_go')),
      el('button', { type: 'button', 'data-action': 'cancel', 'on:click': () => clear(panel) }, c.t('common.cancel'))),
    out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(out);
    const v = formValues(form);
    if (!v.file) return;
    const isCsv = /\.csv$/i.test(v.file.name) || v.file.type === 'text/csv';
    const ct = (isCsv ? 'text/csv' : 'application/json') + (v.charset === 'gb18030' ? '; charset=gb18030' : '');
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    out.appendChild(el('p', { role: 'status', class: 'muted' }, c.t('cust.import_running')));
    try {
      const body = await v.file.arrayBuffer();
      const rep = await c.api('POST', '/v1/import' + (v.dry_run ? '?dry_run=1' : ''), body, { contentType: ct });
      clear(out).appendChild(el('div', { class: 'notice', role: 'status', 'data-state': 'import-ok' },
        c.t(rep.dry_run ? 'cust.import_dry_ok' : 'cust.import_ok', { rows: rep.rows, created: rep.created, would: rep.would_create, dup: rep.duplicates })));
    } catch (e) {
      clear(out).appendChild(c.errorBox(e));
      const rep = e.body;
      if (rep && Array.isArray(rep.errors) && rep.errors.length) {
        out.appendChild(el('p', {}, c.t('cust.import_errors', { n: rep.error_count, rows: rep.rows })));
        out.appendChild(el('div', { class: 'table-wrap' }, el('table', { 'data-import-errors': '' },
          el('thead', {}, el('tr', {}, ['row', 'line', 'field', 'message'].map((k) => el('th', { scope: 'col' }, c.t('cust.imp.' + k))))),
          el('tbody', {}, rep.errors.slice(0, 200).map((r) => el('tr', {},
            el('td', { class: 'num' }, String(r.row)), el('td', { class: 'num' }, String(r.line)),
            el('td', {}, r.field ? c.t('cust.field.' + r.field) : ''), el('td', {}, r.message)))))));
      }
    } finally {
      btn.disabled = false;
      btn.setAttribute('aria-busy', 'false');
    }
  });
  clear(panel).appendChild(form);
}

// ---- export (stewards): request, wait for another steward's approval, download once ----
async function exportPanel(root, c) {
  const el = c.el;
  const panel = root.querySelector('.panel');
  const listBox = el('div');
  const fmt = el('select', { name: 'format' }, el('option', { value: 'csv' }, 'CSV'), el('option', { value: 'jsonl' }, 'JSON Lines'));
  const form = el('form', { class: 'card', 'aria-labelledby': 'exp-h' },
    el('h2', { id: 'exp-h' }, c.t('cust.export')),
    el('p', { class: 'muted' }, c.t('cust.export_help')),
    el('div', { class: 'row' }, field(c.t('cust.export_format'), fmt),
      el('div', { class: 'field' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'request-export' }, c.t('cust.export_request')))),
    el('h3', {}, c.t('cust.export_mine')), listBox,
    el('div', { class: 'actions' }, el('button', { type: 'button', 'data-action': 'cancel', 'on:click': () => clear(panel) }, c.t('common.close'))));
  async function refresh() {
    clear(listBox);
    try {
      const res = await c.api('GET', '/v1/requests');
      const mine = (res.requests || []).filter((r) => r.kind === 'export' && r.requester === c.me.username);
      if (!mine.length) return listBox.appendChild(el('p', { class: 'muted' }, c.t('common.none')));
      listBox.appendChild(el('ul', {}, mine.map((r) => el('li', { 'data-id': r.id },
        r.id + ' · ' + (r.format || '') + ' · ', el('span', { class: 'badge' }, c.t('req.status.' + r.status)), ' ',
        r.status === 'approved'
          ? el('a', { href: '/v1/export' + qs({ format: r.format || 'csv', request: r.id }), download: '', 'data-action': 'download' }, c.t('cust.export_download'))
          : null))));
    } catch (e) { listBox.appendChild(c.errorBox(e)); }
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await c.api('POST', '/v1/exports', { format: fmt.value });
      c.toast(c.t('cust.export_requested'), 'ok');
      refresh();
    } catch (e) { c.fail(e); }
  });
  clear(panel).appendChild(form);
  refresh();
}

// ---- the card ----
async function card(root, c, id) {
  const el = c.el;
  const me = c.me;
  let cust;
  try {
    cust = await c.api('GET', '/v1/customers/' + encodeURIComponent(id));
  } catch (e) {
    root.append(el('p', {}, el('a', { href: '#/customers' }, '← ' + c.t('nav.customers'))), c.errorBox(e));
    return;
  }
  const dl = el('dl', { class: 'fields', 'data-id': cust.id });
  for (const k of CARD_FIELDS) {
    if (cust[k] === undefined) continue; // a field the role may not read is absent
    dl.append(el('dt', {}, c.t('cust.field.' + k)), el('dd', { 'data-field': k }, showValue(c, k, cust[k])));
  }
  const actions = el('div', { class: 'actions' },
    can(me, 'request') ? el('button', { type: 'button', 'data-action': 'request-correction', 'on:click': () => correction(false) }, c.t('cust.request_correction')) : null,
    can(me, 'edit') ? el('button', { type: 'button', 'data-action': 'edit', 'on:click': () => correction(true) }, c.t('cust.edit')) : null,
    can(me, 'erase') ? el('button', { type: 'button', class: 'danger', 'data-action': 'erase', 'on:click': erase }, c.t('cust.erase')) : null);
  const panel = el('div');
  const head = el('div', { class: 'card' },
    el('div', { class: 'row' }, el('h1', {}, cust.name || cust.id), el('div', { class: 'spacer' }), actions),
    el('p', { class: 'small muted' }, cust.id + ' · ' + c.t('cust.updated') + ' ' + c.fmt.dateTime(cust.updated_at || cust.created_at)),
    dl);
  const txns = el('section', { class: 'card', 'aria-labelledby': 'txn-h' });
  const comms = el('section', { class: 'card', 'aria-labelledby': 'com-h' });
  root.append(el('p', {}, el('a', { href: '#/customers', 'data-action': 'back' }, '← ' + c.t('nav.customers'))), head, panel,
    el('div', { class: 'grid2' }, can(me, 'txnRead') ? txns : null, can(me, 'commRead') ? comms : null));
  if (can(me, 'txnRead')) records(c, txns, cust.id, 'transactions', can(me, 'txnCreate'));
  if (can(me, 'commRead')) records(c, comms, cust.id, 'communications', can(me, 'commCreate'));

  function correction(direct) {
    const errSlot = el('div');
    const names = (direct ? EDITABLE : CORRECTABLE).filter((k) => direct || cust[k] !== undefined || k !== 'name');
    const form = el('form', { class: 'card', 'aria-labelledby': 'cor-h' },
      el('h2', { id: 'cor-h' }, c.t(direct ? 'cust.edit' : 'cust.request_correction')),
      el('p', { class: 'muted' }, c.t(direct ? 'cust.edit_help' : 'cust.correction_help')), errSlot,
      el('div', { class: 'grid2' }, names.map((k) => field(c.t('cust.field.' + k),
        k === 'notes' ? el('textarea', { name: k, value: cust[k] || '' }) : el('input', { name: k, value: masked(cust[k]) ? '' : (cust[k] === undefined ? '' : String(cust[k])) })))),
      el('div', { class: 'actions' },
        el('button', { type: 'submit', class: 'primary', 'data-action': direct ? 'save' : 'submit-request' }, c.t(direct ? 'common.save' : 'cust.send_request')),
        el('button', { type: 'button', 'data-action': 'cancel', 'on:click': () => clear(panel) }, c.t('common.cancel'))));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clear(errSlot);
      const v = formValues(form);
      const body = {};
      for (const k of names) {
        const old = cust[k] === undefined || masked(cust[k]) ? '' : String(cust[k]);
        const now = v[k] === undefined ? '' : v[k];
        if (now !== old && !(masked(cust[k]) && now === '')) body[k] = k === 'vip_level' ? Number(now) : (now === '' ? null : now);
      }
      if (!Object.keys(body).length) {
        errSlot.appendChild(el('div', { class: 'notice', role: 'status' }, c.t('cust.nothing_changed')));
        return;
      }
      try {
        const res = await c.api('PATCH', '/v1/customers/' + encodeURIComponent(cust.id), body);
        if (res && res.request) {
          clear(panel).appendChild(el('div', { class: 'notice', role: 'status', 'data-state': 'request-filed', 'data-id': res.request.id }, c.t('cust.request_filed', { id: res.request.id })));
        } else {
          c.toast(c.t('cust.saved'), 'ok');
          c.navigate('#/customers/' + encodeURIComponent(cust.id));
        }
      } catch (e) { errSlot.appendChild(c.errorBox(e)); }
    });
    clear(panel).appendChild(form);
    const first = form.querySelector('input');
    if (first) first.focus();
  }

  function erase() {
    const errSlot = el('div');
    const form = el('form', { class: 'card', 'aria-labelledby': 'er-h' },
      el('h2', { id: 'er-h' }, c.t('cust.erase')),
      el('div', { class: 'notice warn' }, c.t('cust.erase_warn')), errSlot,
      field(c.t('common.reason'), el('input', { name: 'reason', required: true, minlength: '5' })),
      el('div', { class: 'actions' },
        el('button', { type: 'submit', class: 'danger', 'data-action': 'confirm-erase' }, c.t('cust.erase_confirm')),
        el('button', { type: 'button', 'data-action': 'cancel', 'on:click': () => clear(panel) }, c.t('common.cancel'))));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clear(errSlot);
      const reason = (formValues(form).reason || '').trim();
      if (!reason) {
        errSlot.appendChild(el('div', { class: 'notice error', role: 'alert', 'data-error-code': 'invalid_input' }, c.t('cust.erase_reason')));
        return;
      }
      try {
        await c.api('DELETE', '/v1/customers/' + encodeURIComponent(cust.id) + qs({ reason }));
        c.toast(c.t('cust.erased'), 'ok');
        c.navigate('#/customers');
      } catch (e) { errSlot.appendChild(c.errorBox(e)); }
    });
    clear(panel).appendChild(form);
    form.querySelector('input').focus();
  }
}

const TXN_COLS = ['date', 'lot', 'description', 'category', 'price', 'currency', 'payment_method'];
const COM_COLS = ['at', 'channel', 'employee', 'summary'];

function money(v, cur) {
  if (typeof v !== 'number') return v === undefined ? '' : String(v);
  return (v / 100).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + (cur ? ' ' + cur : '');
}

async function records(c, box, id, kind, canAdd) {
  const el = c.el;
  const isTxn = kind === 'transactions';
  const hId = isTxn ? 'txn-h' : 'com-h';
  const body = el('div');
  clear(box).append(el('h2', { id: hId }, c.t('cust.' + kind)), body);
  let res;
  try {
    res = await c.api('GET', '/v1/customers/' + encodeURIComponent(id) + '/' + kind + qs({ limit: 50 }));
  } catch (e) {
    if (e.status === 403) { box.remove(); return; } // the role may not read these: absent
    body.appendChild(c.errorBox(e));
    return;
  }
  const rows = res[kind] || [];
  const cols = isTxn ? TXN_COLS : COM_COLS;
  if (!rows.length) body.appendChild(el('p', { class: 'muted' }, c.t('common.none')));
  else {
    const shown = cols.filter((k) => rows.some((r) => r[k] !== undefined) && !(isTxn && k === 'currency'));
    body.appendChild(el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {}, shown.map((k) => el('th', { scope: 'col' }, c.t('rec.' + k))))),
      el('tbody', {}, rows.map((r) => el('tr', { 'data-id': r.id }, shown.map((k) => el('td', { class: k === 'price' ? 'num' : null },
        k === 'price' ? money(r.price, r.currency) : k === 'at' ? c.fmt.dateTime(r.at) : k === 'channel' ? c.t('channel.' + r.channel) : (r[k] === undefined ? '' : String(r[k]))))))))));
  }
  if (!canAdd) return;
  const errSlot = el('div');
  const now = new Date();
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const form = el('form', { class: 'subform', 'aria-label': c.t(isTxn ? 'cust.add_txn' : 'cust.add_com') },
    el('h3', {}, c.t(isTxn ? 'cust.add_txn' : 'cust.add_com')), errSlot,
    isTxn
      ? el('div', { class: 'grid2' },
        field(c.t('rec.date'), el('input', { name: 'date', type: 'date', required: true, value: local.slice(0, 10) })),
        field(c.t('rec.lot'), el('input', { name: 'lot' })),
        field(c.t('rec.description'), el('input', { name: 'description', required: true })),
        field(c.t('rec.price_yuan'), el('input', { name: 'price', inputmode: 'decimal', required: true, pattern: '[0-9]+([.][0-9]{1,2})?' })),
        field(c.t('rec.category'), el('input', { name: 'category' })),
        field(c.t('rec.payment_method'), el('input', { name: 'payment_method' })))
      : el('div', {},
        el('div', { class: 'grid2' },
          field(c.t('rec.at'), el('input', { name: 'at', type: 'datetime-local', required: true, value: local })),
          field(c.t('rec.channel'), el('select', { name: 'channel' }, CHANNELS.map((x) => el('option', { value: x }, c.t('channel.' + x)))))),
        field(c.t('rec.summary'), el('textarea', { name: 'summary', required: true }))),
    el('button', { type: 'submit', class: 'primary', 'data-action': isTxn ? 'add-transaction' : 'add-communication' }, c.t('common.save')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(errSlot);
    const v = formValues(form);
    if (isTxn) {
      const p = Math.round(parseFloat(v.price || 'x') * 100);
      if (!Number.isFinite(p)) {
        errSlot.appendChild(el('div', { class: 'notice error', role: 'alert', 'data-error-code': 'invalid_input' }, c.t('rec.price_bad')));
        return;
      }
      v.price = p;
      v.currency = 'CNY';
    } else if (v.at) {
      v.at = new Date(v.at).toISOString();
    }
    try {
      await c.api('POST', '/v1/customers/' + encodeURIComponent(id) + '/' + kind, v);
      c.toast(c.t('cust.added'), 'ok');
      records(c, box, id, kind, canAdd);
    } catch (e) { errSlot.appendChild(c.errorBox(e)); }
  });
  box.appendChild(form);
}
