/*
 * door.c - customers, transactions and communications through the one door.
 *
 * Every function follows the same order: authorize (policy and department
 * scope, from clear columns only), audit (durable, or the call fails with
 * ERR_UNAVAILABLE and nothing is returned or written), then unwrap the
 * customer's data key and open or seal fields. Data keys live in a locked
 * per-thread buffer and are wiped as soon as the call is done with them.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "door_int.h"

#define PAGE_MAX 200

err door_fetch_customer(vault *v, const actor *a, const char *action, const char *id,
                        sealed_customer *c)
{
    err e = id_valid(id) ? store_customer_get(v->st, id, c) : ERR_NOT_FOUND;
    if (e != ERR_OK && e != ERR_NOT_FOUND) {
        return e;
    }
    const char *rule = e == ERR_NOT_FOUND ? "no-such-customer"
                       : c->erased        ? "erased"
                       : (door_own_department_only(a) && !door_same_dept(a, c->department))
                           ? "department-scope"
                           : NULL;
    if (rule) {
        return door_deny(v, a, action, id_valid(id) ? id : NULL, NULL, rule, ERR_NOT_FOUND,
                         "no such customer");
    }
    return ERR_OK;
}

err door_visible_fields(const actor *a, const sealed_customer *c, buf *out)
{
    buf_reset(out);
    bool same = door_same_dept(a, c->department);
    for (int i = 0; i < CF__COUNT; i++) {
        if (door_read_level(a, REC_CUSTOMER, i, same) == READ_NONE) {
            continue;
        }
        if (i != CF_DEPARTMENT && c->field[i].len == 0) {
            continue;
        }
        if (out->len) {
            TRY(buf_append_byte(out, ','));
        }
        TRY(buf_append_str(out, model_field(REC_CUSTOMER, i)->name));
    }
    TRY(buf_reserve(out, 0));
    return ERR_OK;
}

static err open_value(const uint8_t dek[KEY_LEN], const char *owner, const field_def *f,
                      const buf *env, read_level lvl, json_t **val)
{
    buf plain, masked;
    buf_init(&plain, 65536);
    buf_init(&masked, 65536);
    err rc = ERR_OK;
    GUARD(unseal(dek, owner, f->name, buf_slice(env), &plain));
    if (lvl == READ_MASKED) {
        GUARD(model_mask(f, buf_cstr(&plain), &masked));
        *val = json_string(buf_cstr(&masked));
    } else {
        *val = model_value_to_json(f, buf_cstr(&plain));
    }
    CHECK(*val != NULL, ERR_INTERNAL, "cannot render field %s", f->name);
out:
    buf_free(&plain);
    buf_free(&masked);
    return rc;
}

err door_render_customer(vault *v, const actor *a, const sealed_customer *c,
                         const uint8_t dek[KEY_LEN], json_t **out)
{
    json_t *o = json_object();
    ENSURE(o != NULL, ERR_INTERNAL, "out of memory");
    err rc = ERR_OK;
    json_object_set_new(o, "id", json_string(c->id));
    bool same = door_same_dept(a, c->department);
    for (int i = 0; i < CF__COUNT; i++) {
        read_level lvl = door_read_level(a, REC_CUSTOMER, i, same);
        if (lvl == READ_NONE) {
            continue;
        }
        const field_def *f = model_field(REC_CUSTOMER, i);
        if (i == CF_DEPARTMENT) {
            json_object_set_new(o, f->name, json_string(c->department));
            continue;
        }
        if (c->field[i].len == 0) {
            continue;
        }
        json_t *val = NULL;
        GUARD(open_value(dek, c->id, f, &c->field[i], lvl, &val));
        json_object_set_new(o, f->name, val);
    }
    char ts[40];
    clock_rfc3339(c->created_us, ts);
    json_object_set_new(o, "created_at", json_string(ts));
    clock_rfc3339(c->updated_us, ts);
    json_object_set_new(o, "updated_at", json_string(ts));
    *out = o;
    return ERR_OK;
out:
    json_decref(o);
    return rc;
}

/* Names the touched fields the actor may not write at all; *request is set when some
 * touched field may be changed only through a change request. */
