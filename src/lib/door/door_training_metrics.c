/*
 * door_training_metrics.c - training figures per person, department, course and
 * quarter (door_training.h): quiz pass rate and average score, the weakest
 * questions, questionnaire movement (Likert means before and after), the
 * recertification states and coverage, trends across quarters, and their CSV
 * export. The scope is decided here: an employee sees their own figures, a data
 * steward their department, HR its own department and those training.json's
 * hr_scope gives it; every read and every refusal is audited.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "door/door_training.h"
#include "door/door_training_int.h"
#include "model/ingest.h"
#include "store/store_phish.h"

/* ---- the scope (door_training_common.c) ---- */

static bool dept_ok(const mscope *m, const char *dept)
{
    return dtr_scope_has(m, dept);
}

/* One account as the figures need it. */
typedef struct macc {
    char id[ID_LEN + 1];
    char username[USERNAME_MAX + 1];
    char department[DEPT_MAX + 1];
    bool selected; /* in scope and through the filters */
    account row;   /* for the assignments (secrets wiped) */
} macc;

static int macc_cmp(const void *x, const void *y)
{
    return strcmp(((const macc *)x)->id, ((const macc *)y)->id);
}

typedef struct mctx {
    vault *v;
    const tr_metrics_query *q;
    const tr_config *cfg;
    macc *accs;
    size_t nacc;
    json_t *groups;  /* key -> accumulator */
    json_t *trends;  /* quarter -> accumulator */
    json_t *weakest; /* "course\tquestion" -> {course,question,lesson,answered,wrong} */
    json_t *likert;  /* "course\titem" -> {course,item,pre_sum,pre_n,post_sum,post_n} */
} mctx;

static const macc *find_acc(const mctx *x, const char *id)
{
    macc key;
    snprintf(key.id, sizeof key.id, "%s", id);
    return bsearch(&key, x->accs, x->nacc, sizeof *x->accs, macc_cmp);
}

static void quarter_of(const tr_config *cfg, int64_t us, char out[16])
{
    tr_cycle c;
    tr_cycle_at(&cfg->rules, us, &c);
    snprintf(out, 16, "%s", c.name);
}

static const char *group_key(const mctx *x, const macc *acc, const char *course_id,
                             const char *quarter)
{
    switch (x->q->by) {
    case TR_BY_PERSON:
        return acc->username;
    case TR_BY_COURSE:
        return course_id;
    case TR_BY_QUARTER:
        return quarter;
    default:
        return acc->department;
    }
}

static json_t *acc_get(json_t *map, const char *key)
{
    json_t *g = json_object_get(map, key);
    if (!g) {
        g = json_pack("{s:i,s:i,s:i,s:o,s:i,s:i,s:{s:i,s:i,s:i,s:i,s:i},s:i}", "attempts", 0,
                      "passed", 0, "score_sum", 0, "people", json_object(), "assigned", 0,
                      "certified", 0, "statuses", "future", 0, "pending", 0, "overdue", 0,
                      "certified", 0, "expired", 0, "remedial_open", 0);
        json_object_set_new(map, key, g);
    }
    return g;
}

static void add(json_t *o, const char *k, json_int_t by)
{
    json_object_set_new(o, k, json_integer(json_integer_value(json_object_get(o, k)) + by));
}

static bool course_ok(const mctx *x, const char *course_id)
{
    return !x->q->course[0] || strcmp(x->q->course, course_id) == 0;
}

static bool quarter_ok(const mctx *x, const char *quarter)
{
    return !x->q->quarter[0] || strcmp(x->q->quarter, quarter) == 0;
}

static err on_attempt(void *ctx, const training_attempt *t)
{
    mctx *x = ctx;
    const macc *acc = find_acc(x, t->account_id);
    if (!acc || !acc->selected || !course_ok(x, t->course)) {
        return ERR_OK;
    }
    char q[16];
    quarter_of(x->cfg, t->submitted_us, q);
    json_t *tr = acc_get(x->trends, q);
    add(tr, "attempts", 1);
    add(tr, "passed", t->passed);
    add(tr, "score_sum", t->score);
    json_object_set_new(json_object_get(tr, "people"), acc->id, json_true());
    if (!quarter_ok(x, q)) {
        return ERR_OK;
    }
    json_t *g = acc_get(x->groups, group_key(x, acc, t->course, q));
    add(g, "attempts", 1);
    add(g, "passed", t->passed);
    add(g, "score_sum", t->score);
    json_object_set_new(json_object_get(g, "people"), acc->id, json_true());
    return ERR_OK;
}

