/*
 * course.c - the course format: a manifest (course.json, parsed with jansson and
 * checked field by field) and Markdown lessons rendered with cmark. A malformed
 * course is refused with the file, the line and the field, and nothing of it is
 * kept. See docs/TRAINING.md for the format.
 */
#include <cmark.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "training/training.h"

/* The line of the first occurrence of needle in text (1 when absent). */
static int line_of(slice text, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0 || n > text.len) {
        return 1;
    }
    const uint8_t *hit = memmem(text.p, text.len, needle, n);
    if (!hit) {
        return 1;
    }
    int line = 1;
    for (const uint8_t *p = text.p; p < hit; p++) {
        line += *p == '\n';
    }
    return line;
}

typedef struct pctx {
    slice text;
    const char *file;
} pctx;

/* ERR_INPUT "file:line: field: msg", the line found from anchor (an item's id or a key). */
static err perr(const pctx *p, const char *anchor, const char *field, const char *msg)
{
    char q[COURSE_ID_MAX + 8];
    snprintf(q, sizeof q, "\"%s\"", anchor ? anchor : field);
    return err_set(ERR_INPUT, __FILE__, __LINE__, "%s:%d: %s: %s", p->file, line_of(p->text, q),
                   field, msg);
}

static bool id_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  (c == '.' && i > 0);
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool lang_ok(const char *s)
{
    return s && (strcmp(s, "en") == 0 || strcmp(s, "zh-CN") == 0);
}

bool course_path_ok(const char *p)
{
    size_t n = p ? strlen(p) : 0;
    if (n == 0 || n > COURSE_PATH_MAX || p[0] == '/' || p[0] == '.') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  c == '.' || c == '/';
        if (!ok || (c == '/' && (p[i + 1] == '/' || p[i + 1] == '.' || p[i + 1] == '\0')) ||
            (c == '.' && p[i + 1] == '.')) {
            return false;
        }
    }
    return true;
}

const char *course_asset_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } T[] = {{".svg", "image/svg+xml"},  {".png", "image/png"}, {".jpg", "image/jpeg"},
             {".webp", "image/webp"},    {".mp4", "video/mp4"}, {".webm", "video/webm"},
             {".pdf", "application/pdf"}};
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        size_t k = strlen(T[i].ext);
        if (n > k && strcmp(path + n - k, T[i].ext) == 0) {
            return T[i].type;
        }
    }
    return NULL;
}

const char *course_text(json_t *obj, const char *lang)
{
    const char *s = json_string_value(json_object_get(obj, lang ? lang : "en"));
    if (s) {
        return s;
    }
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (json_is_string(v)) {
            return json_string_value(v);
        }
    }
    return "";
}

/* A text in every language of the course, each non-empty UTF-8 of at most max bytes. */
static err check_text(const pctx *p, const course *c, json_t *o, const char *anchor,
                      const char *field, size_t max)
{
    if (!json_is_object(o)) {
        return perr(p, anchor, field, "must be an object of texts by language");
    }
    for (size_t i = 0; i < c->nlangs; i++) {
        json_t *s = json_object_get(o, c->langs[i]);
        if (!json_is_string(s) || json_string_length(s) == 0 || json_string_length(s) > max) {
            char m[96];
            snprintf(m, sizeof m, "needs a text in %s (1 to %zu bytes)", c->langs[i], max);
            return perr(p, anchor, field, m);
        }
    }
    return ERR_OK;
}

