/*
 * mail.c - one plain-text message through SMTP with libcurl, the way the guard
 * delivers its alert mail (deliver.c): STARTTLS when the server offers it, a
 * bounded time, no signals. Addresses and subject are checked for line breaks
 * so nothing can add a header.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "training/training.h"

typedef struct mailbody {
    const char *p;
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

static bool one_line(const char *s, size_t max)
{
    return s && strlen(s) > 0 && strlen(s) < max && !strpbrk(s, "\r\n<>");
}

err tr_mail_send(const char *url, const char *from, const char *to, const char *subject,
                 const char *text)
{
    ENSURE(one_line(from, 200) && one_line(to, 200) && one_line(subject, 300), ERR_INPUT,
           "mail: an address or the subject is malformed");
    buf msg;
    buf_init(&msg, 1 << 20);
    char date[64], id[ID_LEN + 1];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    id_new(id, "msg");
    err rc = ERR_OK;
    GUARD(buf_appendf(&msg,
                      "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nMessage-ID: <%s@custos-training>\r\n"
                      "Subject: =?UTF-8?B?",
                      date, from, to, id));
    /* The subject may be Chinese: RFC 2047 base64. */
    static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(subject);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(uint8_t)subject[i] << 16;
        v |= i + 1 < n ? (uint32_t)(uint8_t)subject[i + 1] << 8 : 0;
        v |= i + 2 < n ? (uint8_t)subject[i + 2] : 0;
        char q[4] = {B64[(v >> 18) & 63], B64[(v >> 12) & 63], i + 1 < n ? B64[(v >> 6) & 63] : '=',
                     i + 2 < n ? B64[v & 63] : '='};
        GUARD(buf_append(&msg, q, 4));
    }
    GUARD(buf_appendf(&msg, "?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                            "Content-Transfer-Encoding: 8bit\r\n\r\n"));
    /* Body lines end in CRLF; a line that is a lone "." is doubled by curl itself. */
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            GUARD(buf_append_str(&msg, "\r\n"));
        } else if (*p != '\r') {
            GUARD(buf_append_byte(&msg, (uint8_t)*p));
        }
    }
    GUARD(buf_append_str(&msg, "\r\n"));
    CURL *h = curl_easy_init();
    CHECK(h != NULL, ERR_INTERNAL, "mail: no curl handle");
    char f[210], t[210];
    snprintf(f, sizeof f, "<%s>", from);
    snprintf(t, sizeof t, "<%s>", to);
    struct curl_slist *rcpt = curl_slist_append(NULL, t);
    mailbody mb = {(const char *)msg.p, msg.len, 0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
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
    CHECK(cc == CURLE_OK, ERR_IO, "mail: delivery failed (%s)", curl_easy_strerror(cc));
out:
    buf_free(&msg);
    return rc;
}
