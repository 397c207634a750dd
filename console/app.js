// app.js - the console's shell: sign-in, the navigation the role may use, the router by
// location hash (#/<view>/<param>...), toasts, and the idle-expiry warning.
import { api, apiText, setCsrf, on, ApiError } from './lib/api.js';
import { t, lang, setLang, langs, fmtDateTime, fmtDate, errorText } from './lib/i18n.js';
import { el, clear } from './lib/dom.js';
import views from './views/index.js';
import signin from './views/signin.js';

const app = document.getElementById('app');
const state = { me: null, session: null, lastActivity: Date.now(), warned: null };

function toast(msg, kind, code) {
  let box = document.querySelector('.toasts');
  if (!box) {
    box = el('div', { class: 'toasts' });
    document.body.appendChild(box);
  }
  const n = el('div', { class: 'toast ' + (kind || ''), role: kind === 'error' ? 'alert' : 'status', 'data-error-code': code }, msg);
  box.appendChild(n);
  setTimeout(() => n.remove(), kind === 'error' ? 9000 : 4500);
}

// An API error shown where it happened, in words, with its code for tests.
function errorBox(e) {
  return el('div', { class: 'notice error', role: 'alert', 'data-error-code': e && e.code }, errorText(e));
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function ctxFor(params) {
  return {
    me: state.me, api, apiText, t, el, navigate, params,
    fmt: { dateTime: fmtDateTime, date: fmtDate },
    toast: (msg, kind) => toast(msg, kind),
    fail: (e) => toast(errorText(e), 'error', e && e.code),
    errorBox,
    refreshMe: loadMe,
    signOut: () => signedOut(),
  };
}

function visibleViews() {
  return views.filter((v) => { try { return v.visible(state.me); } catch (_) { return false; } });
}

function shell() {
  clear(app);
  const vis = visibleViews();
  const nav = el('nav', { class: 'nav', 'aria-label': t('nav.label') },
    vis.filter((v) => !v.hidden).map((v) => el('a', { href: '#/' + v.name, 'data-nav': v.name }, t(v.titleKey))));
  const other = langs().find((l) => l !== lang());
  const header = el('header', { class: 'topbar' },
    el('a', { class: 'skip', href: '#main', 'on:click': (ev) => { ev.preventDefault(); document.getElementById('main').focus(); } }, t('nav.skip')),
    el('a', { class: 'brand', href: '#/' }, el('img', { src: new URL('./favicon.svg', import.meta.url).pathname, alt: '' }), t('app.name')),
    nav,
    el('div', { class: 'who' },
      el('a', { href: '#/account', 'data-nav': 'account', class: 'who-name' }, el('span', {}, state.me.username)),
      el('span', { class: 'role' }, t('role.' + state.me.role) + (state.me.department ? ' · ' + state.me.department : '')),
      el('button', { type: 'button', 'data-action': 'lang', lang: other, title: t('lang.switch') }, t('lang.other')),
      el('button', { type: 'button', 'data-action': 'logout' , 'on:click': logout }, t('nav.logout'))));
  header.querySelector('[data-action="lang"]').addEventListener('click', () => { setLang(other); shell(); });
  const main = el('main', { id: 'main', tabindex: '-1' });
  app.append(header);
  if (state.me.break_glass) {
    // Every read under the grant is audited and alerted: the holder always sees it is open.
    app.append(el('div', { class: 'notice warn banner', role: 'status', 'data-state': 'break-glass' }, t('session.break_glass', { id: state.me.break_glass })));
  }
  app.append(main);
  document.title = t('app.name');
  route();
}

async function route() {
  const main = document.getElementById('main');
  if (!main || !state.me) return;
  const parts = (location.hash.replace(/^#\/?/, '') || '').split('/').filter(Boolean).map(decodeURIComponent);
  const vis = visibleViews();
  let name = parts[0];
  if (!name) {
    const first = vis.find((v) => !v.hidden);
    name = first ? first.name : 'account';
  }
  for (const a of document.querySelectorAll('.nav a')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  clear(main);
  const view = views.find((v) => v.name === name);
  const root = el('section', { 'data-view': name });
  main.appendChild(root);
  if (!view || !vis.includes(view)) {
    root.appendChild(el('div', { class: 'card', role: 'status', 'data-state': 'not-available' },
      el('h1', {}, t('view.unavailable.title')), el('p', {}, t('view.unavailable.text'))));
    return;
  }
  document.title = t(view.titleKey) + ' · ' + t('app.name');
  try {
    await view.render(root, ctxFor(parts.slice(1)));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    root.appendChild(errorBox(e instanceof ApiError ? e : { code: 'internal', message: String(e) }));
  }
  if (document.activeElement === document.body) main.focus({ preventScroll: true });
}

async function loadMe() {
  const me = await api('GET', '/v1/me');
  state.me = me;
  return me;
}

async function loadSession() {
  try {
    const s = await api('GET', '/v1/me/session');
    state.session = s;
    setCsrf(s.csrf_token);
    return s;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return null;
    throw e;
  }
}

// After a complete sign-in (or on load with a session cookie): the shell.
async function signedIn() {
  await loadSession();
  await loadMe();
  state.lastActivity = Date.now();
  shell();
}

function signedOut(reason) {
  state.me = null;
  state.session = null;
  setCsrf(null);
  hideWarning();
  clear(app);
  if (location.hash && location.hash !== '#/') history.replaceState(null, '', location.pathname);
  signin.render(app, { api, t, el, setCsrf, errorBox, reason, done: signedIn, lang, setLang, langs, rerender: () => signedOut(reason) });
}

async function logout() {
  try { await api('POST', '/v1/logout'); } catch (_) { /* gone already */ }
  signedOut('logged-out');
}

// ---- idle expiry: a warning two minutes before the server ends an unused session ----
let warnBox = null;
function hideWarning() { if (warnBox) { warnBox.remove(); warnBox = null; } }
function checkIdle() {
  if (!state.me || !state.session || !state.session.idle_seconds) return;
  const idleMs = state.session.idle_seconds * 1000;
  const left = state.lastActivity + idleMs - Date.now();
  if (left <= 0) {
    signedOut('expired');
    return;
  }
  if (left <= 120000) {
    const secs = Math.ceil(left / 1000);
    if (!warnBox) {
      warnBox = el('div', { class: 'notice warn', role: 'alert', 'data-state': 'idle-warning' },
        el('span', { class: 'idle-text' }), ' ',
        el('button', { type: 'button', class: 'primary', 'data-action': 'stay', 'on:click': async () => {
          try { await loadSession(); hideWarning(); } catch (e) { toast(errorText(e), 'error', e.code); }
        } }, t('session.stay')));
      const main = document.getElementById('main');
      if (main) main.prepend(warnBox);
    }
    warnBox.querySelector('.idle-text').textContent = t('session.idle_warning', { seconds: secs });
  } else {
    hideWarning();
  }
}

on('activity', () => { state.lastActivity = Date.now(); });
// A 401 ends the console's session only when the session is gone: a wrong old password in
// "change password" is a 401 too, and must not sign anyone out.
let checking = false;
on('unauthenticated', async () => {
  if (!state.me || checking) return;
  checking = true;
  try {
    await api('GET', '/v1/me/session');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) signedOut('expired');
  } finally {
    checking = false;
  }
});
window.addEventListener('hashchange', () => { if (state.me) route(); });
setInterval(checkIdle, 5000);

(async function start() {
  try {
    const s = await loadSession();
    if (!s || s.second_factor_pending) return signedOut();
    await loadMe();
    state.lastActivity = Date.now();
    shell();
  } catch (e) {
    signedOut();
  }
})();
