/*
 * model.h - the customer data model: records, their fields and categories,
 * validation into one canonical text form per field, masking, and conversion
 * to and from JSON.
 *
 * A record holds each field's value as canonical UTF-8 text (the form that is
 * sealed, blind-indexed and compared): phone "13812345678" or "010-12345678",
 * ID number "11010519491231002X", date "2026-01-31", datetime
 * "2026-01-31T09:30:00Z", list "porcelain,jade", bool "true"/"false", int and
 * money as decimal digits (money in minor units, fen). Conversion to JSON gives
 * each field its JSON type back (list -> array, int/money -> integer, bool).
 * Values are owned by the record and wiped when it is freed.
 * Error messages name the field, never the value.
 */
#ifndef CUSTOS_MODEL_H
#define CUSTOS_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/utf8.h"

/* Lengths of the names that people and systems go by (usernames, departments, roles), shared by
 * the store's rows, the door's actor and the fronts' messages. */
#define USERNAME_MAX 64
#define DEPT_MAX 64
#define ROLE_MAX 24

typedef enum category {
    CAT_IDENTITY,
    CAT_CONTACT,
    CAT_PREFERENCES,
    CAT_TRANSACTIONS,
    CAT_COMMUNICATIONS,
    CAT_INTERNAL,
    CAT__COUNT
} category;

const char *category_name(category c);
MUST_USE err category_parse(const char *name, category *out);

typedef enum rectype { REC_CUSTOMER, REC_TRANSACTION, REC_COMMUNICATION, REC__COUNT } rectype;

typedef enum ftype {
    FT_TEXT,     /* free text, one line unless multiline */
    FT_NAME,     /* a person's name: trimmed, inner white space collapsed */
    FT_IDNUM,    /* 18-character resident ID number, GB 11643 check digit, 'X' upper case */
    FT_DATE,     /* YYYY-MM-DD, a real calendar date */
    FT_DATETIME, /* RFC 3339 in, canonical UTC "YYYY-MM-DDTHH:MM:SSZ" */
    FT_PHONE,    /* mainland mobile "13812345678" or landline "010-12345678"; +86 accepted */
    FT_EMAIL,    /* lower-cased address */
    FT_LIST,     /* up to 16 tokens [a-z_]{1,32}, canonical "a,b" (order kept, no duplicates) */
    FT_INT,      /* small integer in [min,max] */
    FT_BOOL,     /* "true"/"false" (CSV also 1/0, yes/no) */
    FT_MONEY,    /* integer minor units, 0 .. 10^15 */
    FT_CURRENCY, /* ISO 4217 code, upper case */
    FT_ENUM,     /* one of enum_values */
    FT_TOKEN,    /* identifier [a-z0-9_.-]{1,64}: departments, usernames */
} ftype;

enum customer_field {
    CF_NAME,
    CF_ID_NUMBER,
    CF_BIRTH_DATE,
    CF_PHONE,
    CF_EMAIL,
    CF_ADDRESS,
    CF_WECHAT,
    CF_PREFERENCES,
    CF_VIP_LEVEL,
    CF_DEPARTMENT,
    CF_SALESPERSON,
    CF_MARKETING_CONSENT,
    CF_NOTES,
    CF__COUNT
};
enum transaction_field {
    TF_DATE,
    TF_LOT,
    TF_DESCRIPTION,
    TF_ERA,
    TF_CATEGORY,
    TF_PRICE,
    TF_CURRENCY,
    TF_PAYMENT_METHOD,
    TF_INVOICE,
    TF__COUNT
};
enum communication_field { MF_AT, MF_CHANNEL, MF_EMPLOYEE, MF_SUMMARY, MF__COUNT };
#define REC_MAX_FIELDS 16

/* Blind-indexed fields (exact search without decryption). */
typedef enum blind_kind {
    BI_NONE = -1,
    BI_NAME,
    BI_PHONE,
    BI_EMAIL,
    BI_ID_NUMBER,
    BI__COUNT
} blind_kind;
const char *blind_kind_name(blind_kind k); /* "name", "phone", "email", "id_number" */

typedef struct field_def {
    const char *name;
    category cat;
    ftype type;
    bool required;                  /* on create */
    bool multiline;                 /* FT_TEXT: newlines and tabs allowed */
    size_t max_bytes;               /* of the canonical value */
    int min, max;                   /* FT_INT bounds */
    blind_kind blind;               /* BI_NONE when not indexed */
    const char *const *enum_values; /* FT_ENUM: NULL-terminated */
} field_def;

size_t model_nfields(rectype t);
const field_def *model_field(rectype t, int idx);
/* Index of the field called name (length n), or -1. */
int model_field_index(rectype t, const char *name, size_t n);

typedef struct record {
    rectype type;
    char *v[REC_MAX_FIELDS]; /* canonical values; NULL = absent */
} record;

void record_init(record *r, rectype t);
void record_free(record *r); /* wipes every value */
/* Validates `in` for field idx and stores its canonical form (replacing any value).
 * Errors (ERR_INPUT) name the field and the rule, never the value. */
MUST_USE err record_set(record *r, int idx, const char *in, size_t len);
/* Stores an already canonical value without validation (values read back from the vault). */
MUST_USE err record_set_raw(record *r, int idx, const char *in, size_t len);
void record_clear(record *r, int idx);
/* ERR_INPUT naming the first required field that is absent. */
MUST_USE err record_check_required(const record *r);

/* Validation helpers, usable alone (fuzzed). canon receives the canonical form. */
MUST_USE err model_validate(const field_def *f, const char *in, size_t len, buf *canon);
bool id_number_valid(const char *s, size_t len); /* 18 chars, date, check digit */
char id_number_check_digit(const char *first17);
/* JSON. from_json: every key must be a known field (ERR_INPUT "unknown field 'x'");
 * strings, numbers, booleans and arrays are accepted where the field's type allows.
 * With partial=false, required fields must be present. A JSON null leaves the field absent. */
MUST_USE err record_from_json(const json_t *obj, rectype t, bool partial, record *out);
/* The JSON value of a canonical field value (new reference), NULL on failure. */
json_t *model_value_to_json(const field_def *f, const char *canon);

/* Masking for display: phone 138****5678, landline 010-****5678, ID 1101**********1234,
 * name 王*明 (2 characters: 王*), email a***@example.com, anything else: "***". */
MUST_USE err model_mask(const field_def *f, const char *canon, buf *out);
/* Masking is designed as a whole: a field that gives away the hidden part of another field's
 * mask is masked wherever that field is. The birth date is digits 7-14 of the ID number (the
 * part its mask hides), so where the ID number is shown masked the birth date is masked too.
 * Returns the field whose mask field idx would undo, or -1. */
int model_reveals(rectype t, int idx);

/* Normalised form fed to the blind index for a search term of kind k (validated
 * the same way as the field, so "+86 138-1234-5678" finds "13812345678"). */
MUST_USE err model_blind_normalize(blind_kind k, const char *in, size_t len, buf *out);

#endif
