/*
 * edge_test.c - the server's edge against a live server: what a stranger on the
 * network, a reverse proxy, a monitoring system and an operator stopping the
 * server each see.
 *
 *   - /metrics is not on the HTTPS listener (404), only on the loopback metrics
 *     listener, or with the metrics token (401 without it);
 *   - readiness: /readyz answers 503 while another process holds the audit
 *     log's write lock or free space is below what the WALs need, /healthz stays
 *     200 (liveness), with a metric and a guard alert;
 *   - trusted proxies: their X-Forwarded-For names the client for the guard and
 *     the audit log; the same header from anyone else is ignored;
 *   - slow connections from many source addresses (127.0.x.y) at the connection
 *     limit: an ordinary client keeps being served, and a connection that never
 *     sends a request is closed after the short wait;
 *   - SIGTERM under concurrent keep-alive writes, several times: every write
 *     acknowledged is stored, every write stored was acknowledged, the server
 *     exits as soon as the in-flight requests are done, and never aborts;
 *   - the master passphrase leaves the server's environment at once: neither
 *     /proc/PID/environ nor the nftables helper the guard runs sees it.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../unit/test.h"
#include "crypto/crypto.h"
#include "harness.h"

static srv S;
static char tok_st1[64], tok_sec[64], tok_aud[64];

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- starting the server with extra options ---- */

static bool start_with(srv *s, const char *const *extra)
{
    char portfile[600];
    snprintf(portfile, sizeof portfile, "%s.port", s->dir);
    unlink(portfile);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 2);
        dup2(fd, 1);
        const char *b = getenv("CUSTOS_BIN") ? getenv("CUSTOS_BIN") : "build/san/custos";
        const char *av[32] = {
            b,        "serve",     s->dir, "--listen",         "127.0.0.1:0", "--port-file",
            portfile, "--threads", "4",    "--metrics-listen", "127.0.0.1:0"};
        int n = 11;
        if (!getenv("H_NO_KEYFILE")) {
            av[n++] = "--key-file";
            av[n++] = s->key;
        }
        for (int i = 0; extra && extra[i] && n < 30; i++) {
            av[n++] = extra[i];
        }
        av[n] = NULL;
        execv(b, (char *const *)av);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 1200; i++) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            unsigned p = 0, mp = 0;
            int ok = fscanf(f, "%u %u", &p, &mp);
            fclose(f);
            if (ok >= 1 && p) {
                s->port = p;
                s->mport = mp;
                buf r;
                buf_init(&r, 0);
                int st = h_req(s, "GET", "/healthz", NULL, NULL, NULL, 0, &r, NULL);
                buf_free(&r);
                if (st == 200) {
                    return true;
                }
            }
        }
        int wst;
        if (waitpid(pid, &wst, WNOHANG) == pid) {
            printf("  server exited early; log %s\n", s->log);
            s->pid = 0;
            return false;
        }
        usleep(25 * 1000);
    }
    return false;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Admission at limits no test reaches, and the door's notices (the readiness alert). */
static void edge_guard_rules(srv *s)
{
    char p[700];
    snprintf(p, sizeof p, "%s/guard.rules", s->dir);
    write_file(p,
               "version 1\nlimit address 100000/s burst 100000\nlimit account 100000/s burst "
               "100000\nlimit connections 64\n"
               "rule door-notices\n    detect notice\n    severity high\n    respond alert\nend\n");
}

/* Sets custos.json's "server" section (NULL removes it). */
static void set_server_config(srv *s, const char *server_json)
{
    char p[700];
    snprintf(p, sizeof p, "%s/custos.json", s->dir);
    json_t *root = json_load_file(p, 0, NULL);
    if (!root) {
        root = json_object();
    }
    if (server_json) {
        json_object_set_new(root, "server", json_loads(server_json, 0, NULL));
    } else {
        json_object_del(root, "server");
    }
    json_dump_file(root, p, JSON_INDENT(2));
    json_decref(root);
}

static bool restart(srv *s, const char *const *extra)
{
    int st = h_stop(s);
    if (st != 0) {
        printf("  server stopped with status %d\n", st);
    }
    return start_with(s, extra) && h_login(s, "steward1", DEMO_PW, tok_st1) &&
           h_login(s, "security1", DEMO_PW, tok_sec) && h_login(s, "auditor1", DEMO_PW, tok_aud);
}

