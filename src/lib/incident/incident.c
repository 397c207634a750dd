/*
 * incident.c - an incident's rules (incident.h): tasks, phases, timeline, reminders, hand-offs,
 * closing, and the JSON form it is stored and shown in.
 */
#include "incident/incident.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy.h"

static const char *const PHASE_NAMES[PHASE__COUNT] = {"detection", "containment", "recovery",
                                                      "post-incident", "closed"};
static const char *const CLOSING_NAMES[CLOSE__COUNT] = {
    "", "false-positive", "true-positive-no-impact", "true-positive-impact"};
static const char *const EVENT_NAMES[EV__COUNT] = {
    "opened",   "phase",     "owner", "severity", "task_started", "task_done",
    "reminded", "escalated", "note",  "action",   "closed",       "filed"};
static const char *const REPORT_NAMES[REPORT__COUNT] = {"cac-initial", "gdpr-33", "cac-summary"};
static const char *const STATE_NAMES[TASK__STATES] = {"open", "started", "done"};

const char *inc_phase_name(inc_phase p)
{
    return p < PHASE__COUNT ? PHASE_NAMES[p] : "none";
}
const char *inc_closing_name(inc_closing c)
{
    return c < CLOSE__COUNT ? CLOSING_NAMES[c] : "none";
}
const char *inc_event_name(inc_event_kind k)
{
    return k < EV__COUNT ? EVENT_NAMES[k] : "none";
}

err inc_phase_parse(const char *s, inc_phase *out)
{
    int v = pb_name_index(s ? s : "", PHASE_NAMES, PHASE__COUNT);
    ENSURE(v >= 0, ERR_INPUT,
           "unknown phase (detection, containment, recovery, post-incident, closed)");
    *out = (inc_phase)v;
    return ERR_OK;
}

err inc_closing_parse(const char *s, inc_closing *out)
{
    int v = pb_name_index(s ? s : "", CLOSING_NAMES, CLOSE__COUNT);
    ENSURE(v > 0, ERR_INPUT,
           "unknown closing classification (false-positive, true-positive-no-impact, "
           "true-positive-impact)");
    *out = (inc_closing)v;
    return ERR_OK;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static err event(incident *inc, int64_t at, inc_event_kind k, const char *actor, const char *fmt,
                 ...) PRINTF_LIKE(5, 6);
static err event(incident *inc, int64_t at, inc_event_kind k, const char *actor, const char *fmt,
                 ...)
{
    ENSURE(inc->nevents < INCIDENT_MAX_EVENTS, ERR_TOO_LARGE,
           "the incident's timeline is full (%d events)", INCIDENT_MAX_EVENTS);
    if (inc->nevents % 64 == 0) {
        inc_event *n = realloc(inc->events, (inc->nevents + 64) * sizeof *n);
        ENSURE(n != NULL, ERR_INTERNAL, "out of memory");
        inc->events = n;
    }
    inc_event *e = &inc->events[inc->nevents++];
    memset(e, 0, sizeof *e);
    e->at_us = at;
    e->kind = k;
    copy(e->actor, sizeof e->actor, actor);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->what, sizeof e->what, fmt, ap);
    va_end(ap);
    return ERR_OK;
}

err incident_open(incident *inc, const char *id, const playbook *pb, int64_t aware_us,
                  int64_t now_us, const inc_actor *who, bool drill, const char *source_alert)
{
    ENSURE(id && id[0] && strlen(id) <= INCIDENT_ID_MAX, ERR_INPUT, "bad incident id");
    ENSURE(aware_us > 0 && aware_us <= now_us, ERR_INPUT,
           "the moment of awareness must be known and not in the future");
    ENSURE(source_alert == NULL || strlen(source_alert) <= INCIDENT_ID_MAX, ERR_INPUT,
           "bad alert id");
    memset(inc, 0, sizeof *inc);
    copy(inc->id, sizeof inc->id, id);
    inc->drill = drill;
    inc->pb = *pb;
    inc->severity = pb->severity;
    inc->phase = PHASE_DETECTION;
    inc->aware_us = aware_us;
    inc->opened_us = now_us;
    copy(inc->owner, sizeof inc->owner, who->name);
    copy(inc->source_alert, sizeof inc->source_alert, source_alert);
    for (size_t i = 0; i < pb->ntasks; i++) {
        inc->task[i].due_us = aware_us + pb->task[i].due_s * 1000000;
    }
    err e =
        event(inc, now_us, EV_OPENED, who->name, "%s%s from playbook %s%s%s", drill ? "drill " : "",
              id, pb->id, inc->source_alert[0] ? ", alert " : "", inc->source_alert);
    if (e != ERR_OK) {
        incident_free(inc);
    }
    return e;
}

