/*
 * rules_block.c - `rule NAME ... end` blocks: what each detector accepts and defaults to,
 * the statements inside a block, and the checks made when the block ends (keys that suit
 * the detector, defaults filled in, responses that fit what the rule counts).
 */
#include <stdio.h>
#include <string.h>

#include "access/policy.h"
#include "guard/rules_int.h"

const gdet_info GDET[D__COUNT] = {
    [D_LOGIN_FAIL] = {"login_fail", K_THRESHOLD | K_THRESHOLD_REQ,
                      1u << PER_ACCOUNT | 1u << PER_ADDRESS, PER_ACCOUNT, SEV_MEDIUM,
                      ROUTE_SECURITY, "failed logins"},
    [D_SPRAYING] = {"spraying", K_THRESHOLD | K_THRESHOLD_REQ | K_DISTINCT, 1u << PER_ADDRESS,
                    PER_ADDRESS, SEV_HIGH, ROUTE_SECURITY, "accounts with failed logins"},
    [D_STUFFING] = {"stuffing", K_THRESHOLD | K_THRESHOLD_REQ | K_DISTINCT | K_ACCOUNTS,
                    1u << PER_GLOBAL, PER_GLOBAL, SEV_HIGH, ROUTE_SECURITY,
                    "addresses with failed logins"},
    [D_DENIED] = {"denied", K_THRESHOLD | K_THRESHOLD_REQ, 1u << PER_ACCOUNT | 1u << PER_ADDRESS,
                  PER_ACCOUNT, SEV_MEDIUM, ROUTE_SECURITY | ROUTE_HR, "denied requests"},
    [D_DENIED_SPREAD] = {"denied_spread", K_THRESHOLD | K_THRESHOLD_REQ | K_DISTINCT,
                         1u << PER_ACCOUNT, PER_ACCOUNT, SEV_MEDIUM, ROUTE_SECURITY | ROUTE_HR,
                         "distinct categories denied"},
    [D_READS] = {"reads", K_THRESHOLD | K_THRESHOLD_REQ, 1u << PER_ACCOUNT | 1u << PER_ADDRESS,
                 PER_ACCOUNT, SEV_HIGH, ROUTE_SECURITY | ROUTE_STEWARD, "customers read"},
    [D_BASELINE] = {"baseline", K_BASELINE, 1u << PER_ACCOUNT, PER_ACCOUNT, SEV_MEDIUM,
                    ROUTE_SECURITY | ROUTE_STEWARD, "customers read in an hour"},
    [D_OFF_HOURS] = {"off_hours", K_THRESHOLD | K_EVENTS, 1u << PER_ACCOUNT, PER_ACCOUNT, SEV_LOW,
                     ROUTE_SECURITY | ROUTE_STEWARD, "accesses outside working hours"},
    [D_NEW_ADDRESS] = {"new_address", K_EVENTS, 1u << PER_ACCOUNT, PER_ACCOUNT, SEV_LOW,
                       ROUTE_SECURITY, "first use of an address"},
    [D_HONEYTOKEN] = {"honeytoken", 0, 1u << PER_ACCOUNT, PER_ACCOUNT, SEV_HIGH,
                      ROUTE_SECURITY | ROUTE_STEWARD, "honeytoken reads"},
    [D_SCAN] = {"scan", K_THRESHOLD | K_THRESHOLD_REQ | K_COUNT, 1u << PER_ADDRESS, PER_ADDRESS,
                SEV_MEDIUM, ROUTE_SECURITY, "unknown, malformed or oversized requests"},
    [D_EGRESS] = {"egress", K_THRESHOLD | K_THRESHOLD_REQ | K_BYTES,
                  1u << PER_ACCOUNT | 1u << PER_ADDRESS, PER_ACCOUNT, SEV_HIGH,
                  ROUTE_SECURITY | ROUTE_STEWARD, "bytes of customer data sent"},
    [D_NOTICE] = {"notice", 0, 1u << PER_ACCOUNT, PER_ACCOUNT, SEV_HIGH, ROUTE_SECURITY,
                  "acts the door reports (break-glass, lockouts, sealing)"},
    [D_BAD_TOKEN] = {"bad_token", K_THRESHOLD | K_THRESHOLD_REQ, 1u << PER_ADDRESS, PER_ADDRESS,
                     SEV_MEDIUM, ROUTE_SECURITY, "unknown or forged bearer tokens"},
    [D_PROBING] = {"probing", K_THRESHOLD | K_THRESHOLD_REQ, 1u << PER_ACCOUNT | 1u << PER_ADDRESS,
                   PER_ACCOUNT, SEV_HIGH, ROUTE_SECURITY | ROUTE_HR,
                   "searches on a masked field that found nothing"},
};

