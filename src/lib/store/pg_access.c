/*
 * pg_access.c - the PostgreSQL store's tables for identity and access (sqlite_access.c's
 * counterpart): recovery codes, API keys, change and export requests, notices, break-glass.
 * Nothing here is a personal value in clear: keys and codes are hashes, a change's new values
 * are sealed by the door before they arrive. Batch reads take their ids as one text[]
 * parameter, one statement whatever their number.
 */
#include <stdio.h>
#include <string.h>

#include "store/pg_int.h"

enum {
    Q_HONEY = PQ_SLOT_ACCESS,
    Q_REC_DEL,
    Q_REC_INS,
    Q_REC_USE,
    Q_REC_LEFT,
    Q_REC_LEFT_MANY,
    Q_KEY_INS,
    Q_KEY_UPD,
    Q_KEY_BY_HASH,
    Q_KEY_BY_ID,
    Q_KEY_BY_NAME,
    Q_KEY_LIST,
    Q_KEY_USED,
    Q_REQ_INS,
    Q_REQ_DECIDE,
    Q_REQ_GET,
    Q_REQ_LIST,
    Q_REQ_LATEST,
    Q_REQ_LATEST_MANY,
    Q_DEPT_EXISTS,
    Q_NOTICE_INS,
    Q_NOTICE_LIST,
    Q_BG_INS,
    Q_BG_UPD,
    Q_BG_GET,
    Q_BG_ACTIVE,
    Q_BG_READ,
    Q_BG_LIST,
    Q_BG_LIST_UNREVIEWED,
    Q__END
};
_Static_assert(Q__END <= PQ_SLOTS, "pg_access.c's statement slots overflow");

err pg_customer_honeytokens(store *s, char (*ids)[ID_LEN + 1], size_t max, size_t *n)
{
    pq_args a = {0};
    pa_i64(&a, (int64_t)max);
    PGresult *r;
    TRY(pq_query(s, Q_HONEY,
                 "SELECT id FROM customers WHERE honeytoken=1 AND erased=0 ORDER BY id LIMIT $1",
                 &a, &r));
    size_t k = 0;
    for (int row = 0; row < PQntuples(r) && k < max; row++) {
        pq_text(r, row, 0, ids[k++], ID_LEN + 1);
    }
    PQclear(r);
    *n = k;
    return ERR_OK;
}

/* ---- recovery codes ---- */

err pg_recovery_replace(store *s, const char *account_id,
                        const uint8_t (*hashes)[RECOVERY_HASH_LEN], size_t n)
{
    pq_args a = {0};
    pa_text(&a, account_id);
    TRY(pq_write(s, Q_REC_DEL, "DELETE FROM recovery_codes WHERE account_id=$1", &a, NULL));
    for (size_t i = 0; i < n; i++) {
        pq_args b = {0};
        pa_text(&b, account_id);
        pa_bytes(&b, hashes[i], RECOVERY_HASH_LEN);
        TRY(pq_write(s, Q_REC_INS, "INSERT INTO recovery_codes(account_id, hash) VALUES($1, $2)",
                     &b, NULL));
    }
    return ERR_OK;
}

err pg_recovery_use(store *s, const char *account_id, const uint8_t hash[RECOVERY_HASH_LEN])
{
    pq_args a = {0};
    pa_text(&a, account_id);
    pa_bytes(&a, hash, RECOVERY_HASH_LEN);
    int64_t n = 0;
    TRY(pq_write(s, Q_REC_USE,
                 "UPDATE recovery_codes SET used=1 WHERE account_id=$1 AND hash=$2 AND used=0", &a,
                 &n));
    ENSURE(n == 1, ERR_AUTH, "invalid recovery code");
    return ERR_OK;
}

err pg_recovery_left(store *s, const char *account_id, int64_t *n)
{
    pq_args a = {0};
    pa_text(&a, account_id);
    PGresult *r;
    TRY(pq_query(s, Q_REC_LEFT,
                 "SELECT count(*) FROM recovery_codes WHERE account_id=$1 AND used=0", &a, &r));
    *n = PQntuples(r) == 1 ? pq_i64(r, 0, 0) : 0;
    PQclear(r);
    return ERR_OK;
}

