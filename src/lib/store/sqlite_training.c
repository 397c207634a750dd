/*
 * sqlite_training.c - the SQLite backend's training operations (store_training.h,
 * STORE_OPS). Courses are kept whole (manifest and files) per version, so what an
 * attempt was scored against can always be shown again. Attempts keep the
 * per-attempt seed and the drawn paper; answers keep only whether each question
 * was right; questionnaire free text arrives sealed and is kept as an envelope.
 *
 * Every operation is one statement: prep() makes the tables when missing, takes the
 * statement of its slot and binds the arguments by a format (see bind_all); run() steps
 * one that returns no rows, each() calls a row function per row, one() reads a single row.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_training.h"

/* Statement slots: the top of the table, below SQ_SLOT_SESSION_PURGE, counting down. */
enum {
    Q_READY = SQ_EXT_MAX - 2,
    Q_COURSE_PUT = Q_READY - 1,
    Q_FILE_PUT = Q_READY - 2,
    Q_COURSE_GET = Q_READY - 3,
    Q_COURSE_LATEST = Q_READY - 4,
    Q_FILE_GET = Q_READY - 5,
    Q_COURSE_LIST = Q_READY - 6,
    Q_ASSIGN = Q_READY - 7,
    Q_UNASSIGN = Q_READY - 8,
    Q_ASSIGNMENTS = Q_READY - 9,
    Q_ATT_INS = Q_READY - 10,
    Q_ATT_GET = Q_READY - 11,
    Q_ATT_SUBMIT = Q_READY - 12,
    Q_ANS_INS = Q_READY - 13,
    Q_ATT_LIST = Q_READY - 14,
    Q_ATT_LIST_ALL = Q_READY - 15,
    Q_LAST_PASS = Q_READY - 16,
    Q_TOPICS = Q_READY - 17,
    Q_RESP_PUT = Q_READY - 18,
    Q_RESP_LIST = Q_READY - 19,
    Q_LIKERT = Q_READY - 20,
    Q_REM_CLAIM = Q_READY - 21,
    Q_REM_DROP = Q_READY - 22,
    Q_ATT_STARTED = Q_READY - 23,
    Q_ANSWER_ROWS = Q_READY - 24,
    Q_LIKERT_ROWS = Q_READY - 25,
    Q_REMEDIAL_ADD = Q_READY - 26,
    Q_REMEDIAL_LIST = Q_READY - 27,
    Q_REMEDIAL_CLOSE = Q_READY - 28,
};

/* Made whole on first use; an older vault gets the tables it lacks (IF NOT EXISTS). The
 * responses' text column holds the sealed envelope of the free text (a BLOB); clear text an
 * older version kept there is erased by the upgrade. */
