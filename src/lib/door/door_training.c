/*
 * door_training.c - training through the door (door_training.h). The course,
 * quiz and schedule logic lives in training/ (pure functions); this file
 * authorizes, audits, reads and writes the store, and sets the account's
 * training validity, which door_gate checks on every customer-data request: a
 * lapse cuts access on the next request and a pass restores it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/utf8.h"
#include "crypto/crypto.h"
#include "door/door_int.h"
#include "door/door_training.h"
#include "door/door_training_int.h"
#include "store/store_training.h"
#include "training/training.h"

static bool lang_pick(const course *c, const char *lang, const char **out)
{
    if (!lang || !lang[0]) {
        *out = c->langs[0];
        return true;
    }
    *out = lang;
    return course_has_lang(c, lang);
}

static err load_course(vault *v, const char *id, const char *version, course **c)
{
    ENSURE(id && strlen(id) <= COURSE_ID_MAX, ERR_NOT_FOUND, "no such course");
    buf m;
    buf_init(&m, COURSE_MANIFEST_MAX);
    char ver[TRAINING_VERSION_MAX + 1];
    err e = store_training_course_get(v->st, id, version, ver, &m);
    if (e == ERR_OK) {
        e = course_parse(buf_slice(&m), COURSE_MANIFEST, c);
        if (e != ERR_OK) {
            e = err_set(ERR_INTERNAL, __FILE__, __LINE__, "a stored course no longer parses");
        }
    }
    buf_free(&m);
    return e;
}

/* ---- import ---- */

err door_training_import(vault *v, const actor *a, const char *dir, json_t **out)
{
    TRY(dtr_need_manage(v, a, "training.import"));
    buf m, f;
    buf_init(&m, COURSE_MANIFEST_MAX);
    buf_init(&f, COURSE_FILE_MAX);
    course *c = NULL;
    err rc = ERR_OK;
    store_tx *tx = NULL;
    GUARD(course_check_dir(dir, &c));
    GUARD(course_read(dir, COURSE_MANIFEST, &m));
    char rel[COURSE_PATH_MAX + 32];
    char what[160];
    snprintf(what, sizeof what, "course=%s version=%s", c->id, c->version);
    GUARD(dtr_audit(v, a, "training.import", "allow", "training.manage", what,
                    (int64_t)(c->nlessons * c->nlangs + c->nassets)));
    GUARD(store_training_ready(v->st));
    GUARD(store_begin(v->st, &tx));
    store *txs = store_tx_store(tx);
    rc = store_training_course_put(txs, c->id, c->version, buf_slice(&m), clock_now_us());
    if (rc == ERR_CONFLICT) {
        rc = err_set(ERR_CONFLICT, __FILE__, __LINE__,
                     "version %s of %s was imported already: give the course a new version",
                     c->version, c->id);
    }
    GUARD(rc);
    for (size_t l = 0; l < c->nlangs; l++) {
        for (size_t i = 0; i < c->nlessons; i++) {
            course_lesson_path(c, i, c->langs[l], rel, sizeof rel);
            GUARD(course_read(dir, rel, &f));
            GUARD(store_training_file_put(txs, c->id, c->version, rel, buf_slice(&f)));
        }
    }
    for (size_t i = 0; i < c->nassets; i++) {
        GUARD(course_read(dir, c->assets[i], &f));
        if (strcmp(course_asset_type(c->assets[i]), "image/svg+xml") == 0) {
            GUARD(course_svg_check(c->assets[i], buf_slice(&f))); /* as stored, not as checked */
        }
        GUARD(store_training_file_put(txs, c->id, c->version, c->assets[i], buf_slice(&f)));
    }
    GUARD(store_commit(&tx));
    *out = json_pack("{s:s,s:s,s:I,s:I,s:I}", "course", c->id, "version", c->version, "lessons",
                     (json_int_t)c->nlessons, "questions", (json_int_t)c->nquestions, "files",
                     (json_int_t)(c->nlessons * c->nlangs + c->nassets));
out:
    store_rollback(&tx);
    course_free(c);
    buf_free(&m);
    buf_free(&f);
    return rc;
}

/* ---- reading courses ---- */

typedef struct list_ctx {
    vault *v;
    const char *lang;
    json_t *arr;
} list_ctx;

static err list_one(void *ctx, const char *id, const char *version, int64_t at_us)
{
    list_ctx *x = ctx;
    course *c = NULL;
    TRY(load_course(x->v, id, version, &c));
    const char *lang;
    if (!lang_pick(c, x->lang, &lang)) {
        lang = c->langs[0];
    }
    json_t *langs = json_array(), *lessons = json_array();
    for (size_t i = 0; i < c->nlangs; i++) {
        json_array_append_new(langs, json_string(c->langs[i]));
    }
    json_t *ls = json_object_get(c->m, "lessons");
    for (size_t i = 0; i < c->nlessons; i++) {
        json_array_append_new(
            lessons, json_pack("{s:s,s:s}", "id", c->lesson_id[i], "title",
                               course_text(json_object_get(json_array_get(ls, i), "title"), lang)));
    }
    char ts[40];
    clock_rfc3339(at_us, ts);
    json_array_append_new(x->arr, json_pack("{s:s,s:s,s:s,s:o,s:o,s:i,s:s}", "id", c->id, "version",
                                            c->version, "title",
                                            course_text(json_object_get(c->m, "title"), lang),
                                            "languages", langs, "lessons", lessons, "pass_mark",
                                            (int)c->pass_mark, "imported_at", ts));
    course_free(c);
    return ERR_OK;
}

err door_training_courses(vault *v, const actor *a, const char *lang, json_t **out)
{
    TRY(dtr_need_person(v, a, "training.courses"));
    list_ctx x = {v, lang, json_array()};
    err e = store_training_course_list(v->st, list_one, &x);
    if (e != ERR_OK) {
        json_decref(x.arr);
        return e;
    }
    *out = json_pack("{s:o}", "courses", x.arr);
    return ERR_OK;
}

/* Lessons link their pictures as ../../img/x.svg (relative to lessons/LANG/, so the folder
 * previews as it is); the API serves them under /v1/training/files/COURSE/VERSION/. */
