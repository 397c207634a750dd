/*
 * guard_store.c - the guard's SQLite file (see guard_store.h).
 *
 * WAL with synchronous=FULL: a block or lock the guard reports as done is on
 * disk. Writes are few (alerts, new addresses, one baseline slot per account and
 * hour) and the guard thread groups them into one transaction per batch of
 * events. Statements are prepared once and kept; the alert listing, whose WHERE
 * clause depends on the filter, is built from fixed fragments with every value
 * bound, never pasted.
 */
#include "store/guard_store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dbloc.h"
#include "core/file.h"
#include "store/guard_store_pg.h"
#include "store/sqlite_int.h"

enum {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_SANC_PUT,
    Q_SANC_DEL,
    Q_SANC_EXPIRE,
    Q_SANC_ALL,
    Q_ALERT_FIND,
    Q_ALERT_INSERT,
    Q_ALERT_BUMP,
    Q_ALERT_GET,
    Q_ALERT_STATUS,
    Q_VIOL_ADD,
    Q_VIOL_USER,
    Q_VIOL_ALL,
    Q_KNOWN_LIST,
    Q_KNOWN_HAS,
    Q_KNOWN_SINCE,
    Q_KNOWN_ADD,
    Q_BASE_USER_GET,
    Q_BASE_SLOTS,
    Q_BASE_USER_PUT,
    Q_BASE_PUT,
    Q_PURGE_VIOL,
    Q_PURGE_ALERTS,
    Q_PURGE_KNOWN,
    Q__COUNT
};

#define ALERT_SELECT                                                                               \
    "SELECT id, rule, detector, severity, status, subject, account, address, department, "         \
    "routes, count, first_us, last_us, evidence, detail, responses, ack_by, ack_us, closed_by, "   \
    "closed_us, close_reason FROM alerts"

