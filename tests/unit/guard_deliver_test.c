/*
 * guard_deliver_test.c - alerts leaving the guard: a webhook receiver, a
 * syslog receiver and an SMTP server, all started inside this test on
 * 127.0.0.1 (nothing else is contacted). The webhook is retried with backoff
 * until it answers 2xx, and given up after the configured attempts; routes
 * decide which receiver hears of which alert; syslog gets every alert as one
 * RFC 5424 datagram; e-mail goes out over SMTP.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/clock.h"
#include "guard/guard.h"
#include "test.h"

#define S 1000000LL
static const int64_t T0 = 1772416800LL * S;

/* ---- a tiny HTTP receiver ---- */
typedef struct http_rx {
    int fd, port;
    pthread_t t;
    pthread_mutex_t mu;
    int fail_first; /* answer 500 to this many requests first */
    int requests, ok;
    char paths[1024];
    char body[8192];
    _Atomic int stop;
} http_rx;

static int listen_tcp(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) {
        printf("cannot listen on 127.0.0.1\n");
        exit(2);
    }
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    *port = ntohs(sa.sin_port);
    return fd;
}

static int accept_wait(int fd, _Atomic int *stop)
{
    while (!*stop) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) == 1) {
            return accept(fd, NULL, NULL);
        }
    }
    return -1;
}

static void *http_main(void *arg)
{
    http_rx *h = arg;
    for (;;) {
        int c = accept_wait(h->fd, &h->stop);
        if (c < 0) {
            return NULL;
        }
        char req[16384];
        size_t n = 0;
        char *end = NULL;
        long clen = 0;
        while (n < sizeof req - 1) {
            ssize_t k = read(c, req + n, sizeof req - 1 - n);
            if (k <= 0) {
                break;
            }
            n += (size_t)k;
            req[n] = '\0';
            end = strstr(req, "\r\n\r\n");
            if (end) {
                char *cl = strcasestr(req, "Content-Length:");
                clen = cl ? strtol(cl + 15, NULL, 10) : 0;
                if ((size_t)(end + 4 - req) + (size_t)clen <= n) {
                    break;
                }
            }
        }
        pthread_mutex_lock(&h->mu);
        h->requests++;
        bool fail = h->requests <= h->fail_first;
        if (!fail) {
            h->ok++;
            char path[128] = "";
            sscanf(req, "POST %127s", path);
            size_t pl = strlen(h->paths);
            snprintf(h->paths + pl, sizeof h->paths - pl, "%s;", path);
            if (end) {
                snprintf(h->body, sizeof h->body, "%s", end + 4);
            }
        }
        pthread_mutex_unlock(&h->mu);
        const char *resp =
            fail ? "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                 : "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
        IGNORE(write(c, resp, strlen(resp)) > 0 ? ERR_OK : ERR_IO);
        close(c);
    }
}

static void http_start(http_rx *h, int fail_first)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    h->fail_first = fail_first;
    h->fd = listen_tcp(&h->port);
    pthread_create(&h->t, NULL, http_main, h);
}

static void http_stop(http_rx *h)
{
    h->stop = 1;
    pthread_join(h->t, NULL);
    close(h->fd);
    pthread_mutex_destroy(&h->mu);
}

