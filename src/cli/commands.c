/*
 * commands.c - client commands: login, logout, customers, transactions,
 * communications. Each builds one API request and prints the answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/mem.h"
#include "model/model.h"

/* Invalid rows a refused import names in the default output (--json has them all). */
#define IMPORT_ERRORS_SHOWN 20

int cli_call_print(const args *a, const char *method, const char *path, const char *ctype,
                   slice body)
{
    client c;
    if (client_load(&c) != ERR_OK) {
        return cli_fail(err_last());
    }
    buf resp;
    buf_init(&resp, (size_t)1 << 30);
    int status = 0;
    err e = client_call(&c, method, path, ctype, body, &status, &resp, NULL);
    mem_wipe(c.token, sizeof c.token);
    if (e != ERR_OK) {
        buf_free(&resp);
        return cli_fail(e);
    }
    int rc = client_print(a, status, &resp);
    buf_free(&resp);
    return rc;
}

void cli_read_secret(char *out, size_t max, const char *prompt, const char *env_name)
{
    const char *env = getenv(env_name);
    if (env) {
        snprintf(out, max, "%s", env);
        return;
    }
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fputs(prompt, stderr);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    if (!fgets(out, (int)max, stdin)) {
        out[0] = '\0';
    }
    out[strcspn(out, "\r\n")] = '\0';
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
}

