/*
 * faultinj_test.c - a real server under concurrent writes while writes, fsyncs
 * or allocations fail inside its store or its audit log (core/fault.h, armed
 * through CUSTOS_FAULTS; the sanitized test build only).
 *
 * For each point: the server starts with the point armed for a budget of
 * faults; the load runs until the budget is spent; every failure must be a
 * refusal (503, or 500 for a failed allocation in the store), never an
 * acknowledgement; everything acknowledged reads back decrypted with its audit
 * entry, no update is half-applied and no import half-written; then, with no
 * restart, new writes all succeed (the service recovered by itself); after a
 * restart everything is still there. At the end the audit log verifies offline
 * and the store passes SQLite's integrity check. The release binary must hold
 * none of the fault machinery.
 *
 * CUSTOS_SOAK=1 (make soak) runs larger budgets and loads.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../unit/test.h"
#include "harness.h"
#include "load.h"
#include "store/store.h"
#include "store/store_backup.h"

static srv S;
static load *L;
static bool soak;
static uint64_t total_injected, total_refused;

static long log_size(void)
{
    struct stat st;
    return stat(S.log, &st) == 0 ? (long)st.st_size : 0;
}

/* "fault.injected" lines naming the point in the server's log since offset. */
static int injected_since(long offset, const char *point)
{
    FILE *f = fopen(S.log, "r");
    if (!f) {
        return 0;
    }
    fseek(f, offset, SEEK_SET);
    char line[4096], want[64];
    snprintf(want, sizeof want, "point=%s ", point);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        n += strstr(line, "\"fault.injected\"") && strstr(line, want);
    }
    fclose(f);
    return n;
}

TEST(t_setup)
{
    soak = getenv("CUSTOS_SOAK") && atoi(getenv("CUSTOS_SOAK")) != 0;
    h_setup(&S, "faultinj");
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "11", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "10", NULL};
    EXPECT_INT(h_cli(&S, NULL, demo), 0);
    h_quiet_guard(&S);
    EXPECT(h_start(&S));
    load_opts o = {
        .writers = 4,
        .rotator = false, /* the rotate-vs-record race is crash_test's business */
        .stop_on_transport = false,
        .seed = (unsigned)(time(NULL) % 100000),
    };
    L = load_new(&S, &o);
    EXPECT(load_login(L));
    EXPECT_INT(h_stop(&S), 0);
}

/* One point: every=E, a budget of T faults (the first `after` hits pass, so the server
 * starts and the load gets going). */
static void point(const char *name, int after, int every, bool allow_500)
{
    const char *only = getenv("CUSTOS_FAULTINJ_ONLY"); /* one point, when chasing a bug */
    if (only && strcmp(only, name) != 0) {
        return;
    }
    int budget = soak ? 60 : 8;
    char spec[160];
    snprintf(spec, sizeof spec, "%s:after=%d:every=%d:times=%d", name, after, every, budget);
    long off = log_size();
    setenv("CUSTOS_FAULTS", spec, 1);
    bool up = h_start(&S);
    unsetenv("CUSTOS_FAULTS");
    EXPECT(up);
    if (!up) {
        return;
    }
    EXPECT(load_login(L));
    load_opts *o = load_options(L);
    o->allow_503 = true;
    o->allow_500 = allow_500;
    load_counts k0 = load_get_counts(L);
    load_start(L);
    /* Until the budget is spent (and a fair amount was acknowledged), with a deadline. */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t acks = soak ? 1500 : 150;
    for (;;) {
        bool spent = injected_since(off, name) >= budget;
        if (spent && load_wait_acks(L, acks, 0)) {
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > (soak ? 600 : 90)) {
            break;
        }
        usleep(20000); /* polling the server's log, with a deadline */
    }
    load_stop(L);
    int inj = injected_since(off, name);
    load_counts k1 = load_get_counts(L);
    EXPECT_INT(inj, budget);
    EXPECT(k1.refused > k0.refused); /* faults were felt as refusals, not answered 2xx */
    EXPECT_INT(k1.unexpected, k0.unexpected);
    EXPECT_INT(k1.transport, k0.transport);
    /* Nothing acknowledged is missing, nothing half-written, while the server still runs. */
    EXPECT(load_verify(L, true));
    /* The service recovered by itself: the budget is spent, every write succeeds. */
    o->allow_503 = o->allow_500 = false;
    load_start(L);
    EXPECT(load_wait_acks(L, 40, 60));
    load_stop(L);
    load_counts k2 = load_get_counts(L);
    EXPECT_INT(k2.unexpected, k1.unexpected);
    EXPECT_INT(k2.refused, k1.refused);
    /* And it all survives a restart. */
    EXPECT_INT(h_stop(&S), 0);
    EXPECT(h_start(&S));
    EXPECT(load_login(L));
    EXPECT(load_verify(L, true));
    EXPECT_INT(h_stop(&S), 0);
    load_counts k3 = load_get_counts(L);
    EXPECT_INT(k3.lost, 0);
    EXPECT_INT(k3.half, 0);
    total_injected += (uint64_t)inj;
    total_refused += k1.refused - k0.refused;
    printf("    %s: %d faults injected, %llu writes refused, %llu acknowledged, none lost\n", name,
           inj, (unsigned long long)(k1.refused - k0.refused),
           (unsigned long long)(k2.acked - k0.acked));
}

