/*
 * door_test.c - the one door in process: every call is audited exactly once,
 * denials included; when the audit log cannot write, nothing is disclosed or
 * written; sessions, erasure and data-key rotation.
 */
#include <limits.h>

#include "access/totp.h"
#include "core/clock.h"
#include "door/door_int.h" /* white-box: the vault's insides */
#include "test.h"

static vault *V;
static char dir[600];
static actor ST, SA, AD;

static uint64_t entries(void)
{
    uint64_t n = 0;
    if (audit_size(V->au, &n) != ERR_OK) {
        return 0;
    }
    return n;
}

static void mk_actor(actor *a, const char *user, role r, const char *dept)
{
    memset(a, 0, sizeof *a);
    snprintf(a->username, sizeof a->username, "%s", user);
    snprintf(a->department, sizeof a->department, "%s", dept);
    snprintf(a->source, sizeof a->source, "127.0.0.1");
    snprintf(a->request_id, sizeof a->request_id, "t");
    a->role = r;
    a->training_until_us = clock_now_us() + (int64_t)86400 * 1000000;
}

TEST(t_setup)
{
    char *d = test_tmpdir("door");
    snprintf(dir, sizeof dir, "%s/vault", d);
    char key[700];
    snprintf(key, sizeof key, "%s/key", d);
    free(d);
    EXPECT_OK(key_file_generate(key));
    vault_key src = {NULL, 0, key};
    vault_init_opts o = {&src, VAULT_KDF_FAST, NULL, NULL};
    EXPECT_OK(vault_init(dir, &o));
    EXPECT_ERR(vault_init(dir, &o), ERR_CONFLICT);
    EXPECT_OK(vault_open(dir, &src, &V));
    mk_actor(&ST, "steward1", ROLE_DATA_STEWARD, "beijing");
    mk_actor(&SA, "sales2", ROLE_SALES, "shanghai");
    mk_actor(&AD, "admin", ROLE_ADMIN, "it");
}

static char id1[ID_LEN + 1];

TEST(t_each_call_one_entry)
{
    record r;
    record_init(&r, REC_CUSTOMER);
    EXPECT_OK(record_set(&r, CF_NAME, "王小明", strlen("王小明")));
    EXPECT_OK(record_set(&r, CF_PHONE, "13812345678", 11));
    uint64_t n0 = entries();
    EXPECT_OK(door_customer_create(V, &ST, &r, id1));
    EXPECT_INT(entries(), n0 + 1);
    json_t *out = NULL;
    EXPECT_OK(door_customer_get(V, &ST, id1, &out));
    EXPECT_STR(json_string_value(json_object_get(out, "phone")), "13812345678");
    json_decref(out);
    out = NULL;
    EXPECT_INT(entries(), n0 + 2);
    /* denials are audited too, and leak nothing */
    EXPECT_ERR(door_customer_get(V, &AD, id1, &out), ERR_DENIED);
    EXPECT(out == NULL);
    EXPECT_ERR(door_customer_get(V, &SA, id1, &out), ERR_NOT_FOUND); /* other department */
    EXPECT(out == NULL);
    EXPECT_ERR(door_customer_get(V, &ST, "cus_doesnotexistaaaaaaaaaaaaa", &out), ERR_NOT_FOUND);
    char other[ID_LEN + 1];
    EXPECT_ERR(door_customer_create(V, &SA, &r, other), ERR_DENIED);
    EXPECT_INT(entries(), n0 + 6);
    record_free(&r);
}

TEST(t_fail_closed)
{
    /* With the audit log failing, no customer field leaves and nothing is written. */
    audit_fail_next(V->au, 1);
    json_t *out = NULL;
    EXPECT_ERR(door_customer_get(V, &ST, id1, &out), ERR_UNAVAILABLE);
    EXPECT(out == NULL);
    EXPECT_ERR(door_customer_search(V, &ST, BI_PHONE, "13812345678", NULL, 10, &out),
               ERR_UNAVAILABLE);
    EXPECT(out == NULL);
    record r;
    record_init(&r, REC_CUSTOMER);
    EXPECT_OK(record_set(&r, CF_NAME, "李四", strlen("李四")));
    char id[ID_LEN + 1];
    int64_t before = 0, after = 0;
    EXPECT_OK(store_customer_count(V->st, &before));
    EXPECT_ERR(door_customer_create(V, &ST, &r, id), ERR_UNAVAILABLE);
    EXPECT_OK(store_customer_count(V->st, &after));
    EXPECT_INT(after, before);
    EXPECT_ERR(door_customer_erase(V, &ST, id1, "x"), ERR_UNAVAILABLE);
    audit_fail_next(V->au, 0);
    EXPECT_OK(door_customer_get(V, &ST, id1, &out));
    json_decref(out);
    record_free(&r);
}

