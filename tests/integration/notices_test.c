/*
 * notices_test.c - an incident's words leave the building, end to end on the real binary: a
 * salesperson reads three customers (one named 𠮷野 由美, one without an e-mail address and
 * with cells a spreadsheet would run), security computes the scope, legal approves the
 * letters, customer service sends them to a real SMTP receiver on loopback
 * (python3-aiosmtpd), and the test reads what arrived: each customer's own letter in their
 * language, once. Previews carry a name only for a role that may read it; changed texts void
 * the approval; the records, the audit log and the errors hold no address or name; the
 * SMS/post export is CSV with formulas neutralised; the PDF's text is Chinese, not mojibake.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/test.h"
#include "core/clock.h"
#include "harness.h"
#include "mailrx.h"

static srv S;
static mailrx MX;
enum { SALES2, SERVICE1, LEGAL1, SECURITY1, STEWARD1, AUDITOR1, SALES1, STEWARD2, NTOK };
static const char *const USERS[NTOK] = {"sales2",   "service1", "legal1", "security1",
                                        "steward1", "auditor1", "sales1", "steward2"};
static char T[NTOK][64];
static char INC_ID[64], CUS[3][64];

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void write_cfg(unsigned port)
{
    char p[700];
    snprintf(p, sizeof p, "%s/notices.json", S.dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fdopen(fd, "w");
    fprintf(f,
            "{\"company\": {\"zh-CN\": \"雅藏古玩有限公司\", \"en\": \"Yacang Antiques Ltd.\"},"
            " \"system\": \"Custos\", \"contact_phone\": \"400-800-1234\","
            " \"contact_email\": \"privacy@yacang.example\","
            " \"smtp\": \"smtp://127.0.0.1:%u\", \"smtp_plain_loopback\": true,"
            " \"from\": \"notices@yacang.example\","
            " \"drill_recipients\": [\"drill@staff.example\"]}\n",
            port);
    fclose(f);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    char *t = calloc(1, 1 << 16);
    size_t n = t ? fread(t, 1, (1 << 16) - 1, f) : 0;
    (void)n;
    fclose(f);
    return t;
}

static int post(int who, const char *path, const char *body, json_t **out)
{
    return h_json(&S, "POST", path, T[who], body, out);
}

static int get_doc(int who, const char *q, buf *b)
{
    char path[400];
    snprintf(path, sizeof path, "/v1/incidents/%s/documents/%s", INC_ID, q);
    buf_reset(b);
    return h_req(&S, "GET", path, T[who], NULL, NULL, 0, b, NULL);
}

TEST(t_setup_and_breach)
{
    const char *demo[] = {"demo", S.dir, "--customers", "4", NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, demo), 0);
    buf_free(&out);
    h_quiet_guard(&S);
    char md[700];
    snprintf(md, sizeof md, "%s/../maildir", S.dir);
    EXPECT(mailrx_start(&MX, md));
    write_cfg(MX.port);
    EXPECT(h_start(&S));
    for (int i = 0; i < NTOK; i++) {
        EXPECT(h_login(&S, USERS[i], DEMO_PW, T[i]));
    }
    char t0[40];
    clock_rfc3339(clock_now_us() - 1000000, t0);
    static const char *const bodies[3] = {
        "{\"name\":\"𠮷野 由美\",\"email\":\"yumi@cust.example\",\"phone\":\"13800000001\"}",
        "{\"name\":\"Chén Jìng\",\"email\":\"chen@cust.example\"}",
        "{\"name\":\"=HYPERLINK(\\\"http://evil.example\\\")\",\"phone\":\"13800000003\","
        "\"address\":\"@SUM(1) 上海市\"}"};
    for (int i = 0; i < 3; i++) {
        json_t *j = NULL;
        EXPECT_INT(post(STEWARD2, "/v1/customers", bodies[i], &j), 201);
        snprintf(CUS[i], sizeof CUS[i], "%s", jstr(j, "id") ? jstr(j, "id") : "");
        json_decref(j);
        /* the breach: sales2 reads each of them */
        char p[120];
        snprintf(p, sizeof p, "/v1/customers/%s", CUS[i]);
        EXPECT_INT(h_json(&S, "GET", p, T[SALES2], NULL, &j), 200);
        json_decref(j);
    }
    json_t *j = NULL;
    EXPECT_INT(post(SECURITY1, "/v1/incidents", "{\"playbook\":\"customer-data-misread\"}", &j),
               201);
    snprintf(INC_ID, sizeof INC_ID, "%s", jstr(j, "id") ? jstr(j, "id") : "");
    json_decref(j);
    char p[200], body[200];
    snprintf(p, sizeof p, "/v1/incidents/%s/scope", INC_ID);
    snprintf(body, sizeof body, "{\"actors\":[\"sales2\"],\"windows\":[{\"from\":\"%s\"}]}", t0);
    EXPECT_INT(post(SECURITY1, p, body, &j), 200);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", p, T[SECURITY1], NULL, &j), 200);
    EXPECT_INT(json_integer_value(json_object_get(j, "people")), 3);
    json_decref(j);
}

