/*
 * policy_test.c - the default policy as a matrix: every role x record type x
 * field x operation checked against the table of DESIGN §3, written out here a
 * second time, independently of policy.c and etc/policy.conf. Then the policy
 * file itself: every construct, field overrides, masking, department scope,
 * change requests, capabilities, training, explanations, the canonical form
 * and diffs, every parser error with its line, separation of duties, and
 * installation (atomic swaps, a failed parse changes nothing).
 *
 * Tests that install a policy of their own put the default back when done.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "access/policy.h"
#include "test.h"

/* Expected read level of each customer field per role (N none, M masked, F full). */
static const char *const EXPECT_READ[ROLE__COUNT] = {
    /*                     name id   bd   ph   em   ad   wc   pr   vip  dep  sp   mc   no */
    [ROLE_SALES] = "F"
                   "N"
                   "N"
                   "N"
                   "N"
                   "N"
                   "N"
                   "F"
                   "F"
                   "N"
                   "N"
                   "N"
                   "N",
    [ROLE_CUSTOMER_SERVICE] = "F"
                              "M"
                              "F"
                              "F"
                              "F"
                              "F"
                              "F"
                              "F"
                              "F"
                              "N"
                              "N"
                              "N"
                              "N",
    [ROLE_DATA_STEWARD] = "F"
                          "F"
                          "F"
                          "F"
                          "F"
                          "F"
                          "F"
                          "F"
                          "F"
                          "F"
                          "F"
                          "F"
                          "F",
    [ROLE_SECURITY] = "NNNNNNNNNNNNN",
    [ROLE_LEGAL] = "NNNNNNNNNNNNN",
    [ROLE_HR] = "NNNNNNNNNNNNN",
    [ROLE_AUDITOR] = "NNNNNNNNNNNNN",
    [ROLE_ADMIN] = "NNNNNNNNNNNNN",
};

TEST(t_field_reads)
{
    for (int r = 0; r < ROLE__COUNT; r++) {
        for (int f = 0; f < CF__COUNT; f++) {
            char want = EXPECT_READ[r][f];
            read_level got = policy_read((role)r, REC_CUSTOMER, f);
            char g = got == READ_FULL ? 'F' : got == READ_MASKED ? 'M' : 'N';
            if (g != want) {
                printf("  role %s field %s: got %c want %c\n", role_name((role)r),
                       model_field(REC_CUSTOMER, f)->name, g, want);
            }
            EXPECT(g == want);
        }
    }
}

TEST(t_field_writes)
{
    for (int r = 0; r < ROLE__COUNT; r++) {
        for (int f = 0; f < CF__COUNT; f++) {
            EXPECT(policy_write((role)r, REC_CUSTOMER, f) == (r == ROLE_DATA_STEWARD));
        }
        for (int f = 0; f < TF__COUNT; f++) {
            EXPECT(policy_write((role)r, REC_TRANSACTION, f) ==
                   (r == ROLE_DATA_STEWARD || r == ROLE_SALES));
        }
        for (int f = 0; f < MF__COUNT; f++) {
            EXPECT(policy_write((role)r, REC_COMMUNICATION, f) ==
                   (r == ROLE_DATA_STEWARD || r == ROLE_CUSTOMER_SERVICE));
        }
    }
}

TEST(t_record_ops)
{
    for (int r = 0; r < ROLE__COUNT; r++) {
        bool st = r == ROLE_DATA_STEWARD, sa = r == ROLE_SALES, cs = r == ROLE_CUSTOMER_SERVICE;
        const char *rule = NULL;
        EXPECT(policy_allows((role)r, REC_TRANSACTION, OP_READ, &rule) == (st || sa));
        EXPECT(policy_allows((role)r, REC_TRANSACTION, OP_CREATE, &rule) == (st || sa));
        EXPECT(policy_allows((role)r, REC_COMMUNICATION, OP_READ, &rule) == (st || cs));
        EXPECT(policy_allows((role)r, REC_COMMUNICATION, OP_CREATE, &rule) == (st || cs));
        EXPECT(policy_allows((role)r, REC_CUSTOMER, OP_READ, &rule) == (st || sa || cs));
        EXPECT(policy_allows((role)r, REC_CUSTOMER, OP_CREATE, &rule) == st);
        EXPECT(policy_allows((role)r, REC_CUSTOMER, OP_UPDATE, &rule) == st);
        EXPECT(policy_allows((role)r, REC_CUSTOMER, OP_ERASE, &rule) == st);
        EXPECT(policy_allows((role)r, REC_CUSTOMER, OP_IMPORT, &rule) == st);
        EXPECT(policy_allows((role)r, REC_CUSTOMER, OP_EXPORT, &rule) == st);
        EXPECT(rule != NULL);
        EXPECT(policy_own_department_only((role)r) == (st || sa));
    }
}

TEST(t_search)
{
    EXPECT(policy_search(ROLE_SALES, BI_NAME));
    EXPECT(!policy_search(ROLE_SALES, BI_PHONE));
    EXPECT(!policy_search(ROLE_SALES, BI_ID_NUMBER));
    EXPECT(policy_search(ROLE_CUSTOMER_SERVICE, BI_ID_NUMBER)); /* masked read still reads */
    EXPECT(policy_search(ROLE_CUSTOMER_SERVICE, BI_PHONE));
    EXPECT(!policy_search(ROLE_ADMIN, BI_NAME));
    EXPECT(!policy_search(ROLE_SALES, BI_NONE));
}

TEST(t_roles_parse)
{
    for (int r = 0; r < ROLE__COUNT; r++) {
        role got;
        EXPECT_OK(role_parse(role_name((role)r), &got));
        EXPECT_INT(got, r);
    }
    role x;
    EXPECT_ERR(role_parse("root", &x), ERR_INPUT);
    EXPECT_ERR(role_parse("", &x), ERR_INPUT);
    EXPECT(policy_read(ROLE__COUNT, REC_CUSTOMER, CF_NAME) == READ_NONE);
    EXPECT(!policy_allows((role)-1, REC_CUSTOMER, OP_READ, NULL));
}