/* A sample from the metrics listener; -1 when absent. */
static double metric(srv *s, const char *name)
{
    buf r;
    buf_init(&r, 1 << 22);
    double v = -1;
    if (h_metrics(s, "/metrics", &r) == 200) {
        size_t n = strlen(name);
        for (const char *line = buf_cstr(&r); line && *line;) {
            if (strncmp(line, name, n) == 0 && line[n] == ' ') {
                v = strtod(line + n + 1, NULL);
                break;
            }
            const char *nl = strchr(line, '\n');
            line = nl ? nl + 1 : NULL;
        }
    }
    buf_free(&r);
    return v;
}

static int status_of(srv *s, const char *path)
{
    buf r;
    buf_init(&r, 0);
    int st = h_req(s, "GET", path, NULL, NULL, NULL, 0, &r, NULL);
    buf_free(&r);
    return st;
}

/* Polls path until it answers want (deadline in seconds); returns the last status. */
static int wait_status(srv *s, const char *path, int want, double deadline_s)
{
    double end = mono_s() + deadline_s;
    int st = 0;
    while ((st = status_of(s, path)) != want && mono_s() < end) {
        usleep(50 * 1000);
    }
    return st;
}

/* ---- requests from other loopback addresses ---- */

static size_t to_buf(char *p, size_t sz, size_t n, void *ud)
{
    return buf_append(ud, p, sz * n) == ERR_OK ? sz * n : 0;
}

/* One HTTPS request from the loopback address ip with an extra header (or NULL). */
static int from(srv *s, const char *ip, const char *method, const char *path, const char *body,
                const char *header, json_t **out)
{
    CURL *c = curl_easy_init();
    char url[512], iface[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%u%s", s->port, path);
    snprintf(iface, sizeof iface, "host!%s", ip);
    struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
    if (header) {
        hl = curl_slist_append(hl, header);
    }
    if (body) {
        hl = curl_slist_append(hl, "Content-Type: application/json");
    }
    buf r;
    buf_init(&r, 1 << 20);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_CAINFO, s->cacert);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_buf);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (out) {
        *out = rc == CURLE_OK && r.len ? json_loadb((const char *)r.p, r.len, 0, NULL) : NULL;
    }
    buf_free(&r);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? (int)code : 0;
}

/* ---- /metrics ---- */

TEST(t_metrics_not_public)
{
    buf r;
    buf_init(&r, 0);
    EXPECT_INT(h_req(&S, "GET", "/metrics", NULL, NULL, NULL, 0, &r, NULL), 404);
    EXPECT(strstr(buf_cstr(&r), "custos_customers") == NULL);
    buf_free(&r);
    EXPECT(metric(&S, "custos_customers") >= 20);
    /* With a token configured (its SHA-256 only), the HTTPS listener asks for it. */
    const char *token = "metrics-token-0123456789abcdef0123456789abcdef";
    char hex[65], cfg[200];
    uint8_t h[32];
    hash_sha256((const uint8_t *)token, strlen(token), h);
    hex_encode(hex, h, 32);
    snprintf(cfg, sizeof cfg, "{\"metrics_token_sha256\":\"%s\"}", hex);
    set_server_config(&S, cfg);
    EXPECT(restart(&S, NULL));
    buf_init(&r, 0);
    EXPECT_INT(h_req(&S, "GET", "/metrics", NULL, NULL, NULL, 0, &r, NULL), 401);
    EXPECT(strstr(buf_cstr(&r), "custos_customers") == NULL);
    buf_free(&r);
    buf_init(&r, 0);
    EXPECT_INT(h_req(&S, "GET", "/metrics", "wrong-token", NULL, NULL, 0, &r, NULL), 401);
    buf_free(&r);
    buf_init(&r, 0);
    EXPECT_INT(h_req(&S, "GET", "/metrics", token, NULL, NULL, 0, &r, NULL), 200);
    EXPECT(strstr(buf_cstr(&r), "custos_customers ") != NULL);
    buf_free(&r);
    set_server_config(&S, NULL);
    EXPECT(restart(&S, NULL));
}

/* ---- readiness ---- */

