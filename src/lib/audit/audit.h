/*
 * audit.h - the audit log: one entry per operation on customer data and per
 * administrative act, allowed or denied, made durable BEFORE the operation's
 * result leaves the server (fail closed: no audit record, no access).
 *
 * Entries are canonical JSON (keys sorted, compact, ASCII; docs/FORMATS.md)
 * that carry their own index and no personal value: customers appear by their
 * random id, search terms by a keyed hash. Entries are the leaves of an RFC 9162
 * Merkle tree (SHA-256, leaf 0x00, node 0x01); the log signs checkpoints (C2SP
 * tlog-checkpoint, Ed25519) and never signs one inconsistent with the last, so
 * an auditor holding any checkpoint can prove that no entry was changed or
 * dropped since.
 *
 * Durability uses group commit: callers enqueue and wait; one writer thread
 * writes everything queued in one transaction with a single fsync and wakes
 * them all, so concurrent requests share the cost of one fsync.
 *
 * Files: audit_entry.c (encoding), audit_writer.c (open/close, group commit,
 * checkpoints), audit_query.c (proofs, searches, the iterator), verify.c (the
 * offline verifier); storage only through audit_backend.h, whose one
 * implementation, audit_sqlite.c, is the only file here that speaks SQL.
 */
#ifndef CUSTOS_AUDIT_H
#define CUSTOS_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct audit audit;

typedef struct audit_entry {
    int64_t ts_us;          /* 0: now */
    const char *actor;      /* username, or "-" */
    const char *role;       /* role name, or "-" */
    const char *source;     /* client address */
    const char *session;    /* short hash of the session or API key, or NULL */
    const char *action;     /* "customer.read", "login", ... */
    const char *customer;   /* customer id, or NULL */
    const char *customers;  /* comma-separated ids for multi-customer acts, or NULL */
    const char *categories; /* comma-separated categories touched, or NULL */
    const char *fields;     /* comma-separated field names touched, or NULL */
    const char *decision;   /* "allow" | "deny" */
    const char *rule;       /* the policy rule or reason code behind the decision */
    const char *reason;     /* a reason given by the actor (break-glass, erasure), or NULL */
    const char *request_id;
    const char *query_hash; /* keyed hash (hex) of a search term, or NULL */
    int64_t count;          /* rows affected (imports, exports), or -1 */
} audit_entry;

MUST_USE err audit_create(const char *path);
MUST_USE err audit_open(const char *path, audit **out);
/* The log for reading only (offline tools, replays): no writer, nothing written; appends
 * and checkpoints are ERR_UNAVAILABLE. ERR_IO when path cannot be opened or is not a log. */
MUST_USE err audit_open_readonly(const char *path, audit **out);
void audit_close(audit *a);
/* Durable before it returns; index receives the entry's leaf index (may be NULL).
 * ERR_UNAVAILABLE when the entry could not be made durable: the caller must refuse. */
MUST_USE err audit_append(audit *a, const audit_entry *e, uint64_t *index);
/* Many entries, durable together (imports). */
MUST_USE err audit_append_many(audit *a, const audit_entry *e, size_t n);
/* The actions an entry may name: the table in audit/actions.def, in its order. An append
 * naming an action not in it is refused in test builds (ERR_INTERNAL) and logged in release
 * builds, where it is still written (the entry is the evidence; its name is the code's bug). */
const char *const *audit_actions(size_t *n);
bool audit_action_known(const char *name);
/* Canonical encoding of an entry with its index (exposed for tests and verifiers). */
MUST_USE err audit_encode(const audit_entry *e, uint64_t index, buf *out);
/* Number of entries durable so far (this process's view). */
MUST_USE err audit_size(audit *a, uint64_t *n);
#ifdef CUSTOS_TESTING
/* For tests in this process: every following append fails as if the disk were full.
 * Compiled only into test builds (CUSTOS_TESTING), never into the release binary. */
void audit_fail_next(audit *a, int on);
/* WAL checkpoint passes so far: by the checkpointer thread, and by the writer itself. */
void audit_wal_passes(audit *a, uint64_t *background, uint64_t *writer);
#endif

/* ---- decoding (verifiers, queries, fuzzed) ---- */
typedef struct audit_decoded {
    uint64_t index;
    int64_t ts_us;
    char actor[80], role[32], action[48], decision[8];
    char customer[40];
} audit_decoded;
/* Strict: a JSON object in exactly the canonical encoding (re-encoding gives the same
 * bytes), version 1, the required keys present with the right types. ERR_INPUT otherwise. */
MUST_USE err audit_decode(slice bytes, audit_decoded *out);

