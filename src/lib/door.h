/*
 * door.h - the one door. Every access to customer data, from the HTTP API or
 * any other front end, is one call here, and each call runs the same pipeline:
 *
 *   authenticate -> authorize (policy: role x category x operation x department)
 *   -> audit.append (durable BEFORE any data leaves; on failure: refuse)
 *   -> vault (unwrap the customer's data key, open or seal fields) -> store
 *
 * Nothing else opens the store or touches a key for customer data. Denied
 * attempts are audited too. A customer outside the caller's department looks
 * exactly like a customer that does not exist (ERR_NOT_FOUND).
 * Results come back as JSON objects holding only what the caller may see,
 * masked where the policy says so.
 */
#ifndef CUSTOS_DOOR_H
#define CUSTOS_DOOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "access/policy.h"
#include "audit/audit.h"
#include "audit/witness.h"
#include "core/buf.h"
#include "core/err.h"
#include "crypto/crypto.h"
#include "model/ingest.h"
#include "model/model.h"
#include "store/store.h"

/* ---- the vault folder ---- */
typedef struct vault {
    char *dir;
    keyring *kr;
    store *st;
    audit *au;
    int64_t session_ttl_us;
    vault_config cfg;
    witness *witness;
} vault;

#define VAULT_DB "custos.db"
#define VAULT_KEYRING "keyring"
#define VAULT_AUDIT "audit.db"
#define VAULT_AUDIT_PUB "audit.pub"
#define VAULT_TLS_KEY "tls/key.pem"
#define VAULT_TLS_CERT "tls/cert.pem"
#define VAULT_ERASURES "erasures.journal"

typedef struct vault_init_opts {
    const kek_source *src;
    kdf_strength kdf;
    const char *tls_cert; /* copy these instead of generating (both or neither) */
    const char *tls_key;
} vault_init_opts;

/* Creates DIR (must not exist or be empty): database, keyring, audit log, TLS material,
 * the audit public key. Refuses an existing vault (ERR_CONFLICT). */
MUST_USE err vault_init(const char *dir, const vault_init_opts *o);
MUST_USE err vault_open(const char *dir, const kek_source *src, vault **out);
void vault_close(vault *v);
/* dir/name into out (PATH_MAX). */
void vault_path(const vault *v, const char *name, char *out, size_t max);
void vault_path_in(const char *dir, const char *name, char *out, size_t max);

/* ---- who is asking ---- */
typedef struct actor {
    char account_id[ID_LEN + 1];
    char username[USERNAME_MAX + 1];
    role role;
    char department[DEPT_MAX + 1];
    char session[17]; /* short hash of the session token, for the audit log */
    char source[64];  /* client address */
    char request_id[40];
} actor;

/* A system actor for offline tools (CLI init, demo, restore): no role grants, audited. */
void actor_system(actor *a, const char *what);

/* Fills an audit entry with the actor's part (who, role, from where, request id). */
void door_entry(audit_entry *e, const actor *a, const char *action, const char *decision,
                const char *rule);

/* ---- accounts and sessions ---- */
MUST_USE err door_account_create(vault *v, const actor *by, const char *username,
                                 const char *password, role r, const char *department);
#define TOKEN_TEXT_MAX 64
/* On success token receives the bearer token (shown once); only its hash is stored.
 * Every failure is ERR_AUTH "invalid username or password" after the same work. */
MUST_USE err door_login(vault *v, const char *username, const char *password, const char *source,
                        const char *request_id, char token[TOKEN_TEXT_MAX], int64_t *expires_us);
/* Resolves a bearer token into an actor (source and request_id are copied in). */
MUST_USE err door_authenticate(vault *v, const char *token, const char *source,
                               const char *request_id, actor *out);
MUST_USE err door_logout(vault *v, const actor *a, const char *token);

/* ---- customers ---- */
MUST_USE err door_customer_create(vault *v, const actor *a, const record *in,
                                  char id[ID_LEN + 1]);
