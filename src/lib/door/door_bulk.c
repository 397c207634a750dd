/*
 * door_bulk.c - whole-vault operations through the door: import (validated
 * first, applied all or nothing), export (authorized and audited page by
 * page), key rotation (KEK rewrap and per-customer data-key rotation) and
 * re-applying erasures after a restore.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "door_int.h"

/* ---- import ---- */

/* Open-addressing set of 64-bit keys (hashes of natural keys seen in this batch). */
typedef struct keyset {
    uint64_t *slot;
    size_t cap;
} keyset;

static err keyset_init(keyset *s, size_t n)
{
    s->cap = 16;
    while (s->cap < n * 2 + 16) {
        s->cap *= 2;
    }
    s->slot = calloc(s->cap, sizeof *s->slot);
    ENSURE(s->slot != NULL, ERR_INTERNAL, "out of memory");
    return ERR_OK;
}

/* True when k was already present. k == 0 is reserved for empty. */
static bool keyset_add(keyset *s, uint64_t k)
{
    k |= 1;
    for (size_t i = (size_t)(k * 0x9E3779B97F4A7C15ull) & (s->cap - 1);;
         i = (i + 1) & (s->cap - 1)) {
        if (s->slot[i] == k) {
            return true;
        }
        if (s->slot[i] == 0) {
            s->slot[i] = k;
            return false;
        }
    }
}

static uint64_t natural_key(vault *v, const record *r)
{
    /* ID number when there is one, else name + phone: the same person imported twice. */
    uint8_t h[32];
    buf b;
    buf_init(&b, 4096);
    uint64_t k = 0;
    if (r->v[CF_ID_NUMBER]) {
        if (buf_append_str(&b, "id:") == ERR_OK &&
            buf_append_str(&b, r->v[CF_ID_NUMBER]) == ERR_OK) {
            keyring_audit_hash(v->kr, buf_slice(&b), h);
            memcpy(&k, h, 8);
        }
    } else if (r->v[CF_PHONE] && r->v[CF_NAME]) {
        if (buf_appendf(&b, "np:%s\n%s", r->v[CF_NAME], r->v[CF_PHONE]) == ERR_OK) {
            keyring_audit_hash(v->kr, buf_slice(&b), h);
            memcpy(&k, h, 8);
        }
    }
    buf_free(&b);
    mem_wipe(h, sizeof h);
    return k;
}

/* Is this row already in the vault (same ID number, or same name and phone)? */
static err exists_in_vault(vault *v, const char *dept, const record *r, uint8_t *dek, bool *found)
{
    *found = false;
    blind_kind k = r->v[CF_ID_NUMBER]                  ? BI_ID_NUMBER
                   : (r->v[CF_PHONE] && r->v[CF_NAME]) ? BI_PHONE
                                                       : BI_NONE;
    if (k == BI_NONE) {
        return ERR_OK;
    }
    const char *val = r->v[DOOR_BLIND_FIELD[k]];
    uint64_t bv;
    TRY(door_blind_of(v, k, val, &bv));
    char ids[8][ID_LEN + 1];
    size_t n = 0;
    TRY(store_customer_find(v->st, k, bv, dept, NULL, 8, ids, &n));
    sealed_customer c;
    sealed_customer_init(&c);
    buf plain;
    buf_init(&plain, 65536);
    err rc = ERR_OK;
    for (size_t i = 0; i < n && !*found; i++) {
        GUARD(store_customer_get(v->st, ids[i], &c));
        GUARD(keyring_dek_unwrap(v->kr, c.id, buf_slice(&c.wrapped_dek), dek));
        bool same = true;
        int check[2] = {DOOR_BLIND_FIELD[k], k == BI_PHONE ? CF_NAME : -1};
        for (int j = 0; j < 2 && same; j++) {
            if (check[j] < 0) {
                continue;
            }
            const field_def *f = model_field(REC_CUSTOMER, check[j]);
            buf_reset(&plain);
            if (c.field[check[j]].len == 0) {
                same = false;
                break;
            }
            GUARD(unseal(dek, c.id, f->name, buf_slice(&c.field[check[j]]), &plain));
            const char *want = r->v[check[j]];
            same = plain.len == strlen(want) && mem_eq_ct(plain.p, want, plain.len);
        }
        mem_wipe(dek, KEY_LEN);
        *found = same;
    }
out:
    mem_wipe(dek, KEY_LEN);
    buf_free(&plain);
    sealed_customer_free(&c);
    return rc;
}

