/*
 * policy_parse.c - the policy file parser and compiler (docs/FORMATS-policy.md).
 *
 * The text is checked line by line (length, NUL and control bytes, UTF-8),
 * split into words and commas, and each statement is parsed into a fresh
 * policy's source cells; a cell set twice is a duplicate or a conflict. Once
 * every line is read, the per-role `require` options are folded in, the
 * separation-of-duties rule is checked, and the decision tables are computed.
 * Any error names the line and leaves nothing behind: the caller's policy
 * pointer is written only on success.
 *
 * The input is untrusted: every read is bounded by the lengths at hand, no
 * str* function touches it, and words are compared with memcmp against the
 * known names.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy_int.h"

#define MAX_WORD 64
#define MAX_TOKENS (POLICY_MAX_LINE + 1)
#define MAX_ITEMS 64   /* items of one list: roles, operations, targets, capabilities */
#define NAME_SHOWN 160 /* bytes of the policy's name shown in a message */

typedef struct tok {
    const char *p;
    size_t len; /* 0 for a comma */
} tok;

enum { TK_CAT, TK_FIELD, TK_CUSTOMERS };
typedef struct ptarget {
    int kind;
    category cat;
    rectype rt;
    int field;
    tok t;
} ptarget;

typedef struct pstate {
    policy *p;
    const char *name;
    uint32_t lineno;
    tok t[MAX_TOKENS];
    size_t n, i;
    uint32_t src; /* this statement's index in p->lines, 1-based */
    bool have_version;
} pstate;

static const role RESTRICTED[] = {ROLE_ADMIN, ROLE_SECURITY, ROLE_LEGAL, ROLE_HR, ROLE_AUDITOR};

static bool restricted(role r)
{
    for (size_t i = 0; i < sizeof RESTRICTED / sizeof RESTRICTED[0]; i++) {
        if (RESTRICTED[i] == r) {
            return true;
        }
    }
    return false;
}

static err perr_at(const pstate *s, uint32_t line, const char *fmt, ...) PRINTF_LIKE(3, 4);
static err perr_at(const pstate *s, uint32_t line, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(ERR_INPUT, __FILE__, __LINE__, "%.*s:%u: %s", NAME_SHOWN, s->name, line, msg);
}
#define perr(s, ...) perr_at((s), (s)->lineno, __VA_ARGS__)

/* printf arguments for a word: at most 48 bytes of it (words hold [a-z0-9_.-] only). */
#define W(tk) (int)((tk)->len > 48 ? 48 : (tk)->len), (tk)->p

static bool is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static bool word_is(const tok *t, const char *w)
{
    size_t n = strlen(w); /* w is one of our own names */
    return t != NULL && t->len == n && n > 0 && memcmp(t->p, w, n) == 0;
}

static const tok *peek(const pstate *s)
{
    return s->i < s->n ? &s->t[s->i] : NULL;
}

static bool is_comma(const tok *t)
{
    return t != NULL && t->len == 0;
}

/* ---- lines and words ---- */

static err check_bytes(pstate *s, const char *line, size_t n)
{
    char why[64];
    if (!utf8_text_line(line, n, POLICY_MAX_LINE, why, sizeof why)) {
        return perr(s, "%s", why);
    }
    return ERR_OK;
}

static err lex(pstate *s, const char *line, size_t n)
{
    s->n = 0;
    s->i = 0;
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)line[i];
        if (c == ' ' || c == '\t') {
            i++;
            continue;
        }
        if (c == '#') {
            break;
        }
        if (!ALWAYS(s->n < MAX_TOKENS)) {
            return perr(s, "too many words");
        }
        if (c == ',') {
            s->t[s->n++] = (tok){line + i, 0};
            i++;
            continue;
        }
        if (is_word_byte(c)) {
            size_t j = i;
            while (j < n && is_word_byte((unsigned char)line[j])) {
                j++;
            }
            if (j - i > MAX_WORD) {
                return perr(s, "word longer than %d characters", MAX_WORD);
            }
            s->t[s->n++] = (tok){line + i, j - i};
            i = j;
            continue;
        }
        if (c >= 'A' && c <= 'Z') {
            return perr(s, "unexpected '%c': names are lower case", c);
        }
        if (c >= 0x80) {
            return perr(s, "non-ASCII text outside a comment");
        }
        return perr(s, "unexpected character '%c'", c);
    }
    return ERR_OK;
}

