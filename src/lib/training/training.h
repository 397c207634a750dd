/*
 * training.h - security-awareness training below the door: the course format
 * (a manifest and Markdown lessons per language, docs/TRAINING.md), lessons
 * rendered to HTML with cmark (raw HTML dropped), quiz papers drawn from the
 * pool per attempt and scored here, and the quarterly recertification schedule
 * computed in the vault's time zone. Nothing here opens the store: the door
 * (door_training.c) reads and writes rows and calls these pure functions.
 */
#ifndef CUSTOS_TRAINING_H
#define CUSTOS_TRAINING_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* ---- the course format (course.c) ---- */
#define COURSE_MANIFEST "course.json"
#define COURSE_ID_MAX 64
#define COURSE_VERSION_MAX 32
#define COURSE_LANGS_MAX 4
#define COURSE_LESSONS_MAX 32
#define COURSE_QUESTIONS_MAX 512
#define COURSE_CHOICES_MAX 8
#define COURSE_ASSETS_MAX 128
#define COURSE_FILE_MAX ((size_t)1 << 20)     /* one lesson or asset */
#define COURSE_MANIFEST_MAX ((size_t)2 << 20) /* the manifest */
#define COURSE_PATH_MAX 128

typedef struct course_question {
    const char *id, *lesson; /* borrowed from the manifest */
    bool multiple;           /* several choices may be right */
    size_t nchoices;
    uint32_t answer; /* bit i: choice i is right */
    json_t *q;       /* the question object (borrowed) */
} course_question;

typedef struct course {
    json_t *m; /* the manifest (owned) */
    char id[COURSE_ID_MAX + 1];
    char version[COURSE_VERSION_MAX + 1];
    const char *langs[COURSE_LANGS_MAX];
    size_t nlangs;
    size_t nlessons;
    const char *lesson_id[COURSE_LESSONS_MAX];
    const char *lesson_file[COURSE_LESSONS_MAX];
    size_t nassets;
    const char *assets[COURSE_ASSETS_MAX];
    size_t nquestions;
    course_question *qs;
    unsigned pass_mark;  /* percent */
    unsigned per_lesson; /* questions per lesson on a paper */
} course;

/* Parses and checks a manifest. A malformed one is ERR_INPUT with a message
 * "FILE:LINE: FIELD: what is wrong" (FILE is the name given, LINE the line of the field or of
 * the item's id in the text). */
MUST_USE err course_parse(slice text, const char *file, course **out);
void course_free(course *c);
/* The lesson's Markdown path inside the course folder: lessons/LANG/FILE. */
void course_lesson_path(const course *c, size_t lesson, const char *lang, char *out, size_t max);
bool course_has_lang(const course *c, const char *lang);
/* A relative path inside a course folder: [a-z0-9._-] segments joined by '/', no "..",
 * no leading '/' or '.', at most COURSE_PATH_MAX bytes. */
bool course_path_ok(const char *p);
/* Content type of an asset by its extension (NULL: not a kind a course may carry). */
const char *course_asset_type(const char *path);
/* DIR/REL into out (at most out->limit bytes): ERR_INPUT "REL: missing" when absent. */
MUST_USE err course_read(const char *dir, const char *rel, buf *out);
/* SVG drawings are served as images, but a browser opened on one directly would run its
 * scripts: a course's SVG carries no script, event handler, foreign object or outside link. */
MUST_USE err course_svg_check(const char *rel, slice svg);
/* Reads and checks a whole course folder: the manifest, every lesson in every language
 * (rendered once), every asset. out: the parsed manifest. */
MUST_USE err course_check_dir(const char *dir, course **out);
/* Markdown to HTML with cmark; raw HTML and unsafe links (javascript:, data: other than
 * images) are dropped. */
MUST_USE err course_render(slice md, buf *html);
/* The text of an {"en": ..., "zh-CN": ...} object in lang, falling back to the first one. */
const char *course_text(json_t *obj, const char *lang);

/* ---- quizzes (quiz.c) ---- */
#define QUIZ_SEED_LEN 32
/* The paper of one attempt: per_lesson questions of each lesson drawn from the pool, their
 * order and each question's choice order shuffled, all from seed (random per attempt, kept
 * server side: the same seed gives the same paper again for a review).
 * out: [{"q": id, "order": [choice indexes as shown]}]. */
MUST_USE err quiz_draw(const course *c, const uint8_t seed[QUIZ_SEED_LEN], json_t **out);
/* The paper as shown to the taker in lang, without answers or explanations. */
MUST_USE err quiz_render(const course *c, json_t *paper, const char *lang, json_t **out);
/* Scores answers {"<qid>": [shown choice indexes]} against the paper. results: per question
 * {"q","lesson","correct","right":[shown indexes],"explanation"}; score in percent. */
