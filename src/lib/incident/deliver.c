/*
 * deliver.c - customer notices out by e-mail, the record per customer, retries with backoff,
 * the SMS/post export and legal's approval (deliver.h).
 */
#include "incident/deliver.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "core/smtp.h"
#include "core/utf8.h"
#include "crypto/crypto.h"
#include "incident/pdf.h"

/* ---- formats ---- */

static const char *const FORMAT_NAMES[NF__COUNT] = {"text", "html", "pdf"};
static const char *const FORMAT_TYPES[NF__COUNT] = {"text/plain; charset=utf-8",
                                                    "text/html; charset=utf-8", "application/pdf"};

int notice_format_parse(const char *s)
{
    for (int i = 0; s && i < NF__COUNT; i++) {
        if (strcmp(s, FORMAT_NAMES[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *notice_format_type(notice_format f)
{
    return f < NF__COUNT ? FORMAT_TYPES[f] : "application/octet-stream";
}

static const char *lang_tag(pb_lang l)
{
    return l == PB_EN ? "en" : "zh-CN";
}

err notice_document(notice_format f, const char *title, pb_lang lang, const char *text,
                    int64_t created_us, buf *out)
{
    switch (f) {
    case NF_TEXT:
        ENSURE(utf8_valid((const uint8_t *)text, strlen(text)), ERR_INPUT,
               "a document is UTF-8 text");
        return buf_append_str(out, text);
    case NF_HTML:
        return notice_html(title, lang_tag(lang), text, out);
    case NF_PDF: {
        pdf_doc d = {
            .title = title, .lang = lang_tag(lang), .text = text, .created_us = created_us};
        return pdf_render(&d, out);
    }
    default:
        BAIL(ERR_INPUT, "unknown format");
    }
}

/* ---- approval ---- */

void notice_tpl_digest(const char *text, size_t len, char hex[65])
{
    uint8_t h[32];
    hash_sha256((const uint8_t *)text, len, h);
    hex_encode(hex, h, 32);
}

static err put_str(buf *b, const char *tag, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    /* tag, presence, length, bytes: no two sets of facts share a serialisation */
    TRY(buf_appendf(b, "%s:%c%zu:", tag, s ? 's' : 'n', n));
    return n ? buf_append(b, s, n) : ERR_OK;
}

err notice_facts_digest(const notice_facts *f, char hex[65])
{
    buf b;
    buf_init(&b, (size_t)8 << 20);
    err rc = ERR_OK;
    GUARD(buf_append_str(&b, "custos-notice-facts-1\n"));
    GUARD(put_str(&b, "company", f->company));
    GUARD(put_str(&b, "system", f->system));
    GUARD(put_str(&b, "contact_phone", f->contact_phone));
    GUARD(put_str(&b, "contact_email", f->contact_email));
    GUARD(put_str(&b, "incident", f->incident_ref));
    GUARD(put_str(&b, "event_type", f->event_type));
    GUARD(put_str(&b, "tz_label", f->tz_label));
    GUARD(buf_appendf(&b,
                      "discovered:%lld from:%lld to:%lld tz:%ld people:%lld records:%lld "
                      "fields:%lu categories:%lu\n",
                      (long long)f->discovered_us, (long long)f->from_us, (long long)f->to_us,
                      (long)f->tz_offset_s, (long long)f->people, (long long)f->records,
                      (unsigned long)f->fields, (unsigned long)f->categories));
    GUARD(put_str(&b, "measures", f->measures));
    GUARD(put_str(&b, "impact", f->impact));
    GUARD(put_str(&b, "cause", f->cause));
    GUARD(put_str(&b, "handling", f->handling));
    GUARD(put_str(&b, "harm", f->harm));
    GUARD(put_str(&b, "accountability", f->accountability));
    GUARD(put_str(&b, "remediation", f->remediation));
    GUARD(put_str(&b, "lessons", f->lessons));
    GUARD(put_str(&b, "customer_steps", f->customer_steps));
    uint8_t h[32];
    hash_sha256(b.p, b.len, h);
    hex_encode(hex, h, 32);
out:
    buf_free(&b);
    return rc;
}

err notice_approve(notice_approval *a, notice_kind k, pb_lang l, const char *tpl_text,
                   size_t tpl_len, const notice_facts *f, const char *by, int64_t now_us)
{
    ENSURE(by && by[0] && strlen(by) < NOTICE_ID_MAX && tpl_text && f, ERR_INPUT,
           "an approval needs the approver, the template and the facts");
    memset(a, 0, sizeof *a);
    a->kind = k;
    a->lang = l;
    notice_tpl_digest(tpl_text, tpl_len, a->tpl_sha256);
    TRY(notice_facts_digest(f, a->facts_sha256));
    snprintf(a->by, sizeof a->by, "%s", by);
    a->at_us = now_us;
    return ERR_OK;
}

static bool hex_eq(const char *a, const char *b)
{
    return mem_eq_ct(a, b, 64);
}

bool notice_approval_holds(const notice_approval *a, notice_kind k, pb_lang l, const char *tpl_text,
                           size_t tpl_len, const notice_facts *f)
{
    if (!a || !tpl_text || !f || a->kind != k || a->lang != l || a->by[0] == 0) {
        return false;
    }
    char th[65], fh[65];
    notice_tpl_digest(tpl_text, tpl_len, th);
    if (notice_facts_digest(f, fh) != ERR_OK) {
        return false;
    }
    bool t_ok = hex_eq(th, a->tpl_sha256), f_ok = hex_eq(fh, a->facts_sha256);
    return t_ok && f_ok;
}

err notice_approval_to_json(const notice_approval *a, json_t **out)
{
    char at[40];
    clock_rfc3339(a->at_us, at);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "kind", notice_kind_name(a->kind),
                          "lang", lang_tag(a->lang), "template_sha256", a->tpl_sha256,
                          "facts_sha256", a->facts_sha256, "approved_by", a->by, "approved_at", at,
                          "approved_us", (json_int_t)a->at_us);
    ENSURE(j != NULL, ERR_INTERNAL, "out of memory");
    *out = j;
    return ERR_OK;
}

static bool hex64(const char *s)
{
    if (!s || strlen(s) != 64) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
            return false;
        }
    }
    return true;
}

static int lang_parse(const char *s)
{
    return s && strcmp(s, "en") == 0 ? PB_EN : s && strcmp(s, "zh-CN") == 0 ? PB_ZH : -1;
}

err notice_approval_from_json(const json_t *j, notice_approval *a)
{
    const char *kind = NULL, *lang = NULL, *th = NULL, *fh = NULL, *by = NULL;
    json_int_t at = 0;
    ENSURE(json_unpack((json_t *)j, "{s:s,s:s,s:s,s:s,s:s,s:I}", "kind", &kind, "lang", &lang,
                       "template_sha256", &th, "facts_sha256", &fh, "approved_by", &by,
                       "approved_us", &at) == 0,
           ERR_INPUT, "an approval lacks a member");
    int k = notice_kind_parse(kind), l = lang_parse(lang);
    ENSURE(k >= 0 && l >= 0 && hex64(th) && hex64(fh) && strlen(by) > 0 &&
               strlen(by) < NOTICE_ID_MAX,
           ERR_INPUT, "an approval is malformed");
    memset(a, 0, sizeof *a);
    a->kind = (notice_kind)k;
    a->lang = (pb_lang)l;
    memcpy(a->tpl_sha256, th, 65);
    memcpy(a->facts_sha256, fh, 65);
    snprintf(a->by, sizeof a->by, "%s", by);
    a->at_us = at;
    return ERR_OK;
}

/* ---- records ---- */

static const char *const CHANNEL_NAMES[NCH__COUNT] = {"email", "sms", "post"};
static const char *const OUTCOME_NAMES[NO__COUNT] = {"pending", "sending", "sent",
                                                     "failed",  "gave-up", "no-address"};

const char *notice_channel_name(notice_channel c)
{
    return c < NCH__COUNT ? CHANNEL_NAMES[c] : "none";
}

int notice_channel_parse(const char *s)
{
    for (int i = 0; s && i < NCH__COUNT; i++) {
        if (strcmp(s, CHANNEL_NAMES[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *notice_outcome_name(notice_outcome o)
{
    return o < NO__COUNT ? OUTCOME_NAMES[o] : "none";
}

struct notice_outbox {
    pthread_mutex_t mu;
    notice_record *rec;
    size_t n, cap;
    size_t *index; /* open addressing by customer id: slot -> record + 1 (0 empty) */
    size_t icap;
};

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    }
    return h;
}

static notice_record *find(notice_outbox *o, const char *customer)
{
    if (o->icap == 0) {
        return NULL;
    }
    for (size_t i = fnv(customer) & (o->icap - 1);; i = (i + 1) & (o->icap - 1)) {
        if (o->index[i] == 0) {
            return NULL;
        }
        notice_record *r = &o->rec[o->index[i] - 1];
        if (strcmp(r->customer, customer) == 0) {
            return r;
        }
    }
}

static err reindex(notice_outbox *o, size_t icap)
{
    size_t *ix = calloc(icap, sizeof *ix);
    ENSURE(ix != NULL, ERR_INTERNAL, "out of memory");
    for (size_t k = 0; k < o->n; k++) {
        size_t i = fnv(o->rec[k].customer) & (icap - 1);
        while (ix[i] != 0) {
            i = (i + 1) & (icap - 1);
        }
        ix[i] = k + 1;
    }
    free(o->index);
    o->index = ix;
    o->icap = icap;
    return ERR_OK;
}

/* The record of customer, made pending when new. */
static err record_of(notice_outbox *o, const char *customer, notice_record **out)
{
    notice_record *r = find(o, customer);
    if (r) {
        *out = r;
        return ERR_OK;
    }
    ENSURE(o->n < NOTICE_RECIPIENTS_MAX, ERR_TOO_LARGE, "too many recipients");
    ENSURE(strlen(customer) > 0 && strlen(customer) < NOTICE_ID_MAX, ERR_INPUT,
           "a customer id is malformed");
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        notice_record *nr = realloc(o->rec, cap * sizeof *nr);
        ENSURE(nr != NULL, ERR_INTERNAL, "out of memory");
        o->rec = nr;
        o->cap = cap;
    }
    r = &o->rec[o->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->customer, sizeof r->customer, "%s", customer);
    if (o->n * 2 > o->icap) {
        TRY(reindex(o, o->icap ? o->icap * 2 : 128));
    } else {
        size_t i = fnv(customer) & (o->icap - 1);
        while (o->index[i] != 0) {
            i = (i + 1) & (o->icap - 1);
        }
        o->index[i] = o->n;
    }
    *out = r;
    return ERR_OK;
}

err notice_outbox_new(notice_outbox **out)
{
    notice_outbox *o = calloc(1, sizeof *o);
    ENSURE(o != NULL, ERR_INTERNAL, "out of memory");
    pthread_mutex_init(&o->mu, NULL);
    *out = o;
    return ERR_OK;
}

void notice_outbox_free(notice_outbox *o)
{
    if (!o) {
        return;
    }
    pthread_mutex_destroy(&o->mu);
    free(o->rec);
    free(o->index);
    free(o);
}

bool notice_outbox_get(notice_outbox *o, const char *customer, notice_record *out)
{
    pthread_mutex_lock(&o->mu);
    notice_record *r = find(o, customer);
    if (r) {
        *out = *r;
    }
    pthread_mutex_unlock(&o->mu);
    return r != NULL;
}

static void put_time(json_t *j, const char *key, int64_t us)
{
    if (us == 0) {
        json_object_set_new(j, key, json_null());
        return;
    }
    char t[40];
    clock_rfc3339(us, t);
    json_object_set_new(j, key, json_string(t));
}

err notice_outbox_to_json(notice_outbox *o, json_t **out)
{
    json_t *a = json_array();
    ENSURE(a != NULL, ERR_INTERNAL, "out of memory");
    pthread_mutex_lock(&o->mu);
    for (size_t i = 0; i < o->n; i++) {
        const notice_record *r = &o->rec[i];
        json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:I,s:I,s:I}", "customer", r->customer,
                              "channel", notice_channel_name(r->channel), "lang", lang_tag(r->lang),
                              "outcome", notice_outcome_name(r->outcome), "attempts", r->attempts,
                              "by", r->by, "first_us", (json_int_t)r->first_us, "last_us",
                              (json_int_t)r->last_us, "next_us", (json_int_t)r->next_us);
        if (!j) {
            continue;
        }
        json_object_set_new(j, "claimed_us", json_integer((json_int_t)r->claimed_us));
        put_time(j, "first_at", r->first_us);
        put_time(j, "last_at", r->last_us);
        put_time(j, "next_at", r->outcome == NO_FAILED ? r->next_us : 0);
        json_object_set_new(j, "error", r->error[0] ? json_string(r->error) : json_null());
        json_array_append_new(a, j);
    }
    pthread_mutex_unlock(&o->mu);
    *out = a;
    return ERR_OK;
}

static int outcome_parse(const char *s)
{
    for (int i = 0; s && i < NO__COUNT; i++) {
        if (strcmp(s, OUTCOME_NAMES[i]) == 0) {
            return i;
        }
    }
    return -1;
}

err notice_outbox_from_json(notice_outbox *o, const json_t *records, int64_t now_us)
{
    ENSURE(json_is_array(records), ERR_INPUT, "the notice records are not a list");
    err rc = ERR_OK;
    pthread_mutex_lock(&o->mu);
    size_t i;
    const json_t *j;
    json_array_foreach(records, i, j)
    {
        const char *cust = NULL, *ch = NULL, *lang = NULL, *oc = NULL, *by = NULL;
        json_int_t att = 0, first = 0, last = 0, next = 0, claimed = 0;
        const json_t *e = json_object_get(j, "error");
        CHECK(json_unpack((json_t *)j, "{s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:I,s:I}", "customer", &cust,
                          "channel", &ch, "lang", &lang, "outcome", &oc, "attempts", &att, "by",
                          &by, "first_us", &first, "last_us", &last, "next_us", &next) == 0,
              ERR_INPUT, "a notice record lacks a member");
        int c = notice_channel_parse(ch), l = lang_parse(lang), out = outcome_parse(oc);
        CHECK(c >= 0 && l >= 0 && out >= 0 && att >= 0 && att <= 1000 && strlen(by) < NOTICE_ID_MAX,
              ERR_INPUT, "a notice record is malformed");
        notice_record *r = NULL;
        GUARD(record_of(o, cust, &r));
        r->channel = (notice_channel)c;
        r->lang = (pb_lang)l;
        claimed = json_integer_value(json_object_get(j, "claimed_us"));
        /* a send claimed long ago whose outcome never came back is not known to have
         * happened: it is retried (the receiver may see it twice, never not at all) */
        bool stale = out == NO_SENDING && claimed < now_us - NOTICE_CLAIM_STALE_S * 1000000LL;
        r->outcome = stale ? NO_FAILED : (notice_outcome)out;
        r->claimed_us = stale ? 0 : claimed;
        r->attempts = (int)att;
        r->first_us = first;
        r->last_us = last;
        r->next_us = next;
        snprintf(r->by, sizeof r->by, "%s", by);
        snprintf(r->error, sizeof r->error, "%s", json_is_string(e) ? json_string_value(e) : "");
    }
out:
    pthread_mutex_unlock(&o->mu);
    return rc;
}

/* ---- sending ---- */

static int64_t backoff_us(int attempts)
{
    int64_t s = NOTICE_BACKOFF_FIRST_S;
    for (int i = 1; i < attempts && s < NOTICE_BACKOFF_MAX_S; i++) {
        s *= 2;
    }
    return (s > NOTICE_BACKOFF_MAX_S ? NOTICE_BACKOFF_MAX_S : s) * 1000000LL;
}

static bool approved(const notice_send_req *q, pb_lang l)
{
    return q->tpl[l] && q->tpl_text[l] && q->facts[l] &&
           notice_tpl_kind(q->tpl[l]) == NK_CUSTOMER && notice_tpl_lang(q->tpl[l]) == l &&
           notice_approval_holds(q->approval[l], NK_CUSTOMER, l, q->tpl_text[l], q->tpl_len[l],
                                 q->facts[l]);
}

static err check_approvals(const notice_send_req *q)
{
    bool need[PB__LANGS] = {false};
    for (size_t i = 0; i < q->n; i++) {
        ENSURE(q->r[i].lang < PB__LANGS, ERR_INPUT, "unknown language");
        need[q->r[i].lang] = true;
    }
    for (int l = 0; l < PB__LANGS; l++) {
        ENSURE(!need[l] || approved(q, (pb_lang)l), ERR_PRECONDITION,
               "the customer notice in %s is not approved for this template and these facts",
               lang_tag((pb_lang)l));
    }
    return ERR_OK;
}

/* The letter's subject on one line, without characters a header cannot carry. */
static err subject_of(const notice_tpl *t, const notice_facts *f, const notice_person *p,
                      bool drill, char *out, size_t cap)
{
    buf b;
    buf_init(&b, 4096);
    err rc = notice_render_section(t, "subject", f, p, &b);
    if (rc == ERR_OK) {
        char *s = (char *)buf_cstr(&b);
        for (char *c = s; *c; c++) {
            if ((unsigned char)*c < 0x20 || *c == '<' || *c == '>' || *c == 0x7f) {
                *c = ' ';
            }
        }
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == ' ') {
            s[--n] = 0;
        }
        /* cut on a character boundary within the header's limit */
        size_t lim = cap - 1 < SMTP_SUBJECT_MAX - 40 ? cap - 1 : SMTP_SUBJECT_MAX - 40;
        if (n > lim) {
            n = lim;
            while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
                n--;
            }
            s[n] = 0;
        }
        snprintf(out, cap, "%s%s", drill ? "[演练 DRILL] " : "", s);
    }
    buf_free(&b);
    return rc;
}

