/*
 * sqlite.c - the store on SQLite (WAL). One file, zero set-up.
 *
 * Each thread gets its own connection (pthread key, closed when the thread
 * ends or the store closes) with a cache of prepared statements, so the hot
 * read path is one bound statement step with no parsing. Customer fields are
 * one BLOB column each (named f_<field>), blind indexes one INTEGER column
 * each (bi_<kind>) with a partial index, so a search is one index probe.
 *
 * The SQLite backend of store_backend.h: this file owns connections, transactions (a handle
 * holds its thread's connection inside BEGIN IMMEDIATE; the shared store is refused to that
 * thread until it ends), the customer path's statements and the table of operations;
 * sqlite_access.c the identity and access tables, sqlite_backup.c snapshots and file checks.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/file.h"
#include "store/sqlite_int.h"
#include "store/store.h"

enum stmt_id {
    S_CUST_INSERT,
    S_CUST_UPDATE,
    S_CUST_GET,
    S_CUST_GET_MANY,
    S_CUST_ERASE,
    S_CUST_ERASE_RECORDS,
    S_ERASURE_INSERT,
    S_CUST_LIST_ALL,
    S_CUST_LIST_DEPT,
    S_CUST_COUNT,
    S_REC_INSERT,
    S_REC_UPDATE,
    S_REC_LIST,
    S_ACC_INSERT,
    S_ACC_UPDATE,
    S_ACC_BY_NAME,
    S_ACC_BY_ID,
    S_ACC_LIST,
    S_SES_INSERT,
    S_SES_GET,
    S_SES_DELETE,
    S_SES_TOUCH,
    S_SES_DELETE_ACCOUNT,
    S_IDEM_GET,
    S_IDEM_PUT,
    S_IDEM_CLAIM,
    S_IDEM_DROP,
    S_IDEM_PURGE,
    S_ERASURES,
    S_META_GET,
    S_META_SET,
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_FIND_FIRST, /* + blind kind, with and without department: 2 * BI__COUNT */
    S__COUNT = S_FIND_FIRST + 2 * BI__COUNT
};

struct sq_tx;

typedef struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[S__COUNT];
    sqlite3_stmt *ext[SQ_EXT_MAX]; /* statements of the other store files (sqlite_int.h) */
    struct sq_db *owner;
    uint64_t generation;
    struct sq_tx *tx;  /* the transaction open on this connection, if any */
    struct conn *next; /* all connections of the store, for closing */
} conn;

/* The shared state behind a store handle (store.impl). */
typedef struct sq_db {
    char *path;
    pthread_key_t key;
    pthread_mutex_t lock;
    conn *all;
    uint64_t generation;
    char *sql[S__COUNT];
} sq_db;

/* A transaction: its view, the connection it holds and the thread that began it. */
typedef struct sq_tx {
    store_tx base;
    conn *c;
    pthread_t thread;
} sq_tx;

#define DB(s) ((sq_db *)(s)->impl)

static const store_ops SQLITE_OPS;

static uint64_t next_generation = 1;
static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;

static err db_error(sqlite3 *db, const char *what)
{
    int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
    err e = (code == SQLITE_CONSTRAINT)                     ? ERR_CONFLICT
            : (code == SQLITE_FULL || code == SQLITE_IOERR) ? ERR_UNAVAILABLE
            : (code == SQLITE_BUSY)                         ? ERR_UNAVAILABLE
                                                            : ERR_IO;
    return err_set(e, __FILE__, __LINE__, "store: %s failed (%s)", what,
                   db ? sqlite3_errmsg(db) : "no connection");
}

static void conn_close(conn *c)
{
    for (int i = 0; i < S__COUNT; i++) {
        if (c->st[i]) {
            sqlite3_finalize(c->st[i]);
        }
    }
    for (int i = 0; i < SQ_EXT_MAX; i++) {
        if (c->ext[i]) {
            sqlite3_finalize(c->ext[i]);
        }
    }
    if (c->db) {
        sqlite3_close_v2(c->db);
    }
    free(c->tx); /* a transaction its thread never ended: the close rolls it back */
    free(c);
}

static void conn_release(void *p)
{
    conn *c = p;
    sq_db *d = c->owner;
    pthread_mutex_lock(&d->lock);
    for (conn **pp = &d->all; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    pthread_mutex_unlock(&d->lock);
    conn_close(c);
}

static err exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err e = err_set(ERR_IO, __FILE__, __LINE__, "store: %s", msg ? msg : "exec failed");
        sqlite3_free(msg);
        return e;
    }
    return ERR_OK;
}

static err open_db(const char *path, int flags, sqlite3 **out)
{
    sqlite3 *db = NULL;
    fault_init(); /* test builds: the fault-injection VFS (core/fault.h) */
    if (flags & SQLITE_OPEN_CREATE) {
        TRY(file_create_private(path));
    }
    if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        err e = db_error(db, "open");
        sqlite3_close_v2(db);
        return e;
    }
    sqlite3_busy_timeout(db, 5000);
    err e = exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                     "PRAGMA secure_delete=ON; PRAGMA temp_store=MEMORY;" SQ_WAL_PRAGMAS);
    if (e != ERR_OK) {
        sqlite3_close_v2(db);
        return e;
    }
    *out = db;
    return ERR_OK;
}

/* This thread's own connection, opened on first use. */
static err thread_conn(sq_db *d, conn **out)
{
    conn *c = pthread_getspecific(d->key);
    if (c) {
        *out = c;
        return ERR_OK;
    }
    c = calloc(1, sizeof *c);
    ENSURE(c != NULL, ERR_INTERNAL, "out of memory");
    err e = open_db(d->path, SQLITE_OPEN_READWRITE, &c->db);
    if (e != ERR_OK) {
        free(c);
        return e;
    }
    c->owner = d;
    pthread_mutex_lock(&d->lock);
    c->next = d->all;
    d->all = c;
    pthread_mutex_unlock(&d->lock);
    pthread_setspecific(d->key, c);
    *out = c;
    return ERR_OK;
}

/* The connection an operation on handle s runs on: a transaction's view runs on the
 * transaction's connection (by the thread that began it), the shared store on this thread's
 * connection unless this thread holds a transaction, whose work must go through its view. */
static err get_conn(store *s, conn **out)
{
    if (s->tx) {
        sq_tx *t = (sq_tx *)s->tx;
        ENSURE(pthread_equal(t->thread, pthread_self()), ERR_INTERNAL,
               "store: a transaction is used by the thread that began it");
        *out = t->c;
        return ERR_OK;
    }
    conn *c = NULL;
    TRY(thread_conn(DB(s), &c));
    ENSURE(c->tx == NULL, ERR_INTERNAL,
           "store: this thread holds a transaction: its operations go through store_tx_store()");
    *out = c;
    return ERR_OK;
}

/* The prepared statement id of this thread's connection, reset and ready to bind. */
static err stmt(store *s, int id, sqlite3_stmt **out)
{
    ENSURE(!fault_hit(FAULT_STORE_ALLOC), ERR_INTERNAL, "store: out of memory");
    conn *c;
    TRY(get_conn(s, &c));
    if (c->st[id] == NULL) {
        if (sqlite3_prepare_v3(c->db, DB(s)->sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->st[id],
                               NULL) != SQLITE_OK) {
            return db_error(c->db, "prepare");
        }
    }
    sqlite3_reset(c->st[id]);
    sqlite3_clear_bindings(c->st[id]);
    *out = c->st[id];
    return ERR_OK;
}

/* The connection s last ran on (for error messages and change counts), NULL when none. */
static sqlite3 *conn_db(store *s)
{
    if (s->tx) {
        return ((sq_tx *)s->tx)->c->db;
    }
    conn *c = pthread_getspecific(DB(s)->key);
    return c ? c->db : NULL;
}

static err step_done(store *s, sqlite3_stmt *st, const char *what)
{
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE && r != SQLITE_ROW) {
        err e = db_error(conn_db(s), what);
        sqlite3_reset(st);
        return e;
    }
    sqlite3_reset(st);
    return ERR_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void bind_buf(sqlite3_stmt *st, int i, const buf *b)
{
    if (b->len == 0) {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_blob(st, i, b->p, (int)b->len, SQLITE_STATIC);
    }
}

