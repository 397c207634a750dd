/*
 * incident_test.c - an incident's rules on the shipped playbook "customer data read by someone
 * who should not have": who may do which task and in what order, phases, reminders and
 * escalation sent once at the right moments, hand-off times, closing, and the stored form.
 */
#include <string.h>

#include "incident_fixture.h"

static incident *open_one(bool drill)
{
    incident *inc = calloc(1, sizeof *inc);
    EXPECT_OK(incident_open(inc, "INC-1", pb, T0, T0 + 60 * S, &SEC, drill, "alert-9"));
    return inc;
}

static void done(incident *inc, const char *t, const inc_actor *who, int64_t at)
{
    EXPECT_OK(incident_task_done(inc, t, who, "ok", at));
}

TEST(t_open)
{
    incident *inc = open_one(false);
    EXPECT_INT(inc->phase, PHASE_DETECTION);
    EXPECT_STR(inc->owner, "security1");
    EXPECT_STR(inc->source_alert, "alert-9");
    /* Due times count from awareness, not from opening. */
    EXPECT_INT(inc->task[playbook_task_index(pb, "contain")].due_us, T0 + 30 * 60 * S);
    EXPECT_INT(inc->task[playbook_task_index(pb, "regulator-initial")].due_us, T0 + 4 * 3600 * S);
    EXPECT_INT(inc->nevents, 1);
    EXPECT(strstr(inc->events[0].what, "INC-1 from playbook customer-data-misread, alert alert-9"));
    incident_free(inc);
    free(inc);
    incident x;
    EXPECT_ERR(incident_open(&x, "INC-2", pb, T0 + 1, T0, &SEC, false, NULL), ERR_INPUT);
    EXPECT_ERR(incident_open(&x, "", pb, T0, T0, &SEC, false, NULL), ERR_INPUT);
}

TEST(t_roles_and_order)
{
    incident *inc = open_one(false);
    /* Containment is security's; admin (who reads no customer) cannot do it, nor legal. */
    EXPECT_ERR(incident_task_start(inc, "contain", &ADMIN, T0 + 61 * S), ERR_DENIED);
    EXPECT_ERR(incident_task_done(inc, "contain", &LEGAL, NULL, T0 + 61 * S), ERR_DENIED);
    /* The scope waits for containment; the evidence for the scope. */
    EXPECT_ERR(incident_task_start(inc, "scope", &SEC, T0 + 61 * S), ERR_CONFLICT);
    EXPECT_STR(err_message(), "task scope waits for task contain");
    EXPECT_ERR(incident_task_start(inc, "nope", &SEC, T0), ERR_NOT_FOUND);
    EXPECT_OK(incident_task_start(inc, "contain", &SEC, T0 + 2 * 60 * S));
    EXPECT_ERR(incident_task_start(inc, "contain", &SEC, T0 + 2 * 60 * S), ERR_CONFLICT);
    EXPECT_OK(
        incident_action(inc, "contain", PBA_LOCK_ACCOUNT, "account:sales9", &SEC, T0 + 3 * 60 * S));
    EXPECT_ERR(incident_action(inc, "contain", PBA_SEAL_VAULT, NULL, &SEC, T0), ERR_INPUT);
    EXPECT_ERR(incident_action(inc, "evidence", PBA_EVIDENCE_BUNDLE, NULL, &SEC, T0), ERR_DENIED);
    done(inc, "contain", &SEC, T0 + 10 * 60 * S);
    EXPECT_ERR(incident_task_done(inc, "contain", &SEC, NULL, T0 + 11 * 60 * S), ERR_CONFLICT);
    /* The auditor may compute the scope too. */
    done(inc, "scope", &AUD, T0 + 20 * 60 * S);
    EXPECT_INT(inc->task[playbook_task_index(pb, "scope")].started_us, T0 + 20 * 60 * S);
    EXPECT_STR(inc->task[playbook_task_index(pb, "scope")].done_by, "auditor1");
    incident_free(inc);
    free(inc);
}

