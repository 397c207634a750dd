/*
 * server.c - the HTTPS daemon: TLS 1.2+, a thread pool sized to the machine,
 * bounded bodies, timeouts, security headers, JSON errors, and a shutdown that
 * drains in-flight requests (every write is committed before its answer is
 * queued, so no acknowledged write can be lost).
 *
 * The server accepts on its own socket and keeps a table of its connections,
 * by descriptor: waiting (no request yet: TLS handshake and headers), active
 * (a request in progress) or idle (keep-alive, between requests). Waiting and
 * idle connections are in one list, oldest first: each may wait
 * SERVER_WAIT_TIMEOUT_S in all, and near the connection limit the oldest is
 * shed for every new one, so connections that send nothing cannot crowd out
 * those that do. A connection is closed from outside its worker thread with
 * shutdown(2) only, under the table's lock, and its slot is freed in the
 * daemon's CLOSED notification, which comes before the descriptor is closed:
 * a descriptor number is never shut down after it was reused. A request whose
 * connection is being closed is refused before it starts, so a stop or a shed
 * never cuts a request that did something.
 *
 * The client of a request is its peer, or, when the peer is a trusted proxy
 * (custos.json server.trusted_proxies), the client its forwarding header names
 * (core/forwarded.h); that address is what the guard admits and the audit log
 * records.
 *
 * libmicrohttpd calls the access handler several times per request: the first
 * call only sets up the request, upload calls append to the bounded body, and
 * the last call (never the first) runs the handler and queues the answer;
 * queuing in the first call would make libmicrohttpd close keep-alive
 * connections.
 */
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/file.h"
#include "core/forwarded.h"
#include "core/log.h"
#include "core/mem.h"

static server *g_srv;

static char *read_file(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *p = calloc(1, max + 1);
    size_t n = p ? fread(p, 1, max, f) : 0;
    fclose(f);
    if (p && n == 0) {
        free(p);
        return NULL;
    }
    return p;
}

static void add_security_headers(struct MHD_Response *resp, const response *out)
{
    MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cache-Control",
                            out->cache_control ? out->cache_control : "no-store");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            out->csp ? out->csp : "default-src 'none'; frame-ancestors 'none'");
}

static enum MHD_Result queue(request *r, response *out)
{
    struct MHD_Response *resp = out->raw;
    int status = out->status ? out->status : 500;
    if (!resp) {
        char *body = NULL;
        if (out->json) {
            body = json_dumps(out->json, JSON_COMPACT);
            json_decref(out->json);
            out->json = NULL;
        }
        size_t n = body ? strlen(body) : 0;
        /* JSON answers hold personal values: wiped when libmicrohttpd is done with them. */
        resp = body ? MHD_create_response_from_buffer_with_free_callback(n, body, mem_free_wiped)
                    : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp) {
            mem_free_wiped(body);
            return MHD_NO;
        }
        MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
    }
    add_security_headers(resp, out);
    if (atomic_load(&g_srv->draining)) {
        /* Shutting down: this connection's last answer (keep-alive ends here). */
        MHD_add_response_header(resp, "Connection", "close");
    }
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    if (out->retry_after) {
        MHD_add_response_header(resp, "Retry-After", out->retry_after);
    }
    if (out->set_cookie[0]) {
        MHD_add_response_header(resp, "Set-Cookie", out->set_cookie);
    }
    if (out->etag[0]) {
        MHD_add_response_header(resp, "ETag", out->etag);
    }
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    unsigned cls = (unsigned)status / 100;
    if (cls >= 1 && cls <= 5) {
        atomic_fetch_add(&g_srv->m.requests[cls], 1);
    }
    if (status == 403) {
        atomic_fetch_add(&g_srv->m.denied, 1);
    }
    if (status == 503) {
        atomic_fetch_add(&g_srv->m.audit_failures, 1);
    }
    return ret;
}

/* ---- addresses: the peer, and the client behind trusted proxies ---- */

static bool sockaddr_to16(const struct sockaddr *sa, uint8_t out[16])
{
    guard_addr a;
    if (!sa || guard_addr_from_sockaddr(sa, &a) != ERR_OK) {
        return false;
    }
    memcpy(out, a.b, 16); /* the same layout: IPv4 as ::ffff:a.b.c.d */
    return true;
}

static bool peer_of(struct MHD_Connection *c, uint8_t out[16])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return ci && sockaddr_to16(ci->client_addr, out);
}

