/*
 * merkle_test.c - the RFC 9162 Merkle tree against public known answers and
 * against a naive implementation of the RFC written here:
 *   - the empty root, leaf and node hashes and the roots at sizes 1..8 of the
 *     RFC 6962 reference tree (the CT test data);
 *   - every transparency-dev inclusion and consistency vector (happy paths
 *     accepted, every mutation rejected), re-typed below from the JSON files;
 *   - proofs generated from stored complete subtrees for trees of 1..300
 *     leaves, equal to the naive RFC algorithms, accepted by the verifiers,
 *     rejected after any mutation, and costing O(log n) subtree lookups;
 *   - the frontier: its root, the subtrees it emits, and frontier_load.
 *
 * The vectors come from github.com/transparency-dev/merkle, folder testdata/
 * (commit 417fb0c), licensed under the Apache License 2.0; the licence text
 * travels with them in tests/vectors/rfc6962/LICENSE (with its README).
 */
#include "audit/merkle.h"
#include "test.h"

/* ---- decoding the vectors ------------------------------------------------------------------
 * Hashes in the vectors are base64 byte strings. Leaf hashes and proof elements that are not
 * 32 bytes cannot be SHA-256 outputs and are refused at decoding, as a wire decoder would.
 * Roots are opaque to the verifier (some vectors use short placeholders such as "don't care"
 * and expect only equality to matter), so they are zero-padded to 32 bytes. */
typedef struct incl_vec {
    const char *name;
    uint64_t index, size;
    const char *root, *leaf;
    size_t n;
    const char *proof[8];
    bool want_err;
} incl_vec;

typedef struct cons_vec {
    const char *name;
    uint64_t size1, size2;
    const char *root1, *root2;
    size_t n;
    const char *proof[8];
    bool want_err;
} cons_vec;

static bool dec(const char *b64, uint8_t out[32], bool pad)
{
    uint8_t tmp[64];
    size_t n = 0;
    memset(out, 0, 32);
    if (b64_decode(tmp, sizeof tmp, &n, b64, strlen(b64)) != ERR_OK || n > 32) {
        return false;
    }
    memcpy(out, tmp, n);
    return n == 32 || pad;
}

