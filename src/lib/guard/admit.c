/*
 * admit.c - admission: the part of the guard on the request path.
 *
 * Everything is decided from memory, without allocating: the allow and deny
 * lists are sorted ranges (binary search), and per-key state lives in two
 * tables (addresses, accounts) of 64 stripes, each stripe a mutex and two
 * fixed open-addressing arrays:
 *   - rate slots: token bucket and open-connection count per key. Bounded
 *     probing; when a probe window is full the least recently used slot with no
 *     open connection is reused, so a flood of addresses costs memory we already
 *     have and never grows anything.
 *   - sanction slots: blocks and throttles with expiry. Never evicted (a flood
 *     must not push a block out); they leave when they expire or are lifted.
 * A key is the address (IPv6 masked to ipv6_prefix) or the keyed hash of the
 * username. Verdict counters live in the stripe, so counting adds no shared
 * cache line.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard_int.h"

err gtable_init(gtable *t, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    t->s = aligned_alloc(64, sizeof(stripe) * G_STRIPES);
    ENSURE(t->s != NULL, ERR_INTERNAL, "out of memory");
    memset(t->s, 0, sizeof(stripe) * G_STRIPES);
    for (int i = 0; i < G_STRIPES; i++) {
        pthread_mutexattr_t at;
        pthread_mutexattr_init(&at);
        pthread_mutexattr_settype(&at, PTHREAD_MUTEX_ADAPTIVE_NP);
        pthread_mutex_init(&t->s[i].mu, &at);
        pthread_mutexattr_destroy(&at);
    }
    t->seed = seed;
    return ERR_OK;
}

void gtable_free(gtable *t)
{
    if (!t->s) {
        return;
    }
    for (int i = 0; i < G_STRIPES; i++) {
        pthread_mutex_destroy(&t->s[i].mu);
    }
    free(t->s);
    t->s = NULL;
}

uint64_t gtable_account_hash(const gtable *t, const char *username)
{
    return ghash(username, strnlen(username, G_USER_MAX), t->seed ^ 0x5bd1e995u);
}

static inline stripe *stripe_of(gtable *t, uint64_t h)
{
    return &t->s[h & (G_STRIPES - 1)];
}

static inline bool key_eq(uint64_t h, const guard_addr *k, uint64_t h2, const guard_addr *k2)
{
    return h == h2 && memcmp(k->b, k2->b, 16) == 0;
}

/* Under the stripe lock. NULL when absent. */
static sanction_slot *sanction_find(stripe *s, uint64_t h, const guard_addr *k)
{
    size_t at = (size_t)(h >> 6) & (G_SANCTION_SLOTS - 1);
    for (int i = 0; i < G_SANCTION_PROBE; i++) {
        sanction_slot *x = &s->sanc[(at + (size_t)i) & (G_SANCTION_SLOTS - 1)];
        if (x->h && key_eq(x->h, &x->key, h, k)) {
            return x;
        }
    }
    return NULL;
}

/* Under the stripe lock: the key's rate slot, created (full bucket) or reused when absent;
 * NULL when every slot of the window has open connections. */
static rate_slot *rate_slot_get(stripe *s, uint64_t h, const guard_addr *k, int64_t now,
                                double burst)
{
    size_t at = (size_t)(h >> 6) & (G_RATE_SLOTS - 1);
    rate_slot *victim = NULL;
    for (int i = 0; i < G_PROBE; i++) {
        rate_slot *x = &s->rate[(at + (size_t)i) & (G_RATE_SLOTS - 1)];
        if (x->h == 0) {
            victim = victim && victim->h == 0 ? victim : x;
            continue;
        }
        if (key_eq(x->h, &x->key, h, k)) {
            return x;
        }
        if (x->conns == 0 && (!victim || (victim->h != 0 && x->last_us < victim->last_us))) {
            victim = x;
        }
    }
    if (!victim) {
        return NULL;
    }
    victim->h = h;
    victim->key = *k;
    victim->last_us = now;
    victim->tokens = burst;
    victim->conns = 0;
    return victim;
}

