/*
 * audit_entry.c - an audit entry's bytes: the canonical encoding (docs/FORMATS.md)
 * with its index, the strict decoder verifiers and queries use, and the template
 * form the writer fills in (an entry encoded on the caller's thread, its index
 * spliced in by the writer). The leaf hash of an entry is merkle_leaf_hash of
 * exactly these bytes.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/audit_int.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/utf8.h"

/* ---- the actions (audit/actions.def) ---- */

static const char *const ACTIONS[] = {
#define AUDIT_ACTION(name, records) name,
#include "audit/actions.def"
#undef AUDIT_ACTION
};
#define NACTIONS (sizeof ACTIONS / sizeof ACTIONS[0])

const char *const *audit_actions(size_t *n)
{
    *n = NACTIONS;
    return ACTIONS;
}

bool audit_action_known(const char *name)
{
    if (!name) {
        return false;
    }
    for (size_t i = 0; i < NACTIONS; i++) {
        if (ACTIONS[i][0] == name[0] && strcmp(ACTIONS[i], name) == 0) {
            return true;
        }
    }
    return false;
}

err audit_action_check(const audit_entry *e)
{
    if (audit_action_known(e->action)) {
        return ERR_OK;
    }
#ifdef CUSTOS_TESTING
    BAIL(ERR_INTERNAL, "audit: the action is not in audit/actions.def");
#else
    log_warn("audit.unknown_action", "an entry names an action that is not in the table");
    return ERR_OK;
#endif
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

err audit_encode_template(const audit_entry *e, buf *out, size_t *at)
{
    TRY(audit_encode(e, 0, out));
    /* Keys are sorted and strings escaped, so `"i":0` after `{` or `,` is the key. */
    for (size_t k = 1; k + 5 <= out->len; k++) {
        if ((out->p[k - 1] == ',' || out->p[k - 1] == '{') &&
            memcmp(out->p + k, "\"i\":0", 5) == 0) {
            *at = k + 4;
            return ERR_OK;
        }
    }
    BAIL(ERR_INTERNAL, "audit: encoded entry has no index");
}

err audit_encode_splice(slice tmpl, size_t at, uint64_t index, buf *out)
{
    ENSURE(at < tmpl.len, ERR_INTERNAL, "audit: bad entry template");
    buf_reset(out);
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)index);
    TRY(buf_append(out, tmpl.p, at));
    TRY(buf_append(out, num, (size_t)n));
    return buf_append(out, tmpl.p + at + 1, tmpl.len - at - 1);
}
