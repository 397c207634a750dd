/*
 * keyring.c - the master keys: KEK versions, the blind-index root key, the audit
 * signing key and the backup root key, kept in one file sealed under a wrapping key
 * (WK) that comes from the operator's passphrase (Argon2id) or from a key file.
 *
 * The file has a plain header (magic, format, KDF parameters and salt, a short WK
 * check value) and a payload sealed with XChaCha20-Poly1305 whose associated data is
 * that header, so changing any parameter fails to open. Every rewrite is atomic (temp
 * file, fsync, rename, fsync of the directory) and serialised across processes by an
 * flock on "<path>.lock"; a rewrite first re-reads the file so that a version added by
 * another process is never lost.
 *
 * In memory, all keys sit in one sodium_malloc block (guarded, locked, wiped on free).
 * A pthread rwlock guards it: the hot paths (unwrap, blind index, audit hash, signing)
 * take it shared and touch no file and allocate nothing; reload, add and retire build
 * a complete new block outside the lock where they can and swap it in exclusively.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "crypto/crypto_int.h"

/* ---- file format constants (docs/FORMATS-crypto.md) ---- */
static const uint8_t KR_MAGIC[8] = {'C', 'U', 'S', 'T', 'O', 'S', 'K', 'R'};
#define KR_FORMAT_V1 1
#define KDF_NONE 0     /* key file: WK is the file's 32 bytes */
#define KDF_ARGON2ID 1 /* crypto_pwhash_ALG_ARGON2ID13 */
#define KR_SALT_LEN 16
#define KR_CHECK_LEN 16
#define KR_HEADER_LEN (8 + 1 + 1 + 8 + 8 + KR_SALT_LEN + KR_CHECK_LEN) /* 58 */
#define KR_NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define KR_TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KR_PAYLOAD_V1 1
#define KEK_MAX 256
#define KEK_ACTIVE 1
#define KEK_DECRYPT_ONLY 2
#define SIGN_SK_LEN crypto_sign_SECRETKEYBYTES /* 64: seed || public key */
#define KEK_REC_LEN (4 + 1 + KEY_LEN)
#define PAYLOAD_MAX (1 + 4 + 4 + KEK_MAX * KEK_REC_LEN + KEY_LEN + SIGN_SK_LEN + KEY_LEN)
/* Bounds on KDF parameters read from a file, so a hostile file cannot ask for 1 TiB. */
#define OPS_MAX 64ULL
#define MEM_MAX ((unsigned long long)4 << 30)

static const char CHECK_CTX[] = "custos.keyring.check.v1";
static const char BLIND_CTX[] = "custos.blind.v1.";
static const char AUDIT_CTX[] = "custos.audit.v1";
static const char BACKUP_CTX[] = "custos.backup.v1.";
static const char MAC_CTX[] = "custos.mac.v1.";

typedef struct kek {
    uint32_t version;
    uint8_t state;
    uint8_t key[KEY_LEN];
} kek;

/* Everything secret, in one sodium_malloc block. */
typedef struct keys {
    uint32_t active;
    size_t n;
    kek kek[KEK_MAX];
    uint8_t blind_root[KEY_LEN];
    uint8_t audit_key[KEY_LEN]; /* derived from blind_root, not stored */
    uint8_t sign_sk[SIGN_SK_LEN];
    uint8_t backup_root[KEY_LEN];
} keys;

typedef struct kr_header {
    uint8_t raw[KR_HEADER_LEN];
    uint8_t kdf;
    unsigned long long ops, mem;
    uint8_t salt[KR_SALT_LEN];
    uint8_t check[KR_CHECK_LEN];
} kr_header;

struct keyring {
    pthread_rwlock_t lock;
    char *path; /* NULL for a keyring opened from memory */
    kr_header hdr;
    uint8_t *wk; /* secret_alloc(KEY_LEN) */
    keys *k;     /* secret_alloc(sizeof(keys)) */
    bool sealed; /* keyring_seal: WK and every KEK wiped until keyring_unseal */
};

/* ============================== key sources ============================== */

err kek_source_from_env(const char *key_file, kek_source *out)
{
    memset(out, 0, sizeof *out);
    if (key_file != NULL) {
        out->key_file = key_file;
        return ERR_OK;
    }
    const char *p = getenv("CUSTOS_PASSPHRASE");
    ENSURE(p != NULL && p[0] != '\0', ERR_INPUT,
           "no master key: set CUSTOS_PASSPHRASE or pass --key-file");
    out->passphrase = p;
    out->passphrase_len = strlen(p);
    return ERR_OK;
}

