/*
 * audit.c - the durable, group-committed, Merkle-tree audit log on its own
 * SQLite file.
 *
 * Tables: entries (index, canonical bytes, leaf hash, and the columns queries
 * need: time, actor, action, customer, decision), touched (every customer an
 * entry names, by bucket of 2^BUCKET_BITS entries, for data-subject reports),
 * by_actor (actor, time, index: breach scope), nodes (every complete subtree hash of
 * 2^NODE_MIN_LEVEL leaves or more, so proofs cost O(log n) lookups; a smaller one is hashed from
 * its at most 2^(NODE_MIN_LEVEL-1) leaves when asked for, which keeps the rows a batch writes to an
 * eighth of one per entry), checkpoints (every signed note), meta.
 *
 * The two query indexes are not written entry by entry: 64 writers a batch
 * would dirty a B-tree page per actor and per customer on every commit, which
 * cost more than everything else together. Entries past the watermark
 * meta('indexed') are indexed in bulk, sorted, once INDEX_EVERY of them have
 * piled up (and at open), in the same transaction as a batch; queries read the
 * indexes below the watermark and the few entries above it directly, so an
 * answer is complete whatever the watermark. Only an entry naming several
 * customers (an export) writes its touches at once. Customers are many, so
 * even sorted their rows would land on a different page each once the index
 * outgrows a flush: touched leads with the bucket (index >> BUCKET_BITS), which
 * makes a flush an append, and a data-subject report seeks once per bucket.
 *
 * One writer thread owns the write connection and the in-memory right
 * frontier of the tree. Each batch is one transaction: the next index is read
 * under SQLite's write lock (offline tools append to the same file while the
 * server runs), entries are encoded with their index, leaves and new subtree
 * hashes are inserted, and one commit makes all of it durable. Reads (proofs,
 * queries) use a second connection behind a mutex.
 */
#include "audit/audit.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "core/clock.h"
#include "core/fault.h"
#include "core/file.h"
#include "core/log.h"
#include "core/utf8.h"

/* A queued entry. The caller's thread encodes it (in parallel with other callers) with
 * index 0; the writer splices the real index in at `at`, where the canonical bytes read
 * `"i":0`. Keys are sorted and strings escaped, so that spot is unique. */
typedef struct pending {
    const audit_entry *e;
    int64_t ts_us;
    buf bytes;
    size_t at; /* offset of the '0' after "i": */
    uint64_t index;
    err rc;
    sem_t done; /* posted once: each waiter is woken exactly once */
    bool last;  /* the last of a caller's run (append_many waits for it only) */
    struct pending *next;
    struct pending *wake[2]; /* waiters this one wakes once it is woken */
} pending;

static err pending_encode(pending *p)
{
    audit_entry e = *p->e;
    e.ts_us = p->ts_us;
    buf_init(&p->bytes, 1 << 20);
    TRY(audit_encode(&e, 0, &p->bytes));
    for (size_t k = 1; k + 5 <= p->bytes.len; k++) {
        if ((p->bytes.p[k - 1] == ',' || p->bytes.p[k - 1] == '{') &&
            memcmp(p->bytes.p + k, "\"i\":0", 5) == 0) {
            p->at = k + 4;
            return ERR_OK;
        }
    }
    BAIL(ERR_INTERNAL, "audit: encoded entry has no index");
}

/* The entry's bytes with its index. */
static err pending_bytes(const pending *p, uint64_t idx, buf *out)
{
    buf_reset(out);
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)idx);
    TRY(buf_append(out, p->bytes.p, p->at));
    TRY(buf_append(out, num, (size_t)n));
    return buf_append(out, p->bytes.p + p->at + 1, p->bytes.len - p->at - 1);
}

/* A connection with the statements the tree needs. */
typedef struct treedb {
    sqlite3 *db;
    sqlite3_stmt *leaf, *leaves, *node;
} treedb;

/* The lowest level of stored subtree hashes. */
#define NODE_MIN_LEVEL 4

/* Entries past the watermark that trigger a bulk index. */
#define INDEX_EVERY 4096
/* touched.bucket = idx >> BUCKET_BITS: a bucket is about one flush. */
#define BUCKET_BITS 12
#define STR_(x) #x
#define STR(x) STR_(x)
#define BUCKET_SQL "idx>>" STR(BUCKET_BITS) /* an entry's bucket, in SQL */

struct audit {
    char *path;
    treedb w; /* writer thread only */
    sqlite3_stmt *ins, *next, *touch, *put_node, *put_cp, *last_cp;
    sqlite3_stmt *ix_actor, *ix_touch, *ix_mark, *ix_get;
    uint64_t indexed;     /* writer thread only: the watermark as last read or written */
    uint64_t index_retry; /* writer thread only: no bulk index before this size */
    treedb r;             /* readers, under rmu */
    pthread_mutex_t rmu;
    /* mu guards the queue, the counters and the checkpoint state below; the writer thread
     * releases it while it writes a batch or signs. work wakes the writer (entries queued, a
     * checkpoint requested, stop); signed wakes the callers of audit_checkpoint_now after
     * each signing round. Both wait on CLOCK_MONOTONIC. */
    pthread_mutex_t mu;
    pthread_cond_t work;
    pthread_cond_t signed_cv;
    pending *head, *tail;
    pending **waiters; /* writer thread only: a batch's waiters, in wake order */
    size_t nwaiters_cap;
    uint64_t size; /* under mu: entries durable, as this process last saw */
    int stop;
    _Atomic int fail; /* set by audit_fail_next (tests), read by the writer */
    pthread_t writer;
    merkle_frontier fr; /* writer thread only */
    bool fr_valid;
    /* checkpoints: the settings are written once by audit_enable_checkpoints under mu and
     * only read after the writer has seen signing set under mu */
    bool signing;
    char origin[256], key_name[128];
    uint8_t pk[32];
    audit_signer sign;
    void *sign_ctx;
    uint64_t every_n;
    int64_t every_us;
    int64_t wait_us;       /* how long audit_checkpoint_now waits for the writer */
    uint64_t cp_size;      /* under mu: size of the last checkpoint signed */
    int64_t cp_at_us;      /* under mu: monotonic time of the last checkpoint (or of open) */
    bool cp_requested;     /* under mu: audit_checkpoint_now asks the writer to sign now */
    uint64_t cp_rounds;    /* under mu: signing rounds finished by the writer */
    err cp_rc;             /* under mu: the last round's result */
    audit_note_fn on_note; /* under mu */
    void *on_note_ctx;
};

/* An absolute CLOCK_MONOTONIC time us microseconds from now, for pthread_cond_timedwait on a
 * condition variable made with mono_cond_init. */
static struct timespec mono_deadline(int64_t us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(us / 1000000);
    ts.tv_nsec += (long)(us % 1000000) * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

static void mono_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t at;
    pthread_condattr_init(&at);
    pthread_condattr_setclock(&at, CLOCK_MONOTONIC);
    pthread_cond_init(c, &at);
    pthread_condattr_destroy(&at);
}

