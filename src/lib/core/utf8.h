/*
 * utf8.h - the one UTF-8 validator: well-formed means shortest form, no surrogates, nothing
 * above U+10FFFF (RFC 3629). Imports, policy and rules files, audit entries and checkpoint
 * notes all judge text by it.
 */
#ifndef CUSTOS_CORE_UTF8_H
#define CUSTOS_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed character at p (its code point in *cp when cp is not NULL), or 0.
 * left bounds the bytes read; for a NUL-terminated string SIZE_MAX is safe, since the
 * terminator is never a continuation byte. Inline: the audit encoder calls it per character. */
static inline size_t utf8_seq_len(const uint8_t *p, size_t left, uint32_t *cp)
{
    uint8_t c = p[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        if (cp) {
            *cp = c;
        }
        return left ? 1 : 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07u, min = 0x10000;
    } else {
        return 0; /* a continuation byte, an overlong lead (0xC0, 0xC1), or 0xF5.. */
    }
    if (left < n) {
        return 0;
    }
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80) {
            return 0;
        }
        v = (v << 6) | (p[k] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        return 0;
    }
    if (cp) {
        *cp = v;
    }
    return n;
}

/* Offset of the first byte that does not start a well-formed character; len if none. */
size_t utf8_invalid_at(const uint8_t *s, size_t len);
/* Whether s[0..len) is well-formed UTF-8 (NULL is valid only with len 0). */
bool utf8_valid(const uint8_t *s, size_t len);
/* The rule for one line of a text file Custos reads (policy, playbooks, templates): at most max
 * bytes, no NUL, no control character but tab, no DEL, well-formed UTF-8. Returns true when the
 * line keeps it; otherwise false with the problem in why ("NUL byte", "control character 0x01",
 * "not valid UTF-8", "line longer than N bytes"), for the caller to prefix with file and line. */
bool utf8_text_line(const char *line, size_t n, size_t max, char *why, size_t cap);
/* Steps through text line by line: the line at *at (without its LF or CRLF) in *line and *n,
 * *at moved past it. False when the text is done. */
bool text_next_line(const char *text, size_t len, size_t *at, const char **line, size_t *n);

#endif