TEST(t_documents_and_previews)
{
    char p[200];
    json_t *j = NULL;
    snprintf(p, sizeof p, "/v1/incidents/%s/documents", INC_ID);
    EXPECT_INT(h_json(&S, "GET", p, T[AUDITOR1], NULL, &j), 200);
    json_t *docs = json_object_get(j, "documents");
    EXPECT(json_array_size(docs) >= 10); /* every shipped template */
    EXPECT(json_is_false(json_object_get(json_array_get(docs, 0), "approved")));
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", p, T[SALES1], NULL, &j), 403); /* sales see nothing */
    json_decref(j);
    /* a draft without the teams' texts cannot be rendered: the fact is named */
    buf b;
    buf_init(&b, (size_t)8 << 20);
    EXPECT_INT(get_doc(LEGAL1, "customer-notice?lang=zh-CN&format=text", &b), 400);
    EXPECT(strstr(buf_cstr(&b), "the fact {measures} is missing") != NULL);
    snprintf(p, sizeof p, "/v1/incidents/%s/documents/texts", INC_ID);
    EXPECT_INT(post(SECURITY1, p,
                    "{\"lang\":\"zh-CN\",\"texts\":{\"measures\":\"锁定了相关账户。\","
                    "\"customer_steps\":\"不要向任何人透露验证码。\",\"harm\":\"可能被冒用。\","
                    "\"cause\":\"越权查看。\",\"impact\":\"客户信息被查看。\"}}",
                    &j),
               200);
    json_decref(j);
    EXPECT_INT(post(LEGAL1, p,
                    "{\"lang\":\"en\",\"texts\":{\"measures\":\"we locked the account.\","
                    "\"customer_steps\":\"never tell anyone a verification code.\","
                    "\"harm\":\"misuse.\"}}",
                    &j),
               200);
    json_decref(j);
    EXPECT_INT(post(SERVICE1, p, "{\"lang\":\"en\",\"texts\":{\"measures\":\"x\"}}", &j), 403);
    json_decref(j);
    EXPECT_INT(post(SECURITY1, p, "{\"lang\":\"en\",\"texts\":{\"secret\":\"x\"}}", &j), 400);
    json_decref(j);
    /* the sample letter: no one's name, marked a draft */
    EXPECT_INT(get_doc(LEGAL1, "customer-notice?lang=zh-CN&format=text", &b), 200);
    EXPECT(strstr(buf_cstr(&b), "草稿 DRAFT") != NULL);
    EXPECT(strstr(buf_cstr(&b), "尊敬的（客户姓名）：") != NULL);
    EXPECT(strstr(buf_cstr(&b), "𠮷") == NULL);
    /* one customer's letter: customer service may read the name; the others may not */
    char q[200];
    snprintf(q, sizeof q, "customer-notice?lang=zh-CN&format=text&customer=%s", CUS[0]);
    EXPECT_INT(get_doc(SERVICE1, q, &b), 200);
    EXPECT(strstr(buf_cstr(&b), "尊敬的𠮷野 由美：") != NULL);
    EXPECT(strstr(buf_cstr(&b), "yumi@") == NULL);
    EXPECT_INT(get_doc(AUDITOR1, q, &b), 403);
    EXPECT(strstr(buf_cstr(&b), "𠮷") == NULL);
    EXPECT_INT(get_doc(STEWARD1, q, &b), 404); /* another department's customer */
    EXPECT(strstr(buf_cstr(&b), "𠮷") == NULL);
    EXPECT_INT(get_doc(SALES2, q, &b), 403);
    /* HTML: escaped, with a CSP that runs nothing */
    snprintf(q, sizeof q, "customer-notice?lang=en&format=html&customer=%s", CUS[2]);
    EXPECT_INT(get_doc(SERVICE1, q, &b), 200);
    EXPECT(strstr(h_last_headers(), "text/html") != NULL);
    EXPECT(strstr(h_last_headers(), "default-src 'none'") != NULL);
    EXPECT(strstr(buf_cstr(&b), "Dear =HYPERLINK(&quot;http://evil.example&quot;),") != NULL);
    EXPECT(strstr(buf_cstr(&b), "<script") == NULL);
    /* the CAC report as PDF: its text is Chinese, not mojibake */
    EXPECT_INT(get_doc(LEGAL1, "cac-initial?lang=zh-CN&format=pdf", &b), 200);
    EXPECT(b.len > 1000 && memcmp(b.p, "%PDF-", 5) == 0);
    char path[800];
    snprintf(path, sizeof path, "%s/../cac.pdf", S.dir);
    FILE *f = fopen(path, "wb");
    fwrite(b.p, 1, b.len, f);
    fclose(f);
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 '%s' - | tr -d ' \\n'", path);
    FILE *pp = popen(cmd, "r");
    char txt[65536];
    size_t n = pp ? fread(txt, 1, sizeof txt - 1, pp) : 0;
    txt[n] = 0;
    if (pp) {
        pclose(pp);
    }
    EXPECT(strstr(txt, "网络安全事件报告") != NULL);
    EXPECT(strstr(txt, "雅藏古玩有限公司") != NULL);
    EXPECT(strstr(txt, "\xef\xbf\xbd") == NULL);
    snprintf(cmd, sizeof cmd, "pdftoppm -r 20 -f 1 -l 1 -gray '%s' '%s' && test -s '%s-1.pgm'",
             path, path, path);
    EXPECT_INT(system(cmd), 0);
    buf_free(&b);
}

