/*
 * vault_test.c - the vault end to end: a demo vault, a real server on a random
 * loopback port, HTTPS requests, the CLI's offline commands, direct tampering
 * with the database file, backups, restores and a canary scan of every byte
 * the vault left on disk.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/test.h"
#include "harness.h"
#include "model/ingest.h"
#include "model/model.h"

static srv S;
static char root[512];
static char tok_st1[64], tok_st2[64], tok_sales1[64], tok_service1[64], tok_admin[64];
static char canary_id[ID_LEN + 1];
static char canary_idnum[19];

#define CANARY_NAME "欧阳金丝雀"
#define CANARY_PHONE "13987654321"
#define CANARY_EMAIL "canary.bird@example.org"
#define CANARY_ADDR "北京市东城区金丝雀胡同99号"

static void make_id_number(char out[19], const char *prefix6, const char *date8, unsigned seq)
{
    char first[18];
    snprintf(first, sizeof first, "%s%s%03u", prefix6, date8, seq % 1000);
    memcpy(out, first, 17);
    out[17] = id_number_check_digit(first);
    out[18] = '\0';
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const char *err_code_of(json_t *o)
{
    return json_string_value(json_object_get(json_object_get(o, "error"), "code"));
}

static long count_customers(const char *token)
{
    long n = 0;
    char path[256] = "/v1/customers?limit=200";
    for (;;) {
        json_t *j = NULL;
        if (h_json(&S, "GET", path, token, NULL, &j) != 200) {
            json_decref(j);
            return -1;
        }
        n += (long)json_array_size(json_object_get(j, "customers"));
        const char *next = jstr(j, "next");
        if (!next) {
            json_decref(j);
            return n;
        }
        snprintf(path, sizeof path, "/v1/customers?limit=200&after=%s", next);
        json_decref(j);
    }
}

TEST(t_start)
{
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "42", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "30", NULL};
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
    EXPECT(h_login(&S, "steward1", DEMO_PW, tok_st1));
    EXPECT(h_login(&S, "steward2", DEMO_PW, tok_st2));
    EXPECT(h_login(&S, "sales1", DEMO_PW, tok_sales1));
    EXPECT(h_login(&S, "service1", DEMO_PW, tok_service1));
    EXPECT(h_login(&S, "admin", DEMO_PW, tok_admin));
}

static size_t collect_header(char *p, size_t sz, size_t n, void *ud)
{
    return buf_append(ud, p, sz * n) == ERR_OK ? sz * n : 0;
}

static size_t ignore_body(char *p, size_t sz, size_t n, void *ud)
{
    return sz * n;
}

TEST(t_errors_and_health)
{
    json_t *a = NULL, *b = NULL;
    EXPECT_INT(h_json(&S, "POST", "/v1/login", NULL,
                      "{\"username\":\"steward1\",\"password\":\"wrong-password-123\"}", &a),
               401);
    EXPECT_INT(h_json(&S, "POST", "/v1/login", NULL,
                      "{\"username\":\"nobody-here\",\"password\":\"wrong-password-123\"}", &b),
               401);
    /* The same answer whether or not the account exists. */
    EXPECT_STR(json_string_value(json_object_get(json_object_get(a, "error"), "message")),
               json_string_value(json_object_get(json_object_get(b, "error"), "message")));
    EXPECT_STR(err_code_of(a), "unauthenticated");
    json_decref(a);
    json_decref(b);
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/customers", NULL, NULL, &j), 401);
    EXPECT_STR(err_code_of(j), "unauthenticated");
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/customers", "cst_forged-token", NULL, NULL), 401);
    EXPECT_INT(h_json(&S, "GET", "/nope", NULL, NULL, &j), 404);
    EXPECT_STR(err_code_of(j), "not_found");
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/customers", tok_st1, "{not json", &j), 400);
    EXPECT_STR(err_code_of(j), "invalid_input");
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/healthz", NULL, NULL, &j), 200);
    EXPECT_STR(jstr(j, "status"), "ok");
    json_decref(j);
    buf m;
    buf_init(&m, 0);
    EXPECT_INT(h_metrics(&S, "/metrics", &m), 200);
    EXPECT(strstr(buf_cstr(&m), "custos_requests_total{class=\"2xx\"}") != NULL);
    EXPECT(strstr(buf_cstr(&m), "custos_customers ") != NULL);
    buf_free(&m);
    /* Not on the HTTPS listener: customer counts and rule firings are not for strangers. */
    buf_init(&m, 0);
    EXPECT_INT(h_req(&S, "GET", "/metrics", NULL, NULL, NULL, 0, &m, NULL), 404);
    EXPECT(strstr(buf_cstr(&m), "custos_customers") == NULL);
    buf_free(&m);
    /* Bodies over the limit are refused before they are read. */
    size_t big = (size_t)33 << 20;
    char *huge = malloc(big);
    memset(huge, 'a', big);
    buf r;
    buf_init(&r, 0);
    EXPECT_INT(h_req(&S, "POST", "/v1/import", tok_st1, "text/csv", huge, big, &r, NULL), 413);
    buf_free(&r);
    free(huge);
    /* Security headers on every answer; TLS below 1.2 refused. */
    CURL *h = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%u/healthz", S.port);
    buf hdr;
    buf_init(&hdr, 0);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, S.cacert);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ignore_body);
    EXPECT(curl_easy_perform(h) == CURLE_OK);
    const char *hs = buf_cstr(&hdr);
    EXPECT(strcasestr(hs, "strict-transport-security: max-age=") != NULL);
    EXPECT(strcasestr(hs, "x-content-type-options: nosniff") != NULL);
    EXPECT(strcasestr(hs, "cache-control: no-store") != NULL);
    EXPECT(strcasestr(hs, "content-security-policy: default-src 'none'") != NULL);
    EXPECT(strcasestr(hs, "x-request-id: req_") != NULL);
    curl_easy_setopt(h, CURLOPT_SSLVERSION,
                     (long)(CURL_SSLVERSION_TLSv1_0 | CURL_SSLVERSION_MAX_TLSv1_1));
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    EXPECT(curl_easy_perform(h) != CURLE_OK);
    curl_easy_cleanup(h);
    buf_free(&hdr);
}

