/*
 * phish.c - the phishing template format, the /t/ pages, one recipient's mail and
 * the scanner filter (phish.h). The parser reads a header of "key: value" lines,
 * then sections opened by "--- text", "--- html", "--- landing", "--- teaching";
 * every error names the file and the line. HTML is checked with a deny list of
 * what could run or reach outside (script, handlers, frames, "://"), and the
 * pages are served under a sandboxing policy besides, so a template that slips
 * past the list still runs nothing on Custos's origin.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "crypto/crypto.h"
#include "training/phish.h"

static const char *const AREAS[PA__COUNT] = {"from", "subject",    "body",
                                             "link", "attachment", "landing"};

const char *phish_area_name(phish_area a)
{
    return (unsigned)a < PA__COUNT ? AREAS[a] : "none";
}

void phish_template_free(phish_template *t)
{
    if (!t) {
        return;
    }
    free(t->text);
    free(t->html);
    free(t->landing);
    free(t->teaching);
    free(t);
}

/* ---- parsing ---- */

typedef struct pctx {
    const char *file;
    size_t line;
} pctx;

#define PFAIL(c, ...)                                                                              \
    do {                                                                                           \
        char m_[300];                                                                              \
        snprintf(m_, sizeof m_, __VA_ARGS__);                                                      \
        rc = err_set(ERR_INPUT, __FILE__, __LINE__, "%s:%zu: %s", (c)->file, (c)->line, m_);       \
        goto out;                                                                                  \
    } while (0)

/* Case-insensitive search in a NUL-terminated text. */
static const char *find_ci(const char *h, const char *n)
{
    size_t k = strlen(n);
    for (; *h; h++) {
        size_t i = 0;
        while (i < k && h[i] && tolower((unsigned char)h[i]) == n[i]) {
            i++;
        }
        if (i == k) {
            return h;
        }
    }
    return NULL;
}

/* An event-handler attribute: whitespace or '/' or a quote, then "on", letters, optional
 * spaces and '='. */
static const char *has_handler(const char *s)
{
    for (const char *p = s; *p; p++) {
        if ((p[0] == ' ' || p[0] == '\t' || p[0] == '\n' || p[0] == '/' || p[0] == '"' ||
             p[0] == '\'') &&
            tolower((unsigned char)p[1]) == 'o' && tolower((unsigned char)p[2]) == 'n') {
            const char *q = p + 3;
            size_t n = 0;
            while (isalpha((unsigned char)*q)) {
                q++;
                n++;
            }
            while (*q == ' ' || *q == '\t') {
                q++;
            }
            if (n > 0 && *q == '=') {
                return p;
            }
        }
    }
    return NULL;
}

/* What a section may not carry; NULL when it is clean. *at: where it is. */
static const char *html_problem(const char *s, bool landing, const char **at)
{
    static const char *const bad[] = {
        "<script", "javascript:", "vbscript:", "data:",       "<iframe", "<frame",   "<object",
        "<embed",  "<base",       "<meta",     "<link",       "<svg",    "<math",    "srcdoc",
        "<style",  "@import",     "url(",      "expression(", "://",     "<template"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if ((*at = find_ci(s, bad[i]))) {
            return bad[i];
        }
    }
    if ((*at = has_handler(s))) {
        return "an event handler (on...=)";
    }
    if (!landing && (*at = find_ci(s, "<form"))) {
        return "<form (only the landing page has one)";
    }
    if (landing && (*at = find_ci(s, "name="))) {
        return "name= (the landing page's inputs carry no name, so nothing typed is sent)";
    }
    return NULL;
}

