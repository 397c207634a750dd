/*
 * respond.c - what the guard does about a finding, and the operator's side of
 * the same actions (block, throttle, unlock, ...).
 *
 * Work is split in two so that no callback ever runs under the store lock: the
 * guard's own state (in-memory sanctions, rows in guard.db) changes at once,
 * and everything that leaves the guard (the integrator's hooks, the audit hook,
 * alert delivery, nftables) is collected as effects and carried out after the
 * batch's transaction has committed. Every action taken is audited through
 * hooks.audit; aggregation of an alert into an open one is not an action and
 * is not audited again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "guard/guard_int.h"

enum fx_kind {
    FX_LOCK,
    FX_LOCK_LOGIN,
    FX_UNLOCK,
    FX_REVOKE,
    FX_REAUTH,
    FX_SEAL,
    FX_TRAIN,
    FX_AUDIT,
    FX_ALERT,
    FX_NFT
};

typedef struct fx_item {
    enum fx_kind kind;
    char subject[128];
    char rule[G_NAME_MAX + 16];
    char action[32];
    char detail[320];
    int64_t until_us, id, seconds;
    gsev sev;
    unsigned routes;
    char dept[G_DEPT_MAX + 1];
    char *json;
    guard_addr addr;
} fx_item;

struct geffects {
    fx_item *v;
    size_t n, cap;
};

err geffects_new(geffects **out)
{
    *out = calloc(1, sizeof **out);
    ENSURE(*out != NULL, ERR_INTERNAL, "out of memory");
    return ERR_OK;
}

void geffects_free(geffects *fx)
{
    if (!fx) {
        return;
    }
    for (size_t i = 0; i < fx->n; i++) {
        free(fx->v[i].json);
    }
    free(fx->v);
    free(fx);
}

static fx_item *fx_add(geffects *fx, enum fx_kind k)
{
    if (fx->n == fx->cap) {
        size_t nc = fx->cap ? fx->cap * 2 : 16;
        fx_item *p = realloc(fx->v, nc * sizeof *p);
        if (!p) {
            log_error("guard.respond", "out of memory: an action is not carried out");
            return NULL;
        }
        fx->v = p;
        fx->cap = nc;
    }
    fx_item *it = &fx->v[fx->n++];
    memset(it, 0, sizeof *it);
    it->kind = k;
    return it;
}

void geffects_audit(geffects *fx, const char *action, const char *subject, const char *rule,
                    const char *detail)
{
    fx_item *it = fx_add(fx, FX_AUDIT);
    if (it) {
        snprintf(it->action, sizeof it->action, "%s", action);
        snprintf(it->subject, sizeof it->subject, "%s", subject);
        snprintf(it->rule, sizeof it->rule, "%s", rule);
        snprintf(it->detail, sizeof it->detail, "%s", detail);
    }
}

static void fx_hook(geffects *fx, enum fx_kind k, const char *account, int64_t until,
                    const char *rule)
{
    fx_item *it = fx_add(fx, k);
    if (it) {
        snprintf(it->subject, sizeof it->subject, "%s", account);
        snprintf(it->rule, sizeof it->rule, "%s", rule);
        it->until_us = until;
    }
}

static void hook_result(guard *g, err e, const char *what)
{
    if (e != ERR_OK) {
        atomic_fetch_add(&g->hook_failures, 1);
        log_error("guard.hook", "%s failed (%s)", what, err_code_name(e));
    }
}

void geffects_run(guard *g, geffects *fx)
{
    const guard_hooks *h = &g->o.hooks;
    bool live = !g->o.offline;
    for (size_t i = 0; i < fx->n; i++) {
        fx_item *it = &fx->v[i];
        switch (it->kind) {
        case FX_LOCK:
            if (live && h->lock_account) {
                hook_result(g, h->lock_account(h->ctx, it->subject, it->until_us, it->rule),
                            "lock_account");
            }
            break;
        case FX_LOCK_LOGIN:
            if (live && h->lock_login) {
                hook_result(g,
                            h->lock_login(h->ctx, it->subject, it->detail, it->until_us, it->rule),
                            "lock_login");
            }
            break;
        case FX_UNLOCK:
            if (live && h->unlock_account) {
                hook_result(g, h->unlock_account(h->ctx, it->subject, it->rule), "unlock_account");
            }
            break;
        case FX_REVOKE:
            if (live && h->revoke_account) {
                hook_result(g, h->revoke_account(h->ctx, it->subject, it->rule), "revoke_account");
            }
            break;
        case FX_REAUTH:
            if (live && h->require_reauth) {
                hook_result(g, h->require_reauth(h->ctx, it->subject, it->rule), "require_reauth");
            }
            break;
        case FX_SEAL:
            if (live && h->seal) {
                hook_result(g, h->seal(h->ctx, it->rule), "seal");
            }
            break;
        case FX_TRAIN:
            if (live && h->assign_training) {
                hook_result(g, h->assign_training(h->ctx, it->subject, it->detail, it->rule),
                            "assign_training");
            }
            break;
        case FX_AUDIT:
            if (live && h->audit) {
                h->audit(h->ctx, it->action, it->subject, it->rule, it->detail);
            }
            break;
        case FX_ALERT:
            gdeliver_alert(g->dl, it->json, it->sev, it->routes, it->dept, it->id, it->rule);
            break;
        case FX_NFT:
            gdeliver_nft(g->dl, &it->addr, g->r->ipv6_prefix, it->seconds);
            break;
        }
    }
}

/* ---- sanctions ---- */

