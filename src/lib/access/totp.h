/*
 * totp.h - second factor: TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps)
 * through liboath, and one-time recovery codes.
 *
 * Codes are checked for the current step and one step either side, compared in
 * constant time; a step at or before the last accepted one is refused, so a
 * code seen over a shoulder or in a log cannot be replayed.
 */
#ifndef CUSTOS_TOTP_H
#define CUSTOS_TOTP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define TOTP_SECRET_LEN 20
#define TOTP_STEP_S 30
#define TOTP_DIGITS 6
#define RECOVERY_CODES 10
#define RECOVERY_TEXT_MAX 24 /* "xxxxx-xxxxx-xxxxx-xxxxx" */

MUST_USE err totp_init(void);
/* otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30 */
MUST_USE err totp_uri(const uint8_t secret[TOTP_SECRET_LEN], const char *issuer,
                      const char *account, buf *out);
/* The code for a time step (now / 30). */
MUST_USE err totp_code(const uint8_t secret[TOTP_SECRET_LEN], int64_t step,
                       char out[TOTP_DIGITS + 1]);
/* Checks code at now_s within one step either side; steps <= last_step are refused.
 * On success *step receives the accepted step (store it as the new last_step). */
bool totp_verify(const uint8_t secret[TOTP_SECRET_LEN], int64_t now_s, const char *code,
                 int64_t last_step, int64_t *step);
/* For clients and tests: the code of a base32 secret (as in the otpauth URI) at now_s. */
MUST_USE err totp_code_base32(const char *b32, int64_t now_s, char out[TOTP_DIGITS + 1]);

/* A fresh recovery code (100 bits, base32, grouped) and the hash that is stored. */
void recovery_code_new(char out[RECOVERY_TEXT_MAX]);
/* Hash of a code as typed (case, spaces and dashes ignored) for account_id. */
void recovery_code_hash(const char *account_id, const char *typed, uint8_t h[32]);

#endif
