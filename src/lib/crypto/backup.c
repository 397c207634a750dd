/*
 * backup.c - encrypted, authenticated backups that restore with nothing but the
 * backup file and the passphrase or key file.
 *
 * The plain header carries the sealed keyring file itself (already sealed under WK),
 * so a restore derives WK, opens that copy, and derives the stream key from the
 * keyring's backup root key and the backup's random salt. The body is one libsodium
 * secretstream (XChaCha20-Poly1305): the first message authenticates the whole header
 * as associated data, members follow as typed messages (start, 64 KiB data chunks),
 * and the last message carries TAG_FINAL and the member count, so reordering, removal,
 * truncation and trailing bytes are all detected.
 *
 * Extraction trusts nothing it reads: lengths are bounded, member names are checked
 * against [a-z0-9._-] and created with openat(O_EXCL|O_NOFOLLOW) inside the staging
 * directory, and on any failure every file written there is removed again, so the
 * staging directory holds complete members only after the final tag has verified.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/file.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "crypto/crypto_int.h"

static const uint8_t BK_MAGIC[8] = {'C', 'U', 'S', 'T', 'O', 'S', 'B', 'K'};
#define BK_FORMAT_V1 1
#define BK_SALT_LEN 16
#define BK_FIXED_LEN (8 + 1 + 8 + BK_SALT_LEN + 4) /* before the keyring bytes */
#define SS_HEADER_LEN crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define CHUNK ((size_t)64 << 10)
#define MSG_MAX (1 + CHUNK)
#define FRAME_MAX (MSG_MAX + SS_ABYTES)
#define MEMBERS_MAX 64
#define NAME_MAX_LEN 64
#define MEMBER_SIZE_MAX ((uint64_t)64 << 30)

enum { MSG_BEGIN = 0, MSG_MEMBER = 1, MSG_DATA = 2, MSG_END = 3 };

static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || n > NAME_MAX_LEN || (n == 1 && s[0] == '.')) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok || (c == '.' && i + 1 < n && s[i + 1] == '.')) {
            return false;
        }
    }
    return true;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* ============================== create ============================== */

typedef struct writer {
    file_atomic f;
    crypto_secretstream_xchacha20poly1305_state st;
    uint8_t *frame; /* 4 + FRAME_MAX */
} writer;

static err push(writer *w, const uint8_t *m, size_t n, const uint8_t *ad, size_t ad_len,
                uint8_t tag)
{
    unsigned long long clen = 0;
    ENSURE(n <= MSG_MAX, ERR_INTERNAL, "backup message too long");
    ENSURE(crypto_secretstream_xchacha20poly1305_push(&w->st, w->frame + 4, &clen, m, n, ad, ad_len,
                                                      tag) == 0,
           ERR_CRYPTO, "backup encryption failed");
    put_be(w->frame, clen, 4);
    return file_atomic_write(&w->f, w->frame, 4 + (size_t)clen);
}

static err read_full(int fd, uint8_t *p, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t r = read(fd, p + *got, n - *got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        ENSURE(r >= 0, ERR_IO, "read failed: %s", strerror(errno));
        if (r == 0) {
            break;
        }
        *got += (size_t)r;
    }
    return ERR_OK;
}

