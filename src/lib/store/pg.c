/*
 * pg.c - the store on PostgreSQL (libpq), behind the same operations as SQLite (store_backend.h).
 *
 * Location: "postgres://USER@HOST:PORT/DB?sslmode=...&schema=NAME" (or "postgresql://"). Every
 * parameter but schema= is libpq's own (sslmode, sslrootcert, passfile, connect_timeout...);
 * schema= (default "custos") names the PostgreSQL schema that holds the vault's tables, so that
 * several vaults may share a database. The password is never part of the location: libpq's
 * passfile= or PGPASSWORD, or CUSTOS_PG_PASSWORD_FILE (a file holding only the password, which
 * must not be readable by group or others). It is handed to libpq and wiped; no message of this
 * file names it, a row value or the location's parameters.
 *
 * PostgreSQL sees what SQLite sees: sealed envelopes (bytea), blind values (int8), ids,
 * departments, times and key versions; never a key or a plaintext personal value.
 *
 * Each thread gets its own connection (opened on first use, closed when the thread ends or the
 * store closes) with its statements prepared once. A write transaction (store_begin) is BEGIN
 * (READ COMMITTED) on the thread's connection plus a transaction-level advisory lock of the
 * vault: write transactions run one at a time per vault, across every Custos instance on the
 * database, as BEGIN IMMEDIATE makes them on SQLite, so a read-check-write inside one never
 * meets a concurrent writer and never needs a retry. Readers never wait. The invariants SQLite
 * keeps with triggers are triggers here too (schema step 2). docs/POSTGRES.md.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dbloc.h"
#include "core/fault.h"
#include "store/pg_int.h"
#include "store/store_backup.h"

enum {
    P_CUST_INSERT,
    P_CUST_UPDATE,
    P_CUST_GET,
    P_CUST_GET_MANY,
    P_CUST_ERASE,
    P_CUST_LIST_ALL,
    P_CUST_LIST_DEPT,
    P_CUST_COUNT,
    P_REC_INSERT,
    P_REC_UPDATE,
    P_REC_LIST,
    P_ACC_INSERT,
    P_ACC_UPDATE,
    P_ACC_BY_NAME,
    P_ACC_BY_ID,
    P_ACC_LIST,
    P_SES_INSERT,
    P_SES_GET,
    P_SES_DELETE,
    P_SES_TOUCH,
    P_SES_DELETE_ACCOUNT,
    P_SES_PURGE,
    P_IDEM_GET,
    P_IDEM_PUT,
    P_IDEM_CLAIM,
    P_IDEM_DROP,
    P_IDEM_PURGE,
    P_ERASURES,
    P_META_GET,
    P_META_SET,
    P_KEK_COUNT,
    P_REWRAP_SEL,
    P_REWRAP_UPD,
    P_CHECK_SEL,
    P_RETIRE_SEL,
    P_RETIRE_CNT,
    P_RETIRE_SET,
    P_FIND_FIRST, /* + blind kind, with and without department: 2 * BI__COUNT */
    P__COUNT = P_FIND_FIRST + 2 * BI__COUNT
};
_Static_assert(P__COUNT <= PQ_SLOT_ACCESS, "pg.c's statement slots overflow pg_access.c's");

/* Parameter numbers of the customer statements: 1..9 the clear columns, then the envelopes,
 * the blind values and the version (PostgreSQL wants every number in use). */
#define CP_FIELD 10
#define CP_BLIND (CP_FIELD + CF__COUNT)
#define CP_VERSION (CP_BLIND + BI__COUNT)
#define CP__COUNT CP_VERSION

struct pg_tx;

typedef struct conn {
    PGconn *pg;
    bool prepared[PQ_SLOTS];
    struct pg_db *owner;
    struct pg_tx *tx;
    struct conn *next;
} conn;

typedef struct pg_db {
    /* libpq's keywords and values: dbname (the location without schema=), password, options
     * (search_path), application_name, NULL. */
    const char *keys[6];
    char *vals[6];
    char schema[DBLOC_SCHEMA_MAX + 1];
    pthread_key_t key;
    pthread_mutex_t lock;
    conn *all;
    char *sql[P__COUNT];
} pg_db;

typedef struct pg_tx {
    store_tx base;
    conn *c;
    pthread_t thread;
} pg_tx;

#define DB(s) ((pg_db *)(s)->impl)

static const store_ops PG_OPS;

/* The vault's advisory lock: one key per schema, the same in every instance. */
#define PG_WRITE_LOCK "SELECT pg_advisory_xact_lock(1668641651, hashtext(current_schema()))"

/* ---- errors ---- */

/* A failed result as an err: integrity (23xxx) and a trigger's refusal (P0001) are conflicts,
 * a lost or refusing server is unavailable (fail closed: 503), the rest an I/O failure. Only the
 * primary message is kept: PostgreSQL's detail may quote a row's values. */
static err pq_error(PGconn *pg, const PGresult *r, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    err e = ERR_IO;
    if (state && (strncmp(state, "23", 2) == 0 || strcmp(state, "P0001") == 0)) {
        e = ERR_CONFLICT;
    } else if (!state || strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 ||
               strncmp(state, "53", 2) == 0 || strncmp(state, "40", 2) == 0 ||
               (pg && PQstatus(pg) != CONNECTION_OK)) {
        e = ERR_UNAVAILABLE;
    }
    if (!msg) {
        msg = pg && PQstatus(pg) != CONNECTION_OK ? "the database connection is lost"
                                                  : "no answer from the database";
    }
    return err_set(e, __FILE__, __LINE__, "store: %s failed (%s)", what, msg);
}

/* ---- parameters ---- */

void pa_text(pq_args *a, const char *s)
{
    int i = a->n++;
    a->v[i] = s;
    a->len[i] = 0;
    a->fmt[i] = 0;
}

void pa_i64(pq_args *a, int64_t v)
{
    int i = a->n++;
    snprintf(a->num[i], sizeof a->num[i], "%lld", (long long)v);
    a->v[i] = a->num[i];
    a->len[i] = 0;
    a->fmt[i] = 0;
}

void pa_bytes(pq_args *a, const void *p, size_t n)
{
    int i = a->n++;
    a->v[i] = n ? (const char *)p : NULL;
    a->len[i] = (int)n;
    a->fmt[i] = 1;
}

err pa_text_array(pq_args *a, buf *lit, const char *const *v, size_t n, size_t stride)
{
    buf_reset(lit);
    TRY(buf_append_byte(lit, '{'));
    const char *p = (const char *)v;
    for (size_t i = 0; i < n; i++) {
        const char *s = stride ? p + i * stride : v[i];
        TRY(buf_append_str(lit, i ? ",\"" : "\""));
        for (; *s; s++) {
            if (*s == '"' || *s == '\\') {
                TRY(buf_append_byte(lit, '\\'));
            }
            TRY(buf_append_byte(lit, (uint8_t)*s));
        }
        TRY(buf_append_byte(lit, '"'));
    }
    TRY(buf_append_byte(lit, '}'));
    pa_text(a, buf_cstr(lit));
    return ERR_OK;
}

/* ---- columns ---- */

bool pq_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col);
}

int64_t pq_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) {
        return 0;
    }
    const uint8_t *p = (const uint8_t *)PQgetvalue(r, row, col);
    int n = PQgetlength(r, row, col);
    uint64_t v = 0;
    for (int i = 0; i < n && i < 8; i++) {
        v = v << 8 | p[i];
    }
    if (n == 4) {
        return (int32_t)(uint32_t)v;
    }
    if (n == 2) {
        return (int16_t)(uint16_t)v;
    }
    return (int64_t)v;
}

void pq_text(const PGresult *r, int row, int col, char *out, size_t max)
{
    if (PQgetisnull(r, row, col)) {
        out[0] = '\0';
        return;
    }
    snprintf(out, max, "%.*s", PQgetlength(r, row, col), PQgetvalue(r, row, col));
}

err pq_buf(const PGresult *r, int row, int col, buf *b)
{
    buf_reset(b);
    int n = PQgetisnull(r, row, col) ? 0 : PQgetlength(r, row, col);
    if (n > 0) {
        TRY(buf_append(b, PQgetvalue(r, row, col), (size_t)n));
    }
    return ERR_OK;
}

/* ---- connections ---- */

static void conn_close(conn *c)
{
    if (c->pg) {
        PQfinish(c->pg);
    }
    free(c->tx); /* a transaction its thread never ended: closing rolls it back */
    free(c);
}

