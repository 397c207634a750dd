/*
 * audit_test.c - entries are canonical, name their index and carry their leaf
 * hash; concurrent writers share commits and lose nothing; a failing log
 * refuses; checkpoints are signed, consistent and pinned; proofs verify; the
 * offline verifier finds every kind of tampering and names the index.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "core/clock.h"
#include "crypto/crypto.h"
#include "test.h"

static char path[600], dir[600];
static audit *A;
static uint8_t PK[32], SK[64];
static const char *KEY = "custos.audit.test";

static void test_sign(void *ctx, slice msg, uint8_t sig[64])
{
    crypto_sign_detached(sig, NULL, msg.p, msg.len, SK);
}

static audit_entry entry(const char *actor, const char *action, const char *customer)
{
    audit_entry e;
    memset(&e, 0, sizeof e);
    e.actor = actor;
    e.role = "data_steward";
    e.source = "127.0.0.1";
    e.action = action;
    e.customer = customer;
    e.decision = "allow";
    e.rule = "grant:test";
    e.request_id = "req_t";
    e.count = -1;
    return e;
}

TEST(t_encode_decode)
{
    audit_entry e = entry("steward1", "customer.read", "cus_abc");
    e.ts_us = 1767225600000000; /* 2026-01-01T00:00:00Z */
    e.fields = "name,phone";
    buf b;
    buf_init(&b, 0);
    EXPECT_OK(audit_encode(&e, 7, &b));
    EXPECT_STR(buf_cstr(&b),
               "{\"action\":\"customer.read\",\"actor\":\"steward1\",\"customer\":\"cus_abc\","
               "\"decision\":\"allow\",\"fields\":\"name,phone\",\"i\":7,\"request_id\":\"req_t\","
               "\"role\":\"data_steward\",\"rule\":\"grant:test\",\"source\":\"127.0.0.1\","
               "\"ts\":\"2026-01-01T00:00:00.000000Z\",\"v\":1}");
    audit_decoded d;
    EXPECT_OK(audit_decode(buf_slice(&b), &d));
    EXPECT_INT(d.index, 7);
    EXPECT_STR(d.actor, "steward1");
    EXPECT_STR(d.customer, "cus_abc");
    EXPECT_INT(d.ts_us, e.ts_us);
    /* Non-ASCII is escaped, so the bytes are the same on every platform. */
    e.reason = "客户要求";
    EXPECT_OK(audit_encode(&e, 7, &b));
    EXPECT(strstr(buf_cstr(&b), "\\u5BA2") != NULL);
    EXPECT_OK(audit_decode(buf_slice(&b), &d));
    /* Anything but the canonical bytes is refused. */
    static const char *const bad[] = {
        "{\"action\":\"a\",\"actor\":\"x\",\"decision\":\"allow\",\"i\":1,\"role\":\"r\","
        "\"source\":\"s\",\"ts\":\"2026-01-01T00:00:00.000000Z\",\"v\":1} ",
        "{\"actor\":\"x\",\"action\":\"a\",\"decision\":\"allow\",\"i\":1,\"role\":\"r\","
        "\"source\":\"s\",\"ts\":\"2026-01-01T00:00:00.000000Z\",\"v\":1}",
        "{\"action\":\"a\",\"actor\":\"x\",\"decision\":\"maybe\",\"i\":1,\"role\":\"r\","
        "\"source\":\"s\",\"ts\":\"2026-01-01T00:00:00.000000Z\",\"v\":1}",
        "{\"action\":\"a\",\"actor\":\"x\",\"decision\":\"allow\",\"extra\":\"1\",\"i\":1,"
        "\"role\":\"r\",\"source\":\"s\",\"ts\":\"2026-01-01T00:00:00.000000Z\",\"v\":1}",
        "{\"action\":\"a\",\"actor\":\"x\",\"decision\":\"allow\",\"i\":1,\"role\":\"r\","
        "\"source\":\"s\",\"ts\":\"2026-01-01T00:00:00.000000Z\",\"v\":2}",
        "[]",
        "",
        "{\"v\":1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_ERR(audit_decode(slice_cstr(bad[i]), &d), ERR_INPUT);
    }
    buf_free(&b);
}

/* The encoding jansson writes for an entry: the definition the encoder must match. */
static char *ref_encode(const audit_entry *e, uint64_t index)
{
    json_t *o = json_object();
    char ts[40];
    clock_rfc3339(e->ts_us, ts);
    json_object_set_new(o, "v", json_integer(1));
    json_object_set_new(o, "i", json_integer((json_int_t)index));
    json_object_set_new(o, "ts", json_string(ts));
    const char *keys[] = {"actor",    "role",      "source",     "session",   "action",
                          "customer", "customers", "categories", "fields",    "decision",
                          "rule",     "reason",    "request_id", "query_hash"};
    const char *vals[] = {e->actor ? e->actor : "-",
                          e->role ? e->role : "-",
                          e->source ? e->source : "-",
                          e->session,
                          e->action ? e->action : "-",
                          e->customer,
                          e->customers,
                          e->categories,
                          e->fields,
                          e->decision ? e->decision : "deny",
                          e->rule,
                          e->reason,
                          e->request_id,
                          e->query_hash};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        if (vals[k]) {
            json_object_set_new(o, keys[k], json_string(vals[k]));
        }
    }
    if (e->count >= 0) {
        json_object_set_new(o, "count", json_integer(e->count));
    }
    char *out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(o);
    return out;
}

