/*
 * audit_query.c - reading the audit log: the latest checkpoint, roots and
 * RFC 9162 proofs, searches (by actor, customer, action, decision, time) and
 * the iterator other modules read entries through (the guard's replay). All
 * through the backend's read handle, under the readers' mutex, or on a handle
 * of the iterator's own.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/audit_int.h"

err audit_latest_checkpoint(audit *a, buf *note, uint64_t *size)
{
    pthread_mutex_lock(&a->rmu);
    uint64_t n = 0;
    err rc = a->ops->last_checkpoint(a->r.b, &n, NULL, note);
    if (rc != ERR_OK) {
        rc = err_set(ERR_UNAVAILABLE, __FILE__, __LINE__, "audit: cannot read checkpoints");
    } else if (n == 0) {
        rc = err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "no checkpoint has been signed yet");
    }
    if (size) {
        *size = n;
    }
    pthread_mutex_unlock(&a->rmu);
    return rc;
}

/* ---- proofs ---- */

err audit_root(audit *a, uint64_t size, uint8_t root[32])
{
    pthread_mutex_lock(&a->rmu);
    merkle_src s = audit_src(&a->r);
    err rc = merkle_root(&s, size, root);
    pthread_mutex_unlock(&a->rmu);
    return rc;
}

static err check_size(audit *a, uint64_t size)
{
    uint64_t n;
    TRY(audit_size(a, &n));
    ENSURE(size <= n, ERR_INPUT, "the log has only %llu entries", (unsigned long long)n);
    return ERR_OK;
}

err audit_inclusion(audit *a, uint64_t index, uint64_t size, uint8_t leaf[32], uint8_t proof[][32],
                    size_t *len)
{
    TRY(check_size(a, size));
    ENSURE(index < size, ERR_INPUT, "index must be below size");
    pthread_mutex_lock(&a->rmu);
    merkle_src s = audit_src(&a->r);
    err rc = a->ops->subtree(a->r.b, 0, index, leaf);
    if (rc == ERR_OK) {
        rc = merkle_inclusion_proof(&s, index, size, proof, len);
    }
    pthread_mutex_unlock(&a->rmu);
    return rc;
}

err audit_consistency(audit *a, uint64_t m, uint64_t n, uint8_t proof[][32], size_t *len)
{
    TRY(check_size(a, n));
    ENSURE(m <= n, ERR_INPUT, "from must not exceed to");
    pthread_mutex_lock(&a->rmu);
    merkle_src s = audit_src(&a->r);
    err rc = merkle_consistency_proof(&s, m, n, proof, len);
    pthread_mutex_unlock(&a->rmu);
    return rc;
}

/* ---- queries ---- */

err audit_search(audit *a, const audit_query *q, audit_row_fn fn, void *ctx, size_t *n)
{
    size_t limit = q->limit == 0 ? 100 : q->limit > 1000 ? 1000 : q->limit;
    pthread_mutex_lock(&a->rmu);
    err rc = a->ops->search(a->r.b, q, limit, fn, ctx, n);
    pthread_mutex_unlock(&a->rmu);
    return rc;
}

/* ---- the iterator ---- */

/* Entries are read a page at a time, each page one short read of the backend, so that an
 * iteration over a long log holds no lock and sees entries appended meanwhile. */
#define ITER_PAGE 256

struct audit_iter {
    const audit_backend_ops *ops;
    audit_backend *b;
    uint64_t next; /* index of the next entry to hand out */
    buf bytes;     /* the page's entries, back to back */
    size_t off[ITER_PAGE + 1];
    uint64_t idx[ITER_PAGE];
    size_t n, at; /* entries in the page, the next one to hand out */
};

static err iter_row(void *ctx, uint64_t index, slice entry, const uint8_t leaf[32])
{
    (void)leaf;
    audit_iter *it = ctx;
    TRY(buf_append(&it->bytes, entry.p, entry.len));
    it->idx[it->n] = index;
    it->off[++it->n] = it->bytes.len;
    return ERR_OK;
}

err audit_iter_open(audit *a, uint64_t from, audit_iter **out)
{
    audit_iter *it = calloc(1, sizeof *it);
    ENSURE(it != NULL, ERR_INTERNAL, "out of memory");
    it->ops = a->ops;
    it->next = from;
    buf_init(&it->bytes, (size_t)ITER_PAGE << 20);
    err rc = a->ops->open(a->path, AUDIT_BE_READ, &it->b);
    if (rc != ERR_OK) {
        buf_free(&it->bytes);
        free(it);
        return rc;
    }
    *out = it;
    return ERR_OK;
}

err audit_iter_next(audit_iter *it, uint64_t *index, slice *entry, bool *got)
{
    *got = false;
    if (it->at == it->n) {
        buf_reset(&it->bytes);
        it->n = it->at = 0;
        it->off[0] = 0;
        TRY(it->ops->read_range(it->b, it->next, ITER_PAGE, iter_row, it));
        if (it->n == 0) {
            return ERR_OK; /* the end of the log, as it is now */
        }
    }
    *index = it->idx[it->at];
    *entry = slice_of(it->bytes.p + it->off[it->at], it->off[it->at + 1] - it->off[it->at]);
    it->next = *index + 1;
    it->at++;
    *got = true;
    return ERR_OK;
}

void audit_iter_close(audit_iter *it)
{
    if (!it) {
        return;
    }
    it->ops->close(it->b);
    buf_free(&it->bytes);
    free(it);
}
