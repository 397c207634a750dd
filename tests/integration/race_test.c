/*
 * race_test.c - concurrent writers against a real server: many interleavings of
 * PATCHes to one customer, per-customer key rotation racing updates and new
 * records, and `custos keys rotate` while threads keep writing. After each race
 * every acknowledged change must be there, and every customer, transaction and
 * communication must still decrypt (also after a restart).
 *
 * Each race starts its threads at a barrier so that the requests really overlap;
 * nothing waits a fixed time. Threads record what they saw; checks run in the
 * main thread after the join.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../unit/test.h"
#include "harness.h"
#include "model/model.h"

static srv S;
static char tok[64];

/* Totals reported at the end. */
static long n_interleavings, n_writes_checked, n_lost, n_unreadable;

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static char *new_customer(const char *name, const char *phone)
{
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"phone\":\"%s\"}", name, phone);
    json_t *j = NULL;
    char *id = NULL;
    if (h_json(&S, "POST", "/v1/customers", tok, body, &j) == 201 && jstr(j, "id")) {
        id = strdup(jstr(j, "id"));
    }
    json_decref(j);
    return id;
}

static int add_transaction(const char *id, int k)
{
    char path[128], body[256];
    snprintf(path, sizeof path, "/v1/customers/%s/transactions", id);
    snprintf(body, sizeof body,
             "{\"date\":\"2026-03-01\",\"description\":\"清 青花瓷盘 %d\",\"price\":%d}", k,
             1000 + k);
    return h_json(&S, "POST", path, tok, body, NULL);
}

static int add_communication(const char *id, int k)
{
    char path[128], body[256];
    snprintf(path, sizeof path, "/v1/customers/%s/communications", id);
    snprintf(body, sizeof body,
             "{\"at\":\"2026-03-01T10:00:00Z\",\"channel\":\"phone\",\"summary\":\"call %d\"}", k);
    return h_json(&S, "POST", path, tok, body, NULL);
}

static int patch(const char *id, const char *body, const char *if_match, char *etag_out)
{
    char path[128], hdr[128];
    snprintf(path, sizeof path, "/v1/customers/%s", id);
    if (if_match) {
        snprintf(hdr, sizeof hdr, "If-Match: %s", if_match);
    }
    int st = h_json_h(&S, "PATCH", path, tok, body, if_match ? hdr : NULL, NULL);
    if (etag_out) {
        etag_out[0] = '\0';
        const char *h = strcasestr(h_last_headers(), "\netag: ");
        if (h) {
            h += 7;
            size_t n = strcspn(h, "\r\n");
            snprintf(etag_out, 64, "%.*s", (int)(n < 63 ? n : 63), h);
        }
    }
    return st;
}

/* GET the customer: the status, and the JSON when 200. The ETag goes to etag (may be NULL). */
static int get_customer(const char *id, json_t **out, char *etag)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/customers/%s", id);
    int st = h_json(&S, "GET", path, tok, NULL, out);
    if (etag) {
        etag[0] = '\0';
        const char *h = strcasestr(h_last_headers(), "\netag: ");
        if (h) {
            h += 7;
            size_t n = strcspn(h, "\r\n");
            snprintf(etag, 64, "%.*s", (int)(n < 63 ? n : 63), h);
        }
    }
    return st;
}

/* The number of records of a kind, or -status when the list does not answer 200. */
static long count_records(const char *id, const char *kind)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/customers/%s/%s?limit=200", id, kind);
    json_t *j = NULL;
    int st = h_json(&S, "GET", path, tok, NULL, &j);
    long n = st == 200 ? (long)json_array_size(json_object_get(j, kind)) : -st;
    json_decref(j);
    return n;
}

TEST(t_start)
{
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "7", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "10", NULL};
    buf out;
    buf_init(&out, 0);
    int rc = h_cli(&S, &out, demo);
    EXPECT_INT(rc, 0);
    if (rc) {
        printf("%s\n", buf_cstr(&out));
    }
    buf_free(&out);
    h_quiet_guard(&S);
    EXPECT(h_start(&S));
    EXPECT(h_login(&S, "steward1", DEMO_PW, tok));
}

/* ---- lost updates: six PATCHes to six different fields of one customer at once ---- */

