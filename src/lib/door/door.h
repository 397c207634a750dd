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
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "access/policy.h"
#include "audit/audit.h"
#include "audit/witness.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "guard/guard.h"
#include "model/ingest.h"
#include "model/model.h"

/* ---- the vault folder ---- */
/* The open vault: its folder, keys, store, audit log and guard. Opaque: only the door's
 * files (door_int.h) see inside. */
typedef struct vault vault;

#define VAULT_DB "custos.db"
#define VAULT_KEYRING "keyring"
#define VAULT_AUDIT "audit.db"
#define VAULT_AUDIT_PUB "audit.pub"
#define VAULT_TLS_KEY "tls/key.pem"
#define VAULT_TLS_CERT "tls/cert.pem"
#define VAULT_ERASURES "erasures.journal"
/* Sessions are kept this long after they expire (custos.json retention.sessions_days). */
#define DOOR_KEEP_SESSIONS_US ((int64_t)30 * 86400 * 1000000)

/* What opens a vault: the operator's passphrase or key file (the door's own type: the fronts
 * see no key material beyond this). */
typedef struct vault_key {
    const char *passphrase; /* UTF-8, or NULL */
    size_t passphrase_len;
    const char *key_file; /* a file holding 32 random bytes as 64 hex digits, or NULL */
} vault_key;
/* The Argon2id cost of the wrapping key: moderate, or fast for tests only. */
typedef enum vault_kdf { VAULT_KDF_MODERATE, VAULT_KDF_FAST } vault_kdf;
/* CUSTOS_PASSPHRASE from the environment, or key_file when given; ERR_INPUT when neither is
 * set. The result borrows getenv()'s memory. */
MUST_USE err vault_key_from_env(const char *key_file, vault_key *out);
/* Writes a new random key file (mode 0600, 64 hex digits and a newline); refuses to
 * overwrite. */
MUST_USE err vault_key_file_generate(const char *path);

typedef struct vault_init_opts {
    const vault_key *src;
    vault_kdf kdf;
    const char *tls_cert; /* copy these instead of generating (both or neither) */
    const char *tls_key;
} vault_init_opts;

/* Creates DIR (must not exist or be empty): database, keyring, audit log, TLS material,
 * the audit public key. Refuses an existing vault (ERR_CONFLICT). */
MUST_USE err vault_init(const char *dir, const vault_init_opts *o);
MUST_USE err vault_open(const char *dir, const vault_key *src, vault **out);
typedef struct vault_open_opts {
    /* Starts although the audit anchor is missing, does not verify with the master key, or
     * is older than the file witness's last checkpoint (after an operator checked the log
     * against a witness); the override is itself audited and a new anchor written. */
    bool accept_audit_anchor;
} vault_open_opts;
MUST_USE err vault_open_with(const char *dir, const vault_key *src, const vault_open_opts *o,
                             vault **out);
/* True when at least one audit witness (file, syslog, webhook) is configured. */
bool vault_has_witness(const vault *v);
void vault_close(vault *v);
/* The vault's folder, its custos.json as loaded, and the running server's guard (NULL for
 * offline tools and with --guard off). */
const char *vault_dir(const vault *v);
const vault_config *vault_cfg(const vault *v);
guard *vault_guard(const vault *v);
/* dir/name into out (PATH_MAX). */
void vault_path(const vault *v, const char *name, char *out, size_t max);
void vault_path_in(const char *dir, const char *name, char *out, size_t max);
/* The erasure journal of the vault in dir: custos.json's erasures.journal, else
 * dir/erasures.journal (PATH_MAX). */
void vault_erasure_journal(const char *dir, const vault_config *c, char *out, size_t max);

/* ---- backups and restores (vault_backup.c) ---- */
/* An online backup of the open vault into OUT (sealed under the keyring; audited). */
MUST_USE err vault_backup(vault *v, const char *out);
typedef struct vault_restore_opts {
    const vault_key *src;
    const char *erasure_journal;  /* a journal to honour besides the configured ones, or NULL */
    bool without_erasure_journal; /* restore even with none (audited in the restored log) */
} vault_restore_opts;
typedef struct vault_restore_result {
    size_t reapplied;           /* erasures applied again */
    bool overridden;            /* restored without an erasure journal */
    char stood_in[PATH_MAX];    /* the configured journal that was missing, when
                                   o->erasure_journal stood in for it */
    char replaced_to[PATH_MAX]; /* where the replaced vault was moved, or "" */
} vault_restore_result;
/* Restores BACKUP into DIR (a new folder, or an existing vault that is kept aside). */
MUST_USE err vault_restore(const char *backup, const char *dir, const vault_restore_opts *o,
                           vault_restore_result *res);
