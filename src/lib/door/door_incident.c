/*
 * door_incident.c - incidents through the door (door_incident.h). The rules of an incident
 * live in incident/ (pure functions on a value); this file decides who may, audits, keeps the
 * incident sealed in the store, carries out one-click containment through the door's existing
 * audited actions, computes the breach scope from the audit log, builds the evidence bundle
 * and sends the reminders of late tasks.
 *
 * Storage: one row per incident (store_incident.h). The incident's JSON and its scope are
 * envelopes (crypto.h seal) under a key derived from the vault's keys for this purpose and
 * this incident (keyring_mac, "incident.seal.v1"), bound to the incident id and the part
 * ("incident", "scope"). That key stays usable while the vault is sealed (the response goes on
 * while customer data is locked away) and does not change with a master-key rotation.
 *
 * Changes: read the row, apply the change to the incident value, write the row only if its
 * version is still the one read; when another change came first, read again and apply the
 * change again (the rules are checked again on the newer state).
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/checkpoint.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/log.h"
#include "door/door_incident.h"
#include "door_int.h"
#include "door_notices_int.h"
#include "incident/bundle.h"
#include "incident/deliver.h"
#include "incident/incident.h"
#include "incident/playbook.h"
#include "incident/scope.h"
#include "store/store_incident.h"

#define KEY_PURPOSE "incident.seal.v1"
#define KEY_MARK "derived:" KEY_PURPOSE
#define MUTATE_TRIES 64
#define LIST_MAX 500
#define BLOCK_SECONDS ((int64_t)30 * 86400) /* a containment block: 30 days, lifted by hand */
#define LOCK_SECONDS                                                                               \
    ((int64_t)30 * 86400) /* a containment lock: 30 days, renewable, a sanction                    \
                           */
#define PENDING_US ((int64_t)15 * 60 * 1000000) /* a second lead confirms within 15 minutes */

/* ---- who may ---- */

static bool reader_role(role r)
{
    return r == ROLE_SECURITY || r == ROLE_LEGAL || r == ROLE_CUSTOMER_SERVICE ||
           r == ROLE_DATA_STEWARD || r == ROLE_AUDITOR;
}

static bool is_system(const actor *a)
{
    return a->role == ROLE__COUNT && a->account_id[0] == '\0' &&
           strncmp(a->username, "system:", 7) == 0;
}

/* A person of a role that takes part in incident response (or the system: timer, drills). */
static err need_reader(vault *v, const actor *a, const char *action)
{
    if (is_system(a)) {
        return ERR_OK;
    }
    if (a->session_flags & SESSION_MFA_PENDING) {
        return door_deny(v, a, action, NULL, NULL, "second-factor-pending", ERR_AUTH,
                         "second factor required");
    }
    if (a->via_key || !reader_role(a->role)) {
        return door_deny(v, a, action, NULL, NULL, "incident.roles", ERR_DENIED,
                         "incidents are for security, legal, customer service, data stewards "
                         "and auditors");
    }
    return ERR_OK;
}

/* Opening, phases, owners, closing: security and legal. */
static err need_lead(vault *v, const actor *a, const char *action)
{
    TRY(need_reader(v, a, action));
    if (is_system(a) || a->role == ROLE_SECURITY || a->role == ROLE_LEGAL) {
        return ERR_OK;
    }
    return door_deny(v, a, action, NULL, NULL, "incident.lead", ERR_DENIED,
                     "only security and legal lead an incident");
}

static err audit_inc(vault *v, const actor *a, const char *action, const char *decision,
                     const char *rule, const char *id, const char *what, int64_t count)
{
    audit_entry e;
    door_entry(&e, a, action, decision, rule);
    char reason[600];
    snprintf(reason, sizeof reason, "incident=%s%s%s", id ? id : "-", what && what[0] ? " " : "",
             what ? what : "");
    e.reason = reason; /* ids, task names, phases, roles: never a customer value or a note */
    e.count = count;
    return audit_append(v->au, &e, NULL);
}

static inc_actor who_of(const actor *a)
{
    return (inc_actor){a->username, a->role == ROLE__COUNT ? -1 : (int)a->role};
}

/* ---- playbooks ---- */

static bool playbook_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > PLAYBOOK_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0))) {
            return false;
        }
    }
    return true;
}

/* VAULT/playbooks/ID.playbook, else the shipped ones next to the binary (etc/playbooks of the
 * source tree, share/custos/playbooks of an installation) or /etc/custos/playbooks. */
static err playbook_text(vault *v, const char *id, buf *out)
{
    ENSURE(playbook_id_ok(id), ERR_INPUT, "a playbook id is lower-case letters, digits and '-'");
    char p[PATH_MAX], exe[PATH_MAX];
    snprintf(p, sizeof p, "%s/playbooks/%s.playbook", vault_dir(v), id);
    if (access(p, R_OK) == 0) {
        return file_read_bounded(p, PLAYBOOK_MAX_BYTES, out);
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
        *slash = '\0';
    }
    static const char *const rel[] = {"../etc/playbooks", "../../etc/playbooks",
                                      "../share/custos/playbooks"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0] && exe[0]; i++) {
        snprintf(p, sizeof p, "%s/%s/%s.playbook", exe, rel[i], id);
        if (access(p, R_OK) == 0) {
            return file_read_bounded(p, PLAYBOOK_MAX_BYTES, out);
        }
    }
    snprintf(p, sizeof p, "/etc/custos/playbooks/%s.playbook", id);
    if (access(p, R_OK) == 0) {
        return file_read_bounded(p, PLAYBOOK_MAX_BYTES, out);
    }
    BAIL(ERR_NOT_FOUND, "no such playbook");
}

/* ---- the sealed row ---- */

typedef struct loaded {
    incident_row row;
    playbook *pb;
    incident inc;
    bool have_inc;
    json_t *extra; /* the rest of the sealed body: alert, custody, options */
} loaded;

static loaded *loaded_new(void)
{
    loaded *l = calloc(1, sizeof *l);
    if (l) {
        incident_row_init(&l->row);
    }
    return l;
}

static void loaded_free(loaded *l)
{
    if (!l) {
        return;
    }
    if (l->have_inc) {
        incident_free(&l->inc);
    }
    playbook_free(l->pb);
    json_decref(l->extra);
    incident_row_free(&l->row);
    free(l);
}

static void inc_key(vault *v, const char *id, uint8_t key[KEY_LEN])
{
    keyring_mac(v->kr, KEY_PURPOSE, slice_cstr(id), key);
}

static err seal_json(vault *v, const char *id, const char *part, const json_t *j, buf *out)
{
    char *txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    ENSURE(txt != NULL, ERR_INTERNAL, "out of memory");
    uint8_t *key = door_dek_buf();
    inc_key(v, id, key);
    buf_reset(out);
    err e = seal(key, 1, id, part, slice_cstr(txt), out);
    mem_wipe(key, KEY_LEN);
    mem_wipe(txt, strlen(txt));
    free(txt);
    return e;
}

static err unseal_json(vault *v, const char *id, const char *part, const buf *env, json_t **out)
{
    uint8_t *key = door_dek_buf();
    inc_key(v, id, key);
    buf plain;
    buf_init(&plain, (size_t)32 << 20);
    err e = unseal(key, id, part, buf_slice(env), &plain);
    mem_wipe(key, KEY_LEN);
    if (e == ERR_OK) {
        json_error_t je;
        *out = json_loadb((const char *)plain.p, plain.len, JSON_REJECT_DUPLICATES, &je);
        if (!*out) {
            e = err_set(ERR_INTERNAL, __FILE__, __LINE__, "a stored incident does not read back");
        }
    }
    buf_free(&plain);
    return e;
}

static int late_tasks(const incident *inc, int64_t now)
{
    int n = 0;
    for (size_t i = 0; i < inc->pb.ntasks; i++) {
        n += inc->phase != PHASE_CLOSED && inc->task[i].state != TASK_DONE &&
             inc->task[i].due_us <= now;
    }
    return n;
}

/* The next moment the timer has something to send for this incident (0: nothing). */
static int64_t next_due(const incident *inc)
{
    int64_t best = 0;
    if (inc->phase == PHASE_CLOSED) {
        return 0;
    }
    for (size_t i = 0; i < inc->pb.ntasks; i++) {
        const inc_task *t = &inc->task[i];
        int64_t at = 0;
        if (t->state == TASK_DONE) {
            continue;
        }
        if (t->reminded_us == 0) {
            at = t->due_us - inc->pb.remind_s * 1000000;
        } else if (t->escalated_us == 0) {
            at = t->due_us;
        }
        if (at && (!best || at < best)) {
            best = at;
        }
    }
    return best;
}

/* Fills the row's clear columns and envelopes from l->inc and l->extra. */
static err pack(vault *v, loaded *l, int64_t now)
{
    incident_row *r = &l->row;
    const incident *inc = &l->inc;
    snprintf(r->id, sizeof r->id, "%s", inc->id);
    r->drill = inc->drill;
    r->closed = inc->phase == PHASE_CLOSED;
    snprintf(r->phase, sizeof r->phase, "%s", inc_phase_name(inc->phase));
    snprintf(r->playbook, sizeof r->playbook, "%s", inc->pb.id);
    snprintf(r->title, sizeof r->title, "%s", inc->pb.title[PB_EN]);
    snprintf(r->severity, sizeof r->severity, "%s", pb_severity_name(inc->severity));
    snprintf(r->owner, sizeof r->owner, "%s", inc->owner);
    snprintf(r->source_alert, sizeof r->source_alert, "%s", inc->source_alert);
    r->aware_us = inc->aware_us;
    r->opened_us = inc->opened_us;
    r->closed_us = inc->closed_us;
    r->late_tasks = late_tasks(inc, now);
    r->next_due_us = next_due(inc);
    r->kek_version = 0;
    TRY(buf_set(&r->wrapped_dek, KEY_MARK, sizeof KEY_MARK - 1));
    json_t *body = json_deep_copy(l->extra);
    ENSURE(body != NULL, ERR_INTERNAL, "out of memory");
    json_object_set_new(body, "incident", incident_to_json(inc));
    err e = seal_json(v, inc->id, "incident", body, &r->body);
    json_decref(body);
    return e;
}

static bool id_ok(const char *id)
{
    return id && id[0] && strlen(id) <= STORE_INCIDENT_ID_MAX && id_valid(id);
}

/* Reads and opens incident id. ERR_NOT_FOUND when there is none. */
static err load(vault *v, const char *id, loaded **out)
{
    ENSURE(id_ok(id), ERR_NOT_FOUND, "no such incident");
    loaded *l = loaded_new();
    ENSURE(l != NULL, ERR_INTERNAL, "out of memory");
    err rc = ERR_OK;
    json_t *body = NULL;
    GUARD(store_incident_get(v->st, id, &l->row));
    CHECK(l->row.wrapped_dek.len == sizeof KEY_MARK - 1 &&
              memcmp(l->row.wrapped_dek.p, KEY_MARK, sizeof KEY_MARK - 1) == 0,
          ERR_INTERNAL, "a stored incident names a key this version does not know");
    rc = playbook_parse(l->row.playbook, (const char *)l->row.playbook_text.p,
                        l->row.playbook_text.len, &l->pb);
    CHECK(rc == ERR_OK, ERR_INTERNAL, "a stored incident's playbook no longer parses");
    GUARD(unseal_json(v, id, "incident", &l->row.body, &body));
    GUARD(incident_from_json(json_object_get(body, "incident"), l->pb, &l->inc));
    l->have_inc = true;
    json_object_del(body, "incident");
    l->extra = body;
    body = NULL;
    *out = l;
    return ERR_OK;
out:
    json_decref(body);
    loaded_free(l);
    return rc;
}

err door_incident_value(vault *v, const char *id, incident *out)
{
    loaded *l = NULL;
    TRY(load(v, id, &l));
    *out = l->inc; /* the timeline moves to out; the playbook is a copy inside it */
    l->have_inc = false;
    loaded_free(l);
    return ERR_OK;
}