/* Polling with a deadline (monotonic): true while time is left, after a short pause. */
static bool poll_until(int64_t deadline_us)
{
    if (clock_mono_us() >= deadline_us) {
        return false;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return true;
}

static bool wait_for(int *counter, pthread_mutex_t *mu, int want, int seconds)
{
    int64_t dl = clock_mono_us() + (int64_t)seconds * 1000000;
    do {
        pthread_mutex_lock(mu);
        int v = *counter;
        pthread_mutex_unlock(mu);
        if (v >= want) {
            return true;
        }
    } while (poll_until(dl));
    return false;
}

static guard *open_text(const char *text)
{
    guard_rules *r = NULL;
    if (guard_rules_parse(slice_cstr(text), "t.rules", &r) != ERR_OK) {
        printf("  rules: %s\n", err_message());
        return NULL;
    }
    guard_options o;
    memset(&o, 0, sizeof o);
    guard *g = NULL;
    if (guard_open(r, &o, &g) != ERR_OK) {
        printf("  open: %s\n", err_message());
        guard_rules_free(r);
        return NULL;
    }
    return g;
}

static void fire_login_rule(guard *g, const char *user)
{
    guard_event e;
    memset(&e, 0, sizeof e);
    e.kind = GUARD_EV_LOGIN_FAIL;
    e.time_us = T0;
    e.username = user;
    e.role = "sales";
    e.department = "beijing";
    e.source = "192.0.2.1";
    e.audit_index = 7;
    guard_observe(g, &e);
    guard_sync(g);
}

static bool metric(guard *g, const char *line)
{
    buf m;
    buf_init(&m, 0);
    bool ok = guard_metrics(g, &m) == ERR_OK && strstr(buf_cstr(&m), line) != NULL;
    buf_free(&m);
    return ok;
}

/* Waits (up to 10 s) until the guard's metrics show line. */
static bool wait_metric(guard *g, const char *line)
{
    int64_t dl = clock_mono_us() + 10 * 1000000;
    while (!metric(g, line)) {
        if (!poll_until(dl)) {
            return false;
        }
    }
    return true;
}

TEST(t_webhook_retried_and_routed)
{
    http_rx h;
    http_start(&h, 2); /* two failures, then success */
    char rules[1024];
    snprintf(rules, sizeof rules,
             "delivery retry 50ms attempts 5\n"
             "notify webhook security http://127.0.0.1:%d/sec\n"
             "notify webhook hr http://127.0.0.1:%d/hr\n"
             "notify webhook data_steward:shanghai http://127.0.0.1:%d/sh\n"
             "rule bf\n detect login_fail\n threshold 1 within 1m\n severity high\nend\n",
             h.port, h.port, h.port);
    guard *g = open_text(rules);
    EXPECT(g != NULL);
    if (!g) {
        http_stop(&h);
        return;
    }
    fire_login_rule(g, "alice");
    EXPECT(wait_for(&h.ok, &h.mu, 1, 10));
    EXPECT(wait_metric(g, "custos_guard_deliveries_total{sink=\"webhook\"} 1\n"));
    EXPECT(metric(g, "custos_guard_delivery_failures_total{sink=\"webhook\"} 0\n"));
    /* Nothing else should arrive: closing the guard ends its delivery thread after one attempt
     * at anything never tried, so whatever else was routed has arrived once it returns. */
    guard_close(g);
    pthread_mutex_lock(&h.mu);
    EXPECT_INT(h.requests, 3);
    EXPECT_STR(h.paths, "/sec;"); /* a login alert is security's only */
    json_t *j = json_loads(h.body, 0, NULL);
    pthread_mutex_unlock(&h.mu);
    EXPECT(j != NULL);
    EXPECT_STR(json_string_value(json_object_get(j, "rule")), "bf");
    EXPECT_STR(json_string_value(json_object_get(j, "severity")), "high");
    EXPECT_STR(json_string_value(json_object_get(j, "account")), "alice");
    EXPECT_INT(json_integer_value(json_array_get(json_object_get(j, "evidence"), 0)), 7);
    json_decref(j);
    http_stop(&h);
}

TEST(t_webhook_steward_route)
{
    http_rx h;
    http_start(&h, 0);
    char rules[1024];
    snprintf(rules, sizeof rules,
             "notify webhook data_steward:shanghai http://127.0.0.1:%d/sh\n"
             "notify webhook data_steward:beijing http://127.0.0.1:%d/bj\n"
             "notify webhook hr http://127.0.0.1:%d/hr\n"
             "rule bulk\n detect reads\n threshold 1 within 1m\nend\n",
             h.port, h.port, h.port);
    guard *g = open_text(rules);
    guard_event e;
    memset(&e, 0, sizeof e);
    e.kind = GUARD_EV_CUSTOMER_READ;
    e.time_us = T0;
    e.username = "sue";
    e.role = "sales";
    e.department = "beijing";
    e.customer_department = "shanghai";
    e.source = "10.0.0.1";
    e.customers = 3;
    guard_observe(g, &e);
    guard_sync(g);
    EXPECT(wait_for(&h.ok, &h.mu, 1, 10));
    guard_close(g); /* every routed delivery has been tried once it returns */
    pthread_mutex_lock(&h.mu);
    EXPECT_STR(h.paths, "/sh;");
    pthread_mutex_unlock(&h.mu);
    http_stop(&h);
}

TEST(t_webhook_gives_up)
{
    http_rx h;
    http_start(&h, 1000); /* always failing */
    char rules[1024];
    snprintf(rules, sizeof rules,
             "delivery retry 20ms attempts 3\n"
             "notify webhook all http://127.0.0.1:%d/x\n"
             "rule bf\n detect login_fail\n threshold 1 within 1m\nend\n",
             h.port);
    guard *g = open_text(rules);
    fire_login_rule(g, "bob");
    EXPECT(wait_for(&h.requests, &h.mu, 3, 10));
    EXPECT(wait_metric(g, "custos_guard_delivery_failures_total{sink=\"webhook\"} 1\n"));
    /* the alert itself is kept regardless */
    json_t *out = NULL;
    EXPECT_OK(guard_alerts(g, NULL, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "alerts")), 1);
    json_decref(out);
    guard_close(g); /* no fourth attempt, even at the final pass */
    pthread_mutex_lock(&h.mu);
    EXPECT_INT(h.requests, 3);
    pthread_mutex_unlock(&h.mu);
    http_stop(&h);
}

