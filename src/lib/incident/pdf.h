/*
 * pdf.h - incident documents as PDF (A4), laid out by Pango and drawn by cairo with the Noto
 * CJK fonts (Debian's fonts-noto-cjk), so Chinese, English and names in rare scripts (𠮷) print
 * as they are: notices to customers, regulator reports, the incident and after-action reports.
 * The text is the one the notice templates render; the PDF adds a title, page numbers and the
 * document's metadata.
 */
#ifndef CUSTOS_INCIDENT_PDF_H
#define CUSTOS_INCIDENT_PDF_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct pdf_doc {
    const char *title;  /* on every page's foot and in the metadata */
    const char *lang;   /* "zh-CN" or "en": picks the CJK face's regional forms */
    const char *text;   /* paragraphs separated by blank lines; the first is set as a heading */
    int64_t created_us; /* the metadata's creation date (0: none), so output is repeatable */
} pdf_doc;

/* Appends the PDF to out. ERR_INPUT for text that is not UTF-8; ERR_INTERNAL when cairo fails. */
MUST_USE err pdf_render(const pdf_doc *d, buf *out);

#endif