/* A change: fn applies it to l (fn may refuse with an error: nothing is written). fn is called
 * again on a fresher copy when another change was written in between. */
typedef err (*change_fn)(vault *v, const actor *a, loaded *l, void *ctx);

static err mutate(vault *v, const actor *a, const char *id, change_fn fn, void *ctx, loaded **keep)
{
    for (int attempt = 0; attempt < MUTATE_TRIES; attempt++) {
        loaded *l = NULL;
        TRY(load(v, id, &l));
        uint64_t version = l->row.version;
        err e = fn(v, a, l, ctx);
        if (e == ERR_OK) {
            e = pack(v, l, clock_now_us());
        }
        if (e == ERR_OK) {
            e = store_incident_update(v->st, &l->row, version);
        }
        if (e == ERR_PRECONDITION) {
            loaded_free(l);
            continue;
        }
        if (e == ERR_OK && keep) {
            l->row.version = version + 1;
            *keep = l;
        } else {
            loaded_free(l);
        }
        return e;
    }
    BAIL(ERR_CONFLICT, "the incident is changing too fast; try again");
}

/* ---- the API's view ---- */

static json_t *time_json(int64_t us)
{
    if (!us) {
        return json_null();
    }
    char t[40];
    clock_rfc3339(us, t);
    return json_string(t);
}

static json_t *roles_json(uint32_t bits)
{
    json_t *a = json_array();
    for (int r = 0; r < ROLE__COUNT; r++) {
        if (bits & (1u << r)) {
            json_array_append_new(a, json_string(role_name((role)r)));
        }
    }
    return a;
}

static inc_deadline_opts deadline_opts(const loaded *l)
{
    return (inc_deadline_opts){.critical_infrastructure = json_is_true(
                                   json_object_get(l->extra, "critical_infrastructure")),
                               .eu_people = json_is_true(json_object_get(l->extra, "eu_people"))};
}

static json_t *view(const loaded *l, int64_t now)
{
    const incident *inc = &l->inc;
    json_t *j = incident_to_json(inc);
    if (!j) {
        return NULL;
    }
    json_object_set_new(j, "title", json_string(inc->pb.title[PB_EN]));
    json_object_set_new(j, "title_zh", json_string(inc->pb.title[PB_ZH]));
    json_object_set_new(j, "classification", json_string(inc->pb.classification));
    json_object_set_new(j, "aware_at", time_json(inc->aware_us));
    json_object_set_new(j, "opened_at", time_json(inc->opened_us));
    json_object_set_new(j, "closed_at", time_json(inc->closed_us));
    json_object_set_new(j, "late_tasks", json_integer(late_tasks(inc, now)));
    json_object_set_new(j, "version", json_integer((json_int_t)l->row.version));
    json_object_set_new(j, "escalate_to", json_string(role_name((role)inc->pb.escalate_to)));
    /* Containment waiting for a second lead (fresh ones only). */
    json_t *pend = json_array();
    const json_t *px;
    size_t pi;
    json_array_foreach(json_object_get(l->extra, "pending"), pi, px)
    {
        int64_t at = json_integer_value(json_object_get(px, "at_us"));
        if (at >= now - PENDING_US) {
            json_array_append_new(pend, json_pack("{s:O, s:O, s:O, s:O, s:o, s:o}", "task",
                                                  json_object_get(px, "task"), "action",
                                                  json_object_get(px, "action"), "target",
                                                  json_object_get(px, "target"), "by",
                                                  json_object_get(px, "by"), "at", time_json(at),
                                                  "expires_at", time_json(at + PENDING_US)));
        }
    }
    json_object_set_new(j, "pending_actions", pend);
    json_t *tasks = json_object_get(j, "tasks");
    for (size_t i = 0; i < inc->pb.ntasks && i < json_array_size(tasks); i++) {
        json_t *t = json_array_get(tasks, i);
        const pb_task *p = &inc->pb.task[i];
        json_t *acts = json_array(), *after = json_array();
        for (int k = 0; k < PBA__COUNT; k++) {
            if (p->actions & (1u << k)) {
                json_array_append_new(acts, json_string(pb_action_name((pb_action)k)));
            }
        }
        for (size_t k = 0; k < inc->pb.ntasks; k++) {
            if (p->after & (1ull << k)) {
                json_array_append_new(after, json_string(inc->pb.task[k].id));
            }
        }
        json_object_set_new(t, "roles", roles_json(p->roles));
        json_object_set_new(t, "actions", acts);
        json_object_set_new(t, "after", after);
        json_object_set_new(t, "title", json_string(p->title[PB_EN]));
        json_object_set_new(t, "title_zh", json_string(p->title[PB_ZH]));
        json_object_set_new(t, "due_at", time_json(inc->task[i].due_us));
        json_object_set_new(t, "started_at", time_json(inc->task[i].started_us));
        json_object_set_new(t, "done_at", time_json(inc->task[i].done_us));
        json_object_set_new(t, "late",
                            json_boolean(inc->phase != PHASE_CLOSED &&
                                         inc->task[i].state != TASK_DONE &&
                                         inc->task[i].due_us <= now));
    }
    json_t *tl = json_object_get(j, "timeline");
    for (size_t i = 0; i < json_array_size(tl) && i < inc->nevents; i++) {
        json_object_set_new(json_array_get(tl, i), "at", time_json(inc->events[i].at_us));
    }
    inc_deadline d[REPORT__COUNT];
    inc_deadline_opts o = deadline_opts(l);
    incident_deadlines(inc, &o, now, d);
    json_t *dl = json_array();
    for (int r = 0; r < REPORT__COUNT; r++) {
        json_array_append_new(dl, json_pack("{s:s, s:b, s:o, s:o, s:I}", "report",
                                            inc_report_name(d[r].report), "applies", d[r].applies,
                                            "due_at", time_json(d[r].due_us), "filed_at",
                                            time_json(d[r].filed_us), "left_s",
                                            (json_int_t)(d[r].left_us / 1000000)));
    }
    json_object_set_new(j, "deadlines", dl);
    inc_handoff h[PLAYBOOK_MAX_TASKS];
    size_t nh = incident_handoffs(inc, h, PLAYBOOK_MAX_TASKS);
    json_t *hj = json_array();
    for (size_t i = 0; i < nh && i < PLAYBOOK_MAX_TASKS; i++) {
        json_array_append_new(hj,
                              json_pack("{s:s, s:s, s:I}", "from", inc->pb.task[h[i].from_task].id,
                                        "to", inc->pb.task[h[i].to_task].id, "wait_s",
                                        (json_int_t)(h[i].wait_us / 1000000)));
    }
    json_object_set_new(j, "handoffs", hj);
    json_t *alert = json_object_get(l->extra, "alert");
    json_object_set(j, "alert", alert ? alert : json_null());
    json_t *custody = json_object_get(l->extra, "custody");
    json_object_set(j, "custody", custody ? custody : json_array());
    json_object_set_new(j, "has_scope", json_boolean(l->row.scope.len > 0));
    return j;
}

static err answer(const loaded *l, json_t **out)
{
    if (!out) {
        return ERR_OK;
    }
    *out = view(l, clock_now_us());
    ENSURE(*out != NULL, ERR_INTERNAL, "out of memory");
    return ERR_OK;
}

/* ---- open ---- */

static err alert_of(vault *v, int64_t id, json_t **out)
{
    ENSURE(v->guard != NULL, ERR_UNAVAILABLE, "the guard is not running");
    return guard_alert_get(v->guard, id, out);
}

err door_incident_open(vault *v, const actor *a, const door_incident_open_opts *o, json_t **out)
{
    const char *act = "incident.open";
    TRY(need_lead(v, a, act));
    if (o->alert > 0 && !is_system(a)) {
        TRY(door_need(v, a, CAP_GUARD_MANAGE, act)); /* the alert's evidence is security's */
    }
    int64_t now = clock_now_us();
    buf text;
    buf_init(&text, PLAYBOOK_MAX_BYTES);
    loaded *l = loaded_new();
    json_t *alert = NULL;
    err rc = ERR_OK;
    CHECK(l != NULL, ERR_INTERNAL, "out of memory");
    GUARD(playbook_text(v, o->playbook, &text));
    GUARD(playbook_parse(o->playbook, (const char *)text.p, text.len, &l->pb));
    char alert_id[24] = "";
    int64_t aware = o->aware_us;
    if (o->alert > 0) {
        GUARD(alert_of(v, o->alert, &alert));
        /* Nobody takes up (and so acknowledges) an alert about themselves. */
        const char *about = json_string_value(json_object_get(alert, "account"));
        if (!is_system(a) && about && strcmp(about, a->username) == 0) {
            rc = door_deny(v, a, act, NULL, NULL, "incident.own-alert", ERR_DENIED,
                           "the alert is about your own account: another lead opens it");
            goto out;
        }
        snprintf(alert_id, sizeof alert_id, "%lld", (long long)o->alert);
        const char *first = json_string_value(json_object_get(alert, "first_seen"));
        int64_t seen = 0;
        if (!aware && first && clock_parse_rfc3339(first, &seen) == ERR_OK) {
            aware = seen;
        }
    }
    if (!aware) {
        aware = now;
    }
    CHECK(aware <= now, ERR_INPUT, "the moment of awareness may not be in the future");
    CHECK(aware > now - (int64_t)365 * 86400 * 1000000, ERR_INPUT,
          "the moment of awareness is more than a year ago");
    char id[ID_LEN + 1];
    id_new(id, "inc");
    inc_actor who = who_of(a);
    GUARD(incident_open(&l->inc, id, l->pb, aware, now, &who, o->drill,
                        alert_id[0] ? alert_id : NULL));
    l->have_inc = true;
    if (o->severity && o->severity[0]) {
        int s = pb_name_index(o->severity,
                              (const char *const[]){"low", "medium", "high", "critical"}, 4);
        CHECK(s >= 0, ERR_INPUT, "unknown severity (low, medium, high, critical)");
        l->inc.severity = (pb_severity)s;
    }
    if (o->note && o->note[0]) {
        GUARD(incident_note(&l->inc, &who, o->note, now));
    }
    l->extra = json_pack("{s:b, s:b, s:[]}", "critical_infrastructure", o->critical_infrastructure,
                         "eu_people", o->eu_people, "custody");
    CHECK(l->extra != NULL, ERR_INTERNAL, "out of memory");
    if (alert) {
        json_object_set(l->extra, "alert", alert);
    }
    char what[200];
    snprintf(what, sizeof what, "playbook=%s%s%s%s", l->pb->id, alert_id[0] ? " alert=" : "",
             alert_id, o->drill ? " drill" : "");
    GUARD(audit_inc(v, a, act, "allow", is_system(a) ? "system" : "incident.lead", id, what, -1));
    GUARD(buf_set(&l->row.playbook_text, text.p, text.len));
    GUARD(pack(v, l, now));
    GUARD(store_incident_insert(v->st, &l->row));
    l->row.version = 1;
    if (alert && !is_system(a) && v->guard &&
        strcmp(json_string_value(json_object_get(alert, "status")) ?: "", "open") == 0) {
        /* One click: the alert is taken up by the incident. */
        if (guard_alert_ack(v->guard, o->alert, a->username) != ERR_OK) {
            log_warn("incident.open", "alert %s could not be acknowledged", alert_id);
        }
    }
    rc = answer(l, out);
out:
    json_decref(alert);
    buf_free(&text);
    loaded_free(l);
    return rc;
}

/* ---- list and read ---- */

typedef struct list_ctx {
    json_t *arr;
    int64_t now;
} list_ctx;

