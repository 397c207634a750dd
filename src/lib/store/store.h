/*
 * store.h - the vault's persistent store: sealed customer rows, sealed
 * transactions and communications, accounts, sessions, idempotency keys, the
 * erasure journal and vault metadata. Only store/ knows SQL.
 *
 * The store never sees a plaintext personal value: customer fields arrive as
 * envelopes (crypto.h) and blind-index values; the only clear columns are ids,
 * the owning department, timestamps and key versions.
 *
 * Concurrency: one `store` is shared by all threads (the SQLite backend gives each thread its
 * own connection, WAL mode: readers never block the writer, with its prepared statements
 * cached). A write transaction is an explicit handle (store_begin); the operations that belong
 * to it run on its view, store_tx_store(tx). store_backend.h says how backends plug in;
 * store_backup.h holds snapshots, file copies and integrity checks.
 */
#ifndef CUSTOS_STORE_H
#define CUSTOS_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "model/model.h"

typedef struct store store;
typedef struct store_tx store_tx;

#define STORE_SCHEMA_VERSION "2"
/* DEPT_MAX, USERNAME_MAX, ROLE_MAX: model/model.h */

/* Opens the store at location, whose form names the backend: a file path is SQLite (create=true:
 * creates and migrates a new file; refuses an existing one); "postgres://..." or
 * "postgresql://..." is PostgreSQL (create=true: makes the tables in the location's schema and
 * refuses one that holds a store already; docs/POSTGRES.md). Either way an older schema is
 * migrated on open and a newer one is refused (ERR_IO). */
MUST_USE err store_open(const char *location, bool create, store **out);
/* Closes the shared store (not a transaction's view). */
void store_close(store *s);

/* ---- explicit transactions ----
 * store_begin starts a write transaction on the shared store s and gives its handle; the
 * operations of the transaction run on store_tx_store(tx), a view of s bound to it (pass it to
 * the usual store_* functions). Not nested: begin on a view, or on s while this thread holds a
 * transaction, is refused (ERR_INTERNAL), and so is any operation of this thread on the shared
 * store meanwhile. store_commit and store_rollback end the transaction and set *tx to NULL (the
 * view ends with it): a second commit is refused (ERR_INTERNAL), a rollback of a NULL handle
 * does nothing, a failed commit has rolled back. A transaction belongs to the thread that
 * began it. */
MUST_USE err store_begin(store *s, store_tx **tx);
MUST_USE err store_commit(store_tx **tx);
void store_rollback(store_tx **tx);
store *store_tx_store(store_tx *tx);

/* ---- customers ---- */
typedef struct sealed_customer {
    char id[ID_LEN + 1];
    char department[DEPT_MAX + 1];
    int64_t created_us, updated_us;
    uint32_t dek_version; /* data-key generation, bumped by per-customer rotation */
    uint32_t kek_version; /* KEK version that wraps the DEK */
    bool erased;
    bool honeytoken;
    uint64_t version;     /* bumped by every change of the row (the API's ETag) */
    buf wrapped_dek;      /* empty when erased */
    buf field[CF__COUNT]; /* envelopes, empty = absent (department is the clear column) */
    bool has_blind[BI__COUNT];
    uint64_t blind[BI__COUNT];
} sealed_customer;

void sealed_customer_init(sealed_customer *c);
void sealed_customer_free(sealed_customer *c);

/* The new row's version is c->version, or 1 when that is 0. */
MUST_USE err store_customer_insert(store *s, const sealed_customer *c);
/* Replaces every column of an existing, non-erased row whose version is still c->version (0:
 * whatever it is) and makes its version c->version + 1 (one more than it was). ERR_CONFLICT when
 * the row changed since c was read (nothing written), ERR_NOT_FOUND when it is gone. The store
 * also refuses (ERR_CONFLICT) a data key wrapped under a retired master-key version or under a
 * version other than kek_version, and a data-key generation older than the row's. A writer that
 * must not lose a concurrent change reads and writes inside one transaction (store_begin). */
MUST_USE err store_customer_update(store *s, const sealed_customer *c);
/* ERR_NOT_FOUND when there is no such row. Erased rows are returned with erased=true. */
MUST_USE err store_customer_get(store *s, const char *id, sealed_customer *out);
/* Batch of store_customer_get: out[i] (initialised by the caller) receives the row of ids[i]
 * and found[i] says whether there is one (erased rows are found, with erased=true). */
MUST_USE err store_customer_get_many(store *s, const char (*ids)[ID_LEN + 1], size_t n,
                                     sealed_customer *out, bool *found);
/* Destroys the wrapped DEK, every envelope and blind value, the customer's transactions and
 * communications, and journals the erasure. */