TEST(t_customer_crud)
{
    make_id_number(canary_idnum, "110101", "19700101", 123);
    char body[1024];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"id_number\":\"%s\",\"phone\":\"%s\",\"email\":\"%s\","
             "\"address\":\"%s\",\"preferences\":[\"porcelain\",\"jade\"],\"vip_level\":3,"
             "\"birth_date\":\"1970-01-01\",\"marketing_consent\":false}",
             CANARY_NAME, canary_idnum, CANARY_PHONE, CANARY_EMAIL, CANARY_ADDR);
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "POST", "/v1/customers", tok_st1, body, &j), 201);
    snprintf(canary_id, sizeof canary_id, "%s", jstr(j, "id") ? jstr(j, "id") : "");
    json_decref(j);
    EXPECT(id_valid(canary_id));
    char path[256];
    snprintf(path, sizeof path, "/v1/customers/%s", canary_id);
    EXPECT_INT(h_json(&S, "GET", path, tok_st1, NULL, &j), 200);
    EXPECT_STR(jstr(j, "name"), CANARY_NAME);
    EXPECT_STR(jstr(j, "phone"), CANARY_PHONE);
    EXPECT_STR(jstr(j, "id_number"), canary_idnum);
    EXPECT_STR(jstr(j, "department"), "beijing");
    EXPECT_INT(json_integer_value(json_object_get(j, "vip_level")), 3);
    EXPECT_INT(json_array_size(json_object_get(j, "preferences")), 2);
    json_decref(j);
    /* Blind-index search in other spellings of the same values. */
    static const char *const q[] = {
        "/v1/customers?phone=%2B86%20139-8765-4321",
        "/v1/customers?email=CANARY.BIRD%40example.org",
        "/v1/customers?name=%E6%AC%A7%E9%98%B3%E9%87%91%E4%B8%9D%E9%9B%80"};
    for (size_t i = 0; i < 3; i++) {
        EXPECT_INT(h_json(&S, "GET", q[i], tok_st1, NULL, &j), 200);
        json_t *arr = json_object_get(j, "customers");
        EXPECT_INT(json_array_size(arr), 1);
        EXPECT_STR(jstr(json_array_get(arr, 0), "id"), canary_id);
        json_decref(j);
    }
    snprintf(path, sizeof path, "/v1/customers?id_number=%s", canary_idnum);
    EXPECT_INT(h_json(&S, "GET", path, tok_st1, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "customers")), 1);
    json_decref(j);
    /* A customer of the other department is not found by search either. */
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?phone=13987654321", tok_st2, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "customers")), 0);
    json_decref(j);
    /* Update, and a bad value named by field without echoing it. */
    snprintf(path, sizeof path, "/v1/customers/%s", canary_id);
    EXPECT_INT(h_json(&S, "PATCH", path, tok_st1, "{\"vip_level\":5,\"notes\":null}", &j), 200);
    EXPECT_INT(json_integer_value(json_object_get(j, "vip_level")), 5);
    json_decref(j);
    EXPECT_INT(h_json(&S, "PATCH", path, tok_st1, "{\"phone\":\"12345-canaryvalue\"}", &j), 400);
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    EXPECT(msg && strstr(msg, "phone") != NULL);
    EXPECT(msg && strstr(msg, "canaryvalue") == NULL);
    json_decref(j);
    EXPECT_INT(h_json(&S, "PATCH", path, tok_st1, "{\"shoe_size\":42}", &j), 400);
    json_decref(j);
    /* Transactions and communications. */
    snprintf(path, sizeof path, "/v1/customers/%s/transactions", canary_id);
    EXPECT_INT(h_json(&S, "POST", path, tok_sales1,
                      "{\"date\":\"2026-03-01\",\"lot\":\"2026S-0001\",\"description\":\"清乾隆 "
                      "粉彩花卉纹碗\",\"era\":\"清乾隆\",\"category\":\"porcelain\",\"price\":"
                      "12800000,\"currency\":\"CNY\",\"payment_method\":\"bank_transfer\"}",
                      &j),
               201);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", path, tok_sales1, NULL, &j), 200);
    json_t *tx = json_array_get(json_object_get(j, "transactions"), 0);
    EXPECT_INT(json_integer_value(json_object_get(tx, "price")), 12800000);
    EXPECT_STR(jstr(tx, "era"), "清乾隆");
    json_decref(j);
    snprintf(path, sizeof path, "/v1/customers/%s/communications", canary_id);
    EXPECT_INT(h_json(&S, "POST", path, tok_service1,
                      "{\"at\":\"2026-03-02T10:00:00+08:00\",\"channel\":\"phone\",\"summary\":"
                      "\"确认春拍预展时间\"}",
                      &j),
               201);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", path, tok_service1, NULL, &j), 200);
    json_t *cm = json_array_get(json_object_get(j, "communications"), 0);
    EXPECT_STR(jstr(cm, "at"), "2026-03-02T02:00:00Z");
    EXPECT_STR(jstr(cm, "employee"), "service1");
    json_decref(j);
}

