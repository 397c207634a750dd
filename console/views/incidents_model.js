// incidents_model.js - the incident board's rules that need no browser: who may see and do
// what (the shape of the view follows the role; the server decides every request anyway),
// which task is late, the regulators' clocks, durations in words, the scope as chart series,
// the timeline in order, the containment targets offered from the source alert, and the drill
// timings as rows. Every function is pure (the clock is passed in) so Node tests it alone.

export const PHASES = ['detection', 'containment', 'recovery', 'post-incident', 'closed'];
export const TEAMS = ['technical', 'legal', 'customer-service', 'stewards', 'communications'];
export const CONTAINMENT = ['lock-account', 'revoke-sessions', 'revoke-api-key', 'block-address', 'seal-vault'];
export const REPORTS = ['cac-initial', 'gdpr-33', 'cac-summary'];
export const CLOSINGS = ['false-positive', 'true-positive-no-impact', 'true-positive-impact'];
export const SEVERITIES = ['low', 'medium', 'high', 'critical'];
export const PLAYBOOKS = ['customer-data-misread', 'credentials-stolen'];
export const DOC_FORMATS = ['text', 'html', 'pdf'];
export const LANGS = ['zh-CN', 'en'];
// The teams' texts the documents are written from (the rest of the facts come from the incident,
// its scope and the company's settings).
export const TEXT_KEYS = ['event_type', 'measures', 'impact', 'cause', 'harm', 'customer_steps', 'handling', 'accountability', 'remediation', 'lessons'];

// The texts form's values as the API's body: only what was written, without braces (the
// templates' own marks), or a reason it cannot be sent.
export function textsBody(lang, v) {
    const texts = {};
    for (const k of TEXT_KEYS) {
        const s = String((v && v[k]) || '').trim();
        if (!s) continue;
        if (/[{}]/.test(s)) return { error: 'brace', key: k };
        texts[k] = s;
    }
    if (!Object.keys(texts).length) return { error: 'empty' };
    return { body: { lang, texts } };
}

// The roles that see the board (sales, admin and HR never do: not even the navigation link).
export const BOARD_ROLES = ['security', 'legal', 'data_steward', 'customer_service', 'auditor'];

// What each role is offered. Auditors read everything and are offered nothing; customer
// service and stewards work their own tasks and read what concerns them.
const CAN = {
    open: ['security', 'legal'],
    contain: ['security'],
    scope: ['security'],
    readScope: ['security', 'legal', 'data_steward', 'auditor'],
    phase: ['security', 'legal'],
    owner: ['security', 'legal'],
    note: ['security', 'legal', 'data_steward', 'customer_service'],
    close: ['security', 'legal'],
    evidence: ['legal'],
    filed: ['legal'],
    documents: ['security', 'legal', 'customer_service', 'auditor'],
    report: ['security', 'legal', 'customer_service', 'data_steward', 'auditor'],
    evidenceIndex: ['security', 'legal', 'auditor'],
    approve: ['legal'],
    texts: ['security', 'legal'],
    send: ['customer_service'],
    approveExport: ['legal', 'data_steward'],
    drill: ['security'],
    drills: ['security', 'legal', 'auditor'],
    clocks: ['security', 'legal', 'auditor'],
};

export function visible(me) {
    return !!me && BOARD_ROLES.includes(me.role);
}

export function can(me, what) {
    if (!visible(me)) return false;
    const roles = CAN[what];
    if (!roles) throw new Error('incidents: unknown capability ' + what);
    return roles.includes(me.role);
}

// The console's role names are the policy's (customer_service, data_steward); a playbook may
// name roles either way. A task is the role's to work when its roles name that role.
const ROLE_ALIASES = { 'customer-service': 'customer_service', 'data-steward': 'data_steward', steward: 'data_steward', stewards: 'data_steward' };
export function normRole(r) {
    const s = String(r || '');
    return ROLE_ALIASES[s] || s;
}

