/*
 * fault.h - named fault-injection points for the tests: a failed write, a failed
 * fsync or a failed allocation in the store or in the audit log.
 *
 * The points exist only in builds with CUSTOS_TESTING (the sanitized test build
 * and the fuzzers). Everywhere else fault_hit() is the constant false and
 * fault_init() does nothing, so the compiler removes every hook and the release
 * binary holds none of this.
 *
 * A test arms a point in its own process with fault_arm(), or arms a server it
 * starts through the environment:
 *
 *     CUSTOS_FAULTS="audit.fsync:every=40:times=5,store.write:after=100"
 *
 *   after=N  the first N hits pass (default 0)
 *   every=N  then every Nth hit fails (default 1: each one)
 *   times=N  at most N failures, then the point passes again (default 0: no limit)
 *
 * The write and fsync points sit in a SQLite VFS that wraps the default one
 * (registered by fault_init): they make real I/O on custos.db or audit.db (and
 * their WAL and rollback journals) fail with SQLITE_IOERR_WRITE or
 * SQLITE_IOERR_FSYNC, so SQLite's own error paths run. The allocation points
 * are hooks where the layer allocates while it writes. Each injected fault
 * logs one "fault.injected" line naming its point.
 */
#ifndef CUSTOS_FAULT_H
#define CUSTOS_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

typedef enum fault_point {
    FAULT_STORE_WRITE,
    FAULT_STORE_FSYNC,
    FAULT_STORE_ALLOC,
    FAULT_AUDIT_WRITE,
    FAULT_AUDIT_FSYNC,
    FAULT_AUDIT_ALLOC,
    FAULT__COUNT
} fault_point;

#ifdef CUSTOS_TESTING

/* Reads CUSTOS_FAULTS and registers the fault VFS as SQLite's default, once; call it
 * before opening a database (store and audit do). */
void fault_init(void);
/* True when the point should fail now (counts the hit). */
bool fault_hit(fault_point p);
/* Arms a point (see the header comment; every 0 means 1, times 0 means no limit). */
void fault_arm(fault_point p, uint64_t after, uint64_t every, uint64_t times);
void fault_disarm_all(void);
/* Faults injected at the point since the process started. */
uint64_t fault_injected(fault_point p);
/* "store.write", ... ; NULL for an unknown point. */
const char *fault_name(fault_point p);
/* Arms the points a CUSTOS_FAULTS text names; ERR_INPUT (nothing armed) when it is bad. */
MUST_USE err fault_arm_spec(const char *spec);

#else

static inline void fault_init(void)
{
}
static inline bool fault_hit(fault_point p)
{
    (void)p;
    return false;
}

#endif

#endif