static err login(const char *user, const char *pw, const char *otp, login_result *res)
{
    login_request rq = {
        .username = user, .password = pw, .otp = otp, .source = "127.0.0.1", .request_id = "r"};
    return door_login(V, &rq, res);
}

/* The base32 secret out of an otpauth:// URI. */
static void secret_of(const char *uri, char *out, size_t max)
{
    const char *p = strstr(uri, "secret=");
    size_t n = 0;
    for (p += 7; *p && *p != '&' && n + 1 < max; p++) {
        out[n++] = *p;
    }
    out[n] = '\0';
}

TEST(t_sessions)
{
    EXPECT_OK(door_account_create(V, &AD, "steward1", "a long enough password", ROLE_DATA_STEWARD,
                                  "beijing"));
    EXPECT_ERR(door_account_create(V, &AD, "steward1", "a long enough password", ROLE_DATA_STEWARD,
                                   "beijing"),
               ERR_CONFLICT);
    EXPECT_ERR(door_account_create(V, &AD, "x y", "a long enough password", ROLE_SALES, "b"),
               ERR_INPUT);
    EXPECT_ERR(door_account_create(V, &AD, "short", "short", ROLE_SALES, "beijing"), ERR_INPUT);
    login_result res;
    EXPECT_ERR(login("steward1", "wrong password!!", NULL, &res), ERR_AUTH);
    EXPECT_ERR(login("nobody", "wrong password!!", NULL, &res), ERR_AUTH);
    EXPECT_OK(login("steward1", "a long enough password", NULL, &res));
    /* A steward reads customers: the second factor is due; the session can only enrol. */
    EXPECT(res.mfa_pending && res.enrol);
    actor a;
    EXPECT_OK(door_authenticate(V, res.token, "127.0.0.1", "r2", &a));
    EXPECT_STR(a.username, "steward1");
    EXPECT_INT(a.role, ROLE_DATA_STEWARD);
    EXPECT(a.session_flags & SESSION_MFA_PENDING);
    json_t *out = NULL;
    EXPECT_ERR(door_customer_get(V, &a, "cus_aaaaaaaaaaaaaaaaaaaaaaaaaa", &out), ERR_AUTH);
    json_t *en = NULL;
    EXPECT_OK(door_totp_enrol(V, &a, &en));
    char b32[64];
    secret_of(json_string_value(json_object_get(en, "otpauth_uri")), b32, sizeof b32);
    json_decref(en);
    char code[8];
    EXPECT_OK(totp_code_base32(b32, clock_now_us() / 1000000, code));
    json_t *conf = NULL;
    EXPECT_ERR(door_totp_confirm(V, &a, res.token, "000000", &conf), ERR_AUTH);
    EXPECT_OK(door_totp_confirm(V, &a, res.token, code, &conf));
    EXPECT_INT(json_array_size(json_object_get(conf, "recovery_codes")), RECOVERY_CODES);
    char recovery[RECOVERY_TEXT_MAX];
    snprintf(recovery, sizeof recovery, "%s",
             json_string_value(json_array_get(json_object_get(conf, "recovery_codes"), 0)));
    json_decref(conf);
    EXPECT_OK(door_authenticate(V, res.token, "127.0.0.1", "r2", &a));
    EXPECT(!(a.session_flags & SESSION_MFA_PENDING));
    /* Next login: the code is required, and the same code cannot be used twice. */
    EXPECT_ERR(login("steward1", "a long enough password", NULL, &res), ERR_AUTH);
    EXPECT_STR(err_message(), "second factor required");
    EXPECT_ERR(login("steward1", "a long enough password", code, &res), ERR_AUTH); /* replay */
    login_request rq = {.username = "steward1",
                        .password = "a long enough password",
                        .recovery = recovery,
                        .source = "127.0.0.1",
                        .request_id = "r"};
    EXPECT_OK(door_login(V, &rq, &res));
    EXPECT(!res.mfa_pending);
    EXPECT_ERR(door_login(V, &rq, &res), ERR_AUTH); /* a recovery code works once */
    EXPECT_ERR(door_authenticate(V, "cst_madeup", "127.0.0.1", "r3", &a), ERR_AUTH);
    EXPECT_ERR(door_authenticate(V, "", "127.0.0.1", "r3", &a), ERR_AUTH);
}

