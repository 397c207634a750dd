/*
 * smtp_rx.h - a plain SMTP receiver on a loopback port for unit tests (a thread; one session
 * at a time): records each mail's envelope recipients and data; RCPT addresses containing
 * "bounce" are refused with 550 while reject_bounce is set. Include once per test program.
 */
#ifndef CUSTOS_TEST_SMTP_RX_H
#define CUSTOS_TEST_SMTP_RX_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "test.h"

#define RX_MAILS 64
typedef struct rx {
    int fd, port;
    pthread_t t;
    pthread_mutex_t mu;
    pthread_cond_t arrived; /* signalled with each mail kept */
    _Atomic int stop;
    _Atomic int reject_bounce; /* 550 to RCPT containing "bounce" */
    int mails;
    char rcpt[RX_MAILS][512]; /* the envelope recipients of each mail */
    char *data[RX_MAILS];
} rx;

static inline bool rx_line(int c, char *out, size_t max)
{
    size_t n = 0;
    while (n < max - 1) {
        char ch;
        if (read(c, &ch, 1) != 1) {
            return false;
        }
        out[n++] = ch;
        if (ch == '\n') {
            break;
        }
    }
    out[n] = 0;
    return n > 0;
}

static inline void say(int c, const char *s)
{
    if (write(c, s, strlen(s)) < 0) {
        return;
    }
}

static inline void rx_session(rx *s, int c)
{
    say(c, "220 rx\r\n");
    char line[2048], rcpt[512] = "";
    while (rx_line(c, line, sizeof line)) {
        if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
            say(c, "250 rx\r\n");
        } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
            rcpt[0] = 0;
            say(c, "250 OK\r\n");
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
            if (s->reject_bounce && strstr(line, "bounce")) {
                say(c, "550 mailbox unavailable\r\n");
                continue;
            }
            size_t n = strlen(rcpt);
            snprintf(rcpt + n, sizeof rcpt - n, "%s", line + 8);
            say(c, "250 OK\r\n");
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            say(c, "354 go ahead\r\n");
            buf d;
            buf_init(&d, 1 << 20);
            while (rx_line(c, line, sizeof line) && strcmp(line, ".\r\n") != 0) {
                if (buf_append_str(&d, line) != ERR_OK) {
                    break;
                }
            }
            pthread_mutex_lock(&s->mu);
            if (s->mails < RX_MAILS) {
                snprintf(s->rcpt[s->mails], sizeof s->rcpt[0], "%s", rcpt);
                s->data[s->mails] = strdup(buf_cstr(&d));
                s->mails++;
                pthread_cond_broadcast(&s->arrived);
            }
            pthread_mutex_unlock(&s->mu);
            buf_free(&d);
            say(c, "250 queued\r\n");
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            say(c, "221 bye\r\n");
            break;
        } else {
            say(c, "250 OK\r\n");
        }
    }
}

static inline void *rx_main(void *arg)
{
    rx *s = arg;
    while (!s->stop) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0) {
            continue;
        }
        int c = accept(s->fd, NULL, NULL);
        if (c >= 0) {
            rx_session(s, c);
            close(c);
        }
    }
    return NULL;
}

static inline void rx_start(rx *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->arrived, &ca);
    pthread_condattr_destroy(&ca);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    EXPECT(bind(s->fd, (struct sockaddr *)&a, sizeof a) == 0);
    EXPECT(listen(s->fd, 16) == 0);
    socklen_t al = sizeof a;
    getsockname(s->fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    pthread_create(&s->t, NULL, rx_main, s);
}

static inline void rx_stop(rx *s)
{
    s->stop = 1;
    pthread_join(s->t, NULL);
    close(s->fd);
    for (int i = 0; i < s->mails; i++) {
        free(s->data[i]);
    }
    pthread_cond_destroy(&s->arrived);
    pthread_mutex_destroy(&s->mu);
}

static inline int rx_count(rx *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->mails;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* The mail whose envelope names addr, or NULL. */
static inline const char *rx_for(rx *s, const char *addr)
{
    char want[300];
    snprintf(want, sizeof want, "<%s>", addr);
    for (int i = 0; i < s->mails; i++) {
        if (strstr(s->rcpt[i], want)) {
            return s->data[i];
        }
    }
    return NULL;
}

/* Waits (10 s at most) until n mails have arrived, woken by each arrival. */
static inline bool wait_mails(rx *s, int n)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&s->mu);
    int r = 0;
    while (s->mails < n && r != ETIMEDOUT) {
        r = pthread_cond_timedwait(&s->arrived, &s->mu, &dl);
    }
    bool ok = s->mails >= n;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

#endif
