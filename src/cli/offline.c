/*
 * offline.c - commands that work on the vault folder itself: init, serve,
 * keys rotate, backup, restore, demo. They need the master key (passphrase
 * from CUSTOS_PASSPHRASE, or --key-file) and no server.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "door.h"
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

static err key_source(const args *a, kek_source *src)
{
    return kek_source_from_env(args_opt(a, "--key-file"), src);
}

static kdf_strength kdf_from_env(void)
{
    const char *f = getenv("CUSTOS_TEST_KDF");
    return (f && strcmp(f, "fast") == 0) ? KDF_FAST : KDF_MODERATE;
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
    kek_source src;
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

int cmd_serve(args *a)
{
    if (a->npos < 1) {
        fputs("usage: custos serve DIR [--listen 127.0.0.1:8443] [--port-file F] [--threads N]\n"
              "       [--metrics-listen 127.0.0.1:9443] [--max-connections N]\n",
              stderr);
        return 2;
    }
    kek_source src;
    err e = key_source(a, &src);
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
    kek_source src;
    TRY(key_source(a, &src));
    err e = vault_open(dir, &src, v);
    forget_passphrase();
    return e;
}

int cmd_keys(args *a)
{
    if (a->npos == 2 && strcmp(a->pos[0], "generate") == 0) {
        err ge = key_file_generate(a->pos[1]);
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
    vault_close(v);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    printf("master key version %u is active; %zu data keys rewrapped; older versions retired\n",
           nv, n);
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
    char au[PATH_MAX], kr[PATH_MAX], pub[PATH_MAX], er[PATH_MAX], tk[PATH_MAX], tc[PATH_MAX],
        snap_db[PATH_MAX], snap_au[PATH_MAX];
    vault_path(v, VAULT_AUDIT, au, sizeof au);
    vault_path(v, VAULT_KEYRING, kr, sizeof kr);
    vault_path(v, VAULT_AUDIT_PUB, pub, sizeof pub);
    vault_path(v, VAULT_ERASURES, er, sizeof er);
    vault_path(v, VAULT_TLS_KEY, tk, sizeof tk);
    vault_path(v, VAULT_TLS_CERT, tc, sizeof tc);
    snprintf(snap_db, sizeof snap_db, "%s.db-snapshot.%d", a->pos[1], (int)getpid());
    snprintf(snap_au, sizeof snap_au, "%s.audit-snapshot.%d", a->pos[1], (int)getpid());
    actor sys;
    actor_system(&sys, "backup");
    audit_entry ae;
    door_entry(&ae, &sys, "vault.backup", "allow", "operator");
    e = audit_append(v->au, &ae, NULL);
    /* Online and consistent: SQLite's backup API, while the server keeps running. */
    if (e == ERR_OK) {
        e = store_snapshot(v->st, snap_db);
    }
    if (e == ERR_OK) {
        e = store_copy_file(au, snap_au);
    }
    backup_member m[10] = {
        {"custos.db", snap_db},        {"audit.db", snap_au},   {"keyring", kr},
        {"audit.pub", pub},            {"erasures.journal", er}, {"tls-key.pem", tk},
        {"tls-cert.pem", tc},
    };
    size_t nm = 7;
    /* The configuration, the access policy and the guard's rules are part of the vault when
     * present (guard.db, the guard's working state, is not: a restored vault starts it anew). */
    char cfg[PATH_MAX], pol[PATH_MAX];
    vault_path(v, "custos.json", cfg, sizeof cfg);
    vault_path(v, "policy.conf", pol, sizeof pol);
    if (access(cfg, F_OK) == 0) {
        m[nm++] = (backup_member){"custos.json", cfg};
    }
    if (access(pol, F_OK) == 0) {
        m[nm++] = (backup_member){"policy.conf", pol};
    }
    char gr[PATH_MAX];
    vault_path(v, "guard.rules", gr, sizeof gr);
    if (access(gr, F_OK) == 0) {
        m[nm++] = (backup_member){"guard.rules", gr};
    }
    if (e == ERR_OK) {
        e = backup_create(v->kr, kr, a->pos[1], m, nm);
    }
    unlink(snap_db);
    unlink(snap_au);
    vault_close(v);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    printf("backup written to %s\n", a->pos[1]);
    return 0;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            remove_tree(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

typedef struct id_list {
    char **ids;
    size_t n, cap;
} id_list;

static err id_list_add(id_list *l, const char *id)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        char **p = realloc(l->ids, nc * sizeof *p);
        ENSURE(p != NULL, ERR_INTERNAL, "out of memory");
        l->ids = p;
        l->cap = nc;
    }
    l->ids[l->n] = strdup(id);
    ENSURE(l->ids[l->n] != NULL, ERR_INTERNAL, "out of memory");
    l->n++;
    return ERR_OK;
}

static err collect_erasure(void *ctx, const char *id, int64_t at)
{
    (void)at;
    return id_list_add(ctx, id);
}

/* Erasures known to the vault being replaced: its database table and its journal file. */
static err current_erasures(const char *dir, id_list *out)
{
    char p[PATH_MAX];
    vault_path_in(dir, VAULT_DB, p, sizeof p);
    if (access(p, F_OK) == 0) {
        store *s = NULL;
        if (store_open(p, false, &s) == ERR_OK) {
            err e = store_erasures(s, collect_erasure, out);
            store_close(s);
            TRY(e);
        }
    }
    vault_path_in(dir, VAULT_ERASURES, p, sizeof p);
    FILE *f = fopen(p, "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            char *sp = strchr(line, ' ');
            if (sp) {
                *sp = '\0';
            }
            if (id_valid(line)) {
                err e = id_list_add(out, line);
                if (e != ERR_OK) {
                    fclose(f);
                    return e;
                }
            }
        }
        fclose(f);
    }
    return ERR_OK;
}

