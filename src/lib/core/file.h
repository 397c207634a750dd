/*
 * file.h - files the vault creates are private: mode 0600 (folders 0700), whatever the
 * process's umask.
 */
#ifndef CUSTOS_FILE_H
#define CUSTOS_FILE_H

#include "core/err.h"

#define FILE_MODE_PRIVATE 0600
#define DIR_MODE_PRIVATE 0700

/* Creates path empty with mode 0600 when it does not exist (so that a library that creates
 * files with its own default mode, SQLite and its -wal and -shm files, inherits 0600); an
 * existing file is left alone. */
MUST_USE err file_create_private(const char *path);

#endif
