/*
 * guard_replay_test.c - replaying an audit log: a small log written with the
 * audit API (entries shaped like the door's) maps to the right events and the
 * rules raise what they should over it, without touching any guard.db; a
 * damaged entry stops the replay naming its index; and the CLI
 * (`custos guard check`, `custos guard replay`) says so on its output.
 */
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/audit.h"
#include "guard/guard.h"
#include "guard/guard_int.h"
#include "test.h"

#define S 1000000LL
static const int64_t T0 = 1772416800LL * S; /* 2026-03-02T10:00:00+08:00 */
static char dir[600], dbpath[700];

static audit_entry entry(const char *actor, const char *role, const char *source,
                         const char *action, const char *decision, int64_t ts)
{
    audit_entry e;
    memset(&e, 0, sizeof e);
    e.ts_us = ts;
    e.actor = actor;
    e.role = role;
    e.source = source;
    e.action = action;
    e.decision = decision;
    e.rule = decision[0] == 'a' ? "grant:test" : "default-deny";
    e.request_id = "req_test";
    e.count = -1;
    return e;
}

static void write_log(void)
{
    char *d = test_tmpdir("guard-replay");
    snprintf(dir, sizeof dir, "%s", d);
    free(d);
    snprintf(dbpath, sizeof dbpath, "%s/audit.db", dir);
    audit *a = NULL;
    if (audit_create(dbpath) != ERR_OK || audit_open(dbpath, &a) != ERR_OK) {
        printf("cannot create the audit log: %s\n", err_message());
        exit(2);
    }
    int64_t t = T0;
    audit_entry e;
    /* 0: a normal login, 1: a read, 2: a logout */
    e = entry("steward1", "data_steward", "10.20.3.31", "login", "allow", t += S);
    IGNORE(audit_append(a, &e, NULL));
    e = entry("steward1", "data_steward", "10.20.3.31", "customer.read", "allow", t += S);
    e.customer = "cus_aaaaaaaaaaaaaaaaaaaaaaaaaa";
    e.fields = "name,phone";
    IGNORE(audit_append(a, &e, NULL));
    e = entry("steward1", "data_steward", "10.20.3.31", "logout", "allow", t += S);
    IGNORE(audit_append(a, &e, NULL));
    /* 3..8: six failed logins against sales1 from one address, then one from elsewhere */
    for (int i = 0; i < 6; i++) {
        e = entry("sales1", "sales", "203.0.113.66", "login", "deny", t += S);
        e.rule = "bad-password";
        IGNORE(audit_append(a, &e, NULL));
    }
    e = entry("unknown:0011223344556677", "-", "203.0.113.67", "login", "deny", t += S);
    e.rule = "unknown-user";
    IGNORE(audit_append(a, &e, NULL)); /* 9 */
    /* 10: a sales person tries to export; 11: and to search by ID number */
    e = entry("sales2", "sales", "10.30.1.12", "customer.export", "deny", t += S);
    IGNORE(audit_append(a, &e, NULL));
    e = entry("sales2", "sales", "10.30.1.12", "customer.search", "deny", t += S);
    e.fields = "id_number";
    IGNORE(audit_append(a, &e, NULL));
    /* 12: a listing of 150 customers including the honeytoken; 13: the honeytoken opened */
    e = entry("service1", "customer_service", "10.20.2.21", "customer.list", "allow", t += S);
    e.customers = "cus_bbbbbbbbbbbbbbbbbbbbbbbbbb,cus_honeyhoneyhoneyhoneyhoney";
    e.count = 150;
    IGNORE(audit_append(a, &e, NULL));
    e = entry("service1", "customer_service", "10.20.2.21", "customer.read", "allow", t += S);
    e.customer = "cus_honeyhoneyhoneyhoneyhoney";
    IGNORE(audit_append(a, &e, NULL));
    /* 14: an empty search; 15: an administrative act */
    e = entry("service1", "customer_service", "10.20.2.21", "customer.search", "allow", t += S);
    e.count = 0;
    e.query_hash = "00112233445566778899aabbccddeeff";
    IGNORE(audit_append(a, &e, NULL));
    e = entry("admin", "admin", "10.10.0.44", "account.create", "allow", t += S);
    IGNORE(audit_append(a, &e, NULL));
    audit_close(a);
}

