/*
 * guard.h - the guard: real-time intrusion detection and prevention in front of
 * and behind the door (DESIGN §4, §7).
 *
 * Two halves with very different costs:
 *
 *  - Admission (guard_conn_open, guard_admit, guard_admit_account) runs on the
 *    request path before any expensive work. It allocates nothing and takes one
 *    striped mutex (64 stripes chosen by a keyed hash of the address or account),
 *    so threads of a thread-per-connection server rarely meet. It answers from
 *    memory only: allow and deny lists (CIDR, IPv4 and IPv6), blocks and throttles
 *    with expiry, token buckets per address and per account, and open connections
 *    per address.
 *
 *  - Detection (guard_observe) copies an event into a bounded lock-free queue and
 *    returns; it never blocks and never allocates (a full queue drops the event
 *    and counts it). One guard thread runs the detectors configured in the rules
 *    file (docs/GUARD.md), records alerts, the violation register, baselines and
 *    known addresses in its own SQLite file (VAULT/guard.db), and carries out the
 *    responses: its own blocks and throttles at once, everything outside the
 *    guard through the integrator's hooks. A second thread delivers alerts
 *    (syslog, webhooks, e-mail) and nftables updates, so a slow receiver never
 *    slows detection.
 *
 * Time is injectable: admission takes `now`, each event carries its own time, and
 * guard_options.clock replaces the wall clock for everything else (expiry at
 * open, alert status times), so tests and replays are deterministic.
 *
 * Thread safety: every function may be called from any thread, concurrently,
 * except guard_close (once, after every other call has returned; nothing may be
 * called after it). Hooks are called with no guard lock held: from the guard
 * thread for findings (never from the caller of guard_observe), from the
 * caller's thread for the operator functions (guard_block, guard_alert_ack, ...).
 * They must be thread-safe with respect to the integrator's own threads, may
 * call back into the guard, and should not block for long.
 *
 * Wiring into the request pipeline (docs/GUARD.md, "Wiring it into the server"):
 *   accept          guard_conn_open        (refuse: drop the connection)
 *   close           guard_conn_close       (once per admitted connection)
 *   request start   guard_admit            (403 / 429 + Retry-After, before any parsing)
 *   account known   guard_admit_account    (same)
 *   answer sent     guard_observe          (one event per request, the most specific kind)
 */
#ifndef CUSTOS_GUARD_H
#define CUSTOS_GUARD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/err.h"

#define GUARD_DB "guard.db" /* in the vault folder, next to custos.db */

/* etc/guard.rules, compiled in: used when the vault has no guard.rules of its own. */
extern const char GUARD_DEFAULT_RULES[];

/* ---- rules ---- */

typedef struct guard_rules guard_rules;

/* Parses a rules file (docs/GUARD.md). name is used in messages. On error nothing is
 * returned and err_message() reads "NAME:LINE: what is wrong" (ERR_INPUT). The result
 * is owned by the caller until given to guard_open. */
MUST_USE err guard_rules_parse(slice text, const char *name, guard_rules **out) NONNULL(2, 3);
/* Reads and parses a file (ERR_IO when it cannot be read; ERR_INPUT as above). */
MUST_USE err guard_rules_load(const char *path, guard_rules **out) NONNULL(1, 2);
/* Number of detection rules (not counting settings, lists and limits). */
size_t guard_rules_count(const guard_rules *r);
const char *guard_rules_rule_name(const guard_rules *r, size_t i);
void guard_rules_free(guard_rules *r);

/* ---- addresses ---- */

/* An IPv6 address; IPv4 is held as ::ffff:a.b.c.d. Plain bytes: copy freely. */
typedef struct guard_addr {
    uint8_t b[16];
} guard_addr;
#define GUARD_ADDR_TEXT 48

/* "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1" (the same as 192.0.2.1). ERR_INPUT otherwise. */
MUST_USE err guard_addr_parse(const char *text, guard_addr *out) NONNULL(1, 2);
/* From a connection's peer address (AF_INET or AF_INET6); ERR_INPUT for other families. */
MUST_USE err guard_addr_from_sockaddr(const struct sockaddr *sa, guard_addr *out) NONNULL(1, 2);
bool guard_addr_is_v4(const guard_addr *a);
void guard_addr_format(const guard_addr *a, char out[GUARD_ADDR_TEXT]);

/* ---- hooks: what the guard asks of the rest of the system ---- */

/* Every member may be NULL (that response is then recorded and logged, not carried out).
 * Called from the guard thread; errors are logged and counted, never retried. rule is the
 * rule's name, or "operator" for calls made through this API. */
