/*
 * store.h - the vault's persistent store: sealed customer rows, sealed
 * transactions and communications, accounts, sessions, idempotency keys, the
 * erasure journal and vault metadata. Only store/ knows SQL.
 *
 * The store never sees a plaintext personal value: customer fields arrive as
 * envelopes (crypto.h) and blind-index values; the only clear columns are ids,
 * the owning department, timestamps and key versions.
 *
 * Concurrency: one `store` is shared by all threads; each thread transparently
 * gets its own SQLite connection (WAL mode: readers never block the writer),
 * with its prepared statements cached.
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

#define DEPT_MAX 64
#define USERNAME_MAX 64
#define ROLE_MAX 24

/* Opens (create=true: creates and migrates a new file; refuses an existing one). */
MUST_USE err store_open(const char *path, bool create, store **out);
void store_close(store *s);
/* Writes a consistent snapshot of the database to path (SQLite online backup). */
MUST_USE err store_snapshot(store *s, const char *path);
/* Consistent copy of any SQLite database file (online backup API), e.g. the audit log. */
MUST_USE err store_copy_file(const char *from, const char *to);
/* PRAGMA integrity_check on a database file: ERR_CRYPTO-free, ERR_IO when damaged. */
MUST_USE err store_check_file(const char *path);

/* Explicit transactions on this thread's connection (nested calls are not allowed). */
MUST_USE err store_begin(store *s);
MUST_USE err store_commit(store *s);
void store_rollback(store *s);

/* ---- customers ---- */
typedef struct sealed_customer {
    char id[ID_LEN + 1];
    char department[DEPT_MAX + 1];
    int64_t created_us, updated_us;
    uint32_t dek_version; /* data-key generation, bumped by per-customer rotation */
    uint32_t kek_version; /* KEK version that wraps the DEK */
    bool erased;
    bool honeytoken;
    buf wrapped_dek;       /* empty when erased */
    buf field[CF__COUNT];  /* envelopes, empty = absent (department is the clear column) */
    bool has_blind[BI__COUNT];
    uint64_t blind[BI__COUNT];
} sealed_customer;

void sealed_customer_init(sealed_customer *c);
void sealed_customer_free(sealed_customer *c);

MUST_USE err store_customer_insert(store *s, const sealed_customer *c);
/* Replaces every column of an existing, non-erased row. */
MUST_USE err store_customer_update(store *s, const sealed_customer *c);
/* ERR_NOT_FOUND when there is no such row. Erased rows are returned with erased=true. */
MUST_USE err store_customer_get(store *s, const char *id, sealed_customer *out);
/* Destroys the wrapped DEK, every envelope and blind value, the customer's transactions and
 * communications, and journals the erasure. */
MUST_USE err store_customer_erase(store *s, const char *id, int64_t at_us);
/* Ids of live customers whose blind value of kind k equals v, optionally only in
 * department dept, id > after (keyset pagination), at most max. */
MUST_USE err store_customer_find(store *s, blind_kind k, uint64_t v, const char *dept,
                                 const char *after, size_t max, char (*ids)[ID_LEN + 1],
                                 size_t *n);
/* Ids of live customers (optionally one department, honeytokens excluded unless asked). */
MUST_USE err store_customer_list(store *s, const char *dept, bool with_honeytokens,
                                 const char *after, size_t max, char (*ids)[ID_LEN + 1],
                                 size_t *n);
MUST_USE err store_customer_count(store *s, int64_t *n);
/* Rewraps: calls fn for every live customer whose kek_version != v; fn rewraps in place and
 * the row's wrapped_dek/kek_version are updated, in batches of transactions. A row for which
 * fn answers ERR_CRYPTO (its key no longer opens: tampered) is left as it is and counted in
 * failed; any other error stops the sweep. */
typedef err (*store_rewrap_fn)(void *ctx, const char *id, buf *wrapped, uint32_t *kek_version);
MUST_USE err store_customer_rewrap_all(store *s, uint32_t v, store_rewrap_fn fn, void *ctx,
                                       size_t *done, size_t *failed);

/* ---- transactions and communications (sealed under the customer's DEK) ---- */
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
} account;

MUST_USE err store_account_insert(store *s, const account *a);
MUST_USE err store_account_update(store *s, const account *a);
MUST_USE err store_account_by_name(store *s, const char *username, account *out);
MUST_USE err store_account_by_id(store *s, const char *id, account *out);
MUST_USE err store_account_list(store *s, account *out, size_t max, size_t *n);

#define SESSION_HASH_LEN 32
MUST_USE err store_session_insert(store *s, const uint8_t hash[SESSION_HASH_LEN],
                                  const char *account_id, int64_t created_us, int64_t expires_us);
/* ERR_AUTH when unknown or expired. */
MUST_USE err store_session_get(store *s, const uint8_t hash[SESSION_HASH_LEN], int64_t now_us,
                               char account_id[ID_LEN + 1], int64_t *expires_us);
MUST_USE err store_session_delete(store *s, const uint8_t hash[SESSION_HASH_LEN]);

/* ---- idempotency: a retried POST gets the first answer back ---- */
/* ERR_NOT_FOUND when the key is new. */
MUST_USE err store_idem_get(store *s, const uint8_t key[32], uint8_t req_hash[32], int *status,
                            buf *body);
MUST_USE err store_idem_put(store *s, const uint8_t key[32], const uint8_t req_hash[32],
                            int status, slice body, int64_t at_us);

/* ---- erasure journal ---- */
typedef err (*store_erasure_fn)(void *ctx, const char *id, int64_t at_us);
MUST_USE err store_erasures(store *s, store_erasure_fn fn, void *ctx);

/* ---- metadata ---- */
MUST_USE err store_meta_get(store *s, const char *key, buf *out);
MUST_USE err store_meta_set(store *s, const char *key, const char *value);

#endif