static const char *const SQL[Q__COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_SANC_PUT] = "INSERT INTO sanctions(kind, subject, until_us, rule, by, created_us) "
                   "VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(kind, subject) DO UPDATE SET "
                   "until_us=excluded.until_us, rule=excluded.rule, by=excluded.by, "
                   "created_us=excluded.created_us",
    [Q_SANC_DEL] = "DELETE FROM sanctions WHERE kind=?1 AND subject=?2",
    [Q_SANC_EXPIRE] = "DELETE FROM sanctions WHERE until_us<=?1",
    [Q_SANC_ALL] = "SELECT kind, subject, until_us, rule, by, created_us FROM sanctions "
                   "ORDER BY created_us, kind, subject",
    [Q_ALERT_FIND] = "SELECT id FROM alerts WHERE rule=?1 AND subject=?2 AND status<>'closed' "
                     "AND last_us>=?3 ORDER BY id DESC LIMIT 1",
    [Q_ALERT_INSERT] = "INSERT INTO alerts(rule, detector, severity, status, subject, account, "
                       "address, department, routes, count, first_us, last_us, evidence, "
                       "detail, responses) VALUES(?1,?2,?3,'open',?4,?5,?6,?7,?8,?9,?10,?11,?12,"
                       "?13,?14)",
    [Q_ALERT_BUMP] = "UPDATE alerts SET count=count+?2, last_us=max(last_us, ?3), evidence=?4, "
                     "responses=?5 WHERE id=?1",
    [Q_ALERT_GET] = ALERT_SELECT " WHERE id=?1",
    [Q_ALERT_STATUS] = "UPDATE alerts SET status=?2, "
                       "ack_by=CASE WHEN ?2='acknowledged' THEN ?3 ELSE ack_by END, "
                       "ack_us=CASE WHEN ?2='acknowledged' THEN ?5 ELSE ack_us END, "
                       "closed_by=CASE WHEN ?2='closed' THEN ?3 ELSE closed_by END, "
                       "closed_us=CASE WHEN ?2='closed' THEN ?5 ELSE closed_us END, "
                       "close_reason=CASE WHEN ?2='closed' THEN ?4 ELSE close_reason END "
                       "WHERE id=?1",
    /* One row per person, kind, rule and window (and, for a denial, what was denied): a rule
     * that matches every read of a busy afternoon counts them on one row. */
    [Q_VIOL_ADD] = "INSERT INTO violations(username, time_us, kind, rule, detail, evidence, alert,"
                   " count, first_us, win, dkey) VALUES(?1,?2,?3,?4,?5,?6,?7,1,?2,?8,?9) "
                   "ON CONFLICT(username, kind, rule, dkey, win) DO UPDATE SET count=count+1, "
                   "time_us=max(time_us, excluded.time_us), "
                   "first_us=min(first_us, excluded.first_us), detail=excluded.detail, "
                   "evidence=CASE WHEN excluded.evidence>=0 THEN excluded.evidence ELSE evidence "
                   "END, alert=CASE WHEN excluded.alert>0 THEN excluded.alert ELSE alert END",
    [Q_VIOL_USER] = "SELECT id, username, time_us, kind, rule, detail, evidence, alert, count, "
                    "first_us FROM violations WHERE username=?1 AND time_us>=?2 ORDER BY time_us "
                    "DESC, id DESC LIMIT ?3",
    [Q_VIOL_ALL] = "SELECT id, username, time_us, kind, rule, detail, evidence, alert, count, "
                   "first_us FROM violations WHERE time_us>=?2 ORDER BY time_us DESC, id DESC "
                   "LIMIT ?3",
    [Q_KNOWN_LIST] = "SELECT address FROM known_addresses WHERE username=?1 ORDER BY first_us "
                     "DESC LIMIT ?2",
    [Q_KNOWN_HAS] = "SELECT 1 FROM known_addresses WHERE username=?1 AND address=?2",
    [Q_KNOWN_SINCE] = "SELECT MIN(first_us), COUNT(*) FILTER (WHERE username<>?2) FROM "
                      "known_addresses WHERE address=?1",
    [Q_KNOWN_ADD] = "INSERT OR IGNORE INTO known_addresses(username, address, first_us) "
                    "VALUES(?1,?2,?3)",
    [Q_BASE_USER_GET] = "SELECT first_us FROM baseline_users WHERE username=?1",
    [Q_BASE_SLOTS] = "SELECT slot, mean, var, n FROM baselines WHERE username=?1",
    [Q_BASE_USER_PUT] = "INSERT OR IGNORE INTO baseline_users(username, first_us) VALUES(?1,?2)",
    [Q_BASE_PUT] = "INSERT INTO baselines(username, slot, mean, var, n) VALUES(?1,?2,?3,?4,?5) "
                   "ON CONFLICT(username, slot) DO UPDATE SET mean=excluded.mean, "
                   "var=excluded.var, n=excluded.n",
    [Q_PURGE_VIOL] = "DELETE FROM violations WHERE time_us<?1",
    [Q_PURGE_ALERTS] = "DELETE FROM alerts WHERE status='closed' AND closed_us<?1",
    /* An account's addresses beyond the newest ?1: the oldest first-seen leave. */
    [Q_PURGE_KNOWN] = "DELETE FROM known_addresses WHERE (username, address) IN (SELECT username,"
                      " address FROM (SELECT username, address, row_number() OVER (PARTITION BY "
                      "username ORDER BY first_us DESC, address) AS rn FROM known_addresses) "
                      "WHERE rn>?1)",
};

/* A guard.db from before violations were counted: its rows keep their own window (NULL). */
static const char *const VIOLATION_COLUMNS[] = {
    "ALTER TABLE violations ADD COLUMN count INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE violations ADD COLUMN first_us INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE violations ADD COLUMN win INTEGER",
    "ALTER TABLE violations ADD COLUMN dkey TEXT NOT NULL DEFAULT ''",
};
static const char *VIOLATION_INDEX =
    "CREATE UNIQUE INDEX IF NOT EXISTS violations_window ON violations(username, kind, rule, dkey,"
    " win)";