/* Takes one token; on failure retry receives the seconds until one is there. */
static bool take(double *tokens, int64_t *last, int64_t now, const grate *r, uint32_t *retry)
{
    if (now > *last) {
        *tokens += (double)(now - *last) * r->per_s / 1e6;
        if (*tokens > r->burst) {
            *tokens = r->burst;
        }
        *last = now;
    }
    if (*tokens >= 1.0) {
        *tokens -= 1.0;
        return true;
    }
    double s = ceil((1.0 - *tokens) / r->per_s);
    *retry = s < 1 ? 1 : s > 86400 ? 86400 : (uint32_t)s;
    return false;
}

static uint32_t secs_until(int64_t until, int64_t now)
{
    int64_t s = (until - now + 999999) / 1000000;
    return s < 1 ? 1 : s > 0x7fffffff ? 0x7fffffff : (uint32_t)s;
}

static inline guard_verdict decide(guard_decision *d, guard_verdict v, guard_reason r,
                                   uint32_t retry)
{
    if (d) {
        d->verdict = v;
        d->reason = r;
        d->retry_after_s = retry;
    }
    return v;
}

/* A verdict reached without the stripe's lock. */
static guard_verdict verdict(guard_decision *d, stripe *s, guard_verdict v, guard_reason r,
                             uint32_t retry)
{
    if (s) {
        atomic_fetch_add_explicit(&s->verdicts[v], 1, memory_order_relaxed);
    }
    return decide(d, v, r, retry);
}

/* A verdict reached holding the stripe's lock: counted, then the lock is released. */
static guard_verdict verdict_unlock(guard_decision *d, stripe *s, guard_verdict v, guard_reason r,
                                    uint32_t retry)
{
    s->locked[v]++;
    pthread_mutex_unlock(&s->mu);
    return decide(d, v, r, retry);
}

/* Lists first: deny beats allow; "default deny" refuses what the allow list lacks; an
 * allow-listed address is admitted at once. Returns true when decided (out set). */
static bool lists(guard *g, const guard_addr *a, stripe *s, guard_decision *d, guard_verdict *out)
{
    const guard_rules *r = g->r;
    if (r->deny.n && granges_has(&r->deny, a)) {
        *out = verdict(d, s, GUARD_BLOCK, GUARD_R_DENY_LIST, 0);
        return true;
    }
    bool allowed = r->allow.n && granges_has(&r->allow, a);
    if (r->default_deny && !allowed) {
        *out = verdict(d, s, GUARD_BLOCK, GUARD_R_NOT_ALLOWED, 0);
        return true;
    }
    if (allowed) {
        *out = verdict(d, s, GUARD_ADMIT, GUARD_R_NONE, 0);
        return true;
    }
    return false;
}

static inline void addr_key(guard *g, const guard_addr *a, guard_addr *k, uint64_t *h)
{
    gaddr_mask(a, g->r->ipv6_prefix, k);
    *h = ghash(k->b, 16, g->addr.seed);
}

/* Under the stripe lock: blocks, throttles, then the bucket (rate may be NULL). Unlocks. */
static guard_verdict admit_locked(stripe *s, uint64_t h, const guard_addr *k, int64_t now,
                                  const grate *rate, const grate *throttled, guard_decision *d)
{
    uint32_t retry = 0;
    if (s->nsanctions) {
        sanction_slot *x = sanction_find(s, h, k);
        if (x && x->block_until > now) {
            return verdict_unlock(d, s, GUARD_BLOCK, GUARD_R_BLOCKED,
                                  secs_until(x->block_until, now));
        }
        if (x && x->throttle_until > now) {
            if (take(&x->ttokens, &x->tlast, now, throttled, &retry)) {
                return verdict_unlock(d, s, GUARD_ADMIT, GUARD_R_NONE, 0);
            }
            /* never ask a client to wait past the end of its throttle */
            uint32_t left = secs_until(x->throttle_until, now);
            return verdict_unlock(d, s, GUARD_THROTTLE, GUARD_R_THROTTLED,
                                  retry < left ? retry : left);
        }
    }
    if (rate) {
        rate_slot *x = rate_slot_get(s, h, k, now, rate->burst);
        if (x && !take(&x->tokens, &x->last_us, now, rate, &retry)) {
            return verdict_unlock(d, s, GUARD_THROTTLE, GUARD_R_RATE, retry);
        }
    }
    return verdict_unlock(d, s, GUARD_ADMIT, GUARD_R_NONE, 0);
}

