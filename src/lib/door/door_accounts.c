/*
 * door_accounts.c - managing people and systems at the door: accounts,
 * passwords, the second factor, training validity, API keys and the hand-over
 * of credentials. Who may do what, the audit entry, the requests and notices
 * are decided here; the credentials themselves are identity's (identity.h).
 *
 * Separation of duties: account management is the admin's (accounts.manage),
 * who reads no customer; training dates are HR's (training.manage); nobody
 * changes their own role, department or training. Every change is audited
 * (the audit entry names the account, never a password or a secret).
 *
 * No admin reaches customer data alone. An account that can read customer data
 * never receives a password the admin knows: creating it, giving an account such
 * a role or moving it to another department, and resetting its password or
 * second factor are requests that a data steward of the account's department
 * approves (never the requester, never the holder). The requester is shown one
 * half of a hand-over code, the approver the other; the holder sets their own
 * password with both (door_handover). An API key that reads customer data is
 * bound to an existing department and unusable until a steward of that
 * department approves it; its creation, rotation and first use are noticed to
 * that department's stewards and to security.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "core/net.h"
#include "door/door_training_int.h"
#include "door_int.h"

#define TOTP_ISSUER "Custos"
#define HANDOVER_VALID_US ((int64_t)24 * 3600 * 1000000)

/* ---- password policy (identity's) ---- */

err door_password_acceptable(const char *username, const char *pw)
{
    return identity_password_acceptable(username, pw);
}

/* ---- accounts ---- */

/* left: the account's unused recovery codes (NULL: not shown). */
static json_t *account_json_with(const account *a, const int64_t *left)
{
    char ts[40];
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "id", a->id, "username", a->username, "role",
                          a->role, "department", a->department, "disabled", a->disabled,
                          "second_factor", a->totp_enabled);
    clock_rfc3339(a->created_us, ts);
    json_object_set_new(o, "created_at", json_string(ts));
    if (a->training_until_us > 0) {
        clock_rfc3339(a->training_until_us, ts);
        json_object_set_new(o, "training_valid_until", json_string(ts));
    } else {
        json_object_set_new(o, "training_valid_until", json_null());
    }
    role r;
    bool training_ok = role_parse(a->role, &r) != ERR_OK || !policy_needs_training(r) ||
                       a->training_until_us > clock_now_us();
    json_object_set_new(o, "training_current", json_boolean(training_ok));
    if (a->locked_until_us > clock_now_us()) {
        clock_rfc3339(a->locked_until_us, ts);
        json_object_set_new(o, "locked_until", json_string(ts));
    }
    if (a->totp_enabled && left) {
        json_object_set_new(o, "recovery_codes_left", json_integer(*left));
    }
    return o;
}

/* The account as shown, read through id (whose store is the shared one or a transaction's
 * view). */
static json_t *account_json(identity *id, const account *a)
{
    int64_t left = a->totp_enabled ? identity_recovery_left(id, a) : 0;
    return account_json_with(a, a->totp_enabled && left >= 0 ? &left : NULL);
}

/* The vault's identity, its store replaced by a transaction's view st. */
static identity identity_in(const vault *v, store *st)
{
    identity id = v->id;
    id.st = st;
    return id;
}

static err audit_account(vault *v, const actor *a, const char *action, const char *rule,
                         const char *detail)
{
    audit_entry e;
    door_entry(&e, a, action, "allow", rule);
    e.reason = detail; /* usernames, roles, departments: not customer data */
    return audit_append(v->au, &e, NULL);
}

typedef struct offline_ctx {
    const actor *by;
    int64_t until_us;
} offline_ctx;

static err training_offline_fn(vault *v, store *st, account *acc, void *ctx)
{
    (void)st;
    const offline_ctx *c = ctx;
    char ts[40], what[80];
    clock_rfc3339(c->until_us, ts);
    snprintf(what, sizeof what, "%s training_valid_until=%.10s", acc->username, ts);
    TRY(audit_account(v, c->by, "account.training", "offline", what));
    acc->training_until_us = c->until_us;
    return ERR_OK;
}

err door_account_training_offline(vault *v, const actor *by, const char *username, int64_t until_us)
{
    offline_ctx c = {by, until_us};
    return door_account_rmw(v, NULL, username, training_offline_fn, &c, NULL);
}

bool door_account_exists(vault *v, const char *username)
{
    account acc;
    bool found = identity_account_by_name(&v->id, username, &acc) == ERR_OK;
    identity_account_wipe(&acc);
    return found;
}

err door_actor_of(vault *v, const char *username, actor *out)
{
    memset(out, 0, sizeof *out);
    account acc;
    TRY(identity_account_by_name(&v->id, username, &acc));
    snprintf(out->account_id, sizeof out->account_id, "%s", acc.id);
    snprintf(out->username, sizeof out->username, "%s", acc.username);
    snprintf(out->department, sizeof out->department, "%s", acc.department);
    err e = role_parse(acc.role, &out->role);
    identity_account_wipe(&acc);
    TRY(e);
    out->training_until_us = INT64_MAX;
    return ERR_OK;
}

err door_mark_demo(vault *v)
{
    return store_meta_set(v->st, "demo", "true");
}

