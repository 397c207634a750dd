/*
 * door_int.h - helpers shared by the door's files (door*.c); not for callers.
 */
#ifndef CUSTOS_DOOR_INT_H
#define CUSTOS_DOOR_INT_H

#include "crypto/crypto.h"
#include "door.h"
#include "identity/identity.h"
#include "incident/incident.h"
#include "store/store.h"

struct vault {
    char *dir;
    keyring *kr;
    store *st;
    audit *au;
    identity id; /* accounts, sessions, keys, second factor (its st and kr are the above) */
    vault_config cfg;
    witness *witness;
    guard *guard;       /* the server's (door_guard_start); NULL for offline tools */
    char *audit_origin; /* the log's key name: what the audit anchor is bound to */
};

/* Fills an audit entry with the actor's part (who, role, from where, request id). */
void door_entry(audit_entry *e, const actor *a, const char *action, const char *decision,
                const char *rule);

/* The crypto layer's key source and cost for the door's vault_key and vault_kdf. */
static inline kek_source door_kek(const vault_key *k)
{
    return (kek_source){k->passphrase, k->passphrase_len, k->key_file};
}
static inline kdf_strength door_kdf(vault_kdf k)
{
    return k == VAULT_KDF_FAST ? KDF_FAST : KDF_MODERATE;
}

/* Session flags: the door's names for identity's. */
_Static_assert(SESSION_MFA_PENDING == IDENTITY_SESSION_PENDING, "session flags");
_Static_assert(SESSION_COOKIE == IDENTITY_SESSION_COOKIE, "session flags");
_Static_assert(TOKEN_TEXT_MAX == IDENTITY_TOKEN_MAX && CSRF_TEXT_MAX == IDENTITY_CSRF_MAX,
               "token sizes");

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
 * "data_steward:*" for every department's stewards); door_notify.c. Never fails the act:
 * a notice that cannot be stored is logged. */
void door_notify(vault *v, const char *recipient, const char *rule, const char *subject,
                 const char *detail);
/* door_notify inside a store transaction: the notice is written through st, its view. */
void door_notify_in(vault *v, store *st, const char *recipient, const char *rule,
                    const char *subject, const char *detail);
/* Can a role (narrowed by a key's scope when ops is not NULL) read any customer data? */
bool door_reads_customers(role r, const uint16_t *ops);
/* Audits an act on a request (action, decision, rule); door_notify.c. */
MUST_USE err door_request_audit(vault *v, const actor *a, const char *action, const char *decision,
                                const change_request *r, const char *rule);
/* Files a request of kind ("apikey", "account", "breakglass") about subject for a second
 * person (door_notify.c), written through st (v->st or a transaction's view); payload is
 * stored as it is (no personal values). */
MUST_USE err door_request_file(vault *v, store *st, const actor *a, const char *kind,
                               const char *subject, const char *department, const char *what,
                               const char *payload, change_request *out);
/* Carry out an approved request inside the decider's transaction (st, its view); res receives
 * what the decider is shown (a hand-over code half). door_accounts.c, door_breakglass.c. */
MUST_USE err door_account_request_apply(vault *v, store *st, const actor *a, change_request *r,
                                        json_t *res, const char *unknown_hash);
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

/* The stored incident id as its plain value, unaudited (door_incident.c; for door_drill.c,
 * which audits its own reads). incident_free(out) when done. */
MUST_USE err door_incident_value(vault *v, const char *id, incident *out);

/* ---- door_auth.c, for door_accounts.c ---- */
/* Own password change (door_accounts.c): the same limits as a login. ERR_RATE or ERR_AUTH
 * (audited) when the caller may not try now. */
MUST_USE err door_password_attempt_begin(vault *v, const actor *a, login_check *lc);
/* Records the outcome: a failure counts like a failed login (audited, the guard told). */
MUST_USE err door_password_attempt_end(vault *v, const actor *a, login_check *lc, bool ok);

/* ---- one account row, changed without losing a concurrent change (door_accounts.c) ----
 * Every writer of an account row goes through door_account_rmw: the row is read fresh inside a
 * write transaction (write transactions are serialised), fn changes only its own columns on
 * that fresh copy, the row is written back and the transaction commits. A writer therefore
 * never writes back a stale copy over a lock, an unlock, a remedial course or a sign-in that
 * committed meanwhile. fn gets the transaction's view st (for audit or reads in the same
 * transaction); an error from fn rolls back, nothing is written. The account is found by
 * account_id, or by username when account_id is NULL (ERR_NOT_FOUND when there is none).
 * out (may be NULL) receives the row as written; the caller wipes it
 * (identity_account_wipe). */
typedef err (*door_account_fn)(vault *v, store *st, account *acc, void *ctx);
MUST_USE err door_account_rmw(vault *v, const char *account_id, const char *username,
                              door_account_fn fn, void *ctx, account *out);
/* Locks the account until until_us (never shortens a longer lock) and ends its sessions: the
 * guard's lock response and an incident's containment. out as door_account_rmw's. */
MUST_USE err door_account_lock(vault *v, const char *username, int64_t until_us, account *out);
/* Lifts the account's lock and forgets its failed sign-ins (the guard's unlock). */
MUST_USE err door_account_unlock(vault *v, const char *username);

#ifdef CUSTOS_TESTING
/* Test builds: door_login calls this (when set) after its slow checks (password, second
 * factor) and before it re-reads the account to write its change, so a test can land a
 * concurrent lock or remedial course there. */
extern void (*door_test_login_paused)(void);
#endif

#endif