static void until_text(int64_t until, char out[40])
{
    clock_rfc3339(until, out);
}

/* Subject text of an address key ("address:192.0.2.1", "address:2001:db8::/64"). */
static void addr_subject(guard *g, const guard_addr *masked, char *out, size_t max)
{
    char k[GUARD_ADDR_TEXT + 4];
    gaddr_key_text(masked, g->r->ipv6_prefix, k);
    snprintf(out, max, "address:%s", k);
}

err gsanction_apply(guard *g, const char *kind, const guard_addr *a, const char *account,
                    int64_t now, int64_t until_us, const char *rule, const char *by, geffects *fx)
{
    gs_sanction x;
    memset(&x, 0, sizeof x);
    snprintf(x.kind, sizeof x.kind, "%s", kind);
    snprintf(x.rule, sizeof x.rule, "%s", rule);
    snprintf(x.by, sizeof x.by, "%s", by);
    x.until_us = until_us;
    x.created_us = now;
    char when[40];
    until_text(until_us, when);
    char detail[200];
    snprintf(detail, sizeof detail, "until %s", when);
    bool is_block = strcmp(kind, "block") == 0;
    if (a) {
        const guard_rules *r = g->r;
        if (r->allow.n && granges_has(&r->allow, a)) {
            log_warn("guard.respond", "rule %s: not %sing an allow-listed address", rule, kind);
            BAIL(ERR_CONFLICT, "the address is on the allow list");
        }
        guard_addr k;
        gaddr_mask(a, r->ipv6_prefix, &k);
        uint64_t h = ghash(k.b, 16, g->addr.seed);
        TRY(gtable_sanction(&g->addr, &k, h, is_block ? SANC_BLOCK : SANC_THROTTLE, until_us, now));
        addr_subject(g, &k, x.subject, sizeof x.subject);
        if (is_block) {
            fx_item *it = fx_add(fx, FX_NFT);
            if (it) {
                it->addr = k;
                it->seconds = (until_us - now + 999999) / 1000000;
                if (it->seconds < 1) {
                    it->seconds = 1;
                }
            }
        }
    } else {
        snprintf(x.subject, sizeof x.subject, "account:%s", account);
        if (strcmp(kind, "throttle") == 0) {
            TRY(gtable_sanction(&g->acct, NULL, gtable_account_hash(&g->acct, account),
                                SANC_THROTTLE, until_us, now));
        } else {
            fx_hook(fx, FX_LOCK, account, until_us, rule);
        }
    }
    atomic_fetch_add(&g->responses[is_block ? 0 : strcmp(kind, "throttle") == 0 ? 1 : 2], 1);
    char action[32];
    snprintf(action, sizeof action, "guard.%s", kind);
    geffects_audit(fx, action, x.subject, rule, detail);
    err e = guard_store_sanction_put(g->st, &x);
    if (e != ERR_OK) {
        log_error("guard.store", "could not record a %s: %s", kind, err_message());
    }
    return e;
}