const char *gdet_name(gdet d)
{
    return d < D__COUNT ? GDET[d].name : "?";
}

const char *gper_name(gper p)
{
    return p == PER_ACCOUNT ? "account" : p == PER_ADDRESS ? "address" : "global";
}

static const char *const SEV_NAMES[SEV__COUNT] = {"low", "medium", "high", "critical"};

const char *gsev_name(gsev s)
{
    return s < SEV__COUNT ? SEV_NAMES[s] : "?";
}

bool gsev_parse(const char *s, gsev *out)
{
    for (int i = 0; i < SEV__COUNT; i++) {
        if (strcmp(s, SEV_NAMES[i]) == 0) {
            *out = (gsev)i;
            return true;
        }
    }
    return false;
}

static void describe(grule *g)
{
    char win[32] = "";
    int64_t w = g->window_us;
    if (w) {
        if (w % (86400 * 1000000LL) == 0) {
            snprintf(win, sizeof win, " within %lldd", (long long)(w / (86400 * 1000000LL)));
        } else if (w % (3600 * 1000000LL) == 0) {
            snprintf(win, sizeof win, " within %lldh", (long long)(w / (3600 * 1000000LL)));
        } else if (w % (60 * 1000000LL) == 0) {
            snprintf(win, sizeof win, " within %lldm", (long long)(w / (60 * 1000000LL)));
        } else if (w % 1000000LL == 0) {
            snprintf(win, sizeof win, " within %llds", (long long)(w / 1000000LL));
        } else {
            snprintf(win, sizeof win, " within %lldms", (long long)(w / 1000));
        }
    }
    const char *what = GDET[g->det].what;
    if (g->det == D_BASELINE) {
        if (g->ratio > 0) {
            snprintf(g->text, sizeof g->text, "%s at least %g times the usual (at least %llu)",
                     what, g->ratio, (unsigned long long)g->min);
        } else {
            snprintf(g->text, sizeof g->text,
                     "%s %g standard deviations above the usual "
                     "(at least %llu)",
                     what, g->z, (unsigned long long)g->min);
        }
    } else if (g->det == D_HONEYTOKEN || g->det == D_NEW_ADDRESS || g->det == D_NOTICE) {
        snprintf(g->text, sizeof g->text, "%s", what);
    } else if (g->det == D_STUFFING) {
        snprintf(g->text, sizeof g->text, "%llu %s across %llu accounts%s",
                 (unsigned long long)g->threshold, what, (unsigned long long)g->accounts, win);
    } else {
        snprintf(g->text, sizeof g->text, "%llu %s per %s%s", (unsigned long long)g->threshold,
                 what, gper_name(g->per), win);
    }
}

