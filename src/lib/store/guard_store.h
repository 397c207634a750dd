/*
 * guard_store.h - the guard's own SQLite file (VAULT/guard.db, separate from
 * custos.db so the guard's writes never contend with the vault's): sanctions
 * (blocks, throttles and recorded locks, with expiry), alerts, the violation
 * register, known addresses per account and per-account baselines. (The guard
 * reads the audit log through the audit module's iterator, audit_iter_*.)
 *
 * One connection, not locked here: the guard serialises every call with its own
 * mutex (the guard thread writes in batches inside one transaction).
 * Nothing personal is stored: usernames, addresses, rule names, audit indexes.
 */
#ifndef CUSTOS_GUARD_STORE_H
#define CUSTOS_GUARD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct guard_store guard_store;

/* path NULL: a private in-memory database (replays, tests). */
MUST_USE err guard_store_open(const char *path, guard_store **out);
void guard_store_close(guard_store *s);
/* Batches: between batch_begin and batch_end, the first write opens a transaction and
 * batch_end commits it, so a batch that writes nothing costs no transaction at all and one
 * that writes costs one commit (one fsync). */
void guard_store_batch_begin(guard_store *s);
MUST_USE err guard_store_batch_end(guard_store *s);

/* ---- sanctions: kind "block" | "throttle" | "lock"; subject "address:A" / "account:U" ---- */
typedef struct gs_sanction {
    char kind[16];
    char subject[128];
    int64_t until_us;
    char rule[72];
    char by[72];
    int64_t created_us;
} gs_sanction;
MUST_USE err guard_store_sanction_put(guard_store *s, const gs_sanction *x);
/* removed receives whether a row was there (may be NULL). */
MUST_USE err guard_store_sanction_delete(guard_store *s, const char *kind, const char *subject,
                                         bool *removed);
MUST_USE err guard_store_sanction_expire(guard_store *s, int64_t now_us);
typedef err (*gs_sanction_fn)(void *ctx, const gs_sanction *x);
MUST_USE err guard_store_sanctions(guard_store *s, gs_sanction_fn fn, void *ctx);

/* ---- alerts ---- */
#define GS_EVIDENCE_TEXT 22000
typedef struct gs_alert {
    int64_t id;
    char rule[72], detector[24], status[16];
    char subject[128], account[72], address[64], department[72];
    int severity;    /* 0 low .. 3 critical */
    unsigned routes; /* the guard's route bits */
    int64_t count, first_us, last_us;
    char evidence[GS_EVIDENCE_TEXT]; /* comma-separated audit indexes */
    char detail[256], responses[256];
    char ack_by[72];
    int64_t ack_us;
    char closed_by[72];
    int64_t closed_us;
    char close_reason[512];
} gs_alert;

/* The newest alert for (rule, subject) that is not closed and was last seen at or after
 * since_us; ERR_NOT_FOUND when there is none. */
MUST_USE err guard_store_alert_find_open(guard_store *s, const char *rule, const char *subject,
                                         int64_t since_us, gs_alert *out);
MUST_USE err guard_store_alert_insert(guard_store *s, gs_alert *a); /* sets a->id */
MUST_USE err guard_store_alert_bump(guard_store *s, int64_t id, int64_t last_us, int64_t add,
                                    const char *evidence, const char *responses);
MUST_USE err guard_store_alert_get(guard_store *s, int64_t id, gs_alert *out);
MUST_USE err guard_store_alert_status(guard_store *s, int64_t id, const char *status,
                                      const char *by, const char *reason, int64_t at_us);
typedef struct gs_alert_query {
    const char *status, *rule, *account;
    int min_severity; /* -1: any */
    unsigned route;   /* 0: any */
    const char *department;
    int64_t since_us;
    int64_t before_id; /* 0: none */
    size_t limit;
} gs_alert_query;
typedef err (*gs_alert_fn)(void *ctx, const gs_alert *a);
MUST_USE err guard_store_alerts(guard_store *s, const gs_alert_query *q, gs_alert_fn fn, void *ctx);

/* ---- violation register ---- */
typedef struct gs_violation {
    int64_t id;
    char username[72];
    int64_t time_us;
    char kind[16]; /* "denied" | "finding" */
    char rule[72];
    char detail[256];
    int64_t evidence; /* audit index, -1 none (the latest of the row's) */
    int64_t alert;    /* alert id, 0 none */
    int64_t count;    /* occurrences counted on this row (read only) */
    int64_t first_us; /* the first of them (read only); time_us is the last */
} gs_violation;
/* Violations are counted, not listed: one row per person, kind, rule and hour (aligned to
 * UTC hours), and for denials per thing denied, whose count grows with every occurrence. */
#define GS_VIOLATION_WINDOW_US ((int64_t)3600 * 1000000)
MUST_USE err guard_store_violation_add(guard_store *s, const gs_violation *v);
typedef err (*gs_violation_fn)(void *ctx, const gs_violation *v);
MUST_USE err guard_store_violations(guard_store *s, const char *username, int64_t since_us,
                                    size_t limit, gs_violation_fn fn, void *ctx);

/* ---- known addresses ---- */
typedef err (*gs_text_fn)(void *ctx, const char *text);
/* The most recently first-seen addresses of username, at most max. */
MUST_USE err guard_store_known_list(guard_store *s, const char *username, size_t max, gs_text_fn fn,
                                    void *ctx);
MUST_USE err guard_store_known_has(guard_store *s, const char *username, const char *address,
                                   bool *has);
MUST_USE err guard_store_known_add(guard_store *s, const char *username, const char *address,
                                   int64_t first_us);
/* When anyone was first seen from address (0: never). */
MUST_USE err guard_store_known_since(guard_store *s, const char *address, const char *username,
                                     int64_t *first_us, int64_t *others);

/* ---- baselines (per account, per hour of the week) ---- */
typedef err (*gs_slot_fn)(void *ctx, int slot, double mean, double var, int64_t n);
/* ERR_NOT_FOUND when the account has no baseline yet. */
MUST_USE err guard_store_baseline_load(guard_store *s, const char *username, int64_t *first_us,
                                       gs_slot_fn fn, void *ctx);
MUST_USE err guard_store_baseline_user(guard_store *s, const char *username, int64_t first_us);
MUST_USE err guard_store_baseline_put(guard_store *s, const char *username, int slot, double mean,
                                      double var, int64_t n);

/* ---- retention: what leaves the growing tables (0 or less: kept for ever) ---- */
typedef struct gs_retention {
    int64_t violations_us;         /* violation rows last seen longer ago than this */
    int64_t closed_alerts_us;      /* alerts closed longer ago than this (open ones always stay) */
    int64_t addresses_per_account; /* known addresses kept per account (newest first-seen) */
} gs_retention;
typedef struct gs_purged {
    int64_t violations, alerts, addresses;
} gs_purged;
MUST_USE err guard_store_purge(guard_store *s, const gs_retention *r, int64_t now_us,
                               gs_purged *out);

#endif
