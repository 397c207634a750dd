/*
 * identity.c - accounts and their passwords: names, the password policy,
 * Argon2id hashing (with the same work for unknown names), the account rows,
 * and who must use a second factor.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "identity/identity.h"

bool identity_name_ok(const char *u)
{
    size_t n = strlen(u);
    if (n < 2 || n > USERNAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-')) {
            return false;
        }
    }
    return true;
}

/* ---- password policy ---- */

/* The most common passwords of 12 characters or more (breach corpora) and the words that
 * most common short passwords are built from; compared case-insensitively, and a password
 * that is one of the words followed or preceded by digits and symbols is refused too. */
static const char *const COMMON[] = {
    "123456789012",     "1234567890123",    "12345678901234", "123456789123",  "1234567890qwe",
    "qwertyuiop123",    "qwerty123456",     "1q2w3e4r5t6y",   "1qaz2wsx3edc",  "zaq12wsxcde3",
    "1qaz2wsx3edc4rfv", "qwertyuiopasdfgh", "asdfghjkl123",   "password1234",  "password123!",
    "passwordpassword", "iloveyou1234",     "a1b2c3d4e5f6",   "abcdefghijkl",  "abc123abc123",
    "qwerty123qwerty",  "welcome12345",     "letmein12345",   "000000000000",  "111111111111",
    "123123123123",     "123321123321",     "147258369147",   "987654321987",  "qazwsxedcrfv",
    "1234qwerasdf",     "asdf1234asdf",     "changeme1234",   "administrator", "superman1234",
    "football1234",     "baseball1234",     "princess1234",   "sunshine1234",  "trustno11234",
    "woaini1314520",    "5201314520",       "woaini123456",   "aini1314aini",
};
static const char *const WORDS[] = {
    "password", "passw0rd",      "p@ssw0rd", "qwerty",   "qwertyuiop", "letmein",  "welcome",
    "admin",    "administrator", "iloveyou", "woaini",   "monkey",     "dragon",   "sunshine",
    "princess", "football",      "baseball", "superman", "trustno1",   "changeme", "custos",
    "company",  "abc",           "asdf",     "zxcvbnm",  "1qaz2wsx",   "qazwsx",   "secret",
    "master",   "login",         "default",
};

static bool ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn) {
        return false;
    }
    for (size_t i = 0; i < an; i++) {
        char x = a[i], y = b[i];
        x = (char)(x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x);
        if (x != y) {
            return false;
        }
    }
    return true;
}

static bool filler(char c)
{
    return (c >= '0' && c <= '9') || c == '!' || c == '@' || c == '#' || c == '$' || c == '.' ||
           c == '_' || c == '-' || c == '*' || c == '?';
}

err identity_password_acceptable(const char *username, const char *pw)
{
    size_t n = strlen(pw);
    ENSURE(n >= 12, ERR_INPUT, "the password must be at least 12 characters long");
    ENSURE(n <= 1024, ERR_INPUT, "the password must be at most 1024 bytes long");
    for (size_t i = 0; i < sizeof COMMON / sizeof COMMON[0]; i++) {
        ENSURE(!ieq(pw, n, COMMON[i]), ERR_INPUT,
               "that password is one of the most common ones: choose another");
    }
    /* Strip digits and symbols on both ends; what is left must not be a common word. */
    size_t b = 0, e = n;
    while (b < e && filler(pw[b])) {
        b++;
    }
    while (e > b && filler(pw[e - 1])) {
        e--;
    }
    ENSURE(e > b, ERR_INPUT, "the password must not be only digits and symbols");
    for (size_t i = 0; i < sizeof WORDS / sizeof WORDS[0]; i++) {
        ENSURE(!ieq(pw + b, e - b, WORDS[i]), ERR_INPUT,
               "that password is a common word with digits or symbols: choose another");
    }
    if (username && username[0]) {
        ENSURE(!ieq(pw + b, e - b, username), ERR_INPUT, "the password must not be the username");
    }
    /* One character repeated, or a run like abcdef... */
    bool same = true, run = true;
    for (size_t i = 1; i < n; i++) {
        same = same && pw[i] == pw[0];
        run = run && pw[i] == pw[i - 1] + 1;
    }
    ENSURE(!same && !run, ERR_INPUT, "the password is too easy to guess");
    return ERR_OK;
}

err identity_password_hash(const char *pw, char out[PASSWORD_HASH_MAX])
{
    return password_hash(pw, strlen(pw), out);
}

/* A real Argon2id hash of a random password, made once, so that unknown usernames cost the
 * same verification work as known ones. */
static char dummy_hash_text[PASSWORD_HASH_MAX];

