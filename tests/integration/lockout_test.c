/*
 * lockout_test.c - what a stranger can and cannot do to staff accounts, against
 * a live server. Attackers bind to their own loopback addresses (127.0.0.x);
 * staff sign in from 127.0.0.1, which becomes their familiar address.
 *
 *   - failed logins from elsewhere never end a session already open, never lock
 *     a familiar address, and lock only the (account, address) pair they came
 *     from; the guard's own lock after ten failures does the same;
 *   - across many addresses an account is throttled (429 + Retry-After), not
 *     locked: the number of passwords checked is measured and bounded, also
 *     when the attempts arrive at the same time;
 *   - a familiar address whose pair is locked opens with the second factor;
 *   - a wrong old password on /v1/me/password counts like a failed login, and
 *     changing the password ends the account's other sessions;
 *   - forged bearer tokens are audited (rate-limited) and raise an alert;
 *   - writes to a honeytoken raise the honeytoken alert;
 *   - misses of ID-number searches by customer service raise an alert, and the
 *     birth date is masked where the ID number is.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../unit/test.h"
#include "access/totp.h"
#include "core/clock.h"
#include "harness.h"

static srv S;

#define BAD_TOKENS 12 /* the bad-token rule's threshold */
#define PROBES 6      /* the probing rule's threshold */

static const char *jstr(json_t *j, const char *k)
{
    return json_string_value(json_object_get(j, k));
}

static long long jint(json_t *j, const char *k)
{
    return (long long)json_integer_value(json_object_get(j, k));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- requests from other loopback addresses ---- */

static size_t body_cb(char *p, size_t sz, size_t n, void *ud)
{
    return buf_append(ud, p, sz * n) == ERR_OK ? sz * n : 0;
}

static size_t header_cb(char *p, size_t sz, size_t n, void *ud)
{
    char *retry = ud;
    size_t k = sz * n;
    if (k > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        const char *v = p + 12;
        while (*v == ' ') {
            v++;
        }
        snprintf(retry, 32, "%.*s", (int)strcspn(v, "\r\n"), v);
    }
    return k;
}

/* One HTTPS request bound to the loopback address ip; the status (0: no answer). retry (32
 * bytes) receives Retry-After when not NULL. */
static int from(const char *ip, const char *method, const char *path, const char *token,
                const char *body, json_t **out, char *retry)
{
    CURL *c = curl_easy_init();
    char url[1024], auth[256], iface[64], rbuf[32] = "";
    snprintf(url, sizeof url, "https://127.0.0.1:%u%s", S.port, path);
    snprintf(iface, sizeof iface, "host!%s", ip);
    struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hl = curl_slist_append(hl, auth);
    }
    if (body) {
        hl = curl_slist_append(hl, "Content-Type: application/json");
    }
    buf r;
    buf_init(&r, 1 << 22);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_CAINFO, S.cacert);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, rbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (out) {
        *out = rc == CURLE_OK && r.len ? json_loadb((const char *)r.p, r.len, 0, NULL) : NULL;
    }
    if (retry) {
        snprintf(retry, 32, "%s", rbuf);
    }
    buf_free(&r);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? (int)code : 0;
}

static int login_from(const char *ip, const char *user, const char *pw, const char *otp, char *tok,
                      char *retry)
{
    char body[512];
    if (otp && strlen(otp) > 8) {
        snprintf(body, sizeof body,
                 "{\"username\":\"%s\",\"password\":\"%s\",\"recovery_code\":\"%s\"}", user, pw,
                 otp);
    } else if (otp) {
        snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\",\"otp\":\"%s\"}",
                 user, pw, otp);
    } else {
        snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
    }
    json_t *j = NULL;
    int st = from(ip, "POST", "/v1/login", NULL, body, &j, retry);
    if (tok) {
        snprintf(tok, 64, "%s", st == 200 && jstr(j, "token") ? jstr(j, "token") : "");
    }
    json_decref(j);
    return st;
}

static int me(const char *ip, const char *tok)
{
    return from(ip, "GET", "/v1/me", tok, NULL, NULL, NULL);
}

/* ---- alerts and audit ---- */

