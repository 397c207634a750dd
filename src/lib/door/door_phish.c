/*
 * door_phish.c - simulated phishing through the door (door_phish.h). Templates and
 * pages are training/phish.c's; this file authorizes, audits, keeps the rows, sends
 * through SMTP, and decides whether a tracking request counts.
 *
 * The tracking routes answer strangers, so a request counts only when all of these
 * hold: the id is one a mail was sent with (256 random bits; the store keeps only its
 * hash), the campaign is still tracking, the client is inside the campaign's networks,
 * and nothing marks it as a machine's (scanner filter). Each event counts once per
 * mail, in one guarded UPDATE, so a replay changes nothing; a clicker is assigned the
 * remedial course once. The answer is the same page whatever happened, and no code
 * path here reads a customer row.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/smtp.h"
#include "door/door_int.h"
#include "door/door_phish.h"
#include "door/door_training.h"
#include "guard/guard.h"
#include "store/store_phish.h"
#include "store/store_training.h"
#include "training/phish.h"
#include "training/training.h"

#define ACCOUNTS_MAX 1000

static bool is_system(const actor *a)
{
    return a->role == ROLE__COUNT && a->account_id[0] == '\0' &&
           strncmp(a->username, "system:", 7) == 0;
}

static err audit_ph(vault *v, const actor *a, const char *action, const char *decision,
                    const char *rule, const char *reason, int64_t count)
{
    audit_entry e;
    door_entry(&e, a, action, decision, rule);
    e.reason = reason; /* campaign and mail ids, template ids, counts: no typed value */
    e.count = count;
    return audit_append(v->au, &e, NULL);
}

static err need_manage(vault *v, const actor *a, const char *action)
{
    return is_system(a) ? ERR_OK : door_need(v, a, CAP_TRAINING_MANAGE, action);
}

static err need_person(vault *v, const actor *a, const char *action)
{
    if (a->via_key || a->account_id[0] == '\0') {
        return door_deny(v, a, action, NULL, NULL, "phish.person", ERR_DENIED,
                         "for people: sign in with your own account");
    }
    if (a->session_flags & SESSION_MFA_PENDING) {
        return door_deny(v, a, action, NULL, NULL, "second-factor-pending", ERR_AUTH,
                         "second factor required");
    }
    return ERR_OK;
}

static void ts_set(json_t *o, const char *k, int64_t us)
{
    char ts[40];
    if (us > 0) {
        clock_rfc3339(us, ts);
        json_object_set_new(o, k, json_string(ts));
    } else {
        json_object_set_new(o, k, json_null());
    }
}

/* ---- networks ---- */

/* Is addr inside one of the comma-separated CIDRs of list? A malformed entry matches nothing
 * (campaign creation refuses them). */
static bool net_match(const char *list, const char *addr_text, bool *bad)
{
    guard_addr a;
    if (bad) {
        *bad = false;
    }
    bool have_addr = addr_text && guard_addr_parse(addr_text, &a) == ERR_OK;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        size_t n = strcspn(p, ",");
        while (n > 0 && p[n - 1] == ' ') {
            n--;
        }
        if (n == 0) {
            break;
        }
        char item[80];
        bool ok = n < sizeof item;
        if (ok) {
            memcpy(item, p, n);
            item[n] = '\0';
        }
        char *slash = ok ? strchr(item, '/') : NULL;
        guard_addr net;
        long bits = -1;
        if (slash) {
            *slash = '\0';
            char *end;
            bits = strtol(slash + 1, &end, 10);
            ok = *end == '\0' && slash[1] != '\0';
        }
        ok = ok && slash && guard_addr_parse(item, &net) == ERR_OK;
        if (ok) {
            bool v4 = guard_addr_is_v4(&net);
            ok = bits >= 0 && bits <= (v4 ? 32 : 128);
            bits += v4 ? 96 : 0;
        }
        if (!ok) {
            if (bad) {
                *bad = true;
            }
        } else if (have_addr) {
            bool in = true;
            for (long i = 0; i < bits && in; i++) {
                uint8_t m = (uint8_t)(0x80u >> (i % 8));
                in = (a.b[i / 8] & m) == (net.b[i / 8] & m);
            }
            if (in) {
                return true;
            }
        }
        p += strcspn(p, ",");
    }
    return false;
}

/* Does the CIDR take in a loopback address together with others (0.0.0.0/0, ::/0, 126.0.0.0/7)?
 * Behind a local reverse proxy every client looks like loopback, so loopback counts only when a
 * campaign names it on its own (inside 127.0.0.0/8, or ::1/128). A prefix wider than /8 around
 * 127.0.0.0 holds 126.255.255.255 or 128.0.0.0; one wider than /128 around ::1 holds ::. */
static bool net_widens_loopback(const char *cidr)
{
    static const char *const beside[] = {"126.255.255.255", "128.0.0.0", "::", "::2"};
    if (!net_match(cidr, "127.0.0.1", NULL) && !net_match(cidr, "::1", NULL)) {
        return false;
    }
    for (size_t i = 0; i < sizeof beside / sizeof *beside; i++) {
        if (net_match(cidr, beside[i], NULL)) {
            return true;
        }
    }
    return false;
}