export function mayWork(me, task) {
    if (!visible(me) || me.role === 'auditor' || !task) return false;
    const roles = Array.isArray(task.roles) ? task.roles.map(normRole) : [];
    return roles.includes(me.role);
}

// A time from the API: RFC 3339 string (the contract) or microseconds (the stored form).
export function toMs(v) {
    if (v === null || v === undefined || v === '' || v === 0) return null;
    if (typeof v === 'number') return v > 1e14 ? Math.floor(v / 1000) : v;
    const d = Date.parse(v);
    return isNaN(d) ? null : d;
}

export function field(o, name) {
    if (!o) return null;
    if (o[name + '_at'] !== undefined) return toMs(o[name + '_at']);
    if (o[name + '_us'] !== undefined) return toMs(o[name + '_us']);
    return null;
}

export function taskDue(task) {
    return field(task, 'due');
}

// Late: the server's word when it gives one, else an unfinished task past its due time.
export function isLate(task, now) {
    if (!task || task.state === 'done') return false;
    if (typeof task.late === 'boolean') return task.late;
    const due = taskDue(task);
    return due !== null && due < now;
}

// Tasks grouped by team in the playbook's team order (unknown teams last, in their order).
export function byTeam(tasks) {
    const groups = new Map();
    for (const tk of tasks || []) {
        const team = tk.team || 'technical';
        if (!groups.has(team)) groups.set(team, []);
        groups.get(team).push(tk);
    }
    const order = (x) => (TEAMS.includes(x) ? TEAMS.indexOf(x) : TEAMS.length);
    return [...groups.entries()].sort((a, b) => order(a[0]) - order(b[0])).map(([team, list]) => ({ team, tasks: list }));
}

// Who is late: per team (in response order) the late tasks and the roles they wait on.
export function lateByTeam(tasks, now) {
    return byTeam(tasks).map((g) => {
        const late = g.tasks.filter((tk) => isLate(tk, now));
        const roles = [...new Set(late.flatMap((tk) => (Array.isArray(tk.roles) ? tk.roles.map(normRole) : [])))];
        return { team: g.team, tasks: late.map((tk) => tk.id), roles };
    }).filter((g) => g.tasks.length > 0);
}

export function lateCount(inc, now) {
    if (Array.isArray(inc.tasks)) return inc.tasks.filter((tk) => isLate(tk, now)).length;
    return Number(inc.late_tasks) || 0;
}

// A task's title in the language shown: a string, or {"zh-CN": …, en: …}, else its id.
export function textIn(v, lang, fallback) {
    if (typeof v === 'string' && v) return v;
    if (v && typeof v === 'object') return v[lang] || v['zh-CN'] || v.en || fallback || '';
    return fallback || '';
}

// An incident's or task's title in the language shown: the API gives "title" (English) and
// "title_zh"; a title may also be one string or {"zh-CN": …, en: …}.
export function titleOf(o, lang, fallback) {
    if (!o) return fallback || '';
    if (String(lang || '').startsWith('zh') && typeof o.title_zh === 'string' && o.title_zh) return o.title_zh;
    return textIn(o.title, lang, fallback || o.id);
}

// A regulator's clock at `now`: {state, left_s}. state: 'filed', 'na' (does not apply),
// 'unknown' (no due time yet: the summary before the incident ends), 'late' or 'running'.
// The server's left_s is from when it answered; the page counts down from due_at itself.
export function clock(d, now) {
    if (!d) return { state: 'na', left_s: 0 };
    if (d.applies === false) return { state: 'na', left_s: 0 };
    if (field(d, 'filed')) return { state: 'filed', left_s: 0 };
    const due = field(d, 'due');
    if (due === null) return { state: 'unknown', left_s: 0 };
    const left = Math.floor((due - now) / 1000);
    return { state: left < 0 ? 'late' : 'running', left_s: left };
}

