/*
 * addr.c - client addresses for the guard: parsing (text and sockaddr), IPv4
 * held as IPv4-mapped IPv6 so one code path serves both, prefixes for IPv6
 * clients (one household or one attacker usually owns a whole /64), CIDR lists
 * as sorted merged ranges searched in O(log n), and the keyed hash that spreads
 * addresses and accounts over the admission stripes.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard_int.h"

static const uint8_t MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool guard_addr_is_v4(const guard_addr *a)
{
    return memcmp(a->b, MAPPED, 12) == 0;
}

err guard_addr_parse(const char *text, guard_addr *out)
{
    memset(out, 0, sizeof *out);
    struct in_addr v4;
    struct in6_addr v6;
    size_t n = strnlen(text, GUARD_ADDR_TEXT);
    ENSURE(n > 0 && n < GUARD_ADDR_TEXT, ERR_INPUT, "not an IP address");
    if (inet_pton(AF_INET, text, &v4) == 1) {
        memcpy(out->b, MAPPED, 12);
        memcpy(out->b + 12, &v4, 4);
        return ERR_OK;
    }
    ENSURE(inet_pton(AF_INET6, text, &v6) == 1, ERR_INPUT, "not an IP address");
    memcpy(out->b, &v6, 16);
    return ERR_OK;
}

err guard_addr_from_sockaddr(const struct sockaddr *sa, guard_addr *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        memcpy(out->b, MAPPED, 12);
        memcpy(out->b + 12, &s4->sin_addr, 4);
        return ERR_OK;
    }
    ENSURE(sa->sa_family == AF_INET6, ERR_INPUT, "not an IP address family");
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
    memcpy(out->b, &s6->sin6_addr, 16);
    return ERR_OK;
}

void guard_addr_format(const guard_addr *a, char out[GUARD_ADDR_TEXT])
{
    if (guard_addr_is_v4(a)) {
        inet_ntop(AF_INET, a->b + 12, out, GUARD_ADDR_TEXT);
    } else {
        inet_ntop(AF_INET6, a->b, out, GUARD_ADDR_TEXT);
    }
}

u128 gaddr_u128(const guard_addr *a)
{
    uint64_t hi, lo;
    memcpy(&hi, a->b, 8);
    memcpy(&lo, a->b + 8, 8);
    return ((u128)be64toh(hi) << 64) | be64toh(lo);
}

static void from_u128(u128 v, guard_addr *a)
{
    for (int i = 15; i >= 0; i--) {
        a->b[i] = (uint8_t)v;
        v >>= 8;
    }
}

void gaddr_mask(const guard_addr *a, int v6_prefix, guard_addr *out)
{
    *out = *a;
    if (guard_addr_is_v4(a) || v6_prefix >= 128) {
        return;
    }
    for (int bit = v6_prefix; bit < 128; bit++) {
        out->b[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    }
}

void gaddr_key_text(const guard_addr *masked, int v6_prefix, char out[GUARD_ADDR_TEXT + 4])
{
    char t[GUARD_ADDR_TEXT];
    guard_addr_format(masked, t);
    if (guard_addr_is_v4(masked) || v6_prefix >= 128) {
        snprintf(out, GUARD_ADDR_TEXT + 4, "%s", t);
    } else {
        snprintf(out, GUARD_ADDR_TEXT + 4, "%s/%d", t, v6_prefix);
    }
}

/* A keyed 64-bit hash (multiply-fold mixing, wyhash style). Not a MAC: it only has to
 * spread keys an outsider cannot predict over the stripes; probing is bounded anyway. */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
    u128 r = (u128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t ghash(const void *p, size_t n, uint64_t seed)
{
    const uint8_t *s = p;
    uint64_t h = seed ^ mum(n ^ 0x2d358dccaa6c78a5ull, 0x8bb84b93962eacc9ull);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        h = mum(h ^ v ^ 0xa0761d6478bd642full, 0xe7037ed1a0b428dbull);
        s += 8;
        n -= 8;
    }
    if (n) {
        uint64_t v = 0;
        memcpy(&v, s, n);
        h = mum(h ^ v ^ 0x4b33a62ed433d4a3ull, 0x4d5a2da51de1aa47ull ^ n);
    }
    h = mum(h ^ 0x8ebc6af09c88c6e3ull, h ^ 0x589965cc75374cc3ull);
    return h ? h : 1;
}

