/*
 * race_door_test.c - concurrent writers on one customer, in process: updates of
 * different fields from many threads all survive; and the interleavings that a
 * rotation can meet are played out step by step (a writer that read the row
 * before a rotation and writes after it), so that each one is met every run.
 */
#include <limits.h>
#include <pthread.h>

#include "core/clock.h"
#include "core/etag.h"
#include "door/door_int.h" /* white-box: the vault's insides */
#include "test.h"

static vault *V;
static actor ST, AD;

static void mk_actor(actor *a, const char *user, role r, const char *dept)
{
    memset(a, 0, sizeof *a);
    snprintf(a->username, sizeof a->username, "%s", user);
    snprintf(a->department, sizeof a->department, "%s", dept);
    snprintf(a->source, sizeof a->source, "127.0.0.1");
    snprintf(a->request_id, sizeof a->request_id, "t");
    a->role = r;
    a->training_until_us = clock_now_us() + (int64_t)86400 * 1000000;
}

TEST(t_setup)
{
    char *d = test_tmpdir("race-door");
    char dir[700], key[700];
    snprintf(dir, sizeof dir, "%s/vault", d);
    snprintf(key, sizeof key, "%s/key", d);
    free(d);
    EXPECT_OK(key_file_generate(key));
    vault_key src = {NULL, 0, key};
    vault_init_opts o = {&src, VAULT_KDF_FAST, NULL, NULL};
    EXPECT_OK(vault_init(dir, &o));
    EXPECT_OK(vault_open(dir, &src, &V));
    mk_actor(&ST, "steward1", ROLE_DATA_STEWARD, "beijing");
    mk_actor(&AD, "admin", ROLE_ADMIN, "it");
}

static err set_str(record *r, int idx, const char *v)
{
    return record_set(r, idx, v, strlen(v));
}

static void new_customer(const char *name, char id[ID_LEN + 1])
{
    record r;
    record_init(&r, REC_CUSTOMER);
    EXPECT_OK(set_str(&r, CF_NAME, name));
    EXPECT_OK(set_str(&r, CF_PHONE, "13812345678"));
    EXPECT_OK(door_customer_create(V, &ST, &r, id));
    record_free(&r);
}

static const char *field_of(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ---- many threads, one customer, different fields ---- */

#define THREADS 6
static const int FIELD[THREADS] = {CF_PHONE,  CF_EMAIL,       CF_ADDRESS,
                                   CF_WECHAT, CF_SALESPERSON, CF_NOTES};

static void value_of(int t, int round, char *out, size_t max)
{
    switch (t) {
    case 0:
        snprintf(out, max, "1391%03d%04d", round, t);
        break;
    case 1:
        snprintf(out, max, "r%d@example.org", round);
        break;
    case 2:
        snprintf(out, max, "北京市东城区第%d号", round);
        break;
    case 3:
        snprintf(out, max, "wx_%d", round);
        break;
    case 4:
        snprintf(out, max, "seller_%d", round);
        break;
    default:
        snprintf(out, max, "note %d", round);
        break;
    }
}

typedef struct job {
    pthread_barrier_t *go;
    const char *id;
    int t, round;
    err result;
} job;

static void *updater(void *p)
{
    job *j = p;
    record r;
    record_init(&r, REC_CUSTOMER);
    char v[128];
    value_of(j->t, j->round, v, sizeof v);
    bool clear[CF__COUNT] = {false};
    j->result = set_str(&r, FIELD[j->t], v);
    pthread_barrier_wait(j->go);
    if (j->result == ERR_OK) {
        j->result = door_customer_update(V, &ST, j->id, &r, clear, NULL);
    }
    record_free(&r);
    return NULL;
}

TEST(t_concurrent_updates_all_survive)
{
    char id[ID_LEN + 1];
    new_customer("并发甲", id);
    enum { ROUNDS = 30 };
    int lost = 0, failed = 0;
    for (int round = 0; round < ROUNDS; round++) {
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, THREADS);
        job jobs[THREADS];
        pthread_t th[THREADS];
        for (int t = 0; t < THREADS; t++) {
            jobs[t] = (job){&go, id, t, round, ERR_OK};
            pthread_create(&th[t], NULL, updater, &jobs[t]);
        }
        for (int t = 0; t < THREADS; t++) {
            pthread_join(th[t], NULL);
            failed += jobs[t].result != ERR_OK;
        }
        pthread_barrier_destroy(&go);
        json_t *o = NULL;
        EXPECT_OK(door_customer_get(V, &ST, id, &o));
        for (int t = 0; t < THREADS; t++) {
            char v[128];
            value_of(t, round, v, sizeof v);
            const char *got = field_of(o, model_field(REC_CUSTOMER, FIELD[t])->name);
            lost += !got || strcmp(got, v) != 0;
        }
        json_decref(o);
    }
    printf("    %d rounds of %d concurrent updates: %d failed, %d lost\n", ROUNDS, THREADS, failed,
           lost);
    EXPECT_INT(failed, 0);
    EXPECT_INT(lost, 0);
}