void incident_free(incident *inc)
{
    free(inc->events);
    inc->events = NULL;
    inc->nevents = 0;
}

static err find_task(const incident *inc, const char *task, size_t *i)
{
    int k = task ? playbook_task_index(&inc->pb, task) : -1;
    ENSURE(k >= 0, ERR_NOT_FOUND, "no such task in this incident");
    *i = (size_t)k;
    return ERR_OK;
}

static err may_work(const incident *inc, size_t i, const inc_actor *who)
{
    ENSURE(inc->phase != PHASE_CLOSED, ERR_CONFLICT, "the incident is closed");
    const pb_task *t = &inc->pb.task[i];
    ENSURE(who->role >= 0 && who->role < 32 && (t->roles & (1u << who->role)), ERR_DENIED,
           "task %s is for another role", t->id);
    ENSURE(inc->task[i].state != TASK_DONE, ERR_CONFLICT, "task %s is done already", t->id);
    for (size_t k = 0; k < inc->pb.ntasks; k++) {
        if ((t->after & (1ull << k)) && inc->task[k].state != TASK_DONE) {
            BAIL(ERR_CONFLICT, "task %s waits for task %s", t->id, inc->pb.task[k].id);
        }
    }
    return ERR_OK;
}

err incident_task_start(incident *inc, const char *task, const inc_actor *who, int64_t now_us)
{
    size_t i;
    TRY(find_task(inc, task, &i));
    TRY(may_work(inc, i, who));
    inc_task *t = &inc->task[i];
    ENSURE(t->state == TASK_OPEN, ERR_CONFLICT, "task %s is started already", task);
    TRY(event(inc, now_us, EV_TASK_STARTED, who->name, "%s", task));
    t->state = TASK_STARTED;
    t->started_us = now_us;
    copy(t->started_by, sizeof t->started_by, who->name);
    return ERR_OK;
}

err incident_task_done(incident *inc, const char *task, const inc_actor *who, const char *note,
                       int64_t now_us)
{
    size_t i;
    TRY(find_task(inc, task, &i));
    TRY(may_work(inc, i, who));
    ENSURE(note == NULL || strlen(note) <= INCIDENT_NOTE_MAX, ERR_TOO_LARGE,
           "note longer than %d bytes", INCIDENT_NOTE_MAX);
    inc_task *t = &inc->task[i];
    TRY(event(inc, now_us, EV_TASK_DONE, who->name, "%s", task));
    if (t->state == TASK_OPEN) {
        t->started_us = now_us;
        copy(t->started_by, sizeof t->started_by, who->name);
    }
    t->state = TASK_DONE;
    t->done_us = now_us;
    copy(t->done_by, sizeof t->done_by, who->name);
    copy(t->note, sizeof t->note, note);
    return ERR_OK;
}

err incident_action(incident *inc, const char *task, pb_action a, const char *target,
                    const inc_actor *who, int64_t now_us)
{
    size_t i;
    TRY(find_task(inc, task, &i));
    ENSURE(inc->phase != PHASE_CLOSED, ERR_CONFLICT, "the incident is closed");
    const pb_task *t = &inc->pb.task[i];
    ENSURE(a < PBA__COUNT && (t->actions & (1u << a)), ERR_INPUT,
           "task %s does not offer that action", t->id);
    ENSURE(who->role >= 0 && who->role < 32 && (t->roles & (1u << who->role)), ERR_DENIED,
           "task %s is for another role", t->id);
    TRY(event(inc, now_us, EV_ACTION, who->name, "%s %s %s", task, pb_action_name(a),
              target ? target : ""));
    if (inc->task[i].state == TASK_OPEN) {
        inc->task[i].state = TASK_STARTED;
        inc->task[i].started_us = now_us;
        copy(inc->task[i].started_by, sizeof inc->task[i].started_by, who->name);
    }
    return ERR_OK;
}