static err on_answer(void *ctx, const char *account_id, const char *course_id, int64_t submitted_us,
                     const char *question, const char *lesson, bool correct)
{
    mctx *x = ctx;
    const macc *acc = find_acc(x, account_id);
    char q[16];
    quarter_of(x->cfg, submitted_us, q);
    if (!acc || !acc->selected || !course_ok(x, course_id) || !quarter_ok(x, q)) {
        return ERR_OK;
    }
    char key[2 * TRAINING_ID_MAX + 2];
    snprintf(key, sizeof key, "%s\t%s", course_id, question);
    json_t *w = json_object_get(x->weakest, key);
    if (!w) {
        w = json_pack("{s:s,s:s,s:s,s:i,s:i}", "course", course_id, "question", question, "lesson",
                      lesson, "answered", 0, "wrong", 0);
        json_object_set_new(x->weakest, key, w);
    }
    add(w, "answered", 1);
    add(w, "wrong", !correct);
    return ERR_OK;
}

static err on_likert(void *ctx, const char *account_id, const char *course_id, const char *phase,
                     const char *item, int likert, int64_t at_us)
{
    mctx *x = ctx;
    const macc *acc = find_acc(x, account_id);
    char q[16];
    quarter_of(x->cfg, at_us, q);
    if (!acc || !acc->selected || !course_ok(x, course_id) || !quarter_ok(x, q) || likert < 1) {
        return ERR_OK;
    }
    char key[2 * TRAINING_ID_MAX + 2];
    snprintf(key, sizeof key, "%s\t%s", course_id, item);
    json_t *l = json_object_get(x->likert, key);
    if (!l) {
        l = json_pack("{s:s,s:s,s:i,s:i,s:i,s:i}", "course", course_id, "item", item, "pre_sum", 0,
                      "pre_n", 0, "post_sum", 0, "post_n", 0);
        json_object_set_new(x->likert, key, l);
    }
    bool pre = strcmp(phase, "pre") == 0;
    add(l, pre ? "pre_sum" : "post_sum", likert);
    add(l, pre ? "pre_n" : "post_n", 1);
    return ERR_OK;
}

static err on_remedial(void *ctx, const training_remedial *r)
{
    mctx *x = ctx;
    const macc *acc = find_acc(x, r->account_id);
    char q[16];
    quarter_of(x->cfg, r->assigned_us, q);
    if (!acc || !acc->selected || !course_ok(x, r->course) ||
        (x->q->by == TR_BY_QUARTER && !quarter_ok(x, q))) {
        return ERR_OK;
    }
    add(acc_get(x->groups, group_key(x, acc, r->course, q)), "remedial_open", 1);
    return ERR_OK;
}

/* The recertification state now of every (selected account, assigned course). */
static err statuses(mctx *x, int64_t now)
{
    assign_set s;
    TRY(dtr_assign_load(x->v->st, &s));
    err rc = ERR_OK;
    char nowq[16];
    quarter_of(x->cfg, now, nowq);
    for (size_t i = 0; i < x->nacc; i++) {
        const macc *acc = &x->accs[i];
        if (!acc->selected || acc->row.disabled) {
            continue;
        }
        acc_course cs[DTR_COURSES_MAX];
        size_t k = dtr_courses_of(&s, &acc->row, cs, DTR_COURSES_MAX);
        for (size_t j = 0; j < k; j++) {
            if (!course_ok(x, cs[j].course) ||
                (x->q->by == TR_BY_QUARTER && !quarter_ok(x, nowq))) {
                continue;
            }
            int64_t last = 0;
            GUARD(store_training_last_pass(x->v->st, acc->id, cs[j].course, &last));
            tr_cycle cyc;
            tr_state st = tr_state_at(&x->cfg->rules, cs[j].starts_us, last, now, &cyc);
            json_t *g = acc_get(x->groups, group_key(x, acc, cs[j].course, nowq));
            add(g, "assigned", 1);
            add(g, "certified", st == TR_CERTIFIED);
            add(json_object_get(g, "statuses"), tr_state_name(st), 1);
        }
    }
out:
    free(s.a);
    return rc;
}