err door_accounts_list(vault *v, const actor *a, json_t **out)
{
    TRY(door_need(v, a, CAP_ACCOUNTS_MANAGE, "account.list"));
    enum { MAX = 1000 };
    account *rows = calloc(MAX, sizeof *rows);
    ENSURE(rows != NULL, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    err rc = ERR_OK;
    char(*ids)[ID_LEN + 1] = calloc(MAX, sizeof *ids);
    int64_t *left = calloc(MAX, sizeof *left);
    CHECK(ids && left, ERR_INTERNAL, "out of memory");
    GUARD(audit_account(v, a, "account.list", "accounts.manage", NULL));
    GUARD(identity_account_list(&v->id, rows, MAX, &n));
    for (size_t i = 0; i < n; i++) {
        memcpy(ids[i], rows[i].id, sizeof ids[i]);
    }
    /* One batch read for every account's recovery codes, not one read per account. */
    GUARD(store_recovery_left_many(v->st, (const char(*)[ID_LEN + 1]) ids, n, left));
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, account_json_with(&rows[i], &left[i]));
    }
    *out = json_pack("{s:o}", "accounts", arr);
out:
    mem_wipe(rows, MAX * sizeof *rows);
    free(rows);
    free(ids);
    free(left);
    return rc;
}

/* Files the hand-over request of an account (op: create, change or reset) and fills res
 * with the request and the requester's half of the code; notices the department's stewards
 * (the old and the new department) and the holder. */
static err handover_file(vault *v, store *st, const actor *a, const account *acc, const char *kind,
                         const char *new_role, const char *new_dept, const char *what, json_t *res)
{
    char code[IDENTITY_TOKEN_MAX], hash[IDENTITY_CODE_HASH_HEX];
    identity_code_new(code, hash);
    json_t *p = json_pack("{s:s,s:s,s:s,s:s}", "op", kind, "role", new_role, "department", new_dept,
                          "a", hash);
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    change_request r;
    change_request_init(&r);
    err rc = text ? door_request_file(v, st, a, "account", acc->id, new_dept, what, text, &r)
                  : err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
    free(text);
    if (rc == ERR_OK) {
        json_object_set_new(res, "request",
                            json_pack("{s:s,s:s}", "id", r.id, "status", "pending"));
        json_object_set_new(res, "approval", json_string("pending"));
        json_object_set_new(res, "handover_code", json_string(code));
        char d[200], to[DEPT_MAX + 16];
        snprintf(d, sizeof d, "request=%s account=%s %s by=%s", r.id, acc->username, kind,
                 a->username);
        snprintf(to, sizeof to, "data_steward:%s", new_dept);
        door_notify_in(v, st, to, "account-request", acc->username, d);
        if (strcmp(new_dept, acc->department) != 0) {
            snprintf(to, sizeof to, "data_steward:%s", acc->department);
            door_notify_in(v, st, to, "account-request", acc->username, d);
        }
        if (strcmp(kind, "create") != 0) {
            snprintf(to, sizeof to, "account:%s", acc->username);
            door_notify_in(v, st, to, "account-request", acc->username, d);
        }
        door_alert(v, "medium", "account-request", a, d);
    }
    mem_wipe(code, sizeof code);
    change_request_free(&r);
    return rc;
}

err door_account_add(vault *v, const actor *a, const char *username, const char *password,
                     const char *role_n, const char *department, json_t **out)
{
    TRY(door_need(v, a, CAP_ACCOUNTS_MANAGE, "account.create"));
    role r;
    ENSURE(role_n && role_parse(role_n, &r) == ERR_OK, ERR_INPUT, "unknown role");
    ENSURE(username && department, ERR_INPUT, "username, role and department are required");
    /* Drill accounts and the drill department are the drills' own (door_drill.c). */
    ENSURE(strncmp(username, "drill-", 6) != 0 && strcmp(department, "drill") != 0, ERR_INPUT,
           "names starting with drill- and the department drill are reserved for drills");
    /* An account that reads customer data gets its password from its holder, never from the
     * admin: it starts with a password nobody knows, behind a steward's approval. */
    bool handover = door_reads_customers(r, NULL);
    ENSURE(handover || password, ERR_INPUT, "username, password, role and department are required");
    char tmp[64];
    if (handover) {
        identity_unknown_password(tmp);
        password = tmp;
    }
    err rc = door_password_acceptable(username, password);
    if (rc == ERR_OK) {
        rc = door_account_create(v, a, username, password, r, department);
    }
    mem_wipe(tmp, sizeof tmp);
    TRY(rc);
    account acc;
    TRY(identity_account_by_name(&v->id, username, &acc));
    identity_account_wipe(&acc);
    *out = account_json(&v->id, &acc);
    if (handover) {
        char what[USERNAME_MAX + ROLE_MAX + DEPT_MAX + 48];
        snprintf(what, sizeof what, "account=%s create role=%s department=%s", acc.username,
                 acc.role, acc.department);
        rc = handover_file(v, v->st, a, &acc, "create", acc.role, acc.department, what, *out);
        if (rc != ERR_OK) {
            json_decref(*out);
            *out = NULL;
        }
    }
    return rc;
}