#define FIELDS 6
static const char *const field_names[FIELDS] = {"phone",  "email",       "address",
                                                "wechat", "salesperson", "notes"};

static void field_value(int f, int round, char *out, size_t max)
{
    switch (f) {
    case 0:
        snprintf(out, max, "1391%03d%04d", round, f);
        break;
    case 1:
        snprintf(out, max, "r%d.f%d@example.org", round, f);
        break;
    case 2:
        snprintf(out, max, "北京市海淀区并发路%d号", round);
        break;
    case 3:
        snprintf(out, max, "wx_round_%d", round);
        break;
    case 4:
        snprintf(out, max, "seller_%d", round);
        break;
    default:
        snprintf(out, max, "round %d note", round);
        break;
    }
}

typedef struct patch_job {
    pthread_barrier_t *go;
    const char *id;
    char body[512];
    const char *if_match;
    int status;
} patch_job;

static void *patch_worker(void *p)
{
    patch_job *j = p;
    pthread_barrier_wait(j->go);
    j->status = patch(j->id, j->body, j->if_match, NULL);
    return NULL;
}

TEST(t_lost_updates)
{
    enum { ROUNDS = 24 };
    long acked = 0, lost = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char name[64];
        snprintf(name, sizeof name, "并发%d", round);
        char *id = new_customer(name, "13800000000");
        EXPECT(id != NULL);
        if (!id) {
            return;
        }
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, FIELDS);
        patch_job jobs[FIELDS];
        pthread_t th[FIELDS];
        for (int f = 0; f < FIELDS; f++) {
            char v[128];
            field_value(f, round, v, sizeof v);
            jobs[f] = (patch_job){.go = &go, .id = id};
            snprintf(jobs[f].body, sizeof jobs[f].body, "{\"%s\":\"%s\"}", field_names[f], v);
            pthread_create(&th[f], NULL, patch_worker, &jobs[f]);
        }
        for (int f = 0; f < FIELDS; f++) {
            pthread_join(th[f], NULL);
        }
        pthread_barrier_destroy(&go);
        n_interleavings++;
        json_t *c = NULL;
        int st = get_customer(id, &c, NULL);
        EXPECT_INT(st, 200);
        for (int f = 0; f < FIELDS; f++) {
            EXPECT_INT(jobs[f].status, 200);
            if (jobs[f].status != 200) {
                continue;
            }
            acked++;
            char v[128];
            field_value(f, round, v, sizeof v);
            const char *got = jstr(c, field_names[f]);
            if (!got || strcmp(got, v) != 0) {
                lost++;
            }
        }
        json_decref(c);
        free(id);
    }
    printf("    %d rounds of %d concurrent PATCHes: %ld acknowledged, %ld lost\n", ROUNDS, FIELDS,
           acked, lost);
    n_writes_checked += acked;
    n_lost += lost;
    EXPECT_INT(acked, ROUNDS * FIELDS);
    EXPECT_INT(lost, 0);
}

/* ---- the same field from six writers: serialised, and never half of one request ---- */

TEST(t_same_field_serialised)
{
    enum { ROUNDS = 12, W = 6 };
    long torn = 0, acked = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char *id = new_customer("同字段", "13800000001");
        EXPECT(id != NULL);
        if (!id) {
            return;
        }
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, W);
        patch_job jobs[W];
        pthread_t th[W];
        for (int w = 0; w < W; w++) {
            jobs[w] = (patch_job){.go = &go, .id = id};
            /* Two fields per request: the answer must hold both from the same request. */
            snprintf(jobs[w].body, sizeof jobs[w].body,
                     "{\"notes\":\"writer %d round %d\",\"wechat\":\"wx_%d_%d\"}", w, round, w,
                     round);
            pthread_create(&th[w], NULL, patch_worker, &jobs[w]);
        }
        for (int w = 0; w < W; w++) {
            pthread_join(th[w], NULL);
        }
        pthread_barrier_destroy(&go);
        n_interleavings++;
        json_t *c = NULL;
        EXPECT_INT(get_customer(id, &c, NULL), 200);
        int wn = -1, wr = -1, xn = -2, xr = -2;
        if (c && jstr(c, "notes") && jstr(c, "wechat")) {
            sscanf(jstr(c, "notes"), "writer %d round %d", &wn, &wr);
            sscanf(jstr(c, "wechat"), "wx_%d_%d", &xn, &xr);
        }
        if (wn != xn || wr != xr || wr != round) {
            torn++;
        }
        for (int w = 0; w < W; w++) {
            /* Serialised: each one applies in turn (200); a 409 is allowed, nothing else. */
            EXPECT(jobs[w].status == 200 || jobs[w].status == 409);
            acked += jobs[w].status == 200;
        }
        /* The value left is one that was acknowledged. */
        EXPECT(wn >= 0 && wn < W && jobs[wn].status == 200);
        json_decref(c);
        free(id);
    }
    n_writes_checked += acked;
    printf("    %d rounds of %d writers on one field: %ld acknowledged, %ld torn\n", ROUNDS, W,
           acked, torn);
    EXPECT_INT(torn, 0);
}