static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS training_courses(id TEXT NOT NULL, version TEXT NOT NULL, "
    "manifest BLOB NOT NULL, imported INTEGER NOT NULL, PRIMARY KEY(id, version)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS training_files(course TEXT NOT NULL, version TEXT NOT NULL, "
    "path TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY(course, version, path)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS training_assignments(id TEXT PRIMARY KEY, course TEXT NOT NULL, "
    "kind TEXT NOT NULL, target TEXT NOT NULL, starts INTEGER NOT NULL, created INTEGER NOT NULL, "
    "created_by TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS training_attempts(id TEXT PRIMARY KEY, account_id TEXT NOT NULL, "
    "course TEXT NOT NULL, version TEXT NOT NULL, lang TEXT NOT NULL, seed BLOB NOT NULL, "
    "paper BLOB NOT NULL, started INTEGER NOT NULL, submitted INTEGER NOT NULL DEFAULT 0, "
    "score INTEGER NOT NULL DEFAULT 0, passed INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS training_attempts_account ON training_attempts(account_id, "
    "course, submitted);"
    "CREATE TABLE IF NOT EXISTS training_answers(attempt TEXT NOT NULL, question TEXT NOT NULL, "
    "lesson TEXT NOT NULL, correct INTEGER NOT NULL, PRIMARY KEY(attempt, question)) WITHOUT "
    "ROWID;"
    "CREATE TABLE IF NOT EXISTS training_responses(account_id TEXT NOT NULL, course TEXT NOT "
    "NULL, version TEXT NOT NULL, phase TEXT NOT NULL, item TEXT NOT NULL, likert INTEGER NOT "
    "NULL, text TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY(account_id, course, version, "
    "phase, item)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS training_reminders(account_id TEXT NOT NULL, course TEXT NOT "
    "NULL, cycle TEXT NOT NULL, kind TEXT NOT NULL, sent INTEGER NOT NULL, PRIMARY "
    "KEY(account_id, course, cycle, kind)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS training_remedial(id TEXT PRIMARY KEY, account_id TEXT NOT NULL, "
    "course TEXT NOT NULL, source TEXT NOT NULL, blocking INTEGER NOT NULL, assigned INTEGER NOT "
    "NULL, done INTEGER NOT NULL DEFAULT 0, saved_until INTEGER NOT NULL, assigned_by TEXT NOT "
    "NULL);"
    "CREATE INDEX IF NOT EXISTS training_remedial_account ON training_remedial(account_id, done);"
    /* A vault from before sealed answers: free text kept in clear is erased (the Likert
     * answers stay); runs once, with the upgrade that adds training_remedial. */
    "UPDATE training_responses SET text=X'' WHERE typeof(text)='text';";

err sqlite_training_ready(store *s)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_READY,
                "SELECT count(*) FROM sqlite_schema WHERE type='table' AND "
                "name='training_remedial'",
                &st));
    int r = sqlite3_step(st);
    bool have = r == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3 *db = sqlite3_db_handle(st);
    sqlite3_reset(st);
    ENSURE(r == SQLITE_ROW, ERR_IO, "store: cannot read the schema");
    if (have) {
        return ERR_OK;
    }
    char *msg = NULL;
    if (sqlite3_exec(db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
        sqlite3_free(msg);
        return sq_error(s, "training schema");
    }
    return ERR_OK;
}

/* Binds parameters 1, 2, ... by the letters of fmt: 't' text (NULL binds NULL), 'i' int,
 * 'I' int64_t, 'b' a slice (as a BLOB, empty allowed), 'B' a const buf *, '-' skips one. */
static void bind_all(sqlite3_stmt *st, const char *fmt, va_list ap)
{
    for (int i = 1; *fmt; fmt++, i++) {
        switch (*fmt) {
        case 't': {
            const char *v = va_arg(ap, const char *);
            if (v) {
                sq_text(st, i, v);
            }
            break;
        }
        case 'i':
            sqlite3_bind_int(st, i, va_arg(ap, int));
            break;
        case 'I':
            sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
            break;
        case 'b': {
            slice v = va_arg(ap, slice);
            sqlite3_bind_blob(st, i, v.len ? (const void *)v.p : (const void *)"", (int)v.len,
                              SQLITE_TRANSIENT);
            break;
        }
        case 'B':
            sq_blob(st, i, va_arg(ap, const buf *));
            break;
        default:
            break;
        }
    }
}

static err prep_v(store *s, int slot, const char *sql, sqlite3_stmt **st, const char *fmt,
                  va_list ap)
{
    TRY(sqlite_training_ready(s));
    TRY(sq_stmt(s, slot, sql, st));
    bind_all(*st, fmt, ap);
    return ERR_OK;
}

static err prep(store *s, int slot, const char *sql, sqlite3_stmt **st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err e = prep_v(s, slot, sql, st, fmt, ap);
    va_end(ap);
    return e;
}

/* A statement without rows. */
static err run(store *s, int slot, const char *sql, const char *what, const char *fmt, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    va_start(ap, fmt);
    err e = prep_v(s, slot, sql, &st, fmt, ap);
    va_end(ap);
    return e == ERR_OK ? sq_done(s, st, what) : e;
}

typedef err (*row_fn)(sqlite3_stmt *st, void *ctx);

/* Calls fn per row until it fails; resets the statement. */
static err each(sqlite3_stmt *st, const char *what, row_fn fn, void *ctx)
{
    int r;
    err e = ERR_OK;
    while (e == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        e = fn(st, ctx);
    }
    sqlite3_reset(st);
    TRY(e);
    ENSURE(r == SQLITE_DONE, ERR_IO, "store: %s failed", what);
    return ERR_OK;
}

