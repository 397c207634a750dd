/*
 * audit_writer.c - the audit log's writer: opening and closing the log, group
 * commit, signed checkpoints and the signalling between callers and the writer
 * thread. Storage goes through the backend's operations (audit_backend.h).
 *
 * One writer thread owns the write handle and the in-memory right frontier of
 * the tree. Each batch is one transaction: the next index is read under the
 * write lock (offline tools append to the same file while the server runs),
 * entries are spliced with their index, leaves and new subtree hashes are
 * stored, and one commit makes all of it durable. Callers wait on a semaphore
 * each and are woken as a tree once the commit returns. Checkpoints are signed
 * by the same thread, after a batch or when asked (a flag and a condition
 * variable), inside one write transaction.
 *
 * The write-ahead log is checkpointed off the writer's path: once it holds
 * WAL_EARLY_PAGES, a checkpointer thread with a handle of its own moves pages
 * into the main file (passive: it never waits for, nor blocks, the writer)
 * while the writer goes on committing; once it reaches WAL_BOUND_PAGES the
 * writer finishes the job itself between two batches (little is left by then),
 * so the next batch restarts the WAL from its start and the file stays near
 * 4 MiB. Commits stay synchronous (one fsync each): durability is unchanged.
 */
#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_int.h"
#include "audit/checkpoint.h"
#include "core/clock.h"
#include "core/dbloc.h"
#include "core/fault.h"
#include "core/log.h"

/* A queued entry. The caller's thread encodes it (in parallel with other callers) with
 * index 0; the writer splices the real index in at `at`. */
struct pending {
    const audit_entry *e;
    int64_t ts_us;
    buf bytes;
    size_t at; /* offset of the '0' after "i": */
    uint64_t index;
    err rc;
    sem_t done; /* posted once: each waiter is woken exactly once */
    bool last;  /* the last of a caller's run (append_many waits for it only) */
    struct pending *next;
    struct pending *wake[2]; /* waiters this one wakes once it is woken */
};

static err pending_encode(pending *p)
{
    audit_entry e = *p->e;
    e.ts_us = p->ts_us;
    buf_init(&p->bytes, 1 << 20);
    return audit_encode_template(&e, &p->bytes, &p->at);
}

/* An absolute CLOCK_MONOTONIC time us microseconds from now, for pthread_cond_timedwait on a
 * condition variable made with mono_cond_init. */
static struct timespec mono_deadline(int64_t us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(us / 1000000);
    ts.tv_nsec += (long)(us % 1000000) * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

static void mono_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t at;
    pthread_condattr_init(&at);
    pthread_condattr_setclock(&at, CLOCK_MONOTONIC);
    pthread_cond_init(c, &at);
    pthread_condattr_destroy(&at);
}

err audit_create(const char *path)
{
    return audit_backend_for(path)->create(path);
}

static err tree_subtree(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    audit_tree *t = ctx;
    return t->ops->subtree(t->b, level, index, out);
}

merkle_src audit_src(audit_tree *t)
{
    merkle_src s = {t, tree_subtree};
    return s;
}

static err emit_node(void *ctx, unsigned level, uint64_t index, const uint8_t h[32])
{
    audit_tree *t = ctx;
    if (level == 0) {
        return ERR_OK; /* leaves are stored with their entries */
    }
    return t->ops->put_node(t->b, level, index, h);
}

/* The WAL, in 4 KiB pages: the checkpointer starts here; the writer checkpoints itself here. */
#define WAL_EARLY_PAGES 256
#define WAL_BOUND_PAGES 1024

/* ---- writing ---- */

/* Under the write lock: the frontier of the tree as it is in the log, which offline tools
 * (backup, keys rotate) append to and sign while the server runs. *size is the next index. */
static err tree_catch_up(audit *a, uint64_t *size)
{
    TRY(a->ops->tree_size(a->w.b, size));
    if (!a->fr_valid || a->fr.size != *size) {
        merkle_src s = audit_src(&a->w);
        a->fr_valid = false;
        TRY(merkle_frontier_load(&a->fr, &s, *size));
        a->fr_valid = true;
    }
    return ERR_OK;
}