/* ---- ETag and If-Match ---- */

TEST(t_etag_if_match)
{
    char *id = new_customer("条件更新", "13800000002");
    EXPECT(id != NULL);
    if (!id) {
        return;
    }
    char e1[64], e2[64], e3[64];
    json_t *c = NULL;
    EXPECT_INT(get_customer(id, &c, e1), 200);
    json_decref(c);
    EXPECT(e1[0] == '"');
    /* A write with the current tag applies and answers the new tag. */
    EXPECT_INT(patch(id, "{\"notes\":\"first\"}", e1, e2), 200);
    EXPECT(e2[0] == '"' && strcmp(e1, e2) != 0);
    /* The old tag is stale now: 412, nothing applied. */
    EXPECT_INT(patch(id, "{\"notes\":\"stale\"}", e1, NULL), 412);
    EXPECT_INT(get_customer(id, &c, e3), 200);
    EXPECT_STR(jstr(c, "notes"), "first");
    EXPECT_STR(e3, e2);
    json_decref(c);
    /* A weak tag never matches (strong comparison); "*" matches any existing customer. */
    char weak[80];
    snprintf(weak, sizeof weak, "W/%s", e2);
    EXPECT_INT(patch(id, "{\"notes\":\"weak\"}", weak, NULL), 412);
    EXPECT_INT(patch(id, "{\"notes\":\"garbage\"}", "\"no-such-version\"", NULL), 412);
    EXPECT_INT(patch(id, "{\"notes\":\"star\"}", "*", NULL), 200);
    EXPECT_INT(get_customer(id, &c, e1), 200);
    EXPECT_STR(jstr(c, "notes"), "star");
    json_decref(c);
    /* Six writers with the same tag at once: exactly one wins, the others get 412. */
    enum { W = 6, ROUNDS = 8 };
    int won_total = 0;
    for (int round = 0; round < ROUNDS; round++) {
        EXPECT_INT(get_customer(id, &c, e1), 200);
        json_decref(c);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, W);
        patch_job jobs[W];
        pthread_t th[W];
        for (int w = 0; w < W; w++) {
            jobs[w] = (patch_job){.go = &go, .id = id, .if_match = e1};
            snprintf(jobs[w].body, sizeof jobs[w].body, "{\"notes\":\"cas %d %d\"}", round, w);
            pthread_create(&th[w], NULL, patch_worker, &jobs[w]);
        }
        int won = -1, n412 = 0;
        for (int w = 0; w < W; w++) {
            pthread_join(th[w], NULL);
            if (jobs[w].status == 200) {
                won = won < 0 ? w : 100;
            }
            n412 += jobs[w].status == 412;
        }
        pthread_barrier_destroy(&go);
        n_interleavings++;
        EXPECT(won >= 0 && won < W);
        EXPECT_INT(n412, W - 1);
        EXPECT_INT(get_customer(id, &c, NULL), 200);
        char want[64];
        snprintf(want, sizeof want, "cas %d %d", round, won);
        EXPECT_STR(jstr(c, "notes"), want);
        json_decref(c);
        won_total += won >= 0 && won < W;
    }
    n_writes_checked += won_total;
    /* DELETE and rotate-key honour If-Match too. */
    EXPECT_INT(get_customer(id, &c, e1), 200);
    json_decref(c);
    EXPECT_INT(patch(id, "{\"notes\":\"moved on\"}", NULL, NULL), 200);
    char path[160], hdr[128];
    snprintf(hdr, sizeof hdr, "If-Match: %s", e1);
    snprintf(path, sizeof path, "/v1/customers/%s/rotate-key", id);
    EXPECT_INT(h_json_h(&S, "POST", path, tok, NULL, hdr, NULL), 412);
    snprintf(path, sizeof path, "/v1/customers/%s?reason=test", id);
    EXPECT_INT(h_json_h(&S, "DELETE", path, tok, NULL, hdr, NULL), 412);
    EXPECT_INT(get_customer(id, &c, e2), 200);
    EXPECT_STR(jstr(c, "notes"), "moved on");
    json_decref(c);
    snprintf(hdr, sizeof hdr, "If-Match: %s", e2);
    snprintf(path, sizeof path, "/v1/customers/%s/rotate-key", id);
    EXPECT_INT(h_json_h(&S, "POST", path, tok, NULL, hdr, NULL), 200);
    EXPECT_INT(get_customer(id, &c, e3), 200);
    EXPECT_STR(jstr(c, "notes"), "moved on");
    json_decref(c);
    EXPECT(strcmp(e3, e2) != 0);
    snprintf(hdr, sizeof hdr, "If-Match: %s", e3);
    snprintf(path, sizeof path, "/v1/customers/%s?reason=test", id);
    EXPECT_INT(h_json_h(&S, "DELETE", path, tok, NULL, hdr, NULL), 200);
    EXPECT_INT(get_customer(id, NULL, NULL), 404);
    free(id);
}

