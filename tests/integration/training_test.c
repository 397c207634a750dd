/*
 * training_test.c - training through a real server: the demo vault comes with the starter
 * curriculum assigned; a lapsed validity cuts customer access on the next request and passing
 * the quiz restores it; the quarter moving on (the server's clock shifted) lapses it again;
 * HR's hand-set date needs a reason and lands in the audit log; employees see only their own
 * results; reminders go out once per cycle through a real SMTP receiver on loopback
 * (Debian's python3-aiosmtpd), and the test reads what arrived.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/test.h"
#include "core/clock.h"
#include "harness.h"
#include "mailrx.h"
#include "training/training.h"

#define COURSE "security-basics"
#define STARTER "training/security-basics/course.json"

static srv S;
static char TS[64], TH[64], TS2[64];
static json_t *MANIFEST;

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool login(const char *user, char *tok)
{
    return h_login(&S, user, DEMO_PW, tok);
}

/* GET /v1/customers as tok: 200 when customer access is open, 403 when the gate refuses. */
static int customers(const char *tok, json_t **err_out)
{
    json_t *j = NULL;
    int st = h_json(&S, "GET", "/v1/customers?limit=1", tok, NULL, &j);
    if (err_out) {
        *err_out = j;
    } else {
        json_decref(j);
    }
    return st;
}

/* The answers to the shown paper, found from the course's own file by the choices' texts
 * (black box: what the server shows, and the published course). right=false answers
 * every question wrongly. */
static json_t *answers(json_t *attempt, const char *lang, bool right)
{
    json_t *ans = json_object(), *quiz = json_object_get(MANIFEST, "quiz");
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(attempt, "questions"), i, q)
    {
        json_t *src = NULL;
        for (size_t k = 0; k < json_array_size(quiz); k++) {
            json_t *x = json_array_get(quiz, k);
            src = strcmp(jstr(x, "id"), jstr(q, "id")) == 0 ? x : src;
        }
        json_t *a = json_array();
        json_t *shown = json_object_get(q, "choices");
        for (size_t s = 0; s < json_array_size(shown) && src; s++) {
            const char *txt = json_string_value(json_array_get(shown, s));
            bool is_right = false;
            json_t *ch = json_object_get(src, "choices"), *idx;
            size_t n;
            json_array_foreach(json_object_get(src, "answer"), n, idx)
            {
                json_t *c = json_array_get(ch, (size_t)json_integer_value(idx));
                is_right = is_right || strcmp(jstr(c, lang), txt) == 0;
            }
            /* right: every right choice; wrong: the first wrong choice alone */
            if (right ? is_right : (!is_right && json_array_size(a) == 0)) {
                json_array_append_new(a, json_integer((json_int_t)s));
            }
        }
        json_object_set_new(ans, jstr(q, "id"), a);
    }
    return ans;
}

/* Takes the quiz as tok; returns the submission's answer (or NULL). */
static json_t *take_quiz(const char *tok, const char *lang, bool right)
{
    json_t *att = NULL, *res = NULL;
    char body[64];
    snprintf(body, sizeof body, "{\"lang\":\"%s\"}", lang);
    EXPECT_INT(h_json(&S, "POST", "/v1/training/courses/" COURSE "/attempts", tok, body, &att),
               201);
    if (!jstr(att, "attempt")) {
        json_decref(att);
        return NULL;
    }
    json_t *a = answers(att, lang, right);
    json_t *wrap = json_pack("{s:o}", "answers", a);
    char *txt = json_dumps(wrap, JSON_COMPACT);
    char path[200];
    snprintf(path, sizeof path, "/v1/training/attempts/%s/submit", jstr(att, "attempt"));
    EXPECT_INT(h_json(&S, "POST", path, tok, txt, &res), 200);
    free(txt);
    json_decref(wrap);
    json_decref(att);
    return res;
}

