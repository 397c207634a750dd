/*
 * door_requests.c - the two-person rule: change requests and export requests.
 *
 * When the policy grants a role `request` on a field (customer service on
 * identity and contact), a change to it is not applied: the new values are
 * sealed under the customer's own data key and wait as a pending request. A
 * data steward of the customer's department (never the requester) approves it
 * (the change is applied in the same transaction that marks the request
 * applied) or rejects it. A bulk export likewise needs a second person's
 * approval before it can run, once, within a day, and still carries only what
 * the requester may read. Every step is audited.
 *
 * The same requests guard the other roads to customer data: an API key that
 * reads customers ("apikey", decided by a steward of the key's department), an
 * account given such a role or its credentials reset ("account", by a steward
 * of the account's department, never its holder), and break-glass ("breakglass",
 * by a data steward of any department). Their subject (the key or account id)
 * sits in the customer_id column; notices tell the people concerned.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "door_int.h"

#define EXPORT_VALID_US ((int64_t)24 * 3600 * 1000000)
#define REQUEST_FIELD "change-request"

static bool kind_is(const change_request *r, const char *k)
{
    return strcmp(r->kind, k) == 0;
}

/* Requests whose customer_id column names a key or an account, not a customer. */
static bool about_access(const change_request *r)
{
    return kind_is(r, "apikey") || kind_is(r, "account") || kind_is(r, "breakglass");
}

static json_t *request_json(const change_request *r)
{
    char ts[40];
    clock_rfc3339(r->created_us, ts);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", r->id, "kind", r->kind, "status",
                          r->status, "requester", r->requester, "department", r->department);
    json_object_set_new(o, "created_at", json_string(ts));
    if (r->customer_id[0]) {
        json_object_set_new(o, about_access(r) ? "subject" : "customer",
                            json_string(r->customer_id));
    }
    if (kind_is(r, "breakglass") && r->payload.len) {
        json_t *p = json_loadb((const char *)r->payload.p, r->payload.len, 0, NULL);
        json_object_set(o, "reason", json_object_get(p, "reason"));
        json_object_set(o, "minutes", json_object_get(p, "minutes"));
        json_decref(p);
    }
    if (r->fields[0]) {
        json_object_set_new(o, "fields", json_string(r->fields));
    }
    if (r->format[0]) {
        json_object_set_new(o, "format", json_string(r->format));
    }
    if (r->decided_by[0]) {
        json_object_set_new(o, "decided_by", json_string(r->decided_by));
        clock_rfc3339(r->decided_us, ts);
        json_object_set_new(o, "decided_at", json_string(ts));
    }
    if (r->note[0]) {
        json_object_set_new(o, "note", json_string(r->note));
    }
    if (r->expires_us) {
        clock_rfc3339(r->expires_us, ts);
        json_object_set_new(o, "valid_until", json_string(ts));
    }
    return o;
}

err door_request_change(vault *v, const actor *a, const sealed_customer *c, const record *set,
                        const bool *clear, const char *fields, char id[ID_LEN + 1])
{
    change_request r;
    change_request_init(&r);
    json_t *body = json_object(), *cl = json_array();
    char *text = NULL;
    uint8_t *dek = door_dek_buf();
    err rc = ERR_OK;
    CHECK(body && cl && dek, ERR_INTERNAL, "out of memory");
    for (int i = 0; i < CF__COUNT; i++) {
        if (set->v[i]) {
            json_object_set_new(body, model_field(REC_CUSTOMER, i)->name, json_string(set->v[i]));
        } else if (clear && clear[i]) {
            json_array_append_new(cl, json_string(model_field(REC_CUSTOMER, i)->name));
        }
    }
    json_object_set_new(body, "$clear", cl);
    cl = NULL;
    text = json_dumps(body, JSON_COMPACT);
    CHECK(text != NULL, ERR_INTERNAL, "out of memory");
    id_new(r.id, "req");
    snprintf(r.kind, sizeof r.kind, "change");
    snprintf(r.customer_id, sizeof r.customer_id, "%s", c->id);
    snprintf(r.department, sizeof r.department, "%s", c->department);
    snprintf(r.requester_id, sizeof r.requester_id, "%s", a->account_id);
    snprintf(r.requester, sizeof r.requester, "%s", a->username);
    snprintf(r.status, sizeof r.status, "pending");
    snprintf(r.fields, sizeof r.fields, "%s", fields);
    r.created_us = clock_now_us();
    GUARD(door_request_audit(v, a, "request.create", "allow", &r, "change-request"));
    GUARD(door_keyring_fresh(v));
    GUARD(keyring_dek_unwrap(v->kr, c->id, buf_slice(&c->wrapped_dek), dek));
    GUARD(seal(dek, c->dek_version, c->id, REQUEST_FIELD, slice_cstr(text), &r.payload));
    GUARD(store_request_insert(v->st, &r));
    memcpy(id, r.id, ID_LEN + 1);
out:
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    if (text) {
        mem_wipe(text, strlen(text));
        free(text);
    }
    json_decref(cl);
    json_decref(body);
    change_request_free(&r);
    return rc;
}

