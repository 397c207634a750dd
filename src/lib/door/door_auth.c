/*
 * door_auth.c - login, second factor, sessions and API keys at the door.
 *
 * Tokens are 256 random bits shown once; the store keeps only their BLAKE2b
 * hash. A failed login costs the same work whether or not the username exists
 * (a dummy Argon2id verification, one audit entry, one database write) and
 * always answers the same words. Failures lock out the (account, address) pair and
 * throttle the account across addresses (door_logins.c), never the account as a
 * whole and never a session already open; every lockout is audited and alerted.
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

#include "access/totp.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"
#include "door_int.h"

#define API_KEY_PREFIX "csk_"
#define SESSION_PREFIX "cst_"

void actor_system(actor *a, const char *what)
{
    memset(a, 0, sizeof *a);
    snprintf(a->username, sizeof a->username, "system:%s", what);
    a->role = ROLE__COUNT; /* no grants */
    snprintf(a->source, sizeof a->source, "local");
    snprintf(a->request_id, sizeof a->request_id, "-");
}

bool door_token_ok(const char *u)
{
    size_t n = strlen(u);
    if (n < 2 || n > USERNAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-')) {
            return false;
        }
    }
    return true;
}

err door_account_create(vault *v, const actor *by, const char *username, const char *password,
                        role r, const char *department)
{
    ENSURE(door_token_ok(username), ERR_INPUT,
           "username must be 2-64 characters of a-z, 0-9, '_', '.', '-'");
    size_t plen = strlen(password);
    TRY(door_password_acceptable(username, password));
    ENSURE(department && door_token_ok(department), ERR_INPUT, "department must be a token");
    account acc;
    memset(&acc, 0, sizeof acc);
    id_new(acc.id, "acc");
    snprintf(acc.username, sizeof acc.username, "%s", username);
    snprintf(acc.role, sizeof acc.role, "%s", role_name(r));
    snprintf(acc.department, sizeof acc.department, "%s", department);
    acc.created_us = acc.pw_changed_us = clock_now_us();
    TRY(password_hash(password, plen, acc.pwhash));
    audit_entry e;
    char what[USERNAME_MAX + ROLE_MAX + DEPT_MAX + 40];
    snprintf(what, sizeof what, "account=%s role=%s department=%s", acc.username, acc.role,
             acc.department);
    door_entry(&e, by, "account.create", "allow",
               by->role == ROLE__COUNT ? "setup" : "accounts.manage");
    e.reason = what; /* usernames, roles, departments: not customer data */
    TRY(audit_append(v->au, &e, NULL));
    err rc = store_account_insert(v->st, &acc);
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    return rc;
}

static void token_hash(const char *token, uint8_t h[SESSION_HASH_LEN])
{
    hash_blake2b(h, SESSION_HASH_LEN, (const uint8_t *)token, strlen(token), NULL, 0);
}

void door_csrf_of(const char *token, char out[CSRF_TEXT_MAX])
{
    static const uint8_t k[] = "custos-csrf-token-v1";
    uint8_t h[24];
    hash_blake2b(h, sizeof h, (const uint8_t *)token, strlen(token), k, sizeof k - 1);
    b64url_encode(out, CSRF_TEXT_MAX, h, sizeof h);
    mem_wipe(h, sizeof h);
}

err door_csrf_check(vault *v, const actor *a, const char *token, const char *got)
{
    char want[CSRF_TEXT_MAX];
    door_csrf_of(token, want);
    bool ok = got && strlen(got) == strlen(want) && mem_eq_ct(got, want, strlen(want));
    mem_wipe(want, sizeof want);
    if (ok) {
        return ERR_OK;
    }
    audit_entry e;
    door_entry(&e, a, "request.csrf", "deny", "csrf-token");
    TRY(audit_append(v->au, &e, NULL));
    BAIL(ERR_DENIED, "missing or wrong X-CSRF-Token");
}

/* A real Argon2id hash of a random password, made once, so that unknown usernames cost the
 * same verification work as known ones. */