static bool is_trusted_proxy(server *s, const uint8_t a[16])
{
    return vault_cfg(s->v)->ntrusted_proxies &&
           fwd_trusted(vault_cfg(s->v)->trusted_proxies, vault_cfg(s->v)->ntrusted_proxies, a);
}

typedef struct fwd_values {
    const char *name;
    const char *v[32];
    size_t n;
} fwd_values;

static enum MHD_Result collect_fwd(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    fwd_values *fv = cls;
    if (key && value && strcasecmp(key, fv->name) == 0) {
        if (fv->n == sizeof fv->v / sizeof fv->v[0]) {
            /* keep the rightmost values: they are the ones read */
            memmove(fv->v, fv->v + 1, (fv->n - 1) * sizeof fv->v[0]);
            fv->n--;
        }
        fv->v[fv->n++] = value;
    }
    return MHD_YES;
}

/* The request's client: the peer, or, when the peer is a trusted proxy, the rightmost hop of
 * its forwarding header that is not a trusted proxy. Fills r->source and r->client. */
static void resolve_client(server *s, request *r)
{
    uint8_t a[16];
    snprintf(r->source, sizeof r->source, "-");
    if (!peer_of(r->conn, a)) {
        return;
    }
    if (is_trusted_proxy(s, a)) {
        fwd_values fv = {.name = vault_cfg(s->v)->forwarded_header == FWD_FORWARDED
                                     ? "Forwarded"
                                     : "X-Forwarded-For"};
        MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_fwd, &fv);
        uint8_t client[16];
        fwd_client((fwd_header)vault_cfg(s->v)->forwarded_header, fv.v, fv.n,
                   vault_cfg(s->v)->trusted_proxies, vault_cfg(s->v)->ntrusted_proxies, a, client);
        r->via_proxy = memcmp(client, a, 16) != 0;
        memcpy(a, client, 16);
    }
    memcpy(r->client.b, a, 16);
    r->client_ok = true;
    guard_addr_format(&r->client, r->source);
}

/* ---- the guard at the door: connections and admission ---- */

static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
    server *s = cls;
    guard_addr a;
    if (!vault_guard(s->v) || guard_addr_from_sockaddr(sa, &a) != ERR_OK) {
        return MHD_YES;
    }
    /* A trusted proxy carries many clients: its connections are not counted per address
     * (each request is admitted by its client's address instead). */
    if (is_trusted_proxy(s, a.b)) {
        return MHD_YES;
    }
    /* A blocked address or one over its connection limit is dropped before TLS. */
    if (guard_conn_open(vault_guard(s->v), &a, clock_now_us(), NULL) != GUARD_ADMIT) {
        atomic_fetch_add(&s->m.refused_connections, 1);
        return MHD_NO;
    }
    return MHD_YES;
}

/* ---- the connection table (server.h) ---- */

enum { CS_FREE, CS_ACCEPTED, CS_WAITING, CS_ACTIVE, CS_IDLE, CS_CLOSING };

