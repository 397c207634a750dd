/*
 * drill_test.c - a breach-response drill on a demo vault, end to end, through the real
 * server: security starts it, the server reads as the drill account from a new loopback
 * address, the guard's shipped rules detect the honeytoken read and contain it (account
 * locked and revoked, address blocked) within a minute, the scope computed from the audit log
 * is exactly what the drill's requests got back, the people's tasks give the remaining
 * timings, and the after-action report shows every timing in both languages and as PDF.
 * The timings of each step are printed.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test.h"
#include "core/clock.h"
#include "harness.h"
#include "mailrx.h"

static srv S;
static mailrx MX;
static char INC[64]; /* the end-to-end drill's incident */
static char TSEC[80], TLEG[80], TAUD[80], TSALES[80], TSERV[80], TADM[80];

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int64_t jtime(json_t *o, const char *k)
{
    int64_t us = 0;
    const char *s = jstr(o, k);
    return s && clock_parse_rfc3339(s, &us) == ERR_OK ? us : 0;
}

/* Starts a drill and waits (deadline) until it is no longer running; the drill's record. */
static json_t *run_drill(char *id, size_t max)
{
    json_t *j = NULL;
    EXPECT_INT(
        h_json(&S, "POST", "/v1/drills", TSEC, "{\"playbook\":\"customer-data-misread\"}", &j),
        202);
    const char *d = jstr(j, "drill");
    EXPECT(d != NULL);
    snprintf(id, max, "%s", d ? d : "");
    EXPECT(jstr(j, "address") && strncmp(jstr(j, "address"), "127.0.0.", 8) == 0);
    EXPECT(json_object_get(j, "token") == NULL); /* the drill session never leaves the server */
    json_decref(j);
    char path[128];
    snprintf(path, sizeof path, "/v1/drills/%s", id);
    int64_t dl = h_deadline(120000);
    json_t *rec = NULL;
    for (;;) {
        json_decref(rec);
        rec = NULL;
        EXPECT_INT(h_json(&S, "GET", path, TSEC, NULL, &rec), 200);
        const char *st = jstr(rec, "state");
        if ((st && strcmp(st, "running") != 0) || !h_poll(dl)) {
            break;
        }
    }
    return rec;
}

static bool in_array(json_t *arr, const char *s)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (json_is_string(x) && strcmp(json_string_value(x), s) == 0) {
            return true;
        }
    }
    return false;
}

TEST(t_only_security_starts_and_reserved_names)
{
    json_t *j = NULL;
    EXPECT_INT(
        h_json(&S, "POST", "/v1/drills", TSALES, "{\"playbook\":\"customer-data-misread\"}", &j),
        403);
    json_decref(j);
    EXPECT_INT(
        h_json(&S, "POST", "/v1/drills", TADM, "{\"playbook\":\"customer-data-misread\"}", &j),
        403);
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/drills", TSEC, "{\"playbook\":\"../../etc/passwd\"}", &j),
               400);
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/drills", TSEC, "{\"playbook\":\"no-such-playbook\"}", &j),
               404);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/drills", TSALES, NULL, &j), 403);
    json_decref(j);
    /* Nobody else may take a drill account's name or the drill department. */
    EXPECT_INT(h_json(&S, "POST", "/v1/accounts", TADM,
                      "{\"username\":\"drill-00000000\",\"role\":\"sales\","
                      "\"department\":\"beijing\"}",
                      &j),
               400);
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/accounts", TADM,
                      "{\"username\":\"mole1\",\"role\":\"sales\",\"department\":\"drill\"}", &j),
               400);
    json_decref(j);
}

static const char *const STEPS[] = {"detect",   "acknowledge", "decide", "contain",
                                    "evidence", "notices",     "report"};

