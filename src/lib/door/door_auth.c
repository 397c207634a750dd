/*
 * door_auth.c - signing in and authenticating at the door: login, the second
 * factor at login, sessions and API keys turned into an actor, CSRF, logout.
 *
 * The credentials themselves (tokens, hashes, guess limits) are identity's
 * (src/lib/identity/); this file decides, audits, and tells the guard. A
 * failed login costs the same work whether or not the username exists (a
 * dummy Argon2id verification, one audit entry, one database write) and always
 * answers the same words. Failures lock out the (account, address) pair and
 * throttle the account across addresses (identity/logins.c), never the account
 * as a whole and never a session already open; every lockout is audited and
 * alerted.
 *
 * Sessions end at an absolute limit and after an idle period; cookie sessions
 * (browsers) must echo a CSRF token derived from the session token on every
 * state-changing request. API keys ("csk_...") act for business systems with
 * their own scope and, optionally, only from listed addresses.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"
#include "door_int.h"

err door_account_create(vault *v, const actor *by, const char *username, const char *password,
                        role r, const char *department)
{
    account acc;
    err rc = identity_account_new(username, password, r, department, &acc);
    if (rc == ERR_OK) {
        audit_entry e;
        char what[USERNAME_MAX + ROLE_MAX + DEPT_MAX + 40];
        snprintf(what, sizeof what, "account=%s role=%s department=%s", acc.username, acc.role,
                 acc.department);
        door_entry(&e, by, "account.create", "allow",
                   by->role == ROLE__COUNT ? "setup" : "accounts.manage");
        e.reason = what; /* usernames, roles, departments: not customer data */
        rc = audit_append(v->au, &e, NULL);
    }
    if (rc == ERR_OK) {
        rc = identity_account_insert(&v->id, &acc);
    }
    identity_account_wipe(&acc);
    return rc;
}

void door_csrf_of(const char *token, char out[CSRF_TEXT_MAX])
{
    identity_csrf_of(token, out);
}

err door_csrf_check(vault *v, const actor *a, const char *token, const char *got)
{
    if (identity_csrf_ok(token, got)) {
        return ERR_OK;
    }
    audit_entry e;
    door_entry(&e, a, "request.csrf", "deny", "csrf-token");
    TRY(audit_append(v->au, &e, NULL));
    BAIL(ERR_DENIED, "missing or wrong X-CSRF-Token");
}

static void actor_of_account(actor *a, const account *acc, const char *source,
                             const char *request_id)
{
    memset(a, 0, sizeof *a);
    snprintf(a->account_id, sizeof a->account_id, "%s", acc->id);
    snprintf(a->username, sizeof a->username, "%s", acc->username);
    snprintf(a->department, sizeof a->department, "%s", acc->department);
    a->role = ROLE__COUNT;
    IGNORE(role_parse(acc->role, &a->role));
    a->training_until_us = acc->training_until_us;
    snprintf(a->source, sizeof a->source, "%s", source);
    snprintf(a->request_id, sizeof a->request_id, "%s", request_id);
}

static err new_session(vault *v, actor *a, const account *acc, uint32_t flags, login_result *out)
{
    identity_session s;
    err rc = identity_session_issue(&v->id, acc->id, flags, &s);
    if (rc == ERR_OK) {
        memcpy(out->token, s.token, sizeof out->token);
        memcpy(out->csrf, s.csrf, sizeof out->csrf);
        memcpy(a->session, s.short_hash, sizeof a->session);
        out->expires_us = s.expires_us;
        out->mfa_pending = (flags & SESSION_MFA_PENDING) != 0;
    }
    mem_wipe(&s, sizeof s);
    return rc;
}

/* A failed attempt (login or own password change): counted for the pair, audited, told to
 * the guard; a lockout that starts is audited and alerted. */
