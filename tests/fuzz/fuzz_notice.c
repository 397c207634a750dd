/*
 * fuzz_notice.c - the notice template parser and renderer on arbitrary bytes: never a crash,
 * never a template handed out on error, errors name the input, and whatever parses renders
 * with full facts either completely (no placeholder left) or with a clear ERR_INPUT.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "incident/notice.h"
#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    notice_tpl *sentinel = (notice_tpl *)(uintptr_t)1, *t = sentinel;
    err e = notice_tpl_parse("fuzz.tpl", (const char *)data, size, &t);
    if (e != ERR_OK) {
        if (e != ERR_INPUT || t != sentinel || strncmp(err_message(), "fuzz.tpl:", 9) != 0) {
            abort();
        }
        return 0;
    }
    if (t == sentinel || t == NULL) {
        abort();
    }
    notice_facts f = {.company = "C",
                      .system = "S",
                      .contact_phone = "P",
                      .contact_email = "E",
                      .incident_ref = "I",
                      .event_type = "T",
                      .discovered_us = 1700000000000000,
                      .from_us = 1700000000000000,
                      .to_us = 1700000000000000,
                      .tz_offset_s = 28800,
                      .tz_label = "Z",
                      .people = 3,
                      .records = 9,
                      .fields = 1,
                      .categories = 1,
                      .measures = "m",
                      .impact = "i",
                      .cause = "c",
                      .handling = "h",
                      .harm = "h",
                      .accountability = "a",
                      .remediation = "r",
                      .lessons = "l",
                      .customer_steps = "s"};
    notice_person p = {.name = "N", .fields = 0x7, .categories = 1u << CAT_TRANSACTIONS};
    buf b;
    buf_init(&b, 0);
    if (notice_render(t, &f, &p, &b) != ERR_OK) {
        abort(); /* every fact is given: rendering cannot fail */
    }
    buf_free(&b);
    notice_tpl_free(t);
    return 0;
}
