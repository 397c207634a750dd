/*
 * ops_test.c - operating a vault: erasures that survive every restore path, offline
 * tools run next to a live server, the import's report of bad rows, WAL files left
 * after a clean stop.
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../unit/test.h"
#include "core/err.h"
#include "harness.h"
#include "model/model.h"

static srv S;
static char root[512];
static char tok_st1[64];

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static char *new_customer(const char *name, const char *phone)
{
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"phone\":\"%s\"}", name, phone);
    json_t *j = NULL;
    char *id = NULL;
    if (h_json(&S, "POST", "/v1/customers", tok_st1, body, &j) == 201) {
        id = strdup(jstr(j, "id"));
    }
    json_decref(j);
    return id;
}

/* The first column of the first row of q on the SQLite file db, as an integer (-1: none). */
static long long sql_int(const char *db, const char *fmt, ...) PRINTF_LIKE(2, 3);
static long long sql_int(const char *db, const char *fmt, ...)
{
    char q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 5000);
        if (sqlite3_prepare_v2(h, q, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            v = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return v;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TEST(t_start)
{
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "7", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "10", NULL};
    buf out;
    buf_init(&out, 0);
    int rc = h_cli(&S, &out, demo);
    EXPECT_INT(rc, 0);
    if (rc) {
        printf("%s\n", buf_cstr(&out));
    }
    buf_free(&out);
    h_quiet_guard(&S);
    /* Checkpoints once a second. */
    char cfg[700];
    snprintf(cfg, sizeof cfg, "%s/custos.json", S.dir);
    write_file(
        cfg,
        "{\"access\": {\"second_factor\": \"off\"}, \"audit\": {\"checkpoint_seconds\": 1}}\n");
    EXPECT(h_start(&S));
    EXPECT(h_login(&S, "steward1", DEMO_PW, tok_st1));
}

static void client_env(void)
{
    char addr[64];
    snprintf(addr, sizeof addr, "https://127.0.0.1:%u", S.port);
    setenv("CUSTOS_ADDR", addr, 1);
    setenv("CUSTOS_TOKEN", tok_st1, 1);
    setenv("CUSTOS_CACERT", S.cacert, 1);
}

/* A CSV of n rows; rows listed in bad get an invalid phone number. */
static void make_csv(buf *b, size_t n, const size_t *bad, size_t nbad)
{
    IGNORE(buf_append_str(b, "name,phone\n"));
    for (size_t i = 1; i <= n; i++) {
        bool is_bad = false;
        for (size_t k = 0; k < nbad; k++) {
            is_bad = is_bad || bad[k] == i;
        }
        IGNORE(buf_appendf(b, "导入%zu,%s\n", i, is_bad ? "12x45" : "13900000000"));
    }
}

TEST(t_import_names_bad_rows)
{
    client_env();
    char csv[700];
    snprintf(csv, sizeof csv, "%s/import.csv", root);
    buf b;
    buf_init(&b, 0);
    size_t one[] = {7345};
    make_csv(&b, 10000, one, 1);
    FILE *f = fopen(csv, "wb");
    fwrite(b.p, 1, b.len, f);
    fclose(f);
    buf_free(&b);
    for (int dry = 0; dry < 2; dry++) {
        const char *argv[] = {"customers", "import", csv, dry ? "--dry-run" : NULL, NULL};
        buf out;
        buf_init(&out, 0);
        EXPECT(h_cli(&S, &out, argv) != 0);
        /* The row (7345), its line in the file (7346: after the header), the field, why. */
        EXPECT(strstr(buf_cstr(&out), "row 7345 (line 7346), field phone") != NULL);
        if (!strstr(buf_cstr(&out), "row 7345")) {
            printf("%s\n", buf_cstr(&out));
        }
        buf_free(&out);
    }
    /* Thirty bad rows: the first twenty named, then a count of the rest. */
    size_t many[30];
    for (size_t i = 0; i < 30; i++) {
        many[i] = 10 + 3 * i;
    }
    buf_init(&b, 0);
    make_csv(&b, 200, many, 30);
    f = fopen(csv, "wb");
    fwrite(b.p, 1, b.len, f);
    fclose(f);
    buf_free(&b);
    const char *argv[] = {"customers", "import", csv, "--dry-run", NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT(h_cli(&S, &out, argv) != 0);
    EXPECT(strstr(buf_cstr(&out), "row 10 (line 11)") != NULL);
    EXPECT(strstr(buf_cstr(&out), "row 67 (line 68)") != NULL); /* the 20th */
    EXPECT(strstr(buf_cstr(&out), "row 70 (line 71)") == NULL); /* the 21st */
    EXPECT(strstr(buf_cstr(&out), "and 10 more") != NULL);
    buf_free(&out);
}

/* Runs an offline command next to the live server. */
static void offline(const char *const *argv)
{
    buf out;
    buf_init(&out, 0);
    int rc = h_cli(&S, &out, argv);
    EXPECT_INT(rc, 0);
    if (rc) {
        printf("%s\n", buf_cstr(&out));
    }
    buf_free(&out);
}

TEST(t_offline_tools_next_to_server)
{
    char audit_db[700], bk[700];
    snprintf(audit_db, sizeof audit_db, "%s/audit.db", S.dir);
    snprintf(bk, sizeof bk, "%s/live.cbk", root);
    for (int round = 0; round < 2; round++) {
        /* The server has entries it has not signed yet when the tool appends and signs. */
        char *id = new_customer("离线工具", round ? "13800000002" : "13800000001");
        EXPECT(id != NULL);
        free(id);
        if (round == 0) {
            const char *b[] = {"backup", S.dir, bk, NULL};
            offline(b);
        } else {
            const char *r[] = {"keys", "rotate", S.dir, NULL};
            offline(r);
        }
        /* The server's next timed checkpoint (once a second) comes after the tool's. */
        long long tool_cp = sql_int(audit_db, "SELECT max(size) FROM checkpoints");
        long long entries = sql_int(audit_db, "SELECT count(*) FROM entries");
        EXPECT(tool_cp == entries);
        int64_t deadline = now_ms() + 3500;
        while (now_ms() < deadline && !h_file_contains(S.log, "must not exceed")) {
            usleep(100 * 1000);
        }
        EXPECT(!h_file_contains(S.log, "must not exceed"));
        EXPECT(!h_file_contains(S.log, "audit.checkpoint"));
    }
    /* And the server still signs what it writes next. */
    long long before = sql_int(audit_db, "SELECT max(size) FROM checkpoints");
    char *id = new_customer("离线之后", "13800000003");
    free(id);
    int64_t deadline = now_ms() + 5000;
    while (now_ms() < deadline &&
           sql_int(audit_db, "SELECT max(size) FROM checkpoints") <= before) {
        usleep(100 * 1000);
    }
    EXPECT(sql_int(audit_db, "SELECT max(size) FROM checkpoints") > before);
    EXPECT_INT(h_stop(&S), 0);
    const char *v[] = {"audit", "verify", S.dir, NULL};
    offline(v);
    EXPECT(h_start(&S));
    EXPECT(h_login(&S, "steward1", DEMO_PW, tok_st1));
}

/* Whether customer id is erased (1), present (0) or absent (-1) in the vault in dir. */
static long long erased_in(const char *dir, const char *id)
{
    char db[700];
    snprintf(db, sizeof db, "%s/custos.db", dir);
    return sql_int(db, "SELECT erased FROM customers WHERE id='%s'", id);
}

static void erase(const char *id)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/customers/%s?reason=customer%%20request", id);
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "DELETE", path, tok_st1, NULL, &j), 200);
    json_decref(j);
}