/* Placeholders: {{word}} with word one of allowed (space separated). */
static const char *placeholder_problem(const char *s, const char *allowed)
{
    for (const char *p = strstr(s, "{{"); p; p = strstr(p + 2, "{{")) {
        const char *e = strstr(p + 2, "}}");
        if (!e || e - p - 2 > 16 || e - p - 2 == 0) {
            return "a {{ without its }}";
        }
        char w[20];
        size_t n = (size_t)(e - p - 2);
        memcpy(w, p + 2, n);
        w[n] = '\0';
        bool ok = false;
        const char *a = allowed;
        while (*a) {
            size_t k = strcspn(a, " ");
            ok = ok || (k == n && memcmp(a, w, n) == 0);
            a += k;
            a += *a == ' ';
        }
        if (!ok) {
            return "an unknown placeholder";
        }
    }
    return NULL;
}

static bool utf8_ok(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t k = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        if (k == 0 || i + k > n || (k == 2 && c < 0xc2) || (k == 4 && c > 0xf4)) {
            return false;
        }
        for (size_t j = 1; j < k; j++) {
            if ((p[i + j] & 0xc0) != 0x80) {
                return false;
            }
        }
        if (k == 3 && ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] >= 0xa0))) {
            return false;
        }
        if (k == 4 && ((c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] >= 0x90))) {
            return false;
        }
        if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
            return false;
        }
        i += k;
    }
    return true;
}

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PHISH_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}

/* "Name <local@domain>" or "local@domain": an address of printable ASCII without spaces or
 * brackets, one '@', a dot in the domain; the display name without '<', '>', '"' or '\\'. */
static bool from_ok(const char *s)
{
    const char *lt = strchr(s, '<');
    const char *addr = s, *end = s + strlen(s);
    if (lt) {
        for (const char *p = s; p < lt; p++) {
            if (*p == '>' || *p == '"' || *p == '\\') {
                return false;
            }
        }
        addr = lt + 1;
        if (end == addr || end[-1] != '>') {
            return false;
        }
        end--;
    }
    size_t at = 0, n = (size_t)(end - addr);
    const char *atp = NULL;
    for (const char *p = addr; p < end; p++) {
        if (*p <= ' ' || *p >= 127 || *p == '<' || *p == '>' || *p == '(' || *p == ')' ||
            *p == ',' || *p == ';' || *p == '"' || *p == '\\') {
            return false;
        }
        if (*p == '@') {
            at++;
            atp = p;
        }
    }
    return n >= 3 && n <= 200 && at == 1 && atp > addr && memchr(atp, '.', (size_t)(end - atp));
}

static err set_field(char *dst, size_t max, const char *v, pctx *c, const char *key)
{
    err rc = ERR_OK;
    if (dst[0]) {
        PFAIL(c, "%s: given twice", key);
    }
    if (strlen(v) == 0 || strlen(v) >= max) {
        PFAIL(c, "%s: empty or longer than %zu bytes", key, max - 1);
    }
    memcpy(dst, v, strlen(v) + 1);
out:
    return rc;
}

enum { SEC_NONE, SEC_TEXT, SEC_HTML, SEC_LANDING, SEC_TEACHING };

/* The line of at inside section s, which starts on the line after line. */
static size_t line_of(size_t line, const char *s, const char *at)
{
    size_t n = line + 1;
    for (const char *p = s; p < at; p++) {
        n += *p == '\n';
    }
    return n;
}