/* ---- If-Match at the door ---- */

TEST(t_if_match)
{
    char id[ID_LEN + 1];
    new_customer("条件乙", id);
    json_t *o = NULL;
    uint64_t ver = 0, after = 0;
    EXPECT_OK(door_customer_read(V, &ST, id, &o, &ver));
    json_decref(o);
    EXPECT(ver >= 1);
    record r;
    record_init(&r, REC_CUSTOMER);
    bool clear[CF__COUNT] = {false};
    EXPECT_OK(set_str(&r, CF_NOTES, "first"));
    EXPECT_OK(door_customer_change(V, &ST, id, &r, clear, ver, NULL, &after));
    EXPECT_INT(after, ver + 1);
    record_free(&r);
    record_init(&r, REC_CUSTOMER);
    EXPECT_OK(set_str(&r, CF_NOTES, "stale"));
    EXPECT_ERR(door_customer_change(V, &ST, id, &r, clear, ver, NULL, NULL), ERR_PRECONDITION);
    record_free(&r);
    EXPECT_ERR(door_customer_rotate_key_if(V, &ST, id, ver, NULL), ERR_PRECONDITION);
    EXPECT_ERR(door_customer_erase_if(V, &ST, id, "x", ver), ERR_PRECONDITION);
    EXPECT_OK(door_customer_read(V, &ST, id, &o, &ver));
    EXPECT_STR(field_of(o, "notes"), "first");
    json_decref(o);
    EXPECT_OK(door_customer_rotate_key_if(V, &ST, id, ver, &after));
    EXPECT_INT(after, ver + 1);
    EXPECT_OK(door_customer_erase_if(V, &ST, id, "x", after));
}

static uint64_t im(const char *h)
{
    return etag_if_match(h, strlen(h));
}

TEST(t_etag_text)
{
    char t[ETAG_MAX];
    etag_format(12, t);
    EXPECT_STR(t, "\"12\"");
    EXPECT_INT(im(t), 12);
    EXPECT_INT(etag_if_match(NULL, 0), 0);
    EXPECT_INT(im("*"), 0);
    EXPECT_INT(im("  \"7\"\t"), 7);
    EXPECT(im("W/\"12\"") == ETAG_NONE);
    EXPECT(im("\"1\", \"2\"") == ETAG_NONE);
    EXPECT(im("\"\"") == ETAG_NONE);
    EXPECT(im("\"0\"") == ETAG_NONE);
    EXPECT(im("\"12") == ETAG_NONE);
    EXPECT(im("12") == ETAG_NONE);
    EXPECT(im("\"99999999999999999999\"") == ETAG_NONE);
    EXPECT(etag_if_match("\"12\"", 3) == ETAG_NONE); /* only the bytes given */
}

/* ---- a writer that read the row before a rotation and writes after it ---- */

TEST(t_stale_write_after_rotate_key)
{
    char id[ID_LEN + 1];
    new_customer("轮换丙", id);
    record t;
    record_init(&t, REC_TRANSACTION);
    EXPECT_OK(set_str(&t, TF_DATE, "2026-03-01"));
    EXPECT_OK(set_str(&t, TF_DESCRIPTION, "清 粉彩碗"));
    EXPECT_OK(set_str(&t, TF_PRICE, "12800"));
    char tid[ID_LEN + 1];
    EXPECT_OK(door_record_create(V, &ST, REC_TRANSACTION, id, &t, tid));
    /* The writer's view, and its data key, from before the rotation. */
    sealed_customer stale;
    sealed_customer_init(&stale);
    EXPECT_OK(store_customer_get(V->st, id, &stale));
    uint8_t *old_dek = secret_alloc(KEY_LEN);
    EXPECT_OK(keyring_dek_unwrap(V->kr, id, buf_slice(&stale.wrapped_dek), old_dek));
    EXPECT_OK(door_customer_rotate_key(V, &ST, id));
    /* A record sealed under the old data key is refused... */
    sealed_record r;
    sealed_record_init(&r, REC_TRANSACTION);
    id_new(r.id, "txn");
    memcpy(r.customer_id, id, sizeof r.customer_id);
    r.created_us = clock_now_us();
    r.dek_version = stale.dek_version;
    char owner[2 * ID_LEN + 2];
    snprintf(owner, sizeof owner, "%s/%s", id, r.id);
    EXPECT_OK(seal(old_dek, r.dek_version, owner, "description", slice_cstr("stale"),
                   &r.field[TF_DESCRIPTION]));
    EXPECT(store_record_insert(V->st, &r) != ERR_OK);
    sealed_record_free(&r);
    /* ...and so is the whole row written back with the old key. */
    EXPECT(store_customer_update(V->st, &stale) != ERR_OK);
    secret_free(old_dek);
    sealed_customer_free(&stale);
    json_t *o = NULL;
    EXPECT_OK(door_customer_get(V, &ST, id, &o));
    json_decref(o);
    o = NULL;
    EXPECT_OK(door_record_list(V, &ST, REC_TRANSACTION, id, NULL, 50, &o));
    EXPECT_INT(json_array_size(json_object_get(o, "transactions")), 1);
    json_decref(o);
    record_free(&t);
}

