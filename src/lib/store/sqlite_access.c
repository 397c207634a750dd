/*
 * sqlite_access.c - the store's tables for identity and access: recovery codes,
 * API keys, change and export requests, break-glass grants. Nothing here is a
 * personal value in clear: keys and codes are hashes, a change's new values are
 * sealed by the door before they arrive.
 */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"

enum {
    Q_REC_DEL,
    Q_REC_INS,
    Q_REC_USE,
    Q_REC_LEFT,
    Q_KEY_INS,
    Q_KEY_UPD,
    Q_KEY_BY_HASH,
    Q_KEY_BY_ID,
    Q_KEY_LIST,
    Q_KEY_USED,
    Q_REQ_INS,
    Q_REQ_DECIDE,
    Q_REQ_GET,
    Q_REQ_LIST,
    Q_BG_INS,
    Q_BG_UPD,
    Q_BG_GET,
    Q_BG_ACTIVE,
    Q_BG_READ,
    Q_BG_LIST,
    Q_BG_LIST_UNREVIEWED,
    Q_HONEY,
    Q_KEY_BY_NAME,
    Q_REQ_LATEST,
    Q_DEPT_EXISTS,
    Q_NOTICE_INS,
    Q_NOTICE_LIST,
    Q_REC_LEFT_MANY,
    Q_REQ_LATEST_MANY,
};

/* Tables added after schema version 2, created when missing on every open. */
const char SQ_ACCESS_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS notices(id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT "
    "NULL, recipient TEXT NOT NULL, rule TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT "
    "NULL);"
    "CREATE INDEX IF NOT EXISTS notices_recipient ON notices(recipient, id);"
    "CREATE INDEX IF NOT EXISTS requests_subject ON requests(customer_id, kind, created);";

err sqlite_customer_honeytokens(store *s, char (*ids)[ID_LEN + 1], size_t max, size_t *n)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_HONEY,
                "SELECT id FROM customers WHERE honeytoken=1 AND erased=0 ORDER BY id LIMIT ?1",
                &st));
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    size_t k = 0;
    int r = SQLITE_DONE;
    while (k < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
        sq_col_text(st, 0, ids[k], ID_LEN + 1);
        k++;
    }
    sqlite3_reset(st);
    ENSURE(r == SQLITE_ROW || r == SQLITE_DONE, ERR_IO, "store: honeytoken list failed");
    *n = k;
    return ERR_OK;
}

/* ---- recovery codes ---- */

err sqlite_recovery_replace(store *s, const char *account_id,
                            const uint8_t (*hashes)[RECOVERY_HASH_LEN], size_t n)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_REC_DEL, "DELETE FROM recovery_codes WHERE account_id=?1", &st));
    sq_text(st, 1, account_id);
    TRY(sq_done(s, st, "recovery codes delete"));
    for (size_t i = 0; i < n; i++) {
        TRY(sq_stmt(s, Q_REC_INS, "INSERT INTO recovery_codes(account_id, hash) VALUES(?1, ?2)",
                    &st));
        sq_text(st, 1, account_id);
        sqlite3_bind_blob(st, 2, hashes[i], RECOVERY_HASH_LEN, SQLITE_STATIC);
        TRY(sq_done(s, st, "recovery code insert"));
    }
    return ERR_OK;
}

err sqlite_recovery_use(store *s, const char *account_id, const uint8_t hash[RECOVERY_HASH_LEN])
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_REC_USE,
                "UPDATE recovery_codes SET used=1 WHERE account_id=?1 AND hash=?2 AND used=0",
                &st));
    sq_text(st, 1, account_id);
    sqlite3_bind_blob(st, 2, hash, RECOVERY_HASH_LEN, SQLITE_STATIC);
    TRY(sq_done(s, st, "recovery code use"));
    ENSURE(sq_changes(s) == 1, ERR_AUTH, "invalid recovery code");
    return ERR_OK;
}

err sqlite_recovery_left(store *s, const char *account_id, int64_t *n)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_REC_LEFT, "SELECT count(*) FROM recovery_codes WHERE account_id=?1 AND used=0",
                &st));
    sq_text(st, 1, account_id);
    int r = sqlite3_step(st);
    *n = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    ENSURE(r == SQLITE_ROW, ERR_IO, "store: recovery code count failed");
    return ERR_OK;
}

