/*
 * guard.c - what the guard costs the request path: ns per admission call
 * (normal address with a token bucket, blocked address, allow-listed address,
 * account bucket, connection open+close) and per observed event, against two
 * baselines measured in the same run: an empty (not inlined) function call and
 * an uncontended mutex lock+unlock. Also admissions per second from 8 threads
 * at once, and how fast the guard thread digests events with the shipped rules.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "guard/guard.h"

#define N 2000000

static void die(const char *what)
{
    printf("bench guard: %s failed: %s\n", what, err_message());
    exit(1);
}

__attribute__((noinline)) static int empty_call(int x)
{
    __asm__ volatile("" ::: "memory");
    return x + 1;
}

static double ns_per(double secs, double n)
{
    return secs * 1e9 / n;
}

static guard *open_rules(const char *text)
{
    guard_rules *r = NULL;
    if (guard_rules_parse(slice_cstr(text), "bench.rules", &r) != ERR_OK) {
        die("rules");
    }
    guard_options o;
    memset(&o, 0, sizeof o);
    o.offline = true;
    guard *g = NULL;
    if (guard_open(r, &o, &g) != ERR_OK) {
        die("open");
    }
    return g;
}

static guard_addr *addresses(size_t n)
{
    guard_addr *a = calloc(n, sizeof *a);
    for (size_t i = 0; i < n; i++) {
        char t[32];
        snprintf(t, sizeof t, "10.%zu.%zu.%zu", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        if (guard_addr_parse(t, &a[i]) != ERR_OK) {
            die("address");
        }
    }
    return a;
}

typedef struct par {
    guard *g;
    const guard_addr *a;
    long n;
    int id;
} par;

static void *admit_thread(void *arg)
{
    par *p = arg;
    int64_t now = clock_now_us();
    for (long i = 0; i < p->n; i++) {
        (void)guard_admit(p->g, &p->a[(p->id * 512 + (i & 511)) & 4095], now + i, NULL);
    }
    return NULL;
}

void bench_guard(void)
{
    bench_section("guard (admission on the request path, events to the detectors)");
    /* baselines */
    volatile int sink = 0;
    double t0 = bench_secs();
    for (int i = 0; i < N; i++) {
        sink = empty_call(sink);
    }
    double call_ns = ns_per(bench_secs() - t0, N);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    t0 = bench_secs();
    for (int i = 0; i < N; i++) {
        pthread_mutex_lock(&mu);
        sink = sink + 1;
        pthread_mutex_unlock(&mu);
    }
    double mutex_ns = ns_per(bench_secs() - t0, N);
    printf("  %-52s %14.1f ns\n", "baseline: empty function call", call_ns);
    printf("  %-52s %14.1f ns\n", "baseline: mutex lock + unlock (uncontended)", mutex_ns);

    guard *g = open_rules("limit address 1000000/s burst 1000000\n"
                          "limit account 1000000/s burst 1000000\n"
                          "limit connections 1000000\n"
                          "allow 192.168.0.0/16\n");
    guard_addr *a = addresses(4096);
    guard_addr blocked, listed;
    if (guard_addr_parse("10.99.99.99", &blocked) != ERR_OK ||
        guard_addr_parse("192.168.1.1", &listed) != ERR_OK) {
        die("address");
    }
    if (guard_block(g, "10.99.99.99", 3600, "bench", "bench") != ERR_OK) {
        die("block");
    }
    int64_t now = clock_now_us();
    long admitted = 0;
    t0 = bench_secs();
    for (int i = 0; i < N; i++) {
        admitted += guard_admit(g, &a[i & 4095], now + i, NULL) == GUARD_ADMIT;
    }
    double dt_normal = bench_secs() - t0;
    double admit_ns = ns_per(dt_normal, N);
    t0 = bench_secs();
    long refused = 0;
    for (int i = 0; i < N; i++) {
        refused += guard_admit(g, &blocked, now + i, NULL) == GUARD_BLOCK;
    }
    double dt_blocked = bench_secs() - t0;
    t0 = bench_secs();
    for (int i = 0; i < N; i++) {
        admitted += guard_admit(g, &listed, now + i, NULL) == GUARD_ADMIT;
    }
    double listed_ns = ns_per(bench_secs() - t0, N);
    t0 = bench_secs();
    static const char *users[] = {"sales1",   "sales2",    "service1", "steward1",
                                  "steward2", "security1", "hr1",      "auditor1"};
    for (int i = 0; i < N; i++) {
        admitted += guard_admit_account(g, users[i & 7], now + i, NULL) == GUARD_ADMIT;
    }
    double account_ns = ns_per(bench_secs() - t0, N);
    t0 = bench_secs();
    for (int i = 0; i < N; i++) {
        if (guard_conn_open(g, &a[i & 4095], now + i, NULL) == GUARD_ADMIT) {
            guard_conn_close(g, &a[i & 4095]);
        }
    }
    double conn_ns = ns_per(bench_secs() - t0, N);
    if (admitted < 3L * N || refused != N) {
        printf("  (unexpected verdicts: %ld admitted, %ld refused)\n", admitted, refused);
    }
    printf("  %-52s %14.1f ns\n", "guard_admit, address with a token bucket", admit_ns);
    printf("  %-52s %14.1f ns\n", "guard_admit, blocked address", ns_per(dt_blocked, N));
    printf("  %-52s %14.1f ns\n", "guard_admit, allow-listed address", listed_ns);
    printf("  %-52s %14.1f ns\n", "guard_admit_account, token bucket", account_ns);
    printf("  %-52s %14.1f ns\n", "guard_conn_open + guard_conn_close", conn_ns);
    bench_ratio("guard_admit / empty call", admit_ns, call_ns, NULL);
    bench_ratio("guard_admit / mutex lock+unlock", admit_ns, mutex_ns, "< 10");
    bench_report("admissions, normal address", N, dt_normal);
    bench_report("admissions, blocked address", N, dt_blocked);
    bench_ratio("blocked / normal (admissions per second)", dt_normal, dt_blocked, ">= 1");

    /* 8 threads, each its own addresses */
    pthread_t t[8];
    par p[8];
    long per = N / 4;
    t0 = bench_secs();
    for (int i = 0; i < 8; i++) {
        p[i] = (par){g, a, per, i};
        pthread_create(&t[i], NULL, admit_thread, &p[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
    }
    double dt8 = bench_secs() - t0;
    bench_report("admissions, 8 threads at once", (double)per * 8, dt8);
    bench_ratio("8 threads / 1 thread (admissions per second)", (double)per * 8 / dt8,
                N / dt_normal, NULL);
    guard_close(g);

    /* observe: the request thread's cost, then the guard thread's pace (shipped rules) */
    guard_rules *r = NULL;
    if (guard_rules_load("etc/guard.rules", &r) != ERR_OK) {
        die("etc/guard.rules");
    }
    guard_options o;
    memset(&o, 0, sizeof o);
    o.offline = true;
    if (guard_open(r, &o, &g) != ERR_OK) {
        die("open");
    }
    const int E = 200000;
    static const char *srcs[] = {"10.20.1.11", "10.20.1.12", "10.30.1.13", "2001:db8:1::14"};
    static char names[1000][16];
    for (int i = 0; i < 1000; i++) {
        snprintf(names[i], sizeof names[i], "user%d", i);
    }
    /* a Monday morning in Beijing, 1,000 staff reading at a normal pace: nothing fires */
    now = 1772416800LL * 1000000;
    double observe_secs = 0;
    int sent = 0;
    double p0 = bench_secs();
    while (sent < E) {
        /* bursts of 4,000 (half the queue): the cost per call, never a full queue */
        int burst = E - sent < 4000 ? E - sent : 4000;
        t0 = bench_secs();
        for (int i = 0; i < burst; i++, sent++) {
            guard_event e;
            memset(&e, 0, sizeof e);
            e.kind = (sent & 3) == 0 ? GUARD_EV_REQUEST : GUARD_EV_CUSTOMER_READ;
            e.time_us = now + sent * 10000LL;
            e.username = names[sent % 1000];
            e.role = "sales";
            e.department = "beijing";
            e.source = srcs[(sent / 1000) & 3];
            e.audit_index = sent;
            e.route_known = true;
            e.status = 200;
            e.customer = "cus_benchbenchbenchbenchbenchbe";
            e.customers = 1;
            e.bytes = 2000;
            guard_observe(g, &e);
        }
        observe_secs += bench_secs() - t0;
        guard_sync(g);
    }
    double digest = bench_secs() - p0;
    double observe_ns = ns_per(observe_secs, E);
    printf("  %-52s %14.1f ns\n", "guard_observe (copy into the queue)", observe_ns);
    bench_ratio("guard_observe / empty call", observe_ns, call_ns, NULL);
    bench_ratio("guard_observe / mutex lock+unlock", observe_ns, mutex_ns, "< 10");
    printf("  %-52s %14.1f ns\n", "per request: admit + admit_account + observe",
           admit_ns + account_ns + observe_ns);
    bench_report("events through the detectors, nothing found", E, digest);
    /* the same with guard.db on disk (WAL, synchronous=FULL) */
    char dir[] = "/tmp/custos-bench-guard-XXXXXX", db[64];
    if (!mkdtemp(dir)) {
        die("mkdtemp");
    }
    snprintf(db, sizeof db, "%s/guard.db", dir);
    guard_rules *r2 = NULL;
    if (guard_rules_load("etc/guard.rules", &r2) != ERR_OK) {
        die("etc/guard.rules");
    }
    guard_options o2;
    memset(&o2, 0, sizeof o2);
    o2.db_path = db;
    guard *g2 = NULL;
    if (guard_open(r2, &o2, &g2) != ERR_OK) {
        die("open on disk");
    }
    p0 = bench_secs();
    for (int i = 0; i < E; i++) {
        guard_event e;
        memset(&e, 0, sizeof e);
        e.kind = (i & 3) == 0 ? GUARD_EV_REQUEST : GUARD_EV_CUSTOMER_READ;
        e.time_us = now + i * 10000LL;
        e.username = names[i % 1000];
        e.role = "sales";
        e.department = "beijing";
        e.source = srcs[(i / 1000) & 3];
        e.audit_index = i;
        e.route_known = true;
        e.customers = 1;
        e.bytes = 2000;
        guard_observe(g2, &e);
        if ((i & 2047) == 2047) {
            guard_sync(g2);
        }
    }
    guard_sync(g2);
    bench_report("events through the detectors, guard.db on disk", E, bench_secs() - p0);
    guard_close(g2);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char f[96];
        snprintf(f, sizeof f, "%s%s", db, suffix[i]);
        unlink(f);
    }
    rmdir(dir);
    /* the same, every event a finding (an alert updated in guard.db each time) */
    const int F = 20000;
    p0 = bench_secs();
    for (int i = 0; i < F; i++) {
        guard_event e;
        memset(&e, 0, sizeof e);
        e.kind = GUARD_EV_CUSTOMER_READ;
        e.time_us = now + 3 * 3600 * 1000000LL + i * 1000LL;
        e.username = "bulk1";
        e.role = "sales";
        e.department = "beijing";
        e.source = "10.20.9.9";
        e.audit_index = i;
        e.customers = 300; /* bulk-read's threshold: every event fires */
        e.honeytoken = false;
        guard_observe(g, &e);
        if ((i & 2047) == 2047) {
            guard_sync(g);
        }
    }
    guard_sync(g);
    bench_report("events through the detectors, each a finding", F, bench_secs() - p0);
    buf m;
    buf_init(&m, 0);
    if (guard_metrics(g, &m) == ERR_OK) {
        const char *d = strstr(buf_cstr(&m), "\ncustos_guard_events_dropped_total ");
        if (d) {
            printf("  %-52s %14llu\n", "events dropped",
                   strtoull(d + strlen("\ncustos_guard_events_dropped_total "), NULL, 10));
        }
    }
    buf_free(&m);
    guard_close(g);
    free(a);
}