static err check_section(pctx *c, size_t line, int sec, const char *s)
{
    err rc = ERR_OK;
    const char *p, *at = NULL;
    size_t keep = c->line;
    c->line = line;
    if (sec == SEC_TEXT) {
        if ((p = placeholder_problem(s, "link report name"))) {
            PFAIL(c, "text: %s", p);
        }
        if (!strstr(s, "{{link}}") || !strstr(s, "{{report}}")) {
            PFAIL(c, "text: needs {{link}} and {{report}}");
        }
        if (strstr(s, "://")) {
            PFAIL(c, "text: carries an address (use {{link}})");
        }
    } else if (sec == SEC_HTML) {
        if ((p = placeholder_problem(s, "link report name pixel"))) {
            PFAIL(c, "html: %s", p);
        }
        if (!strstr(s, "{{link}}") || !strstr(s, "{{report}}") || !strstr(s, "{{pixel}}")) {
            PFAIL(c, "html: needs {{link}}, {{report}} and {{pixel}}");
        }
        if ((p = html_problem(s, false, &at))) {
            c->line = line_of(line, s, at);
            PFAIL(c, "html: may not carry %s", p);
        }
    } else if (sec == SEC_LANDING) {
        if ((p = placeholder_problem(s, "action"))) {
            PFAIL(c, "landing: %s", p);
        }
        if (!strstr(s, "{{action}}")) {
            PFAIL(c, "landing: needs a form whose action is {{action}}");
        }
        if ((p = html_problem(s, true, &at))) {
            c->line = line_of(line, s, at);
            PFAIL(c, "landing: may not carry %s", p);
        }
    } else if (sec == SEC_TEACHING) {
        if (strstr(s, "{{") || strchr(s, '<')) {
            PFAIL(c, "teaching: plain text (no placeholders or markup)");
        }
    }
out:
    if (rc == ERR_OK) {
        c->line = keep;
    }
    return rc;
}

