/*
 * watch_test.c - the figures behind the console's dashboards, against the real server:
 * GET /v1/stats/activity counts accesses to customer data per department and refusals from
 * the audit log, exactly (a known number of reads and refusals moves the counts by exactly
 * that much); the audit roles see every department, a data steward only their own, other
 * roles nothing (403); bad parameters are 400; every read is audited. The violation register
 * names each person's department.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../unit/test.h"
#include "harness.h"

enum { SALES1, STEWARD1, STEWARD2, AUDITOR1, LEGAL1, SECURITY1, HR1, SERVICE1, NU };
static const char *const UN[NU] = {"sales1", "steward1",  "steward2", "auditor1",
                                   "legal1", "security1", "hr1",      "service1"};
static char T[NU][64];
static char DEPT[NU][64];
static srv S;

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Sum over the days of one department's accesses (-1: the answer has no such department). */
static long long sum_of(json_t *stats, const char *dept)
{
    json_t *arr = json_object_get(json_object_get(stats, "accesses"), dept);
    if (!arr) {
        return -1;
    }
    long long n = 0;
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        n += json_integer_value(x);
    }
    return n;
}

static long long denied_of(json_t *stats)
{
    long long n = 0;
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(stats, "denied"), i, x)
    {
        n += json_integer_value(x);
    }
    return n;
}

static json_t *stats(int who, const char *q, int want)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/stats/activity%s", q);
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", path, T[who], NULL, &j), want);
    return j;
}

TEST(t_start)
{
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "31", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "30", NULL};
    EXPECT_INT(h_cli(&S, NULL, demo), 0);
    h_quiet_guard(&S);
    EXPECT(h_start(&S));
    for (int u = 0; u < NU; u++) {
        EXPECT(h_login(&S, UN[u], DEMO_PW, T[u]));
        json_t *me = NULL;
        EXPECT_INT(h_json(&S, "GET", "/v1/me", T[u], NULL, &me), 200);
        snprintf(DEPT[u], sizeof DEPT[u], "%s", jstr(me, "department"));
        json_decref(me);
    }
    EXPECT(DEPT[SALES1][0] && DEPT[STEWARD1][0]);
}

TEST(t_counts_are_exact)
{
    json_t *before = stats(AUDITOR1, "?days=7", 200);
    EXPECT_INT(json_array_size(json_object_get(before, "days")), 7);
    EXPECT_INT(json_array_size(json_object_get(before, "denied")), 7);
    EXPECT_STR(jstr(before, "zone"), "+08:00");
    long long a0 = sum_of(before, DEPT[SALES1]);
    long long d0 = denied_of(before);
    /* sales1: a listing and three reads (four accesses), and two refusals */
    json_t *list = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?limit=3", T[SALES1], NULL, &list), 200);
    size_t i;
    json_t *c;
    int reads = 0;
    json_array_foreach(json_object_get(list, "customers"), i, c)
    {
        char path[128];
        snprintf(path, sizeof path, "/v1/customers/%s", jstr(c, "id"));
        EXPECT_INT(h_json(&S, "GET", path, T[SALES1], NULL, NULL), 200);
        reads++;
        if (reads == 1) {
            snprintf(path, sizeof path, "/v1/customers/%s/communications", jstr(c, "id"));
            EXPECT_INT(h_json(&S, "GET", path, T[SALES1], NULL, NULL), 403);
            EXPECT_INT(h_json(&S, "GET", path, T[SALES1], NULL, NULL), 403);
        }
    }
    json_decref(list);
    EXPECT_INT(reads, 3);
    json_t *after = stats(AUDITOR1, "?days=7", 200);
    EXPECT_INT(sum_of(after, DEPT[SALES1]) - (a0 < 0 ? 0 : a0), 4);
    EXPECT_INT(denied_of(after) - d0, 2);
    /* the last day is today in the vault's calendar (UTC+8) */
    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    char today[16];
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    EXPECT_STR(json_string_value(json_array_get(json_object_get(after, "days"), 6)), today);
    printf("  %s: %lld -> %lld accesses, refusals %lld -> %lld; scanned %lld entries\n",
           DEPT[SALES1], a0, sum_of(after, DEPT[SALES1]), d0, denied_of(after),
           (long long)json_integer_value(json_object_get(after, "scanned")));
    json_decref(before);
    json_decref(after);
}

