/*
 * door_policy.c - what one actor may do, at the door.
 *
 * The policy (access/policy.h) decides per role. Two things change the answer
 * for one actor: an API key narrows its role to the key's scope (a till that
 * records sales gets nothing else, whatever its role allows), and an open
 * break-glass grant lets security staff read (never write) any customer, each
 * read flagged, alerted and kept for review. Before any customer data moves,
 * door_gate() refuses a session whose second factor is still due and a person
 * whose security training has lapsed.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "door_int.h"

bool door_same_dept(const actor *a, const char *department)
{
    return strcmp(a->department, department) == 0;
}

static uint16_t bit(op o)
{
    return (uint16_t)(1u << o);
}

static int cat_of(rectype t, int field)
{
    const field_def *f = model_field(t, field);
    return f ? (int)f->cat : -1;
}

read_level door_read_level(const actor *a, rectype t, int field, bool same_dept)
{
    if (a->breakglass[0]) {
        return model_field(t, field) ? READ_FULL : READ_NONE;
    }
    if (a->via_key && !same_dept) {
        return READ_NONE; /* a key is bound to its department, whatever its role */
    }
    read_level l = policy_read_in(a->role, t, field, same_dept);
    if (a->via_key) {
        int c = cat_of(t, field);
        if (c < 0 || !(a->key_ops[c] & bit(OP_READ))) {
            return READ_NONE;
        }
    }
    /* A field that would give away the hidden part of a masked field is masked with it. */
    int hides = model_reveals(t, field);
    if (l == READ_FULL && hides >= 0 && door_read_level(a, t, hides, same_dept) == READ_MASKED) {
        l = READ_MASKED;
    }
    return l;
}

write_level door_write_level(const actor *a, rectype t, int field, bool same_dept)
{
    if (a->via_key && !same_dept) {
        return WRITE_NONE;
    }
    write_level w = policy_write_in(a->role, t, field, same_dept);
    if (a->via_key) {
        int c = cat_of(t, field);
        if (c < 0 || !(a->key_ops[c] & (bit(OP_UPDATE) | bit(OP_CREATE)))) {
            return WRITE_NONE;
        }
        if (w == WRITE_REQUEST) {
            return WRITE_NONE; /* a business system cannot file change requests */
        }
    }
    return w;
}

static bool key_allows(const actor *a, rectype t, op o)
{
    if (t == REC_TRANSACTION || t == REC_COMMUNICATION) {
        category c = t == REC_TRANSACTION ? CAT_TRANSACTIONS : CAT_COMMUNICATIONS;
        return (a->key_ops[c] & bit(o)) != 0;
    }
    if (o == OP_READ || o == OP_SEARCH || o == OP_UPDATE) {
        op need = o == OP_UPDATE ? OP_UPDATE : OP_READ;
        for (int c = 0; c < CAT__COUNT; c++) {
            if (a->key_ops[c] & bit(need)) {
                return true;
            }
        }
        return false;
    }
    return (a->key_ops[CAT__COUNT] & bit(o)) != 0;
}

bool door_allows(const actor *a, rectype t, op o, bool same_dept, const char **rule)
{
    const char *dummy;
    if (!rule) {
        rule = &dummy;
    }
    if (a->breakglass[0]) {
        *rule = a->breakglass_rule;
        return o == OP_READ || o == OP_SEARCH;
    }
    if (!policy_allows_in(a->role, t, o, same_dept, rule)) {
        return false;
    }
    if (a->via_key && !same_dept) {
        *rule = "api-key-department";
        return false;
    }
    if (a->via_key && !key_allows(a, t, o)) {
        *rule = "api-key-scope";
        return false;
    }
    return true;
}

bool door_allows_somewhere(const actor *a, rectype t, op o, const char **rule)
{
    return door_allows(a, t, o, true, rule) || door_allows(a, t, o, false, rule);
}

bool door_own_department_only(const actor *a)
{
    return a->via_key || (!a->breakglass[0] && policy_own_department_only(a->role));
}

