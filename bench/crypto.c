/*
 * crypto.c - the crypto module's costs: sealing and opening one 32-byte field with
 * XChaCha20-Poly1305 (the baseline, our default) and AES-256-GCM, unwrapping a data
 * key through the keyring, computing a blind index (against a bare keyed BLAKE2b-64,
 * which shows what deriving the per-index key on every call costs), and the Argon2id
 * derivations (keyring at KDF_MODERATE, a password at the interactive parameters).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "core/mem.h"
#include "crypto/crypto.h"

#define RUN_SECS 0.5

/* Seal + unseal of a 32-byte value until RUN_SECS have passed; returns ops/s. */
static double seal_rate(seal_alg a, const char *label)
{
    uint8_t key[KEY_LEN], v[32];
    rand_bytes(key, sizeof key);
    rand_bytes(v, sizeof v);
    buf env, out;
    buf_init(&env, 0);
    buf_init(&out, 0);
    if (seal_set_algorithm(a) != ERR_OK) {
        printf("  %-52s %s\n", label, "unavailable (no AES-NI)");
        return 0;
    }
    double n = 0, t0 = bench_secs(), t = 0;
    bool ok = true;
    do {
        for (int i = 0; i < 1000; i++) {
            buf_reset(&env);
            buf_reset(&out);
            ok &= seal(key, 1, "cus_abcdefghijklmnopqrstuvwxyz", "email", slice_of(v, 32), &env) ==
                  ERR_OK;
            ok &= unseal(key, "cus_abcdefghijklmnopqrstuvwxyz", "email", buf_slice(&env), &out) ==
                  ERR_OK;
        }
        n += 1000;
        t = bench_secs() - t0;
    } while (t < RUN_SECS);
    if (!ok) {
        printf("  %s: FAILED\n", label);
    }
    bench_report(label, n, t);
    if (seal_set_algorithm(SEAL_XCHACHA20POLY1305) != ERR_OK) {
        printf("  cannot restore the default algorithm\n");
    }
    buf_free(&env);
    buf_free(&out);
    return n / t;
}

void bench_crypto(void)
{
    bench_section("crypto");
    double x = seal_rate(SEAL_XCHACHA20POLY1305, "seal+unseal 32 B, XChaCha20-Poly1305 (baseline)");
    double a = seal_rate(SEAL_AES256GCM, "seal+unseal 32 B, AES-256-GCM");
    if (a > 0) {
        bench_ratio("AES-256-GCM vs XChaCha20-Poly1305", a, x, NULL);
    }

    const char *base = getenv("TMPDIR");
    char dir[512], kf[600], kp[600];
    snprintf(dir, sizeof dir, "%s/custos-bench-crypto-XXXXXX", base ? base : "/tmp");
    if (mkdtemp(dir) == NULL) {
        printf("  cannot create a temporary directory\n");
        return;
    }
    snprintf(kf, sizeof kf, "%s/key", dir);
    snprintf(kp, sizeof kp, "%s/keyring", dir);
    kek_source src = {NULL, 0, kf};
    keyring *kr = NULL;
    if (key_file_generate(kf) != ERR_OK || keyring_create(kp, &src, KDF_FAST) != ERR_OK ||
        keyring_open(kp, &src, &kr) != ERR_OK) {
        printf("  keyring setup failed: %s\n", err_message());
        goto out;
    }

    uint8_t dek[KEY_LEN], out[KEY_LEN];
    buf w;
    buf_init(&w, 0);
    if (keyring_dek_new(kr, "cus_abcdefghijklmnopqrstuvwxyz", dek, &w) != ERR_OK) {
        printf("  dek_new failed\n");
        buf_free(&w);
        goto out;
    }
    double n = 0, t0 = bench_secs(), t = 0;
    bool ok = true;
    do {
        for (int i = 0; i < 1000; i++) {
            ok &= keyring_dek_unwrap(kr, "cus_abcdefghijklmnopqrstuvwxyz", buf_slice(&w), out) ==
                  ERR_OK;
        }
        n += 1000;
        t = bench_secs() - t0;
    } while (t < RUN_SECS);
    bench_report(ok ? "DEK unwrap (keyring_dek_unwrap)" : "DEK unwrap FAILED", n, t);
    buf_free(&w);
    mem_wipe(dek, sizeof dek);
    mem_wipe(out, sizeof out);

    /* Baseline: one keyed BLAKE2b-64 of the value, what a cached per-index key would cost. */
    slice v = slice_cstr("alice@example.com");
    uint8_t k[32], h[8];
    rand_bytes(k, sizeof k);
    volatile uint64_t sink = 0;
    n = 0;
    t0 = bench_secs();
    do {
        for (int i = 0; i < 1000; i++) {
            hash_blake2b(h, 8, v.p, v.len, k, sizeof k);
            sink += h[0];
        }
        n += 1000;
        t = bench_secs() - t0;
    } while (t < RUN_SECS);
    double bl = n / t;
    bench_report("keyed BLAKE2b-64 of an e-mail (cached-key baseline)", n, t);
    n = 0;
    t0 = bench_secs();
    do {
        for (int i = 0; i < 1000; i++) {
            sink += keyring_blind(kr, "email", 32, v);
        }
        n += 1000;
        t = bench_secs() - t0;
    } while (t < RUN_SECS);
    bench_report("blind index (keyring_blind, key derived per call)", n, t);
    bench_ratio("blind index vs cached-key baseline", n / t, bl, NULL);
    (void)sink;

    /* Argon2id: the keyring's wrapping key at KDF_MODERATE, and a password hash. */
    char kp2[600];
    snprintf(kp2, sizeof kp2, "%s/keyring-moderate", dir);
    kek_source ps = {"bench passphrase", 16, NULL};
    keyring *kr2 = NULL;
    if (keyring_create(kp2, &ps, KDF_MODERATE) == ERR_OK) {
        t0 = bench_secs();
        err e = keyring_open(kp2, &ps, &kr2);
        t = bench_secs() - t0;
        printf("  %-52s %14.3f s%s\n", "Argon2id KDF_MODERATE (keyring_open)", t,
               e == ERR_OK ? "" : "  FAILED");
        keyring_free(kr2);
        unlink(kp2);
    }
    password_set_fast(false);
    char ph[PASSWORD_HASH_MAX];
    t0 = bench_secs();
    err e = password_hash("correct horse battery staple", 28, ph);
    t = bench_secs() - t0;
    printf("  %-52s %14.3f s%s\n", "Argon2id interactive (password_hash)", t,
           e == ERR_OK ? "" : "  FAILED");
    const char *kdf = getenv("CUSTOS_TEST_KDF"); /* leave the setting as we found it */
    password_set_fast(kdf != NULL && strcmp(kdf, "fast") == 0);
    fflush(stdout);
out:
    keyring_free(kr);
    unlink(kf);
    unlink(kp);
    char lock[700];
    snprintf(lock, sizeof lock, "%s.lock", kp);
    unlink(lock);
    rmdir(dir);
}