static json_t *error_json(size_t row, size_t line, const char *field, const char *msg)
{
    json_t *o = json_object();
    json_object_set_new(o, "row", json_integer((json_int_t)row));
    json_object_set_new(o, "line", json_integer((json_int_t)line));
    if (field && field[0]) {
        json_object_set_new(o, "field", json_string(field));
    }
    json_object_set_new(o, "message", json_string(msg));
    return o;
}

err door_import(vault *v, const actor *a, import_batch *b, bool dry_run, json_t **report)
{
    const char *rule;
    keyset seen = {0};
    bool *skip = NULL;
    sealed_customer c;
    sealed_customer_init(&c);
    audit_entry *entries = NULL;
    char(*ids)[ID_LEN + 1] = NULL;
    uint8_t *dek = door_dek_buf();
    json_t *rep = json_object(), *errs = json_array();
    size_t created = 0, dups = 0, nerr = b->nerrors;
    store_tx *tx = NULL;
    bool began = false;
    err rc = ERR_OK;
    CHECK(dek && rep && errs, ERR_INTERNAL, "out of memory");
    GUARD(door_gate(v, a, "customer.import"));
    if (!door_allows(a, REC_CUSTOMER, OP_IMPORT, true, &rule)) {
        GUARD(door_deny(v, a, "customer.import", NULL, NULL, rule, ERR_DENIED,
                        "your role may not import customers"));
    }
    for (size_t i = 0; i < b->nerrors && i < IMPORT_MAX_ERRORS; i++) {
        const import_error *ie = &b->errors[i];
        json_array_append_new(errs, error_json(ie->row, ie->line, ie->field, ie->message));
    }
    GUARD(keyset_init(&seen, b->nrows));
    skip = calloc(b->nrows ? b->nrows : 1, sizeof *skip);
    CHECK(skip != NULL, ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < b->nrows; i++) {
        record *r = &b->rows[i].rec;
        const char *dept = r->v[CF_DEPARTMENT] ? r->v[CF_DEPARTMENT] : a->department;
        bool same = door_same_dept(a, dept);
        if (!door_allows(a, REC_CUSTOMER, OP_IMPORT, same, NULL)) {
            nerr++;
            if (json_array_size(errs) < IMPORT_MAX_ERRORS) {
                json_array_append_new(errs, error_json(i + 1, b->rows[i].line, "department",
                                                       "outside your department"));
            }
            continue;
        }
        for (int f = 0; f < CF__COUNT; f++) {
            if (r->v[f] && door_write_level(a, REC_CUSTOMER, f, same) != WRITE_DIRECT) {
                nerr++;
                if (json_array_size(errs) < IMPORT_MAX_ERRORS) {
                    json_array_append_new(errs, error_json(i + 1, b->rows[i].line,
                                                           model_field(REC_CUSTOMER, f)->name,
                                                           "your role may not write this field"));
                }
            }
        }
        uint64_t k = natural_key(v, r);
        bool dup = false;
        if (k != 0 && keyset_add(&seen, k)) {
            dup = true; /* the same person twice in one file */
        } else {
            GUARD(exists_in_vault(v, door_own_department_only(a) ? a->department : NULL, r, dek,
                                  &dup));
        }
        if (dup) {
            skip[i] = true;
            dups++;
        }
    }
    created = b->nrows - dups;
    json_object_set_new(rep, "dry_run", json_boolean(dry_run));
    json_object_set_new(
        rep, "rows",
        json_integer((json_int_t)(b->total_rows > b->nrows ? b->total_rows : b->nrows)));
    json_object_set_new(rep, "duplicates", json_integer((json_int_t)dups));
    json_object_set_new(rep, "error_count", json_integer((json_int_t)nerr));
    json_object_set_new(rep, "errors", errs);
    errs = NULL;
    if (nerr > 0) {
        json_object_set_new(rep, "created", json_integer(0));
        audit_entry e;
        door_entry(&e, a, "customer.import", "deny", "invalid-rows");
        e.count = (int64_t)nerr;
        GUARD(audit_append(v->au, &e, NULL));
        FAIL(ERR_INPUT, "the import has %zu invalid row(s); nothing was written", nerr);
    }
    json_object_set_new(rep, "created", json_integer(dry_run ? 0 : (json_int_t)created));
    json_object_set_new(rep, "would_create", json_integer((json_int_t)created));
    if (dry_run) {
        audit_entry e;
        door_entry(&e, a, "customer.import.dry_run", "allow", rule);
        e.count = (int64_t)created;
        GUARD(audit_append(v->au, &e, NULL));
        goto out;
    }
    /* Ids first, then one audit entry per new customer, durable before any row is written. */
    ids = calloc(created + 1, sizeof *ids);
    entries = calloc(created + 1, sizeof *entries);
    CHECK(ids && entries, ERR_INTERNAL, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < b->nrows; i++) {
        if (skip[i]) {
            continue;
        }
        id_new(ids[k], "cus");
        door_entry(&entries[k], a, "customer.create", "allow", rule);
        entries[k].customer = ids[k];
        entries[k].reason = "import";
        k++;
    }
    door_entry(&entries[k], a, "customer.import", "allow", rule);
    entries[k].count = (int64_t)created;
    GUARD(audit_append_many(v->au, entries, created + 1));
    GUARD(door_keyring_fresh(v));
    GUARD(store_begin(v->st, &tx));
    began = true;
    store *ts = store_tx_store(tx);
    int64_t now = clock_now_us();
    k = 0;
    for (size_t i = 0; i < b->nrows; i++) {
        if (skip[i]) {
            continue;
        }
        record *r = &b->rows[i].rec;
        sealed_customer_free(&c);
        sealed_customer_init(&c);
        memcpy(c.id, ids[k++], sizeof c.id);
        snprintf(c.department, sizeof c.department, "%s",
                 r->v[CF_DEPARTMENT] ? r->v[CF_DEPARTMENT] : a->department);
        c.created_us = c.updated_us = now;
        c.dek_version = 1;
        GUARD(keyring_dek_new(v->kr, c.id, dek, &c.wrapped_dek));
        rc = door_wrap_accepted(v, ts, dek, &c);
        if (rc == ERR_OK) {
            rc = door_seal_customer(v, dek, r, &c, NULL);
        }
        mem_wipe(dek, KEY_LEN);
        GUARD(rc);
        GUARD(store_customer_insert(ts, &c));
    }
    GUARD(store_commit(&tx));
    began = false;
out:
    if (began) {
        store_rollback(&tx); /* nothing left to do when a failed commit rolled back */
        if (rc != ERR_OK && !dry_run && nerr == 0) {
            json_object_set_new(rep, "created", json_integer(0));
        }
    }
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    free(seen.slot);
    free(skip);
    free(ids);
    free(entries);
    sealed_customer_free(&c);
    json_decref(errs);
    if (rep && (rc == ERR_OK || rc == ERR_INPUT)) {
        *report = rep;
    } else {
        json_decref(rep);
    }
    return rc;
}

