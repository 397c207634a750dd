/*
 * crypto_int.h - what the files of crypto/ share and nobody else may use: envelope
 * sealing into caller memory (the DEK hot path allocates nothing), atomic file
 * writes (temp file in the same directory, fsync, rename, fsync of the directory),
 * bounded whole-file reads, and the keyring internals the backup needs (opening a
 * keyring held in memory, deriving the per-backup stream key).
 */
#ifndef CUSTOS_CRYPTO_INT_H
#define CUSTOS_CRYPTO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "crypto/crypto.h"

/* ---- seal.c ---- */
#define SEAL_HEADER_LEN 6
#define SEAL_FORMAT_V1 1
#define SEAL_TAG_LEN 16

/* Appends an envelope made with algorithm a (whatever seal_algorithm() says). */
MUST_USE err seal_with(seal_alg a, const uint8_t key[KEY_LEN], uint32_t key_version,
                       const char *owner, const char *field, slice plain, buf *out);
/* Opens envelope into out[0..max); *out_len receives the plaintext length. out is wiped on
 * failure. ERR_CRYPTO when the plaintext would not fit in max (a DEK envelope is exact). */
MUST_USE err unseal_into(const uint8_t key[KEY_LEN], const char *owner, const char *field,
                         slice envelope, uint8_t *out, size_t max, size_t *out_len);

/* ---- keyring.c: for backup.c ---- */
#define KEYRING_FILE_MAX ((size_t)1 << 20)

/* Opens a keyring from the bytes of a keyring file (no path: reload/add/retire refused). */
MUST_USE err keyring_open_mem(slice file, const kek_source *src, keyring **out);
/* Checks that file is the keyring kr holds (same WK, same backup root key). */
MUST_USE err keyring_matches_file(keyring *kr, slice file);
/* The per-backup stream key: BLAKE2b-256 keyed with the backup root key over
 * "custos.backup.v1." || salt. */
void keyring_backup_key(keyring *kr, const uint8_t salt[16], uint8_t out[KEY_LEN]);

#endif