/* ---- per-customer key rotation racing a PATCH, a transaction and a communication ---- */

typedef struct rot_job {
    pthread_barrier_t *go;
    const char *id;
    int kind; /* 0 rotate, 1 patch, 2 transaction, 3 communication */
    int round;
    int status;
} rot_job;

static void *rot_worker(void *p)
{
    rot_job *j = p;
    char path[160], body[160];
    pthread_barrier_wait(j->go);
    switch (j->kind) {
    case 0:
        snprintf(path, sizeof path, "/v1/customers/%s/rotate-key", j->id);
        j->status = h_json(&S, "POST", path, tok, NULL, NULL);
        break;
    case 1:
        snprintf(body, sizeof body, "{\"notes\":\"after rotation race %d\"}", j->round);
        j->status = patch(j->id, body, NULL, NULL);
        break;
    case 2:
        j->status = add_transaction(j->id, j->round);
        break;
    default:
        j->status = add_communication(j->id, j->round);
        break;
    }
    return NULL;
}

TEST(t_rotate_key_races)
{
    enum { ROUNDS = 40, K = 4 };
    long acked = 0, lost = 0, unreadable = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char *id = new_customer("轮换竞态", "13800000003");
        EXPECT(id != NULL);
        if (!id) {
            return;
        }
        EXPECT_INT(add_transaction(id, 0), 201);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, K);
        rot_job jobs[K];
        pthread_t th[K];
        for (int k = 0; k < K; k++) {
            jobs[k] = (rot_job){.go = &go, .id = id, .kind = k, .round = round};
            pthread_create(&th[k], NULL, rot_worker, &jobs[k]);
        }
        for (int k = 0; k < K; k++) {
            pthread_join(th[k], NULL);
        }
        pthread_barrier_destroy(&go);
        n_interleavings++;
        EXPECT_INT(jobs[0].status, 200);
        EXPECT_INT(jobs[1].status, 200);
        EXPECT_INT(jobs[2].status, 201);
        EXPECT_INT(jobs[3].status, 201);
        json_t *c = NULL;
        int st = get_customer(id, &c, NULL);
        if (st != 200) {
            unreadable++;
        }
        if (jobs[1].status == 200) {
            acked++;
            char want[64];
            snprintf(want, sizeof want, "after rotation race %d", round);
            if (st == 200 && (!jstr(c, "notes") || strcmp(jstr(c, "notes"), want) != 0)) {
                lost++;
            }
        }
        json_decref(c);
        long nt = count_records(id, "transactions"), nc = count_records(id, "communications");
        if (nt < 0 || nc < 0) {
            unreadable++;
        }
        long want_t = 1 + (jobs[2].status == 201), want_c = jobs[3].status == 201;
        acked += want_t - 1 + want_c;
        if (nt >= 0 && nt != want_t) {
            lost++;
        }
        if (nc >= 0 && nc != want_c) {
            lost++;
        }
        free(id);
    }
    printf("    %d races of rotate-key against PATCH, transaction and communication: %ld "
           "acknowledged writes, %ld lost, %ld customers unreadable\n",
           ROUNDS, acked, lost, unreadable);
    n_writes_checked += acked;
    n_lost += lost;
    n_unreadable += unreadable;
    EXPECT_INT(lost, 0);
    EXPECT_INT(unreadable, 0);
}

