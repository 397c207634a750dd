/*
 * phish_mail.c - hands a composed simulation mail to SMTP with libcurl, the way
 * training/mail.c sends reminders (STARTTLS when offered, a bounded time, no
 * signals). The reminder path sends plain text only; a simulation needs its HTML
 * part (the pixel, the link), so the message comes here whole.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "training/phish.h"

typedef struct mailbody {
    const uint8_t *p;
    size_t len, pos;
} mailbody;

static size_t mail_read(char *out, size_t sz, size_t n, void *ud)
{
    mailbody *m = ud;
    size_t want = sz * n, left = m->len - m->pos;
    size_t k = want < left ? want : left;
    memcpy(out, m->p + m->pos, k);
    m->pos += k;
    return k;
}

err phish_mail_send(const char *url, const char *env_from, const char *to, slice msg,
                    bool require_tls)
{
    ENSURE(url && url[0] && env_from && to && strlen(env_from) < 200 && strlen(to) < 200 &&
               !strpbrk(env_from, "\r\n<>") && !strpbrk(to, "\r\n<>"),
           ERR_INPUT, "phishing: the mail server or an address is missing or malformed");
    CURL *h = curl_easy_init();
    ENSURE(h != NULL, ERR_INTERNAL, "phishing: no curl handle");
    char f[210], t[210];
    snprintf(f, sizeof f, "<%s>", env_from);
    snprintf(t, sizeof t, "<%s>", to);
    struct curl_slist *rcpt = curl_slist_append(NULL, t);
    mailbody mb = {msg.p, msg.len, 0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_USE_SSL, (long)(require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, f);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, mail_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &mb);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    ENSURE(cc == CURLE_OK, ERR_IO, "phishing: delivery failed (%s)", curl_easy_strerror(cc));
    return ERR_OK;
}
