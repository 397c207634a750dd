/*
 * seal.c - field envelopes: one value sealed with an AEAD under a data key.
 *
 * The envelope is self-describing (format version, algorithm, key version, a fresh
 * random nonce) and its associated data binds the owner id, the field name and the
 * envelope header, so a ciphertext copied to another customer, another field, or
 * relabelled with another key version fails to open. Both algorithms are libsodium's:
 * XChaCha20-Poly1305 (192-bit random nonces, the default) and AES-256-GCM (96-bit random
 * nonces, only with AES-NI). The associated data is assembled on the stack, and
 * unseal_into() decrypts straight into the caller's memory, so opening a data key
 * allocates nothing.
 */
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "crypto/crypto.h"
#include "crypto/crypto_int.h"

static const char AD_PREFIX[] = "custos.seal.v1"; /* followed by its NUL */
#define AD_STACK 512

static _Atomic int current_alg = SEAL_XCHACHA20POLY1305;

static size_t nonce_len(seal_alg a)
{
    return a == SEAL_AES256GCM ? crypto_aead_aes256gcm_NPUBBYTES
                               : crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
}

static bool aes_available(void)
{
    return crypto_aead_aes256gcm_is_available() != 0;
}

err seal_set_algorithm(seal_alg a)
{
    ENSURE(a == SEAL_XCHACHA20POLY1305 || a == SEAL_AES256GCM, ERR_INPUT,
           "unknown sealing algorithm");
    ENSURE(a != SEAL_AES256GCM || aes_available(), ERR_CRYPTO,
           "AES-256-GCM needs AES-NI, which this CPU lacks");
    atomic_store(&current_alg, (int)a);
    return ERR_OK;
}

seal_alg seal_algorithm(void)
{
    return (seal_alg)atomic_load(&current_alg);
}

/* AD = "custos.seal.v1" 0 owner 0 field 0 header. Uses stack when it fits, else malloc
 * (*heap set; the caller frees it). */
static err ad_build(uint8_t *stack, const char *owner, const char *field,
                    const uint8_t hdr[SEAL_HEADER_LEN], uint8_t **ad, size_t *ad_len)
{
    size_t lo = strlen(owner), lf = strlen(field);
    size_t n = sizeof AD_PREFIX + lo + 1 + lf + 1 + SEAL_HEADER_LEN;
    ENSURE(lo <= 4096 && lf <= 4096, ERR_INPUT, "owner or field name too long");
    uint8_t *p = stack;
    if (n > AD_STACK) {
        p = malloc(n);
        ENSURE(p != NULL, ERR_INTERNAL, "out of memory");
    }
    size_t o = 0;
    memcpy(p + o, AD_PREFIX, sizeof AD_PREFIX);
    o += sizeof AD_PREFIX;
    memcpy(p + o, owner, lo + 1);
    o += lo + 1;
    memcpy(p + o, field, lf + 1);
    o += lf + 1;
    memcpy(p + o, hdr, SEAL_HEADER_LEN);
    *ad = p;
    *ad_len = n;
    return ERR_OK;
}

err seal_with(seal_alg a, const uint8_t key[KEY_LEN], uint32_t key_version, const char *owner,
              const char *field, slice plain, buf *out)
{
    err rc = ERR_OK;
    uint8_t stack[AD_STACK];
    uint8_t *ad = NULL;
    size_t ad_len = 0;
    CHECK(a == SEAL_XCHACHA20POLY1305 || a == SEAL_AES256GCM, ERR_INPUT,
          "unknown sealing algorithm");
    CHECK(a != SEAL_AES256GCM || aes_available(), ERR_CRYPTO,
          "AES-256-GCM needs AES-NI, which this CPU lacks");
    size_t nl = nonce_len(a);
    CHECK(plain.len <= (size_t)1 << 32, ERR_TOO_LARGE, "value too large to seal");
    uint8_t hdr[SEAL_HEADER_LEN] = {SEAL_FORMAT_V1,
                                    (uint8_t)a,
                                    (uint8_t)(key_version >> 24),
                                    (uint8_t)(key_version >> 16),
                                    (uint8_t)(key_version >> 8),
                                    (uint8_t)key_version};
    GUARD(ad_build(stack, owner, field, hdr, &ad, &ad_len));
    GUARD(buf_reserve(out, SEAL_HEADER_LEN + nl + plain.len + SEAL_TAG_LEN));
    uint8_t *p = out->p + out->len;
    memcpy(p, hdr, SEAL_HEADER_LEN);
    uint8_t *nonce = p + SEAL_HEADER_LEN;
    randombytes_buf(nonce, nl);
    uint8_t *ct = nonce + nl;
    unsigned long long clen = 0;
    int r;
    if (a == SEAL_AES256GCM) {
        r = crypto_aead_aes256gcm_encrypt(ct, &clen, plain.p, plain.len, ad, ad_len, NULL, nonce,
                                          key);
    } else {
        r = crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, plain.p, plain.len, ad, ad_len,
                                                       NULL, nonce, key);
    }
    CHECK(r == 0 && clen == plain.len + SEAL_TAG_LEN, ERR_CRYPTO, "sealing failed");
    out->len += SEAL_HEADER_LEN + nl + (size_t)clen;