static err account_change_in(vault *v, store *st, const actor *a, const char *username,
                             const account_change *c, const char *pre_hash, json_t **out)
{
    identity tid = identity_in(v, st);
    bool admin_part =
        c->role || c->department || c->disabled >= 0 || c->password || c->reset_second_factor;
    bool hr_part = c->training_until_us >= 0;
    ENSURE(admin_part || hr_part, ERR_INPUT, "nothing to change");
    const char *action = hr_part && !admin_part ? "account.training" : "account.update";
    if (admin_part) {
        TRY(door_need(v, a, CAP_ACCOUNTS_MANAGE, action));
    }
    if (hr_part) {
        TRY(door_need(v, a, CAP_TRAINING_MANAGE, action));
    }
    account acc;
    err e = identity_account_by_name(&tid, username, &acc);
    ENSURE(e != ERR_NOT_FOUND, ERR_NOT_FOUND, "no such account");
    TRY(e);
    err rc = ERR_OK;
    buf what;
    buf_init(&what, 4096);
    bool self = strcmp(acc.id, a->account_id) == 0;
    if (self && (c->role || c->department || hr_part || c->disabled >= 0)) {
        GUARD(door_deny(v, a, action, NULL, NULL, "separation-of-duties", ERR_DENIED,
                        "nobody may change their own role, department, status or training"));
    }
    GUARD(buf_appendf(&what, "account=%s", acc.username));
    {
        role cur = ROLE__COUNT, nr = ROLE__COUNT;
        IGNORE(role_parse(acc.role, &cur));
        nr = cur;
        if (c->role) {
            CHECK(role_parse(c->role, &nr) == ERR_OK, ERR_INPUT, "unknown role");
        }
        if (c->department) {
            CHECK(identity_name_ok(c->department), ERR_INPUT, "department must be a token");
        }
        bool moves = (c->role && strcmp(c->role, acc.role) != 0) ||
                     (c->department && strcmp(c->department, acc.department) != 0);
        bool grants = moves && nr != ROLE__COUNT && door_reads_customers(nr, NULL);
        bool resets = (c->password || c->reset_second_factor) && cur != ROLE__COUNT &&
                      door_reads_customers(cur, NULL);
        if (grants || resets) {
            CHECK(c->disabled < 0 && !hr_part, ERR_INPUT,
                  "a change of role, department or credentials of an account that reads "
                  "customer data is a request of its own: send it alone");
            const char *nd = c->department ? c->department : acc.department;
            const char *nrn = role_name(nr);
            GUARD(buf_appendf(&what, " %s", grants ? "change" : "reset"));
            if (c->role) {
                GUARD(buf_appendf(&what, " role=%s->%s", acc.role, nrn));
            }
            if (c->department) {
                GUARD(buf_appendf(&what, " department=%s->%s", acc.department, nd));
            }
            GUARD(buf_append_str(&what, " password second-factor"));
            GUARD(buf_reserve(&what, 0));
            identity_account_wipe(&acc);
            account shown = acc;
            json_t *res = account_json(&tid, &shown);
            rc = handover_file(v, st, a, &acc, grants ? "change" : "reset", nrn, nd,
                               buf_cstr(&what), res);
            if (rc != ERR_OK) {
                json_decref(res);
                goto out;
            }
            *out = res;
            goto out;
        }
    }
    if (c->role) {
        role r;
        CHECK(role_parse(c->role, &r) == ERR_OK, ERR_INPUT, "unknown role");
        GUARD(buf_appendf(&what, " role=%s->%s", acc.role, c->role));
        snprintf(acc.role, sizeof acc.role, "%s", c->role);
    }
    if (c->department) {
        CHECK(identity_name_ok(c->department), ERR_INPUT, "department must be a token");
        GUARD(buf_appendf(&what, " department=%s->%s", acc.department, c->department));
        snprintf(acc.department, sizeof acc.department, "%s", c->department);
    }
    if (c->disabled >= 0) {
        acc.disabled = c->disabled != 0;
        GUARD(buf_appendf(&what, " %s", acc.disabled ? "disabled" : "enabled"));
        if (!acc.disabled) {
            acc.locked_until_us = 0;
            acc.failed_logins = 0;
        }
    }
    if (c->password) {
        GUARD(door_password_acceptable(acc.username, c->password));
        CHECK(pre_hash && pre_hash[0], ERR_INTERNAL, "the new password was not hashed");
        snprintf(acc.pwhash, sizeof acc.pwhash, "%s", pre_hash);
        acc.pw_changed_us = clock_now_us();
        acc.locked_until_us = 0;
        acc.failed_logins = 0;
        GUARD(buf_append_str(&what, " password-reset"));
    }
    if (c->reset_second_factor) {
        GUARD(identity_second_factor_reset(&tid, &acc));
        GUARD(buf_append_str(&what, " second-factor-reset"));
    }
    if (hr_part) {
        /* An open remedial course holds the account until it is passed or withdrawn. */
        bool held = false;
        int64_t saved = 0;
        GUARD(dtr_remedial_blocked(st, acc.id, &held, &saved));
        CHECK(!held, ERR_CONFLICT,
              "an open remedial course holds this account: pass it, or withdraw it with a reason");
        acc.training_until_us = c->training_until_us;
        char ts[40];
        clock_rfc3339(c->training_until_us, ts);
        GUARD(buf_appendf(&what, " training_valid_until=%.10s", ts));
    }
    GUARD(buf_reserve(&what, 0));
    GUARD(audit_account(v, a, action,
                        hr_part && !admin_part ? "training.manage" : "accounts.manage",
                        buf_cstr(&what)));
    GUARD(identity_account_update(&tid, &acc));
    /* A disabled account, a new role or password, a reset factor: its sessions end now. */
    if (acc.disabled || c->role || c->department || c->password || c->reset_second_factor) {
        GUARD(identity_sessions_revoke(&tid, acc.id, NULL));
    }
    *out = account_json(&tid, &acc);
out:
    identity_account_wipe(&acc);
    buf_free(&what);
    return rc;
}

