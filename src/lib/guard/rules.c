/*
 * rules.c - the guard's rules file (docs/GUARD.md): settings, admission lists
 * and limits, working-hours schedules, delivery, and detection rules in
 * `rule NAME ... end` blocks.
 *
 * The parser is strict and all-or-nothing: every line is checked (known
 * keyword, right number and shape of values, value in range, no duplicate
 * setting or rule, keys that make sense for the detector), the first problem is
 * reported as "FILE:LINE: message", and nothing is returned unless the whole
 * file is good. Input is checked as UTF-8 without NUL bytes first; each line is
 * then copied into a bounded buffer and split into bounded tokens, so the
 * string functions below only ever see short, terminated, validated text.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy.h"
#include "core/utf8.h"
#include "guard/guard_int.h"

#define LINE_MAX_BYTES 4096
#define MAX_TOKENS 64
#define FILE_MAX_BYTES (4u << 20)

static const char *const DET_NAMES[D__COUNT] = {
    [D_LOGIN_FAIL] = "login_fail",
    [D_SPRAYING] = "spraying",
    [D_STUFFING] = "stuffing",
    [D_DENIED] = "denied",
    [D_DENIED_SPREAD] = "denied_spread",
    [D_READS] = "reads",
    [D_BASELINE] = "baseline",
    [D_OFF_HOURS] = "off_hours",
    [D_NEW_ADDRESS] = "new_address",
    [D_HONEYTOKEN] = "honeytoken",
    [D_SCAN] = "scan",
    [D_EGRESS] = "egress",
    [D_NOTICE] = "notice",
    [D_BAD_TOKEN] = "bad_token",
    [D_PROBING] = "probing",
};

const char *gdet_name(gdet d)
{
    return d < D__COUNT ? DET_NAMES[d] : "?";
}

const char *gper_name(gper p)
{
    return p == PER_ACCOUNT ? "account" : p == PER_ADDRESS ? "address" : "global";
}

static const char *const SEV_NAMES[SEV__COUNT] = {"low", "medium", "high", "critical"};

const char *gsev_name(gsev s)
{
    return s < SEV__COUNT ? SEV_NAMES[s] : "?";
}

bool gsev_parse(const char *s, gsev *out)
{
    for (int i = 0; i < SEV__COUNT; i++) {
        if (strcmp(s, SEV_NAMES[i]) == 0) {
            *out = (gsev)i;
            return true;
        }
    }
    return false;
}

/* What each detector accepts. */
enum {
    K_THRESHOLD = 1u << 0, /* allowed */
    K_THRESHOLD_REQ = 1u << 1,
    K_BYTES = 1u << 2, /* threshold is a byte size */
    K_ACCOUNTS = 1u << 3,
    K_BASELINE = 1u << 4, /* ratio / z / min / warmup / alpha */
    K_EVENTS = 1u << 5,
    K_COUNT = 1u << 6,
    K_DISTINCT = 1u << 7, /* threshold counts distinct members (bounded) */
};

static const struct {
    unsigned keys;
    unsigned pers; /* 1 << gper */
    gper per;
    gsev sev;
    unsigned routes;
    const char *what; /* for alert details: "%s per %s" */
} DET[D__COUNT] = {
    [D_LOGIN_FAIL] = {K_THRESHOLD | K_THRESHOLD_REQ, 1u << PER_ACCOUNT | 1u << PER_ADDRESS,
                      PER_ACCOUNT, SEV_MEDIUM, ROUTE_SECURITY, "failed logins"},
    [D_SPRAYING] = {K_THRESHOLD | K_THRESHOLD_REQ | K_DISTINCT, 1u << PER_ADDRESS, PER_ADDRESS,
                    SEV_HIGH, ROUTE_SECURITY, "accounts with failed logins"},
    [D_STUFFING] = {K_THRESHOLD | K_THRESHOLD_REQ | K_DISTINCT | K_ACCOUNTS, 1u << PER_GLOBAL,
                    PER_GLOBAL, SEV_HIGH, ROUTE_SECURITY, "addresses with failed logins"},
    [D_DENIED] = {K_THRESHOLD | K_THRESHOLD_REQ, 1u << PER_ACCOUNT | 1u << PER_ADDRESS, PER_ACCOUNT,
                  SEV_MEDIUM, ROUTE_SECURITY | ROUTE_HR, "denied requests"},
    [D_DENIED_SPREAD] = {K_THRESHOLD | K_THRESHOLD_REQ | K_DISTINCT, 1u << PER_ACCOUNT, PER_ACCOUNT,
                         SEV_MEDIUM, ROUTE_SECURITY | ROUTE_HR, "distinct categories denied"},
    [D_READS] = {K_THRESHOLD | K_THRESHOLD_REQ, 1u << PER_ACCOUNT | 1u << PER_ADDRESS, PER_ACCOUNT,
                 SEV_HIGH, ROUTE_SECURITY | ROUTE_STEWARD, "customers read"},
    [D_BASELINE] = {K_BASELINE, 1u << PER_ACCOUNT, PER_ACCOUNT, SEV_MEDIUM,
                    ROUTE_SECURITY | ROUTE_STEWARD, "customers read in an hour"},
    [D_OFF_HOURS] = {K_THRESHOLD | K_EVENTS, 1u << PER_ACCOUNT, PER_ACCOUNT, SEV_LOW,
                     ROUTE_SECURITY | ROUTE_STEWARD, "accesses outside working hours"},
    [D_NEW_ADDRESS] = {K_EVENTS, 1u << PER_ACCOUNT, PER_ACCOUNT, SEV_LOW, ROUTE_SECURITY,
                       "first use of an address"},
    [D_HONEYTOKEN] = {0, 1u << PER_ACCOUNT, PER_ACCOUNT, SEV_HIGH, ROUTE_SECURITY | ROUTE_STEWARD,
                      "honeytoken reads"},
    [D_SCAN] = {K_THRESHOLD | K_THRESHOLD_REQ | K_COUNT, 1u << PER_ADDRESS, PER_ADDRESS, SEV_MEDIUM,
                ROUTE_SECURITY, "unknown, malformed or oversized requests"},
    [D_EGRESS] = {K_THRESHOLD | K_THRESHOLD_REQ | K_BYTES, 1u << PER_ACCOUNT | 1u << PER_ADDRESS,
                  PER_ACCOUNT, SEV_HIGH, ROUTE_SECURITY | ROUTE_STEWARD,
                  "bytes of customer data sent"},
    [D_NOTICE] = {0, 1u << PER_ACCOUNT, PER_ACCOUNT, SEV_HIGH, ROUTE_SECURITY,
                  "acts the door reports (break-glass, lockouts, sealing)"},
    [D_BAD_TOKEN] = {K_THRESHOLD | K_THRESHOLD_REQ, 1u << PER_ADDRESS, PER_ADDRESS, SEV_MEDIUM,
                     ROUTE_SECURITY, "unknown or forged bearer tokens"},
    [D_PROBING] = {K_THRESHOLD | K_THRESHOLD_REQ, 1u << PER_ACCOUNT | 1u << PER_ADDRESS,
                   PER_ACCOUNT, SEV_HIGH, ROUTE_SECURITY | ROUTE_HR,
                   "searches on a masked field that found nothing"},
};

