/*
 * etag.c - entity tags of customer resources (etag.h). The parser reads the bytes it
 * is given and nothing else; anything it does not recognise matches nothing.
 */
#include "core/etag.h"

#include <stdio.h>

void etag_format(uint64_t version, char out[ETAG_MAX])
{
    snprintf(out, ETAG_MAX, "\"%llu\"", (unsigned long long)version);
}

uint64_t etag_if_match(const char *header, size_t len)
{
    if (header == NULL) {
        return 0;
    }
    size_t a = 0, b = len;
    while (a < b && (header[a] == ' ' || header[a] == '\t')) {
        a++;
    }
    while (b > a && (header[b - 1] == ' ' || header[b - 1] == '\t')) {
        b--;
    }
    if (b - a == 1 && header[a] == '*') {
        return 0;
    }
    /* '"' digits '"', at most 20 digits (2^64 has 20). */
    if (b - a < 3 || b - a > 22 || header[a] != '"' || header[b - 1] != '"') {
        return ETAG_NONE;
    }
    uint64_t v = 0;
    for (size_t i = a + 1; i + 1 < b; i++) {
        if (header[i] < '0' || header[i] > '9' || v > (UINT64_MAX - 9) / 10) {
            return ETAG_NONE;
        }
        v = v * 10 + (uint64_t)(header[i] - '0');
    }
    return v != 0 ? v : ETAG_NONE;
}