/* ---- alerts ---- */

static bool behavioural(gdet d)
{
    return d == D_DENIED || d == D_DENIED_SPREAD || d == D_READS || d == D_BASELINE ||
           d == D_OFF_HOURS || d == D_HONEYTOKEN || d == D_EGRESS || d == D_PROBING;
}

static void duration_text(int64_t us, char *out, size_t max)
{
    static const struct {
        int64_t us;
        const char *unit;
    } u[] = {
        {86400 * 1000000LL, "d"}, {3600 * 1000000LL, "h"}, {60 * 1000000LL, "m"}, {1000000LL, "s"}};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        if (us % u[i].us == 0) {
            snprintf(out, max, " %lld%s", (long long)(us / u[i].us), u[i].unit);
            return;
        }
    }
    snprintf(out, max, " %lldms", (long long)(us / 1000));
}

/* "alert, block 1h, lock 30m" */
static void responses_text(const grule *r, char *out, size_t max)
{
    const struct {
        unsigned bit;
        const char *name;
        int64_t us;
    } n[] = {{ACT_LOG, "log", 0},
             {ACT_ALERT, "alert", 0},
             {ACT_THROTTLE, "throttle", r->throttle_us},
             {ACT_BLOCK, "block", r->block_us},
             {ACT_BLOCK_NEW, "block-new", r->block_us},
             {ACT_LOCK, "lock", r->lock_us},
             {ACT_REVOKE, "revoke", 0},
             {ACT_REAUTH, "reauth", 0},
             {ACT_SEAL, "seal", 0},
             {ACT_TRAIN, "train", 0}};
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++) {
        if (r->actions & n[i].bit) {
            char d[32] = "";
            if (n[i].us) {
                duration_text(n[i].us, d, sizeof d);
            }
            int k = snprintf(out + len, max - len, "%s%s%s", len ? ", " : "", n[i].name, d);
            if (k < 0 || (size_t)k >= max - len) {
                break;
            }
            len += (size_t)k;
        }
    }
}

/* Appends evidence indexes to a comma-separated list holding at most max. */
static void evidence_merge(char *list, size_t cap, const int64_t *ev, int nev, size_t max)
{
    size_t have = 0, len = strlen(list);
    for (size_t i = 0; i < len; i++) {
        have += list[i] == ',';
    }
    have += len ? 1 : 0;
    for (int i = 0; i < nev && have < max; i++) {
        char num[24];
        snprintf(num, sizeof num, "%lld", (long long)ev[i]);
        /* skip an index already listed */
        bool dup = false;
        for (const char *p = list; *p && !dup;) {
            const char *c = strchr(p, ',');
            size_t n = c ? (size_t)(c - p) : strlen(p);
            dup = n == strlen(num) && memcmp(p, num, n) == 0;
            p = c ? c + 1 : p + n;
        }
        if (dup) {
            continue;
        }
        int k = snprintf(list + len, cap - len, "%s%s", len ? "," : "", num);
        if (k < 0 || (size_t)k >= cap - len) {
            list[len] = '\0';
            break;
        }
        len += (size_t)k;
        have++;
    }
}