err key_file_generate(const char *path)
{
    err rc = ERR_OK;
    uint8_t k[KEY_LEN];
    char hex[HEX_LEN(KEY_LEN) + 1];
    int fd;
    TRY(file_create_exclusive(path, FILE_MODE_PRIVATE, &fd));
    randombytes_buf(k, sizeof k);
    hex_encode(hex, k, sizeof k);
    hex[2 * KEY_LEN] = '\n';
    GUARD(file_write_all(fd, hex, 2 * KEY_LEN + 1, path));
    CHECK(fsync(fd) == 0, ERR_IO, "cannot sync the key file %s", path);
out:
    close(fd);
    if (rc != ERR_OK) {
        (void)unlink(path);
    } else {
        rc = file_sync_dir(path, false);
    }
    sodium_memzero(k, sizeof k);
    sodium_memzero(hex, sizeof hex);
    return rc;
}

/* Reads a key file: exactly 64 hex digits, optionally followed by one newline. */
static err key_file_read(const char *path, uint8_t wk[KEY_LEN])
{
    err rc = ERR_OK;
    char text[2 * KEY_LEN + 2];
    size_t len = 0, got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        BAIL(e == ENOENT ? ERR_NOT_FOUND : ERR_IO, "cannot open the key file %s: %s", path,
             strerror(e));
    }
    GUARD(file_check_private(fd, "the key file", path));
    for (;;) {
        ssize_t r = read(fd, text + len, sizeof text - len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        CHECK(r >= 0, ERR_IO, "cannot read the key file %s", path);
        if (r == 0) {
            break;
        }
        len += (size_t)r;
        if (len == sizeof text) {
            char extra;
            CHECK(read(fd, &extra, 1) == 0, ERR_INPUT, "the key file %s is not 64 hex digits",
                  path);
            break;
        }
    }
    if (len == 2 * KEY_LEN + 1 && text[2 * KEY_LEN] == '\n') {
        len--;
    }
    CHECK(len == 2 * KEY_LEN, ERR_INPUT, "the key file %s is not 64 hex digits", path);
    CHECK(hex_decode(wk, KEY_LEN, &got, text, len) == ERR_OK && got == KEY_LEN, ERR_INPUT,
          "the key file %s is not 64 hex digits", path);
out:
    close(fd);
    sodium_memzero(text, sizeof text);
    if (rc != ERR_OK) {
        sodium_memzero(wk, KEY_LEN);
    }
    return rc;
}

/* ============================== header ============================== */