static int conn_fd(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

static conn_slot *slot_of(conntab *t, int fd)
{
    return fd >= 0 && fd < t->cap ? &t->s[fd] : NULL;
}

static void idle_unlink(conntab *t, int fd)
{
    conn_slot *x = &t->s[fd];
    if (x->prev >= 0) {
        t->s[x->prev].next = x->next;
    } else if (t->head == fd) {
        t->head = x->next;
    }
    if (x->next >= 0) {
        t->s[x->next].prev = x->prev;
    } else if (t->tail == fd) {
        t->tail = x->prev;
    }
    x->prev = x->next = -1;
}

static void idle_append(conntab *t, int fd)
{
    conn_slot *x = &t->s[fd];
    x->prev = t->tail;
    x->next = -1;
    if (t->tail >= 0) {
        t->s[t->tail].next = fd;
    } else {
        t->head = fd;
    }
    t->tail = fd;
}

static bool in_idle_list(const conn_slot *x)
{
    return x->state == CS_ACCEPTED || x->state == CS_WAITING || x->state == CS_IDLE;
}

/* Under mu: closes one waiting or idle connection (how: SHUT_RDWR or SHUT_WR). The worker
 * thread that owns it sees the shutdown and closes it; the socket stays open until the
 * CLOSED notification has freed the slot, so the descriptor cannot be reused meanwhile. */
static void conn_shut(conntab *t, int fd, int how)
{
    conn_slot *x = &t->s[fd];
    idle_unlink(t, fd);
    x->state = CS_CLOSING;
    t->closing++;
    shutdown(fd, how);
}

/* Under mu: sheds up to n of the longest-waiting connections; returns how many. */
static unsigned shed_locked(server *s, unsigned n)
{
    conntab *t = &s->ct;
    unsigned done = 0;
    for (int fd = t->head; fd >= 0 && done < n;) {
        int next = t->s[fd].next;
        if (t->s[fd].state != CS_ACCEPTED) {
            conn_shut(t, fd, SHUT_RDWR);
            done++;
        }
        fd = next;
    }
    atomic_fetch_add(&s->m.shed_connections, done);
    return done;
}

/* Under mu: closes connections that waited too long for a (next) request. An accepted socket
 * the daemon never took up (it refused it) is forgotten. */
static void expire_locked(server *s, int64_t now)
{
    conntab *t = &s->ct;
    int64_t limit = now - (int64_t)SERVER_WAIT_TIMEOUT_S * 1000000;
    while (t->head >= 0 && t->s[t->head].since_us <= limit) {
        int fd = t->head;
        if (t->s[fd].state == CS_ACCEPTED) {
            idle_unlink(t, fd);
            t->s[fd].state = CS_FREE;
            t->open--;
        } else {
            conn_shut(t, fd, SHUT_RDWR);
            atomic_fetch_add(&s->m.expired_connections, 1);
        }
    }
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    server *s = cls;
    if (s->ct.s) {
        int fd = conn_fd(conn);
        conntab *t = &s->ct;
        pthread_mutex_lock(&t->mu);
        conn_slot *x = slot_of(t, fd);
        if (x && toe == MHD_CONNECTION_NOTIFY_STARTED) {
            if (x->state == CS_FREE) {
                t->open++;
            } else if (in_idle_list(x)) {
                idle_unlink(t, fd);
            }
            x->state = CS_WAITING;
            x->since_us = clock_mono_us();
            idle_append(t, fd);
        } else if (x && toe == MHD_CONNECTION_NOTIFY_CLOSED && x->state != CS_FREE) {
            if (in_idle_list(x)) {
                idle_unlink(t, fd);
            }
            t->closing -= x->state == CS_CLOSING;
            t->active -= x->state == CS_ACTIVE;
            t->open--;
            x->state = CS_FREE;
            pthread_cond_broadcast(&t->cv);
        }
        pthread_mutex_unlock(&t->mu);
    }
    guard_addr a;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED && vault_guard(s->v) && ci && ci->client_addr &&
        guard_addr_from_sockaddr(ci->client_addr, &a) == ERR_OK && !is_trusted_proxy(s, a.b)) {
        guard_conn_close(vault_guard(s->v), &a);
    }
}

/* A request's headers are in: the connection is busy. False when it is being closed (shed
 * or drained): the request is not started, so nothing it asked for can have happened. */
static bool conn_begin(server *s, struct MHD_Connection *conn)
{
    if (!s->ct.s) {
        return true;
    }
    conntab *t = &s->ct;
    int fd = conn_fd(conn);
    bool ok = true;
    pthread_mutex_lock(&t->mu);
    conn_slot *x = slot_of(t, fd);
    if (x && x->state == CS_CLOSING) {
        ok = false;
    } else if (x && x->state != CS_FREE && x->state != CS_ACTIVE) {
        idle_unlink(t, fd);
        x->state = CS_ACTIVE;
        t->active++;
    }
    pthread_mutex_unlock(&t->mu);
    return ok;
}

/* The answer is sent: the connection waits for its next request. */
static void conn_end(server *s, struct MHD_Connection *conn)
{
    if (!s->ct.s) {
        return;
    }
    conntab *t = &s->ct;
    int fd = conn_fd(conn);
    pthread_mutex_lock(&t->mu);
    conn_slot *x = slot_of(t, fd);
    if (x && x->state == CS_ACTIVE) {
        t->active--;
        x->state = CS_IDLE;
        x->since_us = clock_mono_us();
        idle_append(t, fd);
        pthread_cond_broadcast(&t->cv);
    }
    pthread_mutex_unlock(&t->mu);
}

/* 403 or 429 with Retry-After, before any parsing or authentication. */
static bool refused_by_guard(server *s, request *r, response *out)
{
    if (!vault_guard(s->v) || !r->client_ok) {
        return false;
    }
    guard_decision d;
    if (guard_admit(vault_guard(s->v), &r->client, clock_now_us(), &d) == GUARD_ADMIT) {
        return false;
    }
    server_refuse(out, &d, r->retry_after, sizeof r->retry_after);
    return true;
}

