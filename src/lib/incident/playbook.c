/*
 * playbook.c - the playbook parser (docs/FORMATS-playbook.md).
 *
 * Line by line: bytes are checked (length, NUL and control bytes, UTF-8), the first word picks
 * a statement from one table that says where it may stand (the header or a task), whether it
 * may repeat, and which function reads the rest of the line. When the text ends, every block is
 * checked for what it must hold. The input is untrusted: every read is bounded by the lengths at
 * hand and nothing is returned unless the whole file is right.
 */
#include "incident/playbook.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy.h"
#include "core/utf8.h"

#define NAME_SHOWN 120
#define MAX_STMTS 20

static const char *const TEAM_NAMES[PB__TEAMS] = {"technical", "legal", "customer-service",
                                                  "stewards", "communications"};
static const char *const SEVERITY_NAMES[PB__SEVERITIES] = {"low", "medium", "high", "critical"};
static const char *const LANG_NAMES[PB__LANGS] = {"zh-CN", "en"};
static const char *const ACTION_NAMES[PBA__COUNT] = {
    "lock-account",     "revoke-sessions",     "revoke-api-key",
    "block-address",    "seal-vault",          "scope",
    "evidence-bundle",  "legal-assessment",    "regulator-report",
    "customer-notices", "department-exposure", "public-statement"};
/* The team each action belongs to: containment is technical work, notices customer service's. */
static const pb_team ACTION_TEAM[PBA__COUNT] = {
    PB_TECHNICAL, PB_TECHNICAL, PB_TECHNICAL, PB_TECHNICAL,        PB_TECHNICAL, PB_TECHNICAL,
    PB_LEGAL,     PB_LEGAL,     PB_LEGAL,     PB_CUSTOMER_SERVICE, PB_STEWARDS,  PB_COMMUNICATIONS};

const char *pb_team_name(pb_team t)
{
    return t < PB__TEAMS ? TEAM_NAMES[t] : "none";
}
const char *pb_severity_name(pb_severity s)
{
    return s < PB__SEVERITIES ? SEVERITY_NAMES[s] : "none";
}
const char *pb_action_name(pb_action a)
{
    return a < PBA__COUNT ? ACTION_NAMES[a] : "none";
}
const char *pb_lang_name(pb_lang l)
{
    return l < PB__LANGS ? LANG_NAMES[l] : "none";
}

int playbook_task_index(const playbook *p, const char *id)
{
    for (size_t i = 0; i < p->ntasks; i++) {
        if (strcmp(p->task[i].id, id) == 0) {
            return (int)i;
        }
    }
    return -1;
}

void playbook_free(playbook *p)
{
    free(p);
}

/* ---- parser state ---- */

typedef struct pstate {
    playbook *p;
    const char *name;
    uint32_t lineno;
    const char *rest; /* the line after the statement's word */
    size_t rest_len;
    pb_task *t;               /* the task being read, NULL in the header */
    uint32_t seen[MAX_STMTS]; /* line where each statement was last set in this block */
    uint32_t title_line[PB__LANGS];
    bool have_version;
} pstate;

