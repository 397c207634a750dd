/*
 * door_audit.c - reading the audit log through the door. Only the auditor,
 * legal and security roles may; every read (checkpoint, proof, query, report)
 * is itself an audit entry, written before the answer leaves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "door_int.h"

static err gate(vault *v, const actor *a, const char *action, const char *what)
{
    TRY(door_need(v, a, CAP_AUDIT_READ, action));
    audit_entry e;
    door_entry(&e, a, action, "allow", "grant:audit-read");
    e.reason = what;
    return audit_append(v->au, &e, NULL);
}

static json_t *b64_json(const uint8_t *p, size_t n)
{
    char *s = malloc(B64_LEN(n));
    if (!s) {
        return NULL;
    }
    b64_encode(s, B64_LEN(n), p, n);
    json_t *j = json_string(s);
    free(s);
    return j;
}

err door_audit_checkpoint(vault *v, const actor *a, json_t **out)
{
    TRY(gate(v, a, "audit.checkpoint", NULL));
    buf note;
    buf_init(&note, 1 << 16);
    uint64_t size = 0;
    err rc = audit_checkpoint_now(v->au, NULL);
    if (rc == ERR_OK) {
        rc = audit_latest_checkpoint(v->au, &note, &size);
    }
    if (rc == ERR_OK) {
        *out = json_pack("{s:s, s:I}", "checkpoint", buf_cstr(&note), "size", (json_int_t)size);
        rc = *out ? ERR_OK : err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
    }
    buf_free(&note);
    return rc;
}

err door_audit_inclusion(vault *v, const actor *a, uint64_t index, uint64_t size, json_t **out)
{
    char what[96];
    snprintf(what, sizeof what, "inclusion index=%llu size=%llu", (unsigned long long)index,
             (unsigned long long)size);
    TRY(gate(v, a, "audit.proof", what));
    uint8_t leaf[32], root[32], proof[AUDIT_MAX_PROOF][32];
    size_t len = 0;
    TRY(audit_inclusion(v->au, index, size, leaf, proof, &len));
    TRY(audit_root(v->au, size, root));
    json_t *arr = json_array();
    for (size_t i = 0; i < len; i++) {
        json_array_append_new(arr, b64_json(proof[i], 32));
    }
    *out =
        json_pack("{s:I, s:I, s:o, s:o, s:o}", "index", (json_int_t)index, "size", (json_int_t)size,
                  "leaf_hash", b64_json(leaf, 32), "proof", arr, "root", b64_json(root, 32));
    ENSURE(*out != NULL, ERR_INTERNAL, "out of memory");
    return ERR_OK;
}

err door_audit_consistency(vault *v, const actor *a, uint64_t m, uint64_t n, json_t **out)
{
    char what[96];
    snprintf(what, sizeof what, "consistency from=%llu to=%llu", (unsigned long long)m,
             (unsigned long long)n);
    TRY(gate(v, a, "audit.proof", what));
    uint8_t proof[AUDIT_MAX_PROOF][32], r1[32], r2[32];
    size_t len = 0;
    TRY(audit_consistency(v->au, m, n, proof, &len));
    TRY(audit_root(v->au, m, r1));
    TRY(audit_root(v->au, n, r2));
    json_t *arr = json_array();
    for (size_t i = 0; i < len; i++) {
        json_array_append_new(arr, b64_json(proof[i], 32));
    }
    *out = json_pack("{s:I, s:I, s:o, s:o, s:o}", "from", (json_int_t)m, "to", (json_int_t)n,
                     "proof", arr, "root_from", b64_json(r1, 32), "root_to", b64_json(r2, 32));
    ENSURE(*out != NULL, ERR_INTERNAL, "out of memory");
    return ERR_OK;
}

typedef struct rows_ctx {
    json_t *arr;
    uint64_t last;
    /* reports */
    json_t *customers, *fields, *actors;
} rows_ctx;

static void add_unique(json_t *set, const char *list)
{
    if (!set || !list) {
        return;
    }
    const char *p = list;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n > 0 && n < 128) {
            char item[128];
            memcpy(item, p, n);
            item[n] = '\0';
            json_object_set_new(set, item, json_true());
        }
        p += n;
        if (*p == ',') {
            p++;
        }
    }
}

