/*
 * witness.c - checkpoint sinks and SIEM forwarding (see witness.h).
 */
#include "audit/witness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

struct witness {
    vault_config c;
    audit *a;
    pthread_t t;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t amu; /* held while the log is read for the SIEM */
    buf pending;         /* the latest note not yet delivered everywhere */
    int stop;
    int fd; /* UDP socket for syslog */
    uint64_t siem_next;
};

/* ---- config ---- */

static err copy_str(json_t *o, const char *key, char *out, size_t max)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        return ERR_OK;
    }
    ENSURE(json_is_string(v) && json_string_length(v) < max, ERR_INPUT,
           "custos.json: %s must be a string shorter than %zu bytes", key, max);
    snprintf(out, max, "%s", json_string_value(v));
    return ERR_OK;
}

/* ERR_INPUT naming the section when o has a key that is not in known. */
static err only_known(json_t *o, const char *const *known, size_t n, const char *section)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        bool ok = false;
        for (size_t i = 0; i < n; i++) {
            ok = ok || strcmp(k, known[i]) == 0;
        }
        ENSURE(ok, ERR_INPUT, "custos.json: unknown key in %s", section);
    }
    return ERR_OK;
}

static err number_in(json_t *o, const char *key, double lo, double hi, double *out)
{
    json_t *n = json_object_get(o, key);
    if (!n) {
        return ERR_OK;
    }
    ENSURE(json_is_number(n) && json_number_value(n) >= lo && json_number_value(n) <= hi, ERR_INPUT,
           "custos.json: access.%s must be a number from %g to %g", key, lo, hi);
    *out = json_number_value(n);
    return ERR_OK;
}

/* "access": {"second_factor": "customer-roles"|"all"|"off", "session_hours": 8,
 *            "session_idle_minutes": 30, "lockout_after": 5, "lockout_minutes": 1,
 *            "break_glass": "approval"|"self-service", "break_glass_self_minutes": 30} */
static err access_section(json_t *ac, vault_config *c)
{
    if (!ac) {
        return ERR_OK;
    }
    ENSURE(json_is_object(ac), ERR_INPUT, "custos.json: access must be an object");
    static const char *const known[] = {
        "second_factor",   "session_hours", "session_idle_minutes",    "lockout_after",
        "lockout_minutes", "break_glass",   "break_glass_self_minutes"};
    TRY(only_known(ac, known, sizeof known / sizeof known[0], "access"));
    json_t *sf = json_object_get(ac, "second_factor");
    if (sf) {
        const char *t = json_string_value(sf);
        ENSURE(t && (strcmp(t, "customer-roles") == 0 || strcmp(t, "all") == 0 ||
                     strcmp(t, "off") == 0),
               ERR_INPUT, "custos.json: access.second_factor must be customer-roles, all or off");
        c->totp = strcmp(t, "all") == 0   ? VAULT_TOTP_ALL
                  : strcmp(t, "off") == 0 ? VAULT_TOTP_OFF
                                          : VAULT_TOTP_CUSTOMER_ROLES;
    }
    double d = 0;
    TRY(number_in(ac, "session_hours", 0.001, 24 * 30, &d));
    c->session_us = (int64_t)(d * 3600e6);
    d = 0;
    TRY(number_in(ac, "session_idle_minutes", 0.01, 24 * 60, &d));
    c->session_idle_us = (int64_t)(d * 60e6);
    d = 0;
    TRY(number_in(ac, "lockout_after", 1, 1000, &d));
    c->lockout_after = (int)d;
    d = 0;
    TRY(number_in(ac, "lockout_minutes", 0.01, 24 * 60, &d));
    c->lockout_us = (int64_t)(d * 60e6);
    json_t *bg = json_object_get(ac, "break_glass");
    if (bg) {
        const char *t = json_string_value(bg);
        ENSURE(t && (strcmp(t, "approval") == 0 || strcmp(t, "self-service") == 0), ERR_INPUT,
               "custos.json: access.break_glass must be approval or self-service");
        c->breakglass_self = strcmp(t, "self-service") == 0;
    }
    d = 0;
    TRY(number_in(ac, "break_glass_self_minutes", 1, 60, &d));
    c->breakglass_self_us = (int64_t)(d * 60e6);
    return ERR_OK;
}

