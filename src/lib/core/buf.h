/*
 * buf.h - borrowed bytes (slice) and owned bytes with a hard size limit (buf).
 *
 * A buf grows up to its limit and no further (ERR_TOO_LARGE), always keeps one
 * spare byte so that buf_cstr() can NUL-terminate, and is wiped on free and on
 * every reallocation, so that decrypted values never linger in freed memory.
 */
#ifndef CUSTOS_BUF_H
#define CUSTOS_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct slice {
    const uint8_t *p;
    size_t len;
} slice;

typedef struct buf {
    uint8_t *p;
    size_t len;
    size_t cap;
    size_t limit; /* 0 means BUF_DEFAULT_LIMIT */
} buf;

#define BUF_DEFAULT_LIMIT ((size_t)64 << 20)

static inline slice slice_of(const void *p, size_t len)
{
    slice s = {(const uint8_t *)p, len};
    return s;
}
slice slice_cstr(const char *s);
static inline slice buf_slice(const buf *b)
{
    return slice_of(b->p, b->len);
}
bool slice_eq_cstr(slice s, const char *c);

void buf_init(buf *b, size_t limit);
MUST_USE err buf_reserve(buf *b, size_t extra);
MUST_USE err buf_append(buf *b, const void *p, size_t n);
MUST_USE err buf_append_str(buf *b, const char *s);
MUST_USE err buf_append_byte(buf *b, uint8_t c);
MUST_USE err buf_appendf(buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
MUST_USE err buf_append_u32be(buf *b, uint32_t v);
MUST_USE err buf_append_u64be(buf *b, uint64_t v);
MUST_USE err buf_set(buf *b, const void *p, size_t n);
/* NUL-terminates in the spare byte and returns the string (valid until the next change). */
const char *buf_cstr(buf *b);
/* Wipes the contents, keeps the allocation. */
void buf_reset(buf *b);
/* Wipes and frees; the buf may be reused after buf_init. */
void buf_free(buf *b);
/* Transfers ownership of the bytes to the caller as a NUL-terminated malloc'd string. */
char *buf_take_cstr(buf *b);

/* Cursor for parsing bounded input: every read is checked. */
typedef struct cursor {
    const uint8_t *p;
    size_t len;
    size_t pos;
} cursor;

static inline cursor cursor_of(slice s)
{
    cursor c = {s.p, s.len, 0};
    return c;
}
static inline size_t cursor_left(const cursor *c)
{
    return c->len - c->pos;
}
MUST_USE err cursor_u8(cursor *c, uint8_t *out);
MUST_USE err cursor_u32be(cursor *c, uint32_t *out);
MUST_USE err cursor_u64be(cursor *c, uint64_t *out);
MUST_USE err cursor_bytes(cursor *c, size_t n, slice *out);

#endif
