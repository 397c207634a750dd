/*
 * guard_detect_test.c - the detectors and what follows a finding. Each
 * detector fires at exactly its threshold and not one event below, and forgets
 * what falls out of its window; findings become alerts that aggregate instead
 * of flooding, are routed to security, HR or the department's steward, can be
 * acknowledged and closed; responses reach the hooks and the audit hook; the
 * violation register keeps denials and findings; blocks, recorded locks and
 * known addresses survive a restart and expired blocks do not; and a normal
 * working day under the shipped rules raises nothing.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include "core/clock.h"
#include "guard/guard.h"
#include "guard/guard_int.h"
#include "test.h"

#define S 1000000LL
#define MIN (60 * S)
#define HOUR (3600 * S)
/* 2026-03-02T10:00:00+08:00, a Monday morning in Beijing */
static const int64_t T0 = 1772416800LL * S;
static int64_t now_us;
static int64_t next_index = 100;

static int64_t test_clock(void *ctx)
{
    return now_us;
}

/* ---- hooks that record what they were asked ---- */
typedef struct calls {
    pthread_mutex_t mu;
    int lock, lock_login, unlock, revoke, reauth, seal, audit, train;
    char last_train[160];
    char last_lock[80], last_audit_action[40], last_audit_subject[140];
    char last_lock_login[80], last_lock_addr[64];
    int64_t last_login_until;
    int64_t last_until;
    char actions[4096];
} calls;
static calls C = {.mu = PTHREAD_MUTEX_INITIALIZER};

static err h_lock(void *ctx, const char *u, int64_t until, const char *rule)
{
    pthread_mutex_lock(&C.mu);
    C.lock++;
    snprintf(C.last_lock, sizeof C.last_lock, "%s", u);
    C.last_until = until;
    pthread_mutex_unlock(&C.mu);
    return ERR_OK;
}
static err h_lock_login(void *ctx, const char *u, const char *addr, int64_t until, const char *rule)
{
    pthread_mutex_lock(&C.mu);
    C.lock_login++;
    snprintf(C.last_lock_login, sizeof C.last_lock_login, "%s", u);
    snprintf(C.last_lock_addr, sizeof C.last_lock_addr, "%s", addr);
    C.last_login_until = until;
    pthread_mutex_unlock(&C.mu);
    return ERR_OK;
}
static err h_unlock(void *ctx, const char *u, const char *rule)
{
    C.unlock++;
    return ERR_OK;
}
static err h_revoke(void *ctx, const char *u, const char *rule)
{
    C.revoke++;
    return ERR_OK;
}
static err h_reauth(void *ctx, const char *u, const char *rule)
{
    C.reauth++;
    return ERR_OK;
}
static err h_train(void *ctx, const char *u, const char *course, const char *rule)
{
    pthread_mutex_lock(&C.mu);
    C.train++;
    snprintf(C.last_train, sizeof C.last_train, "%s %s %s", u, course, rule);
    pthread_mutex_unlock(&C.mu);
    return ERR_OK;
}
static err h_seal(void *ctx, const char *rule)
{
    C.seal++;
    return ERR_UNAVAILABLE; /* a failing hook is logged and counted, nothing else */
}
static void h_audit(void *ctx, const char *action, const char *subject, const char *rule,
                    const char *detail)
{
    pthread_mutex_lock(&C.mu);
    C.audit++;
    snprintf(C.last_audit_action, sizeof C.last_audit_action, "%s", action);
    snprintf(C.last_audit_subject, sizeof C.last_audit_subject, "%s", subject);
    size_t n = strlen(C.actions);
    snprintf(C.actions + n, sizeof C.actions - n, "%s %s;", action, subject);
    pthread_mutex_unlock(&C.mu);
}

static void calls_reset(void)
{
    pthread_mutex_lock(&C.mu);
    C.lock = C.lock_login = C.unlock = C.revoke = C.reauth = C.seal = C.audit = C.train = 0;
    C.last_train[0] = '\0';
    C.last_lock[0] = C.last_audit_action[0] = C.last_audit_subject[0] = C.actions[0] = '\0';
    C.last_lock_login[0] = C.last_lock_addr[0] = '\0';
    pthread_mutex_unlock(&C.mu);
}

static guard *open_at(const char *text, const char *db)
{
    guard_rules *r = NULL;
    if (guard_rules_parse(slice_cstr(text), "t.rules", &r) != ERR_OK) {
        printf("  rules: %s\n", err_message());
        return NULL;
    }
    guard_options o;
    memset(&o, 0, sizeof o);
    o.db_path = db;
    o.clock = test_clock;
    o.hooks.lock_account = h_lock;
    o.hooks.lock_login = h_lock_login;
    o.hooks.unlock_account = h_unlock;
    o.hooks.revoke_account = h_revoke;
    o.hooks.require_reauth = h_reauth;
    o.hooks.seal = h_seal;
    o.hooks.audit = h_audit;
    o.hooks.assign_training = h_train;
    guard *g = NULL;
    if (guard_open(r, &o, &g) != ERR_OK) {
        printf("  open: %s\n", err_message());
        guard_rules_free(r);
        return NULL;
    }
    calls_reset();
    return g;
}

static guard *open_text(const char *text)
{
    return open_at(text, NULL);
}

static guard_event E(guard_event_kind k, const char *user, const char *src, int64_t t)
{
    guard_event e;
    memset(&e, 0, sizeof e);
    e.kind = k;
    e.time_us = t;
    e.username = user;
    e.role = user && user[0] ? "sales" : "";
    e.department = "beijing";
    e.source = src;
    e.audit_index = next_index++;
    e.route_known = true;
    e.status = 200;
    return e;
}

static void observe(guard *g, guard_event e)
{
    guard_observe(g, &e);
}

/* Alerts of a rule (all statuses). */
static json_t *alerts_of(guard *g, const char *rule)
{
    guard_sync(g);
    guard_alert_filter f;
    memset(&f, 0, sizeof f);
    f.rule = rule;
    json_t *out = NULL;
    if (guard_alerts(g, &f, &out) != ERR_OK) {
        printf("  alerts: %s\n", err_message());
        return json_array();
    }
    json_t *a = json_incref(json_object_get(out, "alerts"));
    json_decref(out);
    return a;
}

static size_t nalerts(guard *g, const char *rule)
{
    json_t *a = alerts_of(g, rule);
    size_t n = json_array_size(a);
    json_decref(a);
    return n;
}

static const char *field(json_t *alert, const char *k)
{
    return json_string_value(json_object_get(alert, k));
}

/* ---- login failures ---- */

