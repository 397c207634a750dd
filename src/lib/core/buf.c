/*
 * buf.c - bounded, self-wiping byte buffers and checked cursors.
 */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

slice slice_cstr(const char *s)
{
    return slice_of(s, s ? strlen(s) : 0);
}

bool slice_eq_cstr(slice s, const char *c)
{
    size_t n = strlen(c);
    return s.len == n && (n == 0 || memcmp(s.p, c, n) == 0);
}

void buf_init(buf *b, size_t limit)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit ? limit : BUF_DEFAULT_LIMIT;
}

err buf_reserve(buf *b, size_t extra)
{
    if (b->limit == 0) {
        b->limit = BUF_DEFAULT_LIMIT;
    }
    ENSURE(extra <= b->limit && b->len <= b->limit - extra, ERR_TOO_LARGE,
           "value larger than the limit of %zu bytes", b->limit);
    size_t need = b->len + extra + 1; /* spare byte for NUL */
    if (need <= b->cap) {
        return ERR_OK;
    }
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need) {
        ncap *= 2;
    }
    if (ncap > b->limit + 1) {
        ncap = b->limit + 1;
    }
    /* Never realloc: the old block would be freed unwiped. */
    uint8_t *np = malloc(ncap);
    ENSURE(np != NULL, ERR_INTERNAL, "out of memory");
    if (b->p) {
        memcpy(np, b->p, b->len);
        mem_wipe(b->p, b->cap);
        free(b->p);
    }
    b->p = np;
    b->cap = ncap;
    return ERR_OK;
}

err buf_append(buf *b, const void *p, size_t n)
{
    if (n == 0) {
        return buf_reserve(b, 0);
    }
    TRY(buf_reserve(b, n));
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return ERR_OK;
}

err buf_append_str(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

err buf_append_byte(buf *b, uint8_t c)
{
    return buf_append(b, &c, 1);
}

err buf_appendf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    ENSURE(n >= 0, ERR_INTERNAL, "format error");
    TRY(buf_reserve(b, (size_t)n));
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ERR_OK;
}

err buf_append_u32be(buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return buf_append(b, x, 4);
}

err buf_append_u64be(buf *b, uint64_t v)
{
    TRY(buf_append_u32be(b, (uint32_t)(v >> 32)));
    return buf_append_u32be(b, (uint32_t)v);
}

err buf_set(buf *b, const void *p, size_t n)
{
    buf_reset(b);
    return buf_append(b, p, n);
}

const char *buf_cstr(buf *b)
{
    if (b->p == NULL) {
        if (buf_reserve(b, 0) != ERR_OK) {
            return "";
        }
    }
    b->p[b->len] = '\0';
    return (const char *)b->p;
}

void buf_reset(buf *b)
{
    if (b->p) {
        mem_wipe(b->p, b->cap);
    }
    b->len = 0;
}

void buf_free(buf *b)
{
    if (b->p) {
        mem_wipe(b->p, b->cap);
        free(b->p);
    }
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

char *buf_take_cstr(buf *b)
{
    if (buf_reserve(b, 0) != ERR_OK) {
        return NULL;
    }
    b->p[b->len] = '\0';
    char *s = (char *)b->p;
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    return s;
}

err cursor_u8(cursor *c, uint8_t *out)
{
    ENSURE(cursor_left(c) >= 1, ERR_INPUT, "truncated input at byte %zu", c->pos);
    *out = c->p[c->pos++];
    return ERR_OK;
}

err cursor_u32be(cursor *c, uint32_t *out)
{
    ENSURE(cursor_left(c) >= 4, ERR_INPUT, "truncated input at byte %zu", c->pos);
    const uint8_t *p = c->p + c->pos;
    *out = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    c->pos += 4;
    return ERR_OK;
}

err cursor_u64be(cursor *c, uint64_t *out)
{
    uint32_t hi = 0, lo = 0;
    TRY(cursor_u32be(c, &hi));
    TRY(cursor_u32be(c, &lo));
    *out = ((uint64_t)hi << 32) | lo;
    return ERR_OK;
}

err cursor_bytes(cursor *c, size_t n, slice *out)
{
    ENSURE(cursor_left(c) >= n, ERR_INPUT, "truncated input at byte %zu", c->pos);
    out->p = c->p + c->pos;
    out->len = n;
    c->pos += n;
    return ERR_OK;
}