TEST(t_roles)
{
    char path[256];
    json_t *j = NULL;
    snprintf(path, sizeof path, "/v1/customers/%s", canary_id);
    /* sales: the name and preferences, nothing else of the customer */
    EXPECT_INT(h_json(&S, "GET", path, tok_sales1, NULL, &j), 200);
    EXPECT_STR(jstr(j, "name"), CANARY_NAME);
    EXPECT(json_object_get(j, "phone") == NULL);
    EXPECT(json_object_get(j, "id_number") == NULL);
    EXPECT(json_object_get(j, "email") == NULL);
    EXPECT(json_object_get(j, "preferences") != NULL);
    json_decref(j);
    /* customer service: contact in full, the ID number masked */
    EXPECT_INT(h_json(&S, "GET", path, tok_service1, NULL, &j), 200);
    EXPECT_STR(jstr(j, "phone"), CANARY_PHONE);
    const char *idm = jstr(j, "id_number");
    EXPECT(idm && strncmp(idm, "1101**********", 14) == 0 && strlen(idm) == 18);
    json_decref(j);
    /* another department's steward: as if it did not exist */
    EXPECT_INT(h_json(&S, "GET", path, tok_st2, NULL, &j), 404);
    EXPECT_STR(err_code_of(j), "not_found");
    json_decref(j);
    /* admins manage accounts, not customers */
    EXPECT_INT(h_json(&S, "GET", path, tok_admin, NULL, &j), 403);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/customers", tok_admin, NULL, &j), 403);
    json_decref(j);
    /* writes naming forbidden fields */
    EXPECT_INT(h_json(&S, "PATCH", path, tok_sales1, "{\"phone\":\"13800001111\"}", &j), 403);
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    EXPECT(msg && strstr(msg, "phone"));
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/customers", tok_sales1, "{\"name\":\"张三\"}", &j), 403);
    json_decref(j);
    /* search by a field one cannot read */
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?phone=13987654321", tok_sales1, NULL, &j), 403);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?phone=13987654321", tok_service1, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "customers")), 1);
    if (json_array_size(json_object_get(j, "customers")) != 1) {
        char *d = json_dumps(j, 0);
        printf("    search answered %s\n", d);
        free(d);
    }
    json_decref(j);
    snprintf(path, sizeof path, "/v1/customers/%s/transactions", canary_id);
    EXPECT_INT(h_json(&S, "GET", path, tok_service1, NULL, &j), 403);
    json_decref(j);
    snprintf(path, sizeof path, "/v1/customers/%s/communications", canary_id);
    EXPECT_INT(h_json(&S, "GET", path, tok_sales1, NULL, &j), 403);
    json_decref(j);
    /* a department's list holds only its customers */
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?limit=200", tok_st2, NULL, &j), 200);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(j, "customers"), i, c)
    {
        EXPECT_STR(jstr(c, "department"), "shanghai");
    }
    EXPECT(json_array_size(json_object_get(j, "customers")) > 0);
    json_decref(j);
}

TEST(t_idempotency)
{
    long before = count_customers(tok_st1);
    buf r1, r2, r3;
    buf_init(&r1, 0);
    buf_init(&r2, 0);
    buf_init(&r3, 0);
    const char *body = "{\"name\":\"李重试\",\"phone\":\"13700000001\"}";
    const char *body2 = "{\"name\":\"李重试\",\"phone\":\"13700000002\"}";
    EXPECT_INT(h_req(&S, "POST", "/v1/customers", tok_st1, "application/json", body, strlen(body),
                     &r1, "Idempotency-Key: retry-1"),
               201);
    EXPECT_INT(h_req(&S, "POST", "/v1/customers", tok_st1, "application/json", body, strlen(body),
                     &r2, "Idempotency-Key: retry-1"),
               201);
    EXPECT_STR(buf_cstr(&r1), buf_cstr(&r2));
    EXPECT_INT(h_req(&S, "POST", "/v1/customers", tok_st1, "application/json", body2, strlen(body2),
                     &r3, "Idempotency-Key: retry-1"),
               409);
    EXPECT_INT(count_customers(tok_st1), before + 1);
    buf_free(&r1);
    buf_free(&r2);
    buf_free(&r3);
}