TEST(t_demo_has_the_course)
{
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "7", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "4", NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, demo), 0);
    buf_free(&out);
    h_quiet_guard(&S);
    EXPECT(h_start(&S));
    EXPECT(login("sales1", TS));
    EXPECT(login("sales2", TS2));
    EXPECT(login("hr1", TH));
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/training/courses?lang=zh-CN", TS, NULL, &j), 200);
    json_t *c = json_array_get(json_object_get(j, "courses"), 0);
    EXPECT_STR(jstr(c, "id"), COURSE);
    EXPECT_INT(json_array_size(json_object_get(c, "lessons")), 5);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/assignments", TH, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "assignments")), 3); /* the customer roles */
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/assignments", TS, NULL, &j), 403);
    json_decref(j);
    /* a lesson as HTML, its comic from the files route */
    EXPECT_INT(
        h_json(&S, "GET", "/v1/training/courses/" COURSE "/lessons/phishing?lang=en", TS, NULL, &j),
        200);
    EXPECT(jstr(j, "html") && strstr(jstr(j, "html"), "antlques") != NULL);
    json_decref(j);
    buf b;
    buf_init(&b, 1 << 20);
    EXPECT_INT(h_req(&S, "GET", "/v1/training/files/" COURSE "/2026.4.1/img/03-phishing-comic.svg",
                     TS, NULL, NULL, 0, &b, NULL),
               200);
    EXPECT(strstr(h_last_headers(), "image/svg+xml") != NULL);
    EXPECT(strstr(buf_cstr(&b), "<svg") != NULL);
    EXPECT_INT(h_req(&S, "GET", "/v1/training/files/" COURSE "/2026.4.1/../../custos.db", TS, NULL,
                     NULL, 0, &b, NULL),
               404);
    EXPECT_INT(h_req(&S, "GET", "/v1/training/files/" COURSE "/2026.4.1/img/03-phishing-comic.svg",
                     NULL, NULL, NULL, 0, &b, NULL),
               401);
    buf_free(&b);
}

/* The course's files answer byte ranges (RFC 9110 14): one range exactly, a start past the
 * end 416 with the length, several ranges or a stale If-Range the whole file. */
TEST(t_course_file_ranges)
{
    const char *F = "/v1/training/files/" COURSE "/2026.4.1/img/03-lookalike-sender.svg";
    buf whole, b;
    buf_init(&whole, 1 << 20);
    buf_init(&b, 1 << 20);
    EXPECT_INT(h_req(&S, "GET", F, TS, NULL, NULL, 0, &whole, NULL), 200);
    EXPECT(strstr(buf_cstr(&whole), "@keyframes") != NULL); /* the animation is CSS */
    EXPECT(strstr(buf_cstr(&whole), "<script") == NULL);
    size_t len = whole.len;
    EXPECT(len > 100);
    const char *hd = h_last_headers();
    EXPECT(strstr(hd, "Accept-Ranges: bytes") != NULL);
    EXPECT(strstr(hd, "image/svg+xml") != NULL);
    const char *et = strstr(hd, "ETag: \"");
    EXPECT(et != NULL);
    char etag[64] = "";
    if (et) {
        const char *end = strchr(et + 7, '"');
        if (end) {
            snprintf(etag, sizeof etag, "%.*s", (int)(end + 1 - (et + 6)), et + 6);
        }
    }
    char want[128];
    /* bytes=a-b */
    b.len = 0;
    EXPECT_INT(h_req(&S, "GET", F, TS, NULL, NULL, 0, &b, "Range: bytes=10-29"), 206);
    EXPECT_INT(b.len, 20);
    EXPECT(b.len == 20 && memcmp(b.p, whole.p + 10, 20) == 0);
    snprintf(want, sizeof want, "Content-Range: bytes 10-29/%zu", len);
    EXPECT(strstr(h_last_headers(), want) != NULL);
    /* bytes=a- */
    b.len = 0;
    EXPECT_INT(h_req(&S, "GET", F, TS, NULL, NULL, 0, &b, "Range: bytes=100-"), 206);
    EXPECT_INT(b.len, len - 100);
    EXPECT(b.len == len - 100 && memcmp(b.p, whole.p + 100, len - 100) == 0);
    /* bytes=-n: the last n */
    b.len = 0;
    EXPECT_INT(h_req(&S, "GET", F, TS, NULL, NULL, 0, &b, "Range: bytes=-15"), 206);
    EXPECT(b.len == 15 && memcmp(b.p, whole.p + len - 15, 15) == 0);
    snprintf(want, sizeof want, "Content-Range: bytes %zu-%zu/%zu", len - 15, len - 1, len);
    EXPECT(strstr(h_last_headers(), want) != NULL);
    /* a last past the end is cut at the end */
    b.len = 0;
    snprintf(want, sizeof want, "Range: bytes=%zu-%zu", len - 3, len + 1000);
    EXPECT_INT(h_req(&S, "GET", F, TS, NULL, NULL, 0, &b, want), 206);
    EXPECT(b.len == 3 && memcmp(b.p, whole.p + len - 3, 3) == 0);
    /* unsatisfiable: 416 and the length */
    b.len = 0;
    snprintf(want, sizeof want, "Range: bytes=%zu-", len);
    EXPECT_INT(h_req(&S, "GET", F, TS, NULL, NULL, 0, &b, want), 416);
    EXPECT_INT(b.len, 0);
    snprintf(want, sizeof want, "Content-Range: bytes */%zu", len);
    EXPECT(strstr(h_last_headers(), want) != NULL);
    /* several ranges: the whole file */
    b.len = 0;
    EXPECT_INT(h_req(&S, "GET", F, TS, NULL, NULL, 0, &b, "Range: bytes=0-0,5-9"), 200);
    EXPECT(b.len == len && memcmp(b.p, whole.p, len) == 0);
    EXPECT(strstr(h_last_headers(), "Content-Range") == NULL);
    /* If-Range: the file's tag honours the range, another tag gets the whole file */
    char hdrs[200];
    b.len = 0;
    snprintf(hdrs, sizeof hdrs, "Range: bytes=0-4\nIf-Range: %s", etag);
    EXPECT_INT(h_req(&S, "GET", F, TS, NULL, NULL, 0, &b, hdrs), 206);
    EXPECT(b.len == 5 && memcmp(b.p, whole.p, 5) == 0);
    b.len = 0;
    EXPECT_INT(h_req(&S, "GET", F, TS, NULL, NULL, 0, &b,
                     "Range: bytes=0-4\nIf-Range: \"000000000000000000000000\""),
               200);
    EXPECT_INT(b.len, len);
    b.len = 0;
    EXPECT_INT(h_req(&S, "GET", F, TS, NULL, NULL, 0, &b,
                     "Range: bytes=0-4\nIf-Range: Sat, 05 Dec 2026 00:00:00 GMT"),
               200);
    EXPECT_INT(b.len, len);
    /* ranges change nothing about who may read: no session, no bytes */
    b.len = 0;
    EXPECT_INT(h_req(&S, "GET", F, NULL, NULL, NULL, 0, &b, "Range: bytes=0-4"), 401);
    EXPECT(b.len == 0 || strstr(buf_cstr(&b), "<svg") == NULL);
    buf_free(&b);
    buf_free(&whole);
}

