/*
 * logins.c - who may try a password, from where, and how often.
 *
 * Failed logins never lock an account as a whole: a stranger who can reach the
 * server could otherwise lock any employee out. Instead:
 *
 *  - Lockout is per (account, source address): after access.lockout_after
 *    failures from one address, that address may not sign in to that account
 *    for access.lockout_minutes, doubling with each further lockout of the
 *    same pair up to 24 hours. Other addresses are unaffected.
 *  - A familiar address (one the account has signed in from before, with every
 *    factor it needs) is never throttled by failures from elsewhere; when the
 *    pair itself is locked, the password together with the second factor still
 *    opens it.
 *  - Across all unfamiliar addresses an account is throttled, not locked: a
 *    token bucket of LOGINS_BURST attempts refilled one per LOGINS_REFILL_S
 *    seconds. An empty bucket answers 429 with Retry-After before any password
 *    work, so many addresses together get at most LOGINS_BURST + 3600 /
 *    LOGINS_REFILL_S guesses an hour on one account.
 *  - Sessions already open are never touched by any of this.
 *
 * The state of pairs and buckets lives in memory (bounded tables, keyed by a
 * keyed hash with a per-process key, oldest entry evicted when full); the
 * familiar addresses of an account are kept in the store's metadata as keyed
 * hashes (never the address itself), at most FAMILIAR_MAX, most recent first.
 * Unknown usernames (as "unknown:<keyed hash>") get the same treatment, so the
 * answers do not tell them apart.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "core/net.h"
#include "identity/identity.h"

#define PAIR_SLOTS 8192
#define ACCT_SLOTS 4096
#define PROBE 16
#define FAMILIAR_MAX 16
#define FAMILIAR_HEX 16 /* 8 bytes of a keyed hash */
#define LOCK_CAP_US ((int64_t)24 * 3600 * 1000000)
#define FORGET_US ((int64_t)24 * 3600 * 1000000) /* a pair idle this long starts afresh */

typedef struct pair_slot {
    uint64_t key, acct; /* 0: free */
    int fails, level;
    int64_t locked_until_us, touched_us;
} pair_slot;

typedef struct acct_slot {
    uint64_t key; /* 0: free */
    double tokens;
    int64_t at_us; /* tokens as of this time */
} acct_slot;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static uint8_t table_key[32];
static pair_slot pairs[PAIR_SLOTS];
static acct_slot accts[ACCT_SLOTS];

static void init_key(void)
{
    rand_bytes(table_key, sizeof table_key);
}

/* Keyed by the vault too: offline tools and tests may open several in one process. */
static uint64_t key_of(const identity *id, const char *name, const uint8_t addr[16])
{
    pthread_once(&once, init_key);
    uint8_t in[2 * USERNAME_MAX + 64 + 16];
    size_t n = strnlen(name, USERNAME_MAX + 32);
    memcpy(in, name, n);
    in[n++] = 0;
    if (addr) {
        memcpy(in + n, addr, 16);
        n += 16;
    }
    uint8_t d[16];
    hash_blake2b(d, sizeof d, (const uint8_t *)id->scope, strlen(id->scope), NULL, 0);
    memcpy(in + n, d, sizeof d);
    n += sizeof d;
    uint8_t h[8];
    hash_blake2b(h, sizeof h, in, n, table_key, sizeof table_key);
    uint64_t k = 0;
    for (int i = 0; i < 8; i++) {
        k = k << 8 | h[i];
    }
    return k ? k : 1;
}

/* The address as 16 bytes (IPv4 mapped; IPv6 cut to its /64, where one client's addresses
 * change). An unparsable source is hashed as text. */
static void addr_bytes(const char *source, uint8_t out[16])
{
    static const uint8_t MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(out, 0, 16);
    if (source && strnlen(source, 48) < 48 && net_addr_parse(source, out) == ERR_OK) {
        if (memcmp(out, MAPPED, sizeof MAPPED) != 0) {
            memset(out + 8, 0, 8);
        }
        return;
    }
    memset(out, 0, 16);
    uint8_t h[16];
    const char *s = source ? source : "";
    hash_blake2b(h, sizeof h, (const uint8_t *)s, strlen(s), NULL, 0);
    memcpy(out, h, 16);
}

