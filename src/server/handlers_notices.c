/*
 * handlers_notices.c - /v1/incidents/{id}/documents... and /v1/incidents/{id}/notices...:
 * an incident's documents in each language and format, the teams' texts, legal's approval,
 * sending the customer notices, their records, retries and the SMS/post export. Each route
 * parses HTTP and JSON and calls one door function (door_notices.h), which authorizes and
 * audits. docs/API.md, "Incident documents and notices".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "door/door_notices.h"
#include "server/server.h"

#define INC "/v1/incidents/"
#define DOC_MAX ((size_t)32 << 20)

static void done(response *out, err e, json_t *j)
{
    if (e != ERR_OK) {
        json_decref(j);
        return response_fail(out, e);
    }
    response_json(out, 200, j ? j : json_object());
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

/* The next path segment into out; *rest after its slash (NULL at the end). */
static bool seg(const char *u, char *out, size_t max, const char **rest)
{
    const char *slash = u ? strchr(u, '/') : NULL;
    size_t n = !u ? 0 : slash ? (size_t)(slash - u) : strlen(u);
    if (n == 0 || n >= max) {
        return false;
    }
    memcpy(out, u, n);
    out[n] = '\0';
    *rest = slash ? slash + 1 : NULL;
    return true;
}

static void raw(response *out, buf *b, const char *type, const char *filename, bool attach)
{
    out->raw = MHD_create_response_from_buffer(b->len, b->p, MHD_RESPMEM_MUST_COPY);
    if (!out->raw) {
        return response_error(out, ERR_INTERNAL, "out of memory");
    }
    char disp[200];
    snprintf(disp, sizeof disp, "%s; filename=\"%s\"", attach ? "attachment" : "inline", filename);
    MHD_add_response_header(out->raw, "Content-Type", type);
    MHD_add_response_header(out->raw, "Content-Disposition", disp);
    /* a document runs nothing, even opened on its own */
    MHD_add_response_header(out->raw, "Content-Security-Policy", "default-src 'none'; sandbox");
    MHD_add_response_header(out->raw, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(out->raw, "Cache-Control", "no-store");
    out->status = 200;
}

static const json_t *languages(const json_t *j)
{
    const json_t *l = json_object_get(j, "languages");
    return json_is_object(l) ? l : NULL;
}

static void h_documents(server *s, request *r, response *out, const char *id, const char *rest)
{
    char kind[40];
    const char *r2 = NULL;
    json_t *res = NULL, *j = NULL;
    err e;
    if (!rest) {
        if (!req_method(r, "GET")) {
            return response_error(out, ERR_INPUT, "method not allowed");
        }
        e = door_notices_documents(s->v, &r->who, id, &res);
        return done(out, e, res);
    }
    if (!seg(rest, kind, sizeof kind, &r2)) {
        return response_error(out, ERR_NOT_FOUND, "no such document");
    }
    if (strcmp(kind, "texts") == 0 && !r2) {
        if (!req_method(r, "POST")) {
            return response_error(out, ERR_INPUT, "method not allowed");
        }
        e = body_json(r, &j);
        if (e == ERR_OK) {
            e = door_notices_texts(s->v, &r->who, id, json_string_value(json_object_get(j, "lang")),
                                   json_object_get(j, "texts"), &res);
        }
        json_decref(j);
        return done(out, e, res);
    }
    if (r2) {
        if (strcmp(r2, "approve") != 0 || !req_method(r, "POST")) {
            return response_error(out, ERR_NOT_FOUND, "no such route");
        }
        e = body_json(r, &j);
        if (e == ERR_OK) {
            e = door_notices_approve(s->v, &r->who, id, kind,
                                     json_string_value(json_object_get(j, "lang")), &res);
        }
        json_decref(j);
        return done(out, e, res);
    }
    if (!req_method(r, "GET")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    buf b;
    buf_init(&b, DOC_MAX);
    const char *type = NULL;
    char filename[160] = "";
    e = door_notices_document(s->v, &r->who, id, kind, req_arg(r, "lang"), req_arg(r, "format"),
                              req_arg(r, "customer"), &b, &type, filename, sizeof filename);
    if (e != ERR_OK) {
        buf_free(&b);
        return response_fail(out, e);
    }
    raw(out, &b, type, filename, strcmp(type, "application/pdf") == 0);
    buf_free(&b);
}

static void h_notices(server *s, request *r, response *out, const char *id, const char *rest)
{
    json_t *res = NULL, *j = NULL;
    err e;
    if (!rest) {
        if (!req_method(r, "GET")) {
            return response_error(out, ERR_INPUT, "method not allowed");
        }
        e = door_notices_records(s->v, &r->who, id, &res);
        return done(out, e, res);
    }
    if (strcmp(rest, "export/approve") == 0) {
        if (!req_method(r, "POST")) {
            return response_error(out, ERR_INPUT, "method not allowed");
        }
        e = body_json(r, &j);
        if (e == ERR_OK) {
            e = door_notices_export_approve(s->v, &r->who, id,
                                            json_string_value(json_object_get(j, "channel")), &res);
        }
        json_decref(j);
        return done(out, e, res);
    }
    if (strcmp(rest, "export") == 0) {
        if (!req_method(r, "GET")) {
            return response_error(out, ERR_INPUT, "method not allowed");
        }
        buf b;
        buf_init(&b, DOC_MAX);
        const char *ch = req_arg(r, "channel");
        e = door_notices_export(s->v, &r->who, id, ch ? ch : "", NULL, &b);
        if (e != ERR_OK) {
            buf_free(&b);
            return response_fail(out, e);
        }
        char filename[120];
        snprintf(filename, sizeof filename, "%s-notices-%s.csv", id,
                 strcmp(ch, "sms") == 0 ? "sms" : "post");
        raw(out, &b, "text/csv; charset=utf-8; header=present", filename, true);
        buf_free(&b);
        return;
    }
    bool retry = strcmp(rest, "retry") == 0;
    if ((!retry && strcmp(rest, "send") != 0) || !req_method(r, "POST")) {
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    e = body_json(r, &j);
    if (e == ERR_OK) {
        e = door_notices_send(s->v, &r->who, id, retry,
                              retry && json_is_true(json_object_get(j, "force")), languages(j),
                              &res);
    }
    json_decref(j);
    done(out, e, res);
}

bool handle_notices(server *s, request *r, response *out)
{
    const char *u = r->url;
    if (strncmp(u, INC, sizeof INC - 1) != 0) {
        return false;
    }
    char id[48], sub[16];
    const char *r2 = NULL, *r3 = NULL;
    if (!seg(u + sizeof INC - 1, id, sizeof id, &r2) || !seg(r2, sub, sizeof sub, &r3)) {
        return false;
    }
    if (strcmp(sub, "documents") == 0) {
        h_documents(s, r, out, id, r3);
        return true;
    }
    if (strcmp(sub, "notices") == 0) {
        h_notices(s, r, out, id, r3);
        return true;
    }
    return false;
}
