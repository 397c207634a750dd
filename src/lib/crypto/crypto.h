/*
 * crypto.h - every cryptographic operation of Custos, behind small APIs.
 * Only files in crypto/ (and core/mem.c) include sodium.h or gnutls.
 *
 * Key hierarchy (docs/FORMATS.md has the byte layouts):
 *   operator passphrase --Argon2id--> wrapping key (WK)      | or a 32-byte key file = WK
 *   WK seals the keyring file: KEK versions (random 256-bit), the blind-index root key,
 *      the audit Ed25519 signing key, and the backup root key.
 *   KEK (current version) wraps each customer's data key (DEK, random 256-bit).
 *   DEK seals each field value in an envelope whose associated data binds the owner id,
 *      the field name and the key version.
 */
#ifndef CUSTOS_CRYPTO_H
#define CUSTOS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define KEY_LEN 32

/* ---- envelopes: one sealed value --------------------------------------------------------
 * byte 0 format version (1), byte 1 algorithm (1 XChaCha20-Poly1305, 2 AES-256-GCM),
 * bytes 2-5 key version (u32 big endian), nonce (24 or 12 bytes, random), ciphertext||tag(16).
 * AD = "custos.seal.v1" 0x00 owner 0x00 field 0x00 header(bytes 0-5). */
typedef enum seal_alg { SEAL_XCHACHA20POLY1305 = 1, SEAL_AES256GCM = 2 } seal_alg;
#define SEAL_MAX_OVERHEAD (6 + 24 + 16)

/* Chooses the algorithm for new envelopes (both are always readable). AES-256-GCM is
 * refused (ERR_CRYPTO) when the CPU lacks AES-NI. */
MUST_USE err seal_set_algorithm(seal_alg a);
seal_alg seal_algorithm(void);
/* Appends the envelope of plain to out. owner and field are NUL-terminated. */
MUST_USE err seal(const uint8_t key[KEY_LEN], uint32_t key_version, const char *owner,
                  const char *field, slice plain, buf *out);
/* Appends the plaintext to out; ERR_CRYPTO ("integrity check failed") for a wrong key,
 * owner, field, version, a flipped byte or a truncated envelope; ERR_INPUT for an
 * unknown format version or algorithm. */
MUST_USE err unseal(const uint8_t key[KEY_LEN], const char *owner, const char *field,
                    slice envelope, buf *out);
MUST_USE err envelope_key_version(slice envelope, uint32_t *version);

/* ---- the keyring ------------------------------------------------------------------------ */
typedef struct keyring keyring;

typedef struct kek_source {
    const char *passphrase; /* UTF-8, or NULL */
    size_t passphrase_len;
    const char *key_file; /* file holding 32 random bytes as 64 hex digits, or NULL */
} kek_source;

typedef enum kdf_strength { KDF_MODERATE, KDF_FAST /* tests only */ } kdf_strength;

/* Reads the key source from the environment: CUSTOS_PASSPHRASE, or key_file when given.
 * ERR_INPUT when neither is set. The result borrows getenv()'s memory. */
MUST_USE err kek_source_from_env(const char *key_file, kek_source *out);
/* Writes a new random key file (mode 0600, 64 hex digits and a newline); refuses to overwrite. */
MUST_USE err key_file_generate(const char *path);

/* Creates the keyring file at path (refuses an existing file): KEK version 1, a blind-index
 * root key, an Ed25519 signing key and a backup root key, sealed under WK. */
MUST_USE err keyring_create(const char *path, const kek_source *src, kdf_strength s);
/* Opens it; ERR_AUTH "wrong passphrase or key file" when WK does not open it; ERR_CRYPTO
 * when the file is damaged. Keys live in sodium_malloc memory, read-protected when idle. */
MUST_USE err keyring_open(const char *path, const kek_source *src, keyring **out);
void keyring_free(keyring *kr);
/* The emergency brake: wipes the wrapping key and every KEK from memory, so no data key can
 * be unwrapped or made (ERR_UNAVAILABLE) until keyring_unseal with the passphrase or key
 * file. The audit keys stay: the log keeps recording. */
void keyring_seal(keyring *kr);
bool keyring_sealed(keyring *kr);
MUST_USE err keyring_unseal(keyring *kr, const kek_source *src);
/* Re-reads the file with the WK it holds (after another process rotated). Thread-safe. */
MUST_USE err keyring_reload(keyring *kr);
uint32_t keyring_kek_version(const keyring *kr); /* the active version */
/* Adds a new active KEK version (file rewritten atomically: temp file, fsync, rename). */
MUST_USE err keyring_add_kek(keyring *kr, uint32_t *new_version);
/* Adds a version that is not active yet (it wraps nothing until keyring_activate_kek); its
 * number is at least at_least and above every version held. */
