/*
 * bundle.c - building and verifying evidence bundles (bundle.h, docs/FORMATS-bundle.md).
 *
 * The file is canonical JSON (jansson: compact, keys sorted, ASCII) and a final newline; the
 * verifier re-encodes what it read and compares byte for byte, so even a changed space is
 * caught. What the bytes say is then checked link by link: the verifier key (against the one
 * the auditor holds, if given), both signed checkpoints, the consistency between them, each
 * entry's inclusion in the scope checkpoint, the manifest against the documents and the
 * entries, and the export record (an audit entry proven in the latest checkpoint) against the
 * manifest's hash.
 */
#include "incident/bundle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "core/mem.h"
#include "crypto/crypto.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
#define DOC_NAME_MAX 64

/* ---- shared ---- */

static json_t *proof_json(const uint8_t (*proof)[32], size_t len)
{
    json_t *a = json_array();
    for (size_t i = 0; i < len; i++) {
        char h[HEX_LEN(32)];
        hex_encode(h, proof[i], 32);
        json_array_append_new(a, json_string(h));
    }
    return a;
}

static bool doc_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > DOC_NAME_MAX || n[0] == '.') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.')) {
            return false;
        }
    }
    return true;
}

/* The manifest: a first line naming the format and the incident, then `sha256  name` lines,
 * the documents in name order and last the entries (SHA-256 of their leaf hashes in order). */
static err manifest_text(const char *incident, const char *const *names, const char *const *texts,
                         size_t ndocs, const uint8_t entries_digest[32], buf *out)
{
    buf_reset(out);
    TRY(buf_appendf(out, "%s %s\n", BUNDLE_FORMAT, incident));
    /* names arrive sorted (a JSON object's keys sorted, or sorted by the builder) */
    for (size_t i = 0; i < ndocs; i++) {
        uint8_t h[32];
        char hex[HEX_LEN(32)];
        hash_sha256((const uint8_t *)texts[i], strlen(texts[i]), h);
        hex_encode(hex, h, 32);
        TRY(buf_appendf(out, "%s  documents/%s\n", hex, names[i]));
    }
    char hex[HEX_LEN(32)];
    hex_encode(hex, entries_digest, 32);
    return buf_appendf(out, "%s  entries\n", hex);
}

/* ---- building ---- */

typedef struct one_entry {
    uint64_t want;
    bool found;
    buf *text;
    uint8_t leaf[32];
} one_entry;

static err take_entry(void *ctx, uint64_t index, slice entry, const uint8_t leaf[32])
{
    one_entry *o = ctx;
    if (index == o->want) {
        o->found = true;
        memcpy(o->leaf, leaf, 32);
        return buf_set(o->text, entry.p, entry.len);
    }
    return ERR_OK;
}

static err read_entry(audit *a, uint64_t index, buf *text, uint8_t leaf[32])
{
    one_entry o = {.want = index, .text = text};
    audit_query q = {.after = index == 0 ? UINT64_MAX : index - 1, .limit = 1};
    size_t n;
    TRY(audit_search(a, &q, take_entry, &o, &n));
    ENSURE(o.found, ERR_NOT_FOUND, "audit entry %llu is not in the log", (unsigned long long)index);
    memcpy(leaf, o.leaf, 32);
    return ERR_OK;
}

static err proven_entry(audit *a, uint64_t index, uint64_t size, json_t **out)
{
    buf text;
    buf_init(&text, 0);
    uint8_t leaf[32], leaf2[32], proof[AUDIT_MAX_PROOF][32];
    size_t len;
    err rc = ERR_OK;
    GUARD(read_entry(a, index, &text, leaf));
    GUARD(audit_inclusion(a, index, size, leaf2, proof, &len));
    CHECK(memcmp(leaf, leaf2, 32) == 0, ERR_CRYPTO, "the log's leaf %llu does not match its entry",
          (unsigned long long)index);
    *out = json_pack("{s:s%, s:I, s:o}", "entry", (const char *)text.p, text.len, "index",
                     (json_int_t)index, "proof", proof_json((const uint8_t(*)[32])proof, len));
    CHECK(*out != NULL, ERR_INTERNAL, "cannot encode an entry");
out:
    buf_free(&text);
    return rc;
}

