/*
 * chains_test.c - the roads from one person to customer data, played end to end
 * against a live server. Each road must need a second person:
 *   - admin mints an API key that reads customers: refused until a data steward
 *     of the key's department approves (never the admin), bound to that
 *     department, noticed to its stewards and security on creation and first use;
 *   - admin resets a steward's password and second factor: never a usable
 *     password for the admin; a steward of the department approves; the holder
 *     sets a new password with both halves of a hand-over code;
 *   - admin creates a reading account, or gives one a reading role: no usable
 *     credential for the admin;
 *   - admin creates a security account and opens break-glass: a data steward must
 *     approve; the grant is noticed to every department's stewards, HR, auditors
 *     and security; the opener cannot review it;
 *   - with the production settings: admin and security need the second factor,
 *     break-glass without it is refused, self-service break-glass is short.
 * Approvals and hand-overs raced by two people: exactly one wins.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test.h"
#include "access/totp.h"
#include "core/clock.h"
#include "harness.h"

static srv S;
static char own_id[ID_LEN + 1], other_id[ID_LEN + 1];

enum { SALES1, STEWARD1, STEWARD3, STEWARD2, SECURITY1, HR1, AUDITOR1, ADMIN, U__COUNT };
static const char *const NAME[U__COUNT] = {"sales1",    "steward1", "steward3", "steward2",
                                           "security1", "hr1",      "auditor1", "admin"};
static char T[U__COUNT][64];

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Does the caller's notice list hold a notice of rule about subject? */
static bool has_notice(const char *tok, const char *rule, const char *subject)
{
    json_t *j = NULL;
    bool found = false;
    if (h_json(&S, "GET", "/v1/notices", tok, NULL, &j) == 200) {
        size_t i;
        json_t *n;
        json_array_foreach(json_object_get(j, "notices"), i, n)
        {
            if (strcmp(jstr(n, "rule") ?: "", rule) == 0 &&
                strcmp(jstr(n, "subject") ?: "", subject) == 0) {
                found = true;
            }
        }
    }
    json_decref(j);
    return found;
}

static void copy(char *dst, size_t max, json_t *o, const char *k)
{
    snprintf(dst, max, "%s", jstr(o, k) ? jstr(o, k) : "");
}

#define CUSTOMER(name, dept)                                                                       \
    "{\"name\":\"" name "\",\"id_number\":\"110101199003071233\",\"birth_date\":\"1990-03-07\","   \
    "\"phone\":\"13812345678\",\"department\":\"" dept "\",\"notes\":\"chain\"}"

TEST(t_start)
{
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "5", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "4", NULL};
    EXPECT_INT(h_cli(&S, NULL, demo), 0);
    h_quiet_guard(&S);
    EXPECT(h_start(&S));
    for (int i = 0; i < U__COUNT; i++) {
        EXPECT(h_login(&S, NAME[i], DEMO_PW, T[i]));
    }
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "POST", "/v1/customers", T[STEWARD1], CUSTOMER("王一", "beijing"), &j),
               201);
    copy(own_id, sizeof own_id, j, "id");
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/customers", T[STEWARD2], CUSTOMER("李二", "shanghai"), &j),
               201);
    copy(other_id, sizeof other_id, j, "id");
    json_decref(j);
}

/* ---- admin mints an API key ---- */

/* The approval state of a key as the admin's list shows it. */
static const char *key_approval(const char *name)
{
    static char st[32];
    json_t *j = NULL;
    st[0] = '\0';
    if (h_json(&S, "GET", "/v1/apikeys", T[ADMIN], NULL, &j) == 200) {
        size_t i;
        json_t *k;
        json_array_foreach(json_object_get(j, "api_keys"), i, k)
        {
            if (strcmp(jstr(k, "name") ?: "", name) == 0) {
                snprintf(st, sizeof st, "%s", jstr(k, "approval") ?: "");
            }
        }
    }
    json_decref(j);
    return st;
}

