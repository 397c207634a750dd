/*
 * detect.c - the detectors, run by the guard thread alone (no locks here).
 *
 * State is kept per (rule, subject), where the subject is the account, the
 * address (IPv6 masked to ipv6_prefix) or "global", in one hash map:
 *   - sliding windows for counts and sums: 64 buckets spanning the rule's
 *     window, so memory per subject is fixed and a window is exact to 1/64 of
 *     its length (an event is counted for between 63/64 and 64/64 of the window,
 *     never longer);
 *   - distinct-member sets (accounts per address, addresses overall, categories
 *     per account) holding at most `threshold` members with their last time, so
 *     "N distinct within W" is exact and bounded;
 *   - a ring of the last audit indexes that contributed, the alert's evidence.
 * A firing clears the subject's state: the next firing needs another
 * threshold's worth of events (the alert for it is aggregated, not repeated).
 *
 * Per account, apart from rules: the volume baseline (an EWMA mean and variance
 * of customers read per hour, one per hour of the week, learnt when an hour
 * closes and persisted) and the addresses the account has used (persisted). At
 * most one baseline rule exists (the parser sees to it), so the learnt baseline
 * has one definition.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "guard/guard_int.h"

#define MAP_BUCKETS 16384
#define MAX_STATES 100000
#define MAX_USERS 200000
#define KNOWN_MAX 1024
#define NBUCKETS 64

typedef struct dset {
    uint32_t n, cap;
    struct dmem {
        uint64_t h;
        int64_t t;
    } * m;
} dset;

typedef struct dstate {
    struct dstate *next;
    uint64_t h;
    int rule;
    char key[96];
    int64_t touched_us;
    /* window */
    bool fresh;
    int64_t cur;
    uint64_t total;
    uint64_t b[NBUCKETS];
    /* distinct members */
    dset s1, s2;
    /* evidence */
    int64_t ev[G_EVIDENCE_RING];
    int nev, evpos;
} dstate;

typedef struct bslot {
    double mean, var;
    uint32_t n;
} bslot;

typedef struct duser {
    struct duser *next;
    uint64_t h;
    char name[G_USER_MAX + 1];
    /* baseline */
    bool bl_loaded;
    int64_t first_us;
    bool hour_set;
    int64_t cur_hour, cur_count, fired_hour;
    bslot *slots; /* 168, allocated on first use */
    /* known addresses */
    bool kn_loaded, kn_truncated;
    guard_addr *known;
    uint32_t nknown, capknown;
} duser;

struct gdetect {
    const guard_rules *r;
    guard_store *st;
    dstate *map[MAP_BUCKETS];
    duser *users[MAP_BUCKETS];
    size_t nstates, nusers;
    int by_kind[GUARD_EV__COUNT][G_MAX_RULES];
    int nby_kind[GUARD_EV__COUNT];
    int baseline_rule;
    uint64_t seed;
    uint64_t state_full;
};

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Which event kinds each rule reads. */
static unsigned kinds_of(const grule *g)
{
    switch (g->det) {
    case D_LOGIN_FAIL:
    case D_SPRAYING:
    case D_STUFFING:
        return 1u << GUARD_EV_LOGIN_FAIL;
    case D_DENIED:
    case D_DENIED_SPREAD:
        return 1u << GUARD_EV_DENIED;
    case D_HONEYTOKEN:
        return 1u << GUARD_EV_CUSTOMER_READ | 1u << GUARD_EV_CUSTOMER_WRITE;
    case D_READS:
    case D_BASELINE:
    case D_EGRESS:
        return 1u << GUARD_EV_CUSTOMER_READ;
    case D_SCAN:
        return 1u << GUARD_EV_REQUEST;
    case D_NOTICE:
        return 1u << GUARD_EV_NOTICE;
    case D_BAD_TOKEN:
        return 1u << GUARD_EV_BAD_TOKEN;
    case D_PROBING:
        return 1u << GUARD_EV_SEARCH_MISS;
    case D_OFF_HOURS:
    case D_NEW_ADDRESS: {
        unsigned k = 0;
        if (g->events & EVM_READS) {
            k |= 1u << GUARD_EV_CUSTOMER_READ;
        }
        if (g->events & EVM_LOGINS) {
            k |= 1u << GUARD_EV_LOGIN_OK;
        }
        if (g->events & EVM_ANY) {
            k |= 1u << GUARD_EV_LOGIN_OK | 1u << GUARD_EV_REQUEST | 1u << GUARD_EV_DENIED |
                 1u << GUARD_EV_CUSTOMER_READ | 1u << GUARD_EV_CUSTOMER_WRITE |
                 1u << GUARD_EV_SEARCH_MISS;
        }
        return k;
    }
    default:
        return 0;
    }
}

