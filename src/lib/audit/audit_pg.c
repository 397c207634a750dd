/*
 * audit_pg.c - the audit log's PostgreSQL backend (audit_backend.h), for a log at a
 * "postgres://..." location (core/dbloc.h; the tables live in its schema= beside the store's).
 *
 * Tables: audit_entries (index, canonical bytes, leaf hash, and the columns queries need),
 * audit_touched (every customer an entry names: data-subject reports), audit_nodes (complete
 * subtree hashes of 2^NODE_MIN_LEVEL leaves or more; smaller ones are hashed from their
 * leaves), audit_checkpoints (every signed note). PostgreSQL's own indexes serve the queries
 * (by actor, by customer, by time); no watermark is needed.
 *
 * The write lock is a transaction-level advisory lock of the log (a key of its own, per schema):
 * begin takes it, commit or rollback lets it go. Every Custos instance writing the log takes
 * the same lock, and the writer reads the log's size under it (audit_writer.c, tree_catch_up),
 * so indexes stay consecutive and totally ordered whoever appends; idx is the primary key. A
 * commit is durable when it returns (synchronous_commit as the server has it: keep it on).
 * One handle is one connection, used by one thread at a time. docs/POSTGRES.md.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_backend.h"
#include "audit/merkle.h"
#include "core/dbloc.h"
#include "core/fault.h"
#include "core/mem.h"

#define NODE_MIN_LEVEL 4
/* Rows read per statement by read_range (the guard's replay reads the whole log). */
#define RANGE_BATCH 2000

#define AUDIT_LOCK "SELECT pg_advisory_xact_lock(1635083369, hashtext(current_schema()))"

struct audit_backend {
    PGconn *pg;
    int mode;
    char msg[160];
};

enum { T_TEXT = 25, T_INT8 = 20, T_BYTEA = 17 };

static void note_err(audit_backend *b, const PGresult *r)
{
    const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!m && b && b->pg) {
        m = PQerrorMessage(b->pg);
    }
    if (b) {
        snprintf(b->msg, sizeof b->msg, "%s", m ? m : "no answer from the database");
        b->msg[strcspn(b->msg, "\n")] = '\0';
    }
}

/* Runs sql with n parameters (types given, so none is left for PostgreSQL to guess); binary
 * results. *out (may be NULL) receives the rows. */
static err q(audit_backend *b, const char *sql, int n, const Oid *types, const char *const *v,
             const int *len, const int *fmt, PGresult **out, const char *what)
{
    PGresult *r = PQexecParams(b->pg, sql, n, types, v, len, fmt, 1);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        note_err(b, r);
        PQclear(r);
        BAIL(ERR_UNAVAILABLE, "audit: %s failed (%s)", what, b->msg);
    }
    if (out) {
        *out = r;
    } else {
        PQclear(r);
    }
    return ERR_OK;
}

/* sql without parameters, several statements allowed (the simple protocol). */
static err simple(audit_backend *b, const char *sql, const char *what)
{
    PGresult *r = PQexec(b->pg, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        note_err(b, r);
    }
    PQclear(r);
    ENSURE(ok, ERR_UNAVAILABLE, "audit: %s failed (%s)", what, b->msg);
    return ERR_OK;
}

static int64_t col_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) {
        return -1;
    }
    const uint8_t *p = (const uint8_t *)PQgetvalue(r, row, col);
    uint64_t v = 0;
    for (int i = 0; i < PQgetlength(r, row, col) && i < 8; i++) {
        v = v << 8 | p[i];
    }
    return (int64_t)v;
}

static void col_leaf(const PGresult *r, int row, int col, uint8_t out[32])
{
    memset(out, 0, 32);
    if (!PQgetisnull(r, row, col) && PQgetlength(r, row, col) == 32) {
        memcpy(out, PQgetvalue(r, row, col), 32);
    }
}

/* ---- connecting ---- */