static void put_u64(uint8_t *p, unsigned long long v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void wk_check(const uint8_t wk[KEY_LEN], uint8_t out[KR_CHECK_LEN])
{
    crypto_generichash(out, KR_CHECK_LEN, (const uint8_t *)CHECK_CTX, sizeof CHECK_CTX - 1, wk,
                       KEY_LEN);
}

static void header_encode(kr_header *h)
{
    uint8_t *p = h->raw;
    memcpy(p, KR_MAGIC, 8);
    p[8] = KR_FORMAT_V1;
    p[9] = h->kdf;
    put_u64(p + 10, h->ops);
    put_u64(p + 18, h->mem);
    memcpy(p + 26, h->salt, KR_SALT_LEN);
    memcpy(p + 42, h->check, KR_CHECK_LEN);
}

static err header_decode(slice file, kr_header *h)
{
    cursor c = cursor_of(file);
    slice magic, salt, check;
    uint8_t ver;
    uint64_t ops, mem;
    ENSURE(file.len >= KR_HEADER_LEN + KR_NONCE_LEN + KR_TAG_LEN, ERR_CRYPTO,
           "the keyring file is damaged (truncated)");
    TRY(cursor_bytes(&c, 8, &magic));
    ENSURE(memcmp(magic.p, KR_MAGIC, 8) == 0, ERR_CRYPTO, "not a Custos keyring file");
    TRY(cursor_u8(&c, &ver));
    ENSURE(ver == KR_FORMAT_V1, ERR_CRYPTO, "unknown keyring format version %u", ver);
    TRY(cursor_u8(&c, &h->kdf));
    TRY(cursor_u64be(&c, &ops));
    TRY(cursor_u64be(&c, &mem));
    TRY(cursor_bytes(&c, KR_SALT_LEN, &salt));
    TRY(cursor_bytes(&c, KR_CHECK_LEN, &check));
    if (h->kdf == KDF_ARGON2ID) {
        ENSURE(ops >= crypto_pwhash_OPSLIMIT_MIN && ops <= OPS_MAX &&
                   mem >= crypto_pwhash_MEMLIMIT_MIN && mem <= MEM_MAX,
               ERR_CRYPTO, "the keyring file is damaged (KDF parameters out of range)");
    } else {
        ENSURE(h->kdf == KDF_NONE && ops == 0 && mem == 0, ERR_CRYPTO,
               "the keyring file is damaged (unknown KDF)");
    }
    h->ops = ops;
    h->mem = mem;
    memcpy(h->salt, salt.p, KR_SALT_LEN);
    memcpy(h->check, check.p, KR_CHECK_LEN);
    memcpy(h->raw, file.p, KR_HEADER_LEN);
    return ERR_OK;
}

/* WK from the source and the header's KDF. The mode must match: a passphrase never opens a
 * key-file keyring and the other way round. */
static err wk_derive(const kek_source *src, const kr_header *h, uint8_t wk[KEY_LEN])
{
    bool have_pass = src->passphrase != NULL && src->key_file == NULL;
    ENSURE(src->key_file != NULL || (src->passphrase != NULL && src->passphrase_len > 0), ERR_INPUT,
           "no master key: set CUSTOS_PASSPHRASE or pass --key-file");
    if (h->kdf == KDF_NONE) {
        ENSURE(!have_pass, ERR_AUTH, "wrong passphrase or key file");
        return key_file_read(src->key_file, wk);
    }
    ENSURE(have_pass, ERR_AUTH, "wrong passphrase or key file");
    ENSURE(src->passphrase_len <= crypto_pwhash_PASSWD_MAX, ERR_INPUT, "passphrase too long");
    ENSURE(crypto_pwhash(wk, KEY_LEN, src->passphrase, src->passphrase_len, h->salt, h->ops,
                         (size_t)h->mem, crypto_pwhash_ALG_ARGON2ID13) == 0,
           ERR_INTERNAL, "not enough memory for Argon2id");
    return ERR_OK;
}

/* ============================== payload ============================== */

static uint32_t get_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void keys_derive(keys *k)
{
    crypto_generichash(k->audit_key, KEY_LEN, (const uint8_t *)AUDIT_CTX, sizeof AUDIT_CTX - 1,
                       k->blind_root, KEY_LEN);
}

static size_t payload_encode(const keys *k, uint8_t *p)
{
    size_t o = 0;
    p[o++] = KR_PAYLOAD_V1;
    put_u32(p + o, k->active);
    o += 4;
    put_u32(p + o, (uint32_t)k->n);
    o += 4;
    for (size_t i = 0; i < k->n; i++) {
        put_u32(p + o, k->kek[i].version);
        p[o + 4] = k->kek[i].state;
        memcpy(p + o + 5, k->kek[i].key, KEY_LEN);
        o += KEK_REC_LEN;
    }
    memcpy(p + o, k->blind_root, KEY_LEN);
    o += KEY_LEN;
    memcpy(p + o, k->sign_sk, SIGN_SK_LEN);
    o += SIGN_SK_LEN;
    memcpy(p + o, k->backup_root, KEY_LEN);
    o += KEY_LEN;
    return o;
}

static err payload_decode(const uint8_t *p, size_t len, keys *k)
{
    ENSURE(len >= 9 && p[0] == KR_PAYLOAD_V1, ERR_CRYPTO,
           "the keyring file is damaged (payload version)");
    uint32_t active = get_u32(p + 1), n = get_u32(p + 5);
    ENSURE(n >= 1 && n <= KEK_MAX, ERR_CRYPTO, "the keyring file is damaged (KEK count)");
    ENSURE(len == 9 + (size_t)n * KEK_REC_LEN + KEY_LEN + SIGN_SK_LEN + KEY_LEN, ERR_CRYPTO,
           "the keyring file is damaged (payload length)");
    size_t o = 9, n_active = 0;
    uint32_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        kek *e = &k->kek[i];
        e->version = get_u32(p + o);
        e->state = p[o + 4];
        memcpy(e->key, p + o + 5, KEY_LEN);
        o += KEK_REC_LEN;
        ENSURE(e->version > prev, ERR_CRYPTO, "the keyring file is damaged (KEK order)");
        ENSURE(e->state == KEK_ACTIVE || e->state == KEK_DECRYPT_ONLY, ERR_CRYPTO,
               "the keyring file is damaged (KEK state)");
        ENSURE((e->state == KEK_ACTIVE) == (e->version == active), ERR_CRYPTO,
               "the keyring file is damaged (active KEK)");
        n_active += e->state == KEK_ACTIVE;
        prev = e->version;
    }
    ENSURE(n_active == 1, ERR_CRYPTO, "the keyring file is damaged (no active KEK)");
    k->active = active;
    k->n = n;
    memcpy(k->blind_root, p + o, KEY_LEN);
    o += KEY_LEN;
    memcpy(k->sign_sk, p + o, SIGN_SK_LEN);
    o += SIGN_SK_LEN;
    memcpy(k->backup_root, p + o, KEY_LEN);
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[SIGN_SK_LEN];
    crypto_sign_seed_keypair(pk, sk, k->sign_sk);
    int same = sodium_memcmp(sk, k->sign_sk, SIGN_SK_LEN);
    sodium_memzero(sk, sizeof sk);
    ENSURE(same == 0, ERR_CRYPTO, "the keyring file is damaged (signing key)");
    keys_derive(k);
    return ERR_OK;
}

