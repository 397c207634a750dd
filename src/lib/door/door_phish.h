/*
 * door_phish.h - simulated phishing through the door: campaigns (HR), the sender
 * that spreads a campaign's mail over its window, the tracking requests of /t/
 * (pixel, link, landing form, report link), the console's report button, and the
 * metrics (HR everything, stewards their department, everyone else only their own).
 * The tracking requests come from nobody in particular: they are given a page
 * whatever the id, never reach customer data, and count only once per mail, from
 * the campaign's networks, within its tracking period, and when no scanner made them.
 */
#ifndef CUSTOS_DOOR_PHISH_H
#define CUSTOS_DOOR_PHISH_H

#include "door/door.h"

/* The private ranges, without loopback: behind a local reverse proxy that is not among
 * trusted_proxies every client of the internet would look like 127.0.0.1. */
#define PHISH_DEFAULT_NETWORKS "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7"
#define PHISH_SEND_ATTEMPTS 5 /* delivery tries per mail */
#define PHISH_TICK_BATCH 20   /* mails per sender round */
#define PHISH_MAILS_MAX 5000  /* recipients per campaign */

/* HR (training.manage) or the system actor: a campaign. spec:
 * {"name"?, "template": TEXT, "targets": {"roles":[], "departments":[], "users":[]},
 *  "starts_at"?, "ends_at"? (RFC 3339; default now and four hours later), "track_days"? (14),
 *  "scanner_seconds"? (20), "remedial"? (a course id), "networks"? ([CIDR...]; a range that
 *  takes in loopback together with other addresses is refused: loopback only named alone)}.
 * out: the campaign with its number of mails. */
MUST_USE err door_phish_campaign_create(vault *v, const actor *a, json_t *spec, json_t **out);
/* The campaigns (HR and stewards): {"campaigns":[{id,name,template,lang,starts_at,...}]} */
MUST_USE err door_phish_campaigns(vault *v, const actor *a, json_t **out);
/* Sends the mails due at now_us through the vault's training mail settings (training.json:
 * smtp, from, mail_domain, console_url). out: {"sent","failed"}. System actor only. */
MUST_USE err door_phish_tick(vault *v, int64_t now_us, json_t **out);

/* One request on /t/. kind: 'o' pixel, 'c' link, 's' landing form, 'r' report link. */
typedef struct phish_hit {
    char kind;
    const char *token;
    const char *method, *user_agent, *purpose; /* purpose: a prefetch header, or NULL */
    const char *source;                        /* the client's address */
    size_t body_len;                           /* bytes of the form, read and discarded */
} phish_hit;
/* The answer to a /t/ request: always a page (body, content type), whatever the id. */
void door_phish_track(vault *v, const phish_hit *h, buf *body, const char **ctype);

/* The console's report button (a signed-in person): link, when given, is the suspicious
 * mail's link; otherwise the caller's latest simulation mail still open is reported.
 * out: {"reported": true, "simulation": bool}. */
MUST_USE err door_phish_report(vault *v, const actor *a, const char *link, json_t **out);
/* Metrics of a campaign, per department: delivered, opened, clicked, submitted, reported,
 * phish_prone_pct, report_rate_pct, median_report_s, repeat_clickers. HR: all; stewards:
 * their department. */
MUST_USE err door_phish_metrics(vault *v, const actor *a, const char *campaign, json_t **out);
/* The caller's own simulation mails and what they did. */
MUST_USE err door_phish_mine(vault *v, const actor *a, json_t **out);
/* The demo's finished campaign (system actor): every mail delivered in the past window,
 * events drawn from seed, no live tracking id. */
MUST_USE err door_phish_demo(vault *v, const char *template_text, const char *remedial,
                             uint32_t seed, json_t **out);

#endif
