/*
 * rules.c - the guard's rules file (docs/GUARD.md): reading it line by line and
 * dispatching each line through one table of statements {keyword, handler, where
 * allowed}; the handlers are in rules_settings.c (outside rule blocks) and
 * rules_block.c (`rule NAME ... end`), the values they read in rules_values.c.
 *
 * The parser is strict and all-or-nothing: every line is checked (known
 * keyword, right number and shape of values, value in range, no duplicate
 * setting or rule, keys that make sense for the detector), the first problem is
 * reported as "FILE:LINE: message", and nothing is returned unless the whole
 * file is good. Input is checked as UTF-8 without NUL bytes first; each line is
 * then copied into a bounded buffer and split into bounded tokens, so the
 * string functions only ever see short, terminated, validated text.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "guard/rules_int.h"

/* Every keyword of the file; docs/GUARD.md documents each (guard_rules_test checks it). */
const rules_stmt RULES_STMTS[] = {
    /* settings and lists */
    {"version", stmt_version, IN_TOP, SK_VERSION, NULL, 0},
    {"timezone", stmt_timezone, IN_TOP, SK_TIMEZONE, NULL, 0},
    {"ipv6_prefix", stmt_ipv6_prefix, IN_TOP, SK_IPV6, NULL, 0},
    {"queue", stmt_queue, IN_TOP, SK_QUEUE, NULL, 0},
    {"aggregate", stmt_aggregate, IN_TOP, SK_AGGREGATE, NULL, 0},
    {"evidence", stmt_evidence, IN_TOP, SK_EVIDENCE, NULL, 0},
    {"default", stmt_default, IN_TOP, SK_DEFAULT, NULL, 0},
    {"allow", stmt_allow_deny, IN_TOP, 0, NULL, 0},
    {"deny", stmt_allow_deny, IN_TOP, 0, NULL, 0},
    {"limit", stmt_limit, IN_TOP, 0, NULL, 0}, /* once per kind of limit */
    {"schedule", stmt_schedule, IN_TOP, 0, NULL, 0},
    {"holiday", stmt_holiday, IN_TOP, 0, NULL, 0},
    {"workday", stmt_workday, IN_TOP, 0, NULL, 0},
    {"honeytoken", stmt_honeytoken, IN_TOP, 0, NULL, 0},
    {"notify", stmt_notify, IN_TOP, 0, NULL, 0},
    {"nftables", stmt_nftables, IN_TOP, SK_NFT, NULL, 0},
    {"delivery", stmt_delivery, IN_TOP, SK_DELIVERY, NULL, 0},
    /* rule blocks */
    {"rule", stmt_rule, IN_TOP, 0, NULL, 0},
    {"end", stmt_end, IN_RULE, 0, NULL, 0},
    {"detect", stmt_detect, IN_RULE, RK_DETECT, NULL, 0},
    {"per", stmt_per, IN_RULE, RK_PER, NULL, 0},
    {"threshold", stmt_threshold, IN_RULE, RK_THRESHOLD, NULL, K_THRESHOLD},
    {"accounts", stmt_accounts, IN_RULE, RK_ACCOUNTS, NULL, K_ACCOUNTS},
    {"ratio", stmt_ratio_z_alpha, IN_RULE, RK_RATIO, NULL, K_BASELINE},
    {"z", stmt_ratio_z_alpha, IN_RULE, RK_Z, NULL, K_BASELINE},
    {"alpha", stmt_ratio_z_alpha, IN_RULE, RK_ALPHA, NULL, K_BASELINE},
    {"min", stmt_min, IN_RULE, RK_MIN, NULL, K_BASELINE},
    {"warmup", stmt_warmup, IN_RULE, RK_WARMUP, NULL, K_BASELINE},
    {"events", stmt_events, IN_RULE, RK_EVENTS, NULL, K_EVENTS},
    {"count", stmt_count, IN_RULE, RK_COUNT, NULL, K_COUNT},
    {"severity", stmt_severity, IN_RULE, RK_SEVERITY, NULL, 0},
    {"respond", stmt_respond, IN_RULE, RK_RESPOND, NULL, 0},
    {"route", stmt_route, IN_RULE, RK_ROUTE, NULL, 0},
    {"roles", stmt_roles, IN_RULE, RK_ROLES, "roles or skip_roles", 0},
    {"skip_roles", stmt_roles, IN_RULE, RK_ROLES, "roles or skip_roles", 0},
};
const size_t RULES_NSTMTS = sizeof RULES_STMTS / sizeof RULES_STMTS[0];

