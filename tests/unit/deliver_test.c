/*
 * deliver_test.c - customer notices out by e-mail to a real SMTP receiver on loopback (a small
 * one in this file, speaking plain SMTP): each customer gets one letter in their language naming
 * only their own data; the records say who, when, how and the outcome with no personal value;
 * refusals are retried with backoff and given up after NOTICE_ATTEMPTS_MAX; nothing is sent
 * without legal's approval of exactly this template and these facts; a drill mails only the
 * drill's recipients; concurrent senders mail each customer once; the SMS/post export is
 * RFC 4180 with formulas neutralised.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/smtp.h"
#include "incident/deliver.h"
#include "model/model.h"
#include "test.h"

#include "smtp_rx.h"

/* ---- the facts and templates ---- */

static char *tpl_text[PB__LANGS];
static size_t tpl_len[PB__LANGS];
static notice_tpl *tpl[PB__LANGS];
static notice_facts F[PB__LANGS];

static void setup(void)
{
    const char *files[PB__LANGS] = {"etc/notices/customer-notice.zh-CN.tpl",
                                    "etc/notices/customer-notice.en.tpl"};
    for (int l = 0; l < PB__LANGS; l++) {
        tpl_text[l] = test_slurp(files[l], &tpl_len[l]);
        EXPECT(tpl_text[l] != NULL);
        EXPECT_OK(notice_tpl_parse(files[l], tpl_text[l], tpl_len[l], &tpl[l]));
        F[l] = (notice_facts){
            .company = l == PB_ZH ? "雅藏古玩有限公司" : "Yacang Antiques Ltd.",
            .system = "Custos",
            .contact_phone = "400-800-1234",
            .contact_email = "privacy@yacang.example",
            .incident_ref = "INC-2026-0007",
            .event_type = l == PB_ZH ? "个人信息泄露" : "unauthorised access to personal data",
            .discovered_us = 1772415000LL * 1000000,
            .from_us = 1772373900LL * 1000000,
            .to_us = 1772379600LL * 1000000,
            .tz_offset_s = 28800,
            .tz_label = l == PB_ZH ? "北京时间" : "China Standard Time, UTC+8",
            .people = 3,
            .records = 7,
            .measures = l == PB_ZH ? "锁定了相关账户。" : "we locked the account.",
            .customer_steps =
                l == PB_ZH ? "不要向任何人透露验证码。" : "never tell anyone a verification code.",
        };
    }
}

static void teardown(void)
{
    for (int l = 0; l < PB__LANGS; l++) {
        notice_tpl_free(tpl[l]);
        free(tpl_text[l]);
    }
}

static notice_approval APPROVED[PB__LANGS];

static void approve_all(void)
{
    for (int l = 0; l < PB__LANGS; l++) {
        EXPECT_OK(notice_approve(&APPROVED[l], NK_CUSTOMER, (pb_lang)l, tpl_text[l], tpl_len[l],
                                 &F[l], "legal1", 1772420000LL * 1000000));
    }
}

static notice_send_req req(const notice_mailer *m, const notice_recipient *r, size_t n,
                           int64_t now_us)
{
    notice_send_req q = {.mailer = m, .r = r, .n = n, .by = "service1", .now_us = now_us};
    for (int l = 0; l < PB__LANGS; l++) {
        q.tpl[l] = tpl[l];
        q.tpl_text[l] = tpl_text[l];
        q.tpl_len[l] = tpl_len[l];
        q.approval[l] = &APPROVED[l];
        q.facts[l] = &F[l];
    }
    return q;
}

