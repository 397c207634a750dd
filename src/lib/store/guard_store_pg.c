/*
 * guard_store_pg.c - the guard's tables on PostgreSQL (guard_store.h), for a guard store opened
 * at a "postgres://..." location: guard_store.c hands every call here when it is one. The same
 * statements as the SQLite file's, on tables named guard_* in the location's schema (beside the
 * vault's), so the guards of several instances share their sanctions, alerts, violations,
 * known addresses and baselines. One connection per guard store (the guard serialises its
 * calls); a batch is one transaction, opened by its first write, each write of it fenced by a
 * savepoint so that one failed write leaves the others to commit, as on SQLite.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dbloc.h"
#include "core/mem.h"
#include "store/guard_store_pg.h"

struct gpg {
    PGconn *pg;
    bool batch, in_txn, failed;
};

enum { T_INT8 = 20, T_TEXT = 25, T_FLOAT8 = 701 };

/* Parameters, all as text with their types given. */
typedef struct gargs {
    int n;
    Oid type[16];
    const char *v[16];
    char num[16][32];
} gargs;

static void g_text(gargs *a, const char *s)
{
    a->type[a->n] = T_TEXT;
    a->v[a->n++] = s ? s : "";
}

static void g_i64(gargs *a, int64_t x)
{
    snprintf(a->num[a->n], sizeof a->num[0], "%lld", (long long)x);
    a->type[a->n] = T_INT8;
    a->v[a->n] = a->num[a->n];
    a->n++;
}

static void g_f64(gargs *a, double x)
{
    snprintf(a->num[a->n], sizeof a->num[0], "%.17g", x);
    a->type[a->n] = T_FLOAT8;
    a->v[a->n] = a->num[a->n];
    a->n++;
}

static err fail(gpg *g, const PGresult *r, const char *what)
{
    g->failed = true;
    const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[160];
    snprintf(msg, sizeof msg, "%s", m ? m : PQerrorMessage(g->pg));
    msg[strcspn(msg, "\n")] = '\0';
    return err_set(ERR_IO, __FILE__, __LINE__, "guard store: %s failed (%s)", what, msg);
}

static err simple(gpg *g, const char *sql, const char *what)
{
    PGresult *r = PQexec(g->pg, sql);
    ExecStatusType st = PQresultStatus(r);
    err e = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? ERR_OK : fail(g, r, what);
    PQclear(r);
    return e;
}

/* Runs sql; a write inside a batch opens its transaction first and runs in a savepoint. *out
 * (may be NULL) receives the rows, *changed (may be NULL) the rows changed. */
static err run(gpg *g, bool write, const char *sql, const gargs *a, PGresult **out,
               int64_t *changed, const char *what)
{
    if (write && g->batch && !g->in_txn) {
        TRY(simple(g, "BEGIN", "begin"));
        g->in_txn = true;
    }
    bool fence = write && g->in_txn;
    if (fence) {
        TRY(simple(g, "SAVEPOINT g", "savepoint"));
    }
    static const gargs none = {0};
    a = a ? a : &none;
    PGresult *r = PQexecParams(g->pg, sql, a->n, a->type, a->v, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        err e = fail(g, r, what);
        PQclear(r);
        if (fence) {
            PQclear(PQexec(g->pg, "ROLLBACK TO SAVEPOINT g; RELEASE SAVEPOINT g"));
        }
        return e;
    }
    if (fence) {
        err e = simple(g, "RELEASE SAVEPOINT g", "release");
        if (e != ERR_OK) {
            PQclear(r);
            return e;
        }
    }
    if (changed) {
        const char *t = PQcmdTuples(r);
        *changed = t && *t ? strtoll(t, NULL, 10) : 0;
    }
    if (out) {
        *out = r;
    } else {
        PQclear(r);
    }
    return ERR_OK;
}

static int64_t c_i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static double c_f64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtod(PQgetvalue(r, row, col), NULL);
}

