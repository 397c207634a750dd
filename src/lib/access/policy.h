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

#endif
