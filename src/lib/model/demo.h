/*
 * demo.h - realistic synthetic customers, transactions and communications for the
 * demo vault, benchmarks, tests and honeytokens.
 *
 * Everything is drawn from a small deterministic generator, so one seed always gives
 * the same data (on every platform: integer arithmetic only), and every value goes
 * through record_set, so generated records pass the same validation as real input.
 * The people are invented: names, ID numbers (with a real district code and a correct
 * check digit), phones and addresses are plausible, not real.
 */
#ifndef CUSTOS_DEMO_H
#define CUSTOS_DEMO_H

#include <stdint.h>

#include "core/err.h"
#include "model/model.h"

/* xoshiro256** seeded from a u64 via splitmix64: deterministic demo data for a seed. */
typedef struct demo_rng {
    uint64_t s[4];
} demo_rng;

void demo_rng_seed(demo_rng *r, uint64_t seed);
uint64_t demo_rng_next(demo_rng *r);
/* Uniform in [0, n) without modulo bias; 0 when n is 0. */
uint32_t demo_rng_below(demo_rng *r, uint32_t n);

/* Fills rec (already record_init'ed as REC_CUSTOMER) with a plausible customer of
 * `department` ("beijing" or "shanghai"; addresses in that city mostly; any other
 * department token gets customers of either city), assigned salesperson `salesperson`.
 * Errors: ERR_INPUT when department or salesperson is not a valid token, ERR_INTERNAL for
 * a record of the wrong type. On failure rec may hold some fields: record_free it as usual. */
MUST_USE err demo_customer(demo_rng *r, const char *department, const char *salesperson,
                           record *rec);
/* Fills rec (REC_TRANSACTION): a purchase between 2015 and 2026 whose era, category,
 * description and price agree with one another. */
MUST_USE err demo_transaction(demo_rng *r, record *rec);
/* Fills rec (REC_COMMUNICATION): a contact between 2020 and 2026 logged by `employee`. */
MUST_USE err demo_communication(demo_rng *r, const char *employee, record *rec);
/* A honeytoken: a realistic customer that no real job would open (same shape as
 * demo_customer, and the same arguments). It is made a little more tempting than most
 * (a high VIP level, a note about a wealthy collector), and nothing in its fields tells
 * it apart: the store's honeytoken flag is the only mark. */
MUST_USE err demo_honeytoken(demo_rng *r, const char *department, const char *salesperson,
                             record *rec);

#endif