/* A random string: plain text, quotes, escapes, control characters, DEL, every length
 * of UTF-8, and now and then bytes that are not UTF-8. */
static void random_text(char *out, size_t cap)
{
    static const char *const pieces[] = {
        "a", "Zz", "0", " ", "\"", "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x01", "\x1f", "\x7f",
        "é", "客户", "€", "😀", "\xf4\x8f\xbf\xbf", "\xef\xbf\xbf", "\xc2\x80",
        /* invalid: */
        "\x80", "\xc0\xaf", "\xc1\xbf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\x80",
        "\xf8\x88\x80\x80\x80", "\xc3", "\xe4\xb8", "\xff"};
    enum { NVALID = 22 }; /* the pieces before the invalid ones */
    size_t n = (size_t)randombytes_uniform(12), len = 0;
    bool allow_bad = randombytes_uniform(8) == 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        uint32_t k =
            randombytes_uniform(allow_bad ? (uint32_t)(sizeof pieces / sizeof pieces[0]) : NVALID);
        size_t pl = strlen(pieces[k]);
        if (pl >= cap - len) {
            break;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s", pieces[k]);
    }
}

TEST(t_encode_matches_jansson)
{
    enum { NS = 14 };
    char text[NS][128];
    for (int round = 0; round < 20000; round++) {
        for (int k = 0; k < NS; k++) {
            random_text(text[k], sizeof text[k]);
        }
        const char *pick[NS];
        for (int k = 0; k < NS; k++) {
            pick[k] = randombytes_uniform(4) == 0 ? NULL : text[k];
        }
        audit_entry e;
        memset(&e, 0, sizeof e);
        e.actor = pick[0];
        e.role = pick[1];
        e.source = pick[2];
        e.session = pick[3];
        e.action = pick[4];
        e.customer = pick[5];
        e.customers = pick[6];
        e.categories = pick[7];
        e.fields = pick[8];
        e.decision = pick[9];
        e.rule = pick[10];
        e.reason = pick[11];
        e.request_id = pick[12];
        e.query_hash = pick[13];
        e.count = randombytes_uniform(3) == 0 ? -1 : (int64_t)randombytes_random() << 20;
        e.ts_us = 1700000000000000LL + (int64_t)randombytes_uniform(1u << 31) * 1000003LL;
        uint64_t index = randombytes_uniform(2) ? randombytes_uniform(100) : randombytes_random();
        char *want = ref_encode(&e, index);
        buf got;
        buf_init(&got, 0);
        EXPECT_OK(audit_encode(&e, index, &got));
        EXPECT(want != NULL && strcmp(buf_cstr(&got), want) == 0);
        if (!want || strcmp(buf_cstr(&got), want) != 0) {
            printf("    want %s\n    got  %s\n", want ? want : "(null)", buf_cstr(&got));
            free(want);
            buf_free(&got);
            return;
        }
        free(want);
        buf_free(&got);
    }
}

TEST(t_open_append)
{
    char *d = test_tmpdir("audit");
    snprintf(dir, sizeof dir, "%s", d);
    snprintf(path, sizeof path, "%s/audit.db", d);
    free(d);
    crypto_sign_keypair(PK, SK);
    EXPECT_OK(audit_create(path));
    EXPECT_ERR(audit_create(path), ERR_CONFLICT);
    EXPECT_OK(audit_open(path, &A));
    audit_signing s;
    memset(&s, 0, sizeof s);
    s.origin = KEY;
    s.key_name = KEY;
    memcpy(s.pk, PK, 32);
    s.sign = test_sign;
    s.every_n = 100;
    s.every_us = 3600 * 1000000LL;
    EXPECT_OK(audit_enable_checkpoints(A, &s));
    audit_entry e = entry("u", "login", NULL);
    uint64_t idx = 99;
    EXPECT_OK(audit_append(A, &e, &idx));
    EXPECT_INT(idx, 0);
    EXPECT_OK(audit_append(A, &e, &idx));
    EXPECT_INT(idx, 1);
}

static void *writer(void *arg)
{
    audit_entry e = entry(arg, "customer.read", "cus_x");
    for (int i = 0; i < 200; i++) {
        if (audit_append(A, &e, NULL) != ERR_OK) {
            return (void *)1;
        }
    }
    return NULL;
}

TEST(t_concurrent)
{
    pthread_t t[8];
    char names[8][16];
    for (int i = 0; i < 8; i++) {
        snprintf(names[i], sizeof names[i], "u%d", i);
        pthread_create(&t[i], NULL, writer, names[i]);
    }
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        EXPECT(r == NULL);
    }
    uint64_t n = 0;
    EXPECT_OK(audit_size(A, &n));
    EXPECT_INT(n, 2 + 8 * 200);
}

TEST(t_fail_closed)
{
    audit_entry e = entry("u", "customer.read", NULL);
    audit_fail_next(A, 1);
    EXPECT_ERR(audit_append(A, &e, NULL), ERR_UNAVAILABLE);
    audit_entry many[3] = {e, e, e};
    EXPECT_ERR(audit_append_many(A, many, 3), ERR_UNAVAILABLE);
    audit_fail_next(A, 0);
    EXPECT_OK(audit_append_many(A, many, 3));
    uint64_t n = 0;
    EXPECT_OK(audit_size(A, &n));
    EXPECT_INT(n, 2 + 1600 + 3);
}

