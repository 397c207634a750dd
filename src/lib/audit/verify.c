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
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
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

err audit_verify_file(const char *path, const char *key_name, const uint8_t pk[32],
                      const slice *notes, size_t nnotes, audit_verify_report *r)
{
    memset(r, 0, sizeof *r);
    r->bad_index = -1;
    r->ok = true;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    want *w = NULL;
    size_t nw = 0, cap = 0;
    err rc = ERR_OK;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = problem(r, -1, "cannot open the audit log %s", path);
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    /* Checkpoints signed into the log, then those held apart. */
    if (sqlite3_prepare_v2(db, "SELECT size, root, note FROM checkpoints ORDER BY size", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = problem(r, -1, "the file is not an audit log (%s)", sqlite3_errmsg(db));
        goto out;
    }
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        checkpoint c;
        slice note = slice_of(sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
        uint64_t size = (uint64_t)sqlite3_column_int64(st, 0);
        if (checkpoint_open(note, key_name, pk, &c) != ERR_OK) {
            rc = problem(r, (int64_t)size,
                         "the checkpoint stored for size %llu does not verify with the log's "
                         "public key (forged or altered)",
                         (unsigned long long)size);
            goto out;
        }
        if (c.size != size) {
            rc = problem(r, (int64_t)size, "the checkpoint row for size %llu holds a note for %llu",
                         (unsigned long long)size, (unsigned long long)c.size);
            goto out;
        }
        GUARD(want_add(&w, &nw, &cap, &c, false));
        r->checkpoints++;
    }
    sqlite3_finalize(st);
    st = NULL;
    for (size_t i = 0; i < nnotes; i++) {
        checkpoint c;
        if (checkpoint_open(notes[i], key_name, pk, &c) != ERR_OK) {
            rc = problem(r, -1,
                         "checkpoint %zu given to check against does not verify with the "
                         "log's public key",
                         i + 1);
            goto out;
        }
        GUARD(want_add(&w, &nw, &cap, &c, true));
        r->checkpoints++;
    }
    if (nw > 1) {
        qsort(w, nw, sizeof *w, want_cmp);
    }
    merkle_frontier f;
    merkle_frontier_init(&f);
    size_t next_w = 0;
    uint64_t last_good = 0; /* size of the last checkpoint that matched */
    /* Size-0 checkpoints: the empty tree. */
    while (next_w < nw && w[next_w].size == 0) {
        uint8_t empty[32];
        merkle_empty_root(empty);
        if (memcmp(empty, w[next_w].root, 32) != 0) {
            rc = problem(r, 0, "a checkpoint of the empty log has a wrong root");
            goto out;
        }
        next_w++;
    }
    if (sqlite3_prepare_v2(db, "SELECT idx, entry, leaf FROM entries ORDER BY idx", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = problem(r, -1, "the file is not an audit log (%s)", sqlite3_errmsg(db));
        goto out;
    }
    uint64_t expect = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t idx = (uint64_t)sqlite3_column_int64(st, 0);
        const uint8_t *ent = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (idx != expect) {
            rc = problem(r, (int64_t)expect,
                         "entry %llu is missing: the next one stored is %llu (deleted)",
                         (unsigned long long)expect, (unsigned long long)idx);
            goto out;
        }
        uint64_t named;
        if (!ent || !entry_index(ent, n, &named)) {
            rc = problem(r, (int64_t)idx, "entry %llu is not a valid entry (modified)",
                         (unsigned long long)idx);
            goto out;
        }
        if (named != idx) {
            rc = problem(r, (int64_t)idx,
                         "position %llu holds entry %llu (entries were inserted, deleted or "
                         "reordered)",
                         (unsigned long long)idx, (unsigned long long)named);
            goto out;
        }
        uint8_t leaf[32];
        merkle_leaf_hash(ent, n, leaf);
        if (sqlite3_column_bytes(st, 2) != 32 || memcmp(leaf, sqlite3_column_blob(st, 2), 32)) {
            rc = problem(r, (int64_t)idx, "entry %llu was modified (its leaf hash does not match)",
                         (unsigned long long)idx);
            goto out;
        }
        GUARD(merkle_frontier_append(&f, leaf, no_emit, NULL));
        expect++;
        while (next_w < nw && w[next_w].size == f.size) {
            uint8_t root[32];
            merkle_frontier_root(&f, root);
            if (memcmp(root, w[next_w].root, 32) != 0) {
                rc = problem(r, (int64_t)last_good,
                             "the log disagrees with %s checkpoint for %llu entries: something "
                             "in entries %llu to %llu was rewritten",
                             w[next_w].held_apart ? "the saved" : "its own signed",
                             (unsigned long long)w[next_w].size, (unsigned long long)last_good,
                             (unsigned long long)(w[next_w].size - 1));
                goto out;
            }
            last_good = w[next_w].size;
            next_w++;
        }
    }
    if (s != SQLITE_DONE) {
        rc = problem(r, (int64_t)expect, "cannot read entry %llu (%s)", (unsigned long long)expect,
                     sqlite3_errmsg(db));
        goto out;
    }
    r->entries = expect;
    if (next_w < nw) {
        rc = problem(r, (int64_t)expect,
                     "the log has %llu entries but %s checkpoint covers %llu: it was truncated or "
                     "rolled back",
                     (unsigned long long)expect, w[next_w].held_apart ? "a saved" : "its own",
                     (unsigned long long)w[next_w].size);
        goto out;
    }
out:
    if (st) {
        sqlite3_finalize(st);
    }
    sqlite3_close_v2(db);
    free(w);
    return rc;
}