static const char *SCHEMA =
    /* The WAL is checkpointed at 1,024 pages (4 MiB) and cut back to 4 MiB when the
     * checkpoint restarts it; a clean close leaves none (docs/OPERATIONS.md). */
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=1024;"
    "PRAGMA journal_size_limit=4194304;"
    "PRAGMA cache_size=-65536;"
    "CREATE TABLE IF NOT EXISTS entries(idx INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    " actor TEXT NOT NULL, action TEXT NOT NULL, customer TEXT, decision TEXT NOT NULL,"
    " entry BLOB NOT NULL, leaf BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS by_actor(actor TEXT NOT NULL, ts INTEGER NOT NULL,"
    " idx INTEGER NOT NULL, PRIMARY KEY(actor, ts, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS touched(bucket INTEGER NOT NULL, customer TEXT NOT NULL,"
    " idx INTEGER NOT NULL, PRIMARY KEY(bucket, customer, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, n INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta(k, n) VALUES('indexed', 0);"
    "CREATE TABLE IF NOT EXISTS nodes(level INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " hash BLOB NOT NULL, PRIMARY KEY(level, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS checkpoints(size INTEGER PRIMARY KEY, root BLOB NOT NULL,"
    " note TEXT NOT NULL, at INTEGER NOT NULL);";

err audit_create(const char *path)
{
    ENSURE(access(path, F_OK) != 0, ERR_CONFLICT, "audit: log exists already");
    TRY(file_create_private(path));
    sqlite3 *db = NULL;
    err rc = ERR_OK;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
        sqlite3_exec(db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        rc = err_set(ERR_IO, __FILE__, __LINE__, "audit: cannot create the log");
    }
    sqlite3_close_v2(db);
    return rc;
}

/* ---- encoding ---- */

/* The canonical encoding is what jansson's json_dumps(JSON_COMPACT | JSON_SORT_KEYS |
 * JSON_ENSURE_ASCII) writes for the entry's object, byte for byte; audit_test.c checks
 * this encoder against jansson on random entries. It is written out because jansson's
 * object, allocations and sort were a fifth of the CPU of an audited request. A string
 * that is not valid UTF-8 is left out, as jansson leaves out a value it cannot make. */

/* ,"key": (the comma unless first) */
static err put_key(buf *out, bool *first, const char *k)
{
    if (!*first) {
        TRY(buf_append_byte(out, ','));
    }
    *first = false;
    TRY(buf_append_byte(out, '"'));
    TRY(buf_append_str(out, k));
    return buf_append(out, "\":", 2);
}

/* ,"key":"value", escaped as jansson does. */
static err put_str(buf *out, bool *first, const char *k, const char *v)
{
    if (!v || !utf8_valid((const uint8_t *)v, strlen(v))) {
        return ERR_OK;
    }
    TRY(put_key(out, first, k));
    TRY(buf_append_byte(out, '"'));
    const unsigned char *p = (const unsigned char *)v;
    while (*p) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
            p++;
        }
        TRY(buf_append(out, run, (size_t)(p - run)));
        if (!*p) {
            break;
        }
        uint32_t cp = 0; /* the string was validated: n > 0 */
        size_t n = utf8_seq_len(p, SIZE_MAX, &cp);
        p += n;
        switch (cp) {
        case '"':
            TRY(buf_append_str(out, "\\\""));
            break;
        case '\\':
            TRY(buf_append_str(out, "\\\\"));
            break;
        case '\b':
            TRY(buf_append_str(out, "\\b"));
            break;
        case '\f':
            TRY(buf_append_str(out, "\\f"));
            break;
        case '\n':
            TRY(buf_append_str(out, "\\n"));
            break;
        case '\r':
            TRY(buf_append_str(out, "\\r"));
            break;
        case '\t':
            TRY(buf_append_str(out, "\\t"));
            break;
        default:
            if (cp < 0x10000) {
                TRY(buf_appendf(out, "\\u%04X", (unsigned)cp));
            } else {
                cp -= 0x10000;
                TRY(buf_appendf(out, "\\u%04X\\u%04X", (unsigned)(0xD800 | (cp >> 10)),
                                (unsigned)(0xDC00 | (cp & 0x3FF))));
            }
        }
    }
    return buf_append_byte(out, '"');
}

