/*
 * fuzz_backup.c - arbitrary bytes as a backup file, extracted with a fixed key file
 * into a fresh staging directory. Must never crash, leak, write outside the staging
 * directory, or leave a file behind when it fails. Self-contained and fast: the key
 * file (32 fixed bytes as hex, so no KDF runs), the backup and the staging directory
 * are created under $TMPDIR (or /tmp) with unique names and removed after each input.
 * The seed corpus (tests/fuzz/corpus/fuzz_backup) holds a valid backup made with the
 * same key, a truncated copy and garbage.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"
#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0x00 0x01 ... 0x1f */
#define FUZZ_KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"

static int tmp_file(char *path, size_t max, const char *tag, const void *p, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(path, max, "%s/custos-fuzz-%s-XXXXXX", base ? base : "/tmp", tag);
    int fd = mkstemp(path);
    if (fd < 0) {
        return -1;
    }
    const uint8_t *q = p;
    while (n > 0) {
        ssize_t w = write(fd, q, n);
        if (w <= 0) {
            close(fd);
            unlink(path);
            return -1;
        }
        q += w;
        n -= (size_t)w;
    }
    close(fd);
    return 0;
}

/* Removes the staging directory; aborts if extraction left anything unexpected. */
static void clean_stage(const char *dir, char **names, size_t n, int ok)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t found = 0;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        found++;
        unlinkat(dirfd(d), e->d_name, 0);
    }
    if (d) {
        closedir(d);
    }
    rmdir(dir);
    if ((ok && found != n) || (!ok && found != 0)) {
        abort(); /* a failed extraction left files, or a member is missing */
    }
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (mem_init() != ERR_OK) {
            abort();
        }
        ready = 1;
    }
    char key[4096], bk[4096], stage[4096];
    if (tmp_file(key, sizeof key, "key", FUZZ_KEY_HEX, strlen(FUZZ_KEY_HEX)) != 0) {
        abort();
    }
    if (tmp_file(bk, sizeof bk, "bk", data, size) != 0) {
        unlink(key);
        abort();
    }
    const char *base = getenv("TMPDIR");
    snprintf(stage, sizeof stage, "%s/custos-fuzz-stage-XXXXXX", base ? base : "/tmp");
    if (mkdtemp(stage) == NULL) {
        unlink(key);
        unlink(bk);
        abort();
    }
    kek_source src = {NULL, 0, key};
    char **names = NULL;
    size_t n = 0;
    err e = backup_extract(bk, &src, stage, &names, &n);
    if (e != ERR_OK && (names != NULL || n != 0)) {
        abort();
    }
    clean_stage(stage, names, n, e == ERR_OK);
    unlink(key);
    unlink(bk);
    return 0;
}