TEST(t_store_write)
{
    point("store.write", 50, 7, false);
}
TEST(t_store_fsync)
{
    point("store.fsync", 20, 5, false);
}
TEST(t_store_alloc)
{
    /* Eight statements in a row fail: each request's first one authenticates it. */
    point("store.alloc", 300, 1, true);
}
TEST(t_audit_write)
{
    /* Opening the log may index thousands of entries in one transaction: the first
     * thousand writes pass, so the server starts. */
    point("audit.write", 1000, 7, false);
}
TEST(t_audit_fsync)
{
    point("audit.fsync", 20, 5, false);
}
TEST(t_audit_alloc)
{
    point("audit.alloc", 100, 17, false);
}

TEST(t_files_verify)
{
    const char *av[] = {"audit", "verify", S.dir, NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, av), 0);
    printf("    %s", buf_cstr(&out));
    buf_free(&out);
    char db[700];
    snprintf(db, sizeof db, "%s/custos.db", S.dir);
    EXPECT_OK(store_check_file(db));
    load_counts k = load_get_counts(L);
    EXPECT_INT(k.lost, 0);
    EXPECT_INT(k.half, 0);
    printf("    faults injected: %llu; writes refused: %llu; acknowledged writes: %llu, each "
           "checked with its audit entry after a restart; lost: %llu; half-written: %llu\n",
           (unsigned long long)total_injected, (unsigned long long)total_refused,
           (unsigned long long)k.acked, (unsigned long long)k.lost, (unsigned long long)k.half);
}

TEST(t_release_has_no_faults)
{
    const char *rel = getenv("RELEASE_BIN") ? getenv("RELEASE_BIN") : "build/custos";
    if (access(rel, R_OK) != 0) {
        printf("    skipped: no release binary at %s (make build/custos)\n", rel);
        return;
    }
    EXPECT(h_file_contains(S.log, "fault.injected")); /* the needles are real */
    EXPECT(!h_file_contains(rel, "fault.injected"));
    EXPECT(!h_file_contains(rel, "CUSTOS_FAULTS"));
    EXPECT(!h_file_contains(rel, "custos-fault"));
}

int main(void)
{
    test_init();
    RUN(t_setup);
    RUN(t_store_write);
    RUN(t_store_fsync);
    RUN(t_store_alloc);
    RUN(t_audit_write);
    RUN(t_audit_fsync);
    RUN(t_audit_alloc);
    RUN(t_files_verify);
    RUN(t_release_has_no_faults);
    if (S.pid) {
        h_stop(&S);
    }
    if (L) {
        load_free(L);
    }
    return test_done("faultinj_test");
}
