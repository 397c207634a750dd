/*
 * deliver.h - the words leave the building: each affected customer's notice, in the customer's
 * language, rendered from the template legal approved and that customer's part of the scope,
 * sent by e-mail through the one SMTP sender (core/smtp.h) or exported for SMS or post (CSV),
 * with a record per customer of the channel, when, by whom, the outcome and the attempts;
 * failures are retried with backoff.
 *
 * Approval binds a document kind and language to the SHA-256 of the template's bytes and of the
 * facts it is rendered from: a changed template or changed facts void it, and nothing is sent
 * without an approval that holds.
 *
 * A drill's mail goes only to the drill's recipients: in a drill the customers' addresses are
 * never given to the SMTP sender (not in the envelope, not in a header), whatever the caller
 * passes, and there is no export. Nothing personal is kept in the records, returned in an
 * error or logged: the records name the customer by id.
 */
#ifndef CUSTOS_INCIDENT_DELIVER_H
#define CUSTOS_INCIDENT_DELIVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "incident/notice.h"

#define NOTICE_ATTEMPTS_MAX 6
#define NOTICE_BACKOFF_FIRST_S 60 /* then doubled per attempt */
#define NOTICE_BACKOFF_MAX_S 3600
#define NOTICE_ID_MAX 64
#define NOTICE_RECIPIENTS_MAX 100000
#define NOTICE_CLAIM_STALE_S 900 /* a claimed send with no outcome after this is retried */

/* ---- documents in each format ---- */

typedef enum notice_format { NF_TEXT, NF_HTML, NF_PDF, NF__COUNT } notice_format;
/* "text", "html", "pdf"; -1 when unknown. */
int notice_format_parse(const char *s);
const char *notice_format_type(notice_format f); /* the Content-Type */

/* Wraps a rendered document (notice_render's text) in the format asked for. */
MUST_USE err notice_document(notice_format f, const char *title, pb_lang lang, const char *text,
                             int64_t created_us, buf *out);

/* ---- approval ---- */

typedef struct notice_approval {
    notice_kind kind;
    pb_lang lang;
    char tpl_sha256[65];   /* hex of the template's bytes */
    char facts_sha256[65]; /* hex of notice_facts_digest */
    char by[NOTICE_ID_MAX];
    int64_t at_us;
} notice_approval;

void notice_tpl_digest(const char *text, size_t len, char hex[65]);
/* A digest of every fact a document is made of, in a fixed order with lengths. */
MUST_USE err notice_facts_digest(const notice_facts *f, char hex[65]);
/* Fills a with what legal approves now. */
MUST_USE err notice_approve(notice_approval *a, notice_kind k, pb_lang l, const char *tpl_text,
                            size_t tpl_len, const notice_facts *f, const char *by, int64_t now_us);
/* True when a approves exactly this template's bytes and these facts (constant-time compares). */
bool notice_approval_holds(const notice_approval *a, notice_kind k, pb_lang l, const char *tpl_text,
                           size_t tpl_len, const notice_facts *f);
MUST_USE err notice_approval_to_json(const notice_approval *a, json_t **out);
MUST_USE err notice_approval_from_json(const json_t *j, notice_approval *a);

/* ---- recipients and records ---- */

typedef enum notice_channel { NCH_EMAIL, NCH_SMS, NCH_POST, NCH__COUNT } notice_channel;
const char *notice_channel_name(notice_channel c);
int notice_channel_parse(const char *s);

typedef enum notice_outcome {
    NO_PENDING,    /* not tried yet */
    NO_SENDING,    /* claimed by a sender now */
    NO_SENT,       /* the mail server took it */
    NO_FAILED,     /* refused or unreachable: retried from next_us */
    NO_GAVE_UP,    /* NOTICE_ATTEMPTS_MAX failures: only a person's retry sends it again */
    NO_NO_ADDRESS, /* no usable e-mail address: for the SMS or post export */
    NO__COUNT
} notice_outcome;
const char *notice_outcome_name(notice_outcome o);

/* One customer's personal values, decrypted by the door for this call only. */
typedef struct notice_recipient {
    const char *customer; /* id */
    const char *name;
    const char *email, *phone, *address; /* each may be NULL */
    pb_lang lang;                        /* zh-CN unless the customer asked for English */
    uint32_t fields, categories;         /* what of theirs the scope found exposed */
} notice_recipient;

