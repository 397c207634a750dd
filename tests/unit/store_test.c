/*
 * store_test.c - the SQLite store on a real file: rows round-trip, blind-index
 * lookups with department scope and pagination, erasure, sessions, accounts,
 * idempotency, rewrap, snapshots, and threads each with their own connection.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fault.h"
#include "store/store.h"
#include "store/store_backup.h"
#include "test.h"

static char path[600];
static store *S;

static void fake_customer(sealed_customer *c, const char *dept, uint64_t phone_bi)
{
    sealed_customer_init(c);
    id_new(c->id, "cus");
    snprintf(c->department, sizeof c->department, "%s", dept);
    c->created_us = c->updated_us = 1000;
    c->dek_version = 1;
    c->kek_version = 1;
    /* An envelope's header names the KEK version (the store checks it against kek_version). */
    IGNORE(buf_set(&c->wrapped_dek, "\x01\x01\x00\x00\x00\x01wrapped-key", 17));
    IGNORE(buf_set(&c->field[CF_NAME], "sealed-name", 11));
    IGNORE(buf_set(&c->field[CF_PHONE], "sealed-phone", 12));
    c->has_blind[BI_PHONE] = true;
    c->blind[BI_PHONE] = phone_bi;
}

TEST(t_open)
{
    char *dir = test_tmpdir("store");
    snprintf(path, sizeof path, "%s/custos.db", dir);
    free(dir);
    EXPECT_OK(store_open(path, true, &S));
    store *again = NULL;
    EXPECT_ERR(store_open(path, true, &again), ERR_CONFLICT);
    EXPECT_ERR(store_open("/nonexistent/dir/x.db", false, &again), ERR_IO);
}

TEST(t_customers)
{
    sealed_customer a, b, c, got;
    fake_customer(&a, "beijing", 77);
    fake_customer(&b, "shanghai", 77);
    fake_customer(&c, "beijing", 0xFFFFFFFFFFFFFFF0ull);
    EXPECT_OK(store_customer_insert(S, &a));
    EXPECT_OK(store_customer_insert(S, &b));
    EXPECT_OK(store_customer_insert(S, &c));
    EXPECT_ERR(store_customer_insert(S, &a), ERR_CONFLICT);
    sealed_customer_init(&got);
    EXPECT_OK(store_customer_get(S, a.id, &got));
    EXPECT_STR(got.department, "beijing");
    EXPECT(got.field[CF_NAME].len == 11 && memcmp(got.field[CF_NAME].p, "sealed-name", 11) == 0);
    EXPECT_INT(got.field[CF_EMAIL].len, 0);
    EXPECT_ERR(store_customer_get(S, "cus_nothere", &got), ERR_NOT_FOUND);
    char ids[4][ID_LEN + 1];
    size_t n = 0;
    EXPECT_OK(store_customer_find(S, BI_PHONE, 77, NULL, NULL, 4, ids, &n));
    EXPECT_INT(n, 2);
    EXPECT_OK(store_customer_find(S, BI_PHONE, 77, "beijing", NULL, 4, ids, &n));
    EXPECT_INT(n, 1);
    EXPECT_STR(ids[0], a.id);
    EXPECT_OK(store_customer_find(S, BI_PHONE, 0xFFFFFFFFFFFFFFF0ull, NULL, NULL, 4, ids, &n));
    EXPECT_INT(n, 1); /* values above 2^63 survive SQLite's signed integers */
    EXPECT_OK(store_customer_find(S, BI_EMAIL, 77, NULL, NULL, 4, ids, &n));
    EXPECT_INT(n, 0);
    /* pagination */
    EXPECT_OK(store_customer_list(S, NULL, false, NULL, 2, ids, &n));
    EXPECT_INT(n, 2);
    char after[ID_LEN + 1];
    memcpy(after, ids[1], sizeof after);
    EXPECT_OK(store_customer_list(S, NULL, false, after, 2, ids, &n));
    EXPECT_INT(n, 1);
    /* update replaces, erase destroys */
    IGNORE(buf_set(&a.field[CF_EMAIL], "sealed-email", 12));
    EXPECT_OK(store_customer_update(S, &a));
    EXPECT_OK(store_customer_get(S, a.id, &got));
    EXPECT_INT(got.field[CF_EMAIL].len, 12);
    EXPECT_OK(store_customer_erase(S, a.id, 5000));
    EXPECT_OK(store_customer_get(S, a.id, &got));
    EXPECT(got.erased);
    EXPECT_INT(got.wrapped_dek.len, 0);
    EXPECT_INT(got.field[CF_NAME].len, 0);
    EXPECT_ERR(store_customer_update(S, &a), ERR_NOT_FOUND);
    EXPECT_OK(store_customer_find(S, BI_PHONE, 77, "beijing", NULL, 4, ids, &n));
    EXPECT_INT(n, 0);
    int64_t cnt = 0;
    EXPECT_OK(store_customer_count(S, &cnt));
    EXPECT_INT(cnt, 2);
    sealed_customer_free(&a);
    sealed_customer_free(&b);
    sealed_customer_free(&c);
    sealed_customer_free(&got);
}