static err push_member(writer *w, const backup_member *m, uint8_t *msg)
{
    err rc = ERR_OK;
    int fd = open(m->path, O_RDONLY | O_CLOEXEC);
    ENSURE(fd >= 0, ERR_IO, "cannot open %s: %s", m->path, strerror(errno));
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode), ERR_IO, "%s is not a regular file", m->path);
    uint64_t size = (uint64_t)st.st_size;
    CHECK(size <= MEMBER_SIZE_MAX, ERR_TOO_LARGE, "%s is larger than 64 GiB", m->path);
    size_t nl = strlen(m->name);
    msg[0] = MSG_MEMBER;
    msg[1] = (uint8_t)nl;
    memcpy(msg + 2, m->name, nl);
    put_be(msg + 2 + nl, size, 8);
    GUARD(push(w, msg, 2 + nl + 8, NULL, 0, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
    uint64_t left = size;
    while (left > 0) {
        size_t want = left < CHUNK ? (size_t)left : CHUNK, got = 0;
        msg[0] = MSG_DATA;
        GUARD(read_full(fd, msg + 1, want, &got));
        CHECK(got == want, ERR_IO, "%s shrank while being backed up", m->path);
        GUARD(push(w, msg, 1 + want, NULL, 0, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
        left -= want;
    }
out:
    close(fd);
    return rc;
}

err backup_create(keyring *kr, const char *keyring_path, const char *out_path,
                  const backup_member *members, size_t n)
{
    err rc = ERR_OK;
    writer w;
    bool opened = false;
    uint8_t key[KEY_LEN], salt[BK_SALT_LEN];
    uint8_t *msg = NULL;
    buf ring, hdr;
    buf_init(&ring, KEYRING_FILE_MAX);
    buf_init(&hdr, KEYRING_FILE_MAX + BK_FIXED_LEN + SS_HEADER_LEN);
    memset(&w, 0, sizeof w);
    CHECK(n <= MEMBERS_MAX, ERR_INPUT, "a backup holds at most %d members", MEMBERS_MAX);
    for (size_t i = 0; i < n; i++) {
        CHECK(members[i].name != NULL && name_ok(members[i].name, strlen(members[i].name)),
              ERR_INPUT, "backup member %zu: the name must be 1-64 of [a-z0-9._-]", i);
        for (size_t j = 0; j < i; j++) {
            CHECK(strcmp(members[i].name, members[j].name) != 0, ERR_INPUT,
                  "backup member %s appears twice", members[i].name);
        }
    }
    GUARD(file_read_bounded(keyring_path, KEYRING_FILE_MAX, &ring));
    GUARD(keyring_matches_file(kr, buf_slice(&ring)));
    randombytes_buf(salt, sizeof salt);
    keyring_backup_key(kr, salt, key);

    uint8_t fixed[BK_FIXED_LEN];
    memcpy(fixed, BK_MAGIC, 8);
    fixed[8] = BK_FORMAT_V1;
    put_be(fixed + 9, (uint64_t)clock_now_us(), 8);
    memcpy(fixed + 17, salt, BK_SALT_LEN);
    put_be(fixed + 33, ring.len, 4);
    uint8_t ssh[SS_HEADER_LEN];
    CHECK(crypto_secretstream_xchacha20poly1305_init_push(&w.st, ssh, key) == 0, ERR_CRYPTO,
          "backup encryption failed");
    GUARD(buf_append(&hdr, fixed, sizeof fixed));
    GUARD(buf_append(&hdr, ring.p, ring.len));
    GUARD(buf_append(&hdr, ssh, sizeof ssh));

    w.frame = malloc(4 + FRAME_MAX);
    msg = malloc(MSG_MAX);
    CHECK(w.frame != NULL && msg != NULL, ERR_INTERNAL, "out of memory");
    GUARD(file_atomic_open(&w.f, out_path));
    opened = true;
    GUARD(file_atomic_write(&w.f, hdr.p, hdr.len));
    msg[0] = MSG_BEGIN;
    put_be(msg + 1, n, 4);
    GUARD(push(&w, msg, 5, hdr.p, hdr.len, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
    for (size_t i = 0; i < n; i++) {
        GUARD(push_member(&w, &members[i], msg));
    }
    msg[0] = MSG_END;
    put_be(msg + 1, n, 4);
    GUARD(push(&w, msg, 5, NULL, 0, crypto_secretstream_xchacha20poly1305_TAG_FINAL));
    opened = false;
    GUARD(file_atomic_commit(&w.f, false));
out:
    if (opened) {
        file_atomic_abort(&w.f);
    }
    if (msg != NULL) {
        sodium_memzero(msg, MSG_MAX);
        free(msg);
    }
    free(w.frame);
    sodium_memzero(&w.st, sizeof w.st);
    sodium_memzero(key, sizeof key);
    buf_free(&ring);
    buf_free(&hdr);
    return rc;
}

/* ============================== extract ============================== */

typedef struct reader {
    int fd;
    int dirfd;
    crypto_secretstream_xchacha20poly1305_state st;
    uint8_t *frame; /* FRAME_MAX */
    uint8_t *msg;   /* MSG_MAX */
    char *names[MEMBERS_MAX];
    size_t n_names;
    int out_fd; /* the member being written, or -1 */
} reader;

static err rd_exact(reader *r, uint8_t *p, size_t n)
{
    size_t got = 0;
    TRY(read_full(r->fd, p, n, &got));
    ENSURE(got == n, ERR_CRYPTO, "the backup is truncated");
    return ERR_OK;
}

/* Reads and decrypts the next message; *len and *tag describe it. */
static err pull(reader *r, const uint8_t *ad, size_t ad_len, size_t *len, uint8_t *tag)
{
    uint8_t lb[4];
    TRY(rd_exact(r, lb, 4));
    uint64_t clen = get_be(lb, 4);
    ENSURE(clen > SS_ABYTES && clen <= FRAME_MAX, ERR_CRYPTO,
           "the backup is damaged (message length)");
    TRY(rd_exact(r, r->frame, (size_t)clen));
    unsigned long long mlen = 0;
    ENSURE(crypto_secretstream_xchacha20poly1305_pull(&r->st, r->msg, &mlen, tag, r->frame,
                                                      (size_t)clen, ad, ad_len) == 0,
           ERR_CRYPTO, "the backup is damaged or was tampered with (integrity check failed)");
    *len = (size_t)mlen;
    return ERR_OK;
}

static err staging_empty(int dirfd, const char *dir)
{
    int fd = dup(dirfd);
    ENSURE(fd >= 0, ERR_IO, "cannot read %s", dir);
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        BAIL(ERR_IO, "cannot read %s", dir);
    }
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            empty = false;
            break;
        }
    }
    closedir(d);
    ENSURE(empty, ERR_CONFLICT, "the staging directory %s is not empty", dir);
    return ERR_OK;
}

static err write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        ENSURE(w > 0, ERR_IO, "cannot write a restored member: %s",
               w < 0 ? strerror(errno) : "short write");
        p += w;
        n -= (size_t)w;
    }
    return ERR_OK;
}