/* The one row of st through fn, or ERR_NOT_FOUND (missing) / ERR_IO. */
static err one(sqlite3_stmt *st, const char *missing, row_fn fn, void *ctx)
{
    int r = sqlite3_step(st);
    err e = r == SQLITE_ROW    ? fn(st, ctx)
            : r == SQLITE_DONE ? err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "%s", missing)
                               : err_set(ERR_IO, __FILE__, __LINE__, "store: read failed");
    sqlite3_reset(st);
    return e;
}

static err col_int64(sqlite3_stmt *st, void *ctx)
{
    *(int64_t *)ctx = sqlite3_column_int64(st, 0);
    return ERR_OK;
}

/* ---- courses ---- */

err sqlite_training_course_put(store *s, const char *id, const char *version, slice manifest,
                               int64_t at_us)
{
    return run(s, Q_COURSE_PUT,
               "INSERT INTO training_courses(id, version, manifest, imported) VALUES(?1,?2,?3,?4)",
               "training course insert", "ttbI", id, version, manifest, at_us);
}

err sqlite_training_file_put(store *s, const char *course, const char *version, const char *path,
                             slice body)
{
    return run(s, Q_FILE_PUT,
               "INSERT INTO training_files(course, version, path, body) VALUES(?1,?2,?3,?4)",
               "training file insert", "tttb", course, version, path, body);
}

typedef struct course_row {
    char *version;
    buf *manifest;
} course_row;

static err course_row_read(sqlite3_stmt *st, void *ctx)
{
    course_row *x = ctx;
    sq_col_text(st, 0, x->version, TRAINING_VERSION_MAX + 1);
    return sq_col_buf(st, 1, x->manifest);
}

err sqlite_training_course_get(store *s, const char *id, const char *version, char *version_out,
                               buf *manifest)
{
    sqlite3_stmt *st;
    if (version && version[0]) {
        TRY(prep(s, Q_COURSE_GET,
                 "SELECT version, manifest FROM training_courses WHERE id=?1 AND version=?2", &st,
                 "tt", id, version));
    } else {
        TRY(prep(s, Q_COURSE_LATEST,
                 "SELECT version, manifest FROM training_courses WHERE id=?1 "
                 "ORDER BY imported DESC, version DESC LIMIT 1",
                 &st, "t", id));
    }
    course_row x = {version_out, manifest};
    return one(st, "no such course", course_row_read, &x);
}

static err buf_row_read(sqlite3_stmt *st, void *ctx)
{
    return sq_col_buf(st, 0, ctx);
}

err sqlite_training_file_get(store *s, const char *course, const char *version, const char *path,
                             buf *body)
{
    sqlite3_stmt *st;
    TRY(prep(s, Q_FILE_GET,
             "SELECT body FROM training_files WHERE course=?1 AND version=?2 AND path=?3", &st,
             "ttt", course, version, path));
    return one(st, "no such file", buf_row_read, body);
}

typedef struct fn_ctx {
    void *fn;
    void *ctx;
} fn_ctx;

static err course_list_row(sqlite3_stmt *st, void *ctx)
{
    fn_ctx *x = ctx;
    char id[TRAINING_ID_MAX + 1], ver[TRAINING_VERSION_MAX + 1];
    sq_col_text(st, 0, id, sizeof id);
    sq_col_text(st, 1, ver, sizeof ver);
    return ((store_training_course_fn)x->fn)(x->ctx, id, ver, sqlite3_column_int64(st, 2));
}

err sqlite_training_course_list(store *s, store_training_course_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    TRY(prep(s, Q_COURSE_LIST,
             "SELECT id, version, imported FROM training_courses c WHERE imported = (SELECT "
             "max(imported) FROM training_courses d WHERE d.id = c.id) ORDER BY id",
             &st, ""));
    fn_ctx x = {(void *)fn, ctx};
    return each(st, "course list", course_list_row, &x);
}

/* ---- assignments ---- */

