/*
 * notice_test.c - breach-response documents: the shipped templates carry every item their law
 * asks for, render exactly as the golden files (in both languages, a name in a rare script, a
 * customer whose data was only partly exposed), and bad templates or missing facts are refused.
 * CUSTOS_UPDATE_GOLDEN=1 rewrites the golden files (then read them before committing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "incident/notice.h"
#include "incident/pdf.h"
#include "model/model.h"
#include "test.h"

static notice_tpl *load(const char *file)
{
    char path[256];
    snprintf(path, sizeof path, "etc/notices/%s", file);
    size_t n;
    char *text = test_slurp(path, &n);
    EXPECT(text != NULL);
    if (!text) {
        return NULL;
    }
    notice_tpl *t = NULL;
    EXPECT_OK(notice_tpl_parse(file, text, n, &t));
    free(text);
    return t;
}

/* 2026-03-02 01:30 UTC = 09:30 Beijing; window 2026-03-01 22:05 .. 23:40 Beijing. */
static notice_facts facts(pb_lang l)
{
    notice_facts f = {
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
        .people = 1200345,
        .records = 3604,
        .fields = (1u << CF_NAME) | (1u << CF_PHONE) | (1u << CF_ID_NUMBER),
        .categories = (1u << CAT_IDENTITY) | (1u << CAT_CONTACT) | (1u << CAT_TRANSACTIONS),
        .measures = l == PB_ZH ? "锁定了相关账户，撤销了其全部会话，并封禁了来源地址。"
                               : "we locked the account, ended all its sessions and blocked "
                                 "the address it came from.",
        .impact = "客户信息被查看，未发现被进一步传播。",
        .cause = "一名员工的账户密码被钓鱼邮件窃取。",
        .handling = "发现后 12 分钟内锁定账户并封禁地址，随后完成范围核查和证据固定。",
        .harm = l == PB_ZH ? "可能被用于冒充本公司进行电话诈骗。"
                           : "the information could be used for fraudulent calls in our name.",
        .accountability = "对相关流程负责人进行了约谈。",
        .remediation = "全员完成防钓鱼复训；所有读取客户数据的角色启用第二因素。",
        .lessons = "钓鱼邮件识别培训需要更多实战演练。",
        .customer_steps = l == PB_ZH ? "不要向任何人透露验证码；谨慎对待陌生来电。"
                                     : "never tell anyone a verification code; be careful with "
                                       "calls from strangers.",
    };
    return f;
}

