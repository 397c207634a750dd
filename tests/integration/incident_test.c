/*
 * incident_test.c - incidents on a real server: an alert (a honeytoken read) opened as an
 * incident in one click, the roles the playbook names and nobody else working its tasks,
 * one-click containment that really locks and blocks (and is audited), the breach scope equal
 * to exactly what the reading account read, the evidence bundle verified offline by
 * `custos audit verify-bundle` and refused after one changed byte, the closing rules,
 * reminders and escalation of late tasks from the server's timer, and concurrent changes of
 * one incident all kept.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../unit/test.h"
#include "core/clock.h"
#include "core/mem.h"
#include "harness.h"

static srv S;
enum { SEC, LEGAL, SERVICE, STEWARD1, STEWARD2, STEWARD3, AUDITOR, SALES, ADMIN, HR, NU };
static const char *const UN[NU] = {"security1", "legal1",   "service1", "steward1", "steward2",
                                   "steward3",  "auditor1", "sales1",   "admin",    "hr1"};
static char T[NU][128];
static char INCID[64];     /* the incident opened from the alert */
static long long ALERT_ID; /* the honeytoken alert */
static char READ_IDS[3][ID_LEN + 1];
static char HONEY[ID_LEN + 1];

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static long long jint(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static int post(int u, const char *path, const char *body, json_t **out)
{
    return h_json(&S, "POST", path, T[u], body ? body : "{}", out);
}

static int get(int u, const char *path, json_t **out)
{
    return h_json(&S, "GET", path, T[u], NULL, out);
}

static json_t *incident(int u, const char *id)
{
    char p[160];
    snprintf(p, sizeof p, "/v1/incidents/%s", id);
    json_t *j = NULL;
    if (get(u, p, &j) != 200) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static const json_t *task_of(const json_t *inc, const char *id)
{
    const json_t *t;
    size_t i;
    json_array_foreach(json_object_get(inc, "tasks"), i, t)
    {
        if (jstr(t, "id") && strcmp(jstr(t, "id"), id) == 0) {
            return t;
        }
    }
    return NULL;
}

static size_t events_of(const json_t *inc, const char *kind, const char *needle)
{
    size_t n = 0;
    const json_t *e;
    size_t i;
    json_array_foreach(json_object_get(inc, "timeline"), i, e)
    {
        if (strcmp(jstr(e, "kind") ?: "", kind) == 0 &&
            (!needle || strstr(jstr(e, "what") ?: "", needle))) {
            n++;
        }
    }
    return n;
}

/* Audit entries of an action (as the auditor), counted where reason holds needle. */
static size_t audited(const char *action, const char *decision, const char *needle)
{
    char p[200];
    snprintf(p, sizeof p, "/v1/audit/entries?action=%s%s%s&limit=1000", action,
             decision ? "&decision=" : "", decision ? decision : "");
    json_t *j = NULL;
    size_t n = 0;
    if (get(AUDITOR, p, &j) == 200) {
        const json_t *e;
        size_t i;
        json_array_foreach(json_object_get(j, "entries"), i, e)
        {
            const json_t *d = json_object_get(e, "decoded");
            if (!needle || strstr(jstr(d, "reason") ?: "", needle)) {
                n++;
            }
        }
    }
    json_decref(j);
    return n;
}

TEST(t_start)
{
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "41", 1);
    setenv("CUSTOS_INCIDENT_TICK_MS", "200", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "40", NULL};
    EXPECT_INT(h_cli(&S, NULL, demo), 0);
    /* The guard with the rules this test needs: the honeytoken alert (without a lock, so the
     * incident's own containment is what acts) and the door's notices; the refusals this
     * test provokes on purpose do not trip other rules. */
    char p[700];
    snprintf(p, sizeof p, "%s/guard.rules", S.dir);
    FILE *f = fopen(p, "w");
    EXPECT(f != NULL);
    if (f) {
        fputs("version 1\nlimit address 100000/s burst 100000\nlimit account 100000/s burst "
              "100000\nlimit connections 4096\n"
              "rule honeytoken\n    detect honeytoken\n    severity critical\n"
              "    respond alert\nend\n"
              "rule door-notices\n    detect notice\n    severity high\n    respond alert\nend\n"
              "rule own-fails\n    detect login_fail\n    per account\n    threshold 3 within "
              "15m\n    severity high\n    respond alert\nend\n",
              f);
        fclose(f);
    }
    EXPECT(h_start(&S));
    for (int u = 0; u < NU; u++) {
        EXPECT(h_login(&S, UN[u], DEMO_PW, T[u]));
    }
}

TEST(t_alert_to_incident)
{
    /* steward3 reads three beijing customers, then the beijing honeytoken. */
    json_t *j = NULL;
    EXPECT_INT(get(STEWARD1, "/v1/customers?limit=10", &j), 200);
    size_t n = 0;
    const json_t *c;
    size_t i;
    json_array_foreach(json_object_get(j, "customers"), i, c)
    {
        if (n < 3 && jstr(c, "id")) {
            snprintf(READ_IDS[n++], ID_LEN + 1, "%s", jstr(c, "id"));
        }
    }
    json_decref(j);
    EXPECT_INT(n, 3);
    EXPECT_INT(get(SEC, "/v1/honeytokens", &j), 200);
    json_array_foreach(json_object_get(j, "honeytokens"), i, c)
    {
        if (!HONEY[0] && strcmp(jstr(c, "department") ?: "", "beijing") == 0) {
            snprintf(HONEY, sizeof HONEY, "%s", jstr(c, "id"));
        }
    }
    json_decref(j);
    EXPECT(HONEY[0] != '\0');
    char p[160];
    for (size_t k = 0; k < 3; k++) {
        snprintf(p, sizeof p, "/v1/customers/%s", READ_IDS[k]);
        EXPECT_INT(get(STEWARD3, p, NULL), 200);
    }
    snprintf(p, sizeof p, "/v1/customers/%s", HONEY);
    EXPECT_INT(get(STEWARD3, p, NULL), 200);
    /* the guard's alert */
    int64_t dl = h_deadline(30000);
    while (!ALERT_ID) {
        json_t *a = NULL;
        if (get(SEC, "/v1/alerts?rule=honeytoken", &a) == 200 &&
            json_array_size(json_object_get(a, "alerts")) > 0) {
            ALERT_ID = jint(json_array_get(json_object_get(a, "alerts"), 0), "id");
        }
        json_decref(a);
        if (!ALERT_ID && !h_poll(dl)) {
            break;
        }
    }
    EXPECT(ALERT_ID > 0);
    /* sales, admin, HR and API keys see nothing of incidents */
    EXPECT_INT(get(SALES, "/v1/incidents", NULL), 403);
    EXPECT_INT(get(ADMIN, "/v1/incidents?state=all", NULL), 403);
    EXPECT_INT(get(HR, "/v1/incidents", NULL), 403);
    char body[200];
    snprintf(body, sizeof body, "{\"playbook\":\"customer-data-misread\",\"alert\":%lld}",
             ALERT_ID);
    EXPECT_INT(post(SALES, "/v1/incidents", body, NULL), 403);
    EXPECT_INT(post(ADMIN, "/v1/incidents", body, NULL), 403);
    /* customer service reads incidents but does not open them */
    EXPECT_INT(post(SERVICE, "/v1/incidents", body, NULL), 403);
    /* a playbook id is a name, never a path */
    EXPECT_INT(post(SEC, "/v1/incidents", "{\"playbook\":\"../../etc/passwd\"}", NULL), 400);
    /* one click */
    j = NULL;
    EXPECT_INT(post(SEC, "/v1/incidents", body, &j), 201);
    snprintf(INCID, sizeof INCID, "%s", jstr(j, "id") ?: "");
    EXPECT(INCID[0] != '\0');
    char aid[32];
    snprintf(aid, sizeof aid, "%lld", ALERT_ID);
    EXPECT_STR(jstr(j, "source_alert"), aid);
    EXPECT_STR(jstr(j, "phase"), "detection");
    EXPECT_STR(jstr(j, "owner"), "security1");
    EXPECT(json_array_size(json_object_get(json_object_get(j, "alert"), "evidence")) > 0);
    const json_t *contain = task_of(j, "contain");
    EXPECT(contain != NULL);
    EXPECT_STR(json_string_value(json_array_get(json_object_get(contain, "roles"), 0)), "security");
    EXPECT(jstr(contain, "due_at") != NULL);
    EXPECT(json_array_size(json_object_get(j, "deadlines")) == 3);
    EXPECT(json_object_get(j, "playbook_text") == NULL);
    json_decref(j);
    /* the alert was taken up */
    snprintf(p, sizeof p, "/v1/alerts?rule=honeytoken");
    EXPECT_INT(get(SEC, p, &j), 200);
    EXPECT_STR(jstr(json_array_get(json_object_get(j, "alerts"), 0), "status"), "acknowledged");
    json_decref(j);
    /* listed among real incidents, read by the reader roles */
    EXPECT_INT(get(AUDITOR, "/v1/incidents", &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "incidents")), 1);
    EXPECT_STR(jstr(json_array_get(json_object_get(j, "incidents"), 0), "id"), INCID);
    json_decref(j);
    EXPECT_INT(get(AUDITOR, "/v1/incidents?drill=1", &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "incidents")), 0);
    json_decref(j);
    EXPECT_INT(audited("incident.open", "allow", INCID), 1);
    EXPECT(audited("incident.list", "deny", NULL) >= 3);
}