err phish_template_parse(slice text, const char *file, phish_template **out)
{
    *out = NULL;
    pctx c = {file, 1};
    err rc = ERR_OK;
    phish_template *t = calloc(1, sizeof *t);
    buf sec[5];
    for (int i = 0; i < 5; i++) {
        buf_init(&sec[i], PHISH_TEMPLATE_MAX + 1);
    }
    size_t sec_line[5] = {0};
    CHECK(t != NULL, ERR_INTERNAL, "out of memory");
    if (text.len > PHISH_TEMPLATE_MAX) {
        rc = err_set(ERR_INPUT, __FILE__, __LINE__, "%s: larger than %zu bytes", file,
                     PHISH_TEMPLATE_MAX);
        goto out;
    }
    if (!utf8_ok(text.p, text.len)) {
        rc = err_set(ERR_INPUT, __FILE__, __LINE__, "%s: not UTF-8 text", file);
        goto out;
    }
    int cur = SEC_NONE;
    bool seen_format = false;
    size_t pos = 0;
    char line[PHISH_LINE_MAX + 2];
    while (pos < text.len) {
        size_t e = pos;
        while (e < text.len && text.p[e] != '\n') {
            e++;
        }
        size_t n = e - pos;
        if (n > 0 && text.p[pos + n - 1] == '\r') {
            n--;
        }
        if (n > PHISH_LINE_MAX) {
            PFAIL(&c, "a line longer than %d bytes", PHISH_LINE_MAX);
        }
        memcpy(line, text.p + pos, n);
        line[n] = '\0';
        if (memchr(line, '\0', n) || memchr(line, '\r', n)) {
            PFAIL(&c, "a control character");
        }
        pos = e < text.len ? e + 1 : e;
        if (strncmp(line, "--- ", 4) == 0) {
            static const char *const names[] = {"", "text", "html", "landing", "teaching"};
            int s = SEC_NONE;
            for (int i = 1; i < 5; i++) {
                s = strcmp(line + 4, names[i]) == 0 ? i : s;
            }
            if (s == SEC_NONE) {
                PFAIL(&c, "unknown section \"%.40s\" (text, html, landing, teaching)", line + 4);
            }
            if (sec_line[s]) {
                PFAIL(&c, "section %s given twice", names[s]);
            }
            sec_line[s] = c.line;
            cur = s;
        } else if (cur != SEC_NONE) {
            GUARD(buf_append(&sec[cur], line, n));
            GUARD(buf_append_byte(&sec[cur], '\n'));
        } else if (n == 0 || line[0] == '#') {
            /* blank or a comment */
        } else {
            char *colon = strchr(line, ':');
            if (!colon) {
                PFAIL(&c, "expected \"key: value\" or a section (--- text)");
            }
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t') {
                v++;
            }
            size_t vl = strlen(v);
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) {
                v[--vl] = '\0';
            }
            const char *k = line;
            if (strcmp(k, "format") == 0) {
                if (seen_format || strcmp(v, "1") != 0) {
                    PFAIL(&c, "format: must be 1, given once");
                }
                seen_format = true;
            } else if (strcmp(k, "id") == 0) {
                GUARD(set_field(t->id, sizeof t->id, v, &c, k));
                if (!id_ok(v)) {
                    PFAIL(&c, "id: 1-%d characters of a-z 0-9 - _", PHISH_ID_MAX);
                }
            } else if (strcmp(k, "lang") == 0) {
                GUARD(set_field(t->lang, sizeof t->lang, v, &c, k));
                if (strcmp(v, "en") != 0 && strcmp(v, "zh-CN") != 0) {
                    PFAIL(&c, "lang: zh-CN or en");
                }
            } else if (strcmp(k, "name") == 0) {
                GUARD(set_field(t->name, sizeof t->name, v, &c, k));
            } else if (strcmp(k, "from") == 0) {
                GUARD(set_field(t->from, sizeof t->from, v, &c, k));
                if (!from_ok(v)) {
                    PFAIL(&c, "from: \"Display Name <local@domain>\"");
                }
            } else if (strcmp(k, "subject") == 0) {
                GUARD(set_field(t->subject, sizeof t->subject, v, &c, k));
            } else if (strcmp(k, "attachment") == 0) {
                GUARD(set_field(t->attachment, sizeof t->attachment, v, &c, k));
                if (strpbrk(v, "<>\"'&/\\")) {
                    PFAIL(&c, "attachment: a file name");
                }
            } else if (strcmp(k, "sign") == 0) {
                if (t->nsigns == PHISH_SIGNS_MAX) {
                    PFAIL(&c, "sign: at most %d", PHISH_SIGNS_MAX);
                }
                char *c2 = strchr(v, ':');
                int area = -1;
                if (c2) {
                    *c2 = '\0';
                    for (int i = 0; i < PA__COUNT; i++) {
                        area = strcmp(v, AREAS[i]) == 0 ? i : area;
                    }
                }
                if (area < 0) {
                    PFAIL(&c, "sign: \"AREA: text\", AREA one of from, subject, body, link, "
                              "attachment, landing");
                }
                char *st = c2 + 1;
                while (*st == ' ' || *st == '\t') {
                    st++;
                }
                if (!*st) {
                    PFAIL(&c, "sign: the text is missing");
                }
                phish_sign *sg = &t->signs[t->nsigns++];
                sg->area = (phish_area)area;
                snprintf(sg->text, sizeof sg->text, "%s", st);
            } else {
                PFAIL(&c, "unknown key \"%.40s\"", k);
            }
        }
        c.line++;
    }
    c.line = 1;
    if (!seen_format) {
        PFAIL(&c, "format: missing (format: 1)");
    }
    static const struct {
        const char *k;
        size_t off;
    } need[] = {{"id", offsetof(phish_template, id)},
                {"lang", offsetof(phish_template, lang)},
                {"name", offsetof(phish_template, name)},
                {"from", offsetof(phish_template, from)},
                {"subject", offsetof(phish_template, subject)}};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        if (((char *)t + need[i].off)[0] == '\0') {
            PFAIL(&c, "%s: missing", need[i].k);
        }
    }
    if (strpbrk(t->subject, "\r\n") || strpbrk(t->name, "<>")) {
        PFAIL(&c, "subject or name: one line without markup");
    }
    if (t->nsigns == 0) {
        PFAIL(&c, "sign: at least one tell-tale sign");
    }
    if (!sec_line[SEC_TEXT] || !sec_line[SEC_HTML]) {
        PFAIL(&c, "sections text and html are required");
    }
    for (int s = SEC_TEXT; s <= SEC_TEACHING; s++) {
        if (!sec_line[s]) {
            continue;
        }
        GUARD(check_section(&c, sec_line[s], s, buf_cstr(&sec[s])));
    }
    char **dst[5] = {NULL, &t->text, &t->html, &t->landing, &t->teaching};
    for (int s = SEC_TEXT; s <= SEC_TEACHING; s++) {
        if (sec_line[s]) {
            *dst[s] = buf_take_cstr(&sec[s]);
            CHECK(*dst[s] != NULL, ERR_INTERNAL, "out of memory");
        }
    }
    *out = t;
    t = NULL;
