// training_lib.js - the training views' logic that needs no browser: assignment states in the
// order a person should act on them, the quiz's answer body, quarters in the vault's zone and
// trends across them, the weakest topics, the questionnaire's movement, the CSV file, and the
// lesson's HTML rebuilt from an allow-list (the server renders lessons with cmark; the page
// copies only known elements and attributes, as text nodes and attributes, never as markup).

// The states of an assigned course (GET /v1/training/status), most urgent first.
export const STATES = ['expired', 'overdue', 'pending', 'future', 'certified'];
const BADGE = { expired: 'danger', overdue: 'danger', pending: 'warn', future: '', certified: 'ok' };

export function badgeClass(state) {
    return 'badge ' + (BADGE[state] ?? '');
}

// Assigned courses, the one to act on first at the top (then by due date).
export function sortAssignments(courses) {
    const rank = (s) => { const i = STATES.indexOf(s); return i < 0 ? STATES.length : i; };
    return [...(courses || [])].sort((a, b) => rank(a.state) - rank(b.state) || String(a.due || '').localeCompare(String(b.due || '')));
}

// Whole days from `now` to `iso` (negative once past), or null.
export function daysUntil(iso, now = Date.now()) {
    const t = Date.parse(iso);
    if (isNaN(t)) return null;
    const d = (t - now) / 86400000;
    return d >= 0 ? Math.ceil(d) : -Math.ceil(-d);
}

// What the person should read next about an assignment: a key of the dictionary and its values.
export function deadlineNote(c, now = Date.now()) {
    switch (c.state) {
    case 'future': return ['training.note.future', { days: daysUntil(c.window_opens, now) }];
    case 'pending': return ['training.note.pending', { days: daysUntil(c.due, now) }];
    case 'overdue': return ['training.note.overdue', { days: daysUntil(c.grace_ends, now) }];
    case 'expired': return ['training.note.expired', {}];
    case 'certified': return ['training.note.certified', {}];
    default: return ['training.note.unknown', {}];
    }
}

// The submit body from the chosen indexes per question: {answers: {id: [sorted indexes]}},
// and which questions are still unanswered (the page asks before sending a paper half done).
export function answersBody(questions, chosen) {
    const answers = {};
    const missing = [];
    for (const q of questions || []) {
        const set = chosen.get(q.id);
        const idx = set ? [...set].filter((i) => Number.isInteger(i) && i >= 0 && i < q.choices.length).sort((a, b) => a - b) : [];
        if (!idx.length) missing.push(q.id);
        if (q.kind === 'single' && idx.length > 1) idx.splice(1);
        answers[q.id] = idx;
    }
    return { body: { answers }, missing };
}

// A questionnaire's body: Likert items as integers 1..5, free text trimmed, blanks left out.
export function questionnaireBody(items, values) {
    const answers = {};
    for (const it of items || []) {
        const v = values[it.id];
        if (v === undefined || v === null || v === '') continue;
        if (it.kind === 'likert') {
            const n = Number(v);
            if (Number.isInteger(n) && n >= 1 && n <= 5) answers[it.id] = n;
        } else {
            const s = String(v).trim();
            if (s) answers[it.id] = s;
        }
    }
    return { answers };
}

// "2026Q4" for an instant, in the vault's zone.
export function quarterOf(iso, zone = 'Asia/Shanghai') {
    const d = new Date(iso);
    if (isNaN(d.getTime())) return null;
    const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit' }).formatToParts(d);
    const y = parts.find((p) => p.type === 'year').value;
    const m = Number(parts.find((p) => p.type === 'month').value);
    return `${y}Q${Math.floor((m - 1) / 3) + 1}`;
}

// The quarters from `first` to `last` inclusive ("2026Q3", "2026Q4", "2027Q1", ...).
export function quarterRange(first, last) {
    const parse = (q) => { const [y, n] = q.split('Q'); return Number(y) * 4 + Number(n) - 1; };
    const out = [];
    for (let i = parse(first); i <= parse(last); i++) out.push(`${Math.floor(i / 4)}Q${(i % 4) + 1}`);
    return out;
}

