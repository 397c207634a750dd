/*
 * door_int.h - helpers shared by the door's files (door*.c); not for callers.
 */
#ifndef CUSTOS_DOOR_INT_H
#define CUSTOS_DOOR_INT_H

#include "door.h"

struct vault {
    char *dir;
    keyring *kr;
    store *st;
    audit *au;
    int64_t session_ttl_us;  /* absolute session lifetime */
    int64_t session_idle_us; /* a session unused this long ends */
    vault_config cfg;
    witness *witness;
    guard *guard;       /* the server's (door_guard_start); NULL for offline tools */
    char *audit_origin; /* the log's key name: what the audit anchor is bound to */
};

/* Blind-index widths: see docs/FORMATS.md (what they leak, why these numbers). */
extern const unsigned DOOR_BLIND_BITS[BI__COUNT];
/* The field of each blind index kind. */
extern const int DOOR_BLIND_FIELD[BI__COUNT];

/* Audits a denial and returns code with message (code is ERR_DENIED or ERR_NOT_FOUND). */
MUST_USE err door_deny(vault *v, const actor *a, const char *action, const char *customer,
                       const char *fields, const char *rule, err code, const char *msg);
/* This thread's locked 32-byte buffer for a data key (wiped by callers after use). */
uint8_t *door_dek_buf(void);
/* Reloads the keyring when another process rewrote it (rotation). Cheap: one stat(). */
MUST_USE err door_keyring_fresh(vault *v);
/* Inside a store transaction, just before c is written: makes c->wrapped_dek (which wraps
 * dek) carry a master-key version the store still accepts, rewrapping under the newest when a
 * rotation retired the one it was wrapped under, and sets c->kek_version from the envelope. */
MUST_USE err door_wrap_accepted(vault *v, store *st, const uint8_t dek[KEY_LEN],
                                sealed_customer *c);
/* Seals/blind-indexes the fields of rec into c (department goes to the clear column). */
MUST_USE err door_seal_customer(vault *v, const uint8_t dek[KEY_LEN], const record *rec,
                                sealed_customer *c, const bool *only);
/* Fetches a customer row and applies the department scope: ERR_NOT_FOUND (audited as a
 * denial) when it does not exist, is erased, or is outside the caller's department. */
MUST_USE err door_fetch_customer(vault *v, const actor *a, const char *action, const char *id,
                                 sealed_customer *c);
/* JSON of the customer with the fields the actor may read (masked as required). */
MUST_USE err door_render_customer(vault *v, const actor *a, const sealed_customer *c,
                                  const uint8_t dek[KEY_LEN], json_t **out);
/* Comma-separated names of the fields the actor will see of this row (for the audit entry). */
MUST_USE err door_visible_fields(const actor *a, const sealed_customer *c, buf *out);
/* Normalised blind value of a canonical field value. */
MUST_USE err door_blind_of(vault *v, blind_kind k, const char *canon, uint64_t *out);

/* ---- the actor's rights (door_policy.c): the policy, narrowed by an API key's scope,
 * widened for reading by an open break-glass grant ---- */
bool door_same_dept(const actor *a, const char *department);
read_level door_read_level(const actor *a, rectype t, int field, bool same_dept);
write_level door_write_level(const actor *a, rectype t, int field, bool same_dept);
bool door_allows(const actor *a, rectype t, op o, bool same_dept, const char **rule);
/* Allowed for some department (own or other): may the actor do this at all? */
bool door_allows_somewhere(const actor *a, rectype t, op o, const char **rule);
bool door_own_department_only(const actor *a);
bool door_can_search(const actor *a, blind_kind k);
/* Before any customer-data work: refuses (audited) a pending second factor and lapsed
 * security training when the policy asks for it. */
MUST_USE err door_gate(vault *v, const actor *a, const char *action);
/* A capability of the actor's role (API keys have none); audited denial when missing. */
MUST_USE err door_need(vault *v, const actor *a, capability c, const char *action);
/* After an allowed read under break-glass: counts it and raises the alert. */
void door_breakglass_read(vault *v, const actor *a, const char *action, const char *customer);
/* Raises an alert (the guard when attached, the log always). No personal values. */
void door_alert(vault *v, const char *severity, const char *rule, const actor *a,
                const char *detail);
/* A change-request for customer c (door_requests.c): seals the new values under the
 * customer's data key and stores a pending request; audited. */
MUST_USE err door_request_change(vault *v, const actor *a, const sealed_customer *c,
                                 const record *set, const bool *clear, const char *fields,
                                 char id[ID_LEN + 1]);
/* Uses up an approved export request of the actor (door_requests.c). */
MUST_USE err door_export_take(vault *v, const actor *a, const char *request, export_format f);

/* ---- two-person controls on the roads to customer data ---- */
/* Stores a notice for recipient ("account:NAME", "role:ROLE", "data_steward:DEPT" or
 * "data_steward:*" for every department's stewards); door_requests.c. Never fails the act:
 * a notice that cannot be stored is logged. */
void door_notify(vault *v, const char *recipient, const char *rule, const char *subject,
                 const char *detail);
/* door_notify inside a store transaction: the notice is written through st, its view. */
void door_notify_in(vault *v, store *st, const char *recipient, const char *rule,
                    const char *subject, const char *detail);
