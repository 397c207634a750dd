/*
 * door_incident_test.c - incidents through the door on a real vault, without a server: who
 * may read and open, drills kept apart from real incidents, concurrent task work and notes on
 * one incident all kept (threads), reminders and escalation from door_incident_tick at a
 * chosen moment (once each), and the incident's words sealed in the vault's files.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "door/door.h"
#include "door/door_incident.h"
#include "test.h"

static vault *V;
static char DIR_[600];
static actor SYS, SEC, LEGAL, SVC, STEW, AUD, SALES, ADMIN, HR;
static char REAL[64], DRILL[64];

static actor person(const char *user, role r, const char *dept)
{
    actor a;
    EXPECT_OK(door_account_create(V, &SYS, user, "a-long-enough-password-1", r, dept));
    EXPECT_OK(door_actor_of(V, user, &a));
    snprintf(a.source, sizeof a.source, "127.0.0.1");
    snprintf(a.request_id, sizeof a.request_id, "t");
    return a;
}

TEST(t_setup)
{
    char *d = test_tmpdir("door_incident");
    char key[700];
    snprintf(DIR_, sizeof DIR_, "%s/vault", d);
    snprintf(key, sizeof key, "%s/key", d);
    free(d);
    EXPECT_OK(vault_key_file_generate(key));
    vault_key src = {NULL, 0, key};
    vault_init_opts o = {&src, VAULT_KDF_FAST, NULL, NULL};
    EXPECT_OK(vault_init(DIR_, &o));
    EXPECT_OK(vault_open(DIR_, &src, &V));
    actor_system(&SYS, "test");
    SEC = person("security1", ROLE_SECURITY, "security");
    LEGAL = person("legal1", ROLE_LEGAL, "legal");
    SVC = person("service1", ROLE_CUSTOMER_SERVICE, "beijing");
    STEW = person("steward1", ROLE_DATA_STEWARD, "beijing");
    AUD = person("auditor1", ROLE_AUDITOR, "audit");
    SALES = person("sales1", ROLE_SALES, "beijing");
    ADMIN = person("admin1", ROLE_ADMIN, "it");
    HR = person("hr1", ROLE_HR, "hr");
    /* the playbook from the vault's own folder */
    char p[700];
    snprintf(p, sizeof p, "%s/playbooks", DIR_);
    EXPECT(mkdir(p, 0700) == 0);
    size_t n = 0;
    char *text = test_slurp("etc/playbooks/customer-data-misread.playbook", &n);
    EXPECT(text != NULL);
    snprintf(p, sizeof p, "%s/playbooks/local.playbook", DIR_);
    FILE *f = fopen(p, "w");
    if (f && text) {
        /* the same playbook under another id */
        char *id = strstr(text, "id customer-data-misread");
        if (id) {
            fwrite(text, 1, (size_t)(id - text), f);
            fputs("id local", f);
            fputs(id + strlen("id customer-data-misread"), f);
        }
        fclose(f);
    }
    free(text);
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

TEST(t_who)
{
    json_t *j = NULL;
    door_incident_open_opts o = {.playbook = "local"};
    EXPECT_ERR(door_incident_open(V, &SALES, &o, &j), ERR_DENIED);
    EXPECT_ERR(door_incident_open(V, &ADMIN, &o, &j), ERR_DENIED);
    EXPECT_ERR(door_incident_open(V, &HR, &o, &j), ERR_DENIED);
    EXPECT_ERR(door_incident_open(V, &AUD, &o, &j), ERR_DENIED);
    EXPECT_ERR(door_incident_open(V, &SVC, &o, &j), ERR_DENIED);
    o.playbook = "../local";
    EXPECT_ERR(door_incident_open(V, &SEC, &o, &j), ERR_INPUT);
    o.playbook = "nosuch";
    EXPECT_ERR(door_incident_open(V, &SEC, &o, &j), ERR_NOT_FOUND);
    o.playbook = "local";
    EXPECT_OK(door_incident_open(V, &SEC, &o, &j));
    snprintf(REAL, sizeof REAL, "%s", jstr(j, "id") ?: "");
    EXPECT_STR(jstr(j, "playbook"), "local");
    json_decref(j);
    EXPECT_ERR(door_incidents_list(V, &SALES, NULL, 0, &j), ERR_DENIED);
    EXPECT_ERR(door_incident_get(V, &ADMIN, REAL, &j), ERR_DENIED);
    EXPECT_ERR(door_incident_get(V, &SEC, "inc_nosuch", &j), ERR_NOT_FOUND);
    EXPECT_OK(door_incident_get(V, &AUD, REAL, &j));
    json_decref(j);
    EXPECT_OK(door_incident_get(V, &STEW, REAL, &j));
    json_decref(j);
}