/* ---- parser state ---- */

enum { /* rule keys seen, against duplicates */
       RK_DETECT = 1u << 0,
       RK_PER = 1u << 1,
       RK_THRESHOLD = 1u << 2,
       RK_ACCOUNTS = 1u << 3,
       RK_RATIO = 1u << 4,
       RK_Z = 1u << 5,
       RK_MIN = 1u << 6,
       RK_WARMUP = 1u << 7,
       RK_ALPHA = 1u << 8,
       RK_EVENTS = 1u << 9,
       RK_COUNT = 1u << 10,
       RK_SEVERITY = 1u << 11,
       RK_RESPOND = 1u << 12,
       RK_ROUTE = 1u << 13,
       RK_ROLES = 1u << 14,
};

enum { /* settings seen */
       SK_VERSION = 1u << 0,
       SK_TIMEZONE = 1u << 1,
       SK_IPV6 = 1u << 2,
       SK_QUEUE = 1u << 3,
       SK_AGGREGATE = 1u << 4,
       SK_EVIDENCE = 1u << 5,
       SK_DEFAULT = 1u << 6,
       SK_L_ADDRESS = 1u << 7,
       SK_L_ACCOUNT = 1u << 8,
       SK_L_CONNS = 1u << 9,
       SK_L_THROTTLED = 1u << 10,
       SK_NFT = 1u << 11,
       SK_DELIVERY = 1u << 12,
};

typedef struct ps {
    guard_rules *r;
    const char *file;
    int line;
    char msg[400];
    grule *cur;
    int cur_line, per_line;
    unsigned rkeys;
    unsigned skeys;
    bool any_line;
    size_t hol_cap, work_cap, hon_cap;
} ps;

static err perr(ps *p, const char *fmt, ...) PRINTF_LIKE(2, 3);
static err perr(ps *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    return ERR_INPUT;
}

/* ---- values ---- */

static bool is_digits(const char *s)
{
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
    }
    return true;
}

/* Decimal integer without sign or leading zeros (other than "0"), at most max. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!is_digits(s) || (s[0] == '0' && s[1]) || strlen(s) > 19) {
        return false;
    }
    uint64_t v = 0;
    for (; *s; s++) {
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* Decimal number "12", "0.5", "2.25" (no sign, no exponent). */
static bool parse_decimal(const char *s, double *out)
{
    const char *dot = strchr(s, '.');
    size_t ni = dot ? (size_t)(dot - s) : strlen(s);
    if (ni == 0 || ni > 9) {
        return false;
    }
    double v = 0;
    for (size_t i = 0; i < ni; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (dot) {
        const char *f = dot + 1;
        size_t nf = strlen(f);
        if (nf == 0 || nf > 6) {
            return false;
        }
        double scale = 0.1;
        for (size_t i = 0; i < nf; i++) {
            if (f[i] < '0' || f[i] > '9') {
                return false;
            }
            v += (f[i] - '0') * scale;
            scale /= 10;
        }
    }
    *out = v;
    return true;
}

/* "500ms", "30s", "15m", "1h", "14d", "2w": positive, at most 366 days. */
static bool parse_duration(const char *s, int64_t *us)
{
    size_t n = strlen(s), d = 0;
    while (d < n && s[d] >= '0' && s[d] <= '9') {
        d++;
    }
    if (d == 0 || d > 12 || (s[0] == '0' && d > 1)) {
        return false;
    }
    char num[16];
    memcpy(num, s, d);
    num[d] = '\0';
    uint64_t v;
    if (!parse_u64(num, 1000000000000ull, &v) || v == 0) {
        return false;
    }
    const char *u = s + d;
    int64_t mul;
    if (strcmp(u, "ms") == 0) {
        mul = 1000;
    } else if (strcmp(u, "s") == 0) {
        mul = 1000000;
    } else if (strcmp(u, "m") == 0) {
        mul = 60 * 1000000LL;
    } else if (strcmp(u, "h") == 0) {
        mul = 3600 * 1000000LL;
    } else if (strcmp(u, "d") == 0) {
        mul = 86400 * 1000000LL;
    } else if (strcmp(u, "w") == 0) {
        mul = 7 * 86400 * 1000000LL;
    } else {
        return false;
    }
    if (v > (uint64_t)(366 * 86400 * 1000000LL / mul)) {
        return false;
    }
    *us = (int64_t)v * mul;
    return true;
}

/* "2048", "500KB", "50MB", "1GiB": at most 1 TiB. */
static bool parse_bytes(const char *s, uint64_t *out)
{
    size_t n = strlen(s), d = 0;
    while (d < n && s[d] >= '0' && s[d] <= '9') {
        d++;
    }
    if (d == 0 || d > 13) {
        return false;
    }
    char num[16];
    memcpy(num, s, d);
    num[d] = '\0';
    uint64_t v;
    if (!parse_u64(num, 1ull << 40, &v) || v == 0) {
        return false;
    }
    static const struct {
        const char *u;
        uint64_t m;
    } units[] = {{"", 1},           {"B", 1},           {"KB", 1000},
                 {"MB", 1000000},   {"GB", 1000000000}, {"KiB", 1024},
                 {"MiB", 1u << 20}, {"GiB", 1u << 30}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(s + d, units[i].u) == 0) {
            if (v > (1ull << 40) / units[i].m) {
                return false;
            }
            *out = v * units[i].m;
            return true;
        }
    }
    return false;
}

/* "50/s", "600/m", "0.5/s", "1000/h" -> per second. */
static bool parse_rate(const char *s, double *per_s)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || (size_t)(slash - s) > 15) {
        return false;
    }
    char num[16];
    memcpy(num, s, (size_t)(slash - s));
    num[slash - s] = '\0';
    double v;
    if (!parse_decimal(num, &v) || v <= 0 || v > 1e6) {
        return false;
    }
    const char *u = slash + 1;
    double div = strcmp(u, "s") == 0   ? 1
                 : strcmp(u, "m") == 0 ? 60
                 : strcmp(u, "h") == 0 ? 3600
                                       : 0;
    if (div == 0) {
        return false;
    }
    *per_s = v / div;
    return true;
}