err sqlite_training_assign(store *s, const training_assignment *a)
{
    return run(s, Q_ASSIGN,
               "INSERT INTO training_assignments(id, course, kind, target, starts, created, "
               "created_by) VALUES(?1,?2,?3,?4,?5,?6,?7)",
               "training assignment insert", "ttttIIt", a->id, a->course, a->kind, a->target,
               a->starts_us, a->created_us, a->created_by);
}

err sqlite_training_unassign(store *s, const char *id)
{
    TRY(run(s, Q_UNASSIGN, "DELETE FROM training_assignments WHERE id=?1",
            "training assignment delete", "t", id));
    ENSURE(sq_changes(s) == 1, ERR_NOT_FOUND, "no such assignment");
    return ERR_OK;
}

static err assignment_row(sqlite3_stmt *st, void *ctx)
{
    fn_ctx *x = ctx;
    training_assignment a;
    memset(&a, 0, sizeof a);
    sq_col_text(st, 0, a.id, sizeof a.id);
    sq_col_text(st, 1, a.course, sizeof a.course);
    sq_col_text(st, 2, a.kind, sizeof a.kind);
    sq_col_text(st, 3, a.target, sizeof a.target);
    a.starts_us = sqlite3_column_int64(st, 4);
    a.created_us = sqlite3_column_int64(st, 5);
    sq_col_text(st, 6, a.created_by, sizeof a.created_by);
    return ((store_training_assignment_fn)x->fn)(x->ctx, &a);
}

err sqlite_training_assignments(store *s, store_training_assignment_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    TRY(prep(s, Q_ASSIGNMENTS,
             "SELECT id, course, kind, target, starts, created, created_by FROM "
             "training_assignments ORDER BY created, id",
             &st, ""));
    fn_ctx x = {(void *)fn, ctx};
    return each(st, "assignment list", assignment_row, &x);
}

/* ---- attempts ---- */

err sqlite_training_attempt_insert(store *s, const training_attempt *a)
{
    slice seed = {a->seed, sizeof a->seed};
    return run(s, Q_ATT_INS,
               "INSERT INTO training_attempts(id, account_id, course, version, lang, seed, paper, "
               "started) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
               "training attempt insert", "tttttbBI", a->id, a->account_id, a->course, a->version,
               a->lang, seed, &a->paper, a->started_us);
}

#define ATTEMPT_COLS                                                                               \
    "id, account_id, course, version, lang, seed, started, submitted, score, passed"

static void attempt_row(sqlite3_stmt *st, training_attempt *a)
{
    sq_col_text(st, 0, a->id, sizeof a->id);
    sq_col_text(st, 1, a->account_id, sizeof a->account_id);
    sq_col_text(st, 2, a->course, sizeof a->course);
    sq_col_text(st, 3, a->version, sizeof a->version);
    sq_col_text(st, 4, a->lang, sizeof a->lang);
    const void *seed = sqlite3_column_blob(st, 5);
    if (seed && sqlite3_column_bytes(st, 5) == TRAINING_SEED_LEN) {
        memcpy(a->seed, seed, TRAINING_SEED_LEN);
    }
    a->started_us = sqlite3_column_int64(st, 6);
    a->submitted_us = sqlite3_column_int64(st, 7);
    a->score = sqlite3_column_int(st, 8);
    a->passed = sqlite3_column_int(st, 9) != 0;
}

static err attempt_get_row(sqlite3_stmt *st, void *ctx)
{
    training_attempt *a = ctx;
    attempt_row(st, a);
    return sq_col_buf(st, 10, &a->paper);
}

err sqlite_training_attempt_get(store *s, const char *id, training_attempt *out)
{
    sqlite3_stmt *st;
    TRY(prep(s, Q_ATT_GET, "SELECT " ATTEMPT_COLS ", paper FROM training_attempts WHERE id=?1", &st,
             "t", id));
    return one(st, "no such attempt", attempt_get_row, out);
}