static int64_t record_alert(guard *g, gfinding *f, geffects *fx, int64_t now)
{
    const grule *r = f->rule;
    gs_alert *a = malloc(sizeof *a);
    if (!a) {
        log_error("guard.alert", "out of memory: alert for rule %s lost", r->name);
        return 0;
    }
    int64_t id = 0;
    char resp[256];
    responses_text(r, resp, sizeof resp);
    err e = guard_store_alert_find_open(g->st, r->name, f->subject, now - g->r->aggregate_us, a);
    if (e == ERR_OK) {
        evidence_merge(a->evidence, sizeof a->evidence, f->evidence, f->nevidence,
                       g->r->evidence_max);
        if (guard_store_alert_bump(g->st, a->id, now, 1, a->evidence, resp) != ERR_OK) {
            log_error("guard.store", "could not update alert %lld: %s", (long long)a->id,
                      err_message());
        }
        id = a->id;
    } else if (e == ERR_NOT_FOUND) {
        memset(a, 0, sizeof *a);
        snprintf(a->rule, sizeof a->rule, "%s", r->name);
        snprintf(a->detector, sizeof a->detector, "%s", gdet_name(r->det));
        snprintf(a->subject, sizeof a->subject, "%s", f->subject);
        snprintf(a->account, sizeof a->account, "%s", f->account);
        snprintf(a->address, sizeof a->address, "%s", f->address);
        snprintf(a->department, sizeof a->department, "%s", f->department);
        a->severity = (int)r->sev;
        unsigned routes = r->routes | ROUTE_SECURITY;
        if (!f->account[0] || !f->ev->role[0]) {
            routes &= ~(unsigned)ROUTE_HR; /* HR hears of staff only */
        }
        if (!f->department[0]) {
            routes &= ~(unsigned)ROUTE_STEWARD;
        }
        a->routes = routes;
        a->count = 1;
        a->first_us = now;
        a->last_us = now;
        evidence_merge(a->evidence, sizeof a->evidence, f->evidence, f->nevidence,
                       g->r->evidence_max);
        snprintf(a->detail, sizeof a->detail, "%s", f->detail);
        snprintf(a->responses, sizeof a->responses, "%s", resp);
        if (guard_store_alert_insert(g->st, a) != ERR_OK) {
            log_error("guard.store", "could not store an alert for rule %s: %s", r->name,
                      err_message());
        } else {
            id = a->id;
            atomic_fetch_add(&g->alerts_new[f->rule_index], 1);
            json_t *j = galert_json(a);
            char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
            json_decref(j);
            fx_item *it = text ? fx_add(fx, FX_ALERT) : NULL;
            if (it) {
                it->json = text;
                it->sev = r->sev;
                it->routes = routes;
                it->id = id;
                snprintf(it->rule, sizeof it->rule, "%s", r->name);
                snprintf(it->dept, sizeof it->dept, "%s", a->department);
            } else {
                free(text);
            }
            char subj[32], detail[320];
            snprintf(subj, sizeof subj, "alert:%lld", (long long)id);
            snprintf(detail, sizeof detail, "%s %s: %s", gsev_name(r->sev), f->subject, f->detail);
            geffects_audit(fx, "guard.alert", subj, r->name, detail);
            if (!g->o.offline) {
                log_warn("guard.alert", "alert %lld (%s, rule %s, %s): %s", (long long)id,
                         gsev_name(r->sev), r->name, f->subject, f->detail);
            }
        }
    } else {
        log_error("guard.store", "alert lookup failed: %s", err_message());
    }
    free(a);
    return id;
}

/* A failed-login rule's lock: logins to f->account from the event's address. */
static void lock_login(guard *g, gfinding *f, int64_t now, geffects *fx)
{
    const grule *r = f->rule;
    int64_t until = now + r->lock_us;
    fx_item *it = fx_add(fx, FX_LOCK_LOGIN);
    if (it) {
        snprintf(it->subject, sizeof it->subject, "%s", f->account);
        snprintf(it->detail, sizeof it->detail, "%s", f->ev->source);
        snprintf(it->rule, sizeof it->rule, "%s", r->name);
        it->until_us = until;
    }
    atomic_fetch_add(&g->responses[2], 1);
    gs_sanction x;
    memset(&x, 0, sizeof x);
    snprintf(x.kind, sizeof x.kind, "lock-login");
    snprintf(x.subject, sizeof x.subject, "account:%s", f->account);
    snprintf(x.rule, sizeof x.rule, "%s", r->name);
    snprintf(x.by, sizeof x.by, "guard");
    x.until_us = until;
    x.created_us = now;
    char when[40], detail[200];
    until_text(until, when);
    snprintf(detail, sizeof detail, "logins from %s until %s", f->ev->source, when);
    geffects_audit(fx, "guard.lock", x.subject, r->name, detail);
    if (guard_store_sanction_put(g->st, &x) != ERR_OK) {
        log_error("guard.store", "could not record a lock: %s", err_message());
    }
}

/* block-new: is the address new, i.e. no other account (a colleague behind the same office
 * address) has been seen signing in from it, and this account not for at least a day, per the
 * known addresses the new_address rules learn? Without such a rule there is nothing to decide on,
 * and on a store error nothing is decided: no block (the account's own lock and revocation still
 * act). */
