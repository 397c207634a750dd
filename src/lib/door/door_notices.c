/*
 * door_notices.c - an incident's documents and customer notices through the door
 * (door_notices.h). The words come from incident/notice.c, the sending and the records from
 * incident/deliver.c; this file decides who may, audits, gathers the facts (the incident, its
 * stored scope, the company's settings, the teams' texts), decrypts the names and addresses of
 * the customers concerned for the call that needs them, and keeps the approvals, texts and
 * records in the incident's sealed body ("notices") under its compare-and-set.
 *
 * Sending is three steps so no mail is sent inside a compare-and-set that may run twice: the
 * recipients are claimed (written), mailed, then the outcomes are settled (written).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/file.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "door/door_notices.h"
#include "door_int.h"
#include "door_notices_int.h"
#include "incident/deliver.h"
#include "incident/notice.h"
#include "model/model.h"

#define CFG_MAX (64 * 1024)
#define TEXT_MAX 4000
#define DRILL_RCPT_MAX 8

static const char *const TEXT_KEYS[] = {
    "measures",       "impact",      "cause",   "handling",       "harm",
    "accountability", "remediation", "lessons", "customer_steps", "event_type"};

/* ---- who may ---- */

static bool reader_role(role r)
{
    return r == ROLE_SECURITY || r == ROLE_LEGAL || r == ROLE_CUSTOMER_SERVICE ||
           r == ROLE_DATA_STEWARD || r == ROLE_AUDITOR;
}

/* need: 0 any incident role; else that role (security+legal for texts: ROLE__COUNT). */
static err need(vault *v, const actor *a, const char *action, int want)
{
    if (a->session_flags & SESSION_MFA_PENDING) {
        return door_deny(v, a, action, NULL, NULL, "second-factor-pending", ERR_AUTH,
                         "second factor required");
    }
    if (a->via_key || !reader_role(a->role)) {
        return door_deny(v, a, action, NULL, NULL, "incident.roles", ERR_DENIED,
                         "incidents are for security, legal, customer service, data stewards "
                         "and auditors");
    }
    if (want == ROLE__COUNT && a->role != ROLE_SECURITY && a->role != ROLE_LEGAL) {
        return door_deny(v, a, action, NULL, NULL, "incident.texts", ERR_DENIED,
                         "the texts of the documents are written by security and legal");
    }
    if (want == ROLE_LEGAL && a->role != ROLE_LEGAL) {
        return door_deny(v, a, action, NULL, NULL, "incident.approve", ERR_DENIED,
                         "only legal approves the documents");
    }
    if (want == ROLE_CUSTOMER_SERVICE && a->role != ROLE_CUSTOMER_SERVICE) {
        return door_deny(v, a, action, NULL, NULL, "incident.notify", ERR_DENIED,
                         "customer service sends the notices");
    }
    return ERR_OK;
}

static err audit_doc(vault *v, const actor *a, const char *action, const char *id, const char *what,
                     const char *customer, const char *fields, int64_t count)
{
    audit_entry e;
    door_entry(&e, a, action, "allow", "incident.notices");
    char reason[300];
    /* ids, kinds, languages and formats: never a customer value */
    snprintf(reason, sizeof reason, "incident=%s %s", id, what);
    e.reason = reason;
    e.customer = customer;
    e.fields = fields;
    e.count = count;
    return audit_append(v->au, &e, NULL);
}

/* One entry naming every customer (comma-separated ids) whose fields were handed out. */
static err audit_many(vault *v, const actor *a, const char *action, const char *id,
                      const char *what, const char *customers, const char *fields, int64_t count)
{
    audit_entry e;
    door_entry(&e, a, action, "allow", "incident.notices");
    char reason[300];
    snprintf(reason, sizeof reason, "incident=%s %s", id, what);
    e.reason = reason;
    e.customers = customers;
    e.fields = customers ? fields : NULL;
    e.count = count;
    return audit_append(v->au, &e, NULL);
}

/* ---- the incident as the documents see it ---- */

typedef struct snap {
    char id[INCIDENT_ID_MAX + 1];
    bool drill;
    int64_t aware_us;
    char title[PB__LANGS][PLAYBOOK_TITLE_MAX + 1];
    json_t *scope;   /* the stored scope, or NULL */
    json_t *notices; /* the sealed "notices" member (an object, perhaps empty) */
} snap;

static err snap_fn(void *ctx, const incident *inc, const json_t *scope, const json_t *notices,
                   json_t **next)
{
    (void)next;
    snap *s = ctx;
    snprintf(s->id, sizeof s->id, "%s", inc->id);
    s->drill = inc->drill;
    s->aware_us = inc->aware_us;
    for (int l = 0; l < PB__LANGS; l++) {
        snprintf(s->title[l], sizeof s->title[l], "%s", inc->pb.title[l]);
    }
    s->scope = scope ? json_deep_copy(scope) : NULL;
    s->notices = notices ? json_deep_copy(notices) : json_object();
    ENSURE(s->notices != NULL && (!scope || s->scope), ERR_INTERNAL, "out of memory");
    return ERR_OK;
}

static void snap_free(snap *s)
{
    json_decref(s->scope);
    json_decref(s->notices);
}

static err snap_load(vault *v, const char *id, snap *s)
{
    memset(s, 0, sizeof *s);
    err e = door_incident_notices(v, id, false, snap_fn, s);
    if (e != ERR_OK) {
        snap_free(s);
    }
    return e;
}

/* VAULT/notices.json (the company, contacts, the mail server, the drill's recipients), or {}. */

static const char *lang_tag(pb_lang l)
{
    return l == PB_EN ? "en" : "zh-CN";
}

static int lang_of(const char *s)
{
    return !s ? -1 : strcmp(s, "zh-CN") == 0 ? PB_ZH : strcmp(s, "en") == 0 ? PB_EN : -1;
}

