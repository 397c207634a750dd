/*
 * fuzz_dbloc.c - arbitrary bytes as a PostgreSQL location (core/dbloc.h): the split either
 * refuses it or gives a schema of [a-z0-9_] (at most DBLOC_SCHEMA_MAX) and a libpq location
 * that keeps the scheme, names no password among its parameters (no parameter name
 * percent-encoded), and is no longer than the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dbloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char scheme[] = "postgres://";
    char *loc = malloc(sizeof scheme + size);
    if (!loc) {
        return 0;
    }
    memcpy(loc, scheme, sizeof scheme - 1);
    memcpy(loc + sizeof scheme - 1, data, size);
    loc[sizeof scheme - 1 + size] = '\0';
    char schema[DBLOC_SCHEMA_MAX + 1];
    char *uri = NULL;
    if (dbloc_is_postgres(loc) && dbloc_split(loc, schema, &uri) == ERR_OK) {
        size_t n = strlen(schema);
        if (n == 0 || n > DBLOC_SCHEMA_MAX ||
            strspn(schema, "abcdefghijklmnopqrstuvwxyz0123456789_") != n) {
            abort();
        }
        const char *query = strchr(uri, '?');
        if (strncmp(uri, scheme, sizeof scheme - 1) != 0 || strlen(uri) > strlen(loc) ||
            (query && (strncmp(query, "?password=", 10) == 0 || strstr(query, "&password=")))) {
            abort();
        }
        /* No parameter name is percent-encoded (libpq would decode it into password=). */
        for (const char *k = query; k; k = strchr(k + 1, '&')) {
            size_t kl = strcspn(k + 1, "=&");
            if (memchr(k + 1, '%', kl)) {
                abort();
            }
        }
        free(uri);
    }
    free(loc);
    return 0;
}