static keys *keys_new(void)
{
    return secret_alloc(sizeof(keys));
}

/* Opens the sealed file bytes with wk into a new keys block. */
static err kr_file_open(slice file, const uint8_t wk[KEY_LEN], kr_header *h, keys **out)
{
    err rc = ERR_OK;
    uint8_t *plain = NULL;
    keys *k = NULL;
    *out = NULL;
    GUARD(header_decode(file, h));
    uint8_t check[KR_CHECK_LEN];
    wk_check(wk, check);
    CHECK(sodium_memcmp(check, h->check, KR_CHECK_LEN) == 0, ERR_AUTH,
          "wrong passphrase or key file");
    size_t clen = file.len - KR_HEADER_LEN - KR_NONCE_LEN;
    CHECK(clen - KR_TAG_LEN <= PAYLOAD_MAX, ERR_CRYPTO, "the keyring file is damaged (size)");
    plain = secret_alloc(PAYLOAD_MAX);
    k = keys_new();
    CHECK(plain != NULL && k != NULL, ERR_INTERNAL, "out of secure memory");
    unsigned long long plen = 0;
    CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(
              plain, &plen, NULL, file.p + KR_HEADER_LEN + KR_NONCE_LEN, clen, file.p,
              KR_HEADER_LEN, file.p + KR_HEADER_LEN, wk) == 0,
          ERR_CRYPTO, "the keyring file is damaged (integrity check failed)");
    GUARD(payload_decode(plain, (size_t)plen, k));
    *out = k;
    k = NULL;
out:
    secret_free(plain);
    secret_free(k);
    return rc;
}

/* Seals k under wk with header h into out (the whole file). */
static err kr_file_seal(const kr_header *h, const keys *k, const uint8_t wk[KEY_LEN], buf *out)
{
    err rc = ERR_OK;
    uint8_t *plain = secret_alloc(PAYLOAD_MAX);
    CHECK(plain != NULL, ERR_INTERNAL, "out of secure memory");
    size_t plen = payload_encode(k, plain);
    buf_reset(out);
    GUARD(buf_reserve(out, KR_HEADER_LEN + KR_NONCE_LEN + plen + KR_TAG_LEN));
    memcpy(out->p, h->raw, KR_HEADER_LEN);
    uint8_t *nonce = out->p + KR_HEADER_LEN;
    randombytes_buf(nonce, KR_NONCE_LEN);
    unsigned long long clen = 0;
    CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + KR_NONCE_LEN, &clen, plain, plen,
                                                     h->raw, KR_HEADER_LEN, NULL, nonce, wk) == 0,
          ERR_CRYPTO, "sealing the keyring failed");
    out->len = KR_HEADER_LEN + KR_NONCE_LEN + (size_t)clen;
out:
    secret_free(plain);
    return rc;
}

/* ============================== create / open ============================== */

err keyring_create(const char *path, const kek_source *src, kdf_strength s)
{
    err rc = ERR_OK;
    kr_header h;
    uint8_t *wk = secret_alloc(KEY_LEN);
    keys *k = keys_new();
    buf file;
    buf_init(&file, KEYRING_FILE_MAX);
    CHECK(wk != NULL && k != NULL, ERR_INTERNAL, "out of secure memory");
    CHECK(access(path, F_OK) != 0, ERR_CONFLICT, "the keyring file %s exists already", path);
    memset(&h, 0, sizeof h);
    if (src->key_file != NULL) {
        h.kdf = KDF_NONE;
    } else {
        CHECK(src->passphrase != NULL && src->passphrase_len > 0, ERR_INPUT,
              "no master key: set CUSTOS_PASSPHRASE or pass --key-file");
        h.kdf = KDF_ARGON2ID;
        h.ops = s == KDF_FAST ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_MODERATE;
        h.mem = s == KDF_FAST ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_MODERATE;
        randombytes_buf(h.salt, KR_SALT_LEN);
    }
    GUARD(wk_derive(src, &h, wk));
    wk_check(wk, h.check);
    header_encode(&h);
    k->active = 1;
    k->n = 1;
    k->kek[0].version = 1;
    k->kek[0].state = KEK_ACTIVE;
    randombytes_buf(k->kek[0].key, KEY_LEN);
    randombytes_buf(k->blind_root, KEY_LEN);
    randombytes_buf(k->backup_root, KEY_LEN);
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    crypto_sign_keypair(pk, k->sign_sk);
    GUARD(kr_file_seal(&h, k, wk, &file));
    GUARD(file_write_atomic(path, buf_slice(&file), true));
out:
    buf_free(&file);
    secret_free(wk);
    secret_free(k);
    return rc;
}