/* Positions of ids[base, base+m) equal to id (ids may repeat). */
#define EACH_MATCH(i, ids, base, m, id)                                                            \
    for (size_t i = 0; (id) != NULL && i < (m); i++)                                               \
        if (strcmp((ids)[(base) + i], (const char *)(id)) == 0)

err sqlite_recovery_left_many(store *s, const char (*account_ids)[ID_LEN + 1], size_t n,
                              int64_t *left)
{
    for (size_t i = 0; i < n; i++) {
        left[i] = 0;
    }
    for (size_t base = 0; base < n; base += SQ_MANY) {
        size_t m = n - base < SQ_MANY ? n - base : SQ_MANY;
        sqlite3_stmt *st;
        TRY(sq_stmt(s, Q_REC_LEFT_MANY,
                    "SELECT account_id, count(*) FROM recovery_codes WHERE used=0 AND account_id "
                    "IN (" SQ_IN_LIST ") GROUP BY account_id",
                    &st));
        for (size_t i = 0; i < m; i++) {
            sq_text(st, (int)i + 1, account_ids[base + i]);
        }
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            const unsigned char *id = sqlite3_column_text(st, 0);
            EACH_MATCH(i, account_ids, base, m, id)
            {
                left[base + i] = sqlite3_column_int64(st, 1);
            }
        }
        sqlite3_reset(st);
        ENSURE(r == SQLITE_DONE, ERR_IO, "store: recovery code count failed");
    }
    return ERR_OK;
}

/* ---- API keys ---- */

#define KEY_COLS                                                                                   \
    "id, name, hash, prefix, role, department, scope, addresses, created_by, created, "            \
    "last_used, last_source, revoked, rotated"

static void read_key(sqlite3_stmt *st, apikey *k)
{
    memset(k, 0, sizeof *k);
    sq_col_text(st, 0, k->id, sizeof k->id);
    sq_col_text(st, 1, k->name, sizeof k->name);
    const void *h = sqlite3_column_blob(st, 2);
    if (h && sqlite3_column_bytes(st, 2) == 32) {
        memcpy(k->hash, h, 32);
    }
    sq_col_text(st, 3, k->prefix, sizeof k->prefix);
    sq_col_text(st, 4, k->role, sizeof k->role);
    sq_col_text(st, 5, k->department, sizeof k->department);
    sq_col_text(st, 6, k->scope, sizeof k->scope);
    sq_col_text(st, 7, k->addresses, sizeof k->addresses);
    sq_col_text(st, 8, k->created_by, sizeof k->created_by);
    k->created_us = sqlite3_column_int64(st, 9);
    k->last_used_us = sqlite3_column_int64(st, 10);
    sq_col_text(st, 11, k->last_source, sizeof k->last_source);
    k->revoked_us = sqlite3_column_int64(st, 12);
    k->rotated_us = sqlite3_column_int64(st, 13);
}

err sqlite_apikey_insert(store *s, const apikey *k)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_KEY_INS,
                "INSERT INTO api_keys(id, name, hash, prefix, role, department, scope, addresses,"
                " created_by, created) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                &st));
    sq_text(st, 1, k->id);
    sq_text(st, 2, k->name);
    sqlite3_bind_blob(st, 3, k->hash, 32, SQLITE_STATIC);
    sq_text(st, 4, k->prefix);
    sq_text(st, 5, k->role);
    sq_text(st, 6, k->department);
    sq_text(st, 7, k->scope);
    sq_text(st, 8, k->addresses);
    sq_text(st, 9, k->created_by);
    sqlite3_bind_int64(st, 10, k->created_us);
    err e = sq_done(s, st, "api key insert");
    ENSURE(e != ERR_CONFLICT, ERR_CONFLICT, "an API key with that name exists already");
    return e;
}

