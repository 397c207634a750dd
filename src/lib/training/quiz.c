/*
 * quiz.c - quiz papers and marking. A paper is drawn from the course's pool with
 * a random seed made per attempt and kept server side: per lesson, a shuffled
 * choice of questions_per_lesson questions, their order and each question's
 * choice order shuffled. The taker sees prompts and choices only; the marking,
 * the explanations and the right answers come back after the answers are in.
 */
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "crypto/crypto.h"
#include "training/training.h"

/* A deterministic stream of numbers from the seed: BLAKE2b keyed with it, over a counter. */
typedef struct qrng {
    uint8_t key[QUIZ_SEED_LEN];
    uint64_t ctr;
} qrng;

static uint32_t qrng_below(qrng *r, uint32_t upper)
{
    if (upper <= 1) {
        return 0;
    }
    uint64_t limit = UINT64_MAX - UINT64_MAX % upper;
    for (;;) {
        uint8_t in[8], out[16];
        for (int i = 0; i < 8; i++) {
            in[i] = (uint8_t)(r->ctr >> (8 * i));
        }
        r->ctr++;
        hash_blake2b(out, sizeof out, in, sizeof in, r->key, sizeof r->key);
        uint64_t v = 0;
        for (int i = 0; i < 8; i++) {
            v |= (uint64_t)out[i] << (8 * i);
        }
        if (v < limit) {
            return (uint32_t)(v % upper);
        }
    }
}

static void shuffle(qrng *r, size_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = qrng_below(r, (uint32_t)i);
        size_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

err quiz_draw(const course *c, const uint8_t seed[QUIZ_SEED_LEN], json_t **out)
{
    qrng r;
    memcpy(r.key, seed, sizeof r.key);
    r.ctr = 0;
    size_t pick[COURSE_QUESTIONS_MAX], chosen[COURSE_QUESTIONS_MAX];
    size_t nchosen = 0;
    for (size_t l = 0; l < c->nlessons; l++) {
        size_t n = 0;
        for (size_t q = 0; q < c->nquestions; q++) {
            if (strcmp(c->qs[q].lesson, c->lesson_id[l]) == 0) {
                pick[n++] = q;
            }
        }
        ENSURE(n >= c->per_lesson, ERR_INTERNAL, "a lesson has too few questions");
        shuffle(&r, pick, n);
        for (size_t k = 0; k < c->per_lesson; k++) {
            chosen[nchosen++] = pick[k];
        }
    }
    shuffle(&r, chosen, nchosen);
    json_t *paper = json_array();
    for (size_t i = 0; i < nchosen; i++) {
        const course_question *q = &c->qs[chosen[i]];
        size_t order[COURSE_CHOICES_MAX];
        for (size_t k = 0; k < q->nchoices; k++) {
            order[k] = k;
        }
        shuffle(&r, order, q->nchoices);
        json_t *o = json_array();
        for (size_t k = 0; k < q->nchoices; k++) {
            json_array_append_new(o, json_integer((json_int_t)order[k]));
        }
        json_array_append_new(paper, json_pack("{s:s,s:o}", "q", q->id, "order", o));
    }
    *out = paper;
    return ERR_OK;
}

static const course_question *find_q(const course *c, const char *id)
{
    for (size_t i = 0; id && i < c->nquestions; i++) {
        if (strcmp(c->qs[i].id, id) == 0) {
            return &c->qs[i];
        }
    }
    return NULL;
}

/* Checks a stored paper against the course: every question known, each order a permutation. */
static err paper_item(const course *c, json_t *it, const course_question **q, size_t order[])
{
    *q = find_q(c, json_string_value(json_object_get(it, "q")));
    ENSURE(*q != NULL, ERR_CONFLICT, "the paper names a question the course does not have");
    json_t *o = json_object_get(it, "order");
    ENSURE(json_array_size(o) == (*q)->nchoices, ERR_CONFLICT, "the paper does not fit the course");
    uint32_t seen = 0;
    for (size_t k = 0; k < (*q)->nchoices; k++) {
        json_int_t v = json_integer_value(json_array_get(o, k));
        ENSURE(v >= 0 && (size_t)v < (*q)->nchoices && !(seen & (1u << v)), ERR_CONFLICT,
               "the paper does not fit the course");
        seen |= 1u << v;
        order[k] = (size_t)v;
    }
    return ERR_OK;
}

err quiz_render(const course *c, json_t *paper, const char *lang, json_t **out)
{
    json_t *qs = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(paper, i, it)
    {
        const course_question *q;
        size_t order[COURSE_CHOICES_MAX];
        err e = paper_item(c, it, &q, order);
        if (e != ERR_OK) {
            json_decref(qs);
            return e;
        }
        json_t *choices = json_array();
        json_t *src = json_object_get(q->q, "choices");
        for (size_t k = 0; k < q->nchoices; k++) {
            json_array_append_new(choices,
                                  json_string(course_text(json_array_get(src, order[k]), lang)));
        }
        json_t *o =
            json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", q->id, "lesson", q->lesson, "kind",
                      q->multiple ? "multiple" : "single", "prompt",
                      course_text(json_object_get(q->q, "prompt"), lang), "choices", choices);
        json_t *mail = json_object_get(q->q, "mail");
        if (mail) {
            json_object_set_new(
                o, "mail",
                json_pack("{s:s,s:s,s:s}", "from", json_string_value(json_object_get(mail, "from")),
                          "subject", course_text(json_object_get(mail, "subject"), lang), "body",
                          course_text(json_object_get(mail, "body"), lang)));
        }
        json_array_append_new(qs, o);
    }
    *out = qs;
    return ERR_OK;
}

