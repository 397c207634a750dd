/*
 * merkle.c - the tree's costs, each against a baseline measured in the same run:
 *   - SHA-256 of libsodium (portable C, the baseline) against nettle (SHA extensions where the
 *     CPU has them), in MB/s on 1 MiB and in hashes/s on a 65-byte node;
 *   - leaf hashing plus frontier appends (storing every completed subtree in memory) for
 *     1,000,000 synthetic 300-byte entries: what offline verification does per entry, without
 *     the disk, against the target of 1,000,000 entries/s; the same with libsodium's SHA-256
 *     for the leaves as the baseline;
 *   - inclusion and consistency proofs from the in-memory store at 10^3 and 10^6 leaves
 *     (µs/proof), and their verification (µs/proof).
 */
#include <nettle/sha2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/merkle.h"
#include "bench/bench.h"

#define LEVELS 21 /* 2^20 > N */
#define N 1000000ull
#define ENTRY 300

static uint8_t (*store[LEVELS])[32];

static err put(void *ctx, unsigned level, uint64_t index, const uint8_t h[32])
{
    if (level < LEVELS && index <= (N >> level)) {
        memcpy(store[level][index], h, 32);
    }
    return ERR_OK;
}

static err get(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    ENSURE(level < LEVELS && index <= (N >> level), ERR_NOT_FOUND, "bench: no such subtree");
    memcpy(out, store[level][index], 32);
    return ERR_OK;
}

/* SHA-256(0x00 || entry) with libsodium: the baseline leaf hash. */
static void sodium_leaf(const uint8_t *entry, size_t n, uint8_t out[32])
{
    crypto_hash_sha256_state st;
    uint8_t zero = 0;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &zero, 1);
    crypto_hash_sha256_update(&st, entry, n);
    crypto_hash_sha256_final(&st, out);
}

static void sha_throughput(void)
{
    static uint8_t data[1 << 20];
    memset(data, 0x5a, sizeof data);
    uint8_t h[32];
    double t0 = bench_secs(), dt;
    int rounds = 0;
    while ((dt = bench_secs() - t0) < 0.5) {
        crypto_hash_sha256(h, data, sizeof data);
        rounds++;
    }
    double sod = rounds * (sizeof data / 1e6) / dt;
    printf("  %-52s %14.1f MB/s\n", "SHA-256 1 MiB, libsodium (baseline)", sod);
    t0 = bench_secs();
    rounds = 0;
    while ((dt = bench_secs() - t0) < 0.5) {
        struct sha256_ctx c;
        sha256_init(&c);
        sha256_update(&c, sizeof data, data);
        sha256_digest(&c, 32, h);
        rounds++;
    }
    double net = rounds * (sizeof data / 1e6) / dt;
    printf("  %-52s %14.1f MB/s\n", "SHA-256 1 MiB, nettle (used for the tree)", net);
    bench_ratio("nettle / libsodium, 1 MiB", net, sod, NULL);
    /* a node: 65 bytes, two compression blocks */
    uint8_t node[65] = {1};
    const int M = 1000000;
    t0 = bench_secs();
    for (int i = 0; i < M; i++) {
        node[1] = (uint8_t)i;
        crypto_hash_sha256(node + 33, node, sizeof node);
    }
    dt = bench_secs() - t0;
    bench_report("SHA-256 65-byte node, libsodium (baseline)", M, dt);
    double sod_node = M / dt;
    t0 = bench_secs();
    for (int i = 0; i < M; i++) {
        node[1] = (uint8_t)i;
        merkle_node_hash(node + 1, node + 33, node + 33);
    }
    dt = bench_secs() - t0;
    bench_report("merkle_node_hash (nettle)", M, dt);
    bench_ratio("nettle / libsodium, nodes", M / dt, sod_node, NULL);
}

