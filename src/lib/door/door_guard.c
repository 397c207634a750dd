/*
 * door_guard.c - the door and the guard (DESIGN §4: guard.observe after the
 * vault; guard responses carried out on accounts, sessions, keys and the vault).
 *
 * Starting and stopping the guard, the alerts, violations and sanctions that
 * people with the right read and act on, and the guard's responses: they come
 * back through the hooks below (locks and revocations carried out by identity),
 * each audited by the guard through the audit hook, as the system actor
 * "system:guard". What the door reports to the guard (door_observe_*: logins,
 * refusals, customer data leaving, with the audit index) is in door_core.c.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "door/door_training.h"
#include "door/door_watch.h"
#include "door_int.h"

/* ---- the guard's hooks ---- */

static void guard_actor(actor *a)
{
    actor_system(a, "guard");
}

static err hook_lock(void *ctx, const char *username, int64_t until_us, const char *rule)
{
    vault *v = ctx;
    err e = door_account_lock(v, username, until_us, NULL);
    return e == ERR_NOT_FOUND ? ERR_OK /* an unknown name, or an API key: nothing to lock */ : e;
}

static err hook_lock_login(void *ctx, const char *username, const char *address, int64_t until_us,
                           const char *rule)
{
    vault *v = ctx;
    identity_logins_lock(&v->id, username, address, until_us);
    return ERR_OK;
}

static err hook_unlock(void *ctx, const char *username, const char *rule)
{
    vault *v = ctx;
    err e = door_account_unlock(v, username);
    return e == ERR_NOT_FOUND ? ERR_OK : e;
}

static err hook_revoke(void *ctx, const char *username, const char *rule)
{
    vault *v = ctx;
    if (strncmp(username, "key:", 4) == 0) {
        /* an API key acts as "key:NAME": revoke it */
        apikey k;
        err e = identity_apikey_by_name(&v->id, username + 4, &k);
        if (e == ERR_NOT_FOUND || (e == ERR_OK && k.revoked_us != 0)) {
            return ERR_OK;
        }
        TRY(e);
        k.revoked_us = clock_now_us();
        return identity_apikey_update(&v->id, &k);
    }
    account acc;
    err e = identity_account_by_name(&v->id, username, &acc);
    identity_account_wipe(&acc);
    if (e == ERR_NOT_FOUND) {
        return ERR_OK;
    }
    TRY(e);
    return identity_sessions_revoke(&v->id, acc.id, NULL);
}

static err hook_reauth(void *ctx, const char *username, const char *rule)
{
    /* Ending the sessions makes the next request sign in again (password, second factor). */
    return hook_revoke(ctx, username, rule);
}

static err hook_seal(void *ctx, const char *rule)
{
    vault *v = ctx;
    actor a;
    guard_actor(&a);
    char why[96];
    snprintf(why, sizeof why, "guard rule %s", rule);
    return door_vault_seal(v, &a, why);
}

static err hook_train(void *ctx, const char *username, const char *course_id, const char *rule)
{
    vault *v = ctx;
    actor a;
    guard_actor(&a);
    char src[80];
    snprintf(src, sizeof src, "guard:%.60s", rule);
    json_t *out = NULL;
    err e = door_training_remedial_assign(v, &a, username, course_id, src, true, &out);
    json_decref(out);
    return e;
}

static void hook_audit(void *ctx, const char *action, const char *subject, const char *rule,
                       const char *detail)
{
    vault *v = ctx;
    actor a;
    guard_actor(&a);
    audit_entry e;
    door_entry(&e, &a, action, "allow", rule);
    char reason[400];
    snprintf(reason, sizeof reason, "%s%s%s", subject ? subject : "",
             detail && detail[0] ? " " : "", detail ? detail : "");
    e.reason = reason;
    if (audit_append(v->au, &e, NULL) != ERR_OK) {
        log_error("guard.audit", "a guard action could not be audited: %s", err_message());
    }
}

/* Once a minute, on the guard's thread: expired sessions past their retention leave
 * custos.db. */
static void housekeeping(void *ctx, int64_t now_us)
{
    vault *v = ctx;
    int64_t keep = v->cfg.keep_sessions_us > 0 ? v->cfg.keep_sessions_us : DOOR_KEEP_SESSIONS_US;
    int64_t n = 0;
    if (identity_sessions_purge(&v->id, now_us - keep, &n) != ERR_OK) {
        log_warn("vault.retention", "could not remove expired sessions: %s", err_message());
    } else if (n > 0) {
        log_info("vault.retention", "%lld expired session(s) removed", (long long)n);
    }
}