static err connect_log(const char *location, PGconn **out, char schema[DBLOC_SCHEMA_MAX + 1])
{
    ENSURE(dbloc_is_postgres(location), ERR_IO, "audit: not a PostgreSQL location");
    char *uri = NULL, *pw = NULL;
    TRY(dbloc_split(location, schema, &uri));
    err rc = dbloc_password(&pw);
    if (rc != ERR_OK) {
        free(uri);
        return rc;
    }
    char opt[128];
    snprintf(opt, sizeof opt, "-c search_path=\"%s\" -c client_min_messages=warning", schema);
    const char *keys[] = {"dbname", "options", "application_name", pw ? "password" : NULL, NULL};
    const char *vals[] = {uri, opt, "custos-audit", pw, NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (pw) {
        mem_wipe(pw, strlen(pw));
        free(pw);
    }
    mem_wipe(uri, strlen(uri));
    free(uri);
    ENSURE(pg != NULL, ERR_INTERNAL, "out of memory");
    if (PQstatus(pg) != CONNECTION_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg));
        msg[strcspn(msg, "\n")] = '\0';
        PQfinish(pg);
        BAIL(ERR_UNAVAILABLE, "audit: cannot connect to PostgreSQL (%s)", msg);
    }
    *out = pg;
    return ERR_OK;
}

static const char SCHEMA[] =
    "CREATE TABLE audit_entries(idx int8 PRIMARY KEY, ts int8 NOT NULL, actor text COLLATE \"C\" "
    "NOT NULL, action text COLLATE \"C\" NOT NULL, customer text COLLATE \"C\", decision text "
    "NOT NULL, entry bytea NOT NULL, leaf bytea NOT NULL);"
    "CREATE INDEX audit_entries_actor ON audit_entries(actor, idx);"
    "CREATE INDEX audit_entries_ts ON audit_entries(ts);"
    "CREATE TABLE audit_touched(customer text COLLATE \"C\" NOT NULL, idx int8 NOT NULL, "
    "PRIMARY KEY(customer, idx));"
    "CREATE TABLE audit_nodes(level int8 NOT NULL, idx int8 NOT NULL, hash bytea NOT NULL, "
    "PRIMARY KEY(level, idx));"
    "CREATE TABLE audit_checkpoints(size int8 PRIMARY KEY, root bytea NOT NULL, note text NOT "
    "NULL, at int8 NOT NULL);"
    "CREATE TABLE audit_meta(k text PRIMARY KEY, v text NOT NULL);"
    "INSERT INTO audit_meta VALUES('schema_version', '1');";

static bool have_log(audit_backend *b)
{
    PGresult *r = NULL;
    if (q(b, "SELECT (to_regclass('audit_entries') IS NOT NULL)::int::int8", 0, NULL, NULL, NULL,
          NULL, &r, "schema") != ERR_OK) {
        return false;
    }
    bool yes = PQntuples(r) == 1 && col_i64(r, 0, 0) == 1;
    PQclear(r);
    return yes;
}

static void pgb_close(audit_backend *b)
{
    if (b) {
        if (b->pg) {
            PQfinish(b->pg);
        }
        free(b);
    }
}

static err pgb_create(const char *path)
{
    audit_backend *b = calloc(1, sizeof *b);
    ENSURE(b != NULL, ERR_INTERNAL, "out of memory");
    char schema[DBLOC_SCHEMA_MAX + 1];
    err rc = ERR_OK;
    GUARD(connect_log(path, &b->pg, schema));
    char sql[160];
    snprintf(sql, sizeof sql, "BEGIN; CREATE SCHEMA IF NOT EXISTS \"%s\"; " AUDIT_LOCK, schema);
    GUARD(simple(b, sql, "create"));
    CHECK(!have_log(b), ERR_CONFLICT, "audit: log exists already");
    GUARD(simple(b, SCHEMA, "create"));
    GUARD(simple(b, "COMMIT", "create"));
out:
    if (rc != ERR_OK && b->pg && PQtransactionStatus(b->pg) != PQTRANS_IDLE) {
        IGNORE(simple(b, "ROLLBACK", "rollback"));
    }
    pgb_close(b);
    return rc;
}

static err pgb_open(const char *path, int mode, audit_backend **out)
{
    audit_backend *b = calloc(1, sizeof *b);
    ENSURE(b != NULL, ERR_INTERNAL, "out of memory");
    b->mode = mode;
    char schema[DBLOC_SCHEMA_MAX + 1];
    err rc = connect_log(path, &b->pg, schema);
    if (rc == ERR_OK && !have_log(b)) {
        rc = err_set(ERR_IO, __FILE__, __LINE__, "the database holds no audit log (schema %s)",
                     schema);
    }
    if (rc != ERR_OK) {
        pgb_close(b);
        return rc;
    }
    *out = b;
    return ERR_OK;
}