TEST(t_syslog_udp)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    char rules[512];
    snprintf(rules, sizeof rules,
             "notify syslog udp 127.0.0.1:%d min high\n"
             "rule low\n detect login_fail\n threshold 1 within 1m\n severity low\nend\n"
             "rule crit\n detect login_fail\n threshold 2 within 1m\n severity critical\nend\n",
             ntohs(sa.sin_port));
    guard *g = open_text(rules);
    fire_login_rule(g, "carl"); /* low: below the sink's minimum */
    fire_login_rule(g, "carl"); /* critical */
    struct pollfd p = {fd, POLLIN, 0};
    char msg[8192] = "";
    EXPECT(poll(&p, 1, 5000) == 1);
    ssize_t n = recv(fd, msg, sizeof msg - 1, 0);
    EXPECT(n > 0);
    msg[n > 0 ? n : 0] = '\0';
    EXPECT(strncmp(msg, "<114>1 ", 7) == 0); /* log alert (14) * 8 + critical (2) */
    EXPECT(strstr(msg, " custos-guard ") != NULL);
    EXPECT(strstr(msg, "\"rule\":\"crit\"") != NULL);
    EXPECT(poll(&p, 1, 300) == 0); /* and only that one */
    close(fd);
    guard_close(g);
}

TEST(t_syslog_unix)
{
    char *dir = test_tmpdir("guard-log");
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/log", dir);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    char rules[512];
    snprintf(rules, sizeof rules,
             "notify syslog unix %s\nrule bf\n detect login_fail\n threshold 1 within 1m\nend\n",
             sa.sun_path);
    guard *g = open_text(rules);
    fire_login_rule(g, "erin");
    struct pollfd p = {fd, POLLIN, 0};
    char msg[8192] = "";
    EXPECT(poll(&p, 1, 5000) == 1);
    ssize_t n = recv(fd, msg, sizeof msg - 1, 0);
    msg[n > 0 ? n : 0] = '\0';
    EXPECT(strncmp(msg, "<116>", 5) == 0); /* log alert, medium -> warning (4) */
    EXPECT(strstr(msg, " custos-guard[") != NULL && strstr(msg, "\"account\":\"erin\""));
    guard_close(g);
    close(fd);
    unlink(sa.sun_path);
    rmdir(dir);
    free(dir);
}

/* ---- a tiny SMTP server ---- */
typedef struct smtp_rx {
    int fd, port;
    pthread_t t;
    pthread_mutex_t mu;
    int mails;
    char from[256], rcpt[512], data[8192];
    _Atomic int stop;
} smtp_rx;

static bool line_in(int c, char *out, size_t max)
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
    out[n] = '\0';
    return true;
}

static void say(int c, const char *s)
{
    IGNORE(write(c, s, strlen(s)) > 0 ? ERR_OK : ERR_IO);
}

static void *smtp_main(void *arg)
{
    smtp_rx *s = arg;
    int c = accept_wait(s->fd, &s->stop);
    if (c < 0) {
        return NULL;
    }
    say(c, "220 localhost test SMTP\r\n");
    char line[2048];
    while (line_in(c, line, sizeof line)) {
        if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
            say(c, "250 localhost\r\n");
        } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
            snprintf(s->from, sizeof s->from, "%s", line + 10);
            say(c, "250 OK\r\n");
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
            size_t n = strlen(s->rcpt);
            snprintf(s->rcpt + n, sizeof s->rcpt - n, "%s", line + 8);
            say(c, "250 OK\r\n");
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            say(c, "354 go ahead\r\n");
            size_t n = 0;
            while (line_in(c, line, sizeof line) && strcmp(line, ".\r\n") != 0) {
                n += (size_t)snprintf(s->data + n, sizeof s->data - n, "%s", line);
                if (n >= sizeof s->data) {
                    n = sizeof s->data - 1;
                }
            }
            pthread_mutex_lock(&s->mu);
            s->mails++;
            pthread_mutex_unlock(&s->mu);
            say(c, "250 queued\r\n");
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            say(c, "221 bye\r\n");
            break;
        } else {
            say(c, "250 OK\r\n");
        }
    }
    close(c);
    return NULL;
}

