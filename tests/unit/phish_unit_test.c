/*
 * phish_unit_test.c - the phishing template format and the pure parts of the simulation:
 * every shipped template parses; malformed ones are refused with the file and the line;
 * nothing active passes (scripts, handlers, outside addresses, named landing inputs); a
 * recipient's mail carries the links and escapes the name; the pages' policy names the hash
 * of the one script they run; the scanner filter's table; tracking ids are random and only
 * their shape is accepted.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "crypto/crypto.h"
#include "test.h"
#include "training/phish.h"

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *p = malloc(PHISH_TEMPLATE_MAX + 1);
    *n = fread(p, 1, PHISH_TEMPLATE_MAX, f);
    fclose(f);
    return p;
}

TEST(t_shipped_templates_parse)
{
    DIR *d = opendir("training/phishing");
    EXPECT(d != NULL);
    struct dirent *e;
    int n = 0, en = 0, zh = 0;
    while (d && (e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, ".txt")) {
            continue;
        }
        char p[600];
        snprintf(p, sizeof p, "training/phishing/%s", e->d_name);
        size_t len = 0;
        char *txt = read_all(p, &len);
        phish_template *t = NULL;
        EXPECT_OK(phish_template_parse(slice_of(txt, len), e->d_name, &t));
        if (t) {
            n++;
            en += strcmp(t->lang, "en") == 0;
            zh += strcmp(t->lang, "zh-CN") == 0;
            EXPECT(t->nsigns >= 3);
        }
        phish_template_free(t);
        free(txt);
    }
    if (d) {
        closedir(d);
    }
    EXPECT_INT(n, 8);
    EXPECT_INT(en, 4);
    EXPECT_INT(zh, 4);
}

static const char GOOD[] = "format: 1\n"
                           "id: t1\n"
                           "lang: en\n"
                           "name: A test\n"
                           "from: Someone <a@b.example>\n"
                           "subject: Hello\n"
                           "sign: from: a stranger\n"
                           "--- text\n"
                           "Hi {{name}}, {{link}} {{report}}\n"
                           "--- html\n"
                           "<p>Hi {{name}}, <a href=\"{{link}}\">x</a> <a href=\"{{report}}\">r</a>"
                           "<img src=\"{{pixel}}\"></p>\n"
                           "--- landing\n"
                           "<form method=\"post\" action=\"{{action}}\"><input type=\"password\">"
                           "</form>\n";

/* Parses GOOD with from replaced by to; returns the error message ("" when it parsed). */
static const char *with(const char *from, const char *to)
{
    static char msg[400];
    char txt[4096];
    const char *p = strstr(GOOD, from);
    if (!p) {
        return "(pattern not found)";
    }
    snprintf(txt, sizeof txt, "%.*s%s%s", (int)(p - GOOD), GOOD, to, p + strlen(from));
    phish_template *t = NULL;
    err e = phish_template_parse(slice_cstr(txt), "x.txt", &t);
    snprintf(msg, sizeof msg, "%s", e == ERR_OK ? "" : err_message());
    phish_template_free(t);
    return msg;
}

