/*
 * console_test.c - the web console as the server delivers it:
 *   - the page: its Content-Security-Policy (no inline script or style, no eval, no framing),
 *     nosniff, no-referrer, no-store, and markup with no inline script or style;
 *   - every file under console/: served byte for byte under /c/VERSION/ with its MIME type,
 *     cached for good (immutable) with a strong ETag that answers 304, nothing outside the
 *     built-in table reachable, and no code that turns data into markup (innerHTML, eval);
 *   - the size budget: all files together under 300 KB gzip-compressed (a size, not a time);
 *   - the console's own routes: the QR code of a second factor being enrolled (only then,
 *     only to its owner, the same matrix libqrencode makes of the otpauth URI, audited),
 *     the session's limits and CSRF token for a reloaded page, and a change request's
 *     before/after for its decider and requester only.
 */
#include <dirent.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../unit/test.h"
#include "access/totp.h"
#include "core/clock.h"
#include "harness.h"

static srv S;
static char version[64];
static char T_SERVICE[64], T_STEWARD1[64], T_STEWARD2[64], T_SALES[64], T_AUDITOR[64];

#define CONSOLE_CSP                                                                                \
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "            \
    "object-src 'none'"
#define BUDGET_BYTES (300 * 1024)

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The value of response header name of the last request, into out ("" when absent). */
static const char *hdr(const char *name, char *out, size_t max)
{
    const char *h = h_last_headers();
    size_t n = strlen(name);
    out[0] = '\0';
    for (const char *p = h; p && *p;) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ') {
                v++;
            }
            size_t len = strcspn(v, "\r\n");
            snprintf(out, max, "%.*s", (int)len, v);
            return out;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return out;
}

static int get(const char *path, const char *extra, buf *body)
{
    buf_reset(body);
    return h_req(&S, "GET", path, NULL, NULL, NULL, 0, body, extra);
}

static const char *console_dir(void)
{
    const char *d = getenv("CUSTOS_CONSOLE_DIR");
    return d ? d : "console";
}

static bool read_all(const char *path, buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return false;
    }
    char b[8192];
    size_t k;
    bool ok = true;
    while ((k = fread(b, 1, sizeof b, f)) > 0) {
        ok = ok && buf_append(out, b, k) == ERR_OK;
    }
    fclose(f);
    return ok;
}

