/*
 * server.h - the HTTPS front of the door (libmicrohttpd + GnuTLS).
 * Handlers parse HTTP and JSON and call door_*; they never open the store or
 * touch a key.
 */
#ifndef CUSTOS_SERVER_H
#define CUSTOS_SERVER_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>

#include "door.h"

#define BODY_LIMIT ((size_t)32 << 20)
#define JSON_BODY_LIMIT ((size_t)1 << 20)

typedef struct server_opts {
    const char *dir;
    const char *listen;    /* "127.0.0.1:8443", "[::1]:8443" */
    const char *port_file; /* where to write the bound port, or NULL */
    unsigned threads;      /* 0: one per core */
    bool no_guard;         /* measurement only (make bench): no admission, no detection */
    bool accept_audit_anchor; /* --accept-audit-anchor: see vault_open_opts (audited) */
} server_opts;

typedef struct request {
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    buf body;
    bool too_large;
    bool started;
    char request_id[40];
    char source[64];
    int64_t start_us;
    actor who;
    bool authed;
    bool via_cookie;
    bool refused; /* by the guard, at the first call */
    guard_decision guard_refusal; /* the account's admission, when refused */
    char retry_after[16];
    char token[TOKEN_TEXT_MAX];
} request;

typedef struct response {
    int status;
    json_t *json;               /* body as JSON, or */
    struct MHD_Response *raw;   /* a prepared response (streams) */
    const char *retry_after;
    char set_cookie[160];
    char etag[32]; /* ETag header when set (customer resources) */
} response;

typedef struct metrics {
    atomic_ullong requests[6]; /* by status class: 1xx..5xx, index 0 unused */
    atomic_ullong duration_us;
    atomic_ullong denied;
    atomic_ullong audit_failures;
    atomic_ullong inflight;
    atomic_ullong refused_connections; /* dropped at accept by the guard */
    atomic_ullong refused_requests;    /* 403/429 from the guard's admission */
} metrics;

typedef struct server {
    vault *v;
    metrics m;
    int64_t started_us;
} server;

MUST_USE err server_run(const server_opts *o, const kek_source *src);

/* handlers.c: request helpers shared by the handler files */
const char *req_arg(request *r, const char *name);
const char *req_header(request *r, const char *name);
bool req_method(request *r, const char *m);
/* The body as a JSON object (size-limited, duplicates refused). */
MUST_USE err req_json_body(request *r, json_t **out);
void response_fail(response *out, err code);
/* handlers_access.c: accounts, second factor, API keys, policy, requests, break-glass.
 * Returns false when the route is not one of its own. */
bool handle_access(server *s, request *r, response *out);
/* POST /v1/handover: no session (the holder has none yet); two code halves and a password. */
void handle_handover(server *s, request *r, response *out);

void handle_request(server *s, request *r, response *out);
/* The answer for a guard refusal (403 or 429, Retry-After into retry). */
void server_refuse(response *out, const guard_decision *d, char *retry, size_t max);
/* handlers_guard.c: /v1/alerts, /v1/violations, /v1/guard/... (false: not its route) */
bool handle_guard(server *s, request *r, response *out);
void response_error(response *out, err code, const char *message);
void response_json(response *out, int status, json_t *body);
/* handlers_audit.c: /v1/audit/<sub> */
void handle_audit(server *s, request *r, response *out, const char *sub);

#endif
