/*
 * notice.h - the words of a breach response (docs/FORMATS-notice.md): letters to the customers
 * affected, the regulator reports (CAC initial report and 30-day summary, PIPL Art. 57, GDPR
 * Art. 33 and 34) and the public statement, each from a template that legal approves and from
 * the same facts (the incident and its scope from the audit log).
 *
 * A template is a short text file in sections. Each kind of document has the sections the law
 * or the company asks for (one table, notice_required); a template lacking one is refused when
 * it is read, with the file and the line, so a document that omits a required item cannot be
 * rendered at all. A customer's letter names only the fields that customer had exposed.
 */
#ifndef CUSTOS_INCIDENT_NOTICE_H
#define CUSTOS_INCIDENT_NOTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "incident/playbook.h"

#define NOTICE_MAX_BYTES (32 * 1024)
#define NOTICE_MAX_LINE 1024
#define NOTICE_MAX_SECTIONS 24

typedef enum notice_kind {
    NK_CUSTOMER,    /* the letter to one customer (PIPL Art. 57, GDPR Art. 34) */
    NK_CAC_INITIAL, /* the CAC incident report: within 4 hours of awareness */
    NK_CAC_SUMMARY, /* the CAC summary: within 30 days of the incident's end */
    NK_PIPL_57,     /* the report to the personal-information protection authority */
    NK_GDPR_33,     /* the report to the supervisory authority: within 72 hours */
    NK_STATEMENT,   /* the public statement */
    NK_GDPR_34,     /* the letter to one person in Europe (GDPR Art. 34): like NK_CUSTOMER */
    NK__COUNT
} notice_kind;

const char *notice_kind_name(notice_kind k);
/* By name ("customer-notice", ...); -1 when unknown. */
int notice_kind_parse(const char *name);
/* True for the letters to one person (customer notice, GDPR Art. 34): they name the person and
 * what of theirs was exposed, and may have sections kept only for some fields. */
bool notice_kind_personal(notice_kind k);

/* The sections a kind must have, NULL-terminated, and for each the item of the law it carries
 * (for the docs and the tests' table of items per law). */
typedef struct notice_item {
    const char *section;
    const char *item; /* e.g. "PIPL Art. 57(1): the categories of personal information" */
} notice_item;
const notice_item *notice_required(notice_kind k);

typedef struct notice_tpl notice_tpl;

/* Parses a template; on error ERR_INPUT "name:line: message" and *out untouched. */
MUST_USE err notice_tpl_parse(const char *name, const char *text, size_t len, notice_tpl **out);
void notice_tpl_free(notice_tpl *t);
notice_kind notice_tpl_kind(const notice_tpl *t);
pb_lang notice_tpl_lang(const notice_tpl *t);

/* The facts every document is made from. Strings are UTF-8 and may be NULL where a kind does
 * not use them; a template that names a missing fact is refused at rendering (ERR_INPUT naming
 * the placeholder), never rendered with a hole. */
typedef struct notice_facts {
    const char *company, *system, *contact_phone, *contact_email, *incident_ref;
    const char *event_type; /* the classification, in the template's language */
    int64_t discovered_us;  /* awareness */
    int64_t from_us, to_us; /* the window of the exposure */
    int32_t tz_offset_s;    /* the vault's zone (Asia/Shanghai: 28800) */
    const char *tz_label;   /* "北京时间" / "China Standard Time, UTC+8" */
    int64_t people;         /* customers affected (from the scope) */
    int64_t records;        /* field values exposed (from the scope) */
    uint32_t fields;        /* union of the customer fields exposed (bit per CF_*) */
    uint32_t categories;    /* union of the categories exposed (bit per CAT_*) */
    const char *measures, *impact, *cause, *handling, *harm, *accountability, *remediation,
        *lessons, *customer_steps;
} notice_facts;

/* One customer's part: their name (shown exactly as stored) and what of theirs was exposed. */
typedef struct notice_person {
    const char *name;
    uint32_t fields;     /* bit per CF_* */
    uint32_t categories; /* bit per CAT_* (transactions and communications are whole records) */
} notice_person;

/* Renders the document as plain text into out (appended). person is required for NK_CUSTOMER
 * and ignored otherwise. */
MUST_USE err notice_render(const notice_tpl *t, const notice_facts *f, const notice_person *person,
                           buf *out);

/* Renders one section alone (for checking that a required item is carried, and for the short
 * text of an SMS). ERR_NOT_FOUND when the template has no such section, or the section is kept
 * only for fields this person did not have exposed. */
MUST_USE err notice_render_section(const notice_tpl *t, const char *section, const notice_facts *f,
                                   const notice_person *person, buf *out);

/* The document as HTML: a whole page (UTF-8, lang, a Content-Security-Policy that allows no
 * script, style or other source; nothing inline), every character of title and text escaped;
 * the first paragraph a heading, the others paragraphs, single line breaks kept as <br>.
 * lang is "zh-CN" or "en" (ERR_INPUT otherwise). */
MUST_USE err notice_html(const char *title, const char *lang, const char *text, buf *out);

/* The CAC grade (网络安全事件分级指南) by the number of people whose personal information leaked:
 * 0 general, 1 relatively major (≥1,000,000), 2 major (≥10,000,000), 3 especially major
 * (≥100,000,000). */
int notice_cac_grade(int64_t people);
const char *notice_cac_grade_name(int grade, pb_lang l);

#endif