static void conn_release(void *p)
{
    conn *c = p;
    pg_db *d = c->owner;
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

static err connect_db(pg_db *d, PGconn **out)
{
    PGconn *pg = PQconnectdbParams(d->keys, (const char *const *)d->vals, 1);
    ENSURE(pg != NULL, ERR_INTERNAL, "out of memory");
    if (PQstatus(pg) != CONNECTION_OK) {
        /* libpq's message names the host, port and user, never the password. */
        char msg[256];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg));
        msg[strcspn(msg, "\n")] = '\0';
        PQfinish(pg);
        BAIL(ERR_UNAVAILABLE, "store: cannot connect to PostgreSQL (%s)", msg);
    }
    *out = pg;
    return ERR_OK;
}

static err thread_conn(pg_db *d, conn **out)
{
    conn *c = pthread_getspecific(d->key);
    if (c) {
        if (PQstatus(c->pg) != CONNECTION_OK && c->tx == NULL) {
            /* The server went away (restart, fail-over): a new session, statements again. */
            PQreset(c->pg);
            memset(c->prepared, 0, sizeof c->prepared);
            ENSURE(PQstatus(c->pg) == CONNECTION_OK, ERR_UNAVAILABLE,
                   "store: the PostgreSQL server cannot be reached");
        }
        *out = c;
        return ERR_OK;
    }
    c = calloc(1, sizeof *c);
    ENSURE(c != NULL, ERR_INTERNAL, "out of memory");
    err e = connect_db(d, &c->pg);
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

/* As on SQLite (sqlite.c get_conn): a view runs on its transaction's connection, by the thread
 * that began it; the shared store on this thread's connection unless it holds a transaction. */
static err get_conn(store *s, conn **out)
{
    if (s->tx) {
        pg_tx *t = (pg_tx *)s->tx;
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

static err simple(PGconn *pg, const char *sql, const char *what)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    err e = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? ERR_OK : pq_error(pg, r, what);
    PQclear(r);
    return e;
}

static err run(store *s, int slot, const char *sql, const pq_args *a, bool write, PGresult **out)
{
    ENSURE(!fault_hit(FAULT_STORE_ALLOC), ERR_INTERNAL, "store: out of memory");
    ENSURE(slot >= 0 && slot < PQ_SLOTS, ERR_INTERNAL, "store: statement slot out of range");
    conn *c;
    TRY(get_conn(s, &c));
    char name[16];
    snprintf(name, sizeof name, "c%d", slot);
    bool fence = write && s->tx != NULL;
    if (fence) {
        TRY(simple(c->pg, "SAVEPOINT w", "savepoint"));
    }
    err e = ERR_OK;
    if (!c->prepared[slot]) {
        PGresult *p = PQprepare(c->pg, name, sql, 0, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
            e = pq_error(c->pg, p, "prepare");
        } else {
            c->prepared[slot] = true;
        }
        PQclear(p);
    }
    PGresult *r = NULL;
    if (e == ERR_OK) {
        static const pq_args none = {0};
        a = a ? a : &none;
        r = PQexecPrepared(c->pg, name, a->n, a->v, a->len, a->fmt, 1);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            e = pq_error(c->pg, r, write ? "write" : "read");
            PQclear(r);
            r = NULL;
        }
    }
    if (fence) {
        /* Undo the failed statement only; the transaction goes on, as on SQLite. A prepare that
         * failed inside it is undone with it, so it is prepared again next time. */
        if (e != ERR_OK) {
            IGNORE(simple(c->pg, "ROLLBACK TO SAVEPOINT w; RELEASE SAVEPOINT w", "rollback"));
        } else {
            err e2 = simple(c->pg, "RELEASE SAVEPOINT w", "release");
            if (e2 != ERR_OK) {
                PQclear(r);
                return e2;
            }
        }
    }
    if (e != ERR_OK) {
        return e;
    }
    *out = r;
    return ERR_OK;
}

err pq_query(store *s, int slot, const char *sql, const pq_args *a, PGresult **out)
{
    return run(s, slot, sql, a, false, out);
}

err pq_write(store *s, int slot, const char *sql, const pq_args *a, int64_t *changed)
{
    PGresult *r = NULL;
    TRY(run(s, slot, sql, a, true, &r));
    if (changed) {
        const char *t = PQcmdTuples(r);
        *changed = t && *t ? strtoll(t, NULL, 10) : 0;
    }
    PQclear(r);
    return ERR_OK;
}

err pg_store_exec(store *s, const char *sql)
{
    conn *c;
    TRY(get_conn(s, &c));
    return simple(c->pg, sql, "statement");
}

/* ---- schema and migrations ---- */

#define T "text COLLATE \"C\""
#define I "int8 NOT NULL"

/* Step 1: the tables. */
static err step1_sql(buf *ddl)
{
    TRY(buf_append_str(ddl, "CREATE TABLE meta(key " T " PRIMARY KEY, value text NOT NULL);"
                            "CREATE TABLE customers(id " T " PRIMARY KEY, department " T
                            " NOT NULL, created " I ", updated " I ", dek_version " I
                            ", kek_version " I ", erased " I " DEFAULT 0, honeytoken " I
                            " DEFAULT 0, wrapped_dek bytea, version " I " DEFAULT 1"));
    for (int i = 0; i < CF__COUNT; i++) {
        TRY(buf_appendf(ddl, ", f_%s bytea", model_field(REC_CUSTOMER, i)->name));
    }
    for (int k = 0; k < BI__COUNT; k++) {
        TRY(buf_appendf(ddl, ", bi_%s int8", blind_kind_name((blind_kind)k)));
    }
    TRY(buf_append_str(ddl, ");"));
    for (int k = 0; k < BI__COUNT; k++) {
        const char *n = blind_kind_name((blind_kind)k);
        TRY(buf_appendf(ddl,
                        "CREATE INDEX customers_bi_%s ON customers(bi_%s, department, id) "
                        "WHERE bi_%s IS NOT NULL;",
                        n, n, n));
    }
    TRY(buf_append_str(ddl, "CREATE INDEX customers_dept ON customers(department, id);"
                            "CREATE TABLE records(rid bigserial PRIMARY KEY, type " I ", id " T
                            " NOT NULL UNIQUE, customer_id " T
                            " NOT NULL REFERENCES customers(id), created " I ", dek_version " I));
    for (int i = 0; i < REC_MAX_FIELDS; i++) {
        TRY(buf_appendf(ddl, ", f%d bytea", i));
    }
    return buf_append_str(
        ddl,
        ");"
        "CREATE INDEX records_customer ON records(customer_id, type, rid);"
        "CREATE TABLE accounts(id " T " PRIMARY KEY, username " T " NOT NULL UNIQUE, role " T
        " NOT NULL, department " T " NOT NULL, pwhash text NOT NULL, disabled " I ", created " I
        ", failed " I ", locked_until " I ", lock_level " I " DEFAULT 0, training_until " I
        " DEFAULT 0, totp text NOT NULL DEFAULT '', totp_enabled " I " DEFAULT 0, totp_step " I
        " DEFAULT 0, pw_changed " I " DEFAULT 0);"
        "CREATE INDEX accounts_department ON accounts(department);"
        "CREATE TABLE sessions(hash bytea PRIMARY KEY, account_id " T
        " NOT NULL REFERENCES accounts(id), created " I ", expires " I ", last_seen " I
        " DEFAULT 0, flags " I " DEFAULT 0);"
        "CREATE INDEX sessions_account ON sessions(account_id);"
        "CREATE INDEX sessions_expires ON sessions(expires);"
        "CREATE TABLE idempotency(key bytea PRIMARY KEY, req_hash bytea NOT NULL, status " I
        ", body bytea, at " I ");"
        "CREATE INDEX idempotency_at ON idempotency(at);"
        "CREATE TABLE erasures(id " T " PRIMARY KEY, at " I ");"
        "CREATE TABLE recovery_codes(account_id " T
        " NOT NULL REFERENCES accounts(id), hash bytea NOT NULL, used " I
        " DEFAULT 0, PRIMARY KEY(account_id, hash));"
        "CREATE TABLE api_keys(id " T " PRIMARY KEY, name " T
        " NOT NULL UNIQUE, hash bytea NOT NULL UNIQUE, prefix text NOT NULL, role " T
        " NOT NULL, department " T " NOT NULL, scope text NOT NULL, addresses text NOT NULL, "
        "created_by " T " NOT NULL, created " I ", last_used " I
        " DEFAULT 0, last_source text NOT NULL DEFAULT '', revoked " I " DEFAULT 0, rotated " I
        " DEFAULT 0);"
        "CREATE TABLE requests(seq bigserial UNIQUE, id " T " PRIMARY KEY, kind " T
        " NOT NULL, customer_id " T " NOT NULL, department " T " NOT NULL, requester_id " T
        " NOT NULL, requester " T " NOT NULL, status " T " NOT NULL, decided_by " T
        " NOT NULL DEFAULT '', fields text NOT NULL, note text NOT NULL DEFAULT '', format " T
        " NOT NULL DEFAULT '', created " I ", decided " I " DEFAULT 0, expires " I
        " DEFAULT 0, payload bytea);"
        "CREATE INDEX requests_status ON requests(status, department, created);"
        "CREATE INDEX requests_subject ON requests(customer_id, kind, created);"
        "CREATE TABLE breakglass(id " T " PRIMARY KEY, account_id " T " NOT NULL, username " T
        " NOT NULL, reason text NOT NULL, opened " I ", expires " I ", closed " I
        " DEFAULT 0, reads " I " DEFAULT 0, reviewed_by " T " NOT NULL DEFAULT '', reviewed " I
        " DEFAULT 0, review_note text NOT NULL DEFAULT '');"
        "CREATE INDEX breakglass_account ON breakglass(account_id, opened);"
        "CREATE TABLE notices(id bigserial PRIMARY KEY, at " I ", recipient " T " NOT NULL, rule " T
        " NOT NULL, subject text NOT NULL, detail text NOT NULL);"
        "CREATE INDEX notices_recipient ON notices(recipient, id);");
}

/* Step 2: what concurrent writers rely on, enforced by the database at every write, whoever
 * writes (SQLite's CONCURRENCY_TRIGGERS, sqlite.c): a wrapped data key carries the master-key
 * version its column names (the envelope's bytes 3-6, big-endian) and none below meta
 * 'kek_floor'; a customer's data-key generation never goes back; a transaction or
 * communication is sealed under the generation its customer holds now. The floor (a row that
 * always exists from here on) and the customer row are read FOR SHARE: a writer waits for a
 * transaction that is raising the floor or rotating that customer, and then sees what it
 * committed; a transaction raising the floor waits for every writer that read the old one. */
static const char STEP2[] =
    "CREATE FUNCTION custos_kek_version(v int8) RETURNS bytea LANGUAGE sql IMMUTABLE AS "
    "$$ SELECT decode(lpad(to_hex(v), 8, '0'), 'hex') $$;"
    "CREATE FUNCTION custos_customers_keys() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE f int8; BEGIN "
    "IF NEW.erased = 0 THEN "
    "  IF TG_OP = 'UPDATE' AND NEW.dek_version < OLD.dek_version THEN "
    "    RAISE EXCEPTION 'data key not wrapped under an accepted master-key version'; END IF; "
    "  IF NEW.wrapped_dek IS NOT NULL THEN "
    "    SELECT value::int8 INTO f FROM meta WHERE key = 'kek_floor' FOR SHARE; "
    "    IF NEW.kek_version < coalesce(f, 0) OR substring(NEW.wrapped_dek FROM 3 FOR 4) IS "
    "       DISTINCT FROM custos_kek_version(NEW.kek_version) THEN "
    "      RAISE EXCEPTION 'data key not wrapped under an accepted master-key version'; "
    "    END IF; "
    "  END IF; "
    "END IF; RETURN NEW; END $$;"
    "CREATE TRIGGER customers_keys BEFORE INSERT OR UPDATE ON customers FOR EACH ROW "
    "EXECUTE FUNCTION custos_customers_keys();"
    "CREATE FUNCTION custos_records_dek() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE g int8; BEGIN "
    "SELECT dek_version INTO g FROM customers WHERE id = NEW.customer_id AND erased = 0 "
    "FOR SHARE; "
    "IF g IS NULL OR NEW.dek_version <> g THEN RAISE EXCEPTION "
    "'record sealed under a data-key generation its customer does not hold'; END IF; "
    "RETURN NEW; END $$;"
    "INSERT INTO meta VALUES('kek_floor', '0') ON CONFLICT DO NOTHING;"
    "CREATE TRIGGER records_dek BEFORE INSERT OR UPDATE ON records FOR EACH ROW "
    "EXECUTE FUNCTION custos_records_dek();";

#define PG_SCHEMA_LATEST 2

/* Brings the schema to PG_SCHEMA_LATEST in one transaction under the vault's lock (two
 * instances starting at once migrate once). create: the schema must hold no store yet. A
 * schema newer than this build knows is refused, untouched. */
static err migrate(PGconn *pg, const char *schema, bool create)
{
    err rc = ERR_OK;
    buf sql;
    buf_init(&sql, 0);
    PGresult *r = NULL;
    GUARD(simple(pg, "BEGIN", "begin"));
    /* The schema name is checked ([a-z0-9_]) and quoted. */
    GUARD(buf_appendf(&sql, "CREATE SCHEMA IF NOT EXISTS \"%s\"", schema));
    if (create) {
        GUARD(simple(pg, buf_cstr(&sql), "create schema"));
    }
    GUARD(simple(pg, PG_WRITE_LOCK, "lock"));
    r = PQexec(pg, "SELECT to_regclass('meta') IS NOT NULL");
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, ERR_IO,
          "store: cannot read the schema");
    bool have = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    r = NULL;
    CHECK(!(create && have), ERR_CONFLICT, "store: the database holds a store already");
    CHECK(create || have, ERR_IO, "store: no Custos store in that database (schema %s)", schema);
    long version = 0;
    if (have) {
        r = PQexec(pg, "SELECT value FROM meta WHERE key='schema_version'");
        CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, ERR_IO,
              "store: the store has no schema version");
        char *end = NULL;
        version = strtol(PQgetvalue(r, 0, 0), &end, 10);
        CHECK(end && *end == '\0' && version >= 1, ERR_IO, "store: unknown schema version");
        PQclear(r);
        r = NULL;
    }
    CHECK(version <= PG_SCHEMA_LATEST, ERR_IO,
          "store: the database's schema (version %ld) is newer than this Custos knows (%d): "
          "run the newer Custos",
          version, PG_SCHEMA_LATEST);
    for (long v = version + 1; v <= PG_SCHEMA_LATEST; v++) {
        buf_reset(&sql);
        if (v == 1) {
            GUARD(step1_sql(&sql));
            GUARD(buf_append_str(&sql, "INSERT INTO meta VALUES('schema_version', '1');"));
        } else {
            GUARD(buf_append_str(&sql, STEP2));
        }
        GUARD(buf_appendf(&sql, "UPDATE meta SET value='%ld' WHERE key='schema_version';", v));
        GUARD(simple(pg, buf_cstr(&sql), "migration"));
    }
    GUARD(simple(pg, "COMMIT", "commit"));
