/*
 * mailrx.h - a real SMTP receiver for integration tests: python3-aiosmtpd on a free loopback
 * port, writing each message it accepts into a maildir, read back by the test.
 */
#ifndef CUSTOS_MAILRX_H
#define CUSTOS_MAILRX_H

#include <sys/types.h>

#include "core/buf.h"

typedef struct mailrx {
    pid_t pid;
    unsigned port;
    char dir[700]; /* the maildir */
} mailrx;

/* Starts the receiver with its maildir in dir (created by it); false when it cannot start
 * (python3-aiosmtpd missing). Waits until the port accepts, with a deadline. */
bool mailrx_start(mailrx *m, const char *dir);
void mailrx_stop(mailrx *m);
/* Calls fn with each message that arrived, whole and NUL-terminated, until fn returns false;
 * returns how many it was called with. */
int mailrx_each(const mailrx *m, bool (*fn)(void *ctx, const char *msg, size_t len), void *ctx);
/* Every message that arrived, concatenated with "\n=====\n" after each; returns how many. */
int mailrx_read(const mailrx *m, buf *all);
/* Waits (with a deadline of ms) until at least n messages arrived; returns how many did. */
int mailrx_wait(const mailrx *m, int n, int ms, buf *all);

#endif
