/*
 * clock.h - time in microseconds since the Unix epoch, UTC, and RFC 3339 text.
 * In test builds (CUSTOS_TESTING) the wall clock can be shifted by CUSTOS_CLOCK_OFFSET_S
 * (seconds) in the environment, for tests and benchmarks that need another hour or day; the
 * server logs it at start. The release binary ignores the variable.
 */
#ifndef CUSTOS_CLOCK_H
#define CUSTOS_CLOCK_H

#include <stdint.h>

#include "core/err.h"

int64_t clock_now_us(void);
/* The shift applied by CUSTOS_CLOCK_OFFSET_S (always 0 in the release binary). */
int64_t clock_offset_us(void);
int64_t clock_mono_us(void);
/* Writes "2026-11-28T23:58:00.123456Z" (28 bytes + NUL). */
void clock_rfc3339(int64_t us, char out[40]);
/* Parses RFC 3339 with 'Z' or an offset, optional fraction. */
MUST_USE err clock_parse_rfc3339(const char *s, int64_t *us);

#endif
