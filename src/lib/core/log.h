/*
 * log.h - structured log lines (one JSON object per line on stderr).
 * Callers must never pass a secret or a personal value: log ids, counts, codes.
 */
#ifndef CUSTOS_LOG_H
#define CUSTOS_LOG_H

#include "core/err.h"

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_level(log_level min);
void log_msg(log_level lvl, const char *event, const char *fmt, ...) PRINTF_LIKE(3, 4);
#define log_info(ev, ...) log_msg(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_msg(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_msg(LOG_ERROR, ev, __VA_ARGS__)

#endif
