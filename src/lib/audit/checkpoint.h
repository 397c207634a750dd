/*
 * checkpoint.h - C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519:
 *
 *   <origin>\n<tree size, decimal>\n<base64 root hash>\n
 *   \n
 *   — <key name> <base64(key hash (4 bytes) || Ed25519 signature (64 bytes))>\n
 *
 * key hash = SHA-256(key name || "\n" || 0x01 || public key)[0:4]; the signature covers the
 * body bytes exactly (through its last '\n', not the blank line). The verifier key ("vkey") is
 * <name>+<8 hex digits key hash>+<base64(0x01 || pk)>. docs/FORMATS-audit-tree.md has the
 * complete rules, enough for an independent verifier; standard tools (Go's
 * golang.org/x/mod/sumdb/note, transparency-dev) read these notes.
 */
#ifndef CUSTOS_CHECKPOINT_H
#define CUSTOS_CHECKPOINT_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define CHECKPOINT_MAX_NOTE 65536 /* bytes in a whole note */
#define CHECKPOINT_MAX_SIGS 100   /* signature lines in a note */
#define CHECKPOINT_MAX_NAME 200   /* bytes in a key name */

typedef struct checkpoint {
    char origin[256]; /* NUL-terminated, 1..255 bytes of UTF-8 without control characters */
    uint64_t size;
    uint8_t root[32];
} checkpoint;

/* Signs msg with the Ed25519 key whose public half is given alongside (keyring_sign fits). */
typedef void (*checkpoint_signer)(void *ctx, slice msg, uint8_t sig[64]);

/* Replaces note's contents with the signed checkpoint (body, blank line, one signature line
 * by key_name). ERR_INPUT for a bad key name (printable ASCII without spaces or '+', at most
 * CHECKPOINT_MAX_NAME bytes) or origin (empty, unterminated, control characters). */
MUST_USE err checkpoint_sign(const checkpoint *c, const char *key_name, const uint8_t pk[32],
                             checkpoint_signer sign, void *ctx, buf *note);
/* Strict parse, then verification: ERR_INPUT naming the line for malformed text (exact line
 * structure, size in decimal without leading zeros, root base64 of exactly 32 bytes, non-empty
 * origin, 1..CHECKPOINT_MAX_SIGS signature lines, none repeated, note at most
 * CHECKPOINT_MAX_NOTE bytes of UTF-8); ERR_CRYPTO unless a signature line by key_name with pk
 * verifies, or when a line by that key does not. Signatures by other keys are ignored.
 * Non-empty extension lines after the root are accepted and ignored. */
MUST_USE err checkpoint_open(slice note, const char *key_name, const uint8_t pk[32],
                             checkpoint *out);
/* The same strict parse (signature lines checked for form only), no verification: for tools
 * that show a note. The result must not be trusted. */
MUST_USE err checkpoint_parse(slice note, checkpoint *out);

/* The generic signed-note layer under checkpoints, for any text (non-empty, ending in '\n',
 * UTF-8 without control characters other than '\n'): note_sign replaces note's contents with
 * text, a blank line and a signature line; note_open checks the same rules as checkpoint_open
 * and sets *text to the signed text inside `note` (borrowed). */
MUST_USE err checkpoint_note_sign(slice text, const char *key_name, const uint8_t pk[32],
                                  checkpoint_signer sign, void *ctx, buf *note);
MUST_USE err checkpoint_note_open(slice note, const char *key_name, const uint8_t pk[32],
                                  slice *text);

/* The verifier key string of (key_name, pk), replacing out's contents. */
MUST_USE err checkpoint_vkey(const char *key_name, const uint8_t pk[32], buf *out);
/* Parses a vkey (at most 1023 bytes): name (copied NUL-terminated into name_out, which holds
 * name_max bytes), key hash (must match), key type 0x01 and the 32-byte Ed25519 key. */
MUST_USE err checkpoint_parse_vkey(const char *vkey, char *name_out, size_t name_max,
                                   uint8_t pk[32]);

#endif