static const char *SCHEMA =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('guard_schema', '1');"
    "CREATE TABLE IF NOT EXISTS sanctions(kind TEXT NOT NULL, subject TEXT NOT NULL,"
    " until_us INTEGER NOT NULL, rule TEXT NOT NULL, by TEXT NOT NULL, created_us INTEGER NOT "
    "NULL, PRIMARY KEY(kind, subject)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS alerts(id INTEGER PRIMARY KEY AUTOINCREMENT, rule TEXT NOT NULL,"
    " detector TEXT NOT NULL, severity INTEGER NOT NULL, status TEXT NOT NULL, subject TEXT NOT "
    "NULL, account TEXT NOT NULL, address TEXT NOT NULL, department TEXT NOT NULL, routes "
    "INTEGER NOT NULL, count INTEGER NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT "
    "NULL, evidence TEXT NOT NULL, detail TEXT NOT NULL, responses TEXT NOT NULL, ack_by TEXT,"
    " ack_us INTEGER, closed_by TEXT, closed_us INTEGER, close_reason TEXT);"
    "CREATE INDEX IF NOT EXISTS alerts_subject ON alerts(rule, subject, id);"
    "CREATE INDEX IF NOT EXISTS alerts_account ON alerts(account, id);"
    "CREATE INDEX IF NOT EXISTS alerts_status ON alerts(status, id);"
    "CREATE TABLE IF NOT EXISTS violations(id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT "
    "NOT NULL, time_us INTEGER NOT NULL, kind TEXT NOT NULL, rule TEXT NOT NULL, detail TEXT NOT "
    "NULL, evidence INTEGER NOT NULL, alert INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 1, "
    "first_us INTEGER NOT NULL DEFAULT 0, win INTEGER, dkey TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS violations_user ON violations(username, time_us);"
    "CREATE INDEX IF NOT EXISTS violations_time ON violations(time_us);"
    "CREATE TABLE IF NOT EXISTS known_addresses(username TEXT NOT NULL, address TEXT NOT NULL,"
    " first_us INTEGER NOT NULL, PRIMARY KEY(username, address)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS baseline_users(username TEXT PRIMARY KEY, first_us INTEGER NOT "
    "NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS baselines(username TEXT NOT NULL, slot INTEGER NOT NULL, mean "
    "REAL NOT NULL, var REAL NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(username, slot)) WITHOUT "
    "ROWID;";

struct guard_store {
    gpg *pg; /* set: the tables are on PostgreSQL (guard_store_pg.c), db is unused */
    sqlite3 *db;
    sqlite3_stmt *st[Q__COUNT];
    bool batch, in_txn;
    bool failed; /* a statement failed since the batch began */
};

static bool writes(int id)
{
    switch (id) {
    case Q_SANC_PUT:
    case Q_SANC_DEL:
    case Q_SANC_EXPIRE:
    case Q_ALERT_INSERT:
    case Q_ALERT_BUMP:
    case Q_ALERT_STATUS:
    case Q_VIOL_ADD:
    case Q_KNOWN_ADD:
    case Q_BASE_USER_PUT:
    case Q_BASE_PUT:
    case Q_PURGE_VIOL:
    case Q_PURGE_ALERTS:
    case Q_PURGE_KNOWN:
        return true;
    default:
        return false;
    }
}

static err prepared(guard_store *s, int id, sqlite3_stmt **out);
static err done(guard_store *s, sqlite3_stmt *st, const char *what);

static err db_fail(guard_store *s, const char *what)
{
    s->failed = true;
    return err_set(ERR_IO, __FILE__, __LINE__, "guard store: %s failed (%s)", what,
                   s->db ? sqlite3_errmsg(s->db) : "no database");
}

static err exec(guard_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err e = err_set(ERR_IO, __FILE__, __LINE__, "guard store: %s", msg ? msg : "exec failed");
        sqlite3_free(msg);
        return e;
    }
    return ERR_OK;
}

/* The prepared statement id, reset; inside a batch, a write first opens the transaction. */
static err stmt(guard_store *s, int id, sqlite3_stmt **out)
{
    if (s->batch && !s->in_txn && writes(id)) {
        sqlite3_stmt *b;
        TRY(prepared(s, Q_BEGIN, &b));
        TRY(done(s, b, "begin"));
        s->in_txn = true;
    }
    return prepared(s, id, out);
}

static err prepared(guard_store *s, int id, sqlite3_stmt **out)
{
    if (!s->st[id] && sqlite3_prepare_v3(s->db, SQL[id], -1, SQLITE_PREPARE_PERSISTENT, &s->st[id],
                                         NULL) != SQLITE_OK) {
        return db_fail(s, "prepare");
    }
    sqlite3_reset(s->st[id]);
    sqlite3_clear_bindings(s->st[id]);
    *out = s->st[id];
    return ERR_OK;
}

static err done(guard_store *s, sqlite3_stmt *st, const char *what)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE && r != SQLITE_ROW) {
        return db_fail(s, what);
    }
    return ERR_OK;
}

