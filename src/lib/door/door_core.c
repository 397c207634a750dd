/*
 * door_core.c - what every door file uses, and nothing above it: the actor's
 * part of an audit entry and the audited denial, reports to the guard (and the
 * alerts it raises), the per-thread data-key buffer, the keyring freshness
 * check, blind-index values, and the vault's paths. The lowest door file: it
 * calls no other (scripts/door-calls.sh keeps the door's files free of circles).
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "door_int.h"

/* ---- the actor and the audit entry ---- */

void actor_system(actor *a, const char *what)
{
    memset(a, 0, sizeof *a);
    snprintf(a->username, sizeof a->username, "system:%s", what);
    a->role = ROLE__COUNT; /* no grants */
    snprintf(a->source, sizeof a->source, "local");
    snprintf(a->request_id, sizeof a->request_id, "-");
}

void door_entry(audit_entry *e, const actor *a, const char *action, const char *decision,
                const char *rule)
{
    memset(e, 0, sizeof *e);
    e->actor = a->username;
    e->role = role_name(a->role);
    e->source = a->source;
    e->session = a->session[0] ? a->session : NULL;
    e->request_id = a->request_id;
    e->action = action;
    e->decision = decision;
    e->rule = rule;
    e->count = -1;
}

err door_deny(vault *v, const actor *a, const char *action, const char *customer,
              const char *fields, const char *rule, err code, const char *msg)
{
    audit_entry e;
    door_entry(&e, a, action, "deny", rule);
    e.customer = customer;
    e.fields = fields;
    uint64_t idx = 0;
    TRY(audit_append(v->au, &e, &idx));
    /* Beyond one's rights (not a customer that simply does not exist): the guard hears. */
    if (code == ERR_DENIED || (rule && strcmp(rule, "department-scope") == 0)) {
        door_observe_denied(v, a, fields && fields[0] ? fields : action, (int64_t)idx);
    }
    BAIL(code, "%s", msg);
}

static pthread_key_t dek_key;
static pthread_once_t dek_once = PTHREAD_ONCE_INIT;
static void dek_release(void *p)
{
    secret_free(p);
}
static void dek_key_make(void)
{
    pthread_key_create(&dek_key, dek_release);
}

uint8_t *door_dek_buf(void)
{
    pthread_once(&dek_once, dek_key_make);
    uint8_t *p = pthread_getspecific(dek_key);
    if (!p) {
        p = secret_alloc(KEY_LEN);
        pthread_setspecific(dek_key, p);
    }
    return p;
}

err door_keyring_fresh(vault *v)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static struct timespec seen;
    static ino_t seen_ino;
    char p[PATH_MAX];
    vault_path(v, VAULT_KEYRING, p, sizeof p);
    struct stat st;
    ENSURE(stat(p, &st) == 0, ERR_UNAVAILABLE, "the keyring file is missing");
    pthread_mutex_lock(&mu);
    bool changed = seen_ino != 0 && (st.st_ino != seen_ino || st.st_mtim.tv_sec != seen.tv_sec ||
                                     st.st_mtim.tv_nsec != seen.tv_nsec);
    seen_ino = st.st_ino;
    seen = st.st_mtim;
    pthread_mutex_unlock(&mu);
    if (changed) {
        log_info("keyring.reload", "keyring changed on disk; reloading");
        TRY(keyring_reload(v->kr));
    }
    return ERR_OK;
}

/* ---- reports to the guard ---- */

void door_alert(vault *v, const char *severity, const char *rule, const actor *a,
                const char *detail)
{
    log_warn("alert", "severity=%s rule=%s account=%s source=%s %s", severity, rule,
             a ? a->username : "-", a ? a->source : "-", detail ? detail : "");
    if (v->guard && a) {
        /* The guard's `notice` rules turn these into stored, routed, delivered alerts. */
        guard_event ev = {.kind = GUARD_EV_NOTICE,
                          .username = a->username,
                          .role = a->role == ROLE__COUNT ? "" : role_name(a->role),
                          .department = a->department,
                          .source = a->source,
                          .categories = rule,
                          .audit_index = -1};
        guard_observe(v->guard, &ev);
    }
}

void door_honeytoken_touched(vault *v, const actor *a, const char *action, const char *customer)
{
    char d[160];
    snprintf(d, sizeof d, "action=%s customer=%s", action, customer);
    door_alert(v, "critical", "honeytoken-read", a, d);
}

static _Thread_local bool observed;

bool door_observed_take(void)
{
    bool o = observed;
    observed = false;
    return o;
}

static void observe(vault *v, const actor *a, guard_event *ev)
{
    observed = true;
    if (!v->guard) {
        return;
    }
    ev->username = a->username;
    ev->role = a->role == ROLE__COUNT ? "" : role_name(a->role);
    ev->department = a->department;
    ev->source = a->source;
    guard_observe(v->guard, ev);
}

void door_observe_login(vault *v, const actor *a, bool ok, int64_t index)
{
    guard_event ev = {.kind = ok ? GUARD_EV_LOGIN_OK : GUARD_EV_LOGIN_FAIL, .audit_index = index};
    observe(v, a, &ev);
}

void door_observe_denied(vault *v, const actor *a, const char *what, int64_t index)
{
    guard_event ev = {.kind = GUARD_EV_DENIED, .categories = what, .audit_index = index};
    observe(v, a, &ev);
}