static int cmp_doc(const void *x, const void *y)
{
    return strcmp(((const bundle_doc *)x)->name, ((const bundle_doc *)y)->name);
}

/* What an entry is, for the index: its place, time, action, actor and leaf hash. */
static json_t *entry_summary(uint64_t index, const char *text, const uint8_t leaf[32])
{
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    char h[HEX_LEN(32)];
    hex_encode(h, leaf, 32);
    json_t *s = json_pack("{s:I, s:s, s:s, s:s, s:s}", "index", (json_int_t)index, "ts",
                          json_string_value(json_object_get(o, "ts")) ?: "", "action",
                          json_string_value(json_object_get(o, "action")) ?: "", "actor",
                          json_string_value(json_object_get(o, "actor")) ?: "", "leaf", h);
    json_decref(o);
    return s;
}

/* The part of a bundle fixed before the export, shared by bundle_build and bundle_preview so
 * that an index and a bundle cannot disagree: the documents sorted and checked, the entries
 * read (with proven, their inclusion proofs against the scope's checkpoint; else their
 * summaries) and the manifest. */
static err plan(audit *a, const bundle_input *in, const checkpoint *scope, bool proven,
                json_t *entries, json_t *documents, buf *manifest)
{
    ENSURE(in->incident && in->incident[0] && in->vkey, ERR_INPUT, "bundle: incident and key");
    ENSURE(in->nindexes <= BUNDLE_MAX_ENTRIES, ERR_TOO_LARGE, "bundle: too many entries");
    ENSURE(in->ndocs <= BUNDLE_MAX_DOCS, ERR_TOO_LARGE, "bundle: too many documents");
    bundle_doc docs[BUNDLE_MAX_DOCS];
    memcpy(docs, in->docs, in->ndocs * sizeof *docs);
    qsort(docs, in->ndocs, sizeof *docs, cmp_doc);
    const char *names[BUNDLE_MAX_DOCS], *texts[BUNDLE_MAX_DOCS];
    for (size_t i = 0; i < in->ndocs; i++) {
        ENSURE(doc_name_ok(docs[i].name), ERR_INPUT, "bundle: bad document name");
        ENSURE(i == 0 || strcmp(docs[i - 1].name, docs[i].name) != 0, ERR_INPUT,
               "bundle: document %s twice", docs[i].name);
        names[i] = docs[i].name, texts[i] = docs[i].text;
    }
    buf text;
    buf_init(&text, 0);
    err rc = ERR_OK;
    /* The entries, proven against the checkpoint the scope was computed against. */
    uint8_t *leaves = calloc(in->nindexes ? in->nindexes : 1, 32);
    CHECK(leaves != NULL, ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < in->nindexes; i++) {
        CHECK(in->indexes[i] < scope->size && (i == 0 || in->indexes[i] > in->indexes[i - 1]),
              ERR_INPUT, "bundle: entry indexes must ascend below the scope's checkpoint");
        json_t *e = NULL;
        if (proven) {
            GUARD(proven_entry(a, in->indexes[i], scope->size, &e));
            const char *t = json_string_value(json_object_get(e, "entry"));
            merkle_leaf_hash((const uint8_t *)t, strlen(t), leaves + 32 * i);
        } else {
            uint8_t leaf[32];
            GUARD(read_entry(a, in->indexes[i], &text, leaf));
            merkle_leaf_hash(text.p, text.len, leaves + 32 * i);
            CHECK(memcmp(leaf, leaves + 32 * i, 32) == 0, ERR_CRYPTO,
                  "the log's leaf %llu does not match its entry",
                  (unsigned long long)in->indexes[i]);
            GUARD(buf_append_byte(&text, '\0'));
            e = entry_summary(in->indexes[i], (const char *)text.p, leaves + 32 * i);
            CHECK(e != NULL, ERR_INTERNAL, "cannot encode an entry");
        }
        json_array_append_new(entries, e);
    }
    uint8_t digest[32];
    hash_sha256(leaves, 32 * in->nindexes, digest);
    for (size_t i = 0; i < in->ndocs; i++) {
        json_object_set_new(documents, names[i], json_string(texts[i]));
        CHECK(json_object_get(documents, names[i]) != NULL, ERR_INPUT,
              "bundle: document %s is not UTF-8", names[i]);
    }
    GUARD(manifest_text(in->incident, names, texts, in->ndocs, digest, manifest));
out:
    free(leaves);
    buf_free(&text);
    return rc;
}

