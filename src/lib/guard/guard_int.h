/*
 * guard_int.h - what the guard's files share and nobody else sees: the parsed
 * rules, the admission tables, the event queue, the detector state and the
 * delivery queue. See guard.h for the idea and docs/GUARD.md for the rules.
 */
#ifndef CUSTOS_GUARD_INT_H
#define CUSTOS_GUARD_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "guard/guard.h"
#include "store/guard_store.h"

typedef unsigned __int128 u128;

/* ---- sizes ---- */
#define G_NAME_MAX 64                           /* rule names */
#define G_SETTLED_US ((int64_t)86400 * 1000000) /* block-new: an address known a day is usual */
#define G_USER_MAX 64                           /* usernames in events */
#define G_ROLE_MAX 24
#define G_DEPT_MAX 64
#define G_SOURCE_MAX 64
#define G_CATS_MAX 160
#define G_CUSTOMER_MAX 40
#define G_MAX_RULES 256
#define G_MAX_ROLES 12 /* roles named in one rule's filter */
#define G_MAX_SINKS 32
#define G_MAX_SCHEDULES 64
#define G_MAX_SPANS 8       /* time spans per weekday in one schedule */
#define G_MAX_DISTINCT 4096 /* thresholds of distinct-member detectors */
#define G_EVIDENCE_RING 16  /* audit indexes kept per detector subject */
#define G_STRIPES 64
#define G_RATE_SLOTS 1024    /* per stripe: rate-limit entries (evictable) */
#define G_SANCTION_SLOTS 256 /* per stripe: blocks and throttles (never evicted) */
#define G_PROBE 8
#define G_SANCTION_PROBE 16

/* ---- addresses and hashing ---- */
void gaddr_mask(const guard_addr *a, int v6_prefix, guard_addr *out);
/* The text of a subject key: plain for IPv4 and full IPv6, "P/N" for a masked prefix. */
void gaddr_key_text(const guard_addr *masked, int v6_prefix, char out[GUARD_ADDR_TEXT + 4]);
u128 gaddr_u128(const guard_addr *a);
uint64_t ghash(const void *p, size_t n, uint64_t seed);

typedef struct grange {
    u128 lo, hi;
} grange;
typedef struct granges {
    grange *r;
    size_t n, cap;
} granges;
/* "a.b.c.d[/n]" or "v6[/n]"; ERR_INPUT with the reason as the error's message. */
MUST_USE err granges_add_cidr(granges *g, const char *cidr);
void granges_finish(granges *g); /* sort and merge */
bool granges_has(const granges *g, const guard_addr *a);
void granges_free(granges *g);

/* ---- rules ---- */
typedef enum gdet {
    D_LOGIN_FAIL,
    D_SPRAYING,
    D_STUFFING,
    D_DENIED,
    D_DENIED_SPREAD,
    D_READS,
    D_BASELINE,
    D_OFF_HOURS,
    D_NEW_ADDRESS,
    D_HONEYTOKEN,
    D_SCAN,
    D_EGRESS,
    D_NOTICE,
    D_BAD_TOKEN,
    D_PROBING,
    D__COUNT
} gdet;
const char *gdet_name(gdet d);

typedef enum gper { PER_ACCOUNT, PER_ADDRESS, PER_GLOBAL } gper;
const char *gper_name(gper p);

typedef enum gsev { SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL, SEV__COUNT } gsev;
const char *gsev_name(gsev s);
bool gsev_parse(const char *s, gsev *out);

enum {
    ACT_LOG = 1u << 0,
    ACT_ALERT = 1u << 1,
    ACT_THROTTLE = 1u << 2,
    ACT_BLOCK = 1u << 3,
    ACT_LOCK = 1u << 4,
    ACT_REVOKE = 1u << 5,
    ACT_REAUTH = 1u << 6,
    ACT_SEAL = 1u << 7,
    ACT_TRAIN = 1u << 8,     /* a remedial course for the account (grule.train) */
    ACT_BLOCK_NEW = 1u << 9, /* block the source only when it is new (grule.block_us) */
};

enum { ROUTE_SECURITY = 1u << 0, ROUTE_HR = 1u << 1, ROUTE_STEWARD = 1u << 2 };

/* What an off_hours / new_address rule looks at; what a scan rule counts. */
enum {
    EVM_READS = 1u << 0,
    EVM_LOGINS = 1u << 1,
    EVM_ANY = 1u << 2,
    EVM_UNKNOWN_ROUTE = 1u << 3,
    EVM_MALFORMED = 1u << 4,
    EVM_OVERSIZED = 1u << 5,
};

typedef struct grule {
    char name[G_NAME_MAX + 1];
    int line;
    gdet det;
    gper per;
    uint64_t threshold; /* count, distinct members, customers or bytes */
    int64_t window_us;
    uint64_t accounts; /* stuffing: distinct accounts as well */
    double ratio, z, alpha;
    uint64_t min;
    int64_t warmup_us;
    unsigned events; /* EVM_* */
    gsev sev;
    unsigned actions; /* ACT_* */
    int64_t throttle_us, block_us, lock_us;
    char train[65]; /* "train COURSE": the remedial course (ACT_TRAIN) */
    unsigned routes;
    char roles[G_MAX_ROLES][G_ROLE_MAX + 1];
    int nroles;
    bool roles_skip; /* "skip_roles": the list excludes */
    char text[160];  /* what the rule watches, for alert details */
} grule;