/* Writer thread: one transaction for the batch; *size receives the log's size after it. */
static err write_batch(audit *a, pending *list, uint64_t *size)
{
    ENSURE(!a->fail, ERR_UNAVAILABLE, "audit log is not writable: request refused");
    const audit_backend_ops *ops = a->ops;
    audit_backend *b = a->w.b;
    size_t n = 0;
    for (pending *p = list; p; p = p->next) {
        n++;
    }
    merkle_frontier saved = a->fr;
    bool saved_valid = a->fr_valid;
    bool began = false;
    err rc = ERR_OK;
    if (n > a->rows_cap) {
        audit_row *r = realloc(a->rows, n * sizeof *r);
        CHECK(r != NULL, ERR_INTERNAL, "audit: out of memory");
        a->rows = r;
        a->rows_cap = n;
    }
    audit_row *rows = a->rows;
    buf_reset(&a->enc);
    GUARD(ops->begin(b));
    began = true;
    uint64_t idx = 0;
    GUARD(tree_catch_up(a, &idx));
    /* Every entry's bytes in one buffer; the slices are set once it has stopped growing. */
    size_t i = 0;
    for (pending *p = list; p; p = p->next, i++) {
        const audit_entry *e = p->e;
        size_t off = a->enc.len;
        GUARD(audit_encode_splice(buf_slice(&p->bytes), p->at, idx + i, &a->tmp));
        GUARD(buf_append(&a->enc, a->tmp.p, a->tmp.len));
        CHECK(!fault_hit(FAULT_AUDIT_ALLOC), ERR_INTERNAL, "audit: out of memory");
        audit_row *r = &rows[i];
        r->index = idx + i;
        r->ts_us = p->ts_us;
        r->actor = e->actor;
        r->action = e->action;
        r->customer = e->customer;
        r->customers = e->customers;
        r->decision = e->decision;
        r->entry = slice_of(NULL, off); /* offset for now */
        merkle_leaf_hash(a->tmp.p, a->tmp.len, r->leaf);
    }
    for (i = 0; i < n; i++) {
        size_t off = rows[i].entry.len, end = i + 1 < n ? rows[i + 1].entry.len : a->enc.len;
        rows[i].entry = slice_of(a->enc.p + off, end - off);
    }
    GUARD(ops->append(b, rows, n));
    for (i = 0; i < n; i++) {
        GUARD(merkle_frontier_append(&a->fr, rows[i].leaf, emit_node, &a->w));
    }
    GUARD(ops->commit(b));
    i = 0;
    for (pending *p = list; p; p = p->next, i++) {
        p->index = idx + i;
    }
    *size = idx + n;
out:
    if (rc != ERR_OK) {
        log_error("audit.write_failed", "audit log write failed: %s", ops->errmsg(b));
        if (began) {
            ops->rollback(b);
        }
        a->fr = saved;
        a->fr_valid = saved_valid;
        rc = err_set(ERR_UNAVAILABLE, __FILE__, __LINE__,
                     "audit log is not writable: request refused");
    }
    return rc;
}

/* ---- checkpoints ---- */

static void signer_tramp(void *ctx, slice msg, uint8_t sig[64])
{
    audit *a = ctx;
    a->sign(a->sign_ctx, msg, sig);
}

/* Signs and stores a checkpoint of the tree unless the last one covers it already; *signed_size
 * is the size then covered (0: nothing to do), note the new note (empty when none). Under the
 * write lock: a checkpoint signed from a frontier left behind would go back before one an
 * offline tool signed. */
