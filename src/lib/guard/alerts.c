/*
 * alerts.c - the guard's records as JSON for the API: alerts (list with
 * filters, one, acknowledge, close), the violation register and the sanctions
 * in force. Status changes are audited through hooks.audit like every other
 * guard action.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "guard/guard_int.h"

static json_t *time_or_null(int64_t us)
{
    if (!us) {
        return json_null();
    }
    char t[40];
    clock_rfc3339(us, t);
    return json_string(t);
}

/* Text as a JSON string; bytes that are not UTF-8 (a name someone typed) become '?'. */
static json_t *text(const char *s)
{
    json_t *j = json_string(s);
    if (j) {
        return j;
    }
    char clean[600];
    size_t n = 0;
    for (; *s && n < sizeof clean - 1; s++) {
        unsigned char c = (unsigned char)*s;
        clean[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    clean[n] = '\0';
    return json_string(clean);
}

static json_t *str_or_null(const char *s)
{
    return s[0] ? text(s) : json_null();
}

json_t *galert_json(const gs_alert *a)
{
    json_t *o = json_object();
    json_t *rec = json_array(), *ev = json_array();
    if (!o || !rec || !ev) {
        json_decref(o);
        json_decref(rec);
        json_decref(ev);
        return NULL;
    }
    if (a->routes & ROUTE_SECURITY) {
        json_array_append_new(rec, json_string("security"));
    }
    if (a->routes & ROUTE_HR) {
        json_array_append_new(rec, json_string("hr"));
    }
    if (a->routes & ROUTE_STEWARD) {
        json_array_append_new(rec, json_string("data_steward"));
    }
    for (const char *p = a->evidence; *p;) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) {
            break;
        }
        json_array_append_new(ev, json_integer(v));
        p = *end == ',' ? end + 1 : end;
    }
    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "rule", text(a->rule));
    json_object_set_new(o, "detector", json_string(a->detector));
    json_object_set_new(o, "severity", json_string(gsev_name((gsev)a->severity)));
    json_object_set_new(o, "status", json_string(a->status));
    json_object_set_new(o, "subject", text(a->subject));
    json_object_set_new(o, "account", str_or_null(a->account));
    json_object_set_new(o, "address", str_or_null(a->address));
    json_object_set_new(o, "department", str_or_null(a->department));
    json_object_set_new(o, "recipients", rec);
    json_object_set_new(o, "count", json_integer(a->count));
    json_object_set_new(o, "first_seen", time_or_null(a->first_us));
    json_object_set_new(o, "last_seen", time_or_null(a->last_us));
    json_object_set_new(o, "evidence", ev);
    json_object_set_new(o, "detail", text(a->detail));
    json_object_set_new(o, "responses", json_string(a->responses));
    json_object_set_new(o, "acknowledged_by", str_or_null(a->ack_by));
    json_object_set_new(o, "acknowledged_at", time_or_null(a->ack_us));
    json_object_set_new(o, "closed_by", str_or_null(a->closed_by));
    json_object_set_new(o, "closed_at", time_or_null(a->closed_us));
    json_object_set_new(o, "close_reason", str_or_null(a->close_reason));
    return o;
}

typedef struct list_ctx {
    json_t *arr;
    size_t n;
    int64_t last_id;
} list_ctx;

static err alert_row(void *vctx, const gs_alert *a)
{
    list_ctx *c = vctx;
    json_t *o = galert_json(a);
    ENSURE(o != NULL, ERR_INTERNAL, "out of memory");
    json_array_append_new(c->arr, o);
    c->n++;
    c->last_id = a->id;
    return ERR_OK;
}