err stmt_end(ps *p, char **tok, int ntok)
{
    TRY(rules_need(p, ntok, 1, "end"));
    const pending_key *pk = p->pk;
    int npk = p->npk;
    grule *g = p->cur;
    if (!(p->rkeys & RK_DETECT)) {
        p->line = p->cur_line;
        return perr(p, "rule %s has no 'detect' line", g->name);
    }
    unsigned keys = GDET[g->det].keys;
    for (int i = 0; i < npk; i++) {
        unsigned nk = pk[i].need & ~K_BYTES;
        if ((nk & keys) != nk) {
            p->line = pk[i].line;
            return perr(p, "%s does not apply to detector %s", pk[i].key, GDET[g->det].name);
        }
        if ((pk[i].need & K_BYTES) && !(keys & K_BYTES)) {
            p->line = pk[i].line;
            return perr(p, "threshold of %s is a count, not a size", GDET[g->det].name);
        }
        if (strcmp(pk[i].key, "threshold") == 0 && (keys & K_DISTINCT) &&
            g->threshold > G_MAX_DISTINCT) {
            p->line = pk[i].line;
            return perr(p, "threshold of %s is at most %d", GDET[g->det].name, G_MAX_DISTINCT);
        }
    }
    if (p->rkeys & RK_PER) {
        if (!(GDET[g->det].pers & (1u << g->per))) {
            p->line = p->per_line;
            return perr(p, "detector %s cannot count per %s", GDET[g->det].name, gper_name(g->per));
        }
    } else {
        g->per = GDET[g->det].per;
    }
    if ((keys & K_THRESHOLD_REQ) && !(p->rkeys & RK_THRESHOLD)) {
        return perr(p, "rule %s needs 'threshold N within DURATION'", g->name);
    }
    if (!(p->rkeys & RK_THRESHOLD)) {
        g->threshold = 1;
        g->window_us = 3600 * 1000000LL;
    }
    if (g->det == D_STUFFING && !(p->rkeys & RK_ACCOUNTS)) {
        g->accounts = g->threshold;
    }
    if (g->det == D_BASELINE) {
        for (int i = 0; i < p->r->nrules; i++) {
            if (p->r->rules[i].det == D_BASELINE) {
                return perr(p,
                            "only one baseline rule may exist (rule %s is one): the learnt "
                            "baseline has one definition",
                            p->r->rules[i].name);
            }
        }
        if ((g->ratio > 0) == (g->z > 0)) {
            return perr(p, "rule %s needs exactly one of 'ratio R' or 'z Z'", g->name);
        }
        if (!(p->rkeys & RK_MIN)) {
            g->min = 20;
        }
        if (!(p->rkeys & RK_WARMUP)) {
            g->warmup_us = 14 * 86400 * 1000000LL;
        }
        if (!(p->rkeys & RK_ALPHA)) {
            g->alpha = 0.2;
        }
    }
    if (g->det == D_OFF_HOURS && !(p->rkeys & RK_EVENTS)) {
        g->events = EVM_READS;
    }
    if (g->det == D_NEW_ADDRESS) {
        if (!(p->rkeys & RK_EVENTS)) {
            g->events = EVM_LOGINS;
        } else if (g->events & EVM_READS) {
            return perr(p, "new_address looks at logins or any, not reads");
        }
    }
    if (g->det == D_SCAN && !(p->rkeys & RK_COUNT)) {
        g->events = EVM_UNKNOWN_ROUTE | EVM_MALFORMED | EVM_OVERSIZED;
    }
    if (!(p->rkeys & RK_SEVERITY)) {
        g->sev = GDET[g->det].sev;
    }
    if (!(p->rkeys & RK_ROUTE)) {
        g->routes = GDET[g->det].routes;
    }
    if (!(p->rkeys & RK_RESPOND) || !(g->actions & ACT_LOG)) {
        g->actions |= ACT_ALERT;
    }
    if ((g->actions & (ACT_LOCK | ACT_REVOKE | ACT_REAUTH)) && g->per != PER_ACCOUNT) {
        return perr(p, "lock, revoke and reauth act on an account: rule %s needs 'per account'",
                    g->name);
    }
    if ((g->actions & ACT_TRAIN) && g->per != PER_ACCOUNT) {
        return perr(p, "train acts on an account: rule %s needs 'per account'", g->name);
    }
    if ((g->actions & ACT_THROTTLE) && g->per == PER_GLOBAL) {
        return perr(p, "throttle needs per account or per address");
    }
    if ((g->actions & (ACT_BLOCK | ACT_BLOCK_NEW)) && g->per == PER_GLOBAL) {
        return perr(p, "block needs per address or per account (the address of the event)");
    }
    describe(g);
    p->r->nrules++;
    p->cur = NULL;
    return ERR_OK;
}

/* ---- the statements of a block (the table in rules.c checks duplicates) ---- */

err stmt_rule(ps *p, char **tok, int ntok)
{
    guard_rules *r = p->r;
    if (ntok != 2 || !gval_name(tok[1], G_NAME_MAX, false)) {
        return perr(p, "expected: rule NAME (letters, digits, '-', '_', '.'; at most %d)",
                    G_NAME_MAX);
    }
    for (int i = 0; i < r->nrules; i++) {
        if (strcmp(r->rules[i].name, tok[1]) == 0) {
            return perr(p, "rule %s is defined twice (first on line %d)", tok[1], r->rules[i].line);
        }
    }
    if (r->nrules == G_MAX_RULES) {
        return perr(p, "too many rules (at most %d)", G_MAX_RULES);
    }
    p->cur = &r->rules[r->nrules];
    memset(p->cur, 0, sizeof *p->cur);
    snprintf(p->cur->name, sizeof p->cur->name, "%s", tok[1]);
    p->cur->line = p->line;
    p->cur_line = p->line;
    p->rkeys = 0;
    p->npk = 0;
    return ERR_OK;
}

err stmt_detect(ps *p, char **tok, int ntok)
{
    TRY(rules_need(p, ntok, 2, "detect DETECTOR"));
    for (int d = 0; d < D__COUNT; d++) {
        if (strcmp(tok[1], GDET[d].name) == 0) {
            p->cur->det = (gdet)d;
            return ERR_OK;
        }
    }
    return perr(p,
                "unknown detector '%s' (login_fail, spraying, stuffing, denied, "
                "denied_spread, reads, baseline, off_hours, new_address, honeytoken, notice, "
                "scan, egress)",
                tok[1]);
}

