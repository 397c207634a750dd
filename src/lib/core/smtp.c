/*
 * smtp.c - the one SMTP sender (smtp.h).
 */
#include "core/smtp.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"

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
    if (!s) {
        return false;
    }
    size_t n = strlen(s);
    if (n == 0 || n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '<' || c == '>') {
            return false;
        }
    }
    return true;
}

bool smtp_url_loopback(const char *url)
{
    const char *h = url ? strstr(url, "://") : NULL;
    if (!h) {
        return false;
    }
    h += 3;
    char host[64];
    size_t n;
    if (*h == '[') {
        h++;
        n = strcspn(h, "]");
        if (h[n] != ']') {
            return false;
        }
    } else {
        n = strcspn(h, ":/?#@");
        if (h[n] == '@') {
            return false; /* user information: not a plain relay location */
        }
    }
    if (n == 0 || n >= sizeof host) {
        return false;
    }
    memcpy(host, h, n);
    host[n] = '\0';
    if (strcmp(host, "localhost") == 0) {
        return true;
    }
    unsigned char a[16];
    if (inet_pton(AF_INET, host, a) == 1) {
        return a[0] == 127;
    }
    static const unsigned char one[16] = {[15] = 1};
    return inet_pton(AF_INET6, host, a) == 1 && memcmp(a, one, 16) == 0;
}

bool smtp_addr_ok(const char *s)
{
    if (!one_line(s, SMTP_ADDR_MAX) || strpbrk(s, " ,;\"()[]\\") != NULL) {
        return false;
    }
    const char *at = strchr(s, '@');
    return at && at != s && at[1] != '\0' && strchr(at + 1, '@') == NULL;
}

static bool ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s >= 0x80) {
            return false;
        }
    }
    return true;
}

static err put_b64_word(buf *out, const char *s)
{
    static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    err rc = ERR_OK;
    GUARD(buf_append_str(out, "=?UTF-8?B?"));
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(uint8_t)s[i] << 16;
        v |= i + 1 < n ? (uint32_t)(uint8_t)s[i + 1] << 8 : 0;
        v |= i + 2 < n ? (uint8_t)s[i + 2] : 0;
        char q[4] = {B64[(v >> 18) & 63], B64[(v >> 12) & 63], i + 1 < n ? B64[(v >> 6) & 63] : '=',
                     i + 2 < n ? B64[v & 63] : '='};
        GUARD(buf_append(out, q, 4));
    }
    GUARD(buf_append_str(out, "?="));
out:
    return rc;
}

static bool msg_ok(const smtp_msg *m)
{
    if (!m || !m->url || !smtp_addr_ok(m->from) || !m->to || m->nto == 0 ||
        m->nto > SMTP_RCPT_MAX || !one_line(m->subject, SMTP_SUBJECT_MAX) || !m->body) {
        return false;
    }
    for (size_t i = 0; i < m->nto; i++) {
        if (!smtp_addr_ok(m->to[i])) {
            return false;
        }
    }
    return (!m->content_type || one_line(m->content_type, 100)) &&
           (!m->msgid_host || (one_line(m->msgid_host, 100) && !strchr(m->msgid_host, ' ')));
}

err smtp_format(const smtp_msg *m, buf *out)
{
    ENSURE(msg_ok(m), ERR_INPUT, "mail: an address or the subject is malformed");
    err rc = ERR_OK;
    char date[64], id[ID_LEN + 1];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    id_new(id, "msg");
    GUARD(buf_appendf(out, "Date: %s\r\nFrom: <%s>\r\nTo: ", date, m->from));
    for (size_t i = 0; i < m->nto; i++) {
        GUARD(buf_appendf(out, "%s<%s>", i ? ", " : "", m->to[i]));
    }
    GUARD(buf_appendf(out, "\r\nMessage-ID: <%s@%s>\r\nSubject: ", id,
                      m->msgid_host ? m->msgid_host : "custos"));
    if (ascii(m->subject) && !strstr(m->subject, "=?")) {
        GUARD(buf_append_str(out, m->subject));
    } else {
        GUARD(put_b64_word(out, m->subject));
    }
    GUARD(buf_appendf(out,
                      "\r\nMIME-Version: 1.0\r\nContent-Type: %s\r\n"
                      "Content-Transfer-Encoding: 8bit\r\n\r\n",
                      m->content_type ? m->content_type : "text/plain; charset=utf-8"));
    for (const char *p = m->body; *p; p++) {
        if (*p == '\n') {
            GUARD(buf_append_str(out, "\r\n"));
        } else if (*p != '\r') {
            GUARD(buf_append_byte(out, (uint8_t)*p));
        }
    }
    GUARD(buf_append_str(out, "\r\n"));
out:
    return rc;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

err smtp_send_message(const char *url, const char *from, const char *const *to, size_t nto,
                      slice msg, bool plain_loopback)
{
    ENSURE(url && url[0] && smtp_addr_ok(from) && nto >= 1 && nto <= SMTP_RCPT_MAX, ERR_INPUT,
           "mail: the mail server, the sender or the recipients are missing or malformed");
    for (size_t i = 0; i < nto; i++) {
        ENSURE(smtp_addr_ok(to[i]), ERR_INPUT, "mail: a recipient address is malformed");
    }
    pthread_once(&curl_once, curl_init);
    CURL *h = curl_easy_init();
    ENSURE(h != NULL, ERR_INTERNAL, "mail: no curl handle");
    char fr[SMTP_ADDR_MAX + 3];
    snprintf(fr, sizeof fr, "<%s>", from);
    struct curl_slist *rcpt = NULL;
    for (size_t i = 0; i < nto; i++) {
        char one[SMTP_ADDR_MAX + 3];
        snprintf(one, sizeof one, "<%s>", to[i]);
        struct curl_slist *r = curl_slist_append(rcpt, one);
        if (!r) {
            curl_slist_free_all(rcpt);
            curl_easy_cleanup(h);
            BAIL(ERR_INTERNAL, "mail: out of memory");
        }
        rcpt = r;
    }
    mailbody mb = {(const char *)msg.p, msg.len, 0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    /* CURLUSESSL_TRY would go on in clear when STARTTLS is missing or stripped on the way */
    bool clear_ok = plain_loopback && smtp_url_loopback(url);
    curl_easy_setopt(h, CURLOPT_USE_SSL, (long)(clear_ok ? CURLUSESSL_TRY : CURLUSESSL_ALL));
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, fr);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, mail_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &mb);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    ENSURE(cc == CURLE_OK, ERR_IO, "mail: delivery failed (%s)", curl_easy_strerror(cc));
    return ERR_OK;
}

err smtp_send(const smtp_msg *m)
{
    buf msg;
    buf_init(&msg, 4 << 20);
    err rc = smtp_format(m, &msg);
    if (rc == ERR_OK) {
        rc = smtp_send_message(m->url, m->from, m->to, m->nto, buf_slice(&msg), m->plain_loopback);
    }
    buf_free(&msg);
    return rc;
}