static void c_text(const PGresult *r, int row, int col, char *out, size_t max)
{
    snprintf(out, max, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* ---- schema ---- */

#define T "text COLLATE \"C\" NOT NULL"
static const char SCHEMA[] =
    "CREATE TABLE guard_meta(key text PRIMARY KEY, value text NOT NULL);"
    "INSERT INTO guard_meta VALUES('guard_schema', '1');"
    "CREATE TABLE guard_sanctions(kind " T ", subject " T ", until_us int8 NOT NULL, rule " T
    ", by_ " T ", created_us int8 NOT NULL, PRIMARY KEY(kind, subject));"
    "CREATE TABLE guard_alerts(id bigserial PRIMARY KEY, rule " T ", detector " T
    ", severity int8 NOT NULL, status " T ", subject " T ", account " T ", address " T
    ", department " T ", routes int8 NOT NULL, count int8 NOT NULL, first_us int8 NOT NULL, "
    "last_us int8 NOT NULL, evidence text NOT NULL, detail text NOT NULL, responses text NOT "
    "NULL, ack_by text, ack_us int8, closed_by text, closed_us int8, close_reason text);"
    "CREATE INDEX guard_alerts_subject ON guard_alerts(rule, subject, id);"
    "CREATE INDEX guard_alerts_account ON guard_alerts(account, id);"
    "CREATE INDEX guard_alerts_status ON guard_alerts(status, id);"
    "CREATE TABLE guard_violations(id bigserial PRIMARY KEY, username " T
    ", time_us int8 NOT NULL, kind " T ", rule " T ", detail text NOT NULL, evidence int8 NOT "
    "NULL, alert int8 NOT NULL, count int8 NOT NULL DEFAULT 1, first_us int8 NOT NULL DEFAULT 0, "
    "win int8, dkey " T " DEFAULT '');"
    "CREATE UNIQUE INDEX guard_violations_window ON guard_violations(username, kind, rule, dkey, "
    "win);"
    "CREATE INDEX guard_violations_user ON guard_violations(username, time_us);"
    "CREATE INDEX guard_violations_time ON guard_violations(time_us);"
    "CREATE TABLE guard_known_addresses(username " T ", address " T
    ", first_us int8 NOT NULL, PRIMARY KEY(username, address));"
    "CREATE TABLE guard_baseline_users(username " T " PRIMARY KEY, first_us int8 NOT NULL);"
    "CREATE TABLE guard_baselines(username " T ", slot int8 NOT NULL, mean float8 NOT NULL, var "
    "float8 NOT NULL, n int8 NOT NULL, PRIMARY KEY(username, slot));";

err gpg_open(const char *location, gpg **out)
{
    gpg *g = calloc(1, sizeof *g);
    ENSURE(g != NULL, ERR_INTERNAL, "out of memory");
    char schema[DBLOC_SCHEMA_MAX + 1], *uri = NULL, *pw = NULL;
    err rc = ERR_OK;
    GUARD(dbloc_split(location, schema, &uri));
    GUARD(dbloc_password(&pw));
    char opt[128];
    snprintf(opt, sizeof opt, "-c search_path=\"%s\" -c client_min_messages=warning", schema);
    const char *keys[] = {"dbname", "options", "application_name", pw ? "password" : NULL, NULL};
    const char *vals[] = {uri, opt, "custos-guard", pw, NULL};
    g->pg = PQconnectdbParams(keys, vals, 1);
    CHECK(g->pg != NULL, ERR_INTERNAL, "out of memory");
    if (PQstatus(g->pg) != CONNECTION_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(g->pg));
        msg[strcspn(msg, "\n")] = '\0';
        FAIL(ERR_UNAVAILABLE, "guard store: cannot connect to PostgreSQL (%s)", msg);
    }
    /* The tables, once, under a lock of their own (several instances may start at once). */
    char sql[200];
    snprintf(sql, sizeof sql,
             "BEGIN; CREATE SCHEMA IF NOT EXISTS \"%s\"; SELECT "
             "pg_advisory_xact_lock(1735553636, hashtext(current_schema()))",
             schema);
    GUARD(simple(g, sql, "open"));
    PGresult *r = PQexec(g->pg, "SELECT to_regclass('guard_meta') IS NOT NULL");
    bool have =
        PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!have) {
        GUARD(simple(g, SCHEMA, "create"));
    }
    r = PQexec(g->pg, "SELECT value FROM guard_meta WHERE key='guard_schema'");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
              strcmp(PQgetvalue(r, 0, 0), "1") == 0;
    PQclear(r);
    CHECK(ok, ERR_IO, "guard store: unknown schema version");
    GUARD(simple(g, "COMMIT", "open"));
    g->failed = false;
out:
    if (pw) {
        mem_wipe(pw, strlen(pw));
        free(pw);
    }
    if (uri) {
        mem_wipe(uri, strlen(uri));
        free(uri);
    }
    if (rc != ERR_OK) {
        gpg_close(g);
        return rc;
    }
    *out = g;
    return ERR_OK;
}