err quiz_mark(const course *c, json_t *paper, json_t *answers, const char *lang, json_t **results,
              quiz_score *s)
{
    memset(s, 0, sizeof *s);
    *results = NULL;
    ENSURE(json_is_object(answers), ERR_INPUT, "answers must be an object of question ids");
    /* Every answered id must be on the paper. */
    const char *k;
    json_t *v;
    json_object_foreach(answers, k, v)
    {
        bool on = false;
        for (size_t i = 0; i < json_array_size(paper) && !on; i++) {
            const char *qid = json_string_value(json_object_get(json_array_get(paper, i), "q"));
            on = qid && strcmp(qid, k) == 0;
        }
        ENSURE(on, ERR_INPUT, "answers: a question that is not on this paper");
    }
    json_t *res = json_array();
    size_t i;
    json_t *it;
    err e = ERR_OK;
    json_array_foreach(paper, i, it)
    {
        const course_question *q;
        size_t order[COURSE_CHOICES_MAX];
        e = paper_item(c, it, &q, order);
        if (e != ERR_OK) {
            break;
        }
        json_t *a = json_object_get(answers, q->id);
        uint32_t given = 0;
        bool bad = a && !json_is_array(a);
        size_t j;
        json_t *x;
        json_array_foreach(a, j, x)
        {
            json_int_t shown = json_is_integer(x) ? json_integer_value(x) : -1;
            if (shown < 0 || (size_t)shown >= q->nchoices || (given & (1u << order[shown]))) {
                bad = true;
                break;
            }
            given |= 1u << order[shown];
        }
        if (bad || (!q->multiple && json_array_size(a) > 1)) {
            e = err_set(ERR_INPUT, __FILE__, __LINE__,
                        "answers.%s: a list of the shown choices' indexes", q->id);
            break;
        }
        bool ok = given == q->answer;
        s->total++;
        s->right += ok;
        json_t *right = json_array();
        for (size_t shown = 0; shown < q->nchoices; shown++) {
            if (q->answer & (1u << order[shown])) {
                json_array_append_new(right, json_integer((json_int_t)shown));
            }
        }
        json_array_append_new(res,
                              json_pack("{s:s,s:s,s:b,s:o,s:s}", "q", q->id, "lesson", q->lesson,
                                        "correct", ok, "right", right, "explanation",
                                        course_text(json_object_get(q->q, "explanation"), lang)));
    }
    if (e != ERR_OK) {
        json_decref(res);
        return e;
    }
    s->percent = s->total ? (s->right * 100u) / s->total : 0;
    s->passed = s->total > 0 && s->percent >= c->pass_mark;
    *results = res;
    return ERR_OK;
}

err quiz_questionnaire_check(const course *c, const char *phase, json_t *answers)
{
    ENSURE(phase && (strcmp(phase, "pre") == 0 || strcmp(phase, "post") == 0), ERR_INPUT,
           "phase must be \"pre\" or \"post\"");
    ENSURE(json_is_object(answers) && json_object_size(answers) > 0, ERR_INPUT,
           "answers must be an object of item ids");
    json_t *items = json_object_get(json_object_get(c->m, "questionnaires"), phase);
    const char *k;
    json_t *v;
    json_object_foreach(answers, k, v)
    {
        json_t *item = NULL;
        for (size_t i = 0; i < json_array_size(items) && !item; i++) {
            json_t *t = json_array_get(items, i);
            const char *id = json_string_value(json_object_get(t, "id"));
            item = id && strcmp(id, k) == 0 ? t : NULL;
        }
        ENSURE(item != NULL, ERR_INPUT, "answers: an item the questionnaire does not have");
        const char *kind = json_string_value(json_object_get(item, "kind"));
        if (strcmp(kind, "likert") == 0) {
            ENSURE(json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 5,
                   ERR_INPUT, "answers.%s: a number from 1 to 5", k);
        } else {
            ENSURE(json_is_string(v) && json_string_length(v) <= QUIZ_TEXT_MAX &&
                       utf8_valid((const uint8_t *)json_string_value(v), json_string_length(v)),
                   ERR_INPUT, "answers.%s: a text of at most 2000 bytes", k);
        }
    }
    return ERR_OK;
}