static err list_row(void *vctx, const incident_row *r)
{
    list_ctx *c = vctx;
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:I, s:o}", "id", r->id,
                  "title", r->title, "playbook", r->playbook, "severity", r->severity, "phase",
                  r->phase, "owner", r->owner, "drill", r->drill, "aware_at",
                  time_json(r->aware_us), "opened_at", time_json(r->opened_us), "closed_at",
                  time_json(r->closed_us), "late_tasks", (json_int_t)r->late_tasks, "source_alert",
                  r->source_alert[0] ? json_string(r->source_alert) : json_null());
    ENSURE(o != NULL, ERR_INTERNAL, "out of memory");
    json_array_append_new(c->arr, o);
    return ERR_OK;
}

err door_incidents_list(vault *v, const actor *a, const char *state, int drill, json_t **out)
{
    const char *act = "incident.list";
    TRY(need_reader(v, a, act));
    incident_state_filter f = INCIDENT_LIST_OPEN;
    if (state && strcmp(state, "closed") == 0) {
        f = INCIDENT_LIST_CLOSED;
    } else if (state && strcmp(state, "all") == 0) {
        f = INCIDENT_LIST_ALL;
    } else {
        ENSURE(!state || !state[0] || strcmp(state, "open") == 0, ERR_INPUT,
               "state is open, closed or all");
    }
    char what[64];
    snprintf(what, sizeof what, "state=%s drill=%d", state && state[0] ? state : "open",
             drill ? 1 : 0);
    TRY(audit_inc(v, a, act, "allow", "incident.read", NULL, what, -1));
    list_ctx c = {json_array(), clock_now_us()};
    ENSURE(c.arr != NULL, ERR_INTERNAL, "out of memory");
    err e = store_incident_list(v->st, f, drill ? 1 : 0, LIST_MAX, list_row, &c);
    if (e != ERR_OK) {
        json_decref(c.arr);
        return e;
    }
    *out = json_pack("{s:o}", "incidents", c.arr);
    return ERR_OK;
}

err door_incident_get(vault *v, const actor *a, const char *id, json_t **out)
{
    const char *act = "incident.read";
    TRY(need_reader(v, a, act));
    loaded *l = NULL;
    TRY(load(v, id, &l));
    err e = audit_inc(v, a, act, "allow", "incident.read", id, NULL, -1);
    if (e == ERR_OK) {
        e = answer(l, out);
    }
    loaded_free(l);
    return e;
}

/* ---- changes ---- */

/* A refusal by the incident's rules is audited as a denial with the rule's words. */
static err refuse_audited(vault *v, const actor *a, const char *act, const char *id,
                          const char *what, err e)
{
    if (e == ERR_DENIED || e == ERR_CONFLICT || e == ERR_INPUT) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", err_message());
        const char *rule = e == ERR_DENIED ? "incident.task-roles" : "incident.rules";
        if (audit_inc(v, a, act, "deny", rule, id, what, -1) != ERR_OK) {
            return ERR_UNAVAILABLE;
        }
        return err_set(e, __FILE__, __LINE__, "%s", msg);
    }
    return e;
}

typedef struct task_arg {
    const char *task, *note;
    bool done;
    bool audited;
} task_arg;

static err ch_task(vault *v, const actor *a, loaded *l, void *ctx)
{
    task_arg *t = ctx;
    inc_actor who = who_of(a);
    int64_t now = clock_now_us();
    err e = t->done ? incident_task_done(&l->inc, t->task, &who, t->note, now)
                    : incident_task_start(&l->inc, t->task, &who, now);
    char what[120];
    snprintf(what, sizeof what, "task=%s %s", t->task, t->done ? "done" : "start");
    if (e != ERR_OK) {
        return refuse_audited(v, a, "incident.task", l->inc.id, what, e);
    }
    if (!t->audited) {
        TRY(audit_inc(v, a, "incident.task", "allow", "incident.task-roles", l->inc.id, what, -1));
        t->audited = true;
    }
    return ERR_OK;
}

static err run_change(vault *v, const actor *a, const char *id, change_fn fn, void *ctx,
                      json_t **out)
{
    loaded *l = NULL;
    TRY(mutate(v, a, id, fn, ctx, &l));
    err e = answer(l, out);
    loaded_free(l);
    return e;
}

err door_incident_task(vault *v, const actor *a, const char *id, const char *task, bool done,
                       const char *note, json_t **out)
{
    TRY(need_reader(v, a, "incident.task"));
    ENSURE(task && task[0], ERR_INPUT, "which task?");
    task_arg t = {task, note, done, false};
    return run_change(v, a, id, ch_task, &t, out);
}

typedef struct str_arg {
    const char *s;
    bool audited;
} str_arg;

static err ch_phase(vault *v, const actor *a, loaded *l, void *ctx)
{
    str_arg *s = ctx;
    inc_phase p;
    TRY(inc_phase_parse(s->s, &p));
    inc_actor who = who_of(a);
    char what[80];
    snprintf(what, sizeof what, "phase=%s", s->s);
    err e = incident_set_phase(&l->inc, p, &who, clock_now_us());
    if (e != ERR_OK) {
        return refuse_audited(v, a, "incident.phase", l->inc.id, what, e);
    }
    if (!s->audited) {
        TRY(audit_inc(v, a, "incident.phase", "allow", "incident.lead", l->inc.id, what, -1));
        s->audited = true;
    }
    return ERR_OK;
}

err door_incident_phase(vault *v, const actor *a, const char *id, const char *phase, json_t **out)
{
    TRY(need_lead(v, a, "incident.phase"));
    str_arg s = {phase, false};
    return run_change(v, a, id, ch_phase, &s, out);
}

static err ch_owner(vault *v, const actor *a, loaded *l, void *ctx)
{
    str_arg *s = ctx;
    inc_actor who = who_of(a);
    char what[120];
    snprintf(what, sizeof what, "owner=%.64s", s->s ? s->s : "");
    err e = incident_set_owner(&l->inc, s->s, &who, clock_now_us());
    if (e != ERR_OK) {
        return refuse_audited(v, a, "incident.owner", l->inc.id, what, e);
    }
    if (!s->audited) {
        TRY(audit_inc(v, a, "incident.owner", "allow", "incident.lead", l->inc.id, what, -1));
        s->audited = true;
    }
    return ERR_OK;
}

err door_incident_owner(vault *v, const actor *a, const char *id, const char *owner, json_t **out)
{
    TRY(need_lead(v, a, "incident.owner"));
    ENSURE(owner && owner[0], ERR_INPUT, "who is the new owner?");
    /* The owner leads: an account of security or legal. */
    actor o;
    err e = door_actor_of(v, owner, &o);
    ENSURE(e != ERR_NOT_FOUND, ERR_INPUT, "no such account");
    TRY(e);
    ENSURE(o.role == ROLE_SECURITY || o.role == ROLE_LEGAL, ERR_INPUT,
           "the owner of an incident is someone of security or legal");
    str_arg s = {owner, false};
    return run_change(v, a, id, ch_owner, &s, out);
}

static err ch_note(vault *v, const actor *a, loaded *l, void *ctx)
{
    str_arg *s = ctx;
    inc_actor who = who_of(a);
    err e = incident_note(&l->inc, &who, s->s, clock_now_us());
    if (e != ERR_OK) {
        return refuse_audited(v, a, "incident.note", l->inc.id, NULL, e);
    }
    ENSURE(l->inc.phase != PHASE_CLOSED, ERR_CONFLICT, "the incident is closed");
    if (!s->audited) {
        TRY(audit_inc(v, a, "incident.note", "allow", "incident.read", l->inc.id, NULL, -1));
        s->audited = true;
    }
    return ERR_OK;
}

err door_incident_note(vault *v, const actor *a, const char *id, const char *note, json_t **out)
{
    TRY(need_reader(v, a, "incident.note"));
    if (a->role == ROLE_AUDITOR) {
        return door_deny(v, a, "incident.note", NULL, NULL, "incident.auditor-reads", ERR_DENIED,
                         "auditors read incidents; they do not write in them");
    }
    str_arg s = {note, false};
    return run_change(v, a, id, ch_note, &s, out);
}

static err ch_close(vault *v, const actor *a, loaded *l, void *ctx)
{
    str_arg *s = ctx;
    inc_closing c;
    TRY(inc_closing_parse(s->s, &c));
    inc_actor who = who_of(a);
    char what[80];
    snprintf(what, sizeof what, "closing=%s", s->s);
    err e = incident_close(&l->inc, c, &who, clock_now_us());
    if (e != ERR_OK) {
        return refuse_audited(v, a, "incident.close", l->inc.id, what, e);
    }
    if (!s->audited) {
        TRY(audit_inc(v, a, "incident.close", "allow", "incident.lead", l->inc.id, what, -1));
        s->audited = true;
    }
    return ERR_OK;
}

err door_incident_close(vault *v, const actor *a, const char *id, const char *closing, json_t **out)
{
    TRY(need_lead(v, a, "incident.close"));
    str_arg s = {closing, false};
    return run_change(v, a, id, ch_close, &s, out);
}

/* ---- regulator reports ---- */

typedef struct filed_arg {
    inc_report r;
    bool audited;
} filed_arg;

static err ch_filed(vault *v, const actor *a, loaded *l, void *ctx)
{
    filed_arg *f = ctx;
    inc_actor who = who_of(a);
    char what[64];
    snprintf(what, sizeof what, "report=%s", inc_report_name(f->r));
    err e = incident_filed(&l->inc, f->r, &who, clock_now_us());
    if (e != ERR_OK) {
        return refuse_audited(v, a, "incident.filed", l->inc.id, what, e);
    }
    if (!f->audited) {
        TRY(audit_inc(v, a, "incident.filed", "allow", "incident.legal", l->inc.id, what, -1));
        f->audited = true;
    }
    return ERR_OK;
}

err door_incident_filed(vault *v, const actor *a, const char *id, const char *report, json_t **out)
{
    TRY(need_reader(v, a, "incident.filed"));
    if (!is_system(a) && a->role != ROLE_LEGAL) {
        return door_deny(v, a, "incident.filed", NULL, NULL, "incident.legal", ERR_DENIED,
                         "regulator reports are filed by legal");
    }
    filed_arg f = {0};
    TRY(inc_report_parse(report, &f.r));
    return run_change(v, a, id, ch_filed, &f, out);
}

/* ---- one-click containment ---- */

typedef struct action_arg {
    const char *task, *target;
    pb_action act;
    bool check_only;
} action_arg;

static err ch_action(vault *v, const actor *a, loaded *l, void *ctx)
{
    (void)v;
    action_arg *x = ctx;
    inc_actor who = who_of(a);
    return incident_action(&l->inc, x->task, x->act, x->target, &who, clock_now_us());
}

/* Locks an account as a guard sanction named after the incident ("incident:ID"): the sanctions
 * view lists it and lifts it (guard.unlock); 30 days, renewed by locking again. by names who
 * decided (one lead, or the proposer and the confirming lead). */
static err contain_lock(vault *v, const actor *a, const char *username, const char *inc_id,
                        const char *by, const char *why)
{
    ENSURE(strcmp(username, a->username) != 0, ERR_INPUT, "you cannot lock your own account");
    account acc;
    err e = identity_account_by_name(&v->id, username, &acc);
    ENSURE(e != ERR_NOT_FOUND, ERR_NOT_FOUND, "no such account");
    TRY(e);
    char id[ID_LEN + 1];
    snprintf(id, sizeof id, "%s", acc.id);
    identity_account_wipe(&acc);
    audit_entry en;
    door_entry(&en, a, "account.lock", "allow", "incident.contain");
    char reason[300];
    snprintf(reason, sizeof reason, "%s %s by %s", acc.username, why, by);
    en.reason = reason;
    e = audit_append(v->au, &en, NULL);
    if (e == ERR_OK && v->guard) {
        char rule[64];
        snprintf(rule, sizeof rule, "incident:%s", inc_id);
        e = guard_lock_account(v->guard, acc.username, LOCK_SECONDS, by, rule);
    } else if (e == ERR_OK) {
        /* Read and written in one write transaction: no stale copy of the row undoes it. */
        e = door_account_lock(v, acc.username, clock_now_us() + LOCK_SECONDS * 1000000, NULL);
    }
    TRY(e);
    return identity_sessions_revoke(&v->id, id, NULL);
}