TEST(t_admin_key_needs_steward)
{
    json_t *j = NULL;
    char path[200], key[80], req[ID_LEN + 1] = "", kid[ID_LEN + 1];
    /* the department must exist */
    EXPECT_INT(h_json(&S, "POST", "/v1/apikeys", T[ADMIN],
                      "{\"name\":\"ghost\",\"role\":\"data_steward\",\"department\":\"nowhere\","
                      "\"scope\":\"identity:read\"}",
                      NULL),
               400);
    EXPECT_INT(h_json(&S, "POST", "/v1/apikeys", T[ADMIN],
                      "{\"name\":\"exfil\",\"role\":\"data_steward\",\"department\":\"beijing\","
                      "\"scope\":\"identity:read;contact:read;internal:read\"}",
                      &j),
               201);
    copy(key, sizeof key, j, "key");
    copy(kid, sizeof kid, j, "id");
    EXPECT_STR(jstr(j, "approval"), "pending");
    copy(req, sizeof req, json_object_get(j, "request"), "id");
    json_decref(j);
    /* unusable until approved */
    snprintf(path, sizeof path, "/v1/customers/%s", own_id);
    EXPECT_INT(h_json(&S, "GET", path, key, NULL, NULL), 403);
    EXPECT_INT(h_json(&S, "GET", "/v1/customers", key, NULL, NULL), 403);
    /* noticed to the department's stewards and security, not to another department's */
    EXPECT(has_notice(T[STEWARD1], "apikey-created", "exfil"));
    EXPECT(has_notice(T[SECURITY1], "apikey-created", "exfil"));
    EXPECT(!has_notice(T[STEWARD2], "apikey-created", "exfil"));
    /* nobody but a steward of the key's department approves; never its creator */
    char ap[200];
    snprintf(ap, sizeof ap, "/v1/requests/%s/approve", req);
    EXPECT_INT(h_json(&S, "POST", ap, T[ADMIN], "{}", NULL), 403);
    EXPECT_INT(h_json(&S, "POST", ap, T[SECURITY1], "{}", NULL), 403);
    EXPECT_INT(h_json(&S, "POST", ap, T[STEWARD2], "{}", NULL), 404);
    EXPECT_INT(h_json(&S, "GET", path, key, NULL, NULL), 403);
    EXPECT(!has_notice(T[STEWARD1], "apikey-first-use", "exfil"));
    EXPECT_INT(h_json(&S, "POST", ap, T[STEWARD1], "{\"note\":\"the CRM sync\"}", NULL), 200);
    EXPECT_INT(h_json(&S, "GET", path, key, NULL, &j), 200);
    EXPECT_STR(jstr(j, "id_number"), "110101199003071233");
    json_decref(j);
    EXPECT(has_notice(T[STEWARD1], "apikey-first-use", "exfil"));
    EXPECT(has_notice(T[SECURITY1], "apikey-first-use", "exfil"));
    EXPECT_STR(key_approval("exfil"), "approved");
    /* bound to its department */
    snprintf(path, sizeof path, "/v1/customers/%s", other_id);
    EXPECT_INT(h_json(&S, "GET", path, key, NULL, NULL), 404);
    /* rotation hands the admin a new text: pending again */
    snprintf(path, sizeof path, "/v1/apikeys/%s/rotate", kid);
    EXPECT_INT(h_json(&S, "POST", path, T[ADMIN], "{}", &j), 200);
    copy(key, sizeof key, j, "key");
    EXPECT_STR(jstr(j, "approval"), "pending");
    json_decref(j);
    snprintf(path, sizeof path, "/v1/customers/%s", own_id);
    EXPECT_INT(h_json(&S, "GET", path, key, NULL, NULL), 403);
    EXPECT_STR(key_approval("exfil"), "pending");
    /* a customer_service key for department "it" (which has no customers and no steward)
     * reads nothing: pending, and bound to "it" even once approved */
    EXPECT_INT(h_json(&S, "POST", "/v1/apikeys", T[ADMIN],
                      "{\"name\":\"every-dept\",\"role\":\"customer_service\",\"department\":"
                      "\"it\",\"scope\":\"identity:read;contact:read\"}",
                      &j),
               201);
    copy(key, sizeof key, j, "key");
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/customers", key, NULL, NULL), 403);
    snprintf(path, sizeof path, "/v1/customers/%s", other_id);
    EXPECT_INT(h_json(&S, "GET", path, key, NULL, NULL), 403);
    /* a customer_service key (the role reads every department) approved for beijing sees
     * beijing only */
    EXPECT_INT(h_json(&S, "POST", "/v1/apikeys", T[ADMIN],
                      "{\"name\":\"crm-bj\",\"role\":\"customer_service\",\"department\":"
                      "\"beijing\",\"scope\":\"identity:read;contact:read\"}",
                      &j),
               201);
    copy(key, sizeof key, j, "key");
    copy(req, sizeof req, json_object_get(j, "request"), "id");
    json_decref(j);
    snprintf(ap, sizeof ap, "/v1/requests/%s/approve", req);
    EXPECT_INT(h_json(&S, "POST", ap, T[STEWARD3], "{}", NULL), 200);
    EXPECT_INT(h_json(&S, "GET", path, key, NULL, NULL), 404);
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?limit=200", key, NULL, &j), 200);
    size_t i, n = 0;
    json_t *c;
    json_array_foreach(json_object_get(j, "customers"), i, c)
    {
        n++;
        EXPECT(strcmp(jstr(c, "id") ?: "", other_id) != 0);
    }
    EXPECT(n >= 1);
    json_decref(j);
}

