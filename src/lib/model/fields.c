/*
 * fields.c - the field tables of the three record types (customer, transaction,
 * communication), the category and blind-index names, and the record itself.
 *
 * The tables are the single source of truth for a field's JSON name, policy
 * category, type, limits and blind index: validation, masking, JSON, import,
 * policy and the vault all read them. A record owns one canonical string per
 * field; every value is validated on the way in (record_set) and wiped on the
 * way out (record_clear, record_free).
 */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "model/model.h"
#include "model/model_int.h"

static const char *const category_names[CAT__COUNT] = {
    [CAT_IDENTITY] = "identity",
    [CAT_CONTACT] = "contact",
    [CAT_PREFERENCES] = "preferences",
    [CAT_TRANSACTIONS] = "transactions",
    [CAT_COMMUNICATIONS] = "communications",
    [CAT_INTERNAL] = "internal",
};

static const char *const blind_names[BI__COUNT] = {
    [BI_NAME] = "name",
    [BI_PHONE] = "phone",
    [BI_EMAIL] = "email",
    [BI_ID_NUMBER] = "id_number",
};

static const char *const antique_categories[] = {
    "porcelain", "jade",     "bronze", "calligraphy_painting",
    "furniture", "ceramics", "coins",  "lacquer",
    "textiles",  "other",    NULL};
static const char *const payment_methods[] = {"cash",   "card",   "bank_transfer", "wechat_pay",
                                              "alipay", "cheque", "other",         NULL};
static const char *const channels[] = {"phone",  "email", "wechat", "visit",
                                       "letter", "other", NULL};

/* Preferences: up to 16 tokens of up to 32 bytes joined by commas. */
#define LIST_MAX_BYTES (16 * 32 + 15)

static const field_def customer_fields[CF__COUNT] = {
    [CF_NAME] = {.name = "name",
                 .cat = CAT_IDENTITY,
                 .type = FT_NAME,
                 .required = true,
                 .max_bytes = 100,
                 .blind = BI_NAME},
    [CF_ID_NUMBER] = {.name = "id_number",
                      .cat = CAT_IDENTITY,
                      .type = FT_IDNUM,
                      .max_bytes = 18,
                      .blind = BI_ID_NUMBER},
    [CF_BIRTH_DATE] = {.name = "birth_date",
                       .cat = CAT_IDENTITY,
                       .type = FT_DATE,
                       .max_bytes = 10,
                       .blind = BI_NONE},
    [CF_PHONE] =
        {.name = "phone", .cat = CAT_CONTACT, .type = FT_PHONE, .max_bytes = 16, .blind = BI_PHONE},
    [CF_EMAIL] = {.name = "email",
                  .cat = CAT_CONTACT,
                  .type = FT_EMAIL,
                  .max_bytes = 254,
                  .blind = BI_EMAIL},
    [CF_ADDRESS] = {.name = "address",
                    .cat = CAT_CONTACT,
                    .type = FT_TEXT,
                    .max_bytes = 300,
                    .blind = BI_NONE},
    [CF_WECHAT] =
        {.name = "wechat", .cat = CAT_CONTACT, .type = FT_TEXT, .max_bytes = 64, .blind = BI_NONE},
    [CF_PREFERENCES] = {.name = "preferences",
                        .cat = CAT_PREFERENCES,
                        .type = FT_LIST,
                        .max_bytes = LIST_MAX_BYTES,
                        .blind = BI_NONE},
    [CF_VIP_LEVEL] = {.name = "vip_level",
                      .cat = CAT_PREFERENCES,
                      .type = FT_INT,
                      .max_bytes = 11,
                      .min = 0,
                      .max = 5,
                      .blind = BI_NONE},
    [CF_DEPARTMENT] = {.name = "department",
                       .cat = CAT_INTERNAL,
                       .type = FT_TOKEN,
                       .max_bytes = 64,
                       .blind = BI_NONE},
    [CF_SALESPERSON] = {.name = "salesperson",
                        .cat = CAT_INTERNAL,
                        .type = FT_TOKEN,
                        .max_bytes = 64,
                        .blind = BI_NONE},
    [CF_MARKETING_CONSENT] = {.name = "marketing_consent",
                              .cat = CAT_INTERNAL,
                              .type = FT_BOOL,
                              .max_bytes = 5,
                              .blind = BI_NONE},
    [CF_NOTES] = {.name = "notes",
                  .cat = CAT_INTERNAL,
                  .type = FT_TEXT,
                  .multiline = true,
                  .max_bytes = 2000,
                  .blind = BI_NONE},
};