err bundle_preview(audit *a, const bundle_input *in, buf *manifest, json_t **entries)
{
    checkpoint scope;
    TRY(checkpoint_parse(in->scope_checkpoint, &scope));
    json_t *e = json_array(), *d = json_object();
    err rc = e && d ? plan(a, in, &scope, false, e, d, manifest) : ERR_INTERNAL;
    json_decref(d);
    if (rc != ERR_OK) {
        json_decref(e);
        return rc;
    }
    *entries = e;
    return ERR_OK;
}

err bundle_build(audit *a, const bundle_input *in, buf *out)
{
    checkpoint scope;
    TRY(checkpoint_parse(in->scope_checkpoint, &scope));
    json_t *root = json_object(), *entries = json_array(), *documents = json_object();
    buf manifest, note, tmp;
    buf_init(&manifest, 0);
    buf_init(&note, 0);
    buf_init(&tmp, 0);
    err rc = ERR_OK;
    CHECK(root && entries && documents, ERR_INTERNAL, "out of memory");
    GUARD(plan(a, in, &scope, true, entries, documents, &manifest));
    /* The export is audited, with the manifest's hash, before anything leaves. */
    uint8_t mh[32];
    char mhex[HEX_LEN(32)];
    hash_sha256(manifest.p, manifest.len, mh);
    hex_encode(mhex, mh, 32);
    audit_entry ae = {.actor = in->actor,
                      .role = in->role,
                      .source = in->source,
                      .action = "evidence.export",
                      .decision = "allow",
                      .rule = "evidence",
                      .reason = in->reason,
                      .query_hash = mhex,
                      .count = (int64_t)in->nindexes};
    uint64_t seal;
    GUARD(audit_append(a, &ae, &seal));
    GUARD(audit_checkpoint_now(a, &note));
    checkpoint latest;
    GUARD(checkpoint_parse(buf_slice(&note), &latest));
    CHECK(latest.size > seal && latest.size >= scope.size, ERR_INTERNAL,
          "bundle: the latest checkpoint does not cover the export");
    json_t *exp = NULL;
    GUARD(proven_entry(a, seal, latest.size, &exp));
    uint8_t cons[AUDIT_MAX_PROOF][32];
    size_t clen = 0;
    if (scope.size < latest.size) {
        GUARD(audit_consistency(a, scope.size, latest.size, cons, &clen));
    }
    json_object_set_new(root, "format", json_string(BUNDLE_FORMAT));
    json_object_set_new(root, "incident", json_string(in->incident));
    json_object_set_new(root, "vkey", json_string(in->vkey));
    json_object_set_new(root, "checkpoints",
                        json_pack("{s:s%, s:s%, s:o}", "scope",
                                  (const char *)in->scope_checkpoint.p, in->scope_checkpoint.len,
                                  "latest", (const char *)note.p, note.len, "consistency",
                                  proof_json((const uint8_t(*)[32])cons, clen)));
    json_object_set_new(root, "entries", entries);
    entries = NULL;
    json_object_set_new(root, "documents", documents);
    documents = NULL;
    json_object_set_new(root, "manifest", json_stringn((const char *)manifest.p, manifest.len));
    json_object_set_new(root, "export", exp);
    char *s = json_dumps(root, DUMP_FLAGS);
    CHECK(s != NULL, ERR_INTERNAL, "bundle: cannot encode");
    rc = buf_set(out, s, strlen(s));
    if (rc == ERR_OK) {
        rc = buf_append_byte(out, '\n');
    }
    free(s);
out:
    json_decref(root);
    json_decref(entries);
    json_decref(documents);
    buf_free(&manifest);
    buf_free(&note);
    buf_free(&tmp);
    return rc;
}