out:
    PQclear(r);
    if (rc != ERR_OK) {
        IGNORE(simple(pg, "ROLLBACK", "rollback"));
    }
    buf_free(&sql);
    return rc;
}

/* ---- statements ---- */

static err build_sql(pg_db *d)
{
    buf cols, params, sets;
    buf_init(&cols, 0);
    buf_init(&params, 0);
    buf_init(&sets, 0);
    err rc = ERR_OK;
    for (int i = 0; i < CF__COUNT; i++) {
        const char *n = model_field(REC_CUSTOMER, i)->name;
        GUARD(buf_appendf(&cols, ", f_%s", n));
        GUARD(buf_appendf(&params, ", $%d", CP_FIELD + i));
        GUARD(buf_appendf(&sets, ", f_%s=$%d", n, CP_FIELD + i));
    }
    for (int k = 0; k < BI__COUNT; k++) {
        const char *n = blind_kind_name((blind_kind)k);
        GUARD(buf_appendf(&cols, ", bi_%s", n));
        GUARD(buf_appendf(&params, ", $%d::int8", CP_BLIND + k));
        GUARD(buf_appendf(&sets, ", bi_%s=$%d::int8", n, CP_BLIND + k));
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp,
             "INSERT INTO customers(id, department, created, updated, dek_version, kek_version,"
             " erased, honeytoken, wrapped_dek, version%s) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,"
             " greatest($%d::int8, 1)%s)",
             buf_cstr(&cols), CP_VERSION, buf_cstr(&params));
    d->sql[P_CUST_INSERT] = strdup(tmp);
    snprintf(tmp, sizeof tmp,
             "UPDATE customers SET department=$2, created=$3, updated=$4, dek_version=$5,"
             " kek_version=$6, erased=$7, honeytoken=$8, wrapped_dek=$9, version=version+1%s"
             " WHERE id=$1 AND erased=0 AND ($%d::int8=0 OR version=$%d::int8)",
             buf_cstr(&sets), CP_VERSION, CP_VERSION);
    d->sql[P_CUST_UPDATE] = strdup(tmp);
    snprintf(tmp, sizeof tmp,
             "SELECT id, department, created, updated, dek_version, kek_version, erased,"
             " honeytoken, wrapped_dek%s, version FROM customers WHERE id=$1",
             buf_cstr(&cols));
    d->sql[P_CUST_GET] = strdup(tmp);
    snprintf(tmp, sizeof tmp,
             "SELECT id, department, created, updated, dek_version, kek_version, erased,"
             " honeytoken, wrapped_dek%s, version FROM customers WHERE id = ANY($1::text[])",
             buf_cstr(&cols));
    d->sql[P_CUST_GET_MANY] = strdup(tmp);
    buf_reset(&sets);
    for (int i = 0; i < CF__COUNT; i++) {
        GUARD(buf_appendf(&sets, ", f_%s=NULL", model_field(REC_CUSTOMER, i)->name));
    }
    for (int k = 0; k < BI__COUNT; k++) {
        GUARD(buf_appendf(&sets, ", bi_%s=NULL", blind_kind_name((blind_kind)k)));
    }
    /* One statement: the row's keys and envelopes, its records and the journal entry go
     * together or not at all. */
    snprintf(tmp, sizeof tmp,
             "WITH e AS (UPDATE customers SET erased=1, wrapped_dek=NULL, updated=$2, "
             "version=version+1%s WHERE id=$1 RETURNING id), "
             "r AS (DELETE FROM records WHERE customer_id IN (SELECT id FROM e)), "
             "j AS (INSERT INTO erasures(id, at) SELECT id, $2 FROM e ON CONFLICT DO NOTHING) "
             "SELECT count(*) FROM e",
             buf_cstr(&sets));
    d->sql[P_CUST_ERASE] = strdup(tmp);
    for (int k = 0; k < BI__COUNT; k++) {
        const char *n = blind_kind_name((blind_kind)k);
        snprintf(tmp, sizeof tmp,
                 "SELECT id FROM customers WHERE bi_%s=$1::int8 AND erased=0 AND id>$2 ORDER BY "
                 "id LIMIT $3",
                 n);
        d->sql[P_FIND_FIRST + 2 * k] = strdup(tmp);
        snprintf(tmp, sizeof tmp,
                 "SELECT id FROM customers WHERE bi_%s=$1::int8 AND department=$4 AND erased=0 "
                 "AND id>$2 ORDER BY id LIMIT $3",
                 n);
        d->sql[P_FIND_FIRST + 2 * k + 1] = strdup(tmp);
    }
    d->sql[P_CUST_LIST_ALL] = strdup("SELECT id FROM customers WHERE erased=0 AND id>$1 AND "
                                     "(honeytoken=0 OR $3::int8<>0) ORDER BY id LIMIT $2");
    d->sql[P_CUST_LIST_DEPT] =
        strdup("SELECT id FROM customers WHERE erased=0 AND department=$4 AND id>$1 AND "
               "(honeytoken=0 OR $3::int8<>0) ORDER BY department, id LIMIT $2");
    d->sql[P_CUST_COUNT] = strdup("SELECT count(*) FROM customers WHERE erased=0");
    buf_reset(&cols);
    buf_reset(&params);
    buf_reset(&sets);
    for (int i = 0; i < REC_MAX_FIELDS; i++) {
        GUARD(buf_appendf(&cols, ", f%d", i));
        GUARD(buf_appendf(&params, ", $%d", 6 + i));
        GUARD(buf_appendf(&sets, ", f%d=$%d", i, 4 + i));
    }
    snprintf(tmp, sizeof tmp,
             "INSERT INTO records(type, id, customer_id, created, dek_version%s) "
             "VALUES($1,$2,$3,$4,$5%s)",
             buf_cstr(&cols), buf_cstr(&params));
    d->sql[P_REC_INSERT] = strdup(tmp);
    snprintf(tmp, sizeof tmp, "UPDATE records SET dek_version=$3%s WHERE id=$2 AND type=$1",
             buf_cstr(&sets));
    d->sql[P_REC_UPDATE] = strdup(tmp);
    snprintf(tmp, sizeof tmp,
             "SELECT type, id, customer_id, created, dek_version%s FROM records WHERE "
             "customer_id=$1 AND type=$2 AND rid > coalesce((SELECT rid FROM records WHERE "
             "id=$3), 0) ORDER BY rid LIMIT $4",
             buf_cstr(&cols));
    d->sql[P_REC_LIST] = strdup(tmp);
    d->sql[P_ACC_INSERT] =
        strdup("INSERT INTO accounts(id, username, role, department, pwhash, disabled, created, "
               "failed, locked_until, lock_level, training_until, totp, totp_enabled, totp_step, "
               "pw_changed) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)");
    d->sql[P_ACC_UPDATE] =
        strdup("UPDATE accounts SET username=$2, role=$3, department=$4, pwhash=$5, "
               "disabled=$6, created=$7, failed=$8, locked_until=$9, lock_level=$10, "
               "training_until=$11, totp=$12, totp_enabled=$13, totp_step=$14, pw_changed=$15 "
               "WHERE id=$1");
    const char *acc_cols = "SELECT id, username, role, department, pwhash, disabled, created, "
                           "failed, locked_until, lock_level, training_until, totp, totp_enabled,"
                           " totp_step, pw_changed FROM accounts";
    snprintf(tmp, sizeof tmp, "%s WHERE username=$1", acc_cols);
    d->sql[P_ACC_BY_NAME] = strdup(tmp);
    snprintf(tmp, sizeof tmp, "%s WHERE id=$1", acc_cols);
    d->sql[P_ACC_BY_ID] = strdup(tmp);
    snprintf(tmp, sizeof tmp, "%s ORDER BY username LIMIT $1", acc_cols);
    d->sql[P_ACC_LIST] = strdup(tmp);
    d->sql[P_SES_INSERT] = strdup("INSERT INTO sessions(hash, account_id, created, expires, "
                                  "last_seen, flags) VALUES($1,$2,$3,$4,$5,$6)");
    d->sql[P_SES_GET] =
        strdup("SELECT account_id, created, expires, last_seen, flags FROM sessions WHERE hash=$1");
    d->sql[P_SES_DELETE] = strdup("DELETE FROM sessions WHERE hash=$1");
    d->sql[P_SES_TOUCH] = strdup("UPDATE sessions SET last_seen=$2, flags=$3 WHERE hash=$1");
    d->sql[P_SES_DELETE_ACCOUNT] = strdup("DELETE FROM sessions WHERE account_id=$1");
    d->sql[P_SES_PURGE] = strdup("DELETE FROM sessions WHERE expires<$1");
    d->sql[P_IDEM_GET] =
        strdup("SELECT req_hash, status, body FROM idempotency WHERE key=$1 AND at>=$2");
    d->sql[P_IDEM_CLAIM] =
        strdup("INSERT INTO idempotency(key, req_hash, status, body, at) VALUES($1,$2,0,NULL,$3) "
               "ON CONFLICT(key) DO UPDATE SET req_hash=excluded.req_hash, status=0, body=NULL, "
               "at=excluded.at WHERE idempotency.at<$4");
    d->sql[P_IDEM_PUT] = strdup("UPDATE idempotency SET status=$2, body=$3 WHERE key=$1");
    d->sql[P_IDEM_DROP] = strdup("DELETE FROM idempotency WHERE key=$1 AND status=0");
    d->sql[P_IDEM_PURGE] = strdup("DELETE FROM idempotency WHERE at<$1");
    d->sql[P_ERASURES] = strdup("SELECT id, at FROM erasures ORDER BY at, id");
    d->sql[P_META_GET] = strdup("SELECT value FROM meta WHERE key=$1");
    d->sql[P_META_SET] =
        strdup("INSERT INTO meta(key, value) VALUES($1, $2) ON CONFLICT(key) DO UPDATE SET "
               "value=excluded.value");
    d->sql[P_KEK_COUNT] = strdup(
        "SELECT count(*) FROM customers WHERE erased=0 AND wrapped_dek IS NOT NULL AND "
        "(kek_version=$1::int8 OR substring(wrapped_dek FROM 3 FOR 4)=custos_kek_version($1))");
    d->sql[P_REWRAP_SEL] = strdup("SELECT id, wrapped_dek FROM customers WHERE erased=0 AND "
                                  "kek_version<>$1::int8 AND id>$2 ORDER BY id LIMIT 500");
    d->sql[P_REWRAP_UPD] =
        strdup("UPDATE customers SET wrapped_dek=$2, kek_version=$3 WHERE id=$1 AND erased=0");
    d->sql[P_CHECK_SEL] = strdup("SELECT id, wrapped_dek FROM customers WHERE erased=0 AND "
                                 "wrapped_dek IS NOT NULL AND id>$1 ORDER BY id LIMIT 500");
#define KEK_BELOW                                                                                  \
    "erased=0 AND wrapped_dek IS NOT NULL AND (kek_version<$1::int8 OR "                           \
    "substring(wrapped_dek FROM 3 FOR 4)<custos_kek_version($1))"
    d->sql[P_RETIRE_SEL] = strdup("SELECT id, wrapped_dek FROM customers WHERE " KEK_BELOW
                                  " AND id>$2 ORDER BY id LIMIT 500");
    d->sql[P_RETIRE_CNT] = strdup("SELECT count(*) FROM customers WHERE " KEK_BELOW);
    d->sql[P_RETIRE_SET] =
        strdup("INSERT INTO meta(key, value) VALUES('kek_floor', $1) ON CONFLICT(key) "
               "DO UPDATE SET value=greatest(meta.value::int8, excluded.value::int8)::text");
    for (int i = 0; i < P__COUNT; i++) {
        CHECK(d->sql[i] != NULL, ERR_INTERNAL, "out of memory");
    }
out:
    buf_free(&cols);
    buf_free(&params);
    buf_free(&sets);
    return rc;
}

