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

/* ---- interim: the policy-file interface over the compiled table ---- */

static const char *const CAP_NAMES[CAP__COUNT] = {
    "accounts.manage", "apikeys.manage",     "policy.manage",       "audit.read",
    "requests.approve", "exports.approve",   "break_glass.open",    "break_glass.review",
    "training.manage",  "violations.read",   "guard.manage",        "keys.manage",
    "honeytokens.manage",
};

const char *cap_name(capability c)
{
    return (c >= 0 && c < CAP__COUNT) ? CAP_NAMES[c] : "none";
}

err cap_parse(const char *name, capability *out)
{
    for (int i = 0; i < CAP__COUNT; i++) {
        if (strcmp(name, CAP_NAMES[i]) == 0) {
            *out = (capability)i;
            return ERR_OK;
        }
    }
    BAIL(ERR_INPUT, "unknown capability");
}

struct policy {
    int unused;
};

err policy_parse(const char *text, size_t len, const char *name, policy **out)
{
    BAIL(ERR_INPUT, "policy files are not supported yet");
}

err policy_load_file(const char *path, policy **out)
{
    BAIL(ERR_INPUT, "policy files are not supported yet");
}

void policy_free(policy *p) {}
const char *policy_default_text(void) { return ""; }
void policy_install(policy *p) {}
const policy *policy_current(void) { return NULL; }
const char *policy_source(const policy *p) { return "built-in"; }

read_level policy_read_in(role r, rectype t, int field, bool same_dept)
{
    if (!same_dept && policy_own_department_only(r)) {
        return READ_NONE;
    }
    return policy_read(r, t, field);
}

write_level policy_write_in(role r, rectype t, int field, bool same_dept)
{
    if (!same_dept && policy_own_department_only(r)) {
        return WRITE_NONE;
    }
    if (policy_write(r, t, field)) {
        return WRITE_DIRECT;
    }
    const field_def *f = model_field(t, field);
    if (r == ROLE_CUSTOMER_SERVICE && t == REC_CUSTOMER && f &&
        (f->cat == CAT_IDENTITY || f->cat == CAT_CONTACT)) {
        return WRITE_REQUEST;
    }
    return WRITE_NONE;
}

bool policy_allows_in(role r, rectype t, op o, bool same_dept, const char **rule)
{
    if (!same_dept && policy_own_department_only(r)) {
        if (rule) {
            *rule = "department-scope";
        }
        return false;
    }
    if (r == ROLE_CUSTOMER_SERVICE && t == REC_CUSTOMER && o == OP_UPDATE) {
        if (rule) {
            *rule = "grant:change-request";
        }
        return true;
    }
    return policy_allows(r, t, o, rule);
}

bool policy_can(role r, capability c)
{
    switch (c) {
    case CAP_ACCOUNTS_MANAGE:
    case CAP_APIKEYS_MANAGE:
        return r == ROLE_ADMIN;
    case CAP_POLICY_MANAGE:
    case CAP_BREAK_GLASS_OPEN:
    case CAP_GUARD_MANAGE:
    case CAP_KEYS_MANAGE:
    case CAP_HONEYTOKENS_MANAGE:
        return r == ROLE_SECURITY;
    case CAP_AUDIT_READ:
        return r == ROLE_AUDITOR || r == ROLE_LEGAL || r == ROLE_SECURITY;
    case CAP_REQUESTS_APPROVE:
    case CAP_EXPORTS_APPROVE:
        return r == ROLE_DATA_STEWARD;
    case CAP_BREAK_GLASS_REVIEW:
        return r == ROLE_SECURITY || r == ROLE_AUDITOR;
    case CAP_TRAINING_MANAGE:
        return r == ROLE_HR;
    case CAP_VIOLATIONS_READ:
        return r == ROLE_HR || r == ROLE_SECURITY;
    default:
        return false;
    }
}

bool policy_needs_training(role r)
{
    return r == ROLE_SALES || r == ROLE_CUSTOMER_SERVICE || r == ROLE_DATA_STEWARD;
}

err policy_explain(const policy *p, const char *rn, const char *op_or_cap, const char *cat,
                   bool same_dept, buf *out)
{
    BAIL(ERR_INPUT, "not supported yet");
}

err policy_diff(const policy *old_p, const policy *new_p, buf *out)
{
    buf_reset(out);
    return ERR_OK;
}