err incident_note(incident *inc, const inc_actor *who, const char *note, int64_t now_us)
{
    ENSURE(note && note[0], ERR_INPUT, "empty note");
    ENSURE(strlen(note) <= INCIDENT_NOTE_MAX, ERR_TOO_LARGE, "note longer than %d bytes",
           INCIDENT_NOTE_MAX);
    return event(inc, now_us, EV_NOTE, who->name, "%s", note);
}

static bool team_done(const incident *inc, pb_team team, size_t *missing)
{
    for (size_t i = 0; i < inc->pb.ntasks; i++) {
        if (inc->pb.task[i].team == team && inc->pb.task[i].mandatory &&
            inc->task[i].state != TASK_DONE) {
            *missing = i;
            return false;
        }
    }
    return true;
}

err incident_set_phase(incident *inc, inc_phase to, const inc_actor *who, int64_t now_us)
{
    ENSURE(inc->phase != PHASE_CLOSED, ERR_CONFLICT, "the incident is closed");
    ENSURE(to < PHASE_CLOSED, ERR_INPUT, "an incident is closed by closing it");
    ENSURE(to != inc->phase, ERR_CONFLICT, "the incident is in that phase already");
    ENSURE(to < inc->phase || to == inc->phase + 1, ERR_CONFLICT,
           "phases move one step forward (from %s the next is %s)", PHASE_NAMES[inc->phase],
           PHASE_NAMES[inc->phase + 1]);
    size_t m;
    ENSURE(to != PHASE_POST || team_done(inc, PB_TECHNICAL, &m), ERR_CONFLICT,
           "post-incident waits for technical task %s", inc->pb.task[m].id);
    TRY(event(inc, now_us, EV_PHASE, who->name, "%s -> %s", PHASE_NAMES[inc->phase],
              PHASE_NAMES[to]));
    inc->phase = to;
    return ERR_OK;
}

err incident_set_owner(incident *inc, const char *owner, const inc_actor *who, int64_t now_us)
{
    ENSURE(inc->phase != PHASE_CLOSED, ERR_CONFLICT, "the incident is closed");
    ENSURE(owner && owner[0] && strlen(owner) <= INCIDENT_ACTOR_MAX, ERR_INPUT, "bad owner");
    TRY(event(inc, now_us, EV_OWNER, who->name, "%s -> %s", inc->owner, owner));
    copy(inc->owner, sizeof inc->owner, owner);
    return ERR_OK;
}

err incident_close(incident *inc, inc_closing how, const inc_actor *who, int64_t now_us)
{
    ENSURE(inc->phase != PHASE_CLOSED, ERR_CONFLICT, "the incident is closed already");
    ENSURE(how > CLOSE_NONE && how < CLOSE__COUNT, ERR_INPUT,
           "closing needs a classification (false-positive, true-positive-no-impact, "
           "true-positive-impact)");
    for (size_t i = 0; i < inc->pb.ntasks; i++) {
        ENSURE(!inc->pb.task[i].mandatory || inc->task[i].state == TASK_DONE, ERR_CONFLICT,
               "mandatory task %s is not done", inc->pb.task[i].id);
    }
    TRY(event(inc, now_us, EV_CLOSED, who->name, "%s", CLOSING_NAMES[how]));
    inc->phase = PHASE_CLOSED;
    inc->closing = how;
    inc->closed_us = now_us;
    return ERR_OK;
}