/* "server": {"trusted_proxies": ["10.0.0.0/8"], "forwarded_header": "x-forwarded-for",
 *            "metrics_token_sha256": "<64 hex>", "min_free_mb": 64} */
static err server_section(json_t *sv, vault_config *c)
{
    if (!sv) {
        return ERR_OK;
    }
    ENSURE(json_is_object(sv), ERR_INPUT, "custos.json: server must be an object");
    static const char *const known[] = {"trusted_proxies", "forwarded_header",
                                        "metrics_token_sha256", "min_free_mb"};
    TRY(only_known(sv, known, sizeof known / sizeof known[0], "server"));
    json_t *tp = json_object_get(sv, "trusted_proxies");
    if (tp) {
        ENSURE(json_is_array(tp) && json_array_size(tp) <= VAULT_PROXIES_MAX, ERR_INPUT,
               "custos.json: server.trusted_proxies must be a list of at most %d addresses or "
               "CIDR ranges",
               VAULT_PROXIES_MAX);
        size_t i;
        json_t *e;
        json_array_foreach(tp, i, e)
        {
            ENSURE(json_is_string(e) &&
                       net_range_parse(json_string_value(e), &c->trusted_proxies[i]) == ERR_OK,
                   ERR_INPUT, "custos.json: server.trusted_proxies[%zu] is not an address or CIDR",
                   i);
        }
        c->ntrusted_proxies = json_array_size(tp);
    }
    json_t *fh = json_object_get(sv, "forwarded_header");
    if (fh) {
        const char *t = json_string_value(fh);
        ENSURE(t && (strcmp(t, "x-forwarded-for") == 0 || strcmp(t, "forwarded") == 0), ERR_INPUT,
               "custos.json: server.forwarded_header must be x-forwarded-for or forwarded");
        c->forwarded_header = strcmp(t, "forwarded") == 0 ? 1 : 0;
    }
    json_t *mt = json_object_get(sv, "metrics_token_sha256");
    if (mt) {
        const char *t = json_string_value(mt);
        size_t n = 0;
        ENSURE(t && strlen(t) == 64 &&
                   hex_decode(c->metrics_token_sha256, 32, &n, t, 64) == ERR_OK && n == 32,
               ERR_INPUT, "custos.json: server.metrics_token_sha256 must be 64 hex digits");
        c->metrics_token_set = true;
    }
    json_t *mf = json_object_get(sv, "min_free_mb");
    if (mf) {
        ENSURE(json_is_integer(mf) && json_integer_value(mf) >= 1 &&
                   json_integer_value(mf) <= 1024 * 1024,
               ERR_INPUT, "custos.json: server.min_free_mb must be 1 to 1048576");
        c->min_free_bytes = (uint64_t)json_integer_value(mf) << 20;
    }
    return ERR_OK;
}

/* "erasures": {"journal": "/srv/custos-erasures/erasures.journal"} */
static err erasures_section(json_t *er, vault_config *c)
{
    if (!er) {
        return ERR_OK;
    }
    ENSURE(json_is_object(er), ERR_INPUT, "custos.json: erasures must be an object");
    static const char *const known[] = {"journal"};
    TRY(only_known(er, known, 1, "erasures"));
    json_t *j = json_object_get(er, "journal");
    if (j) {
        const char *p = json_string_value(j);
        ENSURE(p && p[0] == '/' && strlen(p) < sizeof c->erasure_journal, ERR_INPUT,
               "custos.json: erasures.journal must be an absolute path");
        snprintf(c->erasure_journal, sizeof c->erasure_journal, "%s", p);
    }
    return ERR_OK;
}

/* "retention": {"violations_days": 365, "closed_alerts_days": 365,
 *               "known_addresses_per_account": 256, "sessions_days": 30} */
