/*
 * door_notify.c - telling people, and filing a request for a second person:
 * notices to accounts, roles and data stewards (and listing one's own), and the
 * audited filing of a request that a steward decides (door_requests.c decides
 * and applies them; door_accounts.c and door_breakglass.c file them).
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "door_int.h"

/* Requests whose customer_id column names a key or an account, not a customer. */
static bool about_access(const change_request *r)
{
    return strcmp(r->kind, "apikey") == 0 || strcmp(r->kind, "account") == 0 ||
           strcmp(r->kind, "breakglass") == 0;
}

err door_request_audit(vault *v, const actor *a, const char *action, const char *decision,
                       const change_request *r, const char *rule)
{
    audit_entry e;
    door_entry(&e, a, action, decision, rule);
    char why[ID_LEN * 2 + 16];
    if (about_access(r)) {
        /* usernames, key names, roles: not customer data */
        snprintf(why, sizeof why, "%s %s", r->id, r->customer_id);
        e.reason = why;
        e.fields = r->fields[0] ? r->fields : NULL;
        return audit_append(v->au, &e, NULL);
    }
    e.customer = r->customer_id[0] ? r->customer_id : NULL;
    e.fields = r->fields[0] ? r->fields : NULL;
    e.reason = r->id;
    return audit_append(v->au, &e, NULL);
}

err door_request_file(vault *v, store *st, const actor *a, const char *kind, const char *subject,
                      const char *department, const char *what, const char *payload,
                      change_request *r)
{
    id_new(r->id, "req");
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    snprintf(r->customer_id, sizeof r->customer_id, "%s", subject);
    snprintf(r->department, sizeof r->department, "%s", department);
    snprintf(r->requester_id, sizeof r->requester_id, "%s", a->account_id);
    snprintf(r->requester, sizeof r->requester, "%s", a->username);
    snprintf(r->status, sizeof r->status, "pending");
    snprintf(r->fields, sizeof r->fields, "%s", what);
    r->created_us = clock_now_us();
    buf_reset(&r->payload);
    if (payload) {
        TRY(buf_append(&r->payload, payload, strlen(payload)));
    }
    TRY(door_request_audit(v, a, "request.create", "allow", r, kind));
    return store_request_insert(st, r);
}

/* ---- notices ---- */

void door_notify(vault *v, const char *recipient, const char *rule, const char *subject,
                 const char *detail)
{
    door_notify_in(v, v->st, recipient, rule, subject, detail);
}

void door_notify_in(vault *v, store *st, const char *recipient, const char *rule,
                    const char *subject, const char *detail)
{
    (void)v;
    notice n;
    memset(&n, 0, sizeof n);
    n.at_us = clock_now_us();
    snprintf(n.recipient, sizeof n.recipient, "%s", recipient);
    snprintf(n.rule, sizeof n.rule, "%s", rule);
    snprintf(n.subject, sizeof n.subject, "%s", subject ? subject : "");
    snprintf(n.detail, sizeof n.detail, "%s", detail ? detail : "");
    if (store_notice_add(st, &n) != ERR_OK) {
        log_warn("notice", "could not store a notice (rule %s) for %s", rule, recipient);
    }
}

err door_notices(vault *v, const actor *a, int64_t after, json_t **out)
{
    ENSURE(!a->via_key, ERR_DENIED, "API keys have no notices");
    ENSURE(!(a->session_flags & SESSION_MFA_PENDING), ERR_AUTH, "second factor required");
    char me[USERNAME_MAX + 16], role_to[ROLE_MAX + 16], dept[DEPT_MAX + 16];
    snprintf(me, sizeof me, "account:%s", a->username);
    snprintf(role_to, sizeof role_to, "role:%s", a->role == ROLE__COUNT ? "-" : role_name(a->role));
    bool steward = policy_can(a->role, CAP_REQUESTS_APPROVE);
    snprintf(dept, sizeof dept, "data_steward:%s", a->department);
    const char *to[STORE_NOTICE_TO_MAX] = {me, role_to, steward ? dept : NULL,
                                           steward ? "data_steward:*" : NULL};
    enum { MAX = 500 };
    notice *rows = calloc(MAX, sizeof *rows);
    ENSURE(rows != NULL, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    audit_entry e;
    door_entry(&e, a, "notice.list", "allow", "own-notices");
    err rc = audit_append(v->au, &e, NULL);
    if (rc == ERR_OK) {
        rc = store_notice_list(v->st, to, after, rows, MAX, &n);
    }
    if (rc == ERR_OK) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            char ts[40];
            clock_rfc3339(rows[i].at_us, ts);
            json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "id",
                                                 (json_int_t)rows[i].id, "at", ts, "recipient",
                                                 rows[i].recipient, "rule", rows[i].rule, "subject",
                                                 rows[i].subject, "detail", rows[i].detail));
        }
        *out = json_pack("{s:o}", "notices", arr);
    }
    free(rows);
    return rc;
}