/* ---- `custos keys rotate` while eight threads keep writing ---- */

#define WRITERS 8
#define PER 2

typedef struct writer {
    int t;
    char *ids[PER];
    int last_ack[PER];  /* the last acknowledged notes counter, -1 none */
    int txn_acked[PER]; /* transactions acknowledged */
    long writes, failures, rotations;
    int fail_status;
    char *created[64]; /* customers this writer created during the rotations */
    int ncreated;
} writer;

static atomic_int stop_writers;
static atomic_long writes_total;
static pthread_barrier_t writers_go;

static void *writer_main(void *p)
{
    writer *w = p;
    pthread_barrier_wait(&writers_go);
    for (int k = 0; !atomic_load(&stop_writers) || k < 6; k++) {
        int c = k % PER;
        char body[128];
        snprintf(body, sizeof body, "{\"notes\":\"writer %d value %d\"}", w->t, k);
        int st = patch(w->ids[c], body, NULL, NULL);
        w->writes++;
        if (st == 200) {
            w->last_ack[c] = k;
        } else {
            w->failures++;
            w->fail_status = st;
        }
        if (k % 3 == 0) {
            st = add_transaction(w->ids[c], k);
            w->writes++;
            if (st == 201) {
                w->txn_acked[c]++;
            } else {
                w->failures++;
                w->fail_status = st;
            }
        }
        if (k % 4 == 1 && w->ncreated < 64) {
            /* A new data key wrapped by a server that may not have seen the new version. */
            char name[32];
            snprintf(name, sizeof name, "新客%d-%d", w->t, k);
            char *id = new_customer(name, "13800000007");
            w->writes++;
            if (id) {
                w->created[w->ncreated++] = id;
            } else {
                w->failures++;
                w->fail_status = -1;
            }
        }
        atomic_fetch_add(&writes_total, 1);
        if (k % 5 == 0) {
            char path[160];
            snprintf(path, sizeof path, "/v1/customers/%s/rotate-key", w->ids[c]);
            st = h_json(&S, "POST", path, tok, NULL, NULL);
            w->rotations++;
            if (st != 200) {
                w->failures++;
                w->fail_status = st;
            }
        }
    }
    return NULL;
}

static long check_writers(writer *ws, const char *when)
{
    long lost = 0, unreadable = 0, checked = 0;
    for (int t = 0; t < WRITERS; t++) {
        for (int c = 0; c < PER; c++) {
            json_t *j = NULL;
            int st = get_customer(ws[t].ids[c], &j, NULL);
            if (st != 200) {
                unreadable++;
            } else if (ws[t].last_ack[c] >= 0) {
                char want[64];
                snprintf(want, sizeof want, "writer %d value %d", t, ws[t].last_ack[c]);
                checked++;
                if (!jstr(j, "notes") || strcmp(jstr(j, "notes"), want) != 0) {
                    lost++;
                }
            }
            json_decref(j);
            long nt = count_records(ws[t].ids[c], "transactions");
            checked += ws[t].txn_acked[c];
            if (nt < 0) {
                unreadable++;
            } else if (nt != ws[t].txn_acked[c]) {
                lost++;
            }
        }
        for (int i = 0; i < ws[t].ncreated; i++) {
            checked++;
            if (get_customer(ws[t].created[i], NULL, NULL) != 200) {
                unreadable++;
            }
        }
    }
    printf("    %s: %ld acknowledged values checked, %ld lost, %ld customers unreadable\n", when,
           checked, lost, unreadable);
    n_writes_checked += checked;
    n_lost += lost;
    n_unreadable += unreadable;
    return lost + unreadable;
}

static int rotation_version(const char *out)
{
    const char *p = strstr(out, "master key version ");
    return p ? atoi(p + 19) : -1;
}