/* ,"key":n for n >= 0 (indexes and counts) */
static err put_uint(buf *out, bool *first, const char *k, uint64_t v)
{
    char d[24];
    size_t n = sizeof d;
    do {
        d[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    TRY(put_key(out, first, k));
    return buf_append(out, d + n, sizeof d - n);
}

err audit_encode(const audit_entry *e, uint64_t index, buf *out)
{
    char ts[40];
    clock_rfc3339(e->ts_us ? e->ts_us : clock_now_us(), ts);
    buf_reset(out);
    bool first = true;
    /* keys in strcmp order */
    TRY(buf_append_byte(out, '{'));
    TRY(put_str(out, &first, "action", e->action ? e->action : "-"));
    TRY(put_str(out, &first, "actor", e->actor ? e->actor : "-"));
    TRY(put_str(out, &first, "categories", e->categories));
    if (e->count >= 0) {
        TRY(put_uint(out, &first, "count", (uint64_t)e->count));
    }
    TRY(put_str(out, &first, "customer", e->customer));
    TRY(put_str(out, &first, "customers", e->customers));
    TRY(put_str(out, &first, "decision", e->decision ? e->decision : "deny"));
    TRY(put_str(out, &first, "fields", e->fields));
    TRY(put_uint(out, &first, "i", index));
    TRY(put_str(out, &first, "query_hash", e->query_hash));
    TRY(put_str(out, &first, "reason", e->reason));
    TRY(put_str(out, &first, "request_id", e->request_id));
    TRY(put_str(out, &first, "role", e->role ? e->role : "-"));
    TRY(put_str(out, &first, "rule", e->rule));
    TRY(put_str(out, &first, "session", e->session));
    TRY(put_str(out, &first, "source", e->source ? e->source : "-"));
    TRY(put_str(out, &first, "ts", ts));
    TRY(put_uint(out, &first, "v", 1));
    return buf_append_byte(out, '}');
}

static const char *const STR_KEYS[] = {
    "actor",      "role",   "source",   "session", "action", "customer",   "customers",
    "categories", "fields", "decision", "rule",    "reason", "request_id", "query_hash"};

err audit_decode(slice bytes, audit_decoded *out)
{
    memset(out, 0, sizeof *out);
    ENSURE(bytes.len > 0 && bytes.len <= (1 << 20), ERR_INPUT, "entry: empty or too large");
    json_error_t je;
    json_t *o = json_loadb((const char *)bytes.p, bytes.len, JSON_REJECT_DUPLICATES, &je);
    ENSURE(o != NULL, ERR_INPUT, "entry: not JSON");
    err rc = ERR_OK;
    buf again;
    buf_init(&again, 1 << 20);
    CHECK(json_is_object(o), ERR_INPUT, "entry: not an object");
    json_t *v = json_object_get(o, "v"), *i = json_object_get(o, "i"),
           *ts = json_object_get(o, "ts"), *cnt = json_object_get(o, "count");
    CHECK(json_is_integer(v) && json_integer_value(v) == 1, ERR_INPUT, "entry: unknown version");
    CHECK(json_is_integer(i) && json_integer_value(i) >= 0, ERR_INPUT, "entry: bad index");
    CHECK(json_is_string(ts), ERR_INPUT, "entry: bad time");
    CHECK(cnt == NULL || (json_is_integer(cnt) && json_integer_value(cnt) >= 0), ERR_INPUT,
          "entry: bad count");
    audit_entry e;
    memset(&e, 0, sizeof e);
    e.count = cnt ? (int64_t)json_integer_value(cnt) : -1;
    GUARD(clock_parse_rfc3339(json_string_value(ts), &e.ts_us));
    size_t known = 3 + (cnt ? 1 : 0);
    const char **slots[] = {&e.actor,    &e.role,      &e.source,     &e.session,   &e.action,
                            &e.customer, &e.customers, &e.categories, &e.fields,    &e.decision,
                            &e.rule,     &e.reason,    &e.request_id, &e.query_hash};
    for (size_t k = 0; k < sizeof STR_KEYS / sizeof STR_KEYS[0]; k++) {
        json_t *s = json_object_get(o, STR_KEYS[k]);
        if (s) {
            CHECK(json_is_string(s), ERR_INPUT, "entry: %s is not a string", STR_KEYS[k]);
            *slots[k] = json_string_value(s);
            known++;
        }
    }
    CHECK(known == json_object_size(o), ERR_INPUT, "entry: unknown key");
    CHECK(e.actor && e.role && e.source && e.action && e.decision, ERR_INPUT,
          "entry: a required key is missing");
    CHECK(strcmp(e.decision, "allow") == 0 || strcmp(e.decision, "deny") == 0, ERR_INPUT,
          "entry: bad decision");
    /* Canonical: encoding the decoded entry gives the same bytes. */
    GUARD(audit_encode(&e, (uint64_t)json_integer_value(i), &again));
    CHECK(again.len == bytes.len && memcmp(again.p, bytes.p, bytes.len) == 0, ERR_INPUT,
          "entry: not in canonical form");
    out->index = (uint64_t)json_integer_value(i);
    out->ts_us = e.ts_us;
    snprintf(out->actor, sizeof out->actor, "%s", e.actor);
    snprintf(out->role, sizeof out->role, "%s", e.role);
    snprintf(out->action, sizeof out->action, "%s", e.action);
    snprintf(out->decision, sizeof out->decision, "%s", e.decision);
    snprintf(out->customer, sizeof out->customer, "%s", e.customer ? e.customer : "");
out:
    buf_free(&again);
    json_decref(o);
    return rc;
}

/* ---- tree storage ---- */

static err treedb_open(const char *path, int flags, treedb *t)
{
    fault_init(); /* test builds: the fault-injection VFS (core/fault.h) */
    memset(t, 0, sizeof *t);
    if (sqlite3_open_v2(path, &t->db, flags, NULL) != SQLITE_OK) {
        sqlite3_close_v2(t->db);
        t->db = NULL;
        BAIL(ERR_UNAVAILABLE, "audit: cannot open the log");
    }
    sqlite3_busy_timeout(t->db, 5000);
    if (sqlite3_prepare_v3(t->db, "SELECT leaf FROM entries WHERE idx=?1", -1,
                           SQLITE_PREPARE_PERSISTENT, &t->leaf, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(t->db, "SELECT leaf FROM entries WHERE idx>=?1 AND idx<?2 ORDER BY idx",
                           -1, SQLITE_PREPARE_PERSISTENT, &t->leaves, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(t->db, "SELECT hash FROM nodes WHERE level=?1 AND idx=?2", -1,
                           SQLITE_PREPARE_PERSISTENT, &t->node, NULL) != SQLITE_OK) {
        BAIL(ERR_UNAVAILABLE, "audit: the log has no usable tables (%s)", sqlite3_errmsg(t->db));
    }
    return ERR_OK;
}

static void treedb_close(treedb *t)
{
    sqlite3_finalize(t->leaf);
    sqlite3_finalize(t->leaves);
    sqlite3_finalize(t->node);
    sqlite3_close_v2(t->db);
    memset(t, 0, sizeof *t);
}

/* A complete subtree below NODE_MIN_LEVEL, hashed from its leaves. */
static err low_subtree(treedb *t, unsigned level, uint64_t index, uint8_t out[32])
{
    uint8_t h[1u << (NODE_MIN_LEVEL - 1)][32];
    size_t n = (size_t)1 << level, got = 0;
    sqlite3_stmt *st = t->leaves;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)(index << level));
    sqlite3_bind_int64(st, 2, (sqlite3_int64)((index + 1) << level));
    while (got < n && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(h[got++], sqlite3_column_blob(st, 0), 32);
    }
    sqlite3_reset(st);
    ENSURE(got == n, ERR_CRYPTO, "audit: tree node %u/%llu is missing", level,
           (unsigned long long)index);
    for (; n > 1; n /= 2) {
        for (size_t k = 0; k < n / 2; k++) {
            merkle_node_hash(h[2 * k], h[2 * k + 1], h[k]);
        }
    }
    memcpy(out, h[0], 32);
    return ERR_OK;
}

static err tree_subtree(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    treedb *t = ctx;
    if (level > 0 && level < NODE_MIN_LEVEL) {
        return low_subtree(t, level, index, out);
    }
    sqlite3_stmt *st = level == 0 ? t->leaf : t->node;
    sqlite3_reset(st);
    if (level == 0) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
    } else {
        sqlite3_bind_int(st, 1, (int)level);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    }
    int r = sqlite3_step(st);
    bool ok = r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32;
    if (ok) {
        memcpy(out, sqlite3_column_blob(st, 0), 32);
    }
    sqlite3_reset(st);
    ENSURE(ok, ERR_CRYPTO, "audit: tree node %u/%llu is missing", level, (unsigned long long)index);
    return ERR_OK;
}

static merkle_src src_of(treedb *t)
{
    merkle_src s = {t, tree_subtree};
    return s;
}

static err emit_node(void *ctx, unsigned level, uint64_t index, const uint8_t h[32])
{
    audit *a = ctx;
    if (level < NODE_MIN_LEVEL) {
        return ERR_OK; /* leaves live in entries; small subtrees are hashed from them */
    }
    sqlite3_reset(a->put_node);
    sqlite3_bind_int(a->put_node, 1, (int)level);
    sqlite3_bind_int64(a->put_node, 2, (sqlite3_int64)index);
    sqlite3_bind_blob(a->put_node, 3, h, 32, SQLITE_STATIC);
    int r = sqlite3_step(a->put_node);
    sqlite3_reset(a->put_node);
    ENSURE(r == SQLITE_DONE, ERR_UNAVAILABLE, "audit: cannot store a tree node");
    return ERR_OK;
}

/* ---- writing ---- */

static err add_touch(audit *a, const char *customer, uint64_t idx)
{
    sqlite3_reset(a->touch);
    sqlite3_bind_int64(a->touch, 1, (sqlite3_int64)(idx >> BUCKET_BITS));
    sqlite3_bind_text(a->touch, 2, customer, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(a->touch, 3, (sqlite3_int64)idx);
    int r = sqlite3_step(a->touch);
    sqlite3_reset(a->touch);
    ENSURE(r == SQLITE_DONE, ERR_UNAVAILABLE, "audit: cannot index an entry");
    return ERR_OK;
}

/* The touches of an entry that names several customers; the one in its customer
 * column is indexed in bulk with the rest. */
static err touches_of(audit *a, const audit_entry *e, uint64_t idx)
{
    if (e->customers) {
        const char *p = e->customers;
        while (*p) {
            const char *c = strchr(p, ',');
            size_t n = c ? (size_t)(c - p) : strlen(p);
            char id[64];
            if (n > 0 && n < sizeof id) {
                memcpy(id, p, n);
                id[n] = '\0';
                if (!e->customer || strcmp(id, e->customer) != 0) {
                    TRY(add_touch(a, id, idx));
                }
            }
            p += n;
            if (*p == ',') {
                p++;
            }
        }
    }
    return ERR_OK;
}

static err step_range(sqlite3_stmt *st, uint64_t from, uint64_t to)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)to);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    ENSURE(r == SQLITE_DONE, ERR_UNAVAILABLE, "audit: cannot index the log");
    return ERR_OK;
}

/* Reads the watermark (inside the writer's transaction). */
static err index_mark_read(audit *a)
{
    sqlite3_reset(a->ix_get);
    int r = sqlite3_step(a->ix_get);
    a->indexed = r == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(a->ix_get, 0) : 0;
    sqlite3_reset(a->ix_get);
    ENSURE(r == SQLITE_ROW || r == SQLITE_DONE, ERR_UNAVAILABLE, "audit: cannot read the log");
    return ERR_OK;
}

/* Indexes entries [watermark, upto) sorted, so each actor's and customer's new rows
 * land together, and moves the watermark (inside the writer's transaction). */