/* The account is read and written in one write transaction, so that a concurrent approval
 * or hand-over of the same account is never undone by a stale copy. */
err door_account_change(vault *v, const actor *a, const char *username, const account_change *c,
                        json_t **out)
{
    *out = NULL;
    /* Argon2id before the write transaction, which must stay short. */
    char pre[PASSWORD_HASH_MAX] = "";
    if (c->password && door_password_acceptable(username ? username : "", c->password) == ERR_OK) {
        TRY(identity_password_hash(c->password, pre));
    }
    store_tx *tx = NULL;
    err rc = store_begin(v->st, &tx);
    if (rc == ERR_OK) {
        rc = account_change_in(v, store_tx_store(tx), a, username, c, pre, out);
        if (rc == ERR_OK) {
            rc = store_commit(&tx);
        }
        if (rc != ERR_OK) {
            store_rollback(&tx);
            json_decref(*out);
            *out = NULL;
        }
    }
    mem_wipe(pre, sizeof pre);
    return rc;
}

err door_account_self(vault *v, const actor *a, json_t **out)
{
    ENSURE(!a->via_key, ERR_INPUT, "an API key is not an account");
    account acc;
    TRY(identity_account_by_id(&v->id, a->account_id, &acc));
    identity_account_wipe(&acc);
    *out = account_json(&v->id, &acc);
    json_object_set_new(*out, "second_factor_pending",
                        json_boolean((a->session_flags & SESSION_MFA_PENDING) != 0));
    if (a->breakglass[0]) {
        json_object_set_new(*out, "break_glass", json_string(a->breakglass));
    }
    return ERR_OK;
}

typedef struct pw_ctx {
    const actor *a;
    char checked[PASSWORD_HASH_MAX]; /* the hash the old password was checked against */
    char next[PASSWORD_HASH_MAX];
} pw_ctx;

/* The new password only over the one that was checked: a reset or a change that landed
 * meanwhile is not silently replaced. */
static err password_fn(vault *v, store *st, account *acc, void *ctx)
{
    (void)st;
    pw_ctx *c = ctx;
    size_t n = strnlen(c->checked, sizeof c->checked);
    ENSURE(strnlen(acc->pwhash, sizeof acc->pwhash) == n && mem_eq_ct(acc->pwhash, c->checked, n),
           ERR_CONFLICT, "the password was changed meanwhile: sign in again");
    TRY(audit_account(v, c->a, "account.password", "self", acc->username));
    snprintf(acc->pwhash, sizeof acc->pwhash, "%s", c->next);
    acc->pw_changed_us = clock_now_us();
    return ERR_OK;
}

err door_password_change(vault *v, const actor *a, const char *old_pw, const char *new_pw)
{
    ENSURE(!a->via_key, ERR_INPUT, "an API key has no password");
    ENSURE(old_pw && new_pw, ERR_INPUT, "the old and the new password are required");
    account acc;
    TRY(identity_account_by_id(&v->id, a->account_id, &acc));
    err rc = ERR_OK;
    /* The old password is a guess like a login's: the same lockout, throttle and guard. */
    login_check lc;
    GUARD(door_password_attempt_begin(v, a, &lc));
    bool old_ok = identity_password_check(&acc, old_pw);
    GUARD(door_password_attempt_end(v, a, &lc, old_ok)); /* a failure is audited there */
    CHECK(old_ok, ERR_AUTH, "the old password is wrong");
    GUARD(door_password_acceptable(acc.username, new_pw));
    pw_ctx c = {a, "", ""};
    snprintf(c.checked, sizeof c.checked, "%s", acc.pwhash);
    /* Argon2id before the write transaction, which must stay short. */
    rc = identity_password_hash(new_pw, c.next);
    if (rc == ERR_OK) {
        rc = door_account_rmw(v, acc.id, NULL, password_fn, &c, NULL);
    }
    mem_wipe(&c, sizeof c);
    GUARD(rc);
    /* Whoever else holds a session of this account (a stolen token) is out; so is the caller,
     * who signs in again with the new password. */
    GUARD(identity_sessions_revoke(&v->id, acc.id, NULL));
out:
    identity_account_wipe(&acc);
    return rc;
}

/* ---- hand-over ---- */

