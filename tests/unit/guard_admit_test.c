/*
 * guard_admit_test.c - admission: addresses and CIDR ranges (IPv4, IPv6, the
 * edge prefixes /0, /1, /31, /32, /127, /128, mapped addresses), allow and deny
 * lists, token buckets per address and per account under an injected clock
 * (exactly `burst` requests, then 429 with the right Retry-After, refill),
 * connection limits, blocks and throttles with expiry, IPv6 prefixes, and many
 * threads at once.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>

#include "guard/guard.h"
#include "guard/guard_int.h"
#include "test.h"

#define S 1000000LL
static int64_t T0 = 1772409600LL * S; /* 2026-03-02T00:00:00Z */
static int64_t now_us;
static int64_t test_clock(void *ctx)
{
    return now_us;
}

static guard *open_text(const char *text)
{
    guard_rules *r = NULL;
    if (guard_rules_parse(slice_cstr(text), "t.rules", &r) != ERR_OK) {
        printf("  rules: %s\n", err_message());
        return NULL;
    }
    guard_options o;
    memset(&o, 0, sizeof o);
    o.offline = true;
    o.clock = test_clock;
    guard *g = NULL;
    if (guard_open(r, &o, &g) != ERR_OK) {
        printf("  open: %s\n", err_message());
        guard_rules_free(r);
        return NULL;
    }
    return g;
}

static guard_addr A(const char *s)
{
    guard_addr a;
    if (guard_addr_parse(s, &a) != ERR_OK) {
        printf("  bad address %s\n", s);
        memset(&a, 0, sizeof a);
    }
    return a;
}

TEST(t_addr_parse)
{
    guard_addr a, b;
    EXPECT_OK(guard_addr_parse("192.0.2.1", &a));
    EXPECT(guard_addr_is_v4(&a));
    EXPECT_OK(guard_addr_parse("::ffff:192.0.2.1", &b));
    EXPECT(memcmp(&a, &b, sizeof a) == 0);
    char t[GUARD_ADDR_TEXT];
    guard_addr_format(&b, t);
    EXPECT_STR(t, "192.0.2.1");
    EXPECT_OK(guard_addr_parse("2001:DB8::1", &a));
    EXPECT(!guard_addr_is_v4(&a));
    guard_addr_format(&a, t);
    EXPECT_STR(t, "2001:db8::1");
    EXPECT_ERR(guard_addr_parse("", &a), ERR_INPUT);
    EXPECT_ERR(guard_addr_parse("192.0.2", &a), ERR_INPUT);
    EXPECT_ERR(guard_addr_parse("192.0.2.1 ", &a), ERR_INPUT);
    EXPECT_ERR(guard_addr_parse("[::1]", &a), ERR_INPUT);
    EXPECT_ERR(guard_addr_parse("fe80::1%eth0", &a), ERR_INPUT);
    EXPECT_ERR(guard_addr_parse("0123456789012345678901234567890123456789012345678", &a),
               ERR_INPUT);
    struct sockaddr_in s4;
    memset(&s4, 0, sizeof s4);
    s4.sin_family = AF_INET;
    inet_pton(AF_INET, "198.51.100.7", &s4.sin_addr);
    EXPECT_OK(guard_addr_from_sockaddr((struct sockaddr *)&s4, &a));
    guard_addr_format(&a, t);
    EXPECT_STR(t, "198.51.100.7");
    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof s6);
    s6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8:1::9", &s6.sin6_addr);
    EXPECT_OK(guard_addr_from_sockaddr((struct sockaddr *)&s6, &a));
    guard_addr_format(&a, t);
    EXPECT_STR(t, "2001:db8:1::9");
    struct sockaddr un = {.sa_family = AF_UNIX};
    EXPECT_ERR(guard_addr_from_sockaddr(&un, &a), ERR_INPUT);
}

static bool in(const granges *g, const char *addr)
{
    guard_addr a = A(addr);
    return granges_has(g, &a);
}

