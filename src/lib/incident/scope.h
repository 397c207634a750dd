/*
 * scope.h - the breach scope, computed from the audit log and never typed in by hand: for the
 * actors, session or API-key hashes and addresses concerned, within one or more time windows,
 * the customers whose data was disclosed and exactly which fields and record categories of
 * each, with counts by category and department and the honeytokens touched. The caller feeds
 * it the log's entries up to a signed checkpoint and records that checkpoint with the result,
 * so anyone can compute the same scope again and get the same bytes.
 *
 * Which entries disclose data: allowed entries of the reading actions (scope_action_reads).
 * An entry that names customers but no field list (a page of an export) counts as disclosing
 * every field: the scope errs on the side of telling.
 */
#ifndef CUSTOS_INCIDENT_SCOPE_H
#define CUSTOS_INCIDENT_SCOPE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define SCOPE_MAX_TERMS 16 /* actors, sessions, sources each */
#define SCOPE_MAX_WINDOWS 16

typedef struct scope_window {
    int64_t from_us, to_us; /* inclusive; to_us 0: open-ended */
} scope_window;

typedef struct scope_query {
    const char *actors[SCOPE_MAX_TERMS];
    size_t nactors;
    const char *sessions[SCOPE_MAX_TERMS]; /* the short hash the log records per session/key */
    size_t nsessions;
    const char *sources[SCOPE_MAX_TERMS]; /* client addresses as the log records them */
    size_t nsources;
    scope_window windows[SCOPE_MAX_WINDOWS]; /* none: the whole log */
    size_t nwindows;
} scope_query;

typedef struct scope scope;

/* ERR_INPUT when the query names nobody (no actor, session or source). */
MUST_USE err scope_new(const scope_query *q, scope **out);
void scope_free(scope *s);
/* Feeds one entry (its index and canonical bytes), in index order. ERR_INPUT when an entry is
 * not an audit entry. */
MUST_USE err scope_add(scope *s, uint64_t index, slice entry);
/* Whether the allowed entries of an action disclose customer data. */
bool scope_action_reads(const char *action);

/* What the door knows that the log does not: a customer's department and whether it is a
 * honeytoken (both clear columns of the store). */
typedef struct scope_facts {
    void *ctx;
    err (*customer)(void *ctx, const char *id, char *department, size_t cap, bool *honeytoken,
                    bool *erased);
} scope_facts;

/* The result: {"checkpoint": note, "size": N, "query": …, "entries": [indexes…],
 * "customers": [{"id", "department", "fields": [...], "categories": [...], "entries": n,
 * "first_us", "last_us", "honeytoken", "erased"}...] sorted by id, "counts": {"customers",
 * "by_category": {...}, "by_department": {...}, "by_field": {...}}, "honeytokens": [ids]}. */
MUST_USE err scope_result(const scope *s, const scope_facts *f, slice checkpoint_note,
                          uint64_t size, json_t **out);
/* The indexes of the entries that matched (for the evidence bundle). */
const uint64_t *scope_entries(const scope *s, size_t *n);
size_t scope_customers(const scope *s);

#endif
