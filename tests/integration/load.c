/*
 * load.c - the write load and its ledger (load.h).
 */
#include "load.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define SHARED_CUSTOMERS 4
#define MAX_PEND 16
#define MAX_WRITERS 32
#define IMPORT_ROWS 3

/* ---- a keep-alive HTTPS client per thread ---- */

typedef struct cl {
    CURL *h;
    srv *s;
    buf body;
    char reqid[64];
} cl;

static size_t cl_body(char *p, size_t sz, size_t n, void *ud)
{
    return buf_append(ud, p, sz * n) == ERR_OK ? sz * n : 0;
}

static size_t cl_header(char *p, size_t sz, size_t n, void *ud)
{
    cl *c = ud;
    size_t k = sz * n;
    if (k > 13 && strncasecmp(p, "x-request-id:", 13) == 0) {
        size_t i = 13;
        while (i < k && p[i] == ' ') {
            i++;
        }
        size_t j = i;
        while (j < k && p[j] != '\r' && p[j] != '\n' && j - i < sizeof c->reqid - 1) {
            j++;
        }
        memcpy(c->reqid, p + i, j - i);
        c->reqid[j - i] = '\0';
    }
    return k;
}

static void cl_init(cl *c, srv *s)
{
    memset(c, 0, sizeof *c);
    c->h = curl_easy_init();
    c->s = s;
    buf_init(&c->body, (size_t)1 << 28);
}

static void cl_free(cl *c)
{
    curl_easy_cleanup(c->h);
    buf_free(&c->body);
}

/* One request; the answer's JSON in *out (may be NULL); 0 on transport failure. */
static int cl_req(cl *c, const char *method, const char *path, const char *token, const char *ctype,
                  const char *body, size_t blen, json_t **out)
{
    char url[2048], auth[128], ct[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%u%s", c->s->port, path);
    struct curl_slist *hdr = NULL;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    if (ctype) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        hdr = curl_slist_append(hdr, ct);
    }
    hdr = curl_slist_append(hdr, "Expect:");
    buf_reset(&c->body);
    c->reqid[0] = '\0';
    CURL *h = c->h;
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_CAINFO, c->s->cacert);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cl_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, cl_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? blen : 0));
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    }
    CURLcode r = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    if (out) {
        *out = r == CURLE_OK ? json_loadb((const char *)c->body.p, c->body.len, 0, NULL) : NULL;
    }
    return r == CURLE_OK ? (int)code : 0;
}

static int cl_json(cl *c, const char *method, const char *path, const char *token, json_t *body,
                   json_t **out)
{
    char *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
    int st =
        cl_req(c, method, path, token, b ? "application/json" : NULL, b, b ? strlen(b) : 0, out);
    free(b);
    return st;
}

/* ---- the ledger ---- */

typedef struct tri {
    char phone[16], email[48], notes[48];
} tri;

typedef struct rec {
    char id[40];
    char text[64];
    long long price; /* transactions */
} rec;

typedef struct aud {
    char req[64];
    char action[32];
} aud;

enum { K_OWN, K_SHARED, K_IMPORTED };

typedef struct cust {
    char id[40];
    int kind;
    char name[48];
    tri cur;            /* the last acknowledged value (or what a check found) */
    tri pend[MAX_PEND]; /* sent since, not acknowledged */
    int npend;
    rec *txn, *com;
    size_t ntxn, ncom, captxn, capcom;
    aud *aud;
    size_t naud, capaud, aud_checked; /* entries found so far (each is checked once per pass) */
    bool dirty, casualty;
    bool rotate_500; /* a rotation answered 500 (the race's aftermath, when tolerated) */
} cust;

typedef struct import {
    char req[64];
    bool acked, resolved;
    char name[IMPORT_ROWS][48];
    tri row[IMPORT_ROWS];
} import;

typedef struct wctx {
    load *L;
    int n;
    unsigned seed;
    cust **own;
    size_t nown, capown;
    pthread_t t;
} wctx;