typedef struct sender {
    const char *path, *body;
    int status;
    json_t *j;
} sender;

/* A request that never got an HTTP answer (status 0: the TLS connection failed under load) is
 * made again: both calls are safe to repeat (the same texts; a send claims before it mails). */
static int post_again(int who, const char *path, const char *body, json_t **out)
{
    int st = post(who, path, body, out);
    return st != 0 ? st : post(who, path, body, out);
}

static void *send_main(void *arg)
{
    sender *x = arg;
    x->status = post_again(SERVICE1, x->path, x->body, &x->j);
    return NULL;
}

typedef struct approver {
    int who;
    sender s;
} approver;

static void *approve_main(void *arg)
{
    approver *x = arg;
    x->s.status = post_again(x->who, x->s.path, x->s.body, &x->s.j);
    return NULL;
}

static void *texts_main(void *arg)
{
    sender *x = arg;
    x->status = post_again(SECURITY1, x->path, x->body, &x->j);
    return NULL;
}

/* Two writers of the texts at once, different texts: both survive. */
TEST(t_concurrent_texts)
{
    char p[200];
    snprintf(p, sizeof p, "/v1/incidents/%s/documents/texts", INC_ID);
    sender a = {.path = p,
                .body = "{\"lang\":\"zh-CN\",\"texts\":{\"cause\":\"并发写入的原因。\"}}"},
           b = {.path = p,
                .body = "{\"lang\":\"zh-CN\",\"texts\":{\"impact\":\"并发写入的影响。\"}}"};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, texts_main, &a);
    pthread_create(&tb, NULL, texts_main, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    EXPECT_INT(a.status, 200);
    EXPECT_INT(b.status, 200);
    json_decref(a.j);
    json_decref(b.j);
    buf d;
    buf_init(&d, (size_t)8 << 20);
    EXPECT_INT(get_doc(LEGAL1, "pipl-57?lang=en&format=text", &d), 404); /* no English PIPL */
    EXPECT_INT(get_doc(LEGAL1, "pipl-57?lang=zh-CN&format=text", &d), 200);
    EXPECT(strstr(buf_cstr(&d), "并发写入的原因。") != NULL);
    EXPECT_INT(get_doc(LEGAL1, "cac-initial?lang=zh-CN&format=text", &d), 200);
    EXPECT(strstr(buf_cstr(&d), "并发写入的影响。") != NULL);
    EXPECT(strstr(buf_cstr(&d), "草稿 DRAFT") != NULL);
    /* approved, the report is no longer a draft */
    snprintf(p, sizeof p, "/v1/incidents/%s/documents/cac-initial/approve", INC_ID);
    json_t *j = NULL;
    EXPECT_INT(post(LEGAL1, p, "{\"lang\":\"zh-CN\"}", &j), 200);
    json_decref(j);
    EXPECT_INT(get_doc(LEGAL1, "cac-initial?lang=zh-CN&format=text", &d), 200);
    EXPECT(strstr(buf_cstr(&d), "DRAFT") == NULL);
    EXPECT(strstr(buf_cstr(&d), "并发写入的影响。") != NULL);
    buf_free(&d);
}

