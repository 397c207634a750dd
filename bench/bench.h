/*
 * bench.h - shared helpers for `make bench`. Each area file defines
 * `void bench_<area>(void)` and prints figures with bench_report(); ratios are
 * always against a baseline measured in the same run (bench_ratio()).
 */
#ifndef CUSTOS_BENCH_H
#define CUSTOS_BENCH_H

#include <stdint.h>
#include <stdio.h>

#include "core/clock.h"

static inline double bench_secs(void)
{
    return (double)clock_mono_us() / 1e6;
}
/* "  name ................ 123456.7 ops/s (n ops in s)" */
static inline void bench_report(const char *name, double ops, double secs)
{
    printf("  %-52s %14.1f ops/s  (%.0f in %.3f s)\n", name, secs > 0 ? ops / secs : 0.0, ops,
           secs);
    fflush(stdout);
}
static inline void bench_ratio(const char *name, double value, double baseline, const char *target)
{
    printf("  %-52s %14.3f x baseline%s%s\n", name, baseline > 0 ? value / baseline : 0.0,
           target ? "  target: " : "", target ? target : "");
    fflush(stdout);
}
static inline void bench_section(const char *title)
{
    printf("\n== %s\n", title);
    fflush(stdout);
}

void bench_crypto(void);
void bench_model(void);
void bench_vault(void);
void bench_http(void);
void bench_audit(void);
void bench_merkle(void);
void bench_guard(void);

#endif