struct load {
    srv *s;
    load_opts o;
    char tok[64], tok_aud[64];
    pthread_mutex_t mu; /* the arrays below and every cust's records and audits */
    cust **c;
    size_t nc, capc;
    cust *shared[SHARED_CUSTOMERS];
    import *imp;
    size_t nimp, capimp;
    atomic_uint_fast64_t seq;
    atomic_uint_fast64_t acked, refused, transport, unexpected, run_acked;
    atomic_int running;
    atomic_bool stop;
    uint64_t checked, audit_checked, lost, half, casualties;
    wctx w[MAX_WRITERS];
    wctx rot;
    int ncp;
};

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return p;
    }
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need) {
        nc *= 2;
    }
    void *q = realloc(p, nc * elem);
    if (!q) {
        abort();
    }
    *cap = nc;
    return q;
}

static void add_aud(load *L, cust *c, const char *req, const char *action)
{
    pthread_mutex_lock(&L->mu);
    c->aud = grow(c->aud, &c->capaud, c->naud + 1, sizeof *c->aud);
    snprintf(c->aud[c->naud].req, sizeof c->aud[c->naud].req, "%s", req);
    snprintf(c->aud[c->naud].action, sizeof c->aud[c->naud].action, "%s", action);
    c->naud++;
    c->dirty = true;
    pthread_mutex_unlock(&L->mu);
}

static cust *add_cust(load *L, const char *id, int kind, const char *name, const tri *t)
{
    cust *c = calloc(1, sizeof *c);
    if (!c) {
        abort();
    }
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->kind = kind;
    c->cur = *t;
    c->dirty = true;
    pthread_mutex_lock(&L->mu);
    L->c = grow(L->c, &L->capc, L->nc + 1, sizeof *L->c);
    L->c[L->nc++] = c;
    pthread_mutex_unlock(&L->mu);
    return c;
}

static void make_tri(load *L, tri *t)
{
    uint64_t n = atomic_fetch_add(&L->seq, 1) + 1;
    snprintf(t->phone, sizeof t->phone, "13%09llu", (unsigned long long)(n % 1000000000ull));
    snprintf(t->email, sizeof t->email, "c%llu@example.org", (unsigned long long)n);
    snprintf(t->notes, sizeof t->notes, "note %llu", (unsigned long long)n);
}

static bool tri_eq(const tri *a, const tri *b)
{
    return !strcmp(a->phone, b->phone) && !strcmp(a->email, b->email) &&
           !strcmp(a->notes, b->notes);
}

/* 2xx: 1; no answer: 0; a refusal or anything else: -1 (counted). */
static int outcome(load *L, int st, const char *what)
{
    if (st >= 200 && st < 300) {
        atomic_fetch_add(&L->acked, 1);
        atomic_fetch_add(&L->run_acked, 1);
        return 1;
    }
    if (st == 0) {
        atomic_fetch_add(&L->transport, 1);
        return 0;
    }
    if ((st == 503 && L->o.allow_503) || (st == 500 && L->o.allow_500)) {
        atomic_fetch_add(&L->refused, 1);
        return -1;
    }
    if (atomic_fetch_add(&L->unexpected, 1) < 10) {
        printf("    unexpected %d for %s\n", st, what);
    }
    return -1;
}

/* ---- the writers' operations ---- */

static int op_create(load *L, wctx *w, cl *c)
{
    tri t;
    make_tri(L, &t);
    char name[48];
    snprintf(name, sizeof name, "压测客户%llu", (unsigned long long)atomic_load(&L->seq));
    json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "phone", t.phone, "email", t.email,
                          "notes", t.notes);
    json_t *r = NULL;
    int st = cl_json(c, "POST", "/v1/customers", L->tok, b, &r);
    json_decref(b);
    int o = outcome(L, st, "customer create");
    const char *id = json_string_value(json_object_get(r, "id"));
    if (o == 1 && id) {
        cust *cu = add_cust(L, id, K_OWN, name, &t);
        add_aud(L, cu, c->reqid, "customer.create");
        w->own = grow(w->own, &w->capown, w->nown + 1, sizeof *w->own);
        w->own[w->nown++] = cu;
    }
    json_decref(r);
    return o;
}