static err send_one(const notice_send_req *q, const notice_recipient *r, char *why, size_t cap)
{
    const notice_mailer *m = q->mailer;
    notice_person p = {.name = r->name, .fields = r->fields, .categories = r->categories};
    buf text;
    buf_init(&text, 1 << 20);
    char subject[SMTP_SUBJECT_MAX];
    err rc = ERR_OK;
    if (m->drill) {
        GUARD(buf_append_str(&text, "演练 DRILL: 这是一次应急演练，不是真实事件。This is an "
                                    "exercise, not a real incident.\n\n"));
    }
    GUARD(notice_render(q->tpl[r->lang], q->facts[r->lang], &p, &text));
    GUARD(subject_of(q->tpl[r->lang], q->facts[r->lang], &p, m->drill, subject, sizeof subject));
    const char *one[1] = {r->email};
    smtp_msg msg = {.url = m->smtp_url,
                    .from = m->from,
                    /* a drill's mail goes to the drill's recipients and nowhere else */
                    .to = m->drill ? m->drill_rcpt : one,
                    .nto = m->drill ? m->ndrill : 1,
                    .subject = subject,
                    .msgid_host = "custos-notices",
                    .body = buf_cstr(&text),
                    .plain_loopback = m->plain_loopback};
    rc = smtp_send(&msg);
out:
    if (rc != ERR_OK) {
        snprintf(why, cap, "%s", err_message());
    }
    buf_free(&text);
    return rc;
}

