// i18n.js - zh-CN first, English second; the choice is remembered. Dates and times are shown
// in the vault's zone (Asia/Shanghai unless told otherwise) in each language's convention.
import dicts from '../i18n/index.js';

const LANGS = ['zh-CN', 'en'];
const KEY = 'custos.lang';
let current = 'zh-CN';
let zone = 'Asia/Shanghai';
const table = { 'zh-CN': {}, en: {} };
for (const d of dicts) for (const l of LANGS) Object.assign(table[l], (d && d[l]) || {});

try {
  const saved = localStorage.getItem(KEY);
  if (LANGS.includes(saved)) current = saved;
} catch (_) { /* storage refused: the default */ }
document.documentElement.lang = current;

export function lang() { return current; }
export function langs() { return LANGS.slice(); }
export function setLang(l) {
  if (!LANGS.includes(l)) return;
  current = l;
  document.documentElement.lang = l;
  try { localStorage.setItem(KEY, l); } catch (_) { /* not remembered */ }
}
export function setZone(z) { if (z) zone = z; }
export function has(key) { return Object.prototype.hasOwnProperty.call(table[current], key); }

// A missing key shows as ⟦key⟧ so that it is seen (and found by the tests).
export function t(key, vars) {
  let s = table[current][key];
  if (s === undefined) return '\u27e6' + key + '\u27e7';
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? String(vars[k]) : m));
  return s;
}

function toDate(v) {
  if (v === null || v === undefined || v === '') return null;
  const d = v instanceof Date ? v : new Date(typeof v === 'number' && v > 1e14 ? v / 1000 : v);
  return isNaN(d.getTime()) ? null : d;
}

export function fmtDateTime(v) {
  const d = toDate(v);
  if (!d) return v ? String(v) : '';
  return new Intl.DateTimeFormat(current, { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(d);
}

export function fmtDate(v) {
  const d = toDate(v);
  if (!d) return v ? String(v) : '';
  return new Intl.DateTimeFormat(current, { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

// An API error in words a person understands: the known code translated, else its message.
export function errorText(e) {
  if (!e) return '';
  const k = 'error.' + e.code;
  if (has(k)) return t(k) + (e.message && e.code !== 'unauthenticated' ? ' (' + e.message + ')' : '');
  return e.message || String(e);
}
