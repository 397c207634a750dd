/*
 * fuzz_import.c - libFuzzer target for import_parse. The first byte picks the
 * format (even: CSV, odd: JSON), the rest is the body. Checks that a batch is
 * always consistent (kept errors within the cap, every row a complete customer
 * with a name) and that it frees cleanly on every path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    import_format fmt = (data[0] & 1) ? IMPORT_JSON : IMPORT_CSV;
    import_batch b;
    err e = import_parse(slice_of(data + 1, size - 1), fmt, &b);
    if (e != ERR_OK && (b.nrows != 0 || b.rows != NULL || b.errors != NULL)) {
        abort();
    }
    for (size_t i = 0; i < b.nrows; i++) {
        if (b.rows[i].rec.type != REC_CUSTOMER || b.rows[i].rec.v[CF_NAME] == NULL ||
            record_check_required(&b.rows[i].rec) != ERR_OK) {
            abort();
        }
    }
    size_t kept = b.nerrors < IMPORT_MAX_ERRORS ? b.nerrors : IMPORT_MAX_ERRORS;
    for (size_t i = 0; i < kept; i++) {
        if (b.errors[i].row == 0 ||
            memchr(b.errors[i].message, 0, sizeof b.errors[i].message) == NULL) {
            abort();
        }
    }
    import_batch_free(&b);
    return 0;
}