static err row_json(void *ctx, uint64_t index, slice entry, const uint8_t leaf[32])
{
    rows_ctx *rc = ctx;
    json_t *decoded = json_loadb((const char *)entry.p, entry.len, 0, NULL);
    json_t *o = json_pack("{s:I, s:o, s:o, s:o}", "index", (json_int_t)index, "leaf_hash",
                          b64_json(leaf, 32), "entry", b64_json(entry.p, entry.len), "decoded",
                          decoded ? decoded : json_null());
    ENSURE(o != NULL, ERR_INTERNAL, "out of memory");
    if (decoded) {
        const char *cust = json_string_value(json_object_get(decoded, "customer"));
        add_unique(rc->customers, cust);
        add_unique(rc->customers, json_string_value(json_object_get(decoded, "customers")));
        add_unique(rc->fields, json_string_value(json_object_get(decoded, "fields")));
        add_unique(rc->actors, json_string_value(json_object_get(decoded, "actor")));
    }
    json_array_append_new(rc->arr, o);
    rc->last = index;
    return ERR_OK;
}

static json_t *keys_of(json_t *set)
{
    json_t *arr = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(set, k, v)
    {
        json_array_append_new(arr, json_string(k));
    }
    return arr;
}

err door_audit_entries(vault *v, const actor *a, const audit_query *q, json_t **out)
{
    TRY(gate(v, a, "audit.search", q->customer ? "by customer" : q->actor ? "by actor" : NULL));
    rows_ctx rc = {json_array(), 0, NULL, NULL, NULL};
    size_t n = 0;
    audit_query qq = *q;
    if (qq.limit == 0 || qq.limit > 1000) {
        qq.limit = qq.limit == 0 ? 100 : 1000;
    }
    err e = audit_search(v->au, &qq, row_json, &rc, &n);
    if (e != ERR_OK) {
        json_decref(rc.arr);
        return e;
    }
    *out = json_pack("{s:o, s:o}", "entries", rc.arr, "next",
                     n == qq.limit ? json_integer((json_int_t)rc.last) : json_null());
    ENSURE(*out != NULL, ERR_INTERNAL, "out of memory");
    return ERR_OK;
}

/* Runs a query to the end (reports), a page of 1,000 at a time. */
static err all_rows(vault *v, audit_query *q, rows_ctx *rc)
{
    q->after = UINT64_MAX;
    q->limit = 1000;
    for (;;) {
        size_t n = 0;
        TRY(audit_search(v->au, q, row_json, rc, &n));
        if (n < 1000) {
            return ERR_OK;
        }
        q->after = rc->last;
        ENSURE(json_array_size(rc->arr) <= 1000000, ERR_TOO_LARGE,
               "the report has more than a million entries; narrow it with from/to");
    }
}

err door_audit_subject_report(vault *v, const actor *a, const char *customer, json_t **out)
{
    ENSURE(customer && id_valid(customer), ERR_INPUT, "customer must be a customer id");
    char what[80];
    snprintf(what, sizeof what, "subject report customer=%s", customer);
    TRY(gate(v, a, "audit.report.subject", what));
    rows_ctx rc = {json_array(), 0, json_object(), json_object(), json_object()};
    audit_query q;
    memset(&q, 0, sizeof q);
    q.customer = customer;
    err e = all_rows(v, &q, &rc);
    if (e == ERR_OK) {
        *out = json_pack("{s:s, s:o, s:o, s:o}", "customer", customer, "accesses", rc.arr, "actors",
                         keys_of(rc.actors), "fields", keys_of(rc.fields));
        rc.arr = NULL;
        e = *out ? ERR_OK : err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
    }
    json_decref(rc.arr);
    json_decref(rc.customers);
    json_decref(rc.fields);
    json_decref(rc.actors);
    return e;
}

err door_audit_actor_report(vault *v, const actor *a, const char *username, int64_t from_us,
                            int64_t to_us, json_t **out)
{
    ENSURE(username && username[0] && strlen(username) <= USERNAME_MAX, ERR_INPUT,
           "actor must be a username");
    char what[160];
    snprintf(what, sizeof what, "actor report actor=%s", username);
    TRY(gate(v, a, "audit.report.actor", what));
    rows_ctx rc = {json_array(), 0, json_object(), json_object(), NULL};
    audit_query q;
    memset(&q, 0, sizeof q);
    q.actor = username;
    q.decision = "allow"; /* what was read: allowed acts */
    q.from_us = from_us;
    q.to_us = to_us;
    err e = all_rows(v, &q, &rc);
    if (e == ERR_OK) {
        char f[40], t[40];
        clock_rfc3339(from_us, f);
        clock_rfc3339(to_us ? to_us : clock_now_us(), t);
        *out = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "actor", username, "from", f, "to", t,
                         "entries", rc.arr, "customers", keys_of(rc.customers), "fields",
                         keys_of(rc.fields));
        rc.arr = NULL;
        e = *out ? ERR_OK : err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
    }
    json_decref(rc.arr);
    json_decref(rc.customers);
    json_decref(rc.fields);
    return e;
}
