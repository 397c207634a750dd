/*
 * audit_sqlite.c - the audit log's SQLite backend (audit_backend.h): the only
 * file of audit/ that speaks SQL.
 *
 * Tables: entries (index, canonical bytes, leaf hash, and the columns queries
 * need: time, actor, action, customer, decision), touched (every customer an
 * entry names, by bucket of 2^BUCKET_BITS entries, for data-subject reports),
 * by_actor (actor, time, index: breach scope), nodes (every complete subtree hash of
 * 2^NODE_MIN_LEVEL leaves or more, so proofs cost O(log n) lookups; a smaller one is hashed from
 * its at most 2^(NODE_MIN_LEVEL-1) leaves when asked for, which keeps the rows a batch writes to an
 * eighth of one per entry), checkpoints (every signed note), meta.
 *
 * The two query indexes are not written entry by entry: 64 writers a batch
 * would dirty a B-tree page per actor and per customer on every commit, which
 * cost more than everything else together. Entries past the watermark
 * meta('indexed') are indexed in bulk, sorted, once INDEX_EVERY of them have
 * piled up (and at open), in the same transaction as a batch; queries read the
 * indexes below the watermark and the few entries above it directly, so an
 * answer is complete whatever the watermark. Only an entry naming several
 * customers (an export) writes its touches at once. Customers are many, so
 * even sorted their rows would land on a different page each once the index
 * outgrows a flush: touched leads with the bucket (index >> BUCKET_BITS), which
 * makes a flush an append, and a data-subject report seeks once per bucket.
 *
 * The WAL: synchronous=FULL (a commit is durable when it returns), cut back to
 * 4 MiB when a checkpoint restarts it; a clean close leaves none
 * (docs/OPERATIONS.md). A handle opened for writing does not checkpoint on
 * commit (SQLite's autocheckpoint would run it inside the commit that crosses
 * the mark, on the writer's thread): it counts the WAL's pages (wal_pages) and
 * the writer decides when checkpoint_wal runs, and on which handle.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit_backend.h"
#include "audit/merkle.h"
#include "core/fault.h"
#include "core/file.h"
#include "core/log.h"

/* The lowest level of stored subtree hashes. */
#define NODE_MIN_LEVEL 4
/* Entries past the watermark that trigger a bulk index. */
#define INDEX_EVERY 4096
/* touched.bucket = idx >> BUCKET_BITS: a bucket is about one flush. */
#define BUCKET_BITS 12
#define STR_(x) #x
#define STR(x) STR_(x)
#define BUCKET_SQL "idx>>" STR(BUCKET_BITS) /* an entry's bucket, in SQL */

struct audit_backend {
    sqlite3 *db;
    int mode;
    sqlite3_stmt *leaf, *leaves, *node, *range, *next, *last_cp;
    /* write mode only */
    sqlite3_stmt *ins, *touch, *put_node, *put_cp, *ix_actor, *ix_touch, *ix_mark, *ix_get;
    uint64_t indexed;     /* the watermark as last read or written */
    uint64_t index_retry; /* no bulk index before this size */
    uint64_t known;       /* the size after our last commit (someone else wrote when it differs) */
    uint64_t saved_indexed, saved_known;
    _Atomic int wal_pages; /* the WAL's pages after this handle's last commit */
};

