/*
 * sqlite_phish.c - the phishing-simulation tables in SQLite (store_phish.h). The
 * statements are prepared per call on the handle's connection (sq_conn) rather
 * than in the shared statement slots: a campaign's traffic is small, and the
 * slots stay for the hot paths. A mark is one UPDATE guarded by "column = 0", so
 * concurrent requests for the same mail record an event once.
 */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_phish.h"

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS phish_campaigns(id TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "template_id TEXT NOT NULL, lang TEXT NOT NULL, created_by TEXT NOT NULL, created INTEGER "
    "NOT NULL, starts INTEGER NOT NULL, ends INTEGER NOT NULL, track_until INTEGER NOT NULL, "
    "scanner_s INTEGER NOT NULL, remedial TEXT NOT NULL, networks TEXT NOT NULL, targets TEXT "
    "NOT NULL, template BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS phish_mails(id TEXT PRIMARY KEY, campaign TEXT NOT NULL, "
    "account_id TEXT NOT NULL, department TEXT NOT NULL, due INTEGER NOT NULL, token_hash BLOB "
    "UNIQUE, sent INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, opened "
    "INTEGER NOT NULL DEFAULT 0, clicked INTEGER NOT NULL DEFAULT 0, submitted INTEGER NOT NULL "
    "DEFAULT 0, reported INTEGER NOT NULL DEFAULT 0, enrolled INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS phish_mails_campaign ON phish_mails(campaign, due);"
    "CREATE INDEX IF NOT EXISTS phish_mails_due ON phish_mails(sent, due);"
    "CREATE INDEX IF NOT EXISTS phish_mails_account ON phish_mails(account_id);"
    "CREATE TABLE IF NOT EXISTS phish_filtered(campaign TEXT NOT NULL, kind TEXT NOT NULL, "
    "reason TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS phish_filtered_campaign ON phish_filtered(campaign);";

static err prep(store *s, const char *sql, sqlite3_stmt **st)
{
    sqlite3 *db;
    TRY(sq_conn(s, &db));
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return sq_error(s, "phishing: prepare");
    }
    return ERR_OK;
}

/* Steps a statement without rows and finalizes it. */
static err run(store *s, sqlite3_stmt *st, const char *what)
{
    err e = sq_done(s, st, what);
    sqlite3_finalize(st);
    return e;
}

err sqlite_phish_ready(store *s)
{
    sqlite3_stmt *st;
    TRY(prep(s, "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='phish_filtered'",
             &st));
    int r = sqlite3_step(st);
    bool have = r == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    ENSURE(r == SQLITE_ROW, ERR_IO, "store: cannot read the schema");
    if (have) {
        return ERR_OK;
    }
    sqlite3 *db;
    TRY(sq_conn(s, &db));
    return sq_exec(db, SCHEMA);
}

err sqlite_phish_campaign_put(store *s, const phish_campaign *c)
{
    sqlite3_stmt *st;
    TRY(prep(s,
             "INSERT INTO phish_campaigns(id,name,template_id,lang,created_by,created,starts,ends,"
             "track_until,scanner_s,remedial,networks,targets,template) VALUES(?1,?2,?3,?4,?5,?6,"
             "?7,?8,?9,?10,?11,?12,?13,?14)",
             &st));
    sq_text(st, 1, c->id);
    sq_text(st, 2, c->name);
    sq_text(st, 3, c->template_id);
    sq_text(st, 4, c->lang);
    sq_text(st, 5, c->created_by);
    sqlite3_bind_int64(st, 6, c->created_us);
    sqlite3_bind_int64(st, 7, c->starts_us);
    sqlite3_bind_int64(st, 8, c->ends_us);
    sqlite3_bind_int64(st, 9, c->track_until_us);
    sqlite3_bind_int(st, 10, c->scanner_s);
    sq_text(st, 11, c->remedial);
    sq_text(st, 12, c->networks);
    sq_text(st, 13, c->targets);
    sq_blob(st, 14, &c->template);
    return run(s, st, "phishing: campaign insert");
}

#define CAMPAIGN_COLS                                                                              \
    "id,name,template_id,lang,created_by,created,starts,ends,track_until,scanner_s,remedial,"      \
    "networks,targets"

