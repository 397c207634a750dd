/*
 * verify.c - offline verification of an audit log file: needs only the file,
 * the log's public key and, optionally, checkpoints kept apart from it.
 *
 * One pass in index order: every index present once and in order, every entry
 * naming its own index (so a deleted, inserted or reordered entry is caught
 * where it happened), every leaf hash recomputed from the entry bytes (a
 * changed byte is caught at its entry), the tree rebuilt, and its root compared
 * with every signed checkpoint in the log and every checkpoint given (which
 * catches a rewrite that recomputed the leaves, a cut tail, or a roll-back to
 * an older state). The first problem is reported with the index where it lies.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/audit_backend.h"
#include "audit/checkpoint.h"
#include "audit/merkle.h"

typedef struct want {
    uint64_t size;
    uint8_t root[32];
    bool held_apart; /* given by the caller rather than found in the log */
    bool seen;
} want;

static int want_cmp(const void *x, const void *y)
{
    const want *a = x, *b = y;
    return a->size < b->size ? -1 : a->size > b->size ? 1 : 0;
}

static err want_add(want **w, size_t *n, size_t *cap, const checkpoint *c, bool held_apart)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        want *p = realloc(*w, nc * sizeof *p);
        ENSURE(p != NULL, ERR_INTERNAL, "out of memory");
        *w = p;
        *cap = nc;
    }
    memset(&(*w)[*n], 0, sizeof **w);
    (*w)[*n].size = c->size;
    memcpy((*w)[*n].root, c->root, 32);
    (*w)[*n].held_apart = held_apart;
    (*n)++;
    return ERR_OK;
}

static err problem(audit_verify_report *r, int64_t index, const char *fmt, ...) PRINTF_LIKE(3, 4);
static err problem(audit_verify_report *r, int64_t index, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->problem, sizeof r->problem, fmt, ap);
    va_end(ap);
    r->bad_index = index;
    r->ok = false;
    BAIL(ERR_CRYPTO, "%s", r->problem);
}

/* The index an entry names: canonical entries have sorted keys and escaped strings, so
 * `"i":` preceded by `{` or `,` occurs once, as the key. */
static bool entry_index(const uint8_t *p, size_t n, uint64_t *out)
{
    for (size_t k = 1; k + 4 < n; k++) {
        if ((p[k - 1] == ',' || p[k - 1] == '{') && p[k] == '"' && p[k + 1] == 'i' &&
            p[k + 2] == '"' && p[k + 3] == ':') {
            size_t j = k + 4;
            uint64_t v = 0;
            size_t digits = 0;
            while (j < n && p[j] >= '0' && p[j] <= '9' && digits < 20) {
                v = v * 10 + (uint64_t)(p[j] - '0');
                j++;
                digits++;
            }
            if (digits == 0 || (digits > 1 && p[k + 4] == '0') || j >= n ||
                (p[j] != ',' && p[j] != '}')) {
                return false;
            }
            *out = v;
            return true;
        }
    }
    return false;
}

static err no_emit(void *ctx, unsigned level, uint64_t index, const uint8_t h[32])
{
    return ERR_OK;
}

/* The pass over the log's checkpoints and entries. */
typedef struct vctx {
    audit_verify_report *r;
    const char *key_name;
    const uint8_t *pk;
    want *w;
    size_t nw, cap, next_w;
    merkle_frontier f;
    uint64_t expect, last_good;
} vctx;

static err one_checkpoint(void *ctx, uint64_t size, const uint8_t root[32], slice note)
{
    (void)root;
    vctx *v = ctx;
    checkpoint c;
    if (checkpoint_open(note, v->key_name, v->pk, &c) != ERR_OK) {
        return problem(v->r, (int64_t)size,
                       "the checkpoint stored for size %llu does not verify with the log's "
                       "public key (forged or altered)",
                       (unsigned long long)size);
    }
    if (c.size != size) {
        return problem(v->r, (int64_t)size,
                       "the checkpoint row for size %llu holds a note for %llu",
                       (unsigned long long)size, (unsigned long long)c.size);
    }
    TRY(want_add(&v->w, &v->nw, &v->cap, &c, false));
    v->r->checkpoints++;
    return ERR_OK;
}