TEST(t_checkpoints_and_proofs)
{
    buf note;
    buf_init(&note, 1 << 16);
    EXPECT_OK(audit_checkpoint_now(A, &note));
    checkpoint c;
    EXPECT_OK(checkpoint_open(buf_slice(&note), KEY, PK, &c));
    EXPECT_INT(c.size, 1606); /* 1605 entries + the checkpoint request itself */
    uint8_t root[32];
    EXPECT_OK(audit_root(A, c.size, root));
    EXPECT(memcmp(root, c.root, 32) == 0);
    /* inclusion proofs of a few entries against the signed root */
    uint64_t idxs[] = {0, 1, 2, 511, 1024, 1605};
    for (size_t i = 0; i < sizeof idxs / sizeof idxs[0]; i++) {
        uint8_t leaf[32], proof[AUDIT_MAX_PROOF][32];
        size_t len = 0;
        EXPECT_OK(audit_inclusion(A, idxs[i], c.size, leaf, proof, &len));
        EXPECT(len <= 11);
        EXPECT(merkle_verify_inclusion(leaf, idxs[i], c.size, proof, len, c.root));
        if (len > 0) {
            proof[0][5] ^= 1;
            EXPECT(!merkle_verify_inclusion(leaf, idxs[i], c.size, proof, len, c.root));
        }
    }
    uint8_t leaf[32], proof[AUDIT_MAX_PROOF][32];
    size_t len = 0;
    EXPECT_ERR(audit_inclusion(A, 5000, 6000, leaf, proof, &len), ERR_INPUT);
    EXPECT_ERR(audit_inclusion(A, 10, 10, leaf, proof, &len), ERR_INPUT);
    /* consistency from an older root */
    uint8_t old[32];
    EXPECT_OK(audit_root(A, 700, old));
    EXPECT_OK(audit_consistency(A, 700, c.size, proof, &len));
    EXPECT(merkle_verify_consistency(700, c.size, old, c.root, proof, len));
    old[0] ^= 1;
    EXPECT(!merkle_verify_consistency(700, c.size, old, c.root, proof, len));
    buf_free(&note);
}

typedef struct counter {
    int n;
    uint64_t last;
} counter;

static err count_row(void *ctx, uint64_t index, slice entry, const uint8_t leaf[32])
{
    counter *c = ctx;
    c->n++;
    c->last = index;
    uint8_t h[32];
    merkle_leaf_hash(entry.p, entry.len, h);
    return memcmp(h, leaf, 32) == 0 ? ERR_OK : ERR_CRYPTO;
}

TEST(t_queries)
{
    counter c = {0, 0};
    audit_query q;
    memset(&q, 0, sizeof q);
    q.after = UINT64_MAX;
    q.actor = "u3";
    q.limit = 1000;
    size_t n = 0;
    EXPECT_OK(audit_search(A, &q, count_row, &c, &n));
    EXPECT_INT(c.n, 200);
    memset(&q, 0, sizeof q);
    q.after = UINT64_MAX;
    q.customer = "cus_x";
    q.limit = 50;
    c.n = 0;
    EXPECT_OK(audit_search(A, &q, count_row, &c, &n));
    EXPECT_INT(c.n, 50);
    q.after = c.last;
    q.limit = 5000; /* pages hold at most 1,000 */
    c.n = 0;
    EXPECT_OK(audit_search(A, &q, count_row, &c, &n));
    EXPECT_INT(c.n, 1000);
    q.after = c.last;
    c.n = 0;
    EXPECT_OK(audit_search(A, &q, count_row, &c, &n));
    EXPECT_INT(c.n, 550);
    audit_close(A);
    A = NULL;
}

/* ---- bulk indexes and small subtrees ---- */

static const char *ACTORS[] = {"ann", "bob", "cy", "dee", "eve", "fay", "gus"};
static const char *CUSTS[] = {"cus_a", "cus_b", "cus_c", "cus_d", "cus_e"};
#define BULK_N 10000
#define BULK_T0 1767225600000000LL

/* Entry i of the bulk log: actor, customer (or none), a multi-customer list now and then. */
static audit_entry bulk_entry(int i)
{
    audit_entry e = entry(ACTORS[i % 7], i % 3 ? "customer.read" : "customer.search",
                          i % 11 ? CUSTS[i % 5] : NULL);
    e.ts_us = BULK_T0 + (int64_t)i * 1000;
    if (i % 97 == 0) {
        e.customers = "cus_b,cus_e";
    }
    return e;
}

static bool bulk_touches(int i, const char *cus)
{
    audit_entry e = bulk_entry(i);
    return (e.customer && strcmp(e.customer, cus) == 0) ||
           (e.customers && strstr(e.customers, cus) != NULL);
}

static int bulk_count(audit *a, const audit_query *q0)
{
    audit_query q = *q0;
    q.after = UINT64_MAX;
    q.limit = 1000;
    counter c = {0, 0};
    for (;;) {
        int before = c.n;
        size_t n = 0;
        if (audit_search(a, &q, count_row, &c, &n) != ERR_OK) {
            return -1;
        }
        if (c.n == before) {
            return c.n;
        }
        q.after = c.last;
    }
}