err incident_tick(incident *inc, int64_t now_us, incident_late_fn fn, void *ctx, size_t *n)
{
    *n = 0;
    if (inc->phase == PHASE_CLOSED) {
        return ERR_OK;
    }
    for (size_t i = 0; i < inc->pb.ntasks; i++) {
        inc_task *t = &inc->task[i];
        if (t->state == TASK_DONE) {
            continue;
        }
        if (now_us >= t->due_us && t->escalated_us == 0) {
            TRY(fn(ctx, inc, i, true));
            TRY(event(inc, now_us, EV_ESCALATED, "custos", "%s late, told %s", inc->pb.task[i].id,
                      role_name((role)inc->pb.escalate_to)));
            t->escalated_us = now_us;
            if (t->reminded_us == 0) {
                t->reminded_us = now_us;
            }
            (*n)++;
        } else if (now_us < t->due_us && now_us >= t->due_us - inc->pb.remind_s * 1000000 &&
                   t->reminded_us == 0) {
            TRY(fn(ctx, inc, i, false));
            TRY(event(inc, now_us, EV_REMINDED, "custos", "%s due soon", inc->pb.task[i].id));
            t->reminded_us = now_us;
            (*n)++;
        }
    }
    return ERR_OK;
}

size_t incident_handoffs(const incident *inc, inc_handoff *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < inc->pb.ntasks; i++) {
        const pb_task *t = &inc->pb.task[i];
        if (inc->task[i].state == TASK_OPEN || t->after == 0) {
            continue;
        }
        /* The hand-off comes from the last of the earlier tasks to finish. */
        size_t from = SIZE_MAX;
        int64_t ready = 0;
        for (size_t k = 0; k < inc->pb.ntasks; k++) {
            if ((t->after & (1ull << k)) && inc->task[k].done_us >= ready) {
                ready = inc->task[k].done_us;
                from = k;
            }
        }
        if (from == SIZE_MAX || inc->pb.task[from].team == t->team) {
            continue;
        }
        if (n < max) {
            out[n] = (inc_handoff){from, i, inc->task[i].started_us - ready};
        }
        n++;
    }
    return n;
}

/* ---- the regulators' clocks ---- */

const char *inc_report_name(inc_report r)
{
    return r < REPORT__COUNT ? REPORT_NAMES[r] : "none";
}

err inc_report_parse(const char *s, inc_report *out)
{
    int v = pb_name_index(s ? s : "", REPORT_NAMES, REPORT__COUNT);
    ENSURE(v >= 0, ERR_INPUT, "unknown report (cac-initial, gdpr-33, cac-summary)");
    *out = (inc_report)v;
    return ERR_OK;
}

static int64_t filed_at(const incident *inc, inc_report r)
{
    for (size_t i = 0; i < inc->nevents; i++) {
        if (inc->events[i].kind == EV_FILED && strcmp(inc->events[i].what, REPORT_NAMES[r]) == 0) {
            return inc->events[i].at_us;
        }
    }
    return 0;
}

err incident_filed(incident *inc, inc_report r, const inc_actor *who, int64_t now_us)
{
    ENSURE(r < REPORT__COUNT, ERR_INPUT, "unknown report");
    ENSURE(filed_at(inc, r) == 0, ERR_CONFLICT, "the %s report was filed already", REPORT_NAMES[r]);
    ENSURE(r != REPORT_CAC_SUMMARY || inc->phase >= PHASE_POST, ERR_CONFLICT,
           "the summary report follows the end of the handling (post-incident)");
    return event(inc, now_us, EV_FILED, who->name, "%s", REPORT_NAMES[r]);
}

/* The end of the handling: the move into post-incident, or the closing. */
static int64_t handling_ended(const incident *inc)
{
    for (size_t i = 0; i < inc->nevents; i++) {
        if ((inc->events[i].kind == EV_PHASE && strstr(inc->events[i].what, "-> post-incident")) ||
            inc->events[i].kind == EV_CLOSED) {
            return inc->events[i].at_us;
        }
    }
    return 0;
}

