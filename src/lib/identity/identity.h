/*
 * identity.h - who someone is: accounts and their passwords, sessions, API keys,
 * the second factor (TOTP and recovery codes), hand-over codes, and the limits on
 * password guesses (lockout by account and address, throttling by account).
 *
 * Identity sits below the door and knows nothing of it: no actor, no audit log,
 * no policy decision about customer data. It answers questions ("is this token a
 * live session?", "is this the password?") and makes credentials; the door
 * decides, audits, and only then asks identity to act (write an account, issue a
 * session). Secrets: tokens, keys and codes are 256 random bits (recovery codes
 * 100) shown once; the store keeps BLAKE2b hashes, passwords as Argon2id, TOTP
 * secrets wrapped under the master key. Comparisons are constant-time.
 *
 * identity.c: the handle, names, passwords; sessions.c; apikeys.c; second_factor.c
 * (TOTP, recovery codes, hand-over codes); logins.c (guess limits).
 */
#ifndef CUSTOS_IDENTITY_H
#define CUSTOS_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "access/policy.h"
#include "access/totp.h"
#include "core/buf.h"
#include "core/err.h"
#include "crypto/crypto.h"
#include "model/model.h"
#include "store/store.h"

/* Who must use a second factor. */
typedef enum identity_second_factor {
    IDENTITY_2FA_DOORS, /* every role that reads customer data or administers access */
    IDENTITY_2FA_ALL,
    IDENTITY_2FA_OFF, /* demo vaults only */
} identity_second_factor;

/* The handle: borrowed store and keyring, and the vault's access settings. */
typedef struct identity {
    store *st;
    keyring *kr;
    const char *scope;       /* the vault's folder: in-memory guess counters are kept per vault */
    int64_t session_ttl_us;  /* absolute session lifetime */
    int64_t session_idle_us; /* a session unused this long ends */
    int lockout_after;       /* failures from one address before its lockout */
    int64_t lockout_us;      /* the first lockout; each next one doubles, up to 24 h */
    identity_second_factor second_factor;
} identity;

#define IDENTITY_TOKEN_MAX 64 /* "cst_"/"csk_"/"cho_" and 43 base64url characters */
#define IDENTITY_CSRF_MAX 48
#define IDENTITY_SESSION_PENDING 1u /* the second factor (or its enrolment) is still due */
#define IDENTITY_SESSION_COOKIE 2u  /* a browser session: state changes need the CSRF token */
#define IDENTITY_SESSION_PREFIX "cst_"
#define IDENTITY_APIKEY_PREFIX "csk_"

/* ---- names and passwords (identity.c) ---- */
/* Usernames, departments, key names: 2-64 characters of a-z, 0-9, '_', '.', '-'. */
bool identity_name_ok(const char *u);
/* Password policy: 12 to 1024 bytes, none of the most common passwords, not a common word or
 * the username padded with digits and symbols, not one character repeated or a run. */
MUST_USE err identity_password_acceptable(const char *username, const char *pw);
/* Argon2id. */
MUST_USE err identity_password_hash(const char *pw, char out[PASSWORD_HASH_MAX]);
/* Checks pw against acc's hash, or (acc NULL: an unknown name) against a hash of a random
 * password, so that both cost the same work. */
bool identity_password_check(const account *acc, const char *pw);
bool identity_password_needs_rehash(const account *acc);
/* The Argon2id hash of a random password nobody knows. */
MUST_USE err identity_unknown_password_hash(char out[PASSWORD_HASH_MAX]);
/* A random password nobody knows, as text (an account that its holder takes over). */
void identity_unknown_password(char out[64]);

/* ---- accounts (identity.c) ---- */
/* Checks the name, the password policy and the department and fills out (new id, Argon2id
 * hash); nothing is written until identity_account_insert. */
MUST_USE err identity_account_new(const char *username, const char *password, role r,
                                  const char *department, account *out);
