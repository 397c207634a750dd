/*
 * guard_cmd.c - `custos guard ...`: the rules tooling, offline.
 *
 *   guard check RULES                  validate a rules file
 *   guard replay --rules RULES DIR     what the rules would raise over DIR/audit.db
 *
 * A replay never touches the vault's guard.db, delivers nothing and calls no
 * hook: it runs an offline guard with its state in memory.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "guard/guard.h"

static void usage(void)
{
    fputs("usage: custos guard check RULES\n"
          "       custos guard replay --rules RULES DIR [--json]\n",
          stderr);
}

static int check(args *a)
{
    if (a->npos != 2) {
        usage();
        return 2;
    }
    guard_rules *r = NULL;
    err e = guard_rules_load(a->pos[1], &r);
    if (e != ERR_OK) {
        fprintf(stderr, "%s\n", err_message());
        return 1;
    }
    size_t n = guard_rules_count(r);
    printf("%s: ok (%zu rule%s)\n", a->pos[1], n, n == 1 ? "" : "s");
    guard_rules_free(r);
    return 0;
}

static void print_alert(json_t *al)
{
    json_t *ev = json_object_get(al, "evidence");
    printf("  #%lld %-8s %-28s %s  count=%lld\n",
           (long long)json_integer_value(json_object_get(al, "id")),
           json_string_value(json_object_get(al, "severity")),
           json_string_value(json_object_get(al, "rule")),
           json_string_value(json_object_get(al, "subject")),
           (long long)json_integer_value(json_object_get(al, "count")));
    printf("      %s .. %s\n", json_string_value(json_object_get(al, "first_seen")),
           json_string_value(json_object_get(al, "last_seen")));
    printf("      %s\n", json_string_value(json_object_get(al, "detail")));
    printf("      would: %s", json_string_value(json_object_get(al, "responses")));
    json_t *rec = json_object_get(al, "recipients");
    size_t i;
    json_t *v;
    printf("; to:");
    json_array_foreach(rec, i, v)
    {
        printf(" %s", json_string_value(v));
    }
    printf("\n      evidence (audit indexes):");
    json_array_foreach(ev, i, v)
    {
        printf("%s%lld", i ? "," : " ", (long long)json_integer_value(v));
    }
    printf("\n");
}

static int replay(args *a)
{
    const char *rules_path = args_opt(a, "--rules");
    if (!rules_path || a->npos != 2) {
        usage();
        return 2;
    }
    char db[PATH_MAX];
    snprintf(db, sizeof db, "%s/audit.db", a->pos[1]);
    guard_rules *r = NULL;
    err e = guard_rules_load(rules_path, &r);
    if (e != ERR_OK) {
        fprintf(stderr, "%s\n", err_message());
        return 1;
    }
    guard_options o;
    memset(&o, 0, sizeof o);
    o.offline = true; /* in memory: never the vault's guard.db */
    guard *g = NULL;
    e = guard_open(r, &o, &g);
    if (e != ERR_OK) {
        guard_rules_free(r);
        return cli_fail(e);
    }
    guard_replay_stats st;
    e = guard_replay_audit(g, db, &st);
    if (e != ERR_OK) {
        guard_close(g);
        return cli_fail(e);
    }
    const guard_rules *gr = guard_rules_of(g);
    guard_alert_filter f;
    memset(&f, 0, sizeof f);
    f.limit = 1000;
    json_t *alerts = NULL;
    e = guard_alerts(g, &f, &alerts);
    if (e != ERR_OK) {
        guard_close(g);
        return cli_fail(e);
    }
    json_t *list = json_object_get(alerts, "alerts");
    size_t nrules = guard_rules_count(gr);
    int rc = 0;
    if (a->json) {
        json_t *rules = json_array();
        for (size_t i = 0; i < nrules; i++) {
            const char *name = guard_rules_rule_name(gr, i);
            size_t na = 0, k;
            json_t *v;
            json_array_foreach(list, k, v)
            {
                na += strcmp(json_string_value(json_object_get(v, "rule")), name) == 0;
            }
            json_array_append_new(rules, json_pack("{s:s, s:I, s:I}", "rule", name, "firings",
                                                   (json_int_t)guard_rule_firings(g, i), "alerts",
                                                   (json_int_t)na));
        }
        json_t *out =
            json_pack("{s:s, s:I, s:I, s:I, s:o, s:O}", "log", db, "entries",
                      (json_int_t)st.entries, "events", (json_int_t)st.events, "not_mapped",
                      (json_int_t)st.skipped, "rules", rules, "alerts", list);
        char *s = out ? json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        if (s) {
            puts(s);
        } else {
            rc = 1;
        }
        free(s);
        json_decref(out);
    } else {
        printf("replayed %s: %llu entries, %llu events, %llu not mapped\n", db,
               (unsigned long long)st.entries, (unsigned long long)st.events,
               (unsigned long long)st.skipped);
        printf("\n  %-32s %10s %8s\n", "rule", "firings", "alerts");
        for (size_t i = 0; i < nrules; i++) {
            const char *name = guard_rules_rule_name(gr, i);
            size_t na = 0, k;
            json_t *v;
            json_array_foreach(list, k, v)
            {
                na += strcmp(json_string_value(json_object_get(v, "rule")), name) == 0;
            }
            printf("  %-32s %10llu %8zu\n", name, (unsigned long long)guard_rule_firings(g, i), na);
        }
        size_t n = json_array_size(list);
        bool more = !json_is_null(json_object_get(alerts, "next"));
        printf("\n%s%zu alert%s would be raised%s\n", more ? "more than " : "", n,
               n == 1 ? "" : "s",
               more ? " (the newest shown)"
               : n  ? ":"
                    : "");
        /* oldest first */
        for (size_t i = n; i-- > 0;) {
            print_alert(json_array_get(list, i));
        }
    }
    json_decref(alerts);
    guard_close(g);
    return rc;
}

int cmd_guard(args *a)
{
    if (a->npos < 1) {
        usage();
        return 2;
    }
    if (strcmp(a->pos[0], "check") == 0) {
        return check(a);
    }
    if (strcmp(a->pos[0], "replay") == 0) {
        return replay(a);
    }
    usage();
    return 2;
}
