/*
 * incident.h - the life of one incident, as rules on a plain value (no storage, no clock of
 * its own): opened from a playbook (its tasks with due times from awareness), phases after
 * NIST SP 800-61, tasks started and done only by the roles the playbook names and only once
 * the tasks before them are done, a timeline of every event, reminders and escalation of late
 * tasks, the hand-off times between teams, and closing only when every mandatory task is done
 * and a closing classification is given. The door stores the value (sealed) and audits each
 * change; a drill is an incident marked as such from its first moment.
 */
#ifndef CUSTOS_INCIDENT_INCIDENT_H
#define CUSTOS_INCIDENT_INCIDENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "incident/playbook.h"

#define INCIDENT_ID_MAX 40
#define INCIDENT_ACTOR_MAX 64
#define INCIDENT_NOTE_MAX 500
#define INCIDENT_MAX_EVENTS 1024

typedef enum inc_phase {
    PHASE_DETECTION,   /* detection and analysis */
    PHASE_CONTAINMENT, /* containment */
    PHASE_RECOVERY,    /* eradication and recovery */
    PHASE_POST,        /* post-incident activity */
    PHASE_CLOSED,
    PHASE__COUNT
} inc_phase;

typedef enum inc_closing {
    CLOSE_NONE,
    CLOSE_FALSE_POSITIVE,
    CLOSE_TRUE_NO_IMPACT,
    CLOSE_TRUE_IMPACT,
    CLOSE__COUNT
} inc_closing;

typedef enum task_state { TASK_OPEN, TASK_STARTED, TASK_DONE, TASK__STATES } task_state;

typedef struct inc_task {
    task_state state;
    int64_t due_us;
    int64_t started_us, done_us;
    int64_t reminded_us, escalated_us; /* when the reminder / escalation went out (0: not yet) */
    char started_by[INCIDENT_ACTOR_MAX + 1];
    char done_by[INCIDENT_ACTOR_MAX + 1];
    char note[INCIDENT_NOTE_MAX + 1];
} inc_task;

typedef enum inc_event_kind {
    EV_OPENED,
    EV_PHASE,
    EV_OWNER,
    EV_SEVERITY,
    EV_TASK_STARTED,
    EV_TASK_DONE,
    EV_REMINDED,
    EV_ESCALATED,
    EV_NOTE,
    EV_ACTION, /* a one-click containment action was taken */
    EV_CLOSED,
    EV_FILED, /* a report went to a regulator (its kind in `what`) */
    EV__COUNT
} inc_event_kind;

typedef struct inc_event {
    int64_t at_us;
    inc_event_kind kind;
    char actor[INCIDENT_ACTOR_MAX + 1];
    char what[INCIDENT_NOTE_MAX + 1]; /* names, ids and short texts; never a customer value */
} inc_event;

typedef struct incident {
    char id[INCIDENT_ID_MAX + 1];
    bool drill;
    playbook pb; /* a copy: later edits of the playbook file do not change an open incident */
    pb_severity severity;
    inc_phase phase;
    inc_closing closing;
    char owner[INCIDENT_ACTOR_MAX + 1];
    char source_alert[INCIDENT_ID_MAX + 1]; /* "" when opened by hand */
    int64_t aware_us, opened_us, closed_us;
    inc_task task[PLAYBOOK_MAX_TASKS];
    size_t nevents;
    inc_event *events; /* the timeline, oldest first */
} incident;

/* Who acts: their account name and role (access/policy.h). */
typedef struct inc_actor {
    const char *name;
    int role;
} inc_actor;

/* A new incident from playbook pb, aware at aware_us (<= now), opened at now by who. */
MUST_USE err incident_open(incident *inc, const char *id, const playbook *pb, int64_t aware_us,
                           int64_t now_us, const inc_actor *who, bool drill,
                           const char *source_alert);
void incident_free(incident *inc);

/* Task work: ERR_DENIED when who's role is not among the task's roles, ERR_CONFLICT when a task
 * named by `after` is not done, when the task is done already, or when the incident is closed;
 * ERR_NOT_FOUND for an unknown task. done implies started (at the same moment if it was not). */