/* ---- the write lock ---- */

static err pgb_begin(audit_backend *b)
{
    err e = simple(b, "BEGIN; " AUDIT_LOCK, "lock the log");
    if (e != ERR_OK && PQtransactionStatus(b->pg) != PQTRANS_IDLE) {
        IGNORE(simple(b, "ROLLBACK", "rollback"));
    }
    if (e != ERR_OK && PQstatus(b->pg) != CONNECTION_OK) {
        PQreset(b->pg); /* the server came back: the next batch tries on a new session */
    }
    return e;
}

static err pgb_commit(audit_backend *b)
{
    PGresult *r = PQexec(b->pg, "COMMIT");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
    if (!ok) {
        note_err(b, r);
    }
    PQclear(r);
    ENSURE(ok, ERR_UNAVAILABLE, "audit: cannot commit (%s)", b->msg);
    return ERR_OK;
}

static void pgb_rollback(audit_backend *b)
{
    if (PQtransactionStatus(b->pg) != PQTRANS_IDLE) {
        IGNORE(simple(b, "ROLLBACK", "rollback"));
    }
}

static err pgb_tree_size(audit_backend *b, uint64_t *n)
{
    PGresult *r;
    TRY(q(b, "SELECT coalesce(max(idx) + 1, 0) FROM audit_entries", 0, NULL, NULL, NULL, NULL, &r,
          "size"));
    int64_t v = PQntuples(r) == 1 ? col_i64(r, 0, 0) : -1;
    PQclear(r);
    ENSURE(v >= 0, ERR_UNAVAILABLE, "audit: cannot read the log's size");
    *n = (uint64_t)v;
    return ERR_OK;
}

/* ---- appending: one statement per batch (arrays unnested) ---- */

static err arr_text(buf *a, const char *s, bool first)
{
    TRY(buf_append_str(a, first ? "" : ","));
    if (!s) {
        return buf_append_str(a, "NULL");
    }
    TRY(buf_append_byte(a, '"'));
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            TRY(buf_append_byte(a, '\\'));
        }
        TRY(buf_append_byte(a, (uint8_t)*s));
    }
    return buf_append_byte(a, '"');
}

static err arr_bytes(buf *a, const uint8_t *p, size_t n, bool first)
{
    static const char hex[] = "0123456789abcdef";
    TRY(buf_append_str(a, first ? "\"\\\\x" : ",\"\\\\x"));
    for (size_t i = 0; i < n; i++) {
        TRY(buf_append_byte(a, (uint8_t)hex[p[i] >> 4]));
        TRY(buf_append_byte(a, (uint8_t)hex[p[i] & 15]));
    }
    return buf_append_byte(a, '"');
}

