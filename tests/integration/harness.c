/*
 * harness.c - process and HTTPS plumbing for the integration tests.
 */
#include "harness.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *bin(void)
{
    const char *b = getenv("CUSTOS_BIN");
    return b ? b : "build/san/custos";
}

void h_setup(srv *s, const char *tag)
{
    memset(s, 0, sizeof *s);
    const char *base = getenv("TMPDIR");
    char root[400];
    snprintf(root, sizeof root, "%s/custos-it-%s-XXXXXX", base ? base : "/tmp", tag);
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(s->dir, sizeof s->dir, "%s/vault", root);
    snprintf(s->key, sizeof s->key, "%s/master.key", root);
    snprintf(s->log, sizeof s->log, "%s/server.log", root);
    snprintf(s->cacert, sizeof s->cacert, "%s/tls/cert.pem", s->dir);
    const char *gen[] = {"keys", "generate", s->key, NULL};
    if (h_cli(s, NULL, gen) != 0) {
        printf("cannot generate a key file\n");
        exit(2);
    }
    setenv("CUSTOS_TEST_KDF", "fast", 1);
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int h_cli(srv *s, buf *out, const char *const *argv)
{
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        const char *av[64];
        int n = 0;
        av[n++] = bin();
        for (int i = 0; argv[i] && n < 60; i++) {
            av[n++] = argv[i];
        }
        /* Commands that take no key ignore the option. */
        bool wants_key = strcmp(argv[0], "init") == 0 || strcmp(argv[0], "demo") == 0 ||
                         strcmp(argv[0], "backup") == 0 || strcmp(argv[0], "restore") == 0 ||
                         strcmp(argv[0], "serve") == 0 ||
                         (strcmp(argv[0], "keys") == 0 && strcmp(argv[1], "rotate") == 0);
        if (wants_key && !getenv("H_NO_KEYFILE")) {
            av[n++] = "--key-file";
            av[n++] = s->key;
        }
        av[n] = NULL;
        execv(av[0], (char *const *)av);
        _exit(127);
    }
    close(pipefd[1]);
    char b[4096];
    ssize_t k;
    while ((k = read(pipefd[0], b, sizeof b)) > 0) {
        if (out) {
            IGNORE(buf_append(out, b, (size_t)k));
        }
    }
    close(pipefd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

bool h_start(srv *s)
{
    char portfile[600];
    snprintf(portfile, sizeof portfile, "%s.port", s->dir);
    unlink(portfile);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 2);
        dup2(fd, 1);
        execl(bin(), bin(), "serve", s->dir, "--listen", "127.0.0.1:0", "--port-file", portfile,
              "--key-file", s->key, "--threads", "4", "--metrics-listen", "127.0.0.1:0",
              (char *)NULL);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 600; i++) {
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
            printf("server exited early; log %s\n", s->log);
            s->pid = 0;
            return false;
        }
        usleep(50 * 1000);
    }
    return false;
}

int h_stop(srv *s)
{
    if (!s->pid) {
        return -1;
    }
    kill(s->pid, SIGTERM);
    int st = 0;
    for (int i = 0; i < 600; i++) {
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(50 * 1000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &st, 0);
    s->pid = 0;
    return -9;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t h_deadline(int ms)
{
    return mono_ms() + ms;
}

bool h_poll(int64_t deadline)
{
    if (mono_ms() >= deadline) {
        return false;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return true;
}

bool h_wait_readable(int fd, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            return false;
        }
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (r > 0) {
            return true;
        }
        if (r < 0 && errno != EINTR) {
            return false;
        }
    }
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    return buf_append(ud, p, sz * n) == ERR_OK ? sz * n : 0;
}

/* Per thread: race tests send requests from many threads at once. */
static _Thread_local char last_headers[16384];
static _Thread_local size_t last_headers_len;

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    size_t k = sz * n;
    if (last_headers_len + k < sizeof last_headers) {
        memcpy(last_headers + last_headers_len, p, k);
        last_headers_len += k;
        last_headers[last_headers_len] = '\0';
    }
    return k;
}