static err rebase_images(const course *c, const buf *html, buf *out)
{
    char base[200];
    snprintf(base, sizeof base, "src=\"/v1/training/files/%s/%s/", c->id, c->version);
    static const char FROM[] = "src=\"../../";
    const uint8_t *p = html->p, *end = html->p + html->len;
    while (p < end) {
        const uint8_t *hit = memmem(p, (size_t)(end - p), FROM, sizeof FROM - 1);
        if (!hit) {
            return buf_append(out, p, (size_t)(end - p));
        }
        TRY(buf_append(out, p, (size_t)(hit - p)));
        TRY(buf_append_str(out, base));
        p = hit + sizeof FROM - 1;
    }
    return ERR_OK;
}

err door_training_lesson(vault *v, const actor *a, const char *course_id, const char *lesson,
                         const char *lang, json_t **out)
{
    TRY(dtr_need_person(v, a, "training.lesson"));
    course *c = NULL;
    TRY(load_course(v, course_id, NULL, &c));
    buf md, html, fixed;
    buf_init(&md, COURSE_FILE_MAX);
    buf_init(&html, (size_t)8 << 20);
    buf_init(&fixed, (size_t)8 << 20);
    err rc = ERR_OK;
    const char *lg;
    CHECK(lang_pick(c, lang, &lg), ERR_INPUT, "lang: the course is in none such");
    size_t i = 0;
    while (i < c->nlessons && (!lesson || strcmp(c->lesson_id[i], lesson) != 0)) {
        i++;
    }
    CHECK(i < c->nlessons, ERR_NOT_FOUND, "no such lesson");
    char rel[COURSE_PATH_MAX + 32];
    course_lesson_path(c, i, lg, rel, sizeof rel);
    GUARD(store_training_file_get(v->st, c->id, c->version, rel, &md));
    GUARD(course_render(buf_slice(&md), &html));
    GUARD(rebase_images(c, &html, &fixed));
    char what[200];
    snprintf(what, sizeof what, "course=%s version=%s lesson=%s lang=%s", c->id, c->version,
             c->lesson_id[i], lg);
    GUARD(dtr_audit(v, a, "training.lesson", "allow", "training.self", what, -1));
    json_t *ls = json_array_get(json_object_get(c->m, "lessons"), i);
    *out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s%}", "course", c->id, "version", c->version, "lesson",
                     c->lesson_id[i], "lang", lg, "title",
                     course_text(json_object_get(ls, "title"), lg), "html",
                     fixed.len ? (const char *)fixed.p : "", fixed.len);
out:
    course_free(c);
    buf_free(&md);
    buf_free(&html);
    buf_free(&fixed);
    return rc;
}

err door_training_file(vault *v, const actor *a, const char *course_id, const char *version,
                       const char *path, buf *body, const char **ctype)
{
    TRY(dtr_need_person(v, a, "training.file"));
    ENSURE(course_path_ok(path) && course_asset_type(path) && course_id &&
               strlen(course_id) <= COURSE_ID_MAX && version &&
               strlen(version) <= COURSE_VERSION_MAX,
           ERR_NOT_FOUND, "no such file");
    TRY(store_training_file_get(v->st, course_id, version, path, body));
    *ctype = course_asset_type(path);
    return ERR_OK;
}

void door_training_file_etag(slice body, char out[TRAINING_ETAG_MAX])
{
    uint8_t h[12];
    hash_blake2b(h, sizeof h, body.p, body.len, NULL, 0);
    char hex[2 * sizeof h + 1];
    hex_encode(hex, h, sizeof h);
    snprintf(out, TRAINING_ETAG_MAX, "\"%s\"", hex);
}

/* ---- quizzes ---- */

typedef struct count_ctx {
    const char *course;
    int64_t since_us;
    int n;
} count_ctx;

static err count_recent(void *ctx, const training_attempt *t)
{
    count_ctx *x = ctx;
    x->n += strcmp(t->course, x->course) == 0 && t->submitted_us >= x->since_us;
    return ERR_OK;
}

err door_training_attempt_start(vault *v, const actor *a, const char *course_id, const char *lang,
                                json_t **out)
{
    TRY(dtr_need_person(v, a, "training.attempt.start"));
    course *c = NULL;
    TRY(load_course(v, course_id, NULL, &c));
    training_attempt t;
    training_attempt_init(&t);
    json_t *paper = NULL, *shown = NULL;
    char *txt = NULL;
    err rc = ERR_OK;
    const char *lg;
    CHECK(lang_pick(c, lang, &lg), ERR_INPUT, "lang: the course is in none such");
    /* A bounded number of papers a day: every marked paper shows its right answers. */
    count_ctx cc = {c->id, clock_now_us() - (int64_t)86400 * 1000000, 0};
    GUARD(store_training_attempts(v->st, a->account_id, 50, count_recent, &cc));
    int64_t started = 0;
    GUARD(store_training_attempts_started(v->st, a->account_id, c->id, cc.since_us, &started));
    if (cc.n >= TRAINING_ATTEMPTS_PER_DAY || started >= TRAINING_STARTS_PER_DAY) {
        rc = door_deny(v, a, "training.attempt.start", NULL, NULL, "training.attempts-per-day",
                       ERR_RATE, "enough attempts for today: read the lessons and try tomorrow");
        goto out;
    }
    rand_bytes(t.seed, sizeof t.seed);
    GUARD(quiz_draw(c, t.seed, &paper));
    GUARD(quiz_render(c, paper, lg, &shown));
    txt = json_dumps(paper, JSON_COMPACT);
    CHECK(txt != NULL, ERR_INTERNAL, "out of memory");
    GUARD(buf_set(&t.paper, txt, strlen(txt)));
    id_new(t.id, "tra");
    snprintf(t.account_id, sizeof t.account_id, "%s", a->account_id);
    snprintf(t.course, sizeof t.course, "%s", c->id);
    snprintf(t.version, sizeof t.version, "%s", c->version);
    snprintf(t.lang, sizeof t.lang, "%s", lg);
    t.started_us = clock_now_us();
    char what[160];
    snprintf(what, sizeof what, "course=%s version=%s attempt=%s", c->id, c->version, t.id);
    GUARD(dtr_audit(v, a, "training.attempt.start", "allow", "training.self", what,
                    (int64_t)json_array_size(paper)));
    GUARD(store_training_attempt_insert(v->st, &t));
    *out = json_pack("{s:s,s:s,s:s,s:s,s:i,s:O}", "attempt", t.id, "course", c->id, "version",
                     c->version, "lang", lg, "pass_mark", (int)c->pass_mark, "questions", shown);
out:
    free(txt);
    json_decref(paper);
    json_decref(shown);
    mem_wipe(t.seed, sizeof t.seed);
    training_attempt_free(&t);
    course_free(c);
    return rc;
}

