/*
 * fuzz_checkpoint.c - the signed-note / checkpoint parsers and verifiers, and the vkey parser,
 * on arbitrary bytes: never a crash, never an accepted forgery, and whatever parses survives a
 * round trip (signed again with a key of the fuzzer's, it opens to the same checkpoint).
 *
 * The seed corpus (tests/fuzz/corpus/fuzz_checkpoint/) holds notes signed by the fixed test
 * key below (seed bytes 0x00..0x1f, key name "custos.audit.fuzz"), so mutations start from
 * notes that verify: a mutated note may open only if its signed text is unchanged.
 */
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "audit/checkpoint.h"
#include "core/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *KEY = "custos.audit.fuzz";
static uint8_t PK[32], SK[64];

static void fuzz_sign(void *ctx, slice msg, uint8_t sig[64])
{
    crypto_sign_detached(sig, NULL, msg.p, msg.len, SK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        if (mem_init() != ERR_OK) {
            return 0;
        }
        uint8_t seed[32];
        for (int i = 0; i < 32; i++) {
            seed[i] = (uint8_t)i;
        }
        crypto_sign_seed_keypair(PK, SK, seed);
        inited = 1;
    }
    slice in = slice_of(data, size);
    /* A public key nobody has the secret of: opening must never succeed. */
    static const uint8_t nobody[32] = {0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a,
                                       0x92, 0xb7, 0x0a, 0xa7, 0x4d, 0x1b, 0x7e, 0xbc,
                                       0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4, 0x96, 0x8c,
                                       0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66, 0x0c};
    checkpoint c, d;
    slice text;
    if (checkpoint_open(in, KEY, nobody, &c) == ERR_OK ||
        checkpoint_note_open(in, KEY, nobody, &text) == ERR_OK) {
        __builtin_trap();
    }
    /* Opening with the real key implies parsing to the same checkpoint. */
    bool opened = checkpoint_open(in, KEY, PK, &c) == ERR_OK;
    if (opened && (checkpoint_parse(in, &d) != ERR_OK || memcmp(&c, &d, sizeof c) != 0)) {
        __builtin_trap();
    }
    if (checkpoint_note_open(in, KEY, PK, &text) == ERR_OK &&
        (text.p != data || text.len >= size)) {
        __builtin_trap();
    }
    /* Whatever parses, signed again, opens to the same fields. */
    if (checkpoint_parse(in, &c) == ERR_OK) {
        buf note;
        buf_init(&note, 0);
        if (checkpoint_sign(&c, KEY, PK, fuzz_sign, NULL, &note) != ERR_OK ||
            checkpoint_open(buf_slice(&note), KEY, PK, &d) != ERR_OK ||
            memcmp(&c, &d, sizeof c) != 0) {
            __builtin_trap();
        }
        buf_free(&note);
    } else if (opened) {
        __builtin_trap();
    }
    char vkey[1100], name[256];
    uint8_t k[32];
    size_t n = size < sizeof vkey - 1 ? size : sizeof vkey - 1;
    memcpy(vkey, data, n);
    vkey[n] = '\0';
    if (checkpoint_parse_vkey(vkey, name, sizeof name, k) == ERR_OK) {
        buf v;
        buf_init(&v, 0);
        /* a vkey that parses is the canonical vkey of its name and key */
        if (checkpoint_vkey(name, k, &v) != ERR_OK || strcmp(buf_cstr(&v), vkey) != 0) {
            __builtin_trap();
        }
        buf_free(&v);
    }
    err_clear();
    return 0;
}