static const char *RULES = "honeytoken cus_honeyhoneyhoneyhoneyhoney\n"
                           "rule bf\n detect login_fail\n per account\n threshold 5 within 10m\n"
                           " respond alert, lock 30m\nend\n"
                           "rule bfa\n detect login_fail\n per address\n threshold 6 within 10m\n"
                           "end\n"
                           "rule probe\n detect denied\n threshold 2 within 1h\nend\n"
                           "rule bulk\n detect reads\n threshold 100 within 1h\nend\n"
                           "rule bait\n detect honeytoken\n severity critical\nend\n";

TEST(t_mapping)
{
    guard_rules *r = NULL;
    EXPECT_OK(guard_rules_parse(slice_cstr(RULES), "t.rules", &r));
    audit_entry e =
        entry("service1", "customer_service", "10.20.2.21", "customer.list", "allow", T0);
    e.customers = "cus_x,cus_honeyhoneyhoneyhoneyhoney,cus_y";
    e.count = 3;
    buf b;
    buf_init(&b, 0);
    EXPECT_OK(audit_encode(&e, 42, &b));
    guard_event ev;
    json_t *scratch = NULL;
    bool mapped = false;
    EXPECT_OK(guard_event_from_audit(r, buf_slice(&b), &ev, &scratch, &mapped));
    EXPECT(mapped);
    EXPECT_INT(ev.kind, GUARD_EV_CUSTOMER_READ);
    EXPECT_INT(ev.customers, 3);
    EXPECT(ev.honeytoken);
    EXPECT_STR(ev.customer, "cus_honeyhoneyhoneyhoneyhoney");
    EXPECT_INT(ev.audit_index, 42);
    EXPECT_INT(ev.time_us, T0);
    EXPECT_STR(ev.username, "service1");
    EXPECT_STR(ev.source, "10.20.2.21");
    json_decref(scratch);
    /* a denial carries what was attempted */
    e = entry("sales2", "sales", "10.30.1.12", "customer.search", "deny", T0);
    e.fields = "id_number";
    EXPECT_OK(audit_encode(&e, 43, &b));
    EXPECT_OK(guard_event_from_audit(r, buf_slice(&b), &ev, &scratch, &mapped));
    EXPECT(mapped && ev.kind == GUARD_EV_DENIED);
    EXPECT_STR(ev.categories, "id_number");
    json_decref(scratch);
    /* "-" reads as empty; a logout maps to nothing */
    e = entry("-", "-", "-", "logout", "allow", T0);
    EXPECT_OK(audit_encode(&e, 44, &b));
    EXPECT_OK(guard_event_from_audit(r, buf_slice(&b), &ev, &scratch, &mapped));
    EXPECT(!mapped);
    json_decref(scratch);
    /* a non-canonical entry is refused */
    const char *bad = "{\"v\":1,\"i\":1,\"action\":\"login\"}";
    EXPECT_ERR(guard_event_from_audit(r, slice_cstr(bad), &ev, &scratch, &mapped), ERR_INPUT);
    json_decref(scratch);
    buf_free(&b);
    guard_rules_free(r);
}

static json_t *replay_alerts(guard_replay_stats *st)
{
    guard_rules *r = NULL;
    if (guard_rules_parse(slice_cstr(RULES), "t.rules", &r) != ERR_OK) {
        return NULL;
    }
    guard_options o;
    memset(&o, 0, sizeof o);
    o.offline = true;
    guard *g = NULL;
    if (guard_open(r, &o, &g) != ERR_OK) {
        guard_rules_free(r);
        return NULL;
    }
    json_t *out = NULL;
    if (guard_replay_audit(g, dbpath, st) == ERR_OK) {
        guard_alert_filter f;
        memset(&f, 0, sizeof f);
        IGNORE(guard_alerts(g, &f, &out));
        EXPECT_INT(guard_rule_firings(g, 0), 1);
        EXPECT_INT(guard_rule_firings(g, 1), 1);
        EXPECT_INT(guard_rule_firings(g, 2), 1);
        EXPECT_INT(guard_rule_firings(g, 3), 1);
        EXPECT_INT(guard_rule_firings(g, 4), 2); /* the listing and the read */
    }
    guard_close(g);
    return out;
}