/* ---- admin resets a steward's credentials ---- */

static int handover(const char *user, const char *req, const char *a, const char *b, const char *pw)
{
    char body[600];
    snprintf(body, sizeof body,
             "{\"username\":\"%s\",\"request\":\"%s\",\"code_a\":\"%s\",\"code_b\":\"%s\","
             "\"password\":\"%s\"}",
             user, req, a, b, pw);
    return h_json(&S, "POST", "/v1/handover", NULL, body, NULL);
}

TEST(t_admin_reset_needs_steward)
{
    json_t *j = NULL;
    char tok[64], req[ID_LEN + 1], code_a[80], code_b[80], ap[200];
    EXPECT_INT(h_json(&S, "POST", "/v1/accounts/steward3/reset-password", T[ADMIN],
                      "{\"password\":\"admin-knows-this-1\"}", &j),
               202);
    copy(req, sizeof req, json_object_get(j, "request"), "id");
    copy(code_a, sizeof code_a, j, "handover_code");
    char *dump = json_dumps(j, 0);
    EXPECT(dump && strstr(dump, "admin-knows-this-1") == NULL);
    free(dump);
    json_decref(j);
    /* the admin's password was never set; the holder still signs in as before */
    EXPECT(!h_login(&S, "steward3", "admin-knows-this-1", tok));
    EXPECT(h_login(&S, "steward3", DEMO_PW, tok));
    /* noticed to the holder and the department's stewards */
    EXPECT(has_notice(tok, "account-request", "steward3"));
    EXPECT(has_notice(T[STEWARD1], "account-request", "steward3"));
    EXPECT(!has_notice(T[STEWARD2], "account-request", "steward3"));
    /* not the requester, not the holder, not another department */
    snprintf(ap, sizeof ap, "/v1/requests/%s/approve", req);
    EXPECT_INT(h_json(&S, "POST", ap, T[ADMIN], "{}", NULL), 403);
    EXPECT_INT(h_json(&S, "POST", ap, tok, "{}", NULL), 403);
    EXPECT_INT(h_json(&S, "POST", ap, T[STEWARD2], "{}", NULL), 404);
    EXPECT_INT(h_json(&S, "POST", ap, T[STEWARD1], "{\"note\":\"steward3 lost her phone\"}", &j),
               200);
    copy(code_b, sizeof code_b, j, "handover_code");
    json_decref(j);
    EXPECT(strncmp(code_a, "cho_", 4) == 0 && strncmp(code_b, "cho_", 4) == 0);
    /* from now on nobody knows the password: old sessions and the old password are gone */
    EXPECT_INT(h_json(&S, "GET", "/v1/me", tok, NULL, NULL), 401);
    EXPECT(!h_login(&S, "steward3", DEMO_PW, tok));
    EXPECT(!h_login(&S, "steward3", "admin-knows-this-1", tok));
    /* one half is not enough, for the admin or the approver */
    EXPECT_INT(handover("steward3", req, code_a, "cho_guess", "admin-owns-steward3"), 401);
    EXPECT_INT(handover("steward3", req, "cho_guess", code_b, "steward1-owns-it-3"), 401);
    EXPECT_INT(handover("steward1", req, code_a, code_b, "wrong-account-pw-1"), 401);
    EXPECT(!h_login(&S, "steward3", "admin-owns-steward3", tok));
    /* the holder, with both halves, sets her own password, once */
    EXPECT_INT(handover("steward3", req, code_a, code_b, "jade-cong-Liangzhu-5"), 200);
    EXPECT_INT(handover("steward3", req, code_a, code_b, "jade-cong-Liangzhu-6"), 401);
    EXPECT(h_login(&S, "steward3", "jade-cong-Liangzhu-5", T[STEWARD3]));
    char path[160];
    snprintf(path, sizeof path, "/v1/customers/%s", own_id);
    EXPECT_INT(h_json(&S, "GET", path, T[STEWARD3], NULL, NULL), 200);
    EXPECT(has_notice(T[STEWARD3], "account-handover-approved", "steward3"));
    EXPECT(has_notice(T[STEWARD1], "account-handover-done", "steward3"));
    /* resetting the second factor is the same road */
    EXPECT_INT(h_json(&S, "PATCH", "/v1/accounts/steward3", T[ADMIN],
                      "{\"reset_second_factor\":true}", &j),
               202);
    json_decref(j);
    /* the audit log holds neither half nor a password */
    EXPECT_INT(h_json(&S, "GET", "/v1/audit/entries?limit=500", T[AUDITOR1], NULL, &j), 200);
    dump = json_dumps(j, 0);
    EXPECT(strlen(code_a) > 4 && strlen(code_b) > 4);
    EXPECT(dump && strlen(code_a) > 4 && strstr(dump, code_a + 4) == NULL);
    EXPECT(dump && strlen(code_b) > 4 && strstr(dump, code_b + 4) == NULL);
    EXPECT(dump && strstr(dump, "jade-cong") == NULL);
    free(dump);
    json_decref(j);
}