void gpg_close(gpg *g)
{
    if (g) {
        if (g->pg) {
            PQfinish(g->pg);
        }
        free(g);
    }
}

void gpg_batch_begin(gpg *g)
{
    g->batch = true;
    g->in_txn = false;
    g->failed = false;
}

err gpg_batch_end(gpg *g)
{
    g->batch = false;
    if (!g->in_txn) {
        ENSURE(!g->failed, ERR_IO, "guard store: a write of this batch failed");
        return ERR_OK;
    }
    g->in_txn = false;
    bool failed = g->failed;
    PGresult *r = PQexec(g->pg, "COMMIT");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
    err rc = ok ? ERR_OK : fail(g, r, "commit");
    PQclear(r);
    if (!ok && PQtransactionStatus(g->pg) != PQTRANS_IDLE) {
        PQclear(PQexec(g->pg, "ROLLBACK"));
    }
    if (PQstatus(g->pg) != CONNECTION_OK) {
        PQreset(g->pg);
    }
    if (rc == ERR_OK && failed) {
        rc = err_set(ERR_IO, __FILE__, __LINE__, "guard store: a write of this batch failed");
    }
    return rc;
}

/* ---- sanctions ---- */

err gpg_sanction_put(gpg *g, const gs_sanction *x)
{
    gargs a = {0};
    g_text(&a, x->kind);
    g_text(&a, x->subject);
    g_i64(&a, x->until_us);
    g_text(&a, x->rule);
    g_text(&a, x->by);
    g_i64(&a, x->created_us);
    return run(g, true,
               "INSERT INTO guard_sanctions(kind, subject, until_us, rule, by_, created_us) "
               "VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT(kind, subject) DO UPDATE SET "
               "until_us=excluded.until_us, rule=excluded.rule, by_=excluded.by_, "
               "created_us=excluded.created_us",
               &a, NULL, NULL, "sanction");
}

err gpg_sanction_delete(gpg *g, const char *kind, const char *subject, bool *removed)
{
    gargs a = {0};
    g_text(&a, kind);
    g_text(&a, subject);
    int64_t n = 0;
    TRY(run(g, true, "DELETE FROM guard_sanctions WHERE kind=$1 AND subject=$2", &a, NULL, &n,
            "sanction delete"));
    if (removed) {
        *removed = n > 0;
    }
    return ERR_OK;
}

err gpg_sanction_expire(gpg *g, int64_t now_us)
{
    gargs a = {0};
    g_i64(&a, now_us);
    return run(g, true, "DELETE FROM guard_sanctions WHERE until_us<=$1", &a, NULL, NULL,
               "sanction expiry");
}

err gpg_sanctions(gpg *g, gs_sanction_fn fn, void *ctx)
{
    PGresult *r;
    TRY(run(g, false,
            "SELECT kind, subject, until_us, rule, by_, created_us FROM guard_sanctions ORDER BY "
            "created_us, kind, subject",
            NULL, &r, NULL, "sanctions"));
    err rc = ERR_OK;
    for (int i = 0; i < PQntuples(r) && rc == ERR_OK; i++) {
        gs_sanction x;
        memset(&x, 0, sizeof x);
        c_text(r, i, 0, x.kind, sizeof x.kind);
        c_text(r, i, 1, x.subject, sizeof x.subject);
        x.until_us = c_i64(r, i, 2);
        c_text(r, i, 3, x.rule, sizeof x.rule);
        c_text(r, i, 4, x.by, sizeof x.by);
        x.created_us = c_i64(r, i, 5);
        rc = fn(ctx, &x);
    }
    PQclear(r);
    return rc;
}

