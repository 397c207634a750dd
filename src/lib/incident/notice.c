/*
 * notice.c - breach-response document templates and their rendering (docs/FORMATS-notice.md).
 *
 * A template is read line by line into sections; every placeholder is checked against the one
 * vocabulary when the template is read, and the kind's required sections against the table of
 * items per law. Rendering substitutes the facts (a missing fact is an error, never a hole),
 * writes times in the vault's zone in the template language's convention, lists the fields a
 * customer had exposed with their names in that language, and keeps the conditional sections
 * (`when id_number`) only for a customer who had that field or category exposed.
 */
#include "incident/notice.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/utf8.h"
#include "model/model.h"

#define NAME_SHOWN 120

static const char *const KIND_NAMES[NK__COUNT] = {
    "customer-notice", "cac-initial", "cac-summary", "pipl-57", "gdpr-33", "statement", "gdpr-34"};

const char *notice_kind_name(notice_kind k)
{
    return k < NK__COUNT ? KIND_NAMES[k] : "none";
}

int notice_kind_parse(const char *name)
{
    for (int k = 0; name && k < NK__COUNT; k++) {
        if (strcmp(name, KIND_NAMES[k]) == 0) {
            return k;
        }
    }
    return -1;
}

bool notice_kind_personal(notice_kind k)
{
    return k == NK_CUSTOMER || k == NK_GDPR_34;
}

/* ---- the items each kind must carry ---- */

static const notice_item REQ_CUSTOMER[] = {
    {"subject", "the letter's subject"},
    {"what-happened", "PIPL Art. 57(1): the cause of the incident; GDPR Art. 34(2): its nature"},
    {"when", "when it happened and when the company found out"},
    {"your-data", "PIPL Art. 57(1): the categories of personal information concerned (this "
                  "customer's own)"},
    {"possible-harm", "PIPL Art. 57(1): the harm that may follow; GDPR Art. 33(3)(c)"},
    {"measures-taken", "PIPL Art. 57(2): the remedial measures the company has taken"},
    {"what-you-can-do", "PIPL Art. 57(2): what the person can do to reduce the harm"},
    {"contact", "PIPL Art. 57(3): how to contact the company; GDPR Art. 33(3)(b)"},
    {NULL, NULL}};
static const notice_item REQ_CAC_INITIAL[] = {
    {"organisation", "the network operator and the system concerned"},
    {"discovered", "the time of discovery and the time of the incident"},
    {"event-type", "the type of the incident"},
    {"grade", "the grade, from the number of people affected (网络安全事件分级指南)"},
    {"impact", "the impact and harm so far"},
    {"measures-taken", "the measures taken and their effect"},
    {"next-steps", "what the operator will do next and any support requested"},
    {"contact", "the contact person"},
    {NULL, NULL}};
static const notice_item REQ_CAC_SUMMARY[] = {{"cause", "the cause of the incident"},
                                              {"handling", "how it was handled"},
                                              {"harm", "the harm done"},
                                              {"accountability", "who was held responsible"},
                                              {"remediation", "the remediation and its state"},
                                              {"lessons", "the lessons learned"},
                                              {NULL, NULL}};
static const notice_item REQ_PIPL[] = {
    {"categories", "Art. 57(1): the categories of personal information concerned"},
    {"cause", "Art. 57(1): the cause of the incident"},
    {"possible-harm", "Art. 57(1): the harm that may follow"},
    {"measures-taken", "Art. 57(2): the remedial measures taken by the handler"},
    {"what-people-can-do", "Art. 57(2): what individuals can do to reduce the harm"},
    {"contact", "Art. 57(3): the handler's contact"},
    {NULL, NULL}};