TEST(t_task_roles)
{
    char p[200];
    json_t *j = NULL;
    /* legal is not the containment team; customer service neither */
    snprintf(p, sizeof p, "/v1/incidents/%s/tasks/contain/start", INCID);
    EXPECT_INT(post(LEGAL, p, NULL, NULL), 403);
    EXPECT_INT(post(SERVICE, p, NULL, NULL), 403);
    EXPECT_INT(post(SALES, p, NULL, NULL), 403);
    /* scope waits for contain */
    snprintf(p, sizeof p, "/v1/incidents/%s/tasks/scope/start", INCID);
    EXPECT_INT(post(SEC, p, NULL, &j), 409);
    json_decref(j);
    snprintf(p, sizeof p, "/v1/incidents/%s/tasks/contain/start", INCID);
    EXPECT_INT(post(SEC, p, NULL, &j), 200);
    EXPECT_STR(jstr(task_of(j, "contain"), "state"), "started");
    json_decref(j);
    EXPECT_INT(post(SEC, p, NULL, NULL), 409); /* started already */
    snprintf(p, sizeof p, "/v1/incidents/%s/tasks/nosuch/start", INCID);
    EXPECT_INT(post(SEC, p, NULL, NULL), 404);
    EXPECT(audited("incident.task", "deny", "task=contain") >= 3);
    /* the auditor reads but writes nothing */
    snprintf(p, sizeof p, "/v1/incidents/%s/notes", INCID);
    EXPECT_INT(post(AUDITOR, p, "{\"note\":\"x\"}", NULL), 403);
    /* phases and owners are for security and legal */
    snprintf(p, sizeof p, "/v1/incidents/%s/phase", INCID);
    EXPECT_INT(post(SERVICE, p, "{\"phase\":\"containment\"}", NULL), 403);
    EXPECT_INT(post(SEC, p, "{\"phase\":\"recovery\"}", NULL), 409); /* one step at a time */
    EXPECT_INT(post(SEC, p, "{\"phase\":\"containment\"}", NULL), 200);
    snprintf(p, sizeof p, "/v1/incidents/%s/owner", INCID);
    EXPECT_INT(post(SEC, p, "{\"owner\":\"sales1\"}", NULL), 400);
    EXPECT_INT(post(SEC, p, "{\"owner\":\"legal1\"}", &j), 200);
    EXPECT_STR(jstr(j, "owner"), "legal1");
    json_decref(j);
}

