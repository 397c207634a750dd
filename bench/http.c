/*
 * http.c - the HTTPS path, measured from outside with wrk (keep-alive, 2
 * threads, 64 connections) against the real server binary on loopback:
 * GET /healthz over the same TLS server is the baseline, GET a customer (the
 * whole door: session, policy, durable audit, unwrap, open, mask, JSON) is
 * the figure.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bench/bench.h"
#include "core/buf.h"

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    return buf_append(ud, p, s * n) == ERR_OK ? s * n : 0;
}

static json_t *call(unsigned port, const char *cacert, const char *method, const char *path,
                    const char *token, const char *body)
{
    CURL *h = curl_easy_init();
    char url[512], auth[200];
    snprintf(url, sizeof url, "https://127.0.0.1:%u%s", port, path);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    buf r;
    buf_init(&r, 1 << 24);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_CAINFO, cacert);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    json_t *j = rc == CURLE_OK ? json_loadb((const char *)r.p, r.len, 0, NULL) : NULL;
    buf_free(&r);
    return j;
}

/* Runs wrk and returns its Requests/sec. */
static double wrk(unsigned port, const char *path, const char *token, const char *label)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "wrk -t2 -c64 -d5s --latency %s%s%s https://127.0.0.1:%u%s 2>&1",
             token ? "-H 'Authorization: Bearer " : "", token ? token : "", token ? "'" : "",
             port, path);
    FILE *p = popen(cmd, "r");
    if (!p) {
        return 0;
    }
    char line[512];
    double rps = 0, p99 = 0;
    char p99u[8] = "";
    long non2xx = 0;
    while (fgets(line, sizeof line, p)) {
        if (sscanf(line, " Requests/sec: %lf", &rps) == 1) {
            continue;
        }
        if (sscanf(line, " 99%% %lf%7s", &p99, p99u) == 2) {
            continue;
        }
        if (sscanf(line, " Non-2xx or 3xx responses: %ld", &non2xx) == 1) {
            continue;
        }
    }
    pclose(p);
    printf("  %-52s %14.1f req/s  (p99 %.2f%s%s)\n", label, rps, p99, p99u,
           non2xx ? ", NON-2XX ANSWERS" : "");
    fflush(stdout);
    return rps;
}

void bench_http(void)
{
    bench_section("HTTPS (wrk: 2 threads, 64 keep-alive connections, 5 s each, loopback)");
    if (system("command -v wrk >/dev/null 2>&1") != 0) {
        printf("  wrk is not installed (make deps): skipped\n");
        return;
    }
    const char *bin = getenv("CUSTOS_BIN") ? getenv("CUSTOS_BIN") : "build/custos";
    const char *base = getenv("TMPDIR");
    char dir[PATH_MAX], cmd[PATH_MAX * 3], vdir[PATH_MAX], key[PATH_MAX], portf[PATH_MAX],
        cacert[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/custos-bench-http-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        return;
    }
    snprintf(vdir, sizeof vdir, "%s/vault", dir);
    snprintf(key, sizeof key, "%s/master.key", dir);
    snprintf(portf, sizeof portf, "%s/port", dir);
    snprintf(cacert, sizeof cacert, "%s/tls/cert.pem", vdir);
    snprintf(cmd, sizeof cmd,
             "%s keys generate %s >/dev/null && CUSTOS_TEST_KDF=fast "
             "CUSTOS_DEMO_PASSWORD=bench-password-1 %s demo %s --customers 1000 --key-file %s "
             ">/dev/null 2>&1",
             bin, key, bin, vdir, key);
    if (system(cmd) != 0) {
        printf("  could not create the demo vault\n");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 2);
        }
        execl(bin, bin, "serve", vdir, "--listen", "127.0.0.1:0", "--port-file", portf,
              "--key-file", key, (char *)NULL);
        _exit(127);
    }
    unsigned port = 0;
    for (int i = 0; i < 200 && !port; i++) {
        usleep(50000);
        FILE *f = fopen(portf, "r");
        if (f) {
            if (fscanf(f, "%u", &port) != 1) {
                port = 0;
            }
            fclose(f);
        }
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    json_t *login = port ? call(port, cacert, "POST", "/v1/login", NULL,
                                "{\"username\":\"steward1\",\"password\":\"bench-password-1\"}")
                         : NULL;
    const char *tok = json_string_value(json_object_get(login, "token"));
    json_t *list = tok ? call(port, cacert, "GET", "/v1/customers?limit=1", tok, NULL) : NULL;
    const char *id =
        json_string_value(json_object_get(json_array_get(json_object_get(list, "customers"), 0), "id"));
    if (!id) {
        printf("  the server did not answer as expected\n");
    } else {
        char path[128];
        snprintf(path, sizeof path, "/v1/customers/%s", id);
        double base_rps = wrk(port, "/healthz", NULL, "GET /healthz over TLS (baseline)");
        double rps = wrk(port, path, tok, "GET /v1/customers/{id}: the whole door, audited");
        bench_ratio("customer read / healthz", rps, base_rps, NULL);
        printf("  %-52s %14s\n", "  target", ">= 10,000 req/s for the customer read");
    }
    json_decref(list);
    json_decref(login);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        printf("  could not remove %s\n", dir);
    }
}