err sqlite_apikey_update(store *s, const apikey *k)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_KEY_UPD,
                "UPDATE api_keys SET hash=?2, prefix=?3, scope=?4, addresses=?5, revoked=?6, "
                "rotated=?7 WHERE id=?1",
                &st));
    sq_text(st, 1, k->id);
    sqlite3_bind_blob(st, 2, k->hash, 32, SQLITE_STATIC);
    sq_text(st, 3, k->prefix);
    sq_text(st, 4, k->scope);
    sq_text(st, 5, k->addresses);
    sqlite3_bind_int64(st, 6, k->revoked_us);
    sqlite3_bind_int64(st, 7, k->rotated_us);
    return sq_done(s, st, "api key update");
}

static err key_one(store *s, sqlite3_stmt *st, apikey *out)
{
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        read_key(st, out);
    }
    sqlite3_reset(st);
    ENSURE(r == SQLITE_ROW || r == SQLITE_DONE, ERR_IO, "store: api key read failed");
    ENSURE(r == SQLITE_ROW, ERR_NOT_FOUND, "no such API key");
    return ERR_OK;
}

err sqlite_apikey_by_hash(store *s, const uint8_t hash[32], apikey *out)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_KEY_BY_HASH, "SELECT " KEY_COLS " FROM api_keys WHERE hash=?1", &st));
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    return key_one(s, st, out);
}

err sqlite_apikey_by_id(store *s, const char *id, apikey *out)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_KEY_BY_ID, "SELECT " KEY_COLS " FROM api_keys WHERE id=?1", &st));
    sq_text(st, 1, id);
    return key_one(s, st, out);
}

err sqlite_apikey_by_name(store *s, const char *name, apikey *out)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_KEY_BY_NAME, "SELECT " KEY_COLS " FROM api_keys WHERE name=?1", &st));
    sq_text(st, 1, name);
    return key_one(s, st, out);
}

err sqlite_apikey_list(store *s, apikey *out, size_t max, size_t *n)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_KEY_LIST, "SELECT " KEY_COLS " FROM api_keys ORDER BY name LIMIT ?1", &st));
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    size_t k = 0;
    int r = SQLITE_DONE;
    while (k < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
        read_key(st, &out[k++]);
    }
    sqlite3_reset(st);
    ENSURE(r == SQLITE_ROW || r == SQLITE_DONE, ERR_IO, "store: api key list failed");
    *n = k;
    return ERR_OK;
}

err sqlite_apikey_used(store *s, const char *id, int64_t at_us, const char *source)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_KEY_USED, "UPDATE api_keys SET last_used=?2, last_source=?3 WHERE id=?1",
                &st));
    sq_text(st, 1, id);
    sqlite3_bind_int64(st, 2, at_us);
    sq_text(st, 3, source);
    return sq_done(s, st, "api key use");
}

/* ---- requests ---- */

#define REQ_COLS                                                                                   \
    "id, kind, customer_id, department, requester_id, requester, status, decided_by, fields, "     \
    "note, format, created, decided, expires, payload"

static err read_request(sqlite3_stmt *st, change_request *r)
{
    sq_col_text(st, 0, r->id, sizeof r->id);
    sq_col_text(st, 1, r->kind, sizeof r->kind);
    sq_col_text(st, 2, r->customer_id, sizeof r->customer_id);
    sq_col_text(st, 3, r->department, sizeof r->department);
    sq_col_text(st, 4, r->requester_id, sizeof r->requester_id);
    sq_col_text(st, 5, r->requester, sizeof r->requester);
    sq_col_text(st, 6, r->status, sizeof r->status);
    sq_col_text(st, 7, r->decided_by, sizeof r->decided_by);
    sq_col_text(st, 8, r->fields, sizeof r->fields);
    sq_col_text(st, 9, r->note, sizeof r->note);
    sq_col_text(st, 10, r->format, sizeof r->format);
    r->created_us = sqlite3_column_int64(st, 11);
    r->decided_us = sqlite3_column_int64(st, 12);
    r->expires_us = sqlite3_column_int64(st, 13);
    return sq_col_buf(st, 14, &r->payload);
}