/* Names: rule names, departments, nftables identifiers. */
static bool is_name(const char *s, size_t max, bool utf8)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || c == '_' || c == '-' || c == '.' || (utf8 && c >= 0x80))) {
            return false;
        }
    }
    return true;
}

static bool parse_date(const char *s, int32_t *day)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        return false;
    }
    int v[3] = {0, 0, 0};
    const int pos[3][2] = {{0, 4}, {5, 2}, {8, 2}};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < pos[k][1]; i++) {
            char c = s[pos[k][0] + i];
            if (c < '0' || c > '9') {
                return false;
            }
            v[k] = v[k] * 10 + (c - '0');
        }
    }
    int y = v[0], m = v[1], d = v[2];
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || y > 2200 || m < 1 || m > 12 || d < 1 ||
        d > mdays[m - 1] + (m == 2 && leap ? 1 : 0)) {
        return false;
    }
    /* days from civil (Howard Hinnant's algorithm) */
    y -= m <= 2;
    int era = y / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *day = era * 146097 + doe - 719468;
    return true;
}

/* "08:30" -> minutes; "24:00" only when end is set. */
static bool parse_hhmm(const char *s, size_t n, bool end, uint16_t *out)
{
    if (n != 5 || s[2] != ':' || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
        !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4])) {
        return false;
    }
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (m != 0 || !end))) {
        return false;
    }
    *out = (uint16_t)(h * 60 + m);
    return true;
}

static int day_index(const char *s, size_t n)
{
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    for (int i = 0; i < 7; i++) {
        if (n == 3 && memcmp(s, days[i], 3) == 0) {
            return i;
        }
    }
    return -1;
}

/* ---- lists: "a, b ,c" after a keyword ---- */

typedef struct items {
    char v[MAX_TOKENS][256];
    int n;
} items;

/* Joins tokens from..end with single spaces, then splits at commas; each item trimmed and
 * non-empty. */
static err split_items(ps *p, char **tok, int from, int ntok, items *it)
{
    it->n = 0;
    char joined[LINE_MAX_BYTES];
    size_t len = 0;
    for (int i = from; i < ntok; i++) {
        size_t tl = strlen(tok[i]);
        if (len + tl + 2 > sizeof joined) {
            return perr(p, "line too long");
        }
        if (len) {
            joined[len++] = ' ';
        }
        memcpy(joined + len, tok[i], tl);
        len += tl;
    }
    joined[len] = '\0';
    if (len == 0) {
        return perr(p, "%s needs a value", tok[0]);
    }
    char *s = joined;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma) {
            *comma = '\0';
        }
        while (*s == ' ') {
            s++;
        }
        size_t n = strlen(s);
        while (n && s[n - 1] == ' ') {
            s[--n] = '\0';
        }
        if (n == 0) {
            return perr(p, "empty item in the list after %s", tok[0]);
        }
        if (it->n == MAX_TOKENS || n >= sizeof it->v[0]) {
            return perr(p, "too many or too long items after %s", tok[0]);
        }
        memcpy(it->v[it->n++], s, n + 1);
        if (!comma) {
            break;
        }
        s = comma + 1;
    }
    return ERR_OK;
}

/* Splits one item "lock 30m" into words. */
static int words(char *s, char **w, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save)) {
        w[n++] = t;
    }
    return strtok_r(NULL, " ", &save) ? max + 1 : n;
}

/* ---- settings ---- */

static err once(ps *p, unsigned bit, const char *what)
{
    if (p->skeys & bit) {
        return perr(p, "%s is set twice", what);
    }
    p->skeys |= bit;
    return ERR_OK;
}

static err need(ps *p, int ntok, int want, const char *usage)
{
    if (ntok != want) {
        return perr(p, "expected: %s", usage);
    }
    return ERR_OK;
}