static err attempt_failed(vault *v, actor *a, bool known, login_check *lc, const char *action,
                          const char *why)
{
    bool lock_now = identity_logins_failed(&v->id, a->username, lc);
    audit_entry e;
    door_entry(&e, a, action, "deny", why);
    uint64_t idx = 0;
    TRY(audit_append(v->au, &e, &idx));
    door_observe_login(v, a, false, (int64_t)idx);
    if (lock_now && known) {
        char d[96];
        snprintf(d, sizeof d, "lockout %d for %lld s from %s", lc->lock_level,
                 (long long)((lc->locked_until_us - clock_now_us() + 500000) / 1000000), a->source);
        door_entry(&e, a, "account.lock", "allow", "failed-logins");
        e.reason = d;
        TRY(audit_append(v->au, &e, NULL));
        door_alert(v, "medium", "login-lockout", a, d);
    }
    return ERR_OK;
}

typedef struct login_ctx {
    char checked[PASSWORD_HASH_MAX]; /* the hash the password was checked against */
    char next[PASSWORD_HASH_MAX];    /* its upgrade, when rehash */
    char totp[sizeof(((account *)0)->totp)];
    bool totp_enabled, rehash, step_used;
    int64_t step;    /* the TOTP step this sign-in used (when step_used) */
    const char *why; /* set when the fresh row refuses the sign-in */
} login_ctx;

static bool same_text(const char *x, const char *y, size_t max)
{
    size_t n = strnlen(x, max);
    return strnlen(y, max) == n && mem_eq_ct(x, y, n);
}

/* A sign-in's own change to the fresh row, after re-checking what the slow checks relied on. */
static err login_fn(vault *v, store *st, account *acc, void *ctx)
{
    (void)v;
    (void)st;
    login_ctx *c = ctx;
    c->why =
        acc->disabled                                            ? "disabled"
        : acc->locked_until_us > clock_now_us()                  ? "locked"
        : !same_text(acc->pwhash, c->checked, sizeof c->checked) ? "password-changed"
        : acc->totp_enabled != c->totp_enabled || !same_text(acc->totp, c->totp, sizeof c->totp)
            ? "second-factor-changed"
        : c->step_used && acc->totp_step >= c->step ? "bad-second-factor" /* raced replay */
                                                    : NULL;
    if (c->why) {
        return ERR_CONFLICT;
    }
    if (c->rehash) {
        snprintf(acc->pwhash, sizeof acc->pwhash, "%s", c->next);
    }
    if (c->step_used) {
        acc->totp_step = c->step;
    }
    acc->failed_logins = 0;
    acc->lock_level = 0;
    return ERR_OK;
}

#ifdef CUSTOS_TESTING
void (*door_test_login_paused)(void);
#endif