out:
    for (int i = 0; i < 5; i++) {
        buf_free(&sec[i]);
    }
    phish_template_free(t);
    return rc;
}

/* ---- links, tokens ---- */

void phish_token_new(char out[PHISH_TOKEN_TEXT])
{
    uint8_t raw[PHISH_TOKEN_LEN];
    rand_bytes(raw, sizeof raw);
    b64url_encode(out, PHISH_TOKEN_TEXT, raw, sizeof raw);
    mem_wipe(raw, sizeof raw);
}

bool phish_token_hash(const char *text, uint8_t hash[32])
{
    size_t n = strnlen(text, PHISH_TOKEN_TEXT);
    if (n != PHISH_TOKEN_TEXT - 1) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = text[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_')) {
            return false;
        }
    }
    hash_sha256((const uint8_t *)text, n, hash);
    return true;
}

err phish_links_make(const char *base, const char *token, phish_links *out)
{
    size_t n = base ? strlen(base) : 0;
    ENSURE(n > 8 && n < 300 &&
               (strncmp(base, "https://", 8) == 0 || strncmp(base, "http://", 7) == 0) &&
               !strpbrk(base, "\"'<> \r\n"),
           ERR_INPUT, "phishing: console_url (training.json) must be set to Custos's address");
    const char *sep = base[n - 1] == '/' ? "" : "/";
    snprintf(out->link, sizeof out->link, "%s%st/c/%s", base, sep, token);
    snprintf(out->pixel, sizeof out->pixel, "%s%st/o/%s.gif", base, sep, token);
    snprintf(out->report, sizeof out->report, "%s%st/r/%s", base, sep, token);
    snprintf(out->action, sizeof out->action, "%s%st/s/%s", base, sep, token);
    return ERR_OK;
}

/* ---- HTML helpers ---- */

static err esc(buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            TRY(buf_append_str(b, "&lt;"));
            break;
        case '>':
            TRY(buf_append_str(b, "&gt;"));
            break;
        case '&':
            TRY(buf_append_str(b, "&amp;"));
            break;
        case '"':
            TRY(buf_append_str(b, "&quot;"));
            break;
        case '\'':
            TRY(buf_append_str(b, "&#39;"));
            break;
        default:
            TRY(buf_append_byte(b, (uint8_t)*s));
        }
    }
    return ERR_OK;
}

/* Copies s with {{key}} replaced by vals (keys[i] -> vals[i]); html: the values escaped. */
static err subst_mode(buf *b, const char *s, const char *const *keys, const char *const *vals,
                      size_t n, bool html, bool text_too)
{
    while (*s) {
        const char *p = strstr(s, "{{");
        if (!p) {
            return text_too ? esc(b, s) : buf_append_str(b, s);
        }
        if (text_too) {
            char *lit = strndup(s, (size_t)(p - s));
            ENSURE(lit != NULL, ERR_INTERNAL, "out of memory");
            err e = esc(b, lit);
            free(lit);
            TRY(e);
        } else {
            TRY(buf_append(b, s, (size_t)(p - s)));
        }
        const char *e = strstr(p, "}}");
        ENSURE(e != NULL, ERR_INTERNAL, "phishing: a placeholder the parser let through");
        size_t k = (size_t)(e - p - 2);
        bool done = false;
        for (size_t i = 0; i < n && !done; i++) {
            if (strlen(keys[i]) == k && memcmp(keys[i], p + 2, k) == 0) {
                TRY(html ? esc(b, vals[i]) : buf_append_str(b, vals[i]));
                done = true;
            }
        }
        ENSURE(done, ERR_INTERNAL, "phishing: a placeholder the parser let through");
        s = e + 2;
    }
    return ERR_OK;
}