/* The erasure journal custos.json names, made at start when it is not there yet (naming every
 * customer the vault has erased already). */
MUST_USE err vault_erasure_journal_ensure(const char *dir);

/* ---- who is asking ---- */
typedef struct actor {
    char account_id[ID_LEN + 1];
    char username[USERNAME_MAX + 1];
    role role;
    char department[DEPT_MAX + 1];
    char session[17]; /* short hash of the session token, for the audit log */
    char source[64];  /* client address */
    char request_id[40];
    uint32_t session_flags;    /* SESSION_* */
    int64_t training_until_us; /* security training valid until */
    /* An API key (a business system) instead of a person: its scope narrows the role. */
    bool via_key;
    char key_id[ID_LEN + 1];
    uint16_t key_ops[CAT__COUNT + 1]; /* bit per op, per category; [CAT__COUNT]: customers */
    /* An open break-glass grant (security staff in an emergency). */
    char breakglass[ID_LEN + 1];
    char breakglass_rule[ID_LEN + 16];
} actor;

#define SESSION_MFA_PENDING 1u /* password checked; the second factor (or its enrolment) is due */
#define SESSION_COOKIE 2u      /* browser session: state-changing requests need the CSRF token */

/* A system actor for offline tools (CLI init, demo, restore): no role grants, audited. */
void actor_system(actor *a, const char *what);

/* ---- idempotency (door_idem.c) ---- */
#define DOOR_IDEM_TTL_US ((int64_t)24 * 3600 * 1000000)
typedef struct door_idem {
    uint8_t k[32], h[32]; /* keyed MACs: the row's key, the request's fingerprint */
    bool claimed;         /* this request answers the key: door_idem_end stores or drops */
} door_idem;
/* Drops cache rows of an older format (vault_open). */
MUST_USE err door_idem_init(vault *v);
/* For a POST with an Idempotency-Key: *replay receives the first answer (and *status its
 * status; the replay is audited), or t->claimed is set and the request runs now.
 * ERR_CONFLICT when the key was used with another request or its first request is still
 * running. */
MUST_USE err door_idem_begin(vault *v, const actor *a, const char *key, const char *method,
                             const char *url, slice body, door_idem *t, int *status,
                             json_t **replay);
/* After the request: a 2xx JSON answer is remembered (sealed), anything else frees the key. */
void door_idem_end(vault *v, door_idem *t, int status, const json_t *answer);

/* ---- accounts and sessions (door_auth.c, door_accounts.c; credentials: identity/) ---- */
MUST_USE err door_account_create(vault *v, const actor *by, const char *username,
                                 const char *password, role r, const char *department);
#define TOKEN_TEXT_MAX 64
#define CSRF_TEXT_MAX 48

typedef struct login_request {
    const char *username, *password;
    const char *otp;      /* a TOTP code, or NULL */
    const char *recovery; /* a recovery code instead, or NULL */
    bool cookie;          /* browser mode: a CSRF token comes back too */
    const char *source, *request_id;
} login_request;

typedef struct login_result {
    char token[TOKEN_TEXT_MAX]; /* shown once; only its hash is stored */
    char csrf[CSRF_TEXT_MAX];   /* cookie mode */
    int64_t expires_us;
    bool mfa_pending;       /* the session may only enrol or verify the second factor */
    bool enrol;             /* ... and the account has no second factor yet: enrol first */
    bool code_due;          /* ERR_AUTH because the password was right and a code must follow */
    uint32_t retry_after_s; /* ERR_RATE: the account is throttled for this long */
} login_result;

/* Every failure is ERR_AUTH "invalid username or password" after the same work, except
 * ERR_AUTH "second factor required" when the password was right and a code is due, and
 * ERR_RATE (no password checked, out->retry_after_s) when the name has had too many attempts
 * from unfamiliar addresses. */
MUST_USE err door_login(vault *v, const login_request *rq, login_result *out);
/* Resolves a bearer token (session "cst_..." or API key "csk_...") into an actor. */
MUST_USE err door_authenticate(vault *v, const char *token, const char *source,
                               const char *request_id, actor *out);
/* The CSRF token that belongs to a session token (cookie mode). */
void door_csrf_of(const char *token, char out[CSRF_TEXT_MAX]);
/* A state-changing cookie request: GOT (the X-CSRF-Token header, or NULL) must be the token
 * derived from the session TOKEN (compared in constant time). A wrong or missing one is
 * audited as a denial (request.csrf), then ERR_DENIED. */
