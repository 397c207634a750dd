/*
 * handlers_audit.c - the /v1/audit/ routes: checkpoint, RFC 9162 proofs, queries, the
 * two reports, and the SIEM pull export. Each route is one door_audit_* call.
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "server/server.h"

static const char *arg(request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

static err arg_u64(request *r, const char *name, bool required, uint64_t *out)
{
    const char *s = arg(r, name);
    if (!s) {
        ENSURE(!required, ERR_INPUT, "%s is required", name);
        return ERR_OK;
    }
    size_t n = strlen(s);
    ENSURE(n > 0 && n <= 19 && strspn(s, "0123456789") == n, ERR_INPUT, "%s must be a whole number",
           name);
    *out = strtoull(s, NULL, 10);
    return ERR_OK;
}

static err arg_time(request *r, const char *name, int64_t *out)
{
    const char *s = arg(r, name);
    *out = 0;
    return s ? clock_parse_rfc3339(s, out) : ERR_OK;
}

static void done(response *out, err e, json_t *j)
{
    if (e == ERR_OK) {
        response_json(out, 200, j);
    } else {
        response_error(out, e, err_message());
    }
}

void handle_audit(server *s, request *r, response *out, const char *sub)
{
    if (strcmp(r->method, "GET") != 0) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    json_t *j = NULL;
    err e = ERR_OK;
    if (strcmp(sub, "checkpoint") == 0) {
        e = door_audit_checkpoint(s->v, &r->who, &j);
        return done(out, e, j);
    }
    if (strcmp(sub, "proof/inclusion") == 0) {
        uint64_t index = 0, size = 0;
        if ((e = arg_u64(r, "index", true, &index)) == ERR_OK &&
            (e = arg_u64(r, "size", true, &size)) == ERR_OK) {
            e = door_audit_inclusion(s->v, &r->who, index, size, &j);
        }
        return done(out, e, j);
    }
    if (strcmp(sub, "proof/consistency") == 0) {
        uint64_t m = 0, n = 0;
        if ((e = arg_u64(r, "from", true, &m)) == ERR_OK &&
            (e = arg_u64(r, "to", true, &n)) == ERR_OK) {
            e = door_audit_consistency(s->v, &r->who, m, n, &j);
        }
        return done(out, e, j);
    }
    if (strcmp(sub, "entries") == 0 || strcmp(sub, "export") == 0) {
        audit_query q;
        memset(&q, 0, sizeof q);
        q.actor = arg(r, "actor");
        q.customer = arg(r, "customer");
        q.action = arg(r, "action");
        q.decision = arg(r, "decision");
        q.after = UINT64_MAX;
        uint64_t lim = 100;
        if (q.decision && strcmp(q.decision, "allow") != 0 && strcmp(q.decision, "deny") != 0) {
            return response_error(out, ERR_INPUT, "decision must be allow or deny");
        }
        if ((e = arg_time(r, "from", &q.from_us)) == ERR_OK &&
            (e = arg_time(r, "to", &q.to_us)) == ERR_OK &&
            (e = arg_u64(r, "after", false, &q.after)) == ERR_OK &&
            (e = arg_u64(r, "limit", false, &lim)) == ERR_OK) {
            q.limit = lim > 1000 ? 1000 : (size_t)lim;
            e = door_audit_entries(s->v, &r->who, &q, &j);
        }
        if (e != ERR_OK || strcmp(sub, "entries") == 0) {
            return done(out, e, j);
        }
        /* export: JSON lines, one entry each with its index and leaf hash, for a SIEM that
         * checks its copy against checkpoints. */
        const char *fmt = arg(r, "format");
        bool syslog = fmt && strcmp(fmt, "syslog") == 0;
        buf b;
        buf_init(&b, 1 << 26);
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(j, "entries"), i, it)
        {
            if (syslog) {
                const char *e64 = json_string_value(json_object_get(it, "entry"));
                const char *l64 = json_string_value(json_object_get(it, "leaf_hash"));
                uint8_t ent[1 << 14], leaf[32];
                size_t n = 0, ln = 0;
                buf line;
                buf_init(&line, 1 << 20);
                if (e64 && l64 && b64_decode(ent, sizeof ent, &n, e64, strlen(e64)) == ERR_OK &&
                    b64_decode(leaf, sizeof leaf, &ln, l64, strlen(l64)) == ERR_OK && ln == 32 &&
                    witness_syslog_line((uint64_t)json_integer_value(json_object_get(it, "index")),
                                        slice_of(ent, n), leaf, &line) == ERR_OK) {
                    IGNORE(buf_append(&b, line.p, line.len));
                    IGNORE(buf_append_byte(&b, '\n'));
                }
                buf_free(&line);
            } else {
                json_t *copy = json_pack("{s:O, s:O, s:O}", "index", json_object_get(it, "index"),
                                         "leaf_hash", json_object_get(it, "leaf_hash"), "entry",
                                         json_object_get(it, "decoded"));
                char *line = copy ? json_dumps(copy, JSON_COMPACT) : NULL;
                if (line) {
                    IGNORE(buf_append_str(&b, line));
                    IGNORE(buf_append_byte(&b, '\n'));
                }
                free(line);
                json_decref(copy);
            }
        }
        json_decref(j);
        out->raw = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_COPY);
        buf_free(&b);
        if (!out->raw) {
            return response_error(out, ERR_INTERNAL, "out of memory");
        }
        MHD_add_response_header(out->raw, "Content-Type",
                                syslog ? "text/plain; charset=utf-8"
                                       : "application/x-ndjson; charset=utf-8");
        out->status = 200;
        return;
    }
    if (strcmp(sub, "reports/subject") == 0) {
        e = door_audit_subject_report(s->v, &r->who, arg(r, "customer"), &j);
        return done(out, e, j);
    }
    if (strcmp(sub, "reports/actor") == 0) {
        int64_t from = 0, to = 0;
        if ((e = arg_time(r, "from", &from)) == ERR_OK && (e = arg_time(r, "to", &to)) == ERR_OK) {
            e = door_audit_actor_report(s->v, &r->who, arg(r, "actor"), from, to, &j);
        }
        return done(out, e, j);
    }
    response_error(out, ERR_NOT_FOUND, "no such route");
}
