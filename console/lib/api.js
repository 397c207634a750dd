// api.js - every datum the console shows comes through the /v1/ routes, like any client's.
// The session lives in an HttpOnly cookie; state-changing requests carry X-CSRF-Token.

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.body = body || null;
  }
}

let csrf = null;
const listeners = { activity: [], unauthenticated: [] };

export function setCsrf(token) { csrf = token || null; }
export function on(event, fn) { listeners[event].push(fn); }

async function send(method, path, body, opts) {
  const headers = { Accept: 'application/json' };
  let payload;
  if (opts && opts.contentType) {
    headers['Content-Type'] = opts.contentType;
    payload = body;
  } else if (body !== undefined && body !== null) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  if (opts && opts.headers) Object.assign(headers, opts.headers);
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store', redirect: 'error' });
  } catch (e) {
    throw new ApiError(0, 'network', String(e && e.message || e));
  }
  listeners.activity.forEach((f) => f());
  return res;
}

async function fail(res) {
  let body = null;
  try { body = await res.json(); } catch (_) { /* not JSON */ }
  const e = body && body.error;
  const err = new ApiError(res.status, (e && e.code) || 'http_' + res.status, (e && e.message) || res.statusText, body);
  if (res.status === 401 && err.code !== 'second_factor_required') {
    listeners.unauthenticated.forEach((f) => f(err));
  }
  return err;
}

// Parsed JSON (null on 204); rejects with ApiError {status, code, message, body}.
export async function api(method, path, body, opts) {
  const res = await send(method, path, body, opts);
  if (!res.ok) throw await fail(res);
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// The answer as text (exports, SVG), with its headers.
export async function apiText(method, path, body, opts) {
  const res = await send(method, path, body, opts);
  if (!res.ok) throw await fail(res);
  return { text: await res.text(), headers: res.headers, status: res.status };
}

// Query string from an object (empty values left out).
export function qs(o) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o || {})) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
}
