/*
 * store_suite_guard_test.c - the guard's persistence (guard_store.h) on both stores: a SQLite
 * file, then PostgreSQL (the suite's server, store_suite.h). Sanctions, alerts and their
 * states and filters, counted violations, known addresses, baselines (doubles exactly), batches
 * and retention; on PostgreSQL also two guard stores on one location, as two instances: a
 * block made through one is seen by the other, alert ids never collide.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/guard_store.h"
#include "store_suite.h"
#include "test.h"

static bool on_pg;

static guard_store *fresh(char *loc, size_t len)
{
    if (on_pg) {
        pg_location(loc, len);
    } else {
        char *d = test_tmpdir("guard-suite");
        snprintf(loc, len, "%s/guard.db", d);
        free(d);
    }
    guard_store *s = NULL;
    EXPECT_OK(guard_store_open(loc, &s));
    return s;
}

typedef struct collect {
    int n;
    char first[128];
    int64_t ids[16];
    double mean[4], var[4];
    int64_t count[8];
} collect;

static err on_sanction(void *ctx, const gs_sanction *x)
{
    collect *c = ctx;
    if (c->n == 0) {
        snprintf(c->first, sizeof c->first, "%s %s %lld %s", x->kind, x->subject,
                 (long long)x->until_us, x->by);
    }
    c->n++;
    return ERR_OK;
}

static err on_alert(void *ctx, const gs_alert *a)
{
    collect *c = ctx;
    if (c->n < 16) {
        c->ids[c->n] = a->id;
    }
    c->n++;
    return ERR_OK;
}

static err on_violation(void *ctx, const gs_violation *v)
{
    collect *c = ctx;
    if (c->n < 8) {
        c->count[c->n] = v->count;
    }
    c->n++;
    return ERR_OK;
}

static err on_text(void *ctx, const char *t)
{
    collect *c = ctx;
    if (c->n == 0) {
        snprintf(c->first, sizeof c->first, "%s", t);
    }
    c->n++;
    return ERR_OK;
}

static err on_slot(void *ctx, int slot, double mean, double var, int64_t n)
{
    collect *c = ctx;
    if (slot >= 0 && slot < 4) {
        c->mean[slot] = mean;
        c->var[slot] = var;
    }
    c->n++;
    return ERR_OK;
}

TEST(t_guard_rows)
{
    char loc[1200];
    guard_store *s = fresh(loc, sizeof loc);
    if (!s) {
        return;
    }
    /* sanctions */
    gs_sanction x = {.kind = "block",
                     .subject = "address:10.0.0.9",
                     .until_us = 500,
                     .rule = "bulk",
                     .by = "guard",
                     .created_us = 1};
    EXPECT_OK(guard_store_sanction_put(s, &x));
    x.until_us = 900; /* the same subject again: replaced */
    EXPECT_OK(guard_store_sanction_put(s, &x));
    gs_sanction y = {.kind = "lock",
                     .subject = "account:eve",
                     .until_us = 100,
                     .rule = "r",
                     .by = "admin",
                     .created_us = 2};
    EXPECT_OK(guard_store_sanction_put(s, &y));
    collect c = {0};
    EXPECT_OK(guard_store_sanctions(s, on_sanction, &c));
    EXPECT_INT(c.n, 2);
    EXPECT_STR(c.first, "block address:10.0.0.9 900 guard");
    EXPECT_OK(guard_store_sanction_expire(s, 100));
    bool removed = false;
    EXPECT_OK(guard_store_sanction_delete(s, "lock", "account:eve", &removed));
    EXPECT(!removed); /* expired already */
    EXPECT_OK(guard_store_sanction_delete(s, "block", "address:10.0.0.9", &removed));
    EXPECT(removed);
    /* alerts */
    gs_alert *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    snprintf(a->rule, sizeof a->rule, "bulk-read");
    snprintf(a->detector, sizeof a->detector, "volume");
    snprintf(a->subject, sizeof a->subject, "account:eve");
    snprintf(a->account, sizeof a->account, "eve");
    snprintf(a->department, sizeof a->department, "beijing");
    snprintf(a->evidence, sizeof a->evidence, "1,2,3");
    a->severity = 2;
    a->routes = 5;
    a->count = 3;
    a->first_us = 10;
    a->last_us = 20;
    EXPECT_OK(guard_store_alert_insert(s, a));
    EXPECT(a->id > 0);
    EXPECT_STR(a->status, "open");
    EXPECT_OK(guard_store_alert_find_open(s, "bulk-read", "account:eve", 15, b));
    EXPECT_INT(b->id, a->id);
    EXPECT_ERR(guard_store_alert_find_open(s, "bulk-read", "account:eve", 21, b), ERR_NOT_FOUND);
    EXPECT_OK(guard_store_alert_bump(s, a->id, 15, 4, "1,2,3,4", "lock"));
    EXPECT_OK(guard_store_alert_get(s, a->id, b));
    EXPECT_INT(b->count, 7);
    EXPECT_INT(b->last_us, 20); /* never goes back */
    EXPECT_STR(b->responses, "lock");
    EXPECT_STR(b->department, "beijing");
    EXPECT_OK(guard_store_alert_status(s, a->id, "acknowledged", "sec1", "", 30));
    EXPECT_OK(guard_store_alert_get(s, a->id, b));
    EXPECT_STR(b->ack_by, "sec1");
    EXPECT_INT(b->ack_us, 30);
    EXPECT_STR(b->closed_by, "");
    int64_t first = a->id;
    a->severity = 0;
    a->routes = 2;
    snprintf(a->rule, sizeof a->rule, "new-address");
    EXPECT_OK(guard_store_alert_insert(s, a));
    EXPECT(a->id > first);
    EXPECT_OK(guard_store_alert_status(s, first, "closed", "sec2", "handled", 40));
    EXPECT_OK(guard_store_alert_get(s, first, b));
    EXPECT_STR(b->close_reason, "handled");
    EXPECT_ERR(guard_store_alert_find_open(s, "bulk-read", "account:eve", 0, b), ERR_NOT_FOUND);
    EXPECT_ERR(guard_store_alert_status(s, 999999, "closed", "x", "", 1), ERR_NOT_FOUND);
    gs_alert_query q = {.min_severity = -1, .limit = 10};
    memset(&c, 0, sizeof c);
    EXPECT_OK(guard_store_alerts(s, &q, on_alert, &c));
    EXPECT_INT(c.n, 2);
    EXPECT_INT(c.ids[0], a->id); /* newest first */
    q.min_severity = 1;
    memset(&c, 0, sizeof c);
    EXPECT_OK(guard_store_alerts(s, &q, on_alert, &c));
    EXPECT_INT(c.n, 1);
    q.min_severity = -1;
    q.route = 4;
    memset(&c, 0, sizeof c);
    EXPECT_OK(guard_store_alerts(s, &q, on_alert, &c));
    EXPECT_INT(c.n, 1);
    EXPECT_INT(c.ids[0], first);
    q.route = 0;
    q.status = "open";
    q.department = "beijing";
    memset(&c, 0, sizeof c);
    EXPECT_OK(guard_store_alerts(s, &q, on_alert, &c));
    EXPECT_INT(c.n, 1);
    q.status = NULL;
    q.before_id = a->id;
    memset(&c, 0, sizeof c);
    EXPECT_OK(guard_store_alerts(s, &q, on_alert, &c));
    EXPECT_INT(c.n, 1);
    /* violations: counted per person, kind, rule, window (and thing denied) */
    int64_t hour = GS_VIOLATION_WINDOW_US;
    gs_violation v = {.username = "eve",
                      .time_us = 5 * hour + 1,
                      .kind = "denied",
                      .rule = "dept",
                      .detail = "customer.read",
                      .evidence = 7};
    EXPECT_OK(guard_store_violation_add(s, &v));
    v.time_us += 10;
    EXPECT_OK(guard_store_violation_add(s, &v));
    snprintf(v.detail, sizeof v.detail, "customer.export");
    EXPECT_OK(guard_store_violation_add(s, &v));
    v.time_us = 6 * hour + 1; /* the next window */
    EXPECT_OK(guard_store_violation_add(s, &v));
    memset(&c, 0, sizeof c);
    EXPECT_OK(guard_store_violations(s, "eve", 0, 10, on_violation, &c));
    EXPECT_INT(c.n, 3);
    int64_t total = 0;
    for (int i = 0; i < 3; i++) {
        total += c.count[i];
    }
    EXPECT_INT(total, 4);
    memset(&c, 0, sizeof c);
    EXPECT_OK(guard_store_violations(s, NULL, 6 * hour, 10, on_violation, &c));
    EXPECT_INT(c.n, 1);
    /* known addresses */
    EXPECT_OK(guard_store_known_add(s, "eve", "10.0.0.1", 1));
    EXPECT_OK(guard_store_known_add(s, "eve", "10.0.0.2", 2));
    EXPECT_OK(guard_store_known_add(s, "eve", "10.0.0.1", 3)); /* known: ignored */
    bool has = false;
    EXPECT_OK(guard_store_known_has(s, "eve", "10.0.0.2", &has));
    EXPECT(has);
    EXPECT_OK(guard_store_known_has(s, "eve", "10.0.0.3", &has));
    EXPECT(!has);
    memset(&c, 0, sizeof c);
    EXPECT_OK(guard_store_known_list(s, "eve", 10, on_text, &c));
    EXPECT_INT(c.n, 2);
    EXPECT_STR(c.first, "10.0.0.2");
    /* baselines: doubles come back exactly */
    int64_t since = 0;
    EXPECT_ERR(guard_store_baseline_load(s, "eve", &since, on_slot, &c), ERR_NOT_FOUND);
    EXPECT_OK(guard_store_baseline_user(s, "eve", 77));
    EXPECT_OK(guard_store_baseline_put(s, "eve", 1, 0.1 + 0.2, 1.0 / 3.0, 9));
    EXPECT_OK(guard_store_baseline_put(s, "eve", 1, 0.1 + 0.2, 2.0 / 3.0, 10));
    memset(&c, 0, sizeof c);
    EXPECT_OK(guard_store_baseline_load(s, "eve", &since, on_slot, &c));
    EXPECT_INT(since, 77);
    EXPECT_INT(c.n, 1);
    EXPECT(c.mean[1] == 0.1 + 0.2);
    EXPECT(c.var[1] == 2.0 / 3.0);
    /* a batch: one transaction, written at its end */
    guard_store_batch_begin(s);
    EXPECT_OK(guard_store_known_add(s, "eve", "10.0.0.4", 4));
    EXPECT_OK(guard_store_sanction_put(s, &x));
    EXPECT_OK(guard_store_batch_end(s));
    EXPECT_OK(guard_store_known_has(s, "eve", "10.0.0.4", &has));
    EXPECT(has);
    /* retention */
    gs_retention r = {.violations_us = hour, .closed_alerts_us = 1, .addresses_per_account = 2};
    gs_purged p;
    EXPECT_OK(guard_store_purge(s, &r, 6 * hour + 20, &p)); /* window 5 last seen at 5h+11 */
    EXPECT_INT(p.violations, 2);
    EXPECT_INT(p.alerts, 1);
    EXPECT_INT(p.addresses, 1);
    free(a);
    free(b);
    guard_store_close(s);
}