err guard_alerts(guard *g, const guard_alert_filter *f, json_t **out)
{
    *out = NULL;
    static const guard_alert_filter none;
    if (!f) {
        f = &none;
    }
    gs_alert_query q;
    memset(&q, 0, sizeof q);
    q.min_severity = -1;
    if (f->status) {
        ENSURE(strcmp(f->status, "open") == 0 || strcmp(f->status, "acknowledged") == 0 ||
                   strcmp(f->status, "closed") == 0,
               ERR_INPUT, "status must be open, acknowledged or closed");
        q.status = f->status;
    }
    if (f->severity) {
        gsev s;
        ENSURE(gsev_parse(f->severity, &s), ERR_INPUT,
               "severity must be low, medium, high or critical");
        q.min_severity = (int)s;
    }
    if (f->recipient) {
        q.route = strcmp(f->recipient, "security") == 0       ? ROUTE_SECURITY
                  : strcmp(f->recipient, "hr") == 0           ? ROUTE_HR
                  : strcmp(f->recipient, "data_steward") == 0 ? ROUTE_STEWARD
                                                              : 0;
        ENSURE(q.route != 0, ERR_INPUT, "recipient must be security, hr or data_steward");
    }
    ENSURE(!f->department || (f->recipient && q.route == ROUTE_STEWARD), ERR_INPUT,
           "department filters the alerts of recipient data_steward");
    q.rule = f->rule;
    q.account = f->account;
    q.department = f->department;
    q.since_us = f->since_us;
    q.before_id = f->before_id;
    q.limit = f->limit == 0 ? 100 : f->limit > 1000 ? 1000 : f->limit;
    list_ctx c = {json_array(), 0, 0};
    ENSURE(c.arr != NULL, ERR_INTERNAL, "out of memory");
    pthread_mutex_lock(&g->st_mu);
    err rc = guard_store_alerts(g->st, &q, alert_row, &c);
    pthread_mutex_unlock(&g->st_mu);
    if (rc != ERR_OK) {
        json_decref(c.arr);
        return rc;
    }
    *out = json_pack("{s:o, s:o}", "alerts", c.arr, "next",
                     c.n == q.limit ? json_integer(c.last_id) : json_null());
    ENSURE(*out != NULL, ERR_INTERNAL, "out of memory");
    return ERR_OK;
}

err guard_alert_get(guard *g, int64_t id, json_t **out)
{
    *out = NULL;
    gs_alert *a = malloc(sizeof *a);
    ENSURE(a != NULL, ERR_INTERNAL, "out of memory");
    pthread_mutex_lock(&g->st_mu);
    err rc = guard_store_alert_get(g->st, id, a);
    pthread_mutex_unlock(&g->st_mu);
    if (rc == ERR_OK) {
        *out = galert_json(a);
        rc = *out ? ERR_OK : err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
    }
    free(a);
    return rc;
}

static err status_change(guard *g, int64_t id, const char *to, const char *by, const char *reason)
{
    size_t bn = strnlen(by, G_USER_MAX + 1);
    ENSURE(bn > 0 && bn <= G_USER_MAX, ERR_INPUT, "by must name who does it");
    if (reason) {
        size_t rn = strnlen(reason, 501);
        ENSURE(rn > 0, ERR_INPUT, "closing an alert needs a reason");
        ENSURE(rn <= 500, ERR_INPUT, "the reason is longer than 500 bytes");
    }
    gs_alert *a = malloc(sizeof *a);
    ENSURE(a != NULL, ERR_INTERNAL, "out of memory");
    geffects *fx = NULL;
    err rc = geffects_new(&fx);
    if (rc != ERR_OK) {
        free(a);
        return rc;
    }
    pthread_mutex_lock(&g->st_mu);
    rc = guard_store_alert_get(g->st, id, a);
    if (rc == ERR_OK && strcmp(a->status, "closed") == 0) {
        rc = err_set(ERR_CONFLICT, __FILE__, __LINE__, "alert %lld is closed already",
                     (long long)id);
    }
    if (rc == ERR_OK && !reason && strcmp(a->status, "acknowledged") == 0) {
        rc = err_set(ERR_CONFLICT, __FILE__, __LINE__, "alert %lld is acknowledged already",
                     (long long)id);
    }
    if (rc == ERR_OK) {
        rc = guard_store_alert_status(g->st, id, to, by, reason, guard_now(g));
    }
    pthread_mutex_unlock(&g->st_mu);
    if (rc == ERR_OK) {
        char subj[32], detail[600];
        snprintf(subj, sizeof subj, "alert:%lld", (long long)id);
        snprintf(detail, sizeof detail, "by %s%s%s", by, reason ? ": " : "", reason ? reason : "");
        geffects_audit(fx, reason ? "guard.alert.close" : "guard.alert.ack", subj, a->rule, detail);
        geffects_run(g, fx);
    }
    geffects_free(fx);
    free(a);
    return rc;
}