MUST_USE err store_customer_erase(store *s, const char *id, int64_t at_us);
/* Ids of live customers whose blind value of kind k equals v, optionally only in
 * department dept, id > after (keyset pagination), at most max. */
MUST_USE err store_customer_find(store *s, blind_kind k, uint64_t v, const char *dept,
                                 const char *after, size_t max, char (*ids)[ID_LEN + 1], size_t *n);
/* Ids of live customers (optionally one department, honeytokens excluded unless asked). */
MUST_USE err store_customer_list(store *s, const char *dept, bool with_honeytokens,
                                 const char *after, size_t max, char (*ids)[ID_LEN + 1], size_t *n);
MUST_USE err store_customer_count(store *s, int64_t *n);
/* Ids of live honeytoken customers. */
MUST_USE err store_customer_honeytokens(store *s, char (*ids)[ID_LEN + 1], size_t max, size_t *n);
/* Rewraps: calls fn for every live customer whose kek_version != v; fn rewraps in place and
 * the row's wrapped_dek/kek_version are updated, in batches of transactions. A row for which
 * fn answers ERR_CRYPTO (its key no longer opens: tampered) is left as it is and counted in
 * failed; any other error stops the sweep. */
typedef err (*store_rewrap_fn)(void *ctx, const char *id, buf *wrapped, uint32_t *kek_version);
MUST_USE err store_customer_rewrap_all(store *s, uint32_t v, store_rewrap_fn fn, void *ctx,
                                       size_t *done, size_t *failed);

/* ---- retiring master-key versions ---- */
/* The lowest master-key version a row may still carry (0: none retired yet). */
MUST_USE err store_kek_floor(store *s, uint32_t *floor);
/* Read-only: calls fn with every live customer's wrapped data key; answers ERR_CRYPTO are
 * counted in failed, any other error stops. n receives how many were checked. */
typedef err (*store_key_fn)(void *ctx, const char *id, slice wrapped);
MUST_USE err store_customer_check_keys(store *s, store_key_fn fn, void *ctx, size_t *n,
                                       size_t *failed);
/* In one write transaction: rewraps (fn) every live row whose data key is wrapped under a
 * version below floor (judged by the column and by the envelope's own header), checks that
 * none is left, and records floor: from the commit on, the store refuses any write of a key
 * below it, so the older versions can leave the keyring. done receives the rows rewrapped. */
MUST_USE err store_customer_retire_kek(store *s, uint32_t floor, store_rewrap_fn fn, void *ctx,
                                       size_t *done);
/* Live rows whose data key is wrapped under version (column or envelope). */
MUST_USE err store_customer_count_kek(store *s, uint32_t version, int64_t *n);

/* ---- transactions and communications (sealed under the customer's DEK) ----
 * Insert and update are refused (ERR_CONFLICT) when r->dek_version is not the generation the
 * live customer holds at that moment. */
typedef struct sealed_record {
    rectype type;
    char id[ID_LEN + 1];
    char customer_id[ID_LEN + 1];
    int64_t created_us;
    uint32_t dek_version;
    buf field[REC_MAX_FIELDS];
} sealed_record;

void sealed_record_init(sealed_record *r, rectype t);
void sealed_record_free(sealed_record *r);
MUST_USE err store_record_insert(store *s, const sealed_record *r);
MUST_USE err store_record_update(store *s, const sealed_record *r);
/* Records of a customer in creation order, id > after, at most max; fn is called per row
 * (the row is valid only during the call). */
typedef err (*store_record_fn)(void *ctx, const sealed_record *r);
MUST_USE err store_record_list(store *s, rectype t, const char *customer_id, const char *after,
                               size_t max, store_record_fn fn, void *ctx, size_t *n);

/* ---- accounts and sessions ---- */
typedef struct account {
    char id[ID_LEN + 1];
    char username[USERNAME_MAX + 1];
    char role[ROLE_MAX + 1];
    char department[DEPT_MAX + 1];
    char pwhash[128];
    bool disabled;
    int64_t created_us;
    int failed_logins;
    int64_t locked_until_us;
    int lock_level;            /* lockouts so far: each one lasts longer */
    int64_t training_until_us; /* security training valid until (0: never trained) */
    char totp[160];            /* the TOTP secret wrapped under the KEK (base64), "" = none */
    bool totp_enabled;         /* enrolment confirmed */
    int64_t totp_step;         /* last accepted time step (replay refusal) */
    int64_t pw_changed_us;
} account;