static err col_buf(sqlite3_stmt *st, int i, buf *b)
{
    buf_reset(b);
    const void *p = sqlite3_column_blob(st, i);
    int n = sqlite3_column_bytes(st, i);
    if (p && n > 0) {
        TRY(buf_append(b, p, (size_t)n));
    }
    return ERR_OK;
}

static void col_text(sqlite3_stmt *st, int i, char *out, size_t max)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, max, "%s", t ? (const char *)t : "");
}

/* ---- sqlite_int.h: what the other store files share ---- */

err sq_stmt(store *s, int slot, const char *sql, sqlite3_stmt **out)
{
    ENSURE(slot >= 0 && slot < SQ_EXT_MAX, ERR_INTERNAL, "store: statement slot out of range");
    conn *c;
    TRY(get_conn(s, &c));
    if (c->ext[slot] == NULL) {
        if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->ext[slot], NULL) !=
            SQLITE_OK) {
            return db_error(c->db, "prepare");
        }
    }
    sqlite3_reset(c->ext[slot]);
    sqlite3_clear_bindings(c->ext[slot]);
    *out = c->ext[slot];
    return ERR_OK;
}

err sq_done(store *s, sqlite3_stmt *st, const char *what)
{
    return step_done(s, st, what);
}

err sq_error(store *s, const char *what)
{
    return db_error(conn_db(s), what);
}

int sq_changes(store *s)
{
    sqlite3 *db = conn_db(s);
    return db ? sqlite3_changes(db) : 0;
}

void sq_text(sqlite3_stmt *st, int i, const char *v)
{
    bind_text(st, i, v);
}

void sq_col_text(sqlite3_stmt *st, int i, char *out, size_t max)
{
    col_text(st, i, out, max);
}

err sq_col_buf(sqlite3_stmt *st, int i, buf *b)
{
    return col_buf(st, i, b);
}

void sq_blob(sqlite3_stmt *st, int i, const buf *b)
{
    bind_buf(st, i, b);
}

/* ---- schema ---- */

static err build_sql(sq_db *d)
{
    buf cols, params, sets;
    buf_init(&cols, 0);
    buf_init(&params, 0);
    buf_init(&sets, 0);
    err rc = ERR_OK;
    for (int i = 0; i < CF__COUNT; i++) {
        const char *n = model_field(REC_CUSTOMER, i)->name;
        GUARD(buf_appendf(&cols, ", f_%s", n));
        GUARD(buf_appendf(&params, ", ?%d", 10 + i));
        GUARD(buf_appendf(&sets, ", f_%s=?%d", n, 10 + i));
    }
    for (int k = 0; k < BI__COUNT; k++) {
        const char *n = blind_kind_name((blind_kind)k);
        GUARD(buf_appendf(&cols, ", bi_%s", n));
        GUARD(buf_appendf(&params, ", ?%d", 40 + k));
        GUARD(buf_appendf(&sets, ", bi_%s=?%d", n, 40 + k));
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp,
             "INSERT INTO customers(id, department, created, updated, dek_version, kek_version,"
             " erased, honeytoken, wrapped_dek, version%s) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,"
             " max(?50, 1)%s)",
             buf_cstr(&cols), buf_cstr(&params));
    d->sql[S_CUST_INSERT] = strdup(tmp);
    snprintf(tmp, sizeof tmp,
             "UPDATE customers SET department=?2, created=?3, updated=?4, dek_version=?5,"
             " kek_version=?6, erased=?7, honeytoken=?8, wrapped_dek=?9, version=version+1%s"
             " WHERE id=?1 AND erased=0 AND (?50=0 OR version=?50)",
             buf_cstr(&sets));
    d->sql[S_CUST_UPDATE] = strdup(tmp);
    snprintf(tmp, sizeof tmp,
             "SELECT id, department, created, updated, dek_version, kek_version, erased,"
             " honeytoken, wrapped_dek%s, version FROM customers WHERE id=?1",
             buf_cstr(&cols));
    d->sql[S_CUST_GET] = strdup(tmp);
    char in[8 * SQ_MANY];
    size_t used = 0;
    for (int i = 1; i <= SQ_MANY; i++) {
        used += (size_t)snprintf(in + used, sizeof in - used, "%s?%d", i > 1 ? "," : "", i);
    }
    snprintf(tmp, sizeof tmp,
             "SELECT id, department, created, updated, dek_version, kek_version, erased,"
             " honeytoken, wrapped_dek%s, version FROM customers WHERE id IN (%s)",
             buf_cstr(&cols), in);
    d->sql[S_CUST_GET_MANY] = strdup(tmp);
    buf_reset(&sets);
    for (int i = 0; i < CF__COUNT; i++) {
        GUARD(buf_appendf(&sets, ", f_%s=NULL", model_field(REC_CUSTOMER, i)->name));
    }
    for (int k = 0; k < BI__COUNT; k++) {
        GUARD(buf_appendf(&sets, ", bi_%s=NULL", blind_kind_name((blind_kind)k)));
    }
    snprintf(tmp, sizeof tmp,
             "UPDATE customers SET erased=1, wrapped_dek=NULL, updated=?2, version=version+1%s "
             "WHERE id=?1",
             buf_cstr(&sets));
    d->sql[S_CUST_ERASE] = strdup(tmp);
    for (int k = 0; k < BI__COUNT; k++) {
        const char *n = blind_kind_name((blind_kind)k);
        snprintf(tmp, sizeof tmp,
                 "SELECT id FROM customers INDEXED BY customers_bi_%s WHERE bi_%s=?1 AND "
                 "erased=0 AND id>?2 ORDER BY id LIMIT ?3",
                 n, n);
        d->sql[S_FIND_FIRST + 2 * k] = strdup(tmp);
        snprintf(tmp, sizeof tmp,
                 "SELECT id FROM customers INDEXED BY customers_bi_%s WHERE bi_%s=?1 AND "
                 "department=?4 AND erased=0 AND id>?2 ORDER BY id LIMIT ?3",
                 n, n);
        d->sql[S_FIND_FIRST + 2 * k + 1] = strdup(tmp);
    }
    d->sql[S_CUST_ERASE_RECORDS] = strdup("DELETE FROM records WHERE customer_id=?1");
    d->sql[S_ERASURE_INSERT] = strdup("INSERT OR IGNORE INTO erasures(id, at) VALUES(?1, ?2)");
    d->sql[S_CUST_LIST_ALL] = strdup("SELECT id FROM customers WHERE erased=0 AND id>?1 AND "
                                     "(honeytoken=0 OR ?3) ORDER BY id LIMIT ?2");
    d->sql[S_CUST_LIST_DEPT] =
        strdup("SELECT id FROM customers WHERE erased=0 AND department=?4 AND id>?1 AND "
               "(honeytoken=0 OR ?3) ORDER BY department, id LIMIT ?2");
    d->sql[S_CUST_COUNT] = strdup("SELECT count(*) FROM customers WHERE erased=0");
    buf_reset(&cols);
    buf_reset(&params);
    buf_reset(&sets);
    for (int i = 0; i < REC_MAX_FIELDS; i++) {
        GUARD(buf_appendf(&cols, ", f%d", i));
        GUARD(buf_appendf(&params, ", ?%d", 10 + i));
        GUARD(buf_appendf(&sets, ", f%d=?%d", i, 10 + i));
    }
    snprintf(tmp, sizeof tmp,
             "INSERT INTO records(type, id, customer_id, created, dek_version%s) "
             "VALUES(?1,?2,?3,?4,?5%s)",
             buf_cstr(&cols), buf_cstr(&params));
    d->sql[S_REC_INSERT] = strdup(tmp);
    snprintf(tmp, sizeof tmp, "UPDATE records SET dek_version=?5%s WHERE id=?2 AND type=?1",
             buf_cstr(&sets));
    d->sql[S_REC_UPDATE] = strdup(tmp);
    snprintf(tmp, sizeof tmp,
             "SELECT type, id, customer_id, created, dek_version%s FROM records WHERE "
             "customer_id=?1 AND type=?2 AND rid > coalesce((SELECT rid FROM records WHERE "
             "id=?3), 0) ORDER BY rid LIMIT ?4",
             buf_cstr(&cols));
    d->sql[S_REC_LIST] = strdup(tmp);
    d->sql[S_ACC_INSERT] =
        strdup("INSERT INTO accounts(id, username, role, department, pwhash, disabled, created, "
               "failed, locked_until, lock_level, training_until, totp, totp_enabled, totp_step, "
               "pw_changed) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)");
    d->sql[S_ACC_UPDATE] =
        strdup("UPDATE accounts SET username=?2, role=?3, department=?4, pwhash=?5, "
               "disabled=?6, created=?7, failed=?8, locked_until=?9, lock_level=?10, "
               "training_until=?11, totp=?12, totp_enabled=?13, totp_step=?14, pw_changed=?15 "
               "WHERE id=?1");
    const char *acc_cols = "SELECT id, username, role, department, pwhash, disabled, created, "
                           "failed, locked_until, lock_level, training_until, totp, totp_enabled,"
                           " totp_step, pw_changed FROM accounts";
    snprintf(tmp, sizeof tmp, "%s WHERE username=?1", acc_cols);
    d->sql[S_ACC_BY_NAME] = strdup(tmp);
    snprintf(tmp, sizeof tmp, "%s WHERE id=?1", acc_cols);
    d->sql[S_ACC_BY_ID] = strdup(tmp);
    snprintf(tmp, sizeof tmp, "%s ORDER BY username LIMIT ?1", acc_cols);
    d->sql[S_ACC_LIST] = strdup(tmp);
    d->sql[S_SES_INSERT] = strdup("INSERT INTO sessions(hash, account_id, created, expires, "
                                  "last_seen, flags) VALUES(?1,?2,?3,?4,?5,?6)");
    d->sql[S_SES_GET] =
        strdup("SELECT account_id, created, expires, last_seen, flags FROM sessions WHERE hash=?1");
    d->sql[S_SES_DELETE] = strdup("DELETE FROM sessions WHERE hash=?1");
    d->sql[S_SES_TOUCH] = strdup("UPDATE sessions SET last_seen=?2, flags=?3 WHERE hash=?1");
    d->sql[S_SES_DELETE_ACCOUNT] = strdup("DELETE FROM sessions WHERE account_id=?1");
    d->sql[S_IDEM_GET] =
        strdup("SELECT req_hash, status, body FROM idempotency WHERE key=?1 AND at>=?2");
    d->sql[S_IDEM_CLAIM] =
        strdup("INSERT INTO idempotency(key, req_hash, status, body, at) VALUES(?1,?2,0,NULL,?3) "
               "ON CONFLICT(key) DO UPDATE SET req_hash=excluded.req_hash, status=0, body=NULL, "
               "at=excluded.at WHERE idempotency.at<?4");
    d->sql[S_IDEM_PUT] = strdup("UPDATE idempotency SET status=?2, body=?3 WHERE key=?1");
    d->sql[S_IDEM_DROP] = strdup("DELETE FROM idempotency WHERE key=?1 AND status=0");
    d->sql[S_IDEM_PURGE] = strdup("DELETE FROM idempotency WHERE at<?1");
    d->sql[S_ERASURES] = strdup("SELECT id, at FROM erasures ORDER BY at, id");
    d->sql[S_META_GET] = strdup("SELECT value FROM meta WHERE key=?1");
    d->sql[S_META_SET] =
        strdup("INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET "
               "value=excluded.value");
    d->sql[S_BEGIN] = strdup("BEGIN IMMEDIATE");
    d->sql[S_COMMIT] = strdup("COMMIT");
    d->sql[S_ROLLBACK] = strdup("ROLLBACK");
    for (int i = 0; i < S__COUNT; i++) {
        CHECK(d->sql[i] != NULL, ERR_INTERNAL, "out of memory");
    }
out:
    buf_free(&cols);
    buf_free(&params);
    buf_free(&sets);
    return rc;
}

