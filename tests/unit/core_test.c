/*
 * core_test.c - buffers, cursors, ids, clocks and error records; files: private modes,
 * atomic replacement (a failed write or a refused commit leaves the old file and no
 * temporary file, concurrent writers and readers see whole versions only), bounded reads.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/dbloc.h"
#include "core/file.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "test.h"

TEST(t_buf_limits)
{
    buf b;
    buf_init(&b, 8);
    EXPECT_OK(buf_append(&b, "12345678", 8));
    EXPECT_ERR(buf_append(&b, "9", 1), ERR_TOO_LARGE);
    EXPECT_INT(b.len, 8);
    EXPECT_STR(buf_cstr(&b), "12345678");
    buf_reset(&b);
    EXPECT_INT(b.len, 0);
    EXPECT_OK(buf_appendf(&b, "%d-%s", 42, "x"));
    EXPECT_STR(buf_cstr(&b), "42-x");
    EXPECT_ERR(buf_appendf(&b, "%s", "too long"), ERR_TOO_LARGE);
    buf_free(&b);
    buf_init(&b, 0);
    for (int i = 0; i < 10000; i++) {
        EXPECT_OK(buf_append_byte(&b, (uint8_t)i));
    }
    EXPECT_INT(b.len, 10000);
    char *s = buf_take_cstr(&b);
    EXPECT(s != NULL && b.p == NULL);
    free(s);
    buf_free(&b);
}

TEST(t_cursor)
{
    uint8_t d[] = {1, 0, 0, 0, 2, 9};
    cursor c = cursor_of(slice_of(d, sizeof d));
    uint8_t x;
    uint32_t v;
    slice s;
    EXPECT_OK(cursor_u8(&c, &x));
    EXPECT_INT(x, 1);
    EXPECT_OK(cursor_u32be(&c, &v));
    EXPECT_INT(v, 2);
    EXPECT_ERR(cursor_bytes(&c, 2, &s), ERR_INPUT);
    EXPECT_OK(cursor_bytes(&c, 1, &s));
    EXPECT_ERR(cursor_u8(&c, &x), ERR_INPUT);
    uint64_t w;
    EXPECT_ERR(cursor_u64be(&c, &w), ERR_INPUT);
}

TEST(t_ids)
{
    char a[ID_LEN + 1], b[ID_LEN + 1];
    id_new(a, "cus");
    id_new(b, "cus");
    EXPECT(id_valid(a) && id_valid(b));
    EXPECT(strcmp(a, b) != 0);
    EXPECT_INT(strlen(a), 30);
    EXPECT(!id_valid(""));
    EXPECT(!id_valid("cus_"));
    EXPECT(!id_valid("../../etc/passwd"));
    EXPECT(!id_valid("cus_ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    EXPECT(!id_valid("cus_aaaaaaaaaaaaaaaaaaaaaaaaaa/x"));
    EXPECT(!id_valid("toolong_aaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

TEST(t_clock)
{
    int64_t us;
    EXPECT_OK(clock_parse_rfc3339("2026-03-02T10:00:00+08:00", &us));
    char out[40];
    clock_rfc3339(us, out);
    EXPECT_STR(out, "2026-03-02T02:00:00.000000Z");
    EXPECT_OK(clock_parse_rfc3339("1970-01-01T00:00:01.5Z", &us));
    EXPECT_INT(us, 1500000);
    EXPECT_ERR(clock_parse_rfc3339("2026-03-02 10:00", &us), ERR_INPUT);
    EXPECT_ERR(clock_parse_rfc3339("2026-13-02T10:00:00Z", &us), ERR_INPUT);
    EXPECT_ERR(clock_parse_rfc3339("2026-03-02T10:00:00", &us), ERR_INPUT);
    EXPECT_ERR(clock_parse_rfc3339("2026-03-02T10:00:00Zjunk", &us), ERR_INPUT);
}

TEST(t_codecs)
{
    uint8_t in[5] = {0, 1, 2, 250, 255}, out[8];
    char hex[HEX_LEN(5)], b64[B64_LEN(5)];
    size_t n;
    hex_encode(hex, in, 5);
    EXPECT_STR(hex, "000102faff");
    EXPECT_OK(hex_decode(out, sizeof out, &n, hex, strlen(hex)));
    EXPECT(n == 5 && memcmp(out, in, 5) == 0);
    EXPECT_ERR(hex_decode(out, sizeof out, &n, "0g", 2), ERR_INPUT);
    b64_encode(b64, sizeof b64, in, 5);
    EXPECT_OK(b64_decode(out, sizeof out, &n, b64, strlen(b64)));
    EXPECT(n == 5 && memcmp(out, in, 5) == 0);
    EXPECT_ERR(b64_decode(out, sizeof out, &n, "!!!!", 4), ERR_INPUT);
    /* bytes >= 0x80 are not base64, whatever libsodium 1.0.18 thinks of some of them */
    EXPECT_ERR(b64_decode(out, sizeof out, &n, "AAA\x91", 4), ERR_INPUT);
    EXPECT_ERR(b64url_decode(out, sizeof out, &n, "AAA\x91", 4), ERR_INPUT);
    EXPECT(mem_eq_ct("abc", "abc", 3));
    EXPECT(!mem_eq_ct("abc", "abd", 3));
}

