/*
 * rules_settings.c - the statements outside rule blocks: settings (each at most once, see
 * the table in rules.c), admission lists and limits, working-hours schedules, holidays,
 * honeytokens and delivery. Each handler checks its whole line and fills guard_rules.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/smtp.h"
#include "guard/rules_int.h"

err stmt_timezone(ps *p, char **tok, int ntok)
{
    TRY(rules_need(p, ntok, 2, "timezone +08:00"));
    const char *v = tok[1];
    if (strcmp(v, "Asia/Shanghai") == 0 || strcmp(v, "Asia/Chongqing") == 0 ||
        strcmp(v, "PRC") == 0) {
        p->r->tz_offset_s = 8 * 3600; /* China has used UTC+8 without DST since 1991 */
        return ERR_OK;
    }
    if (strcmp(v, "UTC") == 0 || strcmp(v, "Z") == 0) {
        p->r->tz_offset_s = 0;
        return ERR_OK;
    }
    size_t n = strlen(v);
    if (n == 6 && (v[0] == '+' || v[0] == '-') && v[3] == ':' && isdigit((unsigned char)v[1]) &&
        isdigit((unsigned char)v[2]) && isdigit((unsigned char)v[4]) &&
        isdigit((unsigned char)v[5])) {
        int h = (v[1] - '0') * 10 + (v[2] - '0'), m = (v[4] - '0') * 10 + (v[5] - '0');
        if (h <= 14 && m <= 59) {
            p->r->tz_offset_s = (v[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
            return ERR_OK;
        }
    }
    return perr(p, "timezone must be a fixed offset like +08:00, UTC or Asia/Shanghai (zones "
                   "with daylight saving time are not supported)");
}

err stmt_limit(ps *p, char **tok, int ntok)
{
    if (ntok < 3) {
        return perr(p, "expected: limit address|account|throttled RATE burst N, or limit "
                       "connections N");
    }
    if (strcmp(tok[1], "connections") == 0) {
        TRY(rules_once(p, SK_L_CONNS, "limit connections"));
        uint64_t v;
        if (ntok != 3 || !gval_u64(tok[2], 1000000, &v) || v == 0) {
            return perr(p, "expected: limit connections N (1 to 1000000)");
        }
        p->r->max_conns = (uint32_t)v;
        return ERR_OK;
    }
    grate *g;
    if (strcmp(tok[1], "address") == 0) {
        TRY(rules_once(p, SK_L_ADDRESS, "limit address"));
        g = &p->r->addr_rate;
    } else if (strcmp(tok[1], "account") == 0) {
        TRY(rules_once(p, SK_L_ACCOUNT, "limit account"));
        g = &p->r->acct_rate;
    } else if (strcmp(tok[1], "throttled") == 0) {
        TRY(rules_once(p, SK_L_THROTTLED, "limit throttled"));
        g = &p->r->throttled_rate;
    } else {
        return perr(p, "unknown limit '%s' (address, account, throttled, connections)", tok[1]);
    }
    double rate;
    uint64_t burst;
    if (ntok != 5 || !gval_rate(tok[2], &rate) || strcmp(tok[3], "burst") != 0 ||
        !gval_u64(tok[4], 1000000, &burst) || burst == 0) {
        return perr(p, "expected: limit %s RATE burst N, e.g. limit %s 20/s burst 100", tok[1],
                    tok[1]);
    }
    g->on = true;
    g->per_s = rate;
    g->burst = (double)burst;
    return ERR_OK;
}

static err add_spans(ps *p, gschedule *s, const char *spec)
{
    /* DAYS HH:MM-HH:MM */
    const char *sp = strchr(spec, ' ');
    if (!sp || strchr(sp + 1, ' ')) {
        return perr(p, "schedule entry '%s' must be DAYS HH:MM-HH:MM, e.g. mon-fri 08:30-18:00",
                    spec);
    }
    size_t dn = (size_t)(sp - spec);
    int d0, d1;
    if (dn == 5 && memcmp(spec, "daily", 5) == 0) {
        d0 = 0;
        d1 = 6;
    } else if (dn == 3) {
        d0 = d1 = gval_weekday(spec, 3);
    } else if (dn == 7 && spec[3] == '-') {
        d0 = gval_weekday(spec, 3);
        d1 = gval_weekday(spec + 4, 3);
    } else {
        d0 = d1 = -1;
    }
    if (d0 < 0 || d1 < 0 || d1 < d0) {
        return perr(p, "bad days '%.*s' (mon..sun, a range like mon-fri, or daily)", (int)dn, spec);
    }
    const char *t = sp + 1;
    const char *dash = strchr(t, '-');
    uint16_t from, to;
    if (!dash || !gval_hhmm(t, (size_t)(dash - t), false, &from) ||
        !gval_hhmm(dash + 1, strlen(dash + 1), true, &to) || to <= from) {
        return perr(p, "bad hours '%s' (HH:MM-HH:MM, start before end, 24:00 allowed as end)", t);
    }
    for (int d = d0; d <= d1; d++) {
        if (s->nspan[d] == G_MAX_SPANS) {
            return perr(p, "too many spans for one day (at most %d)", G_MAX_SPANS);
        }
        s->day[d][s->nspan[d]].from = from;
        s->day[d][s->nspan[d]].to = to;
        s->nspan[d]++;
    }
    return ERR_OK;
}

/* Room for one more element in a growing array (first, then doubling, at most 100000). */
static err grow(ps *p, void **arr, size_t elem, size_t n, size_t *cap, size_t first,
                const char *too_many)
{
    if (n < *cap) {
        return ERR_OK;
    }
    size_t nc = *cap ? *cap * 2 : first;
    if (nc > 100000) {
        return perr(p, "%s", too_many);
    }
    void *q = realloc(*arr, nc * elem);
    if (!q) {
        return perr(p, "out of memory");
    }
    *arr = q;
    *cap = nc;
    return ERR_OK;
}

static err add_day(ps *p, int32_t **arr, size_t *n, size_t *cap, int32_t day)
{
    void *a = *arr;
    err e = grow(p, &a, sizeof **arr, *n, cap, 32, "too many dates");
    *arr = a;
    TRY(e);
    (*arr)[(*n)++] = day;
    return ERR_OK;
}

err stmt_notify(ps *p, char **tok, int ntok)
{
    if (p->r->nsinks == G_MAX_SINKS) {
        return perr(p, "too many notify lines (at most %d)", G_MAX_SINKS);
    }
    gsink s;
    memset(&s, 0, sizeof s);
    s.min = SEV_LOW;
    int next;
    if (ntok >= 4 && strcmp(tok[1], "syslog") == 0) {
        s.routes = ROUTE_SECURITY | ROUTE_HR | ROUTE_STEWARD;
        if (strcmp(tok[2], "udp") == 0) {
            s.kind = SINK_SYSLOG_UDP;
            const char *hp = tok[3];
            const char *colon = strrchr(hp, ':');
            uint64_t port;
            char host[64];
            size_t hn = colon ? (size_t)(colon - hp) : 0;
            if (!colon || hn == 0 || hn >= sizeof host || !gval_u64(colon + 1, 65535, &port) ||
                port == 0) {
                return perr(p, "syslog udp needs HOST:PORT, e.g. 127.0.0.1:514 or [::1]:514");
            }
            memcpy(host, hp, hn);
            host[hn] = '\0';
            if (host[0] == '[' && hn > 2 && host[hn - 1] == ']') {
                memmove(host, host + 1, hn - 2);
                host[hn - 2] = '\0';
            }
            guard_addr a;
            if (guard_addr_parse(host, &a) != ERR_OK) {
                return perr(p, "syslog udp host must be an IP address, not '%s'", host);
            }
        } else if (strcmp(tok[2], "unix") == 0) {
            s.kind = SINK_SYSLOG_UNIX;
            if (tok[3][0] != '/' || strlen(tok[3]) >= 108) {
                return perr(p, "syslog unix needs an absolute socket path, e.g. /dev/log");
            }
        } else {
            return perr(p, "syslog must be 'udp HOST:PORT' or 'unix PATH'");
        }
        snprintf(s.target, sizeof s.target, "%s", tok[3]);
        next = 4;
    } else if (ntok >= 4 && (strcmp(tok[1], "webhook") == 0 || strcmp(tok[1], "email") == 0)) {
        s.kind = strcmp(tok[1], "webhook") == 0 ? SINK_WEBHOOK : SINK_EMAIL;
        const char *route = tok[2];
        if (strcmp(route, "all") == 0) {
            s.routes = ROUTE_SECURITY | ROUTE_HR | ROUTE_STEWARD;
        } else if (strcmp(route, "security") == 0) {
            s.routes = ROUTE_SECURITY;
        } else if (strcmp(route, "hr") == 0) {
            s.routes = ROUTE_HR;
        } else if (strcmp(route, "data_steward") == 0) {
            s.routes = ROUTE_STEWARD;
        } else if (strncmp(route, "data_steward:", 13) == 0 &&
                   gval_name(route + 13, G_DEPT_MAX, true)) {
            s.routes = ROUTE_STEWARD;
            snprintf(s.dept, sizeof s.dept, "%s", route + 13);
        } else {
            return perr(p,
                        "unknown route '%s' (security, hr, data_steward, data_steward:DEPT, "
                        "all)",
                        route);
        }
        const char *url = tok[3];
        if (strlen(url) >= sizeof s.target) {
            return perr(p, "address too long");
        }
        if (s.kind == SINK_WEBHOOK) {
            bool https = strncmp(url, "https://", 8) == 0 && url[8];
            bool local = strncmp(url, "http://127.0.0.1:", 17) == 0 ||
                         strncmp(url, "http://[::1]:", 13) == 0 ||
                         strncmp(url, "http://localhost:", 17) == 0;
            if (!https && !local) {
                return perr(p, "webhook must be an https:// address (plain http:// only to "
                               "127.0.0.1, [::1] or localhost)");
            }
            next = 4;
        } else {
            if (!(strncmp(url, "smtp://", 7) == 0 && url[7]) &&
                !(strncmp(url, "smtps://", 8) == 0 && url[8])) {
                return perr(p, "email needs an smtp:// or smtps:// server address");
            }
            if (ntok < 8 || strcmp(tok[4], "from") != 0 || strcmp(tok[6], "to") != 0 ||
                !strchr(tok[5], '@') || !strchr(tok[7], '@') || strlen(tok[5]) >= sizeof s.from ||
                strlen(tok[7]) >= sizeof s.to) {
                return perr(p, "expected: notify email ROUTE smtp://HOST:PORT from ADDR to "
                               "ADDR[,ADDR...] [plain-loopback] [min SEVERITY]");
            }
            for (const char *c = tok[5]; *c; c++) {
                if (*c == '<' || *c == '>' || *c == ',') {
                    return perr(p, "bad sender address");
                }
            }
            for (const char *c = tok[7]; *c; c++) {
                if (*c == '<' || *c == '>') {
                    return perr(p, "bad recipient address");
                }
            }
            snprintf(s.from, sizeof s.from, "%s", tok[5]);
            snprintf(s.to, sizeof s.to, "%s", tok[7]);
            next = 8;
            /* TLS is required unless the relay is on loopback and named so */
            if (ntok > 8 && strcmp(tok[8], "plain-loopback") == 0) {
                if (strncmp(url, "smtp://", 7) != 0 || !smtp_url_loopback(url)) {
                    return perr(p, "plain-loopback is only for an smtp:// relay on loopback "
                                   "(127.0.0.1, [::1], localhost)");
                }
                s.plain_loopback = true;
                next = 9;
            }
        }
        snprintf(s.target, sizeof s.target, "%s", url);
    } else {
        return perr(p, "expected: notify syslog udp HOST:PORT | notify syslog unix PATH | "
                       "notify webhook ROUTE URL | notify email ROUTE URL from A to B");
    }
    if (next < ntok) {
        if (ntok != next + 2 || strcmp(tok[next], "min") != 0 ||
            !gsev_parse(tok[next + 1], &s.min)) {
            return perr(p, "unexpected '%s' (only 'min SEVERITY' may follow)", tok[next]);
        }
    }
    p->r->sinks[p->r->nsinks++] = s;
    return ERR_OK;
}

err stmt_version(ps *p, char **tok, int ntok)
{
    if (ntok != 2 || strcmp(tok[1], "1") != 0) {
        return perr(p, "only version 1 is known");
    }
    if (p->any_line) {
        return perr(p, "version must be the first line");
    }
    return ERR_OK;
}

/* "KEYWORD N" with lo <= N <= max. */
static err count_setting(ps *p, char **tok, int ntok, uint64_t lo, uint64_t max, const char *usage,
                         uint64_t *out)
{
    if (ntok != 2 || !gval_u64(tok[1], max, out) || *out < lo) {
        return perr(p, "expected: %s", usage);
    }
    return ERR_OK;
}

err stmt_ipv6_prefix(ps *p, char **tok, int ntok)
{
    uint64_t v;
    TRY(count_setting(p, tok, ntok, 16, 128, "ipv6_prefix N (16 to 128)", &v));
    p->r->ipv6_prefix = (int)v;
    return ERR_OK;
}

err stmt_queue(ps *p, char **tok, int ntok)
{
    uint64_t v;
    TRY(count_setting(p, tok, ntok, 64, 1u << 20, "queue N (64 to 1048576 events)", &v));
    p->r->queue = (size_t)v;
    return ERR_OK;
}

err stmt_aggregate(ps *p, char **tok, int ntok)
{
    if (ntok != 2 || !gval_duration(tok[1], &p->r->aggregate_us)) {
        return perr(p, "expected: aggregate DURATION, e.g. aggregate 1h");
    }
    return ERR_OK;
}

err stmt_evidence(ps *p, char **tok, int ntok)
{
    uint64_t v;
    TRY(count_setting(p, tok, ntok, 1, 1000, "evidence N (1 to 1000 audit indexes per alert)", &v));
    p->r->evidence_max = (size_t)v;
    return ERR_OK;
}

err stmt_default(ps *p, char **tok, int ntok)
{
    if (ntok != 2 || (strcmp(tok[1], "allow") != 0 && strcmp(tok[1], "deny") != 0)) {
        return perr(p, "expected: default allow | default deny");
    }
    p->r->default_deny = strcmp(tok[1], "deny") == 0;
    return ERR_OK;
}

err stmt_allow_deny(ps *p, char **tok, int ntok)
{
    items it;
    TRY(gval_items(p, tok, 1, ntok, &it));
    granges *g = tok[0][0] == 'a' ? &p->r->allow : &p->r->deny;
    for (int i = 0; i < it.n; i++) {
        if (strchr(it.v[i], ' ')) {
            return perr(p, "'%s' is not one address or prefix (separate with commas)", it.v[i]);
        }
        if (granges_add_cidr(g, it.v[i]) != ERR_OK) {
            return perr(p, "%s", err_message());
        }
    }
    return ERR_OK;
}

err stmt_schedule(ps *p, char **tok, int ntok)
{
    guard_rules *r = p->r;
    if (ntok < 4 || !gval_name(tok[1], G_DEPT_MAX, true)) {
        return perr(p, "expected: schedule DEPARTMENT|default DAYS HH:MM-HH:MM[, ...]");
    }
    for (int i = 0; i < r->nsched; i++) {
        if (strcmp(r->sched[i].dept, tok[1]) == 0) {
            return perr(p, "schedule %s is defined twice", tok[1]);
        }
    }
    if (r->nsched == G_MAX_SCHEDULES) {
        return perr(p, "too many schedules (at most %d)", G_MAX_SCHEDULES);
    }
    gschedule *s = &r->sched[r->nsched];
    memset(s, 0, sizeof *s);
    snprintf(s->dept, sizeof s->dept, "%s", tok[1]);
    items it;
    TRY(gval_items(p, tok, 2, ntok, &it));
    for (int i = 0; i < it.n; i++) {
        TRY(add_spans(p, s, it.v[i]));
    }
    r->nsched++;
    return ERR_OK;
}

err stmt_holiday(ps *p, char **tok, int ntok)
{
    guard_rules *r = p->r;
    TRY(rules_need(p, ntok, 2, "holiday YYYY-MM-DD or holiday YYYY-MM-DD..YYYY-MM-DD"));
    char a[16], b[16];
    const char *dots = strstr(tok[1], "..");
    int32_t d0, d1;
    if (dots) {
        size_t n0 = (size_t)(dots - tok[1]);
        if (n0 >= sizeof a || strlen(dots + 2) >= sizeof b) {
            return perr(p, "bad date range '%s'", tok[1]);
        }
        memcpy(a, tok[1], n0);
        a[n0] = '\0';
        snprintf(b, sizeof b, "%s", dots + 2);
    } else {
        if (strlen(tok[1]) >= sizeof a) {
            return perr(p, "bad date '%s'", tok[1]);
        }
        snprintf(a, sizeof a, "%s", tok[1]);
        snprintf(b, sizeof b, "%s", tok[1]);
    }
    if (!gval_date(a, &d0) || !gval_date(b, &d1)) {
        return perr(p, "bad date in '%s' (YYYY-MM-DD, a real day)", tok[1]);
    }
    if (d1 < d0 || d1 - d0 > 366) {
        return perr(p, "a holiday range must run forward and last at most a year");
    }
    for (int32_t d = d0; d <= d1; d++) {
        TRY(add_day(p, &r->holidays, &r->nholidays, &p->hol_cap, d));
    }
    return ERR_OK;
}

err stmt_workday(ps *p, char **tok, int ntok)
{
    int32_t d;
    if (ntok != 2 || !gval_date(tok[1], &d)) {
        return perr(p, "expected: workday YYYY-MM-DD (a weekend day worked like a Monday)");
    }
    return add_day(p, &p->r->workdays, &p->r->nworkdays, &p->work_cap, d);
}

err stmt_honeytoken(ps *p, char **tok, int ntok)
{
    guard_rules *r = p->r;
    items it;
    TRY(gval_items(p, tok, 1, ntok, &it));
    for (int i = 0; i < it.n; i++) {
        size_t n = strlen(it.v[i]);
        bool ok = n > 0 && n <= G_CUSTOMER_MAX;
        for (size_t j = 0; ok && j < n; j++) {
            ok = isalnum((unsigned char)it.v[i][j]) || it.v[i][j] == '_';
        }
        if (!ok) {
            return perr(p, "'%s' is not a customer id", it.v[i]);
        }
        void *a = r->honeytokens;
        err e = grow(p, &a, sizeof *r->honeytokens, r->nhoneytokens, &p->hon_cap, 16,
                     "too many honeytokens");
        r->honeytokens = a;
        TRY(e);
        memcpy(r->honeytokens[r->nhoneytokens++], it.v[i], n + 1);
    }
    return ERR_OK;
}

err stmt_nftables(ps *p, char **tok, int ntok)
{
    guard_rules *r = p->r;
    static const char *const fam[] = {"ip", "ip6", "inet", "bridge", "netdev"};
    bool fam_ok = false;
    for (size_t i = 0; ntok >= 2 && i < 5; i++) {
        fam_ok = fam_ok || strcmp(tok[1], fam[i]) == 0;
    }
    if ((ntok != 5 && ntok != 7) || !fam_ok || !gval_name(tok[2], 63, false) ||
        !gval_name(tok[3], 63, false) || !gval_name(tok[4], 63, false)) {
        return perr(p, "expected: nftables FAMILY TABLE SET4 SET6 [path /usr/sbin/nft]");
    }
    snprintf(r->nft_family, sizeof r->nft_family, "%s", tok[1]);
    snprintf(r->nft_table, sizeof r->nft_table, "%s", tok[2]);
    snprintf(r->nft_set4, sizeof r->nft_set4, "%s", tok[3]);
    snprintf(r->nft_set6, sizeof r->nft_set6, "%s", tok[4]);
    if (ntok == 7) {
        if (strcmp(tok[5], "path") != 0 || tok[6][0] != '/' ||
            strlen(tok[6]) >= sizeof r->nft_path) {
            return perr(p, "nftables path must be absolute");
        }
        snprintf(r->nft_path, sizeof r->nft_path, "%s", tok[6]);
    }
    r->nft_on = true;
    return ERR_OK;
}

err stmt_delivery(ps *p, char **tok, int ntok)
{
    guard_rules *r = p->r;
    uint64_t n;
    if (ntok != 5 || strcmp(tok[1], "retry") != 0 || !gval_duration(tok[2], &r->retry_us) ||
        strcmp(tok[3], "attempts") != 0 || !gval_u64(tok[4], 100, &n) || n == 0) {
        return perr(p, "expected: delivery retry DURATION attempts N (1 to 100)");
    }
    r->attempts = (int)n;
    return ERR_OK;
}
