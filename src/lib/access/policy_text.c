/*
 * policy_text.c - a policy put into words: the explanation of one decision,
 * the effective grants in canonical form, and the difference of two policies.
 *
 * "Effective" means what the decisions are, not how the file spells them: a
 * field that takes its category's grant and one that repeats it are the same,
 * and options given by `require` appear on every grant they touch. The
 * canonical form lists, per role, each category whose fields all decide alike
 * as one target and otherwise each field on its own; it is itself a policy
 * file that parses to the same decisions. A diff compares two such lists, one
 * grant (role, operation, target, options) per line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy_int.h"

/* ---- effective grants ---- */

enum { FK_CAT, FK_FIELD, FK_CUSTOMERS, FK_CAP };

typedef struct fact {
    role r;
    int kind;
    category cat;
    rectype rt;
    int field;
    int what; /* pop, or capability for FK_CAP */
    uint8_t level;
    uint8_t flags; /* PF_OWN_DEPT | PF_TRAINING */
} fact;

#define MAX_FACTS 1024

typedef struct facts {
    fact f[MAX_FACTS];
    size_t n;
} facts;

static void add_fact(facts *fs, fact f)
{
    if (ALWAYS(fs->n < MAX_FACTS)) {
        fs->f[fs->n++] = f;
    }
}

/* The effective (level, options) of a field permission; level 0 when not granted. */
static void field_sig(const policy *p, role r, rectype t, int field, int pd, uint8_t *level,
                      uint8_t *flags)
{
    const pcell *c = policy_field_cell(p, r, t, field, pd);
    bool g = c && c->src && !(c->flags & PF_DENY) && c->level;
    *level = g ? c->level : 0;
    *flags = g ? (uint8_t)(c->flags & (PF_OWN_DEPT | PF_TRAINING)) : 0;
}

static int pop_of(int pd, uint8_t level)
{
    if (pd == PD_READ) {
        return POP_READ;
    }
    return level == WRITE_DIRECT ? POP_WRITE : POP_REQUEST;
}

static void collect(const policy *p, facts *fs)
{
    fs->n = 0;
    for (int ri = 0; ri < ROLE__COUNT; ri++) {
        role r = (role)ri;
        for (int ci = 0; ci < CAT__COUNT; ci++) {
            category cat = (category)ci;
            rectype t = policy_cat_rectype(cat);
            size_t nf = model_nfields(t);
            bool per_field[PD__FIELD] = {false, false};
            for (int pd = 0; pd < PD__FIELD; pd++) {
                bool first = true, same = true;
                uint8_t l0 = 0, f0 = 0;
                for (size_t f = 0; f < nf; f++) {
                    if (model_field(t, (int)f)->cat != cat) {
                        continue;
                    }
                    uint8_t l, fl;
                    field_sig(p, r, t, (int)f, pd, &l, &fl);
                    if (first) {
                        l0 = l;
                        f0 = fl;
                        first = false;
                    } else if (l != l0 || fl != f0) {
                        same = false;
                    }
                }
                if (!same) {
                    per_field[pd] = true;
                } else if (l0) {
                    add_fact(fs, (fact){r, FK_CAT, cat, t, -1, pop_of(pd, l0), l0, f0});
                }
            }
            const pcell *cr = &p->cat[r][cat][PD_CREATE];
            if (cr->src && !(cr->flags & PF_DENY) && cr->level) {
                add_fact(fs, (fact){r, FK_CAT, cat, t, -1, POP_CREATE, 1,
                                    (uint8_t)(cr->flags & (PF_OWN_DEPT | PF_TRAINING))});
            }
            for (size_t f = 0; f < nf; f++) {
                if (model_field(t, (int)f)->cat != cat) {
                    continue;
                }
                for (int pd = 0; pd < PD__FIELD; pd++) {
                    uint8_t l, fl;
                    field_sig(p, r, t, (int)f, pd, &l, &fl);
                    if (per_field[pd] && l) {
                        add_fact(fs, (fact){r, FK_FIELD, cat, t, (int)f, pop_of(pd, l), l, fl});
                    }
                }
            }
        }
        static const int PR_POP[PR__COUNT] = {POP_CREATE, POP_ERASE, POP_IMPORT, POP_EXPORT};
        for (int k = 0; k < PR__COUNT; k++) {
            const pcell *c = &p->cust[r][k];
            if (c->src && c->level) {
                add_fact(fs, (fact){r, FK_CUSTOMERS, CAT_IDENTITY, REC_CUSTOMER, -1, PR_POP[k], 1,
                                    (uint8_t)(c->flags & (PF_OWN_DEPT | PF_TRAINING))});
            }
        }
        for (int c = 0; c < CAP__COUNT; c++) {
            if (p->can[r][c]) {
                add_fact(fs, (fact){r, FK_CAP, CAT_IDENTITY, REC_CUSTOMER, -1, c, 1, 0});
            }
        }
    }
}