static void restart(void)
{
    EXPECT(h_start(&S));
    EXPECT(h_login(&S, "steward1", DEMO_PW, tok_st1));
}

TEST(t_erasure_survives_restore_elsewhere)
{
    char *x = new_customer("擦除甲", "13700000011");
    char *y = new_customer("擦除乙", "13700000012");
    char *keep = new_customer("保留丙", "13700000013");
    EXPECT(x && y && keep);
    if (!x || !y || !keep) {
        goto out;
    }
    char bk[700], bk2[700], injournal[700], journal[700], cfg[700], text[1400];
    buf out;
    snprintf(bk, sizeof bk, "%s/erase.cbk", root);
    snprintf(injournal, sizeof injournal, "%s/erasures.journal", S.dir);

    /* 1. The journal in the vault's own folder (no erasures.journal in custos.json): a
     *    restore into a new folder cannot see it, and refuses unless it is named. */
    const char *b[] = {"backup", S.dir, bk, NULL};
    offline(b);
    erase(x);
    EXPECT_INT(h_stop(&S), 0);
    char first[700];
    snprintf(first, sizeof first, "%s/first", root);
    const char *r1[] = {"restore", bk, first, NULL};
    buf_init(&out, 0);
    EXPECT(h_cli(&S, &out, r1) != 0);
    EXPECT(strstr(buf_cstr(&out), "erasure journal") != NULL);
    buf_free(&out);
    EXPECT(access(first, F_OK) != 0);
    EXPECT(erased_in(first, x) != 0); /* not restored with x readable */
    const char *r2[] = {"restore", bk, first, "--erasure-journal", injournal, NULL};
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, r2), 0);
    EXPECT(strstr(buf_cstr(&out), "1 erasure") != NULL);
    buf_free(&out);
    EXPECT_INT(erased_in(first, x), 1);
    EXPECT_INT(erased_in(first, keep), 0);

    /* 2. The journal kept apart, named in custos.json (and so in every backup). */
    snprintf(journal, sizeof journal, "%s/erasures/erasures.journal", root);
    snprintf(text, sizeof text, "%s/erasures", root);
    mkdir(text, 0700);
    snprintf(cfg, sizeof cfg, "%s/custos.json", S.dir);
    snprintf(text, sizeof text,
             "{\"access\": {\"second_factor\": \"off\"}, \"audit\": {\"checkpoint_seconds\": 1},"
             " \"erasures\": {\"journal\": \"%s\"}}\n",
             journal);
    write_file(cfg, text);
    restart();
    EXPECT(access(journal, F_OK) == 0); /* made at start */
    snprintf(bk2, sizeof bk2, "%s/erase2.cbk", root);
    const char *b2[] = {"backup", S.dir, bk2, NULL};
    offline(b2);
    erase(y);
    EXPECT(h_file_contains(journal, y));
    EXPECT_INT(h_stop(&S), 0);
    char fresh[700];
    snprintf(fresh, sizeof fresh, "%s/fresh", root);
    const char *r3[] = {"restore", bk2, fresh, NULL};
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, r3), 0);
    EXPECT(strstr(buf_cstr(&out), "1 erasure") != NULL);
    buf_free(&out);
    EXPECT_INT(erased_in(fresh, y), 1);
    EXPECT_INT(erased_in(fresh, x), 1);
    EXPECT_INT(erased_in(fresh, keep), 0);

    /* 3. That journal missing: refused, nothing created. */
    char aside[700], other[700];
    snprintf(aside, sizeof aside, "%s.aside", journal);
    EXPECT_INT(rename(journal, aside), 0);
    snprintf(other, sizeof other, "%s/other", root);
    const char *r4[] = {"restore", bk2, other, NULL};
    buf_init(&out, 0);
    EXPECT(h_cli(&S, &out, r4) != 0);
    EXPECT(strstr(buf_cstr(&out), "erasure journal") != NULL);
    buf_free(&out);
    EXPECT(access(other, F_OK) != 0);

    /* 4. The override: restored, y readable again, and the audit log says so. */
    const char *r5[] = {"restore", bk2, other, "--without-erasure-journal", NULL};
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, r5), 0);
    EXPECT(strstr(buf_cstr(&out), "without an erasure journal") != NULL);
    buf_free(&out);
    EXPECT_INT(erased_in(other, y), 0);
    char au[700];
    snprintf(au, sizeof au, "%s/audit.db", other);
    EXPECT_INT(sql_int(au, "SELECT count(*) FROM entries WHERE action='vault.restore' AND "
                           "instr(CAST(entry AS TEXT), 'without-erasure-journal') > 0"),
               1);
    EXPECT_INT(rename(aside, journal), 0);

    /* 5. The journal lost, a copy of it named instead: the copy stands in, and the restored
     *    vault's journal is written anew with every erasure the vault holds. */
    EXPECT_INT(rename(journal, aside), 0);
    char copy[700];
    snprintf(copy, sizeof copy, "%s/copy", root);
    const char *r6[] = {"restore", bk2, copy, "--erasure-journal", aside, NULL};
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, r6), 0);
    EXPECT(strstr(buf_cstr(&out), "in its place") != NULL);
    buf_free(&out);
    EXPECT_INT(erased_in(copy, y), 1);
    EXPECT(h_file_contains(journal, x));
    EXPECT(h_file_contains(journal, y));
    EXPECT(!h_file_contains(journal, keep));
    EXPECT_INT(unlink(journal), 0);
    EXPECT_INT(rename(aside, journal), 0);
    restart();