err perr(ps *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    return ERR_INPUT;
}

err rules_need(ps *p, int ntok, int want, const char *usage)
{
    if (ntok != want) {
        return perr(p, "expected: %s", usage);
    }
    return ERR_OK;
}

err rules_once(ps *p, unsigned bit, const char *what)
{
    if (p->skeys & bit) {
        return perr(p, "%s is set twice", what);
    }
    p->skeys |= bit;
    return ERR_OK;
}

static err rule_once(ps *p, unsigned bit, const char *key)
{
    if (p->rkeys & bit) {
        return perr(p, "%s is given twice in rule %s", key, p->cur->name);
    }
    p->rkeys |= bit;
    return ERR_OK;
}

/* One line of words: the statement its first word names, where it is allowed. */
static err statement(ps *p, char **tok, int ntok)
{
    const char *k = tok[0];
    unsigned where = p->cur ? IN_RULE : IN_TOP;
    const rules_stmt *st = NULL;
    for (size_t i = 0; i < RULES_NSTMTS && !st; i++) {
        if ((RULES_STMTS[i].where & where) && strcmp(k, RULES_STMTS[i].keyword) == 0) {
            st = &RULES_STMTS[i];
        }
    }
    if (!st) {
        if (where == IN_RULE && strcmp(k, "rule") == 0) {
            return perr(p, "rule %s is not closed with 'end' before the next rule", p->cur->name);
        }
        if (where == IN_RULE) {
            return perr(p, "unknown key '%s' in rule %s", k, p->cur->name);
        }
        if (strcmp(k, "end") == 0) {
            return perr(p, "'end' without a rule");
        }
        return perr(p, "unknown keyword '%s'", k);
    }
    if (st->once && where == IN_TOP) {
        TRY(rules_once(p, st->once, k));
    } else if (st->once) {
        TRY(rule_once(p, st->once, st->twice ? st->twice : k));
    }
    p->needk = 0;
    TRY(st->fn(p, tok, ntok));
    if (st->need) {
        if (p->npk == MAX_PENDING) {
            return perr(p, "too many keys");
        }
        pending_key *pk = &p->pk[p->npk++];
        pk->need = st->need | p->needk;
        pk->line = p->line;
        snprintf(pk->key, sizeof pk->key, "%s", k);
    }
    return ERR_OK;
}

/* Well-formed UTF-8 without NUL bytes; *bad: the first offending byte. */
static bool utf8_ok(const uint8_t *s, size_t n, size_t *bad)
{
    size_t at = utf8_invalid_at(s, n);
    const uint8_t *z = memchr(s, 0, at);
    *bad = z ? (size_t)(z - s) : at;
    return *bad == n;
}

static void rules_defaults(guard_rules *r)
{
    r->tz_offset_s = 8 * 3600;
    r->ipv6_prefix = 64;
    r->queue = 8192;
    r->aggregate_us = 3600 * 1000000LL;
    r->evidence_max = 64;
    r->retry_us = 2 * 1000000LL;
    r->attempts = 6;
    r->throttled_rate.per_s = 1; /* "limit throttled" changes it */
    r->throttled_rate.burst = 5;
    snprintf(r->nft_path, sizeof r->nft_path, "/usr/sbin/nft");
}

static int day_cmp(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return a < b ? -1 : a > b;
}