TEST(t_phases_and_closing)
{
    incident *inc = open_one(false);
    EXPECT_ERR(incident_set_phase(inc, PHASE_RECOVERY, &SEC, T0), ERR_CONFLICT);
    EXPECT_OK(incident_set_phase(inc, PHASE_CONTAINMENT, &SEC, T0 + 61 * S));
    EXPECT_OK(incident_set_phase(inc, PHASE_RECOVERY, &SEC, T0 + 62 * S));
    EXPECT_ERR(incident_set_phase(inc, PHASE_POST, &SEC, T0 + 63 * S), ERR_CONFLICT);
    EXPECT_STR(err_message(), "post-incident waits for technical task contain");
    EXPECT_OK(incident_set_phase(inc, PHASE_DETECTION, &SEC, T0 + 64 * S)); /* back: allowed */
    EXPECT_ERR(incident_close(inc, CLOSE_TRUE_IMPACT, &SEC, T0 + 65 * S), ERR_CONFLICT);
    EXPECT_STR(err_message(), "mandatory task contain is not done");
    int64_t t = T0 + 100 * S;
    done(inc, "contain", &SEC, t += S);
    done(inc, "scope", &SEC, t += S);
    done(inc, "evidence", &LEGAL, t += S);
    done(inc, "legal-risk", &LEGAL, t += S);
    done(inc, "regulator-initial", &LEGAL, t += S);
    done(inc, "department-exposure", &STEW, t += S);
    done(inc, "notices", &SVC, t += S);
    EXPECT_ERR(incident_close(inc, CLOSE_TRUE_IMPACT, &SEC, t), ERR_CONFLICT);
    EXPECT_STR(err_message(), "mandatory task regulator-summary is not done");
    done(inc, "regulator-summary", &LEGAL, t += S);
    /* Optional tasks (seal-decision, statement) do not hold the closing up; a class is needed. */
    EXPECT_ERR(incident_close(inc, CLOSE_NONE, &SEC, t), ERR_INPUT);
    EXPECT_OK(incident_close(inc, CLOSE_TRUE_IMPACT, &SEC, t += S));
    EXPECT_INT(inc->phase, PHASE_CLOSED);
    EXPECT_ERR(incident_task_done(inc, "statement", &LEGAL, NULL, t), ERR_CONFLICT);
    EXPECT_ERR(incident_note(inc, &SEC, "late", t), ERR_OK);
    EXPECT_ERR(incident_close(inc, CLOSE_TRUE_IMPACT, &SEC, t), ERR_CONFLICT);
    incident_free(inc);
    free(inc);
}

typedef struct late {
    int reminded, escalated;
    char last[64];
} late;

static err on_late(void *ctx, const incident *inc, size_t task, bool escalate)
{
    late *l = ctx;
    escalate ? l->escalated++ : l->reminded++;
    snprintf(l->last, sizeof l->last, "%s", inc->pb.task[task].id);
    return ERR_OK;
}

TEST(t_reminders_and_escalation)
{
    incident *inc = open_one(false);
    late l = {0};
    size_t n;
    /* contain is due at +30 min, reminded 15 min before (the playbook's `remind 15m`). */
    EXPECT_OK(incident_tick(inc, T0 + 14 * 60 * S, on_late, &l, &n));
    EXPECT_INT(n, 0);
    EXPECT_OK(incident_tick(inc, T0 + 15 * 60 * S, on_late, &l, &n));
    EXPECT_INT(n, 1);
    EXPECT_STR(l.last, "contain");
    EXPECT_OK(incident_tick(inc, T0 + 20 * 60 * S, on_late, &l, &n)); /* not twice */
    EXPECT_INT(n, 0);
    EXPECT_OK(incident_tick(inc, T0 + 30 * 60 * S, on_late, &l, &n));
    EXPECT_INT(l.escalated, 1);
    EXPECT_OK(incident_tick(inc, T0 + 31 * 60 * S, on_late, &l, &n));
    EXPECT_INT(l.escalated, 1);
    /* A done task is never reminded; the timeline says who was told. */
    done(inc, "contain", &SEC, T0 + 32 * 60 * S);
    bool escalated_event = false;
    for (size_t i = 0; i < inc->nevents; i++) {
        escalated_event |= inc->events[i].kind == EV_ESCALATED &&
                           strcmp(inc->events[i].what, "contain late, told security") == 0;
    }
    EXPECT(escalated_event);
    /* Jumping a day ahead: every open task gets exactly one call. */
    l = (late){0};
    EXPECT_OK(incident_tick(inc, T0 + 86400 * S, on_late, &l, &n));
    EXPECT_INT(n, pb->ntasks - 2); /* all but contain (done) and regulator-summary (30 days) */
    incident_free(inc);
    free(inc);
}

TEST(t_handoffs)
{
    incident *inc = open_one(true);
    done(inc, "contain", &SEC, T0 + 10 * 60 * S);
    done(inc, "scope", &SEC, T0 + 20 * 60 * S);
    /* Legal starts the evidence 25 minutes after the scope was ready: a slow hand-off. */
    EXPECT_OK(incident_task_start(inc, "evidence", &LEGAL, T0 + 45 * 60 * S));
    done(inc, "evidence", &LEGAL, T0 + 50 * 60 * S);
    inc_handoff h[8];
    size_t n = incident_handoffs(inc, h, 8);
    EXPECT_INT(n, 1); /* contain -> scope is within one team */
    EXPECT_INT(h[0].from_task, playbook_task_index(pb, "scope"));
    EXPECT_INT(h[0].to_task, playbook_task_index(pb, "evidence"));
    EXPECT_INT(h[0].wait_us, 25 * 60 * S);
    incident_free(inc);
    free(inc);
}