static void golden(const char *name, const buf *got)
{
    char path[256];
    snprintf(path, sizeof path, "tests/golden/notices/%s", name);
    if (getenv("CUSTOS_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "wb");
        fwrite(got->p, 1, got->len, f);
        fclose(f);
    }
    size_t n;
    char *want = test_slurp(path, &n);
    EXPECT(want != NULL);
    if (want) {
        EXPECT(n == got->len && memcmp(want, got->p, n) == 0);
        if (n != got->len || memcmp(want, got->p, n) != 0) {
            printf("  differs from %s:\n%.*s\n", path, (int)got->len, (const char *)got->p);
        }
    }
    free(want);
}

static void render_golden(const char *tpl, const notice_person *p, const char *out)
{
    notice_tpl *t = load(tpl);
    if (!t) {
        return;
    }
    notice_facts f = facts(notice_tpl_lang(t));
    buf b;
    buf_init(&b, 0);
    EXPECT_OK(notice_render(t, &f, p, &b));
    golden(out, &b);
    buf_free(&b);
    notice_tpl_free(t);
}

TEST(t_customer_letters)
{
    /* A name with a character outside the BMP, shown exactly; ID number, phone and purchases
     * exposed, so the three conditional paragraphs appear. */
    notice_person full = {.name = "𠮷野 由美",
                          .fields = (1u << CF_NAME) | (1u << CF_ID_NUMBER) | (1u << CF_PHONE),
                          .categories = 1u << CAT_TRANSACTIONS};
    /* Only the name and the e-mail address: no paragraph about ID, phone or purchases. */
    notice_person part = {.name = "Chén Jìng", .fields = (1u << CF_NAME) | (1u << CF_EMAIL)};
    render_golden("customer-notice.zh-CN.tpl", &full, "customer-full.zh-CN.txt");
    render_golden("customer-notice.en.tpl", &full, "customer-full.en.txt");
    render_golden("customer-notice.zh-CN.tpl", &part, "customer-partial.zh-CN.txt");
    render_golden("customer-notice.en.tpl", &part, "customer-partial.en.txt");
    /* GDPR Art. 34: the same letter to a person in Europe. */
    render_golden("gdpr-34.en.tpl", &full, "gdpr34-full.en.txt");
    render_golden("gdpr-34.zh-CN.tpl", &full, "gdpr34-full.zh-CN.txt");
    render_golden("gdpr-34.en.tpl", &part, "gdpr34-partial.en.txt");
    render_golden("gdpr-34.zh-CN.tpl", &part, "gdpr34-partial.zh-CN.txt");
    /* The letters as HTML pages. */
    const char *html_cases[][3] = {
        {"customer-notice.zh-CN.tpl", "zh-CN", "customer-full.zh-CN.html"},
        {"customer-notice.en.tpl", "en", "customer-full.en.html"}};
    for (size_t i = 0; i < 2; i++) {
        notice_tpl *t = load(html_cases[i][0]);
        if (!t) {
            continue;
        }
        notice_facts f = facts(notice_tpl_lang(t));
        buf b, h;
        buf_init(&b, 0);
        buf_init(&h, 0);
        EXPECT_OK(notice_render(t, &f, &full, &b));
        EXPECT_OK(notice_html("INC-2026-0007", html_cases[i][1], buf_cstr(&b), &h));
        golden(html_cases[i][2], &h);
        buf_free(&b);
        buf_free(&h);
        notice_tpl_free(t);
    }
}

/* A name or a fact that carries markup is text in the HTML page, and the page runs nothing. */
TEST(t_html_is_inert)
{
    buf h;
    buf_init(&h, 0);
    EXPECT_OK(notice_html("<script>alert(1)</script>", "en",
                          "Dear <img src=x onerror=alert(1)> & \"Co\" 'x',\nline two\n\n"
                          "second <b>para</b>\n",
                          &h));
    const char *s = buf_cstr(&h);
    EXPECT(strstr(s, "<script") == NULL);
    EXPECT(strstr(s, "<img") == NULL);
    EXPECT(strstr(s, "<b>") == NULL);
    EXPECT(strstr(s, " style") == NULL);
    EXPECT(strstr(s, "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>") != NULL);
    EXPECT(strstr(s, "<h1>Dear &lt;img src=x onerror=alert(1)&gt; &amp; &quot;Co&quot; &#39;x&#39;,"
                     "<br>\nline two</h1>\n<p>second &lt;b&gt;para&lt;/b&gt;</p>\n") != NULL);
    EXPECT(strstr(s, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                     "base-uri 'none'; form-action 'none'\">") != NULL);
    EXPECT(strstr(s, "<html lang=\"en\">") != NULL);
    buf_reset(&h);
    EXPECT_ERR(notice_html("t", "en\"><script>", "x", &h), ERR_INPUT);
    EXPECT_ERR(notice_html("t", "en", "bad \xe4\xb8", &h), ERR_INPUT);
    buf_free(&h);
}

TEST(t_partial_names_only_what_was_exposed)
{
    notice_tpl *t = load("customer-notice.en.tpl");
    if (!t) {
        return;
    }
    notice_facts f = facts(PB_EN);
    notice_person part = {.name = "Chén Jìng", .fields = (1u << CF_NAME) | (1u << CF_EMAIL)};
    buf b;
    buf_init(&b, 0);
    EXPECT_OK(notice_render(t, &f, &part, &b));
    const char *s = buf_cstr(&b);
    EXPECT(strstr(s, "viewed: name and e-mail address. No other") != NULL);
    EXPECT(strstr(s, "national ID") == NULL);
    EXPECT(strstr(s, "phone number") == NULL);
    EXPECT(strstr(s, "purchase records") == NULL);
    EXPECT(strstr(s, "Dear Chén Jìng,") != NULL);
    /* The vault's zone and the language's convention. */
    EXPECT(strstr(s, "between 1 March 2026, 22:05 (China Standard Time, UTC+8) and 1 March "
                     "2026, 23:40") != NULL);
    EXPECT(strstr(s, "found it on 2 March 2026, 09:30") != NULL);
    buf_free(&b);
    notice_tpl_free(t);
}

/* Every shipped template renders, and its output carries each required item's text. */
TEST(t_items_per_law)
{
    static const char *const files[] = {
        "customer-notice.zh-CN.tpl", "customer-notice.en.tpl", "cac-initial.zh-CN.tpl",
        "cac-summary.zh-CN.tpl",     "pipl-57.zh-CN.tpl",      "gdpr-33.en.tpl",
        "statement.zh-CN.tpl",       "statement.en.tpl",       "gdpr-34.en.tpl",
        "gdpr-34.zh-CN.tpl"};
    bool kind_seen[NK__COUNT] = {0};
    notice_person who = {.name = "王小明", .fields = 1u << CF_NAME};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        notice_tpl *t = load(files[i]);
        if (!t) {
            continue;
        }
        kind_seen[notice_tpl_kind(t)] = true;
        notice_facts f = facts(notice_tpl_lang(t));
        buf b;
        buf_init(&b, 0);
        EXPECT_OK(notice_render(t, &f, &who, &b));
        const char *s = buf_cstr(&b);
        EXPECT(strchr(s, '{') == NULL && strchr(s, '}') == NULL); /* no hole left */
        if (notice_tpl_kind(t) == NK_CAC_INITIAL) {
            EXPECT(strstr(s, "较大网络安全事件") != NULL); /* 1,200,345 people */
            EXPECT(strstr(s, "身份信息、联系方式和交易记录") != NULL);
            EXPECT(strstr(s, "2026年3月2日 09:30（北京时间）") != NULL);
        }
        if (notice_tpl_kind(t) == NK_GDPR_33) {
            EXPECT(strstr(s, "data subjects concerned: 1200345") != NULL);
            EXPECT(strstr(s, "records concerned: 3604") != NULL);
        }
        buf_free(&b);
        notice_tpl_free(t);
    }
    for (int k = 0; k < NK__COUNT; k++) {
        EXPECT(kind_seen[k]);
        EXPECT(notice_required((notice_kind)k)[0].section != NULL);
    }
}

