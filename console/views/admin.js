// admin.js - administration, each part for the role that holds it in the policy:
// accounts and API keys (admin), the policy in force with "explain" and reload (security),
// break-glass opening (security) and the review of grants (security, auditors).
import { clear, field, formValues } from '../lib/dom.js';
import { qs } from '../lib/api.js';

const ROLES = ['sales', 'customer_service', 'data_steward', 'security', 'legal', 'hr', 'auditor', 'admin'];
const OPS = ['read', 'write', 'create', 'request', 'erase', 'import', 'export'];
const CATEGORIES = ['identity', 'identity.name', 'identity.id_number', 'contact', 'contact.phone', 'preferences', 'internal', 'transactions', 'communications', 'customers'];

export default {
  name: 'admin',
  titleKey: 'nav.admin',
  visible: (me) => !!me && ['admin', 'security', 'auditor'].includes(me.role),
  async render(root, c) {
    const el = c.el;
    const role = c.me.role;
    root.appendChild(el('h1', {}, c.t('nav.admin')));
    const parts = [];
    if (role === 'admin') parts.push(accounts, apikeys);
    if (role === 'security') parts.push(policy, breakglassOpen);
    if (role === 'security' || role === 'auditor') parts.push(breakglassReview);
    for (const p of parts) {
      const sec = el('section', { class: 'card' });
      root.appendChild(sec);
      p(sec, c).catch((e) => sec.appendChild(c.errorBox(e)));
    }
  },
};

function roleSelect(c, name, value) {
  return c.el('select', { name }, ROLES.map((r) => c.el('option', { value: r, selected: r === value }, c.t('role.' + r))));
}

// The result of an account change: a hand-over waits for a steward (202) with its half code.
function outcome(c, res) {
  const el = c.el;
  if (res && res.handover_code) {
    return el('div', { class: 'notice warn', role: 'status', 'data-state': 'handover' },
      el('p', {}, c.t('adm.handover', { id: res.request ? res.request.id : '' })),
      el('p', { class: 'secret', 'data-handover-code': '' }, res.handover_code));
  }
  return el('div', { class: 'notice', role: 'status', 'data-state': 'done' }, c.t('common.done'));
}

