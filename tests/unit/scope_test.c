/*
 * scope_test.c - the breach scope from audit entries: only allowed reading entries of the
 * actors, keys and addresses named, inside the windows; exactly the fields and categories each
 * customer had exposed; searches and export pages count for every customer they list; the
 * department and honeytoken facts joined in; the same entries give the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "incident/scope.h"
#include "test.h"

#define S 1000000LL
#define T0 (1772415000LL * S)

static uint64_t next;

static void feed(scope *sc, const char *actor, const char *source, const char *session,
                 const char *action, const char *decision, const char *customer,
                 const char *customers, const char *fields, int64_t ts)
{
    audit_entry e = {.ts_us = ts,
                     .actor = actor,
                     .role = "sales",
                     .source = source,
                     .session = session,
                     .action = action,
                     .decision = decision,
                     .customer = customer,
                     .customers = customers,
                     .fields = fields,
                     .rule = "grant:test",
                     .count = -1};
    buf b;
    buf_init(&b, 0);
    EXPECT_OK(audit_encode(&e, next, &b));
    EXPECT_OK(scope_add(sc, next++, buf_slice(&b)));
    buf_free(&b);
}

static err facts(void *ctx, const char *id, char *dept, size_t cap, bool *ht, bool *erased)
{
    (void)ctx;
    snprintf(dept, cap, "%s", strcmp(id, "cus_b") == 0 ? "beijing" : "shanghai");
    *ht = strcmp(id, "cus_h") == 0;
    *erased = false;
    return ERR_OK;
}

static json_t *run(const scope_query *q)
{
    scope *sc = NULL;
    EXPECT_OK(scope_new(q, &sc));
    if (!sc) {
        return NULL;
    }
    next = 0;
    /* The intruder (sales9 from 10.0.0.66) and honest work around it. */
    feed(sc, "sales9", "10.0.0.66", "s9", "customer.read", "allow", "cus_a", NULL, "name,phone",
         T0 + 10 * S);
    feed(sc, "sales9", "10.0.0.66", "s9", "customer.read", "deny", "cus_c", NULL, NULL,
         T0 + 11 * S); /* denied: nothing disclosed */
    feed(sc, "sales9", "10.0.0.66", "s9", "customer.search", "allow", NULL, "cus_a,cus_b,cus_h",
         "name,id_number", T0 + 12 * S);
    feed(sc, "sales9", "10.0.0.66", "s9", "transaction.read", "allow", "cus_b", NULL, NULL,
         T0 + 13 * S);
    feed(sc, "sales9", "10.0.0.66", "s9", "customer.update", "allow", "cus_d", NULL, "phone",
         T0 + 14 * S); /* a write: nothing read */
    feed(sc, "sales1", "10.0.0.5", "s1", "customer.read", "allow", "cus_e", NULL, "name",
         T0 + 15 * S); /* someone else */
    feed(sc, "key:erp", "10.0.0.66", "k1", "customer.export.page", "allow", NULL, "cus_f", NULL,
         T0 + 16 * S); /* same address, a key: an export page, every field */
    feed(sc, "sales9", "10.0.0.66", "s9", "customer.read", "allow", "cus_g", NULL, "name",
         T0 + 5000 * S); /* outside the window, when there is one */
    json_t *r = NULL;
    scope_facts f = {NULL, facts};
    EXPECT_OK(scope_result(sc, &f, slice_cstr("note\n"), 8, &r));
    scope_free(sc);
    return r;
}

static json_t *cust(json_t *r, const char *id)
{
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(r, "customers"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0) {
            return c;
        }
    }
    return NULL;
}

static char *list(json_t *c, const char *k)
{
    return json_dumps(json_object_get(c, k), JSON_COMPACT);
}

