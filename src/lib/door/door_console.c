/*
 * door_console.c - the door's part of the web console's own routes (door_console.h): the
 * QR code's text of a second factor being enrolled, and the limits of the caller's session.
 */
#include "door/door_console.h"

#include <stdio.h>
#include <string.h>

#include "access/totp.h"
#include "core/mem.h"
#include "door_int.h"

#define CONSOLE_TOTP_ISSUER "Custos" /* as door_accounts.c names it in the URI */

err door_totp_pending_uri(vault *v, const actor *a, buf *uri)
{
    ENSURE(!a->via_key, ERR_INPUT, "an API key has no second factor");
    account acc;
    TRY(identity_account_by_id(&v->id, a->account_id, &acc));
    identity_account_wipe(&acc);
    err rc = ERR_OK;
    if (!acc.totp[0] || acc.totp_enabled) {
        /* Nothing being enrolled, or enrolled already: the secret in use is never shown. */
        GUARD(door_deny(v, a, "account.totp_qr", NULL, NULL, "no-enrolment", ERR_CONFLICT,
                        "no second factor is being enrolled (POST /v1/me/totp/enrol first)"));
    }
    audit_entry e;
    door_entry(&e, a, "account.totp_qr", "allow", "self");
    e.reason = acc.username;
    GUARD(audit_append(v->au, &e, NULL));
    GUARD(identity_totp_pending_uri(&v->id, &acc, CONSOLE_TOTP_ISSUER, uri));
out:
    mem_wipe(acc.totp, sizeof acc.totp);
    return rc;
}

err door_session_info(vault *v, const actor *a, json_t **out)
{
    ENSURE(!a->via_key, ERR_INPUT, "an API key has no session");
    *out = json_pack("{s:I,s:I,s:b}", "idle_seconds", (json_int_t)(v->id.session_idle_us / 1000000),
                     "session_hours", (json_int_t)(v->id.session_ttl_us / 3600000000LL),
                     "second_factor_pending", (a->session_flags & SESSION_MFA_PENDING) != 0);
    ENSURE(*out != NULL, ERR_INTERNAL, "out of memory");
    return ERR_OK;
}

#define DIFF_REQUEST_FIELD "change-request" /* the seal's label (door_requests.c) */

/* The request's sealed new values into set/clear. */
static err diff_payload(vault *v, const change_request *r, const sealed_customer *c,
                        const uint8_t dek[KEY_LEN], record *set, bool clear[CF__COUNT])
{
    buf plain;
    buf_init(&plain, 1 << 20);
    json_t *j = NULL;
    err rc = ERR_OK;
    err e = unseal(dek, c->id, DIFF_REQUEST_FIELD, buf_slice(&r->payload), &plain);
    CHECK(e == ERR_OK, ERR_CONFLICT,
          "the customer's data key changed since the request was made: it cannot be shown");
    j = json_loadb((const char *)plain.p, plain.len, 0, NULL);
    CHECK(json_is_object(j), ERR_INTERNAL, "a change request's payload is damaged");
    size_t i;
    json_t *val;
    json_array_foreach(json_object_get(j, "$clear"), i, val)
    {
        const char *n = json_string_value(val);
        int f = n ? model_field_index(REC_CUSTOMER, n, strlen(n)) : -1;
        CHECK(f >= 0, ERR_INTERNAL, "a change request's payload is damaged");
        clear[f] = true;
    }
    json_object_del(j, "$clear");
    GUARD(record_from_json(j, REC_CUSTOMER, true, set));
out:
    if (j) {
        /* the values are personal: wipe the parsed strings before they are freed */
        const char *k;
        json_t *x;
        json_object_foreach(j, k, x)
        {
            if (json_is_string(x)) {
                mem_wipe((void *)json_string_value(x), json_string_length(x));
            }
        }
        json_decref(j);
    }
    buf_free(&plain);
    return rc;
}

