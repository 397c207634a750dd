/*
 * vault.c - the vault folder: creating it (database, keyring, audit log, TLS
 * material, audit public key) and opening it with the operator's master key.
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

#include "audit/checkpoint.h"
#include "core/clock.h"
#include "core/log.h"
#include "door_int.h"

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

/* ---- the audit anchor ----
 * custos.db's meta row "audit_anchor" remembers the latest signed checkpoint apart from the
 * log, MACed with a key derived from the master keys (keyring_mac, purpose "audit.anchor"):
 *   "custos-anchor-v1 " <64 hex digits: MAC("custos.audit.anchor.v1\n" origin "\n" note)> "\n"
 *   <the signed note, or nothing for the empty log>
 * Without the master key it can be neither forged nor moved to an older checkpoint found in
 * the log; a missing or bad anchor stops the vault from opening (docs/FORMATS.md). */
#define VAULT_ANCHOR_KEY "audit_anchor"
#define ANCHOR_MAGIC "custos-anchor-v1 "
#define ANCHOR_PURPOSE "audit.anchor"

static err anchor_mac(keyring *kr, const char *origin, slice note, uint8_t mac[32])
{
    buf m;
    buf_init(&m, (size_t)1 << 20);
    err rc = buf_appendf(&m, "custos.audit.anchor.v1\n%s\n", origin);
    if (rc == ERR_OK) {
        rc = buf_append(&m, note.p, note.len);
    }
    if (rc == ERR_OK) {
        keyring_mac(kr, ANCHOR_PURPOSE, buf_slice(&m), mac);
    }
    buf_free(&m);
    return rc;
}

static err anchor_text(keyring *kr, const char *origin, slice note, buf *out)
{
    uint8_t mac[32];
    TRY(anchor_mac(kr, origin, note, mac));
    char hex[HEX_LEN(32)];
    hex_encode(hex, mac, sizeof mac);
    buf_reset(out);
    TRY(buf_appendf(out, ANCHOR_MAGIC "%s\n", hex));
    return buf_append(out, note.p, note.len);
}

/* The note of a valid anchor into note (empty for the empty log); ERR_NOT_FOUND when there
 * is none, ERR_CRYPTO when it does not verify. */
static err anchor_read(vault *v, buf *note)
{
    buf t;
    buf_init(&t, 1 << 16);
    err rc = ERR_OK;
    err ge = store_meta_get(v->st, VAULT_ANCHOR_KEY, &t);
    CHECK(ge != ERR_NOT_FOUND, ERR_NOT_FOUND, "the audit anchor is missing from custos.db");
    GUARD(ge);
    size_t ml = strlen(ANCHOR_MAGIC);
    CHECK(t.len >= ml + 65 && memcmp(t.p, ANCHOR_MAGIC, ml) == 0 && t.p[ml + 64] == '\n',
          ERR_CRYPTO, "the audit anchor in custos.db is malformed");
    uint8_t want[32], got[32];
    size_t n = 0;
    CHECK(hex_decode(got, sizeof got, &n, (const char *)t.p + ml, 64) == ERR_OK && n == 32,
          ERR_CRYPTO, "the audit anchor in custos.db is malformed");
    slice body = slice_of(t.p + ml + 65, t.len - ml - 65);
    GUARD(anchor_mac(v->kr, v->audit_origin, body, want));
    CHECK(mem_eq_ct(want, got, 32), ERR_CRYPTO,
          "the audit anchor in custos.db does not verify with the master key (forged, or "
          "copied from another vault)");
    GUARD(buf_set(note, body.p, body.len));
out:
    buf_free(&t);
    return rc;
}

static err anchor_write(vault *v, slice note)
{
    buf t;
    buf_init(&t, 1 << 16);
    err rc = anchor_text(v->kr, v->audit_origin, note, &t);
    if (rc == ERR_OK) {
        rc = store_meta_set(v->st, VAULT_ANCHOR_KEY, buf_cstr(&t));
    }
    buf_free(&t);
    return rc;
}

/* The last checkpoint in the file witness (notes appended one after another, each starting
 * with the origin line); ERR_NOT_FOUND when there is none. */
#define WITNESS_TAIL (1 << 16)