/* ---- CIDR ranges ---- */

err granges_add_cidr(granges *g, const char *cidr)
{
    char host[GUARD_ADDR_TEXT];
    const char *slash = strchr(cidr, '/');
    size_t hn = slash ? (size_t)(slash - cidr) : strlen(cidr);
    if (hn == 0 || hn >= sizeof host) {
        BAIL(ERR_INPUT, "'%.60s' is not an address or CIDR prefix", cidr);
    }
    memcpy(host, cidr, hn);
    host[hn] = '\0';
    guard_addr a;
    if (guard_addr_parse(host, &a) != ERR_OK) {
        BAIL(ERR_INPUT, "'%.60s' is not an IP address", host);
    }
    bool v4 = guard_addr_is_v4(&a) && strchr(host, ':') == NULL;
    int maxlen = v4 ? 32 : 128;
    int len = maxlen;
    if (slash) {
        const char *d = slash + 1;
        size_t dn = strlen(d);
        if (dn == 0 || dn > 3 || d[0] < '0' || d[0] > '9' || (dn > 1 && d[0] == '0')) {
            BAIL(ERR_INPUT, "bad prefix length in '%.60s'", cidr);
        }
        len = 0;
        for (size_t i = 0; i < dn; i++) {
            if (d[i] < '0' || d[i] > '9') {
                BAIL(ERR_INPUT, "bad prefix length in '%.60s'", cidr);
            }
            len = len * 10 + (d[i] - '0');
        }
        if (len > maxlen) {
            BAIL(ERR_INPUT, "prefix length %d is over %d in '%.60s'", len, maxlen, cidr);
        }
    }
    int bits = v4 ? 96 + len : len; /* over the 128-bit (mapped) space */
    u128 v = gaddr_u128(&a);
    u128 hostmask = bits >= 128 ? 0 : bits == 0 ? ~(u128)0 : (((u128)1 << (128 - bits)) - 1);
    if (v & hostmask) {
        guard_addr net;
        char t[GUARD_ADDR_TEXT];
        from_u128(v & ~hostmask, &net);
        guard_addr_format(&net, t);
        BAIL(ERR_INPUT, "'%.60s' has bits set after the prefix (the network is %s/%d)", cidr, t,
             len);
    }
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 16;
        grange *p = realloc(g->r, nc * sizeof *p);
        if (!p) {
            BAIL(ERR_INTERNAL, "out of memory");
        }
        g->r = p;
        g->cap = nc;
    }
    g->r[g->n].lo = v;
    g->r[g->n].hi = v | hostmask;
    g->n++;
    return ERR_OK;
}

static int range_cmp(const void *x, const void *y)
{
    const grange *a = x, *b = y;
    return a->lo < b->lo ? -1 : a->lo > b->lo ? 1 : 0;
}

void granges_finish(granges *g)
{
    if (g->n < 2) {
        return;
    }
    qsort(g->r, g->n, sizeof *g->r, range_cmp);
    size_t w = 0;
    for (size_t i = 1; i < g->n; i++) {
        if (g->r[i].lo <= g->r[w].hi || (g->r[w].hi != ~(u128)0 && g->r[i].lo == g->r[w].hi + 1)) {
            if (g->r[i].hi > g->r[w].hi) {
                g->r[w].hi = g->r[i].hi;
            }
        } else {
            g->r[++w] = g->r[i];
        }
    }
    g->n = w + 1;
}

bool granges_has(const granges *g, const guard_addr *a)
{
    if (g->n == 0) {
        return false;
    }
    u128 v = gaddr_u128(a);
    size_t lo = 0, hi = g->n;
    while (lo < hi) { /* first range with lo > v */
        size_t mid = lo + (hi - lo) / 2;
        if (g->r[mid].lo <= v) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo > 0 && v <= g->r[lo - 1].hi;
}

void granges_free(granges *g)
{
    free(g->r);
    memset(g, 0, sizeof *g);
}
