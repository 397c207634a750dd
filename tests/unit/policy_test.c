/*
 * policy_test.c - the default policy as a matrix: every role x record type x
 * field x operation checked against the table of DESIGN §3, written out here a
 * second time, independently of policy.c.
 */
#include "access/policy.h"
#include "test.h"

/* Expected read level of each customer field per role (N none, M masked, F full). */
static const char *const EXPECT_READ[ROLE__COUNT] = {
    /*                     name id   bd   ph   em   ad   wc   pr   vip  dep  sp   mc   no */
    [ROLE_SALES] = "F" "N" "N" "N" "N" "N" "N" "F" "F" "N" "N" "N" "N",
    [ROLE_CUSTOMER_SERVICE] = "F" "M" "F" "F" "F" "F" "F" "F" "F" "N" "N" "N" "N",
    [ROLE_DATA_STEWARD] = "F" "F" "F" "F" "F" "F" "F" "F" "F" "F" "F" "F" "F",
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

int main(void)
{
    test_init();
    RUN(t_field_reads);
    RUN(t_field_writes);
    RUN(t_record_ops);
    RUN(t_search);
    RUN(t_roles_parse);
    return test_done("policy_test");
}
