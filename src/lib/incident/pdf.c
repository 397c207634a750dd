/*
 * pdf.c - documents to PDF with Pango and cairo (pdf.h).
 *
 * The text is laid out once as one Pango layout the width of the page's text block; its lines
 * are drawn one by one, and a line that would cross the bottom margin starts a new page. Pango
 * picks a font for every character from fontconfig (Noto Sans CJK first), so no glyph goes
 * missing for a script the CJK face lacks. Rendering takes a lock: the font map is shared.
 */
#include "incident/pdf.h"

#include <cairo-pdf.h>
#include <dlfcn.h>
#include <pango/pangocairo.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/utf8.h"

#define PAGE_W 595.276 /* A4 in points */
#define PAGE_H 841.89
#define MARGIN 64.0
#define FOOT 28.0

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t at_exit_once = PTHREAD_ONCE_INIT;
static PangoFontMap *font_map; /* one for the process (Pango's default is one per thread) */

/* The font map and cairo's caches live for the process; they are let go at exit so a leak
 * checker sees only what was really lost. */
static void release_caches(void)
{
    pthread_mutex_lock(&lock);
    if (font_map) {
        g_object_unref(font_map);
        font_map = NULL;
    }
    cairo_debug_reset_static_data();
    /* fontconfig is Pango's library, not linked here by name: its FcFini found at run time */
    void (*fc_fini)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "FcFini");
    if (fc_fini) {
        fc_fini();
    }
    pthread_mutex_unlock(&lock);
}

static void register_release(void)
{
    atexit(release_caches);
}

static cairo_status_t to_buf(void *ctx, const unsigned char *data, unsigned int n)
{
    return buf_append((buf *)ctx, data, n) == ERR_OK ? CAIRO_STATUS_SUCCESS
                                                     : CAIRO_STATUS_WRITE_ERROR;
}

static void foot(cairo_t *cr, PangoLayout *fl, const char *title, int page)
{
    char s[300];
    snprintf(s, sizeof s, "%.200s  ·  %d", title, page);
    pango_layout_set_text(fl, s, -1);
    int w, h;
    pango_layout_get_pixel_size(fl, &w, &h);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    cairo_move_to(cr, PAGE_W - MARGIN - w, PAGE_H - MARGIN / 2 - h);
    pango_cairo_show_layout(cr, fl);
    cairo_set_source_rgb(cr, 0, 0, 0);
}

/* The text with the first paragraph as a heading, as Pango markup (everything escaped). */
static char *markup(const char *text)
{
    const char *end = strstr(text, "\n\n");
    size_t hn = end ? (size_t)(end - text) : strlen(text);
    char *head = g_markup_escape_text(text, (gssize)hn);
    char *rest = g_markup_escape_text(end ? end : "", -1);
    char *m = g_strdup_printf("<span size=\"x-large\" weight=\"bold\">%s</span>%s", head, rest);
    g_free(head);
    g_free(rest);
    return m;
}

static err render(const pdf_doc *d, buf *out)
{
    pthread_once(&at_exit_once, register_release);
    cairo_surface_t *sf = cairo_pdf_surface_create_for_stream(to_buf, out, PAGE_W, PAGE_H);
    if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(sf);
        BAIL(ERR_INTERNAL, "pdf: cannot make a surface");
    }
    cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_TITLE, d->title);
    cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_CREATOR, "Custos");
    if (d->created_us > 0) {
        time_t t = (time_t)(d->created_us / 1000000);
        struct tm tm;
        char date[40];
        gmtime_r(&t, &tm);
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
        cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_CREATE_DATE, date);
    }
    cairo_t *cr = cairo_create(sf);
    if (!font_map) {
        font_map = pango_cairo_font_map_new();
    }
    PangoContext *pc = pango_font_map_create_context(font_map);
    pango_cairo_update_context(cr, pc);
    PangoLayout *lay = pango_layout_new(pc), *fl = pango_layout_new(pc);
    const char *face = d->lang && strcmp(d->lang, "en") == 0 ? "Noto Sans CJK SC, Noto Sans 10.5"
                                                             : "Noto Sans CJK SC 10.5";
    PangoFontDescription *fd = pango_font_description_from_string(face);
    PangoFontDescription *ff = pango_font_description_from_string("Noto Sans CJK SC 8");
    pango_layout_set_font_description(lay, fd);
    pango_layout_set_font_description(fl, ff);
    pango_context_set_language(pango_layout_get_context(lay),
                               pango_language_from_string(d->lang ? d->lang : "zh-CN"));
    pango_layout_context_changed(lay);
    pango_layout_set_width(lay, (int)((PAGE_W - 2 * MARGIN) * PANGO_SCALE));
    pango_layout_set_wrap(lay, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_spacing(lay, (int)(4 * PANGO_SCALE));
    char *m = markup(d->text);
    pango_layout_set_markup(lay, m, -1);
    g_free(m);
    PangoLayoutIter *it = pango_layout_get_iter(lay);
    double offset = 0; /* layout y that sits at the top margin of this page */
    int page = 1;
    do {
        PangoRectangle r;
        pango_layout_iter_get_line_extents(it, NULL, &r);
        double top = (double)r.y / PANGO_SCALE, h = (double)r.height / PANGO_SCALE;
        if (top - offset + h > PAGE_H - 2 * MARGIN - FOOT && top > offset) {
            foot(cr, fl, d->title, page++);
            cairo_show_page(cr);
            offset = top;
        }
        double base = (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE;
        cairo_move_to(cr, MARGIN + (double)r.x / PANGO_SCALE, MARGIN + base - offset);
        pango_cairo_show_layout_line(cr, pango_layout_iter_get_line_readonly(it));
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
    foot(cr, fl, d->title, page);
    cairo_show_page(cr);
    pango_font_description_free(fd);
    pango_font_description_free(ff);
    g_object_unref(lay);
    g_object_unref(fl);
    g_object_unref(pc);
    cairo_destroy(cr);
    cairo_surface_finish(sf);
    cairo_status_t st = cairo_surface_status(sf);
    cairo_surface_destroy(sf);
    ENSURE(st == CAIRO_STATUS_SUCCESS, ERR_INTERNAL, "pdf: cairo failed (%s)",
           cairo_status_to_string(st));
    return ERR_OK;
}

err pdf_render(const pdf_doc *d, buf *out)
{
    ENSURE(d->text && d->title, ERR_INPUT, "pdf: a document needs a title and text");
    ENSURE(utf8_valid((const uint8_t *)d->text, strlen(d->text)) &&
               utf8_valid((const uint8_t *)d->title, strlen(d->title)),
           ERR_INPUT, "pdf: the text is not UTF-8");
    pthread_mutex_lock(&lock);
    err e = render(d, out);
    pthread_mutex_unlock(&lock);
    return e;
}

#ifdef __SANITIZE_ADDRESS__
/* cairo 1.16 keeps two small internal arrays (1,536 bytes) for the life of a process that has
 * drawn a PDF, past cairo_debug_reset_static_data; not Custos's allocations. Weak, so a test
 * binary's own list takes its place. */
const char *__lsan_default_suppressions(void) __attribute__((weak));
const char *__lsan_default_suppressions(void)
{
    return "leak:libcairo.so\n";
}
#endif
