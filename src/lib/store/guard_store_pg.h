/*
 * guard_store_pg.h - the guard's tables on PostgreSQL (guard_store_pg.c): the functions of
 * guard_store.h, one for one, on a connection of their own; guard_store.c calls them when the
 * guard store was opened at a "postgres://..." location. Not for other callers.
 */
#ifndef CUSTOS_GUARD_STORE_PG_H
#define CUSTOS_GUARD_STORE_PG_H

#include "store/guard_store.h"

typedef struct gpg gpg;

MUST_USE err gpg_open(const char *location, gpg **out);
void gpg_close(gpg *g);
void gpg_batch_begin(gpg *g);
MUST_USE err gpg_batch_end(gpg *g);
MUST_USE err gpg_sanction_put(gpg *g, const gs_sanction *x);
MUST_USE err gpg_sanction_delete(gpg *g, const char *kind, const char *subject, bool *removed);
MUST_USE err gpg_sanction_expire(gpg *g, int64_t now_us);
MUST_USE err gpg_sanctions(gpg *g, gs_sanction_fn fn, void *ctx);
MUST_USE err gpg_alert_find_open(gpg *g, const char *rule, const char *subject, int64_t since_us,
                                 gs_alert *out);
MUST_USE err gpg_alert_insert(gpg *g, gs_alert *a);
MUST_USE err gpg_alert_bump(gpg *g, int64_t id, int64_t last_us, int64_t add, const char *evidence,
                            const char *responses);
MUST_USE err gpg_alert_get(gpg *g, int64_t id, gs_alert *out);
MUST_USE err gpg_alert_status(gpg *g, int64_t id, const char *status, const char *by,
                              const char *reason, int64_t at_us);
MUST_USE err gpg_alerts(gpg *g, const gs_alert_query *q, gs_alert_fn fn, void *ctx);
MUST_USE err gpg_violation_add(gpg *g, const gs_violation *v);
MUST_USE err gpg_violations(gpg *g, const char *username, int64_t since_us, size_t limit,
                            gs_violation_fn fn, void *ctx);
MUST_USE err gpg_known_list(gpg *g, const char *username, size_t max, gs_text_fn fn, void *ctx);
MUST_USE err gpg_known_has(gpg *g, const char *username, const char *address, bool *has);
MUST_USE err gpg_known_since(gpg *g, const char *address, const char *username, int64_t *first_us,
                             int64_t *others);
MUST_USE err gpg_known_add(gpg *g, const char *username, const char *address, int64_t first_us);
MUST_USE err gpg_baseline_load(gpg *g, const char *username, int64_t *first_us, gs_slot_fn fn,
                               void *ctx);
MUST_USE err gpg_baseline_user(gpg *g, const char *username, int64_t first_us);
MUST_USE err gpg_baseline_put(gpg *g, const char *username, int slot, double mean, double var,
                              int64_t n);
MUST_USE err gpg_purge(gpg *g, const gs_retention *r, int64_t now_us, gs_purged *out);

#endif
