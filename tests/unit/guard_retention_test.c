/*
 * guard_retention_test.c - what keeps guard.db and custos.db from growing without
 * bound: violations counted per person, rule and hour instead of one row per
 * occurrence; retention that removes old violation rows, long-closed alerts, the
 * oldest known addresses beyond a per-account cap, and long-expired sessions.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/witness.h"
#include "core/clock.h"
#include "guard/guard.h"
#include "store/guard_store.h"
#include "store/store.h"
#include "test.h"

#define S 1000000LL
#define MIN (60 * S)
#define HOUR (3600 * S)
#define DAY (24 * HOUR)
/* 2026-03-02T21:00:00+08:00, a Monday evening in Beijing: off hours */
static const int64_t T_EVENING = 1772456400LL * S;
static int64_t now_us;

static int64_t test_clock(void *ctx)
{
    (void)ctx;
    return now_us;
}

static long long count_rows(const char *db, const char *q)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

/* The shipped off-hours rule, matching every read of an evening's work: 10,000 reads over
 * two hours make a handful of rows whose counts add up to 10,000. */
TEST(t_violations_counted)
{
    char *dir = test_tmpdir("guard-ret");
    char db[600];
    snprintf(db, sizeof db, "%s/guard.db", dir);
    guard_rules *r = NULL;
    EXPECT_OK(guard_rules_parse(slice_cstr("timezone Asia/Shanghai\n"
                                           "schedule default mon-fri 08:00-20:00\n"
                                           "queue 20000\n"
                                           "rule off-hours\n detect off_hours\n events reads\n"
                                           " threshold 1 within 1h\n severity low\nend\n"),
                                "t.rules", &r));
    guard_options o;
    memset(&o, 0, sizeof o);
    o.db_path = db;
    o.clock = test_clock;
    o.offline = true;
    guard *g = NULL;
    now_us = T_EVENING;
    EXPECT_OK(guard_open(r, &o, &g));
    if (!g) {
        guard_rules_free(r);
        return;
    }
    const char *users[] = {"ann", "bo"};
    for (int i = 0; i < 10000; i++) {
        guard_event e;
        memset(&e, 0, sizeof e);
        e.kind = GUARD_EV_CUSTOMER_READ;
        e.time_us = T_EVENING + (int64_t)i * (2 * HOUR / 10000); /* 21:00 to 23:00 */
        e.username = users[i % 2];
        e.role = "customer_service";
        e.department = "beijing";
        e.source = "10.0.0.7";
        e.audit_index = 1000 + i;
        e.route_known = true;
        e.status = 200;
        guard_observe(g, &e);
        if (i % 2000 == 1999) {
            guard_sync(g);
        }
    }
    guard_sync(g);
    json_t *out = NULL;
    EXPECT_OK(guard_violations(g, NULL, 0, 1000, &out));
    json_t *rows = json_object_get(out, "violations");
    long long total = 0;
    size_t i;
    json_t *v;
    json_array_foreach(rows, i, v)
    {
        total += json_integer_value(json_object_get(v, "count"));
        EXPECT_STR(json_string_value(json_object_get(v, "rule")), "off-hours");
    }
    /* Two people, two hours (21:00 and 22:00): four rows. */
    printf("    %zu violation rows for 10000 findings\n", json_array_size(rows));
    EXPECT_INT(json_array_size(rows), 4);
    EXPECT_INT(total, 10000);
    json_decref(out);
    guard_close(g);
    EXPECT_INT(count_rows(db, "SELECT count(*) FROM violations"), 4);
    EXPECT_INT(count_rows(db, "SELECT sum(count) FROM violations"), 10000);
    free(dir);
}

/* A guard.db written before violations were counted opens, keeps its rows, and counts new
 * ones from then on. */
TEST(t_old_guard_db_migrated)
{
    char *dir = test_tmpdir("guard-ret");
    char db[600];
    snprintf(db, sizeof db, "%s/guard.db", dir);
    sqlite3 *h = NULL;
    EXPECT_INT(sqlite3_open(db, &h), SQLITE_OK);
    EXPECT_INT(sqlite3_exec(h,
                            "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                            "INSERT INTO meta VALUES('guard_schema','1');"
                            "CREATE TABLE violations(id INTEGER PRIMARY KEY AUTOINCREMENT, "
                            "username TEXT NOT NULL, time_us INTEGER NOT NULL, kind TEXT NOT "
                            "NULL, rule TEXT NOT NULL, detail TEXT NOT NULL, evidence INTEGER NOT "
                            "NULL, alert INTEGER NOT NULL);"
                            "INSERT INTO violations(username, time_us, kind, rule, detail, "
                            "evidence, alert) VALUES('ann', 5, 'finding', 'r', 'd', 1, 0),"
                            "('ann', 6, 'finding', 'r', 'd', 2, 0);",
                            NULL, NULL, NULL),
               SQLITE_OK);
    sqlite3_close(h);
    guard_store *s = NULL;
    EXPECT_OK(guard_store_open(db, &s));
    if (!s) {
        return;
    }
    gs_violation v;
    memset(&v, 0, sizeof v);
    snprintf(v.username, sizeof v.username, "ann");
    snprintf(v.kind, sizeof v.kind, "finding");
    snprintf(v.rule, sizeof v.rule, "r");
    v.evidence = 3;
    for (int i = 0; i < 3; i++) {
        v.time_us = 10 * S + i;
        EXPECT_OK(guard_store_violation_add(s, &v));
    }
    guard_store_close(s);
    EXPECT_INT(count_rows(db, "SELECT count(*) FROM violations"), 3);
    EXPECT_INT(count_rows(db, "SELECT sum(count) FROM violations"), 5);
    free(dir);
}