/* ---- alerts ---- */

#define ALERT_SELECT                                                                               \
    "SELECT id, rule, detector, severity, status, subject, account, address, department, "         \
    "routes, count, first_us, last_us, evidence, detail, responses, ack_by, ack_us, closed_by, "   \
    "closed_us, close_reason FROM guard_alerts"

static void read_alert(const PGresult *r, int i, gs_alert *a)
{
    memset(a, 0, sizeof *a);
    a->id = c_i64(r, i, 0);
    c_text(r, i, 1, a->rule, sizeof a->rule);
    c_text(r, i, 2, a->detector, sizeof a->detector);
    a->severity = (int)c_i64(r, i, 3);
    c_text(r, i, 4, a->status, sizeof a->status);
    c_text(r, i, 5, a->subject, sizeof a->subject);
    c_text(r, i, 6, a->account, sizeof a->account);
    c_text(r, i, 7, a->address, sizeof a->address);
    c_text(r, i, 8, a->department, sizeof a->department);
    a->routes = (unsigned)c_i64(r, i, 9);
    a->count = c_i64(r, i, 10);
    a->first_us = c_i64(r, i, 11);
    a->last_us = c_i64(r, i, 12);
    c_text(r, i, 13, a->evidence, sizeof a->evidence);
    c_text(r, i, 14, a->detail, sizeof a->detail);
    c_text(r, i, 15, a->responses, sizeof a->responses);
    c_text(r, i, 16, a->ack_by, sizeof a->ack_by);
    a->ack_us = c_i64(r, i, 17);
    c_text(r, i, 18, a->closed_by, sizeof a->closed_by);
    a->closed_us = c_i64(r, i, 19);
    c_text(r, i, 20, a->close_reason, sizeof a->close_reason);
}

err gpg_alert_get(gpg *g, int64_t id, gs_alert *out)
{
    gargs a = {0};
    g_i64(&a, id);
    PGresult *r;
    TRY(run(g, false, ALERT_SELECT " WHERE id=$1", &a, &r, NULL, "alert"));
    bool one = PQntuples(r) == 1;
    if (one) {
        read_alert(r, 0, out);
    }
    PQclear(r);
    ENSURE(one, ERR_NOT_FOUND, "no such alert");
    return ERR_OK;
}

err gpg_alert_find_open(gpg *g, const char *rule, const char *subject, int64_t since_us,
                        gs_alert *out)
{
    gargs a = {0};
    g_text(&a, rule);
    g_text(&a, subject);
    g_i64(&a, since_us);
    PGresult *r;
    TRY(run(g, false,
            ALERT_SELECT " WHERE rule=$1 AND subject=$2 AND status<>'closed' AND last_us>=$3 "
                         "ORDER BY id DESC LIMIT 1",
            &a, &r, NULL, "alert lookup"));
    bool one = PQntuples(r) == 1;
    if (one) {
        read_alert(r, 0, out);
    }
    PQclear(r);
    ENSURE(one, ERR_NOT_FOUND, "no open alert");
    return ERR_OK;
}

err gpg_alert_insert(gpg *g, gs_alert *x)
{
    gargs a = {0};
    g_text(&a, x->rule);
    g_text(&a, x->detector);
    g_i64(&a, x->severity);
    g_text(&a, x->subject);
    g_text(&a, x->account);
    g_text(&a, x->address);
    g_text(&a, x->department);
    g_i64(&a, x->routes);
    g_i64(&a, x->count);
    g_i64(&a, x->first_us);
    g_i64(&a, x->last_us);
    g_text(&a, x->evidence);
    g_text(&a, x->detail);
    g_text(&a, x->responses);
    PGresult *r;
    TRY(run(g, true,
            "INSERT INTO guard_alerts(rule, detector, severity, status, subject, account, address, "
            "department, routes, count, first_us, last_us, evidence, detail, responses) "
            "VALUES($1,$2,$3,'open',$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) RETURNING id",
            &a, &r, NULL, "alert insert"));
    x->id = PQntuples(r) == 1 ? c_i64(r, 0, 0) : 0;
    PQclear(r);
    snprintf(x->status, sizeof x->status, "open");
    return ERR_OK;
}

