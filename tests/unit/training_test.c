/*
 * training_test.c - the course format (malformed manifests refused with file, line and field),
 * safe lesson rendering, quiz papers and marking, the recertification schedule across quarter
 * ends, leap years and zones (tables), training.json, and the door's training calls on a real
 * vault: import, attempts (one submission even when two race), certification, who may read what.
 */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "door/door_int.h" /* white-box: the vault's store */
#include "door/door_training.h"
#include "store/sqlite_int.h" /* white-box: an older vault's rows */
#include "store/store_phish.h"
#include "store/store_training.h"
#include "test.h"
#include "training/training.h"

#define STARTER "training/security-basics"

static int64_t T(const char *s)
{
    int64_t us = 0;
    if (clock_parse_rfc3339(s, &us) != ERR_OK) {
        printf("bad time %s\n", s);
        exit(2);
    }
    return us;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *p = malloc(4 << 20);
    *n = fread(p, 1, (4 << 20) - 1, f);
    p[*n] = '\0';
    fclose(f);
    return p;
}

/* ---- the format ---- */

static const char GOOD[] =
    "{\n"
    "  \"format\": 1,\n"
    "  \"id\": \"mini\",\n"
    "  \"version\": \"1\",\n"
    "  \"languages\": [\"en\"],\n"
    "  \"title\": {\"en\": \"Mini\"},\n"
    "  \"pass_mark\": 50,\n"
    "  \"questions_per_lesson\": 1,\n"
    "  \"lessons\": [{\"id\": \"l1\", \"file\": \"01.md\", \"title\": {\"en\": \"One\"}}],\n"
    "  \"quiz\": [\n"
    "    {\"id\": \"q1\", \"lesson\": \"l1\", \"kind\": \"single\",\n"
    "     \"prompt\": {\"en\": \"P\"}, \"choices\": [{\"en\": \"a\"}, {\"en\": \"b\"}],\n"
    "     \"answer\": [1], \"explanation\": {\"en\": \"E\"}},\n"
    "    {\"id\": \"q2\", \"lesson\": \"l1\", \"kind\": \"multiple\",\n"
    "     \"prompt\": {\"en\": \"P\"}, \"choices\": [{\"en\": \"a\"}, {\"en\": \"b\"}, {\"en\": "
    "\"c\"}],\n"
    "     \"answer\": [0, 2], \"explanation\": {\"en\": \"E\"}}\n"
    "  ],\n"
    "  \"questionnaires\": {\"pre\": [{\"id\": \"c\", \"kind\": \"likert\", \"prompt\": {\"en\": "
    "\"x\"}}],\n"
    "                     \"post\": [{\"id\": \"t\", \"kind\": \"text\", \"prompt\": {\"en\": "
    "\"y\"}}]}\n"
    "}\n";

/* Replaces the first occurrence of from in GOOD with to. */
static char *variant(const char *from, const char *to)
{
    const char *hit = strstr(GOOD, from);
    if (!hit) {
        printf("variant: '%s' not in GOOD\n", from);
        exit(2);
    }
    char *out = malloc(sizeof GOOD + strlen(to) + 1);
    size_t k = (size_t)(hit - GOOD);
    memcpy(out, GOOD, k);
    strcpy(out + k, to);
    strcat(out, hit + strlen(from));
    return out;
}

TEST(t_course_good)
{
    course *c = NULL;
    EXPECT_OK(course_parse(slice_of(GOOD, strlen(GOOD)), "course.json", &c));
    EXPECT(c != NULL);
    if (c) {
        EXPECT_STR(c->id, "mini");
        EXPECT_INT(c->nquestions, 2);
        EXPECT_INT(c->qs[1].answer, 5);
        EXPECT(c->qs[1].multiple);
        course_free(c);
    }
}

TEST(t_course_malformed_names_file_line_field)
{
    static const struct {
        const char *from, *to, *want;
    } CASES[] = {
        {"\"format\": 1", "\"format\": 2", "course.json:2: format: must be 1"},
        {"\"id\": \"mini\"", "\"id\": \"Mini!\"", "course.json:3: id:"},
        {"\"pass_mark\": 50", "\"pass_mark\": 0", "course.json:7: pass_mark:"},
        {"\"languages\": [\"en\"]", "\"languages\": [\"fr\"]", "course.json:5: languages:"},
        {"\"file\": \"01.md\"", "\"file\": \"../01.md\"", "course.json:9: lessons[].file:"},
        {"\"answer\": [1]", "\"answer\": [7]", "course.json:11: quiz[].answer:"},
        {"\"answer\": [0, 2]", "\"answer\": [0, 0]", "course.json:14: quiz[].answer:"},
        {"\"lesson\": \"l1\", \"kind\": \"multiple\"", "\"lesson\": \"l9\", \"kind\": \"multiple\"",
         "course.json:14: quiz[].lesson:"},
        {"\"answer\": [1]", "\"answer\": [0, 1]", "course.json:11: quiz[].answer: a single"},
        {"\"id\": \"q2\"", "\"id\": \"q1\"", "course.json:11: quiz[].id: appears twice"},
        {"\"kind\": \"text\"", "\"kind\": \"essay\"", "course.json:19: questionnaires.post:"},
        {"\"explanation\": {\"en\": \"E\"}}\n  ]", "\"explanation\": {\"en\": \"\"}}\n  ]",
         "course.json:14: quiz[].explanation:"},
        {"\"title\": {\"en\": \"Mini\"}", "\"title\": {\"en\": \"Mini\", \"en\": \"x\"}",
         "course.json:6: (json):"},
        {"\"questions_per_lesson\": 1", "\"questions_per_lesson\": 3", "course.json:9: quiz:"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char *m = variant(CASES[i].from, CASES[i].to);
        course *c = NULL;
        err e = course_parse(slice_of(m, strlen(m)), "course.json", &c);
        EXPECT_INT(e, ERR_INPUT);
        EXPECT(c == NULL);
        if (strncmp(err_message(), CASES[i].want, strlen(CASES[i].want)) != 0) {
            printf("  case %zu: got \"%s\", wanted \"%s...\"\n", i, err_message(), CASES[i].want);
            EXPECT(0);
        }
        free(m);
    }
    course *c = NULL;
    EXPECT_ERR(course_parse(slice_of("\xff", 1), "course.json", &c), ERR_INPUT);
    EXPECT_ERR(course_parse(slice_of("[]", 2), "course.json", &c), ERR_INPUT);
}

TEST(t_course_paths)
{
    EXPECT(course_path_ok("img/a.svg"));
    EXPECT(!course_path_ok("../a.svg"));
    EXPECT(!course_path_ok("img/../../a.svg"));
    EXPECT(!course_path_ok("/etc/passwd"));
    EXPECT(!course_path_ok("img//a.svg"));
    EXPECT(!course_path_ok("img/.hidden.svg"));
    EXPECT(!course_path_ok("img/A.svg"));
    EXPECT(course_asset_type("img/a.svg") != NULL);
    EXPECT(course_asset_type("img/a.html") == NULL);
}

TEST(t_render_drops_raw_html_and_scripts)
{
    const char *md = "# T\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) "
                     "<img src=x onerror=alert(1)>\n\n![p](../../img/a.svg)\n";
    buf h;
    buf_init(&h, 1 << 20);
    EXPECT_OK(course_render(slice_of(md, strlen(md)), &h));
    EXPECT_OK(buf_append_byte(&h, 0));
    const char *s = (const char *)h.p;
    EXPECT(strstr(s, "<h1>T</h1>") != NULL);
    EXPECT(strstr(s, "<script") == NULL);
    EXPECT(strstr(s, "onerror") == NULL);
    EXPECT(strstr(s, "javascript:") == NULL);
    EXPECT(strstr(s, "<img src=\"../../img/a.svg\"") != NULL);
    buf_free(&h);
    EXPECT_ERR(course_render(slice_of("\xc3", 1), &h), ERR_INPUT);
}

TEST(t_svg_check)
{
    const char *ok = "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>on=1</text></svg>";
    EXPECT_OK(course_svg_check("a.svg", slice_of(ok, strlen(ok))));
    static const char *const BAD[] = {"<svg><script>alert(1)</script></svg>",
                                      "<svg><SCRIPT>x</SCRIPT></svg>",
                                      "<svg onload=\"x()\"></svg>",
                                      "<svg><a href=\"javascript:x\">a</a></svg>",
                                      "<svg><foreignObject><iframe/></foreignObject></svg>",
                                      "<svg><image href=\"http://evil.example/x.png\"/></svg>"};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        EXPECT_ERR(course_svg_check("a.svg", slice_of(BAD[i], strlen(BAD[i]))), ERR_INPUT);
    }
}

