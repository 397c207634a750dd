/*
 * door_breakglass.c - emergency access. Security staff (break_glass.open) with
 * a second factor (when the vault asks for one) may ask for a grant with a
 * written reason for at most four hours; a data steward of any department
 * approves it (never the requester). Where custos.json allows self-service for
 * emergencies, the grant opens at once for at most 30 minutes (configurable).
 * While it is open they may read, never write, any customer. Opening is noticed
 * at once to the stewards of every department, HR, the auditors and security;
 * every read under it is audited with the rule "break-glass:<id>", counted and
 * alerted; the grant stays on the review list until a second person
 * (break_glass.review, not the opener) signs it off.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "door_int.h"

#define BG_MAX_MINUTES 240
#define BG_SELF_MINUTES 30

static json_t *bg_json(const breakglass *b)
{
    char ts[40];
    json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "id", b->id, "username", b->username, "reason",
                          b->reason, "reads", (json_int_t)b->reads);
    clock_rfc3339(b->opened_us, ts);
    json_object_set_new(o, "opened_at", json_string(ts));
    clock_rfc3339(b->closed_us ? b->closed_us : b->expires_us, ts);
    json_object_set_new(o, b->closed_us ? "closed_at" : "expires_at", json_string(ts));
    json_object_set_new(o, "active", json_boolean(!b->closed_us && b->expires_us > clock_now_us()));
    json_object_set_new(o, "reviewed", json_boolean(b->reviewed_us != 0));
    if (b->reviewed_us) {
        clock_rfc3339(b->reviewed_us, ts);
        json_object_set_new(o, "reviewed_by", json_string(b->reviewed_by));
        json_object_set_new(o, "reviewed_at", json_string(ts));
        json_object_set_new(o, "review_note", json_string(b->review_note));
    }
    return o;
}

/* Everyone who must hear at once that a grant opened: the stewards of every department
 * (it reads any of them), HR, the auditors and security. */
static void opened_notices(vault *v, store *st, const actor *a, const breakglass *b,
                           int64_t minutes)
{
    char d[200];
    snprintf(d, sizeof d, "grant=%s user=%s minutes=%lld", b->id, b->username, (long long)minutes);
    static const char *const TO[] = {"data_steward:*", "role:hr", "role:auditor", "role:security"};
    for (size_t i = 0; i < sizeof TO / sizeof TO[0]; i++) {
        door_notify_in(v, st, TO[i], "break-glass-open", b->username, d);
    }
    door_alert(v, "high", "break-glass-open", a, d);
}

/* Opens a grant for account (id, name) now; audited by a. */
static err grant_open(vault *v, store *st, const actor *a, const char *account_id,
                      const char *username, const char *reason, int64_t minutes, breakglass *b)
{
    memset(b, 0, sizeof *b);
    id_new(b->id, "bgl");
    snprintf(b->account_id, sizeof b->account_id, "%s", account_id);
    snprintf(b->username, sizeof b->username, "%s", username);
    snprintf(b->reason, sizeof b->reason, "%s", reason);
    b->opened_us = clock_now_us();
    b->expires_us = b->opened_us + minutes * 60 * 1000000;
    audit_entry e;
    char rule[ID_LEN + 16];
    snprintf(rule, sizeof rule, "break-glass:%s", b->id);
    door_entry(&e, a, "breakglass.open", "allow", rule);
    e.reason = b->reason;
    TRY(audit_append(v->au, &e, NULL));
    return store_breakglass_insert(st, b);
}

err door_breakglass_open(vault *v, const actor *a, const char *reason, int64_t minutes,
                         json_t **out)
{
    TRY(door_need(v, a, CAP_BREAK_GLASS_OPEN, "breakglass.open"));
    ENSURE(reason && strlen(reason) >= 10 && strlen(reason) < sizeof((breakglass *)0)->reason,
           ERR_INPUT, "a written reason of at least 10 characters is required");
    ENSURE(minutes >= 1 && minutes <= BG_MAX_MINUTES, ERR_INPUT,
           "break-glass lasts 1 to %d minutes", BG_MAX_MINUTES);
    if (v->cfg.totp != VAULT_TOTP_OFF) {
        /* The session of an account with a second factor proved it at sign-in. */
        account acc;
        TRY(store_account_by_id(v->st, a->account_id, &acc));
        mem_wipe(acc.pwhash, sizeof acc.pwhash);
        if (!acc.totp_enabled) {
            return door_deny(v, a, "breakglass.open", NULL, NULL, "second-factor-required",
                             ERR_DENIED,
                             "break-glass needs the second factor: enrol it first "
                             "(POST /v1/me/totp/enrol)");
        }
    }
    breakglass cur;
    ENSURE(store_breakglass_active(v->st, a->account_id, clock_now_us(), &cur) != ERR_OK,
           ERR_CONFLICT, "a break-glass grant is open already (%s)", cur.id);
    if (v->cfg.breakglass_self) {
        /* Self-service, where the operator allowed it for emergencies: short, and loud. */
        int64_t max = v->cfg.breakglass_self_us ? v->cfg.breakglass_self_us
                                                : (int64_t)BG_SELF_MINUTES * 60 * 1000000;
        ENSURE(minutes * 60 * 1000000 <= max, ERR_INPUT,
               "self-service break-glass lasts at most %lld minutes", (long long)(max / 60000000));
        breakglass b;
        TRY(grant_open(v, v->st, a, a->account_id, a->username, reason, minutes, &b));
        opened_notices(v, v->st, a, &b, minutes);
        *out = bg_json(&b);
        return ERR_OK;
    }
    /* Otherwise a data steward (of any department) approves, never the requester. */
    json_t *p = json_pack("{s:s,s:I}", "reason", reason, "minutes", (json_int_t)minutes);
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    ENSURE(text != NULL, ERR_INTERNAL, "out of memory");
    change_request r;
    change_request_init(&r);
    char what[96];
    snprintf(what, sizeof what, "break-glass minutes=%lld", (long long)minutes);
    err rc = door_request_file(v, v->st, a, "breakglass", a->account_id, "*", what, text, &r);
    free(text);
    if (rc == ERR_OK) {
        char d[200];
        snprintf(d, sizeof d, "request=%s user=%s minutes=%lld", r.id, a->username,
                 (long long)minutes);
        door_notify(v, "data_steward:*", "break-glass-requested", a->username, d);
        door_notify(v, "role:security", "break-glass-requested", a->username, d);
        door_alert(v, "high", "break-glass-requested", a, d);
        *out = json_pack("{s:{s:s,s:s},s:s}", "request", "id", r.id, "status", "pending",
                         "approval", "pending");
    }
    change_request_free(&r);
    return rc;
}

