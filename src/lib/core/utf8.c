/*
 * utf8.c - see utf8.h.
 */
#include "core/utf8.h"

#include <stdio.h>

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

bool utf8_text_line(const char *line, size_t n, size_t max, char *why, size_t cap)
{
    if (n > max) {
        snprintf(why, cap, "line longer than %zu bytes", max);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == 0) {
            snprintf(why, cap, "NUL byte");
            return false;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            snprintf(why, cap, "control character 0x%02x", c);
            return false;
        }
    }
    if (!utf8_valid((const uint8_t *)line, n)) {
        snprintf(why, cap, "not valid UTF-8");
        return false;
    }
    return true;
}

bool text_next_line(const char *text, size_t len, size_t *at, const char **line, size_t *n)
{
    if (*at >= len) {
        return false;
    }
    size_t e = *at;
    while (e < len && text[e] != '\n') {
        e++;
    }
    *line = text + *at;
    *n = e - *at;
    if (*n > 0 && (*line)[*n - 1] == '\r') {
        (*n)--;
    }
    *at = e + 1;
    return true;
}