static bool address_is_new(guard *g, const grule *r, const guard_addr *a, const char *account,
                           int64_t now)
{
    bool learning = false;
    for (int i = 0; i < g->r->nrules; i++) {
        learning = learning || g->r->rules[i].det == D_NEW_ADDRESS;
    }
    if (!learning) {
        log_warn("guard.respond", "rule %s: block-new without a new_address rule: not blocking",
                 r->name);
        return false;
    }
    guard_addr k;
    gaddr_mask(a, g->r->ipv6_prefix, &k);
    char text[GUARD_ADDR_TEXT];
    guard_addr_format(&k, text);
    int64_t first = 0, others = 0;
    if (guard_store_known_since(g->st, text, account, &first, &others) != ERR_OK) {
        log_warn("guard.respond", "rule %s: known addresses unreadable: not blocking", r->name);
        return false;
    }
    return others == 0 && (first == 0 || first > now - G_SETTLED_US);
}

void grespond(guard *g, gfinding *f, geffects *fx)
{
    const grule *r = f->rule;
    int64_t now = f->ev->time_us;
    atomic_fetch_add(&g->firings[f->rule_index], 1);
    int64_t alert = 0;
    if (r->actions & ACT_ALERT) {
        alert = record_alert(g, f, fx, now);
    } else if (!g->o.offline) {
        log_info("guard.finding", "rule %s (%s): %s", r->name, f->subject, f->detail);
    }
    guard_addr addr;
    bool addr_ok = f->ev->source[0] && guard_addr_parse(f->ev->source, &addr) == ERR_OK;
    if ((r->actions & ACT_THROTTLE)) {
        if (r->per == PER_ADDRESS && addr_ok) {
            IGNORE(gsanction_apply(g, "throttle", &addr, NULL, now, now + r->throttle_us, r->name,
                                   "guard", fx));
        } else if (r->per == PER_ACCOUNT && f->account[0]) {
            IGNORE(gsanction_apply(g, "throttle", NULL, f->account, now, now + r->throttle_us,
                                   r->name, "guard", fx));
        }
    }
    if ((r->actions & ACT_BLOCK) && addr_ok) {
        IGNORE(
            gsanction_apply(g, "block", &addr, NULL, now, now + r->block_us, r->name, "guard", fx));
    }
    if ((r->actions & ACT_BLOCK_NEW) && addr_ok && address_is_new(g, r, &addr, f->account, now)) {
        IGNORE(
            gsanction_apply(g, "block", &addr, NULL, now, now + r->block_us, r->name, "guard", fx));
    }
    if (f->account[0] && r->per == PER_ACCOUNT) {
        char subj[G_USER_MAX + 16];
        snprintf(subj, sizeof subj, "account:%s", f->account);
        if ((r->actions & ACT_LOCK) && r->det == D_LOGIN_FAIL) {
            /* Failed logins are anyone's to make: lock the source out of the account, never
             * the account itself. */
            if (addr_ok) {
                lock_login(g, f, now, fx);
            }
        } else if (r->actions & ACT_LOCK) {
            IGNORE(gsanction_apply(g, "lock", NULL, f->account, now, now + r->lock_us, r->name,
                                   "guard", fx));
        }
        if (r->actions & ACT_REVOKE) {
            fx_hook(fx, FX_REVOKE, f->account, 0, r->name);
            geffects_audit(fx, "guard.revoke", subj, r->name, "sessions and API keys revoked");
            atomic_fetch_add(&g->responses[3], 1);
        }
        if (r->actions & ACT_REAUTH) {
            fx_hook(fx, FX_REAUTH, f->account, 0, r->name);
            geffects_audit(fx, "guard.reauth", subj, r->name, "must authenticate again");
            atomic_fetch_add(&g->responses[4], 1);
        }
        /* Remedial training only for what a signed-in person did themselves (a behavioural
         * finding on their own requests): failed logins and anonymous traffic are anyone's to
         * make, so no stranger can send staff back to training; API keys are no people. */
        if ((r->actions & ACT_TRAIN) && f->ev->role[0] && behavioural(r->det) &&
            strncmp(f->account, "key:", 4) != 0) {
            fx_item *it = fx_add(fx, FX_TRAIN);
            if (it) {
                snprintf(it->subject, sizeof it->subject, "%s", f->account);
                snprintf(it->rule, sizeof it->rule, "%s", r->name);
                snprintf(it->detail, sizeof it->detail, "%s", r->train);
            }
            char d[100];
            snprintf(d, sizeof d, "remedial course %s", r->train);
            geffects_audit(fx, "guard.train", subj, r->name, d);
        }
    }
    if (r->actions & ACT_SEAL) {
        fx_hook(fx, FX_SEAL, "", 0, r->name);
        geffects_audit(fx, "guard.seal", "vault", r->name, "vault sealed");
        atomic_fetch_add(&g->responses[5], 1);
    }
    if (r->per == PER_ACCOUNT && f->account[0] && f->ev->role[0] && behavioural(r->det)) {
        gs_violation v;
        memset(&v, 0, sizeof v);
        snprintf(v.username, sizeof v.username, "%s", f->account);
        v.time_us = now;
        snprintf(v.kind, sizeof v.kind, "finding");
        snprintf(v.rule, sizeof v.rule, "%s", r->name);
        snprintf(v.detail, sizeof v.detail, "%s", f->detail);
        v.evidence = f->nevidence ? f->evidence[f->nevidence - 1] : -1;
        v.alert = alert;
        if (guard_store_violation_add(g->st, &v) != ERR_OK) {
            log_error("guard.store", "could not record a violation: %s", err_message());
        }
    }
}

