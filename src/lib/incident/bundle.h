/*
 * bundle.h - the evidence bundle of an incident (docs/FORMATS-bundle.md): the audit entries
 * concerned with their inclusion proofs against the checkpoint the scope was computed against,
 * a consistency proof from it to the latest checkpoint, the verifier key, the incident's
 * documents (alerts, timeline, scope, chain of custody) with a SHA-256 manifest, and the audit
 * entry that recorded the export and the manifest's hash, proven against the latest checkpoint.
 * One canonical JSON file; anyone verifies it offline with no key and no vault, and any changed
 * byte is caught.
 */
#ifndef CUSTOS_INCIDENT_BUNDLE_H
#define CUSTOS_INCIDENT_BUNDLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "core/buf.h"
#include "core/err.h"

#define BUNDLE_FORMAT "custos-evidence-bundle/1"
#define BUNDLE_MAX_BYTES (64u * 1024 * 1024)
#define BUNDLE_MAX_ENTRIES 100000
#define BUNDLE_MAX_DOCS 16

typedef struct bundle_doc {
    const char *name; /* "alerts.json", "timeline.json", "scope.json", "custody.json", ... */
    const char *text; /* the document, UTF-8 */
} bundle_doc;

typedef struct bundle_input {
    const char *incident;    /* the incident's id */
    const char *vkey;        /* the audit log's verifier key */
    slice scope_checkpoint;  /* the signed note the scope was computed against */
    const uint64_t *indexes; /* the entries concerned, ascending, all below its size */
    size_t nindexes;
    const bundle_doc *docs;
    size_t ndocs;
    /* The export itself, recorded in the audit log before the bundle is handed out. */
    const char *actor, *role, *source, *reason;
} bundle_input;

/* Builds the bundle: reads the entries and their proofs from the log, writes the manifest,
 * appends the "evidence.export" entry carrying the manifest's SHA-256 (durable), asks for a
 * checkpoint that covers it, and writes the whole into out (canonical JSON, one line). */
MUST_USE err bundle_build(audit *a, const bundle_input *in, buf *out);

/* What bundle_build would put in a bundle from the same input, with nothing exported or
 * appended to the log: the manifest (the same code writes both) and, per entry, its summary
 * {index, ts, action, actor, leaf (hex)}. For the evidence index. */
MUST_USE err bundle_preview(audit *a, const bundle_input *in, buf *manifest, json_t **entries);

typedef struct bundle_report {
    char incident[64];
    uint64_t entries;     /* entries proven */
    uint64_t scope_size;  /* the scope checkpoint's tree size */
    uint64_t latest_size; /* the latest checkpoint's tree size */
    size_t docs;          /* documents checked against the manifest */
    char manifest_sha256[65];
    char problem[300]; /* what is wrong, in words (empty when all holds) */
} bundle_report;

/* Verifies a bundle file's bytes. pinned_vkey (may be NULL) is the verifier key the auditor
 * holds apart; when given, the bundle's must be the same. ERR_OK only when everything holds;
 * ERR_CRYPTO (a proof, signature, hash or the export record does not match) or ERR_INPUT (not
 * a bundle, not canonical) with the problem in r->problem and the error message. */
MUST_USE err bundle_verify(slice file, const char *pinned_vkey, bundle_report *r);

#endif