TEST(t_lapse_cuts_and_pass_restores)
{
    EXPECT_INT(customers(TS, NULL), 200);
    /* HR's date needs a reason */
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "POST", "/v1/training/accounts/sales1/valid-until", TH,
                      "{\"valid_until\":\"2020-01-01\"}", &j),
               400);
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/training/accounts/sales1/valid-until", TS,
                      "{\"valid_until\":\"2020-01-01\",\"reason\":\"self-service\"}", &j),
               403);
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/training/accounts/sales1/valid-until", TH,
                      "{\"valid_until\":\"2020-01-01\",\"reason\":\"failed the spot check\"}", &j),
               200);
    json_decref(j);
    /* the next request is refused by the policy's training condition */
    json_t *e = NULL;
    EXPECT_INT(customers(TS, &e), 403);
    const char *msg = jstr(json_object_get(e, "error"), "message");
    EXPECT(msg && strstr(msg, "training") != NULL);
    json_decref(e);
    /* a failed paper changes nothing */
    j = take_quiz(TS, "zh-CN", false);
    EXPECT(j && !json_is_true(json_object_get(j, "passed")));
    EXPECT_INT(json_integer_value(json_object_get(j, "score")), 0);
    EXPECT(json_is_false(
        json_object_get(json_array_get(json_object_get(j, "results"), 0), "correct")));
    json_decref(j);
    EXPECT_INT(customers(TS, NULL), 403);
    /* passing restores access on the next request */
    j = take_quiz(TS, "en", true);
    EXPECT(j && json_is_true(json_object_get(j, "passed")));
    EXPECT_INT(json_integer_value(json_object_get(j, "score")), 100);
    json_t *r0 = json_array_get(json_object_get(j, "results"), 0);
    EXPECT(jstr(r0, "explanation") && strlen(jstr(r0, "explanation")) > 0);
    json_decref(j);
    EXPECT_INT(customers(TS, NULL), 200);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/status", TS, NULL, &j), 200);
    json_t *c0 = json_array_get(json_object_get(j, "courses"), 0);
    EXPECT_STR(jstr(c0, "state"), "certified");
    EXPECT(json_is_true(json_object_get(j, "training_current")));
    json_decref(j);
    /* an employee sees only their own results; HR sees anyone's */
    EXPECT_INT(h_json(&S, "GET", "/v1/training/results?username=sales1", TS2, NULL, &j), 403);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/results?username=sales1", TH, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "attempts")), 2);
    json_decref(j);
    /* the audit log has HR's reason and the certification */
    buf audit;
    buf_init(&audit, (size_t)16 << 20);
    EXPECT_INT(h_req(&S, "GET", "/v1/audit/entries?action=training.valid_until", TH, NULL, NULL, 0,
                     &audit, NULL),
               403); /* HR does not read the audit log... */
    char tl[64];
    EXPECT(login("auditor1", tl));
    EXPECT_INT(h_req(&S, "GET", "/v1/audit/entries?action=training.valid_until", tl, NULL, NULL, 0,
                     &audit, NULL),
               200); /* ...the auditor does */
    EXPECT(strstr(buf_cstr(&audit), "failed the spot check") != NULL);
    EXPECT_INT(h_req(&S, "GET", "/v1/audit/entries?action=training.certified", tl, NULL, NULL, 0,
                     &audit, NULL),
               200);
    EXPECT(strstr(buf_cstr(&audit), "sales1 course=security-basics") != NULL);
    buf_free(&audit);
}

