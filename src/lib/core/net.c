/*
 * net.c - CIDR parsing and matching with inet_pton; nothing else is trusted.
 */
#include "core/net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

err net_addr_parse(const char *text, uint8_t out[16])
{
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, text, &v4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &v4, 4);
        return ERR_OK;
    }
    ENSURE(inet_pton(AF_INET6, text, &v6) == 1, ERR_INPUT, "not an IP address");
    memcpy(out, &v6, 16);
    return ERR_OK;
}

err net_range_parse(const char *text, net_range *out)
{
    char a[64];
    size_t n = strlen(text);
    ENSURE(n > 0 && n < sizeof a, ERR_INPUT, "bad address range");
    memcpy(a, text, n + 1);
    char *slash = strchr(a, '/');
    long prefix = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        ENSURE(slash[1] >= '0' && slash[1] <= '9', ERR_INPUT, "bad prefix length in %s", text);
        prefix = strtol(slash + 1, &end, 10);
        ENSURE(*end == '\0', ERR_INPUT, "bad prefix length in %s", text);
    }
    TRY(net_addr_parse(a, out->addr));
    bool v4 = strchr(a, ':') == NULL;
    long max = v4 ? 32 : 128;
    if (prefix < 0) {
        prefix = max;
    }
    ENSURE(prefix <= max, ERR_INPUT, "prefix too long in %s", text);
    out->prefix = (unsigned)(v4 ? prefix + 96 : prefix);
    return ERR_OK;
}

bool net_range_contains(const net_range *r, const uint8_t addr[16])
{
    unsigned full = r->prefix / 8, rest = r->prefix % 8;
    if (memcmp(r->addr, addr, full) != 0) {
        return false;
    }
    if (rest == 0) {
        return true;
    }
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (r->addr[full] & mask) == (addr[full] & mask);
}

/* Calls fn on each trimmed item of a comma-separated list; stops at the first error. */
static err each_item(const char *list, err (*fn)(void *, const char *), void *ctx)
{
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        const char *e = p;
        while (*e && *e != ',' && *e != ' ') {
            e++;
        }
        if (e > p) {
            char item[64];
            ENSURE((size_t)(e - p) < sizeof item, ERR_INPUT, "bad address range");
            memcpy(item, p, (size_t)(e - p));
            item[e - p] = '\0';
            TRY(fn(ctx, item));
        }
        p = e;
    }
    return ERR_OK;
}

static err check_one(void *ctx, const char *item)
{
    net_range r;
    return net_range_parse(item, &r);
}

err net_list_check(const char *list)
{
    return each_item(list, check_one, NULL);
}

typedef struct match_ctx {
    uint8_t addr[16];
    bool hit;
} match_ctx;

static err match_one(void *ctx, const char *item)
{
    match_ctx *m = ctx;
    net_range r;
    TRY(net_range_parse(item, &r));
    m->hit = m->hit || net_range_contains(&r, m->addr);
    return ERR_OK;
}

bool net_list_allows(const char *list, const char *addr)
{
    if (!list || !list[0]) {
        return true;
    }
    match_ctx m = {.hit = false};
    if (net_addr_parse(addr, m.addr) != ERR_OK) {
        return false;
    }
    return each_item(list, match_one, &m) == ERR_OK && m.hit;
}
