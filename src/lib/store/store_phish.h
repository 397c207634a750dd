/*
 * store_phish.h - the store's phishing-simulation tables: campaigns (the template
 * as imported, the send window, the settings), one row per mail (who, when due,
 * when sent, the first time it was opened, clicked, submitted, reported), and the
 * requests the scanner filter set aside (counted, never attributed). A mail's
 * tracking id is kept only as its SHA-256: the rows cannot rebuild a working link.
 * Nothing typed into a landing page reaches these tables: there is no column for it.
 * The operations are one block of STORE_OPS (store_backend.h); the tables are made
 * by store_phish_ready (CREATE TABLE IF NOT EXISTS).
 */
#ifndef CUSTOS_STORE_PHISH_H
#define CUSTOS_STORE_PHISH_H

#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define PHISH_STORE_TEMPLATE_MAX ((size_t)256 << 10)

typedef struct phish_campaign {
    char id[ID_LEN + 1];
    char name[201];
    char template_id[65];
    char lang[8];
    char created_by[USERNAME_MAX + 8];
    int64_t created_us;
    int64_t starts_us, ends_us; /* the send window */
    int64_t track_until_us;     /* after this, /t/ records nothing */
    int scanner_s;              /* requests this soon after delivery are a scanner's */
    char remedial[65];          /* the course a clicker is assigned, or "" */
    char networks[512];         /* where a counted request may come from: CIDRs, ", " */
    char targets[1024];         /* what was asked for (roles, departments, users): JSON */
    buf template;               /* the template's text as imported */
} phish_campaign;

static inline void phish_campaign_init(phish_campaign *c)
{
    memset(c, 0, sizeof *c);
    buf_init(&c->template, PHISH_STORE_TEMPLATE_MAX + 1);
}

static inline void phish_campaign_free(phish_campaign *c)
{
    buf_free(&c->template);
}

typedef struct phish_mail {
    char id[ID_LEN + 1];
    char campaign[ID_LEN + 1];
    char account_id[ID_LEN + 1];
    char department[DEPT_MAX + 1];
    int64_t due_us;
    int64_t sent_us;                                          /* 0: not delivered (yet) */
    int attempts;                                             /* delivery attempts */
    int64_t opened_us, clicked_us, submitted_us, reported_us; /* the first of each; 0: never */
    bool enrolled; /* the remedial course was assigned after the click */
} phish_mail;

/* The events a mail records once (the first time). */
typedef enum phish_event { PE_OPEN, PE_CLICK, PE_SUBMIT, PE_REPORT, PE_ENROLL } phish_event;

typedef err (*store_phish_campaign_fn)(void *ctx, const phish_campaign *c);
typedef err (*store_phish_mail_fn)(void *ctx, const phish_mail *m);

MUST_USE err store_phish_ready(store *s);
/* ERR_CONFLICT when the id exists. */
MUST_USE err store_phish_campaign_put(store *s, const phish_campaign *c);
MUST_USE err store_phish_campaign_get(store *s, const char *id, phish_campaign *out);
/* Every campaign, newest first (the template is not filled). */
MUST_USE err store_phish_campaign_list(store *s, store_phish_campaign_fn fn, void *ctx);
MUST_USE err store_phish_mail_put(store *s, const phish_mail *m);
/* Mails due at now_us, not sent, tried fewer than max_attempts times; at most max. */
MUST_USE err store_phish_mail_due(store *s, int64_t now_us, int max_attempts, phish_mail *out,
                                  size_t max, size_t *n);
/* Delivered at at_us under the tracking id whose hash is given. */
MUST_USE err store_phish_mail_sent(store *s, const char *id, const uint8_t hash[32], int64_t at_us);
MUST_USE err store_phish_mail_failed(store *s, const char *id);
/* ERR_NOT_FOUND when no delivered mail has that tracking id. */
MUST_USE err store_phish_mail_by_token(store *s, const uint8_t hash[32], phish_mail *out);
/* Records ev at at_us when it was not recorded yet (one statement: concurrent requests
 * record it once); *first says whether this call did. */
MUST_USE err store_phish_mail_mark(store *s, const char *id, phish_event ev, int64_t at_us,
                                   bool *first);
MUST_USE err store_phish_filtered_add(store *s, const char *campaign, const char *kind,
                                      const char *reason, int64_t at_us);
MUST_USE err store_phish_filtered_count(store *s, const char *campaign, int64_t *n);
/* Mails of a campaign (NULL: every campaign) and of an account (NULL: everyone's), by due. */
MUST_USE err store_phish_mails(store *s, const char *campaign, const char *account_id,
                               store_phish_mail_fn fn, void *ctx);

#endif
