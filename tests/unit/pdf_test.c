/*
 * pdf_test.c - documents as PDF: a customer letter in Chinese with a name outside the BMP (𠮷)
 * comes back from the PDF as the same text (poppler's pdftotext), with the CJK font embedded,
 * a page drawn (pdftoppm: dark pixels on page 1), and a long report runs over several pages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "incident/pdf.h"
#include "test.h"

static char dir[512];

static char *run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p) {
        return NULL;
    }
    char *out = calloc(1, 1 << 20);
    size_t n = fread(out, 1, (1 << 20) - 1, p);
    out[n] = 0;
    pclose(p);
    return out;
}

static void write_pdf(const pdf_doc *d, const char *name, char *path, size_t cap)
{
    buf b;
    buf_init(&b, 0);
    EXPECT_OK(pdf_render(d, &b));
    EXPECT(b.len > 1000 && memcmp(b.p, "%PDF-", 5) == 0);
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fwrite(b.p, 1, b.len, f);
    fclose(f);
    buf_free(&b);
}

/* Removes every space and line break, so the comparison does not depend on where lines wrap. */
static void squeeze(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r != ' ' && *r != '\n' && *r != '\f' && *r != '\r') {
            *w++ = *r;
        }
    }
    *w = 0;
}

TEST(t_chinese_letter)
{
    size_t n;
    char *text = test_slurp("tests/golden/notices/customer-full.zh-CN.txt", &n);
    EXPECT(text != NULL);
    if (!text) {
        return;
    }
    pdf_doc d = {.title = "INC-2026-0007 客户告知",
                 .lang = "zh-CN",
                 .text = text,
                 .created_us = 1772415000000000LL};
    char path[700], cmd[900];
    write_pdf(&d, "letter.pdf", path, sizeof path);
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 '%s' - 2>&1", path);
    char *got = run(cmd);
    EXPECT(got != NULL);
    if (got) {
        squeeze(got);
        /* The page feet, wherever a page broke. */
        for (char *f; (f = strstr(got, "INC-2026-0007客户告知·")) != NULL;) {
            char *e = f + strlen("INC-2026-0007客户告知·");
            while (*e >= '0' && *e <= '9') {
                e++;
            }
            memmove(f, e, strlen(e) + 1);
        }
        EXPECT(strstr(got, "尊敬的𠮷野由美：") != NULL);
        EXPECT(strstr(got, "姓名、身份证号码、手机号码和交易记录") != NULL);
        EXPECT(strstr(got, "\xef\xbf\xbd") == NULL); /* no replacement character */
        /* Every paragraph of the letter is in the PDF's text, none lost or mangled (pages may
         * fall between paragraphs, with their foot). */
        size_t paras = 0;
        for (char *para = text, *next; para && *para; para = next) {
            next = strstr(para, "\n\n");
            if (next) {
                *next = 0;
                next += 2;
            }
            squeeze(para);
            paras++;
            EXPECT(strstr(got, para) != NULL);
            if (!strstr(got, para)) {
                printf("  paragraph not found: %s\n", para);
            }
        }
        EXPECT(paras >= 10);
        free(got);
    }
    snprintf(cmd, sizeof cmd, "pdffonts '%s' 2>&1", path);
    got = run(cmd);
    EXPECT(got && strstr(got, "NotoSansCJK") != NULL);
    free(got);
    snprintf(cmd, sizeof cmd, "pdfinfo '%s' 2>&1", path);
    got = run(cmd);
    EXPECT(got && strstr(got, "INC-2026-0007 客户告知\n") != NULL);
    EXPECT(got && strstr(got, "Page size:       595.276 x 841.89 pts (A4)") != NULL);
    free(got);
    /* Rendered as a picture: page 1 has ink (a grey map at 30 dpi, P5 format). */
    snprintf(cmd, sizeof cmd,
             "pdftoppm -gray -r 30 -f 1 -l 1 '%s' '%s/page' && cat '%s/page-1.pgm'", path, dir,
             dir);
    FILE *p = popen(cmd, "r");
    int w = 0, h = 0, max = 0;
    size_t dark = 0, total = 0;
    if (p && fscanf(p, "P5 %d %d %d", &w, &h, &max) == 3 && fgetc(p) != EOF) {
        int c;
        while ((c = fgetc(p)) != EOF) {
            total++;
            dark += c < 128;
        }
    }
    if (p) {
        pclose(p);
    }
    EXPECT(w > 200 && h > 300);
    EXPECT(total == (size_t)w * (size_t)h);
    EXPECT(dark > 500);
    free(text);
}

TEST(t_pages)
{
    char *text = malloc(200000);
    size_t at = (size_t)snprintf(text, 200000, "After-action report\n\n");
    for (int i = 0; i < 120; i++) {
        at += (size_t)snprintf(text + at, 200000 - at,
                               "Observation %d: the hand-off from technical to legal took longer "
                               "than the playbook allows; 交接比预案规定的时间更长。\n\n",
                               i);
    }
    pdf_doc d = {.title = "Drill 3", .lang = "en", .text = text};
    char path[700], cmd[900];
    write_pdf(&d, "long.pdf", path, sizeof path);
    snprintf(cmd, sizeof cmd, "pdfinfo '%s' 2>&1", path);
    char *got = run(cmd);
    int pages = 0;
    const char *pg = got ? strstr(got, "Pages:") : NULL;
    if (pg) {
        pages = atoi(pg + 6);
    }
    EXPECT(pages >= 4);
    free(got);
    snprintf(cmd, sizeof cmd, "pdftotext '%s' - 2>&1", path);
    got = run(cmd);
    EXPECT(got && strstr(got, "Observation 119:") != NULL && strstr(got, "Observation 0:"));
    EXPECT(got && strstr(got, "Drill 3 · 4") != NULL); /* the foot numbers pages */
    free(got);
    free(text);
    /* Not UTF-8: refused. */
    buf b;
    buf_init(&b, 0);
    pdf_doc bad = {.title = "x", .lang = "en", .text = "\xc0\xaf"};
    EXPECT_ERR(pdf_render(&bad, &b), ERR_INPUT);
    buf_free(&b);
}

/* fontconfig keeps its caches for the life of the process; they are not Custos's leaks. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\nleak:libcairo.so\nleak:libpango\nleak:libglib\nleak:"
           "libgobject\n";
}

int main(void)
{
    char *d = test_tmpdir("pdf");
    snprintf(dir, sizeof dir, "%s", d);
    free(d);
    RUN(t_chinese_letter);
    RUN(t_pages);
    return test_done("pdf_test");
}