/* ---- open and close ---- */

static void pg_close(store *s);

err pg_store_open(const char *location, bool create, store **out)
{
    err rc = ERR_OK;
    store *s = calloc(1, sizeof *s);
    pg_db *d = calloc(1, sizeof *d);
    char *pw = NULL;
    if (!s || !d) {
        free(s);
        free(d);
        BAIL(ERR_INTERNAL, "out of memory");
    }
    s->ops = &PG_OPS;
    s->impl = d;
    pthread_mutex_init(&d->lock, NULL);
    pthread_key_create(&d->key, conn_release);
    char *uri = NULL;
    GUARD(dbloc_split(location, d->schema, &uri));
    int k = 0;
    d->keys[k] = "dbname";
    d->vals[k++] = uri;
    GUARD(dbloc_password(&pw));
    if (pw) {
        d->keys[k] = "password";
        d->vals[k++] = pw;
        pw = NULL;
    }
    char opt[128];
    snprintf(opt, sizeof opt, "-c search_path=\"%s\" -c client_min_messages=warning", d->schema);
    d->keys[k] = "options";
    d->vals[k++] = strdup(opt);
    d->keys[k] = "application_name";
    d->vals[k++] = strdup("custos");
    d->keys[k] = NULL;
    for (int i = 0; i < k; i++) {
        CHECK(d->vals[i] != NULL, ERR_INTERNAL, "out of memory");
    }
    GUARD(build_sql(d));
    {
        conn *c = NULL;
        GUARD(thread_conn(d, &c));
        GUARD(migrate(c->pg, d->schema, create));
        /* Statements prepared before the tables existed would be stale: none were. */
    }
    *out = s;
    return ERR_OK;
out:
    if (pw) {
        mem_wipe(pw, strlen(pw));
        free(pw);
    }
    pg_close(s);
    return rc;
}