TEST(t_refused_with_file_and_line)
{
    EXPECT_STR(with("x", "x"), "");
    EXPECT_STR(with("lang: en", "lang: fr"), "x.txt:3: lang: zh-CN or en");
    EXPECT_STR(with("sign: from: a stranger", "sign: header: a stranger"),
               "x.txt:7: sign: \"AREA: text\", AREA one of from, subject, body, link, attachment, "
               "landing");
    EXPECT_STR(with("from: Someone <a@b.example>", "from: Someone <a b@c>"),
               "x.txt:5: from: \"Display Name <local@domain>\"");
    EXPECT_STR(with("<p>Hi", "<p onmouseover=\"x()\">Hi"),
               "x.txt:11: html: may not carry an event handler (on...=)");
    EXPECT_STR(with("<p>Hi", "<script>x()</script><p>Hi"), "x.txt:11: html: may not carry <script");
    EXPECT_STR(with("<p>Hi", "<img src=\"https://tracker.example/x.gif\"><p>Hi"),
               "x.txt:11: html: may not carry ://");
    EXPECT_STR(with("<input type", "<input name=\"pw\" type"),
               "x.txt:13: landing: may not carry name= (the landing page's inputs carry no name, "
               "so nothing typed is sent)");
    EXPECT_STR(with("{{report}}\n", "\n"), "x.txt:8: text: needs {{link}} and {{report}}");
    EXPECT_STR(with("{{name}},", "{{nam}},"), "x.txt:8: text: an unknown placeholder");
    EXPECT_STR(with("id: t1\n", "id: t1\nid: t2\n"), "x.txt:3: id: given twice");
    EXPECT_STR(with("--- landing", "--- landings"),
               "x.txt:12: unknown section \"landings\" (text, html, landing, teaching)");
    EXPECT_STR(with("subject: Hello\n", ""), "x.txt:1: subject: missing");
    EXPECT_STR(with("format: 1\n", "format: 2\n"), "x.txt:1: format: must be 1, given once");
    char big[PHISH_LINE_MAX + 20];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    EXPECT_STR(with("A test", big), "x.txt:4: a line longer than 900 bytes");
    EXPECT(strstr(with("A test", "A \xff test"), "x.txt: not UTF-8 text") != NULL);
}

TEST(t_mail_and_pages)
{
    phish_template *t = NULL;
    EXPECT_OK(phish_template_parse(slice_cstr(GOOD), "x.txt", &t));
    if (!t) {
        return;
    }
    char tok[PHISH_TOKEN_TEXT];
    phish_token_new(tok);
    phish_links l;
    EXPECT_ERR(phish_links_make("", tok, &l), ERR_INPUT);
    EXPECT_OK(phish_links_make("https://custos.example:8443", tok, &l));
    EXPECT(strstr(l.link, "https://custos.example:8443/t/c/") == l.link);
    buf b;
    buf_init(&b, 1 << 20);
    EXPECT_OK(phish_message(t, &l, "sales1@staff.example", "<Bob & Co>", &b));
    const char *m = buf_cstr(&b);
    EXPECT(strstr(m, "To: <sales1@staff.example>\r\n") != NULL);
    EXPECT(strstr(m, "From: =?UTF-8?B?") != NULL && strstr(m, "<a@b.example>\r\n") != NULL);
    EXPECT(strstr(m, "Hi <Bob & Co>, https://") != NULL);     /* text: as is */
    EXPECT(strstr(m, "Hi &lt;Bob &amp; Co&gt;, <a") != NULL); /* html: escaped */
    EXPECT(strstr(m, l.pixel) && strstr(m, l.report) && strstr(m, l.link));
    EXPECT(strstr(m, "multipart/alternative") != NULL);
    EXPECT_ERR(phish_message(t, &l, "x@y\r\nBcc: z@w", "n", &b), ERR_INPUT);
    buf_reset(&b);
    EXPECT_OK(phish_page_landing(t, &l, &b));
    m = buf_cstr(&b);
    EXPECT(strstr(m, l.action) != NULL);
    /* the policy's hash is that of the page's one script */
    const char *s = strstr(m, "<script>"), *e = s ? strstr(s, "</script>") : NULL;
    EXPECT(s && e);
    if (s && e) {
        uint8_t h[32];
        hash_sha256((const uint8_t *)s + 8, (size_t)(e - s - 8), h);
        char b64[48], want[64];
        b64_encode(b64, sizeof b64, h, sizeof h);
        snprintf(want, sizeof want, "'sha256-%s'", b64);
        EXPECT(strstr(phish_page_csp(), want) != NULL);
    }
    EXPECT(strncmp(phish_page_csp(), "sandbox allow-forms allow-scripts;", 34) == 0);
    EXPECT(strstr(phish_page_csp(), "allow-same-origin") == NULL);
    buf_reset(&b);
    EXPECT_OK(phish_page_teaching(t, &b));
    EXPECT(strstr(buf_cstr(&b), "a stranger") != NULL);
    buf_free(&b);
    phish_template_free(t);
}

