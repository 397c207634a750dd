/*
 * guard_rules_test.c - the guard's rules parser: the shipped file parses, every
 * setting and detector key lands where it should, and a table of bad inputs is
 * refused with "FILE:LINE: message" naming the right line, returning nothing.
 * Also the schedule and holiday arithmetic the off-hours detector relies on, and
 * that every keyword of the parser's statement table is documented in docs/GUARD.md.
 */
#include "core/clock.h"
#include "guard/guard.h"
#include "guard/guard_int.h"
#include "guard/rules_int.h"
#include "test.h"

static guard_rules *parse(const char *text)
{
    guard_rules *r = NULL;
    err e = guard_rules_parse(slice_cstr(text), "t.rules", &r);
    if (e != ERR_OK) {
        printf("  parse failed: %s\n", err_message());
        return NULL;
    }
    return r;
}

static const grule *rule_named(const guard_rules *r, const char *name)
{
    for (int i = 0; i < r->nrules; i++) {
        if (strcmp(r->rules[i].name, name) == 0) {
            return &r->rules[i];
        }
    }
    return NULL;
}

TEST(t_shipped_rules)
{
    guard_rules *r = NULL;
    EXPECT_OK(guard_rules_load("etc/guard.rules", &r));
    EXPECT(r != NULL);
    if (!r) {
        return;
    }
    EXPECT_INT(guard_rules_count(r), 18);
    EXPECT_INT(r->tz_offset_s, 8 * 3600);
    EXPECT_INT(r->ipv6_prefix, 64);
    EXPECT(r->addr_rate.on && r->addr_rate.per_s == 300 && r->addr_rate.burst == 1000);
    EXPECT(r->acct_rate.on && r->acct_rate.per_s == 150 && r->acct_rate.burst == 600);
    EXPECT_INT(r->max_conns, 384);
    const grule *g = rule_named(r, "brute-force-account");
    EXPECT(g && g->det == D_LOGIN_FAIL && g->per == PER_ACCOUNT && g->threshold == 10 &&
           g->window_us == 15 * 60 * 1000000LL && g->sev == SEV_HIGH &&
           g->actions == (ACT_ALERT | ACT_LOCK) && g->lock_us == 30 * 60 * 1000000LL);
    g = rule_named(r, "egress-account");
    EXPECT(g && g->threshold == 50000000ull);
    g = rule_named(r, "bulk-read");
    EXPECT(g && g->nroles == 1 && g->roles_skip && strcmp(g->roles[0], "data_steward") == 0);
    g = rule_named(r, "honeytoken");
    EXPECT(g && g->sev == SEV_CRITICAL && (g->actions & ACT_REVOKE));
    g = rule_named(r, "credential-stuffing");
    EXPECT(g && g->per == PER_GLOBAL && g->threshold == 20 && g->accounts == 20);
    g = rule_named(r, "id-number-probing");
    EXPECT(g && g->det == D_PROBING && g->per == PER_ACCOUNT && g->threshold == 20 &&
           g->sev == SEV_HIGH);
    g = rule_named(r, "forged-tokens");
    EXPECT(g && g->det == D_BAD_TOKEN && g->per == PER_ADDRESS && g->threshold == 30 &&
           !(g->actions & (ACT_BLOCK | ACT_LOCK)));
    guard_rules_free(r);
}

