/*
 * door_breakglass.c - emergency access. Security staff (break_glass.open) may
 * open a grant with a written reason for at most four hours; while it is open
 * they may read, never write, any customer. Opening raises an alert; every
 * read under it is audited with the rule "break-glass:<id>", counted and
 * alerted; the grant stays on the review list until a second person
 * (break_glass.review, not the opener) signs it off.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "door_int.h"

#define BG_MAX_MINUTES 240

static json_t *bg_json(const breakglass *b)
{
    char ts[40];
    json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "id", b->id, "username", b->username, "reason",
                          b->reason, "reads", (json_int_t)b->reads);
    clock_rfc3339(b->opened_us, ts);
    json_object_set_new(o, "opened_at", json_string(ts));
    clock_rfc3339(b->closed_us ? b->closed_us : b->expires_us, ts);
    json_object_set_new(o, b->closed_us ? "closed_at" : "expires_at", json_string(ts));
    json_object_set_new(o, "active",
                        json_boolean(!b->closed_us && b->expires_us > clock_now_us()));
    json_object_set_new(o, "reviewed", json_boolean(b->reviewed_us != 0));
    if (b->reviewed_us) {
        clock_rfc3339(b->reviewed_us, ts);
        json_object_set_new(o, "reviewed_by", json_string(b->reviewed_by));
        json_object_set_new(o, "reviewed_at", json_string(ts));
        json_object_set_new(o, "review_note", json_string(b->review_note));
    }
    return o;
}

err door_breakglass_open(vault *v, const actor *a, const char *reason, int64_t minutes,
                         json_t **out)
{
    TRY(door_need(v, a, CAP_BREAK_GLASS_OPEN, "breakglass.open"));
    ENSURE(reason && strlen(reason) >= 10 && strlen(reason) < sizeof((breakglass *)0)->reason,
           ERR_INPUT, "a written reason of at least 10 characters is required");
    ENSURE(minutes >= 1 && minutes <= BG_MAX_MINUTES, ERR_INPUT,
           "break-glass lasts 1 to %d minutes", BG_MAX_MINUTES);
    breakglass cur;
    ENSURE(store_breakglass_active(v->st, a->account_id, clock_now_us(), &cur) != ERR_OK,
           ERR_CONFLICT, "a break-glass grant is open already (%s)", cur.id);
    breakglass b;
    memset(&b, 0, sizeof b);
    id_new(b.id, "bgl");
    snprintf(b.account_id, sizeof b.account_id, "%s", a->account_id);
    snprintf(b.username, sizeof b.username, "%s", a->username);
    snprintf(b.reason, sizeof b.reason, "%s", reason);
    b.opened_us = clock_now_us();
    b.expires_us = b.opened_us + minutes * 60 * 1000000;
    audit_entry e;
    char rule[ID_LEN + 16];
    snprintf(rule, sizeof rule, "break-glass:%s", b.id);
    door_entry(&e, a, "breakglass.open", "allow", rule);
    e.reason = b.reason;
    TRY(audit_append(v->au, &e, NULL));
    TRY(store_breakglass_insert(v->st, &b));
    char d[96];
    snprintf(d, sizeof d, "grant=%s minutes=%lld", b.id, (long long)minutes);
    door_alert(v, "high", "break-glass-open", a, d);
    *out = bg_json(&b);
    return ERR_OK;
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
        return door_deny(v, a, "breakglass.review", NULL, NULL, "separation-of-duties",
                         ERR_DENIED, "a break-glass grant is reviewed by a second person");
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
