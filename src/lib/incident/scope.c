/*
 * scope.c - the breach scope from the audit log (scope.h).
 *
 * Each entry is read with jansson; an allowed entry of a reading action whose actor, session or
 * source is one of the query's, inside one of its windows, adds its customers (one, or the
 * comma-separated list of a search or an export page) with the fields it names (every field
 * when it names none) and the record category it names. Customers are kept in an
 * open-addressing table by id and written out sorted, so the same entries give the same bytes.
 */
#include "incident/scope.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "model/model.h"

#define ID_MAX 40

/* What the caller was shown. Creating and updating disclose nothing that was there before.
 * A notice previewed for one customer shows the name; an SMS or post export hands out the
 * names with the phones or addresses (its entry names the customers and fields). */
static const char *const READS[] = {
    "customer.read",    "customer.search",    "customer.list",      "customer.export.page",
    "transaction.read", "communication.read", "incident.documents", "incident.notices.export"};

bool scope_action_reads(const char *action)
{
    for (size_t i = 0; i < sizeof READS / sizeof READS[0]; i++) {
        if (strcmp(action, READS[i]) == 0) {
            return true;
        }
    }
    return false;
}

typedef struct hit {
    char id[ID_MAX + 1];
    uint32_t fields;     /* bit per customer field */
    uint32_t categories; /* bit per category */
    int64_t first_us, last_us;
    uint64_t entries;
} hit;

struct scope {
    scope_query q;
    char *strs; /* copies of the query's strings */
    hit *tab;
    size_t cap, n;
    uint64_t *idx;
    size_t nidx, capidx;
};

static char *dup_into(char **at, const char *s)
{
    size_t n = strlen(s) + 1;
    memcpy(*at, s, n);
    char *r = *at;
    *at += n;
    return r;
}

err scope_new(const scope_query *q, scope **out)
{
    ENSURE(q->nactors <= SCOPE_MAX_TERMS && q->nsessions <= SCOPE_MAX_TERMS &&
               q->nsources <= SCOPE_MAX_TERMS && q->nwindows <= SCOPE_MAX_WINDOWS,
           ERR_INPUT, "scope: too many terms");
    ENSURE(q->nactors + q->nsessions + q->nsources > 0, ERR_INPUT,
           "scope: name at least one actor, API key or session, or address");
    size_t total = 0;
    const char *const *lists[3] = {q->actors, q->sessions, q->sources};
    size_t ns[3] = {q->nactors, q->nsessions, q->nsources};
    for (int l = 0; l < 3; l++) {
        for (size_t i = 0; i < ns[l]; i++) {
            ENSURE(lists[l][i] && lists[l][i][0] && strlen(lists[l][i]) < 256, ERR_INPUT,
                   "scope: an empty or overlong term");
            total += strlen(lists[l][i]) + 1;
        }
    }
    for (size_t i = 0; i < q->nwindows; i++) {
        ENSURE(q->windows[i].from_us >= 0 &&
                   (q->windows[i].to_us == 0 || q->windows[i].to_us >= q->windows[i].from_us),
               ERR_INPUT, "scope: window %zu ends before it begins", i + 1);
    }
    scope *s = calloc(1, sizeof *s);
    ENSURE(s != NULL, ERR_INTERNAL, "out of memory");
    s->q = *q;
    s->strs = malloc(total ? total : 1);
    s->cap = 1024;
    s->tab = calloc(s->cap, sizeof *s->tab);
    if (!s->strs || !s->tab) {
        scope_free(s);
        BAIL(ERR_INTERNAL, "out of memory");
    }
    char *at = s->strs;
    for (size_t i = 0; i < q->nactors; i++) {
        s->q.actors[i] = dup_into(&at, q->actors[i]);
    }
    for (size_t i = 0; i < q->nsessions; i++) {
        s->q.sessions[i] = dup_into(&at, q->sessions[i]);
    }
    for (size_t i = 0; i < q->nsources; i++) {
        s->q.sources[i] = dup_into(&at, q->sources[i]);
    }
    *out = s;
    return ERR_OK;
}

void scope_free(scope *s)
{
    if (s) {
        free(s->strs);
        free(s->tab);
        free(s->idx);
        free(s);
    }
}

static uint64_t fnv(const char *p)
{
    uint64_t h = 1469598103934665603ull;
    for (; *p; p++) {
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    }
    return h;
}

static hit *slot(hit *tab, size_t cap, const char *id)
{
    for (size_t i = fnv(id) & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (tab[i].id[0] == 0 || strcmp(tab[i].id, id) == 0) {
            return &tab[i];
        }
    }
}