static double ratio(json_int_t a, json_int_t b)
{
    return b ? round((double)a / (double)b * 10000.0) / 10000.0 : 0.0;
}

static double mean1(json_int_t sum, json_int_t n)
{
    return n ? round((double)sum / (double)n * 100.0) / 100.0 : 0.0;
}

/* An accumulator as output: people counted, the running sums made rates. */
static json_t *finish(const char *key_name, const char *key, json_t *g)
{
    json_int_t at = json_integer_value(json_object_get(g, "attempts"));
    json_int_t ps = json_integer_value(json_object_get(g, "passed"));
    json_int_t sum = json_integer_value(json_object_get(g, "score_sum"));
    json_int_t as = json_integer_value(json_object_get(g, "assigned"));
    json_int_t ce = json_integer_value(json_object_get(g, "certified"));
    json_t *o =
        json_pack("{s:s,s:I,s:I,s:I,s:f,s:f}", key_name, key, "people",
                  (json_int_t)json_object_size(json_object_get(g, "people")), "attempts", at,
                  "passed", ps, "pass_rate", ratio(ps, at), "average_score", mean1(sum, at));
    if (json_object_get(g, "statuses")) {
        json_object_set_new(o, "assigned", json_integer(as));
        json_object_set_new(o, "certified", json_integer(ce));
        json_object_set(o, "statuses", json_object_get(g, "statuses"));
        json_object_set_new(o, "coverage", json_real(ratio(ce, as)));
        json_object_set(o, "remedial_open", json_object_get(g, "remedial_open"));
    }
    return o;
}

static int by_key(const void *x, const void *y)
{
    const char *a = json_string_value(json_object_get(*(json_t *const *)x, "key"));
    const char *b = json_string_value(json_object_get(*(json_t *const *)y, "key"));
    const char *qa = json_string_value(json_object_get(*(json_t *const *)x, "quarter"));
    const char *qb = json_string_value(json_object_get(*(json_t *const *)y, "quarter"));
    return strcmp(a ? a : qa ? qa : "", b ? b : qb ? qb : "");
}

static int by_weakness(const void *x, const void *y)
{
    json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    json_int_t wa = json_integer_value(json_object_get(a, "wrong"));
    json_int_t wb = json_integer_value(json_object_get(b, "wrong"));
    if (wa != wb) {
        return wa > wb ? -1 : 1;
    }
    double ra = json_real_value(json_object_get(a, "wrong_rate"));
    double rb = json_real_value(json_object_get(b, "wrong_rate"));
    if (ra != rb) {
        return ra > rb ? -1 : 1;
    }
    return strcmp(json_string_value(json_object_get(a, "question")),
                  json_string_value(json_object_get(b, "question")));
}

/* The values of map as an array sorted by cmp (at most max when max > 0). */
static json_t *sorted(json_t *map, json_t *(*make)(const char *key, json_t *val),
                      int (*cmp)(const void *, const void *), size_t max)
{
    size_t n = json_object_size(map), i = 0;
    json_t **v = calloc(n ? n : 1, sizeof *v);
    json_t *arr = json_array();
    if (!v) {
        return arr;
    }
    const char *k;
    json_t *val;
    json_object_foreach(map, k, val)
    {
        v[i++] = make(k, val);
    }
    qsort(v, n, sizeof *v, cmp);
    for (i = 0; i < n; i++) {
        if (max == 0 || i < max) {
            json_array_append_new(arr, v[i]);
        } else {
            json_decref(v[i]);
        }
    }
    free(v);
    return arr;
}

static json_t *make_group(const char *key, json_t *g)
{
    return finish("key", key, g);
}

static json_t *make_trend(const char *key, json_t *g)
{
    json_t *o = finish("quarter", key, g);
    static const char *const DROP[] = {"assigned", "certified", "statuses", "coverage",
                                       "remedial_open"};
    for (size_t i = 0; i < sizeof DROP / sizeof DROP[0]; i++) {
        json_object_del(o, DROP[i]);
    }
    return o;
}

static json_t *make_weak(const char *key, json_t *w)
{
    (void)key;
    json_t *o = json_deep_copy(w);
    json_object_set_new(o, "wrong_rate",
                        json_real(ratio(json_integer_value(json_object_get(w, "wrong")),
                                        json_integer_value(json_object_get(w, "answered")))));
    return o;
}