bool door_reads_customers(role r, const uint16_t *ops)
{
    actor a;
    memset(&a, 0, sizeof a);
    a.role = r;
    if (ops) {
        a.via_key = true;
        memcpy(a.key_ops, ops, sizeof a.key_ops);
        /* whole-customer operations that hand out data (export) count as reading */
        if (policy_allows_in(r, REC_CUSTOMER, OP_EXPORT, true, NULL) &&
            (ops[CAT__COUNT] & bit(OP_EXPORT))) {
            return true;
        }
    }
    for (int t = 0; t < REC__COUNT; t++) {
        for (size_t f = 0; f < model_nfields((rectype)t); f++) {
            if (door_read_level(&a, (rectype)t, (int)f, true) != READ_NONE ||
                (!ops && door_read_level(&a, (rectype)t, (int)f, false) != READ_NONE)) {
                return true;
            }
        }
    }
    return false;
}

bool door_can_search(const actor *a, blind_kind k)
{
    if (k < 0 || k >= BI__COUNT) {
        return false;
    }
    /* Searching reveals whether a value exists: it needs the field readable somewhere. */
    return door_read_level(a, REC_CUSTOMER, DOOR_BLIND_FIELD[k], true) != READ_NONE ||
           door_read_level(a, REC_CUSTOMER, DOOR_BLIND_FIELD[k], false) != READ_NONE;
}

err door_gate(vault *v, const actor *a, const char *action)
{
    if (keyring_sealed(v->kr)) {
        return door_deny(v, a, action, NULL, NULL, "vault-sealed", ERR_UNAVAILABLE,
                         "the vault is sealed: customer data is refused until an operator "
                         "unseals it");
    }
    if (a->session_flags & SESSION_MFA_PENDING) {
        return door_deny(v, a, action, NULL, NULL, "second-factor-pending", ERR_AUTH,
                         "second factor required");
    }
    if (!a->via_key && !a->breakglass[0] && policy_needs_training(a->role) &&
        a->training_until_us <= clock_now_us()) {
        char msg[200];
        if (a->training_until_us > 0) {
            char ts[40];
            clock_rfc3339(a->training_until_us, ts);
            snprintf(msg, sizeof msg,
                     "your security training lapsed on %.10s: customer access is suspended "
                     "until you complete this quarter's course",
                     ts);
        } else {
            snprintf(msg, sizeof msg,
                     "security training is required before customer access: complete this "
                     "quarter's course");
        }
        return door_deny(v, a, action, NULL, NULL, "training-lapsed", ERR_DENIED, msg);
    }
    return ERR_OK;
}

err door_need(vault *v, const actor *a, capability c, const char *action)
{
    if (a->session_flags & SESSION_MFA_PENDING) {
        return door_deny(v, a, action, NULL, NULL, "second-factor-pending", ERR_AUTH,
                         "second factor required");
    }
    if (a->via_key || !policy_can(a->role, c)) {
        char rule[64], msg[128];
        snprintf(rule, sizeof rule, "needs:%s", cap_name(c));
        snprintf(msg, sizeof msg, "your role may not do this (it needs %s)", cap_name(c));
        return door_deny(v, a, action, NULL, NULL, rule, ERR_DENIED, msg);
    }
    return ERR_OK;
}

void door_breakglass_read(vault *v, const actor *a, const char *action, const char *customer)
{
    if (!a->breakglass[0]) {
        return;
    }
    if (store_breakglass_count_read(v->st, a->breakglass) != ERR_OK) {
        log_warn("breakglass.count", "could not count a break-glass read");
    }
    char d[160];
    snprintf(d, sizeof d, "grant=%s action=%s customer=%s", a->breakglass, action,
             customer ? customer : "-");
    door_alert(v, "high", "break-glass-read", a, d);
}

/* ---- reload and explain ---- */