void server_refuse(response *out, const guard_decision *d, char *retry, size_t max)
{
    if (d->verdict == GUARD_BLOCK) {
        response_error(out, ERR_DENIED, "refused by the guard");
    } else {
        response_error(out, ERR_RATE, "too many requests: slow down");
    }
    if (d->retry_after_s > 0) {
        snprintf(retry, max, "%u", d->retry_after_s);
        out->retry_after = retry;
    }
}

/* One REQUEST event for requests the door did not report itself (scanners: unknown
 * routes, malformed or oversized requests). */
static void observe_request(server *s, request *r, const response *out, int status)
{
    if (door_observed_take() || !vault_guard(s->v)) {
        return;
    }
    const char *msg = NULL;
    if (out->json) {
        msg = json_string_value(json_object_get(json_object_get(out->json, "error"), "message"));
    }
    guard_event ev = {
        .kind = GUARD_EV_REQUEST,
        .username = r->authed ? r->who.username : "",
        .role = r->authed && r->who.role != ROLE__COUNT ? role_name(r->who.role) : "",
        .department = r->authed ? r->who.department : "",
        .source = r->source,
        .audit_index = -1,
        .route_known = !(status == 404 && msg && strcmp(msg, "no such route") == 0),
        .malformed = status == 400,
        .oversized = status == 413,
        .status = status,
    };
    guard_observe(vault_guard(s->v), &ev);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **ctx)
{
    server *s = cls;
    request *r = *ctx;
    if (!r) {
        if (!conn_begin(s, conn)) {
            return MHD_NO; /* closed while its request arrived: not started */
        }
        r = calloc(1, sizeof *r);
        if (!r) {
            return MHD_NO;
        }
        r->conn = conn;
        r->method = method;
        r->url = url;
        r->start_us = clock_mono_us();
        buf_init(&r->body, BODY_LIMIT);
        char rid[16];
        uint8_t raw[9];
        rand_bytes(raw, sizeof raw);
        b64url_encode(rid, sizeof rid, raw, sizeof raw);
        snprintf(r->request_id, sizeof r->request_id, "req_%s", rid);
        resolve_client(s, r);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > BODY_LIMIT) {
            r->too_large = true;
        }
        atomic_fetch_add(&s->m.inflight, 1);
        *ctx = r;
        response early = {0};
        if (refused_by_guard(s, r, &early)) {
            r->refused = true;
            atomic_fetch_add(&s->m.refused_requests, 1);
            return queue(r, &early);
        }
        return MHD_YES;
    }
    if (r->refused) {
        *upload_data_size = 0; /* a refused client's body is not read */
        return MHD_YES;
    }
    if (*upload_data_size > 0 && strncmp(r->url, "/t/", 3) == 0) {
        /* a landing page's form: what was typed is never kept, only that something was */
        r->discarded += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!r->too_large && buf_append(&r->body, upload_data, *upload_data_size) != ERR_OK) {
            r->too_large = true;
            buf_free(&r->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    response out = {0};
    door_observed_take();
    if (r->too_large) {
        response_error(&out, ERR_TOO_LARGE, "request body too large");
    } else {
        err_clear();
        handle_request(s, r, &out);
    }
    observe_request(s, r, &out, out.status ? out.status : 500);
    return queue(r, &out);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
                         enum MHD_RequestTerminationCode toe)
{
    server *s = cls;
    request *r = *ctx;
    if (!r) {
        return;
    }
    atomic_fetch_add(&s->m.duration_us, (unsigned long long)(clock_mono_us() - r->start_us));
    mem_wipe(r->token, sizeof r->token);
    buf_free(&r->body);
    free(r);
    *ctx = NULL;
    atomic_fetch_sub(&s->m.inflight, 1);
    conn_end(s, conn);
}

static err parse_listen(const char *listen, struct sockaddr_storage *ss, int *family)
{
    memset(ss, 0, sizeof *ss);
    char host[128];
    const char *colon = strrchr(listen, ':');
    ENSURE(colon && colon != listen, ERR_INPUT, "--listen must be HOST:PORT");
    size_t hl = (size_t)(colon - listen);
    ENSURE(hl < sizeof host, ERR_INPUT, "--listen host too long");
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    ENSURE(*end == '\0' && port >= 0 && port <= 65535, ERR_INPUT, "bad port in --listen");
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        ENSURE(inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1, ERR_INPUT, "bad IPv6 address");
        *family = AF_INET6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        if (strcmp(host, "localhost") == 0) {
            snprintf(host, sizeof host, "127.0.0.1");
        }
        ENSURE(inet_pton(AF_INET, host, &a4->sin_addr) == 1, ERR_INPUT, "bad IPv4 address");
        *family = AF_INET;
    }
    return ERR_OK;
}