static const notice_item REQ_GDPR33[] = {
    {"nature", "Art. 33(3)(a): the nature of the breach, categories and approximate numbers of "
               "data subjects and records"},
    {"contact", "Art. 33(3)(b): the contact point (data protection officer)"},
    {"consequences", "Art. 33(3)(c): the likely consequences"},
    {"measures-taken", "Art. 33(3)(d): the measures taken or proposed"},
    {"timing", "Art. 33(1): when the controller became aware (and the reasons for any delay "
               "beyond 72 hours)"},
    {NULL, NULL}};
static const notice_item REQ_STATEMENT[] = {{"headline", "the statement's headline"},
                                            {"what-happened", "what happened, verified facts only"},
                                            {"measures-taken", "what the company has done"},
                                            {"customers", "what customers should do"},
                                            {"contact", "where to ask"},
                                            {NULL, NULL}};

static const notice_item REQ_GDPR34[] = {
    {"subject", "the letter's subject"},
    {"nature", "Art. 34(2): the nature of the breach, in clear and plain language"},
    {"your-data", "Art. 34(2), 33(3)(a): the personal data of this person concerned"},
    {"consequences", "Art. 34(2), 33(3)(c): the likely consequences"},
    {"measures-taken", "Art. 34(2), 33(3)(d): the measures taken or proposed"},
    {"what-you-can-do", "Art. 34(2): what the person can do to protect themselves"},
    {"contact", "Art. 34(2), 33(3)(b): the contact point (data protection officer)"},
    {NULL, NULL}};

const notice_item *notice_required(notice_kind k)
{
    switch (k) {
    case NK_CUSTOMER:
        return REQ_CUSTOMER;
    case NK_CAC_INITIAL:
        return REQ_CAC_INITIAL;
    case NK_CAC_SUMMARY:
        return REQ_CAC_SUMMARY;
    case NK_PIPL_57:
        return REQ_PIPL;
    case NK_GDPR_33:
        return REQ_GDPR33;
    case NK_STATEMENT:
        return REQ_STATEMENT;
    case NK_GDPR_34:
        return REQ_GDPR34;
    default:
        return NULL;
    }
}

/* ---- the vocabulary of placeholders ---- */

typedef enum var {
    V_COMPANY,
    V_SYSTEM,
    V_CONTACT_PHONE,
    V_CONTACT_EMAIL,
    V_INCIDENT,
    V_EVENT_TYPE,
    V_DISCOVERED,
    V_FROM,
    V_TO,
    V_PEOPLE,
    V_RECORDS,
    V_GRADE,
    V_CATEGORIES,
    V_MEASURES,
    V_IMPACT,
    V_CAUSE,
    V_HANDLING,
    V_HARM,
    V_ACCOUNTABILITY,
    V_REMEDIATION,
    V_LESSONS,
    V_CUSTOMER_STEPS,
    V_CUSTOMER_NAME,    /* customer letters only */
    V_CUSTOMER_EXPOSED, /* customer letters only */
    V__COUNT
} var;

static const char *const VAR_NAMES[V__COUNT] = {
    "company",    "system",         "contact_phone",  "contact_email",
    "incident",   "event_type",     "discovered",     "from",
    "to",         "people",         "records",        "grade",
    "categories", "measures",       "impact",         "cause",
    "handling",   "harm",           "accountability", "remediation",
    "lessons",    "customer_steps", "customer.name",  "customer.exposed"};

/* ---- labels in each language ---- */