/* ---- campaigns ---- */

static err str_list(json_t *targets, const char *key, json_t **out)
{
    *out = json_object_get(targets, key);
    ENSURE(!*out || json_is_array(*out), ERR_INPUT, "targets.%s: a list of names", key);
    size_t i;
    json_t *x;
    json_array_foreach(*out, i, x)
    {
        ENSURE(json_is_string(x) && identity_name_ok(json_string_value(x)), ERR_INPUT,
               "targets.%s: a list of names", key);
    }
    return ERR_OK;
}

static bool in_list(json_t *arr, const char *s)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (strcmp(json_string_value(x), s) == 0) {
            return true;
        }
    }
    return false;
}

static err time_field(json_t *spec, const char *k, int64_t dflt, int64_t *out)
{
    json_t *x = json_object_get(spec, k);
    if (!x || json_is_null(x)) {
        *out = dflt;
        return ERR_OK;
    }
    ENSURE(json_is_string(x), ERR_INPUT, "%s: an RFC 3339 time", k);
    err e = clock_parse_rfc3339(json_string_value(x), out);
    ENSURE(e == ERR_OK, ERR_INPUT, "%s: an RFC 3339 time", k);
    return ERR_OK;
}

static err int_field(json_t *spec, const char *k, long dflt, long lo, long hi, long *out)
{
    json_t *x = json_object_get(spec, k);
    if (!x || json_is_null(x)) {
        *out = dflt;
        return ERR_OK;
    }
    ENSURE(json_is_integer(x) && json_integer_value(x) >= lo && json_integer_value(x) <= hi,
           ERR_INPUT, "%s: a whole number from %ld to %ld", k, lo, hi);
    *out = (long)json_integer_value(x);
    return ERR_OK;
}

static json_t *campaign_json(const phish_campaign *c)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "id", c->id, "name", c->name, "template",
                          c->template_id, "lang", c->lang, "created_by", c->created_by,
                          "scanner_seconds", c->scanner_s, "remedial", c->remedial);
    ts_set(o, "created_at", c->created_us);
    ts_set(o, "starts_at", c->starts_us);
    ts_set(o, "ends_at", c->ends_us);
    ts_set(o, "track_until", c->track_until_us);
    json_t *t = json_loads(c->targets, 0, NULL);
    json_object_set_new(o, "targets", t ? t : json_null());
    json_object_set_new(o, "networks", json_string(c->networks));
    return o;
}

