/*
 * bundle_test.c - evidence bundles from a real audit log: one made after more entries were
 * appended verifies offline with no key, holds exactly the entries asked for, records its
 * export in the log, and every single changed byte of the file is caught.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "audit/audit.h"
#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "core/mem.h"
#include "incident/bundle.h"
#include "test.h"

static uint8_t PK[32], SK[64];
static const char *KEY = "custos.audit.bundle";

static void sign(void *ctx, slice msg, uint8_t sig[64])
{
    (void)ctx;
    crypto_sign_detached(sig, NULL, msg.p, msg.len, SK);
}

static void append(audit *a, const char *actor, const char *action, const char *customer,
                   uint64_t *idx)
{
    audit_entry e = {.actor = actor,
                     .role = "sales",
                     .source = "10.9.8.7",
                     .action = action,
                     .customer = customer,
                     .decision = "allow",
                     .rule = "grant:test",
                     .fields = "name,phone",
                     .count = -1};
    EXPECT_OK(audit_append(a, &e, idx));
}

static err count_row(void *ctx, uint64_t index, slice entry, const uint8_t leaf[32])
{
    (void)index, (void)leaf;
    *(int *)ctx += strstr((const char *)entry.p, "\"query_hash\":\"") != NULL;
    return ERR_OK;
}

static audit *A;
static buf BUNDLE;
static char VKEY[300];
static uint64_t WANT[5];

TEST(t_build)
{
    char *d = test_tmpdir("bundle");
    char p[600];
    snprintf(p, sizeof p, "%s/audit.db", d);
    free(d);
    crypto_sign_keypair(PK, SK);
    EXPECT_OK(audit_create(p));
    EXPECT_OK(audit_open(p, &A));
    audit_signing s = {.origin = KEY,
                       .key_name = KEY,
                       .sign = sign,
                       .every_n = 1000,
                       .every_us = 3600 * 1000000LL};
    memcpy(s.pk, PK, 32);
    EXPECT_OK(audit_enable_checkpoints(A, &s));
    size_t w = 0;
    for (int i = 0; i < 40; i++) {
        uint64_t idx;
        bool intruder = i % 8 == 4;
        append(A, intruder ? "sales9" : "sales1", "customer.read", "cus_0000000000000001", &idx);
        if (intruder) {
            WANT[w++] = idx;
        }
    }
    EXPECT_INT(w, 5);
    buf scope;
    buf_init(&scope, 0);
    EXPECT_OK(audit_checkpoint_now(A, &scope)); /* the scope is computed against this */
    for (int i = 0; i < 30; i++) {
        append(A, "service1", "customer.read", NULL, NULL);
    }
    buf vk;
    buf_init(&vk, 0);
    EXPECT_OK(checkpoint_vkey(KEY, PK, &vk));
    snprintf(VKEY, sizeof VKEY, "%s", buf_cstr(&vk));
    bundle_doc docs[] = {
        {"timeline.json", "[{\"at\":\"2026-03-02T01:30:00Z\",\"what\":\"opened\"}]"},
        {"alerts.json", "[{\"id\":\"alert-9\",\"rule\":\"honeytoken\"}]"},
        {"custody.json", "[{\"who\":\"legal1\",\"why\":\"for the regulator, 证据\"}]"},
    };
    bundle_input in = {.incident = "INC-2026-0007",
                       .vkey = VKEY,
                       .scope_checkpoint = buf_slice(&scope),
                       .indexes = WANT,
                       .nindexes = 5,
                       .docs = docs,
                       .ndocs = 3,
                       .actor = "legal1",
                       .role = "legal",
                       .source = "127.0.0.1",
                       .reason = "evidence for the CAC report"};
    /* The index's preview, made before the export, is what the bundle then holds. */
    buf pm;
    buf_init(&pm, 0);
    json_t *pe = NULL;
    EXPECT_OK(bundle_preview(A, &in, &pm, &pe));
    buf_init(&BUNDLE, 0);
    EXPECT_OK(bundle_build(A, &in, &BUNDLE));
    json_error_t je;
    json_t *bj = json_loadb((const char *)BUNDLE.p, BUNDLE.len, 0, &je);
    EXPECT(bj != NULL);
    EXPECT_STR(buf_cstr(&pm), json_string_value(json_object_get(bj, "manifest")));
    const json_t *be = json_object_get(bj, "entries");
    EXPECT_INT(json_array_size(pe), 5);
    EXPECT_INT(json_array_size(be), 5);
    for (size_t i = 0; i < json_array_size(pe) && i < json_array_size(be); i++) {
        const json_t *x = json_array_get(pe, i), *y = json_array_get(be, i);
        EXPECT_INT(json_integer_value(json_object_get(x, "index")),
                   json_integer_value(json_object_get(y, "index")));
        const char *t = json_string_value(json_object_get(y, "entry"));
        uint8_t leaf[32];
        char hex[65];
        merkle_leaf_hash((const uint8_t *)t, strlen(t), leaf);
        hex_encode(hex, leaf, 32);
        EXPECT_STR(json_string_value(json_object_get(x, "leaf")), hex);
        EXPECT_STR(json_string_value(json_object_get(x, "actor")), "sales9");
        EXPECT_STR(json_string_value(json_object_get(x, "action")), "customer.read");
    }
    char *first = strdup(json_string_value(json_object_get(bj, "manifest")) ?: "");
    json_decref(bj);
    json_decref(pe);
    /* a changed document changes the preview's manifest as it would the bundle's */
    bundle_doc d2[3] = {docs[0], docs[1], {"custody.json", "[]"}};
    in.docs = d2;
    EXPECT_OK(bundle_preview(A, &in, &pm, &pe));
    EXPECT(strcmp(buf_cstr(&pm), first) != 0);
    free(first);
    json_decref(pe);
    in.docs = docs;
    buf_free(&pm);
    /* Asking for an entry past the scope's checkpoint is refused. */
    uint64_t late[] = {60};
    in.indexes = late, in.nindexes = 1;
    buf other;
    buf_init(&other, 0);
    EXPECT_ERR(bundle_build(A, &in, &other), ERR_INPUT);
    buf_free(&other);
    buf_free(&scope);
    buf_free(&vk);
}