TEST(t_grades)
{
    EXPECT_INT(notice_cac_grade(0), 0);
    EXPECT_INT(notice_cac_grade(999999), 0);
    EXPECT_INT(notice_cac_grade(1000000), 1);
    EXPECT_INT(notice_cac_grade(9999999), 1);
    EXPECT_INT(notice_cac_grade(10000000), 2);
    EXPECT_INT(notice_cac_grade(100000000), 3);
    EXPECT_STR(notice_cac_grade_name(2, PB_EN), "major incident");
}

static void refused(const char *text, const char *want)
{
    notice_tpl *sentinel = (notice_tpl *)(uintptr_t)1, *t = sentinel;
    err e = notice_tpl_parse("t.tpl", text, strlen(text), &t);
    EXPECT_ERR(e, ERR_INPUT);
    EXPECT(t == sentinel);
    if (e == ERR_INPUT) {
        EXPECT_STR(err_message(), want);
    }
}

#define STMT_HEAD "template 1\nkind statement\nlang en\n"
#define STMT_BODY                                                                                  \
    "section headline\nH\nsection what-happened\nW\nsection measures-taken\nM\nsection "           \
    "customers\nC\nsection contact\n{contact_phone}\n"

TEST(t_template_errors)
{
    notice_tpl *t = NULL;
    EXPECT_OK(notice_tpl_parse("t.tpl", STMT_HEAD STMT_BODY, strlen(STMT_HEAD STMT_BODY), &t));
    notice_tpl_free(t);
    refused("", "t.tpl: empty template (it begins with 'template 1')");
    refused("kind statement\n", "t.tpl:1: a template begins with 'template 1'");
    refused("template 2\n", "t.tpl:1: unknown template format version '2' (this Custos reads 1)");
    refused("template 1\nkind memo\n",
            "t.tpl:2: unknown kind 'memo' (customer-notice, cac-initial, cac-summary, pipl-57, "
            "gdpr-33, statement, gdpr-34)");
    refused("template 1\nlang fr\n", "t.tpl:2: unknown language 'fr' (zh-CN, en)");
    refused("template 1\nkind statement\nkind statement\n", "t.tpl:3: 'kind' given twice");
    refused("template 1\nsection a\n", "t.tpl:2: 'kind' and 'lang' come before the first section");
    refused(STMT_HEAD "section headline\nH\n",
            "t.tpl: a statement needs section 'what-happened' (what happened, verified facts "
            "only)");
    refused(STMT_HEAD STMT_BODY "section extra\n{secret}\n",
            "t.tpl:15: unknown placeholder '{secret}'");
    refused(STMT_HEAD STMT_BODY "section extra\n{customer.name}\n",
            "t.tpl:15: {customer.name} belongs in a customer notice only");
    refused(STMT_HEAD STMT_BODY "section extra\nopen { brace\n",
            "t.tpl:15: a '{' without its '}' (write '{{' for a brace)");
    refused(STMT_HEAD STMT_BODY "section extra\nlone } brace\n",
            "t.tpl:15: a lone '}' (write '}}' for a brace)");
    refused(STMT_HEAD STMT_BODY "section headline\nagain\n",
            "t.tpl:14: section 'headline' given twice (line 4)");
    refused(STMT_HEAD STMT_BODY "section extra\n\n\n", "t.tpl:14: section 'extra' is empty");
    refused(STMT_HEAD STMT_BODY "section extra when id_number\nx\n",
            "t.tpl:14: 'when' belongs in a customer notice only");
    refused("template 1\nkind customer-notice\nlang en\nsection x when shoe_size\ny\n",
            "t.tpl:4: 'when shoe_size': not a customer field or category");
    refused(STMT_HEAD "section Head\nx\n",
            "t.tpl:4: a section name is 1 to 39 characters of a-z 0-9 -");
    refused(STMT_HEAD "section a\nbad \x01 byte\n", "t.tpl:5: control character 0x01");
    refused(STMT_HEAD "section a\n\xe4\xb8\n", "t.tpl:5: not valid UTF-8");
}