MUST_USE err store_account_insert(store *s, const account *a);
MUST_USE err store_account_update(store *s, const account *a);
MUST_USE err store_account_by_name(store *s, const char *username, account *out);
MUST_USE err store_account_by_id(store *s, const char *id, account *out);
MUST_USE err store_account_list(store *s, account *out, size_t max, size_t *n);

#define SESSION_HASH_LEN 32
typedef struct session_row {
    char account_id[ID_LEN + 1];
    int64_t created_us, expires_us, last_seen_us;
    uint32_t flags; /* SESSION_* in door.h */
} session_row;
MUST_USE err store_session_insert(store *s, const uint8_t hash[SESSION_HASH_LEN],
                                  const session_row *r);
/* ERR_AUTH when unknown (expiry is the caller's decision). */
MUST_USE err store_session_get(store *s, const uint8_t hash[SESSION_HASH_LEN], session_row *out);
MUST_USE err store_session_touch(store *s, const uint8_t hash[SESSION_HASH_LEN],
                                 int64_t last_seen_us, uint32_t flags);
MUST_USE err store_session_delete(store *s, const uint8_t hash[SESSION_HASH_LEN]);
/* Retention: sessions that expired before before_us leave the table; n receives how many. */
MUST_USE err store_sessions_purge(store *s, int64_t before_us, int64_t *n);
/* Every session of an account (revocation); n receives how many (may be NULL). */
MUST_USE err store_session_delete_account(store *s, const char *account_id, size_t *n);

/* ---- recovery codes (sqlite_access.c): hashes of one-time second-factor codes ---- */
#define RECOVERY_HASH_LEN 32
MUST_USE err store_recovery_replace(store *s, const char *account_id,
                                    const uint8_t (*hashes)[RECOVERY_HASH_LEN], size_t n);
/* Marks a matching unused code used; ERR_AUTH when there is none. */
MUST_USE err store_recovery_use(store *s, const char *account_id,
                                const uint8_t hash[RECOVERY_HASH_LEN]);
MUST_USE err store_recovery_left(store *s, const char *account_id, int64_t *n);
/* Batch of store_recovery_left: left[i] for account_ids[i] (0 for an unknown account). */
MUST_USE err store_recovery_left_many(store *s, const char (*account_ids)[ID_LEN + 1], size_t n,
                                      int64_t *left);

/* ---- API keys for business systems ---- */
#define APIKEY_NAME_MAX 64
#define APIKEY_SCOPE_MAX 512
typedef struct apikey {
    char id[ID_LEN + 1];
    char name[APIKEY_NAME_MAX + 1];
    uint8_t hash[32];
    char prefix[24]; /* the first characters of the key, to recognise it */
    char role[ROLE_MAX + 1];
    char department[DEPT_MAX + 1];
    char scope[APIKEY_SCOPE_MAX];     /* "transactions:read,create;preferences:read" */
    char addresses[APIKEY_SCOPE_MAX]; /* "10.1.0.0/16,127.0.0.1" or "" (anywhere) */
    char created_by[USERNAME_MAX + 1];
    int64_t created_us, last_used_us, revoked_us, rotated_us;
    char last_source[64];
} apikey;
MUST_USE err store_apikey_insert(store *s, const apikey *k);
/* Rewrites hash, prefix, scope, addresses, revoked and rotated of k->id. */
MUST_USE err store_apikey_update(store *s, const apikey *k);
MUST_USE err store_apikey_by_hash(store *s, const uint8_t hash[32], apikey *out);
MUST_USE err store_apikey_by_id(store *s, const char *id, apikey *out);
MUST_USE err store_apikey_by_name(store *s, const char *name, apikey *out);
MUST_USE err store_apikey_list(store *s, apikey *out, size_t max, size_t *n);
MUST_USE err store_apikey_used(store *s, const char *id, int64_t at_us, const char *source);

/* ---- change and export requests (approved by a data steward) ---- */
typedef struct change_request {
    char id[ID_LEN + 1];
    char kind[16];                 /* "change" | "export" */
    char customer_id[ID_LEN + 1];  /* "" for an export */
    char department[DEPT_MAX + 1]; /* whose steward decides */
    char requester_id[ID_LEN + 1];
    char requester[USERNAME_MAX + 1];
    char status[16]; /* pending | approved | rejected | applied | used | expired */
    char decided_by[USERNAME_MAX + 1];
    char fields[512]; /* names of the fields a change touches */
    char note[256];   /* the decider's note */
    char format[16];  /* export format */
    int64_t created_us, decided_us, expires_us;
    buf payload; /* a change: the new values, sealed under the customer's data key */
} change_request;
void change_request_init(change_request *r);
void change_request_free(change_request *r);
MUST_USE err store_request_insert(store *s, const change_request *r);
/* Moves r->id from status `from` to r's status/decided_by/decided/note/expires/payload;
 * ERR_CONFLICT when the request is no longer in status `from` (someone else decided first). */
