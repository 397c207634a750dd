/*
 * fault_test.c - the fault-injection points (core/fault.h) and what the store
 * and the audit log do when a write, an fsync or an allocation fails under
 * them: the failed operation reports an error, nothing of it is visible (not
 * even half), the next operation succeeds, the files pass their checks, and a
 * reopened log or store holds exactly what was acknowledged.
 */
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/fault.h"
#include "core/log.h"
#include "store/store.h"
#include "store/store_backup.h"
#include "test.h"

TEST(t_spec)
{
    EXPECT_OK(fault_arm_spec("store.alloc:after=2:every=3:times=2"));
    /* hits 1,2 pass; then every 3rd: hit 5 and 8 fail; times=2 stops it after that */
    int failed_at[4] = {0}, nf = 0;
    for (int i = 1; i <= 20; i++) {
        if (fault_hit(FAULT_STORE_ALLOC) && nf < 4) {
            failed_at[nf++] = i;
        }
    }
    EXPECT_INT(nf, 2);
    EXPECT_INT(failed_at[0], 5);
    EXPECT_INT(failed_at[1], 8);
    EXPECT_INT(fault_injected(FAULT_STORE_ALLOC), 2);
    EXPECT(!fault_hit(FAULT_AUDIT_WRITE)); /* not armed */
    EXPECT_OK(fault_arm_spec("audit.write"));
    EXPECT(fault_hit(FAULT_AUDIT_WRITE));
    EXPECT(fault_hit(FAULT_AUDIT_WRITE));
    fault_disarm_all();
    EXPECT(!fault_hit(FAULT_AUDIT_WRITE));
    EXPECT_STR(fault_name(FAULT_AUDIT_FSYNC), "audit.fsync");
    EXPECT(fault_name(FAULT__COUNT) == NULL);
    /* Bad texts arm nothing. */
    EXPECT_ERR(fault_arm_spec("store.write,nonsense"), ERR_INPUT);
    EXPECT(!fault_hit(FAULT_STORE_WRITE));
    EXPECT_ERR(fault_arm_spec("store.write:every=x"), ERR_INPUT);
    EXPECT_ERR(fault_arm_spec("store.write:often=3"), ERR_INPUT);
    EXPECT_ERR(fault_arm_spec("store.write:every="), ERR_INPUT);
    EXPECT(!fault_hit(FAULT_STORE_WRITE));
}

static audit_entry entry(const char *customer)
{
    audit_entry e;
    memset(&e, 0, sizeof e);
    e.actor = "steward1";
    e.role = "data_steward";
    e.source = "127.0.0.1";
    e.action = "customer.update";
    e.customer = customer;
    e.decision = "allow";
    e.rule = "grant:test";
    e.request_id = "req_fault";
    e.count = -1;
    return e;
}

static uint8_t PK[32], SK[64];
static void sign(void *ctx, slice msg, uint8_t sig[64])
{
    crypto_sign_detached(sig, NULL, msg.p, msg.len, SK);
}

typedef struct writer_arg {
    audit *a;
    atomic_int ok, refused;
} writer_arg;

static void *audit_writer(void *p)
{
    writer_arg *w = p;
    for (int i = 0; i < 150; i++) {
        audit_entry e = entry("cus_w");
        if (audit_append(w->a, &e, NULL) == ERR_OK) {
            atomic_fetch_add(&w->ok, 1);
        } else {
            atomic_fetch_add(&w->refused, 1);
        }
    }
    return NULL;
}

static bool verify_log(const char *p, uint64_t *entries)
{
    audit_verify_report r;
    memset(&r, 0, sizeof r);
    err e = audit_verify_file(p, "custos.audit.fault", PK, NULL, 0, &r);
    if (e != ERR_OK) {
        printf("    audit verify: %s at %lld\n", r.problem, (long long)r.bad_index);
    }
    *entries = r.entries;
    return e == ERR_OK;
}