MUST_USE err identity_account_insert(identity *id, const account *a);
/* Writes the whole row: only with an identity whose store is a write transaction's view, on a
 * row read in that same transaction (door_account_rmw), or it may write a stale copy back over a
 * concurrent lock, disabling or remedial course. */
MUST_USE err identity_account_update(identity *id, const account *a);
/* ERR_NOT_FOUND when there is none. The password hash is left in out: callers wipe it
 * (identity_account_wipe) once done. */
MUST_USE err identity_account_by_name(identity *id, const char *username, account *out);
MUST_USE err identity_account_by_id(identity *id, const char *account_id, account *out);
MUST_USE err identity_account_list(identity *id, account *out, size_t max, size_t *n);
void identity_account_wipe(account *a);
/* Does an account of role r need a second factor under the vault's settings? */
bool identity_needs_second_factor(const identity *id, role r);
/* Recovery codes the account has left (0 when none or unknown). */
int64_t identity_recovery_left(identity *id, const account *a);

/* ---- sessions (sessions.c) ---- */
typedef struct identity_session {
    char token[IDENTITY_TOKEN_MAX]; /* shown once; only its hash is stored */
    char csrf[IDENTITY_CSRF_MAX];   /* cookie sessions */
    char short_hash[17];            /* 8 bytes of the token's hash, hex: for the audit log */
    int64_t expires_us;
} identity_session;
/* The BLAKE2b hash under which a token (session or API key) is stored. */
void identity_token_hash(const char *token, uint8_t h[SESSION_HASH_LEN]);
/* The short hash of a token for the audit log (16 hex digits). */
void identity_token_short(const char *token, char out[17]);
/* A new session of account_id with flags (IDENTITY_SESSION_*). */
MUST_USE err identity_session_issue(identity *id, const char *account_id, uint32_t flags,
                                    identity_session *out);
typedef enum identity_check {
    IDENTITY_LIVE,    /* a live session of a usable account */
    IDENTITY_UNKNOWN, /* no such session: a made-up or stolen-and-ended token */
    IDENTITY_ENDED,   /* expired, idle too long, or its account disabled or locked */
} identity_check;
/* Checks a session token: absolute and idle expiry (an expired session is deleted), the
 * account neither disabled nor locked; a live session's idle clock is touched (at most once a
 * second). acc receives the account (password hash wiped), *flags the session's flags.
 * ERR_OK with *state saying which; another error when the store fails. */
MUST_USE err identity_session_check(identity *id, const char *token, identity_check *state,
                                    account *acc, uint32_t *flags);
/* The second factor was given: the session's IDENTITY_SESSION_PENDING goes. */
MUST_USE err identity_session_complete(identity *id, const char *token);
MUST_USE err identity_session_end(identity *id, const char *token);
/* Every session of an account; n (may be NULL) receives how many. */
MUST_USE err identity_sessions_revoke(identity *id, const char *account_id, size_t *n);
/* Retention: sessions that expired before before_us leave the store; n receives how many. */
MUST_USE err identity_sessions_purge(identity *id, int64_t before_us, int64_t *n);
/* The CSRF token derived from a session token, and the constant-time check of one sent. */
void identity_csrf_of(const char *token, char out[IDENTITY_CSRF_MAX]);
bool identity_csrf_ok(const char *token, const char *got);

/* ---- API keys (apikeys.c) ---- */
/* A fresh key: its text into out (shown once), its hash and prefix into k. */
void identity_apikey_mint(apikey *k, char out[IDENTITY_TOKEN_MAX]);
/* Looks an API key text up: *known when a key of that hash exists (revoked or not), ERR_AUTH
 * unless it is a live key (k filled). */