static err index_flush(audit *a, uint64_t upto)
{
    if (upto <= a->indexed) {
        return ERR_OK;
    }
    TRY(step_range(a->ix_actor, a->indexed, upto));
    TRY(step_range(a->ix_touch, a->indexed, upto));
    sqlite3_reset(a->ix_mark);
    sqlite3_bind_int64(a->ix_mark, 1, (sqlite3_int64)upto);
    int r = sqlite3_step(a->ix_mark);
    sqlite3_reset(a->ix_mark);
    ENSURE(r == SQLITE_DONE, ERR_UNAVAILABLE, "audit: cannot index the log");
    a->indexed = upto;
    return ERR_OK;
}

/* The bulk index inside a batch's transaction, under a savepoint: the entries are the
 * evidence and the indexes only derive from them, so an index that cannot be written
 * (a disk nearly full) is rolled back alone and tried again 4,096 entries later; queries
 * stay complete meanwhile, reading the longer tail directly. */
static void index_try(audit *a, uint64_t upto)
{
    sqlite3 *db = a->w.db;
    uint64_t before = a->indexed;
    if (sqlite3_exec(db, "SAVEPOINT bulk_index", NULL, NULL, NULL) != SQLITE_OK) {
        return;
    }
    if (index_flush(a, upto) == ERR_OK) {
        sqlite3_exec(db, "RELEASE bulk_index", NULL, NULL, NULL);
        return;
    }
    log_warn("audit.index", "could not index entries %llu to %llu (%s): tried again later",
             (unsigned long long)before, (unsigned long long)upto, sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK TO bulk_index; RELEASE bulk_index", NULL, NULL, NULL);
    a->indexed = before;
    a->index_retry = upto + INDEX_EVERY;
}

/* Writer thread: one transaction for the batch; *size receives the log's size after it. */
static err write_batch(audit *a, pending *list, uint64_t *size)
{
    ENSURE(!a->fail, ERR_UNAVAILABLE, "audit log is not writable: request refused");
    sqlite3 *db = a->w.db;
    buf enc;
    buf_init(&enc, 1 << 20);
    merkle_frontier saved = a->fr;
    bool saved_valid = a->fr_valid;
    uint64_t saved_indexed = a->indexed;
    err rc = ERR_OK;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        FAIL(ERR_UNAVAILABLE, "audit log is not writable: request refused");
    }
    /* Offline tools append to the same file while the server runs: the next index is read
     * under the write lock, and the frontier reloaded when someone else wrote. */
    sqlite3_reset(a->next);
    CHECK(sqlite3_step(a->next) == SQLITE_ROW, ERR_UNAVAILABLE, "audit log is not readable");
    uint64_t idx = (uint64_t)sqlite3_column_int64(a->next, 0);
    sqlite3_reset(a->next);
    if (!a->fr_valid || a->fr.size != idx) {
        merkle_src s = src_of(&a->w);
        GUARD(merkle_frontier_load(&a->fr, &s, idx));
        a->fr_valid = true;
        GUARD(index_mark_read(a));
    }
    for (pending *p = list; p; p = p->next) {
        const audit_entry e = *p->e;
        GUARD(pending_bytes(p, idx, &enc));
        CHECK(!fault_hit(FAULT_AUDIT_ALLOC), ERR_INTERNAL, "audit: out of memory");
        uint8_t leaf[32];
        merkle_leaf_hash(enc.p, enc.len, leaf);
        sqlite3_reset(a->ins);
        sqlite3_bind_int64(a->ins, 1, (sqlite3_int64)idx);
        sqlite3_bind_int64(a->ins, 2, p->ts_us);
        sqlite3_bind_text(a->ins, 3, e.actor ? e.actor : "-", -1, SQLITE_STATIC);
        sqlite3_bind_text(a->ins, 4, e.action ? e.action : "-", -1, SQLITE_STATIC);
        if (e.customer) {
            sqlite3_bind_text(a->ins, 5, e.customer, -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(a->ins, 5);
        }
        sqlite3_bind_text(a->ins, 6, e.decision ? e.decision : "deny", -1, SQLITE_STATIC);
        sqlite3_bind_blob(a->ins, 7, enc.p, (int)enc.len, SQLITE_STATIC);
        sqlite3_bind_blob(a->ins, 8, leaf, 32, SQLITE_STATIC);
        int r = sqlite3_step(a->ins);
        sqlite3_reset(a->ins);
        CHECK(r == SQLITE_DONE, ERR_UNAVAILABLE, "audit log is not writable: request refused");
        GUARD(touches_of(a, &e, idx));
        GUARD(merkle_frontier_append(&a->fr, leaf, emit_node, a));
        p->index = idx++;
    }
    if (idx - a->indexed >= INDEX_EVERY && idx >= a->index_retry) {
        index_try(a, idx);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        FAIL(ERR_UNAVAILABLE, "audit log is not writable: request refused");
    }
    *size = idx;
out:
    if (rc != ERR_OK) {
        log_error("audit.write_failed", "audit log write failed: %s", sqlite3_errmsg(db));
        if (!sqlite3_get_autocommit(db)) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        }
        a->fr = saved;
        a->fr_valid = saved_valid;
        a->indexed = saved_indexed;
        rc = err_set(ERR_UNAVAILABLE, __FILE__, __LINE__,
                     "audit log is not writable: request refused");
    }
    buf_free(&enc);
    return rc;
}

/* ---- checkpoints ---- */

static void signer_tramp(void *ctx, slice msg, uint8_t sig[64])
{
    audit *a = ctx;
    a->sign(a->sign_ctx, msg, sig);
}

/* Latest checkpoint in the log (size 0 and no note when there is none). */
static err last_checkpoint(audit *a, sqlite3_stmt *st, uint64_t *size, uint8_t root[32], buf *note,
                           int64_t *at)
{
    sqlite3_reset(st);
    int r = sqlite3_step(st);
    *size = 0;
    if (r == SQLITE_ROW) {
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        if (root && sqlite3_column_bytes(st, 1) == 32) {
            memcpy(root, sqlite3_column_blob(st, 1), 32);
        }
        if (note) {
            err e = buf_set(note, sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
            if (e != ERR_OK) {
                sqlite3_reset(st);
                return e;
            }
        }
        if (at) {
            *at = sqlite3_column_int64(st, 3);
        }
    }
    sqlite3_reset(st);
    ENSURE(r == SQLITE_ROW || r == SQLITE_DONE, ERR_UNAVAILABLE, "audit: cannot read checkpoints");
    return ERR_OK;
}

/* Under the write lock: the tree as it is in the file, which offline tools (backup, keys
 * rotate) append to and sign while the server runs. A checkpoint signed from a frontier
 * left behind would go back before theirs. */
static err tree_catch_up(audit *a)
{
    sqlite3_reset(a->next);
    int r = sqlite3_step(a->next);
    uint64_t idx = r == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(a->next, 0) : 0;
    sqlite3_reset(a->next);
    ENSURE(r == SQLITE_ROW, ERR_UNAVAILABLE, "audit: cannot read the log");
    if (!a->fr_valid || a->fr.size != idx) {
        merkle_src s = src_of(&a->w);
        a->fr_valid = false;
        TRY(merkle_frontier_load(&a->fr, &s, idx));
        a->fr_valid = true;
        TRY(index_mark_read(a));
    }
    pthread_mutex_lock(&a->mu);
    if (a->size < idx) {
        a->size = idx;
    }
    pthread_mutex_unlock(&a->mu);
    return ERR_OK;
}

static err sign_locked(audit *a, uint64_t cp_size, buf *note, uint64_t *signed_size);

/* Writer thread (or audit_close once it has stopped): signs a checkpoint of the current tree,
 * after checking it is consistent with the last one, inside one write transaction (the tree
 * cannot grow meanwhile, and offline tools appending to the log wait). cp_size is the last
 * signed size; *signed_size receives the new one (unchanged when there was nothing to sign).
 * on_note gets the note, after the commit. */
static err sign_checkpoint(audit *a, uint64_t cp_size, audit_note_fn on_note, void *on_note_ctx,
                           uint64_t *signed_size)
{
    *signed_size = cp_size;
    if (!a->signing) {
        return ERR_OK;
    }
    sqlite3 *db = a->w.db;
    ENSURE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK, ERR_UNAVAILABLE,
           "audit: cannot lock the log to sign a checkpoint (%s)", sqlite3_errmsg(db));
    buf note;
    buf_init(&note, 1 << 16);
    uint64_t size = 0;
    err rc = sign_locked(a, cp_size, &note, &size);
    if (rc == ERR_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = err_set(ERR_UNAVAILABLE, __FILE__, __LINE__, "audit: cannot store a checkpoint");
    }
    if (rc != ERR_OK && !sqlite3_get_autocommit(db)) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    /* Handed on after the commit, with the log unlocked (the callback writes elsewhere). */
    if (rc == ERR_OK && size > 0) {
        *signed_size = size;
        if (note.len > 0 && on_note) {
            on_note(on_note_ctx, buf_slice(&note));
        }
    }
    buf_free(&note);
    return rc;
}

