/*
 * import.c - a customer import file (CSV with a header row, a JSON array of
 * objects, or JSON lines) turned into validated records and a row-level report.
 *
 * Two kinds of fault are kept apart. A fault of the file's structure (no header,
 * an unknown or repeated column, JSON that does not parse, too many rows) stops
 * the parse with ERR_INPUT or ERR_TOO_LARGE naming the line, because nothing
 * after it can be trusted. A fault of a row (a bad value, a missing name, a
 * wrong cell count) is recorded with its row, line and field and the parse goes
 * on, so that one pass gives the complete report; only rows without a fault end
 * up in the batch. Nothing is written here: the door applies the batch all or
 * nothing. Records are wiped when freed; messages never carry a value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "model/ingest.h"
#include "model/model_int.h"

typedef struct importer {
    import_batch *b;
    size_t rows_cap, errors_cap;
    size_t data_rows; /* rows seen, good or bad */
    bool have_header;
    size_t ncols;
    int col[CSV_MAX_CELLS]; /* CSV column -> customer field */
} importer;

static err add_error(importer *im, size_t row, size_t line, const char *field, const char *msg)
{
    import_batch *b = im->b;
    size_t kept = b->nerrors < IMPORT_MAX_ERRORS ? b->nerrors : IMPORT_MAX_ERRORS;
    b->nerrors++;
    if (kept >= IMPORT_MAX_ERRORS) {
        return ERR_OK;
    }
    if (kept == im->errors_cap) {
        size_t ncap = im->errors_cap ? im->errors_cap * 2 : 16;
        ncap = ncap < IMPORT_MAX_ERRORS ? ncap : IMPORT_MAX_ERRORS;
        import_error *ne = realloc(b->errors, ncap * sizeof *ne);
        ENSURE(ne != NULL, ERR_INTERNAL, "out of memory");
        b->errors = ne;
        im->errors_cap = ncap;
    }
    import_error *e = &b->errors[kept];
    memset(e, 0, sizeof *e);
    e->row = row;
    e->line = line;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    snprintf(e->message, sizeof e->message, "%s", msg);
    return ERR_OK;
}

/* Records the error just raised by record_set and friends as a row error;
 * anything but bad input stops the import. */
static err row_fault(importer *im, err e, size_t row, size_t line, const char *field)
{
    if (e != ERR_INPUT && e != ERR_TOO_LARGE) {
        return e;
    }
    return add_error(im, row, line, field, err_message());
}

static err next_row(importer *im, size_t line)
{
    ENSURE(im->data_rows < IMPORT_MAX_ROWS, ERR_TOO_LARGE, "line %zu: more than %d rows", line,
           IMPORT_MAX_ROWS);
    im->data_rows++;
    return ERR_OK;
}

/* Moves rec into the batch (or frees it when it had a fault). */
static err keep_row(importer *im, size_t line, record *rec, bool bad)
{
    import_batch *b = im->b;
    if (bad) {
        record_free(rec);
        return ERR_OK;
    }
    if (b->nrows == im->rows_cap) {
        size_t ncap = im->rows_cap ? im->rows_cap * 2 : 64;
        import_row *nr = realloc(b->rows, ncap * sizeof *nr); /* pointers only, no values */
        if (nr == NULL) {
            record_free(rec);
            BAIL(ERR_INTERNAL, "out of memory");
        }
        b->rows = nr;
        im->rows_cap = ncap;
    }
    b->rows[b->nrows].line = line;
    b->rows[b->nrows].rec = *rec;
    b->nrows++;
    record_init(rec, REC_CUSTOMER);
    return ERR_OK;
}

/* Adds an error for the first required field a good row lacks. */
static err check_required(importer *im, size_t row, size_t line, const record *rec, bool *bad)
{
    if (*bad) {
        return ERR_OK;
    }
    for (int i = 0; i < CF__COUNT; i++) {
        const field_def *f = model_field(REC_CUSTOMER, i);
        if (f->required && rec->v[i] == NULL) {
            *bad = true;
            char msg[96];
            snprintf(msg, sizeof msg, "field '%s' is required", f->name);
            TRY(add_error(im, row, line, f->name, msg));
        }
    }
    return ERR_OK;
}

/* ---- CSV ---- */

static bool blank(slice s)
{
    size_t i = 0;
    while (i < s.len) {
        uint8_t c = s.p[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            i++;
        } else if (s.len - i >= 3 && c == 0xE3 && s.p[i + 1] == 0x80 && s.p[i + 2] == 0x80) {
            i += 3;
        } else {
            return false;
        }
    }
    return true;
}