TEST(t_readiness)
{
    EXPECT_INT(status_of(&S, "/readyz"), 200);
    EXPECT(metric(&S, "custos_ready") == 1);
    /* Another process takes the audit log's write lock and keeps it. */
    char db[700];
    snprintf(db, sizeof db, "%s/audit.db", S.dir);
    int in[2], outp[2];
    EXPECT(pipe(in) == 0 && pipe(outp) == 0);
    pid_t lk = fork();
    if (lk == 0) {
        dup2(in[0], 0);
        dup2(outp[1], 1);
        close(in[1]);
        close(outp[0]);
        execlp("sqlite3", "sqlite3", db, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(outp[1]);
    const char *take = "PRAGMA busy_timeout=10000;\nBEGIN IMMEDIATE;\nSELECT 'locked';\n";
    EXPECT(write(in[1], take, strlen(take)) == (ssize_t)strlen(take));
    /* The CLI prints the PRAGMA's value first: read until the SELECT's answer is there. */
    char got[256] = "";
    size_t have = 0;
    double rd_end = mono_s() + 30;
    while (!strstr(got, "locked") && have + 1 < sizeof got && mono_s() < rd_end) {
        struct pollfd pf = {.fd = outp[0], .events = POLLIN};
        if (poll(&pf, 1, 200) > 0) {
            ssize_t k = read(outp[0], got + have, sizeof got - 1 - have);
            if (k <= 0) {
                break;
            }
            have += (size_t)k;
            got[have] = '\0';
        }
    }
    EXPECT(strstr(got, "locked") != NULL);
    double t0 = mono_s();
    EXPECT_INT(wait_status(&S, "/readyz", 503, 15), 503);
    double took = mono_s() - t0;
    EXPECT_INT(status_of(&S, "/healthz"), 200); /* alive all the same */
    EXPECT(metric(&S, "custos_ready") == 0);
    EXPECT(metric(&S, "custos_ready_audit_writable") == 0);
    EXPECT(metric(&S, "custos_not_ready_total") >= 1);
    const char *give = "ROLLBACK;\n.quit\n";
    EXPECT(write(in[1], give, strlen(give)) == (ssize_t)strlen(give));
    close(in[1]);
    close(outp[0]);
    waitpid(lk, NULL, 0);
    EXPECT_INT(wait_status(&S, "/readyz", 200, 15), 200);
    /* The guard raised an alert through its notice rules. */
    bool alerted = false;
    for (int i = 0; i < 100 && !alerted; i++) {
        json_t *j = NULL;
        if (h_json(&S, "GET", "/v1/alerts?rule=door-notices&limit=100", tok_sec, NULL, &j) == 200) {
            size_t ix;
            json_t *a;
            json_array_foreach(json_object_get(j, "alerts"), ix, a)
            {
                const char *d = jstr(a, "detail");
                alerted = alerted || (d && strstr(d, "not-ready") != NULL) ||
                          (d && strstr(d, "not ready") != NULL);
            }
        }
        json_decref(j);
        if (!alerted) {
            usleep(50 * 1000);
        }
    }
    EXPECT(alerted);
    printf("  audit.db locked by another process: /readyz 503 after %.1f s, /healthz 200, "
           "alert raised; 200 again once released\n",
           took);
    /* Free space below what the WALs need (a threshold no disk here meets). */
    set_server_config(&S, "{\"min_free_mb\":1048576}");
    EXPECT(restart(&S, NULL));
    EXPECT_INT(status_of(&S, "/readyz"), 503);
    EXPECT_INT(status_of(&S, "/healthz"), 200);
    EXPECT(metric(&S, "custos_ready_disk") == 0);
    EXPECT(metric(&S, "custos_disk_free_bytes") > 0);
    set_server_config(&S, NULL);
    EXPECT(restart(&S, NULL));
    EXPECT_INT(status_of(&S, "/readyz"), 200);
}

/* ---- trusted proxies ---- */

/* The source recorded in actor's newest denied audit entry. */
static char *last_denied_source(const char *actor)
{
    char p[200];
    snprintf(p, sizeof p, "/v1/audit/entries?actor=%s&decision=deny&limit=1000", actor);
    json_t *j = NULL;
    char *src = NULL;
    if (h_json(&S, "GET", p, tok_aud, NULL, &j) == 200) {
        json_t *arr = json_object_get(j, "entries");
        json_t *e = json_array_get(arr, json_array_size(arr) - 1);
        const char *s = jstr(json_object_get(e, "decoded"), "source");
        src = s ? strdup(s) : NULL;
    }
    json_decref(j);
    return src;
}

TEST(t_trusted_proxy)
{
    set_server_config(&S, "{\"trusted_proxies\":[\"127.0.0.5\",\"10.9.0.0/16\"]}");
    EXPECT(restart(&S, NULL));
    EXPECT_INT(h_json(&S, "POST", "/v1/guard/block", tok_sec,
                      "{\"address\":\"203.0.113.7\",\"seconds\":600,\"reason\":\"test\"}", NULL),
               200);
    /* Through the trusted proxy: the client it names is the one the guard judges. */
    EXPECT_INT(from(&S, "127.0.0.5", "GET", "/healthz", NULL, "X-Forwarded-For: 203.0.113.7", NULL),
               403);
    EXPECT_INT(from(&S, "127.0.0.5", "GET", "/healthz", NULL,
                    "X-Forwarded-For: 203.0.113.7, 10.9.1.1", NULL),
               403); /* a second trusted hop is skipped */
    EXPECT_INT(from(&S, "127.0.0.5", "GET", "/healthz", NULL, "X-Forwarded-For: 203.0.113.8", NULL),
               200);
    /* What the client wrote to the left of the last untrusted hop is not believed. */
    EXPECT_INT(from(&S, "127.0.0.5", "GET", "/healthz", NULL,
                    "X-Forwarded-For: 203.0.113.7, 203.0.113.8", NULL),
               200);
    /* From anyone else the header is ignored. */
    EXPECT_INT(from(&S, "127.0.0.6", "GET", "/healthz", NULL, "X-Forwarded-For: 203.0.113.7", NULL),
               200);
    /* The audit log records the client behind the proxy, and the sender otherwise. */
    const char *bad = "{\"username\":\"sales1\",\"password\":\"wrong-password-1\"}";
    EXPECT_INT(
        from(&S, "127.0.0.5", "POST", "/v1/login", bad, "X-Forwarded-For: 198.51.100.9", NULL),
        401);
    char *src = last_denied_source("sales1");
    EXPECT_STR(src, "198.51.100.9");
    free(src);
    EXPECT_INT(
        from(&S, "127.0.0.6", "POST", "/v1/login", bad, "X-Forwarded-For: 198.51.100.9", NULL),
        401);
    src = last_denied_source("sales1");
    EXPECT_STR(src, "127.0.0.6");
    free(src);
    EXPECT_INT(
        h_json(&S, "POST", "/v1/guard/unblock", tok_sec, "{\"address\":\"203.0.113.7\"}", NULL),
        200);
    set_server_config(&S, NULL);
    EXPECT(restart(&S, NULL));
}

/* ---- slow connections ---- */

static int connect_from(const char *ip, unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &a.sin_addr);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

TEST(t_slow_connections)
{
    /* A bounded copy of the attack: idle connections from many addresses, each under the
     * per-address limit, a quarter more than the server's connection limit. */
    const char *lim_env = getenv("CUSTOS_IT_CONN_LIMIT");
    unsigned limit = lim_env ? (unsigned)atoi(lim_env) : 256;
    unsigned total = limit + limit / 4, per = 40;
    char lim[16];
    snprintf(lim, sizeof lim, "%u", limit);
    const char *extra[] = {"--max-connections", lim, NULL};
    h_stop(&S);
    EXPECT(start_with(&S, extra));
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int *fds = calloc(total, sizeof *fds);
    unsigned opened = 0;
    for (unsigned i = 0; i < total; i++) {
        unsigned a = i / per;
        char ip[32];
        snprintf(ip, sizeof ip, "127.0.%u.%u", 1 + a / 250, 1 + a % 250);
        fds[i] = connect_from(ip, S.port);
        opened += fds[i] >= 0;
    }
    /* An ordinary client from an uninvolved address, a new connection each time. */
    int ok = 0, n = 20;
    double t0 = mono_s();
    for (int i = 0; i < n; i++) {
        CURL *c = curl_easy_init();
        char url[128];
        snprintf(url, sizeof url, "https://127.0.0.1:%u/healthz", S.port);
        buf r;
        buf_init(&r, 1 << 16);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CAINFO, S.cacert);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_buf);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
        curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
        long code = 0;
        if (curl_easy_perform(c) == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        }
        ok += code == 200;
        curl_easy_cleanup(c);
        buf_free(&r);
    }
    double served_in = mono_s() - t0;
    EXPECT_INT(ok, n);
    /* A connection that never sends anything is closed after the short wait. */
    int probe = connect_from("127.0.9.9", S.port);
    double p0 = mono_s(), closed_after = -1;
    EXPECT(probe >= 0);
    while (probe >= 0 && mono_s() - p0 < 20) {
        struct pollfd p = {.fd = probe, .events = POLLIN};
        if (poll(&p, 1, 200) > 0) {
            char b[64];
            ssize_t k = read(probe, b, sizeof b);
            if (k <= 0) {
                closed_after = mono_s() - p0;
                break;
            }
        }
    }
    EXPECT(closed_after > 0 && closed_after < 13);
    double shed = metric(&S, "custos_connections_shed_total");
    EXPECT(shed > 0);
    printf("  %u idle connections from %u addresses against a limit of %u: %d/%d requests "
           "from another address served in %.2f s; %.0f idle connections shed; a silent "
           "connection closed after %.1f s\n",
           opened, (total + per - 1) / per, limit, ok, n, served_in, shed, closed_after);
    if (probe >= 0) {
        close(probe);
    }
    for (unsigned i = 0; i < total; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    free(fds);
    EXPECT(restart(&S, NULL));
}

/* ---- SIGTERM under concurrent keep-alive writes ---- */

#define WRITERS 16
#define WRITES_MAX 400

typedef struct writer {
    int round, id;
    char ids[WRITES_MAX][ID_LEN + 1];
    int acked;
    int errors;
} writer;

static atomic_int total_acked;
static atomic_bool stop_writers;

static void *writer_main(void *arg)
{
    writer *w = arg;
    CURL *c = curl_easy_init();
    char url[128], auth[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%u/v1/customers", S.port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok_st1);
    struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
    hl = curl_slist_append(hl, auth);
    hl = curl_slist_append(hl, "Content-Type: application/json");
    int fails = 0;
    for (int i = 0; i < WRITES_MAX && fails < 3 && !atomic_load(&stop_writers); i++) {
        char body[256];
        snprintf(body, sizeof body, "{\"name\":\"终止%d号%d\",\"phone\":\"136%d%02d%05d\"}",
                 w->round, w->id * 1000 + i, w->round, w->id, i);
        buf r;
        buf_init(&r, 1 << 16);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_CAINFO, S.cacert);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_buf);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
        long code = 0;
        CURLcode rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (rc == CURLE_OK && code == 201) {
            json_t *j = json_loadb((const char *)r.p, r.len, 0, NULL);
            const char *id = jstr(j, "id");
            if (id) {
                snprintf(w->ids[w->acked++], ID_LEN + 1, "%s", id);
                atomic_fetch_add(&total_acked, 1);
            }
            json_decref(j);
            fails = 0;
        } else if (rc != CURLE_OK) {
            fails++; /* the server stopped accepting */
        } else {
            if (w->errors++ == 0) {
                printf("  writer %d: HTTP %ld %.*s\n", w->id, code, (int)r.len, (const char *)r.p);
            }
        }
        buf_free(&r);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every customer id token can list, sorted (free each and the array); -1 on failure. */
static long list_ids(const char *token, char ***out)
{
    long n = 0, cap = 0;
    char **ids = NULL;
    char path[256] = "/v1/customers?limit=200";
    for (;;) {
        json_t *j = NULL;
        if (h_json(&S, "GET", path, token, NULL, &j) != 200) {
            json_decref(j);
            n = -1;
            break;
        }
        size_t ix;
        json_t *c;
        json_array_foreach(json_object_get(j, "customers"), ix, c)
        {
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                ids = realloc(ids, (size_t)cap * sizeof *ids);
            }
            ids[n++] = strdup(jstr(c, "id") ? jstr(c, "id") : "");
        }
        const char *next = jstr(j, "next");
        if (!next) {
            json_decref(j);
            break;
        }
        snprintf(path, sizeof path, "/v1/customers?limit=200&after=%s", next);
        json_decref(j);
    }
    if (n > 0) {
        qsort(ids, (size_t)n, sizeof *ids, cmp_str);
    }
    *out = ids;
    return n;
}

static void free_ids(char **ids, long n)
{
    for (long i = 0; i < n; i++) {
        free(ids[i]);
    }
    free(ids);
}

TEST(t_sigterm_drain)
{
    static writer w[WRITERS];
    int rounds = 4, lost = 0, unanswered = 0, slow = 0, total = 0;
    double worst = 0;
    for (int round = 1; round <= rounds; round++) {
        char **ids = NULL;
        long before = list_ids(tok_st1, &ids);
        EXPECT(before >= 0);
        free_ids(ids, before);
        atomic_store(&total_acked, 0);
        atomic_store(&stop_writers, false);
        pthread_t t[WRITERS];
        for (int i = 0; i < WRITERS; i++) {
            memset(&w[i], 0, sizeof w[i]);
            w[i].round = round;
            w[i].id = i;
            pthread_create(&t[i], NULL, writer_main, &w[i]);
        }
        /* SIGTERM in the middle of the load (after a number of acknowledged writes that
         * differs by round, so the signal lands at different moments). */
        double wait_end = mono_s() + 60;
        while (atomic_load(&total_acked) < 40 + round * 13 && mono_s() < wait_end) {
            usleep(2 * 1000);
        }
        double t0 = mono_s();
        kill(S.pid, SIGTERM);
        int st = 0;
        pid_t got = 0;
        while ((got = waitpid(S.pid, &st, WNOHANG)) == 0 && mono_s() - t0 < 40) {
            usleep(5 * 1000);
        }
        double took = mono_s() - t0;
        worst = took > worst ? took : worst;
        EXPECT(got == S.pid);
        EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        S.pid = 0;
        slow += took > 5;
        atomic_store(&stop_writers, true);
        for (int i = 0; i < WRITERS; i++) {
            pthread_join(t[i], NULL);
        }
        EXPECT(start_with(&S, NULL));
        EXPECT(h_login(&S, "steward1", DEMO_PW, tok_st1));
        long after = list_ids(tok_st1, &ids);
        int acked = 0;
        for (int i = 0; i < WRITERS; i++) {
            for (int k = 0; k < w[i].acked; k++) {
                const char *key = w[i].ids[k];
                lost += after <= 0 || !bsearch(&key, ids, (size_t)after, sizeof *ids, cmp_str);
                acked++;
            }
            EXPECT_INT(w[i].errors, 0);
        }
        free_ids(ids, after);
        unanswered += (int)(after - before - acked);
        total += acked;
        printf("  round %d: %d writes acknowledged, %ld stored, exit %.2f s after SIGTERM\n", round,
               acked, after - before, took);
    }
    EXPECT_INT(lost, 0);
    EXPECT_INT(unanswered, 0);
    EXPECT_INT(slow, 0);
    EXPECT(!h_file_contains(S.log, "Fatal error"));
    printf("  %d SIGTERMs under %d keep-alive writers: %d acknowledged writes, %d lost, %d "
           "stored without an answer; slowest exit %.2f s\n",
           rounds, WRITERS, total, lost, unanswered, worst);
    EXPECT(h_login(&S, "security1", DEMO_PW, tok_sec));
    EXPECT(h_login(&S, "auditor1", DEMO_PW, tok_aud));
}

/* ---- the passphrase ---- */

static bool file_has(const char *path, const char *needle)
{
    return h_file_contains(path, needle);
}

TEST(t_passphrase_env)
{
    const char *pass = "pass-ph-rase-for-the-environment-test-7f3a";
    srv P;
    h_setup(&P, "edge-pass");
    setenv("CUSTOS_PASSPHRASE", pass, 1);
    setenv("H_NO_KEYFILE", "1", 1);
    const char *init[] = {"init", P.dir, NULL};
    EXPECT_INT(h_cli(&P, NULL, init), 0);
    setenv("CUSTOS_PASSPHRASE", pass, 1);
    setenv("CUSTOS_NEW_PASSWORD", DEMO_PW, 1);
    const char *add[] = {"accounts", "add",          P.dir, "security1", "--role",
                         "security", "--department", "it",  NULL};
    buf o;
    buf_init(&o, 0);
    int rc = h_cli(&P, &o, add);
    EXPECT_INT(rc, 0);
    if (rc) {
        printf("%s\n", buf_cstr(&o));
    }
    buf_free(&o);
    unsetenv("CUSTOS_NEW_PASSWORD");
    char p[800], script[800], envout[800];
    snprintf(p, sizeof p, "%s/custos.json", P.dir);
    write_file(p, "{\"access\":{\"second_factor\":\"off\"}}\n");
    snprintf(script, sizeof script, "%s/../nft", P.dir);
    snprintf(envout, sizeof envout, "%s/../nft.env", P.dir);
    char text[2048];
    snprintf(text, sizeof text, "#!/bin/sh\nenv > '%s.tmp'\nmv '%s.tmp' '%s'\n", envout, envout,
             envout);
    write_file(script, text);
    chmod(script, 0755);
    snprintf(p, sizeof p, "%s/guard.rules", P.dir);
    snprintf(text, sizeof text,
             "version 1\nlimit connections 64\nnftables inet filter b4 b6 path %s\n", script);
    write_file(p, text);
    setenv("CUSTOS_PASSPHRASE", pass, 1);
    bool up = start_with(&P, NULL);
    unsetenv("CUSTOS_PASSPHRASE");
    unsetenv("H_NO_KEYFILE");
    EXPECT(up);
    if (!up) {
        return;
    }
    /* The server's own environment, as /proc shows it to anyone with access to it. */
    snprintf(p, sizeof p, "/proc/%d/environ", (int)P.pid);
    EXPECT(!file_has(p, pass));
    char tok[64];
    EXPECT(h_login(&P, "security1", DEMO_PW, tok));
    if (geteuid() != 0) {
        printf("  (not root: the guard runs no nftables helper; its environment not checked)\n");
    } else {
        EXPECT_INT(h_json(&P, "POST", "/v1/guard/block", tok,
                          "{\"address\":\"203.0.113.50\",\"seconds\":60,\"reason\":\"test\"}",
                          NULL),
                   200);
        bool ran = false;
        for (int i = 0; i < 400 && !ran; i++) {
            ran = access(envout, F_OK) == 0;
            if (!ran) {
                usleep(25 * 1000);
            }
        }
        EXPECT(ran);
        EXPECT(!file_has(envout, pass));
        EXPECT(!file_has(envout, "CUSTOS_PASSPHRASE"));
        EXPECT(file_has(envout, "PATH="));
        printf("  the nftables helper %s; its environment:%s%s\n", ran ? "ran" : "did not run",
               file_has(envout, pass) ? " HOLDS THE PASSPHRASE" : " no passphrase",
               file_has(envout, "CUSTOS_PASSPHRASE") ? ", names CUSTOS_PASSPHRASE" : "");
    }
    EXPECT_INT(h_stop(&P), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* a helper that died shows as a failed write, not a crash */
    test_init();
    h_setup(&S, "edge");
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "7", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "20", NULL};
    buf out;
    buf_init(&out, 0);
    int rc = h_cli(&S, &out, demo);
    if (rc) {
        printf("%s\n", buf_cstr(&out));
    }
    buf_free(&out);
    edge_guard_rules(&S);
    if (rc != 0 || !start_with(&S, NULL) || !h_login(&S, "steward1", DEMO_PW, tok_st1) ||
        !h_login(&S, "security1", DEMO_PW, tok_sec) || !h_login(&S, "auditor1", DEMO_PW, tok_aud)) {
        printf("the server did not start; see %s\n", S.log);
        return 1;
    }
    /* EDGE_ONLY=t_name runs one test (the vault is set up all the same). */
    const char *only = getenv("EDGE_ONLY");
#define RUN_IF(name)                                                                               \
    if (!only || strcmp(only, #name) == 0) {                                                       \
        RUN(name);                                                                                 \
    }
    RUN_IF(t_metrics_not_public);
    RUN_IF(t_readiness);
    RUN_IF(t_trusted_proxy);
    RUN_IF(t_slow_connections);
    RUN_IF(t_sigterm_drain);
    RUN_IF(t_passphrase_env);
    if (S.pid) {
        EXPECT_INT(h_stop(&S), 0);
    }
    return test_done("edge_test");
}