/* A CSV of n valid rows; row `bad` (1-based, 0 for none) gets a wrong ID check digit. */
static void make_csv(buf *b, size_t n, size_t bad, unsigned base)
{
    IGNORE(buf_append_str(b, "name,id_number,phone,email,address,preferences,vip_level\n"));
    static const char *const names[] = {"王小明", "李华", "张伟", "刘洋", "陈静", "杨帆"};
    for (size_t i = 1; i <= n; i++) {
        char idn[19];
        char date[9];
        snprintf(date, sizeof date, "19%02u%02u%02u", (unsigned)(50 + i % 40),
                 (unsigned)(1 + i % 12), (unsigned)(1 + i % 28));
        make_id_number(idn, "310104", date, (unsigned)(base + i));
        if (i == bad) {
            idn[17] = idn[17] == '0' ? '1' : '0';
        }
        IGNORE(buf_appendf(b,
                           "%s%zu,%s,1%02u%08zu,user%u.%zu@example.com,\"上海市徐汇区衡山路%zu号\","
                           "porcelain;jade,%zu\n",
                           names[i % 6], i, idn, 30 + (base % 60), i, base, i, i, i % 6));
    }
}

TEST(t_import)
{
    long before = count_customers(tok_st2);
    buf csv, r;
    buf_init(&csv, 0);
    buf_init(&r, 0);
    make_csv(&csv, 10000, 7345, 100000);
    int st = h_req(&S, "POST", "/v1/import", tok_st2, "text/csv", (const char *)csv.p, csv.len, &r,
                   NULL);
    EXPECT_INT(st, 422);
    json_t *j = json_loadb((const char *)r.p, r.len, 0, NULL);
    json_t *errs = json_object_get(j, "errors");
    EXPECT_INT(json_array_size(errs), 1);
    EXPECT_INT(json_integer_value(json_object_get(json_array_get(errs, 0), "row")), 7345);
    EXPECT_STR(jstr(json_array_get(errs, 0), "field"), "id_number");
    EXPECT_INT(json_integer_value(json_object_get(j, "created")), 0);
    json_decref(j);
    EXPECT_INT(count_customers(tok_st2), before);
    /* GB18030 twin: same rows, same result. */
    buf small, gb;
    buf_init(&small, 0);
    buf_init(&gb, 0);
    make_csv(&small, 200, 0, 300000);
    EXPECT_OK(charset_from_utf8("gb18030", buf_slice(&small), &gb));
    EXPECT(gb.len != small.len); /* really converted */
    buf_reset(&r);
    EXPECT_INT(h_req(&S, "POST", "/v1/import?dry_run=1", tok_st2, "text/csv; charset=utf-8",
                     (const char *)small.p, small.len, &r, NULL),
               200);
    json_t *d1 = json_loadb((const char *)r.p, r.len, 0, NULL);
    buf_reset(&r);
    EXPECT_INT(h_req(&S, "POST", "/v1/import?dry_run=1", tok_st2, "text/csv; charset=GB18030",
                     (const char *)gb.p, gb.len, &r, NULL),
               200);
    json_t *d2 = json_loadb((const char *)r.p, r.len, 0, NULL);
    EXPECT_INT(json_integer_value(json_object_get(d1, "would_create")), 200);
    EXPECT_INT(json_integer_value(json_object_get(d2, "would_create")), 200);
    json_decref(d1);
    json_decref(d2);
    EXPECT_INT(count_customers(tok_st2), before);
    buf_reset(&r);
    EXPECT_INT(h_req(&S, "POST", "/v1/import", tok_st2, "text/csv; charset=gb18030",
                     (const char *)gb.p, gb.len, &r, NULL),
               201);
    j = json_loadb((const char *)r.p, r.len, 0, NULL);
    EXPECT_INT(json_integer_value(json_object_get(j, "created")), 200);
    json_decref(j);
    /* The UTF-8 twin is recognised as the same 200 people: nothing new. */
    buf_reset(&r);
    EXPECT_INT(h_req(&S, "POST", "/v1/import", tok_st2, "text/csv", (const char *)small.p,
                     small.len, &r, NULL),
               201);
    j = json_loadb((const char *)r.p, r.len, 0, NULL);
    EXPECT_INT(json_integer_value(json_object_get(j, "created")), 0);
    EXPECT_INT(json_integer_value(json_object_get(j, "duplicates")), 200);
    json_decref(j);
    EXPECT_INT(count_customers(tok_st2), before + 200);
    /* A GB18030-decoded name reads back as the UTF-8 original. */
    json_t *s = NULL;
    EXPECT_INT(
        h_json(&S, "GET", "/v1/customers?name=%E7%8E%8B%E5%B0%8F%E6%98%8E6", tok_st2, NULL, &s),
        200);
    EXPECT_INT(json_array_size(json_object_get(s, "customers")), 1);
    json_decref(s);
    /* Import is a steward's job. */
    buf_reset(&r);
    EXPECT_INT(h_req(&S, "POST", "/v1/import", tok_sales1, "text/csv", (const char *)small.p,
                     small.len, &r, NULL),
               403);
    /* Invalid GB18030 bytes: a clear error, nothing written. */
    buf_reset(&r);
    EXPECT_INT(h_req(&S, "POST", "/v1/import", tok_st2, "text/csv; charset=gb18030",
                     "name\n\x81\x30\xff\n", 9, &r, NULL),
               400);
    buf_free(&small);
    buf_free(&gb);
    buf_free(&csv);
    buf_free(&r);
}

