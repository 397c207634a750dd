/*
 * rfc6962_test.c - the Merkle tree against public known answers and against
 * itself: the RFC 6962 reference tree's roots at every size 1..8, the empty
 * root, every transparency-dev inclusion and consistency vector (happy paths
 * accepted, every mutation rejected), and proofs generated from stored
 * subtrees for every index and size pair of small trees, checked against a
 * naive recursive implementation of the RFC written here.
 */
#include <sodium.h>

#include "audit/merkle.h"
#include "rfc6962_vectors.h"
#include "test.h"

static bool dec32(const char *b64, uint8_t out[32])
{
    size_t n = 0;
    return b64 && sodium_base642bin(out, 32, b64, strlen(b64), NULL, &n, NULL,
                                    sodium_base64_VARIANT_ORIGINAL) == 0 &&
           n == 32;
}

/* Roots in the vectors are opaque byte strings (some are short placeholders such as
 * "don't care"): decoded and zero-padded, so that equal strings compare equal. */
static bool dec_root(const char *b64, uint8_t out[32])
{
    uint8_t tmp[64];
    size_t n = 0;
    memset(out, 0, 32);
    if (!b64 || !b64[0] ||
        sodium_base642bin(tmp, sizeof tmp, b64, strlen(b64), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n == 0 || n > 32) {
        return false;
    }
    memcpy(out, tmp, n);
    return true;
}

static void hex32(const char *hex, uint8_t out[32])
{
    size_t n = 0;
    sodium_hex2bin(out, 32, hex, 64, NULL, &n, NULL);
}

/* The RFC 6962 reference leaves (the CT test data). */
static const struct {
    const char *data;
    size_t len;
} LEAVES[8] = {{"", 0},
               {"\x00", 1},
               {"\x10", 1},
               {"\x20\x21", 2},
               {"\x30\x31", 2},
               {"\x40\x41\x42\x43", 4},
               {"\x50\x51\x52\x53\x54\x55\x56\x57", 8},
               {"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16}};
static const char *const ROOTS[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

/* ---- an in-memory store of complete subtrees, filled by the frontier ---- */
#define MAXN 160
static uint8_t NODES[9][MAXN][32];
static bool HAVE[9][MAXN];
static uint8_t LEAF[MAXN][32];

static err mem_emit(void *ctx, unsigned level, uint64_t index, const uint8_t h[32])
{
    ENSURE(level < 9 && index < MAXN, ERR_INTERNAL, "test store too small");
    memcpy(NODES[level][index], h, 32);
    HAVE[level][index] = true;
    return ERR_OK;
}

static err mem_subtree(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    ENSURE(level < 9 && index < MAXN && HAVE[level][index], ERR_CRYPTO, "no such subtree");
    memcpy(out, NODES[level][index], 32);
    return ERR_OK;
}

/* Naive RFC 9162 §2.1.1 MTH, §2.1.3.1 PATH and §2.1.4.1 SUBPROOF over LEAF[]. */
static void mth(uint64_t b, uint64_t e, uint8_t out[32])
{
    if (e - b == 1) {
        memcpy(out, LEAF[b], 32);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < e - b) {
        k *= 2;
    }
    uint8_t l[32], r[32];
    mth(b, b + k, l);
    mth(b + k, e, r);
    merkle_node_hash(l, r, out);
}

static void naive_path(uint64_t m, uint64_t b, uint64_t e, uint8_t p[][32], size_t *n)
{
    if (e - b <= 1) {
        return;
    }
    uint64_t k = 1;
    while (k * 2 < e - b) {
        k *= 2;
    }
    if (m < k) {
        naive_path(m, b, b + k, p, n);
        mth(b + k, e, p[(*n)++]);
    } else {
        naive_path(m - k, b + k, e, p, n);
        mth(b, b + k, p[(*n)++]);
    }
}

static void naive_sub(uint64_t m, uint64_t b, uint64_t e, bool full, uint8_t p[][32], size_t *n)
{
    if (m == e - b) {
        if (!full) {
            mth(b, e, p[(*n)++]);
        }
        return;
    }
    uint64_t k = 1;
    while (k * 2 < e - b) {
        k *= 2;
    }
    if (m <= k) {
        naive_sub(m, b, b + k, full, p, n);
        mth(b + k, e, p[(*n)++]);
    } else {
        naive_sub(m - k, b + k, e, false, p, n);
        mth(b, b + k, p[(*n)++]);
    }
}

TEST(t_known_answers)
{
    uint8_t h[32], want[32];
    merkle_empty_root(h);
    hex32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want);
    EXPECT(memcmp(h, want, 32) == 0);
    merkle_frontier f;
    merkle_frontier_init(&f);
    for (int i = 0; i < 8; i++) {
        merkle_leaf_hash((const uint8_t *)LEAVES[i].data, LEAVES[i].len, h);
        EXPECT_OK(merkle_frontier_append(&f, h, NULL, NULL));
        merkle_frontier_root(&f, h);
        hex32(ROOTS[i], want);
        if (memcmp(h, want, 32) != 0) {
            printf("  root at size %d differs\n", i + 1);
        }
        EXPECT(memcmp(h, want, 32) == 0);
    }
}

TEST(t_inclusion_vectors)
{
    size_t n = sizeof INCLUSION_VECTORS / sizeof INCLUSION_VECTORS[0];
    int checked = 0;
    for (size_t i = 0; i < n; i++) {
        const incl_vec *v = &INCLUSION_VECTORS[i];
        uint8_t root[32], leaf[32], proof[12][32];
        bool ok = dec32(v->root, root) && dec32(v->leaf, leaf);
        for (int k = 0; k < v->nproof && ok; k++) {
            ok = dec32(v->proof[k], proof[k]);
        }
        bool verified = ok && merkle_verify_inclusion(leaf, v->index, v->size, proof,
                                                      (size_t)v->nproof, root);
        if (verified == v->want_err) {
            printf("  inclusion vector %s: verified=%d, want_err=%d\n", v->name, verified,
                   v->want_err);
        }
        EXPECT(verified != v->want_err);
        checked++;
    }
    EXPECT_INT(checked, 98);
}

TEST(t_consistency_vectors)
{
    size_t n = sizeof CONSISTENCY_VECTORS / sizeof CONSISTENCY_VECTORS[0];
    for (size_t i = 0; i < n; i++) {
        const cons_vec *v = &CONSISTENCY_VECTORS[i];
        uint8_t r1[32], r2[32], proof[12][32];
        bool ok = dec_root(v->root1, r1) && dec_root(v->root2, r2);
        for (int k = 0; k < v->nproof && ok; k++) {
            ok = dec32(v->proof[k], proof[k]);
        }
        bool verified =
            ok && merkle_verify_consistency(v->size1, v->size2, r1, r2, proof, (size_t)v->nproof);
        if (verified == v->want_err) {
            printf("  consistency vector %s: verified=%d, want_err=%d\n", v->name, verified,
                   v->want_err);
        }
        EXPECT(verified != v->want_err);
    }
}

TEST(t_generated_proofs)
{
    memset(HAVE, 0, sizeof HAVE);
    merkle_frontier f;
    merkle_frontier_init(&f);
    merkle_src src = {NULL, mem_subtree};
    int bad = 0;
    for (uint64_t size = 1; size <= 130; size++) {
        uint8_t data[8];
        memcpy(data, &size, 8);
        merkle_leaf_hash(data, 8, LEAF[size - 1]);
        EXPECT_OK(merkle_frontier_append(&f, LEAF[size - 1], mem_emit, NULL));
        uint8_t want[32], got[32];
        mth(0, size, want);
        merkle_frontier_root(&f, got);
        bad += memcmp(want, got, 32) != 0;
        EXPECT_OK(merkle_root(&src, size, got));
        bad += memcmp(want, got, 32) != 0;
        merkle_frontier g;
        EXPECT_OK(merkle_frontier_load(&g, &src, size));
        merkle_frontier_root(&g, got);
        bad += memcmp(want, got, 32) != 0 || g.size != size;
        for (uint64_t i = 0; i < size; i++) {
            uint8_t p[64][32], q[64][32];
            size_t n = 0, nq = 0;
            EXPECT_OK(merkle_inclusion_proof(&src, i, size, p, &n));
            naive_path(i, 0, size, q, &nq);
            bad += n != nq || memcmp(p, q, n * 32) != 0;
            bad += !merkle_verify_inclusion(LEAF[i], i, size, p, n, want);
            bad += i + 1 < size && merkle_verify_inclusion(LEAF[i], i + 1, size, p, n, want);
        }
        if (size <= 70 || size % 13 == 0) {
            for (uint64_t m = 1; m <= size; m++) {
                uint8_t p[64][32], q[64][32], old[32];
                size_t n = 0, nq = 0;
                EXPECT_OK(merkle_consistency_proof(&src, m, size, p, &n));
                if (m < size) {
                    naive_sub(m, 0, size, true, q, &nq);
                }
                bad += n != nq || memcmp(p, q, n * 32) != 0;
                mth(0, m, old);
                bad += !merkle_verify_consistency(m, size, old, want, p, n);
                old[0] ^= 1;
                bad += merkle_verify_consistency(m, size, old, want, p, n);
            }
        }
    }
    EXPECT_INT(bad, 0);
    uint8_t p[64][32];
    size_t n = 0;
    EXPECT_ERR(merkle_inclusion_proof(&src, 130, 130, p, &n), ERR_INPUT);
    EXPECT_ERR(merkle_consistency_proof(&src, 131, 130, p, &n), ERR_INPUT);
    /* a missing subtree is an error, never a wrong proof */
    EXPECT(merkle_inclusion_proof(&src, 3, 200, p, &n) != ERR_OK);
}

int main(void)
{
    test_init();
    RUN(t_known_answers);
    RUN(t_inclusion_vectors);
    RUN(t_consistency_vectors);
    RUN(t_generated_proofs);
    return test_done("rfc6962_test");
}