TEST(t_starter_course_checks)
{
    course *c = NULL;
    EXPECT_OK(course_check_dir(STARTER, &c));
    if (c) {
        EXPECT_INT(c->nlessons, 5);
        EXPECT_INT(c->nlangs, 2);
        EXPECT(c->nquestions >= 15);
        /* every lesson has a comic, the phishing lesson an animation too (CSS inside the SVG,
         * no script), shown in both languages; and the phishing lesson has scenario mails */
        EXPECT_INT(c->nassets, 6);
        bool anim = false;
        for (size_t i = 0; i < c->nassets; i++) {
            anim = anim || strcmp(c->assets[i], "img/03-lookalike-sender.svg") == 0;
        }
        EXPECT(anim);
        size_t n = 0;
        char *svg = slurp(STARTER "/img/03-lookalike-sender.svg", &n);
        EXPECT(svg && strstr(svg, "@keyframes") && strstr(svg, "animation:") &&
               strstr(svg, "prefers-reduced-motion") && !strstr(svg, "<script"));
        free(svg);
        static const char *const L3[] = {STARTER "/lessons/en/03-phishing.md",
                                         STARTER "/lessons/zh-CN/03-phishing.md"};
        for (size_t i = 0; i < 2; i++) {
            char *md = slurp(L3[i], &n);
            EXPECT(md && strstr(md, "](../../img/03-lookalike-sender.svg)"));
            free(md);
        }
        int mails = 0;
        for (size_t i = 0; i < c->nquestions; i++) {
            mails += json_object_get(c->qs[i].q, "mail") != NULL;
        }
        EXPECT(mails >= 2);
        course_free(c);
    }
}

/* ---- quizzes ---- */

static course *starter(void)
{
    size_t n = 0;
    char *m = slurp(STARTER "/course.json", &n);
    course *c = NULL;
    if (!m || course_parse(slice_of(m, n), "course.json", &c) != ERR_OK) {
        printf("cannot read the starter course\n");
        exit(2);
    }
    free(m);
    return c;
}

/* The right answers of a paper, as the shown indexes. */
static json_t *right_answers(const course *c, json_t *paper, bool wrong_first)
{
    json_t *ans = json_object();
    size_t i;
    json_t *it;
    json_array_foreach(paper, i, it)
    {
        const char *qid = json_string_value(json_object_get(it, "q"));
        const course_question *q = NULL;
        for (size_t k = 0; k < c->nquestions; k++) {
            q = strcmp(c->qs[k].id, qid) == 0 ? &c->qs[k] : q;
        }
        json_t *order = json_object_get(it, "order"), *a = json_array();
        for (size_t shown = 0; shown < json_array_size(order); shown++) {
            size_t orig = (size_t)json_integer_value(json_array_get(order, shown));
            bool right = (q->answer >> orig) & 1u;
            if (wrong_first && i == 0) {
                if (!right) { /* one wrong choice alone: wrong for either kind */
                    json_array_append_new(a, json_integer((json_int_t)shown));
                    break;
                }
            } else if (right) {
                json_array_append_new(a, json_integer((json_int_t)shown));
            }
        }
        json_object_set_new(ans, qid, a);
    }
    return ans;
}

TEST(t_quiz_papers)
{
    course *c = starter();
    uint8_t seed[QUIZ_SEED_LEN] = {1};
    json_t *p1 = NULL, *p2 = NULL;
    EXPECT_OK(quiz_draw(c, seed, &p1));
    EXPECT_OK(quiz_draw(c, seed, &p2));
    EXPECT(json_equal(p1, p2)); /* the seed gives the paper back */
    EXPECT_INT(json_array_size(p1), c->nlessons * c->per_lesson);
    /* per lesson exactly per_lesson questions, no question twice */
    for (size_t l = 0; l < c->nlessons; l++) {
        unsigned n = 0;
        for (size_t i = 0; i < json_array_size(p1); i++) {
            const char *qid = json_string_value(json_object_get(json_array_get(p1, i), "q"));
            for (size_t k = 0; k < c->nquestions; k++) {
                n += strcmp(c->qs[k].id, qid) == 0 && strcmp(c->qs[k].lesson, c->lesson_id[l]) == 0;
            }
        }
        EXPECT_INT(n, c->per_lesson);
    }
    /* 200 random seeds: papers (questions, order, choice order) are practically all different */
    json_t *seen = json_object();
    for (int i = 0; i < 200; i++) {
        uint8_t s[QUIZ_SEED_LEN];
        rand_bytes(s, sizeof s);
        json_t *p = NULL;
        EXPECT_OK(quiz_draw(c, s, &p));
        char *txt = json_dumps(p, JSON_COMPACT);
        json_object_set_new(seen, txt, json_true());
        free(txt);
        json_decref(p);
    }
    EXPECT_INT(json_object_size(seen), 200);
    json_decref(seen);
    /* the shown paper carries no answers */
    json_t *shown = NULL;
    EXPECT_OK(quiz_render(c, p1, "zh-CN", &shown));
    char *txt = json_dumps(shown, JSON_COMPACT);
    EXPECT(txt && strstr(txt, "answer") == NULL && strstr(txt, "explanation") == NULL);
    free(txt);
    json_decref(shown);
    /* marking */
    json_t *res = NULL, *ans = right_answers(c, p1, false);
    quiz_score sc;
    EXPECT_OK(quiz_mark(c, p1, ans, "en", &res, &sc));
    EXPECT_INT(sc.percent, 100);
    EXPECT(sc.passed);
    json_decref(res);
    json_decref(ans);
    ans = right_answers(c, p1, true);
    EXPECT_OK(quiz_mark(c, p1, ans, "en", &res, &sc));
    EXPECT_INT(sc.right, sc.total - 1);
    EXPECT_INT(sc.percent, 90);
    EXPECT(sc.passed);
    EXPECT(!json_is_true(json_object_get(json_array_get(res, 0), "correct")));
    EXPECT(json_string_length(json_object_get(json_array_get(res, 0), "explanation")) > 0);
    json_decref(res);
    json_decref(ans);
    /* unanswered counts as wrong; a question not on the paper is refused */
    json_t *empty = json_object();
    EXPECT_OK(quiz_mark(c, p1, empty, "en", &res, &sc));
    EXPECT_INT(sc.right, 0);
    EXPECT(!sc.passed);
    json_decref(res);
    json_object_set_new(empty, "no-such-question", json_pack("[i]", 0));
    EXPECT_ERR(quiz_mark(c, p1, empty, "en", &res, &sc), ERR_INPUT);
    json_decref(empty);
    json_t *bad =
        json_pack("{s:[i]}", json_string_value(json_object_get(json_array_get(p1, 0), "q")), 9);
    EXPECT_ERR(quiz_mark(c, p1, bad, "en", &res, &sc), ERR_INPUT);
    json_decref(bad);
    /* questionnaires */
    json_t *qa = json_pack("{s:i,s:s}", "recognise-phishing", 4, "expect", "more cases");
    EXPECT_OK(quiz_questionnaire_check(c, "pre", qa));
    json_decref(qa);
    qa = json_pack("{s:i}", "recognise-phishing", 6);
    EXPECT_ERR(quiz_questionnaire_check(c, "pre", qa), ERR_INPUT);
    json_decref(qa);
    qa = json_pack("{s:i}", "nope", 3);
    EXPECT_ERR(quiz_questionnaire_check(c, "post", qa), ERR_INPUT);
    json_decref(qa);
    json_decref(p1);
    json_decref(p2);
    course_free(c);
}

/* ---- the schedule ---- */

