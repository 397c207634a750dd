/*
 * door_drill.h - breach-response drills on the live system (docs/INCIDENTS.md, "Drills").
 *
 * A drill is started by security. It creates a drill account (role sales, department
 * "drill", a name starting with "drill-" that no other account may take) whose password
 * nobody knows and whose session never leaves the server, a pool of synthetic customers and
 * honeytokens in the "drill" department (generated, never real people), and a drill record.
 * The server then reads through its own HTTPS front as that account from a new loopback
 * address: a page of the pool (bulk reading), then a honeytoken, and goes on reading until it
 * is refused. The guard's own rules detect it and contain it (lock, revoke, block); nothing
 * here tells the guard anything. The drill records what it read and when it was refused, opens
 * a drill incident aware at the guard's alert, with the guard's responses as the containment
 * actions, computes the breach scope from the audit log, and disables the drill account.
 *
 * Why this cannot reach a customer: the drill account's role is held to its own department
 * (the start is refused when the policy does not), the "drill" department holds only the
 * synthetic pool, and the session token exists only in the server's memory while it reads.
 * Every act is audited under the drill account's name; the incident is marked as a drill.
 */
#ifndef CUSTOS_DOOR_DRILL_H
#define CUSTOS_DOOR_DRILL_H

#include "core/buf.h"
#include "door/door.h"

#define DRILL_DEPARTMENT "drill"
#define DRILL_ACCOUNT_PREFIX "drill-"
#define DRILL_POOL 240      /* synthetic customers in the drill department */
#define DRILL_HONEYTOKENS 2 /* honeytokens in the drill department */
#define DRILL_MAX_READS 64  /* requests the injection makes at most */

/* The compiled-in playbooks (door_drill_playbooks.c), {NULL, NULL} at the end. */
typedef struct door_drill_playbook {
    const char *id, *text;
} door_drill_playbook;
extern const door_drill_playbook DOOR_DRILL_PLAYBOOKS[];

/* What the server needs to run the injection. token is the drill account's session: it stays
 * in the server's memory (wipe it with door_drill_run_wipe) and is never answered. */
typedef struct door_drill_run {
    char id[ID_LEN + 1];
    char account[USERNAME_MAX + 1];
    char address[64]; /* the loopback address the injection reads from */
    char token[TOKEN_TEXT_MAX];
    char honeytokens[DRILL_HONEYTOKENS][ID_LEN + 1];
    int64_t started_us;
} door_drill_run;
void door_drill_run_wipe(door_drill_run *r);

/* Starts a drill of playbook (an id: VAULT/playbooks/ID.playbook, else the compiled-in one)
 * injected from address (a loopback address). Security only (guard.manage); one drill at a
 * time (ERR_CONFLICT while one is running). Audited as drill.start. */
MUST_USE err door_drill_start(vault *v, const actor *a, const char *playbook, const char *address,
                              door_drill_run *out);
/* The injection is over: requests is what it did ([{"at","method","path","status",
 * "customers":[ids]}], borrowed), first_honeytoken_us when it first read a honeytoken (the
 * start of detection). Waits (up to wait_us) for the guard's alert and responses, then opens
 * the drill incident, computes the scope, disables the drill account. Audited. */
MUST_USE err door_drill_finish(vault *v, const door_drill_run *run, json_t *requests,
                               int64_t first_honeytoken_us, int64_t wait_us);
/* The injection could not run (the server cannot reach itself): the drill is recorded as
 * failed with the reason, the account disabled. */
void door_drill_abort(vault *v, const door_drill_run *run, const char *why);

/* {"drills":[{"id","incident","playbook","state","account","address","started_at",
 *  "timings":{"detect_s",...},"handoffs":[...]}]} oldest first. Security, legal, auditors.
 * The people's part of a drill (tasks, evidence, notices, reports) is done on its incident
 * through the incidents' routes; the timings come from that incident as it is now. */
MUST_USE err door_drills_list(vault *v, const actor *a, json_t **out);
/* One drill with its requests, alert, sanctions, incident and scope. */
MUST_USE err door_drill_get(vault *v, const actor *a, const char *id, json_t **out);
/* The after-action report in lang ("zh-CN" or "en"), as format "text" (NULL), "html" or "pdf";
 * *content_type names it. Audited. */
MUST_USE err door_drill_report(vault *v, const actor *a, const char *id, const char *lang,
                               const char *format, buf *out, const char **content_type);
/* Whether a username is reserved for drills (no other account may take it). */
bool door_drill_account_name(const char *username);

#endif
