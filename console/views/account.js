// account.js - the signed-in person's own account: who they are, their second factor, and
// changing the password (which ends every session, this one too).
import { field, formValues, clear } from '../lib/dom.js';

export default {
  name: 'account',
  titleKey: 'nav.account',
  visible: (me) => !!me,
  hidden: true,
  async render(root, c) {
    const el = c.el;
    const me = await c.api('GET', '/v1/me');
    const errSlot = el('div');
    const form = el('form', { class: 'card', 'aria-labelledby': 'pw-h' },
      el('h2', { id: 'pw-h' }, c.t('account.change_password')),
      errSlot,
      field(c.t('account.old_password'), el('input', { name: 'old_password', type: 'password', autocomplete: 'current-password', required: true })),
      field(c.t('account.new_password'), el('input', { name: 'new_password', type: 'password', autocomplete: 'new-password', required: true, minlength: '12' }), c.t('account.password_rules')),
      field(c.t('account.repeat_password'), el('input', { name: 'repeat', type: 'password', autocomplete: 'new-password', required: true })),
      el('button', { type: 'submit', class: 'primary', 'data-action': 'change-password' }, c.t('account.change_password')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clear(errSlot);
      const v = formValues(form);
      if (!v.new_password || v.new_password !== v.repeat) {
        errSlot.appendChild(el('div', { class: 'notice error', role: 'alert', 'data-error-code': 'invalid_input' }, c.t('account.mismatch')));
        return;
      }
      try {
        await c.api('POST', '/v1/me/password', { old_password: v.old_password || '', new_password: v.new_password });
        form.reset();
        c.signOut('password-changed');
      } catch (e) { errSlot.appendChild(c.errorBox(e)); }
    });
    root.append(
      el('h1', {}, c.t('nav.account')),
      el('div', { class: 'card' },
        el('dl', { class: 'fields' },
          el('dt', {}, c.t('account.username')), el('dd', {}, me.username),
          el('dt', {}, c.t('account.role')), el('dd', {}, c.t('role.' + me.role)),
          el('dt', {}, c.t('account.department')), el('dd', {}, me.department || '—'),
          el('dt', {}, c.t('account.second_factor')), el('dd', {}, me.second_factor ? c.t('common.yes') : c.t('common.no')),
          me.recovery_codes_left !== undefined ? [el('dt', {}, c.t('account.recovery_left')), el('dd', {}, String(me.recovery_codes_left))] : null,
          el('dt', {}, c.t('account.training')), el('dd', {}, me.training_valid_until ? c.fmt.date(me.training_valid_until) : '—'),
          me.break_glass ? [el('dt', {}, c.t('account.break_glass')), el('dd', {}, me.break_glass)] : null)),
      form);
  },
};
