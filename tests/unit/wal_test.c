/*
 * wal_test.c - the vault's databases keep their write-ahead logs bounded (checkpointed and
 * cut back near 4 MiB) under bursts of writes, and leave none behind after a clean close.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "store/guard_store.h"
#include "store/store.h"
#include "test.h"

/* The documented bound (docs/OPERATIONS.md, "Disk headroom"): 4 MiB, plus the pages of the
 * one commit that crosses it. */
#define WAL_BOUND ((long long)4 << 20)
#define WAL_SLACK ((long long)512 << 10)

static long long wal_size(const char *db)
{
    char p[600];
    struct stat st;
    snprintf(p, sizeof p, "%s-wal", db);
    return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

typedef struct burst {
    audit *a;
    const char *path;
    int n;
    long long max_wal;
} burst;

static void *appender(void *arg)
{
    burst *b = arg;
    char actor[32], cust[32];
    for (int i = 0; i < b->n; i++) {
        audit_entry e;
        memset(&e, 0, sizeof e);
        snprintf(actor, sizeof actor, "user%d", i % 97);
        snprintf(cust, sizeof cust, "cus_%024d", i);
        e.actor = actor;
        e.role = "customer_service";
        e.source = "10.0.0.1";
        e.action = "customer.read";
        e.customer = cust;
        e.decision = "allow";
        e.count = -1;
        if (audit_append(b->a, &e, NULL) != ERR_OK) {
            break;
        }
        long long w = wal_size(b->path);
        if (w > b->max_wal) {
            b->max_wal = w;
        }
    }
    return NULL;
}

TEST(t_audit_wal_bounded)
{
    char *d = test_tmpdir("wal");
    char path[600];
    snprintf(path, sizeof path, "%s/audit.db", d);
    EXPECT_OK(audit_create(path));
    audit *a = NULL;
    EXPECT_OK(audit_open(path, &a));
    if (!a) {
        return;
    }
    /* Four writers, 3,000 durable appends each: far more WAL than the bound if it were not
     * checkpointed. */
    burst b[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        b[i] = (burst){a, path, 3000, 0};
        pthread_create(&t[i], NULL, appender, &b[i]);
    }
    long long max_wal = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        max_wal = b[i].max_wal > max_wal ? b[i].max_wal : max_wal;
    }
    uint64_t n = 0;
    EXPECT_OK(audit_size(a, &n));
    EXPECT_INT(n, 12000);
    printf("    audit: largest WAL seen %lld KiB (bound %lld KiB)\n", max_wal >> 10,
           WAL_BOUND >> 10);
    EXPECT(max_wal <= WAL_BOUND + WAL_SLACK);
    /* The pages are moved by the checkpointer thread while the writer commits; the writer
     * itself only finishes a pass at the bound (at most once per 4 MiB of WAL). */
    uint64_t bg = 0, wr = 0;
    audit_wal_passes(a, &bg, &wr);
    printf("    audit: %llu checkpoint passes off the writer, %llu by the writer\n",
           (unsigned long long)bg, (unsigned long long)wr);
    EXPECT(bg > 0);
    EXPECT(wr <= bg);
    audit_close(a);
    EXPECT_INT(wal_size(path), 0);
    free(d);
}

TEST(t_store_wal_cut_back)
{
    char *d = test_tmpdir("wal");
    char path[600];
    snprintf(path, sizeof path, "%s/custos.db", d);
    store *s = NULL;
    EXPECT_OK(store_open(path, true, &s));
    if (!s) {
        return;
    }
    /* One large transaction (an import's size) grows the WAL past the bound ... */
    char *val = malloc(2048);
    memset(val, 'v', 2047);
    val[2047] = '\0';
    store_tx *tx = NULL;
    EXPECT_OK(store_begin(s, &tx));
    for (int i = 0; tx && i < 6000; i++) {
        char k[32];
        snprintf(k, sizeof k, "bulk-%d", i);
        EXPECT_OK(store_meta_set(store_tx_store(tx), k, val));
    }
    EXPECT_OK(store_commit(&tx));
    EXPECT(wal_size(path) > WAL_BOUND);
    /* ... and ordinary writes after it cut it back once it is checkpointed. */
    long long last = 0;
    for (int i = 0; i < 3000; i++) {
        char k[32];
        snprintf(k, sizeof k, "small-%d", i % 50);
        EXPECT_OK(store_meta_set(s, k, "x"));
        last = wal_size(path);
    }
    printf("    custos.db: WAL %lld KiB after the small writes\n", last >> 10);
    EXPECT(last <= WAL_BOUND + WAL_SLACK);
    store_close(s);
    EXPECT_INT(wal_size(path), 0);
    free(val);
    free(d);
}

TEST(t_guard_store_no_wal_after_close)
{
    char *d = test_tmpdir("wal");
    char path[600];
    snprintf(path, sizeof path, "%s/guard.db", d);
    guard_store *g = NULL;
    EXPECT_OK(guard_store_open(path, &g));
    if (!g) {
        return;
    }
    for (int i = 0; i < 200; i++) {
        char addr[32];
        snprintf(addr, sizeof addr, "10.1.%d.%d", i / 250, i % 250);
        EXPECT_OK(guard_store_known_add(g, "alice", addr, i));
    }
    EXPECT(wal_size(path) > 0);
    guard_store_close(g);
    EXPECT_INT(wal_size(path), 0);
    free(d);
}

int main(void)
{
    test_init();
    RUN(t_audit_wal_bounded);
    RUN(t_store_wal_cut_back);
    RUN(t_guard_store_no_wal_after_close);
    return test_done("wal_test");
}