static void pg_close(store *s)
{
    if (!s || s->tx) {
        return;
    }
    pg_db *d = DB(s);
    pthread_setspecific(d->key, NULL);
    pthread_mutex_lock(&d->lock);
    conn *c = d->all;
    d->all = NULL;
    pthread_mutex_unlock(&d->lock);
    while (c) {
        conn *n = c->next;
        conn_close(c);
        c = n;
    }
    pthread_key_delete(d->key);
    pthread_mutex_destroy(&d->lock);
    for (int i = 0; i < P__COUNT; i++) {
        free(d->sql[i]);
    }
    for (int i = 0; i < 6; i++) {
        if (d->vals[i]) {
            mem_wipe(d->vals[i], strlen(d->vals[i])); /* the password among them */
            free(d->vals[i]);
        }
    }
    free(d);
    free(s);
}

/* ---- transactions ---- */

static err pg_begin(store *s, store_tx **out)
{
    conn *c;
    TRY(get_conn(s, &c));
    ENSURE(!fault_hit(FAULT_STORE_ALLOC), ERR_INTERNAL, "store: out of memory");
    pg_tx *t = calloc(1, sizeof *t);
    ENSURE(t != NULL, ERR_INTERNAL, "out of memory");
    t->base.view = (store){.ops = s->ops, .impl = s->impl, .tx = &t->base};
    t->c = c;
    t->thread = pthread_self();
    err e = simple(c->pg, "BEGIN ISOLATION LEVEL READ COMMITTED; " PG_WRITE_LOCK, "begin");
    if (e != ERR_OK) {
        if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
            IGNORE(simple(c->pg, "ROLLBACK", "rollback"));
        }
        free(t);
        return e;
    }
    c->tx = t;
    *out = &t->base;
    return ERR_OK;
}

static void tx_end(pg_tx *t)
{
    t->c->tx = NULL;
    free(t);
}

static void pg_rollback(store_tx *tx)
{
    pg_tx *t = (pg_tx *)tx;
    if (pthread_equal(t->thread, pthread_self()) && PQtransactionStatus(t->c->pg) != PQTRANS_IDLE) {
        IGNORE(simple(t->c->pg, "ROLLBACK", "rollback"));
    }
    tx_end(t);
}

static err pg_commit(store_tx *tx)
{
    pg_tx *t = (pg_tx *)tx;
    err e = ERR_OK;
    if (fault_hit(FAULT_STORE_ALLOC)) {
        e = err_set(ERR_INTERNAL, __FILE__, __LINE__, "store: out of memory");
    } else {
        PGresult *r = PQexec(t->c->pg, "COMMIT");
        /* COMMIT of a transaction that failed answers "ROLLBACK": that is no commit. */
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            e = pq_error(t->c->pg, r, "commit");
        } else if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
            e = err_set(ERR_CONFLICT, __FILE__, __LINE__,
                        "store: the transaction failed and was rolled back");
        }
        PQclear(r);
    }
    if (e != ERR_OK) {
        pg_rollback(tx);
        return e;
    }
    tx_end(t);
    return ERR_OK;
}

/* ---- customers ---- */

static void args_customer(pq_args *a, const sealed_customer *c)
{
    pa_text(a, c->id);
    pa_text(a, c->department);
    pa_i64(a, c->created_us);
    pa_i64(a, c->updated_us);
    pa_i64(a, c->dek_version);
    pa_i64(a, c->kek_version);
    pa_i64(a, c->erased);
    pa_i64(a, c->honeytoken);
    pa_bytes(a, c->wrapped_dek.p, c->wrapped_dek.len);
    for (int i = 0; i < CF__COUNT; i++) {
        pa_bytes(a, c->field[i].p, c->field[i].len);
    }
    for (int k = 0; k < BI__COUNT; k++) {
        if (c->has_blind[k]) {
            pa_i64(a, (int64_t)c->blind[k]);
        } else {
            pa_text(a, NULL);
        }
    }
    pa_i64(a, (int64_t)c->version);
}

err pg_customer_insert(store *s, const sealed_customer *c)
{
    pq_args a = {0};
    args_customer(&a, c);
    return pq_write(s, P_CUST_INSERT, DB(s)->sql[P_CUST_INSERT], &a, NULL);
}

err pg_customer_update(store *s, const sealed_customer *c)
{
    pq_args a = {0};
    args_customer(&a, c);
    int64_t n = 0;
    TRY(pq_write(s, P_CUST_UPDATE, DB(s)->sql[P_CUST_UPDATE], &a, &n));
    if (n == 1) {
        return ERR_OK;
    }
    sealed_customer now;
    sealed_customer_init(&now);
    err e = pg_customer_get(s, c->id, &now);
    bool live = e == ERR_OK && !now.erased;
    sealed_customer_free(&now);
    if (e != ERR_OK && e != ERR_NOT_FOUND) {
        return e;
    }
    ENSURE(live, ERR_NOT_FOUND, "no such customer");
    BAIL(ERR_CONFLICT, "the customer was changed by someone else meanwhile: read it again");
}