/* ---- verifying ---- */

static err bad(bundle_report *r, err code, const char *fmt, ...) PRINTF_LIKE(3, 4);
static err bad(bundle_report *r, err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->problem, sizeof r->problem, fmt, ap);
    va_end(ap);
    return err_set(code, __FILE__, __LINE__, "bundle: %s", r->problem);
}

/* Lowercase hex only: an uppercase digit decodes to the same byte, which would let a changed
 * byte of the file pass. */
static bool lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

static err get_proof(const json_t *a, uint8_t (*proof)[32], size_t *len, bundle_report *r,
                     const char *what)
{
    if (!json_is_array(a) || json_array_size(a) > AUDIT_MAX_PROOF) {
        return bad(r, ERR_INPUT, "%s: the proof is not a list of hashes", what);
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *h = json_array_get(a, i);
        size_t n = 0;
        if (!json_is_string(h) || json_string_length(h) != 64 ||
            !lower_hex(json_string_value(h), 64) ||
            hex_decode(proof[i], 32, &n, json_string_value(h), 64) != ERR_OK || n != 32) {
            err_clear();
            return bad(r, ERR_INPUT, "%s: proof hash %zu is not 64 hex digits", what, i);
        }
    }
    *len = json_array_size(a);
    return ERR_OK;
}

/* {"entry": text, "index": i, "proof": [...]} proven against (size, root). */
static err check_entry(const json_t *e, uint64_t size, const uint8_t root[32], uint8_t leaf[32],
                       uint64_t *index, bundle_report *r, const char *what)
{
    const json_t *t = json_object_get(e, "entry"), *i = json_object_get(e, "index");
    if (!json_is_object(e) || json_object_size(e) != 3 || !json_is_string(t) ||
        !json_is_integer(i) || json_integer_value(i) < 0) {
        return bad(r, ERR_INPUT, "%s: not an entry with its index and proof", what);
    }
    *index = (uint64_t)json_integer_value(i);
    uint8_t proof[AUDIT_MAX_PROOF][32];
    size_t len;
    TRY(get_proof(json_object_get(e, "proof"), proof, &len, r, what));
    audit_decoded d;
    if (audit_decode(slice_of(json_string_value(t), json_string_length(t)), &d) != ERR_OK ||
        d.index != *index) {
        err_clear();
        return bad(r, ERR_INPUT, "%s: entry %llu is not a canonical audit entry of that index",
                   what, (unsigned long long)*index);
    }
    merkle_leaf_hash((const uint8_t *)json_string_value(t), json_string_length(t), leaf);
    if (*index >= size ||
        !merkle_verify_inclusion(leaf, *index, size, (const uint8_t(*)[32])proof, len, root)) {
        return bad(r, ERR_CRYPTO, "%s: entry %llu is not in the tree of size %llu", what,
                   (unsigned long long)*index, (unsigned long long)size);
    }
    return ERR_OK;
}

static err open_note(const json_t *n, const char *name, const uint8_t pk[32], checkpoint *c,
                     bundle_report *r, const char *what)
{
    if (!json_is_string(n)) {
        return bad(r, ERR_INPUT, "the %s checkpoint is missing", what);
    }
    if (checkpoint_open(slice_of(json_string_value(n), json_string_length(n)), name, pk, c) !=
        ERR_OK) {
        char m[160];
        snprintf(m, sizeof m, "%s", err_message());
        err_clear();
        return bad(r, ERR_CRYPTO, "the %s checkpoint does not verify (%s)", what, m);
    }
    return ERR_OK;
}