/* Creates the campaign and its mails, due spread over the window, in one transaction. */
static err campaign_create(vault *v, const actor *a, json_t *spec, bool past, json_t **out,
                           phish_campaign *c, size_t *nmails)
{
    ENSURE(json_is_object(spec), ERR_INPUT, "a JSON object");
    json_t *tx = json_object_get(spec, "template");
    ENSURE(json_is_string(tx), ERR_INPUT, "template: the template's text");
    phish_template *t = NULL;
    account *rows = NULL;
    store_tx *txn = NULL;
    err rc = ERR_OK;
    char where[160];
    GUARD(phish_template_parse(slice_of(json_string_value(tx), json_string_length(tx)), "template",
                               &t));
    json_t *targets = json_object_get(spec, "targets"), *roles, *depts, *users;
    CHECK(json_is_object(targets), ERR_INPUT, "targets: {roles, departments, users}");
    GUARD(str_list(targets, "roles", &roles));
    GUARD(str_list(targets, "departments", &depts));
    GUARD(str_list(targets, "users", &users));
    CHECK(json_array_size(roles) + json_array_size(depts) + json_array_size(users) > 0, ERR_INPUT,
          "targets: name at least one role, department or user");
    int64_t now = clock_now_us();
    id_new(c->id, "phc");
    json_t *nm = json_object_get(spec, "name");
    CHECK(!nm || (json_is_string(nm) && json_string_length(nm) > 0 &&
                  json_string_length(nm) < sizeof c->name && !strpbrk(json_string_value(nm), "<>")),
          ERR_INPUT, "name: 1-200 characters without markup");
    snprintf(c->name, sizeof c->name, "%s", nm ? json_string_value(nm) : t->name);
    snprintf(c->template_id, sizeof c->template_id, "%s", t->id);
    snprintf(c->lang, sizeof c->lang, "%s", t->lang);
    snprintf(c->created_by, sizeof c->created_by, "%s", a->username);
    c->created_us = now;
    GUARD(time_field(spec, "starts_at", now, &c->starts_us));
    GUARD(time_field(spec, "ends_at", c->starts_us + 4LL * 3600 * 1000000, &c->ends_us));
    CHECK(c->ends_us >= c->starts_us && c->ends_us - c->starts_us <= 30LL * 86400 * 1000000,
          ERR_INPUT, "ends_at: after starts_at, at most 30 days later");
    CHECK(past || c->starts_us >= now - 3600LL * 1000000, ERR_INPUT, "starts_at: not in the past");
    long track_days, scanner_s;
    GUARD(int_field(spec, "track_days", 14, 1, 90, &track_days));
    GUARD(int_field(spec, "scanner_seconds", PHISH_SCANNER_S, 0, 600, &scanner_s));
    c->track_until_us = c->ends_us + (int64_t)track_days * 86400 * 1000000;
    c->scanner_s = (int)scanner_s;
    json_t *rem = json_object_get(spec, "remedial");
    if (rem && !json_is_null(rem)) {
        CHECK(json_is_string(rem) && json_string_length(rem) < sizeof c->remedial, ERR_INPUT,
              "remedial: a course id");
        snprintf(c->remedial, sizeof c->remedial, "%s", json_string_value(rem));
        buf m;
        buf_init(&m, (size_t)2 << 20);
        char ver[TRAINING_VERSION_MAX + 1];
        rc = store_training_ready(v->st);
        if (rc == ERR_OK) {
            rc = store_training_course_get(v->st, c->remedial, NULL, ver, &m);
        }
        buf_free(&m);
        CHECK(rc == ERR_OK, ERR_INPUT, "remedial: no such course (import it first)");
    }
    json_t *nets = json_object_get(spec, "networks");
    if (nets && !json_is_null(nets)) {
        CHECK(json_is_array(nets) && json_array_size(nets) > 0, ERR_INPUT,
              "networks: a list of CIDRs");
        size_t i;
        json_t *x;
        size_t used = 0;
        json_array_foreach(nets, i, x)
        {
            CHECK(json_is_string(x), ERR_INPUT, "networks: a list of CIDRs");
            int k = snprintf(c->networks + used, sizeof c->networks - used, "%s%s",
                             used ? ", " : "", json_string_value(x));
            CHECK(k > 0 && (size_t)k < sizeof c->networks - used, ERR_INPUT, "networks: too long");
            used += (size_t)k;
        }
        bool bad = false;
        (void)net_match(c->networks, NULL, &bad);
        CHECK(!bad && !strpbrk(c->networks, "<>\""), ERR_INPUT,
              "networks: a list of CIDRs (10.0.0.0/8, fc00::/7)");
        json_array_foreach(nets, i, x)
        {
            CHECK(!net_widens_loopback(json_string_value(x)), ERR_INPUT,
                  "networks: %s takes in loopback without naming it (name 127.0.0.0/8 or "
                  "::1/128 on its own if the clients really are local)",
                  json_string_value(x));
        }
    } else {
        snprintf(c->networks, sizeof c->networks, "%s", PHISH_DEFAULT_NETWORKS);
    }
    json_t *tj = json_pack("{s:o,s:o,s:o}", "roles", roles ? json_incref(roles) : json_array(),
                           "departments", depts ? json_incref(depts) : json_array(), "users",
                           users ? json_incref(users) : json_array());
    char *ts = json_dumps(tj, JSON_COMPACT);
    json_decref(tj);
    CHECK(ts && strlen(ts) < sizeof c->targets, ERR_INPUT, "targets: too many names");
    snprintf(c->targets, sizeof c->targets, "%s", ts);
    free(ts);
    GUARD(buf_set(&c->template, json_string_value(tx), json_string_length(tx)));
    /* recipients: enabled accounts matching a role, department or name, each once */
    rows = calloc(ACCOUNTS_MAX, sizeof *rows);
    CHECK(rows != NULL, ERR_INTERNAL, "out of memory");
    size_t n = 0, k = 0;
    GUARD(store_account_list(v->st, rows, ACCOUNTS_MAX, &n));
    for (size_t i = 0; i < n; i++) {
        mem_wipe(rows[i].pwhash, sizeof rows[i].pwhash);
        mem_wipe(rows[i].totp, sizeof rows[i].totp);
        if (!rows[i].disabled &&
            (in_list(roles, rows[i].role) || in_list(depts, rows[i].department) ||
             in_list(users, rows[i].username))) {
            rows[k++] = rows[i];
        }
    }
    for (size_t i = 0; i < json_array_size(users); i++) {
        const char *u = json_string_value(json_array_get(users, i));
        bool found = false;
        for (size_t j = 0; j < k && !found; j++) {
            found = strcmp(rows[j].username, u) == 0;
        }
        CHECK(found, ERR_INPUT, "targets.users: no such account");
    }
    CHECK(k > 0, ERR_INPUT, "targets: nobody matches");
    CHECK(k <= PHISH_MAILS_MAX, ERR_INPUT, "targets: more than %d people", PHISH_MAILS_MAX);
    /* a random order, then one slot of the window each, at a random point inside it */
    for (size_t i = k; i > 1; i--) {
        size_t j = rand_uniform((uint32_t)i);
        account tmp = rows[i - 1];
        rows[i - 1] = rows[j];
        rows[j] = tmp;
    }
    int64_t span = c->ends_us - c->starts_us, slot = span / (int64_t)k;
    snprintf(where, sizeof where, "campaign=%s template=%s mails=%zu", c->id, c->template_id, k);
    GUARD(audit_ph(v, a, "phish.campaign.create", "allow", "training.manage", where, (int64_t)k));
    GUARD(store_phish_ready(v->st));
    GUARD(store_begin(v->st, &txn));
    store *ts2 = store_tx_store(txn);
    GUARD(store_phish_campaign_put(ts2, c));
    for (size_t i = 0; i < k; i++) {
        phish_mail m;
        memset(&m, 0, sizeof m);
        id_new(m.id, "phm");
        snprintf(m.campaign, sizeof m.campaign, "%s", c->id);
        snprintf(m.account_id, sizeof m.account_id, "%s", rows[i].id);
        snprintf(m.department, sizeof m.department, "%s", rows[i].department);
        m.due_us =
            c->starts_us + slot * (int64_t)i +
            (slot > 1 ? (int64_t)rand_uniform((uint32_t)(slot > 0x7fffffff ? 0x7fffffff : slot))
                      : 0);
        GUARD(store_phish_mail_put(ts2, &m));
    }
    GUARD(store_commit(&txn));
    *nmails = k;
    if (out) {
        *out = campaign_json(c);
        json_object_set_new(*out, "mails", json_integer((json_int_t)k));
    }
out:
    store_rollback(&txn);
    free(rows);
    phish_template_free(t);
    return rc;
}