/* html: the values escaped (the template's own HTML kept). */
static err subst(buf *b, const char *s, const char *const *keys, const char *const *vals, size_t n,
                 bool html)
{
    return subst_mode(b, s, keys, vals, n, html, false);
}

static err lines_crlf(buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\n') {
            TRY(buf_append_str(b, "\r\n"));
        } else if (*s != '\r') {
            TRY(buf_append_byte(b, (uint8_t)*s));
        }
    }
    return ERR_OK;
}

static err b64word(buf *b, const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(n * 2 + 8);
    ENSURE(o != NULL, ERR_INTERNAL, "out of memory");
    b64_encode(o, n * 2 + 8, (const uint8_t *)s, n);
    err rc = buf_appendf(b, "=?UTF-8?B?%s?=", o);
    free(o);
    return rc;
}

err phish_message(const phish_template *t, const phish_links *l, const char *to, const char *name,
                  buf *out)
{
    ENSURE(to && strlen(to) < 200 && !strpbrk(to, "\r\n<>\" ") && strchr(to, '@'), ERR_INPUT,
           "phishing: the recipient's address is malformed");
    char date[64], bnd[40], mid[ID_LEN + 1];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    id_new(mid, "msg");
    uint8_t r[12];
    rand_bytes(r, sizeof r);
    char rb[20];
    b64url_encode(rb, sizeof rb, r, sizeof r);
    snprintf(bnd, sizeof bnd, "=_%s", rb);
    const char *lt = strchr(t->from, '<');
    TRY(buf_appendf(out, "Date: %s\r\nFrom: ", date));
    if (lt) {
        char disp[321];
        size_t dn = (size_t)(lt - t->from);
        while (dn > 0 && t->from[dn - 1] == ' ') {
            dn--;
        }
        memcpy(disp, t->from, dn);
        disp[dn] = '\0';
        if (dn) {
            TRY(b64word(out, disp));
            TRY(buf_append_str(out, " "));
        }
        TRY(buf_appendf(out, "%s\r\n", lt));
    } else {
        TRY(buf_appendf(out, "<%s>\r\n", t->from));
    }
    TRY(buf_appendf(out, "To: <%s>\r\nMessage-ID: <%s@mail>\r\nSubject: ", to, mid));
    TRY(b64word(out, t->subject));
    TRY(buf_appendf(out,
                    "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; "
                    "boundary=\"%s\"\r\n\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n\r\n",
                    bnd, bnd));
    const char *keys[] = {"link", "report", "name", "pixel"};
    char pix[500];
    snprintf(pix, sizeof pix, "%s", l->pixel);
    const char *vals[] = {l->link, l->report, name ? name : "", pix};
    buf part;
    buf_init(&part, PHISH_TEMPLATE_MAX * 2);
    err rc = ERR_OK;
    GUARD(subst(&part, t->text, keys, vals, 3, false));
    GUARD(lines_crlf(out, buf_cstr(&part)));
    GUARD(buf_appendf(out,
                      "\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: 8bit\r\n\r\n",
                      bnd));
    buf_reset(&part);
    /* the pixel is an <img>; its address is escaped like every value */
    GUARD(subst(&part, t->html, keys, vals, 4, true));
    GUARD(lines_crlf(out, buf_cstr(&part)));
    GUARD(buf_appendf(out, "\r\n--%s--\r\n", bnd));
out:
    buf_free(&part);
    return rc;
}

/* ---- pages ---- */

#define PHISH_SCRIPT                                                                               \
    "document.addEventListener('submit',function(e){var f=e.target,t=0,i,x=f.querySelectorAll('"   \
    "input,textarea,select');for(i=0;i<x.length;i++){if(x[i].type!=='hidden'&&x[i].type!=="        \
    "'submit'&&x[i].value){t=1}x[i].value=''}if(t){var h=document.createElement('input');h.type="  \
    "'hidden';h.name='typed';h.value='1';f.appendChild(h)}});"