static const char *SCHEMA =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=1024;"
    "PRAGMA journal_size_limit=4194304;"
    "PRAGMA cache_size=-65536;"
    "CREATE TABLE IF NOT EXISTS entries(idx INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    " actor TEXT NOT NULL, action TEXT NOT NULL, customer TEXT, decision TEXT NOT NULL,"
    " entry BLOB NOT NULL, leaf BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS by_actor(actor TEXT NOT NULL, ts INTEGER NOT NULL,"
    " idx INTEGER NOT NULL, PRIMARY KEY(actor, ts, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS touched(bucket INTEGER NOT NULL, customer TEXT NOT NULL,"
    " idx INTEGER NOT NULL, PRIMARY KEY(bucket, customer, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, n INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta(k, n) VALUES('indexed', 0);"
    "CREATE TABLE IF NOT EXISTS nodes(level INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " hash BLOB NOT NULL, PRIMARY KEY(level, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS checkpoints(size INTEGER PRIMARY KEY, root BLOB NOT NULL,"
    " note TEXT NOT NULL, at INTEGER NOT NULL);";

static err sq_create(const char *path)
{
    ENSURE(access(path, F_OK) != 0, ERR_CONFLICT, "audit: log exists already");
    TRY(file_create_private(path));
    sqlite3 *db = NULL;
    err rc = ERR_OK;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
        sqlite3_exec(db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        rc = err_set(ERR_IO, __FILE__, __LINE__, "audit: cannot create the log");
    }
    sqlite3_close_v2(db);
    return rc;
}

static const char *sq_errmsg(audit_backend *b)
{
    return b && b->db ? sqlite3_errmsg(b->db) : "not open";
}

static void sq_close(audit_backend *b)
{
    if (!b) {
        return;
    }
    sqlite3_stmt *all[] = {b->leaf,     b->leaves,   b->node,    b->range,    b->next,
                           b->last_cp,  b->ins,      b->touch,   b->put_node, b->put_cp,
                           b->ix_actor, b->ix_touch, b->ix_mark, b->ix_get};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(all[i]);
    }
    sqlite3_close_v2(b->db);
    free(b);
}

static bool prep(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK;
}

/* Replaces SQLite's autocheckpoint (which is a WAL hook too) on a write handle. */
static int wal_hook(void *ctx, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    ((audit_backend *)ctx)->wal_pages = pages;
    return SQLITE_OK;
}

static bool has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    bool yes = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1",
                                  -1, &st, NULL) == SQLITE_OK &&
               sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
               sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

static err step_done(sqlite3_stmt *st, const char *what)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    ENSURE(r == SQLITE_DONE, ERR_UNAVAILABLE, "audit: cannot %s", what);
    return ERR_OK;
}

static err step_range(sqlite3_stmt *st, uint64_t from, uint64_t to)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)to);
    return step_done(st, "index the log");
}

/* Reads the watermark (inside the writer's transaction). */
static err index_mark_read(audit_backend *b)
{
    sqlite3_reset(b->ix_get);
    int r = sqlite3_step(b->ix_get);
    b->indexed = r == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(b->ix_get, 0) : 0;
    sqlite3_reset(b->ix_get);
    ENSURE(r == SQLITE_ROW || r == SQLITE_DONE, ERR_UNAVAILABLE, "audit: cannot read the log");
    return ERR_OK;
}

/* Indexes entries [watermark, upto) sorted, so each actor's and customer's new rows
 * land together, and moves the watermark (inside the writer's transaction). */
static err index_flush(audit_backend *b, uint64_t upto)
{
    if (upto <= b->indexed) {
        return ERR_OK;
    }
    TRY(step_range(b->ix_actor, b->indexed, upto));
    TRY(step_range(b->ix_touch, b->indexed, upto));
    sqlite3_reset(b->ix_mark);
    sqlite3_bind_int64(b->ix_mark, 1, (sqlite3_int64)upto);
    TRY(step_done(b->ix_mark, "index the log"));
    b->indexed = upto;
    return ERR_OK;
}

/* The bulk index inside a batch's transaction, under a savepoint: the entries are the
 * evidence and the indexes only derive from them, so an index that cannot be written
 * (a disk nearly full) is rolled back alone and tried again 4,096 entries later; queries
 * stay complete meanwhile, reading the longer tail directly. */
static void index_try(audit_backend *b, uint64_t upto)
{
    uint64_t before = b->indexed;
    if (sqlite3_exec(b->db, "SAVEPOINT bulk_index", NULL, NULL, NULL) != SQLITE_OK) {
        return;
    }
    if (index_flush(b, upto) == ERR_OK) {
        sqlite3_exec(b->db, "RELEASE bulk_index", NULL, NULL, NULL);
        return;
    }
    log_warn("audit.index", "could not index entries %llu to %llu (%s): tried again later",
             (unsigned long long)before, (unsigned long long)upto, sqlite3_errmsg(b->db));
    sqlite3_exec(b->db, "ROLLBACK TO bulk_index; RELEASE bulk_index", NULL, NULL, NULL);
    b->indexed = before;
    b->index_retry = upto + INDEX_EVERY;
}

static err read_next(audit_backend *b, uint64_t *n)
{
    sqlite3_reset(b->next);
    int r = sqlite3_step(b->next);
    *n = r == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(b->next, 0) : 0;
    sqlite3_reset(b->next);
    ENSURE(r == SQLITE_ROW, ERR_UNAVAILABLE, "audit log is not readable");
    return ERR_OK;
}

