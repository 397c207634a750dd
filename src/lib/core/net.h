/*
 * net.h - addresses and CIDR lists (IPv4 and IPv6), for API keys bound to
 * source addresses. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4
 * ranges.
 */
#ifndef CUSTOS_NET_H
#define CUSTOS_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

typedef struct net_range {
    uint8_t addr[16]; /* IPv4 as IPv4-mapped IPv6 */
    unsigned prefix;  /* 0..128 (IPv4 /n is stored as /96+n) */
} net_range;

/* "10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1". ERR_INPUT names what is wrong. */
MUST_USE err net_range_parse(const char *text, net_range *out);
/* A textual address (v4 or v6) into the 16-byte form. */
MUST_USE err net_addr_parse(const char *text, uint8_t out[16]);
bool net_range_contains(const net_range *r, const uint8_t addr[16]);
/* Validates a comma-separated list ("" is valid: anywhere). */
MUST_USE err net_list_check(const char *list);
/* True when list is empty or addr is inside one of its ranges (a bad list matches nothing). */
bool net_list_allows(const char *list, const char *addr);

#endif