err notice_send_check(const notice_send_req *q)
{
    ENSURE(q && q->mailer && q->by && q->by[0] && strlen(q->by) < NOTICE_ID_MAX &&
               (q->n == 0 || q->r),
           ERR_INPUT, "a send needs the mailer, the sender and the recipients");
    ENSURE(q->n <= NOTICE_RECIPIENTS_MAX, ERR_TOO_LARGE, "too many recipients");
    const notice_mailer *m = q->mailer;
    ENSURE(m->smtp_url && m->from, ERR_PRECONDITION, "no mail server is configured");
    if (m->drill) {
        ENSURE(m->ndrill > 0 && m->drill_rcpt, ERR_PRECONDITION,
               "a drill's notices go only to the drill's recipients, and it has none");
        for (size_t i = 0; i < m->ndrill; i++) {
            ENSURE(smtp_addr_ok(m->drill_rcpt[i]), ERR_INPUT, "a drill recipient is malformed");
        }
    }
    for (size_t i = 0; i < q->n; i++) {
        const notice_recipient *r = &q->r[i];
        ENSURE(r->customer && r->name && (r->fields || r->categories), ERR_INPUT,
               "a recipient lacks the customer or what was exposed");
    }
    return check_approvals(q);
}

/* Claims recipient i under the lock: true when this caller is to send it now. */
static err claim_one(notice_outbox *o, const notice_send_req *q, size_t i, bool *go,
                     notice_send_stats *st)
{
    const notice_recipient *r = &q->r[i];
    notice_record *rec = NULL;
    TRY(record_of(o, r->customer, &rec));
    bool has_addr = q->mailer->drill || (r->email && smtp_addr_ok(r->email));
    switch (rec->outcome) {
    case NO_PENDING:
    case NO_NO_ADDRESS:
        *go = !q->retry_only;
        break;
    case NO_FAILED:
        *go = q->force || rec->next_us <= q->now_us;
        break;
    case NO_GAVE_UP:
        *go = q->force;
        break;
    default: /* sent, or being sent by another call */
        *go = false;
    }
    if (*go && !has_addr) {
        rec->outcome = NO_NO_ADDRESS;
        rec->channel = NCH_EMAIL;
        rec->lang = r->lang;
        st->no_address++;
        *go = false;
    } else if (!*go) {
        st->skipped++;
    } else {
        rec->outcome = NO_SENDING;
        rec->claimed_us = q->now_us;
    }
    return ERR_OK;
}