TEST(t_drill_end_to_end)
{
    char id[64];
    int64_t t0 = clock_now_us();
    json_t *rec = run_drill(id, sizeof id);
    EXPECT_STR(jstr(rec, "state"), "contained");
    EXPECT(json_is_true(json_object_get(rec, "drill")));
    const char *account = jstr(rec, "account"), *address = jstr(rec, "address");
    EXPECT(account && strncmp(account, "drill-", 6) == 0);

    /* Detection and automatic containment within a minute of the first honeytoken read. */
    json_t *cont = json_object_get(rec, "containment");
    int64_t inj = jtime(rec, "injected_at"), locked = jtime(cont, "locked_at"),
            blocked = jtime(cont, "blocked_at");
    json_t *alert = json_object_get(rec, "alert");
    int64_t alerted = jtime(alert, "first_seen");
    EXPECT(inj >= t0);
    EXPECT(alerted >= inj && alerted - inj < 60 * 1000000LL);
    EXPECT(locked >= inj && locked - inj < 60 * 1000000LL);
    EXPECT(blocked >= inj && blocked - inj < 60 * 1000000LL);
    EXPECT_STR(jstr(cont, "lock_rule"), "honeytoken");
    EXPECT_STR(jstr(cont, "block_rule"), "honeytoken");
    EXPECT_STR(jstr(alert, "rule"), "honeytoken");
    EXPECT_STR(jstr(alert, "account"), account);

    /* What the drill's requests got back, and the refusal that ended them. */
    json_t *reqs = json_object_get(rec, "requests"), *read = json_array(),
           *honey_read = json_array();
    json_t *honeytokens = json_object_get(rec, "honeytokens");
    size_t i;
    json_t *rq;
    int refused = 0;
    json_array_foreach(reqs, i, rq)
    {
        int st = (int)json_integer_value(json_object_get(rq, "status"));
        if (st != 200) {
            refused++;
            EXPECT(st == 401 || st == 403);
            continue;
        }
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(rq, "customers"), k, c)
        {
            if (!in_array(read, json_string_value(c)) &&
                !in_array(honeytokens, json_string_value(c))) {
                json_array_append(read, c);
            }
            if (in_array(honeytokens, json_string_value(c)) &&
                !in_array(honey_read, json_string_value(c))) {
                json_array_append(honey_read, c);
            }
        }
    }
    EXPECT(refused >= 1);
    EXPECT(json_array_size(read) >= 2);
    EXPECT(json_array_size(honey_read) >= 1);

    /* The scope from the audit log is exactly what was read: the same customers, all of the
     * drill department, the same honeytokens (listed apart from the customers). */
    json_t *scope = json_object_get(rec, "scope");
    json_t *sc = json_object_get(scope, "customers");
    EXPECT_INT(json_array_size(sc), json_array_size(read));
    json_t *c;
    json_array_foreach(sc, i, c)
    {
        EXPECT(in_array(read, jstr(c, "id")));
        EXPECT_STR(jstr(c, "department"), "drill");
    }
    EXPECT_INT(json_array_size(json_object_get(scope, "honeytokens")), json_array_size(honey_read));
    json_array_foreach(json_object_get(scope, "honeytokens"), i, c)
    {
        EXPECT(in_array(honey_read, json_string_value(c)));
    }
    EXPECT(json_integer_value(json_object_get(json_object_get(scope, "checkpoint"), "size")) > 0);

    /* The drill account is locked and disabled; the address is blocked. */
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/guard/sanctions", TSEC, NULL, &j), 200);
    bool lock = false, block = false;
    json_array_foreach(json_object_get(j, "sanctions"), i, c)
    {
        const char *sub = jstr(c, "subject");
        lock |= strcmp(jstr(c, "kind"), "lock") == 0 && sub && strstr(sub, account);
        block |= strcmp(jstr(c, "kind"), "block") == 0 && sub && strstr(sub, address);
    }
    EXPECT(lock);
    EXPECT(block);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/accounts", TADM, NULL, &j), 200);
    bool disabled = false;
    json_array_foreach(json_object_get(j, "accounts"), i, c)
    {
        if (strcmp(jstr(c, "username"), account) == 0) {
            disabled = json_is_true(json_object_get(c, "disabled"));
        }
    }
    EXPECT(disabled);
    json_decref(j);

    /* The people's part: security acknowledges the alert and computes the scope, legal the
     * evidence, the assessment and the initial report, customer service the notices. */
    char path[256];
    snprintf(path, sizeof path, "/v1/alerts/%lld/ack",
             (long long)json_integer_value(json_object_get(alert, "id")));
    EXPECT_INT(h_json(&S, "POST", path, TSEC, NULL, &j), 200);
    json_decref(j);
    const char *inc = jstr(rec, "incident");
    EXPECT(inc != NULL);
    snprintf(INC, sizeof INC, "%s", inc ? inc : "");
    char ipath[128];
    snprintf(ipath, sizeof ipath, "/v1/incidents/%s", inc ? inc : "-");
    /* The incident is a drill, listed apart from real incidents. */
    EXPECT_INT(h_json(&S, "GET", ipath, TSEC, NULL, &j), 200);
    EXPECT(json_is_true(json_object_get(j, "drill")));
    EXPECT(jstr(j, "source_alert") && jstr(j, "source_alert")[0]);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/incidents?state=all&drill=0", TSEC, NULL, &j), 200);
    json_array_foreach(json_object_get(j, "incidents"), i, c)
    {
        EXPECT(strcmp(jstr(c, "id"), inc) != 0);
    }
    json_decref(j);
    static const struct {
        const char *task;
        char *tok;
        int want;
    } steps[] = {{"evidence", TLEG, 409},   {"contain", TSEC, 200},
                 {"scope", TSEC, 200},      {"evidence", TSALES, 403},
                 {"legal-risk", TLEG, 200}, {"regulator-initial", TLEG, 200},
                 {"notices", TSERV, 200}};
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        if (strcmp(steps[s].task, "legal-risk") == 0) {
            /* Legal secures the evidence: the bundle verifies offline, and not once any byte
             * of it changes. */
            snprintf(path, sizeof path, "%s/evidence", ipath);
            buf ev;
            buf_init(&ev, 0);
            static const char why[] = "{\"reason\":\"drill evidence\"}";
            EXPECT_INT(
                h_req(&S, "POST", path, TLEG, "application/json", why, sizeof why - 1, &ev, NULL),
                200);
            char file[600];
            snprintf(file, sizeof file, "%s/../evidence.json", S.dir);
            FILE *f = fopen(file, "wb");
            EXPECT(f && fwrite(ev.p, 1, ev.len, f) == ev.len);
            if (f) {
                fclose(f);
            }
            const char *vb[] = {"audit", "verify-bundle", file, NULL};
            buf o;
            buf_init(&o, 0);
            EXPECT_INT(h_cli(&S, &o, vb), 0);
            int flips = 0;
            for (size_t at = 7; at < ev.len && flips < 12; at += ev.len / 12 + 1, flips++) {
                ((uint8_t *)ev.p)[at] ^= 0x01;
                f = fopen(file, "wb");
                EXPECT(f && fwrite(ev.p, 1, ev.len, f) == ev.len);
                if (f) {
                    fclose(f);
                }
                buf_reset(&o);
                EXPECT(h_cli(&S, &o, vb) != 0);
                ((uint8_t *)ev.p)[at] ^= 0x01;
            }
            buf_free(&o);
            buf_free(&ev);
            snprintf(path, sizeof path, "%s/tasks/evidence/done", ipath);
            EXPECT_INT(h_json(&S, "POST", path, TLEG, "{\"note\":\"bundle verified\"}", &j), 200);
            json_decref(j);
        }
        snprintf(path, sizeof path, "%s/tasks/%s/done", ipath, steps[s].task);
        int got = h_json(&S, "POST", path, steps[s].tok, "{\"note\":\"drill\"}", &j);
        if (got != steps[s].want) {
            printf("  task %s: %d, expected %d\n", steps[s].task, got, steps[s].want);
        }
        EXPECT_INT(got, steps[s].want);
        json_decref(j);
        if (strcmp(steps[s].task, "regulator-initial") == 0) {
            snprintf(path, sizeof path, "%s/filed", ipath);
            EXPECT_INT(h_json(&S, "POST", path, TLEG, "{\"report\":\"cac-initial\"}", &j), 200);
            json_decref(j);
        }
    }

    /* The history shows every timing; print them. */
    EXPECT_INT(h_json(&S, "GET", "/v1/drills", TLEG, NULL, &j), 200);
    json_t *mine = NULL;
    json_array_foreach(json_object_get(j, "drills"), i, c)
    {
        if (strcmp(jstr(c, "id"), id) == 0) {
            mine = c;
        }
    }
    EXPECT(mine != NULL);
    json_t *tm = json_object_get(mine, "timings");
    printf("  drill %s timings (seconds):", id);
    for (size_t s = 0; s < sizeof STEPS / sizeof STEPS[0]; s++) {
        char k[32];
        snprintf(k, sizeof k, "%s_s", STEPS[s]);
        json_t *v = json_object_get(tm, k);
        EXPECT(json_is_number(v));
        printf(" %s=%.3f", STEPS[s], json_number_value(v));
    }
    printf("\n  hand-offs:");
    json_array_foreach(json_object_get(mine, "handoffs"), i, c)
    {
        printf(" %s(%s)->%s(%s)=%.3fs", jstr(c, "from"), jstr(c, "from_team"), jstr(c, "to"),
               jstr(c, "to_team"), json_number_value(json_object_get(c, "wait_s")));
    }
    printf("\n");
    EXPECT(json_array_size(json_object_get(mine, "handoffs")) >= 1);
    EXPECT(json_number_value(json_object_get(tm, "detect_s")) < 60.0);
    EXPECT(json_number_value(json_object_get(tm, "contain_s")) < 60.0);
    json_decref(j);

    /* The after-action report shows every timing, in both languages; the PDF is a PDF. */
    buf b;
    buf_init(&b, 0);
    snprintf(path, sizeof path, "/v1/drills/%s/report?lang=en&format=text", id);
    EXPECT_INT(h_req(&S, "GET", path, TAUD, NULL, NULL, 0, &b, NULL), 200);
    EXPECT_OK(buf_append_byte(&b, 0));
    const char *en[] = {
        "detection (injection to alert)", "acknowledging the alert", "the containment decision",
        "the containment action",         "evidence bundle ready",   "customer notices ready",
        "regulator report ready",         "Hand-offs between teams", "Recommendations"};
    for (size_t s = 0; s < sizeof en / sizeof en[0]; s++) {
        EXPECT(strstr((const char *)b.p, en[s]) != NULL);
    }
    EXPECT(strstr((const char *)b.p, "not reached") == NULL);
    EXPECT(strstr((const char *)b.p, account) != NULL);
    buf_reset(&b);
    snprintf(path, sizeof path, "/v1/drills/%s/report?lang=zh-CN", id);
    EXPECT_INT(h_req(&S, "GET", path, TLEG, NULL, NULL, 0, &b, NULL), 200);
    EXPECT_OK(buf_append_byte(&b, 0));
    EXPECT(strstr((const char *)b.p, "演练事后评估报告") != NULL);
    EXPECT(strstr((const char *)b.p, "监管报告就绪") != NULL);
    EXPECT(strstr((const char *)b.p, "未完成") == NULL);
    buf_reset(&b);
    snprintf(path, sizeof path, "/v1/drills/%s/report?lang=zh-CN&format=pdf", id);
    EXPECT_INT(h_req(&S, "GET", path, TSEC, NULL, NULL, 0, &b, NULL), 200);
    EXPECT(b.len > 1000 && memcmp(b.p, "%PDF-", 5) == 0);
    buf_reset(&b);
    /* As HTML: the same report, escaped, running nothing. */
    snprintf(path, sizeof path, "/v1/drills/%s/report?lang=en&format=html", id);
    EXPECT_INT(h_req(&S, "GET", path, TAUD, NULL, NULL, 0, &b, NULL), 200);
    EXPECT_OK(buf_append_byte(&b, 0));
    EXPECT(strstr((const char *)b.p, "<!DOCTYPE html>") != NULL ||
           strstr((const char *)b.p, "<!doctype html>") != NULL);
    EXPECT(strstr((const char *)b.p, "regulator report ready") != NULL);
    EXPECT(strstr((const char *)b.p, "<script") == NULL);
    buf_reset(&b);
    snprintf(path, sizeof path, "/v1/drills/%s/report?lang=en&format=docx", id);
    EXPECT_INT(h_req(&S, "GET", path, TAUD, NULL, NULL, 0, &b, NULL), 400);
    buf_reset(&b);
    snprintf(path, sizeof path, "/v1/drills/%s/report?lang=fr", id);
    EXPECT_INT(h_req(&S, "GET", path, TSEC, NULL, NULL, 0, &b, NULL), 400);
    snprintf(path, sizeof path, "/v1/drills/%s/report", id);
    /* Sales see no drill (by now the guard may have asked sales1 to sign in again after its
     * refusals in several categories: 401). */
    int st = h_req(&S, "GET", path, TSALES, NULL, NULL, 0, &b, NULL);
    EXPECT(st == 403 || st == 401);
    buf_free(&b);

    json_decref(read);
    json_decref(honey_read);
    json_decref(rec);
}

