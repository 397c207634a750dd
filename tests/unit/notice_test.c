/*
 * notice_test.c - breach-response documents: the shipped templates carry every item their law
 * asks for, render exactly as the golden files (in both languages, a name in a rare script, a
 * customer whose data was only partly exposed), and bad templates or missing facts are refused.
 * CUSTOS_UPDATE_GOLDEN=1 rewrites the golden files (then read them before committing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/notice.h"
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
    static const char *const files[] = {"customer-notice.zh-CN.tpl", "customer-notice.en.tpl",
                                        "cac-initial.zh-CN.tpl",     "cac-summary.zh-CN.tpl",
                                        "pipl-57.zh-CN.tpl",         "gdpr-33.en.tpl",
                                        "statement.zh-CN.tpl",       "statement.en.tpl"};
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
            "gdpr-33, statement)");
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

int main(void)
{
    RUN(t_customer_letters);
    RUN(t_partial_names_only_what_was_exposed);
    RUN(t_items_per_law);
    RUN(t_grades);
    RUN(t_template_errors);
    RUN(t_missing_facts_are_refused);
    return test_done("notice_test");
}