TEST(t_containment)
{
    char p[200], body[300];
    json_t *j = NULL;
    snprintf(p, sizeof p, "/v1/incidents/%s/actions", INCID);
    /* only the five containment actions: nothing that lifts */
    EXPECT_INT(post(SEC, p,
                    "{\"task\":\"contain\",\"action\":\"unblock\",\"target\":\"192.0.2.7\"}", NULL),
               400);
    EXPECT_INT(
        post(SEC, p, "{\"task\":\"contain\",\"action\":\"unlock\",\"target\":\"steward3\"}", NULL),
        400);
    /* a task that does not offer it */
    EXPECT_INT(post(SEC, p,
                    "{\"task\":\"scope\",\"action\":\"lock-account\",\"target\":\"steward3\"}",
                    NULL),
               400);
    /* a role the task is not for */
    EXPECT_INT(post(LEGAL, p,
                    "{\"task\":\"contain\",\"action\":\"lock-account\",\"target\":\"steward3\"}",
                    NULL),
               403);
    /* nobody the incident is not about: sales2 is neither the alert's account nor in its scope,
     * nor are the auditor or the other lead */
    char tok[128];
    EXPECT_INT(post(SEC, p,
                    "{\"task\":\"contain\",\"action\":\"lock-account\",\"target\":\"sales2\"}",
                    NULL),
               403);
    EXPECT_INT(post(SEC, p,
                    "{\"task\":\"contain\",\"action\":\"lock-account\",\"target\":\"auditor1\"}",
                    NULL),
               403);
    EXPECT_INT(post(SEC, p,
                    "{\"task\":\"contain\",\"action\":\"lock-account\",\"target\":\"legal1\"}",
                    NULL),
               403);
    EXPECT_INT(post(SEC, p,
                    "{\"task\":\"contain\",\"action\":\"revoke-api-key\",\"target\":\"nokey\"}",
                    NULL),
               404);
    EXPECT(h_login(&S, "sales2", DEMO_PW, tok));
    EXPECT(h_login(&S, "auditor1", DEMO_PW, tok));
    EXPECT(audited("incident.contain", "deny", NULL) >= 3);
    /* steward3, the alert's account, approves changes (a role that watches others): security
     * proposes, nothing happens until a second lead confirms */
    EXPECT(h_login(&S, "steward3", DEMO_PW, tok));
    EXPECT_INT(post(SEC, p,
                    "{\"task\":\"contain\",\"action\":\"lock-account\",\"target\":\"steward3\"}",
                    &j),
               200);
    EXPECT(json_is_true(json_object_get(j, "pending")));
    EXPECT_INT(events_of(j, "action", "lock-account steward3"), 0);
    {
        json_t *pi = incident(LEGAL, INCID); /* the second lead sees what waits */
        const json_t *pa = json_array_get(json_object_get(pi, "pending_actions"), 0);
        EXPECT_STR(jstr(pa, "target"), "steward3");
        EXPECT_STR(jstr(pa, "by"), "security1");
        EXPECT(jstr(pa, "expires_at") != NULL);
        json_decref(pi);
    }
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/me", tok, NULL, NULL), 200); /* not yet */
    /* the proposer cannot confirm alone */
    EXPECT_INT(post(SEC, p,
                    "{\"task\":\"contain\",\"action\":\"lock-account\",\"target\":\"steward3\"}",
                    NULL),
               409);
    EXPECT_INT(h_json(&S, "GET", "/v1/me", tok, NULL, NULL), 200);
    /* legal confirms: locked */
    EXPECT_INT(post(LEGAL, p,
                    "{\"task\":\"contain\",\"action\":\"lock-account\",\"target\":\"steward3\"}",
                    &j),
               200);
    EXPECT_INT(events_of(j, "action", "lock-account steward3"), 1);
    EXPECT_INT(events_of(j, "note", "confirmed by legal1"), 1);
    json_decref(j);
    EXPECT(!h_login(&S, "steward3", DEMO_PW, tok));
    EXPECT_INT(h_json(&S, "GET", "/v1/me", tok, NULL, NULL), 401); /* its session ended */
    EXPECT_INT(audited("account.lock", "allow", "steward3"), 1);
    EXPECT_INT(audited("incident.contain", "allow", "pending=second-lead"), 1);
    EXPECT_INT(audited("incident.contain", "allow", "confirmed=legal1 proposed_by=security1"), 1);
    /* a guard sanction carrying the incident, bounded (30 days), lifted from the sanctions */
    char rule[100];
    snprintf(rule, sizeof rule, "incident:%s", INCID);
    EXPECT_INT(get(SEC, "/v1/guard/sanctions", &j), 200);
    bool listed = false;
    {
        const json_t *x;
        size_t i;
        json_array_foreach(json_object_get(j, "sanctions"), i, x)
        {
            if (strcmp(jstr(x, "kind") ?: "", "lock") == 0 &&
                strcmp(jstr(x, "subject") ?: "", "account:steward3") == 0) {
                listed = strcmp(jstr(x, "rule") ?: "", rule) == 0;
                int64_t until = 0;
                EXPECT(clock_parse_rfc3339(jstr(x, "until") ?: "", &until) == ERR_OK);
                EXPECT(until > 0 && until <= clock_now_us() + (int64_t)31 * 86400 * 1000000);
            }
        }
    }
    json_decref(j);
    EXPECT(listed);
    EXPECT_INT(post(SEC, "/v1/guard/unlock", "{\"account\":\"steward3\"}", NULL), 200);
    EXPECT(h_login(&S, "steward3", DEMO_PW, T[STEWARD3]));
    /* one cannot lock oneself out through an incident */
    EXPECT_INT(post(SEC, p,
                    "{\"task\":\"contain\",\"action\":\"lock-account\",\"target\":\"security1\"}",
                    NULL),
               403);
    /* block an address: the guard's sanction list holds it */
    snprintf(body, sizeof body,
             "{\"task\":\"contain\",\"action\":\"block-address\",\"target\":\"192.0.2.7\"}");
    EXPECT_INT(post(SEC, p, body, NULL), 200);
    EXPECT_INT(get(SEC, "/v1/guard/sanctions", &j), 200);
    bool blocked = false;
    const json_t *x;
    size_t i;
    json_array_foreach(json_object_get(j, "sanctions"), i, x)
    {
        blocked = blocked || (strcmp(jstr(x, "kind") ?: "", "block") == 0 &&
                              strstr(jstr(x, "subject") ?: "", "192.0.2.7"));
    }
    json_decref(j);
    EXPECT(blocked);
    EXPECT(audited("guard.block", NULL, "192.0.2.7") >= 1);
    /* revoke sessions of steward1 */
    char t2[128];
    EXPECT(h_login(&S, "steward2", DEMO_PW, t2));
    EXPECT_INT(post(SEC, p,
                    "{\"task\":\"contain\",\"action\":\"revoke-sessions\",\"target\":\"steward2\"}",
                    NULL),
               200);
    EXPECT_INT(h_json(&S, "GET", "/v1/me", t2, NULL, NULL), 401);
    EXPECT(h_login(&S, "steward2", DEMO_PW, T[STEWARD2])); /* not locked: may sign in again */
    json_t *inc = incident(SEC, INCID);
    EXPECT_INT(events_of(inc, "action", NULL), 3);
    json_decref(inc);
    snprintf(p, sizeof p, "/v1/incidents/%s/tasks/contain/done", INCID);
    EXPECT_INT(post(SEC, p, "{\"note\":\"locked, blocked, revoked\"}", NULL), 200);
}

TEST(t_scope)
{
    char p[200], body[300];
    json_t *j = NULL;
    snprintf(p, sizeof p, "/v1/incidents/%s/scope", INCID);
    EXPECT_INT(get(SEC, p, NULL), 404); /* not computed yet */
    EXPECT_INT(post(SALES, p, "{\"actors\":[\"steward3\"]}", NULL), 403);
    EXPECT_INT(post(SERVICE, p, "{\"actors\":[\"steward3\"]}", NULL), 403);
    snprintf(body, sizeof body, "{\"actors\":[\"steward3\"]}");
    int64_t t0 = clock_mono_us();
    EXPECT_INT(post(SEC, p, body, &j), 200);
    printf("  scope of steward3 computed over %lld log entries in %lld ms\n",
           (long long)jint(json_object_get(j, "checkpoint"), "size"),
           (long long)((clock_mono_us() - t0) / 1000));
    json_t *cust = json_object_get(j, "customers");
    EXPECT_INT(json_array_size(cust), 3);
    for (size_t k = 0; k < 3; k++) {
        bool found = false;
        const json_t *c;
        size_t i;
        json_array_foreach(cust, i, c)
        {
            found = found || strcmp(jstr(c, "id") ?: "", READ_IDS[k]) == 0;
            EXPECT(json_array_size(json_object_get(c, "fields")) > 0);
            EXPECT(json_object_get(c, "name") == NULL);
        }
        EXPECT(found);
    }
    EXPECT_INT(json_array_size(json_object_get(j, "honeytokens")), 1);
    EXPECT_STR(json_string_value(json_array_get(json_object_get(j, "honeytokens"), 0)), HONEY);
    EXPECT_INT(jint(json_object_get(j, "by_department"), "beijing"), 3);
    EXPECT_INT(jint(j, "people"), 3);
    EXPECT(jint(json_object_get(j, "checkpoint"), "size") > 0);
    EXPECT(jstr(json_object_get(j, "checkpoint"), "root") != NULL);
    json_decref(j);
    /* no personal value anywhere in the answer: the customers' names are not in it */
    buf resp;
    buf_init(&resp, 1 << 22);
    EXPECT_INT(h_req(&S, "GET", p, T[LEGAL], NULL, NULL, 0, &resp, NULL), 200);
    for (size_t k = 0; k < 3; k++) {
        char cp[160];
        snprintf(cp, sizeof cp, "/v1/customers/%s", READ_IDS[k]);
        json_t *cj = NULL;
        if (get(STEWARD1, cp, &cj) == 200) {
            const char *name = jstr(cj, "name");
            EXPECT(name && !strstr(buf_cstr(&resp), name));
            const char *phone = jstr(cj, "phone");
            EXPECT(!phone || !strstr(buf_cstr(&resp), phone));
        }
        json_decref(cj);
    }
    buf_free(&resp);
    /* a steward of another department sees none of beijing's customers */
    EXPECT_INT(get(STEWARD2, p, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "customers")), 0);
    json_decref(j);
    EXPECT_INT(get(SALES, p, NULL), 403);
    EXPECT(audited("incident.scope", "allow", INCID) >= 2);
}

