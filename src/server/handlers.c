/*
 * handlers.c - the JSON API: routing, request parsing, idempotency, and one
 * function per resource. Every customer-data route authenticates, then calls
 * exactly one door_* function; error codes map to statuses in one table
 * (err_http_status).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/etag.h"
#include "core/log.h"
#include "core/mem.h"
#include "server/console.h"
#include "server/server.h"

void response_json(response *out, int status, json_t *body)
{
    out->status = status;
    out->json = body;
}

/* What a client is told of a server-side failure: the code and a fixed text. The details
 * (a database's error text, a file name) go to the server's log only, with the request id the
 * client also has (X-Request-Id). Messages of the store and the audit log name no personal
 * value. */
static const char *server_side_text(err code)
{
    switch (code) {
    case ERR_CRYPTO:
        return "integrity check failed; the server's log has the details";
    case ERR_UNAVAILABLE:
        return "the vault cannot serve this request now (sealed, or the audit log or storage "
               "is unavailable); try again later";
    default:
        return "internal error; the server's log has the details";
    }
}

void response_error(response *out, err code, const char *message)
{
    int status = err_http_status(code);
    if (status >= 500) {
        if (code == ERR_CRYPTO) {
            log_error("request.integrity", "integrity failure: %s (%s)",
                      message && message[0] ? message : err_message(), err_where());
        } else {
            log_error("request.failed", "%s (%s)", message && message[0] ? message : err_message(),
                      err_where());
        }
        message = server_side_text(code);
    }
    json_t *e = json_object();
    json_object_set_new(e, "code", json_string(err_code_name(code)));
    json_object_set_new(e, "message",
                        json_string(message && message[0] ? message : err_code_name(code)));
    json_t *o = json_object();
    json_object_set_new(o, "error", e);
    response_json(out, status, o);
}

void response_fail(response *out, err code)
{
    response_error(out, code, err_message());
}

const char *req_arg(request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header(request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

bool req_method(request *r, const char *m)
{
    return strcmp(r->method, m) == 0;
}

err req_json_body(request *r, json_t **out)
{
    ENSURE(r->body.len > 0, ERR_INPUT, "a JSON body is required");
    ENSURE(r->body.len <= JSON_BODY_LIMIT, ERR_TOO_LARGE, "JSON body too large");
    json_error_t je;
    json_t *j = json_loadb((const char *)r->body.p, r->body.len, JSON_REJECT_DUPLICATES, &je);
    ENSURE(j != NULL, ERR_INPUT, "invalid JSON at line %d column %d", je.line, je.column);
    if (!json_is_object(j)) {
        json_decref(j);
        BAIL(ERR_INPUT, "the JSON body must be an object");
    }
    *out = j;
    return ERR_OK;
}

static size_t page_limit(request *r)
{
    const char *l = req_arg(r, "limit");
    long n = l ? strtol(l, NULL, 10) : 50;
    return n < 1 ? 1 : n > 200 ? 200 : (size_t)n;
}

/* ---- login ---- */

#define COOKIE_NAME "custos_session"

static void h_login(server *s, request *r, response *out)
{
    json_t *j = NULL;
    err e = req_json_body(r, &j);
    if (e != ERR_OK) {
        return response_fail(out, e);
    }
    login_request rq = {
        .username = json_string_value(json_object_get(j, "username")),
        .password = json_string_value(json_object_get(j, "password")),
        .otp = json_string_value(json_object_get(j, "otp")),
        .recovery = json_string_value(json_object_get(j, "recovery_code")),
        .cookie = json_is_true(json_object_get(j, "cookie")),
        .source = r->source,
        .request_id = r->request_id,
    };
    if (!rq.username || !rq.password) {
        json_decref(j);
        return response_error(out, ERR_INPUT, "username and password are required");
    }
    /* The per-account limit before any password work (names that are no account are held in
     * check by the address limit). */
    guard_decision gd;
    if (vault_guard(s->v) &&
        guard_admit_account(vault_guard(s->v), rq.username, clock_now_us(), &gd) != GUARD_ADMIT) {
        mem_wipe((void *)rq.password, strlen(rq.password));
        json_decref(j);
        buf_reset(&r->body);
        return server_refuse(out, &gd, r->retry_after, sizeof r->retry_after);
    }
    login_result res;
    e = door_login(s->v, &rq, &res);
    /* Wipe the password from the parsed body and the raw body. */
    mem_wipe((void *)rq.password, strlen(rq.password));
    json_decref(j);
    buf_reset(&r->body);
    if (e != ERR_OK) {
        if (e == ERR_AUTH && res.code_due) {
            json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", "second_factor_required",
                                  "message", "second factor required: send otp or recovery_code");
            return response_json(out, 401, o);
        }
        response_error(out, e == ERR_AUTH ? ERR_AUTH : e,
                       e == ERR_AUTH ? "invalid username or password" : err_message());
        if (e == ERR_RATE && res.retry_after_s) {
            snprintf(r->retry_after, sizeof r->retry_after, "%u", res.retry_after_s);
            out->retry_after = r->retry_after;
        }
        return;
    }
    json_t *o = json_object();
    char ts[40];
    clock_rfc3339(res.expires_us, ts);
    json_object_set_new(o, "expires_at", json_string(ts));
    if (rq.cookie) {
        /* Browsers: the token lives only in an HttpOnly cookie; scripts get the CSRF token. */
        snprintf(out->set_cookie, sizeof out->set_cookie,
                 COOKIE_NAME "=%s; Path=/; HttpOnly; Secure; SameSite=Strict", res.token);
        json_object_set_new(o, "csrf_token", json_string(res.csrf));
    } else {
        json_object_set_new(o, "token", json_string(res.token));
    }
    if (res.mfa_pending) {
        json_object_set_new(o, "second_factor", json_string(res.enrol ? "enrol" : "verify"));
    }
    mem_wipe(&res, sizeof res);
    response_json(out, 200, o);
}

/* The session token from "Cookie: custos_session=..." (browsers). */
static bool cookie_token(request *r, char *out, size_t max)
{
    const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, COOKIE_NAME);
    if (!c || strlen(c) >= max) {
        return false;
    }
    snprintf(out, max, "%s", c);
    return true;
}