typedef struct guard_hooks {
    void *ctx;
    /* Lock the account until until_us (refuse logins and requests). */
    err (*lock_account)(void *ctx, const char *username, int64_t until_us, const char *rule);
    /* Refuse logins to the account from one address until until_us: what a failed-login
     * rule's "lock" does, so that a stranger's failures never lock staff out (the account's
     * sessions and its other addresses are untouched). */
    err (*lock_login)(void *ctx, const char *username, const char *address, int64_t until_us,
                      const char *rule);
    /* Undo lock_account and lock_login (guard_unlock_account). */
    err (*unlock_account)(void *ctx, const char *username, const char *rule);
    /* Revoke every session and API key of the account. */
    err (*revoke_account)(void *ctx, const char *username, const char *rule);
    /* The account's next request must authenticate again (password and second factor). */
    err (*require_reauth)(void *ctx, const char *username, const char *rule);
    /* Seal the vault: refuse every customer-data access until an operator unseals it. */
    err (*seal)(void *ctx, const char *rule);
    /* Assign course to the account as blocking remedial training ("train COURSE"). */
    err (*assign_training)(void *ctx, const char *username, const char *course, const char *rule);
    /* Record a guard action in the audit log: action is "guard.block", "guard.unblock",
     * "guard.throttle", "guard.unthrottle", "guard.lock", "guard.unlock", "guard.revoke",
     * "guard.reauth", "guard.seal", "guard.train", "guard.alert", "guard.alert.ack",
     * "guard.alert.close"; subject is "address:A", "account:U", "alert:ID" or "vault"; detail is
     * short text without personal values. */
    void (*audit)(void *ctx, const char *action, const char *subject, const char *rule,
                  const char *detail);
} guard_hooks;

/* ---- lifecycle ---- */

typedef struct guard_options {
    const char *db_path;         /* VAULT/guard.db (created when missing); NULL: in memory */
    guard_hooks hooks;           /* copied */
    int64_t (*clock)(void *ctx); /* NULL: the wall clock (clock_now_us) */
    void *clock_ctx;
    /* Replays and checks: hooks are never called, nothing is delivered, nftables is never
     * touched; detection, alerts and the guard's own blocks work as usual. */
    bool offline;
    /* Retention in guard.db, applied once a minute (0: the defaults, GUARD_KEEP_*). */
    int64_t keep_violations_us;
    int64_t keep_closed_alerts_us;
    int64_t keep_addresses_per_account;
    /* Called once a minute on the guard's thread (NULL: none) for the vault's own
     * housekeeping (expired sessions); never in offline guards. */
    void (*housekeeping)(void *ctx, int64_t now_us);
} guard_options;

#define GUARD_KEEP_VIOLATIONS_US ((int64_t)365 * 86400 * 1000000)
#define GUARD_KEEP_CLOSED_ALERTS_US ((int64_t)365 * 86400 * 1000000)
#define GUARD_KEEP_ADDRESSES 256

typedef struct guard guard;

/* Opens the guard's store, reloads the blocks, throttles and recorded locks that have not
 * expired (expired ones are dropped), starts the guard and delivery threads. Takes
 * ownership of rules on success only. */
MUST_USE err guard_open(guard_rules *rules, const guard_options *o, guard **out) NONNULL(1, 2, 3);
/* Processes what is queued, stops both threads (a delivery already due gets one attempt),
 * closes the store. NULL is allowed. */
void guard_close(guard *g);

/* ---- admission (hot path: no allocation, no I/O) ---- */

typedef enum guard_verdict {
    GUARD_ADMIT = 0,
    GUARD_THROTTLE = 1, /* answer 429 with Retry-After */
    GUARD_BLOCK = 2,    /* answer 403 (or drop the connection) */
} guard_verdict;

typedef enum guard_reason {
    GUARD_R_NONE = 0,
    GUARD_R_DENY_LIST,   /* on the deny list (BLOCK, retry_after 0: permanent) */
    GUARD_R_NOT_ALLOWED, /* "default deny" and not on the allow list (BLOCK, 0) */
    GUARD_R_BLOCKED,     /* a block with expiry (BLOCK) */
    GUARD_R_THROTTLED,   /* a throttle with expiry and its bucket is empty (THROTTLE) */
    GUARD_R_RATE,        /* the address's or account's token bucket is empty (THROTTLE) */
    GUARD_R_CONNECTIONS, /* too many open connections from the address (THROTTLE) */
} guard_reason;

typedef struct guard_decision {
    guard_verdict verdict;
    guard_reason reason;
    uint32_t retry_after_s; /* for Retry-After; 0 with BLOCK means "do not retry" */
} guard_decision;