static const field_def transaction_fields[TF__COUNT] = {
    [TF_DATE] = {.name = "date",
                 .cat = CAT_TRANSACTIONS,
                 .type = FT_DATE,
                 .required = true,
                 .max_bytes = 10,
                 .blind = BI_NONE},
    [TF_LOT] = {.name = "lot",
                .cat = CAT_TRANSACTIONS,
                .type = FT_TEXT,
                .max_bytes = 64,
                .blind = BI_NONE},
    [TF_DESCRIPTION] = {.name = "description",
                        .cat = CAT_TRANSACTIONS,
                        .type = FT_TEXT,
                        .required = true,
                        .multiline = true,
                        .max_bytes = 2000,
                        .blind = BI_NONE},
    [TF_ERA] = {.name = "era",
                .cat = CAT_TRANSACTIONS,
                .type = FT_TEXT,
                .max_bytes = 64,
                .blind = BI_NONE},
    [TF_CATEGORY] = {.name = "category",
                     .cat = CAT_TRANSACTIONS,
                     .type = FT_ENUM,
                     .max_bytes = 32,
                     .blind = BI_NONE,
                     .enum_values = antique_categories},
    [TF_PRICE] = {.name = "price",
                  .cat = CAT_TRANSACTIONS,
                  .type = FT_MONEY,
                  .required = true,
                  .max_bytes = 16,
                  .blind = BI_NONE},
    [TF_CURRENCY] = {.name = "currency",
                     .cat = CAT_TRANSACTIONS,
                     .type = FT_CURRENCY,
                     .max_bytes = 3,
                     .blind = BI_NONE},
    [TF_PAYMENT_METHOD] = {.name = "payment_method",
                           .cat = CAT_TRANSACTIONS,
                           .type = FT_ENUM,
                           .max_bytes = 32,
                           .blind = BI_NONE,
                           .enum_values = payment_methods},
    [TF_INVOICE] = {.name = "invoice",
                    .cat = CAT_TRANSACTIONS,
                    .type = FT_TEXT,
                    .max_bytes = 64,
                    .blind = BI_NONE},
};

static const field_def communication_fields[MF__COUNT] = {
    [MF_AT] = {.name = "at",
               .cat = CAT_COMMUNICATIONS,
               .type = FT_DATETIME,
               .required = true,
               .max_bytes = 20,
               .blind = BI_NONE},
    [MF_CHANNEL] = {.name = "channel",
                    .cat = CAT_COMMUNICATIONS,
                    .type = FT_ENUM,
                    .required = true,
                    .max_bytes = 32,
                    .blind = BI_NONE,
                    .enum_values = channels},
    [MF_EMPLOYEE] = {.name = "employee",
                     .cat = CAT_COMMUNICATIONS,
                     .type = FT_TOKEN,
                     .max_bytes = 64,
                     .blind = BI_NONE},
    [MF_SUMMARY] = {.name = "summary",
                    .cat = CAT_COMMUNICATIONS,
                    .type = FT_TEXT,
                    .required = true,
                    .multiline = true,
                    .max_bytes = 4000,
                    .blind = BI_NONE},
};

_Static_assert(CF__COUNT <= REC_MAX_FIELDS && TF__COUNT <= REC_MAX_FIELDS &&
                   MF__COUNT <= REC_MAX_FIELDS,
               "a record type has more fields than a record holds");

static const struct {
    const field_def *fields;
    size_t n;
} tables[REC__COUNT] = {
    [REC_CUSTOMER] = {customer_fields, CF__COUNT},
    [REC_TRANSACTION] = {transaction_fields, TF__COUNT},
    [REC_COMMUNICATION] = {communication_fields, MF__COUNT},
};

const char *category_name(category c)
{
    return (c >= 0 && c < CAT__COUNT) ? category_names[c] : "unknown";
}