static err verify(const json_t *root, const char *pinned, bundle_report *r)
{
    const json_t *fmt = json_object_get(root, "format");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), BUNDLE_FORMAT) != 0) {
        return bad(r, ERR_INPUT, "not a %s file", BUNDLE_FORMAT);
    }
    const char *keys[] = {"checkpoints", "documents", "entries",  "export",
                          "format",      "incident",  "manifest", "vkey"};
    if (json_object_size(root) != sizeof keys / sizeof keys[0]) {
        return bad(r, ERR_INPUT, "unexpected or missing top-level fields");
    }
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!json_object_get(root, keys[i])) {
            return bad(r, ERR_INPUT, "field '%s' is missing", keys[i]);
        }
    }
    const json_t *inc = json_object_get(root, "incident"), *vk = json_object_get(root, "vkey");
    if (!json_is_string(inc) || json_string_length(inc) >= sizeof r->incident ||
        !json_is_string(vk)) {
        return bad(r, ERR_INPUT, "field 'incident' or 'vkey' is not a string");
    }
    snprintf(r->incident, sizeof r->incident, "%s", json_string_value(inc));
    if (pinned && strcmp(pinned, json_string_value(vk)) != 0) {
        return bad(r, ERR_CRYPTO, "the bundle's verifier key is not the one you hold");
    }
    char name[CHECKPOINT_MAX_NAME + 1];
    uint8_t pk[32];
    if (checkpoint_parse_vkey(json_string_value(vk), name, sizeof name, pk) != ERR_OK) {
        err_clear();
        return bad(r, ERR_INPUT, "field 'vkey' is not a verifier key");
    }
    /* Both checkpoints, and the log did not change between them. */
    const json_t *cps = json_object_get(root, "checkpoints");
    if (!json_is_object(cps) || json_object_size(cps) != 3) {
        return bad(r, ERR_INPUT, "field 'checkpoints' is not scope, latest and consistency");
    }
    checkpoint scope, latest;
    TRY(open_note(json_object_get(cps, "scope"), name, pk, &scope, r, "scope"));
    TRY(open_note(json_object_get(cps, "latest"), name, pk, &latest, r, "latest"));
    r->scope_size = scope.size, r->latest_size = latest.size;
    uint8_t cons[AUDIT_MAX_PROOF][32];
    size_t clen;
    TRY(get_proof(json_object_get(cps, "consistency"), cons, &clen, r, "consistency"));
    if (scope.size == 0 || scope.size > latest.size ||
        (scope.size == latest.size
             ? (clen != 0 || memcmp(scope.root, latest.root, 32) != 0)
             : !merkle_verify_consistency(scope.size, latest.size, scope.root, latest.root,
                                          (const uint8_t(*)[32])cons, clen))) {
        return bad(r, ERR_CRYPTO,
                   "the latest checkpoint (size %llu) is not consistent with the "
                   "scope's (size %llu)",
                   (unsigned long long)latest.size, (unsigned long long)scope.size);
    }
    /* The entries concerned, each in the scope's tree, in ascending order. */
    const json_t *es = json_object_get(root, "entries");
    if (!json_is_array(es) || json_array_size(es) > BUNDLE_MAX_ENTRIES) {
        return bad(r, ERR_INPUT, "field 'entries' is not a list");
    }
    size_t ne = json_array_size(es);
    uint8_t *leaves = calloc(ne ? ne : 1, 32);
    if (!leaves) {
        BAIL(ERR_INTERNAL, "out of memory");
    }
    err rc = ERR_OK;
    uint64_t prev = 0;
    for (size_t i = 0; i < ne; i++) {
        uint64_t idx;
        char what[40];
        snprintf(what, sizeof what, "entries[%zu]", i);
        GUARD(check_entry(json_array_get(es, i), scope.size, scope.root, leaves + 32 * i, &idx, r,
                          what));
        if (i > 0 && idx <= prev) {
            rc = bad(r, ERR_INPUT, "entries out of order");
            goto out;
        }
        prev = idx;
    }
    r->entries = ne;
    uint8_t digest[32];
    hash_sha256(leaves, 32 * ne, digest);
    /* The documents against the manifest. */
    const json_t *docs = json_object_get(root, "documents");
    if (!json_is_object(docs) || json_object_size(docs) > BUNDLE_MAX_DOCS) {
        rc = bad(r, ERR_INPUT, "field 'documents' is not an object of texts");
        goto out;
    }
    const char *names[BUNDLE_MAX_DOCS], *texts[BUNDLE_MAX_DOCS];
    size_t nd = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)docs, k, v)
    {
        if (!doc_name_ok(k) || !json_is_string(v) ||
            strlen(json_string_value(v)) != json_string_length(v)) {
            rc = bad(r, ERR_INPUT, "document '%.64s' is not a named text", k);
            goto out;
        }
        names[nd] = k, texts[nd] = json_string_value(v), nd++;
    }
    /* json_object_foreach walks in insertion order; the file's keys were sorted (canonical) */
    for (size_t i = 1; i < nd; i++) {
        if (strcmp(names[i - 1], names[i]) >= 0) {
            rc = bad(r, ERR_INPUT, "documents out of order");
            goto out;
        }
    }
    r->docs = nd;
    buf m;
    buf_init(&m, 0);
    rc = manifest_text(r->incident, names, texts, nd, digest, &m);
    const json_t *mf = json_object_get(root, "manifest");
    if (rc == ERR_OK && (!json_is_string(mf) || json_string_length(mf) != m.len ||
                         memcmp(json_string_value(mf), m.p, m.len) != 0)) {
        rc = bad(r, ERR_CRYPTO, "the manifest does not match the documents and entries");
    }
    uint8_t mh[32];
    hash_sha256(m.p, m.len, mh);
    buf_free(&m);
    if (rc != ERR_OK) {
        goto out;
    }
    hex_encode(r->manifest_sha256, mh, 32);
    /* The export record: in the latest tree, and it carries this manifest's hash. */
    uint8_t leaf[32];
    uint64_t xi;
    GUARD(check_entry(json_object_get(root, "export"), latest.size, latest.root, leaf, &xi, r,
                      "export"));
    const json_t *xt = json_object_get(json_object_get(root, "export"), "entry");
    json_t *x = json_loadb(json_string_value(xt), json_string_length(xt), 0, NULL);
    const json_t *act = json_object_get(x, "action"), *qh = json_object_get(x, "query_hash");
    bool ok = json_is_string(act) && strcmp(json_string_value(act), "evidence.export") == 0 &&
              json_is_string(qh) && strcmp(json_string_value(qh), r->manifest_sha256) == 0;
    json_decref(x);
    if (!ok) {
        rc = bad(r, ERR_CRYPTO, "the export record does not carry this manifest's hash");
    }
out:
    free(leaves);
    return rc;
}

err bundle_verify(slice file, const char *pinned_vkey, bundle_report *r)
{
    memset(r, 0, sizeof *r);
    if (file.len == 0 || file.len > BUNDLE_MAX_BYTES) {
        return bad(r, ERR_INPUT, "empty or larger than %u bytes", BUNDLE_MAX_BYTES);
    }
    json_error_t je;
    json_t *root = json_loadb((const char *)file.p, file.len,
                              JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return bad(r, ERR_INPUT, "not JSON (line %d, column %d)", je.line, je.column);
    }
    /* Canonical form: the same bytes again, and one final newline. */
    char *again = json_dumps(root, DUMP_FLAGS);
    size_t n = again ? strlen(again) : 0;
    bool canonical =
        again && file.len == n + 1 && memcmp(file.p, again, n) == 0 && file.p[n] == '\n';
    free(again);
    err rc;
    if (!canonical) {
        rc = bad(r, ERR_INPUT, "not in canonical form (changed after it was made)");
    } else {
        rc = verify(root, pinned_vkey, r);
    }
    json_decref(root);
    if (rc == ERR_OK) {
        r->problem[0] = 0;
    }
    return rc;
}