/* A setting that may differ per language: "x" or {"zh-CN": "x", "en": "y"}. */
static const char *setting(const json_t *cfg, const char *key, pb_lang l)
{
    const json_t *x = json_object_get(cfg, key);
    if (json_is_object(x)) {
        x = json_object_get(x, lang_tag(l));
    }
    return json_string_value(x);
}

/* The templates: VAULT/notices/KIND.LANG.tpl, else those shipped next to the binary. */
static err tpl_text(vault *v, notice_kind k, pb_lang l, buf *out)
{
    char p[PATH_MAX], exe[PATH_MAX];
    snprintf(p, sizeof p, "%s/notices/%s.%s.tpl", vault_dir(v), notice_kind_name(k), lang_tag(l));
    if (access(p, R_OK) == 0) {
        return file_read_bounded(p, NOTICE_MAX_BYTES, out);
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
        *slash = '\0';
    }
    static const char *const rel[] = {"../etc/notices", "../../etc/notices", "../../../etc/notices",
                                      "../share/custos/notices"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0] && exe[0]; i++) {
        snprintf(p, sizeof p, "%s/%s/%s.%s.tpl", exe, rel[i], notice_kind_name(k), lang_tag(l));
        if (access(p, R_OK) == 0) {
            return file_read_bounded(p, NOTICE_MAX_BYTES, out);
        }
    }
    snprintf(p, sizeof p, "/etc/custos/notices/%s.%s.tpl", notice_kind_name(k), lang_tag(l));
    if (access(p, R_OK) == 0) {
        return file_read_bounded(p, NOTICE_MAX_BYTES, out);
    }
    BAIL(ERR_NOT_FOUND, "no %s template in %s", notice_kind_name(k), lang_tag(l));
}

typedef struct tpl_set {
    buf text[PB__LANGS];
    notice_tpl *t[PB__LANGS];
} tpl_set;

static void tpls_init(tpl_set *s)
{
    for (int l = 0; l < PB__LANGS; l++) {
        buf_init(&s->text[l], NOTICE_MAX_BYTES + 1);
        s->t[l] = NULL;
    }
}

static void tpls_free(tpl_set *s)
{
    for (int l = 0; l < PB__LANGS; l++) {
        buf_free(&s->text[l]);
        notice_tpl_free(s->t[l]);
    }
}

/* Loads kind in l; ERR_NOT_FOUND when there is no such template. */
static err tpl_load(vault *v, notice_kind k, pb_lang l, tpl_set *s)
{
    TRY(tpl_text(v, k, l, &s->text[l]));
    char name[64];
    snprintf(name, sizeof name, "%s.%s.tpl", notice_kind_name(k), lang_tag(l));
    TRY(notice_tpl_parse(name, (const char *)s->text[l].p, s->text[l].len, &s->t[l]));
    ENSURE(notice_tpl_kind(s->t[l]) == k && notice_tpl_lang(s->t[l]) == l, ERR_INPUT,
           "%s names another kind or language", name);
    return ERR_OK;
}

/* The exposure of one scope customer. */
static void exposure(const json_t *c, uint32_t *fields, uint32_t *cats)
{
    *fields = *cats = 0;
    const json_t *x;
    size_t i;
    json_array_foreach(json_object_get(c, "fields"), i, x)
    {
        const char *n = json_string_value(x);
        int f = n ? model_field_index(REC_CUSTOMER, n, strlen(n)) : -1;
        if (f >= 0) {
            *fields |= 1u << f;
        }
    }
    json_array_foreach(json_object_get(c, "categories"), i, x)
    {
        category cat;
        if (json_string_value(x) && category_parse(json_string_value(x), &cat) == ERR_OK) {
            *cats |= 1u << cat;
        }
    }
}

/* The people a notice goes to: the scope's customers, less honeytokens and the erased. */
static bool notifiable(const json_t *c)
{
    return json_is_string(json_object_get(c, "id")) &&
           !json_is_true(json_object_get(c, "honeytoken")) &&
           !json_is_true(json_object_get(c, "erased"));
}

/* The signed audit checkpoint the stored scope was computed at (NULL: no scope yet). */
static const json_t *scope_checkpoint(const json_t *scope)
{
    return json_object_get(json_object_get(scope, "scope"), "checkpoint");
}

static const json_t *scope_customers(const snap *s)
{
    return json_object_get(json_object_get(s->scope, "scope"), "customers");
}

static void facts_of(const snap *s, const json_t *cfg, pb_lang l, notice_facts *f)
{
    memset(f, 0, sizeof *f);
    const json_t *texts = json_object_get(json_object_get(s->notices, "texts"), lang_tag(l));
    f->company = setting(cfg, "company", l);
    f->system = setting(cfg, "system", l);
    f->contact_phone = setting(cfg, "contact_phone", l);
    f->contact_email = setting(cfg, "contact_email", l);
    f->incident_ref = s->id;
    f->event_type = json_string_value(json_object_get(texts, "event_type"));
    if (!f->event_type) {
        f->event_type = s->title[l];
    }
    f->discovered_us = s->aware_us;
    const json_t *tz = json_object_get(cfg, "tz_offset_s");
    f->tz_offset_s = json_is_integer(tz) ? (int32_t)json_integer_value(tz) : 28800;
    f->tz_label = setting(cfg, "tz_label", l);
    if (!f->tz_label) {
        f->tz_label = l == PB_ZH ? "北京时间" : "China Standard Time, UTC+8";
    }
    const json_t *c;
    size_t i;
    json_array_foreach(scope_customers(s), i, c)
    {
        if (!notifiable(c)) {
            continue;
        }
        uint32_t fl, ca;
        exposure(c, &fl, &ca);
        f->people++;
        f->records +=
            __builtin_popcount(fl) +
            __builtin_popcount(ca & ((1u << CAT_TRANSACTIONS) | (1u << CAT_COMMUNICATIONS)));
        f->fields |= fl;
        f->categories |= ca;
        int64_t a = json_integer_value(json_object_get(c, "first_us")),
                b = json_integer_value(json_object_get(c, "last_us"));
        if (a && (!f->from_us || a < f->from_us)) {
            f->from_us = a;
        }
        if (b > f->to_us) {
            f->to_us = b;
        }
    }
    f->measures = json_string_value(json_object_get(texts, "measures"));
    f->impact = json_string_value(json_object_get(texts, "impact"));
    f->cause = json_string_value(json_object_get(texts, "cause"));
    f->handling = json_string_value(json_object_get(texts, "handling"));
    f->harm = json_string_value(json_object_get(texts, "harm"));
    f->accountability = json_string_value(json_object_get(texts, "accountability"));
    f->remediation = json_string_value(json_object_get(texts, "remediation"));
    f->lessons = json_string_value(json_object_get(texts, "lessons"));
    f->customer_steps = json_string_value(json_object_get(texts, "customer_steps"));
}