/* ---- admin creates a reading account, or gives one a reading role ---- */

TEST(t_admin_creates_reader)
{
    json_t *j = NULL;
    char tok[64];
    EXPECT_INT(h_json(&S, "POST", "/v1/accounts", T[ADMIN],
                      "{\"username\":\"mole\",\"password\":\"mole-password-77\",\"role\":"
                      "\"data_steward\",\"department\":\"beijing\"}",
                      &j),
               202);
    EXPECT_STR(jstr(json_object_get(j, "request"), "status"), "pending");
    json_decref(j);
    EXPECT(!h_login(&S, "mole", "mole-password-77", tok));
    EXPECT(has_notice(T[STEWARD1], "account-request", "mole"));
    /* an account the admin made with a known password (HR) moved to a reading role */
    EXPECT_INT(h_json(&S, "POST", "/v1/accounts", T[ADMIN],
                      "{\"username\":\"hr9\",\"password\":\"hr9-password-777\",\"role\":\"hr\","
                      "\"department\":\"beijing\"}",
                      NULL),
               201);
    EXPECT_INT(h_json(&S, "PATCH", "/v1/accounts/hr9", T[ADMIN], "{\"role\":\"data_steward\"}", &j),
               202);
    json_decref(j);
    EXPECT(h_login(&S, "hr9", "hr9-password-777", tok));
    EXPECT_INT(h_json(&S, "GET", "/v1/me", tok, NULL, &j), 200);
    EXPECT_STR(jstr(j, "role"), "hr");
    json_decref(j);
    char path[160];
    snprintf(path, sizeof path, "/v1/customers/%s", own_id);
    EXPECT_INT(h_json(&S, "GET", path, tok, NULL, NULL), 403);
}

/* ---- two people race ---- */

