/*
 * identity_unit_test.c - identity on its own, below the door: names and passwords,
 * sessions (issue, check, idle and absolute expiry, completion, revocation), API keys
 * (mint, check, revoke, rotate, scope), the second factor (TOTP with replay refused,
 * recovery codes used once, also by threads racing for the same code), hand-over codes
 * and the guess limits. A store and a keyring of its own, no vault, no door.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "identity/identity.h"
#include "test.h"

static identity ID;
static store *ST;
static keyring *KR;
static char *DIR_;

static void make_account(const char *name, role r, account *out)
{
    EXPECT_OK(identity_account_new(name, "a long enough password", r, "beijing", out));
    EXPECT_OK(identity_account_insert(&ID, out));
}

TEST(t_setup)
{
    password_set_fast(true);
    DIR_ = test_tmpdir("identity");
    char p[600], key[600];
    snprintf(key, sizeof key, "%s/key", DIR_);
    EXPECT_OK(key_file_generate(key));
    kek_source src = {NULL, 0, key};
    snprintf(p, sizeof p, "%s/keyring", DIR_);
    EXPECT_OK(keyring_create(p, &src, KDF_FAST));
    EXPECT_OK(keyring_open(p, &src, &KR));
    snprintf(p, sizeof p, "%s/custos.db", DIR_);
    EXPECT_OK(store_open(p, true, &ST));
    ID = (identity){.st = ST,
                    .kr = KR,
                    .scope = DIR_,
                    .session_ttl_us = (int64_t)3600 * 1000000,
                    .session_idle_us = (int64_t)600 * 1000000,
                    .lockout_after = 3,
                    .lockout_us = (int64_t)60 * 1000000,
                    .second_factor = IDENTITY_2FA_DOORS};
}

TEST(t_names_and_passwords)
{
    EXPECT(identity_name_ok("amy.li-2"));
    EXPECT(!identity_name_ok("A"));
    EXPECT(!identity_name_ok("x y"));
    EXPECT(!identity_name_ok("Amy"));
    EXPECT_ERR(identity_password_acceptable("amy", "Password1234"), ERR_INPUT);
    EXPECT_ERR(identity_password_acceptable("amy", "short"), ERR_INPUT);
    EXPECT_OK(identity_password_acceptable("amy", "jade-bowl-Ming-1421"));
    account a;
    EXPECT_ERR(identity_account_new("x y", "a long enough password", ROLE_SALES, "b", &a),
               ERR_INPUT);
    EXPECT_ERR(identity_account_new("amy", "a long enough password", ROLE_SALES, "Bad Dept", &a),
               ERR_INPUT);
    EXPECT_ERR(identity_account_new("amy", "amy", ROLE_SALES, "beijing", &a), ERR_INPUT);
    make_account("amy", ROLE_SALES, &a);
    account b;
    EXPECT_OK(identity_account_by_name(&ID, "amy", &b));
    EXPECT(identity_password_check(&b, "a long enough password"));
    EXPECT(!identity_password_check(&b, "a long enough passworD"));
    EXPECT(!identity_password_check(NULL, "a long enough password")); /* unknown name */
    identity_account_wipe(&b);
    EXPECT(b.pwhash[0] == '\0');
    EXPECT_ERR(identity_account_by_name(&ID, "nobody", &b), ERR_NOT_FOUND);
    char h[PASSWORD_HASH_MAX];
    EXPECT_OK(identity_unknown_password_hash(h));
    EXPECT(strncmp(h, "$argon2id$", 10) == 0);
    /* Who needs a second factor. */
    EXPECT(identity_needs_second_factor(&ID, ROLE_ADMIN));
    EXPECT(identity_needs_second_factor(&ID, ROLE_SALES)); /* reads customers */
    identity off = ID;
    off.second_factor = IDENTITY_2FA_OFF;
    EXPECT(!identity_needs_second_factor(&off, ROLE_ADMIN));
}

