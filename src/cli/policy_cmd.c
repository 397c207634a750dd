/*
 * policy_cmd.c - `custos policy ...`: the offline side of the policy file.
 * check a file before installing it, explain one decision, show the effective
 * grants, and diff two policies. No server and no key: a policy is plain text.
 * Without --file, explain and show use VAULT/policy.conf when --vault is given
 * and the file exists, else the default compiled into the binary.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "access/policy.h"
#include "cli/cli.h"

static void usage(void)
{
    fputs("usage: custos policy check FILE\n"
          "       custos policy explain --role R --op OP --category C[.FIELD]|customers\n"
          "                             [--other-department] [--file F | --vault DIR]\n"
          "       custos policy explain --role R --op CAPABILITY [--file F | --vault DIR]\n"
          "       custos policy show [--file F | --vault DIR]\n"
          "       custos policy diff OLD NEW\n",
          stderr);
}

static err load(const args *a, policy **out)
{
    const char *file = args_opt(a, "--file");
    const char *vault = args_opt(a, "--vault");
    if (file) {
        return policy_load_file(file, out);
    }
    if (vault) {
        char path[PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/policy.conf", vault);
        ENSURE(n > 0 && (size_t)n < sizeof path, ERR_INPUT, "vault path too long");
        if (access(path, F_OK) == 0) {
            return policy_load_file(path, out);
        }
    }
    const char *text = policy_default_text();
    return policy_parse(text, strlen(text), "policy.conf", out);
}

/* Prints the error of a policy that does not parse ("FILE:LINE: ..."). */
static int fail(err e, int status)
{
    fprintf(stderr, "custos: %s\n", err_message()[0] ? err_message() : err_code_name(e));
    return status;
}

static int print_buf(buf *b)
{
    int rc = 0;
    if (b->len && fwrite(b->p, 1, b->len, stdout) != b->len) {
        rc = 1;
    }
    buf_free(b);
    return rc;
}

static int do_check(args *a)
{
    if (a->npos < 2) {
        usage();
        return 2;
    }
    policy *p = NULL;
    err e = policy_load_file(a->pos[1], &p);
    if (e != ERR_OK) {
        return fail(e, 1);
    }
    size_t grants, caps;
    policy_stats(p, &grants, &caps);
    printf("%s: ok (%zu grants, %zu capabilities)\n", a->pos[1], grants, caps);
    policy_free(p);
    return 0;
}

static int do_explain(args *a)
{
    const char *r = args_opt(a, "--role");
    const char *o = args_opt(a, "--op");
    const char *c = args_opt(a, "--category");
    if (!r || !o) {
        usage();
        return 2;
    }
    policy *p = NULL;
    err e = load(a, &p);
    if (e != ERR_OK) {
        return fail(e, 1);
    }
    buf out;
    buf_init(&out, 1 << 20);
    e = policy_explain(p, r, o, c, !args_flag(a, "--other-department"), &out);
    policy_free(p);
    if (e != ERR_OK) {
        buf_free(&out);
        return fail(e, 2);
    }
    return print_buf(&out);
}

static int do_show(args *a)
{
    policy *p = NULL;
    err e = load(a, &p);
    if (e != ERR_OK) {
        return fail(e, 1);
    }
    buf out;
    buf_init(&out, 1 << 20);
    e = policy_show(p, &out);
    policy_free(p);
    if (e != ERR_OK) {
        buf_free(&out);
        return fail(e, 1);
    }
    return print_buf(&out);
}

/* Exit status as diff(1): 0 the same, 1 different, 2 trouble. */
static int do_diff(args *a)
{
    if (a->npos < 3) {
        usage();
        return 2;
    }
    policy *old_p = NULL, *new_p = NULL;
    err e = policy_load_file(a->pos[1], &old_p);
    if (e == ERR_OK) {
        e = policy_load_file(a->pos[2], &new_p);
    }
    buf out;
    buf_init(&out, 1 << 20);
    if (e == ERR_OK) {
        e = policy_diff(old_p, new_p, &out);
    }
    policy_free(old_p);
    policy_free(new_p);
    if (e != ERR_OK) {
        buf_free(&out);
        return fail(e, 2);
    }
    bool same = out.len == 0;
    return print_buf(&out) ? 2 : same ? 0 : 1;
}

int cmd_policy(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    if (strcmp(sub, "check") == 0) {
        return do_check(a);
    }
    if (strcmp(sub, "explain") == 0) {
        return do_explain(a);
    }
    if (strcmp(sub, "show") == 0) {
        return do_show(a);
    }
    if (strcmp(sub, "diff") == 0) {
        return do_diff(a);
    }
    usage();
    return 2;
}
