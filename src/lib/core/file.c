/*
 * file.c - private file creation, atomic replacement, bounded reads, mode checks.
 */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

err file_create_private(const char *path)
{
    if (path == NULL || path[0] == '\0' || path[0] == ':') { /* ":memory:" */
        return ERR_OK;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, FILE_MODE_PRIVATE);
    if (fd < 0) {
        ENSURE(errno == EEXIST, ERR_IO, "cannot create %s: %s", path, strerror(errno));
        return ERR_OK;
    }
    /* The umask may have taken bits away, never added any; fchmod makes it exact. */
    int r = fchmod(fd, FILE_MODE_PRIVATE);
    int e = errno;
    close(fd);
    ENSURE(r == 0, ERR_IO, "cannot set the mode of %s: %s", path, strerror(e));
    return ERR_OK;
}

err file_create_exclusive(const char *path, mode_t mode, int *fd)
{
    *fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
    if (*fd < 0) {
        ENSURE(errno != EEXIST, ERR_CONFLICT, "%s exists already", path);
        BAIL(ERR_IO, "cannot create %s: %s", path, strerror(errno));
    }
    if (fchmod(*fd, mode) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        (void)unlink(path);
        BAIL(ERR_IO, "cannot set the mode of %s: %s", path, strerror(e));
    }
    return ERR_OK;
}

err file_write_all(int fd, const void *p, size_t n, const char *path)
{
    const uint8_t *q = p;
    while (n > 0) {
        ssize_t w = write(fd, q, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        ENSURE(w > 0, ERR_IO, "cannot write %s: %s", path, w < 0 ? strerror(errno) : "short");
        q += w;
        n -= (size_t)w;
    }
    return ERR_OK;
}

err file_check_private(int fd, const char *what, const char *path)
{
    struct stat st;
    ENSURE(fstat(fd, &st) == 0, ERR_IO, "cannot read %s %s", what, path);
    ENSURE((st.st_mode & 077) == 0, ERR_DENIED,
           "%s %s can be %s by group or others (mode %03o): refused; run chmod 600 '%s' and "
           "consider what it holds exposed",
           what, path, (st.st_mode & 022) ? "written" : "read", (unsigned)(st.st_mode & 0777),
           path);
    return ERR_OK;
}

err file_read_bounded(const char *path, size_t max, buf *out)
{
    err rc = ERR_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        BAIL(e == ENOENT ? ERR_NOT_FOUND : ERR_IO, "cannot open %s: %s", path, strerror(e));
    }
    struct stat st;
    CHECK(fstat(fd, &st) == 0, ERR_IO, "cannot stat %s: %s", path, strerror(errno));
    CHECK(S_ISREG(st.st_mode), ERR_INPUT, "%s is not a regular file", path);
    CHECK((uint64_t)st.st_size <= max, ERR_TOO_LARGE, "%s is larger than %zu bytes", path, max);
    buf_reset(out);
    GUARD(buf_reserve(out, (size_t)st.st_size + 1));
    for (;;) {
        GUARD(buf_reserve(out, 1));
        size_t room = out->cap - out->len - 1;
        ssize_t r = read(fd, out->p + out->len, room);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        CHECK(r >= 0, ERR_IO, "cannot read %s: %s", path, strerror(errno));
        if (r == 0) {
            break;
        }
        out->len += (size_t)r;
        CHECK(out->len <= max, ERR_TOO_LARGE, "%s is larger than %zu bytes", path, max);
    }
out:
    close(fd);
    return rc;
}

err file_sync_dir(const char *path, bool is_dir)
{
    char dir[PATH_MAX];
    size_t n;
    if (is_dir) {
        n = strlen(path);
    } else {
        const char *slash = strrchr(path, '/');
        n = slash == NULL ? 0 : slash == path ? 1 : (size_t)(slash - path);
    }
    ENSURE(n < sizeof dir, ERR_INPUT, "path too long");
    if (n == 0) {
        snprintf(dir, sizeof dir, ".");
    } else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ENSURE(fd >= 0, ERR_IO, "cannot open directory %s: %s", dir, strerror(errno));
    int r = fsync(fd);
    int e = errno;
    close(fd);
    ENSURE(r == 0, ERR_IO, "cannot sync directory %s: %s", dir, strerror(e));
    return ERR_OK;
}

err file_atomic_open(file_atomic *f, const char *path)
{
    f->fd = -1;
    f->tmp[0] = '\0';
    ENSURE(strlen(path) + 16 < sizeof f->tmp, ERR_INPUT, "path too long");
    snprintf(f->path, sizeof f->path, "%s", path);
    snprintf(f->tmp, sizeof f->tmp, "%s.tmp-XXXXXX", path);
    f->fd = mkostemp(f->tmp, O_CLOEXEC);
    if (f->fd < 0) {
        int e = errno;
        f->tmp[0] = '\0';
        BAIL(ERR_IO, "cannot create a file next to %s: %s", path, strerror(e));
    }
    if (fchmod(f->fd, FILE_MODE_PRIVATE) != 0) {
        int e = errno;
        file_atomic_abort(f);
        BAIL(ERR_IO, "cannot set the mode of %s: %s", path, strerror(e));
    }
    return ERR_OK;
}

err file_atomic_write(file_atomic *f, const void *p, size_t n)
{
    return file_write_all(f->fd, p, n, f->path);
}

err file_atomic_commit(file_atomic *f, bool no_replace)
{
    err rc = ERR_OK;
    CHECK(fsync(f->fd) == 0, ERR_IO, "cannot sync %s: %s", f->path, strerror(errno));
    int r = close(f->fd);
    f->fd = -1;
    CHECK(r == 0, ERR_IO, "cannot close %s: %s", f->path, strerror(errno));
    if (no_replace) {
        if (link(f->tmp, f->path) != 0) {
            int e = errno;
            if (e == EEXIST) {
                FAIL(ERR_CONFLICT, "%s exists already", f->path);
            }
            FAIL(ERR_IO, "cannot create %s: %s", f->path, strerror(e));
        }
        (void)unlink(f->tmp);
    } else {
        CHECK(rename(f->tmp, f->path) == 0, ERR_IO, "cannot replace %s: %s", f->path,
              strerror(errno));
    }
    f->tmp[0] = '\0';
    GUARD(file_sync_dir(f->path, false));
out:
    if (rc != ERR_OK) {
        file_atomic_abort(f);
    }
    return rc;
}

void file_atomic_abort(file_atomic *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    if (f->tmp[0] != '\0') {
        (void)unlink(f->tmp);
        f->tmp[0] = '\0';
    }
}

err file_write_atomic(const char *path, slice bytes, bool no_replace)
{
    file_atomic f;
    TRY(file_atomic_open(&f, path));
    err rc = file_atomic_write(&f, bytes.p, bytes.len);
    if (rc != ERR_OK) {
        file_atomic_abort(&f);
        return rc;
    }
    return file_atomic_commit(&f, no_replace);
}
