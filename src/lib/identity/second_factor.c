/*
 * second_factor.c - the second factor: TOTP secrets (wrapped under the master
 * key, owner "totp:<account id>"), codes checked with replay refused, one-time
 * recovery codes (only their hashes stored), and the one-time hand-over codes
 * that two people each hold half of.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "identity/identity.h"

static void totp_owner(const account *acc, char *out, size_t max)
{
    snprintf(out, max, "totp:%s", acc->id);
}

/* The TOTP secret of an account, unwrapped into secret (TOTP_SECRET_LEN). */
static err totp_secret_of(identity *id, const account *acc, uint8_t *secret)
{
    ENSURE(acc->totp[0], ERR_NOT_FOUND, "no second factor enrolled");
    uint8_t raw[1024];
    size_t n = 0;
    ENSURE(b64_decode(raw, sizeof raw, &n, acc->totp, strlen(acc->totp)) == ERR_OK, ERR_CRYPTO,
           "the stored second factor is damaged");
    char owner[ID_LEN + 8];
    totp_owner(acc, owner, sizeof owner);
    uint8_t *k = secret_alloc(KEY_LEN);
    ENSURE(k != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    err rc = keyring_dek_unwrap(id->kr, owner, (slice){raw, n}, k);
    if (rc == ERR_OK) {
        memcpy(secret, k, TOTP_SECRET_LEN);
    }
    secret_free(k);
    return rc;
}

err identity_totp_enrol(identity *id, account *acc, const char *issuer, buf *uri)
{
    uint8_t *key = secret_alloc(KEY_LEN);
    ENSURE(key != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    buf wrapped;
    buf_init(&wrapped, 4096);
    char owner[ID_LEN + 8];
    totp_owner(acc, owner, sizeof owner);
    rand_bytes(key, KEY_LEN);
    err rc = keyring_dek_wrap(id->kr, owner, key, &wrapped);
    if (rc == ERR_OK) {
        rc = totp_uri(key, issuer, acc->username, uri);
    }
    if (rc == ERR_OK && B64_LEN(wrapped.len) <= sizeof acc->totp) {
        b64_encode(acc->totp, sizeof acc->totp, wrapped.p, wrapped.len);
        acc->totp_enabled = false;
        acc->totp_step = 0;
    } else if (rc == ERR_OK) {
        rc = err_set(ERR_INTERNAL, __FILE__, __LINE__, "wrapped secret too large");
    }
    secret_free(key);
    buf_free(&wrapped);
    return rc;
}

err identity_totp_pending_uri(identity *id, const account *acc, const char *issuer, buf *uri)
{
    ENSURE(acc->totp[0] && !acc->totp_enabled, ERR_CONFLICT, "no second factor is being enrolled");
    uint8_t *sec = secret_alloc(KEY_LEN);
    ENSURE(sec != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    err rc = totp_secret_of(id, acc, sec);
    if (rc == ERR_OK) {
        rc = totp_uri(sec, issuer, acc->username, uri);
    }
    secret_free(sec);
    return rc;
}

bool identity_second_factor_ok(identity *id, account *acc, const char *otp, const char *recovery)
{
    if (otp && otp[0]) {
        uint8_t *sec = secret_alloc(KEY_LEN);
        if (!sec || totp_secret_of(id, acc, sec) != ERR_OK) {
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
        return store_recovery_use(id->st, acc->id, h) == ERR_OK;
    }
    return false;
}

err identity_recovery_codes_new(identity *id, const account *acc,
                                char codes[RECOVERY_CODES][RECOVERY_TEXT_MAX])
{
    uint8_t h[RECOVERY_CODES][RECOVERY_HASH_LEN];
    for (int i = 0; i < RECOVERY_CODES; i++) {
        recovery_code_new(codes[i]);
        recovery_code_hash(acc->id, codes[i], h[i]);
    }
    err e = store_recovery_replace(id->st, acc->id, (const uint8_t(*)[RECOVERY_HASH_LEN])h,
                                   RECOVERY_CODES);
    if (e != ERR_OK) {
        mem_wipe(codes, sizeof(char) * RECOVERY_CODES * RECOVERY_TEXT_MAX);
    }
    return e;
}

err identity_second_factor_reset(identity *id, account *acc)
{
    acc->totp[0] = '\0';
    acc->totp_enabled = false;
    acc->totp_step = 0;
    return store_recovery_replace(id->st, acc->id, NULL, 0);
}

/* ---- hand-over codes ---- */

void identity_code_new(char text[IDENTITY_TOKEN_MAX], char hash_hex[IDENTITY_CODE_HASH_HEX])
{
    uint8_t raw[32], h[32];
    rand_bytes(raw, sizeof raw);
    memcpy(text, "cho_", 4);
    b64url_encode(text + 4, IDENTITY_TOKEN_MAX - 4, raw, sizeof raw);
    mem_wipe(raw, sizeof raw);
    hash_blake2b(h, sizeof h, (const uint8_t *)text, strlen(text), NULL, 0);
    hex_encode(hash_hex, h, sizeof h);
}

bool identity_code_matches(const char *text, const char *hash_hex)
{
    if (!text || !hash_hex || strlen(hash_hex) != IDENTITY_CODE_HASH_HEX - 1 ||
        strlen(text) >= IDENTITY_TOKEN_MAX) {
        return false;
    }
    uint8_t h[32];
    char hex[IDENTITY_CODE_HASH_HEX];
    hash_blake2b(h, sizeof h, (const uint8_t *)text, strlen(text), NULL, 0);
    hex_encode(hex, h, sizeof h);
    return mem_eq_ct(hex, hash_hex, IDENTITY_CODE_HASH_HEX - 1);
}