/* Signs and stores a checkpoint of the tree unless the last one covers it already; *signed_size
 * is the size then covered (0: nothing to do), note the new note (empty when none). */
static err sign_locked(audit *a, uint64_t cp_size, buf *note, uint64_t *signed_size)
{
    TRY(tree_catch_up(a));
    if (!a->fr_valid || a->fr.size == 0 || a->fr.size == cp_size) {
        return ERR_OK;
    }
    checkpoint c;
    memset(&c, 0, sizeof c);
    snprintf(c.origin, sizeof c.origin, "%s", a->origin);
    c.size = a->fr.size;
    merkle_frontier_root(&a->fr, c.root);
    uint64_t m;
    uint8_t root_m[32];
    TRY(last_checkpoint(a, a->last_cp, &m, root_m, NULL, NULL));
    if (m == c.size) { /* signed already, by an offline tool */
        *signed_size = m;
        return ERR_OK;
    }
    if (m > 0) {
        uint8_t proof[MERKLE_MAX_PROOF][32];
        size_t len = 0;
        merkle_src s = src_of(&a->w);
        TRY(merkle_consistency_proof(&s, m, c.size, proof, &len));
        if (!merkle_verify_consistency(m, c.size, root_m, c.root, proof, len)) {
            log_error("audit.inconsistent",
                      "refusing to sign: the tree at %llu is not consistent with the checkpoint "
                      "at %llu",
                      (unsigned long long)c.size, (unsigned long long)m);
            BAIL(ERR_CRYPTO, "audit: the log is not consistent with its last checkpoint");
        }
    }
    TRY(checkpoint_sign(&c, a->key_name, a->pk, signer_tramp, a, note));
    sqlite3_reset(a->put_cp);
    sqlite3_bind_int64(a->put_cp, 1, (sqlite3_int64)c.size);
    sqlite3_bind_blob(a->put_cp, 2, c.root, 32, SQLITE_STATIC);
    sqlite3_bind_text(a->put_cp, 3, (const char *)note->p, (int)note->len, SQLITE_STATIC);
    sqlite3_bind_int64(a->put_cp, 4, clock_now_us());
    int r = sqlite3_step(a->put_cp);
    sqlite3_reset(a->put_cp);
    ENSURE(r == SQLITE_DONE, ERR_UNAVAILABLE, "audit: cannot store a checkpoint");
    *signed_size = c.size;
    return ERR_OK;
}

/* Wakes a batch's waiters as a binary tree: the writer wakes the first, and each waiter
 * wakes two more as it returns. One futex wake per batch costs the writer a few
 * microseconds; 64 of them were a quarter of its time, and the callers' threads run on
 * every core. Everything a waiter reads is written before the first post (which orders
 * it before every later one); nothing touches a waiter after waking it. */
static void wake_batch(audit *a, pending *list, err rc)
{
    size_t m = 0;
    bool fits = true;
    for (pending *p = list; p; p = p->next) {
        p->rc = rc;
        p->wake[0] = p->wake[1] = NULL;
        if (!p->last) {
            continue;
        }
        if (m == a->nwaiters_cap) {
            size_t cap = m ? 2 * m : 64;
            pending **w = realloc(a->waiters, cap * sizeof *w);
            if (!w) {
                fits = false;
                break;
            }
            a->waiters = w;
            a->nwaiters_cap = cap;
        }
        a->waiters[m++] = p;
    }
    if (!fits) { /* out of memory: each waiter is posted in turn */
        for (pending *p = list, *nx; p; p = nx) {
            nx = p->next; /* p may be gone once posted */
            p->rc = rc;
            if (p->last) {
                sem_post(&p->done);
            }
        }
        return;
    }
    for (size_t i = 0; i < m; i++) {
        a->waiters[i]->wake[0] = 2 * i + 1 < m ? a->waiters[2 * i + 1] : NULL;
        a->waiters[i]->wake[1] = 2 * i + 2 < m ? a->waiters[2 * i + 2] : NULL;
    }
    if (m > 0) {
        sem_post(&a->waiters[0]->done);
    }
}

/* Under mu: whether the writer owes a checkpoint after a batch (a request, or enough entries
 * or time since the last one). */
static bool sign_due(audit *a)
{
    if (a->cp_requested) {
        return true;
    }
    return a->signing && a->size > a->cp_size &&
           (a->size - a->cp_size >= a->every_n || clock_mono_us() - a->cp_at_us >= a->every_us);
}

/* Writer thread, mu held on entry and on return (released while signing): one signing round;
 * its result is published under mu and every caller of audit_checkpoint_now is woken. */
static void writer_sign(audit *a)
{
    a->cp_requested = false;
    uint64_t cp_size = a->cp_size;
    audit_note_fn fn = a->on_note;
    void *ctx = a->on_note_ctx;
    pthread_mutex_unlock(&a->mu);
    uint64_t signed_size = cp_size;
    err rc = sign_checkpoint(a, cp_size, fn, ctx, &signed_size);
    if (rc != ERR_OK) {
        log_error("audit.checkpoint", "%s", err_message());
    }
    pthread_mutex_lock(&a->mu);
    if (rc == ERR_OK && signed_size != cp_size) {
        a->cp_size = signed_size;
        a->cp_at_us = clock_mono_us();
    }
    a->cp_rc = rc;
    a->cp_rounds++;
    pthread_cond_broadcast(&a->signed_cv);
}

