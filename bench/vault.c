/*
 * vault.c - the vault's own costs, in process: a plain SQLite point read
 * (baseline) against a vault read (fetch + unwrap the data key + open every
 * field), import throughput, and blind-index search at 10k and 100k customers.
 */
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/mem.h"
#include "door/door_int.h" /* white-box: the vault's insides */
#include "model/demo.h"

static void mkvault(char *dir, size_t max)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, max, "%s/custos-bench-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
}

static actor steward(vault *v)
{
    actor a;
    memset(&a, 0, sizeof a);
    snprintf(a.username, sizeof a.username, "bench-steward");
    snprintf(a.department, sizeof a.department, "beijing");
    snprintf(a.source, sizeof a.source, "127.0.0.1");
    snprintf(a.request_id, sizeof a.request_id, "bench");
    a.role = ROLE_DATA_STEWARD;
    a.training_until_us = INT64_MAX;
    (void)v;
    return a;
}

typedef struct door_job {
    vault *v;
    const char *token;
    char (*ids)[ID_LEN + 1];
    size_t n, rounds, offset;
    bool failed;
} door_job;

static void *door_reads(void *p)
{
    door_job *j = p;
    for (size_t r = 0; r < j->rounds; r++) {
        actor a;
        json_t *out = NULL;
        if (door_authenticate(j->v, j->token, "127.0.0.1", "bench", &a) != ERR_OK ||
            door_customer_get(j->v, &a, j->ids[(j->offset + r) % j->n], &out) != ERR_OK) {
            j->failed = true;
            return NULL;
        }
        json_decref(out);
    }
    return NULL;
}

/* The full door per request, login excluded: the session token is resolved (account,
 * training, break-glass), the policy decides, the read is made durable in the audit log,
 * then the customer is opened and rendered as JSON. */
static double door_read_rate(vault *v, char (*ids)[ID_LEN + 1], size_t n, int threads)
{
    const char *pw = "bench-door-password-7";
    actor sys;
    actor_system(&sys, "bench");
    account acc;
    if (store_account_by_name(v->st, "bench-reader", &acc) != ERR_OK) {
        if (door_account_create(v, &sys, "bench-reader", pw, ROLE_DATA_STEWARD, "beijing") !=
                ERR_OK ||
            store_account_by_name(v->st, "bench-reader", &acc) != ERR_OK) {
            printf("cannot create the bench account: %s\n", err_message());
            exit(1);
        }
        acc.training_until_us = INT64_MAX;
        if (store_account_update(v->st, &acc) != ERR_OK) {
            exit(1);
        }
    }
    v->cfg.totp = VAULT_TOTP_OFF; /* the bench signs in with a password only */
    login_request rq = {
        .username = "bench-reader", .password = pw, .source = "127.0.0.1", .request_id = "bench"};
    login_result lr;
    if (door_login(v, &rq, &lr) != ERR_OK) {
        printf("bench login failed: %s\n", err_message());
        exit(1);
    }
    size_t rounds = threads == 1 ? 3000 : 1500;
    pthread_t th[64];
    door_job jobs[64];
    double t0 = bench_secs();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (door_job){v, lr.token, ids, n, rounds, (size_t)t * 997, false};
        pthread_create(&th[t], NULL, door_reads, &jobs[t]);
    }
    bool failed = false;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        failed = failed || jobs[t].failed;
    }
    double dt = bench_secs() - t0;
    if (failed) {
        printf("door read failed: %s\n", err_message());
        exit(1);
    }
    char label[96];
    snprintf(label, sizeof label, "full door read (session, policy, audit), %d thread%s", threads,
             threads == 1 ? "" : "s");
    bench_report(label, (double)rounds * threads, dt);
    return (double)rounds * threads / dt;
}