static int op_update(load *L, wctx *w, cl *c)
{
    cust *cu = w->own[(size_t)rand_r(&w->seed) % w->nown];
    tri t;
    make_tri(L, &t);
    if (cu->npend < MAX_PEND) {
        cu->pend[cu->npend++] = t;
    } else {
        return -1; /* too many unanswered updates on one customer: leave it be */
    }
    cu->dirty = true;
    json_t *b = json_pack("{s:s, s:s, s:s}", "phone", t.phone, "email", t.email, "notes", t.notes);
    char path[128];
    snprintf(path, sizeof path, "/v1/customers/%s", cu->id);
    int st = cl_json(c, "PATCH", path, L->tok, b, NULL);
    json_decref(b);
    int o = outcome(L, st, "customer update");
    if (o == 1) {
        cu->cur = t;
        cu->npend = 0;
        add_aud(L, cu, c->reqid, "customer.update");
    }
    return o;
}

static int op_record(load *L, wctx *w, cl *c, bool txn)
{
    cust *cu = (w->nown == 0 || rand_r(&w->seed) % 2)
                   ? L->shared[rand_r(&w->seed) % SHARED_CUSTOMERS]
                   : w->own[(size_t)rand_r(&w->seed) % w->nown];
    uint64_t n = atomic_fetch_add(&L->seq, 1) + 1;
    char text[64];
    json_t *b;
    if (txn) {
        snprintf(text, sizeof text, "清乾隆 粉彩碗 %llu", (unsigned long long)n);
        b = json_pack("{s:s, s:s, s:I, s:s}", "date", "2026-03-01", "description", text, "price",
                      (json_int_t)(n * 100), "currency", "CNY");
    } else {
        snprintf(text, sizeof text, "来电询价 %llu", (unsigned long long)n);
        b = json_pack("{s:s, s:s, s:s}", "at", "2026-03-01T10:00:00Z", "channel", "phone",
                      "summary", text);
    }
    char path[128];
    snprintf(path, sizeof path, "/v1/customers/%s/%s", cu->id,
             txn ? "transactions" : "communications");
    json_t *r = NULL;
    int st = cl_json(c, "POST", path, L->tok, b, &r);
    json_decref(b);
    int o = outcome(L, st, txn ? "transaction create" : "communication create");
    const char *id = json_string_value(json_object_get(r, "id"));
    if (o == 1 && id) {
        pthread_mutex_lock(&L->mu);
        rec **arr = txn ? &cu->txn : &cu->com;
        size_t *n_ = txn ? &cu->ntxn : &cu->ncom;
        *arr = grow(*arr, txn ? &cu->captxn : &cu->capcom, *n_ + 1, sizeof **arr);
        rec *x = &(*arr)[(*n_)++];
        snprintf(x->id, sizeof x->id, "%s", id);
        snprintf(x->text, sizeof x->text, "%s", text);
        x->price = (long long)(n * 100);
        pthread_mutex_unlock(&L->mu);
        add_aud(L, cu, c->reqid, txn ? "transaction.create" : "communication.create");
    }
    json_decref(r);
    return o;
}

static int op_rotate(load *L, cust *cu, cl *c)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/customers/%s/rotate-key", cu->id);
    int st = cl_req(c, "POST", path, L->tok, NULL, NULL, 0, NULL);
    if (st == 500 && cu->kind == K_SHARED && L->o.tolerate_rotate_record_race) {
        /* A customer the race made unreadable cannot be rotated either; load_verify
         * checks that it is one. */
        pthread_mutex_lock(&L->mu);
        cu->rotate_500 = true;
        cu->dirty = true;
        pthread_mutex_unlock(&L->mu);
        atomic_fetch_add(&L->refused, 1);
        return -1;
    }
    int o = outcome(L, st, "rotate-key");
    if (o == 1) {
        add_aud(L, cu, c->reqid, "customer.rotate_key");
    } else {
        pthread_mutex_lock(&L->mu);
        cu->dirty = true;
        pthread_mutex_unlock(&L->mu);
    }
    return o;
}

