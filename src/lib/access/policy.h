/*
 * policy.h - who may do what: roles, operations, and the decision table.
 *
 * Deny by default. A role is granted operations per (record type, field),
 * optionally only on its own department's customers, and a read may be masked.
 * The shipped table is DESIGN §3. Decisions are table lookups (no allocation,
 * no locks), so authorization is never the bottleneck.
 */
#ifndef CUSTOS_POLICY_H
#define CUSTOS_POLICY_H

#include <stdbool.h>

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

/* How a role may read one field of a record type. */
read_level policy_read(role r, rectype t, int field);
/* May the role set or clear this field (on create or update)? */
bool policy_write(role r, rectype t, int field);
/* Record-level operations: create/read of transactions and communications, create/update/
 * erase/import/export of customers. rule receives the name of the deciding rule. */
bool policy_allows(role r, rectype t, op o, const char **rule);
/* True when the role's grants hold only for customers of its own department. */
bool policy_own_department_only(role r);
/* May the role search by this blind-indexed field (it must be able to read it)? */
bool policy_search(role r, blind_kind k);

typedef enum write_level { WRITE_NONE = 0, WRITE_REQUEST = 1, WRITE_DIRECT = 2 } write_level;
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
const char *cap_name(capability c);
MUST_USE err cap_parse(const char *name, capability *out);

typedef struct policy policy;
MUST_USE err policy_parse(const char *text, size_t len, const char *name, policy **out);
MUST_USE err policy_load_file(const char *path, policy **out);
void policy_free(policy *p);
const char *policy_default_text(void);
void policy_install(policy *p);
const policy *policy_current(void);
const char *policy_source(const policy *p);
read_level policy_read_in(role r, rectype t, int field, bool same_dept);
write_level policy_write_in(role r, rectype t, int field, bool same_dept);
bool policy_allows_in(role r, rectype t, op o, bool same_dept, const char **rule);
bool policy_can(role r, capability c);
bool policy_needs_training(role r);
MUST_USE err policy_explain(const policy *p, const char *role_name, const char *op_or_cap,
                            const char *cat_or_field, bool same_dept, buf *out);
MUST_USE err policy_diff(const policy *old_p, const policy *new_p, buf *out);

#endif