TEST(t_missing_facts_are_refused)
{
    notice_tpl *t = NULL;
    const char *text = STMT_HEAD STMT_BODY "section b\nbraces {{kept}} and {company}\n";
    EXPECT_OK(notice_tpl_parse("t.tpl", text, strlen(text), &t));
    if (!t) {
        return;
    }
    notice_facts f = facts(PB_EN);
    buf b;
    buf_init(&b, 0);
    EXPECT_OK(notice_render(t, &f, NULL, &b));
    EXPECT(strstr(buf_cstr(&b), "braces {kept} and Yacang Antiques Ltd.\n") != NULL);
    buf_reset(&b);
    f.contact_phone = NULL;
    EXPECT_ERR(notice_render(t, &f, NULL, &b), ERR_INPUT);
    EXPECT_STR(err_message(), "the fact {contact_phone} is missing");
    buf_free(&b);
    notice_tpl_free(t);
    /* A customer letter with nobody, or with nothing exposed, is refused. */
    notice_tpl *c = load("customer-notice.en.tpl");
    if (c) {
        notice_person none = {.name = "A"};
        buf_init(&b, 0);
        EXPECT_ERR(notice_render(c, &f, NULL, &b), ERR_INPUT);
        EXPECT_ERR(notice_render(c, &f, &none, &b), ERR_INPUT);
        buf_free(&b);
        notice_tpl_free(c);
    }
}

/* ---- the items each law asks for, in every document and every format ---- */

typedef enum mark {
    M_TEXT, /* the fixed words given */
    M_INCIDENT,
    M_COMPANY,
    M_DISCOVERED,
    M_EVENT,
    M_GRADE,
    M_IMPACT,
    M_MEASURES,
    M_CONTACT, /* phone and e-mail */
    M_CAUSE,
    M_HANDLING,
    M_HARM,
    M_ACCOUNTABILITY,
    M_REMEDIATION,
    M_LESSONS,
    M_CATEGORIES,
    M_PEOPLE,
    M_EXPOSED,
    M_STEPS,
} mark;

/* For each kind and each section notice_required names: what the section must say (a fact, or
 * fixed words in each language), so a section cannot be present and empty of its item. */