typedef struct race {
    const char *method, *path, *token, *body;
    int status;
} race;

static void *race_one(void *p)
{
    race *r = p;
    r->status = h_json(&S, r->method, r->path, r->token, r->body, NULL);
    return NULL;
}

static void race_two(race *a, race *b)
{
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race_one, a);
    pthread_create(&tb, NULL, race_one, b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
}

TEST(t_races)
{
    json_t *j = NULL;
    char req[ID_LEN + 1], ap[200];
    EXPECT_INT(h_json(&S, "POST", "/v1/accounts", T[ADMIN],
                      "{\"username\":\"newsteward\",\"role\":\"data_steward\",\"department\":"
                      "\"beijing\"}",
                      &j),
               202);
    copy(req, sizeof req, json_object_get(j, "request"), "id");
    json_decref(j);
    snprintf(ap, sizeof ap, "/v1/requests/%s/approve", req);
    /* two stewards approve at once: one approval, one conflict */
    race a = {"POST", ap, T[STEWARD1], "{}", 0}, b = {"POST", ap, T[STEWARD3], "{}", 0};
    race_two(&a, &b);
    EXPECT((a.status == 200 && b.status == 409) || (a.status == 409 && b.status == 200));
    /* a second approval cannot mint a second code half */
    EXPECT_INT(h_json(&S, "POST", ap, T[STEWARD1], "{}", NULL), 409);
}

TEST(t_handover_race)
{
    json_t *j = NULL;
    char req[ID_LEN + 1], code_a[80], code_b[80], ap[200];
    EXPECT_INT(h_json(&S, "POST", "/v1/accounts", T[ADMIN],
                      "{\"username\":\"racer\",\"role\":\"sales\",\"department\":\"beijing\"}", &j),
               202);
    copy(req, sizeof req, json_object_get(j, "request"), "id");
    copy(code_a, sizeof code_a, j, "handover_code");
    json_decref(j);
    snprintf(ap, sizeof ap, "/v1/requests/%s/approve", req);
    EXPECT_INT(h_json(&S, "POST", ap, T[STEWARD1], "{}", &j), 200);
    copy(code_b, sizeof code_b, j, "handover_code");
    json_decref(j);
    char body1[600], body2[600];
    snprintf(body1, sizeof body1,
             "{\"username\":\"racer\",\"request\":\"%s\",\"code_a\":\"%s\",\"code_b\":\"%s\","
             "\"password\":\"bronze-mirror-Tang-1\"}",
             req, code_a, code_b);
    snprintf(body2, sizeof body2,
             "{\"username\":\"racer\",\"request\":\"%s\",\"code_a\":\"%s\",\"code_b\":\"%s\","
             "\"password\":\"bronze-mirror-Tang-2\"}",
             req, code_a, code_b);
    race c = {"POST", "/v1/handover", NULL, body1, 0}, d = {"POST", "/v1/handover", NULL, body2, 0};
    race_two(&c, &d);
    EXPECT((c.status == 200 && d.status == 401) || (c.status == 401 && d.status == 200));
    char tok[64];
    bool one = h_login(&S, "racer", "bronze-mirror-Tang-1", tok);
    bool two = h_login(&S, "racer", "bronze-mirror-Tang-2", tok);
    EXPECT(one != two);
    EXPECT(one == (c.status == 200));
}

/* An admin's change of an account raced with a steward's approval of its reset: whichever
 * lands first, the approval is never undone (the holder's old password never works again). */
static void reset_and_hand_over(const char *user, const char *pw)
{
    json_t *j = NULL;
    char path[160], req[ID_LEN + 1], code_a[80], code_b[80], ap[200];
    snprintf(path, sizeof path, "/v1/accounts/%s/reset-password", user);
    EXPECT_INT(h_json(&S, "POST", path, T[ADMIN], "{\"password\":\"not-used-at-all-2\"}", &j), 202);
    copy(req, sizeof req, json_object_get(j, "request"), "id");
    copy(code_a, sizeof code_a, j, "handover_code");
    json_decref(j);
    snprintf(ap, sizeof ap, "/v1/requests/%s/approve", req);
    EXPECT_INT(h_json(&S, "POST", ap, T[STEWARD1], "{}", &j), 200);
    copy(code_b, sizeof code_b, j, "handover_code");
    json_decref(j);
    EXPECT_INT(handover(user, req, code_a, code_b, pw), 200);
}

