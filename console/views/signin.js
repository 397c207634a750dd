// signin.js - password, then the second factor (TOTP code or a recovery code) when the
// account has one; a first sign-in that must enrol scans a QR code and keeps the recovery
// codes, shown once. Not a navigation view: the shell shows it when there is no session.
import { clear, field, formValues } from '../lib/dom.js';

export default {
  name: 'signin',
  titleKey: 'signin.title',
  visible: () => false,
  hidden: true,
  render(root, c) { passwordStep(root, c); },
};

function frame(root, c, ...body) {
  clear(root);
  const other = c.langs().find((l) => l !== c.lang());
  const box = c.el('div', { class: 'signin', 'data-view': 'signin' },
    c.el('div', { class: 'brand' }, c.t('app.name')),
    c.el('div', { class: 'card' }, ...body),
    c.el('p', { class: 'small muted', style: null },
      c.el('button', { type: 'button', 'data-action': 'lang', lang: other, 'on:click': () => { c.setLang(other); c.rerender(); } }, c.t('lang.other'))));
  root.appendChild(box);
  const first = box.querySelector('input');
  if (first) first.focus();
  return box;
}

function busy(btn, on) {
  btn.disabled = on;
  btn.setAttribute('aria-busy', on ? 'true' : 'false');
}

function passwordStep(root, c) {
  const el = c.el;
  const errSlot = el('div');
  const second = el('div', { hidden: true, 'data-state': 'second-factor' });
  const form = el('form', { novalidate: true },
    el('h1', {}, c.t('signin.title')),
    c.reason ? el('div', { class: 'notice', role: 'status', 'data-state': c.reason }, c.t('signin.reason.' + c.reason)) : null,
    errSlot,
    field(c.t('signin.username'), el('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' })),
    field(c.t('signin.password'), el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    second,
    el('button', { type: 'submit', class: 'primary', 'data-action': 'signin' }, c.t('signin.submit')));
  // The second factor's fields appear in place when the account needs them (the password
  // stays where it was typed).
  const askSecond = () => {
    if (!second.hidden) return;
    second.append(
      el('div', { class: 'notice', role: 'status' }, c.t('signin.second_needed')),
      field(c.t('signin.otp'), el('input', { name: 'otp', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '8' }), c.t('signin.otp_hint')),
      field(c.t('signin.recovery'), el('input', { name: 'recovery_code', autocomplete: 'off' }), c.t('signin.recovery_hint')));
    second.hidden = false;
    second.querySelector('input[name=otp]').focus();
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    clear(errSlot);
    if (!v.username || !v.password) {
      errSlot.appendChild(el('div', { class: 'notice error', role: 'alert', 'data-error-code': 'invalid_input' }, c.t('signin.missing')));
      return;
    }
    const btn = form.querySelector('button[type=submit]');
    busy(btn, true);
    const body = { username: v.username, password: v.password, cookie: true };
    if (v.otp) body.otp = v.otp;
    if (v.recovery_code) body.recovery_code = v.recovery_code;
    try {
      const res = await c.api('POST', '/v1/login', body);
      c.setCsrf(res.csrf_token);
      form.reset();
      if (res.second_factor === 'enrol') return enrolStep(root, c);
      if (res.second_factor === 'verify') return verifyStep(root, c);
      await c.done();
    } catch (e) {
      busy(btn, false);
      if (e.code === 'second_factor_required' && second.hidden) return askSecond();
      form.querySelector('input[name=password]').value = '';
      for (const i of second.querySelectorAll('input')) i.value = '';
      errSlot.appendChild(c.errorBox(e));
      form.querySelector('input[name=password]').focus();
    }
  });
  frame(root, c, form);
}

// A session that waits for its second factor (an enrolled account signed in with its
// password only, where the vault lets it): the code completes it.
function verifyStep(root, c) {
  const el = c.el;
  const errSlot = el('div');
  const form = el('form', {},
    el('h1', {}, c.t('signin.verify_title')), errSlot,
    field(c.t('signin.otp'), el('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code' })),
    field(c.t('signin.recovery'), el('input', { name: 'recovery_code', autocomplete: 'off' })),
    el('button', { type: 'submit', class: 'primary', 'data-action': 'verify' }, c.t('signin.verify')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(errSlot);
    const v = formValues(form);
    try {
      await c.api('POST', '/v1/me/totp/verify', v.recovery_code ? { recovery_code: v.recovery_code } : { code: v.code || '' });
      await c.done();
    } catch (e) { errSlot.appendChild(c.errorBox(e)); }
  });
  frame(root, c, form);
}

// First sign-in of an account that must have a second factor: scan, confirm, keep the codes.
async function enrolStep(root, c) {
  const el = c.el;
  const errSlot = el('div');
  let uri = '';
  try {
    const res = await c.api('POST', '/v1/me/totp/enrol');
    uri = res.otpauth_uri;
  } catch (e) {
    frame(root, c, el('h1', {}, c.t('enrol.title')), c.errorBox(e));
    return;
  }
  const secret = (new URL(uri.replace(/^otpauth:/, 'https:'))).searchParams.get('secret') || '';
  const form = el('form', { 'data-view': 'enrol' },
    el('h1', {}, c.t('enrol.title')),
    el('p', {}, c.t('enrol.intro')),
    el('img', { class: 'qr', src: '/v1/me/totp/qr?v=' + Date.now(), alt: c.t('enrol.qr_alt'), 'data-otpauth-uri': uri, width: '220', height: '220' }),
    el('details', {}, el('summary', {}, c.t('enrol.manual')), el('p', { class: 'secret', 'data-secret': secret }, secret.replace(/(.{4})/g, '$1 ').trim())),
    errSlot,
    field(c.t('enrol.code'), el('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: '8' })),
    el('button', { type: 'submit', class: 'primary', 'data-action': 'confirm' }, c.t('enrol.confirm')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(errSlot);
    const btn = form.querySelector('button[type=submit]');
    busy(btn, true);
    try {
      const res = await c.api('POST', '/v1/me/totp/confirm', { code: formValues(form).code || '' });
      codesStep(root, c, res.recovery_codes || []);
    } catch (e) {
      busy(btn, false);
      errSlot.appendChild(c.errorBox(e));
    }
  });
  frame(root, c, form);
}

function codesStep(root, c, codes) {
  const el = c.el;
  const ack = el('input', { type: 'checkbox', name: 'saved', id: 'codes-saved' });
  const go = el('button', { type: 'button', class: 'primary', 'data-action': 'continue', disabled: true, 'on:click': () => c.done() }, c.t('enrol.continue'));
  ack.addEventListener('change', () => { go.disabled = !ack.checked; });
  frame(root, c,
    el('h1', {}, c.t('enrol.codes_title')),
    el('div', { class: 'notice warn', role: 'status' }, c.t('enrol.codes_once')),
    el('ol', { class: 'codes', 'data-recovery-codes': '' }, codes.map((x) => el('li', {}, x))),
    el('div', { class: 'row' }, ack, el('label', { for: 'codes-saved' }, c.t('enrol.codes_saved'))),
    go);
}