static json_t *make_likert(const char *key, json_t *l)
{
    json_int_t pn = json_integer_value(json_object_get(l, "pre_n"));
    json_int_t qn = json_integer_value(json_object_get(l, "post_n"));
    double pm = mean1(json_integer_value(json_object_get(l, "pre_sum")), pn);
    double qm = mean1(json_integer_value(json_object_get(l, "post_sum")), qn);
    json_t *o = json_pack("{s:O,s:O,s:s}", "course", json_object_get(l, "course"), "item",
                          json_object_get(l, "item"), "key", key);
    json_object_set_new(o, "pre", pn ? json_pack("{s:f,s:I}", "mean", pm, "n", pn) : json_null());
    json_object_set_new(o, "post", qn ? json_pack("{s:f,s:I}", "mean", qm, "n", qn) : json_null());
    json_object_set_new(o, "change",
                        pn && qn ? json_real(round((qm - pm) * 100.0) / 100.0) : json_null());
    return o;
}

static const char *by_name(tr_metrics_by b)
{
    static const char *const N[] = {"department", "person", "course", "quarter"};
    return N[b];
}

err tr_metrics_by_parse(const char *s, tr_metrics_by *out)
{
    static const char *const N[] = {"department", "person", "course", "quarter"};
    for (int i = 0; i < 4; i++) {
        if (!s || !s[0] || strcmp(s, N[i]) == 0) {
            *out = s && s[0] ? (tr_metrics_by)i : TR_BY_DEPARTMENT;
            return ERR_OK;
        }
    }
    return err_set(ERR_INPUT, __FILE__, __LINE__, "by: person, department, course or quarter");
}

/* Who may see what, and which accounts the figures count. Refusals are audited. */
static err select_accounts(vault *v, const actor *a, const char *action, mctx *x, mscope *m)
{
    const tr_metrics_query *q = x->q;
    bool system = dtr_is_system(a);
    if (!system) {
        TRY(dtr_need_person(v, a, action));
    }
    m->a = a;
    m->cfg = x->cfg;
    m->all = system;
    m->self_only = !system && a->role != ROLE_HR && a->role != ROLE_DATA_STEWARD;
    if (m->self_only && ((q->username[0] && strcmp(q->username, a->username) != 0) ||
                         (q->department[0] && strcmp(q->department, a->department) != 0))) {
        return door_deny(v, a, action, NULL, NULL, "training.scope", ERR_DENIED,
                         "you see only your own training figures");
    }
    if (!m->self_only && q->department[0] && !dept_ok(m, q->department)) {
        return door_deny(v, a, action, NULL, NULL, "training.scope", ERR_DENIED,
                         "that department is outside your scope");
    }
    account *rows = calloc(DTR_ACCOUNTS_MAX, sizeof *rows);
    ENSURE(rows != NULL, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    err rc = store_account_list(v->st, rows, DTR_ACCOUNTS_MAX, &n);
    x->accs = rc == ERR_OK ? calloc(n ? n : 1, sizeof *x->accs) : NULL;
    bool user_seen = false, user_refused = false;
    if (rc == ERR_OK && !x->accs) {
        rc = err_set(ERR_INTERNAL, __FILE__, __LINE__, "out of memory");
    }
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        macc *c = &x->accs[i];
        mem_wipe(rows[i].pwhash, sizeof rows[i].pwhash);
        mem_wipe(rows[i].totp, sizeof rows[i].totp);
        c->row = rows[i];
        snprintf(c->id, sizeof c->id, "%s", rows[i].id);
        snprintf(c->username, sizeof c->username, "%s", rows[i].username);
        snprintf(c->department, sizeof c->department, "%s", rows[i].department);
        bool in = m->self_only ? strcmp(c->id, a->account_id) == 0 : dept_ok(m, c->department);
        bool user = !q->username[0] || strcmp(q->username, c->username) == 0;
        if (q->username[0] && strcmp(q->username, c->username) == 0) {
            user_seen = true;
            user_refused = !in;
        }
        c->selected =
            in && user && (!q->department[0] || strcmp(q->department, c->department) == 0);
    }
    for (size_t i = 0; i < DTR_ACCOUNTS_MAX; i++) {
        mem_wipe(rows[i].pwhash, sizeof rows[i].pwhash);
        mem_wipe(rows[i].totp, sizeof rows[i].totp);
    }
    free(rows);
    x->nacc = n;
    TRY(rc);
    if (user_refused || (q->username[0] && !user_seen && !m->all)) {
        /* someone outside the scope and someone who does not exist look the same */
        return door_deny(v, a, action, NULL, NULL, "training.scope", ERR_DENIED,
                         "that person is outside your scope");
    }
    qsort(x->accs, x->nacc, sizeof *x->accs, macc_cmp);
    return ERR_OK;
}