err gpg_alert_bump(gpg *g, int64_t id, int64_t last_us, int64_t add, const char *evidence,
                   const char *responses)
{
    gargs a = {0};
    g_i64(&a, id);
    g_i64(&a, add);
    g_i64(&a, last_us);
    g_text(&a, evidence);
    g_text(&a, responses);
    return run(g, true,
               "UPDATE guard_alerts SET count=count+$2, last_us=greatest(last_us, $3), "
               "evidence=$4, responses=$5 WHERE id=$1",
               &a, NULL, NULL, "alert update");
}

err gpg_alert_status(gpg *g, int64_t id, const char *status, const char *by, const char *reason,
                     int64_t at_us)
{
    gargs a = {0};
    g_i64(&a, id);
    g_text(&a, status);
    g_text(&a, by);
    g_text(&a, reason);
    g_i64(&a, at_us);
    int64_t n = 0;
    TRY(run(g, true,
            "UPDATE guard_alerts SET status=$2, "
            "ack_by=CASE WHEN $2='acknowledged' THEN $3 ELSE ack_by END, "
            "ack_us=CASE WHEN $2='acknowledged' THEN $5 ELSE ack_us END, "
            "closed_by=CASE WHEN $2='closed' THEN $3 ELSE closed_by END, "
            "closed_us=CASE WHEN $2='closed' THEN $5 ELSE closed_us END, "
            "close_reason=CASE WHEN $2='closed' THEN $4 ELSE close_reason END WHERE id=$1",
            &a, NULL, &n, "alert status"));
    ENSURE(n == 1, ERR_NOT_FOUND, "no such alert");
    return ERR_OK;
}

err gpg_alerts(gpg *g, const gs_alert_query *q, gs_alert_fn fn, void *ctx)
{
    char sql[1024];
    int n = snprintf(sql, sizeof sql, "%s WHERE true", ALERT_SELECT);
    gargs a = {0};
    /* fixed fragments only; values are parameters, numbered as they come */
    if (q->status) {
        g_text(&a, q->status);
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND status=$%d", a.n);
    }
    if (q->rule) {
        g_text(&a, q->rule);
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND rule=$%d", a.n);
    }
    if (q->account) {
        g_text(&a, q->account);
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND account=$%d", a.n);
    }
    if (q->min_severity >= 0) {
        g_i64(&a, q->min_severity);
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND severity>=$%d", a.n);
    }
    if (q->route) {
        g_i64(&a, q->route);
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND (routes & $%d)<>0", a.n);
    }
    if (q->department) {
        g_text(&a, q->department);
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND department=$%d", a.n);
    }
    if (q->since_us) {
        g_i64(&a, q->since_us);
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND last_us>=$%d", a.n);
    }
    if (q->before_id > 0) {
        g_i64(&a, q->before_id);
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND id<$%d", a.n);
    }
    g_i64(&a, (int64_t)q->limit);
    snprintf(sql + n, sizeof sql - (size_t)n, " ORDER BY id DESC LIMIT $%d", a.n);
    PGresult *r;
    TRY(run(g, false, sql, &a, &r, NULL, "alert query"));
    gs_alert *x = malloc(sizeof *x);
    err rc = x ? ERR_OK : err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
    for (int i = 0; i < PQntuples(r) && rc == ERR_OK; i++) {
        read_alert(r, i, x);
        rc = fn(ctx, x);
    }
    free(x);
    PQclear(r);
    return rc;
}

/* ---- violations ---- */