out:
    free(x);
    free(y);
    free(keep);
}

/* The journal kept apart, lost while the vault stays: the server makes it anew at start, and
 * it names every customer already erased, so that a restore of an older backup into a new
 * folder with that journal does not bring them back. */
TEST(t_lost_journal_remade_with_erasures)
{
    char *z = new_customer("擦除丁", "13700000014");
    EXPECT(z != NULL);
    if (!z) {
        return;
    }
    char bk[700], journal[700], lost[700];
    snprintf(journal, sizeof journal, "%s/erasures/erasures.journal", root);
    snprintf(bk, sizeof bk, "%s/erase3.cbk", root);
    const char *b[] = {"backup", S.dir, bk, NULL};
    offline(b);
    erase(z);
    EXPECT(h_file_contains(journal, z));
    EXPECT_INT(h_stop(&S), 0);
    EXPECT_INT(unlink(journal), 0);
    restart();
    EXPECT(access(journal, F_OK) == 0);
    EXPECT(h_file_contains(journal, z));
    struct stat st;
    EXPECT(stat(journal, &st) == 0 && (st.st_mode & 0777) == 0600);
    EXPECT_INT(h_stop(&S), 0);
    snprintf(lost, sizeof lost, "%s/lost", root);
    const char *r[] = {"restore", bk, lost, NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, r), 0);
    buf_free(&out);
    EXPECT_INT(erased_in(lost, z), 1);
    restart();
    free(z);
}