MUST_USE err keyring_add_kek_pending(keyring *kr, uint32_t at_least, uint32_t *new_version);
/* Makes a held version the active one (the others stay, able to unwrap only). */
MUST_USE err keyring_activate_kek(keyring *kr, uint32_t version);
/* Removes a non-active version from the file and from memory. */
MUST_USE err keyring_retire_kek(keyring *kr, uint32_t version);
/* All versions currently held (ascending); returns the count (<= max). */
size_t keyring_kek_versions(const keyring *kr, uint32_t *out, size_t max);

/* Data keys. A wrapped DEK is an envelope (owner = customer id, field = "dek") sealed under
 * the KEK of its key version. dek must point to KEY_LEN bytes the caller keeps locked. */
MUST_USE err keyring_dek_new(keyring *kr, const char *owner, uint8_t dek[KEY_LEN], buf *wrapped);
MUST_USE err keyring_dek_wrap(keyring *kr, const char *owner, const uint8_t dek[KEY_LEN],
                              buf *wrapped);
/* Wraps under a given held version (ERR_NOT_FOUND when it is not held), active or not. */
MUST_USE err keyring_dek_wrap_version(keyring *kr, uint32_t version, const char *owner,
                                      const uint8_t dek[KEY_LEN], buf *wrapped);
/* Unwraps with the version named in the envelope; reloads the keyring once if that version
 * is unknown (rotation by another process). */
MUST_USE err keyring_dek_unwrap(keyring *kr, const char *owner, slice wrapped,
                                uint8_t dek[KEY_LEN]);

/* Blind index: keyed BLAKE2b over a normalised value with a per-index key derived from the
 * root key, truncated to `bits` (8..64) bits. Deterministic for a given vault. */
uint64_t keyring_blind(keyring *kr, const char *index_name, unsigned bits, slice normalized);
/* Keyed hash for the audit log (a value that must be matched later, never stored plain). */
void keyring_audit_hash(keyring *kr, slice value, uint8_t out[32]);

/* A 32-byte MAC of msg under a key derived from the master keys for one purpose
 * ("idempotency", "audit.anchor"...): verifiable and makeable only with the keyring. */
void keyring_mac(keyring *kr, const char *purpose, slice msg, uint8_t out[32]);
/* Ed25519 over msg with the audit signing key. */
void keyring_sign(keyring *kr, slice msg, uint8_t sig[64]);
void keyring_public_key(keyring *kr, uint8_t pk[32]);
bool ed25519_verify(const uint8_t pk[32], slice msg, const uint8_t sig[64]);

/* ---- hashes and passwords ----------------------------------------------------------------- */
void hash_sha256(const uint8_t *in, size_t n, uint8_t out[32]);
void hash_blake2b(uint8_t *out, size_t outlen, const uint8_t *in, size_t n, const uint8_t *key,
                  size_t keylen);
/* Argon2id string hash (crypto_pwhash_str); out holds PASSWORD_HASH_MAX bytes. */
#define PASSWORD_HASH_MAX 128
MUST_USE err password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX]);
bool password_verify(const char *hash, const char *pw, size_t len);
bool password_needs_rehash(const char *hash);
/* Argon2id parameters for password hashing; tests lower them (here, or CUSTOS_TEST_KDF=fast
 * in test builds only). */
void password_set_fast(bool fast);

/* ---- backups --------------------------------------------------------------------------------
 * A backup file: a header (magic "CUSTOSBK", format version, creation time, a random
 * per-backup salt, and the sealed keyring file itself, which is already sealed under WK),
 * then a libsodium secretstream (XChaCha20-Poly1305) keyed by a key derived (BLAKE2b, keyed
 * with the keyring's backup root key) from the salt; the header is the first message's
 * associated data. Members follow as (name, length, bytes) records in chunks of 64 KiB; the
 * last message carries TAG_FINAL and the member count, so truncation is detected. Restoring
 * needs only the backup and the passphrase or key file. */
typedef struct backup_member {
    const char *name; /* stored name, [a-z0-9._-]+ */
    const char *path; /* file to read */
} backup_member;

/* Writes the backup atomically (temp file + fsync + rename). */
MUST_USE err backup_create(keyring *kr, const char *keyring_path, const char *out_path,
                           const backup_member *members, size_t n);
/* Verifies the whole backup (every chunk's tag, the final tag, the member table) and only
 * then leaves the members as files in staging_dir (which must exist and be empty). A wrong
 * key, a flipped byte or a truncated file gives ERR_CRYPTO or ERR_AUTH and leaves
 * staging_dir empty. names receives the member names (caller frees each and the array). */
MUST_USE err backup_extract(const char *backup_path, const kek_source *src, const char *staging_dir,
                            char ***names, size_t *n);

/* ---- TLS material (GnuTLS) ------------------------------------------------------------------ */
/* ECDSA P-256 key and a self-signed certificate for localhost, 127.0.0.1 and ::1, valid
 * 825 days; key file mode 0600. Refuses to overwrite. */
MUST_USE err tls_generate_self_signed(const char *key_path, const char *cert_path);

#endif