err sqlite_training_attempt_submit(store *s, const char *id, int64_t at_us, int score, bool passed,
                                   const training_answer *ans, size_t n)
{
    TRY(run(s, Q_ATT_SUBMIT,
            "UPDATE training_attempts SET submitted=?2, score=?3, passed=?4 WHERE id=?1 AND "
            "submitted=0",
            "training attempt submit", "tIii", id, at_us, score, (int)passed));
    ENSURE(sq_changes(s) == 1, ERR_CONFLICT, "the attempt was submitted already");
    for (size_t i = 0; i < n; i++) {
        TRY(run(s, Q_ANS_INS,
                "INSERT INTO training_answers(attempt, question, lesson, correct) "
                "VALUES(?1,?2,?3,?4)",
                "training answer insert", "ttti", id, ans[i].question, ans[i].lesson,
                (int)ans[i].correct));
    }
    return ERR_OK;
}

static err attempt_list_row(sqlite3_stmt *st, void *ctx)
{
    fn_ctx *x = ctx;
    training_attempt a;
    training_attempt_init(&a);
    attempt_row(st, &a);
    err e = ((store_training_attempt_fn)x->fn)(x->ctx, &a);
    training_attempt_free(&a);
    return e;
}

err sqlite_training_attempts(store *s, const char *account_id, size_t max,
                             store_training_attempt_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    if (account_id) {
        TRY(prep(s, Q_ATT_LIST,
                 "SELECT " ATTEMPT_COLS " FROM training_attempts WHERE account_id=?1 AND "
                 "submitted>0 ORDER BY submitted DESC LIMIT ?2",
                 &st, "tI", account_id, (int64_t)max));
    } else {
        TRY(prep(s, Q_ATT_LIST_ALL,
                 "SELECT " ATTEMPT_COLS " FROM training_attempts WHERE submitted>0 "
                 "ORDER BY submitted DESC LIMIT ?2",
                 &st, "-I", (int64_t)max));
    }
    fn_ctx x = {(void *)fn, ctx};
    return each(st, "attempt list", attempt_list_row, &x);
}

err sqlite_training_attempts_started(store *s, const char *account_id, const char *course,
                                     int64_t since_us, int64_t *n)
{
    sqlite3_stmt *st;
    TRY(prep(s, Q_ATT_STARTED,
             "SELECT count(*) FROM training_attempts WHERE account_id=?1 AND course=?2 AND "
             "started>=?3",
             &st, "ttI", account_id, course, since_us));
    return one(st, "attempts started", col_int64, n);
}

err sqlite_training_last_pass(store *s, const char *account_id, const char *course, int64_t *at_us)
{
    sqlite3_stmt *st;
    TRY(prep(s, Q_LAST_PASS,
             "SELECT coalesce(max(submitted), 0) FROM training_attempts WHERE account_id=?1 "
             "AND course=?2 AND passed=1",
             &st, "tt", account_id, course));
    return one(st, "last pass", col_int64, at_us);
}

static err topic_row(sqlite3_stmt *st, void *ctx)
{
    fn_ctx *x = ctx;
    char q[TRAINING_ID_MAX + 1], l[TRAINING_ID_MAX + 1];
    sq_col_text(st, 0, q, sizeof q);
    sq_col_text(st, 1, l, sizeof l);
    return ((store_training_topic_fn)x->fn)(x->ctx, q, l, sqlite3_column_int64(st, 2),
                                            sqlite3_column_int64(st, 3));
}

err sqlite_training_topics(store *s, const char *course, const char *account_id, size_t max,
                           store_training_topic_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    TRY(prep(s, Q_TOPICS,
             "SELECT a.question, a.lesson, count(*), sum(1 - a.correct) FROM training_answers a "
             "JOIN training_attempts t ON t.id = a.attempt WHERE t.course=?1 AND (?2 IS NULL "
             "OR t.account_id=?2) GROUP BY a.question, a.lesson ORDER BY sum(1 - a.correct) "
             "DESC, a.question LIMIT ?3",
             &st, "ttI", course, account_id, (int64_t)max));
    fn_ctx x = {(void *)fn, ctx};
    return each(st, "topics", topic_row, &x);
}

/* ---- questionnaires ---- */

