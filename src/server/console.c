/*
 * console.c - serves the web console: its page at "/" and its files under
 * "/c/VERSION/<path>", all built into the binary (console_assets.h). The page is
 * never cached (no-store, like every API answer); the files are named by the
 * build's version, so they are cached for good (immutable) and also carry a
 * strong ETag. The page's Content-Security-Policy lets it load only its own
 * files and talk only to this server: no inline script or style, no eval, no
 * framing, no plug-ins, no form posted elsewhere. The console reads everything
 * through the /v1/ routes, like any client.
 */
#include <stdio.h>
#include <string.h>

#include "server/console.h"
#include "server/console_assets.h"

#define CONSOLE_CSP                                                                                \
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "            \
    "object-src 'none'"

static const console_asset *asset_find(const char *path)
{
    for (size_t i = 0; i < CONSOLE_NASSETS; i++) {
        if (strcmp(CONSOLE_ASSETS[i].path, path) == 0) {
            return &CONSOLE_ASSETS[i];
        }
    }
    return NULL;
}

size_t console_assets_bytes(void)
{
    size_t n = 0;
    for (size_t i = 0; i < CONSOLE_NASSETS; i++) {
        n += CONSOLE_ASSETS[i].len;
    }
    return n;
}

/* Paths are looked up in the table as they are: nothing reaches the file system. */
static void answer(request *r, response *out, const console_asset *a, bool page)
{
    out->csp = CONSOLE_CSP;
    if (!page) {
        out->cache_control = "public, max-age=31536000, immutable";
        const char *inm = req_header(r, "If-None-Match");
        snprintf(out->etag, sizeof out->etag, "%s", a->etag);
        if (inm && strcmp(inm, a->etag) == 0) {
            out->raw = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            out->status = out->raw ? 304 : 500;
            return;
        }
    }
    out->raw = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!out->raw) {
        out->csp = NULL;
        out->cache_control = NULL;
        return response_error(out, ERR_INTERNAL, "out of memory");
    }
    MHD_add_response_header(out->raw, "Content-Type", a->mime);
    out->status = 200;
}

bool console_route(request *r, response *out)
{
    const char *u = r->url;
    bool page = strcmp(u, "/") == 0 || strcmp(u, "/index.html") == 0;
    const console_asset *a = NULL;
    if (page) {
        a = asset_find("index.html");
    } else if (strncmp(u, "/c/", 3) == 0) {
        size_t vl = strlen(CONSOLE_VERSION);
        if (strncmp(u + 3, CONSOLE_VERSION, vl) != 0 || u[3 + vl] != '/') {
            /* another build's file: gone (the page names the current build's) */
            response_error(out, ERR_NOT_FOUND, "no such file (the console was updated: reload)");
            return true;
        }
        a = asset_find(u + 3 + vl + 1);
        if (!a || strcmp(a->path, "index.html") == 0) {
            response_error(out, ERR_NOT_FOUND, "no such file");
            return true;
        }
    } else {
        return false;
    }
    if (!req_method(r, "GET") && !req_method(r, "HEAD")) {
        response_error(out, ERR_INPUT, "method not allowed");
        return true;
    }
    if (!a) {
        response_error(out, ERR_NOT_FOUND, "the console is not built into this binary");
        return true;
    }
    answer(r, out, a, page);
    return true;
}