static json_t *alert_of(json_t *out, const char *rule)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(out, "alerts"), i, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "rule")), rule) == 0) {
            return a;
        }
    }
    return NULL;
}

TEST(t_replay)
{
    guard_replay_stats st;
    json_t *out = replay_alerts(&st);
    EXPECT(out != NULL);
    if (!out) {
        return;
    }
    EXPECT_INT(st.entries, 16);
    EXPECT_INT(st.events, 15);
    EXPECT_INT(st.skipped, 1);
    EXPECT_INT(json_array_size(json_object_get(out, "alerts")), 5);
    json_t *a = alert_of(out, "bf");
    EXPECT(a && strcmp(json_string_value(json_object_get(a, "account")), "sales1") == 0);
    json_t *ev = json_object_get(a, "evidence");
    EXPECT_INT(json_array_size(ev), 5);
    EXPECT_INT(json_integer_value(json_array_get(ev, 0)), 3);
    EXPECT_INT(json_integer_value(json_array_get(ev, 4)), 7);
    a = alert_of(out, "bfa");
    EXPECT(a && strcmp(json_string_value(json_object_get(a, "address")), "203.0.113.66") == 0 &&
           json_integer_value(json_object_get(a, "count")) == 1);
    a = alert_of(out, "probe");
    EXPECT(a && strcmp(json_string_value(json_object_get(a, "account")), "sales2") == 0);
    a = alert_of(out, "bulk");
    EXPECT(a && strcmp(json_string_value(json_object_get(a, "account")), "service1") == 0);
    a = alert_of(out, "bait");
    EXPECT(a && json_integer_value(json_object_get(a, "count")) == 2);
    json_decref(out);
    /* nothing was written next to the log */
    char p[800];
    snprintf(p, sizeof p, "%s/guard.db", dir);
    EXPECT(access(p, F_OK) != 0);
}