MUST_USE err store_request_decide(store *s, const change_request *r, const char *from);
MUST_USE err store_request_get(store *s, const char *id, change_request *out);
/* Requests with status (NULL: any) and department (NULL: any), newest first. fn is called per
 * row (the row is valid during the call only). */
typedef err (*store_request_fn)(void *ctx, const change_request *r);
MUST_USE err store_request_list(store *s, const char *status, const char *department, size_t max,
                                store_request_fn fn, void *ctx);
/* The newest request of kind whose subject (the customer_id column: a customer, an API key or
 * an account) is subject; ERR_NOT_FOUND when none. */
MUST_USE err store_request_latest(store *s, const char *kind, const char *subject,
                                  change_request *out);
/* Batch of store_request_latest giving the status only: status[i] is the status of the newest
 * request of kind about subjects[i], "" when there is none. */
MUST_USE err store_request_latest_many(store *s, const char *kind,
                                       const char (*subjects)[ID_LEN + 1], size_t n,
                                       char (*status)[16]);
/* True when some account or live customer belongs to department. */
MUST_USE err store_department_exists(store *s, const char *department, bool *yes);

/* ---- notices: who must hear of an act on access (API keys, credentials, break-glass) ---- */
typedef struct notice {
    int64_t id, at_us;
    char recipient[96]; /* "account:NAME", "role:ROLE" or "data_steward:DEPT" */
    char rule[48];
    char subject[96];
    char detail[256]; /* names, ids and counts: never a personal value or a secret */
} notice;
#define STORE_NOTICE_TO_MAX 4
MUST_USE err store_notice_add(store *s, const notice *n);
/* Notices to any of the recipients (NULL entries are unused), id > after, oldest first. */
MUST_USE err store_notice_list(store *s, const char *const recipients[STORE_NOTICE_TO_MAX],
                               int64_t after, notice *out, size_t max, size_t *n);

/* ---- break-glass: time-limited emergency access ---- */
typedef struct breakglass {
    char id[ID_LEN + 1];
    char account_id[ID_LEN + 1];
    char username[USERNAME_MAX + 1];
    char reason[512];
    int64_t opened_us, expires_us, closed_us, reads;
    char reviewed_by[USERNAME_MAX + 1];
    int64_t reviewed_us;
    char review_note[256];
} breakglass;
MUST_USE err store_breakglass_insert(store *s, const breakglass *b);
MUST_USE err store_breakglass_update(store *s, const breakglass *b);
MUST_USE err store_breakglass_get(store *s, const char *id, breakglass *out);
/* The account's open grant at now (ERR_NOT_FOUND when none). */
MUST_USE err store_breakglass_active(store *s, const char *account_id, int64_t now_us,
                                     breakglass *out);
MUST_USE err store_breakglass_count_read(store *s, const char *id);
MUST_USE err store_breakglass_list(store *s, bool unreviewed_only, breakglass *out, size_t max,
                                   size_t *n);

/* ---- idempotency: a retried POST gets the first answer back ----
 * key and req_hash are keyed MACs made by the door; body is sealed by the door. A row with
 * status 0 is a claim: the first request is still being answered. */
/* ERR_NOT_FOUND when the key is new or its row is older than since_us. */
MUST_USE err store_idem_get(store *s, const uint8_t key[32], int64_t since_us, uint8_t req_hash[32],
                            int *status, buf *body);
/* Claims the key for a request (a row with status 0); ERR_CONFLICT when a row newer than
 * since_us holds it already. An expired row is taken over. */
MUST_USE err store_idem_claim(store *s, const uint8_t key[32], const uint8_t req_hash[32],
                              int64_t at_us, int64_t since_us);
/* Stores the answer of a claimed key. */
MUST_USE err store_idem_put(store *s, const uint8_t key[32], int status, slice body);
/* Gives a claim up (the request failed: a retry may do it again). */
MUST_USE err store_idem_drop(store *s, const uint8_t key[32]);
/* Deletes every row older than before_us; n (may be NULL) receives how many. */
MUST_USE err store_idem_purge(store *s, int64_t before_us, size_t *n);

/* ---- erasure journal ---- */
typedef err (*store_erasure_fn)(void *ctx, const char *id, int64_t at_us);
MUST_USE err store_erasures(store *s, store_erasure_fn fn, void *ctx);

/* ---- metadata ---- */
MUST_USE err store_meta_get(store *s, const char *key, buf *out);
MUST_USE err store_meta_set(store *s, const char *key, const char *value);

#endif