static bool safe_method(request *r)
{
    return req_method(r, "GET") || req_method(r, "HEAD");
}

static err authenticate(server *s, request *r)
{
    if (r->authed) {
        return ERR_OK;
    }
    const char *h = req_header(r, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0) {
        const char *t = h + 7;
        ENSURE(strlen(t) < sizeof r->token, ERR_AUTH, "invalid or expired session");
        snprintf(r->token, sizeof r->token, "%s", t);
    } else {
        ENSURE(cookie_token(r, r->token, sizeof r->token), ERR_AUTH,
               "a bearer token or a session cookie is required");
        r->via_cookie = true;
    }
    TRY(door_authenticate(s->v, r->token, r->source, r->request_id, &r->who));
    guard_decision gd;
    if (vault_guard(s->v) && guard_admit_account(vault_guard(s->v), r->who.username, clock_now_us(),
                                                 &gd) != GUARD_ADMIT) {
        r->guard_refusal = gd;
        BAIL(gd.verdict == GUARD_BLOCK ? ERR_DENIED : ERR_RATE, "refused by the guard");
    }
    if (r->via_cookie) {
        ENSURE(!r->who.via_key, ERR_AUTH, "API keys are sent as bearer tokens");
        if (!safe_method(r)) {
            /* Cross-site requests carry the cookie but cannot know this token. */
            TRY(door_csrf_check(s->v, &r->who, r->token, req_header(r, "X-CSRF-Token")));
        }
    }
    r->authed = true;
    return ERR_OK;
}

/* ---- customers ---- */

static err record_from_body(request *r, rectype t, bool partial, record *rec, bool *clear)
{
    json_t *j = NULL;
    TRY(req_json_body(r, &j));
    err rc = ERR_OK;
    if (clear) {
        const char *k;
        json_t *val;
        json_object_foreach(j, k, val)
        {
            int idx = model_field_index(t, k, strlen(k));
            if (idx >= 0 && json_is_null(val)) {
                clear[idx] = true;
            }
        }
    }
    rc = record_from_json(j, t, partial, rec);
    json_decref(j);
    return rc;
}

static void created(response *out, const char *id)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    response_json(out, 201, o);
}