static bool approval_of(const snap *s, notice_kind k, pb_lang l, notice_approval *a)
{
    char key[64];
    snprintf(key, sizeof key, "%s/%s", notice_kind_name(k), lang_tag(l));
    const json_t *j = json_object_get(json_object_get(s->notices, "approvals"), key);
    return j && notice_approval_from_json(j, a) == ERR_OK;
}

/* ---- listing ---- */

err door_notices_documents(vault *v, const actor *a, const char *id, json_t **out)
{
    const char *act = "incident.documents";
    TRY(need(v, a, act, 0));
    snap s;
    TRY(snap_load(v, id, &s));
    json_t *cfg = NULL, *list = json_array();
    err rc = ERR_OK;
    CHECK(list != NULL, ERR_INTERNAL, "out of memory");
    GUARD(door_notices_cfg_load(v, &cfg));
    for (int k = 0; k < NK__COUNT; k++) {
        for (int l = 0; l < PB__LANGS; l++) {
            tpl_set ts;
            tpls_init(&ts);
            if (tpl_load(v, (notice_kind)k, (pb_lang)l, &ts) != ERR_OK) {
                tpls_free(&ts);
                continue;
            }
            notice_facts f;
            facts_of(&s, cfg, (pb_lang)l, &f);
            notice_approval ap;
            bool have = approval_of(&s, (notice_kind)k, (pb_lang)l, &ap);
            bool holds =
                have && notice_approval_holds(&ap, (notice_kind)k, (pb_lang)l,
                                              (const char *)ts.text[l].p, ts.text[l].len, &f);
            char th[65], at[40] = "";
            notice_tpl_digest((const char *)ts.text[l].p, ts.text[l].len, th);
            if (have) {
                clock_rfc3339(ap.at_us, at);
            }
            json_array_append_new(list,
                                  json_pack("{s:s,s:s,s:b,s:o,s:o,s:s,s:b}", "kind",
                                            notice_kind_name((notice_kind)k), "lang",
                                            lang_tag((pb_lang)l), "approved", holds, "approved_by",
                                            have ? json_string(ap.by) : json_null(), "approved_at",
                                            have ? json_string(at) : json_null(), "template_sha256",
                                            th, "personal", notice_kind_personal((notice_kind)k)));
            tpls_free(&ts);
        }
    }
    GUARD(audit_doc(v, a, act, s.id, "list", NULL, NULL, -1));
    *out = json_pack("{s:O,s:b}", "documents", list, "drill", s.drill);
    CHECK(*out != NULL, ERR_INTERNAL, "out of memory");
out:
    json_decref(list);
    json_decref(cfg);
    snap_free(&s);
    return rc;
}

/* ---- customers' personal values, for this call only ---- */

typedef struct person_vals {
    char id[ID_LEN + 1];
    char department[DEPT_MAX + 1];
    bool honeytoken;
    buf name, email, phone, address;
} person_vals;

static void person_init(person_vals *p)
{
    memset(p->id, 0, sizeof p->id);
    memset(p->department, 0, sizeof p->department);
    p->honeytoken = false;
    buf_init(&p->name, 4096);
    buf_init(&p->email, 4096);
    buf_init(&p->phone, 4096);
    buf_init(&p->address, 4096);
}

static void person_free(person_vals *p)
{
    buf_free(&p->name); /* bufs are wiped when freed */
    buf_free(&p->email);
    buf_free(&p->phone);
    buf_free(&p->address);
}

static err open_field(const uint8_t *dek, const sealed_customer *c, int f, buf *out)
{
    buf_reset(out);
    if (c->field[f].len == 0) {
        return ERR_OK;
    }
    return unseal(dek, c->id, model_field(REC_CUSTOMER, f)->name, buf_slice(&c->field[f]), out);
}

/* The customer fields a call hands out: a bit per CF_ field. */
#define PF(f) (1u << (f))

/* Decrypts the values a notice needs of customer id: only the fields in want, each at the
 * level the policy gives actor a for this customer (a == NULL: the system, whole). A field the
 * policy does not let a read refuses the call (ERR_DENIED, *denied names it); a masked one
 * comes out masked, or is refused when !mask_ok (a letter cannot go to a masked address).
 * ERR_NOT_FOUND when the row is gone or erased (the letter cannot be sent: the person's data
 * no longer exists here). */