TEST(t_actor_in_window)
{
    scope_query q = {
        .actors = {"sales9"}, .nactors = 1, .windows = {{T0, T0 + 3600 * S}}, .nwindows = 1};
    json_t *r = run(&q);
    if (!r) {
        return;
    }
    EXPECT_INT(json_array_size(json_object_get(r, "customers")), 3); /* a, b, h */
    json_t *a = cust(r, "cus_a"), *b = cust(r, "cus_b"), *h = cust(r, "cus_h");
    EXPECT(a && b && h);
    EXPECT(cust(r, "cus_c") == NULL && cust(r, "cus_d") == NULL && cust(r, "cus_g") == NULL);
    char *s;
    EXPECT_STR(s = list(a, "fields"), "[\"name\",\"id_number\",\"phone\"]");
    free(s);
    EXPECT_STR(s = list(b, "fields"), "[\"name\",\"id_number\"]");
    free(s);
    EXPECT_STR(s = list(b, "categories"), "[\"identity\",\"transactions\"]");
    free(s);
    EXPECT_STR(json_string_value(json_object_get(b, "department")), "beijing");
    EXPECT_INT(json_integer_value(json_object_get(a, "entries")), 2);
    EXPECT_INT(json_integer_value(json_object_get(a, "first_us")), T0 + 10 * S);
    EXPECT_INT(json_integer_value(json_object_get(a, "last_us")), T0 + 12 * S);
    EXPECT_STR(s = json_dumps(json_object_get(r, "honeytokens"), JSON_COMPACT), "[\"cus_h\"]");
    free(s);
    EXPECT_STR(s = json_dumps(json_object_get(r, "entries"), JSON_COMPACT), "[0,2,3]");
    free(s);
    json_t *counts = json_object_get(r, "counts");
    EXPECT_STR(s = json_dumps(counts, JSON_COMPACT | JSON_SORT_KEYS),
               "{\"by_category\":{\"contact\":1,\"identity\":3,\"transactions\":1},"
               "\"by_department\":{\"beijing\":1,\"shanghai\":2},"
               "\"by_field\":{\"id_number\":3,\"name\":3,\"phone\":1},\"customers\":3}");
    free(s);
    json_decref(r);
}

TEST(t_address_and_no_window)
{
    /* By address, whole log: the key's export page from the same address counts too, with every
     * field; the later read counts without a window. */
    scope_query q = {.sources = {"10.0.0.66"}, .nsources = 1};
    json_t *r = run(&q);
    if (!r) {
        return;
    }
    EXPECT_INT(json_array_size(json_object_get(r, "customers")), 5); /* a b h f g */
    json_t *f = cust(r, "cus_f");
    EXPECT(f != NULL);
    if (f) {
        EXPECT_INT(json_array_size(json_object_get(f, "fields")), 13); /* every field */
    }
    json_decref(r);
    /* By the session hash of the key alone. */
    scope_query k = {.sessions = {"k1"}, .nsessions = 1};
    r = run(&k);
    EXPECT_INT(json_array_size(json_object_get(r, "customers")), 1);
    json_decref(r);
}

TEST(t_reproducible)
{
    scope_query q = {.actors = {"sales9"}, .nactors = 1, .sources = {"10.0.0.66"}, .nsources = 1};
    json_t *r1 = run(&q), *r2 = run(&q);
    char *a = json_dumps(r1, JSON_COMPACT | JSON_SORT_KEYS);
    char *b = json_dumps(r2, JSON_COMPACT | JSON_SORT_KEYS);
    EXPECT_STR(a, b);
    EXPECT(strstr(a, "\"checkpoint\":\"note\\n\"") != NULL);
    free(a);
    free(b);
    json_decref(r1);
    json_decref(r2);
}

TEST(t_refusals)
{
    scope_query none = {0};
    scope *sc = NULL;
    EXPECT_ERR(scope_new(&none, &sc), ERR_INPUT);
    scope_query back = {.actors = {"x"}, .nactors = 1, .windows = {{T0, T0 - 1}}, .nwindows = 1};
    EXPECT_ERR(scope_new(&back, &sc), ERR_INPUT);
    scope_query q = {.actors = {"x"}, .nactors = 1};
    EXPECT_OK(scope_new(&q, &sc));
    EXPECT_ERR(scope_add(sc, 0, slice_cstr("not json")), ERR_INPUT);
    EXPECT_ERR(scope_add(sc, 0, slice_cstr("{\"action\":\"customer.read\"}")), ERR_INPUT);
    scope_free(sc);
    /* Many customers: the table grows and keeps every one. */
    EXPECT_OK(scope_new(&q, &sc));
    next = 0;
    for (int i = 0; i < 5000; i++) {
        char id[32];
        snprintf(id, sizeof id, "cus_%06d", i);
        feed(sc, "x", "1.2.3.4", NULL, "customer.read", "allow", id, NULL, "name", T0 + i);
    }
    EXPECT_INT(scope_customers(sc), 5000);
    scope_free(sc);
}

int main(void)
{
    RUN(t_actor_in_window);
    RUN(t_address_and_no_window);
    RUN(t_reproducible);
    RUN(t_refusals);
    return test_done("scope_test");
}
