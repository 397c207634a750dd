/*
 * fuzz_checkpoint.c - the signed-note / checkpoint parser and verifier, and the
 * vkey parser, on arbitrary bytes: never a crash, never an accepted forgery.
 */
#include <stdint.h>
#include <string.h>

#include "audit/checkpoint.h"
#include "core/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        if (mem_init() != ERR_OK) {
            return 0;
        }
        inited = 1;
    }
    /* A fixed public key nobody has the secret of: opening must never succeed. */
    static const uint8_t pk[32] = {0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a,
                                   0xa7, 0x4d, 0x1b, 0x7e, 0xbc, 0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4,
                                   0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66, 0x0c};
    checkpoint c;
    if (checkpoint_open(slice_of(data, size), "custos.audit.fuzz", pk, &c) == ERR_OK) {
        __builtin_trap();
    }
    IGNORE(checkpoint_parse(slice_of(data, size), &c));
    char text[512], name[256];
    uint8_t k[32];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    IGNORE(checkpoint_parse_vkey(text, name, sizeof name, k));
    return 0;
}