TEST(t_schedule_cycles)
{
    static const struct {
        const char *zone;
        int due;
        const char *at, *name, *opens, *due_at, *grace, *closes;
    } CASES[] = {
        /* the last second of the year in Shanghai, and the first of the next */
        {"Asia/Shanghai", 30, "2026-12-31T15:59:59Z", "2026Q4", "2026-09-30T16:00:00Z",
         "2026-10-30T16:00:00Z", "2026-11-13T16:00:00Z", "2026-12-31T16:00:00Z"},
        {"Asia/Shanghai", 30, "2026-12-31T16:00:00Z", "2027Q1", "2026-12-31T16:00:00Z",
         "2027-01-30T16:00:00Z", "2027-02-13T16:00:00Z", "2027-03-31T16:00:00Z"},
        /* the same instant is still the old year in UTC */
        {"UTC", 30, "2026-12-31T16:00:00Z", "2026Q4", "2026-10-01T00:00:00Z",
         "2026-10-31T00:00:00Z", "2026-11-14T00:00:00Z", "2027-01-01T00:00:00Z"},
        /* leap year: 60 days after 1 January is 1 March in 2024, 2 March in 2025 */
        {"Asia/Shanghai", 60, "2024-02-29T15:00:00Z", "2024Q1", "2023-12-31T16:00:00Z",
         "2024-02-29T16:00:00Z", "2024-03-14T16:00:00Z", "2024-03-31T16:00:00Z"},
        {"Asia/Shanghai", 60, "2025-02-28T15:00:00Z", "2025Q1", "2024-12-31T16:00:00Z",
         "2025-03-01T16:00:00Z", "2025-03-15T16:00:00Z", "2025-03-31T16:00:00Z"},
        /* quarter ends inside the year */
        {"Asia/Shanghai", 30, "2024-03-31T15:59:59Z", "2024Q1", "2023-12-31T16:00:00Z",
         "2024-01-30T16:00:00Z", "2024-02-13T16:00:00Z", "2024-03-31T16:00:00Z"},
        {"Asia/Shanghai", 30, "2024-03-31T16:00:00Z", "2024Q2", "2024-03-31T16:00:00Z",
         "2024-04-30T16:00:00Z", "2024-05-14T16:00:00Z", "2024-06-30T16:00:00Z"},
        {"Asia/Shanghai", 30, "2026-06-30T16:00:00Z", "2026Q3", "2026-06-30T16:00:00Z",
         "2026-07-30T16:00:00Z", "2026-08-13T16:00:00Z", "2026-09-30T16:00:00Z"},
        /* a zone west of UTC, and a century leap year (2000) */
        {"UTC-05:00", 60, "2000-03-01T04:59:59Z", "2000Q1", "2000-01-01T05:00:00Z",
         "2000-03-01T05:00:00Z", "2000-03-15T05:00:00Z", "2000-04-01T05:00:00Z"},
        /* 2100 is not a leap year */
        {"UTC", 60, "2100-02-28T12:00:00Z", "2100Q1", "2100-01-01T00:00:00Z",
         "2100-03-02T00:00:00Z", "2100-03-16T00:00:00Z", "2100-04-01T00:00:00Z"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        tr_rules r;
        tr_rules_default(&r);
        EXPECT_OK(tr_zone_parse(CASES[i].zone, &r.zone_off_s));
        r.due_days = CASES[i].due;
        tr_cycle c;
        tr_cycle_at(&r, T(CASES[i].at), &c);
        bool ok = strcmp(c.name, CASES[i].name) == 0 && c.opens_us == T(CASES[i].opens) &&
                  c.due_us == T(CASES[i].due_at) && c.grace_us == T(CASES[i].grace) &&
                  c.closes_us == T(CASES[i].closes);
        if (!ok) {
            char a[40], b[40], d[40], e[40];
            clock_rfc3339(c.opens_us, a);
            clock_rfc3339(c.due_us, b);
            clock_rfc3339(c.grace_us, d);
            clock_rfc3339(c.closes_us, e);
            printf("  case %zu: %s %s %s %s %s\n", i, c.name, a, b, d, e);
        }
        EXPECT(ok);
    }
}

TEST(t_schedule_states)
{
    tr_rules r;
    tr_rules_default(&r); /* Asia/Shanghai, 30 days, 14 days' grace */
    static const struct {
        const char *starts, *pass, *now, *state, *due;
    } CASES[] = {
        {"2026-01-01T00:00:00Z", "2026-11-15T00:00:00Z", "2027-01-10T00:00:00Z", "pending",
         "2027-01-30T16:00:00Z"},
        {"2026-01-01T00:00:00Z", "2026-11-15T00:00:00Z", "2027-02-05T00:00:00Z", "overdue",
         "2027-01-30T16:00:00Z"},
        {"2026-01-01T00:00:00Z", "2026-11-15T00:00:00Z", "2027-02-20T00:00:00Z", "expired",
         "2027-01-30T16:00:00Z"},
        {"2026-01-01T00:00:00Z", "2027-02-19T00:00:00Z", "2027-02-20T00:00:00Z", "certified",
         "2027-01-30T16:00:00Z"},
        /* a pass on the last local day of the old quarter does not certify the new one */
        {"2026-01-01T00:00:00Z", "2026-12-31T15:59:59Z", "2027-01-02T00:00:00Z", "pending",
         "2027-01-30T16:00:00Z"},
        {"2026-01-01T00:00:00Z", "2026-12-31T16:00:00Z", "2027-01-02T00:00:00Z", "certified",
         "2027-01-30T16:00:00Z"},
        {"2027-03-01T00:00:00Z", NULL, "2027-02-20T00:00:00Z", "future", "2027-03-30T16:00:00Z"},
        /* assigned mid-quarter: due 30 local days after the day it was assigned */
        {"2027-02-10T00:00:00Z", NULL, "2027-02-20T00:00:00Z", "pending", "2027-03-11T16:00:00Z"},
        {"2027-02-10T00:00:00Z", NULL, "2027-03-20T00:00:00Z", "overdue", "2027-03-11T16:00:00Z"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        tr_cycle c;
        tr_state s = tr_state_at(&r, T(CASES[i].starts), CASES[i].pass ? T(CASES[i].pass) : 0,
                                 T(CASES[i].now), &c);
        if (strcmp(tr_state_name(s), CASES[i].state) != 0 || c.due_us != T(CASES[i].due)) {
            char d[40];
            clock_rfc3339(c.due_us, d);
            printf("  case %zu: %s due %s\n", i, tr_state_name(s), d);
            EXPECT(0);
        }
    }
    /* a pass certifies until the end of the next quarter's grace, in the zone */
    EXPECT_INT(tr_valid_until(&r, T("2026-11-15T00:00:00Z")), T("2027-02-13T16:00:00Z"));
    EXPECT_INT(tr_valid_until(&r, T("2026-12-31T15:59:59Z")), T("2027-02-13T16:00:00Z"));
    EXPECT_INT(tr_valid_until(&r, T("2026-12-31T16:00:00Z")), T("2027-05-14T16:00:00Z"));
    EXPECT_INT(tr_valid_until(&r, 0), 0);
}

TEST(t_zones_and_config)
{
    int32_t off = 0;
    EXPECT_OK(tr_zone_parse("Asia/Shanghai", &off));
    EXPECT_INT(off, 8 * 3600);
    EXPECT_OK(tr_zone_parse("UTC+05:30", &off));
    EXPECT_INT(off, 5 * 3600 + 1800);
    EXPECT_ERR(tr_zone_parse("Europe/London", &off), ERR_INPUT); /* daylight saving time */
    EXPECT_ERR(tr_zone_parse("UTC+25:00", &off), ERR_INPUT);
    tr_config c;
    const char *j = "{\"zone\":\"UTC\",\"due_days\":45,\"smtp\":\"smtp://127.0.0.1:2525\","
                    "\"mail_domain\":\"example.com\",\"from\":\"t@example.com\"}";
    EXPECT_OK(tr_config_parse(slice_of(j, strlen(j)), &c));
    EXPECT_INT(c.rules.zone_off_s, 0);
    EXPECT_INT(c.rules.due_days, 45);
    EXPECT_INT(c.rules.grace_days, TR_DEFAULT_GRACE_DAYS);
    EXPECT(!c.smtp_plain_loopback); /* TLS to the relay unless a loopback relay is let off */
    const char *pl = "{\"smtp\":\"smtp://127.0.0.1:2525\",\"smtp_plain_loopback\":true}";
    EXPECT_OK(tr_config_parse(slice_of(pl, strlen(pl)), &c));
    EXPECT(c.smtp_plain_loopback);
    static const char *const BAD[] = {
        "{\"zone\":\"Mars/Base\"}",
        "{\"due_days\":0}",
        "{\"smtp\":\"http://x\"}",
        "{\"from\":\"a@b>\\r\\nBcc: x\"}",
        "{\"mail_domain\":\"ex ample.com\"}",
        "{\"colour\":1}",
        "{\"smtp\":\"smtp://mail.example:25\","
        "\"smtp_plain_loopback\":true}",
        "{\"smtp\":\"smtp://127.0.0.1:25\",\"smtp_plain_loopback\":1}",
        "["};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        EXPECT_ERR(tr_config_parse(slice_of(BAD[i], strlen(BAD[i])), &c), ERR_INPUT);
    }
}

/* ---- the door, on a real vault ---- */

static vault *V;
static char VDIR[600];
static actor SYS, SALES, SALES2, HR;

static actor person(const char *user, role r, const char *dept)
{
    actor a;
    EXPECT_OK(door_account_create(V, &SYS, user, "a-long-enough-password-1", r, dept));
    EXPECT_OK(door_actor_of(V, user, &a));
    snprintf(a.source, sizeof a.source, "127.0.0.1");
    snprintf(a.request_id, sizeof a.request_id, "t");
    return a;
}

static const char HR_ALL[] = "{\"hr_scope\": {\"hr1\": [\"*\"]}}";
static void write_training_json(const char *text);

TEST(t_door_setup)
{
    char *d = test_tmpdir("training");
    char dir[600], key[700];
    snprintf(dir, sizeof dir, "%s/vault", d);
    snprintf(key, sizeof key, "%s/key", d);
    free(d);
    EXPECT_OK(key_file_generate(key));
    vault_key src = {NULL, 0, key};
    vault_init_opts o = {&src, VAULT_KDF_FAST, NULL, NULL};
    EXPECT_OK(vault_init(dir, &o));
    EXPECT_OK(vault_open(dir, &src, &V));
    snprintf(VDIR, sizeof VDIR, "%s", dir);
    actor_system(&SYS, "test");
    SALES = person("sales1", ROLE_SALES, "beijing");
    SALES2 = person("sales2", ROLE_SALES, "shanghai");
    HR = person("hr1", ROLE_HR, "hr");
    write_training_json(HR_ALL); /* hr1 answers for every department */
}

TEST(t_door_import)
{
    json_t *out = NULL;
    EXPECT_ERR(door_training_import(V, &SALES, STARTER, &out), ERR_DENIED);
    EXPECT_OK(door_training_import(V, &SYS, STARTER, &out));
    EXPECT_STR(json_string_value(json_object_get(out, "course")), "security-basics");
    json_decref(out);
    out = NULL;
    EXPECT_ERR(door_training_import(V, &SYS, STARTER, &out), ERR_CONFLICT); /* same version */
    /* a malformed course is refused with the file and line, and nothing is stored */
    char *d = test_tmpdir("course");
    char p[700];
    snprintf(p, sizeof p, "%s/course.json", d);
    FILE *f = fopen(p, "w");
    char *m = variant("\"answer\": [1]", "\"answer\": [5]");
    fputs(m, f);
    fclose(f);
    free(m);
    EXPECT_ERR(door_training_import(V, &SYS, d, &out), ERR_INPUT);
    EXPECT(strstr(err_message(), "course.json:11: quiz[].answer") != NULL);
    /* a manifest that parses but a lesson file is missing */
    f = fopen(p, "w");
    fputs(GOOD, f);
    fclose(f);
    EXPECT_ERR(door_training_import(V, &SYS, d, &out), ERR_INPUT);
    EXPECT(strstr(err_message(), "lessons/en/01.md: missing") != NULL);
    json_t *list = NULL;
    EXPECT_OK(door_training_courses(V, &SALES, "en", &list));
    EXPECT_INT(json_array_size(json_object_get(list, "courses")), 1);
    json_decref(list);
    free(d);
}

TEST(t_door_lesson_and_files)
{
    json_t *out = NULL;
    EXPECT_OK(door_training_lesson(V, &SALES, "security-basics", "phishing", "zh-CN", &out));
    const char *html = json_string_value(json_object_get(out, "html"));
    EXPECT(html && strstr(html, "src=\"/v1/training/files/security-basics/2026.4.1/img/"
                                "03-phishing-comic.svg\"") != NULL);
    EXPECT(html && strstr(html, "钓鱼") != NULL);
    json_decref(out);
    out = NULL;
    EXPECT_ERR(door_training_lesson(V, &SALES, "security-basics", "nope", "en", &out),
               ERR_NOT_FOUND);
    EXPECT_ERR(door_training_lesson(V, &SALES, "security-basics", "pipl", "fr", &out), ERR_INPUT);
    buf b;
    buf_init(&b, 1 << 20);
    const char *ct = NULL;
    EXPECT_OK(door_training_file(V, &SALES, "security-basics", "2026.4.1", "img/01-pipl-comic.svg",
                                 &b, &ct));
    EXPECT_STR(ct, "image/svg+xml");
    EXPECT(b.len > 1000);
    EXPECT_ERR(
        door_training_file(V, &SALES, "security-basics", "2026.4.1", "../custos.db", &b, &ct),
        ERR_NOT_FOUND);
    EXPECT_ERR(door_training_file(V, &SALES, "security-basics", "2026.4.1", "course.json", &b, &ct),
               ERR_NOT_FOUND);
    buf_free(&b);
    /* an API key is no person */
    actor key = SALES;
    key.via_key = true;
    EXPECT_ERR(door_training_lesson(V, &key, "security-basics", "pipl", "en", &out), ERR_DENIED);
}

/* Answers every question of the attempt right (white-box: the stored paper). */
static json_t *answers_for(const char *attempt, bool right)
{
    training_attempt t;
    training_attempt_init(&t);
    EXPECT_OK(store_training_attempt_get(V->st, attempt, &t));
    json_t *paper = json_loadb((const char *)t.paper.p, t.paper.len, 0, NULL);
    training_attempt_free(&t);
    course *c = starter();
    json_t *ans = right ? right_answers(c, paper, false) : json_object();
    course_free(c);
    json_decref(paper);
    return ans;
}

typedef struct race {
    const char *attempt;
    json_t *answers;
    err e;
} race;

static void *submit_thread(void *arg)
{
    race *r = arg;
    json_t *out = NULL;
    r->e = door_training_attempt_submit(V, &SALES, r->attempt, r->answers, &out);
    json_decref(out);
    return NULL;
}

TEST(t_door_attempts_and_certification)
{
    json_t *a1 = NULL, *out = NULL;
    EXPECT_OK(door_training_attempt_start(V, &SALES, "security-basics", "en", &a1));
    EXPECT_INT(json_array_size(json_object_get(a1, "questions")), 10);
    const char *id = json_string_value(json_object_get(a1, "attempt"));
    /* someone else's attempt looks like none */
    json_t *ans = answers_for(id, true);
    EXPECT_ERR(door_training_attempt_submit(V, &SALES2, id, ans, &out), ERR_NOT_FOUND);
    /* a failed attempt certifies nothing */
    json_t *none = json_object();
    EXPECT_OK(door_training_attempt_submit(V, &SALES, id, none, &out));
    EXPECT(!json_is_true(json_object_get(out, "passed")));
    EXPECT(json_is_null(json_object_get(out, "training_valid_until")));
    json_decref(out);
    out = NULL;
    json_decref(none);
    /* once only */
    EXPECT_ERR(door_training_attempt_submit(V, &SALES, id, ans, &out), ERR_CONFLICT);
    json_decref(ans);
    json_decref(a1);
    /* two submissions of one attempt at once: exactly one is marked */
    json_t *a2 = NULL;
    EXPECT_OK(door_training_attempt_start(V, &SALES, "security-basics", "zh-CN", &a2));
    const char *id2 = json_string_value(json_object_get(a2, "attempt"));
    race r[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (race){id2, answers_for(id2, true), ERR_INTERNAL};
        pthread_create(&th[i], NULL, submit_thread, &r[i]);
    }
    int ok = 0, conflict = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ok += r[i].e == ERR_OK;
        conflict += r[i].e == ERR_CONFLICT;
        json_decref(r[i].answers);
    }
    EXPECT_INT(ok, 1);
    EXPECT_INT(conflict, 3);
    json_decref(a2);
    /* the pass set the account's validity: the end of next quarter's grace */
    account acc;
    EXPECT_OK(store_account_by_name(V->st, "sales1", &acc));
    tr_rules rules;
    tr_rules_default(&rules);
    int64_t last = 0;
    EXPECT_OK(store_training_last_pass(V->st, acc.id, "security-basics", &last));
    EXPECT(last > 0);
    EXPECT_INT(acc.training_until_us, tr_valid_until(&rules, last));
    /* at least the next quarter's due date and grace (44 days) away */
    EXPECT(acc.training_until_us > clock_now_us() + (int64_t)44 * 86400 * 1000000);
    /* results: own yes, another's no, HR anyone's */
    EXPECT_OK(door_training_results(V, &SALES, NULL, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "attempts")), 2);
    json_decref(out);
    out = NULL;
    EXPECT_ERR(door_training_results(V, &SALES2, "sales1", &out), ERR_DENIED);
    EXPECT_ERR(door_training_status(V, &SALES2, "sales1", &out), ERR_DENIED);
    EXPECT_OK(door_training_results(V, &HR, "sales1", &out));
    EXPECT_INT(json_array_size(json_object_get(out, "attempts")), 2);
    json_decref(out);
    out = NULL;
}