static err login_at(const char *user, const char *pw, const char *source, login_result *res)
{
    login_request rq = {.username = user, .password = pw, .source = source, .request_id = "r"};
    return door_login(V, &rq, res);
}

TEST(t_login_pairs_and_throttle)
{
    EXPECT_OK(door_account_create(V, &AD, "pairs1", "celadon-Longquan-77", ROLE_AUDITOR, "audit"));
    login_result res, keep;
    EXPECT_OK(login_at("pairs1", "celadon-Longquan-77", "10.0.0.1", &keep)); /* familiar */
    actor a;
    for (int i = 0; i < 5; i++) {
        EXPECT_ERR(login_at("pairs1", "wrong-password-000", "10.0.0.2", &res), ERR_AUTH);
    }
    /* that address is locked out of pairs1; nothing else is */
    EXPECT_ERR(login_at("pairs1", "celadon-Longquan-77", "10.0.0.2", &res), ERR_AUTH);
    EXPECT_OK(door_authenticate(V, keep.token, "10.0.0.1", "r", &a));
    EXPECT_OK(login_at("pairs1", "celadon-Longquan-77", "10.0.0.1", &res));
    EXPECT_OK(login_at("pairs1", "celadon-Longquan-77", "10.0.0.3", &res));
    account acc;
    EXPECT_OK(store_account_by_name(V->st, "pairs1", &acc));
    EXPECT(acc.locked_until_us == 0); /* the account itself is never locked by failures */
    /* 10 attempts from unfamiliar addresses, 5 spent: 5 more are checked, then 429 */
    for (int i = 0; i < 5; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.1.%d", i + 1);
        EXPECT_ERR(login_at("pairs1", "wrong-password-000", ip, &res), ERR_AUTH);
    }
    EXPECT_ERR(login_at("pairs1", "celadon-Longquan-77", "10.0.1.99", &res), ERR_RATE);
    EXPECT(res.retry_after_s >= 1 && res.retry_after_s <= 120);
    /* unknown names are throttled the same way (the answers do not tell them apart) */
    for (int i = 0; i < 10; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.2.%d", i + 1);
        EXPECT_ERR(login_at("nobody-here", "wrong-password-000", ip, &res), ERR_AUTH);
    }
    EXPECT_ERR(login_at("nobody-here", "wrong-password-000", "10.0.2.99", &res), ERR_RATE);
    /* the familiar addresses (10.0.0.1, and 10.0.0.3 since its sign-in) are not throttled */
    EXPECT_OK(login_at("pairs1", "celadon-Longquan-77", "10.0.0.1", &res));
    EXPECT_OK(login_at("pairs1", "celadon-Longquan-77", "10.0.0.3", &res));
    EXPECT_OK(door_authenticate(V, keep.token, "10.0.0.1", "r", &a));
}

