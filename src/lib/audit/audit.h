/*
 * audit.h - the audit log: one entry per operation on customer data and per
 * administrative act, allowed or denied, made durable BEFORE the operation's
 * result leaves the server (fail closed: no audit record, no access).
 *
 * Entries are canonical JSON (keys sorted, compact, UTF-8; docs/FORMATS.md) and
 * carry no personal value: customers appear by their random id, search terms by
 * a keyed hash. Each entry's RFC 9162 leaf hash, SHA-256(0x00 || entry), is
 * stored with it, ready for the Merkle tree.
 *
 * Durability uses group commit: callers enqueue and wait; one writer thread
 * writes everything queued in one SQLite transaction with a single fsync and
 * wakes them all, so concurrent requests share the cost of one fsync.
 */
#ifndef CUSTOS_AUDIT_H
#define CUSTOS_AUDIT_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct audit audit;

typedef struct audit_entry {
    int64_t ts_us;          /* 0: now */
    const char *actor;      /* username, or "-" */
    const char *role;       /* role name, or "-" */
    const char *source;     /* client address */
    const char *session;    /* short hash of the session or API key, or NULL */
    const char *action;     /* "customer.read", "login", ... */
    const char *customer;   /* customer id, or NULL */
    const char *customers;  /* comma-separated ids for multi-customer acts, or NULL */
    const char *categories; /* comma-separated categories touched, or NULL */
    const char *fields;     /* comma-separated field names touched, or NULL */
    const char *decision;   /* "allow" | "deny" | "error" */
    const char *rule;       /* the policy rule or reason code behind the decision */
    const char *reason;     /* a reason given by the actor (break-glass, erasure), or NULL */
    const char *request_id;
    const char *query_hash; /* keyed hash (hex) of a search term, or NULL */
    int64_t count;          /* rows affected (imports, exports), or -1 */
} audit_entry;

MUST_USE err audit_create(const char *path);
MUST_USE err audit_open(const char *path, audit **out);
void audit_close(audit *a);
/* Durable before it returns; index receives the entry's leaf index (may be NULL).
 * ERR_UNAVAILABLE when the entry could not be made durable: the caller must refuse. */
MUST_USE err audit_append(audit *a, const audit_entry *e, uint64_t *index);
/* Many entries, durable together (imports). */
MUST_USE err audit_append_many(audit *a, const audit_entry *e, size_t n);
/* Canonical encoding of an entry (exposed for tests and verifiers). */
MUST_USE err audit_encode(const audit_entry *e, buf *out);
/* Number of entries. */
MUST_USE err audit_size(audit *a, uint64_t *n);
/* For tests: makes every following append fail (simulated full or failing disk). */
void audit_fail_next(audit *a, int on);

#endif
