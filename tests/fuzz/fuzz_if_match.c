/*
 * fuzz_if_match.c - arbitrary bytes as an If-Match header: the parser reads only the
 * bytes given (the copy has no terminator), and any version it accepts is one that
 * etag_format writes back and the parser reads again to the same number.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/etag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = malloc(size ? size : 1);
    if (!h) {
        return 0;
    }
    if (size) {
        memcpy(h, data, size);
    }
    uint64_t v = etag_if_match(h, size);
    if (v != 0 && v != ETAG_NONE) {
        char tag[ETAG_MAX];
        etag_format(v, tag);
        if (etag_if_match(tag, strlen(tag)) != v) {
            abort();
        }
    }
    free(h);
    return 0;
}
