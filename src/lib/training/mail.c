/*
 * mail.c - one plain-text reminder through the shared SMTP sender (core/smtp.h): TLS required
 * unless training.json lets a loopback relay take the mail in clear, a bounded time, addresses and
 * subject checked for line breaks so nothing can add a header, a Chinese subject as an RFC 2047
 * encoded word.
 */
#include "core/smtp.h"
#include "training/training.h"

err tr_mail_send(const char *url, const char *from, const char *to, const char *subject,
                 const char *text, bool require_tls)
{
    const char *rcpt[1] = {to};
    smtp_msg m = {.url = url,
                  .from = from,
                  .to = rcpt,
                  .nto = 1,
                  .subject = subject,
                  .msgid_host = "custos-training",
                  .body = text,
                  .plain_loopback = !require_tls};
    return smtp_send(&m);
}
