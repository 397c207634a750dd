/*
 * policy.c - names of roles, operations and capabilities; the installed policy;
 * and the decisions, which are lookups in the installed policy's tables.
 *
 * The installed policy is one atomic pointer. Readers load it (acquire) and
 * index its tables: no lock, no allocation, no reference count. A reload
 * installs a freshly parsed policy with a compare-and-swap (release) and keeps
 * the replaced one alive, chained behind the new one, so that a reader still
 * holding it and every rule string handed out stay valid until the process
 * exits. Reloads are rare; the few kilobytes each keeps are the price of
 * lock-free readers.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy_int.h"

static const char *const ROLE_NAMES[ROLE__COUNT] = {
    "sales", "customer_service", "data_steward", "security", "legal", "hr", "auditor", "admin",
};

const char *role_name(role r)
{
    return (r >= 0 && r < ROLE__COUNT) ? ROLE_NAMES[r] : "none";
}

err role_parse(const char *name, role *out)
{
    ENSURE(name != NULL, ERR_INPUT, "missing role");
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

static const char *const CAP_NAMES[CAP__COUNT] = {
    [CAP_ACCOUNTS_MANAGE] = "accounts.manage",
    [CAP_APIKEYS_MANAGE] = "apikeys.manage",
    [CAP_POLICY_MANAGE] = "policy.manage",
    [CAP_AUDIT_READ] = "audit.read",
    [CAP_REQUESTS_APPROVE] = "requests.approve",
    [CAP_EXPORTS_APPROVE] = "exports.approve",
    [CAP_BREAK_GLASS_OPEN] = "break_glass.open",
    [CAP_BREAK_GLASS_REVIEW] = "break_glass.review",
    [CAP_TRAINING_MANAGE] = "training.manage",
    [CAP_VIOLATIONS_READ] = "violations.read",
    [CAP_GUARD_MANAGE] = "guard.manage",
    [CAP_KEYS_MANAGE] = "keys.manage",
    [CAP_HONEYTOKENS_MANAGE] = "honeytokens.manage",
};

const char *cap_name(capability c)
{
    return (c >= 0 && c < CAP__COUNT) ? CAP_NAMES[c] : "none";
}

err cap_parse(const char *name, capability *out)
{
    ENSURE(name != NULL, ERR_INPUT, "missing capability");
    for (int i = 0; i < CAP__COUNT; i++) {
        if (strcmp(name, CAP_NAMES[i]) == 0) {
            *out = (capability)i;
            return ERR_OK;
        }
    }
    BAIL(ERR_INPUT, "unknown capability");
}

const char *const POLICY_POP_NAMES[POP__COUNT] = {
    [POP_READ] = "read",     [POP_WRITE] = "write", [POP_REQUEST] = "request",
    [POP_CREATE] = "create", [POP_ERASE] = "erase", [POP_IMPORT] = "import",
    [POP_EXPORT] = "export",
};

rectype policy_cat_rectype(category c)
{
    return c == CAT_TRANSACTIONS     ? REC_TRANSACTION
           : c == CAT_COMMUNICATIONS ? REC_COMMUNICATION
                                     : REC_CUSTOMER;
}

const pcell *policy_field_cell(const policy *p, role r, rectype t, int field, int pd)
{
    const field_def *f = model_field(t, field);
    if (!f || r < 0 || r >= ROLE__COUNT || pd < 0 || pd >= PD__FIELD) {
        return NULL;
    }
    const pcell *own = &p->fld[r][t][field][pd];
    return own->src ? own : &p->cat[r][f->cat][pd];
}

const pcell *policy_rec_cell(const policy *p, role r, rectype t, int pr)
{
    if (r < 0 || r >= ROLE__COUNT || pr < 0 || pr >= PR__COUNT) {
        return NULL;
    }
    if (t == REC_CUSTOMER) {
        return &p->cust[r][pr];
    }
    if (pr != PR_CREATE) {
        return NULL;
    }
    if (t == REC_TRANSACTION) {
        return &p->cat[r][CAT_TRANSACTIONS][PD_CREATE];
    }
    if (t == REC_COMMUNICATION) {
        return &p->cat[r][CAT_COMMUNICATIONS][PD_CREATE];
    }
    return NULL;
}

/* ---- the installed policy ---- */