/* Version 2: identity and access (second factor, training, lockout levels, idle sessions,
 * recovery codes, API keys, change and export requests, break-glass). */
static const char MIGRATE_V2[] =
    "BEGIN;"
    "ALTER TABLE accounts ADD COLUMN lock_level INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE accounts ADD COLUMN training_until INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE accounts ADD COLUMN totp TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE accounts ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE accounts ADD COLUMN totp_step INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE accounts ADD COLUMN pw_changed INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sessions ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sessions ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX IF NOT EXISTS sessions_account ON sessions(account_id);"
    "CREATE TABLE recovery_codes(account_id TEXT NOT NULL REFERENCES accounts(id), hash BLOB "
    "NOT NULL, used INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(account_id, hash)) WITHOUT ROWID;"
    "CREATE TABLE api_keys(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, hash BLOB NOT NULL "
    "UNIQUE, prefix TEXT NOT NULL, role TEXT NOT NULL, department TEXT NOT NULL, scope TEXT NOT "
    "NULL, addresses TEXT NOT NULL, created_by TEXT NOT NULL, created INTEGER NOT NULL, "
    "last_used INTEGER NOT NULL DEFAULT 0, last_source TEXT NOT NULL DEFAULT '', revoked "
    "INTEGER NOT NULL DEFAULT 0, rotated INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE requests(id TEXT PRIMARY KEY, kind TEXT NOT NULL, customer_id TEXT NOT NULL,"
    " department TEXT NOT NULL, requester_id TEXT NOT NULL, requester TEXT NOT NULL, status "
    "TEXT NOT NULL, decided_by TEXT NOT NULL DEFAULT '', fields TEXT NOT NULL, note TEXT NOT "
    "NULL DEFAULT '', format TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL, decided "
    "INTEGER NOT NULL DEFAULT 0, expires INTEGER NOT NULL DEFAULT 0, payload BLOB);"
    "CREATE INDEX requests_status ON requests(status, department, created);"
    "CREATE TABLE breakglass(id TEXT PRIMARY KEY, account_id TEXT NOT NULL, username TEXT NOT "
    "NULL, reason TEXT NOT NULL, opened INTEGER NOT NULL, expires INTEGER NOT NULL, closed "
    "INTEGER NOT NULL DEFAULT 0, reads INTEGER NOT NULL DEFAULT 0, reviewed_by TEXT NOT NULL "
    "DEFAULT '', reviewed INTEGER NOT NULL DEFAULT 0, review_note TEXT NOT NULL DEFAULT '');"
    "UPDATE meta SET value='2' WHERE key='schema_version';"
    "COMMIT;";

static err migrate_v2(sqlite3 *db)
{
    return exec(db, MIGRATE_V2);
}

/* What concurrent writers rely on, enforced by SQLite itself at every write, whoever writes:
 * - customers.version, bumped by every change of a row (store_customer_update compares it);
 * - a wrapped data key carries the master-key version its column names (the envelope's header,
 *   docs/FORMATS-crypto.md), never one below meta 'kek_floor' (versions being retired);
 * - a customer's data-key generation never goes back;
 * - a transaction or communication is sealed under the generation its customer holds now.
 * Added in place to older files (no data moves), under a write lock so that two processes
 * opening the same file at once do not both add the column. */
/* A wrapped key below the floor, or whose envelope names another version than its column. */
#define KEK_WRONG                                                                                  \
    "(NEW.kek_version < (SELECT coalesce(max(CAST(value AS INTEGER)), 0) FROM meta WHERE "         \
    "key='kek_floor') OR hex(substr(NEW.wrapped_dek, 3, 4)) <> printf('%08X', NEW.kek_version))"
#define REC_WRONG                                                                                  \
    "NEW.dek_version IS NOT (SELECT dek_version FROM customers WHERE id=NEW.customer_id AND "      \
    "erased=0)"
#define KEK_REFUSED                                                                                \
    "SELECT RAISE(ABORT, 'data key not wrapped under an accepted master-key version')"
#define REC_REFUSED                                                                                \
    "SELECT RAISE(ABORT, 'record sealed under a data-key generation its customer does not hold')"
