/*
 * store_suite_audit_test.c - the audit log's storage through its operations table alone, run on
 * SQLite and on PostgreSQL as any backend would be driven (entries and leaves in and out, tree
 * hashes, a rollback that leaves nothing, checkpoints, searches, the write lock seen by the
 * readiness probe), and on PostgreSQL two writers of one log as two Custos instances would be:
 * threads appending through both at once, each signing checkpoints, give one log with dense
 * indexes, no entry lost or doubled, and checkpoints that are all consistent with each other.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_backend.h"
#include "audit/merkle.h"
#include "store_suite.h"
#include "test.h"

static const audit_backend_ops *OPS; /* the backend this round runs on */
static bool on_pg;
static char path[1100];

#define N 40

static char bytes[N][96];
static audit_row rows[N];
static uint8_t fr_leaf[N][32];

static err emit(void *ctx, unsigned level, uint64_t index, const uint8_t h[32])
{
    audit_backend *b = ctx;
    return level == 0 ? ERR_OK : OPS->put_node(b, level, index, h);
}

static err subtree(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    return OPS->subtree(ctx, level, index, out);
}

typedef struct seen {
    uint64_t idx[N];
    size_t n;
    bool bytes_ok, leaf_ok;
} seen;

static err see(void *ctx, uint64_t index, slice entry, const uint8_t leaf[32])
{
    seen *s = ctx;
    if (s->n < N) {
        s->idx[s->n++] = index;
    }
    if (index < N) {
        s->bytes_ok = s->bytes_ok && entry.len == strlen(bytes[index]) &&
                      memcmp(entry.p, bytes[index], entry.len) == 0;
        s->leaf_ok = s->leaf_ok && memcmp(leaf, fr_leaf[index], 32) == 0;
    }
    return ERR_OK;
}

static err see_cp(void *ctx, uint64_t size, const uint8_t root[32], slice note)
{
    seen *s = ctx;
    (void)root;
    (void)note;
    if (s->n < N) {
        s->idx[s->n++] = size;
    }
    return ERR_OK;
}