/* The words of the drill: every document carries its items and the drill's mark, and the
 * customer letters go to the drill's recipients only, never to a customer. */
TEST(t_drill_notices_and_mail)
{
    char p[200];
    json_t *j = NULL;
    snprintf(p, sizeof p, "/v1/incidents/%s/documents/texts", INC);
    EXPECT_INT(h_json(&S, "POST", p, TSEC,
                      "{\"lang\":\"zh-CN\",\"texts\":{\"measures\":\"演练措施甲。\","
                      "\"customer_steps\":\"演练步骤乙。\",\"harm\":\"演练危害丙。\","
                      "\"cause\":\"演练原因丁。\",\"impact\":\"演练影响戊。\","
                      "\"handling\":\"演练处置己。\",\"accountability\":\"演练责任庚。\","
                      "\"remediation\":\"演练整改辛。\",\"lessons\":\"演练教训壬。\"}}",
                      &j),
               200);
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", p, TLEG,
                      "{\"lang\":\"en\",\"texts\":{\"measures\":\"drill measure A.\","
                      "\"customer_steps\":\"drill step B.\",\"harm\":\"drill harm C.\","
                      "\"cause\":\"drill cause D.\",\"impact\":\"drill impact E.\"}}",
                      &j),
               200);
    json_decref(j);
    /* Items per document (the facts this drill gave), in each language. */
    static const struct {
        const char *doc;
        const char *items[8];
    } ITEMS[] = {
        {"cac-initial?lang=zh-CN",
         {"雅藏古玩有限公司", "演练措施甲", "演练影响戊", "400-800-1234", 0}},
        {"cac-summary?lang=zh-CN",
         {"演练原因丁", "演练处置己", "演练危害丙", "演练责任庚", "演练整改辛", "演练教训壬", 0}},
        {"pipl-57?lang=zh-CN",
         {"演练原因丁", "演练危害丙", "演练措施甲", "演练步骤乙", "400-800-1234", 0}},
        {"gdpr-33?lang=en", {"drill harm C", "drill measure A", "privacy@yacang.example", 0}},
        {"statement?lang=zh-CN", {"演练措施甲", "400-800-1234", 0}},
        {"statement?lang=en", {"drill measure A", "400-800-1234", 0}},
        {"customer-notice?lang=zh-CN", {"冒充", "演练措施甲", "演练步骤乙", "400-800-1234", 0}},
        {"customer-notice?lang=en", {"pretending", "drill measure A", "drill step B", 0}},
    };
    buf b;
    buf_init(&b, (size_t)8 << 20);
    for (size_t i = 0; i < sizeof ITEMS / sizeof ITEMS[0]; i++) {
        snprintf(p, sizeof p, "/v1/incidents/%s/documents/%s&format=text", INC, ITEMS[i].doc);
        buf_reset(&b);
        int st = h_req(&S, "GET", p, TLEG, NULL, NULL, 0, &b, NULL);
        EXPECT_INT(st, 200);
        EXPECT_OK(buf_append_byte(&b, 0));
        const char *t = (const char *)b.p;
        EXPECT(strstr(t, "演练 DRILL") != NULL); /* marked as a drill */
        for (int k = 0; ITEMS[i].items[k]; k++) {
            if (!strstr(t, ITEMS[i].items[k])) {
                printf("  %s lacks %s\n", ITEMS[i].doc, ITEMS[i].items[k]);
            }
            EXPECT(strstr(t, ITEMS[i].items[k]) != NULL);
        }
    }
    buf_free(&b);
    /* Legal approves the letter, customer service sends: only the drill desk gets mail. */
    snprintf(p, sizeof p, "/v1/incidents/%s/documents/customer-notice/approve", INC);
    EXPECT_INT(h_json(&S, "POST", p, TLEG, "{}", &j), 200);
    json_decref(j);
    snprintf(p, sizeof p, "/v1/incidents/%s/notices/send", INC);
    EXPECT_INT(h_json(&S, "POST", p, TSERV, "{}", &j), 200);
    json_int_t sent = json_integer_value(json_object_get(j, "sent"));
    json_decref(j);
    EXPECT(sent >= 1);
    buf all;
    buf_init(&all, (size_t)16 << 20);
    int got = mailrx_wait(&MX, (int)sent, 30000, &all);
    EXPECT_INT(got, (int)sent);
    EXPECT_OK(buf_append_byte(&all, 0));
    const char *m = (const char *)all.p;
    int to_desk = 0;
    for (const char *q = m; (q = strstr(q, "\nTo: ")) != NULL; q++) {
        EXPECT(strncmp(q, "\nTo: <drill-desk@staff.example>", 31) == 0);
        to_desk++;
    }
    EXPECT_INT(to_desk, got);
    EXPECT(strstr(m, "演练 DRILL") != NULL);
    buf_free(&all);
}