static void make_dummy(void)
{
    uint8_t r[16];
    char pw[HEX_LEN(16)];
    rand_bytes(r, sizeof r);
    hex_encode(pw, r, sizeof r);
    if (password_hash(pw, strlen(pw), dummy_hash_text) != ERR_OK) {
        dummy_hash_text[0] = '\0';
    }
}

static const char *dummy_hash(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_dummy);
    return dummy_hash_text;
}

bool identity_password_check(const account *acc, const char *pw)
{
    pw = pw ? pw : "";
    return password_verify(acc ? acc->pwhash : dummy_hash(), pw, strlen(pw));
}

bool identity_password_needs_rehash(const account *acc)
{
    return password_needs_rehash(acc->pwhash);
}

void identity_unknown_password(char out[64])
{
    uint8_t raw[24];
    rand_bytes(raw, sizeof raw);
    memcpy(out, "nx-", 3);
    b64url_encode(out + 3, 64 - 3, raw, sizeof raw);
    mem_wipe(raw, sizeof raw);
}

err identity_unknown_password_hash(char out[PASSWORD_HASH_MAX])
{
    uint8_t raw[32];
    char pw[64];
    rand_bytes(raw, sizeof raw);
    memcpy(pw, "nx-", 3);
    b64url_encode(pw + 3, sizeof pw - 3, raw, sizeof raw);
    mem_wipe(raw, sizeof raw);
    err e = password_hash(pw, strlen(pw), out);
    mem_wipe(pw, sizeof pw);
    return e;
}

/* ---- accounts ---- */

err identity_account_new(const char *username, const char *password, role r, const char *department,
                         account *out)
{
    memset(out, 0, sizeof *out);
    ENSURE(username && identity_name_ok(username), ERR_INPUT,
           "username must be 2-64 characters of a-z, 0-9, '_', '.', '-'");
    ENSURE(password, ERR_INPUT, "a password is required");
    TRY(identity_password_acceptable(username, password));
    ENSURE(department && identity_name_ok(department), ERR_INPUT, "department must be a token");
    id_new(out->id, "acc");
    snprintf(out->username, sizeof out->username, "%s", username);
    snprintf(out->role, sizeof out->role, "%s", role_name(r));
    snprintf(out->department, sizeof out->department, "%s", department);
    out->created_us = out->pw_changed_us = clock_now_us();
    return password_hash(password, strlen(password), out->pwhash);
}

err identity_account_insert(identity *id, const account *a)
{
    return store_account_insert(id->st, a);
}

err identity_account_update(identity *id, const account *a)
{
    return store_account_update(id->st, a);
}

err identity_account_by_name(identity *id, const char *username, account *out)
{
    memset(out, 0, sizeof *out);
    return store_account_by_name(id->st, username ? username : "", out);
}

err identity_account_by_id(identity *id, const char *account_id, account *out)
{
    memset(out, 0, sizeof *out);
    return store_account_by_id(id->st, account_id ? account_id : "", out);
}

err identity_account_list(identity *id, account *out, size_t max, size_t *n)
{
    return store_account_list(id->st, out, max, n);
}

void identity_account_wipe(account *a)
{
    mem_wipe(a->pwhash, sizeof a->pwhash);
}

int64_t identity_recovery_left(identity *id, const account *a)
{
    int64_t left = 0;
    if (store_recovery_left(id->st, a->id, &left) != ERR_OK) {
        return 0;
    }
    return left;
}

bool identity_needs_second_factor(const identity *id, role r)
{
    if (id->second_factor == IDENTITY_2FA_OFF) {
        return false;
    }
    if (id->second_factor == IDENTITY_2FA_ALL) {
        return true;
    }
    /* The roles that administer accounts, keys, policy, sanctions or training, and open
     * break-glass, hold the doors to customer data: a password alone is not enough. */
    static const capability DOORS[] = {
        CAP_ACCOUNTS_MANAGE, CAP_APIKEYS_MANAGE,   CAP_POLICY_MANAGE, CAP_GUARD_MANAGE,
        CAP_TRAINING_MANAGE, CAP_BREAK_GLASS_OPEN, CAP_KEYS_MANAGE};
    for (size_t i = 0; i < sizeof DOORS / sizeof DOORS[0]; i++) {
        if (policy_can(r, DOORS[i])) {
            return true;
        }
    }
    for (int t = 0; t < REC__COUNT; t++) {
        for (size_t f = 0; f < model_nfields((rectype)t); f++) {
            if (policy_read_in(r, (rectype)t, (int)f, true) != READ_NONE ||
                policy_read_in(r, (rectype)t, (int)f, false) != READ_NONE) {
                return true;
            }
        }
    }
    return false;
}
