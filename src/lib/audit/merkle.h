/*
 * merkle.h - RFC 9162 (RFC 6962) Merkle trees: hashing, roots of any range from stored
 * complete subtrees, inclusion and consistency proofs and their verification, and an
 * incremental right frontier for appends. docs/FORMATS-audit-tree.md has the exact hashing
 * and proof encodings. Nothing here allocates; storage belongs to the caller (merkle_src).
 */
#ifndef CUSTOS_MERKLE_H
#define CUSTOS_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MERKLE_HASH_LEN 32
#define MERKLE_MAX_PROOF 64

/* SHA-256(0x00 || entry), SHA-256(0x01 || left || right), SHA-256(""). */
void merkle_leaf_hash(const uint8_t *entry, size_t n, uint8_t out[32]);
void merkle_node_hash(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]);
void merkle_empty_root(uint8_t out[32]);

/* Storage is the caller's: hashes of COMPLETE subtrees. (level, index) covers leaves
 * [index << level, (index + 1) << level); level 0 are the leaf hashes. The functions below
 * ask only for subtrees inside the tree size they are given; an error of subtree() is
 * returned to their caller unchanged. */
typedef struct merkle_src {
    void *ctx;
    err (*subtree)(void *ctx, unsigned level, uint64_t index, uint8_t out[32]);
} merkle_src;

/* MTH(D[begin:end]) (begin < end, else ERR_INPUT). Every range the RFC's algorithms use
 * starts at a multiple of the smallest power of two >= its length and costs at most
 * 2·log2(n) subtree lookups; an arbitrary range is still hashed correctly, at up to O(n).
 * Errors of the source are returned as they are. */
MUST_USE err merkle_range_hash(const merkle_src *s, uint64_t begin, uint64_t end, uint8_t out[32]);
/* MTH of the first `size` leaves; the empty root for size 0. popcount(size) lookups. */
MUST_USE err merkle_root(const merkle_src *s, uint64_t size, uint8_t out[32]);
/* RFC 9162 §2.1.3.1 PATH and §2.1.4.1 PROOF, hashes in the RFC's order (from the leaf, or the
 * old tree, upwards); proof holds MERKLE_MAX_PROOF hashes, *len is set. index >= size and
 * m > n are ERR_INPUT; m == 0 and m == n give an empty proof. O(log n) lookups. */
MUST_USE err merkle_inclusion_proof(const merkle_src *s, uint64_t index, uint64_t size,
                                    uint8_t proof[][32], size_t *len);
MUST_USE err merkle_consistency_proof(const merkle_src *s, uint64_t m, uint64_t n,
                                      uint8_t proof[][32], size_t *len);
/* RFC 9162 §2.1.3.2 and §2.1.4.2; true only for a proof of exactly the right length. A
 * consistency proof from the empty tree (m == 0) is refused, as the public test vectors
 * require (it proves nothing); equal sizes need an empty proof and equal roots. */
bool merkle_verify_inclusion(const uint8_t leaf[32], uint64_t index, uint64_t size,
                             const uint8_t proof[][32], size_t len, const uint8_t root[32]);
bool merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t root_m[32],
                               const uint8_t root_n[32], const uint8_t proof[][32], size_t len);

/* The right frontier: h[l] is the root of the complete subtree of 2^l leaves in the tree so
 * far, for each set bit l of size (other entries are stale). Appending a leaf hash calls
 * emit(ctx, 0, size, leaf), then emit(ctx, l, index, h) for each parent it completes, upwards,
 * so that the caller can store them; emit may be NULL. When emit fails the append fails and
 * the frontier is unchanged (subtrees already emitted are harmless to emit again).
 * merkle_frontier_root is the root of the tree so far in O(log n); merkle_frontier_load
 * rebuilds the frontier of `size` leaves from a source in popcount(size) lookups (and leaves
 * *f unchanged when the source fails). */
typedef struct merkle_frontier {
    uint64_t size;
    uint8_t h[64][32];
} merkle_frontier;
typedef err (*merkle_emit)(void *ctx, unsigned level, uint64_t index, const uint8_t h[32]);
void merkle_frontier_init(merkle_frontier *f);
MUST_USE err merkle_frontier_append(merkle_frontier *f, const uint8_t leaf[32], merkle_emit emit,
                                    void *ctx);
void merkle_frontier_root(const merkle_frontier *f, uint8_t out[32]);
MUST_USE err merkle_frontier_load(merkle_frontier *f, const merkle_src *s, uint64_t size);

#endif