err stmt_per(ps *p, char **tok, int ntok)
{
    grule *g = p->cur;
    p->per_line = p->line;
    TRY(rules_need(p, ntok, 2, "per account|address|global"));
    if (strcmp(tok[1], "account") == 0) {
        g->per = PER_ACCOUNT;
    } else if (strcmp(tok[1], "address") == 0) {
        g->per = PER_ADDRESS;
    } else if (strcmp(tok[1], "global") == 0) {
        g->per = PER_GLOBAL;
    } else {
        return perr(p, "per must be account, address or global");
    }
    return ERR_OK;
}

err stmt_threshold(ps *p, char **tok, int ntok)
{
    grule *g = p->cur;
    if (ntok != 4 || strcmp(tok[2], "within") != 0) {
        return perr(p, "expected: threshold N within DURATION, e.g. threshold 10 within 15m");
    }
    if (!gval_duration(tok[3], &g->window_us)) {
        return perr(p, "bad duration '%s' (e.g. 30s, 15m, 1h, 7d)", tok[3]);
    }
    /* The number's shape depends on the detector: checked at 'end'. */
    uint64_t v;
    if (gval_u64(tok[1], 1000000000000ull, &v) && v > 0) {
        g->threshold = v;
    } else if (gval_bytes(tok[1], &v)) {
        g->threshold = v;
        p->needk |= K_BYTES;
    } else {
        return perr(p, "bad threshold '%s' (a positive number, or bytes like 50MB)", tok[1]);
    }
    return ERR_OK;
}

err stmt_accounts(ps *p, char **tok, int ntok)
{
    grule *g = p->cur;
    if (ntok != 2 || !gval_u64(tok[1], G_MAX_DISTINCT, &g->accounts) || g->accounts == 0) {
        return perr(p, "expected: accounts N (1 to %d)", G_MAX_DISTINCT);
    }
    return ERR_OK;
}

err stmt_ratio_z_alpha(ps *p, char **tok, int ntok)
{
    grule *g = p->cur;
    const char *k = tok[0];
    bool ratio = k[0] == 'r', alpha = k[0] == 'a';
    double v;
    if (ntok != 2 || !gval_decimal(tok[1], &v)) {
        return perr(p, "expected: %s NUMBER", k);
    }
    if (alpha && !(v > 0 && v <= 1)) {
        return perr(p, "alpha must be above 0 and at most 1");
    }
    if (ratio && !(v > 1 && v <= 1000)) {
        return perr(p, "ratio must be above 1 and at most 1000");
    }
    if (!ratio && !alpha && !(v > 0 && v <= 100)) {
        return perr(p, "z must be above 0 and at most 100");
    }
    *(ratio ? &g->ratio : alpha ? &g->alpha : &g->z) = v;
    return ERR_OK;
}

err stmt_min(ps *p, char **tok, int ntok)
{
    if (ntok != 2 || !gval_u64(tok[1], 100000000, &p->cur->min)) {
        return perr(p, "expected: min N");
    }
    return ERR_OK;
}

err stmt_warmup(ps *p, char **tok, int ntok)
{
    if (ntok != 2 || !gval_duration(tok[1], &p->cur->warmup_us)) {
        return perr(p, "expected: warmup DURATION, e.g. warmup 14d");
    }
    return ERR_OK;
}

err stmt_events(ps *p, char **tok, int ntok)
{
    static const gflag names[] = {{"reads", EVM_READS}, {"logins", EVM_LOGINS}, {"any", EVM_ANY}};
    p->cur->events = 0;
    return gval_flags(p, tok, ntok, names, sizeof names / sizeof names[0],
                      "events are reads, logins or any", &p->cur->events);
}

err stmt_count(ps *p, char **tok, int ntok)
{
    static const gflag names[] = {{"unknown_route", EVM_UNKNOWN_ROUTE},
                                  {"malformed", EVM_MALFORMED},
                                  {"oversized", EVM_OVERSIZED}};
    p->cur->events = 0;
    return gval_flags(p, tok, ntok, names, sizeof names / sizeof names[0],
                      "count takes unknown_route, malformed, oversized", &p->cur->events);
}

