/*
 * phish_test.c - a phishing-simulation campaign through a real server and a real SMTP
 * receiver on loopback (Debian's python3-aiosmtpd): twenty demo employees get the mail;
 * mail scanners fire at once (HEAD, a scanner's user agent, a prefetch, a browser within
 * seconds of delivery) and are filtered; later (the server's clock moved on) some open the
 * mail, some click, one types into the landing page, others report by link or with the
 * console's button; concurrent clicks on one link count once. The metrics match exactly,
 * the clickers and nobody else are enrolled in the remedial course, a click from outside
 * the campaign's networks and guessed ids change nothing, the scopes hold (HR all, a steward
 * their department, an employee only their own), and the canary typed into the landing page
 * is found in no file: vault, WAL, audit log, server log.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/test.h"
#include "core/clock.h"
#include "harness.h"
#include "mailrx.h"

#define NU 20
#define CANARY "canary-Zq81-typed-into-the-landing-page"
#define BROWSER "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0"

static srv S;
static char TH[64];
/* the recipients, in a fixed order: the roles of the test are by index */
static const char *U[NU] = {"staff01",   "staff02",  "staff03",  "staff04",  "staff05",
                            "staff06",   "staff07",  "staff08",  "staff09",  "sales1",
                            "service1",  "steward1", "steward3", "sales2",   "steward2",
                            "security1", "legal1",   "hr1",      "auditor1", "admin"};
static char TOK[NU][48]; /* each one's tracking id, read from the mail */
static char OUTSIDE[48]; /* sales2's id in the second campaign */
static char C1[48], C2[48];

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static long long jint(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* ---- the SMTP receiver (mailrx.h) ---- */

static mailrx RX;

static unsigned smtp_start(void)
{
    char d[700];
    snprintf(d, sizeof d, "%s/../maildir", S.dir);
    return mailrx_start(&RX, d) ? RX.port : 0;
}

typedef struct mail_scan {
    const char *marker;
    char (*tok)[48];
    bool all_have_report;
    int n;
} mail_scan;

static bool scan_one(void *ctx, const char *m, size_t len)
{
    (void)len;
    mail_scan *sc = ctx;
    if (!strstr(m, sc->marker)) {
        return true;
    }
    sc->n++;
    sc->all_have_report = sc->all_have_report && strstr(m, "/t/r/") && strstr(m, "/t/o/");
    const char *to = strstr(m, "\nTo: <");
    const char *c = strstr(m, "/t/c/");
    if (!to || !c) {
        return true;
    }
    for (int i = 0; i < NU; i++) {
        size_t ul = strlen(U[i]);
        if (strncmp(to + 6, U[i], ul) == 0 && to[6 + ul] == '@') {
            snprintf(sc->tok[i], 48, "%.43s", c + 5);
        }
    }
    return true;
}

/* Reads every message: counts them, and for each recipient the tracking id of its link (in
 * the campaign whose subject marker is given). */
static int read_mails(const char *marker, char (*tok)[48], bool *all_have_report)
{
    mail_scan sc = {.marker = marker, .tok = tok, .all_have_report = true};
    mailrx_each(&RX, scan_one, &sc);
    *all_have_report = sc.all_have_report;
    return sc.n;
}

/* HEAD, as a scanner checks a link (libcurl: no body expected). */
static int head_req(const char *path)
{
    CURL *h = curl_easy_init();
    char url[600];
    snprintf(url, sizeof url, "https://127.0.0.1:%u%s", S.port, path);
    struct curl_slist *hdr = curl_slist_append(NULL, BROWSER);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_CAINFO, S.cacert);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    CURLcode r = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return r == CURLE_OK ? (int)code : 0;
}

static int hit(const char *method, const char *kind, const char *tok, const char *hdr,
               const char *body, buf *resp)
{
    char path[120];
    snprintf(path, sizeof path, "/t/%s/%s%s", kind, tok, strcmp(kind, "o") == 0 ? ".gif" : "");
    buf_reset(resp);
    return h_req(&S, method, path, NULL, body ? "application/x-www-form-urlencoded" : NULL, body,
                 body ? strlen(body) : 0, resp, hdr);
}