typedef struct gspan {
    uint16_t from, to; /* minutes of the day, [from, to) */
} gspan;
typedef struct gschedule {
    char dept[G_DEPT_MAX + 1]; /* "default" for everyone else */
    gspan day[7][G_MAX_SPANS]; /* Monday = 0 */
    int nspan[7];
} gschedule;

typedef enum gsink_kind { SINK_SYSLOG_UDP, SINK_SYSLOG_UNIX, SINK_WEBHOOK, SINK_EMAIL } gsink_kind;
typedef struct gsink {
    gsink_kind kind;
    unsigned routes;           /* ROUTE_*; syslog: every alert */
    char dept[G_DEPT_MAX + 1]; /* data_steward:DEPT, or "" for every department */
    gsev min;
    char target[1024]; /* host:port, socket path, URL */
    char from[256];
    char to[1024];       /* comma-separated */
    bool plain_loopback; /* email: "plain-loopback", a relay on loopback without TLS */
} gsink;

typedef struct grate {
    bool on;
    double per_s;
    double burst;
} grate;

struct guard_rules {
    char file[256];
    int tz_offset_s;
    int ipv6_prefix;
    size_t queue;
    int64_t aggregate_us;
    size_t evidence_max;
    granges allow, deny;
    bool default_deny;
    grate addr_rate, acct_rate, throttled_rate;
    uint32_t max_conns;
    gschedule sched[G_MAX_SCHEDULES];
    int nsched;
    int32_t *holidays; /* days since 1970-01-01, local time, sorted */
    size_t nholidays;
    int32_t *workdays;
    size_t nworkdays;
    char (*honeytokens)[G_CUSTOMER_MAX + 1];
    size_t nhoneytokens;
    gsink sinks[G_MAX_SINKS];
    int nsinks;
    bool nft_on;
    char nft_family[16], nft_table[64], nft_set4[64], nft_set6[64], nft_path[256];
    int64_t retry_us;
    int attempts;
    grule rules[G_MAX_RULES];
    int nrules;
};

bool grules_is_honeytoken(const guard_rules *r, const char *id);
/* Off hours at time t for department dept (the "default" schedule when it has none; no
 * schedule at all: never off hours). */
bool grules_off_hours(const guard_rules *r, const char *dept, int64_t t_us);
/* Local day number and hour of week (Monday 00:00 = 0) of t. */
int64_t grules_local_hour(const guard_rules *r, int64_t t_us);
int grules_hour_of_week(int64_t local_hour);

/* ---- admission tables ---- */
typedef struct rate_slot {
    uint64_t h;      /* 0: empty */
    guard_addr key;  /* addresses only; accounts compare h */
    int64_t last_us; /* bucket refill time; also "last seen" for eviction */
    double tokens;
    int32_t conns;
} rate_slot;

enum { SANC_BLOCK = 1, SANC_THROTTLE = 2 };
typedef struct sanction_slot {
    uint64_t h; /* 0: empty */
    guard_addr key;
    int64_t block_until, throttle_until;
    int64_t tlast;
    double ttokens;
} sanction_slot;

typedef struct stripe {
    pthread_mutex_t mu;
    int nsanctions;
    uint64_t locked[3];           /* verdicts counted while holding mu */
    _Atomic uint64_t verdicts[3]; /* verdicts counted without it */
    rate_slot rate[G_RATE_SLOTS];
    sanction_slot sanc[G_SANCTION_SLOTS];
} __attribute__((aligned(64))) stripe;

typedef struct gtable {
    stripe *s; /* G_STRIPES */
    uint64_t seed;
    _Atomic int64_t sanctions; /* total, for the fast path and the gauge */
} gtable;

MUST_USE err gtable_init(gtable *t, uint64_t seed);
void gtable_free(gtable *t);
/* Sets (until > 0) or lifts (until == 0) a sanction on a key. */
MUST_USE err gtable_sanction(gtable *t, const guard_addr *key, uint64_t h, int kind,
                             int64_t until_us, int64_t now_us);
int64_t gtable_count(gtable *t, int kind, int64_t now_us);
/* Drops expired sanctions from memory (the guard thread, periodically). */
void gtable_expire(gtable *t, int64_t now_us);
uint64_t gtable_verdicts(gtable *t, guard_verdict v);
uint64_t gtable_account_hash(const gtable *t, const char *username);

/* ---- the event queue (bounded MPSC, Vyukov) ---- */
typedef struct gevent {
    int64_t time_us;
    int64_t audit_index;
    uint64_t bytes_out, bytes;
    uint32_t customers;
    int status;
    uint8_t kind;
    bool route_known, malformed, oversized, honeytoken;
    char username[G_USER_MAX + 1];
    char role[G_ROLE_MAX + 1];
    char department[G_DEPT_MAX + 1];
    char source[G_SOURCE_MAX];
    char categories[G_CATS_MAX];
    char customer[G_CUSTOMER_MAX + 1];
    char cust_dept[G_DEPT_MAX + 1];
} gevent;