/* Revokes an API key (by name or id) as the guard's revoke does. */
static err contain_key(vault *v, const actor *a, const char *key, const char *why)
{
    apikey k;
    const char *name = strncmp(key, "key:", 4) == 0 ? key + 4 : key;
    err e = identity_apikey_by_name(&v->id, name, &k);
    if (e == ERR_NOT_FOUND) {
        e = identity_apikey_by_id(&v->id, key, &k);
    }
    ENSURE(e != ERR_NOT_FOUND, ERR_NOT_FOUND, "no such API key");
    TRY(e);
    audit_entry en;
    door_entry(&en, a, "apikey.revoke", "allow", "incident.contain");
    char reason[300];
    snprintf(reason, sizeof reason, "key=%s %s", k.name, why);
    en.reason = reason;
    TRY(audit_append(v->au, &en, NULL));
    if (k.revoked_us == 0) {
        k.revoked_us = clock_now_us();
    }
    return identity_apikey_update(&v->id, &k);
}

/* Roles that watch others (guard, break-glass review, the audit log, accounts, approvals, the
 * policy and keys): locking one of them silences a second pair of eyes. Unknown: treated so. */
static bool oversight_role(const char *name)
{
    role r;
    if (role_parse(name, &r) != ERR_OK) {
        return true;
    }
    static const capability caps[] = {
        CAP_GUARD_MANAGE,    CAP_BREAK_GLASS_REVIEW, CAP_AUDIT_READ,
        CAP_ACCOUNTS_MANAGE, CAP_REQUESTS_APPROVE,   CAP_EXPORTS_APPROVE,
        CAP_POLICY_MANAGE,   CAP_KEYS_MANAGE,        CAP_APIKEYS_MANAGE};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        if (policy_can(r, caps[i])) {
            return true;
        }
    }
    return false;
}

static bool same_subject(const char *x, const char *y)
{
    if (!x || !y || !x[0]) {
        return false;
    }
    const char *xs = strncmp(x, "key:", 4) == 0 ? x + 4 : x;
    const char *ys = strncmp(y, "key:", 4) == 0 ? y + 4 : y;
    return strcmp(xs, ys) == 0;
}

static err stored_scope(vault *v, const loaded *l, json_t **out);

/* Is the target the incident's source alert's account (or key) or an actor named in its
 * computed scope? names: the target's account or key name (and the key's id). */
static bool target_tied(vault *v, const loaded *l, const char *name, const char *alt)
{
    const char *al =
        json_string_value(json_object_get(json_object_get(l->extra, "alert"), "account"));
    if (same_subject(al, name) || (alt && same_subject(al, alt))) {
        return true;
    }
    json_t *stored = NULL;
    if (l->row.scope.len == 0 || stored_scope(v, l, &stored) != ERR_OK) {
        return false;
    }
    bool tied = false;
    const json_t *x;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(stored, "query"), "actors"), i, x)
    {
        tied = tied || same_subject(json_string_value(x), name) ||
               (alt && same_subject(json_string_value(x), alt));
    }
    json_decref(stored);
    return tied;
}

/* A pending action on an oversight role, waiting for a second lead. */
typedef struct pending_arg {
    const char *task, *action, *target;
    bool claim;                /* take (remove) another lead's pending action */
    char by[USERNAME_MAX + 1]; /* the proposer, when claimed */
    int by_role;
} pending_arg;

static err ch_pending(vault *v, const actor *a, loaded *l, void *ctx)
{
    (void)v;
    pending_arg *p = ctx;
    int64_t now = clock_now_us();
    json_t *arr = json_object_get(l->extra, "pending");
    if (!json_is_array(arr)) {
        arr = json_array();
        json_object_set_new(l->extra, "pending", arr);
    }
    /* Stale proposals are dropped; a matching one is found. */
    long found = -1;
    for (size_t i = json_array_size(arr); i-- > 0;) {
        const json_t *x = json_array_get(arr, i);
        int64_t at = json_integer_value(json_object_get(x, "at_us"));
        if (at < now - PENDING_US) {
            json_array_remove(arr, i);
            found = found > (long)i ? found - 1 : found;
            continue;
        }
        if (found < 0 &&
            strcmp(json_string_value(json_object_get(x, "action")) ?: "", p->action) == 0 &&
            strcmp(json_string_value(json_object_get(x, "target")) ?: "", p->target) == 0) {
            found = (long)i;
        }
    }
    inc_actor who = who_of(a);
    char what[300];
    if (p->claim) {
        ENSURE(found >= 0, ERR_CONFLICT, "no pending action to confirm");
        const json_t *x = json_array_get(arr, (size_t)found);
        const char *by = json_string_value(json_object_get(x, "by")) ?: "";
        ENSURE(strcmp(by, a->username) != 0, ERR_CONFLICT,
               "waiting for a second lead (another person of security or legal) to confirm");
        snprintf(p->by, sizeof p->by, "%s", by);
        p->by_role = (int)json_integer_value(json_object_get(x, "role"));
        json_array_remove(arr, (size_t)found);
        snprintf(what, sizeof what, "%s %s proposed by %s, confirmed by %s", p->action, p->target,
                 p->by, a->username);
        return incident_note(&l->inc, &who, what, now);
    }
    ENSURE(found < 0, ERR_CONFLICT, "the action is already waiting for a second lead");
    json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:i, s:I}", "task", p->task,
                                         "action", p->action, "target", p->target, "by",
                                         a->username, "role", who.role, "at_us", (json_int_t)now));
    snprintf(what, sizeof what, "%s %s proposed; a second lead confirms within 15 minutes",
             p->action, p->target);
    return incident_note(&l->inc, &who, what, now);
}

/* Is there a fresh pending action (action, target) by someone other than a? */
static bool pending_by_other(const loaded *l, const actor *a, const char *action,
                             const char *target)
{
    int64_t now = clock_now_us();
    const json_t *x;
    size_t i;
    json_array_foreach(json_object_get(l->extra, "pending"), i, x)
    {
        if (json_integer_value(json_object_get(x, "at_us")) >= now - PENDING_US &&
            strcmp(json_string_value(json_object_get(x, "action")) ?: "", action) == 0 &&
            strcmp(json_string_value(json_object_get(x, "target")) ?: "", target) == 0 &&
            strcmp(json_string_value(json_object_get(x, "by")) ?: "", a->username) != 0) {
            return true;
        }
    }
    return false;
}

typedef struct done_arg {
    action_arg x;
    inc_actor who; /* the proposer, for the timeline's action entry */
} done_arg;

static err ch_action_as(vault *v, const actor *a, loaded *l, void *ctx)
{
    (void)v;
    (void)a;
    done_arg *d = ctx;
    return incident_action(&l->inc, d->x.task, d->x.act, d->x.target, &d->who, clock_now_us());
}

err door_incident_action(vault *v, const actor *a, const char *id, const char *task,
                         const char *action, const char *target, json_t **out)
{
    const char *act = "incident.contain";
    TRY(need_reader(v, a, act));
    int k = pb_name_index(action ? action : "",
                          (const char *const[]){"lock-account", "revoke-sessions", "revoke-api-key",
                                                "block-address", "seal-vault"},
                          5);
    /* Only these five: nothing here lifts a lock, a block or a seal. */
    ENSURE(k >= 0, ERR_INPUT,
           "action is lock-account, revoke-sessions, revoke-api-key, block-address or "
           "seal-vault");
    pb_action pa = (pb_action)k; /* the first five of pb_action, in this order */
    _Static_assert(PBA_LOCK_ACCOUNT == 0 && PBA_REVOKE_SESSIONS == 1 && PBA_REVOKE_API_KEY == 2 &&
                       PBA_BLOCK_ADDRESS == 3 && PBA_SEAL_VAULT == 4,
                   "containment actions");
    ENSURE(pa == PBA_SEAL_VAULT || (target && target[0] && strlen(target) <= 120), ERR_INPUT,
           "the action needs a target (account, API key or address)");
    ENSURE(task && task[0], ERR_INPUT, "which task offers the action?");
    /* The incident's rules first, on a copy: the task offers it and is for the actor's role. */
    loaded *l = NULL;
    TRY(load(v, id, &l));
    inc_actor who = who_of(a);
    char what[300];
    snprintf(what, sizeof what, "task=%s action=%s target=%s", task, action,
             pa == PBA_SEAL_VAULT ? "vault" : target);
    bool drill = l->inc.drill;
    /* A lock or a key revocation reaches only whom the incident is about, and one of a role
     * that watches others needs a second lead. */
    bool second = false, confirming = false;
    char tname[USERNAME_MAX + APIKEY_NAME_MAX + 8] = "";
    if (pa == PBA_LOCK_ACCOUNT || pa == PBA_REVOKE_API_KEY) {
        char trole[ROLE_MAX + 1] = "", alt[ID_LEN + 8] = "";
        err f;
        if (pa == PBA_LOCK_ACCOUNT) {
            account acc;
            f = identity_account_by_name(&v->id, target, &acc);
            if (f == ERR_OK) {
                snprintf(tname, sizeof tname, "%s", acc.username);
                snprintf(trole, sizeof trole, "%s", acc.role);
                identity_account_wipe(&acc);
            }
        } else {
            apikey kk;
            const char *nm = strncmp(target, "key:", 4) == 0 ? target + 4 : target;
            f = identity_apikey_by_name(&v->id, nm, &kk);
            if (f == ERR_NOT_FOUND) {
                f = identity_apikey_by_id(&v->id, target, &kk);
            }
            if (f == ERR_OK) {
                snprintf(tname, sizeof tname, "key:%s", kk.name);
                snprintf(alt, sizeof alt, "%s", kk.id);
                snprintf(trole, sizeof trole, "%s", kk.role);
            }
        }
        if (f == ERR_NOT_FOUND) {
            loaded_free(l);
            BAIL(ERR_NOT_FOUND, pa == PBA_LOCK_ACCOUNT ? "no such account" : "no such API key");
        }
        if (f != ERR_OK) {
            loaded_free(l);
            return f;
        }
        if (!target_tied(v, l, tname, alt[0] ? alt : NULL)) {
            loaded_free(l);
            return door_deny(v, a, act, NULL, NULL, "incident.target", ERR_DENIED,
                             "the target is neither the incident's alert's account or key nor an "
                             "actor of its computed scope");
        }
        second = oversight_role(trole);
        confirming = second && pending_by_other(l, a, action, target);
    }
    err e = ERR_OK;
    if (!confirming) {
        e = incident_action(&l->inc, task, pa, target, &who, clock_now_us());
    }
    loaded_free(l);
    if (e != ERR_OK) {
        return refuse_audited(v, a, act, id, what, e);
    }
    pending_arg pend = {task, action, target, confirming, "", -1};
    if (second && !confirming) {
        /* The proposal: audited, on the incident, nothing done yet. */
        TRY(door_need(v, a, CAP_GUARD_MANAGE,
                      pa == PBA_LOCK_ACCOUNT ? "account.lock" : "apikey.revoke"));
        e = mutate(v, a, id, ch_pending, &pend, NULL);
        if (e != ERR_OK) {
            return refuse_audited(v, a, act, id, what, e);
        }
        char pw[340];
        snprintf(pw, sizeof pw, "%s pending=second-lead", what);
        TRY(audit_inc(v, a, act, "allow", "incident.second-lead", id, pw, -1));
        loaded *cur = NULL;
        TRY(load(v, id, &cur));
        e = answer(cur, out);
        if (e == ERR_OK && out && *out) {
            json_object_set_new(*out, "pending", json_true());
        }
        loaded_free(cur);
        return e;
    }
    char by[2 * USERNAME_MAX + 4];
    if (confirming) {
        /* The second lead: security or legal, another person, never the target. */
        TRY(need_lead(v, a, act));
        if (strcmp(a->username, tname) == 0) {
            return door_deny(v, a, act, NULL, NULL, "incident.second-lead", ERR_DENIED,
                             "the target cannot confirm an action on itself");
        }
        e = mutate(v, a, id, ch_pending, &pend, NULL);
        if (e != ERR_OK) {
            return refuse_audited(v, a, act, id, what, e);
        }
        char cw[400];
        snprintf(cw, sizeof cw, "%s confirmed=%s proposed_by=%s", what, a->username, pend.by);
        TRY(audit_inc(v, a, act, "allow", "incident.second-lead", id, cw, -1));
        snprintf(by, sizeof by, "%s+%s", pend.by, a->username);
    } else {
        TRY(audit_inc(v, a, act, "allow", "incident.task-roles", id, what, -1));
        snprintf(by, sizeof by, "%s", a->username);
    }
    /* The act itself, as the actor, through the door's audited path (which checks its own
     * capability: security's guard.manage; a confirmed proposal had it checked when proposed). */
    char why[120];
    snprintf(why, sizeof why, "incident %s%s", id, drill ? " (drill)" : "");
    switch (pa) {
    case PBA_LOCK_ACCOUNT:
        if (!confirming) {
            TRY(door_need(v, a, CAP_GUARD_MANAGE, "account.lock"));
        }
        TRY(contain_lock(v, a, target, id, by, why));
        break;
    case PBA_REVOKE_SESSIONS: {
        size_t n = 0;
        TRY(door_revoke_sessions(v, a, target, "incident.contain", &n));
        break;
    }
    case PBA_REVOKE_API_KEY:
        if (!confirming) {
            TRY(door_need(v, a, CAP_GUARD_MANAGE, "apikey.revoke"));
        }
        TRY(contain_key(v, a, target, why));
        break;
    case PBA_BLOCK_ADDRESS:
        TRY(door_guard_act(v, a, "block", target, BLOCK_SECONDS, why));
        break;
    case PBA_SEAL_VAULT:
        break; /* after the timeline is written: a sealed vault still keeps incidents */
    default:
        BAIL(ERR_INPUT, "not a containment action");
    }
    loaded *done = NULL;
    if (confirming) {
        done_arg d = {{task, target, pa, false}, {pend.by, pend.by_role}};
        e = mutate(v, a, id, ch_action_as, &d, &done);
    } else {
        action_arg x = {task, pa == PBA_SEAL_VAULT ? "vault" : target, pa, false};
        e = mutate(v, a, id, ch_action, &x, &done);
    }
    if (e == ERR_OK && pa == PBA_SEAL_VAULT) {
        e = door_vault_seal(v, a, why);
    }
    if (e == ERR_OK) {
        e = answer(done, out);
    }
    loaded_free(done);
    return e;
}