typedef struct notice_record {
    char customer[NOTICE_ID_MAX];
    notice_channel channel;
    pb_lang lang;
    notice_outcome outcome;
    int attempts;
    int64_t first_us, last_us, next_us; /* first and last attempt; the next retry */
    int64_t claimed_us;                 /* while NO_SENDING: when it was claimed */
    char by[NOTICE_ID_MAX];             /* who sent (the last attempt) */
    char error[120];                    /* the mail server's reason, never an address */
} notice_record;

typedef struct notice_outbox notice_outbox;
MUST_USE err notice_outbox_new(notice_outbox **out);
void notice_outbox_free(notice_outbox *o);
/* The records as JSON (an array; no personal value), and back (for the store). */
MUST_USE err notice_outbox_to_json(notice_outbox *o, json_t **out);
MUST_USE err notice_outbox_from_json(notice_outbox *o, const json_t *records, int64_t now_us);
/* A copy of the record of customer, false when none. */
bool notice_outbox_get(notice_outbox *o, const char *customer, notice_record *out);

/* Where mail goes. In a drill (drill true) every message goes to drill_rcpt and only there;
 * a drill without recipients sends nothing (ERR_PRECONDITION). */
typedef struct notice_mailer {
    const char *smtp_url, *from;
    /* notices.json "smtp_plain_loopback": a relay on loopback that offers no TLS may be used
     * in clear; any other relay must do TLS (smtps:// or STARTTLS, never skipped) */
    bool plain_loopback;
    bool drill;
    const char *const *drill_rcpt;
    size_t ndrill;
} notice_mailer;

typedef struct notice_send_req {
    const notice_mailer *mailer;
    /* per language: the customer-notice template, its bytes, legal's approval, the facts */
    const notice_tpl *tpl[PB__LANGS];
    const char *tpl_text[PB__LANGS];
    size_t tpl_len[PB__LANGS];
    const notice_approval *approval[PB__LANGS];
    const notice_facts *facts[PB__LANGS];
    const notice_recipient *r;
    size_t n;
    const char *by;  /* the account sending */
    int64_t now_us;  /* wall clock, for the records and the backoff */
    bool retry_only; /* only records that failed (and are due, unless force) */
    bool force;      /* a person's retry: ignore the backoff, retry given-up records too */
} notice_send_req;

typedef struct notice_send_stats {
    size_t sent, failed, skipped, no_address;
    int64_t next_retry_us; /* the earliest next_us among the failed; 0 when none */
} notice_send_stats;

/* Sends each recipient's notice that is due (never one already sent or being sent by another
 * call: concurrent calls on one outbox mail each customer once). ERR_PRECONDITION, before any
 * mail, when a language needed has no approval that holds for its template and facts. */
MUST_USE err notice_outbox_send(notice_outbox *o, const notice_send_req *req,
                                notice_send_stats *st);

/* The same in three steps, for a caller that keeps the records in a store under a
 * compare-and-set: claim (go[i] true for each recipient this caller is to send; the claimed
 * records are NO_SENDING and no other claim takes them until settled or stale), deliver each
 * claimed one (no lock, no record), then settle each outcome. */
/* What notice_outbox_send checks before any mail: the request, the drill's recipients, and an
 * approval that holds for each language needed (ERR_PRECONDITION). */
MUST_USE err notice_send_check(const notice_send_req *req);
MUST_USE err notice_outbox_claim(notice_outbox *o, const notice_send_req *req, bool *go,
                                 notice_send_stats *st);
MUST_USE err notice_deliver(const notice_send_req *req, size_t i, char *why, size_t cap);
void notice_outbox_settle(notice_outbox *o, const notice_send_req *req, size_t i, err result,
                          const char *why, notice_send_stats *st);

/* ---- export for SMS or post ---- */

/* RFC 4180 CSV (every field quoted, CRLF), a header row, one row per recipient who has the
 * channel's address (phone for SMS, postal address for post): customer, name, phone or
 * address, lang, subject, text (SMS: the subject and the contact section; post: the whole
 * letter). A cell beginning with = + - @ tab or CR is neutralised with a leading apostrophe so
 * a spreadsheet never reads it as a formula. Refused in a drill (ERR_CONFLICT) and without an
 * approval that holds (ERR_PRECONDITION). */
MUST_USE err notice_export_csv(const notice_send_req *req, notice_channel ch, buf *out);
/* One CSV cell, quoted and neutralised (exposed for the tests and the fuzz target). */
MUST_USE err notice_csv_cell(buf *out, const char *s);

#endif
