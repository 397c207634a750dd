/*
 * file.c - private file creation.
 */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
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