static err sign_locked(audit *a, uint64_t cp_size, buf *note, uint64_t *signed_size)
{
    uint64_t size = 0;
    TRY(tree_catch_up(a, &size));
    pthread_mutex_lock(&a->mu);
    if (a->size < size) {
        a->size = size;
    }
    pthread_mutex_unlock(&a->mu);
    if (!a->fr_valid || a->fr.size == 0 || a->fr.size == cp_size) {
        return ERR_OK;
    }
    checkpoint c;
    memset(&c, 0, sizeof c);
    snprintf(c.origin, sizeof c.origin, "%s", a->origin);
    c.size = a->fr.size;
    merkle_frontier_root(&a->fr, c.root);
    uint64_t m;
    uint8_t root_m[32];
    TRY(a->ops->last_checkpoint(a->w.b, &m, root_m, NULL));
    if (m == c.size) { /* signed already, by an offline tool */
        *signed_size = m;
        return ERR_OK;
    }
    if (m > 0) {
        uint8_t proof[MERKLE_MAX_PROOF][32];
        size_t len = 0;
        merkle_src s = audit_src(&a->w);
        TRY(merkle_consistency_proof(&s, m, c.size, proof, &len));
        if (!merkle_verify_consistency(m, c.size, root_m, c.root, proof, len)) {
            log_error("audit.inconsistent",
                      "refusing to sign: the tree at %llu is not consistent with the checkpoint "
                      "at %llu",
                      (unsigned long long)c.size, (unsigned long long)m);
            BAIL(ERR_CRYPTO, "audit: the log is not consistent with its last checkpoint");
        }
    }
    TRY(checkpoint_sign(&c, a->key_name, a->pk, signer_tramp, a, note));
    TRY(a->ops->put_checkpoint(a->w.b, c.size, c.root, buf_slice(note), clock_now_us()));
    *signed_size = c.size;
    return ERR_OK;
}

/* Writer thread (or audit_close once it has stopped): signs a checkpoint of the current tree,
 * after checking it is consistent with the last one, inside one write transaction (the tree
 * cannot grow meanwhile, and offline tools appending to the log wait). cp_size is the last
 * signed size; *signed_size receives the new one (unchanged when there was nothing to sign).
 * on_note gets the note, after the commit. */
static err sign_checkpoint(audit *a, uint64_t cp_size, audit_note_fn on_note, void *on_note_ctx,
                           uint64_t *signed_size)
{
    *signed_size = cp_size;
    if (!a->signing) {
        return ERR_OK;
    }
    const audit_backend_ops *ops = a->ops;
    if (ops->begin(a->w.b) != ERR_OK) {
        BAIL(ERR_UNAVAILABLE, "audit: cannot lock the log to sign a checkpoint (%s)",
             ops->errmsg(a->w.b));
    }
    buf note;
    buf_init(&note, 1 << 16);
    uint64_t size = 0;
    err rc = sign_locked(a, cp_size, &note, &size);
    if (rc == ERR_OK && ops->commit(a->w.b) != ERR_OK) {
        rc = err_set(ERR_UNAVAILABLE, __FILE__, __LINE__, "audit: cannot store a checkpoint");
    }
    if (rc != ERR_OK) {
        ops->rollback(a->w.b);
    }
    /* Handed on after the commit, with the log unlocked (the callback writes elsewhere). */
    if (rc == ERR_OK && size > 0) {
        *signed_size = size;
        if (note.len > 0 && on_note) {
            on_note(on_note_ctx, buf_slice(&note));
        }
    }
    buf_free(&note);
    return rc;
}

/* Wakes a batch's waiters as a binary tree: the writer wakes the first, and each waiter
 * wakes two more as it returns. One futex wake per batch costs the writer a few
 * microseconds; 64 of them were a quarter of its time, and the callers' threads run on
 * every core. Everything a waiter reads is written before the first post (which orders
 * it before every later one); nothing touches a waiter after waking it. */
static void wake_batch(audit *a, pending *list, err rc)
{
    size_t m = 0;
    bool fits = true;
    for (pending *p = list; p; p = p->next) {
        p->rc = rc;
        p->wake[0] = p->wake[1] = NULL;
        if (!p->last) {
            continue;
        }
        if (m == a->nwaiters_cap) {
            size_t cap = m ? 2 * m : 64;
            pending **w = realloc(a->waiters, cap * sizeof *w);
            if (!w) {
                fits = false;
                break;
            }
            a->waiters = w;
            a->nwaiters_cap = cap;
        }
        a->waiters[m++] = p;
    }
    if (!fits) { /* out of memory: each waiter is posted in turn */
        for (pending *p = list, *nx; p; p = nx) {
            nx = p->next; /* p may be gone once posted */
            p->rc = rc;
            if (p->last) {
                sem_post(&p->done);
            }
        }
        return;
    }
    for (size_t i = 0; i < m; i++) {
        a->waiters[i]->wake[0] = 2 * i + 1 < m ? a->waiters[2 * i + 1] : NULL;
        a->waiters[i]->wake[1] = 2 * i + 2 < m ? a->waiters[2 * i + 2] : NULL;
    }
    if (m > 0) {
        sem_post(&a->waiters[0]->done);
    }
}

