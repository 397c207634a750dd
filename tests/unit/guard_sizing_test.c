/*
 * guard_sizing_test.c - the shipped admission limits (etc/guard.rules, compiled in)
 * against the busy office docs/GUARD.md sizes them for: a customer-service team of
 * thirty working at once from one office address behind NAT, each with a browser's
 * six connections and a page of eight API calls every four to six seconds, all of
 * them opening a page in the same instant at the start of a shift, and in the same
 * office one heavy user (a steward's bulk tool) on 64 connections at 100 requests
 * a second. Two minutes of that get no 429 and no refused connection. Floods still
 * do: one address at 3,000 requests a second, one account at 1,000 a second from
 * many addresses, a thousand connections from one address.
 */
#include "guard/guard.h"
#include "guard/guard_int.h"
#include "test.h"

#define S 1000000LL
#define MS 1000LL
static const int64_t T0 = 1772416800LL * S; /* a Monday, 10:00 in Beijing */

#define STAFF 30
#define STAFF_CONNS 6
#define PAGE_CALLS 8
#define HEAVY_CONNS 64
#define HEAVY_PER_S 100
#define SECONDS 120

static guard *open_shipped(void)
{
    guard_rules *r = NULL;
    if (guard_rules_parse(slice_cstr(GUARD_DEFAULT_RULES), "built-in", &r) != ERR_OK) {
        printf("  rules: %s\n", err_message());
        return NULL;
    }
    guard_options o;
    memset(&o, 0, sizeof o);
    o.offline = true;
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
        memset(&a, 0, sizeof a);
    }
    return a;
}

/* One request: the address's admission, then the account's. */
static bool admitted(guard *g, const guard_addr *a, const char *user, int64_t t)
{
    return guard_admit(g, a, t, NULL) == GUARD_ADMIT &&
           guard_admit_account(g, user, t, NULL) == GUARD_ADMIT;
}

TEST(t_busy_office_is_admitted)
{
    guard *g = open_shipped();
    if (!g) {
        EXPECT(g != NULL);
        return;
    }
    guard_addr office = A("198.51.100.20");
    int conns = 0, refused_conns = 0;
    for (int i = 0; i < STAFF * STAFF_CONNS + HEAVY_CONNS; i++) {
        if (guard_conn_open(g, &office, T0, NULL) == GUARD_ADMIT) {
            conns++;
        } else {
            refused_conns++;
        }
    }
    EXPECT_INT(refused_conns, 0);
    char users[STAFF][16];
    int64_t next_page[STAFF];
    for (int i = 0; i < STAFF; i++) {
        snprintf(users[i], sizeof users[i], "service%d", i + 1);
        next_page[i] = T0; /* the start of a shift: everyone at once */
    }
    long requests = 0, refused = 0;
    int64_t next_heavy = T0;
    for (int64_t t = T0; t < T0 + SECONDS * S; t += 10 * MS) {
        for (int i = 0; i < STAFF; i++) {
            if (t < next_page[i]) {
                continue;
            }
            for (int k = 0; k < PAGE_CALLS; k++) {
                requests++;
                refused += !admitted(g, &office, users[i], t);
            }
            next_page[i] = t + (4 + i % 3) * S; /* every 4, 5 or 6 s */
        }
        while (next_heavy <= t) {
            requests++;
            refused += !admitted(g, &office, "steward1", t);
            next_heavy += S / HEAVY_PER_S;
        }
    }
    printf("    busy office: %ld requests in %d s, %ld refused; %d connections, %d refused\n",
           requests, SECONDS, refused, conns + refused_conns, refused_conns);
    EXPECT(requests > 17000);
    EXPECT_INT(refused, 0);
    for (int i = 0; i < conns; i++) {
        guard_conn_close(g, &office);
    }
    guard_close(g);
}

TEST(t_floods_are_throttled)
{
    guard *g = open_shipped();
    if (!g) {
        EXPECT(g != NULL);
        return;
    }
    /* One address, one account, 3,000 requests a second for ten seconds. */
    guard_addr bot = A("203.0.113.50");
    long n = 0, throttled = 0;
    for (int64_t t = T0; t < T0 + 10 * S; t += S / 3000) {
        n++;
        throttled += guard_admit(g, &bot, t, NULL) != GUARD_ADMIT;
    }
    printf("    address flood: %ld of %ld throttled\n", throttled, n);
    EXPECT(throttled * 10 > n * 8);
    /* One account at 1,000 requests a second from a hundred addresses (its own bucket). */
    long an = 0, athrottled = 0;
    for (int64_t t = T0; t < T0 + 10 * S; t += S / 1000) {
        char ip[32];
        snprintf(ip, sizeof ip, "192.0.2.%ld", 1 + an % 100);
        guard_addr a = A(ip);
        an++;
        athrottled += !admitted(g, &a, "flooder", t);
    }
    printf("    account flood: %ld of %ld throttled\n", athrottled, an);
    EXPECT(athrottled * 10 > an * 7);
    /* A thousand connections from one address. */
    guard_addr many = A("203.0.113.77");
    int open = 0, refused = 0;
    for (int i = 0; i < 1000; i++) {
        if (guard_conn_open(g, &many, T0, NULL) == GUARD_ADMIT) {
            open++;
        } else {
            refused++;
        }
    }
    printf("    connection flood: %d of 1000 refused\n", refused);
    EXPECT(refused >= 500);
    for (int i = 0; i < open; i++) {
        guard_conn_close(g, &many);
    }
    guard_close(g);
}

int main(void)
{
    test_init();
    RUN(t_busy_office_is_admitted);
    RUN(t_floods_are_throttled);
    return test_done("guard_sizing_test");
}