static err person_load(vault *v, const actor *a, const char *id, uint32_t want, bool mask_ok,
                       person_vals *p, int *denied)
{
    static const int F[4] = {CF_NAME, CF_EMAIL, CF_PHONE, CF_ADDRESS};
    buf *dst[4] = {&p->name, &p->email, &p->phone, &p->address};
    sealed_customer c;
    sealed_customer_init(&c);
    uint8_t *dek = door_dek_buf();
    buf clear;
    buf_init(&clear, 4096);
    err rc = ERR_OK;
    *denied = -1;
    CHECK(dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    GUARD(id_valid(id) ? store_customer_get(v->st, id, &c) : ERR_NOT_FOUND);
    CHECK(!c.erased, ERR_NOT_FOUND, "no such customer");
    read_level lv[4];
    for (int i = 0; i < 4; i++) {
        lv[i] = !(want & PF(F[i])) ? READ_NONE
                : a ? door_read_level(a, REC_CUSTOMER, F[i], door_same_dept(a, c.department))
                    : READ_FULL;
        if ((want & PF(F[i])) && (lv[i] == READ_NONE || (lv[i] == READ_MASKED && !mask_ok))) {
            *denied = F[i];
            FAIL(ERR_DENIED, "the policy does not let you read a field of a customer in scope");
        }
    }
    GUARD(keyring_dek_unwrap(v->kr, c.id, buf_slice(&c.wrapped_dek), dek));
    snprintf(p->id, sizeof p->id, "%s", c.id);
    snprintf(p->department, sizeof p->department, "%s", c.department);
    p->honeytoken = c.honeytoken;
    for (int i = 0; i < 4; i++) {
        buf_reset(dst[i]);
        if (lv[i] == READ_FULL) {
            GUARD(open_field(dek, &c, F[i], dst[i]));
        } else if (lv[i] == READ_MASKED) {
            GUARD(open_field(dek, &c, F[i], &clear));
            if (clear.len) {
                GUARD(model_mask(model_field(REC_CUSTOMER, F[i]), buf_cstr(&clear), dst[i]));
            }
        }
    }
out:
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    buf_free(&clear);
    sealed_customer_free(&c);
    return rc;
}

/* ---- one document ---- */

static const json_t *scope_customer(const snap *s, const char *customer)
{
    const json_t *c;
    size_t i;
    json_array_foreach(scope_customers(s), i, c)
    {
        if (notifiable(c) && strcmp(json_string_value(json_object_get(c, "id")), customer) == 0) {
            return c;
        }
    }
    return NULL;
}

err door_notices_document(vault *v, const actor *a, const char *id, const char *kind,
                          const char *lang, const char *format, const char *customer, buf *out,
                          const char **content_type, char *filename, size_t cap)
{
    const char *act = "incident.documents";
    TRY(need(v, a, act, 0));
    int k = notice_kind_parse(kind), l = lang_of(lang ? lang : "zh-CN"),
        fmt = notice_format_parse(format ? format : "text");
    ENSURE(k >= 0, ERR_NOT_FOUND, "no such document");
    ENSURE(l >= 0, ERR_INPUT, "lang is zh-CN or en");
    ENSURE(fmt >= 0, ERR_INPUT, "format is text, html or pdf");
    ENSURE(!customer || notice_kind_personal((notice_kind)k), ERR_INPUT,
           "only a letter to a person is for one customer");
    snap s;
    TRY(snap_load(v, id, &s));
    json_t *cfg = NULL;
    tpl_set ts;
    tpls_init(&ts);
    person_vals pv;
    person_init(&pv);
    buf text;
    buf_init(&text, 1 << 20);
    err rc = ERR_OK;
    GUARD(door_notices_cfg_load(v, &cfg));
    GUARD(tpl_load(v, (notice_kind)k, (pb_lang)l, &ts));
    notice_facts f;
    facts_of(&s, cfg, (pb_lang)l, &f);
    notice_approval ap;
    bool approved = approval_of(&s, (notice_kind)k, (pb_lang)l, &ap) &&
                    notice_approval_holds(&ap, (notice_kind)k, (pb_lang)l,
                                          (const char *)ts.text[l].p, ts.text[l].len, &f);
    notice_person p = {.name = l == PB_ZH ? "（客户姓名）" : "(the customer's name)",
                       .fields = f.fields,
                       .categories = f.categories};
    if (customer) {
        const json_t *c = scope_customer(&s, customer);
        if (!c) {
            GUARD(door_deny(v, a, act, NULL, NULL, "not-in-scope", ERR_NOT_FOUND,
                            "no such customer in the incident's scope"));
        }
        sealed_customer sc;
        sealed_customer_init(&sc);
        err e = door_fetch_customer(v, a, act, customer, &sc);
        bool may = e == ERR_OK && door_read_level(a, REC_CUSTOMER, CF_NAME,
                                                  door_same_dept(a, sc.department)) == READ_FULL;
        bool honey = sc.honeytoken;
        char dept[DEPT_MAX + 1];
        snprintf(dept, sizeof dept, "%s", sc.department);
        sealed_customer_free(&sc);
        GUARD(e);
        if (!may) {
            GUARD(door_deny(v, a, act, customer, "name", "notice.preview", ERR_DENIED,
                            "your role may not read this customer's name"));
        }
        exposure(c, &p.fields, &p.categories);
        int denied;
        GUARD(person_load(v, a, customer, PF(CF_NAME), false, &pv, &denied));
        p.name = buf_cstr(&pv.name);
        char what[120];
        snprintf(what, sizeof what, "preview %s %s %s", kind, lang_tag((pb_lang)l),
                 notice_format_type((notice_format)fmt));
        GUARD(audit_doc(v, a, act, s.id, what, customer, "name", 1));
        door_observe_read(v, a, customer, dept, honey, 1, 0, -1);
    } else {
        char what[120];
        snprintf(what, sizeof what, "render %s %s %s", kind, lang_tag((pb_lang)l),
                 notice_format_type((notice_format)fmt));
        GUARD(audit_doc(v, a, act, s.id, what, NULL, NULL, -1));
    }
    if (s.drill) {
        GUARD(buf_append_str(&text, "演练 DRILL: 这是一次应急演练，不是真实事件。This is an "
                                    "exercise, not a real incident.\n\n"));
    }
    if (!approved) {
        GUARD(buf_append_str(&text, "草稿 DRAFT: 未经法务批准。Not approved by legal.\n\n"));
    }
    if (notice_kind_personal((notice_kind)k) && p.fields == 0 && p.categories == 0) {
        FAIL(ERR_CONFLICT, "the scope has not been computed yet, or exposed nobody");
    }
    GUARD(notice_render(ts.t[l], &f, &p, &text));
    char title[160];
    snprintf(title, sizeof title, "%s %s", s.id, kind);
    GUARD(notice_document((notice_format)fmt, title, (pb_lang)l, buf_cstr(&text), s.aware_us, out));
    *content_type = notice_format_type((notice_format)fmt);
    snprintf(filename, cap, "%s-%s.%s.%s", s.id, kind, lang_tag((pb_lang)l),
             fmt == NF_TEXT   ? "txt"
             : fmt == NF_HTML ? "html"
                              : "pdf");
out:
    buf_free(&text);
    person_free(&pv);
    tpls_free(&ts);
    json_decref(cfg);
    snap_free(&s);
    return rc;
}

/* ---- texts and approval ---- */

typedef struct texts_ctx {
    const char *lang;
    json_t *texts;
} texts_ctx;

static err texts_fn(void *ctx, const incident *inc, const json_t *scope, const json_t *notices,
                    json_t **next)
{
    (void)inc;
    (void)scope;
    texts_ctx *c = ctx;
    *next = notices ? json_deep_copy(notices) : json_object();
    ENSURE(*next != NULL, ERR_INTERNAL, "out of memory");
    json_t *all = json_object_get(*next, "texts");
    if (!json_is_object(all)) {
        all = json_object();
        json_object_set_new(*next, "texts", all);
    }
    json_t *mine = json_object_get(all, c->lang);
    if (!json_is_object(mine)) {
        mine = json_object();
        json_object_set_new(all, c->lang, mine);
    }
    json_object_update(mine, c->texts);
    return ERR_OK;
}

err door_notices_texts(vault *v, const actor *a, const char *id, const char *lang,
                       const json_t *texts, json_t **out)
{
    const char *act = "incident.texts";
    TRY(need(v, a, act, ROLE__COUNT));
    ENSURE(lang_of(lang) >= 0, ERR_INPUT, "lang is zh-CN or en");
    ENSURE(json_is_object(texts) && json_object_size(texts) > 0, ERR_INPUT,
           "texts is an object of the documents' texts");
    json_t *clean = json_object();
    ENSURE(clean != NULL, ERR_INTERNAL, "out of memory");
    const char *key;
    const json_t *val;
    err rc = ERR_OK;
    json_object_foreach((json_t *)texts, key, val)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof TEXT_KEYS / sizeof TEXT_KEYS[0]; i++) {
            known = known || strcmp(key, TEXT_KEYS[i]) == 0;
        }
        CHECK(known, ERR_INPUT, "unknown text '%.40s'", key);
        const char *sv = json_string_value(val);
        size_t n = sv ? strlen(sv) : 0;
        CHECK(sv && n > 0 && n <= TEXT_MAX && utf8_valid((const uint8_t *)sv, n), ERR_INPUT,
              "the text '%s' is 1 to %d bytes of UTF-8", key, TEXT_MAX);
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)sv[i];
            CHECK(ch >= 0x20 || ch == '\n', ERR_INPUT, "the text '%s' has a control character",
                  key);
            CHECK(ch != '{' && ch != '}', ERR_INPUT, "the text '%s' has a brace", key);
        }
        json_object_set_new(clean, key, json_string(sv));
    }
    texts_ctx c = {lang, clean};
    GUARD(door_incident_notices(v, id, true, texts_fn, &c));
    char what[80];
    snprintf(what, sizeof what, "texts %s", lang);
    GUARD(audit_doc(v, a, act, id, what, NULL, NULL, (int64_t)json_object_size(clean)));
    rc = door_notices_documents(v, a, id, out);
