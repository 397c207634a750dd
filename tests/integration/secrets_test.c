/*
 * secrets_test.c - what the vault leaves on disk and hands back: the idempotency cache
 * (keyed fingerprints, no secrets, expiry, audited replays), the modes of every file and
 * folder and the refusal of loose ones, the audit anchor sealed by the master key, export
 * watermarks, the policy explainer, error texts of 5xx answers; and a byte-wise canary scan
 * of every file (vault, WAL, backups, logs) for API keys, TOTP secrets, recovery codes,
 * session tokens, passwords and the passphrase.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/test.h"
#include "access/totp.h"
#include "core/clock.h"
#include "core/mem.h"
#include "harness.h"

static srv S;
static char root[512];
static char tok_admin[64], tok_st1[64], tok_aud[64], tok_sec[64], tok_sales2[64];

/* Secrets the server handed out during the run: none may be found in any file. */
#define CANARY_MAX 64
static char canaries[CANARY_MAX][160];
static size_t ncanaries;

static void canary(const char *s)
{
    if (s && s[0] && ncanaries < CANARY_MAX) {
        snprintf(canaries[ncanaries++], sizeof canaries[0], "%s", s);
    }
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int sql_in(const char *file, const char *q)
{
    char db[700];
    snprintf(db, sizeof db, "%s/%s", S.dir, file);
    sqlite3 *h = NULL;
    sqlite3_open(db, &h);
    sqlite3_busy_timeout(h, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(h, q, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        printf("    sql failed: %s\n", msg ? msg : "?");
    }
    sqlite3_free(msg);
    sqlite3_close(h);
    return rc;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    buf b;
    buf_init(&b, 1 << 26);
    char tmp[8192];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        IGNORE(buf_append(&b, tmp, n));
    }
    fclose(f);
    char *s = strdup(buf_cstr(&b));
    buf_free(&b);
    return s;
}

static bool log_says(const char *needle)
{
    char *log = read_text(S.log);
    bool yes = log && strstr(log, needle) != NULL;
    if (!yes) {
        printf("    the server log does not say \"%s\"\n", needle);
    }
    free(log);
    return yes;
}

static bool blob_in_tree(const char *dir, const uint8_t *needle, size_t n);

TEST(t_start)
{
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "7", 1);
    /* A careless operator's umask: every file must still be private. */
    mode_t old = umask(0);
    const char *demo[] = {"demo", S.dir, "--customers", "12", NULL};
    buf out;
    buf_init(&out, 0);
    int rc = h_cli(&S, &out, demo);
    umask(old);
    EXPECT_INT(rc, 0);
    if (rc) {
        printf("%s\n", buf_cstr(&out));
    }
    buf_free(&out);
    h_quiet_guard(&S);
    char p[700];
    snprintf(p, sizeof p, "%s/guard.rules", S.dir);
    chmod(p, 0600);
    EXPECT(h_start(&S));
    EXPECT(h_login(&S, "admin", DEMO_PW, tok_admin));
    EXPECT(h_login(&S, "steward1", DEMO_PW, tok_st1));
    EXPECT(h_login(&S, "auditor1", DEMO_PW, tok_aud));
    EXPECT(h_login(&S, "security1", DEMO_PW, tok_sec));
    EXPECT(h_login(&S, "sales2", DEMO_PW, tok_sales2));
    canary(tok_admin);
    canary(tok_st1);
    canary(tok_aud);
    canary(tok_sec);
    canary(tok_sales2);
}

/* ---- the idempotency cache ---- */

static int post_idem(const char *path, const char *token, const char *body, const char *key,
                     buf *resp)
{
    char h[200];
    snprintf(h, sizeof h, "Idempotency-Key: %s", key);
    buf_reset(resp);
    return h_req(&S, "POST", path, token, body ? "application/json" : NULL, body,
                 body ? strlen(body) : 0, resp, h);
}

/* The unkeyed fingerprint the cache used to store: BLAKE2b-256 of "POST URL\n" || body. */
static void fast_fingerprint(const char *url, const char *body, uint8_t out[32])
{
    buf b;
    buf_init(&b, 1 << 20);
    IGNORE(buf_appendf(&b, "POST %s\n%s", url, body));
    crypto_generichash(out, 32, b.p, b.len, NULL, 0);
    buf_free(&b);
}

static long audit_count(const char *action)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/audit/entries?action=%s&limit=200", action);
    json_t *j = NULL;
    long n = -1;
    if (h_json(&S, "GET", path, tok_aud, NULL, &j) == 200) {
        n = (long)json_array_size(json_object_get(j, "entries"));
    }
    json_decref(j);
    return n;
}