/* Under mu: whether the writer owes a checkpoint after a batch (a request, or enough entries
 * or time since the last one). */
static bool sign_due(audit *a)
{
    if (a->cp_requested) {
        return true;
    }
    return a->signing && a->size > a->cp_size &&
           (a->size - a->cp_size >= a->every_n || clock_mono_us() - a->cp_at_us >= a->every_us);
}

/* Writer thread, mu held on entry and on return (released while signing): one signing round;
 * its result is published under mu and every caller of audit_checkpoint_now is woken. */
static void writer_sign(audit *a)
{
    a->cp_requested = false;
    uint64_t cp_size = a->cp_size;
    audit_note_fn fn = a->on_note;
    void *ctx = a->on_note_ctx;
    pthread_mutex_unlock(&a->mu);
    uint64_t signed_size = cp_size;
    err rc = sign_checkpoint(a, cp_size, fn, ctx, &signed_size);
    if (rc != ERR_OK) {
        log_error("audit.checkpoint", "%s", err_message());
    }
    pthread_mutex_lock(&a->mu);
    if (rc == ERR_OK && signed_size != cp_size) {
        a->cp_size = signed_size;
        a->cp_at_us = clock_mono_us();
    }
    a->cp_rc = rc;
    a->cp_rounds++;
    pthread_cond_broadcast(&a->signed_cv);
}

static void *writer_main(void *arg)
{
    audit *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->head && !a->stop && !a->cp_requested) {
            if (a->signing && a->size > a->cp_size) {
                /* Unsigned entries: look again a few times per interval. */
                int64_t wait_us = a->every_us / 4;
                wait_us = wait_us < 1000 ? 1000 : wait_us > 60000000 ? 60000000 : wait_us;
                struct timespec ts = mono_deadline(wait_us);
                pthread_cond_timedwait(&a->work, &a->mu, &ts);
                if (!a->head && !a->cp_requested && a->signing && a->size > a->cp_size &&
                    clock_mono_us() - a->cp_at_us >= a->every_us) {
                    writer_sign(a);
                }
            } else {
                pthread_cond_wait(&a->work, &a->mu);
            }
        }
        if (a->head) {
            pending *list = a->head;
            a->head = a->tail = NULL;
            pthread_mutex_unlock(&a->mu);
            uint64_t size = 0;
            err rc = write_batch(a, list, &size);
            /* The size is published before any waiter returns, so audit_size never runs
             * behind an acknowledged append. */
            pthread_mutex_lock(&a->mu);
            if (rc == ERR_OK) {
                a->size = size;
            }
            bool due = rc == ERR_OK && sign_due(a);
            pthread_mutex_unlock(&a->mu);
            wake_batch(a, list, rc);
            int pages = rc == ERR_OK ? a->ops->wal_pages(a->w.b) : 0;
            if (pages >= WAL_BOUND_PAGES) {
                /* Between two batches: nothing of ours is in flight, so a passive checkpoint
                 * moves every page the checkpointer has not, and the next batch restarts the
                 * WAL. Busy (the checkpointer is in a pass): tried after the next batch. */
                IGNORE(a->ops->checkpoint_wal(a->w.b, AUDIT_WAL_PASSIVE));
                a->ck_writer_passes++;
            }
            pthread_mutex_lock(&a->mu);
            if (pages >= WAL_EARLY_PAGES && pages < WAL_BOUND_PAGES && a->ck_started) {
                a->ck_want = true;
                pthread_cond_signal(&a->ck_cv);
            }
            if (due) {
                writer_sign(a);
            }
        } else if (a->cp_requested) {
            writer_sign(a);
        } else {
            break; /* stop, nothing queued */
        }
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* The checkpointer thread: a passive pass whenever the writer asks. */
static void *checkpointer_main(void *arg)
{
    audit *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->ck_want && !a->ck_stop) {
            pthread_cond_wait(&a->ck_cv, &a->mu);
        }
        if (a->ck_stop) {
            break;
        }
        a->ck_want = false;
        pthread_mutex_unlock(&a->mu);
        IGNORE(a->ops->checkpoint_wal(a->ck.b, AUDIT_WAL_PASSIVE));
        a->ck_passes++;
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* ---- opening and closing ---- */