TEST(t_door_assign_status_valid_until)
{
    json_t *out = NULL;
    EXPECT_ERR(door_training_assign(V, &SALES, "security-basics", "role", "sales", 0, &out),
               ERR_DENIED);
    EXPECT_ERR(door_training_assign(V, &HR, "security-basics", "role", "nobody", 0, &out),
               ERR_INPUT);
    EXPECT_ERR(door_training_assign(V, &HR, "no-course", "role", "sales", 0, &out), ERR_NOT_FOUND);
    EXPECT_OK(door_training_assign(V, &HR, "security-basics", "role", "sales", 0, &out));
    json_decref(out);
    out = NULL;
    EXPECT_OK(door_training_assign(V, &HR, "security-basics", "account", "hr1", 0, &out));
    json_decref(out);
    out = NULL;
    EXPECT_OK(door_training_status(V, &SALES, NULL, &out));
    json_t *c0 = json_array_get(json_object_get(out, "courses"), 0);
    EXPECT_STR(json_string_value(json_object_get(c0, "state")), "certified");
    json_decref(out);
    out = NULL;
    EXPECT_OK(door_training_status(V, &HR, "sales2", &out));
    c0 = json_array_get(json_object_get(out, "courses"), 0);
    EXPECT_STR(json_string_value(json_object_get(c0, "state")), "pending");
    EXPECT(!json_is_true(json_object_get(out, "training_current")));
    json_decref(out);
    out = NULL;
    /* HR's hand-set date needs a reason and is audited with it */
    EXPECT_ERR(
        door_training_set_valid_until(V, &HR, "sales2", clock_now_us() + 86400000000, "", &out),
        ERR_INPUT);
    EXPECT_ERR(door_training_set_valid_until(V, &SALES, "sales2", clock_now_us(), "because", &out),
               ERR_DENIED);
    EXPECT_OK(door_training_set_valid_until(V, &HR, "sales2", clock_now_us() + 86400000000,
                                            "on leave during the window", &out));
    json_decref(out);
    out = NULL;
    account acc;
    EXPECT_OK(store_account_by_name(V->st, "sales2", &acc));
    EXPECT(acc.training_until_us > clock_now_us());
    /* questionnaires: own answers kept, read back */
    json_t *qa = json_pack("{s:i,s:s}", "recognise-phishing", 2, "expect", "how to spot fakes");
    EXPECT_OK(door_training_questionnaire_answer(V, &SALES2, "security-basics", "pre", qa));
    json_decref(qa);
    EXPECT_OK(door_training_questionnaire(V, &SALES2, "security-basics", "pre", "en", &out));
    EXPECT_INT(
        json_integer_value(json_object_get(json_object_get(out, "answers"), "recognise-phishing")),
        2);
    json_decref(out);
    out = NULL;
    EXPECT_OK(door_training_report(V, &HR, "security-basics", &out));
    EXPECT(json_array_size(json_object_get(out, "departments")) >= 1);
    EXPECT(json_array_size(json_object_get(out, "weakest_questions")) >= 1);
    json_decref(out);
    out = NULL;
    EXPECT_ERR(door_training_report(V, &SALES, "security-basics", &out), ERR_DENIED);
    /* reminders need a mail server in training.json */
    EXPECT_ERR(door_training_remind(V, &HR, clock_now_us(), &out), ERR_INPUT);
}