static err append_target(buf *out, const fact *f)
{
    switch (f->kind) {
    case FK_CAT:
        return buf_append_str(out, category_name(f->cat));
    case FK_FIELD:
        return buf_appendf(out, "%s.%s", category_name(f->cat), model_field(f->rt, f->field)->name);
    default:
        return buf_append_str(out, "customers");
    }
}

static err append_options(buf *out, bool masked, uint8_t flags)
{
    if (masked) {
        TRY(buf_append_str(out, " masked"));
    }
    if (flags & PF_OWN_DEPT) {
        TRY(buf_append_str(out, " own-department"));
    }
    if (flags & PF_TRAINING) {
        TRY(buf_append_str(out, " training"));
    }
    return ERR_OK;
}

/* One grant per line, for diffs. */
static err fact_line(const fact *f, buf *out)
{
    if (f->kind == FK_CAP) {
        return buf_appendf(out, "grant %s %s", role_name(f->r), cap_name((capability)f->what));
    }
    TRY(buf_appendf(out, "grant %s %s on ", role_name(f->r), POLICY_POP_NAMES[f->what]));
    TRY(append_target(out, f));
    return append_options(out, f->what == POP_READ && f->level == READ_MASKED, f->flags);
}

static bool same_target(const fact *a, const fact *b)
{
    return a->r == b->r && a->kind == b->kind && a->cat == b->cat && a->field == b->field;
}

/* One line of the canonical form before targets are merged: operations and options on one
 * target, or the capabilities of a role (cap). */
typedef struct entry {
    role r;
    bool cap;
    size_t fact; /* index of a fact naming the target */
    char ops[320];
    char opts[48];
} entry;

/* Appends to e->ops (bounded: the longest list, every capability, fits). */
static void entry_add(entry *e, size_t *used, const char *name)
{
    if (*used < sizeof e->ops) {
        int w = snprintf(e->ops + *used, sizeof e->ops - *used, "%s%s", *used ? ", " : "", name);
        *used += w > 0 ? (size_t)w : 0;
    }
}