static err open_common(const char *path, audit **out, audit **a_out)
{
    audit *a = calloc(1, sizeof *a);
    ENSURE(a != NULL, ERR_INTERNAL, "out of memory");
    a->path = strdup(path);
    a->ops = audit_backend_for(path);
    a->w.ops = a->r.ops = a->ck.ops = a->ops;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->rmu, NULL);
    mono_cond_init(&a->work);
    mono_cond_init(&a->signed_cv);
    pthread_cond_init(&a->ck_cv, NULL);
    buf_init(&a->enc, (size_t)1 << 40);
    buf_init(&a->tmp, 1 << 20);
    *out = NULL;
    *a_out = a;
    ENSURE(a->path != NULL, ERR_INTERNAL, "out of memory");
    return ERR_OK;
}

static void free_audit(audit *a)
{
    /* The reader first: only the last connection to close removes the WAL, and a read-only
     * one cannot. */
    if (a->r.b) {
        a->ops->close(a->r.b);
    }
    if (a->ck.b) {
        a->ops->close(a->ck.b);
    }
    if (a->w.b) {
        a->ops->close(a->w.b);
    }
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->rmu);
    pthread_cond_destroy(&a->work);
    pthread_cond_destroy(&a->signed_cv);
    pthread_cond_destroy(&a->ck_cv);
    free(a->waiters);
    free(a->rows);
    buf_free(&a->enc);
    buf_free(&a->tmp);
    free(a->path);
    free(a);
}

err audit_open(const char *path, audit **out)
{
    ENSURE(dbloc_is_postgres(path) || access(path, R_OK | W_OK) == 0, ERR_UNAVAILABLE,
           "audit: the log is missing or not writable (%s): refusing to run without it", path);
    audit *a = NULL;
    TRY(open_common(path, out, &a));
    err rc = ERR_OK;
    if (a->ops->open(path, AUDIT_BE_WRITE, &a->w.b) != ERR_OK) {
        FAIL(ERR_UNAVAILABLE, "audit: cannot open the log (%s)", err_message());
    }
    if (a->ops->open(path, AUDIT_BE_READ, &a->r.b) != ERR_OK) {
        FAIL(ERR_UNAVAILABLE, "audit: cannot open the log (%s)", err_message());
    }
    GUARD(a->ops->tree_size(a->w.b, &a->size));
    a->cp_at_us = clock_mono_us();
    /* Without its own handle or thread the log still works: the writer checkpoints alone. */
    if (a->ops->open(path, AUDIT_BE_WRITE, &a->ck.b) == ERR_OK) {
        a->ck_started = pthread_create(&a->ck_thread, NULL, checkpointer_main, a) == 0;
    }
    CHECK(pthread_create(&a->writer, NULL, writer_main, a) == 0, ERR_INTERNAL,
          "audit: cannot start the writer");
    a->writer_started = true;
    *out = a;
    return ERR_OK;
out:
    free_audit(a);
    return rc;
}

err audit_open_readonly(const char *path, audit **out)
{
    audit *a = NULL;
    TRY(open_common(path, out, &a));
    err rc = ERR_OK;
    GUARD(a->ops->open(path, AUDIT_BE_READ, &a->r.b));
    GUARD(a->ops->tree_size(a->r.b, &a->size));
    *out = a;
    return ERR_OK;
out:
    free_audit(a);
    return rc;
}