static err forbidden_fields(const actor *a, rectype t, const record *set, const bool *clear,
                            bool same, buf *names, bool *request)
{
    buf_reset(names);
    if (request) {
        *request = false;
    }
    for (size_t i = 0; i < model_nfields(t); i++) {
        bool touched = (set && set->v[i]) || (clear && clear[i]);
        write_level w = touched ? door_write_level(a, t, (int)i, same) : WRITE_NONE;
        if (touched && w == WRITE_REQUEST && request) {
            *request = true;
            continue;
        }
        if (touched && w != WRITE_DIRECT) {
            if (names->len) {
                TRY(buf_append_str(names, ", "));
            }
            TRY(buf_append_str(names, model_field(t, (int)i)->name));
        }
    }
    TRY(buf_reserve(names, 0));
    return ERR_OK;
}

static err touched_fields(rectype t, const record *set, const bool *clear, buf *names)
{
    buf_reset(names);
    for (size_t i = 0; i < model_nfields(t); i++) {
        if ((set && set->v[i]) || (clear && clear[i])) {
            if (names->len) {
                TRY(buf_append_byte(names, ','));
            }
            TRY(buf_append_str(names, model_field(t, (int)i)->name));
        }
    }
    TRY(buf_reserve(names, 0));
    return ERR_OK;
}

/* ---- customers ---- */

