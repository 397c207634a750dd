/*
 * drill_cmd.c - `custos drill ...`: breach-response drills on the running server.
 *
 *   drill start PLAYBOOK [--wait]      start one (security); --wait follows it until contained
 *   drill list                         the drills with their timings, oldest first
 *   drill show ID                      one drill: requests, alert, containment, scope
 *   drill report ID [--lang zh-CN|en] [--format text|html|pdf] [--out FILE]
 *
 * The people's part (tasks, evidence, notices, reports) is done on the drill's incident.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/file.h"
#include "core/mem.h"
#include "door/door.h"

static void usage(void)
{
    fputs("usage: custos drill start PLAYBOOK [--wait]\n"
          "       custos drill list | show ID\n"
          "       custos drill report ID [--lang zh-CN|en] [--format text|html|pdf] [--out FILE]\n",
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
    usage();
    return 2;
}

/* ---- the demo's past drill ---- */

typedef struct demo_srv {
    client c;
    pid_t pid;
} demo_srv;

/* One JSON call as token; the answer parsed into *out (may be NULL). Returns the status. */
static int demo_call(demo_srv *d, const char *token, const char *method, const char *path,
                     json_t *body, json_t **out)
{
    client c = d->c;
    snprintf(c.token, sizeof c.token, "%s", token ? token : "");
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    buf b;
    buf_init(&b, 64 << 20);
    int st = 0;
    err e = client_call(&c, method, path, text ? "application/json" : NULL,
                        text ? slice_cstr(text) : slice_of("", 0), &st, &b, NULL);
    free(text);
    mem_wipe(c.token, sizeof c.token);
    if (out) {
        *out = e == ERR_OK ? json_loadb((const char *)b.p, b.len, 0, NULL) : NULL;
    }
    buf_free(&b);
    return e == ERR_OK ? st : 0;
}

static bool demo_login(demo_srv *d, const char *user, const char *pw, char tok[128])
{
    json_t *j = NULL;
    int st = demo_call(d, NULL, "POST", "/v1/login",
                       json_pack("{s:s,s:s}", "username", user, "password", pw), &j);
    const char *t = json_string_value(json_object_get(j, "token"));
    bool ok = st == 200 && t && strlen(t) < 128;
    if (ok) {
        snprintf(tok, 128, "%s", t);
    }
    json_decref(j);
    return ok;
}

static void demo_pause(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts `custos serve DIR` on a loopback port of its own. */
static bool demo_serve(demo_srv *d, const char *dir, const char *key_file)
{
    char portfile[PATH_MAX];
    snprintf(portfile, sizeof portfile, "%s/.drill-demo.port", dir);
    unlink(portfile);
    d->pid = fork();
    if (d->pid < 0) {
        return false;
    }
    if (d->pid == 0) {
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0) {
            dup2(nul, 1);
            dup2(nul, 2);
        }
        if (key_file) {
            execl("/proc/self/exe", "custos", "serve", dir, "--listen", "127.0.0.1:0",
                  "--port-file", portfile, "--key-file", key_file, (char *)NULL);
        } else {
            execl("/proc/self/exe", "custos", "serve", dir, "--listen", "127.0.0.1:0",
                  "--port-file", portfile, (char *)NULL);
        }
        _exit(127);
    }
    for (int i = 0; i < 600; i++) {
        FILE *f = fopen(portfile, "r");
        unsigned port = 0;
        if (f) {
            if (fscanf(f, "%u", &port) != 1) {
                port = 0;
            }
            fclose(f);
        }
        if (port) {
            snprintf(d->c.addr, sizeof d->c.addr, "https://127.0.0.1:%u", port);
            vault_path_in(dir, VAULT_TLS_CERT, d->c.cacert, sizeof d->c.cacert);
            json_t *j = NULL;
            if (demo_call(d, NULL, "GET", "/healthz", NULL, &j) == 200) {
                json_decref(j);
                unlink(portfile);
                return true;
            }
            json_decref(j);
        }
        if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
            d->pid = 0;
            return false;
        }
        demo_pause(100);
    }
    return false;
}

static void demo_stop(demo_srv *d)
{
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
    }
}

/* The steps of the playbook's people, in an order its `after` lines allow. */
static const struct {
    const char *user, *task;
} DEMO_STEPS[] = {
    {"security1", "contain"},        {"security1", "scope"},   {"security1", "seal-decision"},
    {"legal1", "evidence"},          {"legal1", "legal-risk"}, {"steward1", "department-exposure"},
    {"legal1", "regulator-initial"}, {"service1", "notices"},  {"legal1", "statement"},
    {"legal1", "regulator-summary"},
};

