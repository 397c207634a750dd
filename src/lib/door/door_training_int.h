/*
 * door_training_int.h - what the training door's files share (door_training.c,
 * door_training_metrics.c, door_training_remedial.c); not for other callers.
 */
#ifndef CUSTOS_DOOR_TRAINING_INT_H
#define CUSTOS_DOOR_TRAINING_INT_H

#include "door/door_int.h"
#include "store/store_training.h"
#include "training/training.h"

#define DTR_ACCOUNTS_MAX 1000
#define DTR_ASSIGN_MAX 1000
#define DTR_COURSES_MAX 32

typedef struct assign_set {
    training_assignment *a;
    size_t n;
} assign_set;

/* The courses assigned to an account, each once with its earliest start. */
typedef struct acc_course {
    char course[TRAINING_ID_MAX + 1];
    int64_t starts_us;
} acc_course;

/* Every assignment (s->a is the caller's to free). */
MUST_USE err dtr_assign_load(store *st, assign_set *s);
size_t dtr_courses_of(const assign_set *s, const account *acc, acc_course *out, size_t max);
/* The system actor of the offline tools and the server's own timers. */
bool dtr_is_system(const actor *a);
MUST_USE err dtr_audit(vault *v, const actor *a, const char *action, const char *decision,
                       const char *rule, const char *reason, int64_t count);
/* A signed-in person (no API key, no pending second factor); audited refusal. */
MUST_USE err dtr_need_person(vault *v, const actor *a, const char *action);
/* training.manage (HR) or the system actor; audited refusal. */
MUST_USE err dtr_need_manage(vault *v, const actor *a, const char *action);

/* Whether a's training figures may include dept: the system actor every department, HR its
 * own and those of training.json's hr_scope, anyone else their own (door_training_metrics.c). */
bool dtr_dept_in_scope(const actor *a, const tr_config *cfg, const char *dept);

/* ---- remedial courses (door_training_remedial.c) ---- */
#define DTR_REMEDIAL_MAX 64 /* open remedial courses per account */
/* Whether account_id has an open blocking remedial course; saved_us: the validity it had. */
MUST_USE err dtr_remedial_blocked(store *st, const char *account_id, bool *blocked,
                                  int64_t *saved_us);
/* Inside the transaction that records a pass of course by acc on a paper drawn at started_us:
 * closes the open remedial courses of that course assigned before the paper was drawn.
 * closed_blocking: one of them was blocking (saved_us: the validity it had). */
MUST_USE err dtr_remedial_passed(store *st, const account *acc, const char *course,
                                 int64_t started_us, int64_t now_us, bool *closed_blocking,
                                 int64_t *saved_us, size_t *closed);

#endif