TEST(t_change_races_approval)
{
    json_t *j = NULL;
    char tok[64];
    EXPECT_INT(h_json(&S, "POST", "/v1/accounts", T[ADMIN],
                      "{\"username\":\"pair1\",\"role\":\"sales\",\"department\":\"beijing\"}", &j),
               202);
    json_decref(j);
    reset_and_hand_over("pair1", "bronze-bell-Zhou-0");
    for (int round = 1; round <= 3; round++) {
        char old_pw[40], ap[200], req[ID_LEN + 1];
        snprintf(old_pw, sizeof old_pw, "bronze-bell-Zhou-%d", round - 1);
        EXPECT(h_login(&S, "pair1", old_pw, tok));
        EXPECT_INT(h_json(&S, "POST", "/v1/accounts/pair1/reset-password", T[ADMIN],
                          "{\"password\":\"not-used-at-all-1\"}", &j),
                   202);
        copy(req, sizeof req, json_object_get(j, "request"), "id");
        json_decref(j);
        snprintf(ap, sizeof ap, "/v1/requests/%s/approve", req);
        race a = {"POST", ap, T[STEWARD1], "{}", 0};
        race b = {"PATCH", "/v1/accounts/pair1", T[ADMIN], "{\"disabled\":false}", 0};
        race_two(&a, &b);
        EXPECT_INT(a.status, 200);
        EXPECT_INT(b.status, 200);
        EXPECT(!h_login(&S, "pair1", old_pw, tok));
        EXPECT_INT(h_json(&S, "GET", "/v1/me", tok, NULL, NULL), 401);
        char new_pw[40];
        snprintf(new_pw, sizeof new_pw, "bronze-bell-Zhou-%d", round);
        reset_and_hand_over("pair1", new_pw);
    }
}

/* ---- admin creates a security account and opens break-glass ---- */

TEST(t_breakglass_needs_steward)
{
    json_t *j = NULL;
    char sec[64], path[160], req[ID_LEN + 1], bid[ID_LEN + 1], q[200];
    EXPECT_INT(h_json(&S, "POST", "/v1/accounts", T[ADMIN],
                      "{\"username\":\"sec9\",\"password\":\"sec9-password-777\",\"role\":"
                      "\"security\",\"department\":\"security\"}",
                      NULL),
               201);
    EXPECT(h_login(&S, "sec9", "sec9-password-777", sec));
    EXPECT_INT(h_json(&S, "POST", "/v1/break-glass", sec,
                      "{\"reason\":\"incident 7: a suspected leak\",\"minutes\":60}", &j),
               202);
    copy(req, sizeof req, json_object_get(j, "request"), "id");
    json_decref(j);
    snprintf(path, sizeof path, "/v1/customers/%s", other_id);
    EXPECT_INT(h_json(&S, "GET", path, sec, NULL, NULL), 403);
    EXPECT(has_notice(T[STEWARD2], "break-glass-requested", "sec9"));
    char ap[200];
    snprintf(ap, sizeof ap, "/v1/requests/%s/approve", req);
    EXPECT_INT(h_json(&S, "POST", ap, sec, "{}", NULL), 403);
    EXPECT_INT(h_json(&S, "POST", ap, T[ADMIN], "{}", NULL), 403);
    EXPECT_INT(h_json(&S, "POST", ap, T[SECURITY1], "{}", NULL), 403);
    EXPECT_INT(h_json(&S, "GET", path, sec, NULL, NULL), 403);
    /* a data steward of any department approves */
    EXPECT_INT(h_json(&S, "POST", ap, T[STEWARD2], "{\"note\":\"confirmed by phone\"}", &j), 200);
    copy(bid, sizeof bid, json_object_get(j, "grant"), "id");
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", path, sec, NULL, NULL), 200);
    /* noticed at once to every department's stewards, HR, the auditors and security */
    EXPECT(has_notice(T[STEWARD1], "break-glass-open", "sec9"));
    EXPECT(has_notice(T[STEWARD2], "break-glass-open", "sec9"));
    EXPECT(has_notice(T[HR1], "break-glass-open", "sec9"));
    EXPECT(has_notice(T[AUDITOR1], "break-glass-open", "sec9"));
    EXPECT(has_notice(T[SECURITY1], "break-glass-open", "sec9"));
    EXPECT(!has_notice(T[SALES1], "break-glass-open", "sec9"));
    /* the opener never reviews it */
    snprintf(q, sizeof q, "/v1/break-glass/%s/close", bid);
    EXPECT_INT(h_json(&S, "POST", q, sec, "{}", NULL), 200);
    snprintf(q, sizeof q, "/v1/break-glass/%s/review", bid);
    EXPECT_INT(h_json(&S, "POST", q, sec, "{\"note\":\"all fine\"}", NULL), 403);
    EXPECT_INT(h_json(&S, "POST", q, T[AUDITOR1], "{\"note\":\"matches incident 7\"}", NULL), 200);
}