/* ---- assignments and the schedule ---- */

static void ts_or_null(json_t *o, const char *k, int64_t us)
{
    char ts[40];
    if (us > 0) {
        clock_rfc3339(us, ts);
        json_object_set_new(o, k, json_string(ts));
    } else {
        json_object_set_new(o, k, json_null());
    }
}

/* The validity a pass gives: the earliest over the account's assigned courses (or the course
 * just passed when none is assigned). */
static err validity_of(vault *v, store *st, const tr_rules *r, const account *acc,
                       const char *passed, int64_t *until)
{
    assign_set s;
    TRY(dtr_assign_load(st, &s));
    acc_course cs[32];
    size_t n = dtr_courses_of(&s, acc, cs, 32);
    free(s.a);
    if (n == 0) {
        snprintf(cs[0].course, sizeof cs[0].course, "%s", passed);
        n = 1;
    }
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        int64_t last = 0;
        TRY(store_training_last_pass(st, acc->id, cs[i].course, &last));
        int64_t u = tr_valid_until(r, last);
        best = u < best ? u : best;
    }
    *until = best == INT64_MAX ? 0 : best;
    return ERR_OK;
}

err door_training_attempt_submit(vault *v, const actor *a, const char *attempt, json_t *answers,
                                 json_t **out)
{
    TRY(dtr_need_person(v, a, "training.attempt.submit"));
    training_attempt t;
    training_attempt_init(&t);
    course *c = NULL;
    json_t *paper = NULL, *results = NULL;
    training_answer *ans = NULL;
    account acc;
    memset(&acc, 0, sizeof acc);
    store_tx *tx = NULL;
    err rc = ERR_OK;
    err ge = attempt ? store_training_attempt_get(v->st, attempt, &t) : ERR_NOT_FOUND;
    if (ge == ERR_NOT_FOUND || (ge == ERR_OK && strcmp(t.account_id, a->account_id) != 0)) {
        /* Someone else's attempt looks like none. */
        rc = door_deny(v, a, "training.attempt.submit", NULL, NULL, "training.self", ERR_NOT_FOUND,
                       "no such attempt");
        goto out;
    }
    GUARD(ge);
    CHECK(t.submitted_us == 0, ERR_CONFLICT, "the attempt was submitted already");
    GUARD(load_course(v, t.course, t.version, &c));
    json_error_t je;
    paper = json_loadb((const char *)t.paper.p, t.paper.len, 0, &je);
    CHECK(paper != NULL, ERR_INTERNAL, "a stored paper does not parse");
    quiz_score sc;
    GUARD(quiz_mark(c, paper, answers, t.lang, &results, &sc));
    size_t n = json_array_size(results);
    ans = calloc(n ? n : 1, sizeof *ans);
    CHECK(ans != NULL, ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(results, i);
        ans[i].question = json_string_value(json_object_get(x, "q"));
        ans[i].lesson = json_string_value(json_object_get(x, "lesson"));
        ans[i].correct = json_is_true(json_object_get(x, "correct"));
    }
    tr_config cfg;
    GUARD(tr_config_load(vault_dir(v), &cfg));
    char what[200];
    snprintf(what, sizeof what, "course=%s version=%s attempt=%s score=%u passed=%s", t.course,
             t.version, t.id, sc.percent, sc.passed ? "yes" : "no");
    GUARD(dtr_audit(v, a, "training.attempt.submit", "allow", "training.self", what,
                    (int64_t)sc.percent));
    int64_t now = clock_now_us();
    GUARD(store_begin(v->st, &tx));
    store *txs = store_tx_store(tx);
    GUARD(store_training_attempt_submit(txs, t.id, now, (int)sc.percent, sc.passed, ans, n));
    GUARD(store_account_by_id(txs, a->account_id, &acc));
    int64_t until = 0;
    size_t closed = 0;
    if (sc.passed) {
        GUARD(validity_of(v, txs, &cfg.rules, &acc, t.course, &until));
        bool closed_blocking = false, blocked = false;
        int64_t saved = 0, still = 0;
        GUARD(dtr_remedial_passed(txs, &acc, t.course, t.started_us, now, &closed_blocking, &saved,
                                  &closed));
        GUARD(dtr_remedial_blocked(txs, acc.id, &blocked, &still));
        if (blocked) {
            /* Another remedial course still holds the account: no pass gives access back. */
            until = 0;
        } else if (closed_blocking) {
            /* The last block lifted: the validity the account had, or the pass's if later. */
            acc.training_until_us = saved > until ? saved : until;
            GUARD(store_account_update(txs, &acc));
        } else if (until > acc.training_until_us) {
            acc.training_until_us = until;
            GUARD(store_account_update(txs, &acc));
        }
    }
    GUARD(store_commit(&tx));
    if (closed > 0) {
        snprintf(what, sizeof what, "%s course=%s remedial_done=%zu", acc.username, t.course,
                 closed);
        IGNORE(dtr_audit(v, a, "training.remedial.done", "allow", "training.pass", what,
                         (int64_t)closed));
    }
    if (sc.passed && until > 0) {
        char ts[40];
        clock_rfc3339(acc.training_until_us, ts);
        snprintf(what, sizeof what, "%s course=%s training_valid_until=%.10s", acc.username,
                 t.course, ts);
        /* After the commit: the pass is recorded either way; the entry says what it gave. */
        IGNORE(dtr_audit(v, a, "training.certified", "allow", "training.pass", what, -1));
    }
    *out = json_pack("{s:s,s:i,s:b,s:i,s:O}", "attempt", t.id, "score", (int)sc.percent, "passed",
                     sc.passed, "pass_mark", (int)c->pass_mark, "results", results);
    ts_or_null(*out, "training_valid_until", acc.training_until_us);
out:
    store_rollback(&tx);
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    mem_wipe(acc.totp, sizeof acc.totp);
    free(ans);
    json_decref(results);
    json_decref(paper);
    course_free(c);
    training_attempt_free(&t);
    return rc;
}