out:
    json_decref(clean);
    return rc;
}

typedef struct approve_ctx {
    json_t *approvals; /* key -> approval */
} approve_ctx;

static err approve_fn(void *ctx, const incident *inc, const json_t *scope, const json_t *notices,
                      json_t **next)
{
    (void)inc;
    (void)scope;
    approve_ctx *c = ctx;
    *next = notices ? json_deep_copy(notices) : json_object();
    ENSURE(*next != NULL, ERR_INTERNAL, "out of memory");
    json_t *all = json_object_get(*next, "approvals");
    if (!json_is_object(all)) {
        all = json_object();
        json_object_set_new(*next, "approvals", all);
    }
    json_object_update(all, c->approvals);
    return ERR_OK;
}

err door_notices_approve(vault *v, const actor *a, const char *id, const char *kind,
                         const char *lang, json_t **out)
{
    const char *act = "incident.approve";
    TRY(need(v, a, act, ROLE_LEGAL));
    int k = notice_kind_parse(kind);
    ENSURE(k >= 0, ERR_NOT_FOUND, "no such document");
    ENSURE(!lang || lang_of(lang) >= 0, ERR_INPUT, "lang is zh-CN or en");
    snap s;
    TRY(snap_load(v, id, &s));
    json_t *cfg = NULL, *approvals = json_object();
    err rc = ERR_OK;
    CHECK(approvals != NULL, ERR_INTERNAL, "out of memory");
    GUARD(door_notices_cfg_load(v, &cfg));
    int64_t now = clock_now_us();
    for (int l = 0; l < PB__LANGS; l++) {
        if (lang && lang_of(lang) != l) {
            continue;
        }
        tpl_set ts;
        tpls_init(&ts);
        err e = tpl_load(v, (notice_kind)k, (pb_lang)l, &ts);
        if (e == ERR_NOT_FOUND && !lang) {
            tpls_free(&ts);
            continue;
        }
        notice_facts f;
        facts_of(&s, cfg, (pb_lang)l, &f);
        /* legal approves a document that renders: every fact it names is there */
        buf b;
        buf_init(&b, 1 << 20);
        notice_person p = {.name = "-", .fields = f.fields, .categories = f.categories};
        if (e == ERR_OK && notice_kind_personal((notice_kind)k) && !p.fields && !p.categories) {
            e = err_set(ERR_CONFLICT, __FILE__, __LINE__,
                        "the scope has not been computed yet, or exposed nobody");
        }
        if (e == ERR_OK) {
            e = notice_render(ts.t[l], &f, &p, &b);
        }
        buf_free(&b);
        notice_approval ap;
        if (e == ERR_OK) {
            e = notice_approve(&ap, (notice_kind)k, (pb_lang)l, (const char *)ts.text[l].p,
                               ts.text[l].len, &f, a->username, now);
        }
        json_t *j = NULL;
        if (e == ERR_OK) {
            e = notice_approval_to_json(&ap, &j);
        }
        tpls_free(&ts);
        GUARD(e);
        char key[64];
        snprintf(key, sizeof key, "%s/%s", kind, lang_tag((pb_lang)l));
        json_object_set_new(approvals, key, j);
    }
    CHECK(json_object_size(approvals) > 0, ERR_NOT_FOUND, "no template for this document");
    approve_ctx c = {approvals};
    GUARD(door_incident_notices(v, id, true, approve_fn, &c));
    char what[80];
    snprintf(what, sizeof what, "approve %s %s", kind, lang ? lang : "all");
    GUARD(audit_doc(v, a, act, id, what, NULL, NULL, (int64_t)json_object_size(approvals)));
    rc = door_notices_documents(v, a, id, out);
out:
    json_decref(approvals);
    json_decref(cfg);
    snap_free(&s);
    return rc;
}