/* n demo customers as an import batch (the generator's records, validated). */
static void demo_batch(import_batch *b, size_t n, uint64_t seed)
{
    demo_rng rng;
    demo_rng_seed(&rng, seed);
    memset(b, 0, sizeof *b);
    b->rows = calloc(n, sizeof *b->rows);
    for (size_t i = 0; i < n; i++) {
        record_init(&b->rows[i].rec, REC_CUSTOMER);
        if (demo_customer(&rng, "beijing", "sales1", &b->rows[i].rec) != ERR_OK) {
            printf("demo generator failed: %s\n", err_message());
            exit(1);
        }
        /* unique phones and no ID numbers, so that no row counts as a duplicate */
        char phone[16];
        snprintf(phone, sizeof phone, "139%08zu", (size_t)(seed % 50) * 1000000 + i);
        record_clear(&b->rows[i].rec, CF_ID_NUMBER);
        if (record_set(&b->rows[i].rec, CF_PHONE, phone, strlen(phone)) != ERR_OK) {
            exit(1);
        }
        b->rows[i].line = i + 2;
    }
    b->nrows = n;
}

static double plain_read_rate(const char *dir, char (*ids)[ID_LEN + 1], size_t n)
{
    /* The baseline: the same rows' shape as plain text, one SQLite point read each. */
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/plain.db", dir);
    sqlite3 *db = NULL;
    sqlite3_open(p, &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; CREATE TABLE c(id TEXT PRIMARY KEY, name, id_number,"
                 " birth_date, phone, email, address, wechat, preferences, vip_level, department,"
                 " salesperson, marketing_consent, notes) WITHOUT ROWID; BEGIN;",
                 NULL, NULL, NULL);
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(db,
                       "INSERT INTO c VALUES(?1,'王小明','11010519491231002X','1949-12-31',"
                       "'13812345678','wang.xm@163.com','北京市朝阳区建国路88号院3号楼1502室',"
                       "'wxid_abc123','porcelain,jade','3','beijing','sales1','true',"
                       "'偏好清代官窑瓷器，每年春拍前联系')",
                       -1, &ins, NULL);
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(ins);
        sqlite3_bind_text(ins, 1, ids[i], -1, SQLITE_STATIC);
        sqlite3_step(ins);
    }
    sqlite3_finalize(ins);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_stmt *sel;
    sqlite3_prepare_v2(db, "SELECT * FROM c WHERE id=?1", -1, &sel, NULL);
    size_t rounds = 200000, bytes = 0;
    double t0 = bench_secs();
    for (size_t r = 0; r < rounds; r++) {
        sqlite3_reset(sel);
        sqlite3_bind_text(sel, 1, ids[r % n], -1, SQLITE_STATIC);
        if (sqlite3_step(sel) == SQLITE_ROW) {
            for (int c = 0; c < 14; c++) {
                bytes += (size_t)sqlite3_column_bytes(sel, c);
                (void)sqlite3_column_text(sel, c);
            }
        }
    }
    double dt = bench_secs() - t0;
    sqlite3_finalize(sel);
    sqlite3_close(db);
    bench_report("plain SQLite point read, 14 text columns (baseline)", (double)rounds, dt);
    return (double)rounds / dt;
}

static double vault_read_rate(vault *v, char (*ids)[ID_LEN + 1], size_t n)
{
    size_t rounds = 200000;
    sealed_customer c;
    sealed_customer_init(&c);
    uint8_t *dek = secret_alloc(KEY_LEN);
    buf plain;
    buf_init(&plain, 1 << 16);
    double t0 = bench_secs();
    for (size_t r = 0; r < rounds; r++) {
        if (store_customer_get(v->st, ids[r % n], &c) != ERR_OK ||
            keyring_dek_unwrap(v->kr, c.id, buf_slice(&c.wrapped_dek), dek) != ERR_OK) {
            printf("vault read failed: %s\n", err_message());
            exit(1);
        }
        for (int i = 0; i < CF__COUNT; i++) {
            if (c.field[i].len == 0) {
                continue;
            }
            buf_reset(&plain);
            if (unseal(dek, c.id, model_field(REC_CUSTOMER, i)->name, buf_slice(&c.field[i]),
                       &plain) != ERR_OK) {
                printf("unseal failed\n");
                exit(1);
            }
        }
        mem_wipe(dek, KEY_LEN);
    }
    double dt = bench_secs() - t0;
    buf_free(&plain);
    secret_free(dek);
    sealed_customer_free(&c);
    bench_report("vault read: fetch + unwrap data key + open all fields", (double)rounds, dt);
    return (double)rounds / dt;
}

