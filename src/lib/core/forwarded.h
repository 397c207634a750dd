/*
 * forwarded.h - the client address of a request that reached the server
 * through reverse proxies (X-Forwarded-For, RFC 7239 Forwarded).
 *
 * The header is believed only as far as the proxies that wrote it are
 * trusted: starting from the connection's peer (which must itself be a trusted
 * proxy, checked by the caller), the list is read from the right, each trusted
 * hop is skipped, and the first hop that is not a trusted proxy is the client.
 * Everything to its left was written by the client and is never believed.
 */
#ifndef CUSTOS_FORWARDED_H
#define CUSTOS_FORWARDED_H

#include <stddef.h>
#include <stdint.h>

#include "core/net.h"

typedef enum fwd_header {
    FWD_X_FORWARDED_FOR = 0, /* X-Forwarded-For: client, proxy1, proxy2 */
    FWD_FORWARDED = 1,       /* Forwarded: for=client;proto=https, for="[2001:db8::1]:443" */
} fwd_header;

#define FWD_MAX_HOPS 64 /* only the rightmost hops are read */

/* The client address for a request from peer (a trusted proxy) carrying the header's field
 * values in the order received (values[0..n)). trusted holds ntrusted ranges. out receives
 * the 16-byte address (IPv4 as IPv4-mapped). When no value names a usable address, or the
 * first untrusted hop cannot be parsed, out is the last trusted hop (peer when none). Never
 * fails; reads each value only up to its NUL. */
void fwd_client(fwd_header kind, const char *const *values, size_t n, const net_range *trusted,
                size_t ntrusted, const uint8_t peer[16], uint8_t out[16]);
/* True when addr is in one of the ranges. */
bool fwd_trusted(const net_range *trusted, size_t ntrusted, const uint8_t addr[16]);

#endif