static const notice_recipient PEOPLE[] = {
    {.customer = "cus_yoshino",
     .name = "𠮷野 由美",
     .email = "yumi@mail.example",
     .phone = "+86 138 0000 0001",
     .address = "上海市黄浦区某路 1 号",
     .lang = PB_ZH,
     .fields = (1u << CF_NAME) | (1u << CF_ID_NUMBER) | (1u << CF_PHONE)},
    {.customer = "cus_chen",
     .name = "Chén Jìng",
     .email = "chen@mail.example",
     .lang = PB_EN,
     .fields = (1u << CF_NAME) | (1u << CF_EMAIL)},
    {.customer = "cus_noemail",
     .name = "=HYPERLINK(\"http://evil.example\",\"x\")",
     .phone = "-1+1",
     .address = "@SUM(1)\nline \"two\"",
     .lang = PB_ZH,
     .fields = 1u << CF_NAME},
};

/* A relay that offers no STARTTLS: a notice is not sent in clear (a network that strips
 * STARTTLS looks the same) unless the relay is on loopback and the setting allows it. */
TEST(t_tls_required)
{
    rx s;
    rx_start(&s);
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", s.port);
    notice_mailer m = {.smtp_url = url, .from = "notices@yacang.example"};
    approve_all();
    notice_outbox *o = NULL;
    EXPECT_OK(notice_outbox_new(&o));
    int64_t now = 1772421000LL * 1000000;
    notice_send_req q = req(&m, PEOPLE, 3, now);
    notice_send_stats st;
    EXPECT_OK(notice_outbox_send(o, &q, &st));
    EXPECT_INT(st.sent, 0);
    EXPECT_INT(st.failed, 2);
    notice_outbox_free(o);
    EXPECT_INT(rx_count(&s), 0);
    rx_stop(&s);
    EXPECT(smtp_url_loopback("smtp://127.0.0.1:25"));
    EXPECT(smtp_url_loopback("smtp://127.9.8.7"));
    EXPECT(smtp_url_loopback("smtp://[::1]:2525"));
    EXPECT(smtp_url_loopback("smtp://localhost:25"));
    EXPECT(!smtp_url_loopback("smtp://128.0.0.1:25"));
    EXPECT(!smtp_url_loopback("smtp://mail.example:25"));
    EXPECT(!smtp_url_loopback("smtp://127.0.0.1.evil.example:25"));
    EXPECT(!smtp_url_loopback("smtp://u@127.0.0.1:25"));
    EXPECT(!smtp_url_loopback("smtp://[::2]:25"));
}