static json_t *metrics(const char *tok, const char *campaign, int want)
{
    char path[120];
    snprintf(path, sizeof path, "/v1/phish/campaigns/%s/metrics", campaign);
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", path, tok, NULL, &j), want);
    return j;
}

static void write_training_json(unsigned port)
{
    char p[700];
    snprintf(p, sizeof p, "%s/training.json", S.dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fdopen(fd, "w");
    fprintf(f,
            "{\"smtp\": \"smtp://127.0.0.1:%u\", \"smtp_plain_loopback\": true, "
            "\"mail_domain\": \"staff.example\", "
            "\"from\": \"training@staff.example\", \"console_url\": \"https://custos.example/\"}\n",
            port);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *p = calloc(1, 1 << 18);
    size_t n = f && p ? fread(p, 1, (1 << 18) - 1, f) : 0;
    (void)n;
    if (f) {
        fclose(f);
    }
    return p;
}

static json_t *campaign_spec(const char *file, json_t *targets)
{
    char *t = read_text(file);
    char st[40], en[40];
    clock_rfc3339(clock_now_us(), st);
    clock_rfc3339(clock_now_us() + 3000000, en);
    json_t *o = json_pack("{s:s,s:o,s:s,s:s,s:i,s:i,s:s}", "template", t, "targets", targets,
                          "starts_at", st, "ends_at", en, "scanner_seconds", 60, "track_days", 1,
                          "remedial", "phishing-refresher");
    /* the test's clients are on loopback, which no campaign counts unless it is named */
    json_object_set_new(o, "networks", json_pack("[s,s]", "127.0.0.0/8", "::1/128"));
    free(t);
    return o;
}

TEST(t_setup_and_send)
{
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "7", 1);
    setenv("CUSTOS_NEW_PASSWORD", DEMO_PW, 1);
    buf out;
    buf_init(&out, 1 << 20);
    const char *demo[] = {"demo", S.dir, "--customers", "4", NULL};
    EXPECT_INT(h_cli(&S, &out, demo), 0);
    for (int i = 0; i < 9; i++) {
        const char *add[] = {"accounts",
                             "add",
                             S.dir,
                             U[i],
                             "--role",
                             "sales",
                             "--department",
                             i % 2 ? "shanghai" : "beijing",
                             "--key-file",
                             S.key,
                             NULL};
        EXPECT_INT(h_cli(&S, &out, add), 0);
    }
    const char *imp[] = {"training",   "import", S.dir, "training/phishing/remedial",
                         "--key-file", S.key,    NULL};
    EXPECT_INT(h_cli(&S, &out, imp), 0);
    if (test_cur_failed_) {
        printf("%s\n", buf_cstr(&out));
    }
    buf_free(&out);
    unsigned port = smtp_start();
    EXPECT(port != 0);
    write_training_json(port);
    h_quiet_guard(&S);
    EXPECT(h_start(&S));
    EXPECT(h_login(&S, "hr1", DEMO_PW, TH));
    /* the demo's finished campaign is there, with figures */
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/phish/campaigns", TH, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "campaigns")), 1);
    const char *demo_id = jstr(json_array_get(json_object_get(j, "campaigns"), 0), "id");
    json_t *dm = demo_id ? metrics(TH, demo_id, 200) : NULL;
    EXPECT_INT(jint(json_object_get(dm, "totals"), "delivered"), 6);
    json_decref(dm);
    json_decref(j);
    /* employees do not create campaigns */
    char ts[64];
    EXPECT(h_login(&S, "sales1", DEMO_PW, ts));
    json_t *spec = campaign_spec("training/phishing/collector-list.en.txt",
                                 json_pack("{s:[s]}", "roles", "sales"));
    char *body = json_dumps(spec, JSON_COMPACT);
    EXPECT_INT(h_json(&S, "POST", "/v1/phish/campaigns", ts, body, &j), 403);
    json_decref(j);
    free(body);
    json_decref(spec);
    /* a malformed template is refused with its line */
    spec = json_pack("{s:s,s:{s:[s]}}", "template", "format: 1\nid: x\nlang: fr\n", "targets",
                     "roles", "sales");
    body = json_dumps(spec, JSON_COMPACT);
    EXPECT_INT(h_json(&S, "POST", "/v1/phish/campaigns", TH, body, &j), 400);
    char *dump = json_dumps(j, 0);
    EXPECT(dump && strstr(dump, "template:3: lang") != NULL);
    free(dump);
    json_decref(j);
    free(body);
    json_decref(spec);
    /* the campaign: sales, service and stewards (15 with the new staff) and five more by name */
    spec = campaign_spec("training/phishing/collector-list.en.txt",
                         json_pack("{s:[sss],s:[sssss]}", "roles", "sales", "customer_service",
                                   "data_steward", "users", "security1", "legal1", "hr1",
                                   "auditor1", "admin"));
    body = json_dumps(spec, JSON_COMPACT);
    EXPECT_INT(h_json(&S, "POST", "/v1/phish/campaigns", TH, body, &j), 201);
    EXPECT_INT(jint(j, "mails"), NU);
    snprintf(C1, sizeof C1, "%s", jstr(j, "id") ? jstr(j, "id") : "");
    json_decref(j);
    free(body);
    json_decref(spec);
    /* a range that takes in loopback without naming it is refused (behind a local proxy
     * every client of the internet looks like 127.0.0.1) */
    static const char *const wide[] = {"0.0.0.0/0", "::/0", "126.0.0.0/7", "::/127"};
    for (size_t i = 0; i < sizeof wide / sizeof *wide; i++) {
        spec = campaign_spec("training/phishing/vault-verify.en.txt",
                             json_pack("{s:[s]}", "users", "sales2"));
        json_object_set_new(spec, "networks", json_pack("[s,s]", "10.0.0.0/8", wide[i]));
        body = json_dumps(spec, JSON_COMPACT);
        EXPECT_INT(h_json(&S, "POST", "/v1/phish/campaigns", TH, body, &j), 400);
        dump = json_dumps(j, 0);
        EXPECT(dump && strstr(dump, "loopback") != NULL);
        free(dump);
        json_decref(j);
        free(body);
        json_decref(spec);
    }
    /* a second one to sales2 with the default networks: loopback is not among them, so the
     * test's requests (from 127.0.0.1) are outside */
    spec = campaign_spec("training/phishing/vault-verify.en.txt",
                         json_pack("{s:[s]}", "users", "sales2"));
    json_object_del(spec, "networks");
    body = json_dumps(spec, JSON_COMPACT);
    EXPECT_INT(h_json(&S, "POST", "/v1/phish/campaigns", TH, body, &j), 201);
    snprintf(C2, sizeof C2, "%s", jstr(j, "id") ? jstr(j, "id") : "");
    EXPECT(jstr(j, "networks") && strstr(jstr(j, "networks"), "127.") == NULL &&
           strstr(jstr(j, "networks"), "::1") == NULL);
    json_decref(j);
    free(body);
    json_decref(spec);
    /* the mail arrives over the window */
    bool rep = false;
    int n = 0;
    int64_t first_us = 0, dl = h_deadline(60000);
    while ((n = read_mails("Subject: =?UTF-8?B?UHJpdmF0ZSBidXllciBmb3Ig", TOK, &rep)) < NU &&
           h_poll(dl)) {
        first_us = first_us || n == 0 ? first_us : clock_now_us();
    }
    EXPECT_INT(n, NU);
    /* spread over the 3 s window (sent as each falls due), not handed over all at once */
    EXPECT(first_us > 0 && clock_now_us() - first_us >= 1500000);
    EXPECT(rep); /* a report link (and the pixel) in every mail */
    char other[NU][48];
    memset(other, 0, sizeof other);
    dl = h_deadline(30000);
    while (read_mails("Subject: =?UTF-8?B?QWN0aW9uIHJlcXVpcmVk", other, &rep) < 1 && h_poll(dl)) {
    }
    snprintf(OUTSIDE, sizeof OUTSIDE, "%s", other[13]);
    for (int i = 0; i < NU; i++) {
        EXPECT_INT(strlen(TOK[i]), 43);
    }
    EXPECT_INT(strlen(OUTSIDE), 43);
}

