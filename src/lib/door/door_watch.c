/*
 * door_watch.c - the numbers behind the console's dashboards. Accesses per day and
 * department are counted from the audit log itself (the entries say who did what and when,
 * never a department: the department is the account's or API key's as it is now), so the
 * chart shows exactly what the log proves. Reading the log this way is a read of the log:
 * it needs audit.read (or, for one's own department, a data steward's requests.approve) and
 * is itself audited. The work is bounded: at most 31 days and DOOR_STATS_SCAN_MAX entries.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/mem.h"
#include "door/door_watch.h"
#include "door_int.h"

#define ZONE_OFFSET_US (8LL * 3600 * 1000000) /* Asia/Shanghai: UTC+8, no daylight time */
#define DAY_US (86400LL * 1000000)

typedef struct stats_ctx {
    vault *v;
    const char *only_dept; /* a steward's own department, or NULL for all */
    int days;
    int64_t first_day; /* local day number of days[0] */
    json_t *depts;     /* username -> department ("" when unknown) */
    json_t *accesses;  /* department -> array of counts */
    int64_t denied[DOOR_STATS_DAYS_MAX];
    uint64_t scanned, last;
} stats_ctx;

static int64_t local_day(int64_t us)
{
    int64_t t = us + ZONE_OFFSET_US;
    return t >= 0 ? t / DAY_US : (t - DAY_US + 1) / DAY_US;
}

