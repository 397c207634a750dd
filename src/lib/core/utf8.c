/*
 * utf8.c - see utf8.h.
 */
#include "core/utf8.h"

size_t utf8_invalid_at(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = s[i] < 0x80 ? 1 : utf8_seq_len(s + i, len - i, NULL);
        if (n == 0) {
            return i;
        }
        i += n;
    }
    return len;
}

bool utf8_valid(const uint8_t *s, size_t len)
{
    if (s == NULL) {
        return len == 0;
    }
    return utf8_invalid_at(s, len) == len;
}
