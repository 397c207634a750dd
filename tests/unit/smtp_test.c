/*
 * smtp_test.c - the one SMTP sender's message: nothing in an address, the subject or the
 * content type can add a header or a recipient; a non-ASCII subject is an RFC 2047 word; body
 * lines end in CRLF; every recipient is in the To header.
 */
#include <stdio.h>
#include <string.h>

#include "core/smtp.h"
#include "test.h"

static err fmt(const char *from, const char *const *to, size_t nto, const char *subject,
               const char *ct, buf *out)
{
    smtp_msg m = {.url = "smtp://127.0.0.1:1",
                  .from = from,
                  .to = to,
                  .nto = nto,
                  .subject = subject,
                  .content_type = ct,
                  .msgid_host = "custos-test",
                  .body = "line one\nline two\r\n.\n"};
    return smtp_format(&m, out);
}

TEST(t_plain_and_encoded_subject)
{
    const char *to[2] = {"a@x.example", "b@y.example"};
    buf b;
    buf_init(&b, 1 << 16);
    EXPECT_OK(fmt("from@x.example", to, 2, "[custos guard] high alert 1: bf", NULL, &b));
    const char *s = buf_cstr(&b);
    EXPECT(strstr(s, "From: <from@x.example>\r\n") != NULL);
    EXPECT(strstr(s, "To: <a@x.example>, <b@y.example>\r\n") != NULL);
    EXPECT(strstr(s, "Subject: [custos guard] high alert 1: bf\r\n") != NULL);
    EXPECT(strstr(s, "Content-Type: text/plain; charset=utf-8\r\n") != NULL);
    EXPECT(strstr(s, "\r\n\r\nline one\r\nline two\r\n.\r\n") != NULL);
    EXPECT(strstr(s, "@custos-test>") != NULL);
    b.len = 0;
    /* 数据 = e6 95 b0 e6 8d ae -> 5pWw5o2u */
    EXPECT_OK(fmt("from@x.example", to, 1, "数据", "application/json; charset=utf-8", &b));
    s = buf_cstr(&b);
    EXPECT(strstr(s, "Subject: =?UTF-8?B?5pWw5o2u?=\r\n") != NULL);
    EXPECT(strstr(s, "Content-Type: application/json; charset=utf-8\r\n") != NULL);
    EXPECT(strstr(s, "b@y.example") == NULL);
    b.len = 0;
    /* an ASCII subject that looks like an encoded word is itself encoded */
    EXPECT_OK(fmt("from@x.example", to, 1, "=?UTF-8?B?AAAA?=", NULL, &b));
    EXPECT(strstr(buf_cstr(&b), "Subject: =?UTF-8?B?PT9VVEYtOD9CP0FBQUE/PQ==?=\r\n") != NULL);
    buf_free(&b);
}

TEST(t_no_header_injection)
{
    buf b;
    buf_init(&b, 1 << 16);
    const char *good[1] = {"a@x.example"};
    const char *bad_to[][1] = {{"a@x.example\r\nBcc: c@evil.example"},
                               {"a@x.example>, <c@evil.example"},
                               {"a@x.example,c@evil.example"},
                               {"no-at-sign"},
                               {"two@@x.example"},
                               {""}};
    for (size_t i = 0; i < sizeof bad_to / sizeof bad_to[0]; i++) {
        EXPECT_ERR(fmt("from@x.example", bad_to[i], 1, "s", NULL, &b), ERR_INPUT);
        EXPECT_ERR(fmt(bad_to[i][0], good, 1, "s", NULL, &b), ERR_INPUT);
    }
    EXPECT_ERR(fmt("from@x.example", good, 1, "hi\r\nBcc: c@evil.example", NULL, &b), ERR_INPUT);
    EXPECT_ERR(fmt("from@x.example", good, 1, "hi\nX: y", NULL, &b), ERR_INPUT);
    EXPECT_ERR(fmt("from@x.example", good, 1, "", NULL, &b), ERR_INPUT);
    EXPECT_ERR(fmt("from@x.example", good, 1, "s", "text/plain\r\nBcc: c@evil.example", &b),
               ERR_INPUT);
    EXPECT_ERR(fmt("from@x.example", good, 0, "s", NULL, &b), ERR_INPUT);
    const char *many[SMTP_RCPT_MAX + 1];
    for (size_t i = 0; i <= SMTP_RCPT_MAX; i++) {
        many[i] = "a@x.example";
    }
    EXPECT_ERR(fmt("from@x.example", many, SMTP_RCPT_MAX + 1, "s", NULL, &b), ERR_INPUT);
    EXPECT_OK(fmt("from@x.example", many, SMTP_RCPT_MAX, "s", NULL, &b));
    buf_free(&b);
}

TEST(t_unreachable_is_io)
{
    const char *to[1] = {"a@x.example"};
    /* port 1 on loopback: nothing listens; refused at once */
    smtp_msg m = {.url = "smtp://127.0.0.1:1",
                  .from = "f@x.example",
                  .to = to,
                  .nto = 1,
                  .subject = "s",
                  .body = "b"};
    EXPECT_ERR(smtp_send(&m), ERR_IO);
    m.url = "http://127.0.0.1:1/"; /* only smtp and smtps */
    EXPECT(smtp_send(&m) != ERR_OK);
}

int main(void)
{
    RUN(t_plain_and_encoded_subject);
    RUN(t_no_header_injection);
    RUN(t_unreachable_is_io);
    return test_done("smtp_test");
}