/* Leaf hash + frontier append + storing every completed subtree, for N entries. */
static double build(bool with_sodium)
{
    static uint8_t entry[ENTRY];
    memset(entry, 'e', sizeof entry);
    merkle_frontier f;
    merkle_frontier_init(&f);
    double t0 = bench_secs();
    for (uint64_t i = 0; i < N; i++) {
        memcpy(entry, &i, sizeof i);
        uint8_t leaf[32];
        if (with_sodium) {
            sodium_leaf(entry, sizeof entry, leaf);
        } else {
            merkle_leaf_hash(entry, sizeof entry, leaf);
        }
        if (merkle_frontier_append(&f, leaf, put, NULL) != ERR_OK) {
            printf("  append failed\n");
            return 0;
        }
    }
    return bench_secs() - t0;
}

static void proofs(uint64_t size)
{
    merkle_src src = {NULL, get};
    uint8_t proof[MERKLE_MAX_PROOF][32], root[32], old_root[32];
    size_t len = 0;
    char name[96];
    if (merkle_root(&src, size, root) != ERR_OK) {
        printf("  root failed\n");
        return;
    }
    const int n = 200000;
    double t0 = bench_secs();
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        uint64_t idx = ((uint64_t)i * 7919) % size;
        IGNORE(merkle_inclusion_proof(&src, idx, size, proof, &len));
        total += len;
    }
    double dt = bench_secs() - t0;
    snprintf(name, sizeof name, "inclusion proof, %llu leaves (%.1f hashes)",
             (unsigned long long)size, (double)total / n);
    bench_report(name, n, dt);
    printf("  %-52s %14.3f us/proof\n", "", dt / n * 1e6);
    uint64_t idx = size / 3;
    IGNORE(merkle_inclusion_proof(&src, idx, size, proof, &len));
    int ok = 0;
    t0 = bench_secs();
    for (int i = 0; i < n; i++) {
        ok += merkle_verify_inclusion(store[0][idx], idx, size, (const uint8_t(*)[32])proof, len,
                                      root);
    }
    dt = bench_secs() - t0;
    snprintf(name, sizeof name, "inclusion verification, %llu leaves", (unsigned long long)size);
    bench_report(name, ok, dt);
    printf("  %-52s %14.3f us/proof%s\n", "", dt / n * 1e6, ok == n ? "" : "  (FAILED)");
    /* consistency from a size a little below two thirds */
    uint64_t m = size * 2 / 3 - 1;
    IGNORE(merkle_root(&src, m, old_root));
    t0 = bench_secs();
    for (int i = 0; i < n; i++) {
        IGNORE(merkle_consistency_proof(&src, m - (uint64_t)(i % 64), size, proof, &len));
    }
    dt = bench_secs() - t0;
    snprintf(name, sizeof name, "consistency proof, %llu leaves", (unsigned long long)size);
    bench_report(name, n, dt);
    printf("  %-52s %14.3f us/proof\n", "", dt / n * 1e6);
    IGNORE(merkle_consistency_proof(&src, m, size, proof, &len));
    ok = 0;
    t0 = bench_secs();
    for (int i = 0; i < n; i++) {
        ok += merkle_verify_consistency(m, size, old_root, root, (const uint8_t(*)[32])proof, len);
    }
    dt = bench_secs() - t0;
    snprintf(name, sizeof name, "consistency verification, %llu leaves", (unsigned long long)size);
    bench_report(name, ok, dt);
    printf("  %-52s %14.3f us/proof%s\n", "", dt / n * 1e6, ok == n ? "" : "  (FAILED)");
}

void bench_merkle(void)
{
    bench_section("Merkle tree (RFC 9162)");
    sha_throughput();
    for (unsigned l = 0; l < LEVELS; l++) {
        store[l] = calloc((N >> l) + 1, 32);
        if (store[l] == NULL) {
            printf("  out of memory\n");
            return;
        }
    }
    double base = build(true);
    bench_report("leaf hash (libsodium) + append, 300 B (baseline)", (double)N, base);
    double dt = build(false);
    bench_report("leaf hash (nettle) + append, 300 B entries", (double)N, dt);
    bench_ratio("entries/s vs libsodium leaves", (double)N / dt, (double)N / base, NULL);
    bench_ratio("entries/s vs target 1,000,000/s", (double)N / dt, 1e6, ">= 1.0");
    proofs(1000);
    proofs(N);
    for (unsigned l = 0; l < LEVELS; l++) {
        free(store[l]);
        store[l] = NULL;
    }
}