typedef struct quiz_score {
    unsigned right, total, percent;
    bool passed;
} quiz_score;
MUST_USE err quiz_mark(const course *c, json_t *paper, json_t *answers, const char *lang,
                       json_t **results, quiz_score *s);
/* Checks questionnaire answers {"<item>": 1..5 | "text"} against the course's phase ("pre" or
 * "post") items; free text at most QUIZ_TEXT_MAX bytes of UTF-8. */
#define QUIZ_TEXT_MAX 2000
MUST_USE err quiz_questionnaire_check(const course *c, const char *phase, json_t *answers);

/* ---- recertification (schedule.c) ---- */
typedef struct tr_rules {
    int32_t zone_off_s; /* the vault's zone: a fixed offset from UTC */
    int due_days;       /* the window opens at the quarter's start; due this many days later */
    int grace_days;     /* after the due date, still valid this long */
    int remind_days;    /* first reminder this many days before the due date */
} tr_rules;
#define TR_DEFAULT_ZONE "Asia/Shanghai"
#define TR_DEFAULT_DUE_DAYS 30
#define TR_DEFAULT_GRACE_DAYS 14
#define TR_DEFAULT_REMIND_DAYS 7
void tr_rules_default(tr_rules *r);
/* Zones without daylight saving time by name (Asia/Shanghai, UTC, ...) or "UTC+08:00". */
MUST_USE err tr_zone_parse(const char *name, int32_t *off_s);

typedef enum tr_state { TR_FUTURE, TR_PENDING, TR_OVERDUE, TR_CERTIFIED, TR_EXPIRED } tr_state;
const char *tr_state_name(tr_state s);

typedef struct tr_cycle {
    int year, quarter; /* in the zone */
    int64_t opens_us;  /* the window opens (the quarter's start, or the assignment's) */
    int64_t due_us;    /* due date */
    int64_t grace_us;  /* end of grace: the previous certification lapses */
    int64_t closes_us; /* the quarter ends */
    char name[16];     /* "2026Q4" */
} tr_cycle;
/* The quarter containing t (in the zone), with its due date and grace end. */
void tr_cycle_at(const tr_rules *r, int64_t t_us, tr_cycle *out);
/* A pass at passed_us certifies until the end of grace of the next quarter (0 when never). */
int64_t tr_valid_until(const tr_rules *r, int64_t passed_us);
/* The state of one assignment of one account at now: starts_us is when it was assigned,
 * last_pass_us the latest pass of the course (0: never). cyc receives the cycle in force. */
tr_state tr_state_at(const tr_rules *r, int64_t starts_us, int64_t last_pass_us, int64_t now_us,
                     tr_cycle *cyc);
/* Civil date helpers (proleptic Gregorian), exported for the tests. */
int64_t tr_days_from_civil(int y, unsigned m, unsigned d);
void tr_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

/* ---- the vault's training settings: VAULT/training.json (config.c) ---- */
typedef struct tr_config {
    tr_rules rules;
    char zone[48];
    char smtp[256]; /* "smtp://127.0.0.1:25" or "" (no reminders by mail) */
    /* "smtp_plain_loopback": the relay is on loopback and has no TLS (mail in clear to it);
     * otherwise TLS is required (smtps:// or STARTTLS that may not be skipped) */
    bool smtp_plain_loopback;
    char from[128];        /* the reminders' sender */
    char mail_domain[128]; /* an account's address: username@mail_domain */
    char console_url[256]; /* the link in reminders, or "" */
    int remind_every_s;    /* the server sends due reminders this often (0: only on request) */
    char hr_scope[2048];   /* "hr_scope": which departments' figures each HR account reads */
} tr_config;
/* Whether the HR account user reads the training figures of dept by training.json's
 * "hr_scope" (its own department is always in scope: the caller checks that). */
bool tr_hr_scope_has(const tr_config *c, const char *user, const char *dept);
/* Reads DIR/training.json when present; absent means defaults. A malformed file is an
 * ERR_INPUT naming the key. */
MUST_USE err tr_config_load(const char *dir, tr_config *c);
MUST_USE err tr_config_parse(slice json, tr_config *c);

/* ---- mail (mail.c): one message through SMTP (libcurl), as the guard sends its alerts ---- */
MUST_USE err tr_mail_send(const char *url, const char *from, const char *to, const char *subject,
                          const char *text, bool require_tls);

#endif
