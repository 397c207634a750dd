/*
 * handlers_access.c - the JSON API of identity and access: the caller's own
 * account and second factor, account management, API keys, the policy,
 * change and export requests, break-glass. Each route parses its input and
 * calls exactly one door_* function, which authorizes and audits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "server/server.h"

static void done(response *out, err e, int status, json_t *j)
{
    if (e != ERR_OK) {
        json_decref(j);
        return response_fail(out, e);
    }
    response_json(out, status, j ? j : json_object());
}

/* A POST's JSON body in *j; false, the answer given, for another method or a bad body. */
static bool post_body(request *r, response *out, json_t **j)
{
    if (!req_method(r, "POST")) {
        response_error(out, ERR_INPUT, "method not allowed");
        return false;
    }
    err e = req_json_body(r, j);
    if (e != ERR_OK) {
        response_fail(out, e);
        return false;
    }
    return true;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Copies the path segment after prefix up to the next '/' (or the end) into seg; rest gets
 * what follows ("" or "/action"). False when u does not start with prefix. */
static bool segment(const char *u, const char *prefix, char *seg, size_t max, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(u, prefix, n) != 0) {
        return false;
    }
    const char *p = u + n;
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (len == 0 || len >= max) {
        return false;
    }
    memcpy(seg, p, len);
    seg[len] = '\0';
    *rest = slash ? slash : "";
    return true;
}

static void wipe_body(request *r, json_t *j, const char *key)
{
    const char *p = jstr(j, key);
    if (p) {
        mem_wipe((void *)p, strlen(p));
    }
    buf_reset(&r->body);
}

/* ---- /v1/me ---- */

