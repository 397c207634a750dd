/*
 * json.c - records to and from JSON objects.
 *
 * Each field keeps its natural JSON type on the wire (lists are arrays, int and
 * money are integers, bools are true/false) while the record holds canonical
 * text. Reading is strict: every key must name a field of the record type, and
 * each value is turned into text and then goes through the same validation as
 * CSV input, so there is only one set of rules. Strings are also accepted for
 * numbers and bools, because business systems often send "5" or "true".
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "model/model.h"
#include "model/model_int.h"

static err set_integer(record *r, int idx, const field_def *f, json_int_t v)
{
    char num[32];
    if (f->type == FT_MONEY) {
        ENSURE(v >= 0, ERR_INPUT, "field '%s': must be a non-negative amount in minor units (fen)",
               f->name);
    }
    snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, v);
    return record_set(r, idx, num, strlen(num));
}

/* A list from a JSON array: each element must be one string item. */
static err set_list(record *r, int idx, const field_def *f, const json_t *v)
{
    buf joined, one;
    buf_init(&joined, 0);
    buf_init(&one, 0);
    err rc = ERR_OK;
    size_t i;
    const json_t *it;
    CHECK(json_array_size(v) <= 64, ERR_INPUT, "field '%s': too many items", f->name);
    json_array_foreach(v, i, it)
    {
        CHECK(json_is_string(it), ERR_INPUT, "field '%s': items must be strings", f->name);
        GUARD(model_validate(f, json_string_value(it), json_string_length(it), &one));
        CHECK(memchr(one.p, ',', one.len) == NULL, ERR_INPUT,
              "field '%s': each array element must be a single item", f->name);
        if (joined.len > 0) {
            GUARD(buf_append_byte(&joined, ','));
        }
        GUARD(buf_append(&joined, one.p, one.len));
    }
    if (joined.len == 0) {
        record_clear(r, idx);
    } else {
        /* Validating the joined list removes duplicates and applies the item limit. */
        GUARD(record_set(r, idx, (const char *)joined.p, joined.len));
    }
out:
    buf_free(&joined);
    buf_free(&one);
    return rc;
}

err model_json_set(record *r, int idx, const json_t *v)
{
    const field_def *f = model_field(r->type, idx);
    ENSURE(f != NULL, ERR_INTERNAL, "no field %d in this record type", idx);
    switch (json_typeof(v)) {
    case JSON_NULL:
        record_clear(r, idx);
        return ERR_OK;
    case JSON_STRING:
        return record_set(r, idx, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        ENSURE(f->type == FT_INT || f->type == FT_MONEY, ERR_INPUT,
               "field '%s': must be a JSON string", f->name);
        return set_integer(r, idx, f, json_integer_value(v));
    case JSON_REAL:
        ENSURE(f->type != FT_MONEY, ERR_INPUT,
               "field '%s': send whole minor units (fen) as an integer, e.g. 12345 for 123.45",
               f->name);
        ENSURE(f->type != FT_INT, ERR_INPUT, "field '%s': must be a whole number", f->name);
        BAIL(ERR_INPUT, "field '%s': must be a JSON string", f->name);
    case JSON_TRUE:
    case JSON_FALSE:
        ENSURE(f->type == FT_BOOL, ERR_INPUT, "field '%s': must not be a boolean", f->name);
        return record_set(r, idx, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5);
    case JSON_ARRAY:
        ENSURE(f->type == FT_LIST, ERR_INPUT, "field '%s': must not be an array", f->name);
        return set_list(r, idx, f, v);
    default:
        BAIL(ERR_INPUT, "field '%s': must not be an object", f->name);
    }
}

err record_from_json(const json_t *obj, rectype t, bool partial, record *out)
{
    ENSURE(model_nfields(t) > 0, ERR_INTERNAL, "unknown record type");
    ENSURE(out != NULL && out->type == t, ERR_INTERNAL, "record not initialised for this type");
    ENSURE(json_is_object(obj), ERR_INPUT, "expected a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        int idx = model_field_index(t, k, strlen(k));
        if (idx < 0) {
            char name[40];
            if (model_printable_name(name, sizeof name, k, strlen(k))) {
                BAIL(ERR_INPUT, "unknown field '%s'", name);
            }
            BAIL(ERR_INPUT, "unknown field (a key that is not a field name)");
        }
        TRY(model_json_set(out, idx, v));
    }
    if (!partial) {
        TRY(record_check_required(out));
    }
    return ERR_OK;
}

/* Parses canonical decimal digits (optionally negative) into *v. */
static bool parse_integer(const char *s, json_int_t *v)
{
    size_t n = strlen(s), i = 0;
    bool neg = n > 0 && s[0] == '-';
    i = neg ? 1 : 0;
    if (n == i || n - i > 18) {
        return false;
    }
    json_int_t x = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        x = x * 10 + (s[i] - '0');
    }
    *v = neg ? -x : x;
    return true;
}

json_t *model_value_to_json(const field_def *f, const char *canon)
{
    if (f == NULL || canon == NULL) {
        return NULL;
    }
    switch (f->type) {
    case FT_INT:
    case FT_MONEY: {
        json_int_t v;
        return parse_integer(canon, &v) ? json_integer(v) : NULL;
    }
    case FT_BOOL:
        if (strcmp(canon, "true") == 0) {
            return json_true();
        }
        return strcmp(canon, "false") == 0 ? json_false() : NULL;
    case FT_LIST: {
        json_t *a = json_array();
        const char *p = canon;
        while (a != NULL && *p) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            if (n > 0 && json_array_append_new(a, json_stringn(p, n)) != 0) {
                json_decref(a);
                return NULL;
            }
            p += n + (e ? 1 : 0);
        }
        return a;
    }
    default:
        return json_string(canon);
    }
}