/* ---- questionnaires ---- */

/* Questionnaire free text is sealed like customer data: a data key of its own, wrapped
 * under the vault's key-encryption key, the text sealed under it with the row's identity as
 * associated data (a row copied under another person, course or item does not open). Stored:
 * the wrapped key's length (2 bytes, big endian), the wrapped key, the envelope. */
static void text_owner(const char *account_id, const char *course_id, const char *phase,
                       const char *item, char *out, size_t max)
{
    snprintf(out, max, "training/%s/%s/%s/%s", account_id, course_id, phase, item);
}

static err text_seal(vault *v, const char *owner, const char *text, buf *out)
{
    if (!text || !text[0]) {
        return ERR_OK;
    }
    uint8_t *dek = door_dek_buf();
    ENSURE(dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    buf wrapped;
    buf_init(&wrapped, 4096);
    err rc = ERR_OK;
    GUARD(door_keyring_fresh(v));
    GUARD(keyring_dek_new(v->kr, owner, dek, &wrapped));
    CHECK(wrapped.len < 65536, ERR_INTERNAL, "wrapped key too long");
    uint8_t len[2] = {(uint8_t)(wrapped.len >> 8), (uint8_t)wrapped.len};
    GUARD(buf_append(out, len, 2));
    GUARD(buf_append(out, wrapped.p, wrapped.len));
    GUARD(seal(dek, 1, owner, "text", (slice){(const uint8_t *)text, strlen(text)}, out));
out:
    mem_wipe(dek, KEY_LEN);
    buf_free(&wrapped);
    return rc;
}

static err text_open(vault *v, const char *owner, slice sealed, buf *out)
{
    if (sealed.len == 0) {
        return ERR_OK;
    }
    ENSURE(sealed.len > 2, ERR_CRYPTO, "a sealed answer is damaged");
    size_t wl = ((size_t)sealed.p[0] << 8) | sealed.p[1];
    ENSURE(sealed.len > 2 + wl, ERR_CRYPTO, "a sealed answer is damaged");
    uint8_t *dek = door_dek_buf();
    ENSURE(dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    err rc = ERR_OK;
    GUARD(keyring_dek_unwrap(v->kr, owner, (slice){sealed.p + 2, wl}, dek));
    GUARD(unseal(dek, owner, "text", (slice){sealed.p + 2 + wl, sealed.len - 2 - wl}, out));
out:
    mem_wipe(dek, KEY_LEN);
    return rc;
}

typedef struct resp_ctx {
    vault *v;
    const char *account_id, *course;
    const char *phase;
    json_t *answers;
} resp_ctx;

static err resp_one(void *ctx, const char *phase, const char *item, int likert, slice sealed,
                    int64_t at_us)
{
    (void)at_us;
    resp_ctx *x = ctx;
    if (strcmp(phase, x->phase) != 0) {
        return ERR_OK;
    }
    if (likert > 0) {
        json_object_set_new(x->answers, item, json_integer(likert));
        return ERR_OK;
    }
    char owner[256];
    text_owner(x->account_id, x->course, phase, item, owner, sizeof owner);
    buf plain;
    buf_init(&plain, QUIZ_TEXT_MAX + 1);
    err e = text_open(x->v, owner, sealed, &plain);
    if (e == ERR_OK) {
        json_object_set_new(x->answers, item,
                            json_stringn(plain.len ? (const char *)plain.p : "", plain.len));
    }
    mem_wipe(plain.p, plain.len);
    buf_free(&plain);
    return e;
}

err door_training_questionnaire(vault *v, const actor *a, const char *course_id, const char *phase,
                                const char *lang, json_t **out)
{
    TRY(dtr_need_person(v, a, "training.questionnaire"));
    ENSURE(phase && (strcmp(phase, "pre") == 0 || strcmp(phase, "post") == 0), ERR_INPUT,
           "phase must be \"pre\" or \"post\"");
    course *c = NULL;
    TRY(load_course(v, course_id, NULL, &c));
    err rc = ERR_OK;
    const char *lg;
    resp_ctx x = {v, a->account_id, c->id, phase, json_object()};
    CHECK(lang_pick(c, lang, &lg), ERR_INPUT, "lang: the course is in none such");
    GUARD(store_training_responses(v->st, a->account_id, c->id, resp_one, &x));
    json_t *items = json_array();
    json_t *src = json_object_get(json_object_get(c->m, "questionnaires"), phase);
    size_t i;
    json_t *it;
    json_array_foreach(src, i, it)
    {
        json_array_append_new(items, json_pack("{s:O,s:O,s:s}", "id", json_object_get(it, "id"),
                                               "kind", json_object_get(it, "kind"), "prompt",
                                               course_text(json_object_get(it, "prompt"), lg)));
    }
    *out = json_pack("{s:s,s:s,s:s,s:o,s:O}", "course", c->id, "version", c->version, "phase",
                     phase, "items", items, "answers", x.answers);
out:
    json_decref(x.answers);
    course_free(c);
    return rc;
}

err door_training_questionnaire_answer(vault *v, const actor *a, const char *course_id,
                                       const char *phase, json_t *answers)
{
    TRY(dtr_need_person(v, a, "training.questionnaire.answer"));
    course *c = NULL;
    TRY(load_course(v, course_id, NULL, &c));
    err rc = ERR_OK;
    store_tx *tx = NULL;
    buf sealed;
    buf_init(&sealed, QUIZ_TEXT_MAX + 8192);
    GUARD(quiz_questionnaire_check(c, phase, answers));
    char what[160];
    snprintf(what, sizeof what, "course=%s version=%s phase=%s", c->id, c->version, phase);
    /* The answers themselves are the employee's own and stay out of the audit log. */
    GUARD(dtr_audit(v, a, "training.questionnaire.answer", "allow", "training.self", what,
                    (int64_t)json_object_size(answers)));
    int64_t now = clock_now_us();
    GUARD(store_begin(v->st, &tx));
    store *txs = store_tx_store(tx);
    const char *k;
    json_t *val;
    json_object_foreach(answers, k, val)
    {
        char owner[256];
        text_owner(a->account_id, c->id, phase, k, owner, sizeof owner);
        sealed.len = 0;
        GUARD(text_seal(v, owner, json_is_string(val) ? json_string_value(val) : "", &sealed));
        GUARD(store_training_response_put(txs, a->account_id, c->id, c->version, phase, k,
                                          json_is_integer(val) ? (int)json_integer_value(val) : 0,
                                          buf_slice(&sealed), now));
    }
    GUARD(store_commit(&tx));
out:
    store_rollback(&tx);
    buf_free(&sealed);
    course_free(c);
    return rc;
}

/* ---- assignments ---- */

static json_t *assignment_json(const training_assignment *x, const char *target_name)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", x->id, "course", x->course, "kind",
                          x->kind, "target", target_name, "created_by", x->created_by);
    ts_or_null(o, "starts_at", x->starts_us);
    ts_or_null(o, "created_at", x->created_us);
    return o;
}