TEST(t_idempotency_secrets)
{
    buf r;
    buf_init(&r, 1 << 20);
    /* An API key, asked for with an Idempotency-Key: never cached (the route is refused with
     * the header), so a replay cannot hand the key out again. */
    const char *kbody = "{\"name\":\"idem-till\",\"role\":\"sales\",\"department\":\"beijing\","
                        "\"scope\":\"transactions:read\",\"addresses\":\"127.0.0.0/8\"}";
    int st = post_idem("/v1/apikeys", tok_admin, kbody, "key-1", &r);
    json_t *j = json_loads(buf_cstr(&r), 0, NULL);
    canary(jstr(j, "key"));
    json_decref(j);
    EXPECT_INT(st, 400);
    if (st / 100 == 2) {
        buf r2;
        buf_init(&r2, 1 << 20);
        int st2 = post_idem("/v1/apikeys", tok_admin, kbody, "key-1", &r2);
        json_t *j2 = json_loads(buf_cstr(&r2), 0, NULL);
        printf("    a replay gave %d%s\n", st2, jstr(j2, "key") ? " and the API key again" : "");
        json_decref(j2);
        buf_free(&r2);
    }
    /* Without the header the key is made (and shown once). */
    const char *kbody2 = "{\"name\":\"idem-till-2\",\"role\":\"sales\",\"department\":\"beijing\","
                         "\"scope\":\"transactions:read\",\"addresses\":\"127.0.0.0/8\"}";
    j = NULL;
    st = h_json(&S, "POST", "/v1/apikeys", tok_admin, kbody2, &j);
    EXPECT(st == 201 || st == 202);
    canary(jstr(j, "key"));
    json_decref(j);

    /* TOTP enrolment and confirmation under an Idempotency-Key. */
    char tok[64];
    EXPECT(h_login(&S, "legal1", DEMO_PW, tok));
    canary(tok);
    st = post_idem("/v1/me/totp/enrol", tok, NULL, "totp-1", &r);
    EXPECT_INT(st, 400);
    j = NULL;
    EXPECT_INT(h_json(&S, "POST", "/v1/me/totp/enrol", tok, NULL, &j), 200);
    const char *uri = jstr(j, "otpauth_uri");
    char b32[64] = "";
    if (uri && strstr(uri, "secret=")) {
        const char *sp = strstr(uri, "secret=") + 7;
        snprintf(b32, sizeof b32, "%.*s", (int)strcspn(sp, "&"), sp);
    }
    json_decref(j);
    EXPECT(b32[0] != '\0');
    canary(b32);
    char code[8] = "", body[64];
    EXPECT_OK(totp_code_base32(b32, clock_now_us() / 1000000, code));
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    st = post_idem("/v1/me/totp/confirm", tok, body, "totp-2", &r);
    EXPECT_INT(st, 400);
    j = NULL;
    if (st != 200) {
        EXPECT_INT(h_json(&S, "POST", "/v1/me/totp/confirm", tok, body, &j), 200);
    } else {
        j = json_loads(buf_cstr(&r), 0, NULL);
    }
    json_t *codes = json_object_get(j, "recovery_codes");
    EXPECT_INT(json_array_size(codes), 10);
    for (size_t i = 0; i < json_array_size(codes); i++) {
        canary(json_string_value(json_array_get(codes, i)));
    }
    json_decref(j);

    /* A password change: the body must never be fingerprinted with a fast hash. */
    char tok2[64];
    EXPECT(h_login(&S, "hr1", DEMO_PW, tok2));
    canary(tok2);
    const char *pbody = "{\"old_password\":\"" DEMO_PW "\",\"new_password\":\"Canary-Pass-"
                        "Word-77!x\"}";
    uint8_t fp[32];
    fast_fingerprint("/v1/me/password", pbody, fp);
    st = post_idem("/v1/me/password", tok2, pbody, "pw-1", &r);
    EXPECT_INT(st, 400);
    canary("Canary-Pass-Word-77!x");
    EXPECT(!blob_in_tree(S.dir, fp, 32));
    /* The unseal route (which carries the passphrase) is refused with the header too. */
    st = post_idem("/v1/vault/unseal", tok_sec,
                   "{\"passphrase\":\"canary passphrase for the vault\"}", "unseal-1", &r);
    EXPECT_INT(st, 400);
    canary("canary passphrase for the vault");

    /* Where idempotency applies, the fingerprint is keyed (not the fast hash), a replay is
     * audited, and the body stored is sealed. */
    const char *cbody = "{\"name\":\"冪等测试\",\"phone\":\"13711112222\"}";
    fast_fingerprint("/v1/customers", cbody, fp);
    long replays = audit_count("request.replay");
    EXPECT_INT(post_idem("/v1/customers", tok_st1, cbody, "cust-1", &r), 201);
    char first[256];
    snprintf(first, sizeof first, "%s", buf_cstr(&r));
    EXPECT_INT(post_idem("/v1/customers", tok_st1, cbody, "cust-1", &r), 201);
    EXPECT_STR(buf_cstr(&r), first);
    EXPECT_INT(audit_count("request.replay"), replays + 1);
    /* a different body under the same key: still a conflict */
    EXPECT_INT(post_idem("/v1/customers", tok_st1,
                         "{\"name\":\"另一个\",\"phone\":\"13711113333\"}", "cust-1", &r),
               409);
    EXPECT(!blob_in_tree(S.dir, fp, 32));
    j = json_loads(first, 0, NULL);
    const char *cid = jstr(j, "id");
    char cidc[64] = "";
    snprintf(cidc, sizeof cidc, "%s", cid ? cid : "");
    json_decref(j);
    /* the answer (the new id) is not stored in clear in the cache */
    char q[300];
    snprintf(q, sizeof q, "SELECT 1 FROM idempotency WHERE instr(body, '%s') > 0", cidc);
    sqlite3 *h = NULL;
    char db[700];
    snprintf(db, sizeof db, "%s/custos.db", S.dir);
    sqlite3_open(db, &h);
    sqlite3_busy_timeout(h, 5000);
    sqlite3_stmt *stt = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(h, q, -1, &stt, NULL) == SQLITE_OK) {
        found = sqlite3_step(stt) == SQLITE_ROW;
    }
    sqlite3_finalize(stt);
    sqlite3_close(h);
    EXPECT_INT(found, 0);
    buf_free(&r);
}

