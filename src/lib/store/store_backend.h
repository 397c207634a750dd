/*
 * store_backend.h - what a storage backend implements; not for callers of store.h.
 *
 * The store is an interface with one backend per kind of location:
 *
 *   store_open(location)   "path/to/vault.db"        -> SQLite (sqlite*.c), the only one today
 *                          "postgres://..."          -> refused (ERR_INPUT) until a backend exists
 *   store_* (store.h)      dispatch through s->ops, a table of every operation (STORE_OPS)
 *   store_snapshot ...     store_backup.h: snapshot, file copy and integrity check, an
 *                          interface of its own (s->ops->backup for a live store)
 *
 * A `store` handle is either the shared store (one per vault, used by every thread; the backend
 * gives each thread what it needs, e.g. a connection) or the view of one transaction,
 * store_tx_store(tx): the same operations, run inside that transaction on its connection.
 * Rules every backend keeps (tests/unit/store_test.c, t_tx_*):
 *   - a transaction is begun on the shared store only: begin on a view is refused (nested);
 *   - while a thread holds a transaction, operations of that thread on the shared store are
 *     refused (ERR_INTERNAL), so no write slips outside the transaction meant to hold it;
 *   - store_commit and store_rollback end the transaction and clear the caller's handle: a
 *     second commit is refused, a rollback after the end does nothing; a commit that fails
 *     rolls back;
 *   - a transaction is used by the thread that began it (SQLite: its connection is that
 *     thread's).
 *
 * Adding a backend: a file that fills a `store_ops` (every STORE_OPS entry, begin/commit/
 * rollback/close and its store_backup_ops) and an open function, and store.c's store_open
 * and backup_for sending its locations to it (today they refuse "postgres://").
 * Functions of store.h outside STORE_OPS (the row helpers: sealed_customer_init ...) are
 * backend-neutral and live in store.c.
 */
#ifndef CUSTOS_STORE_BACKEND_H
#define CUSTOS_STORE_BACKEND_H

#include "store/store.h"
#include "store/store_training.h"
#include "store/store_phish.h"

struct store_backup_ops;

/* Every operation of store.h that takes a store and answers an err: name, parameters,
 * arguments. store.c makes the public store_<name> functions from it, a backend its table. */