static void *writer_main(void *arg)
{
    audit *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->head && !a->stop && !a->cp_requested) {
            if (a->signing && a->size > a->cp_size) {
                /* Unsigned entries: look again a few times per interval. */
                int64_t wait_us = a->every_us / 4;
                wait_us = wait_us < 1000 ? 1000 : wait_us > 60000000 ? 60000000 : wait_us;
                struct timespec ts = mono_deadline(wait_us);
                pthread_cond_timedwait(&a->work, &a->mu, &ts);
                if (!a->head && !a->cp_requested && a->signing && a->size > a->cp_size &&
                    clock_mono_us() - a->cp_at_us >= a->every_us) {
                    writer_sign(a);
                }
            } else {
                pthread_cond_wait(&a->work, &a->mu);
            }
        }
        if (a->head) {
            pending *list = a->head;
            a->head = a->tail = NULL;
            pthread_mutex_unlock(&a->mu);
            uint64_t size = 0;
            err rc = write_batch(a, list, &size);
            /* The size is published before any waiter returns, so audit_size never runs
             * behind an acknowledged append. */
            pthread_mutex_lock(&a->mu);
            if (rc == ERR_OK) {
                a->size = size;
            }
            bool due = rc == ERR_OK && sign_due(a);
            pthread_mutex_unlock(&a->mu);
            wake_batch(a, list, rc);
            pthread_mutex_lock(&a->mu);
            if (due) {
                writer_sign(a);
            }
        } else if (a->cp_requested) {
            writer_sign(a);
        } else {
            break; /* stop, nothing queued */
        }
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* Statements and connections (NULL ones are fine). */
static void close_db(audit *a)
{
    sqlite3_finalize(a->next);
    sqlite3_finalize(a->ins);
    sqlite3_finalize(a->touch);
    sqlite3_finalize(a->put_node);
    sqlite3_finalize(a->put_cp);
    sqlite3_finalize(a->last_cp);
    sqlite3_finalize(a->ix_actor);
    sqlite3_finalize(a->ix_touch);
    sqlite3_finalize(a->ix_mark);
    sqlite3_finalize(a->ix_get);
    /* The reader first: only the last connection to close removes the WAL, and a read-only
     * one cannot. */
    treedb_close(&a->r);
    treedb_close(&a->w);
}

static bool has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    bool yes = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1",
                                  -1, &st, NULL) == SQLITE_OK &&
               sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
               sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

err audit_open(const char *path, audit **out)
{
    ENSURE(access(path, R_OK | W_OK) == 0, ERR_UNAVAILABLE,
           "audit: the log is missing or not writable (%s): refusing to run without it", path);
    audit *a = calloc(1, sizeof *a);
    ENSURE(a != NULL, ERR_INTERNAL, "out of memory");
    err rc = ERR_OK;
    a->path = strdup(path);
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->rmu, NULL);
    mono_cond_init(&a->work);
    mono_cond_init(&a->signed_cv);
    GUARD(treedb_open(path, SQLITE_OPEN_READWRITE, &a->w));
    CHECK(sqlite3_exec(a->w.db, SCHEMA, NULL, NULL, NULL) == SQLITE_OK, ERR_UNAVAILABLE,
          "audit: cannot open the log");
    GUARD(treedb_open(path, SQLITE_OPEN_READONLY, &a->r));
    sqlite3 *db = a->w.db;
    CHECK(sqlite3_prepare_v3(db, "SELECT coalesce(max(idx)+1, 0) FROM entries", -1,
                             SQLITE_PREPARE_PERSISTENT, &a->next, NULL) == SQLITE_OK &&
              sqlite3_prepare_v3(db,
                                 "INSERT INTO entries(idx, ts, actor, action, customer, "
                                 "decision, entry, leaf) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                                 -1, SQLITE_PREPARE_PERSISTENT, &a->ins, NULL) == SQLITE_OK &&
              sqlite3_prepare_v3(
                  db, "INSERT OR IGNORE INTO touched(bucket, customer, idx) VALUES(?1,?2,?3)", -1,
                  SQLITE_PREPARE_PERSISTENT, &a->touch, NULL) == SQLITE_OK &&
              sqlite3_prepare_v3(db, "INSERT INTO nodes(level, idx, hash) VALUES(?1,?2,?3)", -1,
                                 SQLITE_PREPARE_PERSISTENT, &a->put_node, NULL) == SQLITE_OK &&
              sqlite3_prepare_v3(db,
                                 "INSERT OR IGNORE INTO checkpoints(size, root, note, at) "
                                 "VALUES(?1,?2,?3,?4)",
                                 -1, SQLITE_PREPARE_PERSISTENT, &a->put_cp, NULL) == SQLITE_OK &&
              sqlite3_prepare_v3(db,
                                 "SELECT size, root, note, at FROM checkpoints ORDER BY size "
                                 "DESC LIMIT 1",
                                 -1, SQLITE_PREPARE_PERSISTENT, &a->last_cp, NULL) == SQLITE_OK &&
              sqlite3_prepare_v3(db,
                                 "INSERT OR IGNORE INTO by_actor(actor, ts, idx) SELECT actor, "
                                 "ts, idx FROM entries WHERE idx>=?1 AND idx<?2 ORDER BY actor, "
                                 "ts, idx",
                                 -1, SQLITE_PREPARE_PERSISTENT, &a->ix_actor, NULL) == SQLITE_OK &&
              sqlite3_prepare_v3(
                  db,
                  "INSERT OR IGNORE INTO touched(bucket, customer, idx) SELECT " BUCKET_SQL
                  ", customer, idx FROM entries WHERE idx>=?1 AND "
                  "idx<?2 AND customer IS NOT NULL ORDER BY 1, 2, 3",
                  -1, SQLITE_PREPARE_PERSISTENT, &a->ix_touch, NULL) == SQLITE_OK &&
              sqlite3_prepare_v3(db, "UPDATE meta SET n=?1 WHERE k='indexed'", -1,
                                 SQLITE_PREPARE_PERSISTENT, &a->ix_mark, NULL) == SQLITE_OK &&
              sqlite3_prepare_v3(db, "SELECT n FROM meta WHERE k='indexed'", -1,
                                 SQLITE_PREPARE_PERSISTENT, &a->ix_get, NULL) == SQLITE_OK,
          ERR_UNAVAILABLE, "audit: cannot prepare (%s)", sqlite3_errmsg(db));
    sqlite3_reset(a->next);
    CHECK(sqlite3_step(a->next) == SQLITE_ROW, ERR_UNAVAILABLE, "audit: cannot read the log");
    a->size = (uint64_t)sqlite3_column_int64(a->next, 0);
    sqlite3_reset(a->next);
    /* A log from before the bulk index (one SQL index on actor, touches by customer,
     * both kept per entry) is indexed here once; so is a long unindexed tail. */
    CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK, ERR_UNAVAILABLE,
          "audit: cannot open the log (%s)", sqlite3_errmsg(db));
    if (has_table(db, "touches") &&
        sqlite3_exec(db,
                     "INSERT OR IGNORE INTO touched(bucket, customer, idx) SELECT " BUCKET_SQL
                     ", customer, idx FROM touches ORDER BY 1, 2, 3; DROP TABLE touches",
                     NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        FAIL(ERR_UNAVAILABLE, "audit: cannot index the log (%s)", sqlite3_errmsg(db));
    }
    rc = index_mark_read(a);
    if (rc == ERR_OK && a->size - a->indexed >= INDEX_EVERY) {
        rc = index_flush(a, a->size);
    }
    if (rc != ERR_OK || sqlite3_exec(db, "DROP INDEX IF EXISTS entries_actor; COMMIT", NULL, NULL,
                                     NULL) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        FAIL(ERR_UNAVAILABLE, "audit: cannot index the log (%s)", sqlite3_errmsg(db));
    }
    a->cp_at_us = clock_mono_us();
    CHECK(pthread_create(&a->writer, NULL, writer_main, a) == 0, ERR_INTERNAL,
          "audit: cannot start the writer");
    *out = a;
    return ERR_OK;
out:
    close_db(a);
    free(a->path);
    free(a);
    return rc;
}

void audit_close(audit *a)
{
    if (!a) {
        return;
    }
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    pthread_cond_signal(&a->work);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->writer, NULL);
    /* A last checkpoint covers everything written, so a clean stop leaves nothing unsigned.
     * The writer has stopped: this thread is the only one left. */
    uint64_t signed_size;
    if (a->signing &&
        sign_checkpoint(a, a->cp_size, a->on_note, a->on_note_ctx, &signed_size) != ERR_OK) {
        log_error("audit.checkpoint", "%s", err_message());
    }
    sqlite3_exec(a->w.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    close_db(a);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->rmu);
    pthread_cond_destroy(&a->work);
    pthread_cond_destroy(&a->signed_cv);
    free(a->waiters);
    free(a->path);
    free(a);
}

