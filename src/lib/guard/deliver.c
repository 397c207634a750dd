/*
 * deliver.c - getting alerts out (syslog, webhooks, e-mail) and addresses into
 * the host firewall (nftables), on a thread of their own so that a slow
 * receiver or a hanging mail server never delays detection.
 *
 * Each new alert becomes one job per sink that wants it (by route, department
 * and minimum severity). Webhooks and e-mail are retried with exponential
 * backoff (delivery retry D attempts N); syslog is a datagram, sent once. The
 * queue is bounded: when full, new jobs are dropped and counted. nftables is
 * updated by spawning nft directly (posix_spawn, no shell, arguments as a
 * vector), only when configured and running as root; a failure is logged,
 * never fatal.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/smtp.h"
#include "guard/guard_int.h"

#define JOBS_MAX 10000
#define BACKOFF_MAX_US (600 * 1000000LL)
#define K_NFT 4

typedef struct job {
    struct job *next;
    int sink; /* index into rules sinks, or -1 for nftables */
    char *body;
    gsev sev;
    int64_t alert_id;
    char rule[G_NAME_MAX + 1];
    int attempts;
    int64_t due_us; /* monotonic */
    /* nftables */
    char elem[GUARD_ADDR_TEXT + 4];
    bool v6;
    int64_t seconds;
} job;

struct gdeliver {
    const guard_rules *r;
    pthread_t t;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head;
    size_t n;
    bool stop;
    bool warned_root;
    _Atomic uint64_t sent[5], failed[5], dropped;
};

const char *gsink_kind_name(gsink_kind k)
{
    static const char *const n[] = {"syslog", "syslog_unix", "webhook", "email", "nftables"};
    return (unsigned)k < 5 ? n[k] : "?";
}

static void job_free(job *j)
{
    if (j) {
        free(j->body);
        free(j);
    }
}

/* Inserts by due time (under mu). */
static void enqueue(gdeliver *d, job *j)
{
    job **pp = &d->head;
    while (*pp && (*pp)->due_us <= j->due_us) {
        pp = &(*pp)->next;
    }
    j->next = *pp;
    *pp = j;
    d->n++;
}

static bool push(gdeliver *d, job *j)
{
    pthread_mutex_lock(&d->mu);
    if (d->n >= JOBS_MAX || d->stop) {
        pthread_mutex_unlock(&d->mu);
        atomic_fetch_add(&d->dropped, 1);
        job_free(j);
        return false;
    }
    j->due_us = clock_mono_us();
    enqueue(d, j);
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    return true;
}

/* ---- syslog ---- */

static int syslog_sev(gsev s)
{
    return s == SEV_CRITICAL ? 2 : s == SEV_HIGH ? 3 : s == SEV_MEDIUM ? 4 : 5;
}

static bool send_udp(const char *target, const char *msg, size_t n)
{
    char host[64];
    const char *colon = strrchr(target, ':');
    if (!colon || (size_t)(colon - target) >= sizeof host) {
        return false;
    }
    size_t hn = (size_t)(colon - target);
    memcpy(host, target, hn);
    host[hn] = '\0';
    if (host[0] == '[' && hn > 2) {
        memmove(host, host + 1, hn - 2);
        host[hn - 2] = '\0';
    }
    int port = atoi(colon + 1);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        sl = sizeof *s6;
    } else {
        return false;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    bool ok = sendto(fd, msg, n, 0, (struct sockaddr *)&ss, sl) == (ssize_t)n;
    close(fd);
    return ok;
}

static bool send_unix(const char *path, const char *msg, size_t n)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) {
        return false;
    }
    memcpy(sa.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    bool ok = sendto(fd, msg, n, 0, (struct sockaddr *)&sa, sizeof sa) == (ssize_t)n;
    close(fd);
    return ok;
}

static bool deliver_syslog(const gsink *s, const job *j)
{
    int pri = 14 * 8 + syslog_sev(j->sev); /* facility 14: log alert */
    size_t cap = strlen(j->body) + 400;
    char *line = malloc(cap);
    if (!line) {
        return false;
    }
    int n;
    if (s->kind == SINK_SYSLOG_UDP) {
        char ts[40], host[64] = "-";
        clock_rfc3339(clock_now_us(), ts);
        if (gethostname(host, sizeof host) != 0) {
            snprintf(host, sizeof host, "-");
        }
        host[sizeof host - 1] = '\0';
        n = snprintf(line, cap, "<%d>1 %s %s custos-guard %d alert - %s", pri, ts, host,
                     (int)getpid(), j->body);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        char ts[32];
        localtime_r(&now, &tm);
        strftime(ts, sizeof ts, "%b %e %H:%M:%S", &tm);
        n = snprintf(line, cap, "<%d>%s custos-guard[%d]: %s", pri, ts, (int)getpid(), j->body);
    }
    bool ok = n > 0 && (size_t)n < cap &&
              (s->kind == SINK_SYSLOG_UDP ? send_udp(s->target, line, (size_t)n)
                                          : send_unix(s->target, line, (size_t)n));
    free(line);
    return ok;
}