static const char *const FIELD_LABEL[CF__COUNT][PB__LANGS] = {
    [CF_NAME] = {"姓名", "name"},
    [CF_ID_NUMBER] = {"身份证号码", "national ID number"},
    [CF_BIRTH_DATE] = {"出生日期", "date of birth"},
    [CF_PHONE] = {"手机号码", "phone number"},
    [CF_EMAIL] = {"电子邮箱", "e-mail address"},
    [CF_ADDRESS] = {"地址", "address"},
    [CF_WECHAT] = {"微信号", "WeChat ID"},
    [CF_PREFERENCES] = {"收藏偏好", "collecting preferences"},
    [CF_VIP_LEVEL] = {"会员等级", "membership level"},
    [CF_DEPARTMENT] = {"所属部门", "department"},
    [CF_SALESPERSON] = {"专属顾问", "personal adviser"},
    [CF_MARKETING_CONSENT] = {"营销授权", "marketing consent"},
    [CF_NOTES] = {"服务备注", "service notes"},
};
static const char *const CAT_LABEL[CAT__COUNT][PB__LANGS] = {
    [CAT_IDENTITY] = {"身份信息", "identity"},
    [CAT_CONTACT] = {"联系方式", "contact details"},
    [CAT_PREFERENCES] = {"收藏偏好", "collecting preferences"},
    [CAT_TRANSACTIONS] = {"交易记录", "purchase records"},
    [CAT_COMMUNICATIONS] = {"沟通记录", "records of our conversations"},
    [CAT_INTERNAL] = {"内部备注", "internal notes"},
};
static const char *const GRADE_LABEL[4][PB__LANGS] = {
    {"一般网络安全事件", "general incident"},
    {"较大网络安全事件", "relatively major incident"},
    {"重大网络安全事件", "major incident"},
    {"特别重大网络安全事件", "especially major incident"},
};
static const char *const LIST_SEP[PB__LANGS] = {"、", ", "};
static const char *const LIST_LAST[PB__LANGS] = {"和", " and "};

int notice_cac_grade(int64_t people)
{
    return people >= 100000000 ? 3 : people >= 10000000 ? 2 : people >= 1000000 ? 1 : 0;
}

const char *notice_cac_grade_name(int grade, pb_lang l)
{
    if (grade < 0 || grade > 3 || l >= PB__LANGS) {
        return "";
    }
    return GRADE_LABEL[grade][l];
}

/* ---- templates ---- */

typedef struct section {
    char name[40];
    int when_field; /* CF_* or -1 */
    int when_cat;   /* CAT_* or -1 */
    uint32_t line;
    buf body; /* the section's text, lines joined with \n */
} section;

struct notice_tpl {
    notice_kind kind;
    pb_lang lang;
    size_t n;
    section s[NOTICE_MAX_SECTIONS];
};

notice_kind notice_tpl_kind(const notice_tpl *t)
{
    return t->kind;
}
pb_lang notice_tpl_lang(const notice_tpl *t)
{
    return t->lang;
}

void notice_tpl_free(notice_tpl *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < t->n; i++) {
        buf_free(&t->s[i].body);
    }
    free(t);
}

typedef struct tstate {
    const char *name;
    uint32_t lineno;
    notice_tpl *t;
    bool have_version, have_kind, have_lang;
} tstate;

static err terr(const tstate *s, uint32_t line, const char *fmt, ...) PRINTF_LIKE(3, 4);
static err terr(const tstate *s, uint32_t line, const char *fmt, ...)
{
    char msg[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line == 0) {
        return err_set(ERR_INPUT, __FILE__, __LINE__, "%.*s: %s", NAME_SHOWN, s->name, msg);
    }
    return err_set(ERR_INPUT, __FILE__, __LINE__, "%.*s:%u: %s", NAME_SHOWN, s->name, line, msg);
}

static bool word_eq(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(p, w, n) == 0;
}

/* Splits "a b c" (n bytes) into at most max words; returns how many, or max+1 when more. */
static size_t split(const char *p, size_t n, const char **w, size_t *wl, size_t max)
{
    size_t k = 0, i = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t')) {
            i++;
        }
        if (i == n) {
            break;
        }
        size_t b = i;
        while (i < n && p[i] != ' ' && p[i] != '\t') {
            i++;
        }
        if (k == max) {
            return max + 1;
        }
        w[k] = p + b, wl[k] = i - b, k++;
    }
    return k;
}

