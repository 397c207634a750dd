/*
 * fuzz_phish.c - the phishing template parser on arbitrary bytes: never a crash, never a
 * template handed out on error, an error always names the file ("t.txt:LINE: ..." or
 * "t.txt: ..."). Whatever parses is rendered: the mail for a recipient and the landing and
 * teaching pages, none of which may carry a script of the template's, an address not of
 * ours, or a named input on the landing page.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "training/phish.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const phish_template *t)
{
    phish_links l;
    if (phish_links_make("https://custos.example/", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         &l) != ERR_OK) {
        abort();
    }
    buf b;
    buf_init(&b, (size_t)4 << 20);
    if (phish_message(t, &l, "someone@staff.example", "<\x01q>", &b) != ERR_OK ||
        buf_append_byte(&b, 0) != ERR_OK || !strstr((const char *)b.p, l.link)) {
        abort();
    }
    /* the HTML part (after the last text/html header: a template may quote one) escapes */
    const char *html = NULL;
    for (const char *p = strstr((const char *)b.p, "Content-Type: text/html"); p;
         p = strstr(p + 1, "Content-Type: text/html")) {
        html = p;
    }
    if (!html || strstr(html, "<\x01q>")) {
        abort();
    }
    buf_reset(&b);
    if (phish_page_landing(t, &l, &b) != ERR_OK || buf_append_byte(&b, 0) != ERR_OK) {
        abort();
    }
    /* one script, ours, at the end */
    const char *s = strstr((const char *)b.p, "<script");
    if (t->landing && (!s || strstr(s + 1, "<script"))) {
        abort();
    }
    buf_reset(&b);
    if (phish_page_teaching(t, &b) != ERR_OK || buf_append_byte(&b, 0) != ERR_OK ||
        strstr((const char *)b.p, "<script")) {
        abort();
    }
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        if (mem_init() != ERR_OK) {
            abort();
        }
        init = true;
    }
    phish_template *t = NULL;
    err e = phish_template_parse(slice_of(data, size), "t.txt", &t);
    if (e != ERR_OK) {
        if (t != NULL || strncmp(err_message(), "t.txt", 5) != 0) {
            abort();
        }
    } else {
        check(t);
        phish_template_free(t);
    }
    err_clear();
    return 0;
}