/* ---- export ---- */

struct door_export {
    vault *v;
    actor a;
    export_format fmt;
    char after[ID_LEN + 1];
    bool header_done, done;
    const char *rule;
    char mark[EXPORT_MARK_LEN + 1];
};

const char *door_export_mark(const door_export *x)
{
    return x->mark;
}

err door_export_open(vault *v, const actor *a, export_format f, const char *request,
                     door_export **out)
{
    const char *rule;
    TRY(door_gate(v, a, "customer.export"));
    if (!door_allows(a, REC_CUSTOMER, OP_EXPORT, true, &rule)) {
        return door_deny(v, a, "customer.export", NULL, NULL, rule, ERR_DENIED,
                         "your role may not export customers");
    }
    /* Two-person rule: a bulk export runs once, under an approved request. */
    TRY(door_export_take(v, a, request, f));
    door_export *x = calloc(1, sizeof *x);
    ENSURE(x != NULL, ERR_INTERNAL, "out of memory");
    x->v = v;
    x->a = *a;
    x->fmt = f;
    x->rule = rule;
    uint8_t r[12];
    rand_bytes(r, sizeof r);
    memcpy(x->mark, "cwm_", 4);
    hex_encode(x->mark + 4, r, sizeof r);
    audit_entry e;
    door_entry(&e, a, "customer.export", "allow", rule);
    e.categories = f == EXPORT_CSV ? "csv" : "jsonl";
    e.reason = x->mark; /* the watermark: a leaked file names this entry */
    err rc = audit_append(v->au, &e, NULL);
    if (rc != ERR_OK) {
        free(x);
        return rc;
    }
    *out = x;
    return ERR_OK;
}