static err retention_section(json_t *re, vault_config *c)
{
    if (!re) {
        return ERR_OK;
    }
    ENSURE(json_is_object(re), ERR_INPUT, "custos.json: retention must be an object");
    static const char *const known[] = {"violations_days", "closed_alerts_days", "sessions_days",
                                        "known_addresses_per_account"};
    TRY(only_known(re, known, sizeof known / sizeof known[0], "retention"));
    json_t *ka = json_object_get(re, "known_addresses_per_account");
    if (ka) {
        ENSURE(json_is_integer(ka) && json_integer_value(ka) >= 1 &&
                   json_integer_value(ka) <= 100000,
               ERR_INPUT, "custos.json: retention.known_addresses_per_account must be 1 to 100000");
        c->keep_addresses = (int64_t)json_integer_value(ka);
    }
    int64_t *slots[] = {&c->keep_violations_us, &c->keep_alerts_us, &c->keep_sessions_us};
    for (size_t i = 0; i < 3; i++) {
        json_t *n = json_object_get(re, known[i]);
        if (!n) {
            continue;
        }
        ENSURE(json_is_number(n) && json_number_value(n) >= 0.001 && json_number_value(n) <= 36500,
               ERR_INPUT, "custos.json: retention.%s must be a number of days from 0.001 to 36500",
               known[i]);
        *slots[i] = (int64_t)(json_number_value(n) * 86400e6);
    }
    return ERR_OK;
}

err vault_config_parse(slice text, vault_config *c)
{
    memset(c, 0, sizeof *c);
    json_error_t je;
    json_t *root = json_loadb((const char *)text.p, text.len, JSON_REJECT_DUPLICATES, &je);
    ENSURE(root != NULL, ERR_INPUT, "custos.json: invalid JSON at line %d", je.line);
    err rc = ERR_OK;
    CHECK(json_is_object(root), ERR_INPUT, "custos.json: must be an object");
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        CHECK(strcmp(k, "audit") == 0 || strcmp(k, "access") == 0 || strcmp(k, "erasures") == 0 ||
                  strcmp(k, "retention") == 0 || strcmp(k, "server") == 0,
              ERR_INPUT, "custos.json: unknown section");
    }
    json_t *au = json_object_get(root, "audit");
    if (au) {
        CHECK(json_is_object(au), ERR_INPUT, "custos.json: audit must be an object");
        static const char *const known[] = {
            "checkpoint_every", "checkpoint_seconds", "witness_file", "witness_syslog",
            "witness_webhook",  "webhook_cacert",     "siem_syslog"};
        GUARD(only_known(au, known, sizeof known / sizeof known[0], "audit"));
        json_t *n = json_object_get(au, "checkpoint_every");
        if (n) {
            CHECK(json_is_integer(n) && json_integer_value(n) >= 1 &&
                      json_integer_value(n) <= 10000000,
                  ERR_INPUT, "custos.json: checkpoint_every must be 1 to 10000000");
            c->checkpoint_every = (uint64_t)json_integer_value(n);
        }
        n = json_object_get(au, "checkpoint_seconds");
        if (n) {
            CHECK(json_is_number(n) && json_number_value(n) >= 0.05 &&
                      json_number_value(n) <= 86400,
                  ERR_INPUT, "custos.json: checkpoint_seconds must be 0.05 to 86400");
            c->checkpoint_us = (int64_t)(json_number_value(n) * 1e6);
        }
        GUARD(copy_str(au, "witness_file", c->witness_file, sizeof c->witness_file));
        GUARD(copy_str(au, "witness_syslog", c->witness_syslog, sizeof c->witness_syslog));
        GUARD(copy_str(au, "witness_webhook", c->witness_webhook, sizeof c->witness_webhook));
        GUARD(copy_str(au, "webhook_cacert", c->webhook_cacert, sizeof c->webhook_cacert));
        GUARD(copy_str(au, "siem_syslog", c->siem_syslog, sizeof c->siem_syslog));
        CHECK(c->witness_webhook[0] == '\0' || strncmp(c->witness_webhook, "https://", 8) == 0,
              ERR_INPUT, "custos.json: witness_webhook must be an https:// address");
    }
    GUARD(access_section(json_object_get(root, "access"), c));
    GUARD(erasures_section(json_object_get(root, "erasures"), c));
    GUARD(retention_section(json_object_get(root, "retention"), c));
    GUARD(server_section(json_object_get(root, "server"), c));