static slice trim_ascii(slice s)
{
    while (s.len && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++, s.len--;
    }
    while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t')) {
        s.len--;
    }
    return s;
}

static err csv_header(importer *im, size_t line, size_t ncells, const slice *cells)
{
    bool seen[CF__COUNT] = {false};
    for (size_t c = 0; c < ncells; c++) {
        slice h = trim_ascii(cells[c]);
        ENSURE(h.len > 0, ERR_INPUT, "line %zu: column %zu of the header has no name", line, c + 1);
        int idx = model_field_index(REC_CUSTOMER, (const char *)h.p, h.len);
        if (idx < 0) {
            char name[40];
            if (model_printable_name(name, sizeof name, (const char *)h.p, h.len)) {
                BAIL(ERR_INPUT, "line %zu: unknown column '%s' (column %zu)", line, name, c + 1);
            }
            BAIL(ERR_INPUT, "line %zu: column %zu is not a field name (is the header row missing?)",
                 line, c + 1);
        }
        ENSURE(!seen[idx], ERR_INPUT, "line %zu: duplicate column '%s'", line,
               model_field(REC_CUSTOMER, idx)->name);
        seen[idx] = true;
        im->col[c] = idx;
    }
    ENSURE(seen[CF_NAME], ERR_INPUT, "line %zu: the header must have a 'name' column", line);
    im->ncols = ncells;
    im->have_header = true;
    return ERR_OK;
}

static err csv_row(void *ctx, size_t line, size_t ncells, const slice *cells)
{
    importer *im = ctx;
    if (!im->have_header) {
        return csv_header(im, line, ncells, cells);
    }
    TRY(next_row(im, line));
    size_t row = im->data_rows;
    if (ncells != im->ncols) {
        char msg[96];
        snprintf(msg, sizeof msg, "the row has %zu cells, the header has %zu", ncells, im->ncols);
        return add_error(im, row, line, "", msg);
    }
    record rec;
    record_init(&rec, REC_CUSTOMER);
    bool bad = false;
    err rc = ERR_OK;
    for (size_t c = 0; c < ncells; c++) {
        if (blank(cells[c])) {
            continue; /* an empty cell leaves the field absent */
        }
        int idx = im->col[c];
        err e = record_set(&rec, idx, (const char *)cells[c].p, cells[c].len);
        if (e != ERR_OK) {
            bad = true;
            GUARD(row_fault(im, e, row, line, model_field(REC_CUSTOMER, idx)->name));
        }
    }
    GUARD(check_required(im, row, line, &rec, &bad));
    GUARD(keep_row(im, line, &rec, bad));
out:
    record_free(&rec);
    return rc;
}

static err parse_csv(importer *im, slice in)
{
    TRY(csv_parse(in, csv_row, im));
    ENSURE(im->have_header, ERR_INPUT, "line 1: the CSV has no header row");
    return ERR_OK;
}

/* ---- JSON ---- */

static err json_row(importer *im, size_t line, const json_t *obj)
{
    TRY(next_row(im, line));
    size_t row = im->data_rows;
    if (!json_is_object(obj)) {
        return add_error(im, row, line, "", "a row must be a JSON object");
    }
    record rec;
    record_init(&rec, REC_CUSTOMER);
    bool bad = false;
    err rc = ERR_OK;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        size_t kn = strlen(k);
        int idx = model_field_index(REC_CUSTOMER, k, kn);
        if (idx < 0) {
            char name[40], msg[96];
            if (model_printable_name(name, sizeof name, k, kn)) {
                snprintf(msg, sizeof msg, "unknown field '%s'", name);
            } else {
                snprintf(msg, sizeof msg, "unknown field (a key that is not a field name)");
            }
            bad = true;
            GUARD(add_error(im, row, line, "", msg));
            continue;
        }
        err e = model_json_set(&rec, idx, v);
        if (e != ERR_OK) {
            bad = true;
            GUARD(row_fault(im, e, row, line, model_field(REC_CUSTOMER, idx)->name));
        }
    }
    GUARD(check_required(im, row, line, &rec, &bad));
    GUARD(keep_row(im, line, &rec, bad));
out:
    record_free(&rec);
    return rc;
}