static void text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

/* A file with tables but no guard schema mark is someone else's (custos.db, audit.db): the
 * guard must not add its tables to it. */
static err refuse_foreign(guard_store *s)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT (SELECT count(*) FROM sqlite_master),"
                           " (SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                           "name='meta')",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_fail(s, "open");
    }
    bool has_tables = false, has_meta = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        has_tables = sqlite3_column_int(st, 0) > 0;
        has_meta = sqlite3_column_int(st, 1) > 0;
    }
    sqlite3_finalize(st);
    if (!has_tables) {
        return ERR_OK;
    }
    bool ours = false;
    if (has_meta && sqlite3_prepare_v2(s->db, "SELECT 1 FROM meta WHERE key='guard_schema'", -1,
                                       &st, NULL) == SQLITE_OK) {
        ours = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    ENSURE(ours, ERR_IO, "guard store: the file is not the guard's database");
    return ERR_OK;
}

static bool has_column(guard_store *s, const char *table, const char *column)
{
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM pragma_table_info(?1) WHERE name=?2", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return yes;
}

static err violations_migrate(guard_store *s)
{
    static const char *const cols[] = {"count", "first_us", "win", "dkey"};
    for (size_t i = 0; i < 4; i++) {
        if (!has_column(s, "violations", cols[i])) {
            TRY(exec(s, VIOLATION_COLUMNS[i]));
        }
    }
    return exec(s, VIOLATION_INDEX);
}

err guard_store_open(const char *path, guard_store **out)
{
    *out = NULL;
    guard_store *s = calloc(1, sizeof *s);
    ENSURE(s != NULL, ERR_INTERNAL, "out of memory");
    if (path && dbloc_is_postgres(path)) {
        err e = gpg_open(path, &s->pg);
        if (e != ERR_OK) {
            free(s);
            return e;
        }
        *out = s;
        return ERR_OK;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (file_create_private(path) != ERR_OK) {
        err e = err_last();
        free(s);
        return e;
    }
    if (sqlite3_open_v2(path ? path : ":memory:", &s->db, flags, NULL) != SQLITE_OK) {
        err e = db_fail(s, "open");
        guard_store_close(s);
        return e;
    }
    sqlite3_busy_timeout(s->db, 5000);
    err rc = exec(s, path ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                            "PRAGMA secure_delete=ON;" SQ_WAL_PRAGMAS
                          : "PRAGMA journal_mode=MEMORY;");
    if (rc == ERR_OK) {
        rc = refuse_foreign(s);
    }
    if (rc == ERR_OK) {
        rc = exec(s, SCHEMA);
    }
    if (rc == ERR_OK) {
        rc = violations_migrate(s);
    }
    if (rc == ERR_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key='guard_schema'", -1, &st,
                               NULL) != SQLITE_OK) {
            rc = db_fail(s, "schema check");
        } else {
            bool ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
                      strcmp((const char *)sqlite3_column_text(st, 0), "1") == 0;
            sqlite3_finalize(st);
            if (!ok) {
                rc = err_set(ERR_IO, __FILE__, __LINE__, "guard store: unknown schema version");
            }
        }
    }
    if (rc != ERR_OK) {
        guard_store_close(s);
        return rc;
    }
    *out = s;
    return ERR_OK;
}

void guard_store_close(guard_store *s)
{
    if (!s) {
        return;
    }
    if (s->pg) {
        gpg_close(s->pg);
        free(s);
        return;
    }
    for (int i = 0; i < Q__COUNT; i++) {
        sqlite3_finalize(s->st[i]);
    }
    if (s->db) {
        sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    }
    sqlite3_close_v2(s->db);
    free(s);
}

void guard_store_batch_begin(guard_store *s)
{
    if (s->pg) {
        gpg_batch_begin(s->pg);
        return;
    }
    s->batch = true;
    s->in_txn = false;
    s->failed = false;
}

