/*
 * checkpoint.h - C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519:
 *
 *   <origin>\n<tree size, decimal>\n<base64 root hash>\n
 *   \n
 *   — <key name> <base64(key hash (4 bytes) || Ed25519 signature (64 bytes))>\n
 *
 * key hash = SHA-256(key name || "\n" || 0x01 || public key)[0:4]; the signature covers the
 * body bytes exactly. The verifier key ("vkey") is <name>+<hex key hash>+<base64(0x01||pk)>.
 */
#ifndef CUSTOS_CHECKPOINT_H
#define CUSTOS_CHECKPOINT_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define CHECKPOINT_MAX_NOTE 65536

typedef struct checkpoint {
    char origin[256];
    uint64_t size;
    uint8_t root[32];
} checkpoint;

typedef void (*checkpoint_signer)(void *ctx, slice msg, uint8_t sig[64]);

MUST_USE err checkpoint_sign(const checkpoint *c, const char *key_name, const uint8_t pk[32],
                             checkpoint_signer sign, void *ctx, buf *note);
/* Strict parse; then ERR_CRYPTO unless a signature line by key_name with pk verifies
 * (signatures by other keys are ignored). */
MUST_USE err checkpoint_open(slice note, const char *key_name, const uint8_t pk[32],
                             checkpoint *out);
/* Parses the body without verifying any signature. */
MUST_USE err checkpoint_parse(slice note, checkpoint *out);
MUST_USE err checkpoint_vkey(const char *key_name, const uint8_t pk[32], buf *out);
MUST_USE err checkpoint_parse_vkey(const char *vkey, char *name_out, size_t name_max,
                                   uint8_t pk[32]);

#endif