static err kr_open_bytes(slice bytes, const kek_source *src, const char *path, keyring **out)
{
    err rc = ERR_OK;
    keyring *kr = calloc(1, sizeof *kr);
    bool locked = false;
    *out = NULL;
    CHECK(kr != NULL, ERR_INTERNAL, "out of memory");
    CHECK(pthread_rwlock_init(&kr->lock, NULL) == 0, ERR_INTERNAL, "cannot create a lock");
    locked = true;
    kr->wk = secret_alloc(KEY_LEN);
    CHECK(kr->wk != NULL, ERR_INTERNAL, "out of secure memory");
    GUARD(header_decode(bytes, &kr->hdr));
    GUARD(wk_derive(src, &kr->hdr, kr->wk));
    GUARD(kr_file_open(bytes, kr->wk, &kr->hdr, &kr->k));
    if (path != NULL) {
        kr->path = strdup(path);
        CHECK(kr->path != NULL, ERR_INTERNAL, "out of memory");
    }
    *out = kr;
    kr = NULL;
out:
    if (kr != NULL) {
        secret_free(kr->wk);
        secret_free(kr->k);
        free(kr->path);
        if (locked) {
            pthread_rwlock_destroy(&kr->lock);
        }
        free(kr);
    }
    return rc;
}

err keyring_open(const char *path, const kek_source *src, keyring **out)
{
    buf file;
    buf_init(&file, KEYRING_FILE_MAX);
    err rc = file_read_bounded(path, KEYRING_FILE_MAX, &file);
    if (rc == ERR_OK) {
        rc = kr_open_bytes(buf_slice(&file), src, path, out);
    }
    buf_free(&file);
    return rc;
}

err keyring_open_mem(slice file, const kek_source *src, keyring **out)
{
    return kr_open_bytes(file, src, NULL, out);
}

void keyring_seal(keyring *kr)
{
    pthread_rwlock_wrlock(&kr->lock);
    if (!kr->sealed) {
        for (size_t i = 0; i < kr->k->n; i++) {
            sodium_memzero(kr->k->kek[i].key, sizeof kr->k->kek[i].key);
        }
        kr->k->n = 0;
        sodium_memzero(kr->k->backup_root, KEY_LEN);
        sodium_memzero(kr->wk, KEY_LEN);
        kr->sealed = true;
    }
    pthread_rwlock_unlock(&kr->lock);
}

bool keyring_sealed(keyring *kr)
{
    pthread_rwlock_rdlock(&kr->lock);
    bool s = kr->sealed;
    pthread_rwlock_unlock(&kr->lock);
    return s;
}

err keyring_unseal(keyring *kr, const kek_source *src)
{
    ENSURE(kr->path != NULL, ERR_INTERNAL, "this keyring has no file");
    keyring *fresh = NULL;
    TRY(keyring_open(kr->path, src, &fresh)); /* ERR_AUTH: wrong passphrase or key file */
    pthread_rwlock_wrlock(&kr->lock);
    uint8_t *wk = kr->wk;
    keys *k = kr->k;
    kr->wk = fresh->wk;
    kr->k = fresh->k;
    kr->hdr = fresh->hdr;
    kr->sealed = false;
    pthread_rwlock_unlock(&kr->lock);
    fresh->wk = wk;
    fresh->k = k;
    keyring_free(fresh);
    return ERR_OK;
}

void keyring_free(keyring *kr)
{
    if (kr == NULL) {
        return;
    }
    secret_free(kr->wk);
    secret_free(kr->k);
    free(kr->path);
    pthread_rwlock_destroy(&kr->lock);
    free(kr);
}

/* ============================== rotation ============================== */

/* Reads the file and opens it with the WK held. */
static err kr_read(keyring *kr, keys **out)
{
    buf file;
    kr_header h;
    buf_init(&file, KEYRING_FILE_MAX);
    err rc = file_read_bounded(kr->path, KEYRING_FILE_MAX, &file);
    if (rc == ERR_OK) {
        rc = kr_file_open(buf_slice(&file), kr->wk, &h, out);
    }
    if (rc == ERR_OK && memcmp(h.raw, kr->hdr.raw, KR_HEADER_LEN) != 0) {
        secret_free(*out);
        *out = NULL;
        rc = err_set(ERR_AUTH, __FILE__, __LINE__, "the keyring was re-keyed: open it again");
    }
    buf_free(&file);
    return rc;
}

err keyring_reload(keyring *kr)
{
    ENSURE(kr->path != NULL, ERR_INTERNAL, "this keyring has no file");
    ENSURE(!keyring_sealed(kr), ERR_UNAVAILABLE, "the vault is sealed");
    keys *k = NULL;
    TRY(kr_read(kr, &k));
    pthread_rwlock_wrlock(&kr->lock);
    keys *old = kr->k;
    kr->k = k;
    pthread_rwlock_unlock(&kr->lock);
    secret_free(old);
    return ERR_OK;
}

