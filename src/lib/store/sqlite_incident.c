/*
 * sqlite_incident.c - the incident table (store_incident.h). Statements are prepared per call
 * on the handle's connection (incidents change a few times a minute at most), so this file
 * takes no statement slot from the others.
 */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_incident.h"

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS incidents(id TEXT PRIMARY KEY, drill INTEGER NOT NULL, "
    "closed INTEGER NOT NULL, phase TEXT NOT NULL, playbook TEXT NOT NULL, title TEXT NOT NULL, "
    "severity TEXT NOT NULL, owner TEXT NOT NULL, source_alert TEXT NOT NULL, "
    "aware INTEGER NOT NULL, opened INTEGER NOT NULL, closed_at INTEGER NOT NULL, "
    "late_tasks INTEGER NOT NULL, next_due INTEGER NOT NULL, kek_version INTEGER NOT NULL, "
    "version INTEGER NOT NULL, playbook_text BLOB NOT NULL, wrapped_dek BLOB NOT NULL, "
    "body BLOB NOT NULL, scope BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS incidents_listing ON incidents(closed, drill, opened);";

#define COLS                                                                                       \
    "id, drill, closed, phase, playbook, title, severity, owner, source_alert, aware, opened, "    \
    "closed_at, late_tasks, next_due, kek_version, version"

static err ready(store *s, sqlite3 **db)
{
    TRY(sq_conn(s, db));
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(*db,
                           "SELECT count(*) FROM sqlite_schema WHERE type='table' AND "
                           "name='incidents'",
                           -1, &st, NULL) != SQLITE_OK) {
        return sq_error(s, "incident schema");
    }
    int r = sqlite3_step(st);
    bool have = r == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    ENSURE(r == SQLITE_ROW, ERR_IO, "store: cannot read the schema");
    if (!have) {
        TRY(sq_exec(*db, SCHEMA));
    }
    return ERR_OK;
}

static err prep(store *s, const char *sql, sqlite3_stmt **st)
{
    sqlite3 *db;
    TRY(ready(s, &db));
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        return sq_error(s, "incident statement");
    }
    return ERR_OK;
}

static void bind_blob(sqlite3_stmt *st, int i, const buf *b)
{
    sqlite3_bind_blob(st, i, b->len ? (const void *)b->p : (const void *)"", (int)b->len,
                      SQLITE_TRANSIENT);
}

/* Binds the row's columns as ?1..?20 in COLS order, then the four blobs. */
static void bind_row(sqlite3_stmt *st, const incident_row *r, uint64_t version)
{
    sq_text(st, 1, r->id);
    sqlite3_bind_int(st, 2, r->drill);
    sqlite3_bind_int(st, 3, r->closed);
    sq_text(st, 4, r->phase);
    sq_text(st, 5, r->playbook);
    sq_text(st, 6, r->title);
    sq_text(st, 7, r->severity);
    sq_text(st, 8, r->owner);
    sq_text(st, 9, r->source_alert);
    sqlite3_bind_int64(st, 10, r->aware_us);
    sqlite3_bind_int64(st, 11, r->opened_us);
    sqlite3_bind_int64(st, 12, r->closed_us);
    sqlite3_bind_int64(st, 13, r->late_tasks);
    sqlite3_bind_int64(st, 14, r->next_due_us);
    sqlite3_bind_int64(st, 15, r->kek_version);
    sqlite3_bind_int64(st, 16, (sqlite3_int64)version);
    bind_blob(st, 17, &r->playbook_text);
    bind_blob(st, 18, &r->wrapped_dek);
    bind_blob(st, 19, &r->body);
    bind_blob(st, 20, &r->scope);
}

static void read_cols(sqlite3_stmt *st, incident_row *r)
{
    sq_col_text(st, 0, r->id, sizeof r->id);
    r->drill = sqlite3_column_int(st, 1) != 0;
    r->closed = sqlite3_column_int(st, 2) != 0;
    sq_col_text(st, 3, r->phase, sizeof r->phase);
    sq_col_text(st, 4, r->playbook, sizeof r->playbook);
    sq_col_text(st, 5, r->title, sizeof r->title);
    sq_col_text(st, 6, r->severity, sizeof r->severity);
    sq_col_text(st, 7, r->owner, sizeof r->owner);
    sq_col_text(st, 8, r->source_alert, sizeof r->source_alert);
    r->aware_us = sqlite3_column_int64(st, 9);
    r->opened_us = sqlite3_column_int64(st, 10);
    r->closed_us = sqlite3_column_int64(st, 11);
    r->late_tasks = sqlite3_column_int64(st, 12);
    r->next_due_us = sqlite3_column_int64(st, 13);
    r->kek_version = (uint32_t)sqlite3_column_int64(st, 14);
    r->version = (uint64_t)sqlite3_column_int64(st, 15);
}

