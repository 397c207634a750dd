/*
 * probe.c - the audit log's writability, for readiness (probe.h). The probe
 * holds the write lock for microseconds, so it costs the log's own writer at
 * most one short wait; the server runs it about once a second, never per
 * request.
 */
#include "audit/probe.h"

#include "audit/audit_backend.h"

err audit_probe_writable(const char *path, int wait_ms)
{
    return audit_backend_for(path)->probe_writable(path, wait_ms);
}
