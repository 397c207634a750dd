/*
 * http_range_test.c - the Range header's table (RFC 9110 14.1.2, 14.2): single ranges
 * of each form answered as a part, starts past the end unsatisfiable, and everything
 * this server does not serve as parts answered whole.
 */
#include <string.h>

#include "core/http_range.h"
#include "test.h"

typedef struct row {
    const char *h;
    uint64_t len;
    http_range_result want;
    uint64_t first, last;
} row;

static const row ROWS[] = {
    {NULL, 100, HTTP_RANGE_WHOLE, 0, 0},
    {"", 100, HTTP_RANGE_WHOLE, 0, 0},
    {"bytes=0-9", 100, HTTP_RANGE_PART, 0, 9},
    {"bytes=10-19", 100, HTTP_RANGE_PART, 10, 19},
    {"bytes=0-0", 100, HTTP_RANGE_PART, 0, 0},
    {"bytes=99-99", 100, HTTP_RANGE_PART, 99, 99},
    {"bytes=90-200", 100, HTTP_RANGE_PART, 90, 99}, /* last past the end: to the end */
    {"bytes=90-", 100, HTTP_RANGE_PART, 90, 99},
    {"bytes=0-", 100, HTTP_RANGE_PART, 0, 99},
    {"bytes=-10", 100, HTTP_RANGE_PART, 90, 99},
    {"bytes=-100", 100, HTTP_RANGE_PART, 0, 99},
    {"bytes=-1000", 100, HTTP_RANGE_PART, 0, 99},
    {"Bytes=1-2", 100, HTTP_RANGE_PART, 1, 2}, /* the unit is case-insensitive */
    {"bytes=0-18446744073709551615", 100, HTTP_RANGE_PART, 0, 99},
    {"bytes=0-99999999999999999999999", 100, HTTP_RANGE_PART, 0, 99},
    {"bytes=-99999999999999999999999", 100, HTTP_RANGE_PART, 0, 99},
    {"bytes=100-", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0},
    {"bytes=100-200", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0},
    {"bytes=99999999999999999999999-", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0},
    {"bytes=-0", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0},
    {"bytes=0-", 0, HTTP_RANGE_UNSATISFIABLE, 0, 0}, /* nothing to send of an empty file */
    {"bytes=-5", 0, HTTP_RANGE_UNSATISFIABLE, 0, 0},
    {"bytes=0-0,5-9", 100, HTTP_RANGE_WHOLE, 0, 0}, /* several ranges: the whole file */
    {"bytes=0-0, 5-9", 100, HTTP_RANGE_WHOLE, 0, 0},
    {"bytes=5-1", 100, HTTP_RANGE_WHOLE, 0, 0}, /* last before first: invalid, ignored */
    {"bytes=", 100, HTTP_RANGE_WHOLE, 0, 0},
    {"bytes=-", 100, HTTP_RANGE_WHOLE, 0, 0},
    {"bytes=a-b", 100, HTTP_RANGE_WHOLE, 0, 0},
    {"bytes=+1-2", 100, HTTP_RANGE_WHOLE, 0, 0},
    {"bytes=1-2x", 100, HTTP_RANGE_WHOLE, 0, 0},
    {"bytes=1", 100, HTTP_RANGE_WHOLE, 0, 0},
    {"bytes= 1-2", 100, HTTP_RANGE_WHOLE, 0, 0},
    {"bytes =1-2", 100, HTTP_RANGE_WHOLE, 0, 0},
    {"bytes=--1", 100, HTTP_RANGE_WHOLE, 0, 0},
    {"bytes=-1-2", 100, HTTP_RANGE_WHOLE, 0, 0},
    {"items=0-9", 100, HTTP_RANGE_WHOLE, 0, 0},
    {"byte=0-9", 100, HTTP_RANGE_WHOLE, 0, 0},
};

TEST(t_range_table)
{
    for (size_t i = 0; i < sizeof ROWS / sizeof ROWS[0]; i++) {
        const row *r = &ROWS[i];
        uint64_t a = 7, b = 7;
        http_range_result got = http_range_parse(r->h, r->h ? strlen(r->h) : 0, r->len, &a, &b);
        if (got != r->want) {
            printf("  row %zu (%s): %d, want %d\n", i, r->h ? r->h : "NULL", (int)got,
                   (int)r->want);
        }
        EXPECT_INT(got, r->want);
        if (r->want == HTTP_RANGE_PART) {
            EXPECT_INT(a, r->first);
            EXPECT_INT(b, r->last);
        }
    }
}

/* Only the bytes given are read: a header cut short is read as the shorter text. */
TEST(t_range_reads_only_len)
{
    const char h[] = "bytes=0-99,5-9";
    uint64_t a = 0, b = 0;
    EXPECT_INT(http_range_parse(h, 10, 1000, &a, &b), HTTP_RANGE_PART);
    EXPECT_INT(a, 0);
    EXPECT_INT(b, 99);
    EXPECT_INT(http_range_parse(h, 5, 1000, &a, &b), HTTP_RANGE_WHOLE);
}

int main(void)
{
    test_init();
    RUN(t_range_table);
    RUN(t_range_reads_only_len);
    return test_done("http_range_test");
}
