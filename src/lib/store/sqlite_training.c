/*
 * sqlite_training.c - the training tables (store_training.h). Courses are kept
 * whole (manifest and files) per version, so what an attempt was scored
 * against can always be shown again. Attempts keep the per-attempt seed and
 * the drawn paper; answers keep only whether each question was right.
 */
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
};

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
    "KEY(account_id, course, cycle, kind)) WITHOUT ROWID;";

err store_training_ready(store *s)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(
        s, Q_READY,
        "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='training_reminders'",
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

static err rows_done(int r, const char *what)
{
    ENSURE(r == SQLITE_DONE || r == SQLITE_ROW, ERR_IO, "store: %s failed", what);
    return ERR_OK;
}

/* ---- courses ---- */

err store_training_course_put(store *s, const char *id, const char *version, slice manifest,
                              int64_t at_us)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_COURSE_PUT,
                "INSERT INTO training_courses(id, version, manifest, imported) VALUES(?1,?2,?3,?4)",
                &st));
    sq_text(st, 1, id);
    sq_text(st, 2, version);
    sqlite3_bind_blob(st, 3, manifest.p, (int)manifest.len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, at_us);
    return sq_done(s, st, "training course insert");
}

err store_training_file_put(store *s, const char *course, const char *version, const char *path,
                            slice body)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_FILE_PUT,
                "INSERT INTO training_files(course, version, path, body) VALUES(?1,?2,?3,?4)",
                &st));
    sq_text(st, 1, course);
    sq_text(st, 2, version);
    sq_text(st, 3, path);
    sqlite3_bind_blob(st, 4, body.len ? body.p : (const void *)"", (int)body.len, SQLITE_TRANSIENT);
    return sq_done(s, st, "training file insert");
}

err store_training_course_get(store *s, const char *id, const char *version, char *version_out,
                              buf *manifest)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    if (version && version[0]) {
        TRY(sq_stmt(s, Q_COURSE_GET,
                    "SELECT version, manifest FROM training_courses WHERE id=?1 AND version=?2",
                    &st));
        sq_text(st, 2, version);
    } else {
        TRY(sq_stmt(s, Q_COURSE_LATEST,
                    "SELECT version, manifest FROM training_courses WHERE id=?1 "
                    "ORDER BY imported DESC, version DESC LIMIT 1",
                    &st));
    }
    sq_text(st, 1, id);
    int r = sqlite3_step(st);
    err e = ERR_OK;
    if (r == SQLITE_ROW) {
        sq_col_text(st, 0, version_out, TRAINING_VERSION_MAX + 1);
        e = sq_col_buf(st, 1, manifest);
    } else {
        e = r == SQLITE_DONE ? err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "no such course")
                             : err_set(ERR_IO, __FILE__, __LINE__, "store: course read failed");
    }
    sqlite3_reset(st);
    return e;
}

err store_training_file_get(store *s, const char *course, const char *version, const char *path,
                            buf *body)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_FILE_GET,
                "SELECT body FROM training_files WHERE course=?1 AND version=?2 AND path=?3", &st));
    sq_text(st, 1, course);
    sq_text(st, 2, version);
    sq_text(st, 3, path);
    int r = sqlite3_step(st);
    err e = r == SQLITE_ROW    ? sq_col_buf(st, 0, body)
            : r == SQLITE_DONE ? err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "no such file")
                               : err_set(ERR_IO, __FILE__, __LINE__, "store: file read failed");
    sqlite3_reset(st);
    return e;
}

err store_training_course_list(store *s, store_training_course_fn fn, void *ctx)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_COURSE_LIST,
                "SELECT id, version, imported FROM training_courses c WHERE imported = (SELECT "
                "max(imported) FROM training_courses d WHERE d.id = c.id) ORDER BY id",
                &st));
    int r;
    err e = ERR_OK;
    while (e == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        char id[TRAINING_ID_MAX + 1], ver[TRAINING_VERSION_MAX + 1];
        sq_col_text(st, 0, id, sizeof id);
        sq_col_text(st, 1, ver, sizeof ver);
        e = fn(ctx, id, ver, sqlite3_column_int64(st, 2));
    }
    sqlite3_reset(st);
    return e != ERR_OK ? e : rows_done(r, "course list");
}

