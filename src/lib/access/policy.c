/*
 * policy.c - the default decision table (DESIGN §3), compiled in.
 *
 *   role              identity           contact  preferences transactions  communications
 *   sales             name (read)        -        read        read, create  -
 *   customer_service  read (ID masked)   read     read        -             read, create
 *   data_steward      read, write        r/w      r/w         r/w           r/w      (own dept)
 *   security, legal, hr, auditor, admin: no customer contents.
 *
 * Sales see only their department's customers; stewards manage only theirs.
 */
#include "access/policy.h"

#include <string.h>

static const char *const ROLE_NAMES[ROLE__COUNT] = {
    "sales", "customer_service", "data_steward", "security", "legal", "hr", "auditor", "admin",
};

const char *role_name(role r)
{
    return (r >= 0 && r < ROLE__COUNT) ? ROLE_NAMES[r] : "none";
}

err role_parse(const char *name, role *out)
{
    for (int i = 0; i < ROLE__COUNT; i++) {
        if (strcmp(name, ROLE_NAMES[i]) == 0) {
            *out = (role)i;
            return ERR_OK;
        }
    }
    BAIL(ERR_INPUT, "unknown role");
}

const char *op_name(op o)
{
    static const char *const n[OP__COUNT] = {"read",   "create", "update", "erase",
                                             "search", "import", "export"};
    return (o >= 0 && o < OP__COUNT) ? n[o] : "none";
}

/* Per role and category: read level and write permission. */
typedef struct grant {
    read_level read;
    bool write;
} grant;

static const grant CAT_GRANTS[ROLE__COUNT][CAT__COUNT] = {
    [ROLE_SALES] = {[CAT_PREFERENCES] = {READ_FULL, false},
                    [CAT_TRANSACTIONS] = {READ_FULL, true}},
    [ROLE_CUSTOMER_SERVICE] = {[CAT_IDENTITY] = {READ_FULL, false},
                               [CAT_CONTACT] = {READ_FULL, false},
                               [CAT_PREFERENCES] = {READ_FULL, false},
                               [CAT_COMMUNICATIONS] = {READ_FULL, true}},
    [ROLE_DATA_STEWARD] = {[CAT_IDENTITY] = {READ_FULL, true},
                           [CAT_CONTACT] = {READ_FULL, true},
                           [CAT_PREFERENCES] = {READ_FULL, true},
                           [CAT_TRANSACTIONS] = {READ_FULL, true},
                           [CAT_COMMUNICATIONS] = {READ_FULL, true},
                           [CAT_INTERNAL] = {READ_FULL, true}},
};

read_level policy_read(role r, rectype t, int field)
{
    if (r < 0 || r >= ROLE__COUNT) {
        return READ_NONE;
    }
    const field_def *f = model_field(t, field);
    if (!f) {
        return READ_NONE;
    }
    if (t == REC_CUSTOMER) {
        if (r == ROLE_SALES && field == CF_NAME) {
            return READ_FULL; /* sales: the name only, of the identity fields */
        }
        if (r == ROLE_CUSTOMER_SERVICE && field == CF_ID_NUMBER) {
            return READ_MASKED;
        }
    }
    return CAT_GRANTS[r][f->cat].read;
}

bool policy_write(role r, rectype t, int field)
{
    if (r < 0 || r >= ROLE__COUNT) {
        return false;
    }
    const field_def *f = model_field(t, field);
    return f && CAT_GRANTS[r][f->cat].write;
}

bool policy_allows(role r, rectype t, op o, const char **rule)
{
    const char *dummy;
    if (!rule) {
        rule = &dummy;
    }
    *rule = "default-deny";
    if (r < 0 || r >= ROLE__COUNT) {
        return false;
    }
    if (t == REC_TRANSACTION || t == REC_COMMUNICATION) {
        category c = t == REC_TRANSACTION ? CAT_TRANSACTIONS : CAT_COMMUNICATIONS;
        const grant *g = &CAT_GRANTS[r][c];
        bool ok = (o == OP_READ && g->read != READ_NONE) || (o == OP_CREATE && g->write);
        if (ok) {
            *rule = t == REC_TRANSACTION ? "grant:transactions" : "grant:communications";
        }
        return ok;
    }
    /* Customers as a whole: a role reads a customer when it may read any field of it. */
    switch (o) {
    case OP_READ:
    case OP_SEARCH:
        for (int i = 0; i < CF__COUNT; i++) {
            if (policy_read(r, REC_CUSTOMER, i) != READ_NONE) {
                *rule = "grant:customer-read";
                return true;
            }
        }
        return false;
    case OP_UPDATE:
        for (int i = 0; i < CF__COUNT; i++) {
            if (policy_write(r, REC_CUSTOMER, i)) {
                *rule = "grant:customer-update";
                return true;
            }
        }
        return false;
    case OP_CREATE:
    case OP_ERASE:
    case OP_IMPORT:
    case OP_EXPORT:
        if (r == ROLE_DATA_STEWARD) {
            *rule = "grant:steward";
            return true;
        }
        return false;
    default:
        return false;
    }
}

bool policy_own_department_only(role r)
{
    return r == ROLE_SALES || r == ROLE_DATA_STEWARD;
}

bool policy_search(role r, blind_kind k)
{
    static const int FIELD_OF[BI__COUNT] = {CF_NAME, CF_PHONE, CF_EMAIL, CF_ID_NUMBER};
    if (k < 0 || k >= BI__COUNT) {
        return false;
    }
    return policy_read(r, REC_CUSTOMER, FIELD_OF[k]) != READ_NONE;
}