err sqlite_request_insert(store *s, const change_request *r)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_REQ_INS,
                "INSERT INTO requests(" REQ_COLS
                ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)",
                &st));
    sq_text(st, 1, r->id);
    sq_text(st, 2, r->kind);
    sq_text(st, 3, r->customer_id);
    sq_text(st, 4, r->department);
    sq_text(st, 5, r->requester_id);
    sq_text(st, 6, r->requester);
    sq_text(st, 7, r->status);
    sq_text(st, 8, r->decided_by);
    sq_text(st, 9, r->fields);
    sq_text(st, 10, r->note);
    sq_text(st, 11, r->format);
    sqlite3_bind_int64(st, 12, r->created_us);
    sqlite3_bind_int64(st, 13, r->decided_us);
    sqlite3_bind_int64(st, 14, r->expires_us);
    sq_blob(st, 15, &r->payload);
    return sq_done(s, st, "request insert");
}

err sqlite_request_decide(store *s, const change_request *r, const char *from)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_REQ_DECIDE,
                "UPDATE requests SET status=?2, decided_by=?3, decided=?4, note=?5, expires=?6, "
                "payload=?8 WHERE id=?1 AND status=?7",
                &st));
    sq_text(st, 1, r->id);
    sq_text(st, 2, r->status);
    sq_text(st, 3, r->decided_by);
    sqlite3_bind_int64(st, 4, r->decided_us);
    sq_text(st, 5, r->note);
    sqlite3_bind_int64(st, 6, r->expires_us);
    sq_text(st, 7, from);
    sq_blob(st, 8, &r->payload);
    TRY(sq_done(s, st, "request update"));
    ENSURE(sq_changes(s) == 1, ERR_CONFLICT, "the request is no longer %s", from);
    return ERR_OK;
}

err sqlite_request_get(store *s, const char *id, change_request *out)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_REQ_GET, "SELECT " REQ_COLS " FROM requests WHERE id=?1", &st));
    sq_text(st, 1, id);
    int r = sqlite3_step(st);
    err rc = ERR_OK;
    if (r == SQLITE_ROW) {
        rc = read_request(st, out);
    }
    sqlite3_reset(st);
    TRY(rc);
    ENSURE(r == SQLITE_ROW || r == SQLITE_DONE, ERR_IO, "store: request read failed");
    ENSURE(r == SQLITE_ROW, ERR_NOT_FOUND, "no such request");
    return ERR_OK;
}

err sqlite_request_list(store *s, const char *status, const char *department, size_t max,
                        store_request_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(
        s, Q_REQ_LIST,
        "SELECT " REQ_COLS " FROM requests WHERE (?1 IS NULL OR status=?1) AND "
        "(?2 IS NULL OR department=?2 OR department='*') ORDER BY created DESC, id LIMIT ?3",
        &st));
    if (status) {
        sq_text(st, 1, status);
    }
    if (department) {
        sq_text(st, 2, department);
    }
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    change_request row;
    change_request_init(&row);
    err rc = ERR_OK;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        GUARD(read_request(st, &row));
        GUARD(fn(ctx, &row));
    }
    CHECK(r == SQLITE_DONE, ERR_IO, "store: request list failed");
out:
    sqlite3_reset(st);
    change_request_free(&row);
    return rc;
}

err sqlite_request_latest(store *s, const char *kind, const char *subject, change_request *out)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_REQ_LATEST,
                "SELECT " REQ_COLS " FROM requests WHERE kind=?1 AND customer_id=?2 ORDER BY "
                "created DESC, rowid DESC LIMIT 1",
                &st));
    sq_text(st, 1, kind);
    sq_text(st, 2, subject);
    int r = sqlite3_step(st);
    err rc = ERR_OK;
    if (r == SQLITE_ROW) {
        rc = read_request(st, out);
    }
    sqlite3_reset(st);
    TRY(rc);
    ENSURE(r == SQLITE_ROW || r == SQLITE_DONE, ERR_IO, "store: request read failed");
    ENSURE(r == SQLITE_ROW, ERR_NOT_FOUND, "no such request");
    return ERR_OK;
}