TEST(t_sessions)
{
    account a;
    make_account("sam", ROLE_SALES, &a);
    identity_session s;
    EXPECT_OK(
        identity_session_issue(&ID, a.id, IDENTITY_SESSION_COOKIE | IDENTITY_SESSION_PENDING, &s));
    EXPECT(strncmp(s.token, "cst_", 4) == 0);
    EXPECT(strlen(s.short_hash) == 16);
    char sh[17];
    identity_token_short(s.token, sh);
    EXPECT_STR(sh, s.short_hash);
    EXPECT(identity_csrf_ok(s.token, s.csrf));
    EXPECT(!identity_csrf_ok(s.token, "nope"));
    EXPECT(!identity_csrf_ok(s.token, NULL));
    identity_check st;
    account got;
    uint32_t flags = 0;
    EXPECT_OK(identity_session_check(&ID, s.token, &st, &got, &flags));
    EXPECT_INT(st, IDENTITY_LIVE);
    EXPECT_STR(got.id, a.id);
    EXPECT(got.pwhash[0] == '\0'); /* wiped */
    EXPECT_INT(flags, IDENTITY_SESSION_COOKIE | IDENTITY_SESSION_PENDING);
    EXPECT_OK(identity_session_complete(&ID, s.token));
    EXPECT_OK(identity_session_check(&ID, s.token, &st, &got, &flags));
    EXPECT_INT(flags, IDENTITY_SESSION_COOKIE);
    /* Unknown and made-up tokens. */
    EXPECT_OK(identity_session_check(&ID, "cst_madeup", &st, &got, &flags));
    EXPECT_INT(st, IDENTITY_UNKNOWN);
    /* A disabled account's session ends. */
    a.disabled = true;
    EXPECT_OK(identity_account_update(&ID, &a));
    EXPECT_OK(identity_session_check(&ID, s.token, &st, &got, &flags));
    EXPECT_INT(st, IDENTITY_ENDED);
    a.disabled = false;
    EXPECT_OK(identity_account_update(&ID, &a));
    /* Idle too long: ended and deleted (unknown afterwards). */
    identity idle = ID;
    idle.session_idle_us = 0;
    EXPECT_OK(identity_session_check(&idle, s.token, &st, &got, &flags));
    EXPECT_INT(st, IDENTITY_ENDED);
    EXPECT_OK(identity_session_check(&ID, s.token, &st, &got, &flags));
    EXPECT_INT(st, IDENTITY_UNKNOWN);
    /* The absolute limit. */
    identity brief = ID;
    brief.session_ttl_us = 0;
    EXPECT_OK(identity_session_issue(&brief, a.id, 0, &s));
    EXPECT_OK(identity_session_check(&ID, s.token, &st, &got, &flags));
    EXPECT_INT(st, IDENTITY_ENDED);
    /* End one, revoke all. */
    identity_session s1, s2;
    EXPECT_OK(identity_session_issue(&ID, a.id, 0, &s1));
    EXPECT_OK(identity_session_issue(&ID, a.id, 0, &s2));
    EXPECT_OK(identity_session_end(&ID, s1.token));
    EXPECT_OK(identity_session_check(&ID, s1.token, &st, &got, &flags));
    EXPECT_INT(st, IDENTITY_UNKNOWN);
    size_t n = 0;
    EXPECT_OK(identity_sessions_revoke(&ID, a.id, &n));
    EXPECT_INT(n, 1);
    EXPECT_OK(identity_session_check(&ID, s2.token, &st, &got, &flags));
    EXPECT_INT(st, IDENTITY_UNKNOWN);
}

