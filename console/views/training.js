// training.js - the employee's own training: assigned courses with their state (future,
// pending, overdue, certified, expired), due date and grace; the lessons as the server renders
// them (comic pages, video, attachments); the quiz (single and multiple choice, "is this mail
// phishing?" questions on a rendered example mail, the explanations after submitting); the
// questionnaires before and after; the person's own results. Every request is about the signed-in
// person only: the view never names another account (the server refuses that anyway).
//   #/training                              my training
//   #/training/course/<course>/<lesson>     a lesson
//   #/training/quiz/<course>                the quiz
//   #/training/questionnaire/<course>/<pre|post>
import { put, table, errorNote, useWatchStyles, useSheet } from '../lib/chart_ui.js';
import { sortAssignments, badgeClass, deadlineNote, answersBody, questionnaireBody, rebuildLesson, remedialSource } from './training_lib.js';
import { reportSection, mineSection } from './training_phish.js';

const enc = encodeURIComponent;
const PHASES = ['pre', 'post'];

// The language the API is asked for: the console's own.
function lang() {
    return typeof document !== 'undefined' && document.documentElement.lang === 'en' ? 'en' : 'zh-CN';
}

function useTrainingStyles() {
    useWatchStyles();
    useSheet('training');
}

function busy(ctx, node) {
    node.setAttribute('aria-busy', 'true');
    put(node, ctx.el('p', { class: 'muted', role: 'status' }, ctx.t('training.loading')));
}

async function courses(ctx) {
    return (await ctx.api('GET', '/v1/training/courses?lang=' + enc(lang()))).courses || [];
}