static err set_timezone(ps *p, const char *v)
{
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

static err set_limit(ps *p, char **tok, int ntok)
{
    if (ntok < 3) {
        return perr(p, "expected: limit address|account|throttled RATE burst N, or limit "
                       "connections N");
    }
    if (strcmp(tok[1], "connections") == 0) {
        TRY(once(p, SK_L_CONNS, "limit connections"));
        uint64_t v;
        if (ntok != 3 || !parse_u64(tok[2], 1000000, &v) || v == 0) {
            return perr(p, "expected: limit connections N (1 to 1000000)");
        }
        p->r->max_conns = (uint32_t)v;
        return ERR_OK;
    }
    grate *g;
    if (strcmp(tok[1], "address") == 0) {
        TRY(once(p, SK_L_ADDRESS, "limit address"));
        g = &p->r->addr_rate;
    } else if (strcmp(tok[1], "account") == 0) {
        TRY(once(p, SK_L_ACCOUNT, "limit account"));
        g = &p->r->acct_rate;
    } else if (strcmp(tok[1], "throttled") == 0) {
        TRY(once(p, SK_L_THROTTLED, "limit throttled"));
        g = &p->r->throttled_rate;
    } else {
        return perr(p, "unknown limit '%s' (address, account, throttled, connections)", tok[1]);
    }
    double rate;
    uint64_t burst;
    if (ntok != 5 || !parse_rate(tok[2], &rate) || strcmp(tok[3], "burst") != 0 ||
        !parse_u64(tok[4], 1000000, &burst) || burst == 0) {
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
        d0 = d1 = day_index(spec, 3);
    } else if (dn == 7 && spec[3] == '-') {
        d0 = day_index(spec, 3);
        d1 = day_index(spec + 4, 3);
    } else {
        d0 = d1 = -1;
    }
    if (d0 < 0 || d1 < 0 || d1 < d0) {
        return perr(p, "bad days '%.*s' (mon..sun, a range like mon-fri, or daily)", (int)dn, spec);
    }
    const char *t = sp + 1;
    const char *dash = strchr(t, '-');
    uint16_t from, to;
    if (!dash || !parse_hhmm(t, (size_t)(dash - t), false, &from) ||
        !parse_hhmm(dash + 1, strlen(dash + 1), true, &to) || to <= from) {
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

static err add_day(ps *p, int32_t **arr, size_t *n, size_t *cap, int32_t day)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        if (nc > 100000) {
            return perr(p, "too many dates");
        }
        int32_t *q = realloc(*arr, nc * sizeof *q);
        if (!q) {
            return perr(p, "out of memory");
        }
        *arr = q;
        *cap = nc;
    }
    (*arr)[(*n)++] = day;
    return ERR_OK;
}

static err set_notify(ps *p, char **tok, int ntok)
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
            if (!colon || hn == 0 || hn >= sizeof host || !parse_u64(colon + 1, 65535, &port) ||
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
                   is_name(route + 13, G_DEPT_MAX, true)) {
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
                               "ADDR[,ADDR...] [min SEVERITY]");
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

static err setting(ps *p, char **tok, int ntok)
{
    guard_rules *r = p->r;
    const char *k = tok[0];
    if (strcmp(k, "version") == 0) {
        TRY(once(p, SK_VERSION, "version"));
        if (ntok != 2 || strcmp(tok[1], "1") != 0) {
            return perr(p, "only version 1 is known");
        }
        if (p->any_line) {
            return perr(p, "version must be the first line");
        }
        return ERR_OK;
    }
    if (strcmp(k, "timezone") == 0) {
        TRY(once(p, SK_TIMEZONE, "timezone"));
        TRY(need(p, ntok, 2, "timezone +08:00"));
        return set_timezone(p, tok[1]);
    }
    if (strcmp(k, "ipv6_prefix") == 0) {
        TRY(once(p, SK_IPV6, "ipv6_prefix"));
        uint64_t v;
        if (ntok != 2 || !parse_u64(tok[1], 128, &v) || v < 16) {
            return perr(p, "expected: ipv6_prefix N (16 to 128)");
        }
        r->ipv6_prefix = (int)v;
        return ERR_OK;
    }
    if (strcmp(k, "queue") == 0) {
        TRY(once(p, SK_QUEUE, "queue"));
        uint64_t v;
        if (ntok != 2 || !parse_u64(tok[1], 1u << 20, &v) || v < 64) {
            return perr(p, "expected: queue N (64 to 1048576 events)");
        }
        r->queue = (size_t)v;
        return ERR_OK;
    }
    if (strcmp(k, "aggregate") == 0) {
        TRY(once(p, SK_AGGREGATE, "aggregate"));
        if (ntok != 2 || !parse_duration(tok[1], &r->aggregate_us)) {
            return perr(p, "expected: aggregate DURATION, e.g. aggregate 1h");
        }
        return ERR_OK;
    }
    if (strcmp(k, "evidence") == 0) {
        TRY(once(p, SK_EVIDENCE, "evidence"));
        uint64_t v;
        if (ntok != 2 || !parse_u64(tok[1], 1000, &v) || v == 0) {
            return perr(p, "expected: evidence N (1 to 1000 audit indexes per alert)");
        }
        r->evidence_max = (size_t)v;
        return ERR_OK;
    }
    if (strcmp(k, "default") == 0) {
        TRY(once(p, SK_DEFAULT, "default"));
        if (ntok != 2 || (strcmp(tok[1], "allow") != 0 && strcmp(tok[1], "deny") != 0)) {
            return perr(p, "expected: default allow | default deny");
        }
        r->default_deny = strcmp(tok[1], "deny") == 0;
        return ERR_OK;
    }
    if (strcmp(k, "allow") == 0 || strcmp(k, "deny") == 0) {
        items it;
        TRY(split_items(p, tok, 1, ntok, &it));
        for (int i = 0; i < it.n; i++) {
            if (strchr(it.v[i], ' ')) {
                return perr(p, "'%s' is not one address or prefix (separate with commas)", it.v[i]);
            }
            char m[200];
            if (granges_add_cidr(k[0] == 'a' ? &r->allow : &r->deny, it.v[i], m, sizeof m) !=
                ERR_OK) {
                return perr(p, "%s", m);
            }
        }
        return ERR_OK;
    }
    if (strcmp(k, "limit") == 0) {
        return set_limit(p, tok, ntok);
    }
    if (strcmp(k, "schedule") == 0) {
        if (ntok < 4 || !is_name(tok[1], G_DEPT_MAX, true)) {
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
        TRY(split_items(p, tok, 2, ntok, &it));
        for (int i = 0; i < it.n; i++) {
            TRY(add_spans(p, s, it.v[i]));
        }
        r->nsched++;
        return ERR_OK;
    }
    if (strcmp(k, "holiday") == 0) {
        TRY(need(p, ntok, 2, "holiday YYYY-MM-DD or holiday YYYY-MM-DD..YYYY-MM-DD"));
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
        if (!parse_date(a, &d0) || !parse_date(b, &d1)) {
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
    if (strcmp(k, "workday") == 0) {
        int32_t d;
        if (ntok != 2 || !parse_date(tok[1], &d)) {
            return perr(p, "expected: workday YYYY-MM-DD (a weekend day worked like a Monday)");
        }
        return add_day(p, &r->workdays, &r->nworkdays, &p->work_cap, d);
    }
    if (strcmp(k, "honeytoken") == 0) {
        items it;
        TRY(split_items(p, tok, 1, ntok, &it));
        for (int i = 0; i < it.n; i++) {
            size_t n = strlen(it.v[i]);
            bool ok = n > 0 && n <= G_CUSTOMER_MAX;
            for (size_t j = 0; ok && j < n; j++) {
                ok = isalnum((unsigned char)it.v[i][j]) || it.v[i][j] == '_';
            }
            if (!ok) {
                return perr(p, "'%s' is not a customer id", it.v[i]);
            }
            if (r->nhoneytokens == p->hon_cap) {
                size_t nc = p->hon_cap ? p->hon_cap * 2 : 16;
                if (nc > 100000) {
                    return perr(p, "too many honeytokens");
                }
                void *q = realloc(r->honeytokens, nc * sizeof *r->honeytokens);
                if (!q) {
                    return perr(p, "out of memory");
                }
                r->honeytokens = q;
                p->hon_cap = nc;
            }
            memcpy(r->honeytokens[r->nhoneytokens++], it.v[i], n + 1);
        }
        return ERR_OK;
    }
    if (strcmp(k, "notify") == 0) {
        return set_notify(p, tok, ntok);
    }
    if (strcmp(k, "nftables") == 0) {
        TRY(once(p, SK_NFT, "nftables"));
        static const char *const fam[] = {"ip", "ip6", "inet", "bridge", "netdev"};
        bool fam_ok = false;
        for (size_t i = 0; ntok >= 2 && i < 5; i++) {
            fam_ok = fam_ok || strcmp(tok[1], fam[i]) == 0;
        }
        if ((ntok != 5 && ntok != 7) || !fam_ok || !is_name(tok[2], 63, false) ||
            !is_name(tok[3], 63, false) || !is_name(tok[4], 63, false)) {
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
    if (strcmp(k, "delivery") == 0) {
        TRY(once(p, SK_DELIVERY, "delivery"));
        uint64_t n;
        if (ntok != 5 || strcmp(tok[1], "retry") != 0 || !parse_duration(tok[2], &r->retry_us) ||
            strcmp(tok[3], "attempts") != 0 || !parse_u64(tok[4], 100, &n) || n == 0) {
            return perr(p, "expected: delivery retry DURATION attempts N (1 to 100)");
        }
        r->attempts = (int)n;
        return ERR_OK;
    }
    if (strcmp(k, "end") == 0) {
        return perr(p, "'end' without a rule");
    }
    return perr(p, "unknown keyword '%s'", k);
}

/* ---- rules ---- */

static err rkey(ps *p, unsigned bit, const char *key)
{
    if (p->rkeys & bit) {
        return perr(p, "%s is given twice in rule %s", key, p->cur->name);
    }
    p->rkeys |= bit;
    return ERR_OK;
}

/* Keys that only some detectors take: checked when the rule ends, since detect may come
 * after them; remembered with their line. */
typedef struct pending_key {
    unsigned need; /* K_* the detector must accept */
    int line;
    char key[24];
} pending_key;

static err rule_line(ps *p, char **tok, int ntok, pending_key *pk, int *npk)
{
    grule *g = p->cur;
    const char *k = tok[0];
    unsigned needk = 0;
    if (strcmp(k, "detect") == 0) {
        TRY(rkey(p, RK_DETECT, "detect"));
        TRY(need(p, ntok, 2, "detect DETECTOR"));
        for (int d = 0; d < D__COUNT; d++) {
            if (strcmp(tok[1], DET_NAMES[d]) == 0) {
                g->det = (gdet)d;
                return ERR_OK;
            }
        }
        return perr(p,
                    "unknown detector '%s' (login_fail, spraying, stuffing, denied, "
                    "denied_spread, reads, baseline, off_hours, new_address, honeytoken, notice, "
                    "scan, egress)",
                    tok[1]);
    } else if (strcmp(k, "per") == 0) {
        TRY(rkey(p, RK_PER, "per"));
        p->per_line = p->line;
        TRY(need(p, ntok, 2, "per account|address|global"));
        if (strcmp(tok[1], "account") == 0) {
            g->per = PER_ACCOUNT;
        } else if (strcmp(tok[1], "address") == 0) {
            g->per = PER_ADDRESS;
        } else if (strcmp(tok[1], "global") == 0) {
            g->per = PER_GLOBAL;
        } else {
            return perr(p, "per must be account, address or global");
        }
        return ERR_OK;
    } else if (strcmp(k, "threshold") == 0) {
        TRY(rkey(p, RK_THRESHOLD, "threshold"));
        if (ntok != 4 || strcmp(tok[2], "within") != 0) {
            return perr(p, "expected: threshold N within DURATION, e.g. threshold 10 within 15m");
        }
        if (!parse_duration(tok[3], &g->window_us)) {
            return perr(p, "bad duration '%s' (e.g. 30s, 15m, 1h, 7d)", tok[3]);
        }
        /* The number's shape depends on the detector: keep the text, check at 'end'. */
        uint64_t v;
        if (parse_u64(tok[1], 1000000000000ull, &v) && v > 0) {
            g->threshold = v;
        } else if (parse_bytes(tok[1], &v)) {
            g->threshold = v;
            needk = K_BYTES;
        } else {
            return perr(p, "bad threshold '%s' (a positive number, or bytes like 50MB)", tok[1]);
        }
        needk |= K_THRESHOLD;
    } else if (strcmp(k, "accounts") == 0) {
        TRY(rkey(p, RK_ACCOUNTS, "accounts"));
        if (ntok != 2 || !parse_u64(tok[1], G_MAX_DISTINCT, &g->accounts) || g->accounts == 0) {
            return perr(p, "expected: accounts N (1 to %d)", G_MAX_DISTINCT);
        }
        needk = K_ACCOUNTS;
    } else if (strcmp(k, "ratio") == 0 || strcmp(k, "z") == 0 || strcmp(k, "alpha") == 0) {
        bool ratio = k[0] == 'r', alpha = k[0] == 'a';
        TRY(rkey(p, ratio ? RK_RATIO : alpha ? RK_ALPHA : RK_Z, k));
        double v;
        if (ntok != 2 || !parse_decimal(tok[1], &v)) {
            return perr(p, "expected: %s NUMBER", k);
        }
        if (alpha && !(v > 0 && v <= 1)) {
            return perr(p, "alpha must be above 0 and at most 1");
        }
        if (ratio && !(v > 1 && v <= 1000)) {
            return perr(p, "ratio must be above 1 and at most 1000");
        }
        if (!ratio && !alpha && !(v > 0 && v <= 100)) {
            return perr(p, "z must be above 0 and at most 100");
        }
        *(ratio ? &g->ratio : alpha ? &g->alpha : &g->z) = v;
        needk = K_BASELINE;
    } else if (strcmp(k, "min") == 0) {
        TRY(rkey(p, RK_MIN, "min"));
        if (ntok != 2 || !parse_u64(tok[1], 100000000, &g->min)) {
            return perr(p, "expected: min N");
        }
        needk = K_BASELINE;
    } else if (strcmp(k, "warmup") == 0) {
        TRY(rkey(p, RK_WARMUP, "warmup"));
        if (ntok != 2 || !parse_duration(tok[1], &g->warmup_us)) {
            return perr(p, "expected: warmup DURATION, e.g. warmup 14d");
        }
        needk = K_BASELINE;
    } else if (strcmp(k, "events") == 0) {
        TRY(rkey(p, RK_EVENTS, "events"));
        items it;
        TRY(split_items(p, tok, 1, ntok, &it));
        g->events = 0;
        for (int i = 0; i < it.n; i++) {
            if (strcmp(it.v[i], "reads") == 0) {
                g->events |= EVM_READS;
            } else if (strcmp(it.v[i], "logins") == 0) {
                g->events |= EVM_LOGINS;
            } else if (strcmp(it.v[i], "any") == 0) {
                g->events |= EVM_ANY;
            } else {
                return perr(p, "events are reads, logins or any, not '%s'", it.v[i]);
            }
        }
        needk = K_EVENTS;
    } else if (strcmp(k, "count") == 0) {
        TRY(rkey(p, RK_COUNT, "count"));
        items it;
        TRY(split_items(p, tok, 1, ntok, &it));
        g->events = 0;
        for (int i = 0; i < it.n; i++) {
            if (strcmp(it.v[i], "unknown_route") == 0) {
                g->events |= EVM_UNKNOWN_ROUTE;
            } else if (strcmp(it.v[i], "malformed") == 0) {
                g->events |= EVM_MALFORMED;
            } else if (strcmp(it.v[i], "oversized") == 0) {
                g->events |= EVM_OVERSIZED;
            } else {
                return perr(p, "count takes unknown_route, malformed, oversized, not '%s'",
                            it.v[i]);
            }
        }
        needk = K_COUNT;
    } else if (strcmp(k, "severity") == 0) {
        TRY(rkey(p, RK_SEVERITY, "severity"));
        if (ntok != 2 || !gsev_parse(tok[1], &g->sev)) {
            return perr(p, "severity is low, medium, high or critical");
        }
        return ERR_OK;
    } else if (strcmp(k, "respond") == 0) {
        TRY(rkey(p, RK_RESPOND, "respond"));
        items it;
        TRY(split_items(p, tok, 1, ntok, &it));
        g->actions = 0;
        for (int i = 0; i < it.n; i++) {
            char *w[4];
            int nw = words(it.v[i], w, 3);
            if (nw < 1) {
                return perr(p, "empty response");
            }
            static const struct {
                const char *name;
                unsigned bit;
                bool dur;
            } acts[] = {{"log", ACT_LOG, false},          {"alert", ACT_ALERT, false},
                        {"throttle", ACT_THROTTLE, true}, {"block", ACT_BLOCK, true},
                        {"lock", ACT_LOCK, true},         {"revoke", ACT_REVOKE, false},
                        {"reauth", ACT_REAUTH, false},    {"seal", ACT_SEAL, false}};
            size_t a = 0;
            while (a < sizeof acts / sizeof acts[0] && strcmp(w[0], acts[a].name) != 0) {
                a++;
            }
            if (a == sizeof acts / sizeof acts[0]) {
                return perr(p,
                            "unknown response '%s' (log, alert, throttle D, block D, lock D, "
                            "revoke, reauth, seal)",
                            w[0]);
            }
            if (g->actions & acts[a].bit) {
                return perr(p, "response %s is given twice", w[0]);
            }
            int64_t d = 0;
            if (acts[a].dur ? (nw != 2 || !parse_duration(w[1], &d)) : nw != 1) {
                return perr(
                    p, acts[a].dur ? "%s needs a duration, e.g. %s 30m" : "%s takes no value%s",
                    acts[a].name, acts[a].dur ? acts[a].name : "");
            }
            g->actions |= acts[a].bit;
            if (acts[a].bit == ACT_THROTTLE) {
                g->throttle_us = d;
            } else if (acts[a].bit == ACT_BLOCK) {
                g->block_us = d;
            } else if (acts[a].bit == ACT_LOCK) {
                g->lock_us = d;
            }
        }
        if ((g->actions & ACT_LOG) && (g->actions & ACT_ALERT)) {
            return perr(p, "log means 'no alert': it cannot be combined with alert");
        }
        return ERR_OK;
    } else if (strcmp(k, "route") == 0) {
        TRY(rkey(p, RK_ROUTE, "route"));
        items it;
        TRY(split_items(p, tok, 1, ntok, &it));
        g->routes = ROUTE_SECURITY;
        for (int i = 0; i < it.n; i++) {
            if (strcmp(it.v[i], "security") == 0) {
                g->routes |= ROUTE_SECURITY;
            } else if (strcmp(it.v[i], "hr") == 0) {
                g->routes |= ROUTE_HR;
            } else if (strcmp(it.v[i], "data_steward") == 0) {
                g->routes |= ROUTE_STEWARD;
            } else {
                return perr(p, "routes are security, hr and data_steward, not '%s'", it.v[i]);
            }
        }
        return ERR_OK;
    } else if (strcmp(k, "roles") == 0 || strcmp(k, "skip_roles") == 0) {
        TRY(rkey(p, RK_ROLES, "roles or skip_roles"));
        items it;
        TRY(split_items(p, tok, 1, ntok, &it));
        if (it.n > G_MAX_ROLES) {
            return perr(p, "too many roles");
        }
        g->roles_skip = k[0] == 's';
        for (int i = 0; i < it.n; i++) {
            role ro;
            if (role_parse(it.v[i], &ro) != ERR_OK) {
                return perr(p, "unknown role '%s'", it.v[i]);
            }
            snprintf(g->roles[i], sizeof g->roles[i], "%s", it.v[i]);
        }
        g->nroles = it.n;
        return ERR_OK;
    } else if (strcmp(k, "rule") == 0) {
        return perr(p, "rule %s is not closed with 'end' before the next rule", g->name);
    } else {
        return perr(p, "unknown key '%s' in rule %s", k, g->name);
    }
    if (*npk == 16) {
        return perr(p, "too many keys");
    }
    pk[*npk].need = needk;
    pk[*npk].line = p->line;
    snprintf(pk[*npk].key, sizeof pk[*npk].key, "%s", k);
    (*npk)++;
    return ERR_OK;
}

static void describe(grule *g)
{
    char win[32] = "";
    int64_t w = g->window_us;
    if (w) {
        if (w % (86400 * 1000000LL) == 0) {
            snprintf(win, sizeof win, " within %lldd", (long long)(w / (86400 * 1000000LL)));
        } else if (w % (3600 * 1000000LL) == 0) {
            snprintf(win, sizeof win, " within %lldh", (long long)(w / (3600 * 1000000LL)));
        } else if (w % (60 * 1000000LL) == 0) {
            snprintf(win, sizeof win, " within %lldm", (long long)(w / (60 * 1000000LL)));
        } else if (w % 1000000LL == 0) {
            snprintf(win, sizeof win, " within %llds", (long long)(w / 1000000LL));
        } else {
            snprintf(win, sizeof win, " within %lldms", (long long)(w / 1000));
        }
    }
    const char *what = DET[g->det].what;
    if (g->det == D_BASELINE) {
        if (g->ratio > 0) {
            snprintf(g->text, sizeof g->text, "%s at least %g times the usual (at least %llu)",
                     what, g->ratio, (unsigned long long)g->min);
        } else {
            snprintf(g->text, sizeof g->text,
                     "%s %g standard deviations above the usual "
                     "(at least %llu)",
                     what, g->z, (unsigned long long)g->min);
        }
    } else if (g->det == D_HONEYTOKEN || g->det == D_NEW_ADDRESS || g->det == D_NOTICE) {
        snprintf(g->text, sizeof g->text, "%s", what);
    } else if (g->det == D_STUFFING) {
        snprintf(g->text, sizeof g->text, "%llu %s across %llu accounts%s",
                 (unsigned long long)g->threshold, what, (unsigned long long)g->accounts, win);
    } else {
        snprintf(g->text, sizeof g->text, "%llu %s per %s%s", (unsigned long long)g->threshold,
                 what, gper_name(g->per), win);
    }
}

static err rule_end(ps *p, const pending_key *pk, int npk)
{
    grule *g = p->cur;
    if (!(p->rkeys & RK_DETECT)) {
        p->line = p->cur_line;
        return perr(p, "rule %s has no 'detect' line", g->name);
    }
    unsigned keys = DET[g->det].keys;
    for (int i = 0; i < npk; i++) {
        unsigned nk = pk[i].need & ~K_BYTES;
        if ((nk & keys) != nk) {
            p->line = pk[i].line;
            return perr(p, "%s does not apply to detector %s", pk[i].key, DET_NAMES[g->det]);
        }
        if ((pk[i].need & K_BYTES) && !(keys & K_BYTES)) {
            p->line = pk[i].line;
            return perr(p, "threshold of %s is a count, not a size", DET_NAMES[g->det]);
        }
        if (strcmp(pk[i].key, "threshold") == 0 && (keys & K_DISTINCT) &&
            g->threshold > G_MAX_DISTINCT) {
            p->line = pk[i].line;
            return perr(p, "threshold of %s is at most %d", DET_NAMES[g->det], G_MAX_DISTINCT);
        }
    }
    if (p->rkeys & RK_PER) {
        if (!(DET[g->det].pers & (1u << g->per))) {
            p->line = p->per_line;
            return perr(p, "detector %s cannot count per %s", DET_NAMES[g->det], gper_name(g->per));
        }
    } else {
        g->per = DET[g->det].per;
    }
    if ((keys & K_THRESHOLD_REQ) && !(p->rkeys & RK_THRESHOLD)) {
        return perr(p, "rule %s needs 'threshold N within DURATION'", g->name);
    }
    if (!(p->rkeys & RK_THRESHOLD)) {
        g->threshold = 1;
        g->window_us = 3600 * 1000000LL;
    }
    if (g->det == D_STUFFING && !(p->rkeys & RK_ACCOUNTS)) {
        g->accounts = g->threshold;
    }
    if (g->det == D_BASELINE) {
        for (int i = 0; i < p->r->nrules; i++) {
            if (p->r->rules[i].det == D_BASELINE) {
                return perr(p,
                            "only one baseline rule may exist (rule %s is one): the learnt "
                            "baseline has one definition",
                            p->r->rules[i].name);
            }
        }
        if ((g->ratio > 0) == (g->z > 0)) {
            return perr(p, "rule %s needs exactly one of 'ratio R' or 'z Z'", g->name);
        }
        if (!(p->rkeys & RK_MIN)) {
            g->min = 20;
        }
        if (!(p->rkeys & RK_WARMUP)) {
            g->warmup_us = 14 * 86400 * 1000000LL;
        }
        if (!(p->rkeys & RK_ALPHA)) {
            g->alpha = 0.2;
        }
    }
    if (g->det == D_OFF_HOURS && !(p->rkeys & RK_EVENTS)) {
        g->events = EVM_READS;
    }
    if (g->det == D_NEW_ADDRESS) {
        if (!(p->rkeys & RK_EVENTS)) {
            g->events = EVM_LOGINS;
        } else if (g->events & EVM_READS) {
            return perr(p, "new_address looks at logins or any, not reads");
        }
    }
    if (g->det == D_SCAN && !(p->rkeys & RK_COUNT)) {
        g->events = EVM_UNKNOWN_ROUTE | EVM_MALFORMED | EVM_OVERSIZED;
    }
    if (!(p->rkeys & RK_SEVERITY)) {
        g->sev = DET[g->det].sev;
    }
    if (!(p->rkeys & RK_ROUTE)) {
        g->routes = DET[g->det].routes;
    }
    if (!(p->rkeys & RK_RESPOND) || !(g->actions & ACT_LOG)) {
        g->actions |= ACT_ALERT;
    }
    if ((g->actions & (ACT_LOCK | ACT_REVOKE | ACT_REAUTH)) && g->per != PER_ACCOUNT) {
        return perr(p, "lock, revoke and reauth act on an account: rule %s needs 'per account'",
                    g->name);
    }
    if ((g->actions & ACT_THROTTLE) && g->per == PER_GLOBAL) {
        return perr(p, "throttle needs per account or per address");
    }
    if ((g->actions & ACT_BLOCK) && g->per == PER_GLOBAL) {
        return perr(p, "block needs per address or per account (the address of the event)");
    }
    describe(g);
    p->r->nrules++;
    p->cur = NULL;
    return ERR_OK;
}

/* ---- the file ---- */

/* Well-formed UTF-8 without NUL bytes; *bad: the first offending byte. */
static bool utf8_ok(const uint8_t *s, size_t n, size_t *bad)
{
    size_t at = utf8_invalid_at(s, n);
    const uint8_t *z = memchr(s, 0, at);
    *bad = z ? (size_t)(z - s) : at;
    return *bad == n;
}

static void rules_defaults(guard_rules *r)
{
    r->tz_offset_s = 8 * 3600;
    r->ipv6_prefix = 64;
    r->queue = 8192;
    r->aggregate_us = 3600 * 1000000LL;
    r->evidence_max = 64;
    r->retry_us = 2 * 1000000LL;
    r->attempts = 6;
    r->throttled_rate.per_s = 1; /* "limit throttled" changes it */
    r->throttled_rate.burst = 5;
    snprintf(r->nft_path, sizeof r->nft_path, "/usr/sbin/nft");
}

static int day_cmp(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return a < b ? -1 : a > b;
}

static int str_cmp(const void *x, const void *y)
{
    return strcmp((const char *)x, (const char *)y);
}

static err parse_all(ps *p, slice text)
{
    guard_rules *r = p->r;
    size_t bad;
    if (text.len > FILE_MAX_BYTES) {
        p->line = 1;
        return perr(p, "file too large (at most %u bytes)", FILE_MAX_BYTES);
    }
    if (!utf8_ok(text.p, text.len, &bad)) {
        p->line = 1;
        for (size_t i = 0; i < bad; i++) {
            p->line += text.p[i] == '\n';
        }
        return perr(p, "not UTF-8 text (or a NUL byte)");
    }
    pending_key pk[16];
    int npk = 0;
    size_t pos = 0;
    p->line = 0;
    while (pos < text.len) {
        size_t end = pos;
        while (end < text.len && text.p[end] != '\n') {
            end++;
        }
        p->line++;
        size_t n = end - pos;
        if (n && text.p[pos + n - 1] == '\r') {
            n--;
        }
        if (n >= LINE_MAX_BYTES) {
            return perr(p, "line longer than %d bytes", LINE_MAX_BYTES - 1);
        }
        char line[LINE_MAX_BYTES];
        memcpy(line, text.p + pos, n);
        line[n] = '\0';
        pos = end + 1;
        /* comment: '#' at the start or after white space */
        for (size_t i = 0; i < n; i++) {
            if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
                line[i] = '\0';
                break;
            }
            if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
                return perr(p, "control character in line");
            }
        }
        char *tok[MAX_TOKENS];
        int ntok = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
            if (ntok == MAX_TOKENS) {
                return perr(p, "too many words in one line");
            }
            tok[ntok++] = t;
        }
        if (ntok == 0) {
            continue;
        }
        if (p->cur) {
            if (strcmp(tok[0], "end") == 0) {
                TRY(need(p, ntok, 1, "end"));
                TRY(rule_end(p, pk, npk));
            } else {
                TRY(rule_line(p, tok, ntok, pk, &npk));
            }
        } else if (strcmp(tok[0], "rule") == 0) {
            if (ntok != 2 || !is_name(tok[1], G_NAME_MAX, false)) {
                return perr(p, "expected: rule NAME (letters, digits, '-', '_', '.'; at most %d)",
                            G_NAME_MAX);
            }
            for (int i = 0; i < r->nrules; i++) {
                if (strcmp(r->rules[i].name, tok[1]) == 0) {
                    return perr(p, "rule %s is defined twice (first on line %d)", tok[1],
                                r->rules[i].line);
                }
            }
            if (r->nrules == G_MAX_RULES) {
                return perr(p, "too many rules (at most %d)", G_MAX_RULES);
            }
            p->cur = &r->rules[r->nrules];
            memset(p->cur, 0, sizeof *p->cur);
            snprintf(p->cur->name, sizeof p->cur->name, "%s", tok[1]);
            p->cur->line = p->line;
            p->cur_line = p->line;
            p->rkeys = 0;
            npk = 0;
        } else {
            TRY(setting(p, tok, ntok));
        }
        p->any_line = true;
    }
    if (p->cur) {
        p->line = p->cur_line;
        return perr(p, "rule %s is not closed with 'end'", p->cur->name);
    }
    if (r->default_deny && r->allow.n == 0) {
        return perr(p, "'default deny' with an empty allow list would refuse everyone");
    }
    granges_finish(&r->allow);
    granges_finish(&r->deny);
    if (r->nholidays > 1) {
        qsort(r->holidays, r->nholidays, sizeof *r->holidays, day_cmp);
    }
    if (r->nworkdays > 1) {
        qsort(r->workdays, r->nworkdays, sizeof *r->workdays, day_cmp);
    }
    if (r->nhoneytokens > 1) {
        qsort(r->honeytokens, r->nhoneytokens, sizeof *r->honeytokens, str_cmp);
    }
    return ERR_OK;
}

err guard_rules_parse(slice text, const char *name, guard_rules **out)
{
    *out = NULL;
    guard_rules *r = calloc(1, sizeof *r);
    ENSURE(r != NULL, ERR_INTERNAL, "out of memory");
    rules_defaults(r);
    snprintf(r->file, sizeof r->file, "%s", name);
    ps p;
    memset(&p, 0, sizeof p);
    p.r = r;
    p.file = name;
    if (parse_all(&p, text) != ERR_OK) {
        guard_rules_free(r);
        BAIL(ERR_INPUT, "%s:%d: %s", name, p.line, p.msg);
    }
    *out = r;
    return ERR_OK;
}

err guard_rules_load(const char *path, guard_rules **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    ENSURE(f != NULL, ERR_IO, "cannot read the rules file %s (%s)", path, strerror(errno));
    buf b;
    buf_init(&b, FILE_MAX_BYTES + 1);
    char tmp[8192];
    size_t n;
    err rc = ERR_OK;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (buf_append(&b, tmp, n) != ERR_OK) {
            rc = err_set(ERR_INPUT, __FILE__, __LINE__, "%s:1: file too large", path);
            break;
        }
    }
    bool io = ferror(f);
    fclose(f);
    if (rc == ERR_OK && io) {
        rc = err_set(ERR_IO, __FILE__, __LINE__, "cannot read the rules file %s", path);
    }
    if (rc == ERR_OK) {
        rc = guard_rules_parse(buf_slice(&b), path, out);
    }
    buf_free(&b);
    return rc;
}

size_t guard_rules_count(const guard_rules *r)
{
    return r ? (size_t)r->nrules : 0;
}

const char *guard_rules_rule_name(const guard_rules *r, size_t i)
{
    return r && i < (size_t)r->nrules ? r->rules[i].name : NULL;
}

void guard_rules_free(guard_rules *r)
{
    if (!r) {
        return;
    }
    granges_free(&r->allow);
    granges_free(&r->deny);
    free(r->holidays);
    free(r->workdays);
    free(r->honeytokens);
    free(r);
}

/* ---- questions the detectors ask ---- */

bool grules_is_honeytoken(const guard_rules *r, const char *id)
{
    if (!id[0] || r->nhoneytokens == 0) {
        return false;
    }
    return bsearch(id, r->honeytokens, r->nhoneytokens, sizeof *r->honeytokens, str_cmp) != NULL;
}

static bool has_day(const int32_t *a, size_t n, int32_t d)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] == d) {
            return true;
        }
        if (a[mid] < d) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return false;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t grules_local_hour(const guard_rules *r, int64_t t_us)
{
    return floor_div(floor_div(t_us, 1000000) + r->tz_offset_s, 3600);
}

