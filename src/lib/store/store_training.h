/*
 * store_training.h - the store's training tables (operations of STORE_OPS,
 * store_backend.h, so every backend keeps them): imported courses and their
 * files, assignments, quiz attempts with per-question right/wrong, the
 * questionnaires' answers (free text sealed), remedial courses after violations, and the
 * reminders sent. No customer data lives here;
 * the only personal data are the staff's own answers to the questionnaires.
 * The tables are made on first use (CREATE TABLE IF NOT EXISTS).
 */
#ifndef CUSTOS_STORE_TRAINING_H
#define CUSTOS_STORE_TRAINING_H

#include "store/store.h"

#define TRAINING_ID_MAX 64
#define TRAINING_VERSION_MAX 32

/* Makes the tables when they are missing; every other function here calls it. */
MUST_USE err store_training_ready(store *s);

/* ---- courses: one row per (id, version), the manifest and files as imported ---- */
/* ERR_CONFLICT when that version of the course exists already. */
MUST_USE err store_training_course_put(store *s, const char *id, const char *version,
                                       slice manifest, int64_t at_us);
MUST_USE err store_training_file_put(store *s, const char *course, const char *version,
                                     const char *path, slice body);
/* version NULL or "": the newest imported; version_out (TRAINING_VERSION_MAX + 1) receives it. */
MUST_USE err store_training_course_get(store *s, const char *id, const char *version,
                                       char *version_out, buf *manifest);
MUST_USE err store_training_file_get(store *s, const char *course, const char *version,
                                     const char *path, buf *body);
typedef err (*store_training_course_fn)(void *ctx, const char *id, const char *version,
                                        int64_t at_us);
/* The newest version of every course, by id. */
MUST_USE err store_training_course_list(store *s, store_training_course_fn fn, void *ctx);

/* ---- assignments: a course to a role, a department or an account ---- */
typedef struct training_assignment {
    char id[ID_LEN + 1];
    char course[TRAINING_ID_MAX + 1];
    char kind[16];                 /* "role" | "department" | "account" */
    char target[USERNAME_MAX + 1]; /* role name, department, account id */
    int64_t starts_us, created_us;
    char created_by[USERNAME_MAX + 8]; /* "system:demo" fits */
} training_assignment;
MUST_USE err store_training_assign(store *s, const training_assignment *a);
/* ERR_NOT_FOUND when there is no such assignment. */
MUST_USE err store_training_unassign(store *s, const char *id);
typedef err (*store_training_assignment_fn)(void *ctx, const training_assignment *a);
MUST_USE err store_training_assignments(store *s, store_training_assignment_fn fn, void *ctx);

/* ---- attempts ---- */
#define TRAINING_SEED_LEN 32
typedef struct training_attempt {
    char id[ID_LEN + 1];
    char account_id[ID_LEN + 1];
    char course[TRAINING_ID_MAX + 1];
    char version[TRAINING_VERSION_MAX + 1];
    char lang[8];
    uint8_t seed[TRAINING_SEED_LEN];
    int64_t started_us, submitted_us; /* 0: not submitted */
    int score;                        /* percent */
    bool passed;
    buf paper; /* JSON of the drawn paper */
} training_attempt;
void training_attempt_init(training_attempt *a);
void training_attempt_free(training_attempt *a);
MUST_USE err store_training_attempt_insert(store *s, const training_attempt *a);
MUST_USE err store_training_attempt_get(store *s, const char *id, training_attempt *out);
/* One answer's outcome. */
typedef struct training_answer {
    const char *question, *lesson;
    bool correct;
} training_answer;
/* Records the result of an attempt that was not submitted yet, with its answers' outcomes;
 * call inside the caller's store_begin/store_commit (with store_training_ready before it).
 * ERR_CONFLICT when it was submitted already (by a concurrent request). */
MUST_USE err store_training_attempt_submit(store *s, const char *id, int64_t at_us, int score,
                                           bool passed, const training_answer *ans, size_t n);
typedef err (*store_training_attempt_fn)(void *ctx, const training_attempt *a);
/* Submitted attempts, newest first, of one account (or every account when NULL). The row's
 * paper is not filled. */
MUST_USE err store_training_attempts(store *s, const char *account_id, size_t max,
                                     store_training_attempt_fn fn, void *ctx);