static long expired_rows(void)
{
    sqlite3 *h = NULL;
    char db[700];
    snprintf(db, sizeof db, "%s/custos.db", S.dir);
    sqlite3_open(db, &h);
    sqlite3_busy_timeout(h, 5000);
    sqlite3_stmt *st = NULL;
    long left = -1;
    if (sqlite3_prepare_v2(h, "SELECT count(*) FROM idempotency WHERE at < ?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(st, 1, clock_now_us() - (int64_t)24 * 3600 * 1000000);
        if (sqlite3_step(st) == SQLITE_ROW) {
            left = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return left;
}

TEST(t_idempotency_expires)
{
    /* An entry older than 24 hours is forgotten: the same key is new again, even with another
     * request; expired rows are purged (at the latest at the next start). */
    buf r;
    buf_init(&r, 1 << 20);
    EXPECT_INT(post_idem("/v1/customers", tok_st1,
                         "{\"name\":\"过期测试\",\"phone\":\"13711114444\"}", "old-1", &r),
               201);
    EXPECT_INT(post_idem("/v1/customers", tok_st1,
                         "{\"name\":\"过期测试\",\"phone\":\"13711117777\"}", "old-1", &r),
               409);
    EXPECT_INT(sql_in("custos.db", "UPDATE idempotency SET at = at - 90000000000"), SQLITE_OK);
    EXPECT(expired_rows() > 0);
    EXPECT_INT(post_idem("/v1/customers", tok_st1,
                         "{\"name\":\"过期测试\",\"phone\":\"13711117777\"}", "old-1", &r),
               201);
    EXPECT_INT(sql_in("custos.db", "UPDATE idempotency SET at = at - 90000000000"), SQLITE_OK);
    EXPECT_INT(h_stop(&S), 0);
    EXPECT(h_start(&S));
    EXPECT_INT(expired_rows(), 0);
    buf_free(&r);
}

/* Concurrent retries of one request with one key: one customer, every answer the same. */
typedef struct retry_arg {
    int status;
    char body[256];
} retry_arg;

#include <pthread.h>
static void *retry_thread(void *p)
{
    retry_arg *a = p;
    buf r;
    buf_init(&r, 1 << 20);
    a->status = post_idem("/v1/customers", tok_st1,
                          "{\"name\":\"并发重试\",\"phone\":\"13711116666\"}", "race-1", &r);
    snprintf(a->body, sizeof a->body, "%s", buf_cstr(&r));
    buf_free(&r);
    return NULL;
}

TEST(t_idempotency_concurrent)
{
    enum { N = 8 };
    pthread_t th[N];
    retry_arg a[N];
    memset(a, 0, sizeof a);
    for (int i = 0; i < N; i++) {
        pthread_create(&th[i], NULL, retry_thread, &a[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
    }
    int created = 0;
    const char *body = NULL;
    for (int i = 0; i < N; i++) {
        if (a[i].status == 201) {
            created++;
            if (!body) {
                body = a[i].body;
            } else {
                EXPECT_STR(a[i].body, body);
            }
        } else {
            EXPECT_INT(a[i].status, 409); /* "in progress": retry later */
        }
    }
    EXPECT(created >= 1);
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?phone=13711116666", tok_st1, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "customers")), 1);
    json_decref(j);
}

/* ---- export watermark, explain, 5xx texts ---- */

TEST(t_export_watermark)
{
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "POST", "/v1/exports", tok_st1, "{\"format\":\"csv\"}", &j), 202);
    char rid[ID_LEN + 1] = "";
    snprintf(rid, sizeof rid, "%s",
             jstr(json_object_get(j, "request"), "id") ? jstr(json_object_get(j, "request"), "id")
                                                       : "");
    json_decref(j);
    char tok3[64], ap[128], path[160];
    EXPECT(h_login(&S, "steward3", DEMO_PW, tok3));
    canary(tok3);
    snprintf(ap, sizeof ap, "/v1/requests/%s/approve", rid);
    EXPECT_INT(h_json(&S, "POST", ap, tok3, "{\"note\":\"mailing\"}", NULL), 200);
    snprintf(path, sizeof path, "/v1/export?format=csv&request=%s", rid);
    buf r;
    buf_init(&r, 1 << 24);
    EXPECT_INT(h_req(&S, "GET", path, tok_st1, NULL, NULL, 0, &r, NULL), 200);
    /* every row carries the export's mark in its last column */
    const char *text = buf_cstr(&r);
    const char *nl = strchr(text, '\n');
    EXPECT(nl != NULL);
    EXPECT(nl && memmem(text, (size_t)(nl - text), "export_mark", 11) != NULL);
    const char *m = strstr(text, "cwm_");
    char mark[64] = "";
    if (m) {
        snprintf(mark, sizeof mark, "%.*s", (int)strcspn(m, ",\r\n"), m);
    }
    EXPECT(strlen(mark) > 10);
    long rows = 0, marked = 0;
    for (const char *p = nl ? nl + 1 : text; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "") {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0) {
            break;
        }
        rows++;
        marked += mark[0] && memmem(p, n, mark, strlen(mark)) != NULL;
    }
    EXPECT(rows > 0);
    EXPECT_INT(marked, rows);
    /* the audit entry of the export names the mark, and who exported */
    j = NULL;
    EXPECT_INT(
        h_json(&S, "GET", "/v1/audit/entries?action=customer.export&limit=50", tok_aud, NULL, &j),
        200);
    int hit = 0;
    json_t *es = json_object_get(j, "entries");
    for (size_t i = 0; i < json_array_size(es); i++) {
        json_t *d = json_object_get(json_array_get(es, i), "decoded");
        char *s = json_dumps(d, JSON_COMPACT);
        if (s && mark[0] && strstr(s, mark) && strstr(s, "\"steward1\"")) {
            hit++;
        }
        free(s);
    }
    EXPECT_INT(hit, 1);
    json_decref(j);
    buf_free(&r);
}

TEST(t_explain_no_department_leak)
{
    /* a customer of shanghai; security (policy.manage, department security) must not learn
     * its department */
    json_t *j = NULL;
    char id[ID_LEN + 1] = "";
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?limit=1", tok_sales2, NULL, &j), 200);
    const char *cid = jstr(json_array_get(json_object_get(j, "customers"), 0), "id");
    snprintf(id, sizeof id, "%s", cid ? cid : "");
    json_decref(j);
    EXPECT(id[0] != '\0');
    char path[256];
    snprintf(path, sizeof path,
             "/v1/policy/explain?role=sales&op=read&category=contact&customer=%s", id);
    j = NULL;
    int st = h_json(&S, "GET", path, tok_sec, NULL, &j);
    EXPECT_INT(st, 404);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    EXPECT(!s || strstr(s, "shanghai") == NULL);
    free(s);
    json_decref(j);
    /* without a customer the explanation still works */
    EXPECT_INT(h_json(&S, "GET", "/v1/policy/explain?role=sales&op=read&category=contact", tok_sec,
                      NULL, NULL),
               200);
}

TEST(t_5xx_texts)
{
    /* A database failure under a request: the client gets a generic text, the log the detail. */
    EXPECT_INT(sql_in("custos.db", "ALTER TABLE requests RENAME TO requests_moved"), SQLITE_OK);
    json_t *j = NULL;
    int st = h_json(&S, "GET", "/v1/requests", tok_st1, NULL, &j);
    EXPECT(st >= 500);
    const char *msg = jstr(json_object_get(j, "error"), "message");
    EXPECT(msg != NULL);
    if (msg) {
        EXPECT(strstr(msg, "requests") == NULL);
        EXPECT(strstr(msg, "table") == NULL);
        EXPECT(strstr(msg, "store:") == NULL);
    }
    json_decref(j);
    EXPECT_INT(sql_in("custos.db", "ALTER TABLE requests_moved RENAME TO requests"), SQLITE_OK);
    EXPECT(log_says("no such table"));
}

/* ---- answers wiped after they are sent ---- */

/* Counts occurrences of needle in the server's writable memory (root may read another
 * process's memory even when it is not dumpable); -1 when the memory cannot be read. */
static long in_server_memory(const char *needle)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/maps", (int)S.pid);
    FILE *maps = fopen(p, "r");
    snprintf(p, sizeof p, "/proc/%d/mem", (int)S.pid);
    int mem = open(p, O_RDONLY);
    if (!maps || mem < 0) {
        if (maps) {
            fclose(maps);
        }
        if (mem >= 0) {
            close(mem);
        }
        return -1;
    }
    long hits = 0;
    size_t nl = strlen(needle);
    char line[512];
    static char chunk[1 << 20];
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
            perms[1] != 'w' || hi - lo > (1ul << 30)) {
            continue;
        }
        for (unsigned long at = lo; at < hi; at += sizeof chunk - nl) {
            size_t want = hi - at < sizeof chunk ? hi - at : sizeof chunk;
            ssize_t got = pread(mem, chunk, want, (off_t)at);
            if (got <= 0) {
                break;
            }
            for (char *q = chunk; (q = memmem(q, (size_t)got - (size_t)(q - chunk), needle, nl));
                 q++) {
                hits++;
            }
            if ((size_t)got < want || at + want >= hi) {
                break;
            }
        }
    }
    fclose(maps);
    close(mem);
    return hits;
}

