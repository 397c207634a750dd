/*
 * offline.c - commands that work on the vault folder itself: init, serve,
 * keys rotate, backup, restore, demo. They need the master key (passphrase
 * from CUSTOS_PASSPHRASE, or --key-file) and no server.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "door/door.h"
#include "model/demo.h"
#include "server/server.h"

const char *args_opt(const args *a, const char *name)
{
    for (int i = 0; i + 1 < a->argc; i++) {
        if (strcmp(a->argv[i], name) == 0) {
            return a->argv[i + 1];
        }
    }
    return NULL;
}

bool args_flag(const args *a, const char *name)
{
    for (int i = 0; i < a->argc; i++) {
        if (strcmp(a->argv[i], name) == 0) {
            return true;
        }
    }
    return false;
}

int cli_fail(err e)
{
    fprintf(stderr, "custos: %s\n", err_message()[0] ? err_message() : err_code_name(e));
    return e == ERR_INPUT ? 2 : 1;
}

static err key_source(const args *a, vault_key *src)
{
    return vault_key_from_env(args_opt(a, "--key-file"), src);
}

/* CUSTOS_TEST_KDF=fast lowers the keyring's Argon2id cost in test builds only. */
static vault_kdf kdf_from_env(void)
{
#ifdef CUSTOS_TESTING
    const char *f = getenv("CUSTOS_TEST_KDF");
    if (f && strcmp(f, "fast") == 0) {
        return VAULT_KDF_FAST;
    }
#endif
    return VAULT_KDF_MODERATE;
}

/* Wipes CUSTOS_PASSPHRASE from the environment once the keyring is open. */
static void forget_passphrase(void)
{
    char *p = getenv("CUSTOS_PASSPHRASE");
    if (p) {
        mem_wipe(p, strlen(p));
        unsetenv("CUSTOS_PASSPHRASE");
    }
}

int cmd_init(args *a)
{
    if (a->npos < 1) {
        fputs("usage: custos init DIR [--key-file F] [--tls-cert C --tls-key K]\n", stderr);
        return 2;
    }
    vault_key src;
    err e = key_source(a, &src);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    vault_init_opts o = {&src, kdf_from_env(), args_opt(a, "--tls-cert"), args_opt(a, "--tls-key")};
    e = vault_init(a->pos[0], &o);
    forget_passphrase();
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    printf("vault created in %s\n", a->pos[0]);
    return 0;
}

/* The server's copy of the passphrase: in locked memory, wiped as soon as the vault is open. */
typedef struct serve_key {
    char *pass;
    size_t len;
} serve_key;

static void serve_key_wipe(void *ctx)
{
    serve_key *k = ctx;
    if (k->pass) {
        secret_free(k->pass);
        k->pass = NULL;
    }
}

/* Free space the vault needs beyond its data: three WALs kept near 4 MiB each, and room for
 * the largest single transaction (an import of 10,000 customers), with a margin
 * (docs/OPERATIONS.md, "Disk headroom"). */
#define HEADROOM_MB 64

static err check_headroom(const char *dir, const char *opt)
{
    unsigned long long need = HEADROOM_MB;
    if (opt) {
        char *end = NULL;
        need = strtoull(opt, &end, 10);
        ENSURE(end && *end == '\0' && opt[0] != '\0', ERR_INPUT,
               "--min-free takes a number of MiB");
    }
    struct statvfs fs;
    ENSURE(statvfs(dir, &fs) == 0, ERR_IO, "cannot read the free space of %s: %s", dir,
           strerror(errno));
    unsigned long long avail = (unsigned long long)fs.f_bavail * fs.f_frsize >> 20;
    ENSURE(avail >= need, ERR_UNAVAILABLE,
           "only %llu MiB free where the vault lives (%s); it needs %llu MiB beyond its data for "
           "its write-ahead logs and largest writes: free some space (see docs/OPERATIONS.md, "
           "\"Disk headroom\")",
           avail, dir, need);
    return ERR_OK;
}

