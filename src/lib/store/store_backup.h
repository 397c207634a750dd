/*
 * store_backup.h - copies and checks of a store, an interface of its own: a consistent
 * snapshot of a live store, a consistent copy of a database file (e.g. the audit log, which
 * other writers keep open), and an integrity check of a file.
 *
 * A live store's snapshot goes through its backend (s->ops->backup); the file operations pick
 * the backend from the location, as store_open does (a path: SQLite).
 */
#ifndef CUSTOS_STORE_BACKUP_H
#define CUSTOS_STORE_BACKUP_H

#include "core/err.h"
#include "store/store.h"

typedef struct store_backup_ops {
    err (*snapshot)(store *s, const char *path);
    err (*copy_file)(const char *from, const char *to);
    err (*check_file)(const char *path);
} store_backup_ops;

/* Writes a consistent snapshot of the live store to path (a file of mode 0600). */
MUST_USE err store_snapshot(store *s, const char *path);
/* Consistent copy of a database file while others may write it (SQLite: online backup). */
MUST_USE err store_copy_file(const char *from, const char *to);
/* Integrity check of a database file: ERR_IO when it is missing or damaged. */
MUST_USE err store_check_file(const char *path);

#endif