const char *phish_page_csp(void)
{
    static _Thread_local char csp[300];
    uint8_t h[32];
    hash_sha256((const uint8_t *)PHISH_SCRIPT, strlen(PHISH_SCRIPT), h);
    char b[48];
    b64_encode(b, sizeof b, h, sizeof h);
    snprintf(csp, sizeof csp,
             "sandbox allow-forms allow-scripts; default-src 'none'; script-src 'sha256-%s'; "
             "style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; "
             "frame-ancestors 'none'",
             b);
    return csp;
}

static err page_head(buf *b, const char *lang, const char *title)
{
    TRY(buf_appendf(b,
                    "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width\"><title>",
                    lang));
    TRY(esc(b, title));
    return buf_append_str(b, "</title><style>body{font-family:sans-serif;max-width:46em;margin:2em "
                             "auto;padding:0 1em;line-height:1.5}.mail{border:1px solid "
                             "#999;padding:1em;background:#fafafa}.n{display:inline-block;"
                             "background:#c00;color:#fff;border-radius:1em;padding:0 .5em;"
                             "margin-right:.4em;font-weight:bold}pre{white-space:pre-wrap}"
                             "</style></head><body>\n");
}

err phish_page_landing(const phish_template *t, const phish_links *l, buf *out)
{
    if (!t->landing) {
        return phish_page_teaching(t, out);
    }
    TRY(page_head(out, t->lang, t->name));
    const char *keys[] = {"action"};
    const char *vals[] = {l->action};
    TRY(subst(out, t->landing, keys, vals, 1, true));
    return buf_append_str(out, "\n<script>" PHISH_SCRIPT "</script></body></html>\n");
}

static bool zh(const char *lang)
{
    return strcmp(lang, "zh-CN") == 0;
}

static const char *area_label(phish_area a, bool z)
{
    static const char *const en[PA__COUNT] = {"Sender", "Subject",    "Message",
                                              "Link",   "Attachment", "Page"};
    static const char *const cn[PA__COUNT] = {"发件人", "主题", "正文", "链接", "附件", "页面"};
    return z ? cn[a] : en[a];
}

err phish_page_teaching(const phish_template *t, buf *out)
{
    bool z = zh(t->lang);
    TRY(page_head(out, t->lang, z ? "这是一次钓鱼演练" : "This was a phishing exercise"));
    TRY(buf_append_str(
        out, z ? "<h1>这是一次钓鱼演练</h1><p>别担心：这封邮件是公司安排的演练，没有任何数据泄露。"
                 "下面是这封邮件露出马脚的地方，下次遇到类似邮件请用“举报”按钮报告。</p>"
               : "<h1>This was a phishing exercise</h1><p>No harm done: the company sent this "
                 "mail to practise. Here is what gave it away; next time, report such a mail "
                 "with the report button.</p>"));
    TRY(buf_append_str(out, "<div class=\"mail\"><p>"));
    /* the mail again, each part marked with the numbers of its signs */
    for (int a = PA_FROM; a <= PA_ATTACHMENT; a++) {
        const char *val = a == PA_FROM         ? t->from
                          : a == PA_SUBJECT    ? t->subject
                          : a == PA_ATTACHMENT ? t->attachment
                                               : NULL;
        if (!val || !val[0]) {
            continue;
        }
        TRY(buf_appendf(out, "<b>%s:</b> ", area_label((phish_area)a, z)));
        for (size_t i = 0; i < t->nsigns; i++) {
            if ((int)t->signs[i].area == a) {
                TRY(buf_appendf(out, "<span class=\"n\">%zu</span>", i + 1));
            }
        }
        TRY(esc(out, val));
        TRY(buf_append_str(out, "<br>"));
    }
    TRY(buf_append_str(out, "</p><pre>"));
    for (size_t i = 0; i < t->nsigns; i++) {
        if (t->signs[i].area == PA_BODY || t->signs[i].area == PA_LINK) {
            TRY(buf_appendf(out, "<span class=\"n\">%zu</span>", i + 1));
        }
    }
    const char *keys[] = {"link", "report", "name"};
    const char *vals[] = {z ? "[链接]" : "[link]", z ? "[举报]" : "[report]",
                          z ? "[您的名字]" : "[your name]"};
    TRY(subst_mode(out, t->text, keys, vals, 3, true, true)); /* plain text: all of it escaped */
    TRY(buf_appendf(out, "</pre></div><h2>%s</h2><ol>",
                    z ? "露出马脚的地方" : "The tell-tale signs"));
    for (size_t i = 0; i < t->nsigns; i++) {
        TRY(buf_appendf(out, "<li><b>%s</b>: ", area_label(t->signs[i].area, z)));
        TRY(esc(out, t->signs[i].text));
        TRY(buf_append_str(out, "</li>"));
    }
    TRY(buf_append_str(out, "</ol>"));
    if (t->teaching) {
        TRY(buf_append_str(out, "<p>"));
        TRY(esc(out, t->teaching));
        TRY(buf_append_str(out, "</p>"));
    }
    return buf_append_str(
        out, z ? "<p>一节简短的补课已经安排给您，请在培训页面完成。</p></body></html>\n"
               : "<p>A short lesson has been assigned to you in the training pages.</p>"
                 "</body></html>\n");
}