/* The same checks on every backend; only the write-ahead log is SQLite's own. */
static void backend_round_trip(void)
{
    if (on_pg) {
        pg_location(path, sizeof path);
    } else {
        char *d = test_tmpdir("audit-backend");
        snprintf(path, sizeof path, "%s/audit.db", d);
        free(d);
    }
    EXPECT_OK(OPS->create(path));
    EXPECT_ERR(OPS->create(path), ERR_CONFLICT);
    audit_backend *w = NULL, *r = NULL;
    EXPECT_OK(OPS->open(path, AUDIT_BE_WRITE, &w));
    EXPECT_OK(OPS->open(path, AUDIT_BE_READ, &r));
    if (!w || !r) {
        return;
    }
    merkle_frontier fr;
    merkle_frontier_init(&fr);
    uint64_t n = 99;
    EXPECT_OK(OPS->begin(w));
    EXPECT_OK(OPS->tree_size(w, &n));
    EXPECT_INT(n, 0);
    for (int i = 0; i < N; i++) {
        snprintf(bytes[i], sizeof bytes[i], "{\"action\":\"login\",\"i\":%d,\"v\":1}", i);
        rows[i].index = (uint64_t)i;
        rows[i].ts_us = 1000 + i;
        rows[i].actor = i % 2 ? "odd" : "even";
        rows[i].action = "login";
        rows[i].customer = i % 5 == 0 ? "cus_five" : NULL;
        rows[i].customers = i == 7 ? "cus_a,cus_b" : NULL;
        rows[i].decision = "allow";
        rows[i].entry = slice_cstr(bytes[i]);
        merkle_leaf_hash((const uint8_t *)bytes[i], strlen(bytes[i]), rows[i].leaf);
        memcpy(fr_leaf[i], rows[i].leaf, 32);
    }
    EXPECT_OK(OPS->append(w, rows, N));
    for (int i = 0; i < N; i++) {
        EXPECT_OK(merkle_frontier_append(&fr, rows[i].leaf, emit, w));
    }
    EXPECT_OK(OPS->commit(w));
    /* read back on the other handle */
    EXPECT_OK(OPS->tree_size(r, &n));
    EXPECT_INT(n, N);
    seen s = {.bytes_ok = true, .leaf_ok = true};
    EXPECT_OK(OPS->read_range(r, 5, 3, see, &s));
    EXPECT_INT(s.n, 3);
    EXPECT_INT(s.idx[0], 5);
    EXPECT_INT(s.idx[2], 7);
    EXPECT(s.bytes_ok && s.leaf_ok);
    memset(&s, 0, sizeof s);
    s.bytes_ok = s.leaf_ok = true;
    EXPECT_OK(OPS->read_range(r, 0, UINT64_MAX, see, &s));
    EXPECT_INT(s.n, N);
    EXPECT(s.bytes_ok && s.leaf_ok);
    /* every complete subtree, stored or hashed from leaves, and the root */
    uint8_t h[32], want[32], root[32];
    EXPECT_OK(OPS->subtree(r, 0, 9, h));
    EXPECT(memcmp(h, fr_leaf[9], 32) == 0);
    merkle_src src = {r, subtree};
    for (unsigned level = 1; level <= 5; level++) {
        for (uint64_t k = 0; ((k + 1) << level) <= N; k++) {
            EXPECT_OK(OPS->subtree(r, level, k, h));
            memset(want, 0, 32);
            EXPECT_OK(merkle_range_hash(&src, k << level, (k + 1) << level, want));
            EXPECT(memcmp(h, want, 32) == 0);
        }
    }
    EXPECT_ERR(OPS->subtree(r, 6, 0, h), ERR_CRYPTO); /* 64 leaves: not there yet */
    merkle_frontier_root(&fr, want);
    EXPECT_OK(merkle_root(&src, N, root));
    EXPECT(memcmp(root, want, 32) == 0);
    /* a rollback leaves nothing */
    EXPECT_OK(OPS->begin(w));
    audit_row extra = rows[0];
    extra.index = N;
    EXPECT_OK(OPS->append(w, &extra, 1));
    OPS->rollback(w);
    EXPECT_OK(OPS->tree_size(r, &n));
    EXPECT_INT(n, N);
    EXPECT_OK(OPS->tree_size(w, &n));
    EXPECT_INT(n, N);
    /* checkpoints: none, then two, the latest first */
    uint64_t size = 9;
    buf note;
    buf_init(&note, 0);
    EXPECT_OK(OPS->last_checkpoint(r, &size, NULL, &note));
    EXPECT_INT(size, 0);
    EXPECT_OK(OPS->begin(w));
    EXPECT_OK(OPS->put_checkpoint(w, 16, want, slice_cstr("note 16"), 1));
    EXPECT_OK(OPS->put_checkpoint(w, N, root, slice_cstr("note 40"), 2));
    EXPECT_OK(OPS->put_checkpoint(w, 16, root, slice_cstr("other"), 3)); /* ignored */
    EXPECT_OK(OPS->commit(w));
    uint8_t got[32];
    EXPECT_OK(OPS->last_checkpoint(r, &size, got, &note));
    EXPECT_INT(size, N);
    EXPECT(memcmp(got, root, 32) == 0);
    EXPECT_STR(buf_cstr(&note), "note 40");
    memset(&s, 0, sizeof s);
    EXPECT_OK(OPS->checkpoints(r, see_cp, &s));
    EXPECT_INT(s.n, 2);
    EXPECT_INT(s.idx[0], 16);
    EXPECT_INT(s.idx[1], N);
    buf_free(&note);
    /* searches: by actor, by customer (its column and a multi-customer entry) */
    audit_query q;
    memset(&q, 0, sizeof q);
    q.after = UINT64_MAX;
    q.actor = "odd";
    memset(&s, 0, sizeof s);
    s.bytes_ok = s.leaf_ok = true;
    size_t k = 0;
    EXPECT_OK(OPS->search(r, &q, 100, see, &s, &k));
    EXPECT_INT(k, N / 2);
    EXPECT_INT(s.idx[0], 1);
    EXPECT(s.bytes_ok && s.leaf_ok);
    q.actor = NULL;
    q.customer = "cus_b";
    memset(&s, 0, sizeof s);
    EXPECT_OK(OPS->search(r, &q, 100, see, &s, &k));
    EXPECT_INT(k, 1);
    EXPECT_INT(s.idx[0], 7);
    q.customer = "cus_five";
    EXPECT_OK(OPS->search(r, &q, 3, see, &s, &k));
    EXPECT_INT(k, 3); /* the limit */
    /* the write lock, as the readiness probe sees it */
    EXPECT_OK(OPS->probe_writable(path, 100));
    EXPECT_OK(OPS->begin(w));
    EXPECT_ERR(OPS->probe_writable(path, 10), ERR_UNAVAILABLE);
    OPS->rollback(w);
    EXPECT_OK(OPS->probe_writable(path, 100));
    /* the read handle cannot write */
    EXPECT(OPS->append(r, rows, 1) != ERR_OK);
    if (on_pg) {
        EXPECT_INT(OPS->wal_pages(w), 0); /* PostgreSQL's WAL is the server's business */
    } else {
        EXPECT(OPS->wal_pages(w) > 0);
    }
    EXPECT_OK(OPS->checkpoint_wal(w, AUDIT_WAL_TRUNCATE));
    OPS->close(r);
    OPS->close(w);
    /* the public API reads what the backend wrote */
    audit *a = NULL;
    EXPECT_OK(audit_open_readonly(path, &a));
    uint64_t sz = 0;
    EXPECT_OK(audit_size(a, &sz));
    EXPECT_INT(sz, N);
    uint8_t r2[32];
    EXPECT_OK(audit_root(a, N, r2));
    EXPECT(memcmp(r2, root, 32) == 0);
    audit_entry e;
    memset(&e, 0, sizeof e);
    e.action = "login";
    EXPECT_ERR(audit_append(a, &e, NULL), ERR_UNAVAILABLE);
    audit_close(a);
}