static size_t count_ids(const json_t *list, const char *id, size_t *drills)
{
    size_t n = 0;
    const json_t *x;
    size_t i;
    json_array_foreach(json_object_get(list, "incidents"), i, x)
    {
        n += strcmp(jstr(x, "id") ?: "", id) == 0;
        *drills += json_is_true(json_object_get(x, "drill"));
    }
    return n;
}

TEST(t_drills_apart)
{
    json_t *j = NULL;
    door_incident_open_opts o = {.playbook = "local", .drill = true};
    EXPECT_OK(door_incident_open(V, &SYS, &o, &j));
    snprintf(DRILL, sizeof DRILL, "%s", jstr(j, "id") ?: "");
    EXPECT(json_is_true(json_object_get(j, "drill")));
    json_decref(j);
    size_t drills = 0;
    EXPECT_OK(door_incidents_list(V, &SEC, "all", 0, &j));
    EXPECT_INT(count_ids(j, DRILL, &drills), 0);
    EXPECT_INT(count_ids(j, REAL, &drills), 1);
    EXPECT_INT(drills, 0);
    json_decref(j);
    drills = 0;
    EXPECT_OK(door_incidents_list(V, &SEC, "open", 1, &j));
    EXPECT_INT(count_ids(j, DRILL, &drills), 1);
    EXPECT_INT(count_ids(j, REAL, &drills), 0);
    EXPECT(drills >= 1);
    json_decref(j);
    EXPECT_ERR(door_incidents_list(V, &SEC, "bogus", 0, &j), ERR_INPUT);
}

/* ---- concurrent work on one incident ---- */

typedef struct worker {
    const actor *a;
    int tag, n, ok;
    bool tasks;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    if (w->tasks) {
        /* security contains while the others write notes */
        json_t *j = NULL;
        w->ok += door_incident_task(V, w->a, REAL, "contain", false, NULL, &j) == ERR_OK;
        json_decref(j);
        j = NULL;
        w->ok += door_incident_task(V, w->a, REAL, "contain", true, "cut", &j) == ERR_OK;
        json_decref(j);
        j = NULL;
        w->ok += door_incident_task(V, w->a, REAL, "seal-decision", true, "no", &j) == ERR_OK;
        json_decref(j);
    }
    for (int i = 0; i < w->n; i++) {
        char note[64];
        snprintf(note, sizeof note, "w%d-n%d", w->tag, i);
        json_t *j = NULL;
        w->ok += door_incident_note(V, w->a, REAL, note, &j) == ERR_OK;
        json_decref(j);
    }
    return NULL;
}

static size_t events(const json_t *inc, const char *kind, const char *what)
{
    size_t n = 0;
    const json_t *e;
    size_t i;
    json_array_foreach(json_object_get(inc, "timeline"), i, e)
    {
        n += strcmp(jstr(e, "kind") ?: "", kind) == 0 &&
             (!what || strcmp(jstr(e, "what") ?: "", what) == 0);
    }
    return n;
}

