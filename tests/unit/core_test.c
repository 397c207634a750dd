/*
 * core_test.c - buffers, cursors, ids, clocks and error records.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "test.h"

TEST(t_buf_limits)
{
    buf b;
    buf_init(&b, 8);
    EXPECT_OK(buf_append(&b, "12345678", 8));
    EXPECT_ERR(buf_append(&b, "9", 1), ERR_TOO_LARGE);
    EXPECT_INT(b.len, 8);
    EXPECT_STR(buf_cstr(&b), "12345678");
    buf_reset(&b);
    EXPECT_INT(b.len, 0);
    EXPECT_OK(buf_appendf(&b, "%d-%s", 42, "x"));
    EXPECT_STR(buf_cstr(&b), "42-x");
    EXPECT_ERR(buf_appendf(&b, "%s", "too long"), ERR_TOO_LARGE);
    buf_free(&b);
    buf_init(&b, 0);
    for (int i = 0; i < 10000; i++) {
        EXPECT_OK(buf_append_byte(&b, (uint8_t)i));
    }
    EXPECT_INT(b.len, 10000);
    char *s = buf_take_cstr(&b);
    EXPECT(s != NULL && b.p == NULL);
    free(s);
    buf_free(&b);
}

TEST(t_cursor)
{
    uint8_t d[] = {1, 0, 0, 0, 2, 9};
    cursor c = cursor_of(slice_of(d, sizeof d));
    uint8_t x;
    uint32_t v;
    slice s;
    EXPECT_OK(cursor_u8(&c, &x));
    EXPECT_INT(x, 1);
    EXPECT_OK(cursor_u32be(&c, &v));
    EXPECT_INT(v, 2);
    EXPECT_ERR(cursor_bytes(&c, 2, &s), ERR_INPUT);
    EXPECT_OK(cursor_bytes(&c, 1, &s));
    EXPECT_ERR(cursor_u8(&c, &x), ERR_INPUT);
    uint64_t w;
    EXPECT_ERR(cursor_u64be(&c, &w), ERR_INPUT);
}

TEST(t_ids)
{
    char a[ID_LEN + 1], b[ID_LEN + 1];
    id_new(a, "cus");
    id_new(b, "cus");
    EXPECT(id_valid(a) && id_valid(b));
    EXPECT(strcmp(a, b) != 0);
    EXPECT_INT(strlen(a), 30);
    EXPECT(!id_valid(""));
    EXPECT(!id_valid("cus_"));
    EXPECT(!id_valid("../../etc/passwd"));
    EXPECT(!id_valid("cus_ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    EXPECT(!id_valid("cus_aaaaaaaaaaaaaaaaaaaaaaaaaa/x"));
    EXPECT(!id_valid("toolong_aaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

TEST(t_clock)
{
    int64_t us;
    EXPECT_OK(clock_parse_rfc3339("2026-03-02T10:00:00+08:00", &us));
    char out[40];
    clock_rfc3339(us, out);
    EXPECT_STR(out, "2026-03-02T02:00:00.000000Z");
    EXPECT_OK(clock_parse_rfc3339("1970-01-01T00:00:01.5Z", &us));
    EXPECT_INT(us, 1500000);
    EXPECT_ERR(clock_parse_rfc3339("2026-03-02 10:00", &us), ERR_INPUT);
    EXPECT_ERR(clock_parse_rfc3339("2026-13-02T10:00:00Z", &us), ERR_INPUT);
    EXPECT_ERR(clock_parse_rfc3339("2026-03-02T10:00:00", &us), ERR_INPUT);
    EXPECT_ERR(clock_parse_rfc3339("2026-03-02T10:00:00Zjunk", &us), ERR_INPUT);
}

TEST(t_codecs)
{
    uint8_t in[5] = {0, 1, 2, 250, 255}, out[8];
    char hex[HEX_LEN(5)], b64[B64_LEN(5)];
    size_t n;
    hex_encode(hex, in, 5);
    EXPECT_STR(hex, "000102faff");
    EXPECT_OK(hex_decode(out, sizeof out, &n, hex, strlen(hex)));
    EXPECT(n == 5 && memcmp(out, in, 5) == 0);
    EXPECT_ERR(hex_decode(out, sizeof out, &n, "0g", 2), ERR_INPUT);
    b64_encode(b64, sizeof b64, in, 5);
    EXPECT_OK(b64_decode(out, sizeof out, &n, b64, strlen(b64)));
    EXPECT(n == 5 && memcmp(out, in, 5) == 0);
    EXPECT_ERR(b64_decode(out, sizeof out, &n, "!!!!", 4), ERR_INPUT);
    /* bytes >= 0x80 are not base64, whatever libsodium 1.0.18 thinks of some of them */
    EXPECT_ERR(b64_decode(out, sizeof out, &n, "AAA\x91", 4), ERR_INPUT);
    EXPECT_ERR(b64url_decode(out, sizeof out, &n, "AAA\x91", 4), ERR_INPUT);
    EXPECT(mem_eq_ct("abc", "abc", 3));
    EXPECT(!mem_eq_ct("abc", "abd", 3));
}