TEST(t_replay_damaged)
{
    char copy[800];
    snprintf(copy, sizeof copy, "%s/damaged", dir);
    mkdir(copy, 0700);
    snprintf(copy, sizeof copy, "%s/damaged/audit.db", dir);
    char cmd[2000];
    snprintf(cmd, sizeof cmd,
             "cp '%s' '%s' && for x in wal shm; do [ ! -e '%s'-$x ] || cp "
             "'%s'-$x '%s'-$x; done",
             dbpath, copy, dbpath, dbpath, copy);
    EXPECT(system(cmd) == 0);
    sqlite3 *db = NULL;
    EXPECT(sqlite3_open(copy, &db) == SQLITE_OK);
    EXPECT(sqlite3_exec(db,
                        "UPDATE entries SET entry=CAST(replace(CAST(entry AS TEXT), "
                        "'sales2', 'sales9') AS BLOB) WHERE idx=10",
                        NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    guard_rules *r = NULL;
    EXPECT_OK(guard_rules_parse(slice_cstr(RULES), "t.rules", &r));
    guard_options o;
    memset(&o, 0, sizeof o);
    o.offline = true;
    guard *g = NULL;
    EXPECT_OK(guard_open(r, &o, &g));
    guard_replay_stats st;
    /* still canonical JSON: the replay maps it (verification is `custos audit verify`) */
    EXPECT_OK(guard_replay_audit(g, copy, &st));
    EXPECT_INT(st.entries, 16);
    guard_close(g);
    db = NULL;
    EXPECT(sqlite3_open(copy, &db) == SQLITE_OK);
    EXPECT(sqlite3_exec(db, "UPDATE entries SET entry=CAST('{\"v\":1}' AS BLOB) WHERE idx=5", NULL,
                        NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    r = NULL;
    EXPECT_OK(guard_rules_parse(slice_cstr(RULES), "t.rules", &r));
    EXPECT_OK(guard_open(r, &o, &g));
    EXPECT_ERR(guard_replay_audit(g, copy, &st), ERR_INPUT);
    EXPECT(strstr(err_message(), "audit entry 5:") != NULL);
    guard_close(g);
    r = NULL;
    EXPECT_OK(guard_rules_parse(slice_cstr(RULES), "t.rules", &r));
    EXPECT_OK(guard_open(r, &o, &g));
    EXPECT_ERR(guard_replay_audit(g, "/nonexistent/audit.db", &st), ERR_IO);
    guard_close(g);
    snprintf(cmd, sizeof cmd, "rm -rf '%s/damaged'", dir);
    EXPECT(system(cmd) == 0);
}

/* The CLI, when the suite gives its binary. */
static int run(const char *cmd, char *out, size_t max)
{
    FILE *f = popen(cmd, "r");
    if (!f) {
        return -1;
    }
    size_t n = fread(out, 1, max - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(t_cli)
{
    const char *bin = getenv("CUSTOS_BIN");
    if (!bin || access(bin, X_OK) != 0) {
        printf("  (CUSTOS_BIN not set: CLI not exercised)\n");
        return;
    }
    char rules[800], cmd[3000], out[16384];
    snprintf(rules, sizeof rules, "%s/test.rules", dir);
    FILE *f = fopen(rules, "w");
    EXPECT(f != NULL);
    if (!f) {
        return;
    }
    fputs(RULES, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' guard check etc/guard.rules 2>&1", bin);
    EXPECT_INT(run(cmd, out, sizeof out), 0);
    EXPECT_STR(out, "etc/guard.rules: ok (18 rules)\n");
    snprintf(cmd, sizeof cmd, "'%s' guard check '%s' 2>&1", bin, rules);
    EXPECT_INT(run(cmd, out, sizeof out), 0);
    EXPECT(strstr(out, ": ok (5 rules)") != NULL);
    char bad[800];
    snprintf(bad, sizeof bad, "%s/bad.rules", dir);
    f = fopen(bad, "w");
    fputs("version 1\nrule x\n  detect reads\n  threshold lots within 1h\nend\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' guard check '%s' 2>&1", bin, bad);
    EXPECT_INT(run(cmd, out, sizeof out), 1);
    char want[900];
    snprintf(want, sizeof want, "%s:4: bad threshold 'lots'", bad);
    EXPECT(strncmp(out, want, strlen(want)) == 0);
    snprintf(cmd, sizeof cmd, "'%s' guard replay --rules '%s' '%s' 2>/dev/null", bin, rules, dir);
    EXPECT_INT(run(cmd, out, sizeof out), 0);
    EXPECT(strstr(out, "16 entries, 15 events, 1 not mapped") != NULL);
    EXPECT(strstr(out, "5 alerts would be raised:") != NULL);
    EXPECT(strstr(out, "critical bait") != NULL);
    EXPECT(strstr(out, "would: alert, lock 30m; to: security") != NULL);
    snprintf(cmd, sizeof cmd, "'%s' guard replay --rules '%s' '%s' --json 2>/dev/null", bin, rules,
             dir);
    EXPECT_INT(run(cmd, out, sizeof out), 0);
    json_t *j = json_loads(out, 0, NULL);
    EXPECT(j != NULL);
    EXPECT_INT(json_integer_value(json_object_get(j, "entries")), 16);
    EXPECT_INT(json_array_size(json_object_get(j, "alerts")), 5);
    EXPECT_INT(json_array_size(json_object_get(j, "rules")), 5);
    json_decref(j);
    snprintf(cmd, sizeof cmd, "'%s' guard replay '%s' 2>&1", bin, dir);
    EXPECT_INT(run(cmd, out, sizeof out), 2);
    snprintf(cmd, sizeof cmd, "'%s' guard replay --rules '%s' /nonexistent 2>&1", bin, rules);
    EXPECT(run(cmd, out, sizeof out) != 0);
    unlink(rules);
    unlink(bad);
}

int main(void)
{
    test_init();
    write_log();
    RUN(t_mapping);
    RUN(t_replay);
    RUN(t_replay_damaged);
    RUN(t_cli);
    if (getenv("GUARD_KEEP")) {
        printf("kept %s\n", dir);
        return test_done("guard_replay_test");
    }
    char cmd[800];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    IGNORE(system(cmd) == 0 ? ERR_OK : ERR_IO);
    return test_done("guard_replay_test");
}