/* ---- the breach scope ---- */

static err scope_customer(void *ctx, const char *id, char *department, size_t cap, bool *honeytoken,
                          bool *erased)
{
    vault *v = ctx;
    sealed_customer c;
    sealed_customer_init(&c);
    err e = store_customer_get(v->st, id, &c);
    if (e == ERR_OK) {
        snprintf(department, cap, "%s", c.department);
        *honeytoken = c.honeytoken;
        *erased = c.erased;
    } else if (e == ERR_NOT_FOUND) {
        snprintf(department, cap, "%s", "");
        *honeytoken = false;
        *erased = true;
        e = ERR_OK;
    }
    sealed_customer_free(&c);
    return e;
}

static bool short_hash(const char *s)
{
    if (strlen(s) != 16) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
            return false;
        }
    }
    return true;
}

typedef struct scope_arg {
    json_t *stored; /* sealed into the row */
} scope_arg;

static err ch_scope(vault *v, const actor *a, loaded *l, void *ctx)
{
    scope_arg *s = ctx;
    ENSURE(l->inc.phase != PHASE_CLOSED, ERR_CONFLICT, "the incident is closed");
    inc_actor who = who_of(a);
    json_t *res = json_object_get(s->stored, "scope");
    json_t *counts = json_object_get(res, "counts");
    char note[200];
    snprintf(note, sizeof note, "scope computed: %lld customers at checkpoint %lld",
             (long long)json_integer_value(json_object_get(counts, "customers")),
             (long long)json_integer_value(json_object_get(s->stored, "size")));
    TRY(incident_note(&l->inc, &who, note, clock_now_us()));
    return seal_json(v, l->inc.id, "scope", s->stored, &l->row.scope);
}

static err add_term(const char **arr, size_t *n, const char *s)
{
    ENSURE(*n < SCOPE_MAX_TERMS, ERR_INPUT, "scope: too many terms");
    arr[(*n)++] = s;
    return ERR_OK;
}

err door_incident_scope_compute(vault *v, const actor *a, const char *id, const door_scope_query *q,
                                json_t **out)
{
    const char *act = "incident.scope";
    TRY(need_reader(v, a, act));
    if (!is_system(a)) {
        TRY(door_need(v, a, CAP_AUDIT_READ, act));
    }
    loaded *l = NULL;
    TRY(load(v, id, &l));
    scope_query sq;
    memset(&sq, 0, sizeof sq);
    char keynames[16][USERNAME_MAX + 8];
    err rc = ERR_OK;
    scope *sc = NULL;
    audit_iter *it = NULL;
    json_t *res = NULL, *stored = NULL;
    buf note;
    buf_init(&note, CHECKPOINT_MAX_NOTE);
    char alert_acct[USERNAME_MAX + 1] = "", alert_addr[64] = "";
    if (q) {
        CHECK(q->nactors <= 16 && q->napi_keys <= 16 && q->naddresses <= 16 && q->nwindows <= 16,
              ERR_INPUT, "scope: at most 16 of each");
        for (size_t i = 0; i < q->nactors; i++) {
            GUARD(add_term(sq.actors, &sq.nactors, q->actors[i]));
        }
        for (size_t i = 0; i < q->napi_keys; i++) {
            const char *k = q->api_keys[i];
            if (short_hash(k)) {
                GUARD(add_term(sq.sessions, &sq.nsessions, k));
            } else {
                snprintf(keynames[i], sizeof keynames[i], "%s%s",
                         strncmp(k, "key:", 4) == 0 ? "" : "key:", k);
                GUARD(add_term(sq.actors, &sq.nactors, keynames[i]));
            }
        }
        for (size_t i = 0; i < q->naddresses; i++) {
            GUARD(add_term(sq.sources, &sq.nsources, q->addresses[i]));
        }
        for (size_t i = 0; i < q->nwindows; i++) {
            sq.windows[i] = (scope_window){q->from_us[i], q->to_us[i]};
        }
        sq.nwindows = q->nwindows;
    }
    if (sq.nactors + sq.nsessions + sq.nsources == 0) {
        /* The alert's account and address, from its first sighting on. */
        json_t *al = json_object_get(l->extra, "alert");
        snprintf(alert_acct, sizeof alert_acct, "%s",
                 json_string_value(json_object_get(al, "account")) ?: "");
        snprintf(alert_addr, sizeof alert_addr, "%s",
                 json_string_value(json_object_get(al, "address")) ?: "");
        if (alert_acct[0]) {
            sq.actors[sq.nactors++] = alert_acct;
        }
        if (alert_addr[0]) {
            sq.sources[sq.nsources++] = alert_addr;
        }
    }
    CHECK(sq.nactors + sq.nsessions + sq.nsources > 0, ERR_INPUT,
          "name at least one actor, API key or address (the incident has no alert to take them "
          "from)");
    GUARD(scope_new(&sq, &sc));
    char what[120];
    snprintf(what, sizeof what, "actors=%zu keys=%zu addresses=%zu windows=%zu", sq.nactors,
             sq.nsessions, sq.nsources, sq.nwindows);
    GUARD(audit_inc(v, a, act, "allow", is_system(a) ? "system" : "audit.read", id, what, -1));
    /* A checkpoint that covers everything up to now, then the log up to its size. */
    uint64_t size = 0;
    GUARD(audit_checkpoint_now(v->au, NULL));
    GUARD(audit_latest_checkpoint(v->au, &note, &size));
    GUARD(audit_iter_open(v->au, 0, &it));
    for (;;) {
        uint64_t idx;
        slice entry;
        bool got = false;
        GUARD(audit_iter_next(it, &idx, &entry, &got));
        if (!got || idx >= size) {
            break;
        }
        GUARD(scope_add(sc, idx, entry));
    }
    scope_facts facts = {v, scope_customer};
    GUARD(scope_result(sc, &facts, buf_slice(&note), size, &res));
    char at[40];
    clock_rfc3339(clock_now_us(), at);
    json_t *qj = json_object();
    stored =
        json_pack("{s:O, s:s%, s:I, s:s, s:s, s:o}", "scope", res, "note", note.p, note.len, "size",
                  (json_int_t)size, "computed_at", at, "computed_by", a->username, "query", qj);
    CHECK(stored != NULL, ERR_INTERNAL, "out of memory");
    {
        json_t *acts = json_array(), *srcs = json_array(), *sess = json_array(),
               *wins = json_array();
        for (size_t i = 0; i < sq.nactors; i++) {
            json_array_append_new(acts, json_string(sq.actors[i]));
        }
        for (size_t i = 0; i < sq.nsessions; i++) {
            json_array_append_new(sess, json_string(sq.sessions[i]));
        }
        for (size_t i = 0; i < sq.nsources; i++) {
            json_array_append_new(srcs, json_string(sq.sources[i]));
        }
        for (size_t i = 0; i < sq.nwindows; i++) {
            json_array_append_new(wins,
                                  json_pack("{s:o, s:o}", "from", time_json(sq.windows[i].from_us),
                                            "to", time_json(sq.windows[i].to_us)));
        }
        json_object_set_new(qj, "actors", acts);
        json_object_set_new(qj, "sessions", sess);
        json_object_set_new(qj, "addresses", srcs);
        json_object_set_new(qj, "windows", wins);
    }
    scope_arg sa = {stored};
    GUARD(mutate(v, a, id, ch_scope, &sa, NULL));
    if (out) {
        rc = door_incident_scope(v, a, id, out);
    }
out:
    audit_iter_close(it);
    scope_free(sc);
    json_decref(res);
    json_decref(stored);
    buf_free(&note);
    loaded_free(l);
    return rc;
}

/* The stored scope as the API shows it; a steward's view holds their department only. */
static json_t *scope_view(const json_t *stored, const actor *a)
{
    const json_t *res = json_object_get(stored, "scope");
    bool dept_only = !is_system(a) && a->role == ROLE_DATA_STEWARD;
    json_t *customers = json_array(), *bycat = json_object(), *bydept = json_object(),
           *honey = json_array();
    size_t people = 0;
    const json_t *c;
    size_t i;
    json_array_foreach(json_object_get(res, "customers"), i, c)
    {
        const char *dept = json_string_value(json_object_get(c, "department")) ?: "";
        if (dept_only && strcmp(dept, a->department) != 0) {
            continue;
        }
        bool ht = json_is_true(json_object_get(c, "honeytoken"));
        if (ht) {
            json_array_append(honey, json_object_get(c, "id"));
            continue;
        }
        people++;
        json_array_append_new(
            customers,
            json_pack("{s:O, s:s, s:O, s:O, s:O, s:O}", "id", json_object_get(c, "id"),
                      "department", dept, "fields", json_object_get(c, "fields"), "categories",
                      json_object_get(c, "categories"), "entries", json_object_get(c, "entries"),
                      "erased", json_object_get(c, "erased") ?: json_false()));
        json_object_set_new(bydept, dept,
                            json_integer(json_integer_value(json_object_get(bydept, dept)) + 1));
        const json_t *cat;
        size_t k;
        json_array_foreach(json_object_get(c, "categories"), k, cat)
        {
            const char *cn = json_string_value(cat);
            if (cn) {
                json_object_set_new(
                    bycat, cn, json_integer(json_integer_value(json_object_get(bycat, cn)) + 1));
            }
        }
    }
    /* The root from the signed note's third line. */
    const char *note = json_string_value(json_object_get(stored, "note")) ?: "";
    char root[64] = "";
    const char *l2 = strchr(note, '\n');
    const char *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
    if (l3) {
        const char *end = strchr(l3 + 1, '\n');
        size_t n = end ? (size_t)(end - l3 - 1) : 0;
        if (n < sizeof root) {
            memcpy(root, l3 + 1, n);
            root[n] = '\0';
        }
    }
    return json_pack("{s:{s:O, s:s, s:s}, s:o, s:o, s:o, s:o, s:I, s:I, s:O, s:O, s:O, s:b}",
                     "checkpoint", "size", json_object_get(stored, "size"), "root", root, "note",
                     note, "customers", customers, "by_category", bycat, "by_department", bydept,
                     "honeytokens", honey, "people", (json_int_t)people, "records",
                     (json_int_t)json_array_size(json_object_get(res, "entries")), "computed_at",
                     json_object_get(stored, "computed_at"), "computed_by",
                     json_object_get(stored, "computed_by"), "query",
                     json_object_get(stored, "query"), "department_only", dept_only);
}

