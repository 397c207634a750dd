/*
 * door_training_remedial.c - violations lead back to training (door_training.h).
 * HR assigns a remedial course from the violation register, or the guard does as
 * a rule response (`train COURSE`, as the system actor). A blocking one sets the
 * account's training validity to none at once, so the policy's training
 * condition refuses customer data on the employee's next request (fail closed:
 * nothing has to run for the cut to hold); passing the course restores the
 * validity the account had (door_training_attempt_submit calls
 * dtr_remedial_passed), and neither another pass nor a hand-set date gives
 * access back while it is open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/utf8.h"
#include "door/door_training.h"
#include "door/door_training_int.h"

typedef struct open_set {
    training_remedial r[DTR_REMEDIAL_MAX];
    size_t n;
} open_set;

static err collect(void *ctx, const training_remedial *r)
{
    open_set *s = ctx;
    ENSURE(s->n < DTR_REMEDIAL_MAX, ERR_TOO_LARGE, "more than %d open remedial courses",
           DTR_REMEDIAL_MAX);
    s->r[s->n++] = *r;
    return ERR_OK;
}

err dtr_remedial_blocked(store *st, const char *account_id, bool *blocked, int64_t *saved_us)
{
    open_set *s = calloc(1, sizeof *s);
    ENSURE(s != NULL, ERR_INTERNAL, "out of memory");
    err e = store_training_remedials(st, account_id, true, collect, s);
    *blocked = false;
    *saved_us = 0;
    for (size_t i = 0; e == ERR_OK && i < s->n; i++) {
        if (s->r[i].blocking) {
            *blocked = true;
            *saved_us = s->r[i].saved_until_us > *saved_us ? s->r[i].saved_until_us : *saved_us;
        }
    }
    free(s);
    return e;
}

err dtr_remedial_passed(store *st, const account *acc, const char *course_id, int64_t started_us,
                        int64_t now_us, bool *closed_blocking, int64_t *saved_us, size_t *closed)
{
    open_set *s = calloc(1, sizeof *s);
    ENSURE(s != NULL, ERR_INTERNAL, "out of memory");
    err rc = ERR_OK;
    *closed_blocking = false;
    *saved_us = 0;
    *closed = 0;
    GUARD(store_training_remedials(st, acc->id, true, collect, s));
    for (size_t i = 0; i < s->n; i++) {
        /* Only a paper drawn after the assignment counts: the lesson comes after the
         * violation. */
        if (strcmp(s->r[i].course, course_id) != 0 || started_us < s->r[i].assigned_us) {
            continue;
        }
        GUARD(store_training_remedial_close(st, s->r[i].id, now_us));
        (*closed)++;
        if (s->r[i].blocking) {
            *closed_blocking = true;
            *saved_us = s->r[i].saved_until_us > *saved_us ? s->r[i].saved_until_us : *saved_us;
        }
    }
out:
    free(s);
    return rc;
}

static bool source_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof((training_remedial *)0)->source) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == ':' || *p == '.' || *p == '-' || *p == '_')) {
            return false;
        }
    }
    return true;
}

static json_t *remedial_json(const training_remedial *r, const account *acc)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:s}", "id", r->id, "username",
                          acc ? acc->username : "", "department", acc ? acc->department : "",
                          "course", r->course, "source", r->source, "blocking", r->blocking,
                          "assigned_by", r->assigned_by);
    char ts[40];
    clock_rfc3339(r->assigned_us, ts);
    json_object_set_new(o, "assigned_at", json_string(ts));
    if (r->done_us > 0) {
        clock_rfc3339(r->done_us, ts);
        json_object_set_new(o, "done_at", json_string(ts));
    } else {
        json_object_set_new(o, "done_at", json_null());
    }
    return o;
}

err door_training_remedial_assign(vault *v, const actor *a, const char *username,
                                  const char *course_id, const char *source, bool blocking,
                                  json_t **out)
{
    const char *action = "training.remedial.assign";
    TRY(dtr_need_manage(v, a, action));
    ENSURE(username && identity_name_ok(username), ERR_NOT_FOUND, "no such account");
    ENSURE(course_id && strlen(course_id) <= TRAINING_ID_MAX, ERR_INPUT, "course: a course id");
    const char *src = source && source[0] ? source : "hr";
    ENSURE(source_ok(src), ERR_INPUT, "violation: the rule of the violation ([A-Za-z0-9:._-])");
    char ver[TRAINING_VERSION_MAX + 1];
    buf m;
    buf_init(&m, COURSE_MANIFEST_MAX);
    err ce = store_training_course_get(v->st, course_id, NULL, ver, &m);
    buf_free(&m);
    ENSURE(ce != ERR_NOT_FOUND, ERR_INPUT, "course: no such course");
    TRY(ce);
    training_remedial r;
    memset(&r, 0, sizeof r);
    account acc;
    memset(&acc, 0, sizeof acc);
    store_tx *tx = NULL;
    err rc = ERR_OK;
    GUARD(store_training_ready(v->st));
    GUARD(store_begin(v->st, &tx));
    store *txs = store_tx_store(tx);
    err ae = store_account_by_name(txs, username, &acc);
    CHECK(ae != ERR_NOT_FOUND, ERR_NOT_FOUND, "no such account");
    GUARD(ae);
    bool blocked = false;
    int64_t saved = 0;
    GUARD(dtr_remedial_blocked(txs, acc.id, &blocked, &saved));
    id_new(r.id, "trm");
    snprintf(r.account_id, sizeof r.account_id, "%s", acc.id);
    snprintf(r.course, sizeof r.course, "%s", course_id);
    snprintf(r.source, sizeof r.source, "%s", src);
    snprintf(r.assigned_by, sizeof r.assigned_by, "%s", a->username);
    r.blocking = blocking;
    r.assigned_us = clock_now_us();
    /* What a pass gives back: the validity before the first open block. */
    r.saved_until_us = blocked ? saved : acc.training_until_us;
    char what[300];
    snprintf(what, sizeof what, "remedial=%s %s course=%s source=%s blocking=%s", r.id,
             acc.username, course_id, src, blocking ? "yes" : "no");
    GUARD(dtr_audit(v, a, action, "allow", dtr_is_system(a) ? "guard.train" : "training.manage",
                    what, -1));
    GUARD(store_training_remedial_add(txs, &r));
    if (blocking && acc.training_until_us != 0) {
        acc.training_until_us = 0;
        GUARD(store_account_update(txs, &acc));
    }
    GUARD(store_commit(&tx));
    char subject[200];
    snprintf(subject, sizeof subject, "remedial training: %s", course_id);
    char to[USERNAME_MAX + 16];
    snprintf(to, sizeof to, "account:%s", acc.username);
    door_notify(v, to, "training.remedial", subject,
                blocking ? "customer access waits until you pass the course"
                         : "please take the course");
    *out = remedial_json(&r, &acc);
out:
    store_rollback(&tx);
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    mem_wipe(acc.totp, sizeof acc.totp);
    return rc;
}