err door_request_diff(vault *v, const actor *a, const char *id, json_t **out)
{
    change_request r;
    change_request_init(&r);
    sealed_customer c;
    sealed_customer_init(&c);
    record set;
    record_init(&set, REC_CUSTOMER);
    bool clear[CF__COUNT] = {false};
    json_t *before = NULL, *after = NULL;
    buf names;
    buf_init(&names, 4096);
    uint8_t *dek = door_dek_buf();
    err rc = ERR_OK;
    CHECK(dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    GUARD(door_gate(v, a, "request.diff"));
    err e = id && id_valid(id) ? store_request_get(v->st, id, &r) : ERR_NOT_FOUND;
    if (e != ERR_NOT_FOUND) {
        GUARD(e);
    }
    bool change = e == ERR_OK && strcmp(r.kind, "change") == 0;
    bool mine = change && strcmp(r.requester_id, a->account_id) == 0;
    bool decider = change && !a->via_key && policy_can(a->role, CAP_REQUESTS_APPROVE) &&
                   (!door_own_department_only(a) || door_same_dept(a, r.department));
    if (!mine && !decider) {
        GUARD(door_deny(v, a, "request.read", NULL, NULL, "no-such-request", ERR_NOT_FOUND,
                        "no such request"));
    }
    GUARD(door_fetch_customer(v, a, "request.diff", r.customer_id, &c));
    const char *rule;
    if (!door_allows(a, REC_CUSTOMER, OP_READ, door_same_dept(a, c.department), &rule)) {
        GUARD(door_deny(v, a, "request.diff", c.id, NULL, "department-scope", ERR_NOT_FOUND,
                        "no such request"));
    }
    GUARD(door_visible_fields(a, &c, &names));
    char why[ID_LEN + 24];
    snprintf(why, sizeof why, "request-diff:%s", r.id);
    audit_entry en;
    door_entry(&en, a, "customer.read", "allow", why);
    en.customer = c.id;
    en.fields = buf_cstr(&names);
    uint64_t idx = 0;
    GUARD(audit_append(v->au, &en, &idx));
    door_breakglass_read(v, a, "customer.read", c.id);
    if (c.honeytoken) {
        door_honeytoken_touched(v, a, "customer.read", c.id);
    }
    GUARD(door_keyring_fresh(v));
    GUARD(keyring_dek_unwrap(v->kr, c.id, buf_slice(&c.wrapped_dek), dek));
    GUARD(door_render_customer(v, a, &c, dek, &before));
    GUARD(diff_payload(v, &r, &c, dek, &set, clear));
    /* The new values sealed into this in-memory copy only (nothing is stored), then shown
     * through the same rendering, so masking and hiding are the policy's, not this file's. */
    bool only[CF__COUNT];
    for (int f = 0; f < CF__COUNT; f++) {
        only[f] = set.v[f] != NULL || clear[f];
    }
    GUARD(door_seal_customer(v, dek, &set, &c, only));
    GUARD(door_render_customer(v, a, &c, dek, &after));
    json_t *fields = json_array();
    CHECK(fields != NULL, ERR_INTERNAL, "out of memory");
    for (int f = 0; f < CF__COUNT; f++) {
        if (!only[f]) {
            continue;
        }
        const char *name = model_field(REC_CUSTOMER, f)->name;
        json_t *b = json_object_get(before, name), *x = json_object_get(after, name);
        json_t *o = json_pack("{s:s}", "field", name);
        if (b) {
            json_object_set(o, "before", b);
        }
        if (x) {
            json_object_set(o, "after", x);
        }
        json_object_set_new(o, "visible", json_boolean(b || x || clear[f]));
        json_array_append_new(fields, o);
    }
    *out = json_pack("{s:s,s:s,s:s,s:s,s:o}", "request", r.id, "customer", c.id, "status", r.status,
                     "requester", r.requester, "fields", fields);
    door_observe_read(v, a, c.id, c.department, c.honeytoken, 1, door_json_bytes(v, *out),
                      (int64_t)idx);
out:
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    json_decref(before);
    json_decref(after);
    record_free(&set);
    sealed_customer_free(&c);
    change_request_free(&r);
    buf_free(&names);
    return rc;
}