TEST(t_keys_rotate_under_writes)
{
    static writer ws[WRITERS];
    memset(ws, 0, sizeof ws);
    for (int t = 0; t < WRITERS; t++) {
        ws[t].t = t;
        for (int c = 0; c < PER; c++) {
            char name[32];
            snprintf(name, sizeof name, "写者%d-%d", t, c);
            ws[t].ids[c] = new_customer(name, "13800000004");
            EXPECT(ws[t].ids[c] != NULL);
            if (!ws[t].ids[c]) {
                return;
            }
            ws[t].last_ack[c] = -1;
        }
    }
    /* At least MIN_ROTATIONS runs, and on until the writers made MIN_WRITES rounds. */
    enum { MIN_ROTATIONS = 4, MAX_ROTATIONS = 30, MIN_WRITES = 400, MAX_SECONDS = 60 };
    atomic_store(&stop_writers, 0);
    atomic_store(&writes_total, 0);
    pthread_barrier_init(&writers_go, NULL, WRITERS + 1);
    pthread_t th[WRITERS];
    for (int t = 0; t < WRITERS; t++) {
        pthread_create(&th[t], NULL, writer_main, &ws[t]);
    }
    pthread_barrier_wait(&writers_go);
    int first = -1, r = 0;
    double spent = 0;
    for (; r < MAX_ROTATIONS && (r < MIN_ROTATIONS || atomic_load(&writes_total) < MIN_WRITES) &&
           (r < MIN_ROTATIONS || spent < MAX_SECONDS);
         r++) {
        const char *rot[] = {"keys", "rotate", S.dir, NULL};
        buf out;
        buf_init(&out, 0);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = h_cli(&S, &out, rot);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        EXPECT_INT(rc, 0);
        int v = rotation_version(buf_cstr(&out));
        spent += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (rc != 0) {
            printf("    keys rotate said: %s\n", buf_cstr(&out));
        }
        if (first < 0) {
            first = v;
        }
        /* One new version per successful run, none skipped. */
        EXPECT_INT(v, first + r);
        buf_free(&out);
        n_interleavings++;
    }
    atomic_store(&stop_writers, 1);
    long writes = 0, failures = 0, rotations = 0;
    int fail_status = 0;
    for (int t = 0; t < WRITERS; t++) {
        pthread_join(th[t], NULL);
        writes += ws[t].writes;
        failures += ws[t].failures;
        rotations += ws[t].rotations;
        fail_status = ws[t].fail_status ? ws[t].fail_status : fail_status;
    }
    pthread_barrier_destroy(&writers_go);
    n_interleavings += rotations;
    printf("    %d keys rotate runs (%.1f s) under %d writers: %ld writes, %ld per-customer "
           "rotations, %ld failed (last status %d)\n",
           r, spent, WRITERS, writes, rotations, failures, fail_status);
    EXPECT_INT(failures, 0);
    EXPECT_INT(check_writers(ws, "after the rotations"), 0);
    /* What is unreadable stays unreadable across a restart: check again after one. */
    EXPECT_INT(h_stop(&S), 0);
    EXPECT(h_start(&S));
    EXPECT(h_login(&S, "steward1", DEMO_PW, tok));
    EXPECT_INT(check_writers(ws, "after a restart"), 0);
    for (int t = 0; t < WRITERS; t++) {
        for (int c = 0; c < PER; c++) {
            free(ws[t].ids[c]);
        }
        for (int i = 0; i < ws[t].ncreated; i++) {
            free(ws[t].created[i]);
        }
    }
}

/* ---- a rotation that fails changes nothing and says why ---- */

static int sql(const char *fmt, ...) PRINTF_LIKE(1, 2);
static int sql(const char *fmt, ...)
{
    char db[700], q[1024];
    snprintf(db, sizeof db, "%s/custos.db", S.dir);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    sqlite3 *h = NULL;
    sqlite3_open(db, &h);
    sqlite3_busy_timeout(h, 5000);
    int rc = sqlite3_exec(h, q, NULL, NULL, NULL);
    sqlite3_close(h);
    return rc;
}