err sqlite_request_latest_many(store *s, const char *kind, const char (*subjects)[ID_LEN + 1],
                               size_t n, char (*status)[16])
{
    for (size_t i = 0; i < n; i++) {
        status[i][0] = '\0';
    }
    for (size_t base = 0; base < n; base += SQ_MANY) {
        size_t m = n - base < SQ_MANY ? n - base : SQ_MANY;
        sqlite3_stmt *st;
        /* The same row store_request_latest picks, per subject. */
        TRY(sq_stmt(s, Q_REQ_LATEST_MANY,
                    "SELECT r.customer_id, r.status FROM requests r WHERE r.kind=?33 AND "
                    "r.customer_id IN (" SQ_IN_LIST ") AND r.rowid=(SELECT q.rowid FROM requests "
                    "q WHERE q.kind=?33 AND q.customer_id=r.customer_id ORDER BY q.created DESC, "
                    "q.rowid DESC LIMIT 1)",
                    &st));
        for (size_t i = 0; i < m; i++) {
            sq_text(st, (int)i + 1, subjects[base + i]);
        }
        sq_text(st, SQ_MANY + 1, kind);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            const unsigned char *id = sqlite3_column_text(st, 0);
            EACH_MATCH(i, subjects, base, m, id)
            {
                sq_col_text(st, 1, status[base + i], 16);
            }
        }
        sqlite3_reset(st);
        ENSURE(r == SQLITE_DONE, ERR_IO, "store: request read failed");
    }
    return ERR_OK;
}

err sqlite_department_exists(store *s, const char *department, bool *yes)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_DEPT_EXISTS,
                "SELECT EXISTS(SELECT 1 FROM accounts WHERE department=?1) OR EXISTS(SELECT 1 "
                "FROM customers INDEXED BY customers_dept WHERE department=?1 AND erased=0)",
                &st));
    sq_text(st, 1, department);
    int r = sqlite3_step(st);
    *yes = r == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    sqlite3_reset(st);
    ENSURE(r == SQLITE_ROW, ERR_IO, "store: department lookup failed");
    return ERR_OK;
}

/* ---- notices ---- */

err sqlite_notice_add(store *s, const notice *n)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_NOTICE_INS,
                "INSERT INTO notices(at, recipient, rule, subject, detail) VALUES(?1,?2,?3,?4,?5)",
                &st));
    sqlite3_bind_int64(st, 1, n->at_us);
    sq_text(st, 2, n->recipient);
    sq_text(st, 3, n->rule);
    sq_text(st, 4, n->subject);
    sq_text(st, 5, n->detail);
    return sq_done(s, st, "notice insert");
}

err sqlite_notice_list(store *s, const char *const recipients[STORE_NOTICE_TO_MAX], int64_t after,
                       notice *out, size_t max, size_t *n)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_NOTICE_LIST,
                "SELECT id, at, recipient, rule, subject, detail FROM notices WHERE recipient IN "
                "(?1, ?2, ?3, ?4) AND id>?5 ORDER BY id LIMIT ?6",
                &st));
    for (int i = 0; i < STORE_NOTICE_TO_MAX; i++) {
        if (recipients[i]) {
            sq_text(st, i + 1, recipients[i]);
        }
    }
    sqlite3_bind_int64(st, 5, after);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)max);
    size_t k = 0;
    int r = SQLITE_DONE;
    while (k < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
        notice *o = &out[k++];
        memset(o, 0, sizeof *o);
        o->id = sqlite3_column_int64(st, 0);
        o->at_us = sqlite3_column_int64(st, 1);
        sq_col_text(st, 2, o->recipient, sizeof o->recipient);
        sq_col_text(st, 3, o->rule, sizeof o->rule);
        sq_col_text(st, 4, o->subject, sizeof o->subject);
        sq_col_text(st, 5, o->detail, sizeof o->detail);
    }
    sqlite3_reset(st);
    ENSURE(r == SQLITE_ROW || r == SQLITE_DONE, ERR_IO, "store: notice list failed");
    *n = k;
    return ERR_OK;
}

/* ---- break-glass ---- */

#define BG_COLS                                                                                    \
    "id, account_id, username, reason, opened, expires, closed, reads, reviewed_by, reviewed, "    \
    "review_note"

static void read_bg(sqlite3_stmt *st, breakglass *b)
{
    memset(b, 0, sizeof *b);
    sq_col_text(st, 0, b->id, sizeof b->id);
    sq_col_text(st, 1, b->account_id, sizeof b->account_id);
    sq_col_text(st, 2, b->username, sizeof b->username);
    sq_col_text(st, 3, b->reason, sizeof b->reason);
    b->opened_us = sqlite3_column_int64(st, 4);
    b->expires_us = sqlite3_column_int64(st, 5);
    b->closed_us = sqlite3_column_int64(st, 6);
    b->reads = sqlite3_column_int64(st, 7);
    sq_col_text(st, 8, b->reviewed_by, sizeof b->reviewed_by);
    b->reviewed_us = sqlite3_column_int64(st, 9);
    sq_col_text(st, 10, b->review_note, sizeof b->review_note);
}