TEST(t_concurrent)
{
    enum { W = 4, N = 12 };
    const actor *who[W] = {&SEC, &LEGAL, &SVC, &STEW};
    worker w[W];
    pthread_t t[W];
    for (int i = 0; i < W; i++) {
        w[i] = (worker){who[i], i, N, 0, i == 0};
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < W; i++) {
        pthread_join(t[i], NULL);
        EXPECT_INT(w[i].ok, N + (i == 0 ? 3 : 0));
    }
    json_t *inc = NULL;
    EXPECT_OK(door_incident_get(V, &SEC, REAL, &inc));
    for (int i = 0; i < W; i++) {
        for (int k = 0; k < N; k++) {
            char note[64];
            snprintf(note, sizeof note, "w%d-n%d", i, k);
            EXPECT_INT(events(inc, "note", note), 1);
        }
    }
    EXPECT_INT(events(inc, "task_done", "contain"), 1);
    EXPECT_INT(events(inc, "task_done", "seal-decision"), 1);
    json_decref(inc);
}

/* ---- reminders ---- */

static size_t notices_with(const actor *a, const char *rule, const char *needle)
{
    json_t *j = NULL;
    size_t n = 0;
    if (door_notices(V, a, 0, &j) == ERR_OK) {
        const json_t *x;
        size_t i;
        json_array_foreach(json_object_get(j, "notices"), i, x)
        {
            n += strcmp(jstr(x, "rule") ?: "", rule) == 0 &&
                 strstr(jstr(x, "subject") ?: "", needle) != NULL;
        }
    }
    json_decref(j);
    return n;
}

TEST(t_tick)
{
    size_t sent = 0;
    /* now: nothing is due yet */
    EXPECT_OK(door_incident_tick(V, clock_now_us(), &sent));
    EXPECT_INT(sent, 0);
    /* a day later every open task of both incidents is late: escalated once each */
    int64_t later = clock_now_us() + (int64_t)86400 * 1000000;
    EXPECT_OK(door_incident_tick(V, later, &sent));
    EXPECT(sent > 0);
    size_t again = 0;
    EXPECT_OK(door_incident_tick(V, later, &again));
    EXPECT_INT(again, 0);
    json_t *inc = NULL;
    EXPECT_OK(door_incident_get(V, &SEC, REAL, &inc));
    const json_t *t;
    size_t i, open = 0;
    json_array_foreach(json_object_get(inc, "tasks"), i, t)
    {
        open += strcmp(jstr(t, "state") ?: "", "done") != 0 &&
                json_integer_value(json_object_get(t, "due_us")) <= later;
    }
    EXPECT_INT(events(inc, "escalated", NULL), open);
    json_decref(inc);
    /* legal's late tasks told to legal; the real incident's late notices are not marked drill,
     * the drill's are */
    EXPECT(notices_with(&LEGAL, "incident-task-late", REAL) > 0);
    EXPECT(notices_with(&LEGAL, "incident-task-late", DRILL) > 0);
    EXPECT(notices_with(&SEC, "incident-task-late", "[drill]") > 0);
    /* every task was told once: a later tick sends nothing more */
    EXPECT_OK(door_incident_tick(V, later + (int64_t)86400 * 1000000, &sent));
    EXPECT_INT(sent, 0);
}

TEST(t_sealed_at_rest)
{
    const char *files[] = {"custos.db", "custos.db-wal"};
    for (size_t i = 0; i < 2; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s", DIR_, files[i]);
        size_t n = 0;
        char *b = test_slurp(p, &n);
        if (!b) {
            continue;
        }
        EXPECT(memmem(b, n, "w1-n3", 5) == NULL);
        free(b);
    }
}

int main(void)
{
    test_init();
    RUN(t_setup);
    RUN(t_who);
    RUN(t_drills_apart);
    RUN(t_concurrent);
    RUN(t_tick);
    RUN(t_sealed_at_rest);
    vault_close(V);
    return test_done("door_incident_test");
}
