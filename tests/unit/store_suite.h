/*
 * store_suite.h - the PostgreSQL server the store suites run against: CUSTOS_TEST_PG_URL when it
 * names one, otherwise a throwaway cluster started here with scripts/pg-cluster.sh
 * (CUSTOS_PG_CLUSTER_SCRIPT) and stopped at the end. No server and none startable is a failure
 * of the suite, never a silent skip. Each store or log of a suite lives in a schema of its own.
 */
#ifndef CUSTOS_STORE_SUITE_H
#define CUSTOS_STORE_SUITE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

static char pg_url[1024];   /* the server's location, without schema= */
static char pg_dir[512];    /* the cluster this binary started ("" when given one) */
static unsigned schema_seq; /* schema names: t_<pid>_<seq> */

/* A location in a schema of its own on the suite's server. */
static inline void pg_location(char *p, size_t len)
{
    snprintf(p, len, "%s%cschema=t_%ld_%u", pg_url, strchr(pg_url, '?') ? '&' : '?', (long)getpid(),
             ++schema_seq);
}

static inline bool pg_cluster_start(void)
{
    const char *url = getenv("CUSTOS_TEST_PG_URL");
    if (url && *url) {
        snprintf(pg_url, sizeof pg_url, "%s", url);
        return true;
    }
    const char *script = getenv("CUSTOS_PG_CLUSTER_SCRIPT");
    char *dir = test_tmpdir("pg"); /* empty, 0700: the script makes the cluster in it */
    snprintf(pg_dir, sizeof pg_dir, "%s", dir);
    free(dir);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "bash %s start %s", script ? script : "scripts/pg-cluster.sh",
             pg_dir);
    FILE *f = popen(cmd, "r");
    if (!f) {
        return false;
    }
    bool ok = fgets(pg_url, sizeof pg_url, f) != NULL;
    ok = pclose(f) == 0 && ok;
    pg_url[strcspn(pg_url, "\n")] = '\0';
    return ok && strncmp(pg_url, "postgres://", 11) == 0;
}

static inline void pg_cluster_stop(void)
{
    if (pg_dir[0]) {
        const char *script = getenv("CUSTOS_PG_CLUSTER_SCRIPT");
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "bash %s stop %s", script ? script : "scripts/pg-cluster.sh",
                 pg_dir);
        if (system(cmd) != 0) {
            printf("  note: the cluster in %s did not stop cleanly\n", pg_dir);
        }
    }
}

/* Restarts the suite's own cluster (false when it was given one, or the restart failed). */
static inline bool pg_cluster_restart(void)
{
    if (!pg_dir[0]) {
        return false;
    }
    const char *script = getenv("CUSTOS_PG_CLUSTER_SCRIPT");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "bash %s restart %s", script ? script : "scripts/pg-cluster.sh",
             pg_dir);
    return system(cmd) == 0;
}

#define PG_NO_SERVER_FAIL()                                                                        \
    do {                                                                                           \
        printf("  FAIL postgres: no PostgreSQL server (CUSTOS_TEST_PG_URL unset and "              \
               "scripts/pg-cluster.sh could not start one)\nnot ok - postgres\n");                 \
        test_failed_++;                                                                            \
    } while (0)

/* RUN with the backend in the test's name; the including suite defines `static bool on_pg`,
 * true in its PostgreSQL round. */
#define SRUN(name)                                                                                 \
    do {                                                                                           \
        static char n_[2][64];                                                                     \
        snprintf(n_[on_pg], sizeof n_[on_pg], "%s/%s", on_pg ? "postgres" : "sqlite", #name);      \
        test_cur_ = n_[on_pg];                                                                     \
        test_cur_failed_ = 0;                                                                      \
        err_clear();                                                                               \
        name();                                                                                    \
        if (test_cur_failed_) {                                                                    \
            test_failed_++;                                                                        \
            printf("not ok - %s\n", test_cur_);                                                    \
        } else {                                                                                   \
            test_passed_++;                                                                        \
            printf("ok - %s\n", test_cur_);                                                        \
        }                                                                                          \
        fflush(stdout);                                                                            \
    } while (0)

#endif
