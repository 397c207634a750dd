/*
 * fuzz_config.c - the vault configuration file parser (custos.json) on arbitrary
 * bytes: never a crash, never a half-filled config on error.
 */
#include <stdint.h>
#include <string.h>

#include "audit/witness.h"
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
    vault_config c;
    if (vault_config_parse(slice_of(data, size), &c) == ERR_OK) {
        if (c.witness_webhook[0] && strncmp(c.witness_webhook, "https://", 8) != 0) {
            __builtin_trap();
        }
    }
    return 0;
}
