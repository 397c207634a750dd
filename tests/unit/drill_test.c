/*
 * drill_test.c - drill timings from a drill incident's timeline and the guard's alert times,
 * and the after-action report in both languages: each step against its target, the slow
 * hand-off named, the comparison with an earlier drill, recommendations from what was slow.
 */
#include <string.h>

#include "incident/drill.h"
#include "incident_fixture.h"

#define M (60 * S)

/* A drill: alert at T0 (awareness), 40 s after the injection; legal slow to pick up. */
static incident *run_drill(int64_t evidence_start)
{
    incident *inc = calloc(1, sizeof *inc);
    EXPECT_OK(incident_open(inc, "DRILL-3", pb, T0, T0 + 30 * S, &SEC, true, "alert-1"));
    EXPECT_OK(incident_task_start(inc, "contain", &SEC, T0 + 4 * M));
    EXPECT_OK(incident_action(inc, "contain", PBA_LOCK_ACCOUNT, "account:drill", &SEC, T0 + 5 * M));
    EXPECT_OK(incident_task_done(inc, "contain", &SEC, NULL, T0 + 6 * M));
    EXPECT_OK(incident_task_done(inc, "scope", &SEC, NULL, T0 + 20 * M));
    EXPECT_OK(incident_task_start(inc, "evidence", &LEGAL, evidence_start));
    EXPECT_OK(incident_task_done(inc, "evidence", &LEGAL, NULL, evidence_start + 5 * M));
    EXPECT_OK(incident_task_done(inc, "legal-risk", &LEGAL, NULL, T0 + 150 * M));
    EXPECT_OK(incident_task_done(inc, "regulator-initial", &LEGAL, NULL, T0 + 180 * M));
    EXPECT_OK(incident_task_done(inc, "department-exposure", &STEW, NULL, T0 + 60 * M));
    EXPECT_OK(incident_task_done(inc, "notices", &SVC, NULL, T0 + 300 * M));
    return inc;
}