/* Erasures at once: eight customers erased by eight clients together, and one customer
 * erased by two clients together. Every acknowledged erasure is a whole line of the
 * journal, and the row is erased. */
TEST(t_concurrent_erasures)
{
    char *ids[9];
    for (int i = 0; i < 9; i++) {
        char phone[16];
        snprintf(phone, sizeof phone, "136000000%02d", i);
        ids[i] = new_customer("并发擦除", phone);
        EXPECT(ids[i] != NULL);
        if (!ids[i]) {
            return;
        }
    }
    char acked[700];
    snprintf(acked, sizeof acked, "%s/erase-acked.txt", root);
    unlink(acked);
    pid_t kids[10];
    for (int k = 0; k < 10; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            const char *id = ids[k < 8 ? k : 8]; /* the last two race on the same customer */
            char path[256];
            snprintf(path, sizeof path, "/v1/customers/%s?reason=customer%%20request", id);
            int st = h_json(&S, "DELETE", path, tok_st1, NULL, NULL);
            if (st == 200) {
                FILE *f = fopen(acked, "a");
                fprintf(f, "%s\n", id);
                fclose(f);
            }
            _exit(st == 200 || st == 404 ? 0 : 1);
        }
    }
    for (int k = 0; k < 10; k++) {
        int ws = 0;
        waitpid(kids[k], &ws, 0);
        EXPECT(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
    char journal[700];
    snprintf(journal, sizeof journal, "%s/erasures/erasures.journal", root);
    FILE *f = fopen(acked, "r");
    char line[128];
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        EXPECT(h_file_contains(journal, line));
        EXPECT_INT(erased_in(S.dir, line), 1);
        n++;
    }
    if (f) {
        fclose(f);
    }
    EXPECT(n >= 9); /* the eight, and the contested one at least once */
    /* Every line of the journal is whole: an id, a space, a time. */
    f = fopen(journal, "r");
    while (f && fgets(line, sizeof line, f)) {
        EXPECT(strncmp(line, "cus_", 4) == 0 && strchr(line, ' ') && strchr(line, '\n'));
    }
    if (f) {
        fclose(f);
    }
    for (int i = 0; i < 9; i++) {
        free(ids[i]);
    }
}

TEST(t_headroom_checked_at_start)
{
    EXPECT_INT(h_stop(&S), 0);
    const char *serve[] = {"serve",      S.dir,       "--listen", "127.0.0.1:0",
                           "--min-free", "999999999", NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT(h_cli(&S, &out, serve) != 0);
    EXPECT(strstr(buf_cstr(&out), "MiB free") != NULL);
    buf_free(&out);
    restart();
}

TEST(t_no_wal_after_clean_stop)
{
    EXPECT_INT(h_stop(&S), 0);
    const char *names[] = {"custos.db-wal", "audit.db-wal", "guard.db-wal"};
    for (size_t i = 0; i < 3; i++) {
        char p[700];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", S.dir, names[i]);
        bool gone = stat(p, &st) != 0 || st.st_size == 0;
        EXPECT(gone);
        if (!gone) {
            printf("    %s: %lld bytes left\n", names[i], (long long)st.st_size);
        }
    }
}

int main(void)
{
    test_init();
    h_setup(&S, "ops");
    snprintf(root, sizeof root, "%s", S.dir);
    *strrchr(root, '/') = '\0';
    RUN(t_start);
    if (test_failed_) {
        printf("the server did not start; see %s\n", S.log);
        return test_done("ops_test");
    }
    RUN(t_import_names_bad_rows);
    RUN(t_offline_tools_next_to_server);
    RUN(t_erasure_survives_restore_elsewhere);
    RUN(t_lost_journal_remade_with_erasures);
    RUN(t_concurrent_erasures);
    RUN(t_headroom_checked_at_start);
    RUN(t_no_wal_after_clean_stop);
    if (S.pid) {
        h_stop(&S);
    }
    return test_done("ops_test");
}
