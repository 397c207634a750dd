/*
 * playbook_test.c - the playbook format: the shipped playbooks parse to what they say, and
 * every kind of mistake is refused with the file, the line and a clear message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy.h"
#include "incident/playbook.h"
#include "test.h"

static err parse_str(const char *text, playbook **p)
{
    return playbook_parse("t.playbook", text, strlen(text), p);
}

#define HEAD "playbook 1\nid x\nclassification c\nseverity high\ntitle zh-CN 标题\ntitle en Title\n"
#define TASK(extra)                                                                                \
    "task a\nteam technical\nroles security\ndue 30m\ntitle zh-CN 甲\ntitle en A\n" extra

TEST(t_shipped_misread)
{
    size_t n;
    char *text = test_slurp("etc/playbooks/customer-data-misread.playbook", &n);
    EXPECT(text != NULL);
    playbook *p = NULL;
    EXPECT_OK(playbook_parse("customer-data-misread.playbook", text, n, &p));
    free(text);
    if (!p) {
        return;
    }
    EXPECT_STR(p->id, "customer-data-misread");
    EXPECT_STR(p->classification, "unauthorized-access");
    EXPECT_INT(p->severity, PB_HIGH);
    EXPECT_INT(p->escalate_to, ROLE_SECURITY);
    EXPECT_INT(p->remind_s, 15 * 60);
    EXPECT_STR(p->title[PB_EN], "Customer data read by someone who should not have");
    /* Every team has work, containment comes first and offers the one-click actions. */
    bool team[PB__TEAMS] = {0};
    for (size_t i = 0; i < p->ntasks; i++) {
        team[p->task[i].team] = true;
    }
    for (int t = 0; t < PB__TEAMS; t++) {
        EXPECT(team[t]);
    }
    int c = playbook_task_index(p, "contain");
    EXPECT_INT(c, 0);
    EXPECT_INT(p->task[0].due_s, 30 * 60);
    EXPECT(p->task[0].actions & (1u << PBA_LOCK_ACCOUNT));
    EXPECT(p->task[0].actions & (1u << PBA_BLOCK_ADDRESS));
    EXPECT(p->task[0].roles == (1u << ROLE_SECURITY));
    int r = playbook_task_index(p, "regulator-initial");
    EXPECT(r > 0);
    EXPECT_INT(p->task[r].due_s, 4 * 3600); /* the CAC's four hours */
    EXPECT(p->task[r].after & (1ull << playbook_task_index(p, "legal-risk")));
    int s = playbook_task_index(p, "regulator-summary");
    EXPECT_INT(p->task[s].due_s, 30 * 86400);
    EXPECT(!p->task[playbook_task_index(p, "seal-decision")].mandatory);
    EXPECT(strstr(p->task[playbook_task_index(p, "scope")].text[PB_ZH], "检查点") != NULL);
    playbook_free(p);
}

TEST(t_shipped_stolen)
{
    size_t n;
    char *text = test_slurp("etc/playbooks/credentials-stolen.playbook", &n);
    EXPECT(text != NULL);
    playbook *p = NULL;
    EXPECT_OK(playbook_parse("credentials-stolen.playbook", text, n, &p));
    free(text);
    if (!p) {
        return;
    }
    EXPECT_STR(p->classification, "credential-theft");
    EXPECT_INT(p->task[0].due_s, 15 * 60);
    EXPECT(p->task[playbook_task_index(p, "reset")].roles & (1u << ROLE_ADMIN));
    playbook_free(p);
}

TEST(t_minimal_and_defaults)
{
    playbook *p = NULL;
    EXPECT_OK(parse_str(HEAD TASK(""), &p));
    if (!p) {
        return;
    }
    EXPECT_INT(p->ntasks, 1);
    EXPECT(p->task[0].mandatory); /* tasks are mandatory unless they say otherwise */
    EXPECT_INT(p->escalate_to, ROLE_SECURITY);
    EXPECT_INT(p->task[0].line, 7);
    playbook_free(p);
    /* CRLF line ends, comments, blank lines, durations of several units, text joined. */
    const char *crlf =
        "playbook 1\r\n# c\r\n\r\nid x\r\nclassification c\r\nseverity low\r\n"
        "title zh-CN 标题\r\ntitle en T\r\ntask a\r\nteam legal\r\nroles legal hr\r\n"
        "due 1d2h30m\r\ntitle zh-CN 甲\r\ntitle en A\r\ntext en one\r\ntext en two\r\n";
    EXPECT_OK(parse_str(crlf, &p));
    if (p) {
        EXPECT_INT(p->task[0].due_s, 86400 + 2 * 3600 + 30 * 60);
        EXPECT_STR(p->task[0].text[PB_EN], "one\ntwo");
        EXPECT(p->task[0].roles == ((1u << ROLE_LEGAL) | (1u << ROLE_HR)));
        playbook_free(p);
    }
}

/* Each bad text is refused with exactly this message; *out stays as it was. */
static void refused(const char *text, const char *want)
{
    playbook *sentinel = (playbook *)(uintptr_t)1, *p = sentinel;
    err e = parse_str(text, &p);
    EXPECT_ERR(e, ERR_INPUT);
    EXPECT(p == sentinel);
    if (e == ERR_INPUT) {
        EXPECT_STR(err_message(), want);
    }
}

