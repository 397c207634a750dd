/*
 * replay.c - audit entries as guard events, for `custos guard replay`: what
 * would the rules have said about the log as it is?
 *
 * Each entry is first checked with audit_decode (canonical, version 1), then
 * read again for the keys the decoder does not return (source, customers,
 * categories, fields, count). The mapping follows what the door records:
 *   login allow/deny                     -> LOGIN_OK / LOGIN_FAIL
 *   any other deny                       -> DENIED (categories, else fields,
 *                                           else the action name)
 *   customer.read, transaction.read,
 *   communication.read allow             -> CUSTOMER_READ of one customer
 *   customer.search, customer.list,
 *   customer.export.page allow           -> CUSTOMER_READ of `count` customers
 *                                           (none read: REQUEST)
 *   logout                               -> nothing
 *   anything else allowed                -> REQUEST (a known route)
 * Honeytokens are the ids the rules file lists (the log does not mark them).
 * The log holds neither departments nor byte counts, so replays use the default
 * working-hours schedule and egress rules see nothing.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "guard/guard_int.h"

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static const char *dash_empty(const char *s)
{
    return strcmp(s, "-") == 0 ? "" : s;
}

err guard_event_from_audit(const guard_rules *r, slice entry, guard_event *ev, json_t **scratch,
                           bool *mapped)
{
    *mapped = false;
    *scratch = NULL;
    memset(ev, 0, sizeof *ev);
    audit_decoded d;
    TRY(audit_decode(entry, &d));
    json_t *o = json_loadb((const char *)entry.p, entry.len, 0, NULL);
    ENSURE(o != NULL, ERR_INPUT, "entry: not JSON");
    *scratch = o;
    const char *action = str(o, "action"), *decision = str(o, "decision");
    bool allow = strcmp(decision, "allow") == 0;
    ev->time_us = d.ts_us;
    ev->username = dash_empty(str(o, "actor"));
    ev->role = dash_empty(str(o, "role"));
    ev->department = "";
    ev->source = dash_empty(str(o, "source"));
    ev->audit_index = (int64_t)d.index;
    ev->route_known = true;
    ev->status = allow ? 200 : 403;
    json_t *cnt = json_object_get(o, "count");
    int64_t count = json_is_integer(cnt) ? (int64_t)json_integer_value(cnt) : -1;
    if (strcmp(action, "login") == 0) {
        ev->kind = allow ? GUARD_EV_LOGIN_OK : GUARD_EV_LOGIN_FAIL;
    } else if (strcmp(action, "logout") == 0) {
        return ERR_OK;
    } else if (strcmp(action, "session.check") == 0 && !allow) {
        ev->kind = GUARD_EV_BAD_TOKEN; /* a token that is no session or key: nobody's */
        ev->username = "";
        ev->role = "";
    } else if (strcmp(action, "account.password") == 0 && !allow &&
               (strcmp(str(o, "rule"), "bad-old-password") == 0 ||
                strcmp(str(o, "rule"), "locked-from-address") == 0 ||
                strcmp(str(o, "rule"), "throttled") == 0)) {
        ev->kind = GUARD_EV_LOGIN_FAIL; /* a wrong old password counts like a failed login */
    } else if (allow &&
               (strcmp(action, "transaction.create") == 0 ||
                strcmp(action, "communication.create") == 0 ||
                strcmp(action, "customer.update") == 0 || strcmp(action, "customer.erase") == 0)) {
        ev->kind = GUARD_EV_CUSTOMER_WRITE;
        ev->customer = str(o, "customer");
        ev->customers = 1;
        ev->honeytoken = r && grules_is_honeytoken(r, ev->customer);
    } else if (!allow) {
        ev->kind = GUARD_EV_DENIED;
        const char *c = str(o, "categories");
        c = c[0] ? c : str(o, "fields");
        ev->categories = c[0] ? c : action;
    } else if (strcmp(action, "customer.read") == 0 || strcmp(action, "transaction.read") == 0 ||
               strcmp(action, "communication.read") == 0) {
        ev->kind = GUARD_EV_CUSTOMER_READ;
        ev->customer = str(o, "customer");
        ev->customers = 1;
        ev->honeytoken = r && grules_is_honeytoken(r, ev->customer);
    } else if ((strcmp(action, "customer.search") == 0 || strcmp(action, "customer.list") == 0 ||
                strcmp(action, "customer.export.page") == 0) &&
               count > 0) {
        ev->kind = GUARD_EV_CUSTOMER_READ;
        ev->customers = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
        ev->customer = "";
        const char *list = str(o, "customers");
        /* a honeytoken in a listing: name it */
        char id[G_CUSTOMER_MAX + 1];
        for (const char *p = list; r && *p;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            if (n < sizeof id) {
                memcpy(id, p, n);
                id[n] = '\0';
                if (grules_is_honeytoken(r, id)) {
                    ev->honeytoken = true;
                    break;
                }
            }
            p = comma ? comma + 1 : p + n;
        }
        if (ev->honeytoken) {
            /* the id, terminated, kept alive by the scratch object */
            json_object_set_new(o, "_honeytoken", json_string(id));
            ev->customer = str(o, "_honeytoken");
        }
    } else {
        ev->kind = GUARD_EV_REQUEST;
    }
    *mapped = true;
    return ERR_OK;
}

typedef struct replay_ctx {
    guard *g;
    guard_replay_stats *st;
} replay_ctx;

static err replay_row(void *vctx, uint64_t index, slice entry)
{
    replay_ctx *c = vctx;
    c->st->entries++;
    guard_event ev;
    json_t *scratch = NULL;
    bool mapped = false;
    err e = guard_event_from_audit(c->g->r, entry, &ev, &scratch, &mapped);
    if (e != ERR_OK) {
        json_decref(scratch);
        BAIL(ERR_INPUT, "audit entry %llu: %s", (unsigned long long)index, err_message());
    }
    if (mapped) {
        /* never drop during a replay: let the guard catch up first */
        if (gqueue_depth(&c->g->q) + 1 >= c->g->q.mask) {
            guard_sync(c->g);
        }
        guard_observe(c->g, &ev);
        c->st->events++;
    } else {
        c->st->skipped++;
    }
    json_decref(scratch);
    return ERR_OK;
}

err guard_replay_audit(guard *g, const char *audit_db, guard_replay_stats *st)
{
    memset(st, 0, sizeof *st);
    replay_ctx c = {g, st};
    audit *a = NULL;
    audit_iter *it = NULL;
    err rc = audit_open_readonly(audit_db, &a);
    if (rc == ERR_OK) {
        rc = audit_iter_open(a, 0, &it);
    }
    for (bool got = true; rc == ERR_OK && got;) {
        uint64_t index = 0;
        slice entry;
        rc = audit_iter_next(it, &index, &entry, &got);
        if (rc == ERR_OK && got) {
            rc = replay_row(&c, index, entry);
        }
    }
    audit_iter_close(it);
    audit_close(a);
    guard_sync(g);
    return rc;
}