static err parse_lessons(const pctx *p, course *c)
{
    json_t *ls = json_object_get(c->m, "lessons");
    if (!json_is_array(ls) || json_array_size(ls) == 0 ||
        json_array_size(ls) > COURSE_LESSONS_MAX) {
        return perr(p, NULL, "lessons", "must be an array of 1 to 32 lessons");
    }
    size_t i;
    json_t *l;
    json_array_foreach(ls, i, l)
    {
        const char *id = json_string_value(json_object_get(l, "id"));
        if (!json_is_object(l) || !id_ok(id, COURSE_ID_MAX)) {
            return perr(p, id, "lessons[].id", "must be 1-64 characters of a-z, 0-9, '-', '_'");
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(c->lesson_id[k], id) == 0) {
                return perr(p, id, "lessons[].id", "appears twice");
            }
        }
        TRY(check_text(p, c, json_object_get(l, "title"), id, "lessons[].title", 200));
        const char *file = json_string_value(json_object_get(l, "file"));
        if (!course_path_ok(file) || strchr(file, '/') || strlen(file) < 4 ||
            strcmp(file + strlen(file) - 3, ".md") != 0) {
            return perr(p, id, "lessons[].file", "must be a file name ending in .md");
        }
        c->lesson_id[i] = id;
        c->lesson_file[i] = file;
        c->nlessons = i + 1;
    }
    return ERR_OK;
}

static ssize_t lesson_index(const course *c, const char *id)
{
    for (size_t i = 0; id && i < c->nlessons; i++) {
        if (strcmp(c->lesson_id[i], id) == 0) {
            return (ssize_t)i;
        }
    }
    return -1;
}

static err parse_question(const pctx *p, course *c, json_t *q, size_t at)
{
    course_question *cq = &c->qs[at];
    const char *id = json_string_value(json_object_get(q, "id"));
    if (!json_is_object(q) || !id_ok(id, COURSE_ID_MAX)) {
        return perr(p, id, "quiz[].id", "must be 1-64 characters of a-z, 0-9, '-', '_'");
    }
    for (size_t k = 0; k < at; k++) {
        if (strcmp(c->qs[k].id, id) == 0) {
            return perr(p, id, "quiz[].id", "appears twice");
        }
    }
    cq->id = id;
    cq->q = q;
    cq->lesson = json_string_value(json_object_get(q, "lesson"));
    if (lesson_index(c, cq->lesson) < 0) {
        return perr(p, id, "quiz[].lesson", "names no lesson of the course");
    }
    const char *kind = json_string_value(json_object_get(q, "kind"));
    if (!kind || (strcmp(kind, "single") != 0 && strcmp(kind, "multiple") != 0)) {
        return perr(p, id, "quiz[].kind", "must be \"single\" or \"multiple\"");
    }
    cq->multiple = strcmp(kind, "multiple") == 0;
    TRY(check_text(p, c, json_object_get(q, "prompt"), id, "quiz[].prompt", 2000));
    TRY(check_text(p, c, json_object_get(q, "explanation"), id, "quiz[].explanation", 4000));
    json_t *mail = json_object_get(q, "mail");
    if (mail) {
        if (!json_is_object(mail) || !json_is_string(json_object_get(mail, "from")) ||
            json_string_length(json_object_get(mail, "from")) > 200) {
            return perr(p, id, "quiz[].mail.from", "must be a sender of at most 200 bytes");
        }
        TRY(check_text(p, c, json_object_get(mail, "subject"), id, "quiz[].mail.subject", 300));
        TRY(check_text(p, c, json_object_get(mail, "body"), id, "quiz[].mail.body", 8000));
    }
    json_t *ch = json_object_get(q, "choices");
    if (!json_is_array(ch) || json_array_size(ch) < 2 || json_array_size(ch) > COURSE_CHOICES_MAX) {
        return perr(p, id, "quiz[].choices", "must be an array of 2 to 8 choices");
    }
    cq->nchoices = json_array_size(ch);
    for (size_t k = 0; k < cq->nchoices; k++) {
        TRY(check_text(p, c, json_array_get(ch, k), id, "quiz[].choices[]", 500));
    }
    json_t *ans = json_object_get(q, "answer");
    if (!json_is_array(ans) || json_array_size(ans) == 0) {
        return perr(p, id, "quiz[].answer", "must list the indexes of the right choices");
    }
    size_t k;
    json_t *a;
    json_array_foreach(ans, k, a)
    {
        json_int_t v = json_is_integer(a) ? json_integer_value(a) : -1;
        if (v < 0 || (size_t)v >= cq->nchoices || (cq->answer & (1u << v))) {
            return perr(p, id, "quiz[].answer", "has an index that is no choice, or twice");
        }
        cq->answer |= 1u << v;
    }
    if (!cq->multiple && json_array_size(ans) != 1) {
        return perr(p, id, "quiz[].answer", "a single-choice question has one right choice");
    }
    return ERR_OK;
}

