/*
 * handlers_training.c - /v1/training/...: courses, lessons and their pictures,
 * quiz attempts, questionnaires, assignments, recertification status, results,
 * HR's validity with a reason, reminders and the course report. Each route
 * parses HTTP and JSON and calls one door function, which authorizes and audits.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/http_range.h"
#include "core/log.h"
#include "door/door_training.h"
#include "server/server.h"
#include "training/training.h"

#define TR "/v1/training/"

static void done(response *out, err e, int status, json_t *j)
{
    if (e != ERR_OK) {
        json_decref(j);
        return response_fail(out, e);
    }
    response_json(out, status, j ? j : json_object());
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Splits "a/b/rest" at the first '/': seg receives "a" (at most max-1 bytes), *rest "b/rest"
 * or "" (NULL when there was no '/'). False when the segment is empty or too long. */
static bool seg(const char *u, char *out, size_t max, const char **rest)
{
    const char *slash = strchr(u, '/');
    size_t n = slash ? (size_t)(slash - u) : strlen(u);
    if (n == 0 || n >= max) {
        return false;
    }
    memcpy(out, u, n);
    out[n] = '\0';
    *rest = slash ? slash + 1 : NULL;
    return true;
}

static err body_json(request *r, json_t **j)
{
    *j = NULL;
    return r->body.len ? req_json_body(r, j) : ERR_OK;
}

/* A date (YYYY-MM-DD, the end of that day UTC) or an RFC 3339 time. */
static err time_arg(const char *txt, int64_t *out)
{
    ENSURE(txt, ERR_INPUT, "a date (YYYY-MM-DD) or a time is required");
    char full[40];
    if (strlen(txt) == 10) {
        snprintf(full, sizeof full, "%sT23:59:59Z", txt);
        txt = full;
    }
    return clock_parse_rfc3339(txt, out);
}

static void h_file(server *s, request *r, response *out, const char *rest)
{
    char cid[80], ver[48];
    const char *r2 = NULL, *path = NULL;
    if (!req_method(r, "GET") || !seg(rest, cid, sizeof cid, &r2) || !r2 ||
        !seg(r2, ver, sizeof ver, &path) || !path) {
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    buf b;
    buf_init(&b, (size_t)1 << 20);
    const char *ctype = NULL;
    err e = door_training_file(s->v, &r->who, cid, ver, path, &b, &ctype);
    if (e != ERR_OK) {
        buf_free(&b);
        return response_fail(out, e);
    }
    /* RFC 9110 14: one byte range answered 206, a start past the end 416, several ranges
     * (or a Range this route does not serve) the whole file; If-Range honoured with the
     * file's strong ETag only (anything else there: the whole file). */
    _Static_assert(sizeof out->etag >= TRAINING_ETAG_MAX,
                   "the response's ETag buffer is too small");
    door_training_file_etag(buf_slice(&b), out->etag);
    const char *range = req_header(r, "Range");
    const char *if_range = req_header(r, "If-Range");
    uint64_t first = 0, last = 0;
    http_range_result rr = HTTP_RANGE_WHOLE;
    if (range && (!if_range || strcmp(if_range, out->etag) == 0)) {
        rr = http_range_parse(range, strlen(range), b.len, &first, &last);
    }
    char cr[80];
    if (rr == HTTP_RANGE_PART) {
        out->raw = MHD_create_response_from_buffer((size_t)(last - first + 1), b.p + first,
                                                   MHD_RESPMEM_MUST_COPY);
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%zu", (unsigned long long)first,
                 (unsigned long long)last, b.len);
    } else if (rr == HTTP_RANGE_UNSATISFIABLE) {
        out->raw = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        snprintf(cr, sizeof cr, "bytes */%zu", b.len);
    } else {
        out->raw = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_COPY);
    }
    buf_free(&b);
    if (!out->raw) {
        out->etag[0] = 0;
        return response_error(out, ERR_INTERNAL, "out of memory");
    }
    MHD_add_response_header(out->raw, "Accept-Ranges", "bytes");
    if (rr != HTTP_RANGE_WHOLE) {
        MHD_add_response_header(out->raw, "Content-Range", cr);
    }
    if (rr != HTTP_RANGE_UNSATISFIABLE) {
        MHD_add_response_header(out->raw, "Content-Type", ctype);
    }
    out->status = rr == HTTP_RANGE_PART ? 206 : rr == HTTP_RANGE_UNSATISFIABLE ? 416 : 200;
}