err phish_page_plain(const char *lang, bool reported, buf *out)
{
    bool z = lang && zh(lang);
    const char *title = reported ? (z ? "谢谢您的举报" : "Thank you for reporting")
                                 : (z ? "链接已失效" : "This link has expired");
    TRY(page_head(out, z ? "zh-CN" : "en", title));
    TRY(buf_appendf(out, "<h1>%s</h1><p>%s</p></body></html>\n", title,
                    reported ? (z ? "安全团队已收到。可疑邮件请一律这样报告。"
                                  : "The security team has it. Report every suspicious mail "
                                    "this way.")
                             : (z ? "此页面不再可用。" : "This page is no longer available.")));
    return ERR_OK;
}

slice phish_pixel(void)
{
    static const uint8_t gif[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
                                  0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
                                  0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};
    return slice_of(gif, sizeof gif);
}

/* ---- scanners ---- */

const char *phish_scanner(const char *method, const char *ua, const char *purpose, int64_t sent_us,
                          int64_t now_us, int scanner_s)
{
    if (method && strcmp(method, "HEAD") == 0) {
        return "head";
    }
    if (purpose && (find_ci(purpose, "prefetch") || find_ci(purpose, "preview") ||
                    find_ci(purpose, "prerender"))) {
        return "prefetch";
    }
    if (!ua || !ua[0]) {
        return "user-agent";
    }
    static const char *const bots[] = {"bot",
                                       "spider",
                                       "crawl",
                                       "scan",
                                       "preview",
                                       "proofpoint",
                                       "mimecast",
                                       "barracuda",
                                       "safelinks",
                                       "urldefense",
                                       "forcepoint",
                                       "symantec",
                                       "trendmicro",
                                       "sophos",
                                       "fortinet",
                                       "cisco",
                                       "ironport",
                                       "checkpoint",
                                       "zscaler",
                                       "python-",
                                       "curl/",
                                       "wget/",
                                       "go-http",
                                       "java/",
                                       "okhttp",
                                       "libwww",
                                       "headless",
                                       "phantomjs",
                                       "facebookexternalhit",
                                       "slack",
                                       "whatsapp",
                                       "skypeuripreview",
                                       "microsoft office",
                                       "ms-office",
                                       "outlook-ios-linkpreview",
                                       "googleimageproxy",
                                       "yahoomailproxy"};
    for (size_t i = 0; i < sizeof bots / sizeof bots[0]; i++) {
        if (find_ci(ua, bots[i])) {
            return "user-agent";
        }
    }
    if (sent_us > 0 && now_us - sent_us < (int64_t)scanner_s * 1000000) {
        return "too-soon";
    }
    return NULL;
}