static err grow(scope *s)
{
    size_t cap = s->cap * 2;
    hit *t = calloc(cap, sizeof *t);
    ENSURE(t != NULL, ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < s->cap; i++) {
        if (s->tab[i].id[0]) {
            *slot(t, cap, s->tab[i].id) = s->tab[i];
        }
    }
    free(s->tab);
    s->tab = t;
    s->cap = cap;
    return ERR_OK;
}

static err touch(scope *s, const char *id, size_t len, uint32_t fields, uint32_t cats, int64_t ts)
{
    ENSURE(len > 0 && len <= ID_MAX, ERR_INPUT, "scope: a customer id out of shape");
    char key[ID_MAX + 1];
    memcpy(key, id, len);
    key[len] = 0;
    if ((s->n + 1) * 4 > s->cap * 3) {
        TRY(grow(s));
    }
    hit *h = slot(s->tab, s->cap, key);
    if (h->id[0] == 0) {
        memcpy(h->id, key, len + 1);
        h->first_us = ts;
        s->n++;
    }
    h->fields |= fields;
    h->categories |= cats;
    h->last_us = ts > h->last_us ? ts : h->last_us;
    h->first_us = ts < h->first_us ? ts : h->first_us;
    h->entries++;
    return ERR_OK;
}

static bool in_list(const char *v, const char *const *list, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        if (strcmp(v, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The fields an entry names ("name,phone"), as bits of customer fields and their categories. */
static void field_bits(const char *list, uint32_t *fields, uint32_t *cats)
{
    if (list == NULL) {
        *fields = (1u << CF__COUNT) - 1;
        for (int f = 0; f < CF__COUNT; f++) {
            *cats |= 1u << model_field(REC_CUSTOMER, f)->cat;
        }
        return;
    }
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int f = model_field_index(REC_CUSTOMER, p, n);
        if (f >= 0) {
            *fields |= 1u << f;
            *cats |= 1u << model_field(REC_CUSTOMER, f)->cat;
        }
        p += n + (e ? 1 : 0);
    }
}

err scope_add(scope *s, uint64_t index, slice entry)
{
    json_error_t je;
    json_t *o = json_loadb((const char *)entry.p, entry.len, 0, &je);
    err rc = ERR_OK;
    CHECK(json_is_object(o), ERR_INPUT, "scope: entry %llu is not an audit entry",
          (unsigned long long)index);
    const char *action = str(o, "action"), *decision = str(o, "decision"), *ts = str(o, "ts");
    CHECK(action && decision && ts, ERR_INPUT, "scope: entry %llu lacks action, decision or time",
          (unsigned long long)index);
    if (strcmp(decision, "allow") != 0 || !scope_action_reads(action)) {
        goto out;
    }
    bool who = in_list(str(o, "actor"), s->q.actors, s->q.nactors) ||
               in_list(str(o, "session"), s->q.sessions, s->q.nsessions) ||
               in_list(str(o, "source"), s->q.sources, s->q.nsources);
    if (!who) {
        goto out;
    }
    int64_t t;
    CHECK(clock_parse_rfc3339(ts, &t) == ERR_OK, ERR_INPUT, "scope: entry %llu has a bad time",
          (unsigned long long)index);
    if (s->q.nwindows) {
        bool inside = false;
        for (size_t i = 0; i < s->q.nwindows; i++) {
            inside |= t >= s->q.windows[i].from_us &&
                      (s->q.windows[i].to_us == 0 || t <= s->q.windows[i].to_us);
        }
        if (!inside) {
            goto out;
        }
    }
    uint32_t fields = 0, cats = 0;
    bool records =
        strcmp(action, "transaction.read") == 0 || strcmp(action, "communication.read") == 0;
    if (records) {
        cats =
            1u << (strcmp(action, "transaction.read") == 0 ? CAT_TRANSACTIONS : CAT_COMMUNICATIONS);
    } else {
        field_bits(str(o, "fields"), &fields, &cats);
    }
    bool any = false;
    const char *one = str(o, "customer"), *many = str(o, "customers");
    if (one) {
        GUARD(touch(s, one, strlen(one), fields, cats, t));
        any = true;
    }
    for (const char *p = many; p && *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        GUARD(touch(s, p, n, fields, cats, t));
        any = true;
        p += n + (e ? 1 : 0);
    }
    if (any) {
        if (s->nidx == s->capidx) {
            size_t c = s->capidx ? s->capidx * 2 : 256;
            uint64_t *n = realloc(s->idx, c * sizeof *n);
            CHECK(n != NULL, ERR_INTERNAL, "out of memory");
            s->idx = n, s->capidx = c;
        }
        CHECK(s->nidx == 0 || index > s->idx[s->nidx - 1], ERR_INPUT,
              "scope: entries must come in index order");
        s->idx[s->nidx++] = index;
    }
out:
    json_decref(o);
    return rc;
}

const uint64_t *scope_entries(const scope *s, size_t *n)
{
    *n = s->nidx;
    return s->idx;
}

size_t scope_customers(const scope *s)
{
    return s->n;
}

static int cmp_hit(const void *a, const void *b)
{
    return strcmp(((const hit *)a)->id, ((const hit *)b)->id);
}

static json_t *terms(const char *const *l, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(a, json_string(l[i]));
    }
    return a;
}

static void bump(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    json_object_set_new(o, k, json_integer(v ? json_integer_value(v) + 1 : 1));
}

err scope_result(const scope *s, const scope_facts *f, slice note, uint64_t size, json_t **out)
{
    hit *all = malloc((s->n ? s->n : 1) * sizeof *all);
    ENSURE(all != NULL, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < s->cap; i++) {
        if (s->tab[i].id[0]) {
            all[n++] = s->tab[i];
        }
    }
    qsort(all, n, sizeof *all, cmp_hit);
    json_t *customers = json_array(), *honey = json_array(), *bycat = json_object(),
           *bydept = json_object(), *byfield = json_object(), *wins = json_array(),
           *idx = json_array();
    err rc = ERR_OK;
    for (size_t i = 0; i < n; i++) {
        char dept[80] = "";
        bool ht = false, erased = false;
        if (f && f->customer) {
            GUARD(f->customer(f->ctx, all[i].id, dept, sizeof dept, &ht, &erased));
        }
        json_t *fl = json_array(), *cl = json_array();
        for (int k = 0; k < CF__COUNT; k++) {
            if (all[i].fields & (1u << k)) {
                json_array_append_new(fl, json_string(model_field(REC_CUSTOMER, k)->name));
                bump(byfield, model_field(REC_CUSTOMER, k)->name);
            }
        }
        for (int c = 0; c < CAT__COUNT; c++) {
            if (all[i].categories & (1u << c)) {
                json_array_append_new(cl, json_string(category_name((category)c)));
                bump(bycat, category_name((category)c));
            }
        }
        bump(bydept, dept[0] ? dept : "(unknown)");
        if (ht) {
            json_array_append_new(honey, json_string(all[i].id));
        }
        json_array_append_new(
            customers,
            json_pack("{s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:b, s:b}", "id", all[i].id,
                      "department", dept, "fields", fl, "categories", cl, "entries",
                      (json_int_t)all[i].entries, "first_us", (json_int_t)all[i].first_us,
                      "last_us", (json_int_t)all[i].last_us, "honeytoken", ht, "erased", erased));
    }
    for (size_t i = 0; i < s->q.nwindows; i++) {
        json_array_append_new(wins, json_pack("{s:I, s:I}", "from_us",
                                              (json_int_t)s->q.windows[i].from_us, "to_us",
                                              (json_int_t)s->q.windows[i].to_us));
    }
    for (size_t i = 0; i < s->nidx; i++) {
        json_array_append_new(idx, json_integer((json_int_t)s->idx[i]));
    }
    json_t *query = json_pack("{s:o, s:o, s:o, s:o}", "actors", terms(s->q.actors, s->q.nactors),
                              "sessions", terms(s->q.sessions, s->q.nsessions), "sources",
                              terms(s->q.sources, s->q.nsources), "windows", wins);
    wins = NULL;
    *out = json_pack("{s:s%, s:I, s:o, s:o, s:o, s:{s:I, s:o, s:o, s:o}, s:o}", "checkpoint",
                     (const char *)note.p, note.len, "size", (json_int_t)size, "query", query,
                     "entries", idx, "customers", customers, "counts", "customers", (json_int_t)n,
                     "by_category", bycat, "by_department", bydept, "by_field", byfield,
                     "honeytokens", honey);
    customers = honey = bycat = bydept = byfield = idx = NULL;
    CHECK(*out != NULL, ERR_INTERNAL, "scope: cannot encode the result");
out:
    json_decref(customers);
    json_decref(honey);
    json_decref(bycat);
    json_decref(bydept);
    json_decref(byfield);
    json_decref(wins);
    json_decref(idx);
    free(all);
    return rc;
}
