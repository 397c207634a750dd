/*
 * hash.c - plain hashes, password hashing and Ed25519 verification.
 *
 * Passwords are stored as libsodium's Argon2id strings (crypto_pwhash_str), which
 * carry their own salt and parameters, so raising the cost later only needs
 * password_needs_rehash() at the next successful login. Tests lower the cost with
 * password_set_fast(true) or, once at first use, CUSTOS_TEST_KDF=fast in the
 * environment (the minimum Argon2id parameters: never for production). Only test builds
 * (CUSTOS_TESTING) read the variable; the release binary always uses the real cost.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "crypto/crypto.h"

void hash_sha256(const uint8_t *in, size_t n, uint8_t out[32])
{
    crypto_hash_sha256(out, in, n);
}

void hash_blake2b(uint8_t *out, size_t outlen, const uint8_t *in, size_t n, const uint8_t *key,
                  size_t keylen)
{
    /* Sizes are the caller's constants: a wrong one is a programming error, not input. */
    if (crypto_generichash(out, outlen, in, n, key, keylen) != 0) {
        abort();
    }
}

bool ed25519_verify(const uint8_t pk[32], slice msg, const uint8_t sig[64])
{
    return crypto_sign_verify_detached(sig, msg.p, msg.len, pk) == 0;
}

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static _Atomic bool fast_kdf;

static void env_init(void)
{
#ifdef CUSTOS_TESTING
    const char *e = getenv("CUSTOS_TEST_KDF");
    if (e != NULL && strcmp(e, "fast") == 0) {
        atomic_store(&fast_kdf, true);
    }
#endif
}

void password_set_fast(bool fast)
{
    pthread_once(&env_once, env_init);
    atomic_store(&fast_kdf, fast);
}

static void params(unsigned long long *ops, size_t *mem)
{
    pthread_once(&env_once, env_init);
    if (atomic_load(&fast_kdf)) {
        *ops = crypto_pwhash_OPSLIMIT_MIN;
        *mem = crypto_pwhash_MEMLIMIT_MIN;
    } else {
        *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    }
}

err password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX])
{
    _Static_assert(PASSWORD_HASH_MAX >= crypto_pwhash_STRBYTES, "hash buffer too small");
    unsigned long long ops;
    size_t mem;
    params(&ops, &mem);
    ENSURE(len <= crypto_pwhash_PASSWD_MAX, ERR_INPUT, "password too long");
    ENSURE(crypto_pwhash_str(out, pw, len, ops, mem) == 0, ERR_INTERNAL,
           "out of memory while hashing a password");
    return ERR_OK;
}

bool password_verify(const char *hash, const char *pw, size_t len)
{
    if (hash == NULL || strnlen(hash, PASSWORD_HASH_MAX) >= PASSWORD_HASH_MAX) {
        return false;
    }
    return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

bool password_needs_rehash(const char *hash)
{
    if (hash == NULL || strnlen(hash, PASSWORD_HASH_MAX) >= PASSWORD_HASH_MAX) {
        return true;
    }
    unsigned long long ops;
    size_t mem;
    params(&ops, &mem);
    return crypto_pwhash_str_needs_rehash(hash, ops, mem) != 0;
}