static granges ranges(const char *const *cidrs)
{
    granges g;
    memset(&g, 0, sizeof g);
    for (size_t i = 0; cidrs[i]; i++) {
        if (granges_add_cidr(&g, cidrs[i]) != ERR_OK) {
            printf("  cidr %s: %s\n", cidrs[i], err_message());
        }
    }
    granges_finish(&g);
    return g;
}

TEST(t_cidr_v4)
{
    granges g =
        ranges((const char *const[]){"10.0.0.0/8", "192.0.2.0/31", "198.51.100.7/32", NULL});
    EXPECT(in(&g, "10.0.0.0") && in(&g, "10.255.255.255") && !in(&g, "11.0.0.0") &&
           !in(&g, "9.255.255.255"));
    EXPECT(in(&g, "192.0.2.0") && in(&g, "192.0.2.1") && !in(&g, "192.0.2.2"));
    EXPECT(in(&g, "198.51.100.7") && !in(&g, "198.51.100.6") && !in(&g, "198.51.100.8"));
    EXPECT(!in(&g, "::ffff:9.0.0.1") && in(&g, "::ffff:10.1.2.3")); /* mapped = IPv4 */
    EXPECT(!in(&g, "2001:db8::1") && !in(&g, "::a00:1"));           /* v6, not mapped */
    granges_free(&g);
    g = ranges((const char *const[]){"128.0.0.0/1", NULL});
    EXPECT(in(&g, "128.0.0.0") && in(&g, "255.255.255.255") && !in(&g, "127.255.255.255"));
    granges_free(&g);
    /* /0 is all of IPv4 and nothing of IPv6 */
    g = ranges((const char *const[]){"0.0.0.0/0", NULL});
    EXPECT(in(&g, "0.0.0.0") && in(&g, "255.255.255.255") && in(&g, "1.2.3.4"));
    EXPECT(!in(&g, "::") && !in(&g, "::1") && !in(&g, "2001:db8::1") && !in(&g, "::fffe:1.2.3.4"));
    granges_free(&g);
}

TEST(t_cidr_v6)
{
    granges g = ranges((const char *const[]){"2001:db8::/32", "fe80::/10", "::1/128",
                                             "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe/127", NULL});
    EXPECT(in(&g, "2001:db8::") && in(&g, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
    EXPECT(!in(&g, "2001:db9::") && !in(&g, "2001:db7:ffff::1"));
    EXPECT(in(&g, "fe80::1") && in(&g, "febf:ffff::1") && !in(&g, "fec0::1"));
    EXPECT(in(&g, "::1") && !in(&g, "::2") && !in(&g, "::"));
    EXPECT(!in(&g, "127.0.0.1"));
    granges_free(&g);
    g = ranges((const char *const[]){"::/0", NULL});
    EXPECT(in(&g, "::") && in(&g, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") &&
           in(&g, "10.0.0.1")); /* ::/0 covers the mapped space too */
    granges_free(&g);
    g = ranges((const char *const[]){"8000::/1", "2001:db8::5/128", NULL});
    EXPECT(in(&g, "8000::") && in(&g, "ffff::1") && !in(&g, "7fff:ffff::1"));
    EXPECT(in(&g, "2001:db8::5") && !in(&g, "2001:db8::4") && !in(&g, "2001:db8::6"));
    granges_free(&g);
    /* overlapping and adjacent ranges merge */
    g = ranges(
        (const char *const[]){"10.0.0.0/9", "10.128.0.0/9", "10.0.0.0/16", "10.0.0.7", NULL});
    EXPECT_INT(g.n, 1);
    EXPECT(in(&g, "10.200.0.1") && !in(&g, "11.0.0.0"));
    granges_free(&g);
}

TEST(t_lists)
{
    guard *g = open_text("allow 10.0.0.0/8\ndeny 10.66.0.0/16, 2001:db8:bad::/48\n"
                         "limit address 1/s burst 1\n");
    EXPECT(g != NULL);
    if (!g) {
        return;
    }
    guard_decision d;
    guard_addr a = A("10.66.1.1");
    EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_BLOCK); /* deny wins over allow */
    EXPECT_INT(d.reason, GUARD_R_DENY_LIST);
    EXPECT_INT(d.retry_after_s, 0);
    a = A("2001:db8:bad:1::5");
    EXPECT_INT(guard_conn_open(g, &a, T0, &d), GUARD_BLOCK);
    a = A("10.1.1.1"); /* allow-listed: no rate limit */
    for (int i = 0; i < 50; i++) {
        EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_ADMIT);
    }
    a = A("192.0.2.1");
    EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_ADMIT);
    EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_THROTTLE);
    /* allow-listed addresses cannot be blocked */
    EXPECT_ERR(guard_block(g, "10.1.1.1", 60, "op", "test"), ERR_CONFLICT);
    guard_close(g);
    g = open_text("default deny\nallow 192.0.2.0/24\n");
    a = A("192.0.2.200");
    EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_ADMIT);
    a = A("192.0.3.1");
    EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_BLOCK);
    EXPECT_INT(d.reason, GUARD_R_NOT_ALLOWED);
    guard_close(g);
}

