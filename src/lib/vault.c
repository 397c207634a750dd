/*
 * vault.c - the vault folder: creating it (database, keyring, audit log, TLS
 * material, audit public key) and opening it with the operator's master key.
 */
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
#include "door.h"

void vault_path_in(const char *dir, const char *name, char *out, size_t max)
{
    snprintf(out, max, "%s/%s", dir, name);
}

void vault_path(const vault *v, const char *name, char *out, size_t max)
{
    vault_path_in(v->dir, name, out, max);
}

static err copy_file(const char *from, const char *to, mode_t mode)
{
    FILE *in = fopen(from, "rb");
    ENSURE(in != NULL, ERR_IO, "cannot read %s", from);
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        fclose(in);
        BAIL(ERR_IO, "cannot create %s", to);
    }
    char b[8192];
    size_t n;
    err rc = ERR_OK;
    while ((n = fread(b, 1, sizeof b, in)) > 0) {
        if (write(fd, b, n) != (ssize_t)n) {
            rc = err_set(ERR_IO, __FILE__, __LINE__, "cannot write %s", to);
            break;
        }
    }
    mem_wipe(b, sizeof b);
    fclose(in);
    if (fsync(fd) != 0 && rc == ERR_OK) {
        rc = err_set(ERR_IO, __FILE__, __LINE__, "cannot sync %s", to);
    }
    close(fd);
    return rc;
}

err vault_init(const char *dir, const vault_init_opts *o)
{
    char p[PATH_MAX], q[PATH_MAX];
    struct stat st;
    if (stat(dir, &st) == 0) {
        vault_path_in(dir, VAULT_KEYRING, p, sizeof p);
        ENSURE(access(p, F_OK) != 0, ERR_CONFLICT, "a vault exists already in %s", dir);
        vault_path_in(dir, VAULT_DB, p, sizeof p);
        ENSURE(access(p, F_OK) != 0, ERR_CONFLICT, "a vault exists already in %s", dir);
    } else {
        ENSURE(mkdir(dir, 0700) == 0, ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    }
    ENSURE((o->tls_cert == NULL) == (o->tls_key == NULL), ERR_INPUT,
           "--tls-cert and --tls-key go together");
    vault_path_in(dir, "tls", p, sizeof p);
    ENSURE(mkdir(p, 0700) == 0 || errno == EEXIST, ERR_IO, "cannot create %s", p);
    vault_path_in(dir, VAULT_KEYRING, p, sizeof p);
    TRY(keyring_create(p, o->src, o->kdf));
    keyring *kr = NULL;
    TRY(keyring_open(p, o->src, &kr));
    uint8_t pk[32];
    keyring_public_key(kr, pk);
    keyring_free(kr);
    char hex[HEX_LEN(32)];
    hex_encode(hex, pk, 32);
    vault_path_in(dir, VAULT_AUDIT_PUB, p, sizeof p);
    FILE *f = fopen(p, "wx");
    ENSURE(f != NULL, ERR_IO, "cannot write %s", p);
    fprintf(f, "ed25519 %s\n", hex);
    fclose(f);
    vault_path_in(dir, VAULT_DB, p, sizeof p);
    store *s = NULL;
    TRY(store_open(p, true, &s));
    char now[40];
    clock_rfc3339(clock_now_us(), now);
    err rc = store_meta_set(s, "created", now);
    store_close(s);
    TRY(rc);
    vault_path_in(dir, VAULT_AUDIT, p, sizeof p);
    TRY(audit_create(p));
    vault_path_in(dir, VAULT_TLS_KEY, p, sizeof p);
    vault_path_in(dir, VAULT_TLS_CERT, q, sizeof q);
    if (o->tls_cert) {
        TRY(copy_file(o->tls_key, p, 0600));
        TRY(copy_file(o->tls_cert, q, 0644));
    } else {
        TRY(tls_generate_self_signed(p, q));
    }
    vault_path_in(dir, VAULT_ERASURES, p, sizeof p);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    ENSURE(fd >= 0, ERR_IO, "cannot create %s", p);
    close(fd);
    return ERR_OK;
}

err vault_open(const char *dir, const kek_source *src, vault **out)
{
    vault *v = calloc(1, sizeof *v);
    ENSURE(v != NULL, ERR_INTERNAL, "out of memory");
    err rc = ERR_OK;
    char p[PATH_MAX];
    v->dir = strdup(dir);
    v->session_ttl_us = (int64_t)8 * 3600 * 1000000;
    CHECK(v->dir != NULL, ERR_INTERNAL, "out of memory");
    /* Fields are sealed with AES-256-GCM where the CPU has AES-NI (about twice as fast here,
     * see make bench); every customer has its own data key, so GCM's random-nonce limit of
     * 2^32 messages per key is never approached. Elsewhere XChaCha20-Poly1305. Both are
     * always readable: the envelope names its algorithm. */
    if (seal_set_algorithm(SEAL_AES256GCM) != ERR_OK) {
        IGNORE(seal_set_algorithm(SEAL_XCHACHA20POLY1305));
    }
    vault_path_in(dir, VAULT_KEYRING, p, sizeof p);
    CHECK(access(p, F_OK) == 0, ERR_NOT_FOUND, "no vault in %s (run custos init first)", dir);
    GUARD(keyring_open(p, src, &v->kr));
    vault_path_in(dir, VAULT_DB, p, sizeof p);
    GUARD(store_open(p, false, &v->st));
    vault_path_in(dir, VAULT_AUDIT, p, sizeof p);
    GUARD(audit_open(p, &v->au));
    *out = v;
    return ERR_OK;
out:
    vault_close(v);
    return rc;
}

void vault_close(vault *v)
{
    if (!v) {
        return;
    }
    audit_close(v->au);
    store_close(v->st);
    keyring_free(v->kr);
    free(v->dir);
    free(v);
}
