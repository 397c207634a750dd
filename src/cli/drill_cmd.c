/*
 * drill_cmd.c - `custos drill ...`: breach-response drills on the running server.
 *
 *   drill start PLAYBOOK [--wait]      start one (security); --wait follows it until contained
 *   drill list                         the drills with their timings, oldest first
 *   drill show ID                      one drill: requests, alert, containment, scope
 *   drill report ID [--lang zh-CN|en] [--format text|pdf] [--out FILE]
 *   drill task ID TASK start|done [--note TEXT]
 *   drill filed ID REPORT              cac-initial | gdpr-33 | cac-summary
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/file.h"

static void usage(void)
{
    fputs("usage: custos drill start PLAYBOOK [--wait]\n"
          "       custos drill list | show ID\n"
          "       custos drill report ID [--lang zh-CN|en] [--format text|pdf] [--out FILE]\n"
          "       custos drill task ID TASK start|done [--note TEXT]\n"
          "       custos drill filed ID cac-initial|gdpr-33|cac-summary\n",
          stderr);
}

/* GET path into resp; the status. */
static err get(const char *path, int *status, buf *resp)
{
    client c;
    TRY(client_load(&c));
    return client_call(&c, "GET", path, NULL, slice_of("", 0), status, resp, NULL);
}

static int wait_for(const args *a, const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/drills/%s", id);
    for (int i = 0; i < 150; i++) {
        buf b;
        buf_init(&b, 16 << 20);
        int st = 0;
        err e = get(path, &st, &b);
        if (e != ERR_OK) {
            buf_free(&b);
            return cli_fail(e);
        }
        json_t *j = json_loadb((const char *)b.p, b.len, 0, NULL);
        const char *state = json_string_value(json_object_get(j, "state"));
        bool over = st != 200 || (state && strcmp(state, "running") != 0);
        if (over) {
            int rc = client_print(a, st, &b);
            json_decref(j);
            buf_free(&b);
            return rc == 0 && state && strcmp(state, "contained") != 0 ? 1 : rc;
        }
        json_decref(j);
        buf_free(&b);
        struct timespec ts = {0, 400 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fputs("custos: the drill is still running after a minute\n", stderr);
    return 1;
}

int cmd_drill(args *a)
{
    if (a->npos < 2 && !(a->npos == 1 && strcmp(a->pos[0], "list") == 0)) {
        usage();
        return 2;
    }
    const char *sub = a->pos[0];
    char path[256];
    if (strcmp(sub, "start") == 0) {
        if (!args_flag(a, "--wait")) {
            return cli_send_json(a, "POST", "/v1/drills",
                                 json_pack("{s:s}", "playbook", a->pos[1]));
        }
        client c;
        err e = client_load(&c);
        char *body = json_dumps(json_pack("{s:s}", "playbook", a->pos[1]), JSON_COMPACT);
        buf b;
        buf_init(&b, 1 << 20);
        int st = 0;
        if (e == ERR_OK) {
            e = client_call(&c, "POST", "/v1/drills", "application/json", slice_cstr(body), &st, &b,
                            NULL);
        }
        free(body);
        if (e != ERR_OK) {
            buf_free(&b);
            return cli_fail(e);
        }
        json_t *j = json_loadb((const char *)b.p, b.len, 0, NULL);
        const char *id = json_string_value(json_object_get(j, "drill"));
        int rc = st == 202 && id ? wait_for(a, id) : client_print(a, st, &b);
        json_decref(j);
        buf_free(&b);
        return rc;
    }
    if (strcmp(sub, "list") == 0) {
        return cli_call_print(a, "GET", "/v1/drills", NULL, slice_of("", 0));
    }
    if (strcmp(sub, "show") == 0) {
        snprintf(path, sizeof path, "/v1/drills/%s", a->pos[1]);
        return cli_call_print(a, "GET", path, NULL, slice_of("", 0));
    }
    if (strcmp(sub, "report") == 0) {
        const char *lang = args_opt(a, "--lang"), *fmt = args_opt(a, "--format"),
                   *outp = args_opt(a, "--out");
        snprintf(path, sizeof path, "/v1/drills/%s/report?lang=%s&format=%s", a->pos[1],
                 lang ? lang : "zh-CN", fmt ? fmt : "text");
        buf b;
        buf_init(&b, 32 << 20);
        int st = 0;
        err e = get(path, &st, &b);
        if (e != ERR_OK) {
            buf_free(&b);
            return cli_fail(e);
        }
        if (st != 200) {
            int rc = client_print(a, st, &b);
            buf_free(&b);
            return rc;
        }
        if (outp) {
            e = file_write_atomic(outp, buf_slice(&b), false);
        } else {
            fwrite(b.p, 1, b.len, stdout);
        }
        buf_free(&b);
        return e == ERR_OK ? 0 : cli_fail(e);
    }
    if (strcmp(sub, "task") == 0 && a->npos == 4) {
        snprintf(path, sizeof path, "/v1/drills/%s/tasks/%s/%s", a->pos[1], a->pos[2], a->pos[3]);
        const char *note = args_opt(a, "--note");
        return cli_send_json(a, "POST", path,
                             note ? json_pack("{s:s}", "note", note) : json_object());
    }
    if (strcmp(sub, "filed") == 0 && a->npos == 3) {
        snprintf(path, sizeof path, "/v1/drills/%s/filed", a->pos[1]);
        return cli_send_json(a, "POST", path, json_pack("{s:s}", "report", a->pos[2]));
    }
    usage();
    return 2;
}