static void bind_bg(sqlite3_stmt *st, const breakglass *b)
{
    sq_text(st, 1, b->id);
    sq_text(st, 2, b->account_id);
    sq_text(st, 3, b->username);
    sq_text(st, 4, b->reason);
    sqlite3_bind_int64(st, 5, b->opened_us);
    sqlite3_bind_int64(st, 6, b->expires_us);
    sqlite3_bind_int64(st, 7, b->closed_us);
    sqlite3_bind_int64(st, 8, b->reads);
    sq_text(st, 9, b->reviewed_by);
    sqlite3_bind_int64(st, 10, b->reviewed_us);
    sq_text(st, 11, b->review_note);
}

err sqlite_breakglass_insert(store *s, const breakglass *b)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_BG_INS,
                "INSERT INTO breakglass(" BG_COLS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                &st));
    bind_bg(st, b);
    return sq_done(s, st, "break-glass insert");
}

err sqlite_breakglass_update(store *s, const breakglass *b)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_BG_UPD,
                "UPDATE breakglass SET account_id=?2, username=?3, reason=?4, opened=?5, "
                "expires=?6, closed=?7, reads=?8, reviewed_by=?9, reviewed=?10, review_note=?11 "
                "WHERE id=?1",
                &st));
    bind_bg(st, b);
    return sq_done(s, st, "break-glass update");
}

static err bg_one(store *s, sqlite3_stmt *st, breakglass *out)
{
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        read_bg(st, out);
    }
    sqlite3_reset(st);
    ENSURE(r == SQLITE_ROW || r == SQLITE_DONE, ERR_IO, "store: break-glass read failed");
    ENSURE(r == SQLITE_ROW, ERR_NOT_FOUND, "no such break-glass grant");
    return ERR_OK;
}

err sqlite_breakglass_get(store *s, const char *id, breakglass *out)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_BG_GET, "SELECT " BG_COLS " FROM breakglass WHERE id=?1", &st));
    sq_text(st, 1, id);
    return bg_one(s, st, out);
}

err sqlite_breakglass_active(store *s, const char *account_id, int64_t now_us, breakglass *out)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_BG_ACTIVE,
                "SELECT " BG_COLS " FROM breakglass WHERE account_id=?1 AND closed=0 AND "
                "expires>?2 ORDER BY opened DESC LIMIT 1",
                &st));
    sq_text(st, 1, account_id);
    sqlite3_bind_int64(st, 2, now_us);
    return bg_one(s, st, out);
}

err sqlite_breakglass_count_read(store *s, const char *id)
{
    sqlite3_stmt *st;
    TRY(sq_stmt(s, Q_BG_READ, "UPDATE breakglass SET reads=reads+1 WHERE id=?1", &st));
    sq_text(st, 1, id);
    return sq_done(s, st, "break-glass read count");
}

err sqlite_breakglass_list(store *s, bool unreviewed_only, breakglass *out, size_t max, size_t *n)
{
    sqlite3_stmt *st;
    if (unreviewed_only) {
        TRY(sq_stmt(s, Q_BG_LIST_UNREVIEWED,
                    "SELECT " BG_COLS " FROM breakglass WHERE reviewed=0 ORDER BY opened DESC "
                    "LIMIT ?1",
                    &st));
    } else {
        TRY(sq_stmt(s, Q_BG_LIST,
                    "SELECT " BG_COLS " FROM breakglass ORDER BY opened DESC LIMIT ?1", &st));
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    size_t k = 0;
    int r = SQLITE_DONE;
    while (k < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
        read_bg(st, &out[k++]);
    }
    sqlite3_reset(st);
    ENSURE(r == SQLITE_ROW || r == SQLITE_DONE, ERR_IO, "store: break-glass list failed");
    *n = k;
    return ERR_OK;
}