TEST(t_login_fail_per_account)
{
    guard *g = open_text("rule bf\n detect login_fail\n per account\n threshold 5 within 10m\n"
                         " severity high\n respond alert, lock 30m\nend\n");
    int64_t first = next_index;
    for (int i = 0; i < 4; i++) {
        observe(g, E(GUARD_EV_LOGIN_FAIL, "alice", "198.51.100.1", T0 + i * S));
    }
    observe(g, E(GUARD_EV_LOGIN_FAIL, "bob", "198.51.100.1", T0 + 5 * S)); /* someone else */
    EXPECT_INT(nalerts(g, "bf"), 0);
    EXPECT_INT(C.lock, 0);
    observe(g, E(GUARD_EV_LOGIN_FAIL, "alice", "198.51.100.2", T0 + 9 * MIN));
    json_t *a = alerts_of(g, "bf");
    EXPECT_INT(json_array_size(a), 1);
    json_t *al = json_array_get(a, 0);
    EXPECT_STR(field(al, "severity"), "high");
    EXPECT_STR(field(al, "status"), "open");
    EXPECT_STR(field(al, "account"), "alice");
    EXPECT_STR(field(al, "subject"), "alice");
    EXPECT_STR(field(al, "detector"), "login_fail");
    EXPECT_INT(json_integer_value(json_object_get(al, "count")), 1);
    json_t *ev = json_object_get(al, "evidence");
    EXPECT_INT(json_array_size(ev), 5);
    EXPECT_INT(json_integer_value(json_array_get(ev, 0)), first);
    EXPECT(strstr(field(al, "detail"), "5 failed logins") != NULL);
    json_decref(a);
    /* Failed logins are anyone's to make: the lock takes the source out of the account
     * (alice from 198.51.100.2), never the account itself (no lock_account call). */
    EXPECT_INT(C.lock, 0);
    EXPECT_INT(C.lock_login, 1);
    EXPECT_STR(C.last_lock_login, "alice");
    EXPECT_STR(C.last_lock_addr, "198.51.100.2");
    EXPECT_INT(C.last_login_until, T0 + 9 * MIN + 30 * MIN);
    EXPECT(strstr(C.actions, "guard.alert alert:1;") != NULL);
    EXPECT(strstr(C.actions, "guard.lock account:alice;") != NULL);
    EXPECT_INT(guard_rule_firings(g, 0), 1);
    /* the lock is recorded and can be lifted */
    json_t *s = NULL;
    now_us = T0 + 10 * MIN;
    EXPECT_OK(guard_sanctions(g, &s));
    json_t *x = json_array_get(json_object_get(s, "sanctions"), 0);
    EXPECT_STR(field(x, "kind"), "lock-login");
    EXPECT_STR(field(x, "subject"), "account:alice");
    EXPECT_STR(field(x, "rule"), "bf");
    json_decref(s);
    EXPECT_OK(guard_unlock_account(g, "alice", "security1"));
    EXPECT_INT(C.unlock, 1);
    EXPECT_STR(C.last_audit_action, "guard.unlock");
    EXPECT_OK(guard_sanctions(g, &s)); /* lifted: nothing left */
    EXPECT_INT(json_array_size(json_object_get(s, "sanctions")), 0);
    json_decref(s);
    guard_close(g);
}

TEST(t_behaviour_lock_still_locks_account)
{
    /* What an account does itself (here: denied requests) may still lock the account. */
    guard *g = open_text("rule probe\n detect denied\n per account\n threshold 2 within 10m\n"
                         " respond alert, lock 30m\nend\n");
    observe(g, E(GUARD_EV_DENIED, "mallory", "10.0.0.9", T0));
    observe(g, E(GUARD_EV_DENIED, "mallory", "10.0.0.9", T0 + S));
    EXPECT_INT(nalerts(g, "probe"), 1);
    EXPECT_INT(C.lock, 1);
    EXPECT_INT(C.lock_login, 0);
    EXPECT_STR(C.last_lock, "mallory");
    guard_close(g);
}

TEST(t_bad_tokens)
{
    guard *g = open_text("rule bad\n detect bad_token\n per address\n threshold 4 within 10m\n"
                         " severity medium\nend\n");
    for (int i = 0; i < 3; i++) {
        observe(g, E(GUARD_EV_BAD_TOKEN, "", "203.0.113.5", T0 + i * S));
    }
    observe(g, E(GUARD_EV_BAD_TOKEN, "", "203.0.113.6", T0 + 4 * S));   /* another address */
    observe(g, E(GUARD_EV_LOGIN_FAIL, "x", "203.0.113.5", T0 + 4 * S)); /* another kind */
    EXPECT_INT(nalerts(g, "bad"), 0);
    observe(g, E(GUARD_EV_BAD_TOKEN, "", "203.0.113.5", T0 + 5 * S));
    json_t *a = alerts_of(g, "bad");
    EXPECT_INT(json_array_size(a), 1);
    EXPECT_STR(field(json_array_get(a, 0), "address"), "203.0.113.5");
    EXPECT_STR(field(json_array_get(a, 0), "detector"), "bad_token");
    EXPECT(strstr(field(json_array_get(a, 0), "detail"), "4 unknown or forged bearer tokens"));
    json_decref(a);
    guard_close(g);
    /* per account makes no sense for tokens that belong to nobody */
    guard_rules *r = NULL;
    EXPECT_ERR(guard_rules_parse(slice_cstr("rule bad\n detect bad_token\n per account\n"
                                            " threshold 4 within 10m\nend\n"),
                                 "t.rules", &r),
               ERR_INPUT);
}

TEST(t_probing)
{
    guard *g = open_text("rule idp\n detect probing\n per account\n threshold 5 within 1h\n"
                         "end\n");
    for (int i = 0; i < 4; i++) {
        guard_event e = E(GUARD_EV_SEARCH_MISS, "carol", "10.0.0.7", T0 + i * MIN);
        e.categories = "id_number";
        observe(g, e);
    }
    guard_event other = E(GUARD_EV_SEARCH_MISS, "dave", "10.0.0.7", T0 + 5 * MIN);
    observe(g, other);
    EXPECT_INT(nalerts(g, "idp"), 0);
    guard_event e = E(GUARD_EV_SEARCH_MISS, "carol", "10.0.0.7", T0 + 59 * MIN);
    e.categories = "id_number";
    observe(g, e);
    json_t *a = alerts_of(g, "idp");
    EXPECT_INT(json_array_size(a), 1);
    EXPECT_STR(field(json_array_get(a, 0), "account"), "carol");
    EXPECT_STR(field(json_array_get(a, 0), "severity"), "high");
    json_t *rec = json_object_get(json_array_get(a, 0), "recipients");
    bool hr = false;
    for (size_t k = 0; k < json_array_size(rec); k++) {
        hr = hr || strcmp(json_string_value(json_array_get(rec, k)), "hr") == 0;
    }
    EXPECT(hr); /* staff behaviour: HR hears of it */
    json_decref(a);
    /* it is a violation of the account */
    json_t *v = NULL;
    EXPECT_OK(guard_violations(g, "carol", 0, 10, &v));
    EXPECT(json_array_size(json_object_get(v, "violations")) >= 1);
    json_decref(v);
    guard_close(g);
}

TEST(t_honeytoken_write)
{
    guard *g = open_text("rule bait\n detect honeytoken\n severity critical\n"
                         " respond alert, lock 24h\nend\n");
    guard_event e = E(GUARD_EV_CUSTOMER_WRITE, "eve", "10.0.0.6", T0);
    e.customer = "cus_real";
    observe(g, e);
    EXPECT_INT(nalerts(g, "bait"), 0);
    e = E(GUARD_EV_CUSTOMER_WRITE, "eve", "10.0.0.6", T0 + S);
    e.customer = "cus_bait9";
    e.honeytoken = true;
    observe(g, e);
    json_t *a = alerts_of(g, "bait");
    EXPECT_INT(json_array_size(a), 1);
    EXPECT(strstr(field(json_array_get(a, 0), "detail"), "wrote to honeytoken customer cus_bait9"));
    json_decref(a);
    EXPECT_INT(C.lock, 1); /* the writer did it: the account is locked */
    guard_close(g);
}

TEST(t_login_fail_window)
{
    guard *g = open_text("rule bf\n detect login_fail\n threshold 5 within 10m\nend\n");
    for (int i = 0; i < 4; i++) {
        observe(g, E(GUARD_EV_LOGIN_FAIL, "alice", "198.51.100.1", T0 + i * S));
    }
    /* 11 minutes later the first four are out of the window */
    observe(g, E(GUARD_EV_LOGIN_FAIL, "alice", "198.51.100.1", T0 + 11 * MIN));
    EXPECT_INT(nalerts(g, "bf"), 0);
    for (int i = 1; i < 4; i++) {
        observe(g, E(GUARD_EV_LOGIN_FAIL, "alice", "198.51.100.1", T0 + 11 * MIN + i * S));
    }
    EXPECT_INT(nalerts(g, "bf"), 0);
    observe(g, E(GUARD_EV_LOGIN_FAIL, "alice", "198.51.100.1", T0 + 12 * MIN));
    EXPECT_INT(nalerts(g, "bf"), 1);
    guard_close(g);
}

