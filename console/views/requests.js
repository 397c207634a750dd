// requests.js - change, export and access requests: the requester follows their own; a data
// steward of the department sees the before/after of a change and approves or rejects it
// with a note. Nobody is offered the decision on a request they made (the server refuses it
// too).
import { clear, field, formValues } from '../lib/dom.js';
import { qs } from '../lib/api.js';
import { showValue } from './customers.js';

const DECIDERS = ['data_steward'];

export default {
  name: 'requests',
  titleKey: 'nav.requests',
  visible: (me) => !!me && ['customer_service', 'data_steward', 'security', 'admin'].includes(me.role),
  async render(root, c) {
    const el = c.el;
    const status = c.params[0] === 'all' ? '' : 'pending';
    const listBox = el('div', { 'aria-live': 'polite' });
    root.append(
      el('div', { class: 'row' }, el('h1', {}, c.t('nav.requests')), el('div', { class: 'spacer' }),
        el('nav', { class: 'actions', 'aria-label': c.t('req.filter') },
          el('a', { href: '#/requests', 'data-action': 'filter-pending', 'aria-current': status ? 'page' : null }, c.t('req.pending')), ' · ',
          el('a', { href: '#/requests/all', 'data-action': 'filter-all', 'aria-current': status ? null : 'page' }, c.t('req.all')))),
      el('p', { class: 'muted' }, c.t(DECIDERS.includes(c.me.role) ? 'req.help_steward' : 'req.help_mine')),
      listBox);
    let res;
    try {
      res = await c.api('GET', '/v1/requests' + qs({ status }));
    } catch (e) {
      listBox.appendChild(c.errorBox(e));
      return;
    }
    const rows = res.requests || [];
    if (!rows.length) {
      listBox.appendChild(el('p', { class: 'card muted', 'data-state': 'empty' }, c.t('common.none')));
      return;
    }
    for (const r of rows) listBox.appendChild(item(c, r));
  },
};

function statusBadge(c, s) {
  const cls = s === 'pending' ? 'warn' : s === 'rejected' ? 'danger' : 'ok';
  return c.el('span', { class: 'badge ' + cls, 'data-status': s }, c.t('req.status.' + s));
}

function item(c, r) {
  const el = c.el;
  const me = c.me;
  const detail = el('div');
  const mine = r.requester === me.username;
  const about = r.kind === 'account' && r.subject && r.subject === me.id;
  const mayDecide = r.status === 'pending' && DECIDERS.includes(me.role) && !mine && !about;
  const box = el('article', { class: 'card', 'data-id': r.id, 'data-kind': r.kind },
    el('div', { class: 'row' },
      el('h2', {}, c.t('req.kind.' + r.kind)), statusBadge(c, r.status), el('div', { class: 'spacer' }),
      el('span', { class: 'small muted' }, r.id)),
    el('dl', { class: 'fields' },
      el('dt', {}, c.t('req.requester')), el('dd', {}, r.requester + (mine ? ' (' + c.t('req.you') + ')' : '')),
      el('dt', {}, c.t('req.department')), el('dd', {}, r.department || '—'),
      el('dt', {}, c.t('common.created')), el('dd', {}, c.fmt.dateTime(r.created_at)),
      r.customer ? [el('dt', {}, c.t('req.customer')), el('dd', {}, el('a', { href: '#/customers/' + encodeURIComponent(r.customer) }, r.customer))] : null,
      r.subject ? [el('dt', {}, c.t('req.subject')), el('dd', {}, r.subject)] : null,
      r.fields ? [el('dt', {}, c.t('req.fields')), el('dd', {}, r.fields.split(',').map((f) => c.t('cust.field.' + f.trim())).join(c.t('cust.list_sep')))] : null,
      r.format ? [el('dt', {}, c.t('cust.export_format')), el('dd', {}, r.format)] : null,
      r.reason ? [el('dt', {}, c.t('common.reason')), el('dd', {}, r.reason)] : null,
      r.minutes ? [el('dt', {}, c.t('req.minutes')), el('dd', {}, String(r.minutes))] : null,
      r.decided_by ? [el('dt', {}, c.t('req.decided_by')), el('dd', {}, r.decided_by + ' · ' + c.fmt.dateTime(r.decided_at))] : null,
      r.note ? [el('dt', {}, c.t('common.note')), el('dd', {}, r.note)] : null,
      r.valid_until ? [el('dt', {}, c.t('req.valid_until')), el('dd', {}, c.fmt.dateTime(r.valid_until))] : null),
    detail);
  // The before/after is shown while the change waits: once decided, "before" is history.
  if (r.kind === 'change' && r.status === 'pending') diff(c, r, detail);
  if (r.kind === 'export' && r.status === 'approved' && mine) {
    detail.appendChild(el('p', {}, el('a', { href: '/v1/export' + qs({ format: r.format || 'csv', request: r.id }), download: '', 'data-action': 'download' }, c.t('cust.export_download'))));
  }
  if (mayDecide) box.appendChild(decide(c, r, box));
  return box;
}