/* ---- checkpoints ---- */
typedef void (*audit_signer)(void *ctx, slice msg, uint8_t sig[64]);
typedef struct audit_signing {
    const char *origin;   /* checkpoint origin line, e.g. "custos.local/audit/<vault id>" */
    const char *key_name; /* signed-note key name */
    uint8_t pk[32];
    audit_signer sign;
    void *ctx;
    uint64_t every_n; /* sign after this many new entries (0: 1000) */
    int64_t every_us; /* or after this long with new entries (0: 10 s) */
    int64_t wait_us;  /* how long audit_checkpoint_now waits for the writer (0: 5 s) */
    const char
        *pinned_note; /* the last checkpoint the vault remembers apart from the log, or NULL */
} audit_signing;
/* Turns on checkpoints. First checks the whole log: every entry's index, encoding and leaf
 * hash, the tree against the latest checkpoint in the log and against pinned_note; refuses
 * (ERR_CRYPTO, naming what is wrong) when the log was cut, replaced, rolled back or changed. */
MUST_USE err audit_enable_checkpoints(audit *a, const audit_signing *s);
/* Signs a checkpoint of the current size now if the log grew since the last; the latest
 * signed note is returned in note (may be NULL). The request is an entry (action "audit.sign");
 * the writer thread is asked to sign (a flag and a condition variable, whatever the uptime or
 * interval) and the caller waits until a checkpoint covers that entry. ERR_UNAVAILABLE when
 * signing fails or takes longer than wait_us: the caller never gets an older note instead. */
#define AUDIT_CHECKPOINT_WAIT_US (5 * 1000000LL)
MUST_USE err audit_checkpoint_now(audit *a, buf *note);
MUST_USE err audit_latest_checkpoint(audit *a, buf *note, uint64_t *size);
/* Called with every new signed note (from the writer thread; must not block long). */
typedef void (*audit_note_fn)(void *ctx, slice note);
void audit_on_checkpoint(audit *a, audit_note_fn fn, void *ctx);

/* ---- proofs (RFC 9162) ---- */
#define AUDIT_MAX_PROOF 64
MUST_USE err audit_root(audit *a, uint64_t size, uint8_t root[32]);
MUST_USE err audit_inclusion(audit *a, uint64_t index, uint64_t size, uint8_t leaf[32],
                             uint8_t proof[][32], size_t *len);
MUST_USE err audit_consistency(audit *a, uint64_t m, uint64_t n, uint8_t proof[][32], size_t *len);

/* ---- queries ---- */
typedef struct audit_query {
    const char *actor;      /* exact username, or NULL */
    const char *customer;   /* entries touching this customer id, or NULL */
    const char *action;     /* exact action, or NULL */
    const char *decision;   /* "allow" / "deny", or NULL */
    int64_t from_us, to_us; /* 0: unbounded */
    uint64_t after;         /* entries with index > after; UINT64_MAX: from the start */
    size_t limit;
} audit_query;
typedef err (*audit_row_fn)(void *ctx, uint64_t index, slice entry, const uint8_t leaf[32]);
/* Entries in index order matching every given criterion; uses the actor, customer and time
 * indexes (never a scan of the whole log for actor or customer queries). */
MUST_USE err audit_search(audit *a, const audit_query *q, audit_row_fn fn, void *ctx, size_t *n);

/* ---- reading entries in order (the guard's replay, exports) ---- */
typedef struct audit_iter audit_iter;
/* An iterator over the entries from index `from` on, on a read handle of its own (it holds no
 * lock between calls). */
MUST_USE err audit_iter_open(audit *a, uint64_t from, audit_iter **out);
/* The next entry in index order: *got is false at the end of the log as it is at this call
 * (entries appended later are handed out by later calls). entry stays valid until the next
 * call or audit_iter_close. */
MUST_USE err audit_iter_next(audit_iter *it, uint64_t *index, slice *entry, bool *got);
void audit_iter_close(audit_iter *it);

/* ---- offline verification (no keys, no server) ---- */
typedef struct audit_verify_report {
    uint64_t entries;     /* entries read */
    uint64_t checkpoints; /* signed checkpoints checked */
    bool ok;
    int64_t bad_index; /* first index where something is wrong, or -1 */
    char problem[512]; /* what is wrong, in words */
} audit_verify_report;
/* Checks everything a copy of the log can show: dense indexes, canonical entries that name
 * their own index, leaf hashes, every signed checkpoint in the log, and each given note
 * (consistency with checkpoints held apart). ERR_OK only when all holds. */
MUST_USE err audit_verify_file(const char *path, const char *key_name, const uint8_t pk[32],
                               const slice *notes, size_t nnotes, audit_verify_report *r);

#endif