static int find_var(const char *p, size_t n)
{
    for (int v = 0; v < V__COUNT; v++) {
        if (word_eq(p, n, VAR_NAMES[v])) {
            return v;
        }
    }
    return -1;
}

/* Checks the placeholders of one text line: `{name}` from the vocabulary, `{{` and `}}` for a
 * literal brace; customer placeholders only in customer letters. */
static err check_placeholders(const tstate *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '}') {
            if (i + 1 < n && p[i + 1] == '}') {
                i++;
                continue;
            }
            return terr(s, s->lineno, "a lone '}' (write '}}' for a brace)");
        }
        if (p[i] != '{') {
            continue;
        }
        if (i + 1 < n && p[i + 1] == '{') {
            i++;
            continue;
        }
        size_t e = i + 1;
        while (e < n && p[e] != '}' && p[e] != '{') {
            e++;
        }
        if (e == n || p[e] != '}') {
            return terr(s, s->lineno, "a '{' without its '}' (write '{{' for a brace)");
        }
        int v = find_var(p + i + 1, e - i - 1);
        if (v < 0) {
            return terr(s, s->lineno, "unknown placeholder '{%.*s}'",
                        (int)(e - i - 1 > 40 ? 40 : e - i - 1), p + i + 1);
        }
        if ((v == V_CUSTOMER_NAME || v == V_CUSTOMER_EXPOSED) &&
            !notice_kind_personal(s->t->kind)) {
            return terr(s, s->lineno, "{%s} belongs in a customer notice only", VAR_NAMES[v]);
        }
        i = e;
    }
    return ERR_OK;
}

static err check_bytes(const tstate *s, const char *line, size_t n)
{
    char why[64];
    if (!utf8_text_line(line, n, NOTICE_MAX_LINE, why, sizeof why)) {
        return terr(s, s->lineno, "%s", why);
    }
    return ERR_OK;
}

static err header_line(tstate *s, const char *line, size_t n)
{
    const char *w[3];
    size_t wl[3];
    size_t k = split(line, n, w, wl, 2);
    if (k != 2) {
        return terr(s, s->lineno, "a header line is a keyword and one value");
    }
    if (!s->have_version) {
        if (!word_eq(w[0], wl[0], "template")) {
            return terr(s, s->lineno, "a template begins with 'template 1'");
        }
        if (!word_eq(w[1], wl[1], "1")) {
            return terr(s, s->lineno,
                        "unknown template format version '%.*s' (this Custos reads 1)",
                        (int)(wl[1] > 16 ? 16 : wl[1]), w[1]);
        }
        s->have_version = true;
        return ERR_OK;
    }
    if (word_eq(w[0], wl[0], "kind")) {
        if (s->have_kind) {
            return terr(s, s->lineno, "'kind' given twice");
        }
        for (int k2 = 0; k2 < NK__COUNT; k2++) {
            if (word_eq(w[1], wl[1], KIND_NAMES[k2])) {
                s->t->kind = (notice_kind)k2;
                s->have_kind = true;
                return ERR_OK;
            }
        }
        return terr(s, s->lineno,
                    "unknown kind '%.*s' (customer-notice, cac-initial, cac-summary, pipl-57, "
                    "gdpr-33, statement, gdpr-34)",
                    (int)(wl[1] > 32 ? 32 : wl[1]), w[1]);
    }
    if (word_eq(w[0], wl[0], "lang")) {
        if (s->have_lang) {
            return terr(s, s->lineno, "'lang' given twice");
        }
        for (int l = 0; l < PB__LANGS; l++) {
            if (word_eq(w[1], wl[1], pb_lang_name((pb_lang)l))) {
                s->t->lang = (pb_lang)l;
                s->have_lang = true;
                return ERR_OK;
            }
        }
        return terr(s, s->lineno, "unknown language '%.*s' (zh-CN, en)",
                    (int)(wl[1] > 16 ? 16 : wl[1]), w[1]);
    }
    return terr(s, s->lineno, "unknown header line '%.*s' (template, kind, lang, section)",
                (int)(wl[0] > 32 ? 32 : wl[0]), w[0]);
}