err guard_store_batch_end(guard_store *s)
{
    if (s->pg) {
        return gpg_batch_end(s->pg);
    }
    s->batch = false;
    if (!s->in_txn) {
        ENSURE(!s->failed, ERR_IO, "guard store: a write of this batch failed");
        return ERR_OK;
    }
    s->in_txn = false;
    sqlite3_stmt *st;
    err rc = prepared(s, Q_COMMIT, &st);
    if (rc == ERR_OK) {
        rc = done(s, st, "commit");
    }
    if (rc != ERR_OK && sqlite3_get_autocommit(s->db) == 0 &&
        prepared(s, Q_ROLLBACK, &st) == ERR_OK) {
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    if (rc == ERR_OK && s->failed) {
        rc = err_set(ERR_IO, __FILE__, __LINE__, "guard store: a write of this batch failed");
    }
    return rc;
}

/* ---- sanctions ---- */

err guard_store_sanction_put(guard_store *s, const gs_sanction *x)
{
    if (s->pg) {
        return gpg_sanction_put(s->pg, x);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_SANC_PUT, &st));
    text(st, 1, x->kind);
    text(st, 2, x->subject);
    sqlite3_bind_int64(st, 3, x->until_us);
    text(st, 4, x->rule);
    text(st, 5, x->by);
    sqlite3_bind_int64(st, 6, x->created_us);
    return done(s, st, "sanction");
}

err guard_store_sanction_delete(guard_store *s, const char *kind, const char *subject,
                                bool *removed)
{
    if (s->pg) {
        return gpg_sanction_delete(s->pg, kind, subject, removed);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_SANC_DEL, &st));
    text(st, 1, kind);
    text(st, 2, subject);
    TRY(done(s, st, "sanction delete"));
    if (removed) {
        *removed = sqlite3_changes(s->db) > 0;
    }
    return ERR_OK;
}

err guard_store_sanction_expire(guard_store *s, int64_t now_us)
{
    if (s->pg) {
        return gpg_sanction_expire(s->pg, now_us);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_SANC_EXPIRE, &st));
    sqlite3_bind_int64(st, 1, now_us);
    return done(s, st, "sanction expiry");
}

err guard_store_sanctions(guard_store *s, gs_sanction_fn fn, void *ctx)
{
    if (s->pg) {
        return gpg_sanctions(s->pg, fn, ctx);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_SANC_ALL, &st));
    int r;
    err rc = ERR_OK;
    while (rc == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        gs_sanction x;
        memset(&x, 0, sizeof x);
        sq_col_text(st, 0, x.kind, sizeof x.kind);
        sq_col_text(st, 1, x.subject, sizeof x.subject);
        x.until_us = sqlite3_column_int64(st, 2);
        sq_col_text(st, 3, x.rule, sizeof x.rule);
        sq_col_text(st, 4, x.by, sizeof x.by);
        x.created_us = sqlite3_column_int64(st, 5);
        rc = fn(ctx, &x);
    }
    if (rc == ERR_OK && r != SQLITE_DONE) {
        rc = db_fail(s, "sanctions");
    }
    sqlite3_reset(st);
    return rc;
}

/* ---- alerts ---- */

static void read_alert(sqlite3_stmt *st, gs_alert *a)
{
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(st, 0);
    sq_col_text(st, 1, a->rule, sizeof a->rule);
    sq_col_text(st, 2, a->detector, sizeof a->detector);
    a->severity = sqlite3_column_int(st, 3);
    sq_col_text(st, 4, a->status, sizeof a->status);
    sq_col_text(st, 5, a->subject, sizeof a->subject);
    sq_col_text(st, 6, a->account, sizeof a->account);
    sq_col_text(st, 7, a->address, sizeof a->address);
    sq_col_text(st, 8, a->department, sizeof a->department);
    a->routes = (unsigned)sqlite3_column_int(st, 9);
    a->count = sqlite3_column_int64(st, 10);
    a->first_us = sqlite3_column_int64(st, 11);
    a->last_us = sqlite3_column_int64(st, 12);
    sq_col_text(st, 13, a->evidence, sizeof a->evidence);
    sq_col_text(st, 14, a->detail, sizeof a->detail);
    sq_col_text(st, 15, a->responses, sizeof a->responses);
    sq_col_text(st, 16, a->ack_by, sizeof a->ack_by);
    a->ack_us = sqlite3_column_int64(st, 17);
    sq_col_text(st, 18, a->closed_by, sizeof a->closed_by);
    a->closed_us = sqlite3_column_int64(st, 19);
    sq_col_text(st, 20, a->close_reason, sizeof a->close_reason);
}