out:
    if (ad != NULL && ad != stack) {
        free(ad);
    }
    return rc;
}

err seal(const uint8_t key[KEY_LEN], uint32_t key_version, const char *owner, const char *field,
         slice plain, buf *out)
{
    return seal_with(seal_algorithm(), key, key_version, owner, field, plain, out);
}

err envelope_key_version(slice envelope, uint32_t *version)
{
    ENSURE(envelope.len >= SEAL_HEADER_LEN, ERR_CRYPTO, "integrity check failed");
    ENSURE(envelope.p[0] == SEAL_FORMAT_V1, ERR_INPUT, "unknown envelope format version");
    const uint8_t *p = envelope.p + 2;
    *version = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    return ERR_OK;
}

err unseal_into(const uint8_t key[KEY_LEN], const char *owner, const char *field, slice envelope,
                uint8_t *out, size_t max, size_t *out_len)
{
    err rc = ERR_OK;
    uint8_t stack[AD_STACK];
    uint8_t *ad = NULL;
    size_t ad_len = 0, plen = 0;
    *out_len = 0;
    CHECK(envelope.len >= SEAL_HEADER_LEN, ERR_CRYPTO, "integrity check failed");
    CHECK(envelope.p[0] == SEAL_FORMAT_V1, ERR_INPUT, "unknown envelope format version");
    seal_alg a = (seal_alg)envelope.p[1];
    CHECK(a == SEAL_XCHACHA20POLY1305 || a == SEAL_AES256GCM, ERR_INPUT,
          "unknown envelope algorithm");
    size_t nl = nonce_len(a);
    CHECK(envelope.len >= SEAL_HEADER_LEN + nl + SEAL_TAG_LEN, ERR_CRYPTO,
          "integrity check failed");
    CHECK(a != SEAL_AES256GCM || aes_available(), ERR_CRYPTO,
          "AES-256-GCM envelope but this CPU lacks AES-NI");
    size_t clen = envelope.len - SEAL_HEADER_LEN - nl;
    plen = clen - SEAL_TAG_LEN;
    CHECK(plen <= max, ERR_CRYPTO, "integrity check failed");
    GUARD(ad_build(stack, owner, field, envelope.p, &ad, &ad_len));
    const uint8_t *nonce = envelope.p + SEAL_HEADER_LEN;
    const uint8_t *ct = nonce + nl;
    unsigned long long got = 0;
    int r;
    if (a == SEAL_AES256GCM) {
        r = crypto_aead_aes256gcm_decrypt(out, &got, NULL, ct, clen, ad, ad_len, nonce, key);
    } else {
        r = crypto_aead_xchacha20poly1305_ietf_decrypt(out, &got, NULL, ct, clen, ad, ad_len, nonce,
                                                       key);
    }
    CHECK(r == 0 && got == plen, ERR_CRYPTO, "integrity check failed");
    *out_len = plen;
out:
    if (rc != ERR_OK && out != NULL && max > 0) {
        sodium_memzero(out, plen < max ? plen : max);
    }
    if (ad != NULL && ad != stack) {
        free(ad);
    }
    return rc;
}

err unseal(const uint8_t key[KEY_LEN], const char *owner, const char *field, slice envelope,
           buf *out)
{
    /* Validate the shape first so that a hostile length never sizes an allocation. */
    ENSURE(envelope.len >= SEAL_HEADER_LEN, ERR_CRYPTO, "integrity check failed");
    ENSURE(envelope.p[0] == SEAL_FORMAT_V1, ERR_INPUT, "unknown envelope format version");
    seal_alg a = (seal_alg)envelope.p[1];
    ENSURE(a == SEAL_XCHACHA20POLY1305 || a == SEAL_AES256GCM, ERR_INPUT,
           "unknown envelope algorithm");
    size_t nl = nonce_len(a);
    ENSURE(envelope.len >= SEAL_HEADER_LEN + nl + SEAL_TAG_LEN, ERR_CRYPTO,
           "integrity check failed");
    size_t plen = envelope.len - SEAL_HEADER_LEN - nl - SEAL_TAG_LEN;
    TRY(buf_reserve(out, plen));
    size_t got = 0;
    TRY(unseal_into(key, owner, field, envelope, out->p + out->len, plen, &got));
    out->len += got;
    return ERR_OK;
}