// ---- my training ----
async function home(root, ctx) {
    const { el, t } = ctx;
    const out = el('div');
    root.append(el('h1', {}, t('training.title')), el('p', { class: 'muted' }, t('training.intro')), out);
    busy(ctx, out);
    let status;
    let list;
    let results;
    let remedial;
    let phish;
    try {
        [status, list, results, remedial, phish] = await Promise.all([
            ctx.api('GET', '/v1/training/status'),
            courses(ctx),
            ctx.api('GET', '/v1/training/results'),
            ctx.api('GET', '/v1/training/remedial?open=1'),
            ctx.api('GET', '/v1/phish/mine'),
        ]);
    } catch (e) {
        out.removeAttribute('aria-busy');
        return put(out, errorNote(ctx, e));
    }
    const byId = new Map(list.map((c) => [c.id, c]));
    const assigned = sortAssignments(status.courses);
    const sections = [];
    sections.push(el('section', { class: 'card', 'data-section': 'validity' },
        el('h2', {}, t('training.validity')),
        el('p', { 'data-state': status.training_current ? 'current' : 'lapsed' },
            el('span', { class: status.training_current ? 'badge ok' : 'badge danger' }, t(status.training_current ? 'training.current' : 'training.lapsed')), ' ',
            status.training_valid_until ? t('training.valid_until', { date: ctx.fmt.date(status.training_valid_until) }) : t('training.no_validity')),
        status.training_current ? null : el('p', {}, t('training.lapsed_hint'))));
    const open = ((remedial && remedial.remedial) || []).filter((r) => !r.done_at);
    if (open.length) {
        // Remedial training after a violation (HR or a guard rule): the most urgent of all.
        sections.push(el('section', { class: 'card remedial', 'data-section': 'remedial' },
            el('h2', {}, t('training.remedial.title')),
            el('p', {}, t('training.remedial.text')),
            el('ul', { class: 'assignments' }, open.map((r) => {
                const c = byId.get(r.course);
                return el('li', { 'data-id': 'remedial-' + r.id, 'data-state': r.blocking ? 'blocking' : 'open' },
                    el('h3', {}, c ? c.title : r.course, ' ',
                        el('span', { class: r.blocking ? 'badge danger' : 'badge warn' }, t(r.blocking ? 'training.remedial.blocking' : 'training.remedial.open'))),
                    el('p', { class: 'small muted' }, t('training.remedial.assigned', { date: ctx.fmt.dateTime(r.assigned_at) }), ' · ',
                        t(remedialSource(r.source)[0]), remedialSource(r.source)[1] ? [' ', el('code', { 'data-field': 'rule' }, remedialSource(r.source)[1])] : null),
                    r.blocking ? el('p', {}, t('training.remedial.blocking_hint')) : null,
                    c ? courseActions(ctx, c, null) : null);
            }))));
    }
    if (assigned.length) {
        sections.push(el('section', { class: 'card', 'data-section': 'assignments' },
            el('h2', {}, t('training.assigned')),
            el('ul', { class: 'assignments' }, assigned.map((a) => {
                const c = byId.get(a.course);
                const [k, v] = deadlineNote(a);
                return el('li', { 'data-id': a.course, 'data-state': a.state },
                    el('h3', {}, c ? c.title : a.course, ' ', el('span', { class: badgeClass(a.state), 'data-field': 'state' }, t('training.state.' + a.state))),
                    el('p', {}, t(k, v)),
                    el('dl', { class: 'dates' },
                        el('dt', {}, t('training.cycle')), el('dd', {}, a.cycle || '—'),
                        el('dt', {}, t('training.window_opens')), el('dd', {}, ctx.fmt.date(a.window_opens)),
                        el('dt', {}, t('training.due')), el('dd', { 'data-field': 'due' }, ctx.fmt.dateTime(a.due)),
                        el('dt', {}, t('training.grace_ends')), el('dd', { 'data-field': 'grace' }, ctx.fmt.dateTime(a.grace_ends)),
                        el('dt', {}, t('training.last_pass')), el('dd', {}, a.last_pass ? ctx.fmt.dateTime(a.last_pass) : '—')),
                    c ? courseActions(ctx, c, a.state) : null);
            }))));
    } else {
        sections.push(el('section', { class: 'card', 'data-section': 'assignments' },
            el('h2', {}, t('training.assigned')), el('p', { class: 'empty', 'data-state': 'empty' }, t('training.none_assigned'))));
    }
    const others = list.filter((c) => !assigned.some((a) => a.course === c.id));
    if (others.length) {
        sections.push(el('section', { class: 'card', 'data-section': 'courses' },
            el('h2', {}, t('training.other_courses')),
            el('ul', { class: 'assignments' }, others.map((c) => el('li', { 'data-id': c.id },
                el('h3', {}, c.title), courseActions(ctx, c, null))))));
    }
    const attempts = (results.attempts || []).filter((a) => a.submitted_at);
    sections.push(el('section', { class: 'card', 'data-section': 'results' },
        el('h2', {}, t('training.my_results')),
        attempts.length ? table(el, [
            { key: 'course', label: t('training.c.course'), cell: (r) => (byId.get(r.course) || {}).title || r.course },
            { key: 'version', label: t('training.c.version') },
            { key: 'score', label: t('training.c.score'), class: 'num', cell: (r) => r.score + '%' },
            { key: 'passed', label: t('training.c.result'), cell: (r) => el('span', { class: r.passed ? 'badge ok' : 'badge danger' }, t(r.passed ? 'training.passed' : 'training.failed')) },
            { key: 'submitted_at', label: t('training.c.when'), cell: (r) => ctx.fmt.dateTime(r.submitted_at) },
        ], attempts, { label: t('training.my_results'), idOf: (r) => r.attempt })
            : el('p', { class: 'empty', 'data-state': 'empty' }, t('training.no_results'))));
    sections.push(mineSection(ctx, phish && phish.mails), reportSection(ctx));
    out.removeAttribute('aria-busy');
    put(out, ...sections.filter(Boolean));
}

function courseActions(ctx, c, state) {
    const { el, t } = ctx;
    const first = (c.lessons || [])[0];
    return el('div', { class: 'actions' },
        el('a', { class: 'button', href: `#/training/questionnaire/${enc(c.id)}/pre`, 'data-action': 'questionnaire-pre' }, t('training.q_pre')),
        first ? el('a', { class: 'button primary', href: `#/training/course/${enc(c.id)}/${enc(first.id)}`, 'data-action': 'open-course' },
            t(state === 'certified' ? 'training.review' : 'training.start')) : null,
        el('a', { class: 'button', href: `#/training/quiz/${enc(c.id)}`, 'data-action': 'open-quiz' }, t('training.quiz')),
        el('a', { class: 'button', href: `#/training/questionnaire/${enc(c.id)}/post`, 'data-action': 'questionnaire-post' }, t('training.q_post')));
}