static const char CONCURRENCY_TRIGGERS[] =
    "CREATE TRIGGER IF NOT EXISTS customers_keys_insert BEFORE INSERT ON customers "
    "WHEN NEW.erased=0 AND NEW.wrapped_dek IS NOT NULL AND " KEK_WRONG " "
    "BEGIN " KEK_REFUSED "; END;"
    "CREATE TRIGGER IF NOT EXISTS customers_keys_update BEFORE UPDATE ON customers "
    "WHEN NEW.erased=0 AND (NEW.dek_version < OLD.dek_version OR "
    "(NEW.wrapped_dek IS NOT NULL AND " KEK_WRONG ")) "
    "BEGIN " KEK_REFUSED "; END;"
    "CREATE TRIGGER IF NOT EXISTS records_dek_insert BEFORE INSERT ON records "
    "WHEN " REC_WRONG " BEGIN " REC_REFUSED "; END;"
    "CREATE TRIGGER IF NOT EXISTS records_dek_update BEFORE UPDATE ON records "
    "WHEN " REC_WRONG " BEGIN " REC_REFUSED "; END;";

static err concurrency_schema(sqlite3 *db)
{
    err rc = ERR_OK;
    sqlite3_stmt *st = NULL;
    GUARD(exec(db, "BEGIN IMMEDIATE"));
    /* (version, tables): (1, 2) when the column is there, (0, 2) when it is to be added; a
     * file without the customer tables has nothing to guard. */
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT count(*) FROM pragma_table_info('customers') WHERE "
                           "name='version'), (SELECT count(*) FROM sqlite_master WHERE "
                           "type='table' AND name IN ('customers', 'records'))",
                           -1, &st, NULL) != SQLITE_OK) {
        FAIL(ERR_IO, "store: cannot read the schema");
    }
    bool have = false, tables = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        have = sqlite3_column_int(st, 0) == 1;
        tables = sqlite3_column_int(st, 1) == 2;
    }
    sqlite3_finalize(st);
    if (!tables) {
        GUARD(exec(db, "COMMIT"));
        return ERR_OK;
    }
    if (!have) {
        GUARD(exec(db, "ALTER TABLE customers ADD COLUMN version INTEGER NOT NULL DEFAULT 1"));
    }
    GUARD(exec(db, CONCURRENCY_TRIGGERS));
    GUARD(exec(db, "COMMIT"));
out:
    if (rc != ERR_OK && !sqlite3_get_autocommit(db)) {
        IGNORE(exec(db, "ROLLBACK"));
    }
    return rc;
}

static err migrate(sqlite3 *db)
{
    buf ddl;
    buf_init(&ddl, 0);
    err rc = ERR_OK;
    GUARD(buf_append_str(&ddl, "BEGIN;"
                               "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                               "CREATE TABLE customers(id TEXT PRIMARY KEY, department TEXT NOT "
                               "NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,"
                               " dek_version INTEGER NOT NULL, kek_version INTEGER NOT NULL,"
                               " erased INTEGER NOT NULL DEFAULT 0, honeytoken INTEGER NOT NULL "
                               "DEFAULT 0, wrapped_dek BLOB"));
    for (int i = 0; i < CF__COUNT; i++) {
        GUARD(buf_appendf(&ddl, ", f_%s BLOB", model_field(REC_CUSTOMER, i)->name));
    }
    for (int k = 0; k < BI__COUNT; k++) {
        GUARD(buf_appendf(&ddl, ", bi_%s INTEGER", blind_kind_name((blind_kind)k)));
    }
    GUARD(buf_append_str(&ddl, ") WITHOUT ROWID;"));
    for (int k = 0; k < BI__COUNT; k++) {
        const char *n = blind_kind_name((blind_kind)k);
        /* (value, department, id): a search with a department is one index range, already
         * in id order; the planner is held to it with INDEXED BY. */
        GUARD(buf_appendf(&ddl,
                          "CREATE INDEX customers_bi_%s ON customers(bi_%s, department, id) "
                          "WHERE bi_%s IS NOT NULL;",
                          n, n, n));
    }
    GUARD(buf_append_str(&ddl, "CREATE INDEX customers_dept ON customers(department, id);"));
    GUARD(buf_append_str(&ddl, "CREATE TABLE records(rid INTEGER PRIMARY KEY AUTOINCREMENT,"
                               " type INTEGER NOT NULL, id TEXT NOT NULL UNIQUE, customer_id TEXT "
                               "NOT NULL REFERENCES customers(id), created INTEGER NOT NULL,"
                               " dek_version INTEGER NOT NULL"));
    for (int i = 0; i < REC_MAX_FIELDS; i++) {
        GUARD(buf_appendf(&ddl, ", f%d BLOB", i));
    }
    GUARD(buf_append_str(
        &ddl,
        ");"
        "CREATE INDEX records_customer ON records(customer_id, type, rid);"
        "CREATE TABLE accounts(id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, role TEXT "
        "NOT NULL, department TEXT NOT NULL, pwhash TEXT NOT NULL, disabled INTEGER NOT NULL,"
        " created INTEGER NOT NULL, failed INTEGER NOT NULL, locked_until INTEGER NOT NULL);"
        "CREATE TABLE sessions(hash BLOB PRIMARY KEY, account_id TEXT NOT NULL REFERENCES "
        "accounts(id), created INTEGER NOT NULL, expires INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE INDEX sessions_account ON sessions(account_id);"
        "CREATE TABLE idempotency(key BLOB PRIMARY KEY, req_hash BLOB NOT NULL, status INTEGER "
        "NOT NULL, body BLOB, at INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE erasures(id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;"
        "INSERT INTO meta(key, value) VALUES('schema_version', '1');"
        "COMMIT;"));
    GUARD(exec(db, buf_cstr(&ddl)));
    GUARD(migrate_v2(db));
out:
    buf_free(&ddl);
    return rc;
}

static void sqlite_close(store *s);

/* The schema's versions, in order: 1 (migrate), 2 (migrate_v2); the concurrency triggers and
 * SQ_ACCESS_SCHEMA are added in place on every open. */
#define SQ_SCHEMA_LATEST 2

err sqlite_store_open(const char *path, bool create, store **out)
{
    err rc = ERR_OK;
    store *s = calloc(1, sizeof *s);
    sq_db *d = calloc(1, sizeof *d);
    if (!s || !d) {
        free(s);
        free(d);
        BAIL(ERR_INTERNAL, "out of memory");
    }
    s->ops = &SQLITE_OPS;
    s->impl = d;
    d->path = strdup(path);
    pthread_mutex_init(&d->lock, NULL);
    pthread_key_create(&d->key, conn_release);
    pthread_mutex_lock(&gen_lock);
    d->generation = next_generation++;
    pthread_mutex_unlock(&gen_lock);
    CHECK(d->path != NULL, ERR_INTERNAL, "out of memory");
    GUARD(build_sql(d));
    if (create) {
        CHECK(access(path, F_OK) != 0, ERR_CONFLICT, "store: database file exists already");
        sqlite3 *db = NULL;
        GUARD(open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db));
        rc = migrate(db);
        if (rc == ERR_OK) {
            rc = concurrency_schema(db);
        }
        if (rc == ERR_OK) {
            rc = exec(db, SQ_ACCESS_SCHEMA);
        }
        sqlite3_close_v2(db);
        GUARD(rc);
    } else {
        CHECK(access(path, R_OK | W_OK) == 0, ERR_IO, "store: cannot open the database file");
        buf v;
        buf_init(&v, 64);
        rc = sqlite_meta_get(s, "schema_version", &v);
        /* The schema's version, as a number: older ones are migrated in order below, a newer
         * one (written by a later Custos) is refused untouched. */
        char *end = NULL;
        long version = rc == ERR_OK ? strtol(buf_cstr(&v), &end, 10) : 0;
        bool known = rc == ERR_OK && end && *end == '\0' && version >= 1;
        buf_free(&v);
        GUARD(rc);
        CHECK(known, ERR_IO, "store: unknown schema version");
        CHECK(version <= SQ_SCHEMA_LATEST, ERR_IO,
              "store: the database's schema (version %ld) is newer than this Custos knows (%d): "
              "run the newer Custos",
              version, SQ_SCHEMA_LATEST);
        bool v1 = version == 1;
        conn *c;
        GUARD(get_conn(s, &c));
        if (v1) {
            GUARD(migrate_v2(c->db));
        }
        GUARD(concurrency_schema(c->db));
        GUARD(exec(c->db, SQ_ACCESS_SCHEMA));
    }
    *out = s;
    return ERR_OK;
out:
    sqlite_close(s);
    return rc;
}