MUST_USE err incident_task_start(incident *inc, const char *task, const inc_actor *who,
                                 int64_t now_us);
MUST_USE err incident_task_done(incident *inc, const char *task, const inc_actor *who,
                                const char *note, int64_t now_us);
/* Records a one-click action (the door has performed it and audited it). */
MUST_USE err incident_action(incident *inc, const char *task, pb_action a, const char *target,
                             const inc_actor *who, int64_t now_us);
MUST_USE err incident_note(incident *inc, const inc_actor *who, const char *note, int64_t now_us);
/* Phases move forward one step at a time, or back to any earlier phase (new findings send an
 * incident back to analysis); post-incident needs every mandatory technical task done. */
MUST_USE err incident_set_phase(incident *inc, inc_phase to, const inc_actor *who, int64_t now_us);
MUST_USE err incident_set_owner(incident *inc, const char *owner, const inc_actor *who,
                                int64_t now_us);
/* Closing needs every mandatory task done (ERR_CONFLICT names the first that is not). */
MUST_USE err incident_close(incident *inc, inc_closing how, const inc_actor *who, int64_t now_us);

/* Reminders and escalations due at now: for each open task that reaches its reminder time
 * (due - playbook remind) or its due time without a reminder or escalation sent yet, fn is
 * called (escalate=false: remind the task's roles; true: tell the playbook's escalate-to role
 * too) and the sending is recorded on the timeline. Returns how many in n. */
typedef err (*incident_late_fn)(void *ctx, const incident *inc, size_t task, bool escalate);
MUST_USE err incident_tick(incident *inc, int64_t now_us, incident_late_fn fn, void *ctx,
                           size_t *n);

/* The timings of the response: from awareness to each team's first task done, and each
 * hand-off between teams (a task whose `after` names another team's task: the time from the
 * last such task done to this task started). */
typedef struct inc_handoff {
    size_t from_task, to_task;
    int64_t wait_us;
} inc_handoff;
size_t incident_handoffs(const incident *inc, inc_handoff *out, size_t max);

/* JSON (the stored form and the API's): every field, tasks by playbook order, the timeline. */
json_t *incident_to_json(const incident *inc);
/* Reads what incident_to_json wrote; the playbook comes from pb_text (stored beside it).
 * ERR_INPUT naming the field on anything out of place. */
MUST_USE err incident_from_json(const json_t *j, const playbook *pb, incident *out);

/* ---- the regulators' clocks ---- */
typedef enum inc_report {
    REPORT_CAC_INITIAL, /* CAC: 4 hours from awareness (1 hour for critical infrastructure) */
    REPORT_GDPR_33, /* GDPR Art. 33: 72 hours from awareness, when people in the EU are concerned */
    REPORT_CAC_SUMMARY, /* CAC: 30 days from the end of the incident's handling */
    REPORT__COUNT
} inc_report;

typedef struct inc_deadline_opts {
    bool critical_infrastructure;
    bool eu_people; /* the scope holds people in the EU (GDPR applies) */
} inc_deadline_opts;

typedef struct inc_deadline {
    inc_report report;
    bool applies;
    int64_t due_us;   /* 0 while it cannot be known (the summary before the incident ends) */
    int64_t filed_us; /* 0: not filed yet */
    int64_t left_us;  /* due - now (negative: late); 0 when filed or unknown */
} inc_deadline;

const char *inc_report_name(inc_report r);
MUST_USE err inc_report_parse(const char *s, inc_report *out);
/* Records that a report was filed (once per kind). */
MUST_USE err incident_filed(incident *inc, inc_report r, const inc_actor *who, int64_t now_us);
/* The clocks at now, one per report kind, in inc_report order. */
void incident_deadlines(const incident *inc, const inc_deadline_opts *o, int64_t now_us,
                        inc_deadline out[REPORT__COUNT]);

const char *inc_phase_name(inc_phase p);
const char *inc_closing_name(inc_closing c);
MUST_USE err inc_phase_parse(const char *s, inc_phase *out);
MUST_USE err inc_closing_parse(const char *s, inc_closing *out);
const char *inc_event_name(inc_event_kind k);

#endif