err door_phish_campaign_create(vault *v, const actor *a, json_t *spec, json_t **out)
{
    TRY(need_manage(v, a, "phish.campaign.create"));
    phish_campaign c;
    phish_campaign_init(&c);
    size_t n = 0;
    err e = campaign_create(v, a, spec, false, out, &c, &n);
    phish_campaign_free(&c);
    return e;
}

static err list_one(void *ctx, const phish_campaign *c)
{
    json_array_append_new(ctx, campaign_json(c));
    return ERR_OK;
}

/* HR sees everything; a steward their department; nobody else the campaigns. */
static err metrics_scope(vault *v, const actor *a, const char *action, const char **dept)
{
    *dept = NULL;
    if (!a->via_key && a->account_id[0] && a->role == ROLE_DATA_STEWARD) {
        TRY(need_person(v, a, action));
        *dept = a->department;
        return ERR_OK;
    }
    return need_manage(v, a, action);
}

err door_phish_campaigns(vault *v, const actor *a, json_t **out)
{
    const char *dept;
    TRY(metrics_scope(v, a, "phish.campaigns", &dept));
    TRY(store_phish_ready(v->st));
    json_t *arr = json_array();
    err e = store_phish_campaign_list(v->st, list_one, arr);
    if (e == ERR_OK) {
        e = audit_ph(v, a, "phish.campaigns", "allow", dept ? "steward" : "training.manage", NULL,
                     (int64_t)json_array_size(arr));
    }
    if (e != ERR_OK) {
        json_decref(arr);
        return e;
    }
    *out = json_pack("{s:o}", "campaigns", arr);
    return ERR_OK;
}

/* ---- sending ---- */

err door_phish_tick(vault *v, int64_t now_us, json_t **out)
{
    tr_config cfg;
    TRY(tr_config_load(vault_dir(v), &cfg));
    *out = NULL;
    if (!cfg.smtp[0] || !cfg.mail_domain[0] || !cfg.from[0]) {
        *out = json_pack("{s:i,s:i}", "sent", 0, "failed", 0);
        return ERR_OK;
    }
    TRY(store_phish_ready(v->st));
    phish_mail due[PHISH_TICK_BATCH];
    size_t n = 0;
    TRY(store_phish_mail_due(v->st, now_us, PHISH_SEND_ATTEMPTS, due, PHISH_TICK_BATCH, &n));
    int sent = 0, failed = 0;
    phish_campaign c;
    phish_campaign_init(&c);
    phish_template *t = NULL;
    buf msg;
    buf_init(&msg, (size_t)2 << 20);
    err rc = ERR_OK;
    actor sys;
    actor_system(&sys, "phish");
    for (size_t i = 0; i < n; i++) {
        if (strcmp(c.id, due[i].campaign) != 0) {
            phish_template_free(t);
            t = NULL;
            buf_reset(&c.template);
            GUARD(store_phish_campaign_get(v->st, due[i].campaign, &c));
            GUARD(phish_template_parse(buf_slice(&c.template), c.template_id, &t));
        }
        account acc;
        err e = store_account_by_id(v->st, due[i].account_id, &acc);
        mem_wipe(acc.pwhash, sizeof acc.pwhash);
        mem_wipe(acc.totp, sizeof acc.totp);
        char to[USERNAME_MAX + 140], tok[PHISH_TOKEN_TEXT];
        uint8_t h[32];
        phish_links l;
        phish_token_new(tok);
        (void)phish_token_hash(tok, h);
        snprintf(to, sizeof to, "%s@%s", acc.username, cfg.mail_domain);
        buf_reset(&msg);
        if (e == ERR_OK) {
            e = phish_links_make(cfg.console_url, tok, &l);
        }
        if (e == ERR_OK) {
            e = phish_message(t, &l, to, acc.username, &msg);
        }
        if (e == ERR_OK) {
            const char *rcpt[1] = {to};
            e = smtp_send_message(cfg.smtp, cfg.from, rcpt, 1, buf_slice(&msg),
                                  cfg.smtp_plain_loopback);
        }
        mem_wipe(tok, sizeof tok);
        mem_wipe(&l, sizeof l);
        if (e == ERR_OK) {
            GUARD(store_phish_mail_sent(v->st, due[i].id, h, clock_now_us()));
            sent++;
        } else {
            log_warn("phish.send", "a mail of campaign %s was not delivered: %s", due[i].campaign,
                     err_message());
            GUARD(store_phish_mail_failed(v->st, due[i].id));
            failed++;
        }
    }
    if (n > 0) {
        char what[80];
        snprintf(what, sizeof what, "sent=%d failed=%d", sent, failed);
        GUARD(audit_ph(v, &sys, "phish.send", "allow", "campaign", what, sent));
    }
    *out = json_pack("{s:i,s:i}", "sent", sent, "failed", failed);
out:
    buf_free(&msg);
    phish_template_free(t);
    phish_campaign_free(&c);
    return rc;
}