/* clang-format off */
static const incl_vec INCLUSION[] = {
    {"0/empty-root", 0, 1, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 0, {NULL}, true},
    {"0/happy-path", 0, 1, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 0, {NULL}, false},
    {"0/leafIdx-XOR-@2", 2, 1, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 0, {NULL}, true},
    {"0/leafIdx-plus-@1", 1, 1, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 0, {NULL}, true},
    {"0/leafIdx-sub-@1", UINT64_MAX, 1, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 0, {NULL}, true},
    {"0/preceding-garbage", 0, 1, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 1, {""}, true},
    {"0/preceding-root", 0, 1, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 1, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="}, true},
    {"0/random-root", 0, 1, "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 0, {NULL}, true},
    {"0/trailing-garbage", 0, 1, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 1, {""}, true},
    {"0/trailing-root", 0, 1, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 1, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="}, true},
    {"0/treeSize-div-@2", 0, 0, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 0, {NULL}, true},
    {"0/treeSize-mul-@2", 0, 2, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 0, {NULL}, true},
    {"0/wrong-leaf", 0, 1, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "V3JvbmdMZWFm", 0, {NULL}, true},
    {"1/empty-root", 0, 8, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/happy-path", 0, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, false},
    {"1/inserted-component", 0, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 4, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/leafIdx-XOR-@2", 2, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/leafIdx-plus-@1", 1, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/leafIdx-sub-@1", UINT64_MAX, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/modified-proof[0]-bit-@3", 0, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 3, {"nqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/modified-proof[1]-bit-@3", 0, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Vwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/modified-proof[2]-bit-@3", 0, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "Y0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/preceding-garbage", 0, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 4, {"", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/preceding-root", 0, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 4, {"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/random-root", 0, 8, "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/removed-component", 0, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 2, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4="}, true},
    {"1/trailing-garbage", 0, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 4, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=", ""}, true},
    {"1/trailing-root", 0, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 4, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="}, true},
    {"1/treeSize-div-@2", 0, 4, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/treeSize-mul-@2", 0, 16, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/wrong-leaf", 0, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "V3JvbmdMZWFm", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"2/empty-root", 5, 8, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 3, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/happy-path", 5, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 3, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, false},
    {"2/inserted-component", 5, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 4, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/leafIdx-XOR-@2", 7, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 3, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/leafIdx-plus-@1", 6, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 3, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/leafIdx-sub-@1", 4, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 3, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/modified-proof[0]-bit-@3", 5, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 3, {"tBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/modified-proof[1]-bit-@3", 5, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 3, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "woVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/modified-proof[2]-bit-@3", 5, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 3, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "237kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/preceding-garbage", 5, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 4, {"", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/preceding-root", 5, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 4, {"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/random-root", 5, 8, "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 3, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/removed-component", 5, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 2, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA="}, true},
    {"2/trailing-garbage", 5, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 4, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=", ""}, true},
    {"2/trailing-root", 5, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 4, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="}, true},
    {"2/treeSize-div-@2", 5, 4, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 3, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/treeSize-mul-@2", 5, 16, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", 3, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/wrong-leaf", 5, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "V3JvbmdMZWFm", 3, {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"3/empty-root", 2, 3, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 1, {"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}, true},
    {"3/happy-path", 2, 3, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 1, {"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}, false},
    {"3/leafIdx-XOR-@2", 0, 3, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 1, {"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}, true},
    {"3/leafIdx-plus-@1", 3, 3, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 1, {"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}, true},
    {"3/leafIdx-sub-@1", 1, 3, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 1, {"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}, true},
    {"3/modified-proof[0]-bit-@3", 2, 3, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 1, {"8sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}, true},
    {"3/preceding-garbage", 2, 3, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 2, {"", "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}, true},
    {"3/preceding-root", 2, 3, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 2, {"rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}, true},
    {"3/random-root", 2, 3, "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 1, {"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}, true},
    {"3/removed-component", 2, 3, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 0, {NULL}, true},
    {"3/trailing-garbage", 2, 3, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 2, {"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", ""}, true},
    {"3/trailing-root", 2, 3, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 2, {"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc="}, true},
    {"3/treeSize-div-@2", 2, 1, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 1, {"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}, true},
    {"3/treeSize-mul-@2", 2, 6, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", 1, {"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}, true},
    {"3/wrong-leaf", 2, 3, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "V3JvbmdMZWFm", 1, {"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}, true},
    {"4/empty-root", 1, 5, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 3, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/happy-path", 1, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 3, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, false},
    {"4/inserted-component", 1, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 4, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/leafIdx-XOR-@2", 3, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 3, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/leafIdx-plus-@1", 2, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 3, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/leafIdx-sub-@1", 0, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 3, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/modified-proof[0]-bit-@3", 1, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 3, {"ZjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/modified-proof[1]-bit-@3", 1, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 3, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Vwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/modified-proof[2]-bit-@3", 1, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 3, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "tBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/preceding-garbage", 1, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 4, {"", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/preceding-root", 1, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 4, {"Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/random-root", 1, 5, "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 3, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/removed-component", 1, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 2, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4="}, true},
    {"4/trailing-garbage", 1, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 4, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", ""}, true},
    {"4/trailing-root", 1, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 4, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ="}, true},
    {"4/treeSize-div-@2", 1, 2, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 3, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/treeSize-mul-@2", 1, 10, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", 3, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/wrong-leaf", 1, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "V3JvbmdMZWFm", 3, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"additional/0/empty-root-and-random-leaf", 0, 0, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", 0, {NULL}, true},
    {"additional/0/empty-root", 0, 0, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "", 0, {NULL}, true},
    {"additional/0/random-leaf", 0, 0, "", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", 0, {NULL}, true},
    {"additional/1/empty-root-and-random-leaf", 0, 1, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", 0, {NULL}, true},
    {"additional/1/empty-root", 0, 1, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "", 0, {NULL}, true},
    {"additional/1/random-leaf", 0, 1, "", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", 0, {NULL}, true},
    {"additional/2/empty-root-and-random-leaf", 1, 0, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", 0, {NULL}, true},
    {"additional/2/empty-root", 1, 0, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "", 0, {NULL}, true},
    {"additional/2/random-leaf", 1, 0, "", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", 0, {NULL}, true},
    {"additional/3/empty-root-and-random-leaf", 2, 1, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", 0, {NULL}, true},
    {"additional/3/empty-root", 2, 1, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "", 0, {NULL}, true},
    {"additional/3/random-leaf", 2, 1, "", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", 0, {NULL}, true},
    {"single-entry/empty-leaf", 0, 1, "DTrtAjFI/9KiWfvQzcf7PPl1ZYdg03dbgq9vkKrMLfw=", "", 0, {NULL}, true},
    {"single-entry/empty-root-and-leaf", 0, 1, "", "", 0, {NULL}, true},
    {"single-entry/empty-root", 0, 1, "", "DTrtAjFI/9KiWfvQzcf7PPl1ZYdg03dbgq9vkKrMLfw=", 0, {NULL}, true},
    {"single-entry/matching-root-and-leaf", 0, 1, "DTrtAjFI/9KiWfvQzcf7PPl1ZYdg03dbgq9vkKrMLfw=", "DTrtAjFI/9KiWfvQzcf7PPl1ZYdg03dbgq9vkKrMLfw=", 0, {NULL}, false},
};
static const cons_vec CONSISTENCY[] = {
    {"0/happy-path", 1, 1, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 0, {NULL}, false},
    {"1/empty-proof", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 0, {NULL}, true},
    {"1/happy-path", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, false},
    {"1/modified-proof@0-bit-@4", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"hqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/modified-proof@1-bit-@4", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Twg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/modified-proof@2-bit-@4", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "e0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/preceding-garbage", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/preceding-proof-@0", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/preceding-root1", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/preceding-root2", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/size1-XOR-@2", 3, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/size1-plus-@1", 2, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/size1-sub-@1", 0, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/size2-div-@2", 1, 4, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/size2-mul-@2", 1, 16, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/swapped-roots", 1, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/trailing-garbage", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=", ""}, true},
    {"1/trailing-root1", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="}, true},
    {"1/trailing-root2", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="}, true},
    {"1/truncated-proof", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 2, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4="}, true},
    {"1/wrong-root1", 1, 8, "V3JvbmdSb290", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"1/wrong-root2", 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "V3JvbmdSb290", 3, {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}, true},
    {"2/empty-proof", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 0, {NULL}, true},
    {"2/happy-path", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, false},
    {"2/modified-proof@0-bit-@4", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"HrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/modified-proof@1-bit-@4", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "2oVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/modified-proof@2-bit-@4", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "w37kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/preceding-garbage", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"", "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/preceding-proof-@0", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/preceding-root1", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/preceding-root2", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/size1-XOR-@2", 4, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/size1-plus-@1", 7, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/size1-sub-@1", 5, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/size2-div-@2", 6, 4, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/size2-mul-@2", 6, 16, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/swapped-roots", 6, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/trailing-garbage", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=", ""}, true},
    {"2/trailing-root1", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=", "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8="}, true},
    {"2/trailing-root2", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 4, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="}, true},
    {"2/truncated-proof", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 2, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA="}, true},
    {"2/wrong-root1", 6, 8, "V3JvbmdSb290", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"2/wrong-root2", 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "V3JvbmdSb290", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"3/empty-proof", 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 0, {NULL}, true},
    {"3/happy-path", 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 2, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, false},
    {"3/modified-proof@0-bit-@4", 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 2, {"Twg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"3/modified-proof@1-bit-@4", 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 2, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "rBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"3/preceding-garbage", 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 3, {"", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"3/preceding-proof-@0", 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 3, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"3/preceding-root1", 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 3, {"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"3/preceding-root2", 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 3, {"Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"3/size1-XOR-@2", 0, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 2, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"3/size1-plus-@1", 3, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 2, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"3/size1-sub-@1", 1, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 2, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"3/size2-div-@2", 2, 2, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 2, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"3/size2-mul-@2", 2, 10, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 2, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"3/swapped-roots", 2, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", 2, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"3/trailing-garbage", 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 3, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", ""}, true},
    {"3/trailing-root1", 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 3, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}, true},
    {"3/trailing-root2", 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 3, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ="}, true},
    {"3/truncated-proof", 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 1, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4="}, true},
    {"3/wrong-root1", 2, 5, "V3JvbmdSb290", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", 2, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"3/wrong-root2", 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "V3JvbmdSb290", 2, {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}, true},
    {"4/empty-proof", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 0, {NULL}, true},
    {"4/happy-path", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, false},
    {"4/modified-proof@0-bit-@4", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 3, {"HrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/modified-proof@1-bit-@4", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "oIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/modified-proof@2-bit-@4", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "w37kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/preceding-garbage", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 4, {"", "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/preceding-proof-@0", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 4, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/preceding-root1", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 4, {"duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/preceding-root2", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 4, {"3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/size1-XOR-@2", 4, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/size1-plus-@1", 7, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/size1-sub-@1", 5, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/size2-div-@2", 6, 3, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/size2-mul-@2", 6, 14, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/swapped-roots", 6, 7, "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/trailing-garbage", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 4, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=", ""}, true},
    {"4/trailing-root1", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 4, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=", "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8="}, true},
    {"4/trailing-root2", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 4, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw="}, true},
    {"4/truncated-proof", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 2, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8="}, true},
    {"4/wrong-root1", 6, 7, "V3JvbmdSb290", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"4/wrong-root2", 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "V3JvbmdSb290", 3, {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}, true},
    {"additional/consistency-check-on-empty-tree-size1-is-zero-is-useless", 0, 1, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", 1, {"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}, true},
    {"additional/roots-do-not-match-and-sizes-are-zero", 0, 0, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "ZG9uJ3QgY2FyZSAy", 0, {NULL}, true},
    {"additional/roots-do-not-not-match-and-sizes-are-one", 1, 1, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "ZG9uJ3QgY2FyZSAy", 0, {NULL}, true},
    {"additional/size1-is-greater-than-size2-again", 2, 1, "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAy", 0, {NULL}, true},
    {"additional/size1-is-greater-than-size2", 1, 0, "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAy", 0, {NULL}, true},
    {"additional/size1-is-zero-and-does-not-equal-size2", 0, 1, "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAy", 0, {NULL}, true},
    {"additional/size1-is-zero-and-size2-is-not-zero", 0, 1, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "ZG9uJ3QgY2FyZSAy", 0, {NULL}, true},
    {"additional/sizes-are-equal-one-and-proof-is-empty", 1, 1, "ZG9uJ3QgY2FyZSAy", "ZG9uJ3QgY2FyZSAy", 0, {NULL}, false},
    {"additional/sizes-are-equal-one-but-roots-are-not", 1, 1, "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAy", 0, {NULL}, true},
    {"additional/sizes-are-equal-zero-and-proof-is-empty", 0, 0, "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAx", 0, {NULL}, true},
    {"additional/sizes-are-equal-zero-but-roots-are-not", 0, 0, "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAy", 0, {NULL}, true},
    {"additional/sizes-do-not-watch-and-proof-is-empty", 1, 2, "ZG9uJ3QgY2FyZSAx", "ZG9uJ3QgY2FyZSAy", 0, {NULL}, true},
    {"additional/sizes-match-but-proof-is-not-empty-and-sizes-are-one", 1, 1, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", 1, {"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}, true},
    {"additional/sizes-match-but-proof-is-not-empty-and-sizes-are-zero", 0, 0, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", 1, {"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}, true},
};
/* clang-format on */

static bool run_inclusion(const incl_vec *v)
{
    uint8_t root[32], leaf[32], proof[8][32];
    bool ok = dec(v->leaf, leaf, false);
    (void)dec(v->root, root, true);
    for (size_t i = 0; i < v->n; i++) {
        ok &= dec(v->proof[i], proof[i], false);
    }
    return ok && merkle_verify_inclusion(leaf, v->index, v->size, (const uint8_t(*)[32])proof, v->n,
                                         root);
}

static bool run_consistency(const cons_vec *v)
{
    uint8_t r1[32], r2[32], proof[8][32];
    bool ok = true;
    (void)dec(v->root1, r1, true);
    (void)dec(v->root2, r2, true);
    for (size_t i = 0; i < v->n; i++) {
        ok &= dec(v->proof[i], proof[i], false);
    }
    return ok &&
           merkle_verify_consistency(v->size1, v->size2, r1, r2, (const uint8_t(*)[32])proof, v->n);
}

TEST(t_inclusion_vectors)
{
    size_t happy = 0, bad = 0;
    for (size_t i = 0; i < sizeof INCLUSION / sizeof INCLUSION[0]; i++) {
        const incl_vec *v = &INCLUSION[i];
        bool got = run_inclusion(v);
        if (got == v->want_err) {
            printf("  inclusion vector %s: %s\n", v->name, got ? "accepted" : "refused");
        }
        EXPECT(got != v->want_err);
        v->want_err ? bad++ : happy++;
    }
    EXPECT_INT(happy, 6);
    EXPECT_INT(bad, 92);
}

TEST(t_consistency_vectors)
{
    size_t happy = 0, bad = 0;
    for (size_t i = 0; i < sizeof CONSISTENCY / sizeof CONSISTENCY[0]; i++) {
        const cons_vec *v = &CONSISTENCY[i];
        bool got = run_consistency(v);
        if (got == v->want_err) {
            printf("  consistency vector %s: %s\n", v->name, got ? "accepted" : "refused");
        }
        EXPECT(got != v->want_err);
        v->want_err ? bad++ : happy++;
    }
    EXPECT_INT(happy, 6);
    EXPECT_INT(bad, 92);
}

/* ---- the RFC 6962 reference tree and an in-memory store of complete subtrees ------------- */

/* The eight leaves of the RFC 6962 reference tree (the CT test data). */
static const struct {
    const char *data;
    size_t len;
} REF_LEAVES[8] = {{"", 0},
                   {"\x00", 1},
                   {"\x10", 1},
                   {"\x20\x21", 2},
                   {"\x30\x31", 2},
                   {"\x40\x41\x42\x43", 4},
                   {"\x50\x51\x52\x53\x54\x55\x56\x57", 8},
                   {"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16}};
/* Its roots at sizes 1..8. */
static const char *const REF_ROOTS[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

static void unhex(const char *hex, uint8_t out[32])
{
    size_t n = 0;
    if (hex_decode(out, 32, &n, hex, strlen(hex)) != ERR_OK || n != 32) {
        memset(out, 0, 32);
    }
}

#define MAXN 300
#define LEVELS 9 /* 2^8 <= MAXN < 2^9 */
static uint8_t LEAF[MAXN][32];
static size_t NLEAF;
static uint8_t NODE[LEVELS][MAXN][32];

/* Naive RFC 9162 §2.1.1 MTH, §2.1.3.1 PATH and §2.1.4.1 SUBPROOF over LEAF[]. */
static uint64_t naive_k(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n) {
        k *= 2;
    }
    return k;
}

static void mth(uint64_t b, uint64_t e, uint8_t out[32])
{
    if (e - b == 1) {
        memcpy(out, LEAF[b], 32);
        return;
    }
    uint64_t k = naive_k(e - b);
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
    uint64_t k = naive_k(e - b);
    if (m < k) {
        naive_path(m, b, b + k, p, n);
        mth(b + k, e, p[(*n)++]);
    } else {
        naive_path(m - k, b + k, e, p, n);
        mth(b, b + k, p[(*n)++]);
    }
}

static void naive_sub(uint64_t m, uint64_t b, uint64_t e, bool complete, uint8_t p[][32], size_t *n)
{
    if (m == e - b) {
        if (!complete) {
            mth(b, e, p[(*n)++]);
        }
        return;
    }
    uint64_t k = naive_k(e - b);
    if (m <= k) {
        naive_sub(m, b, b + k, complete, p, n);
        mth(b + k, e, p[(*n)++]);
    } else {
        naive_sub(m - k, b + k, e, false, p, n);
        mth(b, b + k, p[(*n)++]);
    }
}

/* Fills LEAF[] with n leaf hashes (the reference leaves, then synthetic entries) and NODE[][]
 * with every complete subtree, computed naively. */
static void build(size_t n)
{
    NLEAF = n;
    for (size_t i = 0; i < n; i++) {
        if (i < 8) {
            merkle_leaf_hash((const uint8_t *)REF_LEAVES[i].data, REF_LEAVES[i].len, LEAF[i]);
        } else {
            char e[32];
            int len = snprintf(e, sizeof e, "entry %zu", i);
            merkle_leaf_hash((const uint8_t *)e, (size_t)len, LEAF[i]);
        }
    }
    for (unsigned l = 0; l < LEVELS; l++) {
        for (uint64_t i = 0; ((i + 1) << l) <= n; i++) {
            mth(i << l, (i + 1) << l, NODE[l][i]);
        }
    }
}

/* A source that serves NODE[][] for a tree of `limit` leaves only, and counts lookups. */
typedef struct store {
    uint64_t limit;
    size_t lookups;
    bool fail;
} store;

static err store_subtree(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    store *s = ctx;
    s->lookups++;
    ENSURE(!s->fail, ERR_IO, "test store: injected failure");
    ENSURE(level < LEVELS && index < MAXN && ((index + 1) << level) <= s->limit, ERR_NOT_FOUND,
           "test store: subtree (%u, %llu) is not complete in a tree of %llu", level,
           (unsigned long long)index, (unsigned long long)s->limit);
    memcpy(out, NODE[level][index], 32);
    return ERR_OK;
}

static unsigned ceil_log2(uint64_t n)
{
    unsigned l = 0;
    while (l < 64 && (1ull << l) < n) {
        l++;
    }
    return l;
}

TEST(t_reference_tree)
{
    uint8_t h[32], want[32];
    merkle_empty_root(h);
    unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want);
    EXPECT(memcmp(h, want, 32) == 0);
    build(8);
    /* leaf hashes: SHA-256(0x00 || d), e.g. of the empty entry and of the single byte 0x00 */
    EXPECT(memcmp(LEAF[0], (unhex(REF_ROOTS[0], want), want), 32) == 0);
    unhex("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", want);
    EXPECT(memcmp(LEAF[1], want, 32) == 0);
    /* node hash: SHA-256(0x01 || l || r) is the root of the first two leaves */
    merkle_node_hash(LEAF[0], LEAF[1], h);
    EXPECT(memcmp(h, (unhex(REF_ROOTS[1], want), want), 32) == 0);
    merkle_frontier f;
    merkle_frontier_init(&f);
    for (uint64_t n = 1; n <= 8; n++) {
        unhex(REF_ROOTS[n - 1], want);
        EXPECT_OK(merkle_frontier_append(&f, LEAF[n - 1], NULL, NULL));
        merkle_frontier_root(&f, h);
        EXPECT(memcmp(h, want, 32) == 0);
        store s = {n, 0, false};
        merkle_src src = {&s, store_subtree};
        EXPECT_OK(merkle_root(&src, n, h));
        EXPECT(memcmp(h, want, 32) == 0);
        mth(0, n, h);
        EXPECT(memcmp(h, want, 32) == 0);
    }
}

/* The happy-path vectors are proofs in the reference tree: the generator must produce them. */
TEST(t_vectors_match_generator)
{
    build(8);
    store s = {8, 0, false};
    merkle_src src = {&s, store_subtree};
    size_t checked = 0;
    for (size_t i = 0; i < sizeof INCLUSION / sizeof INCLUSION[0]; i++) {
        const incl_vec *v = &INCLUSION[i];
        uint8_t root[32], p[MERKLE_MAX_PROOF][32], w[32];
        size_t n = 0;
        if (v->want_err || v->size == 0 || v->size > 8 || !dec(v->root, w, false) ||
            (merkle_root(&src, v->size, root) == ERR_OK && memcmp(root, w, 32) != 0)) {
            continue;
        }
        EXPECT_OK(merkle_inclusion_proof(&src, v->index, v->size, p, &n));
        EXPECT_INT(n, v->n);
        for (size_t j = 0; j < n && j < v->n; j++) {
            EXPECT(dec(v->proof[j], w, false) && memcmp(w, p[j], 32) == 0);
        }
        checked++;
    }
    for (size_t i = 0; i < sizeof CONSISTENCY / sizeof CONSISTENCY[0]; i++) {
        const cons_vec *v = &CONSISTENCY[i];
        uint8_t root[32], p[MERKLE_MAX_PROOF][32], w[32];
        size_t n = 0;
        if (v->want_err || v->size1 == 0 || v->size2 > 8 || !dec(v->root2, w, false) ||
            (merkle_root(&src, v->size2, root) == ERR_OK && memcmp(root, w, 32) != 0)) {
            continue;
        }
        EXPECT_OK(merkle_consistency_proof(&src, v->size1, v->size2, p, &n));
        EXPECT_INT(n, v->n);
        for (size_t j = 0; j < n && j < v->n; j++) {
            EXPECT(dec(v->proof[j], w, false) && memcmp(w, p[j], 32) == 0);
        }
        checked++;
    }
    EXPECT(checked >= 10);
}

static bool same_proof(const uint8_t a[][32], size_t na, const uint8_t b[][32], size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * 32) == 0);
}

/* Every way of damaging a valid inclusion proof must be refused. (A proof does not bind the
 * tree size by itself: sizes whose paths have the same shape share proofs, and the checkpoint
 * binds size and root, so size changes are left to the vectors, which pick sizes that differ.) */
static void mutate_inclusion(uint64_t i, uint64_t n, uint8_t p[][32], size_t len,
                             const uint8_t root[32])
{
    const uint8_t(*cp)[32] = (const uint8_t(*)[32])p;
    for (size_t j = 0; j < len; j++) {
        p[j][j % 32] ^= 0x10;
        EXPECT(!merkle_verify_inclusion(LEAF[i], i, n, cp, len, root));
        p[j][j % 32] ^= 0x10;
    }
    if (len > 0) {
        EXPECT(!merkle_verify_inclusion(LEAF[i], i, n, cp, len - 1, root));
    }
    memcpy(p[len], root, 32);
    EXPECT(!merkle_verify_inclusion(LEAF[i], i, n, cp, len + 1, root));
    uint8_t wrong[32];
    memcpy(wrong, root, 32);
    wrong[7] ^= 0x80;
    EXPECT(!merkle_verify_inclusion(LEAF[i], i, n, cp, len, wrong));
    EXPECT(!merkle_verify_inclusion(LEAF[i], i ^ 1, n, cp, len, root));
    EXPECT(!merkle_verify_inclusion(LEAF[i], i + 1, n, cp, len, root));
    EXPECT(!merkle_verify_inclusion(root, i, n, cp, len, LEAF[i]) || n == 1);
}

static void mutate_consistency(uint64_t m, uint64_t n, uint8_t p[][32], size_t len,
                               const uint8_t r1[32], const uint8_t r2[32])
{
    const uint8_t(*cp)[32] = (const uint8_t(*)[32])p;
    for (size_t j = 0; j < len; j++) {
        p[j][31 - j % 32] ^= 0x01;
        EXPECT(!merkle_verify_consistency(m, n, r1, r2, cp, len));
        p[j][31 - j % 32] ^= 0x01;
    }
    if (len > 0) {
        EXPECT(!merkle_verify_consistency(m, n, r1, r2, cp, len - 1));
        EXPECT(!merkle_verify_consistency(m, n, r2, r1, cp, len));
        EXPECT(!merkle_verify_consistency(m - 1, n, r1, r2, cp, len));
        EXPECT(!merkle_verify_consistency(m + 1, n, r1, r2, cp, len));
    }
    memcpy(p[len], r1, 32);
    EXPECT(!merkle_verify_consistency(m, n, r1, r2, cp, len + 1));
}

/* Sizes 1..300: every index (every pair m <= n up to 64 leaves, a sample above). */
static bool sampled(uint64_t x, uint64_t n)
{
    return n <= 64 || x < 3 || x + 3 > n || x == n / 2 || x % 13 == n % 13;
}

TEST(t_generated_proofs)
{
    build(MAXN);
    size_t incl = 0, cons = 0;
    for (uint64_t n = 1; n <= MAXN; n++) {
        store s = {n, 0, false};
        merkle_src src = {&s, store_subtree};
        uint8_t root[32], want[32];
        mth(0, n, want);
        s.lookups = 0;
        EXPECT_OK(merkle_root(&src, n, root));
        EXPECT(memcmp(root, want, 32) == 0);
        EXPECT_INT(s.lookups, __builtin_popcountll(n));
        for (uint64_t i = 0; i < n; i++) {
            uint8_t p[MERKLE_MAX_PROOF + 1][32], q[MERKLE_MAX_PROOF][32];
            size_t len = 0, qlen = 0;
            s.lookups = 0;
            EXPECT_OK(merkle_inclusion_proof(&src, i, n, p, &len));
            EXPECT(s.lookups <= 2 * (size_t)ceil_log2(n) + 1);
            naive_path(i, 0, n, q, &qlen);
            EXPECT(same_proof((const uint8_t(*)[32])p, len, (const uint8_t(*)[32])q, qlen));
            EXPECT(merkle_verify_inclusion(LEAF[i], i, n, (const uint8_t(*)[32])p, len, root));
            if (sampled(i, n)) {
                mutate_inclusion(i, n, p, len, root);
            }
            incl++;
        }
        for (uint64_t m = 1; m <= n; m++) {
            if (!sampled(m, n)) {
                continue;
            }
            uint8_t p[MERKLE_MAX_PROOF + 1][32], q[MERKLE_MAX_PROOF][32], r1[32];
            size_t len = 0, qlen = 0;
            mth(0, m, r1);
            s.lookups = 0;
            EXPECT_OK(merkle_consistency_proof(&src, m, n, p, &len));
            EXPECT(s.lookups <= 2 * (size_t)ceil_log2(n) + 1);
            if (m < n) {
                naive_sub(m, 0, n, true, q, &qlen);
            }
            EXPECT(same_proof((const uint8_t(*)[32])p, len, (const uint8_t(*)[32])q, qlen));
            EXPECT(merkle_verify_consistency(m, n, r1, root, (const uint8_t(*)[32])p, len));
            if (m < n) {
                mutate_consistency(m, n, p, len, r1, root);
            }
            cons++;
        }
    }
    EXPECT_INT(incl, MAXN * (MAXN + 1) / 2);
    EXPECT(cons > 5000);
}

/* Every range hash the algorithms may ask for equals the naive MTH. */
TEST(t_range_hash)
{
    build(MAXN);
    store s = {MAXN, 0, false};
    merkle_src src = {&s, store_subtree};
    for (uint64_t b = 0; b < 70; b++) {
        for (uint64_t e = b + 1; e <= 140; e++) {
            uint8_t h[32], want[32];
            EXPECT_OK(merkle_range_hash(&src, b, e, h));
            mth(b, e, want);
            EXPECT(memcmp(h, want, 32) == 0);
        }
    }
    uint8_t h[32];
    EXPECT_ERR(merkle_range_hash(&src, 5, 5, h), ERR_INPUT);
    EXPECT_ERR(merkle_range_hash(&src, 6, 5, h), ERR_INPUT);
}

/* Errors: indexes and sizes out of range; a failing source fails the call. */
TEST(t_errors)
{
    build(16);
    store s = {16, 0, false};
    merkle_src src = {&s, store_subtree};
    uint8_t p[MERKLE_MAX_PROOF][32], h[32];
    size_t len = 99;
    EXPECT_ERR(merkle_inclusion_proof(&src, 16, 16, p, &len), ERR_INPUT);
    EXPECT_ERR(merkle_inclusion_proof(&src, 0, 0, p, &len), ERR_INPUT);
    EXPECT_ERR(merkle_consistency_proof(&src, 9, 8, p, &len), ERR_INPUT);
    EXPECT_OK(merkle_consistency_proof(&src, 0, 8, p, &len));
    EXPECT_INT(len, 0);
    EXPECT_OK(merkle_consistency_proof(&src, 8, 8, p, &len));
    EXPECT_INT(len, 0);
    EXPECT_OK(merkle_root(&src, 0, h));
    uint8_t e[32];
    merkle_empty_root(e);
    EXPECT(memcmp(h, e, 32) == 0);
    /* a source that cannot serve a subtree */
    EXPECT_ERR(merkle_root(&src, 17, h), ERR_NOT_FOUND);
    s.fail = true;
    EXPECT_ERR(merkle_inclusion_proof(&src, 3, 16, p, &len), ERR_IO);
    EXPECT_ERR(merkle_consistency_proof(&src, 3, 16, p, &len), ERR_IO);
    EXPECT_ERR(merkle_root(&src, 16, h), ERR_IO);
    merkle_frontier f, before;
    merkle_frontier_init(&f);
    EXPECT_OK(merkle_frontier_append(&f, LEAF[0], NULL, NULL));
    before = f;
    EXPECT_ERR(merkle_frontier_load(&f, &src, 16), ERR_IO);
    EXPECT(memcmp(&before, &f, sizeof f) == 0);
    /* the verifiers on degenerate input */
    EXPECT(!merkle_verify_inclusion(LEAF[0], 0, 0, NULL, 0, e));
    EXPECT(!merkle_verify_inclusion(LEAF[0], 5, 5, NULL, 0, LEAF[0]));
    EXPECT(merkle_verify_inclusion(LEAF[0], 0, 1, NULL, 0, LEAF[0]));
    EXPECT(!merkle_verify_consistency(0, 0, e, e, NULL, 0));
    EXPECT(!merkle_verify_consistency(0, 5, e, h, NULL, 0));
    EXPECT(!merkle_verify_consistency(5, 4, h, h, NULL, 0));
    EXPECT(merkle_verify_consistency(5, 5, LEAF[1], LEAF[1], NULL, 0));
    EXPECT(!merkle_verify_consistency(5, 5, LEAF[1], LEAF[2], NULL, 0));
    EXPECT(!merkle_verify_consistency(5, 5, LEAF[1], LEAF[1], (const uint8_t(*)[32])LEAF, 1));
}

/* A synthetic source (no real tree behind it) measures the cost at sizes up to 2^62: proofs
 * need O(log n) lookups, never a subtree beyond the tree, and at most MERKLE_MAX_PROOF hashes. */
typedef struct fake {
    uint64_t limit;
    size_t lookups;
} fake;

static err fake_subtree(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    fake *f = ctx;
    f->lookups++;
    ENSURE(level < 64 && index < (f->limit >> level) + 1 && ((index + 1) << level) <= f->limit,
           ERR_NOT_FOUND, "fake: subtree beyond the tree");
    memset(out, 0, 32);
    memcpy(out, &index, sizeof index);
    out[31] = (uint8_t)level;
    return ERR_OK;
}

TEST(t_lookup_cost)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int t = 0; t < 2000; t++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t n = (x >> (t % 62)) | 2;
        n &= (1ull << 62) - 1;
        uint64_t i = (x * 31) % n, m = ((x >> 3) % (n - 1)) + 1;
        fake f = {n, 0};
        merkle_src src = {&f, fake_subtree};
        uint8_t p[MERKLE_MAX_PROOF][32];
        size_t len = 0;
        EXPECT_OK(merkle_inclusion_proof(&src, i, n, p, &len));
        EXPECT(len <= ceil_log2(n) && f.lookups <= 2 * (size_t)ceil_log2(n) + 1);
        f.lookups = 0;
        EXPECT_OK(merkle_consistency_proof(&src, m, n, p, &len));
        EXPECT(len <= ceil_log2(n) + 1 && f.lookups <= 2 * (size_t)ceil_log2(n) + 1);
        if (f.lookups > 2 * (size_t)ceil_log2(n) + 1) {
            printf("  n=%llu m=%llu lookups %zu\n", (unsigned long long)n, (unsigned long long)m,
                   f.lookups);
            break;
        }
    }
}

/* The frontier: root equal to the naive root at every size, each complete subtree emitted
 * exactly once in the order it completes, and frontier_load reproducing the frontier. */
typedef struct emitted {
    uint64_t count[LEVELS];
    size_t wrong;
} emitted;

static err check_emit(void *ctx, unsigned level, uint64_t index, const uint8_t h[32])
{
    emitted *e = ctx;
    if (level >= LEVELS || index != e->count[level] || memcmp(h, NODE[level][index], 32) != 0) {
        e->wrong++;
    } else {
        e->count[level]++;
    }
    return ERR_OK;
}

static err refuse_emit(void *ctx, unsigned level, uint64_t index, const uint8_t h[32])
{
    BAIL(ERR_IO, "test: storage full");
}

TEST(t_frontier)
{
    build(MAXN);
    merkle_frontier f, g;
    merkle_frontier_init(&f);
    uint8_t h[32], want[32];
    merkle_frontier_root(&f, h);
    merkle_empty_root(want);
    EXPECT(memcmp(h, want, 32) == 0);
    emitted e;
    memset(&e, 0, sizeof e);
    for (uint64_t n = 1; n <= MAXN; n++) {
        EXPECT_OK(merkle_frontier_append(&f, LEAF[n - 1], check_emit, &e));
        EXPECT_INT(f.size, n);
        merkle_frontier_root(&f, h);
        mth(0, n, want);
        EXPECT(memcmp(h, want, 32) == 0);
        for (unsigned l = 0; l < LEVELS; l++) {
            EXPECT_INT(e.count[l], n >> l);
        }
        store s = {n, 0, false};
        merkle_src src = {&s, store_subtree};
        EXPECT_OK(merkle_frontier_load(&g, &src, n));
        EXPECT_INT(g.size, n);
        EXPECT_INT(s.lookups, __builtin_popcountll(n));
        for (unsigned l = 0; l < 64; l++) {
            EXPECT(!(n >> l & 1) || memcmp(f.h[l], g.h[l], 32) == 0);
        }
        merkle_frontier_root(&g, h);
        EXPECT(memcmp(h, want, 32) == 0);
    }
    EXPECT_INT(e.wrong, 0);
    /* appending after a load continues the same tree */
    store s = {100, 0, false};
    merkle_src src = {&s, store_subtree};
    EXPECT_OK(merkle_frontier_load(&g, &src, 100));
    for (uint64_t n = 100; n < MAXN; n++) {
        EXPECT_OK(merkle_frontier_append(&g, LEAF[n], NULL, NULL));
    }
    merkle_frontier_root(&g, h);
    mth(0, MAXN, want);
    EXPECT(memcmp(h, want, 32) == 0);
    /* an emit failure fails the append and leaves the frontier unchanged */
    merkle_frontier before = g;
    EXPECT_ERR(merkle_frontier_append(&g, LEAF[0], refuse_emit, NULL), ERR_IO);
    EXPECT(memcmp(&before, &g, sizeof g) == 0);
}

int main(void)
{
    test_init();
    RUN(t_inclusion_vectors);
    RUN(t_consistency_vectors);
    RUN(t_reference_tree);
    RUN(t_vectors_match_generator);
    RUN(t_generated_proofs);
    RUN(t_range_hash);
    RUN(t_errors);
    RUN(t_lookup_cost);
    RUN(t_frontier);
    return test_done("merkle_test");
}
