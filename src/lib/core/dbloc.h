/*
 * dbloc.h - a PostgreSQL location as Custos takes it, shared by the store (store/pg.c) and
 * the audit log (audit/audit_pg.c): "postgres://USER@HOST:PORT/DB?libpq-parameters&schema=NAME".
 * No SQL and no libpq here: the location is split into what libpq reads and the schema, and the
 * password is read from CUSTOS_PG_PASSWORD_FILE. docs/POSTGRES.md.
 */
#ifndef CUSTOS_DBLOC_H
#define CUSTOS_DBLOC_H

#include <stdbool.h>

#include "core/err.h"

#define DBLOC_SCHEMA_MAX 63

/* True for "postgres://..." and "postgresql://...". */
bool dbloc_is_postgres(const char *location);
/* Splits schema= ([a-z0-9_], at most DBLOC_SCHEMA_MAX; default "custos") out of the query and
 * gives the rest as *uri (malloc'd) for libpq. A location naming a password is refused
 * (ERR_INPUT), and so is a bad schema name. */
MUST_USE err dbloc_split(const char *location, char schema[DBLOC_SCHEMA_MAX + 1], char **uri);
/* The password of CUSTOS_PG_PASSWORD_FILE (its first line) in *out (malloc'd; the caller wipes
 * and frees it), NULL when the variable is unset. The file must not be readable by group or
 * others (ERR_IO). */
MUST_USE err dbloc_password(char **out);

#endif