static void h_course(server *s, request *r, response *out, const char *rest)
{
    char id[80], sub[48], arg[80];
    const char *r2 = NULL, *r3 = NULL;
    json_t *res = NULL, *j = NULL;
    const char *lang = req_arg(r, "lang");
    if (!seg(rest, id, sizeof id, &r2) || !r2 || !seg(r2, sub, sizeof sub, &r3)) {
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    err e;
    if (strcmp(sub, "lessons") == 0 && r3 && seg(r3, arg, sizeof arg, &r2) && !r2 &&
        req_method(r, "GET")) {
        e = door_training_lesson(s->v, &r->who, id, arg, lang, &res);
        return done(out, e, 200, res);
    }
    if (strcmp(sub, "attempts") == 0 && !r3 && req_method(r, "POST")) {
        e = body_json(r, &j);
        if (e == ERR_OK) {
            e = door_training_attempt_start(s->v, &r->who, id,
                                            jstr(j, "lang") ? jstr(j, "lang") : lang, &res);
        }
        json_decref(j);
        return done(out, e, 201, res);
    }
    if (strcmp(sub, "questionnaires") == 0 && r3 && seg(r3, arg, sizeof arg, &r2) && !r2) {
        if (req_method(r, "GET")) {
            e = door_training_questionnaire(s->v, &r->who, id, arg, lang, &res);
            return done(out, e, 200, res);
        }
        if (req_method(r, "POST")) {
            e = req_json_body(r, &j);
            if (e == ERR_OK) {
                e = door_training_questionnaire_answer(s->v, &r->who, id, arg,
                                                       json_object_get(j, "answers"));
            }
            json_decref(j);
            return done(out, e, 200, e == ERR_OK ? json_pack("{s:b}", "saved", 1) : NULL);
        }
    }
    if (strcmp(sub, "report") == 0 && !r3 && req_method(r, "GET")) {
        e = door_training_report(s->v, &r->who, id, &res);
        return done(out, e, 200, res);
    }
    response_error(out, ERR_NOT_FOUND, "no such route");
}

static void h_assignments(server *s, request *r, response *out, const char *rest)
{
    json_t *res = NULL, *j = NULL;
    err e;
    if (!rest && req_method(r, "GET")) {
        e = door_training_assignments(s->v, &r->who, &res);
        return done(out, e, 200, res);
    }
    if (!rest && req_method(r, "POST")) {
        e = req_json_body(r, &j);
        int64_t starts = 0;
        if (e == ERR_OK && jstr(j, "starts_at")) {
            e = time_arg(jstr(j, "starts_at"), &starts);
        }
        if (e == ERR_OK) {
            e = door_training_assign(s->v, &r->who, jstr(j, "course"), jstr(j, "kind"),
                                     jstr(j, "target"), starts, &res);
        }
        json_decref(j);
        return done(out, e, 201, res);
    }
    if (rest && !strchr(rest, '/') && req_method(r, "DELETE")) {
        e = door_training_unassign(s->v, &r->who, rest);
        return done(out, e, 200, e == ERR_OK ? json_pack("{s:b}", "removed", 1) : NULL);
    }
    response_error(out, ERR_NOT_FOUND, "no such route");
}

static void copy_arg(request *r, const char *k, char *out, size_t max, bool *ok)
{
    const char *v = req_arg(r, k);
    if (v && strlen(v) >= max) {
        *ok = false;
        return;
    }
    snprintf(out, max, "%s", v ? v : "");
}

/* GET /v1/training/metrics[?by=&course=&department=&quarter=&username=&format=csv&table=] */
static void h_metrics(server *s, request *r, response *out)
{
    if (!req_method(r, "GET")) {
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    tr_metrics_query q;
    memset(&q, 0, sizeof q);
    bool ok = true;
    copy_arg(r, "course", q.course, sizeof q.course, &ok);
    copy_arg(r, "department", q.department, sizeof q.department, &ok);
    copy_arg(r, "quarter", q.quarter, sizeof q.quarter, &ok);
    copy_arg(r, "username", q.username, sizeof q.username, &ok);
    if (!ok) {
        return response_error(out, ERR_INPUT, "a filter is too long");
    }
    err e = tr_metrics_by_parse(req_arg(r, "by"), &q.by);
    if (e != ERR_OK) {
        return response_fail(out, e);
    }
    const char *format = req_arg(r, "format");
    if (!format || strcmp(format, "json") == 0) {
        json_t *res = NULL;
        e = door_training_metrics(s->v, &r->who, &q, &res);
        return done(out, e, 200, res);
    }
    if (strcmp(format, "csv") != 0) {
        return response_error(out, ERR_INPUT, "format: json or csv");
    }
    const char *table = req_arg(r, "table");
    buf b;
    buf_init(&b, (size_t)16 << 20);
    e = door_training_metrics_csv(s->v, &r->who, &q, table, &b);
    if (e != ERR_OK) {
        buf_free(&b);
        return response_fail(out, e);
    }
    out->raw = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_COPY);
    buf_free(&b);
    if (!out->raw) {
        return response_error(out, ERR_INTERNAL, "out of memory");
    }
    char disp[120];
    snprintf(disp, sizeof disp, "attachment; filename=\"training-%s.csv\"",
             table && (strcmp(table, "weakest") == 0 || strcmp(table, "questionnaire") == 0 ||
                       strcmp(table, "trends") == 0 || strcmp(table, "phishing") == 0)
                 ? table
                 : "groups");
    MHD_add_response_header(out->raw, "Content-Type", "text/csv; charset=utf-8");
    MHD_add_response_header(out->raw, "Content-Disposition", disp);
    out->status = 200;
}

/* /v1/training/remedial[/{id}] */
static void h_remedial(server *s, request *r, response *out, const char *rest)
{
    json_t *res = NULL, *j = NULL;
    err e;
    if (!rest && req_method(r, "GET")) {
        const char *open = req_arg(r, "open");
        e = door_training_remedial_list(s->v, &r->who, req_arg(r, "username"),
                                        open && strcmp(open, "1") == 0, &res);
        return done(out, e, 200, res);
    }
    if (!rest && req_method(r, "POST")) {
        e = req_json_body(r, &j);
        json_t *bl = json_object_get(j, "blocking");
        if (e == ERR_OK && bl && !json_is_boolean(bl)) {
            e = err_set(ERR_INPUT, __FILE__, __LINE__, "blocking: true or false");
        }
        char src[80] = "hr";
        if (e == ERR_OK && jstr(j, "violation")) {
            snprintf(src, sizeof src, "violation:%.60s", jstr(j, "violation"));
        }
        if (e == ERR_OK) {
            e = door_training_remedial_assign(s->v, &r->who, jstr(j, "username"), jstr(j, "course"),
                                              src, !bl || json_is_true(bl), &res);
        }
        json_decref(j);
        return done(out, e, 201, res);
    }
    if (rest && !strchr(rest, '/') && req_method(r, "DELETE")) {
        e = body_json(r, &j);
        if (e == ERR_OK) {
            e = door_training_remedial_withdraw(s->v, &r->who, rest, jstr(j, "reason"));
        }
        json_decref(j);
        return done(out, e, 200, e == ERR_OK ? json_pack("{s:b}", "withdrawn", 1) : NULL);
    }
    response_error(out, ERR_NOT_FOUND, "no such route");
}

/* ---- the reminder timer ---- */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    bool started, stop;
    server *s;
    int every_s;         /* as last read from training.json (0: off) */
    int64_t runs;        /* runs that sent (or tried to send) */
    int64_t last_run_us; /* wall clock of the last run */
    int last_sent, last_failed;
    bool last_ok;
} TT = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* One run: the reminders due now, as the system actor (audited as training.remind; each
 * reminder once per account, course, cycle and kind, so a run after a run sends nothing new
 * until a state changes). Returns the seconds to the next run. */
