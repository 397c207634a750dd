/*
 * apikeys.c - API keys for business systems: minted as "csk_" and 256 random
 * bits shown once, stored as their BLAKE2b hash and a short prefix, checked in
 * constant time, rotated by minting a new text for the same key; the scope
 * ("category:op,op;...") that narrows the key's role.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "identity/identity.h"

void identity_apikey_mint(apikey *k, char out[IDENTITY_TOKEN_MAX])
{
    uint8_t raw[32];
    rand_bytes(raw, sizeof raw);
    memcpy(out, IDENTITY_APIKEY_PREFIX, 4);
    b64url_encode(out + 4, IDENTITY_TOKEN_MAX - 4, raw, sizeof raw);
    mem_wipe(raw, sizeof raw);
    hash_blake2b(k->hash, 32, (const uint8_t *)out, strlen(out), NULL, 0);
    snprintf(k->prefix, sizeof k->prefix, "%.12s", out);
}

err identity_apikey_check(identity *id, const char *token, apikey *k, bool *known)
{
    *known = false;
    uint8_t h[SESSION_HASH_LEN];
    identity_token_hash(token, h);
    err e = store_apikey_by_hash(id->st, h, k);
    ENSURE(e == ERR_OK || e == ERR_NOT_FOUND, e, "%s", err_message());
    *known = e == ERR_OK;
    ENSURE(e == ERR_OK && k->revoked_us == 0 && mem_eq_ct(k->hash, h, 32), ERR_AUTH,
           "invalid or expired session");
    return ERR_OK;
}

void identity_apikey_used(identity *id, const apikey *k, const char *source)
{
    int64_t now = clock_now_us();
    /* last-used is kept to the second, not written on every request. */
    if (now - k->last_used_us > 1000000 || strcmp(k->last_source, source) != 0) {
        IGNORE(store_apikey_used(id->st, k->id, now, source));
    }
}

err identity_apikey_insert(identity *id, const apikey *k)
{
    return store_apikey_insert(id->st, k);
}

err identity_apikey_update(identity *id, const apikey *k)
{
    return store_apikey_update(id->st, k);
}

err identity_apikey_by_id(identity *id, const char *key_id, apikey *out)
{
    return store_apikey_by_id(id->st, key_id ? key_id : "", out);
}

err identity_apikey_by_name(identity *id, const char *name, apikey *out)
{
    return store_apikey_by_name(id->st, name ? name : "", out);
}

err identity_apikey_list(identity *id, apikey *out, size_t max, size_t *n)
{
    return store_apikey_list(id->st, out, max, n);
}

/* Fills the op bits of an API key's scope: "transactions:read,create;preferences:read". */
err identity_scope_parse(const char *scope, uint16_t ops[CAT__COUNT + 1])
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
