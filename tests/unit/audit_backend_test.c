/*
 * audit_backend_test.c - what is SQLite's alone in the audit log's storage: files that are not
 * logs, or not there, refused. The operations every backend must carry out (entries and leaves
 * in and out, tree hashes, rollback, checkpoints, searches, the write lock) are checked in
 * store_suite_audit_test.c, on SQLite and on PostgreSQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_backend.h"
#include "test.h"

static const audit_backend_ops *OPS = AUDIT_BACKEND;

TEST(t_not_a_log)
{
    audit_backend *b = NULL;
    EXPECT_ERR(OPS->open("/nonexistent/audit.db", AUDIT_BE_READ, &b), ERR_IO);
    char other[700];
    char *d = test_tmpdir("audit-backend");
    snprintf(other, sizeof other, "%s/audit.db.txt", d);
    free(d);
    FILE *f = fopen(other, "w");
    EXPECT(f != NULL);
    if (f) {
        fputs("not a database at all, just some text that is long enough to matter\n", f);
        fclose(f);
    }
    EXPECT_ERR(OPS->open(other, AUDIT_BE_READ, &b), ERR_IO);
    audit *a = NULL;
    EXPECT_ERR(audit_open_readonly(other, &a), ERR_IO);
    unlink(other);
}

int main(void)
{
    test_init();
    RUN(t_not_a_log);
    return test_done("audit_backend_test");
}