int drill_demo_seed(const char *dir, const char *key_file, const char *pw)
{
    demo_srv d;
    memset(&d, 0, sizeof d);
    if (!demo_serve(&d, dir, key_file)) {
        demo_stop(&d);
        fputs("custos: the demo's drill could not start a server\n", stderr);
        return 1;
    }
    int rc = 1;
    char tsec[128] = "", tleg[128] = "", tser[128] = "", tstw[128] = "";
    json_t *j = NULL;
    char id[64] = "", inc[64] = "", path[256];
    if (!demo_login(&d, "security1", pw, tsec) || !demo_login(&d, "legal1", pw, tleg) ||
        !demo_login(&d, "service1", pw, tser) || !demo_login(&d, "steward1", pw, tstw)) {
        fputs("custos: the demo's drill could not sign in\n", stderr);
        goto out;
    }
    if (demo_call(&d, tsec, "POST", "/v1/drills",
                  json_pack("{s:s}", "playbook", "customer-data-misread"), &j) != 202) {
        fputs("custos: the demo's drill did not start\n", stderr);
        goto out;
    }
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "drill")) ?: "");
    json_decref(j);
    j = NULL;
    snprintf(path, sizeof path, "/v1/drills/%s", id);
    for (int i = 0; i < 1200; i++) {
        json_decref(j);
        j = NULL;
        demo_call(&d, tsec, "GET", path, NULL, &j);
        const char *st = json_string_value(json_object_get(j, "state"));
        if (st && strcmp(st, "running") != 0) {
            break;
        }
        demo_pause(100);
    }
    if (strcmp(json_string_value(json_object_get(j, "state")) ?: "", "contained") != 0) {
        fputs("custos: the demo's drill was not contained\n", stderr);
        goto out;
    }
    snprintf(inc, sizeof inc, "%s", json_string_value(json_object_get(j, "incident")) ?: "");
    snprintf(path, sizeof path, "/v1/alerts/%lld/ack",
             (long long)json_integer_value(json_object_get(json_object_get(j, "alert"), "id")));
    json_decref(j);
    j = NULL;
    demo_call(&d, tsec, "POST", path, NULL, NULL);
    for (size_t i = 0; i < sizeof DEMO_STEPS / sizeof DEMO_STEPS[0]; i++) {
        const char *tok = strcmp(DEMO_STEPS[i].user, "security1") == 0  ? tsec
                          : strcmp(DEMO_STEPS[i].user, "legal1") == 0   ? tleg
                          : strcmp(DEMO_STEPS[i].user, "service1") == 0 ? tser
                                                                        : tstw;
        if (strcmp(DEMO_STEPS[i].task, "evidence") == 0) {
            snprintf(path, sizeof path, "/v1/incidents/%s/evidence", inc);
            demo_call(&d, tleg, "POST", path,
                      json_pack("{s:s}", "reason", "drill: evidence secured"), NULL);
        }
        snprintf(path, sizeof path, "/v1/incidents/%s/tasks/%s/done", inc, DEMO_STEPS[i].task);
        int st = demo_call(&d, tok, "POST", path, json_pack("{s:s}", "note", "drill"), NULL);
        if (st != 200) {
            fprintf(stderr, "custos: the demo's drill: task %s answered %d\n", DEMO_STEPS[i].task,
                    st);
            goto out;
        }
        if (strcmp(DEMO_STEPS[i].task, "regulator-initial") == 0) {
            snprintf(path, sizeof path, "/v1/incidents/%s/filed", inc);
            demo_call(&d, tleg, "POST", path, json_pack("{s:s}", "report", "cac-initial"), NULL);
        }
    }
    for (const char *const *ph = (const char *const[]){"recovery", "post-incident", NULL}; *ph;
         ph++) {
        snprintf(path, sizeof path, "/v1/incidents/%s/phase", inc);
        demo_call(&d, tsec, "POST", path, json_pack("{s:s}", "phase", *ph), NULL);
    }
    snprintf(path, sizeof path, "/v1/incidents/%s/close", inc);
    if (demo_call(&d, tleg, "POST", path, json_pack("{s:s}", "closing", "true-positive-no-impact"),
                  NULL) != 200) {
        fputs("custos: the demo's drill incident could not be closed\n", stderr);
        goto out;
    }
    printf("demo drill %s run on the live server and closed (incident %s); its after-action "
           "report: custos drill report %s\n",
           id, inc, id);
    rc = 0;
out:
    json_decref(j);
    mem_wipe(tsec, sizeof tsec);
    mem_wipe(tleg, sizeof tleg);
    mem_wipe(tser, sizeof tser);
    mem_wipe(tstw, sizeof tstw);
    demo_stop(&d);
    return rc;
}