/* ---- concurrent writers on the same rows ---- */

typedef struct crowd {
    int kind; /* 0: submit an attempt, 1: answer the questionnaire, 2: claim a reminder */
    const char *attempt;
    json_t *answers;
    const char *account_id;
    err e;
} crowd;

static void *crowd_thread(void *arg)
{
    crowd *c = arg;
    json_t *out = NULL;
    if (c->kind == 0) {
        c->e = door_training_attempt_submit(V, &SALES2, c->attempt, c->answers, &out);
    } else if (c->kind == 1) {
        c->e =
            door_training_questionnaire_answer(V, &SALES2, "security-basics", "post", c->answers);
    } else {
        c->e = store_training_reminder_claim(V->st, c->account_id, "security-basics", "2027Q1",
                                             "due", clock_now_us());
    }
    json_decref(out);
    return NULL;
}

TEST(t_door_concurrent_writers)
{
    /* two passing attempts of one person at once: both marked, the account row right */
    json_t *a1 = NULL, *a2 = NULL;
    EXPECT_OK(door_training_attempt_start(V, &SALES2, "security-basics", "en", &a1));
    EXPECT_OK(door_training_attempt_start(V, &SALES2, "security-basics", "zh-CN", &a2));
    crowd c[4] = {{0, json_string_value(json_object_get(a1, "attempt")), NULL, NULL, ERR_INTERNAL},
                  {0, json_string_value(json_object_get(a2, "attempt")), NULL, NULL, ERR_INTERNAL},
                  {1, NULL, json_pack("{s:i}", "recognise-phishing", 4), NULL, ERR_INTERNAL},
                  {1, NULL, json_pack("{s:i}", "recognise-phishing", 5), NULL, ERR_INTERNAL}};
    c[0].answers = answers_for(c[0].attempt, true);
    c[1].answers = answers_for(c[1].attempt, true);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        pthread_create(&th[i], NULL, crowd_thread, &c[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        EXPECT_OK(c[i].e);
        json_decref(c[i].answers);
    }
    json_decref(a1);
    json_decref(a2);
    account acc;
    EXPECT_OK(store_account_by_name(V->st, "sales2", &acc));
    tr_rules rules;
    tr_rules_default(&rules);
    int64_t last = 0;
    EXPECT_OK(store_training_last_pass(V->st, acc.id, "security-basics", &last));
    EXPECT_INT(acc.training_until_us, tr_valid_until(&rules, last));
    /* one of the two answers stands, whole */
    json_t *q = NULL;
    EXPECT_OK(door_training_questionnaire(V, &SALES2, "security-basics", "post", "en", &q));
    json_int_t v =
        json_integer_value(json_object_get(json_object_get(q, "answers"), "recognise-phishing"));
    EXPECT(v == 4 || v == 5);
    json_decref(q);
    /* a reminder claimed by four runs at once is claimed once */
    crowd r[4];
    int ok = 0, conflict = 0;
    for (int i = 0; i < 4; i++) {
        r[i] = (crowd){2, NULL, NULL, acc.id, ERR_INTERNAL};
        pthread_create(&th[i], NULL, crowd_thread, &r[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ok += r[i].e == ERR_OK;
        conflict += r[i].e == ERR_CONFLICT;
    }
    EXPECT_INT(ok, 1);
    EXPECT_INT(conflict, 3);
}

TEST(t_door_attempt_limits)
{
    /* every marked paper shows its right answers: five a day per person and course */
    json_t *none = json_object();
    for (int i = 0; i < 3; i++) { /* sales1 has two marked already */
        json_t *a = NULL, *out = NULL;
        EXPECT_OK(door_training_attempt_start(V, &SALES, "security-basics", "en", &a));
        EXPECT_OK(door_training_attempt_submit(
            V, &SALES, json_string_value(json_object_get(a, "attempt")), none, &out));
        json_decref(out);
        json_decref(a);
    }
    json_decref(none);
    json_t *a = NULL;
    EXPECT_ERR(door_training_attempt_start(V, &SALES, "security-basics", "en", &a), ERR_RATE);
    /* and twenty papers drawn (sales2 drew two in the concurrency test) */
    for (int i = 0; i < TRAINING_STARTS_PER_DAY - 2; i++) {
        EXPECT_OK(door_training_attempt_start(V, &SALES2, "security-basics", "en", &a));
        json_decref(a);
        a = NULL;
    }
    EXPECT_ERR(door_training_attempt_start(V, &SALES2, "security-basics", "en", &a), ERR_RATE);
    EXPECT(a == NULL);
}

/* Whether any file of the vault folder (the database, its WAL, the audit log...) holds the
 * bytes of needle. */
static bool vault_holds(const char *needle)
{
    char cmd[800];
    snprintf(cmd, sizeof cmd, "grep -rqaF -- '%s' '%s'", needle, VDIR);
    return system(cmd) == 0;
}

static err grab_text(void *ctx, const char *phase, const char *item, int likert, slice sealed,
                     int64_t at_us)
{
    (void)likert, (void)at_us;
    if (strcmp(phase, "post") == 0 && strcmp(item, "unclear") == 0) {
        return buf_set(ctx, sealed.p, sealed.len);
    }
    return ERR_OK;
}

TEST(t_door_questionnaire_text_sealed)
{
    static const char CANARY[] = "canary-7f3a91-freetext";
    json_t *qa = json_pack("{s:i,s:s}", "recognise-phishing", 4, "unclear", CANARY);
    EXPECT_OK(door_training_questionnaire_answer(V, &SALES, "security-basics", "post", qa));
    json_decref(qa);
    json_t *out = NULL;
    EXPECT_OK(door_training_questionnaire(V, &SALES, "security-basics", "post", "en", &out));
    EXPECT_STR(json_string_value(json_object_get(json_object_get(out, "answers"), "unclear")),
               CANARY);
    json_decref(out);
    out = NULL;
    EXPECT(!vault_holds(CANARY)); /* neither the database nor its WAL nor the audit log */
    EXPECT(vault_holds("recognise-phishing")); /* the grep itself sees the store */
    /* a row copied under another person does not open */
    buf sealed;
    buf_init(&sealed, 1 << 16);
    EXPECT_OK(
        store_training_responses(V->st, SALES.account_id, "security-basics", grab_text, &sealed));
    EXPECT(sealed.len > 40);
    EXPECT_OK(store_training_response_put(V->st, SALES2.account_id, "security-basics", "2026.4",
                                          "post", "unclear", 0, buf_slice(&sealed), 1));
    buf_free(&sealed);
    out = NULL;
    EXPECT_ERR(door_training_questionnaire(V, &SALES2, "security-basics", "post", "en", &out),
               ERR_CRYPTO);
    json_decref(out);
}

static json_t *metrics(const actor *a, tr_metrics_by by, const char *dept, const char *user,
                       err want)
{
    tr_metrics_query q;
    memset(&q, 0, sizeof q);
    q.by = by;
    snprintf(q.department, sizeof q.department, "%s", dept ? dept : "");
    snprintf(q.username, sizeof q.username, "%s", user ? user : "");
    json_t *out = NULL;
    err e = door_training_metrics(V, a, &q, &out);
    EXPECT_INT(e, want);
    return out;
}

static json_t *group_of(json_t *m, const char *key)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(m, "groups"), i, g)
    {
        if (strcmp(json_string_value(json_object_get(g, "key")), key) == 0) {
            return g;
        }
    }
    return NULL;
}

static void write_training_json(const char *text)
{
    char p[700];
    snprintf(p, sizeof p, "%s/training.json", VDIR);
    if (!text) {
        unlink(p);
        return;
    }
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600); /* the vault refuses wider modes */
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
}