err gdetect_new(const guard_rules *r, guard_store *st, gdetect **out)
{
    *out = NULL;
    gdetect *d = calloc(1, sizeof *d);
    ENSURE(d != NULL, ERR_INTERNAL, "out of memory");
    d->r = r;
    d->st = st;
    d->baseline_rule = -1;
    d->seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)d;
    for (int i = 0; i < r->nrules; i++) {
        unsigned k = kinds_of(&r->rules[i]);
        for (int e = 0; e < GUARD_EV__COUNT; e++) {
            if (k & (1u << e)) {
                d->by_kind[e][d->nby_kind[e]++] = i;
            }
        }
        if (r->rules[i].det == D_BASELINE && d->baseline_rule < 0) {
            d->baseline_rule = i;
        }
    }
    *out = d;
    return ERR_OK;
}

static void state_free(dstate *s)
{
    free(s->s1.m);
    free(s->s2.m);
    free(s);
}

static void user_free(duser *u)
{
    free(u->slots);
    free(u->known);
    free(u);
}

void gdetect_free(gdetect *d)
{
    if (!d) {
        return;
    }
    for (int i = 0; i < MAP_BUCKETS; i++) {
        for (dstate *s = d->map[i], *n; s; s = n) {
            n = s->next;
            state_free(s);
        }
        for (duser *u = d->users[i], *n; u; u = n) {
            n = u->next;
            user_free(u);
        }
    }
    free(d);
}

size_t gdetect_states(gdetect *d)
{
    return d ? d->nstates : 0;
}

static dstate *state_get(gdetect *d, int rule, const char *key, int64_t now)
{
    size_t kn = strnlen(key, sizeof((dstate *)0)->key - 1);
    uint64_t h = ghash(key, kn, d->seed ^ (uint64_t)rule);
    dstate **head = &d->map[h & (MAP_BUCKETS - 1)];
    for (dstate *s = *head; s; s = s->next) {
        if (s->h == h && s->rule == rule && strncmp(s->key, key, sizeof s->key) == 0) {
            s->touched_us = now;
            return s;
        }
    }
    if (d->nstates >= MAX_STATES) {
        d->state_full++;
        return NULL;
    }
    dstate *s = calloc(1, sizeof *s);
    if (!s) {
        return NULL;
    }
    s->h = h;
    s->rule = rule;
    memcpy(s->key, key, kn);
    s->key[kn] = '\0';
    s->fresh = true;
    s->touched_us = now;
    s->next = *head;
    *head = s;
    d->nstates++;
    return s;
}

static duser *user_get(gdetect *d, const char *name)
{
    size_t n = strnlen(name, G_USER_MAX);
    uint64_t h = ghash(name, n, d->seed ^ 0x7777);
    duser **head = &d->users[h & (MAP_BUCKETS - 1)];
    for (duser *u = *head; u; u = u->next) {
        if (u->h == h && strncmp(u->name, name, sizeof u->name) == 0) {
            return u;
        }
    }
    if (d->nusers >= MAX_USERS) {
        d->state_full++;
        return NULL;
    }
    duser *u = calloc(1, sizeof *u);
    if (!u) {
        return NULL;
    }
    u->h = h;
    memcpy(u->name, name, n);
    u->name[n] = '\0';
    u->next = *head;
    *head = u;
    d->nusers++;
    return u;
}

/* ---- windows, sets, evidence ---- */

static int64_t width_of(const grule *g)
{
    int64_t w = g->window_us / NBUCKETS;
    return w < 1 ? 1 : w;
}

static void win_add(dstate *s, const grule *g, int64_t t, uint64_t amount)
{
    int64_t w = width_of(g);
    int64_t k = floordiv(t, w);
    if (s->fresh) {
        s->fresh = false;
        s->cur = k;
    }
    if (k > s->cur) {
        int64_t steps = k - s->cur;
        if (steps >= NBUCKETS) {
            memset(s->b, 0, sizeof s->b);
            s->total = 0;
        } else {
            for (int64_t i = 1; i <= steps; i++) {
                uint64_t *b = &s->b[(uint64_t)(s->cur + i) & (NBUCKETS - 1)];
                s->total -= *b;
                *b = 0;
            }
        }
        s->cur = k;
    } else if (k <= s->cur - NBUCKETS) {
        return; /* older than the window */
    }
    s->b[(uint64_t)k & (NBUCKETS - 1)] += amount;
    s->total += amount;
}