TEST(t_sqlite_backend_round_trip)
{
    on_pg = false;
    OPS = &audit_sqlite_ops;
    backend_round_trip();
}

TEST(t_pg_backend_round_trip)
{
    on_pg = true;
    OPS = &audit_pg_ops;
    backend_round_trip();
}

TEST(t_backend_selection)
{
    EXPECT(audit_backend_for(path) == &audit_pg_ops);
    EXPECT(audit_backend_for("postgresql://h/db") == &audit_pg_ops);
    EXPECT(audit_backend_for("/var/lib/custos/audit.db") == &audit_sqlite_ops);
    audit_backend *b = NULL;
    char other[1200];
    pg_location(other, sizeof other); /* a schema without a log */
    EXPECT_ERR(OPS->open(other, AUDIT_BE_READ, &b), ERR_IO);
    EXPECT(b == NULL);
    EXPECT_ERR(OPS->open("postgres://127.0.0.1:1/x?connect_timeout=5", AUDIT_BE_READ, &b),
               ERR_UNAVAILABLE);
}

/* ---- two instances on one log ---- */

static uint8_t PK[32], SK[64];
static const char *KEY = "custos.audit.suite";

static void sign(void *ctx, slice msg, uint8_t sig[64])
{
    crypto_sign_detached(sig, NULL, msg.p, msg.len, SK);
}

enum { INSTANCES = 2, WRITERS = 2, ENTRIES = 150, NOTES = 64 };

typedef struct writer {
    audit *a;
    int id;
    uint64_t idx[ENTRIES];
    err rc;
    /* notes this writer asked its instance to sign */
    char notes[4][1024];
    size_t nnotes;
} writer;

