/*
 * audit.c - durable, group-committed audit log on its own SQLite file.
 */
#include "audit/audit.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "crypto/crypto.h"

typedef struct pending {
    buf bytes;
    int64_t ts_us;
    const audit_entry *e;
    uint64_t index;
    err rc;
    int done;
    struct pending *next;
} pending;

struct audit {
    sqlite3 *db; /* used only by the writer thread (and audit_size under lock) */
    sqlite3_stmt *ins;
    sqlite3_stmt *next; /* the next index, read inside each write transaction */
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    pending *head, *tail;
    uint64_t next_index;
    int stop;
    int fail;
    pthread_t writer;
};

static const char *SCHEMA =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS entries(idx INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    " actor TEXT NOT NULL, action TEXT NOT NULL, customer TEXT, decision TEXT NOT NULL,"
    " entry BLOB NOT NULL, leaf BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS entries_actor ON entries(actor, ts);"
    "CREATE INDEX IF NOT EXISTS entries_customer ON entries(customer, ts) WHERE customer IS "
    "NOT NULL;";

err audit_create(const char *path)
{
    ENSURE(access(path, F_OK) != 0, ERR_CONFLICT, "audit: log exists already");
    sqlite3 *db = NULL;
    err rc = ERR_OK;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        rc = err_set(ERR_IO, __FILE__, __LINE__, "audit: cannot create the log");
    }
    sqlite3_close_v2(db);
    return rc;
}

static void put_str(json_t *o, const char *k, const char *v)
{
    if (v) {
        json_object_set_new(o, k, json_string(v));
    }
}

err audit_encode(const audit_entry *e, buf *out)
{
    json_t *o = json_object();
    ENSURE(o != NULL, ERR_INTERNAL, "out of memory");
    char ts[40];
    clock_rfc3339(e->ts_us ? e->ts_us : clock_now_us(), ts);
    json_object_set_new(o, "v", json_integer(1));
    json_object_set_new(o, "ts", json_string(ts));
    put_str(o, "actor", e->actor ? e->actor : "-");
    put_str(o, "role", e->role ? e->role : "-");
    put_str(o, "source", e->source ? e->source : "-");
    put_str(o, "session", e->session);
    put_str(o, "action", e->action);
    put_str(o, "customer", e->customer);
    put_str(o, "customers", e->customers);
    put_str(o, "categories", e->categories);
    put_str(o, "fields", e->fields);
    put_str(o, "decision", e->decision);
    put_str(o, "rule", e->rule);
    put_str(o, "reason", e->reason);
    put_str(o, "request_id", e->request_id);
    put_str(o, "query_hash", e->query_hash);
    if (e->count >= 0) {
        json_object_set_new(o, "count", json_integer(e->count));
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(o);
    ENSURE(s != NULL, ERR_INTERNAL, "audit: encoding failed");
    err rc = buf_set(out, s, strlen(s));
    free(s);
    return rc;
}

static err write_batch(audit *a, pending *list)
{
    if (a->fail) {
        BAIL(ERR_UNAVAILABLE, "audit log is not writable: request refused");
    }
    if (sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        BAIL(ERR_UNAVAILABLE, "audit log is not writable: request refused");
    }
    /* Offline tools (rotation, backup) append to the same log while the server runs: the
     * next index is read under the write lock, never cached across transactions. */
    sqlite3_reset(a->next);
    if (sqlite3_step(a->next) != SQLITE_ROW) {
        sqlite3_reset(a->next);
        goto fail;
    }
    uint64_t idx = (uint64_t)sqlite3_column_int64(a->next, 0);
    sqlite3_reset(a->next);
    for (pending *p = list; p; p = p->next) {
        buf li;
        buf_init(&li, 0);
        uint8_t leaf[32];
        if (buf_append_byte(&li, 0) != ERR_OK || buf_append(&li, p->bytes.p, p->bytes.len)) {
            buf_free(&li);
            goto fail;
        }
        hash_sha256(li.p, li.len, leaf);
        buf_free(&li);
        sqlite3_reset(a->ins);
        sqlite3_bind_int64(a->ins, 1, (sqlite3_int64)idx);
        sqlite3_bind_int64(a->ins, 2, p->ts_us);
        sqlite3_bind_text(a->ins, 3, p->e->actor ? p->e->actor : "-", -1, SQLITE_STATIC);
        sqlite3_bind_text(a->ins, 4, p->e->action, -1, SQLITE_STATIC);
        if (p->e->customer) {
            sqlite3_bind_text(a->ins, 5, p->e->customer, -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(a->ins, 5);
        }
        sqlite3_bind_text(a->ins, 6, p->e->decision, -1, SQLITE_STATIC);
        sqlite3_bind_blob(a->ins, 7, p->bytes.p, (int)p->bytes.len, SQLITE_STATIC);
        sqlite3_bind_blob(a->ins, 8, leaf, 32, SQLITE_STATIC);
        if (sqlite3_step(a->ins) != SQLITE_DONE) {
            sqlite3_reset(a->ins);
            goto fail;
        }
        sqlite3_reset(a->ins);
        p->index = idx++;
    }
    if (sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        goto fail;
    }
    a->next_index = idx;
    return ERR_OK;
fail:
    sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
    log_error("audit.write_failed", "audit log write failed: %s", sqlite3_errmsg(a->db));
    BAIL(ERR_UNAVAILABLE, "audit log is not writable: request refused");
}

static void *writer_main(void *arg)
{
    audit *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->head && !a->stop) {
            pthread_cond_wait(&a->work, &a->mu);
        }
        if (!a->head && a->stop) {
            break;
        }
        pending *list = a->head;
        a->head = a->tail = NULL;
        pthread_mutex_unlock(&a->mu);
        err rc = write_batch(a, list);
        pthread_mutex_lock(&a->mu);
        for (pending *p = list; p; p = p->next) {
            p->rc = rc;
            p->done = 1;
        }
        pthread_cond_broadcast(&a->done);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

err audit_open(const char *path, audit **out)
{
    ENSURE(access(path, R_OK | W_OK) == 0, ERR_UNAVAILABLE, "audit: the log is missing");
    audit *a = calloc(1, sizeof *a);
    ENSURE(a != NULL, ERR_INTERNAL, "out of memory");
    err rc = ERR_OK;
    if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(a->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        FAIL(ERR_IO, "audit: cannot open the log");
    }
    sqlite3_busy_timeout(a->db, 5000);
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_prepare_v2(a->db, "SELECT coalesce(max(idx)+1, 0) FROM entries", -1, &st,
                             NULL) == SQLITE_OK,
          ERR_IO, "audit: cannot read the log");
    CHECK(sqlite3_step(st) == SQLITE_ROW, ERR_IO, "audit: cannot read the log");
    a->next_index = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    CHECK(sqlite3_prepare_v3(a->db, "SELECT coalesce(max(idx)+1, 0) FROM entries", -1,
                             SQLITE_PREPARE_PERSISTENT, &a->next, NULL) == SQLITE_OK,
          ERR_IO, "audit: cannot prepare");
    CHECK(sqlite3_prepare_v3(a->db,
                             "INSERT INTO entries(idx, ts, actor, action, customer, decision, "
                             "entry, leaf) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                             -1, SQLITE_PREPARE_PERSISTENT, &a->ins, NULL) == SQLITE_OK,
          ERR_IO, "audit: cannot prepare");
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->work, NULL);
    pthread_cond_init(&a->done, NULL);
    CHECK(pthread_create(&a->writer, NULL, writer_main, a) == 0, ERR_INTERNAL,
          "audit: cannot start the writer");
    *out = a;
    return ERR_OK;
out:
    if (a->ins) {
        sqlite3_finalize(a->ins);
    }
    if (a->next) {
        sqlite3_finalize(a->next);
    }
    sqlite3_close_v2(a->db);
    free(a);
    return rc;
}

void audit_close(audit *a)
{
    if (!a) {
        return;
    }
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    pthread_cond_signal(&a->work);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->writer, NULL);
    sqlite3_finalize(a->ins);
    sqlite3_finalize(a->next);
    sqlite3_close_v2(a->db);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->work);
    pthread_cond_destroy(&a->done);
    free(a);
}

