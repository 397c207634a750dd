/*
 * file.h - files on disk: created private (mode 0600, folders 0700) whatever the process's
 * umask, replaced atomically (temporary file, fsync, rename, fsync of the folder), read
 * whole within a bound, and refused when group or others may reach them.
 */
#ifndef CUSTOS_FILE_H
#define CUSTOS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/err.h"

#define FILE_MODE_PRIVATE 0600
#define DIR_MODE_PRIVATE 0700

/* Creates path empty with mode 0600 when it does not exist (so that a library that creates
 * files with its own default mode, SQLite and its -wal and -shm files, inherits 0600); an
 * existing file is left alone. */
MUST_USE err file_create_private(const char *path);

/* Creates path exclusively (no link followed) with exactly mode, whatever the umask, and
 * opens it for writing into *fd; ERR_CONFLICT "PATH exists already" when it exists. */
MUST_USE err file_create_exclusive(const char *path, mode_t mode, int *fd);

/* Writes all of p[0..n) to fd (retrying short writes and EINTR); path names it in errors. */
MUST_USE err file_write_all(int fd, const void *p, size_t n, const char *path);

/* ERR_DENIED when group or others have any access to the open file fd: "WHAT PATH can be
 * read|written by group or others (mode 644): refused; run chmod 600 'PATH' ...". */
MUST_USE err file_check_private(int fd, const char *what, const char *path);

/* Reads a whole regular file of at most max bytes into out (ERR_NOT_FOUND when it does not
 * exist, ERR_TOO_LARGE over max). */
MUST_USE err file_read_bounded(const char *path, size_t max, buf *out);

/* fsync of the folder holding path (or of path itself when it is a folder). */
MUST_USE err file_sync_dir(const char *path, bool is_dir);

/* An atomic replacement in progress: a temporary file (mode 0600) next to path. Readers see
 * the old file until commit, then the whole new one; never a part. */
typedef struct file_atomic {
    int fd;
    char tmp[4096];
    char path[4096];
} file_atomic;

MUST_USE err file_atomic_open(file_atomic *f, const char *path);
MUST_USE err file_atomic_write(file_atomic *f, const void *p, size_t n);
/* fsync, then rename over path (replace) or link to path (no_replace: ERR_CONFLICT when
 * path exists), then fsync the folder. The temporary file is gone afterwards, on success
 * and on failure. */
MUST_USE err file_atomic_commit(file_atomic *f, bool no_replace);
/* Closes and removes the temporary file; safe after a failed commit and more than once. */
void file_atomic_abort(file_atomic *f);

/* The whole of the above for bytes already in memory. */
MUST_USE err file_write_atomic(const char *path, slice bytes, bool no_replace);

#endif