static char dummy_hash_text[PASSWORD_HASH_MAX];

static void make_dummy(void)
{
    uint8_t r[16];
    char pw[HEX_LEN(16)];
    rand_bytes(r, sizeof r);
    hex_encode(pw, r, sizeof r);
    if (password_hash(pw, strlen(pw), dummy_hash_text) != ERR_OK) {
        dummy_hash_text[0] = '\0';
    }
}

static const char *dummy_hash(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_dummy);
    return dummy_hash_text;
}

/* Does this account need a second factor under the vault's configuration? */
static bool needs_second_factor(const vault *v, role r)
{
    if (v->cfg.totp == VAULT_TOTP_OFF) {
        return false;
    }
    if (v->cfg.totp == VAULT_TOTP_ALL) {
        return true;
    }
    /* The roles that administer accounts, keys, policy, sanctions or training, and open
     * break-glass, hold the doors to customer data: a password alone is not enough. */
    static const capability DOORS[] = {
        CAP_ACCOUNTS_MANAGE, CAP_APIKEYS_MANAGE,   CAP_POLICY_MANAGE, CAP_GUARD_MANAGE,
        CAP_TRAINING_MANAGE, CAP_BREAK_GLASS_OPEN, CAP_KEYS_MANAGE};
    for (size_t i = 0; i < sizeof DOORS / sizeof DOORS[0]; i++) {
        if (policy_can(r, DOORS[i])) {
            return true;
        }
    }
    for (int t = 0; t < REC__COUNT; t++) {
        for (size_t f = 0; f < model_nfields((rectype)t); f++) {
            if (policy_read_in(r, (rectype)t, (int)f, true) != READ_NONE ||
                policy_read_in(r, (rectype)t, (int)f, false) != READ_NONE) {
                return true;
            }
        }
    }
    return false;
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

/* The TOTP secret of an account, unwrapped into secret (TOTP_SECRET_LEN). */
static err totp_secret_of(vault *v, const account *acc, uint8_t *secret)
{
    ENSURE(acc->totp[0], ERR_NOT_FOUND, "no second factor enrolled");
    uint8_t raw[1024];
    size_t n = 0;
    ENSURE(b64_decode(raw, sizeof raw, &n, acc->totp, strlen(acc->totp)) == ERR_OK, ERR_CRYPTO,
           "the stored second factor is damaged");
    char owner[ID_LEN + 8];
    snprintf(owner, sizeof owner, "totp:%s", acc->id);
    uint8_t *k = secret_alloc(KEY_LEN);
    ENSURE(k != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    err rc = keyring_dek_unwrap(v->kr, owner, (slice){raw, n}, k);
    if (rc == ERR_OK) {
        memcpy(secret, k, TOTP_SECRET_LEN);
    }
    secret_free(k);
    return rc;
}

/* Checks a TOTP code (replay refused) or a recovery code; updates the account. */
static bool second_factor_ok(vault *v, account *acc, const char *otp, const char *recovery)
{
    if (otp && otp[0]) {
        uint8_t *sec = secret_alloc(KEY_LEN);
        if (!sec || totp_secret_of(v, acc, sec) != ERR_OK) {
            secret_free(sec);
            return false;
        }
        int64_t step = 0;
        bool ok = totp_verify(sec, clock_now_us() / 1000000, otp, acc->totp_step, &step);
        secret_free(sec);
        if (ok) {
            acc->totp_step = step;
        }
        return ok;
    }
    if (recovery && recovery[0]) {
        uint8_t h[RECOVERY_HASH_LEN];
        recovery_code_hash(acc->id, recovery, h);
        return store_recovery_use(v->st, acc->id, h) == ERR_OK;
    }
    return false;
}

static err new_session(vault *v, actor *a, const account *acc, uint32_t flags, login_result *out)
{
    int64_t now = clock_now_us();
    uint8_t raw[32];
    rand_bytes(raw, sizeof raw);
    memcpy(out->token, SESSION_PREFIX, 4);
    b64url_encode(out->token + 4, TOKEN_TEXT_MAX - 4, raw, sizeof raw);
    mem_wipe(raw, sizeof raw);
    uint8_t h[SESSION_HASH_LEN];
    token_hash(out->token, h);
    hex_encode(a->session, h, 8);
    if (flags & SESSION_COOKIE) {
        door_csrf_of(out->token, out->csrf);
    }
    session_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.account_id, sizeof r.account_id, "%s", acc->id);
    r.created_us = r.last_seen_us = now;
    r.expires_us = now + v->session_ttl_us;
    r.flags = flags;
    out->expires_us = r.expires_us;
    out->mfa_pending = (flags & SESSION_MFA_PENDING) != 0;
    return store_session_insert(v->st, h, &r);
}

/* A failed attempt (login or own password change): counted for the pair, audited, told to
 * the guard; a lockout that starts is audited and alerted. */
static err attempt_failed(vault *v, actor *a, bool known, login_check *lc, const char *action,
                          const char *why)
{
    bool lock_now = door_logins_failed(v, a->username, lc);
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

err door_login(vault *v, const login_request *rq, login_result *out)
{
    memset(out, 0, sizeof *out);
    account acc;
    memset(&acc, 0, sizeof acc);
    int64_t now = clock_now_us();
    const char *password = rq->password ? rq->password : "";
    err found = store_account_by_name(v->st, rq->username ? rq->username : "", &acc);
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
    door_logins_check(v, found == ERR_OK ? acc.id : NULL, a.username, rq->source, &lc);
    if (lc.gate == LOGIN_THROTTLED) {
        audit_entry e;
        door_entry(&e, &a, "login", "deny", "throttled");
        uint64_t idx = 0;
        err rc = audit_append(v->au, &e, &idx);
        if (rc == ERR_OK) {
            door_observe_login(v, &a, false, (int64_t)idx);
        }
        mem_wipe(acc.pwhash, sizeof acc.pwhash);
        TRY(rc);
        out->retry_after_s = (uint32_t)((lc.retry_after_us + 999999) / 1000000);
        BAIL(ERR_RATE, "too many sign-in attempts for this account: try again later");
    }
    bool ok =
        password_verify(found == ERR_OK ? acc.pwhash : dummy_hash(), password, strlen(password));
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
        mem_wipe(acc.pwhash, sizeof acc.pwhash);
        out->code_due = true;
        BAIL(ERR_AUTH, "second factor required");
    }
    bool code_ok = !want_code || second_factor_ok(v, &acc, rq->otp, rq->recovery);
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
        mem_wipe(acc.pwhash, sizeof acc.pwhash);
        TRY(attempt_failed(v, &a, found == ERR_OK, &lc, "login", why));
        BAIL(ERR_AUTH, "invalid username or password");
    }
    /* Success: upgrade an old password hash, remember the TOTP step and the address. */
    bool rehash = password_needs_rehash(acc.pwhash);
    if (rehash) {
        char nh[PASSWORD_HASH_MAX];
        if (password_hash(password, strlen(password), nh) == ERR_OK) {
            snprintf(acc.pwhash, sizeof acc.pwhash, "%s", nh);
        }
        mem_wipe(nh, sizeof nh);
    }
    acc.failed_logins = 0;
    acc.lock_level = 0;
    TRY(store_account_update(v->st, &acc));
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    uint32_t flags = rq->cookie ? SESSION_COOKIE : 0;
    if (!acc.totp_enabled && needs_second_factor(v, a.role)) {
        flags |= SESSION_MFA_PENDING; /* enrol first: the session can do nothing else */
        out->enrol = true;
    }
    /* An address becomes familiar only once every factor the account needs was given. */
    if (!(flags & SESSION_MFA_PENDING)) {
        door_logins_succeeded(v, acc.id, a.username, &lc);
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
    door_logins_check(v, a->account_id, a->username, a->source, lc);
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
        door_logins_succeeded(v, a->account_id, a->username, &c);
        return ERR_OK;
    }
    actor x = *a;
    return attempt_failed(v, &x, true, lc, "account.password", "bad-old-password");
}

