/*
 * rules_values.c - the values of the rules file: numbers, durations, sizes, rates, names,
 * dates, hours of the day and comma lists. Each reader takes short, terminated, validated
 * text (see rules.c) and says whether it is well formed and in range.
 */
#include <ctype.h>
#include <string.h>

#include "guard/rules_int.h"

static bool is_digits(const char *s)
{
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
    }
    return true;
}

/* Decimal integer without sign or leading zeros (other than "0"), at most max. */
bool gval_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!is_digits(s) || (s[0] == '0' && s[1]) || strlen(s) > 19) {
        return false;
    }
    uint64_t v = 0;
    for (; *s; s++) {
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* Decimal number "12", "0.5", "2.25" (no sign, no exponent). */
bool gval_decimal(const char *s, double *out)
{
    const char *dot = strchr(s, '.');
    size_t ni = dot ? (size_t)(dot - s) : strlen(s);
    if (ni == 0 || ni > 9) {
        return false;
    }
    double v = 0;
    for (size_t i = 0; i < ni; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (dot) {
        const char *f = dot + 1;
        size_t nf = strlen(f);
        if (nf == 0 || nf > 6) {
            return false;
        }
        double scale = 0.1;
        for (size_t i = 0; i < nf; i++) {
            if (f[i] < '0' || f[i] > '9') {
                return false;
            }
            v += (f[i] - '0') * scale;
            scale /= 10;
        }
    }
    *out = v;
    return true;
}

typedef struct unit {
    const char *name;
    uint64_t mul;
} unit;

/* Leading digits (1 to maxd of them, a positive number at most max) followed by one of
 * units; *v the number, *mul the unit's factor. */
static bool number_unit(const char *s, size_t maxd, uint64_t max, const unit *units, size_t nunits,
                        uint64_t *v, uint64_t *mul)
{
    size_t n = strlen(s), d = 0;
    while (d < n && s[d] >= '0' && s[d] <= '9') {
        d++;
    }
    if (d == 0 || d > maxd) {
        return false;
    }
    char num[16];
    memcpy(num, s, d);
    num[d] = '\0';
    if (!gval_u64(num, max, v) || *v == 0) {
        return false;
    }
    for (size_t i = 0; i < nunits; i++) {
        if (strcmp(s + d, units[i].name) == 0) {
            *mul = units[i].mul;
            return true;
        }
    }
    return false;
}

#define US_PER_DAY (86400 * 1000000ull)

bool gval_duration(const char *s, int64_t *us)
{
    static const unit units[] = {{"ms", 1000},           {"s", 1000000},
                                 {"m", 60 * 1000000ull}, {"h", 3600 * 1000000ull},
                                 {"d", US_PER_DAY},      {"w", 7 * US_PER_DAY}};
    uint64_t v, mul;
    if (!number_unit(s, 12, 1000000000000ull, units, sizeof units / sizeof units[0], &v, &mul) ||
        v > 366 * US_PER_DAY / mul) {
        return false;
    }
    *us = (int64_t)(v * mul);
    return true;
}

bool gval_bytes(const char *s, uint64_t *out)
{
    static const unit units[] = {{"", 1},           {"B", 1},           {"KB", 1000},
                                 {"MB", 1000000},   {"GB", 1000000000}, {"KiB", 1024},
                                 {"MiB", 1u << 20}, {"GiB", 1u << 30}};
    uint64_t v, mul;
    if (!number_unit(s, 13, 1ull << 40, units, sizeof units / sizeof units[0], &v, &mul) ||
        v > (1ull << 40) / mul) {
        return false;
    }
    *out = v * mul;
    return true;
}

/* "50/s", "600/m", "0.5/s", "1000/h" -> per second. */
bool gval_rate(const char *s, double *per_s)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || (size_t)(slash - s) > 15) {
        return false;
    }
    char num[16];
    memcpy(num, s, (size_t)(slash - s));
    num[slash - s] = '\0';
    double v;
    if (!gval_decimal(num, &v) || v <= 0 || v > 1e6) {
        return false;
    }
    const char *u = slash + 1;
    double div = strcmp(u, "s") == 0   ? 1
                 : strcmp(u, "m") == 0 ? 60
                 : strcmp(u, "h") == 0 ? 3600
                                       : 0;
    if (div == 0) {
        return false;
    }
    *per_s = v / div;
    return true;
}