/* One audit fault point: a refused append leaves no entry, the next one succeeds, the
 * indexes stay dense, the tree and its checkpoints verify, and concurrent writers under a
 * recurring fault get exactly their acknowledged entries. */
static void audit_point(fault_point fp)
{
    char *dir = test_tmpdir("fault-audit");
    char p[600];
    snprintf(p, sizeof p, "%s/audit.db", dir);
    EXPECT_OK(audit_create(p));
    audit *a = NULL;
    EXPECT_OK(audit_open(p, &a));
    if (!a) {
        free(dir);
        return;
    }
    audit_signing sg;
    memset(&sg, 0, sizeof sg);
    sg.origin = "custos.local/audit/fault";
    sg.key_name = "custos.audit.fault";
    memcpy(sg.pk, PK, 32);
    sg.sign = sign;
    sg.every_n = 50;
    sg.every_us = 1000000;
    EXPECT_OK(audit_enable_checkpoints(a, &sg));
    audit_entry e = entry("cus_a");
    uint64_t acked = 0, idx = 0, before = fault_injected(fp);
    for (int i = 0; i < 20; i++) {
        EXPECT_OK(audit_append(a, &e, NULL));
        acked++;
    }
    fault_arm(fp, 0, 1, 1);
    EXPECT_ERR(audit_append(a, &e, NULL), ERR_UNAVAILABLE);
    EXPECT_INT(fault_injected(fp), before + 1);
    EXPECT_OK(audit_append(a, &e, &idx)); /* recovered, same index as the refused one */
    acked++;
    EXPECT_INT(idx, acked - 1);
    audit_entry many[5] = {e, e, e, e, e};
    fault_arm(fp, 0, 1, 1);
    EXPECT_ERR(audit_append_many(a, many, 5), ERR_UNAVAILABLE);
    EXPECT_OK(audit_append_many(a, many, 5));
    acked += 5;
    /* Eight writers, a fault at every 7th hit of the point. */
    fault_arm(fp, 0, 7, 0);
    writer_arg w = {a, 0, 0};
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        pthread_create(&t[i], NULL, audit_writer, &w);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
    }
    fault_disarm_all();
    EXPECT(atomic_load(&w.refused) > 0);
    EXPECT_INT(atomic_load(&w.ok) + atomic_load(&w.refused), 8 * 150);
    acked += (uint64_t)atomic_load(&w.ok);
    uint64_t n = 0;
    EXPECT_OK(audit_size(a, &n));
    EXPECT_INT(n, acked);
    audit_close(a);
    uint64_t entries = 0;
    EXPECT(verify_log(p, &entries));
    EXPECT_INT(entries, acked);
    a = NULL;
    EXPECT_OK(audit_open(p, &a));
    if (a) {
        EXPECT_OK(audit_size(a, &n));
        EXPECT_INT(n, acked);
        EXPECT_OK(audit_append(a, &e, NULL));
        audit_close(a);
    }
    EXPECT(verify_log(p, &entries));
    EXPECT_INT(entries, acked + 1);
    printf("    %s: %llu acknowledged, %d refused, %llu faults injected\n", fault_name(fp),
           (unsigned long long)acked, atomic_load(&w.refused) + 2,
           (unsigned long long)(fault_injected(fp) - before));
    free(dir);
}

TEST(t_audit_write)
{
    audit_point(FAULT_AUDIT_WRITE);
}
TEST(t_audit_fsync)
{
    audit_point(FAULT_AUDIT_FSYNC);
}
TEST(t_audit_alloc)
{
    audit_point(FAULT_AUDIT_ALLOC);
}

