/*
 * policy.h - who may do what: roles, operations, capabilities, and the policy
 * file that grants them.
 *
 * Deny by default. A policy is a text file (docs/FORMATS-policy.md; the shipped
 * default is etc/policy.conf, also compiled into the binary) that grants a
 * role operations on a category of customer data or on one field, optionally
 * masked, only on its own department's customers, or only while its security
 * training is current; and grants roles the capabilities of their duties
 * (managing accounts, approving requests, reading the audit log, ...).
 *
 * policy_parse compiles the text into an immutable object whose decisions are
 * precomputed per role x record type x field x operation x department, so a
 * decision is a table lookup: no allocation, no lock. One policy is installed
 * at a time (an atomic pointer, swapped on reload); the decision functions
 * without a policy argument answer for the installed one, and the default is
 * installed on first use.
 */
#ifndef CUSTOS_POLICY_H
#define CUSTOS_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "model/model.h"

typedef enum role {
    ROLE_SALES,
    ROLE_CUSTOMER_SERVICE,
    ROLE_DATA_STEWARD,
    ROLE_SECURITY,
    ROLE_LEGAL,
    ROLE_HR,
    ROLE_AUDITOR,
    ROLE_ADMIN,
    ROLE__COUNT
} role;

const char *role_name(role r);
MUST_USE err role_parse(const char *name, role *out);

/* Record-level operations asked of policy_allows (the policy file speaks of read, write,
 * request, create, erase, import and export; see docs/FORMATS-policy.md). */
typedef enum op {
    OP_READ,
    OP_CREATE, /* a new customer, transaction or communication */
    OP_UPDATE,
    OP_ERASE,
    OP_SEARCH,
    OP_IMPORT,
    OP_EXPORT,
    OP__COUNT
} op;
const char *op_name(op o);

typedef enum read_level { READ_NONE = 0, READ_MASKED = 1, READ_FULL = 2 } read_level;
/* How a role may change a field: not at all, through a change request a data steward
 * approves, or directly. */
typedef enum write_level { WRITE_NONE = 0, WRITE_REQUEST = 1, WRITE_DIRECT = 2 } write_level;

/* Duties that are not about customer contents, granted per role in the same file. */
typedef enum capability {
    CAP_ACCOUNTS_MANAGE,
    CAP_APIKEYS_MANAGE,
    CAP_POLICY_MANAGE,
    CAP_AUDIT_READ,
    CAP_REQUESTS_APPROVE,
    CAP_EXPORTS_APPROVE,
    CAP_BREAK_GLASS_OPEN,
    CAP_BREAK_GLASS_REVIEW,
    CAP_TRAINING_MANAGE,
    CAP_VIOLATIONS_READ,
    CAP_GUARD_MANAGE,
    CAP_KEYS_MANAGE,
    CAP_HONEYTOKENS_MANAGE,
    CAP__COUNT
} capability;
/* "accounts.manage", "audit.read", ...; "none" out of range. */
const char *cap_name(capability c);
MUST_USE err cap_parse(const char *name, capability *out);

/* Limits of a policy file. */
#define POLICY_MAX_BYTES ((size_t)256 * 1024)
#define POLICY_MAX_LINE 1024

typedef struct policy policy; /* an immutable compiled policy */

/* Parses text (name is used in messages, e.g. the file path). On error: ERR_INPUT with a
 * message "NAME:LINE: what is wrong" and *out untouched. The caller owns *out. */
MUST_USE err policy_parse(const char *text, size_t len, const char *name, policy **out);
/* Reads and parses a file (name in messages: the path). ERR_IO when it cannot be read. */
MUST_USE err policy_load_file(const char *path, policy **out);
/* Frees a policy that was never installed (NULL is fine). */
void policy_free(policy *p);
/* The embedded default: the text of etc/policy.conf, parsed under the name "policy.conf". */
const char *policy_default_text(void);
/* Makes p the current policy (takes ownership); lock-free for readers: an atomic pointer,
 * the replaced policy is kept alive until process exit (reloads are rare). */
void policy_install(policy *p);
/* The installed policy; the default is installed lazily on first use. Never NULL. */
const policy *policy_current(void);
/* The name given to policy_parse (owned by p). */
const char *policy_source(const policy *p);
/* Number of customer-data grants (role x operation x target, as written) and of capability
 * grants (role x capability) in p. */
void policy_stats(const policy *p, size_t *grants, size_t *capabilities);

/* ---- Decisions on the installed policy (table lookups, no allocation, no lock) ---- */

/* How a role may read one field of a record type (same_dept: the customer is in the
 * user's department). */
read_level policy_read_in(role r, rectype t, int field, bool same_dept);
/* How a role may change one field: for customers, directly (write) or by change request
 * (request); for transactions and communications, also when it may create them. */
write_level policy_write_in(role r, rectype t, int field, bool same_dept);
/* Record-level operations: read/create/update of transactions and communications;
 * read/search/update (direct) and create/erase/import/export of customers. rule (may be
 * NULL) receives the deciding rule: "NAME:LINE" of the granting line, "default-deny", or
 * "department-scope" when the grant holds for the user's own department only. The string
 * lives as long as the process (an installed policy is never freed). */
bool policy_allows_in(role r, rectype t, op o, bool same_dept, const char **rule);
/* May the role exercise this capability? */
bool policy_can(role r, capability c);
/* True when some customer grant of the role needs current security training. */
bool policy_needs_training(role r);

/* The same, for a customer of the user's own department. */
read_level policy_read(role r, rectype t, int field);
/* True when the role may change the field directly (WRITE_DIRECT), on create or update. */
bool policy_write(role r, rectype t, int field);
bool policy_allows(role r, rectype t, op o, const char **rule);
/* True when the role has customer grants and none of them applies to customers of other
 * departments. */
bool policy_own_department_only(role r);
/* May the role search by this blind-indexed field (it must be able to read it)? */
bool policy_search(role r, blind_kind k);

/* ---- Text: explanations, the effective grants, differences ---- */

/* Human explanation of one decision, e.g. "allow (masked) by policy.conf:14: grant
 * customer_service read on identity.id_number masked" or "deny: no grant (default deny)",
 * one line ending in '\n' (a category asked of read, write, request or search adds one
 * indented line per field with a grant of its own). cat_or_field: "contact",
 * "contact.phone" or "customers"; op_or_cap: an operation name of the file (or "search")
 * or a capability name (then cat_or_field is NULL or ""). Unknown names are ERR_INPUT. */
MUST_USE err policy_explain(const policy *p, const char *role_name, const char *op_or_cap,
                            const char *cat_or_field, bool same_dept, buf *out);
/* The effective grants of p as a policy file in canonical form (it parses to the same
 * decisions). */
MUST_USE err policy_show(const policy *p, buf *out);
/* Text diff of the EFFECTIVE grants of two policies (lines "+ ..." and "- ...", one grant
 * each), empty when equal; used for the audit entry of a reload. */
MUST_USE err policy_diff(const policy *old_p, const policy *new_p, buf *out);

#endif
