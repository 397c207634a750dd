/*
 * smtp.h - one message out through SMTP with libcurl: the single sender of Custos's mail
 * (the guard's alerts, training reminders, breach notices). TLS required: smtps://, or STARTTLS
 * that may not be skipped (only a loopback relay may be let off, smtp_msg.plain_loopback), only
 * the smtp and smtps protocols, a bounded time, no signals.
 *
 * Addresses, the subject and extra headers are checked so that nothing can add a header or a
 * recipient: no CR, LF, angle brackets or NUL, bounded lengths. A subject that is not plain
 * ASCII is sent as an RFC 2047 encoded word (UTF-8, base64). Body lines end in CRLF; curl
 * doubles a leading dot itself.
 */
#ifndef CUSTOS_CORE_SMTP_H
#define CUSTOS_CORE_SMTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define SMTP_ADDR_MAX 254
#define SMTP_SUBJECT_MAX 300
#define SMTP_RCPT_MAX 32

typedef struct smtp_msg {
    const char *url;  /* smtp://host:port or smtps://host:port */
    const char *from; /* one bare address */
    const char *const *to;
    size_t nto;               /* 1..SMTP_RCPT_MAX bare addresses */
    const char *subject;      /* UTF-8 */
    const char *content_type; /* NULL: "text/plain; charset=utf-8" */
    const char *msgid_host;   /* the Message-ID's right side, e.g. "custos-guard" */
    const char *body;         /* UTF-8; LF or CRLF */
    /* TLS is required by default (smtps://, or STARTTLS that must succeed: a server that does
     * not offer it, or a network that strips it, fails the send). true: the operator's opt-out
     * for a relay on loopback without TLS (smtp_url_loopback), which then gets the message in
     * clear; ignored for any other host. */
    bool plain_loopback;
} smtp_msg;

/* True when the URL's host is a loopback address (127.0.0.0/8, ::1) or "localhost": the only
 * relay a setting may exempt from TLS. */
bool smtp_url_loopback(const char *url);

/* True when s is one address fit for an envelope and a header. */
bool smtp_addr_ok(const char *s);

/* Builds the message (headers and body, CRLF) into out; the sender's own formatting, kept
 * apart so it can be checked without a server. ERR_INPUT for a malformed address or subject. */
MUST_USE err smtp_format(const smtp_msg *m, buf *out);

/* Hands an already composed message (headers and body, CRLF; a MIME message with parts) to the
 * mail server for the given recipients, under the same TLS rule and checks of the addresses.
 * ERR_INPUT for a malformed address, ERR_IO as smtp_send. */
MUST_USE err smtp_send_message(const char *url, const char *from, const char *const *to, size_t nto,
                               slice msg, bool plain_loopback);

/* Formats and sends the message. ERR_INPUT as smtp_format; ERR_IO when the server refuses or
 * cannot be reached (the message names curl's reason, never an address). */
MUST_USE err smtp_send(const smtp_msg *m);

#endif
