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

/* CUSTOS_TEST_KDF=fast lowers the keyring's Argon2id cost in test builds only. */
static kdf_strength kdf_from_env(void)
{
#ifdef CUSTOS_TESTING
    const char *f = getenv("CUSTOS_TEST_KDF");
    if (f && strcmp(f, "fast") == 0) {
        return KDF_FAST;
    }
#endif
    return KDF_MODERATE;
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

static err journal_remake(const char *dir, const char *path);

/* The erasure journal custos.json names, made at start when it is not there yet. Made anew it
 * names every customer the vault has erased already (a journal lost and made empty would let
 * a restore of an older backup bring them back). */
static err ensure_journal(const char *dir)
{
    vault_config c;
    TRY(vault_config_load(dir, &c));
    if (!c.erasure_journal[0] || access(c.erasure_journal, F_OK) == 0) {
        return ERR_OK;
    }
    TRY(journal_remake(dir, c.erasure_journal));
    log_warn("vault.erasure_journal", "a new erasure journal was made at %s", c.erasure_journal);
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
    kek_source src;
    err e = key_source(a, &src);
    if (e == ERR_OK && access(a->pos[0], F_OK) == 0) {
        e = check_headroom(a->pos[0], args_opt(a, "--min-free"));
    }
    if (e == ERR_OK && access(a->pos[0], F_OK) == 0) {
        e = ensure_journal(a->pos[0]);
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
    /* Closing the vault signs a last checkpoint, which records errors of its own: the reason
     * the rotation failed is kept from before. */
    char why[1024];
    snprintf(why, sizeof why, "%s", err_message()[0] ? err_message() : err_code_name(e));
    vault_close(v);
    if (e != ERR_OK) {
        fprintf(stderr, "custos: %s\n", why);
        return e == ERR_INPUT ? 2 : 1;
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

/* Erasures recorded in the database of the vault being replaced. */
static err db_erasures(const char *dir, id_list *out)
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
    return ERR_OK;
}

/* A new journal at path naming the customers erased in dir's database, written aside and
 * linked into place whole (never over an existing one). */
static err journal_remake(const char *dir, const char *path)
{
    id_list ids = {0};
    char tmp[PATH_MAX], ts[40], line[128];
    int fd = -1;
    err rc = ERR_OK;
    int n = snprintf(tmp, sizeof tmp, "%s.new-%d", path, (int)getpid());
    CHECK(n > 0 && (size_t)n < sizeof tmp, ERR_INPUT, "the erasure journal's path is too long");
    GUARD(db_erasures(dir, &ids));
    clock_rfc3339(clock_now_us(), ts);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0, ERR_IO, "cannot create the erasure journal %s: %s", path, strerror(errno));
    for (size_t i = 0; i < ids.n; i++) {
        n = snprintf(line, sizeof line, "%s %s\n", ids.ids[i], ts);
        CHECK(n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) == n, ERR_IO,
              "cannot write the erasure journal %s", path);
    }
    CHECK(fsync(fd) == 0, ERR_IO, "cannot sync the erasure journal %s", path);
    CHECK(link(tmp, path) == 0, ERR_IO, "cannot create the erasure journal %s: %s", path,
          strerror(errno));
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    for (size_t i = 0; i < ids.n; i++) {
        free(ids.ids[i]);
    }
    free(ids.ids);
    return rc;
}

/* The customer ids of an erasure journal ("ID TIME" lines). */
static err journal_erasures(const char *path, id_list *out)
{
    FILE *f = fopen(path, "r");
    ENSURE(f != NULL, ERR_NOT_FOUND, "cannot read the erasure journal %s: %s", path,
           strerror(errno));
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
    return ERR_OK;
}

/* Every erasure journal a restore must honour: one named with --erasure-journal, the one the
 * restored configuration names, and the replaced vault's. A journal that should be there and
 * is not refuses the restore, as does finding none at all; --without-erasure-journal
 * overrides (the caller records it in the audit log). */
static err restore_erasures(const args *a, const char *staging, const char *dir, bool existed,
                            id_list *out, bool *overridden)
{
    const char *paths[3];
    char named[PATH_MAX], replaced[PATH_MAX];
    size_t np = 0;
    bool override = args_flag(a, "--without-erasure-journal");
    *overridden = false;
    if (args_opt(a, "--erasure-journal")) {
        paths[np++] = args_opt(a, "--erasure-journal");
    }
    vault_config c;
    TRY(vault_config_load(staging, &c));
    if (c.erasure_journal[0]) {
        vault_erasure_journal(staging, &c, named, sizeof named);
        paths[np++] = named;
    }
    if (existed) {
        TRY(vault_config_load(dir, &c));
        vault_erasure_journal(dir, &c, replaced, sizeof replaced);
        paths[np++] = replaced;
        TRY(db_erasures(dir, out));
    }
    size_t found = 0;
    for (size_t i = 0; i < np; i++) {
        if (access(paths[i], F_OK) != 0) {
            if (paths[i] == named && np > 0 && paths[0] != named && paths[0] != replaced &&
                access(paths[0], F_OK) == 0) {
                /* The configured journal is gone and a copy of it is named instead: the copy
                 * stands in for it (and is written back there below). */
                fprintf(stderr,
                        "custos: the erasure journal %s is missing; using %s in its place\n",
                        paths[i], paths[0]);
                continue;
            }
            if (!override) {
                BAIL(ERR_CONFLICT,
                     "the erasure journal %s is missing: restoring without it could bring erased "
                     "customers back (name it with --erasure-journal FILE, or pass "
                     "--without-erasure-journal to restore anyway; that is recorded in the audit "
                     "log)",
                     paths[i]);
            }
            *overridden = true;
            continue;
        }
        TRY(journal_erasures(paths[i], out));
        found++;
    }
    if (found == 0 && !override) {
        BAIL(ERR_CONFLICT,
             "no erasure journal to consult: restoring into a new folder without one could bring "
             "erased customers back (name it with --erasure-journal FILE, or set erasures.journal "
             "in custos.json; --without-erasure-journal restores anyway and is recorded in the "
             "audit log)");
    }
    if (found == 0) {
        *overridden = true;
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

static int cmp_id(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The restored vault's journal ends up naming every customer erased in it (those erased
 * before the backup was taken and those erased again now), so that the next restore, from
 * an older backup, finds them all there, even when the journal was lost and made anew. */
static err journal_complete(const char *staging, vault *v)
{
    id_list have = {0}, all = {0};
    char p[PATH_MAX], ts[40];
    int fd = -1;
    err rc = ERR_OK;
    vault_erasure_journal(staging, &v->cfg, p, sizeof p);
    if (access(p, F_OK) == 0) {
        GUARD(journal_erasures(p, &have));
    }
    GUARD(store_erasures(v->st, collect_erasure, &all));
    if (have.n > 1) {
        qsort(have.ids, have.n, sizeof *have.ids, cmp_id);
    }
    clock_rfc3339(clock_now_us(), ts);
    for (size_t i = 0; i < all.n; i++) {
        if (have.n > 0 && bsearch(&all.ids[i], have.ids, have.n, sizeof *have.ids, cmp_id)) {
            continue;
        }
        if (fd < 0) {
            fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
            CHECK(fd >= 0, ERR_IO, "cannot write the erasure journal %s: %s", p, strerror(errno));
        }
        char line[128];
        int n = snprintf(line, sizeof line, "%s %s\n", all.ids[i], ts);
        CHECK(n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) == n, ERR_IO,
              "cannot write the erasure journal %s", p);
    }
    if (fd >= 0) {
        CHECK(fsync(fd) == 0, ERR_IO, "cannot sync the erasure journal %s", p);
    }
out:
    if (fd >= 0) {
        close(fd);
    }
    free_ids(&have);
    free_ids(&all);
    return rc;
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
    bool existed = access(dir, F_OK) == 0, overridden = false;
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
    /* 4. Erasures recorded since the backup was taken are applied again, wherever the
     *    backup is restored. */
    if ((e = restore_erasures(a, staging, dir, existed, &er, &overridden)) != ERR_OK) {
        goto out;
    }
    if (overridden) {
        fprintf(stderr, "custos: warning: restoring without an erasure journal; customers erased "
                        "since the backup may be readable again (recorded in the audit log)\n");
    }
    if ((e = vault_open(staging, &src, &v)) != ERR_OK) {
        goto out;
    }
    if ((e = door_apply_erasures(v, (const char *const *)er.ids, er.n, &applied)) != ERR_OK) {
        goto out;
    }
    if ((e = journal_complete(staging, v)) != ERR_OK) {
        goto out;
    }
    actor sys;
    actor_system(&sys, "restore");
    audit_entry ae;
    door_entry(&ae, &sys, "vault.restore", "allow", "operator");
    ae.count = (int64_t)applied;
    if (overridden) {
        ae.rule = "without-erasure-journal";
        ae.reason = "restored without the erasure journal: customers erased since the backup "
                    "may be readable again";
    }
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
