/*
 * forwarded.c - X-Forwarded-For and Forwarded, read from the right and
 * believed only as far as the hops are trusted proxies (forwarded.h).
 *
 * Elements are split on commas across every field value; only the last
 * FWD_MAX_HOPS are kept (a ring), since nothing left of the first untrusted hop
 * is ever used. An element is an address, optionally in brackets and with a
 * port ("192.0.2.1", "192.0.2.1:443", "2001:db8::1", "[2001:db8::1]:443");
 * in Forwarded it is the for= parameter of the element (a token or a quoted
 * string). Anything else ("unknown", obfuscated names, garbage) stops the walk.
 */
#include "core/forwarded.h"

#include <string.h>

typedef struct span {
    const char *p;
    size_t n;
} span;

bool fwd_trusted(const net_range *trusted, size_t ntrusted, const uint8_t addr[16])
{
    for (size_t i = 0; i < ntrusted; i++) {
        if (net_range_contains(&trusted[i], addr)) {
            return true;
        }
    }
    return false;
}

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

static span trim(span s)
{
    while (s.n && ows(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && ows(s.p[s.n - 1])) {
        s.n--;
    }
    return s;
}

static bool ieq(span s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.n != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s.p[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if (c != lit[i]) {
            return false;
        }
    }
    return true;
}

/* The for= value of one Forwarded element ("for=1.2.3.4;proto=https"), unquoted. */
static bool forwarded_for(span el, span *out)
{
    const char *p = el.p, *end = el.p + el.n;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        span pair = trim((span){p, (size_t)((semi ? semi : end) - p)});
        const char *eq = memchr(pair.p, '=', pair.n);
        if (eq && ieq(trim((span){pair.p, (size_t)(eq - pair.p)}), "for")) {
            span v = trim((span){eq + 1, (size_t)(pair.p + pair.n - eq - 1)});
            if (v.n >= 2 && v.p[0] == '"' && v.p[v.n - 1] == '"') {
                v.p++;
                v.n -= 2;
            }
            *out = v;
            return true;
        }
        p = semi ? semi + 1 : end;
    }
    return false;
}

/* "192.0.2.1", "192.0.2.1:80", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:80". */
static bool parse_hop(span s, uint8_t out[16])
{
    char text[64];
    s = trim(s);
    if (s.n == 0 || s.n >= sizeof text) {
        return false;
    }
    if (s.p[0] == '[') {
        const char *close = memchr(s.p, ']', s.n);
        if (!close) {
            return false;
        }
        size_t rest = s.n - (size_t)(close + 1 - s.p);
        if (rest && close[1] != ':') {
            return false;
        }
        s = (span){s.p + 1, (size_t)(close - s.p - 1)};
    } else {
        const char *c1 = memchr(s.p, ':', s.n);
        if (c1 && !memchr(c1 + 1, ':', s.n - (size_t)(c1 + 1 - s.p))) {
            s.n = (size_t)(c1 - s.p); /* IPv4 with a port */
        }
    }
    if (s.n == 0 || s.n >= sizeof text) {
        return false;
    }
    memcpy(text, s.p, s.n);
    text[s.n] = '\0';
    return net_addr_parse(text, out) == ERR_OK;
}

void fwd_client(fwd_header kind, const char *const *values, size_t n, const net_range *trusted,
                size_t ntrusted, const uint8_t peer[16], uint8_t out[16])
{
    span hop[FWD_MAX_HOPS];
    size_t nhop = 0; /* elements seen; the ring holds the last FWD_MAX_HOPS */
    for (size_t i = 0; i < n; i++) {
        const char *p = values[i];
        if (!p) {
            continue;
        }
        const char *end = p + strlen(p);
        while (p <= end) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma ? comma : end;
            span el = trim((span){p, (size_t)(stop - p)});
            if (el.n) {
                hop[nhop % FWD_MAX_HOPS] = el;
                nhop++;
            }
            p = stop + 1;
        }
    }
    memcpy(out, peer, 16);
    size_t kept = nhop < FWD_MAX_HOPS ? nhop : FWD_MAX_HOPS;
    for (size_t k = 0; k < kept; k++) {
        span el = hop[(nhop - 1 - k) % FWD_MAX_HOPS];
        span a = el;
        if (kind == FWD_FORWARDED && !forwarded_for(el, &a)) {
            return;
        }
        uint8_t addr[16];
        if (!parse_hop(a, addr)) {
            return; /* an unusable hop: the last trusted one is all we know */
        }
        memcpy(out, addr, 16);
        if (!fwd_trusted(trusted, ntrusted, addr)) {
            return;
        }
    }
}