/* Calls fn for every file under console/ (relative path). */
typedef void (*file_fn)(const char *rel, const char *full);
static int walk(const char *dir, const char *rel, file_fn fn)
{
    DIR *d = opendir(dir);
    if (!d) {
        return 0;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char full[1024], r[512];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        snprintf(r, sizeof r, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        struct stat st;
        if (stat(full, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            n += walk(full, r, fn);
        } else {
            fn(r, full);
            n++;
        }
    }
    closedir(d);
    return n;
}

TEST(t_start)
{
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    const char *demo[] = {"demo", S.dir, "--customers", "4", NULL};
    EXPECT_INT(h_cli(&S, NULL, demo), 0);
    h_quiet_guard(&S);
    EXPECT(h_start(&S));
    EXPECT(h_login(&S, "service1", DEMO_PW, T_SERVICE));
    EXPECT(h_login(&S, "steward1", DEMO_PW, T_STEWARD1));
    EXPECT(h_login(&S, "steward2", DEMO_PW, T_STEWARD2));
    EXPECT(h_login(&S, "sales1", DEMO_PW, T_SALES));
    EXPECT(h_login(&S, "auditor1", DEMO_PW, T_AUDITOR));
}

TEST(t_page)
{
    buf b;
    buf_init(&b, 1 << 20);
    char v[512];
    EXPECT_INT(get("/", NULL, &b), 200);
    EXPECT_STR(hdr("Content-Type", v, sizeof v), "text/html; charset=utf-8");
    EXPECT_STR(hdr("Content-Security-Policy", v, sizeof v), CONSOLE_CSP);
    EXPECT(strstr(v, "unsafe") == NULL);
    EXPECT_STR(hdr("X-Content-Type-Options", v, sizeof v), "nosniff");
    EXPECT_STR(hdr("Referrer-Policy", v, sizeof v), "no-referrer");
    EXPECT_STR(hdr("Cache-Control", v, sizeof v), "no-store");
    EXPECT_STR(hdr("X-Frame-Options", v, sizeof v), "DENY");
    const char *html = buf_cstr(&b);
    /* no inline script or style: every script names its file, no style element or attribute */
    EXPECT(strstr(html, "<style") == NULL);
    EXPECT(strstr(html, "style=") == NULL);
    EXPECT(strstr(html, " on") == NULL); /* no event-handler attribute */
    for (const char *p = strstr(html, "<script"); p; p = strstr(p + 1, "<script")) {
        const char *end = strchr(p, '>');
        EXPECT(end && memmem(p, (size_t)(end - p), "src=", 4) != NULL);
        EXPECT(end && strncmp(end, "></script>", 10) == 0);
    }
    EXPECT(strstr(html, "__VERSION__") == NULL);
    const char *c = strstr(html, "/c/");
    if (c) {
        snprintf(version, sizeof version, "%.*s", (int)strcspn(c + 3, "/"), c + 3);
    }
    EXPECT(strlen(version) == 12);
    EXPECT_INT(get("/index.html", NULL, &b), 200);
    buf_free(&b);
}

static const char *mime_of(const char *rel)
{
    const char *dot = strrchr(rel, '.');
    static const char *const m[][2] = {{".js", "text/javascript; charset=utf-8"},
                                       {".css", "text/css; charset=utf-8"},
                                       {".svg", "image/svg+xml"},
                                       {".html", "text/html; charset=utf-8"},
                                       {".png", "image/png"}};
    for (size_t i = 0; dot && i < sizeof m / sizeof m[0]; i++) {
        if (strcmp(dot, m[i][0]) == 0) {
            return m[i][1];
        }
    }
    return "?";
}

static size_t served_files;
static void check_asset(const char *rel, const char *full)
{
    if (strcmp(rel, "index.html") == 0) {
        return; /* the page, at "/" (its asset names filled in) */
    }
    buf want, got;
    buf_init(&want, 1 << 22);
    buf_init(&got, 1 << 22);
    EXPECT(read_all(full, &want));
    char path[700], v[256], etag[64], inm[128];
    snprintf(path, sizeof path, "/c/%s/%s", version, rel);
    int st = get(path, NULL, &got);
    if (st != 200) {
        printf("  %s: %d\n", path, st);
    }
    EXPECT_INT(st, 200);
    EXPECT(got.len == want.len && memcmp(got.p, want.p, want.len) == 0);
    EXPECT_STR(hdr("Content-Type", v, sizeof v), mime_of(rel));
    EXPECT_STR(hdr("Cache-Control", v, sizeof v), "public, max-age=31536000, immutable");
    EXPECT_STR(hdr("Content-Security-Policy", v, sizeof v), CONSOLE_CSP);
    EXPECT_STR(hdr("X-Content-Type-Options", v, sizeof v), "nosniff");
    hdr("ETag", etag, sizeof etag);
    EXPECT(etag[0] == '"' && strlen(etag) == 18);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    EXPECT_INT(get(path, inm, &got), 304);
    EXPECT_INT(got.len, 0);
    EXPECT_INT(get(path, "If-None-Match: \"0000000000000000\"", &got), 200);
    /* scripts build the page from data with textContent only: nothing turns data into markup
     * or code (the CSP refuses eval anyway) */
    if (strstr(rel, ".js")) {
        const char *s = buf_cstr(&want);
        EXPECT(strstr(s, ".innerHTML") == NULL && strstr(s, ".outerHTML") == NULL);
        EXPECT(strstr(s, "insertAdjacentHTML") == NULL && strstr(s, "document.write") == NULL);
        EXPECT(strstr(s, "eval(") == NULL && strstr(s, "new Function") == NULL);
        /* no address outside this origin; the SVG namespace is a name, not an address */
        for (const char *h = strstr(s, "http://"); h; h = strstr(h + 1, "http://")) {
            EXPECT(strncmp(h, "http://www.w3.org/2000/svg", 26) == 0);
        }
        EXPECT(strstr(s, "https://") == NULL || strstr(rel, "signin.js") != NULL);
    }
    served_files++;
    buf_free(&want);
    buf_free(&got);
}

TEST(t_assets)
{
    served_files = 0;
    int n = walk(console_dir(), "", check_asset);
    EXPECT(n >= 10);
    EXPECT_INT(served_files, n - 1);
    printf("  %zu console files served and checked\n", served_files);
}

static size_t gz_total, raw_total;
static void gz_size(const char *rel, const char *full)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "gzip -9c '%s' | wc -c", full);
    FILE *p = popen(cmd, "r");
    unsigned long n = 0;
    EXPECT(p && fscanf(p, "%lu", &n) == 1);
    if (p) {
        pclose(p);
    }
    struct stat st;
    if (stat(full, &st) == 0) {
        raw_total += (size_t)st.st_size;
    }
    gz_total += n;
}