static char SEC[64], AUD[64]; /* security1's and auditor1's sessions */

/* Waits (up to 10 s) until an alert of rule has at least count; the alert or NULL. */
static json_t *wait_alert(const char *rule, const char *account, long long count)
{
    for (int w = 0; w < 500; w++) {
        char path[256];
        snprintf(path, sizeof path, "/v1/alerts?rule=%s%s%s", rule, account ? "&account=" : "",
                 account ? account : "");
        json_t *j = NULL;
        json_t *found = NULL;
        if (h_json(&S, "GET", path, SEC, NULL, &j) == 200) {
            json_t *a = json_array_get(json_object_get(j, "alerts"), 0);
            if (a && jint(a, "count") >= count) {
                found = json_incref(a);
            }
        }
        json_decref(j);
        if (found) {
            return found;
        }
        usleep(20 * 1000);
    }
    printf("  no alert %s (account %s, count %lld)\n", rule, account ? account : "-", count);
    return NULL;
}

static size_t n_alerts(const char *rule)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/alerts?rule=%s", rule);
    json_t *j = NULL;
    size_t n = 0;
    if (h_json(&S, "GET", path, SEC, NULL, &j) == 200) {
        n = json_array_size(json_object_get(j, "alerts"));
    }
    json_decref(j);
    return n;
}

/* Audit entries matching query (e.g. "actor=x&action=y"). */
static size_t audit_count(const char *query)
{
    char path[512];
    snprintf(path, sizeof path, "/v1/audit/entries?%s&limit=200", query);
    json_t *j = NULL;
    size_t n = 0;
    if (h_json(&S, "GET", path, AUD, NULL, &j) == 200) {
        n = json_array_size(json_object_get(j, "entries"));
    }
    json_decref(j);
    return n;
}

/* ---- the server ---- */

static void write_file(const char *name, const char *text)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", S.dir, name);
    FILE *f = fopen(p, "w");
    if (!f) {
        printf("cannot write %s\n", p);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static const char RULES[] =
    "version 1\n"
    "limit address 100000/s burst 100000\n"
    "limit account 100000/s burst 100000\n"
    "limit connections 4096\n"
    "rule brute-force-account\n    detect login_fail\n    per account\n"
    "    threshold 10 within 15m\n    severity high\n    respond alert, lock 30m\nend\n"
    "rule honeytoken\n    detect honeytoken\n    severity critical\n    respond alert\nend\n"
    "rule bad-tokens\n    detect bad_token\n    per address\n    threshold 12 within 10m\n"
    "    severity medium\nend\n"
    "rule id-probing\n    detect probing\n    per account\n    threshold 6 within 1h\n"
    "    severity high\nend\n"
    "rule door-notices\n    detect notice\n    severity high\n    respond alert\nend\n";

static char HONEY[64];   /* a honeytoken of beijing */
static char STEW[64];    /* steward1's session (second factor enrolled) */
static char SERVICE[64]; /* service1's session */

TEST(t_start)
{
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "23", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "8", NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, demo), 0);
    buf_free(&out);
    write_file("guard.rules", RULES);
    EXPECT(h_start(&S));
    EXPECT_INT(login_from("127.0.0.1", "security1", DEMO_PW, NULL, SEC, NULL), 200);
    EXPECT_INT(login_from("127.0.0.1", "auditor1", DEMO_PW, NULL, AUD, NULL), 200);
    EXPECT_INT(login_from("127.0.0.1", "service1", DEMO_PW, NULL, SERVICE, NULL), 200);
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/honeytokens", SEC, NULL, &j), 200);
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(j, "honeytokens"), i, h)
    {
        if (!HONEY[0] && jstr(h, "department") && strcmp(jstr(h, "department"), "beijing") == 0) {
            snprintf(HONEY, sizeof HONEY, "%s", jstr(h, "id"));
        }
    }
    json_decref(j);
    EXPECT(HONEY[0] != '\0');
}

/* ---- a stranger against a steward ---- */