TEST(t_door_metrics_scope_and_figures)
{
    actor hr2 = person("hr2", ROLE_HR, "beijing");
    actor stew = person("steward1", ROLE_DATA_STEWARD, "beijing");
    /* the figures of one person match their results */
    json_t *res = NULL;
    EXPECT_OK(door_training_results(V, &HR, "sales1", &res));
    json_int_t n = 0, passed = 0, sum = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(res, "attempts"), i, r)
    {
        n++;
        passed += json_is_true(json_object_get(r, "passed"));
        sum += json_integer_value(json_object_get(r, "score"));
    }
    json_decref(res);
    EXPECT(n >= 2);
    json_t *m = metrics(&SALES, TR_BY_PERSON, NULL, NULL, ERR_OK);
    EXPECT_INT(json_array_size(json_object_get(m, "groups")), 1);
    json_t *g = group_of(m, "sales1");
    EXPECT(g != NULL);
    EXPECT_INT(json_integer_value(json_object_get(g, "attempts")), n);
    EXPECT_INT(json_integer_value(json_object_get(g, "passed")), passed);
    EXPECT(fabs(json_real_value(json_object_get(g, "average_score")) - (double)sum / (double)n) <
           0.01);
    EXPECT_INT(json_integer_value(json_object_get(g, "assigned")), 1);
    EXPECT(json_object_get(json_object_get(g, "statuses"), "certified") != NULL);
    EXPECT(json_array_size(json_object_get(m, "weakest")) >= 1);
    EXPECT(json_array_size(json_object_get(m, "trends")) == 1);
    /* sales1's own questionnaire: one post answer of 4 */
    json_t *qi = json_array_get(json_object_get(m, "questionnaire"), 0);
    EXPECT_STR(json_string_value(json_object_get(qi, "item")), "recognise-phishing");
    EXPECT(fabs(json_real_value(json_object_get(json_object_get(qi, "post"), "mean")) - 4.0) <
           0.001);
    /* no campaign yet: the phishing figures are there, and empty */
    json_t *ph0 = json_object_get(m, "phishing");
    EXPECT(json_is_object(ph0));
    EXPECT_INT(json_array_size(json_object_get(ph0, "groups")), 0);
    EXPECT(json_is_null(json_object_get(ph0, "totals")));
    json_decref(m);
    /* an employee sees only their own */
    EXPECT(metrics(&SALES, TR_BY_PERSON, NULL, "sales2", ERR_DENIED) == NULL);
    EXPECT(metrics(&SALES, TR_BY_DEPARTMENT, "shanghai", NULL, ERR_DENIED) == NULL);
    /* HR of one department is refused another's, and another's people */
    EXPECT(metrics(&hr2, TR_BY_DEPARTMENT, "shanghai", NULL, ERR_DENIED) == NULL);
    EXPECT(metrics(&hr2, TR_BY_PERSON, NULL, "sales2", ERR_DENIED) == NULL);
    m = metrics(&hr2, TR_BY_DEPARTMENT, NULL, NULL, ERR_OK);
    EXPECT(group_of(m, "beijing") != NULL);
    EXPECT(group_of(m, "shanghai") == NULL);
    json_decref(m);
    m = metrics(&hr2, TR_BY_PERSON, "beijing", NULL, ERR_OK);
    EXPECT(group_of(m, "sales1") != NULL);
    EXPECT(group_of(m, "sales2") == NULL);
    json_decref(m);
    /* one person's status and results too */
    res = NULL;
    EXPECT_ERR(door_training_status(V, &hr2, "sales2", &res), ERR_DENIED);
    EXPECT_ERR(door_training_results(V, &hr2, "sales2", &res), ERR_DENIED);
    EXPECT_OK(door_training_status(V, &hr2, "sales1", &res));
    json_decref(res);
    /* a steward their department */
    EXPECT(metrics(&stew, TR_BY_DEPARTMENT, "shanghai", NULL, ERR_DENIED) == NULL);
    m = metrics(&stew, TR_BY_COURSE, NULL, NULL, ERR_OK);
    EXPECT(group_of(m, "security-basics") != NULL);
    json_decref(m);
    /* HR without a scope (hr2) sees its own department only, in the course report too */
    res = NULL;
    EXPECT_OK(door_training_report(V, &hr2, "security-basics", &res));
    json_array_foreach(json_object_get(res, "departments"), i, r)
    {
        EXPECT_STR(json_string_value(json_object_get(r, "department")), "beijing");
    }
    json_decref(res);
    write_training_json("{\"hr_scope\": {\"hr1\": [\"*\"], \"hr2\": [\"shanghai\"]}}");
    m = metrics(&HR, TR_BY_DEPARTMENT, NULL, NULL, ERR_OK);
    EXPECT(group_of(m, "beijing") != NULL && group_of(m, "shanghai") != NULL);
    json_decref(m);
    m = metrics(&hr2, TR_BY_DEPARTMENT, "shanghai", NULL, ERR_OK);
    EXPECT(group_of(m, "shanghai") != NULL);
    json_decref(m);
    m = metrics(&HR, TR_BY_QUARTER, NULL, NULL, ERR_OK);
    EXPECT_INT(json_array_size(json_object_get(m, "groups")), 1);
    json_decref(m);
    /* CSV: RFC 4180, and a cell that starts like a formula is text */
    actor odd = person("-odd.name", ROLE_SALES, "beijing");
    (void)odd;
    tr_metrics_query q;
    memset(&q, 0, sizeof q);
    q.by = TR_BY_PERSON;
    buf csv;
    buf_init(&csv, 1 << 20);
    EXPECT_OK(door_training_metrics_csv(V, &HR, &q, "groups", &csv));
    const char *t = buf_cstr(&csv);
    EXPECT(strncmp(t, "key,people,attempts,", 20) == 0);
    EXPECT(strstr(t, "\r\nsales1,") != NULL);
    EXPECT(strstr(t, "\r\n'-odd.name,") != NULL);
    EXPECT(strstr(t, "\r\n-odd.name") == NULL);
    csv.len = 0;
    EXPECT_ERR(door_training_metrics_csv(V, &hr2, &q, "nope", &csv), ERR_INPUT);
    q.by = TR_BY_DEPARTMENT;
    snprintf(q.department, sizeof q.department, "hr");
    EXPECT_ERR(door_training_metrics_csv(V, &hr2, &q, "groups", &csv), ERR_DENIED);
    buf_free(&csv);
    write_training_json(HR_ALL);
}

static void ph_mail(const char *id, const char *campaign, const actor *who, int64_t sent,
                    int64_t click_s, int64_t submit_s, int64_t report_s)
{
    phish_mail m;
    memset(&m, 0, sizeof m);
    snprintf(m.id, sizeof m.id, "%s", id);
    snprintf(m.campaign, sizeof m.campaign, "%s", campaign);
    snprintf(m.account_id, sizeof m.account_id, "%s", who->account_id);
    snprintf(m.department, sizeof m.department, "%s", who->department);
    m.due_us = sent ? sent : T("2026-11-10T02:00:00Z");
    m.sent_us = sent;
    m.opened_us = sent && (click_s || report_s) ? sent + 10 * 1000000LL : 0;
    m.clicked_us = click_s ? sent + click_s * 1000000LL : 0;
    m.submitted_us = submit_s ? sent + submit_s * 1000000LL : 0;
    m.reported_us = report_s ? sent + report_s * 1000000LL : 0;
    EXPECT_OK(store_phish_mail_put(V->st, &m));
}

static void ph_campaign(const char *id, int64_t starts)
{
    phish_campaign c;
    phish_campaign_init(&c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.name, sizeof c.name, "practice %s", id);
    snprintf(c.template_id, sizeof c.template_id, "invoice");
    snprintf(c.lang, sizeof c.lang, "en");
    snprintf(c.created_by, sizeof c.created_by, "hr1");
    snprintf(c.targets, sizeof c.targets, "{}");
    c.created_us = starts;
    c.starts_us = starts;
    c.ends_us = starts + 3600 * 1000000LL;
    c.track_until_us = starts + 30 * 86400 * 1000000LL;
    c.scanner_s = 5;
    EXPECT_OK(buf_append_str(&c.template, "x"));
    EXPECT_OK(store_phish_campaign_put(V->st, &c));
    phish_campaign_free(&c);
}

static json_t *ph_group(json_t *m, const char *key)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(json_object_get(m, "phishing"), "groups"), i, g)
    {
        if (strcmp(json_string_value(json_object_get(g, "key")), key) == 0) {
            return g;
        }
    }
    return NULL;
}