err door_account_request_apply(vault *v, store *st, const actor *a, change_request *r, json_t *res,
                               const char *unknown_hash)
{
    identity tid = identity_in(v, st);
    json_t *p = json_loadb((const char *)r->payload.p, r->payload.len, 0, NULL);
    account acc;
    memset(&acc, 0, sizeof acc);
    err rc = ERR_OK;
    char code[IDENTITY_TOKEN_MAX] = "", hash[IDENTITY_CODE_HASH_HEX];
    CHECK(json_is_object(p), ERR_INTERNAL, "an account request's payload is damaged");
    const char *nr = json_string_value(json_object_get(p, "role"));
    const char *nd = json_string_value(json_object_get(p, "department"));
    role rr;
    CHECK(nr && nd && role_parse(nr, &rr) == ERR_OK && identity_name_ok(nd), ERR_INTERNAL,
          "an account request's payload is damaged");
    err e = identity_account_by_id(&tid, r->customer_id, &acc);
    CHECK(e != ERR_NOT_FOUND, ERR_CONFLICT, "the account no longer exists");
    GUARD(e);
    /* The holder starts again: a password nobody knows, no second factor, no session. */
    snprintf(acc.role, sizeof acc.role, "%s", nr);
    snprintf(acc.department, sizeof acc.department, "%s", nd);
    CHECK(unknown_hash && unknown_hash[0], ERR_INTERNAL, "no password hash prepared");
    snprintf(acc.pwhash, sizeof acc.pwhash, "%s", unknown_hash);
    acc.pw_changed_us = clock_now_us();
    acc.locked_until_us = 0;
    acc.failed_logins = 0;
    GUARD(identity_second_factor_reset(&tid, &acc));
    char what[USERNAME_MAX + ROLE_MAX + DEPT_MAX + 64];
    snprintf(what, sizeof what, "account=%s handover-approved role=%s department=%s request=%s",
             acc.username, acc.role, acc.department, r->id);
    GUARD(audit_account(v, a, "account.update", "requests.approve", what));
    GUARD(identity_account_update(&tid, &acc));
    GUARD(identity_sessions_revoke(&tid, acc.id, NULL));
    identity_code_new(code, hash);
    json_object_set_new(p, "b", json_string(hash));
    char *text = json_dumps(p, JSON_COMPACT);
    CHECK(text != NULL, ERR_INTERNAL, "out of memory");
    buf_reset(&r->payload);
    rc = buf_append(&r->payload, text, strlen(text));
    free(text);
    GUARD(rc);
    r->expires_us = clock_now_us() + HANDOVER_VALID_US;
    json_object_set_new(res, "handover_code", json_string(code));
    json_object_set_new(res, "handover_account", json_string(acc.username));
    char d[200], to[DEPT_MAX + 16];
    snprintf(d, sizeof d,
             "request=%s account=%s approved by=%s: the holder sets a new "
             "password with both code halves",
             r->id, acc.username, a->username);
    snprintf(to, sizeof to, "account:%s", acc.username);
    door_notify_in(v, st, to, "account-handover-approved", acc.username, d);
    snprintf(to, sizeof to, "data_steward:%s", acc.department);
    door_notify_in(v, st, to, "account-handover-approved", acc.username, d);
out:
    mem_wipe(code, sizeof code);
    identity_account_wipe(&acc);
    json_decref(p);
    return rc;
}

err door_handover(vault *v, const handover_request *h)
{
    actor a;
    memset(&a, 0, sizeof a);
    a.role = ROLE__COUNT;
    snprintf(a.source, sizeof a.source, "%s", h->source ? h->source : "-");
    snprintf(a.request_id, sizeof a.request_id, "%s", h->request_id ? h->request_id : "-");
    snprintf(a.username, sizeof a.username, "handover");
    change_request r;
    change_request_init(&r);
    account acc;
    memset(&acc, 0, sizeof acc);
    json_t *p = NULL;
    err rc = ERR_OK;
    const char *why = NULL;
    err e = h->request && id_valid(h->request) ? store_request_get(v->st, h->request, &r)
                                               : ERR_NOT_FOUND;
    if (e != ERR_OK && e != ERR_NOT_FOUND) {
        GUARD(e);
    }
    err ea = h->username && identity_name_ok(h->username)
                 ? identity_account_by_name(&v->id, h->username, &acc)
                 : ERR_NOT_FOUND;
    if (ea != ERR_OK && ea != ERR_NOT_FOUND) {
        GUARD(ea);
    }
    if (e == ERR_OK) {
        p = json_loadb((const char *)r.payload.p, r.payload.len, 0, NULL);
    }
    why = e != ERR_OK || ea != ERR_OK || strcmp(r.kind, "account") != 0 ? "no-such-handover"
          : strcmp(r.customer_id, acc.id) != 0                          ? "no-such-handover"
          : strcmp(r.status, "approved") != 0                           ? "handover-not-approved"
          : r.expires_us <= clock_now_us()                              ? "handover-expired"
          : !identity_code_matches(h->code_a, json_string_value(json_object_get(p, "a"))) ||
                  !identity_code_matches(h->code_b, json_string_value(json_object_get(p, "b")))
              ? "handover-bad-code"
              : NULL;
    if (ea == ERR_OK) {
        snprintf(a.account_id, sizeof a.account_id, "%s", acc.id);
        snprintf(a.username, sizeof a.username, "%s", acc.username);
        snprintf(a.department, sizeof a.department, "%s", acc.department);
    }
    if (why) {
        GUARD(door_deny(v, &a, "account.handover", NULL, NULL, why, ERR_AUTH, "invalid hand-over"));
    }
    GUARD(door_password_acceptable(acc.username, h->password ? h->password : ""));
    char nh[PASSWORD_HASH_MAX];
    GUARD(identity_password_hash(h->password, nh));
    snprintf(r.status, sizeof r.status, "used");
    rc = audit_account(v, &a, "account.handover", "handover", acc.username);
    if (rc != ERR_OK) {
        mem_wipe(nh, sizeof nh);
        goto out;
    }
    store_tx *tx = NULL;
    rc = store_begin(v->st, &tx);
    if (rc != ERR_OK) {
        mem_wipe(nh, sizeof nh);
        goto out;
    }
    identity tid = identity_in(v, store_tx_store(tx));
    e = store_request_decide(tid.st, &r, "approved"); /* one holder wins a race */
    if (e == ERR_OK) {
        e = identity_account_by_id(&tid, r.customer_id, &acc); /* fresh, inside the txn */
    }
    if (e == ERR_OK) {
        snprintf(acc.pwhash, sizeof acc.pwhash, "%s", nh);
        acc.pw_changed_us = clock_now_us();
        acc.locked_until_us = 0;
        acc.failed_logins = 0;
        e = identity_account_update(&tid, &acc);
    }
    mem_wipe(nh, sizeof nh);
    if (e == ERR_OK) {
        e = store_commit(&tx);
    }
    if (e != ERR_OK) {
        store_rollback(&tx);
        GUARD(e == ERR_CONFLICT ? err_set(ERR_AUTH, __FILE__, __LINE__, "invalid hand-over") : e);
    }
    char d[160], to[DEPT_MAX + 16];
    snprintf(d, sizeof d, "request=%s account=%s: the holder set a new password", r.id,
             acc.username);
    snprintf(to, sizeof to, "account:%s", acc.username);
    door_notify(v, to, "account-handover-done", acc.username, d);
    snprintf(to, sizeof to, "data_steward:%s", acc.department);
    door_notify(v, to, "account-handover-done", acc.username, d);
out:
    json_decref(p);
    identity_account_wipe(&acc);
    change_request_free(&r);
    return rc;
}