static bool section_name_ok(const char *p, size_t n)
{
    if (n == 0 || n >= sizeof((section *)0)->name) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return true;
}

static err section_line(tstate *s, const char *line, size_t n)
{
    const char *w[5];
    size_t wl[5];
    size_t k = split(line, n, w, wl, 4);
    if (!s->have_kind || !s->have_lang) {
        return terr(s, s->lineno, "'kind' and 'lang' come before the first section");
    }
    if (k != 2 && !(k == 4 && word_eq(w[2], wl[2], "when"))) {
        return terr(s, s->lineno, "a section line is 'section NAME' or 'section NAME when FIELD'");
    }
    if (!section_name_ok(w[1], wl[1])) {
        return terr(s, s->lineno, "a section name is 1 to 39 characters of a-z 0-9 -");
    }
    notice_tpl *t = s->t;
    for (size_t i = 0; i < t->n; i++) {
        if (word_eq(w[1], wl[1], t->s[i].name)) {
            return terr(s, s->lineno, "section '%s' given twice (line %u)", t->s[i].name,
                        t->s[i].line);
        }
    }
    if (t->n == NOTICE_MAX_SECTIONS) {
        return terr(s, s->lineno, "more than %d sections", NOTICE_MAX_SECTIONS);
    }
    section *sec = &t->s[t->n];
    memcpy(sec->name, w[1], wl[1]);
    sec->name[wl[1]] = 0;
    sec->when_field = sec->when_cat = -1;
    sec->line = s->lineno;
    buf_init(&sec->body, NOTICE_MAX_BYTES);
    t->n++;
    if (k == 4) {
        if (!notice_kind_personal(t->kind)) {
            return terr(s, s->lineno, "'when' belongs in a customer notice only");
        }
        int f = model_field_index(REC_CUSTOMER, w[3], wl[3]);
        if (f >= 0) {
            sec->when_field = f;
            return ERR_OK;
        }
        for (int c = 0; c < CAT__COUNT; c++) {
            if (word_eq(w[3], wl[3], category_name((category)c))) {
                sec->when_cat = c;
                return ERR_OK;
            }
        }
        return terr(s, s->lineno, "'when %.*s': not a customer field or category",
                    (int)(wl[3] > 32 ? 32 : wl[3]), w[3]);
    }
    return ERR_OK;
}