/* Mail scanners, at once: none of it counts. */
TEST(t_scanners_filtered)
{
    buf r;
    buf_init(&r, 1 << 20);
    char hp[100];
    snprintf(hp, sizeof hp, "/t/c/%s", TOK[19]);
    EXPECT_INT(head_req(hp), 200);
    EXPECT_INT(hit("GET", "c", TOK[18], "User-Agent: Mimecast-URL-Protect/1.0", NULL, &r), 200);
    EXPECT(strstr(buf_cstr(&r), "<form") != NULL); /* the scanner sees the same page */
    EXPECT_INT(hit("GET", "c", TOK[17], BROWSER "\nSec-Purpose: prefetch", NULL, &r), 200);
    /* a browser within the scanner window (60 s) of delivery */
    EXPECT_INT(hit("GET", "o", TOK[9], BROWSER, NULL, &r), 200);
    EXPECT_INT(hit("GET", "c", TOK[9], BROWSER, NULL, &r), 200);
    buf_free(&r);
    json_t *m = metrics(TH, C1, 200);
    json_t *t = json_object_get(m, "totals");
    EXPECT_INT(jint(t, "opened") + jint(t, "clicked"), 0);
    EXPECT_INT(jint(m, "filtered"), 5);
    json_decref(m);
}

static void *click_thread(void *arg)
{
    buf r;
    buf_init(&r, 1 << 20);
    int *st = arg;
    *st = hit("GET", "c", TOK[1], BROWSER, NULL, &r);
    buf_free(&r);
    return NULL;
}