TEST(t_errors)
{
    err e = err_set(ERR_DENIED, "x/y.c", 7, "no %s", "way");
    EXPECT_INT(e, ERR_DENIED);
    EXPECT_STR(err_message(), "no way");
    EXPECT_STR(err_where(), "y.c:7");
    EXPECT_INT(err_http_status(ERR_DENIED), 403);
    EXPECT_INT(err_http_status(ERR_UNAVAILABLE), 503);
    EXPECT_STR(err_code_name(ERR_NOT_FOUND), "not_found");
    EXPECT_STR(err_code_name((err)999), "internal");
}

TEST(t_wipe_block)
{
    /* HTTP answers are freed by libmicrohttpd through mem_free_wiped: the whole block is
     * wiped first, not only the text's length. */
    char *p = malloc(100);
    EXPECT(p != NULL);
    if (!p) {
        return;
    }
    memset(p, 'A', 100);
    size_t n = mem_wipe_block(p);
    EXPECT(n >= 100);
    size_t nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        nonzero += p[i] != 0;
    }
    EXPECT_INT(nonzero, 0);
    mem_free_wiped(p);
    mem_free_wiped(NULL);
    EXPECT_INT(mem_wipe_block(NULL), 0);
}

/* The one validator: RFC 3629's well-formed UTF-8, with the offset of the first bad byte. */
TEST(t_utf8)
{
    static const struct {
        const char *s;
        size_t bad; /* SIZE_MAX: valid */
    } cases[] = {
        {"", SIZE_MAX},
        {"plain ascii", SIZE_MAX},
        {"\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e", SIZE_MAX}, /* CJK */
        {"\xf0\x9f\x8f\xba", SIZE_MAX},                     /* U+1F3FA, 4 bytes */
        {"\xf4\x8f\xbf\xbf", SIZE_MAX},                     /* U+10FFFF */
        {"a\xc0\xaf"
         "b",
         1},                      /* overlong '/' */
        {"ab\xe0\x80\xaf", 2},    /* overlong, 3 bytes */
        {"\xed\xa0\x80", 0},      /* a surrogate */
        {"x\xf4\x90\x80\x80", 1}, /* above U+10FFFF */
        {"ok\x80", 2},            /* a lone continuation */
        {"\xe7\x8e", 0},          /* cut short */
        {"\xe7\x8e"
         "a",
         0},                     /* a bad continuation */
        {"\xf5\x80\x80\x80", 0}, /* a lead beyond 0xF4 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint8_t *p = (const uint8_t *)cases[i].s;
        size_t n = strlen(cases[i].s);
        size_t want = cases[i].bad == SIZE_MAX ? n : cases[i].bad;
        EXPECT_INT(utf8_invalid_at(p, n), want);
        EXPECT(utf8_valid(p, n) == (cases[i].bad == SIZE_MAX));
    }
    uint32_t cp = 0;
    EXPECT_INT(utf8_seq_len((const uint8_t *)"\xe7\x8e\x8b", 3, &cp), 3);
    EXPECT_INT(cp, 0x738B);
    EXPECT_INT(utf8_seq_len((const uint8_t *)"\xe7\x8e\x8b", 2, &cp), 0); /* left bounds it */
    EXPECT(utf8_valid(NULL, 0));
    EXPECT(!utf8_valid(NULL, 1));
}

/* ---- files ---- */

static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void put(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    EXPECT(fd >= 0);
    if (fd >= 0) {
        EXPECT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
        EXPECT(fchmod(fd, mode) == 0);
        close(fd);
    }
}

static char *contents(const char *path)
{
    buf b;
    buf_init(&b, 1 << 20);
    if (file_read_bounded(path, 1 << 20, &b) != ERR_OK) {
        buf_free(&b);
        return NULL;
    }
    char *s = buf_take_cstr(&b);
    buf_free(&b);
    return s;
}

static bool contents_are(const char *path, const char *want)
{
    char *s = contents(path);
    bool ok = s != NULL && strcmp(s, want) == 0;
    free(s);
    return ok;
}

/* Entries of dir other than . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    if (d) {
        closedir(d);
    }
    return n;
}

/* A fresh folder with a file name f in it; removed at the end. */
typedef struct ftmp {
    char *dir;
    char p[600];
} ftmp;

static void ftmp_init(ftmp *t)
{
    t->dir = test_tmpdir("file");
    snprintf(t->p, sizeof t->p, "%s/f", t->dir);
}

static void ftmp_done(ftmp *t)
{
    unlink(t->p);
    rmdir(t->dir);
    free(t->dir);
}

TEST(t_file_atomic_modes)
{
    ftmp t;
    ftmp_init(&t);
    const char *dir = t.dir, *p = t.p;
    mode_t old = umask(0);
    /* new: 0600 even with an empty umask */
    EXPECT_OK(file_write_atomic(p, slice_cstr("one"), false));
    EXPECT_INT(mode_of(p), 0600);
    EXPECT(contents_are(p, "one"));
    /* replacing a file that others could read: the new one is 0600 */
    put(p, "loose", 0644);
    EXPECT_OK(file_write_atomic(p, slice_cstr("two"), false));
    EXPECT_INT(mode_of(p), 0600);
    EXPECT(contents_are(p, "two"));
    /* no_replace: refused when the file exists, the old file stays, no temporary file */
    EXPECT_ERR(file_write_atomic(p, slice_cstr("three"), true), ERR_CONFLICT);
    EXPECT(contents_are(p, "two"));
    EXPECT_INT(entries(dir), 1);
    /* an aborted replacement leaves the old file */
    file_atomic f;
    EXPECT_OK(file_atomic_open(&f, p));
    EXPECT_OK(file_atomic_write(&f, "four", 4));
    EXPECT_INT(entries(dir), 2);
    file_atomic_abort(&f);
    file_atomic_abort(&f);
    EXPECT(contents_are(p, "two"));
    EXPECT_INT(entries(dir), 1);
    /* exclusive creation: exact mode, never over an existing file */
    char q[600];
    snprintf(q, sizeof q, "%s/g", dir);
    int fd = -1;
    EXPECT_OK(file_create_exclusive(q, 0600, &fd));
    EXPECT_OK(file_write_all(fd, "gg", 2, q));
    close(fd);
    EXPECT_INT(mode_of(q), 0600);
    EXPECT_ERR(file_create_exclusive(q, 0600, &fd), ERR_CONFLICT);
    EXPECT(contents_are(q, "gg"));
    EXPECT_OK(file_create_private(q)); /* exists: left alone */
    EXPECT(contents_are(q, "gg"));
    unlink(q);
    EXPECT_OK(file_create_private(q));
    EXPECT_INT(mode_of(q), 0600);
    umask(old);
    unlink(q);
    ftmp_done(&t);
}

TEST(t_file_failed_write_keeps_old)
{
    ftmp t;
    ftmp_init(&t);
    const char *dir = t.dir, *p = t.p;
    EXPECT_OK(file_write_atomic(p, slice_cstr("old contents"), false));
    /* A real failed write(2): files may not grow past 1 KiB (EFBIG instead of SIGXFSZ). */
    struct rlimit lim, small = {1024, 1024};
    EXPECT(getrlimit(RLIMIT_FSIZE, &lim) == 0);
    small.rlim_max = lim.rlim_max;
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    EXPECT(setrlimit(RLIMIT_FSIZE, &small) == 0);
    static char big[8192];
    memset(big, 'x', sizeof big);
    err e = file_write_atomic(p, slice_of(big, sizeof big), false);
    EXPECT(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    signal(SIGXFSZ, was);
    EXPECT_INT(e, ERR_IO);
    EXPECT(contents_are(p, "old contents"));
    EXPECT_INT(entries(dir), 1); /* the temporary file is gone */
    EXPECT_INT(mode_of(p), 0600);
    /* a folder that does not exist: nothing is created */
    char q[700];
    snprintf(q, sizeof q, "%s/no/such/f", dir);
    EXPECT_ERR(file_write_atomic(q, slice_cstr("x"), false), ERR_IO);
    EXPECT_ERR(file_sync_dir(q, false), ERR_IO);
    EXPECT_OK(file_sync_dir(dir, true));
    EXPECT_OK(file_sync_dir(p, false));
    ftmp_done(&t);
}

typedef struct writer_arg {
    const char *path;
    int id;
    int failures;
} writer_arg;

#define VERSION_LEN 65536

static void *writer_main(void *v)
{
    writer_arg *a = v;
    char *data = malloc(VERSION_LEN);
    for (int i = 0; data && i < 40; i++) {
        memset(data, 'a' + (a->id * 40 + i) % 26, VERSION_LEN);
        if (file_write_atomic(a->path, slice_of(data, VERSION_LEN), false) != ERR_OK) {
            a->failures++;
        }
    }
    free(data);
    return NULL;
}

TEST(t_file_concurrent_writers)
{
    /* Four writers replace one file while the test reads it: every read is one whole
     * version (one letter, full length), never a mix or a part; no temporary file is left. */
    ftmp t;
    ftmp_init(&t);
    const char *dir = t.dir, *p = t.p;
    static char first[VERSION_LEN + 1];
    memset(first, 'z', VERSION_LEN);
    EXPECT_OK(file_write_atomic(p, slice_of(first, VERSION_LEN), false));
    pthread_t th[4];
    writer_arg a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (writer_arg){p, i, 0};
        EXPECT(pthread_create(&th[i], NULL, writer_main, &a[i]) == 0);
    }
    int reads = 0, torn = 0;
    for (int i = 0; i < 200; i++) {
        char *s = contents(p);
        if (s == NULL) {
            torn++;
            continue;
        }
        size_t n = strlen(s);
        bool whole = n == VERSION_LEN;
        for (size_t j = 1; whole && j < n; j++) {
            whole = s[j] == s[0];
        }
        torn += !whole;
        reads++;
        free(s);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        EXPECT_INT(a[i].failures, 0);
    }
    EXPECT_INT(torn, 0);
    EXPECT(reads > 0);
    EXPECT_INT(entries(dir), 1);
    EXPECT_INT(mode_of(p), 0600);
    ftmp_done(&t);
}

TEST(t_file_read_and_private)
{
    ftmp t;
    ftmp_init(&t);
    const char *dir = t.dir, *p = t.p;
    buf b;
    buf_init(&b, 1 << 16);
    EXPECT_ERR(file_read_bounded(p, 100, &b), ERR_NOT_FOUND);
    put(p, "0123456789", 0600);
    EXPECT_OK(file_read_bounded(p, 10, &b));
    EXPECT_INT(b.len, 10);
    EXPECT(memcmp(b.p, "0123456789", 10) == 0);
    EXPECT_ERR(file_read_bounded(p, 9, &b), ERR_TOO_LARGE);
    EXPECT_ERR(file_read_bounded(dir, 100, &b), ERR_INPUT);
    buf_free(&b);
    int fd = open(p, O_RDONLY);
    EXPECT(fd >= 0);
    EXPECT_OK(file_check_private(fd, "the file", p));
    EXPECT(fchmod(fd, 0640) == 0);
    EXPECT_ERR(file_check_private(fd, "the file", p), ERR_DENIED);
    EXPECT(strstr(err_message(), "read by group or others (mode 640)") != NULL);
    EXPECT(fchmod(fd, 0602) == 0);
    EXPECT_ERR(file_check_private(fd, "the file", p), ERR_DENIED);
    EXPECT(strstr(err_message(), "written by group or others") != NULL);
    EXPECT(fchmod(fd, 0400) == 0);
    EXPECT_OK(file_check_private(fd, "the file", p));
    close(fd);
    ftmp_done(&t);
}

/* libpq percent-decodes a location's parameter names: an encoded "password" is refused
 * like the plain one, and no parameter name may carry a '%'. */
TEST(t_dbloc_password_encoded)
{
    char schema[DBLOC_SCHEMA_MAX + 1];
    char *uri = NULL;
    EXPECT_OK(dbloc_split("postgres://u@h/db?sslmode=require&schema=s1", schema, &uri));
    EXPECT_STR(schema, "s1");
    EXPECT_STR(uri, "postgres://u@h/db?sslmode=require");
    free(uri);
    uri = NULL;
    EXPECT_ERR(dbloc_split("postgres://u@h/db?password=x", schema, &uri), ERR_INPUT);
    EXPECT_ERR(dbloc_split("postgres://u@h/db?%70assword=x", schema, &uri), ERR_INPUT);
    EXPECT(uri == NULL);
    EXPECT_ERR(dbloc_split("postgres://u@h/db?sslmode=require&pass%77ord=x", schema, &uri),
               ERR_INPUT);
    EXPECT_ERR(dbloc_split("postgres://u@h/db?%73chema=x", schema, &uri), ERR_INPUT);
    EXPECT(uri == NULL);
    /* A '%' in a value is libpq's business (a percent-encoded host or file name). */
    EXPECT_OK(dbloc_split("postgres://u@h/db?passfile=%2Ftmp%2Fpw", schema, &uri));
    EXPECT_STR(uri, "postgres://u@h/db?passfile=%2Ftmp%2Fpw");
    free(uri);
}

int main(void)
{
    test_init();
    RUN(t_buf_limits);
    RUN(t_cursor);
    RUN(t_ids);
    RUN(t_clock);
    RUN(t_codecs);
    RUN(t_errors);
    RUN(t_wipe_block);
    RUN(t_utf8);
    RUN(t_file_atomic_modes);
    RUN(t_file_failed_write_keeps_old);
    RUN(t_file_concurrent_writers);
    RUN(t_file_read_and_private);
    RUN(t_dbloc_password_encoded);
    return test_done("core_test");
}