err notice_tpl_parse(const char *name, const char *text, size_t len, notice_tpl **out)
{
    tstate s = {.name = name ? name : "template"};
    if (len > NOTICE_MAX_BYTES) {
        return terr(&s, 0, "file larger than %d bytes", NOTICE_MAX_BYTES);
    }
    s.t = calloc(1, sizeof *s.t);
    if (s.t == NULL) {
        BAIL(ERR_INTERNAL, "out of memory");
    }
    err rc = ERR_OK;
    size_t at = 0, n;
    const char *line;
    while (text_next_line(text, len, &at, &line, &n)) {
        s.lineno++;
        GUARD(check_bytes(&s, line, n));
        bool comment = n > 0 && line[0] == '#';
        if (n >= 8 && memcmp(line, "section", 7) == 0 && (line[7] == ' ' || line[7] == '\t')) {
            GUARD(section_line(&s, line, n));
            continue;
        }
        if (s.t->n == 0) { /* the header: keywords, comments and blank lines */
            size_t i = 0;
            while (i < n && (line[i] == ' ' || line[i] == '\t')) {
                i++;
            }
            if (i == n || comment) {
                continue;
            }
            GUARD(header_line(&s, line, n));
            continue;
        }
        if (comment) {
            continue;
        }
        GUARD(check_placeholders(&s, line, n));
        section *sec = &s.t->s[s.t->n - 1];
        if (sec->body.len > 0 || n > 0) {
            if (sec->body.len > 0) {
                GUARD(buf_append_byte(&sec->body, '\n'));
            }
            GUARD(buf_append(&sec->body, line, n));
        }
    }
    if (!s.have_version) {
        FAIL(ERR_INPUT, "%.*s: empty template (it begins with 'template 1')", NAME_SHOWN, s.name);
    }
    if (!s.have_kind || !s.have_lang) {
        GUARD(terr(&s, 0, "a template names its kind and lang"));
    }
    for (const notice_item *it = notice_required(s.t->kind); it->section; it++) {
        bool found = false;
        for (size_t i = 0; i < s.t->n; i++) {
            if (strcmp(s.t->s[i].name, it->section) == 0) {
                found = true;
                if (s.t->s[i].when_field >= 0 || s.t->s[i].when_cat >= 0) {
                    GUARD(terr(&s, s.t->s[i].line, "required section '%s' cannot be conditional",
                               it->section));
                }
            }
        }
        if (!found) {
            GUARD(terr(&s, 0, "a %s needs section '%s' (%s)", KIND_NAMES[s.t->kind], it->section,
                       it->item));
        }
    }
    for (size_t i = 0; i < s.t->n; i++) {
        /* Trailing blank lines of a section are layout, not text. */
        buf *b = &s.t->s[i].body;
        while (b->len > 0 && b->p[b->len - 1] == '\n') {
            b->len--;
        }
        if (b->len == 0) {
            GUARD(terr(&s, s.t->s[i].line, "section '%s' is empty", s.t->s[i].name));
        }
    }
    *out = s.t;
    return ERR_OK;
out:
    notice_tpl_free(s.t);
    return rc;
}

/* ---- rendering ---- */

static const char *const EN_MONTH[12] = {"January",   "February", "March",    "April",
                                         "May",       "June",     "July",     "August",
                                         "September", "October",  "November", "December"};

static err put_time(buf *out, int64_t us, const notice_facts *f, pb_lang l)
{
    time_t t = (time_t)(us / 1000000) + f->tz_offset_s;
    struct tm tm;
    if (us <= 0 || gmtime_r(&t, &tm) == NULL) {
        BAIL(ERR_INPUT, "a time of the incident is missing");
    }
    const char *zone = f->tz_label ? f->tz_label : "";
    if (l == PB_ZH) {
        return buf_appendf(out, "%d年%d月%d日 %02d:%02d%s%s%s", tm.tm_year + 1900, tm.tm_mon + 1,
                           tm.tm_mday, tm.tm_hour, tm.tm_min, *zone ? "（" : "", zone,
                           *zone ? "）" : "");
    }
    return buf_appendf(out, "%d %s %d, %02d:%02d%s%s%s", tm.tm_mday, EN_MONTH[tm.tm_mon],
                       tm.tm_year + 1900, tm.tm_hour, tm.tm_min, *zone ? " (" : "", zone,
                       *zone ? ")" : "");
}

/* "a、b和c" / "a, b and c" */
static err put_list(buf *out, const char *const *items, size_t n, pb_lang l)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            TRY(buf_append_str(out, i + 1 == n ? LIST_LAST[l] : LIST_SEP[l]));
        }
        TRY(buf_append_str(out, items[i]));
    }
    return ERR_OK;
}

static err put_exposed(buf *out, uint32_t fields, uint32_t cats, pb_lang l)
{
    const char *items[CF__COUNT + CAT__COUNT];
    size_t n = 0;
    for (int i = 0; i < CF__COUNT; i++) {
        if (fields & (1u << i)) {
            items[n++] = FIELD_LABEL[i][l];
        }
    }
    /* Whole records (purchases, conversations) are named by their category. */
    for (int c = CAT_TRANSACTIONS; c <= CAT_COMMUNICATIONS; c++) {
        if (cats & (1u << c)) {
            items[n++] = CAT_LABEL[c][l];
        }
    }
    if (n == 0) {
        BAIL(ERR_INPUT, "nothing exposed to name");
    }
    return put_list(out, items, n, l);
}