out:
    json_decref(root);
    return rc;
}

err vault_config_load(const char *dir, vault_config *c)
{
    memset(c, 0, sizeof *c);
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/custos.json", dir);
    FILE *f = fopen(p, "rb");
    if (!f) {
        return ERR_OK;
    }
    buf b;
    buf_init(&b, 1 << 20);
    char tmp[4096];
    size_t n;
    err rc = ERR_OK;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0 && rc == ERR_OK) {
        rc = buf_append(&b, tmp, n);
    }
    fclose(f);
    if (rc == ERR_OK) {
        rc = vault_config_parse(buf_slice(&b), c);
    }
    buf_free(&b);
    return rc;
}

/* ---- sinks ---- */

static bool parse_hostport(const char *s, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host) {
        return false;
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    long port = strtol(colon + 1, NULL, 10);
    sa->sin_port = htons((uint16_t)port);
    return port > 0 && port < 65536 && inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

static void syslog_send(witness *w, const char *dest, const char *line, size_t n)
{
    struct sockaddr_in sa;
    if (w->fd < 0 || !parse_hostport(dest, &sa)) {
        return;
    }
    if (sendto(w->fd, line, n, 0, (struct sockaddr *)&sa, sizeof sa) < 0) {
        log_warn("witness.syslog", "could not send to %s", dest);
    }
}

static void header(char *out, size_t max, const char *msgid)
{
    char ts[40], host[64] = "-";
    clock_rfc3339(clock_now_us(), ts);
    if (gethostname(host, sizeof host) != 0) {
        snprintf(host, sizeof host, "-");
    }
    host[sizeof host - 1] = '\0';
    /* facility 13 (log audit), severity 6 (informational) */
    snprintf(out, max, "<110>1 %s %s custos %d %s", ts, host, (int)getpid(), msgid);
}

err witness_syslog_line(uint64_t index, slice entry, const uint8_t leaf[32], buf *out)
{
    char h[200], hex[HEX_LEN(32)];
    header(h, sizeof h, "audit");
    hex_encode(hex, leaf, 32);
    buf_reset(out);
    TRY(buf_appendf(out, "%s [custos@32473 index=\"%llu\" leaf=\"%s\"] ", h,
                    (unsigned long long)index, hex));
    return buf_append(out, entry.p, entry.len); /* entries are ASCII JSON, no newlines */
}

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
    return s * n;
}

static bool webhook_send(witness *w, const char *body)
{
    CURL *h = curl_easy_init();
    if (!h) {
        return false;
    }
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, w->c.witness_webhook);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    if (w->c.webhook_cacert[0]) {
        curl_easy_setopt(h, CURLOPT_CAINFO, w->c.webhook_cacert);
    }
    CURLcode r = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return r == CURLE_OK && code >= 200 && code < 300;
}