/* May actor a decide request r? Audited denial otherwise. */
static err may_decide(vault *v, const actor *a, const change_request *r, const char *action)
{
    capability need = strcmp(r->kind, "export") == 0 ? CAP_EXPORTS_APPROVE : CAP_REQUESTS_APPROVE;
    TRY(door_need(v, a, need, action));
    const char *cust = about_access(r) || !r->customer_id[0] ? NULL : r->customer_id;
    if (strcmp(r->requester_id, a->account_id) == 0 ||
        (kind_is(r, "account") && strcmp(r->customer_id, a->account_id) == 0)) {
        return door_deny(v, a, action, cust, NULL, "separation-of-duties", ERR_DENIED,
                         "a request cannot be decided by the person who made it or whom it "
                         "is about");
    }
    /* A key's or an account's department steward decides, whatever the policy's scope; a
     * break-glass request, any department's steward. */
    bool dept_bound = kind_is(r, "apikey") || kind_is(r, "account");
    if ((dept_bound || door_own_department_only(a)) && !kind_is(r, "breakglass") &&
        !door_same_dept(a, r->department)) {
        return door_deny(v, a, action, NULL, NULL, "department-scope", ERR_NOT_FOUND,
                         "no such request");
    }
    return ERR_OK;
}

/* Applies a change request's sealed values to its customer (inside the caller's txn). */
static err apply_change(vault *v, store *st, const actor *a, const change_request *r)
{
    sealed_customer c;
    sealed_customer_init(&c);
    record set;
    record_init(&set, REC_CUSTOMER);
    buf plain;
    buf_init(&plain, 1 << 20);
    json_t *j = NULL;
    uint8_t *dek = door_dek_buf();
    err rc = ERR_OK;
    CHECK(dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    err e = store_customer_get(st, r->customer_id, &c);
    CHECK(e == ERR_OK && !c.erased, ERR_CONFLICT, "the customer no longer exists");
    GUARD(door_keyring_fresh(v));
    GUARD(keyring_dek_unwrap(v->kr, c.id, buf_slice(&c.wrapped_dek), dek));
    e = unseal(dek, c.id, REQUEST_FIELD, buf_slice(&r->payload), &plain);
    CHECK(e == ERR_OK, ERR_CONFLICT,
          "the customer's data key changed since the request was made: file it again");
    j = json_loadb((const char *)plain.p, plain.len, 0, NULL);
    CHECK(json_is_object(j), ERR_INTERNAL, "a change request's payload is damaged");
    bool clear[CF__COUNT] = {false};
    json_t *cl = json_object_get(j, "$clear");
    size_t i;
    json_t *val;
    json_array_foreach(cl, i, val)
    {
        int f =
            model_field_index(REC_CUSTOMER, json_string_value(val), strlen(json_string_value(val)));
        CHECK(f >= 0, ERR_INTERNAL, "a change request's payload is damaged");
        clear[f] = true;
    }
    json_object_del(j, "$clear");
    GUARD(record_from_json(j, REC_CUSTOMER, true, &set));
    bool only[CF__COUNT];
    for (int f = 0; f < CF__COUNT; f++) {
        only[f] = set.v[f] != NULL || clear[f];
    }
    audit_entry en;
    char rule[ID_LEN + 24];
    snprintf(rule, sizeof rule, "change-request:%s", r->id);
    door_entry(&en, a, "customer.update", "allow", rule);
    en.customer = c.id;
    en.fields = r->fields;
    GUARD(audit_append(v->au, &en, NULL));
    GUARD(door_seal_customer(v, dek, &set, &c, only));
    c.updated_us = clock_now_us();
    GUARD(store_customer_update(st, &c));
out:
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    json_decref(j);
    record_free(&set);
    buf_free(&plain);
    sealed_customer_free(&c);
    return rc;
}

static err decide(vault *v, const actor *a, const char *id, bool approve, const char *note,
                  json_t **out)
{
    const char *action = approve ? "request.approve" : "request.reject";
    change_request r;
    change_request_init(&r);
    json_t *extra = NULL;
    char unknown[PASSWORD_HASH_MAX] = "";
    err rc = ERR_OK;
    err e = id_valid(id ? id : "") ? store_request_get(v->st, id, &r) : ERR_NOT_FOUND;
    if (e == ERR_NOT_FOUND) {
        GUARD(door_deny(v, a, action, NULL, NULL, "no-such-request", ERR_NOT_FOUND,
                        "no such request"));
    }
    GUARD(e);
    GUARD(may_decide(v, a, &r, action));
    CHECK(strcmp(r.status, "pending") == 0, ERR_CONFLICT, "the request is %s already", r.status);
    bool is_export = strcmp(r.kind, "export") == 0;
    bool handover = kind_is(&r, "account");
    int64_t now = clock_now_us();
    snprintf(r.decided_by, sizeof r.decided_by, "%s", a->username);
    snprintf(r.note, sizeof r.note, "%s", note ? note : "");
    r.decided_us = now;
    snprintf(r.status, sizeof r.status, "%s",
             !approve                ? "rejected"
             : is_export || handover ? "approved"
                                     : "applied");
    r.expires_us = approve && is_export ? now + EXPORT_VALID_US : 0;
    GUARD(door_request_audit(v, a, action, "allow", &r,
                             is_export ? "exports.approve" : "requests.approve"));
    extra = json_object();
    if (approve && handover) {
        GUARD(identity_unknown_password_hash(unknown)); /* Argon2id outside the transaction */
    }
    store_tx *tx = NULL;
    GUARD(store_begin(v->st, &tx));
    store *ts = store_tx_store(tx);
    /* An account request's approval sets the account up (and the payload's second code
     * half) before the status moves, so both land in one transaction. */
    e = approve && handover ? door_account_request_apply(v, ts, a, &r, extra, unknown) : ERR_OK;
    if (e == ERR_OK) {
        e = store_request_decide(ts, &r, "pending");
    }
    if (e == ERR_OK && approve && kind_is(&r, "change")) {
        e = apply_change(v, ts, a, &r);
    } else if (e == ERR_OK && approve && kind_is(&r, "breakglass")) {
        e = door_breakglass_request_apply(v, ts, a, &r, extra);
    }
    if (e == ERR_OK) {
        e = store_commit(&tx);
    }
    if (e != ERR_OK) {
        store_rollback(&tx);
        GUARD(e);
    }
    *out = request_json(&r);
    json_object_update(*out, extra);
    if (about_access(&r)) {
        char d[160];
        snprintf(d, sizeof d, "request=%s kind=%s %s by=%s", r.id, r.kind, r.status, a->username);
        door_notify(v, "role:security", approve ? "request-approved" : "request-rejected",
                    r.customer_id, d);
    }
out:
    mem_wipe(unknown, sizeof unknown);
    json_decref(extra);
    change_request_free(&r);
    return rc;
}

err door_request_approve(vault *v, const actor *a, const char *id, const char *note, json_t **out)
{
    return decide(v, a, id, true, note, out);
}

err door_request_reject(vault *v, const actor *a, const char *id, const char *note, json_t **out)
{
    return decide(v, a, id, false, note, out);
}

typedef struct list_ctx {
    const actor *a;
    bool all;
    json_t *arr;
} list_ctx;

static err list_row(void *ctx, const change_request *r)
{
    list_ctx *l = ctx;
    bool mine = strcmp(r->requester_id, l->a->account_id) == 0;
    if (l->all || mine) {
        json_array_append_new(l->arr, request_json(r));
    }
    return ERR_OK;
}

err door_requests_list(vault *v, const actor *a, const char *status, json_t **out)
{
    ENSURE(!a->via_key, ERR_DENIED, "API keys have no requests");
    ENSURE(!(a->session_flags & SESSION_MFA_PENDING), ERR_AUTH, "second factor required");
    /* Deciders see their department's requests (or all, if their grants are not limited to
     * their department); everyone else sees their own. */
    bool decider =
        policy_can(a->role, CAP_REQUESTS_APPROVE) || policy_can(a->role, CAP_EXPORTS_APPROVE);
    list_ctx l = {.a = a, .all = decider, .arr = json_array()};
    const char *dept = decider && door_own_department_only(a) ? a->department : NULL;
    audit_entry e;
    door_entry(&e, a, "request.list", "allow", decider ? "requests.approve" : "own-requests");
    err rc = audit_append(v->au, &e, NULL);
    if (rc == ERR_OK) {
        rc =
            store_request_list(v->st, status && status[0] ? status : NULL, dept, 500, list_row, &l);
    }
    if (rc != ERR_OK) {
        json_decref(l.arr);
        return rc;
    }
    *out = json_pack("{s:o}", "requests", l.arr);
    return ERR_OK;
}

err door_request_get(vault *v, const actor *a, const char *id, json_t **out)
{
    change_request r;
    change_request_init(&r);
    err rc = ERR_OK;
    err e = id_valid(id ? id : "") ? store_request_get(v->st, id, &r) : ERR_NOT_FOUND;
    bool mine = e == ERR_OK && strcmp(r.requester_id, a->account_id) == 0;
    bool dept_bound =
        kind_is(&r, "apikey") || kind_is(&r, "account") || door_own_department_only(a);
    bool dept_ok = kind_is(&r, "breakglass") || !dept_bound || door_same_dept(a, r.department);
    bool decider = e == ERR_OK &&
                   policy_can(a->role, strcmp(r.kind, "export") == 0 ? CAP_EXPORTS_APPROVE
                                                                     : CAP_REQUESTS_APPROVE) &&
                   !a->via_key && dept_ok;
    if (e == ERR_NOT_FOUND || (e == ERR_OK && !mine && !decider)) {
        GUARD(door_deny(v, a, "request.read", NULL, NULL, "no-such-request", ERR_NOT_FOUND,
                        "no such request"));
    }
    GUARD(e);
    GUARD(door_request_audit(v, a, "request.read", "allow", &r, mine ? "own-request" : "decider"));
    *out = request_json(&r);
out:
    change_request_free(&r);
    return rc;
}

/* ---- exports ---- */

err door_export_request(vault *v, const actor *a, const char *format, char id[ID_LEN + 1])
{
    TRY(door_gate(v, a, "export.request"));
    const char *rule;
    if (!door_allows(a, REC_CUSTOMER, OP_EXPORT, true, &rule)) {
        return door_deny(v, a, "export.request", NULL, NULL, rule, ERR_DENIED,
                         "your role may not export customers");
    }
    ENSURE(format && (strcmp(format, "csv") == 0 || strcmp(format, "jsonl") == 0), ERR_INPUT,
           "format must be csv or jsonl");
    change_request r;
    change_request_init(&r);
    id_new(r.id, "req");
    snprintf(r.kind, sizeof r.kind, "export");
    snprintf(r.department, sizeof r.department, "%s", a->department);
    snprintf(r.requester_id, sizeof r.requester_id, "%s", a->account_id);
    snprintf(r.requester, sizeof r.requester, "%s", a->username);
    snprintf(r.status, sizeof r.status, "pending");
    snprintf(r.format, sizeof r.format, "%s", format);
    r.created_us = clock_now_us();
    err rc = door_request_audit(v, a, "export.request", "allow", &r, rule);
    if (rc == ERR_OK) {
        rc = store_request_insert(v->st, &r);
    }
    if (rc == ERR_OK) {
        memcpy(id, r.id, ID_LEN + 1);
    }
    change_request_free(&r);
    return rc;
}

err door_export_take(vault *v, const actor *a, const char *request, export_format f)
{
    change_request r;
    change_request_init(&r);
    err rc = ERR_OK;
    err e = request && id_valid(request) ? store_request_get(v->st, request, &r) : ERR_NOT_FOUND;
    const char *why = e == ERR_NOT_FOUND ? "no-approved-request"
                      : e != ERR_OK      ? NULL
                      : strcmp(r.kind, "export") != 0 || strcmp(r.requester_id, a->account_id) != 0
                          ? "no-approved-request"
                      : strcmp(r.status, "pending") == 0  ? "export-not-approved"
                      : strcmp(r.status, "approved") != 0 ? "export-request-closed"
                      : r.expires_us <= clock_now_us()    ? "export-approval-expired"
                      : strcmp(r.format, f == EXPORT_CSV ? "csv" : "jsonl") != 0
                          ? "export-format-differs"
                          : NULL;
    if (e != ERR_OK && e != ERR_NOT_FOUND) {
        GUARD(e);
    }
    if (why) {
        GUARD(door_deny(v, a, "customer.export", NULL, NULL, why, ERR_DENIED,
                        "a bulk export needs an approved export request (POST /v1/exports, "
                        "then a data steward approves it)"));
    }
    snprintf(r.status, sizeof r.status, "used");
    r.decided_us = clock_now_us();
    GUARD(store_request_decide(v->st, &r, "approved"));
out:
    change_request_free(&r);
    return rc;
}