/* The bad rows of a refused import, one line each: row, line, field and reason. */
static void import_errors_print(json_t *rep)
{
    json_t *errs = json_object_get(rep, "errors");
    json_int_t total = json_integer_value(json_object_get(rep, "error_count"));
    size_t shown = 0, i;
    json_t *e;
    json_array_foreach(errs, i, e)
    {
        if (shown == IMPORT_ERRORS_SHOWN) {
            break;
        }
        const char *field = json_string_value(json_object_get(e, "field"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        fprintf(stderr, "  row %lld (line %lld)%s%s: %s\n",
                (long long)json_integer_value(json_object_get(e, "row")),
                (long long)json_integer_value(json_object_get(e, "line")), field ? ", field " : "",
                field ? field : "", msg ? msg : "invalid");
        shown++;
    }
    if (total > (json_int_t)shown) {
        fprintf(stderr, "  ... and %lld more invalid row(s) (--json lists up to %zu)\n",
                (long long)(total - (json_int_t)shown), json_array_size(errs));
    }
}

/* POST /v1/import; a refusal for bad rows names them (the first IMPORT_ERRORS_SHOWN). */
static int import_call(const args *a, const char *path, const char *ctype, slice body)
{
    client c;
    if (client_load(&c) != ERR_OK) {
        return cli_fail(err_last());
    }
    buf resp;
    buf_init(&resp, (size_t)1 << 30);
    int status = 0;
    err e = client_call(&c, "POST", path, ctype, body, &status, &resp, NULL);
    mem_wipe(c.token, sizeof c.token);
    if (e != ERR_OK) {
        buf_free(&resp);
        return cli_fail(e);
    }
    int rc = client_print(a, status, &resp);
    if (status == 422 && !a->json) {
        json_t *j = json_loadb((const char *)resp.p, resp.len, 0, NULL);
        if (j) {
            import_errors_print(j);
        }
        json_decref(j);
    }
    buf_free(&resp);
    return rc;
}

int cmd_login(args *a)
{
    if (a->npos < 1) {
        fputs("usage: custos login USERNAME   (password from CUSTOS_PASSWORD or the terminal)\n",
              stderr);
        return 2;
    }
    client c;
    IGNORE(client_load(&c));
    char pw[1100];
    cli_read_secret(pw, sizeof pw, "password: ", "CUSTOS_PASSWORD");
    json_t *o = json_pack("{s:s, s:s}", "username", a->pos[0], "password", pw);
    /* The second factor: --otp, CUSTOS_OTP, or a recovery code with --recovery-code. */
    const char *otp = args_opt(a, "--otp") ? args_opt(a, "--otp") : getenv("CUSTOS_OTP");
    if (otp && otp[0]) {
        json_object_set_new(o, "otp", json_string(otp));
    }
    if (args_opt(a, "--recovery-code")) {
        json_object_set_new(o, "recovery_code", json_string(args_opt(a, "--recovery-code")));
    }
    mem_wipe(pw, sizeof pw);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body) {
        return cli_fail(ERR_INTERNAL);
    }
    c.token[0] = '\0';
    buf resp;
    buf_init(&resp, 1 << 20);
    int status = 0;
    err e = client_call(&c, "POST", "/v1/login", "application/json", slice_cstr(body), &status,
                        &resp, NULL);
    mem_wipe(body, strlen(body));
    free(body);
    if (e != ERR_OK) {
        buf_free(&resp);
        return cli_fail(e);
    }
    if (status != 200) {
        int rc = client_print(a, status, &resp);
        buf_free(&resp);
        return rc;
    }
    json_t *j = json_loadb((const char *)resp.p, resp.len, 0, NULL);
    const char *tok = json_string_value(json_object_get(j, "token"));
    const char *sf = json_string_value(json_object_get(j, "second_factor"));
    if (sf && !a->json) {
        fprintf(stderr, "second factor %s: run `custos me totp %s` before anything else\n",
                strcmp(sf, "enrol") == 0 ? "not enrolled yet" : "due",
                strcmp(sf, "enrol") == 0 ? "enrol" : "verify CODE");
    }
    snprintf(c.token, sizeof c.token, "%s", tok ? tok : "");
    e = client_save_token(&c);
    if (e == ERR_OK) {
        if (a->json) {
            printf("{\"logged_in\":true,\"expires_at\":\"%s\"}\n",
                   json_string_value(json_object_get(j, "expires_at")));
        } else {
            printf("logged in as %s until %s\n", a->pos[0],
                   json_string_value(json_object_get(j, "expires_at")));
        }
    }
    json_decref(j);
    mem_wipe(c.token, sizeof c.token);
    buf_free(&resp);
    return e == ERR_OK ? 0 : cli_fail(e);
}

int cmd_logout(args *a)
{
    return cli_call_print(a, "POST", "/v1/logout", NULL, slice_of("", 0));
}

/* FIELD=VALUE words into a JSON object; values that the model types as numbers, booleans or
 * lists are converted, the server validates everything. */
static json_t *fields_json(const args *a, int first, rectype t)
{
    json_t *o = json_object();
    for (int i = first; i < a->npos; i++) {
        const char *eq = strchr(a->pos[i], '=');
        if (!eq) {
            fprintf(stderr, "custos: expected FIELD=VALUE, got '%s'\n", a->pos[i]);
            json_decref(o);
            return NULL;
        }
        char name[64];
        size_t n = (size_t)(eq - a->pos[i]);
        if (n >= sizeof name) {
            n = sizeof name - 1;
        }
        memcpy(name, a->pos[i], n);
        name[n] = '\0';
        const char *val = eq + 1;
        int idx = model_field_index(t, name, n);
        const field_def *f = idx >= 0 ? model_field(t, idx) : NULL;
        json_t *jv;
        if (f && (f->type == FT_INT || f->type == FT_MONEY) && val[0] &&
            strspn(val, "0123456789") == strlen(val)) {
            jv = json_integer(strtoll(val, NULL, 10));
        } else if (f && f->type == FT_BOOL && (!strcmp(val, "true") || !strcmp(val, "false"))) {
            jv = json_boolean(strcmp(val, "true") == 0);
        } else if (f && f->type == FT_LIST) {
            jv = json_array();
            char *copy = strdup(val), *save = NULL;
            for (char *tok = strtok_r(copy, ",;", &save); tok; tok = strtok_r(NULL, ",;", &save)) {
                json_array_append_new(jv, json_string(tok));
            }
            free(copy);
        } else if (val[0] == '\0') {
            jv = json_null();
        } else {
            jv = json_string(val);
        }
        json_object_set_new(o, name, jv);
    }
    return o;
}

int cli_send_json(const args *a, const char *method, const char *path, json_t *o)
{
    if (!o) {
        return 2;
    }
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    int rc = cli_call_print(a, method, path, "application/json", slice_cstr(body));
    if (body) {
        mem_wipe(body, strlen(body));
    }
    free(body);
    return rc;
}

static char *read_all(const char *path, size_t *n)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    buf b;
    buf_init(&b, (size_t)1 << 30);
    char tmp[65536];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (buf_append(&b, tmp, k) != ERR_OK) {
            break;
        }
    }
    if (f != stdin) {
        fclose(f);
    }
    *n = b.len;
    return buf_take_cstr(&b);
}

static void url_escape(const char *in, char *out, size_t max)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t j = 0;
    for (size_t i = 0; in[i] && j + 4 < max; i++) {
        unsigned char ch = (unsigned char)in[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out[j++] = (char)ch;
        } else {
            out[j++] = '%';
            out[j++] = hex[ch >> 4];
            out[j++] = hex[ch & 15];
        }
    }
    out[j] = '\0';
}

