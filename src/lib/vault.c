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
#include "audit/checkpoint.h"
#include "door.h"

void vault_path_in(const char *dir, const char *name, char *out, size_t max)
{
    snprintf(out, max, "%s/%s", dir, name);
}

void vault_path(const vault *v, const char *name, char *out, size_t max)
{
    vault_path_in(v->dir, name, out, max);
}

void vault_erasure_journal(const char *dir, const vault_config *c, char *out, size_t max)
{
    if (c->erasure_journal[0]) {
        snprintf(out, max, "%s", c->erasure_journal);
    } else {
        vault_path_in(dir, VAULT_ERASURES, out, max);
    }
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
    /* The vault's name in checkpoints: random, so that two vaults never share an origin. */
    uint8_t rid[10];
    rand_bytes(rid, sizeof rid);
    char vid[HEX_LEN(10)];
    hex_encode(vid, rid, sizeof rid);
    char key_name[128];
    snprintf(key_name, sizeof key_name, "custos.audit.%s", vid);
    buf vkey;
    buf_init(&vkey, 1024);
    err vrc = checkpoint_vkey(key_name, pk, &vkey);
    char hex[HEX_LEN(32)];
    hex_encode(hex, pk, 32);
    vault_path_in(dir, VAULT_AUDIT_PUB, p, sizeof p);
    FILE *f = vrc == ERR_OK ? fopen(p, "wx") : NULL;
    if (!f) {
        buf_free(&vkey);
        BAIL(ERR_IO, "cannot write %s", p);
    }
    /* What an offline verifier needs: the key, its name, and the note verifier key that
     * standard signed-note tools take. */
    fprintf(f, "ed25519 %s\nkey_name %s\nvkey %s\n", hex, key_name, buf_cstr(&vkey));
    buf_free(&vkey);
    fclose(f);
    vault_path_in(dir, VAULT_DB, p, sizeof p);
    store *s = NULL;
    TRY(store_open(p, true, &s));
    char now[40];
    clock_rfc3339(clock_now_us(), now);
    err rc = store_meta_set(s, "created", now);
    if (rc == ERR_OK) {
        rc = store_meta_set(s, "audit_key_name", key_name);
    }
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

static void sign_with_keyring(void *ctx, slice msg, uint8_t sig[64])
{
    keyring_sign(ctx, msg, sig);
}

/* Every signed checkpoint is remembered in the vault database too, apart from the log: a
 * log rolled back or replaced on its own no longer matches it. */
static void pin_checkpoint(void *ctx, slice note)
{
    vault *v = ctx;
    buf b;
    buf_init(&b, 1 << 16);
    if (buf_set(&b, note.p, note.len) != ERR_OK ||
        store_meta_set(v->st, "audit_checkpoint", buf_cstr(&b)) != ERR_OK) {
        log_error("audit.pin", "could not remember the latest checkpoint: %s", err_message());
    }
    buf_free(&b);
    witness_publish(v->witness, note);
}

static err vault_audit_signing(vault *v)
{
    buf name, pinned;
    buf_init(&name, 256);
    buf_init(&pinned, 1 << 16);
    err rc = ERR_OK;
    GUARD(store_meta_get(v->st, "audit_key_name", &name));
    err pe = store_meta_get(v->st, "audit_checkpoint", &pinned);
    CHECK(pe == ERR_OK || pe == ERR_NOT_FOUND, pe, "cannot read the pinned checkpoint");
    audit_signing s;
    memset(&s, 0, sizeof s);
    s.origin = buf_cstr(&name);
    s.key_name = buf_cstr(&name);
    keyring_public_key(v->kr, s.pk);
    s.sign = sign_with_keyring;
    s.ctx = v->kr;
    s.every_n = v->cfg.checkpoint_every;
    s.every_us = v->cfg.checkpoint_us;
    s.pinned_note = pe == ERR_OK ? buf_cstr(&pinned) : NULL;
    GUARD(witness_start(&v->cfg, v->au, &v->witness));
    audit_on_checkpoint(v->au, pin_checkpoint, v);
    GUARD(audit_enable_checkpoints(v->au, &s));
out:
    buf_free(&name);
    buf_free(&pinned);
    return rc;
}

/* DIR/policy.conf when present (a bad file stops the vault from opening: fail closed),
 * otherwise the built-in default (DESIGN §3). */
static err vault_policy_load(const char *dir)
{
    char p[PATH_MAX];
    vault_path_in(dir, "policy.conf", p, sizeof p);
    if (access(p, F_OK) != 0) {
        return ERR_OK;
    }
    policy *pol = NULL;
    TRY(policy_load_file(p, &pol));
    policy_install(pol);
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
    GUARD(vault_config_load(dir, &v->cfg));
    v->session_ttl_us = v->cfg.session_us ? v->cfg.session_us : v->session_ttl_us;
    v->session_idle_us = v->cfg.session_idle_us ? v->cfg.session_idle_us : (int64_t)30 * 60000000;
    GUARD(vault_policy_load(dir));
    GUARD(keyring_open(p, src, &v->kr));
    vault_path_in(dir, VAULT_DB, p, sizeof p);
    GUARD(store_open(p, false, &v->st));
    vault_path_in(dir, VAULT_AUDIT, p, sizeof p);
    GUARD(audit_open(p, &v->au));
    GUARD(vault_audit_signing(v));
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
    witness_detach(v->witness);
    audit_close(v->au); /* signs a last checkpoint, handed to the witnesses */
    witness_stop(v->witness);
    store_close(v->st);
    keyring_free(v->kr);
    free(v->dir);
    free(v);
}