static err parse_questionnaire(const pctx *p, course *c, const char *phase)
{
    json_t *qs = json_object_get(json_object_get(c->m, "questionnaires"), phase);
    char field[48];
    snprintf(field, sizeof field, "questionnaires.%s", phase);
    if (!json_is_array(qs) || json_array_size(qs) == 0 || json_array_size(qs) > 64) {
        return perr(p, NULL, field, "must be an array of 1 to 64 items");
    }
    size_t i;
    json_t *it;
    json_array_foreach(qs, i, it)
    {
        const char *id = json_string_value(json_object_get(it, "id"));
        if (!json_is_object(it) || !id_ok(id, COURSE_ID_MAX)) {
            return perr(p, id, field, "an item needs an id of a-z, 0-9, '-', '_'");
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(json_string_value(json_object_get(json_array_get(qs, k), "id")), id) == 0) {
                return perr(p, id, field, "an item id appears twice");
            }
        }
        const char *kind = json_string_value(json_object_get(it, "kind"));
        if (!kind || (strcmp(kind, "likert") != 0 && strcmp(kind, "text") != 0)) {
            return perr(p, id, field, "an item's kind must be \"likert\" or \"text\"");
        }
        TRY(check_text(p, c, json_object_get(it, "prompt"), id, field, 1000));
    }
    return ERR_OK;
}

static err parse_all(const pctx *p, course *c)
{
    json_t *m = c->m;
    if (!json_is_object(m)) {
        return perr(p, NULL, "(top)", "the manifest must be a JSON object");
    }
    json_t *fmt = json_object_get(m, "format");
    if (!json_is_integer(fmt) || json_integer_value(fmt) != 1) {
        return perr(p, NULL, "format", "must be 1");
    }
    const char *id = json_string_value(json_object_get(m, "id"));
    const char *ver = json_string_value(json_object_get(m, "version"));
    if (!id_ok(id, COURSE_ID_MAX)) {
        return perr(p, NULL, "id", "must be 1-64 characters of a-z, 0-9, '-', '_'");
    }
    if (!id_ok(ver, COURSE_VERSION_MAX)) {
        return perr(p, NULL, "version", "must be 1-32 characters of a-z, 0-9, '.', '-', '_'");
    }
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->version, sizeof c->version, "%s", ver);
    json_t *langs = json_object_get(m, "languages");
    if (!json_is_array(langs) || json_array_size(langs) == 0 ||
        json_array_size(langs) > COURSE_LANGS_MAX) {
        return perr(p, NULL, "languages", "must list the course's languages (en, zh-CN)");
    }
    size_t i;
    json_t *l;
    json_array_foreach(langs, i, l)
    {
        const char *s = json_string_value(l);
        if (!lang_ok(s) || course_has_lang(c, s)) {
            return perr(p, NULL, "languages", "each must be \"en\" or \"zh-CN\", once");
        }
        c->langs[c->nlangs++] = s;
    }
    TRY(check_text(p, c, json_object_get(m, "title"), NULL, "title", 200));
    json_t *pm = json_object_get(m, "pass_mark");
    if (!json_is_integer(pm) || json_integer_value(pm) < 1 || json_integer_value(pm) > 100) {
        return perr(p, NULL, "pass_mark", "must be a percentage from 1 to 100");
    }
    c->pass_mark = (unsigned)json_integer_value(pm);
    json_t *pl = json_object_get(m, "questions_per_lesson");
    if (!json_is_integer(pl) || json_integer_value(pl) < 1 || json_integer_value(pl) > 20) {
        return perr(p, NULL, "questions_per_lesson", "must be from 1 to 20");
    }
    c->per_lesson = (unsigned)json_integer_value(pl);
    TRY(parse_lessons(p, c));
    json_t *as = json_object_get(m, "assets");
    if (as && (!json_is_array(as) || json_array_size(as) > COURSE_ASSETS_MAX)) {
        return perr(p, NULL, "assets", "must be an array of at most 128 paths");
    }
    json_array_foreach(as, i, l)
    {
        const char *s = json_string_value(l);
        if (!course_path_ok(s) || !course_asset_type(s) || strncmp(s, "lessons/", 8) == 0 ||
            strcmp(s, COURSE_MANIFEST) == 0) {
            return perr(p, s, "assets[]",
                        "must be a relative path of a-z, 0-9, '.', '_', '-' with an image, "
                        "video or PDF extension");
        }
        c->assets[c->nassets++] = s;
    }
    json_t *quiz = json_object_get(m, "quiz");
    if (!json_is_array(quiz) || json_array_size(quiz) == 0 ||
        json_array_size(quiz) > COURSE_QUESTIONS_MAX) {
        return perr(p, NULL, "quiz", "must be an array of 1 to 512 questions");
    }
    c->qs = calloc(json_array_size(quiz), sizeof *c->qs);
    ENSURE(c->qs != NULL, ERR_INTERNAL, "out of memory");
    json_t *q;
    json_array_foreach(quiz, i, q)
    {
        TRY(parse_question(p, c, q, i));
        c->nquestions = i + 1;
    }
    /* Every lesson needs enough questions for a paper. */
    for (size_t k = 0; k < c->nlessons; k++) {
        unsigned n = 0;
        for (size_t j = 0; j < c->nquestions; j++) {
            n += strcmp(c->qs[j].lesson, c->lesson_id[k]) == 0;
        }
        if (n < c->per_lesson) {
            return perr(p, c->lesson_id[k], "quiz",
                        "the lesson has fewer questions than questions_per_lesson");
        }
    }
    TRY(parse_questionnaire(p, c, "pre"));
    TRY(parse_questionnaire(p, c, "post"));
    return ERR_OK;
}

