/*
 * store.c - the store interface: picks the backend from the location and sends every
 * operation through the backend's table (store_backend.h). Holds no state of its own.
 */
#include <string.h>

#include "core/dbloc.h"
#include "store/store.h"
#include "store/store_backend.h"
#include "store/store_backup.h"

err store_open(const char *location, bool create, store **out)
{
    ENSURE(location != NULL && location[0] != '\0', ERR_INPUT, "store: no location given");
    if (dbloc_is_postgres(location)) {
        return pg_store_open(location, create, out);
    }
    return sqlite_store_open(location, create, out);
}

void store_close(store *s)
{
    if (s) {
        s->ops->close(s);
    }
}

err store_begin(store *s, store_tx **tx)
{
    ENSURE(s != NULL && tx != NULL, ERR_INTERNAL, "store: begin without a store or a handle");
    ENSURE(*tx == NULL, ERR_INTERNAL, "store: begin into a handle that holds a transaction");
    ENSURE(s->tx == NULL, ERR_INTERNAL,
           "store: transactions do not nest (begin on a transaction's view)");
    return s->ops->begin(s, tx);
}

err store_commit(store_tx **tx)
{
    ENSURE(tx != NULL && *tx != NULL, ERR_INTERNAL,
           "store: no transaction to commit (it was committed or rolled back already)");
    store_tx *t = *tx;
    *tx = NULL;
    return t->view.ops->commit(t);
}

void store_rollback(store_tx **tx)
{
    if (tx && *tx) {
        store_tx *t = *tx;
        *tx = NULL;
        t->view.ops->rollback(t);
    }
}

store *store_tx_store(store_tx *tx)
{
    return &tx->view;
}

/* ---- store_backup.h ---- */

err store_snapshot(store *s, const char *path)
{
    ENSURE(s->tx == NULL, ERR_INTERNAL, "store: a snapshot is taken of the shared store");
    return s->ops->backup->snapshot(s, path);
}

/* File operations: a PostgreSQL store is no file (pg_dump backs it up: docs/POSTGRES.md). */
static const store_backup_ops *backup_for(const char *location)
{
    return dbloc_is_postgres(location) ? NULL : &sqlite_backup_ops;
}

err store_copy_file(const char *from, const char *to)
{
    const store_backup_ops *b = backup_for(from);
    ENSURE(b != NULL && backup_for(to) == b, ERR_INPUT, "store: no backend copies %s", from);
    return b->copy_file(from, to);
}

err store_check_file(const char *path)
{
    const store_backup_ops *b = backup_for(path);
    ENSURE(b != NULL, ERR_INPUT, "store: no backend checks %s", path);
    return b->check_file(path);
}

/* ---- the rows callers fill and read, whatever the backend ---- */

void sealed_customer_init(sealed_customer *c)
{
    memset(c, 0, sizeof *c);
    buf_init(&c->wrapped_dek, 4096);
    for (int i = 0; i < CF__COUNT; i++) {
        buf_init(&c->field[i], 65536);
    }
}

void sealed_customer_free(sealed_customer *c)
{
    buf_free(&c->wrapped_dek);
    for (int i = 0; i < CF__COUNT; i++) {
        buf_free(&c->field[i]);
    }
}

void sealed_record_init(sealed_record *r, rectype t)
{
    memset(r, 0, sizeof *r);
    r->type = t;
    for (int i = 0; i < REC_MAX_FIELDS; i++) {
        buf_init(&r->field[i], 65536);
    }
}

void sealed_record_free(sealed_record *r)
{
    for (int i = 0; i < REC_MAX_FIELDS; i++) {
        buf_free(&r->field[i]);
    }
}

void change_request_init(change_request *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->payload, 1 << 20);
}

void change_request_free(change_request *r)
{
    buf_free(&r->payload);
}

/* ---- every other operation: through the backend's table ---- */

#define STORE_OP_CALL(name, params, args)                                                          \
    err store_##name params                                                                        \
    {                                                                                              \
        return s->ops->name args;                                                                  \
    }
STORE_OPS(STORE_OP_CALL)
#undef STORE_OP_CALL