err door_guard_start(vault *v)
{
    char p[PATH_MAX], db[PATH_MAX];
    vault_path(v, "guard.rules", p, sizeof p);
    vault_path(v, GUARD_DB, db, sizeof db);
    guard_rules *rules = NULL;
    if (access(p, F_OK) == 0) {
        TRY(guard_rules_load(p, &rules));
    } else {
        TRY(guard_rules_parse(slice_cstr(GUARD_DEFAULT_RULES), "built-in guard.rules", &rules));
    }
    guard_options o = {.db_path = db,
                       .hooks = {.ctx = v,
                                 .lock_account = hook_lock,
                                 .lock_login = hook_lock_login,
                                 .unlock_account = hook_unlock,
                                 .revoke_account = hook_revoke,
                                 .require_reauth = hook_reauth,
                                 .seal = hook_seal,
                                 .assign_training = hook_train,
                                 .audit = hook_audit},
                       .keep_violations_us = v->cfg.keep_violations_us,
                       .keep_closed_alerts_us = v->cfg.keep_alerts_us,
                       .keep_addresses_per_account = v->cfg.keep_addresses,
                       .housekeeping = housekeeping};
    err e = guard_open(rules, &o, &v->guard);
    if (e != ERR_OK) {
        guard_rules_free(rules);
        return e;
    }
    log_info("guard.started", "guard running with %zu rules (%s)",
             guard_rules_count(guard_rules_of(v->guard)),
             access(p, F_OK) == 0 ? p : "built-in rules");
    return ERR_OK;
}

void door_guard_stop(vault *v)
{
    guard_close(v->guard);
    v->guard = NULL;
}

/* ---- the guard's operator side, through the door (authorized and audited) ---- */

static err need_guard(vault *v)
{
    ENSURE(v->guard != NULL, ERR_UNAVAILABLE, "the guard is not running");
    return ERR_OK;
}

static err read_audited(vault *v, const actor *a, const char *action, const char *rule)
{
    audit_entry e;
    door_entry(&e, a, action, "allow", rule);
    return audit_append(v->au, &e, NULL);
}

err door_alerts(vault *v, const actor *a, const door_alert_query *q, json_t **out)
{
    TRY(need_guard(v));
    guard_alert_filter f = {.status = q->status,
                            .severity = q->severity,
                            .rule = q->rule,
                            .account = q->account,
                            .since_us = q->since_us,
                            .before_id = q->before_id,
                            .limit = q->limit};
    const char *rule = "guard.manage";
    bool mfa = (a->session_flags & SESSION_MFA_PENDING) != 0;
    if (a->via_key || mfa || !policy_can(a->role, CAP_GUARD_MANAGE)) {
        /* Everyone else sees what is routed to them: HR the staff's violations, a data
         * steward the alerts about their department's customers. */
        if (!a->via_key && !mfa && policy_can(a->role, CAP_VIOLATIONS_READ)) {
            f.recipient = "hr";
            rule = "violations.read";
        } else if (!a->via_key && !mfa && policy_can(a->role, CAP_REQUESTS_APPROVE)) {
            f.recipient = "data_steward";
            f.department = a->department;
            rule = "requests.approve";
        } else {
            return door_need(v, a, CAP_GUARD_MANAGE, "alert.list");
        }
    }
    TRY(read_audited(v, a, "alert.list", rule));
    return guard_alerts(v->guard, &f, out);
}

err door_alert_decide(vault *v, const actor *a, int64_t id, bool close, const char *reason)
{
    TRY(need_guard(v));
    TRY(door_need(v, a, CAP_GUARD_MANAGE, close ? "alert.close" : "alert.ack"));
    return close ? guard_alert_close(v->guard, id, a->username, reason ? reason : "")
                 : guard_alert_ack(v->guard, id, a->username);
}

err door_violations(vault *v, const actor *a, const char *username, json_t **out)
{
    TRY(need_guard(v));
    TRY(door_need(v, a, CAP_VIOLATIONS_READ, "violation.list"));
    TRY(read_audited(v, a, "violation.list", "violations.read"));
    TRY(guard_violations(v->guard, username && username[0] ? username : NULL, 0, 500, out));
    door_watch_departments(v, *out);
    return ERR_OK;
}

err door_guard_sanctions(vault *v, const actor *a, json_t **out)
{
    TRY(need_guard(v));
    TRY(door_need(v, a, CAP_GUARD_MANAGE, "guard.sanctions"));
    return guard_sanctions(v->guard, out);
}

err door_guard_act(vault *v, const actor *a, const char *what, const char *subject, int64_t seconds,
                   const char *reason)
{
    TRY(need_guard(v));
    ENSURE(subject && subject[0], ERR_INPUT, "an address or an account is required");
    char action[48];
    snprintf(action, sizeof action, "guard.%s", what);
    TRY(door_need(v, a, CAP_GUARD_MANAGE, action));
    const char *by = a->username;
    if (strcmp(what, "block") == 0) {
        ENSURE(seconds > 0, ERR_INPUT, "seconds must be positive");
        return guard_block(v->guard, subject, seconds, by, reason ? reason : "operator");
    }
    if (strcmp(what, "unblock") == 0) {
        return guard_unblock(v->guard, subject, by);
    }
    if (strcmp(what, "unthrottle-address") == 0) {
        return guard_unthrottle(v->guard, "address", subject, by);
    }
    if (strcmp(what, "unthrottle-account") == 0) {
        return guard_unthrottle(v->guard, "account", subject, by);
    }
    if (strcmp(what, "unlock") == 0) {
        return guard_unlock_account(v->guard, subject, by);
    }
    BAIL(ERR_INPUT, "unknown guard action");
}