static int64_t meta_indexed(const char *p)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT n FROM meta WHERE k='indexed'", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Every query answers the same as a scan would, below and above the watermark. */
static void bulk_check(audit *a, int n)
{
    for (int k = 0; k < 7; k++) {
        audit_query q;
        memset(&q, 0, sizeof q);
        q.actor = ACTORS[k];
        int want = 0, want_t = 0;
        for (int i = 0; i < n; i++) {
            if (i % 7 == k) {
                want++;
                want_t += i >= 2000 && i < 7000;
            }
        }
        EXPECT_INT(bulk_count(a, &q), want);
        q.from_us = BULK_T0 + 2000 * 1000LL;
        q.to_us = BULK_T0 + 7000 * 1000LL;
        EXPECT_INT(bulk_count(a, &q), want_t);
    }
    for (int k = 0; k < 5; k++) {
        audit_query q;
        memset(&q, 0, sizeof q);
        q.customer = CUSTS[k];
        int want = 0, want_a = 0;
        for (int i = 0; i < n; i++) {
            if (bulk_touches(i, CUSTS[k])) {
                want++;
                want_a += i % 7 == 2;
            }
        }
        EXPECT_INT(bulk_count(a, &q), want);
        q.actor = "cy";
        EXPECT_INT(bulk_count(a, &q), want_a);
    }
}

static audit_entry BULK[BULK_N];

/* A new log named name in the test folder (its path in p), and the bulk entries. */
static audit *bulk_log(const char *name, char p[700])
{
    snprintf(p, 700, "%s/%s", dir, name);
    audit *a = NULL;
    EXPECT_OK(audit_create(p));
    EXPECT_OK(audit_open(p, &a));
    for (int i = 0; i < BULK_N; i++) {
        BULK[i] = bulk_entry(i);
    }
    return a;
}

