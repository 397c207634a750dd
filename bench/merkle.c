/*
 * merkle.c - the tree's costs: SHA-256 throughput of libsodium (portable C)
 * against nettle (SHA extensions where the CPU has them) on this machine,
 * leaf hashing plus frontier appends per second (what offline verification
 * does per entry, without the disk), proof generation from an in-memory store
 * at 10^3 and 10^6 leaves, and proof verification.
 */
#include <nettle/sha2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/merkle.h"
#include "bench/bench.h"

static uint8_t (*store[21])[32];

static err put(void *ctx, unsigned level, uint64_t index, const uint8_t h[32])
{
    if (level < 21) {
        memcpy(store[level][index], h, 32);
    }
    return ERR_OK;
}

static err get(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    memcpy(out, store[level][index], 32);
    return ERR_OK;
}

void bench_merkle(void)
{
    bench_section("Merkle tree (RFC 9162)");
    static uint8_t data[1 << 20];
    memset(data, 0x5a, sizeof data);
    uint8_t h[32];
    double t0 = bench_secs();
    int rounds = 0;
    while (bench_secs() - t0 < 0.5) {
        crypto_hash_sha256(h, data, sizeof data);
        rounds++;
    }
    double sod = rounds / (bench_secs() - t0);
    printf("  %-52s %14.1f MB/s\n", "SHA-256, libsodium (baseline)", sod);
    t0 = bench_secs();
    rounds = 0;
    while (bench_secs() - t0 < 0.5) {
        struct sha256_ctx c;
        sha256_init(&c);
        sha256_update(&c, sizeof data, data);
        sha256_digest(&c, 32, h);
        rounds++;
    }
    double net = rounds / (bench_secs() - t0);
    printf("  %-52s %14.1f MB/s\n", "SHA-256, nettle (used for the tree)", net);
    bench_ratio("nettle / libsodium", net, sod, NULL);
    /* a million ~300-byte entries: leaf hash + frontier append + storing subtrees */
    const uint64_t N = 1000000;
    for (unsigned l = 0; l < 21; l++) {
        store[l] = calloc((N >> l) + 1, 32);
    }
    char entry[300];
    memset(entry, 'e', sizeof entry);
    merkle_frontier f;
    merkle_frontier_init(&f);
    t0 = bench_secs();
    for (uint64_t i = 0; i < N; i++) {
        memcpy(entry, &i, sizeof i);
        uint8_t leaf[32];
        merkle_leaf_hash((const uint8_t *)entry, sizeof entry, leaf);
        IGNORE(merkle_frontier_append(&f, leaf, put, NULL));
    }
    double dt = bench_secs() - t0;
    bench_report("leaf hash + tree append, 300-byte entries", (double)N, dt);
    printf("  %-52s %14s\n", "  target (offline verification)", ">= 1,000,000 entries/s");
    merkle_src src = {NULL, get};
    uint64_t sizes[] = {1000, N};
    for (int s = 0; s < 2; s++) {
        uint8_t proof[MERKLE_MAX_PROOF][32], root[32], leaf[32];
        size_t len = 0;
        IGNORE(merkle_root(&src, sizes[s], root));
        int n = 100000;
        t0 = bench_secs();
        for (int i = 0; i < n; i++) {
            IGNORE(merkle_inclusion_proof(&src, ((uint64_t)i * 7919) % sizes[s], sizes[s], proof,
                                          &len));
        }
        dt = bench_secs() - t0;
        char name[80];
        snprintf(name, sizeof name, "inclusion proof (in memory) at %llu leaves",
                 (unsigned long long)sizes[s]);
        bench_report(name, n, dt);
        printf("  %-52s %14.2f us/proof, %zu hashes\n", "  (mean)", dt / n * 1e6, len);
        uint64_t idx = sizes[s] / 3;
        IGNORE(merkle_inclusion_proof(&src, idx, sizes[s], proof, &len));
        memcpy(leaf, store[0][idx], 32);
        t0 = bench_secs();
        int ok = 0;
        for (int i = 0; i < n; i++) {
            ok += merkle_verify_inclusion(leaf, idx, sizes[s], proof, len, root);
        }
        dt = bench_secs() - t0;
        snprintf(name, sizeof name, "inclusion proof verification at %llu leaves",
                 (unsigned long long)sizes[s]);
        bench_report(name, ok, dt);
    }
    for (unsigned l = 0; l < 21; l++) {
        free(store[l]);
    }
}