// Submitted attempts (GET /v1/training/results?username=*) of one course per quarter and
// department: {quarters, departments, cell(dept, q) -> {attempts, passed, pass_rate, average}}
// with "" as the whole company. Quarters without attempts between the first and last are kept
// (a gap is a finding too).
export function trends(attempts, course, zone = 'Asia/Shanghai') {
    const rows = (attempts || []).filter((a) => a.submitted_at && (!course || a.course === course));
    const cells = new Map();
    const qs = new Set();
    const depts = new Set();
    for (const a of rows) {
        const q = quarterOf(a.submitted_at, zone);
        if (!q) continue;
        qs.add(q);
        const d = a.department || '—';
        depts.add(d);
        for (const k of [d + '|' + q, '|' + q]) {
            const c = cells.get(k) || { attempts: 0, passed: 0, sum: 0 };
            c.attempts += 1;
            c.passed += a.passed ? 1 : 0;
            c.sum += Number(a.score) || 0;
            cells.set(k, c);
        }
    }
    const sorted = [...qs].sort();
    const quarters = sorted.length ? quarterRange(sorted[0], sorted[sorted.length - 1]) : [];
    return {
        quarters,
        departments: [...depts].sort(),
        cell(dept, q) {
            const c = cells.get((dept || '') + '|' + q);
            if (!c) return { attempts: 0, passed: 0, pass_rate: null, average: null };
            return { attempts: c.attempts, passed: c.passed, pass_rate: Math.round((100 * c.passed) / c.attempts), average: Math.round(c.sum / c.attempts) };
        },
    };
}

// The report's weakest questions, worst first, with the lesson's title where the course names it.
export function weakest(report, course, limit = 10) {
    const titles = new Map(((course && course.lessons) || []).map((l) => [l.id, l.title]));
    return [...((report && report.weakest_questions) || [])]
        .filter((w) => w.answered > 0)
        .map((w) => ({ ...w, rate: Math.round((100 * w.wrong) / w.answered), topic: titles.get(w.lesson) || w.lesson }))
        .sort((a, b) => b.rate - a.rate || b.wrong - a.wrong || String(a.question).localeCompare(String(b.question)))
        .slice(0, limit);
}

// Per lesson (topic): how often its questions were answered wrongly, worst first.
export function weakestTopics(report, course) {
    const m = new Map();
    for (const w of weakest(report, course, Infinity)) {
        const g = m.get(w.lesson) || { lesson: w.lesson, topic: w.topic, answered: 0, wrong: 0 };
        g.answered += w.answered;
        g.wrong += w.wrong;
        m.set(w.lesson, g);
    }
    return [...m.values()].map((g) => ({ ...g, rate: Math.round((100 * g.wrong) / g.answered) })).sort((a, b) => b.rate - a.rate);
}

// The questionnaire's Likert items before and after: [{item, pre, post, n_pre, n_post, delta}].
export function movement(report) {
    const q = (report && report.questionnaire) || {};
    const r2 = (x) => (typeof x === 'number' ? Math.round(x * 100) / 100 : null);
    return Object.keys(q).sort().map((item) => {
        const pre = q[item].pre || {};
        const post = q[item].post || {};
        const a = r2(pre.mean);
        const b = r2(post.mean);
        return { item, pre: a, post: b, n_pre: pre.n || 0, n_post: post.n || 0, delta: a !== null && b !== null && pre.n && post.n ? r2(b - a) : null };
    });
}