static void h_customers(server *s, request *r, response *out)
{
    if (req_method(r, "POST")) {
        record rec;
        record_init(&rec, REC_CUSTOMER);
        char id[ID_LEN + 1];
        err e = record_from_body(r, REC_CUSTOMER, false, &rec, NULL);
        if (e == ERR_OK) {
            e = door_customer_create(s->v, &r->who, &rec, id);
        }
        record_free(&rec);
        return e == ERR_OK ? created(out, id) : response_fail(out, e);
    }
    if (!req_method(r, "GET")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    static const struct {
        const char *arg;
        blind_kind k;
    } by[] = {
        {"phone", BI_PHONE}, {"email", BI_EMAIL}, {"id_number", BI_ID_NUMBER}, {"name", BI_NAME}};
    blind_kind k = BI_NONE;
    const char *term = NULL;
    for (size_t i = 0; i < sizeof by / sizeof by[0]; i++) {
        const char *a = req_arg(r, by[i].arg);
        if (a) {
            if (term) {
                return response_error(out, ERR_INPUT, "search by one field at a time");
            }
            term = a;
            k = by[i].k;
        }
    }
    json_t *res = NULL;
    err e = door_customer_search(s->v, &r->who, k, term, req_arg(r, "after"), page_limit(r), &res);
    return e == ERR_OK ? response_json(out, 200, res) : response_fail(out, e);
}

/* A customer's ETag is its row version as a strong tag: "12" (core/etag.h). */
static void set_etag(response *out, uint64_t version)
{
    _Static_assert(sizeof out->etag >= ETAG_MAX, "the response's ETag buffer is too small");
    etag_format(version, out->etag);
}

/* If-Match of a customer write: 0 (none, or "*"), a version, or ETAG_NONE (412). */
static uint64_t if_match_of(request *r)
{
    const char *h = req_header(r, "If-Match");
    return etag_if_match(h, h ? strlen(h) : 0);
}

static void h_customer(server *s, request *r, response *out, const char *id)
{
    if (req_method(r, "GET")) {
        json_t *res = NULL;
        uint64_t ver = 0;
        err e = door_customer_read(s->v, &r->who, id, &res, &ver);
        if (e == ERR_OK) {
            set_etag(out, ver);
        }
        return e == ERR_OK ? response_json(out, 200, res) : response_fail(out, e);
    }
    if (req_method(r, "PATCH")) {
        record rec;
        record_init(&rec, REC_CUSTOMER);
        bool clear[CF__COUNT] = {0};
        err e = record_from_body(r, REC_CUSTOMER, true, &rec, clear);
        char req_id[ID_LEN + 1] = "";
        if (e == ERR_OK) {
            e = door_customer_change(s->v, &r->who, id, &rec, clear, if_match_of(r), req_id, NULL);
        }
        record_free(&rec);
        if (e != ERR_OK) {
            return response_fail(out, e);
        }
        if (req_id[0]) {
            /* Not applied: a data steward decides. */
            return response_json(
                out, 202, json_pack("{s:{s:s,s:s}}", "request", "id", req_id, "status", "pending"));
        }
        json_t *res = NULL;
        uint64_t ver = 0;
        e = door_customer_read(s->v, &r->who, id, &res, &ver);
        if (e == ERR_OK) {
            set_etag(out, ver);
        }
        return e == ERR_OK ? response_json(out, 200, res) : response_fail(out, e);
    }
    if (req_method(r, "DELETE")) {
        err e = door_customer_erase_if(s->v, &r->who, id, req_arg(r, "reason"), if_match_of(r));
        if (e != ERR_OK) {
            return response_fail(out, e);
        }
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(id));
        json_object_set_new(o, "erased", json_true());
        return response_json(out, 200, o);
    }
    response_error(out, ERR_INPUT, "method not allowed");
}