/* ---- the listener: our own socket and accept thread ----
 *
 * The daemon gets every connection through MHD_add_connection and never sees a listening
 * socket, so stopping to accept is closing our socket (no MHD_quiesce_daemon, whose
 * removal of the listening socket from the workers' epoll sets races with the workers'
 * own), and the connection limit and shedding are decided here, before any TLS work. */

static err listen_socket(const struct sockaddr_storage *ss, int family, int *out)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ENSURE(fd >= 0, ERR_IO, "cannot create a socket: %s", strerror(errno));
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    }
    socklen_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        BAIL(ERR_IO, "cannot listen: %s", strerror(e));
    }
    *out = fd;
    return ERR_OK;
}

static unsigned bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        return 0;
    }
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

/* One accepted socket: shed an idle connection when near the limit, refuse at the limit,
 * then hand it to the daemon (whose accept policy asks the guard). */
static void admit_socket(server *s, int fd, const struct sockaddr_storage *ss, socklen_t sl)
{
    conntab *t = &s->ct;
    pthread_mutex_lock(&t->mu);
    conn_slot *x = slot_of(t, fd);
    bool take = x != NULL;
    if (take && t->open - t->closing >= s->limit / 8 * SERVER_SHED_EIGHTHS) {
        shed_locked(s, 1);
    }
    if (take && t->open - t->closing >= s->limit) {
        take = false;
    }
    if (take) {
        if (x->state != CS_FREE) { /* a socket the daemon refused and closed unseen */
            if (in_idle_list(x)) {
                idle_unlink(t, fd);
            }
            t->open--;
        }
        x->state = CS_ACCEPTED;
        x->since_us = clock_mono_us();
        t->open++;
        idle_append(t, fd);
    }
    pthread_mutex_unlock(&t->mu);
    if (!take) {
        atomic_fetch_add(&s->m.limit_connections, 1);
        close(fd);
        return;
    }
    if (MHD_add_connection(s->d, fd, (const struct sockaddr *)ss, sl) != MHD_YES) {
        /* closed by the daemon (refused by the guard, or out of memory) */
        pthread_mutex_lock(&t->mu);
        if (x->state == CS_ACCEPTED) {
            idle_unlink(t, fd);
            x->state = CS_FREE;
            t->open--;
        }
        pthread_mutex_unlock(&t->mu);
    }
}

static void *accept_main(void *arg)
{
    server *s = arg;
    struct pollfd p[2] = {{.fd = s->listen_fd, .events = POLLIN},
                          {.fd = s->wake[0], .events = POLLIN}};
    int backoff_ms = 0;
    while (!atomic_load(&s->stopping)) {
        int n = poll(p, 2, backoff_ms ? backoff_ms : 250);
        backoff_ms = 0;
        pthread_mutex_lock(&s->ct.mu);
        expire_locked(s, clock_mono_us());
        pthread_mutex_unlock(&s->ct.mu);
        if (n <= 0 || !(p[0].revents & POLLIN) || atomic_load(&s->stopping)) {
            continue;
        }
        for (int k = 0; k < 256; k++) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            int fd =
                accept4(s->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                    /* out of descriptors: make room, and do not spin meanwhile */
                    pthread_mutex_lock(&s->ct.mu);
                    shed_locked(s, 8);
                    pthread_mutex_unlock(&s->ct.mu);
                    backoff_ms = 10;
                }
                break;
            }
            admit_socket(s, fd, &ss, sl);
        }
    }
    return NULL;
}

/* Stops accepting: the listening socket is closed (new connections are refused by the
 * kernel from now on). */
static void acceptor_stop(server *s)
{
    atomic_store(&s->stopping, true);
    char c = 1;
    if (write(s->wake[1], &c, 1) < 0) {
        /* the acceptor wakes within 250 ms anyway */
    }
    pthread_join(s->acceptor, NULL);
    close(s->listen_fd);
    s->listen_fd = -1;
}

/* Every keep-alive and waiting connection is closed, each in-flight request finishes and its
 * answer ends its connection (Connection: close); returns as soon as no connection is left,
 * or after SERVER_DRAIN_CAP_S. Idle keep-alive connections get a FIN (after everything
 * already sent) so a client that sends one more request sees the connection end; any that
 * linger once nothing is in flight are cut. */