async function accounts(sec, c) {
  const el = c.el;
  const out = el('div', { 'aria-live': 'polite' });
  const tableBox = el('div');
  const errSlot = el('div');
  const create = el('form', { class: 'subform', 'aria-labelledby': 'acc-new-h' },
    el('h3', { id: 'acc-new-h' }, c.t('adm.acc.create')), errSlot,
    el('div', { class: 'row' },
      field(c.t('account.username'), el('input', { name: 'username', required: true, autocomplete: 'off', pattern: '[a-z0-9_.-]{2,64}' })),
      field(c.t('account.role'), roleSelect(c, 'role', 'sales')),
      field(c.t('account.department'), el('input', { name: 'department', required: true })),
      field(c.t('adm.acc.password'), el('input', { name: 'password', type: 'password', autocomplete: 'new-password', minlength: '12' })),
      el('div', { class: 'field' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'create-account' }, c.t('adm.acc.create')))));
  create.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(errSlot);
    try {
      const res = await c.api('POST', '/v1/accounts', formValues(create));
      create.reset();
      clear(out).appendChild(outcome(c, res));
      load();
    } catch (e) { errSlot.appendChild(c.errorBox(e)); }
  });
  sec.append(el('h2', {}, c.t('adm.accounts')), create, out, tableBox);

  async function load() {
    clear(tableBox);
    const res = await c.api('GET', '/v1/accounts');
    const rows = res.accounts || [];
    tableBox.appendChild(el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {}, ['account.username', 'account.role', 'account.department', 'common.status', 'account.second_factor', 'account.training', 'common.actions'].map((k) => el('th', { scope: 'col' }, c.t(k))))),
      el('tbody', {}, rows.map((a) => el('tr', { 'data-id': a.username },
        el('td', {}, a.username),
        el('td', {}, c.t('role.' + a.role)),
        el('td', {}, a.department || '—'),
        el('td', {}, a.disabled ? el('span', { class: 'badge danger' }, c.t('adm.acc.disabled')) : a.locked_until ? el('span', { class: 'badge warn' }, c.t('adm.acc.locked')) : el('span', { class: 'badge ok' }, c.t('adm.acc.active'))),
        el('td', {}, a.second_factor ? c.t('common.yes') : c.t('common.no')),
        el('td', {}, a.training_valid_until ? c.fmt.date(a.training_valid_until) : '—'),
        el('td', {}, a.username === c.me.username ? el('span', { class: 'muted small' }, c.t('req.you'))
          : el('button', { type: 'button', 'data-action': 'manage', 'on:click': () => manage(a) }, c.t('adm.acc.manage')))))))));
  }

  function manage(a) {
    const p = el('div', { class: 'subform card', 'data-id': a.username, role: 'group', 'aria-label': a.username });
    const errBox = el('div');
    const run = async (method, path, body) => {
      clear(errBox);
      try {
        const res = await c.api(method, path, body);
        clear(out).appendChild(outcome(c, res));
        if (res && res.revoked !== undefined) out.appendChild(el('p', {}, c.t('adm.acc.revoked', { n: res.revoked })));
        p.remove();
        load();
      } catch (e) { errBox.appendChild(c.errorBox(e)); }
    };
    const u = '/v1/accounts/' + encodeURIComponent(a.username);
    const change = el('form', { class: 'row' },
      field(c.t('account.role'), roleSelect(c, 'role', a.role)),
      field(c.t('account.department'), el('input', { name: 'department', value: a.department || '' })),
      el('div', { class: 'field' }, el('button', { type: 'submit', 'data-action': 'save-role' }, c.t('common.save'))));
    change.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = formValues(change);
      const body = {};
      if (v.role !== a.role) body.role = v.role;
      if ((v.department || '') !== (a.department || '')) body.department = v.department;
      if (Object.keys(body).length) run('PATCH', u, body);
    });
    const pw = el('form', { class: 'row' },
      field(c.t('adm.acc.new_password'), el('input', { name: 'password', type: 'password', autocomplete: 'new-password', minlength: '12' })),
      el('div', { class: 'field' }, el('button', { type: 'submit', 'data-action': 'reset-password' }, c.t('adm.acc.reset_password'))));
    pw.addEventListener('submit', (ev) => { ev.preventDefault(); run('POST', u + '/reset-password', { password: formValues(pw).password || '' }); });
    p.append(el('h3', {}, c.t('adm.acc.manage') + ' · ' + a.username), errBox, change, pw,
      el('div', { class: 'actions' },
        a.disabled
          ? el('button', { type: 'button', 'data-action': 'enable', 'on:click': () => run('POST', u + '/enable') }, c.t('adm.acc.enable'))
          : el('button', { type: 'button', class: 'danger', 'data-action': 'disable', 'on:click': () => run('POST', u + '/disable') }, c.t('adm.acc.disable')),
        el('button', { type: 'button', 'data-action': 'reset-second-factor', 'on:click': () => run('POST', u + '/reset-second-factor') }, c.t('adm.acc.reset_2fa')),
        el('button', { type: 'button', 'data-action': 'revoke-sessions', 'on:click': () => run('POST', u + '/revoke-sessions') }, c.t('adm.acc.revoke')),
        el('button', { type: 'button', 'data-action': 'cancel', 'on:click': () => p.remove() }, c.t('common.cancel'))));
    const old = sec.querySelector('.subform.card');
    if (old) old.remove();
    tableBox.before(p);
    p.querySelector('select').focus();
  }
  await load();
}