#define STORE_OPS(X)                                                                               \
    X(customer_insert, (store * s, const sealed_customer *c), (s, c))                              \
    X(customer_update, (store * s, const sealed_customer *c), (s, c))                              \
    X(customer_get, (store * s, const char *id, sealed_customer *out), (s, id, out))               \
    X(customer_get_many,                                                                           \
      (store * s, const char(*ids)[ID_LEN + 1], size_t n, sealed_customer *out, bool *found),      \
      (s, ids, n, out, found))                                                                     \
    X(customer_erase, (store * s, const char *id, int64_t at_us), (s, id, at_us))                  \
    X(customer_find,                                                                               \
      (store * s, blind_kind k, uint64_t v, const char *dept, const char *after, size_t max,       \
       char(*ids)[ID_LEN + 1], size_t *n),                                                         \
      (s, k, v, dept, after, max, ids, n))                                                         \
    X(customer_list,                                                                               \
      (store * s, const char *dept, bool with_honeytokens, const char *after, size_t max,          \
       char(*ids)[ID_LEN + 1], size_t *n),                                                         \
      (s, dept, with_honeytokens, after, max, ids, n))                                             \
    X(customer_count, (store * s, int64_t * n), (s, n))                                            \
    X(customer_honeytokens, (store * s, char(*ids)[ID_LEN + 1], size_t max, size_t *n),            \
      (s, ids, max, n))                                                                            \
    X(customer_rewrap_all,                                                                         \
      (store * s, uint32_t v, store_rewrap_fn fn, void *ctx, size_t *done, size_t *failed),        \
      (s, v, fn, ctx, done, failed))                                                               \
    X(kek_floor, (store * s, uint32_t * floor), (s, floor))                                        \
    X(customer_check_keys, (store * s, store_key_fn fn, void *ctx, size_t *n, size_t *failed),     \
      (s, fn, ctx, n, failed))                                                                     \
    X(customer_retire_kek,                                                                         \
      (store * s, uint32_t floor, store_rewrap_fn fn, void *ctx, size_t *done),                    \
      (s, floor, fn, ctx, done))                                                                   \
    X(customer_count_kek, (store * s, uint32_t version, int64_t * n), (s, version, n))             \
    X(record_insert, (store * s, const sealed_record *r), (s, r))                                  \
    X(record_update, (store * s, const sealed_record *r), (s, r))                                  \
    X(record_list,                                                                                 \
      (store * s, rectype t, const char *customer_id, const char *after, size_t max,               \
       store_record_fn fn, void *ctx, size_t *n),                                                  \
      (s, t, customer_id, after, max, fn, ctx, n))                                                 \
    X(account_insert, (store * s, const account *a), (s, a))                                       \
    X(account_update, (store * s, const account *a), (s, a))                                       \
    X(account_by_name, (store * s, const char *username, account *out), (s, username, out))        \
    X(account_by_id, (store * s, const char *id, account *out), (s, id, out))                      \
    X(account_list, (store * s, account * out, size_t max, size_t * n), (s, out, max, n))          \
    X(session_insert, (store * s, const uint8_t hash[SESSION_HASH_LEN], const session_row *r),     \
      (s, hash, r))                                                                                \
    X(session_get, (store * s, const uint8_t hash[SESSION_HASH_LEN], session_row *out),            \
      (s, hash, out))                                                                              \
    X(session_touch,                                                                               \
      (store * s, const uint8_t hash[SESSION_HASH_LEN], int64_t last_seen_us, uint32_t flags),     \
      (s, hash, last_seen_us, flags))                                                              \
    X(session_delete, (store * s, const uint8_t hash[SESSION_HASH_LEN]), (s, hash))                \
    X(sessions_purge, (store * s, int64_t before_us, int64_t * n), (s, before_us, n))              \
    X(session_delete_account, (store * s, const char *account_id, size_t *n), (s, account_id, n))  \
    X(recovery_replace,                                                                            \
      (store * s, const char *account_id, const uint8_t(*hashes)[RECOVERY_HASH_LEN], size_t n),    \
      (s, account_id, hashes, n))                                                                  \
    X(recovery_use, (store * s, const char *account_id, const uint8_t hash[RECOVERY_HASH_LEN]),    \
      (s, account_id, hash))                                                                       \
    X(recovery_left, (store * s, const char *account_id, int64_t *n), (s, account_id, n))          \
    X(recovery_left_many,                                                                          \
      (store * s, const char(*account_ids)[ID_LEN + 1], size_t n, int64_t *left),                  \
      (s, account_ids, n, left))                                                                   \
    X(apikey_insert, (store * s, const apikey *k), (s, k))                                         \
    X(apikey_update, (store * s, const apikey *k), (s, k))                                         \
    X(apikey_by_hash, (store * s, const uint8_t hash[32], apikey *out), (s, hash, out))            \
    X(apikey_by_id, (store * s, const char *id, apikey *out), (s, id, out))                        \
    X(apikey_by_name, (store * s, const char *name, apikey *out), (s, name, out))                  \
    X(apikey_list, (store * s, apikey * out, size_t max, size_t * n), (s, out, max, n))            \
    X(apikey_used, (store * s, const char *id, int64_t at_us, const char *source),                 \
      (s, id, at_us, source))                                                                      \
    X(request_insert, (store * s, const change_request *r), (s, r))                                \
    X(request_decide, (store * s, const change_request *r, const char *from), (s, r, from))        \
    X(request_get, (store * s, const char *id, change_request *out), (s, id, out))                 \
    X(request_list,                                                                                \
      (store * s, const char *status, const char *department, size_t max, store_request_fn fn,     \
       void *ctx),                                                                                 \
      (s, status, department, max, fn, ctx))                                                       \
    X(request_latest, (store * s, const char *kind, const char *subject, change_request *out),     \
      (s, kind, subject, out))                                                                     \
    X(request_latest_many,                                                                         \
      (store * s, const char *kind, const char(*subjects)[ID_LEN + 1], size_t n,                   \
       char(*status)[16]),                                                                         \
      (s, kind, subjects, n, status))                                                              \
    X(department_exists, (store * s, const char *department, bool *yes), (s, department, yes))     \
    X(notice_add, (store * s, const notice *n), (s, n))                                            \
    X(notice_list,                                                                                 \
      (store * s, const char *const recipients[STORE_NOTICE_TO_MAX], int64_t after, notice *out,   \
       size_t max, size_t *n),                                                                     \
      (s, recipients, after, out, max, n))                                                         \
    X(breakglass_insert, (store * s, const breakglass *b), (s, b))                                 \
    X(breakglass_update, (store * s, const breakglass *b), (s, b))                                 \
    X(breakglass_get, (store * s, const char *id, breakglass *out), (s, id, out))                  \
    X(breakglass_active, (store * s, const char *account_id, int64_t now_us, breakglass *out),     \
      (s, account_id, now_us, out))                                                                \
    X(breakglass_count_read, (store * s, const char *id), (s, id))                                 \
    X(breakglass_list, (store * s, bool unreviewed_only, breakglass *out, size_t max, size_t *n),  \
      (s, unreviewed_only, out, max, n))                                                           \
    X(idem_get,                                                                                    \
      (store * s, const uint8_t key[32], int64_t since_us, uint8_t req_hash[32], int *status,      \
       buf *body),                                                                                 \
      (s, key, since_us, req_hash, status, body))                                                  \
    X(idem_claim,                                                                                  \
      (store * s, const uint8_t key[32], const uint8_t req_hash[32], int64_t at_us,                \
       int64_t since_us),                                                                          \
      (s, key, req_hash, at_us, since_us))                                                         \
    X(idem_put, (store * s, const uint8_t key[32], int status, slice body),                        \
      (s, key, status, body))                                                                      \
    X(idem_drop, (store * s, const uint8_t key[32]), (s, key))                                     \
    X(idem_purge, (store * s, int64_t before_us, size_t * n), (s, before_us, n))                   \
    X(erasures, (store * s, store_erasure_fn fn, void *ctx), (s, fn, ctx))                         \
    X(meta_get, (store * s, const char *key, buf *out), (s, key, out))                             \
    X(meta_set, (store * s, const char *key, const char *value), (s, key, value))                  \
    /* training (store_training.h) */                                                              \
    X(training_ready, (store * s), (s))                                                            \
    X(training_course_put,                                                                         \
      (store * s, const char *id, const char *version, slice manifest, int64_t at_us),             \
      (s, id, version, manifest, at_us))                                                           \
    X(training_file_put,                                                                           \
      (store * s, const char *course, const char *version, const char *path, slice body),          \
      (s, course, version, path, body))                                                            \
    X(training_course_get,                                                                         \
      (store * s, const char *id, const char *version, char *version_out, buf *manifest),          \
      (s, id, version, version_out, manifest))                                                     \
    X(training_file_get,                                                                           \
      (store * s, const char *course, const char *version, const char *path, buf *body),           \
      (s, course, version, path, body))                                                            \
    X(training_course_list, (store * s, store_training_course_fn fn, void *ctx), (s, fn, ctx))     \
    X(training_assign, (store * s, const training_assignment *a), (s, a))                          \
    X(training_unassign, (store * s, const char *id), (s, id))                                     \
    X(training_assignments, (store * s, store_training_assignment_fn fn, void *ctx), (s, fn, ctx)) \
    X(training_attempt_insert, (store * s, const training_attempt *a), (s, a))                     \
    X(training_attempt_get, (store * s, const char *id, training_attempt *out), (s, id, out))      \
    X(training_attempt_submit,                                                                     \
      (store * s, const char *id, int64_t at_us, int score, bool passed,                           \
       const training_answer *ans, size_t n),                                                      \
      (s, id, at_us, score, passed, ans, n))                                                       \
    X(training_attempts,                                                                           \
      (store * s, const char *account_id, size_t max, store_training_attempt_fn fn, void *ctx),    \
      (s, account_id, max, fn, ctx))                                                               \
    X(training_attempts_started,                                                                   \
      (store * s, const char *account_id, const char *course, int64_t since_us, int64_t *n),       \
      (s, account_id, course, since_us, n))                                                        \
    X(training_last_pass, (store * s, const char *account_id, const char *course, int64_t *at_us), \
      (s, account_id, course, at_us))                                                              \
    X(training_topics,                                                                             \
      (store * s, const char *course, const char *account_id, size_t max,                          \
       store_training_topic_fn fn, void *ctx),                                                     \
      (s, course, account_id, max, fn, ctx))                                                       \
    X(training_response_put,                                                                       \
      (store * s, const char *account_id, const char *course, const char *version,                 \
       const char *phase, const char *item, int likert, slice sealed_text, int64_t at_us),         \
      (s, account_id, course, version, phase, item, likert, sealed_text, at_us))                   \
    X(training_responses,                                                                          \
      (store * s, const char *account_id, const char *course, store_training_response_fn fn,       \
       void *ctx),                                                                                 \
      (s, account_id, course, fn, ctx))                                                            \
    X(training_likert, (store * s, const char *course, store_training_likert_fn fn, void *ctx),    \
      (s, course, fn, ctx))                                                                        \
    X(training_answer_rows,                                                                        \
      (store * s, const char *course, store_training_answer_row_fn fn, void *ctx),                 \
      (s, course, fn, ctx))                                                                        \
    X(training_likert_rows,                                                                        \
      (store * s, const char *course, store_training_likert_row_fn fn, void *ctx),                 \
      (s, course, fn, ctx))                                                                        \
    X(training_remedial_add, (store * s, const training_remedial *r), (s, r))                      \
    X(training_remedials,                                                                          \
      (store * s, const char *account_id, bool open_only, store_training_remedial_fn fn,           \
       void *ctx),                                                                                 \
      (s, account_id, open_only, fn, ctx))                                                         \
    X(training_remedial_close, (store * s, const char *id, int64_t done_us), (s, id, done_us))     \
    X(training_reminder_claim,                                                                     \
      (store * s, const char *account_id, const char *course, const char *cycle, const char *kind, \
       int64_t at_us),                                                                             \
      (s, account_id, course, cycle, kind, at_us))                                                 \
    X(training_reminder_drop,                                                                      \
      (store * s, const char *account_id, const char *course, const char *cycle,                   \
       const char *kind),                                                                          \
      (s, account_id, course, cycle, kind))                                                        \
    /* phishing simulation (store_phish.h) */                                                      \
    X(phish_ready, (store * s), (s))                                                               \
    X(phish_campaign_put, (store * s, const phish_campaign *c), (s, c))                            \
    X(phish_campaign_get, (store * s, const char *id, phish_campaign *out), (s, id, out))          \
    X(phish_campaign_list, (store * s, store_phish_campaign_fn fn, void *ctx), (s, fn, ctx))       \
    X(phish_mail_put, (store * s, const phish_mail *m), (s, m))                                    \
    X(phish_mail_due,                                                                              \
      (store * s, int64_t now_us, int max_attempts, phish_mail *out, size_t max, size_t *n),       \
      (s, now_us, max_attempts, out, max, n))                                                      \
    X(phish_mail_sent, (store * s, const char *id, const uint8_t hash[32], int64_t at_us),         \
      (s, id, hash, at_us))                                                                        \
    X(phish_mail_failed, (store * s, const char *id), (s, id))                                     \
    X(phish_mail_by_token, (store * s, const uint8_t hash[32], phish_mail *out), (s, hash, out))   \
    X(phish_mail_mark, (store * s, const char *id, phish_event ev, int64_t at_us, bool *first),    \
      (s, id, ev, at_us, first))                                                                   \
    X(phish_filtered_add,                                                                          \
      (store * s, const char *campaign, const char *kind, const char *reason, int64_t at_us),      \
      (s, campaign, kind, reason, at_us))                                                          \
    X(phish_filtered_count, (store * s, const char *campaign, int64_t *n), (s, campaign, n))       \
    X(phish_mails,                                                                                 \
      (store * s, const char *campaign, const char *account_id, store_phish_mail_fn fn,            \
       void *ctx),                                                                                 \
      (s, campaign, account_id, fn, ctx))

typedef struct store_ops {
    const char *name; /* "sqlite" */
    /* Closes the shared store (never a transaction's view). */
    void (*close)(store *s);
    /* Begins a write transaction on the shared store s; *out is the backend's store_tx. */
    err (*begin)(store *s, store_tx **out);
    /* End the transaction and free tx (a failed commit has rolled back). */
    err (*commit)(store_tx *tx);
    void (*rollback)(store_tx *tx);
    const struct store_backup_ops *backup;
#define STORE_OP_FIELD(name, params, args) err(*name) params;
    STORE_OPS(STORE_OP_FIELD)
#undef STORE_OP_FIELD
} store_ops;

/* The handle callers hold: the shared store, or a transaction's view (tx != NULL). */
struct store {
    const store_ops *ops;
    void *impl;   /* the backend's shared state */
    store_tx *tx; /* the transaction this view runs in; NULL for the shared store */
};

/* What every backend's transaction starts with; the backend adds its own state after it. */
struct store_tx {
    store view; /* view.tx == this transaction */
};

/* The SQLite backend (sqlite.c): location is a file path. */
MUST_USE err sqlite_store_open(const char *path, bool create, store **out);
extern const struct store_backup_ops sqlite_backup_ops;

#endif