#ifdef CUSTOS_TESTING
void audit_fail_next(audit *a, int on)
{
    pthread_mutex_lock(&a->mu);
    a->fail = on;
    pthread_mutex_unlock(&a->mu);
}
#endif

static err enqueue_wait(audit *a, pending *first, pending *last)
{
    pthread_mutex_lock(&a->mu);
    if (a->tail) {
        a->tail->next = first;
    } else {
        a->head = first;
    }
    a->tail = last;
    pthread_cond_signal(&a->work);
    pthread_mutex_unlock(&a->mu);
    while (sem_wait(&last->done) != 0) {
        /* EINTR: wait on */
    }
    for (int k = 0; k < 2; k++) {
        if (last->wake[k]) {
            sem_post(&last->wake[k]->done);
        }
    }
    if (last->rc != ERR_OK) {
        BAIL(last->rc, "audit log is not writable: request refused");
    }
    return ERR_OK;
}

err audit_append_many(audit *a, const audit_entry *e, size_t n)
{
    if (n == 0) {
        return ERR_OK;
    }
    pending *ps = calloc(n, sizeof *ps);
    ENSURE(ps != NULL, ERR_INTERNAL, "out of memory");
    int64_t now = clock_now_us();
    err rc = ERR_OK;
    sem_init(&ps[n - 1].done, 0, 0);
    ps[n - 1].last = true;
    for (size_t i = 0; i < n && rc == ERR_OK; i++) {
        ps[i].e = &e[i];
        ps[i].ts_us = e[i].ts_us ? e[i].ts_us : now;
        ps[i].next = i + 1 < n ? &ps[i + 1] : NULL;
        rc = pending_encode(&ps[i]);
    }
    if (rc == ERR_OK) {
        rc = enqueue_wait(a, &ps[0], &ps[n - 1]);
    }
    for (size_t i = 0; i < n; i++) {
        buf_free(&ps[i].bytes);
    }
    sem_destroy(&ps[n - 1].done);
    free(ps);
    return rc;
}

err audit_append(audit *a, const audit_entry *e, uint64_t *index)
{
    pending p;
    memset(&p, 0, sizeof p);
    p.e = e;
    p.ts_us = e->ts_us ? e->ts_us : clock_now_us();
    p.last = true;
    sem_init(&p.done, 0, 0);
    err rc = pending_encode(&p);
    if (rc == ERR_OK) {
        rc = enqueue_wait(a, &p, &p);
    }
    sem_destroy(&p.done);
    buf_free(&p.bytes);
    if (rc == ERR_OK && index) {
        *index = p.index;
    }
    return rc;
}

err audit_size(audit *a, uint64_t *n)
{
    pthread_mutex_lock(&a->mu);
    *n = a->size;
    pthread_mutex_unlock(&a->mu);
    return ERR_OK;
}

/* ---- checkpoints: public ---- */

err audit_enable_checkpoints(audit *a, const audit_signing *s)
{
    ENSURE(s->origin && s->key_name && s->sign, ERR_INTERNAL, "audit: incomplete signing setup");
    /* The whole log is checked before anything is served or signed. */
    audit_verify_report rep;
    slice pinned = s->pinned_note ? slice_cstr(s->pinned_note) : slice_of(NULL, 0);
    err e = audit_verify_file(a->path, s->key_name, s->pk, &pinned, s->pinned_note ? 1 : 0, &rep);
    if (e != ERR_OK) {
        BAIL(ERR_CRYPTO, "the audit log failed its check, refusing to serve: %s", rep.problem);
    }
    pthread_mutex_lock(&a->mu);
    snprintf(a->origin, sizeof a->origin, "%s", s->origin);
    snprintf(a->key_name, sizeof a->key_name, "%s", s->key_name);
    memcpy(a->pk, s->pk, 32);
    a->sign = s->sign;
    a->sign_ctx = s->ctx;
    a->every_n = s->every_n ? s->every_n : 1000;
    a->every_us = s->every_us ? s->every_us : 10 * 1000000;
    a->wait_us = s->wait_us > 0 ? s->wait_us : AUDIT_CHECKPOINT_WAIT_US;
    pthread_mutex_lock(&a->rmu);
    uint64_t m = 0;
    err le = last_checkpoint(a, a->last_cp, &m, NULL, NULL, NULL);
    pthread_mutex_unlock(&a->rmu);
    a->cp_size = m;
    a->cp_at_us = clock_mono_us();
    a->signing = le == ERR_OK;
    pthread_mutex_unlock(&a->mu);
    return le;
}

void audit_on_checkpoint(audit *a, audit_note_fn fn, void *ctx)
{
    pthread_mutex_lock(&a->mu);
    a->on_note = fn;
    a->on_note_ctx = ctx;
    pthread_mutex_unlock(&a->mu);
}