TEST(t_send_and_records)
{
    rx s;
    rx_start(&s);
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", s.port);
    notice_mailer m = {.smtp_url = url, .from = "notices@yacang.example", .plain_loopback = true};
    approve_all();
    notice_outbox *o = NULL;
    EXPECT_OK(notice_outbox_new(&o));
    int64_t now = 1772421000LL * 1000000;
    notice_send_req q = req(&m, PEOPLE, 3, now);
    notice_send_stats st;
    EXPECT_OK(notice_outbox_send(o, &q, &st));
    EXPECT_INT(st.sent, 2);
    EXPECT_INT(st.no_address, 1);
    EXPECT_INT(st.failed, 0);
    EXPECT(wait_mails(&s, 2));
    const char *zh = rx_for(&s, "yumi@mail.example"), *en = rx_for(&s, "chen@mail.example");
    EXPECT(zh && en);
    if (zh && en) {
        EXPECT(strstr(zh, "尊敬的𠮷野 由美：") != NULL);
        EXPECT(strstr(zh, "姓名、身份证号码和手机号码") != NULL);
        EXPECT(strstr(zh, "Subject: =?UTF-8?B?") != NULL);
        EXPECT(strstr(zh, "To: <yumi@mail.example>\r\n") != NULL);
        EXPECT(strstr(zh, "chen@") == NULL);
        EXPECT(strstr(en, "Dear Chén Jìng,") != NULL);
        EXPECT(strstr(en, "viewed: name and e-mail address. No other") != NULL);
        EXPECT(strstr(en, "national ID") == NULL); /* only their own data */
        EXPECT(strstr(en, "Subject: About the security of your personal information (reference "
                          "INC-2026-0007)\r\n") != NULL);
    }
    notice_record r;
    EXPECT(notice_outbox_get(o, "cus_chen", &r));
    EXPECT_INT(r.outcome, NO_SENT);
    EXPECT_INT(r.attempts, 1);
    EXPECT_INT(r.channel, NCH_EMAIL);
    EXPECT_INT(r.lang, PB_EN);
    EXPECT_STR(r.by, "service1");
    EXPECT(r.first_us == now && r.last_us == now);
    EXPECT(notice_outbox_get(o, "cus_noemail", &r));
    EXPECT_INT(r.outcome, NO_NO_ADDRESS);
    /* the records carry no personal value */
    json_t *j = NULL;
    EXPECT_OK(notice_outbox_to_json(o, &j));
    char *dump = json_dumps(j, JSON_COMPACT);
    EXPECT(dump && strstr(dump, "mail.example") == NULL && strstr(dump, "𠮷") == NULL &&
           strstr(dump, "Chén") == NULL && strstr(dump, "HYPERLINK") == NULL);
    EXPECT(dump && strstr(dump, "\"customer\":\"cus_chen\"") != NULL);
    EXPECT(dump && strstr(dump, "\"outcome\":\"sent\"") != NULL);
    free(dump);
    /* sending again mails nobody twice */
    EXPECT_OK(notice_outbox_send(o, &q, &st));
    EXPECT_INT(st.sent, 0);
    EXPECT_INT(st.skipped, 2);
    EXPECT_INT(rx_count(&s), 2);
    /* the records survive the store */
    notice_outbox *o2 = NULL;
    EXPECT_OK(notice_outbox_new(&o2));
    EXPECT_OK(notice_outbox_from_json(o2, j, 1772421000LL * 1000000));
    EXPECT(notice_outbox_get(o2, "cus_yoshino", &r));
    EXPECT_INT(r.outcome, NO_SENT);
    EXPECT_STR(r.by, "service1");
    EXPECT_OK(notice_outbox_send(o2, &q, &st));
    EXPECT_INT(st.sent, 0);
    json_decref(j);
    /* a send claimed by another sender: left alone while fresh, retried once stale */
    notice_outbox *o3 = NULL;
    EXPECT_OK(notice_outbox_new(&o3));
    bool go[3] = {false, false, false};
    EXPECT_OK(notice_outbox_claim(o3, &q, go, &st));
    EXPECT(go[0] && go[1] && !go[2]);
    EXPECT_OK(notice_outbox_to_json(o3, &j));
    notice_outbox *o4 = NULL;
    EXPECT_OK(notice_outbox_new(&o4));
    EXPECT_OK(notice_outbox_from_json(o4, j, now + 60 * 1000000LL));
    EXPECT_OK(notice_outbox_send(o4, &q, &st));
    EXPECT_INT(st.sent, 0); /* being sent by the other */
    notice_outbox_free(o4);
    EXPECT_OK(notice_outbox_new(&o4));
    EXPECT_OK(notice_outbox_from_json(o4, j, now + (NOTICE_CLAIM_STALE_S + 1) * 1000000LL));
    EXPECT(notice_outbox_get(o4, "cus_chen", &r));
    EXPECT_INT(r.outcome, NO_FAILED);
    q.now_us = now + (NOTICE_CLAIM_STALE_S + 1) * 1000000LL;
    EXPECT_OK(notice_outbox_send(o4, &q, &st));
    EXPECT_INT(st.sent, 2);
    q.now_us = now;
    json_decref(j);
    notice_outbox_free(o4);
    notice_outbox_free(o3);
    notice_outbox_free(o2);
    notice_outbox_free(o);
    rx_stop(&s);
}