err door_login(vault *v, const login_request *rq, login_result *out)
{
    memset(out, 0, sizeof *out);
    account acc;
    memset(&acc, 0, sizeof acc);
    int64_t now = clock_now_us();
    const char *password = rq->password ? rq->password : "";
    err found = identity_account_by_name(&v->id, rq->username, &acc);
    actor a;
    if (found == ERR_OK) {
        actor_of_account(&a, &acc, rq->source, rq->request_id);
    } else {
        /* An unknown name may be a mistyped password: log only its keyed hash. */
        memset(&a, 0, sizeof a);
        a.role = ROLE__COUNT;
        snprintf(a.source, sizeof a.source, "%s", rq->source);
        snprintf(a.request_id, sizeof a.request_id, "%s", rq->request_id);
        uint8_t h[32];
        char hex[HEX_LEN(8)];
        keyring_audit_hash(v->kr, slice_cstr(rq->username ? rq->username : ""), h);
        hex_encode(hex, h, 8);
        snprintf(a.username, sizeof a.username, "unknown:%s", hex);
    }
    /* Lockout by (account, address) and the account's throttle across addresses. A throttled
     * attempt is refused before any password work: no guess is checked. */
    login_check lc;
    identity_logins_check(&v->id, found == ERR_OK ? acc.id : NULL, a.username, rq->source, &lc);
    if (lc.gate == LOGIN_THROTTLED) {
        audit_entry e;
        door_entry(&e, &a, "login", "deny", "throttled");
        uint64_t idx = 0;
        err rc = audit_append(v->au, &e, &idx);
        if (rc == ERR_OK) {
            door_observe_login(v, &a, false, (int64_t)idx);
        }
        identity_account_wipe(&acc);
        TRY(rc);
        out->retry_after_s = (uint32_t)((lc.retry_after_us + 999999) / 1000000);
        BAIL(ERR_RATE, "too many sign-in attempts for this account: try again later");
    }
    bool ok = identity_password_check(found == ERR_OK ? &acc : NULL, password);
    /* A lock set on the account itself (the guard for what the account did, an operator). */
    bool locked = found == ERR_OK && acc.locked_until_us > now;
    /* A locked pair opens only at a familiar address, with the second factor in the same
     * request (no hint that the password alone was right). */
    bool pair_locked = lc.gate == LOGIN_LOCKED;
    bool code_given = (rq->otp && rq->otp[0]) || (rq->recovery && rq->recovery[0]);
    bool pair_opens = !pair_locked || (lc.familiar && acc.totp_enabled && code_given);
    bool usable = found == ERR_OK && ok && !locked && !acc.disabled && pair_opens;
    /* The second factor, once the password is right. */
    bool want_code = usable && acc.totp_enabled;
    if (want_code && !code_given) {
        audit_entry e;
        door_entry(&e, &a, "login", "deny", "second-factor-required");
        TRY(audit_append(v->au, &e, NULL));
        identity_account_wipe(&acc);
        out->code_due = true;
        BAIL(ERR_AUTH, "second factor required");
    }
    int64_t step0 = acc.totp_step;
    bool code_ok = !want_code || identity_second_factor_ok(&v->id, &acc, rq->otp, rq->recovery);
    if (!usable || !code_ok) {
        const char *why = found != ERR_OK ? "unknown-user"
                          : acc.disabled  ? "disabled"
                          : locked        ? "locked"
                          : pair_locked   ? "locked-from-address"
                          : !ok           ? "bad-password"
                                          : "bad-second-factor";
        /* One write whether or not the name exists, so that timing does not tell them apart
         * (and no write to the account row, which others may be changing). */
        IGNORE(store_meta_set(v->st, "login.last_failed", a.username));
        identity_account_wipe(&acc);
        TRY(attempt_failed(v, &a, found == ERR_OK, &lc, "login", why));
        BAIL(ERR_AUTH, "invalid username or password");
    }
    /* Success: upgrade an old password hash, remember the TOTP step and the address. The
     * slow work (Argon2id) is done before the write transaction. */
    login_ctx c;
    memset(&c, 0, sizeof c);
    snprintf(c.checked, sizeof c.checked, "%s", acc.pwhash);
    snprintf(c.totp, sizeof c.totp, "%s", acc.totp);
    c.totp_enabled = acc.totp_enabled;
    c.step = acc.totp_step;
    c.step_used = acc.totp_step != step0;
    c.rehash =
        identity_password_needs_rehash(&acc) && identity_password_hash(password, c.next) == ERR_OK;
    bool rehash = c.rehash;
    identity_account_wipe(&acc);
#ifdef CUSTOS_TESTING
    if (door_test_login_paused) {
        door_test_login_paused();
    }
#endif
    /* The row as it is now, changed only in what a sign-in changes: a lock, a disabling, a
     * remedial course or a new password that landed during the checks is kept, and a lock or
     * disabling refuses this sign-in. */
    err we = door_account_rmw(v, acc.id, NULL, login_fn, &c, &acc);
    const char *why = c.why;
    mem_wipe(&c, sizeof c);
    if (we == ERR_CONFLICT && why) {
        IGNORE(store_meta_set(v->st, "login.last_failed", a.username));
        TRY(attempt_failed(v, &a, true, &lc, "login", why));
        BAIL(ERR_AUTH, "invalid username or password");
    }
    TRY(we);
    identity_account_wipe(&acc);
    actor_of_account(&a, &acc, rq->source, rq->request_id);
    uint32_t flags = rq->cookie ? SESSION_COOKIE : 0;
    if (!acc.totp_enabled && identity_needs_second_factor(&v->id, a.role)) {
        flags |= SESSION_MFA_PENDING; /* enrol first: the session can do nothing else */
        out->enrol = true;
    }
    /* An address becomes familiar only once every factor the account needs was given. */
    if (!(flags & SESSION_MFA_PENDING)) {
        identity_logins_succeeded(&v->id, acc.id, a.username, &lc);
    }
    a.session_flags = flags;
    audit_entry e;
    door_entry(&e, &a, "login", "allow",
               out->enrol ? "password;enrol-second-factor"
               : acc.totp_enabled
                   ? (pair_locked ? "password+totp;locked-pair-familiar-address" : "password+totp")
                   : "password");
    e.reason = rehash ? "password hash upgraded" : NULL;
    uint64_t idx = 0;
    TRY(audit_append(v->au, &e, &idx));
    door_observe_login(v, &a, true, (int64_t)idx);
    return new_session(v, &a, &acc, flags, out);
}