guard_verdict guard_admit(guard *g, const guard_addr *a, int64_t now, guard_decision *d)
{
    if (!g) {
        return decide(d, GUARD_ADMIT, GUARD_R_NONE, 0);
    }
    guard_addr k;
    uint64_t h;
    addr_key(g, a, &k, &h);
    stripe *s = stripe_of(&g->addr, h);
    guard_verdict v;
    if (lists(g, a, s, d, &v)) {
        return v;
    }
    const guard_rules *r = g->r;
    if (!r->addr_rate.on && atomic_load_explicit(&g->addr.sanctions, memory_order_relaxed) == 0) {
        return verdict(d, s, GUARD_ADMIT, GUARD_R_NONE, 0);
    }
    pthread_mutex_lock(&s->mu);
    return admit_locked(s, h, &k, now, r->addr_rate.on ? &r->addr_rate : NULL, &r->throttled_rate,
                        d);
}

guard_verdict guard_conn_open(guard *g, const guard_addr *a, int64_t now, guard_decision *d)
{
    if (!g) {
        return decide(d, GUARD_ADMIT, GUARD_R_NONE, 0);
    }
    guard_addr k;
    uint64_t h;
    addr_key(g, a, &k, &h);
    stripe *s = stripe_of(&g->addr, h);
    guard_verdict v;
    if (lists(g, a, s, d, &v)) {
        return v;
    }
    const guard_rules *r = g->r;
    if (r->max_conns == 0 && atomic_load_explicit(&g->addr.sanctions, memory_order_relaxed) == 0) {
        return verdict(d, s, GUARD_ADMIT, GUARD_R_NONE, 0);
    }
    pthread_mutex_lock(&s->mu);
    if (s->nsanctions) {
        sanction_slot *x = sanction_find(s, h, &k);
        if (x && x->block_until > now) {
            return verdict_unlock(d, s, GUARD_BLOCK, GUARD_R_BLOCKED,
                                  secs_until(x->block_until, now));
        }
    }
    if (r->max_conns) {
        rate_slot *x = rate_slot_get(s, h, &k, now, r->addr_rate.on ? r->addr_rate.burst : 0);
        if (!x) {
            atomic_fetch_add_explicit(&g->conn_untracked, 1, memory_order_relaxed);
        } else if ((uint32_t)x->conns >= r->max_conns) {
            return verdict_unlock(d, s, GUARD_THROTTLE, GUARD_R_CONNECTIONS, 1);
        } else {
            x->conns++;
        }
    }
    return verdict_unlock(d, s, GUARD_ADMIT, GUARD_R_NONE, 0);
}