/* Violations lead back to training: HR assigns a blocking remedial course; the policy cuts
 * customer access on the next request; passing the course (a paper drawn after the
 * assignment) restores it. */
TEST(t_remedial_cuts_and_pass_restores)
{
    EXPECT_INT(customers(TS2, NULL), 200);
    json_t *j = NULL;
    /* only HR assigns (the employee, and no one for an unknown course) */
    EXPECT_INT(h_json(&S, "POST", "/v1/training/remedial", TS2,
                      "{\"username\":\"sales2\",\"course\":\"" COURSE "\"}", &j),
               403);
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/training/remedial", TH,
                      "{\"username\":\"sales2\",\"course\":\"nope\"}", &j),
               400);
    json_decref(j);
    /* HR reads the violation register, then assigns */
    EXPECT_INT(h_json(&S, "GET", "/v1/violations?username=sales2", TH, NULL, &j), 200);
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/training/remedial", TH,
                      "{\"username\":\"sales2\",\"course\":\"" COURSE
                      "\",\"violation\":\"bulk-read\"}",
                      &j),
               201);
    EXPECT_STR(jstr(j, "source"), "violation:bulk-read");
    EXPECT(json_is_true(json_object_get(j, "blocking")));
    json_decref(j);
    /* the very next request is refused by the policy's training condition */
    json_t *e = NULL;
    EXPECT_INT(customers(TS2, &e), 403);
    const char *msg = jstr(json_object_get(e, "error"), "message");
    EXPECT(msg && strstr(msg, "training") != NULL);
    json_decref(e);
    /* no hand-set date lifts it */
    EXPECT_INT(h_json(&S, "POST", "/v1/training/accounts/sales2/valid-until", TH,
                      "{\"valid_until\":\"2099-01-01\",\"reason\":\"back to work\"}", &j),
               409);
    json_decref(j);
    EXPECT_INT(customers(TS2, NULL), 403);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/remedial?open=1", TS2, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "remedial")), 1);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/remedial?username=sales1", TS2, NULL, &j), 403);
    json_decref(j);
    /* a failed paper changes nothing; a pass restores access at once */
    j = take_quiz(TS2, "en", false);
    EXPECT(j && !json_is_true(json_object_get(j, "passed")));
    json_decref(j);
    EXPECT_INT(customers(TS2, NULL), 403);
    j = take_quiz(TS2, "en", true);
    EXPECT(j && json_is_true(json_object_get(j, "passed")));
    json_decref(j);
    EXPECT_INT(customers(TS2, NULL), 200);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/remedial?open=1", TS2, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "remedial")), 0);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/remedial?username=sales2", TH, NULL, &j), 200);
    EXPECT(jstr(json_array_get(json_object_get(j, "remedial"), 0), "done_at") != NULL);
    json_decref(j);
    /* the figures: sales2 sees their own, not sales1's; a beijing steward not shanghai's;
     * the demo's HR every department (training.json's hr_scope) */
    EXPECT_INT(h_json(&S, "GET", "/v1/training/metrics?by=person", TS2, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "groups")), 1);
    EXPECT_STR(jstr(json_array_get(json_object_get(j, "groups"), 0), "key"), "sales2");
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/metrics?by=person&username=sales1", TS2, NULL, &j),
               403);
    json_decref(j);
    char tst[64];
    EXPECT(login("steward1", tst));
    EXPECT_INT(h_json(&S, "GET", "/v1/training/metrics?department=shanghai", tst, NULL, &j), 403);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/metrics?department=beijing", tst, NULL, &j), 200);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/metrics?department=shanghai", TH, NULL, &j), 200);
    EXPECT_STR(jstr(json_array_get(json_object_get(j, "groups"), 0), "key"), "shanghai");
    json_decref(j);
    buf csv;
    buf_init(&csv, 1 << 20);
    EXPECT_INT(h_req(&S, "GET", "/v1/training/metrics?by=person&format=csv", TS2, NULL, NULL, 0,
                     &csv, NULL),
               200);
    EXPECT(strstr(h_last_headers(), "text/csv") != NULL);
    EXPECT(strstr(h_last_headers(), "training-groups.csv") != NULL);
    EXPECT(strncmp(buf_cstr(&csv), "key,people,attempts,", 20) == 0);
    EXPECT(strstr(buf_cstr(&csv), "\r\nsales2,1,2,1,0.5,") != NULL);
    /* the phishing table over HTTP: its own file name, the figures' columns, and an employee's
     * export holds no one else */
    csv.len = 0;
    EXPECT_INT(h_req(&S, "GET", "/v1/training/metrics?by=person&format=csv&table=phishing", TS2,
                     NULL, NULL, 0, &csv, NULL),
               200);
    EXPECT(strstr(h_last_headers(), "training-phishing.csv") != NULL);
    EXPECT(strncmp(buf_cstr(&csv), "key,people,delivered,clicked,submitted,reported,", 48) == 0);
    EXPECT(strstr(buf_cstr(&csv), "\r\nsales1,") == NULL);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/metrics?by=person&username=sales1", TS2, NULL, &j),
               403);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/metrics", TH, NULL, &j), 200);
    EXPECT(json_is_object(json_object_get(j, "phishing")));
    EXPECT(json_is_array(json_object_get(json_object_get(j, "phishing"), "groups")));
    json_decref(j);
    buf_free(&csv);
}