TEST(t_login_fail_per_address_blocks)
{
    now_us = T0;
    guard *g = open_text("rule bfa\n detect login_fail\n per address\n threshold 3 within 1m\n"
                         " respond block 1h\nend\n");
    guard_addr a;
    EXPECT_OK(guard_addr_parse("203.0.113.9", &a));
    observe(g, E(GUARD_EV_LOGIN_FAIL, "u1", "203.0.113.9", T0));
    observe(g, E(GUARD_EV_LOGIN_FAIL, "u2", "203.0.113.9", T0 + S));
    observe(g, E(GUARD_EV_LOGIN_FAIL, "u3", "203.0.113.10", T0 + S));
    guard_sync(g);
    EXPECT_INT(guard_admit(g, &a, T0 + 2 * S, NULL), GUARD_ADMIT);
    observe(g, E(GUARD_EV_LOGIN_FAIL, "", "203.0.113.9", T0 + 2 * S)); /* names need not exist */
    guard_sync(g);
    guard_decision d;
    EXPECT_INT(guard_admit(g, &a, T0 + 3 * S, &d), GUARD_BLOCK);
    EXPECT_INT(d.retry_after_s, 3600 - 1);
    json_t *al = alerts_of(g, "bfa");
    EXPECT_INT(json_array_size(al), 1);
    EXPECT_STR(field(json_array_get(al, 0), "address"), "203.0.113.9");
    EXPECT_STR(field(json_array_get(al, 0), "responses"), "alert, block 1h");
    json_decref(al);
    EXPECT(strstr(C.actions, "guard.block address:203.0.113.9;") != NULL);
    buf m;
    buf_init(&m, 0);
    EXPECT_OK(guard_metrics(g, &m));
    EXPECT(strstr(buf_cstr(&m), "custos_guard_blocks_active 1\n") != NULL);
    EXPECT(strstr(buf_cstr(&m), "custos_guard_responses_total{action=\"block\"} 1\n") != NULL);
    EXPECT(strstr(buf_cstr(&m),
                  "custos_guard_alerts_total{rule=\"bfa\",severity=\"medium\"} 1\n") != NULL);
    EXPECT(strstr(buf_cstr(&m), "custos_guard_events_total{kind=\"login_fail\"} 4\n") != NULL);
    buf_free(&m);
    guard_close(g);
}

TEST(t_spraying)
{
    guard *g = open_text("rule spray\n detect spraying\n threshold 4 within 10m\nend\n");
    const char *users[] = {"a", "b", "a", "c", "b", "a"};
    for (int i = 0; i < 6; i++) {
        observe(g, E(GUARD_EV_LOGIN_FAIL, users[i], "192.0.2.50", T0 + i * S));
    }
    observe(g, E(GUARD_EV_LOGIN_FAIL, "d", "192.0.2.51", T0 + 7 * S)); /* other address */
    EXPECT_INT(nalerts(g, "spray"), 0);
    observe(g, E(GUARD_EV_LOGIN_FAIL, "d", "192.0.2.50", T0 + 8 * S));
    json_t *a = alerts_of(g, "spray");
    EXPECT_INT(json_array_size(a), 1);
    EXPECT_STR(field(json_array_get(a, 0), "subject"), "192.0.2.50");
    EXPECT(strstr(field(json_array_get(a, 0), "detail"), "4 accounts") != NULL);
    json_decref(a);
    guard_close(g);
}

TEST(t_stuffing)
{
    guard *g = open_text("rule stuff\n detect stuffing\n threshold 3 within 10m\n accounts 4\n"
                         " severity critical\nend\n");
    /* 3 addresses, 3 accounts: not yet (4 accounts wanted) */
    observe(g, E(GUARD_EV_LOGIN_FAIL, "a", "192.0.2.1", T0));
    observe(g, E(GUARD_EV_LOGIN_FAIL, "b", "192.0.2.2", T0 + S));
    observe(g, E(GUARD_EV_LOGIN_FAIL, "c", "192.0.2.3", T0 + 2 * S));
    EXPECT_INT(nalerts(g, "stuff"), 0);
    observe(g, E(GUARD_EV_LOGIN_FAIL, "d", "192.0.2.1", T0 + 3 * S));
    json_t *a = alerts_of(g, "stuff");
    EXPECT_INT(json_array_size(a), 1);
    EXPECT_STR(field(json_array_get(a, 0), "subject"), "global");
    EXPECT_STR(field(json_array_get(a, 0), "severity"), "critical");
    json_decref(a);
    guard_close(g);
}

/* ---- permissions ---- */

TEST(t_denied_and_routing)
{
    guard *g = open_text("rule probe\n detect denied\n threshold 3 within 1h\nend\n"
                         "rule spread\n detect denied_spread\n threshold 3 within 1h\n"
                         " respond alert, reauth\nend\n");
    guard_event e = E(GUARD_EV_DENIED, "sam", "10.0.0.5", T0);
    e.categories = "identity";
    observe(g, e);
    e = E(GUARD_EV_DENIED, "sam", "10.0.0.5", T0 + S);
    e.categories = "identity,identity";
    observe(g, e);
    EXPECT_INT(nalerts(g, "probe"), 0);
    EXPECT_INT(nalerts(g, "spread"), 0);
    e = E(GUARD_EV_DENIED, "sam", "10.0.0.5", T0 + 2 * S);
    e.categories = "contact";
    observe(g, e);
    EXPECT_INT(nalerts(g, "probe"), 1);
    EXPECT_INT(nalerts(g, "spread"), 0); /* two categories so far */
    e = E(GUARD_EV_DENIED, "sam", "10.0.0.5", T0 + 3 * S);
    e.categories = "transactions,contact";
    observe(g, e);
    json_t *a = alerts_of(g, "spread");
    EXPECT_INT(json_array_size(a), 1);
    json_t *rec = json_object_get(json_array_get(a, 0), "recipients");
    EXPECT_INT(json_array_size(rec), 2);
    EXPECT_STR(json_string_value(json_array_get(rec, 0)), "security");
    EXPECT_STR(json_string_value(json_array_get(rec, 1)), "hr");
    json_decref(a);
    EXPECT_INT(C.reauth, 1);
    /* HR's view */
    guard_alert_filter f;
    memset(&f, 0, sizeof f);
    f.recipient = "hr";
    json_t *out = NULL;
    EXPECT_OK(guard_alerts(g, &f, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "alerts")), 2);
    json_decref(out);
    f.recipient = "data_steward";
    EXPECT_OK(guard_alerts(g, &f, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "alerts")), 0);
    json_decref(out);
    f.recipient = "board";
    EXPECT_ERR(guard_alerts(g, &f, &out), ERR_INPUT);
    /* the violation register: 4 denials and 2 findings against sam */
    EXPECT_OK(guard_violations(g, "sam", 0, 0, &out));
    json_t *v = json_object_get(out, "violations");
    EXPECT_INT(json_array_size(v), 6);
    size_t denied = 0, findings = 0, i;
    json_t *row;
    json_array_foreach(v, i, row)
    {
        denied += strcmp(field(row, "kind"), "denied") == 0;
        findings += strcmp(field(row, "kind"), "finding") == 0;
        EXPECT(json_is_integer(json_object_get(row, "evidence")));
    }
    EXPECT_INT(denied, 4);
    EXPECT_INT(findings, 2);
    json_decref(out);
    EXPECT_OK(guard_violations(g, "nobody", 0, 0, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "violations")), 0);
    json_decref(out);
    EXPECT_OK(guard_violations(g, NULL, 0, 3, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "violations")), 3);
    json_decref(out);
    guard_close(g);
}

/* ---- volume ---- */