int cmd_customers(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    char path[1024];
    if (strcmp(sub, "add") == 0) {
        return cli_send_json(a, "POST", "/v1/customers", fields_json(a, 1, REC_CUSTOMER));
    }
    if ((strcmp(sub, "get") == 0 || strcmp(sub, "erase") == 0 || strcmp(sub, "update") == 0 ||
         strcmp(sub, "rotate-key") == 0) &&
        a->npos >= 2) {
        if (!id_valid(a->pos[1])) {
            fputs("custos: that is not a customer id\n", stderr);
            return 2;
        }
        snprintf(path, sizeof path, "/v1/customers/%s", a->pos[1]);
        if (strcmp(sub, "get") == 0) {
            return cli_call_print(a, "GET", path, NULL, slice_of("", 0));
        }
        if (strcmp(sub, "update") == 0) {
            return cli_send_json(a, "PATCH", path, fields_json(a, 2, REC_CUSTOMER));
        }
        if (strcmp(sub, "rotate-key") == 0) {
            snprintf(path, sizeof path, "/v1/customers/%s/rotate-key", a->pos[1]);
            return cli_call_print(a, "POST", path, NULL, slice_of("", 0));
        }
        const char *reason = args_opt(a, "--reason");
        if (reason) {
            char esc[600];
            url_escape(reason, esc, sizeof esc);
            snprintf(path, sizeof path, "/v1/customers/%s?reason=%s", a->pos[1], esc);
        }
        return cli_call_print(a, "DELETE", path, NULL, slice_of("", 0));
    }
    if (strcmp(sub, "search") == 0 || strcmp(sub, "list") == 0) {
        static const char *const keys[][2] = {{"--phone", "phone"},
                                              {"--email", "email"},
                                              {"--id-number", "id_number"},
                                              {"--name", "name"}};
        snprintf(path, sizeof path, "/v1/customers?limit=200");
        for (size_t i = 0; i < 4; i++) {
            const char *v = args_opt(a, keys[i][0]);
            if (v) {
                char esc[600];
                url_escape(v, esc, sizeof esc);
                size_t n = strlen(path);
                snprintf(path + n, sizeof path - n, "&%s=%s", keys[i][1], esc);
            }
        }
        const char *after = args_opt(a, "--after");
        if (after && id_valid(after)) {
            size_t n = strlen(path);
            snprintf(path + n, sizeof path - n, "&after=%s", after);
        }
        return cli_call_print(a, "GET", path, NULL, slice_of("", 0));
    }
    if (strcmp(sub, "import") == 0 && a->npos >= 2) {
        size_t n = 0;
        char *body = read_all(a->pos[1], &n);
        if (!body) {
            fprintf(stderr, "custos: cannot read %s\n", a->pos[1]);
            return 1;
        }
        const char *cs = args_opt(a, "--charset");
        size_t plen = strlen(a->pos[1]);
        bool json = plen > 5 && (strcmp(a->pos[1] + plen - 5, ".json") == 0 ||
                                 strcmp(a->pos[1] + plen - 6, ".jsonl") == 0);
        char ctype[128];
        snprintf(ctype, sizeof ctype, "%s%s%s", json ? "application/json" : "text/csv",
                 cs ? "; charset=" : "", cs ? cs : "");
        snprintf(path, sizeof path, "/v1/import%s", args_flag(a, "--dry-run") ? "?dry_run=1" : "");
        int rc = import_call(a, path, ctype, slice_of(body, n));
        mem_wipe(body, n);
        free(body);
        return rc;
    }
    if (strcmp(sub, "export") == 0) {
        const char *f = args_opt(a, "--format");
        const char *rq = args_opt(a, "--request");
        if (!rq) {
            fputs("custos: an export needs an approved request: `custos exports request "
                  "[--format csv|jsonl]`, a data steward approves it, then `custos customers "
                  "export --request ID`\n",
                  stderr);
            return 2;
        }
        snprintf(path, sizeof path, "/v1/export?format=%s&request=%s", f ? f : "csv", rq);
        client c;
        IGNORE(client_load(&c));
        buf resp;
        buf_init(&resp, (size_t)1 << 31);
        int status = 0;
        err e = client_call(&c, "GET", path, NULL, slice_of("", 0), &status, &resp, NULL);
        if (e != ERR_OK) {
            buf_free(&resp);
            return cli_fail(e);
        }
        int rc = 0;
        if (status != 200) {
            rc = client_print(a, status, &resp);
        } else {
            fwrite(resp.p, 1, resp.len, stdout);
        }
        buf_free(&resp);
        return rc;
    }
    fputs("usage: custos customers add|get|update|search|list|erase|rotate-key|import|export ...\n",
          stderr);
    return 2;
}

int cmd_records(args *a, const char *kind)
{
    rectype t = strcmp(kind, "transactions") == 0 ? REC_TRANSACTION : REC_COMMUNICATION;
    const char *sub = a->npos ? a->pos[0] : "";
    if (a->npos < 2 || !id_valid(a->pos[1])) {
        fprintf(stderr, "usage: custos %s add CUSTOMER FIELD=VALUE... | list CUSTOMER\n", kind);
        return 2;
    }
    char path[512];
    snprintf(path, sizeof path, "/v1/customers/%s/%s", a->pos[1], kind);
    if (strcmp(sub, "add") == 0) {
        return cli_send_json(a, "POST", path, fields_json(a, 2, t));
    }
    if (strcmp(sub, "list") == 0) {
        return cli_call_print(a, "GET", path, NULL, slice_of("", 0));
    }
    fprintf(stderr, "usage: custos %s add CUSTOMER FIELD=VALUE... | list CUSTOMER\n", kind);
    return 2;
}