static err csv_value(buf *out, const json_t *val)
{
    if (!val) {
        return ERR_OK;
    }
    if (json_is_string(val)) {
        /* A spreadsheet would run a cell that starts like a formula: export it as text. */
        const char *t = json_string_value(val);
        if (t[0] == '=' || t[0] == '+' || t[0] == '-' || t[0] == '@' || t[0] == '\t' ||
            t[0] == '\r') {
            buf q;
            buf_init(&q, 1 << 16);
            err rc = buf_append_byte(&q, '\'');
            if (rc == ERR_OK) {
                rc = buf_append_str(&q, t);
            }
            if (rc == ERR_OK) {
                rc = csv_write_cell(out, buf_slice(&q));
            }
            buf_free(&q);
            return rc;
        }
        return csv_write_cell(out, slice_cstr(t));
    }
    if (json_is_array(val)) {
        buf joined;
        buf_init(&joined, 1 << 16);
        size_t i;
        json_t *it;
        err rc = ERR_OK;
        json_array_foreach(val, i, it)
        {
            if (i) {
                GUARD(buf_append_byte(&joined, ';'));
            }
            GUARD(buf_append_str(&joined, json_string_value(it) ? json_string_value(it) : ""));
        }
        rc = csv_write_cell(out, buf_slice(&joined));
    out:
        buf_free(&joined);
        return rc;
    }
    char *s = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
    ENSURE(s != NULL, ERR_INTERNAL, "out of memory");
    err rc = buf_append_str(out, s);
    free(s);
    return rc;
}