TEST(t_evidence)
{
    char p[200];
    snprintf(p, sizeof p, "/v1/incidents/%s/evidence", INCID);
    EXPECT_INT(post(SERVICE, p, "{\"reason\":\"x\"}", NULL), 403);
    EXPECT_INT(post(LEGAL, p, "{}", NULL), 400); /* why is required */
    buf b;
    buf_init(&b, 64 << 20);
    const char *body = "{\"reason\":\"for the regulator and counsel\"}";
    int64_t t0 = clock_mono_us();
    EXPECT_INT(h_req(&S, "POST", p, T[LEGAL], "application/json", body, strlen(body), &b, NULL),
               200);
    printf("  evidence bundle: %zu bytes in %lld ms\n", b.len,
           (long long)((clock_mono_us() - t0) / 1000));
    EXPECT(strstr(h_last_headers(), "attachment") != NULL);
    char file[700], bad[700];
    snprintf(file, sizeof file, "%s/../evidence.json", S.dir);
    snprintf(bad, sizeof bad, "%s/../evidence-bad.json", S.dir);
    FILE *f = fopen(file, "wb");
    EXPECT(f != NULL);
    if (f) {
        fwrite(b.p, 1, b.len, f);
        fclose(f);
    }
    const char *verify[] = {"audit", "verify-bundle", file, NULL};
    buf o;
    buf_init(&o, 1 << 20);
    EXPECT_INT(h_cli(&S, &o, verify), 0);
    buf_free(&o);
    /* one changed byte anywhere is caught: a digit in the middle of the file */
    size_t at = b.len / 2;
    while (at < b.len && !(b.p[at] >= '0' && b.p[at] <= '9')) {
        at++;
    }
    if (at < b.len) {
        b.p[at] = b.p[at] == '9' ? '1' : (uint8_t)(b.p[at] + 1);
    }
    f = fopen(bad, "wb");
    if (f) {
        fwrite(b.p, 1, b.len, f);
        fclose(f);
    }
    const char *verify_bad[] = {"audit", "verify-bundle", bad, NULL};
    EXPECT(h_cli(&S, NULL, verify_bad) != 0);
    buf_free(&b);
    /* the chain of custody: who, when, why */
    json_t *inc = incident(AUDITOR, INCID);
    const json_t *c = json_array_get(json_object_get(inc, "custody"), 0);
    EXPECT_STR(jstr(c, "by"), "legal1");
    EXPECT_STR(jstr(c, "reason"), "for the regulator and counsel");
    EXPECT(jstr(c, "at") != NULL);
    EXPECT(strlen(jstr(c, "manifest_sha256") ?: "") == 64);
    json_decref(inc);
    EXPECT(audited("evidence.export", "allow", NULL) >= 1);
    /* the reason stays in the sealed custody record: the audit log holds its length and hash */
    EXPECT_INT(audited("evidence.export", NULL, "regulator and counsel"), 0);
    EXPECT(audited("evidence.export", "allow", "sha256=") >= 1);
}

/* A document of an incident (report or evidence index) as user u into b; the status. */
static int doc(int u, const char *what, const char *lang, const char *format, buf *b)
{
    char p[300];
    snprintf(p, sizeof p, "/v1/incidents/%s/%s?lang=%s&format=%s", INCID, what, lang, format);
    buf_reset(b);
    return h_req(&S, "GET", p, T[u], NULL, NULL, 0, b, NULL);
}

/* The bundle's manifest line of name ("documents/x.json" or "entries"): its SHA-256. */
static bool manifest_hash(const char *manifest, const char *name, char out[65])
{
    const char *l = manifest;
    while (l && *l) {
        const char *end = strchr(l, '\n');
        size_t n = end ? (size_t)(end - l) : strlen(l);
        if (n == 66 + strlen(name) && memcmp(l + 66, name, strlen(name)) == 0) {
            memcpy(out, l, 64);
            out[64] = '\0';
            return true;
        }
        l = end ? end + 1 : NULL;
    }
    return false;
}

/* The evidence index and the bundle exported right after it say the same: the entries, the
 * checkpoint, every document's hash but the export's own custody record, the earlier custody. */
TEST(t_evidence_index)
{
    char p[200];
    /* a note that HTML must escape, for t_reports */
    snprintf(p, sizeof p, "/v1/incidents/%s/notes", INCID);
    EXPECT_INT(post(SEC, p, "{\"note\":\"<script>alert(1)</script> & co\"}", NULL), 200);
    buf b, bb;
    buf_init(&b, 64 << 20);
    buf_init(&bb, 64 << 20);
    EXPECT_INT(doc(SALES, "evidence/index", "en", "json", &b), 403);
    EXPECT_INT(doc(SERVICE, "evidence/index", "en", "json", &b), 403);
    EXPECT_INT(doc(LEGAL, "evidence/index", "xx", "json", &b), 400);
    EXPECT_INT(doc(LEGAL, "evidence/index", "en", "json", &b), 200);
    json_error_t je;
    json_t *ix = json_loadb((const char *)b.p, b.len, 0, &je);
    EXPECT(ix != NULL);
    snprintf(p, sizeof p, "/v1/incidents/%s/evidence", INCID);
    const char *body = "{\"reason\":\"index check\"}";
    EXPECT_INT(h_req(&S, "POST", p, T[LEGAL], "application/json", body, strlen(body), &bb, NULL),
               200);
    json_t *bundle = json_loadb((const char *)bb.p, bb.len, 0, &je);
    EXPECT(bundle != NULL);
    /* the entries: the same indexes in the same order, with the leaf hashes the manifest's
     * entries line is made of */
    const json_t *ie = json_object_get(ix, "entries"), *be = json_object_get(bundle, "entries");
    EXPECT(json_array_size(ie) > 0);
    EXPECT_INT(json_array_size(ie), json_array_size(be));
    for (size_t i = 0; i < json_array_size(ie) && i < json_array_size(be); i++) {
        EXPECT_INT(jint(json_array_get(ie, i), "index"), jint(json_array_get(be, i), "index"));
        EXPECT(strlen(jstr(json_array_get(ie, i), "leaf") ?: "") == 64);
        EXPECT(jstr(json_array_get(ie, i), "action") != NULL);
    }
    EXPECT_STR(jstr(json_object_get(ix, "checkpoint"), "note"),
               jstr(json_object_get(bundle, "checkpoints"), "scope"));
    const char *man = jstr(bundle, "manifest") ?: "";
    const json_t *im = json_object_get(ix, "manifest");
    EXPECT_INT(json_object_size(im), 4); /* alerts, scope, timeline, entries */
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)im, k, val)
    {
        char h[65] = "";
        EXPECT(manifest_hash(man, k, h));
        EXPECT_STR(json_string_value(val), h);
    }
    EXPECT(json_object_get(im, "entries") != NULL);
    /* the chain of custody the index shows is the bundle's earlier one */
    json_t *cust =
        json_loads(jstr(json_object_get(bundle, "documents"), "custody.json") ?: "null", 0, &je);
    EXPECT(json_equal(json_object_get(cust, "earlier"), json_object_get(ix, "custody")));
    EXPECT(json_array_size(json_object_get(ix, "custody")) >= 1);
    json_decref(cust);
    json_decref(bundle);
    json_decref(ix);
    /* the index exported nothing: one evidence.export per bundle */
    EXPECT(audited("incident.evidence_index", "allow", INCID) >= 1);
    EXPECT(audited("incident.evidence_index", "deny", NULL) >= 2);
    buf_free(&b);
    buf_free(&bb);
}

typedef struct ev_job {
    int u, n, ok;
    bool index; /* reads the evidence index instead of exporting */
} ev_job;