static err stored_scope(vault *v, const loaded *l, json_t **out)
{
    ENSURE(l->row.scope.len > 0, ERR_NOT_FOUND, "the scope has not been computed yet");
    return unseal_json(v, l->inc.id, "scope", &l->row.scope, out);
}

err door_incident_scope(vault *v, const actor *a, const char *id, json_t **out)
{
    const char *act = "incident.scope";
    TRY(need_reader(v, a, act));
    loaded *l = NULL;
    TRY(load(v, id, &l));
    json_t *stored = NULL;
    err e = stored_scope(v, l, &stored);
    if (e == ERR_OK) {
        e = audit_inc(v, a, act, "allow", "incident.read", id, "read", -1);
    }
    if (e == ERR_OK) {
        *out = scope_view(stored, a);
        e = *out ? ERR_OK : err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
    }
    json_decref(stored);
    loaded_free(l);
    return e;
}

/* ---- the evidence bundle ---- */

static err read_vkey(vault *v, char *out, size_t cap)
{
    char p[PATH_MAX];
    vault_path(v, VAULT_AUDIT_PUB, p, sizeof p);
    buf b;
    buf_init(&b, 8192);
    err e = file_read_bounded(p, 8192, &b);
    if (e == ERR_OK) {
        e = err_set(ERR_INTERNAL, __FILE__, __LINE__, "audit.pub has no vkey line");
        const char *s = buf_cstr(&b);
        const char *k = strstr(s, "vkey ");
        while (k && k != s && k[-1] != '\n') {
            k = strstr(k + 1, "vkey ");
        }
        if (k) {
            k += 5;
            size_t n = strcspn(k, "\n");
            if (n > 0 && n < cap) {
                memcpy(out, k, n);
                out[n] = '\0';
                e = ERR_OK;
            }
        }
    }
    buf_free(&b);
    return e;
}

typedef struct custody_arg {
    json_t *crec;
} custody_arg;

static err ch_custody(vault *v, const actor *a, loaded *l, void *ctx)
{
    (void)v;
    custody_arg *c = ctx;
    json_t *arr = json_object_get(l->extra, "custody");
    if (!json_is_array(arr)) {
        arr = json_array();
        json_object_set_new(l->extra, "custody", arr);
    }
    json_array_append(arr, c->crec);
    inc_actor who = who_of(a);
    char what[200];
    snprintf(what, sizeof what, "evidence bundle exported (manifest %.16s...)",
             json_string_value(json_object_get(c->crec, "manifest_sha256")) ?: "");
    return incident_note(&l->inc, &who, what, clock_now_us());
}

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

/* What an export of l's evidence puts in a bundle, made by one function for the export and for
 * the evidence index (door_incident_evidence_index), so that the two cannot disagree. */
typedef struct ev_prep {
    json_t *stored; /* the stored scope */
    uint64_t *idx;
    size_t nidx;
    char *t_alerts, *t_timeline, *t_scope, *t_custody;
    json_t *crec; /* this export's custody record */
    bundle_doc docs[4];
    bundle_input in;
    char vkey[1024];
    char reason_digest[96]; /* the audit log's view of the reason: its length and hash */
} ev_prep;

static void ev_prep_free(ev_prep *p)
{
    free(p->idx);
    free(p->t_alerts);
    free(p->t_timeline);
    free(p->t_scope);
    free(p->t_custody);
    json_decref(p->crec);
    json_decref(p->stored);
}

static err ev_prepare(vault *v, const actor *a, const loaded *l, const char *reason, ev_prep *p)
{
    memset(p, 0, sizeof *p);
    err rc = ERR_OK;
    json_t *alerts = NULL, *timeline = NULL, *custody = NULL, *scopej = NULL;
    GUARD(read_vkey(v, p->vkey, sizeof p->vkey));
    GUARD(stored_scope(v, l, &p->stored));
    json_t *entries = json_object_get(json_object_get(p->stored, "scope"), "entries");
    p->nidx = json_array_size(entries);
    CHECK(p->nidx <= BUNDLE_MAX_ENTRIES, ERR_TOO_LARGE, "too many entries for one bundle");
    p->idx = calloc(p->nidx ? p->nidx : 1, sizeof *p->idx);
    CHECK(p->idx != NULL, ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < p->nidx; i++) {
        p->idx[i] = (uint64_t)json_integer_value(json_array_get(entries, i));
    }
    json_t *al = json_object_get(l->extra, "alert");
    alerts = json_pack("{s:[]}", "alerts");
    if (al) {
        json_array_append(json_object_get(alerts, "alerts"), al);
    }
    json_t *inc_json = view(l, clock_now_us());
    timeline = json_pack("{s:s, s:O}", "incident", l->inc.id, "timeline",
                         json_object_get(inc_json, "timeline"));
    json_decref(inc_json);
    char at[40];
    clock_rfc3339(clock_now_us(), at);
    /* The reason stays in the sealed custody record; the audit log gets its length and hash. */
    {
        uint8_t rh[32];
        char rhex[HEX_LEN(32)];
        hash_sha256((const uint8_t *)reason, strlen(reason), rh);
        hex_encode(rhex, rh, 32);
        snprintf(p->reason_digest, sizeof p->reason_digest, "reason: %zu bytes sha256=%s",
                 strlen(reason), rhex);
    }
    p->crec = json_pack("{s:s, s:s, s:s, s:s, s:s}", "by", a->username, "role",
                        a->role == ROLE__COUNT ? "-" : role_name(a->role), "at", at, "source",
                        a->source, "reason", reason);
    custody = json_pack("{s:s, s:O, s:[O]}", "incident", l->inc.id, "earlier",
                        json_object_get(l->extra, "custody") ?: json_array(), "this", p->crec);
    scopej = scope_view(p->stored, a);
    p->t_alerts = dump(alerts);
    p->t_timeline = dump(timeline);
    p->t_scope = dump(scopej);
    p->t_custody = dump(custody);
    CHECK(p->t_alerts && p->t_timeline && p->t_scope && p->t_custody, ERR_INTERNAL,
          "out of memory");
    p->docs[0] = (bundle_doc){"alerts.json", p->t_alerts};
    p->docs[1] = (bundle_doc){"timeline.json", p->t_timeline};
    p->docs[2] = (bundle_doc){"scope.json", p->t_scope};
    p->docs[3] = (bundle_doc){"custody.json", p->t_custody};
    p->in = (bundle_input){
        .incident = l->inc.id,
        .vkey = p->vkey,
        .scope_checkpoint = slice_cstr(json_string_value(json_object_get(p->stored, "note")) ?: ""),
        .indexes = p->idx,
        .nindexes = p->nidx,
        .docs = p->docs,
        .ndocs = sizeof p->docs / sizeof p->docs[0],
        .actor = a->username,
        .role = a->role == ROLE__COUNT ? "-" : role_name(a->role),
        .source = a->source,
        .reason = p->reason_digest};
out:
    json_decref(alerts);
    json_decref(timeline);
    json_decref(custody);
    json_decref(scopej);
    if (rc != ERR_OK) {
        ev_prep_free(p);
        memset(p, 0, sizeof *p);
    }
    return rc;
}

err door_incident_evidence(vault *v, const actor *a, const char *id, const char *reason, buf *out)
{
    const char *act = "evidence.export";
    TRY(need_reader(v, a, act));
    if (!is_system(a)) {
        TRY(door_need(v, a, CAP_AUDIT_READ, act));
    }
    ENSURE(reason && reason[0] && strlen(reason) <= 300, ERR_INPUT,
           "say why the evidence is exported (at most 300 bytes)");
    loaded *l = NULL;
    TRY(load(v, id, &l));
    err rc = ERR_OK;
    ev_prep p;
    GUARD(ev_prepare(v, a, l, reason, &p));
    buf_reset(out);
    rc = bundle_build(v->au, &p.in, out);
    if (rc != ERR_OK) {
        ev_prep_free(&p);
        goto out;
    }
    /* Checked before it leaves; the manifest's hash goes into the custody record. */
    {
        bundle_report br;
        memset(&br, 0, sizeof br);
        rc = bundle_verify(buf_slice(out), p.vkey, &br);
        if (rc != ERR_OK) {
            ev_prep_free(&p);
            buf_reset(out);
            log_error("incident.evidence", "a bundle just built does not verify: %s", br.problem);
            FAIL(ERR_INTERNAL, "the evidence bundle did not verify; nothing was handed out");
        }
        json_object_set_new(p.crec, "manifest_sha256", json_string(br.manifest_sha256));
        json_object_set_new(p.crec, "entries", json_integer((json_int_t)br.entries));
        json_object_set_new(p.crec, "bytes", json_integer((json_int_t)out->len));
    }
    custody_arg ca = {p.crec};
    rc = mutate(v, a, id, ch_custody, &ca, NULL);
    ev_prep_free(&p);
out:
    loaded_free(l);
    return rc;
}

/* ---- reminders ---- */

typedef struct late_item {
    size_t task;
    bool escalate;
} late_item;

typedef struct tick_arg {
    late_item items[PLAYBOOK_MAX_TASKS * 2];
    size_t n;
    int64_t now;
} tick_arg;

static err collect_late(void *ctx, const incident *inc, size_t task, bool escalate)
{
    (void)inc;
    tick_arg *t = ctx;
    if (t->n < sizeof t->items / sizeof t->items[0]) {
        t->items[t->n++] = (late_item){task, escalate};
    }
    return ERR_OK;
}

static err ch_tick(vault *v, const actor *a, loaded *l, void *ctx)
{
    (void)v;
    (void)a;
    tick_arg *t = ctx;
    t->n = 0;
    size_t n = 0;
    return incident_tick(&l->inc, t->now, collect_late, t, &n);
}

static void send_late(vault *v, const actor *sys, const incident *inc, const late_item *it)
{
    const pb_task *p = &inc->pb.task[it->task];
    char due[40], subject[120], detail[400];
    clock_rfc3339(inc->task[it->task].due_us, due);
    snprintf(subject, sizeof subject, "%sincident %s: task %s %s", inc->drill ? "[drill] " : "",
             inc->id, p->id, it->escalate ? "is late" : "is due soon");
    snprintf(detail, sizeof detail, "%s (team %s) due at %s; %s", p->title[PB_EN],
             pb_team_name(p->team), due, inc->pb.title[PB_EN]);
    const char *rule = it->escalate ? "incident-task-late" : "incident-task-due";
    for (int r = 0; r < ROLE__COUNT; r++) {
        if (p->roles & (1u << r)) {
            char to[ROLE_MAX + 8];
            snprintf(to, sizeof to, "role:%s", role_name((role)r));
            door_notify(v, to, rule, subject, detail);
        }
    }
    if (it->escalate) {
        int er = inc->pb.escalate_to;
        if (er >= 0 && er < ROLE__COUNT && !(p->roles & (1u << er))) {
            char to[ROLE_MAX + 8];
            snprintf(to, sizeof to, "role:%s", role_name((role)er));
            door_notify(v, to, rule, subject, detail);
        }
        if (!inc->drill) {
            /* The guard's channels (syslog, webhooks, e-mail) through its notice rules. */
            char d[300];
            snprintf(d, sizeof d, "incident=%s task=%s team=%s due=%s", inc->id, p->id,
                     pb_team_name(p->team), due);
            door_alert(v, "high", "incident-task-late", sys, d);
        }
    }
}