TEST(t_stranger_cannot_lock_staff_out)
{
    char tok[64], fresh[64];
    /* steward3 at work: signed in from the usual address */
    EXPECT_INT(login_from("127.0.0.1", "steward3", DEMO_PW, NULL, tok, NULL), 200);
    /* five wrong passwords from a stranger's address */
    for (int i = 0; i < 5; i++) {
        EXPECT_INT(login_from("127.0.0.21", "steward3", "Wrong-password-1", NULL, NULL, NULL), 401);
    }
    /* that address is locked out of steward3, even with the right password ... */
    EXPECT_INT(login_from("127.0.0.21", "steward3", DEMO_PW, NULL, NULL, NULL), 401);
    EXPECT_INT(audit_count("actor=steward3&action=account.lock"), 1);
    /* ... but steward3's session goes on and the usual address still signs in */
    EXPECT_INT(me("127.0.0.1", tok), 200);
    EXPECT_INT(login_from("127.0.0.1", "steward3", DEMO_PW, NULL, fresh, NULL), 200);
    EXPECT_INT(me("127.0.0.1", fresh), 200);
    /* five more strangers: ten failures in all set off the guard's brute-force rule */
    for (int i = 0; i < 5; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.0.0.%d", 22 + i);
        EXPECT_INT(login_from(ip, "steward3", "Wrong-password-2", NULL, NULL, NULL), 401);
    }
    json_t *a = wait_alert("brute-force-account", "steward3", 1);
    EXPECT(a != NULL);
    EXPECT(a && jstr(a, "responses") && strstr(jstr(a, "responses"), "lock 30m"));
    json_decref(a);
    /* The guard counted ten failures at 127.0.0.25 (the right password at .21 was one): its
     * lock took that address out of steward3, not the account. .25 answers 401 (locked) where
     * .26, with one failure, meets the spent bucket (429). */
    EXPECT_INT(audit_count("action=guard.lock"), 1);
    EXPECT_INT(login_from("127.0.0.25", "steward3", DEMO_PW, NULL, NULL, NULL), 401);
    EXPECT_INT(login_from("127.0.0.26", "steward3", DEMO_PW, NULL, NULL, NULL), 429);
    EXPECT_INT(me("127.0.0.1", tok), 200);
    EXPECT_INT(me("127.0.0.1", fresh), 200);
    EXPECT_INT(login_from("127.0.0.1", "steward3", DEMO_PW, NULL, NULL, NULL), 200);
    /* the account's bucket for unfamiliar addresses is spent: strangers are throttled */
    char retry[32] = "";
    int throttled = 0, checked = 0;
    for (int i = 0; i < 20; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.0.0.%d", 30 + i);
        int st = login_from(ip, "steward3", "Wrong-password-3", NULL, NULL, retry);
        throttled += st == 429;
        checked += st == 401;
    }
    EXPECT_INT(throttled, 20);
    EXPECT_INT(checked, 0);
    EXPECT(atoi(retry) >= 1 && atoi(retry) <= 120);
    /* the right password from a new address waits its turn too; the usual one does not */
    EXPECT_INT(login_from("127.0.0.60", "steward3", DEMO_PW, NULL, NULL, NULL), 429);
    EXPECT_INT(login_from("127.0.0.1", "steward3", DEMO_PW, NULL, NULL, NULL), 200);
    EXPECT_INT(me("127.0.0.1", tok), 200);
    /* security sees what happened */
    a = wait_alert("door-notices", "steward3", 1);
    EXPECT(a != NULL);
    json_decref(a);
    printf("  steward3: 10 guesses checked from 6 addresses, then 20 of 20 from new addresses "
           "throttled (Retry-After %s s); session alive, usual address signs in\n",
           retry);
}

/* Many addresses at once against one account: exactly the bucket's attempts are checked. */
typedef struct storm {
    int idx, status;
} storm;

static void *storm_one(void *p)
{
    storm *s = p;
    char ip[32];
    snprintf(ip, sizeof ip, "127.0.1.%d", 10 + s->idx);
    s->status = login_from(ip, "legal1", "Wrong-password-4", NULL, NULL, NULL);
    return NULL;
}