/* ---- second factor ---- */

typedef struct totp_ctx {
    const actor *a;
    const char *code, *recovery;
    buf *uri;
} totp_ctx;

static err totp_enrol_fn(vault *v, store *st, account *acc, void *ctx)
{
    totp_ctx *c = ctx;
    identity tid = identity_in(v, st);
    if (acc->totp_enabled) {
        return door_deny(v, c->a, "account.totp_enrol", NULL, NULL, "already-enrolled",
                         ERR_CONFLICT,
                         "a second factor is enrolled already (an admin can reset it)");
    }
    TRY(identity_totp_enrol(&tid, acc, TOTP_ISSUER, c->uri));
    return audit_account(v, c->a, "account.totp_enrol", "self", acc->username);
}

static err totp_confirm_fn(vault *v, store *st, account *acc, void *ctx)
{
    totp_ctx *c = ctx;
    identity tid = identity_in(v, st);
    ENSURE(acc->totp[0] && !acc->totp_enabled, ERR_CONFLICT,
           "start enrolment first (POST /v1/me/totp/enrol)");
    if (!identity_second_factor_ok(&tid, acc, c->code, NULL)) {
        return door_deny(v, c->a, "account.totp_confirm", NULL, NULL, "bad-second-factor", ERR_AUTH,
                         "the code is wrong or was used already");
    }
    acc->totp_enabled = true;
    return audit_account(v, c->a, "account.totp_confirm", "self", acc->username);
}

static err totp_verify_fn(vault *v, store *st, account *acc, void *ctx)
{
    totp_ctx *c = ctx;
    identity tid = identity_in(v, st);
    ENSURE(acc->totp_enabled, ERR_CONFLICT, "no second factor enrolled");
    if (!identity_second_factor_ok(&tid, acc, c->code, c->recovery)) {
        return door_deny(v, c->a, "account.totp_verify", NULL, NULL, "bad-second-factor", ERR_AUTH,
                         "the code is wrong or was used already");
    }
    return audit_account(v, c->a, "account.totp_verify", c->recovery ? "recovery-code" : "totp",
                         acc->username);
}

err door_totp_enrol(vault *v, const actor *a, json_t **out)
{
    ENSURE(!a->via_key, ERR_INPUT, "an API key has no second factor");
    account acc;
    memset(&acc, 0, sizeof acc);
    err rc = ERR_OK;
    buf uri;
    buf_init(&uri, 4096);
    totp_ctx c = {a, NULL, NULL, &uri};
    GUARD(door_account_rmw(v, a->account_id, NULL, totp_enrol_fn, &c, &acc));
    *out = json_pack("{s:s,s:s,s:i,s:i}", "otpauth_uri", buf_cstr(&uri), "issuer", TOTP_ISSUER,
                     "digits", TOTP_DIGITS, "period", TOTP_STEP_S);
out:
    buf_free(&uri); /* buf_free wipes */
    identity_account_wipe(&acc);
    return rc;
}

static err new_recovery_codes(vault *v, const account *acc, json_t **codes)
{
    char c[RECOVERY_CODES][RECOVERY_TEXT_MAX];
    TRY(identity_recovery_codes_new(&v->id, acc, c));
    json_t *arr = json_array();
    for (int i = 0; i < RECOVERY_CODES; i++) {
        json_array_append_new(arr, json_string(c[i]));
    }
    mem_wipe(c, sizeof c);
    *codes = arr;
    return ERR_OK;
}