static void win_clear(dstate *s)
{
    memset(s->b, 0, sizeof s->b);
    s->total = 0;
}

/* Adds or refreshes member h at t; returns how many members were seen within the window. */
static uint32_t set_touch(dset *s, uint32_t cap, uint64_t h, int64_t t, int64_t window)
{
    if (!s->m) {
        s->m = calloc(cap, sizeof *s->m);
        if (!s->m) {
            return 0;
        }
        s->cap = cap;
    }
    uint32_t w = 0;
    bool found = false;
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->m[i].t <= t - window) {
            continue; /* expired: dropped */
        }
        s->m[w] = s->m[i];
        if (s->m[w].h == h) {
            found = true;
            if (t > s->m[w].t) {
                s->m[w].t = t;
            }
        }
        w++;
    }
    s->n = w;
    if (!found) {
        if (s->n < s->cap) {
            s->m[s->n].h = h;
            s->m[s->n].t = t;
            s->n++;
        } else {
            uint32_t oldest = 0;
            for (uint32_t i = 1; i < s->n; i++) {
                if (s->m[i].t < s->m[oldest].t) {
                    oldest = i;
                }
            }
            s->m[oldest].h = h;
            s->m[oldest].t = t;
        }
    }
    return s->n;
}

static void set_clear(dset *s)
{
    s->n = 0;
}

static void ev_push(dstate *s, int64_t idx)
{
    if (idx < 0 || (s->nev && s->ev[(s->evpos + G_EVIDENCE_RING - 1) % G_EVIDENCE_RING] == idx)) {
        return; /* none, or the same event again (several categories of one denial) */
    }
    s->ev[s->evpos] = idx;
    s->evpos = (s->evpos + 1) % G_EVIDENCE_RING;
    if (s->nev < G_EVIDENCE_RING) {
        s->nev++;
    }
}

/* ---- findings ---- */

typedef struct ctx {
    gdetect *d;
    const gevent *ev;
    bool addr_ok;
    guard_addr addr, masked;
    char addr_key[GUARD_ADDR_TEXT + 4];
    gfinding_fn fn;
    void *fctx;
} ctx;

static void fire(ctx *c, int ri, const char *subject, dstate *s, const char *fmt, ...)
    PRINTF_LIKE(5, 6);

static void fire(ctx *c, int ri, const char *subject, dstate *s, const char *fmt, ...)
{
    const grule *g = &c->d->r->rules[ri];
    gfinding f;
    memset(&f, 0, sizeof f);
    f.rule = g;
    f.rule_index = ri;
    f.ev = c->ev;
    snprintf(f.subject, sizeof f.subject, "%s", subject);
    /* Spraying and stuffing have many victims (and stuffing many addresses): no one of them
     * is the alert's account or address, and the last one seen would mislead whoever reads
     * the alert or routes it (HR hears of staff). The evidence names each. */
    bool many_victims = g->det == D_SPRAYING || g->det == D_STUFFING;
    if (g->per == PER_ACCOUNT) {
        snprintf(f.account, sizeof f.account, "%s", subject);
    } else if (!many_victims) {
        snprintf(f.account, sizeof f.account, "%s", c->ev->username);
    }
    if (g->per == PER_ADDRESS) {
        snprintf(f.address, sizeof f.address, "%s", subject);
    } else if (g->det != D_STUFFING) {
        snprintf(f.address, sizeof f.address, "%s", c->addr_key);
    }
    snprintf(f.department, sizeof f.department, "%s",
             c->ev->cust_dept[0] ? c->ev->cust_dept : c->ev->department);
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(f.detail, sizeof f.detail, "%s (rule: %s)", what, g->text);
    if (s) {
        /* oldest first */
        for (int i = 0; i < s->nev; i++) {
            int at = (s->evpos - s->nev + i + G_EVIDENCE_RING) % G_EVIDENCE_RING;
            f.evidence[f.nevidence++] = s->ev[at];
        }
        s->nev = 0;
        s->evpos = 0;
    } else if (c->ev->audit_index >= 0) {
        f.evidence[f.nevidence++] = c->ev->audit_index;
    }
    c->fn(c->fctx, &f);
}

static bool role_ok(const grule *g, const char *role)
{
    if (g->nroles == 0) {
        return true;
    }
    bool in = false;
    for (int i = 0; i < g->nroles && !in; i++) {
        in = strcmp(g->roles[i], role) == 0;
    }
    return g->roles_skip ? !in : in;
}