/* Records the statement (its place and its words, normalised) as a line of the policy. */
static err add_line(pstate *s)
{
    policy *p = s->p;
    if (p->nlines == p->lines_cap) {
        size_t ncap = p->lines_cap ? p->lines_cap * 2 : 32;
        pline *nl = realloc(p->lines, ncap * sizeof *nl);
        ENSURE(nl != NULL, ERR_INTERNAL, "out of memory");
        p->lines = nl;
        p->lines_cap = ncap;
    }
    buf w, t;
    buf_init(&w, 4096);
    buf_init(&t, 4096);
    err rc = ERR_OK;
    GUARD(buf_appendf(&w, "%s:%u", s->name, s->lineno));
    for (size_t i = 0; i < s->n; i++) {
        if (is_comma(&s->t[i])) {
            GUARD(buf_append_byte(&t, ','));
        } else {
            if (i > 0) {
                GUARD(buf_append_byte(&t, ' '));
            }
            GUARD(buf_append(&t, s->t[i].p, s->t[i].len));
        }
    }
    pline *l = &p->lines[p->nlines];
    l->lineno = s->lineno;
    l->where = buf_take_cstr(&w);
    l->text = buf_take_cstr(&t);
    if (!l->where || !l->text) {
        free(l->where);
        free(l->text);
        FAIL(ERR_INTERNAL, "out of memory");
    }
    p->nlines++;
    s->src = (uint32_t)p->nlines;
out:
    buf_free(&w);
    buf_free(&t);
    return rc;
}

static uint32_t line_of(const policy *p, uint32_t src)
{
    return src ? p->lines[src - 1].lineno : 0;
}

/* A comma-separated list of words: "a, b, c". */
static err parse_list(pstate *s, const char *what, const tok **items, size_t *n)
{
    *n = 0;
    for (;;) {
        const tok *t = peek(s);
        if (t == NULL || is_comma(t)) {
            return *n ? perr(s, "expected %s after ','", what) : perr(s, "expected %s", what);
        }
        if (*n == MAX_ITEMS) {
            return perr(s, "more than %d items in a list", MAX_ITEMS);
        }
        items[(*n)++] = t;
        s->i++;
        if (!is_comma(peek(s))) {
            return ERR_OK;
        }
        s->i++;
    }
}

static err parse_roles(pstate *s, bool roles[ROLE__COUNT])
{
    const tok *items[MAX_ITEMS];
    size_t n;
    TRY(parse_list(s, "a role", items, &n));
    for (int r = 0; r < ROLE__COUNT; r++) {
        roles[r] = false;
    }
    for (size_t i = 0; i < n; i++) {
        int found = -1;
        for (int r = 0; r < ROLE__COUNT && found < 0; r++) {
            if (word_is(items[i], role_name((role)r))) {
                found = r;
            }
        }
        if (found < 0) {
            return perr(s,
                        "unknown role '%.*s' (sales, customer_service, data_steward, security, "
                        "legal, hr, auditor, admin)",
                        W(items[i]));
        }
        if (roles[found]) {
            return perr(s, "role '%.*s' named twice", W(items[i]));
        }
        roles[found] = true;
    }
    return ERR_OK;
}

static int find_pop(const tok *t)
{
    for (int o = 0; o < POP__COUNT; o++) {
        if (word_is(t, POLICY_POP_NAMES[o])) {
            return o;
        }
    }
    return -1;
}

static int find_cap(const tok *t)
{
    for (int c = 0; c < CAP__COUNT; c++) {
        if (word_is(t, cap_name((capability)c))) {
            return c;
        }
    }
    return -1;
}

static int find_cat(const char *p, size_t n)
{
    for (int c = 0; c < CAT__COUNT; c++) {
        tok t = {p, n};
        if (word_is(&t, category_name((category)c))) {
            return c;
        }
    }
    return -1;
}

static bool is_option_word(const tok *t)
{
    return word_is(t, "masked") || word_is(t, "own-department") || word_is(t, "training");
}