static err put_categories(buf *out, uint32_t cats, pb_lang l)
{
    const char *items[CAT__COUNT];
    size_t n = 0;
    for (int c = 0; c < CAT__COUNT; c++) {
        if (cats & (1u << c)) {
            items[n++] = CAT_LABEL[c][l];
        }
    }
    if (n == 0) {
        BAIL(ERR_INPUT, "no category exposed to name");
    }
    return put_list(out, items, n, l);
}

static err put_text(buf *out, const char *v, var which)
{
    if (v == NULL || v[0] == 0) {
        BAIL(ERR_INPUT, "the fact {%s} is missing", VAR_NAMES[which]);
    }
    return buf_append_str(out, v);
}

static err put_var(buf *out, var v, const notice_tpl *t, const notice_facts *f,
                   const notice_person *p)
{
    pb_lang l = t->lang;
    switch (v) {
    case V_COMPANY:
        return put_text(out, f->company, v);
    case V_SYSTEM:
        return put_text(out, f->system, v);
    case V_CONTACT_PHONE:
        return put_text(out, f->contact_phone, v);
    case V_CONTACT_EMAIL:
        return put_text(out, f->contact_email, v);
    case V_INCIDENT:
        return put_text(out, f->incident_ref, v);
    case V_EVENT_TYPE:
        return put_text(out, f->event_type, v);
    case V_DISCOVERED:
        return put_time(out, f->discovered_us, f, l);
    case V_FROM:
        return put_time(out, f->from_us, f, l);
    case V_TO:
        return put_time(out, f->to_us, f, l);
    case V_PEOPLE:
        return buf_appendf(out, "%lld", (long long)f->people);
    case V_RECORDS:
        return buf_appendf(out, "%lld", (long long)f->records);
    case V_GRADE:
        return buf_append_str(out, notice_cac_grade_name(notice_cac_grade(f->people), l));
    case V_CATEGORIES:
        return put_categories(out, f->categories, l);
    case V_MEASURES:
        return put_text(out, f->measures, v);
    case V_IMPACT:
        return put_text(out, f->impact, v);
    case V_CAUSE:
        return put_text(out, f->cause, v);
    case V_HANDLING:
        return put_text(out, f->handling, v);
    case V_HARM:
        return put_text(out, f->harm, v);
    case V_ACCOUNTABILITY:
        return put_text(out, f->accountability, v);
    case V_REMEDIATION:
        return put_text(out, f->remediation, v);
    case V_LESSONS:
        return put_text(out, f->lessons, v);
    case V_CUSTOMER_STEPS:
        return put_text(out, f->customer_steps, v);
    case V_CUSTOMER_NAME:
        return put_text(out, p->name, v);
    case V_CUSTOMER_EXPOSED:
        return put_exposed(out, p->fields, p->categories, l);
    default:
        BAIL(ERR_INTERNAL, "placeholder out of range");
    }
}

static err render_body(buf *out, const buf *body, const notice_tpl *t, const notice_facts *f,
                       const notice_person *p)
{
    const char *s = (const char *)body->p;
    size_t n = body->len;
    for (size_t i = 0; i < n; i++) {
        if ((s[i] == '{' || s[i] == '}') && i + 1 < n && s[i + 1] == s[i]) {
            TRY(buf_append_byte(out, (uint8_t)s[i]));
            i++;
            continue;
        }
        if (s[i] != '{') {
            TRY(buf_append_byte(out, (uint8_t)s[i]));
            continue;
        }
        size_t e = i + 1;
        while (s[e] != '}') { /* checked when the template was read */
            e++;
        }
        TRY(put_var(out, (var)find_var(s + i + 1, e - i - 1), t, f, p));
        i = e;
    }
    return ERR_OK;
}

