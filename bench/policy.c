/*
 * policy.c - the cost of an authorization decision on the installed policy,
 * against a baseline measured in the same run: a plain read of a table of
 * the same shape (role x record type x field x department), which is what a
 * decision is once the policy is compiled. Each figure runs one thread, so it
 * is decisions per second per core; the target is over 1,000,000/s. Also the
 * cost of parsing and compiling the default policy (what a reload costs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy.h"
#include "bench/bench.h"

void bench_policy(void); /* called by bench/main.c */

#define NQ 4096            /* distinct queries, cycled */
#define ROUNDS 100000000ul /* decisions per figure */

typedef struct query {
    role r;
    rectype t;
    int field;
    op o;
    capability c;
    bool same;
} query;

static query Q[NQ];
static uint8_t TABLE[ROLE__COUNT][REC__COUNT][REC_MAX_FIELDS][2];
static volatile unsigned long sink;

static void make_queries(void)
{
    uint32_t x = 12345;
    for (size_t i = 0; i < NQ; i++) {
        x = x * 1664525u + 1013904223u;
        Q[i].r = (role)((x >> 8) % ROLE__COUNT);
        Q[i].t = (rectype)((x >> 12) % REC__COUNT);
        Q[i].field = (int)((x >> 16) % model_nfields(Q[i].t));
        Q[i].o = (op)((x >> 20) % OP__COUNT);
        Q[i].c = (capability)((x >> 24) % CAP__COUNT);
        Q[i].same = (x >> 30) & 1;
    }
    for (int r = 0; r < ROLE__COUNT; r++) {
        for (int t = 0; t < REC__COUNT; t++) {
            for (int f = 0; f < REC_MAX_FIELDS; f++) {
                TABLE[r][t][f][0] = (uint8_t)((r + t + f) % 3);
                TABLE[r][t][f][1] = (uint8_t)((r * t + f) % 3);
            }
        }
    }
}

static double run(int which)
{
    unsigned long acc = 0;
    const char *rule = NULL;
    double t0 = bench_secs();
    for (unsigned long i = 0; i < ROUNDS; i++) {
        const query *q = &Q[i % NQ];
        switch (which) {
        case 0:
            acc += TABLE[q->r][q->t][q->field][q->same];
            break;
        case 1:
            acc += policy_read_in(q->r, q->t, q->field, q->same);
            break;
        case 2:
            acc += policy_write_in(q->r, q->t, q->field, q->same);
            break;
        case 3:
            acc += policy_allows_in(q->r, q->t, q->o, q->same, &rule);
            acc += (unsigned long)rule[0];
            break;
        case 4:
            acc += policy_can(q->r, q->c);
            break;
        default:
            acc += policy_read(q->r, q->t, q->field) + policy_own_department_only(q->r);
            break;
        }
    }
    double dt = bench_secs() - t0;
    sink += acc;
    return dt;
}

void bench_policy(void)
{
    bench_section("policy: authorization decisions (one thread: per core)");
    make_queries();
    (void)policy_current(); /* installs the default outside the timing */
    static const char *const NAMES[] = {
        "baseline: plain table read",
        "policy_read_in (role x rectype x field x dept)",
        "policy_write_in",
        "policy_allows_in (with the rule string)",
        "policy_can (capability)",
        "policy_read + policy_own_department_only",
    };
    double base = 0;
    for (int w = 0; w < 6; w++) {
        double dt = run(w);
        double per = ROUNDS * (w == 5 ? 2.0 : 1.0);
        bench_report(NAMES[w], per, dt);
        if (w == 0) {
            base = dt > 0 ? ROUNDS / dt : 0;
        } else {
            bench_ratio("  ratio to the plain table read", dt > 0 ? per / dt : 0, base,
                        "over 1,000,000 decisions/s");
        }
    }

    bench_section("policy: parsing and compiling the default (a reload)");
    const char *text = policy_default_text();
    size_t n = strlen(text);
    int reps = 0;
    double t0 = bench_secs(), dt;
    while ((dt = bench_secs() - t0) < 0.5) {
        policy *p = NULL;
        if (policy_parse(text, n, "policy.conf", &p) != ERR_OK) {
            printf("bench policy: parse failed: %s\n", err_message());
            exit(1);
        }
        policy_free(p);
        reps++;
    }
    size_t lines = 0;
    for (size_t i = 0; i < n; i++) {
        lines += text[i] == '\n';
    }
    char name[64];
    snprintf(name, sizeof name, "policy_parse (the default, %zu lines)", lines);
    bench_report(name, reps, dt);
}
