/*
 * sqlite_backup.c - store_backup.h on SQLite: a snapshot of a live store and a copy of any
 * database file through the online backup API (consistent while others write), and
 * PRAGMA integrity_check of a file. Files are created 0600.
 */
#include <sqlite3.h>
#include <string.h>

#include "core/file.h"
#include "store/sqlite_int.h"

static err sqlite_snapshot(store *s, const char *path)
{
    sqlite3 *src;
    TRY(sq_conn(s, &src));
    sqlite3 *dst = NULL;
    err rc = ERR_OK;
    GUARD(file_create_private(path));
    if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        FAIL(ERR_IO, "store: cannot create the snapshot file");
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    CHECK(b != NULL, ERR_IO, "store: snapshot failed to start");
    int r = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    CHECK(r == SQLITE_DONE, ERR_IO, "store: snapshot failed");
    GUARD(sq_exec(dst, "PRAGMA journal_mode=DELETE;"));
out:
    if (dst) {
        sqlite3_close_v2(dst);
    }
    return rc;
}

static err sqlite_copy_file(const char *from, const char *to)
{
    sqlite3 *src = NULL, *dst = NULL;
    err rc = ERR_OK;
    if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        FAIL(ERR_IO, "store: cannot open %s", from);
    }
    sqlite3_busy_timeout(src, 5000);
    GUARD(file_create_private(to));
    if (sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        FAIL(ERR_IO, "store: cannot create %s", to);
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    CHECK(b != NULL, ERR_IO, "store: copy failed to start");
    int r = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    CHECK(r == SQLITE_DONE, ERR_IO, "store: copy failed");
    GUARD(sq_exec(dst, "PRAGMA journal_mode=WAL;"));
out:
    sqlite3_close_v2(src);
    sqlite3_close_v2(dst);
    return rc;
}

static err sqlite_check_file(const char *path)
{
    sqlite3 *db = NULL;
    err rc = ERR_OK;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        FAIL(ERR_IO, "store: cannot open the database file");
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
        FAIL(ERR_IO, "store: the database file is damaged");
    }
    int r = sqlite3_step(st);
    bool ok = r == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    CHECK(ok, ERR_IO, "store: the database file failed its integrity check");
out:
    sqlite3_close_v2(db);
    return rc;
}

const store_backup_ops sqlite_backup_ops = {
    .snapshot = sqlite_snapshot,
    .copy_file = sqlite_copy_file,
    .check_file = sqlite_check_file,
};