static void h_records(server *s, request *r, response *out, const char *id, rectype t)
{
    if (req_method(r, "POST")) {
        record rec;
        record_init(&rec, t);
        char rid[ID_LEN + 1];
        err e = record_from_body(r, t, false, &rec, NULL);
        if (e == ERR_OK) {
            e = door_record_create(s->v, &r->who, t, id, &rec, rid);
        }
        record_free(&rec);
        return e == ERR_OK ? created(out, rid) : response_fail(out, e);
    }
    if (req_method(r, "GET")) {
        json_t *res = NULL;
        err e = door_record_list(s->v, &r->who, t, id, req_arg(r, "after"), page_limit(r), &res);
        return e == ERR_OK ? response_json(out, 200, res) : response_fail(out, e);
    }
    response_error(out, ERR_INPUT, "method not allowed");
}

static void h_rotate_key(server *s, request *r, response *out, const char *id)
{
    if (!req_method(r, "POST")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    uint64_t ver = 0;
    err e = door_customer_rotate_key_if(s->v, &r->who, id, if_match_of(r), &ver);
    if (e != ERR_OK) {
        return response_fail(out, e);
    }
    set_etag(out, ver);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "rotated", json_true());
    response_json(out, 200, o);
}

/* ---- import / export ---- */

static void charset_of(const char *ctype, char *out, size_t max)
{
    out[0] = '\0';
    const char *c = ctype ? strcasestr(ctype, "charset=") : NULL;
    if (!c) {
        return;
    }
    c += 8;
    size_t i = 0;
    while (c[i] && c[i] != ';' && c[i] != ' ' && c[i] != '"' && i + 1 < max) {
        out[i] = c[i];
        i++;
    }
    out[i] = '\0';
}