err guard_store_alert_get(guard_store *s, int64_t id, gs_alert *out)
{
    if (s->pg) {
        return gpg_alert_get(s->pg, id, out);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_ALERT_GET, &st));
    sqlite3_bind_int64(st, 1, id);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        read_alert(st, out);
        sqlite3_reset(st);
        return ERR_OK;
    }
    sqlite3_reset(st);
    if (r == SQLITE_DONE) {
        BAIL(ERR_NOT_FOUND, "no such alert");
    }
    return db_fail(s, "alert");
}

err guard_store_alert_find_open(guard_store *s, const char *rule, const char *subject,
                                int64_t since_us, gs_alert *out)
{
    if (s->pg) {
        return gpg_alert_find_open(s->pg, rule, subject, since_us, out);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_ALERT_FIND, &st));
    text(st, 1, rule);
    text(st, 2, subject);
    sqlite3_bind_int64(st, 3, since_us);
    int r = sqlite3_step(st);
    int64_t id = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (r == SQLITE_DONE) {
        BAIL(ERR_NOT_FOUND, "no open alert");
    }
    if (r != SQLITE_ROW) {
        return db_fail(s, "alert lookup");
    }
    return guard_store_alert_get(s, id, out);
}

err guard_store_alert_insert(guard_store *s, gs_alert *a)
{
    if (s->pg) {
        return gpg_alert_insert(s->pg, a);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_ALERT_INSERT, &st));
    text(st, 1, a->rule);
    text(st, 2, a->detector);
    sqlite3_bind_int(st, 3, a->severity);
    text(st, 4, a->subject);
    text(st, 5, a->account);
    text(st, 6, a->address);
    text(st, 7, a->department);
    sqlite3_bind_int(st, 8, (int)a->routes);
    sqlite3_bind_int64(st, 9, a->count);
    sqlite3_bind_int64(st, 10, a->first_us);
    sqlite3_bind_int64(st, 11, a->last_us);
    text(st, 12, a->evidence);
    text(st, 13, a->detail);
    text(st, 14, a->responses);
    TRY(done(s, st, "alert insert"));
    a->id = sqlite3_last_insert_rowid(s->db);
    snprintf(a->status, sizeof a->status, "open");
    return ERR_OK;
}

err guard_store_alert_bump(guard_store *s, int64_t id, int64_t last_us, int64_t add,
                           const char *evidence, const char *responses)
{
    if (s->pg) {
        return gpg_alert_bump(s->pg, id, last_us, add, evidence, responses);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_ALERT_BUMP, &st));
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, add);
    sqlite3_bind_int64(st, 3, last_us);
    text(st, 4, evidence);
    text(st, 5, responses);
    return done(s, st, "alert update");
}

err guard_store_alert_status(guard_store *s, int64_t id, const char *status, const char *by,
                             const char *reason, int64_t at_us)
{
    if (s->pg) {
        return gpg_alert_status(s->pg, id, status, by, reason, at_us);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_ALERT_STATUS, &st));
    sqlite3_bind_int64(st, 1, id);
    text(st, 2, status);
    text(st, 3, by);
    text(st, 4, reason);
    sqlite3_bind_int64(st, 5, at_us);
    TRY(done(s, st, "alert status"));
    ENSURE(sqlite3_changes(s->db) == 1, ERR_NOT_FOUND, "no such alert");
    return ERR_OK;
}