static err extract_body(reader *r, const uint8_t *hdr, size_t hdr_len)
{
    size_t len;
    uint8_t tag;
    TRY(pull(r, hdr, hdr_len, &len, &tag));
    ENSURE(len == 5 && r->msg[0] == MSG_BEGIN &&
               tag == crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
           ERR_CRYPTO, "the backup is damaged (first message)");
    uint64_t count = get_be(r->msg + 1, 4);
    ENSURE(count <= MEMBERS_MAX, ERR_CRYPTO, "the backup is damaged (member count)");
    for (;;) {
        TRY(pull(r, NULL, 0, &len, &tag));
        if (r->msg[0] == MSG_END) {
            ENSURE(len == 5 && tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL &&
                       get_be(r->msg + 1, 4) == count && r->n_names == count,
                   ERR_CRYPTO, "the backup is damaged (final message)");
            break;
        }
        ENSURE(tag == crypto_secretstream_xchacha20poly1305_TAG_MESSAGE && r->msg[0] == MSG_MEMBER,
               ERR_CRYPTO, "the backup is damaged (unexpected message)");
        ENSURE(len >= 2 + 1 + 8 && r->n_names < count, ERR_CRYPTO,
               "the backup is damaged (member record)");
        size_t nl = r->msg[1];
        ENSURE(len == 2 + nl + 8 && name_ok((const char *)r->msg + 2, nl), ERR_CRYPTO,
               "the backup is damaged (member name)");
        uint64_t size = get_be(r->msg + 2 + nl, 8);
        ENSURE(size <= MEMBER_SIZE_MAX, ERR_CRYPTO, "the backup is damaged (member size)");
        char *name = strndup((const char *)r->msg + 2, nl);
        ENSURE(name != NULL, ERR_INTERNAL, "out of memory");
        r->out_fd =
            openat(r->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (r->out_fd < 0) {
            int e = errno;
            free(name);
            BAIL(e == EEXIST ? ERR_CRYPTO : ERR_IO, "cannot create a restored member: %s",
                 e == EEXIST ? "duplicate name" : strerror(e));
        }
        r->names[r->n_names++] = name;
        uint64_t left = size;
        while (left > 0) {
            size_t want = left < CHUNK ? (size_t)left : CHUNK;
            TRY(pull(r, NULL, 0, &len, &tag));
            ENSURE(tag == crypto_secretstream_xchacha20poly1305_TAG_MESSAGE &&
                       r->msg[0] == MSG_DATA && len == 1 + want,
                   ERR_CRYPTO, "the backup is damaged (member data)");
            TRY(write_all(r->out_fd, r->msg + 1, want));
            left -= want;
        }
        ENSURE(fsync(r->out_fd) == 0, ERR_IO, "cannot sync a restored member");
        int c = close(r->out_fd);
        r->out_fd = -1;
        ENSURE(c == 0, ERR_IO, "cannot close a restored member");
    }
    uint8_t extra;
    size_t got = 0;
    TRY(read_full(r->fd, &extra, 1, &got));
    ENSURE(got == 0, ERR_CRYPTO, "the backup is damaged (data after the final message)");
    return ERR_OK;
}

err backup_extract(const char *backup_path, const kek_source *src, const char *staging_dir,
                   char ***names, size_t *n)
{
    err rc = ERR_OK;
    reader r;
    keyring *kr = NULL;
    uint8_t key[KEY_LEN];
    buf hdr;
    buf_init(&hdr, KEYRING_FILE_MAX + BK_FIXED_LEN + SS_HEADER_LEN);
    memset(&r, 0, sizeof r);
    r.fd = r.out_fd = -1;
    *names = NULL;
    *n = 0;
    r.dirfd = open(staging_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(r.dirfd >= 0, ERR_IO, "cannot open the staging directory %s: %s", staging_dir,
          strerror(errno));
    GUARD(staging_empty(r.dirfd, staging_dir));
    r.fd = open(backup_path, O_RDONLY | O_CLOEXEC);
    CHECK(r.fd >= 0, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "cannot open %s: %s", backup_path,
          strerror(errno));
    struct stat st;
    CHECK(fstat(r.fd, &st) == 0 && S_ISREG(st.st_mode), ERR_INPUT, "%s is not a regular file",
          backup_path);

    GUARD(buf_reserve(&hdr, BK_FIXED_LEN));
    GUARD(rd_exact(&r, hdr.p, BK_FIXED_LEN));
    hdr.len = BK_FIXED_LEN;
    CHECK(memcmp(hdr.p, BK_MAGIC, 8) == 0, ERR_CRYPTO, "not a Custos backup");
    CHECK(hdr.p[8] == BK_FORMAT_V1, ERR_CRYPTO, "unknown backup format version %u", hdr.p[8]);
    uint64_t klen = get_be(hdr.p + 33, 4);
    CHECK(klen > 0 && klen <= KEYRING_FILE_MAX, ERR_CRYPTO,
          "the backup is damaged (keyring length)");
    GUARD(buf_reserve(&hdr, (size_t)klen + SS_HEADER_LEN));
    GUARD(rd_exact(&r, hdr.p + hdr.len, (size_t)klen + SS_HEADER_LEN));
    hdr.len += (size_t)klen + SS_HEADER_LEN;

    GUARD(keyring_open_mem(slice_of(hdr.p + BK_FIXED_LEN, (size_t)klen), src, &kr));
    keyring_backup_key(kr, hdr.p + 17, key);
    keyring_free(kr);
    kr = NULL;
    CHECK(crypto_secretstream_xchacha20poly1305_init_pull(&r.st, hdr.p + hdr.len - SS_HEADER_LEN,
                                                          key) == 0,
          ERR_CRYPTO, "the backup is damaged (stream header)");
    r.frame = malloc(FRAME_MAX);
    r.msg = malloc(MSG_MAX);
    CHECK(r.frame != NULL && r.msg != NULL, ERR_INTERNAL, "out of memory");
    GUARD(extract_body(&r, hdr.p, hdr.len));
    CHECK(fsync(r.dirfd) == 0, ERR_IO, "cannot sync the staging directory");
    if (r.n_names > 0) {
        *names = calloc(r.n_names, sizeof(char *));
        CHECK(*names != NULL, ERR_INTERNAL, "out of memory");
        memcpy(*names, r.names, r.n_names * sizeof(char *));
        *n = r.n_names;
        r.n_names = 0;
    }
out:
    if (r.out_fd >= 0) {
        close(r.out_fd);
    }
    for (size_t i = 0; i < r.n_names; i++) {
        if (rc != ERR_OK) {
            (void)unlinkat(r.dirfd, r.names[i], 0);
        }
        free(r.names[i]);
    }
    if (r.fd >= 0) {
        close(r.fd);
    }
    if (r.dirfd >= 0) {
        close(r.dirfd);
    }
    if (r.msg != NULL) {
        sodium_memzero(r.msg, MSG_MAX);
        free(r.msg);
    }
    free(r.frame);
    sodium_memzero(&r.st, sizeof r.st);
    sodium_memzero(key, sizeof key);
    keyring_free(kr);
    buf_free(&hdr);
    return rc;
}