/* The text section is plain text: the teaching page shows it escaped, whatever it holds. */
TEST(t_teaching_escapes_text)
{
    char txt[4096];
    const char *p = strstr(GOOD, "Hi {{name}}, {{link}}");
    snprintf(txt, sizeof txt, "%.*s<script>alert(1)</script> <img src=x> %s", (int)(p - GOOD), GOOD,
             p);
    phish_template *t = NULL;
    EXPECT_OK(phish_template_parse(slice_cstr(txt), "x.txt", &t));
    if (!t) {
        return;
    }
    buf b;
    buf_init(&b, 1 << 20);
    EXPECT_OK(phish_page_teaching(t, &b));
    EXPECT(strstr(buf_cstr(&b), "<script") == NULL);
    EXPECT(strstr(buf_cstr(&b), "<img src=x>") == NULL);
    EXPECT(strstr(buf_cstr(&b), "&lt;script&gt;alert(1)") != NULL);
    buf_free(&b);
    phish_template_free(t);
}

TEST(t_scanner_table)
{
    const int64_t sent = 1000000000, later = sent + 60 * 1000000LL;
    const char *ff = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0";
    struct {
        const char *method, *ua, *purpose;
        int64_t now;
        const char *want;
    } rows[] = {
        {"GET", ff, NULL, later, NULL},
        {"HEAD", ff, NULL, later, "head"},
        {"GET", ff, "prefetch", later, "prefetch"},
        {"GET", ff, "Prefetch;anonymous-client-ip", later, "prefetch"},
        {"GET", ff, "preview", later, "prefetch"},
        {"GET", "Mozilla/5.0 (compatible; Barracuda Sentinel)", NULL, later, "user-agent"},
        {"GET", "Mimecast-URL-Protect", NULL, later, "user-agent"},
        {"GET", "python-requests/2.31", NULL, later, "user-agent"},
        {"GET", "", NULL, later, "user-agent"},
        {"GET", NULL, NULL, later, "user-agent"},
        {"GET", ff, NULL, sent + 3 * 1000000LL, "too-soon"},
        {"POST", ff, NULL, sent + 21 * 1000000LL, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *got = phish_scanner(rows[i].method, rows[i].ua, rows[i].purpose, sent,
                                        rows[i].now, PHISH_SCANNER_S);
        if (rows[i].want) {
            EXPECT_STR(got, rows[i].want);
        } else {
            EXPECT(got == NULL);
        }
    }
}

TEST(t_tokens)
{
    char a[PHISH_TOKEN_TEXT], b[PHISH_TOKEN_TEXT];
    phish_token_new(a);
    phish_token_new(b);
    EXPECT_INT(strlen(a), 43);
    EXPECT(strcmp(a, b) != 0);
    uint8_t h1[32], h2[32];
    EXPECT(phish_token_hash(a, h1));
    EXPECT(phish_token_hash(b, h2));
    EXPECT(memcmp(h1, h2, 32) != 0);
    EXPECT(!phish_token_hash("short", h1));
    char bad[PHISH_TOKEN_TEXT];
    memcpy(bad, a, sizeof bad);
    bad[5] = '/';
    EXPECT(!phish_token_hash(bad, h1));
}

int main(void)
{
    if (mem_init() != ERR_OK) {
        return 1;
    }
    RUN(t_shipped_templates_parse);
    RUN(t_refused_with_file_and_line);
    RUN(t_mail_and_pages);
    RUN(t_teaching_escapes_text);
    RUN(t_scanner_table);
    RUN(t_tokens);
    return test_done("phish_unit_test");
}
