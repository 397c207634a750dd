/*
 * clock.h - time in microseconds since the Unix epoch, UTC, and RFC 3339 text.
 * The clock can be offset for tests (CUSTOS_CLOCK_OFFSET_S in the environment
 * of a test server only makes sense with a test build; see clock.c).
 */
#ifndef CUSTOS_CLOCK_H
#define CUSTOS_CLOCK_H

#include <stdint.h>

#include "core/err.h"

int64_t clock_now_us(void);
int64_t clock_mono_us(void);
/* Writes "2026-11-28T23:58:00.123456Z" (28 bytes + NUL). */
void clock_rfc3339(int64_t us, char out[40]);
/* Parses RFC 3339 with 'Z' or an offset, optional fraction. */
MUST_USE err clock_parse_rfc3339(const char *s, int64_t *us);

#endif