err pg_recovery_left_many(store *s, const char (*account_ids)[ID_LEN + 1], size_t n, int64_t *left)
{
    for (size_t i = 0; i < n; i++) {
        left[i] = 0;
    }
    if (n == 0) {
        return ERR_OK;
    }
    pq_args a = {0};
    buf lit;
    buf_init(&lit, 0);
    err rc = ERR_OK;
    PGresult *r = NULL;
    GUARD(pa_text_array(&a, &lit, (const char *const *)account_ids, n, ID_LEN + 1));
    GUARD(pq_query(s, Q_REC_LEFT_MANY,
                   "SELECT account_id, count(*) FROM recovery_codes WHERE used=0 AND account_id = "
                   "ANY($1::text[]) GROUP BY account_id",
                   &a, &r));
    for (int row = 0; row < PQntuples(r); row++) {
        char id[ID_LEN + 1];
        pq_text(r, row, 0, id, sizeof id);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(account_ids[i], id) == 0) {
                left[i] = pq_i64(r, row, 1);
            }
        }
    }
out:
    PQclear(r);
    buf_free(&lit);
    return rc;
}

/* ---- API keys ---- */

#define KEY_COLS                                                                                   \
    "id, name, hash, prefix, role, department, scope, addresses, created_by, created, "            \
    "last_used, last_source, revoked, rotated"

static void read_key(const PGresult *r, int row, apikey *k)
{
    memset(k, 0, sizeof *k);
    pq_text(r, row, 0, k->id, sizeof k->id);
    pq_text(r, row, 1, k->name, sizeof k->name);
    if (PQgetlength(r, row, 2) == 32) {
        memcpy(k->hash, PQgetvalue(r, row, 2), 32);
    }
    pq_text(r, row, 3, k->prefix, sizeof k->prefix);
    pq_text(r, row, 4, k->role, sizeof k->role);
    pq_text(r, row, 5, k->department, sizeof k->department);
    pq_text(r, row, 6, k->scope, sizeof k->scope);
    pq_text(r, row, 7, k->addresses, sizeof k->addresses);
    pq_text(r, row, 8, k->created_by, sizeof k->created_by);
    k->created_us = pq_i64(r, row, 9);
    k->last_used_us = pq_i64(r, row, 10);
    pq_text(r, row, 11, k->last_source, sizeof k->last_source);
    k->revoked_us = pq_i64(r, row, 12);
    k->rotated_us = pq_i64(r, row, 13);
}

err pg_apikey_insert(store *s, const apikey *k)
{
    pq_args a = {0};
    pa_text(&a, k->id);
    pa_text(&a, k->name);
    pa_bytes(&a, k->hash, 32);
    pa_text(&a, k->prefix);
    pa_text(&a, k->role);
    pa_text(&a, k->department);
    pa_text(&a, k->scope);
    pa_text(&a, k->addresses);
    pa_text(&a, k->created_by);
    pa_i64(&a, k->created_us);
    err e = pq_write(s, Q_KEY_INS,
                     "INSERT INTO api_keys(id, name, hash, prefix, role, department, scope, "
                     "addresses, created_by, created) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
                     &a, NULL);
    ENSURE(e != ERR_CONFLICT, ERR_CONFLICT, "an API key with that name exists already");
    return e;
}

err pg_apikey_update(store *s, const apikey *k)
{
    pq_args a = {0};
    pa_text(&a, k->id);
    pa_bytes(&a, k->hash, 32);
    pa_text(&a, k->prefix);
    pa_text(&a, k->scope);
    pa_text(&a, k->addresses);
    pa_i64(&a, k->revoked_us);
    pa_i64(&a, k->rotated_us);
    return pq_write(s, Q_KEY_UPD,
                    "UPDATE api_keys SET hash=$2, prefix=$3, scope=$4, addresses=$5, revoked=$6, "
                    "rotated=$7 WHERE id=$1",
                    &a, NULL);
}