err door_customer_create(vault *v, const actor *a, const record *in, char id[ID_LEN + 1])
{
    const char *rule;
    buf names, msg;
    buf_init(&names, 4096);
    buf_init(&msg, 4096);
    sealed_customer c;
    sealed_customer_init(&c);
    uint8_t *dek = door_dek_buf();
    store_tx *tx = NULL;
    err rc = ERR_OK;
    CHECK(dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    GUARD(door_gate(v, a, "customer.create"));
    GUARD(touched_fields(REC_CUSTOMER, in, NULL, &names));
    const char *dept = in->v[CF_DEPARTMENT] ? in->v[CF_DEPARTMENT] : a->department;
    bool same = door_same_dept(a, dept);
    GUARD(forbidden_fields(a, REC_CUSTOMER, in, NULL, same, &msg, NULL));
    if (msg.len) {
        char text[600];
        snprintf(text, sizeof text, "your role may not write these fields: %s", buf_cstr(&msg));
        GUARD(door_deny(v, a, "customer.create", NULL, buf_cstr(&names), "field-write", ERR_DENIED,
                        text));
    }
    if (!door_allows(a, REC_CUSTOMER, OP_CREATE, true, &rule)) {
        GUARD(door_deny(v, a, "customer.create", NULL, buf_cstr(&names), rule, ERR_DENIED,
                        "your role may not create customers"));
    }
    GUARD(record_check_required(in));
    if (!door_allows(a, REC_CUSTOMER, OP_CREATE, same, NULL)) {
        GUARD(door_deny(v, a, "customer.create", NULL, buf_cstr(&names), "department-scope",
                        ERR_DENIED, "you may create customers only in your own department"));
    }
    GUARD(door_keyring_fresh(v));
    id_new(c.id, "cus");
    snprintf(c.department, sizeof c.department, "%s", dept);
    c.created_us = c.updated_us = clock_now_us();
    c.dek_version = 1;
    GUARD(keyring_dek_new(v->kr, c.id, dek, &c.wrapped_dek));
    /* The version the envelope names (the active one may change meanwhile). */
    GUARD(envelope_key_version(buf_slice(&c.wrapped_dek), &c.kek_version));
    GUARD(door_seal_customer(v, dek, in, &c, NULL));
    audit_entry e;
    door_entry(&e, a, "customer.create", "allow", rule);
    e.customer = c.id;
    e.fields = buf_cstr(&names);
    GUARD(audit_append(v->au, &e, NULL));
    GUARD(store_begin(v->st, &tx));
    store *ts = store_tx_store(tx);
    GUARD(door_wrap_accepted(v, ts, dek, &c));
    GUARD(store_customer_insert(ts, &c));
    GUARD(store_commit(&tx));
    memcpy(id, c.id, ID_LEN + 1);
out:
    store_rollback(&tx);
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    sealed_customer_free(&c);
    buf_free(&names);
    buf_free(&msg);
    return rc;
}

err door_customer_get(vault *v, const actor *a, const char *id, json_t **out)
{
    return door_customer_read(v, a, id, out, NULL);
}

err door_customer_read(vault *v, const actor *a, const char *id, json_t **out, uint64_t *version)
{
    const char *rule;
    sealed_customer c;
    sealed_customer_init(&c);
    buf names;
    buf_init(&names, 4096);
    uint8_t *dek = door_dek_buf();
    err rc = ERR_OK;
    CHECK(dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    GUARD(door_gate(v, a, "customer.read"));
    if (!door_allows_somewhere(a, REC_CUSTOMER, OP_READ, &rule)) {
        GUARD(door_deny(v, a, "customer.read", id_valid(id) ? id : NULL, NULL, rule, ERR_DENIED,
                        "your role may not read customers"));
    }
    GUARD(door_fetch_customer(v, a, "customer.read", id, &c));
    if (!door_allows(a, REC_CUSTOMER, OP_READ, door_same_dept(a, c.department), &rule)) {
        GUARD(door_deny(v, a, "customer.read", c.id, NULL, "department-scope", ERR_NOT_FOUND,
                        "no such customer"));
    }
    GUARD(door_visible_fields(a, &c, &names));
    audit_entry e;
    door_entry(&e, a, "customer.read", "allow", rule);
    e.customer = c.id;
    e.fields = buf_cstr(&names);
    uint64_t idx = 0;
    GUARD(audit_append(v->au, &e, &idx));
    door_breakglass_read(v, a, "customer.read", c.id);
    if (c.honeytoken) {
        door_honeytoken_touched(v, a, "customer.read", c.id);
    }
    GUARD(keyring_dek_unwrap(v->kr, c.id, buf_slice(&c.wrapped_dek), dek));
    GUARD(door_render_customer(v, a, &c, dek, out));
    if (version) {
        *version = c.version;
    }
    door_observe_read(v, a, c.id, c.department, c.honeytoken, 1, door_json_bytes(v, *out),
                      (int64_t)idx);
out:
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    sealed_customer_free(&c);
    buf_free(&names);
    return rc;
}

err door_customer_update(vault *v, const actor *a, const char *id, const record *set,
                         const bool clear[CF__COUNT], char *request_id)
{
    return door_customer_change(v, a, id, set, clear, 0, request_id, NULL);
}

/* Refuses (audited, ERR_PRECONDITION) when the row seen is not the version the client named. */
static err door_if_match(vault *v, const actor *a, const char *action, const sealed_customer *c,
                         const char *fields, uint64_t if_match)
{
    if (if_match == 0 || c->version == if_match) {
        return ERR_OK;
    }
    return door_deny(v, a, action, c->id, fields, "if-match", ERR_PRECONDITION,
                     "the customer has changed since the version named in If-Match");
}

err door_customer_change(vault *v, const actor *a, const char *id, const record *set,
                         const bool clear[CF__COUNT], uint64_t if_match, char *request_id,
                         uint64_t *version)
{
    const char *rule;
    sealed_customer c;
    sealed_customer_init(&c);
    buf names, msg;
    buf_init(&names, 4096);
    buf_init(&msg, 4096);
    uint8_t *dek = door_dek_buf();
    store_tx *tx = NULL;
    char dept[DEPT_MAX + 1];
    err rc = ERR_OK;
    if (request_id) {
        request_id[0] = '\0';
    }
    CHECK(dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    GUARD(door_gate(v, a, "customer.update"));
    GUARD(touched_fields(REC_CUSTOMER, set, clear, &names));
    CHECK(names.len > 0, ERR_INPUT, "nothing to change");
    CHECK(!clear[CF_NAME] && !clear[CF_DEPARTMENT], ERR_INPUT,
          "name and department cannot be removed");
    bool request = false;
    /* Fields the role may not write anywhere are named before anything is looked up. */
    GUARD(forbidden_fields(a, REC_CUSTOMER, set, clear, true, &msg, &request));
    if (msg.len) {
        char text[600];
        snprintf(text, sizeof text, "your role may not write these fields: %s", buf_cstr(&msg));
        GUARD(door_deny(v, a, "customer.update", id_valid(id) ? id : NULL, buf_cstr(&names),
                        "field-write", ERR_DENIED, text));
    }
    /* Every touched field is writable or requestable somewhere (checked above). */
    GUARD(door_fetch_customer(v, a, "customer.update", id, &c));
    bool same = door_same_dept(a, c.department);
    GUARD(forbidden_fields(a, REC_CUSTOMER, set, clear, same, &msg, &request));
    if (msg.len) {
        char text[600];
        snprintf(text, sizeof text, "your role may not write these fields: %s", buf_cstr(&msg));
        GUARD(door_deny(v, a, "customer.update", c.id, buf_cstr(&names), "field-write", ERR_DENIED,
                        text));
    }
    if (set->v[CF_DEPARTMENT] && door_own_department_only(a) &&
        strcmp(set->v[CF_DEPARTMENT], a->department) != 0) {
        GUARD(door_deny(v, a, "customer.update", c.id, buf_cstr(&names), "department-scope",
                        ERR_DENIED, "you may not move a customer out of your department"));
    }
    /* the policy line that grants the update, for the audit entry */
    if (!request && !door_allows(a, REC_CUSTOMER, OP_UPDATE, same, &rule)) {
        rule = "field-write";
    }
    GUARD(door_if_match(v, a, "customer.update", &c, buf_cstr(&names), if_match));
    if (request) {
        /* The whole change waits for a data steward: nothing is applied now. */
        CHECK(request_id != NULL, ERR_DENIED, "this change needs a data steward's approval");
        GUARD(door_request_change(v, a, &c, set, clear, buf_cstr(&names), request_id));
        door_observe_write(v, a, "request.create", c.id, c.department, c.honeytoken, -1);
        goto out;
    }
    audit_entry e;
    door_entry(&e, a, "customer.update", "allow", rule);
    e.customer = c.id;
    e.fields = buf_cstr(&names);
    uint64_t idx = 0;
    GUARD(audit_append(v->au, &e, &idx));
    door_observe_write(v, a, "customer.update", c.id, c.department, c.honeytoken, (int64_t)idx);
    GUARD(door_keyring_fresh(v));
    /* Read, merge and write under the store's write lock: the row as it is now, whatever
     * other writers (updates, key rotations, rewraps) committed since it was first read. */
    snprintf(dept, sizeof dept, "%s", c.department);
    GUARD(store_begin(v->st, &tx));
    store *ts = store_tx_store(tx);
    sealed_customer_free(&c);
    sealed_customer_init(&c);
    GUARD(store_customer_get(ts, id, &c));
    CHECK(!c.erased, ERR_NOT_FOUND, "no such customer");
    /* Authorised for the department it was in: a move meanwhile is for the client to see. */
    CHECK(strcmp(c.department, dept) == 0, ERR_CONFLICT,
          "the customer moved to another department meanwhile: read it again");
    CHECK(if_match == 0 || c.version == if_match, ERR_PRECONDITION,
          "the customer has changed since the version named in If-Match");
    GUARD(keyring_dek_unwrap(v->kr, c.id, buf_slice(&c.wrapped_dek), dek));
    bool only[CF__COUNT];
    for (int i = 0; i < CF__COUNT; i++) {
        only[i] = set->v[i] != NULL || clear[i];
    }
    GUARD(door_seal_customer(v, dek, set, &c, only));
    c.updated_us = clock_now_us();
    GUARD(store_customer_update(ts, &c));
    GUARD(store_commit(&tx));
    if (version) {
        *version = c.version + 1;
    }
out:
    store_rollback(&tx);
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    sealed_customer_free(&c);
    buf_free(&names);
    buf_free(&msg);
    return rc;
}

/* The erasure is journalled (and synced) before the row is erased: a journal that names a
 * customer still present is re-applied by the next restore, a row erased and not journalled
 * would come back with a backup. */
static err journal_erasure(vault *v, const char *id, int64_t at)
{
    char p[PATH_MAX];
    vault_erasure_journal(v->dir, &v->cfg, p, sizeof p);
    int fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    ENSURE(fd >= 0, ERR_IO, "cannot open the erasure journal");
    char ts[40], line[128];
    clock_rfc3339(at, ts);
    int n = snprintf(line, sizeof line, "%s %s\n", id, ts);
    bool ok = n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) == n && fsync(fd) == 0;
    close(fd);
    ENSURE(ok, ERR_IO, "cannot write the erasure journal");
    return ERR_OK;
}

err door_customer_erase(vault *v, const actor *a, const char *id, const char *reason)
{
    return door_customer_erase_if(v, a, id, reason, 0);
}

err door_customer_erase_if(vault *v, const actor *a, const char *id, const char *reason,
                           uint64_t if_match)
{
    const char *rule;
    sealed_customer c;
    sealed_customer_init(&c);
    err rc = ERR_OK;
    GUARD(door_gate(v, a, "customer.erase"));
    if (!door_allows(a, REC_CUSTOMER, OP_ERASE, true, &rule)) {
        GUARD(door_deny(v, a, "customer.erase", id_valid(id) ? id : NULL, NULL, rule, ERR_DENIED,
                        "your role may not erase customers"));
    }
    GUARD(door_fetch_customer(v, a, "customer.erase", id, &c));
    GUARD(door_if_match(v, a, "customer.erase", &c, NULL, if_match));
    audit_entry e;
    door_entry(&e, a, "customer.erase", "allow", rule);
    e.customer = c.id;
    e.reason = reason;
    uint64_t idx = 0;
    GUARD(audit_append(v->au, &e, &idx));
    door_observe_write(v, a, "customer.erase", c.id, c.department, c.honeytoken, (int64_t)idx);
    int64_t now = clock_now_us();
    store_tx *tx = NULL;
    GUARD(store_begin(v->st, &tx));
    store *ts = store_tx_store(tx);
    if (if_match) {
        /* The version checked again under the write lock. */
        sealed_customer_free(&c);
        sealed_customer_init(&c);
        rc = store_customer_get(ts, id, &c);
        if (rc == ERR_OK && (c.erased || c.version != if_match)) {
            rc = c.erased ? err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "no such customer")
                          : err_set(ERR_PRECONDITION, __FILE__, __LINE__,
                                    "the customer has changed since the version named in "
                                    "If-Match");
        }
        if (rc != ERR_OK) {
            store_rollback(&tx);
            goto out;
        }
    }
    /* Journalled only once the erasure is sure to be attempted: a refused one (If-Match)
     * must not be re-applied by a restore. */
    rc = journal_erasure(v, c.id, now);
    if (rc == ERR_OK) {
        rc = store_customer_erase(ts, c.id, now);
    }
    if (rc == ERR_OK) {
        rc = store_commit(&tx);
    }
    if (rc != ERR_OK) {
        store_rollback(&tx);
        goto out;
    }
out:
    sealed_customer_free(&c);
    return rc;
}

/* Confirms a blind-index candidate by opening the indexed field. */
static err confirm(vault *v, const sealed_customer *c, blind_kind k, const uint8_t *dek, slice want,
                   bool *match)
{
    int fi = DOOR_BLIND_FIELD[k];
    const field_def *f = model_field(REC_CUSTOMER, fi);
    buf plain, norm;
    buf_init(&plain, 65536);
    buf_init(&norm, 65536);
    err rc = ERR_OK;
    *match = false;
    if (c->field[fi].len == 0) {
        goto out;
    }
    GUARD(unseal(dek, c->id, f->name, buf_slice(&c->field[fi]), &plain));
    GUARD(model_blind_normalize(k, (const char *)plain.p, plain.len, &norm));
    *match = norm.len == want.len && mem_eq_ct(norm.p, want.p, want.len);
out:
    buf_free(&plain);
    buf_free(&norm);
    return rc;
}

err door_customer_search(vault *v, const actor *a, blind_kind k, const char *term,
                         const char *after, size_t limit, json_t **out)
{
    const char *rule;
    char(*ids)[ID_LEN + 1] = NULL;
    sealed_customer *rows = NULL;
    bool *found = NULL;
    size_t n = 0, nrows = 0;
    buf norm, list, fields;
    buf_init(&norm, 4096);
    buf_init(&list, 1 << 16);
    buf_init(&fields, 4096);
    json_t *arr = NULL;
    uint8_t *dek = door_dek_buf();
    char qh[HEX_LEN(16)] = "";
    const char *action = k == BI_NONE ? "customer.list" : "customer.search";
    err rc = ERR_OK;
    CHECK(dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    if (limit == 0 || limit > PAGE_MAX) {
        limit = limit == 0 ? 50 : PAGE_MAX;
    }
    CHECK(after == NULL || id_valid(after), ERR_INPUT, "bad cursor");
    GUARD(door_gate(v, a, action));
    if (!door_allows_somewhere(a, REC_CUSTOMER, OP_SEARCH, &rule) ||
        (k != BI_NONE && !door_can_search(a, k))) {
        GUARD(door_deny(v, a, action, NULL, k == BI_NONE ? NULL : blind_kind_name(k),
                        k == BI_NONE ? rule : "search-field", ERR_DENIED,
                        "your role may not search customers by that field"));
    }
    const char *dept = door_own_department_only(a) ? a->department : NULL;
    ids = calloc(limit, sizeof *ids);
    rows = calloc(limit, sizeof *rows);
    CHECK(ids && rows, ERR_INTERNAL, "out of memory");
    if (k != BI_NONE) {
        GUARD(model_blind_normalize(k, term, strlen(term), &norm));
        uint64_t bv =
            keyring_blind(v->kr, blind_kind_name(k), DOOR_BLIND_BITS[k], buf_slice(&norm));
        uint8_t h[32];
        keyring_audit_hash(v->kr, buf_slice(&norm), h);
        hex_encode(qh, h, 16);
        GUARD(store_customer_find(v->st, k, bv, dept, after, limit, ids, &n));
    } else {
        GUARD(store_customer_list(v->st, dept, false, after, limit, ids, &n));
    }
    /* The candidates in one batch read; rows[0, n) are initialised from here on. */
    for (size_t i = 0; i < n; i++) {
        sealed_customer_init(&rows[i]);
    }
    found = calloc(n ? n : 1, sizeof *found);
    CHECK(found != NULL, ERR_INTERNAL, "out of memory");
    GUARD(store_customer_get_many(v->st, (const char(*)[ID_LEN + 1]) ids, n, rows, found));
    /* Confirm candidates by decryption before anything is disclosed or audited as read; the
     * kept ones move down to rows[0, nrows). */
    for (size_t i = 0; i < n; i++) {
        if (i != nrows) {
            sealed_customer t = rows[nrows];
            rows[nrows] = rows[i];
            rows[i] = t;
        }
        sealed_customer *c = &rows[nrows++];
        /* Honeytokens never show in a listing; an exact search that finds one is a read. */
        bool keep = found[i] && !c->erased && (!c->honeytoken || k != BI_NONE);
        if (keep && k != BI_NONE) {
            GUARD(keyring_dek_unwrap(v->kr, c->id, buf_slice(&c->wrapped_dek), dek));
            rc = confirm(v, c, k, dek, buf_slice(&norm), &keep);
            mem_wipe(dek, KEY_LEN);
            GUARD(rc);
        }
        if (!keep) {
            sealed_customer_free(c);
            nrows--;
            continue;
        }
        if (list.len) {
            GUARD(buf_append_byte(&list, ','));
        }
        GUARD(buf_append_str(&list, c->id));
        if (fields.len == 0) {
            GUARD(door_visible_fields(a, c, &fields));
        }
    }
    audit_entry e;
    door_entry(&e, a, action, "allow", rule);
    e.customers = list.len ? buf_cstr(&list) : NULL;
    e.fields = fields.len ? buf_cstr(&fields) : NULL;
    e.query_hash = qh[0] ? qh : NULL;
    e.categories = k == BI_NONE ? NULL : blind_kind_name(k);
    e.count = (int64_t)nrows;
    uint64_t idx = 0;
    GUARD(audit_append(v->au, &e, &idx));
    if (nrows) {
        door_breakglass_read(v, a, action, NULL);
    } else if (k != BI_NONE && after == NULL &&
               (door_read_level(a, REC_CUSTOMER, DOOR_BLIND_FIELD[k], true) == READ_MASKED ||
                door_read_level(a, REC_CUSTOMER, DOOR_BLIND_FIELD[k], false) == READ_MASKED)) {
        /* A miss on a value the actor may not see whole: someone may be guessing it. */
        door_observe_search_miss(v, a, blind_kind_name(k), (int64_t)idx);
    }
    for (size_t i = 0; i < nrows; i++) {
        if (rows[i].honeytoken) {
            door_honeytoken_touched(v, a, action, rows[i].id);
        }
    }
    arr = json_array();
    CHECK(arr != NULL, ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < nrows; i++) {
        json_t *o = NULL;
        GUARD(keyring_dek_unwrap(v->kr, rows[i].id, buf_slice(&rows[i].wrapped_dek), dek));
        rc = door_render_customer(v, a, &rows[i], dek, &o);
        mem_wipe(dek, KEY_LEN);
        GUARD(rc);
        json_array_append_new(arr, o);
    }
    json_t *res = json_object();
    CHECK(res != NULL, ERR_INTERNAL, "out of memory");
    json_object_set_new(res, "customers", arr);
    arr = NULL;
    json_object_set_new(res, "next", n == limit ? json_string(ids[n - 1]) : json_null());
    *out = res;
    if (nrows) {
        bool honey = false;
        for (size_t i = 0; i < nrows; i++) {
            honey = honey || rows[i].honeytoken;
        }
        door_observe_read(v, a, nrows == 1 ? rows[0].id : "", nrows == 1 ? rows[0].department : "",
                          honey, (uint32_t)nrows, door_json_bytes(v, res), (int64_t)idx);
    }
out:
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    json_decref(arr);
    free(found);
    for (size_t i = 0; rows && i < (n > nrows ? n : nrows); i++) {
        sealed_customer_free(&rows[i]); /* calloc'd or initialised: freeing twice is harmless */
    }
    free(rows);
    free(ids);
    buf_free(&norm);
    buf_free(&list);
    buf_free(&fields);
    return rc;
}

/* ---- transactions and communications ---- */

static const char *rec_action(rectype t, op o)
{
    if (t == REC_TRANSACTION) {
        return o == OP_CREATE ? "transaction.create" : "transaction.read";
    }
    return o == OP_CREATE ? "communication.create" : "communication.read";
}

static void rec_owner(char *out, size_t max, const char *cid, const char *rid)
{
    snprintf(out, max, "%s/%s", cid, rid);
}

err door_record_create(vault *v, const actor *a, rectype t, const char *customer_id,
                       const record *in, char id[ID_LEN + 1])
{
    const char *rule;
    const char *action = rec_action(t, OP_CREATE);
    sealed_customer c;
    sealed_customer_init(&c);
    sealed_record r;
    sealed_record_init(&r, t);
    buf names;
    buf_init(&names, 4096);
    uint8_t *dek = door_dek_buf();
    store_tx *tx = NULL;
    char dept[DEPT_MAX + 1];
    err rc = ERR_OK;
    CHECK(dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    GUARD(door_gate(v, a, action));
    GUARD(touched_fields(t, in, NULL, &names));
    if (!door_allows_somewhere(a, t, OP_CREATE, &rule)) {
        GUARD(door_deny(v, a, action, id_valid(customer_id) ? customer_id : NULL, buf_cstr(&names),
                        rule, ERR_DENIED,
                        t == REC_TRANSACTION ? "your role may not record transactions"
                                             : "your role may not record communications"));
    }
    GUARD(record_check_required(in));
    GUARD(door_fetch_customer(v, a, action, customer_id, &c));
    if (!door_allows(a, t, OP_CREATE, door_same_dept(a, c.department), &rule)) {
        GUARD(door_deny(v, a, action, c.id, buf_cstr(&names), "department-scope", ERR_NOT_FOUND,
                        "no such customer"));
    }
    id_new(r.id, t == REC_TRANSACTION ? "txn" : "com");
    memcpy(r.customer_id, c.id, sizeof r.customer_id);
    r.created_us = clock_now_us();
    audit_entry e;
    door_entry(&e, a, action, "allow", rule);
    e.customer = c.id;
    e.fields = buf_cstr(&names);
    uint64_t idx = 0;
    GUARD(audit_append(v->au, &e, &idx));
    door_observe_write(v, a, action, c.id, c.department, c.honeytoken, (int64_t)idx);
    GUARD(door_keyring_fresh(v));
    /* Sealed and written under the store's write lock, with the data key the customer holds
     * at that moment: a per-customer rotation cannot slip in between. */
    snprintf(dept, sizeof dept, "%s", c.department);
    GUARD(store_begin(v->st, &tx));
    store *ts = store_tx_store(tx);
    sealed_customer_free(&c);
    sealed_customer_init(&c);
    GUARD(store_customer_get(ts, customer_id, &c));
    CHECK(!c.erased, ERR_NOT_FOUND, "no such customer");
    CHECK(strcmp(c.department, dept) == 0, ERR_CONFLICT,
          "the customer moved to another department meanwhile: read it again");
    r.dek_version = c.dek_version;
    GUARD(keyring_dek_unwrap(v->kr, c.id, buf_slice(&c.wrapped_dek), dek));
    char owner[2 * ID_LEN + 2];
    rec_owner(owner, sizeof owner, c.id, r.id);
    for (size_t i = 0; i < model_nfields(t); i++) {
        const char *val = in->v[i];
        if (t == REC_COMMUNICATION && i == MF_EMPLOYEE && !val) {
            val = a->username;
        }
        if (val) {
            GUARD(seal(dek, r.dek_version, owner, model_field(t, (int)i)->name, slice_cstr(val),
                       &r.field[i]));
        }
    }
    GUARD(store_record_insert(ts, &r));
    GUARD(store_commit(&tx));
    memcpy(id, r.id, ID_LEN + 1);
out:
    store_rollback(&tx);
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    sealed_customer_free(&c);
    sealed_record_free(&r);
    buf_free(&names);
    return rc;
}

typedef struct list_ctx {
    const uint8_t *dek;
    json_t *arr;
    char last[ID_LEN + 1];
} list_ctx;

static err render_record(void *ctx, const sealed_record *r)
{
    list_ctx *lc = ctx;
    char owner[2 * ID_LEN + 2];
    rec_owner(owner, sizeof owner, r->customer_id, r->id);
    json_t *o = json_object();
    ENSURE(o != NULL, ERR_INTERNAL, "out of memory");
    json_object_set_new(o, "id", json_string(r->id));
    for (size_t i = 0; i < model_nfields(r->type); i++) {
        if (r->field[i].len == 0) {
            continue;
        }
        const field_def *f = model_field(r->type, (int)i);
        json_t *val = NULL;
        err rc = open_value(lc->dek, owner, f, &r->field[i], READ_FULL, &val);
        if (rc != ERR_OK) {
            json_decref(o);
            return rc;
        }
        json_object_set_new(o, f->name, val);
    }
    char ts[40];
    clock_rfc3339(r->created_us, ts);
    json_object_set_new(o, "created_at", json_string(ts));
    json_array_append_new(lc->arr, o);
    memcpy(lc->last, r->id, sizeof lc->last);
    return ERR_OK;
}

err door_record_list(vault *v, const actor *a, rectype t, const char *customer_id,
                     const char *after, size_t limit, json_t **out)
{
    const char *rule;
    const char *action = rec_action(t, OP_READ);
    sealed_customer c;
    sealed_customer_init(&c);
    uint8_t *dek = door_dek_buf();
    list_ctx lc = {dek, NULL, ""};
    err rc = ERR_OK;
    CHECK(dek != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    if (limit == 0 || limit > PAGE_MAX) {
        limit = limit == 0 ? 50 : PAGE_MAX;
    }
    CHECK(after == NULL || id_valid(after), ERR_INPUT, "bad cursor");
    GUARD(door_gate(v, a, action));
    if (!door_allows_somewhere(a, t, OP_READ, &rule)) {
        GUARD(door_deny(v, a, action, id_valid(customer_id) ? customer_id : NULL, NULL, rule,
                        ERR_DENIED,
                        t == REC_TRANSACTION ? "your role may not read transactions"
                                             : "your role may not read communications"));
    }
    GUARD(door_fetch_customer(v, a, action, customer_id, &c));
    if (!door_allows(a, t, OP_READ, door_same_dept(a, c.department), &rule)) {
        GUARD(door_deny(v, a, action, c.id, NULL, "department-scope", ERR_NOT_FOUND,
                        "no such customer"));
    }
    audit_entry e;
    door_entry(&e, a, action, "allow", rule);
    e.customer = c.id;
    e.categories = t == REC_TRANSACTION ? "transactions" : "communications";
    uint64_t idx = 0;
    GUARD(audit_append(v->au, &e, &idx));
    door_breakglass_read(v, a, action, c.id);
    if (c.honeytoken) {
        door_honeytoken_touched(v, a, action, c.id);
    }
    GUARD(keyring_dek_unwrap(v->kr, c.id, buf_slice(&c.wrapped_dek), dek));
    lc.arr = json_array();
    CHECK(lc.arr != NULL, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    GUARD(store_record_list(v->st, t, c.id, after, limit, render_record, &lc, &n));
    json_t *res = json_object();
    CHECK(res != NULL, ERR_INTERNAL, "out of memory");
    json_object_set_new(res, t == REC_TRANSACTION ? "transactions" : "communications", lc.arr);
    lc.arr = NULL;
    json_object_set_new(res, "next", n == limit ? json_string(lc.last) : json_null());
    *out = res;
    door_observe_read(v, a, c.id, c.department, c.honeytoken, 1, door_json_bytes(v, res),
                      (int64_t)idx);
out:
    if (dek) {
        mem_wipe(dek, KEY_LEN);
    }
    json_decref(lc.arr);
    sealed_customer_free(&c);
    return rc;
}