/* The store alone: 50 customer rows read one by one against the same 50 in one batch read. */
static void batch_read_ratio(vault *v, char (*ids)[ID_LEN + 1], size_t n)
{
    enum { PAGE = 50 };
    size_t rounds = 2000;
    sealed_customer *rows = calloc(PAGE, sizeof *rows);
    bool found[PAGE];
    if (!rows || n < PAGE) {
        free(rows);
        return;
    }
    for (size_t i = 0; i < PAGE; i++) {
        sealed_customer_init(&rows[i]);
    }
    double t0 = bench_secs();
    for (size_t r = 0; r < rounds; r++) {
        size_t base = (r * PAGE) % (n - PAGE);
        for (size_t i = 0; i < PAGE; i++) {
            if (store_customer_get(v->st, ids[base + i], &rows[i]) != ERR_OK) {
                exit(1);
            }
        }
    }
    double one = (double)rounds * PAGE / (bench_secs() - t0);
    bench_report("store: 50 customer rows, one read each", (double)rounds * PAGE,
                 (double)rounds * PAGE / one);
    t0 = bench_secs();
    for (size_t r = 0; r < rounds; r++) {
        size_t base = (r * PAGE) % (n - PAGE);
        if (store_customer_get_many(v->st, (const char(*)[ID_LEN + 1])(ids + base), PAGE, rows,
                                    found) != ERR_OK) {
            exit(1);
        }
    }
    double many = (double)rounds * PAGE / (bench_secs() - t0);
    bench_report("store: 50 customer rows, one batch read", (double)rounds * PAGE,
                 (double)rounds * PAGE / many);
    bench_ratio("batch read / one read per row", many, one, ">= 1.0");
    for (size_t i = 0; i < PAGE; i++) {
        sealed_customer_free(&rows[i]);
    }
    free(rows);
}

static void search_at(vault *v, const char *label)
{
    actor a = steward(v);
    /* Index probe + confirmation by decryption, without the audit append... */
    size_t rounds = 20000;
    double t0 = bench_secs();
    for (size_t r = 0; r < rounds; r++) {
        char phone[16];
        snprintf(phone, sizeof phone, "139%08zu", (size_t)1000000 + (r * 7919) % 10000);
        buf norm;
        buf_init(&norm, 64);
        if (model_blind_normalize(BI_PHONE, phone, strlen(phone), &norm) != ERR_OK) {
            exit(1);
        }
        uint64_t bv = keyring_blind(v->kr, "phone", 24, buf_slice(&norm));
        char ids[8][ID_LEN + 1];
        size_t n = 0;
        if (store_customer_find(v->st, BI_PHONE, bv, "beijing", NULL, 8, ids, &n) != ERR_OK) {
            exit(1);
        }
        buf_free(&norm);
    }
    double dt = bench_secs() - t0;
    char name[96];
    snprintf(name, sizeof name, "blind-index probe by phone at %s", label);
    bench_report(name, (double)rounds, dt);
    printf("  %-52s %14.2f us/search\n", "  (mean)", dt / (double)rounds * 1e6);
    /* ...and the whole door (policy, durable audit, confirmation, rendering). */
    rounds = 2000;
    t0 = bench_secs();
    for (size_t r = 0; r < rounds; r++) {
        char phone[16];
        snprintf(phone, sizeof phone, "139%08zu", (size_t)1000000 + (r * 7919) % 10000);
        json_t *out = NULL;
        if (door_customer_search(v, &a, BI_PHONE, phone, NULL, 10, &out) != ERR_OK) {
            printf("search failed: %s\n", err_message());
            exit(1);
        }
        json_decref(out);
    }
    dt = bench_secs() - t0;
    snprintf(name, sizeof name, "door search by phone at %s (audited)", label);
    bench_report(name, (double)rounds, dt);
    printf("  %-52s %14.2f us/search\n", "  (mean)", dt / (double)rounds * 1e6);
    /* A listing: pages of 50 customers through the door (rows read, opened, rendered). */
    rounds = 200;
    char after[ID_LEN + 1] = "";
    t0 = bench_secs();
    for (size_t r = 0; r < rounds; r++) {
        json_t *out = NULL;
        if (door_customer_search(v, &a, BI_NONE, NULL, after[0] ? after : NULL, 50, &out) !=
            ERR_OK) {
            printf("list failed: %s\n", err_message());
            exit(1);
        }
        const char *next = json_string_value(json_object_get(out, "next"));
        snprintf(after, sizeof after, "%s", next ? next : "");
        json_decref(out);
    }
    dt = bench_secs() - t0;
    snprintf(name, sizeof name, "door list, pages of 50, at %s (audited)", label);
    bench_report(name, (double)rounds * 50, dt);
}

