/*
 * door_drill.c - breach-response drills on the live system (door_drill.h).
 *
 * The drill's record is VAULT/drills/ID.json (0600, folder 0700): what the injection did,
 * the guard's alert and responses as observed, the drill incident (incident_to_json) and the
 * scope computed from the audit log. It holds customer ids of the synthetic drill pool only,
 * never a value. Timings are derived when read (drill_timings), so an acknowledgement or a
 * task done later shows up in them.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/clock.h"
#include "core/file.h"
#include "core/log.h"
#include "core/mem.h"
#include "door/door_drill.h"
#include "door_int.h"
#include "incident/drill.h"
#include "incident/incident.h"
#include "incident/pdf.h"
#include "incident/playbook.h"
#include "incident/scope.h"
#include "model/demo.h"

#define SEC 1000000LL
#define RECORD_MAX ((size_t)8 << 20)

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER; /* records, and one drill at a time */
static char g_running[ID_LEN + 1];

bool door_drill_account_name(const char *username)
{
    return username && strncmp(username, DRILL_ACCOUNT_PREFIX, strlen(DRILL_ACCOUNT_PREFIX)) == 0;
}

void door_drill_run_wipe(door_drill_run *r)
{
    mem_wipe(r->token, sizeof r->token);
}

/* ---- records ---- */

static bool id_ok(const char *id)
{
    if (!id || strlen(id) < 5 || strlen(id) > ID_LEN || strncmp(id, "drl_", 4) != 0) {
        return false;
    }
    for (const char *p = id + 4; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))) {
            return false;
        }
    }
    return true;
}

static void record_path(vault *v, const char *id, char *out, size_t max)
{
    char dir[PATH_MAX];
    vault_path(v, "drills", dir, sizeof dir);
    snprintf(out, max, "%s/%s.json", dir, id);
}

static err record_save(vault *v, const char *id, const json_t *rec)
{
    char dir[PATH_MAX], path[PATH_MAX];
    vault_path(v, "drills", dir, sizeof dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        BAIL(ERR_IO, "cannot create the drills folder");
    }
    record_path(v, id, path, sizeof path);
    char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
    ENSURE(text != NULL, ERR_INTERNAL, "out of memory");
    err rc = file_write_atomic(path, slice_cstr(text), false);
    free(text);
    return rc;
}