static void drain(server *s)
{
    conntab *t = &s->ct;
    int64_t start = clock_mono_us(), quiet_since = 0;
    pthread_mutex_lock(&t->mu);
    while (t->open > 0 && clock_mono_us() - start < (int64_t)SERVER_DRAIN_CAP_S * 1000000) {
        for (int fd = t->head; fd >= 0;) {
            int next = t->s[fd].next;
            if (t->s[fd].state == CS_WAITING) {
                conn_shut(t, fd, SHUT_RDWR);
            } else if (t->s[fd].state == CS_IDLE) {
                conn_shut(t, fd, SHUT_WR);
            }
            fd = next;
        }
        int64_t now = clock_mono_us();
        if (t->active == 0) {
            quiet_since = quiet_since ? quiet_since : now;
            if (now - quiet_since > 1000000) {
                break; /* nothing in flight for a second: the rest are clients that linger */
            }
        } else {
            quiet_since = 0;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&t->cv, &t->mu, &ts);
    }
    unsigned left = t->open, busy = t->active;
    pthread_mutex_unlock(&t->mu);
    if (busy) {
        log_warn("server.drain", "%u request(s) still in flight after %d s: cut", busy,
                 SERVER_DRAIN_CAP_S);
    } else if (left) {
        log_info("server.drain", "%u idle connection(s) closed", left);
    }
}

/* ---- readiness: a monitor thread, so probes are cheap and cannot be used to load the
 * audit log ---- */

static void readiness_refresh(server *s, bool alert)
{
    door_ready r;
    door_readiness(s->v, &r);
    bool was = atomic_exchange(&s->ready, r.ready);
    atomic_store(&s->ready_audit, r.audit_ok);
    atomic_store(&s->ready_disk, r.disk_ok);
    atomic_store(&s->free_bytes, r.free_bytes);
    if (was && !r.ready) {
        atomic_fetch_add(&s->m.not_ready_total, 1);
        log_error("server.not_ready", "not ready:%s%s (free %llu MiB, needs %llu MiB)",
                  r.audit_ok ? "" : " the audit log cannot be written",
                  r.disk_ok ? "" : " free space is below what the write-ahead logs need",
                  (unsigned long long)(r.free_bytes >> 20), (unsigned long long)(r.min_free >> 20));
        if (alert) {
            door_readiness_alert(s->v, &r);
        }
    } else if (!was && r.ready) {
        log_info("server.ready", "ready again");
    }
}

static void *monitor_main(void *arg)
{
    server *s = arg;
    pthread_mutex_lock(&s->mon_mu);
    while (!s->mon_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->mon_cv, &s->mon_mu, &ts);
        if (s->mon_stop) {
            break;
        }
        pthread_mutex_unlock(&s->mon_mu);
        readiness_refresh(s, true);
        pthread_mutex_lock(&s->mon_mu);
    }
    pthread_mutex_unlock(&s->mon_mu);
    return NULL;
}

/* ---- the metrics listener (plain HTTP, loopback only) ---- */

static enum MHD_Result on_probe_request(void *cls, struct MHD_Connection *conn, const char *url,
                                        const char *method, const char *version,
                                        const char *upload_data, size_t *upload_data_size,
                                        void **ctx)
{
    server *s = cls;
    if (!*ctx) {
        *ctx = (void *)1;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    request r;
    memset(&r, 0, sizeof r);
    r.conn = conn;
    r.method = method;
    r.url = url;
    r.probe_only = true;
    snprintf(r.request_id, sizeof r.request_id, "req_metrics");
    snprintf(r.source, sizeof r.source, "local");
    response out = {0};
    handle_probe(s, &r, &out);
    return queue(&r, &out);
}

static bool loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    }
    return ss->ss_family == AF_INET6 &&
           IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static err metrics_start(server *s, const char *listen, struct MHD_Daemon **out, unsigned *port)
{
    struct sockaddr_storage ss;
    int family;
    TRY(parse_listen(listen, &ss, &family));
    ENSURE(loopback(&ss), ERR_INPUT,
           "--metrics-listen must be a loopback address (127.0.0.0/8 or [::1]); to scrape "
           "over the network use the metrics token on the HTTPS listener");
    *out = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
                                (family == AF_INET6 ? MHD_USE_IPv6 : 0),
                            0, NULL, NULL, &on_probe_request, s, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)SERVER_WAIT_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)32, MHD_OPTION_END);
    ENSURE(*out != NULL, ERR_IO, "cannot listen on %s for metrics (address in use?)", listen);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(*out, MHD_DAEMON_INFO_BIND_PORT);
    *port = di ? di->port : 0;
    return ERR_OK;
}