typedef err (*kr_edit_fn)(keys *k, uint32_t arg, uint32_t *result);

/* The one way the file changes: lock across processes, re-read, edit, write, swap. */
static err kr_edit(keyring *kr, kr_edit_fn fn, uint32_t arg, uint32_t *result)
{
    err rc = ERR_OK;
    keys *k = NULL;
    int lfd = -1;
    char lpath[PATH_MAX];
    buf file;
    buf_init(&file, KEYRING_FILE_MAX);
    ENSURE(kr->path != NULL, ERR_INTERNAL, "this keyring has no file");
    ENSURE(strlen(kr->path) + 6 < sizeof lpath, ERR_INPUT, "path too long");
    ENSURE(!keyring_sealed(kr), ERR_UNAVAILABLE, "the vault is sealed");
    snprintf(lpath, sizeof lpath, "%s.lock", kr->path);
    pthread_rwlock_wrlock(&kr->lock);
    lfd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    CHECK(lfd >= 0, ERR_IO, "cannot open %s: %s", lpath, strerror(errno));
    while (flock(lfd, LOCK_EX) != 0) {
        CHECK(errno == EINTR, ERR_IO, "cannot lock %s: %s", lpath, strerror(errno));
    }
    GUARD(kr_read(kr, &k));
    GUARD(fn(k, arg, result));
    GUARD(kr_file_seal(&kr->hdr, k, kr->wk, &file));
    GUARD(file_write_atomic(kr->path, buf_slice(&file), false));
    keys *old = kr->k;
    kr->k = k;
    k = NULL;
    secret_free(old);
out:
    if (lfd >= 0) {
        close(lfd); /* releases the flock */
    }
    pthread_rwlock_unlock(&kr->lock);
    secret_free(k);
    buf_free(&file);
    return rc;
}

static err edit_add(keys *k, uint32_t arg, uint32_t *result)
{
    ENSURE(k->n < KEK_MAX, ERR_CONFLICT, "the keyring holds %d KEK versions: retire some first",
           KEK_MAX);
    uint32_t last = k->kek[k->n - 1].version;
    ENSURE(last < UINT32_MAX, ERR_CONFLICT, "KEK versions exhausted");
    for (size_t i = 0; i < k->n; i++) {
        k->kek[i].state = KEK_DECRYPT_ONLY;
    }
    kek *e = &k->kek[k->n++];
    e->version = last + 1;
    e->state = KEK_ACTIVE;
    randombytes_buf(e->key, KEY_LEN);
    k->active = e->version;
    *result = e->version;
    return ERR_OK;
}

static err edit_retire(keys *k, uint32_t version, uint32_t *result)
{
    ENSURE(version != k->active, ERR_CONFLICT, "KEK version %u is active: add a new one first",
           version);
    for (size_t i = 0; i < k->n; i++) {
        if (k->kek[i].version == version) {
            sodium_memzero(k->kek[i].key, KEY_LEN);
            memmove(&k->kek[i], &k->kek[i + 1], (k->n - i - 1) * sizeof(kek));
            k->n--;
            sodium_memzero(&k->kek[k->n], sizeof(kek));
            *result = version;
            return ERR_OK;
        }
    }
    BAIL(ERR_NOT_FOUND, "no KEK version %u in the keyring", version);
}

static const kek *kek_find(const keys *k, uint32_t version);

/* A new version that wraps nothing yet: the active one stays active. */
static err edit_add_pending(keys *k, uint32_t at_least, uint32_t *result)
{
    ENSURE(k->n < KEK_MAX, ERR_CONFLICT, "the keyring holds %d KEK versions: retire some first",
           KEK_MAX);
    uint32_t last = k->kek[k->n - 1].version;
    ENSURE(last < UINT32_MAX, ERR_CONFLICT, "KEK versions exhausted");
    kek *e = &k->kek[k->n++];
    e->version = last + 1 > at_least ? last + 1 : at_least;
    e->state = KEK_DECRYPT_ONLY;
    randombytes_buf(e->key, KEY_LEN);
    *result = e->version;
    return ERR_OK;
}

static err edit_activate(keys *k, uint32_t version, uint32_t *result)
{
    ENSURE(kek_find(k, version) != NULL, ERR_NOT_FOUND, "no KEK version %u in the keyring",
           version);
    for (size_t i = 0; i < k->n; i++) {
        k->kek[i].state = k->kek[i].version == version ? KEK_ACTIVE : KEK_DECRYPT_ONLY;
    }
    k->active = version;
    *result = version;
    return ERR_OK;
}

err keyring_add_kek(keyring *kr, uint32_t *new_version)
{
    return kr_edit(kr, edit_add, 0, new_version);
}

