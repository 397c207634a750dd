/*
 * http_range.c - one byte range of a Range header (http_range.h). The grammar
 * (RFC 9110 14.1.2): ranges-specifier = range-unit "=" range-set; the unit is
 * compared case-insensitively; a range is first "-" [last] or "-" suffix-length,
 * digits only. Numbers too large for 64 bits saturate, which keeps their meaning
 * (a first past any length, a last or suffix covering everything).
 */
#include "core/http_range.h"

#include <stdbool.h>

/* Digits from *i (at least one); saturates at UINT64_MAX. */
static bool digits(const char *h, size_t n, size_t *i, uint64_t *out)
{
    size_t start = *i;
    uint64_t v = 0;
    while (*i < n && h[*i] >= '0' && h[*i] <= '9') {
        unsigned d = (unsigned)(h[*i] - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
        (*i)++;
    }
    *out = v;
    return *i > start;
}

http_range_result http_range_parse(const char *h, size_t hlen, uint64_t len, uint64_t *first,
                                   uint64_t *last)
{
    *first = *last = 0;
    static const char unit[] = "bytes=";
    if (!h || hlen < sizeof unit - 1) {
        return HTTP_RANGE_WHOLE;
    }
    for (size_t k = 0; k < sizeof unit - 1; k++) {
        char c = h[k];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if (c != unit[k]) {
            return HTTP_RANGE_WHOLE;
        }
    }
    size_t i = sizeof unit - 1;
    uint64_t a = 0, b = 0;
    if (i < hlen && h[i] == '-') { /* a suffix: the last b bytes */
        i++;
        if (!digits(h, hlen, &i, &b) || i != hlen) {
            return HTTP_RANGE_WHOLE;
        }
        if (b == 0 || len == 0) {
            return HTTP_RANGE_UNSATISFIABLE;
        }
        *first = b >= len ? 0 : len - b;
        *last = len - 1;
        return HTTP_RANGE_PART;
    }
    if (!digits(h, hlen, &i, &a) || i == hlen || h[i] != '-') {
        return HTTP_RANGE_WHOLE;
    }
    i++;
    bool has_last = digits(h, hlen, &i, &b);
    if (i != hlen || (has_last && b < a)) {
        return HTTP_RANGE_WHOLE; /* several ranges, trailing bytes, or last before first */
    }
    if (a >= len) {
        return HTTP_RANGE_UNSATISFIABLE;
    }
    *first = a;
    *last = !has_last || b >= len ? len - 1 : b;
    return HTTP_RANGE_PART;
}
