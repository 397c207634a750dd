/*
 * rules_int.h - what the files of the rules parser share: the parser's state, the
 * value readers (rules_values.c), the statement table (rules.c) whose handlers live
 * in rules_settings.c and rules_block.c, and what each detector accepts.
 */
#ifndef CUSTOS_GUARD_RULES_INT_H
#define CUSTOS_GUARD_RULES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "guard/guard_int.h"

#define LINE_MAX_BYTES 4096
#define MAX_TOKENS 64
#define FILE_MAX_BYTES (4u << 20)
#define MAX_PENDING 16

/* What each detector accepts. */
enum {
    K_THRESHOLD = 1u << 0, /* allowed */
    K_THRESHOLD_REQ = 1u << 1,
    K_BYTES = 1u << 2, /* threshold is a byte size */
    K_ACCOUNTS = 1u << 3,
    K_BASELINE = 1u << 4, /* ratio / z / min / warmup / alpha */
    K_EVENTS = 1u << 5,
    K_COUNT = 1u << 6,
    K_DISTINCT = 1u << 7, /* threshold counts distinct members (bounded) */
};

typedef struct gdet_info {
    const char *name;
    unsigned keys;
    unsigned pers; /* 1 << gper */
    gper per;
    gsev sev;
    unsigned routes;
    const char *what; /* for alert details: "%s per %s" */
} gdet_info;
extern const gdet_info GDET[D__COUNT];

enum { /* rule keys seen, against duplicates */
       RK_DETECT = 1u << 0,
       RK_PER = 1u << 1,
       RK_THRESHOLD = 1u << 2,
       RK_ACCOUNTS = 1u << 3,
       RK_RATIO = 1u << 4,
       RK_Z = 1u << 5,
       RK_MIN = 1u << 6,
       RK_WARMUP = 1u << 7,
       RK_ALPHA = 1u << 8,
       RK_EVENTS = 1u << 9,
       RK_COUNT = 1u << 10,
       RK_SEVERITY = 1u << 11,
       RK_RESPOND = 1u << 12,
       RK_ROUTE = 1u << 13,
       RK_ROLES = 1u << 14,
};

enum { /* settings seen */
       SK_VERSION = 1u << 0,
       SK_TIMEZONE = 1u << 1,
       SK_IPV6 = 1u << 2,
       SK_QUEUE = 1u << 3,
       SK_AGGREGATE = 1u << 4,
       SK_EVIDENCE = 1u << 5,
       SK_DEFAULT = 1u << 6,
       SK_L_ADDRESS = 1u << 7,
       SK_L_ACCOUNT = 1u << 8,
       SK_L_CONNS = 1u << 9,
       SK_L_THROTTLED = 1u << 10,
       SK_NFT = 1u << 11,
       SK_DELIVERY = 1u << 12,
};

/* Keys that only some detectors take: checked when the rule ends, since detect may come
 * after them; remembered with their line. */
typedef struct pending_key {
    unsigned need; /* K_* the detector must accept */
    int line;
    char key[24];
} pending_key;

typedef struct ps {
    guard_rules *r;
    const char *file;
    int line;
    char msg[400];
    grule *cur; /* the open rule block, or NULL */
    int cur_line, per_line;
    unsigned rkeys;
    unsigned skeys;
    unsigned needk; /* a handler's extra K_* for this line (threshold: K_BYTES) */
    bool any_line;
    size_t hol_cap, work_cap, hon_cap;
    pending_key pk[MAX_PENDING];
    int npk;
} ps;