void audit_close(audit *a)
{
    if (!a) {
        return;
    }
    if (a->ck_started) {
        pthread_mutex_lock(&a->mu);
        a->ck_stop = 1;
        pthread_cond_signal(&a->ck_cv);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->ck_thread, NULL);
    }
    if (a->ck.b) {
        a->ops->close(a->ck.b);
        a->ck.b = NULL;
    }
    if (a->writer_started) {
        pthread_mutex_lock(&a->mu);
        a->stop = 1;
        pthread_cond_signal(&a->work);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->writer, NULL);
        /* A last checkpoint covers everything written, so a clean stop leaves nothing
         * unsigned. The writer has stopped: this thread is the only one left. */
        uint64_t signed_size;
        if (a->signing &&
            sign_checkpoint(a, a->cp_size, a->on_note, a->on_note_ctx, &signed_size) != ERR_OK) {
            log_error("audit.checkpoint", "%s", err_message());
        }
        IGNORE(a->ops->checkpoint_wal(a->w.b, AUDIT_WAL_TRUNCATE));
    }
    free_audit(a);
}

#ifdef CUSTOS_TESTING
void audit_fail_next(audit *a, int on)
{
    pthread_mutex_lock(&a->mu);
    a->fail = on;
    pthread_mutex_unlock(&a->mu);
}

void audit_wal_passes(audit *a, uint64_t *background, uint64_t *writer)
{
    *background = a->ck_passes;
    *writer = a->ck_writer_passes;
}
#endif

static err enqueue_wait(audit *a, pending *first, pending *last)
{
    ENSURE(a->writer_started, ERR_UNAVAILABLE, "audit: the log is open read-only");
    pthread_mutex_lock(&a->mu);
    if (a->tail) {
        a->tail->next = first;
    } else {
        a->head = first;
    }
    a->tail = last;
    pthread_cond_signal(&a->work);
    pthread_mutex_unlock(&a->mu);
    while (sem_wait(&last->done) != 0) {
        /* EINTR: wait on */
    }
    for (int k = 0; k < 2; k++) {
        if (last->wake[k]) {
            sem_post(&last->wake[k]->done);
        }
    }
    if (last->rc != ERR_OK) {
        BAIL(last->rc, "audit log is not writable: request refused");
    }
    return ERR_OK;
}

err audit_append_many(audit *a, const audit_entry *e, size_t n)
{
    if (n == 0) {
        return ERR_OK;
    }
    pending *ps = calloc(n, sizeof *ps);
    ENSURE(ps != NULL, ERR_INTERNAL, "out of memory");
    int64_t now = clock_now_us();
    err rc = ERR_OK;
    sem_init(&ps[n - 1].done, 0, 0);
    ps[n - 1].last = true;
    for (size_t i = 0; i < n && rc == ERR_OK; i++) {
        ps[i].e = &e[i];
        ps[i].ts_us = e[i].ts_us ? e[i].ts_us : now;
        ps[i].next = i + 1 < n ? &ps[i + 1] : NULL;
        rc = audit_action_check(&e[i]);
        if (rc == ERR_OK) {
            rc = pending_encode(&ps[i]);
        }
    }
    if (rc == ERR_OK) {
        rc = enqueue_wait(a, &ps[0], &ps[n - 1]);
    }
    for (size_t i = 0; i < n; i++) {
        buf_free(&ps[i].bytes);
    }
    sem_destroy(&ps[n - 1].done);
    free(ps);
    return rc;
}

err audit_append(audit *a, const audit_entry *e, uint64_t *index)
{
    pending p;
    memset(&p, 0, sizeof p);
    p.e = e;
    p.ts_us = e->ts_us ? e->ts_us : clock_now_us();
    p.last = true;
    sem_init(&p.done, 0, 0);
    err rc = audit_action_check(e);
    if (rc == ERR_OK) {
        rc = pending_encode(&p);
    }
    if (rc == ERR_OK) {
        rc = enqueue_wait(a, &p, &p);
    }
    sem_destroy(&p.done);
    buf_free(&p.bytes);
    if (rc == ERR_OK && index) {
        *index = p.index;
    }
    return rc;
}

err audit_size(audit *a, uint64_t *n)
{
    pthread_mutex_lock(&a->mu);
    *n = a->size;
    pthread_mutex_unlock(&a->mu);
    return ERR_OK;
}