/* ---- the same road from the command line ---- */

static int cli(const char *token, buf *out, const char *const *argv)
{
    char addr[64];
    snprintf(addr, sizeof addr, "https://127.0.0.1:%u", S.port);
    setenv("CUSTOS_ADDR", addr, 1);
    setenv("CUSTOS_CACERT", S.cacert, 1);
    setenv("CUSTOS_TOKEN", token, 1);
    buf_reset(out);
    return h_cli(&S, out, argv);
}

TEST(t_cli_handover)
{
    buf out;
    buf_init(&out, 0);
    setenv("CUSTOS_NEW_PASSWORD", "admin-would-choose-1", 1);
    const char *add[] = {"accounts",     "add",      "clerk7", "--role", "sales",
                         "--department", "shanghai", "--json", NULL};
    EXPECT_INT(cli(T[ADMIN], &out, add), 0);
    json_t *j = json_loads(buf_cstr(&out), 0, NULL);
    char req[ID_LEN + 1], code_a[80], code_b[80];
    copy(req, sizeof req, json_object_get(j, "request"), "id");
    copy(code_a, sizeof code_a, j, "handover_code");
    json_decref(j);
    const char *notices[] = {"me", "notices", "--json", NULL};
    EXPECT_INT(cli(T[STEWARD2], &out, notices), 0);
    EXPECT(strstr(buf_cstr(&out), "account-request") != NULL);
    const char *approve[] = {"requests", "approve", req, "--note", "new clerk, ID checked",
                             "--json",   NULL};
    EXPECT(cli(T[ADMIN], &out, approve) != 0);
    EXPECT_INT(cli(T[STEWARD2], &out, approve), 0);
    j = json_loads(buf_cstr(&out), 0, NULL);
    copy(code_b, sizeof code_b, j, "handover_code");
    json_decref(j);
    char tok[64];
    EXPECT(!h_login(&S, "clerk7", "admin-would-choose-1", tok));
    setenv("CUSTOS_NEW_PASSWORD", "lacquer-tray-Ming-42", 1);
    const char *ho[] = {"accounts", "handover", "clerk7",   "--request", req,
                        "--code-a", code_a,     "--code-b", code_b,      NULL};
    EXPECT_INT(cli("", &out, ho), 0);
    EXPECT(h_login(&S, "clerk7", "lacquer-tray-Ming-42", tok));
    EXPECT(cli("", &out, ho) != 0); /* once */
    unsetenv("CUSTOS_NEW_PASSWORD");
    unsetenv("CUSTOS_TOKEN");
    buf_free(&out);
}

/* ---- the production settings ---- */

static void restart_with(const char *json)
{
    EXPECT_INT(h_stop(&S), 0);
    char p[700];
    snprintf(p, sizeof p, "%s/custos.json", S.dir);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(json, f);
        fclose(f);
    }
    EXPECT(h_start(&S));
}