static err parse_target(pstate *s, const tok *t, ptarget *out)
{
    out->t = *t;
    out->field = -1;
    if (word_is(t, "customers")) {
        out->kind = TK_CUSTOMERS;
        out->cat = CAT_IDENTITY;
        out->rt = REC_CUSTOMER;
        return ERR_OK;
    }
    const char *dot = memchr(t->p, '.', t->len);
    size_t cn = dot ? (size_t)(dot - t->p) : t->len;
    int c = find_cat(t->p, cn);
    if (c < 0) {
        return perr(s,
                    "unknown category '%.*s' (identity, contact, preferences, transactions, "
                    "communications, internal, or customers)",
                    (int)(cn > 48 ? 48 : cn), t->p);
    }
    out->cat = (category)c;
    out->rt = policy_cat_rectype(out->cat);
    if (!dot) {
        out->kind = TK_CAT;
        return ERR_OK;
    }
    const char *fp = dot + 1;
    size_t fn = t->len - cn - 1;
    int f = model_field_index(out->rt, fp, fn);
    if (f >= 0 && model_field(out->rt, f)->cat == out->cat) {
        out->kind = TK_FIELD;
        out->field = f;
        return ERR_OK;
    }
    if (f >= 0) {
        return perr(s, "'%.*s' is a field of %s: %s.%.*s", (int)(fn > 48 ? 48 : fn), fp,
                    category_name(model_field(out->rt, f)->cat),
                    category_name(model_field(out->rt, f)->cat), (int)(fn > 48 ? 48 : fn), fp);
    }
    char list[160];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < model_nfields(out->rt); i++) {
        const field_def *d = model_field(out->rt, (int)i);
        if (d->cat == out->cat && used < sizeof list) {
            int k = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", d->name);
            used += k > 0 ? (size_t)k : 0;
        }
    }
    return perr(s, "unknown field '%.*s' of %s (%s)", (int)(fn > 48 ? 48 : fn), fp,
                category_name(out->cat), list);
}

/* ---- statements ---- */

static err set_cell(pstate *s, pcell *c, uint8_t level, uint8_t flags, role r, const char *opw,
                    const ptarget *tg)
{
    if (c->src) {
        const char *how = (c->level == level && c->flags == flags) ? "repeats" : "conflicts with";
        return perr(s, "%s line %u (%s %s on %.*s)", how, line_of(s->p, c->src), role_name(r), opw,
                    W(&tg->t));
    }
    c->level = level;
    c->flags = flags;
    c->written = flags;
    c->src = s->src;
    return ERR_OK;
}

static err stmt_version(pstate *s)
{
    if (s->have_version) {
        return perr(s, "'version' given twice");
    }
    const tok *v = peek(s);
    if (v == NULL || is_comma(v)) {
        return perr(s, "expected a version number after 'version'");
    }
    if (!word_is(v, "1")) {
        return perr(s, "unsupported version '%.*s' (this is version 1)", W(v));
    }
    s->i++;
    if (peek(s)) {
        return perr(s, "unexpected '%.*s' after the version", W(peek(s)));
    }
    s->have_version = true;
    return ERR_OK;
}

static err trailing(pstate *s, const char *after)
{
    const tok *t = peek(s);
    if (t == NULL) {
        return ERR_OK;
    }
    if (is_comma(t)) {
        return perr(s, "unexpected ',' after %s", after);
    }
    return perr(s, "unexpected '%.*s' after %s", W(t), after);
}

static err grant_caps(pstate *s, const bool roles[ROLE__COUNT], const tok **items, size_t n)
{
    bool caps[CAP__COUNT] = {false};
    for (size_t i = 0; i < n; i++) {
        int c = find_cap(items[i]);
        if (c < 0 && find_pop(items[i]) >= 0) {
            return perr(s, "operations and capabilities cannot be mixed in one grant");
        }
        ptarget ignored;
        if (c < 0 && parse_target(s, items[i], &ignored) == ERR_OK) {
            return perr(s, "expected operations before the target '%.*s'", W(items[i]));
        }
        if (c < 0) {
            return perr(s, "unknown capability '%.*s'", W(items[i]));
        }
        if (caps[c]) {
            return perr(s, "capability '%.*s' named twice", W(items[i]));
        }
        caps[c] = true;
    }
    const tok *t = peek(s);
    if (word_is(t, "on")) {
        return perr(s, "a capability takes no 'on TARGET'");
    }
    if (t && is_option_word(t)) {
        return perr(s, "options ('%.*s') apply to customer-data grants, not to capabilities", W(t));
    }
    TRY(trailing(s, "the capabilities"));
    TRY(add_line(s));
    for (int r = 0; r < ROLE__COUNT; r++) {
        for (int c = 0; c < CAP__COUNT && roles[r]; c++) {
            if (!caps[c]) {
                continue;
            }
            if (s->p->cap[r][c]) {
                return perr(s, "repeats line %u (%s %s)", line_of(s->p, s->p->cap[r][c]),
                            role_name((role)r), cap_name((capability)c));
            }
            s->p->cap[r][c] = s->src;
        }
    }
    return ERR_OK;
}