/* Fills the op bits of an API key's scope: "transactions:read,create;preferences:read". */
err door_scope_parse(const char *scope, uint16_t ops[CAT__COUNT + 1])
{
    memset(ops, 0, sizeof(uint16_t) * (CAT__COUNT + 1));
    const char *p = scope;
    ENSURE(p && *p, ERR_INPUT, "an API key needs a scope");
    while (*p) {
        const char *semi = strchr(p, ';');
        size_t n = semi ? (size_t)(semi - p) : strlen(p);
        char item[128];
        ENSURE(n > 0 && n < sizeof item, ERR_INPUT, "bad scope item");
        memcpy(item, p, n);
        item[n] = '\0';
        char *colon = strchr(item, ':');
        ENSURE(colon != NULL, ERR_INPUT, "scope items are category:op,op");
        *colon = '\0';
        int cat = -1;
        if (strcmp(item, "customers") == 0) {
            cat = CAT__COUNT;
        } else {
            for (int c = 0; c < CAT__COUNT; c++) {
                if (strcmp(item, category_name((category)c)) == 0) {
                    cat = c;
                }
            }
        }
        ENSURE(cat >= 0, ERR_INPUT, "unknown scope category %s", item);
        char *q = colon + 1;
        while (*q) {
            char *comma = strchr(q, ',');
            if (comma) {
                *comma = '\0';
            }
            int o = -1;
            for (int k = 0; k < OP__COUNT; k++) {
                if (strcmp(q, op_name((op)k)) == 0 || (k == OP_UPDATE && strcmp(q, "write") == 0)) {
                    o = k;
                }
            }
            ENSURE(o >= 0, ERR_INPUT, "unknown scope operation %s", q);
            ops[cat] |= (uint16_t)(1u << o);
            if (!comma) {
                break;
            }
            q = comma + 1;
        }
        if (!semi) {
            break;
        }
        p = semi + 1;
    }
    return ERR_OK;
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

static err authenticate_key(vault *v, const char *token, const char *source, const char *request_id,
                            actor *out)
{
    uint8_t h[32];
    token_hash(token, h);
    apikey k;
    err e = store_apikey_by_hash(v->st, h, &k);
    ENSURE(e == ERR_OK || e == ERR_NOT_FOUND, e, "%s", err_message());
    if (!(e == ERR_OK && k.revoked_us == 0 && mem_eq_ct(k.hash, h, 32))) {
        bad_token(v, source, request_id, e == ERR_OK ? "revoked-api-key" : "unknown-token");
        BAIL(ERR_AUTH, "invalid or expired session");
    }
    memset(out, 0, sizeof *out);
    snprintf(out->account_id, sizeof out->account_id, "%s", k.id);
    snprintf(out->username, sizeof out->username, "key:%s", k.name);
    snprintf(out->department, sizeof out->department, "%s", k.department);
    snprintf(out->source, sizeof out->source, "%s", source);
    snprintf(out->request_id, sizeof out->request_id, "%s", request_id);
    snprintf(out->key_id, sizeof out->key_id, "%s", k.id);
    hex_encode(out->session, h, 8);
    out->via_key = true;
    ENSURE(role_parse(k.role, &out->role) == ERR_OK, ERR_AUTH, "invalid or expired session");
    ENSURE(door_scope_parse(k.scope, out->key_ops) == ERR_OK, ERR_AUTH,
           "invalid or expired session");
    if (!net_list_allows(k.addresses, source)) {
        audit_entry en;
        door_entry(&en, out, "apikey.use", "deny", "source-address");
        TRY(audit_append(v->au, &en, NULL));
        BAIL(ERR_AUTH, "this API key may not be used from this address");
    }
    TRY(door_apikey_usable(v, &k, out)); /* approved when it reads customers; first use */
    int64_t now = clock_now_us();
    /* last-used is kept to the second, not written on every request. */
    if (now - k.last_used_us > 1000000 || strcmp(k.last_source, source) != 0) {
        IGNORE(store_apikey_used(v->st, k.id, now, source));
    }
    return ERR_OK;
}

err door_authenticate(vault *v, const char *token, const char *source, const char *request_id,
                      actor *out)
{
    if (!token || strlen(token) >= TOKEN_TEXT_MAX ||
        (strncmp(token, API_KEY_PREFIX, 4) != 0 && strncmp(token, SESSION_PREFIX, 4) != 0)) {
        bad_token(v, source, request_id, "unknown-token");
        BAIL(ERR_AUTH, "invalid or expired session");
    }
    if (strncmp(token, API_KEY_PREFIX, 4) == 0) {
        return authenticate_key(v, token, source, request_id, out);
    }
    uint8_t h[SESSION_HASH_LEN];
    token_hash(token, h);
    session_row r;
    err ge = store_session_get(v->st, h, &r);
    if (ge == ERR_AUTH) {
        bad_token(v, source, request_id, "unknown-token");
    }
    TRY(ge);
    int64_t now = clock_now_us();
    if (now >= r.expires_us || now - r.last_seen_us >= v->session_idle_us) {
        IGNORE(store_session_delete(v->st, h));
        BAIL(ERR_AUTH, "invalid or expired session");
    }
    account acc;
    TRY(store_account_by_id(v->st, r.account_id, &acc));
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    ENSURE(!acc.disabled && acc.locked_until_us <= now, ERR_AUTH, "invalid or expired session");
    actor_of_account(out, &acc, source, request_id);
    ENSURE(out->role != ROLE__COUNT, ERR_AUTH, "invalid or expired session");
    hex_encode(out->session, h, 8);
    out->session_flags = r.flags;
    /* Idle time is kept to the second; a busy session writes at most once a second. */
    if (now - r.last_seen_us >= 1000000) {
        IGNORE(store_session_touch(v->st, h, now, r.flags));
    }
    if (policy_can(out->role, CAP_BREAK_GLASS_OPEN) && !(r.flags & SESSION_MFA_PENDING)) {
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
    uint8_t h[SESSION_HASH_LEN];
    token_hash(token, h);
    audit_entry e;
    door_entry(&e, a, "logout", "allow", "session");
    TRY(audit_append(v->au, &e, NULL));
    return store_session_delete(v->st, h);
}

err door_revoke_sessions(vault *v, const actor *by, const char *username, const char *why,
                         size_t *n)
{
    /* Admins (accounts) and security staff (in an incident) may end someone's sessions. */
    if (by->via_key || (by->role != ROLE__COUNT && !policy_can(by->role, CAP_GUARD_MANAGE))) {
        TRY(door_need(v, by, CAP_ACCOUNTS_MANAGE, "account.revoke_sessions"));
    }
    account acc;
    err e = store_account_by_name(v->st, username, &acc);
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    if (e == ERR_NOT_FOUND) {
        BAIL(ERR_NOT_FOUND, "no such account");
    }
    TRY(e);
    audit_entry en;
    door_entry(&en, by, "account.revoke_sessions", "allow", why);
    en.reason = acc.username;
    TRY(audit_append(v->au, &en, NULL));
    return store_session_delete_account(v->st, acc.id, n);
}

err door_session_complete(vault *v, const actor *a, const char *token)
{
    uint8_t h[SESSION_HASH_LEN];
    token_hash(token, h);
    session_row r;
    TRY(store_session_get(v->st, h, &r));
    return store_session_touch(v->st, h, clock_now_us(), r.flags & ~SESSION_MFA_PENDING);
}

err door_totp_secret(vault *v, const account *acc, uint8_t *secret)
{
    return totp_secret_of(v, acc, secret);
}

bool door_second_factor_ok(vault *v, account *acc, const char *otp, const char *recovery)
{
    return second_factor_ok(v, acc, otp, recovery);
}