/* ---- sending ---- */

typedef struct sendset {
    snap s;
    json_t *cfg;
    tpl_set ts;
    notice_facts f[PB__LANGS];
    notice_approval ap[PB__LANGS];
    bool have_ap[PB__LANGS];
    person_vals *pv;
    notice_recipient *r;
    size_t n;
    const char *drill_to[DRILL_RCPT_MAX];
    notice_mailer m;
    notice_send_req q;
} sendset;

static void sendset_free(sendset *x)
{
    for (size_t i = 0; i < x->n; i++) {
        person_free(&x->pv[i]);
    }
    free(x->pv);
    free(x->r);
    tpls_free(&x->ts);
    json_decref(x->cfg);
    snap_free(&x->s);
}

/* Gathers the customers of the scope with their decrypted values and the approved letters. */
static err sendset_load(vault *v, const actor *a, const char *act, const char *id,
                        const json_t *languages, uint32_t want, bool mask_ok, sendset *x)
{
    memset(x, 0, sizeof *x);
    tpls_init(&x->ts);
    TRY(snap_load(v, id, &x->s));
    TRY(door_notices_cfg_load(v, &x->cfg));
    for (int l = 0; l < PB__LANGS; l++) {
        err e = tpl_load(v, NK_CUSTOMER, (pb_lang)l, &x->ts);
        if (e != ERR_OK && e != ERR_NOT_FOUND) {
            return e;
        }
        facts_of(&x->s, x->cfg, (pb_lang)l, &x->f[l]);
        x->have_ap[l] = approval_of(&x->s, NK_CUSTOMER, (pb_lang)l, &x->ap[l]);
    }
    const json_t *cs = scope_customers(&x->s);
    ENSURE(json_array_size(cs) > 0, ERR_CONFLICT,
           "the scope has not been computed yet, or exposed nobody");
    size_t max = json_array_size(cs);
    ENSURE(max <= NOTICE_RECIPIENTS_MAX, ERR_TOO_LARGE, "too many recipients");
    x->pv = calloc(max, sizeof *x->pv);
    x->r = calloc(max, sizeof *x->r);
    ENSURE(x->pv && x->r, ERR_INTERNAL, "out of memory");
    const json_t *c;
    size_t i;
    json_array_foreach(cs, i, c)
    {
        if (!notifiable(c)) {
            continue;
        }
        const char *cid = json_string_value(json_object_get(c, "id"));
        person_vals *p = &x->pv[x->n];
        person_init(p);
        x->n++;
        int denied = -1;
        err e = person_load(v, a, cid, want, mask_ok, p, &denied);
        if (e == ERR_NOT_FOUND) { /* erased since: nobody to write to */
            person_free(p);
            x->n--;
            continue;
        }
        if (e == ERR_DENIED && denied >= 0) {
            return door_deny(v, a, act, cid, model_field(REC_CUSTOMER, denied)->name,
                             "notice.policy", ERR_DENIED,
                             "the policy does not let you read a field of a customer in the "
                             "scope");
        }
        TRY(e);
        notice_recipient *r = &x->r[x->n - 1];
        r->customer = p->id;
        r->name = p->name.len ? buf_cstr(&p->name) : "-";
        r->email = p->email.len ? buf_cstr(&p->email) : NULL;
        r->phone = p->phone.len ? buf_cstr(&p->phone) : NULL;
        r->address = p->address.len ? buf_cstr(&p->address) : NULL;
        int l = lang_of(json_string_value(json_object_get(languages, cid)));
        int dl = lang_of(json_string_value(json_object_get(x->cfg, "default_lang")));
        r->lang = (pb_lang)(l >= 0 ? l : dl >= 0 ? dl : PB_ZH);
        exposure(c, &r->fields, &r->categories);
    }
    /* the mailer: in a drill, only the drill's recipients */
    x->m.smtp_url = json_string_value(json_object_get(x->cfg, "smtp"));
    x->m.from = json_string_value(json_object_get(x->cfg, "from"));
    x->m.plain_loopback = json_is_true(json_object_get(x->cfg, "smtp_plain_loopback"));
    x->m.drill = x->s.drill;
    const json_t *dr = json_object_get(x->cfg, "drill_recipients");
    for (i = 0; i < json_array_size(dr) && x->m.ndrill < DRILL_RCPT_MAX; i++) {
        const char *s = json_string_value(json_array_get(dr, i));
        if (s) {
            x->drill_to[x->m.ndrill++] = s;
        }
    }
    x->m.drill_rcpt = x->drill_to;
    x->q.mailer = &x->m;
    for (int l = 0; l < PB__LANGS; l++) {
        x->q.tpl[l] = x->ts.t[l];
        x->q.tpl_text[l] = x->ts.t[l] ? (const char *)x->ts.text[l].p : NULL;
        x->q.tpl_len[l] = x->ts.text[l].len;
        x->q.approval[l] = x->have_ap[l] ? &x->ap[l] : NULL;
        x->q.facts[l] = &x->f[l];
    }
    x->q.r = x->r;
    x->q.n = x->n;
    x->q.by = a->username;
    x->q.now_us = clock_now_us();
    return ERR_OK;
}