TEST(t_reads_and_steward_routing)
{
    guard *g = open_text("rule bulk\n detect reads\n threshold 100 within 1h\n"
                         " respond alert, throttle 30m\nend\n");
    guard_event e;
    for (int i = 0; i < 3; i++) {
        e = E(GUARD_EV_CUSTOMER_READ, "sue", "10.0.0.9", T0 + i * MIN);
        e.customers = 33;
        e.customer_department = "shanghai";
        observe(g, e);
    }
    EXPECT_INT(nalerts(g, "bulk"), 0); /* 99 */
    e = E(GUARD_EV_CUSTOMER_READ, "sue", "10.0.0.9", T0 + 5 * MIN);
    e.customer = "cus_x";
    e.customer_department = "shanghai";
    observe(g, e); /* customers 0 counts as one */
    json_t *a = alerts_of(g, "bulk");
    EXPECT_INT(json_array_size(a), 1);
    json_t *al = json_array_get(a, 0);
    EXPECT_STR(field(al, "department"), "shanghai");
    json_t *rec = json_object_get(al, "recipients");
    EXPECT_STR(json_string_value(json_array_get(rec, 1)), "data_steward");
    json_decref(a);
    guard_decision d;
    EXPECT_INT(guard_admit_account(g, "sue", T0 + 5 * MIN, &d), GUARD_THROTTLE);
    EXPECT_INT(d.reason, GUARD_R_THROTTLED);
    guard_alert_filter f;
    memset(&f, 0, sizeof f);
    f.recipient = "data_steward";
    f.department = "shanghai";
    json_t *out = NULL;
    EXPECT_OK(guard_alerts(g, &f, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "alerts")), 1);
    json_decref(out);
    f.department = "beijing";
    EXPECT_OK(guard_alerts(g, &f, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "alerts")), 0);
    json_decref(out);
    guard_close(g);
}

TEST(t_roles_filter)
{
    guard *g = open_text("rule bulk\n detect reads\n threshold 2 within 1h\n roles sales\nend\n"
                         "rule bulk2\n detect reads\n threshold 2 within 1h\n"
                         " skip_roles sales\nend\n");
    guard_event e = E(GUARD_EV_CUSTOMER_READ, "stew", "10.0.0.9", T0);
    e.role = "data_steward";
    e.customers = 5;
    observe(g, e);
    EXPECT_INT(nalerts(g, "bulk"), 0);
    EXPECT_INT(nalerts(g, "bulk2"), 1);
    e = E(GUARD_EV_CUSTOMER_READ, "sal", "10.0.0.9", T0);
    e.customers = 5;
    observe(g, e);
    EXPECT_INT(nalerts(g, "bulk"), 1);
    EXPECT_INT(nalerts(g, "bulk2"), 1);
    guard_close(g);
}

TEST(t_egress)
{
    guard *g = open_text("rule out\n detect egress\n per address\n threshold 1MB within 10m\n"
                         "end\n");
    guard_event e = E(GUARD_EV_CUSTOMER_READ, "sue", "10.0.0.9", T0);
    e.bytes = 999999;
    observe(g, e);
    e = E(GUARD_EV_CUSTOMER_READ, "tom", "10.0.0.9", T0 + S);
    e.bytes = 0;
    observe(g, e);
    EXPECT_INT(nalerts(g, "out"), 0);
    e = E(GUARD_EV_CUSTOMER_READ, "tom", "10.0.0.9", T0 + 2 * S);
    e.bytes = 1;
    observe(g, e);
    EXPECT_INT(nalerts(g, "out"), 1);
    guard_close(g);
}

TEST(t_baseline)
{
    guard *g = open_text("rule base\n detect baseline\n ratio 3\n min 10\n warmup 1d\n"
                         " alpha 0.5\nend\n");
    /* three Mondays of 10 reads at 10:00 */
    for (int w = 0; w < 3; w++) {
        for (int i = 0; i < 10; i++) {
            guard_event e =
                E(GUARD_EV_CUSTOMER_READ, "ann", "10.0.0.3", T0 + w * 7 * 24 * HOUR + i * MIN);
            observe(g, e);
        }
    }
    EXPECT_INT(nalerts(g, "base"), 0);
    /* the fourth Monday: 29 reads is below 3 x 10 */
    int64_t t4 = T0 + 3 * 7 * 24 * HOUR;
    for (int i = 0; i < 29; i++) {
        observe(g, E(GUARD_EV_CUSTOMER_READ, "ann", "10.0.0.3", t4 + i * S));
    }
    EXPECT_INT(nalerts(g, "base"), 0);
    observe(g, E(GUARD_EV_CUSTOMER_READ, "ann", "10.0.0.3", t4 + 30 * S));
    json_t *a = alerts_of(g, "base");
    EXPECT_INT(json_array_size(a), 1);
    EXPECT(strstr(field(json_array_get(a, 0), "detail"), "30 customers read this hour, usually "
                                                         "10.0") != NULL);
    json_decref(a);
    /* once per hour */
    for (int i = 0; i < 40; i++) {
        observe(g, E(GUARD_EV_CUSTOMER_READ, "ann", "10.0.0.3", t4 + 40 * S + i * S));
    }
    EXPECT_INT(guard_rule_firings(g, 0), 1);
    /* an hour of the week never seen has no baseline: nothing to compare with */
    for (int i = 0; i < 200; i++) {
        observe(g, E(GUARD_EV_CUSTOMER_READ, "ann", "10.0.0.3", t4 + 2 * 24 * HOUR + i * S));
    }
    /* Tuesday to Wednesday were zero-filled by the Monday-to-Monday gaps */
    guard_sync(g);
    EXPECT_INT(guard_rule_firings(g, 0), 2);
    guard_close(g);
}

TEST(t_baseline_warmup_and_z)
{
    guard *g = open_text("rule base\n detect baseline\n z 3\n min 5\n warmup 30d\nend\n");
    for (int w = 0; w < 3; w++) {
        for (int i = 0; i < 10; i++) {
            observe(g,
                    E(GUARD_EV_CUSTOMER_READ, "ann", "10.0.0.3", T0 + w * 7 * 24 * HOUR + i * MIN));
        }
    }
    for (int i = 0; i < 100; i++) {
        observe(g, E(GUARD_EV_CUSTOMER_READ, "ann", "10.0.0.3", T0 + 21 * 24 * HOUR + i * S));
    }
    EXPECT_INT(nalerts(g, "base"), 0); /* still warming up after 21 days */
    guard_close(g);
}

/* ---- time, addresses, bait, scanners ---- */

TEST(t_off_hours)
{
    guard *g = open_text("schedule default mon-fri 09:00-18:00\nschedule night daily 20:00-24:00\n"
                         "holiday 2026-03-03\n"
                         "rule late\n detect off_hours\n events reads, logins\n"
                         " threshold 2 within 1h\nend\n");
    observe(g, E(GUARD_EV_CUSTOMER_READ, "ann", "10.0.0.3", T0));                /* 10:00 Monday */
    observe(g, E(GUARD_EV_LOGIN_OK, "ann", "10.0.0.3", T0 + 8 * HOUR + MIN));    /* 18:01 */
    observe(g, E(GUARD_EV_REQUEST, "ann", "10.0.0.3", T0 + 8 * HOUR + 2 * MIN)); /* not read */
    EXPECT_INT(nalerts(g, "late"), 0);
    observe(g, E(GUARD_EV_CUSTOMER_READ, "ann", "10.0.0.3", T0 + 8 * HOUR + 3 * MIN));
    EXPECT_INT(nalerts(g, "late"), 1);
    /* the night department works at 21:00 */
    guard_event e = E(GUARD_EV_CUSTOMER_READ, "nat", "10.0.0.4", T0 + 11 * HOUR);
    e.department = "night";
    observe(g, e);
    observe(g, e);
    EXPECT_INT(nalerts(g, "late"), 1);
    /* a holiday morning */
    observe(g, E(GUARD_EV_CUSTOMER_READ, "bo", "10.0.0.5", T0 + 24 * HOUR));
    observe(g, E(GUARD_EV_CUSTOMER_READ, "bo", "10.0.0.5", T0 + 24 * HOUR + S));
    EXPECT_INT(nalerts(g, "late"), 2);
    guard_close(g);
}