static bool restart_at(int64_t shift_s);

/* custos ... as the holder of token, against the running server. */
static int cli(const char *token, buf *out, const char *const *argv)
{
    char addr[64];
    snprintf(addr, sizeof addr, "https://127.0.0.1:%u", S.port);
    setenv("CUSTOS_ADDR", addr, 1);
    setenv("CUSTOS_CACERT", S.cacert, 1);
    setenv("CUSTOS_TOKEN", token, 1);
    buf_reset(out);
    return h_cli(&S, out, argv);
}

/* The command line: figures as CSV, a remedial course assigned, listed and withdrawn. */
TEST(t_cli_metrics_and_remedial)
{
    buf out;
    buf_init(&out, 0);
    const char *csv[] = {"training", "metrics", "--by", "person", "--csv", "groups", NULL};
    EXPECT_INT(cli(TS2, &out, csv), 0);
    EXPECT(strstr(buf_cstr(&out), "key,people,attempts,") != NULL);
    EXPECT(strstr(buf_cstr(&out), "sales2,") != NULL);
    EXPECT(strstr(buf_cstr(&out), "sales1,") == NULL);
    const char *other[] = {"training", "metrics", "--user", "sales1", NULL};
    EXPECT(cli(TS2, &out, other) != 0);
    const char *assign[] = {"training",  "remedial",   "sales2", COURSE,   "--violation",
                            "off-hours", "--blocking", "no",     "--json", NULL};
    EXPECT_INT(cli(TH, &out, assign), 0);
    json_t *j = json_loads(buf_cstr(&out), 0, NULL);
    EXPECT(j && json_is_false(json_object_get(j, "blocking")));
    char id[ID_LEN + 1];
    snprintf(id, sizeof id, "%s", j && jstr(j, "id") ? jstr(j, "id") : "none");
    json_decref(j);
    EXPECT_INT(customers(TS2, NULL), 200); /* not blocking: access stays */
    const char *list[] = {"training", "remedials", "--user", "sales2",
                          "--open",   "yes",       "--json", NULL};
    EXPECT_INT(cli(TH, &out, list), 0);
    EXPECT(strstr(buf_cstr(&out), id) != NULL);
    EXPECT(strstr(buf_cstr(&out), "violation:off-hours") != NULL);
    const char *withdraw[] = {"training", "withdraw", id, "--reason", "assigned twice", NULL};
    EXPECT(cli(TS2, &out, withdraw) != 0);
    EXPECT_INT(cli(TH, &out, withdraw), 0);
    EXPECT_INT(cli(TH, &out, list), 0);
    EXPECT(strstr(buf_cstr(&out), id) == NULL);
    buf_free(&out);
}