static void file_digest(const char *path, char *out)
{
    FILE *f = fopen(path, "rb");
    uint64_t h = 1469598103934665603ull, n = 0;
    int ch;
    while (f && (ch = fgetc(f)) != EOF) {
        h = (h ^ (uint64_t)ch) * 1099511628211ull;
        n++;
    }
    if (f) {
        fclose(f);
    }
    sprintf(out, "%llu:%016llx", (unsigned long long)n, (unsigned long long)h);
}

TEST(t_failed_rotation_changes_nothing)
{
    char *a = new_customer("钥匙甲", "13800000005");
    char *b = new_customer("钥匙乙", "13800000006");
    EXPECT(a && b);
    if (!a || !b) {
        return;
    }
    /* b's wrapped data key replaced by a's: b no longer opens. */
    EXPECT_INT(sql("UPDATE customers SET wrapped_dek=(SELECT wrapped_dek FROM customers WHERE "
                   "id='%s') WHERE id='%s'",
                   a, b),
               SQLITE_OK);
    char kr[700], d1[64], d2[64];
    snprintf(kr, sizeof kr, "%s/keyring", S.dir);
    file_digest(kr, d1);
    const char *rot[] = {"keys", "rotate", S.dir, NULL};
    for (int i = 0; i < 2; i++) {
        buf out;
        buf_init(&out, 0);
        EXPECT(h_cli(&S, &out, rot) != 0);
        /* The real reason, not a later error from closing the vault. */
        EXPECT(strstr(buf_cstr(&out), "failed their integrity check") != NULL);
        EXPECT(strstr(buf_cstr(&out), "checkpoint") == NULL);
        if (strstr(buf_cstr(&out), "failed their integrity check") == NULL) {
            printf("    keys rotate said: %s\n", buf_cstr(&out));
        }
        buf_free(&out);
        file_digest(kr, d2);
        EXPECT_STR(d2, d1); /* the keyring exactly as before: no version added */
    }
    json_t *j = NULL;
    EXPECT_INT(get_customer(a, &j, NULL), 200);
    json_decref(j);
    /* Once the damaged customer is gone, the next rotation takes the very next version. */
    char path[160];
    snprintf(path, sizeof path, "/v1/customers/%s?reason=damaged", b);
    EXPECT_INT(h_json(&S, "DELETE", path, tok, NULL, NULL), 200);
    buf out;
    buf_init(&out, 0);
    int rc = h_cli(&S, &out, rot);
    EXPECT_INT(rc, 0);
    int v1 = rotation_version(buf_cstr(&out));
    buf_reset(&out);
    rc = h_cli(&S, &out, rot);
    EXPECT_INT(rc, 0);
    EXPECT_INT(rotation_version(buf_cstr(&out)), v1 + 1);
    buf_free(&out);
    EXPECT_INT(get_customer(a, &j, NULL), 200);
    json_decref(j);
    free(a);
    free(b);
}

/* RACE_ONLY=keys,etag runs only the races whose test names contain one of the words. */
static bool wanted(const char *name)
{
    const char *only = getenv("RACE_ONLY");
    if (!only || !only[0]) {
        return true;
    }
    char copy[256];
    snprintf(copy, sizeof copy, "%s", only);
    char *save = NULL;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (strstr(name, w)) {
            return true;
        }
    }
    return false;
}

#define RUN_IF(t)                                                                                  \
    do {                                                                                           \
        if (wanted(#t)) {                                                                          \
            RUN(t);                                                                                \
        }                                                                                          \
    } while (0)

int main(void)
{
    test_init();
    h_setup(&S, "race");
    RUN(t_start);
    if (test_failed_) {
        printf("the server did not start; see %s\n", S.log);
        return test_done("race_test");
    }
    RUN_IF(t_lost_updates);
    RUN_IF(t_same_field_serialised);
    RUN_IF(t_etag_if_match);
    RUN_IF(t_rotate_key_races);
    RUN_IF(t_keys_rotate_under_writes);
    RUN_IF(t_failed_rotation_changes_nothing);
    printf("    race totals: %ld interleavings, %ld acknowledged writes checked, %ld lost, %ld "
           "customers unreadable\n",
           n_interleavings, n_writes_checked, n_lost, n_unreadable);
    if (S.pid) {
        EXPECT_INT(h_stop(&S), 0);
    }
    return test_done("race_test");
}