/* The whole probe window is searched (a slot freed by a success may sit before the key). */
static pair_slot *pair_find(uint64_t key, uint64_t acct, bool create, int64_t now)
{
    size_t start = (size_t)(key % PAIR_SLOTS), victim = start;
    bool victim_free = false;
    for (size_t i = 0; i < PROBE; i++) {
        pair_slot *p = &pairs[(start + i) % PAIR_SLOTS];
        if (p->key == key) {
            if (now - p->touched_us > FORGET_US && p->locked_until_us <= now) {
                p->fails = p->level = 0;
            }
            return p;
        }
        if (victim_free) {
            continue;
        }
        if (p->key == 0 || p->touched_us < pairs[victim].touched_us) {
            victim = (start + i) % PAIR_SLOTS;
            victim_free = p->key == 0;
        }
    }
    if (!create) {
        return NULL;
    }
    pair_slot *p = &pairs[victim];
    memset(p, 0, sizeof *p);
    p->key = key;
    p->acct = acct;
    p->touched_us = now;
    return p;
}

static void refill(acct_slot *a, int64_t now);

/* When the table is full, a bucket that has refilled completely is given up first (forgetting
 * it changes nothing); only then the oldest. Flooding the table with other names to reset an
 * account's bucket thus needs every bucket of the probe window drained at once. */
static acct_slot *acct_find(uint64_t key, int64_t now)
{
    size_t start = (size_t)(key % ACCT_SLOTS), victim = start;
    bool victim_full = false, victim_free = false;
    for (size_t i = 0; i < PROBE; i++) {
        acct_slot *a = &accts[(start + i) % ACCT_SLOTS];
        if (a->key == key) {
            return a;
        }
        if (victim_free) {
            continue;
        }
        if (a->key == 0) {
            victim = (start + i) % ACCT_SLOTS;
            victim_free = true;
            continue;
        }
        refill(a, now);
        bool full = a->tokens >= LOGINS_BURST;
        if ((full && !victim_full) || (full == victim_full && a->at_us < accts[victim].at_us)) {
            victim = (start + i) % ACCT_SLOTS;
            victim_full = full;
        }
    }
    acct_slot *a = &accts[victim];
    a->key = key;
    a->tokens = LOGINS_BURST;
    a->at_us = now;
    return a;
}

static void refill(acct_slot *a, int64_t now)
{
    if (now > a->at_us) {
        a->tokens += (double)(now - a->at_us) / ((double)LOGINS_REFILL_S * 1e6);
        if (a->tokens > LOGINS_BURST) {
            a->tokens = LOGINS_BURST;
        }
        a->at_us = now;
    }
}

/* ---- familiar addresses ---- */

static void familiar_key(const char *account_id, char *out, size_t max)
{
    snprintf(out, max, "login.familiar.%s", account_id);
}

static void familiar_tag(identity *id, const uint8_t addr[16], char out[FAMILIAR_HEX + 1])
{
    uint8_t h[32];
    keyring_audit_hash(id->kr, (slice){addr, 16}, h);
    hex_encode(out, h, FAMILIAR_HEX / 2);
}

static bool familiar_has(identity *id, const char *account_id, const uint8_t addr[16])
{
    if (!account_id || !account_id[0]) {
        return false;
    }
    char k[ID_LEN + 32], tag[FAMILIAR_HEX + 1];
    familiar_key(account_id, k, sizeof k);
    familiar_tag(id, addr, tag);
    buf b;
    buf_init(&b, 4096);
    bool has = false;
    if (store_meta_get(id->st, k, &b) == ERR_OK) {
        const char *p = buf_cstr(&b);
        while (*p && !has) {
            has =
                strncmp(p, tag, FAMILIAR_HEX) == 0 && (p[FAMILIAR_HEX] == ',' || !p[FAMILIAR_HEX]);
            const char *c = strchr(p, ',');
            p = c ? c + 1 : p + strlen(p);
        }
    }
    buf_free(&b);
    return has;
}

/* Read, add, write: serialised, so that two sign-ins from new addresses at once both stay. */
static pthread_mutex_t familiar_mu = PTHREAD_MUTEX_INITIALIZER;

static void familiar_learn(identity *id, const char *account_id, const uint8_t addr[16])
{
    pthread_mutex_lock(&familiar_mu);
    char k[ID_LEN + 32], tag[FAMILIAR_HEX + 1];
    familiar_key(account_id, k, sizeof k);
    familiar_tag(id, addr, tag);
    buf b;
    buf_init(&b, 4096);
    char list[FAMILIAR_MAX * (FAMILIAR_HEX + 1) + 1];
    int len = snprintf(list, sizeof list, "%s", tag);
    int kept = 1;
    if (store_meta_get(id->st, k, &b) == ERR_OK) {
        const char *p = buf_cstr(&b);
        while (*p && kept < FAMILIAR_MAX) {
            const char *c = strchr(p, ',');
            size_t n = c ? (size_t)(c - p) : strlen(p);
            if (n == FAMILIAR_HEX && strncmp(p, tag, FAMILIAR_HEX) != 0) {
                len += snprintf(list + len, sizeof list - (size_t)len, ",%.*s", (int)n, p);
                kept++;
            }
            p = c ? c + 1 : p + n;
        }
    }
    buf_free(&b);
    IGNORE(store_meta_set(id->st, k, list));
    pthread_mutex_unlock(&familiar_mu);
}

