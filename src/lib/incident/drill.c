/*
 * drill.c - drill timings and the after-action report (drill.h).
 */
#include "incident/drill.h"

#include <stdio.h>
#include <string.h>

#define SEC 1000000LL

static const char *const STEP_NAMES[DS__COUNT] = {"detect",   "acknowledge", "decide", "contain",
                                                  "evidence", "notices",     "report"};
static const char *const STEP_LABEL[DS__COUNT][PB__LANGS] = {
    {"发现（注入到告警）", "detection (injection to alert)"},
    {"确认告警", "acknowledging the alert"},
    {"作出处置决定", "the containment decision"},
    {"执行处置", "the containment action"},
    {"证据包就绪", "evidence bundle ready"},
    {"客户通知就绪", "customer notices ready"},
    {"监管报告就绪", "regulator report ready"},
};
static const char *const TEAM_LABEL[PB__TEAMS][PB__LANGS] = {{"技术", "technical"},
                                                             {"法务", "legal"},
                                                             {"客服", "customer service"},
                                                             {"数据管理员", "data stewards"},
                                                             {"传播", "communications"}};

static const char *const STEP_ADVICE[DS__COUNT][PB__LANGS] = {
    {"针对这一手法调整防护规则的检测器或阈值（docs/GUARD.md）。",
     "tune the guard's detector or thresholds for this pattern (docs/GUARD.md)."},
    {"确保告警通过邮件或网络钩子送达值班人员，而不只是显示在控制台。",
     "make sure alerts reach whoever is on call by e-mail or webhook, not only the console."},
    {"预先授权安全人员无需等待即可执行处置。",
     "authorise security beforehand to contain without waiting for anyone."},
    {"预先授权安全人员无需等待即可执行处置，并演练一键处置。",
     "authorise security beforehand to contain without waiting, and practise the one-click "
     "actions."},
    {"明确负责人和替补，并在上一步完成时自动提醒。",
     "name an owner and a backup, and have the previous step's end alert them."},
    {"提前请法务批准通知模板，并明确负责人和替补。",
     "have legal approve the notice templates ahead of time, and name an owner and a backup."},
    {"提前准备报告所需的组织和系统信息，并明确负责人和替补。",
     "keep the organisation and system facts for the report ready, and name an owner and a "
     "backup."},
};

const char *drill_step_name(drill_step s)
{
    return s < DS__COUNT ? STEP_NAMES[s] : "none";
}

/* The first task offering action a (by due time), or -1. */
static int task_with(const incident *inc, pb_action a)
{
    int best = -1;
    for (size_t i = 0; i < inc->pb.ntasks; i++) {
        if ((inc->pb.task[i].actions & (1u << a)) &&
            (best < 0 || inc->pb.task[i].due_s < inc->pb.task[best].due_s)) {
            best = (int)i;
        }
    }
    return best;
}

static int64_t since(int64_t from, int64_t to)
{
    return from > 0 && to > 0 && to >= from ? to - from : -1;
}

err drill_timings(const incident *inc, int64_t injected_us, int64_t alert_us, int64_t acked_us,
                  drill_timing *t)
{
    ENSURE(inc->drill, ERR_INPUT, "not a drill");
    memset(t, 0, sizeof *t);
    t->injected_us = injected_us, t->alert_us = alert_us, t->acked_us = acked_us;
    int c = task_with(inc, PBA_LOCK_ACCOUNT), ev = task_with(inc, PBA_EVIDENCE_BUNDLE),
        no = task_with(inc, PBA_CUSTOMER_NOTICES), rp = task_with(inc, PBA_REGULATOR_REPORT);
    int64_t action = 0, filed = 0;
    for (size_t i = 0; i < inc->nevents; i++) {
        const inc_event *e = &inc->events[i];
        if (e->kind == EV_ACTION && !action) {
            action = e->at_us;
        }
        if (e->kind == EV_FILED && !filed && strcmp(e->what, "cac-initial") == 0) {
            filed = e->at_us;
        }
    }
    t->step_us[DS_DETECT] = since(injected_us, alert_us);
    t->step_us[DS_ACK] = since(alert_us, acked_us);
    t->step_us[DS_DECIDE] = c >= 0 ? since(alert_us, inc->task[c].started_us) : -1;
    t->step_us[DS_CONTAIN] = since(alert_us, action);
    t->step_us[DS_EVIDENCE] = ev >= 0 ? since(inc->aware_us, inc->task[ev].done_us) : -1;
    t->step_us[DS_NOTICES] = no >= 0 ? since(inc->aware_us, inc->task[no].done_us) : -1;
    t->step_us[DS_REPORT] = since(inc->aware_us, filed     ? filed
                                                 : rp >= 0 ? inc->task[rp].done_us
                                                           : 0);
    t->nhandoffs = incident_handoffs(inc, t->handoff, PLAYBOOK_MAX_TASKS);
    if (t->nhandoffs > PLAYBOOK_MAX_TASKS) {
        t->nhandoffs = PLAYBOOK_MAX_TASKS;
    }
    return ERR_OK;
}