static void fake_customer(sealed_customer *c, uint64_t phone_bi)
{
    sealed_customer_init(c);
    id_new(c->id, "cus");
    snprintf(c->department, sizeof c->department, "beijing");
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

static bool present(store *s, const char *id)
{
    sealed_customer got;
    sealed_customer_init(&got);
    err e = store_customer_get(s, id, &got);
    sealed_customer_free(&got);
    return e == ERR_OK;
}

typedef struct reader_arg {
    const char *path, *id;
    bool seen;
} reader_arg;

/* Another connection (another thread) sees the same thing. */
static void *other_reader(void *p)
{
    reader_arg *r = p;
    store *s = NULL;
    if (store_open(r->path, false, &s) == ERR_OK) {
        r->seen = present(s, r->id);
        store_close(s);
    }
    return NULL;
}

static bool seen_elsewhere(const char *path, const char *id)
{
    reader_arg r = {path, id, false};
    pthread_t t;
    pthread_create(&t, NULL, other_reader, &r);
    pthread_join(t, NULL);
    return r.seen;
}

/* One store fault point: a failed insert and a failed three-row transaction leave
 * nothing behind (in this connection and in another one), an update that fails leaves the
 * old row, and the store works again at once; the file passes its integrity check. */
static void store_point(fault_point fp)
{
    char *dir = test_tmpdir("fault-store");
    char p[600];
    snprintf(p, sizeof p, "%s/custos.db", dir);
    store *s = NULL;
    EXPECT_OK(store_open(p, true, &s));
    if (!s) {
        free(dir);
        return;
    }
    uint64_t before = fault_injected(fp);
    sealed_customer a, b[3];
    fake_customer(&a, 1);
    fault_arm(fp, 0, 1, 1);
    EXPECT(store_customer_insert(s, &a) != ERR_OK);
    EXPECT_INT(fault_injected(fp), before + 1);
    EXPECT(!present(s, a.id));
    EXPECT(!seen_elsewhere(p, a.id));
    EXPECT_OK(store_customer_insert(s, &a)); /* recovered */
    EXPECT(present(s, a.id));
    /* A transaction of three rows: all or nothing. The fault hits whichever write, fsync
     * or statement comes after the first row. */
    for (int i = 0; i < 3; i++) {
        fake_customer(&b[i], 10 + (uint64_t)i);
    }
    store_tx *tx = NULL;
    err rc = store_begin(s, &tx);
    EXPECT_OK(rc);
    store *ts = tx ? store_tx_store(tx) : s;
    EXPECT_OK(store_customer_insert(ts, &b[0]));
    fault_arm(fp, 0, 1, 1);
    rc = store_customer_insert(ts, &b[1]);
    if (rc == ERR_OK) {
        rc = store_customer_insert(ts, &b[2]);
    }
    if (rc == ERR_OK) {
        rc = store_commit(&tx);
    }
    if (rc != ERR_OK) {
        store_rollback(&tx);
    }
    EXPECT(rc != ERR_OK);
    EXPECT_INT(fault_injected(fp), before + 2);
    for (int i = 0; i < 3; i++) {
        EXPECT(!present(s, b[i].id));
        EXPECT(!seen_elsewhere(p, b[i].id));
    }
    /* An update that fails leaves the old row whole. */
    sealed_customer u;
    fake_customer(&u, 99);
    memcpy(u.id, a.id, sizeof u.id);
    IGNORE(buf_set(&u.field[CF_NAME], "sealed-name-2", 13));
    IGNORE(buf_set(&u.field[CF_PHONE], "sealed-phone-2", 14));
    fault_arm(fp, 0, 1, 1);
    EXPECT(store_customer_update(s, &u) != ERR_OK);
    sealed_customer got;
    sealed_customer_init(&got);
    EXPECT_OK(store_customer_get(s, a.id, &got));
    EXPECT(got.field[CF_NAME].len == 11 && memcmp(got.field[CF_NAME].p, "sealed-name", 11) == 0);
    EXPECT(got.field[CF_PHONE].len == 12 && memcmp(got.field[CF_PHONE].p, "sealed-phone", 12) == 0);
    sealed_customer_free(&got);
    fault_disarm_all();
    EXPECT_OK(store_customer_update(s, &u));
    for (int i = 0; i < 3; i++) {
        EXPECT_OK(store_customer_insert(s, &b[i]));
        sealed_customer_free(&b[i]);
    }
    store_close(s);
    EXPECT_OK(store_check_file(p));
    EXPECT_OK(store_open(p, false, &s));
    if (s) {
        EXPECT(present(s, a.id));
        sealed_customer_init(&got);
        EXPECT_OK(store_customer_get(s, a.id, &got));
        EXPECT(got.field[CF_NAME].len == 13);
        sealed_customer_free(&got);
        store_close(s);
    }
    sealed_customer_free(&a);
    sealed_customer_free(&u);
    free(dir);
}

typedef struct writer2_arg {
    const char *path;
    err rc;
} writer2_arg;

/* A write through another connection (another thread). */
static void *other_writer(void *p)
{
    writer2_arg *w = p;
    store *s = NULL;
    w->rc = store_open(w->path, false, &s);
    if (w->rc == ERR_OK) {
        sealed_customer c;
        fake_customer(&c, 4242);
        w->rc = store_customer_insert(s, &c);
        sealed_customer_free(&c);
        store_close(s);
    }
    return NULL;
}

/* A transaction whose statement fails and whose ROLLBACK statement cannot be had either
 * (out of memory) must still end: a connection left inside a transaction holds the write
 * lock, and every other writer then fails with "database is locked". */
TEST(t_store_rollback_under_alloc_failure)
{
    char *dir = test_tmpdir("fault-rollback");
    char p[600];
    snprintf(p, sizeof p, "%s/custos.db", dir);
    store *s = NULL;
    EXPECT_OK(store_open(p, true, &s));
    if (!s) {
        free(dir);
        return;
    }
    sealed_customer a, b;
    fake_customer(&a, 1);
    fake_customer(&b, 2);
    store_tx *tx = NULL;
    EXPECT_OK(store_begin(s, &tx));
    EXPECT(tx != NULL);
    if (!tx) {
        store_close(s);
        free(dir);
        return;
    }
    EXPECT_OK(store_customer_insert(store_tx_store(tx), &a));
    fault_arm(FAULT_STORE_ALLOC, 0, 1, 2); /* the next insert and the ROLLBACK's statement */
    EXPECT(store_customer_insert(store_tx_store(tx), &b) != ERR_OK);
    store_rollback(&tx);
    fault_disarm_all();
    EXPECT(!present(s, a.id));
    writer2_arg w = {p, ERR_INTERNAL};
    pthread_t t;
    pthread_create(&t, NULL, other_writer, &w);
    pthread_join(t, NULL);
    EXPECT_OK(w.rc);
    EXPECT_OK(store_begin(s, &tx)); /* this connection is usable again */
    if (tx) {
        EXPECT_OK(store_customer_insert(store_tx_store(tx), &b));
    }
    EXPECT_OK(store_commit(&tx));
    store_close(s);
    sealed_customer_free(&a);
    sealed_customer_free(&b);
    free(dir);
}

TEST(t_store_write)
{
    store_point(FAULT_STORE_WRITE);
}
TEST(t_store_fsync)
{
    store_point(FAULT_STORE_FSYNC);
}
TEST(t_store_alloc)
{
    store_point(FAULT_STORE_ALLOC);
}

int main(void)
{
    test_init();
    crypto_sign_keypair(PK, SK);
    log_set_level(LOG_ERROR); /* one "fault.injected" warning per fault is noise here */
    fault_init();
    RUN(t_spec);
    RUN(t_audit_write);
    RUN(t_audit_fsync);
    RUN(t_audit_alloc);
    RUN(t_store_write);
    RUN(t_store_fsync);
    RUN(t_store_alloc);
    RUN(t_store_rollback_under_alloc_failure);
    return test_done("fault_test");
}