/* Asks for an export as steward1 and has steward3 (same department) approve it. */
static void approved_export(const char *format, char *path, size_t max)
{
    char body[64], tok3[64];
    json_t *j = NULL;
    snprintf(body, sizeof body, "{\"format\":\"%s\"}", format);
    EXPECT_INT(h_json(&S, "POST", "/v1/exports", tok_st1, body, &j), 202);
    const char *id = jstr(json_object_get(j, "request"), "id");
    char rid[ID_LEN + 1] = "";
    snprintf(rid, sizeof rid, "%s", id ? id : "");
    json_decref(j);
    snprintf(path, max, "/v1/export?format=%s&request=%s", format, rid);
    EXPECT(h_login(&S, "steward3", DEMO_PW, tok3));
    char ap[128];
    snprintf(ap, sizeof ap, "/v1/requests/%s/approve", rid);
    EXPECT_INT(h_json(&S, "POST", ap, tok3, "{\"note\":\"quarterly mailing\"}", NULL), 200);
}

TEST(t_export)
{
    long n = count_customers(tok_st1);
    buf r;
    buf_init(&r, 0);
    char path[160];
    /* Two-person rule: without an approved request there is no export. */
    EXPECT_INT(h_req(&S, "GET", "/v1/export?format=csv", tok_st1, NULL, NULL, 0, &r, NULL), 403);
    approved_export("csv", path, sizeof path);
    buf_reset(&r);
    EXPECT_INT(h_req(&S, "GET", path, tok_st1, NULL, NULL, 0, &r, NULL), 200);
    long lines = 0;
    for (size_t i = 0; i < r.len; i++) {
        lines += r.p[i] == '\n';
    }
    EXPECT_INT(lines, n + 1); /* header + one line per customer (no embedded newlines here) */
    EXPECT(memmem(r.p, r.len, CANARY_PHONE, strlen(CANARY_PHONE)) != NULL);
    buf_reset(&r);
    /* An approval is used up by its export. */
    EXPECT_INT(h_req(&S, "GET", path, tok_st1, NULL, NULL, 0, &r, NULL), 403);
    approved_export("jsonl", path, sizeof path);
    buf_reset(&r);
    EXPECT_INT(h_req(&S, "GET", path, tok_st1, NULL, NULL, 0, &r, NULL), 200);
    long jl = 0;
    char *save = NULL;
    for (char *line = strtok_r((char *)buf_cstr(&r), "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_loads(line, 0, NULL);
        EXPECT(o != NULL && jstr(o, "id") != NULL);
        json_decref(o);
        jl++;
    }
    EXPECT_INT(jl, n);
    buf_reset(&r);
    EXPECT_INT(h_req(&S, "GET", "/v1/export", tok_sales1, NULL, NULL, 0, &r, NULL), 403);
    buf_free(&r);
}

static char *new_customer(const char *token, const char *name, const char *phone)
{
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"phone\":\"%s\",\"email\":\"x%s@example.com\"}",
             name, phone, phone);
    json_t *j = NULL;
    char *id = NULL;
    if (h_json(&S, "POST", "/v1/customers", token, body, &j) == 201) {
        id = strdup(jstr(j, "id"));
    }
    json_decref(j);
    return id;
}

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

/* Flips one bit of a customer's column, straight in the database file. */
static bool flip_blob_bit(const char *id, const char *col, int offset)
{
    char db[700], q[256];
    snprintf(db, sizeof db, "%s/custos.db", S.dir);
    sqlite3 *h = NULL;
    sqlite3_open(db, &h);
    sqlite3_busy_timeout(h, 5000);
    snprintf(q, sizeof q, "SELECT %s FROM customers WHERE id=?1", col);
    sqlite3_stmt *st = NULL;
    bool ok = false;
    unsigned char copy[4096];
    int n = 0;
    if (sqlite3_prepare_v2(h, q, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            n = sqlite3_column_bytes(st, 0);
            if (n > offset && n <= (int)sizeof copy) {
                memcpy(copy, sqlite3_column_blob(st, 0), (size_t)n);
                copy[offset] ^= 0x10;
                ok = true;
            }
        }
        sqlite3_finalize(st);
    }
    if (ok) {
        snprintf(q, sizeof q, "UPDATE customers SET %s=?2 WHERE id=?1", col);
        ok = sqlite3_prepare_v2(h, q, -1, &st, NULL) == SQLITE_OK;
        if (ok) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_blob(st, 2, copy, n, SQLITE_STATIC);
            ok = sqlite3_step(st) == SQLITE_DONE;
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(h);
    return ok;
}

static void expect_integrity_error(const char *id, const char *secret)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/customers/%s", id);
    buf r;
    buf_init(&r, 0);
    EXPECT_INT(h_req(&S, "GET", path, tok_st1, NULL, NULL, 0, &r, NULL), 500);
    EXPECT(strstr(buf_cstr(&r), "integrity_error") != NULL);
    EXPECT(strstr(buf_cstr(&r), secret) == NULL);
    buf_free(&r);
}