/* Operations, 'on', targets: shared by grant and deny. */
static err ops_on_targets(pstate *s, const tok **items, size_t n, bool ops[POP__COUNT],
                          ptarget *targets, size_t *nt)
{
    for (int o = 0; o < POP__COUNT; o++) {
        ops[o] = false;
    }
    for (size_t i = 0; i < n; i++) {
        int o = find_pop(items[i]);
        if (o < 0 && find_cap(items[i]) >= 0) {
            return perr(s, "operations and capabilities cannot be mixed in one grant");
        }
        if (o < 0 &&
            (word_is(items[i], "customers") || find_cat(items[i]->p, items[i]->len) >= 0)) {
            return perr(s, "expected operations before the target '%.*s'", W(items[i]));
        }
        if (o < 0) {
            return perr(s,
                        "unknown operation '%.*s' (read, write, request, create, erase, import, "
                        "export)",
                        W(items[i]));
        }
        if (ops[o]) {
            return perr(s, "operation '%.*s' named twice", W(items[i]));
        }
        ops[o] = true;
    }
    if (ops[POP_WRITE] && ops[POP_REQUEST]) {
        return perr(s, "write and request together: write already allows direct changes");
    }
    const tok *t = peek(s);
    if (t == NULL) {
        return perr(s, "missing 'on' and a target after the operations");
    }
    if (!word_is(t, "on")) {
        if (!is_comma(t) && find_pop(t) >= 0) {
            return perr(s, "missing ',' between operations");
        }
        return is_comma(t) ? perr(s, "expected 'on' after the operations, found ','")
                           : perr(s, "expected 'on' after the operations, found '%.*s'", W(t));
    }
    s->i++;
    const tok *titems[MAX_ITEMS];
    TRY(parse_list(s, "a target", titems, nt));
    for (size_t i = 0; i < *nt; i++) {
        TRY(parse_target(s, titems[i], &targets[i]));
        for (size_t j = 0; j < i; j++) {
            if (targets[j].kind == targets[i].kind && targets[j].cat == targets[i].cat &&
                targets[j].field == targets[i].field) {
                return perr(s, "target '%.*s' named twice", W(titems[i]));
            }
        }
    }
    return ERR_OK;
}

static err check_op_target(pstate *s, pop o, const ptarget *tg)
{
    switch (o) {
    case POP_READ:
    case POP_WRITE:
    case POP_REQUEST:
        if (tg->kind == TK_CUSTOMERS) {
            return perr(s,
                        "%s names a category or a field; customers takes create, erase, "
                        "import or export",
                        POLICY_POP_NAMES[o]);
        }
        return ERR_OK;
    case POP_CREATE:
        if (tg->kind == TK_CUSTOMERS || (tg->kind == TK_CAT && (tg->cat == CAT_TRANSACTIONS ||
                                                                tg->cat == CAT_COMMUNICATIONS))) {
            return ERR_OK;
        }
        return perr(s,
                    "create applies to transactions, communications or customers, not to "
                    "'%.*s'",
                    W(&tg->t));
    default:
        if (tg->kind == TK_CUSTOMERS) {
            return ERR_OK;
        }
        return perr(s, "%s applies to customers only ('on customers')", POLICY_POP_NAMES[o]);
    }
}

static pcell *cell_for(policy *p, role r, pop o, const ptarget *tg)
{
    int pd = o == POP_READ ? PD_READ : PD_CHANGE;
    switch (o) {
    case POP_READ:
    case POP_WRITE:
    case POP_REQUEST:
        return tg->kind == TK_FIELD ? &p->fld[r][tg->rt][tg->field][pd] : &p->cat[r][tg->cat][pd];
    case POP_CREATE:
        return tg->kind == TK_CUSTOMERS ? &p->cust[r][PR_CREATE] : &p->cat[r][tg->cat][PD_CREATE];
    case POP_ERASE:
        return &p->cust[r][PR_ERASE];
    case POP_IMPORT:
        return &p->cust[r][PR_IMPORT];
    default:
        return &p->cust[r][PR_EXPORT];
    }
}