static err perr(const pstate *s, const char *fmt, ...) PRINTF_LIKE(2, 3);
static err perr(const pstate *s, const char *fmt, ...)
{
    char msg[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(ERR_INPUT, __FILE__, __LINE__, "%.*s:%u: %s", NAME_SHOWN, s->name, s->lineno,
                   msg);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Takes the next word of the rest into w (NUL-terminated, at most cap-1 bytes). */
static err next_word(pstate *s, const char *what, char *w, size_t cap)
{
    while (s->rest_len > 0 && is_space(*s->rest)) {
        s->rest++, s->rest_len--;
    }
    size_t n = 0;
    while (n < s->rest_len && !is_space(s->rest[n])) {
        n++;
    }
    if (n == 0) {
        return perr(s, "missing %s", what);
    }
    if (n >= cap) {
        return perr(s, "%s longer than %zu characters", what, cap - 1);
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_word_byte((unsigned char)s->rest[i])) {
            return perr(s, "%s may hold only a-z 0-9 _ . - (found byte 0x%02x)", what,
                        (unsigned char)s->rest[i]);
        }
    }
    memcpy(w, s->rest, n);
    w[n] = 0;
    s->rest += n, s->rest_len -= n;
    return ERR_OK;
}

static err end_of_line(pstate *s)
{
    while (s->rest_len > 0 && is_space(*s->rest)) {
        s->rest++, s->rest_len--;
    }
    if (s->rest_len > 0) {
        return perr(s, "unexpected text after the statement");
    }
    return ERR_OK;
}

static err one_word(pstate *s, const char *what, char *w, size_t cap)
{
    TRY(next_word(s, what, w, cap));
    return end_of_line(s);
}

int pb_name_index(const char *w, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(w, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* "90s", "30m", "4h", "3d", "1h30m": whole units only, at most PLAYBOOK_MAX_DUE_S. */
static err duration(pstate *s, int64_t *out)
{
    char w[32];
    TRY(one_word(s, "duration", w, sizeof w));
    int64_t total = 0;
    const char *c = w;
    while (*c) {
        int64_t v = 0;
        int digits = 0;
        while (*c >= '0' && *c <= '9') {
            if (++digits > 7) {
                return perr(s, "duration '%s' too long", w);
            }
            v = v * 10 + (*c++ - '0');
        }
        int64_t unit = *c == 's' ? 1 : *c == 'm' ? 60 : *c == 'h' ? 3600 : *c == 'd' ? 86400 : 0;
        if (digits == 0 || unit == 0) {
            return perr(s, "bad duration '%s' (e.g. 30m, 4h, 3d, 1h30m)", w);
        }
        c++;
        total += v * unit;
        if (total > PLAYBOOK_MAX_DUE_S) {
            return perr(s, "duration '%s' longer than 90 days", w);
        }
    }
    *out = total;
    return ERR_OK;
}

/* The rest of the line as text: trimmed, non-empty, at most cap-1 bytes (appended to dst with a
 * newline when append is set). Bytes were checked (UTF-8, no control) by the line check. */
static err text(pstate *s, char *dst, size_t cap, bool append)
{
    const char *r = s->rest;
    size_t n = s->rest_len;
    while (n > 0 && is_space(*r)) {
        r++, n--;
    }
    while (n > 0 && is_space(r[n - 1])) {
        n--;
    }
    if (n == 0) {
        return perr(s, "missing text");
    }
    size_t have = append ? strlen(dst) : 0;
    size_t need = have + (have ? 1 : 0) + n;
    if (need >= cap) {
        return perr(s, "text longer than %zu bytes", cap - 1);
    }
    if (have) {
        dst[have++] = '\n';
    }
    memcpy(dst + have, r, n);
    dst[have + n] = 0;
    return ERR_OK;
}

static err lang(pstate *s, pb_lang *out)
{
    char w[16];
    /* Language tags carry a capital: read them by hand rather than as words. */
    while (s->rest_len > 0 && is_space(*s->rest)) {
        s->rest++, s->rest_len--;
    }
    size_t n = 0;
    while (n < s->rest_len && !is_space(s->rest[n]) && n < sizeof w - 1) {
        w[n] = s->rest[n];
        n++;
    }
    w[n] = 0;
    int l = pb_name_index(w, LANG_NAMES, PB__LANGS);
    if (l < 0) {
        return perr(s, "unknown language '%.15s' (zh-CN, en)", w);
    }
    s->rest += n, s->rest_len -= n;
    *out = (pb_lang)l;
    return ERR_OK;
}

/* ---- statements ---- */

static err st_version(pstate *s)
{
    char w[8];
    TRY(one_word(s, "format version", w, sizeof w));
    if (strcmp(w, "1") != 0) {
        return perr(s, "unknown playbook format version '%s' (this Custos reads 1)", w);
    }
    s->have_version = true;
    return ERR_OK;
}

static err st_id(pstate *s)
{
    return one_word(s, "id", s->p->id, PLAYBOOK_ID_MAX + 1);
}

static err st_classification(pstate *s)
{
    return one_word(s, "classification", s->p->classification, PLAYBOOK_ID_MAX + 1);
}

static err st_severity(pstate *s)
{
    char w[16];
    TRY(one_word(s, "severity", w, sizeof w));
    int v = pb_name_index(w, SEVERITY_NAMES, PB__SEVERITIES);
    if (v < 0) {
        return perr(s, "unknown severity '%s' (low, medium, high, critical)", w);
    }
    s->p->severity = (pb_severity)v;
    return ERR_OK;
}

static err st_escalate(pstate *s)
{
    char w[32];
    role r;
    TRY(one_word(s, "role", w, sizeof w));
    if (role_parse(w, &r) != ERR_OK) {
        err_clear();
        return perr(s, "unknown role '%s'", w);
    }
    s->p->escalate_to = (int)r;
    return ERR_OK;
}

static err st_remind(pstate *s)
{
    return duration(s, &s->p->remind_s);
}

static err st_title(pstate *s)
{
    pb_lang l;
    TRY(lang(s, &l));
    if (s->title_line[l]) {
        return perr(s, "title %s given twice (line %u)", LANG_NAMES[l], s->title_line[l]);
    }
    s->title_line[l] = s->lineno;
    char *dst = s->t ? s->t->title[l] : s->p->title[l];
    return text(s, dst, PLAYBOOK_TITLE_MAX + 1, false);
}

static err st_text(pstate *s)
{
    pb_lang l;
    TRY(lang(s, &l));
    return text(s, s->t->text[l], PLAYBOOK_TEXT_MAX + 1, true);
}

static err st_team(pstate *s)
{
    char w[32];
    TRY(one_word(s, "team", w, sizeof w));
    int v = pb_name_index(w, TEAM_NAMES, PB__TEAMS);
    if (v < 0) {
        return perr(s,
                    "unknown team '%s' (technical, legal, customer-service, stewards, "
                    "communications)",
                    w);
    }
    s->t->team = (pb_team)v;
    return ERR_OK;
}

static err st_roles(pstate *s)
{
    char w[32];
    bool any = false;
    for (;;) {
        while (s->rest_len > 0 && is_space(*s->rest)) {
            s->rest++, s->rest_len--;
        }
        if (s->rest_len == 0) {
            break;
        }
        TRY(next_word(s, "role", w, sizeof w));
        role r;
        if (role_parse(w, &r) != ERR_OK) {
            err_clear();
            return perr(s, "unknown role '%s'", w);
        }
        if (s->t->roles & (1u << r)) {
            return perr(s, "role '%s' named twice", w);
        }
        s->t->roles |= 1u << r;
        any = true;
    }
    if (!any) {
        return perr(s, "missing role");
    }
    return ERR_OK;
}

static err st_due(pstate *s)
{
    return duration(s, &s->t->due_s);
}

static err st_mandatory(pstate *s)
{
    char w[8];
    TRY(one_word(s, "yes or no", w, sizeof w));
    if (strcmp(w, "yes") != 0 && strcmp(w, "no") != 0) {
        return perr(s, "mandatory is 'yes' or 'no', not '%s'", w);
    }
    s->t->mandatory = w[0] == 'y';
    return ERR_OK;
}

static err st_action(pstate *s)
{
    char w[32];
    TRY(one_word(s, "action", w, sizeof w));
    int a = pb_name_index(w, ACTION_NAMES, PBA__COUNT);
    if (a < 0) {
        return perr(s, "unknown action '%s'", w);
    }
    if (s->t->actions & (1u << a)) {
        return perr(s, "action '%s' named twice", w);
    }
    s->t->actions |= 1u << a;
    return ERR_OK;
}

static err st_after(pstate *s)
{
    char w[PLAYBOOK_ID_MAX + 1];
    TRY(one_word(s, "task id", w, sizeof w));
    size_t self = (size_t)(s->t - s->p->task);
    for (size_t i = 0; i < self; i++) {
        if (strcmp(s->p->task[i].id, w) == 0) {
            if (s->t->after & (1ull << i)) {
                return perr(s, "after '%s' named twice", w);
            }
            s->t->after |= 1ull << i;
            return ERR_OK;
        }
    }
    return perr(s, "after '%s': no earlier task has that id", w);
}

enum { IN_HEADER = 1, IN_TASK = 2 };
typedef struct stmt {
    const char *word;
    int where;
    bool repeats;
    err (*fn)(pstate *);
} stmt;

static const stmt STMTS[] = {
    {"playbook", IN_HEADER, false, st_version},
    {"id", IN_HEADER, false, st_id},
    {"classification", IN_HEADER, false, st_classification},
    {"severity", IN_HEADER, false, st_severity},
    {"escalate-to", IN_HEADER, false, st_escalate},
    {"remind", IN_HEADER, false, st_remind},
    {"title", IN_HEADER | IN_TASK, true, st_title}, /* once per language: st_title checks */
    {"team", IN_TASK, false, st_team},
    {"roles", IN_TASK, false, st_roles},
    {"due", IN_TASK, false, st_due},
    {"mandatory", IN_TASK, false, st_mandatory},
    {"action", IN_TASK, true, st_action},
    {"after", IN_TASK, true, st_after},
    {"text", IN_TASK, true, st_text},
};
#define NSTMTS (sizeof STMTS / sizeof STMTS[0])
_Static_assert(NSTMTS <= MAX_STMTS, "seen[] too small");

/* The line where the statement named word was set in this block (0: not set). */
static uint32_t seen(const pstate *s, const char *word)
{
    for (size_t k = 0; k < NSTMTS; k++) {
        if (strcmp(STMTS[k].word, word) == 0) {
            return s->seen[k];
        }
    }
    return 0;
}

/* ---- blocks ---- */

static err need(pstate *s, uint32_t at, bool have, const char *what, const char *block)
{
    if (!have) {
        uint32_t keep = s->lineno;
        s->lineno = at;
        err e = perr(s, "%s lacks %s", block, what);
        s->lineno = keep;
        return e;
    }
    return ERR_OK;
}

static err close_header(pstate *s)
{
    TRY(need(s, 1, s->p->id[0] != 0, "an id", "the playbook"));
    TRY(need(s, 1, s->p->classification[0] != 0, "a classification", "the playbook"));
    TRY(need(s, 1, seen(s, "severity") != 0, "a severity", "the playbook"));
    for (int l = 0; l < PB__LANGS; l++) {
        char what[32];
        snprintf(what, sizeof what, "a title in %s", LANG_NAMES[l]);
        TRY(need(s, 1, s->title_line[l] != 0, what, "the playbook"));
    }
    return ERR_OK;
}

static err close_task(pstate *s)
{
    pb_task *t = s->t;
    char block[PLAYBOOK_ID_MAX + 8];
    snprintf(block, sizeof block, "task %s", t->id);
    TRY(need(s, t->line, seen(s, "team") != 0, "a team", block));
    TRY(need(s, t->line, t->roles != 0, "roles", block));
    TRY(need(s, t->line, seen(s, "due") != 0, "a due time", block));
    for (int l = 0; l < PB__LANGS; l++) {
        char what[32];
        snprintf(what, sizeof what, "a title in %s", LANG_NAMES[l]);
        TRY(need(s, t->line, s->title_line[l] != 0, what, block));
    }
    for (int a = 0; a < PBA__COUNT; a++) {
        if ((t->actions & (1u << a)) && ACTION_TEAM[a] != t->team) {
            uint32_t keep = s->lineno;
            s->lineno = t->line;
            err e = perr(s, "task %s: action %s is the %s team's, not the %s team's", t->id,
                         ACTION_NAMES[a], TEAM_NAMES[ACTION_TEAM[a]], TEAM_NAMES[t->team]);
            s->lineno = keep;
            return e;
        }
    }
    return ERR_OK;
}

static void open_block(pstate *s)
{
    memset(s->seen, 0, sizeof s->seen);
    memset(s->title_line, 0, sizeof s->title_line);
}

static err st_task(pstate *s)
{
    if (s->t) {
        TRY(close_task(s));
    } else {
        TRY(close_header(s));
    }
    if (s->p->ntasks == PLAYBOOK_MAX_TASKS) {
        return perr(s, "more than %d tasks", PLAYBOOK_MAX_TASKS);
    }
    pb_task *t = &s->p->task[s->p->ntasks];
    TRY(one_word(s, "task id", t->id, sizeof t->id));
    if (playbook_task_index(s->p, t->id) >= 0) {
        return perr(s, "task id '%s' used twice (line %u)", t->id,
                    s->p->task[playbook_task_index(s->p, t->id)].line);
    }
    s->p->ntasks++;
    t->line = s->lineno;
    t->mandatory = true;
    s->t = t;
    open_block(s);
    return ERR_OK;
}

/* ---- lines ---- */

static err check_bytes(pstate *s, const char *line, size_t n)
{
    char why[64];
    if (!utf8_text_line(line, n, PLAYBOOK_MAX_LINE, why, sizeof why)) {
        return perr(s, "%s", why);
    }
    return ERR_OK;
}

static err parse_line(pstate *s, const char *line, size_t n)
{
    TRY(check_bytes(s, line, n));
    size_t i = 0;
    while (i < n && is_space(line[i])) {
        i++;
    }
    if (i == n || line[i] == '#') {
        return ERR_OK;
    }
    size_t w0 = i;
    while (i < n && !is_space(line[i])) {
        i++;
    }
    size_t wl = i - w0;
    s->rest = line + i;
    s->rest_len = n - i;
    const char *w = line + w0;
    if (!s->have_version && !(wl == 8 && memcmp(w, "playbook", 8) == 0)) {
        return perr(s, "a playbook begins with 'playbook 1'");
    }
    if (wl == 4 && memcmp(w, "task", 4) == 0) {
        return st_task(s);
    }
    for (size_t k = 0; k < NSTMTS; k++) {
        const stmt *st = &STMTS[k];
        if (strlen(st->word) != wl || memcmp(st->word, w, wl) != 0) {
            continue;
        }
        int here = s->t ? IN_TASK : IN_HEADER;
        if (!(st->where & here)) {
            return perr(s, "'%s' belongs %s", st->word,
                        here == IN_TASK ? "before the first task" : "inside a task");
        }
        if (!st->repeats && s->seen[k]) {
            return perr(s, "'%s' given twice (line %u)", st->word, s->seen[k]);
        }
        s->seen[k] = s->lineno;
        return st->fn(s);
    }
    return perr(s, "unknown statement '%.*s'", (int)(wl > 32 ? 32 : wl), w);
}

err playbook_parse(const char *name, const char *text_in, size_t len, playbook **out)
{
    pstate s = {.name = name ? name : "playbook"};
    if (len > PLAYBOOK_MAX_BYTES) {
        BAIL(ERR_INPUT, "%.*s: file larger than %d bytes", NAME_SHOWN, s.name, PLAYBOOK_MAX_BYTES);
    }
    s.p = calloc(1, sizeof *s.p);
    if (s.p == NULL) {
        BAIL(ERR_INTERNAL, "out of memory");
    }
    s.p->escalate_to = ROLE_SECURITY;
    s.p->severity = PB_HIGH;
    err rc = ERR_OK;
    size_t at = 0, n;
    const char *line;
    while (text_next_line(text_in, len, &at, &line, &n)) {
        s.lineno++;
        GUARD(parse_line(&s, line, n));
    }
    s.lineno++;
    if (!s.have_version) {
        FAIL(ERR_INPUT, "%.*s: empty playbook (it begins with 'playbook 1')", NAME_SHOWN, s.name);
    }
    if (s.t == NULL) {
        GUARD(close_header(&s));
        FAIL(ERR_INPUT, "%.*s: a playbook has at least one task", NAME_SHOWN, s.name);
    }
    GUARD(close_task(&s));
    bool any_mandatory = false;
    for (size_t i = 0; i < s.p->ntasks; i++) {
        any_mandatory |= s.p->task[i].mandatory;
    }
    CHECK(any_mandatory, ERR_INPUT, "%.*s: a playbook has at least one mandatory task", NAME_SHOWN,
          s.name);
    *out = s.p;
    return ERR_OK;
out:
    free(s.p);
    return rc;
}