static err count_erasure(void *ctx, const char *id, int64_t at)
{
    (*(int *)ctx)++;
    return ERR_OK;
}

TEST(t_erasure_journal)
{
    int n = 0;
    EXPECT_OK(store_erasures(S, count_erasure, &n));
    EXPECT_INT(n, 1);
}

static err count_rec(void *ctx, const sealed_record *r)
{
    (*(int *)ctx)++;
    return ERR_OK;
}

TEST(t_records)
{
    sealed_customer c;
    fake_customer(&c, "beijing", 1);
    EXPECT_OK(store_customer_insert(S, &c));
    char first[ID_LEN + 1] = "";
    for (int i = 0; i < 5; i++) {
        sealed_record r;
        sealed_record_init(&r, REC_TRANSACTION);
        id_new(r.id, "txn");
        if (i == 0) {
            memcpy(first, r.id, sizeof first);
        }
        memcpy(r.customer_id, c.id, sizeof r.customer_id);
        r.dek_version = 1;
        IGNORE(buf_set(&r.field[TF_PRICE], "sealed", 6));
        EXPECT_OK(store_record_insert(S, &r));
        sealed_record_free(&r);
    }
    int n = 0;
    size_t got = 0;
    EXPECT_OK(store_record_list(S, REC_TRANSACTION, c.id, NULL, 100, count_rec, &n, &got));
    EXPECT_INT(n, 5);
    n = 0;
    EXPECT_OK(store_record_list(S, REC_TRANSACTION, c.id, first, 100, count_rec, &n, &got));
    EXPECT_INT(n, 4);
    n = 0;
    EXPECT_OK(store_record_list(S, REC_COMMUNICATION, c.id, NULL, 100, count_rec, &n, &got));
    EXPECT_INT(n, 0);
    EXPECT_OK(store_customer_erase(S, c.id, 1));
    n = 0;
    EXPECT_OK(store_record_list(S, REC_TRANSACTION, c.id, NULL, 100, count_rec, &n, &got));
    EXPECT_INT(n, 0);
    sealed_customer_free(&c);
}

TEST(t_accounts_sessions)
{
    account a = {0}, b;
    id_new(a.id, "acc");
    snprintf(a.username, sizeof a.username, "steward1");
    snprintf(a.role, sizeof a.role, "data_steward");
    snprintf(a.department, sizeof a.department, "beijing");
    snprintf(a.pwhash, sizeof a.pwhash, "$argon2id$fake");
    EXPECT_OK(store_account_insert(S, &a));
    EXPECT_ERR(store_account_insert(S, &a), ERR_CONFLICT);
    EXPECT_OK(store_account_by_name(S, "steward1", &b));
    EXPECT_STR(b.id, a.id);
    EXPECT_ERR(store_account_by_name(S, "nobody", &b), ERR_NOT_FOUND);
    b.failed_logins = 3;
    EXPECT_OK(store_account_update(S, &b));
    EXPECT_OK(store_account_by_id(S, a.id, &b));
    EXPECT_INT(b.failed_logins, 3);
    uint8_t h[SESSION_HASH_LEN] = {1, 2, 3}, h2[SESSION_HASH_LEN] = {4, 5, 6};
    session_row r = {.created_us = 100, .expires_us = 200, .last_seen_us = 100, .flags = 1};
    snprintf(r.account_id, sizeof r.account_id, "%s", a.id);
    EXPECT_OK(store_session_insert(S, h, &r));
    EXPECT_OK(store_session_insert(S, h2, &r));
    session_row got;
    EXPECT_OK(store_session_get(S, h, &got));
    EXPECT_STR(got.account_id, a.id);
    EXPECT_INT(got.expires_us, 200);
    EXPECT_INT(got.flags, 1);
    EXPECT_OK(store_session_touch(S, h, 160, 0));
    EXPECT_OK(store_session_get(S, h, &got));
    EXPECT_INT(got.last_seen_us, 160);
    EXPECT_INT(got.flags, 0);
    EXPECT_OK(store_session_delete(S, h));
    EXPECT_ERR(store_session_get(S, h, &got), ERR_AUTH);
    size_t n = 0;
    EXPECT_OK(store_session_delete_account(S, a.id, &n));
    EXPECT_INT(n, 1);
    EXPECT_ERR(store_session_get(S, h2, &got), ERR_AUTH);
    /* recovery codes: each works once */
    uint8_t codes[2][RECOVERY_HASH_LEN] = {{1}, {2}};
    EXPECT_OK(store_recovery_replace(S, a.id, (const uint8_t(*)[RECOVERY_HASH_LEN])codes, 2));
    int64_t left = 0;
    EXPECT_OK(store_recovery_left(S, a.id, &left));
    EXPECT_INT(left, 2);
    EXPECT_OK(store_recovery_use(S, a.id, codes[1]));
    EXPECT_ERR(store_recovery_use(S, a.id, codes[1]), ERR_AUTH);
    EXPECT_OK(store_recovery_left(S, a.id, &left));
    EXPECT_INT(left, 1);
}