static void *write_entries(void *arg)
{
    writer *w = arg;
    char actor[16];
    snprintf(actor, sizeof actor, "user%d", w->id);
    for (int i = 0; i < ENTRIES && w->rc == ERR_OK; i++) {
        audit_entry e;
        memset(&e, 0, sizeof e);
        e.actor = actor;
        e.role = "clerk";
        e.source = "127.0.0.1";
        e.action = "customer.read";
        e.customer = "cus_suite";
        e.decision = "allow";
        e.rule = "suite";
        e.count = -1;
        w->rc = audit_append(w->a, &e, &w->idx[i]);
        if (w->rc == ERR_OK && i % 50 == 49 && w->nnotes < 4) {
            buf note;
            buf_init(&note, 0);
            w->rc = audit_checkpoint_now(w->a, &note);
            snprintf(w->notes[w->nnotes++], sizeof w->notes[0], "%s", buf_cstr(&note));
            buf_free(&note);
        }
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

TEST(t_two_instances)
{
    char loc[1100];
    pg_location(loc, sizeof loc);
    crypto_sign_keypair(PK, SK);
    EXPECT_OK(audit_create(loc));
    audit *inst[INSTANCES] = {0};
    for (int i = 0; i < INSTANCES; i++) {
        EXPECT_OK(audit_open(loc, &inst[i]));
        if (!inst[i]) {
            return;
        }
        audit_signing s;
        memset(&s, 0, sizeof s);
        s.origin = KEY;
        s.key_name = KEY;
        memcpy(s.pk, PK, 32);
        s.sign = sign;
        s.every_n = 40; /* both sign on their own as well */
        s.every_us = 3600 * 1000000LL;
        EXPECT_OK(audit_enable_checkpoints(inst[i], &s));
    }
    static writer w[INSTANCES * WRITERS];
    pthread_t t[INSTANCES * WRITERS];
    for (int i = 0; i < INSTANCES * WRITERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].a = inst[i % INSTANCES];
        w[i].id = i;
        pthread_create(&t[i], NULL, write_entries, &w[i]);
    }
    enum { TOTAL = INSTANCES * WRITERS * ENTRIES };
    static uint64_t all[TOTAL];
    size_t k = 0;
    slice notes[INSTANCES * WRITERS * 4];
    size_t nn = 0;
    for (int i = 0; i < INSTANCES * WRITERS; i++) {
        pthread_join(t[i], NULL);
        EXPECT_OK(w[i].rc);
        for (int j = 0; j < ENTRIES; j++) {
            all[k++] = w[i].idx[j];
        }
        for (size_t j = 0; j < w[i].nnotes; j++) {
            notes[nn++] = slice_cstr(w[i].notes[j]);
        }
    }
    for (int i = 0; i < INSTANCES; i++) {
        audit_close(inst[i]);
    }
    /* The whole log as a verifier sees it: dense, canonical, every checkpoint in the log (signed
     * by either instance) consistent, and every note the writers were handed consistent too.
     * The log holds the writers' entries and one "audit.sign" entry per checkpoint asked for. */
    EXPECT(nn > 0);
    audit_verify_report r;
    EXPECT_OK(audit_verify_file(loc, KEY, PK, notes, nn, &r));
    EXPECT(r.ok);
    if (!r.ok) {
        printf("    %s (index %lld)\n", r.problem, (long long)r.bad_index);
    }
    EXPECT_INT(r.entries, TOTAL + nn);
    EXPECT(r.checkpoints >= nn);
    /* Every acknowledged entry has an index of its own inside the log: none lost, none doubled. */
    qsort(all, TOTAL, sizeof all[0], cmp_u64);
    bool distinct = all[TOTAL - 1] < r.entries;
    for (size_t i = 1; i < TOTAL; i++) {
        distinct = distinct && all[i] > all[i - 1];
    }
    EXPECT(distinct);
    /* Roots and consistency proofs between sizes, from a reader of the log. */
    audit *rd = NULL;
    EXPECT_OK(audit_open_readonly(loc, &rd));
    uint64_t size = 0;
    if (rd) {
        EXPECT_OK(audit_size(rd, &size));
        EXPECT_INT(size, r.entries);
        for (uint64_t m = 37; m < size; m += 111) {
            uint8_t rm[32], rn[32], proof[AUDIT_MAX_PROOF][32];
            size_t len = 0;
            EXPECT_OK(audit_root(rd, m, rm));
            EXPECT_OK(audit_root(rd, size, rn));
            EXPECT_OK(audit_consistency(rd, m, size, proof, &len));
            EXPECT(merkle_verify_consistency(m, size, rm, rn, (const uint8_t(*)[32])proof, len));
        }
        audit_close(rd);
    }
}

int main(void)
{
    test_init();
    RUN(t_sqlite_backend_round_trip);
    if (!pg_cluster_start()) {
        PG_NO_SERVER_FAIL();
    } else {
        RUN(t_pg_backend_round_trip);
        RUN(t_backend_selection);
        RUN(t_two_instances);
    }
    pg_cluster_stop();
    return test_done("store_suite_audit_test");
}
