/*
 * handlers_console.c - the /v1/ routes the web console needs beyond those of every client,
 * each about the caller's own account and each through the door (door_console.h):
 *   GET /v1/me/totp/qr       the QR code (SVG, libqrencode) of the second factor being
 *                            enrolled, so a phone can scan it; never of one in use
 *   GET /v1/me/session       the session's limits (idle expiry) and, for a browser session,
 *                            its CSRF token again (a reloaded page lost it)
 *   GET /v1/requests/{id}/diff  a change request's before and after, as the caller may read
 *                            them (for the steward who decides it, and its requester)
 */
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "door/door_console.h"
#include "server/console.h"

#define QR_QUIET 4 /* modules of white border, as the standard asks */

/* The QR code of text as an SVG document: one path of unit squares on a white field. */
static err qr_svg(const char *text, buf *out)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    ENSURE(q != NULL, ERR_INTERNAL, "cannot make the QR code");
    err rc = ERR_OK;
    int w = q->width, all = w + 2 * QR_QUIET;
    GUARD(buf_appendf(out,
                      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                      "shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR\">"
                      "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                      all, all, all, all));
    for (int y = 0; y < w; y++) {
        for (int x = 0; x < w; x++) {
            if (q->data[y * w + x] & 1) {
                GUARD(buf_appendf(out, "M%d %dh1v1h-1z", x + QR_QUIET, y + QR_QUIET));
            }
        }
    }
    GUARD(buf_append_str(out, "\"/></svg>\n"));
out:
    mem_wipe(q->data, (size_t)w * (size_t)w);
    QRcode_free(q);
    return rc;
}

static void h_totp_qr(server *s, request *r, response *out)
{
    buf uri, svg;
    buf_init(&uri, 4096);
    buf_init(&svg, 1 << 20);
    err e = door_totp_pending_uri(s->v, &r->who, &uri);
    if (e == ERR_OK) {
        e = qr_svg(buf_cstr(&uri), &svg);
    }
    buf_free(&uri); /* wipes */
    if (e != ERR_OK) {
        buf_free(&svg);
        return response_fail(out, e);
    }
    /* The picture holds the secret: a copy libmicrohttpd frees through the wiping free. */
    char *body = malloc(svg.len);
    if (!body) {
        buf_free(&svg);
        return response_error(out, ERR_INTERNAL, "out of memory");
    }
    memcpy(body, svg.p, svg.len);
    size_t n = svg.len;
    buf_free(&svg);
    out->raw = MHD_create_response_from_buffer_with_free_callback(n, body, mem_free_wiped);
    if (!out->raw) {
        mem_free_wiped(body);
        return response_error(out, ERR_INTERNAL, "out of memory");
    }
    MHD_add_response_header(out->raw, "Content-Type", "image/svg+xml");
    out->status = 200;
}

static void h_session(server *s, request *r, response *out)
{
    json_t *res = NULL;
    err e = door_session_info(s->v, &r->who, &res);
    if (e != ERR_OK) {
        return response_fail(out, e);
    }
    if (r->via_cookie) {
        /* Readable only by a page of this origin (no CORS): what the login answer gave. */
        char csrf[CSRF_TEXT_MAX];
        door_csrf_of(r->token, csrf);
        json_object_set_new(res, "csrf_token", json_string(csrf));
        mem_wipe(csrf, sizeof csrf);
    }
    response_json(out, 200, res);
}

static void h_request_diff(server *s, request *r, response *out, const char *id)
{
    json_t *res = NULL;
    err e = door_request_diff(s->v, &r->who, id, &res);
    if (e != ERR_OK) {
        return response_fail(out, e);
    }
    response_json(out, 200, res);
}

bool handle_console(server *s, request *r, response *out)
{
    const char *u = r->url;
    static const char rq[] = "/v1/requests/", diff[] = "/diff";
    size_t ul = strlen(u);
    if (strncmp(u, rq, sizeof rq - 1) == 0 && ul > sizeof rq - 1 + sizeof diff - 1 &&
        strcmp(u + ul - (sizeof diff - 1), diff) == 0) {
        char id[ID_LEN + 1];
        size_t n = ul - (sizeof rq - 1) - (sizeof diff - 1);
        if (n > ID_LEN || memchr(u + sizeof rq - 1, '/', n)) {
            response_error(out, ERR_NOT_FOUND, "no such request");
            return true;
        }
        memcpy(id, u + sizeof rq - 1, n);
        id[n] = '\0';
        req_method(r, "GET") ? h_request_diff(s, r, out, id)
                             : response_error(out, ERR_INPUT, "method not allowed");
        return true;
    }
    if (strcmp(u, "/v1/me/totp/qr") == 0) {
        req_method(r, "GET") ? h_totp_qr(s, r, out)
                             : response_error(out, ERR_INPUT, "method not allowed");
        return true;
    }
    if (strcmp(u, "/v1/me/session") == 0) {
        req_method(r, "GET") ? h_session(s, r, out)
                             : response_error(out, ERR_INPUT, "method not allowed");
        return true;
    }
    return false;
}