TEST(t_answers_wiped)
{
    /* A customer whose name appears only in answers; after they were sent, no copy of the
     * answer text is left in the server's memory. */
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "POST", "/v1/customers", tok_st1,
                      "{\"name\":\"Wipecanary Quxqux\",\"phone\":\"13711118888\"}", &j),
               201);
    char path[128];
    snprintf(path, sizeof path, "/v1/customers/%s", jstr(j, "id") ? jstr(j, "id") : "x");
    json_decref(j);
    char answer[2048] = "";
    for (int i = 0; i < 20; i++) {
        buf r;
        buf_init(&r, 1 << 20);
        EXPECT_INT(h_req(&S, "GET", path, tok_st1, NULL, NULL, 0, &r, NULL), 200);
        snprintf(answer, sizeof answer, "%s", buf_cstr(&r));
        buf_free(&r);
    }
    /* the answer as sent (the request that created the customer is another text), without
     * its first bytes, which an allocator may reuse for its own records once freed */
    EXPECT(strlen(answer) > 64 && strstr(answer + 32, "Wipecanary Quxqux") != NULL);
    long n = -1;
    for (int64_t until = clock_mono_us() + 5000000; clock_mono_us() < until;) {
        n = in_server_memory(answer + 32);
        if (n <= 0) {
            break;
        }
        usleep(100 * 1000);
    }
    if (getenv("H_DEBUG_WIPE")) {
        printf("    answers: %ld, names: %ld\n", n, in_server_memory("Wipecanary Quxqux"));
    }
    if (n < 0) {
        printf("    (cannot read the server's memory here: skipped)\n");
        return;
    }
    EXPECT_INT(n, 0);
}