static int op_import(load *L, wctx *w, cl *c)
{
import im;
    memset(&im, 0, sizeof im);
    buf csv;
    buf_init(&csv, 1 << 16);
    IGNORE(buf_append_str(&csv, "name,phone,email,notes\n"));
    for (int i = 0; i < IMPORT_ROWS; i++) {
        make_tri(L, &im.row[i]);
        char digits[16];
        memcpy(digits, im.row[i].phone, sizeof digits);
        snprintf(im.name[i], sizeof im.name[i], "导入客户%s", digits + 2);
        char line[256];
        snprintf(line, sizeof line, "%s,%s,%s,%s\n", im.name[i], im.row[i].phone, im.row[i].email,
                 im.row[i].notes);
        IGNORE(buf_append_str(&csv, line));
    }
    json_t *r = NULL;
    int st = cl_req(c, "POST", "/v1/import", L->tok, "text/csv", (const char *)csv.p, csv.len, &r);
    buf_free(&csv);
    int o = outcome(L, st, "import");
    if (o == 1 && json_integer_value(json_object_get(r, "created")) != IMPORT_ROWS) {
        printf("    import acknowledged with created=%lld\n",
               (long long)json_integer_value(json_object_get(r, "created")));
        atomic_fetch_add(&L->unexpected, 1);
    }
    json_decref(r);
    im.acked = o == 1;
    snprintf(im.req, sizeof im.req, "%s", c->reqid);
    pthread_mutex_lock(&L->mu);
    L->imp = grow(L->imp, &L->capimp, L->nimp + 1, sizeof *L->imp);
    L->imp[L->nimp++] = im;
    pthread_mutex_unlock(&L->mu);
    return o;
}

static void *writer_main(void *arg)
{
    wctx *w = arg;
    load *L = w->L;
    cl c;
    cl_init(&c, L->s);
    while (!atomic_load(&L->stop)) {
        int r = rand_r(&w->seed) % 100, o;
        if (w->nown < 2 || r < 10) {
            o = op_create(L, w, &c);
        } else if (r < 40) {
            o = op_update(L, w, &c);
        } else if (r < 62) {
            o = op_record(L, w, &c, true);
        } else if (r < 82) {
            o = op_record(L, w, &c, false);
        } else if (r < 92) {
            o = op_rotate(L, w->own[(size_t)rand_r(&w->seed) % w->nown], &c);
        } else {
            o = op_import(L, w, &c);
        }
        if (o == 0 && L->o.stop_on_transport) {
            break;
        }
    }
    cl_free(&c);
    atomic_fetch_sub(&L->running, 1);
    return NULL;
}

static void *rotator_main(void *arg)
{
    wctx *w = arg;
    load *L = w->L;
    cl c;
    cl_init(&c, L->s);
    while (!atomic_load(&L->stop)) {
        int o = op_rotate(L, L->shared[rand_r(&w->seed) % SHARED_CUSTOMERS], &c);
        if (o == 0 && L->o.stop_on_transport) {
            break;
        }
    }
    cl_free(&c);
    atomic_fetch_sub(&L->running, 1);
    return NULL;
}

/* ---- the public side ---- */

load *load_new(srv *s, const load_opts *o)
{
    load *L = calloc(1, sizeof *L);
    if (!L) {
        abort();
    }
    L->s = s;
    L->o = *o;
    if (L->o.writers > MAX_WRITERS) {
        L->o.writers = MAX_WRITERS;
    }
    pthread_mutex_init(&L->mu, NULL);
    atomic_store(&L->seq, (uint64_t)(o->seed % 100000) * 10000);
    for (int i = 0; i < MAX_WRITERS; i++) {
        L->w[i].L = L;
        L->w[i].n = i;
        L->w[i].seed = o->seed * 7919u + (unsigned)i;
    }
    L->rot.L = L;
    L->rot.seed = o->seed * 31u + 1000u;
    return L;
}

void load_free(load *L)
{
    for (size_t i = 0; i < L->nc; i++) {
        free(L->c[i]->txn);
        free(L->c[i]->com);
        free(L->c[i]->aud);
        free(L->c[i]);
    }
    free(L->c);
    free(L->imp);
    for (int i = 0; i < MAX_WRITERS; i++) {
        free(L->w[i].own);
    }
    pthread_mutex_destroy(&L->mu);
    free(L);
}

load_opts *load_options(load *L)
{
    return &L->o;
}

