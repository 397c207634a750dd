/*
 * door_auth.c - accounts, login and sessions at the door.
 *
 * Tokens are 256 random bits shown once; the store keeps only their BLAKE2b
 * hash. A failed login costs the same work whether or not the username exists
 * (a dummy Argon2id verification) and always answers the same words.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "door_int.h"

#define MAX_FAILED_LOGINS 10
#define LOCK_US ((int64_t)15 * 60 * 1000000)

void actor_system(actor *a, const char *what)
{
    memset(a, 0, sizeof *a);
    snprintf(a->username, sizeof a->username, "system:%s", what);
    a->role = ROLE__COUNT; /* no grants */
    snprintf(a->source, sizeof a->source, "local");
    snprintf(a->request_id, sizeof a->request_id, "-");
}

static bool username_ok(const char *u)
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
    ENSURE(username_ok(username), ERR_INPUT,
           "username must be 2-64 characters of a-z, 0-9, '_', '.', '-'");
    size_t plen = strlen(password);
    ENSURE(plen >= 12 && plen <= 1024, ERR_INPUT, "password must be 12 to 1024 bytes long");
    ENSURE(department && username_ok(department), ERR_INPUT, "department must be a token");
    account acc;
    memset(&acc, 0, sizeof acc);
    id_new(acc.id, "acc");
    snprintf(acc.username, sizeof acc.username, "%s", username);
    snprintf(acc.role, sizeof acc.role, "%s", role_name(r));
    snprintf(acc.department, sizeof acc.department, "%s", department);
    acc.created_us = clock_now_us();
    TRY(password_hash(password, plen, acc.pwhash));
    audit_entry e;
    door_entry(&e, by, "account.create", "allow", "setup");
    e.reason = acc.username; /* usernames are not customer data */
    TRY(audit_append(v->au, &e, NULL));
    err rc = store_account_insert(v->st, &acc);
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    return rc;
}

static void token_hash(const char *token, uint8_t h[SESSION_HASH_LEN])
{
    hash_blake2b(h, SESSION_HASH_LEN, (const uint8_t *)token, strlen(token), NULL, 0);
}

static const char *dummy_hash(void)
{
    /* A real Argon2id hash of a random password, made once, so that unknown usernames cost
     * the same verification work as known ones. */
    static char h[PASSWORD_HASH_MAX];
    static int done;
    if (!done) {
        uint8_t r[16];
        char pw[HEX_LEN(16)];
        rand_bytes(r, sizeof r);
        hex_encode(pw, r, sizeof r);
        if (password_hash(pw, strlen(pw), h) != ERR_OK) {
            h[0] = '\0';
        }
        done = 1;
    }
    return h;
}

err door_login(vault *v, const char *username, const char *password, const char *source,
               const char *request_id, char token[TOKEN_TEXT_MAX], int64_t *expires_us)
{
    account acc;
    memset(&acc, 0, sizeof acc);
    int64_t now = clock_now_us();
    err found = store_account_by_name(v->st, username, &acc);
    bool ok = password_verify(found == ERR_OK ? acc.pwhash : dummy_hash(), password,
                              strlen(password));
    bool locked = found == ERR_OK && acc.locked_until_us > now;
    actor a;
    memset(&a, 0, sizeof a);
    snprintf(a.source, sizeof a.source, "%s", source);
    snprintf(a.request_id, sizeof a.request_id, "%s", request_id);
    a.role = ROLE__COUNT;
    if (found == ERR_OK) {
        snprintf(a.username, sizeof a.username, "%s", acc.username);
        IGNORE(role_parse(acc.role, &a.role));
        snprintf(a.account_id, sizeof a.account_id, "%s", acc.id);
    } else {
        /* An unknown name may be a mistyped password: log only its keyed hash. */
        uint8_t h[32];
        char hex[HEX_LEN(8)];
        keyring_audit_hash(v->kr, slice_cstr(username), h);
        hex_encode(hex, h, 8);
        snprintf(a.username, sizeof a.username, "unknown:%s", hex);
    }
    if (!ok || locked || found != ERR_OK || acc.disabled) {
        const char *why = found != ERR_OK ? "unknown-user"
                          : acc.disabled  ? "disabled"
                          : locked        ? "locked"
                                          : "bad-password";
        if (found == ERR_OK && !ok) {
            acc.failed_logins++;
            if (acc.failed_logins >= MAX_FAILED_LOGINS) {
                acc.locked_until_us = now + LOCK_US;
                acc.failed_logins = 0;
            }
            IGNORE(store_account_update(v->st, &acc));
        }
        audit_entry e;
        door_entry(&e, &a, "login", "deny", why);
        TRY(audit_append(v->au, &e, NULL));
        mem_wipe(acc.pwhash, sizeof acc.pwhash);
        BAIL(ERR_AUTH, "invalid username or password");
    }
    if (acc.failed_logins) {
        acc.failed_logins = 0;
        TRY(store_account_update(v->st, &acc));
    }
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    uint8_t raw[32];
    rand_bytes(raw, sizeof raw);
    memcpy(token, "cst_", 4);
    b64url_encode(token + 4, TOKEN_TEXT_MAX - 4, raw, sizeof raw);
    mem_wipe(raw, sizeof raw);
    uint8_t h[SESSION_HASH_LEN];
    token_hash(token, h);
    hex_encode(a.session, h, 8);
    audit_entry e;
    door_entry(&e, &a, "login", "allow", "password");
    TRY(audit_append(v->au, &e, NULL));
    *expires_us = now + v->session_ttl_us;
    return store_session_insert(v->st, h, acc.id, now, *expires_us);
}

err door_authenticate(vault *v, const char *token, const char *source, const char *request_id,
                      actor *out)
{
    ENSURE(token && strncmp(token, "cst_", 4) == 0 && strlen(token) < TOKEN_TEXT_MAX, ERR_AUTH,
           "invalid or expired session");
    uint8_t h[SESSION_HASH_LEN];
    token_hash(token, h);
    char account_id[ID_LEN + 1];
    int64_t exp;
    TRY(store_session_get(v->st, h, clock_now_us(), account_id, &exp));
    account acc;
    TRY(store_account_by_id(v->st, account_id, &acc));
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    ENSURE(!acc.disabled, ERR_AUTH, "invalid or expired session");
    memset(out, 0, sizeof *out);
    snprintf(out->account_id, sizeof out->account_id, "%s", acc.id);
    snprintf(out->username, sizeof out->username, "%s", acc.username);
    snprintf(out->department, sizeof out->department, "%s", acc.department);
    ENSURE(role_parse(acc.role, &out->role) == ERR_OK, ERR_AUTH, "invalid or expired session");
    hex_encode(out->session, h, 8);
    snprintf(out->source, sizeof out->source, "%s", source);
    snprintf(out->request_id, sizeof out->request_id, "%s", request_id);
    return ERR_OK;
}

err door_logout(vault *v, const actor *a, const char *token)
{
    uint8_t h[SESSION_HASH_LEN];
    token_hash(token, h);
    audit_entry e;
    door_entry(&e, a, "logout", "allow", "session");
    TRY(audit_append(v->au, &e, NULL));
    return store_session_delete(v->st, h);
}