/* Write mode, at open: a log from before the bulk index (one SQL index on actor, touches
 * by customer, both kept per entry) is indexed here once; so is a long unindexed tail. */
static err open_migrate(audit_backend *b)
{
    sqlite3 *db = b->db;
    ENSURE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK, ERR_UNAVAILABLE,
           "audit: cannot open the log (%s)", sqlite3_errmsg(db));
    err rc = ERR_OK;
    if (has_table(db, "touches") &&
        sqlite3_exec(db,
                     "INSERT OR IGNORE INTO touched(bucket, customer, idx) SELECT " BUCKET_SQL
                     ", customer, idx FROM touches ORDER BY 1, 2, 3; DROP TABLE touches",
                     NULL, NULL, NULL) != SQLITE_OK) {
        FAIL(ERR_UNAVAILABLE, "audit: cannot index the log (%s)", sqlite3_errmsg(db));
    }
    GUARD(index_mark_read(b));
    GUARD(read_next(b, &b->known));
    if (b->known - b->indexed >= INDEX_EVERY) {
        GUARD(index_flush(b, b->known));
    }
    CHECK(sqlite3_exec(db, "DROP INDEX IF EXISTS entries_actor; COMMIT", NULL, NULL, NULL) ==
              SQLITE_OK,
          ERR_UNAVAILABLE, "audit: cannot index the log (%s)", sqlite3_errmsg(db));