err sqlite_training_response_put(store *s, const char *account_id, const char *course,
                                 const char *version, const char *phase, const char *item,
                                 int likert, slice sealed_text, int64_t at_us)
{
    return run(s, Q_RESP_PUT,
               "INSERT OR REPLACE INTO training_responses(account_id, course, version, phase, "
               "item, likert, text, at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
               "training response insert", "tttttibI", account_id, course, version, phase, item,
               likert, sealed_text, at_us);
}

static err response_row(sqlite3_stmt *st, void *ctx)
{
    fn_ctx *x = ctx;
    char ph[8], item[TRAINING_ID_MAX + 1];
    sq_col_text(st, 0, ph, sizeof ph);
    sq_col_text(st, 1, item, sizeof item);
    slice text = {sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3)};
    return ((store_training_response_fn)x->fn)(x->ctx, ph, item, sqlite3_column_int(st, 2), text,
                                               sqlite3_column_int64(st, 4));
}

err sqlite_training_responses(store *s, const char *account_id, const char *course,
                              store_training_response_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    TRY(prep(s, Q_RESP_LIST,
             "SELECT phase, item, likert, text, at FROM training_responses WHERE "
             "account_id=?1 AND course=?2 ORDER BY phase DESC, item",
             &st, "tt", account_id, course));
    fn_ctx x = {(void *)fn, ctx};
    return each(st, "responses", response_row, &x);
}

static err likert_row(sqlite3_stmt *st, void *ctx)
{
    fn_ctx *x = ctx;
    char ph[8], item[TRAINING_ID_MAX + 1];
    sq_col_text(st, 0, ph, sizeof ph);
    sq_col_text(st, 1, item, sizeof item);
    return ((store_training_likert_fn)x->fn)(x->ctx, ph, item, sqlite3_column_double(st, 2),
                                             sqlite3_column_int64(st, 3));
}

err sqlite_training_likert(store *s, const char *course, store_training_likert_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    TRY(prep(s, Q_LIKERT,
             "SELECT phase, item, avg(likert), count(*) FROM training_responses WHERE "
             "course=?1 AND likert>0 GROUP BY phase, item ORDER BY item, phase DESC",
             &st, "t", course));
    fn_ctx x = {(void *)fn, ctx};
    return each(st, "likert", likert_row, &x);
}

/* ---- rows for the metrics ---- */

static err answer_row(sqlite3_stmt *st, void *ctx)
{
    fn_ctx *x = ctx;
    char acc[ID_LEN + 1], course[TRAINING_ID_MAX + 1], q[TRAINING_ID_MAX + 1],
        l[TRAINING_ID_MAX + 1];
    sq_col_text(st, 0, acc, sizeof acc);
    sq_col_text(st, 1, course, sizeof course);
    sq_col_text(st, 3, q, sizeof q);
    sq_col_text(st, 4, l, sizeof l);
    return ((store_training_answer_row_fn)x->fn)(x->ctx, acc, course, sqlite3_column_int64(st, 2),
                                                 q, l, sqlite3_column_int(st, 5) != 0);
}

err sqlite_training_answer_rows(store *s, const char *course, store_training_answer_row_fn fn,
                                void *ctx)
{
    sqlite3_stmt *st;
    TRY(prep(s, Q_ANSWER_ROWS,
             "SELECT t.account_id, t.course, t.submitted, a.question, a.lesson, a.correct FROM "
             "training_answers a JOIN training_attempts t ON t.id = a.attempt WHERE t.submitted>0 "
             "AND (?1 IS NULL OR t.course=?1) ORDER BY t.submitted, a.question",
             &st, "t", course));
    fn_ctx x = {(void *)fn, ctx};
    return each(st, "answer rows", answer_row, &x);
}

static err likert_rows_row(sqlite3_stmt *st, void *ctx)
{
    fn_ctx *x = ctx;
    char acc[ID_LEN + 1], course[TRAINING_ID_MAX + 1], ph[8], item[TRAINING_ID_MAX + 1];
    sq_col_text(st, 0, acc, sizeof acc);
    sq_col_text(st, 1, course, sizeof course);
    sq_col_text(st, 2, ph, sizeof ph);
    sq_col_text(st, 3, item, sizeof item);
    return ((store_training_likert_row_fn)x->fn)(
        x->ctx, acc, course, ph, item, sqlite3_column_int(st, 4), sqlite3_column_int64(st, 5));
}