async function apikeys(sec, c) {
  const el = c.el;
  const out = el('div', { 'aria-live': 'polite' });
  const tableBox = el('div');
  const errSlot = el('div');
  const create = el('form', { class: 'subform', 'aria-labelledby': 'key-new-h' },
    el('h3', { id: 'key-new-h' }, c.t('adm.key.create')), errSlot,
    el('div', { class: 'grid2' },
      field(c.t('adm.key.name'), el('input', { name: 'name', required: true, pattern: '[a-z0-9_.-]{2,64}' })),
      field(c.t('account.role'), roleSelect(c, 'role', 'sales')),
      field(c.t('account.department'), el('input', { name: 'department', required: true })),
      field(c.t('adm.key.scope'), el('input', { name: 'scope', placeholder: 'transactions:read,create' }), c.t('adm.key.scope_hint')),
      field(c.t('adm.key.addresses'), el('input', { name: 'addresses', placeholder: '10.0.0.0/8' }), c.t('adm.key.addresses_hint'))),
    el('button', { type: 'submit', class: 'primary', 'data-action': 'create-key' }, c.t('adm.key.create')));
  const shown = (res) => {
    clear(out).appendChild(el('div', { class: 'notice warn', role: 'status', 'data-state': 'key-shown' },
      el('p', {}, c.t('adm.key.once')), el('p', { class: 'secret', 'data-key': '' }, res.key),
      res.request ? el('p', {}, c.t('adm.key.pending', { id: res.request.id })) : null));
  };
  create.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(errSlot);
    try {
      const res = await c.api('POST', '/v1/apikeys', formValues(create));
      create.reset();
      shown(res);
      load();
    } catch (e) { errSlot.appendChild(c.errorBox(e)); }
  });
  sec.append(el('h2', {}, c.t('adm.apikeys')), create, out, tableBox);
  async function load() {
    clear(tableBox);
    const res = await c.api('GET', '/v1/apikeys');
    const rows = res.api_keys || [];
    if (!rows.length) return tableBox.appendChild(el('p', { class: 'muted' }, c.t('common.none')));
    tableBox.appendChild(el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {}, ['adm.key.name', 'adm.key.prefix', 'account.role', 'account.department', 'adm.key.scope', 'adm.key.last_used', 'common.status', 'common.actions'].map((k) => el('th', { scope: 'col' }, c.t(k))))),
      el('tbody', {}, rows.map((k) => el('tr', { 'data-id': k.id },
        el('td', {}, k.name), el('td', {}, el('code', {}, k.prefix)), el('td', {}, c.t('role.' + k.role)), el('td', {}, k.department),
        el('td', { class: 'small' }, k.scope || '—'),
        el('td', { class: 'small' }, k.last_used_at ? c.fmt.dateTime(k.last_used_at) + ' · ' + (k.last_used_from || '') : c.t('adm.key.never')),
        el('td', {}, k.revoked ? el('span', { class: 'badge danger' }, c.t('adm.key.revoked')) : el('span', { class: 'badge ' + (k.approval === 'pending' ? 'warn' : 'ok') }, c.t(k.approval === 'pending' ? 'adm.key.waiting' : 'adm.acc.active'))),
        el('td', {}, k.revoked ? null : el('div', { class: 'actions' },
          el('button', { type: 'button', 'data-action': 'rotate', 'on:click': async () => {
            try { shown(await c.api('POST', '/v1/apikeys/' + encodeURIComponent(k.id) + '/rotate')); load(); } catch (e) { c.fail(e); }
          } }, c.t('adm.key.rotate')),
          el('button', { type: 'button', class: 'danger', 'data-action': 'revoke', 'on:click': async () => {
            try { await c.api('POST', '/v1/apikeys/' + encodeURIComponent(k.id) + '/revoke'); c.toast(c.t('adm.key.revoked'), 'ok'); load(); } catch (e) { c.fail(e); }
          } }, c.t('adm.key.revoke'))))))))));
  }
  await load();
}