/* ---- checks and outcomes ---- */

static int64_t lock_period(const identity *id, int level)
{
    int64_t p = id->lockout_us ? id->lockout_us : (int64_t)60 * 1000000;
    for (int i = 0; i < level && p < LOCK_CAP_US; i++) {
        p *= 2;
    }
    return p < LOCK_CAP_US ? p : LOCK_CAP_US;
}

void identity_logins_check(identity *id, const char *account_id, const char *name,
                           const char *source, login_check *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = clock_now_us();
    addr_bytes(source, out->addr);
    out->familiar = familiar_has(id, account_id, out->addr);
    uint64_t ak = key_of(id, name, NULL), pk = key_of(id, name, out->addr);
    pthread_mutex_lock(&mu);
    pair_slot *p = pair_find(pk, ak, false, now);
    if (p && p->locked_until_us > now) {
        out->gate = LOGIN_LOCKED;
        out->retry_after_us = p->locked_until_us - now;
    } else if (!out->familiar) {
        acct_slot *a = acct_find(ak, now);
        refill(a, now);
        if (a->tokens >= 1.0) {
            a->tokens -= 1.0;
            out->reserved = true;
        } else {
            out->gate = LOGIN_THROTTLED;
            out->retry_after_us = (int64_t)((1.0 - a->tokens) * LOGINS_REFILL_S * 1e6) + 1;
        }
    }
    pthread_mutex_unlock(&mu);
}

bool identity_logins_failed(identity *id, const char *name, login_check *c)
{
    int64_t now = clock_now_us();
    int after = id->lockout_after ? id->lockout_after : 5;
    uint64_t ak = key_of(id, name, NULL), pk = key_of(id, name, c->addr);
    bool locked = false;
    pthread_mutex_lock(&mu);
    pair_slot *p = pair_find(pk, ak, true, now);
    p->touched_us = now;
    if (p->locked_until_us <= now && ++p->fails >= after) {
        p->locked_until_us = now + lock_period(id, p->level);
        p->level++;
        p->fails = 0;
        locked = true;
    }
    c->lock_level = p->level;
    c->locked_until_us = p->locked_until_us;
    pthread_mutex_unlock(&mu);
    return locked;
}

void identity_logins_succeeded(identity *id, const char *account_id, const char *name,
                               const login_check *c)
{
    int64_t now = clock_now_us();
    uint64_t ak = key_of(id, name, NULL), pk = key_of(id, name, c->addr);
    pthread_mutex_lock(&mu);
    pair_slot *p = pair_find(pk, ak, false, now);
    if (p) {
        memset(p, 0, sizeof *p); /* the pair starts afresh */
    }
    if (c->reserved) {
        acct_slot *a = acct_find(ak, now);
        refill(a, now);
        a->tokens = a->tokens + 1.0 > LOGINS_BURST ? LOGINS_BURST : a->tokens + 1.0;
    }
    pthread_mutex_unlock(&mu);
    if (!c->familiar) {
        familiar_learn(id, account_id, c->addr);
    }
}

void identity_logins_lock(identity *id, const char *name, const char *source, int64_t until_us)
{
    int64_t now = clock_now_us();
    uint8_t addr[16];
    addr_bytes(source, addr);
    uint64_t ak = key_of(id, name, NULL), pk = key_of(id, name, addr);
    pthread_mutex_lock(&mu);
    pair_slot *p = pair_find(pk, ak, true, now);
    p->touched_us = now;
    if (p->locked_until_us < until_us) {
        p->locked_until_us = until_us;
    }
    pthread_mutex_unlock(&mu);
}

void identity_logins_forget(identity *id, const char *name)
{
    uint64_t ak = key_of(id, name, NULL);
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < PAIR_SLOTS; i++) {
        if (pairs[i].key && pairs[i].acct == ak) {
            pairs[i].locked_until_us = 0;
            pairs[i].fails = pairs[i].level = 0;
        }
    }
    for (size_t i = 0; i < ACCT_SLOTS; i++) {
        if (accts[i].key == ak) {
            accts[i].tokens = LOGINS_BURST;
        }
    }
    pthread_mutex_unlock(&mu);
}