// ---- a lesson ----
async function lesson(root, ctx, courseId, lessonId) {
    const { el, t } = ctx;
    const out = el('div');
    root.append(out);
    busy(ctx, out);
    let list;
    let les;
    try {
        list = await courses(ctx);
        const c = list.find((x) => x.id === courseId);
        if (!c) throw Object.assign(new Error(t('training.no_course')), { code: 'not_found' });
        lessonId = lessonId || (c.lessons[0] || {}).id;
        les = await ctx.api('GET', `/v1/training/courses/${enc(courseId)}/lessons/${enc(lessonId)}?lang=${enc(lang())}`);
    } catch (e) {
        out.removeAttribute('aria-busy');
        return put(out, errorNote(ctx, e));
    }
    const c = list.find((x) => x.id === courseId);
    const i = c.lessons.findIndex((l) => l.id === lessonId);
    const prev = c.lessons[i - 1];
    const next = c.lessons[i + 1];
    // The server's HTML, parsed inert (no script runs, nothing loads) and copied by allow-list.
    const doc = new DOMParser().parseFromString(les.html || '', 'text/html');
    const body = el('article', { class: 'lesson', 'data-lesson': lessonId, lang: les.lang || lang() },
        rebuildLesson(doc.body, { el, text: (s) => document.createTextNode(s) }, t));
    const toc = el('nav', { class: 'lesson-toc', 'aria-label': t('training.lessons') },
        el('p', { class: 'muted' }, c.title),
        el('ol', {}, c.lessons.map((l) => el('li', {},
            el('a', { href: `#/training/course/${enc(c.id)}/${enc(l.id)}`, 'data-lesson-link': l.id, 'aria-current': l.id === lessonId ? 'page' : null }, l.title)))));
    const pager = el('div', { class: 'actions lesson-pager' },
        el('a', { class: 'button', href: '#/training', 'data-action': 'back' }, t('training.back')),
        prev ? el('a', { class: 'button', href: `#/training/course/${enc(c.id)}/${enc(prev.id)}`, 'data-action': 'prev' }, t('training.prev')) : null,
        next ? el('a', { class: 'button primary', href: `#/training/course/${enc(c.id)}/${enc(next.id)}`, 'data-action': 'next' }, t('training.next'))
            : el('a', { class: 'button primary', href: `#/training/quiz/${enc(c.id)}`, 'data-action': 'open-quiz' }, t('training.to_quiz')));
    out.removeAttribute('aria-busy');
    put(out, el('p', { class: 'muted' }, t('training.lesson_of', { n: i + 1, total: c.lessons.length, version: les.version })),
        el('div', { class: 'lesson-layout' }, toc, el('div', {}, body, pager)));
}

// ---- the quiz ----
function mailCard(ctx, m) {
    const { el, t } = ctx;
    return el('figure', { class: 'mail', 'data-mail': '' },
        el('figcaption', {}, t('training.mail.caption')),
        el('dl', { class: 'mail-head' },
            el('dt', {}, t('training.mail.from')), el('dd', { 'data-field': 'from' }, m.from || ''),
            el('dt', {}, t('training.mail.subject')), el('dd', { 'data-field': 'subject' }, m.subject || '')),
        el('div', { class: 'mail-body', 'data-field': 'body' }, m.body || ''));
}

async function quiz(root, ctx, courseId) {
    const { el, t } = ctx;
    const out = el('div');
    root.append(el('h1', {}, t('training.quiz_title')), out);
    let list;
    try {
        list = await courses(ctx);
    } catch (e) {
        return put(out, errorNote(ctx, e));
    }
    const c = list.find((x) => x.id === courseId);
    if (!c) return put(out, el('div', { class: 'notice error', role: 'alert', 'data-error-code': 'not_found' }, t('training.no_course')));
    const start = el('button', { type: 'button', class: 'primary', 'data-action': 'start-quiz' }, t('training.quiz_start'));
    put(out, el('section', { class: 'card' },
        el('h2', {}, c.title),
        el('p', {}, t('training.quiz_intro', { pass: c.pass_mark })),
        el('div', { class: 'actions' }, el('a', { class: 'button', href: '#/training', 'data-action': 'back' }, t('training.back')), start)));
    start.addEventListener('click', async () => {
        start.disabled = true;
        out.setAttribute('aria-busy', 'true');
        try {
            const paper = await ctx.api('POST', `/v1/training/courses/${enc(courseId)}/attempts`, { lang: lang() });
            paperView(ctx, out, c, paper);
        } catch (e) {
            start.disabled = false;
            out.append(errorNote(ctx, e));
        } finally {
            out.removeAttribute('aria-busy');
        }
    });
}