/* Two minutes later (the server restarted with its clock moved on): people. */
TEST(t_people_counted)
{
    EXPECT_INT(h_stop(&S), 0);
    setenv("CUSTOS_CLOCK_OFFSET_S", "120", 1);
    EXPECT(h_start(&S));
    EXPECT(h_login(&S, "hr1", DEMO_PW, TH));
    buf r, r2;
    buf_init(&r, 1 << 20);
    buf_init(&r2, 1 << 20);
    for (int i = 0; i < 8; i++) { /* open: 0..7 */
        EXPECT_INT(hit("GET", "o", TOK[i], BROWSER, NULL, &r), 200);
        EXPECT(r.len > 6 && memcmp(r.p, "GIF89a", 6) == 0);
    }
    EXPECT(strstr(h_last_headers(), "sandbox allow-forms allow-scripts") != NULL);
    /* click: 0, 2, 3, 8 (8 without loading pictures); 1 from eight threads at once */
    int idx[] = {0, 2, 3, 8};
    for (size_t i = 0; i < 4; i++) {
        EXPECT_INT(hit("GET", "c", TOK[idx[i]], BROWSER, NULL, &r), 200);
        EXPECT(strstr(buf_cstr(&r), "action=\"/t/s/") != NULL);
    }
    pthread_t th[8];
    int st[8];
    for (int i = 0; i < 8; i++) {
        pthread_create(&th[i], NULL, click_thread, &st[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        EXPECT_INT(st[i], 200);
    }
    /* replays change nothing */
    EXPECT_INT(hit("GET", "c", TOK[0], BROWSER, NULL, &r), 200);
    EXPECT_INT(hit("GET", "o", TOK[0], BROWSER, NULL, &r), 200);
    /* 0 types into the landing page (a client that sends the field anyway); 3 submits empty */
    EXPECT_INT(hit("POST", "s", TOK[0], BROWSER, "username=staff01&password=" CANARY, &r), 200);
    EXPECT(strstr(buf_cstr(&r), "phishing exercise") != NULL); /* the teaching page */
    EXPECT(strstr(buf_cstr(&r), "hale-fineart-gallery.co") != NULL);
    EXPECT(strstr(buf_cstr(&r), CANARY) == NULL);
    EXPECT_INT(hit("POST", "s", TOK[3], BROWSER, "", &r), 200);
    /* report by the mail's link: 10..15 */
    for (int i = 10; i <= 15; i++) {
        EXPECT_INT(hit("GET", "r", TOK[i], BROWSER, NULL, &r), 200);
    }
    /* by the console's button: legal1 (16) with no link; hr1 (17) pastes auditor1's link */
    char tleg[64];
    EXPECT(h_login(&S, "legal1", DEMO_PW, tleg));
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "POST", "/v1/phish/report", tleg, "{}", &j), 200);
    EXPECT(json_is_true(json_object_get(j, "simulation")));
    json_decref(j);
    char lb[200];
    snprintf(lb, sizeof lb, "{\"link\":\"https://custos.example/t/c/%s\"}", TOK[18]);
    EXPECT_INT(h_json(&S, "POST", "/v1/phish/report", TH, lb, &j), 200);
    EXPECT(json_is_false(json_object_get(j, "simulation")));
    json_decref(j);
    /* guessed ids: the same pages, nothing recorded; a report looks the same either way */
    const char *guess = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    EXPECT_INT(hit("GET", "c", guess, BROWSER, NULL, &r), 200);
    EXPECT(strstr(buf_cstr(&r), "expired") != NULL);
    EXPECT_INT(hit("GET", "r", guess, BROWSER, NULL, &r), 200);
    EXPECT_INT(hit("GET", "r", TOK[10], BROWSER, NULL, &r2), 200);
    EXPECT(r.len == r2.len && memcmp(r.p, r2.p, r.len) == 0);
    EXPECT_INT(hit("GET", "o", "not-an-id", BROWSER, NULL, &r), 200);
    EXPECT_INT(hit("POST", "s", guess, BROWSER, "x=1", &r), 200);
    /* outside the second campaign's networks: a stranger holding sales2's link */
    EXPECT_INT(hit("GET", "c", OUTSIDE, BROWSER, NULL, &r), 200);
    EXPECT_INT(hit("GET", "r", OUTSIDE, BROWSER, NULL, &r), 200);
    buf_free(&r);
    buf_free(&r2);

    json_t *m = metrics(TH, C1, 200);
    json_t *t = json_object_get(m, "totals");
    EXPECT_INT(jint(t, "delivered"), 20);
    EXPECT_INT(jint(t, "opened"), 9); /* the pixel's eight, and 8 who clicked without it */
    EXPECT_INT(jint(t, "clicked"), 5);
    EXPECT_INT(jint(t, "submitted"), 1);
    EXPECT_INT(jint(t, "reported"), 7);
    EXPECT(json_real_value(json_object_get(t, "phish_prone_pct")) == 25.0);
    EXPECT(json_real_value(json_object_get(t, "report_rate_pct")) == 35.0);
    EXPECT_INT(jint(t, "repeat_clickers"), 0);
    EXPECT(jint(t, "median_report_s") >= 100 && jint(t, "median_report_s") < 600);
    EXPECT_INT(jint(m, "filtered"), 5); /* the scanners, and nothing since */
    /* per department: beijing = staff01,03,05,07,09, sales1, service1, steward1, steward3 */
    json_t *bj = json_object_get(json_object_get(m, "departments"), "beijing");
    EXPECT_INT(jint(bj, "delivered"), 9);
    EXPECT_INT(jint(bj, "clicked"), 3);  /* staff01, staff03, staff09 */
    EXPECT_INT(jint(bj, "reported"), 3); /* service1, steward1, steward3 */
    json_decref(m);
    m = metrics(TH, C2, 200);
    EXPECT_INT(jint(json_object_get(m, "totals"), "clicked"), 0);
    EXPECT_INT(jint(json_object_get(m, "totals"), "reported"), 0);
    EXPECT_INT(jint(m, "filtered"), 2);
    json_decref(m);
}