// Seconds as words: {d, h, m, s} picked so that the two largest units show.
export function durationParts(seconds) {
    const neg = seconds < 0;
    let s = Math.abs(Math.round(Number(seconds) || 0));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    return { neg, d, h, m, s };
}

export function fmtDuration(seconds, t) {
    if (seconds === null || seconds === undefined || isNaN(Number(seconds))) return '—';
    const abs = Math.abs(Number(seconds));
    // A machine's step (a drill's detection) takes milliseconds: shown as such, not "0 s".
    if (abs > 0 && abs < 1) return t('inc.dur.msec', { n: Math.max(1, Math.round(abs * 1000)) });
    const p = durationParts(seconds);
    let key;
    if (p.d) key = 'inc.dur.dh';
    else if (p.h) key = 'inc.dur.hm';
    else if (p.m) key = 'inc.dur.ms';
    else key = 'inc.dur.s';
    return t(key, p);
}

// The scope's department counts as a bar chart's labels and series. A department's value is a
// number (people) or an object {people|customers, records, ...}.
export function scopeSeries(scope) {
    const per = (scope && scope.by_department) || {};
    const labels = Object.keys(per).sort();
    const num = (v, k) => (typeof v === 'number' ? (k === 'people' ? v : null) : v && typeof v === 'object' ? Number(v[k] ?? (k === 'people' ? v.customers : undefined)) || 0 : 0);
    const people = labels.map((d) => num(per[d], 'people') || 0);
    const hasRecords = labels.some((d) => per[d] && typeof per[d] === 'object' && per[d].records !== undefined);
    const series = [{ key: 'people', values: people }];
    if (hasRecords) series.push({ key: 'records', values: labels.map((d) => Number(per[d].records) || 0) });
    return { labels, series };
}

// by_category as sorted rows [{category, count}], biggest first.
export function categoryRows(scope) {
    const per = (scope && scope.by_category) || {};
    return Object.entries(per)
        .map(([category, v]) => ({ id: category, category, count: typeof v === 'number' ? v : Number(v && (v.people ?? v.customers ?? v.count)) || 0 }))
        .sort((a, b) => b.count - a.count || a.category.localeCompare(b.category));
}

// The timeline, newest first (the API gives it oldest first), each with a time in ms.
export function timeline(inc) {
    const ev = Array.isArray(inc && inc.timeline) ? inc.timeline : Array.isArray(inc && inc.events) ? inc.events : [];
    return ev.map((e, i) => ({ ...e, seq: i, at: e.at !== undefined ? toMs(e.at) : field(e, 'at') })).sort((a, b) => (b.at || 0) - (a.at || 0) || b.seq - a.seq);
}

// What each containment action is aimed at, offered from the source alert's subject (the
// person confirms or changes it before anything happens).
export function targetFor(action, alert) {
    const a = alert || {};
    switch (action) {
        case 'lock-account':
        case 'revoke-sessions':
            return a.account || '';
        case 'revoke-api-key':
            return a.api_key || a.key || '';
        case 'block-address':
            return a.address && a.address !== '-' ? String(a.address).replace(/\/\d+$/, '') : '';
        case 'seal-vault':
            return 'vault';
        default:
            return '';
    }
}

export function containmentActions(task) {
    return (Array.isArray(task && task.actions) ? task.actions : []).filter((a) => CONTAINMENT.includes(a));
}

// The phase that follows (phases move one step forward; any earlier one may be taken back).
export function nextPhase(phase) {
    const i = PHASES.indexOf(phase);
    return i >= 0 && i < PHASES.length - 2 ? PHASES[i + 1] : null;
}

export function earlierPhases(phase) {
    const i = PHASES.indexOf(phase);
    return i > 0 ? PHASES.slice(0, Math.min(i, PHASES.length - 1)) : [];
}