/* ---- the policy file ---- */

#define V "version 1\n"

static policy *parse_ok(const char *text, const char *name)
{
    policy *p = NULL;
    err e = policy_parse(text, strlen(text), name, &p);
    if (e != ERR_OK) {
        printf("  parse of %s failed: %s\n", name, err_message());
    }
    return p;
}

static void install_text(const char *text, const char *name)
{
    policy *p = parse_ok(text, name);
    if (p) {
        policy_install(p);
    }
}

static void install_default(void)
{
    install_text(policy_default_text(), "policy.conf");
}

/* The line number of the first line of text that starts with prefix, 0 if none. */
static unsigned line_of(const char *text, const char *prefix)
{
    unsigned line = 1;
    size_t n = strlen(prefix);
    for (const char *l = text; *l; line++) {
        if (strncmp(l, prefix, n) == 0) {
            return line;
        }
        const char *nl = strchr(l, '\n');
        if (!nl) {
            break;
        }
        l = nl + 1;
    }
    return 0;
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *p = malloc(1 << 20);
    *n = p ? fread(p, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (p) {
        p[*n] = '\0';
    }
    return p;
}

TEST(t_embedded_is_etc)
{
    size_t n = 0;
    char *text = read_file("etc/policy.conf", &n);
    EXPECT(text != NULL);
    if (text) {
        EXPECT_INT(n, strlen(policy_default_text()));
        EXPECT(strcmp(text, policy_default_text()) == 0);
    }
    free(text);
    policy *p = NULL;
    EXPECT_OK(policy_load_file("etc/policy.conf", &p));
    EXPECT_STR(policy_source(p), "etc/policy.conf");
    size_t g = 0, c = 0;
    policy_stats(p, &g, &c);
    EXPECT_INT(g, 30);
    EXPECT_INT(c, 17);
    policy_free(p);
    EXPECT_ERR(policy_load_file("etc/no-such-policy.conf", &p), ERR_IO);
    EXPECT_ERR(policy_load_file("etc", &p), ERR_IO);
}

TEST(t_default_current)
{
    EXPECT_STR(policy_source(policy_current()), "policy.conf");
    const char *rule = NULL;
    const char *d = policy_default_text();
    char want[64];
    snprintf(want, sizeof want, "policy.conf:%u",
             line_of(d, "grant data_steward create, erase, import, export on customers"));
    EXPECT(policy_allows(ROLE_DATA_STEWARD, REC_CUSTOMER, OP_ERASE, &rule));
    EXPECT_STR(rule, want);
    snprintf(want, sizeof want, "policy.conf:%u", line_of(d, "grant sales read, create on"));
    EXPECT(policy_allows(ROLE_SALES, REC_TRANSACTION, OP_CREATE, &rule));
    EXPECT_STR(rule, want);
    EXPECT(!policy_allows(ROLE_ADMIN, REC_CUSTOMER, OP_READ, &rule));
    EXPECT_STR(rule, "default-deny");
    EXPECT(!policy_allows_in(ROLE_SALES, REC_TRANSACTION, OP_READ, false, &rule));
    EXPECT_STR(rule, "department-scope");
}

/* Capabilities of the default, per role. */
TEST(t_default_capabilities)
{
    static const char *const WANT[ROLE__COUNT] = {
        [ROLE_SALES] = "",
        [ROLE_CUSTOMER_SERVICE] = "",
        [ROLE_DATA_STEWARD] = " requests.approve exports.approve ",
        [ROLE_SECURITY] = (" policy.manage audit.read break_glass.open break_glass.review "
                           "violations.read guard.manage keys.manage honeytokens.manage "),
        [ROLE_LEGAL] = " audit.read ",
        [ROLE_HR] = " training.manage violations.read ",
        [ROLE_AUDITOR] = " audit.read break_glass.review ",
        [ROLE_ADMIN] = " accounts.manage apikeys.manage ",
    };
    for (int r = 0; r < ROLE__COUNT; r++) {
        for (int c = 0; c < CAP__COUNT; c++) {
            char key[64];
            snprintf(key, sizeof key, " %s ", cap_name((capability)c));
            bool want = strstr(WANT[r], key) != NULL;
            if (policy_can((role)r, (capability)c) != want) {
                printf("  role %s capability %s: want %d\n", role_name((role)r), key, want);
            }
            EXPECT(policy_can((role)r, (capability)c) == want);
        }
    }
    for (int c = 0; c < CAP__COUNT; c++) {
        capability got;
        EXPECT_OK(cap_parse(cap_name((capability)c), &got));
        EXPECT_INT(got, c);
    }
    capability x;
    EXPECT_ERR(cap_parse("audit.write", &x), ERR_INPUT);
    EXPECT_ERR(cap_parse(NULL, &x), ERR_INPUT);
    EXPECT_STR(cap_name(CAP__COUNT), "none");
    EXPECT(!policy_can(ROLE__COUNT, CAP_AUDIT_READ));
    EXPECT(!policy_can(ROLE_SECURITY, CAP__COUNT));
}

TEST(t_default_training_and_scope)
{
    for (int r = 0; r < ROLE__COUNT; r++) {
        bool contents = r == ROLE_SALES || r == ROLE_CUSTOMER_SERVICE || r == ROLE_DATA_STEWARD;
        EXPECT(policy_needs_training((role)r) == contents);
    }
    EXPECT(!policy_needs_training(ROLE__COUNT));
    /* Sales and stewards: own department only; customer service: any department. */
    EXPECT_INT(policy_read_in(ROLE_SALES, REC_CUSTOMER, CF_PREFERENCES, false), READ_NONE);
    EXPECT_INT(policy_read_in(ROLE_SALES, REC_CUSTOMER, CF_NAME, false), READ_NONE);
    EXPECT_INT(policy_read_in(ROLE_SALES, REC_TRANSACTION, TF_PRICE, false), READ_NONE);
    EXPECT_INT(policy_read_in(ROLE_DATA_STEWARD, REC_CUSTOMER, CF_NOTES, false), READ_NONE);
    EXPECT_INT(policy_write_in(ROLE_DATA_STEWARD, REC_CUSTOMER, CF_NAME, false), WRITE_NONE);
    EXPECT_INT(policy_read_in(ROLE_CUSTOMER_SERVICE, REC_CUSTOMER, CF_PHONE, false), READ_FULL);
    EXPECT_INT(policy_read_in(ROLE_CUSTOMER_SERVICE, REC_CUSTOMER, CF_ID_NUMBER, false),
               READ_MASKED);
    EXPECT(policy_allows_in(ROLE_CUSTOMER_SERVICE, REC_COMMUNICATION, OP_CREATE, false, NULL));
    EXPECT(!policy_allows_in(ROLE_DATA_STEWARD, REC_CUSTOMER, OP_EXPORT, false, NULL));
    EXPECT(policy_allows_in(ROLE_DATA_STEWARD, REC_CUSTOMER, OP_EXPORT, true, NULL));
    /* Every decision of the old functions is the same-department one. */
    for (int r = 0; r < ROLE__COUNT; r++) {
        for (int t = 0; t < REC__COUNT; t++) {
            for (int f = 0; f < (int)model_nfields((rectype)t); f++) {
                EXPECT(policy_read((role)r, (rectype)t, f) ==
                       policy_read_in((role)r, (rectype)t, f, true));
                EXPECT(policy_write((role)r, (rectype)t, f) ==
                       (policy_write_in((role)r, (rectype)t, f, true) == WRITE_DIRECT));
            }
            for (int o = 0; o < OP__COUNT; o++) {
                const char *a = NULL, *b = NULL;
                EXPECT(policy_allows((role)r, (rectype)t, (op)o, &a) ==
                       policy_allows_in((role)r, (rectype)t, (op)o, true, &b));
                EXPECT(a == b);
            }
        }
    }
}

/* Customer service: changes to identity and contact become change requests. */
TEST(t_default_requests)
{
    for (int f = 0; f < CF__COUNT; f++) {
        category c = model_field(REC_CUSTOMER, f)->cat;
        write_level want = (c == CAT_IDENTITY || c == CAT_CONTACT) ? WRITE_REQUEST : WRITE_NONE;
        EXPECT_INT(policy_write_in(ROLE_CUSTOMER_SERVICE, REC_CUSTOMER, f, true), want);
        EXPECT_INT(policy_write_in(ROLE_CUSTOMER_SERVICE, REC_CUSTOMER, f, false), want);
        EXPECT_INT(policy_write_in(ROLE_DATA_STEWARD, REC_CUSTOMER, f, true), WRITE_DIRECT);
        EXPECT_INT(policy_write_in(ROLE_SALES, REC_CUSTOMER, f, true), WRITE_NONE);
        EXPECT_INT(policy_write_in(ROLE_ADMIN, REC_CUSTOMER, f, true), WRITE_NONE);
    }
    EXPECT(!policy_allows(ROLE_CUSTOMER_SERVICE, REC_CUSTOMER, OP_UPDATE, NULL));
    /* Who creates a communication fills its fields. */
    EXPECT_INT(policy_write_in(ROLE_CUSTOMER_SERVICE, REC_COMMUNICATION, MF_SUMMARY, false),
               WRITE_DIRECT);
    EXPECT_INT(policy_write_in(ROLE_SALES, REC_TRANSACTION, TF_PRICE, true), WRITE_DIRECT);
    EXPECT_INT(policy_write_in(ROLE_SALES, REC_TRANSACTION, TF_PRICE, false), WRITE_NONE);
    EXPECT_INT(policy_write_in(ROLE_SALES, REC_TRANSACTION, -1, true), WRITE_NONE);
    EXPECT_INT(policy_write_in(ROLE_SALES, REC_TRANSACTION, TF__COUNT, true), WRITE_NONE);
    EXPECT_INT(policy_read_in(ROLE_SALES, REC__COUNT, 0, true), READ_NONE);
}

/* Every construct of the format, installed and asked through the decision functions. */
static const char CONSTRUCTS[] =
    "version 1   # the format\n"
    "# a comment line\n"
    "\n"
    "grant sales, customer_service read on preferences, identity.name own-department\n"
    "grant customer_service read, request on contact training\r\n"
    "\tgrant customer_service read on contact.phone masked\n"
    "deny customer_service read, request on contact.wechat\n"
    "grant data_steward read,write on identity , contact\n"
    "grant data_steward request on identity.id_number\n"
    "grant data_steward create, erase on customers\n"
    "grant data_steward read, create on transactions\n"
    "grant hr read on internal.department\n"
    "allow-customer-contents hr\n"
    "require own-department for data_steward\n"
    "require training for sales, data_steward\n"
    "grant security audit.read, keys.manage\n"
    "grant auditor audit.read";

TEST(t_constructs)
{
    const policy *before = policy_current();
    install_text(CONSTRUCTS, "t.conf");
    const policy *p = policy_current();
    EXPECT(p != before);
    EXPECT_STR(policy_source(p), "t.conf");
    size_t g = 0, c = 0;
    policy_stats(p, &g, &c);
    EXPECT_INT(g, 17);
    EXPECT_INT(c, 3);
    /* sales: own department (on the line), training (require) */
    EXPECT_INT(policy_read_in(ROLE_SALES, REC_CUSTOMER, CF_PREFERENCES, true), READ_FULL);
    EXPECT_INT(policy_read_in(ROLE_SALES, REC_CUSTOMER, CF_PREFERENCES, false), READ_NONE);
    EXPECT_INT(policy_read_in(ROLE_SALES, REC_CUSTOMER, CF_NAME, true), READ_FULL);
    EXPECT_INT(policy_read_in(ROLE_SALES, REC_CUSTOMER, CF_VIP_LEVEL, true), READ_FULL);
    EXPECT_INT(policy_read_in(ROLE_SALES, REC_CUSTOMER, CF_ID_NUMBER, true), READ_NONE);
    EXPECT(policy_needs_training(ROLE_SALES));
    EXPECT(policy_own_department_only(ROLE_SALES));
    /* customer service: field overrides, masked, deny, requests; mixed scope */
    EXPECT_INT(policy_read_in(ROLE_CUSTOMER_SERVICE, REC_CUSTOMER, CF_EMAIL, false), READ_FULL);
    EXPECT_INT(policy_read_in(ROLE_CUSTOMER_SERVICE, REC_CUSTOMER, CF_PHONE, false), READ_MASKED);
    EXPECT_INT(policy_read_in(ROLE_CUSTOMER_SERVICE, REC_CUSTOMER, CF_WECHAT, true), READ_NONE);
    EXPECT_INT(policy_write_in(ROLE_CUSTOMER_SERVICE, REC_CUSTOMER, CF_EMAIL, false),
               WRITE_REQUEST);
    EXPECT_INT(policy_write_in(ROLE_CUSTOMER_SERVICE, REC_CUSTOMER, CF_PHONE, true), WRITE_REQUEST);
    EXPECT_INT(policy_write_in(ROLE_CUSTOMER_SERVICE, REC_CUSTOMER, CF_WECHAT, true), WRITE_NONE);
    EXPECT_INT(policy_read_in(ROLE_CUSTOMER_SERVICE, REC_CUSTOMER, CF_NAME, false), READ_NONE);
    EXPECT(policy_needs_training(ROLE_CUSTOMER_SERVICE));
    EXPECT(!policy_own_department_only(ROLE_CUSTOMER_SERVICE));
    EXPECT(policy_search(ROLE_CUSTOMER_SERVICE, BI_PHONE));
    EXPECT(policy_search(ROLE_CUSTOMER_SERVICE, BI_NAME));
    EXPECT(!policy_search(ROLE_CUSTOMER_SERVICE, BI_ID_NUMBER));
    EXPECT(!policy_allows(ROLE_CUSTOMER_SERVICE, REC_CUSTOMER, OP_UPDATE, NULL));
    /* steward: own department by require, a field downgraded to requests */
    EXPECT_INT(policy_write_in(ROLE_DATA_STEWARD, REC_CUSTOMER, CF_NAME, true), WRITE_DIRECT);
    EXPECT_INT(policy_write_in(ROLE_DATA_STEWARD, REC_CUSTOMER, CF_NAME, false), WRITE_NONE);
    EXPECT_INT(policy_write_in(ROLE_DATA_STEWARD, REC_CUSTOMER, CF_ID_NUMBER, true), WRITE_REQUEST);
    EXPECT_INT(policy_read_in(ROLE_DATA_STEWARD, REC_CUSTOMER, CF_ID_NUMBER, true), READ_FULL);
    EXPECT_INT(policy_read_in(ROLE_DATA_STEWARD, REC_CUSTOMER, CF_NOTES, true), READ_NONE);
    const char *rule = NULL;
    EXPECT(policy_allows(ROLE_DATA_STEWARD, REC_CUSTOMER, OP_CREATE, &rule));
    EXPECT_STR(rule, "t.conf:10");
    EXPECT(policy_allows(ROLE_DATA_STEWARD, REC_CUSTOMER, OP_ERASE, NULL));
    EXPECT(!policy_allows(ROLE_DATA_STEWARD, REC_CUSTOMER, OP_IMPORT, &rule));
    EXPECT_STR(rule, "default-deny");
    EXPECT(!policy_allows_in(ROLE_DATA_STEWARD, REC_CUSTOMER, OP_CREATE, false, &rule));
    EXPECT_STR(rule, "department-scope");
    EXPECT(policy_allows(ROLE_DATA_STEWARD, REC_TRANSACTION, OP_CREATE, &rule));
    EXPECT_STR(rule, "t.conf:11");
    EXPECT(policy_allows(ROLE_DATA_STEWARD, REC_CUSTOMER, OP_UPDATE, &rule));
    EXPECT_STR(rule, "t.conf:8");
    EXPECT(!policy_allows(ROLE_DATA_STEWARD, REC_COMMUNICATION, OP_READ, NULL));
    EXPECT(policy_own_department_only(ROLE_DATA_STEWARD));
    EXPECT(policy_needs_training(ROLE_DATA_STEWARD));
    /* hr: acknowledged contents, any department, no training */
    EXPECT_INT(policy_read_in(ROLE_HR, REC_CUSTOMER, CF_DEPARTMENT, false), READ_FULL);
    EXPECT(policy_allows_in(ROLE_HR, REC_CUSTOMER, OP_READ, false, &rule));
    EXPECT_STR(rule, "t.conf:12");
    EXPECT(!policy_needs_training(ROLE_HR));
    EXPECT(!policy_own_department_only(ROLE_HR));
    EXPECT(!policy_own_department_only(ROLE_ADMIN));
    /* capabilities */
    EXPECT(policy_can(ROLE_SECURITY, CAP_AUDIT_READ));
    EXPECT(policy_can(ROLE_SECURITY, CAP_KEYS_MANAGE));
    EXPECT(!policy_can(ROLE_SECURITY, CAP_GUARD_MANAGE));
    EXPECT(policy_can(ROLE_AUDITOR, CAP_AUDIT_READ));
    EXPECT(!policy_can(ROLE_ADMIN, CAP_ACCOUNTS_MANAGE));
    install_default();
    EXPECT_STR(policy_source(policy_current()), "policy.conf");
}

static void explain_is(const policy *p, const char *r, const char *o, const char *t, bool same,
                       const char *want)
{
    buf b;
    buf_init(&b, 0);
    EXPECT_OK(policy_explain(p, r, o, t, same, &b));
    if (strcmp(buf_cstr(&b), want) != 0) {
        printf("  explain %s %s %s:\n    got  %s    want %s", r, o, t ? t : "-", buf_cstr(&b),
               want);
    }
    EXPECT_STR(buf_cstr(&b), want);
    buf_free(&b);
}

TEST(t_explain)
{
    policy *p = parse_ok(CONSTRUCTS, "t.conf");
    EXPECT(p != NULL);
    if (!p) {
        return;
    }
    /* training is per grant: the field's own line has none */
    explain_is(p, "customer_service", "read", "contact.phone", true,
               "allow (masked) by t.conf:6: grant customer_service read on contact.phone "
               "masked\n");
    explain_is(p, "customer_service", "search", "contact.email", false,
               "allow (needs current security training) by t.conf:5: grant customer_service "
               "read, request on contact training\n");
    explain_is(p, "customer_service", "read", "contact", true,
               "allow (needs current security training) by t.conf:5: grant customer_service "
               "read, request on contact training\n"
               "  contact.phone: allow (masked) by t.conf:6: grant customer_service read on "
               "contact.phone masked\n"
               "  contact.wechat: deny by t.conf:7: deny customer_service read, request on "
               "contact.wechat\n");
    explain_is(p, "customer_service", "write", "contact.email", true,
               "deny (change requests only) by t.conf:5: grant customer_service read, request "
               "on contact training\n");
    explain_is(p, "sales", "read", "preferences", false,
               "deny (own-department customers only) by t.conf:4: grant sales, customer_service "
               "read on preferences, identity.name own-department\n");
    explain_is(p, "data_steward", "erase", "customers", false,
               "deny (own-department customers only: t.conf:14) by t.conf:10: grant "
               "data_steward create, erase on customers\n");
    explain_is(p, "data_steward", "request", "identity.name", true,
               "allow (direct write; needs current security training: t.conf:15) by t.conf:8: "
               "grant data_steward read, write on identity, contact\n");
    explain_is(p, "data_steward", "write", "transactions.price", true,
               "allow (when creating the record; needs current security training: t.conf:15) by "
               "t.conf:11: grant data_steward read, create on transactions\n");
    explain_is(p, "data_steward", "import", "customers", true, "deny: no grant (default deny)\n");
    explain_is(p, "admin", "read", "identity.id_number", true, "deny: no grant (default deny)\n");
    explain_is(p, "security", "keys.manage", NULL, true,
               "allow by t.conf:16: grant security audit.read, keys.manage\n");
    explain_is(p, "security", "guard.manage", "", true, "deny: no grant (default deny)\n");
    buf b;
    buf_init(&b, 0);
    EXPECT_ERR(policy_explain(p, "root", "read", "identity", true, &b), ERR_INPUT);
    EXPECT_ERR(policy_explain(p, "sales", "peek", "identity", true, &b), ERR_INPUT);
    EXPECT_ERR(policy_explain(p, "sales", "read", "secrets", true, &b), ERR_INPUT);
    EXPECT_ERR(policy_explain(p, "sales", "read", "identity.phone", true, &b), ERR_INPUT);
    EXPECT_ERR(policy_explain(p, "sales", "read", "customers", true, &b), ERR_INPUT);
    EXPECT_ERR(policy_explain(p, "sales", "read", NULL, true, &b), ERR_INPUT);
    EXPECT_ERR(policy_explain(p, "sales", "erase", "identity", true, &b), ERR_INPUT);
    EXPECT_ERR(policy_explain(p, "sales", "create", "identity", true, &b), ERR_INPUT);
    EXPECT_ERR(policy_explain(p, "sales", "audit.write", NULL, true, &b), ERR_INPUT);
    EXPECT_ERR(policy_explain(p, "sales", "audit.read", "identity", true, &b), ERR_INPUT);
    EXPECT_INT(b.len, 0);
    buf_free(&b);
    policy_free(p);
    /* The default, as the design states it. */
    const char *d = policy_default_text();
    char want[256];
    snprintf(want, sizeof want,
             "allow (masked; needs current security training: policy.conf:%u) by "
             "policy.conf:%u: grant customer_service read on identity.id_number masked\n",
             line_of(d, "require training for customer_service"),
             line_of(d, "grant customer_service read on identity.id_number"));
    explain_is(policy_current(), "customer_service", "read", "identity.id_number", false, want);
}

TEST(t_show_and_diff)
{
    const char *d = policy_default_text();
    policy *def = parse_ok(d, "policy.conf");
    policy *t = parse_ok(CONSTRUCTS, "t.conf");
    buf b;
    buf_init(&b, 0);
    EXPECT_OK(policy_diff(def, def, &b));
    EXPECT_INT(b.len, 0);
    /* The canonical form parses to the same decisions, for both policies. */
    policy *pols[2] = {def, t};
    for (int i = 0; i < 2; i++) {
        buf_reset(&b);
        EXPECT_OK(policy_show(pols[i], &b));
        policy *again = parse_ok(buf_cstr(&b), "shown.conf");
        EXPECT(again != NULL);
        if (again) {
            buf d2;
            buf_init(&d2, 0);
            EXPECT_OK(policy_diff(pols[i], again, &d2));
            if (d2.len) {
                printf("  show round trip differs:\n%s", buf_cstr(&d2));
            }
            EXPECT_INT(d2.len, 0);
            buf_free(&d2);
            policy_free(again);
        }
    }
    buf_reset(&b);
    EXPECT_OK(policy_show(t, &b));
    EXPECT(strstr(buf_cstr(&b), "allow-customer-contents hr\n") != NULL);
    EXPECT(strstr(buf_cstr(&b), "grant customer_service read on contact.phone masked\n") != NULL);
    EXPECT(strstr(buf_cstr(&b), "wechat") == NULL);
    /* A changed default: a capability more, a create less. */
    buf alt;
    buf_init(&alt, 0);
    const char *a = strstr(d, "grant legal audit.read\n");
    const char *s = strstr(d, "grant sales read, create on transactions\n");
    EXPECT(a != NULL && s != NULL && s < a);
    if (a && s) {
        EXPECT_OK(buf_append(&alt, d, (size_t)(s - d)));
        EXPECT_OK(buf_append_str(&alt, "grant sales read on transactions\n"));
        const char *s_end = s + strlen("grant sales read, create on transactions\n");
        EXPECT_OK(buf_append(&alt, s_end, (size_t)(a - s_end)));
        EXPECT_OK(buf_append_str(&alt, "grant legal audit.read, violations.read\n"));
        EXPECT_OK(buf_append_str(&alt, a + strlen("grant legal audit.read\n")));
        policy *changed = parse_ok(buf_cstr(&alt), "new.conf");
        buf_reset(&b);
        EXPECT_OK(policy_diff(def, changed, &b));
        EXPECT_STR(buf_cstr(&b), "- grant sales create on transactions own-department training\n"
                                 "+ grant legal violations.read\n");
        buf_reset(&b);
        EXPECT_OK(policy_diff(changed, def, &b));
        EXPECT_STR(buf_cstr(&b), "- grant legal violations.read\n"
                                 "+ grant sales create on transactions own-department training\n");
        policy_free(changed);
    }
    /* Spelling does not matter, decisions do. */
    policy *x = parse_ok(V "grant sales read on identity\n", "x");
    policy *y = parse_ok(V "grant sales read on identity.name, identity.birth_date\n"
                           "grant sales read on identity.id_number\n",
                         "y");
    policy *z =
        parse_ok(V "grant sales read on identity\ndeny sales read on identity.id_number\n", "z");
    buf_reset(&b);
    EXPECT_OK(policy_diff(x, y, &b));
    EXPECT_INT(b.len, 0);
    buf_reset(&b);
    EXPECT_OK(policy_diff(x, z, &b));
    EXPECT_STR(buf_cstr(&b), "- grant sales read on identity\n"
                             "+ grant sales read on identity.name\n"
                             "+ grant sales read on identity.birth_date\n");
    policy_free(x);
    policy_free(y);
    policy_free(z);
    buf_free(&alt);
    buf_free(&b);
    policy_free(def);
    policy_free(t);
}

typedef struct bad {
    const char *text;
    size_t len;
    unsigned line; /* 0: no line in the message */
    const char *what;
} bad;
#define BAD(text, line, what)                                                                      \
    {                                                                                              \
        text, sizeof(text) - 1, line, what                                                         \
    }

static const bad BAD_INPUTS[] = {
    BAD("", 1, "empty policy"),
    BAD("# only a comment\n\n", 2, "empty policy"),
    BAD("grant sales read on preferences\n", 1, "a policy begins with 'version 1'"),
    BAD("version 2\n", 1, "unsupported version '2'"),
    BAD("version\n", 1, "expected a version number"),
    BAD("version 1 extra\n", 1, "unexpected 'extra' after the version"),
    BAD(V "version 1\n", 2, "'version' given twice"),
    BAD(V "frobnicate sales\n", 2, "unknown statement 'frobnicate'"),
    BAD(V ", sales\n", 2, "unexpected ','"),
    BAD(V "grant\n", 2, "expected a role"),
    BAD(V "grant sales\n", 2, "expected an operation or a capability"),
    BAD(V "grant root read on identity\n", 2, "unknown role 'root'"),
    BAD(V "grant sales, sales read on identity\n", 2, "role 'sales' named twice"),
    BAD(V "grant sales, read on identity\n", 2, "unknown role 'read'"),
    BAD(V "grant sales peek on identity\n", 2, "unknown operation 'peek'"),
    BAD(V "grant sales read, read on identity\n", 2, "operation 'read' named twice"),
    BAD(V "grant sales read\n", 2, "missing 'on' and a target"),
    BAD(V "grant sales read at identity\n", 2, "expected 'on' after the operations, found 'at'"),
    BAD(V "grant sales read create on transactions\n", 2, "missing ',' between operations"),
    BAD(V "grant sales identity.name\n", 2, "expected operations before the target"),
    BAD(V "grant sales preferences\n", 2, "expected operations before the target"),
    BAD(V "grant sales read on\n", 2, "expected a target"),
    BAD(V "grant sales read on identity,\n", 2, "expected a target after ','"),
    BAD(V "grant sales read on secrets\n", 2, "unknown category 'secrets'"),
    BAD(V "grant sales read on identity.shoe_size\n", 2,
        "unknown field 'shoe_size' of identity (name, id_number, birth_date)"),
    BAD(V "grant sales read on identity.phone\n", 2, "'phone' is a field of contact"),
    BAD(V "grant sales read on identity.\n", 2, "unknown field '' of identity"),
    BAD(V "grant sales read on identity.name, identity.name\n", 2,
        "target 'identity.name' named twice"),
    BAD(V "grant sales read on identity contact\n", 2, "missing ',' between targets"),
    BAD(V "grant sales read on preferences shiny\n", 2, "unknown option 'shiny'"),
    BAD(V "grant sales read on preferences masked masked\n", 2, "option 'masked' given twice"),
    BAD(V "grant sales read on identity own-department, training\n", 2,
        "unexpected ',' among the options"),
    BAD(V "grant sales write on preferences masked\n", 2, "masked applies to read"),
    BAD(V "grant sales write, request on identity\n", 2, "write and request together"),
    BAD(V "grant sales read on customers\n", 2, "read names a category or a field"),
    BAD(V "grant sales create on identity\n", 2,
        "create applies to transactions, communications or customers, not to 'identity'"),
    BAD(V "grant sales create on transactions.price\n", 2, "create applies to"),
    BAD(V "grant sales erase on identity\n", 2, "erase applies to customers only"),
    BAD(V "grant sales read on preferences\n# again:\ngrant sales read on preferences\n", 4,
        "repeats line 2 (sales read on preferences)"),
    BAD(V "grant sales read on preferences\ngrant sales read on preferences masked\n", 3,
        "conflicts with line 2 (sales read on preferences)"),
    BAD(V "grant sales write on identity\ngrant sales request on identity\n", 3,
        "conflicts with line 2 (sales request on identity)"),
    BAD(V "grant sales read on identity.name\ndeny sales read on identity.name\n", 3,
        "conflicts with line 2"),
    BAD(V "grant sales audit.read, read\n", 2, "cannot be mixed"),
    BAD(V "grant sales read, audit.read on identity\n", 2, "cannot be mixed"),
    BAD(V "grant sales audit.write\n", 2, "unknown capability 'audit.write'"),
    BAD(V "grant sales audit.read, audit.read\n", 2, "capability 'audit.read' named twice"),
    BAD(V "grant sales audit.read on identity\n", 2, "a capability takes no 'on TARGET'"),
    BAD(V "grant sales audit.read training\n", 2, "apply to customer-data grants"),
    BAD(V "grant sales audit.read extra\n", 2, "unexpected 'extra' after the capabilities"),
    BAD(V "grant auditor audit.read\ngrant auditor, legal audit.read\n", 3,
        "repeats line 2 (auditor audit.read)"),
    BAD(V "deny sales read on identity\n", 2, "deny names fields only"),
    BAD(V "deny sales read on customers\n", 2, "deny names fields only"),
    BAD(V "deny sales create on identity.name\n", 2, "deny takes read, write or request"),
    BAD(V "deny sales read on identity.name masked\n", 2, "deny takes no options"),
    BAD(V "deny sales read on identity.name please\n", 2, "unexpected 'please' after the targets"),
    BAD(V "deny sales audit.read\n", 2, "a capability is denied by not granting it"),
    BAD(V "require masked for sales\n", 2, "masked is given per grant"),
    BAD(V "require speed for sales\n", 2, "unknown requirement 'speed'"),
    BAD(V "require training, training for sales\n", 2, "'training' named twice"),
    BAD(V "require training sales\n", 2, "expected 'for', found 'sales'"),
    BAD(V "require training\n", 2, "missing 'for' and the roles"),
    BAD(V "require training for sales now\n", 2, "unexpected 'now' after the roles"),
    BAD(V "require training for sales\nrequire training for hr, sales\n", 3,
        "repeats line 2 (training for sales)"),
    BAD(V "allow-customer-contents sales\n", 2, "sales is not kept from customer contents"),
    BAD(V "allow-customer-contents hr\nallow-customer-contents hr\n", 3, "repeats line 2"),
    BAD(V "allow-customer-contents hr,\n", 2, "expected a role after ','"),
    BAD(V "grant admin read on identity.name\n", 2,
        "separation of duties: this gives admin customer contents; if that is intended, add the "
        "line 'allow-customer-contents admin'"),
    BAD(V "\n\ngrant sales read on identity\ngrant legal erase on customers\n"
          "grant admin read on identity\n",
        5, "separation of duties: this gives legal customer contents"),
    BAD(V "allow-customer-contents hr\ngrant hr, auditor read on internal\n", 3,
        "this gives auditor customer contents"),
    BAD(V "grant Sales read on identity\n", 2, "unexpected 'S': names are lower case"),
    BAD(V "grant sales read on identity;\n", 2, "unexpected character ';'"),
    BAD(V "grant sales read on \"identity\"\n", 2, "unexpected character '\"'"),
    BAD(V "grant sales read on identit\xc3\xa9\n", 2, "non-ASCII text outside a comment"),
    BAD(V "# caf\xe9\n", 2, "not valid UTF-8"),
    BAD(V "# \xed\xa0\x80 surrogate\n", 2, "not valid UTF-8"),
    BAD(V "grant sales read\0 on identity\n", 2, "NUL byte"),
    BAD(V "grant sales read on identity\x01\n", 2, "control character 0x01"),
    BAD(V "grant sales read on identity.name\rgrant\n", 2, "control character 0x0d"),
    BAD(V "# del \x7f\n", 2, "control character 0x7f"),
};

static void expect_bad(const char *text, size_t len, unsigned line, const char *what)
{
    policy *sentinel = (policy *)(uintptr_t)0x1234, *p = sentinel;
    err_clear();
    err e = policy_parse(text, len, "t.conf", &p);
    char prefix[64];
    if (line) {
        snprintf(prefix, sizeof prefix, "t.conf:%u: ", line);
    } else {
        snprintf(prefix, sizeof prefix, "t.conf: ");
    }
    bool ok = e == ERR_INPUT && p == sentinel &&
              strncmp(err_message(), prefix, strlen(prefix)) == 0 &&
              strstr(err_message(), what) != NULL;
    if (!ok) {
        printf("  input %.60s...\n    got %s \"%s\"\n    want \"%s...%s\"\n", text,
               err_code_name(e), err_message(), prefix, what);
    }
    EXPECT(ok);
    if (e == ERR_OK && p != sentinel) {
        policy_free(p);
    }
}

TEST(t_parse_errors)
{
    for (size_t i = 0; i < sizeof BAD_INPUTS / sizeof BAD_INPUTS[0]; i++) {
        const bad *b = &BAD_INPUTS[i];
        expect_bad(b->text, b->len, b->line, b->what);
    }
    /* Limits: line length, word length, file size. */
    buf b;
    buf_init(&b, 0);
    EXPECT_OK(buf_append_str(&b, V "# "));
    for (int i = 0; i < POLICY_MAX_LINE; i++) {
        EXPECT_OK(buf_append_byte(&b, 'x'));
    }
    EXPECT_OK(buf_append_str(&b, "\n"));
    expect_bad((const char *)b.p, b.len, 2, "line longer than 1024 bytes");
    buf_reset(&b);
    EXPECT_OK(buf_append_str(&b, V "# "));
    for (int i = 0; i < POLICY_MAX_LINE - 2; i++) {
        EXPECT_OK(buf_append_byte(&b, 'x'));
    }
    EXPECT_OK(buf_append_str(&b, "\r\ngrant sales read on identity\n"));
    policy *p = NULL;
    EXPECT_OK(policy_parse((const char *)b.p, b.len, "t.conf", &p)); /* exactly the limit */
    policy_free(p);
    buf_reset(&b);
    EXPECT_OK(buf_append_str(&b, V "grant "));
    for (int i = 0; i < 65; i++) {
        EXPECT_OK(buf_append_byte(&b, 'a'));
    }
    expect_bad((const char *)b.p, b.len, 2, "word longer than 64 characters");
    buf_reset(&b);
    EXPECT_OK(buf_append_str(&b, V));
    while (b.len <= POLICY_MAX_BYTES) {
        EXPECT_OK(buf_append_str(&b, "# filler filler filler filler filler filler\n"));
    }
    expect_bad((const char *)b.p, b.len, 0, "larger than the limit of 262144 bytes");
    buf_free(&b);
    /* A NULL text is refused; a NULL name is given one. */
    p = NULL;
    EXPECT_ERR(policy_parse(NULL, 3, "t.conf", &p), ERR_INPUT);
    EXPECT(p == NULL);
    EXPECT_ERR(policy_parse("x", 1, NULL, &p), ERR_INPUT);
    EXPECT(strncmp(err_message(), "policy:1: ", 10) == 0);
}

TEST(t_separation_of_duties)
{
    policy *p = parse_ok(V "allow-customer-contents legal, auditor\n"
                           "grant legal, auditor read on identity.name\n",
                         "sod.conf");
    EXPECT(p != NULL);
    policy_free(p);
    /* A deny gives nothing; an acknowledgement without contents is harmless. */
    p = parse_ok(V "deny admin read on identity.name\nallow-customer-contents hr\n", "sod.conf");
    EXPECT(p != NULL);
    policy_free(p);
    /* The restricted roles: each one, each kind of grant. */
    static const char *const ROLES[] = {"admin", "security", "legal", "hr", "auditor"};
    static const char *const GRANTS[] = {"read on internal.notes", "request on contact",
                                         "create on communications", "export on customers"};
    for (size_t i = 0; i < 5; i++) {
        for (size_t k = 0; k < 4; k++) {
            char text[256], what[128];
            snprintf(text, sizeof text, V "grant %s %s\n", ROLES[i], GRANTS[k]);
            snprintf(what, sizeof what, "'allow-customer-contents %s'", ROLES[i]);
            expect_bad(text, strlen(text), 2, what);
        }
    }
}

typedef struct reader {
    atomic_bool *stop; /* a plain or volatile flag is a data race */
    long reads, bad;
} reader;

static void *read_loop(void *arg)
{
    reader *rd = arg;
    while (!atomic_load(rd->stop)) {
        read_level l = policy_read_in(ROLE_SALES, REC_CUSTOMER, CF_PREFERENCES, true);
        const char *src = policy_source(policy_current());
        const char *rule = NULL;
        bool ok = policy_allows(ROLE_SALES, REC_CUSTOMER, OP_READ, &rule);
        if (l == READ_NONE || !ok || rule == NULL ||
            (strcmp(src, "a") != 0 && strcmp(src, "b") != 0 && strcmp(src, "policy.conf") != 0)) {
            rd->bad++;
        }
        rd->reads++;
    }
    return NULL;
}

TEST(t_install)
{
    const policy *before = policy_current();
    /* A failed parse changes nothing. */
    policy *p = NULL;
    EXPECT_ERR(policy_parse(V "grant sales read on nothing\n", 36, "bad.conf", &p), ERR_INPUT);
    EXPECT(p == NULL);
    policy_install(p);
    EXPECT(policy_current() == before);
    /* Readers never see anything but a whole policy. */
    atomic_bool stop = false;
    reader rds[2] = {{&stop, 0, 0}, {&stop, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        EXPECT(pthread_create(&th[i], NULL, read_loop, &rds[i]) == 0);
    }
    for (int i = 0; i < 200; i++) {
        install_text(i % 2 ? V "grant sales read on preferences masked\n"
                           : V "grant sales read on preferences, identity.name\n",
                     i % 2 ? "b" : "a");
        const policy *now = policy_current();
        EXPECT_STR(policy_source(now), i % 2 ? "b" : "a");
        EXPECT_INT(policy_read(ROLE_SALES, REC_CUSTOMER, CF_PREFERENCES),
                   i % 2 ? READ_MASKED : READ_FULL);
        EXPECT_INT(policy_read(ROLE_SALES, REC_CUSTOMER, CF_NAME), i % 2 ? READ_NONE : READ_FULL);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        EXPECT_INT(rds[i].bad, 0);
        EXPECT(rds[i].reads > 0);
    }
    /* The rule strings of replaced policies stay valid. */
    const char *rule = NULL;
    EXPECT(policy_allows(ROLE_SALES, REC_CUSTOMER, OP_READ, &rule));
    install_default();
    EXPECT_STR(rule, "b:2");
    EXPECT_STR(policy_source(policy_current()), "policy.conf");
    EXPECT_INT(policy_read(ROLE_SALES, REC_CUSTOMER, CF_PREFERENCES), READ_FULL);
}

int main(void)
{
    test_init();
    RUN(t_field_reads);
    RUN(t_field_writes);
    RUN(t_record_ops);
    RUN(t_search);
    RUN(t_roles_parse);
    RUN(t_embedded_is_etc);
    RUN(t_default_current);
    RUN(t_default_capabilities);
    RUN(t_default_training_and_scope);
    RUN(t_default_requests);
    RUN(t_constructs);
    RUN(t_explain);
    RUN(t_show_and_diff);
    RUN(t_parse_errors);
    RUN(t_separation_of_duties);
    RUN(t_install);
    /* the matrix again, on the default put back */
    RUN(t_field_reads);
    RUN(t_record_ops);
    return test_done("policy_test");
}