static const struct law_item {
    notice_kind kind;
    const char *section;
    mark m;
    const char *zh, *en;
} LAW_ITEMS[] = {
    {NK_CUSTOMER, "subject", M_INCIDENT, 0, 0},
    {NK_CUSTOMER, "what-happened", M_TEXT, "未经授权", "without authorisation"},
    {NK_CUSTOMER, "when", M_DISCOVERED, 0, 0},
    {NK_CUSTOMER, "your-data", M_EXPOSED, 0, 0},
    {NK_CUSTOMER, "possible-harm", M_TEXT, "冒充", "pretending"},
    {NK_CUSTOMER, "measures-taken", M_MEASURES, 0, 0},
    {NK_CUSTOMER, "what-you-can-do", M_STEPS, 0, 0},
    {NK_CUSTOMER, "contact", M_CONTACT, 0, 0},
    {NK_CAC_INITIAL, "organisation", M_COMPANY, 0, 0},
    {NK_CAC_INITIAL, "discovered", M_DISCOVERED, 0, 0},
    {NK_CAC_INITIAL, "event-type", M_EVENT, 0, 0},
    {NK_CAC_INITIAL, "grade", M_GRADE, 0, 0},
    {NK_CAC_INITIAL, "impact", M_IMPACT, 0, 0},
    {NK_CAC_INITIAL, "measures-taken", M_MEASURES, 0, 0},
    {NK_CAC_INITIAL, "next-steps", M_TEXT, "30 日内", "30 days"},
    {NK_CAC_INITIAL, "contact", M_CONTACT, 0, 0},
    {NK_CAC_SUMMARY, "cause", M_CAUSE, 0, 0},
    {NK_CAC_SUMMARY, "handling", M_HANDLING, 0, 0},
    {NK_CAC_SUMMARY, "harm", M_HARM, 0, 0},
    {NK_CAC_SUMMARY, "accountability", M_ACCOUNTABILITY, 0, 0},
    {NK_CAC_SUMMARY, "remediation", M_REMEDIATION, 0, 0},
    {NK_CAC_SUMMARY, "lessons", M_LESSONS, 0, 0},
    {NK_PIPL_57, "categories", M_CATEGORIES, 0, 0},
    {NK_PIPL_57, "cause", M_CAUSE, 0, 0},
    {NK_PIPL_57, "possible-harm", M_HARM, 0, 0},
    {NK_PIPL_57, "measures-taken", M_MEASURES, 0, 0},
    {NK_PIPL_57, "what-people-can-do", M_STEPS, 0, 0},
    {NK_PIPL_57, "contact", M_CONTACT, 0, 0},
    {NK_GDPR_33, "nature", M_PEOPLE, 0, 0},
    {NK_GDPR_33, "contact", M_CONTACT, 0, 0},
    {NK_GDPR_33, "consequences", M_HARM, 0, 0},
    {NK_GDPR_33, "measures-taken", M_MEASURES, 0, 0},
    {NK_GDPR_33, "timing", M_DISCOVERED, 0, 0},
    {NK_STATEMENT, "headline", M_TEXT, "安全事件", "security incident"},
    {NK_STATEMENT, "what-happened", M_DISCOVERED, 0, 0},
    {NK_STATEMENT, "measures-taken", M_MEASURES, 0, 0},
    {NK_STATEMENT, "customers", M_TEXT, "告知", "contacting each customer"},
    {NK_STATEMENT, "contact", M_CONTACT, 0, 0},
    {NK_GDPR_34, "subject", M_INCIDENT, 0, 0},
    {NK_GDPR_34, "nature", M_DISCOVERED, 0, 0},
    {NK_GDPR_34, "your-data", M_EXPOSED, 0, 0},
    {NK_GDPR_34, "consequences", M_TEXT, "冒充", "pretending"},
    {NK_GDPR_34, "measures-taken", M_MEASURES, 0, 0},
    {NK_GDPR_34, "what-you-can-do", M_STEPS, 0, 0},
    {NK_GDPR_34, "contact", M_CONTACT, 0, 0},
};

static const struct law_item *law_item(notice_kind k, const char *section)
{
    for (size_t i = 0; i < sizeof LAW_ITEMS / sizeof LAW_ITEMS[0]; i++) {
        if (LAW_ITEMS[i].kind == k && strcmp(LAW_ITEMS[i].section, section) == 0) {
            return &LAW_ITEMS[i];
        }
    }
    return NULL;
}