TEST(t_approve_send_records)
{
    char p[200];
    json_t *j = NULL;
    snprintf(p, sizeof p, "/v1/incidents/%s/notices/send", INC_ID);
    char langs[300];
    snprintf(langs, sizeof langs, "{\"languages\":{\"%s\":\"en\"}}", CUS[1]);
    /* nothing leaves before legal approves */
    EXPECT_INT(post(SERVICE1, p, langs, &j), 412);
    json_decref(j);
    char ap[200];
    snprintf(ap, sizeof ap, "/v1/incidents/%s/documents/customer-notice/approve", INC_ID);
    EXPECT_INT(post(SERVICE1, ap, "{}", &j), 403); /* legal approves */
    json_decref(j);
    EXPECT_INT(post(LEGAL1, ap, "{}", &j), 200);
    json_decref(j);
    EXPECT_INT(post(LEGAL1, p, langs, &j), 403); /* customer service sends */
    json_decref(j);
    /* two senders at once on the same incident: each customer is mailed once */
    sender sa = {.path = p, .body = langs}, sb = {.path = p, .body = langs};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, send_main, &sa);
    pthread_create(&tb, NULL, send_main, &sb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    EXPECT_INT(sa.status, 200);
    EXPECT_INT(sb.status, 200);
    EXPECT_INT(json_integer_value(json_object_get(sa.j, "sent")) +
                   json_integer_value(json_object_get(sb.j, "sent")),
               2);
    EXPECT(json_integer_value(json_object_get(sa.j, "no_address")) +
               json_integer_value(json_object_get(sb.j, "no_address")) >=
           1);
    char *dump = json_dumps(sa.j, JSON_COMPACT);
    EXPECT(dump && strstr(dump, "cust.example") == NULL && strstr(dump, "𠮷") == NULL);
    free(dump);
    json_decref(sa.j);
    json_decref(sb.j);
    buf all;
    buf_init(&all, (size_t)8 << 20);
    EXPECT_INT(mailrx_wait(&MX, 2, 15000, &all), 2);
    const char *m = buf_cstr(&all);
    EXPECT(strstr(m, "To: <yumi@cust.example>") != NULL);
    EXPECT(strstr(m, "To: <chen@cust.example>") != NULL);
    EXPECT(strstr(m, "尊敬的𠮷野 由美：") != NULL);
    EXPECT(strstr(m, "Dear Chén Jìng,") != NULL); /* in the language asked for */
    EXPECT(strstr(m, "Subject: =?UTF-8?B?") != NULL);
    EXPECT(strstr(m, "草稿") == NULL && strstr(m, "DRAFT") == NULL);
    /* again: nobody is mailed twice */
    EXPECT_INT(post(SERVICE1, p, langs, &j), 200);
    EXPECT_INT(json_integer_value(json_object_get(j, "sent")), 0);
    json_decref(j);
    EXPECT_INT(mailrx_read(&MX, &all), 2);
    /* the records: who, how, when, outcome; no personal value; auditors read them */
    snprintf(p, sizeof p, "/v1/incidents/%s/notices", INC_ID);
    EXPECT_INT(h_json(&S, "GET", p, T[AUDITOR1], NULL, &j), 200);
    json_t *recs = json_object_get(j, "records");
    EXPECT_INT(json_array_size(recs), 3);
    int sent = 0;
    for (size_t i = 0; i < json_array_size(recs); i++) {
        json_t *r = json_array_get(recs, i);
        if (jstr(r, "outcome") && strcmp(jstr(r, "outcome"), "sent") == 0) {
            sent++;
            EXPECT_STR(jstr(r, "by"), "service1");
            EXPECT_STR(jstr(r, "channel"), "email");
            EXPECT(jstr(r, "last_at") != NULL);
            EXPECT_INT(json_integer_value(json_object_get(r, "attempts")), 1);
        }
    }
    EXPECT_INT(sent, 2);
    dump = json_dumps(j, JSON_COMPACT);
    EXPECT(dump && strstr(dump, "cust.example") == NULL && strstr(dump, "Chén") == NULL);
    free(dump);
    json_decref(j);
    /* the SMS export: the customer without e-mail, cells neutralised */
    buf b;
    buf_init(&b, (size_t)8 << 20);
    snprintf(p, sizeof p, "/v1/incidents/%s/notices/export?channel=post", INC_ID);
    buf_reset(&b);
    /* a second person first: a data steward or legal (not the exporter) approves the export
     * of this incident's scope for this channel */
    EXPECT_INT(h_req(&S, "GET", p, T[SERVICE1], NULL, NULL, 0, &b, NULL), 412);
    EXPECT(strstr(buf_cstr(&b), "13800000003") == NULL && strstr(buf_cstr(&b), "上海市") == NULL);
    char xa[200];
    snprintf(xa, sizeof xa, "/v1/incidents/%s/notices/export/approve", INC_ID);
    EXPECT_INT(post(SERVICE1, xa, "{\"channel\":\"post\"}", &j), 403); /* not their own */
    json_decref(j);
    EXPECT_INT(post(SALES1, xa, "{\"channel\":\"post\"}", &j), 403);
    json_decref(j);
    EXPECT_INT(post(LEGAL1, xa, "{\"channel\":\"fax\"}", &j), 400);
    json_decref(j);
    EXPECT_INT(post(LEGAL1, xa, "{\"channel\":\"post\"}", &j), 200);
    EXPECT_STR(jstr(j, "approved_by"), "legal1");
    json_decref(j);
    /* approved for post only: the SMS export still waits */
    char xs[200];
    snprintf(xs, sizeof xs, "/v1/incidents/%s/notices/export?channel=sms", INC_ID);
    buf_reset(&b);
    EXPECT_INT(h_req(&S, "GET", xs, T[SERVICE1], NULL, NULL, 0, &b, NULL), 412);
    buf_reset(&b);
    EXPECT_INT(h_req(&S, "GET", p, T[SERVICE1], NULL, NULL, 0, &b, NULL), 200);
    EXPECT(strstr(h_last_headers(), "text/csv") != NULL);
    EXPECT(strstr(buf_cstr(&b), "\"'=HYPERLINK(\"\"http://evil.example\"\")\"") != NULL);
    EXPECT(strstr(buf_cstr(&b), "\"'@SUM(1) 上海市\"") != NULL);
    buf_reset(&b);
    EXPECT_INT(h_req(&S, "GET", p, T[AUDITOR1], NULL, NULL, 0, &b, NULL), 403);
    /* the policy per customer and field: addresses masked for customer service, phones not
     * readable at all; then the export is masked, or refused */
    char *pol = read_file("etc/policy.conf");
    static const char line[] = "grant customer_service read, request on identity, contact\n";
    char *at = pol ? strstr(pol, line) : NULL;
    EXPECT(at != NULL);
    if (at) {
        char pp[700];
        snprintf(pp, sizeof pp, "%s/policy.conf", S.dir);
        FILE *pf = fopen(pp, "w");
        fprintf(pf,
                "%.*sgrant customer_service read, request on identity, contact.email\n"
                "grant customer_service read on contact.address masked\n%s",
                (int)(at - pol), pol, at + sizeof line - 1);
        fclose(pf);
        EXPECT_INT(post(SECURITY1, "/v1/policy/reload", "{}", &j), 200);
        json_decref(j);
        buf_reset(&b);
        EXPECT_INT(h_req(&S, "GET", p, T[SERVICE1], NULL, NULL, 0, &b, NULL), 200);
        EXPECT(strstr(buf_cstr(&b), CUS[2]) != NULL);
        EXPECT(strstr(buf_cstr(&b), "上海市") == NULL && strstr(buf_cstr(&b), "SUM") == NULL);
        EXPECT_INT(post(STEWARD1, xa, "{\"channel\":\"sms\"}", &j), 200);
        json_decref(j);
        buf_reset(&b);
        EXPECT_INT(h_req(&S, "GET", xs, T[SERVICE1], NULL, NULL, 0, &b, NULL), 403);
        EXPECT(strstr(buf_cstr(&b), "13800000003") == NULL);
        pf = fopen(pp, "w");
        fputs(pol, pf);
        fclose(pf);
        EXPECT_INT(post(SECURITY1, "/v1/policy/reload", "{}", &j), 200);
        json_decref(j);
        buf_reset(&b);
        EXPECT_INT(h_req(&S, "GET", xs, T[SERVICE1], NULL, NULL, 0, &b, NULL), 200);
        EXPECT(strstr(buf_cstr(&b), "13800000003") != NULL);
    }
    free(pol);
    /* changed texts void the approval: nothing more is sent or exported */
    snprintf(p, sizeof p, "/v1/incidents/%s/documents/texts", INC_ID);
    EXPECT_INT(
        post(SECURITY1, p, "{\"lang\":\"zh-CN\",\"texts\":{\"measures\":\"另一说法。\"}}", &j),
        200);
    bool voided = false;
    json_t *d;
    size_t i;
    json_array_foreach(json_object_get(j, "documents"), i, d)
    {
        if (strcmp(jstr(d, "kind"), "customer-notice") == 0 &&
            strcmp(jstr(d, "lang"), "zh-CN") == 0) {
            voided = json_is_false(json_object_get(d, "approved"));
        }
    }
    EXPECT(voided);
    json_decref(j);
    snprintf(p, sizeof p, "/v1/incidents/%s/notices/export?channel=sms", INC_ID);
    buf_reset(&b);
    EXPECT_INT(h_req(&S, "GET", p, T[SERVICE1], NULL, NULL, 0, &b, NULL), 412);
    /* the audit log tells who did what, with no address or name */
    buf_reset(&b);
    EXPECT_INT(h_req(&S, "GET", "/v1/audit/entries?action=incident.notify", T[AUDITOR1], NULL, NULL,
                     0, &b, NULL),
               200);
    EXPECT(strstr(buf_cstr(&b), "sent=2") != NULL);
    EXPECT_INT(
        h_req(&S, "GET", "/v1/audit/entries?limit=500", T[AUDITOR1], NULL, NULL, 0, &b, NULL), 200);
    EXPECT(strstr(buf_cstr(&b), "cust.example") == NULL);
    EXPECT(strstr(buf_cstr(&b), "𠮷") == NULL);
    EXPECT(strstr(buf_cstr(&b), "incident.approve") != NULL);
    /* the export's audit entry names the customers and fields handed out, so a later scope
     * of the exporter shows them exposed */
    buf_reset(&b);
    EXPECT_INT(h_req(&S, "GET", "/v1/audit/entries?action=incident.notices.export", T[AUDITOR1],
                     NULL, NULL, 0, &b, NULL),
               200);
    json_t *au = json_loads(buf_cstr(&b), 0, NULL);
    bool named = false;
    json_t *en;
    json_array_foreach(json_object_get(au, "entries"), i, en)
    {
        en = json_object_get(en, "decoded");
        const char *cs = jstr(en, "customers"), *fs = jstr(en, "fields");
        named =
            named || (jstr(en, "decision") && strcmp(jstr(en, "decision"), "allow") == 0 && cs &&
                      strstr(cs, CUS[2]) && fs && strstr(fs, "name") && strstr(fs, "address"));
    }
    EXPECT(named);
    json_decref(au);
    char sp[200];
    snprintf(sp, sizeof sp, "/v1/incidents/%s/scope", INC_ID);
    char sb2[200];
    snprintf(sb2, sizeof sb2, "{\"actors\":[\"service1\"]}");
    EXPECT_INT(post(SECURITY1, sp, sb2, &j), 200);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", sp, T[SECURITY1], NULL, &j), 200);
    dump = json_dumps(j, JSON_COMPACT);
    EXPECT(dump && strstr(dump, CUS[2]) != NULL && strstr(dump, "address") != NULL);
    free(dump);
    json_decref(j);
    /* the new scope voided the export approvals; two at once on the same incident (legal for
     * SMS, a steward for post): neither is lost */
    buf_reset(&b);
    EXPECT_INT(post(LEGAL1, ap, "{}", &j), 200);
    json_decref(j);
    EXPECT_INT(h_req(&S, "GET", xs, T[SERVICE1], NULL, NULL, 0, &b, NULL), 412);
    approver a1 = {LEGAL1, {.path = xa, .body = "{\"channel\":\"sms\"}"}},
             a2 = {STEWARD1, {.path = xa, .body = "{\"channel\":\"post\"}"}};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, approve_main, &a1);
    pthread_create(&t2, NULL, approve_main, &a2);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    EXPECT_INT(a1.s.status, 200);
    EXPECT_INT(a2.s.status, 200);
    json_decref(a1.s.j);
    json_decref(a2.s.j);
    buf_reset(&b);
    EXPECT_INT(h_req(&S, "GET", xs, T[SERVICE1], NULL, NULL, 0, &b, NULL), 200);
    snprintf(p, sizeof p, "/v1/incidents/%s/notices/export?channel=post", INC_ID);
    buf_reset(&b);
    EXPECT_INT(h_req(&S, "GET", p, T[SERVICE1], NULL, NULL, 0, &b, NULL), 200);
    EXPECT(!h_file_contains(S.log, "cust.example"));
    buf_free(&b);
    buf_free(&all);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    h_setup(&S, "notices");
    RUN(t_setup_and_breach);
    RUN(t_documents_and_previews);
    RUN(t_concurrent_texts);
    RUN(t_approve_send_records);
    mailrx_stop(&MX);
    if (S.pid) {
        EXPECT_INT(h_stop(&S), 0);
    }
    return test_done("notices_test");
}
