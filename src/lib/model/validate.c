/*
 * validate.c - turns untrusted text into the one canonical form of a field, and
 * canonical values into masked display forms and blind-index search terms.
 *
 * Every value goes through the same gate first: valid UTF-8 (no overlongs,
 * surrogates or code points above U+10FFFF), no NUL and no control characters
 * (newline and tab only in multiline text, where CRLF becomes LF), ASCII white
 * space and the ideographic space U+3000 trimmed at both ends. Then the field's
 * type decides: ID numbers carry a GB 11643 check digit, a birth date and a
 * province code; phones are mainland mobiles or landlines whatever the spelling
 * (+86, 0086, spaces, hyphens, parentheses); and so on. Because search terms go
 * through the same code (model_blind_normalize), any accepted spelling finds
 * the stored value. Input is always a bounded slice (no str* on it), and error
 * messages name the field and the rule, never the value.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/mem.h"
#include "model/model.h"
#include "model/model_int.h"

/* Longer inputs are refused before any work: no canonical form shrinks this much. */
#define INPUT_SLACK 4096
#define LIST_MAX_ITEMS 16
#define LIST_TOKEN_MAX 32
#define TOKEN_MAX 64
#define MONEY_MAX 1000000000000000ULL /* 10^15 minor units */
#define YEAR_MIN 1900
#define YEAR_MAX 2100

/* ---- UTF-8 ---- */

/* Decodes the code point at s[*i] of valid UTF-8 and advances *i. */
static uint32_t next_cp(const uint8_t *s, size_t len, size_t *i)
{
    uint8_t c = s[*i];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n > len - *i) {
        n = len - *i; /* not reached for valid input; keeps reads in bounds */
    }
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (size_t k = 1; k < n; k++) {
        cp = (cp << 6) | (s[*i + k] & 0x3Fu);
    }
    *i += n;
    return cp;
}

static bool is_ascii_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_ideographic_space(const uint8_t *p, size_t left)
{
    return left >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80; /* U+3000 */
}

/* Trims ASCII white space and U+3000 at both ends. */
static slice trim(const uint8_t *s, size_t len)
{
    size_t a = 0, b = len;
    for (;;) {
        if (a < b && is_ascii_space(s[a])) {
            a++;
        } else if (is_ideographic_space(s + a, b - a)) {
            a += 3;
        } else {
            break;
        }
    }
    for (;;) {
        if (b > a && is_ascii_space(s[b - 1])) {
            b--;
        } else if (b - a >= 3 && is_ideographic_space(s + b - 3, 3)) {
            b -= 3;
        } else {
            break;
        }
    }
    return slice_of(s + a, b - a);
}

/* ---- dates ---- */

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static int digits_value(const uint8_t *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return 29;
    }
    return days[m - 1];
}

static bool real_date(int y, int m, int d)
{
    return y >= YEAR_MIN && y <= YEAR_MAX && m >= 1 && m <= 12 && d >= 1 &&
           d <= days_in_month(y, m);
}

/* Today as YYYYMMDD where the day begins first (UTC+14), so that no date that is
 * already today somewhere on Earth counts as the future. */