err door_breakglass_request_apply(vault *v, store *st, const actor *a, change_request *r,
                                  json_t *res)
{
    json_t *p = json_loadb((const char *)r->payload.p, r->payload.len, 0, NULL);
    const char *reason = json_string_value(json_object_get(p, "reason"));
    json_int_t minutes = json_integer_value(json_object_get(p, "minutes"));
    err rc = ERR_OK;
    CHECK(reason && minutes >= 1 && minutes <= BG_MAX_MINUTES, ERR_INTERNAL,
          "a break-glass request's payload is damaged");
    breakglass cur;
    CHECK(store_breakglass_active(st, r->requester_id, clock_now_us(), &cur) != ERR_OK,
          ERR_CONFLICT, "a break-glass grant is open already (%s)", cur.id);
    breakglass b;
    GUARD(grant_open(v, st, a, r->requester_id, r->requester, reason, minutes, &b));
    json_object_set_new(res, "grant", bg_json(&b));
    opened_notices(v, st, a, &b, minutes);
out:
    json_decref(p);
    return rc;
}

err door_breakglass_close(vault *v, const actor *a, const char *id)
{
    TRY(door_need(v, a, CAP_BREAK_GLASS_OPEN, "breakglass.close"));
    breakglass b;
    err e = id_valid(id ? id : "") ? store_breakglass_get(v->st, id, &b) : ERR_NOT_FOUND;
    ENSURE(e != ERR_NOT_FOUND, ERR_NOT_FOUND, "no such break-glass grant");
    TRY(e);
    ENSURE(strcmp(b.account_id, a->account_id) == 0, ERR_DENIED,
           "only the person who opened a grant closes it early");
    ENSURE(b.closed_us == 0, ERR_CONFLICT, "the grant is closed already");
    audit_entry en;
    char rule[ID_LEN + 16];
    snprintf(rule, sizeof rule, "break-glass:%s", b.id);
    door_entry(&en, a, "breakglass.close", "allow", rule);
    TRY(audit_append(v->au, &en, NULL));
    b.closed_us = clock_now_us();
    return store_breakglass_update(v->st, &b);
}

err door_breakglass_list(vault *v, const actor *a, bool unreviewed_only, json_t **out)
{
    if (!policy_can(a->role, CAP_BREAK_GLASS_OPEN) || a->via_key) {
        TRY(door_need(v, a, CAP_BREAK_GLASS_REVIEW, "breakglass.list"));
    }
    enum { MAX = 500 };
    breakglass *rows = calloc(MAX, sizeof *rows);
    ENSURE(rows != NULL, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    audit_entry e;
    door_entry(&e, a, "breakglass.list", "allow", "break-glass");
    err rc = audit_append(v->au, &e, NULL);
    if (rc == ERR_OK) {
        rc = store_breakglass_list(v->st, unreviewed_only, rows, MAX, &n);
    }
    if (rc == ERR_OK) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(arr, bg_json(&rows[i]));
        }
        *out = json_pack("{s:o}", "grants", arr);
    }
    free(rows);
    return rc;
}

err door_breakglass_review(vault *v, const actor *a, const char *id, const char *note)
{
    TRY(door_need(v, a, CAP_BREAK_GLASS_REVIEW, "breakglass.review"));
    breakglass b;
    err e = id_valid(id ? id : "") ? store_breakglass_get(v->st, id, &b) : ERR_NOT_FOUND;
    ENSURE(e != ERR_NOT_FOUND, ERR_NOT_FOUND, "no such break-glass grant");
    TRY(e);
    if (strcmp(b.account_id, a->account_id) == 0) {
        return door_deny(v, a, "breakglass.review", NULL, NULL, "separation-of-duties", ERR_DENIED,
                         "a break-glass grant is reviewed by a second person");
    }
    ENSURE(b.reviewed_us == 0, ERR_CONFLICT, "the grant is reviewed already");
    int64_t now = clock_now_us();
    ENSURE(b.closed_us || b.expires_us <= now, ERR_CONFLICT,
           "the grant is still open: it is reviewed after it ends");
    ENSURE(note && strlen(note) >= 3 && strlen(note) < sizeof b.review_note, ERR_INPUT,
           "a review note is required");
    audit_entry en;
    char rule[ID_LEN + 16];
    snprintf(rule, sizeof rule, "break-glass:%s", b.id);
    door_entry(&en, a, "breakglass.review", "allow", rule);
    en.reason = note;
    TRY(audit_append(v->au, &en, NULL));
    snprintf(b.reviewed_by, sizeof b.reviewed_by, "%s", a->username);
    snprintf(b.review_note, sizeof b.review_note, "%s", note);
    b.reviewed_us = now;
    return store_breakglass_update(v->st, &b);
}