static void *exporter(void *arg)
{
    ev_job *ej = arg;
    buf b;
    buf_init(&b, 64 << 20);
    for (int k = 0; k < ej->n; k++) {
        char p[200], body[100];
        int st;
        if (ej->index) {
            snprintf(p, sizeof p, "/v1/incidents/%s/evidence/index?lang=en&format=json", INCID);
            st = h_req(&S, "GET", p, T[ej->u], NULL, NULL, 0, &b, NULL);
        } else {
            snprintf(p, sizeof p, "/v1/incidents/%s/evidence", INCID);
            snprintf(body, sizeof body, "{\"reason\":\"conc-%d-%d\"}", ej->u, k);
            st = h_req(&S, "POST", p, T[ej->u], "application/json", body, strlen(body), &b, NULL);
        }
        ej->ok += st == 200;
    }
    buf_free(&b);
    return NULL;
}

/* Exports by three people at once, while the index is read: every custody record is kept, once,
 * and the index shows the chain as the incident holds it. */
TEST(t_evidence_concurrent)
{
    enum { W = 4, N = 3 };
    ev_job jobs[W] = {
        {SEC, N, 0, false}, {LEGAL, N, 0, false}, {AUDITOR, N, 0, false}, {LEGAL, N, 0, true}};
    pthread_t th[W];
    for (int w = 0; w < W; w++) {
        pthread_create(&th[w], NULL, exporter, &jobs[w]);
    }
    for (int w = 0; w < W; w++) {
        pthread_join(th[w], NULL);
        EXPECT_INT(jobs[w].ok, N);
    }
    json_t *inc = incident(AUDITOR, INCID);
    const json_t *cust = json_object_get(inc, "custody");
    for (int w = 0; w < 3; w++) {
        for (int k = 0; k < N; k++) {
            char want[40];
            snprintf(want, sizeof want, "conc-%d-%d", jobs[w].u, k);
            size_t n = 0;
            const json_t *c;
            size_t i;
            json_array_foreach(cust, i, c)
            {
                n += strcmp(jstr(c, "reason") ?: "", want) == 0;
            }
            EXPECT_INT(n, 1);
        }
    }
    buf b;
    buf_init(&b, 64 << 20);
    EXPECT_INT(doc(LEGAL, "evidence/index", "en", "json", &b), 200);
    json_error_t je;
    json_t *ix = json_loadb((const char *)b.p, b.len, 0, &je);
    EXPECT(json_equal(json_object_get(ix, "custody"), cust));
    json_decref(ix);
    json_decref(inc);
    buf_free(&b);
}

static bool has(const buf *b, const char *s)
{
    return memmem(b->p, b->len, s, strlen(s)) != NULL;
}

/* A PDF through pdftotext: the text into out. */
static bool pdf_text(const buf *pdf, const char *name, buf *out)
{
    char in[700], txt[700], cmd[1600];
    snprintf(in, sizeof in, "%s/../%s.pdf", S.dir, name);
    snprintf(txt, sizeof txt, "%s/../%s.txt", S.dir, name);
    FILE *f = fopen(in, "wb");
    if (!f) {
        return false;
    }
    fwrite(pdf->p, 1, pdf->len, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 '%s' '%s'", in, txt);
    if (system(cmd) != 0) {
        return false;
    }
    f = fopen(txt, "rb");
    if (!f) {
        return false;
    }
    char chunk[8192];
    size_t n;
    buf_reset(out);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf_append(out, chunk, n) != ERR_OK) {
            break;
        }
    }
    fclose(f);
    return true;
}

/* The incident report and the evidence index in each language and format; nothing personal. */
TEST(t_reports)
{
    /* a canary: the name of a customer read during this test */
    char p[200], canary[200] = "";
    json_t *j = NULL;
    snprintf(p, sizeof p, "/v1/customers/%s", READ_IDS[0]);
    EXPECT_INT(get(STEWARD1, p, &j), 200);
    snprintf(canary, sizeof canary, "%s", jstr(j, "name") ?: "");
    json_decref(j);
    EXPECT(strlen(canary) >= 3);
    json_t *inc = incident(SEC, INCID);
    EXPECT(inc != NULL);
    buf b, t;
    buf_init(&b, 64 << 20);
    buf_init(&t, 64 << 20);
    EXPECT_INT(doc(SALES, "report", "en", "text", &b), 403);
    EXPECT_INT(doc(ADMIN, "report", "en", "pdf", &b), 403);
    EXPECT_INT(doc(SALES, "evidence/index", "en", "pdf", &b), 403);
    EXPECT_INT(doc(AUDITOR, "report", "fr", "text", &b), 400);
    EXPECT_INT(doc(AUDITOR, "report", "en", "docx", &b), 400);
    static const char *const langs[] = {"zh-CN", "en"};
    static const char *const fmts[] = {"text", "html", "pdf"};
    static const char *const heads[][2] = {{"安全事件报告", "Incident report"},
                                           {"证据索引", "Evidence index"}};
    for (int w = 0; w < 2; w++) {
        for (int li = 0; li < 2; li++) {
            for (int fi = 0; fi < 3; fi++) {
                int u = w == 0 ? SERVICE : AUDITOR;
                EXPECT_INT(doc(u, w == 0 ? "report" : "evidence/index", langs[li], fmts[fi], &b),
                           200);
                const char *hd = h_last_headers();
                EXPECT(strstr(hd, "default-src 'none'") != NULL);
                const buf *text = &b;
                if (fi == 2) {
                    EXPECT(b.len > 4 && memcmp(b.p, "%PDF", 4) == 0);
                    char name[64];
                    snprintf(name, sizeof name, "doc-%d-%s", w, langs[li]);
                    EXPECT(pdf_text(&b, name, &t));
                    text = &t;
                    EXPECT(!has(&t, "\xef\xbf\xbd") && !has(&t, "\xc3\xa6") &&
                           !has(&t, "\xc3\xa5")); /* no U+FFFD, no UTF-8 read as Latin-1 */
                }
                if (fi == 1) {
                    EXPECT(!has(&b, "<script") && !has(&b, "style=") && !has(&b, "onload"));
                    if (w == 0) {
                        EXPECT(has(&b, "&lt;script&gt;"));
                    }
                }
                EXPECT(has(text, heads[w][li]));
                EXPECT(has(text, INCID));
                EXPECT(!has(text, canary));
                if (w == 0) {
                    /* every task id, the closing, a late mark where one is late */
                    const json_t *tk;
                    size_t i;
                    json_array_foreach(json_object_get(inc, "tasks"), i, tk)
                    {
                        EXPECT(has(text, jstr(tk, "id")));
                    }
                    EXPECT(has(text, "true-positive-impact"));
                    EXPECT(has(text, "cac-initial"));
                    EXPECT(has(text, li == 0 ? "已采取的遏制措施" : "Containment actions"));
                    EXPECT(has(text, "lock-account"));
                } else {
                    EXPECT(has(text, "evidence.export") || has(text, "customer.read") ||
                           has(text, "documents/scope.json"));
                    EXPECT(has(text, "documents/scope.json"));
                    EXPECT(has(text, "index check"));
                }
            }
        }
    }
    json_decref(inc);
    EXPECT(audited("incident.report", "allow", INCID) >= 6);
    EXPECT(audited("incident.report", "deny", NULL) >= 2);
    buf_free(&b);
    buf_free(&t);
}

/* Every mandatory task done, each by someone of a role it names, in an order its `after`s
 * allow. */