static const char *subject_of(ctx *c, const grule *g)
{
    switch (g->per) {
    case PER_ACCOUNT:
        return c->ev->username[0] ? c->ev->username : NULL;
    case PER_ADDRESS:
        return c->addr_ok ? c->addr_key : NULL;
    default:
        return "global";
    }
}

static void win_rule(ctx *c, int ri, uint64_t amount, const char *unit)
{
    const grule *g = &c->d->r->rules[ri];
    const char *subj = subject_of(c, g);
    if (!subj || amount == 0) {
        return;
    }
    dstate *s = state_get(c->d, ri, subj, c->ev->time_us);
    if (!s) {
        return;
    }
    win_add(s, g, c->ev->time_us, amount);
    ev_push(s, c->ev->audit_index);
    if (s->total >= g->threshold) {
        uint64_t total = s->total;
        win_clear(s);
        fire(c, ri, subj, s, "%llu %s", (unsigned long long)total, unit);
    }
}

static void distinct_rule(ctx *c, int ri, const char *member, const char *unit)
{
    const grule *g = &c->d->r->rules[ri];
    const char *subj = subject_of(c, g);
    if (!subj || !member[0]) {
        return;
    }
    dstate *s = state_get(c->d, ri, subj, c->ev->time_us);
    if (!s) {
        return;
    }
    uint64_t mh = ghash(member, strlen(member), c->d->seed);
    uint32_t n = set_touch(&s->s1, (uint32_t)g->threshold, mh, c->ev->time_us, g->window_us);
    ev_push(s, c->ev->audit_index);
    if (n >= g->threshold) {
        set_clear(&s->s1);
        fire(c, ri, subj, s, "%u %s", n, unit);
    }
}

static void stuffing_rule(ctx *c, int ri)
{
    const grule *g = &c->d->r->rules[ri];
    if (!c->addr_ok || !c->ev->username[0]) {
        return;
    }
    dstate *s = state_get(c->d, ri, "global", c->ev->time_us);
    if (!s) {
        return;
    }
    uint64_t ah = ghash(c->masked.b, 16, c->d->seed);
    uint64_t uh = ghash(c->ev->username, strlen(c->ev->username), c->d->seed ^ 1);
    uint32_t na = set_touch(&s->s1, (uint32_t)g->threshold, ah, c->ev->time_us, g->window_us);
    uint32_t nu = set_touch(&s->s2, (uint32_t)g->accounts, uh, c->ev->time_us, g->window_us);
    ev_push(s, c->ev->audit_index);
    if (na >= g->threshold && nu >= g->accounts) {
        set_clear(&s->s1);
        set_clear(&s->s2);
        fire(c, ri, "global", s, "failed logins from %u addresses against %u accounts", na, nu);
    }
}

/* ---- baseline ---- */

static err slot_load(void *vctx, int slot, double mean, double var, int64_t n)
{
    duser *u = vctx;
    if (slot >= 0 && slot < 168) {
        u->slots[slot].mean = mean;
        u->slots[slot].var = var;
        u->slots[slot].n = (uint32_t)(n > 0xffffff ? 0xffffff : n);
    }
    return ERR_OK;
}

static void hour_close(gdetect *d, duser *u, const grule *g, int64_t hour, int64_t count)
{
    int how = grules_hour_of_week(hour);
    bslot *b = &u->slots[how];
    double x = (double)count;
    if (b->n == 0) {
        b->mean = x;
        b->var = 0;
    } else {
        double diff = x - b->mean, incr = g->alpha * diff;
        b->mean += incr;
        b->var = (1 - g->alpha) * (b->var + diff * incr);
    }
    if (b->n < 0xffffff) {
        b->n++;
    }
    if (guard_store_baseline_put(d->st, u->name, how, b->mean, b->var, b->n) != ERR_OK) {
        log_warn("guard.store", "could not save a baseline: %s", err_message());
    }
}

