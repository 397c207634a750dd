/*
 * audit.c - the audit log's costs: durable appends per second with 1, 8 and 64
 * concurrent writers (group commit) against the disk's own fdatasync rate
 * measured in the same run; offline verification speed over a log of a
 * million entries; inclusion proofs from the stored tree at 10^3 and 10^6.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "bench/bench.h"

static audit *A;
static volatile int stop_flag;

typedef struct wctx {
    long n;
    char actor[16];
} wctx;

static void *writer(void *arg)
{
    wctx *w = arg;
    audit_entry e;
    memset(&e, 0, sizeof e);
    e.actor = w->actor;
    e.role = "data_steward";
    e.source = "127.0.0.1";
    e.action = "customer.read";
    e.customer = "cus_benchbenchbenchbenchbenchbe";
    e.fields = "name,id_number,birth_date,phone,email,address";
    e.decision = "allow";
    e.rule = "grant:customer-read";
    e.request_id = "req_benchbenchbe";
    e.count = -1;
    while (!stop_flag) {
        if (audit_append(A, &e, NULL) != ERR_OK) {
            break;
        }
        w->n++;
    }
    return NULL;
}

static double run_writers(int n, double secs, bool quiet)
{
    pthread_t t[64];
    wctx w[64];
    stop_flag = 0;
    double t0 = bench_secs();
    for (int i = 0; i < n; i++) {
        memset(&w[i], 0, sizeof w[i]);
        snprintf(w[i].actor, sizeof w[i].actor, "user%d", i);
        pthread_create(&t[i], NULL, writer, &w[i]);
    }
    usleep((useconds_t)(secs * 1e6));
    stop_flag = 1;
    long total = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        total += w[i].n;
    }
    double dt = bench_secs() - t0;
    if (!quiet) {
        char name[64];
        snprintf(name, sizeof name, "durable audit appends, %d writer%s", n, n > 1 ? "s" : "");
        bench_report(name, (double)total, dt);
    }
    return (double)total / dt;
}

static double fsync_rate(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/fsync-probe", dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char block[4096];
    memset(block, 'x', sizeof block);
    int n = 0;
    double t0 = bench_secs();
    while (bench_secs() - t0 < 1.0) {
        if (pwrite(fd, block, sizeof block, 0) != (ssize_t)sizeof block || fdatasync(fd) != 0) {
            break;
        }
        n++;
    }
    double dt = bench_secs() - t0;
    close(fd);
    unlink(p);
    bench_report("write 4 KiB + fdatasync (the disk's baseline)", n, dt);
    return n / dt;
}

static void proof_time(uint64_t size)
{
    uint8_t leaf[32], proof[AUDIT_MAX_PROOF][32];
    size_t len = 0;
    int rounds = 2000;
    double t0 = bench_secs();
    for (int i = 0; i < rounds; i++) {
        uint64_t idx = ((uint64_t)i * 7919u) % size;
        if (audit_inclusion(A, idx, size, leaf, proof, &len) != ERR_OK) {
            printf("  proof failed: %s\n", err_message());
            return;
        }
    }
    double dt = bench_secs() - t0;
    char name[80];
    snprintf(name, sizeof name, "inclusion proof from the stored tree at %llu entries",
             (unsigned long long)size);
    bench_report(name, rounds, dt);
    printf("  %-52s %14.2f us/proof, %zu hashes\n", "  (mean)", dt / rounds * 1e6, len);
}

void bench_audit(void)
{
    bench_section("audit log");
    const char *base = getenv("TMPDIR");
    char dir[PATH_MAX], path[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/custos-bench-audit-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        return;
    }
    snprintf(path, sizeof path, "%s/audit.db", dir);
    if (audit_create(path) != ERR_OK || audit_open(path, &A) != ERR_OK) {
        printf("  cannot create the log: %s\n", err_message());
        return;
    }
    double fs = fsync_rate(dir);
    double r1 = run_writers(1, 2.0, false);
    double r8 = run_writers(8, 2.0, false);
    double r64 = run_writers(64, 3.0, false);
    bench_ratio("1 writer / fdatasync rate", r1, fs, NULL);
    bench_ratio("64 writers / 1 writer (group commit)", r64, r1, NULL);
    (void)r8;
    printf("  %-52s %14s\n", "  target", ">= 100,000 entries/s at 64 writers");
    uint64_t n = 0;
    IGNORE(audit_size(A, &n));
    /* grow the log to a million entries for the verification and proof figures */
    while (n < 1000000) {
        run_writers(64, 2.0, true);
        IGNORE(audit_size(A, &n));
    }
    proof_time(1000);
    proof_time(1000000);
    audit_close(A);
    A = NULL;
    audit_verify_report r;
    uint8_t pk[32] = {0};
    double t0 = bench_secs();
    err e = audit_verify_file(path, "bench", pk, NULL, 0, &r);
    double dt = bench_secs() - t0;
    if (e != ERR_OK) {
        printf("  verification failed: %s\n", r.problem);
    }
    bench_report("offline verification (read, rehash, rebuild tree)", (double)r.entries, dt);
    printf("  %-52s %14s\n", "  target", ">= 1,000,000 entries/s");
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        printf("  could not remove %s\n", dir);
    }
}