function paperView(ctx, out, c, paper) {
    const { el, t } = ctx;
    const chosen = new Map();
    const form = el('form', { 'data-form': 'quiz', 'data-attempt': paper.attempt, novalidate: true });
    const blocks = new Map();
    paper.questions.forEach((q, n) => {
        const name = 'q-' + q.id;
        const legend = el('legend', {}, el('span', { class: 'qnum' }, t('training.question_n', { n: n + 1, total: paper.questions.length })), ' ', q.prompt);
        const choices = q.choices.map((ch, i) => {
            const input = el('input', { type: q.kind === 'multiple' ? 'checkbox' : 'radio', name, value: String(i), 'data-choice': String(i) });
            input.addEventListener('change', () => {
                const set = chosen.get(q.id) || new Set();
                if (q.kind === 'single') set.clear();
                if (input.checked) set.add(i); else set.delete(i);
                chosen.set(q.id, set);
            });
            return el('label', { class: 'choice' }, input, ' ', ch);
        });
        const fs = el('fieldset', { class: 'question', 'data-id': q.id, 'data-kind': q.mail ? 'mail' : q.kind },
            legend,
            q.mail ? [el('p', { class: 'muted' }, t('training.mail.question')), mailCard(ctx, q.mail)] : null,
            el('p', { class: 'hint' }, t(q.kind === 'multiple' ? 'training.pick_all' : 'training.pick_one')),
            el('div', { class: 'choices' }, choices),
            el('div', { class: 'feedback', 'aria-live': 'polite' }));
        blocks.set(q.id, fs);
        form.append(fs);
    });
    const msg = el('div', { 'aria-live': 'polite' });
    const submit = el('button', { type: 'submit', class: 'primary', 'data-action': 'submit-quiz' }, t('training.submit'));
    form.append(msg, el('div', { class: 'actions' }, submit));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const { body, missing } = answersBody(paper.questions, chosen);
        if (missing.length && !form.dataset.confirmed) {
            form.dataset.confirmed = '1';
            put(msg, el('div', { class: 'notice warn', role: 'status', 'data-state': 'unanswered' }, t('training.unanswered', { n: missing.length })));
            return;
        }
        submit.disabled = true;
        form.setAttribute('aria-busy', 'true');
        try {
            const res = await ctx.api('POST', `/v1/training/attempts/${enc(paper.attempt)}/submit`, body);
            showResults(ctx, form, blocks, paper, res, msg);
            submit.remove();
            ctx.refreshMe && ctx.refreshMe().catch(() => {});
        } catch (e) {
            submit.disabled = false;
            put(msg, errorNote(ctx, e));
        } finally {
            form.removeAttribute('aria-busy');
        }
    });
    put(out, el('p', {}, t('training.quiz_intro', { pass: paper.pass_mark })), form);
    const firstInput = form.querySelector('input');
    if (firstInput) firstInput.focus();
}

function showResults(ctx, form, blocks, paper, res, msg) {
    const { el, t } = ctx;
    for (const inp of form.querySelectorAll('input')) inp.disabled = true;
    for (const r of res.results || []) {
        const fs = blocks.get(r.q);
        if (!fs) continue;
        fs.dataset.marked = r.correct ? 'right' : 'wrong';
        const right = new Set(r.right || []);
        for (const lab of fs.querySelectorAll('label.choice')) {
            const i = Number(lab.querySelector('input').value);
            if (right.has(i)) {
                lab.classList.add('right');
                lab.append(' ', el('span', { class: 'badge ok' }, t('training.right_answer')));
            }
        }
        put(fs.querySelector('.feedback'),
            el('p', { class: r.correct ? 'result ok' : 'result bad' }, t(r.correct ? 'training.correct' : 'training.wrong')),
            r.explanation ? el('p', { class: 'explanation', 'data-field': 'explanation' }, el('strong', {}, t('training.why'), ' '), r.explanation) : null);
    }
    const banner = el('div', { class: 'result ' + (res.passed ? 'ok' : 'bad'), role: 'status', 'data-result': res.passed ? 'passed' : 'failed', 'data-score': String(res.score) },
        t(res.passed ? 'training.quiz_passed' : 'training.quiz_failed', { score: res.score, pass: res.pass_mark }),
        res.passed && res.training_valid_until ? ' ' + t('training.valid_until', { date: ctx.fmt.date(res.training_valid_until) }) : '');
    put(msg, banner, el('div', { class: 'actions' },
        el('a', { class: 'button', href: '#/training', 'data-action': 'back' }, t('training.back')),
        el('a', { class: 'button primary', href: `#/training/questionnaire/${enc(paper.course)}/post`, 'data-action': 'questionnaire-post' }, t('training.q_post'))));
    banner.setAttribute('tabindex', '-1');
    banner.focus();
}