static err parse_all(ps *p, slice text)
{
    guard_rules *r = p->r;
    size_t bad;
    if (text.len > FILE_MAX_BYTES) {
        p->line = 1;
        return perr(p, "file too large (at most %u bytes)", FILE_MAX_BYTES);
    }
    if (!utf8_ok(text.p, text.len, &bad)) {
        p->line = 1;
        for (size_t i = 0; i < bad; i++) {
            p->line += text.p[i] == '\n';
        }
        return perr(p, "not UTF-8 text (or a NUL byte)");
    }
    size_t pos = 0;
    p->line = 0;
    while (pos < text.len) {
        size_t end = pos;
        while (end < text.len && text.p[end] != '\n') {
            end++;
        }
        p->line++;
        size_t n = end - pos;
        if (n && text.p[pos + n - 1] == '\r') {
            n--;
        }
        if (n >= LINE_MAX_BYTES) {
            return perr(p, "line longer than %d bytes", LINE_MAX_BYTES - 1);
        }
        char line[LINE_MAX_BYTES];
        memcpy(line, text.p + pos, n);
        line[n] = '\0';
        pos = end + 1;
        /* comment: '#' at the start or after white space */
        for (size_t i = 0; i < n; i++) {
            if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
                line[i] = '\0';
                break;
            }
            if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
                return perr(p, "control character in line");
            }
        }
        char *tok[MAX_TOKENS];
        int ntok = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
            if (ntok == MAX_TOKENS) {
                return perr(p, "too many words in one line");
            }
            tok[ntok++] = t;
        }
        if (ntok == 0) {
            continue;
        }
        TRY(statement(p, tok, ntok));
        p->any_line = true;
    }
    if (p->cur) {
        p->line = p->cur_line;
        return perr(p, "rule %s is not closed with 'end'", p->cur->name);
    }
    if (r->default_deny && r->allow.n == 0) {
        return perr(p, "'default deny' with an empty allow list would refuse everyone");
    }
    granges_finish(&r->allow);
    granges_finish(&r->deny);
    if (r->nholidays > 1) {
        qsort(r->holidays, r->nholidays, sizeof *r->holidays, day_cmp);
    }
    if (r->nworkdays > 1) {
        qsort(r->workdays, r->nworkdays, sizeof *r->workdays, day_cmp);
    }
    if (r->nhoneytokens > 1) {
        qsort(r->honeytokens, r->nhoneytokens, sizeof *r->honeytokens, grules_str_cmp);
    }
    return ERR_OK;
}

err guard_rules_parse(slice text, const char *name, guard_rules **out)
{
    *out = NULL;
    guard_rules *r = calloc(1, sizeof *r);
    ENSURE(r != NULL, ERR_INTERNAL, "out of memory");
    rules_defaults(r);
    snprintf(r->file, sizeof r->file, "%s", name);
    ps p;
    memset(&p, 0, sizeof p);
    p.r = r;
    p.file = name;
    if (parse_all(&p, text) != ERR_OK) {
        guard_rules_free(r);
        BAIL(ERR_INPUT, "%s:%d: %s", name, p.line, p.msg);
    }
    *out = r;
    return ERR_OK;
}

err guard_rules_load(const char *path, guard_rules **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    ENSURE(f != NULL, ERR_IO, "cannot read the rules file %s (%s)", path, strerror(errno));
    buf b;
    buf_init(&b, FILE_MAX_BYTES + 1);
    char tmp[8192];
    size_t n;
    err rc = ERR_OK;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (buf_append(&b, tmp, n) != ERR_OK) {
            rc = err_set(ERR_INPUT, __FILE__, __LINE__, "%s:1: file too large", path);
            break;
        }
    }
    bool io = ferror(f);
    fclose(f);
    if (rc == ERR_OK && io) {
        rc = err_set(ERR_IO, __FILE__, __LINE__, "cannot read the rules file %s", path);
    }
    if (rc == ERR_OK) {
        rc = guard_rules_parse(buf_slice(&b), path, out);
    }
    buf_free(&b);
    return rc;
}

size_t guard_rules_count(const guard_rules *r)
{
    return r ? (size_t)r->nrules : 0;
}

const char *guard_rules_rule_name(const guard_rules *r, size_t i)
{
    return r && i < (size_t)r->nrules ? r->rules[i].name : NULL;
}

void guard_rules_free(guard_rules *r)
{
    if (!r) {
        return;
    }
    granges_free(&r->allow);
    granges_free(&r->deny);
    free(r->holidays);
    free(r->workdays);
    free(r->honeytokens);
    free(r);
}