async function diff(c, r, box) {
  const el = c.el;
  let d;
  try {
    d = await c.api('GET', '/v1/requests/' + encodeURIComponent(r.id) + '/diff');
  } catch (e) {
    box.appendChild(c.errorBox(e));
    return;
  }
  box.appendChild(el('div', { class: 'table-wrap diff' }, el('table', { 'data-diff': '' },
    el('caption', { class: 'small muted' }, c.t('req.diff')),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, c.t('req.field')), el('th', { scope: 'col' }, c.t('req.before')), el('th', { scope: 'col' }, c.t('req.after')))),
    el('tbody', {}, (d.fields || []).map((f) => el('tr', { 'data-field': f.field },
      el('th', { scope: 'row' }, c.t('cust.field.' + f.field)),
      el('td', {}, f.before === undefined ? el('span', { class: 'muted' }, f.visible ? c.t('req.empty') : c.t('req.hidden')) : el('del', {}, showValue(c, f.field, f.before))),
      el('td', {}, f.after === undefined ? el('span', { class: 'muted' }, f.visible ? c.t('req.removed') : c.t('req.hidden')) : el('ins', {}, showValue(c, f.field, f.after)))))))));
}

function decide(c, r, box) {
  const el = c.el;
  const errSlot = el('div');
  const form = el('form', { class: 'subform', 'aria-label': c.t('req.decide') },
    errSlot,
    field(c.t('req.note'), el('input', { name: 'note', maxlength: '200' })),
    el('div', { class: 'actions' },
      el('button', { type: 'submit', class: 'primary', 'data-action': 'approve', value: 'approve' }, c.t('req.approve')),
      el('button', { type: 'submit', class: 'danger', 'data-action': 'reject', value: 'reject' }, c.t('req.reject'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(errSlot);
    const verb = ev.submitter && ev.submitter.value === 'reject' ? 'reject' : 'approve';
    const v = formValues(form);
    for (const b of form.querySelectorAll('button')) { b.disabled = true; }
    try {
      const res = await c.api('POST', '/v1/requests/' + encodeURIComponent(r.id) + '/' + verb, v.note ? { note: v.note } : {});
      const done = el('div', { class: 'notice', role: 'status', 'data-state': res.status }, c.t('req.decided.' + verb));
      if (res.handover_code) {
        done.append(el('p', {}, c.t('req.handover_code')), el('p', { class: 'secret', 'data-handover-code': '' }, res.handover_code));
      }
      form.replaceWith(done);
      const badge = box.querySelector('[data-status]');
      if (badge) badge.replaceWith(statusBadge(c, res.status));
    } catch (e) {
      for (const b of form.querySelectorAll('button')) { b.disabled = false; }
      errSlot.appendChild(c.errorBox(e));
    }
  });
  return form;
}