/* ---- assignments ---- */

err store_training_assign(store *s, const training_assignment *a)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_ASSIGN,
                "INSERT INTO training_assignments(id, course, kind, target, starts, created, "
                "created_by) VALUES(?1,?2,?3,?4,?5,?6,?7)",
                &st));
    sq_text(st, 1, a->id);
    sq_text(st, 2, a->course);
    sq_text(st, 3, a->kind);
    sq_text(st, 4, a->target);
    sqlite3_bind_int64(st, 5, a->starts_us);
    sqlite3_bind_int64(st, 6, a->created_us);
    sq_text(st, 7, a->created_by);
    return sq_done(s, st, "training assignment insert");
}

err store_training_unassign(store *s, const char *id)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_UNASSIGN, "DELETE FROM training_assignments WHERE id=?1", &st));
    sq_text(st, 1, id);
    TRY(sq_done(s, st, "training assignment delete"));
    ENSURE(sq_changes(s) == 1, ERR_NOT_FOUND, "no such assignment");
    return ERR_OK;
}

err store_training_assignments(store *s, store_training_assignment_fn fn, void *ctx)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_ASSIGNMENTS,
                "SELECT id, course, kind, target, starts, created, created_by FROM "
                "training_assignments ORDER BY created, id",
                &st));
    int r;
    err e = ERR_OK;
    while (e == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        training_assignment a;
        memset(&a, 0, sizeof a);
        sq_col_text(st, 0, a.id, sizeof a.id);
        sq_col_text(st, 1, a.course, sizeof a.course);
        sq_col_text(st, 2, a.kind, sizeof a.kind);
        sq_col_text(st, 3, a.target, sizeof a.target);
        a.starts_us = sqlite3_column_int64(st, 4);
        a.created_us = sqlite3_column_int64(st, 5);
        sq_col_text(st, 6, a.created_by, sizeof a.created_by);
        e = fn(ctx, &a);
    }
    sqlite3_reset(st);
    return e != ERR_OK ? e : rows_done(r, "assignment list");
}

/* ---- attempts ---- */

void training_attempt_init(training_attempt *a)
{
    memset(a, 0, sizeof *a);
    buf_init(&a->paper, (size_t)1 << 20);
}

void training_attempt_free(training_attempt *a)
{
    buf_free(&a->paper);
}

err store_training_attempt_insert(store *s, const training_attempt *a)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_ATT_INS,
                "INSERT INTO training_attempts(id, account_id, course, version, lang, seed, paper, "
                "started) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                &st));
    sq_text(st, 1, a->id);
    sq_text(st, 2, a->account_id);
    sq_text(st, 3, a->course);
    sq_text(st, 4, a->version);
    sq_text(st, 5, a->lang);
    sqlite3_bind_blob(st, 6, a->seed, sizeof a->seed, SQLITE_TRANSIENT);
    sq_blob(st, 7, &a->paper);
    sqlite3_bind_int64(st, 8, a->started_us);
    return sq_done(s, st, "training attempt insert");
}

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

err store_training_attempt_get(store *s, const char *id, training_attempt *out)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_ATT_GET,
                "SELECT id, account_id, course, version, lang, seed, started, submitted, score, "
                "passed, paper FROM training_attempts WHERE id=?1",
                &st));
    sq_text(st, 1, id);
    int r = sqlite3_step(st);
    err e = ERR_OK;
    if (r == SQLITE_ROW) {
        attempt_row(st, out);
        e = sq_col_buf(st, 10, &out->paper);
    } else {
        e = r == SQLITE_DONE ? err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "no such attempt")
                             : err_set(ERR_IO, __FILE__, __LINE__, "store: attempt read failed");
    }
    sqlite3_reset(st);
    return e;
}