err gpg_violation_add(gpg *g, const gs_violation *v)
{
    gargs a = {0};
    g_text(&a, v->username);
    g_i64(&a, v->time_us);
    g_text(&a, v->kind);
    g_text(&a, v->rule);
    g_text(&a, v->detail);
    g_i64(&a, v->evidence);
    g_i64(&a, v->alert);
    g_i64(&a, v->time_us / GS_VIOLATION_WINDOW_US);
    g_text(&a, strcmp(v->kind, "denied") == 0 ? v->detail : "");
    return run(g, true,
               "INSERT INTO guard_violations AS o(username, time_us, kind, rule, detail, "
               "evidence, alert, count, first_us, win, dkey) VALUES($1,$2,$3,$4,$5,$6,$7,1,$2,$8,"
               "$9) ON CONFLICT(username, kind, rule, dkey, win) DO UPDATE SET count=o.count+1, "
               "time_us=greatest(o.time_us, excluded.time_us), "
               "first_us=least(o.first_us, excluded.first_us), detail=excluded.detail, "
               "evidence=CASE WHEN excluded.evidence>=0 THEN excluded.evidence ELSE o.evidence "
               "END, alert=CASE WHEN excluded.alert>0 THEN excluded.alert ELSE o.alert END",
               &a, NULL, NULL, "violation");
}

err gpg_violations(gpg *g, const char *username, int64_t since_us, size_t limit, gs_violation_fn fn,
                   void *ctx)
{
    gargs a = {0};
    g_i64(&a, since_us);
    g_i64(&a, (int64_t)limit);
    if (username) {
        g_text(&a, username);
    }
    PGresult *r;
    TRY(run(g, false,
            username ? "SELECT id, username, time_us, kind, rule, detail, evidence, alert, count, "
                       "first_us FROM guard_violations WHERE username=$3 AND time_us>=$1 ORDER BY "
                       "time_us DESC, id DESC LIMIT $2"
                     : "SELECT id, username, time_us, kind, rule, detail, evidence, alert, count, "
                       "first_us FROM guard_violations WHERE time_us>=$1 ORDER BY time_us DESC, "
                       "id DESC LIMIT $2",
            &a, &r, NULL, "violations"));
    err rc = ERR_OK;
    for (int i = 0; i < PQntuples(r) && rc == ERR_OK; i++) {
        gs_violation v;
        memset(&v, 0, sizeof v);
        v.id = c_i64(r, i, 0);
        c_text(r, i, 1, v.username, sizeof v.username);
        v.time_us = c_i64(r, i, 2);
        c_text(r, i, 3, v.kind, sizeof v.kind);
        c_text(r, i, 4, v.rule, sizeof v.rule);
        c_text(r, i, 5, v.detail, sizeof v.detail);
        v.evidence = c_i64(r, i, 6);
        v.alert = c_i64(r, i, 7);
        v.count = c_i64(r, i, 8);
        v.first_us = c_i64(r, i, 9);
        rc = fn(ctx, &v);
    }
    PQclear(r);
    return rc;
}

/* ---- known addresses ---- */

err gpg_known_list(gpg *g, const char *username, size_t max, gs_text_fn fn, void *ctx)
{
    gargs a = {0};
    g_text(&a, username);
    g_i64(&a, (int64_t)max);
    PGresult *r;
    TRY(run(g, false,
            "SELECT address FROM guard_known_addresses WHERE username=$1 ORDER BY first_us DESC "
            "LIMIT $2",
            &a, &r, NULL, "known addresses"));
    err rc = ERR_OK;
    for (int i = 0; i < PQntuples(r) && rc == ERR_OK; i++) {
        rc = fn(ctx, PQgetvalue(r, i, 0));
    }
    PQclear(r);
    return rc;
}

err gpg_known_has(gpg *g, const char *username, const char *address, bool *has)
{
    gargs a = {0};
    g_text(&a, username);
    g_text(&a, address);
    PGresult *r;
    TRY(run(g, false, "SELECT 1 FROM guard_known_addresses WHERE username=$1 AND address=$2", &a,
            &r, NULL, "known address"));
    *has = PQntuples(r) > 0;
    PQclear(r);
    return ERR_OK;
}

err gpg_known_since(gpg *g, const char *address, const char *username, int64_t *first_us,
                    int64_t *others)
{
    gargs a = {0};
    g_text(&a, address);
    g_text(&a, username);
    PGresult *r;
    TRY(run(g, false,
            "SELECT MIN(first_us), COUNT(*) FILTER (WHERE username<>$2) FROM "
            "guard_known_addresses WHERE address=$1",
            &a, &r, NULL, "known address"));
    *first_us =
        PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    *others =
        PQntuples(r) > 0 && !PQgetisnull(r, 0, 1) ? strtoll(PQgetvalue(r, 0, 1), NULL, 10) : 0;
    PQclear(r);
    return ERR_OK;
}

