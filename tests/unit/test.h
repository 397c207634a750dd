/*
 * test.h - a tiny test harness. Each test binary prints one line per failed
 * check and a closing "<binary>: N passed, N failed" line; tests/run.sh adds
 * the binaries up into the suite's closing "N passed, N failed" line.
 *
 *   TEST(name) { EXPECT(x == 1); EXPECT_OK(f()); EXPECT_ERR(g(), ERR_INPUT); }
 *   int main(void) { RUN(name); return test_done("x_test"); }
 */
#ifndef CUSTOS_TEST_H
#define CUSTOS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

static int test_passed_, test_failed_, test_cur_failed_;
static const char *test_cur_;

#define TEST(name) static void name(void)

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("  FAIL %s: %s:%d: %s\n", test_cur_, __FILE__, __LINE__, #cond);                \
            test_cur_failed_ = 1;                                                                  \
        }                                                                                          \
    } while (0)
#define EXPECT_OK(expr)                                                                            \
    do {                                                                                           \
        err e_ = (expr);                                                                           \
        if (e_ != ERR_OK) {                                                                        \
            printf("  FAIL %s: %s:%d: %s -> %s (%s at %s)\n", test_cur_, __FILE__, __LINE__,       \
                   #expr, err_code_name(e_), err_message(), err_where());                          \
            test_cur_failed_ = 1;                                                                  \
        }                                                                                          \
    } while (0)
#define EXPECT_ERR(expr, code)                                                                     \
    do {                                                                                           \
        err e_ = (expr);                                                                           \
        if (e_ != (code)) {                                                                        \
            printf("  FAIL %s: %s:%d: %s -> %s, wanted %s\n", test_cur_, __FILE__, __LINE__,       \
                   #expr, err_code_name(e_), err_code_name(code));                                 \
            test_cur_failed_ = 1;                                                                  \
        }                                                                                          \
    } while (0)
#define EXPECT_STR(a, b)                                                                           \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                                     \
            printf("  FAIL %s: %s:%d: %s == \"%s\", wanted \"%s\"\n", test_cur_, __FILE__,         \
                   __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                          \
            test_cur_failed_ = 1;                                                                  \
        }                                                                                          \
    } while (0)
#define EXPECT_INT(a, b)                                                                           \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            printf("  FAIL %s: %s:%d: %s == %lld, wanted %lld\n", test_cur_, __FILE__, __LINE__,   \
                   #a, a_, b_);                                                                    \
            test_cur_failed_ = 1;                                                                  \
        }                                                                                          \
    } while (0)

#define RUN(name)                                                                                  \
    do {                                                                                           \
        test_cur_ = #name;                                                                         \
        test_cur_failed_ = 0;                                                                      \
        err_clear();                                                                               \
        name();                                                                                    \
        if (test_cur_failed_) {                                                                    \
            test_failed_++;                                                                        \
            printf("not ok - %s\n", #name);                                                        \
        } else {                                                                                   \
            test_passed_++;                                                                        \
            printf("ok - %s\n", #name);                                                            \
        }                                                                                          \
        fflush(stdout);                                                                            \
    } while (0)

static inline void test_init(void)
{
    if (mem_init() != ERR_OK) {
        printf("cannot initialise libsodium\n");
        exit(2);
    }
}

static inline int test_done(const char *binary)
{
    printf("%s: %d passed, %d failed\n", binary, test_passed_, test_failed_);
    return test_failed_ ? 1 : 0;
}

/* The whole file at path (at most 16 MiB) NUL-terminated, its length in *len; NULL when it
 * cannot be read. The caller frees it. */
static inline char *test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = (size_t)16 << 20;
    char *b = malloc(cap + 1);
    *len = b ? fread(b, 1, cap, f) : 0;
    fclose(f);
    if (b) {
        b[*len] = 0;
    }
    return b;
}

/* A fresh temporary directory under $TMPDIR (or /tmp); the caller owns the string. */
static inline char *test_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *p = malloc(512);
    snprintf(p, 512, "%s/custos-%s-XXXXXX", base ? base : "/tmp", tag);
    if (mkdtemp(p) == NULL) {
        printf("mkdtemp failed\n");
        exit(2);
    }
    return p;
}

#endif
