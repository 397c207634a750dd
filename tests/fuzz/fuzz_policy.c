/*
 * fuzz_policy.c - the policy file parser on arbitrary bytes: never a crash,
 * never a policy handed out on error, an error always names the input
 * ("fuzz.conf:LINE: ..." or "fuzz.conf: ..."), and whatever parses survives
 * a round trip: its canonical form (policy_show) parses again to the same
 * effective grants (policy_diff is empty). Explanations of a few decisions
 * and a diff against the default must work on every policy that parses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const policy *p)
{
    buf shown, d;
    buf_init(&shown, 0);
    buf_init(&d, 0);
    policy *again = NULL;
    if (policy_show(p, &shown) != ERR_OK ||
        policy_parse((const char *)shown.p, shown.len, "shown.conf", &again) != ERR_OK ||
        policy_diff(p, again, &d) != ERR_OK || d.len != 0) {
        abort();
    }
    policy_free(again);
    buf_free(&shown);
    buf_free(&d);
}

static void check_explain(const policy *p)
{
    static const char *const Q[][3] = {
        {"sales", "read", "identity"},           {"customer_service", "write", "contact.phone"},
        {"data_steward", "export", "customers"}, {"hr", "create", "communications"},
        {"security", "audit.read", ""},          {"admin", "request", "internal.notes"},
    };
    for (size_t i = 0; i < sizeof Q / sizeof Q[0]; i++) {
        buf b;
        buf_init(&b, 0);
        if (policy_explain(p, Q[i][0], Q[i][1], Q[i][2], i % 2 == 0, &b) != ERR_OK || b.len == 0) {
            abort();
        }
        buf_free(&b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static policy *def;
    if (!def) {
        const char *t = policy_default_text();
        if (policy_parse(t, strlen(t), "policy.conf", &def) != ERR_OK) {
            abort();
        }
    }
    policy *sentinel = (policy *)(uintptr_t)1, *p = sentinel;
    err e = policy_parse((const char *)data, size, "fuzz.conf", &p);
    if (e != ERR_OK) {
        const char *m = err_message();
        if (e != ERR_INPUT || p != sentinel || strncmp(m, "fuzz.conf:", 10) != 0) {
            abort();
        }
        return 0;
    }
    if (p == sentinel || p == NULL) {
        abort();
    }
    size_t g, c;
    policy_stats(p, &g, &c);
    check_round_trip(p);
    check_explain(p);
    buf d;
    buf_init(&d, 0);
    if (policy_diff(def, p, &d) != ERR_OK) {
        abort();
    }
    buf_free(&d);
    policy_free(p);
    return 0;
}