TEST(t_settings_and_defaults)
{
    guard_rules *r = parse("# comment\n"
                           "version 1\n"
                           "timezone -05:30   # trailing comment\n"
                           "ipv6_prefix 56\n"
                           "queue 100\n"
                           "aggregate 30m\n"
                           "evidence 5\n"
                           "allow 10.0.0.0/8, 2001:db8::/32\n"
                           "deny 10.9.0.0/16\n"
                           "limit throttled 600/m burst 3\n"
                           "honeytoken cus_b, cus_a\n"
                           "delivery retry 100ms attempts 3\n"
                           "notify webhook data_steward:beijing http://127.0.0.1:9/x min high\n"
                           "notify email hr smtp://127.0.0.1:25 from a@b.c to d@e.f,g@h.i "
                           "plain-loopback\n"
                           "notify syslog udp [::1]:514\n"
                           "nftables inet filter s4 s6 path /sbin/nft\n"
                           "rule r1\n"
                           "  detect honeytoken\n"
                           "end\n"
                           "rule r2\r\n"
                           "\tdetect baseline\r\n"
                           "\tz 3.5\r\n"
                           "end\r\n");
    EXPECT(r != NULL);
    if (!r) {
        return;
    }
    EXPECT_INT(r->tz_offset_s, -(5 * 3600 + 30 * 60));
    EXPECT_INT(r->ipv6_prefix, 56);
    EXPECT_INT(r->queue, 100);
    EXPECT_INT(r->aggregate_us, 30 * 60 * 1000000LL);
    EXPECT_INT(r->evidence_max, 5);
    EXPECT_INT(r->allow.n, 2);
    EXPECT(r->throttled_rate.per_s == 10 && r->throttled_rate.burst == 3);
    EXPECT(grules_is_honeytoken(r, "cus_a") && grules_is_honeytoken(r, "cus_b") &&
           !grules_is_honeytoken(r, "cus_c") && !grules_is_honeytoken(r, ""));
    EXPECT_INT(r->retry_us, 100000);
    EXPECT_INT(r->attempts, 3);
    EXPECT_INT(r->nsinks, 3);
    EXPECT(r->sinks[0].kind == SINK_WEBHOOK && r->sinks[0].routes == ROUTE_STEWARD &&
           strcmp(r->sinks[0].dept, "beijing") == 0 && r->sinks[0].min == SEV_HIGH);
    EXPECT(r->sinks[1].kind == SINK_EMAIL && strcmp(r->sinks[1].to, "d@e.f,g@h.i") == 0);
    EXPECT(r->sinks[1].plain_loopback);
    EXPECT(r->nft_on && strcmp(r->nft_path, "/sbin/nft") == 0);
    const grule *g = rule_named(r, "r1");
    EXPECT(g && g->sev == SEV_HIGH && g->actions == ACT_ALERT && g->per == PER_ACCOUNT &&
           (g->routes & ROUTE_STEWARD));
    g = rule_named(r, "r2");
    EXPECT(g && g->z == 3.5 && g->min == 20 && g->alpha == 0.2 &&
           g->warmup_us == 14 * 86400 * 1000000LL);
    guard_rules_free(r);
}

TEST(t_respond_log_only)
{
    guard_rules *r = parse("rule quiet\n detect denied\n threshold 3 within 1m\n respond log\n"
                           "end\n");
    EXPECT(r && r->rules[0].actions == ACT_LOG);
    guard_rules_free(r);
}

