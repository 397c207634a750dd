/*
 * store_incident_test.c - the incident rows: insert, read, listing filters (drills apart),
 * the version compare-and-set, and concurrent writers on one incident (no lost update).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/store_incident.h"
#include "test.h"

static store *S;

static void fill(incident_row *r, const char *id, bool drill, int64_t opened)
{
    snprintf(r->id, sizeof r->id, "%s", id);
    r->drill = drill;
    snprintf(r->phase, sizeof r->phase, "detection");
    snprintf(r->playbook, sizeof r->playbook, "data-read");
    snprintf(r->title, sizeof r->title, "Customer data read");
    snprintf(r->severity, sizeof r->severity, "high");
    snprintf(r->owner, sizeof r->owner, "sec1");
    r->aware_us = opened - 1000;
    r->opened_us = opened;
    r->kek_version = 1;
    IGNORE(buf_set(&r->playbook_text, "playbook x\n", 11));
    IGNORE(buf_set(&r->wrapped_dek, "wrapped", 7));
    IGNORE(buf_set(&r->body, "[]", 2));
}

TEST(t_open)
{
    char *dir = test_tmpdir("store_incident");
    char path[512];
    snprintf(path, sizeof path, "%s/custos.db", dir);
    free(dir);
    EXPECT_OK(store_open(path, true, &S));
}

TEST(t_insert_get)
{
    incident_row r, got;
    incident_row_init(&r);
    incident_row_init(&got);
    fill(&r, "inc_a", false, 1000000);
    EXPECT_OK(store_incident_insert(S, &r));
    EXPECT_ERR(store_incident_insert(S, &r), ERR_CONFLICT);
    EXPECT_OK(store_incident_get(S, "inc_a", &got));
    EXPECT_STR(got.playbook, "data-read");
    EXPECT_STR(got.owner, "sec1");
    EXPECT_INT(got.version, 1);
    EXPECT_INT(got.body.len, 2);
    EXPECT_INT(got.scope.len, 0);
    EXPECT(memcmp(got.playbook_text.p, "playbook x\n", 11) == 0);
    EXPECT_ERR(store_incident_get(S, "inc_none", &got), ERR_NOT_FOUND);
    /* no body, no key: refused */
    incident_row bad;
    incident_row_init(&bad);
    snprintf(bad.id, sizeof bad.id, "inc_bad");
    EXPECT_ERR(store_incident_insert(S, &bad), ERR_INPUT);
    incident_row_free(&bad);
    incident_row_free(&r);
    incident_row_free(&got);
}

TEST(t_update_version)
{
    incident_row r;
    incident_row_init(&r);
    EXPECT_OK(store_incident_get(S, "inc_a", &r));
    snprintf(r.phase, sizeof r.phase, "containment");
    EXPECT_OK(store_incident_update(S, &r, 1));
    /* a second write from the same starting point loses */
    snprintf(r.phase, sizeof r.phase, "recovery");
    EXPECT_ERR(store_incident_update(S, &r, 1), ERR_PRECONDITION);
    incident_row got;
    incident_row_init(&got);
    EXPECT_OK(store_incident_get(S, "inc_a", &got));
    EXPECT_STR(got.phase, "containment");
    EXPECT_INT(got.version, 2);
    snprintf(r.id, sizeof r.id, "inc_none");
    EXPECT_ERR(store_incident_update(S, &r, 1), ERR_NOT_FOUND);
    incident_row_free(&r);
    incident_row_free(&got);
}

typedef struct counts {
    int n, drills, closed;
    char first[64];
} counts;

static err count_row(void *ctx, const incident_row *r)
{
    counts *c = ctx;
    if (c->n == 0) {
        snprintf(c->first, sizeof c->first, "%s", r->id);
    }
    c->n++;
    c->drills += r->drill;
    c->closed += r->closed;
    return r->body.len == 0 ? ERR_OK : ERR_INTERNAL; /* listings carry no body */
}