static void campaign_row(sqlite3_stmt *st, phish_campaign *c)
{
    sq_col_text(st, 0, c->id, sizeof c->id);
    sq_col_text(st, 1, c->name, sizeof c->name);
    sq_col_text(st, 2, c->template_id, sizeof c->template_id);
    sq_col_text(st, 3, c->lang, sizeof c->lang);
    sq_col_text(st, 4, c->created_by, sizeof c->created_by);
    c->created_us = sqlite3_column_int64(st, 5);
    c->starts_us = sqlite3_column_int64(st, 6);
    c->ends_us = sqlite3_column_int64(st, 7);
    c->track_until_us = sqlite3_column_int64(st, 8);
    c->scanner_s = sqlite3_column_int(st, 9);
    sq_col_text(st, 10, c->remedial, sizeof c->remedial);
    sq_col_text(st, 11, c->networks, sizeof c->networks);
    sq_col_text(st, 12, c->targets, sizeof c->targets);
}

err sqlite_phish_campaign_get(store *s, const char *id, phish_campaign *out)
{
    sqlite3_stmt *st;
    TRY(prep(s, "SELECT " CAMPAIGN_COLS ",template FROM phish_campaigns WHERE id=?1", &st));
    sq_text(st, 1, id);
    int r = sqlite3_step(st);
    err e = ERR_OK;
    if (r == SQLITE_ROW) {
        campaign_row(st, out);
        e = sq_col_buf(st, 13, &out->template);
    } else if (r == SQLITE_DONE) {
        e = err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "no such campaign");
    } else {
        e = sq_error(s, "phishing: campaign read");
    }
    sqlite3_finalize(st);
    return e;
}

err sqlite_phish_campaign_list(store *s, store_phish_campaign_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    TRY(prep(s, "SELECT " CAMPAIGN_COLS " FROM phish_campaigns ORDER BY created DESC, id", &st));
    err e = ERR_OK;
    int r;
    phish_campaign c;
    while (e == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&c, 0, sizeof c);
        campaign_row(st, &c);
        e = fn(ctx, &c);
    }
    if (e == ERR_OK && r != SQLITE_DONE) {
        e = sq_error(s, "phishing: campaign list");
    }
    sqlite3_finalize(st);
    return e;
}

err sqlite_phish_mail_put(store *s, const phish_mail *m)
{
    sqlite3_stmt *st;
    TRY(prep(s,
             "INSERT INTO phish_mails(id,campaign,account_id,department,due,sent,opened,clicked,"
             "submitted,reported,enrolled) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
             &st));
    sq_text(st, 1, m->id);
    sq_text(st, 2, m->campaign);
    sq_text(st, 3, m->account_id);
    sq_text(st, 4, m->department);
    sqlite3_bind_int64(st, 5, m->due_us);
    sqlite3_bind_int64(st, 6, m->sent_us);
    sqlite3_bind_int64(st, 7, m->opened_us);
    sqlite3_bind_int64(st, 8, m->clicked_us);
    sqlite3_bind_int64(st, 9, m->submitted_us);
    sqlite3_bind_int64(st, 10, m->reported_us);
    sqlite3_bind_int(st, 11, m->enrolled);
    return run(s, st, "phishing: mail insert");
}

#define MAIL_COLS                                                                                  \
    "id,campaign,account_id,department,due,sent,attempts,opened,clicked,submitted,reported,"       \
    "enrolled"

static void mail_row(sqlite3_stmt *st, phish_mail *m)
{
    memset(m, 0, sizeof *m);
    sq_col_text(st, 0, m->id, sizeof m->id);
    sq_col_text(st, 1, m->campaign, sizeof m->campaign);
    sq_col_text(st, 2, m->account_id, sizeof m->account_id);
    sq_col_text(st, 3, m->department, sizeof m->department);
    m->due_us = sqlite3_column_int64(st, 4);
    m->sent_us = sqlite3_column_int64(st, 5);
    m->attempts = sqlite3_column_int(st, 6);
    m->opened_us = sqlite3_column_int64(st, 7);
    m->clicked_us = sqlite3_column_int64(st, 8);
    m->submitted_us = sqlite3_column_int64(st, 9);
    m->reported_us = sqlite3_column_int64(st, 10);
    m->enrolled = sqlite3_column_int(st, 11) != 0;
}

err sqlite_phish_mail_due(store *s, int64_t now_us, int max_attempts, phish_mail *out, size_t max,
                          size_t *n)
{
    sqlite3_stmt *st;
    TRY(prep(s,
             "SELECT " MAIL_COLS " FROM phish_mails WHERE sent=0 AND due<=?1 AND attempts<?2 "
             "ORDER BY due LIMIT ?3",
             &st));
    sqlite3_bind_int64(st, 1, now_us);
    sqlite3_bind_int(st, 2, max_attempts);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    *n = 0;
    int r;
    while (*n < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
        mail_row(st, &out[(*n)++]);
    }
    err e = *n < max && r != SQLITE_DONE ? sq_error(s, "phishing: due mails") : ERR_OK;
    sqlite3_finalize(st);
    return e;
}

