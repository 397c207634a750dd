/*
 * server.c - the HTTPS daemon: TLS 1.2+, a thread pool sized to the machine,
 * bounded bodies, timeouts, security headers, JSON errors, and a shutdown that
 * drains in-flight requests (every write is committed before its answer is
 * queued, so no acknowledged write can be lost).
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
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
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

static void add_security_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; frame-ancestors 'none'");
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
    add_security_headers(resp);
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

static void client_address(struct MHD_Connection *c, char *out, size_t max)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, max, "-");
    if (!ci || !ci->client_addr) {
        return;
    }
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)max);
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)max);
    }
}

/* ---- the guard at the door: connections and admission ---- */

static bool conn_addr(struct MHD_Connection *c, guard_addr *a)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return ci && ci->client_addr && guard_addr_from_sockaddr(ci->client_addr, a) == ERR_OK;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
    server *s = cls;
    guard_addr a;
    if (!s->v->guard || guard_addr_from_sockaddr(sa, &a) != ERR_OK) {
        return MHD_YES;
    }
    /* A blocked address or one over its connection limit is dropped before TLS. */
    if (guard_conn_open(s->v->guard, &a, clock_now_us(), NULL) != GUARD_ADMIT) {
        atomic_fetch_add(&s->m.refused_connections, 1);
        return MHD_NO;
    }
    return MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    server *s = cls;
    guard_addr a;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED && s->v->guard && conn_addr(conn, &a)) {
        guard_conn_close(s->v->guard, &a);
    }
}

/* 403 or 429 with Retry-After, before any parsing or authentication. */
static bool refused_by_guard(server *s, request *r, response *out)
{
    guard_addr a;
    if (!s->v->guard || !conn_addr(r->conn, &a)) {
        return false;
    }
    guard_decision d;
    if (guard_admit(s->v->guard, &a, clock_now_us(), &d) == GUARD_ADMIT) {
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
    if (door_observed_take() || !s->v->guard) {
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
    guard_observe(s->v->guard, &ev);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size, void **ctx)
{
    server *s = cls;
    request *r = *ctx;
    if (!r) {
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
        client_address(conn, r->source, sizeof r->source);
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

err server_run(const server_opts *o, const kek_source *src)
{
    prctl(PR_SET_DUMPABLE, 0);
    struct sockaddr_storage ss;
    int family;
    TRY(parse_listen(o->listen, &ss, &family));
    server srv;
    memset(&srv, 0, sizeof srv);
    srv.started_us = clock_now_us();
    g_srv = &srv;
    vault_open_opts vo = {.accept_audit_anchor = o->accept_audit_anchor};
    TRY(vault_open_with(o->dir, src, &vo, &srv.v));
    if (!vault_has_witness(srv.v)) {
        log_warn("audit.witness",
                 "no audit witness is configured (custos.json audit.witness_file, "
                 "witness_syslog or witness_webhook): a rollback of the whole vault folder "
                 "cannot be detected; configure one outside this folder");
    }
    if (clock_offset_us() != 0) {
        log_warn("clock.offset", "the clock is shifted by %lld s (CUSTOS_CLOCK_OFFSET_S): for "
                                 "tests only", (long long)(clock_offset_us() / 1000000));
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
    if (srv.v->cfg.totp == VAULT_TOTP_OFF) {
        log_warn("access.second_factor",
                 "second factor is OFF (custos.json access.second_factor): demo use only");
    }
    char kp[PATH_MAX], cp[PATH_MAX];
    vault_path(srv.v, VAULT_TLS_KEY, kp, sizeof kp);
    vault_path(srv.v, VAULT_TLS_CERT, cp, sizeof cp);
    char *key = read_file(kp, 1 << 16), *cert = read_file(cp, 1 << 16);
    err rc = ERR_OK;
    struct MHD_Daemon *d = NULL;
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
    /* Signals are taken by sigwait below; the pool threads inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A full disk or a file-size limit must give refused requests, not a dead server. */
    signal(SIGXFSZ, SIG_IGN);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (family == AF_INET6 ? MHD_USE_IPv6 : 0);
    d = MHD_start_daemon(
        flags, 0, &on_accept, &srv, &on_request, &srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_NOTIFY_CONNECTION, &on_connection, &srv,
        MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert,
        MHD_OPTION_HTTPS_PRIORITIES,
        /* TLS 1.2+, AEAD ciphers, forward secrecy only. */
        "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-AES-128-CBC:-AES-256-CBC:-CAMELLIA-128-CBC:"
        "-CAMELLIA-256-CBC:-SHA1:-RSA:-DHE-RSA:%SERVER_PRECEDENCE",
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)512, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, &on_completed, &srv, MHD_OPTION_END);
    CHECK(d != NULL, ERR_IO, "cannot listen on %s (address in use?)", o->listen);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : 0;
    if (o->port_file) {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s.tmp", o->port_file);
        FILE *f = fopen(tmp, "w");
        CHECK(f != NULL, ERR_IO, "cannot write the port file");
        fprintf(f, "%u\n", port);
        fclose(f);
        CHECK(rename(tmp, o->port_file) == 0, ERR_IO, "cannot write the port file");
    }
    log_info("server.listening", "listening on https://%s (port %u, %u threads)", o->listen, port,
             threads);
    for (;;) {
        int sig = 0;
        sigwait(&set, &sig);
        if (sig == SIGHUP) {
            log_info("server.sighup", "reloading the keyring and the access policy");
            if (keyring_reload(srv.v->kr) != ERR_OK) {
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
        log_info("server.stopping", "signal %d: draining in-flight requests", sig);
        break;
    }
    MHD_quiesce_daemon(d);
    for (int i = 0; i < 300 && atomic_load(&srv.m.inflight) > 0; i++) {
        usleep(100 * 1000);
    }
out:
    if (d) {
        MHD_stop_daemon(d);
    }
    door_guard_stop(srv.v);
    if (key) {
        mem_wipe(key, strlen(key));
    }
    free(key);
    free(cert);
    vault_close(srv.v);
    if (rc == ERR_OK) {
        log_info("server.stopped", "stopped cleanly");
    }
    return rc;
}