bool load_login(load *L)
{
    /* A login writes a session and an audit entry: under injected faults it may be refused
     * a few times. */
    bool in = false;
    for (int i = 0; i < 20 && !in; i++) {
        in = h_login(L->s, "steward1", DEMO_PW, L->tok) &&
             h_login(L->s, "auditor1", DEMO_PW, L->tok_aud);
    }
    if (!in) {
        return false;
    }
    if (L->shared[0]) {
        return true;
    }
    cl c;
    cl_init(&c, L->s);
    bool ok = true;
    for (int i = 0; i < SHARED_CUSTOMERS && ok; i++) {
        tri t;
        make_tri(L, &t);
        char name[48];
        snprintf(name, sizeof name, "共享客户%d", i);
        json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "phone", t.phone, "email",
                              t.email, "notes", t.notes);
        json_t *r = NULL;
        int st = cl_json(&c, "POST", "/v1/customers", L->tok, b, &r);
        json_decref(b);
        const char *id = json_string_value(json_object_get(r, "id"));
        ok = st == 201 && id;
        if (ok) {
            L->shared[i] = add_cust(L, id, K_SHARED, name, &t);
            add_aud(L, L->shared[i], c.reqid, "customer.create");
            atomic_fetch_add(&L->acked, 1);
        }
        json_decref(r);
    }
    cl_free(&c);
    return ok;
}

void load_start(load *L)
{
    atomic_store(&L->stop, false);
    atomic_store(&L->run_acked, 0);
    atomic_store(&L->running, L->o.writers + (L->o.rotator ? 1 : 0));
    for (int i = 0; i < L->o.writers; i++) {
        pthread_create(&L->w[i].t, NULL, writer_main, &L->w[i]);
    }
    if (L->o.rotator) {
        pthread_create(&L->rot.t, NULL, rotator_main, &L->rot);
    }
}

bool load_wait_acks(load *L, uint64_t n, int timeout_s)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (atomic_load(&L->run_acked) >= n) {
            return true;
        }
        if (atomic_load(&L->running) == 0) {
            return false;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec >= timeout_s) {
            return false;
        }
        usleep(2000); /* polling a counter, with a deadline */
    }
}

void load_stop(load *L)
{
    atomic_store(&L->stop, true);
    for (int i = 0; i < L->o.writers; i++) {
        pthread_join(L->w[i].t, NULL);
    }
    if (L->o.rotator) {
        pthread_join(L->rot.t, NULL);
    }
}

load_counts load_get_counts(load *L)
{
    load_counts k = {
        .acked = atomic_load(&L->acked),
        .refused = atomic_load(&L->refused),
        .transport = atomic_load(&L->transport),
        .unexpected = atomic_load(&L->unexpected),
        .checked = L->checked,
        .audit_checked = L->audit_checked,
        .lost = L->lost,
        .half = L->half,
        .race_casualties = L->casualties,
        .customers = L->nc,
    };
    return k;
}

bool load_save_checkpoint(load *L, char *out, size_t max)
{
    json_t *j = NULL;
    int st = h_json(L->s, "GET", "/v1/audit/checkpoint", L->tok_aud, NULL, &j);
    const char *note = json_string_value(json_object_get(j, "checkpoint"));
    bool ok = st == 200 && note;
    if (ok) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s", L->s->log);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
        }
        snprintf(out, max, "%s/checkpoint-%03d.txt", dir, L->ncp++);
        FILE *f = fopen(out, "w");
        ok = f && fputs(note, f) >= 0;
        if (f) {
            fclose(f);
        }
    }
    json_decref(j);
    return ok;
}

/* ---- verification ---- */

static const char *jstr(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static bool tri_of(json_t *o, tri *t)
{
    snprintf(t->phone, sizeof t->phone, "%s", jstr(o, "phone"));
    snprintf(t->email, sizeof t->email, "%s", jstr(o, "email"));
    snprintf(t->notes, sizeof t->notes, "%s", jstr(o, "notes"));
    return true;
}

/* A field of t equals the same field of one of the candidates. */
static bool tri_known_field(const cust *c, const char *(*f)(const tri *), const tri *t)
{
    if (!strcmp(f(&c->cur), f(t))) {
        return true;
    }
    for (int i = 0; i < c->npend; i++) {
        if (!strcmp(f(&c->pend[i]), f(t))) {
            return true;
        }
    }
    return false;
}
static const char *f_phone(const tri *t)
{
    return t->phone;
}
static const char *f_email(const tri *t)
{
    return t->email;
}
static const char *f_notes(const tri *t)
{
    return t->notes;
}

/* Every record of the list (all pages); 0 when read, else the failing status. */
static int list_records(load *L, cl *c, const cust *cu, bool txn, json_t *into)
{
    char path[256], after[48] = "";
    for (;;) {
        snprintf(path, sizeof path, "/v1/customers/%s/%s?limit=200%s%s", cu->id,
                 txn ? "transactions" : "communications", after[0] ? "&after=" : "", after);
        json_t *j = NULL;
        int st = cl_req(c, "GET", path, L->tok, NULL, NULL, 0, &j);
        if (st != 200) {
            json_decref(j);
            return st ? st : -1;
        }
        json_t *arr = json_object_get(j, txn ? "transactions" : "communications");
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            json_object_set(into, jstr(v, "id"), v);
        }
        const char *next = json_string_value(json_object_get(j, "next"));
        snprintf(after, sizeof after, "%s", next ? next : "");
        json_decref(j);
        if (!after[0]) {
            return 0;
        }
    }
}

