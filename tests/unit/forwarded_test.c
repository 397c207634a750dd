/*
 * forwarded_test.c - the client behind trusted proxies: X-Forwarded-For and
 * Forwarded read from the right, believed only as far as the hops are trusted.
 */
#include <arpa/inet.h>

#include "../unit/test.h"
#include "audit/witness.h"
#include "core/forwarded.h"

static net_range T[4];
static size_t NT;

static void trust(const char *const *list)
{
    NT = 0;
    for (; *list; list++) {
        if (net_range_parse(*list, &T[NT]) == ERR_OK) {
            NT++;
        }
    }
}

/* The client as text for a peer and header values (NULL-terminated). */
static const char *client(fwd_header k, const char *peer, const char *const *values)
{
    static char out[64];
    uint8_t p[16], c[16];
    if (net_addr_parse(peer, p) != ERR_OK) {
        return "bad peer";
    }
    size_t n = 0;
    while (values[n]) {
        n++;
    }
    fwd_client(k, values, n, T, NT, p, c);
    static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(c, v4, 12) == 0) {
        inet_ntop(AF_INET, c + 12, out, sizeof out);
    } else {
        inet_ntop(AF_INET6, c, out, sizeof out);
    }
    return out;
}

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

TEST(t_x_forwarded_for)
{
    trust(V("10.0.0.1", "10.9.0.0/16"));
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("203.0.113.7")), "203.0.113.7");
    /* the client wrote the left part: only the rightmost untrusted hop counts */
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("1.1.1.1, 203.0.113.7")), "203.0.113.7");
    /* trusted hops are skipped, across several header lines */
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("198.51.100.1, 203.0.113.7", "10.9.3.4")),
               "203.0.113.7");
    /* every hop trusted: the leftmost */
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("10.9.0.5, 10.9.0.6")), "10.9.0.5");
    /* no header, or garbage as the first untrusted hop: the last trusted hop */
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("")), "10.0.0.1");
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("1.2.3.4, unknown")), "10.0.0.1");
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("1.2.3.4, unknown, 10.9.1.1")),
               "10.9.1.1");
    /* ports and brackets */
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("203.0.113.9:5555")), "203.0.113.9");
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("[2001:db8::7]:443")), "2001:db8::7");
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("2001:db8::8")), "2001:db8::8");
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("[2001:db8::7")), "10.0.0.1");
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("[2001:db8::7]x")), "10.0.0.1");
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V(",,, ,")), "10.0.0.1");
}

TEST(t_forwarded)
{
    trust(V("10.0.0.1"));
    EXPECT_STR(client(FWD_FORWARDED, "10.0.0.1", V("for=203.0.113.7;proto=https")), "203.0.113.7");
    EXPECT_STR(client(FWD_FORWARDED, "10.0.0.1",
                      V("for=1.1.1.1, proto=http;For=\"[2001:db8:cafe::17]:4711\"")),
               "2001:db8:cafe::17");
    EXPECT_STR(client(FWD_FORWARDED, "10.0.0.1", V("for=_hidden")), "10.0.0.1");
    EXPECT_STR(client(FWD_FORWARDED, "10.0.0.1", V("proto=https;by=10.0.0.1")), "10.0.0.1");
    EXPECT_STR(client(FWD_FORWARDED, "10.0.0.1", V("for=\"\"")), "10.0.0.1");
    /* an X-Forwarded-For value is not a Forwarded element */
    EXPECT_STR(client(FWD_FORWARDED, "10.0.0.1", V("203.0.113.7")), "10.0.0.1");
}

TEST(t_many_hops)
{
    /* only the rightmost FWD_MAX_HOPS are read: a long chain of trusted hops yields the
     * leftmost hop read, never what lies beyond the window */
    trust(V("10.0.0.0/8"));
    static char big[FWD_MAX_HOPS * 40 + 64];
    size_t len = 0;
    for (int i = 0; i < FWD_MAX_HOPS * 3; i++) {
        len += (size_t)snprintf(big + len, sizeof big - len, "%s", i ? ", " : "");
        len += (size_t)snprintf(big + len, sizeof big - len, "10.0.%d.%d", i / 250, i % 250 + 1);
        if (len > sizeof big - 40) {
            break;
        }
    }
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("203.0.113.1", big)), "10.0.0.129");
    EXPECT_STR(client(FWD_X_FORWARDED_FOR, "10.0.0.1", V("203.0.113.1, 10.1.1.1")), "203.0.113.1");
}

/* custos.json "server": the settings parsed, and every malformed one refused by name. */
TEST(t_config)
{
    vault_config c;
    const char *good =
        "{\"server\":{\"trusted_proxies\":[\"10.0.0.5\",\"2001:db8::/32\"],"
        "\"forwarded_header\":\"forwarded\",\"min_free_mb\":128,"
        "\"metrics_token_sha256\":\"00112233445566778899aabbccddeeff00112233445566778899"
        "aabbccddeeff\"}}";
    EXPECT_OK(vault_config_parse(slice_cstr(good), &c));
    EXPECT_INT(c.ntrusted_proxies, 2);
    EXPECT_INT(c.forwarded_header, FWD_FORWARDED);
    EXPECT_INT(c.min_free_bytes, (uint64_t)128 << 20);
    EXPECT(c.metrics_token_set && c.metrics_token_sha256[1] == 0x11);
    uint8_t a[16];
    EXPECT_OK(net_addr_parse("10.0.0.5", a));
    EXPECT(fwd_trusted(c.trusted_proxies, c.ntrusted_proxies, a));
    EXPECT_OK(net_addr_parse("10.0.0.6", a));
    EXPECT(!fwd_trusted(c.trusted_proxies, c.ntrusted_proxies, a));
    EXPECT_OK(vault_config_parse(slice_cstr("{}"), &c));
    EXPECT(!c.metrics_token_set && c.ntrusted_proxies == 0);
    static const char *const bad[] = {
        "{\"server\":{\"trusted_proxies\":[\"10.0.0.0/33\"]}}",
        "{\"server\":{\"trusted_proxies\":\"10.0.0.1\"}}",
        "{\"server\":{\"trusted_proxies\":[\"proxy.example\"]}}",
        "{\"server\":{\"forwarded_header\":\"x-real-ip\"}}",
        "{\"server\":{\"metrics_token_sha256\":\"abc\"}}",
        "{\"server\":{\"metrics_token_sha256\":"
        "\"zz112233445566778899aabbccddeeff00112233445566778899"
        "aabbccddeeff\"}}",
        "{\"server\":{\"min_free_mb\":0}}",
        "{\"server\":{\"listen\":\"0.0.0.0:1\"}}",
        "{\"server\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_ERR(vault_config_parse(slice_cstr(bad[i]), &c), ERR_INPUT);
        EXPECT(strstr(err_message(), "server") != NULL);
    }
}

int main(void)
{
    test_init();
    RUN(t_x_forwarded_for);
    RUN(t_forwarded);
    RUN(t_many_hops);
    RUN(t_config);
    return test_done("forwarded_test");
}