err course_parse(slice text, const char *file, course **out)
{
    *out = NULL;
    ENSURE(text.len <= COURSE_MANIFEST_MAX, ERR_TOO_LARGE, "%s: larger than 2 MiB", file);
    ENSURE(utf8_valid(text.p, text.len), ERR_INPUT, "%s:1: (top): not UTF-8", file);
    course *c = calloc(1, sizeof *c);
    ENSURE(c != NULL, ERR_INTERNAL, "out of memory");
    json_error_t je;
    c->m = json_loadb((const char *)text.p, text.len, JSON_REJECT_DUPLICATES, &je);
    if (!c->m) {
        course_free(c);
        BAIL(ERR_INPUT, "%s:%d: (json): %s", file, je.line, je.text);
    }
    pctx p = {text, file};
    err e = parse_all(&p, c);
    if (e != ERR_OK) {
        course_free(c);
        return e;
    }
    *out = c;
    return ERR_OK;
}

void course_free(course *c)
{
    if (c) {
        json_decref(c->m);
        free(c->qs);
        free(c);
    }
}

bool course_has_lang(const course *c, const char *lang)
{
    for (size_t i = 0; lang && i < c->nlangs; i++) {
        if (strcmp(c->langs[i], lang) == 0) {
            return true;
        }
    }
    return false;
}

void course_lesson_path(const course *c, size_t lesson, const char *lang, char *out, size_t max)
{
    snprintf(out, max, "lessons/%s/%s", lang, c->lesson_file[lesson]);
}