/* Each bad input must be refused naming this line and saying this. */
static const struct {
    const char *text;
    int line;
    const char *says;
} BAD[] = {
    {"bogus 1\n", 1, "unknown keyword 'bogus'"},
    {"version 2\n", 1, "only version 1"},
    {"timezone Europe/Berlin\n", 1, "fixed offset"},
    {"timezone +15:00\n", 1, "fixed offset"},
    {"\n\nipv6_prefix 8\n", 3, "16 to 128"},
    {"queue 10\n", 1, "64 to 1048576"},
    {"queue 0100\n", 1, "64 to 1048576"},
    {"aggregate 0s\n", 1, "aggregate DURATION"},
    {"aggregate 400d\n", 1, "aggregate DURATION"},
    {"aggregate 5x\n", 1, "aggregate DURATION"},
    {"allow 10.0.0.1/8\n", 1, "bits set after the prefix (the network is 10.0.0.0/8)"},
    {"allow 10.0.0.0/33\n", 1, "over 32"},
    {"allow ::/129\n", 1, "over 128"},
    {"allow 300.1.1.1\n", 1, "not an IP address"},
    {"allow 10.0.0.0/\n", 1, "bad prefix length"},
    {"allow 10.0.0.0/08\n", 1, "bad prefix length"},
    {"allow 10.0.0.0/8,,10.1.0.0/16\n", 1, "empty item"},
    {"deny\n", 1, "deny needs a value"},
    {"default deny\n", 1, "empty allow list"},
    {"default maybe\n", 1, "default allow | default deny"},
    {"limit address 5/s\n", 1, "limit address RATE burst N"},
    {"limit address 5/d burst 3\n", 1, "limit address RATE burst N"},
    {"limit address 5/s burst 3\nlimit address 6/s burst 3\n", 2, "set twice"},
    {"limit connections 0\n", 1, "1 to 1000000"},
    {"limit sideways 1/s burst 1\n", 1, "unknown limit"},
    {"schedule default mon-fri 08:00-18:00\nschedule default sat 09:00-12:00\n", 2,
     "defined twice"},
    {"schedule x fri-mon 08:00-18:00\n", 1, "bad days"},
    {"schedule x mon 18:00-08:00\n", 1, "bad hours"},
    {"schedule x mon 08:00-24:01\n", 1, "bad hours"},
    {"schedule x mon 24:00-24:00\n", 1, "bad hours"},
    {"schedule x mon\n", 1, "schedule DEPARTMENT"},
    {"holiday 2026-02-30\n", 1, "bad date"},
    {"holiday 2026-03-10..2026-03-01\n", 1, "run forward"},
    {"holiday 26-01-01\n", 1, "bad date"},
    {"workday 2026-13-01\n", 1, "workday YYYY-MM-DD"},
    {"honeytoken cus-1\n", 1, "not a customer id"},
    {"notify webhook security http://example.com/x\n", 1, "https://"},
    {"notify webhook nobody https://example.com/x\n", 1, "unknown route"},
    {"notify email security smtp://m from a@b to\n", 1, "notify email ROUTE"},
    {"notify email security smtp://mail.example:25 from a@b to c@d plain-loopback\n", 1,
     "only for an smtp:// relay on loopback"},
    {"notify email security smtps://127.0.0.1:25 from a@b to c@d plain-loopback\n", 1,
     "only for an smtp:// relay on loopback"},
    {"notify syslog udp example.com:514\n", 1, "IP address"},
    {"notify syslog udp 127.0.0.1:0\n", 1, "HOST:PORT"},
    {"notify syslog unix dev/log\n", 1, "absolute socket path"},
    {"notify webhook security https://x.example/ min huge\n", 1, "min SEVERITY"},
    {"nftables inet filter s4\n", 1, "nftables FAMILY"},
    {"nftables inet filter s4 s6 path nft\n", 1, "absolute"},
    {"delivery retry 1s attempts 0\n", 1, "delivery retry"},
    {"end\n", 1, "without a rule"},
    {"rule\n", 1, "rule NAME"},
    {"rule a b\n", 1, "rule NAME"},
    {"rule bad/name\nend\n", 1, "rule NAME"},
    {"rule a\n detect reads\n threshold 5 within 1m\n", 1, "not closed with 'end'"},
    {"rule a\n detect reads\n threshold 5 within 1m\nrule b\n", 4, "not closed"},
    {"rule a\nend\n", 1, "no 'detect' line"},
    {"rule a\n detect nothing\nend\n", 2, "unknown detector"},
    {"rule a\n detect reads\nend\n", 3, "needs 'threshold N within DURATION'"},
    {"rule a\n detect reads\n threshold 5\nend\n", 3, "threshold N within DURATION"},
    {"rule a\n detect reads\n threshold 5 within 1m\n threshold 6 within 1m\nend\n", 4,
     "given twice"},
    {"rule a\n detect reads\n threshold -5 within 1m\nend\n", 3, "bad threshold"},
    {"rule a\n detect reads\n threshold 0 within 1m\nend\n", 3, "bad threshold"},
    {"rule a\n detect reads\n threshold 5 within forever\nend\n", 3, "bad duration"},
    {"rule a\n detect login_fail\n threshold 5KB within 1m\nend\n", 3, "a count, not a size"},
    {"rule a\n detect spraying\n threshold 5000 within 1m\nend\n", 3, "at most 4096"},
    {"rule a\n detect honeytoken\n threshold 2 within 1m\nend\n", 3,
     "threshold does not apply to detector honeytoken"},
    {"rule a\n detect reads\n ratio 3\n threshold 5 within 1m\nend\n", 3, "ratio does not apply"},
    {"rule a\n detect spraying\n per account\n threshold 5 within 1m\nend\n", 3,
     "cannot count per account"},
    {"rule a\n detect reads\n per nobody\nend\n", 3, "per must be"},
    {"rule a\n detect baseline\nend\n", 3, "exactly one of 'ratio R' or 'z Z'"},
    {"rule a\n detect baseline\n ratio 2\n z 3\nend\n", 5, "exactly one"},
    {"rule a\n detect baseline\n ratio 1\nend\n", 3, "ratio must be above 1"},
    {"rule a\n detect baseline\n alpha 1.5\n ratio 2\nend\n", 3, "alpha must be"},
    {"rule a\n detect baseline\n ratio 2\nend\nrule b\n detect baseline\n ratio 3\nend\n", 8,
     "only one baseline rule"},
    {"rule a\n detect new_address\n events reads\nend\n", 4, "logins or any"},
    {"rule a\n detect off_hours\n events weekends\nend\n", 3, "events are reads"},
    {"rule a\n detect scan\n count cookies\n threshold 1 within 1m\nend\n", 3, "count takes"},
    {"rule a\n detect reads\n threshold 1 within 1m\n severity apocalyptic\nend\n", 4,
     "severity is"},
    {"rule a\n detect reads\n threshold 1 within 1m\n respond alert, dance\nend\n", 4,
     "unknown response 'dance'"},
    {"rule a\n detect reads\n threshold 1 within 1m\n respond block\nend\n", 4, "needs a duration"},
    {"rule a\n detect reads\n threshold 1 within 1m\n respond revoke 5m\nend\n", 4,
     "takes no value"},
    {"rule a\n detect reads\n threshold 1 within 1m\n respond log, alert\nend\n", 4,
     "cannot be combined"},
    {"rule a\n detect reads\n threshold 1 within 1m\n respond block 1h, block 2h\nend\n", 4,
     "given twice"},
    {"rule a\n detect login_fail\n per address\n threshold 1 within 1m\n respond lock 1h\nend\n", 6,
     "needs 'per account'"},
    {"rule a\n detect stuffing\n threshold 3 within 1m\n respond block 1h\nend\n", 5,
     "block needs per address"},
    {"rule a\n detect reads\n threshold 1 within 1m\n route security, board\nend\n", 4,
     "routes are"},
    {"rule a\n detect reads\n threshold 1 within 1m\n roles sales, pirate\nend\n", 4,
     "unknown role 'pirate'"},
    {"rule a\n detect reads\n threshold 1 within 1m\n colour blue\nend\n", 4, "unknown key"},
    {"rule a\n detect reads\n threshold 1 within 1m\nend\nrule a\n detect reads\n"
     " threshold 1 within 1m\nend\n",
     5, "defined twice (first on line 1)"},
    {"rule a\n detect reads\n threshold 1 within 1m\nend extra\n", 4, "expected: end"},
    {"version 1\nversion 1\n", 2, "set twice"},
    {"queue 100\nversion 1\n", 2, "first line"},
    {"allow 10.0.0.0/8\x01\n", 1, "control character"},
    {"allow \xff\n", 1, "not UTF-8"},
    {"\n\nallow \xc0\x80\n", 3, "not UTF-8"},
};