static void sqlite_close(store *s)
{
    if (!s || s->tx) {
        return;
    }
    sq_db *d = DB(s);
    /* This thread's key value would otherwise be released later by the destructor. */
    pthread_setspecific(d->key, NULL);
    pthread_mutex_lock(&d->lock);
    conn *c = d->all;
    d->all = NULL;
    pthread_mutex_unlock(&d->lock);
    /* A clean close leaves no WAL behind: checkpointed and cut to nothing. */
    if (c && c->db) {
        sqlite3_exec(c->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    }
    while (c) {
        conn *n = c->next;
        conn_close(c);
        c = n;
    }
    pthread_key_delete(d->key);
    pthread_mutex_destroy(&d->lock);
    for (int i = 0; i < S__COUNT; i++) {
        free(d->sql[i]);
    }
    free(d->path);
    free(d);
    free(s);
}

/* ---- sqlite_int.h: for sqlite_backup.c ---- */

err sq_conn(store *s, sqlite3 **db)
{
    conn *c;
    TRY(get_conn(s, &c));
    *db = c->db;
    return ERR_OK;
}

err sq_exec(sqlite3 *db, const char *sql)
{
    return exec(db, sql);
}

/* ---- transactions ---- */

/* BEGIN IMMEDIATE on this thread's connection, which the transaction then holds. */
static err sqlite_begin(store *s, store_tx **out)
{
    conn *c;
    TRY(get_conn(s, &c)); /* refuses a thread that holds a transaction already */
    sq_tx *t = calloc(1, sizeof *t);
    ENSURE(t != NULL, ERR_INTERNAL, "out of memory");
    t->base.view = (store){.ops = s->ops, .impl = s->impl, .tx = &t->base};
    t->c = c;
    t->thread = pthread_self();
    sqlite3_stmt *st;
    err e = stmt(s, S_BEGIN, &st);
    if (e == ERR_OK) {
        e = step_done(s, st, "begin");
    }
    if (e != ERR_OK) {
        free(t);
        return e;
    }
    c->tx = t;
    *out = &t->base;
    return ERR_OK;
}

static void tx_end(sq_tx *t)
{
    t->c->tx = NULL;
    free(t);
}

static void sqlite_rollback(store_tx *tx)
{
    sq_tx *t = (sq_tx *)tx;
    sqlite3 *db = t->c->db;
    if (pthread_equal(t->thread, pthread_self()) && !sqlite3_get_autocommit(db)) {
        sqlite3_stmt *st;
        if (stmt(&tx->view, S_ROLLBACK, &st) != ERR_OK ||
            step_done(&tx->view, st, "rollback") != ERR_OK) {
            /* Never leave the connection inside a transaction: it would keep the write
             * lock and every other writer would fail with "database is locked". */
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    tx_end(t);
}

static err sqlite_commit(store_tx *tx)
{
    sq_tx *t = (sq_tx *)tx;
    sqlite3_stmt *st;
    err e = stmt(&tx->view, S_COMMIT, &st);
    if (e == ERR_OK) {
        e = step_done(&tx->view, st, "commit");
    }
    if (e != ERR_OK) {
        sqlite_rollback(tx); /* a failed commit leaves nothing behind */
        return e;
    }
    tx_end(t);
    return ERR_OK;
}

/* ---- customers ---- */

static void bind_customer(sqlite3_stmt *st, const sealed_customer *c)
{
    bind_text(st, 1, c->id);
    bind_text(st, 2, c->department);
    sqlite3_bind_int64(st, 3, c->created_us);
    sqlite3_bind_int64(st, 4, c->updated_us);
    sqlite3_bind_int64(st, 5, c->dek_version);
    sqlite3_bind_int64(st, 6, c->kek_version);
    sqlite3_bind_int(st, 7, c->erased);
    sqlite3_bind_int(st, 8, c->honeytoken);
    bind_buf(st, 9, &c->wrapped_dek);
    for (int i = 0; i < CF__COUNT; i++) {
        bind_buf(st, 10 + i, &c->field[i]);
    }
    for (int k = 0; k < BI__COUNT; k++) {
        if (c->has_blind[k]) {
            sqlite3_bind_int64(st, 40 + k, (sqlite3_int64)c->blind[k]);
        } else {
            sqlite3_bind_null(st, 40 + k);
        }
    }
    sqlite3_bind_int64(st, 50, (sqlite3_int64)c->version);
}

err sqlite_customer_insert(store *s, const sealed_customer *c)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_CUST_INSERT, &st));
    bind_customer(st, c);
    return step_done(s, st, "customer insert");
}

err sqlite_customer_update(store *s, const sealed_customer *c)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_CUST_UPDATE, &st));
    bind_customer(st, c);
    TRY(step_done(s, st, "customer update"));
    if (sqlite3_changes(conn_db(s)) == 1) {
        return ERR_OK;
    }
    /* Nothing changed: gone, or someone else wrote the row since c was read. */
    sealed_customer now;
    sealed_customer_init(&now);
    err e = sqlite_customer_get(s, c->id, &now);
    bool live = e == ERR_OK && !now.erased;
    sealed_customer_free(&now);
    if (e != ERR_OK && e != ERR_NOT_FOUND) {
        return e;
    }
    ENSURE(live, ERR_NOT_FOUND, "no such customer");
    BAIL(ERR_CONFLICT, "the customer was changed by someone else meanwhile: read it again");
}

/* The columns of S_CUST_GET / S_CUST_GET_MANY (build_sql) into out. */
static err read_customer(sqlite3_stmt *st, sealed_customer *out)
{
    col_text(st, 0, out->id, sizeof out->id);
    col_text(st, 1, out->department, sizeof out->department);
    out->created_us = sqlite3_column_int64(st, 2);
    out->updated_us = sqlite3_column_int64(st, 3);
    out->dek_version = (uint32_t)sqlite3_column_int64(st, 4);
    out->kek_version = (uint32_t)sqlite3_column_int64(st, 5);
    out->erased = sqlite3_column_int(st, 6) != 0;
    out->honeytoken = sqlite3_column_int(st, 7) != 0;
    TRY(col_buf(st, 8, &out->wrapped_dek));
    for (int i = 0; i < CF__COUNT; i++) {
        TRY(col_buf(st, 9 + i, &out->field[i]));
    }
    for (int k = 0; k < BI__COUNT; k++) {
        int col = 9 + CF__COUNT + k;
        out->has_blind[k] = sqlite3_column_type(st, col) != SQLITE_NULL;
        out->blind[k] = out->has_blind[k] ? (uint64_t)sqlite3_column_int64(st, col) : 0;
    }
    out->version = (uint64_t)sqlite3_column_int64(st, 9 + CF__COUNT + BI__COUNT);
    return ERR_OK;
}

err sqlite_customer_get(store *s, const char *id, sealed_customer *out)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_CUST_GET, &st));
    bind_text(st, 1, id);
    int r = sqlite3_step(st);
    if (r == SQLITE_DONE) {
        sqlite3_reset(st);
        BAIL(ERR_NOT_FOUND, "no such customer");
    }
    if (r != SQLITE_ROW) {
        err e = db_error(conn_db(s), "customer read");
        sqlite3_reset(st);
        return e;
    }
    err rc = read_customer(st, out);
    sqlite3_reset(st);
    return rc;
}

/* One statement per SQ_MANY ids (unused parameters stay NULL and match nothing); each row is
 * copied to every position that asked for its id. */
