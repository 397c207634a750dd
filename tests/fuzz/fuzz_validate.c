/*
 * fuzz_validate.c - libFuzzer target for field validation. The first byte picks
 * one field among all record types; the rest is validated as that field. A
 * canonical value must be valid UTF-8, within the field's size, and a fixed
 * point (validating it again gives it back unchanged); masking it must work.
 * The same bytes also go through id_number_valid (whose verdict must agree with
 * the check digit), model_blind_normalize, and GB18030 conversion.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/ingest.h"
#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const field_def *pick(uint8_t b)
{
    size_t total = 0;
    for (int t = 0; t < REC__COUNT; t++) {
        total += model_nfields((rectype)t);
    }
    size_t k = b % total;
    for (int t = 0; t < REC__COUNT; t++) {
        if (k < model_nfields((rectype)t)) {
            return model_field((rectype)t, (int)k);
        }
        k -= model_nfields((rectype)t);
    }
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    const field_def *f = pick(data[0]);
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    buf c, again, m;
    buf_init(&c, 0);
    buf_init(&again, 0);
    buf_init(&m, 0);
    if (model_validate(f, in, n, &c) == ERR_OK) {
        if (c.len == 0 || c.len > f->max_bytes || !utf8_valid(c.p, c.len) ||
            memchr(c.p, 0, c.len) != NULL) {
            abort();
        }
        if (model_validate(f, (const char *)c.p, c.len, &again) != ERR_OK || again.len != c.len ||
            memcmp(again.p, c.p, c.len) != 0) {
            abort(); /* canonical forms are fixed points */
        }
        if (model_mask(f, buf_cstr(&c), &m) != ERR_OK || m.len == 0) {
            abort();
        }
    } else if (c.len != 0) {
        abort(); /* nothing half-built is left behind */
    }
    if (id_number_valid(in, n)) {
        char d = id_number_check_digit(in);
        if (n != 18 || (d != in[17] && !(d == 'X' && in[17] == 'x'))) {
            abort();
        }
    }
    buf_reset(&c);
    err e = model_blind_normalize((blind_kind)(data[0] % BI__COUNT), in, n, &c);
    if ((e == ERR_OK) != (c.len > 0)) {
        abort();
    }
    buf_reset(&c);
    if (charset_to_utf8("gb18030", slice_of(in, n), &c) == ERR_OK) {
        if (!utf8_valid(c.p, c.len)) {
            abort();
        }
        /* GB18030 encodes every code point, so the way back cannot fail */
        if (charset_from_utf8("gb18030", buf_slice(&c), &again) != ERR_OK) {
            abort();
        }
    }
    buf_free(&c);
    buf_free(&again);
    buf_free(&m);
    return 0;
}