static int today_ymd(void)
{
    time_t s = (time_t)(clock_now_us() / 1000000) + 14 * 3600;
    struct tm tm;
    if (gmtime_r(&s, &tm) == NULL) {
        return 99991231;
    }
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* ---- ID numbers (GB 11643-1999) ---- */

typedef enum id_fault { ID_OK, ID_LENGTH, ID_DIGITS, ID_PROVINCE, ID_DATE, ID_CHECK } id_fault;

static bool province_valid(int p)
{
    return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
           (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71 ||
           p == 81 || p == 82 || p == 83 || p == 91;
}

/* Reads up to 17 bytes, stopping at the first non-digit (so a shorter C string is safe);
 * returns '\0' when first17 is NULL or holds a non-digit. */
char id_number_check_digit(const char *first17)
{
    static const int weight[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char map[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
    if (first17 == NULL) {
        return '\0';
    }
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (!is_digit((uint8_t)first17[i])) {
            return '\0';
        }
        sum += (first17[i] - '0') * weight[i];
    }
    return map[sum % 11];
}

static id_fault id_check(const uint8_t *s, size_t len)
{
    if (len != 18) {
        return ID_LENGTH;
    }
    for (int i = 0; i < 17; i++) {
        if (!is_digit(s[i])) {
            return ID_DIGITS;
        }
    }
    uint8_t last = s[17] == 'x' ? 'X' : s[17];
    if (!is_digit(last) && last != 'X') {
        return ID_DIGITS;
    }
    if (!province_valid(digits_value(s, 2))) {
        return ID_PROVINCE;
    }
    int y = digits_value(s + 6, 4), m = digits_value(s + 10, 2), d = digits_value(s + 12, 2);
    if (!real_date(y, m, d) || y * 10000 + m * 100 + d > today_ymd()) {
        return ID_DATE;
    }
    if (id_number_check_digit((const char *)s) != (char)last) {
        return ID_CHECK;
    }
    return ID_OK;
}

bool id_number_valid(const char *s, size_t len)
{
    return s != NULL && id_check((const uint8_t *)s, len) == ID_OK;
}

/* ---- one function per type; each gets the trimmed, gated text ---- */

static err v_text(const field_def *f, slice t, buf *out)
{
    for (size_t i = 0; i < t.len; i++) {
        if (t.p[i] == '\r') {
            continue; /* the gate let only CR before LF through */
        }
        TRY(buf_append_byte(out, t.p[i]));
    }
    return ERR_OK;
}

static err v_name(const field_def *f, slice t, buf *out)
{
    bool space = false;
    size_t i = 0;
    while (i < t.len) {
        size_t start = i;
        uint32_t cp = next_cp(t.p, t.len, &i);
        if (cp == ' ' || cp == 0x3000) {
            space = true;
            continue;
        }
        if (space) {
            TRY(buf_append_byte(out, ' '));
            space = false;
        }
        TRY(buf_append(out, t.p + start, i - start));
    }
    return ERR_OK;
}

static err v_idnum(const field_def *f, slice t, buf *out)
{
    switch (id_check(t.p, t.len)) {
    case ID_OK:
        break;
    case ID_LENGTH:
    case ID_DIGITS:
        BAIL(ERR_INPUT, "field '%s': must be 17 digits and a check character (0-9 or X)", f->name);
    case ID_PROVINCE:
        BAIL(ERR_INPUT, "field '%s': the first two digits are not a province code", f->name);
    case ID_DATE:
        BAIL(ERR_INPUT, "field '%s': digits 7-14 must be a birth date from 1900-01-01 to today",
             f->name);
    case ID_CHECK:
        BAIL(ERR_INPUT, "field '%s': the check character does not match (GB 11643)", f->name);
    }
    TRY(buf_append(out, t.p, 17));
    return buf_append_byte(out, t.p[17] == 'x' ? 'X' : t.p[17]);
}

static err v_date(const field_def *f, slice t, buf *out)
{
    bool shape = t.len == 10 && t.p[4] == '-' && t.p[7] == '-';
    int y = shape ? digits_value(t.p, 4) : -1;
    int m = shape ? digits_value(t.p + 5, 2) : -1;
    int d = shape ? digits_value(t.p + 8, 2) : -1;
    ENSURE(shape && real_date(y, m, d), ERR_INPUT,
           "field '%s': must be a real date YYYY-MM-DD between %d and %d", f->name, YEAR_MIN,
           YEAR_MAX);
    /* A date of the identity category is a date of birth. */
    ENSURE(f->cat != CAT_IDENTITY || y * 10000 + m * 100 + d <= today_ymd(), ERR_INPUT,
           "field '%s': a date of birth cannot be in the future", f->name);
    return buf_append(out, t.p, t.len);
}

static err v_datetime(const field_def *f, slice t, buf *out)
{
    char s[64];
    bool ok = t.len >= 20 && t.len < sizeof s;
    for (size_t i = 0; ok && i < t.len; i++) {
        ok = t.p[i] >= 0x21 && t.p[i] < 0x7F;
    }
    int y = ok ? digits_value(t.p, 4) : -1;
    ok = ok && t.p[4] == '-' && t.p[7] == '-' &&
         real_date(y, digits_value(t.p + 5, 2), digits_value(t.p + 8, 2));
    int64_t us = 0;
    if (ok) {
        memcpy(s, t.p, t.len);
        s[t.len] = '\0';
        ok = clock_parse_rfc3339(s, &us) == ERR_OK;
    }
    ENSURE(ok, ERR_INPUT,
           "field '%s': must be an RFC 3339 time with a zone, e.g. 2026-01-31T09:30:00+08:00",
           f->name);
    int64_t secs = us / 1000000;
    if (us % 1000000 < 0) {
        secs--; /* floor for times before 1970 */
    }
    time_t tt = (time_t)secs;
    struct tm tm;
    ENSURE(gmtime_r(&tt, &tm) != NULL, ERR_INPUT, "field '%s': time out of range", f->name);
    ENSURE(tm.tm_year + 1900 >= YEAR_MIN && tm.tm_year + 1900 <= YEAR_MAX, ERR_INPUT,
           "field '%s': the time must fall between %d and %d", f->name, YEAR_MIN, YEAR_MAX);
    return buf_appendf(out, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* a[0..n): a landline without its leading 0 (area code then local number). */
static bool landline(const char *a, size_t n, buf *out, err *rc)
{
    size_t alen;
    if (n < 2) {
        return false;
    }
    if (a[0] == '1') {
        if (a[1] != '0') {
            return false;
        }
        alen = 2; /* 010 Beijing */
    } else if (a[0] == '2') {
        alen = 2; /* 020-029 */
    } else if (a[0] >= '3' && a[0] <= '9') {
        alen = 3; /* 0571 and the like */
    } else {
        return false;
    }
    /* A local number never starts with 0 (that would be a mis-split area code). Real ones
     * do not start with 1 either, but the contract's own example 010-12345678 does. */
    size_t ln = n - alen;
    if (ln < 7 || ln > 8 || a[alen] == '0') {
        return false;
    }
    *rc = buf_append_byte(out, '0');
    if (*rc == ERR_OK) {
        *rc = buf_append(out, a, alen);
    }
    if (*rc == ERR_OK) {
        *rc = buf_append_byte(out, '-');
    }
    if (*rc == ERR_OK) {
        *rc = buf_append(out, a + alen, ln);
    }
    return true;
}

static err v_phone(const field_def *f, slice t, buf *out)
{
    char d[24];
    size_t n = 0;
    bool plus = false, ok = true;
    for (size_t i = 0; i < t.len && ok; i++) {
        uint8_t c = t.p[i];
        if (c == ' ' || c == '-' || c == '(' || c == ')') {
            continue;
        }
        if (c == '+' && n == 0 && !plus) {
            plus = true;
        } else if (is_digit(c) && n < sizeof d) {
            d[n++] = (char)c;
        } else {
            ok = false;
        }
    }
    const char *r = d;
    bool intl = false;
    if (ok && plus) {
        ENSURE(n >= 2 && d[0] == '8' && d[1] == '6', ERR_INPUT,
               "field '%s': only mainland China numbers (+86) are accepted", f->name);
        r += 2, n -= 2, intl = true;
    } else if (ok && n >= 4 && memcmp(d, "0086", 4) == 0) {
        r += 4, n -= 4, intl = true;
    } else if (ok && n >= 2 && d[0] == '8' && d[1] == '6') {
        r += 2, n -= 2, intl = true;
    }
    err rc = ERR_OK;
    if (ok && n == 11 && r[0] == '1' && r[1] >= '3' && r[1] <= '9') {
        TRY(buf_append(out, r, n));
        return ERR_OK;
    }
    if (ok && n > 0 && r[0] != '0' && intl) {
        ok = landline(r, n, out, &rc);
    } else if (ok && n > 1 && r[0] == '0' && !intl) {
        ok = landline(r + 1, n - 1, out, &rc);
    } else {
        ok = false;
    }
    ENSURE(ok, ERR_INPUT,
           "field '%s': must be a mainland mobile (1[3-9] and 9 digits) or a landline "
           "(0, area code, 7-8 digits); +86 accepted",
           f->name);
    return rc;
}

static bool email_local_char(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) {
        return true;
    }
    return c != '\0' && memchr(".!#$%&'*+/=?^_`{|}~-", c, 20) != NULL;
}

static bool email_valid(const uint8_t *s, size_t n)
{
    size_t at = n;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '@') {
            if (at != n) {
                return false; /* a second @ */
            }
            at = i;
        }
    }
    if (at == n || at == 0 || at > 64 || n > 254) {
        return false;
    }
    for (size_t i = 0; i < at; i++) {
        if (!email_local_char(s[i])) {
            return false;
        }
        if (s[i] == '.' && (i == 0 || i + 1 == at || s[i + 1] == '.')) {
            return false;
        }
    }
    size_t labels = 0, start = at + 1;
    for (size_t i = at + 1; i <= n; i++) {
        if (i < n && s[i] != '.') {
            uint8_t c = s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-')) {
                return false;
            }
            continue;
        }
        size_t ll = i - start;
        if (ll == 0 || ll > 63 || s[start] == '-' || s[i - 1] == '-') {
            return false;
        }
        labels++;
        start = i + 1;
    }
    return labels >= 2;
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static uint8_t upper(uint8_t c)
{
    return (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
}

static err append_lower(buf *out, slice t)
{
    TRY(buf_reserve(out, t.len));
    for (size_t i = 0; i < t.len; i++) {
        out->p[out->len++] = lower(t.p[i]);
    }
    return ERR_OK;
}

static err v_email(const field_def *f, slice t, buf *out)
{
    ENSURE(email_valid(t.p, t.len), ERR_INPUT,
           "field '%s': must be an address like name@example.com (ASCII, one @, a dotted "
           "domain, at most 254 bytes)",
           f->name);
    return append_lower(out, t);
}

/* Length of a list separator at p (',' ';' '|' and their full-width forms, and
 * the ideographic comma), or 0. */
static size_t list_separator(const uint8_t *p, size_t left)
{
    if (p[0] == ',' || p[0] == ';' || p[0] == '|') {
        return 1;
    }
    if (left >= 3 && p[0] == 0xEF &&
        ((p[1] == 0xBC && (p[2] == 0x8C || p[2] == 0x9B)) || (p[1] == 0xBD && p[2] == 0x9C))) {
        return 3; /* U+FF0C U+FF1B U+FF5C */
    }
    if (left >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x81) {
        return 3; /* U+3001 */
    }
    return 0;
}

static err v_list(const field_def *f, slice t, buf *out)
{
    size_t tok_off[LIST_MAX_ITEMS], tok_len[LIST_MAX_ITEMS], ntok = 0;
    size_t i = 0;
    while (i <= t.len) {
        size_t start = i;
        size_t sep = 0;
        while (i < t.len && (sep = list_separator(t.p + i, t.len - i)) == 0) {
            i++;
        }
        slice tok = trim(t.p + start, i - start);
        i += i < t.len ? sep : 1;
        if (tok.len == 0) {
            continue;
        }
        ENSURE(tok.len <= LIST_TOKEN_MAX, ERR_INPUT,
               "field '%s': each item must be 1-%d letters a-z or '_'", f->name, LIST_TOKEN_MAX);
        for (size_t k = 0; k < tok.len; k++) {
            uint8_t c = lower(tok.p[k]);
            ENSURE((c >= 'a' && c <= 'z') || c == '_', ERR_INPUT,
                   "field '%s': each item must be 1-%d letters a-z or '_'", f->name,
                   LIST_TOKEN_MAX);
        }
        bool dup = false;
        for (size_t k = 0; k < ntok && !dup; k++) {
            if (tok_len[k] != tok.len) {
                continue;
            }
            dup = true;
            for (size_t j = 0; j < tok.len && dup; j++) {
                dup = out->p[tok_off[k] + j] == lower(tok.p[j]);
            }
        }
        if (dup) {
            continue;
        }
        ENSURE(ntok < LIST_MAX_ITEMS, ERR_INPUT, "field '%s': at most %d items", f->name,
               LIST_MAX_ITEMS);
        if (ntok > 0) {
            TRY(buf_append_byte(out, ','));
        }
        tok_off[ntok] = out->len;
        tok_len[ntok] = tok.len;
        ntok++;
        TRY(append_lower(out, tok));
    }
    ENSURE(ntok > 0, ERR_INPUT, "field '%s': the list has no items", f->name);
    return ERR_OK;
}

static err v_int(const field_def *f, slice t, buf *out)
{
    size_t i = 0;
    bool neg = false;
    if (t.len > 0 && (t.p[0] == '+' || t.p[0] == '-')) {
        neg = t.p[0] == '-';
        i = 1;
    }
    bool ok = t.len > i && t.len - i <= 10;
    long long v = 0;
    for (; ok && i < t.len; i++) {
        ok = is_digit(t.p[i]);
        v = v * 10 + (t.p[i] - '0');
    }
    v = neg ? -v : v;
    ENSURE(ok && v >= f->min && v <= f->max, ERR_INPUT,
           "field '%s': must be a whole number from %d to %d", f->name, f->min, f->max);
    return buf_appendf(out, "%lld", v);
}

static err v_bool(const field_def *f, slice t, buf *out)
{
    static const struct {
        const char *word;
        bool value;
    } words[] = {{"true", true}, {"false", false}, {"1", true},
                 {"0", false},   {"yes", true},    {"no", false}};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        size_t n = strlen(words[w].word);
        bool same = n == t.len;
        for (size_t i = 0; same && i < n; i++) {
            same = lower(t.p[i]) == (uint8_t)words[w].word[i];
        }
        if (same) {
            return buf_append_str(out, words[w].value ? "true" : "false");
        }
    }
    BAIL(ERR_INPUT, "field '%s': must be true or false (also 1/0, yes/no)", f->name);
}

static err v_money(const field_def *f, slice t, buf *out)
{
    for (size_t i = 0; i < t.len; i++) {
        ENSURE(t.p[i] != '.' && t.p[i] != ',', ERR_INPUT,
               "field '%s': send whole minor units (fen) as digits, e.g. 12345 for 123.45, "
               "with no decimal point",
               f->name);
    }
    size_t i = 0;
    while (i + 1 < t.len && t.p[i] == '0') {
        i++; /* leading zeros */
    }
    bool ok = t.len - i <= 16;
    unsigned long long v = 0;
    for (size_t k = i; ok && k < t.len; k++) {
        ok = is_digit(t.p[k]);
        v = v * 10 + (unsigned long long)(t.p[k] - '0');
    }
    ENSURE(ok && v <= MONEY_MAX, ERR_INPUT,
           "field '%s': must be digits only: a non-negative amount in minor units (fen) up to "
           "10^15",
           f->name);
    return buf_appendf(out, "%llu", v);
}

static err v_currency(const field_def *f, slice t, buf *out)
{
    bool ok = t.len == 3;
    for (size_t i = 0; ok && i < 3; i++) {
        uint8_t c = upper(t.p[i]);
        ok = c >= 'A' && c <= 'Z';
    }
    ENSURE(ok, ERR_INPUT, "field '%s': must be a three-letter ISO 4217 code such as CNY", f->name);
    for (size_t i = 0; i < 3; i++) {
        TRY(buf_append_byte(out, upper(t.p[i])));
    }
    return ERR_OK;
}

static err v_enum(const field_def *f, slice t, buf *out)
{
    ENSURE(f->enum_values != NULL, ERR_INTERNAL, "field '%s' has no values", f->name);
    for (size_t v = 0; f->enum_values[v] != NULL; v++) {
        const char *e = f->enum_values[v];
        size_t n = strlen(e);
        bool same = n == t.len;
        for (size_t i = 0; same && i < n; i++) {
            same = lower(t.p[i]) == (uint8_t)e[i];
        }
        if (same) {
            return buf_append(out, e, n);
        }
    }
    char list[200];
    size_t len = 0;
    for (size_t v = 0; f->enum_values[v] != NULL; v++) {
        size_t n = strlen(f->enum_values[v]);
        if (len + n + 3 >= sizeof list) {
            break;
        }
        if (v) {
            list[len++] = ',';
            list[len++] = ' ';
        }
        memcpy(list + len, f->enum_values[v], n);
        len += n;
    }
    list[len] = '\0';
    BAIL(ERR_INPUT, "field '%s': must be one of %s", f->name, list);
}

static err v_token(const field_def *f, slice t, buf *out)
{
    bool ok = t.len >= 1 && t.len <= TOKEN_MAX;
    for (size_t i = 0; ok && i < t.len; i++) {
        uint8_t c = lower(t.p[i]);
        ok = (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '.' || c == '-';
    }
    ENSURE(ok, ERR_INPUT, "field '%s': must be 1-%d characters a-z, 0-9, '_', '.' or '-'", f->name,
           TOKEN_MAX);
    return append_lower(out, t);
}

/* The gate every value passes: controls and line breaks. */
static err gate(const field_def *f, slice t)
{
    bool lines = f->type == FT_TEXT && f->multiline;
    size_t i = 0;
    while (i < t.len) {
        uint8_t c = t.p[i];
        if (c >= 0x20 && c < 0x7F) {
            i++;
            continue;
        }
        ENSURE(c != 0, ERR_INPUT, "field '%s': NUL bytes are not allowed", f->name);
        if (lines &&
            (c == '\n' || c == '\t' || (c == '\r' && i + 1 < t.len && t.p[i + 1] == '\n'))) {
            i++;
            continue;
        }
        ENSURE(c != '\n' && c != '\r', ERR_INPUT,
               "field '%s': line breaks are not allowed in this field", f->name);
        uint32_t cp = next_cp(t.p, t.len, &i);
        ENSURE(cp >= 0xA0, ERR_INPUT, "field '%s': control characters are not allowed", f->name);
    }
    return ERR_OK;
}

static err validate(const field_def *f, const uint8_t *s, size_t len, buf *canon)
{
    ENSURE(len <= f->max_bytes * 8 + INPUT_SLACK, ERR_INPUT, "field '%s': longer than %zu bytes",
           f->name, f->max_bytes);
    ENSURE(utf8_invalid_at(s, len) == len, ERR_INPUT, "field '%s': not valid UTF-8", f->name);
    slice t = trim(s, len);
    ENSURE(t.len > 0, ERR_INPUT, "field '%s': empty value (leave the field out instead)", f->name);
    TRY(gate(f, t));
    switch (f->type) {
    case FT_TEXT:
        TRY(v_text(f, t, canon));
        break;
    case FT_NAME:
        TRY(v_name(f, t, canon));
        break;
    case FT_IDNUM:
        TRY(v_idnum(f, t, canon));
        break;
    case FT_DATE:
        TRY(v_date(f, t, canon));
        break;
    case FT_DATETIME:
        TRY(v_datetime(f, t, canon));
        break;
    case FT_PHONE:
        TRY(v_phone(f, t, canon));
        break;
    case FT_EMAIL:
        TRY(v_email(f, t, canon));
        break;
    case FT_LIST:
        TRY(v_list(f, t, canon));
        break;
    case FT_INT:
        TRY(v_int(f, t, canon));
        break;
    case FT_BOOL:
        TRY(v_bool(f, t, canon));
        break;
    case FT_MONEY:
        TRY(v_money(f, t, canon));
        break;
    case FT_CURRENCY:
        TRY(v_currency(f, t, canon));
        break;
    case FT_ENUM:
        TRY(v_enum(f, t, canon));
        break;
    case FT_TOKEN:
        TRY(v_token(f, t, canon));
        break;
    default:
        BAIL(ERR_INTERNAL, "field '%s' has an unknown type", f->name);
    }
    ENSURE(canon->len <= f->max_bytes, ERR_INPUT, "field '%s': longer than %zu bytes", f->name,
           f->max_bytes);
    return ERR_OK;
}

err model_validate(const field_def *f, const char *in, size_t len, buf *canon)
{
    ENSURE(f != NULL && canon != NULL && f->name != NULL, ERR_INTERNAL, "no field");
    ENSURE(in != NULL || len == 0, ERR_INTERNAL, "NULL value");
    buf_reset(canon);
    err rc = validate(f, (const uint8_t *)(in ? in : ""), len, canon);
    if (rc != ERR_OK) {
        buf_reset(canon); /* no half-built value is left behind */
    }
    return rc;
}

/* ---- masking ---- */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((uint8_t)s[i])) {
            return false;
        }
    }
    return true;
}