TEST(t_honeytoken)
{
    guard *g = open_text("honeytoken cus_bait2\n"
                         "rule bait\n detect honeytoken\n severity critical\n"
                         " respond alert, lock 24h, revoke, seal\nend\n");
    guard_event e = E(GUARD_EV_CUSTOMER_READ, "eve", "10.0.0.6", T0);
    e.customer = "cus_real";
    observe(g, e);
    EXPECT_INT(nalerts(g, "bait"), 0);
    e = E(GUARD_EV_CUSTOMER_READ, "eve", "10.0.0.6", T0 + S);
    e.customer = "cus_bait1";
    e.honeytoken = true;
    observe(g, e);
    json_t *a = alerts_of(g, "bait");
    EXPECT_INT(json_array_size(a), 1);
    EXPECT_STR(field(json_array_get(a, 0), "severity"), "critical");
    EXPECT(strstr(field(json_array_get(a, 0), "detail"), "cus_bait1") != NULL);
    json_decref(a);
    EXPECT_INT(C.lock, 1);
    EXPECT_INT(C.revoke, 1);
    EXPECT_INT(C.seal, 1);
    e = E(GUARD_EV_CUSTOMER_READ, "eve", "10.0.0.6", T0 + 2 * S);
    e.customer = "cus_bait2"; /* known from the rules file */
    observe(g, e);
    a = alerts_of(g, "bait");
    EXPECT_INT(json_array_size(a), 1); /* aggregated */
    EXPECT_INT(json_integer_value(json_object_get(json_array_get(a, 0), "count")), 2);
    json_decref(a);
    buf m;
    buf_init(&m, 0);
    EXPECT_OK(guard_metrics(g, &m));
    EXPECT(strstr(buf_cstr(&m), "custos_guard_hook_failures_total 2\n") != NULL);
    buf_free(&m);
    guard_close(g);
}

/* "block-new D": a honeytoken read from the office's address (where colleagues have signed in)
 * does not block the office; one from an address nobody else uses, first seen just now, does. */
TEST(t_honeytoken_block_new)
{
    const char *rules = "rule newaddr\n detect new_address\n events logins\n respond log\nend\n"
                        "rule bait\n detect honeytoken\n severity critical\n"
                        " respond alert, lock 24h, block-new 24h\nend\n";
    now_us = T0;
    guard *g = open_text(rules);
    EXPECT(g != NULL);
    if (!g) {
        return;
    }
    const int64_t DAY = 86400 * S;
    guard_addr office, fresh;
    EXPECT_OK(guard_addr_parse("10.20.0.1", &office));
    EXPECT_OK(guard_addr_parse("10.66.0.9", &fresh));
    observe(g, E(GUARD_EV_LOGIN_OK, "ann", "10.20.0.1", T0)); /* the office, for days */
    observe(g, E(GUARD_EV_LOGIN_OK, "eve", "10.20.0.1", T0 + 2 * DAY));
    guard_event e = E(GUARD_EV_CUSTOMER_READ, "eve", "10.20.0.1", T0 + 2 * DAY + S);
    e.customer = "cus_bait1";
    e.honeytoken = true;
    observe(g, e);
    guard_sync(g);
    now_us = T0 + 2 * DAY + 2 * S;
    EXPECT_INT(guard_admit(g, &office, now_us, NULL), GUARD_ADMIT);
    EXPECT_INT(C.lock, 1); /* the reader's account is still locked */
    EXPECT(strstr(C.actions, "guard.block") == NULL);
    /* from an address first seen just now (its first login learnt it): blocked */
    observe(g, E(GUARD_EV_LOGIN_OK, "mal", "10.66.0.9", T0 + 2 * DAY + 3 * S));
    e = E(GUARD_EV_CUSTOMER_READ, "mal", "10.66.0.9", T0 + 2 * DAY + 4 * S);
    e.customer = "cus_bait1";
    e.honeytoken = true;
    observe(g, e);
    guard_sync(g);
    now_us = T0 + 2 * DAY + 5 * S;
    EXPECT_INT(guard_admit(g, &fresh, now_us, NULL), GUARD_BLOCK);
    EXPECT(strstr(C.actions, "guard.block address:10.66.0.9;") != NULL);
    EXPECT_INT(guard_admit(g, &office, now_us, NULL), GUARD_ADMIT);
    /* an address two colleagues signed in from minutes ago (a new office, a single-host
     * deployment) is someone's workplace: not blocked */
    guard_addr shared;
    EXPECT_OK(guard_addr_parse("10.77.0.5", &shared));
    observe(g, E(GUARD_EV_LOGIN_OK, "bob", "10.77.0.5", T0 + 2 * DAY + 6 * S));
    observe(g, E(GUARD_EV_LOGIN_OK, "cat", "10.77.0.5", T0 + 2 * DAY + 7 * S));
    e = E(GUARD_EV_CUSTOMER_READ, "cat", "10.77.0.5", T0 + 2 * DAY + 8 * S);
    e.customer = "cus_bait1";
    e.honeytoken = true;
    observe(g, e);
    guard_sync(g);
    now_us = T0 + 2 * DAY + 9 * S;
    EXPECT_INT(guard_admit(g, &shared, now_us, NULL), GUARD_ADMIT);
    EXPECT(strstr(C.actions, "guard.block address:10.77.0.5;") == NULL);
    json_t *a = alerts_of(g, "bait");
    EXPECT_STR(field(json_array_get(a, 0), "responses"), "alert, block-new 1d, lock 1d");
    json_decref(a);
    guard_close(g);
    /* without a new_address rule nothing is learnt: nothing to decide on, no block */
    now_us = T0;
    g = open_text("rule bait\n detect honeytoken\n severity critical\n"
                  " respond alert, block-new 24h\nend\n");
    e = E(GUARD_EV_CUSTOMER_READ, "mal", "10.66.0.9", T0);
    e.customer = "cus_bait1";
    e.honeytoken = true;
    observe(g, e);
    guard_sync(g);
    EXPECT_INT(guard_admit(g, &fresh, T0 + S, NULL), GUARD_ADMIT);
    guard_close(g);
    guard_rules *r = NULL;
    EXPECT_ERR(guard_rules_parse(slice_cstr("rule r\n detect honeytoken\n"
                                            " respond block 1h, block-new 1h\nend\n"),
                                 "t.rules", &r),
               ERR_INPUT);
}

/* "train COURSE": remedial training for what a signed-in person did themselves, never for
 * what anyone can make happen to an account (failed logins). */
TEST(t_train_response)
{
    guard *g = open_text("rule bait\n detect honeytoken\n severity critical\n"
                         " respond alert, train security-basics\nend\n"
                         "rule bf\n detect login_fail\n per account\n threshold 2 within 10m\n"
                         " respond alert, train security-basics\nend\n");
    EXPECT(g != NULL);
    guard_event e = E(GUARD_EV_CUSTOMER_READ, "eve", "10.0.0.6", T0);
    e.customer = "cus_bait1";
    e.honeytoken = true;
    observe(g, e);
    EXPECT_INT(nalerts(g, "bait"), 1);
    EXPECT_INT(C.train, 1);
    EXPECT_STR(C.last_train, "eve security-basics bait");
    EXPECT(strstr(C.actions, "guard.train account:eve;") != NULL);
    for (int i = 0; i < 3; i++) {
        observe(g, E(GUARD_EV_LOGIN_FAIL, "alice", "198.51.100.1", T0 + (i + 1) * S));
    }
    EXPECT_INT(nalerts(g, "bf"), 1);
    EXPECT_INT(C.train, 1); /* a stranger's failures send no one to training */
    guard_close(g);
    /* the rule's words */
    static const char *const BAD[] = {
        "rule r\n detect honeytoken\n respond alert, train\nend\n",
        "rule r\n detect honeytoken\n respond alert, train Bad!\nend\n",
        "rule r\n detect honeytoken\n respond train a, train b\nend\n",
        "rule r\n detect scan\n count unknown_route\n threshold 3 within 1m\n"
        " respond alert, train security-basics\nend\n",
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        guard_rules *r = NULL;
        EXPECT_ERR(guard_rules_parse(slice_cstr(BAD[i]), "t.rules", &r), ERR_INPUT);
    }
}

