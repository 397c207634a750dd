/*
 * door_training.h - security-awareness training through the door: courses,
 * quizzes, questionnaires, assignments, the quarterly recertification that sets
 * the training validity the policy's training condition checks, reminders, and
 * results. Every call is authorized and audited: an employee reads and answers
 * only their own; HR (training.manage) assigns, sets a validity with a reason,
 * sends reminders and reads everyone's results. API keys have no part here.
 * The offline tools (custos training import, custos demo) act as the system actor.
 */
#ifndef CUSTOS_DOOR_TRAINING_H
#define CUSTOS_DOOR_TRAINING_H

#include "door/door.h"

/* Reads the course folder DIR (docs/TRAINING.md), checks all of it (a malformed course is
 * ERR_INPUT naming the file, line and field), and stores that version whole.
 * out: {"course","version","lessons","questions","files"}. */
MUST_USE err door_training_import(vault *v, const actor *a, const char *dir, json_t **out);
/* {"courses":[{"id","version","title","languages","lessons":[{"id","title"}]}]} */
MUST_USE err door_training_courses(vault *v, const actor *a, const char *lang, json_t **out);
/* One lesson as HTML (cmark, raw HTML dropped; images point at the files route). */
MUST_USE err door_training_lesson(vault *v, const actor *a, const char *course, const char *lesson,
                                  const char *lang, json_t **out);
/* An asset of a course version: body and content type (a static string). */
MUST_USE err door_training_file(vault *v, const actor *a, const char *course, const char *version,
                                const char *path, buf *body, const char **ctype);
/* A course file's entity tag: a strong tag of its bytes' BLAKE2b-96 ("24 hex digits"),
 * quotes included (a course version's files never change, so the tag never does). */
#define TRAINING_ETAG_MAX 28
void door_training_file_etag(slice body, char out[TRAINING_ETAG_MAX]);
/* Starts an attempt: a paper drawn with a fresh random seed kept server side.
 * out: {"attempt","course","version","lang","questions":[...]} */
#define TRAINING_ATTEMPTS_PER_DAY 5 /* marked papers per person, course and day */
#define TRAINING_STARTS_PER_DAY 20  /* papers drawn */
MUST_USE err door_training_attempt_start(vault *v, const actor *a, const char *course,
                                         const char *lang, json_t **out);
/* Marks the caller's own attempt (once). A pass certifies: the account's training validity
 * becomes the end of grace of the next quarter (never shortened).
 * out: {"attempt","score","passed","pass_mark","results":[...],"training_valid_until"} */
MUST_USE err door_training_attempt_submit(vault *v, const actor *a, const char *attempt,
                                          json_t *answers, json_t **out);
/* The questionnaire's items (phase "pre" or "post") and the caller's answers to them. */
MUST_USE err door_training_questionnaire(vault *v, const actor *a, const char *course,
                                         const char *phase, const char *lang, json_t **out);
MUST_USE err door_training_questionnaire_answer(vault *v, const actor *a, const char *course,
                                                const char *phase, json_t *answers);
/* Assignments (training.manage): kind "role" | "department" | "account" (target: a
 * username for accounts); starts_us 0: now. out: the assignment. */
MUST_USE err door_training_assign(vault *v, const actor *a, const char *course, const char *kind,
                                  const char *target, int64_t starts_us, json_t **out);
MUST_USE err door_training_unassign(vault *v, const actor *a, const char *id);
MUST_USE err door_training_assignments(vault *v, const actor *a, json_t **out);
/* The recertification status of username (NULL: the caller): per assigned course its state
 * (future, pending, overdue, certified, expired), cycle, dates; HR reads anyone's. */
MUST_USE err door_training_status(vault *v, const actor *a, const char *username, json_t **out);
/* Submitted attempts of username (NULL: the caller; HR: anyone's, "*": everyone's). */
MUST_USE err door_training_results(vault *v, const actor *a, const char *username, json_t **out);
/* HR sets a validity by hand, with a reason (audited). */
MUST_USE err door_training_set_valid_until(vault *v, const actor *a, const char *username,
                                           int64_t until_us, const char *reason, json_t **out);
/* Sends the reminders that are due at now_us (once per account, course, cycle and kind):
 * "due" from remind_days before the due date, "overdue" after it. HR or the system actor.
 * out: {"cycle","sent","failed","skipped"} */
MUST_USE err door_training_remind(vault *v, const actor *a, int64_t now_us, json_t **out);
/* HR reads the reminder timer's state (audited); the server adds the timer's figures to out. */
MUST_USE err door_training_remind_status(vault *v, const actor *a, json_t **out);
/* HR: a course's figures: per department accounts, certified, attempts, pass rate, average
 * score; the weakest questions; questionnaire movement (mean Likert before and after). */
MUST_USE err door_training_report(vault *v, const actor *a, const char *course, json_t **out);

/* ---- metrics (door_training_metrics.c) ---- */
typedef enum tr_metrics_by {
    TR_BY_DEPARTMENT,
    TR_BY_PERSON,
    TR_BY_COURSE,
    TR_BY_QUARTER
} tr_metrics_by;
MUST_USE err tr_metrics_by_parse(const char *s, tr_metrics_by *out);
/* The filters: "" for none. */
typedef struct tr_metrics_query {
    tr_metrics_by by;
    char course[65];
    char department[65];
    char quarter[16]; /* "2026Q4" */
    char username[65];
} tr_metrics_query;
/* Figures per person, department, course or quarter (docs/API.md "Metrics and CSV export"):
 * an employee their own, a data steward their department, HR its department and training.json's
 * hr_scope; anything else is refused (audited). */
MUST_USE err door_training_metrics(vault *v, const actor *a, const tr_metrics_query *q,
                                   json_t **out);
/* One table of the figures ("groups", "weakest", "questionnaire", "trends") as RFC 4180 CSV;
 * text cells that start like a spreadsheet formula get a leading apostrophe. */
MUST_USE err door_training_metrics_csv(vault *v, const actor *a, const tr_metrics_query *q,
                                       const char *table, buf *out);

/* ---- remedial training (door_training_remedial.c) ---- */
/* HR (or the guard as the system actor) assigns course to username as remedial training
 * after a violation; source says where it came from ("violation:RULE", "guard:RULE", "hr").
 * blocking: the account's training validity is set to none until the course is passed (the
 * policy's training condition then refuses customer data on the next request).
 * out: the remedial row. */
MUST_USE err door_training_remedial_assign(vault *v, const actor *a, const char *username,
                                           const char *course, const char *source, bool blocking,
                                           json_t **out);
/* The remedial courses of username (NULL: the caller's; HR anyone's, "*" everyone's). */
MUST_USE err door_training_remedial_list(vault *v, const actor *a, const char *username,
                                         bool open_only, json_t **out);
/* HR withdraws an open remedial course with a reason; a blocking one gives back the saved
 * validity. */
MUST_USE err door_training_remedial_withdraw(vault *v, const actor *a, const char *id,
                                             const char *reason);

#endif