TEST(t_access_tables)
{
    apikey k;
    memset(&k, 0, sizeof k);
    snprintf(k.id, sizeof k.id, "key_1");
    snprintf(k.name, sizeof k.name, "till");
    k.hash[0] = 7;
    snprintf(k.role, sizeof k.role, "sales");
    snprintf(k.scope, sizeof k.scope, "transactions:read,create");
    EXPECT_OK(store_apikey_insert(S, &k));
    snprintf(k.id, sizeof k.id, "key_2");
    k.hash[0] = 8;
    EXPECT_ERR(store_apikey_insert(S, &k), ERR_CONFLICT); /* same name */
    apikey g;
    uint8_t h[32] = {7};
    EXPECT_OK(store_apikey_by_hash(S, h, &g));
    EXPECT_STR(g.name, "till");
    EXPECT_OK(store_apikey_by_name(S, "till", &g));
    EXPECT_STR(g.id, "key_1");
    EXPECT_ERR(store_apikey_by_name(S, "nobody", &g), ERR_NOT_FOUND);
    EXPECT_OK(store_apikey_used(S, "key_1", 5, "127.0.0.1"));
    EXPECT_OK(store_apikey_by_id(S, "key_1", &g));
    EXPECT_INT(g.last_used_us, 5);
    g.revoked_us = 9;
    EXPECT_OK(store_apikey_update(S, &g));
    EXPECT_OK(store_apikey_by_hash(S, h, &g));
    EXPECT_INT(g.revoked_us, 9);

    change_request r, q;
    change_request_init(&r);
    change_request_init(&q);
    snprintf(r.id, sizeof r.id, "req_1");
    snprintf(r.kind, sizeof r.kind, "change");
    snprintf(r.status, sizeof r.status, "pending");
    snprintf(r.department, sizeof r.department, "beijing");
    EXPECT_OK(buf_append_str(&r.payload, "sealed"));
    EXPECT_OK(store_request_insert(S, &r));
    snprintf(r.status, sizeof r.status, "applied");
    EXPECT_OK(store_request_decide(S, &r, "pending"));
    EXPECT_ERR(store_request_decide(S, &r, "pending"), ERR_CONFLICT); /* decided once */
    EXPECT_OK(store_request_get(S, "req_1", &q));
    EXPECT_STR(q.status, "applied");
    EXPECT_INT(q.payload.len, 6);
    change_request_free(&r);
    change_request_free(&q);

    breakglass b, c;
    memset(&b, 0, sizeof b);
    snprintf(b.id, sizeof b.id, "bgl_1");
    snprintf(b.account_id, sizeof b.account_id, "acc_1");
    b.opened_us = 10;
    b.expires_us = 100;
    EXPECT_OK(store_breakglass_insert(S, &b));
    EXPECT_OK(store_breakglass_active(S, "acc_1", 50, &c));
    EXPECT_ERR(store_breakglass_active(S, "acc_1", 150, &c), ERR_NOT_FOUND);
    EXPECT_OK(store_breakglass_count_read(S, "bgl_1"));
    size_t n = 0;
    breakglass list[4];
    EXPECT_OK(store_breakglass_list(S, true, list, 4, &n));
    EXPECT_INT(n, 1);
    EXPECT_INT(list[0].reads, 1);
}