// ---- questionnaires ----
async function questionnaire(root, ctx, courseId, phase) {
    const { el, t } = ctx;
    const out = el('div');
    if (!PHASES.includes(phase)) phase = 'pre';
    root.append(el('h1', {}, t('training.q_title.' + phase)), el('p', { class: 'muted' }, t('training.q_intro.' + phase)), out);
    busy(ctx, out);
    let q;
    try {
        q = await ctx.api('GET', `/v1/training/courses/${enc(courseId)}/questionnaires/${phase}?lang=${enc(lang())}`);
    } catch (e) {
        out.removeAttribute('aria-busy');
        return put(out, errorNote(ctx, e));
    }
    const saved = q.answers || {};
    const form = el('form', { 'data-form': 'questionnaire', 'data-phase': phase });
    const scale = [1, 2, 3, 4, 5];
    for (const it of q.items || []) {
        if (it.kind === 'likert') {
            form.append(el('fieldset', { class: 'likert', 'data-id': it.id },
                el('legend', {}, it.prompt),
                el('div', { class: 'likert-scale' }, scale.map((n) => el('label', { class: 'choice' },
                    el('input', { type: 'radio', name: it.id, value: String(n), checked: Number(saved[it.id]) === n }), ' ',
                    el('span', {}, String(n)), ' ', el('span', { class: 'small' }, t('training.likert.' + n)))))));
        } else {
            const ta = el('textarea', { name: it.id, rows: 4, maxlength: 2000, id: 'qt-' + it.id });
            ta.value = typeof saved[it.id] === 'string' ? saved[it.id] : '';
            form.append(el('div', { class: 'field', 'data-id': it.id }, el('label', { for: 'qt-' + it.id }, it.prompt), ta,
                el('div', { class: 'hint' }, t('training.free_text_hint'))));
        }
    }
    const msg = el('div', { 'aria-live': 'polite' });
    const save = el('button', { type: 'submit', class: 'primary', 'data-action': 'save-questionnaire' }, t('training.q_save'));
    form.append(msg, el('div', { class: 'actions' }, el('a', { class: 'button', href: '#/training', 'data-action': 'back' }, t('training.back')), save));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const values = {};
        for (const e of form.elements) {
            if (!e.name) continue;
            if (e.type === 'radio') { if (e.checked) values[e.name] = e.value; } else values[e.name] = e.value;
        }
        save.disabled = true;
        form.setAttribute('aria-busy', 'true');
        try {
            await ctx.api('POST', `/v1/training/courses/${enc(courseId)}/questionnaires/${phase}`, questionnaireBody(q.items, values));
            put(msg, el('div', { class: 'notice ok', role: 'status', 'data-state': 'saved' }, t('training.q_saved')));
        } catch (e) {
            put(msg, errorNote(ctx, e));
        } finally {
            save.disabled = false;
            form.removeAttribute('aria-busy');
        }
    });
    out.removeAttribute('aria-busy');
    put(out, el('section', { class: 'card' }, form));
}

export default {
    name: 'training',
    titleKey: 'training.nav',
    // Every person has their own training; API keys never see the console.
    visible: (me) => !!me && !!me.role,
    async render(root, ctx) {
        useTrainingStyles();
        const [what, a, b] = ctx.params || [];
        if (what === 'course' && a) return lesson(root, ctx, a, b);
        if (what === 'quiz' && a) return quiz(root, ctx, a);
        if (what === 'questionnaire' && a) return questionnaire(root, ctx, a, b);
        return home(root, ctx);
    },
};