err audit_latest_checkpoint(audit *a, buf *note, uint64_t *size)
{
    pthread_mutex_lock(&a->rmu);
    sqlite3_stmt *st = NULL;
    err rc = ERR_OK;
    if (sqlite3_prepare_v2(a->r.db,
                           "SELECT size, root, note, at FROM checkpoints ORDER BY size DESC "
                           "LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = err_set(ERR_UNAVAILABLE, __FILE__, __LINE__, "audit: cannot read checkpoints");
    } else {
        uint64_t n = 0;
        rc = last_checkpoint(a, st, &n, NULL, note, NULL);
        if (rc == ERR_OK && n == 0) {
            rc = err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "no checkpoint has been signed yet");
        }
        if (size) {
            *size = n;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&a->rmu);
    return rc;
}

err audit_checkpoint_now(audit *a, buf *note)
{
    pthread_mutex_lock(&a->mu);
    bool grown = a->signing && a->size > a->cp_size;
    pthread_mutex_unlock(&a->mu);
    if (grown) {
        /* The request is itself an entry, so the checkpoint records that it was asked for. */
        audit_entry e;
        memset(&e, 0, sizeof e);
        e.actor = "system";
        e.role = "-";
        e.source = "local";
        e.action = "audit.sign";
        e.decision = "allow";
        e.rule = "on-demand";
        e.count = -1;
        uint64_t idx = 0;
        TRY(audit_append(a, &e, &idx));
        /* Ask the writer to sign, and wait until a checkpoint covers that entry, a signing
         * round fails, or the deadline passes. Any round that ends after this point started
         * after the entry was written (the writer does one thing at a time), so it covers it. */
        err rc = ERR_OK;
        pthread_mutex_lock(&a->mu);
        struct timespec dl = mono_deadline(a->wait_us);
        uint64_t round = a->cp_rounds;
        a->cp_requested = true;
        pthread_cond_signal(&a->work);
        while (a->cp_size <= idx) {
            if (a->cp_rounds != round) {
                if (a->cp_rc != ERR_OK) {
                    rc = err_set(ERR_UNAVAILABLE, __FILE__, __LINE__,
                                 "audit: the checkpoint could not be signed");
                    break;
                }
                /* A round with nothing new to sign: ask again. */
                round = a->cp_rounds;
                a->cp_requested = true;
                pthread_cond_signal(&a->work);
            }
            if (pthread_cond_timedwait(&a->signed_cv, &a->mu, &dl) == ETIMEDOUT &&
                a->cp_size <= idx) {
                rc = err_set(ERR_UNAVAILABLE, __FILE__, __LINE__,
                             "audit: no checkpoint was signed in time");
                break;
            }
        }
        pthread_mutex_unlock(&a->mu);
        TRY(rc);
    }
    return note ? audit_latest_checkpoint(a, note, NULL) : ERR_OK;
}

/* ---- proofs ---- */

err audit_root(audit *a, uint64_t size, uint8_t root[32])
{
    pthread_mutex_lock(&a->rmu);
    merkle_src s = src_of(&a->r);
    err rc = merkle_root(&s, size, root);
    pthread_mutex_unlock(&a->rmu);
    return rc;
}

static err check_size(audit *a, uint64_t size)
{
    uint64_t n;
    TRY(audit_size(a, &n));
    ENSURE(size <= n, ERR_INPUT, "the log has only %llu entries", (unsigned long long)n);
    return ERR_OK;
}

err audit_inclusion(audit *a, uint64_t index, uint64_t size, uint8_t leaf[32], uint8_t proof[][32],
                    size_t *len)
{
    TRY(check_size(a, size));
    ENSURE(index < size, ERR_INPUT, "index must be below size");
    pthread_mutex_lock(&a->rmu);
    merkle_src s = src_of(&a->r);
    err rc = tree_subtree(&a->r, 0, index, leaf);
    if (rc == ERR_OK) {
        rc = merkle_inclusion_proof(&s, index, size, proof, len);
    }
    pthread_mutex_unlock(&a->rmu);
    return rc;
}

err audit_consistency(audit *a, uint64_t m, uint64_t n, uint8_t proof[][32], size_t *len)
{
    TRY(check_size(a, n));
    ENSURE(m <= n, ERR_INPUT, "from must not exceed to");
    pthread_mutex_lock(&a->rmu);
    merkle_src s = src_of(&a->r);
    err rc = merkle_consistency_proof(&s, m, n, proof, len);
    pthread_mutex_unlock(&a->rmu);
    return rc;
}

/* ---- queries ---- */

/* Binds a query's values; each name keeps its number whichever clauses the SQL has. */
static void bind_query(sqlite3_stmt *st, const audit_query *q)
{
    if (q->customer) {
        sqlite3_bind_text(st, 1, q->customer, -1, SQLITE_STATIC);
    }
    if (q->actor) {
        sqlite3_bind_text(st, 2, q->actor, -1, SQLITE_STATIC);
    }
    if (q->action) {
        sqlite3_bind_text(st, 3, q->action, -1, SQLITE_STATIC);
    }
    if (q->decision) {
        sqlite3_bind_text(st, 4, q->decision, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 5, q->from_us);
    sqlite3_bind_int64(st, 6, q->to_us);
    sqlite3_bind_int64(st, 7, q->after == UINT64_MAX ? -1 : (sqlite3_int64)q->after);
}

/* Steps a query, handing each row on; *k counts them. */
static err run_rows(sqlite3_stmt *st, audit_row_fn fn, void *ctx, size_t *k)
{
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        uint8_t leaf[32] = {0};
        if (sqlite3_column_bytes(st, 2) == 32) {
            memcpy(leaf, sqlite3_column_blob(st, 2), 32);
        }
        TRY(fn(ctx, (uint64_t)sqlite3_column_int64(st, 0),
               slice_of(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1)), leaf));
        (*k)++;
    }
    ENSURE(r == SQLITE_DONE, ERR_UNAVAILABLE, "audit: query failed");
    return ERR_OK;
}

/* One value of a one-row query on the read connection (-1 when there is none). */
static int64_t read_int(audit *a, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(a->r.db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

err audit_search(audit *a, const audit_query *q, audit_row_fn fn, void *ctx, size_t *n)
{
    buf sql;
    buf_init(&sql, 4096);
    err rc = ERR_OK;
    sqlite3_stmt *st = NULL;
    size_t limit = q->limit == 0 ? 100 : q->limit > 1000 ? 1000 : q->limit, k = 0;
    bool locked = false;
    /* The most selective index leads: customer (touched), then actor (by_actor), then
     * time. Each index answers below the watermark; the entries above it, at most a
     * few thousand, are read directly. The actor's query is one statement (one
     * snapshot of both). The customer's runs bucket by bucket: the watermark is read
     * first and only rises, so a bucket's index and its entries from that watermark
     * may overlap (UNION keeps one of each) but never miss an entry. */
    GUARD(buf_append_str(&sql, "SELECT e.idx, e.entry, e.leaf FROM entries e WHERE e.idx>?7"));
    if (q->customer) {
        GUARD(buf_append_str(&sql, " AND e.idx>=?10 AND e.idx<?11 AND e.idx IN (SELECT idx FROM "
                                   "touched WHERE bucket=?9 AND customer=?1 AND idx>?7 UNION "
                                   "SELECT idx FROM entries WHERE idx>=?12 AND idx<?11 AND "
                                   "customer=?1)"));
    } else if (q->actor) {
        GUARD(buf_appendf(&sql,
                          " AND e.idx IN (SELECT idx FROM by_actor WHERE actor=?2 AND idx>?7%s%s"
                          " UNION ALL SELECT idx FROM entries WHERE idx>=(SELECT n FROM meta "
                          "WHERE k='indexed') AND actor=?2)",
                          q->from_us ? " AND ts>=?5" : "", q->to_us ? " AND ts<?6" : ""));
    }
    if (q->actor) {
        GUARD(buf_append_str(&sql, " AND e.actor=?2"));
    }
    if (q->action) {
        GUARD(buf_append_str(&sql, " AND e.action=?3"));
    }
    if (q->decision) {
        GUARD(buf_append_str(&sql, " AND e.decision=?4"));
    }
    if (q->from_us) {
        GUARD(buf_append_str(&sql, " AND e.ts>=?5"));
    }
    if (q->to_us) {
        GUARD(buf_append_str(&sql, " AND e.ts<?6"));
    }
    GUARD(buf_append_str(&sql, " ORDER BY e.idx LIMIT ?8"));
    pthread_mutex_lock(&a->rmu);
    locked = true;
    if (sqlite3_prepare_v2(a->r.db, buf_cstr(&sql), -1, &st, NULL) != SQLITE_OK) {
        FAIL(ERR_UNAVAILABLE, "audit: query failed (%s)", sqlite3_errmsg(a->r.db));
    }
    bind_query(st, q);
    if (!q->customer) {
        sqlite3_bind_int64(st, 8, (sqlite3_int64)limit);
        GUARD(run_rows(st, fn, ctx, &k));
        goto out;
    }
    int64_t mark = read_int(a, "SELECT n FROM meta WHERE k='indexed'");
    int64_t top = read_int(a, "SELECT max(idx) FROM entries");
    CHECK(mark >= 0, ERR_UNAVAILABLE, "audit: query failed (no index watermark)");
    uint64_t first = q->after == UINT64_MAX ? 0 : q->after + 1;
    for (uint64_t b = first >> BUCKET_BITS;
         top >= 0 && b <= (uint64_t)top >> BUCKET_BITS && k < limit; b++) {
        uint64_t lo = b << BUCKET_BITS, hi = (b + 1) << BUCKET_BITS;
        uint64_t from = (uint64_t)mark > lo ? (uint64_t)mark : lo;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 8, (sqlite3_int64)(limit - k));
        sqlite3_bind_int64(st, 9, (sqlite3_int64)b);
        sqlite3_bind_int64(st, 10, (sqlite3_int64)lo);
        sqlite3_bind_int64(st, 11, (sqlite3_int64)hi);
        sqlite3_bind_int64(st, 12, (sqlite3_int64)(from < hi ? from : hi));
        GUARD(run_rows(st, fn, ctx, &k));
    }
out:
    sqlite3_finalize(st);
    if (locked) {
        pthread_mutex_unlock(&a->rmu);
    }
    if (n) {
        *n = k;
    }
    buf_free(&sql);
    return rc;
}