TEST(t_tamper)
{
    char *a = new_customer(tok_st1, "周甲", "13611110001");
    char *b = new_customer(tok_st1, "周乙", "13611110002");
    char *c = new_customer(tok_st1, "周丙", "13611110003");
    EXPECT(a && b && c);
    if (!a || !b || !c) {
        return;
    }
    /* another customer's ciphertext */
    EXPECT_INT(sql("UPDATE customers SET f_phone=(SELECT f_phone FROM customers WHERE id='%s') "
                   "WHERE id='%s'",
                   a, b),
               SQLITE_OK);
    expect_integrity_error(b, "13611110001");
    /* another field's ciphertext of the same customer */
    EXPECT_INT(sql("UPDATE customers SET f_email=f_phone WHERE id='%s'", a), SQLITE_OK);
    expect_integrity_error(a, "13611110001");
    /* one flipped bit in the middle of an envelope */
    EXPECT(flip_blob_bit(c, "f_name", 30));
    expect_integrity_error(c, "周丙");
    /* a wrapped data key moved to another customer */
    char *d = new_customer(tok_st1, "周丁", "13611110004");
    char *e = new_customer(tok_st1, "周戊", "13611110005");
    EXPECT_INT(sql("UPDATE customers SET wrapped_dek=(SELECT wrapped_dek FROM customers WHERE "
                   "id='%s') WHERE id='%s'",
                   d, e),
               SQLITE_OK);
    expect_integrity_error(e, "13611110005");
    /* A master-key rotation now rewraps what it can, names the damage, and keeps the old
     * version so that nothing becomes unrecoverable by mistake; the rest stays readable. */
    const char *rot[] = {"keys", "rotate", S.dir, NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT(h_cli(&S, &out, rot) != 0);
    EXPECT(strstr(buf_cstr(&out), "failed their integrity check") != NULL);
    buf_free(&out);
    char path[256];
    json_t *j = NULL;
    snprintf(path, sizeof path, "/v1/customers/%s", d);
    EXPECT_INT(h_json(&S, "GET", path, tok_st1, NULL, &j), 200);
    json_decref(j);
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
}

TEST(t_rotation)
{
    /* A new master key version while the server runs; everything stays readable. */
    const char *rot[] = {"keys", "rotate", S.dir, NULL};
    buf out;
    buf_init(&out, 0);
    int rrc = h_cli(&S, &out, rot);
    EXPECT_INT(rrc, 0);
    EXPECT(strstr(buf_cstr(&out), "version 2") != NULL);
    if (rrc != 0) {
        printf("    keys rotate said: %s\n", buf_cstr(&out));
    }
    buf_free(&out);
    char path[256];
    json_t *j = NULL;
    snprintf(path, sizeof path, "/v1/customers/%s", canary_id);
    EXPECT_INT(h_json(&S, "GET", path, tok_st1, NULL, &j), 200);
    EXPECT_STR(jstr(j, "phone"), CANARY_PHONE);
    json_decref(j);
    char *n = new_customer(tok_st1, "吴新钥", "13622220001");
    EXPECT(n != NULL);
    if (n) {
        snprintf(path, sizeof path, "/v1/customers/%s", n);
        EXPECT_INT(h_json(&S, "GET", path, tok_st1, NULL, &j), 200);
        json_decref(j);
        free(n);
    }
    /* Per-customer data-key rotation re-encrypts the customer and its records. */
    snprintf(path, sizeof path, "/v1/customers/%s/rotate-key", canary_id);
    EXPECT_INT(h_json(&S, "POST", path, tok_st1, NULL, &j), 200);
    json_decref(j);
    snprintf(path, sizeof path, "/v1/customers/%s", canary_id);
    EXPECT_INT(h_json(&S, "GET", path, tok_st1, NULL, &j), 200);
    EXPECT_STR(jstr(j, "id_number"), canary_idnum);
    json_decref(j);
    snprintf(path, sizeof path, "/v1/customers/%s/transactions", canary_id);
    EXPECT_INT(h_json(&S, "GET", path, tok_st1, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "transactions")), 1);
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/customers/cus_aaaaaaaaaaaaaaaaaaaaaaaaaa/rotate-key",
                      tok_sales1, NULL, &j),
               403);
    json_decref(j);
}