TEST(t_approval_binds_template_and_facts)
{
    rx s;
    rx_start(&s);
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", s.port);
    notice_mailer m = {.smtp_url = url, .from = "notices@yacang.example", .plain_loopback = true};
    notice_outbox *o = NULL;
    EXPECT_OK(notice_outbox_new(&o));
    notice_send_stats st;
    /* no approval at all */
    memset(APPROVED, 0, sizeof APPROVED);
    notice_send_req q = req(&m, PEOPLE, 2, 1);
    EXPECT_ERR(notice_outbox_send(o, &q, &st), ERR_PRECONDITION);
    /* approved in Chinese only, an English reader among the recipients */
    approve_all();
    memset(&APPROVED[PB_EN], 0, sizeof APPROVED[PB_EN]);
    EXPECT_ERR(notice_outbox_send(o, &q, &st), ERR_PRECONDITION);
    EXPECT_STR(err_message(),
               "the customer notice in en is not approved for this template and these facts");
    approve_all();
    /* a changed template voids the approval */
    tpl_text[PB_ZH][tpl_len[PB_ZH] - 2] ^= 1;
    EXPECT_ERR(notice_outbox_send(o, &q, &st), ERR_PRECONDITION);
    tpl_text[PB_ZH][tpl_len[PB_ZH] - 2] ^= 1;
    /* so do changed facts */
    const char *was = F[PB_EN].measures;
    F[PB_EN].measures = "we did nothing.";
    EXPECT_ERR(notice_outbox_send(o, &q, &st), ERR_PRECONDITION);
    F[PB_EN].measures = was;
    F[PB_ZH].people++;
    EXPECT_ERR(notice_outbox_send(o, &q, &st), ERR_PRECONDITION);
    F[PB_ZH].people--;
    /* an approval of another kind does not count */
    notice_approval other = APPROVED[PB_ZH];
    other.kind = NK_STATEMENT;
    q.approval[PB_ZH] = &other;
    EXPECT_ERR(notice_outbox_send(o, &q, &st), ERR_PRECONDITION);
    q.approval[PB_ZH] = &APPROVED[PB_ZH];
    EXPECT_INT(rx_count(&s), 0); /* nothing left the building */
    buf b;
    buf_init(&b, 0);
    memset(&APPROVED[PB_EN], 0, sizeof APPROVED[PB_EN]);
    EXPECT_ERR(notice_export_csv(&q, NCH_POST, &b), ERR_PRECONDITION);
    approve_all();
    /* the approval round-trips through JSON and still holds */
    json_t *j = NULL;
    EXPECT_OK(notice_approval_to_json(&APPROVED[PB_EN], &j));
    notice_approval back;
    EXPECT_OK(notice_approval_from_json(j, &back));
    EXPECT(notice_approval_holds(&back, NK_CUSTOMER, PB_EN, tpl_text[PB_EN], tpl_len[PB_EN],
                                 &F[PB_EN]));
    EXPECT_STR(back.by, "legal1");
    json_object_set_new(j, "facts_sha256", json_string("zz"));
    EXPECT_ERR(notice_approval_from_json(j, &back), ERR_INPUT);
    json_decref(j);
    EXPECT_OK(notice_outbox_send(o, &q, &st));
    EXPECT_INT(st.sent, 2);
    buf_free(&b);
    notice_outbox_free(o);
    rx_stop(&s);
}