static err read_customer(const PGresult *r, int row, sealed_customer *out)
{
    pq_text(r, row, 0, out->id, sizeof out->id);
    pq_text(r, row, 1, out->department, sizeof out->department);
    out->created_us = pq_i64(r, row, 2);
    out->updated_us = pq_i64(r, row, 3);
    out->dek_version = (uint32_t)pq_i64(r, row, 4);
    out->kek_version = (uint32_t)pq_i64(r, row, 5);
    out->erased = pq_i64(r, row, 6) != 0;
    out->honeytoken = pq_i64(r, row, 7) != 0;
    TRY(pq_buf(r, row, 8, &out->wrapped_dek));
    for (int i = 0; i < CF__COUNT; i++) {
        TRY(pq_buf(r, row, 9 + i, &out->field[i]));
    }
    for (int k = 0; k < BI__COUNT; k++) {
        int col = 9 + CF__COUNT + k;
        out->has_blind[k] = !pq_null(r, row, col);
        out->blind[k] = out->has_blind[k] ? (uint64_t)pq_i64(r, row, col) : 0;
    }
    out->version = (uint64_t)pq_i64(r, row, 9 + CF__COUNT + BI__COUNT);
    return ERR_OK;
}

err pg_customer_get(store *s, const char *id, sealed_customer *out)
{
    pq_args a = {0};
    pa_text(&a, id);
    PGresult *r;
    TRY(pq_query(s, P_CUST_GET, DB(s)->sql[P_CUST_GET], &a, &r));
    err e = PQntuples(r) == 1 ? read_customer(r, 0, out)
                              : err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "no such customer");
    PQclear(r);
    return e;
}

err pg_customer_get_many(store *s, const char (*ids)[ID_LEN + 1], size_t n, sealed_customer *out,
                         bool *found)
{
    for (size_t i = 0; i < n; i++) {
        found[i] = false;
    }
    if (n == 0) {
        return ERR_OK;
    }
    if (n == 1) {
        err e = pg_customer_get(s, ids[0], &out[0]);
        found[0] = e == ERR_OK;
        return e == ERR_NOT_FOUND ? ERR_OK : e;
    }
    pq_args a = {0};
    buf lit;
    buf_init(&lit, 0);
    err rc = ERR_OK;
    PGresult *r = NULL;
    GUARD(pa_text_array(&a, &lit, (const char *const *)ids, n, ID_LEN + 1));
    GUARD(pq_query(s, P_CUST_GET_MANY, DB(s)->sql[P_CUST_GET_MANY], &a, &r));
    for (int row = 0; row < PQntuples(r); row++) {
        char id[ID_LEN + 1];
        pq_text(r, row, 0, id, sizeof id);
        for (size_t i = 0; i < n; i++) {
            if (!found[i] && strcmp(ids[i], id) == 0) {
                GUARD(read_customer(r, row, &out[i]));
                found[i] = true;
            }
        }
    }
out:
    PQclear(r);
    buf_free(&lit);
    return rc;
}

err pg_customer_erase(store *s, const char *id, int64_t at_us)
{
    pq_args a = {0};
    pa_text(&a, id);
    pa_i64(&a, at_us);
    PGresult *r;
    TRY(run(s, P_CUST_ERASE, DB(s)->sql[P_CUST_ERASE], &a, true, &r));
    int64_t n = PQntuples(r) == 1 ? pq_i64(r, 0, 0) : 0;
    PQclear(r);
    ENSURE(n == 1, ERR_NOT_FOUND, "no such customer");
    return ERR_OK;
}

static err collect_ids(store *s, int slot, const pq_args *a, size_t max, char (*ids)[ID_LEN + 1],
                       size_t *n)
{
    PGresult *r;
    TRY(pq_query(s, slot, DB(s)->sql[slot], a, &r));
    size_t k = 0;
    for (int row = 0; row < PQntuples(r) && k < max; row++) {
        pq_text(r, row, 0, ids[k++], ID_LEN + 1);
    }
    PQclear(r);
    *n = k;
    return ERR_OK;
}

err pg_customer_find(store *s, blind_kind k, uint64_t v, const char *dept, const char *after,
                     size_t max, char (*ids)[ID_LEN + 1], size_t *n)
{
    ENSURE(k >= 0 && k < BI__COUNT, ERR_INTERNAL, "bad blind kind");
    pq_args a = {0};
    pa_i64(&a, (int64_t)v);
    pa_text(&a, after ? after : "");
    pa_i64(&a, (int64_t)max);
    if (dept) {
        pa_text(&a, dept);
    }
    return collect_ids(s, P_FIND_FIRST + 2 * (int)k + (dept ? 1 : 0), &a, max, ids, n);
}

err pg_customer_list(store *s, const char *dept, bool with_honeytokens, const char *after,
                     size_t max, char (*ids)[ID_LEN + 1], size_t *n)
{
    pq_args a = {0};
    pa_text(&a, after ? after : "");
    pa_i64(&a, (int64_t)max);
    pa_i64(&a, with_honeytokens);
    if (dept) {
        pa_text(&a, dept);
    }
    return collect_ids(s, dept ? P_CUST_LIST_DEPT : P_CUST_LIST_ALL, &a, max, ids, n);
}

static err count_of(store *s, int slot, const pq_args *a, int64_t *n)
{
    PGresult *r;
    TRY(pq_query(s, slot, DB(s)->sql[slot], a, &r));
    *n = PQntuples(r) == 1 ? pq_i64(r, 0, 0) : 0;
    PQclear(r);
    return ERR_OK;
}

err pg_customer_count(store *s, int64_t *n)
{
    return count_of(s, P_CUST_COUNT, NULL, n);
}

/* One batch of a sweep: rows of sel after *last, each passed to fn and written back by upd.
 * ERR_CRYPTO from fn counts in *failed when failed is given, and stops the sweep otherwise. */
static err sweep_batch(store *s, int sel, const pq_args *a, store_rewrap_fn fn, void *ctx,
                       char *last, size_t *batch, size_t *done, size_t *failed)
{
    PGresult *r;
    TRY(pq_query(s, sel, DB(s)->sql[sel], a, &r));
    err rc = ERR_OK;
    buf w;
    buf_init(&w, 4096);
    *batch = (size_t)PQntuples(r);
    for (int row = 0; row < PQntuples(r); row++) {
        pq_text(r, row, 0, last, ID_LEN + 1);
        GUARD(pq_buf(r, row, 1, &w));
        uint32_t nv = 0;
        err e = fn(ctx, last, &w, &nv);
        if (e == ERR_CRYPTO && failed) {
            (*failed)++;
            continue;
        }
        GUARD(e);
        pq_args u = {0};
        pa_text(&u, last);
        pa_bytes(&u, w.p, w.len);
        pa_i64(&u, nv);
        GUARD(pq_write(s, P_REWRAP_UPD, DB(s)->sql[P_REWRAP_UPD], &u, NULL));
        (*done)++;
    }
out:
    PQclear(r);
    buf_free(&w);
    return rc;
}

err pg_customer_rewrap_all(store *s, uint32_t v, store_rewrap_fn fn, void *ctx, size_t *done,
                           size_t *failed)
{
    ENSURE(s->tx == NULL, ERR_INTERNAL, "store: this sweep runs its own transactions");
    *done = 0;
    *failed = 0;
    char last[ID_LEN + 1] = "";
    for (;;) {
        /* Batches of 500 rows per transaction: the servers keep running meanwhile. */
        store_tx *tx = NULL;
        TRY(pg_begin(s, &tx));
        pq_args a = {0};
        pa_i64(&a, v);
        pa_text(&a, last);
        size_t batch = 0;
        err e = sweep_batch(&tx->view, P_REWRAP_SEL, &a, fn, ctx, last, &batch, done, failed);
        if (e != ERR_OK) {
            pg_rollback(tx);
            return e;
        }
        TRY(pg_commit(tx));
        if (batch == 0) {
            return ERR_OK;
        }
    }
}

err pg_kek_floor(store *s, uint32_t *floor)
{
    buf v;
    buf_init(&v, 64);
    err e = pg_meta_get(s, "kek_floor", &v);
    *floor = e == ERR_OK ? (uint32_t)strtoul(buf_cstr(&v), NULL, 10) : 0;
    buf_free(&v);
    return e == ERR_NOT_FOUND ? ERR_OK : e;
}

err pg_customer_check_keys(store *s, store_key_fn fn, void *ctx, size_t *n, size_t *failed)
{
    *n = 0;
    *failed = 0;
    char last[ID_LEN + 1] = "";
    buf w;
    buf_init(&w, 4096);
    err rc = ERR_OK;
    for (;;) {
        pq_args a = {0};
        pa_text(&a, last);
        PGresult *r;
        GUARD(pq_query(s, P_CHECK_SEL, DB(s)->sql[P_CHECK_SEL], &a, &r));
        int rows = PQntuples(r);
        for (int row = 0; row < rows && rc == ERR_OK; row++) {
            pq_text(r, row, 0, last, sizeof last);
            rc = pq_buf(r, row, 1, &w);
            if (rc == ERR_OK) {
                (*n)++;
                err e = fn(ctx, last, buf_slice(&w));
                *failed += e == ERR_CRYPTO;
                rc = e == ERR_CRYPTO ? ERR_OK : e;
            }
        }
        PQclear(r);
        GUARD(rc);
        if (rows == 0) {
            break;
        }
    }
out:
    buf_free(&w);
    return rc;
}