MUST_USE err door_customer_get(vault *v, const actor *a, const char *id, json_t **out);
/* set: fields present are set; clear[i]: field i is removed. */
MUST_USE err door_customer_update(vault *v, const actor *a, const char *id, const record *set,
                                  const bool clear[CF__COUNT]);
MUST_USE err door_customer_erase(vault *v, const actor *a, const char *id, const char *reason);
/* Exact search by a blind-indexed field (k) or, with k == BI_NONE, a listing. Results are
 * confirmed by decryption; out is {"customers":[...], "next": "<cursor>"|null}. */
MUST_USE err door_customer_search(vault *v, const actor *a, blind_kind k, const char *term,
                                  const char *after, size_t limit, json_t **out);
/* Per-customer data-key rotation: re-encrypts the customer's fields and records. */
MUST_USE err door_customer_rotate_key(vault *v, const actor *a, const char *id);

/* ---- transactions and communications ---- */
MUST_USE err door_record_create(vault *v, const actor *a, rectype t, const char *customer_id,
                                const record *in, char id[ID_LEN + 1]);
MUST_USE err door_record_list(vault *v, const actor *a, rectype t, const char *customer_id,
                              const char *after, size_t limit, json_t **out);

/* ---- bulk ---- */
/* Validated batch in, all or nothing. report: {"dry_run":b,"rows":n,"created":n,
 * "duplicates":n,"errors":[{"row","line","field","message"}]}. Row errors -> ERR_INPUT with
 * the report still filled; nothing is written. */
MUST_USE err door_import(vault *v, const actor *a, import_batch *b, bool dry_run,
                         json_t **report);

typedef enum export_format { EXPORT_CSV, EXPORT_JSONL } export_format;
typedef struct door_export door_export;
/* Starts an export (authorized and audited per page); door_export_next fills out with the
 * next chunk of the file, empty at the end. */
MUST_USE err door_export_open(vault *v, const actor *a, export_format f, door_export **out);
MUST_USE err door_export_next(door_export *x, buf *out);
void door_export_close(door_export *x);

/* ---- the audit log (auditor, legal and security only; every read is itself audited) ---- */
/* {"checkpoint": "<signed note>", "size": n} */
MUST_USE err door_audit_checkpoint(vault *v, const actor *a, json_t **out);
/* {"index","size","leaf_hash","entry","proof":[b64...],"root"} (RFC 9162 §2.1.3) */
MUST_USE err door_audit_inclusion(vault *v, const actor *a, uint64_t index, uint64_t size,
                                  json_t **out);
/* {"from","to","proof":[b64...],"root_from","root_to"} (RFC 9162 §2.1.4) */
MUST_USE err door_audit_consistency(vault *v, const actor *a, uint64_t m, uint64_t n,
                                    json_t **out);
/* {"entries":[{"index","leaf_hash","entry" (base64 canonical bytes),"decoded":{...}}],
 *  "next": index|null} */
MUST_USE err door_audit_entries(vault *v, const actor *a, const audit_query *q, json_t **out);
/* Everyone who accessed customer id: {"customer", "accesses":[...], "actors":[...]} */
MUST_USE err door_audit_subject_report(vault *v, const actor *a, const char *customer,
                                       json_t **out);
/* Everything username read between from and to (breach scope):
 * {"actor","from","to","entries":[...],"customers":[...],"fields":[...]} */
MUST_USE err door_audit_actor_report(vault *v, const actor *a, const char *username,
                                     int64_t from_us, int64_t to_us, json_t **out);

/* ---- keys ---- */
/* Adds a KEK version, rewraps every data key under it, retires the old versions. */
MUST_USE err door_rotate_kek(vault *v, const actor *a, uint32_t *new_version, size_t *rewrapped);

/* Re-applies an erasure journal: every customer id listed is erased if still present. */
MUST_USE err door_apply_erasures(vault *v, const char *const *ids, size_t n, size_t *applied);

#endif