static err pgb_append(audit_backend *b, const audit_row *rows, size_t n)
{
    ENSURE(b->mode == AUDIT_BE_WRITE, ERR_INTERNAL, "audit: the log is open read-only");
    if (n == 0) {
        return ERR_OK;
    }
    enum { C_IDX, C_TS, C_ACTOR, C_ACTION, C_CUST, C_DEC, C_ENTRY, C_LEAF, C_TIDX, C_TCUST, C_N };
    buf a[C_N];
    for (int i = 0; i < C_N; i++) {
        buf_init(&a[i], 0);
    }
    err rc = ERR_OK;
    CHECK(!fault_hit(FAULT_AUDIT_ALLOC), ERR_INTERNAL, "audit: out of memory");
    for (int i = 0; i < C_N; i++) {
        GUARD(buf_append_byte(&a[i], '{'));
    }
    size_t touches = 0;
    for (size_t i = 0; i < n; i++) {
        const audit_row *e = &rows[i];
        bool first = i == 0;
        GUARD(buf_appendf(&a[C_IDX], "%s%llu", first ? "" : ",", (unsigned long long)e->index));
        GUARD(buf_appendf(&a[C_TS], "%s%lld", first ? "" : ",", (long long)e->ts_us));
        GUARD(arr_text(&a[C_ACTOR], e->actor ? e->actor : "-", first));
        GUARD(arr_text(&a[C_ACTION], e->action ? e->action : "-", first));
        GUARD(arr_text(&a[C_CUST], e->customer, first));
        GUARD(arr_text(&a[C_DEC], e->decision ? e->decision : "deny", first));
        GUARD(arr_bytes(&a[C_ENTRY], e->entry.p, e->entry.len, first));
        GUARD(arr_bytes(&a[C_LEAF], e->leaf, 32, first));
        /* Every customer the entry names: its column and its list (an export). */
        const char *p = e->customer;
        for (int pass = 0; pass < 2; pass++, p = e->customers) {
            while (p && *p) {
                size_t len = strcspn(p, ",");
                char id[64];
                if (len > 0 && len < sizeof id) {
                    memcpy(id, p, len);
                    id[len] = '\0';
                    GUARD(buf_appendf(&a[C_TIDX], "%s%llu", touches ? "," : "",
                                      (unsigned long long)e->index));
                    GUARD(arr_text(&a[C_TCUST], id, touches == 0));
                    touches++;
                }
                p += len;
                p += *p == ',';
                if (pass == 0) {
                    break;
                }
            }
        }
    }
    for (int i = 0; i < C_N; i++) {
        GUARD(buf_append_byte(&a[i], '}'));
    }
    const char *v[C_N];
    for (int i = 0; i < C_N; i++) {
        v[i] = buf_cstr(&a[i]);
    }
    static const Oid types[C_N] = {1016, 1016, 1009, 1009, 1009, 1009, 1001, 1001, 1016, 1009};
    GUARD(q(b,
            "WITH e AS (INSERT INTO audit_entries(idx, ts, actor, action, customer, decision, "
            "entry, leaf) SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], "
            "$5::text[], $6::text[], $7::bytea[], $8::bytea[])) INSERT INTO audit_touched(idx, "
            "customer) SELECT * FROM unnest($9::int8[], $10::text[]) ON CONFLICT DO NOTHING",
            C_N, types, v, NULL, NULL, NULL, "append"));
out:
    for (int i = 0; i < C_N; i++) {
        buf_free(&a[i]);
    }
    return rc;
}

/* ---- the tree ---- */

static err pgb_put_node(audit_backend *b, unsigned level, uint64_t index, const uint8_t h[32])
{
    if (level < NODE_MIN_LEVEL) {
        return ERR_OK;
    }
    char l[24], i[24];
    snprintf(l, sizeof l, "%u", level);
    snprintf(i, sizeof i, "%llu", (unsigned long long)index);
    const Oid types[] = {T_INT8, T_INT8, T_BYTEA};
    const char *v[] = {l, i, (const char *)h};
    const int len[] = {0, 0, 32}, fmt[] = {0, 0, 1};
    return q(b, "INSERT INTO audit_nodes(level, idx, hash) VALUES($1, $2, $3)", 3, types, v, len,
             fmt, NULL, "store a tree node");
}

static err pgb_subtree(audit_backend *b, unsigned level, uint64_t index, uint8_t out[32])
{
    char a1[24], a2[24];
    const Oid types[] = {T_INT8, T_INT8};
    const char *v[] = {a1, a2};
    PGresult *r;
    if (level >= NODE_MIN_LEVEL) {
        snprintf(a1, sizeof a1, "%u", level);
        snprintf(a2, sizeof a2, "%llu", (unsigned long long)index);
        TRY(q(b, "SELECT hash FROM audit_nodes WHERE level=$1 AND idx=$2", 2, types, v, NULL, NULL,
              &r, "read a tree node"));
    } else {
        snprintf(a1, sizeof a1, "%llu", (unsigned long long)(index << level));
        snprintf(a2, sizeof a2, "%llu", (unsigned long long)((index + 1) << level));
        TRY(q(b, "SELECT leaf FROM audit_entries WHERE idx>=$1 AND idx<$2 ORDER BY idx", 2, types,
              v, NULL, NULL, &r, "read leaves"));
    }
    size_t n = level >= NODE_MIN_LEVEL ? 1 : (size_t)1 << level;
    uint8_t h[1u << (NODE_MIN_LEVEL - 1)][32];
    bool ok = (size_t)PQntuples(r) == n;
    for (size_t k = 0; ok && k < n; k++) {
        ok = PQgetlength(r, (int)k, 0) == 32;
        if (ok) {
            memcpy(h[k], PQgetvalue(r, (int)k, 0), 32);
        }
    }
    PQclear(r);
    ENSURE(ok, ERR_CRYPTO, "audit: tree node %u/%llu is missing", level, (unsigned long long)index);
    for (; level < NODE_MIN_LEVEL && n > 1; n /= 2) {
        for (size_t k = 0; k < n / 2; k++) {
            merkle_node_hash(h[2 * k], h[2 * k + 1], h[k]);
        }
    }
    memcpy(out, h[0], 32);
    return ERR_OK;
}

