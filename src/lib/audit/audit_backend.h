/*
 * audit_backend.h - where the audit log keeps its entries, tree hashes and
 * checkpoints: an operations table, so that the Merkle logic, the writer and
 * the checkpoint code know no storage language. SQLite (audit_sqlite.c) and
 * PostgreSQL (audit_pg.c) implement it; audit_backend_for picks one by location.
 *
 * A backend handle is one connection, used by one thread at a time. The writer
 * holds a handle opened for writing and wraps each batch in begin/commit (one
 * durable commit); readers hold their own. Indexes a backend keeps for queries
 * (by actor, by customer, by time) are its own business: append maintains them
 * in the same transaction, search uses them.
 */
#ifndef CUSTOS_AUDIT_BACKEND_H
#define CUSTOS_AUDIT_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "core/buf.h"
#include "core/err.h"

typedef struct audit_backend audit_backend;

/* One entry as stored: its index, canonical bytes and leaf hash, and the columns queries need
 * (borrowed for the duration of the call). */
typedef struct audit_row {
    uint64_t index;
    int64_t ts_us;
    const char *actor, *action, *customer, *customers, *decision;
    slice entry;
    uint8_t leaf[32];
} audit_row;

/* A stored checkpoint: size, root and the signed note (borrowed during the call). */
typedef err (*audit_cp_fn)(void *ctx, uint64_t size, const uint8_t root[32], slice note);

enum { AUDIT_BE_READ = 0, AUDIT_BE_WRITE = 1 };
enum { AUDIT_WAL_PASSIVE = 0, AUDIT_WAL_FULL = 1, AUDIT_WAL_TRUNCATE = 2 };

typedef struct audit_backend_ops {
    const char *name;
    /* A new, empty log at path (ERR_CONFLICT when it exists; the file is private). */
    MUST_USE err (*create)(const char *path);
    /* AUDIT_BE_WRITE brings the schema up to date and may write; AUDIT_BE_READ never writes.
     * ERR_IO when the file cannot be opened or is not an audit log. */
    MUST_USE err (*open)(const char *path, int mode, audit_backend **out);
    void (*close)(audit_backend *b);
    /* The write lock, held until commit or rollback; commit makes everything since begin
     * durable at once (one fsync); rollback undoes it all. */
    MUST_USE err (*begin)(audit_backend *b);
    MUST_USE err (*commit)(audit_backend *b);
    void (*rollback)(audit_backend *b);
    /* Number of entries stored (the next index); under the write lock when one is held. */
    MUST_USE err (*tree_size)(audit_backend *b, uint64_t *n);
    /* Entries with consecutive indexes starting at tree_size, inside begin/commit. */
    MUST_USE err (*append)(audit_backend *b, const audit_row *rows, size_t n);
    /* The Merkle tree's complete subtrees, (level, index) as in merkle.h; level 0 are the
     * leaves append stored. put_node may keep only some levels: subtree answers for every
     * complete subtree within tree_size whatever it kept (ERR_CRYPTO when one is missing). */
    MUST_USE err (*put_node)(audit_backend *b, unsigned level, uint64_t index, const uint8_t h[32]);
    MUST_USE err (*subtree)(audit_backend *b, unsigned level, uint64_t index, uint8_t out[32]);
    /* At most max entries (UINT64_MAX: all) from index `from` on, in index order, as stored:
     * gaps and damaged rows are handed on, for the verifier to judge (a leaf that is not 32
     * bytes arrives as zeros). An error of fn stops the read and is returned. */
    MUST_USE err (*read_range)(audit_backend *b, uint64_t from, uint64_t max, audit_row_fn fn,
                               void *ctx);
    /* Signed checkpoints: store one (ignored when that size has one), the latest (size 0 and
     * nothing else set when there is none), all in size order. */
    MUST_USE err (*put_checkpoint)(audit_backend *b, uint64_t size, const uint8_t root[32],
                                   slice note, int64_t at_us);
    MUST_USE err (*last_checkpoint)(audit_backend *b, uint64_t *size, uint8_t root[32], buf *note);
    MUST_USE err (*checkpoints)(audit_backend *b, audit_cp_fn fn, void *ctx);
    /* Entries matching every criterion of q, in index order, at most limit of them. */
    MUST_USE err (*search)(audit_backend *b, const audit_query *q, size_t limit, audit_row_fn fn,
                           void *ctx, size_t *n);
    /* Moves what the write-ahead log holds into the main file, outside a transaction:
     * AUDIT_WAL_PASSIVE as far as it can without waiting for anyone, AUDIT_WAL_FULL all of it
     * (waiting for other checkpoints and readers), AUDIT_WAL_TRUNCATE all of it and empties the
     * file. wal_pages is the write-ahead log's length after this handle's last commit. A
     * backend without a write-ahead log returns ERR_OK and 0. */
    MUST_USE err (*checkpoint_wal)(audit_backend *b, int mode);
    int (*wal_pages)(audit_backend *b);
    /* Whether the write lock of the log at path can be taken within wait_ms (readiness). */
    MUST_USE err (*probe_writable)(const char *path, int wait_ms);
    /* The backend's last error in words, for logs (no entry content). */
    const char *(*errmsg)(audit_backend *b);
} audit_backend_ops;

extern const audit_backend_ops audit_sqlite_ops;
/* PostgreSQL (audit_pg.c): a log at a "postgres://..." location (docs/POSTGRES.md). */
extern const audit_backend_ops audit_pg_ops;
/* The backend of a log's location: PostgreSQL for "postgres://...", SQLite for a path. */
const audit_backend_ops *audit_backend_for(const char *path);
/* The default backend (a file path: SQLite). */
#define AUDIT_BACKEND (&audit_sqlite_ops)

#endif
