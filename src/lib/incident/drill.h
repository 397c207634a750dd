/*
 * drill.h - what a drill measures and the after-action report (NIST SP 800-84) that compares it
 * with the drills before it. The timings come from the drill incident's own timeline and from
 * the guard's alert (when it was raised and acknowledged); nothing is typed in by hand.
 */
#ifndef CUSTOS_INCIDENT_DRILL_H
#define CUSTOS_INCIDENT_DRILL_H

#include "core/buf.h"
#include "core/err.h"
#include "incident/incident.h"

typedef enum drill_step {
    DS_DETECT,   /* injection -> the guard's alert */
    DS_ACK,      /* alert -> acknowledged */
    DS_DECIDE,   /* alert -> the containment task started (the decision) */
    DS_CONTAIN,  /* alert -> the first containment action taken */
    DS_EVIDENCE, /* awareness -> the evidence bundle task done */
    DS_NOTICES,  /* awareness -> the customer notices task done */
    DS_REPORT,   /* awareness -> the regulator report (filed, or its task done) */
    DS__COUNT
} drill_step;

typedef struct drill_timing {
    int64_t injected_us, alert_us, acked_us; /* from the drill run and the guard */
    int64_t step_us[DS__COUNT];              /* -1: not reached */
    size_t nhandoffs;
    inc_handoff handoff[PLAYBOOK_MAX_TASKS];
} drill_timing;

const char *drill_step_name(drill_step s);
/* The timings of a drill incident. ERR_INPUT when inc is not a drill. */
MUST_USE err drill_timings(const incident *inc, int64_t injected_us, int64_t alert_us,
                           int64_t acked_us, drill_timing *out);

/* The after-action report, in zh-CN (lang PB_ZH) or English: scope, objectives, observations
 * (each step against the playbook's due times, each hand-off, what was late), timings, a
 * comparison with the earlier drills given (oldest first, may be none), and recommendations
 * drawn from what was slow. Plain text, ready for pdf_render. */
MUST_USE err drill_report(const incident *inc, const drill_timing *t, const drill_timing *earlier,
                          size_t nearlier, pb_lang lang, buf *out);

#endif
