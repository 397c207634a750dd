/*
 * policy_int.h - the inside of a compiled policy, shared by policy.c (decisions,
 * installation), policy_parse.c (the file parser and compiler) and policy_text.c
 * (explanations, canonical form, differences).
 *
 * A policy keeps what the file said, as "source cells" (one per role x target x
 * permission, each naming the line that set it), and what follows from it, as
 * decision tables indexed by role x record type x field x department. The
 * decision functions read only the tables; the text functions read the cells.
 */
#ifndef CUSTOS_POLICY_INT_H
#define CUSTOS_POLICY_INT_H

#include <stdint.h>

#include "access/policy.h"

/* The operations of the file. */
typedef enum pop {
    POP_READ,
    POP_WRITE,
    POP_REQUEST,
    POP_CREATE,
    POP_ERASE,
    POP_IMPORT,
    POP_EXPORT,
    POP__COUNT
} pop;
extern const char *const POLICY_POP_NAMES[POP__COUNT];

/* Permissions of a category or field: read (level: read_level), change (write_level). */
enum { PD_READ, PD_CHANGE, PD__FIELD };
/* Category cells have one more: create (transactions and communications only). */
enum { PD_CREATE = PD__FIELD, PD__CAT };
/* Whole-customer operations ("on customers"). */
enum { PR_CREATE, PR_ERASE, PR_IMPORT, PR_EXPORT, PR__COUNT };

#define PF_OWN_DEPT 0x01u /* the grant holds for the user's own department only */
#define PF_TRAINING 0x02u /* the grant needs current security training */
#define PF_DENY 0x04u     /* an explicit deny of a field */

/* One permission as the file set it. src: 1-based index into policy.lines, 0 = not set. */
typedef struct pcell {
    uint8_t level;   /* read_level, write_level, or 1 for create/erase/import/export */
    uint8_t flags;   /* PF_*: the options of the line and of the role's require lines */
    uint8_t written; /* PF_*: the options of the line alone */
    uint32_t src;
} pcell;

/* One statement of the file: where it is ("NAME:LINE") and its words, normalised. */
typedef struct pline {
    uint32_t lineno;
    char *where;
    char *text;
} pline;

struct policy {
    char *name;
    pline *lines;
    size_t nlines, lines_cap;

    /* As written (the require statement's flags already folded in). */
    pcell cat[ROLE__COUNT][CAT__COUNT][PD__CAT];
    pcell fld[ROLE__COUNT][REC__COUNT][REC_MAX_FIELDS][PD__FIELD];
    pcell cust[ROLE__COUNT][PR__COUNT];
    uint32_t cap[ROLE__COUNT][CAP__COUNT]; /* src of the granting line, 0 = not granted */
    uint32_t require_training[ROLE__COUNT], require_own[ROLE__COUNT], ack[ROLE__COUNT];

    /* Decisions, [..][0] for another department's customer, [..][1] for the own one. */
    uint8_t rd[ROLE__COUNT][REC__COUNT][REC_MAX_FIELDS][2];
    uint8_t wr[ROLE__COUNT][REC__COUNT][REC_MAX_FIELDS][2];
    bool allow[ROLE__COUNT][REC__COUNT][OP__COUNT][2];
    const char *allow_rule[ROLE__COUNT][REC__COUNT][OP__COUNT][2];
    bool can[ROLE__COUNT][CAP__COUNT];
    bool training[ROLE__COUNT];
    bool own_only[ROLE__COUNT];
    size_t ngrants, ncaps;

    policy *retired; /* the policy this one replaced when installed (kept alive) */
};

/* The cell that decides a permission of a field: its own, else its category's. */
const pcell *policy_field_cell(const policy *p, role r, rectype t, int field, int pd);
/* The cell of a record operation: create on transactions/communications (category cell)
 * or a whole-customer operation; NULL when the pair does not exist. */
const pcell *policy_rec_cell(const policy *p, role r, rectype t, int pr);
/* Does a cell grant, for this department? */
static inline bool policy_cell_applies(const pcell *c, bool same_dept)
{
    return c != NULL && c->src != 0 && !(c->flags & PF_DENY) && c->level != 0 &&
           (same_dept || !(c->flags & PF_OWN_DEPT));
}
/* The record type whose fields a category holds. */
rectype policy_cat_rectype(category c);

#endif
