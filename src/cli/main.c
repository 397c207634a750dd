/*
 * main.c - dispatches `custos <command>`; each command lives in its own file.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/mem.h"

static void usage(void)
{
    fputs("usage: custos <command> [arguments]\n"
          "\n"
          "offline (work on the vault folder; master key from CUSTOS_PASSPHRASE or --key-file):\n"
          "  init DIR [--key-file F] [--tls-cert C --tls-key K]   create a new vault\n"
          "  serve DIR [--listen 127.0.0.1:8443] [--port-file F] [--threads N]\n"
          "  keys rotate DIR                                     new master key version\n"
          "  keys generate FILE                                  new random key file\n"
          "  backup DIR OUT                                      encrypted, authenticated backup\n"
          "  restore BACKUP DIR                                  verify, then restore\n"
          "  demo DIR [--customers N]                            fill a vault with demo data\n"
          "  accounts add DIR USER --role R --department D       (password: CUSTOS_NEW_PASSWORD)\n"
          "\n"
          "client (server from CUSTOS_ADDR, token from CUSTOS_TOKEN or ~/.config/custos):\n"
          "  login USERNAME        (password from CUSTOS_PASSWORD or the terminal)\n"
          "  logout\n"
          "  customers add FIELD=VALUE... | get ID | update ID FIELD=VALUE... |\n"
          "            search --phone P|--email E|--id-number N|--name N | list |\n"
          "            erase ID [--reason R] | rotate-key ID |\n"
          "            import FILE [--charset gb18030] [--dry-run] | export [--format csv|jsonl]\n"
          "  transactions add CUSTOMER FIELD=VALUE... | list CUSTOMER\n"
          "  communications add CUSTOMER FIELD=VALUE... | list CUSTOMER\n"
          "\n"
          "  audit checkpoint [--save F] | search [--actor U] [--customer ID] ... |\n"
          "        report subject ID | report actor U [--from T --to T] | proof ...\n"
          "\n"
          "offline, no key needed:\n"
          "  audit verify DIR [--pubkey F] [--checkpoint F]...  check the whole audit log\n"
          "\n"
          "  --json   machine-readable output\n",
          stderr);
}

int main(int argc, char **argv)
{
    if (mem_init() != ERR_OK) {
        fputs("custos: cannot initialise the crypto library\n", stderr);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    args a;
    memset(&a, 0, sizeof a);
    a.argc = argc - 2;
    a.argv = argv + 2;
    for (int i = 0; i < a.argc; i++) {
        if (strncmp(a.argv[i], "--", 2) == 0) {
            if (strcmp(a.argv[i], "--json") == 0) {
                a.json = true;
                continue;
            }
            /* options with a value take the next word unless it is another option */
            if (i + 1 < a.argc && strncmp(a.argv[i + 1], "--", 2) != 0 &&
                strcmp(a.argv[i], "--dry-run") != 0) {
                i++;
            }
            continue;
        }
        if (a.npos < 8) {
            a.pos[a.npos++] = a.argv[i];
        }
    }
    const char *c = argv[1];
    if (strcmp(c, "init") == 0) {
        return cmd_init(&a);
    }
    if (strcmp(c, "serve") == 0) {
        return cmd_serve(&a);
    }
    if (strcmp(c, "keys") == 0) {
        return cmd_keys(&a);
    }
    if (strcmp(c, "backup") == 0) {
        return cmd_backup(&a);
    }
    if (strcmp(c, "restore") == 0) {
        return cmd_restore(&a);
    }
    if (strcmp(c, "demo") == 0) {
        return cmd_demo(&a);
    }
    if (strcmp(c, "audit") == 0) {
        return cmd_audit(&a);
    }
    if (strcmp(c, "accounts") == 0) {
        return cmd_accounts(&a);
    }
    if (strcmp(c, "login") == 0) {
        return cmd_login(&a);
    }
    if (strcmp(c, "logout") == 0) {
        return cmd_logout(&a);
    }
    if (strcmp(c, "customers") == 0) {
        return cmd_customers(&a);
    }
    if (strcmp(c, "guard") == 0) {
        return cmd_guard(&a);
    }
    if (strcmp(c, "transactions") == 0 || strcmp(c, "communications") == 0) {
        return cmd_records(&a, c);
    }
    fprintf(stderr, "custos: unknown command '%s'\n", c);
    usage();
    return 2;
}
