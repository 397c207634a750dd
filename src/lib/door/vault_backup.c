/*
 * vault_backup.c - backups and restores of a whole vault, and the erasure journal that keeps
 * erased customers erased across them. A backup is taken online (SQLite's backup API while a
 * server runs) and sealed whole; a restore authenticates every byte before it touches the
 * target, re-applies every erasure any journal it can see names, and keeps the replaced vault
 * aside. The CLI (custos backup, custos restore) only parses and prints.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "door_int.h"
#include "store/store_backup.h"

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
static err restore_erasures(const vault_restore_opts *o, const char *staging, const char *dir,
                            bool existed, id_list *out, bool *overridden, vault_restore_result *res)
{
    const char *paths[3];
    char named[PATH_MAX], replaced[PATH_MAX];
    size_t np = 0;
    bool override = o->without_erasure_journal;
    *overridden = false;
    if (o->erasure_journal) {
        paths[np++] = o->erasure_journal;
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
                snprintf(res->stood_in, sizeof res->stood_in, "%s", paths[i]);
                log_warn("vault.restore",
                         "the erasure journal %s is missing; using %s in its place", paths[i],
                         paths[0]);
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

/* The erasure journal custos.json names, made at start when it is not there yet. Made anew it
 * names every customer the vault has erased already (a journal lost and made empty would let
 * a restore of an older backup bring them back). */
err vault_erasure_journal_ensure(const char *dir)
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

err vault_backup(vault *v, const char *out)
{
    char au[PATH_MAX], kr[PATH_MAX], pub[PATH_MAX], er[PATH_MAX], tk[PATH_MAX], tc[PATH_MAX],
        snap_db[PATH_MAX], snap_au[PATH_MAX];
    vault_path(v, VAULT_AUDIT, au, sizeof au);
    vault_path(v, VAULT_KEYRING, kr, sizeof kr);
    vault_path(v, VAULT_AUDIT_PUB, pub, sizeof pub);
    vault_path(v, VAULT_ERASURES, er, sizeof er);
    vault_path(v, VAULT_TLS_KEY, tk, sizeof tk);
    vault_path(v, VAULT_TLS_CERT, tc, sizeof tc);
    snprintf(snap_db, sizeof snap_db, "%s.db-snapshot.%d", out, (int)getpid());
    snprintf(snap_au, sizeof snap_au, "%s.audit-snapshot.%d", out, (int)getpid());
    actor sys;
    actor_system(&sys, "backup");
    audit_entry ae;
    door_entry(&ae, &sys, "vault.backup", "allow", "operator");
    err e = audit_append(v->au, &ae, NULL);
    /* Online and consistent: SQLite's backup API, while the server keeps running. */
    if (e == ERR_OK) {
        e = store_snapshot(v->st, snap_db);
    }
    if (e == ERR_OK) {
        e = store_copy_file(au, snap_au);
    }
    backup_member m[10] = {
        {"custos.db", snap_db},   {"audit.db", snap_au}, {"keyring", kr},      {"audit.pub", pub},
        {"erasures.journal", er}, {"tls-key.pem", tk},   {"tls-cert.pem", tc},
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
        e = backup_create(v->kr, kr, out, m, nm);
    }
    unlink(snap_db);
    unlink(snap_au);
    return e;
}

err vault_restore(const char *backup, const char *dir, const vault_restore_opts *o,
                  vault_restore_result *res)
{
    memset(res, 0, sizeof *res);
    char staging[PATH_MAX], p[PATH_MAX], q[PATH_MAX];
    snprintf(staging, sizeof staging, "%s.restore-%d", dir, (int)getpid());
    ENSURE(mkdir(staging, 0700) == 0, ERR_IO, "cannot create %s: %s", staging, strerror(errno));
    char **names = NULL;
    size_t nn = 0;
    id_list er = {0};
    vault *v = NULL;
    bool existed = access(dir, F_OK) == 0, overridden = false;
    /* 1. Verify the whole backup and unpack it into the staging folder; nothing else is
     *    touched until every byte has been authenticated. */
    kek_source src = door_kek(o->src);
    err e = backup_extract(backup, &src, staging, &names, &nn);
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
    if ((e = restore_erasures(o, staging, dir, existed, &er, &overridden, res)) != ERR_OK) {
        goto out;
    }
    res->overridden = overridden;
    if ((e = vault_open(staging, o->src, &v)) != ERR_OK) {
        goto out;
    }
    if ((e = door_apply_erasures(v, (const char *const *)er.ids, er.n, &res->reapplied)) !=
        ERR_OK) {
        goto out;
    }
    if ((e = journal_complete(staging, v)) != ERR_OK) {
        goto out;
    }
    actor sys;
    actor_system(&sys, "restore");
    audit_entry ae;
    door_entry(&ae, &sys, "vault.restore", "allow", "operator");
    ae.count = (int64_t)res->reapplied;
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
    if (existed) {
        snprintf(res->replaced_to, sizeof res->replaced_to, "%s", q);
    }
out:
    vault_close(v);
    free_ids(&er);
    if (e != ERR_OK) {
        remove_tree(staging);
    }
    return e;
}