static err stmt_grant(pstate *s)
{
    bool roles[ROLE__COUNT];
    TRY(parse_roles(s, roles));
    const tok *items[MAX_ITEMS];
    size_t n;
    TRY(parse_list(s, "an operation or a capability", items, &n));
    if (memchr(items[0]->p, '.', items[0]->len)) {
        return grant_caps(s, roles, items, n);
    }
    bool ops[POP__COUNT];
    ptarget targets[MAX_ITEMS];
    size_t nt;
    TRY(ops_on_targets(s, items, n, ops, targets, &nt));
    bool masked = false;
    uint8_t flags = 0;
    for (const tok *t = peek(s); t; t = peek(s)) {
        if (is_comma(t)) {
            return perr(s, "unexpected ',' among the options");
        }
        bool dup;
        if (word_is(t, "masked")) {
            dup = masked;
            masked = true;
        } else if (word_is(t, "own-department")) {
            dup = flags & PF_OWN_DEPT;
            flags |= PF_OWN_DEPT;
        } else if (word_is(t, "training")) {
            dup = flags & PF_TRAINING;
            flags |= PF_TRAINING;
        } else {
            ptarget ignored;
            if (word_is(t, "customers") || find_cat(t->p, t->len) >= 0 ||
                (memchr(t->p, '.', t->len) && parse_target(s, t, &ignored) == ERR_OK)) {
                return perr(s, "missing ',' between targets");
            }
            return perr(s, "unknown option '%.*s' (masked, own-department, training)", W(t));
        }
        if (dup) {
            return perr(s, "option '%.*s' given twice", W(t));
        }
        s->i++;
    }
    if (masked && !ops[POP_READ]) {
        return perr(s, "masked applies to read, which this grant does not give");
    }
    for (size_t k = 0; k < nt; k++) {
        for (int o = 0; o < POP__COUNT; o++) {
            if (ops[o]) {
                TRY(check_op_target(s, (pop)o, &targets[k]));
            }
        }
    }
    TRY(add_line(s));
    for (int r = 0; r < ROLE__COUNT; r++) {
        for (size_t k = 0; k < nt && roles[r]; k++) {
            for (int o = 0; o < POP__COUNT; o++) {
                if (!ops[o]) {
                    continue;
                }
                uint8_t level = o == POP_READ      ? (masked ? READ_MASKED : READ_FULL)
                                : o == POP_WRITE   ? WRITE_DIRECT
                                : o == POP_REQUEST ? WRITE_REQUEST
                                                   : 1;
                TRY(set_cell(s, cell_for(s->p, (role)r, (pop)o, &targets[k]), level, flags, (role)r,
                             POLICY_POP_NAMES[o], &targets[k]));
            }
        }
    }
    return ERR_OK;
}

static err stmt_deny(pstate *s)
{
    bool roles[ROLE__COUNT];
    TRY(parse_roles(s, roles));
    const tok *items[MAX_ITEMS];
    size_t n;
    TRY(parse_list(s, "an operation", items, &n));
    for (size_t i = 0; i < n; i++) {
        if (find_cap(items[i]) >= 0) {
            return perr(s, "a capability is denied by not granting it");
        }
        int o = find_pop(items[i]);
        if (o >= 0 && o != POP_READ && o != POP_WRITE && o != POP_REQUEST) {
            return perr(s,
                        "deny takes read, write or request ('%.*s' is denied by not "
                        "granting it)",
                        W(items[i]));
        }
    }
    bool ops[POP__COUNT];
    ptarget targets[MAX_ITEMS];
    size_t nt;
    TRY(ops_on_targets(s, items, n, ops, targets, &nt));
    for (size_t k = 0; k < nt; k++) {
        if (targets[k].kind != TK_FIELD) {
            return perr(s,
                        "deny names fields only (it takes one field out of a category "
                        "grant); '%.*s' is not a field",
                        W(&targets[k].t));
        }
    }
    if (peek(s) && is_option_word(peek(s))) {
        return perr(s, "deny takes no options");
    }
    TRY(trailing(s, "the targets"));
    TRY(add_line(s));
    for (int r = 0; r < ROLE__COUNT; r++) {
        for (size_t k = 0; k < nt && roles[r]; k++) {
            for (int o = 0; o < POP__COUNT; o++) {
                if (ops[o]) {
                    TRY(set_cell(s, cell_for(s->p, (role)r, (pop)o, &targets[k]), 0, PF_DENY,
                                 (role)r, POLICY_POP_NAMES[o], &targets[k]));
                }
            }
        }
    }
    return ERR_OK;
}