err sqlite_customer_get_many(store *s, const char (*ids)[ID_LEN + 1], size_t n,
                             sealed_customer *out, bool *found)
{
    for (size_t i = 0; i < n; i++) {
        found[i] = false;
    }
    for (size_t base = 0; base < n; base += SQ_MANY) {
        size_t m = n - base < SQ_MANY ? n - base : SQ_MANY;
        if (m == 1) {
            /* One id (a search's usual lone candidate): the point read, no IN list to build. */
            err e = sqlite_customer_get(s, ids[base], &out[base]);
            if (e != ERR_OK && e != ERR_NOT_FOUND) {
                return e;
            }
            found[base] = e == ERR_OK;
            continue;
        }
        sqlite3_stmt *st;
        TRY(stmt(s, S_CUST_GET_MANY, &st));
        for (size_t i = 0; i < m; i++) {
            bind_text(st, (int)i + 1, ids[base + i]);
        }
        err rc = ERR_OK;
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            const unsigned char *id = sqlite3_column_text(st, 0);
            for (size_t i = 0; id && i < m && rc == ERR_OK; i++) {
                if (!found[base + i] && strcmp(ids[base + i], (const char *)id) == 0) {
                    rc = read_customer(st, &out[base + i]);
                    found[base + i] = rc == ERR_OK;
                }
            }
            if (rc != ERR_OK) {
                break;
            }
        }
        if (rc == ERR_OK && r != SQLITE_ROW && r != SQLITE_DONE) {
            rc = db_error(conn_db(s), "customer read");
        }
        sqlite3_reset(st);
        TRY(rc);
    }
    return ERR_OK;
}

err sqlite_customer_erase(store *s, const char *id, int64_t at_us)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_CUST_ERASE, &st));
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, at_us);
    TRY(step_done(s, st, "customer erase"));
    ENSURE(sqlite3_changes(conn_db(s)) == 1, ERR_NOT_FOUND, "no such customer");
    TRY(stmt(s, S_CUST_ERASE_RECORDS, &st));
    bind_text(st, 1, id);
    TRY(step_done(s, st, "records erase"));
    TRY(stmt(s, S_ERASURE_INSERT, &st));
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, at_us);
    return step_done(s, st, "erasure journal");
}

static err collect_ids(store *s, sqlite3_stmt *st, size_t max, char (*ids)[ID_LEN + 1], size_t *n)
{
    size_t k = 0;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW && k < max) {
        col_text(st, 0, ids[k], ID_LEN + 1);
        k++;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        err e = db_error(conn_db(s), "customer list");
        sqlite3_reset(st);
        return e;
    }
    sqlite3_reset(st);
    *n = k;
    return ERR_OK;
}

err sqlite_customer_find(store *s, blind_kind k, uint64_t v, const char *dept, const char *after,
                         size_t max, char (*ids)[ID_LEN + 1], size_t *n)
{
    ENSURE(k >= 0 && k < BI__COUNT, ERR_INTERNAL, "bad blind kind");
    sqlite3_stmt *st;
    TRY(stmt(s, S_FIND_FIRST + 2 * (int)k + (dept ? 1 : 0), &st));
    sqlite3_bind_int64(st, 1, (sqlite3_int64)v);
    bind_text(st, 2, after ? after : "");
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    if (dept) {
        bind_text(st, 4, dept);
    }
    return collect_ids(s, st, max, ids, n);
}

err sqlite_customer_list(store *s, const char *dept, bool with_honeytokens, const char *after,
                         size_t max, char (*ids)[ID_LEN + 1], size_t *n)
{
    sqlite3_stmt *st;
    TRY(stmt(s, dept ? S_CUST_LIST_DEPT : S_CUST_LIST_ALL, &st));
    bind_text(st, 1, after ? after : "");
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    sqlite3_bind_int(st, 3, with_honeytokens);
    if (dept) {
        bind_text(st, 4, dept);
    }
    return collect_ids(s, st, max, ids, n);
}

err sqlite_customer_count(store *s, int64_t *n)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_CUST_COUNT, &st));
    int r = sqlite3_step(st);
    *n = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    ENSURE(r == SQLITE_ROW, ERR_IO, "store: count failed");
    return ERR_OK;
}

err sqlite_customer_rewrap_all(store *s, uint32_t v, store_rewrap_fn fn, void *ctx, size_t *done,
                               size_t *failed)
{
    ENSURE(s->tx == NULL, ERR_INTERNAL, "store: this sweep runs its own transactions");
    conn *c;
    TRY(get_conn(s, &c));
    *done = 0;
    *failed = 0;
    err rc = ERR_OK;
    buf w;
    buf_init(&w, 4096);
    sqlite3_stmt *sel = NULL, *upd = NULL;
    char last[ID_LEN + 1] = "";
    if (sqlite3_prepare_v2(c->db,
                           "SELECT id, wrapped_dek FROM customers WHERE erased=0 AND "
                           "kek_version<>?1 AND id>?2 ORDER BY id LIMIT 500",
                           -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db,
                           "UPDATE customers SET wrapped_dek=?2, kek_version=?3 WHERE id=?1 "
                           "AND erased=0",
                           -1, &upd, NULL) != SQLITE_OK) {
        FAIL(ERR_IO, "store: rewrap prepare failed");
    }
    for (;;) {
        /* Batches of 500 rows per transaction: the server keeps running meanwhile. */
        GUARD(exec(c->db, "BEGIN IMMEDIATE"));
        sqlite3_reset(sel);
        sqlite3_bind_int64(sel, 1, v);
        sqlite3_bind_text(sel, 2, last, -1, SQLITE_TRANSIENT);
        size_t batch = 0;
        int r;
        while ((r = sqlite3_step(sel)) == SQLITE_ROW) {
            col_text(sel, 0, last, sizeof last);
            GUARD(col_buf(sel, 1, &w));
            uint32_t nv = 0;
            batch++;
            err e = fn(ctx, last, &w, &nv);
            if (e == ERR_CRYPTO) {
                (*failed)++; /* unreadable already: left as it is, reported */
                continue;
            }
            GUARD(e);
            sqlite3_reset(upd);
            bind_text(upd, 1, last);
            bind_buf(upd, 2, &w);
            sqlite3_bind_int64(upd, 3, nv);
            CHECK(sqlite3_step(upd) == SQLITE_DONE, ERR_IO, "store: rewrap update failed");
            (*done)++;
        }
        CHECK(r == SQLITE_DONE, ERR_IO, "store: rewrap scan failed");
        sqlite3_reset(sel);
        GUARD(exec(c->db, "COMMIT"));
        if (batch == 0) {
            break;
        }
    }
out:
    if (sel) {
        sqlite3_finalize(sel);
    }
    if (upd) {
        sqlite3_finalize(upd);
    }
    if (rc != ERR_OK && !sqlite3_get_autocommit(c->db)) {
        IGNORE(exec(c->db, "ROLLBACK"));
    }
    buf_free(&w);
    return rc;
}

/* ---- master-key versions ---- */

err sqlite_kek_floor(store *s, uint32_t *floor)
{
    buf v;
    buf_init(&v, 64);
    err e = sqlite_meta_get(s, "kek_floor", &v);
    *floor = e == ERR_OK ? (uint32_t)strtoul(buf_cstr(&v), NULL, 10) : 0;
    buf_free(&v);
    return e == ERR_NOT_FOUND ? ERR_OK : e;
}

err sqlite_customer_check_keys(store *s, store_key_fn fn, void *ctx, size_t *n, size_t *failed)
{
    conn *c;
    TRY(get_conn(s, &c));
    *n = 0;
    *failed = 0;
    err rc = ERR_OK;
    sqlite3_stmt *sel = NULL;
    buf w;
    buf_init(&w, 4096);
    char id[ID_LEN + 1];
    if (sqlite3_prepare_v2(c->db,
                           "SELECT id, wrapped_dek FROM customers WHERE erased=0 AND wrapped_dek "
                           "IS NOT NULL ORDER BY id",
                           -1, &sel, NULL) != SQLITE_OK) {
        FAIL(ERR_IO, "store: key check prepare failed");
    }
    int r;
    while ((r = sqlite3_step(sel)) == SQLITE_ROW) {
        col_text(sel, 0, id, sizeof id);
        GUARD(col_buf(sel, 1, &w));
        (*n)++;
        err e = fn(ctx, id, buf_slice(&w));
        if (e == ERR_CRYPTO) {
            (*failed)++;
            continue;
        }
        GUARD(e);
    }
    CHECK(r == SQLITE_DONE, ERR_IO, "store: key check scan failed");
out:
    if (sel) {
        sqlite3_finalize(sel);
    }
    buf_free(&w);
    return rc;
}

/* Live rows whose key is wrapped under a version below ?1, by the column or the envelope. */
#define KEK_BELOW                                                                                  \
    "erased=0 AND wrapped_dek IS NOT NULL AND (kek_version<?1 OR "                                 \
    "hex(substr(wrapped_dek, 3, 4))<printf('%08X', ?1))"

