/*
 * probe.c - the audit log's writability, for readiness (probe.h). The probe
 * holds the write lock for microseconds, so it costs the log's own writer at
 * most one short wait; the server runs it about once a second, never per
 * request.
 */
#include "audit/probe.h"

#include <sqlite3.h>

err audit_probe_writable(const char *path, int wait_ms)
{
    sqlite3 *db = NULL;
    err rc = ERR_OK;
    int r = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    CHECK(r == SQLITE_OK, ERR_UNAVAILABLE, "the audit log cannot be opened for writing");
    sqlite3_busy_timeout(db, wait_ms);
    r = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    CHECK(r == SQLITE_OK, ERR_UNAVAILABLE, "the audit log's write lock is held elsewhere");
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    sqlite3_close(db);
    return rc;
}