static err stmt_require(pstate *s)
{
    const tok *items[MAX_ITEMS];
    size_t n;
    TRY(parse_list(s, "training or own-department", items, &n));
    bool training = false, own = false;
    for (size_t i = 0; i < n; i++) {
        bool *b = word_is(items[i], "training")         ? &training
                  : word_is(items[i], "own-department") ? &own
                                                        : NULL;
        if (b == NULL) {
            return word_is(items[i], "masked")
                       ? perr(s, "masked is given per grant, not per role")
                       : perr(s, "unknown requirement '%.*s' (training, own-department)",
                              W(items[i]));
        }
        if (*b) {
            return perr(s, "'%.*s' named twice", W(items[i]));
        }
        *b = true;
    }
    const tok *t = peek(s);
    if (!word_is(t, "for")) {
        return t == NULL     ? perr(s, "missing 'for' and the roles")
               : is_comma(t) ? perr(s, "expected 'for', found ','")
                             : perr(s, "expected 'for', found '%.*s'", W(t));
    }
    s->i++;
    bool roles[ROLE__COUNT];
    TRY(parse_roles(s, roles));
    TRY(trailing(s, "the roles"));
    TRY(add_line(s));
    for (int r = 0; r < ROLE__COUNT; r++) {
        if (!roles[r]) {
            continue;
        }
        uint32_t *slots[2] = {training ? &s->p->require_training[r] : NULL,
                              own ? &s->p->require_own[r] : NULL};
        for (int k = 0; k < 2; k++) {
            if (slots[k] && *slots[k]) {
                return perr(s, "repeats line %u (%s for %s)", line_of(s->p, *slots[k]),
                            k == 0 ? "training" : "own-department", role_name((role)r));
            }
            if (slots[k]) {
                *slots[k] = s->src;
            }
        }
    }
    return ERR_OK;
}

static err stmt_ack(pstate *s)
{
    bool roles[ROLE__COUNT];
    TRY(parse_roles(s, roles));
    TRY(trailing(s, "the roles"));
    TRY(add_line(s));
    for (int r = 0; r < ROLE__COUNT; r++) {
        if (!roles[r]) {
            continue;
        }
        if (!restricted((role)r)) {
            return perr(s,
                        "%s is not kept from customer contents; allow-customer-contents "
                        "names admin, security, legal, hr or auditor",
                        role_name((role)r));
        }
        if (s->p->ack[r]) {
            return perr(s, "repeats line %u (allow-customer-contents %s)",
                        line_of(s->p, s->p->ack[r]), role_name((role)r));
        }
        s->p->ack[r] = s->src;
    }
    return ERR_OK;
}

static err parse_line(pstate *s, const char *line, size_t n)
{
    TRY(check_bytes(s, line, n));
    TRY(lex(s, line, n));
    if (s->n == 0) {
        return ERR_OK;
    }
    const tok *k = &s->t[0];
    s->i = 1;
    if (word_is(k, "version")) {
        return stmt_version(s);
    }
    bool known = word_is(k, "grant") || word_is(k, "deny") || word_is(k, "require") ||
                 word_is(k, "allow-customer-contents");
    if (!known) {
        return is_comma(k) ? perr(s, "unexpected ','")
                           : perr(s,
                                  "unknown statement '%.*s' (version, grant, deny, require, "
                                  "allow-customer-contents)",
                                  W(k));
    }
    if (!s->have_version) {
        return perr(s, "a policy begins with 'version 1'");
    }
    if (word_is(k, "grant")) {
        return stmt_grant(s);
    }
    if (word_is(k, "deny")) {
        return stmt_deny(s);
    }
    if (word_is(k, "require")) {
        return stmt_require(s);
    }
    return stmt_ack(s);
}

/* ---- compilation ---- */