err sqlite_customer_retire_kek(store *s, uint32_t floor, store_rewrap_fn fn, void *ctx,
                               size_t *done)
{
    ENSURE(s->tx == NULL, ERR_INTERNAL, "store: this sweep runs its own transactions");
    conn *c;
    TRY(get_conn(s, &c));
    *done = 0;
    err rc = ERR_OK;
    buf w;
    buf_init(&w, 4096);
    sqlite3_stmt *sel = NULL, *upd = NULL, *cnt = NULL, *set = NULL;
    char last[ID_LEN + 1] = "";
    if (sqlite3_prepare_v2(c->db,
                           "SELECT id, wrapped_dek FROM customers WHERE " KEK_BELOW
                           " AND id>?2 ORDER BY id LIMIT 500",
                           -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db,
                           "UPDATE customers SET wrapped_dek=?2, kek_version=?3 WHERE id=?1 AND "
                           "erased=0",
                           -1, &upd, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "SELECT count(*) FROM customers WHERE " KEK_BELOW, -1, &cnt,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db,
                           "INSERT INTO meta(key, value) VALUES('kek_floor', ?1) ON CONFLICT(key) "
                           "DO UPDATE SET value=max(CAST(value AS INTEGER), "
                           "CAST(excluded.value AS INTEGER))",
                           -1, &set, NULL) != SQLITE_OK) {
        FAIL(ERR_IO, "store: retire prepare failed (%s)", sqlite3_errmsg(c->db));
    }
    /* One write transaction: no writer can commit between the check and the new floor. */
    GUARD(exec(c->db, "BEGIN IMMEDIATE"));
    for (;;) {
        sqlite3_reset(sel);
        sqlite3_bind_int64(sel, 1, floor);
        sqlite3_bind_text(sel, 2, last, -1, SQLITE_TRANSIENT);
        size_t batch = 0;
        int r;
        while ((r = sqlite3_step(sel)) == SQLITE_ROW) {
            col_text(sel, 0, last, sizeof last);
            GUARD(col_buf(sel, 1, &w));
            uint32_t nv = 0;
            batch++;
            GUARD(fn(ctx, last, &w, &nv));
            sqlite3_reset(upd);
            bind_text(upd, 1, last);
            bind_buf(upd, 2, &w);
            sqlite3_bind_int64(upd, 3, nv);
            CHECK(sqlite3_step(upd) == SQLITE_DONE, ERR_IO, "store: rewrap update failed (%s)",
                  sqlite3_errmsg(c->db));
            (*done)++;
        }
        CHECK(r == SQLITE_DONE, ERR_IO, "store: retire scan failed");
        if (batch == 0) {
            break;
        }
    }
    sqlite3_bind_int64(cnt, 1, floor);
    CHECK(sqlite3_step(cnt) == SQLITE_ROW, ERR_IO, "store: retire count failed");
    int64_t left = sqlite3_column_int64(cnt, 0);
    CHECK(left == 0, ERR_CONFLICT,
          "%lld data key(s) are still wrapped under a master-key version below %u", (long long)left,
          floor);
    sqlite3_bind_int64(set, 1, floor);
    CHECK(sqlite3_step(set) == SQLITE_DONE, ERR_IO, "store: cannot record the retired versions");
    GUARD(exec(c->db, "COMMIT"));
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    sqlite3_finalize(cnt);
    sqlite3_finalize(set);
    if (rc != ERR_OK && !sqlite3_get_autocommit(c->db)) {
        IGNORE(exec(c->db, "ROLLBACK"));
    }
    buf_free(&w);
    return rc;
}

err sqlite_customer_count_kek(store *s, uint32_t version, int64_t *n)
{
    conn *c;
    TRY(get_conn(s, &c));
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT count(*) FROM customers WHERE erased=0 AND wrapped_dek IS NOT "
                           "NULL AND (kek_version=?1 OR hex(substr(wrapped_dek, 3, 4))="
                           "printf('%08X', ?1))",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_error(c->db, "key count");
    }
    sqlite3_bind_int64(st, 1, version);
    int r = sqlite3_step(st);
    *n = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    ENSURE(r == SQLITE_ROW, ERR_IO, "store: key count failed");
    return ERR_OK;
}

/* ---- records ---- */

static void bind_record(sqlite3_stmt *st, const sealed_record *r)
{
    sqlite3_bind_int(st, 1, (int)r->type);
    bind_text(st, 2, r->id);
    bind_text(st, 3, r->customer_id);
    sqlite3_bind_int64(st, 4, r->created_us);
    sqlite3_bind_int64(st, 5, r->dek_version);
    for (int i = 0; i < REC_MAX_FIELDS; i++) {
        bind_buf(st, 10 + i, &r->field[i]);
    }
}

err sqlite_record_insert(store *s, const sealed_record *r)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_REC_INSERT, &st));
    bind_record(st, r);
    return step_done(s, st, "record insert");
}

err sqlite_record_update(store *s, const sealed_record *r)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_REC_UPDATE, &st));
    bind_record(st, r);
    return step_done(s, st, "record update");
}

err sqlite_record_list(store *s, rectype t, const char *customer_id, const char *after, size_t max,
                       store_record_fn fn, void *ctx, size_t *n)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_REC_LIST, &st));
    bind_text(st, 1, customer_id);
    sqlite3_bind_int(st, 2, (int)t);
    bind_text(st, 3, after ? after : "");
    sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
    sealed_record r;
    sealed_record_init(&r, t);
    err rc = ERR_OK;
    size_t k = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        col_text(st, 1, r.id, sizeof r.id);
        col_text(st, 2, r.customer_id, sizeof r.customer_id);
        r.created_us = sqlite3_column_int64(st, 3);
        r.dek_version = (uint32_t)sqlite3_column_int64(st, 4);
        for (int i = 0; i < REC_MAX_FIELDS; i++) {
            GUARD(col_buf(st, 5 + i, &r.field[i]));
        }
        GUARD(fn(ctx, &r));
        k++;
    }
    CHECK(step == SQLITE_DONE, ERR_IO, "store: record list failed");
    if (n) {
        *n = k;
    }
out:
    sqlite3_reset(st);
    sealed_record_free(&r);
    return rc;
}

/* ---- accounts ---- */

static void bind_account(sqlite3_stmt *st, const account *a)
{
    bind_text(st, 1, a->id);
    bind_text(st, 2, a->username);
    bind_text(st, 3, a->role);
    bind_text(st, 4, a->department);
    bind_text(st, 5, a->pwhash);
    sqlite3_bind_int(st, 6, a->disabled);
    sqlite3_bind_int64(st, 7, a->created_us);
    sqlite3_bind_int(st, 8, a->failed_logins);
    sqlite3_bind_int64(st, 9, a->locked_until_us);
    sqlite3_bind_int(st, 10, a->lock_level);
    sqlite3_bind_int64(st, 11, a->training_until_us);
    bind_text(st, 12, a->totp);
    sqlite3_bind_int(st, 13, a->totp_enabled);
    sqlite3_bind_int64(st, 14, a->totp_step);
    sqlite3_bind_int64(st, 15, a->pw_changed_us);
}

static void read_account(sqlite3_stmt *st, account *a)
{
    col_text(st, 0, a->id, sizeof a->id);
    col_text(st, 1, a->username, sizeof a->username);
    col_text(st, 2, a->role, sizeof a->role);
    col_text(st, 3, a->department, sizeof a->department);
    col_text(st, 4, a->pwhash, sizeof a->pwhash);
    a->disabled = sqlite3_column_int(st, 5) != 0;
    a->created_us = sqlite3_column_int64(st, 6);
    a->failed_logins = sqlite3_column_int(st, 7);
    a->locked_until_us = sqlite3_column_int64(st, 8);
    a->lock_level = sqlite3_column_int(st, 9);
    a->training_until_us = sqlite3_column_int64(st, 10);
    col_text(st, 11, a->totp, sizeof a->totp);
    a->totp_enabled = sqlite3_column_int(st, 12) != 0;
    a->totp_step = sqlite3_column_int64(st, 13);
    a->pw_changed_us = sqlite3_column_int64(st, 14);
}