TEST(t_bad_inputs)
{
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        guard_rules *r = (guard_rules *)0x1;
        err e = guard_rules_parse(slice_cstr(BAD[i].text), "t.rules", &r);
        char want[64];
        snprintf(want, sizeof want, "t.rules:%d: ", BAD[i].line);
        bool ok = e == ERR_INPUT && r == NULL && strncmp(err_message(), want, strlen(want)) == 0 &&
                  strstr(err_message(), BAD[i].says) != NULL;
        if (!ok) {
            printf("  case %zu (%s): got '%s', wanted line %d saying '%s'\n", i, BAD[i].text,
                   err_message(), BAD[i].line, BAD[i].says);
        }
        EXPECT(ok);
        if (e == ERR_OK) {
            guard_rules_free(r);
        }
    }
}

TEST(t_nul_byte_refused)
{
    static const char text[] = "version 1\nqueue 64\0\n";
    guard_rules *r = NULL;
    EXPECT_ERR(guard_rules_parse(slice_of(text, sizeof text - 1), "t.rules", &r), ERR_INPUT);
    EXPECT(r == NULL);
    EXPECT(strncmp(err_message(), "t.rules:2: ", 11) == 0);
}

TEST(t_load_missing_file)
{
    guard_rules *r = NULL;
    EXPECT_ERR(guard_rules_load("/nonexistent/guard.rules", &r), ERR_IO);
    EXPECT(r == NULL);
}