err store_training_attempt_submit(store *s, const char *id, int64_t at_us, int score, bool passed,
                                  const training_answer *ans, size_t n)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_ATT_SUBMIT,
                "UPDATE training_attempts SET submitted=?2, score=?3, passed=?4 WHERE id=?1 AND "
                "submitted=0",
                &st));
    sq_text(st, 1, id);
    sqlite3_bind_int64(st, 2, at_us);
    sqlite3_bind_int(st, 3, score);
    sqlite3_bind_int(st, 4, passed);
    TRY(sq_done(s, st, "training attempt submit"));
    ENSURE(sq_changes(s) == 1, ERR_CONFLICT, "the attempt was submitted already");
    for (size_t i = 0; i < n; i++) {
        TRY(sq_stmt(s, Q_ANS_INS,
                    "INSERT INTO training_answers(attempt, question, lesson, correct) "
                    "VALUES(?1,?2,?3,?4)",
                    &st));
        sq_text(st, 1, id);
        sq_text(st, 2, ans[i].question);
        sq_text(st, 3, ans[i].lesson);
        sqlite3_bind_int(st, 4, ans[i].correct);
        TRY(sq_done(s, st, "training answer insert"));
    }
    return ERR_OK;
}

err store_training_attempts(store *s, const char *account_id, size_t max,
                            store_training_attempt_fn fn, void *ctx)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    if (account_id) {
        TRY(sq_stmt(s, Q_ATT_LIST,
                    "SELECT id, account_id, course, version, lang, seed, started, submitted, "
                    "score, passed FROM training_attempts WHERE account_id=?1 AND submitted>0 "
                    "ORDER BY submitted DESC LIMIT ?2",
                    &st));
        sq_text(st, 1, account_id);
    } else {
        TRY(sq_stmt(s, Q_ATT_LIST_ALL,
                    "SELECT id, account_id, course, version, lang, seed, started, submitted, "
                    "score, passed FROM training_attempts WHERE submitted>0 "
                    "ORDER BY submitted DESC LIMIT ?2",
                    &st));
    }
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    int r;
    err e = ERR_OK;
    while (e == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        training_attempt a;
        training_attempt_init(&a);
        attempt_row(st, &a);
        e = fn(ctx, &a);
        training_attempt_free(&a);
    }
    sqlite3_reset(st);
    return e != ERR_OK ? e : rows_done(r, "attempt list");
}

err store_training_attempts_started(store *s, const char *account_id, const char *course,
                                    int64_t since_us, int64_t *n)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_ATT_STARTED,
                "SELECT count(*) FROM training_attempts WHERE account_id=?1 AND course=?2 AND "
                "started>=?3",
                &st));
    sq_text(st, 1, account_id);
    sq_text(st, 2, course);
    sqlite3_bind_int64(st, 3, since_us);
    int r = sqlite3_step(st);
    *n = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rows_done(r, "attempts started");
}

err store_training_last_pass(store *s, const char *account_id, const char *course, int64_t *at_us)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_LAST_PASS,
                "SELECT coalesce(max(submitted), 0) FROM training_attempts WHERE account_id=?1 "
                "AND course=?2 AND passed=1",
                &st));
    sq_text(st, 1, account_id);
    sq_text(st, 2, course);
    int r = sqlite3_step(st);
    *at_us = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rows_done(r, "last pass");
}

err store_training_topics(store *s, const char *course, const char *account_id, size_t max,
                          store_training_topic_fn fn, void *ctx)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_TOPICS,
                "SELECT a.question, a.lesson, count(*), sum(1 - a.correct) FROM training_answers a "
                "JOIN training_attempts t ON t.id = a.attempt WHERE t.course=?1 AND (?2 IS NULL "
                "OR t.account_id=?2) GROUP BY a.question, a.lesson ORDER BY sum(1 - a.correct) "
                "DESC, a.question LIMIT ?3",
                &st));
    sq_text(st, 1, course);
    if (account_id) {
        sq_text(st, 2, account_id);
    }
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    int r;
    err e = ERR_OK;
    while (e == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        char q[TRAINING_ID_MAX + 1], l[TRAINING_ID_MAX + 1];
        sq_col_text(st, 0, q, sizeof q);
        sq_col_text(st, 1, l, sizeof l);
        e = fn(ctx, q, l, sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3));
    }
    sqlite3_reset(st);
    return e != ERR_OK ? e : rows_done(r, "topics");
}

