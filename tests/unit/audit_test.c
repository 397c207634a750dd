/*
 * audit_test.c - entries are canonical and carry their leaf hash; concurrent
 * writers share commits and lose nothing; a failing log refuses.
 */
#include <pthread.h>
#include <sqlite3.h>

#include "audit/audit.h"
#include "crypto/crypto.h"
#include "test.h"

static char path[600];
static audit *A;

TEST(t_encode)
{
    audit_entry e = {0};
    e.ts_us = 1767225600000000; /* 2026-01-01T00:00:00Z */
    e.actor = "steward1";
    e.role = "data_steward";
    e.source = "127.0.0.1";
    e.action = "customer.read";
    e.customer = "cus_abc";
    e.fields = "name,phone";
    e.decision = "allow";
    e.rule = "grant:customer-read";
    e.request_id = "req_1";
    e.count = -1;
    buf b;
    buf_init(&b, 0);
    EXPECT_OK(audit_encode(&e, &b));
    EXPECT_STR(buf_cstr(&b),
               "{\"action\":\"customer.read\",\"actor\":\"steward1\",\"customer\":\"cus_abc\","
               "\"decision\":\"allow\",\"fields\":\"name,phone\",\"request_id\":\"req_1\","
               "\"role\":\"data_steward\",\"rule\":\"grant:customer-read\",\"source\":\"127.0.0.1\","
               "\"ts\":\"2026-01-01T00:00:00.000000Z\",\"v\":1}");
    /* Non-ASCII is escaped, so the bytes are the same on every platform. */
    e.reason = "客户要求";
    EXPECT_OK(audit_encode(&e, &b));
    EXPECT(strstr(buf_cstr(&b), "\\u5BA2") != NULL);
    buf_free(&b);
}

TEST(t_open_append)
{
    char *dir = test_tmpdir("audit");
    snprintf(path, sizeof path, "%s/audit.db", dir);
    free(dir);
    EXPECT_OK(audit_create(path));
    EXPECT_ERR(audit_create(path), ERR_CONFLICT);
    EXPECT_OK(audit_open(path, &A));
    audit_entry e = {0};
    e.action = "login";
    e.decision = "allow";
    e.count = -1;
    uint64_t idx = 99;
    EXPECT_OK(audit_append(A, &e, &idx));
    EXPECT_INT(idx, 0);
    EXPECT_OK(audit_append(A, &e, &idx));
    EXPECT_INT(idx, 1);
}

static void *writer(void *arg)
{
    audit_entry e = {0};
    e.action = "customer.read";
    e.decision = "allow";
    e.actor = arg;
    e.count = -1;
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
    audit_entry e = {0};
    e.action = "customer.read";
    e.decision = "allow";
    e.count = -1;
    audit_fail_next(A, 1);
    EXPECT_ERR(audit_append(A, &e, NULL), ERR_UNAVAILABLE);
    audit_entry many[3] = {e, e, e};
    EXPECT_ERR(audit_append_many(A, many, 3), ERR_UNAVAILABLE);
    audit_fail_next(A, 0);
    EXPECT_OK(audit_append_many(A, many, 3));
    uint64_t n = 0;
    EXPECT_OK(audit_size(A, &n));
    EXPECT_INT(n, 2 + 1600 + 3);
    audit_close(A);
}

TEST(t_leaf_hashes)
{
    /* Every stored leaf is SHA-256(0x00 || entry), indices dense from 0. */
    sqlite3 *db;
    EXPECT(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_stmt *st;
    EXPECT(sqlite3_prepare_v2(db, "SELECT idx, entry, leaf FROM entries ORDER BY idx", -1, &st,
                              NULL) == SQLITE_OK);
    int64_t want = 0;
    int bad = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const uint8_t *ent = sqlite3_column_blob(st, 1);
        int n = sqlite3_column_bytes(st, 1);
        uint8_t *pre = malloc((size_t)n + 1), h[32];
        pre[0] = 0;
        memcpy(pre + 1, ent, (size_t)n);
        hash_sha256(pre, (size_t)n + 1, h);
        free(pre);
        bad += sqlite3_column_int64(st, 0) != want++ ||
               memcmp(h, sqlite3_column_blob(st, 2), 32) != 0;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    EXPECT_INT(want, 1605);
    EXPECT_INT(bad, 0);
}

int main(void)
{
    test_init();
    RUN(t_encode);
    RUN(t_open_append);
    RUN(t_concurrent);
    RUN(t_fail_closed);
    RUN(t_leaf_hashes);
    return test_done("audit_test");
}