/* jansson's message without its "near '...'" part, which quotes the input. */
static void json_reason(const json_error_t *je, char *out, size_t max)
{
    size_t n = 0;
    while (n < sizeof je->text && je->text[n] != '\0') {
        if (n + 6 <= sizeof je->text && memcmp(je->text + n, " near ", 6) == 0) {
            break;
        }
        n++;
    }
    snprintf(out, max, "%.*s", (int)n, je->text);
}

static err json_load(const uint8_t *p, size_t n, size_t line_base, json_t **out)
{
    json_error_t je;
    *out = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &je);
    if (*out == NULL) {
        char why[96];
        json_reason(&je, why, sizeof why);
        size_t line = line_base + (je.line > 0 ? (size_t)je.line - 1 : 0);
        BAIL(ERR_INPUT, "line %zu: not valid JSON (%s)", line, why);
    }
    return ERR_OK;
}

static err parse_json_array(importer *im, const uint8_t *p, size_t n)
{
    json_t *root = NULL;
    TRY(json_load(p, n, 1, &root));
    err rc = ERR_OK;
    CHECK(json_is_array(root), ERR_INPUT, "line 1: expected a JSON array of objects");
    CHECK(json_array_size(root) <= IMPORT_MAX_ROWS, ERR_TOO_LARGE, "more than %d rows",
          IMPORT_MAX_ROWS);
    size_t i;
    json_t *v;
    json_array_foreach(root, i, v)
    {
        GUARD(json_row(im, i + 1, v)); /* an array row's "line" is its position */
    }
out:
    json_decref(root);
    return rc;
}

static err parse_json_lines(importer *im, const uint8_t *p, size_t n)
{
    size_t pos = 0, line = 1;
    while (pos < n) {
        const uint8_t *nl = memchr(p + pos, '\n', n - pos);
        size_t end = nl ? (size_t)(nl - p) : n;
        size_t a = pos, z = end;
        while (a < z && (p[a] == ' ' || p[a] == '\t' || p[a] == '\r')) {
            a++;
        }
        while (z > a && (p[z - 1] == ' ' || p[z - 1] == '\t' || p[z - 1] == '\r')) {
            z--;
        }
        if (z > a) {
            json_t *v = NULL;
            TRY(json_load(p + a, z - a, line, &v));
            err rc = json_row(im, line, v);
            json_decref(v);
            TRY(rc);
        }
        pos = end + 1;
        line++;
    }
    return ERR_OK;
}

static err parse_json(importer *im, slice in)
{
    const uint8_t *p = in.p;
    size_t n = in.len, i = 0;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        p += 3, n -= 3;
    }
    size_t line = 1;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) {
        line += p[i] == '\n';
        i++;
    }
    ENSURE(i < n, ERR_INPUT, "line %zu: the JSON body is empty", line);
    if (p[i] == '[') {
        return parse_json_array(im, p, n);
    }
    ENSURE(p[i] == '{', ERR_INPUT,
           "line %zu: a JSON import is an array of objects or one object per line", line);
    return parse_json_lines(im, p, n);
}

err import_parse(slice utf8, import_format fmt, import_batch *out)
{
    ENSURE(out != NULL, ERR_INTERNAL, "no batch");
    memset(out, 0, sizeof *out);
    ENSURE(utf8.p != NULL || utf8.len == 0, ERR_INTERNAL, "NULL input");
    importer im;
    memset(&im, 0, sizeof im);
    im.b = out;
    err rc;
    if (fmt == IMPORT_CSV) {
        rc = parse_csv(&im, utf8);
    } else if (fmt == IMPORT_JSON) {
        rc = parse_json(&im, utf8);
    } else {
        rc = err_set(ERR_INTERNAL, __FILE__, __LINE__, "unknown import format");
    }
    if (rc != ERR_OK) {
        import_batch_free(out); /* a broken file yields nothing half-made */
    } else {
        out->total_rows = im.data_rows;
    }
    return rc;
}

void import_batch_free(import_batch *b)
{
    if (b == NULL) {
        return;
    }
    for (size_t i = 0; i < b->nrows; i++) {
        record_free(&b->rows[i].rec);
    }
    free(b->rows);
    if (b->errors) {
        mem_wipe(b->errors, (b->nerrors < IMPORT_MAX_ERRORS ? b->nerrors : IMPORT_MAX_ERRORS) *
                                sizeof *b->errors);
    }
    free(b->errors);
    memset(b, 0, sizeof *b);
}
