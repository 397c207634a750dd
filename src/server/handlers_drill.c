/*
 * handlers_drill.c - breach-response drills: POST /v1/drills starts one, GET /v1/drills lists
 * them with their timings, GET /v1/drills/{id} reads one, GET /v1/drills/{id}/report gives the
 * after-action report (text or PDF, zh-CN or English). The people's part of a drill is done on
 * its incident (/v1/incidents/{incident}/...).
 *
 * The injection runs here, on a thread of its own: real HTTPS requests (libcurl) to this
 * server's own listener, from a loopback address the drill was given (127.0.0.N), as the
 * drill account whose session the door made and which never leaves this process. It reads a
 * page of the drill department, then a honeytoken, then goes on reading until it is refused,
 * and hands what it did to the door, which observes the guard's answer. The request path of
 * those reads is the one every client uses: admission, authentication, the door, the audit
 * log, the guard's detectors.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "door/door_drill.h"
#include "server/server.h"

#define DRILL_WAIT_US (60 * 1000000LL) /* the guard has a minute to answer */

typedef struct injection {
    vault *v;
    door_drill_run run;
    char base[64]; /* https://127.0.0.1:PORT */
    char cacert[PATH_MAX];
} injection;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t g_thread;
static bool g_joinable;
static atomic_bool g_stop;

typedef struct body {
    buf b;
} body;

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    body *bd = ctx;
    return buf_append(&bd->b, p, size * n) == ERR_OK ? size * n : 0;
}

/* One GET as the drill account; records it in log and returns the status (0: no answer) and
 * the customer ids the answer held (a listing's, or the one read). */
static long get(injection *in, CURL *c, const char *path, json_t *log, char *last, size_t lmax)
{
    char url[512], auth[TOKEN_TEXT_MAX + 32], iface[80];
    snprintf(url, sizeof url, "%s%s", in->base, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", in->run.token);
    snprintf(iface, sizeof iface, "host!%s", in->run.address);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    body bd;
    buf_init(&bd.b, 8 << 20);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
    curl_easy_setopt(c, CURLOPT_CAINFO, in->cacert);
    /* Our own listener on loopback, checked against our own certificate; its names need not
     * include the loopback address. */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &bd);
    int64_t at = clock_now_us();
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(h);
    mem_wipe(auth, sizeof auth);
    json_t *ids = json_array();
    if (status == 200) {
        json_t *j = json_loadb((const char *)bd.b.p, bd.b.len, 0, NULL);
        json_t *arr = json_object_get(j, "customers");
        if (json_is_array(arr)) {
            size_t i;
            json_t *cu;
            json_array_foreach(arr, i, cu)
            {
                json_t *id = json_object_get(cu, "id");
                if (json_is_string(id)) {
                    json_array_append(ids, id);
                    if (last) {
                        snprintf(last, lmax, "%s", json_string_value(id));
                    }
                }
            }
        } else if (json_is_string(json_object_get(j, "id"))) {
            json_array_append(ids, json_object_get(j, "id"));
        }
        json_decref(j);
    }
    /* The answer holds synthetic values only; wiped all the same. */
    mem_wipe(bd.b.p, bd.b.len);
    buf_free(&bd.b);
    char ts[40];
    clock_rfc3339(at, ts);
    json_array_append_new(log, json_pack("{s:s,s:s,s:s,s:i,s:o}", "at", ts, "method", "GET", "path",
                                         path, "status", (int)status, "customers", ids));
    return status;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *inject(void *arg)
{
    injection *in = arg;
    json_t *log = json_array();
    CURL *c = curl_easy_init();
    int64_t first_honey = 0;
    if (!c || !log) {
        door_drill_abort(in->v, &in->run, "the injection could not start");
        goto out;
    }
    char last[ID_LEN + 1] = "", path[160];
    /* Bulk reading from a new address: a page of the drill department. */
    long st = get(in, c, "/v1/customers?limit=200", log, last, sizeof last);
    if (st != 200) {
        door_drill_abort(in->v, &in->run, "the server could not be read from the drill address");
        goto out;
    }
    /* A honeytoken: the start of detection. */
    first_honey = clock_now_us();
    snprintf(path, sizeof path, "/v1/customers/%s", in->run.honeytokens[0]);
    st = get(in, c, path, log, NULL, 0);
    /* Go on reading until refused: the rest of the department, the other honeytoken. */
    int64_t until = clock_now_us() + DRILL_WAIT_US;
    for (int k = 0; st >= 200 && st < 300 && k < DRILL_MAX_READS && clock_now_us() < until &&
                    !atomic_load(&g_stop);
         k++) {
        pause_ms(20);
        if (k % 2 == 0) {
            snprintf(path, sizeof path, "/v1/customers?limit=50&after=%s", last);
            st = get(in, c, path, log, last, sizeof last);
        } else {
            snprintf(path, sizeof path, "/v1/customers/%s", in->run.honeytokens[1]);
            st = get(in, c, path, log, NULL, 0);
        }
    }
    if (atomic_load(&g_stop)) {
        door_drill_abort(in->v, &in->run, "the server stopped during the drill");
        goto out;
    }
    err e = door_drill_finish(in->v, &in->run, log, first_honey, DRILL_WAIT_US);
    if (e != ERR_OK) {
        log_warn("drill", "%s: %s", in->run.id, err_message());
    }
out:
    if (c) {
        curl_easy_cleanup(c);
    }
    json_decref(log);
    door_drill_run_wipe(&in->run);
    mem_wipe(in, sizeof *in);
    free(in);
    return NULL;
}

void drill_server_stop(void)
{
    atomic_store(&g_stop, true);
    pthread_mutex_lock(&g_mu);
    if (g_joinable) {
        pthread_join(g_thread, NULL);
        g_joinable = false;
    }
    pthread_mutex_unlock(&g_mu);
}

/* The listener as seen from loopback: https://127.0.0.1:PORT (an IPv4 listener on loopback
 * or on every address). */
static err own_base(server *s, char *out, size_t max)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    ENSURE(s->listen_fd >= 0 && getsockname(s->listen_fd, (struct sockaddr *)&ss, &len) == 0,
           ERR_UNAVAILABLE, "the listener is not known");
    ENSURE(ss.ss_family == AF_INET, ERR_CONFLICT,
           "drills read through an IPv4 listener on loopback or on every address");
    const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
    uint32_t ip = ntohl(a->sin_addr.s_addr);
    ENSURE(ip == INADDR_ANY || (ip >> 24) == 127, ERR_CONFLICT,
           "drills read through an IPv4 listener on loopback or on every address");
    snprintf(out, max, "https://127.0.0.1:%u", (unsigned)ntohs(a->sin_port));
    return ERR_OK;
}