MUST_USE err door_csrf_check(vault *v, const actor *a, const char *token, const char *got);
MUST_USE err door_logout(vault *v, const actor *a, const char *token);
/* Ends every session of an account (and, for the guard, its API keys when keys is true). */
MUST_USE err door_revoke_sessions(vault *v, const actor *by, const char *username, const char *why,
                                  size_t *n);

/* Account management (accounts.manage; nobody changes their own role). out: the account. */
typedef struct account_change {
    const char *role;          /* or NULL */
    const char *department;    /* or NULL */
    int disabled;              /* -1: unchanged, 0: enable, 1: disable */
    const char *password;      /* reset to this (or NULL) */
    int64_t training_until_us; /* -1: unchanged (training.manage) */
    bool reset_second_factor;
} account_change;
MUST_USE err door_accounts_list(vault *v, const actor *a, json_t **out);
MUST_USE err door_account_add(vault *v, const actor *a, const char *username, const char *password,
                              const char *role, const char *department, json_t **out);
MUST_USE err door_account_change(vault *v, const actor *a, const char *username,
                                 const account_change *c, json_t **out);
MUST_USE err door_account_self(vault *v, const actor *a, json_t **out);
MUST_USE err door_password_change(vault *v, const actor *a, const char *old_pw, const char *new_pw);
/* Offline, by the operator who holds the master key (custos accounts add --training-until,
 * custos demo): sets an account's training date, audited as account.training under the
 * system actor BY (rule "offline"). */
MUST_USE err door_account_training_offline(vault *v, const actor *by, const char *username,
                                           int64_t until_us);
/* Whether an account of that name exists (offline tools: custos demo). */
bool door_account_exists(vault *v, const char *username);
/* The actor of an existing account (offline tools act as it, e.g. the demo's staff): its id,
 * role and department; training counted as current. ERR_NOT_FOUND when there is none. */
MUST_USE err door_actor_of(vault *v, const char *username, actor *out);
/* Marks the vault as a demo vault (custos.db meta), so tools can say so. */
MUST_USE err door_mark_demo(vault *v);
/* Password policy: length, the most common passwords, the username. */
MUST_USE err door_password_acceptable(const char *username, const char *pw);

/* Second factor: enrolment gives the secret as an otpauth:// URI; confirming with a code
 * turns it on, returns 10 one-time recovery codes, and completes a pending session. */
MUST_USE err door_totp_enrol(vault *v, const actor *a, json_t **out);
MUST_USE err door_totp_confirm(vault *v, const actor *a, const char *token, const char *code,
                               json_t **out);
/* Completes a pending session with a code (or a recovery code). */
MUST_USE err door_totp_verify(vault *v, const actor *a, const char *token, const char *code,
                              const char *recovery);

/* API keys (apikeys.manage): the key text is shown once. scope: "cat:op,op;cat:op" with
 * categories and "customers"; addresses: comma-separated CIDR list or "" for anywhere. */
MUST_USE err door_apikey_create(vault *v, const actor *a, const char *name, const char *role,
                                const char *department, const char *scope, const char *addresses,
                                json_t **out);
MUST_USE err door_apikey_rotate(vault *v, const actor *a, const char *id, json_t **out);
MUST_USE err door_apikey_revoke(vault *v, const actor *a, const char *id);
MUST_USE err door_apikeys_list(vault *v, const actor *a, json_t **out);

/* ---- policy (door_policy.c) ---- */
/* Reloads DIR/policy.conf (or the default when absent); a bad file changes nothing. The
 * change is audited with the diff of effective grants. out: {"source","changed","diff"}. */
MUST_USE err door_policy_reload(vault *v, const actor *a, json_t **out);
/* Explains a decision; with a customer id, for that customer's department. */
MUST_USE err door_policy_explain(vault *v, const actor *a, const char *role, const char *op,
                                 const char *category, const char *customer, json_t **out);

/* ---- change and export requests (door_requests.c) ---- */
/* A change by customer service to identity or contact fields becomes a request: ERR_OK
 * with request_id filled (the caller answers 202). */
MUST_USE err door_requests_list(vault *v, const actor *a, const char *status, json_t **out);
MUST_USE err door_request_get(vault *v, const actor *a, const char *id, json_t **out);
MUST_USE err door_request_approve(vault *v, const actor *a, const char *id, const char *note,
                                  json_t **out);
MUST_USE err door_request_reject(vault *v, const actor *a, const char *id, const char *note,
                                 json_t **out);
MUST_USE err door_export_request(vault *v, const actor *a, const char *format, char id[ID_LEN + 1]);
/* The notices addressed to the caller (door_notify.c; their account, their role, their department's
 * stewards), id > after: {"notices":[{"id","at","recipient","rule","subject","detail"}]}. */