out:
    if (rc != ERR_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

static err sq_open(const char *path, int mode, audit_backend **out)
{
    fault_init(); /* test builds: the fault-injection VFS (core/fault.h) */
    audit_backend *b = calloc(1, sizeof *b);
    ENSURE(b != NULL, ERR_INTERNAL, "out of memory");
    err rc = ERR_OK;
    b->mode = mode;
    int flags = mode == AUDIT_BE_WRITE ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
    if (sqlite3_open_v2(path, &b->db, flags, NULL) != SQLITE_OK) {
        FAIL(ERR_IO, "cannot open the audit log %s", path);
    }
    sqlite3 *db = b->db;
    sqlite3_busy_timeout(db, 5000);
    if (mode == AUDIT_BE_WRITE) {
        CHECK(sqlite3_exec(db, SCHEMA, NULL, NULL, NULL) == SQLITE_OK, ERR_UNAVAILABLE,
              "audit: cannot open the log");
        sqlite3_wal_hook(db, wal_hook, b);
    }
    CHECK(prep(db, "SELECT leaf FROM entries WHERE idx=?1", &b->leaf) &&
              prep(db, "SELECT leaf FROM entries WHERE idx>=?1 AND idx<?2 ORDER BY idx",
                   &b->leaves) &&
              prep(db, "SELECT hash FROM nodes WHERE level=?1 AND idx=?2", &b->node) &&
              prep(db, "SELECT idx, entry, leaf FROM entries WHERE idx>=?1 ORDER BY idx LIMIT ?2",
                   &b->range) &&
              prep(db, "SELECT coalesce(max(idx)+1, 0) FROM entries", &b->next) &&
              prep(db, "SELECT size, root, note, at FROM checkpoints ORDER BY size DESC LIMIT 1",
                   &b->last_cp),
          ERR_IO, "%s is not an audit log (%s)", path, sqlite3_errmsg(db));
    if (mode == AUDIT_BE_WRITE) {
        CHECK(prep(db,
                   "INSERT INTO entries(idx, ts, actor, action, customer, decision, entry, leaf) "
                   "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                   &b->ins) &&
                  prep(db, "INSERT OR IGNORE INTO touched(bucket, customer, idx) VALUES(?1,?2,?3)",
                       &b->touch) &&
                  prep(db, "INSERT INTO nodes(level, idx, hash) VALUES(?1,?2,?3)", &b->put_node) &&
                  prep(db,
                       "INSERT OR IGNORE INTO checkpoints(size, root, note, at) "
                       "VALUES(?1,?2,?3,?4)",
                       &b->put_cp) &&
                  prep(db,
                       "INSERT OR IGNORE INTO by_actor(actor, ts, idx) SELECT actor, ts, idx "
                       "FROM entries WHERE idx>=?1 AND idx<?2 ORDER BY actor, ts, idx",
                       &b->ix_actor) &&
                  prep(db,
                       "INSERT OR IGNORE INTO touched(bucket, customer, idx) SELECT " BUCKET_SQL
                       ", customer, idx FROM entries WHERE idx>=?1 AND idx<?2 AND customer IS "
                       "NOT NULL ORDER BY 1, 2, 3",
                       &b->ix_touch) &&
                  prep(db, "UPDATE meta SET n=?1 WHERE k='indexed'", &b->ix_mark) &&
                  prep(db, "SELECT n FROM meta WHERE k='indexed'", &b->ix_get),
              ERR_UNAVAILABLE, "audit: cannot prepare (%s)", sqlite3_errmsg(db));
        GUARD(open_migrate(b));
    }
    *out = b;
    return ERR_OK;
out:
    sq_close(b);
    return rc;
}

static err sq_begin(audit_backend *b)
{
    ENSURE(sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK, ERR_UNAVAILABLE,
           "audit: cannot lock the log (%s)", sqlite3_errmsg(b->db));
    b->saved_indexed = b->indexed;
    b->saved_known = b->known;
    return ERR_OK;
}

static err sq_commit(audit_backend *b)
{
    ENSURE(sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK, ERR_UNAVAILABLE,
           "audit: cannot commit (%s)", sqlite3_errmsg(b->db));
    return ERR_OK;
}

static void sq_rollback(audit_backend *b)
{
    if (!sqlite3_get_autocommit(b->db)) {
        sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
    }
    b->indexed = b->saved_indexed;
    b->known = b->saved_known;
}

static err sq_tree_size(audit_backend *b, uint64_t *n)
{
    TRY(read_next(b, n));
    /* Offline tools append to the same file while the server runs: when someone else wrote,
     * the watermark is read again (under the write lock). */
    if (b->mode == AUDIT_BE_WRITE && !sqlite3_get_autocommit(b->db) && *n != b->known) {
        TRY(index_mark_read(b));
        b->known = *n;
    }
    return ERR_OK;
}

static err add_touch(audit_backend *b, const char *customer, uint64_t idx)
{
    sqlite3_reset(b->touch);
    sqlite3_bind_int64(b->touch, 1, (sqlite3_int64)(idx >> BUCKET_BITS));
    sqlite3_bind_text(b->touch, 2, customer, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(b->touch, 3, (sqlite3_int64)idx);
    return step_done(b->touch, "index an entry");
}

/* The touches of an entry that names several customers; the one in its customer
 * column is indexed in bulk with the rest. */
static err touches_of(audit_backend *b, const audit_row *e)
{
    const char *p = e->customers;
    while (p && *p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        char id[64];
        if (n > 0 && n < sizeof id) {
            memcpy(id, p, n);
            id[n] = '\0';
            if (!e->customer || strcmp(id, e->customer) != 0) {
                TRY(add_touch(b, id, e->index));
            }
        }
        p += n;
        if (*p == ',') {
            p++;
        }
    }
    return ERR_OK;
}

static err sq_append(audit_backend *b, const audit_row *rows, size_t n)
{
    ENSURE(b->mode == AUDIT_BE_WRITE, ERR_INTERNAL, "audit: the log is open read-only");
    sqlite3_stmt *st = b->ins;
    for (size_t i = 0; i < n; i++) {
        const audit_row *e = &rows[i];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)e->index);
        sqlite3_bind_int64(st, 2, e->ts_us);
        sqlite3_bind_text(st, 3, e->actor ? e->actor : "-", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, e->action ? e->action : "-", -1, SQLITE_STATIC);
        if (e->customer) {
            sqlite3_bind_text(st, 5, e->customer, -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(st, 5);
        }
        sqlite3_bind_text(st, 6, e->decision ? e->decision : "deny", -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 7, e->entry.p, (int)e->entry.len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 8, e->leaf, 32, SQLITE_STATIC);
        int r = sqlite3_step(st);
        sqlite3_reset(st);
        ENSURE(r == SQLITE_DONE, ERR_UNAVAILABLE, "audit log is not writable: request refused");
        TRY(touches_of(b, e));
    }
    if (n > 0) {
        uint64_t size = rows[n - 1].index + 1;
        b->known = size;
        if (size - b->indexed >= INDEX_EVERY && size >= b->index_retry) {
            index_try(b, size);
        }
    }
    return ERR_OK;
}

static err sq_put_node(audit_backend *b, unsigned level, uint64_t index, const uint8_t h[32])
{
    if (level < NODE_MIN_LEVEL) {
        return ERR_OK; /* leaves live in entries; small subtrees are hashed from them */
    }
    sqlite3_reset(b->put_node);
    sqlite3_bind_int(b->put_node, 1, (int)level);
    sqlite3_bind_int64(b->put_node, 2, (sqlite3_int64)index);
    sqlite3_bind_blob(b->put_node, 3, h, 32, SQLITE_STATIC);
    return step_done(b->put_node, "store a tree node");
}

/* A complete subtree below NODE_MIN_LEVEL, hashed from its leaves. */
static err low_subtree(audit_backend *b, unsigned level, uint64_t index, uint8_t out[32])
{
    uint8_t h[1u << (NODE_MIN_LEVEL - 1)][32];
    size_t n = (size_t)1 << level, got = 0;
    sqlite3_stmt *st = b->leaves;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)(index << level));
    sqlite3_bind_int64(st, 2, (sqlite3_int64)((index + 1) << level));
    while (got < n && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(h[got++], sqlite3_column_blob(st, 0), 32);
    }
    sqlite3_reset(st);
    ENSURE(got == n, ERR_CRYPTO, "audit: tree node %u/%llu is missing", level,
           (unsigned long long)index);
    for (; n > 1; n /= 2) {
        for (size_t k = 0; k < n / 2; k++) {
            merkle_node_hash(h[2 * k], h[2 * k + 1], h[k]);
        }
    }
    memcpy(out, h[0], 32);
    return ERR_OK;
}