static err conntab_init(conntab *t)
{
    memset(t, 0, sizeof *t);
    struct rlimit rl;
    int cap = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)cap) {
        cap = (int)rl.rlim_cur;
    }
    t->s = calloc((size_t)cap, sizeof *t->s);
    ENSURE(t->s != NULL, ERR_INTERNAL, "out of memory");
    for (int i = 0; i < cap; i++) {
        t->s[i].prev = t->s[i].next = -1;
    }
    t->cap = cap;
    t->head = t->tail = -1;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    return ERR_OK;
}

static void conntab_free(conntab *t)
{
    if (t->s) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        free(t->s);
        t->s = NULL;
    }
}

/* Raises the open-file limit to its hard maximum: every connection is a descriptor. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

err server_run(const server_opts *o, const vault_key *src)
{
    prctl(PR_SET_DUMPABLE, 0);
    raise_nofile();
    /* Signals are taken by sigwait below. Blocked before any thread starts (the audit
     * writer, the guard, the witness, the daemon's workers), so every thread inherits the
     * mask and a SIGTERM can never take a thread's default action and kill the process. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A full disk or a file-size limit must give refused requests, not a dead server. */
    signal(SIGXFSZ, SIG_IGN);
    struct sockaddr_storage ss;
    int family;
    TRY(parse_listen(o->listen, &ss, &family));
    server srv;
    memset(&srv, 0, sizeof srv);
    srv.started_us = clock_now_us();
    srv.listen_fd = -1;
    srv.wake[0] = srv.wake[1] = -1;
    pthread_mutex_init(&srv.mon_mu, NULL);
    pthread_cond_init(&srv.mon_cv, NULL);
    g_srv = &srv;
    vault_open_opts vo = {.accept_audit_anchor = o->accept_audit_anchor};
    err ve = vault_open_with(o->dir, src, &vo, &srv.v);
    if (o->key_used) {
        o->key_used(o->key_used_ctx); /* the master key is no longer needed in the clear */
    }
    TRY(ve);
    if (!vault_has_witness(srv.v)) {
        log_warn("audit.witness",
                 "no audit witness is configured (custos.json audit.witness_file, "
                 "witness_syslog or witness_webhook): a rollback of the whole vault folder "
                 "cannot be detected; configure one outside this folder");
    }
    if (clock_offset_us() != 0) {
        log_warn("clock.offset",
                 "the clock is shifted by %lld s (CUSTOS_CLOCK_OFFSET_S): for "
                 "tests only",
                 (long long)(clock_offset_us() / 1000000));
    }
    if (o->no_guard) {
        log_warn("guard.off", "the guard is OFF (--guard off): for measurement only, never in "
                              "production");
    } else if (door_guard_start(srv.v) != ERR_OK) {
        err ge = err_last();
        log_error("guard.start", "the guard did not start: %s", err_message());
        vault_close(srv.v);
        return ge;
    }
    if (vault_cfg(srv.v)->totp == VAULT_TOTP_OFF) {
        log_warn("access.second_factor",
                 "second factor is OFF (custos.json access.second_factor): demo use only");
    }
    char kp[PATH_MAX], cp[PATH_MAX];
    vault_path(srv.v, VAULT_TLS_KEY, kp, sizeof kp);
    vault_path(srv.v, VAULT_TLS_CERT, cp, sizeof cp);
    char *key = read_file(kp, 1 << 16), *cert = read_file(cp, 1 << 16);
    err rc = ERR_OK;
    struct MHD_Daemon *d = NULL, *md = NULL;
    bool accepting = false, monitoring = false;
    CHECK(key && cert, ERR_IO, "cannot read the TLS key or certificate in %s/tls", o->dir);
    /* Handlers block while their audit entry is made durable (group commit): many threads
     * per core let many requests share one fsync instead of queueing behind it. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = o->threads ? o->threads : (unsigned)(cores > 0 ? cores * 8 : 8);
    if (threads > 64) {
        threads = 64;
    }
    if (threads < 1) {
        threads = 1;
    }
    srv.limit = o->max_connections ? o->max_connections : SERVER_MAX_CONNECTIONS;
    GUARD(conntab_init(&srv.ct));
    if (srv.limit + 64 > (unsigned)srv.ct.cap) {
        srv.limit = srv.ct.cap > 128 ? (unsigned)srv.ct.cap - 64 : 64;
        log_warn("server.limit", "open-file limit: at most %u connections", srv.limit);
    }
    GUARD(listen_socket(&ss, family, &srv.listen_fd));
    CHECK(pipe2(srv.wake, O_CLOEXEC | O_NONBLOCK) == 0, ERR_IO, "cannot create a pipe");
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;
    /* The daemon's own limit is per worker thread (its share of the total); ours, enforced
     * at accept, is the real one, so the daemon's never refuses what we took. */
    d = MHD_start_daemon(
        flags, 0, &on_accept, &srv, &on_request, &srv, MHD_OPTION_NOTIFY_CONNECTION, &on_connection,
        &srv, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert,
        MHD_OPTION_HTTPS_PRIORITIES,
        /* TLS 1.2+, AEAD ciphers, forward secrecy only. */
        "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-AES-128-CBC:-AES-256-CBC:-CAMELLIA-128-CBC:"
        "-CAMELLIA-256-CBC:-SHA1:-RSA:-DHE-RSA:%SERVER_PRECEDENCE",
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_LIMIT, (srv.limit + 64) * threads, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)512, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, &on_completed, &srv, MHD_OPTION_END);
    CHECK(d != NULL, ERR_IO, "cannot start the HTTPS daemon");
    srv.d = d;
    unsigned port = bound_port(srv.listen_fd), mport = 0;
    if (o->metrics_listen) {
        GUARD(metrics_start(&srv, o->metrics_listen, &md, &mport));
    }
    /* Readiness is known before the first request; then kept fresh by the monitor. */
    atomic_store(&srv.ready, true);
    readiness_refresh(&srv, false);
    CHECK(pthread_create(&srv.monitor, NULL, monitor_main, &srv) == 0, ERR_INTERNAL,
          "cannot start a thread");
    monitoring = true;
    phish_sender_start(&srv);
    GUARD(training_timer_start(&srv));
    CHECK(pthread_create(&srv.acceptor, NULL, accept_main, &srv) == 0, ERR_INTERNAL,
          "cannot start a thread");
    accepting = true;
    if (o->port_file) {
        char text[32]; /* the metrics listener's port on the second line */
        int tn = md ? snprintf(text, sizeof text, "%u\n%u\n", port, mport)
                    : snprintf(text, sizeof text, "%u\n", port);
        GUARD(file_write_atomic(o->port_file, slice_of(text, (size_t)tn), false));
    }
    log_info("server.listening",
             "listening on https://%s (port %u, %u threads, at most %u connections)", o->listen,
             port, threads, srv.limit);
    if (md) {
        log_info("server.metrics", "metrics on http://%s (port %u)", o->metrics_listen, mport);
    }
    for (;;) {
        int sig = 0;
        sigwait(&set, &sig);
        if (sig == SIGHUP) {
            log_info("server.sighup", "reloading the keyring and the access policy");
            if (door_keyring_reload(srv.v) != ERR_OK) {
                log_error("server.sighup", "keyring reload failed: %s", err_message());
            }
            /* The operator is the actor; the reload is audited with its diff. */
            actor sighup_actor;
            actor_system(&sighup_actor, "sighup");
            sighup_actor.role = ROLE_SECURITY;
            json_t *res = NULL;
            if (door_policy_reload(srv.v, &sighup_actor, &res) != ERR_OK) {
                log_error("server.sighup", "policy not reloaded: %s", err_message());
            }
            json_decref(res);
            continue;
        }
        log_info("server.stopping", "signal %d: no new connections; draining in-flight requests",
                 sig);
        break;
    }
    /* New connections are refused at once; answers from now on end their connection. */
    atomic_store(&srv.draining, true);
    acceptor_stop(&srv);
    accepting = false;
    drain(&srv);
out:
    if (accepting) {
        acceptor_stop(&srv);
    }
    if (md) {
        MHD_stop_daemon(md);
    }
    if (d) {
        MHD_stop_daemon(d);
    }
    phish_sender_stop();
    training_timer_stop();
    if (monitoring) {
        pthread_mutex_lock(&srv.mon_mu);
        srv.mon_stop = true;
        pthread_cond_signal(&srv.mon_cv);
        pthread_mutex_unlock(&srv.mon_mu);
        pthread_join(srv.monitor, NULL);
    }
    if (srv.listen_fd >= 0) {
        close(srv.listen_fd);
    }
    for (int i = 0; i < 2; i++) {
        if (srv.wake[i] >= 0) {
            close(srv.wake[i]);
        }
    }
    conntab_free(&srv.ct);
    door_guard_stop(srv.v);
    if (key) {
        mem_wipe(key, strlen(key));
    }
    free(key);
    free(cert);
    vault_close(srv.v);
    pthread_mutex_destroy(&srv.mon_mu);
    pthread_cond_destroy(&srv.mon_cv);
    if (rc == ERR_OK) {
        log_info("server.stopped", "stopped cleanly");
    }
    return rc;
}
