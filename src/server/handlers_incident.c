/*
 * handlers_incident.c - /v1/incidents/...: incidents, their tasks, phases, owners, notes,
 * closing, one-click containment, the breach scope, the evidence bundle and the regulator
 * reports filed. Each route parses HTTP and JSON and calls one door function
 * (door_incident.h), which authorizes and audits. docs/API.md, "Incidents".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "door/door_incident.h"
#include "server/server.h"

#define INC "/v1/incidents"

static void done(response *out, err e, int status, json_t *j)
{
    if (e != ERR_OK) {
        json_decref(j);
        return response_fail(out, e);
    }
    response_json(out, status, j ? j : json_object());
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

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
    if (!r->body.len) {
        *j = json_object();
        return *j ? ERR_OK : ERR_INTERNAL;
    }
    return req_json_body(r, j);
}

static err time_of(const json_t *v, int64_t *out)
{
    *out = 0;
    if (!v || json_is_null(v)) {
        return ERR_OK;
    }
    ENSURE(json_is_string(v), ERR_INPUT, "times are RFC 3339 strings");
    return clock_parse_rfc3339(json_string_value(v), out);
}

static void h_collection(server *s, request *r, response *out)
{
    json_t *res = NULL, *j = NULL;
    err e;
    if (req_method(r, "GET")) {
        const char *d = req_arg(r, "drill");
        e = d && strcmp(d, "1") != 0 && strcmp(d, "0") != 0
                ? err_set(ERR_INPUT, __FILE__, __LINE__, "drill is 0 or 1")
                : door_incidents_list(s->v, &r->who, req_arg(r, "state"), d && strcmp(d, "1") == 0,
                                      &res);
        return done(out, e, 200, res);
    }
    if (!req_method(r, "POST")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    e = req_json_body(r, &j);
    door_incident_open_opts o = {0};
    if (e == ERR_OK) {
        o.playbook = jstr(j, "playbook");
        o.severity = jstr(j, "severity");
        o.note = jstr(j, "note");
        o.critical_infrastructure = json_is_true(json_object_get(j, "critical_infrastructure"));
        o.eu_people = json_is_true(json_object_get(j, "eu_people"));
        e = time_of(json_object_get(j, "aware_at"), &o.aware_us);
        json_t *al = json_object_get(j, "alert");
        if (e == ERR_OK && al && !json_is_null(al)) {
            if (json_is_integer(al) && json_integer_value(al) > 0) {
                o.alert = json_integer_value(al);
            } else if (json_is_string(al) && atoll(json_string_value(al)) > 0) {
                o.alert = atoll(json_string_value(al));
            } else {
                e = err_set(ERR_INPUT, __FILE__, __LINE__, "alert is an alert id");
            }
        }
        if (e == ERR_OK && !o.playbook) {
            e = err_set(ERR_INPUT, __FILE__, __LINE__, "playbook is required");
        }
    }
    if (e == ERR_OK) {
        e = door_incident_open(s->v, &r->who, &o, &res);
    }
    json_decref(j);
    done(out, e, 201, res);
}

static size_t str_list(const json_t *arr, const char **out, size_t max, err *e)
{
    size_t n = 0;
    if (!arr || json_is_null(arr)) {
        return 0;
    }
    if (!json_is_array(arr) || json_array_size(arr) > max) {
        *e = err_set(ERR_INPUT, __FILE__, __LINE__, "lists of at most %zu strings", max);
        return 0;
    }
    const json_t *v;
    size_t i;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 120) {
            *e = err_set(ERR_INPUT, __FILE__, __LINE__, "lists of non-empty short strings");
            return 0;
        }
        out[n++] = json_string_value(v);
    }
    return n;
}

static void h_scope(server *s, request *r, response *out, const char *id)
{
    json_t *res = NULL, *j = NULL;
    err e;
    if (req_method(r, "GET")) {
        e = door_incident_scope(s->v, &r->who, id, &res);
        return done(out, e, 200, res);
    }
    if (!req_method(r, "POST")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    e = body_json(r, &j);
    door_scope_query q;
    memset(&q, 0, sizeof q);
    if (e == ERR_OK) {
        q.nactors = str_list(json_object_get(j, "actors"), q.actors, 16, &e);
    }
    if (e == ERR_OK) {
        q.napi_keys = str_list(json_object_get(j, "api_keys"), q.api_keys, 16, &e);
    }
    if (e == ERR_OK) {
        q.naddresses = str_list(json_object_get(j, "addresses"), q.addresses, 16, &e);
    }
    const json_t *w = json_object_get(j, "windows");
    if (e == ERR_OK && w && !json_is_null(w)) {
        if (!json_is_array(w) || json_array_size(w) > 16) {
            e = err_set(ERR_INPUT, __FILE__, __LINE__, "windows: at most 16 {from,to}");
        }
        const json_t *x;
        size_t i;
        json_array_foreach(w, i, x)
        {
            if (e == ERR_OK) {
                e = time_of(json_object_get(x, "from"), &q.from_us[i]);
            }
            if (e == ERR_OK) {
                e = time_of(json_object_get(x, "to"), &q.to_us[i]);
            }
            if (e == ERR_OK && q.to_us[i] && q.to_us[i] < q.from_us[i]) {
                e = err_set(ERR_INPUT, __FILE__, __LINE__, "a window ends before it begins");
            }
        }
        q.nwindows = json_array_size(w);
    }
    if (e == ERR_OK) {
        e = door_incident_scope_compute(s->v, &r->who, id, &q, &res);
    }
    json_decref(j);
    done(out, e, 200, res);
}

static void h_evidence(server *s, request *r, response *out, const char *id)
{
    if (!req_method(r, "POST")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    json_t *j = NULL;
    err e = body_json(r, &j);
    buf b;
    buf_init(&b, (size_t)64 << 20);
    if (e == ERR_OK) {
        e = door_incident_evidence(s->v, &r->who, id, jstr(j, "reason"), &b);
    }
    json_decref(j);
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
    snprintf(disp, sizeof disp, "attachment; filename=\"evidence-%s.json\"", id);
    MHD_add_response_header(out->raw, "Content-Type", "application/json");
    MHD_add_response_header(out->raw, "Content-Disposition", disp);
    out->status = 200;
}

/* GET .../report and .../evidence/index: a document in a language and a format. */
static void h_document(server *s, request *r, response *out, const char *id, bool index)
{
    if (!req_method(r, "GET")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    buf b;
    buf_init(&b, (size_t)32 << 20);
    const char *type = NULL;
    char filename[160] = "";
    err e = index
                ? door_incident_evidence_index(s->v, &r->who, id, req_arg(r, "lang"),
                                               req_arg(r, "format"), &b, &type, filename,
                                               sizeof filename)
                : door_incident_report(s->v, &r->who, id, req_arg(r, "lang"), req_arg(r, "format"),
                                       &b, &type, filename, sizeof filename);
    if (e != ERR_OK) {
        buf_free(&b);
        return response_fail(out, e);
    }
    out->raw = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_COPY);
    buf_free(&b);
    if (!out->raw) {
        return response_error(out, ERR_INTERNAL, "out of memory");
    }
    char disp[220];
    snprintf(disp, sizeof disp, "%s; filename=\"%s\"",
             strcmp(type, "application/pdf") == 0 ? "attachment" : "inline", filename);
    MHD_add_response_header(out->raw, "Content-Type", type);
    MHD_add_response_header(out->raw, "Content-Disposition", disp);
    /* a document runs nothing, even opened on its own */
    MHD_add_response_header(out->raw, "Content-Security-Policy", "default-src 'none'; sandbox");
    MHD_add_response_header(out->raw, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(out->raw, "Cache-Control", "no-store");
    out->status = 200;
}

/* /v1/incidents/{id}/<sub>[/...] */
static void h_incident(server *s, request *r, response *out, const char *rest)
{
    char id[48], sub[24], task[64];
    const char *r2 = NULL, *r3 = NULL;
    json_t *res = NULL, *j = NULL;
    err e;
    if (!seg(rest, id, sizeof id, &r2)) {
        return response_error(out, ERR_NOT_FOUND, "no such incident");
    }
    if (!r2) {
        if (!req_method(r, "GET")) {
            return response_error(out, ERR_INPUT, "method not allowed");
        }
        e = door_incident_get(s->v, &r->who, id, &res);
        return done(out, e, 200, res);
    }
    if (!seg(r2, sub, sizeof sub, &r3)) {
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    if (strcmp(sub, "scope") == 0 && !r3) {
        return h_scope(s, r, out, id);
    }
    if (strcmp(sub, "evidence") == 0 && !r3) {
        return h_evidence(s, r, out, id);
    }
    if (strcmp(sub, "evidence") == 0 && strcmp(r3, "index") == 0) {
        return h_document(s, r, out, id, true);
    }
    if (strcmp(sub, "report") == 0 && !r3) {
        return h_document(s, r, out, id, false);
    }
    if (!req_method(r, "POST")) {
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    if (strcmp(sub, "tasks") == 0 && r3) {
        const char *r4 = NULL;
        if (!seg(r3, task, sizeof task, &r4) || !r4 ||
            (strcmp(r4, "start") != 0 && strcmp(r4, "done") != 0)) {
            return response_error(out, ERR_NOT_FOUND, "no such route");
        }
        e = body_json(r, &j);
        if (e == ERR_OK) {
            e = door_incident_task(s->v, &r->who, id, task, r4[0] == 'd', jstr(j, "note"), &res);
        }
        json_decref(j);
        return done(out, e, 200, res);
    }
    if (r3) {
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    e = body_json(r, &j);
    if (e != ERR_OK) {
        return done(out, e, 200, NULL);
    }
    if (strcmp(sub, "phase") == 0) {
        e = door_incident_phase(s->v, &r->who, id, jstr(j, "phase"), &res);
    } else if (strcmp(sub, "owner") == 0) {
        e = door_incident_owner(s->v, &r->who, id, jstr(j, "owner"), &res);
    } else if (strcmp(sub, "notes") == 0) {
        e = door_incident_note(s->v, &r->who, id, jstr(j, "note"), &res);
    } else if (strcmp(sub, "close") == 0) {
        e = door_incident_close(s->v, &r->who, id, jstr(j, "closing"), &res);
    } else if (strcmp(sub, "actions") == 0) {
        e = door_incident_action(s->v, &r->who, id, jstr(j, "task"), jstr(j, "action"),
                                 jstr(j, "target"), &res);
    } else if (strcmp(sub, "filed") == 0) {
        e = door_incident_filed(s->v, &r->who, id, jstr(j, "report"), &res);
    } else {
        json_decref(j);
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    json_decref(j);
    done(out, e, 200, res);
}

bool handle_incident(server *s, request *r, response *out)
{
    const char *u = r->url;
    if (strncmp(u, INC, sizeof INC - 1) != 0 ||
        (u[sizeof INC - 1] != '\0' && u[sizeof INC - 1] != '/')) {
        return false;
    }
    u += sizeof INC - 1;
    if (*u == '/') {
        /* Routes under an incident that are not these belong to other handlers (documents,
         * notices): leave them. */
        static const char *const mine[] = {"scope", "evidence", "tasks",   "phase", "owner",
                                           "notes", "close",    "actions", "filed", "report"};
        const char *sub = strchr(u + 1, '/');
        bool known = sub == NULL;
        for (size_t i = 0; sub && i < sizeof mine / sizeof mine[0]; i++) {
            size_t n = strlen(mine[i]);
            known = known || (strncmp(sub + 1, mine[i], n) == 0 &&
                              (sub[1 + n] == '\0' || sub[1 + n] == '/'));
        }
        if (!known) {
            return false;
        }
    }
    if (*u == '\0') {
        h_collection(s, r, out);
    } else {
        h_incident(s, r, out, u + 1);
    }
    return true;
}