/* Names: rule names, departments, nftables identifiers. */
bool gval_name(const char *s, size_t max, bool utf8)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || c == '_' || c == '-' || c == '.' || (utf8 && c >= 0x80))) {
            return false;
        }
    }
    return true;
}

bool gval_date(const char *s, int32_t *day)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        return false;
    }
    int v[3] = {0, 0, 0};
    const int pos[3][2] = {{0, 4}, {5, 2}, {8, 2}};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < pos[k][1]; i++) {
            char c = s[pos[k][0] + i];
            if (c < '0' || c > '9') {
                return false;
            }
            v[k] = v[k] * 10 + (c - '0');
        }
    }
    int y = v[0], m = v[1], d = v[2];
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || y > 2200 || m < 1 || m > 12 || d < 1 ||
        d > mdays[m - 1] + (m == 2 && leap ? 1 : 0)) {
        return false;
    }
    /* days from civil (Howard Hinnant's algorithm) */
    y -= m <= 2;
    int era = y / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *day = era * 146097 + doe - 719468;
    return true;
}

/* "08:30" -> minutes; "24:00" only when end is set. */
bool gval_hhmm(const char *s, size_t n, bool end, uint16_t *out)
{
    if (n != 5 || s[2] != ':' || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
        !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4])) {
        return false;
    }
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (m != 0 || !end))) {
        return false;
    }
    *out = (uint16_t)(h * 60 + m);
    return true;
}

int gval_weekday(const char *s, size_t n)
{
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    for (int i = 0; i < 7; i++) {
        if (n == 3 && memcmp(s, days[i], 3) == 0) {
            return i;
        }
    }
    return -1;
}

/* ---- lists ---- */

/* Joins tokens from..end with single spaces, then splits at commas; each item trimmed and
 * non-empty. */
err gval_items(ps *p, char **tok, int from, int ntok, items *it)
{
    it->n = 0;
    char joined[LINE_MAX_BYTES];
    size_t len = 0;
    for (int i = from; i < ntok; i++) {
        size_t tl = strlen(tok[i]);
        if (len + tl + 2 > sizeof joined) {
            return perr(p, "line too long");
        }
        if (len) {
            joined[len++] = ' ';
        }
        memcpy(joined + len, tok[i], tl);
        len += tl;
    }
    joined[len] = '\0';
    if (len == 0) {
        return perr(p, "%s needs a value", tok[0]);
    }
    char *s = joined;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma) {
            *comma = '\0';
        }
        while (*s == ' ') {
            s++;
        }
        size_t n = strlen(s);
        while (n && s[n - 1] == ' ') {
            s[--n] = '\0';
        }
        if (n == 0) {
            return perr(p, "empty item in the list after %s", tok[0]);
        }
        if (it->n == MAX_TOKENS || n >= sizeof it->v[0]) {
            return perr(p, "too many or too long items after %s", tok[0]);
        }
        memcpy(it->v[it->n++], s, n + 1);
        if (!comma) {
            break;
        }
        s = comma + 1;
    }
    return ERR_OK;
}

/* Splits one item "lock 30m" into words. */
int gval_words(char *s, char **w, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save)) {
        w[n++] = t;
    }
    return strtok_r(NULL, " ", &save) ? max + 1 : n;
}

err gval_flags(ps *p, char **tok, int ntok, const gflag *names, size_t nnames, const char *refusal,
               unsigned *out)
{
    items it;
    TRY(gval_items(p, tok, 1, ntok, &it));
    for (int i = 0; i < it.n; i++) {
        size_t k = 0;
        while (k < nnames && strcmp(it.v[i], names[k].name) != 0) {
            k++;
        }
        if (k == nnames) {
            return perr(p, "%s, not '%s'", refusal, it.v[i]);
        }
        *out |= names[k].bit;
    }
    return ERR_OK;
}