typedef struct list_ctx {
    vault *v;
    json_t *arr;
} list_ctx;

static err list_one(void *ctx, const training_remedial *r)
{
    list_ctx *x = ctx;
    account acc;
    bool have = store_account_by_id(x->v->st, r->account_id, &acc) == ERR_OK;
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    mem_wipe(acc.totp, sizeof acc.totp);
    json_array_append_new(x->arr, remedial_json(r, have ? &acc : NULL));
    return ERR_OK;
}

err door_training_remedial_list(vault *v, const actor *a, const char *username, bool open_only,
                                json_t **out)
{
    const char *action = "training.remedial.list";
    account acc;
    memset(&acc, 0, sizeof acc);
    bool all = username && strcmp(username, "*") == 0;
    bool self =
        !username || !username[0] || (a->account_id[0] && strcmp(username, a->username) == 0);
    if (self) {
        TRY(dtr_need_person(v, a, action));
        TRY(store_account_by_id(v->st, a->account_id, &acc));
    } else {
        TRY(dtr_need_manage(v, a, action));
        if (!all) {
            ENSURE(identity_name_ok(username), ERR_NOT_FOUND, "no such account");
            err e = store_account_by_name(v->st, username, &acc);
            ENSURE(e != ERR_NOT_FOUND, ERR_NOT_FOUND, "no such account");
            TRY(e);
        }
    }
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    mem_wipe(acc.totp, sizeof acc.totp);
    TRY(dtr_audit(v, a, action, "allow", self ? "training.self" : "training.manage",
                  all ? "*" : acc.username, -1));
    list_ctx x = {v, json_array()};
    err e = store_training_remedials(v->st, all ? NULL : acc.id, open_only, list_one, &x);
    if (e != ERR_OK) {
        json_decref(x.arr);
        return e;
    }
    *out = json_pack("{s:o}", "remedial", x.arr);
    return ERR_OK;
}

typedef struct find_ctx {
    const char *id;
    training_remedial r;
    bool found;
} find_ctx;

static err find_one(void *ctx, const training_remedial *r)
{
    find_ctx *x = ctx;
    if (strcmp(r->id, x->id) == 0) {
        x->r = *r;
        x->found = true;
    }
    return ERR_OK;
}

err door_training_remedial_withdraw(vault *v, const actor *a, const char *id, const char *reason)
{
    const char *action = "training.remedial.withdraw";
    TRY(dtr_need_manage(v, a, action));
    size_t rl = reason ? strlen(reason) : 0;
    ENSURE(rl >= 4 && rl <= 500 && utf8_valid((const uint8_t *)reason, rl), ERR_INPUT,
           "reason: say why (4 to 500 bytes)");
    ENSURE(id && strlen(id) <= ID_LEN, ERR_NOT_FOUND, "no such remedial course");
    find_ctx f;
    memset(&f, 0, sizeof f);
    f.id = id;
    account acc;
    memset(&acc, 0, sizeof acc);
    store_tx *tx = NULL;
    err rc = ERR_OK;
    GUARD(store_training_ready(v->st));
    GUARD(store_begin(v->st, &tx));
    store *txs = store_tx_store(tx);
    GUARD(store_training_remedials(txs, NULL, true, find_one, &f));
    CHECK(f.found, ERR_NOT_FOUND, "no such open remedial course");
    GUARD(store_account_by_id(txs, f.r.account_id, &acc));
    char what[700];
    snprintf(what, sizeof what, "remedial=%s %s course=%s reason=%s", f.r.id, acc.username,
             f.r.course, reason);
    GUARD(dtr_audit(v, a, action, "allow", "training.manage", what, -1));
    GUARD(store_training_remedial_close(txs, f.r.id, clock_now_us()));
    bool blocked = false;
    int64_t saved = 0;
    GUARD(dtr_remedial_blocked(txs, acc.id, &blocked, &saved));
    if (f.r.blocking && !blocked && f.r.saved_until_us > acc.training_until_us) {
        acc.training_until_us = f.r.saved_until_us;
        GUARD(store_account_update(txs, &acc));
    }
    GUARD(store_commit(&tx));
out:
    store_rollback(&tx);
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    mem_wipe(acc.totp, sizeof acc.totp);
    return rc;
}
