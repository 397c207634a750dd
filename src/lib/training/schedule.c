/*
 * schedule.c - the quarterly recertification cycle, computed in the vault's zone.
 * A quarter opens at local midnight of its first day; the course is due
 * due_days later; a pass certifies until the end of the grace period of the
 * next quarter. Zones are fixed offsets (no daylight saving time), so the same
 * instant gives the same cycle in every thread without touching TZ.
 * Civil dates: proleptic Gregorian (H. Hinnant's days_from_civil).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "training/training.h"

#define US_PER_S INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_S)

void tr_rules_default(tr_rules *r)
{
    r->zone_off_s = 8 * 3600;
    r->due_days = TR_DEFAULT_DUE_DAYS;
    r->grace_days = TR_DEFAULT_GRACE_DAYS;
    r->remind_days = TR_DEFAULT_REMIND_DAYS;
}

err tr_zone_parse(const char *name, int32_t *off_s)
{
    static const struct {
        const char *name;
        int32_t off;
    } Z[] = {{"UTC", 0},
             {"Etc/UTC", 0},
             {"Asia/Shanghai", 8 * 3600},
             {"Asia/Chongqing", 8 * 3600},
             {"Asia/Hong_Kong", 8 * 3600},
             {"Asia/Macau", 8 * 3600},
             {"Asia/Taipei", 8 * 3600},
             {"Asia/Singapore", 8 * 3600},
             {"Asia/Tokyo", 9 * 3600},
             {"Asia/Seoul", 9 * 3600}};
    ENSURE(name != NULL, ERR_INPUT, "zone: missing");
    for (size_t i = 0; i < sizeof Z / sizeof Z[0]; i++) {
        if (strcmp(name, Z[i].name) == 0) {
            *off_s = Z[i].off;
            return ERR_OK;
        }
    }
    /* "UTC+08:00", "UTC-05:30" */
    if (strlen(name) == 9 && strncmp(name, "UTC", 3) == 0 && (name[3] == '+' || name[3] == '-') &&
        name[6] == ':') {
        int h = 0, m = 0;
        for (int i = 4; i < 9; i++) {
            if (i != 6 && (name[i] < '0' || name[i] > '9')) {
                BAIL(ERR_INPUT, "zone: not a known zone or UTC+HH:MM");
            }
        }
        h = (name[4] - '0') * 10 + (name[5] - '0');
        m = (name[7] - '0') * 10 + (name[8] - '0');
        ENSURE(h <= 14 && m < 60, ERR_INPUT, "zone: offset out of range");
        *off_s = (name[3] == '-' ? -1 : 1) * (h * 3600 + m * 60);
        return ERR_OK;
    }
    BAIL(ERR_INPUT, "zone: not a known zone without daylight saving time, or UTC+HH:MM");
}

const char *tr_state_name(tr_state s)
{
    static const char *const N[] = {"future", "pending", "overdue", "certified", "expired"};
    return s >= TR_FUTURE && s <= TR_EXPIRED ? N[s] : "unknown";
}

int64_t tr_days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void tr_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

/* Floor division for negative instants. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* The UTC instant of local midnight starting day number `days` in the zone. */
static int64_t local_midnight_us(const tr_rules *r, int64_t days)
{
    return days * US_PER_DAY - (int64_t)r->zone_off_s * US_PER_S;
}

static int64_t local_day(const tr_rules *r, int64_t t_us)
{
    return floor_div(t_us + (int64_t)r->zone_off_s * US_PER_S, US_PER_DAY);
}

static void cycle_of_quarter(const tr_rules *r, int year, int quarter, tr_cycle *c)
{
    memset(c, 0, sizeof *c);
    c->year = year;
    c->quarter = quarter;
    unsigned m = (unsigned)(3 * (quarter - 1) + 1);
    int64_t d0 = tr_days_from_civil(year, m, 1);
    int64_t d1 =
        quarter == 4 ? tr_days_from_civil(year + 1, 1, 1) : tr_days_from_civil(year, m + 3, 1);
    c->opens_us = local_midnight_us(r, d0);
    c->due_us = local_midnight_us(r, d0 + r->due_days);
    c->grace_us = local_midnight_us(r, d0 + r->due_days + r->grace_days);
    c->closes_us = local_midnight_us(r, d1);
    snprintf(c->name, sizeof c->name, "%dQ%d", year, quarter);
}

void tr_cycle_at(const tr_rules *r, int64_t t_us, tr_cycle *out)
{
    int y;
    unsigned m, d;
    tr_civil_from_days(local_day(r, t_us), &y, &m, &d);
    cycle_of_quarter(r, y, (int)((m - 1) / 3 + 1), out);
}

int64_t tr_valid_until(const tr_rules *r, int64_t passed_us)
{
    if (passed_us <= 0) {
        return 0;
    }
    tr_cycle c, next;
    tr_cycle_at(r, passed_us, &c);
    tr_cycle_at(r, c.closes_us, &next);
    return next.grace_us;
}

tr_state tr_state_at(const tr_rules *r, int64_t starts_us, int64_t last_pass_us, int64_t now_us,
                     tr_cycle *cyc)
{
    tr_cycle c;
    if (now_us < starts_us) {
        tr_cycle_at(r, starts_us, &c);
        /* The first window opens when the assignment starts. */
        if (starts_us > c.opens_us) {
            int64_t d0 = local_day(r, starts_us);
            c.opens_us = starts_us;
            c.due_us = local_midnight_us(r, d0 + r->due_days);
            c.grace_us = local_midnight_us(r, d0 + r->due_days + r->grace_days);
        }
        *cyc = c;
        return TR_FUTURE;
    }
    tr_cycle_at(r, now_us, &c);
    if (starts_us > c.opens_us) {
        /* Assigned during this quarter: the window opens then, due_days after that day. */
        int64_t d0 = local_day(r, starts_us);
        c.opens_us = starts_us;
        c.due_us = local_midnight_us(r, d0 + r->due_days);
        c.grace_us = local_midnight_us(r, d0 + r->due_days + r->grace_days);
    }
    *cyc = c;
    tr_cycle q;
    tr_cycle_at(r, now_us, &q);
    if (last_pass_us >= q.opens_us && last_pass_us <= now_us) {
        return TR_CERTIFIED;
    }
    if (now_us < c.due_us) {
        return TR_PENDING;
    }
    return now_us < c.grace_us ? TR_OVERDUE : TR_EXPIRED;
}