static err key_one(store *s, int slot, const char *sql, const pq_args *a, apikey *out)
{
    PGresult *r;
    TRY(pq_query(s, slot, sql, a, &r));
    bool one = PQntuples(r) == 1;
    if (one) {
        read_key(r, 0, out);
    }
    PQclear(r);
    ENSURE(one, ERR_NOT_FOUND, "no such API key");
    return ERR_OK;
}

err pg_apikey_by_hash(store *s, const uint8_t hash[32], apikey *out)
{
    pq_args a = {0};
    pa_bytes(&a, hash, 32);
    return key_one(s, Q_KEY_BY_HASH, "SELECT " KEY_COLS " FROM api_keys WHERE hash=$1", &a, out);
}

err pg_apikey_by_id(store *s, const char *id, apikey *out)
{
    pq_args a = {0};
    pa_text(&a, id);
    return key_one(s, Q_KEY_BY_ID, "SELECT " KEY_COLS " FROM api_keys WHERE id=$1", &a, out);
}

err pg_apikey_by_name(store *s, const char *name, apikey *out)
{
    pq_args a = {0};
    pa_text(&a, name);
    return key_one(s, Q_KEY_BY_NAME, "SELECT " KEY_COLS " FROM api_keys WHERE name=$1", &a, out);
}

err pg_apikey_list(store *s, apikey *out, size_t max, size_t *n)
{
    pq_args a = {0};
    pa_i64(&a, (int64_t)max);
    PGresult *r;
    TRY(pq_query(s, Q_KEY_LIST, "SELECT " KEY_COLS " FROM api_keys ORDER BY name LIMIT $1", &a,
                 &r));
    size_t k = 0;
    for (int row = 0; row < PQntuples(r) && k < max; row++) {
        read_key(r, row, &out[k++]);
    }
    PQclear(r);
    *n = k;
    return ERR_OK;
}

err pg_apikey_used(store *s, const char *id, int64_t at_us, const char *source)
{
    pq_args a = {0};
    pa_text(&a, id);
    pa_i64(&a, at_us);
    pa_text(&a, source);
    return pq_write(s, Q_KEY_USED, "UPDATE api_keys SET last_used=$2, last_source=$3 WHERE id=$1",
                    &a, NULL);
}

/* ---- requests ---- */

#define REQ_COLS                                                                                   \
    "id, kind, customer_id, department, requester_id, requester, status, decided_by, fields, "     \
    "note, format, created, decided, expires, payload"

static err read_request(const PGresult *r, int row, change_request *q)
{
    pq_text(r, row, 0, q->id, sizeof q->id);
    pq_text(r, row, 1, q->kind, sizeof q->kind);
    pq_text(r, row, 2, q->customer_id, sizeof q->customer_id);
    pq_text(r, row, 3, q->department, sizeof q->department);
    pq_text(r, row, 4, q->requester_id, sizeof q->requester_id);
    pq_text(r, row, 5, q->requester, sizeof q->requester);
    pq_text(r, row, 6, q->status, sizeof q->status);
    pq_text(r, row, 7, q->decided_by, sizeof q->decided_by);
    pq_text(r, row, 8, q->fields, sizeof q->fields);
    pq_text(r, row, 9, q->note, sizeof q->note);
    pq_text(r, row, 10, q->format, sizeof q->format);
    q->created_us = pq_i64(r, row, 11);
    q->decided_us = pq_i64(r, row, 12);
    q->expires_us = pq_i64(r, row, 13);
    return pq_buf(r, row, 14, &q->payload);
}