TEST(t_stale_write_after_kek_rotation)
{
    char id[ID_LEN + 1];
    new_customer("主钥丁", id);
    sealed_customer stale;
    sealed_customer_init(&stale);
    EXPECT_OK(store_customer_get(V->st, id, &stale));
    uint32_t nv = 0;
    size_t n = 0;
    EXPECT_OK(door_rotate_kek(V, &AD, &nv, &n));
    /* The row written back with its data key wrapped under the retired version: refused. */
    EXPECT(store_customer_update(V->st, &stale) != ERR_OK);
    /* A new row with a key wrapped under the retired version: refused too. */
    id_new(stale.id, "cus");
    stale.version = 0;
    EXPECT(store_customer_insert(V->st, &stale) != ERR_OK);
    sealed_customer_free(&stale);
    json_t *o = NULL;
    EXPECT_OK(door_customer_get(V, &ST, id, &o));
    json_decref(o);
}

/* ---- a row written under the old version after the sweep, before the retirement ---- */

typedef struct wrap_ctx {
    uint8_t *dek;
} wrap_ctx;

static err rewrap_active(void *ctx, const char *id, buf *w, uint32_t *v)
{
    wrap_ctx *c = ctx;
    TRY(keyring_dek_unwrap(V->kr, id, buf_slice(w), c->dek));
    buf_reset(w);
    err e = keyring_dek_wrap(V->kr, id, c->dek, w);
    mem_wipe(c->dek, KEY_LEN);
    TRY(e);
    return envelope_key_version(buf_slice(w), v);
}

TEST(t_straggler_rewrapped_at_retirement)
{
    char id[ID_LEN + 1];
    new_customer("迟到庚", id);
    uint32_t old = keyring_kek_version(V->kr), nv = 0;
    EXPECT_OK(keyring_add_kek_pending(V->kr, 0, &nv));
    EXPECT_INT(keyring_kek_version(V->kr), old); /* pending: not active yet */
    EXPECT_OK(keyring_activate_kek(V->kr, nv));
    /* A server that has not seen the new version yet writes a key wrapped under the old one. */
    sealed_customer c;
    sealed_customer_init(&c);
    EXPECT_OK(store_customer_get(V->st, id, &c));
    uint8_t *dek = secret_alloc(KEY_LEN);
    EXPECT_OK(keyring_dek_unwrap(V->kr, id, buf_slice(&c.wrapped_dek), dek));
    buf_reset(&c.wrapped_dek);
    EXPECT_OK(keyring_dek_wrap_version(V->kr, old, id, dek, &c.wrapped_dek));
    c.kek_version = old;
    EXPECT_OK(store_customer_update(V->st, &c));
    /* The column lying about the envelope's version is refused. */
    c.kek_version = nv;
    c.version = 0;
    EXPECT_ERR(store_customer_update(V->st, &c), ERR_CONFLICT);
    int64_t left = 0;
    EXPECT_OK(store_customer_count_kek(V->st, old, &left));
    EXPECT(left >= 1);
    wrap_ctx ctx = {dek};
    size_t done = 0;
    EXPECT_OK(store_customer_retire_kek(V->st, nv, rewrap_active, &ctx, &done));
    EXPECT(done >= 1);
    EXPECT_OK(store_customer_count_kek(V->st, old, &left));
    EXPECT_INT(left, 0);
    EXPECT_OK(keyring_retire_kek(V->kr, old));
    json_t *o = NULL;
    EXPECT_OK(door_customer_get(V, &ST, id, &o));
    json_decref(o);
    secret_free(dek);
    sealed_customer_free(&c);
}