err keyring_add_kek_pending(keyring *kr, uint32_t at_least, uint32_t *new_version)
{
    return kr_edit(kr, edit_add_pending, at_least, new_version);
}

err keyring_activate_kek(keyring *kr, uint32_t version)
{
    uint32_t ignored;
    return kr_edit(kr, edit_activate, version, &ignored);
}

err keyring_retire_kek(keyring *kr, uint32_t version)
{
    uint32_t ignored;
    return kr_edit(kr, edit_retire, version, &ignored);
}

uint32_t keyring_kek_version(const keyring *kr)
{
    keyring *m = (keyring *)kr; /* the lock is not part of the value */
    pthread_rwlock_rdlock(&m->lock);
    uint32_t v = m->k->active;
    pthread_rwlock_unlock(&m->lock);
    return v;
}

size_t keyring_kek_versions(const keyring *kr, uint32_t *out, size_t max)
{
    keyring *m = (keyring *)kr;
    pthread_rwlock_rdlock(&m->lock);
    size_t n = m->k->n < max ? m->k->n : max;
    for (size_t i = 0; i < n; i++) {
        out[i] = m->k->kek[i].version;
    }
    pthread_rwlock_unlock(&m->lock);
    return n;
}

/* ============================== data keys ============================== */

static const kek *kek_find(const keys *k, uint32_t version)
{
    for (size_t i = k->n; i-- > 0;) { /* newest first: the common case */
        if (k->kek[i].version == version) {
            return &k->kek[i];
        }
    }
    return NULL;
}

err keyring_dek_wrap(keyring *kr, const char *owner, const uint8_t dek[KEY_LEN], buf *wrapped)
{
    pthread_rwlock_rdlock(&kr->lock);
    if (kr->sealed) {
        pthread_rwlock_unlock(&kr->lock);
        BAIL(ERR_UNAVAILABLE, "the vault is sealed");
    }
    const kek *e = kek_find(kr->k, kr->k->active);
    err rc = ALWAYS(e != NULL) ? seal_with(SEAL_XCHACHA20POLY1305, e->key, e->version, owner, "dek",
                                           slice_of(dek, KEY_LEN), wrapped)
                               : err_set(ERR_INTERNAL, __FILE__, __LINE__, "no active KEK");
    pthread_rwlock_unlock(&kr->lock);
    return rc;
}

err keyring_dek_wrap_version(keyring *kr, uint32_t version, const char *owner,
                             const uint8_t dek[KEY_LEN], buf *wrapped)
{
    pthread_rwlock_rdlock(&kr->lock);
    if (kr->sealed) {
        pthread_rwlock_unlock(&kr->lock);
        BAIL(ERR_UNAVAILABLE, "the vault is sealed");
    }
    const kek *e = kek_find(kr->k, version);
    err rc = e != NULL ? seal_with(SEAL_XCHACHA20POLY1305, e->key, e->version, owner, "dek",
                                   slice_of(dek, KEY_LEN), wrapped)
                       : err_set(ERR_NOT_FOUND, __FILE__, __LINE__, "no KEK version %u", version);
    pthread_rwlock_unlock(&kr->lock);
    return rc;
}

err keyring_dek_new(keyring *kr, const char *owner, uint8_t dek[KEY_LEN], buf *wrapped)
{
    randombytes_buf(dek, KEY_LEN);
    err rc = keyring_dek_wrap(kr, owner, dek, wrapped);
    if (rc != ERR_OK) {
        sodium_memzero(dek, KEY_LEN);
    }
    return rc;
}

/* ERR_NOT_FOUND (unrecorded) when the version is not held. */
static err dek_unwrap_once(keyring *kr, uint32_t version, const char *owner, slice wrapped,
                           uint8_t dek[KEY_LEN])
{
    err rc = ERR_NOT_FOUND;
    size_t got = 0;
    pthread_rwlock_rdlock(&kr->lock);
    if (kr->sealed) {
        pthread_rwlock_unlock(&kr->lock);
        BAIL(ERR_UNAVAILABLE, "the vault is sealed");
    }
    const kek *e = kek_find(kr->k, version);
    if (e != NULL) {
        rc = unseal_into(e->key, owner, "dek", wrapped, dek, KEY_LEN, &got);
        if (rc == ERR_OK && got != KEY_LEN) {
            sodium_memzero(dek, KEY_LEN);
            rc = err_set(ERR_CRYPTO, __FILE__, __LINE__, "integrity check failed");
        }
    }
    pthread_rwlock_unlock(&kr->lock);
    return rc;
}

err keyring_dek_unwrap(keyring *kr, const char *owner, slice wrapped, uint8_t dek[KEY_LEN])
{
    uint32_t version;
    TRY(envelope_key_version(wrapped, &version));
    err rc = dek_unwrap_once(kr, version, owner, wrapped, dek);
    if (rc != ERR_NOT_FOUND) {
        return rc;
    }
    if (kr->path != NULL) {
        TRY(keyring_reload(kr));
        rc = dek_unwrap_once(kr, version, owner, wrapped, dek);
        if (rc != ERR_NOT_FOUND) {
            return rc;
        }
    }
    BAIL(ERR_CRYPTO, "unknown key version %u", version);
}