static err witness_file_last(const vault *v, buf *note)
{
    if (!v->cfg.witness_file[0]) {
        return ERR_NOT_FOUND;
    }
    FILE *f = fopen(v->cfg.witness_file, "rb");
    if (!f) {
        return ERR_NOT_FOUND;
    }
    /* Only the tail: the file grows with every checkpoint; the last note is at its end. */
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        (void)fseek(f, size > WITNESS_TAIL ? size - WITNESS_TAIL : 0, SEEK_SET);
    }
    buf b;
    buf_init(&b, WITNESS_TAIL);
    char tmp[8192];
    size_t n;
    err rc = ERR_OK;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0 && rc == ERR_OK) {
        rc = buf_append(&b, tmp, n);
    }
    fclose(f);
    GUARD(rc);
    char head[300];
    int hn = snprintf(head, sizeof head, "%s\n", v->audit_origin);
    const uint8_t *last = NULL;
    for (size_t i = 0; i + (size_t)hn <= b.len; i++) {
        if ((i == 0 || b.p[i - 1] == '\n') && memcmp(b.p + i, head, (size_t)hn) == 0) {
            last = b.p + i;
        }
    }
    CHECK(last != NULL, ERR_NOT_FOUND, "no checkpoint in the witness file");
    size_t len = (size_t)(b.p + b.len - last);
    while (len >= 2 && last[len - 1] == '\n' && last[len - 2] == '\n') {
        len--; /* the blank line that follows each note */
    }
    GUARD(buf_set(note, last, len));
out:
    buf_free(&b);
    return rc;
}