TEST(t_json_round_trip)
{
    incident *inc = open_one(true);
    done(inc, "contain", &SEC, T0 + 10 * 60 * S);
    EXPECT_OK(incident_note(inc, &LEGAL, "证据已固定 ✓", T0 + 11 * 60 * S));
    EXPECT_OK(incident_set_phase(inc, PHASE_CONTAINMENT, &SEC, T0 + 12 * 60 * S));
    json_t *j = incident_to_json(inc);
    EXPECT(j != NULL);
    char *s1 = json_dumps(j, JSON_SORT_KEYS);
    incident *back = calloc(1, sizeof *back);
    EXPECT_OK(incident_from_json(j, pb, back));
    json_t *j2 = incident_to_json(back);
    char *s2 = json_dumps(j2, JSON_SORT_KEYS);
    EXPECT_STR(s1, s2);
    EXPECT(back->drill);
    EXPECT_INT(back->nevents, inc->nevents);
    /* Anything out of place is refused, naming the field. */
    json_object_set_new(j, "phase", json_string("party"));
    incident tmp;
    EXPECT_ERR(incident_from_json(j, pb, &tmp), ERR_INPUT);
    EXPECT_STR(err_message(), "incident: field 'phase' has an unknown value");
    json_object_set_new(j, "phase", json_string("closed"));
    EXPECT_ERR(incident_from_json(j, pb, &tmp), ERR_INPUT);
    EXPECT_STR(err_message(), "incident: closing classification and phase disagree");
    json_object_set_new(j, "phase", json_string("containment"));
    json_array_remove(json_object_get(j, "tasks"), 0);
    EXPECT_ERR(incident_from_json(j, pb, &tmp), ERR_INPUT);
    free(s1);
    free(s2);
    json_decref(j);
    json_decref(j2);
    incident_free(back);
    free(back);
    incident_free(inc);
    free(inc);
}

TEST(t_regulator_clocks)
{
    incident *inc = open_one(false);
    inc_deadline d[REPORT__COUNT];
    inc_deadline_opts o = {.eu_people = true};
    incident_deadlines(inc, &o, T0 + 3600 * S, d);
    EXPECT(d[REPORT_CAC_INITIAL].applies);
    EXPECT_INT(d[REPORT_CAC_INITIAL].due_us, T0 + 4 * 3600 * S); /* from awareness */
    EXPECT_INT(d[REPORT_CAC_INITIAL].left_us, 3 * 3600 * S);
    EXPECT_INT(d[REPORT_GDPR_33].due_us, T0 + 72 * 3600 * S);
    EXPECT(d[REPORT_GDPR_33].applies);
    EXPECT_INT(d[REPORT_CAC_SUMMARY].due_us, 0); /* unknown until the handling ends */
    o.critical_infrastructure = true, o.eu_people = false;
    incident_deadlines(inc, &o, T0 + 2 * 3600 * S, d);
    EXPECT_INT(d[REPORT_CAC_INITIAL].due_us, T0 + 3600 * S);
    EXPECT_INT(d[REPORT_CAC_INITIAL].left_us, -3600 * S); /* late */
    EXPECT(!d[REPORT_GDPR_33].applies);
    EXPECT_OK(incident_filed(inc, REPORT_CAC_INITIAL, &LEGAL, T0 + 2 * 3600 * S + 5));
    EXPECT_ERR(incident_filed(inc, REPORT_CAC_INITIAL, &LEGAL, T0 + 3 * 3600 * S), ERR_CONFLICT);
    EXPECT_ERR(incident_filed(inc, REPORT_CAC_SUMMARY, &LEGAL, T0 + 3 * 3600 * S), ERR_CONFLICT);
    incident_deadlines(inc, &o, T0 + 5 * 3600 * S, d);
    EXPECT_INT(d[REPORT_CAC_INITIAL].filed_us, T0 + 2 * 3600 * S + 5);
    EXPECT_INT(d[REPORT_CAC_INITIAL].left_us, 0);
    /* The summary's clock starts when the handling ends (post-incident). */
    int64_t t = T0 + 6 * 3600 * S;
    done(inc, "contain", &SEC, t);
    done(inc, "scope", &SEC, t);
    EXPECT_OK(incident_set_phase(inc, PHASE_CONTAINMENT, &SEC, t));
    EXPECT_OK(incident_set_phase(inc, PHASE_RECOVERY, &SEC, t));
    EXPECT_OK(incident_set_phase(inc, PHASE_POST, &SEC, t + S));
    incident_deadlines(inc, &o, t + S, d);
    EXPECT_INT(d[REPORT_CAC_SUMMARY].due_us, t + S + 30 * 86400 * S);
    EXPECT_OK(incident_filed(inc, REPORT_CAC_SUMMARY, &LEGAL, t + 2 * S));
    inc_report r;
    EXPECT_OK(inc_report_parse("gdpr-33", &r));
    EXPECT_INT(r, REPORT_GDPR_33);
    EXPECT_ERR(inc_report_parse("gdpr-99", &r), ERR_INPUT);
    incident_free(inc);
    free(inc);
}

int main(void)
{
    load();
    RUN(t_open);
    RUN(t_roles_and_order);
    RUN(t_phases_and_closing);
    RUN(t_reminders_and_escalation);
    RUN(t_handoffs);
    RUN(t_json_round_trip);
    RUN(t_regulator_clocks);
    playbook_free(pb);
    return test_done("incident_test");
}