MUST_USE err door_notices(vault *v, const actor *a, int64_t after, json_t **out);

/* ---- credential hand-over (door_accounts.c) ----
 * An account that can read customer data never gets a password from the admin: creating
 * it, giving it such a role or department, or resetting its password or second factor is a
 * request. The requester is shown one half of a hand-over code, the approving data steward
 * the other half; the holder sets their own password with both halves. */
typedef struct handover_request {
    const char *username, *request, *code_a, *code_b, *password;
    const char *source, *request_id;
} handover_request;
/* Every failure is ERR_AUTH "invalid hand-over" (audited). */
MUST_USE err door_handover(vault *v, const handover_request *h);

/* ---- honeytokens (door_honeytokens.c; security: honeytokens.manage) ---- */
MUST_USE err door_honeytoken_add(vault *v, const actor *a, const char *department, json_t **out);
MUST_USE err door_honeytokens_list(vault *v, const actor *a, json_t **out);

/* ---- the guard (door_guard.c) ---- */
/* Opens the guard with VAULT/guard.rules (or the built-in rules) and VAULT/guard.db, its
 * responses wired to accounts, sessions, API keys and the vault seal. */
MUST_USE err door_guard_start(vault *v);
void door_guard_stop(vault *v);
/* True when the door reported this thread's request to the guard (then the server does not
 * report it again as a plain request); clears the mark. */
bool door_observed_take(void);

typedef struct door_alert_query {
    const char *status, *severity, *rule, *account;
    int64_t since_us, before_id;
    size_t limit;
} door_alert_query;
/* Security (guard.manage) sees every alert; HR (violations.read) those routed to HR; a data
 * steward those routed to their department's stewards. */
MUST_USE err door_alerts(vault *v, const actor *a, const door_alert_query *q, json_t **out);
MUST_USE err door_alert_decide(vault *v, const actor *a, int64_t id, bool close,
                               const char *reason);
MUST_USE err door_violations(vault *v, const actor *a, const char *username, json_t **out);
MUST_USE err door_guard_sanctions(vault *v, const actor *a, json_t **out);
/* what: block (seconds), unblock, unthrottle-address, unthrottle-account, unlock. */
MUST_USE err door_guard_act(vault *v, const actor *a, const char *what, const char *subject,
                            int64_t seconds, const char *reason);

/* ---- the emergency brake (door_seal.c) ---- */
bool door_sealed(vault *v);
/* Security staff (guard.manage), or the guard as the system actor. */
MUST_USE err door_vault_seal(vault *v, const actor *a, const char *reason);
MUST_USE err door_vault_unseal(vault *v, const actor *a, const vault_key *src);

/* ---- readiness (door_health.c) ---- */
typedef struct door_ready {
    bool ready;          /* audit_ok and disk_ok */
    bool audit_ok;       /* the audit log's write lock could be taken */
    bool disk_ok;        /* free space at least min_free */
    uint64_t free_bytes; /* on the vault's file system */
    uint64_t min_free;   /* custos.json server.min_free_mb, or the default */
} door_ready;
/* Checks now (may wait up to a second for the audit log's lock; call from a monitor, not per
 * request). */
void door_readiness(vault *v, door_ready *out);
uint64_t door_ready_min_free(const vault *v);
/* Reports a vault that became not ready to the guard (an alert through its notice rules). */
void door_readiness_alert(vault *v, const door_ready *r);

/* The counts /healthz and /metrics publish (0 where one cannot be read). */
typedef struct door_stats {
    uint64_t audit_entries;
    int64_t customers;
} door_stats;
void door_stats_get(vault *v, bool with_customers, door_stats *out);
/* Whether TOKEN is the metrics bearer token configured in custos.json (its SHA-256 is kept,
 * compared in constant time). False when none is configured. */
bool door_metrics_token_ok(const vault *v, const char *token);
bool door_metrics_token_set(const vault *v);
/* SIGHUP: the keyring file again (a `keys rotate` next to the running server). */
MUST_USE err door_keyring_reload(vault *v);

/* ---- break-glass (door_breakglass.c) ---- */
MUST_USE err door_breakglass_open(vault *v, const actor *a, const char *reason, int64_t minutes,
                                  json_t **out);
MUST_USE err door_breakglass_close(vault *v, const actor *a, const char *id);
MUST_USE err door_breakglass_list(vault *v, const actor *a, bool unreviewed_only, json_t **out);
MUST_USE err door_breakglass_review(vault *v, const actor *a, const char *id, const char *note);