TEST(t_timings_and_report)
{
    incident *inc = run_drill(T0 + 45 * M);
    drill_timing t;
    EXPECT_OK(drill_timings(inc, T0 - 40 * S, T0, T0 + 3 * M, &t));
    EXPECT_INT(t.step_us[DS_DETECT], 40 * S);
    EXPECT_INT(t.step_us[DS_ACK], 3 * M);
    EXPECT_INT(t.step_us[DS_DECIDE], 4 * M);
    EXPECT_INT(t.step_us[DS_CONTAIN], 5 * M);
    EXPECT_INT(t.step_us[DS_EVIDENCE], 50 * M);
    EXPECT_INT(t.step_us[DS_NOTICES], 300 * M);
    EXPECT_INT(t.step_us[DS_REPORT], 180 * M);
    /* Hand-offs: scope (technical) -> evidence (legal) waited 25 minutes, and others. */
    bool slow = false;
    for (size_t i = 0; i < t.nhandoffs; i++) {
        slow |= t.handoff[i].wait_us == 25 * M &&
                strcmp(inc->pb.task[t.handoff[i].to_task].id, "evidence") == 0;
    }
    EXPECT(slow);
    buf en, zh;
    buf_init(&en, 0);
    buf_init(&zh, 0);
    EXPECT_OK(drill_report(inc, &t, NULL, 0, PB_EN, &en));
    EXPECT_OK(drill_report(inc, &t, NULL, 0, PB_ZH, &zh));
    const char *e = buf_cstr(&en), *z = buf_cstr(&zh);
    EXPECT(strstr(e, "After-action report, drill DRILL-3\n") == e);
    EXPECT(strstr(e, "- detection (injection to alert): 0 min 40 s (target 1 min 00 s, met)"));
    EXPECT(strstr(e, "- the containment action: 5 min 00 s (target 30 min 00 s, met)"));
    EXPECT(strstr(e, "- customer notices ready: 5 h 00 min 00 s (target 24 h 00 min 00 s, met)"));
    EXPECT(strstr(e, "- scope (technical) → evidence (legal): 25 min 00 s"));
    EXPECT(strstr(e, "The legal team waited long after the technical team finished"));
    EXPECT(strstr(e, "Steps that missed their target: 0\n"));
    EXPECT(strstr(z, "演练事后评估报告 DRILL-3\n") == z);
    EXPECT(strstr(z, "- 发现（注入到告警）: 0分40秒（目标 1分00秒，达标）"));
    EXPECT(strstr(z, "法务团队在技术团队完成后等待过久"));
    buf_free(&en);
    buf_free(&zh);
    /* A later, slower drill compared with this one: the evidence missed its two hours. */
    incident *again = run_drill(T0 + 130 * M);
    drill_timing t2;
    EXPECT_OK(drill_timings(again, T0 - 90 * S, T0, T0 + 2 * M, &t2));
    buf r;
    buf_init(&r, 0);
    EXPECT_OK(drill_report(again, &t2, &t, 1, PB_EN, &r));
    const char *s = buf_cstr(&r);
    EXPECT(strstr(s, "Compared with the earlier drills (1, oldest first)"));
    EXPECT(strstr(s, "- detection (injection to alert): 0 min 40 s → 1 min 30 s (slower)"));
    EXPECT(strstr(s, "- acknowledging the alert: 3 min 00 s → 2 min 00 s (faster)"));
    EXPECT(strstr(s, "- evidence bundle ready: 2 h 15 min 00 s (target 2 h 00 min 00 s, missed)"));
    EXPECT(strstr(s, "- evidence bundle ready missed its target: name an owner"));
    EXPECT(strstr(s, "- detection (injection to alert) missed its target: tune the guard"));
    /* One piece of advice per pair of teams, however many tasks waited. */
    const char *w = strstr(s, "The legal team waited long after the technical team");
    EXPECT(w && !strstr(w + 1, "The legal team waited long after the technical team"));
    EXPECT(strstr(s, "Steps that missed their target: 2\n")); /* detection and evidence */
    if (getenv("DRILL_SHOW")) {
        fputs(s, stdout);
    }
    buf_free(&r);
    /* A real incident is not a drill. */
    incident real;
    EXPECT_OK(incident_open(&real, "INC-1", pb, T0, T0, &SEC, false, NULL));
    EXPECT_ERR(drill_timings(&real, T0, T0, T0, &t), ERR_INPUT);
    incident_free(&real);
    incident_free(inc);
    incident_free(again);
    free(inc);
    free(again);
}

/* The guard contains in milliseconds: a step under a second shows them, not "0 min 00 s". */
TEST(t_subsecond_steps_show)
{
    incident *inc = run_drill(T0 + 45 * M);
    drill_timing t;
    EXPECT_OK(drill_timings(inc, T0 - 4000, T0, T0 + 3 * M, &t));
    EXPECT_INT(t.step_us[DS_DETECT], 4000);
    buf en, zh;
    buf_init(&en, 0);
    buf_init(&zh, 0);
    EXPECT_OK(drill_report(inc, &t, NULL, 0, PB_EN, &en));
    EXPECT_OK(drill_report(inc, &t, NULL, 0, PB_ZH, &zh));
    EXPECT(strstr(buf_cstr(&en),
                  "- detection (injection to alert): 0.004 s (target 1 min 00 s, met)"));
    EXPECT(strstr(buf_cstr(&zh), "- 发现（注入到告警）: 0.004秒（目标 1分00秒，达标）"));
    buf_free(&en);
    buf_free(&zh);
    incident_free(inc);
    free(inc);
}

int main(void)
{
    load();
    RUN(t_timings_and_report);
    RUN(t_subsecond_steps_show);
    playbook_free(pb);
    return test_done("drill_test");
}