static err sq_subtree(audit_backend *b, unsigned level, uint64_t index, uint8_t out[32])
{
    if (level > 0 && level < NODE_MIN_LEVEL) {
        return low_subtree(b, level, index, out);
    }
    sqlite3_stmt *st = level == 0 ? b->leaf : b->node;
    sqlite3_reset(st);
    if (level == 0) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
    } else {
        sqlite3_bind_int(st, 1, (int)level);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    }
    int r = sqlite3_step(st);
    bool ok = r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32;
    if (ok) {
        memcpy(out, sqlite3_column_blob(st, 0), 32);
    }
    sqlite3_reset(st);
    ENSURE(ok, ERR_CRYPTO, "audit: tree node %u/%llu is missing", level, (unsigned long long)index);
    return ERR_OK;
}

/* Steps a query of (idx, entry, leaf) rows, handing each on; *k counts them. */
static err run_rows(sqlite3_stmt *st, audit_row_fn fn, void *ctx, size_t *k)
{
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        uint8_t leaf[32] = {0};
        if (sqlite3_column_bytes(st, 2) == 32) {
            memcpy(leaf, sqlite3_column_blob(st, 2), 32);
        }
        const void *p = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        err e =
            fn(ctx, (uint64_t)sqlite3_column_int64(st, 0), slice_of(p ? p : "", p ? n : 0), leaf);
        if (e != ERR_OK) {
            sqlite3_reset(st);
            return e;
        }
        if (k) {
            (*k)++;
        }
    }
    sqlite3_reset(st);
    ENSURE(r == SQLITE_DONE, ERR_UNAVAILABLE, "audit: reading the log failed");
    return ERR_OK;
}

static err sq_read_range(audit_backend *b, uint64_t from, uint64_t max, audit_row_fn fn, void *ctx)
{
    sqlite3_reset(b->range);
    sqlite3_bind_int64(b->range, 1, from > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)from);
    sqlite3_bind_int64(b->range, 2, max > (uint64_t)INT64_MAX ? -1 : (sqlite3_int64)max);
    return run_rows(b->range, fn, ctx, NULL);
}

static err sq_put_checkpoint(audit_backend *b, uint64_t size, const uint8_t root[32], slice note,
                             int64_t at_us)
{
    ENSURE(b->mode == AUDIT_BE_WRITE, ERR_INTERNAL, "audit: the log is open read-only");
    sqlite3_reset(b->put_cp);
    sqlite3_bind_int64(b->put_cp, 1, (sqlite3_int64)size);
    sqlite3_bind_blob(b->put_cp, 2, root, 32, SQLITE_STATIC);
    sqlite3_bind_text(b->put_cp, 3, (const char *)note.p, (int)note.len, SQLITE_STATIC);
    sqlite3_bind_int64(b->put_cp, 4, at_us);
    return step_done(b->put_cp, "store a checkpoint");
}

