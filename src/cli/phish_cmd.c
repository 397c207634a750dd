/*
 * phish_cmd.c - `custos phish ...`. `check` reads a template and says what is wrong
 * with it (file and line); the rest asks the server as the signed-in user: campaigns
 * (HR creates them from a template file and target groups), a campaign's metrics, one's
 * own results, and reporting a suspicious mail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "training/phish.h"

#define PHISH_USAGE                                                                                \
    "custos phish check TEMPLATE_FILE\n"                                                           \
    "       custos phish campaigns | metrics CAMPAIGN | mine | report [LINK]\n"                    \
    "       custos phish create TEMPLATE_FILE [--name N] [--roles a,b] [--departments a,b]\n"      \
    "             [--users a,b] [--starts T] [--ends T] [--remedial COURSE] [--networks CIDRS]\n"  \
    "             [--scanner-seconds N] [--track-days N]\n"

static int usage_fail(void)
{
    fputs("usage: " PHISH_USAGE, stderr);
    return 2;
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *p = calloc(1, PHISH_TEMPLATE_MAX + 2);
    *n = p ? fread(p, 1, PHISH_TEMPLATE_MAX + 1, f) : 0;
    fclose(f);
    return p;
}

static int check(const char *path)
{
    size_t n = 0;
    char *txt = read_file(path, &n);
    if (!txt) {
        fprintf(stderr, "custos: %s: cannot be read\n", path);
        return 1;
    }
    phish_template *t = NULL;
    err e = phish_template_parse(slice_of(txt, n), path, &t);
    free(txt);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    printf("template %s (%s): \"%s\", %zu tell-tale signs%s\n", t->id, t->lang, t->subject,
           t->nsigns, t->landing ? ", a landing page" : "");
    phish_template_free(t);
    return 0;
}

/* "a,b,c" into a JSON list (NULL: an empty one). */
static json_t *csv_list(const char *s)
{
    json_t *arr = json_array();
    while (s && *s) {
        size_t k = strcspn(s, ",");
        if (k) {
            json_array_append_new(arr, json_stringn(s, k));
        }
        s += k + (s[k] == ',');
    }
    return arr;
}

static int create(const args *a, const char *path)
{
    size_t n = 0;
    char *txt = read_file(path, &n);
    if (!txt) {
        fprintf(stderr, "custos: %s: cannot be read\n", path);
        return 1;
    }
    json_t *o = json_pack("{s:s%,s:{s:o,s:o,s:o}}", "template", txt, n, "targets", "roles",
                          csv_list(args_opt(a, "--roles")), "departments",
                          csv_list(args_opt(a, "--departments")), "users",
                          csv_list(args_opt(a, "--users")));
    free(txt);
    static const char *const str_opts[][2] = {{"--name", "name"},
                                              {"--starts", "starts_at"},
                                              {"--ends", "ends_at"},
                                              {"--remedial", "remedial"}};
    for (size_t i = 0; i < sizeof str_opts / sizeof str_opts[0]; i++) {
        if (args_opt(a, str_opts[i][0])) {
            json_object_set_new(o, str_opts[i][1], json_string(args_opt(a, str_opts[i][0])));
        }
    }
    if (args_opt(a, "--networks")) {
        json_object_set_new(o, "networks", csv_list(args_opt(a, "--networks")));
    }
    if (args_opt(a, "--scanner-seconds")) {
        json_object_set_new(o, "scanner_seconds",
                            json_integer(strtol(args_opt(a, "--scanner-seconds"), NULL, 10)));
    }
    if (args_opt(a, "--track-days")) {
        json_object_set_new(o, "track_days",
                            json_integer(strtol(args_opt(a, "--track-days"), NULL, 10)));
    }
    return cli_send_json(a, "POST", "/v1/phish/campaigns", o);
}

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-')) {
            return false;
        }
    }
    return n > 0 && n < 48;
}

int cmd_phish(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    if (strcmp(sub, "check") == 0 && a->npos == 2) {
        return check(a->pos[1]);
    }
    if (strcmp(sub, "create") == 0 && a->npos == 2) {
        return create(a, a->pos[1]);
    }
    if (strcmp(sub, "campaigns") == 0 && a->npos == 1) {
        return cli_call_print(a, "GET", "/v1/phish/campaigns", NULL, slice_of("", 0));
    }
    if (strcmp(sub, "mine") == 0 && a->npos == 1) {
        return cli_call_print(a, "GET", "/v1/phish/mine", NULL, slice_of("", 0));
    }
    if (strcmp(sub, "metrics") == 0 && a->npos == 2 && id_ok(a->pos[1])) {
        char path[120];
        snprintf(path, sizeof path, "/v1/phish/campaigns/%s/metrics", a->pos[1]);
        return cli_call_print(a, "GET", path, NULL, slice_of("", 0));
    }
    if (strcmp(sub, "report") == 0 && a->npos <= 2) {
        json_t *o = json_object();
        if (a->npos == 2) {
            json_object_set_new(o, "link", json_string(a->pos[1]));
        }
        return cli_send_json(a, "POST", "/v1/phish/report", o);
    }
    return usage_fail();
}