/* The target of a step: a minute to detect, five to acknowledge, the playbook's due times for
 * the rest (measured from awareness, or from the alert for containment). -1: none. */
static int64_t target(const incident *inc, drill_step s)
{
    int k = -1;
    switch (s) {
    case DS_DETECT:
        return 60 * SEC;
    case DS_ACK:
        return 5 * 60 * SEC;
    case DS_DECIDE:
    case DS_CONTAIN:
        k = task_with(inc, PBA_LOCK_ACCOUNT);
        break;
    case DS_EVIDENCE:
        k = task_with(inc, PBA_EVIDENCE_BUNDLE);
        break;
    case DS_NOTICES:
        k = task_with(inc, PBA_CUSTOMER_NOTICES);
        break;
    case DS_REPORT:
        k = task_with(inc, PBA_REGULATOR_REPORT);
        break;
    default:
        break;
    }
    return k >= 0 ? inc->pb.task[k].due_s * SEC : -1;
}

static err put_dur(buf *b, int64_t us, pb_lang l)
{
    if (us < 0) {
        return buf_append_str(b, l == PB_ZH ? "未完成" : "not reached");
    }
    if (us < SEC) { /* the guard's automatic steps take milliseconds: show them */
        return buf_appendf(b, l == PB_ZH ? "%.3f秒" : "%.3f s", (double)us / SEC);
    }
    int64_t s = us / SEC, h = s / 3600, m = (s / 60) % 60;
    s %= 60;
    if (l == PB_ZH) {
        return h ? buf_appendf(b, "%lld小时%02lld分%02lld秒", (long long)h, (long long)m,
                               (long long)s)
                 : buf_appendf(b, "%lld分%02lld秒", (long long)m, (long long)s);
    }
    return h ? buf_appendf(b, "%lld h %02lld min %02lld s", (long long)h, (long long)m,
                           (long long)s)
             : buf_appendf(b, "%lld min %02lld s", (long long)m, (long long)s);
}

#define ZH(l, zh, en) ((l) == PB_ZH ? (zh) : (en))

