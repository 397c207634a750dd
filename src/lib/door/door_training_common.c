/*
 * door_training_common.c - what the training door's files share (door_training_int.h):
 * who may (a person, HR, the system actor), the audit entry, the assignments, and the
 * scope of the figures. It calls none of the other training files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "door/door_training_int.h"

/* ---- who may ---- */

bool dtr_is_system(const actor *a)
{
    return a->role == ROLE__COUNT && a->account_id[0] == '\0' &&
           strncmp(a->username, "system:", 7) == 0;
}

err dtr_audit(vault *v, const actor *a, const char *action, const char *decision, const char *rule,
              const char *reason, int64_t count)
{
    audit_entry e;
    door_entry(&e, a, action, decision, rule);
    e.reason = reason; /* course ids, usernames, dates, counts, HR's reason: no customer data */
    e.count = count;
    return audit_append(v->au, &e, NULL);
}

/* A person's own training: any signed-in account, never an API key. */
err dtr_need_person(vault *v, const actor *a, const char *action)
{
    if (a->via_key || a->account_id[0] == '\0') {
        return door_deny(v, a, action, NULL, NULL, "training.person", ERR_DENIED,
                         "training is for people: sign in with your own account");
    }
    if (a->session_flags & SESSION_MFA_PENDING) {
        return door_deny(v, a, action, NULL, NULL, "second-factor-pending", ERR_AUTH,
                         "second factor required");
    }
    return ERR_OK;
}

err dtr_need_manage(vault *v, const actor *a, const char *action)
{
    return dtr_is_system(a) ? ERR_OK : door_need(v, a, CAP_TRAINING_MANAGE, action);
}

static err assign_collect(void *ctx, const training_assignment *a)
{
    assign_set *s = ctx;
    ENSURE(s->n < DTR_ASSIGN_MAX, ERR_TOO_LARGE, "more than %d assignments", DTR_ASSIGN_MAX);
    s->a[s->n++] = *a;
    return ERR_OK;
}

err dtr_assign_load(store *st, assign_set *s)
{
    s->n = 0;
    s->a = calloc(DTR_ASSIGN_MAX, sizeof *s->a);
    ENSURE(s->a != NULL, ERR_INTERNAL, "out of memory");
    err e = store_training_assignments(st, assign_collect, s);
    if (e != ERR_OK) {
        free(s->a);
        s->a = NULL;
    }
    return e;
}

size_t dtr_courses_of(const assign_set *s, const account *acc, acc_course *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const training_assignment *x = &s->a[i];
        bool hit =
            (strcmp(x->kind, "role") == 0 && strcmp(x->target, acc->role) == 0) ||
            (strcmp(x->kind, "department") == 0 && strcmp(x->target, acc->department) == 0) ||
            (strcmp(x->kind, "account") == 0 && strcmp(x->target, acc->id) == 0);
        if (!hit) {
            continue;
        }
        size_t k = 0;
        while (k < n && strcmp(out[k].course, x->course) != 0) {
            k++;
        }
        if (k == n && n < max) {
            snprintf(out[n].course, sizeof out[n].course, "%s", x->course);
            out[n].starts_us = x->starts_us;
            n++;
        } else if (k < n && x->starts_us < out[k].starts_us) {
            out[k].starts_us = x->starts_us;
        }
    }
    return n;
}

/* ---- the scope ---- */

bool dtr_scope_has(const mscope *m, const char *dept)
{
    if (m->all) {
        return true;
    }
    if (m->self_only) {
        return false;
    }
    if (strcmp(dept, m->a->department) == 0) {
        return true;
    }
    return m->a->role == ROLE_HR && tr_hr_scope_has(m->cfg, m->a->username, dept);
}

bool dtr_dept_in_scope(const actor *a, const tr_config *cfg, const char *dept)
{
    mscope m = {a, cfg, false, dtr_is_system(a)};
    return dtr_scope_has(&m, dept);
}