typedef struct pick_ctx {
    char (*ids)[STORE_INCIDENT_ID_MAX + 1];
    size_t n, max;
    int64_t now;
} pick_ctx;

static err pick_due(void *vctx, const incident_row *r)
{
    pick_ctx *p = vctx;
    if (r->next_due_us && r->next_due_us <= p->now && p->n < p->max) {
        snprintf(p->ids[p->n++], STORE_INCIDENT_ID_MAX + 1, "%s", r->id);
    }
    return ERR_OK;
}

err door_incident_tick(vault *v, int64_t now_us, size_t *sent)
{
    *sent = 0;
    actor sys;
    actor_system(&sys, "incidents");
    pick_ctx pk = {calloc(LIST_MAX, STORE_INCIDENT_ID_MAX + 1), 0, LIST_MAX, now_us};
    ENSURE(pk.ids != NULL, ERR_INTERNAL, "out of memory");
    err e = store_incident_list(v->st, INCIDENT_LIST_OPEN, -1, LIST_MAX, pick_due, &pk);
    tick_arg *t = calloc(1, sizeof *t);
    if (!t) {
        e = err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
    }
    for (size_t i = 0; e == ERR_OK && i < pk.n; i++) {
        t->now = now_us;
        t->n = 0;
        loaded *l = NULL;
        err me = mutate(v, &sys, pk.ids[i], ch_tick, t, &l);
        if (me != ERR_OK) {
            log_warn("incident.remind", "incident %s: reminders not sent: %s", pk.ids[i],
                     err_message());
            continue;
        }
        if (t->n > 0) {
            char what[80];
            snprintf(what, sizeof what, "reminders=%zu", t->n);
            if (audit_inc(v, &sys, "incident.remind", "allow", "system", pk.ids[i], what,
                          (int64_t)t->n) != ERR_OK) {
                log_error("incident.remind", "reminders could not be audited: %s", err_message());
            }
            for (size_t k = 0; k < t->n; k++) {
                send_late(v, &sys, &l->inc, &t->items[k]);
            }
            *sent += t->n;
        }
        loaded_free(l);
    }
    free(t);
    free(pk.ids);
    return e;
}

struct door_incident_timer {
    vault *v;
    int64_t interval_ms;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static void *timer_main(void *arg)
{
    door_incident_timer *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (t->interval_ms % 1000) * 1000000;
        ts.tv_sec += t->interval_ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&t->cv, &t->mu, &ts);
        if (t->stop) {
            break;
        }
        pthread_mutex_unlock(&t->mu);
        size_t n = 0;
        if (door_incident_tick(t->v, clock_now_us(), &n) != ERR_OK) {
            log_warn("incident.timer", "incident reminders failed: %s", err_message());
        } else if (n > 0) {
            log_info("incident.timer", "%zu incident reminder(s) sent", n);
        }
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

err door_incident_timer_start(vault *v, int64_t interval_ms, door_incident_timer **out)
{
    door_incident_timer *t = calloc(1, sizeof *t);
    ENSURE(t != NULL, ERR_INTERNAL, "out of memory");
    t->v = v;
    t->interval_ms = interval_ms > 0 ? interval_ms : 15000;
#ifdef CUSTOS_TESTING
    /* Test builds: tests shorten the wait (the release binary ignores the variable). */
    const char *ms = getenv("CUSTOS_INCIDENT_TICK_MS");
    if (ms && atoll(ms) > 0) {
        t->interval_ms = atoll(ms);
    }
#endif
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (pthread_create(&t->th, NULL, timer_main, t) != 0) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        free(t);
        BAIL(ERR_INTERNAL, "cannot start the incident timer");
    }
    *out = t;
    return ERR_OK;
}

void door_incident_timer_stop(door_incident_timer *t)
{
    if (!t) {
        return;
    }
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->th, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}

/* ---- the notices' member of the sealed body (door_notices_int.h) ---- */

typedef struct notices_ctx {
    door_notices_fn fn;
    void *ctx;
} notices_ctx;

static err ch_notices(vault *v, const actor *a, loaded *l, void *vctx)
{
    (void)a;
    notices_ctx *c = vctx;
    json_t *stored = NULL, *next = NULL;
    if (l->row.scope.len > 0) {
        TRY(stored_scope(v, l, &stored));
    }
    err e = c->fn(c->ctx, &l->inc, stored, json_object_get(l->extra, "notices"), &next);
    json_decref(stored);
    if (e == ERR_OK && next) {
        json_object_set_new(l->extra, "notices", next);
    } else {
        json_decref(next);
    }
    return e;
}

err door_incident_notices(vault *v, const char *id, bool write, door_notices_fn fn, void *ctx)
{
    notices_ctx c = {fn, ctx};
    if (write) {
        return mutate(v, NULL, id, ch_notices, &c, NULL);
    }
    loaded *l = NULL;
    TRY(load(v, id, &l));
    err e = ch_notices(v, NULL, l, &c);
    loaded_free(l);
    return e;
}

/* ---- the incident report and the evidence index ---- */

#define T(zh, en) (l == PB_ZH ? (zh) : (en))

