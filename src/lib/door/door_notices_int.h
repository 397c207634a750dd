/*
 * door_notices_int.h - what the notices (door_notices.c) need of the stored incident
 * (door_incident.c): the incident, its stored scope and the "notices" member of its sealed
 * body (approvals, the teams' texts, the records per customer), read, or changed under the
 * incident row's compare-and-set.
 */
#ifndef CUSTOS_DOOR_NOTICES_INT_H
#define CUSTOS_DOOR_NOTICES_INT_H

#include <jansson.h>

#include "door_int.h"
#include "incident/incident.h"

/* fn sees the incident, its stored scope ({"scope":{customers:[...]},...}; NULL when not
 * computed) and the current "notices" member (NULL when none); with write, a *next it sets
 * replaces the member (fn may be called again on a fresher copy when another change came
 * first). An error from fn is returned and nothing is written. */
typedef err (*door_notices_fn)(void *ctx, const incident *inc, const json_t *scope,
                               const json_t *notices, json_t **next);
MUST_USE err door_incident_notices(vault *v, const char *id, bool write, door_notices_fn fn,
                                   void *ctx);

/* The vault's zone as notices.json sets it (tz_offset_s, tz_label; Asia/Shanghai by default),
 * for the incident's own reports. */
/* notices.json (0600, owner only), or {} when there is none. */
MUST_USE err door_notices_cfg_load(vault *v, json_t **out);
MUST_USE err door_notices_zone(vault *v, pb_lang l, int32_t *offset_s, char *label, size_t cap);

#endif