err pg_request_insert(store *s, const change_request *q)
{
    pq_args a = {0};
    pa_text(&a, q->id);
    pa_text(&a, q->kind);
    pa_text(&a, q->customer_id);
    pa_text(&a, q->department);
    pa_text(&a, q->requester_id);
    pa_text(&a, q->requester);
    pa_text(&a, q->status);
    pa_text(&a, q->decided_by);
    pa_text(&a, q->fields);
    pa_text(&a, q->note);
    pa_text(&a, q->format);
    pa_i64(&a, q->created_us);
    pa_i64(&a, q->decided_us);
    pa_i64(&a, q->expires_us);
    pa_bytes(&a, q->payload.p, q->payload.len);
    return pq_write(s, Q_REQ_INS,
                    "INSERT INTO requests(" REQ_COLS
                    ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
                    &a, NULL);
}

err pg_request_decide(store *s, const change_request *q, const char *from)
{
    pq_args a = {0};
    pa_text(&a, q->id);
    pa_text(&a, q->status);
    pa_text(&a, q->decided_by);
    pa_i64(&a, q->decided_us);
    pa_text(&a, q->note);
    pa_i64(&a, q->expires_us);
    pa_text(&a, from);
    pa_bytes(&a, q->payload.p, q->payload.len);
    int64_t n = 0;
    TRY(pq_write(s, Q_REQ_DECIDE,
                 "UPDATE requests SET status=$2, decided_by=$3, decided=$4, note=$5, expires=$6, "
                 "payload=$8 WHERE id=$1 AND status=$7",
                 &a, &n));
    ENSURE(n == 1, ERR_CONFLICT, "the request is no longer %s", from);
    return ERR_OK;
}

static err request_one(store *s, int slot, const char *sql, const pq_args *a, change_request *out)
{
    PGresult *r;
    TRY(pq_query(s, slot, sql, a, &r));
    bool one = PQntuples(r) == 1;
    err rc = one ? read_request(r, 0, out) : ERR_OK;
    PQclear(r);
    TRY(rc);
    ENSURE(one, ERR_NOT_FOUND, "no such request");
    return ERR_OK;
}

err pg_request_get(store *s, const char *id, change_request *out)
{
    pq_args a = {0};
    pa_text(&a, id);
    return request_one(s, Q_REQ_GET, "SELECT " REQ_COLS " FROM requests WHERE id=$1", &a, out);
}

err pg_request_list(store *s, const char *status, const char *department, size_t max,
                    store_request_fn fn, void *ctx)
{
    pq_args a = {0};
    pa_text(&a, status);
    pa_text(&a, department);
    pa_i64(&a, (int64_t)max);
    PGresult *r;
    TRY(pq_query(s, Q_REQ_LIST,
                 "SELECT " REQ_COLS " FROM requests WHERE ($1::text IS NULL OR status=$1) AND "
                 "($2::text IS NULL OR department=$2 OR department='*') ORDER BY created DESC, id "
                 "LIMIT $3",
                 &a, &r));
    change_request row;
    change_request_init(&row);
    err rc = ERR_OK;
    for (int i = 0; i < PQntuples(r); i++) {
        GUARD(read_request(r, i, &row));
        GUARD(fn(ctx, &row));
    }
out:
    PQclear(r);
    change_request_free(&row);
    return rc;
}

err pg_request_latest(store *s, const char *kind, const char *subject, change_request *out)
{
    pq_args a = {0};
    pa_text(&a, kind);
    pa_text(&a, subject);
    return request_one(s, Q_REQ_LATEST,
                       "SELECT " REQ_COLS " FROM requests WHERE kind=$1 AND customer_id=$2 ORDER "
                       "BY created DESC, seq DESC LIMIT 1",
                       &a, out);
}