err door_training_assign(vault *v, const actor *a, const char *course_id, const char *kind,
                         const char *target, int64_t starts_us, json_t **out)
{
    TRY(dtr_need_manage(v, a, "training.assign"));
    ENSURE(kind && (strcmp(kind, "role") == 0 || strcmp(kind, "department") == 0 ||
                    strcmp(kind, "account") == 0),
           ERR_INPUT, "kind must be role, department or account");
    ENSURE(target && identity_name_ok(target), ERR_INPUT, "target: a role, department or username");
    course *c = NULL;
    TRY(load_course(v, course_id, NULL, &c));
    course_free(c);
    training_assignment x;
    memset(&x, 0, sizeof x);
    if (strcmp(kind, "role") == 0) {
        role r;
        ENSURE(role_parse(target, &r) == ERR_OK, ERR_INPUT, "target: no such role");
        snprintf(x.target, sizeof x.target, "%s", target);
    } else if (strcmp(kind, "department") == 0) {
        bool yes = false;
        TRY(store_department_exists(v->st, target, &yes));
        ENSURE(yes, ERR_INPUT, "target: no such department");
        snprintf(x.target, sizeof x.target, "%s", target);
    } else {
        account acc;
        err e = store_account_by_name(v->st, target, &acc);
        mem_wipe(acc.pwhash, sizeof acc.pwhash);
        mem_wipe(acc.totp, sizeof acc.totp);
        ENSURE(e == ERR_OK, ERR_INPUT, "target: no such account");
        snprintf(x.target, sizeof x.target, "%s", acc.id);
    }
    id_new(x.id, "tas");
    snprintf(x.course, sizeof x.course, "%s", course_id);
    snprintf(x.kind, sizeof x.kind, "%s", kind);
    x.created_us = clock_now_us();
    x.starts_us = starts_us > 0 ? starts_us : x.created_us;
    snprintf(x.created_by, sizeof x.created_by, "%s", a->username);
    char what[200];
    snprintf(what, sizeof what, "assignment=%s course=%s %s=%s", x.id, x.course, kind, target);
    TRY(dtr_audit(v, a, "training.assign", "allow", "training.manage", what, -1));
    TRY(store_training_assign(v->st, &x));
    *out = assignment_json(&x, target);
    return ERR_OK;
}

err door_training_unassign(vault *v, const actor *a, const char *id)
{
    TRY(dtr_need_manage(v, a, "training.unassign"));
    ENSURE(id && strlen(id) <= ID_LEN, ERR_NOT_FOUND, "no such assignment");
    char what[80];
    snprintf(what, sizeof what, "assignment=%s", id);
    TRY(dtr_audit(v, a, "training.unassign", "allow", "training.manage", what, -1));
    return store_training_unassign(v->st, id);
}

err door_training_assignments(vault *v, const actor *a, json_t **out)
{
    TRY(dtr_need_manage(v, a, "training.assignments"));
    assign_set s;
    TRY(dtr_assign_load(v->st, &s));
    err rc = ERR_OK;
    GUARD(dtr_audit(v, a, "training.assignments", "allow", "training.manage", NULL, (int64_t)s.n));
    json_t *arr = json_array();
    for (size_t i = 0; i < s.n; i++) {
        char name[USERNAME_MAX + 1];
        snprintf(name, sizeof name, "%s", s.a[i].target);
        if (strcmp(s.a[i].kind, "account") == 0) {
            account acc;
            if (store_account_by_id(v->st, s.a[i].target, &acc) == ERR_OK) {
                snprintf(name, sizeof name, "%s", acc.username);
            }
            mem_wipe(acc.pwhash, sizeof acc.pwhash);
            mem_wipe(acc.totp, sizeof acc.totp);
        }
        json_array_append_new(arr, assignment_json(&s.a[i], name));
    }
    *out = json_pack("{s:o}", "assignments", arr);
out:
    free(s.a);
    return rc;
}

/* ---- status, results ---- */

/* username NULL: the caller. Anyone else's needs training.manage and the person's department
 * in the reader's scope (audited either way). */
static err subject_account(vault *v, const actor *a, const char *username, const char *action,
                           account *acc)
{
    memset(acc, 0, sizeof *acc);
    if (!username || (a->account_id[0] && strcmp(username, a->username) == 0)) {
        TRY(dtr_need_person(v, a, action));
        return store_account_by_id(v->st, a->account_id, acc);
    }
    TRY(dtr_need_manage(v, a, action));
    err e = store_account_by_name(v->st, username, acc);
    ENSURE(e != ERR_NOT_FOUND, ERR_NOT_FOUND, "no such account");
    TRY(e);
    /* HR reads the people of its scope: its department and training.json's hr_scope. */
    tr_config cfg;
    TRY(tr_config_load(vault_dir(v), &cfg));
    if (!dtr_dept_in_scope(a, &cfg, acc->department)) {
        mem_wipe(acc->pwhash, sizeof acc->pwhash);
        mem_wipe(acc->totp, sizeof acc->totp);
        return door_deny(v, a, action, NULL, NULL, "training.scope", ERR_DENIED,
                         "that person is outside your scope");
    }
    return ERR_OK;
}