TEST(t_budget)
{
    gz_total = raw_total = 0;
    walk(console_dir(), "", gz_size);
    printf("  console assets: %zu bytes, %zu bytes gzip-compressed (budget %d)\n", raw_total,
           gz_total, BUDGET_BYTES);
    EXPECT(gz_total > 1000);
    EXPECT(gz_total < BUDGET_BYTES);
}

TEST(t_not_served)
{
    buf b;
    buf_init(&b, 1 << 20);
    char p[256], v[256];
    EXPECT_INT(get("/c/000000000000/app.js", NULL, &b), 404); /* another build's */
    snprintf(p, sizeof p, "/c/%s/../../custos.json", version);
    EXPECT_INT(get(p, NULL, &b), 404);
    snprintf(p, sizeof p, "/c/%s/..%%2f..%%2fcustos.json", version);
    EXPECT_INT(get(p, NULL, &b), 404);
    snprintf(p, sizeof p, "/c/%s/lib/../app.js", version);
    EXPECT(get(p, NULL, &b) != 500);
    snprintf(p, sizeof p, "/c/%s/index.html", version);
    EXPECT_INT(get(p, NULL, &b), 404);
    snprintf(p, sizeof p, "/c/%s/nothing.js", version);
    EXPECT_INT(get(p, NULL, &b), 404);
    snprintf(p, sizeof p, "/c/%s", version);
    EXPECT_INT(get(p, NULL, &b), 404);
    EXPECT_INT(get("/favicon.ico", NULL, &b), 404);
    buf_reset(&b);
    EXPECT_INT(h_req(&S, "POST", "/", NULL, "text/plain", "x", 1, &b, NULL), 400);
    /* the API keeps its own policy: nothing to load, nothing to frame, nothing kept */
    EXPECT_INT(h_req(&S, "GET", "/v1/me", T_SALES, NULL, NULL, 0, &b, NULL), 200);
    EXPECT_STR(hdr("Content-Security-Policy", v, sizeof v),
               "default-src 'none'; frame-ancestors 'none'");
    EXPECT_STR(hdr("Cache-Control", v, sizeof v), "no-store");
    buf_free(&b);
}

/* The dark modules of the SVG's path ("M x yh1v1h-1z" each) against libqrencode's matrix of
 * text: the picture is the URI's QR code, module for module. */
static bool svg_is_qr_of(const char *svg, const char *text)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q) {
        return false;
    }
    int w = q->width, dark = 0, seen = 0;
    bool ok = true;
    for (int i = 0; i < w * w; i++) {
        dark += q->data[i] & 1;
    }
    const char *d = strstr(svg, " d=\"");
    for (const char *p = d ? d + 4 : NULL; p && *p == 'M'; seen++) {
        int x, y, n = 0;
        if (sscanf(p, "M%d %dh1v1h-1z%n", &x, &y, &n) != 2 || n == 0) {
            ok = false;
            break;
        }
        x -= 4;
        y -= 4;
        ok = ok && x >= 0 && y >= 0 && x < w && y < w && (q->data[y * w + x] & 1);
        p += n;
    }
    QRcode_free(q);
    return ok && seen == dark && dark > 0;
}