err pg_customer_retire_kek(store *s, uint32_t floor, store_rewrap_fn fn, void *ctx, size_t *done)
{
    ENSURE(s->tx == NULL, ERR_INTERNAL, "store: this sweep runs its own transactions");
    *done = 0;
    store_tx *tx = NULL;
    TRY(pg_begin(s, &tx));
    store *ts = &tx->view;
    err rc = ERR_OK;
    char last[ID_LEN + 1] = "";
    /* The floor's row first, locked: every writer of a key waits on it (the trigger reads it
     * FOR SHARE) until this commits, then sees the new floor. */
    GUARD(pg_store_exec(ts, "INSERT INTO meta VALUES('kek_floor', '0') ON CONFLICT DO NOTHING;"
                            "SELECT 1 FROM meta WHERE key='kek_floor' FOR UPDATE"));
    for (;;) {
        pq_args a = {0};
        pa_i64(&a, floor);
        pa_text(&a, last);
        size_t batch = 0;
        GUARD(sweep_batch(ts, P_RETIRE_SEL, &a, fn, ctx, last, &batch, done, NULL));
        if (batch == 0) {
            break;
        }
    }
    pq_args c = {0};
    pa_i64(&c, floor);
    int64_t left = 0;
    GUARD(count_of(ts, P_RETIRE_CNT, &c, &left));
    CHECK(left == 0, ERR_CONFLICT,
          "%lld data key(s) are still wrapped under a master-key version below %u", (long long)left,
          floor);
    pq_args f = {0};
    char fl[16];
    snprintf(fl, sizeof fl, "%u", floor);
    pa_text(&f, fl);
    GUARD(pq_write(ts, P_RETIRE_SET, DB(s)->sql[P_RETIRE_SET], &f, NULL));
    return pg_commit(tx);
out:
    pg_rollback(tx);
    return rc;
}

err pg_customer_count_kek(store *s, uint32_t version, int64_t *n)
{
    pq_args a = {0};
    pa_i64(&a, version);
    return count_of(s, P_KEK_COUNT, &a, n);
}

/* ---- records ---- */

static void args_record(pq_args *a, const sealed_record *r)
{
    pa_i64(a, (int64_t)r->type);
    pa_text(a, r->id);
    pa_text(a, r->customer_id);
    pa_i64(a, r->created_us);
    pa_i64(a, r->dek_version);
    for (int i = 0; i < REC_MAX_FIELDS; i++) {
        pa_bytes(a, r->field[i].p, r->field[i].len);
    }
}

err pg_record_insert(store *s, const sealed_record *r)
{
    pq_args a = {0};
    args_record(&a, r);
    return pq_write(s, P_REC_INSERT, DB(s)->sql[P_REC_INSERT], &a, NULL);
}

err pg_record_update(store *s, const sealed_record *r)
{
    pq_args a = {0};
    pa_i64(&a, (int64_t)r->type);
    pa_text(&a, r->id);
    pa_i64(&a, r->dek_version);
    for (int i = 0; i < REC_MAX_FIELDS; i++) {
        pa_bytes(&a, r->field[i].p, r->field[i].len);
    }
    return pq_write(s, P_REC_UPDATE, DB(s)->sql[P_REC_UPDATE], &a, NULL);
}

err pg_record_list(store *s, rectype t, const char *customer_id, const char *after, size_t max,
                   store_record_fn fn, void *ctx, size_t *n)
{
    pq_args a = {0};
    pa_text(&a, customer_id);
    pa_i64(&a, (int64_t)t);
    pa_text(&a, after ? after : "");
    pa_i64(&a, (int64_t)max);
    PGresult *res;
    TRY(pq_query(s, P_REC_LIST, DB(s)->sql[P_REC_LIST], &a, &res));
    sealed_record r;
    sealed_record_init(&r, t);
    err rc = ERR_OK;
    size_t k = 0;
    for (int row = 0; row < PQntuples(res); row++) {
        pq_text(res, row, 1, r.id, sizeof r.id);
        pq_text(res, row, 2, r.customer_id, sizeof r.customer_id);
        r.created_us = pq_i64(res, row, 3);
        r.dek_version = (uint32_t)pq_i64(res, row, 4);
        for (int i = 0; i < REC_MAX_FIELDS; i++) {
            GUARD(pq_buf(res, row, 5 + i, &r.field[i]));
        }
        GUARD(fn(ctx, &r));
        k++;
    }
    if (n) {
        *n = k;
    }
out:
    PQclear(res);
    sealed_record_free(&r);
    return rc;
}

/* ---- accounts ---- */

static void args_account(pq_args *a, const account *x)
{
    pa_text(a, x->id);
    pa_text(a, x->username);
    pa_text(a, x->role);
    pa_text(a, x->department);
    pa_text(a, x->pwhash);
    pa_i64(a, x->disabled);
    pa_i64(a, x->created_us);
    pa_i64(a, x->failed_logins);
    pa_i64(a, x->locked_until_us);
    pa_i64(a, x->lock_level);
    pa_i64(a, x->training_until_us);
    pa_text(a, x->totp);
    pa_i64(a, x->totp_enabled);
    pa_i64(a, x->totp_step);
    pa_i64(a, x->pw_changed_us);
}

static void read_account(const PGresult *r, int row, account *a)
{
    memset(a, 0, sizeof *a);
    pq_text(r, row, 0, a->id, sizeof a->id);
    pq_text(r, row, 1, a->username, sizeof a->username);
    pq_text(r, row, 2, a->role, sizeof a->role);
    pq_text(r, row, 3, a->department, sizeof a->department);
    pq_text(r, row, 4, a->pwhash, sizeof a->pwhash);
    a->disabled = pq_i64(r, row, 5) != 0;
    a->created_us = pq_i64(r, row, 6);
    a->failed_logins = (int)pq_i64(r, row, 7);
    a->locked_until_us = pq_i64(r, row, 8);
    a->lock_level = (int)pq_i64(r, row, 9);
    a->training_until_us = pq_i64(r, row, 10);
    pq_text(r, row, 11, a->totp, sizeof a->totp);
    a->totp_enabled = pq_i64(r, row, 12) != 0;
    a->totp_step = pq_i64(r, row, 13);
    a->pw_changed_us = pq_i64(r, row, 14);
}

err pg_account_insert(store *s, const account *x)
{
    pq_args a = {0};
    args_account(&a, x);
    err e = pq_write(s, P_ACC_INSERT, DB(s)->sql[P_ACC_INSERT], &a, NULL);
    ENSURE(e != ERR_CONFLICT, ERR_CONFLICT, "an account with that username exists already");
    return e;
}

err pg_account_update(store *s, const account *x)
{
    pq_args a = {0};
    args_account(&a, x);
    return pq_write(s, P_ACC_UPDATE, DB(s)->sql[P_ACC_UPDATE], &a, NULL);
}

static err account_one(store *s, int slot, const char *key, account *out)
{
    pq_args a = {0};
    pa_text(&a, key);
    PGresult *r;
    TRY(pq_query(s, slot, DB(s)->sql[slot], &a, &r));
    bool one = PQntuples(r) == 1;
    if (one) {
        read_account(r, 0, out);
    }
    PQclear(r);
    ENSURE(one, ERR_NOT_FOUND, "no such account");
    return ERR_OK;
}

err pg_account_by_name(store *s, const char *username, account *out)
{
    return account_one(s, P_ACC_BY_NAME, username, out);
}

err pg_account_by_id(store *s, const char *id, account *out)
{
    return account_one(s, P_ACC_BY_ID, id, out);
}

err pg_account_list(store *s, account *out, size_t max, size_t *n)
{
    pq_args a = {0};
    pa_i64(&a, (int64_t)max);
    PGresult *r;
    TRY(pq_query(s, P_ACC_LIST, DB(s)->sql[P_ACC_LIST], &a, &r));
    size_t k = 0;
    for (int row = 0; row < PQntuples(r) && k < max; row++) {
        read_account(r, row, &out[k++]);
    }
    PQclear(r);
    *n = k;
    return ERR_OK;
}

/* ---- sessions ---- */