TEST(t_verifies)
{
    bundle_report r;
    EXPECT_OK(bundle_verify(buf_slice(&BUNDLE), VKEY, &r));
    EXPECT_STR(r.problem, "");
    EXPECT_STR(r.incident, "INC-2026-0007");
    EXPECT_INT(r.entries, 5);
    EXPECT_INT(r.docs, 3);
    EXPECT_INT(r.scope_size, 41); /* 40 reads and the signing request */
    EXPECT(r.latest_size > 72);   /* 30 more, the export, the second signing request */
    EXPECT_OK(bundle_verify(buf_slice(&BUNDLE), NULL, &r));
    /* The export is in the log, with the manifest's hash. */
    audit_query q = {.action = "evidence.export", .after = UINT64_MAX, .limit = 10};
    size_t n = 0;
    int with_hash = 0;
    EXPECT_OK(audit_search(A, &q, count_row, &with_hash, &n));
    EXPECT_INT(n, 1);
    EXPECT_INT(with_hash, 1);
    /* Only the asked-for entries, by index. */
    for (int i = 0; i < 5; i++) {
        char needle[32];
        snprintf(needle, sizeof needle, "\\\"i\\\":%llu,", (unsigned long long)WANT[i]);
        EXPECT(strstr(buf_cstr(&BUNDLE), needle) != NULL);
    }
    /* Another key held by the auditor: refused. */
    uint8_t pk2[32], sk2[64];
    crypto_sign_keypair(pk2, sk2);
    buf vk2;
    buf_init(&vk2, 0);
    EXPECT_OK(checkpoint_vkey(KEY, pk2, &vk2));
    EXPECT_ERR(bundle_verify(buf_slice(&BUNDLE), buf_cstr(&vk2), &r), ERR_CRYPTO);
    EXPECT_STR(r.problem, "the bundle's verifier key is not the one you hold");
    buf_free(&vk2);
}

TEST(t_every_byte)
{
    size_t n = BUNDLE.len, caught = 0;
    EXPECT(n > 1000);
    uint8_t *copy = malloc(n);
    for (size_t i = 0; i < n; i++) {
        memcpy(copy, BUNDLE.p, n);
        for (int flip = 0; flip < 2; flip++) {
            copy[i] = BUNDLE.p[i] ^ (flip ? 0x20 : 0x01);
            bundle_report r;
            if (bundle_verify(slice_of(copy, n), NULL, &r) != ERR_OK) {
                caught++;
            } else {
                printf("  byte %zu (0x%02x -> 0x%02x) not caught\n", i, BUNDLE.p[i], copy[i]);
            }
        }
    }
    EXPECT_INT(caught, 2 * n);
    /* Cut short, or a byte added. */
    bundle_report r;
    EXPECT(bundle_verify(slice_of(BUNDLE.p, n - 1), NULL, &r) != ERR_OK);
    uint8_t *more = malloc(n + 1);
    memcpy(more, BUNDLE.p, n);
    more[n] = '\n';
    EXPECT(bundle_verify(slice_of(more, n + 1), NULL, &r) != ERR_OK);
    free(more);
    free(copy);
}

/* The independent verifier (tests/interop/bundlecheck.go, Go's reference note and tlog
 * packages) agrees: ok on the bundle, FAIL on a bundle with one document changed. make test
 * sets BUNDLECHECK_BIN; run alone without it, the check says so and counts as failed. */
static int bundlecheck(const char *file, char *line, size_t n)
{
    const char *bin = getenv("BUNDLECHECK_BIN");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s '%s' '%s' 2>&1", bin, file, VKEY);
    FILE *p = popen(cmd, "r");
    line[0] = 0;
    if (!p) {
        return -1;
    }
    if (!fgets(line, (int)n, p)) {
        line[0] = 0;
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(t_independent_verifier)
{
    if (!getenv("BUNDLECHECK_BIN")) {
        printf("  BUNDLECHECK_BIN is not set (make test sets it)\n");
        EXPECT(getenv("BUNDLECHECK_BIN") != NULL);
        return;
    }
    char *d = test_tmpdir("bundlecheck");
    char good[600], badf[600], line[300];
    snprintf(good, sizeof good, "%s/good.json", d);
    snprintf(badf, sizeof badf, "%s/bad.json", d);
    free(d);
    FILE *f = fopen(good, "wb");
    fwrite(BUNDLE.p, 1, BUNDLE.len, f);
    fclose(f);
    EXPECT_INT(bundlecheck(good, line, sizeof line), 0);
    EXPECT_STR(line, "ok\n");
    /* One document changed (the reason in the custody record). */
    char *copy = strdup(buf_cstr(&BUNDLE));
    char *at = strstr(copy, "for the regulator");
    EXPECT(at != NULL);
    if (at) {
        at[4] = 'T';
    }
    f = fopen(badf, "wb");
    fputs(copy, f);
    fclose(f);
    free(copy);
    EXPECT_INT(bundlecheck(badf, line, sizeof line), 1);
    EXPECT_STR(line, "FAIL: the manifest does not match the documents and entries\n");
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    RUN(t_build);
    RUN(t_verifies);
    RUN(t_every_byte);
    RUN(t_independent_verifier);
    audit_close(A);
    buf_free(&BUNDLE);
    return test_done("bundle_test");
}