/* Delivers one note everywhere; false when something must be tried again. */
static bool deliver(witness *w, const char *note)
{
    bool ok = true;
    if (w->c.witness_file[0]) {
        int fd = open(w->c.witness_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        size_t n = strlen(note);
        bool wrote = fd >= 0 && write(fd, note, n) == (ssize_t)n && write(fd, "\n", 1) == 1 &&
                     fsync(fd) == 0;
        if (fd >= 0) {
            close(fd);
        }
        if (!wrote) {
            log_warn("witness.file", "could not append the checkpoint to %s", w->c.witness_file);
            ok = false;
        }
    }
    json_t *o = json_pack("{s:s}", "checkpoint", note);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (body && w->c.witness_syslog[0]) {
        char h[200], line[70000];
        header(h, sizeof h, "checkpoint");
        int n = snprintf(line, sizeof line, "%s - %s", h, body);
        if (n > 0 && (size_t)n < sizeof line) {
            syslog_send(w, w->c.witness_syslog, line, (size_t)n);
        }
    }
    if (body && w->c.witness_webhook[0] && !webhook_send(w, body)) {
        log_warn("witness.webhook", "checkpoint webhook failed; will retry");
        ok = false;
    }
    free(body);
    return ok;
}

typedef struct siem_ctx {
    witness *w;
    buf line;
} siem_ctx;

static err siem_row(void *ctx, uint64_t index, slice entry, const uint8_t leaf[32])
{
    siem_ctx *sc = ctx;
    TRY(witness_syslog_line(index, entry, leaf, &sc->line));
    syslog_send(sc->w, sc->w->c.siem_syslog, (const char *)sc->line.p, sc->line.len);
    sc->w->siem_next = index + 1;
    return ERR_OK;
}

static void siem_forward(witness *w)
{
    pthread_mutex_lock(&w->amu);
    if (!w->a) {
        pthread_mutex_unlock(&w->amu);
        return;
    }
    siem_ctx sc = {w, {0}};
    buf_init(&sc.line, 1 << 20);
    for (int round = 0; round < 100; round++) {
        audit_query q;
        memset(&q, 0, sizeof q);
        q.after = w->siem_next == 0 ? UINT64_MAX : w->siem_next - 1;
        q.limit = 1000;
        size_t n = 0;
        if (audit_search(w->a, &q, siem_row, &sc, &n) != ERR_OK || n < 1000) {
            break;
        }
    }
    buf_free(&sc.line);
    pthread_mutex_unlock(&w->amu);
}

void witness_detach(witness *w)
{
    if (!w) {
        return;
    }
    pthread_mutex_lock(&w->amu);
    w->a = NULL;
    pthread_mutex_unlock(&w->amu);
}

static void *witness_main(void *arg)
{
    witness *w = arg;
    int backoff_s = 1;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += w->pending.len ? backoff_s : 1;
        if (!w->stop) {
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        }
        char *note = w->pending.len ? strdup(buf_cstr(&w->pending)) : NULL;
        int stopping = w->stop;
        pthread_mutex_unlock(&w->mu);
        bool delivered = true;
        if (note) {
            delivered = deliver(w, note);
        }
        if (w->c.siem_syslog[0]) {
            siem_forward(w);
        }
        pthread_mutex_lock(&w->mu);
        if (note && delivered && strcmp(note, buf_cstr(&w->pending)) == 0) {
            buf_reset(&w->pending);
        }
        backoff_s = delivered ? 1 : (backoff_s < 60 ? backoff_s * 2 : 60);
        free(note);
        if (stopping) {
            break;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

err witness_start(const vault_config *c, audit *a, witness **out)
{
    *out = NULL;
    if (!c->witness_file[0] && !c->witness_syslog[0] && !c->witness_webhook[0] &&
        !c->siem_syslog[0]) {
        return ERR_OK;
    }
    witness *w = calloc(1, sizeof *w);
    ENSURE(w != NULL, ERR_INTERNAL, "out of memory");
    w->c = *c;
    w->a = a;
    w->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    buf_init(&w->pending, 1 << 16);
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->amu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (c->siem_syslog[0]) {
        uint64_t n = 0;
        IGNORE(audit_size(a, &n));
        w->siem_next = n; /* forwards what is written from now on */
    }
    if (pthread_create(&w->t, NULL, witness_main, w) != 0) {
        close(w->fd);
        free(w);
        BAIL(ERR_INTERNAL, "cannot start the witness thread");
    }
    *out = w;
    return ERR_OK;
}

void witness_publish(witness *w, slice note)
{
    if (!w) {
        return;
    }
    pthread_mutex_lock(&w->mu);
    IGNORE(buf_set(&w->pending, note.p, note.len));
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void witness_stop(witness *w)
{
    if (!w) {
        return;
    }
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->t, NULL);
    if (w->fd >= 0) {
        close(w->fd);
    }
    buf_free(&w->pending);
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->amu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
