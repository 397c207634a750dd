/*
 * err.h - the one error convention of Custos.
 *
 * Every function that can fail returns an `err` and is declared MUST_USE, so the
 * compiler refuses a caller that ignores it. On failure the function records a
 * code, a short message (never a secret or a personal value) and the file:line
 * where it failed in thread-local storage; the HTTP layer maps the code to a
 * status through one table (err_http_status) and the message to the client.
 */
#ifndef CUSTOS_ERR_H
#define CUSTOS_ERR_H

#include <stddef.h>

#define MUST_USE __attribute__((warn_unused_result))
#define NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

typedef enum err {
    ERR_OK = 0,
    ERR_INPUT,        /* bad input: a field, row or line is wrong (400)            */
    ERR_AUTH,         /* not authenticated / wrong credentials (401)               */
    ERR_DENIED,       /* authenticated but not allowed (403)                        */
    ERR_NOT_FOUND,    /* no such thing, or not visible to the caller (404)         */
    ERR_CONFLICT,     /* exists already, state does not allow it (409)             */
    ERR_TOO_LARGE,    /* over a size limit (413)                                    */
    ERR_RATE,         /* throttled (429)                                            */
    ERR_CRYPTO,       /* integrity or key failure: tampered, wrong key (500/400)   */
    ERR_IO,           /* disk, database or network failure                          */
    ERR_UNAVAILABLE,  /* cannot serve now: audit not durable, sealed vault (503)   */
    ERR_INTERNAL,     /* broken invariant (500)                                     */
    ERR_PRECONDITION, /* a condition of the request (If-Match) no longer holds (412) */
    ERR__COUNT
} err;

/* Records code, message and location; returns code so it can be returned directly. */
err err_set(err code, const char *file, int line, const char *fmt, ...) PRINTF_LIKE(4, 5);
/* The last recorded error of this thread. */
err err_last(void);
const char *err_message(void);
const char *err_where(void); /* "file.c:123" */
void err_clear(void);
/* Stable machine name of a code ("invalid_input", "not_found", ...). */
const char *err_code_name(err code);
/* HTTP status for a code. */
int err_http_status(err code);

#define BAIL(code, ...) return err_set((code), __FILE__, __LINE__, __VA_ARGS__)
#define ENSURE(cond, code, ...)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            BAIL(code, __VA_ARGS__);                                                               \
        }                                                                                          \
    } while (0)
#define TRY(x)                                                                                     \
    do {                                                                                           \
        err try_e_ = (x);                                                                          \
        if (try_e_ != ERR_OK) {                                                                    \
            return try_e_;                                                                         \
        }                                                                                          \
    } while (0)
/* For functions with one `out:` cleanup label and an `err rc` variable. */
#define GUARD(x)                                                                                   \
    do {                                                                                           \
        rc = (x);                                                                                  \
        if (rc != ERR_OK) {                                                                        \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)
#define FAIL(code, ...)                                                                            \
    do {                                                                                           \
        rc = err_set((code), __FILE__, __LINE__, __VA_ARGS__);                                     \
        goto out;                                                                                  \
    } while (0)
#define CHECK(cond, code, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            FAIL(code, __VA_ARGS__);                                                               \
        }                                                                                          \
    } while (0)

/* Deliberately ignores a result (best-effort work whose failure changes nothing). */
#define IGNORE(x)                                                                                  \
    do {                                                                                           \
        err ignored_ = (x);                                                                        \
        (void)ignored_;                                                                            \
    } while (0)

/* Defensive checks of invariants (SQLite's ALWAYS/NEVER): abort in debug builds. */
#ifdef CUSTOS_DEBUG
#include <assert.h>
#define ALWAYS(x) (assert(x), 1)
#define NEVER(x) (assert(!(x)), 0)
#else
#define ALWAYS(x) (x)
#define NEVER(x) (x)
#endif

#endif