err gpg_known_add(gpg *g, const char *username, const char *address, int64_t first_us)
{
    gargs a = {0};
    g_text(&a, username);
    g_text(&a, address);
    g_i64(&a, first_us);
    return run(g, true,
               "INSERT INTO guard_known_addresses(username, address, first_us) VALUES($1,$2,$3) "
               "ON CONFLICT DO NOTHING",
               &a, NULL, NULL, "known address");
}

/* ---- baselines ---- */

err gpg_baseline_load(gpg *g, const char *username, int64_t *first_us, gs_slot_fn fn, void *ctx)
{
    gargs a = {0};
    g_text(&a, username);
    PGresult *r;
    TRY(run(g, false, "SELECT first_us FROM guard_baseline_users WHERE username=$1", &a, &r, NULL,
            "baseline"));
    bool one = PQntuples(r) == 1;
    if (one) {
        *first_us = c_i64(r, 0, 0);
    }
    PQclear(r);
    ENSURE(one, ERR_NOT_FOUND, "no baseline");
    TRY(run(g, false, "SELECT slot, mean, var, n FROM guard_baselines WHERE username=$1", &a, &r,
            NULL, "baseline"));
    err rc = ERR_OK;
    for (int i = 0; i < PQntuples(r) && rc == ERR_OK; i++) {
        rc = fn(ctx, (int)c_i64(r, i, 0), c_f64(r, i, 1), c_f64(r, i, 2), c_i64(r, i, 3));
    }
    PQclear(r);
    return rc;
}

err gpg_baseline_user(gpg *g, const char *username, int64_t first_us)
{
    gargs a = {0};
    g_text(&a, username);
    g_i64(&a, first_us);
    return run(g, true,
               "INSERT INTO guard_baseline_users(username, first_us) VALUES($1,$2) ON CONFLICT DO "
               "NOTHING",
               &a, NULL, NULL, "baseline");
}

err gpg_baseline_put(gpg *g, const char *username, int slot, double mean, double var, int64_t n)
{
    gargs a = {0};
    g_text(&a, username);
    g_i64(&a, slot);
    g_f64(&a, mean);
    g_f64(&a, var);
    g_i64(&a, n);
    return run(g, true,
               "INSERT INTO guard_baselines(username, slot, mean, var, n) VALUES($1,$2,$3,$4,$5) "
               "ON CONFLICT(username, slot) DO UPDATE SET mean=excluded.mean, var=excluded.var, "
               "n=excluded.n",
               &a, NULL, NULL, "baseline");
}

/* ---- retention ---- */

static err purge_one(gpg *g, const char *sql, int64_t arg, const char *what, int64_t *n)
{
    gargs a = {0};
    g_i64(&a, arg);
    return run(g, true, sql, &a, NULL, n, what);
}

err gpg_purge(gpg *g, const gs_retention *r, int64_t now_us, gs_purged *out)
{
    memset(out, 0, sizeof *out);
    if (r->violations_us > 0) {
        TRY(purge_one(g, "DELETE FROM guard_violations WHERE time_us<$1", now_us - r->violations_us,
                      "violation purge", &out->violations));
    }
    if (r->closed_alerts_us > 0) {
        TRY(purge_one(g, "DELETE FROM guard_alerts WHERE status='closed' AND closed_us<$1",
                      now_us - r->closed_alerts_us, "alert purge", &out->alerts));
    }
    if (r->addresses_per_account > 0) {
        TRY(purge_one(g,
                      "DELETE FROM guard_known_addresses WHERE (username, address) IN (SELECT "
                      "username, address FROM (SELECT username, address, row_number() OVER "
                      "(PARTITION BY username ORDER BY first_us DESC, address) AS rn FROM "
                      "guard_known_addresses) k WHERE rn>$1)",
                      r->addresses_per_account, "address purge", &out->addresses));
    }
    return ERR_OK;
}