TEST(t_email)
{
    smtp_rx s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    s.fd = listen_tcp(&s.port);
    pthread_create(&s.t, NULL, smtp_main, &s);
    char rules[512];
    snprintf(rules, sizeof rules,
             "notify email security smtp://127.0.0.1:%d from guard@custos.test to "
             "soc@custos.test,ciso@custos.test plain-loopback\n"
             "rule bf\n detect login_fail\n threshold 1 within 1m\n severity high\nend\n",
             s.port);
    guard *g = open_text(rules);
    fire_login_rule(g, "dora");
    EXPECT(wait_for(&s.mails, &s.mu, 1, 10));
    EXPECT(wait_metric(g, "custos_guard_deliveries_total{sink=\"email\"} 1\n"));
    EXPECT(strstr(s.from, "<guard@custos.test>") != NULL);
    EXPECT(strstr(s.rcpt, "<soc@custos.test>") != NULL && strstr(s.rcpt, "<ciso@custos.test>"));
    EXPECT(strstr(s.data, "Subject: [custos guard] high alert 1: bf") != NULL);
    EXPECT(strstr(s.data, "\"account\":\"dora\"") != NULL);
    EXPECT(metric(g, "custos_guard_deliveries_total{sink=\"email\"} 1\n"));
    guard_close(g);
    s.stop = 1;
    pthread_join(s.t, NULL);
    close(s.fd);
    pthread_mutex_destroy(&s.mu);
}

/* nftables through a stand-in for nft that writes down its arguments (root only: the guard
 * touches the firewall only when it runs as root). */
TEST(t_nftables)
{
    if (geteuid() != 0) {
        printf("  (not root: nftables not exercised)\n");
        return;
    }
    char *dir = test_tmpdir("guard-nft");
    char script[700], out[700], rules[2048];
    snprintf(script, sizeof script, "%s/nft", dir);
    snprintf(out, sizeof out, "%s/calls", dir);
    FILE *f = fopen(script, "w");
    EXPECT(f != NULL);
    if (!f) {
        return;
    }
    fprintf(f, "#!/bin/sh\necho \"$*\" >> '%s'\ncase \"$*\" in *192.0.2.13*) exit 1;; esac\n", out);
    fclose(f);
    chmod(script, 0755);
    snprintf(rules, sizeof rules, "nftables inet filter b4 b6 path %s\n", script);
    guard *g = open_text(rules);
    EXPECT_OK(guard_block(g, "192.0.2.12", 90, "security1", "test"));
    EXPECT_OK(guard_block(g, "2001:db8:1:2::99", 60, "security1", "test"));
    EXPECT_OK(guard_unblock(g, "192.0.2.12", "security1"));
    EXPECT_OK(guard_block(g, "192.0.2.13", 60, "security1", "nft fails"));
    EXPECT(wait_metric(g, "custos_guard_nftables_total{result=\"failed\"} 1\n"));
    EXPECT(metric(g, "custos_guard_nftables_total{result=\"ok\"} 3\n"));
    EXPECT(metric(g, "custos_guard_nftables_total{result=\"failed\"} 1\n"));
    guard_addr a;
    EXPECT_OK(guard_addr_parse("192.0.2.13", &a));
    EXPECT_INT(guard_admit(g, &a, clock_now_us(), NULL), GUARD_BLOCK); /* still blocked here */
    guard_close(g);
    char calls[2048] = "";
    f = fopen(out, "r");
    size_t n = f ? fread(calls, 1, sizeof calls - 1, f) : 0;
    calls[n] = '\0';
    if (f) {
        fclose(f);
    }
    EXPECT(strstr(calls, "add element inet filter b4 { 192.0.2.12 timeout 90s }\n") != NULL);
    EXPECT(strstr(calls, "add element inet filter b6 { 2001:db8:1:2::/64 timeout 60s }\n") != NULL);
    EXPECT(strstr(calls, "delete element inet filter b4 { 192.0.2.12 }\n") != NULL);
    unlink(script);
    unlink(out);
    rmdir(dir);
    free(dir);
}

int main(void)
{
    test_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(t_webhook_retried_and_routed);
    RUN(t_webhook_steward_route);
    RUN(t_webhook_gives_up);
    RUN(t_syslog_udp);
    RUN(t_syslog_unix);
    RUN(t_email);
    RUN(t_nftables);
    curl_global_cleanup();
    return test_done("guard_deliver_test");
}
