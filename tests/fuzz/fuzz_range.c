/*
 * fuzz_range.c - arbitrary bytes as a Range header: the first 8 bytes (when there are
 * more than 8) give the representation's length, the rest is the header, copied
 * without a terminator so the parser can read only what it is given. A part it
 * answers lies inside the representation; the same header gives the same answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/http_range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t len = 1000;
    if (size > 8) {
        memcpy(&len, data, 8);
        if (data[0] & 1) {
            len %= 100000; /* small lengths too, where the edges are */
        }
        data += 8;
        size -= 8;
    }
    char *h = malloc(size ? size : 1);
    if (!h) {
        return 0;
    }
    if (size) {
        memcpy(h, data, size);
    }
    uint64_t a, b, a2, b2;
    http_range_result r = http_range_parse(h, size, len, &a, &b);
    if (r == HTTP_RANGE_PART && (a > b || b >= len)) {
        abort();
    }
    if (http_range_parse(h, size, len, &a2, &b2) != r ||
        (r == HTTP_RANGE_PART && (a != a2 || b != b2))) {
        abort();
    }
    free(h);
    return 0;
}