static err status_json(vault *v, const tr_config *cfg, const assign_set *s, const account *acc,
                       int64_t now, json_t **out)
{
    acc_course cs[32];
    size_t n = dtr_courses_of(s, acc, cs, 32);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        int64_t last = 0;
        err e = store_training_last_pass(v->st, acc->id, cs[i].course, &last);
        if (e != ERR_OK) {
            json_decref(arr);
            return e;
        }
        tr_cycle cyc;
        tr_state st = tr_state_at(&cfg->rules, cs[i].starts_us, last, now, &cyc);
        json_t *o = json_pack("{s:s,s:s,s:s}", "course", cs[i].course, "state", tr_state_name(st),
                              "cycle", cyc.name);
        ts_or_null(o, "window_opens", cyc.opens_us);
        ts_or_null(o, "due", cyc.due_us);
        ts_or_null(o, "grace_ends", cyc.grace_us);
        ts_or_null(o, "last_pass", last);
        ts_or_null(o, "valid_until", tr_valid_until(&cfg->rules, last));
        json_array_append_new(arr, o);
    }
    *out = json_pack("{s:s,s:s,s:s,s:o}", "username", acc->username, "role", acc->role,
                     "department", acc->department, "courses", arr);
    role r;
    bool needs = role_parse(acc->role, &r) == ERR_OK && policy_needs_training(r);
    ts_or_null(*out, "training_valid_until", acc->training_until_us);
    json_object_set_new(*out, "training_current",
                        json_boolean(!needs || acc->training_until_us > now));
    json_object_set_new(*out, "zone", json_string(cfg->zone));
    return ERR_OK;
}

err door_training_status(vault *v, const actor *a, const char *username, json_t **out)
{
    account acc;
    TRY(subject_account(v, a, username, "training.status", &acc));
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    mem_wipe(acc.totp, sizeof acc.totp);
    tr_config cfg;
    TRY(tr_config_load(vault_dir(v), &cfg));
    assign_set s;
    TRY(dtr_assign_load(v->st, &s));
    err rc = ERR_OK;
    GUARD(dtr_audit(v, a, "training.status", "allow",
                    strcmp(acc.id, a->account_id) == 0 ? "training.self" : "training.manage",
                    acc.username, -1));
    GUARD(status_json(v, &cfg, &s, &acc, clock_now_us(), out));
out:
    free(s.a);
    return rc;
}

typedef struct res_ctx {
    vault *v;
    const actor *a;
    const tr_config *cfg; /* NULL: one person's, no department filter */
    json_t *arr;
} res_ctx;

static err result_one(void *ctx, const training_attempt *t)
{
    res_ctx *x = ctx;
    json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:b}", "attempt", t->id, "course", t->course, "version",
                          t->version, "score", t->score, "passed", t->passed);
    account acc;
    bool have = store_account_by_id(x->v->st, t->account_id, &acc) == ERR_OK;
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    mem_wipe(acc.totp, sizeof acc.totp);
    if (x->cfg && (!have || !dtr_dept_in_scope(x->a, x->cfg, acc.department))) {
        json_decref(o);
        return ERR_OK; /* everyone's: HR's scope only */
    }
    if (have) {
        json_object_set_new(o, "username", json_string(acc.username));
        json_object_set_new(o, "department", json_string(acc.department));
    }
    ts_or_null(o, "started_at", t->started_us);
    ts_or_null(o, "submitted_at", t->submitted_us);
    json_array_append_new(x->arr, o);
    return ERR_OK;
}

err door_training_results(vault *v, const actor *a, const char *username, json_t **out)
{
    account acc;
    memset(&acc, 0, sizeof acc);
    bool all = username && strcmp(username, "*") == 0;
    if (all) {
        TRY(dtr_need_manage(v, a, "training.results"));
    } else {
        TRY(subject_account(v, a, username, "training.results", &acc));
    }
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    mem_wipe(acc.totp, sizeof acc.totp);
    TRY(dtr_audit(v, a, "training.results", "allow",
                  !all && strcmp(acc.id, a->account_id) == 0 ? "training.self" : "training.manage",
                  all ? "*" : acc.username, -1));
    tr_config cfg;
    TRY(tr_config_load(vault_dir(v), &cfg));
    res_ctx x = {v, a, all ? &cfg : NULL, json_array()};
    err e = store_training_attempts(v->st, all ? NULL : acc.id, 1000, result_one, &x);
    if (e != ERR_OK) {
        json_decref(x.arr);
        return e;
    }
    *out = json_pack("{s:o}", "attempts", x.arr);
    return ERR_OK;
}

err door_training_set_valid_until(vault *v, const actor *a, const char *username, int64_t until_us,
                                  const char *reason, json_t **out)
{
    TRY(dtr_need_manage(v, a, "training.valid_until"));
    size_t rl = reason ? strlen(reason) : 0;
    ENSURE(rl >= 4 && rl <= 500 && utf8_valid((const uint8_t *)reason, rl), ERR_INPUT,
           "reason: say why (4 to 500 bytes)");
    ENSURE(until_us >= 0, ERR_INPUT, "valid_until: a time");
    ENSURE(username && identity_name_ok(username), ERR_NOT_FOUND, "no such account");
    account acc;
    memset(&acc, 0, sizeof acc);
    err rc = ERR_OK;
    store_tx *tx = NULL;
    char ts[40], what[700];
    clock_rfc3339(until_us, ts);
    snprintf(what, sizeof what, "%s training_valid_until=%.10s reason=%s", username, ts, reason);
    GUARD(store_begin(v->st, &tx));
    store *txs = store_tx_store(tx);
    GUARD(store_account_by_name(txs, username, &acc));
    bool blocked = false;
    int64_t saved = 0;
    GUARD(dtr_remedial_blocked(txs, acc.id, &blocked, &saved));
    if (blocked) {
        store_rollback(&tx);
        rc = door_deny(v, a, "training.valid_until", NULL, NULL, "training.remedial", ERR_CONFLICT,
                       "an open remedial course holds this account: it is lifted by passing the "
                       "course, or by withdrawing it with a reason");
        goto out;
    }
    GUARD(dtr_audit(v, a, "training.valid_until", "allow", "training.manage", what, -1));
    acc.training_until_us = until_us;
    GUARD(store_account_update(txs, &acc));
    GUARD(store_commit(&tx));
    *out = json_pack("{s:s}", "username", acc.username);
    ts_or_null(*out, "training_valid_until", acc.training_until_us);
out:
    store_rollback(&tx);
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    mem_wipe(acc.totp, sizeof acc.totp);
    return rc;
}

/* ---- reminders ---- */

