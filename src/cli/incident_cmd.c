/*
 * incident_cmd.c - `custos incident ...`: incidents on the running server, as the signed-in
 * user (docs/INCIDENTS.md). The evidence bundle is written byte for byte as the server sent
 * it (to --out FILE or standard output), so `custos audit verify-bundle` checks exactly that.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/file.h"
#include "core/mem.h"

#define INCIDENT_USAGE                                                                             \
    "custos incident list [--state open|closed|all] [--drill]\n"                                   \
    "       custos incident show ID\n"                                                             \
    "       custos incident open PLAYBOOK [--alert N] [--severity S] [--aware-at T] [--note X]\n"  \
    "       custos incident task ID TASK start|done [--note X]\n"                                  \
    "       custos incident phase ID PHASE | owner ID USER | note ID TEXT\n"                       \
    "       custos incident close ID CLASSIFICATION\n"                                             \
    "       custos incident contain ID TASK ACTION [TARGET]\n"                                     \
    "       custos incident scope ID [--actors A,B] [--keys K] [--addresses X] [--from T --to "    \
    "T]\n"                                                                                         \
    "       custos incident evidence ID --reason TEXT [--out FILE]\n"                              \
    "       custos incident filed ID cac-initial|gdpr-33|cac-summary\n"                            \
    "       custos incident report ID [--lang zh-CN|en] [--format text|html|pdf] [--out FILE]\n"   \
    "       custos incident evidence-index ID [--lang zh-CN|en] [--format text|html|pdf|json]\n"   \
    "                                         [--out FILE]\n"

static int usage_fail(void)
{
    fputs("usage: " INCIDENT_USAGE, stderr);
    return 2;
}

/* An incident id or task name as a path segment. */
static bool seg_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

static json_t *csv_list(const char *s)
{
    json_t *a = json_array();
    while (a && s && *s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (n) {
            json_array_append_new(a, json_stringn(s, n));
        }
        s = comma ? comma + 1 : s + n;
    }
    return a;
}

/* Calls the server and writes the answer byte for byte to --out FILE (created 0600, never
 * overwritten) or standard output. body NULL: a GET. */
static int download(const args *a, const char *path, char *body, const char *what)
{
    client c;
    if (client_load(&c) != ERR_OK) {
        free(body);
        return cli_fail(err_last());
    }
    buf resp;
    buf_init(&resp, (size_t)64 << 20);
    int status = 0;
    err e = client_call(&c, body ? "POST" : "GET", path, body ? "application/json" : NULL,
                        body ? slice_cstr(body) : slice_of("", 0), &status, &resp, NULL);
    mem_wipe(c.token, sizeof c.token);
    free(body);
    int rc = 0;
    if (e != ERR_OK) {
        rc = cli_fail(e);
    } else if (status != 200) {
        rc = client_print(a, status, &resp);
    } else if (args_opt(a, "--out")) {
        const char *out = args_opt(a, "--out");
        int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            fprintf(stderr, "custos: cannot create %s (it must not exist yet)\n", out);
            rc = 1;
        } else {
            e = file_write_all(fd, resp.p, resp.len, out);
            if (close(fd) != 0 && e == ERR_OK) {
                e = err_set(ERR_IO, __FILE__, __LINE__, "cannot write %s", out);
            }
            rc = e == ERR_OK ? 0 : cli_fail(e);
            if (rc == 0 && !body) {
                fprintf(stderr, "%s written to %s (%zu bytes)\n", what, out, resp.len);
            } else if (rc == 0) {
                fprintf(stderr,
                        "%s written to %s (%zu bytes); check it with "
                        "`custos audit verify-bundle %s`\n",
                        what, out, resp.len, out);
            }
        }
    } else {
        rc = fwrite(resp.p, 1, resp.len, stdout) == resp.len ? 0 : 1;
    }
    buf_free(&resp);
    return rc;
}

static int evidence(const args *a, const char *path)
{
    const char *reason = args_opt(a, "--reason");
    if (!reason) {
        fputs("custos: --reason is required (it is recorded in the chain of custody)\n", stderr);
        return 2;
    }
    json_t *o = json_pack("{s:s}", "reason", reason);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body) {
        return 2;
    }
    return download(a, path, body, "evidence bundle");
}

/* The report or the evidence index of incident id. */
static int document(const args *a, const char *id, bool index)
{
    const char *lang = args_opt(a, "--lang") ?: "zh-CN", *fmt = args_opt(a, "--format") ?: "text";
    if ((strcmp(lang, "zh-CN") != 0 && strcmp(lang, "en") != 0) ||
        (strcmp(fmt, "text") != 0 && strcmp(fmt, "html") != 0 && strcmp(fmt, "pdf") != 0 &&
         !(index && strcmp(fmt, "json") == 0))) {
        return usage_fail();
    }
    char path[300];
    snprintf(path, sizeof path, "/v1/incidents/%s/%s?lang=%s&format=%s", id,
             index ? "evidence/index" : "report", lang, fmt);
    return download(a, path, NULL, index ? "evidence index" : "incident report");
}

