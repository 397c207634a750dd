/*
 * server.h - the HTTPS front of the door (libmicrohttpd + GnuTLS).
 * Handlers parse HTTP and JSON and call door_*; they never open the store or
 * touch a key.
 */
#ifndef CUSTOS_SERVER_H
#define CUSTOS_SERVER_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "door/door.h"

#define BODY_LIMIT ((size_t)32 << 20)
#define JSON_BODY_LIMIT ((size_t)1 << 20)

typedef struct server_opts {
    const char *dir;
    const char *listen;         /* "127.0.0.1:8443", "[::1]:8443" */
    const char *port_file;      /* where to write the bound port, or NULL */
    unsigned threads;           /* 0: one per core */
    bool no_guard;              /* measurement only (make bench): no admission, no detection */
    const char *metrics_listen; /* plain-HTTP loopback listener for /metrics, or NULL */
    unsigned max_connections;   /* open connections at most (0: SERVER_MAX_CONNECTIONS) */
    /* Called once the master key has been used (the vault is open): the caller wipes its
     * copy of the passphrase. May be NULL. */
    void (*key_used)(void *ctx);
    void *key_used_ctx;
    bool accept_audit_anchor; /* --accept-audit-anchor: see vault_open_opts (audited) */
} server_opts;

#define SERVER_MAX_CONNECTIONS 4096
/* A connection that has not completed its TLS handshake and request headers, or a keep-alive
 * connection waiting for its next request, is closed after this long. */
#define SERVER_WAIT_TIMEOUT_S 10
/* Once this share (in eighths) of the limit is open, each new connection sheds the longest
 * waiting idle one. */
#define SERVER_SHED_EIGHTHS 7
#define SERVER_DRAIN_CAP_S 30

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
    bool refused;                 /* by the guard, at the first call */
    guard_decision guard_refusal; /* the account's admission, when refused */
    char retry_after[16];
    char token[TOKEN_TEXT_MAX];
    guard_addr client; /* the client (through trusted proxies), for the guard */
    bool client_ok;
    bool via_proxy;   /* the peer is a trusted proxy and named the client */
    bool probe_only;  /* the metrics listener: /metrics, /healthz, /readyz only */
    size_t discarded; /* /t/: the body's length; its bytes were dropped unread */
} request;

typedef struct response {
    int status;
    json_t *json;             /* body as JSON, or */
    struct MHD_Response *raw; /* a prepared response (streams) */
    const char *retry_after;
    char set_cookie[160];
    char etag[32]; /* ETag header when set (customer resources) */
    /* The console's page and files (console.c): their own policy and caching instead of the
     * API's (default-src 'none', no-store). NULL for every API answer. */
    const char *csp;
    const char *cache_control;
} response;

typedef struct metrics {
    atomic_ullong requests[6]; /* by status class: 1xx..5xx, index 0 unused */
    atomic_ullong duration_us;
    atomic_ullong denied;
    atomic_ullong audit_failures;
    atomic_ullong inflight;
    atomic_ullong refused_connections; /* dropped at accept by the guard */
    atomic_ullong refused_requests;    /* 403/429 from the guard's admission */
    atomic_ullong shed_connections;    /* idle connections closed to make room */
    atomic_ullong expired_connections; /* closed after SERVER_WAIT_TIMEOUT_S without a request */
    atomic_ullong limit_connections;   /* refused at the connection limit */
    atomic_ullong not_ready_total;     /* times the vault became not ready */
} metrics;

/* Open connections by socket: what each is doing, and the idle ones in the order they
 * became idle (the oldest is shed first). Guarded by mu. */
typedef struct conn_slot {
    unsigned char state; /* CS_* in server.c */
    int64_t since_us;    /* monotonic: when it entered its state */
    int prev, next;      /* the idle list (-1: none) */
} conn_slot;

typedef struct conntab {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a connection closed or a request finished */
    conn_slot *s;
    int cap;
    int head, tail;
    unsigned open, active, closing;
} conntab;

typedef struct server {
    vault *v;
    metrics m;
    int64_t started_us;
    struct MHD_Daemon *d;
    conntab ct;
    unsigned limit;
    int listen_fd;
    int wake[2];
    pthread_t acceptor;
    atomic_bool stopping; /* the acceptor stops */
    atomic_bool draining; /* answers carry Connection: close */
    /* readiness, refreshed by the monitor thread */
    atomic_bool ready, ready_audit, ready_disk;
    atomic_ullong free_bytes;
    pthread_t monitor;
    pthread_mutex_t mon_mu;
    pthread_cond_t mon_cv;
    bool mon_stop;
} server;

MUST_USE err server_run(const server_opts *o, const vault_key *src);

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
/* The metrics listener: GET /metrics, /healthz, /readyz. */
void handle_probe(server *s, request *r, response *out);
/* The answer for a guard refusal (403 or 429, Retry-After into retry). */
void server_refuse(response *out, const guard_decision *d, char *retry, size_t max);
/* handlers_guard.c: /v1/alerts, /v1/violations, /v1/guard/... (false: not its route) */
bool handle_guard(server *s, request *r, response *out);
bool handle_watch(server *s, request *r, response *out);
void response_error(response *out, err code, const char *message);
void response_json(response *out, int status, json_t *body);
/* handlers_training.c: /v1/training/... (false: not its route) */
bool handle_training(server *s, request *r, response *out);
/* handlers_phish.c: /v1/phish/... (false: not its route); /t/... without a session */
bool handle_phish(server *s, request *r, response *out);
bool handle_phish_track(server *s, request *r, response *out);
/* The thread that sends the simulation mail falling due (once a second). */
void phish_sender_start(server *s);
void phish_sender_stop(void);
/* handlers_training.c: the reminder timer, a thread that sends the training reminders due
 * every training.json "remind_every" seconds (when an SMTP server is configured). */
MUST_USE err training_timer_start(server *s);
void training_timer_stop(void);
/* handlers_audit.c: /v1/audit/<sub> */
void handle_audit(server *s, request *r, response *out, const char *sub);

#endif