err course_render(slice md, buf *html)
{
    ENSURE(md.len <= COURSE_FILE_MAX, ERR_TOO_LARGE, "a lesson is larger than 1 MiB");
    ENSURE(utf8_valid(md.p, md.len), ERR_INPUT, "a lesson is not UTF-8");
    /* CMARK_OPT_DEFAULT is safe in cmark >= 0.29 (raw HTML and javascript:/vbscript:/file:/
     * data: (but images) links are replaced); CMARK_OPT_SAFE says so for older ones. */
    char *h = cmark_markdown_to_html((const char *)md.p, md.len,
                                     CMARK_OPT_DEFAULT | CMARK_OPT_SAFE | CMARK_OPT_NOBREAKS);
    ENSURE(h != NULL, ERR_INTERNAL, "out of memory");
    err e = buf_set(html, h, strlen(h));
    free(h);
    return e;
}

/* ---- course folders ---- */

err course_read(const char *dir, const char *rel, buf *out)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "rb");
    ENSURE(f != NULL, ERR_INPUT, "%s: missing", rel);
    buf_reset(out);
    err rc = ERR_OK;
    uint8_t chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + n > out->limit) {
            FAIL(ERR_TOO_LARGE, "%s: larger than %zu bytes", rel, out->limit);
        }
        GUARD(buf_append(out, chunk, n));
    }
    CHECK(!ferror(f), ERR_IO, "%s: cannot read", rel);
out:
    fclose(f);
    return rc;
}

/* SVG drawings are served as images, but a browser opened on one directly would run its
 * scripts: a course's SVG carries none. */
err course_svg_check(const char *rel, slice b)
{
    static const char *const BAD[] = {"<script", "javascript:", "<foreignobject",    "<iframe",
                                      "<embed",  "<object",     "xlink:href=\"http", "href=\"http"};
    char *low = malloc(b.len + 1);
    ENSURE(low != NULL, ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < b.len; i++) {
        uint8_t c = b.p[i];
        low[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    low[b.len] = '\0';
    err rc = ERR_OK;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        CHECK(memmem(low, b.len, BAD[i], strlen(BAD[i])) == NULL, ERR_INPUT,
              "%s: an SVG may not carry %s", rel, BAD[i]);
    }
    /* Event handler attributes: on...= */
    for (size_t i = 0; i + 3 < b.len; i++) {
        if ((low[i] == ' ' || low[i] == '\n' || low[i] == '\t') && low[i + 1] == 'o' &&
            low[i + 2] == 'n') {
            size_t k = i + 3;
            while (k < b.len && low[k] >= 'a' && low[k] <= 'z') {
                k++;
            }
            CHECK(!(k > i + 3 && k < b.len && low[k] == '='), ERR_INPUT,
                  "%s: an SVG may not carry event handlers (on...=)", rel);
        }
    }
out:
    free(low);
    return rc;
}

err course_check_dir(const char *dir, course **out)
{
    *out = NULL;
    buf m, f, html;
    buf_init(&m, COURSE_MANIFEST_MAX);
    buf_init(&f, COURSE_FILE_MAX);
    buf_init(&html, (size_t)8 << 20);
    course *c = NULL;
    err rc = ERR_OK;
    GUARD(course_read(dir, COURSE_MANIFEST, &m));
    GUARD(course_parse(buf_slice(&m), COURSE_MANIFEST, &c));
    char rel[COURSE_PATH_MAX + 32];
    for (size_t l = 0; l < c->nlangs; l++) {
        for (size_t i = 0; i < c->nlessons; i++) {
            course_lesson_path(c, i, c->langs[l], rel, sizeof rel);
            GUARD(course_read(dir, rel, &f));
            err e = course_render(buf_slice(&f), &html);
            CHECK(e == ERR_OK, e, "%s: %s", rel, err_message());
        }
    }
    for (size_t i = 0; i < c->nassets; i++) {
        GUARD(course_read(dir, c->assets[i], &f));
        if (strcmp(course_asset_type(c->assets[i]), "image/svg+xml") == 0) {
            GUARD(course_svg_check(c->assets[i], buf_slice(&f)));
        }
    }
    *out = c;
    c = NULL;
out:
    course_free(c);
    buf_free(&m);
    buf_free(&f);
    buf_free(&html);
    return rc;
}