/* ---- tracking ---- */

static void page_or_plain(err e, const char *lang, bool reported, buf *body)
{
    if (e != ERR_OK) {
        buf_reset(body);
        IGNORE(phish_page_plain(lang, reported, body));
    }
}

/* Records one counted event; a first click assigns the remedial course. */
static void track_record(vault *v, const phish_hit *h, const phish_campaign *c, const phish_mail *m,
                         phish_event ev, int64_t now)
{
    static const char *const names[] = {"open", "click", "submit", "report", "enroll"};
    bool first = false;
    if (store_phish_mail_mark(v->st, m->id, ev, now, &first) != ERR_OK || !first) {
        return;
    }
    actor sys;
    actor_system(&sys, "phish");
    snprintf(sys.source, sizeof sys.source, "%s", h->source ? h->source : "");
    char what[120];
    snprintf(what, sizeof what, "campaign=%s mail=%s event=%s", c->id, m->id, names[ev]);
    IGNORE(audit_ph(v, &sys, "phish.event", "allow", "tracking", what, -1));
    if (ev != PE_CLICK || !c->remedial[0]) {
        return;
    }
    account acc;
    err e = store_account_by_id(v->st, m->account_id, &acc);
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    mem_wipe(acc.totp, sizeof acc.totp);
    json_t *asg = NULL;
    if (e == ERR_OK) {
        e = door_training_assign(v, &sys, c->remedial, "account", acc.username, 0, &asg);
    }
    json_decref(asg);
    bool f2;
    if (e == ERR_OK) {
        IGNORE(store_phish_mail_mark(v->st, m->id, PE_ENROLL, now, &f2));
    } else {
        log_warn("phish.remedial", "the remedial course could not be assigned: %s", err_message());
    }
}

void door_phish_track(vault *v, const phish_hit *h, buf *body, const char **ctype)
{
    int64_t now = clock_now_us();
    uint8_t hash[32];
    phish_mail m;
    phish_campaign c;
    phish_campaign_init(&c);
    phish_template *t = NULL;
    *ctype = h->kind == 'o' ? "image/gif" : "text/html; charset=utf-8";
    buf_reset(body);
    err e = ERR_NOT_FOUND;
    if (h->token && phish_token_hash(h->token, hash)) {
        e = store_phish_mail_by_token(v->st, hash, &m);
    }
    if (e == ERR_OK) {
        e = store_phish_campaign_get(v->st, m.campaign, &c);
    }
    if (e == ERR_OK) {
        e = phish_template_parse(buf_slice(&c.template), c.template_id, &t);
    }
    if (e == ERR_OK && now > c.track_until_us) {
        e = ERR_NOT_FOUND; /* the campaign is over: the link leads nowhere any more */
    }
    if (e == ERR_OK) {
        const char *why =
            phish_scanner(h->method, h->user_agent, h->purpose, m.sent_us, now, c.scanner_s);
        if (!why && !net_match(c.networks, h->source, NULL)) {
            why = "outside";
        }
        static const char *const kinds[] = {"open", "click", "submit", "report"};
        const char *kind = h->kind == 'o'   ? kinds[0]
                           : h->kind == 'c' ? kinds[1]
                           : h->kind == 's' ? kinds[2]
                                            : kinds[3];
        if (why) {
            IGNORE(store_phish_filtered_add(v->st, c.id, kind, why, now));
        } else if (h->kind == 'o') {
            track_record(v, h, &c, &m, PE_OPEN, now);
        } else if (h->kind == 'c') {
            track_record(v, h, &c, &m, PE_CLICK, now);
        } else if (h->kind == 's') {
            track_record(v, h, &c, &m, PE_CLICK, now);
            if (h->body_len > 0) { /* something was typed; what, nobody read */
                track_record(v, h, &c, &m, PE_SUBMIT, now);
            }
        } else {
            track_record(v, h, &c, &m, PE_REPORT, now);
        }
    }
    if (h->kind == 'o') {
        slice px = phish_pixel();
        IGNORE(buf_set(body, px.p, px.len));
    } else if (h->kind == 'r') {
        page_or_plain(ERR_INTERNAL, e == ERR_OK ? c.lang : NULL, true, body);
    } else if (e == ERR_OK) {
        phish_links l;
        char tokc[PHISH_TOKEN_TEXT];
        snprintf(tokc, sizeof tokc, "%s", h->token);
        /* relative links: the page needs no address of its own */
        snprintf(l.action, sizeof l.action, "/t/s/%s", tokc);
        snprintf(l.link, sizeof l.link, "/t/c/%s", tokc);
        snprintf(l.pixel, sizeof l.pixel, "/t/o/%s.gif", tokc);
        snprintf(l.report, sizeof l.report, "/t/r/%s", tokc);
        e = h->kind == 'c' ? phish_page_landing(t, &l, body) : phish_page_teaching(t, body);
        page_or_plain(e, c.lang, false, body);
        mem_wipe(tokc, sizeof tokc);
    } else {
        page_or_plain(ERR_INTERNAL, NULL, false, body);
    }
    phish_template_free(t);
    phish_campaign_free(&c);
}