static int login_body(const char *user, const char *pw, const char *otp, json_t **out)
{
    char body[400];
    if (otp) {
        snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\",\"otp\":\"%s\"}",
                 user, pw, otp);
    } else {
        snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
    }
    return h_json(&S, "POST", "/v1/login", NULL, body, out);
}

TEST(t_second_factor_for_the_doors)
{
    restart_with("{\"access\":{\"second_factor\":\"customer-roles\",\"break_glass\":"
                 "\"self-service\",\"break_glass_self_minutes\":20}}\n");
    json_t *j = NULL;
    char tok[64];
    /* admin and security sign in to enrolment only */
    const char *who[] = {"admin", "security1", "hr1"};
    for (size_t i = 0; i < 3; i++) {
        EXPECT_INT(login_body(who[i], DEMO_PW, NULL, &j), 200);
        EXPECT_STR(jstr(j, "second_factor"), "enrol");
        copy(tok, sizeof tok, j, "token");
        json_decref(j);
        EXPECT_INT(h_json(&S, "GET", "/v1/accounts", tok, NULL, NULL), 401);
        EXPECT_INT(h_json(&S, "POST", "/v1/break-glass", tok,
                          "{\"reason\":\"incident 9: a suspected leak\",\"minutes\":10}", NULL),
                   401);
        EXPECT_INT(h_json(&S, "POST", "/v1/apikeys", tok,
                          "{\"name\":\"k2\",\"role\":\"sales\",\"department\":\"beijing\","
                          "\"scope\":\"transactions:create\"}",
                          NULL),
                   401);
    }
    /* security1 enrols; self-service break-glass is short and loud */
    EXPECT_INT(login_body("security1", DEMO_PW, NULL, &j), 200);
    copy(tok, sizeof tok, j, "token");
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/me/totp/enrol", tok, NULL, &j), 200);
    const char *uri = jstr(j, "otpauth_uri");
    char b32[64] = "";
    if (uri && strstr(uri, "secret=")) {
        const char *sp = strstr(uri, "secret=") + 7;
        snprintf(b32, sizeof b32, "%.*s", (int)strcspn(sp, "&"), sp);
    }
    json_decref(j);
    char code[8], body[64];
    EXPECT_OK(totp_code_base32(b32, clock_now_us() / 1000000, code));
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    EXPECT_INT(h_json(&S, "POST", "/v1/me/totp/confirm", tok, body, NULL), 200);
    EXPECT_INT(h_json(&S, "POST", "/v1/break-glass", tok,
                      "{\"reason\":\"incident 9: a suspected leak\",\"minutes\":60}", NULL),
               400);
    EXPECT_INT(h_json(&S, "POST", "/v1/break-glass", tok,
                      "{\"reason\":\"incident 9: a suspected leak\",\"minutes\":15}", &j),
               201);
    json_decref(j);
    char path[160];
    snprintf(path, sizeof path, "/v1/customers/%s", other_id);
    EXPECT_INT(h_json(&S, "GET", path, tok, NULL, NULL), 200);
    char aud[64];
    EXPECT_INT(login_body("auditor1", DEMO_PW, NULL, &j), 200);
    copy(aud, sizeof aud, j, "token");
    json_decref(j);
    EXPECT(has_notice(aud, "break-glass-open", "security1"));
    /* sec9, the admin's account without a second factor, cannot open one at all */
    EXPECT_INT(login_body("sec9", "sec9-password-777", NULL, &j), 200);
    EXPECT_STR(jstr(j, "second_factor"), "enrol");
    json_decref(j);
    EXPECT_INT(h_stop(&S), 0);
}

int main(void)
{
    h_setup(&S, "chains");
    RUN(t_start);
    RUN(t_admin_key_needs_steward);
    RUN(t_admin_reset_needs_steward);
    RUN(t_admin_creates_reader);
    RUN(t_races);
    RUN(t_handover_race);
    RUN(t_change_races_approval);
    RUN(t_breakglass_needs_steward);
    RUN(t_cli_handover);
    RUN(t_second_factor_for_the_doors);
    if (S.pid) {
        h_stop(&S);
    }
    return test_done("chains_test");
}