static void h_start(server *s, request *r, response *out)
{
    json_t *j = NULL;
    err e = req_json_body(r, &j);
    if (e != ERR_OK) {
        return response_fail(out, e);
    }
    const char *pb = json_string_value(json_object_get(j, "playbook"));
    injection *in = calloc(1, sizeof *in);
    if (!in) {
        json_decref(j);
        return response_error(out, ERR_INTERNAL, "out of memory");
    }
    in->v = s->v;
    e = own_base(s, in->base, sizeof in->base);
    pthread_mutex_lock(&g_mu);
    /* A loopback address of its own: 127.0.0.2 .. 127.0.0.254, not blocked now (an earlier
     * drill's address stays blocked for the guard's time). */
    for (int tries = 0; e == ERR_OK; tries++) {
        char addr[64];
        uint8_t rb;
        rand_bytes(&rb, 1);
        snprintf(addr, sizeof addr, "127.0.0.%u", 2u + (unsigned)rb % 253u);
        e = door_drill_start(s->v, &r->who, pb, addr, &in->run);
        if (e != ERR_CONFLICT || tries == 15 || !strstr(err_message(), "address is blocked")) {
            break;
        }
        e = ERR_OK;
    }
    json_t *ans = NULL;
    if (e == ERR_OK && g_joinable) {
        /* The door refuses a drill while one runs: the previous drill's thread has handed its
         * result over and is only returning. */
        pthread_join(g_thread, NULL);
        g_joinable = false;
    }
    if (e == ERR_OK) {
        vault_path(s->v, VAULT_TLS_CERT, in->cacert, sizeof in->cacert);
        /* The incident is opened from the guard's alert: GET /v1/drills/{id} names it. */
        ans = json_pack("{s:s,s:n,s:s,s:s,s:b}", "drill", in->run.id, "incident", "account",
                        in->run.account, "address", in->run.address, "is_drill", 1);
        if (pthread_create(&g_thread, NULL, inject, in) != 0) {
            door_drill_abort(s->v, &in->run, "the injection could not start");
            e = err_set(ERR_INTERNAL, __FILE__, __LINE__, "cannot start the drill");
        } else {
            g_joinable = true;
        }
    }
    pthread_mutex_unlock(&g_mu);
    json_decref(j);
    if (e != ERR_OK) {
        json_decref(ans);
        door_drill_run_wipe(&in->run);
        free(in);
        return response_fail(out, e);
    }
    /* in belongs to the thread now; the answer was built before it started. */
    response_json(out, 202, ans);
}

bool handle_drill(server *s, request *r, response *out)
{
    const char *u = r->url;
    if (strncmp(u, "/v1/drills", 10) != 0 || (u[10] != '\0' && u[10] != '/')) {
        return false;
    }
    json_t *res = NULL;
    if (u[10] == '\0') {
        if (req_method(r, "POST")) {
            h_start(s, r, out);
            return true;
        }
        if (!req_method(r, "GET")) {
            response_error(out, ERR_INPUT, "method not allowed");
            return true;
        }
        err e = door_drills_list(s->v, &r->who, &res);
        e == ERR_OK ? response_json(out, 200, res) : response_fail(out, e);
        return true;
    }
    char id[ID_LEN + 1];
    const char *p = u + 11, *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || n > ID_LEN) {
        response_error(out, ERR_NOT_FOUND, "no such drill");
        return true;
    }
    memcpy(id, p, n);
    id[n] = '\0';
    if (!slash && req_method(r, "GET")) {
        err e = door_drill_get(s->v, &r->who, id, &res);
        e == ERR_OK ? response_json(out, 200, res) : response_fail(out, e);
        return true;
    }
    if (slash && strcmp(slash, "/report") == 0 && req_method(r, "GET")) {
        const char *type = NULL;
        buf b;
        buf_init(&b, 32 << 20);
        err e = door_drill_report(s->v, &r->who, id, req_arg(r, "lang"), req_arg(r, "format"), &b,
                                  &type);
        if (e != ERR_OK) {
            buf_free(&b);
            response_fail(out, e);
            return true;
        }
        void *copy = malloc(b.len ? b.len : 1);
        if (!copy) {
            buf_free(&b);
            response_error(out, ERR_INTERNAL, "out of memory");
            return true;
        }
        memcpy(copy, b.p, b.len);
        out->raw = MHD_create_response_from_buffer_with_free_callback(b.len, copy, free);
        buf_free(&b);
        if (!out->raw) {
            free(copy);
            response_error(out, ERR_INTERNAL, "out of memory");
            return true;
        }
        MHD_add_response_header(out->raw, "Content-Type", type);
        out->status = 200;
        return true;
    }
    response_error(out, ERR_NOT_FOUND, "no such route");
    return true;
}