static bool is_access(const char *action)
{
    static const char *const acts[] = {"customer.read",    "customer.search",
                                       "customer.list",    "customer.export.page",
                                       "transaction.read", "communication.read"};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        if (strcmp(action, acts[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* The department of an actor as it is now: an account's, an API key's ("key:NAME"), or ""
 * (system actors, unknown names). Cached per answer. */
static const char *dept_of(stats_ctx *c, const char *who)
{
    json_t *hit = json_object_get(c->depts, who);
    if (hit) {
        return json_string_value(hit);
    }
    const char *d = "";
    account acc;
    apikey k;
    if (strncmp(who, "key:", 4) == 0) {
        if (store_apikey_by_name(c->v->st, who + 4, &k) == ERR_OK) {
            d = k.department;
        }
    } else if (strchr(who, ':') == NULL && store_account_by_name(c->v->st, who, &acc) == ERR_OK) {
        mem_wipe(acc.pwhash, sizeof acc.pwhash);
        d = acc.department;
    }
    json_object_set_new(c->depts, who, json_string(d));
    return json_string_value(json_object_get(c->depts, who));
}

static err count_row(void *vctx, uint64_t index, slice entry, const uint8_t leaf[32])
{
    (void)leaf;
    stats_ctx *c = vctx;
    c->scanned++;
    c->last = index;
    json_t *e = json_loadb((const char *)entry.p, entry.len, 0, NULL);
    if (!e) {
        return ERR_OK; /* not ours to judge here: the verifier checks entries */
    }
    const char *ts = json_string_value(json_object_get(e, "ts"));
    const char *by = json_string_value(json_object_get(e, "actor"));
    const char *action = json_string_value(json_object_get(e, "action"));
    const char *decision = json_string_value(json_object_get(e, "decision"));
    int64_t us = 0;
    if (ts && by && action && decision && clock_parse_rfc3339(ts, &us) == ERR_OK) {
        int64_t day = local_day(us) - c->first_day;
        bool deny = strcmp(decision, "deny") == 0;
        bool access = !deny && is_access(action);
        bool refusal = deny && strcmp(action, "login") != 0 && strcmp(action, "session.check") != 0;
        if (day >= 0 && day < c->days && (access || refusal)) {
            const char *d = dept_of(c, by);
            if (!c->only_dept || strcmp(d, c->only_dept) == 0) {
                if (refusal) {
                    c->denied[day]++;
                } else if (d[0]) {
                    json_t *arr = json_object_get(c->accesses, d);
                    if (!arr) {
                        arr = json_array();
                        for (int i = 0; i < c->days; i++) {
                            json_array_append_new(arr, json_integer(0));
                        }
                        json_object_set_new(c->accesses, d, arr);
                    }
                    json_t *n = json_array_get(arr, (size_t)day);
                    json_integer_set(n, json_integer_value(n) + 1);
                }
            }
        }
    }
    json_decref(e);
    return ERR_OK;
}

/* One count at a time: a count reads up to DOOR_STATS_SCAN_MAX entries (seconds of one core),
 * so many at once from one dashboard-happy role must not tie up every server thread. Others
 * wait up to 5 s, then get 503 and retry. */
static pthread_mutex_t scan_mu = PTHREAD_MUTEX_INITIALIZER;

err door_stats_activity(vault *v, const actor *a, int days, int64_t now_us, json_t **out)
{
    *out = NULL;
    ENSURE(days >= 1 && days <= DOOR_STATS_DAYS_MAX, ERR_INPUT, "days must be 1 to %d",
           DOOR_STATS_DAYS_MAX);
    const char *rule = "audit.read";
    const char *only = NULL;
    bool mfa = (a->session_flags & SESSION_MFA_PENDING) != 0;
    if (a->via_key || mfa || !policy_can(a->role, CAP_AUDIT_READ)) {
        if (!a->via_key && !mfa && policy_can(a->role, CAP_REQUESTS_APPROVE)) {
            only = a->department;
            rule = "requests.approve";
        } else {
            return door_need(v, a, CAP_AUDIT_READ, "stats.activity");
        }
    }
    audit_entry ae;
    door_entry(&ae, a, "stats.activity", "allow", rule);
    char what[48];
    snprintf(what, sizeof what, "days=%d", days);
    ae.reason = what;
    TRY(audit_append(v->au, &ae, NULL));

    stats_ctx c;
    memset(&c, 0, sizeof c);
    c.v = v;
    c.only_dept = only;
    c.days = days;
    int64_t today = local_day(now_us);
    c.first_day = today - days + 1;
    c.depts = json_object();
    c.accesses = json_object();
    json_t *dates = json_array();
    json_t *denied = json_array();
    err rc = (c.depts && c.accesses && dates && denied)
                 ? ERR_OK
                 : err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
    bool truncated = false;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    int lk = rc == ERR_OK ? pthread_mutex_timedlock(&scan_mu, &until) : EINVAL;
    if (rc == ERR_OK && lk != 0) {
        rc = err_set(ERR_UNAVAILABLE, __FILE__, __LINE__,
                     "another count is under way; try again in a few seconds");
    }
    /* Day by day from today backwards, so that a log too long to read whole loses its oldest
     * days, never today. ts is in [from, to). */
    for (int i = days - 1; rc == ERR_OK && i >= 0 && !truncated; i--) {
        audit_query q;
        memset(&q, 0, sizeof q);
        q.from_us = (c.first_day + i) * DAY_US - ZONE_OFFSET_US;
        q.to_us = q.from_us + DAY_US;
        q.after = UINT64_MAX;
        q.limit = 1000;
        for (;;) {
            size_t n = 0;
            rc = audit_search(v->au, &q, count_row, &c, &n);
            if (rc != ERR_OK || n < q.limit) {
                break;
            }
            if (c.scanned >= DOOR_STATS_SCAN_MAX) {
                truncated = true;
                break;
            }
            q.after = c.last;
        }
    }
    if (lk == 0) {
        pthread_mutex_unlock(&scan_mu);
    }
    for (int i = 0; rc == ERR_OK && i < days; i++) {
        char ts[40];
        clock_rfc3339((c.first_day + i) * DAY_US, ts); /* midnight local = that UTC date */
        ts[10] = '\0';
        json_array_append_new(dates, json_string(ts));
        json_array_append_new(denied, json_integer(c.denied[i]));
    }
    if (rc == ERR_OK) {
        *out = json_pack("{s:s, s:o, s:o, s:o, s:I, s:b}", "zone", "+08:00", "days", dates,
                         "accesses", c.accesses, "denied", denied, "scanned", (json_int_t)c.scanned,
                         "truncated", truncated);
        dates = denied = c.accesses = NULL;
        if (!*out) {
            rc = err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
        }
    }
    json_decref(dates);
    json_decref(denied);
    json_decref(c.accesses);
    json_decref(c.depts);
    return rc;
}

void door_watch_departments(vault *v, json_t *list)
{
    stats_ctx c;
    memset(&c, 0, sizeof c);
    c.v = v;
    c.depts = json_object();
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(list, "violations"), i, row)
    {
        const char *u = json_string_value(json_object_get(row, "username"));
        const char *d = u && c.depts ? dept_of(&c, u) : "";
        if (d && d[0]) {
            json_object_set_new(row, "department", json_string(d));
        }
    }
    json_decref(c.depts);
}