static err mask_stars(buf *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        TRY(buf_append_byte(out, '*'));
    }
    return ERR_OK;
}

static err mask_phone(const char *c, size_t n, buf *out)
{
    if (n == 11 && all_digits(c, n)) {
        TRY(buf_append(out, c, 3));
        TRY(buf_append_str(out, "****"));
        return buf_append(out, c + 7, 4);
    }
    const char *dash = memchr(c, '-', n);
    size_t area = dash ? (size_t)(dash - c) : 0;
    if (dash && area >= 3 && n - area - 1 >= 7 && all_digits(c, area) &&
        all_digits(dash + 1, n - area - 1)) {
        TRY(buf_append(out, c, area + 1));
        TRY(buf_append_str(out, "****"));
        return buf_append(out, c + n - 4, 4);
    }
    return buf_append_str(out, "***");
}

static err mask_name(const char *c, size_t n, buf *out)
{
    const uint8_t *s = (const uint8_t *)c;
    if (n == 0 || utf8_invalid_at(s, n) != n) {
        return buf_append_str(out, "***");
    }
    size_t count = 0, i = 0, first_end = 0, last_start = 0;
    while (i < n) {
        last_start = i;
        (void)next_cp(s, n, &i);
        if (count == 0) {
            first_end = i;
        }
        count++;
    }
    if (count == 1) {
        return buf_append_byte(out, '*');
    }
    TRY(buf_append(out, s, first_end));
    if (count == 2) {
        return buf_append_byte(out, '*');
    }
    TRY(mask_stars(out, count - 2));
    return buf_append(out, s + last_start, n - last_start);
}

