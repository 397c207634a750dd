/*
 * door_honeytokens.c - fake customers nobody's job ever opens. A honeytoken
 * looks like any other customer (demo_honeytoken makes it realistic and a
 * little tempting), is sealed like one, and is left out of lists and exports,
 * so a legitimate day never touches it. Reading one (by id, or by searching its
 * exact phone, e-mail, ID number or name) is a high-severity alert.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "door_int.h"
#include "model/demo.h"

/* A real salesperson of the department, so the decoy looks like its neighbours. */
static void salesperson_of(vault *v, const char *department, char *out, size_t max)
{
    snprintf(out, max, "sales");
    enum { MAX = 500 };
    account *rows = calloc(MAX, sizeof *rows);
    size_t n = 0;
    if (rows && store_account_list(v->st, rows, MAX, &n) == ERR_OK) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(rows[i].role, "sales") == 0 && strcmp(rows[i].department, department) == 0) {
                snprintf(out, max, "%s", rows[i].username);
                break;
            }
        }
        mem_wipe(rows, MAX * sizeof *rows);
    }
    free(rows);
}

err door_honeytoken_add(vault *v, const actor *a, const char *department, json_t **out)
{
    if (a->role != ROLE__COUNT) { /* the demo plants them as the system */
        TRY(door_need(v, a, CAP_HONEYTOKENS_MANAGE, "honeytoken.add"));
    }
    ENSURE(department && department[0] && strlen(department) <= DEPT_MAX, ERR_INPUT,
           "a department is required");
    record rec;
    record_init(&rec, REC_CUSTOMER);
    sealed_customer c;
    sealed_customer_init(&c);
    uint8_t *dek = door_dek_buf();
    err rc = ERR_OK;
    CHECK(dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    demo_rng rng;
    uint64_t seed;
    rand_bytes(&seed, sizeof seed);
    demo_rng_seed(&rng, seed);
    char sp[USERNAME_MAX + 1];
    salesperson_of(v, department, sp, sizeof sp);
    GUARD(demo_honeytoken(&rng, department, sp, &rec));
    GUARD(door_keyring_fresh(v));
    id_new(c.id, "cus");
    snprintf(c.department, sizeof c.department, "%s", department);
    c.created_us = c.updated_us = clock_now_us() - (int64_t)(seed % (400ull * 86400)) * 1000000;
    c.dek_version = 1;
    c.honeytoken = true;
    GUARD(keyring_dek_new(v->kr, c.id, dek, &c.wrapped_dek));
    /* The version the envelope names (the store refuses a row whose column says otherwise). */
    GUARD(envelope_key_version(buf_slice(&c.wrapped_dek), &c.kek_version));
    GUARD(door_seal_customer(v, dek, &rec, &c, NULL));
    audit_entry e;
    door_entry(&e, a, "honeytoken.add", "allow", "honeytokens.manage");
    e.customer = c.id;
    GUARD(audit_append(v->au, &e, NULL));
    GUARD(store_customer_insert(v->st, &c));
    if (out) {
        *out = json_pack("{s:s,s:s}", "id", c.id, "department", c.department);
    }
out:
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    sealed_customer_free(&c);
    record_free(&rec);
    return rc;
}

err door_honeytokens_list(vault *v, const actor *a, json_t **out)
{
    TRY(door_need(v, a, CAP_HONEYTOKENS_MANAGE, "honeytoken.list"));
    enum { MAX = 1000 };
    char(*ids)[ID_LEN + 1] = calloc(MAX, sizeof *ids);
    ENSURE(ids != NULL, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    sealed_customer *rows = NULL;
    bool *found = NULL;
    err rc = ERR_OK;
    json_t *arr = json_array();
    audit_entry e;
    door_entry(&e, a, "honeytoken.list", "allow", "honeytokens.manage");
    GUARD(audit_append(v->au, &e, NULL));
    GUARD(store_customer_honeytokens(v->st, ids, MAX, &n));
    rows = calloc(n ? n : 1, sizeof *rows);
    found = calloc(n ? n : 1, sizeof *found);
    CHECK(rows && found, ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        sealed_customer_init(&rows[i]);
    }
    /* One batch read for the list, not one read per honeytoken. */
    GUARD(store_customer_get_many(v->st, (const char(*)[ID_LEN + 1]) ids, n, rows, found));
    for (size_t i = 0; i < n; i++) {
        if (found[i]) {
            char ts[40];
            clock_rfc3339(rows[i].created_us, ts);
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "id", rows[i].id, "department",
                                                 rows[i].department, "created_at", ts));
        }
    }
    *out = json_pack("{s:o}", "honeytokens", arr);
    arr = NULL;
out:
    json_decref(arr);
    for (size_t i = 0; rows && i < n; i++) {
        sealed_customer_free(&rows[i]);
    }
    free(rows);
    free(found);
    free(ids);
    return rc;
}