/* The strings a section carrying item it must contain (up to two). */
static void marks(const struct law_item *it, const notice_facts *f, pb_lang l, const char *out[2])
{
    static char people[32];
    out[1] = NULL;
    switch (it->m) {
    case M_TEXT:
        out[0] = l == PB_ZH ? it->zh : it->en;
        break;
    case M_INCIDENT:
        out[0] = f->incident_ref;
        break;
    case M_COMPANY:
        out[0] = f->company;
        break;
    case M_DISCOVERED:
        out[0] = l == PB_ZH ? "2026年3月2日 09:30（北京时间）"
                            : "2 March 2026, 09:30 (China Standard Time, UTC+8)";
        break;
    case M_EVENT:
        out[0] = f->event_type;
        break;
    case M_GRADE:
        out[0] = notice_cac_grade_name(notice_cac_grade(f->people), l);
        break;
    case M_IMPACT:
        out[0] = f->impact;
        break;
    case M_MEASURES:
        out[0] = f->measures;
        break;
    case M_CONTACT:
        out[0] = f->contact_phone;
        out[1] = f->contact_email;
        break;
    case M_CAUSE:
        out[0] = f->cause;
        break;
    case M_HANDLING:
        out[0] = f->handling;
        break;
    case M_HARM:
        out[0] = f->harm;
        break;
    case M_ACCOUNTABILITY:
        out[0] = f->accountability;
        break;
    case M_REMEDIATION:
        out[0] = f->remediation;
        break;
    case M_LESSONS:
        out[0] = f->lessons;
        break;
    case M_CATEGORIES:
        out[0] = l == PB_ZH ? "身份信息、联系方式和交易记录"
                            : "identity, contact details and transaction records";
        break;
    case M_PEOPLE:
        snprintf(people, sizeof people, "%lld", (long long)f->people);
        out[0] = people;
        break;
    case M_EXPOSED: /* the person below: name and phone */
        out[0] = l == PB_ZH ? "姓名和手机号码" : "name and phone number";
        break;
    case M_STEPS:
        out[0] = f->customer_steps;
        break;
    }
}

static void squeeze(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r != ' ' && *r != '\n' && *r != '\f' && *r != '\r') {
            *w++ = *r;
        }
    }
    *w = 0;
}

static void html_escape(const char *s, buf *out)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            EXPECT_OK(buf_append_str(out, "&amp;"));
            break;
        case '<':
            EXPECT_OK(buf_append_str(out, "&lt;"));
            break;
        case '>':
            EXPECT_OK(buf_append_str(out, "&gt;"));
            break;
        case '"':
            EXPECT_OK(buf_append_str(out, "&quot;"));
            break;
        case '\'':
            EXPECT_OK(buf_append_str(out, "&#39;"));
            break;
        case '\n':
            EXPECT_OK(buf_append_str(out, "<br>\n"));
            break;
        default:
            EXPECT_OK(buf_append_byte(out, (uint8_t)*s));
        }
    }
}

/* The text of a PDF (pdftotext), without spaces, line breaks and the page feet. */
static char *pdf_text(const buf *pdf, const char *title)
{
    char path[] = "/tmp/custos-notice-XXXXXX";
    int fd = mkstemp(path);
    EXPECT(fd >= 0);
    if (fd < 0) {
        return NULL;
    }
    EXPECT((size_t)write(fd, pdf->p, pdf->len) == pdf->len);
    close(fd);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 '%s' - 2>&1", path);
    FILE *p = popen(cmd, "r");
    char *out = calloc(1, 1 << 20);
    size_t n = p ? fread(out, 1, (1 << 20) - 1, p) : 0;
    out[n] = 0;
    if (p) {
        pclose(p);
    }
    unlink(path);
    squeeze(out);
    char foot[128];
    snprintf(foot, sizeof foot, "%s·", title);
    squeeze(foot);
    for (char *f; (f = strstr(out, foot)) != NULL;) {
        char *e = f + strlen(foot);
        while (*e >= '0' && *e <= '9') {
            e++;
        }
        memmove(f, e, strlen(e) + 1);
    }
    return out;
}

