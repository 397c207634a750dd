/*
 * handlers_guard.c - the guard's API: alerts (list, acknowledge, close), the
 * violation register, sanctions (blocks, throttles, locks) and the operator's
 * block, unblock, unthrottle and unlock. Each route calls one door function,
 * which authorizes and audits.
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "server/server.h"

static void done(response *out, err e, json_t *j)
{
    if (e != ERR_OK) {
        json_decref(j);
        return response_fail(out, e);
    }
    response_json(out, 200, j ? j : json_object());
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void h_alerts(server *s, request *r, response *out)
{
    if (!req_method(r, "GET")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    door_alert_query q = {.status = req_arg(r, "status"),
                          .severity = req_arg(r, "severity"),
                          .rule = req_arg(r, "rule"),
                          .account = req_arg(r, "account")};
    const char *since = req_arg(r, "since"), *before = req_arg(r, "before"),
               *limit = req_arg(r, "limit");
    if (since && clock_parse_rfc3339(since, &q.since_us) != ERR_OK) {
        return response_error(out, ERR_INPUT, "since must be an RFC 3339 time");
    }
    q.before_id = before ? strtoll(before, NULL, 10) : 0;
    q.limit = limit ? (size_t)strtoul(limit, NULL, 10) : 0;
    json_t *res = NULL;
    err e = door_alerts(s->v, &r->who, &q, &res);
    done(out, e, res);
}

static void h_alert(server *s, request *r, response *out, const char *rest)
{
    char *end = NULL;
    long long id = strtoll(rest, &end, 10);
    if (!end || end == rest || !req_method(r, "POST") ||
        (strcmp(end, "/ack") != 0 && strcmp(end, "/close") != 0)) {
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    bool close = strcmp(end, "/close") == 0;
    json_t *j = NULL;
    if (r->body.len) {
        err e = req_json_body(r, &j);
        if (e != ERR_OK) {
            return response_fail(out, e);
        }
    }
    err e = door_alert_decide(s->v, &r->who, id, close, jstr(j, "reason"));
    json_decref(j);
    done(out, e,
         e == ERR_OK ? json_pack("{s:I,s:s}", "id", (json_int_t)id, "status",
                                 close ? "closed" : "acknowledged")
                     : NULL);
}

static void h_guard(server *s, request *r, response *out, const char *what)
{
    json_t *res = NULL, *j = NULL;
    if (strcmp(what, "sanctions") == 0 && req_method(r, "GET")) {
        err e = door_guard_sanctions(s->v, &r->who, &res);
        return done(out, e, res);
    }
    if (!req_method(r, "POST")) {
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    err e = req_json_body(r, &j);
    if (e != ERR_OK) {
        return response_fail(out, e);
    }
    const char *subject = jstr(j, "address") ? jstr(j, "address") : jstr(j, "account");
    char act[40];
    if (strcmp(what, "unthrottle") == 0) {
        snprintf(act, sizeof act, "unthrottle-%s", jstr(j, "address") ? "address" : "account");
    } else {
        snprintf(act, sizeof act, "%s", what);
    }
    json_t *sec = json_object_get(j, "seconds");
    e = door_guard_act(
        s->v, &r->who, act,
        jstr(j, "account") && strcmp(what, "unlock") == 0 ? jstr(j, "account") : subject,
        json_is_integer(sec) ? (int64_t)json_integer_value(sec) : 0, jstr(j, "reason"));
    json_decref(j);
    done(out, e, e == ERR_OK ? json_pack("{s:b}", "done", 1) : NULL);
}

bool handle_guard(server *s, request *r, response *out)
{
    const char *u = r->url;
    if (strcmp(u, "/v1/alerts") == 0) {
        h_alerts(s, r, out);
        return true;
    }
    if (strncmp(u, "/v1/alerts/", 11) == 0) {
        h_alert(s, r, out, u + 11);
        return true;
    }
    if (strcmp(u, "/v1/violations") == 0) {
        json_t *res = NULL;
        err e = req_method(r, "GET") ? door_violations(s->v, &r->who, req_arg(r, "username"), &res)
                                     : err_set(ERR_INPUT, __FILE__, __LINE__, "method not allowed");
        done(out, e, res);
        return true;
    }
    if (strncmp(u, "/v1/guard/", 10) == 0) {
        h_guard(s, r, out, u + 10);
        return true;
    }
    return false;
}