static _Atomic(policy *) g_current;

static policy *install_default(void)
{
    policy *p = NULL;
    const char *text = policy_default_text();
    if (policy_parse(text, strlen(text), "policy.conf", &p) != ERR_OK) {
        abort(); /* the embedded default is checked by the unit tests: a broken build */
    }
    policy *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(&g_current, &expected, p, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        policy_free(p); /* another thread was first; ours was never visible */
        return expected;
    }
    return p;
}

static inline const policy *cur(void)
{
    policy *p = atomic_load_explicit(&g_current, memory_order_acquire);
    return p ? p : install_default();
}

const policy *policy_current(void)
{
    return cur();
}

void policy_install(policy *p)
{
    if (!p) {
        return;
    }
    policy *old = atomic_load_explicit(&g_current, memory_order_acquire);
    do {
        for (const policy *q = old; q; q = q->retired) {
            if (NEVER(q == p)) {
                return; /* installed twice: it would chain to itself */
            }
        }
        p->retired = old;
    } while (!atomic_compare_exchange_weak_explicit(&g_current, &old, p, memory_order_acq_rel,
                                                    memory_order_acquire));
}

const char *policy_source(const policy *p)
{
    return p ? p->name : "";
}

void policy_stats(const policy *p, size_t *grants, size_t *capabilities)
{
    if (grants) {
        *grants = p ? p->ngrants : 0;
    }
    if (capabilities) {
        *capabilities = p ? p->ncaps : 0;
    }
}

/* ---- decisions ---- */

static inline bool field_ok(rectype t, int field)
{
    static const int NFIELDS[REC__COUNT] = {CF__COUNT, TF__COUNT, MF__COUNT};
    return t >= 0 && t < REC__COUNT && field >= 0 && field < NFIELDS[t];
}

read_level policy_read_in(role r, rectype t, int field, bool same_dept)
{
    if (r < 0 || r >= ROLE__COUNT || !field_ok(t, field)) {
        return READ_NONE;
    }
    return (read_level)cur()->rd[r][t][field][same_dept ? 1 : 0];
}

write_level policy_write_in(role r, rectype t, int field, bool same_dept)
{
    if (r < 0 || r >= ROLE__COUNT || !field_ok(t, field)) {
        return WRITE_NONE;
    }
    return (write_level)cur()->wr[r][t][field][same_dept ? 1 : 0];
}

bool policy_allows_in(role r, rectype t, op o, bool same_dept, const char **rule)
{
    if (r < 0 || r >= ROLE__COUNT || t < 0 || t >= REC__COUNT || o < 0 || o >= OP__COUNT) {
        if (rule) {
            *rule = "default-deny";
        }
        return false;
    }
    const policy *p = cur();
    int d = same_dept ? 1 : 0;
    if (rule) {
        *rule = p->allow_rule[r][t][o][d];
    }
    return p->allow[r][t][o][d];
}

bool policy_can(role r, capability c)
{
    if (r < 0 || r >= ROLE__COUNT || c < 0 || c >= CAP__COUNT) {
        return false;
    }
    return cur()->can[r][c];
}

bool policy_needs_training(role r)
{
    return r >= 0 && r < ROLE__COUNT && cur()->training[r];
}

read_level policy_read(role r, rectype t, int field)
{
    return policy_read_in(r, t, field, true);
}

bool policy_write(role r, rectype t, int field)
{
    return policy_write_in(r, t, field, true) == WRITE_DIRECT;
}

bool policy_allows(role r, rectype t, op o, const char **rule)
{
    return policy_allows_in(r, t, o, true, rule);
}

bool policy_own_department_only(role r)
{
    return r >= 0 && r < ROLE__COUNT && cur()->own_only[r];
}

bool policy_search(role r, blind_kind k)
{
    static const int FIELD_OF[BI__COUNT] = {CF_NAME, CF_PHONE, CF_EMAIL, CF_ID_NUMBER};
    if (k < 0 || k >= BI__COUNT) {
        return false;
    }
    return policy_read(r, REC_CUSTOMER, FIELD_OF[k]) != READ_NONE;
}
