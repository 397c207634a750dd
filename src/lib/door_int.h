/*
 * door_int.h - helpers shared by the door's files (door*.c); not for callers.
 */
#ifndef CUSTOS_DOOR_INT_H
#define CUSTOS_DOOR_INT_H

#include "door.h"

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
MUST_USE err door_wrap_accepted(vault *v, const uint8_t dek[KEY_LEN], sealed_customer *c);
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

/* A honeytoken was read: the alert (door_honeytokens.c). */
void door_honeytoken_touched(vault *v, const actor *a, const char *action, const char *customer);

/* ---- reports to the guard (door_guard.c); index: the audit entry, or -1 ---- */
void door_observe_login(vault *v, const actor *a, bool ok, int64_t index);
void door_observe_denied(vault *v, const actor *a, const char *what, int64_t index);
void door_observe_read(vault *v, const actor *a, const char *customer, const char *cdept,
                       bool honeytoken, uint32_t customers, uint64_t bytes, int64_t index);
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

#endif