err door_policy_reload(vault *v, const actor *a, json_t **out)
{
    TRY(door_need(v, a, CAP_POLICY_MANAGE, "policy.reload"));
    char p[PATH_MAX];
    vault_path(v, "policy.conf", p, sizeof p);
    policy *np = NULL;
    err rc = access(p, F_OK) == 0
                 ? policy_load_file(p, &np)
                 : policy_parse(policy_default_text(), strlen(policy_default_text()),
                                "built-in default", &np);
    if (rc != ERR_OK) {
        /* Nothing changes; the attempt is on record with the parser's message. */
        char msg[300];
        snprintf(msg, sizeof msg, "%s", err_message());
        audit_entry e;
        door_entry(&e, a, "policy.reload", "deny", "policy-invalid");
        e.reason = msg;
        TRY(audit_append(v->au, &e, NULL));
        BAIL(ERR_INPUT, "%s (the current policy stays in force)", msg);
    }
    buf diff;
    buf_init(&diff, 1 << 20);
    GUARD(policy_diff(policy_current(), np, &diff));
    GUARD(buf_reserve(&diff, 0));
    audit_entry e;
    door_entry(&e, a, "policy.reload", "allow", policy_source(np));
    e.reason = diff.len ? buf_cstr(&diff) : "no change";
    GUARD(audit_append(v->au, &e, NULL));
    *out = json_pack("{s:s,s:b,s:s}", "source", policy_source(np), "changed", diff.len > 0, "diff",
                     diff.len ? buf_cstr(&diff) : "");
    policy_install(np);
    np = NULL;
    log_info("policy.reload", "policy reloaded from %s", p);
out:
    policy_free(np);
    buf_free(&diff);
    return rc;
}

err door_policy_explain(vault *v, const actor *a, const char *role_n, const char *opn,
                        const char *cat, const char *customer, json_t **out)
{
    TRY(door_need(v, a, CAP_POLICY_MANAGE, "policy.explain"));
    ENSURE(role_n && opn && cat, ERR_INPUT, "role, op and category are required");
    char dept[DEPT_MAX + 1] = "";
    if (customer && customer[0]) {
        /* Only the clear department column is read: no key is unwrapped. */
        sealed_customer c;
        sealed_customer_init(&c);
        err e = id_valid(customer) ? store_customer_get(v->st, customer, &c) : ERR_NOT_FOUND;
        snprintf(dept, sizeof dept, "%s", c.department);
        bool erased = c.erased;
        sealed_customer_free(&c);
        ENSURE(e == ERR_OK || e == ERR_NOT_FOUND, e, "%s", err_message());
        ENSURE(e == ERR_OK && !erased, ERR_NOT_FOUND, "no such customer");
        /* A customer's department is told only to callers who may see the customer (their
         * own department, or an open break-glass grant): to anyone else it looks absent. */
        if (!door_same_dept(a, dept) && !a->breakglass[0]) {
            return door_deny(v, a, "policy.explain", customer, NULL, "other-department",
                             ERR_NOT_FOUND, "no such customer");
        }
    }
    buf own, other;
    buf_init(&own, 4096);
    buf_init(&other, 4096);
    err rc = ERR_OK;
    GUARD(policy_explain(policy_current(), role_n, opn, cat, true, &own));
    GUARD(policy_explain(policy_current(), role_n, opn, cat, false, &other));
    GUARD(buf_reserve(&own, 0));
    GUARD(buf_reserve(&other, 0));
    audit_entry e;
    door_entry(&e, a, "policy.explain", "allow", "policy.manage");
    e.customer = dept[0] ? customer : NULL;
    GUARD(audit_append(v->au, &e, NULL));
    *out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "role", role_n, "op", opn, "category", cat,
                     "policy", policy_source(policy_current()), "own_department", buf_cstr(&own),
                     "other_department", buf_cstr(&other));
    if (dept[0]) {
        json_object_set_new(*out, "customer_department", json_string(dept));
        char line[64];
        snprintf(line, sizeof line, "for a %s user of department %s", role_n, dept);
        json_object_set_new(*out, "note", json_string(line));
    }
out:
    buf_free(&own);
    buf_free(&other);
    return rc;
}