/* ---- the console's report button ---- */

typedef struct mine_ctx {
    phish_mail *m;
    size_t n, cap;
} mine_ctx;

static err mine_collect(void *ctx, const phish_mail *m)
{
    mine_ctx *x = ctx;
    if (m->sent_us == 0 || m->reported_us != 0) {
        return ERR_OK;
    }
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        phish_mail *p = realloc(x->m, cap * sizeof *p);
        ENSURE(p != NULL, ERR_INTERNAL, "out of memory");
        x->m = p;
        x->cap = cap;
    }
    x->m[x->n++] = *m;
    return ERR_OK;
}

/* Marks m reported when its campaign still tracks; *sim says whether it did. */
static err report_mail(vault *v, const phish_mail *m, bool *sim)
{
    phish_campaign c;
    phish_campaign_init(&c);
    err e = store_phish_campaign_get(v->st, m->campaign, &c);
    int64_t now = clock_now_us();
    *sim = false;
    if (e == ERR_OK && now <= c.track_until_us) {
        bool first = false;
        e = store_phish_mail_mark(v->st, m->id, PE_REPORT, now, &first);
        *sim = e == ERR_OK;
    }
    phish_campaign_free(&c);
    return e;
}

err door_phish_report(vault *v, const actor *a, const char *link, json_t **out)
{
    TRY(need_person(v, a, "phish.report"));
    TRY(store_phish_ready(v->st));
    bool sim = false;
    char mail_id[ID_LEN + 1] = "";
    const char *p = link ? strstr(link, "/t/") : NULL;
    if (p && (p[3] == 'c' || p[3] == 'o' || p[3] == 'r' || p[3] == 's') && p[4] == '/') {
        char tok[PHISH_TOKEN_TEXT];
        snprintf(tok, sizeof tok, "%s", p + 5);
        uint8_t h[32];
        phish_mail m;
        if (phish_token_hash(tok, h) && store_phish_mail_by_token(v->st, h, &m) == ERR_OK &&
            strcmp(m.account_id, a->account_id) == 0) { /* someone else's link: nothing */
            TRY(report_mail(v, &m, &sim));
            snprintf(mail_id, sizeof mail_id, "%s", m.id);
        }
        mem_wipe(tok, sizeof tok);
    } else if (!link || !link[0]) {
        /* the newest practice mail not reported yet whose campaign still tracks */
        mine_ctx x = {0};
        err e = store_phish_mails(v->st, NULL, a->account_id, mine_collect, &x);
        for (size_t k = x.n; e == ERR_OK && k > 0 && !sim; k--) {
            size_t best = 0;
            for (size_t i = 1; i < k; i++) {
                best = x.m[i].sent_us > x.m[best].sent_us ? i : best;
            }
            e = report_mail(v, &x.m[best], &sim);
            snprintf(mail_id, sizeof mail_id, "%s", x.m[best].id);
            x.m[best] = x.m[k - 1];
        }
        free(x.m);
        TRY(e);
    }
    char what[80];
    snprintf(what, sizeof what, "simulation=%s%s%s", sim ? "yes" : "no", sim ? " mail=" : "",
             sim ? mail_id : "");
    TRY(audit_ph(v, a, "phish.report", "allow", "person", what, -1));
    *out = json_pack("{s:b,s:b}", "reported", 1, "simulation", sim);
    return ERR_OK;
}

/* ---- metrics ---- */

typedef struct figures {
    int64_t delivered, opened, clicked, submitted, reported, repeat;
    int64_t *report_s;
    size_t nrep, caprep;
} figures;