int grules_hour_of_week(int64_t local_hour)
{
    int64_t day = floor_div(local_hour, 24);
    int wd = (int)(((day % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday (Monday = 0) */
    return wd * 24 + (int)(local_hour - day * 24);
}

bool grules_off_hours(const guard_rules *r, const char *dept, int64_t t_us)
{
    const gschedule *s = NULL;
    for (int i = 0; i < r->nsched; i++) {
        if (strcmp(r->sched[i].dept, dept) == 0) {
            s = &r->sched[i];
            break;
        }
        if (strcmp(r->sched[i].dept, "default") == 0) {
            s = s ? s : &r->sched[i];
        }
    }
    if (!s) {
        return false;
    }
    int64_t local_s = floor_div(t_us, 1000000) + r->tz_offset_s;
    int64_t day = floor_div(local_s, 86400);
    int minute = (int)((local_s - day * 86400) / 60);
    int wd = (int)(((day % 7) + 7 + 3) % 7);
    if (has_day(r->holidays, r->nholidays, (int32_t)day)) {
        return true;
    }
    if (has_day(r->workdays, r->nworkdays, (int32_t)day)) {
        wd = 0; /* worked like a Monday */
    }
    for (int i = 0; i < s->nspan[wd]; i++) {
        if (minute >= s->day[wd][i].from && minute < s->day[wd][i].to) {
            return false;
        }
    }
    return true;
}