static err sq_last_checkpoint(audit_backend *b, uint64_t *size, uint8_t root[32], buf *note)
{
    sqlite3_stmt *st = b->last_cp;
    sqlite3_reset(st);
    int r = sqlite3_step(st);
    *size = 0;
    err rc = ERR_OK;
    if (r == SQLITE_ROW) {
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        if (root && sqlite3_column_bytes(st, 1) == 32) {
            memcpy(root, sqlite3_column_blob(st, 1), 32);
        }
        if (note) {
            rc = buf_set(note, sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
        }
    }
    sqlite3_reset(st);
    TRY(rc);
    ENSURE(r == SQLITE_ROW || r == SQLITE_DONE, ERR_UNAVAILABLE, "audit: cannot read checkpoints");
    return ERR_OK;
}

static err sq_checkpoints(audit_backend *b, audit_cp_fn fn, void *ctx)
{
    sqlite3_stmt *st = NULL;
    ENSURE(sqlite3_prepare_v2(b->db, "SELECT size, root, note FROM checkpoints ORDER BY size", -1,
                              &st, NULL) == SQLITE_OK,
           ERR_IO, "the file is not an audit log (%s)", sqlite3_errmsg(b->db));
    err rc = ERR_OK;
    int r;
    while (rc == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        uint8_t root[32] = {0};
        if (sqlite3_column_bytes(st, 1) == 32) {
            memcpy(root, sqlite3_column_blob(st, 1), 32);
        }
        rc = fn(ctx, (uint64_t)sqlite3_column_int64(st, 0), root,
                slice_of(sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2)));
    }
    if (rc == ERR_OK && r != SQLITE_DONE) {
        rc = err_set(ERR_UNAVAILABLE, __FILE__, __LINE__, "audit: cannot read checkpoints (%s)",
                     sqlite3_errmsg(b->db));
    }
    sqlite3_finalize(st);
    return rc;
}