err sqlite_training_likert_rows(store *s, const char *course, store_training_likert_row_fn fn,
                                void *ctx)
{
    sqlite3_stmt *st;
    TRY(prep(s, Q_LIKERT_ROWS,
             "SELECT account_id, course, phase, item, likert, at FROM training_responses WHERE "
             "likert>0 AND (?1 IS NULL OR course=?1) ORDER BY at, item",
             &st, "t", course));
    fn_ctx x = {(void *)fn, ctx};
    return each(st, "likert rows", likert_rows_row, &x);
}

/* ---- remedial courses ---- */

err sqlite_training_remedial_add(store *s, const training_remedial *r)
{
    return run(s, Q_REMEDIAL_ADD,
               "INSERT INTO training_remedial(id, account_id, course, source, blocking, assigned, "
               "done, saved_until, assigned_by) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)",
               "training remedial insert", "ttttiIIIt", r->id, r->account_id, r->course, r->source,
               (int)r->blocking, r->assigned_us, r->done_us, r->saved_until_us, r->assigned_by);
}

static err remedial_row(sqlite3_stmt *st, void *ctx)
{
    fn_ctx *x = ctx;
    training_remedial r;
    memset(&r, 0, sizeof r);
    sq_col_text(st, 0, r.id, sizeof r.id);
    sq_col_text(st, 1, r.account_id, sizeof r.account_id);
    sq_col_text(st, 2, r.course, sizeof r.course);
    sq_col_text(st, 3, r.source, sizeof r.source);
    r.blocking = sqlite3_column_int(st, 4) != 0;
    r.assigned_us = sqlite3_column_int64(st, 5);
    r.done_us = sqlite3_column_int64(st, 6);
    r.saved_until_us = sqlite3_column_int64(st, 7);
    sq_col_text(st, 8, r.assigned_by, sizeof r.assigned_by);
    return ((store_training_remedial_fn)x->fn)(x->ctx, &r);
}

err sqlite_training_remedials(store *s, const char *account_id, bool open_only,
                              store_training_remedial_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    TRY(prep(s, Q_REMEDIAL_LIST,
             "SELECT id, account_id, course, source, blocking, assigned, done, saved_until, "
             "assigned_by FROM training_remedial WHERE (?1 IS NULL OR account_id=?1) AND "
             "(?2 = 0 OR done = 0) ORDER BY assigned, id",
             &st, "ti", account_id, (int)open_only));
    fn_ctx x = {(void *)fn, ctx};
    return each(st, "remedial list", remedial_row, &x);
}

err sqlite_training_remedial_close(store *s, const char *id, int64_t done_us)
{
    TRY(run(s, Q_REMEDIAL_CLOSE, "UPDATE training_remedial SET done=?2 WHERE id=?1 AND done=0",
            "training remedial close", "tI", id, done_us));
    ENSURE(sq_changes(s) == 1, ERR_CONFLICT, "the remedial course was closed already");
    return ERR_OK;
}

/* ---- reminders ---- */

err sqlite_training_reminder_claim(store *s, const char *account_id, const char *course,
                                   const char *cycle, const char *kind, int64_t at_us)
{
    TRY(run(s, Q_REM_CLAIM,
            "INSERT OR IGNORE INTO training_reminders(account_id, course, cycle, kind, sent) "
            "VALUES(?1,?2,?3,?4,?5)",
            "training reminder claim", "ttttI", account_id, course, cycle, kind, at_us));
    ENSURE(sq_changes(s) == 1, ERR_CONFLICT, "reminder sent already");
    return ERR_OK;
}

err sqlite_training_reminder_drop(store *s, const char *account_id, const char *course,
                                  const char *cycle, const char *kind)
{
    return run(s, Q_REM_DROP,
               "DELETE FROM training_reminders WHERE account_id=?1 AND course=?2 AND cycle=?3 "
               "AND kind=?4",
               "training reminder drop", "tttt", account_id, course, cycle, kind);
}