/* ---- file modes ---- */

static int loose_files(const char *dir)
{
    int n = 0;
    struct stat st;
    if (lstat(dir, &st) == 0 && (st.st_mode & 077)) {
        printf("    %s is %03o\n", dir, st.st_mode & 0777);
        n++;
    }
    char cmd[800];
    snprintf(cmd, sizeof cmd, "find '%s' -perm /077", dir);
    FILE *f = popen(cmd, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, dir) != 0) {
            printf("    %s is readable or writable by others\n", line);
            n++;
        }
    }
    if (f) {
        pclose(f);
    }
    return n;
}

TEST(t_file_modes)
{
    /* made under umask 000 (t_start): the vault with its WAL, shm, audit and guard files */
    EXPECT_INT(loose_files(S.dir), 0);
    /* a backup made under umask 022 */
    char bk[700];
    snprintf(bk, sizeof bk, "%s/vault.backup", root);
    mode_t old = umask(022);
    const char *b[] = {"backup", S.dir, bk, NULL};
    buf out;
    buf_init(&out, 0);
    int rc = h_cli(&S, &out, b);
    umask(old);
    if (rc) {
        printf("    %s\n", buf_cstr(&out));
    }
    buf_free(&out);
    EXPECT_INT(rc, 0);
    struct stat st;
    EXPECT(stat(bk, &st) == 0 && (st.st_mode & 077) == 0);
    /* a fresh vault under umask 022 */
    char d2[700];
    snprintf(d2, sizeof d2, "%s/v022", root);
    old = umask(022);
    const char *init[] = {"init", d2, NULL};
    EXPECT_INT(h_cli(&S, NULL, init), 0);
    umask(old);
    EXPECT_INT(loose_files(d2), 0);
}