TEST(t_apikeys)
{
    apikey k;
    memset(&k, 0, sizeof k);
    id_new(k.id, "key");
    snprintf(k.name, sizeof k.name, "till");
    snprintf(k.role, sizeof k.role, "sales");
    snprintf(k.department, sizeof k.department, "beijing");
    snprintf(k.scope, sizeof k.scope, "transactions:create");
    k.created_us = clock_now_us();
    char text[IDENTITY_TOKEN_MAX];
    identity_apikey_mint(&k, text);
    EXPECT(strncmp(text, "csk_", 4) == 0);
    EXPECT(strncmp(k.prefix, text, 12) == 0);
    EXPECT_OK(identity_apikey_insert(&ID, &k));
    apikey got;
    bool known = false;
    EXPECT_OK(identity_apikey_check(&ID, text, &got, &known));
    EXPECT(known);
    EXPECT_STR(got.id, k.id);
    EXPECT_ERR(identity_apikey_check(&ID, "csk_madeup", &got, &known), ERR_AUTH);
    EXPECT(!known);
    /* Rotation: the old text stops working, the new one works. */
    char text2[IDENTITY_TOKEN_MAX];
    identity_apikey_mint(&k, text2);
    EXPECT_OK(identity_apikey_update(&ID, &k));
    EXPECT_ERR(identity_apikey_check(&ID, text, &got, &known), ERR_AUTH);
    EXPECT_OK(identity_apikey_check(&ID, text2, &got, &known));
    /* Revoked: known, refused. */
    k.revoked_us = clock_now_us();
    EXPECT_OK(identity_apikey_update(&ID, &k));
    EXPECT_ERR(identity_apikey_check(&ID, text2, &got, &known), ERR_AUTH);
    EXPECT(known);
    /* Scopes. */
    uint16_t ops[CAT__COUNT + 1];
    EXPECT_OK(identity_scope_parse("transactions:read,create;customers:read", ops));
    EXPECT(ops[CAT_TRANSACTIONS] == ((1u << OP_READ) | (1u << OP_CREATE)));
    EXPECT(ops[CAT__COUNT] == (1u << OP_READ));
    EXPECT(ops[CAT_IDENTITY] == 0);
    EXPECT_ERR(identity_scope_parse("", ops), ERR_INPUT);
    EXPECT_ERR(identity_scope_parse("secrets:read", ops), ERR_INPUT);
    EXPECT_ERR(identity_scope_parse("transactions:steal", ops), ERR_INPUT);
    EXPECT_ERR(identity_scope_parse("transactions", ops), ERR_INPUT);
}

/* The base32 secret out of an otpauth:// URI. */
static void secret_of(const char *uri, char *out, size_t max)
{
    const char *p = strstr(uri, "secret=");
    size_t n = 0;
    if (p) {
        p += 7;
        while (p[n] && p[n] != '&' && n + 1 < max) {
            n++;
        }
        memcpy(out, p, n);
    }
    out[n] = '\0';
}

typedef struct race {
    const char *account_id;
    const char *code;
    bool ok;
} race;

static void *use_code(void *p)
{
    race *r = p;
    account a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", r->account_id);
    r->ok = identity_second_factor_ok(&ID, &a, NULL, r->code);
    return NULL;
}

TEST(t_second_factor)
{
    account a;
    make_account("tess", ROLE_ADMIN, &a);
    buf uri;
    buf_init(&uri, 4096);
    EXPECT_OK(identity_totp_enrol(&ID, &a, "Custos", &uri));
    EXPECT(strncmp(buf_cstr(&uri), "otpauth://totp/", 15) == 0);
    EXPECT(a.totp[0] && !a.totp_enabled);
    char b32[64], code[8];
    secret_of(buf_cstr(&uri), b32, sizeof b32);
    buf_free(&uri);
    EXPECT_OK(totp_code_base32(b32, clock_now_us() / 1000000, code));
    EXPECT(!identity_second_factor_ok(&ID, &a, "000000", NULL) || strcmp(code, "000000") == 0);
    EXPECT(identity_second_factor_ok(&ID, &a, code, NULL));
    EXPECT(a.totp_step > 0);
    EXPECT(!identity_second_factor_ok(&ID, &a, code, NULL)); /* replay */
    EXPECT(!identity_second_factor_ok(&ID, &a, NULL, NULL));
    /* Recovery codes: each works once, also when eight threads race for the same one. */
    char codes[RECOVERY_CODES][RECOVERY_TEXT_MAX];
    EXPECT_OK(identity_recovery_codes_new(&ID, &a, codes));
    EXPECT_INT(identity_recovery_left(&ID, &a), RECOVERY_CODES);
    EXPECT(identity_second_factor_ok(&ID, &a, NULL, codes[0]));
    EXPECT(!identity_second_factor_ok(&ID, &a, NULL, codes[0]));
    enum { N = 8 };
    pthread_t t[N];
    race r[N];
    for (int i = 0; i < N; i++) {
        r[i] = (race){a.id, codes[1], false};
        EXPECT(pthread_create(&t[i], NULL, use_code, &r[i]) == 0);
    }
    int wins = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        wins += r[i].ok;
    }
    EXPECT_INT(wins, 1);
    EXPECT_INT(identity_recovery_left(&ID, &a), RECOVERY_CODES - 2);
    /* Reset: no secret, no recovery codes. */
    EXPECT_OK(identity_second_factor_reset(&ID, &a));
    EXPECT(!a.totp[0] && !a.totp_enabled);
    EXPECT(!identity_second_factor_ok(&ID, &a, NULL, codes[2]));
    EXPECT_INT(identity_recovery_left(&ID, &a), 0);
    mem_wipe(codes, sizeof codes);
}