/* A new connection from a. ADMIT counts it as open: call guard_conn_close exactly once for
 * every ADMIT (and only then). Also checks lists and blocks, so a blocked address can be
 * dropped at accept time. g may be NULL (always ADMIT). d may be NULL. */
guard_verdict guard_conn_open(guard *g, const guard_addr *a, int64_t now_us, guard_decision *d);
void guard_conn_close(guard *g, const guard_addr *a);
/* One request from a: lists, blocks, throttles, the per-address token bucket. */
guard_verdict guard_admit(guard *g, const guard_addr *a, int64_t now_us, guard_decision *d);
/* Once the account is known (after authentication, or the name in a login request):
 * account throttles and the per-account token bucket. */
guard_verdict guard_admit_account(guard *g, const char *username, int64_t now_us,
                                  guard_decision *d);
const char *guard_verdict_name(guard_verdict v);
const char *guard_reason_name(guard_reason r);

/* ---- events (request path: a copy into a bounded queue) ---- */

typedef enum guard_event_kind {
    GUARD_EV_LOGIN_OK,
    GUARD_EV_LOGIN_FAIL,
    GUARD_EV_REQUEST,        /* every request, after it was answered */
    GUARD_EV_DENIED,         /* an attempt beyond the actor's permissions */
    GUARD_EV_CUSTOMER_READ,  /* customer data left the vault */
    GUARD_EV_NOTICE,         /* the door reports a notable act (categories: its name), e.g.
                                break-glass-open, break-glass-read, login-lockout, vault-sealed */
    GUARD_EV_BAD_TOKEN,      /* a bearer token or session cookie that is no session or key */
    GUARD_EV_CUSTOMER_WRITE, /* customer data written: a record added, a change made or
                                requested (customer, customer_department, honeytoken) */
    GUARD_EV_SEARCH_MISS,    /* a search on a field the actor sees only masked found nothing
                                (categories: the field), e.g. guessing an ID number */
    GUARD_EV__COUNT
} guard_event_kind;

/* Strings are borrowed for the call only (copied, truncated to the sizes in docs/GUARD.md);
 * NULL reads as "". */
typedef struct guard_event {
    int64_t time_us; /* 0: now */
    guard_event_kind kind;
    /* The account; for a failed login the name as the door records it (an unknown name as its
     * keyed hash, "unknown:..."), never the raw text, which may be a mistyped password. */
    const char *username;
    const char *role;       /* the account's role, or "" */
    const char *department; /* the account's department (selects the working-hours schedule) */
    const char *source;     /* client address as text (IPv4 or IPv6), or "" */
    int64_t audit_index;    /* the audit entry recording this act (alert evidence); -1: none */
    /* GUARD_EV_REQUEST */
    bool route_known; /* false: no such route (scanners) */
    bool malformed;   /* unparseable request, bad JSON, bad parameters */
    bool oversized;   /* body over the limit */
    int status;       /* HTTP status answered */
    uint64_t bytes_out;
    /* GUARD_EV_DENIED: the categories or fields attempted (comma-separated), or the action */
    const char *categories;
    /* GUARD_EV_CUSTOMER_READ */
    const char *customer;            /* customer id when one customer was read, or "" */
    const char *customer_department; /* the customers' department ("" : the actor's) */
    bool honeytoken;                 /* the customer is a honeytoken */
    uint32_t customers;              /* customers read by this act (0 is read as 1) */
    uint64_t bytes;                  /* bytes of customer data sent */
} guard_event;

/* Queues a copy of e for the detectors. Never blocks; when the queue is full the event is
 * dropped and counted (custos_guard_events_dropped_total). g may be NULL. */
void guard_observe(guard *g, const guard_event *e);
/* Waits until every event queued before the call has been processed (alerts stored,
 * responses carried out, hooks called). Deliveries may still be under way. */
void guard_sync(guard *g);

/* ---- responses: the operator's side (each is audited through hooks.audit) ---- */

/* Blocks an address (or, with ipv6_prefix set, its prefix) for seconds (> 0). by names
 * the operator. Allow-listed addresses cannot be blocked (ERR_CONFLICT). */
MUST_USE err guard_block(guard *g, const char *address, int64_t seconds, const char *by,
                         const char *reason) NONNULL(1, 2, 4);
MUST_USE err guard_unblock(guard *g, const char *address, const char *by) NONNULL(1, 2, 3);
/* Throttles an address ("address", text) or an account ("account", username). */
MUST_USE err guard_throttle(guard *g, const char *kind, const char *subject, int64_t seconds,
                            const char *by, const char *reason) NONNULL(1, 2, 3, 5);