/* ---- phishing figures (the phishing store's mails) ---- */

typedef struct pctx {
    const mctx *x;
    const mscope *m;
    phish_mail *all;
    size_t n, cap;
} pctx;

static err ph_collect(void *ctx, const phish_mail *mail)
{
    pctx *p = ctx;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        phish_mail *q = realloc(p->all, cap * sizeof *q);
        ENSURE(q != NULL, ERR_INTERNAL, "out of memory");
        p->all = q;
        p->cap = cap;
    }
    p->all[p->n++] = *mail;
    return ERR_OK;
}

typedef struct ph_click {
    const phish_mail *m;
    size_t i; /* its index in the mails */
} ph_click;

static int ph_by_click(const void *a, const void *b)
{
    const phish_mail *x = ((const ph_click *)a)->m, *y = ((const ph_click *)b)->m;
    int c = strcmp(x->account_id, y->account_id);
    return c ? c : (x->clicked_us > y->clicked_us) - (x->clicked_us < y->clicked_us);
}

/* rep[i]: mail i was clicked after its recipient had clicked another campaign's mail. The
 * clicked mails sorted by (account, click time): a click repeats when the account's earliest
 * click is of another campaign and earlier, or, for a click of that first campaign, when the
 * earliest click of any other campaign (t1) is earlier. O(n log n). */
static err ph_repeats(const phish_mail *all, size_t n, bool *rep)
{
    ph_click *c = calloc(n ? n : 1, sizeof *c);
    ENSURE(c != NULL, ERR_INTERNAL, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (all[i].clicked_us) {
            c[k].m = &all[i];
            c[k++].i = i;
        }
    }
    qsort(c, k, sizeof *c, ph_by_click);
    for (size_t i = 0; i < k;) {
        const phish_mail *first = c[i].m;
        int64_t t1 = INT64_MAX;
        size_t j = i;
        for (; j < k && strcmp(c[j].m->account_id, first->account_id) == 0; j++) {
            const phish_mail *m = c[j].m;
            bool same = strcmp(m->campaign, first->campaign) == 0;
            rep[c[j].i] = same ? t1 < m->clicked_us : first->clicked_us < m->clicked_us;
            if (!same && t1 == INT64_MAX) {
                t1 = m->clicked_us;
            }
        }
        i = j;
    }
    free(c);
    return ERR_OK;
}

static json_t *ph_acc(json_t *map, const char *key)
{
    json_t *g = json_object_get(map, key);
    if (!g) {
        g = json_pack("{s:i,s:i,s:i,s:i,s:i,s:o,s:o,s:o}", "delivered", 0, "clicked", 0,
                      "submitted", 0, "prone", 0, "reported", 0, "report_s", json_array(), "people",
                      json_object(), "repeat", json_object());
        json_object_set_new(map, key, g);
    }
    return g;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double pct1(json_int_t a, json_int_t b)
{
    return b ? round(1000.0 * (double)a / (double)b) / 10.0 : 0.0;
}

static json_t *ph_finish(const char *key_name, const char *key, json_t *g)
{
    json_int_t dl = json_integer_value(json_object_get(g, "delivered"));
    json_int_t pr = json_integer_value(json_object_get(g, "prone"));
    json_int_t rp = json_integer_value(json_object_get(g, "reported"));
    json_t *o =
        json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:I}", key_name, key, "people",
                  (json_int_t)json_object_size(json_object_get(g, "people")), "delivered", dl,
                  "clicked", json_integer_value(json_object_get(g, "clicked")), "submitted",
                  json_integer_value(json_object_get(g, "submitted")), "reported", rp,
                  "phish_prone_pct", pct1(pr, dl), "report_rate_pct", pct1(rp, dl),
                  "repeat_clickers", (json_int_t)json_object_size(json_object_get(g, "repeat")));
    json_t *rs = json_object_get(g, "report_s");
    size_t n = json_array_size(rs);
    int64_t *v = n ? calloc(n, sizeof *v) : NULL;
    if (v) {
        for (size_t i = 0; i < n; i++) {
            v[i] = (int64_t)json_integer_value(json_array_get(rs, i));
        }
        qsort(v, n, sizeof *v, cmp_i64);
        int64_t med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        json_object_set_new(o, "median_report_s", json_integer((json_int_t)med));
    } else {
        json_object_set_new(o, "median_report_s", json_null());
    }
    free(v);
    return o;
}

