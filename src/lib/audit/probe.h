/*
 * probe.h - can the audit log be written right now? A readiness check that
 * writes nothing: it takes the database's write lock and gives it back.
 */
#ifndef CUSTOS_AUDIT_PROBE_H
#define CUSTOS_AUDIT_PROBE_H

#include "core/err.h"

/* Opens path on a connection of its own and takes the write lock (BEGIN IMMEDIATE, then
 * ROLLBACK), waiting at most wait_ms for other writers. ERR_OK when it could;
 * ERR_UNAVAILABLE when the lock is held elsewhere or the file cannot be written. */
MUST_USE err audit_probe_writable(const char *path, int wait_ms);

#endif