err notice_outbox_claim(notice_outbox *o, const notice_send_req *q, bool *go, notice_send_stats *st)
{
    memset(st, 0, sizeof *st);
    TRY(notice_send_check(q));
    err e = ERR_OK;
    pthread_mutex_lock(&o->mu);
    for (size_t i = 0; i < q->n && e == ERR_OK; i++) {
        e = claim_one(o, q, i, &go[i], st);
    }
    pthread_mutex_unlock(&o->mu);
    return e;
}

err notice_deliver(const notice_send_req *q, size_t i, char *why, size_t cap)
{
    why[0] = 0;
    return send_one(q, &q->r[i], why, cap);
}

void notice_outbox_settle(notice_outbox *o, const notice_send_req *q, size_t i, err result,
                          const char *why, notice_send_stats *st)
{
    pthread_mutex_lock(&o->mu);
    notice_record *rec = NULL;
    if (record_of(o, q->r[i].customer, &rec) != ERR_OK) {
        pthread_mutex_unlock(&o->mu);
        return;
    }
    rec->channel = NCH_EMAIL;
    rec->lang = q->r[i].lang;
    rec->attempts++;
    if (rec->first_us == 0) {
        rec->first_us = q->now_us;
    }
    rec->last_us = q->now_us;
    rec->claimed_us = 0;
    snprintf(rec->by, sizeof rec->by, "%s", q->by);
    if (result == ERR_OK) {
        rec->outcome = NO_SENT;
        rec->next_us = 0;
        rec->error[0] = 0;
        st->sent++;
    } else {
        rec->outcome = rec->attempts >= NOTICE_ATTEMPTS_MAX ? NO_GAVE_UP : NO_FAILED;
        rec->next_us = rec->outcome == NO_FAILED ? q->now_us + backoff_us(rec->attempts) : 0;
        snprintf(rec->error, sizeof rec->error, "%s", why ? why : "");
        st->failed++;
        if (rec->outcome == NO_FAILED &&
            (st->next_retry_us == 0 || rec->next_us < st->next_retry_us)) {
            st->next_retry_us = rec->next_us;
        }
    }
    pthread_mutex_unlock(&o->mu);
}