static void baseline_rule(ctx *c, int ri, uint64_t n)
{
    gdetect *d = c->d;
    const grule *g = &d->r->rules[ri];
    const gevent *ev = c->ev;
    if (!ev->username[0] || ri != d->baseline_rule) {
        return;
    }
    duser *u = user_get(d, ev->username);
    if (!u) {
        return;
    }
    if (!u->slots) {
        u->slots = calloc(168, sizeof *u->slots);
        if (!u->slots) {
            return;
        }
    }
    if (!u->bl_loaded) {
        err e = guard_store_baseline_load(d->st, u->name, &u->first_us, slot_load, u);
        if (e == ERR_NOT_FOUND) {
            u->first_us = ev->time_us;
            IGNORE(guard_store_baseline_user(d->st, u->name, u->first_us));
        } else if (e != ERR_OK) {
            log_warn("guard.store", "could not load a baseline: %s", err_message());
            u->first_us = ev->time_us;
        }
        u->bl_loaded = true;
    }
    int64_t hour = grules_local_hour(d->r, ev->time_us);
    if (!u->hour_set) {
        u->hour_set = true;
        u->cur_hour = hour;
        u->cur_count = 0;
        u->fired_hour = INT64_MIN;
    }
    if (hour < u->cur_hour) {
        return; /* late event from an hour already learnt */
    }
    if (hour > u->cur_hour) {
        hour_close(d, u, g, u->cur_hour, u->cur_count);
        int64_t last = hour - 1 < u->cur_hour + 168 ? hour - 1 : u->cur_hour + 168;
        for (int64_t h = u->cur_hour + 1; h <= last; h++) {
            hour_close(d, u, g, h, 0);
        }
        u->cur_hour = hour;
        u->cur_count = 0;
    }
    u->cur_count += (int64_t)n;
    if (ev->time_us - u->first_us < g->warmup_us || u->fired_hour == hour) {
        return;
    }
    const bslot *b = &u->slots[grules_hour_of_week(hour)];
    if (b->n == 0) {
        return;
    }
    double thr;
    if (g->ratio > 0) {
        thr = g->ratio * (b->mean > 1 ? b->mean : 1);
    } else {
        double sd = sqrt(b->var > 0 ? b->var : 0), floor_sd = sqrt(b->mean > 1 ? b->mean : 1);
        thr = b->mean + g->z * (sd > floor_sd ? sd : floor_sd);
    }
    if ((uint64_t)u->cur_count >= g->min && (double)u->cur_count >= thr) {
        u->fired_hour = hour;
        fire(c, ri, u->name, NULL, "%lld customers read this hour, usually %.1f",
             (long long)u->cur_count, b->mean);
    }
}

/* ---- new addresses ---- */

/* Room for one more known address (the list grows to KNOWN_MAX). */
static bool known_room(duser *u)
{
    if (u->nknown < u->capknown) {
        return true;
    }
    if (u->capknown >= KNOWN_MAX) {
        return false;
    }
    uint32_t nc = u->capknown ? u->capknown * 2 : 8;
    guard_addr *p = realloc(u->known, nc * sizeof *p);
    if (!p) {
        return false;
    }
    u->known = p;
    u->capknown = nc;
    return true;
}

static err known_load(void *vctx, const char *text)
{
    duser *u = vctx;
    guard_addr a;
    if (known_room(u) && guard_addr_parse(text, &a) == ERR_OK) {
        u->known[u->nknown++] = a;
    }
    return ERR_OK;
}

/* Returns true when the address is new to the account (and learns it). The first address
 * an account is ever seen with is learnt silently: *first is set. */
static bool address_is_new(ctx *c, duser *u, bool *first)
{
    gdetect *d = c->d;
    *first = false;
    if (!u->kn_loaded) {
        if (guard_store_known_list(d->st, u->name, KNOWN_MAX + 1, known_load, u) != ERR_OK) {
            log_warn("guard.store", "could not load known addresses: %s", err_message());
        }
        u->kn_truncated = u->nknown >= KNOWN_MAX;
        u->kn_loaded = true;
    }
    for (uint32_t i = 0; i < u->nknown; i++) {
        if (memcmp(u->known[i].b, c->masked.b, 16) == 0) {
            return false;
        }
    }
    char text[GUARD_ADDR_TEXT];
    guard_addr_format(&c->masked, text);
    if (u->kn_truncated) {
        bool has = false;
        if (guard_store_known_has(d->st, u->name, text, &has) == ERR_OK && has) {
            return false;
        }
    }
    *first = u->nknown == 0 && !u->kn_truncated;
    if (known_room(u)) {
        u->known[u->nknown++] = c->masked;
    } else {
        u->kn_truncated = true;
    }
    if (guard_store_known_add(d->st, u->name, text, c->ev->time_us) != ERR_OK) {
        log_warn("guard.store", "could not save a known address: %s", err_message());
    }
    return true;
}

/* ---- the event ---- */