TEST(t_clickers_enrolled)
{
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/training/assignments", TH, NULL, &j), 200);
    int n = 0;
    bool who[NU] = {false};
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(j, "assignments"), i, x)
    {
        if (strcmp(jstr(x, "course"), "phishing-refresher") != 0) {
            continue;
        }
        n++;
        for (int k = 0; k < NU; k++) {
            who[k] = who[k] || strcmp(jstr(x, "target"), U[k]) == 0;
        }
    }
    json_decref(j);
    EXPECT_INT(n, 5); /* once each, the concurrent clicks included */
    EXPECT(who[0] && who[1] && who[2] && who[3] && who[8]);
    EXPECT(!who[9] && !who[13] && !who[17] && !who[18] && !who[19]);
}

TEST(t_scopes)
{
    char ts[64], tw[64], ta[64];
    EXPECT(h_login(&S, "sales1", DEMO_PW, ts));
    EXPECT(h_login(&S, "steward2", DEMO_PW, tw));
    EXPECT(h_login(&S, "auditor1", DEMO_PW, ta));
    json_t *m = metrics(ts, C1, 403);
    json_decref(m);
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/phish/campaigns", ts, NULL, &j), 403);
    json_decref(j);
    /* a steward: their department only, no address-level figures */
    m = metrics(tw, C1, 200);
    json_t *deps = json_object_get(m, "departments");
    EXPECT_INT(json_object_size(deps), 1);
    EXPECT(json_object_get(deps, "shanghai") != NULL);
    EXPECT_INT(jint(json_object_get(m, "totals"), "delivered"), 6); /* 4 staff, sales2, steward2 */
    EXPECT(json_object_get(m, "filtered") == NULL);
    json_decref(m);
    /* an employee: their own mail only */
    EXPECT_INT(h_json(&S, "GET", "/v1/phish/mine", ts, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "mails")), 2); /* the demo's and this one */
    json_decref(j);
    /* all of it audited */
    buf a;
    buf_init(&a, 1 << 22);
    EXPECT_INT(
        h_req(&S, "GET", "/v1/audit/entries?action=phish.metrics", ta, NULL, NULL, 0, &a, NULL),
        200);
    EXPECT(strstr(buf_cstr(&a), "steward2") != NULL);
    EXPECT_INT(
        h_req(&S, "GET", "/v1/audit/entries?action=phish.event", ta, NULL, NULL, 0, &a, NULL), 200);
    EXPECT(strstr(buf_cstr(&a), "event=submit") != NULL);
    buf_free(&a);
}

/* What was typed into the landing page is nowhere: vault, WAL, audit log, server log. */
TEST(t_canary_nowhere)
{
    EXPECT_INT(h_stop(&S), 0);
    unsetenv("CUSTOS_CLOCK_OFFSET_S");
    char root[600];
    snprintf(root, sizeof root, "%s/..", S.dir);
    EXPECT_INT(h_tree_contains(root, CANARY), 0);
    EXPECT(!h_file_contains(S.log, CANARY));
    EXPECT(h_tree_contains(root, "staff01") > 0); /* the search itself works */
}

int main(void)
{
    h_setup(&S, "phish");
    RUN(t_setup_and_send);
    RUN(t_scanners_filtered);
    RUN(t_people_counted);
    RUN(t_clickers_enrolled);
    RUN(t_scopes);
    RUN(t_canary_nowhere);
    mailrx_stop(&RX);
    return test_done("phish_test");
}