TEST(t_scan)
{
    guard *g = open_text("rule scan\n detect scan\n count unknown_route, oversized\n"
                         " threshold 3 within 1m\n respond alert, block 10m\nend\n");
    guard_event e = E(GUARD_EV_REQUEST, "", "192.0.2.99", T0);
    e.route_known = false;
    observe(g, e);
    e.malformed = true; /* counted once: it is also an unknown route */
    observe(g, e);
    e = E(GUARD_EV_REQUEST, "", "192.0.2.99", T0 + S);
    e.malformed = true; /* malformed alone is not counted by this rule */
    observe(g, e);
    e.malformed = false;
    e.status = 404; /* a known route answering 404 is not scanning */
    observe(g, e);
    EXPECT_INT(nalerts(g, "scan"), 0);
    e.oversized = true;
    observe(g, e);
    EXPECT_INT(nalerts(g, "scan"), 1);
    guard_addr a;
    EXPECT_OK(guard_addr_parse("192.0.2.99", &a));
    EXPECT_INT(guard_admit(g, &a, T0 + 2 * S, NULL), GUARD_BLOCK);
    guard_close(g);
}

static char *tmpdb(const char *tag, char **dir)
{
    *dir = test_tmpdir(tag);
    char *p = malloc(600);
    snprintf(p, 600, "%s/guard.db", *dir);
    return p;
}

static void cleanup(char *dir, char *db)
{
    char p[700];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", db, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
    free(dir);
    free(db);
}

TEST(t_new_address_persisted)
{
    char *dir, *db = tmpdb("guard-known", &dir);
    const char *rules = "ipv6_prefix 64\nrule newaddr\n detect new_address\nend\n";
    guard *g = open_at(rules, db);
    observe(g, E(GUARD_EV_LOGIN_OK, "kim", "10.1.1.1", T0)); /* the first: learnt silently */
    observe(g, E(GUARD_EV_LOGIN_OK, "kim", "10.1.1.1", T0 + S));
    observe(g, E(GUARD_EV_CUSTOMER_READ, "kim", "10.9.9.9", T0 + 2 * S)); /* not a login */
    EXPECT_INT(nalerts(g, "newaddr"), 0);
    observe(g, E(GUARD_EV_LOGIN_OK, "kim", "2001:db8:0:1::5", T0 + 3 * S));
    EXPECT_INT(nalerts(g, "newaddr"), 1);
    observe(g, E(GUARD_EV_LOGIN_OK, "kim", "2001:db8:0:1::77", T0 + 4 * S)); /* same /64 */
    json_t *a = alerts_of(g, "newaddr");
    EXPECT_INT(json_integer_value(json_object_get(json_array_get(a, 0), "count")), 1);
    json_decref(a);
    guard_close(g);
    g = open_at(rules, db);
    observe(g, E(GUARD_EV_LOGIN_OK, "kim", "10.1.1.1", T0 + HOUR));
    observe(g, E(GUARD_EV_LOGIN_OK, "kim", "2001:db8:0:1::5", T0 + HOUR));
    EXPECT_INT(nalerts(g, "newaddr"), 1); /* remembered */
    observe(g, E(GUARD_EV_LOGIN_OK, "kim", "10.1.1.2", T0 + HOUR + S));
    EXPECT_INT(nalerts(g, "newaddr"), 1); /* aggregated into the open alert */
    a = alerts_of(g, "newaddr");
    EXPECT_INT(json_integer_value(json_object_get(json_array_get(a, 0), "count")), 2);
    json_decref(a);
    guard_close(g);
    cleanup(dir, db);
}

/* ---- alerts: aggregation and life cycle ---- */

TEST(t_aggregation_and_status)
{
    guard *g = open_text("aggregate 30m\nevidence 3\n"
                         "rule bf\n detect login_fail\n threshold 2 within 1m\nend\n");
    for (int i = 0; i < 6; i++) {
        observe(g, E(GUARD_EV_LOGIN_FAIL, "zed", "10.0.0.1", T0 + i * S));
    }
    json_t *a = alerts_of(g, "bf");
    EXPECT_INT(json_array_size(a), 1);
    json_t *al = json_array_get(a, 0);
    EXPECT_INT(json_integer_value(json_object_get(al, "count")), 3);
    EXPECT_INT(json_array_size(json_object_get(al, "evidence")), 3); /* bounded */
    int64_t id = json_integer_value(json_object_get(al, "id"));
    json_decref(a);
    EXPECT_INT(guard_rule_firings(g, 0), 3);
    now_us = T0 + MIN;
    EXPECT_OK(guard_alert_ack(g, id, "security1"));
    EXPECT_ERR(guard_alert_ack(g, id, "security1"), ERR_CONFLICT);
    EXPECT_STR(C.last_audit_action, "guard.alert.ack");
    /* acknowledged alerts still aggregate */
    observe(g, E(GUARD_EV_LOGIN_FAIL, "zed", "10.0.0.1", T0 + 2 * MIN));
    observe(g, E(GUARD_EV_LOGIN_FAIL, "zed", "10.0.0.1", T0 + 2 * MIN + S));
    EXPECT_INT(nalerts(g, "bf"), 1);
    EXPECT_ERR(guard_alert_close(g, id, "security1", ""), ERR_INPUT);
    EXPECT_OK(guard_alert_close(g, id, "security1", "password reset with the user"));
    EXPECT_ERR(guard_alert_close(g, id, "security1", "again"), ERR_CONFLICT);
    EXPECT_ERR(guard_alert_ack(g, 9999, "security1"), ERR_NOT_FOUND);
    json_t *one = NULL;
    EXPECT_OK(guard_alert_get(g, id, &one));
    EXPECT_STR(field(one, "status"), "closed");
    EXPECT_STR(field(one, "closed_by"), "security1");
    EXPECT_STR(field(one, "acknowledged_by"), "security1");
    EXPECT_STR(field(one, "close_reason"), "password reset with the user");
    EXPECT_INT(json_integer_value(json_object_get(one, "count")), 4);
    json_decref(one);
    /* closed: the next firing opens a new alert */
    observe(g, E(GUARD_EV_LOGIN_FAIL, "zed", "10.0.0.1", T0 + 3 * MIN));
    observe(g, E(GUARD_EV_LOGIN_FAIL, "zed", "10.0.0.1", T0 + 3 * MIN + S));
    EXPECT_INT(nalerts(g, "bf"), 2);
    /* after the aggregation window, another new one */
    observe(g, E(GUARD_EV_LOGIN_FAIL, "zed", "10.0.0.1", T0 + 40 * MIN));
    observe(g, E(GUARD_EV_LOGIN_FAIL, "zed", "10.0.0.1", T0 + 40 * MIN + S));
    EXPECT_INT(nalerts(g, "bf"), 3);
    guard_alert_filter f;
    memset(&f, 0, sizeof f);
    f.status = "open";
    json_t *out = NULL;
    EXPECT_OK(guard_alerts(g, &f, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "alerts")), 2);
    json_decref(out);
    f.status = "closed";
    EXPECT_OK(guard_alerts(g, &f, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "alerts")), 1);
    json_decref(out);
    memset(&f, 0, sizeof f);
    f.severity = "high";
    EXPECT_OK(guard_alerts(g, &f, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "alerts")), 0); /* all medium */
    json_decref(out);
    f.severity = "medium";
    f.limit = 2;
    EXPECT_OK(guard_alerts(g, &f, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "alerts")), 2);
    int64_t next = json_integer_value(json_object_get(out, "next"));
    json_decref(out);
    f.before_id = next;
    EXPECT_OK(guard_alerts(g, &f, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "alerts")), 1);
    EXPECT(json_is_null(json_object_get(out, "next")));
    json_decref(out);
    f.since_us = T0 + 30 * MIN;
    f.before_id = 0;
    EXPECT_OK(guard_alerts(g, &f, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "alerts")), 1);
    json_decref(out);
    f.severity = "loud";
    EXPECT_ERR(guard_alerts(g, &f, &out), ERR_INPUT);
    guard_close(g);
}