static err record_load(vault *v, const char *id, json_t **out)
{
    ENSURE(id_ok(id), ERR_NOT_FOUND, "no such drill");
    char path[PATH_MAX];
    record_path(v, id, path, sizeof path);
    buf b;
    buf_init(&b, RECORD_MAX);
    err rc = file_read_bounded(path, RECORD_MAX, &b);
    if (rc != ERR_OK) {
        buf_free(&b);
        BAIL(ERR_NOT_FOUND, "no such drill");
    }
    json_error_t je;
    *out = json_loadb((const char *)b.p, b.len, JSON_REJECT_DUPLICATES, &je);
    buf_free(&b);
    ENSURE(*out != NULL, ERR_INPUT, "drill record %s is damaged", id);
    return ERR_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ids of every drill, oldest first (ids are random: sorted by their start time). */
static err record_ids(vault *v, json_t **out)
{
    char dir[PATH_MAX];
    vault_path(v, "drills", dir, sizeof dir);
    json_t *arr = json_array();
    ENSURE(arr != NULL, ERR_INTERNAL, "out of memory");
    DIR *d = opendir(dir);
    if (!d) {
        *out = arr;
        return ERR_OK;
    }
    enum { MAX = 1000 };
    char **names = calloc(MAX, sizeof *names);
    size_t n = 0;
    struct dirent *de;
    while (names && n < MAX && (de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0) {
            char id[ID_LEN + 8];
            snprintf(id, sizeof id, "%.*s", (int)(len - 5), de->d_name);
            json_t *rec = NULL;
            if (id_ok(id) && record_load(v, id, &rec) == ERR_OK) {
                char *key = NULL;
                const char *at = json_string_value(json_object_get(rec, "started_at"));
                if (asprintf(&key, "%s %s", at ? at : "", id) > 0) {
                    names[n++] = key;
                }
            }
            json_decref(rec);
        }
    }
    closedir(d);
    if (names) {
        qsort(names, n, sizeof *names, cmp_str);
        for (size_t i = 0; i < n; i++) {
            const char *sp = strchr(names[i], ' ');
            json_array_append_new(arr, json_string(sp ? sp + 1 : names[i]));
            free(names[i]);
        }
    }
    free(names);
    *out = arr;
    return ERR_OK;
}

/* ---- playbooks ---- */

static err load_playbook(vault *v, const char *id, playbook **out)
{
    ENSURE(id && id[0] && strlen(id) <= PLAYBOOK_ID_MAX, ERR_INPUT, "playbook: an id is required");
    for (const char *p = id; *p; p++) {
        ENSURE((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-', ERR_INPUT,
               "playbook: letters, digits and '-' only");
    }
    char name[PATH_MAX], path[PATH_MAX];
    snprintf(name, sizeof name, "playbooks/%s.playbook", id);
    vault_path(v, name, path, sizeof path);
    buf b;
    buf_init(&b, 1 << 20);
    err rc;
    if (file_read_bounded(path, 1 << 20, &b) == ERR_OK) {
        rc = playbook_parse(path, (const char *)b.p, b.len, out);
        buf_free(&b);
        return rc;
    }
    buf_free(&b);
    for (const door_drill_playbook *p = DOOR_DRILL_PLAYBOOKS; p->id; p++) {
        if (strcmp(p->id, id) == 0) {
            return playbook_parse(p->id, p->text, strlen(p->text), out);
        }
    }
    BAIL(ERR_NOT_FOUND, "no such playbook: %s", id);
}

/* ---- the synthetic pool ---- */

static err plant(vault *v, const actor *a, demo_rng *rng, bool honeytoken, char id[ID_LEN + 1])
{
    record rec;
    record_init(&rec, REC_CUSTOMER);
    sealed_customer c;
    sealed_customer_init(&c);
    uint8_t *dek = door_dek_buf();
    err rc = ERR_OK;
    CHECK(dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    if (honeytoken) {
        GUARD(demo_honeytoken(rng, DRILL_DEPARTMENT, "drill", &rec));
    } else {
        GUARD(demo_customer(rng, DRILL_DEPARTMENT, "drill", &rec));
    }
    id_new(c.id, "cus");
    snprintf(c.department, sizeof c.department, "%s", DRILL_DEPARTMENT);
    c.created_us = c.updated_us = clock_now_us();
    c.dek_version = 1;
    c.honeytoken = honeytoken;
    GUARD(keyring_dek_new(v->kr, c.id, dek, &c.wrapped_dek));
    GUARD(envelope_key_version(buf_slice(&c.wrapped_dek), &c.kek_version));
    GUARD(door_seal_customer(v, dek, &rec, &c, NULL));
    GUARD(store_customer_insert(v->st, &c));
    snprintf(id, ID_LEN + 1, "%s", c.id);
out:
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    sealed_customer_free(&c);
    record_free(&rec);
    (void)a;
    return rc;
}

/* The drill department's pool, made once: DRILL_POOL synthetic customers and
 * DRILL_HONEYTOKENS honeytokens (their ids kept in the store's meta "drill.honeytokens"). */
static err ensure_pool(vault *v, const actor *a, char honey[DRILL_HONEYTOKENS][ID_LEN + 1])
{
    buf m;
    buf_init(&m, 4096);
    err rc = store_meta_get(v->st, "drill.honeytokens", &m);
    if (rc == ERR_OK && m.len > 0) {
        char list[DRILL_HONEYTOKENS * (ID_LEN + 1) + 1];
        snprintf(list, sizeof list, "%.*s", (int)m.len, (const char *)m.p);
        buf_free(&m);
        size_t k = 0;
        for (char *save = NULL, *t = strtok_r(list, ",", &save); t && k < DRILL_HONEYTOKENS;
             t = strtok_r(NULL, ",", &save)) {
            snprintf(honey[k++], ID_LEN + 1, "%s", t);
        }
        ENSURE(k == DRILL_HONEYTOKENS, ERR_INTERNAL, "the drill pool's record is damaged");
        return ERR_OK;
    }
    buf_free(&m);
    TRY(door_keyring_fresh(v));
    demo_rng rng;
    uint64_t seed;
    rand_bytes(&seed, sizeof seed);
    demo_rng_seed(&rng, seed);
    char id[ID_LEN + 1];
    for (int i = 0; i < DRILL_POOL; i++) {
        TRY(plant(v, a, &rng, false, id));
    }
    char list[DRILL_HONEYTOKENS * (ID_LEN + 1) + 1] = "";
    for (int i = 0; i < DRILL_HONEYTOKENS; i++) {
        TRY(plant(v, a, &rng, true, honey[i]));
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", i ? "," : "", honey[i]);
    }
    audit_entry e;
    door_entry(&e, a, "drill.seed", "allow", "guard.manage");
    char what[64];
    snprintf(what, sizeof what, "department=%s customers=%d honeytokens=%d", DRILL_DEPARTMENT,
             DRILL_POOL, DRILL_HONEYTOKENS);
    e.reason = what;
    e.count = DRILL_POOL + DRILL_HONEYTOKENS;
    TRY(audit_append(v->au, &e, NULL));
    return store_meta_set(v->st, "drill.honeytokens", list);
}

/* ---- start ---- */

static int64_t sanction_at(vault *v, const char *kind, const char *subject, char *rule, size_t max);

static bool loopback(const char *addr)
{
    return addr && strncmp(addr, "127.", 4) == 0 && strlen(addr) <= 15;
}

err door_drill_start(vault *v, const actor *a, const char *playbook_id, const char *address,
                     door_drill_run *out)
{
    memset(out, 0, sizeof *out);
    TRY(door_need(v, a, CAP_GUARD_MANAGE, "drill.start"));
    ENSURE(v->guard != NULL, ERR_UNAVAILABLE, "drills need the guard running");
    ENSURE(loopback(address), ERR_INPUT, "a drill reads from a loopback address");
    playbook *pb = NULL;
    TRY(load_playbook(v, playbook_id, &pb));
    /* The drill account reads as sales held to its own department: refuse a policy that
     * would let it read another department's customers. */
    actor probe;
    memset(&probe, 0, sizeof probe);
    probe.role = ROLE_SALES;
    snprintf(probe.department, sizeof probe.department, "%s", DRILL_DEPARTMENT);
    err rc = ERR_OK;
    account acc;
    memset(&acc, 0, sizeof acc);
    char pw[64] = "";
    json_t *rec = NULL;
    bool claimed = false;
    const char *rule = NULL;
    CHECK(door_own_department_only(&probe) ||
              !door_allows_somewhere(&probe, REC_CUSTOMER, OP_READ, &rule),
          ERR_CONFLICT,
          "the policy lets sales read other departments: no drill account can be "
          "held to the drill department");
    /* The address must be free to be blocked by the guard for this drill. */
    CHECK(sanction_at(v, "block", address, NULL, 0) == 0, ERR_CONFLICT,
          "the drill address is blocked now");
    pthread_mutex_lock(&g_mu);
    if (g_running[0]) {
        pthread_mutex_unlock(&g_mu);
        FAIL(ERR_CONFLICT, "a drill is running already");
    }
    id_new(out->id, "drl");
    snprintf(g_running, sizeof g_running, "%s", out->id);
    claimed = true;
    pthread_mutex_unlock(&g_mu);

    id_new(out->incident, "inc");
    snprintf(out->address, sizeof out->address, "%s", address);
    out->started_us = clock_now_us();
    uint8_t r[4];
    rand_bytes(r, sizeof r);
    snprintf(out->account, sizeof out->account, DRILL_ACCOUNT_PREFIX "%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3]);

    audit_entry e;
    char what[256];
    snprintf(what, sizeof what, "drill=%s playbook=%s account=%s address=%s", out->id, pb->id,
             out->account, address);
    door_entry(&e, a, "drill.start", "allow", "guard.manage");
    e.reason = what;
    GUARD(audit_append(v->au, &e, NULL));
    GUARD(ensure_pool(v, a, out->honeytokens));

    /* The account: a password nobody knows, training current for the drill's day. */
    identity_unknown_password(pw);
    GUARD(identity_account_new(out->account, pw, ROLE_SALES, DRILL_DEPARTMENT, &acc));
    acc.training_until_us = out->started_us + 86400 * SEC;
    door_entry(&e, a, "drill.account", "allow", "guard.manage");
    snprintf(what, sizeof what, "drill=%s account=%s role=sales department=%s created", out->id,
             out->account, DRILL_DEPARTMENT);
    e.reason = what;
    GUARD(audit_append(v->au, &e, NULL));
    GUARD(identity_account_insert(&v->id, &acc));
    identity_session sess;
    GUARD(identity_session_issue(&v->id, acc.id, 0, &sess));
    snprintf(out->token, sizeof out->token, "%s", sess.token);
    mem_wipe(&sess, sizeof sess);

    char ts[40];
    clock_rfc3339(out->started_us, ts);
    rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[s,s]}", "id", out->id, "incident",
                    out->incident, "playbook", pb->id, "state", "running", "started_by",
                    a->username, "account", out->account, "address", address, "started_at", ts,
                    "honeytokens", out->honeytokens[0], out->honeytokens[1]);
    CHECK(rec != NULL, ERR_INTERNAL, "out of memory");
    pthread_mutex_lock(&g_mu);
    rc = record_save(v, out->id, rec);
    pthread_mutex_unlock(&g_mu);
out:
    if (rc != ERR_OK && claimed) {
        pthread_mutex_lock(&g_mu);
        g_running[0] = '\0';
        pthread_mutex_unlock(&g_mu);
    }
    if (rc != ERR_OK) {
        door_drill_run_wipe(out);
    }
    mem_wipe(pw, sizeof pw);
    identity_account_wipe(&acc);
    json_decref(rec);
    playbook_free(pb);
    return rc;
}

/* ---- the end of the injection ---- */

static int64_t json_time(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    int64_t us = 0;
    return s && clock_parse_rfc3339(s, &us) == ERR_OK ? us : 0;
}

/* The drill account's honeytoken alert (the guard's, newest first: the oldest match). */
static json_t *find_alert(vault *v, const char *username)
{
    guard_alert_filter f = {.account = username, .limit = 100};
    json_t *res = NULL, *found = NULL;
    if (guard_alerts(v->guard, &f, &res) != ERR_OK) {
        return NULL;
    }
    json_t *al;
    size_t i;
    json_array_foreach(json_object_get(res, "alerts"), i, al)
    {
        const char *det = json_string_value(json_object_get(al, "detector"));
        if (det && strcmp(det, "honeytoken") == 0) {
            json_decref(found);
            found = json_incref(al);
        }
    }
    json_decref(res);
    return found;
}

/* The guard's sanction of kind on subject (its "created" time), 0 when none. */
static int64_t sanction_at(vault *v, const char *kind, const char *subject, char *rule, size_t max)
{
    json_t *res = NULL;
    int64_t at = 0;
    if (guard_sanctions(v->guard, &res) != ERR_OK) {
        return 0;
    }
    json_t *s;
    size_t i;
    json_array_foreach(json_object_get(res, "sanctions"), i, s)
    {
        const char *k = json_string_value(json_object_get(s, "kind"));
        const char *sub = json_string_value(json_object_get(s, "subject"));
        if (k && sub && strcmp(k, kind) == 0 &&
            (strcmp(sub, subject) == 0 ||
             (strlen(sub) > strlen(subject) &&
              strcmp(sub + strlen(sub) - strlen(subject), subject) == 0 &&
              sub[strlen(sub) - strlen(subject) - 1] == ':'))) {
            at = json_time(s, "created");
            if (rule) {
                const char *r = json_string_value(json_object_get(s, "rule"));
                snprintf(rule, max, "%s", r ? r : "");
            }
        }
    }
    json_decref(res);
    return at;
}

typedef struct act_find {
    const char *subject;
    int64_t at_us;
} act_find;

static err act_row(void *ctx, uint64_t index, slice entry, const uint8_t leaf[32])
{
    act_find *f = ctx;
    audit_decoded d;
    json_t *j = json_loadb((const char *)entry.p, entry.len, 0, NULL);
    const char *reason = json_string_value(json_object_get(j, "reason"));
    size_t n = strlen(f->subject);
    if (!f->at_us && reason && strncmp(reason, f->subject, n) == 0 &&
        (reason[n] == ' ' || reason[n] == '\0') && audit_decode(entry, &d) == ERR_OK) {
        f->at_us = d.ts_us;
    }
    json_decref(j);
    (void)index, (void)leaf;
    return ERR_OK;
}

/* When the guard carried out action (guard.lock, guard.block...) on subject ("account:U",
 * "address:A") since from_us: the time of its audit entry, written as it acted. 0: not yet. */
static int64_t acted_at(vault *v, const char *action, const char *subject, int64_t from_us)
{
    act_find f = {subject, 0};
    audit_query q = {.action = action, .from_us = from_us, .after = UINT64_MAX, .limit = 1000};
    size_t n = 0;
    if (audit_search(v->au, &q, act_row, &f, &n) != ERR_OK) {
        return 0;
    }
    return f.at_us;
}

static err fact_customer(void *ctx, const char *id, char *department, size_t cap, bool *honeytoken,
                         bool *erased)
{
    vault *v = ctx;
    sealed_customer c;
    sealed_customer_init(&c);
    err rc = store_customer_get(v->st, id, &c);
    if (rc == ERR_OK) {
        snprintf(department, cap, "%s", c.department);
        *honeytoken = c.honeytoken;
        *erased = c.erased;
    } else if (rc == ERR_NOT_FOUND) {
        snprintf(department, cap, "%s", "");
        *honeytoken = false;
        *erased = true;
        rc = ERR_OK;
    }
    sealed_customer_free(&c);
    return rc;
}

/* The breach scope of the drill account since the drill started, against a checkpoint signed
 * now. */
static err drill_scope(vault *v, const char *username, int64_t from_us, json_t **out)
{
    scope_query q = {.actors = {username}, .nactors = 1, .nwindows = 1};
    q.windows[0].from_us = from_us;
    scope *sc = NULL;
    audit_iter *it = NULL;
    buf note;
    buf_init(&note, 1 << 16);
    uint64_t size = 0;
    err rc = ERR_OK;
    GUARD(audit_checkpoint_now(v->au, NULL));
    GUARD(audit_latest_checkpoint(v->au, &note, &size));
    GUARD(scope_new(&q, &sc));
    GUARD(audit_iter_open(v->au, 0, &it));
    for (;;) {
        uint64_t idx;
        slice ent;
        bool got = false;
        GUARD(audit_iter_next(it, &idx, &ent, &got));
        if (!got || idx >= size) {
            break;
        }
        GUARD(scope_add(sc, idx, ent));
    }
    scope_facts f = {.ctx = v, .customer = fact_customer};
    GUARD(scope_result(sc, &f, buf_slice(&note), size, out));
out:
    audit_iter_close(it);
    scope_free(sc);
    buf_free(&note);
    return rc;
}

static void release(const char *id)
{
    pthread_mutex_lock(&g_mu);
    if (strcmp(g_running, id) == 0) {
        g_running[0] = '\0';
    }
    pthread_mutex_unlock(&g_mu);
}

/* The drill account is disabled (its sessions are gone with the guard's revoke; any left are
 * revoked here too). */
static err disable_account(vault *v, const char *drill, const char *username)
{
    account acc;
    TRY(identity_account_by_name(&v->id, username, &acc));
    acc.disabled = true;
    actor sys;
    actor_system(&sys, "drill");
    audit_entry e;
    door_entry(&e, &sys, "drill.account", "allow", "drill");
    char what[160];
    snprintf(what, sizeof what, "drill=%s account=%s disabled", drill, username);
    e.reason = what;
    err rc = audit_append(v->au, &e, NULL);
    if (rc == ERR_OK) {
        rc = identity_account_update(&v->id, &acc);
    }
    if (rc == ERR_OK) {
        rc = identity_sessions_revoke(&v->id, acc.id, NULL);
    }
    identity_account_wipe(&acc);
    return rc;
}

void door_drill_abort(vault *v, const door_drill_run *run, const char *why)
{
    json_t *rec = NULL;
    if (disable_account(v, run->id, run->account) != ERR_OK) {
        log_warn("drill", "%s: the drill account could not be disabled", run->id);
    }
    pthread_mutex_lock(&g_mu);
    if (record_load(v, run->id, &rec) == ERR_OK) {
        json_object_set_new(rec, "state", json_string("failed"));
        json_object_set_new(rec, "failure", json_string(why));
        if (record_save(v, run->id, rec) != ERR_OK) {
            log_warn("drill", "%s: its record could not be saved", run->id);
        }
    }
    pthread_mutex_unlock(&g_mu);
    json_decref(rec);
    release(run->id);
}

err door_drill_finish(vault *v, const door_drill_run *run, json_t *requests,
                      int64_t first_honeytoken_us, int64_t wait_us)
{
    ENSURE(v->guard != NULL, ERR_UNAVAILABLE, "drills need the guard running");
    int64_t deadline = clock_now_us() + wait_us;
    json_t *alert = NULL, *rec = NULL, *scope_j = NULL, *inc_j = NULL;
    int64_t lock_us = 0, block_us = 0, revoke_us = 0;
    char lock_rule[64] = "", block_rule[64] = "";
    playbook *pb = NULL;
    incident inc;
    memset(&inc, 0, sizeof inc);
    bool opened = false;
    err rc = ERR_OK;
    /* Observe, never tell: the guard's own rules must raise the alert and respond. */
    for (;;) {
        guard_sync(v->guard);
        if (!alert) {
            alert = find_alert(v, run->account);
        }
        if (!lock_us) {
            lock_us = sanction_at(v, "lock", run->account, lock_rule, sizeof lock_rule);
        }
        if (!block_us) {
            block_us = sanction_at(v, "block", run->address, block_rule, sizeof block_rule);
        }
        if ((alert && lock_us && block_us) || clock_now_us() >= deadline) {
            break;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&g_mu);
    rc = record_load(v, run->id, &rec);
    pthread_mutex_unlock(&g_mu);
    GUARD(rc);
    GUARD(load_playbook(v, json_string_value(json_object_get(rec, "playbook")), &pb));
    /* When the guard acted, from its audit entries (the sanctions carry the finding's time). */
    char subj[128];
    snprintf(subj, sizeof subj, "account:%s", run->account);
    int64_t t;
    if (lock_us && (t = acted_at(v, "guard.lock", subj, run->started_us)) > 0) {
        lock_us = t;
    }
    revoke_us = acted_at(v, "guard.revoke", subj, run->started_us);
    if (!revoke_us) {
        revoke_us = lock_us;
    }
    snprintf(subj, sizeof subj, "address:%s", run->address);
    if (block_us && (t = acted_at(v, "guard.block", subj, run->started_us)) > 0) {
        block_us = t;
    }

    int64_t now = clock_now_us();
    int64_t alert_us = alert ? json_time(alert, "first_seen") : 0;
    char alert_id[32] = "";
    if (alert) {
        snprintf(alert_id, sizeof alert_id, "%lld",
                 (long long)json_integer_value(json_object_get(alert, "id")));
    }
    inc_actor starter = {.name = json_string_value(json_object_get(rec, "started_by")),
                         .role = ROLE_SECURITY};
    if (!starter.name) {
        starter.name = "security";
    }
    if (alert_us > 0) {
        GUARD(incident_open(&inc, run->incident, pb, alert_us, now, &starter, true, alert_id));
        opened = true;
        inc_actor guard_actor = {.name = "guard", .role = ROLE_SECURITY};
        int contain = -1;
        for (size_t i = 0; i < pb->ntasks; i++) {
            if (pb->task[i].actions & (1u << PBA_LOCK_ACCOUNT)) {
                contain = (int)i;
                break;
            }
        }
        if (contain >= 0 && lock_us) {
            GUARD(incident_action(&inc, pb->task[contain].id, PBA_LOCK_ACCOUNT, run->account,
                                  &guard_actor, lock_us));
            GUARD(incident_action(&inc, pb->task[contain].id, PBA_REVOKE_SESSIONS, run->account,
                                  &guard_actor, revoke_us));
        }
        if (contain >= 0 && block_us && (pb->task[contain].actions & (1u << PBA_BLOCK_ADDRESS))) {
            GUARD(incident_action(&inc, pb->task[contain].id, PBA_BLOCK_ADDRESS, run->address,
                                  &guard_actor, block_us));
        }
        if (inc.phase == PHASE_DETECTION && lock_us) {
            GUARD(incident_set_phase(&inc, PHASE_CONTAINMENT, &guard_actor, now));
        }
        inc_j = incident_to_json(&inc);
        CHECK(inc_j != NULL, ERR_INTERNAL, "out of memory");
    }
    GUARD(disable_account(v, run->id, run->account));
    GUARD(drill_scope(v, run->account, run->started_us, &scope_j));

    char t1[40], t2[40], t3[40], t4[40];
    clock_rfc3339(first_honeytoken_us, t1);
    clock_rfc3339(lock_us, t2);
    clock_rfc3339(block_us, t3);
    clock_rfc3339(clock_now_us(), t4);
    json_object_set(rec, "requests", requests ? requests : json_array());
    json_object_set_new(rec, "state", json_string(opened && lock_us ? "contained" : "failed"));
    if (!opened || !lock_us) {
        json_object_set_new(rec, "failure",
                            json_string(!alert ? "the guard raised no honeytoken alert in time"
                                               : "the guard did not lock the drill account"));
    }
    json_object_set_new(rec, "injected_at", first_honeytoken_us ? json_string(t1) : json_null());
    json_object_set_new(rec, "alert", alert ? json_incref(alert) : json_null());
    json_object_set_new(rec, "containment",
                        json_pack("{s:o,s:s,s:o,s:s,s:s}", "locked_at",
                                  lock_us ? json_string(t2) : json_null(), "lock_rule", lock_rule,
                                  "blocked_at", block_us ? json_string(t3) : json_null(),
                                  "block_rule", block_rule, "account_disabled_at", t4));
    json_object_set_new(rec, "incident_record", inc_j ? inc_j : json_null());
    inc_j = NULL;
    json_object_set_new(rec, "scope", scope_j);
    scope_j = NULL;

    actor sys;
    actor_system(&sys, "drill");
    audit_entry e;
    door_entry(&e, &sys, "drill.finish", "allow", "drill");
    char what[200];
    snprintf(what, sizeof what, "drill=%s incident=%s alert=%s contained=%s", run->id,
             run->incident, alert_id[0] ? alert_id : "none", lock_us ? "yes" : "no");
    e.reason = what;
    GUARD(audit_append(v->au, &e, NULL));
    pthread_mutex_lock(&g_mu);
    rc = record_save(v, run->id, rec);
    pthread_mutex_unlock(&g_mu);
out:
    release(run->id);
    if (opened) {
        incident_free(&inc);
    }
    json_decref(inc_j);
    json_decref(scope_j);
    json_decref(alert);
    json_decref(rec);
    playbook_free(pb);
    return rc;
}

/* ---- reading ---- */

static err need_reader(vault *v, const actor *a, const char *action)
{
    if (!a->via_key && !(a->session_flags & SESSION_MFA_PENDING) &&
        (a->role == ROLE_SECURITY || a->role == ROLE_LEGAL || a->role == ROLE_AUDITOR)) {
        return ERR_OK;
    }
    return door_deny(v, a, action, NULL, NULL, "drills", ERR_DENIED,
                     "drills are for security, legal and auditors");
}

static err audit_read(vault *v, const actor *a, const char *action, const char *what)
{
    audit_entry e;
    door_entry(&e, a, action, "allow", "drills");
    e.reason = what;
    return audit_append(v->au, &e, NULL);
}

/* The drill incident of a record (with the alert's acknowledgement as the guard has it now),
 * and its timings. ERR_NOT_FOUND when the drill has no incident (it failed). */
static err timings_of(vault *v, json_t *rec, incident *inc, playbook **pb, drill_timing *t)
{
    json_t *ij = json_object_get(rec, "incident_record");
    ENSURE(json_is_object(ij), ERR_NOT_FOUND, "the drill has no incident");
    TRY(load_playbook(v, json_string_value(json_object_get(rec, "playbook")), pb));
    TRY(incident_from_json(ij, *pb, inc));
    json_t *al = json_object_get(rec, "alert");
    int64_t acked = json_time(al, "acknowledged_at");
    if (!acked && v->guard && json_is_integer(json_object_get(al, "id"))) {
        json_t *now = NULL;
        if (guard_alert_get(v->guard, json_integer_value(json_object_get(al, "id")), &now) ==
            ERR_OK) {
            json_t *one = json_is_array(json_object_get(now, "alerts"))
                              ? json_array_get(json_object_get(now, "alerts"), 0)
                              : now;
            acked = json_time(one, "acknowledged_at");
        }
        json_decref(now);
    }
    err rc =
        drill_timings(inc, json_time(rec, "injected_at"), json_time(al, "first_seen"), acked, t);
    if (rc != ERR_OK) {
        incident_free(inc);
    }
    return rc;
}

static json_t *timings_json(const incident *inc, const drill_timing *t)
{
    json_t *tj = json_object(), *hj = json_array();
    for (int s = 0; s < DS__COUNT; s++) {
        char k[32];
        snprintf(k, sizeof k, "%s_s", drill_step_name((drill_step)s));
        json_object_set_new(
            tj, k, t->step_us[s] < 0 ? json_null() : json_real((double)t->step_us[s] / 1e6));
    }
    for (size_t i = 0; i < t->nhandoffs; i++) {
        const inc_handoff *h = &t->handoff[i];
        json_array_append_new(hj, json_pack("{s:s,s:s,s:s,s:s,s:f}", "from",
                                            inc->pb.task[h->from_task].id, "from_team",
                                            pb_team_name(inc->pb.task[h->from_task].team), "to",
                                            inc->pb.task[h->to_task].id, "to_team",
                                            pb_team_name(inc->pb.task[h->to_task].team), "wait_s",
                                            (double)h->wait_us / 1e6));
    }
    return json_pack("{s:o,s:o}", "timings", tj, "handoffs", hj);
}

static json_t *summary(vault *v, json_t *rec)
{
    json_t *o = json_object();
    static const char *const keep[] = {"id",          "incident",    "playbook", "state",
                                       "started_by",  "account",     "address",  "started_at",
                                       "injected_at", "containment", "failure"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *x = json_object_get(rec, keep[i]);
        if (x) {
            json_object_set(o, keep[i], x);
        }
    }
    json_object_set_new(o, "drill", json_true());
    json_t *al = json_object_get(rec, "alert");
    if (json_is_object(al)) {
        json_object_set_new(o, "alert",
                            json_pack("{s:O,s:O}", "id", json_object_get(al, "id"), "rule",
                                      json_object_get(al, "rule")));
    }
    incident inc;
    playbook *pb = NULL;
    drill_timing t;
    if (timings_of(v, rec, &inc, &pb, &t) == ERR_OK) {
        json_t *tj = timings_json(&inc, &t);
        json_object_update(o, tj);
        json_decref(tj);
        json_object_set_new(o, "phase", json_string(inc_phase_name(inc.phase)));
        incident_free(&inc);
    } else {
        json_object_set_new(o, "timings", json_object());
        json_object_set_new(o, "handoffs", json_array());
    }
    playbook_free(pb);
    json_t *sc = json_object_get(rec, "scope");
    json_t *counts = json_object_get(sc, "counts");
    if (counts) {
        json_object_set_new(o, "scope",
                            json_pack("{s:O,s:O}", "customers",
                                      json_object_get(counts, "customers"), "honeytokens",
                                      json_object_get(sc, "honeytokens")));
    }
    return o;
}

err door_drills_list(vault *v, const actor *a, json_t **out)
{
    TRY(need_reader(v, a, "drill.list"));
    TRY(audit_read(v, a, "drill.list", NULL));
    json_t *ids = NULL;
    pthread_mutex_lock(&g_mu);
    err rc = record_ids(v, &ids);
    json_t *arr = json_array();
    size_t i;
    json_t *idj;
    json_array_foreach(ids, i, idj)
    {
        json_t *rec = NULL;
        if (rc == ERR_OK && record_load(v, json_string_value(idj), &rec) == ERR_OK) {
            json_array_append_new(arr, summary(v, rec));
        }
        json_decref(rec);
    }
    pthread_mutex_unlock(&g_mu);
    json_decref(ids);
    if (rc != ERR_OK) {
        json_decref(arr);
        return rc;
    }
    *out = json_pack("{s:o}", "drills", arr);
    return ERR_OK;
}

err door_drill_get(vault *v, const actor *a, const char *id, json_t **out)
{
    TRY(need_reader(v, a, "drill.get"));
    char what[64];
    snprintf(what, sizeof what, "drill=%.40s", id ? id : "");
    TRY(audit_read(v, a, "drill.get", what));
    json_t *rec = NULL;
    pthread_mutex_lock(&g_mu);
    err rc = record_load(v, id, &rec);
    pthread_mutex_unlock(&g_mu);
    TRY(rc);
    /* The whole record, with the timings as they are now. */
    json_t *s = summary(v, rec);
    static const char *const add[] = {"drill", "timings", "handoffs", "phase"};
    for (size_t i = 0; i < sizeof add / sizeof add[0]; i++) {
        json_t *x = json_object_get(s, add[i]);
        if (x) {
            json_object_set(rec, add[i], x);
        }
    }
    json_decref(s);
    *out = rec;
    return ERR_OK;
}

err door_drill_report(vault *v, const actor *a, const char *id, const char *lang, bool pdf,
                      buf *out)
{
    pb_lang l;
    if (!lang || strcmp(lang, "zh-CN") == 0) {
        l = PB_ZH;
    } else if (strcmp(lang, "en") == 0) {
        l = PB_EN;
    } else {
        BAIL(ERR_INPUT, "lang must be zh-CN or en");
    }
    TRY(need_reader(v, a, "drill.report"));
    char what[96];
    snprintf(what, sizeof what, "drill=%.40s lang=%s format=%s", id ? id : "", pb_lang_name(l),
             pdf ? "pdf" : "text");
    TRY(audit_read(v, a, "drill.report", what));
    json_t *rec = NULL, *ids = NULL;
    incident inc;
    playbook *pb = NULL;
    drill_timing t, *earlier = NULL;
    size_t nearlier = 0;
    bool have = false;
    buf text;
    buf_init(&text, 1 << 20);
    err rc = ERR_OK;
    pthread_mutex_lock(&g_mu);
    rc = record_load(v, id, &rec);
    if (rc == ERR_OK) {
        rc = record_ids(v, &ids);
    }
    pthread_mutex_unlock(&g_mu);
    GUARD(rc);
    GUARD(timings_of(v, rec, &inc, &pb, &t));
    have = true;
    /* The drills before this one (oldest first) that have timings. */
    earlier = calloc(json_array_size(ids) + 1, sizeof *earlier);
    CHECK(earlier != NULL, ERR_INTERNAL, "out of memory");
    size_t i;
    json_t *idj;
    json_array_foreach(ids, i, idj)
    {
        const char *other = json_string_value(idj);
        if (strcmp(other, id) == 0) {
            break;
        }
        json_t *orec = NULL;
        incident oinc;
        playbook *opb = NULL;
        pthread_mutex_lock(&g_mu);
        err le = record_load(v, other, &orec);
        pthread_mutex_unlock(&g_mu);
        if (le == ERR_OK && timings_of(v, orec, &oinc, &opb, &earlier[nearlier]) == ERR_OK) {
            nearlier++;
            incident_free(&oinc);
        }
        playbook_free(opb);
        json_decref(orec);
    }
    GUARD(drill_report(&inc, &t, earlier, nearlier, l, &text));
    /* What the drill read, from the scope (ids of the synthetic pool only). */
    json_t *counts = json_object_get(json_object_get(rec, "scope"), "counts");
    GUARD(
        buf_appendf(&text,
                    l == PB_ZH ? "\n演练账户 %s 自 %s 读取：客户 %lld 人，蜜罐 %zu 个；"
                                 "来源地址 %s 被封禁，账户被锁定并停用。\n"
                               : "\nThe drill account %s read from %s: %lld customers, %zu "
                                 "honeytokens; the address %s was blocked, the account "
                                 "locked and disabled.\n",
                    json_string_value(json_object_get(rec, "account")),
                    json_string_value(json_object_get(rec, "address")),
                    (long long)json_integer_value(json_object_get(counts, "customers")),
                    json_array_size(json_object_get(json_object_get(rec, "scope"), "honeytokens")),
                    json_string_value(json_object_get(rec, "address"))));
    if (pdf) {
        GUARD(buf_append_byte(&text, 0));
        char title[96];
        snprintf(title, sizeof title, "%s %s",
                 l == PB_ZH ? "演练事后评估报告" : "After-action report, drill", id);
        pdf_doc d = {.title = title,
                     .lang = pb_lang_name(l),
                     .text = (const char *)text.p,
                     .created_us = json_time(rec, "started_at")};
        GUARD(pdf_render(&d, out));
    } else {
        GUARD(buf_append(out, text.p, text.len));
    }
out:
    if (have) {
        incident_free(&inc);
    }
    free(earlier);
    buf_free(&text);
    playbook_free(pb);
    json_decref(ids);
    json_decref(rec);
    return rc;
}

/* ---- the people's part of a drill ---- */

static err update_incident(vault *v, const actor *a, const char *id, const char *what,
                           err (*fn)(incident *inc, const inc_actor *who, const void *arg,
                                     int64_t now),
                           const void *arg, const char *action)
{
    json_t *rec = NULL;
    playbook *pb = NULL;
    incident inc;
    bool have = false;
    err rc = ERR_OK;
    pthread_mutex_lock(&g_mu);
    GUARD(record_load(v, id, &rec));
    json_t *ij = json_object_get(rec, "incident_record");
    CHECK(json_is_object(ij), ERR_CONFLICT, "the drill has no incident");
    GUARD(load_playbook(v, json_string_value(json_object_get(rec, "playbook")), &pb));
    GUARD(incident_from_json(ij, pb, &inc));
    have = true;
    inc_actor who = {.name = a->username, .role = (int)a->role};
    err fe = fn(&inc, &who, arg, clock_now_us());
    audit_entry e;
    door_entry(&e, a, action, fe == ERR_OK ? "allow" : "deny", "playbook");
    char reason[200];
    snprintf(reason, sizeof reason, "drill=%s %s", id, what);
    e.reason = reason;
    GUARD(audit_append(v->au, &e, NULL));
    GUARD(fe);
    json_object_set_new(rec, "incident_record", incident_to_json(&inc));
    GUARD(record_save(v, id, rec));
out:
    pthread_mutex_unlock(&g_mu);
    if (have) {
        incident_free(&inc);
    }
    playbook_free(pb);
    json_decref(rec);
    return rc;
}

typedef struct task_arg {
    const char *task, *note;
    bool done;
} task_arg;

static err do_task(incident *inc, const inc_actor *who, const void *arg, int64_t now)
{
    const task_arg *t = arg;
    return t->done ? incident_task_done(inc, t->task, who, t->note, now)
                   : incident_task_start(inc, t->task, who, now);
}

err door_drill_task(vault *v, const actor *a, const char *id, const char *task, bool done,
                    const char *note)
{
    ENSURE(!a->via_key && !(a->session_flags & SESSION_MFA_PENDING), ERR_DENIED,
           "drill tasks are for people");
    ENSURE(task && task[0] && strlen(task) <= PLAYBOOK_ID_MAX, ERR_INPUT, "a task is required");
    task_arg t = {task, note, done};
    char what[96];
    snprintf(what, sizeof what, "task=%s %s", task, done ? "done" : "started");
    return update_incident(v, a, id, what, do_task, &t, "drill.task");
}

static err do_filed(incident *inc, const inc_actor *who, const void *arg, int64_t now)
{
    return incident_filed(inc, *(const inc_report *)arg, who, now);
}

err door_drill_filed(vault *v, const actor *a, const char *id, const char *report)
{
    ENSURE(!a->via_key && !(a->session_flags & SESSION_MFA_PENDING), ERR_DENIED,
           "reports are filed by people");
    inc_report r;
    TRY(inc_report_parse(report ? report : "", &r));
    if (a->role != ROLE_LEGAL) {
        return door_deny(v, a, "drill.filed", NULL, NULL, "playbook", ERR_DENIED,
                         "reports are filed by legal");
    }
    char what[64];
    snprintf(what, sizeof what, "report=%s", inc_report_name(r));
    return update_incident(v, a, id, what, do_filed, &r, "drill.filed");
}