/* Two guard stores on one PostgreSQL location, as two instances: what one writes the other
 * reads (a block made through one is there for all), alert ids come from one sequence. */
TEST(t_guard_two_instances)
{
    if (!on_pg) {
        return; /* a SQLite guard.db belongs to one instance */
    }
    char loc[1200];
    guard_store *s1 = fresh(loc, sizeof loc), *s2 = NULL;
    EXPECT_OK(guard_store_open(loc, &s2)); /* the second opens what the first made */
    if (!s1 || !s2) {
        guard_store_close(s1);
        guard_store_close(s2);
        return;
    }
    gs_sanction x = {.kind = "block",
                     .subject = "address:192.0.2.7",
                     .until_us = 1000,
                     .rule = "bulk",
                     .by = "guard",
                     .created_us = 5};
    guard_store_batch_begin(s1);
    EXPECT_OK(guard_store_sanction_put(s1, &x));
    EXPECT_OK(guard_store_batch_end(s1));
    collect c = {0};
    EXPECT_OK(guard_store_sanctions(s2, on_sanction, &c));
    EXPECT_INT(c.n, 1);
    EXPECT_STR(c.first, "block address:192.0.2.7 1000 guard");
    gs_alert *a = calloc(1, sizeof *a);
    snprintf(a->rule, sizeof a->rule, "r");
    EXPECT_OK(guard_store_alert_insert(s1, a));
    int64_t id1 = a->id;
    EXPECT_OK(guard_store_alert_insert(s2, a));
    EXPECT(a->id != id1);
    EXPECT_OK(guard_store_alert_status(s2, id1, "closed", "sec", "done", 9));
    gs_alert *b = calloc(1, sizeof *b);
    EXPECT_OK(guard_store_alert_get(s1, id1, b));
    EXPECT_STR(b->status, "closed");
    free(a);
    free(b);
    guard_store_close(s1);
    guard_store_close(s2);
}

int main(void)
{
    test_init();
    for (int round = 0; round < 2; round++) {
        on_pg = round == 1;
        if (on_pg && !pg_cluster_start()) {
            PG_NO_SERVER_FAIL();
            break;
        }
        SRUN(t_guard_rows);
        SRUN(t_guard_two_instances);
    }
    pg_cluster_stop();
    return test_done("store_suite_guard_test");
}