TEST(t_token_bucket_address)
{
    guard *g = open_text("limit address 2/s burst 5\n");
    EXPECT(g != NULL);
    if (!g) {
        return;
    }
    guard_addr a = A("198.51.100.1"), b = A("198.51.100.2");
    guard_decision d;
    for (int i = 0; i < 5; i++) {
        EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_ADMIT);
    }
    EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_THROTTLE);
    EXPECT_INT(d.reason, GUARD_R_RATE);
    EXPECT_INT(d.retry_after_s, 1);
    EXPECT_INT(guard_admit(g, &b, T0, &d), GUARD_ADMIT); /* another address is not affected */
    /* 0.4 s later: 0.8 tokens, still not one */
    EXPECT_INT(guard_admit(g, &a, T0 + 400000, &d), GUARD_THROTTLE);
    /* 0.5 s after the start: exactly one token */
    EXPECT_INT(guard_admit(g, &a, T0 + 500000, &d), GUARD_ADMIT);
    EXPECT_INT(guard_admit(g, &a, T0 + 500000, &d), GUARD_THROTTLE);
    /* a long pause refills to burst, not beyond */
    int ok = 0;
    for (int i = 0; i < 10; i++) {
        ok += guard_admit(g, &a, T0 + 3600 * S, &d) == GUARD_ADMIT;
    }
    EXPECT_INT(ok, 5);
    guard_close(g);
    /* a slow rate asks for a long Retry-After */
    g = open_text("limit address 6/m burst 1\n");
    EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_ADMIT);
    EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_THROTTLE);
    EXPECT_INT(d.retry_after_s, 10);
    EXPECT_INT(guard_admit(g, &a, T0 + 9 * S, &d), GUARD_THROTTLE);
    EXPECT_INT(d.retry_after_s, 1);
    EXPECT_INT(guard_admit(g, &a, T0 + 10 * S, &d), GUARD_ADMIT);
    guard_close(g);
}

TEST(t_token_bucket_ipv6_prefix)
{
    guard *g = open_text("ipv6_prefix 64\nlimit address 1/s burst 2\n");
    guard_addr a = A("2001:db8:1:2::1"), b = A("2001:db8:1:2:ffff::9"), c = A("2001:db8:1:3::1");
    guard_decision d;
    EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_ADMIT);
    EXPECT_INT(guard_admit(g, &b, T0, &d), GUARD_ADMIT); /* same /64 */
    EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_THROTTLE);
    EXPECT_INT(guard_admit(g, &c, T0, &d), GUARD_ADMIT); /* next /64 */
    guard_close(g);
}