static int do_all_tasks(const char *id)
{
    static const int who_of_role[][2] = {
        {SEC, 0}, {LEGAL, 0}, {SERVICE, 0}, {STEWARD1, 0}, {AUDITOR, 0}};
    static const char *const role_names[] = {"security", "legal", "customer_service",
                                             "data_steward", "auditor"};
    int done = 0;
    for (int round = 0; round < 20; round++) {
        json_t *inc = incident(SEC, id);
        bool left = false;
        const json_t *t;
        size_t i;
        json_array_foreach(json_object_get(inc, "tasks"), i, t)
        {
            if (strcmp(jstr(t, "state") ?: "", "done") == 0) {
                continue;
            }
            left = true;
            const char *r0 = json_string_value(json_array_get(json_object_get(t, "roles"), 0));
            int u = -1;
            for (size_t k = 0; k < 5; k++) {
                if (r0 && strcmp(r0, role_names[k]) == 0) {
                    u = who_of_role[k][0];
                }
            }
            if (u < 0) {
                continue;
            }
            char p[200];
            snprintf(p, sizeof p, "/v1/incidents/%s/tasks/%s/done", id, jstr(t, "id"));
            if (post(u, p, "{\"note\":\"done\"}", NULL) == 200) {
                done++;
            }
        }
        json_decref(inc);
        if (!left) {
            break;
        }
    }
    return done;
}

TEST(t_close)
{
    char p[200];
    json_t *j = NULL;
    snprintf(p, sizeof p, "/v1/incidents/%s/close", INCID);
    EXPECT_INT(post(LEGAL, p, "{\"closing\":\"true-positive-impact\"}", &j), 409);
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    EXPECT(msg && strstr(msg, "mandatory") != NULL);
    json_decref(j);
    EXPECT(do_all_tasks(INCID) > 3);
    json_t *left = incident(SEC, INCID);
    const json_t *t;
    size_t i;
    json_array_foreach(json_object_get(left, "tasks"), i, t)
    {
        if (json_is_true(json_object_get(t, "mandatory")) &&
            strcmp(jstr(t, "state") ?: "", "done") != 0) {
            printf("  task %s (%s) not done\n", jstr(t, "id"),
                   json_string_value(json_array_get(json_object_get(t, "roles"), 0)));
        }
    }
    json_decref(left);
    EXPECT_INT(post(LEGAL, p, "{}", NULL), 400); /* a classification is required */
    EXPECT_INT(post(SERVICE, p, "{\"closing\":\"true-positive-impact\"}", NULL), 403);
    snprintf(p, sizeof p, "/v1/incidents/%s/filed", INCID);
    EXPECT_INT(post(SEC, p, "{\"report\":\"cac-initial\"}", NULL), 403);
    EXPECT_INT(post(LEGAL, p, "{\"report\":\"cac-initial\"}", &j), 200);
    const json_t *d = json_array_get(json_object_get(j, "deadlines"), 0);
    EXPECT_STR(jstr(d, "report"), "cac-initial");
    EXPECT(jstr(d, "filed_at") != NULL);
    json_decref(j);
    EXPECT_INT(post(LEGAL, p, "{\"report\":\"cac-initial\"}", NULL), 409); /* once */
    snprintf(p, sizeof p, "/v1/incidents/%s/close", INCID);
    EXPECT_INT(post(LEGAL, p, "{\"closing\":\"true-positive-impact\"}", &j), 200);
    EXPECT_STR(jstr(j, "phase"), "closed");
    EXPECT(jstr(j, "closed_at") != NULL);
    json_decref(j);
    EXPECT_INT(post(LEGAL, p, "{\"closing\":\"false-positive\"}", NULL), 409);
    snprintf(p, sizeof p, "/v1/incidents/%s/notes", INCID);
    EXPECT_INT(post(SEC, p, "{\"note\":\"after\"}", NULL), 409);
    EXPECT_INT(get(SEC, "/v1/incidents", &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "incidents")), 0);
    json_decref(j);
    EXPECT_INT(get(SEC, "/v1/incidents?state=closed", &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "incidents")), 1);
    json_decref(j);
    EXPECT_INT(audited("incident.close", "allow", INCID), 1);
    EXPECT(audited("incident.close", "deny", INCID) >= 1);
}

TEST(t_reminders)
{
    /* Awareness two hours ago: containment (due 30 minutes after) is late at once. */
    char aware[40], body[300];
    clock_rfc3339(clock_now_us() - (int64_t)2 * 3600 * 1000000, aware);
    snprintf(body, sizeof body,
             "{\"playbook\":\"customer-data-misread\",\"aware_at\":\"%s\",\"note\":\"by hand\"}",
             aware);
    json_t *j = NULL;
    EXPECT_INT(post(LEGAL, "/v1/incidents", body, &j), 201);
    char id[64];
    snprintf(id, sizeof id, "%s", jstr(j, "id") ?: "");
    json_decref(j);
    int64_t dl = h_deadline(20000), t0 = clock_mono_us();
    json_t *inc = NULL;
    for (;;) {
        inc = incident(SEC, id);
        if (inc && events_of(inc, "escalated", "contain") == 1) {
            break;
        }
        json_decref(inc);
        inc = NULL;
        if (!h_poll(dl)) {
            break;
        }
    }
    EXPECT(inc != NULL);
    printf("  a late task escalated %lld ms after the incident was opened (timer every 200 ms)\n",
           (long long)((clock_mono_us() - t0) / 1000));
    EXPECT(jint(inc, "late_tasks") >= 1);
    EXPECT(json_is_true(json_object_get(task_of(inc, "contain"), "late")));
    json_decref(inc);
    /* the task's role told, and the guard's alert channels */
    EXPECT_INT(get(SEC, "/v1/notices", &j), 200);
    size_t told = 0;
    const json_t *n;
    size_t i;
    json_array_foreach(json_object_get(j, "notices"), i, n)
    {
        told += strstr(jstr(n, "subject") ?: "", id) != NULL &&
                strcmp(jstr(n, "rule") ?: "", "incident-task-late") == 0;
    }
    json_decref(j);
    EXPECT(told >= 1);
    dl = h_deadline(20000);
    bool alerted = false;
    while (!alerted) {
        EXPECT_INT(get(SEC, "/v1/alerts?limit=100", &j), 200);
        json_array_foreach(json_object_get(j, "alerts"), i, n)
        {
            alerted = alerted || (strstr(jstr(n, "detail") ?: "", "incident-task-late") &&
                                  strcmp(jstr(n, "account") ?: "", "system:incidents") == 0);
        }
        json_decref(j);
        if (!alerted && !h_poll(dl)) {
            break;
        }
    }
    EXPECT(alerted);
    /* the report marks the late task; without a scope there is no evidence index */
    {
        char rp[200];
        buf r;
        buf_init(&r, 1 << 22);
        snprintf(rp, sizeof rp, "/v1/incidents/%s/report?lang=en&format=text", id);
        EXPECT_INT(h_req(&S, "GET", rp, T[LEGAL], NULL, NULL, 0, &r, NULL), 200);
        const char *line = strstr(buf_cstr(&r), "- contain ");
        const char *eol = line ? strchr(line, '\n') : NULL;
        EXPECT(line && eol && eol - line > 6 && memcmp(eol - 6, "[LATE]", 6) == 0);
        EXPECT(strstr(buf_cstr(&r), "not computed yet") != NULL);
        snprintf(rp, sizeof rp, "/v1/incidents/%s/evidence/index?lang=en&format=text", id);
        EXPECT_INT(h_req(&S, "GET", rp, T[LEGAL], NULL, NULL, 0, &r, NULL), 404);
        buf_free(&r);
    }
    EXPECT(audited("incident.remind", "allow", id) >= 1);
    /* once: the next ticks send nothing more for the same task */
    int64_t until = h_deadline(1000);
    while (h_poll(until)) {
    }
    inc = incident(SEC, id);
    EXPECT_INT(events_of(inc, "escalated", "contain"), 1);
    json_decref(inc);
    /* the listing shows it late */
    EXPECT_INT(get(SEC, "/v1/incidents", &j), 200);
    EXPECT(jint(json_array_get(json_object_get(j, "incidents"), 0), "late_tasks") >= 1);
    json_decref(j);
}