void audit_fail_next(audit *a, int on)
{
    pthread_mutex_lock(&a->mu);
    a->fail = on;
    pthread_mutex_unlock(&a->mu);
}

err audit_append_many(audit *a, const audit_entry *e, size_t n)
{
    if (n == 0) {
        return ERR_OK;
    }
    pending *ps = calloc(n, sizeof *ps);
    ENSURE(ps != NULL, ERR_INTERNAL, "out of memory");
    err rc = ERR_OK;
    int64_t now = clock_now_us();
    for (size_t i = 0; i < n; i++) {
        buf_init(&ps[i].bytes, 1 << 20);
        ps[i].e = &e[i];
        ps[i].ts_us = e[i].ts_us ? e[i].ts_us : now;
        audit_entry copy = e[i];
        copy.ts_us = ps[i].ts_us;
        GUARD(audit_encode(&copy, &ps[i].bytes));
        ps[i].next = i + 1 < n ? &ps[i + 1] : NULL;
    }
    pthread_mutex_lock(&a->mu);
    if (a->tail) {
        a->tail->next = &ps[0];
    } else {
        a->head = &ps[0];
    }
    a->tail = &ps[n - 1];
    pthread_cond_signal(&a->work);
    while (!ps[n - 1].done) {
        pthread_cond_wait(&a->done, &a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    rc = ps[n - 1].rc;
    if (rc != ERR_OK) {
        err_set(rc, __FILE__, __LINE__, "audit log is not writable: request refused");
    }
out:
    for (size_t i = 0; i < n; i++) {
        buf_free(&ps[i].bytes);
    }
    free(ps);
    return rc;
}

err audit_append(audit *a, const audit_entry *e, uint64_t *index)
{
    pending p;
    memset(&p, 0, sizeof p);
    buf_init(&p.bytes, 1 << 20);
    p.e = e;
    p.ts_us = e->ts_us ? e->ts_us : clock_now_us();
    audit_entry copy = *e;
    copy.ts_us = p.ts_us;
    err rc = audit_encode(&copy, &p.bytes);
    if (rc != ERR_OK) {
        buf_free(&p.bytes);
        return rc;
    }
    pthread_mutex_lock(&a->mu);
    if (a->tail) {
        a->tail->next = &p;
    } else {
        a->head = &p;
    }
    a->tail = &p;
    pthread_cond_signal(&a->work);
    while (!p.done) {
        pthread_cond_wait(&a->done, &a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    buf_free(&p.bytes);
    if (p.rc != ERR_OK) {
        BAIL(p.rc, "audit log is not writable: request refused");
    }
    if (index) {
        *index = p.index;
    }
    return ERR_OK;
}

err audit_size(audit *a, uint64_t *n)
{
    pthread_mutex_lock(&a->mu);
    *n = a->next_index;
    pthread_mutex_unlock(&a->mu);
    return ERR_OK;
}