static json_t *make_ph_group(const char *key, json_t *g)
{
    return ph_finish("key", key, g);
}

static json_t *make_ph_trend(const char *key, json_t *g)
{
    return ph_finish("quarter", key, g);
}

static void ph_add(json_t *g, const phish_mail *mail, const char *account_id, bool repeat)
{
    add(g, "delivered", 1);
    add(g, "clicked", mail->clicked_us != 0);
    add(g, "submitted", mail->submitted_us != 0);
    add(g, "prone", mail->clicked_us != 0 || mail->submitted_us != 0);
    add(g, "reported", mail->reported_us != 0);
    json_object_set_new(json_object_get(g, "people"), account_id, json_true());
    if (repeat) {
        json_object_set_new(json_object_get(g, "repeat"), account_id, json_true());
    }
    if (mail->reported_us) {
        int64_t d = (mail->reported_us - mail->sent_us) / 1000000;
        json_array_append_new(json_object_get(g, "report_s"), json_integer(d > 0 ? d : 0));
    }
}

/* Per group (the query's `by`: person, department, campaign for `course`, quarter of
 * delivery) and per quarter: delivered mails, clicked, submitted, reported, phish-prone %
 * (clicked or submitted ÷ delivered), report rate %, the median seconds from delivery to the
 * report, and repeat clickers (people who clicked here after clicking another campaign's mail
 * before). Only delivered mails of the selected accounts count, and outside self-only only
 * mails sent to a department of the scope. */
static err phishing_figures(vault *v, const mctx *x, const mscope *m, json_t **out)
{
    *out = NULL;
    TRY(store_phish_ready(v->st));
    pctx p = {x, m, NULL, 0, 0};
    bool *reps = NULL;
    json_t *groups = json_object(), *trends = json_object(), *tot = json_object();
    err rc = ERR_OK;
    GUARD(store_phish_mails(v->st, NULL, NULL, ph_collect, &p));
    reps = calloc(p.n ? p.n : 1, sizeof *reps);
    CHECK(reps != NULL, ERR_INTERNAL, "out of memory");
    GUARD(ph_repeats(p.all, p.n, reps));
    for (size_t i = 0; i < p.n; i++) {
        const phish_mail *mail = &p.all[i];
        const macc *acc = find_acc(x, mail->account_id);
        if (mail->sent_us == 0 || !acc || !acc->selected ||
            (!m->self_only && !dept_ok(m, mail->department))) {
            continue;
        }
        bool repeat = reps[i];
        char q[16];
        quarter_of(x->cfg, mail->sent_us, q);
        ph_add(ph_acc(trends, q), mail, acc->id, repeat);
        if (!quarter_ok(x, q)) {
            continue;
        }
        const char *key = x->q->by == TR_BY_PERSON    ? acc->username
                          : x->q->by == TR_BY_COURSE  ? mail->campaign
                          : x->q->by == TR_BY_QUARTER ? q
                                                      : mail->department;
        ph_add(ph_acc(groups, key), mail, acc->id, repeat);
        ph_add(ph_acc(tot, "all"), mail, acc->id, repeat);
    }
    json_t *total = json_object_get(tot, "all");
    json_t *t = total ? ph_finish("key", "all", total) : NULL;
    if (t) {
        json_object_del(t, "key");
    }
    *out = json_pack("{s:o,s:o,s:o}", "groups", sorted(groups, make_ph_group, by_key, 0), "totals",
                     t ? t : json_null(), "trends", sorted(trends, make_ph_trend, by_key, 0));
    CHECK(*out != NULL, ERR_INTERNAL, "out of memory");
out:
    free(reps);
    free(p.all);
    json_decref(groups);
    json_decref(trends);
    json_decref(tot);
    return rc;
}

