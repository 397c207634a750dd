/*
 * audit_int.h - what the audit log's own files share: the log's state (struct
 * audit), the entry encoder's template form for the writer, and the backend
 * the log was opened with. Not for use outside src/lib/audit/.
 */
#ifndef CUSTOS_AUDIT_INT_H
#define CUSTOS_AUDIT_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "audit/audit.h"
#include "audit/audit_backend.h"
#include "audit/merkle.h"

typedef struct pending pending;

/* A backend handle with its operations: the context of a Merkle source. */
typedef struct audit_tree {
    const audit_backend_ops *ops;
    audit_backend *b;
} audit_tree;

struct audit {
    char *path;
    const audit_backend_ops *ops;
    audit_tree w;  /* writer thread only; w.b is NULL for a log opened read-only */
    audit_tree r;  /* readers, under rmu */
    audit_tree ck; /* the WAL checkpointer thread only */
    pthread_mutex_t rmu;
    /* mu guards the queue, the counters and the checkpoint state below; the writer thread
     * releases it while it writes a batch or signs. work wakes the writer (entries queued, a
     * checkpoint requested, stop); signed wakes the callers of audit_checkpoint_now after
     * each signing round. Both wait on CLOCK_MONOTONIC. */
    pthread_mutex_t mu;
    pthread_cond_t work;
    pthread_cond_t signed_cv;
    pending *head, *tail;
    pending **waiters; /* writer thread only: a batch's waiters, in wake order */
    size_t nwaiters_cap;
    uint64_t size; /* under mu: entries durable, as this process last saw */
    int stop;
    _Atomic int fail; /* set by audit_fail_next (tests), read by the writer */
    bool writer_started;
    pthread_t writer;
    /* the WAL checkpointer: ck_want (under mu) asks it for a pass, ck_cv wakes it */
    bool ck_started;
    pthread_t ck_thread;
    pthread_cond_t ck_cv;
    bool ck_want;
    int ck_stop;
    _Atomic uint64_t ck_passes, ck_writer_passes; /* WAL checkpoint passes, for tests */
    audit_row *rows; /* writer thread only: a batch's rows, and their bytes in enc */
    size_t rows_cap;
    buf enc, tmp;
    merkle_frontier fr; /* writer thread only */
    bool fr_valid;
    /* checkpoints: the settings are written once by audit_enable_checkpoints under mu and
     * only read after the writer has seen signing set under mu */
    bool signing;
    char origin[256], key_name[128];
    uint8_t pk[32];
    audit_signer sign;
    void *sign_ctx;
    uint64_t every_n;
    int64_t every_us;
    int64_t wait_us;       /* how long audit_checkpoint_now waits for the writer */
    uint64_t cp_size;      /* under mu: size of the last checkpoint signed */
    int64_t cp_at_us;      /* under mu: monotonic time of the last checkpoint (or of open) */
    bool cp_requested;     /* under mu: audit_checkpoint_now asks the writer to sign now */
    uint64_t cp_rounds;    /* under mu: signing rounds finished by the writer */
    err cp_rc;             /* under mu: the last round's result */
    audit_note_fn on_note; /* under mu */
    void *on_note_ctx;
};

/* The Merkle source over a backend handle (its subtree operation). */
merkle_src audit_src(audit_tree *t);

/* The entry encoded with index 0, and the offset of that '0' (audit_entry.c): the writer
 * splices the real index in at `at` with audit_encode_splice. */
MUST_USE err audit_encode_template(const audit_entry *e, buf *out, size_t *at);
MUST_USE err audit_encode_splice(slice tmpl, size_t at, uint64_t index, buf *out);

/* ERR_OK when e's action is in the table (audit_actions); see audit.h for the other case. */
MUST_USE err audit_action_check(const audit_entry *e);

#endif