err model_mask(const field_def *f, const char *canon, buf *out)
{
    ENSURE(f != NULL && out != NULL, ERR_INTERNAL, "no field");
    ENSURE(canon != NULL, ERR_INPUT, "field '%s': no value to mask", f->name);
    buf_reset(out);
    size_t n = strlen(canon);
    err rc = ERR_OK;
    switch (f->type) {
    case FT_PHONE:
        GUARD(mask_phone(canon, n, out));
        break;
    case FT_IDNUM:
        if (n == 18) {
            GUARD(buf_append(out, canon, 4));
            GUARD(mask_stars(out, 10));
            GUARD(buf_append(out, canon + 14, 4));
        } else {
            GUARD(buf_append_str(out, "***"));
        }
        break;
    case FT_NAME:
        GUARD(mask_name(canon, n, out));
        break;
    case FT_EMAIL: {
        const char *at = memchr(canon, '@', n);
        if (at && at > canon && (uint8_t)canon[0] < 0x80) {
            GUARD(buf_append(out, canon, 1));
            GUARD(buf_append_str(out, "***"));
            GUARD(buf_append(out, at, n - (size_t)(at - canon)));
        } else {
            GUARD(buf_append_str(out, "***"));
        }
        break;
    }
    default:
        GUARD(buf_append_str(out, "***"));
        break;
    }
out:
    if (rc != ERR_OK) {
        buf_reset(out);
    }
    return rc;
}

/* ---- blind-index search terms ---- */

err model_blind_normalize(blind_kind k, const char *in, size_t len, buf *out)
{
    const field_def *f = NULL;
    for (int i = 0; i < CF__COUNT && f == NULL; i++) {
        const field_def *c = model_field(REC_CUSTOMER, i);
        if (c != NULL && c->blind == k && k != BI_NONE) {
            f = c;
        }
    }
    ENSURE(f != NULL, ERR_INPUT, "unknown search kind");
    TRY(model_validate(f, in, len, out));
    if (k == BI_NAME) {
        for (size_t i = 0; i < out->len; i++) {
            out->p[i] = lower(out->p[i]);
        }
    }
    return ERR_OK;
}