async function policy(sec, c) {
  const el = c.el;
  const result = el('div', { 'aria-live': 'polite' });
  const form = el('form', { class: 'row' },
    field(c.t('account.role'), roleSelect(c, 'role', 'customer_service')),
    field(c.t('adm.pol.op'), el('select', { name: 'op' }, OPS.map((o) => el('option', { value: o }, o)))),
    field(c.t('adm.pol.category'), el('select', { name: 'category' }, CATEGORIES.map((o) => el('option', { value: o }, o)))),
    el('div', { class: 'field' }, el('button', { type: 'submit', class: 'primary', 'data-action': 'explain' }, c.t('adm.pol.explain'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(result);
    try {
      const res = await c.api('GET', '/v1/policy/explain' + qs(formValues(form)));
      result.appendChild(el('dl', { class: 'fields', 'data-explain': '' },
        Object.entries(res).map(([k, v]) => [el('dt', {}, c.t('adm.pol.' + k)), el('dd', {}, typeof v === 'string' ? v : JSON.stringify(v))])));
    } catch (e) { result.appendChild(c.errorBox(e)); }
  });
  const reloadOut = el('div', { 'aria-live': 'polite' });
  const reload = el('button', { type: 'button', 'data-action': 'reload-policy', 'on:click': async () => {
    clear(reloadOut);
    reload.disabled = true;
    try {
      const res = await c.api('POST', '/v1/policy/reload');
      reloadOut.appendChild(el('div', { class: 'notice', role: 'status', 'data-state': res.changed ? 'changed' : 'unchanged' },
        el('p', {}, c.t(res.changed ? 'adm.pol.changed' : 'adm.pol.unchanged', { source: res.source })),
        res.diff ? el('pre', { class: 'small' }, typeof res.diff === 'string' ? res.diff : JSON.stringify(res.diff, null, 2)) : null));
    } catch (e) { reloadOut.appendChild(c.errorBox(e)); } finally { reload.disabled = false; }
  } }, c.t('adm.pol.reload'));
  sec.append(el('h2', {}, c.t('adm.policy')), el('p', { class: 'muted' }, c.t('adm.pol.help')), form, result,
    el('h3', {}, c.t('adm.pol.reload')), el('p', { class: 'muted' }, c.t('adm.pol.reload_help')), reload, reloadOut);
}

async function breakglassOpen(sec, c) {
  const el = c.el;
  const errSlot = el('div');
  const out = el('div', { 'aria-live': 'polite' });
  const form = el('form', {},
    el('div', { class: 'notice warn' }, c.t('adm.bg.warn')), errSlot,
    field(c.t('common.reason'), el('textarea', { name: 'reason', required: true, minlength: '10' }), c.t('adm.bg.reason_hint')),
    field(c.t('req.minutes'), el('input', { name: 'minutes', type: 'number', min: '1', max: '240', value: '30' })),
    el('button', { type: 'submit', class: 'danger', 'data-action': 'open-break-glass' }, c.t('adm.bg.open')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(errSlot);
    const v = formValues(form);
    try {
      const res = await c.api('POST', '/v1/break-glass', { reason: v.reason || '', minutes: Number(v.minutes || 30) });
      form.reset();
      clear(out).appendChild(el('div', { class: 'notice', role: 'status', 'data-state': res.request ? 'pending' : 'open' },
        res.request ? c.t('adm.bg.pending', { id: res.request.id }) : c.t('adm.bg.opened')));
    } catch (e) { errSlot.appendChild(c.errorBox(e)); }
  });
  sec.append(el('h2', {}, c.t('adm.bg.title')), form, out);
}

async function breakglassReview(sec, c) {
  const el = c.el;
  const box = el('div');
  sec.append(el('h2', {}, c.t('adm.bg.review_title')), el('p', { class: 'muted' }, c.t('adm.bg.review_help')), box);
  async function load() {
    clear(box);
    const res = await c.api('GET', '/v1/break-glass');
    const rows = res.grants || [];
    if (!rows.length) return box.appendChild(el('p', { class: 'muted' }, c.t('common.none')));
    box.appendChild(el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {}, ['account.username', 'common.reason', 'adm.bg.opened_at', 'adm.bg.reads', 'common.status', 'common.actions'].map((k) => el('th', { scope: 'col' }, c.t(k))))),
      el('tbody', {}, rows.map((g) => el('tr', { 'data-id': g.id },
        el('td', {}, g.username), el('td', {}, g.reason), el('td', { class: 'small' }, c.fmt.dateTime(g.opened_at)),
        el('td', { class: 'num' }, String(g.reads)),
        el('td', {}, g.active ? el('span', { class: 'badge danger' }, c.t('adm.bg.active')) : g.reviewed ? el('span', { class: 'badge ok' }, c.t('adm.bg.reviewed')) : el('span', { class: 'badge warn' }, c.t('adm.bg.unreviewed'))),
        el('td', {}, actions(g))))))));
  }
  function actions(g) {
    if (g.active && g.username === c.me.username) {
      return el('button', { type: 'button', 'data-action': 'close-grant', 'on:click': async () => {
        try { await c.api('POST', '/v1/break-glass/' + encodeURIComponent(g.id) + '/close'); load(); } catch (e) { c.fail(e); }
      } }, c.t('adm.bg.close'));
    }
    if (g.active || g.reviewed || g.username === c.me.username) return null;
    const f = el('form', { class: 'row' },
      field(c.t('common.note'), el('input', { name: 'note', required: true })),
      el('div', { class: 'field' }, el('button', { type: 'submit', 'data-action': 'review' }, c.t('adm.bg.review'))));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await c.api('POST', '/v1/break-glass/' + encodeURIComponent(g.id) + '/review', { note: formValues(f).note || '' }); load(); } catch (e) { c.fail(e); }
    });
    return f;
  }
  await load();
}
