/*
 * client.c - the HTTPS client side of the CLI (libcurl), and its config:
 * CUSTOS_ADDR / CUSTOS_TOKEN / CUSTOS_CACERT, else ~/.config/custos/client.json
 * (mode 0600, written by `custos login`).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/file.h"
#include "core/mem.h"

static void config_path(char *out, size_t max, bool mkdirs)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char base[PATH_MAX];
    if (xdg && xdg[0]) {
        snprintf(base, sizeof base, "%s/custos", xdg);
    } else {
        snprintf(base, sizeof base, "%s/.config/custos", home ? home : ".");
    }
    if (mkdirs) {
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", base);
        char *slash = strrchr(parent, '/');
        if (slash) {
            *slash = '\0';
            (void)mkdir(parent, 0700);
        }
        (void)mkdir(base, 0700);
    }
    snprintf(out, max, "%s/client.json", base);
}

err client_load(client *c)
{
    memset(c, 0, sizeof *c);
    char p[PATH_MAX];
    config_path(p, sizeof p, false);
    json_t *cfg = json_load_file(p, 0, NULL);
    const char *v;
    v = getenv("CUSTOS_ADDR");
    if (!v && cfg) {
        v = json_string_value(json_object_get(cfg, "addr"));
    }
    snprintf(c->addr, sizeof c->addr, "%s", v ? v : "https://127.0.0.1:8443");
    v = getenv("CUSTOS_TOKEN");
    if (!v && cfg) {
        v = json_string_value(json_object_get(cfg, "token"));
    }
    snprintf(c->token, sizeof c->token, "%s", v ? v : "");
    v = getenv("CUSTOS_CACERT");
    if (!v && cfg) {
        v = json_string_value(json_object_get(cfg, "cacert"));
    }
    snprintf(c->cacert, sizeof c->cacert, "%s", v ? v : "");
    json_decref(cfg);
    return ERR_OK;
}

err client_save_token(const client *c)
{
    char p[PATH_MAX];
    config_path(p, sizeof p, true);
    json_t *o =
        json_pack("{s:s, s:s, s:s}", "addr", c->addr, "token", c->token, "cacert", c->cacert);
    ENSURE(o != NULL, ERR_INTERNAL, "out of memory");
    char *s = json_dumps(o, JSON_INDENT(2));
    json_decref(o);
    ENSURE(s != NULL, ERR_INTERNAL, "out of memory");
    size_t n = strlen(s);
    err rc = file_write_atomic(p, slice_of(s, n), false);
    mem_wipe(s, n);
    free(s);
    return rc;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    buf *b = ud;
    size_t n = size * nmemb;
    return buf_append(b, ptr, n) == ERR_OK ? n : 0;
}

err client_call(const client *c, const char *method, const char *path, const char *content_type,
                slice body, int *status, buf *resp, const char *const *extra_headers)
{
    static int inited;
    if (!inited) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        inited = 1;
    }
    CURL *h = curl_easy_init();
    ENSURE(h != NULL, ERR_INTERNAL, "cannot start the HTTP client");
    char url[2048], auth[256], ct[256];
    snprintf(url, sizeof url, "%s%s", c->addr, path);
    struct curl_slist *hdr = NULL;
    if (c->token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
        hdr = curl_slist_append(hdr, auth);
    }
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        hdr = curl_slist_append(hdr, ct);
    }
    for (size_t i = 0; extra_headers && extra_headers[i]; i++) {
        hdr = curl_slist_append(hdr, extra_headers[i]);
    }
    hdr = curl_slist_append(hdr, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
    if (c->cacert[0]) {
        curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
    }
    if (body.len || strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.p ? (const char *)body.p : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    }
    CURLcode r = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    mem_wipe(auth, sizeof auth);
    ENSURE(r == CURLE_OK, ERR_IO, "cannot reach %s: %s", c->addr, curl_easy_strerror(r));
    *status = (int)code;
    return ERR_OK;
}

int client_print(const args *a, int status, const buf *resp)
{
    json_t *j = json_loadb((const char *)resp->p, resp->len, 0, NULL);
    if (status >= 400) {
        const char *msg =
            j ? json_string_value(json_object_get(json_object_get(j, "error"), "message")) : NULL;
        if (a->json && j) {
            char *s = json_dumps(j, JSON_COMPACT);
            puts(s ? s : "");
            free(s);
        } else {
            fprintf(stderr, "custos: %s (HTTP %d)\n", msg ? msg : "request failed", status);
        }
        json_decref(j);
        return status == 401 || status == 403 ? 3 : status == 404 ? 4 : 1;
    }
    if (j) {
        char *s = json_dumps(j, a->json ? JSON_COMPACT : JSON_INDENT(2));
        puts(s ? s : "");
        free(s);
        json_decref(j);
    } else {
        fwrite(resp->p, 1, resp->len, stdout);
    }
    return 0;
}