err sqlite_phish_mail_sent(store *s, const char *id, const uint8_t hash[32], int64_t at_us)
{
    sqlite3_stmt *st;
    TRY(prep(s,
             "UPDATE phish_mails SET sent=?2, token_hash=?3, attempts=attempts+1 WHERE id=?1 AND "
             "sent=0",
             &st));
    sq_text(st, 1, id);
    sqlite3_bind_int64(st, 2, at_us);
    sqlite3_bind_blob(st, 3, hash, 32, SQLITE_TRANSIENT);
    return run(s, st, "phishing: mail sent");
}

err sqlite_phish_mail_failed(store *s, const char *id)
{
    sqlite3_stmt *st;
    TRY(prep(s, "UPDATE phish_mails SET attempts=attempts+1 WHERE id=?1", &st));
    sq_text(st, 1, id);
    return run(s, st, "phishing: mail failed");
}

err sqlite_phish_mail_by_token(store *s, const uint8_t hash[32], phish_mail *out)
{
    sqlite3_stmt *st;
    TRY(prep(s, "SELECT " MAIL_COLS " FROM phish_mails WHERE token_hash=?1", &st));
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_TRANSIENT);
    int r = sqlite3_step(st);
    err e = ERR_OK;
    if (r == SQLITE_ROW) {
        mail_row(st, out);
    } else if (r == SQLITE_DONE) {
        e = err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "no such mail");
    } else {
        e = sq_error(s, "phishing: mail read");
    }
    sqlite3_finalize(st);
    return e;
}

err sqlite_phish_mail_mark(store *s, const char *id, phish_event ev, int64_t at_us, bool *first)
{
    static const char *const sql[] = {
        [PE_OPEN] = "UPDATE phish_mails SET opened=?2 WHERE id=?1 AND opened=0",
        [PE_CLICK] = "UPDATE phish_mails SET clicked=?2 WHERE id=?1 AND clicked=0",
        [PE_SUBMIT] = "UPDATE phish_mails SET submitted=?2 WHERE id=?1 AND submitted=0",
        [PE_REPORT] = "UPDATE phish_mails SET reported=?2 WHERE id=?1 AND reported=0",
        [PE_ENROLL] = "UPDATE phish_mails SET enrolled=1 WHERE id=?1 AND enrolled=0 AND ?2>0",
    };
    ENSURE((unsigned)ev <= PE_ENROLL, ERR_INTERNAL, "phishing: no such event");
    sqlite3_stmt *st;
    TRY(prep(s, sql[ev], &st));
    sq_text(st, 1, id);
    sqlite3_bind_int64(st, 2, at_us);
    TRY(run(s, st, "phishing: event"));
    *first = sq_changes(s) == 1;
    return ERR_OK;
}

err sqlite_phish_filtered_add(store *s, const char *campaign, const char *kind, const char *reason,
                              int64_t at_us)
{
    sqlite3_stmt *st;
    TRY(prep(s, "INSERT INTO phish_filtered(campaign,kind,reason,at) VALUES(?1,?2,?3,?4)", &st));
    sq_text(st, 1, campaign);
    sq_text(st, 2, kind);
    sq_text(st, 3, reason);
    sqlite3_bind_int64(st, 4, at_us);
    return run(s, st, "phishing: filtered");
}

err sqlite_phish_filtered_count(store *s, const char *campaign, int64_t *n)
{
    sqlite3_stmt *st;
    TRY(prep(s, "SELECT count(*) FROM phish_filtered WHERE campaign=?1", &st));
    sq_text(st, 1, campaign);
    int r = sqlite3_step(st);
    *n = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    err e = r == SQLITE_ROW ? ERR_OK : sq_error(s, "phishing: filtered count");
    sqlite3_finalize(st);
    return e;
}

err sqlite_phish_mails(store *s, const char *campaign, const char *account_id,
                       store_phish_mail_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    TRY(prep(s,
             "SELECT " MAIL_COLS " FROM phish_mails WHERE (?1 IS NULL OR campaign=?1) AND (?2 IS "
             "NULL OR account_id=?2) ORDER BY due, id",
             &st));
    if (campaign) {
        sq_text(st, 1, campaign);
    }
    if (account_id) {
        sq_text(st, 2, account_id);
    }
    err e = ERR_OK;
    int r = SQLITE_DONE;
    phish_mail m;
    while (e == ERR_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        mail_row(st, &m);
        e = fn(ctx, &m);
    }
    if (e == ERR_OK && r != SQLITE_DONE) {
        e = sq_error(s, "phishing: mails");
    }
    sqlite3_finalize(st);
    return e;
}