static void local_date(const tr_rules *r, int64_t us, char out[16])
{
    int y;
    unsigned m, d;
    int64_t day = (us + (int64_t)r->zone_off_s * 1000000) / ((int64_t)86400 * 1000000);
    tr_civil_from_days(day, &y, &m, &d);
    snprintf(out, 16, "%04d-%02u-%02u", y, m, d);
}

static err remind_one(vault *v, const tr_config *cfg, const account *acc, const char *course_id,
                      const tr_cycle *cyc, const char *kind, int64_t now, int *sent, int *failed)
{
    err e = store_training_reminder_claim(v->st, acc->id, course_id, cyc->name, kind, now);
    if (e == ERR_CONFLICT) {
        return ERR_OK;
    }
    TRY(e);
    char to[USERNAME_MAX + 140], subject[200], due[16], grace[16];
    snprintf(to, sizeof to, "%s@%s", acc->username, cfg->mail_domain);
    local_date(&cfg->rules, cyc->due_us - 1, due); /* the last day to complete it */
    local_date(&cfg->rules, cyc->grace_us - 1, grace);
    bool over = strcmp(kind, "overdue") == 0;
    snprintf(subject, sizeof subject,
             over ? "安全培训已逾期 / Security training overdue (%s)"
                  : "安全培训即将到期 / Security training due (%s)",
             cyc->name);
    char text[2048], link_zh[300], link_en[300];
    snprintf(link_zh, sizeof link_zh, "%s%s", cfg->console_url[0] ? "：" : "", cfg->console_url);
    snprintf(link_en, sizeof link_en, "%s%s", cfg->console_url[0] ? ": " : "", cfg->console_url);
    if (over) {
        snprintf(text, sizeof text,
                 "%s：\n\n本季度（%s）的安全意识培训（课程 %s）已于 %s 到期。宽限期到 %s 为止，"
                 "之后客户数据访问将暂停，直到你通过测验。\n请登录 Custos 完成课程和测验%s。\n\n"
                 "Hello %s,\n\nThis quarter's (%s) security-awareness training (course %s) was due "
                 "by %s. The grace period ends on %s; after that, customer access stops until you "
                 "pass the quiz.\nPlease sign in to Custos and complete the course and quiz%s.\n\n"
                 "-- Custos\n",
                 acc->username, cyc->name, course_id, due, grace, link_zh, acc->username, cyc->name,
                 course_id, due, grace, link_en);
    } else {
        snprintf(text, sizeof text,
                 "%s：\n\n本季度（%s）的安全意识培训（课程 %s）最迟应在 %s 完成。\n"
                 "请登录 Custos 完成课程和测验%s。\n\n"
                 "Hello %s,\n\nThis quarter's (%s) security-awareness training (course %s) is due "
                 "by %s.\nPlease sign in to Custos and complete the course and quiz%s.\n\n"
                 "-- Custos\n",
                 acc->username, cyc->name, course_id, due, link_zh, acc->username, cyc->name,
                 course_id, due, link_en);
    }
    e = tr_mail_send(cfg->smtp, cfg->from, to, subject, text, !cfg->smtp_plain_loopback);
    if (e != ERR_OK) {
        (*failed)++;
        return store_training_reminder_drop(v->st, acc->id, course_id, cyc->name, kind);
    }
    (*sent)++;
    return ERR_OK;
}

err door_training_remind(vault *v, const actor *a, int64_t now, json_t **out)
{
    TRY(dtr_need_manage(v, a, "training.remind"));
    tr_config cfg;
    TRY(tr_config_load(vault_dir(v), &cfg));
    ENSURE(cfg.smtp[0] && cfg.mail_domain[0], ERR_INPUT,
           "training.json names no smtp server and mail_domain: reminders cannot be sent");
    assign_set s;
    TRY(dtr_assign_load(v->st, &s));
    account *rows = calloc(DTR_ACCOUNTS_MAX, sizeof *rows);
    err rc = ERR_OK;
    CHECK(rows != NULL, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    GUARD(store_account_list(v->st, rows, DTR_ACCOUNTS_MAX, &n));
    int sent = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].disabled) {
            continue;
        }
        acc_course cs[32];
        size_t k = dtr_courses_of(&s, &rows[i], cs, 32);
        for (size_t j = 0; j < k; j++) {
            int64_t last = 0;
            GUARD(store_training_last_pass(v->st, rows[i].id, cs[j].course, &last));
            tr_cycle cyc;
            tr_state st = tr_state_at(&cfg.rules, cs[j].starts_us, last, now, &cyc);
            const char *kind = NULL;
            if (st == TR_PENDING &&
                now >= cyc.due_us - (int64_t)cfg.rules.remind_days * 86400 * 1000000) {
                kind = "due";
            } else if (st == TR_OVERDUE || st == TR_EXPIRED) {
                kind = "overdue";
            }
            if (!kind) {
                skipped++;
                continue;
            }
            GUARD(remind_one(v, &cfg, &rows[i], cs[j].course, &cyc, kind, now, &sent, &failed));
        }
    }
    tr_cycle now_c;
    tr_cycle_at(&cfg.rules, now, &now_c);
    char what[120];
    snprintf(what, sizeof what, "cycle=%s sent=%d failed=%d", now_c.name, sent, failed);
    GUARD(dtr_audit(v, a, "training.remind", "allow", "training.manage", what, sent));
    *out = json_pack("{s:s,s:i,s:i,s:i}", "cycle", now_c.name, "sent", sent, "failed", failed,
                     "skipped", skipped);
out:
    if (rows) {
        for (size_t i = 0; i < DTR_ACCOUNTS_MAX; i++) {
            mem_wipe(rows[i].pwhash, sizeof rows[i].pwhash);
            mem_wipe(rows[i].totp, sizeof rows[i].totp);
        }
    }
    free(rows);
    free(s.a);
    return rc;
}

err door_training_remind_status(vault *v, const actor *a, json_t **out)
{
    TRY(dtr_need_manage(v, a, "training.remind.status"));
    TRY(dtr_audit(v, a, "training.remind.status", "allow", "training.manage", NULL, -1));
    *out = json_object();
    return ERR_OK;
}

/* ---- the report ---- */

typedef struct rep_ctx {
    vault *v;
    const actor *a;
    const tr_config *cfg;
    const char *course;
    json_t *depts; /* dept -> {"attempts","passed","score_sum"} */
    json_t *topics;
    json_t *likert;
} rep_ctx;