static void free_ids(id_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->ids[i]);
    }
    free(l->ids);
    l->ids = NULL;
    l->n = l->cap = 0;
}

int cmd_restore(args *a)
{
    if (a->npos < 2) {
        fputs("usage: custos restore BACKUP DIR\n", stderr);
        return 2;
    }
    const char *backup = a->pos[0], *dir = a->pos[1];
    kek_source src;
    err e = key_source(a, &src);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    char staging[PATH_MAX], p[PATH_MAX], q[PATH_MAX];
    snprintf(staging, sizeof staging, "%s.restore-%d", dir, (int)getpid());
    if (mkdir(staging, 0700) != 0) {
        fprintf(stderr, "custos: cannot create %s: %s\n", staging, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t nn = 0, applied = 0;
    id_list er = {0};
    vault *v = NULL;
    bool existed = access(dir, F_OK) == 0;
    /* 1. Verify the whole backup and unpack it into the staging folder; nothing else is
     *    touched until every byte has been authenticated. */
    e = backup_extract(backup, &src, staging, &names, &nn);
    for (size_t i = 0; i < nn; i++) {
        free(names[i]);
    }
    free(names);
    if (e != ERR_OK) {
        goto out;
    }
    /* 2. Lay the staging folder out as a vault and check its database. */
    vault_path_in(staging, "tls", p, sizeof p);
    (void)mkdir(p, 0700);
    static const char *const moves[][2] = {{"tls-key.pem", VAULT_TLS_KEY},
                                           {"tls-cert.pem", VAULT_TLS_CERT}};
    for (size_t i = 0; i < 2; i++) {
        vault_path_in(staging, moves[i][0], p, sizeof p);
        vault_path_in(staging, moves[i][1], q, sizeof q);
        if (rename(p, q) != 0) {
            e = err_set(ERR_IO, __FILE__, __LINE__, "the backup lacks %s", moves[i][0]);
            goto out;
        }
    }
    vault_path_in(staging, VAULT_DB, p, sizeof p);
    if ((e = store_check_file(p)) != ERR_OK) {
        goto out;
    }
    /* 3. The audit log is history, not state: keep the current one when there is one. */
    vault_path_in(dir, VAULT_AUDIT, p, sizeof p);
    if (existed && access(p, F_OK) == 0) {
        vault_path_in(staging, VAULT_AUDIT, q, sizeof q);
        unlink(q);
        if ((e = store_copy_file(p, q)) != ERR_OK) {
            goto out;
        }
    }
    /* 4. Erasures recorded since the backup was taken are applied again. */
    if (existed && (e = current_erasures(dir, &er)) != ERR_OK) {
        goto out;
    }
    if ((e = vault_open(staging, &src, &v)) != ERR_OK) {
        goto out;
    }
    if ((e = door_apply_erasures(v, (const char *const *)er.ids, er.n, &applied)) != ERR_OK) {
        goto out;
    }
    if (er.n > 0) {
        vault_path_in(staging, VAULT_ERASURES, p, sizeof p);
        FILE *f = fopen(p, "a");
        if (!f) {
            e = err_set(ERR_IO, __FILE__, __LINE__, "cannot write the erasure journal");
            goto out;
        }
        char ts[40];
        clock_rfc3339(clock_now_us(), ts);
        for (size_t i = 0; i < er.n; i++) {
            fprintf(f, "%s %s\n", er.ids[i], ts);
        }
        fflush(f);
        (void)fsync(fileno(f));
        fclose(f);
    }
    actor sys;
    actor_system(&sys, "restore");
    audit_entry ae;
    door_entry(&ae, &sys, "vault.restore", "allow", "operator");
    ae.count = (int64_t)applied;
    if ((e = audit_append(v->au, &ae, NULL)) != ERR_OK) {
        goto out;
    }
    vault_close(v);
    v = NULL;
    /* 5. Swap the folders; the replaced vault is kept aside, never silently deleted. */
    if (existed) {
        snprintf(q, sizeof q, "%s.pre-restore-%lld", dir, (long long)(clock_now_us() / 1000000));
        if (rename(dir, q) != 0) {
            e = err_set(ERR_IO, __FILE__, __LINE__, "cannot move the current vault aside");
            goto out;
        }
    }
    if (rename(staging, dir) != 0) {
        e = err_set(ERR_IO, __FILE__, __LINE__, "cannot put the restored vault in place");
        if (existed) {
            (void)rename(q, dir);
        }
        goto out;
    }
    printf("restored %s into %s; %zu erasure(s) recorded since the backup re-applied\n", backup,
           dir, applied);
    if (existed) {
        printf("the replaced vault was moved to %s\n", q);
    }
out:
    forget_passphrase();
    vault_close(v);
    free_ids(&er);
    if (e != ERR_OK) {
        remove_tree(staging);
        return cli_fail(e);
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
        account acc;
        e = clock_parse_rfc3339(full, &until);
        if (e == ERR_OK) {
            e = store_account_by_name(v->st, a->pos[2], &acc);
        }
        if (e == ERR_OK) {
            acc.training_until_us = until;
            e = store_account_update(v->st, &acc);
            mem_wipe(acc.pwhash, sizeof acc.pwhash);
        }
    }
    vault_close(v);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    printf("account %s (%s, %s) created\n", a->pos[2], role_name(r), args_opt(a, "--department"));
    return 0;
}