static err one_entry(void *ctx, uint64_t idx, slice entry, const uint8_t stored[32])
{
    vctx *v = ctx;
    audit_verify_report *r = v->r;
    const uint8_t *ent = entry.len > 0 ? entry.p : NULL;
    size_t n = entry.len;
    if (idx != v->expect) {
        return problem(r, (int64_t)v->expect,
                       "entry %llu is missing: the next one stored is %llu (deleted)",
                       (unsigned long long)v->expect, (unsigned long long)idx);
    }
    uint64_t named;
    if (!ent || !entry_index(ent, n, &named)) {
        return problem(r, (int64_t)idx, "entry %llu is not a valid entry (modified)",
                       (unsigned long long)idx);
    }
    if (named != idx) {
        return problem(r, (int64_t)idx,
                       "position %llu holds entry %llu (entries were inserted, deleted or "
                       "reordered)",
                       (unsigned long long)idx, (unsigned long long)named);
    }
    uint8_t leaf[32];
    merkle_leaf_hash(ent, n, leaf);
    if (memcmp(leaf, stored, 32) != 0) {
        return problem(r, (int64_t)idx, "entry %llu was modified (its leaf hash does not match)",
                       (unsigned long long)idx);
    }
    TRY(merkle_frontier_append(&v->f, leaf, no_emit, NULL));
    v->expect++;
    while (v->next_w < v->nw && v->w[v->next_w].size == v->f.size) {
        uint8_t root[32];
        merkle_frontier_root(&v->f, root);
        const want *w = &v->w[v->next_w];
        if (memcmp(root, w->root, 32) != 0) {
            return problem(r, (int64_t)v->last_good,
                           "the log disagrees with %s checkpoint for %llu entries: something "
                           "in entries %llu to %llu was rewritten",
                           w->held_apart ? "the saved" : "its own signed",
                           (unsigned long long)w->size, (unsigned long long)v->last_good,
                           (unsigned long long)(w->size - 1));
        }
        v->last_good = w->size;
        v->next_w++;
    }
    return ERR_OK;
}

err audit_verify_file(const char *path, const char *key_name, const uint8_t pk[32],
                      const slice *notes, size_t nnotes, audit_verify_report *r)
{
    memset(r, 0, sizeof *r);
    r->bad_index = -1;
    r->ok = true;
    const audit_backend_ops *ops = audit_backend_for(path);
    audit_backend *b = NULL;
    vctx v;
    memset(&v, 0, sizeof v);
    v.r = r;
    v.key_name = key_name;
    v.pk = pk;
    err rc = ERR_OK;
    if (ops->open(path, AUDIT_BE_READ, &b) != ERR_OK) {
        rc = problem(r, -1, "%s", err_message());
        goto out;
    }
    /* Checkpoints signed into the log, then those held apart. */
    if (ops->checkpoints(b, one_checkpoint, &v) != ERR_OK) {
        rc = r->ok ? problem(r, -1, "%s", err_message()) : ERR_CRYPTO;
        goto out;
    }
    for (size_t i = 0; i < nnotes; i++) {
        checkpoint c;
        if (checkpoint_open(notes[i], key_name, pk, &c) != ERR_OK) {
            rc = problem(r, -1,
                         "checkpoint %zu given to check against does not verify with the "
                         "log's public key",
                         i + 1);
            goto out;
        }
        GUARD(want_add(&v.w, &v.nw, &v.cap, &c, true));
        r->checkpoints++;
    }
    if (v.nw > 1) {
        qsort(v.w, v.nw, sizeof *v.w, want_cmp);
    }
    merkle_frontier_init(&v.f);
    /* Size-0 checkpoints: the empty tree. */
    while (v.next_w < v.nw && v.w[v.next_w].size == 0) {
        uint8_t empty[32];
        merkle_empty_root(empty);
        if (memcmp(empty, v.w[v.next_w].root, 32) != 0) {
            rc = problem(r, 0, "a checkpoint of the empty log has a wrong root");
            goto out;
        }
        v.next_w++;
    }
    if (ops->read_range(b, 0, UINT64_MAX, one_entry, &v) != ERR_OK) {
        rc = r->ok ? problem(r, (int64_t)v.expect, "cannot read entry %llu (%s)",
                             (unsigned long long)v.expect, err_message())
                   : ERR_CRYPTO;
        goto out;
    }
    r->entries = v.expect;
    if (v.next_w < v.nw) {
        rc = problem(r, (int64_t)v.expect,
                     "the log has %llu entries but %s checkpoint covers %llu: it was truncated or "
                     "rolled back",
                     (unsigned long long)v.expect, v.w[v.next_w].held_apart ? "a saved" : "its own",
                     (unsigned long long)v.w[v.next_w].size);
        goto out;
    }
out:
    if (b) {
        ops->close(b);
    }
    free(v.w);
    return rc;
}
