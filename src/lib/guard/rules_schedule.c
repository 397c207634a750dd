/*
 * rules_schedule.c - the questions the detectors ask the parsed rules: is this customer a
 * honeytoken, is this moment off hours for this department (schedules, holidays, worked
 * weekend days), and local hours for the baselines.
 */
#include <stdlib.h>
#include <string.h>

#include "guard/rules_int.h"

int grules_str_cmp(const void *x, const void *y)
{
    return strcmp((const char *)x, (const char *)y);
}

bool grules_is_honeytoken(const guard_rules *r, const char *id)
{
    if (!id[0] || r->nhoneytokens == 0) {
        return false;
    }
    return bsearch(id, r->honeytokens, r->nhoneytokens, sizeof *r->honeytokens, grules_str_cmp) !=
           NULL;
}

static bool has_day(const int32_t *a, size_t n, int32_t d)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] == d) {
            return true;
        }
        if (a[mid] < d) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return false;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Monday = 0 of a day number (1970-01-01 was a Thursday). */
static int weekday(int64_t day)
{
    return (int)(((day % 7) + 7 + 3) % 7);
}

int64_t grules_local_hour(const guard_rules *r, int64_t t_us)
{
    return floor_div(floor_div(t_us, 1000000) + r->tz_offset_s, 3600);
}

int grules_hour_of_week(int64_t local_hour)
{
    int64_t day = floor_div(local_hour, 24);
    int wd = weekday(day);
    return wd * 24 + (int)(local_hour - day * 24);
}

bool grules_off_hours(const guard_rules *r, const char *dept, int64_t t_us)
{
    const gschedule *s = NULL;
    for (int i = 0; i < r->nsched; i++) {
        if (strcmp(r->sched[i].dept, dept) == 0) {
            s = &r->sched[i];
            break;
        }
        if (strcmp(r->sched[i].dept, "default") == 0) {
            s = s ? s : &r->sched[i];
        }
    }
    if (!s) {
        return false;
    }
    int64_t local_s = floor_div(t_us, 1000000) + r->tz_offset_s;
    int64_t day = floor_div(local_s, 86400);
    int minute = (int)((local_s - day * 86400) / 60);
    int wd = weekday(day);
    if (has_day(r->holidays, r->nholidays, (int32_t)day)) {
        return true;
    }
    if (has_day(r->workdays, r->nworkdays, (int32_t)day)) {
        wd = 0; /* worked like a Monday */
    }
    for (int i = 0; i < s->nspan[wd]; i++) {
        if (minute >= s->day[wd][i].from && minute < s->day[wd][i].to) {
            return false;
        }
    }
    return true;
}
