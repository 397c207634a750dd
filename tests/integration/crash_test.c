/*
 * crash_test.c - SIGKILL at random moments under concurrent writes, many times.
 *
 * A demo vault, a real server, and the load of load.h: writers creating,
 * updating (each its own customers), adding transactions and communications,
 * rotating data keys and importing, while a rotator rotates the keys of
 * customers that every writer adds records to. At a random count of
 * acknowledged writes the server is killed with SIGKILL, restarted, and
 * everything the round touched is read back decrypted and found in the audit
 * log's subject reports (as auditor1). At the end every acknowledged write is
 * checked again, the server stops cleanly, `custos audit verify` checks the log
 * offline against a checkpoint signed before each crash, and the store passes
 * SQLite's integrity check.
 *
 * Short by default (8 crashes); CUSTOS_SOAK=1 (make soak) runs 300, or
 * CUSTOS_CRASH_ROUNDS=N. CUSTOS_SEED=N repeats a run.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../unit/test.h"
#include "harness.h"
#include "load.h"
#include "store/store.h"
#include "store/store_backup.h"

/* Per-customer key rotation racing a new transaction or communication of the same
 * customer once left the record sealed under a data key that no longer existed (it then
 * read as 500 integrity_error). Rotation is now serialised with every write of the
 * customer, so the test fails on any such customer. Building with
 * -DTOLERATE_ROTATE_RECORD_RACE=1 counts such customers apart instead (for bisecting an
 * older tree). */
#ifndef TOLERATE_ROTATE_RECORD_RACE
#define TOLERATE_ROTATE_RECORD_RACE 0
#endif

static srv S;

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : dflt;
}

static bool kill9(srv *s)
{
    if (!s->pid) {
        return false;
    }
    kill(s->pid, SIGKILL);
    int st = 0;
    waitpid(s->pid, &st, 0);
    s->pid = 0;
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

TEST(t_crash_loop)
{
    bool soak = env_int("CUSTOS_SOAK", 0) != 0;
    int rounds = env_int("CUSTOS_CRASH_ROUNDS", soak ? 300 : 8);
    unsigned seed = (unsigned)env_int("CUSTOS_SEED", (int)(time(NULL) % 100000));
    printf("    seed %u (CUSTOS_SEED=%u repeats this run), %d crashes%s\n", seed, seed, rounds,
           TOLERATE_ROTATE_RECORD_RACE ? ", rotate-vs-record race tolerated" : "");
    srand(seed);
    h_setup(&S, "crash");
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "7", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "10", NULL};
    buf out;
    buf_init(&out, 0);
    int rc = h_cli(&S, &out, demo);
    EXPECT_INT(rc, 0);
    if (rc) {
        printf("%s\n", buf_cstr(&out));
    }
    buf_free(&out);
    h_quiet_guard(&S);
    EXPECT(h_start(&S));
    load_opts o = {
        .writers = soak ? 6 : 4,
        .rotator = true,
        .stop_on_transport = true,
        .tolerate_rotate_record_race = TOLERATE_ROTATE_RECORD_RACE,
        .seed = seed,
    };
    load *L = load_new(&S, &o);
    EXPECT(load_login(L));
    char cps[64][600];
    int ncp = 0, crashes = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < rounds && !test_cur_failed_; r++) {
        load_start(L);
        uint64_t target = 10 + (uint64_t)(rand() % (soak ? 400 : 90));
        bool reached = load_wait_acks(L, target / 2, 120);
        /* A checkpoint signed mid-load; the log after the crash must extend it. */
        char cp[600];
        if (reached && load_save_checkpoint(L, cp, sizeof cp)) {
            /* keep the first and the latest (the CLI takes 64) */
            int slot = ncp < 64 ? ncp++ : 1 + (r % 63);
            snprintf(cps[slot], sizeof cps[slot], "%s", cp);
        }
        reached = reached && load_wait_acks(L, target, 120);
        EXPECT(reached);
        EXPECT(kill9(&S));
        load_stop(L);
        if (!reached) {
            printf("    round %d: the load stalled; log %s\n", r, S.log);
            break;
        }
        crashes++;
        if (!h_start(&S)) {
            printf("    round %d: the server did not come back; log %s\n", r, S.log);
            EXPECT(false);
            break;
        }
        EXPECT(load_login(L));
        bool ok = load_verify(L, false);
        EXPECT(ok);
        if (!ok) {
            printf("    round %d (after %llu acknowledged writes): something was lost\n", r,
                   (unsigned long long)load_get_counts(L).acked);
        }
    }
    load_counts before = load_get_counts(L);
    EXPECT(load_verify(L, true));
    load_counts k = load_get_counts(L);
    EXPECT_INT(h_stop(&S), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* The audit log offline, against every checkpoint signed before a crash. */
    const char *av[4 + 2 * 64 + 1];
    int n = 0;
    av[n++] = "audit";
    av[n++] = "verify";
    av[n++] = S.dir;
    for (int i = 0; i < ncp; i++) {
        av[n++] = "--checkpoint";
        av[n++] = cps[i];
    }
    av[n] = NULL;
    buf vo;
    buf_init(&vo, 0);
    int vrc = h_cli(&S, &vo, av);
    EXPECT_INT(vrc, 0);
    EXPECT(strstr(buf_cstr(&vo), "audit log OK") != NULL);
    printf("    custos audit verify (%d checkpoints held apart): %s", ncp, buf_cstr(&vo));
    buf_free(&vo);
    char db[700];
    snprintf(db, sizeof db, "%s/custos.db", S.dir);
    EXPECT_OK(store_check_file(db));
    EXPECT_INT(k.lost, 0);
    EXPECT_INT(k.half, 0);
    EXPECT_INT(k.unexpected, 0);
    EXPECT(crashes == rounds);
    printf("    crashes survived: %d in %.0f s; acknowledged writes: %llu, checked in the final "
           "pass with their audit entries: %llu (%llu audit entries found); customers: %llu; "
           "unanswered at a crash: %llu; lost: %llu; half-written: %llu; shared customers made "
           "unreadable by the rotate-vs-record race: %llu\n",
           crashes, (double)(t1.tv_sec - t0.tv_sec), (unsigned long long)k.acked,
           (unsigned long long)(k.checked - before.checked),
           (unsigned long long)(k.audit_checked - before.audit_checked),
           (unsigned long long)k.customers, (unsigned long long)k.transport,
           (unsigned long long)k.lost, (unsigned long long)k.half,
           (unsigned long long)k.race_casualties);
    load_free(L);
}

int main(void)
{
    test_init();
    RUN(t_crash_loop);
    if (S.pid) {
        kill9(&S);
    }
    return test_done("crash_test");
}
