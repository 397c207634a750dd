/*
 * dbloc.c - splitting a PostgreSQL location and reading its password file (dbloc.h).
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dbloc.h"
#include "core/mem.h"

bool dbloc_is_postgres(const char *location)
{
    return location && (strncmp(location, "postgres://", 11) == 0 ||
                        strncmp(location, "postgresql://", 13) == 0);
}

err dbloc_split(const char *location, char schema[DBLOC_SCHEMA_MAX + 1], char **uri)
{
    size_t n = strlen(location);
    char *u = malloc(n + 1);
    ENSURE(u != NULL, ERR_INTERNAL, "out of memory");
    snprintf(schema, DBLOC_SCHEMA_MAX + 1, "custos");
    const char *q = strchr(location, '?');
    size_t used = q ? (size_t)(q - location) : n;
    memcpy(u, location, used);
    u[used] = '\0';
    char sep = '?';
    for (const char *p = q ? q + 1 : ""; *p;) {
        size_t len = strcspn(p, "&");
        /* libpq percent-decodes parameter names (?%70assword= is password=): a name is
         * compared byte for byte here, so an encoded one is refused outright. */
        const char *eq = memchr(p, '=', len);
        if (memchr(p, '%', eq ? (size_t)(eq - p) : len)) {
            free(u);
            BAIL(ERR_INPUT, "database location: a parameter name is percent-encoded");
        }
        if (strncmp(p, "schema=", 7) == 0) {
            size_t sl = len - 7;
            bool ok = sl > 0 && sl <= DBLOC_SCHEMA_MAX;
            for (size_t i = 0; ok && i < sl; i++) {
                unsigned char c = (unsigned char)p[7 + i];
                ok = islower(c) || isdigit(c) || c == '_';
            }
            if (!ok) {
                free(u);
                BAIL(ERR_INPUT, "database location: schema= takes [a-z0-9_], at most %d characters",
                     DBLOC_SCHEMA_MAX);
            }
            memcpy(schema, p + 7, sl);
            schema[sl] = '\0';
        } else if (strncmp(p, "password=", 9) == 0) {
            free(u);
            BAIL(ERR_INPUT, "database location: it names no password (use passfile=, "
                            "CUSTOS_PG_PASSWORD_FILE or PGPASSWORD)");
        } else if (len > 0) {
            u[used++] = sep;
            memcpy(u + used, p, len);
            used += len;
            sep = '&';
        }
        p += len;
        p += *p == '&';
    }
    u[used] = '\0';
    /* A password in the user part (postgres://user:secret@host) is refused too. */
    const char *auth = strstr(u, "://");
    auth = auth ? auth + 3 : u;
    size_t alen = strcspn(auth, "/?");
    const char *at = memchr(auth, '@', alen);
    const char *colon = memchr(auth, ':', alen);
    if (at && colon && colon < at) {
        mem_wipe(u, strlen(u));
        free(u);
        BAIL(ERR_INPUT, "database location: it names no password (use passfile=, "
                        "CUSTOS_PG_PASSWORD_FILE or PGPASSWORD)");
    }
    *uri = u;
    return ERR_OK;
}

err dbloc_password(char **out)
{
    *out = NULL;
    const char *path = getenv("CUSTOS_PG_PASSWORD_FILE");
    if (!path || !*path) {
        return ERR_OK;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ENSURE(fd >= 0, ERR_IO, "cannot read the database password file (CUSTOS_PG_PASSWORD_FILE)");
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        close(fd);
        BAIL(ERR_IO, "the database password file may be read by others (chmod 600)");
    }
    char *pw = calloc(1, 1024);
    if (!pw) {
        close(fd);
        BAIL(ERR_INTERNAL, "out of memory");
    }
    ssize_t n = read(fd, pw, 1023);
    close(fd);
    pw[n > 0 ? strcspn(pw, "\r\n") : 0] = '\0';
    if (pw[0] == '\0') {
        free(pw);
        BAIL(ERR_IO, "the database password file is empty");
    }
    *out = pw;
    return ERR_OK;
}
