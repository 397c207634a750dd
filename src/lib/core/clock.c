/*
 * clock.c - wall and monotonic clocks, RFC 3339 formatting and parsing.
 */
#include "core/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CUSTOS_CLOCK_OFFSET_S shifts the wall clock by whole seconds: tests and benchmarks use it
 * to put a server in another hour or day (working-hours rules). The server logs it at start.
 * Only test builds (CUSTOS_TESTING) read it: the release binary's clock is the system's. */
static int64_t offset_us;
static pthread_once_t offset_once = PTHREAD_ONCE_INIT;

static void offset_init(void)
{
#ifdef CUSTOS_TESTING
    const char *e = getenv("CUSTOS_CLOCK_OFFSET_S");
    if (e && *e) {
        char *end = NULL;
        long long s = strtoll(e, &end, 10);
        if (end && *end == '\0' && s > -(1LL << 40) && s < (1LL << 40)) {
            offset_us = (int64_t)s * 1000000;
        }
    }
#endif
}

int64_t clock_offset_us(void)
{
    pthread_once(&offset_once, offset_init);
    return offset_us;
}

int64_t clock_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + clock_offset_us();
}

int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void clock_rfc3339(int64_t us, char out[40])
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    int64_t frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
    }
    /* Years are clamped to four digits so the text always fits. */
    int year = tm.tm_year + 1900;
    year = year < 0 ? 0 : year > 9999 ? 9999 : year;
    snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", year, (tm.tm_mon + 1) % 100,
             tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, (int)frac);
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

err clock_parse_rfc3339(const char *s, int64_t *us)
{
    size_t n = strlen(s);
    ENSURE(n >= 20 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't') &&
               s[13] == ':' && s[16] == ':',
           ERR_INPUT, "time must be RFC 3339, e.g. 2026-01-31T09:30:00Z");
    int Y = digits(s, 4), M = digits(s + 5, 2), D = digits(s + 8, 2);
    int h = digits(s + 11, 2), m = digits(s + 14, 2), sec = digits(s + 17, 2);
    ENSURE(Y >= 1900 && M >= 1 && M <= 12 && D >= 1 && D <= 31 && h >= 0 && h < 24 && m >= 0 &&
               m < 60 && sec >= 0 && sec <= 60,
           ERR_INPUT, "time out of range");
    size_t i = 19;
    int64_t frac = 0;
    if (s[i] == '.') {
        i++;
        int nd = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (nd < 6) {
                frac = frac * 10 + (s[i] - '0');
            }
            nd++;
            i++;
        }
        ENSURE(nd > 0, ERR_INPUT, "empty fraction in time");
        for (; nd < 6; nd++) {
            frac *= 10;
        }
    }
    int off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else {
        ENSURE(i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':', ERR_INPUT,
               "time needs a zone: Z or +08:00");
        int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        ENSURE(oh >= 0 && oh < 24 && om >= 0 && om < 60, ERR_INPUT, "bad zone offset");
        off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
        i += 6;
    }
    ENSURE(i == n, ERR_INPUT, "trailing characters after time");
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *us = ((int64_t)t - off) * 1000000 + frac;
    return ERR_OK;
}