static int timer_run(server *s)
{
    tr_config cfg;
    if (tr_config_load(vault_dir(s->v), &cfg) != ERR_OK) {
        log_warn("training.timer", "training.json does not load: %s", err_message());
        return 60;
    }
    int every = cfg.remind_every_s;
    pthread_mutex_lock(&TT.mu);
    TT.every_s = cfg.smtp[0] && cfg.mail_domain[0] ? every : 0;
    pthread_mutex_unlock(&TT.mu);
    if (every <= 0 || !cfg.smtp[0] || !cfg.mail_domain[0]) {
        return 60; /* look again in a minute: the file may change */
    }
    actor a;
    actor_system(&a, "training-timer");
    json_t *res = NULL;
    err e = door_training_remind(s->v, &a, clock_now_us(), &res);
    pthread_mutex_lock(&TT.mu);
    TT.runs++;
    TT.last_run_us = clock_now_us();
    TT.last_ok = e == ERR_OK;
    TT.last_sent = e == ERR_OK ? (int)json_integer_value(json_object_get(res, "sent")) : 0;
    TT.last_failed = e == ERR_OK ? (int)json_integer_value(json_object_get(res, "failed")) : 0;
    pthread_mutex_unlock(&TT.mu);
    if (e != ERR_OK) {
        log_warn("training.timer", "reminders not sent: %s", err_message());
    } else if (TT.last_sent || TT.last_failed) {
        log_info("training.timer", "training reminders: %d sent, %d failed", TT.last_sent,
                 TT.last_failed);
    }
    json_decref(res);
    return every;
}