typedef struct met_ctx {
    const char *campaign;
    const char *dept; /* NULL: every department */
    phish_mail *all;  /* every mail of every campaign (for repeat clickers) */
    size_t nall, capall;
} met_ctx;

static err collect(void *ctx, const phish_mail *m)
{
    met_ctx *x = ctx;
    if (x->nall == x->capall) {
        size_t cap = x->capall ? x->capall * 2 : 256;
        phish_mail *p = realloc(x->all, cap * sizeof *p);
        ENSURE(p != NULL, ERR_INTERNAL, "out of memory");
        x->all = p;
        x->capall = cap;
    }
    x->all[x->nall++] = *m;
    return ERR_OK;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double pct(int64_t a, int64_t b)
{
    return b ? round(1000.0 * (double)a / (double)b) / 10.0 : 0.0;
}

static json_t *figures_json(figures *f)
{
    json_t *o =
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:I}", "delivered", (json_int_t)f->delivered,
                  "opened", (json_int_t)f->opened, "clicked", (json_int_t)f->clicked, "submitted",
                  (json_int_t)f->submitted, "reported", (json_int_t)f->reported, "phish_prone_pct",
                  pct(f->clicked, f->delivered), "report_rate_pct", pct(f->reported, f->delivered),
                  "repeat_clickers", (json_int_t)f->repeat);
    if (f->nrep) {
        qsort(f->report_s, f->nrep, sizeof *f->report_s, cmp64);
        int64_t med = f->nrep % 2 ? f->report_s[f->nrep / 2]
                                  : (f->report_s[f->nrep / 2 - 1] + f->report_s[f->nrep / 2]) / 2;
        json_object_set_new(o, "median_report_s", json_integer((json_int_t)med));
    } else {
        json_object_set_new(o, "median_report_s", json_null());
    }
    return o;
}

static err fig_add(figures *f, const phish_mail *m, bool repeat)
{
    if (m->sent_us == 0) {
        return ERR_OK;
    }
    f->delivered++;
    f->opened += m->opened_us || m->clicked_us || m->submitted_us;
    f->clicked += m->clicked_us != 0;
    f->submitted += m->submitted_us != 0;
    f->reported += m->reported_us != 0;
    f->repeat += repeat;
    if (m->reported_us) {
        if (f->nrep == f->caprep) {
            size_t cap = f->caprep ? f->caprep * 2 : 64;
            int64_t *p = realloc(f->report_s, cap * sizeof *p);
            ENSURE(p != NULL, ERR_INTERNAL, "out of memory");
            f->report_s = p;
            f->caprep = cap;
        }
        int64_t d = (m->reported_us - m->sent_us) / 1000000;
        f->report_s[f->nrep++] = d > 0 ? d : 0;
    }
    return ERR_OK;
}

err door_phish_metrics(vault *v, const actor *a, const char *campaign, json_t **out)
{
    const char *dept;
    TRY(metrics_scope(v, a, "phish.metrics", &dept));
    TRY(store_phish_ready(v->st));
    phish_campaign c;
    phish_campaign_init(&c);
    met_ctx x = {campaign, dept, NULL, 0, 0};
    figures tot = {0};
    size_t ndept = 0;
    char(*dnames)[DEPT_MAX + 1] = NULL;
    figures *dfig = NULL;
    err rc = ERR_OK;
    CHECK(campaign && id_valid(campaign), ERR_NOT_FOUND, "no such campaign");
    GUARD(store_phish_campaign_get(v->st, campaign, &c));
    GUARD(store_phish_mails(v->st, NULL, NULL, collect, &x));
    dnames = calloc(x.nall + 1, sizeof *dnames);
    dfig = calloc(x.nall + 1, sizeof *dfig);
    CHECK(dnames && dfig, ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < x.nall; i++) {
        const phish_mail *m = &x.all[i];
        if (strcmp(m->campaign, campaign) != 0 || (dept && strcmp(m->department, dept) != 0)) {
            continue;
        }
        /* a repeat clicker clicked in this campaign and in an earlier one */
        bool repeat = false;
        for (size_t j = 0; j < x.nall && m->clicked_us && !repeat; j++) {
            const phish_mail *o = &x.all[j];
            repeat = strcmp(o->campaign, campaign) != 0 &&
                     strcmp(o->account_id, m->account_id) == 0 && o->clicked_us &&
                     o->clicked_us < m->clicked_us;
        }
        GUARD(fig_add(&tot, m, repeat));
        size_t d = 0;
        while (d < ndept && strcmp(dnames[d], m->department) != 0) {
            d++;
        }
        if (d == ndept) {
            snprintf(dnames[ndept++], DEPT_MAX + 1, "%s", m->department);
        }
        GUARD(fig_add(&dfig[d], m, repeat));
    }
    int64_t filtered = 0;
    GUARD(store_phish_filtered_count(v->st, campaign, &filtered));
    char what[120];
    snprintf(what, sizeof what, "campaign=%s%s%s", campaign, dept ? " department=" : "",
             dept ? dept : "");
    GUARD(audit_ph(v, a, "phish.metrics", "allow", dept ? "steward" : "training.manage", what,
                   tot.delivered));
    json_t *deps = json_object();
    for (size_t d = 0; d < ndept; d++) {
        json_object_set_new(deps, dnames[d], figures_json(&dfig[d]));
    }
    *out = json_pack("{s:o,s:o,s:o}", "campaign", campaign_json(&c), "totals", figures_json(&tot),
                     "departments", deps);
    if (!dept) {
        json_object_set_new(*out, "filtered", json_integer((json_int_t)filtered));
    }
out:
    for (size_t d = 0; dfig && d < ndept; d++) {
        free(dfig[d].report_s);
    }
    free(tot.report_s);
    free(dfig);
    free(dnames);
    free(x.all);
    phish_campaign_free(&c);
    return rc;
}