/* ---- reading ---- */

static err run_rows(PGresult *r, audit_row_fn fn, void *ctx, size_t *k)
{
    for (int row = 0; row < PQntuples(r); row++) {
        uint8_t leaf[32];
        col_leaf(r, row, 2, leaf);
        const char *p = PQgetvalue(r, row, 1);
        size_t n = (size_t)PQgetlength(r, row, 1);
        TRY(fn(ctx, (uint64_t)col_i64(r, row, 0), slice_of(p, n), leaf));
        if (k) {
            (*k)++;
        }
    }
    return ERR_OK;
}

static err pgb_read_range(audit_backend *b, uint64_t from, uint64_t max, audit_row_fn fn, void *ctx)
{
    uint64_t left = max;
    while (left > 0) {
        uint64_t take = left < RANGE_BATCH ? left : RANGE_BATCH;
        char a1[24], a2[24];
        snprintf(a1, sizeof a1, "%lld",
                 (long long)(from > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)from));
        snprintf(a2, sizeof a2, "%llu", (unsigned long long)take);
        const Oid types[] = {T_INT8, T_INT8};
        const char *v[] = {a1, a2};
        PGresult *r;
        TRY(q(b, "SELECT idx, entry, leaf FROM audit_entries WHERE idx>=$1 ORDER BY idx LIMIT $2",
              2, types, v, NULL, NULL, &r, "read the log"));
        int rows = PQntuples(r);
        uint64_t last = rows ? (uint64_t)col_i64(r, rows - 1, 0) : 0;
        err e = run_rows(r, fn, ctx, NULL);
        PQclear(r);
        TRY(e);
        if ((uint64_t)rows < take) {
            break;
        }
        left -= (uint64_t)rows;
        from = last + 1;
    }
    return ERR_OK;
}

/* ---- checkpoints ---- */

static err pgb_put_checkpoint(audit_backend *b, uint64_t size, const uint8_t root[32], slice note,
                              int64_t at_us)
{
    ENSURE(b->mode == AUDIT_BE_WRITE, ERR_INTERNAL, "audit: the log is open read-only");
    char s[24], at[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)size);
    snprintf(at, sizeof at, "%lld", (long long)at_us);
    buf n;
    buf_init(&n, 0);
    TRY(buf_set(&n, note.p, note.len));
    const Oid types[] = {T_INT8, T_BYTEA, T_TEXT, T_INT8};
    const char *v[] = {s, (const char *)root, buf_cstr(&n), at};
    const int len[] = {0, 32, 0, 0}, fmt[] = {0, 1, 0, 0};
    err e = q(b,
              "INSERT INTO audit_checkpoints(size, root, note, at) VALUES($1, $2, $3, $4) ON "
              "CONFLICT DO NOTHING",
              4, types, v, len, fmt, NULL, "store a checkpoint");
    buf_free(&n);
    return e;
}

static err pgb_last_checkpoint(audit_backend *b, uint64_t *size, uint8_t root[32], buf *note)
{
    PGresult *r;
    TRY(q(b, "SELECT size, root, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1", 0, NULL,
          NULL, NULL, NULL, &r, "read checkpoints"));
    *size = 0;
    err rc = ERR_OK;
    if (PQntuples(r) == 1) {
        *size = (uint64_t)col_i64(r, 0, 0);
        if (root) {
            col_leaf(r, 0, 1, root);
        }
        if (note) {
            rc = buf_set(note, PQgetvalue(r, 0, 2), (size_t)PQgetlength(r, 0, 2));
        }
    }
    PQclear(r);
    return rc;
}

