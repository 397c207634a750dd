/*
 * phish.h - simulated phishing below the door: the template format (a header of
 * "key: value" lines and sections of text, HTML, landing page and teaching notes;
 * docs/TRAINING.md, "Simulated phishing"), the pages Custos serves on /t/ (landing,
 * teaching, the report thanks), a mail composed for one recipient, the scanner
 * filter. Pure functions: door_phish.c reads and writes the rows and hands the mail to
 * core/smtp.h's sender.
 *
 * The idea: a template is trusted less than a course. Its HTML is checked for anything
 * active (scripts, handlers, frames, outside addresses), the landing page's inputs carry
 * no name (so a browser never sends what was typed), and the pages are served in a
 * sandbox (an opaque origin) with a policy that runs no script but the one of ours.
 */
#ifndef CUSTOS_PHISH_H
#define CUSTOS_PHISH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define PHISH_TEMPLATE_MAX ((size_t)256 << 10) /* one template file */
#define PHISH_LINE_MAX 900                     /* a line: mail lines stay under SMTP's 998 */
#define PHISH_SIGNS_MAX 12
#define PHISH_ID_MAX 64
#define PHISH_TOKEN_LEN 32  /* random bytes of a tracking id */
#define PHISH_TOKEN_TEXT 44 /* its base64url text (43 characters) and a NUL */
#define PHISH_SCANNER_S 20  /* a request this soon after delivery is a scanner's */

typedef enum phish_area {
    PA_FROM,
    PA_SUBJECT,
    PA_BODY,
    PA_LINK,
    PA_ATTACHMENT,
    PA_LANDING,
    PA__COUNT
} phish_area;
const char *phish_area_name(phish_area a);

typedef struct phish_sign {
    phish_area area;
    char text[PHISH_LINE_MAX + 1];
} phish_sign;

/* A parsed template. The sections are NUL-terminated copies (owned). */
typedef struct phish_template {
    char id[PHISH_ID_MAX + 1];
    char lang[8];   /* "zh-CN" | "en" */
    char name[201]; /* what the campaign list shows */
    char from[321]; /* "Display Name <addr@domain>" as the mail shows it */
    char subject[301];
    char attachment[121]; /* a lure's file name, or "" */
    size_t nsigns;
    phish_sign signs[PHISH_SIGNS_MAX];
    char *text, *html, *landing, *teaching; /* landing, teaching: NULL when absent */
} phish_template;

/* Parses a template. A malformed one is ERR_INPUT "FILE:LINE: what is wrong" (FILE the name
 * given) and *out stays NULL. The caller frees *out with phish_template_free. */
MUST_USE err phish_template_parse(slice text, const char *file, phish_template **out);
void phish_template_free(phish_template *t);

/* The addresses a recipient's mail points at: BASE/t/c/TOKEN (the link), /t/o/TOKEN.gif
 * (the pixel), /t/r/TOKEN (report) and /t/s/TOKEN (the landing form). base is the console's
 * address ("https://custos.example/"). */
typedef struct phish_links {
    char link[400], pixel[400], report[400], action[400];
} phish_links;
MUST_USE err phish_links_make(const char *base, const char *token, phish_links *out);

/* The whole RFC 5322 message for one recipient: multipart/alternative (text and HTML,
 * UTF-8, 8bit, CRLF), the template's From and Subject (RFC 2047), To: <to>. */
MUST_USE err phish_message(const phish_template *t, const phish_links *l, const char *to,
                           const char *name, buf *out);
/* The composed message goes out through core/smtp.h's smtp_send_message. */

/* The pages of /t/: complete HTML documents (UTF-8) in the template's language. */
MUST_USE err phish_page_landing(const phish_template *t, const phish_links *l, buf *out);
MUST_USE err phish_page_teaching(const phish_template *t, buf *out);
/* The page for a link that leads nowhere (unknown, expired); lang "zh-CN" or "en". */
MUST_USE err phish_page_plain(const char *lang, bool reported, buf *out);
/* The Content-Security-Policy of every /t/ page: a sandbox (opaque origin) allowing forms
 * and the one script of ours (phish_page_landing's, by its hash). */
const char *phish_page_csp(void);
/* The pixel: a 1x1 transparent GIF. */
slice phish_pixel(void);

/* Scanner filter: why a tracking request looks like a machine's (a static reason), or NULL
 * when it counts. method, ua (User-Agent) and purpose (Purpose / Sec-Purpose / X-Purpose /
 * X-Moz, the first present) may be NULL; sent_us: when the mail was delivered. */
const char *phish_scanner(const char *method, const char *ua, const char *purpose, int64_t sent_us,
                          int64_t now_us, int scanner_s);

/* A tracking id: PHISH_TOKEN_LEN random bytes as base64url; hash: what the store keeps
 * (SHA-256 of the text), so the rows never hold a working link. */
void phish_token_new(char out[PHISH_TOKEN_TEXT]);
/* False when text is not the shape of a tracking id (the hash is then not computed). */
bool phish_token_hash(const char *text, uint8_t hash[32]);

#endif