/* 2026-03-02 is a Monday. Times are Beijing time (+08:00). */
static int64_t at(const char *rfc3339)
{
    int64_t us = 0;
    if (clock_parse_rfc3339(rfc3339, &us) != ERR_OK) {
        printf("bad time %s\n", rfc3339);
    }
    return us;
}

TEST(t_schedules)
{
    guard_rules *r = parse("schedule default mon-fri 08:30-18:00\n"
                           "schedule sales mon-sat 08:00-12:00, mon-sat 13:00-21:00\n"
                           "holiday 2026-03-04\n"
                           "workday 2026-03-08\n");
    EXPECT(r != NULL);
    if (!r) {
        return;
    }
    EXPECT(!grules_off_hours(r, "it", at("2026-03-02T08:30:00+08:00")));
    EXPECT(grules_off_hours(r, "it", at("2026-03-02T08:29:59+08:00")));
    EXPECT(!grules_off_hours(r, "it", at("2026-03-02T17:59:59+08:00")));
    EXPECT(grules_off_hours(r, "it", at("2026-03-02T18:00:00+08:00")));
    /* 00:30 UTC on Monday is 08:30 in Beijing */
    EXPECT(!grules_off_hours(r, "it", at("2026-03-02T00:30:00Z")));
    EXPECT(grules_off_hours(r, "it", at("2026-03-07T10:00:00+08:00")));     /* Saturday */
    EXPECT(!grules_off_hours(r, "sales", at("2026-03-07T10:00:00+08:00"))); /* sales work it */
    EXPECT(grules_off_hours(r, "sales", at("2026-03-07T12:30:00+08:00")));  /* lunch */
    EXPECT(!grules_off_hours(r, "sales", at("2026-03-07T20:59:00+08:00")));
    EXPECT(grules_off_hours(r, "it", at("2026-03-04T10:00:00+08:00"))); /* holiday */
    EXPECT(grules_off_hours(r, "sales", at("2026-03-04T10:00:00+08:00")));
    EXPECT(!grules_off_hours(r, "it", at("2026-03-08T10:00:00+08:00"))); /* Sunday worked */
    EXPECT(grules_off_hours(r, "it", at("2026-03-09T08:00:00+08:00")));
    EXPECT_INT(grules_hour_of_week(grules_local_hour(r, at("2026-03-02T00:00:00+08:00"))), 0);
    EXPECT_INT(grules_hour_of_week(grules_local_hour(r, at("2026-03-08T23:59:00+08:00"))), 167);
    EXPECT_INT(grules_hour_of_week(grules_local_hour(r, at("2026-03-04T09:15:00+08:00"))),
               2 * 24 + 9);
    guard_rules_free(r);
    /* No schedule at all: never off hours. */
    r = parse("queue 64\n");
    EXPECT(r && !grules_off_hours(r, "x", at("2026-03-08T03:00:00+08:00")));
    guard_rules_free(r);
}