err door_password_attempt_begin(vault *v, const actor *a, login_check *lc)
{
    identity_logins_check(&v->id, a->account_id, a->username, a->source, lc);
    if (lc->gate == LOGIN_GO) {
        return ERR_OK;
    }
    audit_entry e;
    door_entry(&e, a, "account.password", "deny",
               lc->gate == LOGIN_THROTTLED ? "throttled" : "locked-from-address");
    uint64_t idx = 0;
    TRY(audit_append(v->au, &e, &idx));
    door_observe_login(v, a, false, (int64_t)idx);
    ENSURE(lc->gate != LOGIN_THROTTLED, ERR_RATE,
           "too many password attempts for this account: try again later");
    BAIL(ERR_AUTH, "the old password is wrong");
}

err door_password_attempt_end(vault *v, const actor *a, login_check *lc, bool ok)
{
    if (ok) {
        /* nothing to learn: the address is already the session's */
        login_check c = *lc;
        c.familiar = true;
        identity_logins_succeeded(&v->id, a->account_id, a->username, &c);
        return ERR_OK;
    }
    actor x = *a;
    return attempt_failed(v, &x, true, lc, "account.password", "bad-old-password");
}

/* ---- tokens that are no session or key: audited, rate-limited, told to the guard ---- */

#define BAD_SLOTS 1024
#define BAD_EVERY_US ((int64_t)60 * 1000000) /* one audit entry a minute per address ... */
#define BAD_GLOBAL_PER_MIN 30                /* ... and at most this many a minute in all */

static pthread_mutex_t bad_mu = PTHREAD_MUTEX_INITIALIZER;
static struct bad_slot {
    uint64_t key;
    int64_t last_us;
    uint32_t suppressed;
} bad_slots[BAD_SLOTS];
static int64_t bad_minute;
static int bad_in_minute;

/* Whether this bad token is audited now; *suppressed: those from the address not audited
 * since its last entry. */
static bool bad_token_audit_due(const char *source, uint32_t *suppressed)
{
    uint8_t h[8];
    hash_blake2b(h, sizeof h, (const uint8_t *)source, strlen(source), NULL, 0);
    uint64_t key = 1;
    for (int i = 0; i < 8; i++) {
        key = key << 8 | h[i];
    }
    int64_t now = clock_now_us();
    bool due = false;
    pthread_mutex_lock(&bad_mu);
    struct bad_slot *b = &bad_slots[key % BAD_SLOTS];
    if (b->key != key) {
        memset(b, 0, sizeof *b); /* a new address (or a collision): starts afresh */
        b->key = key;
        b->last_us = INT64_MIN / 2;
    }
    if (now / BAD_EVERY_US != bad_minute) {
        bad_minute = now / BAD_EVERY_US;
        bad_in_minute = 0;
    }
    if (now - b->last_us >= BAD_EVERY_US && bad_in_minute < BAD_GLOBAL_PER_MIN) {
        due = true;
        bad_in_minute++;
        *suppressed = b->suppressed;
        b->suppressed = 0;
        b->last_us = now;
    } else {
        b->suppressed++;
    }
    pthread_mutex_unlock(&bad_mu);
    return due;
}

