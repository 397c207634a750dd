/*
 * merkle.c - RFC 9162 Merkle trees over stored complete subtrees.
 *
 * SHA-256 comes from nettle, whose x86-64 code uses the CPU's SHA extensions
 * where present (several times faster than portable C here; make bench shows
 * it), so that rebuilding the tree of a large log stays cheap.
 *
 * Any range the RFC's algorithms need, D[b:e], starts at a multiple of the
 * smallest power of two >= e - b (the split point k of a range is a power of
 * two and both halves inherit the alignment), so its hash decomposes into at
 * most one complete subtree per level: proofs cost O(log n) lookups. The
 * verifiers are the RFC's bit-walking algorithms, which need no storage.
 */
#include "audit/merkle.h"

#include <nettle/sha2.h>
#include <string.h>

void merkle_leaf_hash(const uint8_t *entry, size_t n, uint8_t out[32])
{
    struct sha256_ctx c;
    uint8_t zero = 0;
    sha256_init(&c);
    sha256_update(&c, 1, &zero);
    sha256_update(&c, n, entry);
    sha256_digest(&c, 32, out);
}

void merkle_node_hash(const uint8_t left[32], const uint8_t right[32], uint8_t out[32])
{
    struct sha256_ctx c;
    uint8_t one = 1;
    sha256_init(&c);
    sha256_update(&c, 1, &one);
    sha256_update(&c, 32, left);
    sha256_update(&c, 32, right);
    sha256_digest(&c, 32, out);
}

void merkle_empty_root(uint8_t out[32])
{
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_digest(&c, 32, out);
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n) {
        k <<= 1;
    }
    return k;
}

static bool is_pow2(uint64_t n)
{
    return n && !(n & (n - 1));
}

static unsigned log2u(uint64_t n)
{
    unsigned l = 0;
    while ((1ull << l) < n) {
        l++;
    }
    return l;
}

err merkle_range_hash(const merkle_src *s, uint64_t begin, uint64_t end, uint8_t out[32])
{
    ENSURE(begin < end, ERR_INPUT, "merkle: empty range");
    uint64_t n = end - begin;
    if (is_pow2(n) && begin % n == 0) {
        return s->subtree(s->ctx, log2u(n), begin >> log2u(n), out);
    }
    uint64_t k = split_point(n);
    uint8_t l[32], r[32];
    TRY(merkle_range_hash(s, begin, begin + k, l));
    TRY(merkle_range_hash(s, begin + k, end, r));
    merkle_node_hash(l, r, out);
    return ERR_OK;
}

err merkle_root(const merkle_src *s, uint64_t size, uint8_t out[32])
{
    if (size == 0) {
        merkle_empty_root(out);
        return ERR_OK;
    }
    return merkle_range_hash(s, 0, size, out);
}

static err push(uint8_t proof[][32], size_t *len, const uint8_t h[32])
{
    ENSURE(*len < MERKLE_MAX_PROOF, ERR_INTERNAL, "merkle: proof too long");
    memcpy(proof[*len], h, 32);
    (*len)++;
    return ERR_OK;
}

/* PATH(m, D[b:e]) of RFC 9162 §2.1.3.1, hashes from the leaf upwards. */
static err path(const merkle_src *s, uint64_t m, uint64_t b, uint64_t e, uint8_t proof[][32],
                size_t *len)
{
    uint64_t n = e - b;
    if (n <= 1) {
        return ERR_OK;
    }
    uint64_t k = split_point(n);
    uint8_t h[32];
    if (m < k) {
        TRY(path(s, m, b, b + k, proof, len));
        TRY(merkle_range_hash(s, b + k, e, h));
    } else {
        TRY(path(s, m - k, b + k, e, proof, len));
        TRY(merkle_range_hash(s, b, b + k, h));
    }
    return push(proof, len, h);
}

err merkle_inclusion_proof(const merkle_src *s, uint64_t index, uint64_t size, uint8_t proof[][32],
                           size_t *len)
{
    ENSURE(index < size, ERR_INPUT, "index must be below the tree size");
    *len = 0;
    return path(s, index, 0, size, proof, len);
}

/* SUBPROOF(m, D[b:e], complete) of RFC 9162 §2.1.4.1. */
static err subproof(const merkle_src *s, uint64_t m, uint64_t b, uint64_t e, bool complete,
                    uint8_t proof[][32], size_t *len)
{
    uint64_t n = e - b;
    uint8_t h[32];
    if (m == n) {
        if (complete) {
            return ERR_OK;
        }
        TRY(merkle_range_hash(s, b, e, h));
        return push(proof, len, h);
    }
    uint64_t k = split_point(n);
    if (m <= k) {
        TRY(subproof(s, m, b, b + k, complete, proof, len));
        TRY(merkle_range_hash(s, b + k, e, h));
    } else {
        TRY(subproof(s, m - k, b + k, e, false, proof, len));
        TRY(merkle_range_hash(s, b, b + k, h));
    }
    return push(proof, len, h);
}