TEST(t_guesses_bounded_across_addresses)
{
    char tok[64];
    EXPECT_INT(login_from("127.0.0.1", "legal1", DEMO_PW, NULL, tok, NULL), 200);
    enum { N = 24 };
    storm st[N];
    pthread_t th[N];
    double t0 = now_s();
    for (int i = 0; i < N; i++) {
        st[i].idx = i;
        st[i].status = 0;
        EXPECT(pthread_create(&th[i], NULL, storm_one, &st[i]) == 0);
    }
    int checked = 0, throttled = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        checked += st[i].status == 401;
        throttled += st[i].status == 429;
    }
    double dt = now_s() - t0;
    /* the bucket holds 10 attempts and gains one every 120 s */
    EXPECT_INT(checked, 10);
    EXPECT_INT(throttled, N - 10);
    EXPECT_INT(me("127.0.0.1", tok), 200);
    EXPECT_INT(login_from("127.0.0.1", "legal1", DEMO_PW, NULL, NULL, NULL), 200);
    printf("  legal1: %d concurrent guesses from %d addresses: %d checked, %d throttled "
           "(%.2f s); at most 10 + 30 an hour from any number of addresses\n",
           N, N, checked, throttled, dt);
}

/* Sign-ins from new addresses at the same time: each address becomes familiar (none lost). */
static void *signin_one(void *p)
{
    storm *s = p;
    char ip[32];
    snprintf(ip, sizeof ip, "127.0.2.%d", 10 + s->idx);
    s->status = login_from(ip, "auditor1", DEMO_PW, NULL, NULL, NULL);
    return NULL;
}