err category_parse(const char *name, category *out)
{
    ENSURE(name != NULL, ERR_INPUT, "missing category");
    for (int c = 0; c < CAT__COUNT; c++) {
        if (strcmp(name, category_names[c]) == 0) {
            *out = (category)c;
            return ERR_OK;
        }
    }
    BAIL(ERR_INPUT, "unknown category (identity, contact, preferences, transactions, "
                    "communications or internal)");
}

const char *blind_kind_name(blind_kind k)
{
    return (k >= 0 && k < BI__COUNT) ? blind_names[k] : "none";
}

size_t model_nfields(rectype t)
{
    return (t >= 0 && t < REC__COUNT) ? tables[t].n : 0;
}

const field_def *model_field(rectype t, int idx)
{
    if (idx < 0 || (size_t)idx >= model_nfields(t)) {
        return NULL;
    }
    return &tables[t].fields[idx];
}

int model_reveals(rectype t, int idx)
{
    if (t == REC_CUSTOMER && idx == CF_BIRTH_DATE) {
        return CF_ID_NUMBER;
    }
    return -1;
}

int model_field_index(rectype t, const char *name, size_t n)
{
    if (name == NULL) {
        return -1;
    }
    size_t nf = model_nfields(t);
    for (size_t i = 0; i < nf; i++) {
        const char *fn = tables[t].fields[i].name;
        size_t fl = strlen(fn);
        if (fl == n && memcmp(fn, name, n) == 0) {
            return (int)i;
        }
    }
    return -1;
}

bool model_printable_name(char *out, size_t max, const char *in, size_t n)
{
    if (max == 0) {
        return false;
    }
    out[0] = '\0';
    if (n == 0 || n > 32 || n >= max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        /* No digits: a phone, ID number or date must never be repeated. */
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    memcpy(out, in, n);
    out[n] = '\0';
    return true;
}

void record_init(record *r, rectype t)
{
    r->type = t;
    for (int i = 0; i < REC_MAX_FIELDS; i++) {
        r->v[i] = NULL;
    }
}

void record_clear(record *r, int idx)
{
    if (idx < 0 || idx >= REC_MAX_FIELDS || r->v[idx] == NULL) {
        return;
    }
    mem_wipe(r->v[idx], strlen(r->v[idx]));
    free(r->v[idx]);
    r->v[idx] = NULL;
}

void record_free(record *r)
{
    for (int i = 0; i < REC_MAX_FIELDS; i++) {
        record_clear(r, i);
    }
}

/* Replaces field idx with a private copy of in[0..len). */
static err store_copy(record *r, int idx, const void *in, size_t len)
{
    char *copy = malloc(len + 1);
    ENSURE(copy != NULL, ERR_INTERNAL, "out of memory");
    if (len) {
        memcpy(copy, in, len);
    }
    copy[len] = '\0';
    record_clear(r, idx);
    r->v[idx] = copy;
    return ERR_OK;
}

err record_set(record *r, int idx, const char *in, size_t len)
{
    const field_def *f = model_field(r->type, idx);
    ENSURE(f != NULL, ERR_INTERNAL, "no field %d in this record type", idx);
    ENSURE(in != NULL || len == 0, ERR_INTERNAL, "NULL value");
    buf canon;
    buf_init(&canon, 0);
    err rc = ERR_OK;
    GUARD(model_validate(f, in ? in : "", len, &canon));
    GUARD(store_copy(r, idx, canon.p, canon.len));
out:
    buf_free(&canon);
    return rc;
}

err record_set_raw(record *r, int idx, const char *in, size_t len)
{
    const field_def *f = model_field(r->type, idx);
    ENSURE(f != NULL, ERR_INTERNAL, "no field %d in this record type", idx);
    ENSURE(in != NULL || len == 0, ERR_INTERNAL, "NULL value");
    /* A NUL inside would hide the tail from C string users and from the wipe. */
    ENSURE(len == 0 || memchr(in, 0, len) == NULL, ERR_INPUT, "field '%s': NUL byte in value",
           f->name);
    return store_copy(r, idx, in, len);
}

err record_check_required(const record *r)
{
    size_t n = model_nfields(r->type);
    ENSURE(n > 0, ERR_INTERNAL, "unknown record type");
    for (size_t i = 0; i < n; i++) {
        const field_def *f = &tables[r->type].fields[i];
        ENSURE(!f->required || r->v[i] != NULL, ERR_INPUT, "field '%s' is required", f->name);
    }
    return ERR_OK;
}