err vault_init(const char *dir, const vault_init_opts *o)
{
    char p[PATH_MAX], q[PATH_MAX];
    struct stat st;
    if (stat(dir, &st) == 0) {
        ENSURE((st.st_mode & 077) == 0, ERR_DENIED,
               "the folder %s can be read or written by group or others (mode %03o): run chmod "
               "700 '%s' first",
               dir, (unsigned)(st.st_mode & 0777), dir);
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
    kek_source src = door_kek(o->src);
    TRY(keyring_create(p, &src, door_kdf(o->kdf)));
    keyring *kr = NULL;
    TRY(keyring_open(p, &src, &kr));
    uint8_t pk[32];
    keyring_public_key(kr, pk);
    /* The vault's name in checkpoints: random, so that two vaults never share an origin. */
    uint8_t rid[10];
    rand_bytes(rid, sizeof rid);
    char vid[HEX_LEN(10)];
    hex_encode(vid, rid, sizeof rid);
    char key_name[128];
    snprintf(key_name, sizeof key_name, "custos.audit.%s", vid);
    /* The first audit anchor: the empty log, sealed by the master key. */
    buf anchor;
    buf_init(&anchor, 1 << 16);
    err are = anchor_text(kr, key_name, slice_of(NULL, 0), &anchor);
    keyring_free(kr);
    if (are != ERR_OK) {
        buf_free(&anchor);
        return are;
    }
    buf vkey;
    buf_init(&vkey, 1024);
    err vrc = checkpoint_vkey(key_name, pk, &vkey);
    char hex[HEX_LEN(32)];
    hex_encode(hex, pk, 32);
    vault_path_in(dir, VAULT_AUDIT_PUB, p, sizeof p);
    FILE *f = vrc == ERR_OK ? fopen(p, "wx") : NULL;
    if (!f) {
        buf_free(&anchor);
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
    err se = store_open(p, true, &s);
    if (se != ERR_OK) {
        buf_free(&anchor);
        return se;
    }
    char now[40];
    clock_rfc3339(clock_now_us(), now);
    err rc = store_meta_set(s, "created", now);
    if (rc == ERR_OK) {
        rc = store_meta_set(s, "audit_key_name", key_name);
    }
    if (rc == ERR_OK) {
        rc = store_meta_set(s, VAULT_ANCHOR_KEY, buf_cstr(&anchor));
    }
    buf_free(&anchor);
    store_close(s);
    TRY(rc);
    vault_path_in(dir, VAULT_AUDIT, p, sizeof p);
    TRY(audit_create(p));
    vault_path_in(dir, VAULT_TLS_KEY, p, sizeof p);
    vault_path_in(dir, VAULT_TLS_CERT, q, sizeof q);
    if (o->tls_cert) {
        TRY(copy_file(o->tls_key, p, 0600));
        TRY(copy_file(o->tls_cert, q, 0600));
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

/* Every signed checkpoint becomes the vault's audit anchor (sealed by the master key): a
 * log rolled back or replaced on its own no longer matches it. */
static void pin_checkpoint(void *ctx, slice note)
{
    vault *v = ctx;
    if (anchor_write(v, note) != ERR_OK) {
        log_error("audit.pin", "could not remember the latest checkpoint: %s", err_message());
    }
    witness_publish(v->witness, note);
}

bool vault_has_witness(const vault *v)
{
    return v->cfg.witness_file[0] || v->cfg.witness_syslog[0] || v->cfg.witness_webhook[0];
}

static err vault_audit_signing(vault *v, bool accept_anchor)
{
    buf name, pinned, wnote;
    buf_init(&name, 256);
    buf_init(&pinned, 1 << 16);
    buf_init(&wnote, 1 << 16);
    err rc = ERR_OK;
    const char *problem = NULL, *code = NULL;
    char why[400] = "";
    GUARD(store_meta_get(v->st, "audit_key_name", &name));
    v->audit_origin = strdup(buf_cstr(&name));
    CHECK(v->audit_origin != NULL, ERR_INTERNAL, "out of memory");
    uint8_t pk[32];
    keyring_public_key(v->kr, pk);
    err ae = anchor_read(v, &pinned);
    if (ae == ERR_NOT_FOUND || ae == ERR_CRYPTO) {
        snprintf(why, sizeof why, "%s", err_message());
        problem = why;
        code = ae == ERR_NOT_FOUND ? "anchor-missing" : "anchor-invalid";
        buf_reset(&pinned);
    } else {
        GUARD(ae);
    }
    /* A file witness on this machine holds a newer checkpoint than the anchor: custos.db
     * (with its anchor) was put back from an older copy. */
    if (!problem && witness_file_last(v, &wnote) == ERR_OK) {
        checkpoint wc, ac;
        memset(&ac, 0, sizeof ac);
        bool wok = checkpoint_open(buf_slice(&wnote), buf_cstr(&name), pk, &wc) == ERR_OK;
        bool aok = pinned.len == 0 ||
                   checkpoint_open(buf_slice(&pinned), buf_cstr(&name), pk, &ac) == ERR_OK;
        if (wok && aok && wc.size > ac.size) {
            snprintf(why, sizeof why,
                     "the audit anchor in custos.db (size %llu) is older than the witness's last "
                     "checkpoint (size %llu)",
                     (unsigned long long)ac.size, (unsigned long long)wc.size);
            problem = why;
            code = "anchor-older-than-witness";
        }
    }
    if (problem && !accept_anchor) {
        FAIL(ERR_CRYPTO,
             "%s; the log may have been rolled back or replaced: refused. Check it against a "
             "witness, then start once with --accept-audit-anchor (audited)",
             problem);
    }
    if (problem) {
        log_warn("audit.anchor", "%s: started with --accept-audit-anchor (audited)", problem);
    }
    audit_signing s;
    memset(&s, 0, sizeof s);
    s.origin = buf_cstr(&name);
    s.key_name = buf_cstr(&name);
    memcpy(s.pk, pk, 32);
    s.sign = sign_with_keyring;
    s.ctx = v->kr;
    s.every_n = v->cfg.checkpoint_every;
    s.every_us = v->cfg.checkpoint_us;
    s.pinned_note = pinned.len ? buf_cstr(&pinned) : NULL;
    GUARD(witness_start(&v->cfg, v->au, &v->witness));
    audit_on_checkpoint(v->au, pin_checkpoint, v);
    GUARD(audit_enable_checkpoints(v->au, &s));
    if (problem) {
        actor sys;
        actor_system(&sys, "serve");
        audit_entry e;
        door_entry(&e, &sys, "audit.anchor.override", "allow", "operator");
        e.reason = code;
        GUARD(audit_append(v->au, &e, NULL));
        /* The log as it is becomes the anchor. */
        buf latest;
        buf_init(&latest, 1 << 16);
        err le = audit_latest_checkpoint(v->au, &latest, NULL);
        if (le == ERR_OK || le == ERR_NOT_FOUND) {
            le = anchor_write(v, le == ERR_OK ? buf_slice(&latest) : slice_of(NULL, 0));
        }
        buf_free(&latest);
        GUARD(le);
    }
out:
    buf_free(&name);
    buf_free(&pinned);
    buf_free(&wnote);
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

/* Files of the vault folder that hold nothing secret: others may read them (never write). */
static bool vault_public_file(const char *rel)
{
    static const char *const names[] = {"custos.json", "guard.rules",  "policy.conf",
                                        "audit.pub",   "tls/cert.pem", ".demo-complete"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(rel, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

static err mode_refused(const char *path, mode_t mode, bool dir)
{
    BAIL(ERR_DENIED,
         "%s %s can be %s by group or others (mode %03o): the vault refuses to open; run "
         "chmod %s '%s' (files 0600, folders 0700) and check who else could have read it",
         dir ? "the folder" : "the file", path, (mode & 022) ? "written" : "read",
         (unsigned)(mode & 0777), dir ? "700" : "600", path);
}

/* The folder, the folder tls/ and every file in them: private (0700/0600), except the
 * configuration and public files, which others may read but never write. */
static err vault_check_folder(const char *dir, const char *sub)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
    struct stat st;
    ENSURE(stat(p, &st) == 0, ERR_IO, "cannot read %s: %s", p, strerror(errno));
    ENSURE(S_ISDIR(st.st_mode), ERR_INPUT, "%s is not a folder", p);
    if (st.st_mode & 077) {
        return mode_refused(p, st.st_mode, true);
    }
    DIR *d = opendir(p);
    ENSURE(d != NULL, ERR_IO, "cannot read %s: %s", p, strerror(errno));
    err rc = ERR_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char f[PATH_MAX], rel[PATH_MAX];
        snprintf(f, sizeof f, "%s/%s", p, e->d_name);
        snprintf(rel, sizeof rel, "%s%s%s", sub ? sub : "", sub ? "/" : "", e->d_name);
        struct stat fs; /* of the file itself, where a symbolic link points */
        if (stat(f, &fs) != 0) {
            continue; /* gone meanwhile (a -shm file of a closing reader) */
        }
        if (S_ISDIR(fs.st_mode)) {
            if (!sub && strcmp(e->d_name, "tls") == 0) {
                GUARD(vault_check_folder(dir, "tls"));
            } else if (fs.st_mode & 077) {
                FAIL(ERR_DENIED,
                     "the folder %s can be read or written by group or others (mode %03o): the "
                     "vault refuses to open; run chmod 700 '%s'",
                     f, (unsigned)(fs.st_mode & 0777), f);
            }
            continue;
        }
        mode_t loose = vault_public_file(rel) ? 022 : 077;
        if (fs.st_mode & loose) {
            rc = mode_refused(f, fs.st_mode, false);
            goto out;
        }
    }
out:
    closedir(d);
    return rc;
}

err vault_key_from_env(const char *key_file, vault_key *out)
{
    kek_source s;
    TRY(kek_source_from_env(key_file, &s));
    *out = (vault_key){s.passphrase, s.passphrase_len, s.key_file};
    return ERR_OK;
}

err vault_key_file_generate(const char *path)
{
    return key_file_generate(path);
}

err vault_open(const char *dir, const vault_key *key, vault **out)
{
    return vault_open_with(dir, key, NULL, out);
}

err vault_open_with(const char *dir, const vault_key *key, const vault_open_opts *o, vault **out)
{
    vault *v = calloc(1, sizeof *v);
    ENSURE(v != NULL, ERR_INTERNAL, "out of memory");
    err rc = ERR_OK;
    char p[PATH_MAX];
    v->dir = strdup(dir);
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
    GUARD(vault_check_folder(dir, NULL));
    GUARD(vault_config_load(dir, &v->cfg));
    GUARD(vault_policy_load(dir));
    kek_source src = door_kek(key);
    GUARD(keyring_open(p, &src, &v->kr));
    vault_path_in(dir, VAULT_DB, p, sizeof p);
    GUARD(store_open(p, false, &v->st));
    v->id = (identity){
        .st = v->st,
        .kr = v->kr,
        .scope = v->dir,
        .session_ttl_us = v->cfg.session_us ? v->cfg.session_us : (int64_t)8 * 3600 * 1000000,
        .session_idle_us = v->cfg.session_idle_us ? v->cfg.session_idle_us : (int64_t)30 * 60000000,
        .lockout_after = v->cfg.lockout_after ? v->cfg.lockout_after : 5,
        .lockout_us = v->cfg.lockout_us ? v->cfg.lockout_us : (int64_t)60 * 1000000,
        .second_factor = v->cfg.totp == VAULT_TOTP_ALL   ? IDENTITY_2FA_ALL
                         : v->cfg.totp == VAULT_TOTP_OFF ? IDENTITY_2FA_OFF
                                                         : IDENTITY_2FA_DOORS,
    };
    GUARD(door_idem_init(v));
    vault_path_in(dir, VAULT_AUDIT, p, sizeof p);
    GUARD(audit_open(p, &v->au));
    GUARD(vault_audit_signing(v, o && o->accept_audit_anchor));
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
    free(v->audit_origin);
    free(v->dir);
    free(v);
}

const char *vault_dir(const vault *v)
{
    return v->dir;
}

const vault_config *vault_cfg(const vault *v)
{
    return &v->cfg;
}

guard *vault_guard(const vault *v)
{
    return v->guard;
}
