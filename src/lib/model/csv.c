/*
 * csv.c - a strict, streaming RFC 4180 reader and a cell writer.
 *
 * The reader walks the input slice once. The cells of the current row are
 * copied into one reusable buffer (so quoted cells with "" escapes come out
 * unescaped) and handed to the callback as slices; the buffer is wiped after
 * each row because rows carry personal data. Line numbers count LF bytes, so a
 * quoted cell with embedded line breaks moves the count on exactly as an editor
 * would, and every error names the line: where an unterminated quoted cell
 * started, or where the offending byte is. Limits (cells per row, bytes per
 * cell) bound the memory any input can claim.
 */
#include <string.h>

#include "core/mem.h"
#include "model/ingest.h"

typedef struct row_state {
    buf cells;                 /* the bytes of every cell of the current row */
    size_t off[CSV_MAX_CELLS]; /* where each cell starts in `cells` */
    size_t len[CSV_MAX_CELLS]; /* and its length */
    slice view[CSV_MAX_CELLS]; /* what the callback sees */
    size_t n;
} row_state;

static void row_wipe(row_state *r)
{
    if (r->cells.p) {
        mem_wipe(r->cells.p, r->cells.len);
    }
    r->cells.len = 0;
    r->n = 0;
}

/* Appends in[0..n) to the current cell, which started at `start`. */
static err cell_append(row_state *r, size_t start, const uint8_t *in, size_t n, size_t line)
{
    ENSURE(r->cells.len - start + n <= CSV_MAX_CELL_BYTES, ERR_INPUT,
           "line %zu: a cell is longer than %d bytes", line, CSV_MAX_CELL_BYTES);
    return buf_append(&r->cells, in, n);
}

/* Reads one quoted cell; *i is just past the opening quote. */
static err quoted_cell(slice in, size_t *i, size_t *line, row_state *r, size_t start)
{
    const uint8_t *p = in.p;
    size_t n = in.len, cell_line = *line;
    for (;;) {
        ENSURE(*i < n, ERR_INPUT, "line %zu: quoted cell is never closed", cell_line);
        size_t run = *i;
        while (run < n && p[run] != '"' && p[run] != '\n' && p[run] != '\0') {
            run++;
        }
        TRY(cell_append(r, start, p + *i, run - *i, *line));
        *i = run;
        if (run == n) {
            continue; /* reports the open quote */
        }
        ENSURE(p[run] != '\0', ERR_INPUT, "line %zu: NUL byte in input", *line);
        if (p[run] == '\n') {
            TRY(cell_append(r, start, p + run, 1, *line));
            (*line)++;
            (*i)++;
            continue;
        }
        if (run + 1 < n && p[run + 1] == '"') {
            TRY(cell_append(r, start, p + run, 1, *line)); /* "" is one quote */
            *i += 2;
            continue;
        }
        (*i)++; /* the closing quote */
        bool end = *i == n || p[*i] == ',' || p[*i] == '\n' ||
                   (p[*i] == '\r' && *i + 1 < n && p[*i + 1] == '\n');
        ENSURE(end, ERR_INPUT, "line %zu: unexpected text after a closing quote", *line);
        return ERR_OK;
    }
}

static err plain_cell(slice in, size_t *i, size_t line, row_state *r, size_t start)
{
    const uint8_t *p = in.p;
    size_t n = in.len, run = *i;
    while (run < n && p[run] != ',' && p[run] != '\n' && p[run] != '\r') {
        ENSURE(p[run] != '"', ERR_INPUT, "line %zu: a quote inside a cell that is not quoted",
               line);
        ENSURE(p[run] != '\0', ERR_INPUT, "line %zu: NUL byte in input", line);
        run++;
    }
    ENSURE(run == n || p[run] != '\r' || (run + 1 < n && p[run + 1] == '\n'), ERR_INPUT,
           "line %zu: carriage return without a line feed", line);
    TRY(cell_append(r, start, p + *i, run - *i, line));
    *i = run;
    return ERR_OK;
}

static err parse(slice in, csv_row_fn fn, void *ctx, row_state *r)
{
    const uint8_t *p = in.p;
    size_t n = in.len, i = 0, line = 1;
    size_t known_content = 0; /* a start before this offset has content after it */
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        i = 3;
    }
    TRY(buf_reserve(&r->cells, 0)); /* cells.p is never NULL below */
    while (i < n) {
        if (i >= known_content) {
            size_t q = i;
            while (q < n && (p[q] == '\r' || p[q] == '\n')) {
                q++;
            }
            if (q == n) {
                break; /* only blank lines are left */
            }
            known_content = q + 1;
        }
        size_t row_line = line;
        for (;;) {
            ENSURE(r->n < CSV_MAX_CELLS, ERR_INPUT, "line %zu: more than %d cells in a row", line,
                   CSV_MAX_CELLS);
            size_t start = r->cells.len;
            if (i < n && p[i] == '"') {
                i++;
                TRY(quoted_cell(in, &i, &line, r, start));
            } else {
                TRY(plain_cell(in, &i, line, r, start));
            }
            r->off[r->n] = start;
            r->len[r->n] = r->cells.len - start;
            r->n++;
            if (i < n && p[i] == ',') {
                i++;
                continue;
            }
            if (i < n && p[i] == '\r') {
                i++;
            }
            if (i < n && p[i] == '\n') {
                i++;
                line++;
            }
            break;
        }
        for (size_t c = 0; c < r->n; c++) {
            r->view[c] = slice_of(r->cells.p + r->off[c], r->len[c]);
        }
        TRY(fn(ctx, row_line, r->n, r->view));
        row_wipe(r);
    }
    return ERR_OK;
}

err csv_parse(slice input, csv_row_fn fn, void *ctx)
{
    ENSURE(fn != NULL, ERR_INTERNAL, "no row callback");
    ENSURE(input.p != NULL || input.len == 0, ERR_INTERNAL, "NULL input");
    row_state r;
    memset(&r, 0, sizeof r);
    buf_init(&r.cells, (size_t)CSV_MAX_CELLS * CSV_MAX_CELL_BYTES);
    err rc = parse(input, fn, ctx, &r);
    buf_free(&r.cells);
    return rc;
}

err csv_write_cell(buf *out, slice value)
{
    bool quote = false;
    for (size_t i = 0; i < value.len && !quote; i++) {
        uint8_t c = value.p[i];
        quote = c == ',' || c == '"' || c == '\r' || c == '\n';
    }
    if (!quote) {
        return buf_append(out, value.p, value.len);
    }
    TRY(buf_append_byte(out, '"'));
    size_t from = 0;
    for (size_t i = 0; i < value.len; i++) {
        if (value.p[i] == '"') {
            TRY(buf_append(out, value.p + from, i + 1 - from)); /* up to and with the quote */
            TRY(buf_append_byte(out, '"'));
            from = i + 1;
        }
    }
    TRY(buf_append(out, value.p + from, value.len - from));
    return buf_append_byte(out, '"');
}