/* How many attempts at a course an account started since since_us (submitted or not). */
MUST_USE err store_training_attempts_started(store *s, const char *account_id, const char *course,
                                             int64_t since_us, int64_t *n);
/* The latest pass of a course by an account (0 when none). */
MUST_USE err store_training_last_pass(store *s, const char *account_id, const char *course,
                                      int64_t *at_us);
/* Per question: how often it was answered and how often wrongly, for the accounts whose
 * attempts are counted (account_id NULL: everyone), most failed first. */
typedef err (*store_training_topic_fn)(void *ctx, const char *question, const char *lesson,
                                       int64_t answered, int64_t wrong);
MUST_USE err store_training_topics(store *s, const char *course, const char *account_id, size_t max,
                                   store_training_topic_fn fn, void *ctx);

/* ---- questionnaires (the employee's own answers) ----
 * Free text arrives sealed (the door seals it like customer data: a data key of its own,
 * wrapped under the KEK); the store keeps the envelope and never sees the words. */
MUST_USE err store_training_response_put(store *s, const char *account_id, const char *course,
                                         const char *version, const char *phase, const char *item,
                                         int likert, slice sealed_text, int64_t at_us);
typedef err (*store_training_response_fn)(void *ctx, const char *phase, const char *item,
                                          int likert, slice sealed_text, int64_t at_us);
MUST_USE err store_training_responses(store *s, const char *account_id, const char *course,
                                      store_training_response_fn fn, void *ctx);
/* Average Likert answer per (phase, item) over every account (the course's movement). */
typedef err (*store_training_likert_fn)(void *ctx, const char *phase, const char *item, double mean,
                                        int64_t n);
MUST_USE err store_training_likert(store *s, const char *course, store_training_likert_fn fn,
                                   void *ctx);

/* ---- rows for the metrics (the door groups them by person, department and quarter) ---- */
/* Every answer of every submitted attempt of course (NULL: every course). */
typedef err (*store_training_answer_row_fn)(void *ctx, const char *account_id, const char *course,
                                            int64_t submitted_us, const char *question,
                                            const char *lesson, bool correct);
MUST_USE err store_training_answer_rows(store *s, const char *course,
                                        store_training_answer_row_fn fn, void *ctx);
/* Every Likert answer (never the free text) of course (NULL: every course). */
typedef err (*store_training_likert_row_fn)(void *ctx, const char *account_id, const char *course,
                                            const char *phase, const char *item, int likert,
                                            int64_t at_us);
MUST_USE err store_training_likert_rows(store *s, const char *course,
                                        store_training_likert_row_fn fn, void *ctx);

/* ---- remedial courses: a course an employee must take again after a violation ---- */
typedef struct training_remedial {
    char id[ID_LEN + 1];
    char account_id[ID_LEN + 1];
    char course[TRAINING_ID_MAX + 1];
    char source[80];              /* "violation:RULE", "guard:RULE" or "hr": where it came from */
    bool blocking;                /* customer access waits for the pass */
    int64_t assigned_us, done_us; /* done_us 0: open */
    int64_t saved_until_us;       /* the validity the account had when it was blocked */
    char assigned_by[USERNAME_MAX + 8];
} training_remedial;
MUST_USE err store_training_remedial_add(store *s, const training_remedial *r);
typedef err (*store_training_remedial_fn)(void *ctx, const training_remedial *r);
/* The remedial courses of account_id (NULL: everyone's), open ones only when open_only,
 * oldest first. */
MUST_USE err store_training_remedials(store *s, const char *account_id, bool open_only,
                                      store_training_remedial_fn fn, void *ctx);
/* Closes an open remedial course; ERR_CONFLICT when it was closed already. */
MUST_USE err store_training_remedial_close(store *s, const char *id, int64_t done_us);

/* ---- reminders: one of each kind per account, course and cycle ---- */
/* Claims the reminder; ERR_CONFLICT when it was claimed already. */
MUST_USE err store_training_reminder_claim(store *s, const char *account_id, const char *course,
                                           const char *cycle, const char *kind, int64_t at_us);
/* Gives a claim back (the mail could not be sent: the next run tries again). */
MUST_USE err store_training_reminder_drop(store *s, const char *account_id, const char *course,
                                          const char *cycle, const char *kind);

#endif