TEST(t_token_bucket_account)
{
    guard *g = open_text("limit account 1/s burst 3\n");
    guard_decision d;
    for (int i = 0; i < 3; i++) {
        EXPECT_INT(guard_admit_account(g, "alice", T0, &d), GUARD_ADMIT);
    }
    EXPECT_INT(guard_admit_account(g, "alice", T0, &d), GUARD_THROTTLE);
    EXPECT_INT(guard_admit_account(g, "bob", T0, &d), GUARD_ADMIT);
    EXPECT_INT(guard_admit_account(g, "alice", T0 + S, &d), GUARD_ADMIT);
    EXPECT_INT(guard_admit_account(g, "", T0, &d), GUARD_ADMIT);
    EXPECT_INT(guard_admit_account(NULL, "alice", T0, &d), GUARD_ADMIT);
    guard_close(g);
}

TEST(t_connections)
{
    guard *g = open_text("limit connections 2\n");
    guard_addr a = A("203.0.113.5");
    guard_decision d;
    EXPECT_INT(guard_conn_open(g, &a, T0, &d), GUARD_ADMIT);
    EXPECT_INT(guard_conn_open(g, &a, T0, &d), GUARD_ADMIT);
    EXPECT_INT(guard_conn_open(g, &a, T0, &d), GUARD_THROTTLE);
    EXPECT_INT(d.reason, GUARD_R_CONNECTIONS);
    guard_conn_close(g, &a);
    EXPECT_INT(guard_conn_open(g, &a, T0, &d), GUARD_ADMIT);
    guard_conn_close(g, &a);
    guard_conn_close(g, &a);
    guard_conn_close(g, &a); /* one too many: harmless */
    EXPECT_INT(guard_conn_open(g, &a, T0, &d), GUARD_ADMIT);
    EXPECT_INT(guard_conn_open(g, &a, T0, &d), GUARD_ADMIT);
    EXPECT_INT(guard_conn_open(g, &a, T0, &d), GUARD_THROTTLE);
    guard_close(g);
}

TEST(t_block_and_throttle_expiry)
{
    now_us = T0;
    guard *g = open_text("limit throttled 1/s burst 2\n");
    guard_addr a = A("198.51.100.9");
    guard_decision d;
    EXPECT_OK(guard_block(g, "198.51.100.9", 60, "op", "testing"));
    EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_BLOCK);
    EXPECT_INT(d.reason, GUARD_R_BLOCKED);
    EXPECT_INT(d.retry_after_s, 60);
    EXPECT_INT(guard_conn_open(g, &a, T0 + 30 * S, &d), GUARD_BLOCK);
    EXPECT_INT(d.retry_after_s, 30);
    EXPECT_INT(guard_admit(g, &a, T0 + 60 * S, &d), GUARD_ADMIT); /* expired */
    EXPECT_OK(guard_block(g, "198.51.100.9", 60, "op", "again"));
    EXPECT_INT(guard_admit(g, &a, T0 + 1, &d), GUARD_BLOCK);
    EXPECT_OK(guard_unblock(g, "198.51.100.9", "op"));
    EXPECT_INT(guard_admit(g, &a, T0 + 1, &d), GUARD_ADMIT);
    /* throttle: an empty bucket at 1/s, burst 2 */
    EXPECT_OK(guard_throttle(g, "address", "198.51.100.9", 120, "op", "slow down"));
    EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_THROTTLE);
    EXPECT_INT(d.reason, GUARD_R_THROTTLED);
    EXPECT_INT(guard_admit(g, &a, T0 + S, &d), GUARD_ADMIT);
    EXPECT_INT(guard_admit(g, &a, T0 + S, &d), GUARD_THROTTLE);
    EXPECT_INT(guard_admit(g, &a, T0 + 120 * S, &d), GUARD_ADMIT);
    EXPECT_INT(guard_admit(g, &a, T0 + 120 * S, &d), GUARD_ADMIT); /* over: no limit at all */
    EXPECT_OK(guard_throttle(g, "account", "carol", 60, "op", "slow down"));
    EXPECT_INT(guard_admit_account(g, "carol", T0, &d), GUARD_THROTTLE);
    EXPECT_INT(guard_admit_account(g, "dave", T0, &d), GUARD_ADMIT);
    EXPECT_OK(guard_unthrottle(g, "account", "carol", "op"));
    EXPECT_INT(guard_admit_account(g, "carol", T0, &d), GUARD_ADMIT);
    EXPECT_ERR(guard_block(g, "not-an-address", 60, "op", ""), ERR_INPUT);
    EXPECT_ERR(guard_block(g, "198.51.100.9", 0, "op", ""), ERR_INPUT);
    EXPECT_ERR(guard_throttle(g, "planet", "x", 10, "op", ""), ERR_INPUT);
    json_t *s = NULL;
    EXPECT_OK(guard_sanctions(g, &s));
    /* only the address throttle is still in force at T0 */
    EXPECT_INT(json_array_size(json_object_get(s, "sanctions")), 1);
    json_t *x = json_array_get(json_object_get(s, "sanctions"), 0);
    EXPECT_STR(json_string_value(json_object_get(x, "kind")), "throttle");
    EXPECT_STR(json_string_value(json_object_get(x, "subject")), "address:198.51.100.9");
    EXPECT_STR(json_string_value(json_object_get(x, "by")), "op");
    json_decref(s);
    guard_close(g);
}

