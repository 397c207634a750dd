/*
 * pg_int.h - what the PostgreSQL store's files share; not for callers of store.h.
 *
 * pg.c owns connections (one per thread, like SQLite's), transactions, the schema and its
 * migrations, the customer path and the table of operations; pg_access.c the identity and
 * access tables. Every statement is prepared once per connection (a slot of PQ_SLOTS) and run
 * with its parameters apart from its text (no value is ever spliced into SQL); results come
 * back in binary form: bytea as bytes, every integer column is int8.
 */
#ifndef CUSTOS_PG_INT_H
#define CUSTOS_PG_INT_H

#include <libpq-fe.h>

#include "store/store.h"
#include "store/store_backend.h"

/* Statement slots: pg.c counts from 0, pg_access.c from PQ_SLOT_ACCESS. */
#define PQ_SLOTS 128
#define PQ_SLOT_ACCESS 64
#define PQ_ARGS_MAX 64

/* The parameters of one statement: text (NULL: SQL NULL), integers as text, bytes binary. */
typedef struct pq_args {
    int n;
    const char *v[PQ_ARGS_MAX];
    int len[PQ_ARGS_MAX];
    int fmt[PQ_ARGS_MAX];
    char num[PQ_ARGS_MAX][24];
} pq_args;

void pa_text(pq_args *a, const char *s);
void pa_i64(pq_args *a, int64_t v);
/* Bytes; n == 0 is SQL NULL (an absent envelope, as on SQLite). */
void pa_bytes(pq_args *a, const void *p, size_t n);
/* Texts as one text[] parameter (for "= ANY($k)"); strings are quoted inside the literal. */
MUST_USE err pa_text_array(pq_args *a, buf *lit, const char *const *v, size_t n, size_t stride);

/* Runs the statement of slot (sql, the same every time) on the connection of handle s; *out
 * holds the rows (the caller PQclear()s it). A write inside a transaction is fenced by a
 * savepoint, so that a failed statement (a duplicate, a refused key) leaves the transaction
 * usable, as a failed statement does on SQLite. */
MUST_USE err pq_query(store *s, int slot, const char *sql, const pq_args *a, PGresult **out);
/* A statement whose rows are not needed; *changed (may be NULL) receives the rows it changed. */
MUST_USE err pq_write(store *s, int slot, const char *sql, const pq_args *a, int64_t *changed);

/* Column readers of a binary result (NULL reads as 0 / "" / empty). */
int64_t pq_i64(const PGresult *r, int row, int col);
bool pq_null(const PGresult *r, int row, int col);
void pq_text(const PGresult *r, int row, int col, char *out, size_t max);
MUST_USE err pq_buf(const PGresult *r, int row, int col, buf *b);

/* Runs sql (no parameters, several statements allowed) on this thread's connection: the
 * migrations and the tests' changes of schema. */
MUST_USE err pg_store_exec(store *s, const char *sql);

/* The PostgreSQL backend's operations, one per STORE_OPS_CORE entry (the other groups are
 * not held yet: pg.c answers them with ERR_UNAVAILABLE). */
#define PG_OP_DECL(name, params, args) err pg_##name params;
STORE_OPS_CORE(PG_OP_DECL)
#undef PG_OP_DECL

#endif