TEST(t_second_drill_compares)
{
    char id[64];
    json_t *rec = run_drill(id, sizeof id);
    EXPECT_STR(jstr(rec, "state"), "contained");
    json_decref(rec);
    buf b;
    buf_init(&b, 0);
    char path[160];
    snprintf(path, sizeof path, "/v1/drills/%s/report?lang=en", id);
    EXPECT_INT(h_req(&S, "GET", path, TSEC, NULL, NULL, 0, &b, NULL), 200);
    EXPECT_OK(buf_append_byte(&b, 0));
    EXPECT(strstr((const char *)b.p, "Compared with the earlier drills (1") != NULL);
    buf_free(&b);
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/drills", TAUD, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "drills")), 2);
    json_decref(j);
}

static void *start_one(void *arg)
{
    json_t *j = NULL;
    *(int *)arg =
        h_json(&S, "POST", "/v1/drills", TSEC, "{\"playbook\":\"customer-data-misread\"}", &j);
    json_decref(j);
    return NULL;
}

/* Starts at the same moment: one drill runs, the others are refused while it does. */
TEST(t_concurrent_starts)
{
    enum { N = 4 };
    pthread_t th[N];
    int st[N] = {0};
    for (int i = 0; i < N; i++) {
        EXPECT(pthread_create(&th[i], NULL, start_one, &st[i]) == 0);
    }
    int started = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        started += st[i] == 202;
        refused += st[i] == 409;
    }
    EXPECT_INT(started, 1);
    EXPECT_INT(refused, N - 1);
    /* It ends contained like the others. */
    int64_t dl = h_deadline(120000);
    bool done = false;
    while (!done) {
        json_t *j = NULL;
        EXPECT_INT(h_json(&S, "GET", "/v1/drills", TSEC, NULL, &j), 200);
        json_t *arr = json_object_get(j, "drills");
        const char *last = jstr(json_array_get(arr, json_array_size(arr) - 1), "state");
        done = json_array_size(arr) == 3 && last && strcmp(last, "running") != 0;
        if (done) {
            EXPECT_STR(last, "contained");
        }
        json_decref(j);
        if (!done && !h_poll(dl)) {
            break;
        }
    }
    EXPECT(done);
}