void bench_vault(void)
{
    bench_section("vault (in process)");
    char dir[PATH_MAX], vdir[PATH_MAX], key[PATH_MAX];
    mkvault(dir, sizeof dir);
    snprintf(vdir, sizeof vdir, "%s/vault", dir);
    snprintf(key, sizeof key, "%s/master.key", dir);
    vault_key src = {NULL, 0, key};
    vault_init_opts o = {&src, VAULT_KDF_FAST, NULL, NULL};
    vault *v = NULL;
    if (key_file_generate(key) != ERR_OK || vault_init(vdir, &o) != ERR_OK ||
        vault_open(vdir, &src, &v) != ERR_OK) {
        printf("cannot create the bench vault: %s\n", err_message());
        return;
    }
    actor a = steward(v);
    /* Import: 10,000 rows, validated batch in, all or nothing. */
    import_batch b;
    demo_batch(&b, 10000, 1);
    json_t *rep = NULL;
    double t0 = bench_secs();
    err e = door_import(v, &a, &b, false, &rep);
    double dt = bench_secs() - t0;
    json_decref(rep);
    import_batch_free(&b);
    if (e != ERR_OK) {
        printf("import failed: %s\n", err_message());
        return;
    }
    bench_report("import through the door (10,000 rows, one transaction)", 10000, dt);
    printf("  %-52s %14s\n", "  target", ">= 20,000 rows/s");
    char(*ids)[ID_LEN + 1] = calloc(10000, sizeof *ids);
    size_t n = 0, got = 0;
    const char *after = NULL;
    while (n < 10000) {
        if (store_customer_list(v->st, NULL, false, after, 10000 - n, ids + n, &got) != ERR_OK ||
            got == 0) {
            break;
        }
        n += got;
        after = ids[n - 1];
    }
    double base = plain_read_rate(dir, ids, n);
    double vr = vault_read_rate(v, ids, n);
    bench_ratio("vault read / plain read", vr, base, ">= 0.40");
    double d1 = door_read_rate(v, ids, n, 1);
    bench_ratio("full door read, 1 thread / vault read", d1, vr, "");
    double d16 = door_read_rate(v, ids, n, 16);
    bench_ratio("full door read, 16 threads / vault read", d16, vr, "");
    batch_read_ratio(v, ids, n);
    search_at(v, "10k customers");
    for (int k = 0; k < 9; k++) {
        demo_batch(&b, 10000, (uint64_t)(2 + k));
        e = door_import(v, &a, &b, false, &rep);
        json_decref(rep);
        import_batch_free(&b);
        if (e != ERR_OK) {
            printf("import failed: %s\n", err_message());
            break;
        }
    }
    search_at(v, "100k customers");
    free(ids);
    vault_close(v);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        printf("could not remove %s\n", dir);
    }
}