void incident_deadlines(const incident *inc, const inc_deadline_opts *o, int64_t now_us,
                        inc_deadline out[REPORT__COUNT])
{
    int64_t hour = 3600 * 1000000LL;
    int64_t end = handling_ended(inc);
    int64_t due[REPORT__COUNT] = {
        inc->aware_us + (o->critical_infrastructure ? 1 : 4) * hour,
        inc->aware_us + 72 * hour,
        end ? end + 30 * 24 * hour : 0,
    };
    bool applies[REPORT__COUNT] = {inc->closing != CLOSE_FALSE_POSITIVE,
                                   o->eu_people && inc->closing != CLOSE_FALSE_POSITIVE,
                                   inc->closing != CLOSE_FALSE_POSITIVE};
    for (int r = 0; r < REPORT__COUNT; r++) {
        int64_t f = filed_at(inc, (inc_report)r);
        out[r] = (inc_deadline){(inc_report)r, applies[r], due[r], f,
                                f || !due[r] ? 0 : due[r] - now_us};
    }
}

/* ---- JSON ---- */

json_t *incident_to_json(const incident *inc)
{
    json_t *tasks = json_array(), *events = json_array();
    for (size_t i = 0; i < inc->pb.ntasks; i++) {
        const inc_task *t = &inc->task[i];
        const pb_task *p = &inc->pb.task[i];
        json_array_append_new(
            tasks,
            json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s}", "id", p->id,
                      "team", pb_team_name(p->team), "state", STATE_NAMES[t->state], "mandatory",
                      p->mandatory, "due_us", (json_int_t)t->due_us, "started_us",
                      (json_int_t)t->started_us, "done_us", (json_int_t)t->done_us, "reminded_us",
                      (json_int_t)t->reminded_us, "escalated_us", (json_int_t)t->escalated_us,
                      "started_by", t->started_by, "done_by", t->done_by, "note", t->note));
    }
    for (size_t i = 0; i < inc->nevents; i++) {
        const inc_event *e = &inc->events[i];
        json_array_append_new(events, json_pack("{s:I, s:s, s:s, s:s}", "at_us",
                                                (json_int_t)e->at_us, "kind", EVENT_NAMES[e->kind],
                                                "actor", e->actor, "what", e->what));
    }
    return json_pack("{s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o}", "id",
                     inc->id, "drill", inc->drill, "playbook", inc->pb.id, "severity",
                     pb_severity_name(inc->severity), "phase", PHASE_NAMES[inc->phase], "closing",
                     CLOSING_NAMES[inc->closing], "owner", inc->owner, "source_alert",
                     inc->source_alert, "aware_us", (json_int_t)inc->aware_us, "opened_us",
                     (json_int_t)inc->opened_us, "closed_us", (json_int_t)inc->closed_us, "tasks",
                     tasks, "timeline", events);
}

static err get_str(const json_t *o, const char *k, char *dst, size_t cap)
{
    const json_t *v = json_object_get(o, k);
    ENSURE(json_is_string(v), ERR_INPUT, "incident: field '%s' is not a string", k);
    ENSURE(json_string_length(v) < cap, ERR_INPUT, "incident: field '%s' too long", k);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return ERR_OK;
}

static err get_int(const json_t *o, const char *k, int64_t *out)
{
    const json_t *v = json_object_get(o, k);
    ENSURE(json_is_integer(v) && json_integer_value(v) >= 0, ERR_INPUT,
           "incident: field '%s' is not a time", k);
    *out = json_integer_value(v);
    return ERR_OK;
}

static err get_enum(const json_t *o, const char *k, const char *const *names, int n, int *out)
{
    char s[40];
    TRY(get_str(o, k, s, sizeof s));
    for (int i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return ERR_OK;
        }
    }
    BAIL(ERR_INPUT, "incident: field '%s' has an unknown value", k);
}