static bool check_records(load *L, cl *c, cust *cu, bool txn)
{
    size_t n = txn ? cu->ntxn : cu->ncom;
    const rec *rs = txn ? cu->txn : cu->com;
    json_t *got = json_object();
    int st = list_records(L, c, cu, txn, got);
    bool ok = true;
    if (st != 0) {
        if (st == 500 && cu->kind == K_SHARED && L->o.tolerate_rotate_record_race) {
            if (!cu->casualty) {
                cu->casualty = true;
                L->casualties++;
                printf("    known race: %s's %s unreadable after concurrent rotations "
                       "(tolerated)\n",
                       cu->id, txn ? "transactions" : "communications");
            }
        } else {
            printf("    LOST: %s's %s cannot be listed (%d)\n", cu->id,
                   txn ? "transactions" : "communications", st);
            L->lost += n;
            ok = false;
        }
        json_decref(got);
        return ok;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(got, rs[i].id);
        const char *text = jstr(v, txn ? "description" : "summary");
        bool same = v && !strcmp(text, rs[i].text);
        if (same && txn) {
            json_t *p = json_object_get(v, "price");
            long long price = json_is_integer(p)  ? (long long)json_integer_value(p)
                              : json_is_string(p) ? atoll(json_string_value(p))
                                                  : -1;
            same = price == rs[i].price;
        }
        if (!same) {
            printf("    LOST: %s %s of %s %s\n", txn ? "transaction" : "communication", rs[i].id,
                   cu->id, v ? "changed" : "missing");
            L->lost++;
            ok = false;
        }
    }
    json_decref(got);
    return ok;
}

static bool check_audit(load *L, cl *c, cust *cu)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/audit/reports/subject?customer=%s", cu->id);
    json_t *j = NULL;
    int st = cl_req(c, "GET", path, L->tok_aud, NULL, NULL, 0, &j);
    if (st != 200) {
        printf("    subject report of %s: %d\n", cu->id, st);
        L->lost += cu->naud;
        json_decref(j);
        return false;
    }
    json_t *seen = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(j, "accesses"), i, v)
    {
        json_t *d = json_object_get(v, "decoded");
        if (strcmp(jstr(d, "decision"), "allow") != 0) {
            continue;
        }
        char k[128];
        snprintf(k, sizeof k, "%s|%s", jstr(d, "request_id"), jstr(d, "action"));
        json_object_set_new(seen, k, json_true());
    }
    bool ok = true;
    for (size_t a = 0; a < cu->naud; a++) {
        char k[128];
        snprintf(k, sizeof k, "%s|%s", cu->aud[a].req, cu->aud[a].action);
        if (json_object_get(seen, k)) {
            L->audit_checked++;
        } else {
            printf("    LOST: audit entry %s of %s (%s)\n", cu->aud[a].action, cu->id,
                   cu->aud[a].req);
            L->lost++;
            ok = false;
        }
    }
    L->checked += cu->naud;
    json_decref(seen);
    json_decref(j);
    return ok;
}