// One CSV field (RFC 4180), with a leading quote on text a spreadsheet would run as a formula.
export function csvField(v) {
    let s = v === null || v === undefined ? '' : String(v);
    // Numbers stay numbers (a negative change is "-0.5"); text that a spreadsheet would run is quoted.
    if (typeof v !== 'number' && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\r\n']/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

export function csv(rows) {
    return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

// The report as a CSV file: departments, then trends, weakest questions and the questionnaire,
// each a block with its own header row (and a section name in the first column).
export function reportCsv(courseId, report, tr, course) {
    const rows = [['section', 'course', 'department', 'accounts', 'certified', 'attempts', 'passed', 'pass_rate_percent', 'average_score']];
    for (const d of (report && report.departments) || []) {
        rows.push(['department', courseId, d.department, d.accounts, d.certified, d.attempts, d.passed, Math.round((d.pass_rate || 0) * 100), Math.round(d.average_score || 0)]);
    }
    rows.push([]);
    rows.push(['section', 'course', 'department', 'quarter', 'attempts', 'passed', 'pass_rate_percent', 'average_score']);
    for (const d of ['', ...tr.departments]) {
        for (const q of tr.quarters) {
            const c = tr.cell(d, q);
            rows.push(['trend', courseId, d || '*', q, c.attempts, c.passed, c.pass_rate ?? '', c.average ?? '']);
        }
    }
    rows.push([]);
    rows.push(['section', 'course', 'question', 'lesson', 'answered', 'wrong', 'wrong_percent']);
    for (const w of weakest(report, course, Infinity)) rows.push(['weakest', courseId, w.question, w.lesson, w.answered, w.wrong, w.rate]);
    rows.push([]);
    rows.push(['section', 'course', 'item', 'pre_mean', 'pre_n', 'post_mean', 'post_n', 'change']);
    for (const m of movement(report)) rows.push(['questionnaire', courseId, m.item, m.pre ?? '', m.n_pre, m.post ?? '', m.n_post, m.delta ?? '']);
    return csv(rows);
}

// ---- lessons: the server's HTML rebuilt from an allow-list ----

const FILES = '/v1/training/files/';
const BLOCK = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'ul', 'ol', 'li', 'blockquote', 'pre', 'hr', 'br',
    'strong', 'em', 'code', 'del', 'sup', 'sub', 'a', 'img', 'figure', 'figcaption', 'b', 'i', 'span']);
// Elements whose content goes too (everything else unknown is dropped, its text kept).
const DROP = new Set(['script', 'style', 'iframe', 'object', 'embed', 'form', 'input', 'button', 'textarea', 'select',
    'svg', 'math', 'template', 'noscript', 'link', 'meta', 'base', 'foreignobject', 'video', 'audio', 'source', 'frame', 'frameset']);

// A course file's address when `src` is one (same origin, the files route, no "..").
export function courseFile(src) {
    if (typeof src !== 'string' || !src.startsWith(FILES)) return null;
    const rest = src.slice(FILES.length).split(/[?#]/)[0];
    if (!rest || rest.split('/').some((p) => p === '' || p === '.' || p === '..') || /[\\\s]/.test(rest)) return null;
    return FILES + rest;
}

export function mediaKind(src) {
    const p = String(src).toLowerCase();
    if (/\.(mp4|webm)$/.test(p)) return 'video';
    if (/\.(svg|png|jpe?g|webp)$/.test(p)) return 'image';
    if (/\.pdf$/.test(p)) return 'document';
    return null;
}

function safeHref(h) {
    if (typeof h !== 'string') return null;
    const f = courseFile(h);
    if (f) return { href: f, file: true };
    if (/^https:\/\/[^\s/]+/i.test(h)) return { href: h, file: false };
    if (/^#[\w-]*$/.test(h)) return { href: h, file: false };
    return null;
}

// Rebuilds `src` (a parsed, inert DOM node's children) with make = {el(tag, attrs, ...kids),
// text(s)}. Pictures only from the course's files (nothing else is fetched: the console makes
// no outside request), videos as <video controls> (the browser asks for ranges itself), PDF
// links as downloads; outside links open apart with no referrer. Answers an array of nodes.
export function rebuildLesson(src, make, t = (k) => k) {
    const out = [];
    for (const n of src.childNodes || []) {
        if (n.nodeType === 3) { out.push(make.text(n.nodeValue)); continue; }
        if (n.nodeType !== 1) continue;
        const tag = String(n.tagName || n.nodeName).toLowerCase();
        if (DROP.has(tag)) continue;
        if (!BLOCK.has(tag)) { out.push(...rebuildLesson(n, make, t)); continue; }
        const attr = (a) => (n.getAttribute ? n.getAttribute(a) : null);
        if (tag === 'img') {
            const f = courseFile(attr('src'));
            const alt = attr('alt') || '';
            if (!f) { if (alt) out.push(make.text(alt)); continue; }
            const kind = mediaKind(f);
            if (kind === 'video') {
                out.push(make.el('figure', { class: 'lesson-video' },
                    make.el('video', { src: f, controls: true, preload: 'metadata', 'aria-label': alt || t('training.video') }),
                    alt ? make.el('figcaption', {}, alt) : null));
            } else if (kind === 'image') {
                out.push(make.el('img', { src: f, alt, loading: 'lazy', class: /comic/i.test(f) ? 'comic' : null }));
            } else if (kind === 'document') {
                out.push(make.el('a', { href: f, download: '', 'data-attachment': f.split('/').pop() }, alt || f.split('/').pop()));
            }
            continue;
        }
        const attrs = {};
        if (tag === 'a') {
            const h = safeHref(attr('href'));
            if (!h) { out.push(...rebuildLesson(n, make, t)); continue; }
            attrs.href = h.href;
            if (h.file) {
                if (mediaKind(h.href) === 'document') { attrs.download = ''; attrs['data-attachment'] = h.href.split('/').pop(); }
            } else if (!h.href.startsWith('#')) {
                attrs.rel = 'noopener noreferrer';
                attrs.target = '_blank';
            }
        }
        if (tag === 'ol' && /^\d{1,4}$/.test(attr('start') || '')) attrs.start = attr('start');
        out.push(make.el(tag, attrs, ...rebuildLesson(n, make, t)));
    }
    return out;
}

// ---- the metrics route (GET /v1/training/metrics) in the report's shape ----

// {groups, weakest, questionnaire} of `by=department` as the course report's fields, so one
// drawing serves both: departments with accounts (assigned), certified, attempts, passed,
// pass_rate (0..1) and average_score; the weakest questions; the questionnaire per item.
export function reportFromMetrics(m) {
    const departments = ((m && m.groups) || []).map((g) => ({
        department: g.key, accounts: g.assigned ?? g.people ?? 0, certified: g.certified || 0, attempts: g.attempts || 0,
        passed: g.passed || 0, pass_rate: g.pass_rate || 0, average_score: g.average_score || 0, statuses: g.statuses || null,
        remedial_open: g.remedial_open ?? null,
    }));
    const weakest_questions = ((m && m.weakest) || []).map((w) => ({ question: w.question, lesson: w.lesson, answered: w.answered || 0, wrong: w.wrong || 0 }));
    const questionnaire = {};
    for (const q of (m && m.questionnaire) || []) questionnaire[q.item] = { pre: q.pre || { mean: null, n: 0 }, post: q.post || { mean: null, n: 0 } };
    return { departments, weakest_questions, questionnaire };
}

// Trends from the metrics route: the whole scope's `trends` and, per department, the `trends`
// of a request filtered to it ({department: metrics}); the same interface as trends().
export function trendsFromMetrics(all, perDept = {}) {
    const cells = new Map();
    const qs = new Set();
    const put = (d, rows) => {
        for (const r of rows || []) {
            qs.add(r.quarter);
            cells.set(d + '|' + r.quarter, {
                attempts: r.attempts || 0, passed: r.passed || 0,
                pass_rate: r.attempts ? Math.round((r.pass_rate || 0) * 100) : null, average: r.attempts ? Math.round(r.average_score || 0) : null,
            });
        }
    };
    put('', all && all.trends);
    for (const [d, m] of Object.entries(perDept)) put(d, m && m.trends);
    const sorted = [...qs].filter(Boolean).sort();
    return {
        quarters: sorted.length ? quarterRange(sorted[0], sorted[sorted.length - 1]) : [],
        departments: Object.keys(perDept).sort(),
        cell(d, q) { return cells.get((d || '') + '|' + q) || { attempts: 0, passed: 0, pass_rate: null, average: null }; },
    };
}

// Where a remedial course came from ("violation:RULE", "guard:RULE" or "hr"): a key of the
// dictionary and the rule, if any.
export function remedialSource(source) {
    const s = String(source || '');
    const m = s.match(/^(violation|guard):(.+)$/);
    if (m) return [m[1] === 'guard' ? 'training.remedial.by_guard' : 'training.remedial.by_rule', m[2]];
    return ['training.remedial.by_hr', null];
}