TEST(t_errors_name_the_line)
{
    refused("", "t.playbook: empty playbook (it begins with 'playbook 1')");
    refused("id x\n", "t.playbook:1: a playbook begins with 'playbook 1'");
    refused("playbook 2\n",
            "t.playbook:1: unknown playbook format version '2' (this Custos reads 1)");
    refused(HEAD, "t.playbook: a playbook has at least one task");
    refused("playbook 1\nid x\nseverity high\ntitle zh-CN 标\ntitle en T\n" TASK(""),
            "t.playbook:1: the playbook lacks a classification");
    refused("playbook 1\nid x\nclassification c\nseverity high\ntitle zh-CN 标\n" TASK(""),
            "t.playbook:1: the playbook lacks a title in en");
    refused(HEAD "severity low\n" TASK(""), "t.playbook:7: 'severity' given twice (line 4)");
    refused(HEAD "title en again\n" TASK(""), "t.playbook:7: title en given twice (line 6)");
    refused(HEAD "frobnicate 1\n", "t.playbook:7: unknown statement 'frobnicate'");
    refused(HEAD "team legal\n", "t.playbook:7: 'team' belongs inside a task");
    refused(HEAD TASK("severity low\n"), "t.playbook:13: 'severity' belongs before the first task");
    refused(HEAD TASK("team legal\n"), "t.playbook:13: 'team' given twice (line 8)");
    refused(HEAD TASK("roles security\n"), "t.playbook:13: 'roles' given twice (line 9)");
    refused(HEAD TASK("") "task b\nteam legal\ndue 1h\ntitle zh-CN 乙\ntitle en B\n",
            "t.playbook:13: task b lacks roles");
    refused(HEAD "task a\nteam legal\nroles legal\ntitle zh-CN 甲\ntitle en A\n",
            "t.playbook:7: task a lacks a due time");
    refused(HEAD TASK("") "task a\n", "t.playbook:13: task id 'a' used twice (line 7)");
    refused(HEAD TASK("after b\n"), "t.playbook:13: after 'b': no earlier task has that id");
    refused(HEAD TASK("after a\n"), "t.playbook:13: after 'a': no earlier task has that id");
    refused(HEAD TASK("action fly\n"), "t.playbook:13: unknown action 'fly'");
    refused(HEAD TASK("action seal-vault\naction seal-vault\n"),
            "t.playbook:14: action 'seal-vault' named twice");
    refused(HEAD TASK("action customer-notices\n"),
            "t.playbook:7: task a: action customer-notices is the customer-service team's, not the "
            "technical team's");
    refused(HEAD "task a\nteam legal\nroles boss\n", "t.playbook:9: unknown role 'boss'");
    refused(HEAD "task a\nteam sales\n",
            "t.playbook:8: unknown team 'sales' (technical, legal, customer-service, stewards, "
            "communications)");
    refused(HEAD "task a\ndue 91d\n", "t.playbook:8: duration '91d' longer than 90 days");
    refused(HEAD "task a\ndue 4x\n", "t.playbook:8: bad duration '4x' (e.g. 30m, 4h, 3d, 1h30m)");
    refused(HEAD "task a\ndue h\n", "t.playbook:8: bad duration 'h' (e.g. 30m, 4h, 3d, 1h30m)");
    refused(HEAD "task a\nmandatory maybe\n",
            "t.playbook:8: mandatory is 'yes' or 'no', not 'maybe'");
    refused(HEAD "task A\n", "t.playbook:7: task id may hold only a-z 0-9 _ . - (found byte 0x41)");
    refused(HEAD "task a b\n", "t.playbook:7: unexpected text after the statement");
    refused(HEAD "task a\ntitle fr Titre\n", "t.playbook:8: unknown language 'fr' (zh-CN, en)");
    refused(HEAD "task a\ntitle en   \n", "t.playbook:8: missing text");
    refused(HEAD TASK("mandatory no\n"), "t.playbook: a playbook has at least one mandatory task");
    refused("playbook 1\nid \x01x\n", "t.playbook:2: control character 0x01");
    refused("playbook 1\nid \xc0\xaf\n", "t.playbook:2: not valid UTF-8");
    char big[2100];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memcpy(big, "playbook 1\nid ", 14);
    refused(big, "t.playbook:2: line longer than 1024 bytes");
}

TEST(t_limits)
{
    /* A title over its limit, more tasks than allowed, a file over its size. */
    char t[400] = HEAD "task a\ntitle en ";
    size_t n = strlen(t);
    memset(t + n, 'x', 201);
    t[n + 201] = 0;
    refused(t, "t.playbook:8: text longer than 200 bytes");
    size_t cap = 64 * 1024;
    char *many = malloc(cap);
    size_t at = (size_t)snprintf(many, cap, "%s", HEAD);
    for (int i = 0; i <= PLAYBOOK_MAX_TASKS; i++) {
        at += (size_t)snprintf(many + at, cap - at,
                               "task t%d\nteam legal\nroles legal\ndue 1h\ntitle zh-CN 甲\n"
                               "title en A\n",
                               i);
    }
    refused(many, "t.playbook:295: more than 48 tasks");
    free(many);
    char *huge = calloc(1, PLAYBOOK_MAX_BYTES + 2);
    memset(huge, '#', PLAYBOOK_MAX_BYTES + 1);
    playbook *p = NULL;
    EXPECT_ERR(playbook_parse("t.playbook", huge, PLAYBOOK_MAX_BYTES + 1, &p), ERR_INPUT);
    EXPECT_STR(err_message(), "t.playbook: file larger than 65536 bytes");
    free(huge);
}

int main(void)
{
    RUN(t_shipped_misread);
    RUN(t_shipped_stolen);
    RUN(t_minimal_and_defaults);
    RUN(t_errors_name_the_line);
    RUN(t_limits);
    return test_done("playbook_test");
}