/* ---- webhooks and e-mail (libcurl) ---- */

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
    return sz * n;
}

static bool deliver_webhook(const gsink *s, const job *j)
{
    CURL *h = curl_easy_init();
    if (!h) {
        return false;
    }
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "User-Agent: custos-guard");
    curl_easy_setopt(h, CURLOPT_URL, s->target);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    CURLcode r = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return r == CURLE_OK && code >= 200 && code < 300;
}

static bool deliver_email(const gsink *s, const job *j)
{
    char to[sizeof s->to];
    snprintf(to, sizeof to, "%s", s->to);
    const char *rcpt[SMTP_RCPT_MAX];
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(to, ",", &save); t && n < SMTP_RCPT_MAX;
         t = strtok_r(NULL, ",", &save)) {
        rcpt[n++] = t;
    }
    char subject[SMTP_SUBJECT_MAX + 1];
    snprintf(subject, sizeof subject, "[custos guard] %s alert %lld: %s", gsev_name(j->sev),
             (long long)j->alert_id, j->rule);
    smtp_msg m = {.url = s->target,
                  .from = s->from,
                  .to = rcpt,
                  .nto = n,
                  .subject = subject,
                  .content_type = "application/json; charset=utf-8",
                  .msgid_host = "custos-guard",
                  .body = j->body,
                  .plain_loopback = s->plain_loopback};
    return smtp_send(&m) == ERR_OK;
}

static bool deliver_nft(gdeliver *d, const job *j)
{
    const guard_rules *r = d->r;
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%llds", (long long)j->seconds);
    const char *set = j->v6 ? r->nft_set6 : r->nft_set4;
    char *argv[12];
    int n = 0;
    argv[n++] = (char *)r->nft_path;
    argv[n++] = (char *)(j->seconds > 0 ? "add" : "delete");
    argv[n++] = (char *)"element";
    argv[n++] = (char *)r->nft_family;
    argv[n++] = (char *)r->nft_table;
    argv[n++] = (char *)set;
    argv[n++] = (char *)"{";
    argv[n++] = (char *)j->elem;
    if (j->seconds > 0) {
        argv[n++] = (char *)"timeout";
        argv[n++] = timeout;
    }
    argv[n++] = (char *)"}";
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    /* A minimal environment: nothing of the server's (least of all a secret) reaches nft. */
    char *const envp[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", (char *)"LC_ALL=C", NULL};
    int e = posix_spawn(&pid, r->nft_path, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0) {
        log_warn("guard.nft", "cannot run %s", r->nft_path);
        return false;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        log_warn("guard.nft", "nft %s element %s failed (status %d)", argv[1], j->elem, status);
        return false;
    }
    return true;
}

/* ---- the thread ---- */

static bool run(gdeliver *d, job *j)
{
    if (j->sink < 0) {
        return deliver_nft(d, j);
    }
    const gsink *s = &d->r->sinks[j->sink];
    switch (s->kind) {
    case SINK_SYSLOG_UDP:
    case SINK_SYSLOG_UNIX:
        return deliver_syslog(s, j);
    case SINK_WEBHOOK:
        return deliver_webhook(s, j);
    case SINK_EMAIL:
        return deliver_email(s, j);
    }
    return false;
}

static int kind_of(gdeliver *d, const job *j)
{
    return j->sink < 0 ? K_NFT : (int)d->r->sinks[j->sink].kind;
}

static bool retried(gdeliver *d, const job *j)
{
    return j->sink >= 0 &&
           (d->r->sinks[j->sink].kind == SINK_WEBHOOK || d->r->sinks[j->sink].kind == SINK_EMAIL);
}

static void *deliver_main(void *arg)
{
    gdeliver *d = arg;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        int64_t now = clock_mono_us();
        job *j = d->head;
        if (d->stop) {
            /* final pass: what was never tried gets one attempt */
            while (j && j->attempts > 0) {
                j = j->next;
            }
            if (!j) {
                break;
            }
            job **pp = &d->head;
            while (*pp != j) {
                pp = &(*pp)->next;
            }
            *pp = j->next;
        } else if (!j || j->due_us > now) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t wait = j ? j->due_us - now : 1000000;
            if (wait > 1000000) {
                wait = 1000000;
            }
            int64_t ns = ts.tv_nsec + (wait % 1000000) * 1000;
            ts.tv_sec += wait / 1000000 + ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&d->cv, &d->mu, &ts);
            continue;
        } else {
            d->head = j->next;
        }
        d->n--;
        pthread_mutex_unlock(&d->mu);
        bool ok = run(d, j);
        int k = kind_of(d, j);
        j->attempts++;
        pthread_mutex_lock(&d->mu);
        if (ok) {
            atomic_fetch_add(&d->sent[k], 1);
            job_free(j);
        } else if (retried(d, j) && j->attempts < d->r->attempts && !d->stop) {
            int64_t back = d->r->retry_us;
            for (int i = 1; i < j->attempts && back < BACKOFF_MAX_US; i++) {
                back *= 2;
            }
            j->due_us = clock_mono_us() + (back < BACKOFF_MAX_US ? back : BACKOFF_MAX_US);
            log_warn("guard.deliver", "%s delivery of alert %lld failed; retrying",
                     gsink_kind_name((gsink_kind)k), (long long)j->alert_id);
            enqueue(d, j);
        } else {
            atomic_fetch_add(&d->failed[k], 1);
            if (j->sink >= 0) {
                log_error("guard.deliver", "%s delivery of alert %lld failed after %d attempts",
                          gsink_kind_name((gsink_kind)k), (long long)j->alert_id, j->attempts);
            }
            job_free(j);
        }
    }
    /* what is left had its attempt already */
    while (d->head) {
        job *j = d->head;
        d->head = j->next;
        atomic_fetch_add(&d->failed[kind_of(d, j)], 1);
        job_free(j);
    }
    d->n = 0;
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

