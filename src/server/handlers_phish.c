/*
 * handlers_phish.c - simulated phishing over HTTP: /v1/phish/... (campaigns, metrics,
 * one's own results, the console's report button; signed in) and /t/... (the pixel,
 * the mail's link, the landing form and the report link; nobody signed in, by
 * necessity). /t/ answers every id with a page, never JSON, never an error that would
 * tell a guesser more than the page; the form's body is discarded by the server before
 * it reaches here (only its length is known). The sender thread hands the mail that
 * falls due to SMTP, once a second.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "door/door_phish.h"
#include "server/server.h"
#include "training/phish.h"

#define PH "/v1/phish/"

static void done(response *out, err e, int status, json_t *j)
{
    if (e != ERR_OK) {
        json_decref(j);
        return response_fail(out, e);
    }
    response_json(out, status, j ? j : json_object());
}

bool handle_phish(server *s, request *r, response *out)
{
    const char *u = r->url;
    if (strncmp(u, PH, strlen(PH)) != 0) {
        return false;
    }
    u += strlen(PH);
    json_t *j = NULL, *body = NULL;
    err e;
    if (strcmp(u, "campaigns") == 0 && req_method(r, "GET")) {
        e = door_phish_campaigns(s->v, &r->who, &j);
        done(out, e, 200, j);
    } else if (strcmp(u, "campaigns") == 0 && req_method(r, "POST")) {
        e = req_json_body(r, &body);
        if (e == ERR_OK) {
            e = door_phish_campaign_create(s->v, &r->who, body, &j);
        }
        done(out, e, 201, j);
    } else if (strncmp(u, "campaigns/", 10) == 0 && req_method(r, "GET")) {
        const char *id = u + 10;
        size_t n = strcspn(id, "/");
        char cid[48];
        if (n == 0 || n >= sizeof cid || strcmp(id + n, "/metrics") != 0) {
            response_error(out, ERR_NOT_FOUND, "no such route");
        } else {
            memcpy(cid, id, n);
            cid[n] = '\0';
            e = door_phish_metrics(s->v, &r->who, cid, &j);
            done(out, e, 200, j);
        }
    } else if (strcmp(u, "mine") == 0 && req_method(r, "GET")) {
        e = door_phish_mine(s->v, &r->who, &j);
        done(out, e, 200, j);
    } else if (strcmp(u, "report") == 0 && req_method(r, "POST")) {
        e = r->body.len ? req_json_body(r, &body) : ERR_OK;
        json_t *l = json_object_get(body, "link");
        if (e == ERR_OK && l && !json_is_string(l)) {
            e = err_set(ERR_INPUT, __FILE__, __LINE__, "link: the suspicious mail's link");
        }
        if (e == ERR_OK) {
            e = door_phish_report(s->v, &r->who, json_string_value(l), &j);
        }
        done(out, e, 200, j);
    } else {
        response_error(out, ERR_NOT_FOUND, "no such route");
    }
    json_decref(body);
    return true;
}

/* /t/o/TOKEN.gif, /t/c/TOKEN, /t/s/TOKEN (POST), /t/r/TOKEN */
bool handle_phish_track(server *s, request *r, response *out)
{
    const char *u = r->url;
    if (strncmp(u, "/t/", 3) != 0) {
        return false;
    }
    char kind = u[3];
    bool post = req_method(r, "POST");
    bool get = req_method(r, "GET") || req_method(r, "HEAD");
    if (!(kind == 'o' || kind == 'c' || kind == 's' || kind == 'r') || u[4] != '/' ||
        (kind == 's' ? !(post || get) : !get)) {
        response_error(out, ERR_NOT_FOUND, "no such route");
        return true;
    }
    char tok[PHISH_TOKEN_TEXT + 8];
    snprintf(tok, sizeof tok, "%s", u + 5);
    if (kind == 'o') {
        char *dot = strstr(tok, ".gif");
        if (dot && dot[4] == '\0') {
            *dot = '\0';
        }
    }
    const char *purpose = req_header(r, "Sec-Purpose");
    purpose = purpose ? purpose : req_header(r, "Purpose");
    purpose = purpose ? purpose : req_header(r, "X-Purpose");
    purpose = purpose ? purpose : req_header(r, "X-Moz");
    phish_hit h = {
        .kind = kind == 's' && !post ? 'c' : kind,
        .token = tok,
        .method = r->method,
        .user_agent = req_header(r, "User-Agent"),
        .purpose = purpose,
        .source = r->source,
        .body_len = r->discarded,
    };
    buf b;
    buf_init(&b, (size_t)1 << 20);
    const char *ctype = NULL;
    door_phish_track(s->v, &h, &b, &ctype);
    memset(tok, 0, sizeof tok);
    out->raw = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_COPY);
    buf_free(&b);
    if (!out->raw) {
        response_error(out, ERR_INTERNAL, "out of memory");
        return true;
    }
    MHD_add_response_header(out->raw, "Content-Type", ctype);
    MHD_add_response_header(out->raw, "X-Robots-Tag", "noindex, nofollow");
    out->csp = phish_page_csp();
    out->status = 200;
    return true;
}

/* ---- the sender ---- */

static pthread_t g_sender;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static bool g_stop, g_running;

static void *sender_main(void *arg)
{
    server *s = arg;
    pthread_mutex_lock(&g_mu);
    while (!g_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&g_cv, &g_mu, &ts);
        if (g_stop) {
            break;
        }
        pthread_mutex_unlock(&g_mu);
        json_t *j = NULL;
        err_clear();
        IGNORE(door_phish_tick(s->v, clock_now_us(), &j));
        json_decref(j);
        pthread_mutex_lock(&g_mu);
    }
    pthread_mutex_unlock(&g_mu);
    return NULL;
}

void phish_sender_start(server *s)
{
    g_stop = false;
    g_running = pthread_create(&g_sender, NULL, sender_main, s) == 0;
}

void phish_sender_stop(void)
{
    if (!g_running) {
        return;
    }
    pthread_mutex_lock(&g_mu);
    g_stop = true;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    pthread_join(g_sender, NULL);
    g_running = false;
}