MUST_USE err identity_apikey_check(identity *id, const char *token, apikey *k, bool *known);
/* Records a use (kept to the second: written only when the second or the address changed). */
void identity_apikey_used(identity *id, const apikey *k, const char *source);
MUST_USE err identity_apikey_insert(identity *id, const apikey *k);
MUST_USE err identity_apikey_update(identity *id, const apikey *k);
MUST_USE err identity_apikey_by_id(identity *id, const char *key_id, apikey *out);
MUST_USE err identity_apikey_by_name(identity *id, const char *name, apikey *out);
MUST_USE err identity_apikey_list(identity *id, apikey *out, size_t max, size_t *n);
/* The op bits of a scope "transactions:read,create;customers:read" per category
 * ([CAT__COUNT]: customers). */
MUST_USE err identity_scope_parse(const char *scope, uint16_t ops[CAT__COUNT + 1]);

/* ---- the second factor (second_factor.c) ---- */
/* A new TOTP secret for acc (wrapped under the master key into acc->totp, not yet enabled)
 * and its otpauth:// URI into uri; the caller writes acc. */
MUST_USE err identity_totp_enrol(identity *id, account *acc, const char *issuer, buf *uri);
/* The otpauth:// URI of a secret being enrolled (not yet confirmed), for its QR code;
 * ERR_CONFLICT when none is being enrolled (a secret in use is never shown again). */
MUST_USE err identity_totp_pending_uri(identity *id, const account *acc, const char *issuer,
                                       buf *uri);
/* Checks a TOTP code (a step at or before the last accepted one is refused; acc->totp_step
 * moves on, the caller writes acc) or else a recovery code (used up here). */
bool identity_second_factor_ok(identity *id, account *acc, const char *otp, const char *recovery);
/* RECOVERY_CODES fresh recovery codes for acc into codes (shown once, the hashes stored,
 * replacing the old ones); the caller wipes codes. */
MUST_USE err identity_recovery_codes_new(identity *id, const account *acc,
                                         char codes[RECOVERY_CODES][RECOVERY_TEXT_MAX]);
/* No second factor any more: acc's secret cleared (the caller writes acc), its recovery
 * codes deleted. */
MUST_USE err identity_second_factor_reset(identity *id, account *acc);

/* ---- hand-over codes (second_factor.c): one-time codes split between two people ---- */
#define IDENTITY_CODE_HASH_HEX 65
void identity_code_new(char text[IDENTITY_TOKEN_MAX], char hash_hex[IDENTITY_CODE_HASH_HEX]);
bool identity_code_matches(const char *text, const char *hash_hex);

/* ---- limits on password guesses (logins.c) ---- */
#define LOGINS_BURST 10     /* attempts from unfamiliar addresses an account may take at once */
#define LOGINS_REFILL_S 120 /* ... and one more every this many seconds */
typedef enum login_gate { LOGIN_GO, LOGIN_LOCKED, LOGIN_THROTTLED } login_gate;
typedef struct login_check {
    login_gate gate;
    bool familiar;          /* the account has signed in from this address before */
    bool reserved;          /* an attempt was taken from the account's bucket */
    int64_t retry_after_us; /* LOCKED or THROTTLED: until when */
    int lock_level;         /* after identity_logins_failed */
    int64_t locked_until_us;
    uint8_t addr[16];
} login_check;
/* Before the password is checked: the pair's lock, familiarity, the account's bucket.
 * account_id may be NULL (unknown name); name is the audited name (unknown:... for those). */
void identity_logins_check(identity *id, const char *account_id, const char *name,
                           const char *source, login_check *out);
/* A failed attempt of the pair; true when it starts a lockout (c->locked_until_us). */
bool identity_logins_failed(identity *id, const char *name, login_check *c);
/* Success: the pair starts afresh, the attempt goes back to the bucket, the address is learnt. */
void identity_logins_succeeded(identity *id, const char *account_id, const char *name,
                               const login_check *c);
/* The guard's lock for failed logins: the (account, address) pair, never the account. */
void identity_logins_lock(identity *id, const char *name, const char *source, int64_t until_us);
/* Lifts every pair lock and refills the bucket of an account (an operator's unlock). */
void identity_logins_forget(identity *id, const char *name);

#endif