static err mine_one(void *ctx, const phish_mail *m)
{
    if (m->sent_us == 0) {
        return ERR_OK;
    }
    json_t *o = json_pack("{s:s}", "campaign", m->campaign);
    ts_set(o, "delivered_at", m->sent_us);
    ts_set(o, "opened_at", m->opened_us);
    ts_set(o, "clicked_at", m->clicked_us);
    ts_set(o, "submitted_at", m->submitted_us);
    ts_set(o, "reported_at", m->reported_us);
    json_object_set_new(o, "remedial_assigned", json_boolean(m->enrolled));
    json_array_append_new(ctx, o);
    return ERR_OK;
}

err door_phish_mine(vault *v, const actor *a, json_t **out)
{
    TRY(need_person(v, a, "phish.mine"));
    TRY(store_phish_ready(v->st));
    json_t *arr = json_array();
    err e = store_phish_mails(v->st, NULL, a->account_id, mine_one, arr);
    if (e == ERR_OK) {
        e = audit_ph(v, a, "phish.mine", "allow", "person", NULL, (int64_t)json_array_size(arr));
    }
    if (e != ERR_OK) {
        json_decref(arr);
        return e;
    }
    *out = json_pack("{s:o}", "mails", arr);
    return ERR_OK;
}

/* ---- the demo ---- */

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 8) % 1000;
}

static err demo_mail(void *ctx, const phish_mail *m)
{
    return collect(ctx, m);
}

err door_phish_demo(vault *v, const char *template_text, const char *remedial, uint32_t seed,
                    json_t **out)
{
    actor sys;
    actor_system(&sys, "demo");
    int64_t now = clock_now_us(), day = 86400LL * 1000000;
    char st[40], en[40];
    clock_rfc3339(now - 20 * day, st);
    clock_rfc3339(now - 19 * day, en);
    json_t *spec = json_pack("{s:s,s:s,s:{s:[sss]},s:s,s:s,s:i}", "name",
                             "Autumn exercise: a collector asks for the customer list", "template",
                             template_text, "targets", "roles", "sales", "customer_service",
                             "data_steward", "starts_at", st, "ends_at", en, "track_days", 1);
    if (remedial) {
        json_object_set_new(spec, "remedial", json_string(remedial));
    }
    phish_campaign c;
    phish_campaign_init(&c);
    size_t n = 0;
    err rc = campaign_create(v, &sys, spec, true, NULL, &c, &n);
    json_decref(spec);
    met_ctx x = {0};
    if (rc != ERR_OK) {
        phish_campaign_free(&c);
        return rc;
    }
    GUARD(store_phish_mails(v->st, c.id, NULL, demo_mail, &x));
    /* delivered at its due time; a third open it, some click, a few type, many report */
    for (size_t i = 0; i < x.nall; i++) {
        phish_mail *m = &x.all[i];
        uint8_t h[32];
        rand_bytes(h, sizeof h); /* a hash of no id: the demo's links lead nowhere */
        GUARD(store_phish_mail_sent(v->st, m->id, h, m->due_us));
        bool first;
        uint32_t r = lcg(&seed);
        if (r < 700) {
            GUARD(
                store_phish_mail_mark(v->st, m->id, PE_OPEN, m->due_us + 600LL * 1000000, &first));
        }
        if (r < 300) {
            GUARD(
                store_phish_mail_mark(v->st, m->id, PE_CLICK, m->due_us + 900LL * 1000000, &first));
        }
        if (r < 100) {
            GUARD(store_phish_mail_mark(v->st, m->id, PE_SUBMIT, m->due_us + 1000LL * 1000000,
                                        &first));
        }
        if (r >= 300 && r < 850) {
            int64_t after = (int64_t)(120 + lcg(&seed) * 7) * 1000000;
            GUARD(store_phish_mail_mark(v->st, m->id, PE_REPORT, m->due_us + after, &first));
        }
    }
    char what[80];
    snprintf(what, sizeof what, "campaign=%s mails=%zu", c.id, n);
    GUARD(audit_ph(v, &sys, "phish.send", "allow", "demo", what, (int64_t)n));
    *out = json_pack("{s:s,s:I}", "campaign", c.id, "mails", (json_int_t)n);
out:
    free(x.all);
    phish_campaign_free(&c);
    return rc;
}
