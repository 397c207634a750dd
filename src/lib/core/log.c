/*
 * log.c - structured logging to stderr. The message is escaped as a JSON string.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/clock.h"

static log_level min_level = LOG_INFO;

void log_set_level(log_level min)
{
    min_level = min;
}

void log_msg(log_level lvl, const char *event, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < min_level) {
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char esc[1100];
    size_t j = 0;
    for (size_t i = 0; msg[i] && j + 7 < sizeof esc; i++) {
        unsigned char c = (unsigned char)msg[i];
        if (c == '"' || c == '\\') {
            esc[j++] = '\\';
            esc[j++] = (char)c;
        } else if (c < 0x20) {
            j += (size_t)snprintf(esc + j, sizeof esc - j, "\\u%04x", c);
        } else {
            esc[j++] = (char)c;
        }
    }
    esc[j] = '\0';
    char ts[40];
    clock_rfc3339(clock_now_us(), ts);
    fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"%s\",\"msg\":\"%s\"}\n", ts,
            names[lvl], event, esc);
}