err guard_store_alerts(guard_store *s, const gs_alert_query *q, gs_alert_fn fn, void *ctx)
{
    if (s->pg) {
        return gpg_alerts(s->pg, q, fn, ctx);
    }
    char sql[1024];
    int n = snprintf(sql, sizeof sql, "%s WHERE 1", ALERT_SELECT);
    /* fixed fragments only; values are bound by number below */
    if (q->status) {
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND status=?1");
    }
    if (q->rule) {
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND rule=?2");
    }
    if (q->account) {
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND account=?3");
    }
    if (q->min_severity >= 0) {
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND severity>=?4");
    }
    if (q->route) {
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND (routes & ?5)<>0");
    }
    if (q->department) {
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND department=?6");
    }
    if (q->since_us) {
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND last_us>=?7");
    }
    if (q->before_id > 0) {
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND id<?8");
    }
    snprintf(sql + n, sizeof sql - (size_t)n, " ORDER BY id DESC LIMIT ?9");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return db_fail(s, "alert query");
    }
    if (q->status) {
        text(st, 1, q->status);
    }
    if (q->rule) {
        text(st, 2, q->rule);
    }
    if (q->account) {
        text(st, 3, q->account);
    }
    if (q->min_severity >= 0) {
        sqlite3_bind_int(st, 4, q->min_severity);
    }
    if (q->route) {
        sqlite3_bind_int(st, 5, (int)q->route);
    }
    if (q->department) {
        text(st, 6, q->department);
    }
    if (q->since_us) {
        sqlite3_bind_int64(st, 7, q->since_us);
    }
    if (q->before_id > 0) {
        sqlite3_bind_int64(st, 8, q->before_id);
    }
    sqlite3_bind_int64(st, 9, (sqlite3_int64)q->limit);
    gs_alert *a = malloc(sizeof *a);
    err rc = a ? ERR_OK : err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
    int r = SQLITE_DONE;
    while (rc == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        read_alert(st, a);
        rc = fn(ctx, a);
    }
    if (rc == ERR_OK && r != SQLITE_DONE) {
        rc = db_fail(s, "alert query");
    }
    free(a);
    sqlite3_finalize(st);
    return rc;
}

/* ---- violations ---- */

err guard_store_violation_add(guard_store *s, const gs_violation *v)
{
    if (s->pg) {
        return gpg_violation_add(s->pg, v);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_VIOL_ADD, &st));
    text(st, 1, v->username);
    sqlite3_bind_int64(st, 2, v->time_us);
    text(st, 3, v->kind);
    text(st, 4, v->rule);
    text(st, 5, v->detail);
    sqlite3_bind_int64(st, 6, v->evidence);
    sqlite3_bind_int64(st, 7, v->alert);
    sqlite3_bind_int64(st, 8, v->time_us / GS_VIOLATION_WINDOW_US);
    /* Denials of different things stay apart (a short, fixed set: actions and categories);
     * findings of one rule share their row whatever their detail says. */
    text(st, 9, strcmp(v->kind, "denied") == 0 ? v->detail : "");
    return done(s, st, "violation");
}

err guard_store_violations(guard_store *s, const char *username, int64_t since_us, size_t limit,
                           gs_violation_fn fn, void *ctx)
{
    if (s->pg) {
        return gpg_violations(s->pg, username, since_us, limit, fn, ctx);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, username ? Q_VIOL_USER : Q_VIOL_ALL, &st));
    if (username) {
        text(st, 1, username);
    }
    sqlite3_bind_int64(st, 2, since_us);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    int r;
    err rc = ERR_OK;
    while (rc == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        gs_violation v;
        memset(&v, 0, sizeof v);
        v.id = sqlite3_column_int64(st, 0);
        sq_col_text(st, 1, v.username, sizeof v.username);
        v.time_us = sqlite3_column_int64(st, 2);
        sq_col_text(st, 3, v.kind, sizeof v.kind);
        sq_col_text(st, 4, v.rule, sizeof v.rule);
        sq_col_text(st, 5, v.detail, sizeof v.detail);
        v.evidence = sqlite3_column_int64(st, 6);
        v.alert = sqlite3_column_int64(st, 7);
        v.count = sqlite3_column_int64(st, 8);
        v.first_us = sqlite3_column_int64(st, 9);
        rc = fn(ctx, &v);
    }
    if (rc == ERR_OK && r != SQLITE_DONE) {
        rc = db_fail(s, "violations");
    }
    sqlite3_reset(st);
    return rc;
}

/* ---- known addresses ---- */

err guard_store_known_list(guard_store *s, const char *username, size_t max, gs_text_fn fn,
                           void *ctx)
{
    if (s->pg) {
        return gpg_known_list(s->pg, username, max, fn, ctx);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_KNOWN_LIST, &st));
    text(st, 1, username);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    int r;
    err rc = ERR_OK;
    while (rc == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        rc = fn(ctx, t ? (const char *)t : "");
    }
    if (rc == ERR_OK && r != SQLITE_DONE) {
        rc = db_fail(s, "known addresses");
    }
    sqlite3_reset(st);
    return rc;
}

err guard_store_known_has(guard_store *s, const char *username, const char *address, bool *has)
{
    if (s->pg) {
        return gpg_known_has(s->pg, username, address, has);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_KNOWN_HAS, &st));
    text(st, 1, username);
    text(st, 2, address);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        return db_fail(s, "known address");
    }
    *has = r == SQLITE_ROW;
    return ERR_OK;
}

