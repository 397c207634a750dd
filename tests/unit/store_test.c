/*
 * store_test.c - what is SQLite's alone: a store on a file (and none in a folder that is not
 * there), a version-1 database migrated in place, snapshots and the file check that catches a
 * damaged one, and which backend a location selects. What every backend must do is in
 * store_suite_test.c, run there on SQLite and on PostgreSQL.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_backup.h"
#include "store_fake.h"
#include "test.h"

static char path[600];
static store *S;

TEST(t_open)
{
    char *dir = test_tmpdir("store");
    snprintf(path, sizeof path, "%s/custos.db", dir);
    free(dir);
    EXPECT_OK(store_open(path, true, &S));
    store *again = NULL;
    EXPECT_ERR(store_open(path, true, &again), ERR_CONFLICT);
    EXPECT_ERR(store_open("/nonexistent/dir/x.db", false, &again), ERR_IO);
}

TEST(t_migrates_version_1)
{
    /* A version-1 database (before identity and access) opens and is migrated in place. */
    char p[600];
    snprintf(p, sizeof p, "%.590s.v1", path);
    unlink(p);
    sqlite3 *db = NULL;
    EXPECT(sqlite3_open(p, &db) == SQLITE_OK);
    EXPECT(sqlite3_exec(db,
                        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                        "CREATE TABLE accounts(id TEXT PRIMARY KEY, username TEXT NOT NULL "
                        "UNIQUE, role TEXT NOT NULL, department TEXT NOT NULL, pwhash TEXT NOT "
                        "NULL, disabled INTEGER NOT NULL, created INTEGER NOT NULL, failed "
                        "INTEGER NOT NULL, locked_until INTEGER NOT NULL);"
                        "CREATE TABLE sessions(hash BLOB PRIMARY KEY, account_id TEXT NOT NULL, "
                        "created INTEGER NOT NULL, expires INTEGER NOT NULL) WITHOUT ROWID;"
                        "INSERT INTO accounts VALUES('acc_x','old','sales','b','h',0,1,0,0);"
                        "INSERT INTO meta VALUES('schema_version','1');",
                        NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    store *o = NULL;
    EXPECT_OK(store_open(p, false, &o));
    account a;
    EXPECT_OK(store_account_by_name(o, "old", &a));
    EXPECT_INT(a.training_until_us, 0);
    buf v;
    buf_init(&v, 64);
    EXPECT_OK(store_meta_get(o, "schema_version", &v));
    EXPECT_STR(buf_cstr(&v), STORE_SCHEMA_VERSION);
    buf_free(&v);
    store_close(o);
    unlink(p);
}

/* A snapshot of a store with rows passes the file check; one damaged in its pages does not. */
TEST(t_snapshot)
{
    for (uint64_t bi = 1; bi <= 3; bi++) {
        sealed_customer c;
        fake_customer(&c, "beijing", bi);
        EXPECT_OK(store_customer_insert(S, &c));
        sealed_customer_free(&c);
    }
    char snap[700];
    snprintf(snap, sizeof snap, "%s.snap", path);
    EXPECT_OK(store_snapshot(S, snap));
    EXPECT_OK(store_check_file(snap));
    FILE *f = fopen(snap, "r+b");
    fseek(f, 4096, SEEK_SET);
    for (int i = 0; i < 2 * 4096; i++) {
        fputc(0xAB, f);
    }
    fclose(f);
    EXPECT(store_check_file(snap) != ERR_OK);
    EXPECT_ERR(store_check_file("/nonexistent.db"), ERR_IO);
    store_close(S);
}

/* ---- the backend interface (store_backend.h) ---- */

static store *open_fresh(const char *tag, char *p, size_t len)
{
    char *dir = test_tmpdir(tag);
    snprintf(p, len, "%s/custos.db", dir);
    free(dir);
    store *s = NULL;
    EXPECT_OK(store_open(p, true, &s));
    return s;
}

TEST(t_backend_selection)
{
    store *s = NULL;
    /* A PostgreSQL location goes to that backend, never taken for a file name: with no server
     * there it fails closed (unavailable), saying so (store_suite_test runs a real one). */
    EXPECT_ERR(store_open("postgres://custos@127.0.0.1:1/custos?connect_timeout=5", false, &s),
               ERR_UNAVAILABLE);
    EXPECT(strstr(err_message(), "PostgreSQL") != NULL);
    EXPECT_ERR(store_open("postgresql://127.0.0.1:1/custos?connect_timeout=5", true, &s),
               ERR_UNAVAILABLE);
    EXPECT_ERR(store_open("postgres://127.0.0.1:1/custos?schema=Bad-Name", true, &s), ERR_INPUT);
    EXPECT_ERR(store_open("", false, &s), ERR_INPUT);
    EXPECT(s == NULL);
    EXPECT(access("postgres:", F_OK) != 0); /* nothing created under that name */
    EXPECT_ERR(store_check_file("postgres://127.0.0.1/custos"), ERR_INPUT);
    EXPECT_ERR(store_copy_file("postgres://127.0.0.1/a", "/tmp/x.db"), ERR_INPUT);
    /* A path is SQLite. */
    char p[600];
    s = open_fresh("backend", p, sizeof p);
    EXPECT(s != NULL);
    EXPECT_OK(store_check_file(p));
    store_close(s);
}

int main(void)
{
    test_init();
    RUN(t_open);
    RUN(t_migrates_version_1);
    RUN(t_snapshot);
    RUN(t_backend_selection);
    return test_done("store_test");
}