TEST(t_own_password_change)
{
    EXPECT_OK(
        door_account_create(V, &AD, "pwchg1", "porcelain-Jingdezhen-8", ROLE_AUDITOR, "audit"));
    login_result one, two, res;
    EXPECT_OK(login_at("pwchg1", "porcelain-Jingdezhen-8", "10.1.0.1", &one));
    EXPECT_OK(login_at("pwchg1", "porcelain-Jingdezhen-8", "10.1.0.1", &two));
    actor a, b;
    EXPECT_OK(door_authenticate(V, one.token, "10.1.0.9", "r", &a)); /* used from elsewhere */
    /* a wrong old password is a guess like a login's: five lock the address out */
    for (int i = 0; i < 5; i++) {
        EXPECT_ERR(door_password_change(V, &a, "not-the-password-1", "lacquer-Fuzhou-2026"),
                   ERR_AUTH);
    }
    EXPECT_ERR(door_password_change(V, &a, "porcelain-Jingdezhen-8", "lacquer-Fuzhou-2026"),
               ERR_AUTH);
    /* from the owner's address it works, and every session of the account ends */
    EXPECT_OK(door_authenticate(V, one.token, "10.1.0.1", "r", &a));
    EXPECT_OK(door_password_change(V, &a, "porcelain-Jingdezhen-8", "lacquer-Fuzhou-2026"));
    EXPECT_ERR(door_authenticate(V, two.token, "10.1.0.1", "r", &b), ERR_AUTH);
    EXPECT_ERR(door_authenticate(V, one.token, "10.1.0.1", "r", &b), ERR_AUTH);
    EXPECT_OK(login_at("pwchg1", "lacquer-Fuzhou-2026", "10.1.0.1", &res));
}

TEST(t_mask_coherent)
{
    /* Where the ID number is masked, the birth date (its digits 7-14) is masked with it. */
    record r;
    record_init(&r, REC_CUSTOMER);
    EXPECT_OK(record_set(&r, CF_NAME, "李建国", strlen("李建国")));
    EXPECT_OK(record_set(&r, CF_ID_NUMBER, "110101199003071233", 18));
    EXPECT_OK(record_set(&r, CF_BIRTH_DATE, "1990-03-07", 10));
    char id[ID_LEN + 1];
    EXPECT_OK(door_customer_create(V, &ST, &r, id));
    record_free(&r);
    actor cs;
    mk_actor(&cs, "service1", ROLE_CUSTOMER_SERVICE, "beijing");
    json_t *out = NULL;
    EXPECT_OK(door_customer_get(V, &cs, id, &out));
    EXPECT_STR(json_string_value(json_object_get(out, "id_number")), "1101**********1233");
    EXPECT_STR(json_string_value(json_object_get(out, "birth_date")), "***");
    json_decref(out);
    out = NULL;
    EXPECT_OK(door_customer_get(V, &ST, id, &out)); /* the steward sees both whole */
    EXPECT_STR(json_string_value(json_object_get(out, "id_number")), "110101199003071233");
    EXPECT_STR(json_string_value(json_object_get(out, "birth_date")), "1990-03-07");
    json_decref(out);
    /* the model says which field gives which mask away */
    EXPECT_INT(model_reveals(REC_CUSTOMER, CF_BIRTH_DATE), CF_ID_NUMBER);
    EXPECT_INT(model_reveals(REC_CUSTOMER, CF_PHONE), -1);
}

TEST(t_rehash_on_login)
{
    /* An account hashed under other Argon2id parameters is rehashed at its next login. */
    password_set_fast(false);
    EXPECT_OK(
        door_account_create(V, &AD, "rehash1", "jade-cong-Liangzhu-3", ROLE_AUDITOR, "audit"));
    password_set_fast(true);
    account before, after;
    EXPECT_OK(store_account_by_name(V->st, "rehash1", &before));
    EXPECT(strstr(before.pwhash, "m=65536,") != NULL);
    login_result res;
    EXPECT_OK(login("rehash1", "jade-cong-Liangzhu-3", NULL, &res));
    EXPECT_OK(store_account_by_name(V->st, "rehash1", &after));
    EXPECT(strstr(after.pwhash, "m=8,") != NULL);
    EXPECT(strcmp(before.pwhash, after.pwhash) != 0);
    EXPECT_OK(login("rehash1", "jade-cong-Liangzhu-3", NULL, &res)); /* still the password */
}