/* ---- a rotation that fails leaves the keyring as it was ---- */

TEST(t_failed_kek_rotation_changes_nothing)
{
    char a[ID_LEN + 1], b[ID_LEN + 1];
    new_customer("钥匙戊", a);
    new_customer("钥匙己", b);
    sealed_customer ca, cb;
    sealed_customer_init(&ca);
    sealed_customer_init(&cb);
    EXPECT_OK(store_customer_get(V->st, a, &ca));
    EXPECT_OK(store_customer_get(V->st, b, &cb));
    EXPECT_OK(buf_set(&cb.wrapped_dek, ca.wrapped_dek.p, ca.wrapped_dek.len));
    EXPECT_OK(store_customer_update(V->st, &cb)); /* b's key no longer opens */
    uint32_t before[8], after[8];
    size_t nb = keyring_kek_versions(V->kr, before, 8);
    uint32_t active = keyring_kek_version(V->kr);
    uint32_t nv = 0;
    size_t n = 0;
    for (int i = 0; i < 2; i++) {
        EXPECT_ERR(door_rotate_kek(V, &AD, &nv, &n), ERR_CRYPTO);
        EXPECT(strstr(err_message(), "failed their integrity check") != NULL);
        EXPECT_INT(keyring_kek_versions(V->kr, after, 8), nb);
        EXPECT(memcmp(before, after, nb * sizeof before[0]) == 0);
        EXPECT_INT(keyring_kek_version(V->kr), active);
    }
    EXPECT_OK(door_customer_erase(V, &ST, b, "damaged"));
    EXPECT_OK(door_rotate_kek(V, &AD, &nv, &n));
    EXPECT_INT(nv, active + 1);
    EXPECT_INT(keyring_kek_versions(V->kr, after, 8), 1);
    json_t *o = NULL;
    EXPECT_OK(door_customer_get(V, &ST, a, &o));
    json_decref(o);
    sealed_customer_free(&ca);
    sealed_customer_free(&cb);
}

/* ---- an erasure refused by If-Match is not journalled ---- */

typedef struct erase_job {
    pthread_barrier_t *go;
    const char *id;
    uint64_t ver;
    err result;
} erase_job;

static void *eraser(void *p)
{
    erase_job *j = p;
    pthread_barrier_wait(j->go);
    j->result = door_customer_erase_if(V, &ST, j->id, "race", j->ver);
    return NULL;
}

static bool journal_names(const char *id)
{
    char p[PATH_MAX];
    vault_erasure_journal(V->dir, &V->cfg, p, sizeof p);
    FILE *f = fopen(p, "r");
    if (f == NULL) {
        return false;
    }
    char line[256];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        found = strncmp(line, id, strlen(id)) == 0 && line[strlen(id)] == ' ';
    }
    fclose(f);
    return found;
}

/* A DELETE with If-Match that meets a PATCH committed meanwhile answers 412 and erases
 * nothing: the journal must not name the customer, or the next restore would erase it. */
TEST(t_refused_erase_not_journalled)
{
    int refused = 0;
    for (int round = 0; round < 40; round++) {
        char id[ID_LEN + 1];
        new_customer("抹除庚", id);
        json_t *o = NULL;
        uint64_t ver = 0;
        EXPECT_OK(door_customer_read(V, &ST, id, &o, &ver));
        json_decref(o);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        job u = {&go, id, 5, round, ERR_OK};
        erase_job e = {&go, id, ver, ERR_OK};
        pthread_t tu, te;
        pthread_create(&tu, NULL, updater, &u);
        pthread_create(&te, NULL, eraser, &e);
        pthread_join(tu, NULL);
        pthread_join(te, NULL);
        pthread_barrier_destroy(&go);
        if (e.result == ERR_PRECONDITION) {
            refused++;
            EXPECT(!journal_names(id));
            EXPECT_OK(door_customer_read(V, &ST, id, &o, NULL));
            json_decref(o);
        } else {
            EXPECT_OK(e.result);
            EXPECT(journal_names(id));
        }
    }
    fprintf(stderr, "  erasures refused by If-Match: %d of 40\n", refused);
}

int main(void)
{
    test_init();
    RUN(t_setup);
    RUN(t_concurrent_updates_all_survive);
    RUN(t_if_match);
    RUN(t_etag_text);
    RUN(t_stale_write_after_rotate_key);
    RUN(t_stale_write_after_kek_rotation);
    RUN(t_straggler_rewrapped_at_retirement);
    RUN(t_failed_kek_rotation_changes_nothing);
    RUN(t_refused_erase_not_journalled);
    vault_close(V);
    return test_done("race_door_test");
}
