/*
 * fuzz_envelope.c - arbitrary bytes as a field envelope: unseal with a fixed key (and
 * the owner/field the seed corpus was made with), read its key version, and seal the
 * input as a value and open it again. Must never crash, leak, or open anything forged.
 * The seed corpus holds envelopes of both algorithms made with the same fixed key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (mem_init() != ERR_OK) {
            abort();
        }
        ready = 1;
    }
    uint8_t key[KEY_LEN];
    for (size_t i = 0; i < KEY_LEN; i++) {
        key[i] = (uint8_t)i;
    }
    buf out, env;
    buf_init(&out, 0);
    buf_init(&env, 0);
    uint32_t v = 0;
    if (envelope_key_version(slice_of(data, size), &v) == ERR_OK && size < 6) {
        abort(); /* a version was read from fewer than 6 bytes */
    }
    if (unseal(key, "cus_fuzz", "email", slice_of(data, size), &out) == ERR_OK) {
        /* Only a genuine envelope opens; its plaintext is bounded by its length. */
        if (size != out.len + 6 + 24 + 16 && size != out.len + 6 + 12 + 16) {
            abort();
        }
    }
    buf_reset(&out);
    if (seal(key, 1, "cus_fuzz", "email", slice_of(data, size), &env) != ERR_OK ||
        unseal(key, "cus_fuzz", "email", buf_slice(&env), &out) != ERR_OK || out.len != size ||
        (size > 0 && memcmp(out.p, data, size) != 0)) {
        abort();
    }
    buf_free(&out);
    buf_free(&env);
    return 0;
}
