/*
 * door_incident.h - incidents on the live system, through the door: each call authorizes
 * (the reader roles, the roles the playbook names for a task, the capability a containment
 * action needs), audits, then acts on the stored incident (store_incident.h), whose JSON and
 * scope are sealed under a key of the vault's (docs/INCIDENTS.md).
 *
 * Who: security, legal, customer service, data stewards and auditors read incidents (a
 * steward sees only their department's part of a scope); sales, HR, admin and API keys see
 * nothing. Opening, phases, owners and closing are for security and legal; tasks for the
 * roles their playbook names; containment for the task's roles through the existing audited
 * door actions, which check their own rights again; the scope and the evidence bundle for
 * the roles that may read the audit log; regulator reports for legal.
 *
 * Every change is a compare-and-set on the stored row: concurrent changes of one incident are
 * applied one after the other, none is lost. No answer carries a customer's personal value:
 * scopes name customers by id with their department and the names of the fields exposed.
 */
#ifndef CUSTOS_DOOR_INCIDENT_H
#define CUSTOS_DOOR_INCIDENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "door/door.h"

typedef struct door_incident_open_opts {
    const char *playbook;         /* id: VAULT/playbooks/ID.playbook, else the shipped playbooks */
    const char *severity;         /* NULL: the playbook's */
    int64_t aware_us;             /* 0: the alert's first sighting, or now */
    int64_t alert;                /* > 0: open from this guard alert (its evidence is carried) */
    const char *note;             /* NULL or a first note on the timeline */
    bool drill;                   /* a drill: marked from its first moment, listed apart */
    bool critical_infrastructure; /* the CAC's 1-hour clock */
    bool eu_people;               /* GDPR Art. 33 applies */
} door_incident_open_opts;

/* out: the incident as GET shows it. */
MUST_USE err door_incident_open(vault *v, const actor *a, const door_incident_open_opts *o,
                                json_t **out);
/* state: "open" | "closed" | "all" (NULL: open); drill: 0 real only, 1 drills only.
 * out: {"incidents":[{id,title,playbook,severity,phase,owner,drill,aware_at,opened_at,
 * closed_at,late_tasks,source_alert}]} */
MUST_USE err door_incidents_list(vault *v, const actor *a, const char *state, int drill,
                                 json_t **out);
/* The incident (incident_to_json) with RFC 3339 times, each task's roles, title, due_at,
 * late and actions, and "deadlines":[{report,applies,due_at,filed_at,left_s}]. */
MUST_USE err door_incident_get(vault *v, const actor *a, const char *id, json_t **out);
MUST_USE err door_incident_task(vault *v, const actor *a, const char *id, const char *task,
                                bool done, const char *note, json_t **out);
MUST_USE err door_incident_phase(vault *v, const actor *a, const char *id, const char *phase,
                                 json_t **out);
MUST_USE err door_incident_owner(vault *v, const actor *a, const char *id, const char *owner,
                                 json_t **out);
MUST_USE err door_incident_note(vault *v, const actor *a, const char *id, const char *note,
                                json_t **out);
MUST_USE err door_incident_close(vault *v, const actor *a, const char *id, const char *closing,
                                 json_t **out);
/* One-click containment: action is lock-account, revoke-sessions, revoke-api-key,
 * block-address or seal-vault (nothing that lifts a sanction); target the account, the API
 * key's name or id, or the address (ignored for seal-vault). The task must offer the action
 * and be for the actor's role; the act runs as the actor through the door's audited path. */
MUST_USE err door_incident_action(vault *v, const actor *a, const char *id, const char *task,
                                  const char *action, const char *target, json_t **out);

/* The breach scope: computed from the audit log up to a signed checkpoint and stored. */
typedef struct door_scope_query {
    const char *actors[16];
    size_t nactors;
    const char *api_keys[16]; /* key names (the log's "key:NAME") or session short hashes */
    size_t napi_keys;
    const char *addresses[16];
    size_t naddresses;
    int64_t from_us[16], to_us[16];
    size_t nwindows;
} door_scope_query;
/* q NULL or naming nobody: the account and address of the alert the incident came from. */
MUST_USE err door_incident_scope_compute(vault *v, const actor *a, const char *id,
                                         const door_scope_query *q, json_t **out);
/* {checkpoint:{size,root,note},customers:[{id,department,fields,categories}],by_category,
 * by_department,honeytokens,people,records,computed_at,computed_by,query} */
MUST_USE err door_incident_scope(vault *v, const actor *a, const char *id, json_t **out);
/* The evidence bundle (incident/bundle.h) with the chain of custody; the export is recorded
 * on the timeline and in the log. out: the bundle's bytes (canonical JSON). */
/* The incident report (lang "zh-CN" or "en", format "text", "html" or "pdf"): the incident, its
 * phases, every task per team with who and when, containment, the scope's counts, the regulator
 * clocks, the closing and the timeline, times in the vault's zone; no customer value. *type is
 * the Content-Type, filename a name for the download. Incident readers; audited. */
MUST_USE err door_incident_report(vault *v, const actor *a, const char *id, const char *lang,
                                  const char *format, buf *out, const char **type, char *filename,
                                  size_t cap);
/* The evidence index: what a bundle exported now holds (its entries with index, time, action,
 * actor and leaf hash, the scope's signed checkpoint, the manifest's SHA-256 per file, the chain
 * of custody), made by the code that builds the bundle. Format also "json". Those who may export
 * the evidence (audit.read); audited. */
MUST_USE err door_incident_evidence_index(vault *v, const actor *a, const char *id,
                                          const char *lang, const char *format, buf *out,
                                          const char **type, char *filename, size_t cap);
MUST_USE err door_incident_evidence(vault *v, const actor *a, const char *id, const char *reason,
                                    buf *out);
MUST_USE err door_incident_filed(vault *v, const actor *a, const char *id, const char *report,
                                 json_t **out);

/* Reminders and escalations of late tasks for every open incident due at now: the task's roles
 * are told (notices), and for an escalation the playbook's escalate-to role and the guard's
 * alert channels (syslog, webhooks, e-mail) too; drills tell only in notices marked as drills.
 * sent receives how many went out. Called by the server's timer. */
MUST_USE err door_incident_tick(vault *v, int64_t now_us, size_t *sent);
/* The server's timer: a thread calling door_incident_tick every interval_ms. */
typedef struct door_incident_timer door_incident_timer;
MUST_USE err door_incident_timer_start(vault *v, int64_t interval_ms, door_incident_timer **out);
void door_incident_timer_stop(door_incident_timer *t);

#endif