TEST(t_familiar_addresses_concurrent)
{
    enum { N = 8 };
    storm st[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        st[i].idx = i;
        st[i].status = 0;
        EXPECT(pthread_create(&th[i], NULL, signin_one, &st[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        EXPECT_INT(st[i].status, 200);
    }
    /* spend auditor1's bucket from strangers ... */
    int throttled = 0;
    for (int i = 0; i < 12; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.0.3.%d", 10 + i);
        throttled += login_from(ip, "auditor1", "Wrong-password-8", NULL, NULL, NULL) == 429;
    }
    EXPECT(throttled >= 2);
    /* ... every one of the eight addresses is familiar: not throttled */
    for (int i = 0; i < N; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.0.2.%d", 10 + i);
        EXPECT_INT(login_from(ip, "auditor1", DEMO_PW, NULL, NULL, NULL), 200);
    }
}

/* ---- the second factor opens a familiar address whose pair is locked ---- */

/* Enrols the session's account in TOTP and confirms it with a code, which completes the
 * session; the secret (base32) into b32. */
static bool enrol_totp(const char *tok, char b32[64])
{
    json_t *j = NULL;
    b32[0] = '\0';
    if (from("127.0.0.1", "POST", "/v1/me/totp/enrol", tok, NULL, &j, NULL) != 200) {
        json_decref(j);
        return false;
    }
    const char *uri = jstr(j, "otpauth_uri");
    if (uri && strstr(uri, "secret=")) {
        const char *sp = strstr(uri, "secret=") + 7;
        snprintf(b32, 64, "%.*s", (int)strcspn(sp, "&"), sp);
    }
    json_decref(j);
    char code[8] = "", body[64];
    if (!b32[0] || totp_code_base32(b32, clock_now_us() / 1000000, code) != ERR_OK) {
        return false;
    }
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    return from("127.0.0.1", "POST", "/v1/me/totp/confirm", tok, body, NULL, NULL) == 200;
}

TEST(t_familiar_address_with_second_factor)
{
    EXPECT_INT(h_stop(&S), 0);
    write_file("custos.json", "{\"access\":{\"second_factor\":\"customer-roles\"}}\n");
    EXPECT(h_start(&S));
    /* security staff administer sanctions: they need the second factor too now */
    EXPECT_INT(login_from("127.0.0.1", "security1", DEMO_PW, NULL, SEC, NULL), 200);
    char sec_b32[64];
    EXPECT(enrol_totp(SEC, sec_b32));
    EXPECT_INT(login_from("127.0.0.1", "auditor1", DEMO_PW, NULL, AUD, NULL), 200);
    char tok[64];
    EXPECT_INT(login_from("127.0.0.1", "steward2", DEMO_PW, NULL, tok, NULL), 200);
    json_t *j = NULL;
    EXPECT_INT(from("127.0.0.1", "POST", "/v1/me/totp/enrol", tok, NULL, &j, NULL), 200);
    const char *uri = jstr(j, "otpauth_uri");
    char b32[64] = "";
    if (uri && strstr(uri, "secret=")) {
        const char *sp = strstr(uri, "secret=") + 7;
        snprintf(b32, sizeof b32, "%.*s", (int)strcspn(sp, "&"), sp);
    }
    json_decref(j);
    int64_t t = clock_now_us() / 1000000;
    char code[8] = "", body[64];
    EXPECT_OK(totp_code_base32(b32, t, code));
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    EXPECT_INT(from("127.0.0.1", "POST", "/v1/me/totp/confirm", tok, body, &j, NULL), 200);
    char recovery[40] = "";
    snprintf(recovery, sizeof recovery, "%s",
             json_string_value(json_array_get(json_object_get(j, "recovery_codes"), 0))
                 ? json_string_value(json_array_get(json_object_get(j, "recovery_codes"), 0))
                 : "");
    json_decref(j);
    EXPECT(strlen(recovery) > 8);
    /* a full sign-in (password and code) makes 127.0.0.1 familiar */
    EXPECT_OK(totp_code_base32(b32, t + 30, code));
    EXPECT_INT(login_from("127.0.0.1", "steward2", DEMO_PW, code, tok, NULL), 200);
    /* five failures from that same address lock the pair ... */
    for (int i = 0; i < 5; i++) {
        EXPECT_INT(login_from("127.0.0.1", "steward2", "Wrong-password-5", NULL, NULL, NULL), 401);
    }
    /* ... the password alone does not open it (and says nothing about being right) ... */
    json_t *e = NULL;
    EXPECT_INT(from("127.0.0.1", "POST", "/v1/login", NULL,
                    "{\"username\":\"steward2\",\"password\":\"" DEMO_PW "\"}", &e, NULL),
               401);
    json_t *eo = json_object_get(e, "error");
    EXPECT(!jstr(eo, "code") || strcmp(jstr(eo, "code"), "second_factor_required") != 0);
    json_decref(e);
    /* ... the password with the second factor (a recovery code here) does; the session never
     * ended */
    EXPECT_INT(login_from("127.0.0.1", "steward2", DEMO_PW, recovery, NULL, NULL), 200);
    EXPECT_INT(me("127.0.0.1", tok), 200);
}

/* ---- /v1/me/password ---- */

TEST(t_password_change)
{
    char a[64], b[64];
    EXPECT_INT(login_from("127.0.0.1", "hr1", DEMO_PW, NULL, a, NULL), 200);
    char hr_b32[64];
    EXPECT(enrol_totp(a, hr_b32)); /* HR administers training: the second factor first */
    /* a stolen session, used from elsewhere, guesses the old password */
    int st[7];
    for (int i = 0; i < 7; i++) {
        const char *pw = i < 5 ? "Wrong-password-6" : DEMO_PW;
        char body[256];
        snprintf(body, sizeof body,
                 "{\"old_password\":\"%s\",\"new_password\":\"Brand-new-password-77\"}", pw);
        st[i] = from("127.0.0.70", "POST", "/v1/me/password", a, body, NULL, NULL);
    }
    for (int i = 0; i < 5; i++) {
        EXPECT_INT(st[i], 401);
    }
    /* locked out after five: even the right old password is refused from there */
    EXPECT_INT(st[5], 401);
    EXPECT_INT(st[6], 401);
    EXPECT_INT(audit_count("actor=hr1&action=account.lock"), 1);
    EXPECT_INT(audit_count("actor=hr1&action=account.password&decision=deny"), 7);
    json_t *al = wait_alert("door-notices", "hr1", 1);
    EXPECT(al != NULL);
    json_decref(al);
    /* from the owner's own address the change works, and ends every other session */
    EXPECT_INT(login_from("127.0.0.1", "legal1", DEMO_PW, NULL, a, NULL), 200);
    EXPECT_INT(login_from("127.0.0.1", "legal1", DEMO_PW, NULL, b, NULL), 200);
    EXPECT_INT(from("127.0.0.1", "POST", "/v1/me/password", a,
                    "{\"old_password\":\"" DEMO_PW "\",\"new_password\":\"Brand-new-password-77\"}",
                    NULL, NULL),
               200);
    EXPECT_INT(me("127.0.0.1", b), 401);
    EXPECT_INT(login_from("127.0.0.1", "legal1", DEMO_PW, NULL, NULL, NULL), 401);
    EXPECT_INT(login_from("127.0.0.1", "legal1", "Brand-new-password-77", NULL, b, NULL), 200);
    EXPECT_INT(me("127.0.0.1", b), 200);
}

/* ---- forged tokens ---- */

TEST(t_forged_tokens)
{
    const char *ip = "127.0.0.80";
    size_t before = audit_count("actor=unknown-token&action=session.check");
    for (int i = 0; i < BAD_TOKENS + 8; i++) {
        char tok[80];
        snprintf(tok, sizeof tok, "cst_forged%04dAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", i);
        EXPECT_INT(from(ip, "GET", "/v1/me", i % 2 ? tok : "csk_forged-key", NULL, NULL, NULL),
                   401);
        if (i == BAD_TOKENS - 2) {
            EXPECT_INT(n_alerts("bad-tokens"), 0);
        }
    }
    json_t *a = wait_alert("bad-tokens", NULL, 1);
    EXPECT(a != NULL);
    EXPECT(a && jstr(a, "address") && strcmp(jstr(a, "address"), ip) == 0);
    json_decref(a);
    /* audited, but a flood leaves one entry a minute per address */
    size_t after = audit_count("actor=unknown-token&action=session.check");
    EXPECT_INT(after - before, 1);
    printf("  %d forged tokens from %s: 1 audit entry, alert at %d\n", BAD_TOKENS + 8, ip,
           BAD_TOKENS);
}

/* ---- honeytoken writes ---- */

TEST(t_honeytoken_writes)
{
    char *st = STEW;
    EXPECT_INT(login_from("127.0.0.1", "steward1", DEMO_PW, NULL, st, NULL), 200);
    /* steward1 must enrol under customer-roles: do it to reach the data */
    json_t *j = NULL;
    EXPECT_INT(from("127.0.0.1", "POST", "/v1/me/totp/enrol", st, NULL, &j, NULL), 200);
    const char *uri = jstr(j, "otpauth_uri");
    char b32[64] = "", code[8] = "", body[64];
    if (uri && strstr(uri, "secret=")) {
        const char *sp = strstr(uri, "secret=") + 7;
        snprintf(b32, sizeof b32, "%.*s", (int)strcspn(sp, "&"), sp);
    }
    json_decref(j);
    EXPECT_OK(totp_code_base32(b32, clock_now_us() / 1000000, code));
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    EXPECT_INT(from("127.0.0.1", "POST", "/v1/me/totp/confirm", st, body, NULL, NULL), 200);
    char path[160];
    EXPECT_INT(n_alerts("honeytoken"), 0);
    snprintf(path, sizeof path, "/v1/customers/%s/transactions", HONEY);
    EXPECT_INT(from("127.0.0.1", "POST", path, st,
                    "{\"date\":\"2026-05-01\",\"description\":\"vase\",\"price\":120000}", NULL,
                    NULL),
               201);
    json_t *a = wait_alert("honeytoken", "steward1", 1);
    EXPECT(a != NULL);
    EXPECT(a && strstr(jstr(a, "detail"), "wrote to honeytoken") != NULL);
    json_decref(a);
    snprintf(path, sizeof path, "/v1/customers/%s/communications", HONEY);
    EXPECT_INT(from("127.0.0.1", "POST", path, st,
                    "{\"at\":\"2026-05-01T10:00:00+08:00\",\"channel\":\"phone\","
                    "\"summary\":\"call\"}",
                    NULL, NULL),
               201);
    a = wait_alert("honeytoken", "steward1", 2);
    EXPECT(a != NULL);
    json_decref(a);
    /* customer service's correction becomes a change request: also a touch */
    char svc[64];
    EXPECT_INT(login_from("127.0.0.1", "service1", DEMO_PW, NULL, svc, NULL), 200);
    j = NULL;
    EXPECT_INT(from("127.0.0.1", "POST", "/v1/me/totp/enrol", svc, NULL, &j, NULL), 200);
    uri = jstr(j, "otpauth_uri");
    b32[0] = '\0';
    if (uri && strstr(uri, "secret=")) {
        const char *sp = strstr(uri, "secret=") + 7;
        snprintf(b32, sizeof b32, "%.*s", (int)strcspn(sp, "&"), sp);
    }
    json_decref(j);
    EXPECT_OK(totp_code_base32(b32, clock_now_us() / 1000000, code));
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    EXPECT_INT(from("127.0.0.1", "POST", "/v1/me/totp/confirm", svc, body, NULL, NULL), 200);
    snprintf(SERVICE, sizeof SERVICE, "%s", svc);
    snprintf(path, sizeof path, "/v1/customers/%s", HONEY);
    EXPECT_INT(from("127.0.0.1", "PATCH", path, svc, "{\"phone\":\"13900002222\"}", NULL, NULL),
               202);
    a = wait_alert("honeytoken", "service1", 1);
    EXPECT(a != NULL);
    json_decref(a);
}

/* ---- masked ID numbers ---- */

/* A valid resident ID number (GB 11643 check digit) from its first 17 digits. */
static void id_with_check(const char *d17, char out[19])
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        sum += (d17[i] - '0') * w[i];
    }
    memcpy(out, d17, 17);
    out[17] = "10X98765432"[sum % 11];
    out[18] = '\0';
}

TEST(t_id_number_probing)
{
    /* the birth date would give the masked digits away: it is masked with them */
    json_t *j = NULL;
    EXPECT_INT(from("127.0.0.1", "GET", "/v1/customers?limit=20", STEW, NULL, &j, NULL), 200);
    char cid[64] = "", full_bd[16] = "";
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(j, "customers"), i, c)
    {
        if (!cid[0] && jstr(c, "id_number") && jstr(c, "birth_date")) {
            snprintf(cid, sizeof cid, "%s", jstr(c, "id"));
            snprintf(full_bd, sizeof full_bd, "%s", jstr(c, "birth_date"));
        }
    }
    json_decref(j);
    EXPECT(cid[0] != '\0');
    char path[128];
    snprintf(path, sizeof path, "/v1/customers/%s", cid);
    EXPECT_INT(from("127.0.0.1", "GET", path, SERVICE, NULL, &j, NULL), 200);
    EXPECT(jstr(j, "id_number") && strstr(jstr(j, "id_number"), "**********") != NULL);
    EXPECT(jstr(j, "birth_date") != NULL);
    EXPECT(!jstr(j, "birth_date") || strcmp(jstr(j, "birth_date"), full_bd) != 0);
    EXPECT_STR(jstr(j, "birth_date"), "***");
    json_decref(j);
    /* guessing: searches that miss */
    for (int k = 0; k < PROBES; k++) {
        if (k == PROBES - 1) {
            EXPECT_INT(n_alerts("id-probing"), 0);
        }
        char d17[18], id[19];
        snprintf(d17, sizeof d17, "11010119900307%03d", 500 + k);
        id_with_check(d17, id);
        snprintf(path, sizeof path, "/v1/customers?id_number=%s", id);
        EXPECT_INT(from("127.0.0.1", "GET", path, SERVICE, NULL, &j, NULL), 200);
        EXPECT_INT(json_array_size(json_object_get(j, "customers")), 0);
        json_decref(j);
    }
    json_t *a = wait_alert("id-probing", "service1", 1);
    EXPECT(a != NULL);
    json_decref(a);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    h_setup(&S, "lockout");
    RUN(t_start);
    RUN(t_stranger_cannot_lock_staff_out);
    RUN(t_guesses_bounded_across_addresses);
    RUN(t_familiar_addresses_concurrent);
    RUN(t_familiar_address_with_second_factor);
    RUN(t_password_change);
    RUN(t_forged_tokens);
    RUN(t_honeytoken_writes);
    RUN(t_id_number_probing);
    if (S.pid) {
        h_stop(&S);
    }
    curl_global_cleanup();
    return test_done("lockout_test");
}