/* Records "message" for the current line; returns ERR_INPUT. */
err perr(ps *p, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* "WHAT is set twice" when bit is already in p->skeys; then sets it. */
err rules_once(ps *p, unsigned bit, const char *what);
/* "expected: usage" unless the line has exactly want words. */
err rules_need(ps *p, int ntok, int want, const char *usage);

/* strcmp for qsort and bsearch of the honeytokens (rules_schedule.c). */
int grules_str_cmp(const void *x, const void *y);

/* ---- the statement table ---- */

enum { IN_TOP = 1u << 0, IN_RULE = 1u << 1 };

typedef err (*rules_stmt_fn)(ps *p, char **tok, int ntok);
typedef struct rules_stmt {
    const char *keyword;
    rules_stmt_fn fn;
    unsigned where;    /* IN_TOP, IN_RULE */
    unsigned once;     /* SK_* at the top, RK_* in a rule: given at most once */
    const char *twice; /* the name in "... given twice" when not the keyword */
    unsigned need;     /* in a rule: K_* the detector must accept, checked at 'end' */
} rules_stmt;
extern const rules_stmt RULES_STMTS[];
extern const size_t RULES_NSTMTS;

/* Settings and lists outside rule blocks (rules_settings.c). */
err stmt_version(ps *p, char **tok, int ntok);
err stmt_timezone(ps *p, char **tok, int ntok);
err stmt_ipv6_prefix(ps *p, char **tok, int ntok);
err stmt_queue(ps *p, char **tok, int ntok);
err stmt_aggregate(ps *p, char **tok, int ntok);
err stmt_evidence(ps *p, char **tok, int ntok);
err stmt_default(ps *p, char **tok, int ntok);
err stmt_allow_deny(ps *p, char **tok, int ntok);
err stmt_limit(ps *p, char **tok, int ntok);
err stmt_schedule(ps *p, char **tok, int ntok);
err stmt_holiday(ps *p, char **tok, int ntok);
err stmt_workday(ps *p, char **tok, int ntok);
err stmt_honeytoken(ps *p, char **tok, int ntok);
err stmt_notify(ps *p, char **tok, int ntok);
err stmt_nftables(ps *p, char **tok, int ntok);
err stmt_delivery(ps *p, char **tok, int ntok);

/* Rule blocks (rules_block.c). */
err stmt_rule(ps *p, char **tok, int ntok);
err stmt_end(ps *p, char **tok, int ntok);
err stmt_detect(ps *p, char **tok, int ntok);
err stmt_per(ps *p, char **tok, int ntok);
err stmt_threshold(ps *p, char **tok, int ntok);
err stmt_accounts(ps *p, char **tok, int ntok);
err stmt_ratio_z_alpha(ps *p, char **tok, int ntok);
err stmt_min(ps *p, char **tok, int ntok);
err stmt_warmup(ps *p, char **tok, int ntok);
err stmt_events(ps *p, char **tok, int ntok);
err stmt_count(ps *p, char **tok, int ntok);
err stmt_severity(ps *p, char **tok, int ntok);
err stmt_respond(ps *p, char **tok, int ntok);
err stmt_route(ps *p, char **tok, int ntok);
err stmt_roles(ps *p, char **tok, int ntok);

/* ---- values (rules_values.c): true when s is well formed and in range ---- */

/* Decimal integer without sign or leading zeros (other than "0"), at most max. */
bool gval_u64(const char *s, uint64_t max, uint64_t *out);
/* Decimal number "12", "0.5", "2.25" (no sign, no exponent). */
bool gval_decimal(const char *s, double *out);
/* "500ms", "30s", "15m", "1h", "14d", "2w": positive, at most 366 days. */
bool gval_duration(const char *s, int64_t *us);
/* "2048", "500KB", "50MB", "1GiB": at most 1 TiB. */
bool gval_bytes(const char *s, uint64_t *out);
/* "50/s", "600/m", "0.5/s", "1000/h" -> per second. */
bool gval_rate(const char *s, double *per_s);
/* Names: rule names, departments (utf8), nftables identifiers. */
bool gval_name(const char *s, size_t max, bool utf8);
/* "YYYY-MM-DD", a real day from 1970 to 2200 -> days since 1970-01-01. */
bool gval_date(const char *s, int32_t *day);
/* "08:30" -> minutes; "24:00" only when end is set. */
bool gval_hhmm(const char *s, size_t n, bool end, uint16_t *out);
/* "mon" .. "sun" -> 0 .. 6, else -1. */
int gval_weekday(const char *s, size_t n);

/* A list "a, b ,c" after a keyword. */
typedef struct items {
    char v[MAX_TOKENS][256];
    int n;
} items;
/* Joins tok[from..ntok) with single spaces, then splits at commas; each item trimmed and
 * non-empty. */
err gval_items(ps *p, char **tok, int from, int ntok, items *it);
/* Splits one item "lock 30m" into at most max words; max + 1 when there are more. */
int gval_words(char *s, char **w, int max);

/* A comma list of names, each one flag: ORs them into *out. Unknown: "<refusal>, not 'X'". */
typedef struct gflag {
    const char *name;
    unsigned bit;
} gflag;
err gval_flags(ps *p, char **tok, int ntok, const gflag *names, size_t nnames, const char *refusal,
               unsigned *out);

#endif