err pg_session_insert(store *s, const uint8_t hash[SESSION_HASH_LEN], const session_row *x)
{
    pq_args a = {0};
    pa_bytes(&a, hash, SESSION_HASH_LEN);
    pa_text(&a, x->account_id);
    pa_i64(&a, x->created_us);
    pa_i64(&a, x->expires_us);
    pa_i64(&a, x->last_seen_us);
    pa_i64(&a, x->flags);
    return pq_write(s, P_SES_INSERT, DB(s)->sql[P_SES_INSERT], &a, NULL);
}

err pg_session_get(store *s, const uint8_t hash[SESSION_HASH_LEN], session_row *out)
{
    pq_args a = {0};
    pa_bytes(&a, hash, SESSION_HASH_LEN);
    PGresult *r;
    TRY(pq_query(s, P_SES_GET, DB(s)->sql[P_SES_GET], &a, &r));
    bool one = PQntuples(r) == 1;
    if (one) {
        pq_text(r, 0, 0, out->account_id, sizeof out->account_id);
        out->created_us = pq_i64(r, 0, 1);
        out->expires_us = pq_i64(r, 0, 2);
        out->last_seen_us = pq_i64(r, 0, 3);
        out->flags = (uint32_t)pq_i64(r, 0, 4);
    }
    PQclear(r);
    ENSURE(one, ERR_AUTH, "invalid or expired session");
    return ERR_OK;
}

err pg_session_touch(store *s, const uint8_t hash[SESSION_HASH_LEN], int64_t last_seen_us,
                     uint32_t flags)
{
    pq_args a = {0};
    pa_bytes(&a, hash, SESSION_HASH_LEN);
    pa_i64(&a, last_seen_us);
    pa_i64(&a, flags);
    return pq_write(s, P_SES_TOUCH, DB(s)->sql[P_SES_TOUCH], &a, NULL);
}

err pg_session_delete(store *s, const uint8_t hash[SESSION_HASH_LEN])
{
    pq_args a = {0};
    pa_bytes(&a, hash, SESSION_HASH_LEN);
    return pq_write(s, P_SES_DELETE, DB(s)->sql[P_SES_DELETE], &a, NULL);
}

err pg_session_delete_account(store *s, const char *account_id, size_t *n)
{
    pq_args a = {0};
    pa_text(&a, account_id);
    int64_t k = 0;
    TRY(pq_write(s, P_SES_DELETE_ACCOUNT, DB(s)->sql[P_SES_DELETE_ACCOUNT], &a, &k));
    if (n) {
        *n = (size_t)k;
    }
    return ERR_OK;
}

err pg_sessions_purge(store *s, int64_t before_us, int64_t *n)
{
    pq_args a = {0};
    pa_i64(&a, before_us);
    return pq_write(s, P_SES_PURGE, DB(s)->sql[P_SES_PURGE], &a, n);
}

/* ---- idempotency ---- */

err pg_idem_get(store *s, const uint8_t key[32], int64_t since_us, uint8_t req_hash[32],
                int *status, buf *body)
{
    pq_args a = {0};
    pa_bytes(&a, key, 32);
    pa_i64(&a, since_us);
    PGresult *r;
    TRY(pq_query(s, P_IDEM_GET, DB(s)->sql[P_IDEM_GET], &a, &r));
    err rc = ERR_OK;
    CHECK(PQntuples(r) == 1, ERR_NOT_FOUND, "new idempotency key");
    CHECK(PQgetlength(r, 0, 0) == 32, ERR_IO, "store: bad idempotency row");
    memcpy(req_hash, PQgetvalue(r, 0, 0), 32);
    *status = (int)pq_i64(r, 0, 1);
    GUARD(pq_buf(r, 0, 2, body));
out:
    PQclear(r);
    return rc;
}

err pg_idem_claim(store *s, const uint8_t key[32], const uint8_t req_hash[32], int64_t at_us,
                  int64_t since_us)
{
    pq_args a = {0};
    pa_bytes(&a, key, 32);
    pa_bytes(&a, req_hash, 32);
    pa_i64(&a, at_us);
    pa_i64(&a, since_us);
    int64_t n = 0;
    TRY(pq_write(s, P_IDEM_CLAIM, DB(s)->sql[P_IDEM_CLAIM], &a, &n));
    ENSURE(n == 1, ERR_CONFLICT, "idempotency key in use");
    return ERR_OK;
}

err pg_idem_put(store *s, const uint8_t key[32], int status, slice body)
{
    pq_args a = {0};
    pa_bytes(&a, key, 32);
    pa_i64(&a, status);
    pa_bytes(&a, body.p, body.len);
    return pq_write(s, P_IDEM_PUT, DB(s)->sql[P_IDEM_PUT], &a, NULL);
}

err pg_idem_drop(store *s, const uint8_t key[32])
{
    pq_args a = {0};
    pa_bytes(&a, key, 32);
    return pq_write(s, P_IDEM_DROP, DB(s)->sql[P_IDEM_DROP], &a, NULL);
}

err pg_idem_purge(store *s, int64_t before_us, size_t *n)
{
    pq_args a = {0};
    pa_i64(&a, before_us);
    int64_t k = 0;
    TRY(pq_write(s, P_IDEM_PURGE, DB(s)->sql[P_IDEM_PURGE], &a, &k));
    if (n) {
        *n = (size_t)k;
    }
    return ERR_OK;
}

/* ---- erasures, meta ---- */

err pg_erasures(store *s, store_erasure_fn fn, void *ctx)
{
    PGresult *r;
    TRY(pq_query(s, P_ERASURES, DB(s)->sql[P_ERASURES], NULL, &r));
    err rc = ERR_OK;
    for (int row = 0; row < PQntuples(r); row++) {
        char id[ID_LEN + 1];
        pq_text(r, row, 0, id, sizeof id);
        GUARD(fn(ctx, id, pq_i64(r, row, 1)));
    }
out:
    PQclear(r);
    return rc;
}

err pg_meta_get(store *s, const char *key, buf *out)
{
    pq_args a = {0};
    pa_text(&a, key);
    PGresult *r;
    TRY(pq_query(s, P_META_GET, DB(s)->sql[P_META_GET], &a, &r));
    err rc = PQntuples(r) == 1 ? buf_set(out, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0))
                               : err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "no such setting");
    PQclear(r);
    return rc;
}

err pg_meta_set(store *s, const char *key, const char *value)
{
    pq_args a = {0};
    pa_text(&a, key);
    pa_text(&a, value);
    return pq_write(s, P_META_SET, DB(s)->sql[P_META_SET], &a, NULL);
}

/* ---- backups: pg_dump's, not a file of ours ---- */

static err pg_snapshot(store *s, const char *path)
{
    BAIL(ERR_INPUT, "store: a PostgreSQL store is backed up with pg_dump (docs/POSTGRES.md)");
}

static err pg_no_file(const char *path)
{
    BAIL(ERR_INPUT, "store: a PostgreSQL store is no file");
}

static err pg_no_copy(const char *from, const char *to)
{
    BAIL(ERR_INPUT, "store: a PostgreSQL store is no file");
}

static const store_backup_ops PG_BACKUP_OPS = {
    .snapshot = pg_snapshot, .copy_file = pg_no_copy, .check_file = pg_no_file};

/* ---- the backend's table ---- */

/* The groups this backend does not hold yet (docs/POSTGRES.md): each operation answers
 * ERR_UNAVAILABLE naming itself, never a silent success. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define PG_PENDING(name, params, args)                                                             \
    static err pg_pending_##name params                                                            \
    {                                                                                              \
        return err_set(ERR_UNAVAILABLE, __FILE__, __LINE__,                                        \
                       "store: %s is not held by the PostgreSQL store yet", #name);                \
    }
STORE_OPS_INCIDENT(PG_PENDING)
STORE_OPS_TRAINING(PG_PENDING)
STORE_OPS_PHISH(PG_PENDING)
#undef PG_PENDING
#pragma GCC diagnostic pop

#define PG_OP(name, params, args) .name = pg_##name,
#define PG_OP_PENDING(name, params, args) .name = pg_pending_##name,
static const store_ops PG_OPS = {.name = "postgres",
                                 .close = pg_close,
                                 .begin = pg_begin,
                                 .commit = pg_commit,
                                 .rollback = pg_rollback,
                                 .backup = &PG_BACKUP_OPS,
                                 STORE_OPS_CORE(PG_OP) STORE_OPS_INCIDENT(PG_OP_PENDING)
                                     STORE_OPS_TRAINING(PG_OP_PENDING)
                                         STORE_OPS_PHISH(PG_OP_PENDING)};
#undef PG_OP
#undef PG_OP_PENDING