err stmt_severity(ps *p, char **tok, int ntok)
{
    if (ntok != 2 || !gsev_parse(tok[1], &p->cur->sev)) {
        return perr(p, "severity is low, medium, high or critical");
    }
    return ERR_OK;
}

static bool train_course_ok(const char *c)
{
    size_t n = strlen(c);
    if (n == 0 || n > 64) {
        return false;
    }
    for (const char *q = c; *q; q++) {
        if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-' || *q == '_' ||
              *q == '.')) {
            return false;
        }
    }
    return true;
}

err stmt_respond(ps *p, char **tok, int ntok)
{
    grule *g = p->cur;
    items it;
    TRY(gval_items(p, tok, 1, ntok, &it));
    g->actions = 0;
    static const struct {
        const char *name;
        unsigned bit;
        bool dur;
    } acts[] = {{"log", ACT_LOG, false},           {"alert", ACT_ALERT, false},
                {"throttle", ACT_THROTTLE, true},  {"block", ACT_BLOCK, true},
                {"lock", ACT_LOCK, true},          {"revoke", ACT_REVOKE, false},
                {"reauth", ACT_REAUTH, false},     {"seal", ACT_SEAL, false},
                {"block-new", ACT_BLOCK_NEW, true}};
    for (int i = 0; i < it.n; i++) {
        char *w[4];
        int nw = gval_words(it.v[i], w, 3);
        if (nw < 1) {
            return perr(p, "empty response");
        }
        if (strcmp(w[0], "train") == 0) {
            /* A remedial course for the account that tripped the rule. */
            if (g->actions & ACT_TRAIN) {
                return perr(p, "response train is given twice");
            }
            if (nw != 2 || !train_course_ok(w[1])) {
                return perr(p, "train needs a course id, e.g. train security-basics");
            }
            g->actions |= ACT_TRAIN;
            snprintf(g->train, sizeof g->train, "%s", w[1]);
            continue;
        }
        size_t a = 0;
        while (a < sizeof acts / sizeof acts[0] && strcmp(w[0], acts[a].name) != 0) {
            a++;
        }
        if (a == sizeof acts / sizeof acts[0]) {
            return perr(p,
                        "unknown response '%s' (log, alert, throttle D, block D, block-new D, "
                        "lock D, revoke, reauth, seal, train COURSE)",
                        w[0]);
        }
        if (g->actions & acts[a].bit) {
            return perr(p, "response %s is given twice", w[0]);
        }
        int64_t d = 0;
        if (acts[a].dur ? (nw != 2 || !gval_duration(w[1], &d)) : nw != 1) {
            return perr(p, acts[a].dur ? "%s needs a duration, e.g. %s 30m" : "%s takes no value%s",
                        acts[a].name, acts[a].dur ? acts[a].name : "");
        }
        g->actions |= acts[a].bit;
        if (acts[a].bit == ACT_THROTTLE) {
            g->throttle_us = d;
        } else if (acts[a].bit == ACT_BLOCK || acts[a].bit == ACT_BLOCK_NEW) {
            g->block_us = d;
        } else if (acts[a].bit == ACT_LOCK) {
            g->lock_us = d;
        }
    }
    if ((g->actions & ACT_BLOCK) && (g->actions & ACT_BLOCK_NEW)) {
        return perr(p, "block and block-new cannot be combined");
    }
    if ((g->actions & ACT_LOG) && (g->actions & ACT_ALERT)) {
        return perr(p, "log means 'no alert': it cannot be combined with alert");
    }
    return ERR_OK;
}

err stmt_route(ps *p, char **tok, int ntok)
{
    static const gflag names[] = {
        {"security", ROUTE_SECURITY}, {"hr", ROUTE_HR}, {"data_steward", ROUTE_STEWARD}};
    p->cur->routes = ROUTE_SECURITY;
    return gval_flags(p, tok, ntok, names, sizeof names / sizeof names[0],
                      "routes are security, hr and data_steward", &p->cur->routes);
}

err stmt_roles(ps *p, char **tok, int ntok)
{
    grule *g = p->cur;
    items it;
    TRY(gval_items(p, tok, 1, ntok, &it));
    if (it.n > G_MAX_ROLES) {
        return perr(p, "too many roles");
    }
    g->roles_skip = tok[0][0] == 's';
    for (int i = 0; i < it.n; i++) {
        role ro;
        if (role_parse(it.v[i], &ro) != ERR_OK) {
            return perr(p, "unknown role '%s'", it.v[i]);
        }
        snprintf(g->roles[i], sizeof g->roles[i], "%s", it.v[i]);
    }
    g->nroles = it.n;
    return ERR_OK;
}
