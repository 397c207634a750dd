/*
 * load.h - a concurrent write load against a running server and the ledger of
 * everything it acknowledged, for the tests that break the server on purpose
 * (crash_test: SIGKILL; diskfull_test: a full disk; faultinj_test: failed
 * writes, fsyncs and allocations inside the store and the audit log).
 *
 * Writers (threads, one keep-alive HTTPS connection each, as steward1) create
 * customers, update them (phone, email and notes together, so a half-applied
 * update shows), add transactions and communications, rotate their data keys
 * and import small CSV files. Each writer owns the customers it creates: only
 * it updates or rotates them, so the load does not depend on how concurrent
 * updates of one customer are merged. A few shared customers get transactions
 * and communications from every writer while a rotator thread rotates their
 * keys (the rotate-versus-record-write race).
 *
 * The ledger keeps, per customer, the last acknowledged value, the values of
 * updates that were sent but not acknowledged (either may be what a crash left),
 * every acknowledged record, and the request id and action of every
 * acknowledged write. load_verify() reads everything back through the API
 * (decrypted), checks each acknowledged write and its audit entry (the subject
 * report, as auditor1), and adopts what it found for unacknowledged writes.
 */
#ifndef CUSTOS_LOAD_H
#define CUSTOS_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "harness.h"

typedef struct load load;

typedef struct load_opts {
    int writers;            /* writer threads */
    bool rotator;           /* a thread rotating the shared customers' keys */
    bool stop_on_transport; /* a writer stops at its first transport failure (a dead server) */
    /* Failure statuses that are expected (a refused write, not a defect): 503 always when
     * true; 500 too when allow_500 (a failed allocation is an internal error). */
    bool allow_503, allow_500;
    /* The rotate-versus-record-write race: a shared customer whose records became
     * unreadable is counted apart instead of failing (see crash_test.c). */
    bool tolerate_rotate_record_race;
    unsigned seed;
} load_opts;

typedef struct load_counts {
    uint64_t acked;           /* writes acknowledged (2xx) */
    uint64_t refused;         /* 503 (or 500 when allowed) */
    uint64_t transport;       /* no answer */
    uint64_t unexpected;      /* any other status: a defect */
    uint64_t checked;         /* acknowledged writes checked by load_verify (data and audit) */
    uint64_t audit_checked;   /* audit entries found */
    uint64_t lost;            /* acknowledged writes (or audit entries) not found */
    uint64_t half;            /* updates found half applied, imports found partly written */
    uint64_t race_casualties; /* shared customers made unreadable by the known race */
    uint64_t customers;       /* customers in the ledger */
} load_counts;

load *load_new(srv *s, const load_opts *o);
void load_free(load *L);
/* Logs steward1 and auditor1 in (again) and creates the shared customers the first time. */
bool load_login(load *L);
/* Starts the writers (and the rotator). */
void load_start(load *L);
/* Waits until this run acknowledged n more writes; false after timeout_s seconds or when
 * every writer stopped. */
bool load_wait_acks(load *L, uint64_t n, int timeout_s);
/* Stops and joins the threads. */
void load_stop(load *L);
/* Reads back the customers touched since the last call (or all of them) and checks every
 * acknowledged write and its audit entry; false when something was lost or half-written. */
bool load_verify(load *L, bool all);
load_counts load_get_counts(load *L);
/* The options, to change between runs (not while one runs). */
load_opts *load_options(load *L);
/* A signed checkpoint of the audit log (as auditor1) written to a file in the work folder;
 * the path goes to out. */
bool load_save_checkpoint(load *L, char *out, size_t max);

#endif