static void zoned(int64_t us, int32_t off, char out[32])
{
    if (!us) {
        snprintf(out, 32, "-");
        return;
    }
    time_t t = (time_t)(us / 1000000 + off);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

static const char *const team_zh[PB__TEAMS] = {"技术", "法务", "客服", "数据管理员", "公关"};

static err doc_begin(vault *v, const actor *a, const char *id, const char *act, const char *lang,
                     const char *format, bool json_ok, loaded **l, int *lo, int *fo)
{
    TRY(need_reader(v, a, act));
    int lg = lang && lang[0] ? (strcmp(lang, "zh-CN") == 0 ? PB_ZH
                                : strcmp(lang, "en") == 0  ? PB_EN
                                                           : -1)
                             : PB_ZH;
    int f = format && format[0] ? notice_format_parse(format) : NF_TEXT;
    if (json_ok && format && strcmp(format, "json") == 0) {
        f = NF__COUNT;
    }
    ENSURE(lg >= 0, ERR_INPUT, "lang is zh-CN or en");
    ENSURE(f >= 0, ERR_INPUT,
           json_ok ? "format is text, html, pdf or json" : "format is text, html or pdf");
    TRY(load(v, id, l));
    *lo = lg, *fo = f;
    return ERR_OK;
}

static err doc_finish(vault *v, const actor *a, const loaded *ld, const char *act, const char *kind,
                      pb_lang l, int f, const char *text, buf *out, const char **type,
                      char *filename, size_t cap)
{
    char what[120];
    snprintf(what, sizeof what, "%s %s %s", kind, l == PB_ZH ? "zh-CN" : "en",
             f == NF__COUNT ? "json" : notice_format_type((notice_format)f));
    TRY(audit_inc(v, a, act, "allow", "incident.read", ld->inc.id, what, -1));
    char title[160];
    snprintf(title, sizeof title, "%s %s", ld->inc.id, kind);
    buf_reset(out);
    TRY(notice_document((notice_format)f, title, l, text, ld->inc.opened_us, out));
    *type = notice_format_type((notice_format)f);
    snprintf(filename, cap, "%s-%s.%s.%s", ld->inc.id, kind, l == PB_ZH ? "zh-CN" : "en",
             f == NF_TEXT   ? "txt"
             : f == NF_HTML ? "html"
                            : "pdf");
    return ERR_OK;
}

static err report_text(vault *v, const actor *a, const loaded *ld, pb_lang l, buf *b)
{
    const incident *inc = &ld->inc;
    int32_t off = 28800;
    char zone[120], t1[32], t2[32], t3[32];
    TRY(door_notices_zone(v, l, &off, zone, sizeof zone));
    int64_t now = clock_now_us();
    if (inc->drill) {
        TRY(buf_append_str(b, "演练 DRILL: 这是一次应急演练，不是真实事件。This is an exercise, "
                              "not a real incident.\n\n"));
    }
    TRY(buf_appendf(b, "%s\n\n", T("安全事件报告", "Incident report")));
    TRY(buf_appendf(b, "%s: %s\n", T("事件编号", "Incident"), inc->id));
    TRY(buf_appendf(b, "%s: %s\n", T("演练", "Drill"),
                    inc->drill ? T("是", "yes") : T("否", "no")));
    TRY(buf_appendf(b, "%s: %s (%s)\n", T("预案", "Playbook"), inc->pb.id, inc->pb.title[l]));
    TRY(buf_appendf(b, "%s: %s\n", T("分类", "Classification"), inc->pb.classification));
    TRY(buf_appendf(b, "%s: %s\n", T("严重程度", "Severity"), pb_severity_name(inc->severity)));
    TRY(buf_appendf(b, "%s: %s\n", T("负责人", "Owner"), inc->owner[0] ? inc->owner : "-"));
    TRY(buf_appendf(b, "%s: %s\n", T("时区", "Times in"), zone));
    zoned(inc->aware_us, off, t1), zoned(inc->opened_us, off, t2), zoned(inc->closed_us, off, t3);
    TRY(buf_appendf(b, "%s: %s\n%s: %s\n%s: %s\n", T("发现时间", "Aware"), t1,
                    T("开启时间", "Opened"), t2, T("关闭时间", "Closed"), t3));
    TRY(buf_appendf(b, "%s: %s\n", T("当前阶段", "Phase now"), inc_phase_name(inc->phase)));

    TRY(buf_appendf(b, "\n%s\n", T("阶段", "Phases")));
    TRY(buf_appendf(b, "  %s  detection\n", t2));
    for (size_t i = 0; i < inc->nevents; i++) {
        const inc_event *e = &inc->events[i];
        if (e->kind == EV_PHASE || e->kind == EV_CLOSED) {
            zoned(e->at_us, off, t1);
            TRY(buf_appendf(b, "  %s  %s (%s)\n", t1, e->kind == EV_CLOSED ? "closed" : e->what,
                            e->actor));
        }
    }

    TRY(buf_appendf(b, "\n%s\n", T("任务（按团队）", "Tasks by team")));
    for (int tm = 0; tm < PB__TEAMS; tm++) {
        bool any = false;
        for (size_t i = 0; i < inc->pb.ntasks; i++) {
            const pb_task *p = &inc->pb.task[i];
            const inc_task *t = &inc->task[i];
            if ((int)p->team != tm) {
                continue;
            }
            if (!any) {
                TRY(buf_appendf(b, " %s\n", l == PB_ZH ? team_zh[tm] : pb_team_name((pb_team)tm)));
                any = true;
            }
            bool late = t->done_us ? t->done_us > t->due_us
                                   : inc->phase != PHASE_CLOSED && t->due_us <= now;
            zoned(t->due_us, off, t1);
            TRY(buf_appendf(b, "  - %s %s%s\n    %s: %s\n", p->id, p->title[l],
                            late ? T(" [逾期 LATE]", " [LATE]") : "", T("截止", "Due"), t1));
            zoned(t->started_us, off, t2);
            zoned(t->done_us, off, t3);
            TRY(buf_appendf(b, "    %s: %s %s\n    %s: %s %s\n", T("开始", "Started"), t2,
                            t->started_by[0] ? t->started_by : "", T("完成", "Done"), t3,
                            t->done_by[0] ? t->done_by : ""));
        }
    }

    TRY(buf_appendf(b, "\n%s\n", T("已采取的遏制措施", "Containment actions taken")));
    size_t nact = 0;
    for (size_t i = 0; i < inc->nevents; i++) {
        const inc_event *e = &inc->events[i];
        if (e->kind == EV_ACTION) {
            zoned(e->at_us, off, t1);
            TRY(buf_appendf(b, "  %s  %s: %s\n", t1, e->actor, e->what));
            nact++;
        }
    }
    if (!nact) {
        TRY(buf_appendf(b, "  %s\n", T("无", "none")));
    }

    TRY(buf_appendf(b, "\n%s\n", T("泄露范围", "Breach scope")));
    json_t *stored = NULL;
    if (ld->row.scope.len > 0 && stored_scope(v, ld, &stored) == ERR_OK) {
        json_t *sv = scope_view(stored, a);
        json_decref(stored);
        ENSURE(sv != NULL, ERR_INTERNAL, "out of memory");
        json_t *cp = json_object_get(sv, "checkpoint");
        err e = buf_appendf(
            b, "  %s: %lld, %s: %s\n  %s: %lld  %s: %lld  %s: %zu\n",
            T("检查点大小", "Checkpoint size"),
            (long long)json_integer_value(json_object_get(cp, "size")), T("根哈希", "root"),
            json_string_value(json_object_get(cp, "root")) ?: "", T("人数", "People"),
            (long long)json_integer_value(json_object_get(sv, "people")), T("记录", "Records"),
            (long long)json_integer_value(json_object_get(sv, "records")),
            T("诱饵记录", "Honeytokens"), json_array_size(json_object_get(sv, "honeytokens")));
        const char *k;
        json_t *val;
        if (e == ERR_OK) {
            e = buf_appendf(b, "  %s%s\n", T("按类别", "By category"),
                            json_is_true(json_object_get(sv, "department_only"))
                                ? T("（仅本部门）", " (your department only)")
                                : "");
        }
        json_object_foreach(json_object_get(sv, "by_category"), k, val)
        {
            if (e == ERR_OK) {
                e = buf_appendf(b, "    %s: %lld\n", k, (long long)json_integer_value(val));
            }
        }
        if (e == ERR_OK) {
            e = buf_appendf(b, "  %s\n", T("按部门", "By department"));
        }
        json_object_foreach(json_object_get(sv, "by_department"), k, val)
        {
            if (e == ERR_OK) {
                e = buf_appendf(b, "    %s: %lld\n", k, (long long)json_integer_value(val));
            }
        }
        json_decref(sv);
        TRY(e);
    } else {
        TRY(buf_appendf(b, "  %s\n", T("尚未计算", "not computed yet")));
    }

    TRY(buf_appendf(b, "\n%s\n", T("监管时限与报送", "Regulator clocks and filings")));
    inc_deadline d[REPORT__COUNT];
    inc_deadline_opts o = deadline_opts(ld);
    incident_deadlines(inc, &o, now, d);
    for (int r = 0; r < REPORT__COUNT; r++) {
        zoned(d[r].due_us, off, t1);
        zoned(d[r].filed_us, off, t2);
        TRY(buf_appendf(b, "  %s: %s; %s %s; %s %s\n", inc_report_name(d[r].report),
                        d[r].applies ? T("适用", "applies") : T("不适用", "does not apply"),
                        T("截止", "due"), t1, T("报送", "filed"), t2));
    }

    TRY(buf_appendf(b, "\n%s: %s\n", T("结案分类", "Closing classification"),
                    inc->closing == CLOSE_NONE ? "-" : inc_closing_name(inc->closing)));

    TRY(buf_appendf(b, "\n%s\n", T("完整时间线", "Full timeline")));
    for (size_t i = 0; i < inc->nevents; i++) {
        const inc_event *e = &inc->events[i];
        zoned(e->at_us, off, t1);
        TRY(buf_appendf(b, "  %s  %s  %s  %s\n", t1, inc_event_name(e->kind), e->actor, e->what));
    }
    return ERR_OK;
}

err door_incident_report(vault *v, const actor *a, const char *id, const char *lang,
                         const char *format, buf *out, const char **type, char *filename,
                         size_t cap)
{
    const char *act = "incident.report";
    loaded *l = NULL;
    int lg, f;
    TRY(doc_begin(v, a, id, act, lang, format, false, &l, &lg, &f));
    buf text;
    buf_init(&text, (size_t)4 << 20);
    err rc = report_text(v, a, l, (pb_lang)lg, &text);
    if (rc == ERR_OK) {
        rc = doc_finish(v, a, l, act, "report", (pb_lang)lg, f, buf_cstr(&text), out, type,
                        filename, cap);
    }
    buf_free(&text);
    loaded_free(l);
    return rc;
}

/* The evidence index as JSON: what ev_prepare and bundle_preview (the code that builds the
 * bundle) say a bundle exported now holds. */
static err index_json(vault *v, const actor *a, const loaded *ld, json_t **out)
{
    ev_prep p;
    TRY(ev_prepare(v, a, ld, "(index)", &p));
    buf manifest;
    buf_init(&manifest, (size_t)1 << 20);
    json_t *entries = NULL, *files = json_object();
    err rc = ERR_OK;
    GUARD(bundle_preview(v->au, &p.in, &manifest, &entries));
    /* `sha256  name` lines after the first */
    const char *s = buf_cstr(&manifest);
    const char *line = strchr(s, '\n');
    while (line && line[1]) {
        line++;
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (n > 66 && line[64] == ' ' && line[65] == ' ') {
            char name[80];
            snprintf(name, sizeof name, "%.*s", (int)(n - 66), line + 66);
            json_object_set_new(files, name, json_stringn(line, 64));
        }
        line = end;
    }
    /* custody.json's own hash is fixed by the export's record: only the export knows it. */
    json_object_del(files, "documents/custody.json");
    const json_t *stored = p.stored;
    *out = json_pack(
        "{s:s, s:b, s:o, s:{s:O, s:s}, s:o, s:O, s:s}", "incident", ld->inc.id, "drill",
        ld->inc.drill, "entries", entries, "checkpoint", "size", json_object_get(stored, "size"),
        "note", json_string_value(json_object_get(stored, "note")) ?: "", "manifest", files,
        "custody", json_object_get(ld->extra, "custody") ?: json_array(), "format", BUNDLE_FORMAT);
    entries = files = NULL;
    CHECK(*out != NULL, ERR_INTERNAL, "out of memory");
out:
    json_decref(entries);
    json_decref(files);
    buf_free(&manifest);
    ev_prep_free(&p);
    return rc;
}

static err index_text(const json_t *ix, pb_lang l, int32_t off, const char *zone, buf *b)
{
    char t1[32];
    if (json_is_true(json_object_get(ix, "drill"))) {
        TRY(buf_append_str(b, "演练 DRILL: 这是一次应急演练，不是真实事件。This is an exercise, "
                              "not a real incident.\n\n"));
    }
    TRY(buf_appendf(b, "%s\n\n%s: %s\n%s: %s\n%s: %s\n", T("证据索引", "Evidence index"),
                    T("事件编号", "Incident"), json_string_value(json_object_get(ix, "incident")),
                    T("格式", "Bundle format"), BUNDLE_FORMAT, T("时区", "Times in"), zone));
    const json_t *cp = json_object_get(ix, "checkpoint");
    TRY(buf_appendf(b, "\n%s (%s %lld)\n%s\n", T("签名检查点（范围）", "Signed checkpoint (scope)"),
                    T("大小", "size"), (long long)json_integer_value(json_object_get(cp, "size")),
                    json_string_value(json_object_get(cp, "note"))));
    TRY(buf_appendf(b, "%s\n",
                    T("一致性证明：从上述检查点到导出时签署的最新检查点（导出时生成）。",
                      "Consistency proof: from the checkpoint above to the latest checkpoint, "
                      "signed at the export (made then).")));
    const json_t *es = json_object_get(ix, "entries"), *e;
    size_t i;
    TRY(buf_appendf(b, "\n%s (%zu)\n", T("审计条目", "Audit entries"), json_array_size(es)));
    json_array_foreach(es, i, e)
    {
        int64_t us = 0;
        const char *ts = json_string_value(json_object_get(e, "ts"));
        if (ts && clock_parse_rfc3339(ts, &us) == ERR_OK) {
            zoned(us, off, t1);
        } else {
            snprintf(t1, sizeof t1, "%s", ts ? ts : "-");
        }
        TRY(buf_appendf(b, "  #%lld  %s  %s  %s\n    leaf %s\n",
                        (long long)json_integer_value(json_object_get(e, "index")), t1,
                        json_string_value(json_object_get(e, "action")),
                        json_string_value(json_object_get(e, "actor")),
                        json_string_value(json_object_get(e, "leaf"))));
    }
    TRY(buf_appendf(b, "\n%s\n", T("清单 SHA-256", "Manifest SHA-256")));
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)json_object_get(ix, "manifest"), k, val)
    {
        TRY(buf_appendf(b, "  %s  %s\n", json_string_value(val), k));
    }
    TRY(buf_appendf(b, "  %s  documents/custody.json\n",
                    T("（导出时确定：含本次导出的记录）",
                      "(fixed at the export: it holds the export's own record)")));
    const json_t *cs = json_object_get(ix, "custody");
    TRY(buf_appendf(b, "\n%s (%zu)\n", T("监管链", "Chain of custody"), json_array_size(cs)));
    json_array_foreach(cs, i, e)
    {
        int64_t us = 0;
        const char *at = json_string_value(json_object_get(e, "at"));
        if (at && clock_parse_rfc3339(at, &us) == ERR_OK) {
            zoned(us, off, t1);
        } else {
            snprintf(t1, sizeof t1, "-");
        }
        TRY(buf_appendf(b, "  %s  %s (%s) %s %s\n    %s: %s\n    manifest %s\n", t1,
                        json_string_value(json_object_get(e, "by")) ?: "",
                        json_string_value(json_object_get(e, "role")) ?: "", T("来自", "from"),
                        json_string_value(json_object_get(e, "source")) ?: "", T("原因", "why"),
                        json_string_value(json_object_get(e, "reason")) ?: "",
                        json_string_value(json_object_get(e, "manifest_sha256")) ?: ""));
    }
    return ERR_OK;
}

err door_incident_evidence_index(vault *v, const actor *a, const char *id, const char *lang,
                                 const char *format, buf *out, const char **type, char *filename,
                                 size_t cap)
{
    const char *act = "incident.evidence_index";
    if (!is_system(a)) {
        TRY(need_reader(v, a, act));
        TRY(door_need(v, a, CAP_AUDIT_READ, act));
    }
    loaded *l = NULL;
    int lg, f;
    TRY(doc_begin(v, a, id, act, lang, format, true, &l, &lg, &f));
    json_t *ix = NULL;
    buf text;
    buf_init(&text, (size_t)16 << 20);
    int32_t off = 28800;
    char zone[120];
    err rc = ERR_OK;
    GUARD(index_json(v, a, l, &ix));
    if (f == NF__COUNT) {
        GUARD(audit_inc(v, a, act, "allow", "incident.read", l->inc.id, "evidence-index json", -1));
        char *s = dump(ix);
        CHECK(s != NULL, ERR_INTERNAL, "out of memory");
        rc = buf_set(out, s, strlen(s));
        free(s);
        *type = "application/json";
        snprintf(filename, cap, "%s-evidence-index.json", l->inc.id);
        goto out;
    }
    GUARD(door_notices_zone(v, (pb_lang)lg, &off, zone, sizeof zone));
    GUARD(index_text(ix, (pb_lang)lg, off, zone, &text));
    GUARD(doc_finish(v, a, l, act, "evidence-index", (pb_lang)lg, f, buf_cstr(&text), out, type,
                     filename, cap));
out:
    json_decref(ix);
    buf_free(&text);
    loaded_free(l);
    return rc;
}