int cmd_serve(args *a)
{
    if (a->npos < 1) {
        fputs("usage: custos serve DIR [--listen 127.0.0.1:8443] [--port-file F] [--threads N]\n"
              "       [--metrics-listen 127.0.0.1:9443] [--max-connections N] [--min-free MiB]\n"
              "       [--accept-audit-anchor]\n",
              stderr);
        return 2;
    }
    vault_key src;
    err e = key_source(a, &src);
    if (e == ERR_OK && access(a->pos[0], F_OK) == 0) {
        e = check_headroom(a->pos[0], args_opt(a, "--min-free"));
    }
    if (e == ERR_OK && access(a->pos[0], F_OK) == 0) {
        e = vault_erasure_journal_ensure(a->pos[0]);
    }
    if (e != ERR_OK) {
        forget_passphrase();
        return cli_fail(e);
    }
    /* The passphrase leaves the environment at once (children and /proc/PID/environ must
     * never see it): a copy in locked memory opens the vault and is wiped right after. */
    serve_key k = {0};
    if (src.passphrase) {
        k.len = src.passphrase_len;
        k.pass = secret_alloc(k.len + 1);
        if (!k.pass) {
            forget_passphrase();
            fputs("custos: out of secure memory\n", stderr);
            return 1;
        }
        memcpy(k.pass, src.passphrase, k.len);
        k.pass[k.len] = '\0';
        src.passphrase = k.pass;
    }
    forget_passphrase();
    const char *threads = args_opt(a, "--threads");
    const char *maxc = args_opt(a, "--max-connections");
    server_opts o = {
        .dir = a->pos[0],
        .listen = args_opt(a, "--listen") ? args_opt(a, "--listen") : "127.0.0.1:8443",
        .port_file = args_opt(a, "--port-file"),
        .threads = threads ? (unsigned)atoi(threads) : 0,
        .no_guard = args_opt(a, "--guard") && strcmp(args_opt(a, "--guard"), "off") == 0,
        .metrics_listen = args_opt(a, "--metrics-listen"),
        .max_connections = maxc ? (unsigned)strtoul(maxc, NULL, 10) : 0,
        .accept_audit_anchor = args_flag(a, "--accept-audit-anchor"),
        .key_used = serve_key_wipe,
        .key_used_ctx = &k,
    };
    if (maxc && (o.max_connections < 16 || o.max_connections > 1000000)) {
        serve_key_wipe(&k);
        fputs("custos: --max-connections must be 16 to 1000000\n", stderr);
        return 2;
    }
    e = server_run(&o, &src);
    serve_key_wipe(&k);
    return e == ERR_OK ? 0 : cli_fail(e);
}

static err open_vault(const args *a, const char *dir, vault **v)
{
    vault_key src;
    TRY(key_source(a, &src));
    err e = vault_open(dir, &src, v);
    forget_passphrase();
    return e;
}

int cmd_keys(args *a)
{
    if (a->npos == 2 && strcmp(a->pos[0], "generate") == 0) {
        err ge = vault_key_file_generate(a->pos[1]);
        if (ge != ERR_OK) {
            return cli_fail(ge);
        }
        printf("new key file %s (keep it apart from the vault and its backups)\n", a->pos[1]);
        return 0;
    }
    if (a->npos < 2 || strcmp(a->pos[0], "rotate") != 0) {
        fputs("usage: custos keys rotate DIR | custos keys generate FILE\n", stderr);
        return 2;
    }
    vault *v = NULL;
    err e = open_vault(a, a->pos[1], &v);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    actor sys;
    actor_system(&sys, "keys");
    uint32_t nv = 0;
    size_t n = 0;
    e = door_rotate_kek(v, &sys, &nv, &n);
    /* Closing the vault signs a last checkpoint, which records errors of its own: the reason
     * the rotation failed is kept from before. */
    char why[1024];
    snprintf(why, sizeof why, "%s", err_message()[0] ? err_message() : err_code_name(e));
    vault_close(v);
    if (e != ERR_OK) {
        fprintf(stderr, "custos: %s\n", why);
        return e == ERR_INPUT ? 2 : 1;
    }
    printf("master key version %u is active; %zu data keys rewrapped; older versions retired\n", nv,
           n);
    return 0;
}

