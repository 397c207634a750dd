/*
 * fuzz_course.c - the course manifest parser on arbitrary bytes: never a crash, never a
 * course handed out on error, an error always names the file ("course.json:LINE: ..." or
 * "course.json: ..."). Whatever parses must draw, show and mark papers: two draws from the
 * same seed are the same paper, the shown paper carries no answer, and the right answers
 * score 100. Lesson text goes through the Markdown renderer too: no raw HTML survives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "training/training.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_course(const course *c)
{
    uint8_t seed[QUIZ_SEED_LEN];
    memset(seed, 0x5a, sizeof seed);
    json_t *p1 = NULL, *p2 = NULL, *shown = NULL, *res = NULL;
    if (quiz_draw(c, seed, &p1) != ERR_OK || quiz_draw(c, seed, &p2) != ERR_OK ||
        !json_equal(p1, p2) || json_array_size(p1) != c->nlessons * c->per_lesson) {
        abort();
    }
    for (size_t l = 0; l < c->nlangs; l++) {
        if (quiz_render(c, p1, c->langs[l], &shown) != ERR_OK) {
            abort();
        }
        json_decref(shown);
    }
    json_t *ans = json_object();
    size_t i;
    json_t *it;
    json_array_foreach(p1, i, it)
    {
        const char *qid = json_string_value(json_object_get(it, "q"));
        const course_question *q = NULL;
        for (size_t k = 0; k < c->nquestions; k++) {
            q = strcmp(c->qs[k].id, qid) == 0 ? &c->qs[k] : q;
        }
        if (!q) {
            abort();
        }
        json_t *order = json_object_get(it, "order"), *a = json_array();
        for (size_t s = 0; s < json_array_size(order); s++) {
            if ((q->answer >> json_integer_value(json_array_get(order, s))) & 1u) {
                json_array_append_new(a, json_integer((json_int_t)s));
            }
        }
        json_object_set_new(ans, qid, a);
    }
    quiz_score sc;
    if (quiz_mark(c, p1, ans, c->langs[0], &res, &sc) != ERR_OK || sc.percent != 100 ||
        !sc.passed) {
        abort();
    }
    json_decref(res);
    json_decref(ans);
    json_decref(p1);
    json_decref(p2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        if (mem_init() != ERR_OK) {
            abort();
        }
        init = true;
    }
    course *c = NULL;
    err e = course_parse(slice_of(data, size), "course.json", &c);
    if (e != ERR_OK) {
        if (c != NULL || strncmp(err_message(), "course.json", 11) != 0) {
            abort();
        }
    } else {
        check_course(c);
        course_free(c);
    }
    /* The same bytes as a lesson: rendered safely or refused. */
    buf h;
    buf_init(&h, (size_t)8 << 20);
    if (course_render(slice_of(data, size), &h) == ERR_OK) {
        if (buf_append_byte(&h, 0) != ERR_OK || strstr((const char *)h.p, "<script") != NULL) {
            abort();
        }
    }
    buf_free(&h);
    err_clear();
    return 0;
}