TEST(t_retry_with_backoff)
{
    rx s;
    rx_start(&s);
    s.reject_bounce = 1;
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", s.port);
    notice_mailer m = {.smtp_url = url, .from = "notices@yacang.example", .plain_loopback = true};
    approve_all();
    notice_recipient who[2] = {PEOPLE[1], PEOPLE[0]};
    who[0].email = "bounce@mail.example";
    notice_outbox *o = NULL;
    EXPECT_OK(notice_outbox_new(&o));
    int64_t now = 1772421000LL * 1000000;
    notice_send_req q = req(&m, who, 2, now);
    notice_send_stats st;
    EXPECT_OK(notice_outbox_send(o, &q, &st));
    EXPECT_INT(st.sent, 1);
    EXPECT_INT(st.failed, 1);
    EXPECT(st.next_retry_us == now + 60 * 1000000LL);
    notice_record r;
    EXPECT(notice_outbox_get(o, "cus_chen", &r));
    EXPECT_INT(r.outcome, NO_FAILED);
    EXPECT_INT(r.attempts, 1);
    EXPECT(r.error[0] != 0 && strstr(r.error, "bounce") == NULL && strstr(r.error, "@") == NULL);
    /* retry before the backoff: nothing; after: attempt 2, backoff doubled */
    q.retry_only = true;
    q.now_us = now + 30 * 1000000LL;
    EXPECT_OK(notice_outbox_send(o, &q, &st));
    EXPECT_INT(st.failed + st.sent, 0);
    int64_t delay = 60;
    int64_t t = now;
    for (int a = 2; a <= NOTICE_ATTEMPTS_MAX; a++) {
        t += delay * 1000000LL;
        q.now_us = t;
        EXPECT_OK(notice_outbox_send(o, &q, &st));
        EXPECT_INT(st.failed, 1);
        EXPECT_INT(st.sent, 0); /* the one sent is never sent again */
        EXPECT(notice_outbox_get(o, "cus_chen", &r));
        EXPECT_INT(r.attempts, a);
        delay = delay * 2 > NOTICE_BACKOFF_MAX_S ? NOTICE_BACKOFF_MAX_S : delay * 2;
        if (a < NOTICE_ATTEMPTS_MAX) {
            EXPECT_INT(r.outcome, NO_FAILED);
            EXPECT(r.next_us == t + delay * 1000000LL);
        }
    }
    EXPECT_INT(r.outcome, NO_GAVE_UP);
    q.now_us = t + 86400LL * 1000000;
    EXPECT_OK(notice_outbox_send(o, &q, &st));
    EXPECT_INT(st.failed + st.sent, 0); /* given up: only a person's retry */
    s.reject_bounce = 0;
    q.force = true;
    EXPECT_OK(notice_outbox_send(o, &q, &st));
    EXPECT_INT(st.sent, 1);
    EXPECT(notice_outbox_get(o, "cus_chen", &r));
    EXPECT_INT(r.outcome, NO_SENT);
    EXPECT_INT(r.attempts, NOTICE_ATTEMPTS_MAX + 1);
    EXPECT(wait_mails(&s, 2));
    EXPECT_INT(rx_count(&s), 2);
    /* a mail server that is gone: failed, retried later */
    notice_outbox_free(o);
    EXPECT_OK(notice_outbox_new(&o));
    notice_mailer gone = {.smtp_url = "smtp://127.0.0.1:1", .from = "notices@yacang.example"};
    q = req(&gone, who, 1, now);
    EXPECT_OK(notice_outbox_send(o, &q, &st));
    EXPECT_INT(st.failed, 1);
    EXPECT(notice_outbox_get(o, "cus_chen", &r));
    EXPECT_INT(r.outcome, NO_FAILED);
    notice_outbox_free(o);
    rx_stop(&s);
}