static bool check_customer(load *L, cl *c, cust *cu)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/customers/%s", cu->id);
    json_t *j = NULL;
    int st = cl_req(c, "GET", path, L->tok, NULL, NULL, 0, &j);
    bool ok = true;
    if (st != 200) {
        printf("    LOST: customer %s answers %d\n", cu->id, st);
        L->lost += cu->naud;
        json_decref(j);
        return false;
    }
    tri t;
    tri_of(j, &t);
    if (strcmp(jstr(j, "name"), cu->name) != 0) {
        printf("    LOST: customer %s has another name\n", cu->id);
        L->lost++;
        ok = false;
    } else if (!tri_eq(&t, &cu->cur)) {
        int k = -1;
        for (int i = 0; i < cu->npend; i++) {
            if (tri_eq(&t, &cu->pend[i])) {
                k = i;
            }
        }
        if (k >= 0) {
            cu->cur = cu->pend[k]; /* an unanswered update that was applied */
        } else if (tri_known_field(cu, f_phone, &t) && tri_known_field(cu, f_email, &t) &&
                   tri_known_field(cu, f_notes, &t)) {
            printf("    HALF-WRITTEN: customer %s mixes the fields of two updates\n", cu->id);
            L->half++;
            ok = false;
        } else {
            printf("    LOST: customer %s lost its acknowledged update (%s, wanted %s)\n", cu->id,
                   t.notes, cu->cur.notes);
            L->lost++;
            ok = false;
        }
    }
    cu->npend = 0;
    json_decref(j);
    return ok;
}

static bool resolve_imports(load *L, cl *c)
{
    bool ok = true;
    for (size_t i = 0; i < L->nimp; i++) {
        import *im = &L->imp[i];
        if (im->resolved) {
            continue;
        }
        im->resolved = true;
        char ids[IMPORT_ROWS][40];
        int found = 0;
        for (int r = 0; r < IMPORT_ROWS; r++) {
            char path[160];
            snprintf(path, sizeof path, "/v1/customers?phone=%s", im->row[r].phone);
            json_t *j = NULL;
            int st = cl_req(c, "GET", path, L->tok, NULL, NULL, 0, &j);
            json_t *arr = json_object_get(j, "customers");
            ids[r][0] = '\0';
            if (st == 200 && json_array_size(arr) == 1) {
                json_t *o = json_array_get(arr, 0);
                tri t;
                tri_of(o, &t);
                if (tri_eq(&t, &im->row[r]) && !strcmp(jstr(o, "name"), im->name[r])) {
                    snprintf(ids[r], sizeof ids[r], "%s", jstr(o, "id"));
                    found++;
                } else {
                    printf("    LOST: imported row %s differs\n", im->row[r].phone);
                    L->lost++;
                    ok = false;
                }
            } else if (st != 200 || json_array_size(arr) > 1) {
                printf("    search for an imported row: %d, %zu found\n", st, json_array_size(arr));
                L->lost++;
                ok = false;
            }
            json_decref(j);
        }
        if (im->acked && found != IMPORT_ROWS) {
            printf("    LOST: %d of %d rows of an acknowledged import\n", IMPORT_ROWS - found,
                   IMPORT_ROWS);
            L->lost += (uint64_t)(IMPORT_ROWS - found);
            ok = false;
        } else if (!im->acked && found != 0 && found != IMPORT_ROWS) {
            printf("    HALF-WRITTEN: %d of %d rows of an unanswered import\n", found, IMPORT_ROWS);
            L->half++;
            ok = false;
        }
        for (int r = 0; r < IMPORT_ROWS; r++) {
            if (ids[r][0]) {
                cust *cu = add_cust(L, ids[r], K_IMPORTED, im->name[r], &im->row[r]);
                if (im->acked) {
                    add_aud(L, cu, im->req, "customer.create");
                }
            }
        }
    }
    return ok;
}

bool load_verify(load *L, bool all)
{
    cl c;
    cl_init(&c, L->s);
    bool ok = resolve_imports(L, &c);
    for (size_t i = 0; i < L->nc; i++) {
        cust *cu = L->c[i];
        if (!all && !cu->dirty) {
            continue;
        }
        ok = check_customer(L, &c, cu) && ok;
        ok = check_records(L, &c, cu, true) && ok;
        ok = check_records(L, &c, cu, false) && ok;
        ok = check_audit(L, &c, cu) && ok;
        if (cu->rotate_500 && !cu->casualty) {
            printf("    a rotation of %s answered 500, yet its records read\n", cu->id);
            atomic_fetch_add(&L->unexpected, 1);
            ok = false;
        }
        cu->dirty = false;
    }
    cl_free(&c);
    return ok;
}