static err metrics_build(vault *v, const actor *a, const tr_metrics_query *q, const char *action,
                         json_t **out)
{
    tr_config cfg;
    TRY(tr_config_load(vault_dir(v), &cfg));
    mctx x = {v, q, &cfg, NULL, 0, json_object(), json_object(), json_object(), json_object()};
    mscope m;
    memset(&m, 0, sizeof m);
    err rc = ERR_OK;
    GUARD(select_accounts(v, a, action, &x, &m));
    char what[300];
    snprintf(what, sizeof what, "by=%s course=%s department=%s quarter=%s username=%s scope=%s",
             by_name(q->by), q->course[0] ? q->course : "*", q->department[0] ? q->department : "*",
             q->quarter[0] ? q->quarter : "*", q->username[0] ? q->username : "*",
             m.all         ? "all"
             : m.self_only ? "self"
                           : "departments");
    GUARD(dtr_audit(v, a, action, "allow",
                    m.self_only          ? "training.self"
                    : a->role == ROLE_HR ? "training.manage"
                                         : "training.department",
                    what, -1));
    GUARD(store_training_attempts(v->st, NULL, 1000000, on_attempt, &x));
    GUARD(store_training_answer_rows(v->st, q->course[0] ? q->course : NULL, on_answer, &x));
    GUARD(store_training_likert_rows(v->st, q->course[0] ? q->course : NULL, on_likert, &x));
    GUARD(statuses(&x, clock_now_us()));
    GUARD(store_training_remedials(v->st, NULL, true, on_remedial, &x));
    json_t *phishing = NULL;
    GUARD(phishing_figures(v, &x, &m, &phishing));
    json_t *deps = json_array();
    if (m.self_only) {
        json_array_append_new(deps, json_string(a->department));
    } else {
        json_t *seen = json_object();
        for (size_t i = 0; i < x.nacc; i++) {
            if (dept_ok(&m, x.accs[i].department) && !json_object_get(seen, x.accs[i].department)) {
                json_object_set_new(seen, x.accs[i].department, json_true());
                json_array_append_new(deps, json_string(x.accs[i].department));
            }
        }
        json_decref(seen);
    }
    *out = json_pack(
        "{s:s,s:{s:o,s:b},s:{s:s?,s:s?,s:s?,s:s?},s:o,s:o,s:o,s:o,s:o}", "by", by_name(q->by),
        "scope", "departments", deps, "self_only", m.self_only, "filters", "course",
        q->course[0] ? q->course : NULL, "department", q->department[0] ? q->department : NULL,
        "quarter", q->quarter[0] ? q->quarter : NULL, "username",
        q->username[0] ? q->username : NULL, "groups", sorted(x.groups, make_group, by_key, 0),
        "weakest", sorted(x.weakest, make_weak, by_weakness, 10), "questionnaire",
        sorted(x.likert, make_likert, by_key, 0), "trends", sorted(x.trends, make_trend, by_key, 0),
        "phishing", phishing);
    CHECK(*out != NULL, ERR_INTERNAL, "out of memory");
out:
    if (x.accs) {
        for (size_t i = 0; i < x.nacc; i++) {
            mem_wipe(x.accs[i].row.pwhash, sizeof x.accs[i].row.pwhash);
            mem_wipe(x.accs[i].row.totp, sizeof x.accs[i].row.totp);
        }
    }
    free(x.accs);
    json_decref(x.groups);
    json_decref(x.trends);
    json_decref(x.weakest);
    json_decref(x.likert);
    return rc;
}

err door_training_metrics(vault *v, const actor *a, const tr_metrics_query *q, json_t **out)
{
    return metrics_build(v, a, q, "training.metrics", out);
}

/* ---- CSV (RFC 4180) ---- */

/* A text cell: a spreadsheet would run one that starts like a formula, so it is written with
 * a leading apostrophe (shown as text). */
