/*
 * merkle_fixture.c - writes the answers of Custos's C Merkle tree (src/lib/audit/merkle.c) as
 * JSON, for the console's verifier test (verify.test.mjs) to be checked against them: the
 * leaf hashes of entries, the root of every size, and every inclusion and consistency proof
 * of trees up to MAX leaves plus a few larger ones. The fixture is committed
 * (tests/console/fixtures/merkle-c.json); regenerate it with
 *
 *   cc -std=c17 -D_GNU_SOURCE -Isrc/lib -Isrc -o build/merkle_fixture \
 *      tests/console/merkle_fixture.c src/lib/audit/merkle.c src/lib/core/err.c -lnettle
 *   build/merkle_fixture > tests/console/fixtures/merkle-c.json
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "audit/merkle.h"

#define MAX 17
#define BIG 1000

static uint8_t leaves[BIG][32];

static err subtree(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    (void)ctx;
    uint64_t b = index << level, e = (index + 1) << level;
    if (level == 0) {
        memcpy(out, leaves[b], 32);
        return ERR_OK;
    }
    uint8_t l[32], r[32];
    uint64_t mid = (b + e) / 2;
    TRY(subtree(ctx, level - 1, b >> (level - 1), l));
    TRY(subtree(ctx, level - 1, mid >> (level - 1), r));
    merkle_node_hash(l, r, out);
    return ERR_OK;
}

static void b64(const uint8_t *p, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    putchar('"');
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        putchar(a[v >> 18 & 63]);
        putchar(a[v >> 12 & 63]);
        putchar(i + 1 < n ? a[v >> 6 & 63] : '=');
        putchar(i + 2 < n ? a[v & 63] : '=');
    }
    putchar('"');
}

static void proof_json(uint8_t pr[][32], size_t len)
{
    putchar('[');
    for (size_t i = 0; i < len; i++) {
        if (i) {
            putchar(',');
        }
        b64(pr[i], 32);
    }
    putchar(']');
}

int main(void)
{
    merkle_src s = {NULL, subtree};
    /* Entry i is the text "entry i" (any bytes will do: the verifier gets the leaf hashes). */
    printf("{\"entries\":[");
    for (int i = 0; i < BIG; i++) {
        char t[32];
        int n = snprintf(t, sizeof t, "entry %d", i);
        merkle_leaf_hash((const uint8_t *)t, (size_t)n, leaves[i]);
        if (i < MAX) {
            printf("%s{\"text\":\"%s\",\"leaf\":", i ? "," : "", t);
            b64(leaves[i], 32);
            putchar('}');
        }
    }
    static const uint64_t sizes[] = {1,  2,  3,  4,  5,  6,  7,   8,   9,   10,  11,
                                     12, 13, 14, 15, 16, 17, 255, 256, 257, 999, 1000};
    size_t ns = sizeof sizes / sizeof sizes[0];
    printf("],\"roots\":{");
    for (size_t k = 0; k < ns; k++) {
        uint8_t r[32];
        if (merkle_root(&s, sizes[k], r) != ERR_OK) {
            return 1;
        }
        printf("%s\"%" PRIu64 "\":", k ? "," : "", sizes[k]);
        b64(r, 32);
    }
    printf("},\"inclusion\":[");
    int first = 1;
    for (size_t k = 0; k < ns; k++) {
        uint64_t n = sizes[k];
        for (uint64_t i = 0; i < n; i += (n > MAX ? 37 : 1)) {
            uint8_t pr[MERKLE_MAX_PROOF][32], root[32];
            size_t len = 0;
            if (merkle_inclusion_proof(&s, i, n, pr, &len) != ERR_OK ||
                merkle_root(&s, n, root) != ERR_OK ||
                !merkle_verify_inclusion(leaves[i], i, n, (const uint8_t(*)[32])pr, len, root)) {
                fprintf(stderr, "C refuses its own proof %" PRIu64 " %" PRIu64 "\n", i, n);
                return 1;
            }
            printf("%s{\"index\":%" PRIu64 ",\"size\":%" PRIu64 ",\"leaf\":", first ? "" : ",", i,
                   n);
            b64(leaves[i], 32);
            printf(",\"proof\":");
            proof_json(pr, len);
            putchar('}');
            first = 0;
        }
    }
    printf("],\"consistency\":[");
    first = 1;
    for (size_t a = 0; a < ns; a++) {
        for (size_t b = a; b < ns; b++) {
            uint64_t m = sizes[a], n = sizes[b];
            uint8_t pr[MERKLE_MAX_PROOF][32], rm[32], rn[32];
            size_t len = 0;
            if (merkle_consistency_proof(&s, m, n, pr, &len) != ERR_OK ||
                merkle_root(&s, m, rm) != ERR_OK || merkle_root(&s, n, rn) != ERR_OK ||
                !merkle_verify_consistency(m, n, rm, rn, (const uint8_t(*)[32])pr, len)) {
                fprintf(stderr, "C refuses its own proof %" PRIu64 " %" PRIu64 "\n", m, n);
                return 1;
            }
            printf("%s{\"from\":%" PRIu64 ",\"to\":%" PRIu64 ",\"proof\":", first ? "" : ",", m, n);
            proof_json(pr, len);
            putchar('}');
            first = 0;
        }
    }
    printf("]}\n");
    return 0;
}