err door_totp_confirm(vault *v, const actor *a, const char *token, const char *code, json_t **out)
{
    ENSURE(!a->via_key, ERR_INPUT, "an API key has no second factor");
    account acc;
    memset(&acc, 0, sizeof acc);
    err rc = ERR_OK;
    json_t *codes = NULL;
    totp_ctx c = {a, code, NULL, NULL};
    GUARD(door_account_rmw(v, a->account_id, NULL, totp_confirm_fn, &c, &acc));
    GUARD(new_recovery_codes(v, &acc, &codes));
out:
    identity_account_wipe(&acc);
    TRY(rc);
    if (token && (a->session_flags & SESSION_MFA_PENDING)) {
        err e = identity_session_complete(&v->id, token);
        if (e != ERR_OK) {
            json_decref(codes);
            return e;
        }
    }
    *out = json_pack("{s:b,s:o}", "second_factor", 1, "recovery_codes", codes);
    return ERR_OK;
}

err door_totp_verify(vault *v, const actor *a, const char *token, const char *code,
                     const char *recovery)
{
    ENSURE(!a->via_key, ERR_INPUT, "an API key has no second factor");
    account acc;
    memset(&acc, 0, sizeof acc);
    err rc = ERR_OK;
    totp_ctx c = {a, code, recovery, NULL};
    GUARD(door_account_rmw(v, a->account_id, NULL, totp_verify_fn, &c, &acc));
    GUARD(identity_session_complete(&v->id, token));
out:
    identity_account_wipe(&acc);
    return rc;
}

/* ---- API keys ---- */

static json_t *key_json(const apikey *k)
{
    char ts[40];
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", k->id, "name", k->name, "prefix",
                  k->prefix, "role", k->role, "department", k->department, "scope", k->scope,
                  "addresses", k->addresses, "created_by", k->created_by);
    clock_rfc3339(k->created_us, ts);
    json_object_set_new(o, "created_at", json_string(ts));
    if (k->last_used_us) {
        clock_rfc3339(k->last_used_us, ts);
        json_object_set_new(o, "last_used_at", json_string(ts));
        json_object_set_new(o, "last_used_from", json_string(k->last_source));
    } else {
        json_object_set_new(o, "last_used_at", json_null());
    }
    json_object_set_new(o, "revoked", json_boolean(k->revoked_us != 0));
    return o;
}

/* A key that reads customer data waits for a steward of its department: files the request,
 * notices the department's stewards and security. */
static err key_approval(vault *v, const actor *a, const apikey *k, const char *act, json_t *res)
{
    char what[APIKEY_SCOPE_MAX + 160];
    snprintf(what, sizeof what, "key=%s %s role=%s scope=%s", k->name, act, k->role, k->scope);
    change_request r;
    change_request_init(&r);
    err rc = door_request_file(v, v->st, a, "apikey", k->id, k->department, what, NULL, &r);
    if (rc == ERR_OK) {
        json_object_set_new(res, "approval", json_string("pending"));
        json_object_set_new(res, "request",
                            json_pack("{s:s,s:s}", "id", r.id, "status", "pending"));
        char d[200], to[DEPT_MAX + 16];
        snprintf(d, sizeof d, "request=%s key=%s %s role=%s department=%s by=%s", r.id, k->name,
                 act, k->role, k->department, a->username);
        snprintf(to, sizeof to, "data_steward:%s", k->department);
        door_notify(v, to, "apikey-created", k->name, d);
        door_notify(v, "role:security", "apikey-created", k->name, d);
        door_alert(v, "medium", "apikey-created", a, d);
    }
    change_request_free(&r);
    return rc;
}

err door_apikey_create(vault *v, const actor *a, const char *name, const char *role_n,
                       const char *department, const char *scope, const char *addresses,
                       json_t **out)
{
    TRY(door_need(v, a, CAP_APIKEYS_MANAGE, "apikey.create"));
    ENSURE(name && identity_name_ok(name), ERR_INPUT,
           "name must be 2-64 characters of a-z, 0-9, '_', '.', '-'");
    role r;
    ENSURE(role_n && role_parse(role_n, &r) == ERR_OK, ERR_INPUT, "unknown role");
    ENSURE(department && identity_name_ok(department), ERR_INPUT, "department must be a token");
    ENSURE(scope && strlen(scope) < APIKEY_SCOPE_MAX, ERR_INPUT, "scope is required");
    uint16_t ops[CAT__COUNT + 1];
    TRY(identity_scope_parse(scope, ops));
    addresses = addresses ? addresses : "";
    ENSURE(strlen(addresses) < APIKEY_SCOPE_MAX, ERR_INPUT, "too many addresses");
    TRY(net_list_check(addresses));
    bool known = false;
    TRY(store_department_exists(v->st, department, &known));
    ENSURE(known, ERR_INPUT, "department %s does not exist (no account or customer belongs to it)",
           department);
    bool reads = door_reads_customers(r, ops);
    apikey k;
    memset(&k, 0, sizeof k);
    id_new(k.id, "key");
    snprintf(k.name, sizeof k.name, "%s", name);
    snprintf(k.role, sizeof k.role, "%s", role_n);
    snprintf(k.department, sizeof k.department, "%s", department);
    snprintf(k.scope, sizeof k.scope, "%s", scope);
    snprintf(k.addresses, sizeof k.addresses, "%s", addresses);
    snprintf(k.created_by, sizeof k.created_by, "%s", a->username);
    k.created_us = clock_now_us();
    char text[TOKEN_TEXT_MAX];
    identity_apikey_mint(&k, text);
    char what[APIKEY_SCOPE_MAX * 2 + 160];
    snprintf(what, sizeof what, "key=%s role=%s department=%s scope=%s addresses=%s", k.name,
             k.role, k.department, k.scope, k.addresses[0] ? k.addresses : "any");
    err rc = audit_account(v, a, "apikey.create", "apikeys.manage", what);
    if (rc == ERR_OK) {
        rc = identity_apikey_insert(&v->id, &k);
    }
    json_t *res = rc == ERR_OK ? key_json(&k) : NULL;
    if (rc == ERR_OK && reads) {
        rc = key_approval(v, a, &k, "create", res);
    }
    if (rc == ERR_OK) {
        json_object_set_new(res, "key", json_string(text));
        *out = res;
    } else {
        json_decref(res);
    }
    mem_wipe(text, sizeof text);
    return rc;
}