static bool refused(const char *what)
{
    bool up = h_start(&S);
    if (!up && S.pid) {
        h_stop(&S); /* started but never answered: not left running */
    }
    if (up) {
        printf("    the server started with %s\n", what);
        h_stop(&S);
        return false;
    }
    return true;
}

TEST(t_refuse_loose_modes)
{
    EXPECT_INT(h_stop(&S), 0);
    char p[700];
    /* the folder */
    chmod(S.dir, 0755);
    EXPECT(refused("a vault folder of mode 0755"));
    EXPECT(log_says("group or others"));
    /* the offline commands refuse it too */
    char bk[700];
    snprintf(bk, sizeof bk, "%s/loose.backup", root);
    const char *b[] = {"backup", S.dir, bk, NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT(h_cli(&S, &out, b) != 0);
    EXPECT(strstr(buf_cstr(&out), "group or others") != NULL);
    buf_free(&out);
    chmod(S.dir, 0700);
    /* the database */
    snprintf(p, sizeof p, "%s/custos.db", S.dir);
    chmod(p, 0644);
    EXPECT(refused("custos.db of mode 0644"));
    chmod(p, 0600);
    /* the keyring */
    snprintf(p, sizeof p, "%s/keyring", S.dir);
    chmod(p, 0640);
    EXPECT(refused("a keyring of mode 0640"));
    chmod(p, 0600);
    /* the key file */
    chmod(S.key, 0666);
    EXPECT(refused("a key file of mode 0666"));
    EXPECT(log_says("key file"));
    chmod(S.key, 0600);
    /* a configuration file others may write */
    snprintf(p, sizeof p, "%s/guard.rules", S.dir);
    chmod(p, 0666);
    EXPECT(refused("guard.rules of mode 0666"));
    chmod(p, 0600);
    EXPECT(h_start(&S));
}

/* ---- the audit anchor ---- */

static char saved_note[8192];

/* An older checkpoint signed into the log (its second one), kept for the rollback. */
static void keep_old_checkpoint(void)
{
    char db[700];
    snprintf(db, sizeof db, "%s/audit.db", S.dir);
    sqlite3 *h = NULL;
    sqlite3_open(db, &h);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "SELECT note FROM checkpoints ORDER BY size LIMIT 1 OFFSET 1", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        snprintf(saved_note, sizeof saved_note, "%s", sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
}

/* Copies a database file with its WAL (a closed database may keep one). */
static void copy(const char *from, const char *to)
{
    char cmd[3000];
    snprintf(cmd, sizeof cmd,
             "cp '%s' '%s' && rm -f '%s-wal' '%s-shm' && if [ -f '%s-wal' ]; then cp '%s-wal' "
             "'%s-wal'; fi",
             from, to, to, to, from, from, to);
    EXPECT_INT(system(cmd), 0);
}

static uint64_t entries(void)
{
    char db[700];
    snprintf(db, sizeof db, "%s/audit.db", S.dir);
    sqlite3 *h = NULL;
    sqlite3_open(db, &h);
    sqlite3_stmt *st = NULL;
    uint64_t n = 0;
    if (sqlite3_prepare_v2(h, "SELECT count(*) FROM entries", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        n = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static bool start_with(const char *extra)
{
    /* h_start with one more option */
    char portfile[600];
    snprintf(portfile, sizeof portfile, "%s.port", S.dir);
    unlink(portfile);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(S.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 2);
        dup2(fd, 1);
        const char *b = getenv("CUSTOS_BIN") ? getenv("CUSTOS_BIN") : "build/san/custos";
        execl(b, b, "serve", S.dir, "--listen", "127.0.0.1:0", "--port-file", portfile,
              "--key-file", S.key, "--threads", "4", extra, (char *)NULL);
        _exit(127);
    }
    S.pid = pid;
    for (int i = 0; i < 600; i++) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            unsigned port = 0;
            int ok = fscanf(f, "%u", &port);
            fclose(f);
            if (ok == 1 && port) {
                S.port = port;
                buf r;
                buf_init(&r, 1 << 16);
                int hs = h_req(&S, "GET", "/healthz", NULL, NULL, NULL, 0, &r, NULL);
                buf_free(&r);
                if (hs == 200) {
                    return true;
                }
            }
        }
        int wst;
        if (waitpid(pid, &wst, WNOHANG) == pid) {
            S.pid = 0;
            return false;
        }
        usleep(50 * 1000);
    }
    return false;
}

TEST(t_anchor_rollback)
{
    /* enough activity for several checkpoints */
    for (int i = 0; i < 60; i++) {
        IGNORE(h_json(&S, "GET", "/v1/customers?limit=1", tok_st1, NULL, NULL));
        if (i % 20 == 19) {
            EXPECT_INT(h_json(&S, "GET", "/v1/audit/checkpoint", tok_aud, NULL, NULL), 200);
        }
    }
    EXPECT_INT(h_stop(&S), 0);
    keep_old_checkpoint();
    EXPECT(saved_note[0] != '\0');
    char live[700], keep_a[700], keep_c[700], p[700];
    snprintf(live, sizeof live, "%s/audit.db", S.dir);
    snprintf(keep_a, sizeof keep_a, "%s/keep-audit.db", root);
    snprintf(keep_c, sizeof keep_c, "%s/keep-custos.db", root);
    snprintf(p, sizeof p, "%s/custos.db", S.dir);
    copy(live, keep_a);
    copy(p, keep_c);
    /* the last 50 entries and the checkpoints over them gone; the older checkpoint put back
     * where the vault remembers its latest (both the old and the new row names) */
    uint64_t n = entries();
    EXPECT(n > 60);
    char q[9000];
    snprintf(q, sizeof q, "DELETE FROM entries WHERE idx >= %llu;", (unsigned long long)(n - 50));
    EXPECT_INT(sql_in("audit.db", q), SQLITE_OK);
    /* drop every checkpoint above what is left */
    snprintf(q, sizeof q, "DELETE FROM checkpoints WHERE size > %llu;",
             (unsigned long long)(n - 50));
    EXPECT_INT(sql_in("audit.db", q), SQLITE_OK);
    char *esc = sqlite3_mprintf("UPDATE meta SET value=%Q WHERE key='audit_checkpoint';"
                                "UPDATE meta SET value=%Q WHERE key='audit_anchor';",
                                saved_note, saved_note);
    EXPECT_INT(sql_in("custos.db", esc), SQLITE_OK);
    sqlite3_free(esc);
    EXPECT(refused("an audit log cut by 50 entries and an older checkpoint put back"));
    EXPECT(log_says("audit anchor"));
    /* audit.db replaced by an empty log, the remembered checkpoint deleted */
    copy(keep_c, p);
    char empty[700];
    snprintf(empty, sizeof empty, "%s/empty-audit.db", root);
    unlink(empty);
    {
        sqlite3 *h = NULL;
        sqlite3_open(live, &h);
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(h,
                           "SELECT group_concat(sql, ';') FROM sqlite_master WHERE sql IS NOT "
                           "NULL",
                           -1, &st, NULL);
        char *schema = NULL;
        if (sqlite3_step(st) == SQLITE_ROW) {
            schema = strdup((const char *)sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
        sqlite3_close(h);
        sqlite3 *e = NULL;
        sqlite3_open(empty, &e);
        EXPECT(schema && sqlite3_exec(e, schema, NULL, NULL, NULL) == SQLITE_OK);
        free(schema);
        sqlite3_close(e);
    }
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && rm -f '%s-wal' '%s-shm'", empty, live, live, live);
    EXPECT_INT(system(cmd), 0);
    chmod(live, 0600);
    EXPECT_INT(sql_in("custos.db", "DELETE FROM meta WHERE key IN ('audit_checkpoint', "
                                   "'audit_anchor')"),
               SQLITE_OK);
    EXPECT(refused("an empty audit log and no remembered checkpoint"));
    EXPECT(log_says("audit anchor"));
    /* the operator's override: starts, and says so in the log it starts again */
    EXPECT(start_with("--accept-audit-anchor"));
    json_t *j = NULL;
    EXPECT_INT(
        h_json(&S, "GET", "/v1/audit/entries?action=audit.anchor.override", tok_aud, NULL, &j),
        200);
    EXPECT_INT(json_array_size(json_object_get(j, "entries")), 1);
    json_decref(j);
    EXPECT_INT(h_stop(&S), 0);
    /* and the next start needs no override: the anchor was written again */
    EXPECT(h_start(&S));
    EXPECT_INT(h_stop(&S), 0);
    /* the real files back, both from the same moment: they agree, the vault serves */
    copy(keep_a, live);
    copy(keep_c, p);
    EXPECT(h_start(&S));
}

TEST(t_anchor_older_than_witness)
{
    /* With a file witness, custos.db and audit.db put back together from an older copy (a
     * valid anchor, a log that matches it) are refused: the witness has seen more. */
    EXPECT_INT(h_stop(&S), 0);
    char cfg[700], wit[700];
    snprintf(cfg, sizeof cfg, "%s/custos.json", S.dir);
    snprintf(wit, sizeof wit, "%s/witness/checkpoints.log", root);
    char wdir[700];
    snprintf(wdir, sizeof wdir, "%s/witness", root);
    mkdir(wdir, 0700);
    FILE *f = fopen(cfg, "w");
    EXPECT(f != NULL);
    if (f) {
        fprintf(f,
                "{\"access\":{\"second_factor\":\"off\"},\"audit\":{\"witness_file\":\"%s\","
                "\"checkpoint_every\":5}}\n",
                wit);
        fclose(f);
    }
    EXPECT(h_start(&S));
    for (int i = 0; i < 12; i++) {
        IGNORE(h_json(&S, "GET", "/v1/customers?limit=1", tok_st1, NULL, NULL));
    }
    EXPECT_INT(h_stop(&S), 0);
    char live[700], db[700], old_a[700], old_c[700];
    snprintf(live, sizeof live, "%s/audit.db", S.dir);
    snprintf(db, sizeof db, "%s/custos.db", S.dir);
    snprintf(old_a, sizeof old_a, "%s/older-audit.db", root);
    snprintf(old_c, sizeof old_c, "%s/older-custos.db", root);
    copy(live, old_a);
    copy(db, old_c);
    EXPECT(h_start(&S));
    for (int i = 0; i < 12; i++) {
        IGNORE(h_json(&S, "GET", "/v1/customers?limit=1", tok_st1, NULL, NULL));
    }
    EXPECT_INT(h_stop(&S), 0);
    EXPECT(h_file_contains(wit, "custos.audit."));
    char keep_a[700], keep_c[700];
    snprintf(keep_a, sizeof keep_a, "%s/newer-audit.db", root);
    snprintf(keep_c, sizeof keep_c, "%s/newer-custos.db", root);
    copy(live, keep_a);
    copy(db, keep_c);
    copy(old_a, live);
    copy(old_c, db);
    EXPECT(refused("custos.db and audit.db put back from an older copy"));
    EXPECT(log_says("older than the witness"));
    copy(keep_a, live);
    copy(keep_c, db);
    EXPECT(h_start(&S));
}

TEST(t_no_witness_warning)
{
    EXPECT(log_says("no audit witness"));
}

/* ---- the canary scan ---- */

static bool blob_in_file(const char *path, const uint8_t *needle, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return false;
    }
    buf b;
    buf_init(&b, (size_t)1 << 31);
    char tmp[65536];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) {
        IGNORE(buf_append(&b, tmp, k));
    }
    fclose(f);
    bool found = b.len >= n && memmem(b.p, b.len, needle, n) != NULL;
    buf_free(&b);
    return found;
}

static bool blob_in_tree(const char *dir, const uint8_t *needle, size_t n)
{
    char cmd[800];
    snprintf(cmd, sizeof cmd, "find '%s' -type f", dir);
    FILE *f = popen(cmd, "r");
    char line[1024];
    bool any = false;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (blob_in_file(line, needle, n)) {
            printf("    a fast fingerprint found in %s\n", line);
            any = true;
        }
    }
    if (f) {
        pclose(f);
    }
    return any;
}

TEST(t_canaries)
{
    EXPECT_INT(h_stop(&S), 0);
    char bk[700];
    snprintf(bk, sizeof bk, "%s/final.backup", root);
    const char *b[] = {"backup", S.dir, bk, NULL};
    EXPECT_INT(h_cli(&S, NULL, b), 0);
    EXPECT(ncanaries >= 20);
    for (size_t i = 0; i < ncanaries; i++) {
        if (h_tree_contains(root, canaries[i]) != 0) {
            printf("    canary %zu (%.12s...) found\n", i, canaries[i]);
            EXPECT(0);
        }
    }
}

int main(void)
{
    test_init();
    if (sodium_init() < 0) {
        return 2;
    }
    h_setup(&S, "secrets");
    snprintf(root, sizeof root, "%s", S.dir);
    *strrchr(root, '/') = '\0';
    RUN(t_start);
    if (test_failed_) {
        printf("the server did not start; see %s\n", S.log);
        return test_done("secrets_test");
    }
    RUN(t_idempotency_secrets);
    RUN(t_idempotency_expires);
    RUN(t_idempotency_concurrent);
    RUN(t_export_watermark);
    RUN(t_explain_no_department_leak);
    RUN(t_5xx_texts);
    RUN(t_answers_wiped);
    RUN(t_no_witness_warning);
    RUN(t_file_modes);
    RUN(t_refuse_loose_modes);
    RUN(t_anchor_rollback);
    RUN(t_anchor_older_than_witness);
    RUN(t_canaries);
    if (S.pid) {
        h_stop(&S);
    }
    return test_done("secrets_test");
}
