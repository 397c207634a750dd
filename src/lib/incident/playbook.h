/*
 * playbook.h - breach-response playbooks (docs/FORMATS-playbook.md).
 *
 * A playbook says which tasks an incident of its kind creates for each team, when each is due
 * (relative to the moment the company became aware), who may do it, which tasks must be done
 * before it, which are mandatory for closing, and which audited actions it offers in one click
 * (lock the account, revoke its sessions, block the address, ...). The file is line-based text,
 * parsed strictly: any error names the file, the line and the statement, and nothing is
 * returned on error.
 */
#ifndef CUSTOS_INCIDENT_PLAYBOOK_H
#define CUSTOS_INCIDENT_PLAYBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define PLAYBOOK_MAX_BYTES (64 * 1024)
#define PLAYBOOK_MAX_LINE 1024
#define PLAYBOOK_MAX_TASKS 48
#define PLAYBOOK_ID_MAX 48
#define PLAYBOOK_TITLE_MAX 200 /* bytes of UTF-8 */
#define PLAYBOOK_TEXT_MAX 800  /* bytes of UTF-8, all `text` lines of one language joined */
#define PLAYBOOK_MAX_DUE_S (90 * 86400)

typedef enum pb_lang { PB_ZH, PB_EN, PB__LANGS } pb_lang;

typedef enum pb_team {
    PB_TECHNICAL,
    PB_LEGAL,
    PB_CUSTOMER_SERVICE,
    PB_STEWARDS,
    PB_COMMUNICATIONS,
    PB__TEAMS
} pb_team;

typedef enum pb_severity { PB_LOW, PB_MEDIUM, PB_HIGH, PB_CRITICAL, PB__SEVERITIES } pb_severity;

/* The actions a task offers; containment ones are existing, audited door operations. */
typedef enum pb_action {
    PBA_LOCK_ACCOUNT,
    PBA_REVOKE_SESSIONS,
    PBA_REVOKE_API_KEY,
    PBA_BLOCK_ADDRESS,
    PBA_SEAL_VAULT,
    PBA_SCOPE,               /* compute the breach scope from the audit log */
    PBA_EVIDENCE_BUNDLE,     /* the evidence bundle with proofs */
    PBA_LEGAL_ASSESSMENT,    /* the legal risk assessment form */
    PBA_REGULATOR_REPORT,    /* CAC / PIPL Art. 57 / GDPR Art. 33 reports */
    PBA_CUSTOMER_NOTICES,    /* the per-customer notices */
    PBA_DEPARTMENT_EXPOSURE, /* a steward checks their department's share of the scope */
    PBA_PUBLIC_STATEMENT,    /* the public statement draft */
    PBA__COUNT
} pb_action;

typedef struct pb_task {
    char id[PLAYBOOK_ID_MAX + 1];
    pb_team team;
    uint32_t roles;   /* bit per access/policy.h role allowed to do it */
    uint32_t actions; /* bit per pb_action */
    uint64_t after;   /* bit per earlier task index that must be done first */
    int64_t due_s;    /* seconds after awareness */
    bool mandatory;   /* closing the incident needs it done */
    char title[PB__LANGS][PLAYBOOK_TITLE_MAX + 1];
    char text[PB__LANGS][PLAYBOOK_TEXT_MAX + 1];
    uint32_t line; /* where the task begins */
} pb_task;

typedef struct playbook {
    char id[PLAYBOOK_ID_MAX + 1];
    char classification[PLAYBOOK_ID_MAX + 1];
    char title[PB__LANGS][PLAYBOOK_TITLE_MAX + 1];
    pb_severity severity;
    int escalate_to;  /* role told when a task is late */
    int64_t remind_s; /* remind the team this long before a task is due (0: at due time) */
    size_t ntasks;
    pb_task task[PLAYBOOK_MAX_TASKS];
} playbook;

/* Parses text (len bytes, not NUL-terminated) named name in messages. On success *out is a new
 * playbook (playbook_free); on error ERR_INPUT with "name:line: message" and *out untouched. */
MUST_USE err playbook_parse(const char *name, const char *text, size_t len, playbook **out);
void playbook_free(playbook *p);

const char *pb_team_name(pb_team t);
const char *pb_severity_name(pb_severity s);
const char *pb_action_name(pb_action a);
const char *pb_lang_name(pb_lang l);
/* Index of w in names[0..n), or -1 (the incident module's enumerations by name). */
int pb_name_index(const char *w, const char *const *names, int n);
/* Index of the task with that id, or -1. */
int playbook_task_index(const playbook *p, const char *id);

#endif
