/*
 * training_cmd.c - `custos training ...`. `check` reads a course folder and says
 * what is wrong with it (file, line, field); `import` stores a course in the
 * vault (offline, with the master key, as the system actor); the rest asks the
 * server as the signed-in user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "door/door_training.h"
#include "training/training.h"

#define TRAINING_USAGE                                                                             \
    "custos training check COURSE_DIR\n"                                                           \
    "       custos training import VAULT_DIR COURSE_DIR [--key-file F]   (offline)\n"              \
    "       custos training courses | status [--user U] | results [--user U | --all]\n"            \
    "       custos training assign COURSE (--role R | --department D | --user U) "                 \
    "[--starts YYYY-MM-DD]\n"                                                                      \
    "       custos training assignments | unassign ID | remind | report COURSE\n"                  \
    "       custos training valid-until USER YYYY-MM-DD --reason TEXT\n"                           \
    "       custos training metrics [--by person|department|course|quarter] [--course C]\n"        \
    "                [--department D] [--quarter 2026Q4] [--user U] [--csv groups|weakest|...]\n"  \
    "       custos training remedial USER COURSE [--violation RULE] [--blocking yes|no]\n"         \
    "       custos training remedials [--user U | --all] [--open yes]\n"                           \
    "       custos training withdraw ID --reason TEXT\n"

static int usage_fail(void)
{
    fputs("usage: " TRAINING_USAGE, stderr);
    return 2;
}

/* Path segments: ids and usernames are [a-z0-9_.-]. */
static bool seg_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-' || (c >= 'A' && c <= 'Z'))) {
            return false;
        }
    }
    return true;
}

static int get(const args *a, const char *path)
{
    return cli_call_print(a, "GET", path, NULL, slice_of("", 0));
}

static int check(const char *dir)
{
    course *c = NULL;
    err e = course_check_dir(dir, &c);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    printf("course %s version %s: %zu lessons in %zu languages, %zu questions, %zu assets\n", c->id,
           c->version, c->nlessons, c->nlangs, c->nquestions, c->nassets);
    course_free(c);
    return 0;
}

static int import(const args *a, const char *vdir, const char *cdir)
{
    vault_key src;
    err e = vault_key_from_env(args_opt(a, "--key-file"), &src);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    vault *v = NULL;
    if ((e = vault_open(vdir, &src, &v)) != ERR_OK) {
        return cli_fail(e);
    }
    actor sys;
    actor_system(&sys, "training");
    json_t *res = NULL;
    e = door_training_import(v, &sys, cdir, &res);
    vault_close(v);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    printf("imported course %s version %s (%lld lessons, %lld questions, %lld files)\n",
           json_string_value(json_object_get(res, "course")),
           json_string_value(json_object_get(res, "version")),
           (long long)json_integer_value(json_object_get(res, "lessons")),
           (long long)json_integer_value(json_object_get(res, "questions")),
           (long long)json_integer_value(json_object_get(res, "files")));
    json_decref(res);
    return 0;
}

