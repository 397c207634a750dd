/*
 * store_incident.h - the store's incident rows: one row per incident with the clear columns
 * a listing needs (drill flag, phase, state, playbook, severity, owner, times, the number of
 * late tasks and the next due time for the reminder timer), the playbook's text as it was when
 * the incident opened, and two envelopes under the incident's own data key (wrapped by the
 * vault's master key like a customer's): the incident's JSON (its timeline holds names and
 * notes) and its breach scope with the signed checkpoint it was computed against.
 *
 * Every change is a compare-and-set on the row's version: store_incident_update writes only
 * when the version is still the one read, so two writers can never both win with the same
 * starting point (the loser gets ERR_PRECONDITION, reads again and re-applies its change).
 * The table is made on first use (CREATE TABLE IF NOT EXISTS).
 */
#ifndef CUSTOS_STORE_INCIDENT_H
#define CUSTOS_STORE_INCIDENT_H

#include "store/store.h"

#define STORE_INCIDENT_ID_MAX 40
#define STORE_INCIDENT_NAME_MAX 64 /* playbook ids, owners, alert ids */
#define STORE_INCIDENT_TITLE_MAX 200

typedef struct incident_row {
    char id[STORE_INCIDENT_ID_MAX + 1];
    bool drill;
    bool closed;
    char phase[24];
    char playbook[STORE_INCIDENT_NAME_MAX + 1];
    char title[STORE_INCIDENT_TITLE_MAX + 1];
    char severity[16];
    char owner[STORE_INCIDENT_NAME_MAX + 1];
    char source_alert[STORE_INCIDENT_NAME_MAX + 1];
    int64_t aware_us, opened_us, closed_us;
    int64_t late_tasks;  /* tasks past their due time and not done, as of the last write */
    int64_t next_due_us; /* the earliest reminder or due time still ahead (0: none) */
    uint32_t kek_version;
    uint64_t version; /* bumped by every write (1 for a new row) */
    buf playbook_text;
    buf wrapped_dek;
    buf body;  /* envelope: the incident's JSON */
    buf scope; /* envelope: {"scope":..., "checkpoint":...}; empty until computed */
} incident_row;

void incident_row_init(incident_row *r);
void incident_row_free(incident_row *r);

/* Listing filters. */
typedef enum incident_state_filter {
    INCIDENT_LIST_OPEN,
    INCIDENT_LIST_CLOSED,
    INCIDENT_LIST_ALL
} incident_state_filter;

/* Rows of a listing carry every clear column; playbook_text, body and scope stay empty. */
typedef err (*store_incident_fn)(void *ctx, const incident_row *r);

/* The operations (STORE_OPS in store_backend.h).
 * insert: ERR_CONFLICT when the id exists; the row's version becomes 1.
 * get: ERR_NOT_FOUND when there is no such incident.
 * update: every column of the row with r->id, only when its version is still expect;
 *   the new version is expect + 1. ERR_PRECONDITION when another write came first,
 *   ERR_NOT_FOUND when there is no such row.
 * list: newest opened first; drill < 0: both, 0: real incidents only, 1: drills only;
 *   max 0: 500. */
MUST_USE err store_incident_insert(store *s, const incident_row *r);
MUST_USE err store_incident_get(store *s, const char *id, incident_row *out);
MUST_USE err store_incident_update(store *s, const incident_row *r, uint64_t expect);
MUST_USE err store_incident_list(store *s, incident_state_filter st, int drill, size_t max,
                                 store_incident_fn fn, void *ctx);

#endif
