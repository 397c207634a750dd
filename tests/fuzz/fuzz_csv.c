/*
 * fuzz_csv.c - libFuzzer target for the RFC 4180 reader. Besides looking for
 * crashes and leaks, it checks a round trip: every row the reader accepts is
 * written back with csv_write_cell and read again, and must come back with the
 * same cells, byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct expect {
    size_t ncells;
    const slice *cells;
    int rows;
} expect;

static err compare(void *ctx, size_t line, size_t ncells, const slice *cells)
{
    expect *e = ctx;
    e->rows++;
    if (line != 1 || ncells != e->ncells) {
        abort();
    }
    for (size_t i = 0; i < ncells; i++) {
        if (cells[i].len != e->cells[i].len ||
            (cells[i].len && memcmp(cells[i].p, e->cells[i].p, cells[i].len) != 0)) {
            abort();
        }
    }
    return ERR_OK;
}

static err round_trip(void *ctx, size_t line, size_t ncells, const slice *cells)
{
    size_t *last = ctx;
    if (line < *last || ncells == 0 || ncells > CSV_MAX_CELLS) {
        abort(); /* lines only go forward; a row has 1..64 cells */
    }
    *last = line;
    if (ncells == 1 && cells[0].len == 0) {
        return ERR_OK; /* an empty row writes as a blank line, which is not a row at the end */
    }
    buf b;
    buf_init(&b, 0);
    /* A BOM first, as Excel writes it: only one is stripped, so a cell that itself
     * starts with U+FEFF survives. */
    err rc = ERR_OK;
    GUARD(buf_append(&b, "\xef\xbb\xbf", 3));
    for (size_t i = 0; i < ncells; i++) {
        if (i) {
            GUARD(buf_append_byte(&b, ','));
        }
        GUARD(csv_write_cell(&b, cells[i]));
    }
    GUARD(buf_append_byte(&b, '\n'));
    expect e = {ncells, cells, 0};
    if (csv_parse(buf_slice(&b), compare, &e) != ERR_OK || e.rows != 1) {
        abort();
    }
out:
    buf_free(&b);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t last = 0;
    err e = csv_parse(slice_of(data, size), round_trip, &last);
    if (e != ERR_OK && e != ERR_INPUT) {
        abort(); /* bad input is the only way this fails */
    }
    return 0;
}