static void bad_token(vault *v, const char *source, const char *request_id, const char *why)
{
    uint32_t suppressed = 0;
    int64_t idx = -1;
    if (bad_token_audit_due(source, &suppressed)) {
        actor a;
        memset(&a, 0, sizeof a);
        a.role = ROLE__COUNT;
        snprintf(a.username, sizeof a.username, "unknown-token");
        snprintf(a.source, sizeof a.source, "%s", source);
        snprintf(a.request_id, sizeof a.request_id, "%s", request_id);
        audit_entry e;
        door_entry(&e, &a, "session.check", "deny", why);
        char d[96];
        snprintf(d, sizeof d, "%u more from this address since its last entry (not recorded)",
                 suppressed);
        e.reason = suppressed ? d : NULL;
        uint64_t i = 0;
        if (audit_append(v->au, &e, &i) == ERR_OK) {
            idx = (int64_t)i;
        }
    }
    door_observe_bad_token(v, source, idx);
}

/* May this API key act now? A key that reads customer data needs its department steward's
 * approval (latest request applied); the first use is noticed. */
static err apikey_usable(vault *v, const apikey *k, const actor *a)
{
    role r;
    uint16_t ops[CAT__COUNT + 1];
    if (role_parse(k->role, &r) != ERR_OK || identity_scope_parse(k->scope, ops) != ERR_OK) {
        BAIL(ERR_AUTH, "invalid or expired session");
    }
    if (door_reads_customers(r, ops)) {
        change_request q;
        change_request_init(&q);
        err e = store_request_latest(v->st, "apikey", k->id, &q);
        bool ok = e == ERR_OK && strcmp(q.status, "applied") == 0;
        change_request_free(&q);
        if (e != ERR_OK && e != ERR_NOT_FOUND) {
            return e;
        }
        if (!ok) {
            return door_deny(v, a, "apikey.use", NULL, NULL, "apikey-not-approved", ERR_DENIED,
                             "this API key waits for the approval of a data steward of its "
                             "department");
        }
    }
    if (k->last_used_us == 0) {
        char d[160], to[DEPT_MAX + 16];
        snprintf(d, sizeof d, "key=%s first use from %s role=%s department=%s", k->name, a->source,
                 k->role, k->department);
        snprintf(to, sizeof to, "data_steward:%s", k->department);
        door_notify(v, to, "apikey-first-use", k->name, d);
        door_notify(v, "role:security", "apikey-first-use", k->name, d);
        door_alert(v, "medium", "apikey-first-use", a, d);
    }
    return ERR_OK;
}

