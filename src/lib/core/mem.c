/*
 * mem.c - libsodium-backed memory, randomness and encoding primitives.
 */
#include "core/mem.h"

#include <jansson.h>
#include <malloc.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* jansson holds parsed request bodies (personal values) in its own allocations: give it a
 * free that wipes every block first. Blocks stay ordinary malloc blocks, so strings that
 * jansson returns (json_dumps) may still be released with free(), or better with
 * mem_free_wiped. */
size_t mem_wipe_block(void *p)
{
    if (!p) {
        return 0;
    }
    size_t n = malloc_usable_size(p);
    sodium_memzero(p, n);
    return n;
}

void mem_free_wiped(void *p)
{
    if (p) {
        mem_wipe_block(p);
        free(p);
    }
}

static void json_wiping_free(void *p)
{
    mem_free_wiped(p);
}

err mem_init(void)
{
    ENSURE(sodium_init() >= 0, ERR_INTERNAL, "libsodium failed to initialise");
    json_set_alloc_funcs(malloc, json_wiping_free);
    return ERR_OK;
}

void mem_wipe(void *p, size_t n)
{
    if (p && n) {
        sodium_memzero(p, n);
    }
}

bool mem_eq_ct(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

void rand_bytes(void *p, size_t n)
{
    randombytes_buf(p, n);
}

uint32_t rand_uniform(uint32_t upper)
{
    return randombytes_uniform(upper);
}

void *secret_alloc(size_t n)
{
    void *p = sodium_malloc(n);
    if (p) {
#if defined(MADV_DONTDUMP) && !defined(CUSTOS_SANITIZE)
        /* sodium_malloc already excludes the region from core dumps where it can. */
#endif
        memset(p, 0, n);
    }
    return p;
}

void secret_free(void *p)
{
    if (p) {
        sodium_free(p);
    }
}

void secret_noaccess(void *p)
{
    (void)sodium_mprotect_noaccess(p);
}
void secret_readonly(void *p)
{
    (void)sodium_mprotect_readonly(p);
}
void secret_readwrite(void *p)
{
    (void)sodium_mprotect_readwrite(p);
}

void mem_lock(void *p, size_t n)
{
    (void)sodium_mlock(p, n);
}
void mem_unlock(void *p, size_t n)
{
    (void)sodium_munlock(p, n);
}

void hex_encode(char *out, const uint8_t *in, size_t n)
{
    sodium_bin2hex(out, n * 2 + 1, in, n);
}

err hex_decode(uint8_t *out, size_t out_max, size_t *out_len, const char *in, size_t in_len)
{
    const char *end = NULL;
    size_t got = 0;
    ENSURE(sodium_hex2bin(out, out_max, in, in_len, NULL, &got, &end) == 0 && end == in + in_len,
           ERR_INPUT, "not valid hexadecimal");
    *out_len = got;
    return ERR_OK;
}

void b64url_encode(char *out, size_t out_max, const uint8_t *in, size_t n)
{
    sodium_bin2base64(out, out_max, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void b64_encode(char *out, size_t out_max, const uint8_t *in, size_t n)
{
    sodium_bin2base64(out, out_max, in, n, sodium_base64_VARIANT_ORIGINAL);
}

/* libsodium 1.0.18 reads some bytes >= 0x80 as alphabet characters: refuse them first. */
static bool ascii_only(const char *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)in[i] >= 0x80) {
            return false;
        }
    }
    return true;
}

err b64url_decode(uint8_t *out, size_t out_max, size_t *out_len, const char *in, size_t in_len)
{
    ENSURE(ascii_only(in, in_len), ERR_INPUT, "not valid base64url");
    const char *end = NULL;
    ENSURE(sodium_base642bin(out, out_max, in, in_len, NULL, out_len, &end,
                             sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
               end == in + in_len,
           ERR_INPUT, "not valid base64url");
    return ERR_OK;
}

err b64_decode(uint8_t *out, size_t out_max, size_t *out_len, const char *in, size_t in_len)
{
    ENSURE(ascii_only(in, in_len), ERR_INPUT, "not valid base64");
    const char *end = NULL;
    ENSURE(sodium_base642bin(out, out_max, in, in_len, NULL, out_len, &end,
                             sodium_base64_VARIANT_ORIGINAL) == 0 &&
               end == in + in_len,
           ERR_INPUT, "not valid base64");
    return ERR_OK;
}

static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";

void id_new(char out[ID_LEN + 1], const char *prefix)
{
    uint8_t r[17];
    randombytes_buf(r, sizeof r);
    size_t n = 0;
    while (prefix[n] && n < 4) {
        out[n] = prefix[n];
        n++;
    }
    out[n++] = '_';
    /* 26 base32 characters from 130 bits. */
    uint32_t acc = 0;
    int bits = 0;
    size_t i = 0;
    size_t end = n + 26;
    while (n < end && n < ID_LEN) {
        if (bits < 5) {
            acc = (acc << 8) | r[i++ % sizeof r];
            bits += 8;
        }
        out[n++] = B32[(acc >> (bits - 5)) & 31];
        bits -= 5;
    }
    out[n] = '\0';
    sodium_memzero(r, sizeof r);
}

bool id_valid(const char *s)
{
    size_t n = strnlen(s, ID_LEN + 1);
    if (n < 8 || n > ID_LEN) {
        return false;
    }
    const char *us = memchr(s, '_', n);
    if (us == NULL || us == s || us - s > 4) {
        return false;
    }
    for (const char *p = s; p < us; p++) {
        if (*p < 'a' || *p > 'z') {
            return false;
        }
    }
    for (const char *p = us + 1; p < s + n; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '2' && *p <= '7'))) {
            return false;
        }
    }
    return true;
}