TEST(t_bulk_index)
{
    char p[700];
    audit *a = bulk_log("bulk.db", p);
    const audit_entry *es = BULK;
    /* 3,000 entries: all of them above the watermark, read directly */
    EXPECT_OK(audit_append_many(a, es, 3000));
    bulk_check(a, 3000);
    EXPECT_INT(meta_indexed(p), 0);
    /* past the threshold the writer indexes in bulk; the rest stays a tail */
    for (int i = 3000; i < BULK_N; i += 500) {
        EXPECT_OK(audit_append_many(a, es + i, 500));
    }
    int64_t w = meta_indexed(p);
    EXPECT(w >= 4096 && w < BULK_N);
    bulk_check(a, BULK_N);
    /* small subtrees are hashed from leaves: roots and proofs agree with a plain tree */
    for (uint64_t size = 1; size <= 80; size++) {
        uint8_t root[32], ref[32], leaves[80][32];
        for (uint64_t i = 0; i < size; i++) {
            buf b;
            buf_init(&b, 0);
            EXPECT_OK(audit_encode(&es[i], i, &b));
            merkle_leaf_hash(b.p, b.len, leaves[i]);
            buf_free(&b);
        }
        /* RFC 9162 MTH by repeated pairing: the last odd node is carried up */
        uint64_t m = size;
        while (m > 1) {
            uint64_t k = 0;
            for (uint64_t i = 0; i + 1 < m; i += 2) {
                merkle_node_hash(leaves[i], leaves[i + 1], leaves[k++]);
            }
            if (m % 2) {
                memcpy(leaves[k++], leaves[m - 1], 32);
            }
            m = k;
        }
        memcpy(ref, leaves[0], 32);
        EXPECT_OK(audit_root(a, size, root));
        EXPECT(memcmp(root, ref, 32) == 0);
        for (uint64_t i = 0; i < size; i++) {
            uint8_t leaf[32], proof[AUDIT_MAX_PROOF][32];
            size_t len = 0;
            EXPECT_OK(audit_inclusion(a, i, size, leaf, proof, &len));
            EXPECT(merkle_verify_inclusion(leaf, i, size, proof, len, root));
        }
    }
    uint8_t r1[32], r2[32], proof[AUDIT_MAX_PROOF][32];
    size_t len = 0;
    EXPECT_OK(audit_root(a, 4321, r1));
    EXPECT_OK(audit_root(a, BULK_N, r2));
    EXPECT_OK(audit_consistency(a, 4321, BULK_N, proof, &len));
    EXPECT(merkle_verify_consistency(4321, BULK_N, r1, r2, proof, len));
    audit_close(a);
    /* A log from before the bulk index: touches written per entry, a SQL index on actor,
     * no by_actor, no meta. Opening it indexes everything once and drops the old index. */
    sqlite3 *db = NULL;
    EXPECT(sqlite3_open(p, &db) == SQLITE_OK);
    EXPECT(sqlite3_exec(db,
                        "DROP TABLE by_actor; DROP TABLE meta;"
                        "CREATE TABLE touches(customer TEXT NOT NULL, idx INTEGER NOT NULL,"
                        " PRIMARY KEY(customer, idx)) WITHOUT ROWID;"
                        "INSERT INTO touches SELECT customer, idx FROM touched; DROP TABLE touched;"
                        "CREATE INDEX entries_actor ON entries(actor, ts);",
                        NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    EXPECT_OK(audit_open(p, &a));
    EXPECT_INT(meta_indexed(p), BULK_N);
    bulk_check(a, BULK_N);
    audit_close(a);
    EXPECT(sqlite3_open(p, &db) == SQLITE_OK);
    sqlite3_stmt *st = NULL;
    EXPECT(sqlite3_prepare_v2(db,
                              "SELECT count(*) FROM sqlite_master WHERE name IN ('entries_actor',"
                              " 'touches')",
                              -1, &st, NULL) == SQLITE_OK);
    EXPECT(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    audit_verify_report r;
    EXPECT_OK(audit_verify_file(p, KEY, PK, NULL, 0, &r));
    EXPECT_INT(r.entries, BULK_N);
}

TEST(t_index_degrades)
{
    /* The bulk index cannot be written (here a trigger refuses it, as a full disk would):
     * the entries are still written and every query still answers completely; once it
     * can be written again, it is. */
    char p[700];
    audit *a = bulk_log("degrade.db", p);
    const audit_entry *es = BULK;
    EXPECT_OK(audit_append_many(a, es, 100));
    sqlite3 *db = NULL;
    EXPECT(sqlite3_open(p, &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    EXPECT(sqlite3_exec(db,
                        "CREATE TRIGGER no_room BEFORE INSERT ON by_actor BEGIN SELECT "
                        "RAISE(ABORT, 'database or disk is full'); END",
                        NULL, NULL, NULL) == SQLITE_OK);
    for (int i = 100; i < 5100; i += 500) {
        EXPECT_OK(audit_append_many(a, es + i, 500));
    }
    uint64_t n = 0;
    EXPECT_OK(audit_size(a, &n));
    EXPECT_INT(n, 5100);
    EXPECT_INT(meta_indexed(p), 0);
    bulk_check(a, 5100);
    EXPECT(sqlite3_exec(db, "DROP TRIGGER no_room", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    for (int i = 5100; i < BULK_N; i += 500) {
        EXPECT_OK(audit_append_many(a, es + i, BULK_N - i < 500 ? (size_t)(BULK_N - i) : 500));
    }
    EXPECT(meta_indexed(p) >= 8000);
    bulk_check(a, BULK_N);
    audit_close(a);
}

/* Copies the log to a new file, applies sql to the copy, and verifies it. */
static err verify_tampered(const char *sql, audit_verify_report *r, const slice *notes, size_t nn)
{
    char copy[700], cmd[1600];
    snprintf(copy, sizeof copy, "%s/copy.db", dir);
    unlink(copy);
    sqlite3 *src, *dst;
    sqlite3_open(path, &src);
    sqlite3_open(copy, &dst);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    sqlite3_close(src);
    int ok = sql ? sqlite3_exec(dst, sql, NULL, NULL, NULL) : SQLITE_OK;
    sqlite3_close(dst);
    (void)cmd;
    if (ok != SQLITE_OK) {
        printf("    tamper SQL failed: %s\n", sql);
    }
    return audit_verify_file(copy, KEY, PK, notes, nn, r);
}

/* Changes entry idx and recomputes its leaf hash, as someone who knows the format would. */
static err rewrite_consistently(int idx, audit_verify_report *r)
{
    char copy[700];
    snprintf(copy, sizeof copy, "%s/copy.db", dir);
    IGNORE(verify_tampered(NULL, r, NULL, 0)); /* a fresh copy */
    sqlite3 *db;
    sqlite3_open(copy, &db);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT entry FROM entries WHERE idx=?1", -1, &st, NULL);
    sqlite3_bind_int(st, 1, idx);
    char ent[4096] = "";
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(ent, sizeof ent, "%s", sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    char *u = strstr(ent, "\"u");
    if (u) {
        u[2] = u[2] == '9' ? '8' : (char)(u[2] + 1);
    }
    uint8_t leaf[32];
    merkle_leaf_hash((const uint8_t *)ent, strlen(ent), leaf);
    sqlite3_prepare_v2(db, "UPDATE entries SET entry=?2, leaf=?3 WHERE idx=?1", -1, &st, NULL);
    sqlite3_bind_int(st, 1, idx);
    sqlite3_bind_blob(st, 2, ent, (int)strlen(ent), SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, leaf, 32, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return audit_verify_file(copy, KEY, PK, NULL, 0, r);
}

TEST(t_verify_finds_tampering)
{
    audit_verify_report r;
    EXPECT_OK(verify_tampered(NULL, &r, NULL, 0));
    EXPECT_INT(r.entries, 1606);
    EXPECT(r.checkpoints >= 1);
    /* one byte of an entry (leaf left as it was) */
    EXPECT_ERR(
        verify_tampered("UPDATE entries SET entry=CAST(replace(CAST(entry AS TEXT),'\"v\":1',"
                        "'\"v\":2') AS BLOB) WHERE idx=900",
                        &r, NULL, 0),
        ERR_CRYPTO);
    EXPECT_INT(r.bad_index, 900);
    /* one deleted */
    EXPECT_ERR(verify_tampered("DELETE FROM entries WHERE idx=77", &r, NULL, 0), ERR_CRYPTO);
    EXPECT_INT(r.bad_index, 77);
    /* one inserted (others renumbered to make room) */
    EXPECT_ERR(verify_tampered("UPDATE entries SET idx=idx+100000 WHERE idx>=300;"
                               "UPDATE entries SET idx=idx-100000+1 WHERE idx>=100000;"
                               "INSERT INTO entries SELECT 300, ts, actor, action, customer, "
                               "decision, entry, leaf FROM entries WHERE idx=10;",
                               &r, NULL, 0),
               ERR_CRYPTO);
    EXPECT_INT(r.bad_index, 300);
    /* two swapped */
    EXPECT_ERR(verify_tampered("UPDATE entries SET idx=-1 WHERE idx=400;"
                               "UPDATE entries SET idx=400 WHERE idx=401;"
                               "UPDATE entries SET idx=401 WHERE idx=-1;",
                               &r, NULL, 0),
               ERR_CRYPTO);
    EXPECT_INT(r.bad_index, 400);
    /* a rewrite that recomputes the leaf: caught by the signed checkpoints, and placed
     * between the last checkpoint that still holds and the first that does not */
    EXPECT_ERR(verify_tampered("UPDATE entries SET leaf=x'' WHERE idx=901", &r, NULL, 0),
               ERR_CRYPTO);
    EXPECT_INT(r.bad_index, 901); /* a bad leaf column is named directly */
    r.bad_index = -1;
    EXPECT_ERR(rewrite_consistently(901, &r), ERR_CRYPTO);
    EXPECT(r.bad_index >= 0 && r.bad_index <= 901);
    EXPECT(strstr(r.problem, "rewritten") != NULL);
    /* the tail cut, and the log rolled back: caught with a saved checkpoint */
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1", -1, &st,
                       NULL);
    char note[4096] = "";
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(note, sizeof note, "%s", sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    slice saved = slice_cstr(note);
    EXPECT_OK(verify_tampered(NULL, &r, &saved, 1));
    EXPECT_ERR(verify_tampered("DELETE FROM entries WHERE idx>=1500; DELETE FROM checkpoints", &r,
                               &saved, 1),
               ERR_CRYPTO);
    EXPECT_INT(r.bad_index, 1500);
    /* a forged checkpoint row */
    EXPECT_ERR(
        verify_tampered("UPDATE checkpoints SET note=replace(note,'1606','1605')", &r, NULL, 0),
        ERR_CRYPTO);
}

TEST(t_reopen_checks_pinned)
{
    /* Opening with a pinned checkpoint the log no longer reaches is refused. */
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1", -1, &st,
                       NULL);
    char note[4096] = "";
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(note, sizeof note, "%s", sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "DELETE FROM entries WHERE idx>=1600; DELETE FROM checkpoints", NULL, NULL,
                 NULL);
    sqlite3_close(db);
    audit_signing s;
    memset(&s, 0, sizeof s);
    s.origin = KEY;
    s.key_name = KEY;
    memcpy(s.pk, PK, 32);
    s.sign = test_sign;
    s.pinned_note = note;
    EXPECT_OK(audit_open(path, &A));
    EXPECT_ERR(audit_enable_checkpoints(A, &s), ERR_CRYPTO);
    EXPECT(strstr(err_message(), "truncated or rolled back") != NULL);
    audit_close(A);
}

/* ---- checkpoints on request ---- */

/* A log whose timed checkpoints never come due: every_us is far beyond any monotonic clock, as
 * a 10 s interval is on a machine booted less than 10 s ago. Only requests can sign. */
static audit *request_log(const char *name, audit_signer sign, void *ctx, int64_t wait_us)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    audit *a = NULL;
    if (audit_create(p) != ERR_OK || audit_open(p, &a) != ERR_OK) {
        return NULL;
    }
    audit_signing s;
    memset(&s, 0, sizeof s);
    s.origin = KEY;
    s.key_name = KEY;
    memcpy(s.pk, PK, 32);
    s.sign = sign;
    s.ctx = ctx;
    s.every_n = 1ULL << 40;
    s.every_us = INT64_MAX / 4;
    s.wait_us = wait_us;
    if (audit_enable_checkpoints(a, &s) != ERR_OK) {
        audit_close(a);
        return NULL;
    }
    return a;
}

static uint64_t note_size(const buf *note)
{
    checkpoint c;
    return checkpoint_open(buf_slice(note), KEY, PK, &c) == ERR_OK ? c.size : 0;
}

TEST(t_checkpoint_on_request_any_uptime)
{
    audit *a = request_log("request.db", test_sign, NULL, 0);
    EXPECT(a != NULL);
    if (!a) {
        return;
    }
    audit_entry e = entry("u", "login", NULL);
    for (int i = 0; i < 5; i++) {
        EXPECT_OK(audit_append(a, &e, NULL));
    }
    buf note;
    buf_init(&note, 1 << 16);
    int64_t t0 = clock_mono_us();
    EXPECT_OK(audit_checkpoint_now(a, &note));
    EXPECT_INT(note_size(&note), 6); /* five entries and the request */
    EXPECT_OK(audit_append(a, &e, NULL));
    EXPECT_OK(audit_checkpoint_now(a, &note));
    EXPECT_INT(note_size(&note), 8);
    /* Nothing new: the same checkpoint, no new entry. */
    EXPECT_OK(audit_checkpoint_now(a, &note));
    EXPECT_INT(note_size(&note), 8);
    uint64_t n = 0;
    EXPECT_OK(audit_size(a, &n));
    EXPECT_INT(n, 8);
    EXPECT(clock_mono_us() - t0 < 2000000); /* signed at once, not after a poll gave up */
    buf_free(&note);
    audit_close(a);
}

typedef struct cp_worker {
    audit *a;
    int bad;
} cp_worker;

/* Appends, then asks for a checkpoint: it must cover everything durable before the request
 * (at least `before` entries; one more only when the log had grown past the last checkpoint,
 * since the request then records itself, while another requester may have had it signed
 * already). */
static void *cp_requester(void *arg)
{
    cp_worker *w = arg;
    audit_entry e = entry("req", "customer.read", "cus_r");
    buf note;
    buf_init(&note, 1 << 16);
    for (int i = 0; i < 25; i++) {
        uint64_t before = 0;
        if (audit_append(w->a, &e, NULL) != ERR_OK || audit_size(w->a, &before) != ERR_OK ||
            audit_checkpoint_now(w->a, &note) != ERR_OK || note_size(&note) < before) {
            w->bad++;
        }
    }
    buf_free(&note);
    return NULL;
}

static void *cp_appender(void *arg)
{
    cp_worker *w = arg;
    audit_entry e = entry("app", "customer.read", "cus_a");
    for (int i = 0; i < 100; i++) {
        if (audit_append(w->a, &e, NULL) != ERR_OK) {
            w->bad++;
        }
    }
    return NULL;
}

TEST(t_checkpoint_requests_concurrent)
{
    audit *a = request_log("request-many.db", test_sign, NULL, 0);
    EXPECT(a != NULL);
    if (!a) {
        return;
    }
    pthread_t t[6];
    cp_worker w[6];
    for (int i = 0; i < 6; i++) {
        w[i].a = a;
        w[i].bad = 0;
        pthread_create(&t[i], NULL, i < 4 ? cp_requester : cp_appender, &w[i]);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        EXPECT_INT(w[i].bad, 0);
    }
    uint64_t n = 0;
    EXPECT_OK(audit_size(a, &n));
    /* 4 x 25 appends, 2 x 100 appends, and one request entry per call that found the log grown */
    EXPECT(n >= 300 + 1 && n <= 300 + 100);
    buf note;
    buf_init(&note, 1 << 16);
    EXPECT_OK(audit_checkpoint_now(a, &note));
    EXPECT_OK(audit_size(a, &n));
    EXPECT_INT(note_size(&note), n);
    buf_free(&note);
    audit_close(a);
}

/* A signer that hangs until released: the writer is stuck. */
typedef struct stuck_signer {
    sem_t entered, release;
    _Atomic int hang;
} stuck_signer;

static void stuck_sign(void *ctx, slice msg, uint8_t sig[64])
{
    stuck_signer *st = ctx;
    if (atomic_load(&st->hang)) {
        sem_post(&st->entered);
        while (sem_wait(&st->release) != 0) {
        }
    }
    crypto_sign_detached(sig, NULL, msg.p, msg.len, SK);
}

TEST(t_checkpoint_request_times_out)
{
    stuck_signer st;
    sem_init(&st.entered, 0, 0);
    sem_init(&st.release, 0, 0);
    atomic_store(&st.hang, 1);
    audit *a = request_log("request-stuck.db", stuck_sign, &st, 300 * 1000);
    EXPECT(a != NULL);
    if (!a) {
        return;
    }
    audit_entry e = entry("u", "login", NULL);
    EXPECT_OK(audit_append(a, &e, NULL));
    buf note;
    buf_init(&note, 1 << 16);
    int64_t t0 = clock_mono_us();
    EXPECT_ERR(audit_checkpoint_now(a, &note), ERR_UNAVAILABLE);
    int64_t took = clock_mono_us() - t0;
    EXPECT(strstr(err_message(), "in time") != NULL);
    EXPECT(took >= 300 * 1000 && took < 5 * 1000000);
    EXPECT_INT(note.len, 0); /* no older note handed out instead */
    /* The writer was really inside the signer; released, it finishes and the next request
     * gets a checkpoint covering everything. */
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 30;
    int entered;
    while ((entered = sem_timedwait(&st.entered, &dl)) != 0 && errno == EINTR) {
    }
    EXPECT(entered == 0);
    atomic_store(&st.hang, 0);
    sem_post(&st.release);
    EXPECT_OK(audit_checkpoint_now(a, &note));
    uint64_t n = 0;
    EXPECT_OK(audit_size(a, &n));
    EXPECT_INT(note_size(&note), n);
    buf_free(&note);
    audit_close(a);
    sem_destroy(&st.entered);
    sem_destroy(&st.release);
}

/* ---- the iterator ---- */

typedef struct iter_writer {
    audit *a;
    int n;
} iter_writer;

static void *iter_append(void *arg)
{
    iter_writer *w = arg;
    audit_entry e = entry("iter", "customer.read", "cus_it");
    for (int i = 0; i < w->n; i++) {
        IGNORE(audit_append(w->a, &e, NULL));
    }
    return NULL;
}

/* Reads until the end of the log as it is; checks indexes are dense from `from`, each entry
 * decodes and names its own index. Returns the next index expected. */
static uint64_t iter_drain(audit_iter *it, uint64_t from, int *bad)
{
    uint64_t want = from;
    for (;;) {
        uint64_t idx = 0;
        slice ent;
        bool got = false;
        if (audit_iter_next(it, &idx, &ent, &got) != ERR_OK) {
            (*bad)++;
            return want;
        }
        if (!got) {
            return want;
        }
        audit_decoded d;
        if (idx != want || audit_decode(ent, &d) != ERR_OK || d.index != idx) {
            (*bad)++;
        }
        want = idx + 1;
    }
}

TEST(t_iterator)
{
    char p[700];
    snprintf(p, sizeof p, "%s/iter.db", dir);
    EXPECT_OK(audit_create(p));
    audit *a = NULL;
    EXPECT_OK(audit_open(p, &a));
    if (!a) {
        return;
    }
    /* an empty log: the end at once */
    audit_iter *it = NULL;
    EXPECT_OK(audit_iter_open(a, 0, &it));
    int bad = 0;
    EXPECT_INT(iter_drain(it, 0, &bad), 0);
    /* 600 entries (more than two pages), read from the start, from an index, past the end */
    iter_writer w0 = {a, 600};
    iter_append(&w0);
    EXPECT_INT(iter_drain(it, 0, &bad), 600); /* the same iterator sees what came since */
    audit_iter_close(it);
    EXPECT_OK(audit_iter_open(a, 257, &it));
    EXPECT_INT(iter_drain(it, 257, &bad), 600);
    audit_iter_close(it);
    EXPECT_OK(audit_iter_open(a, 5000, &it));
    EXPECT_INT(iter_drain(it, 5000, &bad), 5000);
    audit_iter_close(it);
    EXPECT_INT(bad, 0);
    /* the entry bytes are those the log holds (the search hands out the same) */
    EXPECT_OK(audit_iter_open(a, 42, &it));
    uint64_t idx = 0;
    slice ent;
    bool got = false;
    EXPECT_OK(audit_iter_next(it, &idx, &ent, &got));
    EXPECT(got && idx == 42);
    audit_decoded d;
    EXPECT_OK(audit_decode(ent, &d));
    EXPECT_STR(d.actor, "iter");
    audit_iter_close(it);
    /* across concurrent appends: four writers add 4 x 300 while the iterator reads; once they
     * are done, reading to the end gives every entry once, in order */
    EXPECT_OK(audit_iter_open(a, 0, &it));
    pthread_t t[4];
    iter_writer w = {a, 300};
    for (int i = 0; i < 4; i++) {
        pthread_create(&t[i], NULL, iter_append, &w);
    }
    uint64_t next = 0;
    for (int rounds = 0; rounds < 50; rounds++) {
        next = iter_drain(it, next, &bad);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
    next = iter_drain(it, next, &bad);
    EXPECT_INT(next, 600 + 4 * 300);
    EXPECT_INT(bad, 0);
    /* at the end: nothing, then the next entry appended */
    EXPECT_OK(audit_iter_next(it, &idx, &ent, &got));
    EXPECT(!got);
    iter_writer w1 = {a, 1};
    iter_append(&w1);
    EXPECT_OK(audit_iter_next(it, &idx, &ent, &got));
    EXPECT(got && idx == 1800);
    audit_iter_close(it);
    audit_close(a);
    /* a read-only handle iterates too, and refuses to write */
    EXPECT_OK(audit_open_readonly(p, &a));
    EXPECT_OK(audit_iter_open(a, 0, &it));
    EXPECT_INT(iter_drain(it, 0, &bad), 1801);
    audit_iter_close(it);
    audit_entry e = entry("ro", "customer.read", NULL);
    EXPECT_ERR(audit_append(a, &e, NULL), ERR_UNAVAILABLE);
    audit_close(a);
    EXPECT_INT(bad, 0);
}

/* ---- the actions table ---- */

TEST(t_actions_table)
{
    size_t n = 0;
    const char *const *names = audit_actions(&n);
    EXPECT(n >= 20);
    for (size_t i = 0; i < n; i++) {
        EXPECT(audit_action_known(names[i]));
        for (size_t j = 0; j < i; j++) {
            EXPECT(strcmp(names[i], names[j]) != 0);
        }
    }
    EXPECT(audit_action_known("customer.read"));
    EXPECT(audit_action_known("audit.sign"));
    EXPECT(!audit_action_known("customer.reads"));
    EXPECT(!audit_action_known(""));
    EXPECT(!audit_action_known(NULL));
    /* an action outside the table is refused (test build) and nothing is written */
    char p[700];
    snprintf(p, sizeof p, "%s/actions.db", dir);
    EXPECT_OK(audit_create(p));
    audit *a = NULL;
    EXPECT_OK(audit_open(p, &a));
    if (!a) {
        return;
    }
    audit_entry e = entry("u", "customer.made_up", NULL);
    EXPECT_ERR(audit_append(a, &e, NULL), ERR_INTERNAL);
    audit_entry many[2] = {entry("u", "login", NULL), entry("u", "no.such", NULL)};
    EXPECT_ERR(audit_append_many(a, many, 2), ERR_INTERNAL);
    uint64_t size = 9;
    EXPECT_OK(audit_size(a, &size));
    EXPECT_INT(size, 0);
    e = entry("u", "login", NULL);
    EXPECT_OK(audit_append(a, &e, NULL));
    EXPECT_OK(audit_size(a, &size));
    EXPECT_INT(size, 1);
    audit_close(a);
}

int main(void)
{
    test_init();
    RUN(t_encode_decode);
    RUN(t_encode_matches_jansson);
    RUN(t_open_append);
    RUN(t_concurrent);
    RUN(t_fail_closed);
    RUN(t_checkpoints_and_proofs);
    RUN(t_checkpoint_on_request_any_uptime);
    RUN(t_checkpoint_requests_concurrent);
    RUN(t_checkpoint_request_times_out);
    RUN(t_queries);
    RUN(t_bulk_index);
    RUN(t_index_degrades);
    RUN(t_verify_finds_tampering);
    RUN(t_reopen_checks_pinned);
    RUN(t_iterator);
    RUN(t_actions_table);
    return test_done("audit_test");
}