TEST(t_ipv6_block_covers_prefix)
{
    guard *g = open_text("ipv6_prefix 48\n");
    guard_decision d;
    EXPECT_OK(guard_block(g, "2001:db8:aa:1::1", 60, "op", ""));
    guard_addr a = A("2001:db8:aa:ffff::2"), b = A("2001:db8:ab::1");
    EXPECT_INT(guard_admit(g, &a, T0, &d), GUARD_BLOCK);
    EXPECT_INT(guard_admit(g, &b, T0, &d), GUARD_ADMIT);
    json_t *s = NULL;
    now_us = T0;
    EXPECT_OK(guard_sanctions(g, &s));
    json_t *first = json_array_get(json_object_get(s, "sanctions"), 0);
    EXPECT_STR(json_string_value(json_object_get(first, "subject")), "address:2001:db8:aa::/48");
    json_decref(s);
    guard_close(g);
}

typedef struct hammer {
    guard *g;
    int admitted, id;
} hammer;

static void *hammer_main(void *arg)
{
    hammer *h = arg;
    char t[32];
    snprintf(t, sizeof t, "10.%d.0.1", h->id);
    guard_addr a = A(t), shared = A("192.0.2.77");
    for (int i = 0; i < 20000; i++) {
        guard_decision d;
        IGNORE(guard_admit(h->g, &a, T0, &d) == GUARD_ADMIT ? ERR_OK : ERR_OK);
        h->admitted += guard_admit(h->g, &shared, T0, &d) == GUARD_ADMIT;
        if (guard_conn_open(h->g, &a, T0, &d) == GUARD_ADMIT) {
            guard_conn_close(h->g, &a);
        }
    }
    return NULL;
}

TEST(t_threads)
{
    guard *g = open_text("limit address 1/s burst 1000\nlimit connections 4\n");
    pthread_t t[8];
    hammer h[8];
    for (int i = 0; i < 8; i++) {
        h[i] = (hammer){g, 0, i};
        pthread_create(&t[i], NULL, hammer_main, &h[i]);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        total += h[i].admitted;
    }
    EXPECT_INT(total, 1000); /* the shared address's bucket, exactly */
    buf m;
    buf_init(&m, 0);
    EXPECT_OK(guard_metrics(g, &m));
    EXPECT(strstr(buf_cstr(&m), "custos_guard_admissions_total{scope=\"address\","
                                "verdict=\"throttle\"} ") != NULL);
    buf_free(&m);
    guard_close(g);
}

int main(void)
{
    test_init();
    now_us = T0;
    RUN(t_addr_parse);
    RUN(t_cidr_v4);
    RUN(t_cidr_v6);
    RUN(t_lists);
    RUN(t_token_bucket_address);
    RUN(t_token_bucket_ipv6_prefix);
    RUN(t_token_bucket_account);
    RUN(t_connections);
    RUN(t_block_and_throttle_expiry);
    RUN(t_ipv6_block_covers_prefix);
    RUN(t_threads);
    return test_done("guard_admit_test");
}