TEST(t_list_filters)
{
    incident_row r;
    incident_row_init(&r);
    fill(&r, "inc_drill", true, 3000000);
    EXPECT_OK(store_incident_insert(S, &r));
    fill(&r, "inc_closed", false, 2000000);
    r.closed = true;
    snprintf(r.phase, sizeof r.phase, "closed");
    EXPECT_OK(store_incident_insert(S, &r));
    incident_row_free(&r);
    counts c = {0};
    EXPECT_OK(store_incident_list(S, INCIDENT_LIST_OPEN, 0, 0, count_row, &c));
    EXPECT_INT(c.n, 1); /* inc_a only: the drill is not mixed in */
    EXPECT_INT(c.drills, 0);
    memset(&c, 0, sizeof c);
    EXPECT_OK(store_incident_list(S, INCIDENT_LIST_ALL, 0, 0, count_row, &c));
    EXPECT_INT(c.n, 2);
    EXPECT_STR(c.first, "inc_closed"); /* newest first */
    memset(&c, 0, sizeof c);
    EXPECT_OK(store_incident_list(S, INCIDENT_LIST_ALL, 1, 0, count_row, &c));
    EXPECT_INT(c.n, 1);
    EXPECT_INT(c.drills, 1);
    memset(&c, 0, sizeof c);
    EXPECT_OK(store_incident_list(S, INCIDENT_LIST_CLOSED, -1, 0, count_row, &c));
    EXPECT_INT(c.n, 1);
    EXPECT_INT(c.closed, 1);
    memset(&c, 0, sizeof c);
    EXPECT_OK(store_incident_list(S, INCIDENT_LIST_ALL, -1, 1, count_row, &c));
    EXPECT_INT(c.n, 1);
}

/* Each thread appends its own mark to the body N times, read-modify-write with the version
 * check and a retry on ERR_PRECONDITION; every mark must survive. */
#define WRITERS 4
#define ROUNDS 25

typedef struct wctx {
    int who;
    int retries;
    err failed;
} wctx;

static void *writer(void *arg)
{
    wctx *w = arg;
    incident_row r;
    incident_row_init(&r);
    for (int i = 0; i < ROUNDS && w->failed == ERR_OK; i++) {
        for (;;) {
            buf_reset(&r.body);
            err e = store_incident_get(S, "inc_race", &r);
            if (e == ERR_OK) {
                e = buf_appendf(&r.body, "%c", 'a' + w->who);
            }
            if (e == ERR_OK) {
                e = store_incident_update(S, &r, r.version);
            }
            if (e == ERR_PRECONDITION) {
                w->retries++;
                continue;
            }
            w->failed = e;
            break;
        }
    }
    incident_row_free(&r);
    return NULL;
}

TEST(t_concurrent_writers)
{
    incident_row r;
    incident_row_init(&r);
    fill(&r, "inc_race", false, 4000000);
    IGNORE(buf_set(&r.body, "#", 1));
    EXPECT_OK(store_incident_insert(S, &r));
    pthread_t t[WRITERS];
    wctx w[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (wctx){.who = i};
        pthread_create(&t[i], NULL, writer, &w[i]);
    }
    int retries = 0;
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(t[i], NULL);
        EXPECT_OK(w[i].failed);
        retries += w[i].retries;
    }
    EXPECT_OK(store_incident_get(S, "inc_race", &r));
    EXPECT_INT(r.body.len, 1 + WRITERS * ROUNDS);
    EXPECT_INT(r.version, 1 + WRITERS * ROUNDS);
    int per[WRITERS] = {0};
    for (size_t i = 1; i < r.body.len; i++) {
        int k = r.body.p[i] - 'a';
        if (k >= 0 && k < WRITERS) {
            per[k]++;
        }
    }
    for (int i = 0; i < WRITERS; i++) {
        EXPECT_INT(per[i], ROUNDS);
    }
    printf("  store_incident: %d writers x %d updates, %d retries after a lost race\n", WRITERS,
           ROUNDS, retries);
    incident_row_free(&r);
}

int main(void)
{
    test_init();
    RUN(t_open);
    RUN(t_insert_get);
    RUN(t_update_version);
    RUN(t_list_filters);
    RUN(t_concurrent_writers);
    store_close(S);
    return test_done("store_incident_test");
}