err sqlite_account_insert(store *s, const account *a)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_ACC_INSERT, &st));
    bind_account(st, a);
    err e = step_done(s, st, "account insert");
    if (e == ERR_CONFLICT) {
        BAIL(ERR_CONFLICT, "an account with that username exists already");
    }
    return e;
}

err sqlite_account_update(store *s, const account *a)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_ACC_UPDATE, &st));
    bind_account(st, a);
    return step_done(s, st, "account update");
}

static err account_one(store *s, int id, const char *key, account *out)
{
    sqlite3_stmt *st;
    TRY(stmt(s, id, &st));
    bind_text(st, 1, key);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        read_account(st, out);
        sqlite3_reset(st);
        return ERR_OK;
    }
    sqlite3_reset(st);
    ENSURE(r == SQLITE_DONE, ERR_IO, "store: account read failed");
    BAIL(ERR_NOT_FOUND, "no such account");
}

err sqlite_account_by_name(store *s, const char *username, account *out)
{
    return account_one(s, S_ACC_BY_NAME, username, out);
}

err sqlite_account_by_id(store *s, const char *id, account *out)
{
    return account_one(s, S_ACC_BY_ID, id, out);
}

err sqlite_account_list(store *s, account *out, size_t max, size_t *n)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_ACC_LIST, &st));
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    size_t k = 0;
    int r;
    while (k < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
        read_account(st, &out[k++]);
    }
    sqlite3_reset(st);
    *n = k;
    return ERR_OK;
}

/* ---- sessions ---- */

err sqlite_session_insert(store *s, const uint8_t hash[SESSION_HASH_LEN], const session_row *r)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_SES_INSERT, &st));
    sqlite3_bind_blob(st, 1, hash, SESSION_HASH_LEN, SQLITE_STATIC);
    bind_text(st, 2, r->account_id);
    sqlite3_bind_int64(st, 3, r->created_us);
    sqlite3_bind_int64(st, 4, r->expires_us);
    sqlite3_bind_int64(st, 5, r->last_seen_us);
    sqlite3_bind_int64(st, 6, r->flags);
    return step_done(s, st, "session insert");
}

err sqlite_session_get(store *s, const uint8_t hash[SESSION_HASH_LEN], session_row *out)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_SES_GET, &st));
    sqlite3_bind_blob(st, 1, hash, SESSION_HASH_LEN, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r != SQLITE_ROW) {
        sqlite3_reset(st);
        ENSURE(r == SQLITE_DONE, ERR_IO, "store: session read failed");
        BAIL(ERR_AUTH, "invalid or expired session");
    }
    col_text(st, 0, out->account_id, sizeof out->account_id);
    out->created_us = sqlite3_column_int64(st, 1);
    out->expires_us = sqlite3_column_int64(st, 2);
    out->last_seen_us = sqlite3_column_int64(st, 3);
    out->flags = (uint32_t)sqlite3_column_int64(st, 4);
    sqlite3_reset(st);
    return ERR_OK;
}

err sqlite_session_touch(store *s, const uint8_t hash[SESSION_HASH_LEN], int64_t last_seen_us,
                         uint32_t flags)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_SES_TOUCH, &st));
    sqlite3_bind_blob(st, 1, hash, SESSION_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, last_seen_us);
    sqlite3_bind_int64(st, 3, flags);
    return step_done(s, st, "session update");
}

err sqlite_session_delete(store *s, const uint8_t hash[SESSION_HASH_LEN])
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_SES_DELETE, &st));
    sqlite3_bind_blob(st, 1, hash, SESSION_HASH_LEN, SQLITE_STATIC);
    return step_done(s, st, "session delete");
}

err sqlite_session_delete_account(store *s, const char *account_id, size_t *n)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_SES_DELETE_ACCOUNT, &st));
    bind_text(st, 1, account_id);
    TRY(step_done(s, st, "session delete"));
    if (n) {
        *n = (size_t)sqlite3_changes(conn_db(s));
    }
    return ERR_OK;
}

err sqlite_sessions_purge(store *s, int64_t before_us, int64_t *n)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, SQ_SLOT_SESSION_PURGE, "DELETE FROM sessions WHERE expires<?1", &st));
    sqlite3_bind_int64(st, 1, before_us);
    TRY(sq_done(s, st, "session purge"));
    *n = sq_changes(s);
    return ERR_OK;
}

/* ---- idempotency ---- */

err sqlite_idem_get(store *s, const uint8_t key[32], int64_t since_us, uint8_t req_hash[32],
                    int *status, buf *body)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_IDEM_GET, &st));
    sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since_us);
    int r = sqlite3_step(st);
    if (r != SQLITE_ROW) {
        sqlite3_reset(st);
        ENSURE(r == SQLITE_DONE, ERR_IO, "store: idempotency read failed");
        BAIL(ERR_NOT_FOUND, "new idempotency key");
    }
    err rc = ERR_OK;
    const void *h = sqlite3_column_blob(st, 0);
    CHECK(h && sqlite3_column_bytes(st, 0) == 32, ERR_IO, "store: bad idempotency row");
    memcpy(req_hash, h, 32);
    *status = sqlite3_column_int(st, 1);
    GUARD(col_buf(st, 2, body));
out:
    sqlite3_reset(st);
    return rc;
}

err sqlite_idem_claim(store *s, const uint8_t key[32], const uint8_t req_hash[32], int64_t at_us,
                      int64_t since_us)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_IDEM_CLAIM, &st));
    sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, req_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at_us);
    sqlite3_bind_int64(st, 4, since_us);
    TRY(step_done(s, st, "idempotency claim"));
    ENSURE(sqlite3_changes(conn_db(s)) == 1, ERR_CONFLICT, "idempotency key in use");
    return ERR_OK;
}

err sqlite_idem_put(store *s, const uint8_t key[32], int status, slice body)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_IDEM_PUT, &st));
    sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, status);
    sqlite3_bind_blob(st, 3, body.p, (int)body.len, SQLITE_STATIC);
    return step_done(s, st, "idempotency answer");
}

err sqlite_idem_drop(store *s, const uint8_t key[32])
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_IDEM_DROP, &st));
    sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
    return step_done(s, st, "idempotency drop");
}

err sqlite_idem_purge(store *s, int64_t before_us, size_t *n)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_IDEM_PURGE, &st));
    sqlite3_bind_int64(st, 1, before_us);
    TRY(step_done(s, st, "idempotency purge"));
    if (n) {
        *n = (size_t)sqlite3_changes(conn_db(s));
    }
    return ERR_OK;
}

/* ---- erasures, meta ---- */

err sqlite_erasures(store *s, store_erasure_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_ERASURES, &st));
    err rc = ERR_OK;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        char id[ID_LEN + 1];
        col_text(st, 0, id, sizeof id);
        GUARD(fn(ctx, id, sqlite3_column_int64(st, 1)));
    }
    CHECK(r == SQLITE_DONE, ERR_IO, "store: erasure journal read failed");
out:
    sqlite3_reset(st);
    return rc;
}

err sqlite_meta_get(store *s, const char *key, buf *out)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_META_GET, &st));
    bind_text(st, 1, key);
    int r = sqlite3_step(st);
    err rc = ERR_OK;
    if (r == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        rc = buf_set(out, t, (size_t)sqlite3_column_bytes(st, 0));
    } else {
        rc = r == SQLITE_DONE ? err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "no such setting")
                              : db_error(conn_db(s), "meta read");
    }
    sqlite3_reset(st);
    return rc;
}

err sqlite_meta_set(store *s, const char *key, const char *value)
{
    sqlite3_stmt *st;
    TRY(stmt(s, S_META_SET, &st));
    bind_text(st, 1, key);
    bind_text(st, 2, value);
    return step_done(s, st, "meta write");
}

/* ---- the backend's table ---- */

#define SQ_OP(name, params, args) .name = sqlite_##name,
static const store_ops SQLITE_OPS = {.name = "sqlite",
                                     .close = sqlite_close,
                                     .begin = sqlite_begin,
                                     .commit = sqlite_commit,
                                     .rollback = sqlite_rollback,
                                     .backup = &sqlite_backup_ops,
                                     STORE_OPS(SQ_OP)};
#undef SQ_OP