static void file_digest(const char *path, char *out)
{
    /* A cheap content fingerprint: size and FNV-1a over the bytes. */
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

static void copy_mutated(const char *from, const char *to, long flip_at, long truncate_to)
{
    FILE *f = fopen(from, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)n);
    size_t got = fread(p, 1, (size_t)n, f);
    fclose(f);
    if (flip_at >= 0 && flip_at < n) {
        p[flip_at] ^= 0x01;
    }
    if (truncate_to >= 0 && truncate_to < n) {
        got = (size_t)truncate_to;
    }
    f = fopen(to, "wb");
    fwrite(p, 1, got, f);
    fclose(f);
    free(p);
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

TEST(t_erase_backup_restore)
{
    char *keep = new_customer(tok_st1, "郑保留", "13633330001");
    char *gone = new_customer(tok_st1, "郑删除", "13633330002");
    EXPECT(keep && gone);
    if (!keep || !gone) {
        return;
    }
    char bk[700], bad[700], path[256];
    snprintf(bk, sizeof bk, "%s/backup.cbk", root);
    const char *b[] = {"backup", S.dir, bk, NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, b), 0); /* online: the server keeps running */
    buf_free(&out);
    /* Erasure after the backup. */
    snprintf(path, sizeof path, "/v1/customers/%s?reason=customer%%20request", gone);
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "DELETE", path, tok_st1, NULL, &j), 200);
    json_decref(j);
    snprintf(path, sizeof path, "/v1/customers/%s", gone);
    EXPECT_INT(h_json(&S, "GET", path, tok_st1, NULL, &j), 404);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?phone=13633330002", tok_st1, NULL, &j), 200);
    EXPECT_INT(json_array_size(json_object_get(j, "customers")), 0);
    json_decref(j);
    snprintf(path, sizeof path, "/v1/customers/%s/transactions", gone);
    EXPECT_INT(h_json(&S, "GET", path, tok_st1, NULL, &j), 404);
    json_decref(j);
    /* Its sealed fields and data key are gone from the row. */
    EXPECT_INT(sql("SELECT 1 FROM customers WHERE id='%s' AND wrapped_dek IS NULL AND f_name IS "
                   "NULL AND erased=1",
                   gone),
               SQLITE_OK);
    EXPECT_INT(h_stop(&S), 0);
    char before_db[64], after_db[64], dbp[700];
    snprintf(dbp, sizeof dbp, "%s/custos.db", S.dir);
    file_digest(dbp, before_db);
    long n = file_size(bk);
    EXPECT(n > 1000);
    /* Tampered, truncated, or with the wrong key: refused, nothing changed. */
    snprintf(bad, sizeof bad, "%s/bad.cbk", root);
    long cuts[] = {n / 2, n - 1, 100, 10};
    for (int i = 0; i < 4; i++) {
        copy_mutated(bk, bad, -1, cuts[i]);
        const char *r[] = {"restore", bad, S.dir, NULL};
        buf_init(&out, 0);
        EXPECT(h_cli(&S, &out, r) != 0);
        buf_free(&out);
    }
    long flips[] = {n / 2, n - 5, n / 3};
    for (int i = 0; i < 3; i++) {
        copy_mutated(bk, bad, flips[i], -1);
        const char *r[] = {"restore", bad, S.dir, NULL};
        buf_init(&out, 0);
        EXPECT(h_cli(&S, &out, r) != 0);
        buf_free(&out);
    }
    srv other = S;
    char otherkey[700];
    snprintf(otherkey, sizeof otherkey, "%s/other.key", root);
    const char *gen[] = {"keys", "generate", otherkey, NULL};
    EXPECT_INT(h_cli(&S, NULL, gen), 0);
    snprintf(other.key, sizeof other.key, "%s", otherkey);
    const char *r1[] = {"restore", bk, S.dir, NULL};
    buf_init(&out, 0);
    EXPECT(h_cli(&other, &out, r1) != 0);
    EXPECT(strstr(buf_cstr(&out), "wrong passphrase or key file") != NULL);
    buf_free(&out);
    file_digest(dbp, after_db);
    EXPECT_STR(after_db, before_db);
    /* The good backup restores; the erasure made since is applied again. */
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, r1), 0);
    EXPECT(strstr(buf_cstr(&out), "1 erasure") != NULL);
    buf_free(&out);
    EXPECT(h_start(&S));
    EXPECT(h_login(&S, "steward1", DEMO_PW, tok_st1));
    snprintf(path, sizeof path, "/v1/customers/%s", gone);
    EXPECT_INT(h_json(&S, "GET", path, tok_st1, NULL, &j), 404);
    json_decref(j);
    snprintf(path, sizeof path, "/v1/customers/%s", keep);
    EXPECT_INT(h_json(&S, "GET", path, tok_st1, NULL, &j), 200);
    EXPECT_STR(jstr(j, "name"), "郑保留");
    json_decref(j);
    free(keep);
    free(gone);
}