TEST(t_password_policy)
{
    EXPECT_ERR(door_password_acceptable("amy", "short"), ERR_INPUT);
    EXPECT_ERR(door_password_acceptable("amy", "123456789012"), ERR_INPUT);
    EXPECT_ERR(door_password_acceptable("amy", "Password1234"), ERR_INPUT); /* word + digits */
    EXPECT_ERR(door_password_acceptable("amy", "!!Qwerty2024!!"), ERR_INPUT);
    EXPECT_ERR(door_password_acceptable("wangxiaoming", "wangxiaoming99"), ERR_INPUT);
    EXPECT_ERR(door_password_acceptable("amy", "aaaaaaaaaaaaaa"), ERR_INPUT);
    EXPECT_ERR(door_password_acceptable("amy", "abcdefghijklmn"), ERR_INPUT);
    EXPECT_ERR(door_password_acceptable("amy", "2024-11-29!!!!"), ERR_INPUT); /* no letters */
    EXPECT_OK(door_password_acceptable("amy", "correct horse battery staple"));
    EXPECT_OK(door_password_acceptable("amy", "jade-bowl-Ming-1421"));
}

TEST(t_totp_known_answer)
{
    /* RFC 6238 appendix B, SHA-1, secret "12345678901234567890", 8 digits -> the last 6. */
    const uint8_t *sec = (const uint8_t *)"12345678901234567890";
    char c[TOTP_DIGITS + 1];
    EXPECT_OK(totp_code(sec, 59 / 30, c));
    EXPECT_STR(c, "287082"); /* 94287082 */
    EXPECT_OK(totp_code(sec, 1111111109 / 30, c));
    EXPECT_STR(c, "081804"); /* 07081804 */
    EXPECT_OK(totp_code(sec, 2000000000 / 30, c));
    EXPECT_STR(c, "279037"); /* 69279037 */
    int64_t step = 0;
    /* +-1 step window, replay refused */
    EXPECT(totp_verify(sec, 1111111109 + 30, "081804", 0, &step));
    EXPECT_INT(step, 1111111109 / 30);
    EXPECT(!totp_verify(sec, 1111111109, "081804", step, &step));
    EXPECT(!totp_verify(sec, 1111111109 + 90, "081804", 0, &step));
    EXPECT(!totp_verify(sec, 1111111109, "08180", 0, &step));
}

TEST(t_rotate_and_erase)
{
    EXPECT_OK(door_customer_rotate_key(V, &ST, id1));
    json_t *out = NULL;
    EXPECT_OK(door_customer_get(V, &ST, id1, &out));
    EXPECT_STR(json_string_value(json_object_get(out, "name")), "王小明");
    json_decref(out);
    out = NULL;
    EXPECT_OK(door_customer_search(V, &ST, BI_PHONE, "+86 138 1234 5678", NULL, 10, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "customers")), 1);
    json_decref(out);
    out = NULL;
    uint32_t v = 0;
    size_t n = 0;
    EXPECT_OK(door_rotate_kek(V, &AD, &v, &n));
    EXPECT_INT(v, 2);
    EXPECT_INT(n, 1);
    uint32_t vers[4];
    EXPECT_INT(keyring_kek_versions(V->kr, vers, 4), 1);
    EXPECT_OK(door_customer_get(V, &ST, id1, &out));
    json_decref(out);
    out = NULL;
    EXPECT_OK(door_customer_erase(V, &ST, id1, "customer asked"));
    EXPECT_ERR(door_customer_get(V, &ST, id1, &out), ERR_NOT_FOUND);
    EXPECT_ERR(door_customer_erase(V, &ST, id1, "again"), ERR_NOT_FOUND);
    EXPECT_OK(door_customer_search(V, &ST, BI_PHONE, "13812345678", NULL, 10, &out));
    EXPECT_INT(json_array_size(json_object_get(out, "customers")), 0);
    json_decref(out);
}

int main(void)
{
    test_init();
    RUN(t_setup);
    RUN(t_each_call_one_entry);
    RUN(t_fail_closed);
    RUN(t_sessions);
    RUN(t_login_pairs_and_throttle);
    RUN(t_own_password_change);
    RUN(t_rehash_on_login);
    RUN(t_password_policy);
    RUN(t_totp_known_answer);
    RUN(t_rotate_and_erase);
    RUN(t_mask_coherent);
    vault_close(V);
    return test_done("door_test");
}