/* ---- the operator's side ---- */

static err operator_run(guard *g, err (*fn)(guard *, geffects *, void *), void *arg)
{
    geffects *fx;
    TRY(geffects_new(&fx));
    pthread_mutex_lock(&g->st_mu);
    err rc = fn(g, fx, arg);
    pthread_mutex_unlock(&g->st_mu);
    if (rc == ERR_OK) {
        geffects_run(g, fx);
    }
    geffects_free(fx);
    return rc;
}

typedef struct op_arg {
    const char *kind, *subject, *by, *reason, *rule;
    guard_addr addr;
    bool is_addr;
    int64_t seconds;
} op_arg;

static err op_sanction(guard *g, geffects *fx, void *varg)
{
    op_arg *o = varg;
    char rule[G_NAME_MAX + 16];
    snprintf(rule, sizeof rule, "%s", o->rule ? o->rule : "operator");
    int64_t now = guard_now(g);
    err e = gsanction_apply(g, o->kind, o->is_addr ? &o->addr : NULL, o->subject, now,
                            now + o->seconds * 1000000, rule, o->by, fx);
    if (e == ERR_OK && o->reason && o->reason[0]) {
        log_info("guard.operator", "%s %s by %s", o->kind, o->subject, o->by);
    }
    return e;
}

static err check_seconds(int64_t seconds)
{
    ENSURE(seconds > 0 && seconds <= 366LL * 86400, ERR_INPUT,
           "duration must be 1 second to 366 days");
    return ERR_OK;
}

static err check_text(const char *s, size_t max, const char *what)
{
    size_t n = strnlen(s, max + 1);
    ENSURE(n > 0 && n <= max, ERR_INPUT, "%s must be 1 to %zu bytes", what, max);
    for (size_t i = 0; i < n; i++) {
        ENSURE((unsigned char)s[i] >= 0x20 && s[i] != 0x7f, ERR_INPUT, "%s has a control character",
               what);
    }
    return ERR_OK;
}

err guard_block(guard *g, const char *address, int64_t seconds, const char *by, const char *reason)
{
    op_arg o = {.kind = "block",
                .subject = address,
                .by = by,
                .reason = reason,
                .is_addr = true,
                .seconds = seconds};
    TRY(check_seconds(seconds));
    TRY(check_text(by, G_USER_MAX, "by"));
    TRY(guard_addr_parse(address, &o.addr));
    return operator_run(g, op_sanction, &o);
}