TEST(t_errors)
{
    err e = err_set(ERR_DENIED, "x/y.c", 7, "no %s", "way");
    EXPECT_INT(e, ERR_DENIED);
    EXPECT_STR(err_message(), "no way");
    EXPECT_STR(err_where(), "y.c:7");
    EXPECT_INT(err_http_status(ERR_DENIED), 403);
    EXPECT_INT(err_http_status(ERR_UNAVAILABLE), 503);
    EXPECT_STR(err_code_name(ERR_NOT_FOUND), "not_found");
    EXPECT_STR(err_code_name((err)999), "internal");
}

TEST(t_wipe_block)
{
    /* HTTP answers are freed by libmicrohttpd through mem_free_wiped: the whole block is
     * wiped first, not only the text's length. */
    char *p = malloc(100);
    EXPECT(p != NULL);
    if (!p) {
        return;
    }
    memset(p, 'A', 100);
    size_t n = mem_wipe_block(p);
    EXPECT(n >= 100);
    size_t nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        nonzero += p[i] != 0;
    }
    EXPECT_INT(nonzero, 0);
    mem_free_wiped(p);
    mem_free_wiped(NULL);
    EXPECT_INT(mem_wipe_block(NULL), 0);
}

/* The one validator: RFC 3629's well-formed UTF-8, with the offset of the first bad byte. */
TEST(t_utf8)
{
    static const struct {
        const char *s;
        size_t bad; /* SIZE_MAX: valid */
    } cases[] = {
        {"", SIZE_MAX},
        {"plain ascii", SIZE_MAX},
        {"\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e", SIZE_MAX}, /* CJK */
        {"\xf0\x9f\x8f\xba", SIZE_MAX},                     /* U+1F3FA, 4 bytes */
        {"\xf4\x8f\xbf\xbf", SIZE_MAX},                     /* U+10FFFF */
        {"a\xc0\xaf"
         "b",
         1},                      /* overlong '/' */
        {"ab\xe0\x80\xaf", 2},    /* overlong, 3 bytes */
        {"\xed\xa0\x80", 0},      /* a surrogate */
        {"x\xf4\x90\x80\x80", 1}, /* above U+10FFFF */
        {"ok\x80", 2},            /* a lone continuation */
        {"\xe7\x8e", 0},          /* cut short */
        {"\xe7\x8e"
         "a",
         0},                     /* a bad continuation */
        {"\xf5\x80\x80\x80", 0}, /* a lead beyond 0xF4 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint8_t *p = (const uint8_t *)cases[i].s;
        size_t n = strlen(cases[i].s);
        size_t want = cases[i].bad == SIZE_MAX ? n : cases[i].bad;
        EXPECT_INT(utf8_invalid_at(p, n), want);
        EXPECT(utf8_valid(p, n) == (cases[i].bad == SIZE_MAX));
    }
    uint32_t cp = 0;
    EXPECT_INT(utf8_seq_len((const uint8_t *)"\xe7\x8e\x8b", 3, &cp), 3);
    EXPECT_INT(cp, 0x738B);
    EXPECT_INT(utf8_seq_len((const uint8_t *)"\xe7\x8e\x8b", 2, &cp), 0); /* left bounds it */
    EXPECT(utf8_valid(NULL, 0));
    EXPECT(!utf8_valid(NULL, 1));
}

int main(void)
{
    test_init();
    RUN(t_buf_limits);
    RUN(t_cursor);
    RUN(t_ids);
    RUN(t_clock);
    RUN(t_codecs);
    RUN(t_errors);
    RUN(t_wipe_block);
    RUN(t_utf8);
    return test_done("core_test");
}