err pg_request_latest_many(store *s, const char *kind, const char (*subjects)[ID_LEN + 1], size_t n,
                           char (*status)[16])
{
    for (size_t i = 0; i < n; i++) {
        status[i][0] = '\0';
    }
    if (n == 0) {
        return ERR_OK;
    }
    pq_args a = {0};
    buf lit;
    buf_init(&lit, 0);
    err rc = ERR_OK;
    PGresult *r = NULL;
    pa_text(&a, kind);
    GUARD(pa_text_array(&a, &lit, (const char *const *)subjects, n, ID_LEN + 1));
    /* The same row store_request_latest picks, per subject. */
    GUARD(pq_query(s, Q_REQ_LATEST_MANY,
                   "SELECT DISTINCT ON (customer_id) customer_id, status FROM requests WHERE "
                   "kind=$1 AND customer_id = ANY($2::text[]) ORDER BY customer_id, created DESC, "
                   "seq DESC",
                   &a, &r));
    for (int row = 0; row < PQntuples(r); row++) {
        char id[ID_LEN + 1];
        pq_text(r, row, 0, id, sizeof id);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(subjects[i], id) == 0) {
                pq_text(r, row, 1, status[i], 16);
            }
        }
    }
out:
    PQclear(r);
    buf_free(&lit);
    return rc;
}

err pg_department_exists(store *s, const char *department, bool *yes)
{
    pq_args a = {0};
    pa_text(&a, department);
    PGresult *r;
    TRY(pq_query(s, Q_DEPT_EXISTS,
                 "SELECT (EXISTS(SELECT 1 FROM accounts WHERE department=$1) OR EXISTS(SELECT 1 "
                 "FROM customers WHERE department=$1 AND erased=0))::int::int8",
                 &a, &r));
    *yes = PQntuples(r) == 1 && pq_i64(r, 0, 0) != 0;
    PQclear(r);
    return ERR_OK;
}

/* ---- notices ---- */

err pg_notice_add(store *s, const notice *x)
{
    pq_args a = {0};
    pa_i64(&a, x->at_us);
    pa_text(&a, x->recipient);
    pa_text(&a, x->rule);
    pa_text(&a, x->subject);
    pa_text(&a, x->detail);
    return pq_write(s, Q_NOTICE_INS,
                    "INSERT INTO notices(at, recipient, rule, subject, detail) "
                    "VALUES($1,$2,$3,$4,$5)",
                    &a, NULL);
}

err pg_notice_list(store *s, const char *const recipients[STORE_NOTICE_TO_MAX], int64_t after,
                   notice *out, size_t max, size_t *n)
{
    pq_args a = {0};
    for (int i = 0; i < STORE_NOTICE_TO_MAX; i++) {
        pa_text(&a, recipients[i]);
    }
    pa_i64(&a, after);
    pa_i64(&a, (int64_t)max);
    PGresult *r;
    TRY(pq_query(s, Q_NOTICE_LIST,
                 "SELECT id, at, recipient, rule, subject, detail FROM notices WHERE recipient IN "
                 "($1, $2, $3, $4) AND id>$5 ORDER BY id LIMIT $6",
                 &a, &r));
    size_t k = 0;
    for (int row = 0; row < PQntuples(r) && k < max; row++) {
        notice *o = &out[k++];
        memset(o, 0, sizeof *o);
        o->id = pq_i64(r, row, 0);
        o->at_us = pq_i64(r, row, 1);
        pq_text(r, row, 2, o->recipient, sizeof o->recipient);
        pq_text(r, row, 3, o->rule, sizeof o->rule);
        pq_text(r, row, 4, o->subject, sizeof o->subject);
        pq_text(r, row, 5, o->detail, sizeof o->detail);
    }
    PQclear(r);
    *n = k;
    return ERR_OK;
}

/* ---- break-glass ---- */

#define BG_COLS                                                                                    \
    "id, account_id, username, reason, opened, expires, closed, reads, reviewed_by, reviewed, "    \
    "review_note"

static void read_bg(const PGresult *r, int row, breakglass *b)
{
    memset(b, 0, sizeof *b);
    pq_text(r, row, 0, b->id, sizeof b->id);
    pq_text(r, row, 1, b->account_id, sizeof b->account_id);
    pq_text(r, row, 2, b->username, sizeof b->username);
    pq_text(r, row, 3, b->reason, sizeof b->reason);
    b->opened_us = pq_i64(r, row, 4);
    b->expires_us = pq_i64(r, row, 5);
    b->closed_us = pq_i64(r, row, 6);
    b->reads = pq_i64(r, row, 7);
    pq_text(r, row, 8, b->reviewed_by, sizeof b->reviewed_by);
    b->reviewed_us = pq_i64(r, row, 9);
    pq_text(r, row, 10, b->review_note, sizeof b->review_note);
}