TEST(t_who_sees_what)
{
    /* the audit roles and security: every department */
    for (int u = AUDITOR1; u <= SECURITY1; u++) {
        json_t *j = stats(u, "", 200);
        EXPECT_INT(json_array_size(json_object_get(j, "days")), 14);
        EXPECT(sum_of(j, DEPT[SALES1]) >= 4);
        json_decref(j);
    }
    /* a data steward: their own department only, never another's */
    json_t *j = stats(STEWARD1, "?days=3", 200);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(j, "accesses"), k, v)
    {
        EXPECT_STR(k, DEPT[STEWARD1]);
    }
    json_decref(j);
    if (strcmp(DEPT[STEWARD2], DEPT[SALES1]) != 0) {
        j = stats(STEWARD2, "?days=3", 200);
        EXPECT_INT(sum_of(j, DEPT[SALES1]), -1);
        json_decref(j);
    }
    /* everyone else: refused, and the refusal is audited */
    json_decref(stats(SALES1, "", 403));
    json_decref(stats(HR1, "", 403));
    json_decref(stats(SERVICE1, "", 403));
    json_decref(stats(AUDITOR1, "?days=0", 400));
    json_decref(stats(AUDITOR1, "?days=32", 400));
    json_decref(stats(AUDITOR1, "?days=x", 400));
    json_decref(stats(AUDITOR1, "?days=", 400));
    json_t *e = NULL;
    EXPECT_INT(h_json(&S, "POST", "/v1/stats/activity", T[AUDITOR1], "{}", &e), 400);
    json_decref(e);
    EXPECT_INT(h_json(&S, "GET", "/v1/audit/entries?action=stats.activity&decision=deny",
                      T[AUDITOR1], NULL, &e),
               200);
    EXPECT(json_array_size(json_object_get(e, "entries")) >= 3);
    json_decref(e);
    EXPECT_INT(h_json(&S, "GET", "/v1/audit/entries?action=stats.activity&actor=steward1",
                      T[AUDITOR1], NULL, &e),
               200);
    EXPECT(json_array_size(json_object_get(e, "entries")) >= 1);
    json_decref(e);
}

TEST(t_violations_name_departments)
{
    /* sales1's refusals above are in the register, each row with sales1's department */
    int64_t dl = h_deadline(10000);
    bool seen = false;
    while (!seen) {
        json_t *j = NULL;
        EXPECT_INT(h_json(&S, "GET", "/v1/violations?username=sales1", T[HR1], NULL, &j), 200);
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(j, "violations"), i, x)
        {
            seen = true;
            EXPECT_STR(jstr(x, "department"), DEPT[SALES1]);
        }
        json_decref(j);
        if (!seen && !h_poll(dl)) {
            break;
        }
    }
    EXPECT(seen);
}

/* Readers of the figures and writers of the log at the same time: every answer is whole, and
 * the counts afterwards are exact (each read counted once, none lost or counted twice). */
enum { READERS = 3, WRITERS = 3, READS = 15 };
static char ids[3][64];
static int bad_status;
static pthread_mutex_t bad_mu = PTHREAD_MUTEX_INITIALIZER;

static void *writer(void *arg)
{
    long w = (long)arg;
    for (int k = 0; k < READS; k++) {
        char path[128];
        snprintf(path, sizeof path, "/v1/customers/%s", ids[(w + k) % 3]);
        int st = h_json(&S, "GET", path, T[SALES1], NULL, NULL);
        if (st != 200) {
            pthread_mutex_lock(&bad_mu);
            bad_status = st;
            pthread_mutex_unlock(&bad_mu);
        }
    }
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    for (int k = 0; k < 5; k++) {
        json_t *j = NULL;
        int st = h_json(&S, "GET", "/v1/stats/activity?days=2", T[AUDITOR1], NULL, &j);
        if (st != 200 || json_array_size(json_object_get(j, "denied")) != 2) {
            pthread_mutex_lock(&bad_mu);
            bad_status = st;
            pthread_mutex_unlock(&bad_mu);
        }
        json_decref(j);
    }
    return NULL;
}

TEST(t_concurrent_readers_and_writers)
{
    json_t *list = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?limit=3", T[SALES1], NULL, &list), 200);
    for (int i = 0; i < 3; i++) {
        snprintf(ids[i], sizeof ids[i], "%s",
                 jstr(json_array_get(json_object_get(list, "customers"), (size_t)i), "id"));
    }
    json_decref(list);
    json_t *before = stats(AUDITOR1, "?days=2", 200);
    long long a0 = sum_of(before, DEPT[SALES1]);
    pthread_t th[READERS + WRITERS];
    for (long i = 0; i < WRITERS; i++) {
        pthread_create(&th[i], NULL, writer, (void *)i);
    }
    for (long i = 0; i < READERS; i++) {
        pthread_create(&th[WRITERS + i], NULL, reader, NULL);
    }
    for (int i = 0; i < READERS + WRITERS; i++) {
        pthread_join(th[i], NULL);
    }
    EXPECT_INT(bad_status, 0);
    json_t *after = stats(AUDITOR1, "?days=2", 200);
    EXPECT_INT(sum_of(after, DEPT[SALES1]) - a0, WRITERS * READS);
    json_decref(before);
    json_decref(after);
}

int main(void)
{
    test_init();
    h_setup(&S, "watch");
    RUN(t_start);
    if (!test_failed_) {
        RUN(t_counts_are_exact);
        RUN(t_who_sees_what);
        RUN(t_violations_name_departments);
        RUN(t_concurrent_readers_and_writers);
    }
    if (S.pid) {
        EXPECT_INT(h_stop(&S), 0);
    }
    return test_done("watch_test");
}