/* A guard rule's "train COURSE": sales1 reads a honeytoken; the guard assigns the course as
 * blocking remedial training; the next customer request is refused; a pass restores it. */
TEST(t_guard_rule_sends_to_training)
{
    char p[700];
    snprintf(p, sizeof p, "%s/guard.rules", S.dir);
    FILE *f = fopen(p, "a");
    EXPECT(f != NULL);
    if (!f) {
        return;
    }
    fputs("rule bait-train\n detect honeytoken\n severity critical\n"
          " respond alert, train " COURSE "\nend\n",
          f);
    fclose(f);
    EXPECT(restart_at(0));
    EXPECT_INT(customers(TS, NULL), 200);
    char tsec[64];
    EXPECT(login("security1", tsec));
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/honeytokens", tsec, NULL, &j), 200);
    char ht[ID_LEN + 1] = "";
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(j, "honeytokens"), i, h)
    {
        if (!ht[0] && jstr(h, "department") && strcmp(jstr(h, "department"), "beijing") == 0) {
            snprintf(ht, sizeof ht, "%s", jstr(h, "id"));
        }
    }
    json_decref(j);
    EXPECT(ht[0] != '\0');
    char path[128];
    snprintf(path, sizeof path, "/v1/customers/%s", ht);
    EXPECT_INT(h_json(&S, "GET", path, TS, NULL, NULL), 200);
    /* the guard works on its own thread: wait for the cut */
    int64_t dl = h_deadline(10000);
    while (customers(TS, NULL) != 403 && h_poll(dl)) {
    }
    EXPECT_INT(customers(TS, NULL), 403);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/remedial?open=1", TS, NULL, &j), 200);
    json_t *r0 = json_array_get(json_object_get(j, "remedial"), 0);
    EXPECT_STR(jstr(r0, "source"), "guard:bait-train");
    EXPECT_STR(jstr(r0, "assigned_by"), "system:guard");
    json_decref(j);
    j = take_quiz(TS, "en", true);
    EXPECT(j && json_is_true(json_object_get(j, "passed")));
    json_decref(j);
    EXPECT_INT(customers(TS, NULL), 200);
}

/* ---- a real SMTP receiver (mailrx.h) ---- */

static mailrx RX;

/* Starts the receiver on the maildir next to the server's folder (kept across restarts of the
 * receiver); returns its port, 0 when it cannot start. */
static unsigned smtp_start(void)
{
    char d[700];
    snprintf(d, sizeof d, "%s/../maildir", S.dir);
    return mailrx_start(&RX, d) ? RX.port : 0;
}

static void write_training_json(unsigned port)
{
    char p[700];
    snprintf(p, sizeof p, "%s/training.json", S.dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600); /* the vault refuses wider modes */
    FILE *f = fdopen(fd, "w");
    fprintf(f,
            "{\"smtp\": \"smtp://127.0.0.1:%u\", \"smtp_plain_loopback\": true, "
            "\"mail_domain\": \"staff.example\", "
            "\"from\": \"training@staff.example\", \"console_url\": \"https://custos.example/\", "
            "\"remind_every\": 0, \"hr_scope\": {\"hr1\": [\"*\"]}}\n",
            port);
    fclose(f);
}

/* Restarts the server with its clock moved to shift_s seconds from now. */
static bool restart_at(int64_t shift_s)
{
    if (h_stop(&S) != 0) {
        return false;
    }
    char off[32];
    snprintf(off, sizeof off, "%lld", (long long)shift_s);
    setenv("CUSTOS_CLOCK_OFFSET_S", off, 1);
    bool ok = h_start(&S);
    unsetenv("CUSTOS_CLOCK_OFFSET_S");
    return ok && login("sales1", TS) && login("sales2", TS2) && login("hr1", TH);
}