static err task_from_json(const json_t *o, const pb_task *p, inc_task *t)
{
    char id[PLAYBOOK_ID_MAX + 1];
    int st = 0;
    ENSURE(json_is_object(o), ERR_INPUT, "incident: a task is not an object");
    TRY(get_str(o, "id", id, sizeof id));
    ENSURE(strcmp(id, p->id) == 0, ERR_INPUT, "incident: tasks out of the playbook's order");
    TRY(get_enum(o, "state", STATE_NAMES, TASK__STATES, &st));
    t->state = (task_state)st;
    TRY(get_int(o, "due_us", &t->due_us));
    TRY(get_int(o, "started_us", &t->started_us));
    TRY(get_int(o, "done_us", &t->done_us));
    TRY(get_int(o, "reminded_us", &t->reminded_us));
    TRY(get_int(o, "escalated_us", &t->escalated_us));
    TRY(get_str(o, "started_by", t->started_by, sizeof t->started_by));
    TRY(get_str(o, "done_by", t->done_by, sizeof t->done_by));
    return get_str(o, "note", t->note, sizeof t->note);
}

static err from_json(const json_t *j, const playbook *pb, incident *out)
{
    ENSURE(json_is_object(j), ERR_INPUT, "incident: not an object");
    char pbid[PLAYBOOK_ID_MAX + 1];
    TRY(get_str(j, "playbook", pbid, sizeof pbid));
    ENSURE(strcmp(pbid, pb->id) == 0, ERR_INPUT, "incident: made from another playbook");
    out->pb = *pb;
    TRY(get_str(j, "id", out->id, sizeof out->id));
    const json_t *d = json_object_get(j, "drill");
    ENSURE(json_is_boolean(d), ERR_INPUT, "incident: field 'drill' is not a boolean");
    out->drill = json_is_true(d);
    int v = 0;
    TRY(get_enum(j, "severity", (const char *const[]){"low", "medium", "high", "critical"}, 4, &v));
    out->severity = (pb_severity)v;
    TRY(get_enum(j, "phase", PHASE_NAMES, PHASE__COUNT, &v));
    out->phase = (inc_phase)v;
    TRY(get_enum(j, "closing", CLOSING_NAMES, CLOSE__COUNT, &v));
    out->closing = (inc_closing)v;
    ENSURE((out->phase == PHASE_CLOSED) == (out->closing != CLOSE_NONE), ERR_INPUT,
           "incident: closing classification and phase disagree");
    TRY(get_str(j, "owner", out->owner, sizeof out->owner));
    TRY(get_str(j, "source_alert", out->source_alert, sizeof out->source_alert));
    TRY(get_int(j, "aware_us", &out->aware_us));
    TRY(get_int(j, "opened_us", &out->opened_us));
    TRY(get_int(j, "closed_us", &out->closed_us));
    const json_t *tasks = json_object_get(j, "tasks");
    ENSURE(json_is_array(tasks) && json_array_size(tasks) == pb->ntasks, ERR_INPUT,
           "incident: tasks do not match the playbook");
    for (size_t i = 0; i < pb->ntasks; i++) {
        TRY(task_from_json(json_array_get(tasks, i), &pb->task[i], &out->task[i]));
    }
    const json_t *ev = json_object_get(j, "timeline");
    ENSURE(json_is_array(ev) && json_array_size(ev) <= INCIDENT_MAX_EVENTS, ERR_INPUT,
           "incident: field 'timeline' is not a list of events");
    for (size_t i = 0; i < json_array_size(ev); i++) {
        const json_t *e = json_array_get(ev, i);
        ENSURE(json_is_object(e), ERR_INPUT, "incident: an event is not an object");
        int64_t at;
        int k = 0;
        char actor[INCIDENT_ACTOR_MAX + 1], what[INCIDENT_NOTE_MAX + 1];
        TRY(get_int(e, "at_us", &at));
        TRY(get_enum(e, "kind", EVENT_NAMES, EV__COUNT, &k));
        TRY(get_str(e, "actor", actor, sizeof actor));
        TRY(get_str(e, "what", what, sizeof what));
        TRY(event(out, at, (inc_event_kind)k, actor, "%s", what));
    }
    return ERR_OK;
}

err incident_from_json(const json_t *j, const playbook *pb, incident *out)
{
    memset(out, 0, sizeof *out);
    err e = from_json(j, pb, out);
    if (e != ERR_OK) {
        incident_free(out);
    }
    return e;
}