const char *h_last_headers(void)
{
    return last_headers;
}

int h_req(srv *s, const char *method, const char *path, const char *token, const char *content_type,
          const char *body, size_t body_len, buf *resp, const char *extra_header)
{
    CURL *h = curl_easy_init();
    char url[2048], auth[256], ct[256];
    snprintf(url, sizeof url, "https://127.0.0.1:%u%s", s->port, path);
    struct curl_slist *hdr = NULL;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        hdr = curl_slist_append(hdr, ct);
    }
    if (extra_header) {
        /* Several headers may be given, one per line. */
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", extra_header);
        char *save = NULL;
        for (char *line = strtok_r(tmp, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            hdr = curl_slist_append(hdr, line);
        }
    }
    hdr = curl_slist_append(hdr, "Expect:");
    last_headers_len = 0;
    last_headers[0] = '\0';
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_CAINFO, s->cacert);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode r = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return r == CURLE_OK ? (int)code : 0;
}

int h_metrics(srv *s, const char *path, buf *resp)
{
    CURL *h = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", s->mport, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    CURLcode r = s->mport ? curl_easy_perform(h) : CURLE_COULDNT_CONNECT;
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    return r == CURLE_OK ? (int)code : 0;
}

int h_json_h(srv *s, const char *method, const char *path, const char *token, const char *body,
             const char *extra_header, json_t **out)
{
    buf r;
    buf_init(&r, (size_t)1 << 28);
    int st = h_req(s, method, path, token, body ? "application/json" : NULL, body,
                   body ? strlen(body) : 0, &r, extra_header);
    if (out) {
        *out = json_loadb((const char *)r.p, r.len, 0, NULL);
    }
    buf_free(&r);
    return st;
}

int h_json(srv *s, const char *method, const char *path, const char *token, const char *body,
           json_t **out)
{
    buf r;
    buf_init(&r, (size_t)1 << 28);
    int st = h_req(s, method, path, token, body ? "application/json" : NULL, body,
                   body ? strlen(body) : 0, &r, NULL);
    if (out) {
        *out = json_loadb((const char *)r.p, r.len, 0, NULL);
    }
    buf_free(&r);
    return st;
}

bool h_login(srv *s, const char *user, const char *password, char *tok)
{
    char body[512];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user, password);
    json_t *j = NULL;
    int st = h_json(s, "POST", "/v1/login", NULL, body, &j);
    const char *t = json_string_value(json_object_get(j, "token"));
    bool ok = st == 200 && t;
    if (ok) {
        snprintf(tok, 64, "%s", t);
    }
    json_decref(j);
    return ok;
}

bool h_file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return false;
    }
    size_t nl = strlen(needle);
    buf b;
    buf_init(&b, (size_t)1 << 31);
    char tmp[65536];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) {
        IGNORE(buf_append(&b, tmp, k));
    }
    fclose(f);
    bool found = b.len >= nl && memmem(b.p, b.len, needle, nl) != NULL;
    buf_free(&b);
    return found;
}

int h_tree_contains(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    if (!d) {
        return h_file_contains(dir, needle) ? 1 : 0;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            n += h_tree_contains(p, needle);
        } else if (S_ISREG(st.st_mode) && h_file_contains(p, needle)) {
            printf("    canary found in %s\n", p);
            n++;
        }
    }
    closedir(d);
    return n;
}

void h_quiet_guard(srv *s)
{
    /* Tests that probe the door on purpose would trip the guard's rules (that is the guard
     * working); they run with admission only, at limits no test reaches. guard_test.c runs
     * the real rules. */
    char p[700];
    snprintf(p, sizeof p, "%s/guard.rules", s->dir);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs("version 1\nlimit address 100000/s burst 100000\nlimit account 100000/s burst "
              "100000\nlimit connections 4096\n",
              f);
        fclose(f);
    }
}