static void h_me(server *s, request *r, response *out, const char *rest)
{
    vault *v = s->v;
    json_t *res = NULL, *j = NULL;
    err e;
    if (rest[0] == '\0' && req_method(r, "GET")) {
        e = door_account_self(v, &r->who, &res);
        return done(out, e, 200, res);
    }
    if (!req_method(r, "POST")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    if (strcmp(rest, "/totp/enrol") == 0) {
        e = door_totp_enrol(v, &r->who, &res);
        return done(out, e, 200, res);
    }
    e = req_json_body(r, &j);
    if (e != ERR_OK) {
        return response_fail(out, e);
    }
    if (strcmp(rest, "/totp/confirm") == 0) {
        e = door_totp_confirm(v, &r->who, r->token, jstr(j, "code"), &res);
    } else if (strcmp(rest, "/totp/verify") == 0) {
        e = door_totp_verify(v, &r->who, r->token, jstr(j, "code"), jstr(j, "recovery_code"));
        res = e == ERR_OK ? json_pack("{s:b}", "second_factor", 1) : NULL;
    } else if (strcmp(rest, "/password") == 0) {
        e = door_password_change(v, &r->who, jstr(j, "old_password"), jstr(j, "new_password"));
        wipe_body(r, j, "old_password");
        wipe_body(r, j, "new_password");
        res = e == ERR_OK ? json_pack("{s:b}", "changed", 1) : NULL;
    } else {
        json_decref(j);
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    json_decref(j);
    done(out, e, 200, res);
}

/* ---- /v1/accounts ---- */

static err training_arg(json_t *j, int64_t *out)
{
    json_t *t = json_object_get(j, "training_valid_until");
    *out = -1;
    if (!t) {
        return ERR_OK;
    }
    if (json_is_null(t)) {
        *out = 0;
        return ERR_OK;
    }
    const char *txt = json_string_value(t);
    ENSURE(txt, ERR_INPUT, "training_valid_until must be a date (YYYY-MM-DD) or a time");
    char full[40];
    if (strlen(txt) == 10) {
        snprintf(full, sizeof full, "%sT23:59:59Z", txt);
        txt = full;
    }
    TRY(clock_parse_rfc3339(txt, out));
    return ERR_OK;
}

static void h_accounts(server *s, request *r, response *out)
{
    vault *v = s->v;
    json_t *res = NULL, *j = NULL;
    if (req_method(r, "GET")) {
        err e = door_accounts_list(v, &r->who, &res);
        return done(out, e, 200, res);
    }
    if (!post_body(r, out, &j)) {
        return;
    }
    err e = door_account_add(v, &r->who, jstr(j, "username"), jstr(j, "password"), jstr(j, "role"),
                             jstr(j, "department"), &res);
    wipe_body(r, j, "password");
    json_decref(j);
    /* 202: the account waits for a steward's approval and its holder's hand-over */
    done(out, e, json_object_get(res, "request") ? 202 : 201, res);
}

static void h_account(server *s, request *r, response *out, const char *user, const char *rest)
{
    vault *v = s->v;
    json_t *res = NULL, *j = NULL;
    account_change c = {.disabled = -1, .training_until_us = -1};
    err e = ERR_OK;
    if (strcmp(rest, "/disable") == 0 || strcmp(rest, "/enable") == 0) {
        if (!req_method(r, "POST")) {
            return response_error(out, ERR_INPUT, "method not allowed");
        }
        c.disabled = strcmp(rest, "/disable") == 0;
        e = door_account_change(v, &r->who, user, &c, &res);
        return done(out, e, 200, res);
    }
    if (strcmp(rest, "/reset-second-factor") == 0) {
        if (!req_method(r, "POST")) {
            return response_error(out, ERR_INPUT, "method not allowed");
        }
        c.reset_second_factor = true;
        e = door_account_change(v, &r->who, user, &c, &res);
        return done(out, e, json_object_get(res, "request") ? 202 : 200, res);
    }
    if (strcmp(rest, "/revoke-sessions") == 0) {
        if (!req_method(r, "POST")) {
            return response_error(out, ERR_INPUT, "method not allowed");
        }
        size_t n = 0;
        e = door_revoke_sessions(v, &r->who, user, "revoke", &n);
        return done(out, e, 200, e == ERR_OK ? json_pack("{s:I}", "revoked", (json_int_t)n) : NULL);
    }
    bool patch = rest[0] == '\0' && req_method(r, "PATCH");
    bool reset = strcmp(rest, "/reset-password") == 0 && req_method(r, "POST");
    bool training =
        strcmp(rest, "/training") == 0 && (req_method(r, "PUT") || req_method(r, "POST"));
    if (!patch && !reset && !training) {
        return response_error(out, rest[0] ? ERR_NOT_FOUND : ERR_INPUT,
                              rest[0] ? "no such route" : "method not allowed");
    }
    e = req_json_body(r, &j);
    if (e != ERR_OK) {
        return response_fail(out, e);
    }
    if (patch) {
        c.role = jstr(j, "role");
        c.department = jstr(j, "department");
        json_t *d = json_object_get(j, "disabled");
        c.disabled = json_is_boolean(d) ? json_is_true(d) : -1;
        c.reset_second_factor = json_is_true(json_object_get(j, "reset_second_factor"));
        e = training_arg(j, &c.training_until_us);
    } else if (reset) {
        c.password = jstr(j, "password");
        if (!c.password) {
            e = err_set(ERR_INPUT, __FILE__, __LINE__, "password is required");
        }
    } else {
        json_t *t = json_object_get(j, "valid_until");
        if (t) {
            json_object_set(j, "training_valid_until", t);
        }
        e = json_object_get(j, "training_valid_until")
                ? training_arg(j, &c.training_until_us)
                : err_set(ERR_INPUT, __FILE__, __LINE__, "valid_until is required");
    }
    if (e == ERR_OK) {
        e = door_account_change(v, &r->who, user, &c, &res);
    }
    wipe_body(r, j, "password");
    json_decref(j);
    done(out, e, json_object_get(res, "request") ? 202 : 200, res);
}

/* ---- /v1/apikeys ---- */

static void h_apikeys(server *s, request *r, response *out)
{
    json_t *res = NULL, *j = NULL;
    if (req_method(r, "GET")) {
        err e = door_apikeys_list(s->v, &r->who, &res);
        return done(out, e, 200, res);
    }
    if (!post_body(r, out, &j)) {
        return;
    }
    err e = door_apikey_create(s->v, &r->who, jstr(j, "name"), jstr(j, "role"),
                               jstr(j, "department"), jstr(j, "scope"), jstr(j, "addresses"), &res);
    json_decref(j);
    done(out, e, 201, res);
}

static void h_apikey(server *s, request *r, response *out, const char *id, const char *rest)
{
    json_t *res = NULL;
    err e;
    if (strcmp(rest, "/rotate") == 0 && req_method(r, "POST")) {
        e = door_apikey_rotate(s->v, &r->who, id, &res);
        return done(out, e, 200, res);
    }
    if ((strcmp(rest, "/revoke") == 0 && req_method(r, "POST")) ||
        (rest[0] == '\0' && req_method(r, "DELETE"))) {
        e = door_apikey_revoke(s->v, &r->who, id);
        return done(out, e, 200,
                    e == ERR_OK ? json_pack("{s:s,s:b}", "id", id, "revoked", 1) : NULL);
    }
    response_error(out, ERR_NOT_FOUND, "no such route");
}

/* ---- /v1/policy ---- */

static void h_policy(server *s, request *r, response *out, const char *rest)
{
    json_t *res = NULL;
    err e;
    if (strcmp(rest, "/reload") == 0 && req_method(r, "POST")) {
        e = door_policy_reload(s->v, &r->who, &res);
        return done(out, e, 200, res);
    }
    if (strcmp(rest, "/explain") == 0 && req_method(r, "GET")) {
        e = door_policy_explain(s->v, &r->who, req_arg(r, "role"), req_arg(r, "op"),
                                req_arg(r, "category"), req_arg(r, "customer"), &res);
        return done(out, e, 200, res);
    }
    response_error(out, ERR_NOT_FOUND, "no such route");
}

/* ---- /v1/requests, /v1/exports ---- */

static void h_requests(server *s, request *r, response *out, const char *id, const char *rest)
{
    json_t *res = NULL, *j = NULL;
    err e;
    if (!id) {
        if (!req_method(r, "GET")) {
            return response_error(out, ERR_INPUT, "method not allowed");
        }
        e = door_requests_list(s->v, &r->who, req_arg(r, "status"), &res);
        return done(out, e, 200, res);
    }
    if (rest[0] == '\0' && req_method(r, "GET")) {
        e = door_request_get(s->v, &r->who, id, &res);
        return done(out, e, 200, res);
    }
    bool approve = strcmp(rest, "/approve") == 0, reject = strcmp(rest, "/reject") == 0;
    if (!(approve || reject) || !req_method(r, "POST")) {
        return response_error(out, ERR_NOT_FOUND, "no such route");
    }
    if (r->body.len) {
        e = req_json_body(r, &j);
        if (e != ERR_OK) {
            return response_fail(out, e);
        }
    }
    const char *note = jstr(j, "note");
    e = approve ? door_request_approve(s->v, &r->who, id, note, &res)
                : door_request_reject(s->v, &r->who, id, note, &res);
    json_decref(j);
    done(out, e, 200, res);
}

static void h_exports(server *s, request *r, response *out)
{
    if (!req_method(r, "POST")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    json_t *j = NULL;
    if (r->body.len) {
        err e = req_json_body(r, &j);
        if (e != ERR_OK) {
            return response_fail(out, e);
        }
    }
    const char *f = jstr(j, "format");
    char id[ID_LEN + 1];
    err e = door_export_request(s->v, &r->who, f ? f : "csv", id);
    json_decref(j);
    done(out, e, 202,
         e == ERR_OK ? json_pack("{s:{s:s,s:s}}", "request", "id", id, "status", "pending") : NULL);
}

/* ---- /v1/break-glass ---- */

static void h_breakglass(server *s, request *r, response *out, const char *id, const char *rest)
{
    json_t *res = NULL, *j = NULL;
    err e;
    if (!id) {
        if (req_method(r, "GET")) {
            const char *u = req_arg(r, "unreviewed");
            e = door_breakglass_list(s->v, &r->who, u && strcmp(u, "0") != 0, &res);
            return done(out, e, 200, res);
        }
        if (!post_body(r, out, &j)) {
            return;
        }
        json_t *m = json_object_get(j, "minutes");
        e = door_breakglass_open(s->v, &r->who, jstr(j, "reason"),
                                 json_is_integer(m) ? (int64_t)json_integer_value(m) : 30, &res);
        json_decref(j);
        /* 201: a self-service grant is open; 202: a steward's approval is due */
        return done(out, e, json_object_get(res, "request") ? 202 : 201, res);
    }
    if (!req_method(r, "POST")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    if (strcmp(rest, "/close") == 0) {
        e = door_breakglass_close(s->v, &r->who, id);
        return done(out, e, 200,
                    e == ERR_OK ? json_pack("{s:s,s:b}", "id", id, "closed", 1) : NULL);
    }
    if (strcmp(rest, "/review") == 0) {
        e = req_json_body(r, &j);
        if (e != ERR_OK) {
            return response_fail(out, e);
        }
        e = door_breakglass_review(s->v, &r->who, id, jstr(j, "note"));
        json_decref(j);
        return done(out, e, 200,
                    e == ERR_OK ? json_pack("{s:s,s:b}", "id", id, "reviewed", 1) : NULL);
    }
    response_error(out, ERR_NOT_FOUND, "no such route");
}

/* ---- /v1/honeytokens ---- */

static void h_honeytokens(server *s, request *r, response *out)
{
    json_t *res = NULL, *j = NULL;
    if (req_method(r, "GET")) {
        err e = door_honeytokens_list(s->v, &r->who, &res);
        return done(out, e, 200, res);
    }
    if (!post_body(r, out, &j)) {
        return;
    }
    err e = door_honeytoken_add(s->v, &r->who, jstr(j, "department"), &res);
    json_decref(j);
    done(out, e, 201, res);
}

/* ---- /v1/vault/seal, /v1/vault/unseal ---- */

static void h_vault(server *s, request *r, response *out, const char *rest)
{
    json_t *j = NULL;
    if (!post_body(r, out, &j)) {
        return;
    }
    err e;
    if (strcmp(rest, "/seal") == 0) {
        e = door_vault_seal(s->v, &r->who, jstr(j, "reason"));
        json_decref(j);
        return done(out, e, 200, e == ERR_OK ? json_pack("{s:b}", "sealed", 1) : NULL);
    }
    if (strcmp(rest, "/unseal") == 0) {
        const char *pass = jstr(j, "passphrase");
        vault_key src = {pass, pass ? strlen(pass) : 0, jstr(j, "key_file")};
        e = door_vault_unseal(s->v, &r->who, &src);
        wipe_body(r, j, "passphrase");
        json_decref(j);
        return done(out, e, 200, e == ERR_OK ? json_pack("{s:b}", "sealed", 0) : NULL);
    }
    json_decref(j);
    response_error(out, ERR_NOT_FOUND, "no such route");
}

/* ---- /v1/notices, /v1/handover ---- */

static void h_notices(server *s, request *r, response *out)
{
    if (!req_method(r, "GET")) {
        return response_error(out, ERR_INPUT, "method not allowed");
    }
    const char *after = req_arg(r, "after");
    json_t *res = NULL;
    err e = door_notices(s->v, &r->who, after ? strtoll(after, NULL, 10) : 0, &res);
    done(out, e, 200, res);
}

void handle_handover(server *s, request *r, response *out)
{
    json_t *j = NULL;
    if (!post_body(r, out, &j)) {
        return;
    }
    handover_request h = {.username = jstr(j, "username"),
                          .request = jstr(j, "request"),
                          .code_a = jstr(j, "code_a"),
                          .code_b = jstr(j, "code_b"),
                          .password = jstr(j, "password"),
                          .source = r->source,
                          .request_id = r->request_id};
    err e = door_handover(s->v, &h);
    wipe_body(r, j, "password");
    wipe_body(r, j, "code_a");
    wipe_body(r, j, "code_b");
    json_decref(j);
    done(out, e, 200, e == ERR_OK ? json_pack("{s:b}", "password_set", 1) : NULL);
}

bool handle_access(server *s, request *r, response *out)
{
    const char *u = r->url, *rest = "";
    char seg[USERNAME_MAX + 8];
    if (strcmp(u, "/v1/me") == 0 || strncmp(u, "/v1/me/", 7) == 0) {
        h_me(s, r, out, u + 6);
        return true;
    }
    if (strcmp(u, "/v1/accounts") == 0) {
        h_accounts(s, r, out);
        return true;
    }
    if (strcmp(u, "/v1/notices") == 0) {
        h_notices(s, r, out);
        return true;
    }
    if (strcmp(u, "/v1/honeytokens") == 0) {
        h_honeytokens(s, r, out);
        return true;
    }
    if (strncmp(u, "/v1/vault/", 10) == 0) {
        h_vault(s, r, out, u + 9);
        return true;
    }
    if (segment(u, "/v1/accounts/", seg, sizeof seg, &rest)) {
        h_account(s, r, out, seg, rest);
        return true;
    }
    if (strcmp(u, "/v1/apikeys") == 0) {
        h_apikeys(s, r, out);
        return true;
    }
    if (segment(u, "/v1/apikeys/", seg, sizeof seg, &rest)) {
        h_apikey(s, r, out, seg, rest);
        return true;
    }
    if (strncmp(u, "/v1/policy/", 11) == 0) {
        h_policy(s, r, out, u + 10);
        return true;
    }
    if (strcmp(u, "/v1/requests") == 0) {
        h_requests(s, r, out, NULL, "");
        return true;
    }
    if (segment(u, "/v1/requests/", seg, sizeof seg, &rest)) {
        h_requests(s, r, out, seg, rest);
        return true;
    }
    if (strcmp(u, "/v1/exports") == 0) {
        h_exports(s, r, out);
        return true;
    }
    if (strcmp(u, "/v1/break-glass") == 0) {
        h_breakglass(s, r, out, NULL, "");
        return true;
    }
    if (segment(u, "/v1/break-glass/", seg, sizeof seg, &rest)) {
        h_breakglass(s, r, out, seg, rest);
        return true;
    }
    return false;
}