TEST(t_quarter_moves_on_and_reminders)
{
    unsigned port = smtp_start();
    EXPECT(port != 0);
    write_training_json(port);
    /* the day after sales1's validity ends: the next quarter's grace is over */
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/training/status", TS, NULL, &j), 200);
    int64_t until = 0;
    EXPECT_OK(clock_parse_rfc3339(jstr(j, "training_valid_until") ? jstr(j, "training_valid_until")
                                                                  : "1970-01-01T00:00:00Z",
                                  &until));
    json_decref(j);
    int64_t shift = (until - clock_now_us()) / 1000000 + 86400;
    EXPECT(shift > 44 * 86400);
    EXPECT(restart_at(shift));
    EXPECT_INT(customers(TS, NULL), 403); /* lapsed with the quarter */
    EXPECT_INT(h_json(&S, "GET", "/v1/training/status", TS, NULL, &j), 200);
    EXPECT_STR(jstr(json_array_get(json_object_get(j, "courses"), 0), "state"), "expired");
    json_decref(j);
    /* reminders: employees only HR sends them */
    EXPECT_INT(h_json(&S, "POST", "/v1/training/reminders", TS, "{}", &j), 403);
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/training/reminders", TH, "{}", &j), 200);
    /* the demo's sales, service and stewards: 6 accounts, all past this quarter's due date */
    EXPECT_INT(json_integer_value(json_object_get(j, "sent")), 6);
    EXPECT_INT(json_integer_value(json_object_get(j, "failed")), 0);
    json_decref(j);
    buf all;
    buf_init(&all, (size_t)4 << 20);
    int n = mailrx_wait(&RX, 6, 10000, &all);
    EXPECT_INT(n, 6);
    const char *m = buf_cstr(&all);
    EXPECT(strstr(m, "To: <sales1@staff.example>") != NULL);
    EXPECT(strstr(m, "To: <steward3@staff.example>") != NULL);
    EXPECT(strstr(m, "To: <hr1@staff.example>") == NULL); /* not assigned */
    EXPECT(strstr(m, "Subject: =?UTF-8?B?") != NULL);
    EXPECT(strstr(m, "Security training overdue") == NULL); /* the subject is encoded... */
    EXPECT(strstr(m, "security-awareness training (course security-basics) was due by") !=
           NULL); /* ...the body is plain */
    EXPECT(strstr(m, "https://custos.example/") != NULL);
    /* once per account, course, cycle and kind */
    EXPECT_INT(h_json(&S, "POST", "/v1/training/reminders", TH, "{}", &j), 200);
    EXPECT_INT(json_integer_value(json_object_get(j, "sent")), 0);
    json_decref(j);
    n = mailrx_read(&RX, &all);
    EXPECT_INT(n, 6);
    /* passing in the new quarter restores access, in the same server */
    j = take_quiz(TS, "zh-CN", true);
    EXPECT(j && json_is_true(json_object_get(j, "passed")));
    json_decref(j);
    EXPECT_INT(customers(TS, NULL), 200);
    /* a mail server that is gone: failures are counted and retried on the next run */
    mailrx_stop(&RX);
    EXPECT(restart_at(shift + 100L * 86400)); /* another quarter later */
    EXPECT_INT(h_json(&S, "POST", "/v1/training/reminders", TH, "{}", &j), 200);
    EXPECT_INT(json_integer_value(json_object_get(j, "sent")), 0);
    EXPECT(json_integer_value(json_object_get(j, "failed")) >= 6);
    json_decref(j);
    buf_free(&all);
    /* HR's report for the course */
    EXPECT_INT(h_json(&S, "GET", "/v1/training/courses/" COURSE "/report", TH, NULL, &j), 200);
    EXPECT(json_array_size(json_object_get(j, "departments")) >= 2);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/courses/" COURSE "/report", TS, NULL, &j), 403);
    json_decref(j);
}