typedef struct claim_ctx {
    sendset *x;
    bool *go;
    notice_send_stats st;
    const err *result; /* settle: per recipient */
    char (*why)[120];
    bool settle;
    json_t *records; /* out: the records after the change */
} claim_ctx;

static err claim_fn(void *ctx, const incident *inc, const json_t *scope, const json_t *notices,
                    json_t **next)
{
    (void)inc;
    (void)scope;
    claim_ctx *c = ctx;
    notice_outbox *o = NULL;
    TRY(notice_outbox_new(&o));
    err rc = ERR_OK;
    const json_t *recs = json_object_get(notices, "records");
    if (recs) {
        GUARD(notice_outbox_from_json(o, recs, c->x->q.now_us));
    }
    if (c->settle) {
        /* counted afresh each time: the change may be applied again on a fresher copy */
        memset(&c->st, 0, sizeof c->st);
        for (size_t i = 0; i < c->x->n; i++) {
            if (c->go[i]) {
                notice_outbox_settle(o, &c->x->q, i, c->result[i], c->why[i], &c->st);
            }
        }
    } else {
        rc = notice_outbox_claim(o, &c->x->q, c->go, &c->st);
        /* a refusal here is not a lost compare-and-set: never retried as one */
        CHECK(rc != ERR_PRECONDITION, ERR_CONFLICT, "the notices cannot be claimed now");
        GUARD(rc);
    }
    *next = notices ? json_deep_copy(notices) : json_object();
    CHECK(*next != NULL, ERR_INTERNAL, "out of memory");
    json_t *r = NULL;
    GUARD(notice_outbox_to_json(o, &r));
    json_object_set_new(*next, "records", r);
    json_decref(c->records);
    c->records = json_incref(r);
out:
    notice_outbox_free(o);
    return rc;
}

static json_t *records_view(const json_t *recs)
{
    json_t *out = json_array();
    const json_t *r;
    size_t i;
    json_array_foreach(recs, i, r)
    {
        json_t *c = json_deep_copy(r);
        if (!c) {
            continue;
        }
        json_object_del(c, "first_us");
        json_object_del(c, "last_us");
        json_object_del(c, "next_us");
        json_object_del(c, "claimed_us");
        json_array_append_new(out, c);
    }
    return out;
}

err door_notices_send(vault *v, const actor *a, const char *id, bool retry, bool force,
                      const json_t *languages, json_t **out)
{
    const char *act = "incident.notify";
    TRY(need(v, a, act, ROLE_CUSTOMER_SERVICE));
    TRY(door_gate(v, a, act));
    sendset x;
    /* a letter goes to the whole address: the sender must be allowed to read it whole */
    err rc = sendset_load(v, a, act, id, languages, PF(CF_NAME) | PF(CF_EMAIL), false, &x);
    claim_ctx c = {.x = &x};
    buf list;
    buf_init(&list, 1 << 20);
    err *result = NULL;
    char(*why)[120] = NULL;
    GUARD(rc);
    x.q.retry_only = retry;
    x.q.force = force;
    c.go = calloc(x.n ? x.n : 1, sizeof *c.go);
    result = calloc(x.n ? x.n : 1, sizeof *result);
    why = calloc(x.n ? x.n : 1, sizeof *why);
    CHECK(c.go && result && why, ERR_INTERNAL, "out of memory");
    GUARD(notice_send_check(&x.q)); /* approvals, before anything is written */
    /* 1. claim (written: no other sender takes these) */
    GUARD(door_incident_notices(v, id, true, claim_fn, &c));
    notice_send_stats claimed = c.st;
    /* 2. mail, outside any write */
    for (size_t i = 0; i < x.n; i++) {
        if (c.go[i]) {
            result[i] = notice_deliver(&x.q, i, why[i], sizeof why[i]);
        }
    }
    /* 3. settle the outcomes */
    c.settle = true;
    c.result = result;
    c.why = why;
    memset(&c.st, 0, sizeof c.st);
    GUARD(door_incident_notices(v, id, true, claim_fn, &c));
    char what[120];
    snprintf(what, sizeof what, "%s sent=%zu failed=%zu no-address=%zu%s", retry ? "retry" : "send",
             c.st.sent, c.st.failed, claimed.no_address, x.s.drill ? " drill" : "");
    /* the customers whose name and address went out, for a later scope of the sender */
    for (size_t i = 0; i < x.n; i++) {
        if (c.go[i] && result[i] == ERR_OK && x.r[i].email) {
            GUARD(buf_appendf(&list, "%s%s", list.len ? "," : "", x.r[i].customer));
        }
    }
    GUARD(audit_many(v, a, act, id, what, list.len ? buf_cstr(&list) : NULL, "name,email",
                     (int64_t)c.st.sent));
    char next[40] = "";
    if (c.st.next_retry_us) {
        clock_rfc3339(c.st.next_retry_us, next);
    }
    *out = json_pack("{s:I,s:I,s:I,s:I,s:o,s:o}", "sent", (json_int_t)c.st.sent, "failed",
                     (json_int_t)c.st.failed, "skipped", (json_int_t)claimed.skipped, "no_address",
                     (json_int_t)claimed.no_address, "next_retry_at",
                     next[0] ? json_string(next) : json_null(), "records", records_view(c.records));
    CHECK(*out != NULL, ERR_INTERNAL, "out of memory");
out:
    buf_free(&list);
    json_decref(c.records);
    free(c.go);
    free(result);
    free(why);
    sendset_free(&x);
    return rc;
}