static json_int_t ji(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static double jr(json_t *o, const char *k)
{
    return json_real_value(json_object_get(o, k));
}

/* Two campaigns with known events: the figures per person, department, quarter and in
 * total match by hand, sales1 (who clicked both) is a repeat clicker, unsent mails do not
 * count, and the scope holds for the phishing figures like for the others. */
TEST(t_door_metrics_phishing)
{
    actor hr2, stew;
    EXPECT_OK(door_actor_of(V, "hr2", &hr2));
    EXPECT_OK(door_actor_of(V, "steward1", &stew));
    EXPECT_OK(store_phish_ready(V->st));
    int64_t s1 = T("2026-08-10T02:00:00Z"), s2 = T("2026-11-10T02:00:00Z");
    ph_campaign("phc1aaaaaaaaaaaaaaaaaaaaaaaaaaaa", s1);
    ph_campaign("phc2aaaaaaaaaaaaaaaaaaaaaaaaaaaa", s2);
    /* campaign 1 (2026Q3): sales1 clicks and submits, sales2 reports, hr1 ignores it */
    ph_mail("phm1aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "phc1aaaaaaaaaaaaaaaaaaaaaaaaaaaa", &SALES, s1, 100,
            120, 0);
    ph_mail("phm2aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "phc1aaaaaaaaaaaaaaaaaaaaaaaaaaaa", &SALES2, s1, 0,
            0, 300);
    ph_mail("phm3aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "phc1aaaaaaaaaaaaaaaaaaaaaaaaaaaa", &HR, s1, 0, 0,
            0);
    /* campaign 2 (2026Q4): sales1 clicks again then reports, sales2 reports, hr1's is unsent */
    ph_mail("phm5aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "phc2aaaaaaaaaaaaaaaaaaaaaaaaaaaa", &SALES, s2, 50,
            0, 600);
    ph_mail("phm6aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "phc2aaaaaaaaaaaaaaaaaaaaaaaaaaaa", &SALES2, s2, 0,
            0, 100);
    ph_mail("phm7aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "phc2aaaaaaaaaaaaaaaaaaaaaaaaaaaa", &HR, 0, 0, 0,
            0);

    json_t *m = metrics(&HR, TR_BY_PERSON, NULL, NULL, ERR_OK);
    json_t *g = ph_group(m, "sales1");
    EXPECT(g != NULL);
    EXPECT_INT(ji(g, "delivered"), 2);
    EXPECT_INT(ji(g, "clicked"), 2);
    EXPECT_INT(ji(g, "submitted"), 1);
    EXPECT_INT(ji(g, "reported"), 1);
    EXPECT(fabs(jr(g, "phish_prone_pct") - 100.0) < 1e-9);
    EXPECT(fabs(jr(g, "report_rate_pct") - 50.0) < 1e-9);
    EXPECT_INT(ji(g, "median_report_s"), 600);
    EXPECT_INT(ji(g, "repeat_clickers"), 1);
    g = ph_group(m, "sales2");
    EXPECT(g != NULL);
    EXPECT_INT(ji(g, "delivered"), 2);
    EXPECT_INT(ji(g, "clicked"), 0);
    EXPECT_INT(ji(g, "reported"), 2);
    EXPECT(fabs(jr(g, "phish_prone_pct")) < 1e-9);
    EXPECT(fabs(jr(g, "report_rate_pct") - 100.0) < 1e-9);
    EXPECT_INT(ji(g, "median_report_s"), 200);
    EXPECT_INT(ji(g, "repeat_clickers"), 0);
    g = ph_group(m, "hr1");
    EXPECT(g != NULL);
    EXPECT_INT(ji(g, "delivered"), 1); /* the unsent mail is not delivered */
    EXPECT(json_is_null(json_object_get(g, "median_report_s")));
    json_t *tot = json_object_get(json_object_get(m, "phishing"), "totals");
    EXPECT_INT(ji(tot, "delivered"), 5);
    EXPECT_INT(ji(tot, "clicked"), 2);
    EXPECT_INT(ji(tot, "submitted"), 1);
    EXPECT_INT(ji(tot, "reported"), 3);
    EXPECT(fabs(jr(tot, "phish_prone_pct") - 40.0) < 1e-9);
    EXPECT(fabs(jr(tot, "report_rate_pct") - 60.0) < 1e-9);
    EXPECT_INT(ji(tot, "median_report_s"), 300);
    EXPECT_INT(ji(tot, "repeat_clickers"), 1);
    json_decref(m);
    /* by quarter of delivery, and the trends */
    m = metrics(&HR, TR_BY_QUARTER, NULL, NULL, ERR_OK);
    g = ph_group(m, "2026Q3");
    EXPECT(g != NULL);
    EXPECT_INT(ji(g, "delivered"), 3);
    EXPECT(fabs(jr(g, "phish_prone_pct") - 33.3) < 1e-9);
    EXPECT_INT(ji(g, "repeat_clickers"), 0);
    g = ph_group(m, "2026Q4");
    EXPECT(g != NULL);
    EXPECT_INT(ji(g, "delivered"), 2);
    EXPECT(fabs(jr(g, "phish_prone_pct") - 50.0) < 1e-9);
    EXPECT_INT(ji(g, "median_report_s"), 350);
    EXPECT_INT(ji(g, "repeat_clickers"), 1);
    EXPECT_INT(json_array_size(json_object_get(json_object_get(m, "phishing"), "trends")), 2);
    json_decref(m);
    /* by department, and the quarter filter */
    tr_metrics_query q;
    memset(&q, 0, sizeof q);
    q.by = TR_BY_DEPARTMENT;
    snprintf(q.quarter, sizeof q.quarter, "2026Q4");
    m = NULL;
    EXPECT_OK(door_training_metrics(V, &HR, &q, &m));
    g = ph_group(m, "beijing");
    EXPECT(g != NULL);
    EXPECT_INT(ji(g, "delivered"), 1);
    EXPECT_INT(ji(g, "repeat_clickers"), 1);
    EXPECT(ph_group(m, "hr") == NULL); /* hr1's Q4 mail was never delivered */
    json_decref(m);
    /* an employee: their own only */
    m = metrics(&SALES, TR_BY_PERSON, NULL, NULL, ERR_OK);
    EXPECT(ph_group(m, "sales1") != NULL);
    EXPECT(ph_group(m, "sales2") == NULL);
    EXPECT_INT(ji(json_object_get(json_object_get(m, "phishing"), "totals"), "delivered"), 2);
    json_decref(m);
    EXPECT(metrics(&SALES, TR_BY_PERSON, NULL, "sales2", ERR_DENIED) == NULL);
    EXPECT(metrics(&SALES, TR_BY_DEPARTMENT, "shanghai", NULL, ERR_DENIED) == NULL);
    /* HR without a scope and a steward: their department */
    m = metrics(&hr2, TR_BY_DEPARTMENT, NULL, NULL, ERR_OK);
    EXPECT(ph_group(m, "beijing") != NULL);
    EXPECT(ph_group(m, "shanghai") == NULL);
    EXPECT(ph_group(m, "hr") == NULL);
    json_decref(m);
    EXPECT(metrics(&hr2, TR_BY_PERSON, NULL, "sales2", ERR_DENIED) == NULL);
    m = metrics(&stew, TR_BY_PERSON, NULL, NULL, ERR_OK);
    EXPECT(ph_group(m, "sales1") != NULL);
    EXPECT(ph_group(m, "sales2") == NULL);
    json_decref(m);
    EXPECT(metrics(&stew, TR_BY_DEPARTMENT, "shanghai", NULL, ERR_DENIED) == NULL);
    /* the CSV table, scoped the same */
    memset(&q, 0, sizeof q);
    q.by = TR_BY_PERSON;
    buf csv;
    buf_init(&csv, 1 << 20);
    EXPECT_OK(door_training_metrics_csv(V, &HR, &q, "phishing", &csv));
    const char *t = buf_cstr(&csv);
    EXPECT(strncmp(t,
                   "key,people,delivered,clicked,submitted,reported,phish_prone_pct,"
                   "report_rate_pct,median_report_s,repeat_clickers\r\n",
                   113) == 0);
    EXPECT(strstr(t, "\r\nsales1,1,2,2,1,1,100,50,600,1\r\n") != NULL);
    EXPECT(strstr(t, "\r\nsales2,1,2,0,0,2,0,100,200,0\r\n") != NULL);
    EXPECT(strstr(t, "\r\nhr1,1,1,0,0,0,0,0,,0\r\n") != NULL);
    csv.len = 0;
    EXPECT_OK(door_training_metrics_csv(V, &SALES, &q, "phishing", &csv));
    EXPECT(strstr(buf_cstr(&csv), "sales2") == NULL);
    EXPECT(strstr(buf_cstr(&csv), "\r\nsales1,") != NULL);
    csv.len = 0;
    snprintf(q.username, sizeof q.username, "sales2");
    EXPECT_ERR(door_training_metrics_csv(V, &stew, &q, "phishing", &csv), ERR_DENIED);
    buf_free(&csv);
}

/* A repeat is decided by when the clicks happened, not when the mails were sent: an
 * old campaign's mail clicked after a newer one's click is the repeat. */
TEST(t_door_metrics_phishing_repeat_order)
{
    actor odd;
    EXPECT_OK(door_actor_of(V, "-odd.name", &odd));
    int64_t s1 = T("2026-08-10T02:00:00Z"), s2 = T("2026-11-10T02:00:00Z");
    int64_t late = (T("2026-12-01T02:00:00Z") - s1) / 1000000;
    ph_mail("phm8aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "phc1aaaaaaaaaaaaaaaaaaaaaaaaaaaa", &odd, s1, late,
            0, 0);
    ph_mail("phm9aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "phc2aaaaaaaaaaaaaaaaaaaaaaaaaaaa", &odd, s2, 50, 0,
            0);
    json_t *m = metrics(&HR, TR_BY_QUARTER, NULL, "-odd.name", ERR_OK);
    json_t *g = ph_group(m, "2026Q3");
    EXPECT(g != NULL);
    EXPECT_INT(ji(g, "clicked"), 1);
    EXPECT_INT(ji(g, "repeat_clickers"), 1);
    g = ph_group(m, "2026Q4");
    EXPECT(g != NULL);
    EXPECT_INT(ji(g, "clicked"), 1);
    EXPECT_INT(ji(g, "repeat_clickers"), 0);
    json_t *tot = json_object_get(json_object_get(m, "phishing"), "totals");
    EXPECT_INT(ji(tot, "delivered"), 2);
    EXPECT_INT(ji(tot, "repeat_clickers"), 1);
    json_decref(m);
    /* the others' figures did not move: sales1 still one repeat, sales2 none */
    m = metrics(&HR, TR_BY_PERSON, NULL, NULL, ERR_OK);
    EXPECT_INT(ji(ph_group(m, "sales1"), "repeat_clickers"), 1);
    EXPECT_INT(ji(ph_group(m, "sales2"), "repeat_clickers"), 0);
    EXPECT_INT(ji(json_object_get(json_object_get(m, "phishing"), "totals"), "repeat_clickers"), 2);
    json_decref(m);
}

typedef struct rem_race {
    const actor *who;
    const char *attempt;  /* NULL: HR assigns a blocking remedial course */
    const char *withdraw; /* or HR withdraws this one */
    json_t *answers;
    err e;
} rem_race;

static void *rem_thread(void *arg)
{
    rem_race *r = arg;
    json_t *out = NULL;
    r->e = r->withdraw  ? door_training_remedial_withdraw(V, &HR, r->withdraw, "raced on purpose")
           : r->attempt ? door_training_attempt_submit(V, r->who, r->attempt, r->answers, &out)
                        : door_training_remedial_assign(V, &HR, "service9", "security-basics",
                                                        "violation:bulk-read", true, &out);
    json_decref(out);
    return NULL;
}

static int open_remedials(const char *user)
{
    json_t *out = NULL;
    EXPECT_OK(door_training_remedial_list(V, &HR, user, true, &out));
    int n = (int)json_array_size(json_object_get(out, "remedial"));
    json_decref(out);
    return n;
}

static int64_t until_of(const char *user)
{
    account acc;
    EXPECT_OK(store_account_by_name(V->st, user, &acc));
    return acc.training_until_us;
}

TEST(t_door_remedial)
{
    actor sv = person("service9", ROLE_CUSTOMER_SERVICE, "beijing");
    json_t *a = NULL, *out = NULL;
    /* certified first */
    EXPECT_OK(door_training_attempt_start(V, &sv, "security-basics", "en", &a));
    const char *id = json_string_value(json_object_get(a, "attempt"));
    json_t *ans = answers_for(id, true);
    EXPECT_OK(door_training_attempt_submit(V, &sv, id, ans, &out));
    json_decref(ans);
    json_decref(out);
    json_decref(a);
    out = NULL;
    int64_t certified = until_of("service9");
    EXPECT(certified > clock_now_us());
    /* only HR, only known people and courses */
    EXPECT_ERR(
        door_training_remedial_assign(V, &sv, "service9", "security-basics", NULL, true, &out),
        ERR_DENIED);
    EXPECT_ERR(door_training_remedial_assign(V, &HR, "nobody", "security-basics", NULL, true, &out),
               ERR_NOT_FOUND);
    EXPECT_ERR(door_training_remedial_assign(V, &HR, "service9", "nope", NULL, true, &out),
               ERR_INPUT);
    EXPECT_ERR(
        door_training_remedial_assign(V, &HR, "service9", "security-basics", "a b", true, &out),
        ERR_INPUT);
    /* a paper drawn before the assignment, handed in while two HR assignments race it */
    EXPECT_OK(door_training_attempt_start(V, &sv, "security-basics", "en", &a));
    id = json_string_value(json_object_get(a, "attempt"));
    rem_race r[3] = {{&sv, NULL, NULL, NULL, ERR_INTERNAL},
                     {&sv, NULL, NULL, NULL, ERR_INTERNAL},
                     {&sv, id, NULL, answers_for(id, true), ERR_INTERNAL}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        pthread_create(&th[i], NULL, rem_thread, &r[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        EXPECT_OK(r[i].e);
    }
    json_decref(r[2].answers);
    json_decref(a);
    /* whatever the order, both are open and the account is held */
    EXPECT_INT(open_remedials("service9"), 2);
    EXPECT_INT(until_of("service9"), 0);
    /* no hand-set date lifts it */
    EXPECT_ERR(door_training_set_valid_until(V, &HR, "service9", clock_now_us() + 86400000000LL,
                                             "back at work", &out),
               ERR_CONFLICT);
    EXPECT_INT(until_of("service9"), 0);
    account_change ch = {NULL, NULL, -1, NULL, clock_now_us() + 86400000000LL, false};
    EXPECT_ERR(door_account_change(V, &HR, "service9", &ch, &out), ERR_CONFLICT);
    EXPECT_INT(until_of("service9"), 0);
    /* the employee sees their own */
    EXPECT_OK(door_training_remedial_list(V, &sv, NULL, true, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "remedial")), 2);
    json_decref(out);
    out = NULL;
    EXPECT_ERR(door_training_remedial_list(V, &sv, "sales1", true, &out), ERR_DENIED);
    /* a pass on a paper drawn now closes both and gives back at least what the account had */
    EXPECT_OK(door_training_attempt_start(V, &sv, "security-basics", "en", &a));
    id = json_string_value(json_object_get(a, "attempt"));
    ans = answers_for(id, true);
    EXPECT_OK(door_training_attempt_submit(V, &sv, id, ans, &out));
    json_decref(ans);
    json_decref(a);
    json_decref(out);
    out = NULL;
    EXPECT_INT(open_remedials("service9"), 0);
    EXPECT(until_of("service9") >= certified);
    /* a withdrawal with a reason gives back the saved validity */
    EXPECT_OK(
        door_training_remedial_assign(V, &HR, "service9", "security-basics", NULL, true, &out));
    char rid[ID_LEN + 1];
    snprintf(rid, sizeof rid, "%s", json_string_value(json_object_get(out, "id")));
    json_decref(out);
    out = NULL;
    EXPECT_INT(until_of("service9"), 0);
    EXPECT_ERR(door_training_remedial_withdraw(V, &HR, rid, ""), ERR_INPUT);
    EXPECT_ERR(door_training_remedial_withdraw(V, &sv, rid, "assigned by mistake"), ERR_DENIED);
    EXPECT_OK(door_training_remedial_withdraw(V, &HR, rid, "assigned by mistake"));
    EXPECT(until_of("service9") >= certified);
    EXPECT_ERR(door_training_remedial_withdraw(V, &HR, rid, "assigned by mistake"), ERR_NOT_FOUND);
    /* two withdrawals and a pass race on one remedial course: at most one withdrawal wins,
     * and the account ends open either way */
    EXPECT_OK(
        door_training_remedial_assign(V, &HR, "service9", "security-basics", NULL, true, &out));
    snprintf(rid, sizeof rid, "%s", json_string_value(json_object_get(out, "id")));
    json_decref(out);
    out = NULL;
    EXPECT_OK(door_training_attempt_start(V, &sv, "security-basics", "en", &a));
    id = json_string_value(json_object_get(a, "attempt"));
    rem_race w[3] = {{&sv, NULL, rid, NULL, ERR_INTERNAL},
                     {&sv, NULL, rid, NULL, ERR_INTERNAL},
                     {&sv, id, NULL, answers_for(id, true), ERR_INTERNAL}};
    for (int i = 0; i < 3; i++) {
        pthread_create(&th[i], NULL, rem_thread, &w[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
    }
    json_decref(w[2].answers);
    json_decref(a);
    EXPECT_OK(w[2].e);
    EXPECT((w[0].e == ERR_OK) + (w[1].e == ERR_OK) <= 1);
    EXPECT(w[0].e == ERR_OK || w[0].e == ERR_NOT_FOUND);
    EXPECT(w[1].e == ERR_OK || w[1].e == ERR_NOT_FOUND);
    EXPECT_INT(open_remedials("service9"), 0);
    EXPECT(until_of("service9") >= certified);
    /* a non-blocking one leaves access alone */
    int64_t before = until_of("service9");
    EXPECT_OK(
        door_training_remedial_assign(V, &HR, "service9", "security-basics", NULL, false, &out));
    json_decref(out);
    EXPECT_INT(until_of("service9"), before);
}

/* A vault from before sealed answers: the upgrade erases free text kept in clear. */
TEST(t_door_legacy_clear_text_erased)
{
    sqlite3 *db = NULL;
    EXPECT_OK(sq_conn(V->st, &db));
    EXPECT_INT(
        sqlite3_exec(db,
                     "DROP TABLE training_remedial;"
                     "INSERT OR REPLACE INTO training_responses(account_id, course, version, "
                     "phase, item, likert, text, at) SELECT id, 'security-basics', "
                     "'2026.4', 'pre', 'unclear', 0, 'legacy-canary-77', 1 FROM accounts "
                     "WHERE username='sales1';",
                     NULL, NULL, NULL),
        SQLITE_OK);
    EXPECT(vault_holds("legacy-canary-77"));
    EXPECT_OK(store_training_ready(V->st));
    EXPECT_OK(sq_exec(db, "PRAGMA wal_checkpoint(TRUNCATE);"));
    json_t *out = NULL;
    EXPECT_OK(door_training_questionnaire(V, &SALES, "security-basics", "pre", "en", &out));
    EXPECT_STR(json_string_value(json_object_get(json_object_get(out, "answers"), "unclear")), "");
    json_decref(out);
    EXPECT(!vault_holds("legacy-canary-77"));
}

TEST(t_door_teardown)
{
    vault_close(V);
}

int main(void)
{
    test_init();
    RUN(t_course_good);
    RUN(t_course_malformed_names_file_line_field);
    RUN(t_course_paths);
    RUN(t_render_drops_raw_html_and_scripts);
    RUN(t_svg_check);
    RUN(t_starter_course_checks);
    RUN(t_quiz_papers);
    RUN(t_schedule_cycles);
    RUN(t_schedule_states);
    RUN(t_zones_and_config);
    RUN(t_door_setup);
    RUN(t_door_import);
    RUN(t_door_lesson_and_files);
    RUN(t_door_attempts_and_certification);
    RUN(t_door_assign_status_valid_until);
    RUN(t_door_concurrent_writers);
    RUN(t_door_attempt_limits);
    RUN(t_door_questionnaire_text_sealed);
    RUN(t_door_metrics_scope_and_figures);
    RUN(t_door_metrics_phishing);
    RUN(t_door_metrics_phishing_repeat_order);
    RUN(t_door_remedial);
    RUN(t_door_legacy_clear_text_erased);
    RUN(t_door_teardown);
    return test_done("training_test");
}