static bool scan_hit(const grule *g, const gevent *ev)
{
    return ((g->events & EVM_UNKNOWN_ROUTE) && !ev->route_known) ||
           ((g->events & EVM_MALFORMED) && ev->malformed) ||
           ((g->events & EVM_OVERSIZED) && ev->oversized);
}

void gdetect_event(gdetect *d, const gevent *ev, gfinding_fn fn, void *fctx)
{
    if (ev->kind >= GUARD_EV__COUNT || d->nby_kind[ev->kind] == 0) {
        return;
    }
    ctx c;
    memset(&c, 0, sizeof c);
    c.d = d;
    c.ev = ev;
    c.fn = fn;
    c.fctx = fctx;
    if (ev->source[0] && guard_addr_parse(ev->source, &c.addr) == ERR_OK) {
        c.addr_ok = true;
        gaddr_mask(&c.addr, d->r->ipv6_prefix, &c.masked);
        gaddr_key_text(&c.masked, d->r->ipv6_prefix, c.addr_key);
    }
    uint64_t customers = ev->customers ? ev->customers : 1;
    bool new_addr_done = false, new_addr = false;
    for (int i = 0; i < d->nby_kind[ev->kind]; i++) {
        int ri = d->by_kind[ev->kind][i];
        const grule *g = &d->r->rules[ri];
        if (!role_ok(g, ev->role)) {
            continue;
        }
        switch (g->det) {
        case D_LOGIN_FAIL:
            win_rule(&c, ri, 1, "failed logins");
            break;
        case D_SPRAYING:
            distinct_rule(&c, ri, ev->username, "accounts with failed logins");
            break;
        case D_STUFFING:
            stuffing_rule(&c, ri);
            break;
        case D_DENIED:
            win_rule(&c, ri, 1, "denied requests");
            break;
        case D_DENIED_SPREAD: {
            char cats[G_CATS_MAX];
            snprintf(cats, sizeof cats, "%s", ev->categories);
            char *save = NULL;
            for (char *t = strtok_r(cats, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                distinct_rule(&c, ri, t, "distinct categories denied");
            }
            break;
        }
        case D_READS:
            win_rule(&c, ri, customers, "customers read");
            break;
        case D_EGRESS:
            win_rule(&c, ri, ev->bytes, "bytes of customer data");
            break;
        case D_BASELINE:
            baseline_rule(&c, ri, customers);
            break;
        case D_HONEYTOKEN:
            if (ev->username[0] && (ev->honeytoken || grules_is_honeytoken(d->r, ev->customer))) {
                fire(&c, ri, ev->username, NULL, "%s honeytoken customer %s",
                     ev->kind == GUARD_EV_CUSTOMER_WRITE ? "wrote to" : "read",
                     ev->customer[0] ? ev->customer : "(in a listing)");
            }
            break;
        case D_NOTICE:
            if (ev->username[0]) {
                fire(&c, ri, ev->username, NULL, "%s",
                     ev->categories[0] ? ev->categories : "notice");
            }
            break;
        case D_BAD_TOKEN:
            win_rule(&c, ri, 1, "unknown or forged bearer tokens");
            break;
        case D_PROBING:
            win_rule(&c, ri, 1, "searches on a masked field that found nothing");
            break;
        case D_SCAN:
            if (scan_hit(g, ev)) {
                win_rule(&c, ri, 1, "unknown, malformed or oversized requests");
            }
            break;
        case D_OFF_HOURS:
            if (ev->username[0] && grules_off_hours(d->r, ev->department, ev->time_us)) {
                win_rule(&c, ri, 1, "accesses outside working hours");
            }
            break;
        case D_NEW_ADDRESS:
            if (!ev->username[0] || !c.addr_ok) {
                break;
            }
            if (!new_addr_done) {
                new_addr_done = true;
                duser *u = user_get(d, ev->username);
                bool first = false;
                new_addr = u && address_is_new(&c, u, &first) && !first;
            }
            if (new_addr) {
                fire(&c, ri, ev->username, NULL, "first use of address %s by this account",
                     c.addr_key);
            }
            break;
        default:
            break;
        }
    }
}

void gdetect_sweep(gdetect *d, int64_t now_us)
{
    for (int i = 0; i < MAP_BUCKETS; i++) {
        dstate **pp = &d->map[i];
        while (*pp) {
            dstate *s = *pp;
            const grule *g = &d->r->rules[s->rule];
            if (s->touched_us < now_us - g->window_us - width_of(g)) {
                *pp = s->next;
                state_free(s);
                d->nstates--;
            } else {
                pp = &s->next;
            }
        }
    }
}
