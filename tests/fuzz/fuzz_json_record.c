/*
 * fuzz_json_record.c - libFuzzer target for record_from_json: the input is
 * parsed by jansson and read as every record type, partial and not. Every
 * record that is accepted is written back through model_value_to_json and read
 * again, and must give the same canonical values; masking must not fail.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const record *r)
{
    json_t *o = json_object();
    size_t n = model_nfields(r->type);
    for (size_t i = 0; i < n; i++) {
        const field_def *f = model_field(r->type, (int)i);
        if (r->v[i] == NULL) {
            continue;
        }
        json_t *v = model_value_to_json(f, r->v[i]);
        if (v == NULL) {
            abort(); /* a validated value always has a JSON form */
        }
        json_object_set_new(o, f->name, v);
        buf m;
        buf_init(&m, 0);
        if (model_mask(f, r->v[i], &m) != ERR_OK || m.len == 0) {
            abort();
        }
        buf_free(&m);
    }
    record again;
    record_init(&again, r->type);
    if (record_from_json(o, r->type, true, &again) != ERR_OK) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        if ((r->v[i] == NULL) != (again.v[i] == NULL) ||
            (r->v[i] && strcmp(r->v[i], again.v[i]) != 0)) {
            abort();
        }
    }
    record_free(&again);
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        return 0;
    }
    for (int t = 0; t < REC__COUNT; t++) {
        for (int partial = 0; partial < 2; partial++) {
            record r;
            record_init(&r, (rectype)t);
            if (record_from_json(j, (rectype)t, partial != 0, &r) == ERR_OK) {
                check_round_trip(&r);
            }
            record_free(&r);
        }
    }
    json_decref(j);
    return 0;
}