static void *timer_main(void *arg)
{
    server *s = arg;
    int64_t next = mono_s();
    pthread_mutex_lock(&TT.mu);
    while (!TT.stop) {
        if (mono_s() >= next) {
            pthread_mutex_unlock(&TT.mu);
            next = mono_s() + timer_run(s);
            pthread_mutex_lock(&TT.mu);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&TT.cv, &TT.mu, &ts);
    }
    pthread_mutex_unlock(&TT.mu);
    return NULL;
}

err training_timer_start(server *s)
{
    pthread_mutex_lock(&TT.mu);
    TT.s = s;
    TT.stop = false;
    TT.runs = 0;
    bool ok = pthread_create(&TT.th, NULL, timer_main, s) == 0;
    TT.started = ok;
    pthread_mutex_unlock(&TT.mu);
    ENSURE(ok, ERR_INTERNAL, "cannot start a thread");
    return ERR_OK;
}

void training_timer_stop(void)
{
    pthread_mutex_lock(&TT.mu);
    bool was = TT.started;
    TT.stop = true;
    TT.started = false;
    pthread_cond_signal(&TT.cv);
    pthread_mutex_unlock(&TT.mu);
    if (was) {
        pthread_join(TT.th, NULL);
    }
}

/* GET /v1/training/reminders: the timer's state (HR). */
static void h_timer(server *s, request *r, response *out)
{
    json_t *res = NULL;
    err e = door_training_remind_status(s->v, &r->who, &res);
    if (e != ERR_OK) {
        return done(out, e, 200, res);
    }
    pthread_mutex_lock(&TT.mu);
    json_object_set_new(res, "every_s", json_integer(TT.every_s));
    json_object_set_new(res, "runs", json_integer(TT.runs));
    json_object_set_new(res, "last_sent", json_integer(TT.last_sent));
    json_object_set_new(res, "last_failed", json_integer(TT.last_failed));
    json_object_set_new(res, "last_ok", json_boolean(TT.last_ok));
    int64_t last = TT.last_run_us;
    pthread_mutex_unlock(&TT.mu);
    char ts[40];
    if (last > 0) {
        clock_rfc3339(last, ts);
        json_object_set_new(res, "last_run_at", json_string(ts));
    } else {
        json_object_set_new(res, "last_run_at", json_null());
    }
    done(out, ERR_OK, 200, res);
}