err merkle_consistency_proof(const merkle_src *s, uint64_t m, uint64_t n, uint8_t proof[][32],
                             size_t *len)
{
    ENSURE(m <= n, ERR_INPUT, "the first size must not exceed the second");
    *len = 0;
    if (m == 0 || m == n) {
        return ERR_OK; /* nothing to prove: the empty tree and equal trees */
    }
    return subproof(s, m, 0, n, true, proof, len);
}

bool merkle_verify_inclusion(const uint8_t leaf[32], uint64_t index, uint64_t size,
                             const uint8_t proof[][32], size_t len, const uint8_t root[32])
{
    if (index >= size) {
        return false;
    }
    uint64_t fn = index, sn = size - 1;
    uint8_t r[32];
    memcpy(r, leaf, 32);
    for (size_t i = 0; i < len; i++) {
        if (sn == 0) {
            return false;
        }
        if ((fn & 1) || fn == sn) {
            merkle_node_hash(proof[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            merkle_node_hash(r, proof[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, 32) == 0;
}

bool merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t root_m[32],
                               const uint8_t root_n[32], const uint8_t proof[][32], size_t len)
{
    /* A proof from the empty tree proves nothing; it is refused, as the public vectors do. */
    if (m == 0 || m > n) {
        return false;
    }
    if (m == n) {
        return len == 0 && memcmp(root_m, root_n, 32) == 0;
    }
    if (len == 0 || len > MERKLE_MAX_PROOF) {
        return false;
    }
    /* RFC 9162 §2.1.4.2, with first_hash prepended when m is a power of two. */
    const uint8_t *first = is_pow2(m) ? root_m : proof[0];
    size_t i = is_pow2(m) ? 0 : 1;
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[32], sr[32];
    memcpy(fr, first, 32);
    memcpy(sr, first, 32);
    for (; i < len; i++) {
        if (sn == 0) {
            return false;
        }
        if ((fn & 1) || fn == sn) {
            merkle_node_hash(proof[i], fr, fr);
            merkle_node_hash(proof[i], sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            merkle_node_hash(sr, proof[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, root_m, 32) == 0 && memcmp(sr, root_n, 32) == 0;
}

void merkle_frontier_init(merkle_frontier *f)
{
    memset(f, 0, sizeof *f);
}

err merkle_frontier_append(merkle_frontier *f, const uint8_t leaf[32], merkle_emit emit, void *ctx)
{
    ENSURE(f->size < UINT64_MAX / 2, ERR_INTERNAL, "merkle: tree full");
    uint64_t i = f->size;
    uint8_t cur[32];
    memcpy(cur, leaf, 32);
    if (emit) {
        TRY(emit(ctx, 0, i, cur));
    }
    unsigned level = 0;
    while (i & (1ull << level)) {
        merkle_node_hash(f->h[level], cur, cur);
        level++;
        if (emit) {
            TRY(emit(ctx, level, i >> level, cur));
        }
    }
    memcpy(f->h[level], cur, 32);
    f->size = i + 1;
    return ERR_OK;
}

void merkle_frontier_root(const merkle_frontier *f, uint8_t out[32])
{
    if (f->size == 0) {
        merkle_empty_root(out);
        return;
    }
    bool have = false;
    uint8_t r[32];
    for (unsigned l = 0; l < 64; l++) {
        if (f->size & (1ull << l)) {
            if (!have) {
                memcpy(r, f->h[l], 32);
                have = true;
            } else {
                merkle_node_hash(f->h[l], r, r);
            }
        }
    }
    memcpy(out, r, 32);
}

err merkle_frontier_load(merkle_frontier *f, const merkle_src *s, uint64_t size)
{
    ENSURE(size < UINT64_MAX / 2, ERR_INPUT, "merkle: tree size out of range");
    merkle_frontier g;
    merkle_frontier_init(&g);
    /* The complete subtrees of [0, size), largest first: one per set bit. */
    uint64_t begin = 0;
    for (int l = 63; l >= 0; l--) {
        if (size & (1ull << l)) {
            TRY(s->subtree(s->ctx, (unsigned)l, begin >> l, g.h[l]));
            begin += 1ull << l;
        }
    }
    g.size = size;
    *f = g; /* only on success */
    return ERR_OK;
}
