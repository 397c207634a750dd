/*
 * fuzz_guard_rules.c - the guard's rules parser on arbitrary bytes: never a
 * crash, never a leak, and whatever it accepts is whole and consistent (every
 * rule has a detector, a positive threshold and window, an alert or log
 * response; schedules' spans are ordered; lists are sorted).
 */
#include <stdint.h>
#include <string.h>

#include "core/mem.h"
#include "guard/guard_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        if (mem_init() != ERR_OK) {
            return 0;
        }
        inited = 1;
    }
    guard_rules *r = NULL;
    if (guard_rules_parse(slice_of(data, size), "fuzz", &r) != ERR_OK) {
        if (r != NULL) {
            __builtin_trap();
        }
        return 0;
    }
    if (guard_rules_count(r) > G_MAX_RULES) {
        __builtin_trap();
    }
    for (int i = 0; i < r->nrules; i++) {
        const grule *g = &r->rules[i];
        if (g->det >= D__COUNT || g->threshold == 0 || g->window_us <= 0 || g->name[0] == '\0' ||
            !(g->actions & (ACT_ALERT | ACT_LOG))) {
            __builtin_trap();
        }
    }
    for (int i = 0; i < r->nsched; i++) {
        for (int d = 0; d < 7; d++) {
            for (int k = 0; k < r->sched[i].nspan[d]; k++) {
                if (r->sched[i].day[d][k].from >= r->sched[i].day[d][k].to ||
                    r->sched[i].day[d][k].to > 24 * 60) {
                    __builtin_trap();
                }
            }
        }
    }
    for (size_t i = 1; i < r->nholidays; i++) {
        if (r->holidays[i - 1] > r->holidays[i]) {
            __builtin_trap();
        }
    }
    for (size_t i = 1; i < r->allow.n; i++) {
        if (r->allow.r[i - 1].hi >= r->allow.r[i].lo) {
            __builtin_trap();
        }
    }
    /* the questions detectors ask must be answerable for any accepted file */
    (void)grules_off_hours(r, "default", 1772416800LL * 1000000);
    (void)grules_is_honeytoken(r, "cus_x");
    guard_rules_free(r);
    return 0;
}
