/*
 * model_int.h - what the files of the model module share among themselves and
 * nobody else needs: the UTF-8 scanner that reports where input goes wrong, a
 * safe way to repeat a client-supplied name (a column or key) in an error, and
 * the setter that turns one JSON value into a field (used by the JSON record
 * reader and by the import of JSON rows).
 */
#ifndef CUSTOS_MODEL_INT_H
#define CUSTOS_MODEL_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "model/model.h"

/* Writes into out (NUL-terminated, at most max-1 bytes) the client-supplied name
 * in[0..n) when it looks like a field name ([A-Za-z_-], at most 32 bytes, no digits) and
 * returns true; otherwise writes "" and returns false. Used so that an error can
 * name an unknown column or key without ever repeating a personal value (a
 * file whose header row is missing has data where the names should be). */
bool model_printable_name(char *out, size_t max, const char *in, size_t n);

/* Sets field idx of r from one JSON value: a string is validated as text, an
 * integer is accepted for int and money fields, true/false for bool fields and
 * an array of strings for list fields; null and an empty array clear the field.
 * Errors (ERR_INPUT) name the field, never the value. */
MUST_USE err model_json_set(record *r, int idx, const json_t *v);

#endif