/* Binds a query's values; each name keeps its number whichever clauses the SQL has. */
static void bind_query(sqlite3_stmt *st, const audit_query *q)
{
    if (q->customer) {
        sqlite3_bind_text(st, 1, q->customer, -1, SQLITE_STATIC);
    }
    if (q->actor) {
        sqlite3_bind_text(st, 2, q->actor, -1, SQLITE_STATIC);
    }
    if (q->action) {
        sqlite3_bind_text(st, 3, q->action, -1, SQLITE_STATIC);
    }
    if (q->decision) {
        sqlite3_bind_text(st, 4, q->decision, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 5, q->from_us);
    sqlite3_bind_int64(st, 6, q->to_us);
    sqlite3_bind_int64(st, 7, q->after == UINT64_MAX ? -1 : (sqlite3_int64)q->after);
}

/* One value of a one-row query (-1 when there is none). */
static int64_t read_int(audit_backend *b, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(b->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

static err sq_search(audit_backend *b, const audit_query *q, size_t limit, audit_row_fn fn,
                     void *ctx, size_t *n)
{
    buf sql;
    buf_init(&sql, 4096);
    err rc = ERR_OK;
    sqlite3_stmt *st = NULL;
    size_t k = 0;
    /* The most selective index leads: customer (touched), then actor (by_actor), then
     * time. Each index answers below the watermark; the entries above it, at most a
     * few thousand, are read directly. The actor's query is one statement (one
     * snapshot of both). The customer's runs bucket by bucket: the watermark is read
     * first and only rises, so a bucket's index and its entries from that watermark
     * may overlap (UNION keeps one of each) but never miss an entry. */
    GUARD(buf_append_str(&sql, "SELECT e.idx, e.entry, e.leaf FROM entries e WHERE e.idx>?7"));
    if (q->customer) {
        GUARD(buf_append_str(&sql, " AND e.idx>=?10 AND e.idx<?11 AND e.idx IN (SELECT idx FROM "
                                   "touched WHERE bucket=?9 AND customer=?1 AND idx>?7 UNION "
                                   "SELECT idx FROM entries WHERE idx>=?12 AND idx<?11 AND "
                                   "customer=?1)"));
    } else if (q->actor) {
        GUARD(buf_appendf(&sql,
                          " AND e.idx IN (SELECT idx FROM by_actor WHERE actor=?2 AND idx>?7%s%s"
                          " UNION ALL SELECT idx FROM entries WHERE idx>=(SELECT n FROM meta "
                          "WHERE k='indexed') AND actor=?2)",
                          q->from_us ? " AND ts>=?5" : "", q->to_us ? " AND ts<?6" : ""));
    }
    if (q->actor) {
        GUARD(buf_append_str(&sql, " AND e.actor=?2"));
    }
    if (q->action) {
        GUARD(buf_append_str(&sql, " AND e.action=?3"));
    }
    if (q->decision) {
        GUARD(buf_append_str(&sql, " AND e.decision=?4"));
    }
    if (q->from_us) {
        GUARD(buf_append_str(&sql, " AND e.ts>=?5"));
    }
    if (q->to_us) {
        GUARD(buf_append_str(&sql, " AND e.ts<?6"));
    }
    GUARD(buf_append_str(&sql, " ORDER BY e.idx LIMIT ?8"));
    if (sqlite3_prepare_v2(b->db, buf_cstr(&sql), -1, &st, NULL) != SQLITE_OK) {
        FAIL(ERR_UNAVAILABLE, "audit: query failed (%s)", sqlite3_errmsg(b->db));
    }
    bind_query(st, q);
    if (!q->customer) {
        sqlite3_bind_int64(st, 8, (sqlite3_int64)limit);
        GUARD(run_rows(st, fn, ctx, &k));
        goto out;
    }
    int64_t mark = read_int(b, "SELECT n FROM meta WHERE k='indexed'");
    int64_t top = read_int(b, "SELECT max(idx) FROM entries");
    CHECK(mark >= 0, ERR_UNAVAILABLE, "audit: query failed (no index watermark)");
    uint64_t first = q->after == UINT64_MAX ? 0 : q->after + 1;
    for (uint64_t bk = first >> BUCKET_BITS;
         top >= 0 && bk <= (uint64_t)top >> BUCKET_BITS && k < limit; bk++) {
        uint64_t lo = bk << BUCKET_BITS, hi = (bk + 1) << BUCKET_BITS;
        uint64_t from = (uint64_t)mark > lo ? (uint64_t)mark : lo;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 8, (sqlite3_int64)(limit - k));
        sqlite3_bind_int64(st, 9, (sqlite3_int64)bk);
        sqlite3_bind_int64(st, 10, (sqlite3_int64)lo);
        sqlite3_bind_int64(st, 11, (sqlite3_int64)hi);
        sqlite3_bind_int64(st, 12, (sqlite3_int64)(from < hi ? from : hi));
        GUARD(run_rows(st, fn, ctx, &k));
    }
out:
    sqlite3_finalize(st);
    if (n) {
        *n = k;
    }
    buf_free(&sql);
    return rc;
}

static int sq_wal_pages(audit_backend *b)
{
    return b->wal_pages;
}

static err sq_checkpoint_wal(audit_backend *b, int mode)
{
    int logn = 0, done = 0;
    int m = mode == AUDIT_WAL_TRUNCATE ? SQLITE_CHECKPOINT_TRUNCATE
            : mode == AUDIT_WAL_FULL   ? SQLITE_CHECKPOINT_FULL
                                       : SQLITE_CHECKPOINT_PASSIVE;
    int r = sqlite3_wal_checkpoint_v2(b->db, NULL, m, &logn, &done);
    ENSURE(r == SQLITE_OK, ERR_UNAVAILABLE, "audit: cannot checkpoint the WAL (%s)",
           sqlite3_errmsg(b->db));
    return ERR_OK;
}

static err sq_probe_writable(const char *path, int wait_ms)
{
    sqlite3 *db = NULL;
    err rc = ERR_OK;
    int r = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    CHECK(r == SQLITE_OK, ERR_UNAVAILABLE, "the audit log cannot be opened for writing");
    sqlite3_busy_timeout(db, wait_ms);
    r = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    CHECK(r == SQLITE_OK, ERR_UNAVAILABLE, "the audit log's write lock is held elsewhere");
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    sqlite3_close(db);
    return rc;
}

const audit_backend_ops audit_sqlite_ops = {
    .name = "sqlite",
    .create = sq_create,
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .tree_size = sq_tree_size,
    .append = sq_append,
    .put_node = sq_put_node,
    .subtree = sq_subtree,
    .read_range = sq_read_range,
    .put_checkpoint = sq_put_checkpoint,
    .last_checkpoint = sq_last_checkpoint,
    .checkpoints = sq_checkpoints,
    .search = sq_search,
    .checkpoint_wal = sq_checkpoint_wal,
    .wal_pages = sq_wal_pages,
    .probe_writable = sq_probe_writable,
    .errmsg = sq_errmsg,
};