typedef struct toucher {
    const char *token;
    int live;
} toucher;

static void *check_and_complete(void *p)
{
    toucher *t = p;
    for (int i = 0; i < 20; i++) {
        identity_check st;
        account a;
        uint32_t flags;
        if (identity_session_check(&ID, t->token, &st, &a, &flags) == ERR_OK &&
            st == IDENTITY_LIVE) {
            t->live++;
        }
        IGNORE(identity_session_complete(&ID, t->token));
    }
    return NULL;
}

/* Many requests of one session at once (each checks it, touches its idle clock, completes its
 * second factor): the session stays live throughout and ends complete. */
TEST(t_session_concurrent)
{
    account a;
    make_account("cora", ROLE_SALES, &a);
    identity_session s;
    EXPECT_OK(identity_session_issue(&ID, a.id, IDENTITY_SESSION_PENDING, &s));
    enum { N = 6 };
    pthread_t t[N];
    toucher w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (toucher){s.token, 0};
        EXPECT(pthread_create(&t[i], NULL, check_and_complete, &w[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        EXPECT_INT(w[i].live, 20);
    }
    identity_check st;
    account got;
    uint32_t flags = 99;
    EXPECT_OK(identity_session_check(&ID, s.token, &st, &got, &flags));
    EXPECT_INT(st, IDENTITY_LIVE);
    EXPECT_INT(flags, 0);
}

TEST(t_handover_codes)
{
    char text[IDENTITY_TOKEN_MAX], hash[IDENTITY_CODE_HASH_HEX];
    identity_code_new(text, hash);
    EXPECT(strncmp(text, "cho_", 4) == 0);
    EXPECT(identity_code_matches(text, hash));
    char bad[IDENTITY_TOKEN_MAX];
    memcpy(bad, text, sizeof bad);
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    EXPECT(!identity_code_matches(bad, hash));
    EXPECT(!identity_code_matches(NULL, hash));
    EXPECT(!identity_code_matches(text, "00"));
}

TEST(t_logins)
{
    login_check c;
    identity_logins_check(&ID, "acc_x", "lena", "192.0.2.7", &c);
    EXPECT_INT(c.gate, LOGIN_GO);
    EXPECT(!c.familiar);
    EXPECT(!identity_logins_failed(&ID, "lena", &c));
    EXPECT(!identity_logins_failed(&ID, "lena", &c));
    EXPECT(identity_logins_failed(&ID, "lena", &c)); /* the third starts a lockout */
    identity_logins_check(&ID, "acc_x", "lena", "192.0.2.7", &c);
    EXPECT_INT(c.gate, LOGIN_LOCKED);
    EXPECT(c.retry_after_us > 0);
    /* Another address is not locked out. */
    login_check o;
    identity_logins_check(&ID, "acc_x", "lena", "192.0.2.8", &o);
    EXPECT_INT(o.gate, LOGIN_GO);
    /* An operator's unlock; the guard's lock of one pair. */
    identity_logins_forget(&ID, "lena");
    identity_logins_check(&ID, "acc_x", "lena", "192.0.2.7", &c);
    EXPECT_INT(c.gate, LOGIN_GO);
    identity_logins_lock(&ID, "lena", "192.0.2.9", clock_now_us() + 60000000);
    identity_logins_check(&ID, "acc_x", "lena", "192.0.2.9", &c);
    EXPECT_INT(c.gate, LOGIN_LOCKED);
    /* A success from an address makes it familiar. */
    identity_logins_check(&ID, "acc_x", "lena", "192.0.2.10", &c);
    identity_logins_succeeded(&ID, "acc_x", "lena", &c);
    identity_logins_check(&ID, "acc_x", "lena", "192.0.2.10", &c);
    EXPECT(c.familiar);
}

int main(void)
{
    test_init();
    RUN(t_setup);
    RUN(t_names_and_passwords);
    RUN(t_sessions);
    RUN(t_apikeys);
    RUN(t_second_factor);
    RUN(t_session_concurrent);
    RUN(t_handover_codes);
    RUN(t_logins);
    store_close(ST);
    keyring_free(KR);
    free(DIR_);
    return test_done("identity_unit_test");
}