/* make run's demo: `custos demo --drill` leaves one closed past drill with its report. */
TEST(t_demo_has_a_past_drill)
{
    srv D;
    h_setup(&D, "drill-demo");
    const char *demo[] = {"demo", D.dir, "--customers", "4", "--drill", NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&D, &out, demo), 0);
    EXPECT_OK(buf_append_byte(&out, 0));
    EXPECT(strstr((const char *)out.p, "demo drill drl_") != NULL);
    buf_free(&out);
    EXPECT(h_start(&D));
    char tok[80];
    EXPECT(h_login(&D, "auditor1", DEMO_PW, tok));
    json_t *j = NULL;
    EXPECT_INT(h_json(&D, "GET", "/v1/drills", tok, NULL, &j), 200);
    json_t *d = json_array_get(json_object_get(j, "drills"), 0);
    EXPECT_INT(json_array_size(json_object_get(j, "drills")), 1);
    EXPECT_STR(jstr(d, "state"), "contained");
    EXPECT_STR(jstr(d, "phase"), "closed");
    json_t *tm = json_object_get(d, "timings");
    for (size_t s = 0; s < sizeof STEPS / sizeof STEPS[0]; s++) {
        char k[32];
        snprintf(k, sizeof k, "%s_s", STEPS[s]);
        EXPECT(json_is_number(json_object_get(tm, k)));
    }
    char path[160];
    snprintf(path, sizeof path, "/v1/drills/%s/report?lang=zh-CN", jstr(d, "id") ?: "-");
    buf b;
    buf_init(&b, 0);
    EXPECT_INT(h_req(&D, "GET", path, tok, NULL, NULL, 0, &b, NULL), 200);
    EXPECT_OK(buf_append_byte(&b, 0));
    EXPECT(strstr((const char *)b.p, "演练事后评估报告") != NULL);
    EXPECT(strstr((const char *)b.p, "未完成") == NULL);
    buf_free(&b);
    json_decref(j);
    EXPECT_INT(h_stop(&D), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    h_setup(&S, "drill");
    char md[700];
    snprintf(md, sizeof md, "%s/../maildir", S.dir);
    EXPECT(mailrx_start(&MX, md));
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "11", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "40", NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, demo), 0);
    buf_free(&out);
    /* The company's facts, the mail server (the test's receiver) and the drill's recipients. */
    char cfg[700];
    snprintf(cfg, sizeof cfg, "%s/notices.json", S.dir);
    int fd = open(cfg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    EXPECT(f != NULL);
    if (f) {
        fprintf(f,
                "{\"company\": {\"zh-CN\": \"雅藏古玩有限公司\", \"en\": \"Yacang Antiques Ltd.\"},"
                " \"system\": \"Custos\", \"contact_phone\": \"400-800-1234\","
                " \"contact_email\": \"privacy@yacang.example\","
                " \"smtp\": \"smtp://127.0.0.1:%u\", \"smtp_plain_loopback\": true,"
                " \"from\": \"notices@yacang.example\","
                " \"drill_recipients\": [\"drill-desk@staff.example\"]}\n",
                MX.port);
        fclose(f);
    }
    EXPECT(h_start(&S));
    EXPECT(h_login(&S, "security1", DEMO_PW, TSEC));
    EXPECT(h_login(&S, "legal1", DEMO_PW, TLEG));
    EXPECT(h_login(&S, "auditor1", DEMO_PW, TAUD));
    EXPECT(h_login(&S, "sales1", DEMO_PW, TSALES));
    EXPECT(h_login(&S, "service1", DEMO_PW, TSERV));
    EXPECT(h_login(&S, "admin", DEMO_PW, TADM));
    RUN(t_only_security_starts_and_reserved_names);
    RUN(t_drill_end_to_end);
    RUN(t_drill_notices_and_mail);
    RUN(t_second_drill_compares);
    RUN(t_concurrent_starts);
    if (S.pid) {
        EXPECT_INT(h_stop(&S), 0);
    }
    mailrx_stop(&MX);
    RUN(t_demo_has_a_past_drill);
    return test_done("drill_test");
}