/* ---- checkpoints: public ---- */

err audit_enable_checkpoints(audit *a, const audit_signing *s)
{
    ENSURE(s->origin && s->key_name && s->sign, ERR_INTERNAL, "audit: incomplete signing setup");
    ENSURE(a->writer_started, ERR_UNAVAILABLE, "audit: the log is open read-only");
    /* The whole log is checked before anything is served or signed. */
    audit_verify_report rep;
    slice pinned = s->pinned_note ? slice_cstr(s->pinned_note) : slice_of(NULL, 0);
    err e = audit_verify_file(a->path, s->key_name, s->pk, &pinned, s->pinned_note ? 1 : 0, &rep);
    if (e != ERR_OK) {
        BAIL(ERR_CRYPTO, "the audit log failed its check, refusing to serve: %s", rep.problem);
    }
    pthread_mutex_lock(&a->mu);
    snprintf(a->origin, sizeof a->origin, "%s", s->origin);
    snprintf(a->key_name, sizeof a->key_name, "%s", s->key_name);
    memcpy(a->pk, s->pk, 32);
    a->sign = s->sign;
    a->sign_ctx = s->ctx;
    a->every_n = s->every_n ? s->every_n : 1000;
    a->every_us = s->every_us ? s->every_us : 10 * 1000000;
    a->wait_us = s->wait_us > 0 ? s->wait_us : AUDIT_CHECKPOINT_WAIT_US;
    pthread_mutex_lock(&a->rmu);
    uint64_t m = 0;
    err le = a->ops->last_checkpoint(a->r.b, &m, NULL, NULL);
    pthread_mutex_unlock(&a->rmu);
    a->cp_size = m;
    a->cp_at_us = clock_mono_us();
    a->signing = le == ERR_OK;
    pthread_mutex_unlock(&a->mu);
    return le;
}

void audit_on_checkpoint(audit *a, audit_note_fn fn, void *ctx)
{
    pthread_mutex_lock(&a->mu);
    a->on_note = fn;
    a->on_note_ctx = ctx;
    pthread_mutex_unlock(&a->mu);
}

err audit_checkpoint_now(audit *a, buf *note)
{
    pthread_mutex_lock(&a->mu);
    bool grown = a->signing && a->size > a->cp_size;
    pthread_mutex_unlock(&a->mu);
    if (grown) {
        /* The request is itself an entry, so the checkpoint records that it was asked for. */
        audit_entry e;
        memset(&e, 0, sizeof e);
        e.actor = "system";
        e.role = "-";
        e.source = "local";
        e.action = "audit.sign";
        e.decision = "allow";
        e.rule = "on-demand";
        e.count = -1;
        uint64_t idx = 0;
        TRY(audit_append(a, &e, &idx));
        /* Ask the writer to sign, and wait until a checkpoint covers that entry, a signing
         * round fails, or the deadline passes. Any round that ends after this point started
         * after the entry was written (the writer does one thing at a time), so it covers it. */
        err rc = ERR_OK;
        pthread_mutex_lock(&a->mu);
        struct timespec dl = mono_deadline(a->wait_us);
        uint64_t round = a->cp_rounds;
        a->cp_requested = true;
        pthread_cond_signal(&a->work);
        while (a->cp_size <= idx) {
            if (a->cp_rounds != round) {
                if (a->cp_rc != ERR_OK) {
                    rc = err_set(ERR_UNAVAILABLE, __FILE__, __LINE__,
                                 "audit: the checkpoint could not be signed");
                    break;
                }
                /* A round with nothing new to sign: ask again. */
                round = a->cp_rounds;
                a->cp_requested = true;
                pthread_cond_signal(&a->work);
            }
            if (pthread_cond_timedwait(&a->signed_cv, &a->mu, &dl) == ETIMEDOUT &&
                a->cp_size <= idx) {
                rc = err_set(ERR_UNAVAILABLE, __FILE__, __LINE__,
                             "audit: no checkpoint was signed in time");
                break;
            }
        }
        pthread_mutex_unlock(&a->mu);
        TRY(rc);
    }
    return note ? audit_latest_checkpoint(a, note, NULL) : ERR_OK;
}