void door_observe_read(vault *v, const actor *a, const char *customer, const char *cdept,
                       bool honeytoken, uint32_t customers, uint64_t bytes, int64_t index)
{
    guard_event ev = {.kind = GUARD_EV_CUSTOMER_READ,
                      .customer = customer,
                      .customer_department = cdept,
                      .honeytoken = honeytoken,
                      .customers = customers,
                      .bytes = bytes,
                      .audit_index = index};
    observe(v, a, &ev);
}

void door_observe_write(vault *v, const actor *a, const char *action, const char *customer,
                        const char *cdept, bool honeytoken, int64_t index)
{
    if (honeytoken) {
        door_honeytoken_touched(v, a, action, customer);
    }
    guard_event ev = {.kind = GUARD_EV_CUSTOMER_WRITE,
                      .customer = customer,
                      .customer_department = cdept,
                      .honeytoken = honeytoken,
                      .customers = 1,
                      .audit_index = index};
    observe(v, a, &ev);
}

void door_observe_search_miss(vault *v, const actor *a, const char *field, int64_t index)
{
    guard_event ev = {.kind = GUARD_EV_SEARCH_MISS, .categories = field, .audit_index = index};
    observe(v, a, &ev);
}

void door_observe_bad_token(vault *v, const char *source, int64_t index)
{
    observed = true;
    if (v->guard) {
        guard_event ev = {.kind = GUARD_EV_BAD_TOKEN, .source = source, .audit_index = index};
        guard_observe(v->guard, &ev);
    }
}

uint64_t door_json_bytes(const vault *v, const json_t *j)
{
    /* Only the guard needs the size (egress rules): no guard, no second serialisation. */
    return v->guard && j ? (uint64_t)json_dumpb(j, NULL, 0, JSON_COMPACT) : 0;
}

/* ---- keys ---- */

/* 24 bits: 0.006 false candidates per exact search at 100,000 customers; 20 bits for names,
 * which collide naturally anyway. docs/FORMATS.md explains the trade-off. */
const unsigned DOOR_BLIND_BITS[BI__COUNT] = {
    [BI_NAME] = 20, [BI_PHONE] = 24, [BI_EMAIL] = 24, [BI_ID_NUMBER] = 24};
const int DOOR_BLIND_FIELD[BI__COUNT] = {[BI_NAME] = CF_NAME,
                                         [BI_PHONE] = CF_PHONE,
                                         [BI_EMAIL] = CF_EMAIL,
                                         [BI_ID_NUMBER] = CF_ID_NUMBER};

err door_blind_of(vault *v, blind_kind k, const char *canon, uint64_t *out)
{
    buf n;
    buf_init(&n, 4096);
    err rc = model_blind_normalize(k, canon, strlen(canon), &n);
    if (rc == ERR_OK) {
        *out = keyring_blind(v->kr, blind_kind_name(k), DOOR_BLIND_BITS[k], buf_slice(&n));
    }
    buf_free(&n);
    return rc;
}

err door_wrap_accepted(vault *v, store *st, const uint8_t dek[KEY_LEN], sealed_customer *c)
{
    uint32_t floor = 0, have = 0;
    TRY(store_kek_floor(st, &floor));
    TRY(envelope_key_version(buf_slice(&c->wrapped_dek), &have));
    if (have < floor) {
        /* Wrapped before this process saw a rotation that has retired that version since. */
        TRY(keyring_reload(v->kr));
        buf_reset(&c->wrapped_dek);
        TRY(keyring_dek_wrap(v->kr, c->id, dek, &c->wrapped_dek));
        TRY(envelope_key_version(buf_slice(&c->wrapped_dek), &have));
        ENSURE(have >= floor, ERR_UNAVAILABLE,
               "a master-key rotation is under way: try again in a moment");
    }
    c->kek_version = have;
    return ERR_OK;
}

err door_seal_customer(vault *v, const uint8_t dek[KEY_LEN], const record *rec, sealed_customer *c,
                       const bool *only)
{
    for (int i = 0; i < CF__COUNT; i++) {
        if (only && !only[i]) {
            continue;
        }
        const char *val = rec->v[i];
        if (i == CF_DEPARTMENT) {
            if (val) {
                snprintf(c->department, sizeof c->department, "%s", val);
            }
            continue;
        }
        buf_reset(&c->field[i]);
        blind_kind k = model_field(REC_CUSTOMER, i)->blind;
        if (k != BI_NONE) {
            c->has_blind[k] = false;
        }
        if (!val) {
            continue;
        }
        TRY(seal(dek, c->dek_version, c->id, model_field(REC_CUSTOMER, i)->name, slice_cstr(val),
                 &c->field[i]));
        if (k != BI_NONE) {
            TRY(door_blind_of(v, k, val, &c->blind[k]));
            c->has_blind[k] = true;
        }
    }
    return ERR_OK;
}

/* ---- paths ---- */

void vault_path_in(const char *dir, const char *name, char *out, size_t max)
{
    snprintf(out, max, "%s/%s", dir, name);
}

void vault_path(const vault *v, const char *name, char *out, size_t max)
{
    vault_path_in(v->dir, name, out, max);
}