/* ---- persistence ---- */

TEST(t_blocks_survive_restart)
{
    char *dir, *db = tmpdb("guard-persist", &dir);
    const char *rules = "rule bf\n detect login_fail\n per account\n threshold 2 within 1m\n"
                        " respond alert, lock 1h, throttle 10m\nend\n";
    now_us = T0;
    guard *g = open_at(rules, db);
    EXPECT_OK(guard_block(g, "192.0.2.10", 60, "security1", "short"));
    EXPECT_OK(guard_block(g, "192.0.2.11", 3600, "security1", "long"));
    EXPECT_OK(guard_throttle(g, "address", "2001:db8:5::1", 600, "security1", "slow"));
    observe(g, E(GUARD_EV_LOGIN_FAIL, "liz", "10.0.0.1", T0));
    observe(g, E(GUARD_EV_LOGIN_FAIL, "liz", "10.0.0.1", T0 + S));
    guard_sync(g);
    guard_close(g);
    guard_addr a10, a11, a6;
    EXPECT_OK(guard_addr_parse("192.0.2.10", &a10));
    EXPECT_OK(guard_addr_parse("192.0.2.11", &a11));
    EXPECT_OK(guard_addr_parse("2001:db8:5::99", &a6));
    /* 30 s later everything still holds */
    now_us = T0 + 30 * S;
    g = open_at(rules, db);
    EXPECT_INT(guard_admit(g, &a10, now_us, NULL), GUARD_BLOCK);
    EXPECT_INT(guard_admit(g, &a11, now_us, NULL), GUARD_BLOCK);
    EXPECT_INT(guard_admit(g, &a6, now_us, NULL), GUARD_THROTTLE);
    EXPECT_INT(guard_admit_account(g, "liz", now_us, NULL), GUARD_THROTTLE);
    json_t *s = NULL;
    EXPECT_OK(guard_sanctions(g, &s));
    EXPECT_INT(json_array_size(json_object_get(s, "sanctions")), 5);
    json_decref(s);
    EXPECT_INT(nalerts(g, "bf"), 1);
    guard_close(g);
    /* 2 minutes later: the one-minute block is gone, on reload and from the list */
    now_us = T0 + 2 * MIN;
    g = open_at(rules, db);
    EXPECT_INT(guard_admit(g, &a10, now_us, NULL), GUARD_ADMIT);
    EXPECT_INT(guard_admit(g, &a11, now_us, NULL), GUARD_BLOCK);
    EXPECT_OK(guard_sanctions(g, &s));
    EXPECT_INT(json_array_size(json_object_get(s, "sanctions")), 4);
    json_decref(s);
    EXPECT_OK(guard_unblock(g, "192.0.2.11", "security1"));
    guard_close(g);
    /* two hours later only nothing is left; the unblock held across the restart */
    now_us = T0 + 2 * HOUR;
    g = open_at(rules, db);
    EXPECT_INT(guard_admit(g, &a11, now_us, NULL), GUARD_ADMIT);
    EXPECT_INT(guard_admit(g, &a6, now_us, NULL), GUARD_ADMIT);
    EXPECT_INT(guard_admit_account(g, "liz", now_us, NULL), GUARD_ADMIT);
    EXPECT_OK(guard_sanctions(g, &s));
    EXPECT_INT(json_array_size(json_object_get(s, "sanctions")), 0);
    json_decref(s);
    guard_close(g);
    cleanup(dir, db);
}

TEST(t_foreign_database_refused)
{
    char *dir, *db = tmpdb("guard-foreign", &dir);
    sqlite3 *sq = NULL;
    EXPECT(sqlite3_open(db, &sq) == SQLITE_OK);
    EXPECT(sqlite3_exec(sq, "CREATE TABLE customers(id TEXT)", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(sq);
    guard_rules *r = NULL;
    EXPECT_OK(guard_rules_parse(slice_cstr("queue 64\n"), "t.rules", &r));
    guard_options o;
    memset(&o, 0, sizeof o);
    o.db_path = db;
    guard *g = NULL;
    EXPECT_ERR(guard_open(r, &o, &g), ERR_IO);
    EXPECT(g == NULL);
    guard_rules_free(r);
    cleanup(dir, db);
}

/* ---- a full queue drops and counts, never blocks ---- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_closed, gate_waiting;

static void blocking_audit(void *ctx, const char *action, const char *subject, const char *rule,
                           const char *detail)
{
    pthread_mutex_lock(&gate_mu);
    gate_waiting = 1;
    pthread_cond_broadcast(&gate_cv);
    while (gate_closed) {
        pthread_cond_wait(&gate_cv, &gate_mu);
    }
    pthread_mutex_unlock(&gate_mu);
}

TEST(t_queue_full_drops)
{
    guard_rules *r = NULL;
    EXPECT_OK(guard_rules_parse(slice_cstr("queue 64\nrule bf\n detect login_fail\n"
                                           " threshold 1 within 1m\nend\n"),
                                "t.rules", &r));
    guard_options o;
    memset(&o, 0, sizeof o);
    o.clock = test_clock;
    o.hooks.audit = blocking_audit;
    guard *g = NULL;
    EXPECT_OK(guard_open(r, &o, &g));
    if (!g) {
        return;
    }
    gate_closed = 1;
    gate_waiting = 0;
    observe(g, E(GUARD_EV_LOGIN_FAIL, "q", "10.0.0.1", T0)); /* its alert holds the thread */
    pthread_mutex_lock(&gate_mu);
    while (!gate_waiting) {
        pthread_cond_wait(&gate_cv, &gate_mu);
    }
    pthread_mutex_unlock(&gate_mu);
    int64_t t0 = clock_mono_us();
    for (int i = 0; i < 200; i++) {
        observe(g, E(GUARD_EV_REQUEST, "q", "10.0.0.1", T0 + S));
    }
    EXPECT(clock_mono_us() - t0 < 1000000); /* never waited */
    buf m;
    buf_init(&m, 0);
    EXPECT_OK(guard_metrics(g, &m));
    EXPECT(strstr(buf_cstr(&m), "custos_guard_events_dropped_total 136\n") != NULL);
    EXPECT(strstr(buf_cstr(&m), "custos_guard_queue_depth 64\n") != NULL);
    EXPECT(strstr(buf_cstr(&m), "custos_guard_healthy 0\n") != NULL);
    EXPECT(!guard_healthy(g));
    pthread_mutex_lock(&gate_mu);
    gate_closed = 0;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    guard_sync(g);
    buf_reset(&m);
    EXPECT_OK(guard_metrics(g, &m));
    EXPECT(strstr(buf_cstr(&m), "custos_guard_events_processed_total 65\n") != NULL);
    EXPECT(strstr(buf_cstr(&m), "custos_guard_events_total{kind=\"request\"} 64\n") != NULL);
    buf_free(&m);
    guard_close(g);
}

/* ---- a normal working day under the shipped rules ---- */

static uint32_t rng = 12345;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) % n;
}

typedef struct staff {
    const char *name, *role, *dept, *addr;
    int reads_per_hour;
} staff;