TEST(t_drain_on_sigterm)
{
    /* Writers keep creating customers while the server is told to stop; every customer
     * whose creation was acknowledged (201) must exist after a restart. The stop is sent once
     * the writers have had DRAIN_ACKS creations acknowledged (each writes a byte to a pipe per
     * acknowledgement), so it lands in the middle of their stream however slow the machine. */
    enum { DRAIN_ACKS = 30, DRAIN_PER_WRITER = 400 };
    char idfile[700];
    snprintf(idfile, sizeof idfile, "%s/acked.txt", root);
    unlink(idfile);
    int acks[2];
    EXPECT(pipe(acks) == 0);
    pid_t kids[3];
    for (int k = 0; k < 3; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            close(acks[0]);
            signal(SIGPIPE, SIG_IGN);
            FILE *f = fopen(idfile, "a");
            for (int i = 0; i < DRAIN_PER_WRITER; i++) {
                char name[64], phone[16];
                snprintf(name, sizeof name, "排空%d号", k * 1000 + i);
                snprintf(phone, sizeof phone, "135%04d%04d", k, i);
                char *id = new_customer(tok_st1, name, phone);
                if (!id) {
                    continue;
                }
                fprintf(f, "%s\n", id);
                fflush(f);
                free(id);
                if (write(acks[1], "a", 1) != 1) {
                    /* the parent stopped counting: nothing to tell */
                }
            }
            fclose(f);
            _exit(0);
        }
    }
    close(acks[1]);
    int seen = 0;
    int64_t dl = h_deadline(120 * 1000);
    while (seen < DRAIN_ACKS && h_wait_readable(acks[0], dl)) {
        char b[64];
        ssize_t k = read(acks[0], b, sizeof b);
        if (k <= 0) {
            break; /* every writer has finished */
        }
        seen += (int)k;
    }
    EXPECT(seen >= DRAIN_ACKS);
    EXPECT_INT(h_stop(&S), 0);
    for (int k = 0; k < 3; k++) {
        waitpid(kids[k], NULL, 0);
    }
    close(acks[0]);
    EXPECT(h_start(&S));
    EXPECT(h_login(&S, "steward1", DEMO_PW, tok_st1));
    FILE *f = fopen(idfile, "r");
    char line[128];
    int n = 0, missing = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char path[256];
        snprintf(path, sizeof path, "/v1/customers/%s", line);
        if (h_json(&S, "GET", path, tok_st1, NULL, NULL) != 200) {
            missing++;
        }
        n++;
    }
    if (f) {
        fclose(f);
    }
    printf("    %d acknowledged creations (the stop after %d), %d missing after restart\n", n, seen,
           missing);
    EXPECT(n >= DRAIN_ACKS);
    EXPECT(n < 3 * DRAIN_PER_WRITER); /* the stop came while they were writing */
    EXPECT_INT(missing, 0);
}

TEST(t_wrong_passphrase)
{
    char dir[700];
    snprintf(dir, sizeof dir, "%s/pass-vault", root);
    setenv("CUSTOS_PASSPHRASE", "correct horse battery staple", 1);
    setenv("H_NO_KEYFILE", "1", 1);
    const char *init[] = {"init", dir, NULL};
    EXPECT_INT(h_cli(&S, NULL, init), 0);
    EXPECT(h_cli(&S, NULL, init) != 0); /* refuses an existing vault */
    char kr[800], d1[64], d2[64];
    snprintf(kr, sizeof kr, "%s/keyring", dir);
    file_digest(kr, d1);
    setenv("CUSTOS_PASSPHRASE", "wrong horse battery staple", 1);
    const char *rot[] = {"keys", "rotate", dir, NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT(h_cli(&S, &out, rot) != 0);
    EXPECT(strstr(buf_cstr(&out), "wrong passphrase or key file") != NULL);
    buf_free(&out);
    file_digest(kr, d2);
    EXPECT_STR(d2, d1);
    unsetenv("CUSTOS_PASSPHRASE");
    unsetenv("H_NO_KEYFILE");
}

TEST(t_canaries)
{
    /* Everything the vault wrote: database, WAL, audit log, backups, server log. */
    EXPECT_INT(h_stop(&S), 0);
    const char *canaries[] = {CANARY_NAME,  CANARY_PHONE,  CANARY_EMAIL, CANARY_ADDR,
                              canary_idnum, "13611110001", "郑删除"};
    for (size_t i = 0; i < sizeof canaries / sizeof canaries[0]; i++) {
        EXPECT_INT(h_tree_contains(root, canaries[i]), 0);
    }
}

int main(void)
{
    test_init();
    h_setup(&S, "vault");
    snprintf(root, sizeof root, "%s", S.dir);
    *strrchr(root, '/') = '\0';
    RUN(t_start);
    if (test_failed_) {
        printf("the server did not start; see %s\n", S.log);
        return test_done("vault_test");
    }
    RUN(t_errors_and_health);
    RUN(t_customer_crud);
    RUN(t_roles);
    RUN(t_idempotency);
    RUN(t_import);
    RUN(t_export);
    RUN(t_rotation);
    RUN(t_tamper);
    RUN(t_erase_backup_restore);
    RUN(t_drain_on_sigterm);
    RUN(t_wrong_passphrase);
    RUN(t_canaries);
    if (S.pid) {
        h_stop(&S);
    }
    return test_done("vault_test");
}