static err authenticate_key(vault *v, const char *token, const char *source, const char *request_id,
                            actor *out)
{
    apikey k;
    bool known = false;
    err e = identity_apikey_check(&v->id, token, &k, &known);
    if (e == ERR_AUTH) {
        bad_token(v, source, request_id, known ? "revoked-api-key" : "unknown-token");
    }
    TRY(e);
    memset(out, 0, sizeof *out);
    snprintf(out->account_id, sizeof out->account_id, "%s", k.id);
    snprintf(out->username, sizeof out->username, "key:%s", k.name);
    snprintf(out->department, sizeof out->department, "%s", k.department);
    snprintf(out->source, sizeof out->source, "%s", source);
    snprintf(out->request_id, sizeof out->request_id, "%s", request_id);
    snprintf(out->key_id, sizeof out->key_id, "%s", k.id);
    identity_token_short(token, out->session);
    out->via_key = true;
    ENSURE(role_parse(k.role, &out->role) == ERR_OK, ERR_AUTH, "invalid or expired session");
    ENSURE(identity_scope_parse(k.scope, out->key_ops) == ERR_OK, ERR_AUTH,
           "invalid or expired session");
    if (!net_list_allows(k.addresses, source)) {
        audit_entry en;
        door_entry(&en, out, "apikey.use", "deny", "source-address");
        TRY(audit_append(v->au, &en, NULL));
        BAIL(ERR_AUTH, "this API key may not be used from this address");
    }
    TRY(apikey_usable(v, &k, out)); /* approved when it reads customers; first use */
    identity_apikey_used(&v->id, &k, source);
    return ERR_OK;
}

err door_authenticate(vault *v, const char *token, const char *source, const char *request_id,
                      actor *out)
{
    if (!token || strlen(token) >= TOKEN_TEXT_MAX ||
        (strncmp(token, IDENTITY_APIKEY_PREFIX, 4) != 0 &&
         strncmp(token, IDENTITY_SESSION_PREFIX, 4) != 0)) {
        bad_token(v, source, request_id, "unknown-token");
        BAIL(ERR_AUTH, "invalid or expired session");
    }
    if (strncmp(token, IDENTITY_APIKEY_PREFIX, 4) == 0) {
        return authenticate_key(v, token, source, request_id, out);
    }
    identity_check state;
    account acc;
    uint32_t flags = 0;
    TRY(identity_session_check(&v->id, token, &state, &acc, &flags));
    if (state == IDENTITY_UNKNOWN) {
        bad_token(v, source, request_id, "unknown-token");
    }
    ENSURE(state == IDENTITY_LIVE, ERR_AUTH, "invalid or expired session");
    actor_of_account(out, &acc, source, request_id);
    ENSURE(out->role != ROLE__COUNT, ERR_AUTH, "invalid or expired session");
    identity_token_short(token, out->session);
    out->session_flags = flags;
    int64_t now = clock_now_us();
    if (policy_can(out->role, CAP_BREAK_GLASS_OPEN) && !(flags & SESSION_MFA_PENDING)) {
        breakglass bg;
        if (store_breakglass_active(v->st, acc.id, now, &bg) == ERR_OK) {
            snprintf(out->breakglass, sizeof out->breakglass, "%s", bg.id);
            snprintf(out->breakglass_rule, sizeof out->breakglass_rule, "break-glass:%s", bg.id);
        }
    }
    return ERR_OK;
}

err door_logout(vault *v, const actor *a, const char *token)
{
    ENSURE(!a->via_key, ERR_INPUT, "API keys are revoked, not logged out");
    audit_entry e;
    door_entry(&e, a, "logout", "allow", "session");
    TRY(audit_append(v->au, &e, NULL));
    return identity_session_end(&v->id, token);
}

err door_revoke_sessions(vault *v, const actor *by, const char *username, const char *why,
                         size_t *n)
{
    /* Admins (accounts) and security staff (in an incident) may end someone's sessions. */
    if (by->via_key || (by->role != ROLE__COUNT && !policy_can(by->role, CAP_GUARD_MANAGE))) {
        TRY(door_need(v, by, CAP_ACCOUNTS_MANAGE, "account.revoke_sessions"));
    }
    account acc;
    err e = identity_account_by_name(&v->id, username, &acc);
    identity_account_wipe(&acc);
    if (e == ERR_NOT_FOUND) {
        BAIL(ERR_NOT_FOUND, "no such account");
    }
    TRY(e);
    audit_entry en;
    door_entry(&en, by, "account.revoke_sessions", "allow", why);
    en.reason = acc.username;
    TRY(audit_append(v->au, &en, NULL));
    return identity_sessions_revoke(&v->id, acc.id, n);
}