static void h_import(server *s, request *r, response *out)
{
    if (!req_method(r, "POST")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    const char *ct = req_header(r, "Content-Type");
    import_format fmt;
    if (ct && strncasecmp(ct, "text/csv", 8) == 0) {
        fmt = IMPORT_CSV;
    } else if (ct && (strncasecmp(ct, "application/json", 16) == 0 ||
                      strncasecmp(ct, "application/x-ndjson", 20) == 0 ||
                      strncasecmp(ct, "application/jsonl", 17) == 0)) {
        fmt = IMPORT_JSON;
    } else {
        return response_error(out, ERR_INPUT,
                              "Content-Type must be text/csv or application/json (with an "
                              "optional charset=gb18030)");
    }
    char cs[32];
    charset_of(ct, cs, sizeof cs);
    const char *dry = req_arg(r, "dry_run");
    bool dry_run = dry && (strcmp(dry, "1") == 0 || strcmp(dry, "true") == 0);
    buf utf8;
    buf_init(&utf8, BODY_LIMIT * 2);
    import_batch b;
    memset(&b, 0, sizeof b);
    json_t *rep = NULL;
    err e = charset_to_utf8(cs[0] ? cs : NULL, buf_slice(&r->body), &utf8);
    buf_reset(&r->body);
    if (e == ERR_OK) {
        e = import_parse(buf_slice(&utf8), fmt, &b);
    }
    buf_free(&utf8);
    if (e == ERR_OK) {
        e = door_import(s->v, &r->who, &b, dry_run, &rep);
    }
    import_batch_free(&b);
    if (rep) {
        if (e == ERR_INPUT) {
            json_t *eo = json_object();
            json_object_set_new(eo, "code", json_string(err_code_name(e)));
            json_object_set_new(eo, "message", json_string(err_message()));
            json_object_set_new(rep, "error", eo);
            return response_json(out, 422, rep);
        }
        if (e == ERR_OK) {
            return response_json(out, dry_run ? 200 : 201, rep);
        }
        json_decref(rep);
    }
    response_fail(out, e);
}

typedef struct export_stream {
    door_export *x;
    buf chunk;
    size_t pos;
    bool failed;
} export_stream;

static ssize_t export_read(void *cls, uint64_t pos, char *dst, size_t max)
{
    export_stream *es = cls;
    if (es->pos >= es->chunk.len) {
        es->pos = 0;
        if (door_export_next(es->x, &es->chunk) != ERR_OK) {
            log_error("export.failed", "export stopped: %s", err_message());
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (es->chunk.len == 0) {
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
    }
    size_t n = es->chunk.len - es->pos;
    if (n > max) {
        n = max;
    }
    memcpy(dst, es->chunk.p + es->pos, n);
    es->pos += n;
    return (ssize_t)n;
}

static void export_free(void *cls)
{
    export_stream *es = cls;
    door_export_close(es->x);
    buf_free(&es->chunk);
    free(es);
}

static void h_export(server *s, request *r, response *out)
{
    if (!req_method(r, "GET")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    const char *f = req_arg(r, "format");
    export_format fmt = (f && strcmp(f, "jsonl") == 0) ? EXPORT_JSONL : EXPORT_CSV;
    if (f && strcmp(f, "jsonl") != 0 && strcmp(f, "csv") != 0) {
        return response_error(out, ERR_INPUT, "format must be csv or jsonl");
    }
    export_stream *es = calloc(1, sizeof *es);
    if (!es) {
        return response_error(out, ERR_INTERNAL, "out of memory");
    }
    buf_init(&es->chunk, 1 << 24);
    err e = door_export_open(s->v, &r->who, fmt, req_arg(r, "request"), &es->x);
    if (e != ERR_OK) {
        buf_free(&es->chunk);
        free(es);
        return response_fail(out, e);
    }
    out->raw = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, export_read, es,
                                                 export_free);
    if (!out->raw) {
        export_free(es);
        return response_error(out, ERR_INTERNAL, "out of memory");
    }
    MHD_add_response_header(out->raw, "Content-Type",
                            fmt == EXPORT_CSV ? "text/csv; charset=utf-8"
                                              : "application/x-ndjson; charset=utf-8");
    MHD_add_response_header(out->raw, "X-Custos-Export-Mark", door_export_mark(es->x));
    MHD_add_response_header(out->raw, "Content-Disposition",
                            fmt == EXPORT_CSV ? "attachment; filename=\"customers.csv\""
                                              : "attachment; filename=\"customers.jsonl\"");
    out->status = 200;
}

/* ---- health and metrics ---- */

/* Liveness: the process answers. 200 whatever the vault's state (a load balancer that
 * restarted a server for a locked audit log would only make things worse); readiness is
 * /readyz. */
static void h_health(server *s, request *r, response *out)
{
    json_t *o = json_object();
    door_stats st;
    door_stats_get(s->v, false, &st);
    json_object_set_new(o, "status", json_string("ok"));
    json_object_set_new(o, "ready", json_boolean(atomic_load(&s->ready)));
    json_object_set_new(o, "audit_entries", json_integer((json_int_t)st.audit_entries));
    json_object_set_new(o, "sealed", json_boolean(door_sealed(s->v)));
    json_object_set_new(o, "guard",
                        json_string(!vault_guard(s->v)                 ? "off"
                                    : guard_healthy(vault_guard(s->v)) ? "ok"
                                                                       : "degraded"));
    response_json(out, 200, o);
}

/* Readiness: 503 while requests would be refused because the audit log cannot be written or
 * the disk is too full for its write-ahead logs (the reasons are in the log, the metrics and
 * a guard alert, not in this unauthenticated answer). */
static void h_ready(server *s, request *r, response *out)
{
    bool ok = atomic_load(&s->ready);
    response_json(out, ok ? 200 : 503, json_pack("{s:s}", "status", ok ? "ready" : "not_ready"));
}

static void h_metrics(server *s, request *r, response *out)
{
    buf b;
    buf_init(&b, 1 << 16);
    metrics *m = &s->m;
    err e = buf_append_str(&b, "# HELP custos_requests_total HTTP requests answered, by class.\n"
                               "# TYPE custos_requests_total counter\n");
    for (int c = 1; c <= 5 && e == ERR_OK; c++) {
        e = buf_appendf(&b, "custos_requests_total{class=\"%dxx\"} %llu\n", c,
                        (unsigned long long)atomic_load(&m->requests[c]));
    }
    door_stats st;
    door_stats_get(s->v, true, &st);
    uint64_t audit_n = st.audit_entries;
    int64_t customers = st.customers;
    if (e == ERR_OK) {
        e = buf_appendf(
            &b,
            "# HELP custos_request_duration_seconds_sum Time spent answering requests.\n"
            "# TYPE custos_request_duration_seconds_sum counter\n"
            "custos_request_duration_seconds_sum %.6f\n"
            "# HELP custos_denied_total Requests refused by policy (403).\n"
            "# TYPE custos_denied_total counter\ncustos_denied_total %llu\n"
            "# HELP custos_unavailable_total Requests refused because the audit log or vault "
            "could not serve (503).\n"
            "# TYPE custos_unavailable_total counter\ncustos_unavailable_total %llu\n"
            "# HELP custos_inflight_requests Requests being answered now.\n"
            "# TYPE custos_inflight_requests gauge\ncustos_inflight_requests %llu\n"
            "# HELP custos_audit_entries Entries in the audit log.\n"
            "# TYPE custos_audit_entries gauge\ncustos_audit_entries %llu\n"
            "# HELP custos_customers Live customers in the vault.\n"
            "# TYPE custos_customers gauge\ncustos_customers %lld\n"
            "# HELP custos_uptime_seconds Seconds since the server started.\n"
            "# TYPE custos_uptime_seconds gauge\ncustos_uptime_seconds %.0f\n",
            (double)atomic_load(&m->duration_us) / 1e6, (unsigned long long)atomic_load(&m->denied),
            (unsigned long long)atomic_load(&m->audit_failures),
            (unsigned long long)atomic_load(&m->inflight), (unsigned long long)audit_n,
            (long long)customers, (double)(clock_now_us() - s->started_us) / 1e6);
    }
    if (e == ERR_OK) {
        e = buf_appendf(
            &b,
            "# HELP custos_guard_refused_connections_total Connections dropped at accept by the "
            "guard.\n# TYPE custos_guard_refused_connections_total counter\n"
            "custos_guard_refused_connections_total %llu\n"
            "# HELP custos_guard_refused_requests_total Requests refused (403/429) by the guard's "
            "admission.\n# TYPE custos_guard_refused_requests_total counter\n"
            "custos_guard_refused_requests_total %llu\n"
            "# HELP custos_sealed 1 while the vault is sealed.\n# TYPE custos_sealed gauge\n"
            "custos_sealed %d\n",
            (unsigned long long)atomic_load(&m->refused_connections),
            (unsigned long long)atomic_load(&m->refused_requests), door_sealed(s->v) ? 1 : 0);
    }
    if (e == ERR_OK) {
        pthread_mutex_lock(&s->ct.mu);
        unsigned open = s->ct.open, active = s->ct.active;
        pthread_mutex_unlock(&s->ct.mu);
        e = buf_appendf(
            &b,
            "# HELP custos_ready 1 while the vault can serve: the audit log can be written and "
            "free space covers the write-ahead logs (/readyz).\n# TYPE custos_ready gauge\n"
            "custos_ready %d\n"
            "# HELP custos_ready_audit_writable 1 while the audit log's write lock can be taken.\n"
            "# TYPE custos_ready_audit_writable gauge\ncustos_ready_audit_writable %d\n"
            "# HELP custos_ready_disk 1 while free space is at least server.min_free_mb.\n"
            "# TYPE custos_ready_disk gauge\ncustos_ready_disk %d\n"
            "# HELP custos_disk_free_bytes Free space on the vault's file system.\n"
            "# TYPE custos_disk_free_bytes gauge\ncustos_disk_free_bytes %llu\n"
            "# HELP custos_not_ready_total Times the vault became not ready.\n"
            "# TYPE custos_not_ready_total counter\ncustos_not_ready_total %llu\n"
            "# HELP custos_connections_open Connections open on the HTTPS listener.\n"
            "# TYPE custos_connections_open gauge\ncustos_connections_open %u\n"
            "# HELP custos_connections_active Connections with a request in progress.\n"
            "# TYPE custos_connections_active gauge\ncustos_connections_active %u\n"
            "# HELP custos_connections_shed_total Idle connections closed to make room near the "
            "connection limit.\n# TYPE custos_connections_shed_total counter\n"
            "custos_connections_shed_total %llu\n"
            "# HELP custos_connections_expired_total Connections closed after waiting too long "
            "for a request (TLS handshake and headers, or keep-alive).\n"
            "# TYPE custos_connections_expired_total counter\n"
            "custos_connections_expired_total %llu\n"
            "# HELP custos_connections_limit_total Connections refused at the connection limit.\n"
            "# TYPE custos_connections_limit_total counter\ncustos_connections_limit_total %llu\n",
            atomic_load(&s->ready) ? 1 : 0, atomic_load(&s->ready_audit) ? 1 : 0,
            atomic_load(&s->ready_disk) ? 1 : 0, (unsigned long long)atomic_load(&s->free_bytes),
            (unsigned long long)atomic_load(&m->not_ready_total), open, active,
            (unsigned long long)atomic_load(&m->shed_connections),
            (unsigned long long)atomic_load(&m->expired_connections),
            (unsigned long long)atomic_load(&m->limit_connections));
    }
    if (e == ERR_OK && vault_guard(s->v)) {
        e = guard_metrics(vault_guard(s->v), &b);
    }
    if (e != ERR_OK) {
        buf_free(&b);
        return response_fail(out, e);
    }
    out->raw = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_COPY);
    buf_free(&b);
    MHD_add_response_header(out->raw, "Content-Type", "text/plain; version=0.0.4");
    out->status = 200;
}

/* /metrics on the HTTPS listener: only with the metrics token configured (custos.json
 * server.metrics_token_sha256), as a bearer token; otherwise there is no such route here (the
 * metrics listener serves it on loopback). */
static void metrics_public(server *s, request *r, response *out)
{
    if (!door_metrics_token_set(s->v)) {
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    const char *h = req_header(r, "Authorization");
    bool ok = h && strncasecmp(h, "Bearer ", 7) == 0 && door_metrics_token_ok(s->v, h + 7);
    if (!ok) {
        return response_error(out, ERR_AUTH, "a metrics bearer token is required");
    }
    h_metrics(s, r, out);
}

void handle_probe(server *s, request *r, response *out)
{
    if (!req_method(r, "GET") && !req_method(r, "HEAD")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    if (strcmp(r->url, "/metrics") == 0) {
        return h_metrics(s, r, out);
    }
    if (strcmp(r->url, "/healthz") == 0) {
        return h_health(s, r, out);
    }
    if (strcmp(r->url, "/readyz") == 0) {
        return h_ready(s, r, out);
    }
    response_error(out, ERR_NOT_FOUND, "no such route");
}

/* ---- idempotency ---- */

/* Idempotency is offered where a retry must not do the work twice and where neither the
 * request nor the answer carries a secret: customer data writes, imports, requests and
 * exports. Routes that carry a password or passphrase (login, /v1/me/..., accounts,
 * vault unseal) or hand out a secret (API keys, TOTP enrolment, recovery codes) refuse the
 * header, so nothing derived from their bodies or answers is ever kept. */
static bool idem_route(const char *u)
{
    static const char *const prefixes[] = {"/v1/customers", "/v1/import", "/v1/requests",
                                           "/v1/exports"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(u, prefixes[i], n) == 0 && (u[n] == '\0' || u[n] == '/' || u[n] == '?')) {
            return true;
        }
    }
    return false;
}

/* ---- routing ---- */

/* The answer when authentication failed. A session the vault could not look up is not a bad
 * token: a 401 then would make clients drop good sessions whenever the disk fails. */
static void auth_failed(response *out, err e)
{
    if (e == ERR_UNAVAILABLE || e == ERR_IO || e == ERR_INTERNAL) {
        return response_error(out, e, "the vault cannot serve now; try again later");
    }
    return e == ERR_DENIED ? response_fail(out, e)
                           : response_error(out, ERR_AUTH, "invalid or expired session");
}

static void route(server *s, request *r, response *out)
{
    const char *u = r->url;
    if (strcmp(u, "/healthz") == 0) {
        return h_health(s, r, out);
    }
    if (strcmp(u, "/readyz") == 0) {
        return h_ready(s, r, out);
    }
    if (strcmp(u, "/metrics") == 0) {
        return metrics_public(s, r, out);
    }
    if (strcmp(u, "/v1/login") == 0) {
        return req_method(r, "POST") ? h_login(s, r, out)
                                     : response_error(out, ERR_INPUT, "method not allowed");
    }
    if (strcmp(u, "/v1/handover") == 0) {
        return handle_handover(s, r, out);
    }
    if (console_route(r, out) || handle_phish_track(s, r, out)) {
        return;
    }
    if (strncmp(u, "/v1/", 4) != 0) {
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    err e = authenticate(s, r);
    if (e != ERR_OK) {
        if (r->guard_refusal.verdict != GUARD_ADMIT) {
            return server_refuse(out, &r->guard_refusal, r->retry_after, sizeof r->retry_after);
        }
        return auth_failed(out, e);
    }
    if ((r->who.session_flags & SESSION_MFA_PENDING) && strcmp(u, "/v1/logout") != 0 &&
        strcmp(u, "/v1/me") != 0 && strncmp(u, "/v1/me/totp/", 12) != 0) {
        return response_json(out, 401,
                             json_pack("{s:{s:s,s:s}}", "error", "code", "second_factor_required",
                                       "message",
                                       "complete the second factor first (/v1/me/totp/...)"));
    }
    if (handle_console(s, r, out) || handle_access(s, r, out) || handle_guard(s, r, out) ||
        handle_watch(s, r, out) || handle_training(s, r, out) || handle_phish(s, r, out)) {
        return;
    }
    if (strcmp(u, "/v1/logout") == 0) {
        e = door_logout(s->v, &r->who, r->token);
        if (e == ERR_OK && r->via_cookie) {
            snprintf(out->set_cookie, sizeof out->set_cookie,
                     COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
        }
        return e == ERR_OK ? response_json(out, 200, json_pack("{s:b}", "logged_out", 1))
                           : response_fail(out, e);
    }
    if (strcmp(u, "/v1/customers") == 0) {
        return h_customers(s, r, out);
    }
    if (strcmp(u, "/v1/import") == 0) {
        return h_import(s, r, out);
    }
    if (strncmp(u, "/v1/audit/", 10) == 0) {
        return handle_audit(s, r, out, u + 10);
    }
    if (strcmp(u, "/v1/export") == 0) {
        return h_export(s, r, out);
    }
    if (strncmp(u, "/v1/customers/", 14) == 0) {
        const char *id = u + 14;
        const char *slash = strchr(id, '/');
        char cid[ID_LEN + 1];
        size_t n = slash ? (size_t)(slash - id) : strlen(id);
        if (n == 0 || n > ID_LEN) {
            return response_error(out, ERR_NOT_FOUND, "no such customer");
        }
        memcpy(cid, id, n);
        cid[n] = '\0';
        if (!slash) {
            return h_customer(s, r, out, cid);
        }
        if (strcmp(slash, "/transactions") == 0) {
            return h_records(s, r, out, cid, REC_TRANSACTION);
        }
        if (strcmp(slash, "/communications") == 0) {
            return h_records(s, r, out, cid, REC_COMMUNICATION);
        }
        if (strcmp(slash, "/rotate-key") == 0) {
            return h_rotate_key(s, r, out, cid);
        }
    }
    response_error(out, ERR_NOT_FOUND, "no such route");
}

/* Idempotent POSTs wrap route(): a retry with the same key and body gets the first answer. */
void handle_request(server *s, request *r, response *out)
{
    const char *key = req_header(r, "Idempotency-Key");
    if (!key || !req_method(r, "POST")) {
        return route(s, r, out);
    }
    if (!idem_route(r->url)) {
        buf_reset(&r->body);
        return response_error(out, ERR_INPUT,
                              "Idempotency-Key is not accepted on this route (it carries or "
                              "returns a secret); send the request without it");
    }
    if (strlen(key) == 0 || strlen(key) > 128) {
        return response_error(out, ERR_INPUT, "Idempotency-Key must be 1 to 128 characters");
    }
    err ae = authenticate(s, r);
    if (ae != ERR_OK && r->guard_refusal.verdict != GUARD_ADMIT) {
        return server_refuse(out, &r->guard_refusal, r->retry_after, sizeof r->retry_after);
    }
    if (ae != ERR_OK) {
        return auth_failed(out, ae);
    }
    door_idem t;
    int status = 0;
    json_t *replay = NULL;
    err e = door_idem_begin(s->v, &r->who, key, r->method, r->url, buf_slice(&r->body), &t, &status,
                            &replay);
    if (e != ERR_OK) {
        return response_fail(out, e);
    }
    if (replay) {
        return response_json(out, status, replay);
    }
    route(s, r, out);
    door_idem_end(s->v, &t, out->status, out->raw ? NULL : out->json);
}