err door_apikey_rotate(vault *v, const actor *a, const char *id, json_t **out)
{
    TRY(door_need(v, a, CAP_APIKEYS_MANAGE, "apikey.rotate"));
    apikey k;
    err e = identity_apikey_by_id(&v->id, id, &k);
    ENSURE(e != ERR_NOT_FOUND, ERR_NOT_FOUND, "no such API key");
    TRY(e);
    ENSURE(k.revoked_us == 0, ERR_CONFLICT, "the key is revoked");
    char text[TOKEN_TEXT_MAX];
    identity_apikey_mint(&k, text);
    k.rotated_us = clock_now_us();
    char what[128];
    snprintf(what, sizeof what, "key=%s", k.name);
    err rc = audit_account(v, a, "apikey.rotate", "apikeys.manage", what);
    if (rc == ERR_OK) {
        rc = identity_apikey_update(&v->id, &k); /* the old text stops working now */
    }
    json_t *res = rc == ERR_OK ? key_json(&k) : NULL;
    role r;
    uint16_t ops[CAT__COUNT + 1];
    /* The admin holds the new text: a key that reads customer data waits for approval again. */
    if (rc == ERR_OK && role_parse(k.role, &r) == ERR_OK &&
        identity_scope_parse(k.scope, ops) == ERR_OK && door_reads_customers(r, ops)) {
        rc = key_approval(v, a, &k, "rotate", res);
    }
    if (rc == ERR_OK) {
        json_object_set_new(res, "key", json_string(text));
        *out = res;
    } else {
        json_decref(res);
    }
    mem_wipe(text, sizeof text);
    return rc;
}

err door_apikey_revoke(vault *v, const actor *a, const char *id)
{
    TRY(door_need(v, a, CAP_APIKEYS_MANAGE, "apikey.revoke"));
    apikey k;
    err e = identity_apikey_by_id(&v->id, id, &k);
    ENSURE(e != ERR_NOT_FOUND, ERR_NOT_FOUND, "no such API key");
    TRY(e);
    char what[128];
    snprintf(what, sizeof what, "key=%s", k.name);
    TRY(audit_account(v, a, "apikey.revoke", "apikeys.manage", what));
    if (k.revoked_us == 0) {
        k.revoked_us = clock_now_us();
    }
    return identity_apikey_update(&v->id, &k);
}

err door_apikeys_list(vault *v, const actor *a, json_t **out)
{
    TRY(door_need(v, a, CAP_APIKEYS_MANAGE, "apikey.list"));
    enum { MAX = 500 };
    apikey *rows = calloc(MAX, sizeof *rows);
    ENSURE(rows != NULL, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    err rc = ERR_OK;
    char(*ids)[ID_LEN + 1] = calloc(MAX, sizeof *ids);
    char(*status)[16] = calloc(MAX, sizeof *status);
    CHECK(ids && status, ERR_INTERNAL, "out of memory");
    GUARD(audit_account(v, a, "apikey.list", "apikeys.manage", NULL));
    GUARD(identity_apikey_list(&v->id, rows, MAX, &n));
    for (size_t i = 0; i < n; i++) {
        memcpy(ids[i], rows[i].id, sizeof ids[i]);
    }
    /* Every key's latest approval request in one batch read, not one read per key. */
    GUARD(store_request_latest_many(v->st, "apikey", (const char(*)[ID_LEN + 1]) ids, n, status));
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = key_json(&rows[i]);
        role r;
        uint16_t ops[CAT__COUNT + 1];
        const char *approval = "not-needed";
        if (role_parse(rows[i].role, &r) == ERR_OK &&
            identity_scope_parse(rows[i].scope, ops) == ERR_OK && door_reads_customers(r, ops)) {
            approval = strcmp(status[i], "applied") == 0    ? "approved"
                       : strcmp(status[i], "rejected") == 0 ? "rejected"
                                                            : "pending";
        }
        json_object_set_new(o, "approval", json_string(approval));
        json_array_append_new(arr, o);
    }
    *out = json_pack("{s:o}", "api_keys", arr);
out:
    free(rows);
    free(ids);
    free(status);
    return rc;
}