err door_notices_records(vault *v, const actor *a, const char *id, json_t **out)
{
    const char *act = "incident.notices";
    TRY(need(v, a, act, 0));
    snap s;
    TRY(snap_load(v, id, &s));
    err rc = audit_doc(v, a, act, s.id, "records", NULL, NULL, -1);
    if (rc == ERR_OK) {
        json_t *recs = json_object_get(s.notices, "records");
        *out = json_pack("{s:o,s:b}", "records", records_view(recs), "drill", s.drill);
        rc = *out ? ERR_OK : err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
    }
    snap_free(&s);
    return rc;
}

/* ---- the SMS/post export: a second person ---- */

typedef struct xap_ctx {
    const char *channel;
    json_t *approval;
} xap_ctx;

static err xap_fn(void *ctx, const incident *inc, const json_t *scope, const json_t *notices,
                  json_t **next)
{
    (void)inc;
    xap_ctx *c = ctx;
    const json_t *cp = scope_checkpoint(scope);
    ENSURE(cp != NULL, ERR_CONFLICT, "the scope has not been computed yet");
    *next = notices ? json_deep_copy(notices) : json_object();
    ENSURE(*next != NULL, ERR_INTERNAL, "out of memory");
    json_t *all = json_object_get(*next, "export_approvals");
    if (!json_is_object(all)) {
        all = json_object();
        json_object_set_new(*next, "export_approvals", all);
    }
    /* bound to the scope it was given for (applied again on a fresher copy: re-read) */
    json_object_set_new(c->approval, "checkpoint", json_deep_copy(cp));
    json_object_set(all, c->channel, c->approval);
    return ERR_OK;
}

err door_notices_export_approve(vault *v, const actor *a, const char *id, const char *channel,
                                json_t **out)
{
    const char *act = "incident.notices.export.approve";
    TRY(need(v, a, act, 0));
    if (a->role != ROLE_DATA_STEWARD && a->role != ROLE_LEGAL) {
        return door_deny(v, a, act, NULL, NULL, "incident.export.approve", ERR_DENIED,
                         "a data steward or legal approves an export of the notices");
    }
    TRY(door_gate(v, a, act));
    int ch = notice_channel_parse(channel ? channel : "");
    ENSURE(ch == NCH_SMS || ch == NCH_POST, ERR_INPUT, "channel is sms or post");
    char at[40];
    clock_rfc3339(clock_now_us(), at);
    xap_ctx c = {ch == NCH_SMS ? "sms" : "post",
                 json_pack("{s:s,s:s}", "approved_by", a->username, "approved_at", at)};
    ENSURE(c.approval != NULL, ERR_INTERNAL, "out of memory");
    err rc = door_incident_notices(v, id, true, xap_fn, &c);
    char what[80];
    snprintf(what, sizeof what, "approve export %s", c.channel);
    if (rc == ERR_OK) {
        rc = audit_doc(v, a, act, id, what, NULL, NULL, -1);
    }
    if (rc == ERR_OK) {
        *out = json_pack("{s:s,s:O,s:O}", "channel", c.channel, "approved_by",
                         json_object_get(c.approval, "approved_by"), "approved_at",
                         json_object_get(c.approval, "approved_at"));
        rc = *out ? ERR_OK : err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
    }
    json_decref(c.approval);
    return rc;
}

err door_notices_export(vault *v, const actor *a, const char *id, const char *channel,
                        const json_t *languages, buf *out)
{
    const char *act = "incident.notices.export";
    TRY(need(v, a, act, ROLE_CUSTOMER_SERVICE));
    TRY(door_gate(v, a, act));
    int ch = notice_channel_parse(channel);
    ENSURE(ch == NCH_SMS || ch == NCH_POST, ERR_INPUT, "channel is sms or post");
    const char *chn = ch == NCH_SMS ? "sms" : "post";
    int where = ch == NCH_SMS ? CF_PHONE : CF_ADDRESS;
    /* a second person: an approval for this channel, of this scope, by someone else */
    snap s;
    TRY(snap_load(v, id, &s));
    if (s.drill) {
        snap_free(&s);
        ENSURE(false, ERR_CONFLICT,
               "a drill's notices are not exported: they go only to the drill's recipients");
    }
    const json_t *xa = json_object_get(json_object_get(s.notices, "export_approvals"), chn);
    const char *who = json_string_value(json_object_get(xa, "approved_by"));
    char by[USERNAME_MAX + 1] = "";
    bool approved = xa && who && strcmp(who, a->username) != 0 && scope_checkpoint(s.scope) &&
                    json_equal(json_object_get(xa, "checkpoint"), scope_checkpoint(s.scope));
    if (approved) {
        snprintf(by, sizeof by, "%s", who);
    }
    snap_free(&s);
    if (!approved) {
        return door_deny(v, a, act, NULL, NULL, "incident.export.second-person", ERR_PRECONDITION,
                         "the export needs the approval of a data steward or legal other than "
                         "you, for this channel and the incident's current scope");
    }
    sendset x;
    buf list;
    buf_init(&list, 1 << 20);
    /* the policy per customer and field: refused, or masked as it says */
    err rc = sendset_load(v, a, act, id, languages, PF(CF_NAME) | PF(where), true, &x);
    GUARD(rc);
    GUARD(notice_export_csv(&x.q, (notice_channel)ch, out));
    for (size_t i = 0; i < x.n; i++) {
        const char *w = ch == NCH_SMS ? x.r[i].phone : x.r[i].address;
        if (w && w[0]) {
            GUARD(buf_appendf(&list, "%s%s", list.len ? "," : "", x.r[i].customer));
        }
    }
    char what[80];
    snprintf(what, sizeof what, "export %s approved-by=%s", chn, by);
    GUARD(audit_many(v, a, act, id, what, list.len ? buf_cstr(&list) : NULL,
                     ch == NCH_SMS ? "name,phone" : "name,address", (int64_t)x.n));
    /* the guard sees a bulk export of names and addresses as the reads they are */
    for (size_t i = 0; i < x.n; i++) {
        door_observe_read(v, a, x.pv[i].id, x.pv[i].department, x.pv[i].honeytoken, 1, 0, -1);
    }
out:
    buf_free(&list);
    sendset_free(&x);
    return rc;
}