TEST(t_migrates_version_1)
{
    /* A version-1 database (before identity and access) opens and is migrated in place. */
    char p[600];
    snprintf(p, sizeof p, "%.590s.v1", path);
    unlink(p);
    sqlite3 *db = NULL;
    EXPECT(sqlite3_open(p, &db) == SQLITE_OK);
    EXPECT(sqlite3_exec(db,
                        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                        "CREATE TABLE accounts(id TEXT PRIMARY KEY, username TEXT NOT NULL "
                        "UNIQUE, role TEXT NOT NULL, department TEXT NOT NULL, pwhash TEXT NOT "
                        "NULL, disabled INTEGER NOT NULL, created INTEGER NOT NULL, failed "
                        "INTEGER NOT NULL, locked_until INTEGER NOT NULL);"
                        "CREATE TABLE sessions(hash BLOB PRIMARY KEY, account_id TEXT NOT NULL, "
                        "created INTEGER NOT NULL, expires INTEGER NOT NULL) WITHOUT ROWID;"
                        "INSERT INTO accounts VALUES('acc_x','old','sales','b','h',0,1,0,0);"
                        "INSERT INTO meta VALUES('schema_version','1');",
                        NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    store *o = NULL;
    EXPECT_OK(store_open(p, false, &o));
    account a;
    EXPECT_OK(store_account_by_name(o, "old", &a));
    EXPECT_INT(a.training_until_us, 0);
    buf v;
    buf_init(&v, 64);
    EXPECT_OK(store_meta_get(o, "schema_version", &v));
    EXPECT_STR(buf_cstr(&v), STORE_SCHEMA_VERSION);
    buf_free(&v);
    store_close(o);
    unlink(p);
}

TEST(t_idempotency)
{
    uint8_t k[32] = {9}, h[32] = {8}, h2[32] = {7}, got_h[32];
    int st;
    buf body;
    buf_init(&body, 0);
    EXPECT_ERR(store_idem_get(S, k, 0, got_h, &st, &body), ERR_NOT_FOUND);
    /* a claim, then the answer */
    EXPECT_OK(store_idem_claim(S, k, h, 1000, 0));
    EXPECT_OK(store_idem_get(S, k, 0, got_h, &st, &body));
    EXPECT_INT(st, 0);                                             /* in progress */
    EXPECT_ERR(store_idem_claim(S, k, h2, 1001, 0), ERR_CONFLICT); /* held: not taken over */
    EXPECT_OK(store_idem_put(S, k, 201, slice_cstr("{\"id\":\"x\"}")));
    EXPECT_OK(store_idem_get(S, k, 0, got_h, &st, &body));
    EXPECT_INT(st, 201);
    EXPECT(memcmp(got_h, h, 32) == 0);
    EXPECT_STR(buf_cstr(&body), "{\"id\":\"x\"}");
    EXPECT_ERR(store_idem_claim(S, k, h, 1002, 0), ERR_CONFLICT);
    /* a dropped claim frees the key; an answered one is not dropped */
    EXPECT_OK(store_idem_drop(S, k));
    EXPECT_OK(store_idem_get(S, k, 0, got_h, &st, &body));
    /* expired: invisible, taken over by a new claim, purged */
    EXPECT_ERR(store_idem_get(S, k, 1001, got_h, &st, &body), ERR_NOT_FOUND);
    EXPECT_OK(store_idem_claim(S, k, h2, 5000, 1001));
    EXPECT_OK(store_idem_get(S, k, 0, got_h, &st, &body));
    EXPECT(memcmp(got_h, h2, 32) == 0);
    EXPECT_INT(st, 0);
    size_t n = 0;
    EXPECT_OK(store_idem_purge(S, 4000, &n));
    EXPECT_INT(n, 0);
    EXPECT_OK(store_idem_purge(S, 6000, &n));
    EXPECT_INT(n, 1);
    EXPECT_ERR(store_idem_get(S, k, 0, got_h, &st, &body), ERR_NOT_FOUND);
    buf_free(&body);
}

static err rewrap(void *ctx, const char *id, buf *w, uint32_t *v)
{
    (*(int *)ctx)++;
    *v = 7;
    return buf_set(w, "\x01\x01\x00\x00\x00\x07rewrapped", 15);
}

static err rewrap_refuse_one(void *ctx, const char *id, buf *w, uint32_t *v)
{
    const sealed_customer *bad = ctx;
    if (strcmp(id, bad->id) == 0) {
        return err_set(ERR_CRYPTO, __FILE__, __LINE__, "integrity check failed");
    }
    *v = 8;
    return buf_set(w, "\x01\x01\x00\x00\x00\x08rewrapped", 15);
}

TEST(t_rewrap_and_snapshot)
{
    int n = 0;
    size_t done = 0, failed = 0;
    EXPECT_OK(store_customer_rewrap_all(S, 7, rewrap, &n, &done, &failed));
    EXPECT_INT(done, 2); /* the two live customers; erased ones have no key to rewrap */
    EXPECT_INT(failed, 0);
    EXPECT_OK(store_customer_rewrap_all(S, 7, rewrap, &n, &done, &failed));
    EXPECT_INT(done, 0);
    /* A key that no longer opens is skipped and counted, never a reason to stop. */
    sealed_customer bad;
    fake_customer(&bad, "beijing", 3);
    EXPECT_OK(store_customer_insert(S, &bad));
    EXPECT_OK(store_customer_rewrap_all(S, 8, rewrap_refuse_one, &bad, &done, &failed));
    EXPECT_INT(done, 2);
    EXPECT_INT(failed, 1);
    EXPECT_OK(store_customer_erase(S, bad.id, 9));
    sealed_customer_free(&bad);
    char snap[700];
    snprintf(snap, sizeof snap, "%s.snap", path);
    EXPECT_OK(store_snapshot(S, snap));
    EXPECT_OK(store_check_file(snap));
    FILE *f = fopen(snap, "r+b");
    fseek(f, 4096, SEEK_SET);
    for (int i = 0; i < 2 * 4096; i++) {
        fputc(0xAB, f);
    }
    fclose(f);
    EXPECT(store_check_file(snap) != ERR_OK);
    EXPECT_ERR(store_check_file("/nonexistent.db"), ERR_IO);
}

/* ---- the backend interface (store_backend.h) ---- */

static store *open_fresh(const char *tag, char *p, size_t len)
{
    char *dir = test_tmpdir(tag);
    snprintf(p, len, "%s/custos.db", dir);
    free(dir);
    store *s = NULL;
    EXPECT_OK(store_open(p, true, &s));
    return s;
}

TEST(t_backend_selection)
{
    store *s = NULL;
    /* A PostgreSQL location goes to that backend, never taken for a file name: with no server
     * there it fails closed (unavailable), saying so (store_suite_test runs a real one). */
    EXPECT_ERR(store_open("postgres://custos@127.0.0.1:1/custos?connect_timeout=5", false, &s),
               ERR_UNAVAILABLE);
    EXPECT(strstr(err_message(), "PostgreSQL") != NULL);
    EXPECT_ERR(store_open("postgresql://127.0.0.1:1/custos?connect_timeout=5", true, &s),
               ERR_UNAVAILABLE);
    EXPECT_ERR(store_open("postgres://127.0.0.1:1/custos?schema=Bad-Name", true, &s), ERR_INPUT);
    EXPECT_ERR(store_open("", false, &s), ERR_INPUT);
    EXPECT(s == NULL);
    EXPECT(access("postgres:", F_OK) != 0); /* nothing created under that name */
    EXPECT_ERR(store_check_file("postgres://127.0.0.1/custos"), ERR_INPUT);
    EXPECT_ERR(store_copy_file("postgres://127.0.0.1/a", "/tmp/x.db"), ERR_INPUT);
    /* A path is SQLite. */
    char p[600];
    s = open_fresh("backend", p, sizeof p);
    EXPECT(s != NULL);
    EXPECT_OK(store_check_file(p));
    store_close(s);
}

typedef struct tx_other {
    store *s;
    store *view;
    const char *id;
    err view_rc, read_rc;
    bool saw;
} tx_other;

/* Another thread while the first holds a transaction: the view is not for it, and the shared
 * store shows it nothing uncommitted. */
static void *tx_other_thread(void *arg)
{
    tx_other *o = arg;
    int64_t n = 0;
    o->view_rc = store_customer_count(o->view, &n);
    sealed_customer c;
    sealed_customer_init(&c);
    o->read_rc = store_customer_get(o->s, o->id, &c);
    o->saw = o->read_rc == ERR_OK;
    sealed_customer_free(&c);
    return NULL;
}

TEST(t_tx_handles)
{
    char p[600];
    store *s = open_fresh("tx", p, sizeof p);
    if (!s) {
        return;
    }
    sealed_customer a, b, got;
    fake_customer(&a, "beijing", 1);
    fake_customer(&b, "beijing", 2);
    sealed_customer_init(&got);
    store_tx *tx = NULL, *tx2 = NULL;
    EXPECT_OK(store_begin(s, &tx));
    EXPECT(tx != NULL);
    if (!tx) {
        store_close(s);
        return;
    }
    store *ts = store_tx_store(tx);
    EXPECT_OK(store_customer_insert(ts, &a));
    EXPECT_OK(store_customer_get(ts, a.id, &got)); /* the view sees its own write */
    /* The shared store, from the thread that holds the transaction: refused, both ways. */
    EXPECT_ERR(store_customer_get(s, a.id, &got), ERR_INTERNAL);
    EXPECT(strstr(err_message(), "store_tx_store") != NULL);
    EXPECT_ERR(store_customer_insert(s, &b), ERR_INTERNAL);
    /* Not nested: neither on the shared store nor on the view, nor into a used handle. */
    EXPECT_ERR(store_begin(s, &tx2), ERR_INTERNAL);
    EXPECT(tx2 == NULL);
    EXPECT_ERR(store_begin(ts, &tx2), ERR_INTERNAL);
    EXPECT_ERR(store_begin(s, &tx), ERR_INTERNAL);
    /* The sweeps that run their own transactions refuse a view. */
    size_t done = 0, failed = 0;
    EXPECT_ERR(store_customer_rewrap_all(ts, 2, NULL, NULL, &done, &failed), ERR_INTERNAL);
    EXPECT_ERR(store_snapshot(ts, "/nonexistent/x.db"), ERR_INTERNAL);
    /* Another thread: the view is not its own; the shared store does not see the write yet. */
    tx_other o = {.s = s, .view = ts, .id = a.id};
    pthread_t t;
    pthread_create(&t, NULL, tx_other_thread, &o);
    pthread_join(t, NULL);
    EXPECT_INT(o.view_rc, ERR_INTERNAL);
    EXPECT_INT(o.read_rc, ERR_NOT_FOUND);
    EXPECT(!o.saw);
    EXPECT_OK(store_commit(&tx));
    EXPECT(tx == NULL);
    /* Twice: refused clearly (the handle is gone), a rollback after the end does nothing. */
    EXPECT_ERR(store_commit(&tx), ERR_INTERNAL);
    EXPECT(strstr(err_message(), "committed or rolled back already") != NULL);
    store_rollback(&tx);
    store_rollback(NULL);
    EXPECT_OK(store_customer_get(s, a.id, &got)); /* the shared store again, committed */
    EXPECT_STR(got.id, a.id);
    /* A rollback leaves nothing behind and frees the thread for the shared store. */
    EXPECT_OK(store_begin(s, &tx));
    if (tx) {
        EXPECT_OK(store_customer_insert(store_tx_store(tx), &b));
    }
    store_rollback(&tx);
    EXPECT(tx == NULL);
    EXPECT_ERR(store_customer_get(s, b.id, &got), ERR_NOT_FOUND);
    /* A commit that fails has rolled back: the thread may begin again at once. */
    EXPECT_OK(store_begin(s, &tx));
    if (tx) {
        EXPECT_OK(store_customer_insert(store_tx_store(tx), &b));
        EXPECT_ERR(store_customer_insert(store_tx_store(tx), &a), ERR_CONFLICT); /* exists */
    }
    fault_arm(FAULT_STORE_ALLOC, 0, 1, 1); /* the COMMIT's statement */
    EXPECT(store_commit(&tx) != ERR_OK);
    fault_disarm_all();
    EXPECT(tx == NULL);
    EXPECT_ERR(store_customer_get(s, b.id, &got), ERR_NOT_FOUND);
    EXPECT_OK(store_begin(s, &tx));
    EXPECT_OK(store_commit(&tx));
    sealed_customer_free(&a);
    sealed_customer_free(&b);
    sealed_customer_free(&got);
    store_close(s);
}

enum { TX_THREADS = 6, TX_ROUNDS = 25 };

typedef struct tx_writer {
    store *s;
    const char *id;
    int conflicts;
    err rc;
} tx_writer;

/* Read-modify-write of one row inside a transaction: the counter (updated_us) must count
 * every round of every thread. */
static void *tx_writer_thread(void *arg)
{
    tx_writer *w = arg;
    sealed_customer c;
    sealed_customer_init(&c);
    for (int i = 0; i < TX_ROUNDS && w->rc == ERR_OK; i++) {
        store_tx *tx = NULL;
        err e = store_begin(w->s, &tx);
        if (e == ERR_OK) {
            store *ts = store_tx_store(tx);
            e = store_customer_get(ts, w->id, &c);
            if (e == ERR_OK) {
                c.updated_us++;
                e = store_customer_update(ts, &c);
                w->conflicts += e == ERR_CONFLICT;
            }
            e = e == ERR_OK ? store_commit(&tx) : e;
            store_rollback(&tx);
        }
        w->rc = e;
    }
    sealed_customer_free(&c);
    return NULL;
}

TEST(t_tx_concurrent_writers)
{
    char p[600];
    store *s = open_fresh("tx-race", p, sizeof p);
    if (!s) {
        return;
    }
    sealed_customer c;
    fake_customer(&c, "beijing", 5);
    c.updated_us = 0;
    EXPECT_OK(store_customer_insert(s, &c));
    tx_writer w[TX_THREADS];
    pthread_t t[TX_THREADS];
    for (int i = 0; i < TX_THREADS; i++) {
        w[i] = (tx_writer){.s = s, .id = c.id};
        pthread_create(&t[i], NULL, tx_writer_thread, &w[i]);
    }
    for (int i = 0; i < TX_THREADS; i++) {
        pthread_join(t[i], NULL);
        EXPECT_OK(w[i].rc);
        EXPECT_INT(w[i].conflicts, 0); /* inside a transaction the version never moves */
    }
    sealed_customer got;
    sealed_customer_init(&got);
    EXPECT_OK(store_customer_get(s, c.id, &got));
    EXPECT_INT(got.updated_us, TX_THREADS * TX_ROUNDS); /* no update lost */
    EXPECT_INT(got.version, 1 + TX_THREADS * TX_ROUNDS);
    sealed_customer_free(&got);
    sealed_customer_free(&c);
    store_close(s);
}

/* ---- batch reads ---- */

TEST(t_customer_get_many)
{
    char p[600];
    store *s = open_fresh("many", p, sizeof p);
    if (!s) {
        return;
    }
    enum { N = 75 }; /* more than one statement's worth (SQ_MANY) */
    char ids[N][ID_LEN + 1];
    sealed_customer c;
    for (int i = 0; i < N; i++) {
        fake_customer(&c, i % 2 ? "beijing" : "shanghai", (uint64_t)i);
        c.created_us = 5000 + i;
        if (i % 5 == 4) {
            id_new(ids[i], "cus"); /* never stored */
        } else {
            memcpy(ids[i], c.id, sizeof ids[i]);
            EXPECT_OK(store_customer_insert(s, &c));
        }
        sealed_customer_free(&c);
    }
    EXPECT_OK(store_customer_erase(s, ids[3], 99));
    memcpy(ids[N - 1], ids[0], sizeof ids[0]); /* asked twice */
    sealed_customer *rows = calloc(N, sizeof *rows);
    bool found[N];
    for (int i = 0; i < N; i++) {
        sealed_customer_init(&rows[i]);
    }
    EXPECT_OK(store_customer_get_many(s, (const char(*)[ID_LEN + 1]) ids, N, rows, found));
    for (int i = 0; i < N - 1; i++) {
        EXPECT(found[i] == (i % 5 != 4));
        if (i % 5 == 4) {
            continue;
        }
        /* The same row store_customer_get gives. */
        sealed_customer one;
        sealed_customer_init(&one);
        EXPECT_OK(store_customer_get(s, ids[i], &one));
        EXPECT_STR(rows[i].id, ids[i]);
        EXPECT_STR(rows[i].department, one.department);
        EXPECT_INT(rows[i].created_us, one.created_us);
        EXPECT_INT(rows[i].version, one.version);
        EXPECT(rows[i].erased == one.erased);
        EXPECT_INT(rows[i].field[CF_NAME].len, one.field[CF_NAME].len);
        EXPECT_INT(rows[i].blind[BI_PHONE], one.blind[BI_PHONE]);
        EXPECT_INT(rows[i].wrapped_dek.len, one.wrapped_dek.len);
        sealed_customer_free(&one);
    }
    EXPECT(found[3] && rows[3].erased); /* erased rows are found, marked erased */
    EXPECT_INT(rows[3].wrapped_dek.len, 0);
    EXPECT_INT(rows[3].field[CF_NAME].len, 0);
    EXPECT(found[N - 1]);
    EXPECT_STR(rows[N - 1].id, ids[0]);
    EXPECT_OK(store_customer_get_many(s, NULL, 0, rows, found)); /* nothing asked */
    /* One id at a time (the point read), and a last chunk of one id (SQ_MANY + 1). */
    for (int i = 0; i < 5; i++) {
        bool f1 = !(i % 5 != 4);
        EXPECT_OK(store_customer_get_many(s, (const char(*)[ID_LEN + 1])(ids + i), 1, rows, &f1));
        EXPECT(f1 == (i % 5 != 4));
        EXPECT(!f1 || strcmp(rows[0].id, ids[i]) == 0);
        EXPECT(!f1 || rows[0].erased == (i == 3));
    }
    EXPECT_OK(store_customer_get_many(s, (const char(*)[ID_LEN + 1]) ids, 33, rows, found));
    EXPECT(found[32] == (32 % 5 != 4) && strcmp(rows[32].id, ids[32]) == 0);
    EXPECT(found[3] && rows[3].erased && !found[4]);
    /* Inside a transaction, through its view. */
    store_tx *tx = NULL;
    EXPECT_OK(store_begin(s, &tx));
    if (tx) {
        EXPECT_OK(store_customer_get_many(store_tx_store(tx), (const char(*)[ID_LEN + 1]) ids, 2,
                                          rows, found));
        EXPECT_ERR(store_customer_get_many(s, (const char(*)[ID_LEN + 1]) ids, 2, rows, found),
                   ERR_INTERNAL);
    }
    EXPECT_OK(store_commit(&tx));
    for (int i = 0; i < N; i++) {
        sealed_customer_free(&rows[i]);
    }
    free(rows);
    store_close(s);
}

TEST(t_access_batches)
{
    char p[600];
    store *s = open_fresh("many-access", p, sizeof p);
    if (!s) {
        return;
    }
    enum { N = 40 };
    char ids[N][ID_LEN + 1];
    for (int i = 0; i < N; i++) {
        account a = {0};
        id_new(a.id, "acc");
        snprintf(a.username, sizeof a.username, "user%d", i);
        snprintf(a.role, sizeof a.role, "clerk");
        snprintf(a.department, sizeof a.department, "beijing");
        memcpy(ids[i], a.id, sizeof ids[i]);
        if (i == 7) {
            continue; /* an unknown account */
        }
        EXPECT_OK(store_account_insert(s, &a));
        uint8_t h[3][RECOVERY_HASH_LEN] = {{(uint8_t)i, 1}, {(uint8_t)i, 2}, {(uint8_t)i, 3}};
        EXPECT_OK(store_recovery_replace(s, a.id, (const uint8_t(*)[RECOVERY_HASH_LEN])h,
                                         (size_t)(i % 4)));
    }
    uint8_t used[RECOVERY_HASH_LEN] = {2, 1};
    EXPECT_OK(store_recovery_use(s, ids[2], used));
    int64_t left[N];
    EXPECT_OK(store_recovery_left_many(s, (const char(*)[ID_LEN + 1]) ids, N, left));
    for (int i = 0; i < N; i++) {
        int64_t one = -1;
        EXPECT_OK(store_recovery_left(s, ids[i], &one));
        EXPECT_INT(left[i], one);
    }
    EXPECT_INT(left[2], 1);
    EXPECT_INT(left[7], 0);
    EXPECT_INT(left[3], 3);

    /* The latest request per subject: the newest wins, another kind never counts. */
    char status[N][16];
    const char *st[] = {"pending", "applied", "rejected"};
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < i % 3; k++) {
            change_request r;
            change_request_init(&r);
            id_new(r.id, "req");
            snprintf(r.kind, sizeof r.kind, "apikey");
            snprintf(r.customer_id, sizeof r.customer_id, "%s", ids[i]);
            snprintf(r.status, sizeof r.status, "%s", st[(i + k) % 3]);
            r.created_us = 100 + k;
            EXPECT_OK(store_request_insert(s, &r));
            id_new(r.id, "req");
            snprintf(r.kind, sizeof r.kind, "account");
            snprintf(r.status, sizeof r.status, "used");
            r.created_us = 1000;
            EXPECT_OK(store_request_insert(s, &r));
            change_request_free(&r);
        }
    }
    EXPECT_OK(store_request_latest_many(s, "apikey", (const char(*)[ID_LEN + 1]) ids, N, status));
    for (int i = 0; i < N; i++) {
        change_request q;
        change_request_init(&q);
        err e = store_request_latest(s, "apikey", ids[i], &q);
        EXPECT_STR(status[i], e == ERR_OK ? q.status : "");
        EXPECT(i % 3 != 0 || status[i][0] == '\0');
        if (i % 3) {
            EXPECT_STR(status[i], st[(i + i % 3 - 1) % 3]);
        }
        change_request_free(&q);
    }
    store_close(s);
}

static void *reader(void *arg)
{
    int64_t *n = arg;
    for (int i = 0; i < 200; i++) {
        if (store_customer_count(S, n) != ERR_OK) {
            *n = -1;
            break;
        }
    }
    return NULL;
}

TEST(t_threads)
{
    pthread_t t[4];
    int64_t n[4];
    for (int i = 0; i < 4; i++) {
        pthread_create(&t[i], NULL, reader, &n[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        EXPECT_INT(n[i], 2);
    }
    store_close(S);
}

int main(void)
{
    test_init();
    RUN(t_open);
    RUN(t_customers);
    RUN(t_erasure_journal);
    RUN(t_records);
    RUN(t_accounts_sessions);
    RUN(t_access_tables);
    RUN(t_migrates_version_1);
    RUN(t_idempotency);
    RUN(t_rewrap_and_snapshot);
    RUN(t_backend_selection);
    RUN(t_tx_handles);
    RUN(t_tx_concurrent_writers);
    RUN(t_customer_get_many);
    RUN(t_access_batches);
    RUN(t_threads);
    return test_done("store_test");
}
