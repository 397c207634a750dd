/*
 * sqlite_int.h - what the SQLite store's files share; not for callers of store.h.
 *
 * sqlite.c owns connections, transactions and the statements of the customer path and
 * fills the backend's table (store_backend.h); the other
 * files (sqlite_access.c: recovery codes, API keys, requests, break-glass) keep
 * their SQL beside their code and prepare it through sq_stmt() into a per-thread
 * slot, so every statement is still parsed once per connection.
 */
#ifndef CUSTOS_SQLITE_INT_H
#define CUSTOS_SQLITE_INT_H

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_backend.h"
#include "store/store_backup.h"

#define SQ_EXT_MAX 64
/* Ids per statement of a batch read (*_many): one statement with this many parameters. */
#define SQ_MANY 32
/* "?1,...,?32": the parameters of a batch read's IN list (SQ_MANY of them). */
#define SQ_IN_LIST                                                                                 \
    "?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?" \
    "26,?27,?28,?29,?30,?31,?32"
/* Slots taken from the top, apart from sqlite_access.c's (which count up from 0). */
#define SQ_SLOT_SESSION_PURGE (SQ_EXT_MAX - 1)

/* Every database of the vault keeps its WAL near this size: a checkpoint once the WAL holds
 * 1,000 pages (SQLite's default, 4 MiB at 4 KiB pages) and the file cut back to this size
 * when the checkpoint restarts it (docs/OPERATIONS.md, "Disk headroom"). */
#define SQ_WAL_PRAGMAS "PRAGMA wal_autocheckpoint=1000; PRAGMA journal_size_limit=4194304;"

/* This thread's prepared statement in slot (the same sql every time), reset and unbound. */
MUST_USE err sq_stmt(store *s, int slot, const char *sql, sqlite3_stmt **out);
/* Steps a statement that returns no rows (or ignores them), then resets it. */
MUST_USE err sq_done(store *s, sqlite3_stmt *st, const char *what);
/* The connection's error as an err (constraint -> ERR_CONFLICT). */
MUST_USE err sq_error(store *s, const char *what);
/* The connection operations on handle s run on (sqlite_backup.c's snapshot). */
MUST_USE err sq_conn(store *s, sqlite3 **db);
/* Runs sql (no rows) on db. */
MUST_USE err sq_exec(sqlite3 *db, const char *sql);
/* Rows changed by the last statement of this thread's connection. */
int sq_changes(store *s);
void sq_text(sqlite3_stmt *st, int i, const char *v);
void sq_blob(sqlite3_stmt *st, int i, const buf *b);
void sq_col_text(sqlite3_stmt *st, int i, char *out, size_t max);
MUST_USE err sq_col_buf(sqlite3_stmt *st, int i, buf *b);
/* DDL of sqlite_access.c's tables added after schema version 2 (idempotent). */
extern const char SQ_ACCESS_SCHEMA[];

/* The SQLite backend's operations (sqlite.c, sqlite_access.c), one per STORE_OPS entry. */
#define SQ_OP_DECL(name, params, args) err sqlite_##name params;
STORE_OPS(SQ_OP_DECL)
#undef SQ_OP_DECL

#endif