TEST(t_drill_mails_only_drill_recipients)
{
    rx s;
    rx_start(&s);
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", s.port);
    const char *drill_to[2] = {"drill-cs@staff.example", "drill-legal@staff.example"};
    notice_mailer m = {.smtp_url = url,
                       .plain_loopback = true,
                       .from = "notices@yacang.example",
                       .drill = true,
                       .drill_rcpt = drill_to,
                       .ndrill = 2};
    approve_all();
    notice_outbox *o = NULL;
    EXPECT_OK(notice_outbox_new(&o));
    notice_send_req q = req(&m, PEOPLE, 3, 1772421000LL * 1000000);
    notice_send_stats st;
    EXPECT_OK(notice_outbox_send(o, &q, &st));
    EXPECT_INT(st.sent, 3); /* even the customer without an address: the drill's mail */
    EXPECT(wait_mails(&s, 3));
    for (int i = 0; i < s.mails; i++) {
        EXPECT(strstr(s.rcpt[i], "<drill-cs@staff.example>") != NULL);
        EXPECT(strstr(s.rcpt[i], "<drill-legal@staff.example>") != NULL);
        EXPECT(strstr(s.rcpt[i], "mail.example") == NULL);
        EXPECT(strstr(s.data[i], "mail.example") == NULL); /* nor in a header */
        EXPECT(strstr(s.data[i], "演练 DRILL") != NULL);
    }
    /* a drill without recipients sends nothing at all */
    notice_mailer none = m;
    none.ndrill = 0;
    notice_outbox *o2 = NULL;
    EXPECT_OK(notice_outbox_new(&o2));
    q.mailer = &none;
    EXPECT_ERR(notice_outbox_send(o2, &q, &st), ERR_PRECONDITION);
    /* nor is a drill exported for SMS or post */
    buf b;
    buf_init(&b, 0);
    q.mailer = &m;
    EXPECT_ERR(notice_export_csv(&q, NCH_SMS, &b), ERR_CONFLICT);
    EXPECT_INT(b.len, 0);
    buf_free(&b);
    EXPECT_INT(rx_count(&s), 3);
    notice_outbox_free(o2);
    notice_outbox_free(o);
    rx_stop(&s);
}

typedef struct sender {
    notice_outbox *o;
    notice_send_req q;
    notice_send_stats st;
    err e;
} sender;

static void *send_main(void *arg)
{
    sender *s = arg;
    s->e = notice_outbox_send(s->o, &s->q, &s->st);
    return NULL;
}

TEST(t_concurrent_senders_mail_each_once)
{
    rx s;
    rx_start(&s);
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", s.port);
    notice_mailer m = {.smtp_url = url, .from = "notices@yacang.example", .plain_loopback = true};
    approve_all();
    enum { N = 24 };
    notice_recipient r[N];
    char ids[N][32], mails[N][64];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "cus_%02d", i);
        snprintf(mails[i], sizeof mails[i], "c%02d@mail.example", i);
        r[i] = PEOPLE[1];
        r[i].customer = ids[i];
        r[i].email = mails[i];
    }
    notice_outbox *o = NULL;
    EXPECT_OK(notice_outbox_new(&o));
    sender a = {.o = o, .q = req(&m, r, N, 5)}, b = {.o = o, .q = req(&m, r, N, 5)};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, send_main, &a);
    pthread_create(&tb, NULL, send_main, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    EXPECT_OK(a.e);
    EXPECT_OK(b.e);
    EXPECT_INT(a.st.sent + b.st.sent, N);
    EXPECT(wait_mails(&s, N));
    EXPECT_INT(rx_count(&s), N);
    for (int i = 0; i < N; i++) {
        int seen = 0;
        char want[80];
        snprintf(want, sizeof want, "<%s>", mails[i]);
        for (int k = 0; k < s.mails; k++) {
            seen += strstr(s.rcpt[k], want) != NULL;
        }
        EXPECT_INT(seen, 1);
    }
    notice_outbox_free(o);
    rx_stop(&s);
}