err gdeliver_start(const guard_rules *r, gdeliver **out)
{
    *out = NULL;
    gdeliver *d = calloc(1, sizeof *d);
    ENSURE(d != NULL, ERR_INTERNAL, "out of memory");
    d->r = r;
    bool needs_curl = false;
    for (int i = 0; i < r->nsinks; i++) {
        needs_curl =
            needs_curl || r->sinks[i].kind == SINK_WEBHOOK || r->sinks[i].kind == SINK_EMAIL;
    }
    if (needs_curl) {
        pthread_once(&curl_once, curl_init);
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (pthread_create(&d->t, NULL, deliver_main, d) != 0) {
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        free(d);
        BAIL(ERR_INTERNAL, "cannot start the guard's delivery thread");
    }
    *out = d;
    return ERR_OK;
}

void gdeliver_alert(gdeliver *d, const char *json, gsev sev, unsigned routes, const char *dept,
                    int64_t id, const char *rule)
{
    if (!d) {
        return;
    }
    for (int i = 0; i < d->r->nsinks; i++) {
        const gsink *s = &d->r->sinks[i];
        if (sev < s->min || !(s->routes & routes)) {
            continue;
        }
        if (s->dept[0] && strcmp(s->dept, dept) != 0) {
            continue;
        }
        job *j = calloc(1, sizeof *j);
        char *b = strdup(json);
        if (!j || !b) {
            free(j);
            free(b);
            atomic_fetch_add(&d->dropped, 1);
            continue;
        }
        j->sink = i;
        j->body = b;
        j->sev = sev;
        j->alert_id = id;
        snprintf(j->rule, sizeof j->rule, "%s", rule);
        push(d, j);
    }
}

void gdeliver_nft(gdeliver *d, const guard_addr *a, int v6_prefix, int64_t seconds)
{
    if (!d || !d->r->nft_on) {
        return;
    }
    if (geteuid() != 0) {
        if (!d->warned_root) {
            d->warned_root = true;
            log_warn("guard.nft", "nftables is configured but the server does not run as root; "
                                  "blocks stay in-process");
        }
        return;
    }
    job *j = calloc(1, sizeof *j);
    if (!j) {
        atomic_fetch_add(&d->dropped, 1);
        return;
    }
    j->sink = -1;
    j->v6 = !guard_addr_is_v4(a);
    j->seconds = seconds;
    gaddr_key_text(a, v6_prefix, j->elem);
    push(d, j);
}

void gdeliver_stop(gdeliver *d)
{
    if (!d) {
        return;
    }
    pthread_mutex_lock(&d->mu);
    d->stop = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->t, NULL);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d);
}

void gdeliver_get_stats(gdeliver *d, gdeliver_stats *s)
{
    memset(s, 0, sizeof *s);
    if (!d) {
        return;
    }
    for (int i = 0; i < 4; i++) {
        s->sent[i] = atomic_load(&d->sent[i]);
        s->failed[i] = atomic_load(&d->failed[i]);
    }
    s->nft_ok = atomic_load(&d->sent[K_NFT]);
    s->nft_failed = atomic_load(&d->failed[K_NFT]);
    s->dropped = atomic_load(&d->dropped);
    pthread_mutex_lock(&d->mu);
    s->pending = d->n;
    pthread_mutex_unlock(&d->mu);
}
