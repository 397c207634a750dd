/*
 * door_notices.h - an incident's documents and customer notices, through the door
 * (docs/INCIDENTS.md, docs/API.md "Incident documents and notices").
 *
 * The documents (customer notice, GDPR Art. 34 letter, CAC initial report and 30-day summary,
 * PIPL Art. 57 report, GDPR Art. 33 notification, public statement) are rendered from the
 * templates (VAULT/notices/KIND.LANG.tpl, else the shipped etc/notices/), the company's
 * settings (VAULT/notices.json), the teams' texts and the incident's stored scope.
 *
 * Who: the incident roles (security, legal, customer service, data stewards, auditors) list
 * and preview documents; a preview of one customer's letter carries that customer's name only
 * for a role that may read it (audited as a read of that customer). Security and legal write
 * the texts; legal approves a document kind and language (bound to the template's SHA-256 and
 * the facts: a changed template or text voids it); customer service sends the approved
 * notices and exports them for SMS or post. Names and addresses are decrypted only inside
 * these calls and never logged, audited or returned in an error.
 */
#ifndef CUSTOS_DOOR_NOTICES_H
#define CUSTOS_DOOR_NOTICES_H

#include <jansson.h>
#include <stdbool.h>

#include "door/door.h"

/* [{kind,lang,approved,approved_by,approved_at,template_sha256}] for every template found. */
MUST_USE err door_notices_documents(vault *v, const actor *a, const char *id, json_t **out);
/* One document. format: text|html|pdf; customer: NULL, or a customer of the scope (personal
 * kinds only). A document not (or no longer) approved is marked as a draft. content_type and
 * filename (cap bytes) describe the answer. */
MUST_USE err door_notices_document(vault *v, const actor *a, const char *id, const char *kind,
                                   const char *lang, const char *format, const char *customer,
                                   buf *out, const char **content_type, char *filename, size_t cap);
/* The teams' texts in a language: {measures, impact, cause, handling, harm, accountability,
 * remediation, lessons, customer_steps, event_type} (each optional, at most 4,000 bytes). */
MUST_USE err door_notices_texts(vault *v, const actor *a, const char *id, const char *lang,
                                const json_t *texts, json_t **out);
/* Legal approves kind in lang (NULL: every language it has a template in). */
MUST_USE err door_notices_approve(vault *v, const actor *a, const char *id, const char *kind,
                                  const char *lang, json_t **out);
/* Sends the approved customer notices (retry: only the failed ones that are due; force: a
 * person's retry, ignoring the backoff). languages: {customer id: "en"} (zh-CN otherwise).
 * out: {sent, failed, skipped, no_address, next_retry_at, records}. */
MUST_USE err door_notices_send(vault *v, const actor *a, const char *id, bool retry, bool force,
                               const json_t *languages, json_t **out);
/* {"records":[...]} per customer: channel, lang, outcome, attempts, times, by, error. */
MUST_USE err door_notices_records(vault *v, const actor *a, const char *id, json_t **out);
/* A data steward or legal approves the SMS or post export of the incident's notices for
 * channel ("sms"/"post"), bound to the scope's current checkpoint (a new scope voids it).
 * out: {channel, approved_by, approved_at}. */
MUST_USE err door_notices_export_approve(vault *v, const actor *a, const char *id,
                                         const char *channel, json_t **out);
/* The CSV for channel "sms" or "post" (customer service): only with an export approval by
 * someone else for that channel and the current scope; each name and phone or address at the
 * level the policy gives the exporter for that customer (masked, or the export refused);
 * audited with the customers and fields handed out. */
MUST_USE err door_notices_export(vault *v, const actor *a, const char *id, const char *channel,
                                 const json_t *languages, buf *out);

#endif
