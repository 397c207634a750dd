/*
 * cli.h - the command-line front: offline commands work on the vault folder
 * directly; everything else is an HTTPS client of the server.
 */
#ifndef CUSTOS_CLI_H
#define CUSTOS_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"

/* Parsed "--name value" options after the positional arguments. */
typedef struct args {
    int argc;
    char **argv;
    const char *pos[8];
    int npos;
    bool json; /* --json: machine output */
} args;

/* Value of --name (or NULL); flags without value: args_flag. */
const char *args_opt(const args *a, const char *name);
bool args_flag(const args *a, const char *name);
/* Reports err_message() on stderr as "custos: <message>" and returns an exit status. */
int cli_fail(err e);

int cmd_init(args *a);
int cmd_serve(args *a);
int cmd_keys(args *a);
int cmd_backup(args *a);
int cmd_restore(args *a);
int cmd_demo(args *a);
int cmd_accounts(args *a);
int cmd_audit(args *a);
int cmd_login(args *a);
int cmd_logout(args *a);
int cmd_customers(args *a);
int cmd_records(args *a, const char *kind);
int cmd_policy(args *a);
/* access_cmd.c: the online side of identity and access */
int cmd_accounts_online(args *a);
int cmd_apikeys(args *a);
int cmd_requests(args *a);
int cmd_exports(args *a);
int cmd_breakglass(args *a);
int cmd_me(args *a);
int cmd_policy_online(args *a);
int cmd_honeytokens(args *a);
int cmd_vault(args *a);
int cmd_alerts(args *a);
int cmd_violations(args *a);
int cmd_guard_online(args *a);
/* commands.c helpers */
int cli_call_print(const args *a, const char *method, const char *path, const char *ctype,
                   slice body);
/* Sends o (consumed) as JSON and prints the answer; 2 when o is NULL. */
int cli_send_json(const args *a, const char *method, const char *path, json_t *o);
/* A secret from the environment variable or the terminal (no echo). */
void cli_read_secret(char *out, size_t max, const char *prompt, const char *env_name);
int cmd_guard(args *a);
/* phish_cmd.c */
int cmd_phish(args *a);
/* training_cmd.c */
int cmd_training(args *a);

/* ---- HTTPS client ---- */
typedef struct client {
    char addr[256];
    char token[128];
    char cacert[1024];
} client;

MUST_USE err client_load(client *c);
MUST_USE err client_save_token(const client *c);
/* Sends a request; status and the response body come back. */
MUST_USE err client_call(const client *c, const char *method, const char *path,
                         const char *content_type, slice body, int *status, buf *resp,
                         const char *const *extra_headers);
/* Prints a JSON answer (pretty, or compact with --json) or the error it carries; exit status. */
int client_print(const args *a, int status, const buf *resp);

#endif