err drill_report(const incident *inc, const drill_timing *t, const drill_timing *earlier,
                 size_t nearlier, pb_lang l, buf *out)
{
    ENSURE(inc->drill, ERR_INPUT, "not a drill");
    ENSURE(l < PB__LANGS, ERR_INPUT, "unknown language");
    TRY(buf_appendf(out, "%s %s\n\n", ZH(l, "演练事后评估报告", "After-action report, drill"),
                    inc->id));
    TRY(buf_appendf(out, "%s%s%s\n\n", ZH(l, "范围：按预案“", "Scope: the playbook \""),
                    inc->pb.title[l],
                    ZH(l,
                       "”进行的模拟泄露演练，在生产系统上以演练账户注入，"
                       "全程标记为演练，不与真实事件、通知和报告混合。",
                       "\", a simulated breach injected on the live system "
                       "with a drill account, marked as a drill throughout "
                       "and kept apart from real incidents, notices and "
                       "reports.")));
    TRY(buf_append_str(out, ZH(l,
                               "目标：在一分钟内发现，在预案规定时间内完成处置、证据、客户通知和"
                               "监管报告，并缩短团队之间的交接等待。\n\n",
                               "Objectives: detect within a minute; contain, secure the evidence, "
                               "prepare the customer notices and the regulator report within the "
                               "playbook's times; shorten the waits between teams.\n\n")));
    TRY(buf_append_str(out, ZH(l, "计时", "Timings")));
    int late = 0;
    for (int s = 0; s < DS__COUNT; s++) {
        int64_t v = t->step_us[s], tg = target(inc, (drill_step)s);
        TRY(buf_appendf(out, "\n- %s: ", STEP_LABEL[s][l]));
        TRY(put_dur(out, v, l));
        if (tg >= 0) {
            TRY(buf_append_str(out, ZH(l, "（目标 ", " (target ")));
            TRY(put_dur(out, tg, l));
            bool miss = v < 0 || v > tg;
            late += miss;
            TRY(buf_append_str(out, miss ? ZH(l, "，未达标）", ", missed)")
                                         : ZH(l, "，达标）", ", met)")));
        }
    }
    TRY(buf_append_str(out, ZH(l, "\n\n团队交接", "\n\nHand-offs between teams")));
    if (t->nhandoffs == 0) {
        TRY(buf_append_str(out, ZH(l, "\n- 无", "\n- none")));
    }
    for (size_t i = 0; i < t->nhandoffs; i++) {
        const inc_handoff *h = &t->handoff[i];
        TRY(buf_appendf(out, "\n- %s (%s) → %s (%s): ", inc->pb.task[h->from_task].id,
                        TEAM_LABEL[inc->pb.task[h->from_task].team][l], inc->pb.task[h->to_task].id,
                        TEAM_LABEL[inc->pb.task[h->to_task].team][l]));
        TRY(put_dur(out, h->wait_us, l));
    }
    if (nearlier) {
        TRY(buf_appendf(out,
                        ZH(l, "\n\n与之前 %zu 次演练比较（从早到晚）",
                           "\n\nCompared with the earlier drills (%zu, oldest first)"),
                        nearlier));
        for (int s = 0; s < DS__COUNT; s++) {
            TRY(buf_appendf(out, "\n- %s: ", STEP_LABEL[s][l]));
            for (size_t k = 0; k < nearlier; k++) {
                TRY(put_dur(out, earlier[k].step_us[s], l));
                TRY(buf_append_str(out, " → "));
            }
            TRY(put_dur(out, t->step_us[s], l));
            int64_t prev = earlier[nearlier - 1].step_us[s], now = t->step_us[s];
            if (prev >= 0 && now >= 0) {
                TRY(buf_append_str(out, now < prev   ? ZH(l, "（更快）", " (faster)")
                                        : now > prev ? ZH(l, "（更慢）", " (slower)")
                                                     : ZH(l, "（持平）", " (the same)")));
            }
        }
    }
    TRY(buf_append_str(out, ZH(l, "\n\n建议", "\n\nRecommendations")));
    int recs = 0;
    for (int s = 0; s < DS__COUNT; s++) {
        int64_t v = t->step_us[s], tg = target(inc, (drill_step)s);
        if (tg >= 0 && (v < 0 || v > tg)) {
            TRY(buf_appendf(out, "\n- %s%s", STEP_LABEL[s][l],
                            ZH(l, "未达标：", " missed its target: ")));
            TRY(buf_append_str(out, STEP_ADVICE[s][l]));
            recs++;
        }
    }
    uint32_t said[PB__TEAMS] = {0}; /* team pairs already advised */
    for (size_t i = 0; i < t->nhandoffs; i++) {
        const inc_handoff *h = &t->handoff[i];
        pb_team from = inc->pb.task[h->from_task].team, to = inc->pb.task[h->to_task].team;
        if (h->wait_us > 15 * 60 * SEC && !(said[from] & (1u << to))) {
            said[from] |= 1u << to;
            TRY(buf_appendf(
                out,
                ZH(l, "\n- %s团队在%s团队完成后等待过久：约定值班人员，交接时当面或电话确认。",
                   "\n- The %s team waited long after the %s team finished: agree "
                   "who is on call and confirm each hand-off in person or by phone."),
                TEAM_LABEL[inc->pb.task[h->to_task].team][l],
                TEAM_LABEL[inc->pb.task[h->from_task].team][l]));
            recs++;
        }
    }
    if (recs == 0) {
        TRY(buf_append_str(out,
                           ZH(l, "\n- 所有步骤均达标：下次提高难度（不预先通知、非工作时间）。",
                              "\n- Every step met its target: make the next drill harder "
                              "(unannounced, out of hours).")));
    }
    return buf_appendf(
        out, ZH(l, "\n\n未达标步骤：%d\n", "\n\nSteps that missed their target: %d\n"), late);
}