void guard_conn_close(guard *g, const guard_addr *a)
{
    if (!g || g->r->max_conns == 0) {
        return;
    }
    const guard_rules *r = g->r;
    if ((r->deny.n && granges_has(&r->deny, a)) || (r->allow.n && granges_has(&r->allow, a)) ||
        r->default_deny) {
        return; /* never counted */
    }
    guard_addr k;
    uint64_t h;
    addr_key(g, a, &k, &h);
    stripe *s = stripe_of(&g->addr, h);
    pthread_mutex_lock(&s->mu);
    size_t at = (size_t)(h >> 6) & (G_RATE_SLOTS - 1);
    for (int i = 0; i < G_PROBE; i++) {
        rate_slot *x = &s->rate[(at + (size_t)i) & (G_RATE_SLOTS - 1)];
        if (x->h && key_eq(x->h, &x->key, h, &k)) {
            if (x->conns > 0) {
                x->conns--;
            }
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

guard_verdict guard_admit_account(guard *g, const char *username, int64_t now, guard_decision *d)
{
    if (!g || !username || !username[0]) {
        return decide(d, GUARD_ADMIT, GUARD_R_NONE, 0);
    }
    const guard_rules *r = g->r;
    uint64_t h = gtable_account_hash(&g->acct, username);
    stripe *s = stripe_of(&g->acct, h);
    if (!r->acct_rate.on && atomic_load_explicit(&g->acct.sanctions, memory_order_relaxed) == 0) {
        return verdict(d, s, GUARD_ADMIT, GUARD_R_NONE, 0);
    }
    static const guard_addr zero;
    pthread_mutex_lock(&s->mu);
    return admit_locked(s, h, &zero, now, r->acct_rate.on ? &r->acct_rate : NULL,
                        &r->throttled_rate, d);
}

/* ---- sanctions (off the hot path) ---- */

err gtable_sanction(gtable *t, const guard_addr *key, uint64_t h, int kind, int64_t until_us,
                    int64_t now_us)
{
    static const guard_addr zero;
    const guard_addr *k = key ? key : &zero;
    stripe *s = stripe_of(t, h);
    err rc = ERR_OK;
    pthread_mutex_lock(&s->mu);
    sanction_slot *x = sanction_find(s, h, k);
    if (!x && until_us > 0) {
        size_t at = (size_t)(h >> 6) & (G_SANCTION_SLOTS - 1);
        for (int i = 0; i < G_SANCTION_PROBE && !x; i++) {
            sanction_slot *y = &s->sanc[(at + (size_t)i) & (G_SANCTION_SLOTS - 1)];
            if (y->h == 0) {
                x = y;
                memset(x, 0, sizeof *x);
                x->h = h;
                x->key = *k;
                s->nsanctions++;
                atomic_fetch_add(&t->sanctions, 1);
            }
        }
        if (!x) {
            rc = err_set(ERR_CONFLICT, __FILE__, __LINE__,
                         "guard: too many blocks and throttles in force");
        }
    }
    if (x) {
        if (kind == SANC_BLOCK) {
            x->block_until = until_us;
        } else {
            x->throttle_until = until_us;
            x->ttokens = 0; /* a new throttle starts with an empty bucket */
            x->tlast = now_us;
        }
        if (x->block_until == 0 && x->throttle_until == 0) {
            x->h = 0;
            s->nsanctions--;
            atomic_fetch_sub(&t->sanctions, 1);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int64_t gtable_count(gtable *t, int kind, int64_t now_us)
{
    int64_t n = 0;
    for (int i = 0; i < G_STRIPES; i++) {
        stripe *s = &t->s[i];
        pthread_mutex_lock(&s->mu);
        for (int j = 0; s->nsanctions && j < G_SANCTION_SLOTS; j++) {
            const sanction_slot *x = &s->sanc[j];
            if (x->h && (kind == SANC_BLOCK ? x->block_until : x->throttle_until) > now_us) {
                n++;
            }
        }
        pthread_mutex_unlock(&s->mu);
    }
    return n;
}

void gtable_expire(gtable *t, int64_t now_us)
{
    for (int i = 0; i < G_STRIPES; i++) {
        stripe *s = &t->s[i];
        pthread_mutex_lock(&s->mu);
        for (int j = 0; s->nsanctions && j < G_SANCTION_SLOTS; j++) {
            sanction_slot *x = &s->sanc[j];
            if (!x->h) {
                continue;
            }
            if (x->block_until <= now_us) {
                x->block_until = 0;
            }
            if (x->throttle_until <= now_us) {
                x->throttle_until = 0;
            }
            if (!x->block_until && !x->throttle_until) {
                x->h = 0;
                s->nsanctions--;
                atomic_fetch_sub(&t->sanctions, 1);
            }
        }
        pthread_mutex_unlock(&s->mu);
    }
}

uint64_t gtable_verdicts(gtable *t, guard_verdict v)
{
    uint64_t n = 0;
    for (int i = 0; i < G_STRIPES; i++) {
        stripe *s = &t->s[i];
        n += atomic_load_explicit(&s->verdicts[v], memory_order_relaxed);
        pthread_mutex_lock(&s->mu);
        n += s->locked[v];
        pthread_mutex_unlock(&s->mu);
    }
    return n;
}

const char *guard_verdict_name(guard_verdict v)
{
    return v == GUARD_ADMIT ? "admit" : v == GUARD_THROTTLE ? "throttle" : "block";
}

const char *guard_reason_name(guard_reason r)
{
    static const char *const n[] = {"none",      "deny_list", "not_allowed", "blocked",
                                    "throttled", "rate",      "connections"};
    return (unsigned)r < sizeof n / sizeof n[0] ? n[r] : "?";
}
