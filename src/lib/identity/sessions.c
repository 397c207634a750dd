/*
 * sessions.c - sessions: issued as 256 random bits shown once, stored as their
 * BLAKE2b hash, ended at an absolute limit and after an idle period; cookie
 * sessions carry a CSRF token derived from the session token.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "identity/identity.h"

void identity_token_hash(const char *token, uint8_t h[SESSION_HASH_LEN])
{
    hash_blake2b(h, SESSION_HASH_LEN, (const uint8_t *)token, strlen(token), NULL, 0);
}

void identity_token_short(const char *token, char out[17])
{
    uint8_t h[SESSION_HASH_LEN];
    identity_token_hash(token, h);
    hex_encode(out, h, 8);
}

void identity_csrf_of(const char *token, char out[IDENTITY_CSRF_MAX])
{
    static const uint8_t k[] = "custos-csrf-token-v1";
    uint8_t h[24];
    hash_blake2b(h, sizeof h, (const uint8_t *)token, strlen(token), k, sizeof k - 1);
    b64url_encode(out, IDENTITY_CSRF_MAX, h, sizeof h);
    mem_wipe(h, sizeof h);
}

bool identity_csrf_ok(const char *token, const char *got)
{
    char want[IDENTITY_CSRF_MAX];
    identity_csrf_of(token, want);
    bool ok = got && strlen(got) == strlen(want) && mem_eq_ct(got, want, strlen(want));
    mem_wipe(want, sizeof want);
    return ok;
}

err identity_session_issue(identity *id, const char *account_id, uint32_t flags,
                           identity_session *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = clock_now_us();
    uint8_t raw[32];
    rand_bytes(raw, sizeof raw);
    memcpy(out->token, IDENTITY_SESSION_PREFIX, 4);
    b64url_encode(out->token + 4, IDENTITY_TOKEN_MAX - 4, raw, sizeof raw);
    mem_wipe(raw, sizeof raw);
    uint8_t h[SESSION_HASH_LEN];
    identity_token_hash(out->token, h);
    hex_encode(out->short_hash, h, 8);
    if (flags & IDENTITY_SESSION_COOKIE) {
        identity_csrf_of(out->token, out->csrf);
    }
    session_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.account_id, sizeof r.account_id, "%s", account_id);
    r.created_us = r.last_seen_us = now;
    r.expires_us = now + id->session_ttl_us;
    r.flags = flags;
    out->expires_us = r.expires_us;
    return store_session_insert(id->st, h, &r);
}

err identity_session_check(identity *id, const char *token, identity_check *state, account *acc,
                           uint32_t *flags)
{
    *state = IDENTITY_UNKNOWN;
    *flags = 0;
    memset(acc, 0, sizeof *acc);
    uint8_t h[SESSION_HASH_LEN];
    identity_token_hash(token, h);
    session_row r;
    err ge = store_session_get(id->st, h, &r);
    if (ge == ERR_AUTH) {
        return ERR_OK; /* unknown */
    }
    TRY(ge);
    *state = IDENTITY_ENDED;
    int64_t now = clock_now_us();
    if (now >= r.expires_us || now - r.last_seen_us >= id->session_idle_us) {
        IGNORE(store_session_delete(id->st, h));
        return ERR_OK;
    }
    TRY(store_account_by_id(id->st, r.account_id, acc));
    mem_wipe(acc->pwhash, sizeof acc->pwhash);
    if (acc->disabled || acc->locked_until_us > now) {
        return ERR_OK;
    }
    *state = IDENTITY_LIVE;
    *flags = r.flags;
    /* Idle time is kept to the second; a busy session writes at most once a second. */
    if (now - r.last_seen_us >= 1000000) {
        IGNORE(store_session_touch(id->st, h, now, r.flags));
    }
    return ERR_OK;
}

err identity_session_complete(identity *id, const char *token)
{
    uint8_t h[SESSION_HASH_LEN];
    identity_token_hash(token, h);
    session_row r;
    TRY(store_session_get(id->st, h, &r));
    return store_session_touch(id->st, h, clock_now_us(), r.flags & ~IDENTITY_SESSION_PENDING);
}

err identity_session_end(identity *id, const char *token)
{
    uint8_t h[SESSION_HASH_LEN];
    identity_token_hash(token, h);
    return store_session_delete(id->st, h);
}

err identity_sessions_revoke(identity *id, const char *account_id, size_t *n)
{
    return store_session_delete_account(id->st, account_id, n);
}

err identity_sessions_purge(identity *id, int64_t before_us, int64_t *n)
{
    return store_sessions_purge(id->st, before_us, n);
}