typedef struct seen {
    int rows;
    int64_t total, last_evidence[2];
} seen;

static err count_row(void *ctx, const gs_violation *v)
{
    seen *z = ctx;
    if (z->rows < 2) {
        z->last_evidence[z->rows] = v->evidence;
    }
    z->rows++;
    z->total += v->count;
    return ERR_OK;
}

/* Denials are counted per thing denied: a probe repeated 500 times on two actions is two
 * rows, each with its count and its latest audit index. */
TEST(t_denials_counted)
{
    guard_store *s = NULL;
    EXPECT_OK(guard_store_open(NULL, &s));
    if (!s) {
        return;
    }
    gs_violation v;
    memset(&v, 0, sizeof v);
    snprintf(v.username, sizeof v.username, "sam");
    snprintf(v.kind, sizeof v.kind, "denied");
    for (int i = 0; i < 1000; i++) {
        snprintf(v.detail, sizeof v.detail, "%s", i % 2 ? "customer.erase" : "notes");
        v.time_us = T_EVENING + i * S;
        v.evidence = 5000 + i;
        EXPECT_OK(guard_store_violation_add(s, &v));
    }
    seen z = {0, 0, {0, 0}};
    EXPECT_OK(guard_store_violations(s, "sam", 0, 100, count_row, &z));
    EXPECT_INT(z.rows, 2);
    EXPECT_INT(z.total, 1000);
    EXPECT_INT(z.last_evidence[0] + z.last_evidence[1], 5999 + 5998);
    guard_store_close(s);
}

static void add_alert(guard_store *s, const char *subject, int64_t at, bool closed)
{
    gs_alert *a = calloc(1, sizeof *a);
    snprintf(a->rule, sizeof a->rule, "r");
    snprintf(a->detector, sizeof a->detector, "login_fail");
    snprintf(a->subject, sizeof a->subject, "%s", subject);
    a->count = 1;
    a->first_us = a->last_us = at;
    EXPECT_OK(guard_store_alert_insert(s, a));
    if (closed) {
        EXPECT_OK(guard_store_alert_status(s, a->id, "closed", "sec1", "handled", at));
    }
    free(a);
}

TEST(t_retention_purges)
{
    char *dir = test_tmpdir("guard-ret");
    char db[600];
    snprintf(db, sizeof db, "%s/guard.db", dir);
    guard_store *s = NULL;
    EXPECT_OK(guard_store_open(db, &s));
    if (!s) {
        return;
    }
    const int64_t now = T_EVENING + 400 * DAY;
    gs_violation v;
    memset(&v, 0, sizeof v);
    snprintf(v.kind, sizeof v.kind, "denied");
    v.evidence = -1;
    for (int d = 0; d < 10; d++) { /* one row a day, 395 to 404 days ago */
        snprintf(v.username, sizeof v.username, "u%d", d);
        v.time_us = now - (395 + d) * DAY;
        EXPECT_OK(guard_store_violation_add(s, &v));
    }
    snprintf(v.username, sizeof v.username, "recent");
    v.time_us = now - DAY;
    EXPECT_OK(guard_store_violation_add(s, &v));
    add_alert(s, "account:old-closed", now - 370 * DAY, true);
    add_alert(s, "account:old-open", now - 370 * DAY, false);
    add_alert(s, "account:new-closed", now - 10 * DAY, true);
    for (int i = 0; i < 300; i++) {
        char addr[32];
        snprintf(addr, sizeof addr, "10.2.%d.%d", i / 200, i % 200);
        EXPECT_OK(guard_store_known_add(s, "roamer", addr, now - (300 - i) * MIN));
    }
    EXPECT_OK(guard_store_known_add(s, "desk", "10.3.0.1", now - 500 * DAY));
    gs_retention r = {GUARD_KEEP_VIOLATIONS_US, GUARD_KEEP_CLOSED_ALERTS_US, GUARD_KEEP_ADDRESSES};
    gs_purged p;
    EXPECT_OK(guard_store_purge(s, &r, now, &p));
    EXPECT_INT(p.violations, 10); /* 395 to 404 days old: past 365 */
    EXPECT_INT(p.alerts, 1);
    EXPECT_INT(p.addresses, 300 - GUARD_KEEP_ADDRESSES);
    bool has = false;
    EXPECT_OK(guard_store_known_has(s, "roamer", "10.2.1.99", &has)); /* the newest */
    EXPECT(has);
    EXPECT_OK(guard_store_known_has(s, "roamer", "10.2.0.0", &has)); /* the oldest */
    EXPECT(!has);
    EXPECT_OK(guard_store_known_has(s, "desk", "10.3.0.1", &has)); /* under the cap: kept */
    EXPECT(has);
    /* Nothing more to remove the second time. */
    EXPECT_OK(guard_store_purge(s, &r, now, &p));
    EXPECT_INT(p.violations + p.alerts + p.addresses, 0);
    guard_store_close(s);
    EXPECT_INT(count_rows(db, "SELECT count(*) FROM violations"), 1);
    EXPECT_INT(count_rows(db, "SELECT count(*) FROM alerts"), 2);
    EXPECT_INT(count_rows(db, "SELECT count(*) FROM alerts WHERE subject='account:old-open'"), 1);
    free(dir);
}