err notice_outbox_send(notice_outbox *o, const notice_send_req *q, notice_send_stats *st)
{
    memset(st, 0, sizeof *st);
    TRY(notice_send_check(q));
    for (size_t i = 0; i < q->n; i++) {
        bool go = false;
        pthread_mutex_lock(&o->mu);
        err e = claim_one(o, q, i, &go, st);
        pthread_mutex_unlock(&o->mu);
        TRY(e);
        if (!go) {
            continue;
        }
        char why[120];
        e = notice_deliver(q, i, why, sizeof why);
        notice_outbox_settle(o, q, i, e, why, st);
    }
    return ERR_OK;
}

/* ---- export ---- */

err notice_csv_cell(buf *out, const char *s)
{
    TRY(buf_append_byte(out, '"'));
    if (s && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
              s[0] == '\r')) {
        TRY(buf_append_byte(out, '\''));
    }
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '"') {
            TRY(buf_append_str(out, "\"\""));
        } else {
            TRY(buf_append_byte(out, (uint8_t)*p));
        }
    }
    return buf_append_byte(out, '"');
}

static err row(buf *out, const char *const *cells, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i) {
            TRY(buf_append_byte(out, ','));
        }
        TRY(notice_csv_cell(out, cells[i]));
    }
    return buf_append_str(out, "\r\n");
}