err door_export_next(door_export *x, buf *out)
{
    buf_reset(out);
    if (x->done) {
        return ERR_OK;
    }
    vault *v = x->v;
    if (x->fmt == EXPORT_CSV && !x->header_done) {
        TRY(buf_append_str(out, "id"));
        for (int i = 0; i < CF__COUNT; i++) {
            if (door_read_level(&x->a, REC_CUSTOMER, i, true) != READ_NONE) {
                TRY(buf_append_byte(out, ','));
                TRY(buf_append_str(out, model_field(REC_CUSTOMER, i)->name));
            }
        }
        TRY(buf_append_str(out, ",export_mark\r\n"));
        x->header_done = true;
    }
    enum { PAGE = 100 };
    char ids[PAGE][ID_LEN + 1];
    size_t n = 0;
    const char *dept = door_own_department_only(&x->a) ? x->a.department : NULL;
    TRY(store_customer_list(v->st, dept, false, x->after[0] ? x->after : NULL, PAGE, ids, &n));
    if (n == 0) {
        x->done = true;
        return ERR_OK;
    }
    buf list;
    buf_init(&list, 1 << 16);
    sealed_customer c;
    sealed_customer_init(&c);
    sealed_customer *rows = calloc(PAGE, sizeof *rows); /* zeroed: freeing any is harmless */
    bool found[PAGE] = {false};
    uint8_t *dek = door_dek_buf();
    err rc = ERR_OK;
    CHECK(dek != NULL && rows != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    for (size_t i = 0; i < n; i++) {
        if (i) {
            GUARD(buf_append_byte(&list, ','));
        }
        GUARD(buf_append_str(&list, ids[i]));
    }
    audit_entry e;
    door_entry(&e, &x->a, "customer.export.page", "allow", x->rule);
    e.customers = buf_cstr(&list);
    e.count = (int64_t)n;
    uint64_t idx = 0;
    size_t before = out->len;
    GUARD(audit_append(v->au, &e, &idx));
    for (size_t i = 0; i < n; i++) {
        sealed_customer_init(&rows[i]);
    }
    /* The page's rows in one batch read, not one read per customer. */
    GUARD(store_customer_get_many(v->st, (const char(*)[ID_LEN + 1]) ids, n, rows, found));
    for (size_t i = 0; i < n; i++) {
        CHECK(found[i], ERR_NOT_FOUND, "no such customer");
        sealed_customer_free(&c);
        c = rows[i]; /* c owns the row from here on */
        sealed_customer_init(&rows[i]);
        json_t *o = NULL;
        GUARD(keyring_dek_unwrap(v->kr, c.id, buf_slice(&c.wrapped_dek), dek));
        rc = door_render_customer(v, &x->a, &c, dek, &o);
        mem_wipe(dek, KEY_LEN);
        GUARD(rc);
        if (x->fmt == EXPORT_JSONL) {
            json_object_del(o, "created_at");
            json_object_del(o, "updated_at");
            json_object_set_new(o, "export_mark", json_string(x->mark));
            char *s = json_dumps(o, JSON_COMPACT);
            rc = s ? buf_append_str(out, s) : ERR_INTERNAL;
            if (s) {
                mem_wipe(s, strlen(s));
                free(s);
            }
            if (rc == ERR_OK) {
                rc = buf_append_byte(out, '\n');
            }
        } else {
            rc = csv_write_cell(out, slice_cstr(c.id));
            for (int f = 0; f < CF__COUNT && rc == ERR_OK; f++) {
                if (door_read_level(&x->a, REC_CUSTOMER, f, true) == READ_NONE) {
                    continue;
                }
                rc = buf_append_byte(out, ',');
                if (rc == ERR_OK) {
                    rc = csv_value(out, json_object_get(o, model_field(REC_CUSTOMER, f)->name));
                }
            }
            if (rc == ERR_OK) {
                rc = buf_append_byte(out, ',');
            }
            if (rc == ERR_OK) {
                rc = buf_append_str(out, x->mark);
            }
            if (rc == ERR_OK) {
                rc = buf_append_str(out, "\r\n");
            }
        }
        json_decref(o);
        GUARD(rc);
    }
    if (n > 0) {
        memcpy(x->after, ids[n - 1], sizeof x->after);
        door_observe_read(v, &x->a, "", x->a.department, false, (uint32_t)n,
                          (uint64_t)(out->len - before), (int64_t)idx);
    }
    if (n < PAGE) {
        x->done = true;
    }
out:
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    sealed_customer_free(&c);
    for (size_t i = 0; rows && i < PAGE; i++) {
        sealed_customer_free(&rows[i]);
    }
    free(rows);
    buf_free(&list);
    return rc;
}

void door_export_close(door_export *x)
{
    free(x);
}

/* ---- keys ---- */

typedef struct rewrap_ctx {
    vault *v;
    uint8_t *dek;
    uint32_t to; /* the version to wrap under; 0: the active one */
} rewrap_ctx;

static err rewrap_one(void *ctx, const char *id, buf *wrapped, uint32_t *kek_version)
{
    rewrap_ctx *rc = ctx;
    TRY(keyring_dek_unwrap(rc->v->kr, id, buf_slice(wrapped), rc->dek));
    buf_reset(wrapped);
    err e = rc->to ? keyring_dek_wrap_version(rc->v->kr, rc->to, id, rc->dek, wrapped)
                   : keyring_dek_wrap(rc->v->kr, id, rc->dek, wrapped);
    mem_wipe(rc->dek, KEY_LEN);
    TRY(e);
    /* The version the envelope names, not a separate read of the keyring. */
    return envelope_key_version(buf_slice(wrapped), kek_version);
}

static err check_one(void *ctx, const char *id, slice wrapped)
{
    rewrap_ctx *rc = ctx;
    err e = keyring_dek_unwrap(rc->v->kr, id, wrapped, rc->dek);
    mem_wipe(rc->dek, KEY_LEN);
    return e;
}

/* Puts every row wrapped under `pending` back under the active version, then removes
 * `pending` from the keyring: the state before the rotation began. Only this process wraps
 * under a version that is not active, so once no row carries it none will. */
static err rotate_undo(vault *v, rewrap_ctx *ctx, uint32_t pending)
{
    size_t n = 0, failed = 0;
    int64_t left = 0;
    ctx->to = 0;
    TRY(store_customer_rewrap_all(v->st, keyring_kek_version(v->kr), rewrap_one, ctx, &n, &failed));
    TRY(store_customer_count_kek(v->st, pending, &left));
    ENSURE(left == 0, ERR_CONFLICT, "%lld data key(s) still use version %u", (long long)left,
           pending);
    return keyring_retire_kek(v->kr, pending);
}

/* Master-key rotation, while servers keep writing:
 *  1. every data key is checked to open; one that does not stops the rotation before
 *     anything changes (the operator sees how many and decides);
 *  2. a new version is added, not yet active, and every data key is rewrapped under it in
 *     batches; a failure here puts every key back and removes the version again;
 *  3. the new version becomes active (servers notice the keyring file and wrap new keys
 *     under it);
 *  4. in one store transaction the rows still under an older version (written meanwhile by a
 *     server that had not noticed yet) are rewrapped, the store checks that none is left, and
 *     records the new version as the floor: from then on it refuses any write of an older one;
 *  5. only then do the older versions leave the keyring. */
err door_rotate_kek(vault *v, const actor *a, uint32_t *new_version, size_t *rewrapped)
{
    rewrap_ctx ctx = {v, door_dek_buf(), 0};
    ENSURE(ctx.dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    size_t n = 0, failed = 0, total = 0;
    TRY(store_customer_check_keys(v->st, check_one, &ctx, &n, &failed));
    ENSURE(failed == 0, ERR_CRYPTO,
           "%zu data key(s) failed their integrity check; nothing was changed (erase or "
           "restore those customers, then rotate again)",
           failed);
    /* Version numbers are never reused, even those of a rotation that was undone. */
    buf issued;
    buf_init(&issued, 64);
    err e = store_meta_get(v->st, "kek_issued", &issued);
    uint32_t at_least = e == ERR_OK ? (uint32_t)strtoul(buf_cstr(&issued), NULL, 10) + 1 : 0;
    buf_free(&issued);
    ENSURE(e == ERR_OK || e == ERR_NOT_FOUND, e, "cannot read the keyring's history");
    uint32_t nv = 0;
    TRY(keyring_add_kek_pending(v->kr, at_least, &nv));
    char txt[16];
    snprintf(txt, sizeof txt, "%u", nv);
    e = store_meta_set(v->st, "kek_issued", txt);
    audit_entry ae;
    door_entry(&ae, a, "keys.rotate", "allow", "operator");
    char why[64];
    snprintf(why, sizeof why, "kek version %u", nv);
    ae.reason = why;
    if (e == ERR_OK) {
        e = audit_append(v->au, &ae, NULL);
    }
    ctx.to = nv;
    if (e == ERR_OK) {
        e = store_customer_rewrap_all(v->st, nv, rewrap_one, &ctx, &n, &failed);
        total += n;
    }
    if (e == ERR_OK && failed > 0) {
        e = err_set(ERR_CRYPTO, __FILE__, __LINE__,
                    "%zu data key(s) failed their integrity check during the rotation; nothing "
                    "was changed",
                    failed);
    }
    if (e == ERR_OK) {
        e = keyring_activate_kek(v->kr, nv);
    }
    if (e != ERR_OK) {
        /* Keep the first error for the operator; the undo's own failure is logged. */
        char first[512];
        snprintf(first, sizeof first, "%s", err_message());
        err u = rotate_undo(v, &ctx, nv);
        if (u != ERR_OK) {
            log_error("keys.rotate", "undoing the rotation failed: %s", err_message());
            BAIL(e, "%s; undoing it failed too (%s): version %u is kept, not active", first,
                 err_message(), nv);
        }
        BAIL(e, "%s", first);
    }
    ctx.to = 0;
    TRY(store_customer_retire_kek(v->st, nv, rewrap_one, &ctx, &n));
    total += n;
    uint32_t vers[64];
    size_t held = keyring_kek_versions(v->kr, vers, 64);
    for (size_t i = 0; i < held; i++) {
        if (vers[i] < nv) {
            TRY(keyring_retire_kek(v->kr, vers[i]));
        }
    }
    *new_version = nv;
    *rewrapped = total;
    return ERR_OK;
}

typedef struct rot_ctx {
    store *st; /* the rotation's transaction */
    const uint8_t *old_dek;
    const uint8_t *new_dek;
    uint32_t new_version;
    err rc;
} rot_ctx;

static err reseal_record(void *ctx, const sealed_record *r)
{
    rot_ctx *rc = ctx;
    sealed_record nr;
    sealed_record_init(&nr, r->type);
    memcpy(nr.id, r->id, sizeof nr.id);
    memcpy(nr.customer_id, r->customer_id, sizeof nr.customer_id);
    nr.created_us = r->created_us;
    nr.dek_version = rc->new_version;
    char owner[2 * ID_LEN + 2];
    snprintf(owner, sizeof owner, "%s/%s", r->customer_id, r->id);
    buf plain;
    buf_init(&plain, 65536);
    err e = ERR_OK;
    for (size_t i = 0; i < model_nfields(r->type) && e == ERR_OK; i++) {
        if (r->field[i].len == 0) {
            continue;
        }
        const char *fname = model_field(r->type, (int)i)->name;
        buf_reset(&plain);
        e = unseal(rc->old_dek, owner, fname, buf_slice(&r->field[i]), &plain);
        if (e == ERR_OK) {
            e = seal(rc->new_dek, nr.dek_version, owner, fname, buf_slice(&plain), &nr.field[i]);
        }
    }
    if (e == ERR_OK) {
        e = store_record_update(rc->st, &nr);
    }
    buf_free(&plain);
    sealed_record_free(&nr);
    return e;
}

err door_customer_rotate_key(vault *v, const actor *a, const char *id)
{
    return door_customer_rotate_key_if(v, a, id, 0, NULL);
}

err door_customer_rotate_key_if(vault *v, const actor *a, const char *id, uint64_t if_match,
                                uint64_t *version)
{
    sealed_customer c;
    sealed_customer_init(&c);
    record rec;
    record_init(&rec, REC_CUSTOMER);
    uint8_t *old_dek = secret_alloc(KEY_LEN), *new_dek = secret_alloc(KEY_LEN);
    buf plain;
    buf_init(&plain, 65536);
    store_tx *tx = NULL;
    err rc = ERR_OK;
    CHECK(old_dek && new_dek, ERR_INTERNAL, "cannot lock memory for a key");
    GUARD(door_gate(v, a, "customer.rotate_key"));
    if (!(door_allows(a, REC_CUSTOMER, OP_UPDATE, true, NULL) && a->role == ROLE_DATA_STEWARD) &&
        !(policy_can(a->role, CAP_KEYS_MANAGE) && !a->via_key)) {
        GUARD(door_deny(v, a, "customer.rotate_key", id_valid(id) ? id : NULL, NULL, "default-deny",
                        ERR_DENIED, "your role may not rotate data keys"));
    }
    GUARD(door_fetch_customer(v, a, "customer.rotate_key", id, &c));
    if (if_match && c.version != if_match) {
        GUARD(door_deny(v, a, "customer.rotate_key", c.id, NULL, "if-match", ERR_PRECONDITION,
                        "the customer has changed since the version named in If-Match"));
    }
    audit_entry e;
    door_entry(&e, a, "customer.rotate_key", "allow", "grant:key-rotation");
    e.customer = c.id;
    GUARD(audit_append(v->au, &e, NULL));
    GUARD(door_keyring_fresh(v));
    /* Everything from the read of the row to the last resealed record under the store's write
     * lock: no update, new record or rewrap of this customer can come in between. */
    char dept[DEPT_MAX + 1];
    snprintf(dept, sizeof dept, "%s", c.department);
    GUARD(store_begin(v->st, &tx));
    store *ts = store_tx_store(tx);
    sealed_customer_free(&c);
    sealed_customer_init(&c);
    GUARD(store_customer_get(ts, id, &c));
    CHECK(!c.erased, ERR_NOT_FOUND, "no such customer");
    CHECK(strcmp(c.department, dept) == 0, ERR_CONFLICT,
          "the customer moved to another department meanwhile: read it again");
    CHECK(if_match == 0 || c.version == if_match, ERR_PRECONDITION,
          "the customer has changed since the version named in If-Match");
    GUARD(keyring_dek_unwrap(v->kr, c.id, buf_slice(&c.wrapped_dek), old_dek));
    for (int i = 0; i < CF__COUNT; i++) {
        if (i == CF_DEPARTMENT || c.field[i].len == 0) {
            continue;
        }
        buf_reset(&plain);
        GUARD(unseal(old_dek, c.id, model_field(REC_CUSTOMER, i)->name, buf_slice(&c.field[i]),
                     &plain));
        GUARD(record_set_raw(&rec, i, (const char *)plain.p, plain.len));
    }
    c.dek_version++;
    buf_reset(&c.wrapped_dek);
    GUARD(keyring_dek_new(v->kr, c.id, new_dek, &c.wrapped_dek));
    GUARD(door_wrap_accepted(v, ts, new_dek, &c));
    GUARD(door_seal_customer(v, new_dek, &rec, &c, NULL));
    c.updated_us = clock_now_us();
    GUARD(store_customer_update(ts, &c));
    rot_ctx ctx = {ts, old_dek, new_dek, c.dek_version, ERR_OK};
    for (rectype t = REC_TRANSACTION; t <= REC_COMMUNICATION; t++) {
        size_t n = 0;
        GUARD(store_record_list(ts, t, c.id, NULL, 1000000, reseal_record, &ctx, &n));
    }
    GUARD(store_commit(&tx));
    if (version) {
        *version = c.version + 1;
    }
out:
    store_rollback(&tx);
    secret_free(old_dek);
    secret_free(new_dek);
    buf_free(&plain);
    record_free(&rec);
    sealed_customer_free(&c);
    return rc;
}

err door_apply_erasures(vault *v, const char *const *ids, size_t n, size_t *applied)
{
    *applied = 0;
    actor sys;
    actor_system(&sys, "restore");
    for (size_t i = 0; i < n; i++) {
        if (!id_valid(ids[i])) {
            continue;
        }
        sealed_customer c;
        sealed_customer_init(&c);
        err e = store_customer_get(v->st, ids[i], &c);
        bool live = e == ERR_OK && !c.erased;
        sealed_customer_free(&c);
        if (e != ERR_OK && e != ERR_NOT_FOUND) {
            return e;
        }
        if (!live) {
            continue;
        }
        audit_entry ae;
        door_entry(&ae, &sys, "customer.erase", "allow", "restore-reapply");
        ae.customer = ids[i];
        ae.reason = "erasure recorded after the backup was taken";
        TRY(audit_append(v->au, &ae, NULL));
        store_tx *tx = NULL;
        TRY(store_begin(v->st, &tx));
        e = store_customer_erase(store_tx_store(tx), ids[i], clock_now_us());
        if (e == ERR_OK) {
            e = store_commit(&tx);
        }
        if (e != ERR_OK) {
            store_rollback(&tx);
            return e;
        }
        (*applied)++;
    }
    return ERR_OK;
}
