/*
 * mem.h - the few memory and randomness primitives every module needs:
 * wiping, constant-time comparison, locked allocations for secrets, and the
 * system CSPRNG. Backed by libsodium so that nothing here is home-made.
 */
#ifndef CUSTOS_MEM_H
#define CUSTOS_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Must be called once before anything else (initialises libsodium). */
MUST_USE err mem_init(void);
void mem_wipe(void *p, size_t n);
/* Wipes a whole malloc block (its usable size, returned); frees it after wiping. For buffers
 * handed to libraries that free them later (HTTP answers, json_dumps text). */
size_t mem_wipe_block(void *p);
void mem_free_wiped(void *p);
/* Constant-time equality of two equal-length byte strings. */
bool mem_eq_ct(const void *a, const void *b, size_t n);
void rand_bytes(void *p, size_t n);
uint32_t rand_uniform(uint32_t upper);
/* Guarded, locked, non-dumpable allocation for long-lived secrets; NULL on failure. */
void *secret_alloc(size_t n);
void secret_free(void *p); /* wipes */
void secret_noaccess(void *p);
void secret_readonly(void *p);
void secret_readwrite(void *p);
/* Lock / unlock short-lived buffers holding secrets (best effort). */
void mem_lock(void *p, size_t n);
void mem_unlock(void *p, size_t n); /* also wipes */

/* Encoding helpers (libsodium's constant-time codecs). out must hold the sizes below. */
#define HEX_LEN(n) ((n)*2 + 1)
#define B64_LEN(n) ((((n) + 2) / 3) * 4 + 1)
void hex_encode(char *out, const uint8_t *in, size_t n);
MUST_USE err hex_decode(uint8_t *out, size_t out_max, size_t *out_len, const char *in,
                        size_t in_len);
void b64url_encode(char *out, size_t out_max, const uint8_t *in, size_t n); /* no padding */
void b64_encode(char *out, size_t out_max, const uint8_t *in, size_t n);    /* standard, padded */
MUST_USE err b64url_decode(uint8_t *out, size_t out_max, size_t *out_len, const char *in,
                           size_t in_len);
MUST_USE err b64_decode(uint8_t *out, size_t out_max, size_t *out_len, const char *in,
                        size_t in_len);

/* Random opaque identifier: prefix + 26 base32 characters (130 random bits). */
#define ID_LEN 32
void id_new(char out[ID_LEN + 1], const char *prefix);
/* True when s looks like an id made by id_new (prefix letters, '_' and base32). */
bool id_valid(const char *s);

#endif