err notice_export_csv(const notice_send_req *q, notice_channel ch, buf *out)
{
    ENSURE(q && q->mailer && (q->n == 0 || q->r), ERR_INPUT, "an export needs the recipients");
    ENSURE(ch == NCH_SMS || ch == NCH_POST, ERR_INPUT, "an export is for sms or post");
    ENSURE(!q->mailer->drill, ERR_CONFLICT,
           "a drill's notices are not exported: they go only to the drill's recipients");
    TRY(check_approvals(q));
    const char *head[6] = {"customer", "name",    ch == NCH_SMS ? "phone" : "address",
                           "lang",     "subject", "text"};
    TRY(row(out, head, 6));
    err rc = ERR_OK;
    buf text, contact;
    buf_init(&text, 1 << 20);
    buf_init(&contact, 1 << 16);
    for (size_t i = 0; i < q->n; i++) {
        const notice_recipient *r = &q->r[i];
        const char *where = ch == NCH_SMS ? r->phone : r->address;
        if (!where || !where[0]) {
            continue;
        }
        CHECK(r->customer && r->name && (r->fields || r->categories) && r->lang < PB__LANGS,
              ERR_INPUT, "a recipient lacks the customer or what was exposed");
        notice_person p = {.name = r->name, .fields = r->fields, .categories = r->categories};
        char subject[SMTP_SUBJECT_MAX];
        GUARD(subject_of(q->tpl[r->lang], q->facts[r->lang], &p, false, subject, sizeof subject));
        buf_reset(&text);
        if (ch == NCH_SMS) {
            buf_reset(&contact);
            GUARD(
                notice_render_section(q->tpl[r->lang], "contact", q->facts[r->lang], &p, &contact));
            GUARD(buf_appendf(&text, "%s\n%s", subject, buf_cstr(&contact)));
        } else {
            GUARD(notice_render(q->tpl[r->lang], q->facts[r->lang], &p, &text));
        }
        const char *cells[6] = {r->customer,       r->name, where,
                                lang_tag(r->lang), subject, buf_cstr(&text)};
        GUARD(row(out, cells, 6));
    }
out:
    buf_free(&text);
    buf_free(&contact);
    return rc;
}