int cmd_training(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    char path[300];
    if (strcmp(sub, "check") == 0 && a->npos == 2) {
        return check(a->pos[1]);
    }
    if (strcmp(sub, "import") == 0 && a->npos == 3) {
        return import(a, a->pos[1], a->pos[2]);
    }
    if (strcmp(sub, "courses") == 0) {
        return get(a, "/v1/training/courses");
    }
    if (strcmp(sub, "status") == 0 || strcmp(sub, "results") == 0) {
        const char *u = args_flag(a, "--all") ? "*" : args_opt(a, "--user");
        if (u && strcmp(u, "*") != 0 && !seg_ok(u, 80)) {
            return usage_fail();
        }
        snprintf(path, sizeof path, "/v1/training/%s%s%s", sub,
                 u ? (strcmp(u, "*") == 0 ? "?username=%2A" : "?username=") : "",
                 u && strcmp(u, "*") != 0 ? u : "");
        return get(a, path);
    }
    if (strcmp(sub, "assignments") == 0) {
        return get(a, "/v1/training/assignments");
    }
    if (strcmp(sub, "assign") == 0 && a->npos == 2) {
        const char *kind = args_opt(a, "--role")         ? "role"
                           : args_opt(a, "--department") ? "department"
                           : args_opt(a, "--user")       ? "account"
                                                         : NULL;
        if (!kind) {
            return usage_fail();
        }
        const char *target = args_opt(a, strcmp(kind, "role") == 0         ? "--role"
                                         : strcmp(kind, "department") == 0 ? "--department"
                                                                           : "--user");
        json_t *o = json_pack("{s:s,s:s,s:s}", "course", a->pos[1], "kind", kind, "target", target);
        if (args_opt(a, "--starts")) {
            json_object_set_new(o, "starts_at", json_string(args_opt(a, "--starts")));
        }
        return cli_send_json(a, "POST", "/v1/training/assignments", o);
    }
    if (strcmp(sub, "unassign") == 0 && a->npos == 2 && seg_ok(a->pos[1], 80)) {
        snprintf(path, sizeof path, "/v1/training/assignments/%s", a->pos[1]);
        return cli_call_print(a, "DELETE", path, NULL, slice_of("", 0));
    }
    if (strcmp(sub, "remind") == 0) {
        return cli_send_json(a, "POST", "/v1/training/reminders", json_object());
    }
    if (strcmp(sub, "report") == 0 && a->npos == 2 && seg_ok(a->pos[1], 80)) {
        snprintf(path, sizeof path, "/v1/training/courses/%s/report", a->pos[1]);
        return get(a, path);
    }
    if (strcmp(sub, "valid-until") == 0 && a->npos == 3 && seg_ok(a->pos[1], 80) &&
        args_opt(a, "--reason")) {
        snprintf(path, sizeof path, "/v1/training/accounts/%s/valid-until", a->pos[1]);
        return cli_send_json(
            a, "POST", path,
            json_pack("{s:s,s:s}", "valid_until", a->pos[2], "reason", args_opt(a, "--reason")));
    }
    if (strcmp(sub, "metrics") == 0 && a->npos == 1) {
        static const char *const Q[][2] = {
            {"--by", "by"},           {"--course", "course"}, {"--department", "department"},
            {"--quarter", "quarter"}, {"--user", "username"}, {"--csv", "table"}};
        size_t len = (size_t)snprintf(path, sizeof path, "/v1/training/metrics?format=%s",
                                      args_opt(a, "--csv") ? "csv" : "json");
        for (size_t i = 0; i < sizeof Q / sizeof Q[0]; i++) {
            const char *v = args_opt(a, Q[i][0]);
            if (!v) {
                continue;
            }
            if (!seg_ok(v, 65)) {
                return usage_fail();
            }
            len += (size_t)snprintf(path + len, sizeof path - len, "&%s=%s", Q[i][1], v);
            if (len >= sizeof path) {
                return usage_fail();
            }
        }
        return get(a, path);
    }
    if (strcmp(sub, "remedial") == 0 && a->npos == 3) {
        const char *bl = args_opt(a, "--blocking");
        if (bl && strcmp(bl, "yes") != 0 && strcmp(bl, "no") != 0) {
            return usage_fail();
        }
        json_t *o = json_pack("{s:s,s:s,s:b}", "username", a->pos[1], "course", a->pos[2],
                              "blocking", !bl || strcmp(bl, "yes") == 0);
        if (args_opt(a, "--violation")) {
            json_object_set_new(o, "violation", json_string(args_opt(a, "--violation")));
        }
        return cli_send_json(a, "POST", "/v1/training/remedial", o);
    }
    if (strcmp(sub, "remedials") == 0 && a->npos == 1) {
        const char *u = args_flag(a, "--all") ? "%2A" : args_opt(a, "--user");
        if (u && strcmp(u, "%2A") != 0 && !seg_ok(u, 80)) {
            return usage_fail();
        }
        const char *open = args_opt(a, "--open");
        snprintf(path, sizeof path, "/v1/training/remedial?open=%s%s%s",
                 open && strcmp(open, "yes") == 0 ? "1" : "0", u ? "&username=" : "", u ? u : "");
        return get(a, path);
    }
    if (strcmp(sub, "withdraw") == 0 && a->npos == 2 && seg_ok(a->pos[1], 80) &&
        args_opt(a, "--reason")) {
        snprintf(path, sizeof path, "/v1/training/remedial/%s", a->pos[1]);
        return cli_send_json(a, "DELETE", path,
                             json_pack("{s:s}", "reason", args_opt(a, "--reason")));
    }
    return usage_fail();
}