err guard_store_known_since(guard_store *s, const char *address, const char *username,
                            int64_t *first_us, int64_t *others)
{
    if (s->pg) {
        return gpg_known_since(s->pg, address, username, first_us, others);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_KNOWN_SINCE, &st));
    text(st, 1, address);
    text(st, 2, username);
    int r = sqlite3_step(st);
    *first_us = r == SQLITE_ROW ? (int64_t)sqlite3_column_int64(st, 0) : 0;
    *others = r == SQLITE_ROW ? (int64_t)sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        return db_fail(s, "known address");
    }
    return ERR_OK;
}

err guard_store_known_add(guard_store *s, const char *username, const char *address,
                          int64_t first_us)
{
    if (s->pg) {
        return gpg_known_add(s->pg, username, address, first_us);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_KNOWN_ADD, &st));
    text(st, 1, username);
    text(st, 2, address);
    sqlite3_bind_int64(st, 3, first_us);
    return done(s, st, "known address");
}

/* ---- baselines ---- */

err guard_store_baseline_load(guard_store *s, const char *username, int64_t *first_us,
                              gs_slot_fn fn, void *ctx)
{
    if (s->pg) {
        return gpg_baseline_load(s->pg, username, first_us, fn, ctx);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_BASE_USER_GET, &st));
    text(st, 1, username);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *first_us = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (r == SQLITE_DONE) {
        BAIL(ERR_NOT_FOUND, "no baseline");
    }
    if (r != SQLITE_ROW) {
        return db_fail(s, "baseline");
    }
    TRY(stmt(s, Q_BASE_SLOTS, &st));
    text(st, 1, username);
    err rc = ERR_OK;
    while (rc == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        rc = fn(ctx, sqlite3_column_int(st, 0), sqlite3_column_double(st, 1),
                sqlite3_column_double(st, 2), sqlite3_column_int64(st, 3));
    }
    if (rc == ERR_OK && r != SQLITE_DONE) {
        rc = db_fail(s, "baseline");
    }
    sqlite3_reset(st);
    return rc;
}

err guard_store_baseline_user(guard_store *s, const char *username, int64_t first_us)
{
    if (s->pg) {
        return gpg_baseline_user(s->pg, username, first_us);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_BASE_USER_PUT, &st));
    text(st, 1, username);
    sqlite3_bind_int64(st, 2, first_us);
    return done(s, st, "baseline");
}

err guard_store_baseline_put(guard_store *s, const char *username, int slot, double mean,
                             double var, int64_t n)
{
    if (s->pg) {
        return gpg_baseline_put(s->pg, username, slot, mean, var, n);
    }
    sqlite3_stmt *st;
    TRY(stmt(s, Q_BASE_PUT, &st));
    text(st, 1, username);
    sqlite3_bind_int(st, 2, slot);
    sqlite3_bind_double(st, 3, mean);
    sqlite3_bind_double(st, 4, var);
    sqlite3_bind_int64(st, 5, n);
    return done(s, st, "baseline");
}

/* ---- retention ---- */

static err purge_one(guard_store *s, int id, int64_t arg, const char *what, int64_t *n)
{
    sqlite3_stmt *st;
    TRY(stmt(s, id, &st));
    sqlite3_bind_int64(st, 1, arg);
    TRY(done(s, st, what));
    *n = sqlite3_changes(s->db);
    return ERR_OK;
}

err guard_store_purge(guard_store *s, const gs_retention *r, int64_t now_us, gs_purged *out)
{
    if (s->pg) {
        return gpg_purge(s->pg, r, now_us, out);
    }
    memset(out, 0, sizeof *out);
    if (r->violations_us > 0) {
        TRY(purge_one(s, Q_PURGE_VIOL, now_us - r->violations_us, "violation purge",
                      &out->violations));
    }
    if (r->closed_alerts_us > 0) {
        TRY(purge_one(s, Q_PURGE_ALERTS, now_us - r->closed_alerts_us, "alert purge",
                      &out->alerts));
    }
    if (r->addresses_per_account > 0) {
        TRY(purge_one(s, Q_PURGE_KNOWN, r->addresses_per_account, "address purge",
                      &out->addresses));
    }
    return ERR_OK;
}