err guard_alert_ack(guard *g, int64_t id, const char *by)
{
    return status_change(g, id, "acknowledged", by, NULL);
}

err guard_alert_close(guard *g, int64_t id, const char *by, const char *reason)
{
    return status_change(g, id, "closed", by, reason);
}

/* ---- violations ---- */

static err violation_row(void *vctx, const gs_violation *v)
{
    list_ctx *c = vctx;
    json_t *o = json_object();
    ENSURE(o != NULL, ERR_INTERNAL, "out of memory");
    json_object_set_new(o, "id", json_integer(v->id));
    json_object_set_new(o, "username", text(v->username));
    json_object_set_new(o, "time", time_or_null(v->time_us));
    json_object_set_new(o, "first", time_or_null(v->first_us));
    json_object_set_new(o, "count", json_integer(v->count));
    json_object_set_new(o, "kind", json_string(v->kind));
    json_object_set_new(o, "rule", str_or_null(v->rule));
    json_object_set_new(o, "detail", text(v->detail));
    json_object_set_new(o, "evidence", v->evidence >= 0 ? json_integer(v->evidence) : json_null());
    json_object_set_new(o, "alert", v->alert > 0 ? json_integer(v->alert) : json_null());
    json_array_append_new(c->arr, o);
    c->n++;
    return ERR_OK;
}

err guard_violations(guard *g, const char *username, int64_t since_us, size_t limit, json_t **out)
{
    *out = NULL;
    list_ctx c = {json_array(), 0, 0};
    ENSURE(c.arr != NULL, ERR_INTERNAL, "out of memory");
    pthread_mutex_lock(&g->st_mu);
    err rc = guard_store_violations(g->st, username, since_us,
                                    limit == 0      ? 100
                                    : limit > 10000 ? 10000
                                                    : limit,
                                    violation_row, &c);
    pthread_mutex_unlock(&g->st_mu);
    if (rc != ERR_OK) {
        json_decref(c.arr);
        return rc;
    }
    *out = json_pack("{s:o}", "violations", c.arr);
    ENSURE(*out != NULL, ERR_INTERNAL, "out of memory");
    return ERR_OK;
}

/* ---- sanctions ---- */

typedef struct sanc_ctx {
    json_t *arr;
    int64_t now;
} sanc_ctx;

static err sanction_row(void *vctx, const gs_sanction *x)
{
    sanc_ctx *c = vctx;
    if (x->until_us <= c->now) {
        return ERR_OK;
    }
    json_t *o = json_object();
    ENSURE(o != NULL, ERR_INTERNAL, "out of memory");
    json_object_set_new(o, "kind", json_string(x->kind));
    json_object_set_new(o, "subject", text(x->subject));
    json_object_set_new(o, "until", time_or_null(x->until_us));
    json_object_set_new(o, "rule", json_string(x->rule));
    json_object_set_new(o, "by", text(x->by));
    json_object_set_new(o, "created", time_or_null(x->created_us));
    json_array_append_new(c->arr, o);
    return ERR_OK;
}

err guard_sanctions(guard *g, json_t **out)
{
    *out = NULL;
    sanc_ctx c = {json_array(), guard_now(g)};
    ENSURE(c.arr != NULL, ERR_INTERNAL, "out of memory");
    pthread_mutex_lock(&g->st_mu);
    err rc = guard_store_sanctions(g->st, sanction_row, &c);
    pthread_mutex_unlock(&g->st_mu);
    if (rc != ERR_OK) {
        json_decref(c.arr);
        return rc;
    }
    *out = json_pack("{s:o}", "sanctions", c.arr);
    ENSURE(*out != NULL, ERR_INTERNAL, "out of memory");
    return ERR_OK;
}
