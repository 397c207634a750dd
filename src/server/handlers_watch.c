/*
 * handlers_watch.c - /v1/stats/activity: the figures behind the console's dashboards
 * (accesses per day and department, refusals per day). One door call, which authorizes and
 * audits.
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "door/door_watch.h"
#include "server/server.h"

bool handle_watch(server *s, request *r, response *out)
{
    if (strcmp(r->url, "/v1/stats/activity") != 0) {
        return false;
    }
    if (!req_method(r, "GET")) {
        response_error(out, ERR_INPUT, "method not allowed");
        return true;
    }
    const char *d = req_arg(r, "days");
    int days = 14;
    if (d) {
        size_t n = strlen(d);
        if (n == 0 || n > 2 || strspn(d, "0123456789") != n) {
            response_error(out, ERR_INPUT, "days must be a whole number from 1 to 31");
            return true;
        }
        days = atoi(d);
    }
    json_t *res = NULL;
    err e = door_stats_activity(s->v, &r->who, days, clock_now_us(), &res);
    if (e != ERR_OK) {
        json_decref(res);
        response_fail(out, e);
    } else {
        response_json(out, 200, res);
    }
    return true;
}