static err rep_attempt(void *ctx, const training_attempt *t)
{
    rep_ctx *x = ctx;
    if (strcmp(t->course, x->course) != 0) {
        return ERR_OK;
    }
    account acc;
    if (store_account_by_id(x->v->st, t->account_id, &acc) != ERR_OK) {
        return ERR_OK;
    }
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    mem_wipe(acc.totp, sizeof acc.totp);
    if (!dtr_dept_in_scope(x->a, x->cfg, acc.department)) {
        return ERR_OK;
    }
    json_t *d = json_object_get(x->depts, acc.department);
    if (!d) {
        d = json_pack("{s:i,s:i,s:i,s:i,s:i}", "accounts", 0, "certified", 0, "attempts", 0,
                      "passed", 0, "score_sum", 0);
        json_object_set_new(x->depts, acc.department, d);
    }
    json_object_set_new(d, "attempts",
                        json_integer(json_integer_value(json_object_get(d, "attempts")) + 1));
    json_object_set_new(d, "passed",
                        json_integer(json_integer_value(json_object_get(d, "passed")) + t->passed));
    json_object_set_new(
        d, "score_sum",
        json_integer(json_integer_value(json_object_get(d, "score_sum")) + t->score));
    return ERR_OK;
}

static err rep_topic(void *ctx, const char *q, const char *lesson, int64_t answered, int64_t wrong)
{
    rep_ctx *x = ctx;
    json_array_append_new(x->topics,
                          json_pack("{s:s,s:s,s:I,s:I}", "question", q, "lesson", lesson,
                                    "answered", (json_int_t)answered, "wrong", (json_int_t)wrong));
    return ERR_OK;
}

static err rep_likert(void *ctx, const char *phase, const char *item, double mean, int64_t n)
{
    rep_ctx *x = ctx;
    json_t *o = json_object_get(x->likert, item);
    if (!o) {
        o = json_object();
        json_object_set_new(x->likert, item, o);
    }
    json_object_set_new(o, phase, json_pack("{s:f,s:I}", "mean", mean, "n", (json_int_t)n));
    return ERR_OK;
}

err door_training_report(vault *v, const actor *a, const char *course_id, json_t **out)
{
    TRY(dtr_need_manage(v, a, "training.report"));
    course *c = NULL;
    TRY(load_course(v, course_id, NULL, &c));
    course_free(c);
    tr_config cfg;
    TRY(tr_config_load(vault_dir(v), &cfg));
    rep_ctx x = {v, a, &cfg, course_id, json_object(), json_array(), json_object()};
    assign_set s = {NULL, 0};
    account *rows = calloc(DTR_ACCOUNTS_MAX, sizeof *rows);
    err rc = ERR_OK;
    CHECK(rows != NULL, ERR_INTERNAL, "out of memory");
    GUARD(dtr_audit(v, a, "training.report", "allow", "training.manage", course_id, -1));
    GUARD(store_training_attempts(v->st, NULL, 100000, rep_attempt, &x));
    /* The company-wide question and questionnaire figures for whoever sees every department;
     * a department's are in the metrics (door_training_metrics). */
    if (dtr_is_system(a) || (a->role == ROLE_HR && tr_hr_scope_has(&cfg, a->username, "*"))) {
        GUARD(store_training_topics(v->st, course_id, NULL, 10, rep_topic, &x));
        GUARD(store_training_likert(v->st, course_id, rep_likert, &x));
    }
    GUARD(dtr_assign_load(v->st, &s));
    size_t n = 0;
    GUARD(store_account_list(v->st, rows, DTR_ACCOUNTS_MAX, &n));
    int64_t now = clock_now_us();
    for (size_t i = 0; i < n; i++) {
        acc_course cs[32];
        size_t k = dtr_courses_of(&s, &rows[i], cs, 32), j = 0;
        while (j < k && strcmp(cs[j].course, course_id) != 0) {
            j++;
        }
        if (j == k || rows[i].disabled || !dtr_dept_in_scope(a, &cfg, rows[i].department)) {
            continue;
        }
        int64_t last = 0;
        GUARD(store_training_last_pass(v->st, rows[i].id, course_id, &last));
        tr_cycle cyc;
        tr_state st = tr_state_at(&cfg.rules, cs[j].starts_us, last, now, &cyc);
        json_t *d = json_object_get(x.depts, rows[i].department);
        if (!d) {
            d = json_pack("{s:i,s:i,s:i,s:i,s:i}", "accounts", 0, "certified", 0, "attempts", 0,
                          "passed", 0, "score_sum", 0);
            json_object_set_new(x.depts, rows[i].department, d);
        }
        json_object_set_new(d, "accounts",
                            json_integer(json_integer_value(json_object_get(d, "accounts")) + 1));
        json_object_set_new(d, "certified",
                            json_integer(json_integer_value(json_object_get(d, "certified")) +
                                         (st == TR_CERTIFIED)));
    }
    json_t *arr = json_array();
    const char *dn;
    json_t *d;
    json_object_foreach(x.depts, dn, d)
    {
        json_int_t at = json_integer_value(json_object_get(d, "attempts"));
        json_int_t ps = json_integer_value(json_object_get(d, "passed"));
        json_int_t sum = json_integer_value(json_object_get(d, "score_sum"));
        json_array_append_new(arr,
                              json_pack("{s:s,s:O,s:O,s:I,s:I,s:f,s:f}", "department", dn,
                                        "accounts", json_object_get(d, "accounts"), "certified",
                                        json_object_get(d, "certified"), "attempts", at, "passed",
                                        ps, "pass_rate", at ? (double)ps / (double)at : 0.0,
                                        "average_score", at ? (double)sum / (double)at : 0.0));
    }
    *out = json_pack("{s:s,s:o,s:O,s:O}", "course", course_id, "departments", arr,
                     "weakest_questions", x.topics, "questionnaire", x.likert);
out:
    if (rows) {
        for (size_t i = 0; i < DTR_ACCOUNTS_MAX; i++) {
            mem_wipe(rows[i].pwhash, sizeof rows[i].pwhash);
            mem_wipe(rows[i].totp, sizeof rows[i].totp);
        }
    }
    free(rows);
    free(s.a);
    json_decref(x.depts);
    json_decref(x.topics);
    json_decref(x.likert);
    return rc;
}