static err csv_text(buf *out, const char *t)
{
    if (!t) {
        return ERR_OK;
    }
    if (t[0] == '=' || t[0] == '+' || t[0] == '-' || t[0] == '@' || t[0] == '\t' || t[0] == '\r') {
        buf q;
        buf_init(&q, (size_t)1 << 16);
        err rc = buf_append_byte(&q, '\'');
        if (rc == ERR_OK) {
            rc = buf_append_str(&q, t);
        }
        if (rc == ERR_OK) {
            rc = csv_write_cell(out, buf_slice(&q));
        }
        buf_free(&q);
        return rc;
    }
    return csv_write_cell(out, slice_of(t, strlen(t)));
}

/* A number we made (never text from outside): written as it is. */
static err csv_num(buf *out, json_t *v)
{
    char n[40] = "";
    if (json_is_integer(v)) {
        snprintf(n, sizeof n, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(n, sizeof n, "%.4g", json_real_value(v));
    }
    return buf_append_str(out, n);
}

/* One row: cols name the fields of o ("statuses.pending" reaches inside); strings are text
 * cells, numbers are written as they are, a missing value is an empty cell. */
static err csv_row(buf *out, json_t *o, const char *const *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i) {
            TRY(buf_append_byte(out, ','));
        }
        const char *dot = strchr(cols[i], '.');
        json_t *v;
        if (dot) {
            char head[40];
            snprintf(head, sizeof head, "%.*s", (int)(dot - cols[i]), cols[i]);
            v = json_object_get(json_object_get(o, head), dot + 1);
        } else {
            v = json_object_get(o, cols[i]);
        }
        TRY(json_is_string(v) ? csv_text(out, json_string_value(v)) : csv_num(out, v));
    }
    return buf_append_str(out, "\r\n");
}

static err csv_table(json_t *rows, const char *const *cols, size_t n, buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (i) {
            TRY(buf_append_byte(out, ','));
        }
        TRY(csv_text(out, cols[i]));
    }
    TRY(buf_append_str(out, "\r\n"));
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        TRY(csv_row(out, r, cols, n));
    }
    return ERR_OK;
}

err door_training_metrics_csv(vault *v, const actor *a, const tr_metrics_query *q,
                              const char *table, buf *out)
{
    static const char *const GROUPS[] = {"key",
                                         "people",
                                         "attempts",
                                         "passed",
                                         "pass_rate",
                                         "average_score",
                                         "assigned",
                                         "certified",
                                         "coverage",
                                         "statuses.future",
                                         "statuses.pending",
                                         "statuses.overdue",
                                         "statuses.certified",
                                         "statuses.expired",
                                         "remedial_open"};
    static const char *const WEAK[] = {"course",   "question", "lesson",
                                       "answered", "wrong",    "wrong_rate"};
    static const char *const QUEST[] = {"course",    "item",   "pre.mean", "pre.n",
                                        "post.mean", "post.n", "change"};
    static const char *const TRENDS[] = {"quarter", "people",    "attempts",
                                         "passed",  "pass_rate", "average_score"};
    static const char *const PHISH[] = {
        "key",      "people",          "delivered",       "clicked",         "submitted",
        "reported", "phish_prone_pct", "report_rate_pct", "median_report_s", "repeat_clickers"};
    const char *t = table && table[0] ? table : "groups";
    const char *const *cols;
    size_t n;
    if (strcmp(t, "groups") == 0) {
        cols = GROUPS, n = sizeof GROUPS / sizeof GROUPS[0];
    } else if (strcmp(t, "weakest") == 0) {
        cols = WEAK, n = sizeof WEAK / sizeof WEAK[0];
    } else if (strcmp(t, "questionnaire") == 0) {
        cols = QUEST, n = sizeof QUEST / sizeof QUEST[0];
    } else if (strcmp(t, "trends") == 0) {
        cols = TRENDS, n = sizeof TRENDS / sizeof TRENDS[0];
    } else if (strcmp(t, "phishing") == 0) {
        cols = PHISH, n = sizeof PHISH / sizeof PHISH[0];
    } else {
        return err_set(ERR_INPUT, __FILE__, __LINE__,
                       "table: groups, weakest, questionnaire, trends or phishing");
    }
    json_t *j = NULL;
    TRY(metrics_build(v, a, q, "training.metrics.export", &j));
    json_t *rows = strcmp(t, "phishing") == 0
                       ? json_object_get(json_object_get(j, "phishing"), "groups")
                       : json_object_get(j, t);
    err e = csv_table(rows, cols, n, out);
    json_decref(j);
    return e;
}
