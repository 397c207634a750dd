/*
 * fuzz_forwarded.c - the forwarding-header parser (X-Forwarded-For and
 * Forwarded) on arbitrary bytes: never a crash or an out-of-bounds read, and
 * the same answer every time, and the peer when nothing in the header can be an address.
 *
 * Input: one byte selects the header kind, the rest is split on newlines into
 * field values.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/forwarded.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) {
        return 0;
    }
    fwd_header kind = (data[0] & 1) ? FWD_FORWARDED : FWD_X_FORWARDED_FOR;
    char *text = malloc(size);
    if (!text) {
        return 0;
    }
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    const char *values[16];
    size_t n = 0;
    char *p = text;
    while (n < 16) {
        values[n++] = p;
        char *nl = strchr(p, '\n');
        if (!nl) {
            break;
        }
        *nl = '\0';
        p = nl + 1;
    }
    net_range trusted[2];
    if (net_range_parse("10.0.0.0/8", &trusted[0]) != ERR_OK ||
        net_range_parse("2001:db8::/32", &trusted[1]) != ERR_OK) {
        __builtin_trap();
    }
    uint8_t peer[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}, out[16];
    fwd_client(kind, values, n, trusted, 2, peer, out);
    /* deterministic, and with no '.' or ':' anywhere no address can be parsed: the peer */
    uint8_t again[16];
    fwd_client(kind, values, n, trusted, 2, peer, again);
    bool none = !memchr(data + 1, '.', size - 1) && !memchr(data + 1, ':', size - 1);
    if (memcmp(out, again, 16) != 0 || (none && memcmp(out, peer, 16) != 0)) {
        __builtin_trap();
    }
    free(text);
    return 0;
}
