/*
 * ingest.h - parsers for files that business systems send: RFC 4180 CSV,
 * charset conversion (GB18030/GBK/GB2312 to UTF-8 through iconv), and the
 * customer import batch (CSV with a header row of canonical field names, a
 * JSON array of objects, or JSON lines).
 *
 * Every parser is strict, bounded, and reports the line (and field) at fault;
 * none writes anything: applying a batch is the door's job, all or nothing.
 */
#ifndef CUSTOS_INGEST_H
#define CUSTOS_INGEST_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "model/model.h"

#define CSV_MAX_CELLS 64
#define CSV_MAX_CELL_BYTES 65536

/* Called once per row; cells are valid only during the call. line is the 1-based
 * line where the row starts. Returning an error stops the parse with that error. */
typedef err (*csv_row_fn)(void *ctx, size_t line, size_t ncells, const slice *cells);
/* RFC 4180: quoted cells with "" escapes and embedded newlines, CRLF or LF, an
 * optional UTF-8 BOM, no NUL bytes. Errors (ERR_INPUT) give the line. */
MUST_USE err csv_parse(slice input, csv_row_fn fn, void *ctx);
/* Appends one cell, quoted when it holds a comma, quote, CR or LF. */
MUST_USE err csv_write_cell(buf *out, slice value);

/* Converts in (declared charset: NULL, "utf-8", "gb18030", "gbk", "gb2312", case-insensitive)
 * to UTF-8 in out. UTF-8 input is validated only. Invalid sequences are an error naming
 * the byte offset; unknown charsets are ERR_INPUT. */
MUST_USE err charset_to_utf8(const char *charset, slice in, buf *out);
MUST_USE err charset_from_utf8(const char *charset, slice in, buf *out);

typedef enum import_format { IMPORT_CSV, IMPORT_JSON } import_format; /* JSON: array or lines */

typedef struct import_row {
    size_t line; /* where the row starts in the input (CSV line, JSON line or array index+1) */
    record rec;  /* a validated customer record (REC_CUSTOMER) */
} import_row;

typedef struct import_error {
    size_t row;        /* 1-based data row */
    size_t line;       /* input line */
    char field[32];    /* "" when the row as a whole is wrong */
    char message[160]; /* never contains the value */
} import_error;

typedef struct import_batch {
    import_row *rows;
    size_t nrows;
    import_error *errors;
    size_t nerrors;    /* errors found (one row may have several) */
    size_t total_rows; /* data rows read, good and bad */
} import_batch;

#define IMPORT_MAX_ROWS 1000000
#define IMPORT_MAX_ERRORS 1000 /* further errors are counted in nerrors but not kept */

/* Parses and validates every row of a UTF-8 body. Returns ERR_OK when the body's
 * structure is sound (row errors are then in out->errors: every row is checked,
 * so the report is complete); ERR_INPUT when the structure is not (no header,
 * unknown column, bad JSON), naming the line. out is always safe to free. */
MUST_USE err import_parse(slice utf8, import_format fmt, import_batch *out);
void import_batch_free(import_batch *b);

#endif
