/*
 * totp.c - RFC 6238 codes with liboath; comparisons in constant time.
 */
#include "access/totp.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "crypto/crypto.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc = -1;

static void do_init(void)
{
    init_rc = oath_init();
}

err totp_init(void)
{
    pthread_once(&once, do_init);
    ENSURE(init_rc == OATH_OK, ERR_INTERNAL, "liboath failed to start");
    return ERR_OK;
}

err totp_uri(const uint8_t secret[TOTP_SECRET_LEN], const char *issuer, const char *account,
             buf *out)
{
    TRY(totp_init());
    char *b32 = NULL;
    size_t n = 0;
    ENSURE(oath_base32_encode((const char *)secret, TOTP_SECRET_LEN, &b32, &n) == OATH_OK,
           ERR_INTERNAL, "base32 failed");
    /* Base32 padding is not used in otpauth URIs. */
    while (n > 0 && b32[n - 1] == '=') {
        b32[--n] = '\0';
    }
    buf_reset(out);
    err rc = buf_appendf(out,
                         "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&"
                         "period=%d",
                         issuer, account, b32, issuer, TOTP_DIGITS, TOTP_STEP_S);
    mem_wipe(b32, n);
    free(b32);
    return rc;
}

err totp_code(const uint8_t secret[TOTP_SECRET_LEN], int64_t step, char out[TOTP_DIGITS + 1])
{
    TRY(totp_init());
    ENSURE(step >= 0, ERR_INPUT, "time step before 1970");
    /* oath_totp_generate takes a time: the start of the step. */
    int r = oath_totp_generate((const char *)secret, TOTP_SECRET_LEN, (time_t)(step * TOTP_STEP_S),
                               TOTP_STEP_S, 0, TOTP_DIGITS, out);
    ENSURE(r == OATH_OK, ERR_INTERNAL, "TOTP generation failed");
    return ERR_OK;
}

bool totp_verify(const uint8_t secret[TOTP_SECRET_LEN], int64_t now_s, const char *code,
                 int64_t last_step, int64_t *step)
{
    if (!code || strlen(code) != TOTP_DIGITS) {
        return false;
    }
    int64_t base = now_s / TOTP_STEP_S;
    bool ok = false;
    int64_t found = 0;
    /* Every candidate is computed and compared, whichever matches. */
    for (int64_t d = -1; d <= 1; d++) {
        char c[TOTP_DIGITS + 1];
        if (totp_code(secret, base + d, c) != ERR_OK) {
            return false;
        }
        bool m = mem_eq_ct(c, code, TOTP_DIGITS);
        if (m && !ok && base + d > last_step) {
            ok = true;
            found = base + d;
        }
        mem_wipe(c, sizeof c);
    }
    if (ok) {
        *step = found;
    }
    return ok;
}

err totp_code_base32(const char *b32, int64_t now_s, char out[TOTP_DIGITS + 1])
{
    TRY(totp_init());
    char *raw = NULL;
    size_t n = 0;
    ENSURE(oath_base32_decode(b32, strlen(b32), &raw, &n) == OATH_OK && n == TOTP_SECRET_LEN,
           ERR_INPUT, "not a TOTP secret");
    err rc = totp_code((const uint8_t *)raw, now_s / TOTP_STEP_S, out);
    mem_wipe(raw, n);
    free(raw);
    return rc;
}

static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";

void recovery_code_new(char out[RECOVERY_TEXT_MAX])
{
    uint8_t r[20];
    rand_bytes(r, sizeof r);
    size_t k = 0;
    for (int i = 0; i < 20; i++) {
        if (i > 0 && i % 5 == 0) {
            out[k++] = '-';
        }
        out[k++] = B32[r[i] & 31]; /* 5 bits of each byte: 100 bits in all */
    }
    out[k] = '\0';
    mem_wipe(r, sizeof r);
}

void recovery_code_hash(const char *account_id, const char *typed, uint8_t h[32])
{
    char norm[64];
    size_t k = 0;
    for (const char *p = typed; *p && k < sizeof norm - 1; p++) {
        char c = *p;
        if (c == '-' || c == ' ') {
            continue;
        }
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        norm[k++] = c;
    }
    norm[k] = '\0';
    buf b;
    buf_init(&b, 256);
    if (buf_appendf(&b, "custos-recovery\n%s\n%s", account_id, norm) == ERR_OK) {
        hash_blake2b(h, 32, b.p, b.len, NULL, 0);
    } else {
        memset(h, 0, 32);
    }
    buf_free(&b);
    mem_wipe(norm, sizeof norm);
}
