/*
 * main.c - `make bench`: every area's figures in one run. Ratios compare with a
 * baseline measured in the same run, on the same machine, never across runs.
 * Set BENCH_ONLY=crypto,model,vault,merkle,audit,http,policy to run some areas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "core/mem.h"

void bench_policy(void); /* bench/policy.c */

static int wanted(const char *area)
{
    const char *only = getenv("BENCH_ONLY");
    return !only || strstr(only, area) != NULL;
}

int main(void)
{
    if (mem_init() != ERR_OK) {
        return 1;
    }
    printf("custos benchmarks (figures are this machine's, this run's)\n");
    if (wanted("crypto")) {
        bench_crypto();
    }
    if (wanted("model")) {
        bench_model();
    }
    if (wanted("vault")) {
        bench_vault();
    }
    if (wanted("merkle")) {
        bench_merkle();
    }
    if (wanted("audit")) {
        bench_audit();
    }
    if (wanted("http")) {
        bench_http();
    }
    if (wanted("policy")) {
        bench_policy();
    }
    if (wanted("guard")) {
        bench_guard();
    }
    return 0;
}