bool handle_training(server *s, request *r, response *out)
{
    const char *u = r->url;
    if (strncmp(u, TR, sizeof TR - 1) != 0) {
        return false;
    }
    u += sizeof TR - 1;
    json_t *res = NULL, *j = NULL;
    err e;
    char head[32], arg[80];
    const char *rest = NULL, *r2 = NULL;
    if (!seg(u, head, sizeof head, &rest)) {
        response_error(out, ERR_NOT_FOUND, "no such route");
        return true;
    }
    if (strcmp(head, "courses") == 0 && !rest && req_method(r, "GET")) {
        e = door_training_courses(s->v, &r->who, req_arg(r, "lang"), &res);
        done(out, e, 200, res);
    } else if (strcmp(head, "courses") == 0 && rest) {
        h_course(s, r, out, rest);
    } else if (strcmp(head, "files") == 0 && rest) {
        h_file(s, r, out, rest);
    } else if (strcmp(head, "attempts") == 0 && rest && seg(rest, arg, sizeof arg, &r2) && r2 &&
               strcmp(r2, "submit") == 0 && req_method(r, "POST")) {
        e = req_json_body(r, &j);
        if (e == ERR_OK) {
            e = door_training_attempt_submit(s->v, &r->who, arg, json_object_get(j, "answers"),
                                             &res);
        }
        json_decref(j);
        done(out, e, 200, res);
    } else if (strcmp(head, "assignments") == 0) {
        h_assignments(s, r, out, rest);
    } else if (strcmp(head, "metrics") == 0 && !rest) {
        h_metrics(s, r, out);
    } else if (strcmp(head, "remedial") == 0) {
        h_remedial(s, r, out, rest);
    } else if ((strcmp(head, "status") == 0 || strcmp(head, "results") == 0) && !rest &&
               req_method(r, "GET")) {
        const char *who = req_arg(r, "username");
        e = head[0] == 's' ? door_training_status(s->v, &r->who, who, &res)
                           : door_training_results(s->v, &r->who, who, &res);
        done(out, e, 200, res);
    } else if (strcmp(head, "accounts") == 0 && rest && seg(rest, arg, sizeof arg, &r2) && r2 &&
               strcmp(r2, "valid-until") == 0 && req_method(r, "POST")) {
        e = req_json_body(r, &j);
        int64_t until = 0;
        if (e == ERR_OK) {
            e = time_arg(jstr(j, "valid_until"), &until);
        }
        if (e == ERR_OK) {
            e = door_training_set_valid_until(s->v, &r->who, arg, until, jstr(j, "reason"), &res);
        }
        json_decref(j);
        done(out, e, 200, res);
    } else if (strcmp(head, "reminders") == 0 && !rest && req_method(r, "GET")) {
        h_timer(s, r, out);
    } else if (strcmp(head, "reminders") == 0 && !rest && req_method(r, "POST")) {
        e = door_training_remind(s->v, &r->who, clock_now_us(), &res);
        done(out, e, 200, res);
    } else {
        response_error(out, ERR_NOT_FOUND, "no such route");
    }
    return true;
}