typedef struct gcell {
    _Atomic size_t seq;
    gevent ev;
} gcell;

typedef struct gqueue {
    gcell *cells;
    size_t mask;
    _Atomic size_t enq __attribute__((aligned(64)));
    _Atomic size_t deq __attribute__((aligned(64)));
} gqueue;

MUST_USE err gqueue_init(gqueue *q, size_t cap);
void gqueue_free(gqueue *q);
/* The cell to fill, or NULL when full; gqueue_publish makes it visible. */
gcell *gqueue_claim(gqueue *q, size_t *pos);
void gqueue_publish(gcell *c, size_t pos);
/* Consumer only: the next event, or NULL when empty; gqueue_release frees its cell. */
gcell *gqueue_peek(gqueue *q);
void gqueue_release(gqueue *q, gcell *c);
size_t gqueue_depth(gqueue *q);

/* ---- detector state (guard thread only) ---- */
typedef struct gdetect gdetect;
/* What a detector found; the guard turns it into responses and an alert. */
typedef struct gfinding {
    const grule *rule;
    int rule_index;
    const gevent *ev;
    char subject[96]; /* aggregation key: account name, address key or "global" */
    char account[G_USER_MAX + 1];
    char address[GUARD_ADDR_TEXT + 4];
    char department[G_DEPT_MAX + 1];
    char detail[256];
    int64_t evidence[G_EVIDENCE_RING];
    int nevidence;
} gfinding;
typedef void (*gfinding_fn)(void *ctx, gfinding *f);

MUST_USE err gdetect_new(const guard_rules *r, guard_store *st, gdetect **out);
void gdetect_free(gdetect *d);
/* Runs every rule interested in ev; calls fn for each finding. Store writes happen inside
 * the caller's transaction. */
void gdetect_event(gdetect *d, const gevent *ev, gfinding_fn fn, void *ctx);
/* Drops state idle for longer than its window; flushes baselines. */
void gdetect_sweep(gdetect *d, int64_t now_us);
size_t gdetect_states(gdetect *d);

/* ---- delivery (its own thread) ---- */
typedef struct gdeliver gdeliver;
MUST_USE err gdeliver_start(const guard_rules *r, gdeliver **out);
/* Queues a new alert (JSON text, copied) for every sink that wants it. */
void gdeliver_alert(gdeliver *d, const char *json, gsev sev, unsigned routes, const char *dept,
                    int64_t id, const char *rule);
/* Queues an nftables update: add (seconds > 0) or delete (seconds == 0). */
void gdeliver_nft(gdeliver *d, const guard_addr *a, int v6_prefix, int64_t seconds);
void gdeliver_stop(gdeliver *d);
typedef struct gdeliver_stats {
    uint64_t sent[4], failed[4]; /* by gsink_kind */
    uint64_t nft_ok, nft_failed, dropped, pending;
} gdeliver_stats;
void gdeliver_get_stats(gdeliver *d, gdeliver_stats *s);
const char *gsink_kind_name(gsink_kind k);

/* ---- the guard ---- */
struct guard {
    guard_rules *r;
    guard_options o;
    gtable addr, acct;
    gqueue q;
    guard_store *st;
    pthread_mutex_t st_mu; /* the store: guard thread batches and API calls */
    gdetect *det;
    gdeliver *dl;
    pthread_t thread;
    pthread_mutex_t mu; /* wake-up and sync */
    pthread_cond_t wake, done;
    _Atomic int sleeping;
    _Atomic int stop;
    _Atomic bool thread_alive, store_ok;
    _Atomic uint64_t processed, dropped;
    _Atomic int64_t last_drop_us;
    _Atomic uint64_t events[GUARD_EV__COUNT];
    _Atomic uint64_t *firings;    /* per rule */
    _Atomic uint64_t *alerts_new; /* per rule */
    _Atomic uint64_t responses[8];
    _Atomic uint64_t hook_failures;
    _Atomic uint64_t conn_untracked;
};

int64_t guard_now(const guard *g);
/* Processing of one batch's effects (guard.c); responses (respond.c). */
typedef struct geffects geffects;
void grespond(guard *g, gfinding *f, geffects *fx);
MUST_USE err geffects_new(geffects **out);
void geffects_run(guard *g, geffects *fx);
void geffects_free(geffects *fx);
/* Operator sanctions share this with detector responses. */
/* now_us: when the sanction starts (the finding's event time, or the operator's clock). */
MUST_USE err gsanction_apply(guard *g, const char *kind, const guard_addr *a, const char *account,
                             int64_t now_us, int64_t until_us, const char *rule, const char *by,
                             geffects *fx);
void geffects_audit(geffects *fx, const char *action, const char *subject, const char *rule,
                    const char *detail);
/* An alert as the API and the deliveries show it (NULL when out of memory). */
json_t *galert_json(const gs_alert *a);

#endif