/* ---- concurrent changes of one incident ---- */

typedef struct note_job {
    const char *id;
    int u, from, n, ok;
} note_job;

static void *noter(void *arg)
{
    note_job *nj = arg;
    for (int k = 0; k < nj->n; k++) {
        char p[200], body[100];
        snprintf(p, sizeof p, "/v1/incidents/%s/notes", nj->id);
        snprintf(body, sizeof body, "{\"note\":\"note-%d-%d\"}", nj->u, nj->from + k);
        nj->ok += h_json(&S, "POST", p, T[nj->u], body, NULL) == 200;
    }
    return NULL;
}

TEST(t_concurrent)
{
    json_t *j = NULL;
    EXPECT_INT(post(SEC, "/v1/incidents", "{\"playbook\":\"credentials-stolen\"}", &j), 201);
    char id[64];
    snprintf(id, sizeof id, "%s", jstr(j, "id") ?: "");
    json_decref(j);
    enum { W = 4, N = 10 };
    pthread_t th[W];
    note_job jobs[W];
    int users[W] = {SEC, LEGAL, SERVICE, STEWARD1};
    for (int w = 0; w < W; w++) {
        jobs[w] = (note_job){id, users[w], 0, N, 0};
        pthread_create(&th[w], NULL, noter, &jobs[w]);
    }
    for (int w = 0; w < W; w++) {
        pthread_join(th[w], NULL);
        EXPECT_INT(jobs[w].ok, N);
    }
    json_t *inc = incident(SEC, id);
    EXPECT_INT(events_of(inc, "note", "note-"), W * N);
    for (int w = 0; w < W; w++) {
        for (int k = 0; k < N; k++) {
            char want[40];
            snprintf(want, sizeof want, "note-%d-%d", users[w], k);
            EXPECT_INT(events_of(inc, "note", want), 1);
        }
    }
    json_decref(inc);
    /* The incident's words are sealed at rest: no note is readable in the vault's files. */
    EXPECT_INT(h_tree_contains(S.dir, "note-0-0"), 0);
    EXPECT_INT(h_tree_contains(S.dir, "locked, blocked, revoked"), 0);
    EXPECT(!h_file_contains(S.log, "note-0-0"));
}

/* Sealing the vault from an incident: customer data is locked away, the response goes on. */
TEST(t_seal)
{
    json_t *j = NULL;
    EXPECT_INT(post(SEC, "/v1/incidents", "{\"playbook\":\"customer-data-misread\"}", &j), 201);
    char id[64], p[200], cp[160];
    snprintf(id, sizeof id, "%s", jstr(j, "id") ?: "");
    json_decref(j);
    snprintf(cp, sizeof cp, "/v1/customers/%s", READ_IDS[0]);
    EXPECT_INT(get(STEWARD1, cp, NULL), 200);
    snprintf(p, sizeof p, "/v1/incidents/%s/actions", id);
    EXPECT_INT(post(LEGAL, p, "{\"task\":\"seal-decision\",\"action\":\"seal-vault\"}", NULL), 403);
    EXPECT_INT(post(SEC, p, "{\"task\":\"seal-decision\",\"action\":\"seal-vault\"}", &j), 200);
    EXPECT_INT(events_of(j, "action", "seal-vault"), 1);
    json_decref(j);
    EXPECT(get(STEWARD1, cp, NULL) >= 500); /* sealed */
    EXPECT_INT(audited("vault.seal", "allow", id), 1);
    /* the incident still reads and takes notes while sealed */
    json_t *inc = incident(LEGAL, id);
    EXPECT(inc != NULL);
    json_decref(inc);
    snprintf(p, sizeof p, "/v1/incidents/%s/notes", id);
    EXPECT_INT(post(LEGAL, p, "{\"note\":\"sealed at 23:40\"}", NULL), 200);
    char body[800];
    snprintf(body, sizeof body, "{\"key_file\":\"%s\"}", S.key);
    EXPECT_INT(post(SEC, "/v1/vault/unseal", body, NULL), 200);
    EXPECT_INT(get(STEWARD1, cp, NULL), 200);
}

/* The command line speaks to the server like the other client commands. */
TEST(t_cli)
{
    char addr[64];
    snprintf(addr, sizeof addr, "https://127.0.0.1:%u", S.port);
    setenv("CUSTOS_ADDR", addr, 1);
    setenv("CUSTOS_CACERT", S.cacert, 1);
    setenv("CUSTOS_TOKEN", T[LEGAL], 1);
    buf out;
    buf_init(&out, 1 << 22);
    const char *list[] = {"incident", "list", "--state", "all", "--json", NULL};
    EXPECT_INT(h_cli(&S, &out, list), 0);
    EXPECT(strstr(buf_cstr(&out), INCID) != NULL);
    buf_reset(&out);
    const char *show[] = {"incident", "show", INCID, "--json", NULL};
    EXPECT_INT(h_cli(&S, &out, show), 0);
    EXPECT(strstr(buf_cstr(&out), "\"custody\"") != NULL);
    buf_reset(&out);
    const char *open[] = {"incident", "open", "credentials-stolen", "--note", "from the CLI",
                          "--json",   NULL};
    EXPECT_INT(h_cli(&S, &out, open), 0);
    json_error_t je;
    json_t *j = json_loads(buf_cstr(&out), 0, &je);
    char id[64];
    snprintf(id, sizeof id, "%s", jstr(j, "id") ?: "");
    json_decref(j);
    EXPECT(id[0] != '\0');
    buf_reset(&out);
    const char *task[] = {"incident", "task", id, "contain", "start", "--json", NULL};
    EXPECT(h_cli(&S, &out, task) != 0); /* legal is not the containment team */
    buf_reset(&out);
    char file[700];
    snprintf(file, sizeof file, "%s/../cli-evidence.json", S.dir);
    const char *ev[] = {"incident",      "evidence", INCID, "--reason",
                        "counsel asked", "--out",    file,  NULL};
    EXPECT_INT(h_cli(&S, &out, ev), 0);
    const char *verify[] = {"audit", "verify-bundle", file, NULL};
    EXPECT_INT(h_cli(&S, NULL, verify), 0);
    const char *bad[] = {"incident", "evidence", INCID, "--out", file, NULL};
    EXPECT(h_cli(&S, NULL, bad) != 0); /* no reason */
    /* the report and the evidence index */
    buf_reset(&out);
    const char *rep[] = {"incident", "report", INCID, "--lang", "en", NULL};
    EXPECT_INT(h_cli(&S, &out, rep), 0);
    EXPECT(strstr(buf_cstr(&out), "Incident report") != NULL);
    EXPECT(strstr(buf_cstr(&out), INCID) != NULL);
    snprintf(file, sizeof file, "%s/../cli-report.pdf", S.dir);
    const char *rpdf[] = {"incident", "report", INCID, "--format", "pdf", "--out", file, NULL};
    EXPECT_INT(h_cli(&S, NULL, rpdf), 0);
    FILE *pf = fopen(file, "rb");
    char magic[5] = "";
    EXPECT(pf != NULL);
    if (pf) {
        EXPECT_INT(fread(magic, 1, 4, pf), 4);
        fclose(pf);
    }
    EXPECT_STR(magic, "%PDF");
    EXPECT(h_cli(&S, NULL, rpdf) != 0); /* never overwrites */
    buf_reset(&out);
    const char *ix[] = {"incident", "evidence-index", INCID, "--format", "json", NULL};
    EXPECT_INT(h_cli(&S, &out, ix), 0);
    EXPECT(strstr(buf_cstr(&out), "\"manifest\"") != NULL);
    const char *badfmt[] = {"incident", "report", INCID, "--format", "doc&x=1", NULL};
    EXPECT(h_cli(&S, NULL, badfmt) != 0);
    buf_free(&out);
}

