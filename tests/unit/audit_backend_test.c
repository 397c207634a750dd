/*
 * audit_backend_test.c - the audit log's storage through its operations table
 * alone (audit_backend.h), as a second backend would be driven: entries and
 * leaves in and out, tree hashes, a rollback that leaves nothing, checkpoints,
 * searches, the write lock seen by the readiness probe, and files that are not
 * logs refused.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_backend.h"
#include "audit/merkle.h"
#include "test.h"

static const audit_backend_ops *OPS = AUDIT_BACKEND;
static char path[600];

#define N 40

static char bytes[N][96];
static audit_row rows[N];
static uint8_t fr_leaf[N][32];

static err emit(void *ctx, unsigned level, uint64_t index, const uint8_t h[32])
{
    audit_backend *b = ctx;
    return level == 0 ? ERR_OK : OPS->put_node(b, level, index, h);
}

static err subtree(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    return OPS->subtree(ctx, level, index, out);
}

typedef struct seen {
    uint64_t idx[N];
    size_t n;
    bool bytes_ok, leaf_ok;
} seen;

static err see(void *ctx, uint64_t index, slice entry, const uint8_t leaf[32])
{
    seen *s = ctx;
    if (s->n < N) {
        s->idx[s->n++] = index;
    }
    if (index < N) {
        s->bytes_ok = s->bytes_ok && entry.len == strlen(bytes[index]) &&
                      memcmp(entry.p, bytes[index], entry.len) == 0;
        s->leaf_ok = s->leaf_ok && memcmp(leaf, fr_leaf[index], 32) == 0;
    }
    return ERR_OK;
}

static err see_cp(void *ctx, uint64_t size, const uint8_t root[32], slice note)
{
    seen *s = ctx;
    (void)root;
    (void)note;
    if (s->n < N) {
        s->idx[s->n++] = size;
    }
    return ERR_OK;
}

TEST(t_round_trip)
{
    char *d = test_tmpdir("audit-backend");
    snprintf(path, sizeof path, "%s/audit.db", d);
    free(d);
    EXPECT_OK(OPS->create(path));
    EXPECT_ERR(OPS->create(path), ERR_CONFLICT);
    audit_backend *w = NULL, *r = NULL;
    EXPECT_OK(OPS->open(path, AUDIT_BE_WRITE, &w));
    EXPECT_OK(OPS->open(path, AUDIT_BE_READ, &r));
    if (!w || !r) {
        return;
    }
    merkle_frontier fr;
    merkle_frontier_init(&fr);
    uint64_t n = 99;
    EXPECT_OK(OPS->begin(w));
    EXPECT_OK(OPS->tree_size(w, &n));
    EXPECT_INT(n, 0);
    for (int i = 0; i < N; i++) {
        snprintf(bytes[i], sizeof bytes[i], "{\"action\":\"login\",\"i\":%d,\"v\":1}", i);
        rows[i].index = (uint64_t)i;
        rows[i].ts_us = 1000 + i;
        rows[i].actor = i % 2 ? "odd" : "even";
        rows[i].action = "login";
        rows[i].customer = i % 5 == 0 ? "cus_five" : NULL;
        rows[i].customers = i == 7 ? "cus_a,cus_b" : NULL;
        rows[i].decision = "allow";
        rows[i].entry = slice_cstr(bytes[i]);
        merkle_leaf_hash((const uint8_t *)bytes[i], strlen(bytes[i]), rows[i].leaf);
        memcpy(fr_leaf[i], rows[i].leaf, 32);
    }
    EXPECT_OK(OPS->append(w, rows, N));
    for (int i = 0; i < N; i++) {
        EXPECT_OK(merkle_frontier_append(&fr, rows[i].leaf, emit, w));
    }
    EXPECT_OK(OPS->commit(w));
    /* read back on the other handle */
    EXPECT_OK(OPS->tree_size(r, &n));
    EXPECT_INT(n, N);
    seen s = {.bytes_ok = true, .leaf_ok = true};
    EXPECT_OK(OPS->read_range(r, 5, 3, see, &s));
    EXPECT_INT(s.n, 3);
    EXPECT_INT(s.idx[0], 5);
    EXPECT_INT(s.idx[2], 7);
    EXPECT(s.bytes_ok && s.leaf_ok);
    memset(&s, 0, sizeof s);
    s.bytes_ok = s.leaf_ok = true;
    EXPECT_OK(OPS->read_range(r, 0, UINT64_MAX, see, &s));
    EXPECT_INT(s.n, N);
    EXPECT(s.bytes_ok && s.leaf_ok);
    /* every complete subtree, stored or hashed from leaves, and the root */
    uint8_t h[32], want[32], root[32];
    EXPECT_OK(OPS->subtree(r, 0, 9, h));
    EXPECT(memcmp(h, fr_leaf[9], 32) == 0);
    merkle_src src = {r, subtree};
    for (unsigned level = 1; level <= 5; level++) {
        for (uint64_t k = 0; ((k + 1) << level) <= N; k++) {
            EXPECT_OK(OPS->subtree(r, level, k, h));
            memset(want, 0, 32);
            EXPECT_OK(merkle_range_hash(&src, k << level, (k + 1) << level, want));
            EXPECT(memcmp(h, want, 32) == 0);
        }
    }
    EXPECT_ERR(OPS->subtree(r, 6, 0, h), ERR_CRYPTO); /* 64 leaves: not there yet */
    merkle_frontier_root(&fr, want);
    EXPECT_OK(merkle_root(&src, N, root));
    EXPECT(memcmp(root, want, 32) == 0);
    /* a rollback leaves nothing */
    EXPECT_OK(OPS->begin(w));
    audit_row extra = rows[0];
    extra.index = N;
    EXPECT_OK(OPS->append(w, &extra, 1));
    OPS->rollback(w);
    EXPECT_OK(OPS->tree_size(r, &n));
    EXPECT_INT(n, N);
    EXPECT_OK(OPS->tree_size(w, &n));
    EXPECT_INT(n, N);
    /* checkpoints: none, then two, the latest first */
    uint64_t size = 9;
    buf note;
    buf_init(&note, 0);
    EXPECT_OK(OPS->last_checkpoint(r, &size, NULL, &note));
    EXPECT_INT(size, 0);
    EXPECT_OK(OPS->begin(w));
    EXPECT_OK(OPS->put_checkpoint(w, 16, want, slice_cstr("note 16"), 1));
    EXPECT_OK(OPS->put_checkpoint(w, N, root, slice_cstr("note 40"), 2));
    EXPECT_OK(OPS->put_checkpoint(w, 16, root, slice_cstr("other"), 3)); /* ignored */
    EXPECT_OK(OPS->commit(w));
    uint8_t got[32];
    EXPECT_OK(OPS->last_checkpoint(r, &size, got, &note));
    EXPECT_INT(size, N);
    EXPECT(memcmp(got, root, 32) == 0);
    EXPECT_STR(buf_cstr(&note), "note 40");
    memset(&s, 0, sizeof s);
    EXPECT_OK(OPS->checkpoints(r, see_cp, &s));
    EXPECT_INT(s.n, 2);
    EXPECT_INT(s.idx[0], 16);
    EXPECT_INT(s.idx[1], N);
    buf_free(&note);
    /* searches: by actor, by customer (its column and a multi-customer entry) */
    audit_query q;
    memset(&q, 0, sizeof q);
    q.after = UINT64_MAX;
    q.actor = "odd";
    memset(&s, 0, sizeof s);
    s.bytes_ok = s.leaf_ok = true;
    size_t k = 0;
    EXPECT_OK(OPS->search(r, &q, 100, see, &s, &k));
    EXPECT_INT(k, N / 2);
    EXPECT_INT(s.idx[0], 1);
    EXPECT(s.bytes_ok && s.leaf_ok);
    q.actor = NULL;
    q.customer = "cus_b";
    memset(&s, 0, sizeof s);
    EXPECT_OK(OPS->search(r, &q, 100, see, &s, &k));
    EXPECT_INT(k, 1);
    EXPECT_INT(s.idx[0], 7);
    q.customer = "cus_five";
    EXPECT_OK(OPS->search(r, &q, 3, see, &s, &k));
    EXPECT_INT(k, 3); /* the limit */
    /* the write lock, as the readiness probe sees it */
    EXPECT_OK(OPS->probe_writable(path, 100));
    EXPECT_OK(OPS->begin(w));
    EXPECT_ERR(OPS->probe_writable(path, 10), ERR_UNAVAILABLE);
    OPS->rollback(w);
    EXPECT_OK(OPS->probe_writable(path, 100));
    /* the read handle cannot write */
    EXPECT(OPS->append(r, rows, 1) != ERR_OK);
    EXPECT(OPS->wal_pages(w) > 0);
    EXPECT_OK(OPS->checkpoint_wal(w, AUDIT_WAL_TRUNCATE));
    OPS->close(r);
    OPS->close(w);
    /* the public API reads what the backend wrote */
    audit *a = NULL;
    EXPECT_OK(audit_open_readonly(path, &a));
    uint64_t sz = 0;
    EXPECT_OK(audit_size(a, &sz));
    EXPECT_INT(sz, N);
    uint8_t r2[32];
    EXPECT_OK(audit_root(a, N, r2));
    EXPECT(memcmp(r2, root, 32) == 0);
    audit_entry e;
    memset(&e, 0, sizeof e);
    e.action = "login";
    EXPECT_ERR(audit_append(a, &e, NULL), ERR_UNAVAILABLE);
    audit_close(a);
}

TEST(t_not_a_log)
{
    audit_backend *b = NULL;
    EXPECT_ERR(OPS->open("/nonexistent/audit.db", AUDIT_BE_READ, &b), ERR_IO);
    char other[700];
    snprintf(other, sizeof other, "%s.txt", path);
    FILE *f = fopen(other, "w");
    EXPECT(f != NULL);
    if (f) {
        fputs("not a database at all, just some text that is long enough to matter\n", f);
        fclose(f);
    }
    EXPECT_ERR(OPS->open(other, AUDIT_BE_READ, &b), ERR_IO);
    audit *a = NULL;
    EXPECT_ERR(audit_open_readonly(other, &a), ERR_IO);
    unlink(other);
}

int main(void)
{
    test_init();
    RUN(t_round_trip);
    RUN(t_not_a_log);
    return test_done("audit_backend_test");
}