int cmd_backup(args *a)
{
    if (a->npos < 2) {
        fputs("usage: custos backup DIR OUT\n", stderr);
        return 2;
    }
    vault *v = NULL;
    err e = open_vault(a, a->pos[0], &v);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    e = vault_backup(v, a->pos[1]);
    vault_close(v);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    printf("backup written to %s\n", a->pos[1]);
    return 0;
}

int cmd_restore(args *a)
{
    if (a->npos < 2) {
        fputs("usage: custos restore BACKUP DIR [--erasure-journal FILE] "
              "[--without-erasure-journal]\n",
              stderr);
        return 2;
    }
    const char *backup = a->pos[0], *dir = a->pos[1];
    vault_key src;
    err e = key_source(a, &src);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    vault_restore_opts o = {&src, args_opt(a, "--erasure-journal"),
                            args_flag(a, "--without-erasure-journal")};
    vault_restore_result res;
    e = vault_restore(backup, dir, &o, &res);
    forget_passphrase();
    if (res.stood_in[0]) {
        fprintf(stderr, "custos: the erasure journal %s is missing; using %s in its place\n",
                res.stood_in, o.erasure_journal);
    }
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    if (res.overridden) {
        fprintf(stderr, "custos: warning: restoring without an erasure journal; customers erased "
                        "since the backup may be readable again (recorded in the audit log)\n");
    }
    printf("restored %s into %s; %zu erasure(s) recorded since the backup re-applied\n", backup,
           dir, res.reapplied);
    if (res.replaced_to[0]) {
        printf("the replaced vault was moved to %s\n", res.replaced_to);
    }
    return 0;
}

int cmd_accounts(args *a)
{
    if (a->npos < 3 || strcmp(a->pos[0], "add") != 0 || !args_opt(a, "--role") ||
        !args_opt(a, "--department")) {
        fputs("usage: custos accounts add DIR USERNAME --role ROLE --department DEPT "
              "[--training-until YYYY-MM-DD]\n"
              "       (password from CUSTOS_NEW_PASSWORD; works on the folder, offline; the\n"
              "        first admin is made this way, everything else through the server)\n",
              stderr);
        return 2;
    }
    role r;
    if (role_parse(args_opt(a, "--role"), &r) != ERR_OK) {
        fputs("custos: roles are sales, customer_service, data_steward, security, legal, hr, "
              "auditor, admin\n",
              stderr);
        return 2;
    }
    const char *pw = getenv("CUSTOS_NEW_PASSWORD");
    if (!pw || !pw[0]) {
        fputs("custos: set CUSTOS_NEW_PASSWORD to the new account's password\n", stderr);
        return 2;
    }
    vault *v = NULL;
    err e = open_vault(a, a->pos[1], &v);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    actor sys;
    actor_system(&sys, "accounts");
    e = door_account_create(v, &sys, a->pos[2], pw, r, args_opt(a, "--department"));
    const char *tu = args_opt(a, "--training-until");
    if (e == ERR_OK && tu) {
        char full[40];
        int64_t until = 0;
        snprintf(full, sizeof full, "%.10sT23:59:59Z", tu);
        e = clock_parse_rfc3339(full, &until);
        if (e == ERR_OK) {
            e = door_account_training_offline(v, &sys, a->pos[2], until);
        }
    }
    vault_close(v);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    printf("account %s (%s, %s) created\n", a->pos[2], role_name(r), args_opt(a, "--department"));
    return 0;
}