static err check_row(const incident_row *r)
{
    ENSURE(r->id[0] != '\0', ERR_INPUT, "store: an incident needs an id");
    ENSURE(r->body.len > 0 && r->wrapped_dek.len > 0, ERR_INPUT,
           "store: an incident row needs its sealed body and data key");
    return ERR_OK;
}

err sqlite_incident_insert(store *s, const incident_row *r)
{
    TRY(check_row(r));
    sqlite3_stmt *st;
    TRY(prep(s,
             "INSERT INTO incidents(" COLS ", playbook_text, wrapped_dek, body, scope) VALUES("
             "?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)",
             &st));
    bind_row(st, r, 1);
    int rc = sqlite3_step(st);
    err e = rc == SQLITE_DONE ? ERR_OK : sq_error(s, "incident insert");
    sqlite3_finalize(st);
    if (e == ERR_CONFLICT) {
        return err_set(ERR_CONFLICT, __FILE__, __LINE__, "an incident with that id exists");
    }
    return e;
}

err sqlite_incident_get(store *s, const char *id, incident_row *out)
{
    sqlite3_stmt *st;
    TRY(prep(s,
             "SELECT " COLS ", playbook_text, wrapped_dek, body, scope FROM incidents WHERE id=?1",
             &st));
    sq_text(st, 1, id);
    int rc = sqlite3_step(st);
    err e = ERR_OK;
    if (rc == SQLITE_ROW) {
        read_cols(st, out);
        e = sq_col_buf(st, 16, &out->playbook_text);
        if (e == ERR_OK) {
            e = sq_col_buf(st, 17, &out->wrapped_dek);
        }
        if (e == ERR_OK) {
            e = sq_col_buf(st, 18, &out->body);
        }
        if (e == ERR_OK) {
            e = sq_col_buf(st, 19, &out->scope);
        }
    } else if (rc == SQLITE_DONE) {
        e = err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "no such incident");
    } else {
        e = sq_error(s, "incident read");
    }
    sqlite3_finalize(st);
    return e;
}

err sqlite_incident_update(store *s, const incident_row *r, uint64_t expect)
{
    TRY(check_row(r));
    ENSURE(expect > 0, ERR_INPUT, "store: an incident update needs the version it read");
    sqlite3_stmt *st;
    TRY(prep(s,
             "UPDATE incidents SET drill=?2, closed=?3, phase=?4, playbook=?5, title=?6, "
             "severity=?7, owner=?8, source_alert=?9, aware=?10, opened=?11, closed_at=?12, "
             "late_tasks=?13, next_due=?14, kek_version=?15, version=?16, playbook_text=?17, "
             "wrapped_dek=?18, body=?19, scope=?20 WHERE id=?1 AND version=?21",
             &st));
    bind_row(st, r, expect + 1);
    sqlite3_bind_int64(st, 21, (sqlite3_int64)expect);
    int rc = sqlite3_step(st);
    err e = rc == SQLITE_DONE ? ERR_OK : sq_error(s, "incident update");
    sqlite3_finalize(st);
    TRY(e);
    if (sq_changes(s) == 1) {
        return ERR_OK;
    }
    /* Nothing written: gone, or changed by someone else since it was read. */
    TRY(prep(s, "SELECT 1 FROM incidents WHERE id=?1", &st));
    sq_text(st, 1, r->id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    ENSURE(rc == SQLITE_ROW || rc == SQLITE_DONE, ERR_IO, "store: incident read failed");
    ENSURE(rc == SQLITE_ROW, ERR_NOT_FOUND, "no such incident");
    BAIL(ERR_PRECONDITION, "the incident changed since it was read");
}

err sqlite_incident_list(store *s, incident_state_filter sf, int drill, size_t max,
                         store_incident_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    TRY(prep(s,
             "SELECT " COLS " FROM incidents WHERE (?1 < 0 OR closed=?1) AND (?2 < 0 OR drill=?2) "
             "ORDER BY opened DESC, id LIMIT ?3",
             &st));
    sqlite3_bind_int(st, 1, sf == INCIDENT_LIST_ALL ? -1 : sf == INCIDENT_LIST_CLOSED ? 1 : 0);
    sqlite3_bind_int(st, 2, drill < 0 ? -1 : drill ? 1 : 0);
    sqlite3_bind_int64(st, 3, max ? (sqlite3_int64)max : 500);
    incident_row r;
    incident_row_init(&r);
    int rc;
    err e = ERR_OK;
    while (e == ERR_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_cols(st, &r);
        e = fn(ctx, &r);
    }
    if (e == ERR_OK && rc != SQLITE_DONE) {
        e = sq_error(s, "incident list");
    }
    sqlite3_finalize(st);
    incident_row_free(&r);
    return e;
}