/* ============================== blind index, audit, signing ============================== */

uint64_t keyring_blind(keyring *kr, const char *index_name, unsigned bits, slice normalized)
{
    uint8_t ikey[KEY_LEN], h[8];
    crypto_generichash_state st;
    if (bits < 8) {
        bits = 8;
    } else if (bits > 64) {
        bits = 64;
    }
    pthread_rwlock_rdlock(&kr->lock);
    crypto_generichash_init(&st, kr->k->blind_root, KEY_LEN, KEY_LEN);
    pthread_rwlock_unlock(&kr->lock);
    crypto_generichash_update(&st, (const uint8_t *)BLIND_CTX, sizeof BLIND_CTX - 1);
    crypto_generichash_update(&st, (const uint8_t *)index_name, strlen(index_name));
    crypto_generichash_final(&st, ikey, KEY_LEN);
    crypto_generichash(h, sizeof h, normalized.p, normalized.len, ikey, KEY_LEN);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | h[i];
    }
    sodium_memzero(ikey, sizeof ikey);
    sodium_memzero(&st, sizeof st);
    return bits == 64 ? v : v >> (64 - bits);
}

void keyring_audit_hash(keyring *kr, slice value, uint8_t out[32])
{
    pthread_rwlock_rdlock(&kr->lock);
    crypto_generichash(out, 32, value.p, value.len, kr->k->audit_key, KEY_LEN);
    pthread_rwlock_unlock(&kr->lock);
}

/* A keyed MAC for one purpose: BLAKE2b keyed with a subkey of the blind-index root (which
 * stays in memory while the vault is sealed), so that nothing derived from it can be checked
 * or made without the master key. */
void keyring_mac(keyring *kr, const char *purpose, slice msg, uint8_t out[32])
{
    uint8_t sub[KEY_LEN];
    crypto_generichash_state st;
    pthread_rwlock_rdlock(&kr->lock);
    crypto_generichash_init(&st, kr->k->blind_root, KEY_LEN, KEY_LEN);
    pthread_rwlock_unlock(&kr->lock);
    crypto_generichash_update(&st, (const uint8_t *)MAC_CTX, sizeof MAC_CTX - 1);
    crypto_generichash_update(&st, (const uint8_t *)purpose, strlen(purpose));
    crypto_generichash_final(&st, sub, KEY_LEN);
    crypto_generichash(out, 32, msg.p, msg.len, sub, KEY_LEN);
    sodium_memzero(sub, sizeof sub);
    sodium_memzero(&st, sizeof st);
}

void keyring_sign(keyring *kr, slice msg, uint8_t sig[64])
{
    pthread_rwlock_rdlock(&kr->lock);
    crypto_sign_detached(sig, NULL, msg.p, msg.len, kr->k->sign_sk);
    pthread_rwlock_unlock(&kr->lock);
}

void keyring_public_key(keyring *kr, uint8_t pk[32])
{
    pthread_rwlock_rdlock(&kr->lock);
    crypto_sign_ed25519_sk_to_pk(pk, kr->k->sign_sk);
    pthread_rwlock_unlock(&kr->lock);
}

/* ============================== for backups ============================== */

err keyring_matches_file(keyring *kr, slice file)
{
    kr_header h;
    keys *k = NULL;
    err rc = kr_file_open(file, kr->wk, &h, &k);
    ENSURE(rc != ERR_AUTH, ERR_CRYPTO, "the keyring file is not the open keyring");
    TRY(rc);
    pthread_rwlock_rdlock(&kr->lock);
    int same = sodium_memcmp(k->backup_root, kr->k->backup_root, KEY_LEN);
    pthread_rwlock_unlock(&kr->lock);
    secret_free(k);
    ENSURE(same == 0, ERR_CRYPTO, "the keyring file is not the open keyring");
    return ERR_OK;
}

void keyring_backup_key(keyring *kr, const uint8_t salt[16], uint8_t out[KEY_LEN])
{
    crypto_generichash_state st;
    pthread_rwlock_rdlock(&kr->lock);
    crypto_generichash_init(&st, kr->k->backup_root, KEY_LEN, KEY_LEN);
    pthread_rwlock_unlock(&kr->lock);
    crypto_generichash_update(&st, (const uint8_t *)BACKUP_CTX, sizeof BACKUP_CTX - 1);
    crypto_generichash_update(&st, salt, 16);
    crypto_generichash_final(&st, out, KEY_LEN);
    sodium_memzero(&st, sizeof st);
}