MUST_USE err guard_unthrottle(guard *g, const char *kind, const char *subject, const char *by)
    NONNULL(1, 2, 3, 4);
/* Forgets a lock the guard recorded and asks hooks.unlock_account to lift it. */
/* Locks an account as a sanction named rule (e.g. "incident:ID"), listed by guard_sanctions and
 * lifted by guard_unlock_account; the lock hook carries it out. */
MUST_USE err guard_lock_account(guard *g, const char *username, int64_t seconds, const char *by,
                                const char *rule) NONNULL(1, 2, 4, 5);
MUST_USE err guard_unlock_account(guard *g, const char *username, const char *by) NONNULL(1, 2, 3);
/* {"sanctions":[{"kind":"block|throttle|lock","subject","until","rule","by","created"}]} */
MUST_USE err guard_sanctions(guard *g, json_t **out) NONNULL(1, 2);

/* ---- alerts ---- */

typedef struct guard_alert_filter {
    const char *status;     /* "open" | "acknowledged" | "closed" | NULL */
    const char *severity;   /* at least this severity ("low".."critical") | NULL */
    const char *rule;       /* exact rule name | NULL */
    const char *account;    /* exact username | NULL */
    const char *recipient;  /* "security" | "hr" | "data_steward" | NULL */
    const char *department; /* with recipient data_steward: that department's | NULL */
    int64_t since_us;       /* last seen at or after; 0: any */
    int64_t before_id;      /* pagination: ids below this; 0: from the newest */
    size_t limit;           /* 0: 100; at most 1000 */
} guard_alert_filter;

/* {"alerts":[{"id","rule","detector","severity","status","account","address","subject",
 *  "department","recipients":[..],"count","first_seen","last_seen","evidence":[..],
 *  "detail","responses","acknowledged_by","acknowledged_at","closed_by","closed_at",
 *  "close_reason"}], "next": id|null}, newest first. ERR_INPUT for a bad filter value. */
MUST_USE err guard_alerts(guard *g, const guard_alert_filter *f, json_t **out) NONNULL(1, 3);
MUST_USE err guard_alert_get(guard *g, int64_t id, json_t **out) NONNULL(1, 3);
/* open -> acknowledged (ERR_NOT_FOUND, ERR_CONFLICT when closed). */
MUST_USE err guard_alert_ack(guard *g, int64_t id, const char *by) NONNULL(1, 3);
/* open or acknowledged -> closed; reason is required (ERR_INPUT when empty). */
MUST_USE err guard_alert_close(guard *g, int64_t id, const char *by, const char *reason)
    NONNULL(1, 3, 4);

/* ---- violation register (per employee: denials and findings, with audit evidence) ---- */

/* {"violations":[{"id","username","time","kind":"denied|finding","rule","detail",
 *  "evidence","alert"}]} newest first; username NULL: everyone. limit 0: 100. */
MUST_USE err guard_violations(guard *g, const char *username, int64_t since_us, size_t limit,
                              json_t **out) NONNULL(1, 5);

/* ---- monitoring ---- */

/* Appends the Prometheus text exposition of the guard's counters to out. */
MUST_USE err guard_metrics(guard *g, buf *out) NONNULL(1, 2);
/* Threads running, store usable, no event dropped in the last minute. */
bool guard_healthy(guard *g);

/* ---- offline tools ---- */

typedef struct guard_replay_stats {
    uint64_t entries; /* audit entries read */
    uint64_t events;  /* events given to the detectors */
    uint64_t skipped; /* entries that map to no event (administrative acts) */
} guard_replay_stats;

/* Feeds every entry of an audit log file (read-only, no key needed) to the detectors in
 * index order, then waits for them (guard_sync). Entries are checked with audit_decode;
 * a malformed entry stops the replay (ERR_INPUT naming its index). Use an offline guard. */
MUST_USE err guard_replay_audit(guard *g, const char *audit_db, guard_replay_stats *st)
    NONNULL(1, 2, 3);
/* Maps one canonical audit entry to an event (the replay's mapping, see docs/GUARD.md).
 * Returns false for entries that map to no event. Strings point into scratch (json
 * decoded; release with json_decref). */
MUST_USE err guard_event_from_audit(const guard_rules *r, slice entry, guard_event *ev,
                                    json_t **scratch, bool *mapped) NONNULL(3, 4, 5);
/* Firings of rule i since open (a firing is one detection, aggregated or not). */
uint64_t guard_rule_firings(guard *g, size_t i);
const guard_rules *guard_rules_of(guard *g);

#endif