/* Can a role (narrowed by a key's scope when ops is not NULL) read any customer data? */
bool door_reads_customers(role r, const uint16_t *ops);
/* Files a request of kind ("apikey", "account", "breakglass") about subject for a second
 * person (door_requests.c), written through st (v->st or a transaction's view); payload is
 * stored as it is (no personal values). */
MUST_USE err door_request_file(vault *v, store *st, const actor *a, const char *kind,
                               const char *subject, const char *department, const char *what,
                               const char *payload, change_request *out);
/* May this API key act now? A key that reads customer data needs its department steward's
 * approval (latest request applied); the first use is noticed (door_accounts.c). */
MUST_USE err door_apikey_usable(vault *v, const apikey *k, const actor *a);
/* Carry out an approved request inside the decider's transaction; res receives what the
 * decider is shown (a hand-over code half). door_accounts.c, door_breakglass.c. */
MUST_USE err door_account_request_apply(vault *v, store *st, const actor *a, change_request *r,
                                        json_t *res, const char *unknown_hash);
/* The Argon2id hash of a random password nobody knows (made before a write transaction). */
MUST_USE err door_unknown_password_hash(char out[PASSWORD_HASH_MAX]);
MUST_USE err door_breakglass_request_apply(vault *v, store *st, const actor *a, change_request *r,
                                           json_t *res);

/* A honeytoken was read: the alert (door_honeytokens.c). */
void door_honeytoken_touched(vault *v, const actor *a, const char *action, const char *customer);

/* ---- reports to the guard (door_guard.c); index: the audit entry, or -1 ---- */
void door_observe_login(vault *v, const actor *a, bool ok, int64_t index);
void door_observe_denied(vault *v, const actor *a, const char *what, int64_t index);
void door_observe_read(vault *v, const actor *a, const char *customer, const char *cdept,
                       bool honeytoken, uint32_t customers, uint64_t bytes, int64_t index);
/* A write to customer c (a record added, a change made or requested, an erasure). A write to a
 * honeytoken raises the honeytoken alert like a read. */
void door_observe_write(vault *v, const actor *a, const char *action, const char *customer,
                        const char *cdept, bool honeytoken, int64_t index);
/* A search on a field the actor sees only masked that found nothing (probing a masked value). */
void door_observe_search_miss(vault *v, const actor *a, const char *field, int64_t index);
/* A bearer token or cookie that is no session or API key, from source. */
void door_observe_bad_token(vault *v, const char *source, int64_t index);
/* Size of a JSON answer as sent (compact). */
uint64_t door_json_bytes(const vault *v, const json_t *j);

/* ---- door_auth.c, for door_accounts.c ---- */
/* Usernames, departments, key names: 2-64 characters of a-z, 0-9, '_', '.', '-'. */
bool door_token_ok(const char *u);
MUST_USE err door_scope_parse(const char *scope, uint16_t ops[CAT__COUNT + 1]);
/* Clears SESSION_MFA_PENDING of the session of token. */
MUST_USE err door_session_complete(vault *v, const actor *a, const char *token);
MUST_USE err door_totp_secret(vault *v, const account *acc, uint8_t *secret);
bool door_second_factor_ok(vault *v, account *acc, const char *otp, const char *recovery);

/* ---- door_logins.c: lockout by (account, address), throttling by account ---- */
#define LOGINS_BURST 10     /* attempts from unfamiliar addresses an account may take at once */
#define LOGINS_REFILL_S 120 /* ... and one more every this many seconds */
typedef enum login_gate { LOGIN_GO, LOGIN_LOCKED, LOGIN_THROTTLED } login_gate;
typedef struct login_check {
    login_gate gate;
    bool familiar;          /* the account has signed in from this address before */
    bool reserved;          /* an attempt was taken from the account's bucket */
    int64_t retry_after_us; /* LOCKED or THROTTLED: until when */
    int lock_level;         /* after door_logins_failed */
    int64_t locked_until_us;
    uint8_t addr[16];
} login_check;
/* Before the password is checked: the pair's lock, familiarity, the account's bucket.
 * account_id may be NULL (unknown name); name is the audited name (unknown:... for those). */
void door_logins_check(vault *v, const char *account_id, const char *name, const char *source,
                       login_check *out);
/* A failed attempt of the pair; true when it starts a lockout (c->locked_until_us). */
bool door_logins_failed(vault *v, const char *name, login_check *c);
/* Success: the pair starts afresh, the attempt goes back to the bucket, the address is learnt. */
void door_logins_succeeded(vault *v, const char *account_id, const char *name,
                           const login_check *c);
/* The guard's lock for failed logins: the (account, address) pair, never the account. */
void door_logins_lock(vault *v, const char *name, const char *source, int64_t until_us);
/* Lifts every pair lock and refills the bucket of an account (an operator's unlock). */
void door_logins_forget(vault *v, const char *name);
/* Own password change (door_accounts.c): the same limits as a login. ERR_RATE or ERR_AUTH
 * (audited) when the caller may not try now. */
MUST_USE err door_password_attempt_begin(vault *v, const actor *a, login_check *lc);
/* Records the outcome: a failure counts like a failed login (audited, the guard told). */
MUST_USE err door_password_attempt_end(vault *v, const actor *a, login_check *lc, bool ok);

#endif
