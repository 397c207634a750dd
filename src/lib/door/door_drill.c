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
#include "door/door_incident.h"
#include "door_int.h"
#include "incident/deliver.h"
#include "incident/drill.h"
#include "incident/incident.h"
#include "incident/pdf.h"
#include "incident/playbook.h"
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
    rec = json_pack("{s:s,s:n,s:s,s:s,s:s,s:s,s:s,s:s,s:[s,s]}", "id", out->id, "incident",
                    "playbook", pb->id, "state", "running", "started_by", a->username, "account",
                    out->account, "address", address, "started_at", ts, "honeytokens",
                    out->honeytokens[0], out->honeytokens[1]);
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

static void release(const char *id)
{
    pthread_mutex_lock(&g_mu);
    if (strcmp(g_running, id) == 0) {
        g_running[0] = '\0';
    }
    pthread_mutex_unlock(&g_mu);
}

static err drill_disable_fn(vault *v, store *st, account *acc, void *ctx)
{
    (void)v;
    (void)st;
    (void)ctx;
    acc->disabled = true;
    return ERR_OK;
}

/* The drill account is disabled (its sessions are gone with the guard's revoke; any left are
 * revoked here too). */
static err disable_account(vault *v, const char *drill, const char *username)
{
    account acc;
    memset(&acc, 0, sizeof acc);
    TRY(identity_account_by_name(&v->id, username, &acc));
    identity_account_wipe(&acc);
    actor sys;
    actor_system(&sys, "drill");
    audit_entry e;
    door_entry(&e, &sys, "drill.account", "allow", "drill");
    char what[160];
    snprintf(what, sizeof what, "drill=%s account=%s disabled", drill, username);
    e.reason = what;
    err rc = audit_append(v->au, &e, NULL);
    if (rc == ERR_OK) {
        rc = door_account_rmw(v, acc.id, NULL, drill_disable_fn, NULL, NULL);
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
    char lock_rule[64] = "", block_rule[64] = "", incident_id[ID_LEN + 1] = "";
    err rc = ERR_OK;
    actor sys;
    actor_system(&sys, "drill");
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
    /* When the guard acted, from its audit entries (the sanctions carry the finding's time). */
    char subj[128];
    snprintf(subj, sizeof subj, "account:%s", run->account);
    int64_t t;
    if (lock_us && (t = acted_at(v, "guard.lock", subj, run->started_us)) > 0) {
        lock_us = t;
    }
    revoke_us = acted_at(v, "guard.revoke", subj, run->started_us);
    snprintf(subj, sizeof subj, "address:%s", run->address);
    if (block_us && (t = acted_at(v, "guard.block", subj, run->started_us)) > 0) {
        block_us = t;
    }
    char t1[40], t2[40], t3[40], t4[40], t5[40];
    clock_rfc3339(first_honeytoken_us, t1);
    clock_rfc3339(lock_us, t2);
    clock_rfc3339(block_us, t3);
    clock_rfc3339(revoke_us, t5);
    int64_t alert_id = alert ? (int64_t)json_integer_value(json_object_get(alert, "id")) : 0;
    if (alert_id > 0) {
        /* The drill incident, opened from the guard's alert (aware at its first sighting) and
         * marked as a drill from its first moment. */
        door_incident_open_opts o = {.playbook =
                                         json_string_value(json_object_get(rec, "playbook")),
                                     .alert = alert_id,
                                     .drill = true,
                                     .note = "drill: a synthetic breach injected by the drill "
                                             "account; every customer read is synthetic"};
        GUARD(door_incident_open(v, &sys, &o, &inc_j));
        snprintf(incident_id, sizeof incident_id, "%s",
                 json_string_value(json_object_get(inc_j, "id")) ?: "");
        char note[400];
        snprintf(note, sizeof note,
                 "drill: the guard contained it automatically: %s locked (rule %s) at %s, its "
                 "sessions revoked at %s, address %s blocked (rule %s) at %s",
                 run->account, lock_rule[0] ? lock_rule : "-", lock_us ? t2 : "-",
                 revoke_us ? t5 : "-", run->address, block_rule[0] ? block_rule : "-",
                 block_us ? t3 : "-");
        json_t *ignored = NULL;
        GUARD(door_incident_note(v, &sys, incident_id, note, &ignored));
        json_decref(ignored);
    }
    GUARD(disable_account(v, run->id, run->account));
    clock_rfc3339(clock_now_us(), t4);
    if (incident_id[0]) {
        /* The scope of the drill account since the drill began, stored with the incident. */
        door_scope_query q = {.actors = {run->account}, .nactors = 1, .nwindows = 1};
        q.from_us[0] = run->started_us;
        q.to_us[0] = 0;
        GUARD(door_incident_scope_compute(v, &sys, incident_id, &q, &scope_j));
    }
    json_object_set(rec, "requests", requests ? requests : json_array());
    bool ok = incident_id[0] && lock_us && block_us;
    json_object_set_new(rec, "state", json_string(ok ? "contained" : "failed"));
    if (!ok) {
        json_object_set_new(rec, "failure",
                            json_string(!alert     ? "the guard raised no honeytoken alert in time"
                                        : !lock_us ? "the guard did not lock the drill account"
                                                   : "the guard did not block the drill address"));
    }
    json_object_set_new(rec, "incident", incident_id[0] ? json_string(incident_id) : json_null());
    json_object_set_new(rec, "injected_at", first_honeytoken_us ? json_string(t1) : json_null());
    json_object_set_new(rec, "alert", alert ? json_incref(alert) : json_null());
    json_object_set_new(rec, "containment",
                        json_pack("{s:o,s:o,s:s,s:o,s:s,s:s}", "locked_at",
                                  lock_us ? json_string(t2) : json_null(), "revoked_at",
                                  revoke_us ? json_string(t5) : json_null(), "lock_rule", lock_rule,
                                  "blocked_at", block_us ? json_string(t3) : json_null(),
                                  "block_rule", block_rule, "account_disabled_at", t4));
    json_object_set_new(rec, "scope", scope_j ? scope_j : json_null());
    scope_j = NULL;

    audit_entry e;
    door_entry(&e, &sys, "drill.finish", "allow", "drill");
    char what[200];
    snprintf(what, sizeof what, "drill=%s incident=%s alert=%lld contained=%s", run->id,
             incident_id[0] ? incident_id : "none", (long long)alert_id, ok ? "yes" : "no");
    e.reason = what;
    GUARD(audit_append(v->au, &e, NULL));
    pthread_mutex_lock(&g_mu);
    rc = record_save(v, run->id, rec);
    pthread_mutex_unlock(&g_mu);
out:
    if (rc != ERR_OK) {
        log_warn("drill", "%s: could not finish: %s", run->id, err_message());
        err_clear();
        if (disable_account(v, run->id, run->account) != ERR_OK) {
            log_warn("drill", "%s: the drill account could not be disabled", run->id);
        }
    }
    release(run->id);
    json_decref(inc_j);
    json_decref(scope_j);
    json_decref(alert);
    json_decref(rec);
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

/* The drill's incident as stored now and its timings: the people's steps from the incident's
 * own timeline, the acknowledgement from the guard's alert as it is now, and the decision and
 * the action from the guard's automatic containment when it came first. ERR_NOT_FOUND when
 * the drill has no incident (it failed). */
static err timings_of(vault *v, json_t *rec, incident *inc, drill_timing *t)
{
    const char *iid = json_string_value(json_object_get(rec, "incident"));
    ENSURE(iid && iid[0], ERR_NOT_FOUND, "the drill has no incident");
    TRY(door_incident_value(v, iid, inc));
    json_t *al = json_object_get(rec, "alert");
    int64_t acked = 0;
    if (v->guard && json_is_integer(json_object_get(al, "id"))) {
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
    int64_t alert_us = json_time(al, "first_seen");
    err rc = drill_timings(inc, json_time(rec, "injected_at"), alert_us, acked, t);
    if (rc != ERR_OK) {
        incident_free(inc);
        return rc;
    }
    json_t *c = json_object_get(rec, "containment");
    int64_t lock = json_time(c, "locked_at"), block = json_time(c, "blocked_at");
    int64_t guard_us = lock && block ? (lock < block ? lock : block) : lock ? lock : block;
    if (guard_us && alert_us && guard_us >= alert_us) {
        int64_t g = guard_us - alert_us;
        for (int s = DS_DECIDE; s <= DS_CONTAIN; s++) {
            if (t->step_us[s] < 0 || g < t->step_us[s]) {
                t->step_us[s] = g;
            }
        }
    }
    return ERR_OK;
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
    drill_timing t;
    if (timings_of(v, rec, &inc, &t) == ERR_OK) {
        json_t *tj = timings_json(&inc, &t);
        json_object_update(o, tj);
        json_decref(tj);
        json_object_set_new(o, "phase", json_string(inc_phase_name(inc.phase)));
        incident_free(&inc);
    } else {
        err_clear();
        json_object_set_new(o, "timings", json_object());
        json_object_set_new(o, "handoffs", json_array());
    }
    json_t *sc = json_object_get(rec, "scope");
    if (json_is_object(sc)) {
        json_object_set_new(o, "scope",
                            json_pack("{s:I,s:O}", "customers",
                                      (json_int_t)json_array_size(json_object_get(sc, "customers")),
                                      "honeytokens", json_object_get(sc, "honeytokens")));
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

err door_drill_report(vault *v, const actor *a, const char *id, const char *lang, const char *fmt,
                      buf *out, const char **content_type)
{
    int format = fmt ? notice_format_parse(fmt) : NF_TEXT;
    ENSURE(format >= 0, ERR_INPUT, "format must be text, html or pdf");
    *content_type = notice_format_type((notice_format)format);
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
             format == NF_PDF    ? "pdf"
             : format == NF_HTML ? "html"
                                 : "text");
    TRY(audit_read(v, a, "drill.report", what));
    json_t *rec = NULL, *ids = NULL;
    incident inc;
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
    GUARD(timings_of(v, rec, &inc, &t));
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
        pthread_mutex_lock(&g_mu);
        err le = record_load(v, other, &orec);
        pthread_mutex_unlock(&g_mu);
        if (le == ERR_OK && timings_of(v, orec, &oinc, &earlier[nearlier]) == ERR_OK) {
            nearlier++;
            incident_free(&oinc);
        } else {
            err_clear();
        }
        json_decref(orec);
    }
    GUARD(drill_report(&inc, &t, earlier, nearlier, l, &text));
    /* What the drill read, from the scope (ids of the synthetic pool only). */
    json_t *sc = json_object_get(rec, "scope");
    GUARD(buf_appendf(
        &text,
        l == PB_ZH ? "\n演练账户 %s 从 %s 读取：客户 %zu 人（均为演练部门的合成数据），蜜罐 %zu "
                     "个；防护规则锁定了该账户、撤销其会话并封禁了来源地址，演练结束后账户已停用。"
                     "演练事件：%s。\n"
                   : "\nThe drill account %s read from %s: %zu customers (all synthetic, of the "
                     "drill department), honeytokens: %zu; the guard's rules locked the account, "
                     "revoked its sessions and blocked the address, and the account was disabled "
                     "when the drill ended. Drill incident: %s.\n",
        json_string_value(json_object_get(rec, "account")),
        json_string_value(json_object_get(rec, "address")),
        json_array_size(json_object_get(sc, "customers")),
        json_array_size(json_object_get(sc, "honeytokens")),
        json_string_value(json_object_get(rec, "incident"))));
    if (format == NF_TEXT) {
        GUARD(buf_append(out, text.p, text.len));
    } else {
        GUARD(buf_append_byte(&text, 0));
        char title[96];
        snprintf(title, sizeof title, "%s %s",
                 l == PB_ZH ? "演练事后评估报告" : "After-action report, drill", id);
        GUARD(notice_document((notice_format)format, title, l, (const char *)text.p,
                              json_time(rec, "started_at"), out));
    }
out:
    if (have) {
        incident_free(&inc);
    }
    free(earlier);
    buf_free(&text);
    json_decref(ids);
    json_decref(rec);
    return rc;
}