TEST(t_qr)
{
    buf b;
    buf_init(&b, 1 << 20);
    char v[256];
    json_t *j = NULL;
    /* no session: nothing */
    EXPECT_INT(get("/v1/me/totp/qr", NULL, &b), 401);
    /* nothing being enrolled: no picture */
    EXPECT_INT(h_json(&S, "GET", "/v1/me/totp/qr", T_AUDITOR, NULL, &j), 409);
    json_decref(j);
    EXPECT_INT(h_json(&S, "POST", "/v1/me/totp/enrol", T_AUDITOR, NULL, &j), 200);
    char uri[512] = "";
    snprintf(uri, sizeof uri, "%s", jstr(j, "otpauth_uri") ? jstr(j, "otpauth_uri") : "");
    json_decref(j);
    EXPECT(strncmp(uri, "otpauth://totp/", 15) == 0);
    buf_reset(&b);
    EXPECT_INT(h_req(&S, "GET", "/v1/me/totp/qr", T_AUDITOR, NULL, NULL, 0, &b, NULL), 200);
    EXPECT_STR(hdr("Content-Type", v, sizeof v), "image/svg+xml");
    EXPECT_STR(hdr("Cache-Control", v, sizeof v), "no-store");
    EXPECT_STR(hdr("Content-Security-Policy", v, sizeof v),
               "default-src 'none'; frame-ancestors 'none'");
    const char *svg = buf_cstr(&b);
    EXPECT(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
    EXPECT(strstr(svg, "<script") == NULL);
    EXPECT(svg_is_qr_of(svg, uri));
    EXPECT(!svg_is_qr_of(svg,
                         "otpauth://totp/Custos:auditor1?secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    /* another account sees only its own (none): never someone else's */
    EXPECT_INT(h_json(&S, "GET", "/v1/me/totp/qr", T_SALES, NULL, NULL), 409);
    EXPECT_INT(h_json(&S, "POST", "/v1/me/totp/qr", T_AUDITOR, "{}", NULL), 400);
    /* the picture was shown: audited, without the secret */
    EXPECT_INT(h_json(&S, "GET", "/v1/audit/entries?action=account.totp_qr", T_AUDITOR, NULL, &j),
               200);
    json_t *es = json_object_get(j, "entries");
    EXPECT(json_array_size(es) >= 2); /* the allowed one and the refused ones */
    char *dump = json_dumps(j, 0);
    const char *sp = strstr(uri, "secret=");
    char secret[64] = "";
    if (sp) {
        snprintf(secret, sizeof secret, "%.*s", (int)strcspn(sp + 7, "&"), sp + 7);
    }
    EXPECT(dump && secret[0] && strstr(dump, secret) == NULL);
    free(dump);
    json_decref(j);
    /* once the second factor is in use its secret is never shown again */
    char code[8] = "", cbody[64];
    EXPECT_OK(totp_code_base32(secret, clock_now_us() / 1000000, code));
    snprintf(cbody, sizeof cbody, "{\"code\":\"%s\"}", code);
    EXPECT_INT(h_json(&S, "POST", "/v1/me/totp/confirm", T_AUDITOR, cbody, NULL), 200);
    EXPECT_INT(h_json(&S, "GET", "/v1/me/totp/qr", T_AUDITOR, NULL, NULL), 409);
    buf_free(&b);
}

TEST(t_session)
{
    json_t *j = NULL;
    char body[256], v[512], cookie[300] = "";
    snprintf(body, sizeof body, "{\"username\":\"service1\",\"password\":\"%s\",\"cookie\":true}",
             DEMO_PW);
    EXPECT_INT(h_json(&S, "POST", "/v1/login", NULL, body, &j), 200);
    char csrf[128] = "";
    snprintf(csrf, sizeof csrf, "%s", jstr(j, "csrf_token") ? jstr(j, "csrf_token") : "");
    json_decref(j);
    hdr("Set-Cookie", v, sizeof v);
    snprintf(cookie, sizeof cookie, "Cookie: %.*s", (int)strcspn(v, ";"), v);
    EXPECT(strncmp(cookie, "Cookie: custos_session=cst_", 27) == 0);
    /* a reloaded page gets its CSRF token again, through its cookie */
    EXPECT_INT(h_json_h(&S, "GET", "/v1/me/session", NULL, NULL, cookie, &j), 200);
    EXPECT_STR(jstr(j, "csrf_token"), csrf);
    EXPECT_INT(json_integer_value(json_object_get(j, "idle_seconds")), 1800);
    EXPECT_INT(json_integer_value(json_object_get(j, "session_hours")), 8);
    json_decref(j);
    /* a bearer token has no CSRF token */
    EXPECT_INT(h_json(&S, "GET", "/v1/me/session", T_SALES, NULL, &j), 200);
    EXPECT(json_object_get(j, "csrf_token") == NULL);
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/me/session", NULL, NULL, NULL), 401);
    /* the token it returns is the one state-changing requests need */
    char hdrs[600];
    snprintf(hdrs, sizeof hdrs, "%s\nX-CSRF-Token: %s", cookie, csrf);
    EXPECT_INT(h_json_h(&S, "POST", "/v1/logout", NULL, "{}", cookie, NULL), 403);
    EXPECT_INT(h_json_h(&S, "POST", "/v1/logout", NULL, "{}", hdrs, NULL), 200);
    EXPECT_INT(h_json_h(&S, "GET", "/v1/me/session", NULL, NULL, cookie, NULL), 401);
}

TEST(t_diff)
{
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?limit=1", T_STEWARD1, NULL, &j), 200);
    char cid[64] = "", path[160], before[64] = "";
    json_t *c0 = json_array_get(json_object_get(j, "customers"), 0);
    snprintf(cid, sizeof cid, "%s", jstr(c0, "id") ? jstr(c0, "id") : "");
    snprintf(before, sizeof before, "%s", jstr(c0, "phone") ? jstr(c0, "phone") : "");
    json_decref(j);
    snprintf(path, sizeof path, "/v1/customers/%s", cid);
    EXPECT_INT(h_json(&S, "PATCH", path, T_SERVICE, "{\"phone\":\"13900001111\"}", &j), 202);
    char rid[64] = "", dpath[160];
    snprintf(rid, sizeof rid, "%s",
             jstr(json_object_get(j, "request"), "id") ? jstr(json_object_get(j, "request"), "id")
                                                       : "");
    json_decref(j);
    snprintf(dpath, sizeof dpath, "/v1/requests/%s/diff", rid);
    /* the department's steward sees before and after */
    EXPECT_INT(h_json(&S, "GET", dpath, T_STEWARD1, NULL, &j), 200);
    json_t *f = json_array_get(json_object_get(j, "fields"), 0);
    EXPECT_STR(jstr(f, "field"), "phone");
    EXPECT_STR(jstr(f, "before"), before);
    EXPECT_STR(jstr(f, "after"), "13900001111");
    EXPECT_STR(jstr(j, "status"), "pending");
    json_decref(j);
    /* so does its requester */
    EXPECT_INT(h_json(&S, "GET", dpath, T_SERVICE, NULL, NULL), 200);
    /* nobody else: another department's steward, a salesperson */
    EXPECT_INT(h_json(&S, "GET", dpath, T_STEWARD2, NULL, NULL), 404);
    EXPECT_INT(h_json(&S, "GET", dpath, T_SALES, NULL, NULL), 404);
    EXPECT_INT(h_json(&S, "GET", "/v1/requests/req_nothing/diff", T_STEWARD1, NULL, NULL), 404);
    EXPECT_INT(h_json(&S, "GET", "/v1/requests/a/b/diff", T_STEWARD1, NULL, NULL), 404);
    /* showing it is a customer read in the audit log */
    EXPECT_INT(h_json(&S, "GET", "/v1/audit/entries?action=customer.read&actor=steward1", T_AUDITOR,
                      NULL, &j),
               200);
    char *dump = json_dumps(j, 0);
    char rule[96];
    snprintf(rule, sizeof rule, "request-diff:%s", rid);
    EXPECT(dump && strstr(dump, rule) != NULL);
    free(dump);
    json_decref(j);
    /* the change still waits for the decision: nothing was applied */
    EXPECT_INT(h_json(&S, "GET", path, T_STEWARD1, NULL, &j), 200);
    EXPECT_STR(jstr(j, "phone"), before);
    json_decref(j);
}

int main(void)
{
    h_setup(&S, "console");
    RUN(t_start);
    RUN(t_page);
    RUN(t_assets);
    RUN(t_budget);
    RUN(t_not_served);
    RUN(t_qr);
    RUN(t_session);
    RUN(t_diff);
    if (S.pid) {
        EXPECT_INT(h_stop(&S), 0);
    }
    return test_done("console_test");
}
