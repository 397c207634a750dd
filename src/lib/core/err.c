/*
 * err.c - thread-local error record and the code tables.
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local struct {
    err code;
    char msg[256];
    char where[96];
} last;

err err_set(err code, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    last.code = code;
    va_start(ap, fmt);
    vsnprintf(last.msg, sizeof last.msg, fmt, ap);
    va_end(ap);
    const char *base = strrchr(file, '/');
    snprintf(last.where, sizeof last.where, "%s:%d", base ? base + 1 : file, line);
    return code;
}

err err_last(void)
{
    return last.code;
}
const char *err_message(void)
{
    return last.msg;
}
const char *err_where(void)
{
    return last.where;
}
void err_clear(void)
{
    last.code = ERR_OK;
    last.msg[0] = '\0';
    last.where[0] = '\0';
}

static const struct {
    const char *name;
    int status;
} table[ERR__COUNT] = {
    [ERR_OK] = {"ok", 200},
    [ERR_INPUT] = {"invalid_input", 400},
    [ERR_AUTH] = {"unauthenticated", 401},
    [ERR_DENIED] = {"forbidden", 403},
    [ERR_NOT_FOUND] = {"not_found", 404},
    [ERR_CONFLICT] = {"conflict", 409},
    [ERR_TOO_LARGE] = {"too_large", 413},
    [ERR_RATE] = {"rate_limited", 429},
    [ERR_CRYPTO] = {"integrity_error", 500},
    [ERR_IO] = {"io_error", 500},
    [ERR_UNAVAILABLE] = {"unavailable", 503},
    [ERR_INTERNAL] = {"internal", 500},
    [ERR_PRECONDITION] = {"precondition_failed", 412},
};

const char *err_code_name(err code)
{
    return (code >= 0 && code < ERR__COUNT) ? table[code].name : "internal";
}

int err_http_status(err code)
{
    return (code >= 0 && code < ERR__COUNT) ? table[code].status : 500;
}