/* training.json with the reminder timer every second. */
static void write_timer_json(unsigned port)
{
    char p[700];
    snprintf(p, sizeof p, "%s/training.json", S.dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fdopen(fd, "w");
    fprintf(f,
            "{\"smtp\": \"smtp://127.0.0.1:%u\", \"smtp_plain_loopback\": true, "
            "\"mail_domain\": \"staff.example\", "
            "\"from\": \"training@staff.example\", \"remind_every\": 1, "
            "\"hr_scope\": {\"hr1\": [\"*\"]}}\n",
            port);
    fclose(f);
}

/* The timer's completed runs (GET /v1/training/reminders, HR). */
static int64_t timer_runs(void)
{
    json_t *j = NULL;
    int64_t n = -1;
    if (h_json(&S, "GET", "/v1/training/reminders", TH, NULL, &j) == 200) {
        n = json_integer_value(json_object_get(j, "runs"));
    }
    json_decref(j);
    return n;
}

/* Waits until the timer has run `more` more times than now. */
static bool timer_wait_runs(int more)
{
    int64_t base = timer_runs(), dl = h_deadline(15000);
    while (timer_runs() < base + more) {
        if (!h_poll(dl)) {
            return false;
        }
    }
    return true;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
        n++;
    }
    return n;
}

/* The server sends the reminders by itself: before the due date, then when overdue, each
 * once per state, through a real SMTP receiver. */
TEST(t_timer_reminds_once_per_state)
{
    unsigned port = smtp_start();
    EXPECT(port != 0);
    write_timer_json(port);
    buf all;
    buf_init(&all, (size_t)4 << 20);
    int base = mailrx_read(&RX, &all);
    static const char DUE[] = "security-awareness training (course security-basics) is due by";
    static const char OVER[] = "security-awareness training (course security-basics) was due by";
    int due0 = count_of(buf_cstr(&all), DUE), over0 = count_of(buf_cstr(&all), OVER);
    /* a quarter well ahead, 25 days after it opens: due in 5 days (the default 30-day due
     * date), inside the 7 days' reminder window; nobody has passed in that quarter */
    tr_rules rules;
    tr_rules_default(&rules);
    tr_cycle c;
    tr_cycle_at(&rules, clock_now_us() + (int64_t)400 * 86400 * 1000000, &c);
    int64_t at = c.closes_us + (int64_t)25 * 86400 * 1000000 + (int64_t)3600 * 1000000;
    int64_t shift = (at - clock_now_us()) / 1000000;
    EXPECT(restart_at(shift));
    int n = mailrx_wait(&RX, base + 6, 15000, &all);
    EXPECT_INT(n, base + 6);
    EXPECT_INT(count_of(buf_cstr(&all), DUE), due0 + 6);
    /* more runs send nothing new: once per state */
    EXPECT(timer_wait_runs(3));
    n = mailrx_read(&RX, &all);
    EXPECT_INT(n, base + 6);
    /* HR's run finds nothing left to send either */
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "POST", "/v1/training/reminders", TH, "{}", &j), 200);
    EXPECT_INT(json_integer_value(json_object_get(j, "sent")), 0);
    json_decref(j);
    /* past the due date: the overdue reminders, once */
    EXPECT(restart_at(shift + 10L * 86400));
    n = mailrx_wait(&RX, base + 12, 15000, &all);
    EXPECT_INT(n, base + 12);
    EXPECT_INT(count_of(buf_cstr(&all), OVER), over0 + 6);
    EXPECT(timer_wait_runs(3));
    n = mailrx_read(&RX, &all);
    EXPECT_INT(n, base + 12);
    /* the timer's state for HR, not for employees */
    EXPECT_INT(h_json(&S, "GET", "/v1/training/reminders", TH, NULL, &j), 200);
    EXPECT_INT(json_integer_value(json_object_get(j, "every_s")), 1);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/training/reminders", TS, NULL, &j), 403);
    json_decref(j);
    buf_free(&all);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    MANIFEST = json_load_file(STARTER, 0, NULL);
    if (!MANIFEST) {
        printf("cannot read %s (run from the repository root)\n", STARTER);
        return 2;
    }
    h_setup(&S, "training");
    RUN(t_demo_has_the_course);
    RUN(t_course_file_ranges);
    RUN(t_lapse_cuts_and_pass_restores);
    RUN(t_remedial_cuts_and_pass_restores);
    RUN(t_guard_rule_sends_to_training);
    RUN(t_cli_metrics_and_remedial);
    RUN(t_quarter_moves_on_and_reminders);
    RUN(t_timer_reminds_once_per_state);
    mailrx_stop(&RX);
    if (S.pid) {
        EXPECT_INT(h_stop(&S), 0);
    }
    json_decref(MANIFEST);
    return test_done("training_test");
}