static void args_bg(pq_args *a, const breakglass *b)
{
    pa_text(a, b->id);
    pa_text(a, b->account_id);
    pa_text(a, b->username);
    pa_text(a, b->reason);
    pa_i64(a, b->opened_us);
    pa_i64(a, b->expires_us);
    pa_i64(a, b->closed_us);
    pa_i64(a, b->reads);
    pa_text(a, b->reviewed_by);
    pa_i64(a, b->reviewed_us);
    pa_text(a, b->review_note);
}

err pg_breakglass_insert(store *s, const breakglass *b)
{
    pq_args a = {0};
    args_bg(&a, b);
    return pq_write(
        s, Q_BG_INS,
        "INSERT INTO breakglass(" BG_COLS ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)", &a, NULL);
}

err pg_breakglass_update(store *s, const breakglass *b)
{
    pq_args a = {0};
    args_bg(&a, b);
    return pq_write(s, Q_BG_UPD,
                    "UPDATE breakglass SET account_id=$2, username=$3, reason=$4, opened=$5, "
                    "expires=$6, closed=$7, reads=$8, reviewed_by=$9, reviewed=$10, "
                    "review_note=$11 WHERE id=$1",
                    &a, NULL);
}

static err bg_one(store *s, int slot, const char *sql, const pq_args *a, breakglass *out)
{
    PGresult *r;
    TRY(pq_query(s, slot, sql, a, &r));
    bool one = PQntuples(r) == 1;
    if (one) {
        read_bg(r, 0, out);
    }
    PQclear(r);
    ENSURE(one, ERR_NOT_FOUND, "no such break-glass grant");
    return ERR_OK;
}

err pg_breakglass_get(store *s, const char *id, breakglass *out)
{
    pq_args a = {0};
    pa_text(&a, id);
    return bg_one(s, Q_BG_GET, "SELECT " BG_COLS " FROM breakglass WHERE id=$1", &a, out);
}

err pg_breakglass_active(store *s, const char *account_id, int64_t now_us, breakglass *out)
{
    pq_args a = {0};
    pa_text(&a, account_id);
    pa_i64(&a, now_us);
    return bg_one(s, Q_BG_ACTIVE,
                  "SELECT " BG_COLS " FROM breakglass WHERE account_id=$1 AND closed=0 AND "
                  "expires>$2 ORDER BY opened DESC LIMIT 1",
                  &a, out);
}

err pg_breakglass_count_read(store *s, const char *id)
{
    pq_args a = {0};
    pa_text(&a, id);
    return pq_write(s, Q_BG_READ, "UPDATE breakglass SET reads=reads+1 WHERE id=$1", &a, NULL);
}

err pg_breakglass_list(store *s, bool unreviewed_only, breakglass *out, size_t max, size_t *n)
{
    pq_args a = {0};
    pa_i64(&a, (int64_t)max);
    PGresult *r;
    if (unreviewed_only) {
        TRY(pq_query(s, Q_BG_LIST_UNREVIEWED,
                     "SELECT " BG_COLS " FROM breakglass WHERE reviewed=0 ORDER BY opened DESC "
                     "LIMIT $1",
                     &a, &r));
    } else {
        TRY(pq_query(s, Q_BG_LIST,
                     "SELECT " BG_COLS " FROM breakglass ORDER BY opened DESC LIMIT $1", &a, &r));
    }
    size_t k = 0;
    for (int row = 0; row < PQntuples(r) && k < max; row++) {
        read_bg(r, row, &out[k++]);
    }
    PQclear(r);
    *n = k;
    return ERR_OK;
}