err notice_render(const notice_tpl *t, const notice_facts *f, const notice_person *p, buf *out)
{
    if (notice_kind_personal(t->kind) &&
        (p == NULL || p->name == NULL || (p->fields == 0 && p->categories == 0))) {
        BAIL(ERR_INPUT, "a customer notice needs the customer and what of theirs was exposed");
    }
    bool first = true;
    for (size_t i = 0; i < t->n; i++) {
        const section *sec = &t->s[i];
        if (sec->when_field >= 0 && !(p->fields & (1u << sec->when_field))) {
            continue;
        }
        if (sec->when_cat >= 0 && !(p->categories & (1u << sec->when_cat))) {
            continue;
        }
        if (!first) {
            TRY(buf_append_str(out, "\n\n"));
        }
        first = false;
        TRY(render_body(out, &sec->body, t, f, p));
    }
    return buf_append_byte(out, '\n');
}

err notice_render_section(const notice_tpl *t, const char *name, const notice_facts *f,
                          const notice_person *p, buf *out)
{
    if (notice_kind_personal(t->kind) &&
        (p == NULL || p->name == NULL || (p->fields == 0 && p->categories == 0))) {
        BAIL(ERR_INPUT, "a customer notice needs the customer and what of theirs was exposed");
    }
    for (size_t i = 0; i < t->n; i++) {
        const section *sec = &t->s[i];
        if (strcmp(sec->name, name) != 0) {
            continue;
        }
        if ((sec->when_field >= 0 && !(p->fields & (1u << sec->when_field))) ||
            (sec->when_cat >= 0 && !(p->categories & (1u << sec->when_cat)))) {
            break;
        }
        return render_body(out, &sec->body, t, f, p);
    }
    BAIL(ERR_NOT_FOUND, "no section '%s'", name);
}

/* ---- HTML ---- */

static err put_escaped(buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            TRY(buf_append_str(out, "&amp;"));
            break;
        case '<':
            TRY(buf_append_str(out, "&lt;"));
            break;
        case '>':
            TRY(buf_append_str(out, "&gt;"));
            break;
        case '"':
            TRY(buf_append_str(out, "&quot;"));
            break;
        case '\'':
            TRY(buf_append_str(out, "&#39;"));
            break;
        case '\r':
            break;
        case '\n':
            TRY(buf_append_str(out, "<br>\n"));
            break;
        default:
            TRY(buf_append_byte(out, (uint8_t)s[i]));
        }
    }
    return ERR_OK;
}

err notice_html(const char *title, const char *lang, const char *text, buf *out)
{
    ENSURE(lang && (strcmp(lang, "zh-CN") == 0 || strcmp(lang, "en") == 0), ERR_INPUT,
           "unknown language");
    ENSURE(title && text && utf8_valid((const uint8_t *)title, strlen(title)) &&
               utf8_valid((const uint8_t *)text, strlen(text)),
           ERR_INPUT, "a document is UTF-8 text");
    TRY(buf_appendf(out,
                    "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                    "base-uri 'none'; form-action 'none'\">\n<title>",
                    lang));
    TRY(put_escaped(out, title, strlen(title)));
    TRY(buf_append_str(out, "</title>\n</head>\n<body>\n<article>\n"));
    bool first = true;
    for (const char *p = text; *p;) {
        while (*p == '\n' || *p == '\r') {
            p++;
        }
        if (!*p) {
            break;
        }
        const char *e = strstr(p, "\n\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r')) {
            n--;
        }
        TRY(buf_append_str(out, first ? "<h1>" : "<p>"));
        TRY(put_escaped(out, p, n));
        TRY(buf_append_str(out, first ? "</h1>\n" : "</p>\n"));
        first = false;
        p = e ? e + 2 : p + strlen(p);
    }
    return buf_append_str(out, "</article>\n</body>\n</html>\n");
}