/* Calls fn on every cell of role r that the file set (grants and denies). */
#define FOR_CELLS(p, r, c, body)                                                                   \
    do {                                                                                           \
        for (int k1_ = 0; k1_ < CAT__COUNT; k1_++) {                                               \
            for (int k2_ = 0; k2_ < PD__CAT; k2_++) {                                              \
                pcell *c = &(p)->cat[r][k1_][k2_];                                                 \
                body;                                                                              \
            }                                                                                      \
        }                                                                                          \
        for (int k1_ = 0; k1_ < REC__COUNT; k1_++) {                                               \
            for (int k2_ = 0; k2_ < REC_MAX_FIELDS; k2_++) {                                       \
                for (int k3_ = 0; k3_ < PD__FIELD; k3_++) {                                        \
                    pcell *c = &(p)->fld[r][k1_][k2_][k3_];                                        \
                    body;                                                                          \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        for (int k1_ = 0; k1_ < PR__COUNT; k1_++) {                                                \
            pcell *c = &(p)->cust[r][k1_];                                                         \
            body;                                                                                  \
        }                                                                                          \
    } while (0)

static bool is_grant(const pcell *c)
{
    return c->src != 0 && !(c->flags & PF_DENY);
}

/* src of the line deciding record operation o for this department, 0 when denied. */
static uint32_t decide_op(const policy *p, role r, rectype t, op o, bool same)
{
    size_t nf = model_nfields(t);
    switch (o) {
    case OP_SEARCH:
        if (t != REC_CUSTOMER) {
            return 0;
        }
        /* a customer is searched by a field the role may read */
        __attribute__((fallthrough));
    case OP_READ:
        for (size_t f = 0; f < nf; f++) {
            const pcell *c = policy_field_cell(p, r, t, (int)f, PD_READ);
            if (policy_cell_applies(c, same)) {
                return c->src;
            }
        }
        return 0;
    case OP_UPDATE:
        for (size_t f = 0; f < nf; f++) {
            const pcell *c = policy_field_cell(p, r, t, (int)f, PD_CHANGE);
            if (policy_cell_applies(c, same) && c->level == WRITE_DIRECT) {
                return c->src;
            }
        }
        return 0;
    case OP_CREATE:
    case OP_ERASE:
    case OP_IMPORT:
    case OP_EXPORT: {
        int pr = o == OP_CREATE   ? PR_CREATE
                 : o == OP_ERASE  ? PR_ERASE
                 : o == OP_IMPORT ? PR_IMPORT
                                  : PR_EXPORT;
        const pcell *c = policy_rec_cell(p, r, t, pr);
        return policy_cell_applies(c, same) ? c->src : 0;
    }
    default:
        return 0;
    }
}

static err compile(pstate *s)
{
    policy *p = s->p;
    if (!s->have_version) {
        return perr_at(s, s->lineno ? s->lineno : 1,
                       "empty policy: a policy begins with 'version 1'");
    }
    for (int r = 0; r < ROLE__COUNT; r++) {
        uint8_t add = (uint8_t)((p->require_training[r] ? PF_TRAINING : 0) |
                                (p->require_own[r] ? PF_OWN_DEPT : 0));
        FOR_CELLS(p, r, c, {
            if (is_grant(c)) {
                c->flags |= add;
            }
        });
    }
    /* Separation of duties: the roles kept from customer contents get none without an
     * explicit acknowledgement; the error names the first line that gives them some. */
    uint32_t first = 0;
    role who = ROLE_ADMIN;
    for (int r = 0; r < ROLE__COUNT; r++) {
        if (!restricted((role)r) || p->ack[r]) {
            continue;
        }
        FOR_CELLS(p, r, c, {
            if (is_grant(c) && (first == 0 || c->src < first)) {
                first = c->src;
                who = (role)r;
            }
        });
    }
    if (first) {
        return perr_at(s, line_of(p, first),
                       "separation of duties: this gives %s customer contents; if that is "
                       "intended, add the line 'allow-customer-contents %s'",
                       role_name(who), role_name(who));
    }
    for (int r = 0; r < ROLE__COUNT; r++) {
        bool any_same = false, any_other = false;
        for (int t = 0; t < REC__COUNT; t++) {
            size_t nf = model_nfields((rectype)t);
            for (size_t f = 0; f < nf; f++) {
                for (int d = 0; d < 2; d++) {
                    const pcell *rc = policy_field_cell(p, (role)r, (rectype)t, (int)f, PD_READ);
                    const pcell *wc = policy_field_cell(p, (role)r, (rectype)t, (int)f, PD_CHANGE);
                    uint8_t rl = policy_cell_applies(rc, d) ? rc->level : READ_NONE;
                    uint8_t wl = policy_cell_applies(wc, d) ? wc->level : WRITE_NONE;
                    if (t != REC_CUSTOMER &&
                        policy_cell_applies(policy_rec_cell(p, (role)r, (rectype)t, PR_CREATE),
                                            d)) {
                        wl = WRITE_DIRECT; /* who creates a record fills its fields */
                    }
                    p->rd[r][t][f][d] = rl;
                    p->wr[r][t][f][d] = wl;
                }
            }
            for (int o = 0; o < OP__COUNT; o++) {
                uint32_t src_same = decide_op(p, (role)r, (rectype)t, (op)o, true);
                uint32_t src_other = decide_op(p, (role)r, (rectype)t, (op)o, false);
                p->allow[r][t][o][1] = src_same != 0;
                p->allow[r][t][o][0] = src_other != 0;
                p->allow_rule[r][t][o][1] =
                    src_same ? p->lines[src_same - 1].where : "default-deny";
                p->allow_rule[r][t][o][0] = src_other  ? p->lines[src_other - 1].where
                                            : src_same ? "department-scope"
                                                       : "default-deny";
                any_same |= src_same != 0;
                any_other |= src_other != 0;
            }
            for (size_t f = 0; f < nf; f++) {
                any_same |= p->rd[r][t][f][1] || p->wr[r][t][f][1];
                any_other |= p->rd[r][t][f][0] || p->wr[r][t][f][0];
            }
        }
        p->own_only[r] = any_same && !any_other;
        bool training = false;
        size_t grants = 0;
        FOR_CELLS(p, r, c, {
            if (is_grant(c)) {
                grants++;
                training |= (c->flags & PF_TRAINING) != 0;
            }
        });
        p->training[r] = training;
        p->ngrants += grants;
        for (int c = 0; c < CAP__COUNT; c++) {
            p->can[r][c] = p->cap[r][c] != 0;
            p->ncaps += p->can[r][c];
        }
    }
    return ERR_OK;
}

err policy_parse(const char *text, size_t len, const char *name, policy **out)
{
    err rc = ERR_OK;
    if (name == NULL) {
        name = "policy";
    }
    ENSURE(out != NULL, ERR_INTERNAL, "no place for the policy");
    ENSURE(text != NULL || len == 0, ERR_INPUT, "%.*s: no text", NAME_SHOWN, name);
    ENSURE(len <= POLICY_MAX_BYTES, ERR_INPUT, "%.*s: larger than the limit of %zu bytes",
           NAME_SHOWN, name, POLICY_MAX_BYTES);
    pstate *s = calloc(1, sizeof *s);
    policy *p = calloc(1, sizeof *p);
    CHECK(s != NULL && p != NULL, ERR_INTERNAL, "out of memory");
    size_t nl = strlen(name);
    p->name = malloc(nl + 1);
    CHECK(p->name != NULL, ERR_INTERNAL, "out of memory");
    memcpy(p->name, name, nl + 1);
    s->p = p;
    s->name = p->name;
    size_t pos = 0;
    while (pos < len) {
        s->lineno++;
        const char *nlp = memchr(text + pos, '\n', len - pos);
        size_t end = nlp ? (size_t)(nlp - text) : len;
        size_t n = end - pos;
        if (n > 0 && text[pos + n - 1] == '\r') {
            n--; /* CRLF line ends are accepted */
        }
        GUARD(parse_line(s, text + pos, n));
        pos = nlp ? end + 1 : len;
    }
    GUARD(compile(s));
    *out = p;
    p = NULL;
out:
    policy_free(p);
    free(s);
    return rc;
}

err policy_load_file(const char *path, policy **out)
{
    ENSURE(path != NULL, ERR_INPUT, "missing policy file name");
    err rc = ERR_OK;
    char *text = NULL;
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, ERR_IO, "cannot open %s", path);
    text = malloc(POLICY_MAX_BYTES + 1);
    CHECK(text != NULL, ERR_INTERNAL, "out of memory");
    size_t n = fread(text, 1, POLICY_MAX_BYTES + 1, f);
    CHECK(!ferror(f), ERR_IO, "cannot read %s", path);
    CHECK(n <= POLICY_MAX_BYTES, ERR_INPUT, "%.*s: larger than the limit of %zu bytes", NAME_SHOWN,
          path, POLICY_MAX_BYTES);
    GUARD(policy_parse(text, n, path, out));
out:
    if (f) {
        fclose(f);
    }
    free(text);
    return rc;
}

void policy_free(policy *p)
{
    if (!p) {
        return;
    }
    for (size_t i = 0; i < p->nlines; i++) {
        free(p->lines[i].where);
        free(p->lines[i].text);
    }
    free(p->lines);
    free(p->name);
    free(p);
}