int cmd_incident(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    char path[256];
    const char *id = a->npos >= 2 ? a->pos[1] : NULL;
    if (strcmp(sub, "list") == 0 && a->npos == 1) {
        const char *st = args_opt(a, "--state");
        if (st && strcmp(st, "open") != 0 && strcmp(st, "closed") != 0 && strcmp(st, "all") != 0) {
            return usage_fail();
        }
        snprintf(path, sizeof path, "/v1/incidents?state=%s&drill=%d", st ? st : "open",
                 args_flag(a, "--drill") ? 1 : 0);
        return cli_call_print(a, "GET", path, NULL, slice_of("", 0));
    }
    if (strcmp(sub, "open") == 0 && a->npos == 2) {
        const char *alert = args_opt(a, "--alert");
        json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?}", "playbook", a->pos[1], "severity",
                              args_opt(a, "--severity"), "aware_at", args_opt(a, "--aware-at"),
                              "note", args_opt(a, "--note"));
        if (o && alert) {
            json_object_set_new(o, "alert", json_integer(atoll(alert)));
        }
        return cli_send_json(a, "POST", "/v1/incidents", o);
    }
    if (!seg_ok(id)) {
        return usage_fail();
    }
    if (strcmp(sub, "show") == 0 && a->npos == 2) {
        snprintf(path, sizeof path, "/v1/incidents/%s", id);
        return cli_call_print(a, "GET", path, NULL, slice_of("", 0));
    }
    if (strcmp(sub, "task") == 0 && a->npos == 4 && seg_ok(a->pos[2]) &&
        (strcmp(a->pos[3], "start") == 0 || strcmp(a->pos[3], "done") == 0)) {
        snprintf(path, sizeof path, "/v1/incidents/%s/tasks/%s/%s", id, a->pos[2], a->pos[3]);
        return cli_send_json(a, "POST", path, json_pack("{s:s?}", "note", args_opt(a, "--note")));
    }
    if (strcmp(sub, "phase") == 0 && a->npos == 3) {
        snprintf(path, sizeof path, "/v1/incidents/%s/phase", id);
        return cli_send_json(a, "POST", path, json_pack("{s:s}", "phase", a->pos[2]));
    }
    if (strcmp(sub, "owner") == 0 && a->npos == 3) {
        snprintf(path, sizeof path, "/v1/incidents/%s/owner", id);
        return cli_send_json(a, "POST", path, json_pack("{s:s}", "owner", a->pos[2]));
    }
    if (strcmp(sub, "note") == 0 && a->npos == 3) {
        snprintf(path, sizeof path, "/v1/incidents/%s/notes", id);
        return cli_send_json(a, "POST", path, json_pack("{s:s}", "note", a->pos[2]));
    }
    if (strcmp(sub, "close") == 0 && a->npos == 3) {
        snprintf(path, sizeof path, "/v1/incidents/%s/close", id);
        return cli_send_json(a, "POST", path, json_pack("{s:s}", "closing", a->pos[2]));
    }
    if (strcmp(sub, "contain") == 0 && (a->npos == 4 || a->npos == 5)) {
        snprintf(path, sizeof path, "/v1/incidents/%s/actions", id);
        return cli_send_json(a, "POST", path,
                             json_pack("{s:s, s:s, s:s?}", "task", a->pos[2], "action", a->pos[3],
                                       "target", a->npos == 5 ? a->pos[4] : NULL));
    }
    if (strcmp(sub, "filed") == 0 && a->npos == 3) {
        snprintf(path, sizeof path, "/v1/incidents/%s/filed", id);
        return cli_send_json(a, "POST", path, json_pack("{s:s}", "report", a->pos[2]));
    }
    if (strcmp(sub, "scope") == 0 && a->npos == 2) {
        snprintf(path, sizeof path, "/v1/incidents/%s/scope", id);
        const char *actors = args_opt(a, "--actors"), *keys = args_opt(a, "--keys"),
                   *addrs = args_opt(a, "--addresses"), *from = args_opt(a, "--from"),
                   *to = args_opt(a, "--to");
        if (!actors && !keys && !addrs && !from && !args_flag(a, "--compute")) {
            return cli_call_print(a, "GET", path, NULL, slice_of("", 0)); /* the stored scope */
        }
        json_t *o = json_pack("{s:o, s:o, s:o, s:[]}", "actors", csv_list(actors), "api_keys",
                              csv_list(keys), "addresses", csv_list(addrs), "windows");
        if (o && (from || to)) {
            json_array_append_new(json_object_get(o, "windows"),
                                  json_pack("{s:s?, s:s?}", "from", from, "to", to));
        }
        return cli_send_json(a, "POST", path, o);
    }
    if (strcmp(sub, "evidence") == 0 && a->npos == 2) {
        snprintf(path, sizeof path, "/v1/incidents/%s/evidence", id);
        return evidence(a, path);
    }
    if ((strcmp(sub, "report") == 0 || strcmp(sub, "evidence-index") == 0) && a->npos == 2) {
        return document(a, id, sub[0] == 'e');
    }
    return usage_fail();
}