/* ---- questionnaires ---- */

err store_training_response_put(store *s, const char *account_id, const char *course,
                                const char *version, const char *phase, const char *item,
                                int likert, const char *text, int64_t at_us)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_RESP_PUT,
                "INSERT OR REPLACE INTO training_responses(account_id, course, version, phase, "
                "item, likert, text, at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                &st));
    sq_text(st, 1, account_id);
    sq_text(st, 2, course);
    sq_text(st, 3, version);
    sq_text(st, 4, phase);
    sq_text(st, 5, item);
    sqlite3_bind_int(st, 6, likert);
    sq_text(st, 7, text ? text : "");
    sqlite3_bind_int64(st, 8, at_us);
    return sq_done(s, st, "training response insert");
}

err store_training_responses(store *s, const char *account_id, const char *course,
                             store_training_response_fn fn, void *ctx)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_RESP_LIST,
                "SELECT phase, item, likert, text, at FROM training_responses WHERE "
                "account_id=?1 AND course=?2 ORDER BY phase DESC, item",
                &st));
    sq_text(st, 1, account_id);
    sq_text(st, 2, course);
    int r;
    err e = ERR_OK;
    while (e == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        char ph[8], item[TRAINING_ID_MAX + 1];
        sq_col_text(st, 0, ph, sizeof ph);
        sq_col_text(st, 1, item, sizeof item);
        e = fn(ctx, ph, item, sqlite3_column_int(st, 2), (const char *)sqlite3_column_text(st, 3),
               sqlite3_column_int64(st, 4));
    }
    sqlite3_reset(st);
    return e != ERR_OK ? e : rows_done(r, "responses");
}

err store_training_likert(store *s, const char *course, store_training_likert_fn fn, void *ctx)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_LIKERT,
                "SELECT phase, item, avg(likert), count(*) FROM training_responses WHERE "
                "course=?1 AND likert>0 GROUP BY phase, item ORDER BY item, phase DESC",
                &st));
    sq_text(st, 1, course);
    int r;
    err e = ERR_OK;
    while (e == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        char ph[8], item[TRAINING_ID_MAX + 1];
        sq_col_text(st, 0, ph, sizeof ph);
        sq_col_text(st, 1, item, sizeof item);
        e = fn(ctx, ph, item, sqlite3_column_double(st, 2), sqlite3_column_int64(st, 3));
    }
    sqlite3_reset(st);
    return e != ERR_OK ? e : rows_done(r, "likert");
}

/* ---- reminders ---- */

err store_training_reminder_claim(store *s, const char *account_id, const char *course,
                                  const char *cycle, const char *kind, int64_t at_us)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_REM_CLAIM,
                "INSERT OR IGNORE INTO training_reminders(account_id, course, cycle, kind, sent) "
                "VALUES(?1,?2,?3,?4,?5)",
                &st));
    sq_text(st, 1, account_id);
    sq_text(st, 2, course);
    sq_text(st, 3, cycle);
    sq_text(st, 4, kind);
    sqlite3_bind_int64(st, 5, at_us);
    TRY(sq_done(s, st, "training reminder claim"));
    ENSURE(sq_changes(s) == 1, ERR_CONFLICT, "reminder sent already");
    return ERR_OK;
}

err store_training_reminder_drop(store *s, const char *account_id, const char *course,
                                 const char *cycle, const char *kind)
{
    TRY(store_training_ready(s));
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_REM_DROP,
                "DELETE FROM training_reminders WHERE account_id=?1 AND course=?2 AND cycle=?3 "
                "AND kind=?4",
                &st));
    sq_text(st, 1, account_id);
    sq_text(st, 2, course);
    sq_text(st, 3, cycle);
    sq_text(st, 4, kind);
    return sq_done(s, st, "training reminder drop");
}