TEST(t_required_items_in_every_format)
{
    static const char *const files[] = {
        "customer-notice.zh-CN.tpl", "customer-notice.en.tpl", "cac-initial.zh-CN.tpl",
        "cac-summary.zh-CN.tpl",     "pipl-57.zh-CN.tpl",      "gdpr-33.en.tpl",
        "statement.zh-CN.tpl",       "statement.en.tpl",       "gdpr-34.en.tpl",
        "gdpr-34.zh-CN.tpl"};
    /* The table covers every item notice_required names, and nothing it does not. */
    size_t items = 0;
    for (int k = 0; k < NK__COUNT; k++) {
        for (const notice_item *it = notice_required((notice_kind)k); it->section; it++) {
            EXPECT(law_item((notice_kind)k, it->section) != NULL);
            if (!law_item((notice_kind)k, it->section)) {
                printf("  no test row for %s/%s\n", notice_kind_name((notice_kind)k), it->section);
            }
            items++;
        }
    }
    EXPECT_INT(items, sizeof LAW_ITEMS / sizeof LAW_ITEMS[0]);
    notice_person who = {.name = "𠮷田 <b>", .fields = (1u << CF_NAME) | (1u << CF_PHONE)};
    size_t checked = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        notice_tpl *t = load(files[i]);
        if (!t) {
            continue;
        }
        pb_lang l = notice_tpl_lang(t);
        notice_facts f = facts(l);
        buf text, html, pdf;
        buf_init(&text, 0);
        buf_init(&html, 0);
        buf_init(&pdf, 0);
        EXPECT_OK(notice_render(t, &f, &who, &text));
        const char *lang = l == PB_ZH ? "zh-CN" : "en";
        EXPECT_OK(notice_html("DOC", lang, buf_cstr(&text), &html));
        pdf_doc d = {.title = "DOC", .lang = lang, .text = buf_cstr(&text), .created_us = 1};
        EXPECT_OK(pdf_render(&d, &pdf));
        char *ptext = pdf_text(&pdf, "DOC");
        EXPECT(ptext && strstr(ptext, "\xef\xbf\xbd") == NULL); /* no replacement character */
        for (const notice_item *it = notice_required(notice_tpl_kind(t)); it->section; it++) {
            const struct law_item *li = law_item(notice_tpl_kind(t), it->section);
            if (!li) {
                continue;
            }
            buf sec, esc;
            buf_init(&sec, 0);
            buf_init(&esc, 0);
            EXPECT_OK(notice_render_section(t, it->section, &f, &who, &sec));
            const char *m[2];
            marks(li, &f, l, m);
            for (int j = 0; j < 2 && m[j]; j++) {
                bool in = strstr(buf_cstr(&sec), m[j]) != NULL;
                EXPECT(in);
                if (!in) {
                    printf("  %s/%s lacks '%s'\n", files[i], it->section, m[j]);
                }
            }
            /* the section, carrying its item, is in the text, the HTML and the PDF */
            EXPECT(strstr(buf_cstr(&text), buf_cstr(&sec)) != NULL);
            html_escape(buf_cstr(&sec), &esc);
            EXPECT(strstr(buf_cstr(&html), buf_cstr(&esc)) != NULL);
            char *sq = strdup(buf_cstr(&sec));
            squeeze(sq);
            bool in_pdf = ptext && strstr(ptext, sq) != NULL;
            EXPECT(in_pdf);
            if (!in_pdf) {
                printf("  %s/%s not in the PDF's text\n", files[i], it->section);
            }
            free(sq);
            checked++;
            buf_free(&sec);
            buf_free(&esc);
        }
        /* a person's letter names them, escaped in the HTML, exactly in the PDF */
        if (notice_kind_personal(notice_tpl_kind(t))) {
            EXPECT(strstr(buf_cstr(&html), "𠮷田 &lt;b&gt;") != NULL);
            EXPECT(ptext && strstr(ptext, "𠮷田<b>") != NULL);
        }
        free(ptext);
        buf_free(&text);
        buf_free(&html);
        buf_free(&pdf);
        notice_tpl_free(t);
    }
    EXPECT_INT(checked, 8 * 2 + 8 + 6 + 6 + 5 + 5 * 2 + 7 * 2);
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
    RUN(t_customer_letters);
    RUN(t_partial_names_only_what_was_exposed);
    RUN(t_items_per_law);
    RUN(t_html_is_inert);
    RUN(t_required_items_in_every_format);
    RUN(t_grades);
    RUN(t_template_errors);
    RUN(t_missing_facts_are_refused);
    return test_done("notice_test");
}