TEST(t_normal_day_is_quiet)
{
    guard_rules *r = NULL;
    EXPECT_OK(guard_rules_load("etc/guard.rules", &r));
    if (!r) {
        return;
    }
    guard_options o;
    memset(&o, 0, sizeof o);
    o.clock = test_clock;
    o.offline = true;
    guard *g = NULL;
    EXPECT_OK(guard_open(r, &o, &g));
    if (!g) {
        guard_rules_free(r);
        return;
    }
    static const staff people[] = {
        {"sales1", "sales", "beijing", "10.20.1.11", 12},
        {"sales2", "sales", "shanghai", "10.30.1.12", 15},
        {"sales3", "sales", "beijing", "10.20.1.13", 8},
        {"sales4", "sales", "shanghai", "2001:db8:30:1::14", 20},
        {"service1", "customer_service", "beijing", "10.20.2.21", 30},
        {"service2", "customer_service", "beijing", "10.20.2.22", 25},
        {"service3", "customer_service", "shanghai", "10.30.2.23", 28},
        {"steward1", "data_steward", "beijing", "10.20.3.31", 20},
        {"steward2", "data_steward", "shanghai", "10.30.3.32", 20},
        {"security1", "security", "security", "10.10.0.41", 0},
        {"hr1", "hr", "hr", "10.10.0.42", 0},
        {"auditor1", "auditor", "audit", "10.10.0.43", 0},
        {"admin", "admin", "it", "10.10.0.44", 0},
    };
    size_t np = sizeof people / sizeof people[0];
    int64_t day = T0 - 2 * HOUR; /* 2026-03-02 08:00 Beijing */
    int throttled = 0;
    int64_t evidence = 1;
    for (int minute = 30; minute < 11 * 60; minute++) { /* 08:30 .. 19:00 */
        if (minute % 30 == 0) {
            guard_sync(g); /* a simulated day runs faster than a real one */
        }
        for (size_t p = 0; p < np; p++) {
            const staff *s = &people[p];
            int64_t t = day + minute * MIN + (int64_t)rnd(60) * S;
            guard_event e;
            memset(&e, 0, sizeof e);
            e.time_us = t;
            e.username = s->name;
            e.role = s->role;
            e.department = s->dept;
            e.source = s->addr;
            e.route_known = true;
            e.status = 200;
            guard_addr a;
            IGNORE(guard_addr_parse(s->addr, &a));
            /* mornings and after lunch: log in, sometimes after a typo */
            if (minute == 30 + (int)p * 3 || minute == 13 * 60 - 8 * 60 + (int)p) {
                if (rnd(4) == 0) {
                    e.kind = GUARD_EV_LOGIN_FAIL;
                    e.audit_index = evidence++;
                    guard_observe(g, &e);
                }
                e.kind = GUARD_EV_LOGIN_OK;
                e.audit_index = evidence++;
                guard_observe(g, &e);
                continue;
            }
            if (minute < 30 + (int)p * 3) {
                continue; /* not in yet */
            }
            /* customer reads at the person's pace */
            if (s->reads_per_hour && rnd(60) < (uint32_t)s->reads_per_hour) {
                throttled += guard_admit(g, &a, t, NULL) != GUARD_ADMIT;
                throttled += guard_admit_account(g, s->name, t, NULL) != GUARD_ADMIT;
                e.kind = GUARD_EV_CUSTOMER_READ;
                e.customers = 1;
                e.bytes = 1500 + rnd(2000);
                e.customer_department = s->dept;
                e.audit_index = evidence++;
                guard_observe(g, &e);
                /* stewards list a page now and then */
                if (strcmp(s->role, "data_steward") == 0 && rnd(10) == 0) {
                    e.customers = 50;
                    e.bytes = 50 * 1800;
                    e.audit_index = evidence++;
                    guard_observe(g, &e);
                }
            }
            /* other requests: pages, static data, the odd 404 and mistake */
            for (int k = 0; k < 2; k++) {
                guard_event q = e;
                q.kind = GUARD_EV_REQUEST;
                q.customers = 0;
                q.bytes = 0;
                q.audit_index = -1;
                q.status = rnd(50) == 0 ? 404 : 200;
                q.malformed = rnd(400) == 0;
                throttled += guard_admit(g, &a, t, NULL) != GUARD_ADMIT;
                guard_observe(g, &q);
            }
            /* a refusal once in a long while */
            if (rnd(900) == 0) {
                e.kind = GUARD_EV_DENIED;
                e.categories = strcmp(s->role, "sales") == 0 ? "contact" : "identity";
                e.audit_index = evidence++;
                guard_observe(g, &e);
            }
        }
    }
    /* the steward of Beijing exports the department in the afternoon */
    for (int page = 0; page < 5; page++) {
        guard_event e;
        memset(&e, 0, sizeof e);
        e.kind = GUARD_EV_CUSTOMER_READ;
        e.time_us = day + 7 * HOUR + page * 2 * S;
        e.username = "steward1";
        e.role = "data_steward";
        e.department = "beijing";
        e.source = "10.20.3.31";
        e.customers = 200;
        e.bytes = 200 * 1800;
        e.audit_index = evidence++;
        guard_observe(g, &e);
    }
    guard_sync(g);
    EXPECT_INT(throttled, 0);
    guard_alert_filter f;
    memset(&f, 0, sizeof f);
    json_t *out = NULL;
    EXPECT_OK(guard_alerts(g, &f, &out));
    json_t *list = json_object_get(out, "alerts");
    EXPECT_INT(json_array_size(list), 0);
    size_t i;
    json_t *al;
    json_array_foreach(list, i, al)
    {
        printf("  unexpected alert: %s %s %s\n", field(al, "rule"), field(al, "subject"),
               field(al, "detail"));
    }
    json_decref(out);
    buf m;
    buf_init(&m, 0);
    EXPECT_OK(guard_metrics(g, &m));
    EXPECT(strstr(buf_cstr(&m), "custos_guard_events_dropped_total 0\n") != NULL);
    EXPECT(strstr(buf_cstr(&m), "custos_guard_healthy 1\n") != NULL);
    buf_free(&m);
    guard_close(g);
}

TEST(t_door_notices)
{
    /* What the door reports (break-glass, lockouts, sealing) becomes an alert at once. */
    guard *g = open_text("version 1\nrule door-notices\n    detect notice\n    severity high\n"
                         "end\n");
    EXPECT(g != NULL);
    if (!g) {
        return;
    }
    guard_event e = E(GUARD_EV_NOTICE, "security1", "10.0.0.1", T0);
    e.categories = "break-glass-read";
    observe(g, e);
    json_t *a = alerts_of(g, "door-notices");
    EXPECT_INT(json_array_size(a), 1);
    const char *d = json_string_value(json_object_get(json_array_get(a, 0), "detail"));
    EXPECT(d && strstr(d, "break-glass-read") != NULL);
    EXPECT_STR(field(json_array_get(a, 0), "severity"), "high");
    json_decref(a);
    guard_event other = E(GUARD_EV_DENIED, "security1", "10.0.0.1", T0 + 1);
    observe(g, other); /* other kinds do not reach it */
    EXPECT_INT(nalerts(g, "door-notices"), 1);
    guard_close(g);
}

int main(void)
{
    test_init();
    now_us = T0;
    RUN(t_login_fail_per_account);
    RUN(t_behaviour_lock_still_locks_account);
    RUN(t_bad_tokens);
    RUN(t_probing);
    RUN(t_honeytoken_write);
    RUN(t_door_notices);
    RUN(t_login_fail_window);
    RUN(t_login_fail_per_address_blocks);
    RUN(t_spraying);
    RUN(t_stuffing);
    RUN(t_denied_and_routing);
    RUN(t_reads_and_steward_routing);
    RUN(t_roles_filter);
    RUN(t_egress);
    RUN(t_baseline);
    RUN(t_baseline_warmup_and_z);
    RUN(t_off_hours);
    RUN(t_honeytoken);
    RUN(t_honeytoken_block_new);
    RUN(t_train_response);
    RUN(t_scan);
    RUN(t_new_address_persisted);
    RUN(t_aggregation_and_status);
    RUN(t_blocks_survive_restart);
    RUN(t_queue_full_drops);
    RUN(t_foreign_database_refused);
    RUN(t_normal_day_is_quiet);
    return test_done("guard_detect_test");
}