static err pgb_checkpoints(audit_backend *b, audit_cp_fn fn, void *ctx)
{
    PGresult *r;
    TRY(q(b, "SELECT size, root, note FROM audit_checkpoints ORDER BY size", 0, NULL, NULL, NULL,
          NULL, &r, "read checkpoints"));
    err rc = ERR_OK;
    for (int row = 0; row < PQntuples(r) && rc == ERR_OK; row++) {
        uint8_t root[32];
        col_leaf(r, row, 1, root);
        rc = fn(ctx, (uint64_t)col_i64(r, row, 0), root,
                slice_of(PQgetvalue(r, row, 2), (size_t)PQgetlength(r, row, 2)));
    }
    PQclear(r);
    return rc;
}

/* ---- queries ---- */

static err pgb_search(audit_backend *b, const audit_query *qy, size_t limit, audit_row_fn fn,
                      void *ctx, size_t *n)
{
    char from[24], to[24], after[24], lim[24];
    snprintf(from, sizeof from, "%lld", (long long)qy->from_us);
    snprintf(to, sizeof to, "%lld", (long long)qy->to_us);
    snprintf(after, sizeof after, "%lld",
             qy->after == UINT64_MAX           ? -1LL
             : qy->after > (uint64_t)INT64_MAX ? INT64_MAX
                                               : (long long)qy->after);
    snprintf(lim, sizeof lim, "%llu", (unsigned long long)limit);
    /* Every parameter keeps its number whichever clauses are in (types are given). */
    const Oid types[] = {T_TEXT, T_TEXT, T_TEXT, T_TEXT, T_INT8, T_INT8, T_INT8, T_INT8};
    const char *v[] = {qy->customer, qy->actor, qy->action, qy->decision, from, to, after, lim};
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT e.idx, e.entry, e.leaf FROM audit_entries e WHERE e.idx>$7%s%s%s%s%s%s "
             "ORDER BY e.idx LIMIT $8",
             qy->customer ? " AND e.idx IN (SELECT idx FROM audit_touched WHERE customer=$1 AND "
                            "idx>$7)"
                          : "",
             qy->actor ? " AND e.actor=$2" : "", qy->action ? " AND e.action=$3" : "",
             qy->decision ? " AND e.decision=$4" : "", qy->from_us ? " AND e.ts>=$5" : "",
             qy->to_us ? " AND e.ts<$6" : "");
    PGresult *r;
    TRY(q(b, sql, 8, types, v, NULL, NULL, &r, "query"));
    size_t k = 0;
    err e = run_rows(r, fn, ctx, &k);
    PQclear(r);
    if (n) {
        *n = k;
    }
    return e;
}

/* ---- no write-ahead log of ours: PostgreSQL's is the server's business ---- */

static err pgb_checkpoint_wal(audit_backend *b, int mode)
{
    return ERR_OK;
}

static int pgb_wal_pages(audit_backend *b)
{
    return 0;
}

static err pgb_probe_writable(const char *path, int wait_ms)
{
    audit_backend *b = NULL;
    TRY(pgb_open(path, AUDIT_BE_WRITE, &b));
    char sql[200];
    snprintf(sql, sizeof sql, "BEGIN; SET LOCAL lock_timeout = %d; " AUDIT_LOCK,
             wait_ms > 0 ? wait_ms : 1);
    err e = simple(b, sql, "lock the log");
    pgb_rollback(b);
    pgb_close(b);
    ENSURE(e == ERR_OK, ERR_UNAVAILABLE, "the audit log's write lock is held elsewhere");
    return ERR_OK;
}

static const char *pgb_errmsg(audit_backend *b)
{
    return b ? b->msg : "not open";
}

const audit_backend_ops audit_pg_ops = {
    .name = "postgres",
    .create = pgb_create,
    .open = pgb_open,
    .close = pgb_close,
    .begin = pgb_begin,
    .commit = pgb_commit,
    .rollback = pgb_rollback,
    .tree_size = pgb_tree_size,
    .append = pgb_append,
    .put_node = pgb_put_node,
    .subtree = pgb_subtree,
    .read_range = pgb_read_range,
    .put_checkpoint = pgb_put_checkpoint,
    .last_checkpoint = pgb_last_checkpoint,
    .checkpoints = pgb_checkpoints,
    .search = pgb_search,
    .checkpoint_wal = pgb_checkpoint_wal,
    .wal_pages = pgb_wal_pages,
    .probe_writable = pgb_probe_writable,
    .errmsg = pgb_errmsg,
};

const audit_backend_ops *audit_backend_for(const char *path)
{
    return dbloc_is_postgres(path) ? &audit_pg_ops : &audit_sqlite_ops;
}