err guard_lock_account(guard *g, const char *username, int64_t seconds, const char *by,
                       const char *rule)
{
    op_arg o = {.kind = "lock", .subject = username, .by = by, .rule = rule, .seconds = seconds};
    TRY(check_seconds(seconds));
    TRY(check_text(by, G_USER_MAX, "by"));
    TRY(check_text(username, G_USER_MAX, "username"));
    TRY(check_text(rule, G_NAME_MAX, "rule"));
    return operator_run(g, op_sanction, &o);
}

/* An operator's subject: an address (parsed) or an account (checked), by kind. */
static err subject_kind(op_arg *o, const char *kind, const char *subject)
{
    if (strcmp(kind, "address") == 0) {
        o->is_addr = true;
        return guard_addr_parse(subject, &o->addr);
    }
    ENSURE(strcmp(kind, "account") == 0, ERR_INPUT, "kind must be address or account");
    return check_text(subject, G_USER_MAX, "username");
}

err guard_throttle(guard *g, const char *kind, const char *subject, int64_t seconds, const char *by,
                   const char *reason)
{
    op_arg o = {
        .kind = "throttle", .subject = subject, .by = by, .reason = reason, .seconds = seconds};
    TRY(check_seconds(seconds));
    TRY(check_text(by, G_USER_MAX, "by"));
    TRY(subject_kind(&o, kind, subject));
    return operator_run(g, op_sanction, &o);
}

static err op_lift(guard *g, geffects *fx, void *varg)
{
    op_arg *o = varg;
    char subj[128];
    bool removed = false;
    if (o->is_addr) {
        guard_addr k;
        gaddr_mask(&o->addr, g->r->ipv6_prefix, &k);
        uint64_t h = ghash(k.b, 16, g->addr.seed);
        int kind = strcmp(o->kind, "block") == 0 ? SANC_BLOCK : SANC_THROTTLE;
        TRY(gtable_sanction(&g->addr, &k, h, kind, 0, 0));
        addr_subject(g, &k, subj, sizeof subj);
        if (kind == SANC_BLOCK) {
            fx_item *it = fx_add(fx, FX_NFT);
            if (it) {
                it->addr = k;
                it->seconds = 0;
            }
        }
    } else {
        snprintf(subj, sizeof subj, "account:%s", o->subject);
        if (strcmp(o->kind, "throttle") == 0) {
            TRY(gtable_sanction(&g->acct, NULL, gtable_account_hash(&g->acct, o->subject),
                                SANC_THROTTLE, 0, 0));
        } else {
            fx_hook(fx, FX_UNLOCK, o->subject, 0, "operator");
        }
    }
    TRY(guard_store_sanction_delete(g->st, o->kind, subj, &removed));
    if (strcmp(o->kind, "lock") == 0) {
        bool also = false;
        TRY(guard_store_sanction_delete(g->st, "lock-login", subj, &also));
        removed = removed || also;
    }
    char action[32], detail[120];
    snprintf(action, sizeof action, "guard.%s",
             strcmp(o->kind, "block") == 0      ? "unblock"
             : strcmp(o->kind, "throttle") == 0 ? "unthrottle"
                                                : "unlock");
    snprintf(detail, sizeof detail, "lifted by %s%s", o->by, removed ? "" : " (none recorded)");
    geffects_audit(fx, action, subj, "operator", detail);
    return ERR_OK;
}

err guard_unblock(guard *g, const char *address, const char *by)
{
    op_arg o = {.kind = "block", .subject = address, .by = by, .is_addr = true};
    TRY(check_text(by, G_USER_MAX, "by"));
    TRY(guard_addr_parse(address, &o.addr));
    return operator_run(g, op_lift, &o);
}

err guard_unthrottle(guard *g, const char *kind, const char *subject, const char *by)
{
    op_arg o = {.kind = "throttle", .subject = subject, .by = by};
    TRY(check_text(by, G_USER_MAX, "by"));
    TRY(subject_kind(&o, kind, subject));
    return operator_run(g, op_lift, &o);
}

err guard_unlock_account(guard *g, const char *username, const char *by)
{
    op_arg o = {.kind = "lock", .subject = username, .by = by};
    TRY(check_text(by, G_USER_MAX, "by"));
    TRY(check_text(username, G_USER_MAX, "username"));
    return operator_run(g, op_lift, &o);
}