// The drill list as the API gives it (an array, or {drills: […]}), newest first.
export function drillList(res) {
    const list = Array.isArray(res) ? res : (res && Array.isArray(res.drills) ? res.drills : []);
    return list.slice().sort((a, b) => (field(b, 'started') || 0) - (field(a, 'started') || 0));
}

// The unit a drill chart is drawn in: seconds while every timing is under two minutes.
export function chartUnit(drills) {
    const max = Math.max(0, ...drills.flatMap((d) => Object.values((d && d.timings) || {}).filter((v) => typeof v === 'number')));
    return max < 120 ? { key: 'seconds', div: 1 } : { key: 'minutes', div: 60 };
}

// The timings every drill is measured on, in the order a response runs.
export const TIMINGS = ['detect_s', 'acknowledge_s', 'decide_s', 'contain_s', 'evidence_s', 'notices_s', 'report_s'];

// Drill timings as rows {key, values: [seconds per drill]} for a comparison table: the known
// timings in order, then any other the server measured.
export function timingRows(drills) {
    const keys = [...TIMINGS];
    for (const d of drills) for (const k of Object.keys((d && d.timings) || {})) if (!keys.includes(k)) keys.push(k);
    return keys
        .map((k) => ({ key: k, values: drills.map((d) => (d && d.timings && typeof d.timings[k] === 'number' ? d.timings[k] : null)) }))
        .filter((r) => r.values.some((v) => v !== null));
}

// The documents list (an array, or {documents: […]}) as one row per kind with its languages.
export function documentKinds(res) {
    const list = Array.isArray(res) ? res : (res && Array.isArray(res.documents) ? res.documents : []);
    const m = new Map();
    for (const d of list) {
        if (!d || !d.kind) continue;
        const r = m.get(d.kind) || { id: d.kind, kind: d.kind, langs: {}, approved_by: '', approved_at: null, personal: false };
        // An approval counts while it holds (the server says "approved": bound to the template
        // and the facts; a changed scope needs a new one).
        const ok = typeof d.approved === 'boolean' ? d.approved : !!d.approved_by;
        r.langs[d.lang || 'zh-CN'] = { ...d, approved: ok };
        if (ok && d.approved_by) { r.approved_by = d.approved_by; r.approved_at = d.approved_at || r.approved_at; }
        if (d.personal) r.personal = true;
        m.set(d.kind, r);
    }
    for (const r of m.values()) {
        const ls = Object.values(r.langs);
        r.approved = ls.length > 0 && ls.every((x) => x.approved);
        if (!r.approved && !ls.some((x) => x.approved)) { r.approved_by = ''; r.approved_at = null; }
    }
    return [...m.values()];
}

// The incident report and the evidence index: GET paths in a language and a format.
export function reportPath(id, which, lang, format) {
    const sub = which === 'evidence-index' ? 'evidence/index' : 'report';
    return `/v1/incidents/${encodeURIComponent(id)}/${sub}?lang=${encodeURIComponent(lang)}&format=${encodeURIComponent(format)}`;
}

export function docPath(id, kind, lang, format, customer) {
    const p = new URLSearchParams({ lang, format });
    if (customer) p.set('customer', customer);
    return `/v1/incidents/${encodeURIComponent(id)}/documents/${encodeURIComponent(kind)}?${p}`;
}

// Scope form values ("a, b c" lists and one window) as the POST body.
export function scopeBody(v) {
    const list = (s) => String(s || '').split(/[\s,;，、]+/).map((x) => x.trim()).filter(Boolean);
    const body = { actors: list(v.actors), api_keys: list(v.api_keys), addresses: list(v.addresses), windows: [] };
    if (v.from || v.to) body.windows.push({ from: v.from || '', to: v.to || '' });
    return body;
}

// A stable signature of what the board shows, so a refresh redraws only when something changed.
export function signature(x) {
    return JSON.stringify(x, (k, v) => (k === 'left_s' ? undefined : v));
}