/* The CSV read back by Python's csv module (an independent RFC 4180 reader). */
TEST(t_export_csv)
{
    notice_mailer m = {.smtp_url = "smtp://127.0.0.1:1", .from = "notices@yacang.example"};
    approve_all();
    notice_send_req q = req(&m, PEOPLE, 3, 1);
    buf b;
    buf_init(&b, 0);
    EXPECT_OK(notice_export_csv(&q, NCH_POST, &b));
    const char *s = buf_cstr(&b);
    EXPECT(strncmp(s, "\"customer\",\"name\",\"address\",\"lang\",\"subject\",\"text\"\r\n", 52) ==
           0);
    EXPECT(strstr(s, "\"cus_chen\"") == NULL); /* no postal address */
    EXPECT(strstr(s, "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\"") != NULL);
    EXPECT(strstr(s, "\"'@SUM(1)\nline \"\"two\"\"\"") != NULL);
    EXPECT(strstr(s, "尊敬的𠮷野 由美：") != NULL);
    char path[] = "/tmp/custos-csv-XXXXXX";
    int fd = mkstemp(path);
    EXPECT(fd >= 0 && (size_t)write(fd, b.p, b.len) == b.len);
    close(fd);
    char cmd[400];
    snprintf(
        cmd, sizeof cmd,
        "python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1],newline=\"\","
        "encoding=\"utf-8\"))); print(len(r), [len(x) for x in r], "
        "all(not c[:1] in \"=+-@\" for x in r for c in x), r[2][1], r[2][2].split(chr(10))[0])'"
        " %s",
        path);
    FILE *p = popen(cmd, "r");
    char out[1024] = "";
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = 0;
    if (p) {
        pclose(p);
    }
    EXPECT_STR(out, "3 [6, 6, 6] True '=HYPERLINK(\"http://evil.example\",\"x\") '@SUM(1)\n");
    buf_reset(&b);
    /* SMS: the phone, neutralised; the short text is the subject and the contact */
    EXPECT_OK(notice_export_csv(&q, NCH_SMS, &b));
    s = buf_cstr(&b);
    EXPECT(strstr(s, "\"'+86 138 0000 0001\"") != NULL);
    EXPECT(strstr(s, "\"'-1+1\"") != NULL);
    EXPECT(strstr(s, "尊敬的") == NULL); /* not the whole letter */
    EXPECT(strstr(s, "400-800-1234") != NULL);
    unlink(path);
    buf_free(&b);
    buf c;
    buf_init(&c, 0);
    EXPECT_OK(notice_csv_cell(&c, "a\"b"));
    EXPECT_OK(notice_csv_cell(&c, "\tx"));
    EXPECT_OK(notice_csv_cell(&c, "\rx"));
    EXPECT_OK(notice_csv_cell(&c, "plain"));
    EXPECT_STR(buf_cstr(&c), "\"a\"\"b\"\"'\tx\"\"'\rx\"\"plain\"");
    buf_free(&c);
}

TEST(t_document_formats)
{
    buf b;
    buf_init(&b, 0);
    EXPECT_OK(notice_document(NF_TEXT, "T", PB_ZH, "一\n\n二\n", 0, &b));
    EXPECT_STR(buf_cstr(&b), "一\n\n二\n");
    buf_reset(&b);
    EXPECT_OK(notice_document(NF_HTML, "T", PB_ZH, "一\n\n<二>\n", 0, &b));
    EXPECT(strstr(buf_cstr(&b), "<p>&lt;二&gt;</p>") && strstr(buf_cstr(&b), "lang=\"zh-CN\""));
    buf_reset(&b);
    EXPECT_OK(notice_document(NF_PDF, "T", PB_EN, "One\n\nTwo\n", 1, &b));
    EXPECT(b.len > 1000 && memcmp(b.p, "%PDF-", 5) == 0);
    EXPECT_INT(notice_format_parse("pdf"), NF_PDF);
    EXPECT_INT(notice_format_parse("docx"), -1);
    EXPECT_STR(notice_format_type(NF_HTML), "text/html; charset=utf-8");
    buf_free(&b);
}

/* fontconfig keeps its caches for the life of the process; they are not Custos's leaks. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\nleak:libcairo.so\nleak:libpango\nleak:libglib\nleak:"
           "libgobject\n";
}

int main(void)
{
    EXPECT_OK(mem_init());
    setup();
    RUN(t_tls_required);
    RUN(t_send_and_records);
    RUN(t_approval_binds_template_and_facts);
    RUN(t_retry_with_backoff);
    RUN(t_drill_mails_only_drill_recipients);
    RUN(t_concurrent_senders_mail_each_once);
    RUN(t_export_csv);
    RUN(t_document_formats);
    teardown();
    return test_done("deliver_test");
}