typedef struct act_job {
    int u;
    const char *path, *body;
    int status;
} act_job;

static void *actor_thread(void *arg)
{
    act_job *j = arg;
    j->status = h_json(&S, "POST", j->path, T[j->u], j->body, NULL);
    return NULL;
}

/* n concurrent identical requests by u: how many answered 200 (the rest must be refusals). */
static int concurrently(int u, const char *path, const char *body, int n, int *refused)
{
    act_job jobs[8];
    pthread_t th[8];
    for (int i = 0; i < n; i++) {
        jobs[i] = (act_job){u, path, body, 0};
        pthread_create(&th[i], NULL, actor_thread, &jobs[i]);
    }
    int ok = 0;
    *refused = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        ok += jobs[i].status == 200;
        *refused += jobs[i].status == 409 || jobs[i].status == 403;
    }
    return ok;
}

/* An alert about the lead's own account is not theirs to take up (and so acknowledge); a lock
 * on someone of no overseeing role named in the scope needs one lead, and is a sanction too. */
TEST(t_own_alert)
{
    char tok[128];
    for (int k = 0; k < 3; k++) {
        EXPECT(!h_login(&S, "security1", "not the password", tok));
    }
    long long own = 0;
    int64_t dl = h_deadline(30000);
    while (!own) {
        json_t *a = NULL;
        if (get(SEC, "/v1/alerts?rule=own-fails", &a) == 200) {
            const json_t *x;
            size_t i;
            json_array_foreach(json_object_get(a, "alerts"), i, x)
            {
                if (strcmp(jstr(x, "account") ?: "", "security1") == 0) {
                    own = jint(x, "id");
                }
            }
        }
        json_decref(a);
        if (!own && !h_poll(dl)) {
            break;
        }
    }
    EXPECT(own > 0);
    char body[200], p[200];
    snprintf(body, sizeof body, "{\"playbook\":\"customer-data-misread\",\"alert\":%lld}", own);
    EXPECT_INT(post(SEC, "/v1/incidents", body, NULL), 403);
    {
        json_t *au = NULL;
        size_t n = 0;
        EXPECT_INT(
            get(AUDITOR, "/v1/audit/entries?action=incident.open&decision=deny&limit=1000", &au),
            200);
        const json_t *e;
        size_t i;
        json_array_foreach(json_object_get(au, "entries"), i, e)
        {
            n += strcmp(jstr(json_object_get(e, "decoded"), "rule") ?: "", "incident.own-alert") ==
                 0;
        }
        json_decref(au);
        EXPECT_INT(n, 1);
    }
    json_t *j = NULL;
    EXPECT_INT(get(SEC, "/v1/alerts?rule=own-fails", &j), 200);
    {
        const json_t *x;
        size_t i;
        json_array_foreach(json_object_get(j, "alerts"), i, x)
        {
            if (jint(x, "id") == own) {
                EXPECT_STR(jstr(x, "status"), "open"); /* not acknowledged */
            }
        }
    }
    json_decref(j);
    /* an incident without an alert: only whom its scope names */
    EXPECT_INT(post(SEC, "/v1/incidents", "{\"playbook\":\"customer-data-misread\"}", &j), 201);
    char id[64];
    snprintf(id, sizeof id, "%s", jstr(j, "id") ?: "");
    json_decref(j);
    snprintf(p, sizeof p, "/v1/incidents/%s/tasks/contain/start", id);
    EXPECT_INT(post(SEC, p, NULL, NULL), 200);
    snprintf(p, sizeof p, "/v1/incidents/%s/actions", id);
    const char *lock = "{\"task\":\"contain\",\"action\":\"lock-account\",\"target\":\"sales2\"}";
    EXPECT_INT(post(SEC, p, lock, NULL), 403);
    char sp[200];
    snprintf(sp, sizeof sp, "/v1/incidents/%s/scope", id);
    EXPECT_INT(post(SEC, sp, "{\"actors\":[\"sales2\",\"steward2\"]}", NULL), 200);
    EXPECT(h_login(&S, "sales2", DEMO_PW, tok));
    EXPECT_INT(post(SEC, p, lock, &j), 200);
    EXPECT(!json_is_true(json_object_get(j, "pending")));
    EXPECT_INT(events_of(j, "action", "lock-account sales2"), 1);
    json_decref(j);
    EXPECT(!h_login(&S, "sales2", DEMO_PW, tok));
    char rule[100];
    snprintf(rule, sizeof rule, "incident:%s", id);
    EXPECT_INT(get(SEC, "/v1/guard/sanctions", &j), 200);
    bool listed = false;
    const json_t *x;
    size_t i;
    json_array_foreach(json_object_get(j, "sanctions"), i, x)
    {
        listed = listed || (strcmp(jstr(x, "subject") ?: "", "account:sales2") == 0 &&
                            strcmp(jstr(x, "rule") ?: "", rule) == 0);
    }
    json_decref(j);
    EXPECT(listed);
    EXPECT_INT(post(SEC, "/v1/guard/unlock", "{\"account\":\"sales2\"}", NULL), 200);
    EXPECT(h_login(&S, "sales2", DEMO_PW, tok));
    /* concurrent proposals and confirmations on one overseer (steward2): one proposal, one
     * confirmation, one lock */
    const char *lock2 =
        "{\"task\":\"contain\",\"action\":\"lock-account\",\"target\":\"steward2\"}";
    size_t locks0 = audited("account.lock", "allow", "steward2");
    int refused = 0;
    EXPECT_INT(concurrently(SEC, p, lock2, 6, &refused), 1);
    EXPECT_INT(refused, 5);
    EXPECT(h_login(&S, "steward2", DEMO_PW, tok)); /* proposed only */
    EXPECT_INT(concurrently(LEGAL, p, lock2, 6, &refused), 1);
    EXPECT_INT(refused, 5);
    EXPECT(!h_login(&S, "steward2", DEMO_PW, tok));
    EXPECT_INT(audited("account.lock", "allow", "steward2"), locks0 + 1);
    json_t *inc2 = incident(SEC, id);
    EXPECT_INT(events_of(inc2, "action", "lock-account steward2"), 1);
    json_decref(inc2);
    EXPECT_INT(post(SEC, "/v1/guard/unlock", "{\"account\":\"steward2\"}", NULL), 200);
    EXPECT(h_login(&S, "steward2", DEMO_PW, T[STEWARD2]));
}

TEST(t_stop)
{
    EXPECT_INT(h_stop(&S), 0);
}

int main(void)
{
    test_init();
    h_setup(&S, "incident");
    RUN(t_start);
    RUN(t_alert_to_incident);
    RUN(t_task_roles);
    RUN(t_containment);
    RUN(t_scope);
    RUN(t_evidence);
    RUN(t_evidence_index);
    RUN(t_evidence_concurrent);
    RUN(t_close);
    RUN(t_reports);
    RUN(t_reminders);
    RUN(t_concurrent);
    RUN(t_cli);
    RUN(t_own_alert);
    RUN(t_seal);
    RUN(t_stop);
    return test_done("incident_test");
}