/* The whole of a file (at most max - 1 bytes) as a string; 0 when it cannot be read. */
static size_t read_text(const char *path, char *out, size_t max)
{
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) {
        return 0;
    }
    size_t n = fread(out, 1, max - 1, f);
    fclose(f);
    out[n] = '\0';
    return n;
}

TEST(t_builtin_rules_match_the_file)
{
    /* The rules compiled into the binary are etc/guard.rules, byte for byte. */
    static char text[1 << 16];
    EXPECT(read_text("etc/guard.rules", text, sizeof text) > 0);
    EXPECT_STR(GUARD_DEFAULT_RULES, text);
    guard_rules *r = NULL;
    EXPECT_OK(guard_rules_parse(slice_cstr(GUARD_DEFAULT_RULES), "built-in", &r));
    guard_rules_free(r);
}

/* A keyword is documented when the text shows it in code: `KW ...` or `KW` in prose, or
 * as the first word of a line in a fenced example. */
static bool documented(const char *doc, const char *kw)
{
    size_t n = strlen(kw);
    bool fenced = false;
    for (const char *l = doc; *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (len >= 3 && memcmp(l, "```", 3) == 0) {
            fenced = !fenced;
        } else if (fenced) {
            const char *w = l;
            while (w < l + len && *w == ' ') {
                w++;
            }
            if ((size_t)(l + len - w) >= n && memcmp(w, kw, n) == 0 &&
                (w + n == l + len || w[n] == ' ')) {
                return true;
            }
        }
        for (const char *q = l; q + n + 1 < l + len; q++) {
            if (q[0] == '`' && memcmp(q + 1, kw, n) == 0 && (q[n + 1] == ' ' || q[n + 1] == '`')) {
                return true;
            }
        }
        l = e ? e + 1 : l + len;
    }
    return false;
}

TEST(t_keywords_documented)
{
    static char doc[1 << 18];
    size_t n = read_text("docs/GUARD.md", doc, sizeof doc);
    EXPECT(n > 0 && n < sizeof doc - 1);
    EXPECT(RULES_NSTMTS >= 30);
    for (size_t i = 0; i < RULES_NSTMTS; i++) {
        if (!documented(doc, RULES_STMTS[i].keyword)) {
            printf("  keyword '%s' is not documented in docs/GUARD.md\n", RULES_STMTS[i].keyword);
            EXPECT(false);
        }
    }
    /* The check can fail: a keyword missing from a text is found missing. */
    EXPECT(documented("- `nftables FAMILY`\n", "nftables"));
    EXPECT(documented("```\nrule x\n  detect reads\nend\n```\n", "detect"));
    EXPECT(!documented("- `nftables FAMILY`\n", "notify"));
    EXPECT(!documented("detect reads outside a code block\n", "detect"));
    EXPECT(!documented("```\nrule x\n  detector reads\n```\n", "detect"));
}

int main(void)
{
    test_init();
    RUN(t_shipped_rules);
    RUN(t_builtin_rules_match_the_file);
    RUN(t_settings_and_defaults);
    RUN(t_respond_log_only);
    RUN(t_bad_inputs);
    RUN(t_nul_byte_refused);
    RUN(t_load_missing_file);
    RUN(t_schedules);
    RUN(t_keywords_documented);
    return test_done("guard_rules_test");
}