err policy_show(const policy *p, buf *out)
{
    ENSURE(p != NULL, ERR_INPUT, "no policy");
    err rc = ERR_OK;
    entry *es = NULL;
    facts *fs = malloc(sizeof *fs);
    CHECK(fs != NULL, ERR_INTERNAL, "out of memory");
    collect(p, fs);
    es = calloc(fs->n + 1, sizeof *es);
    CHECK(es != NULL, ERR_INTERNAL, "out of memory");
    GUARD(buf_append_str(out, "# effective grants of "));
    for (const char *c = p->name; *c; c++) { /* the name is the caller's: keep it one line */
        GUARD(buf_append_byte(out, (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : (uint8_t)*c));
    }
    GUARD(buf_append_str(out, "\nversion 1\n"));
    for (int r = 0; r < ROLE__COUNT; r++) {
        bool has = false;
        for (size_t i = 0; i < fs->n; i++) {
            has |= fs->f[i].r == (role)r && fs->f[i].kind != FK_CAP;
        }
        if (has && p->ack[r]) {
            GUARD(buf_appendf(out, "allow-customer-contents %s\n", role_name((role)r)));
        }
    }
    /* Entries: per target, its grants grouped by options; per role, its capabilities. */
    size_t ne = 0;
    for (size_t i = 0; i < fs->n;) {
        const fact *fi = &fs->f[i];
        size_t j = i, used = 0;
        if (fi->kind == FK_CAP) {
            entry *e = &es[ne++];
            e->r = fi->r;
            e->cap = true;
            for (; j < fs->n && fs->f[j].kind == FK_CAP && fs->f[j].r == fi->r; j++) {
                entry_add(e, &used, cap_name((capability)fs->f[j].what));
            }
            i = j;
            continue;
        }
        while (j < fs->n && fs->f[j].kind != FK_CAP && same_target(fi, &fs->f[j])) {
            j++;
        }
        bool done[4] = {false, false, false, false};
        for (size_t k = i; k < j; k++) {
            unsigned fl = fs->f[k].flags & 3u;
            if (done[fl]) {
                continue;
            }
            done[fl] = true;
            entry *e = &es[ne++];
            e->r = fi->r;
            e->fact = k;
            used = 0;
            bool masked = false;
            for (size_t m = k; m < j; m++) {
                if ((fs->f[m].flags & 3u) == fl) {
                    masked |= fs->f[m].what == POP_READ && fs->f[m].level == READ_MASKED;
                    entry_add(e, &used, POLICY_POP_NAMES[fs->f[m].what]);
                }
            }
            snprintf(e->opts, sizeof e->opts, "%s%s%s", masked ? " masked" : "",
                     (fl & PF_OWN_DEPT) ? " own-department" : "",
                     (fl & PF_TRAINING) ? " training" : "");
        }
        i = j;
    }
    /* Consecutive entries of a role with the same operations and options share a line. */
    int last_role = -1;
    for (size_t i = 0; i < ne;) {
        size_t j = i + 1;
        while (!es[i].cap && j < ne && !es[j].cap && es[j].r == es[i].r &&
               strcmp(es[j].ops, es[i].ops) == 0 && strcmp(es[j].opts, es[i].opts) == 0) {
            j++;
        }
        if ((int)es[i].r != last_role) {
            GUARD(buf_append_byte(out, '\n'));
            last_role = (int)es[i].r;
        }
        if (es[i].cap) {
            GUARD(buf_appendf(out, "grant %s %s\n", role_name(es[i].r), es[i].ops));
            i = j;
            continue;
        }
        GUARD(buf_appendf(out, "grant %s %s on ", role_name(es[i].r), es[i].ops));
        for (size_t k = i; k < j; k++) {
            if (k > i) {
                GUARD(buf_append_str(out, ", "));
            }
            GUARD(append_target(out, &fs->f[es[k].fact]));
        }
        GUARD(buf_appendf(out, "%s\n", es[i].opts));
        i = j;
    }
out:
    free(fs);
    free(es);
    return rc;
}

err policy_diff(const policy *old_p, const policy *new_p, buf *out)
{
    ENSURE(old_p != NULL && new_p != NULL, ERR_INPUT, "no policy");
    err rc = ERR_OK;
    facts *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    char **la = NULL, **lb = NULL;
    CHECK(a && b, ERR_INTERNAL, "out of memory");
    collect(old_p, a);
    collect(new_p, b);
    la = calloc(a->n + 1, sizeof *la);
    lb = calloc(b->n + 1, sizeof *lb);
    CHECK(la && lb, ERR_INTERNAL, "out of memory");
    for (int side = 0; side < 2; side++) {
        facts *fs = side ? b : a;
        char **ls = side ? lb : la;
        for (size_t i = 0; i < fs->n; i++) {
            buf line;
            buf_init(&line, 4096);
            rc = fact_line(&fs->f[i], &line);
            ls[i] = rc == ERR_OK ? buf_take_cstr(&line) : NULL;
            buf_free(&line);
            GUARD(rc);
            CHECK(ls[i] != NULL, ERR_INTERNAL, "out of memory");
        }
    }
    for (int side = 0; side < 2; side++) {
        char **from = side ? lb : la, **other = side ? la : lb;
        size_t nfrom = side ? b->n : a->n, nother = side ? a->n : b->n;
        for (size_t i = 0; i < nfrom; i++) {
            bool found = false;
            for (size_t k = 0; k < nother && !found; k++) {
                found = strcmp(from[i], other[k]) == 0;
            }
            if (!found) {
                GUARD(buf_appendf(out, "%c %s\n", side ? '+' : '-', from[i]));
            }
        }
    }
out:
    for (size_t i = 0; la && a && i < a->n; i++) {
        free(la[i]);
    }
    for (size_t i = 0; lb && b && i < b->n; i++) {
        free(lb[i]);
    }
    free(la);
    free(lb);
    free(a);
    free(b);
    return rc;
}

/* ---- explanations ---- */

static bool name_is(const char *s, size_t n, const char *w)
{
    size_t wn = strlen(w);
    return n == wn && memcmp(s, w, n) == 0;
}

/* at = ": policy.conf:14" when an option of the cell comes from a require line of the role,
 * else "". */
static void required_at(const policy *p, role r, const pcell *c, unsigned flag, char *at, size_t n)
{
    uint32_t src = flag == PF_OWN_DEPT ? p->require_own[r] : p->require_training[r];
    at[0] = '\0';
    if (!(c->written & flag) && src != 0) {
        snprintf(at, n, ": %s", p->lines[src - 1].where);
    }
}

/* Why a cell decides as it does, for `want` (POP_READ, POP_WRITE or POP_REQUEST; record
 * operations as POP_CREATE...). create: the create cell of a transaction or communication
 * (who creates one fills its fields), for want == POP_WRITE. */
static err describe(const policy *p, role r, const pcell *c, int want, bool same,
                    const pcell *create, buf *out)
{
    bool applies = policy_cell_applies(c, same);
    bool ok = false;
    const char *qual = NULL;
    if (applies) {
        if (want == POP_READ) {
            ok = true;
            qual = c->level == READ_MASKED ? "masked" : NULL;
        } else if (want == POP_WRITE) {
            ok = c->level == WRITE_DIRECT;
        } else if (want == POP_REQUEST) {
            ok = true;
            qual = c->level == WRITE_DIRECT ? "direct write" : NULL;
        } else {
            ok = true;
        }
    }
    if (!ok && want == POP_WRITE && policy_cell_applies(create, same)) {
        c = create;
        ok = true;
        qual = "when creating the record";
    }
    char at[200];
    if (ok) {
        bool tr = c->flags & PF_TRAINING;
        const pline *l = &p->lines[c->src - 1];
        required_at(p, r, c, PF_TRAINING, at, sizeof at);
        if (qual || tr) {
            return buf_appendf(out, "allow (%s%s%s%s) by %s: %s\n", qual ? qual : "",
                               qual && tr ? "; " : "", tr ? "needs current security training" : "",
                               tr ? at : "", l->where, l->text);
        }
        return buf_appendf(out, "allow by %s: %s\n", l->where, l->text);
    }
    if (c == NULL || c->src == 0) {
        return buf_append_str(out, "deny: no grant (default deny)\n");
    }
    const pline *l = &p->lines[c->src - 1];
    if (c->flags & PF_DENY) {
        return buf_appendf(out, "deny by %s: %s\n", l->where, l->text);
    }
    if (!same && (c->flags & PF_OWN_DEPT)) {
        required_at(p, r, c, PF_OWN_DEPT, at, sizeof at);
        return buf_appendf(out, "deny (own-department customers only%s) by %s: %s\n", at, l->where,
                           l->text);
    }
    /* it applies, but allows change requests only */
    return buf_appendf(out, "deny (change requests only) by %s: %s\n", l->where, l->text);
}

err policy_explain(const policy *p, const char *role_name_, const char *op_or_cap,
                   const char *cat_or_field, bool same_dept, buf *out)
{
    ENSURE(p != NULL, ERR_INPUT, "no policy");
    ENSURE(role_name_ != NULL && op_or_cap != NULL, ERR_INPUT, "missing role or operation");
    role r;
    ENSURE(strnlen(role_name_, 65) <= 64 && role_parse(role_name_, &r) == ERR_OK, ERR_INPUT,
           "unknown role (sales, customer_service, data_steward, security, legal, hr, auditor, "
           "admin)");
    size_t on = strnlen(op_or_cap, 65);
    size_t tn = cat_or_field ? strnlen(cat_or_field, 129) : 0;
    ENSURE(on <= 64 && tn <= 128, ERR_INPUT, "name too long");

    if (memchr(op_or_cap, '.', on)) {
        capability c;
        ENSURE(cap_parse(op_or_cap, &c) == ERR_OK, ERR_INPUT, "unknown capability '%s'", op_or_cap);
        ENSURE(tn == 0, ERR_INPUT, "a capability takes no category");
        uint32_t src = p->cap[r][c];
        if (!src) {
            return buf_append_str(out, "deny: no grant (default deny)\n");
        }
        return buf_appendf(out, "allow by %s: %s\n", p->lines[src - 1].where,
                           p->lines[src - 1].text);
    }
    int want = -1;
    if (name_is(op_or_cap, on, "search")) {
        want = POP_READ; /* search follows read of the searched field */
    }
    for (int o = 0; o < POP__COUNT && want < 0; o++) {
        if (name_is(op_or_cap, on, POLICY_POP_NAMES[o])) {
            want = o;
        }
    }
    ENSURE(want >= 0, ERR_INPUT,
           "unknown operation '%s' (read, search, write, request, create, erase, import, export, "
           "or a capability)",
           op_or_cap);
    ENSURE(tn > 0, ERR_INPUT, "missing category, field or 'customers'");

    /* The target. */
    if (name_is(cat_or_field, tn, "customers")) {
        ENSURE(want >= POP_CREATE, ERR_INPUT,
               "customers takes create, erase, import or export; %s names a category or a field",
               op_or_cap);
        int pr = want == POP_CREATE   ? PR_CREATE
                 : want == POP_ERASE  ? PR_ERASE
                 : want == POP_IMPORT ? PR_IMPORT
                                      : PR_EXPORT;
        return describe(p, r, &p->cust[r][pr], want, same_dept, NULL, out);
    }
    const char *dot = memchr(cat_or_field, '.', tn);
    size_t cn = dot ? (size_t)(dot - cat_or_field) : tn;
    int ci = -1;
    for (int c = 0; c < CAT__COUNT && ci < 0; c++) {
        if (name_is(cat_or_field, cn, category_name((category)c))) {
            ci = c;
        }
    }
    ENSURE(ci >= 0, ERR_INPUT,
           "unknown category (identity, contact, preferences, transactions, communications, "
           "internal, or customers)");
    category cat = (category)ci;
    rectype t = policy_cat_rectype(cat);
    int field = -1;
    if (dot) {
        field = model_field_index(t, dot + 1, tn - cn - 1);
        ENSURE(field >= 0 && model_field(t, field)->cat == cat, ERR_INPUT, "unknown field of %s",
               category_name(cat));
    }
    if (want == POP_CREATE) {
        ENSURE(field < 0 && t != REC_CUSTOMER, ERR_INPUT,
               "create applies to transactions, communications or customers");
        return describe(p, r, policy_rec_cell(p, r, t, PR_CREATE), want, same_dept, NULL, out);
    }
    ENSURE(want <= POP_REQUEST, ERR_INPUT, "%s applies to customers only", op_or_cap);
    int pd = want == POP_READ ? PD_READ : PD_CHANGE;
    const pcell *create = t == REC_CUSTOMER ? NULL : policy_rec_cell(p, r, t, PR_CREATE);
    if (field >= 0) {
        return describe(p, r, policy_field_cell(p, r, t, field, pd), want, same_dept, create, out);
    }
    /* A category: its own grant, then each field that has a grant (or deny) of its own. */
    TRY(describe(p, r, &p->cat[r][cat][pd], want, same_dept, create, out));
    for (size_t f = 0; f < model_nfields(t); f++) {
        const field_def *d = model_field(t, (int)f);
        if (d->cat == cat && p->fld[r][t][f][pd].src) {
            TRY(buf_appendf(out, "  %s.%s: ", category_name(cat), d->name));
            TRY(describe(p, r, &p->fld[r][t][f][pd], want, same_dept, create, out));
        }
    }
    return ERR_OK;
}