TEST(t_sessions_purged)
{
    char *dir = test_tmpdir("store-ret");
    char db[600];
    snprintf(db, sizeof db, "%s/custos.db", dir);
    store *s = NULL;
    EXPECT_OK(store_open(db, true, &s));
    if (!s) {
        return;
    }
    account a;
    memset(&a, 0, sizeof a);
    id_new(a.id, "acc");
    snprintf(a.username, sizeof a.username, "service1");
    snprintf(a.role, sizeof a.role, "customer_service");
    snprintf(a.department, sizeof a.department, "beijing");
    snprintf(a.pwhash, sizeof a.pwhash, "$argon2id$fake");
    EXPECT_OK(store_account_insert(s, &a));
    for (int i = 0; i < 20; i++) {
        uint8_t h[SESSION_HASH_LEN] = {(uint8_t)i, 7};
        session_row row = {.created_us = i * DAY, .expires_us = i * DAY + 8 * HOUR};
        snprintf(row.account_id, sizeof row.account_id, "%s", a.id);
        EXPECT_OK(store_session_insert(s, h, &row));
    }
    int64_t n = 0;
    /* Expired before day 10: sessions 0 to 9. */
    EXPECT_OK(store_sessions_purge(s, 10 * DAY, &n));
    EXPECT_INT(n, 10);
    session_row got;
    uint8_t h9[SESSION_HASH_LEN] = {9, 7}, h10[SESSION_HASH_LEN] = {10, 7};
    EXPECT_ERR(store_session_get(s, h9, &got), ERR_AUTH);
    EXPECT_OK(store_session_get(s, h10, &got));
    store_close(s);
    free(dir);
}

/* custos.json: the retention and erasure-journal sections, and what they refuse. */
TEST(t_config_sections)
{
    vault_config c;
    EXPECT_OK(vault_config_parse(
        slice_cstr("{\"erasures\": {\"journal\": \"/srv/e/erasures.journal\"},"
                   " \"retention\": {\"violations_days\": 30, \"closed_alerts_days\": 0.5,"
                   " \"known_addresses_per_account\": 10, \"sessions_days\": 2}}"),
        &c));
    EXPECT_STR(c.erasure_journal, "/srv/e/erasures.journal");
    EXPECT_INT(c.keep_violations_us, 30 * DAY);
    EXPECT_INT(c.keep_alerts_us, DAY / 2);
    EXPECT_INT(c.keep_addresses, 10);
    EXPECT_INT(c.keep_sessions_us, 2 * DAY);
    EXPECT_OK(vault_config_parse(slice_cstr("{}"), &c));
    EXPECT_STR(c.erasure_journal, "");
    EXPECT_INT(c.keep_violations_us, 0);
    const char *bad[] = {
        "{\"erasures\": {\"journal\": \"relative/erasures.journal\"}}",
        "{\"erasures\": {\"journal\": 5}}",
        "{\"erasures\": {\"path\": \"/x\"}}",
        "{\"erasures\": []}",
        "{\"retention\": {\"violations_days\": 0}}",
        "{\"retention\": {\"sessions_days\": \"30\"}}",
        "{\"retention\": {\"known_addresses_per_account\": 0}}",
        "{\"retention\": {\"known_addresses_per_account\": 2.5}}",
        "{\"retention\": {\"audit_days\": 30}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_ERR(vault_config_parse(slice_cstr(bad[i]), &c), ERR_INPUT);
    }
}

int main(void)
{
    test_init();
    RUN(t_violations_counted);
    RUN(t_denials_counted);
    RUN(t_old_guard_db_migrated);
    RUN(t_retention_purges);
    RUN(t_sessions_purged);
    RUN(t_config_sections);
    return test_done("guard_retention_test");
}