/* ---- customers ---- */
MUST_USE err door_customer_create(vault *v, const actor *a, const record *in, char id[ID_LEN + 1]);
MUST_USE err door_customer_get(vault *v, const actor *a, const char *id, json_t **out);
/* door_customer_get that also gives the row's version (the ETag; may be NULL). */
MUST_USE err door_customer_read(vault *v, const actor *a, const char *id, json_t **out,
                                uint64_t *version);
/* set: fields present are set; clear[i]: field i is removed. */
/* request_id (may be NULL for callers that cannot take a request) receives the id of a
 * change request when the change needs a steward's approval; it is "" when applied. */
MUST_USE err door_customer_update(vault *v, const actor *a, const char *id, const record *set,
                                  const bool clear[CF__COUNT], char *request_id);
/* The update, merged field by field into the row as it is when the write commits (the read,
 * the merge and the write hold the store's write lock, so concurrent changes to other fields
 * all survive and changes to the same field apply one after the other). if_match != 0: only
 * when the row's version is still if_match, else ERR_PRECONDITION and nothing changes.
 * version (may be NULL) receives the row's new version. */
MUST_USE err door_customer_change(vault *v, const actor *a, const char *id, const record *set,
                                  const bool clear[CF__COUNT], uint64_t if_match, char *request_id,
                                  uint64_t *version);
MUST_USE err door_customer_erase(vault *v, const actor *a, const char *id, const char *reason);
/* The erasure, only when the row's version is still if_match (0: unconditional). */
MUST_USE err door_customer_erase_if(vault *v, const actor *a, const char *id, const char *reason,
                                    uint64_t if_match);
/* Exact search by a blind-indexed field (k) or, with k == BI_NONE, a listing. Results are
 * confirmed by decryption; out is {"customers":[...], "next": "<cursor>"|null}. */
MUST_USE err door_customer_search(vault *v, const actor *a, blind_kind k, const char *term,
                                  const char *after, size_t limit, json_t **out);
/* Per-customer data-key rotation: re-encrypts the customer's fields and records. */
MUST_USE err door_customer_rotate_key(vault *v, const actor *a, const char *id);
/* The rotation, only when the row's version is still if_match (0: unconditional); serialised
 * with every other write to the customer. version (may be NULL) receives the new version. */
MUST_USE err door_customer_rotate_key_if(vault *v, const actor *a, const char *id,
                                         uint64_t if_match, uint64_t *version);

/* ---- transactions and communications ---- */
MUST_USE err door_record_create(vault *v, const actor *a, rectype t, const char *customer_id,
                                const record *in, char id[ID_LEN + 1]);
MUST_USE err door_record_list(vault *v, const actor *a, rectype t, const char *customer_id,
                              const char *after, size_t limit, json_t **out);

/* ---- bulk ---- */
/* Validated batch in, all or nothing. report: {"dry_run":b,"rows":n,"created":n,
 * "duplicates":n,"errors":[{"row","line","field","message"}]}. Row errors -> ERR_INPUT with
 * the report still filled; nothing is written. */
MUST_USE err door_import(vault *v, const actor *a, import_batch *b, bool dry_run, json_t **report);

typedef enum export_format { EXPORT_CSV, EXPORT_JSONL } export_format;
typedef struct door_export door_export;
/* Starts an export (authorized and audited per page) under an approved export request
 * (two-person rule; the request is used up); door_export_next fills out with the next chunk
 * of the file, empty at the end. */
MUST_USE err door_export_open(vault *v, const actor *a, export_format f, const char *request,
                              door_export **out);
MUST_USE err door_export_next(door_export *x, buf *out);
void door_export_close(door_export *x);
/* The export's watermark ("cwm_" and 24 hex digits, random per export): written into every
 * row (CSV column and JSON member "export_mark") and into the export's audit entry, so that a
 * leaked file, or any row of it, names the export and who made it. */
#define EXPORT_MARK_LEN 28
const char *door_export_mark(const door_export *x);

/* ---- the audit log (auditor, legal and security only; every read is itself audited) ---- */
/* {"checkpoint": "<signed note>", "size": n} */
MUST_USE err door_audit_checkpoint(vault *v, const actor *a, json_t **out);
/* {"index","size","leaf_hash","entry","proof":[b64...],"root"} (RFC 9162 §2.1.3) */
MUST_USE err door_audit_inclusion(vault *v, const actor *a, uint64_t index, uint64_t size,
                                  json_t **out);
/* {"from","to","proof":[b64...],"root_from","root_to"} (RFC 9162 §2.1.4) */
MUST_USE err door_audit_consistency(vault *v, const actor *a, uint64_t m, uint64_t n, json_t **out);
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
