/*
 * fuzz_bundle.c - the evidence-bundle verifier on arbitrary bytes: never a crash, never an
 * "OK" with a problem written, and every refusal says what is wrong.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "incident/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bundle_report r;
    err e = bundle_verify(slice_of(data, size), NULL, &r);
    if (e == ERR_OK ? r.problem[0] != 0
                    : (r.problem[0] == 0 || (e != ERR_INPUT && e != ERR_CRYPTO))) {
        abort();
    }
    return 0;
}
