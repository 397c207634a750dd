/*
 * door_watch.h - figures for the console's dashboards, through the door: accesses to
 * customer data per day and department and refusals per day, counted from the audit log;
 * and the departments of the people in the violation register. Authorized and audited
 * like every other read (docs/API.md, "Statistics").
 */
#ifndef CUSTOS_DOOR_WATCH_H
#define CUSTOS_DOOR_WATCH_H

#include "door/door.h"

#define DOOR_STATS_DAYS_MAX 31
#define DOOR_STATS_SCAN_MAX 250000 /* audit entries read for one answer at most (a few s) */

/* GET /v1/stats/activity: the last `days` days (1..31, the vault's calendar, UTC+8) ending
 * today. The audit roles (audit.read) see every department; a data steward only their own.
 * Answers {"zone","days":[dates],"accesses":{dept:[n per day]},"denied":[n per day],
 * "scanned","truncated"}; *out is the caller's. The read is audited as stats.activity. */
MUST_USE err door_stats_activity(vault *v, const actor *a, int days, int64_t now_us, json_t **out);

/* Adds "department" (the account's or API key's, as it is now) to each row of a violation
 * list {"violations":[{"username",…}]} in place. Unknown names get none. */
void door_watch_departments(vault *v, json_t *list);

#endif
