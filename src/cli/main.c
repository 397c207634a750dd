/*
 * main.c - dispatches `custos <command>`; each command lives in its own file.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/mem.h"

static void usage(void)
{
    fputs(
        "usage: custos <command> [arguments]\n"
        "\n"
        "offline (work on the vault folder; master key from CUSTOS_PASSPHRASE or --key-file):\n"
        "  init DIR [--key-file F] [--tls-cert C --tls-key K]   create a new vault\n"
        "  serve DIR [--listen 127.0.0.1:8443] [--port-file F] [--threads N]\n"
        "        [--metrics-listen 127.0.0.1:9443] [--max-connections N]\n"
        "            [--accept-audit-anchor]   (after checking the log against a witness)\n"
        "  keys rotate DIR                                     new master key version\n"
        "  keys generate FILE                                  new random key file\n"
        "  backup DIR OUT                                      encrypted, authenticated backup\n"
        "  restore BACKUP DIR                                  verify, then restore\n"
        "  demo DIR [--customers N]                            fill a vault with demo data\n"
        "  accounts add DIR USER --role R --department D [--training-until DATE]\n"
        "                                  (the first admin; password: CUSTOS_NEW_PASSWORD)\n"
        "  policy check FILE | explain --role R --op OP --category C | show | diff OLD NEW\n"
        "\n"
        "client (server from CUSTOS_ADDR, token from CUSTOS_TOKEN or ~/.config/custos):\n"
        "  login USERNAME [--otp CODE | --recovery-code C]   (password: CUSTOS_PASSWORD or tty)\n"
        "  me | password | totp enrol | totp confirm CODE | totp verify CODE\n"
        "  logout\n"
        "  customers add FIELD=VALUE... | get ID | update ID FIELD=VALUE... |\n"
        "            search --phone P|--email E|--id-number N|--name N | list |\n"
        "            erase ID [--reason R] | rotate-key ID |\n"
        "            import FILE [--charset gb18030] [--dry-run] |\n"
        "            export --request ID [--format csv|jsonl]\n"
        "  exports request [--format csv|jsonl]          (a data steward approves it)\n"
        "  requests list [--status S] | show ID | approve ID [--note N] | reject ID\n"
        "  accounts list | add USER --role R --department D | disable|enable USER |\n"
        "           reset-password USER | set USER [--role R] [--department D] |\n"
        "           training USER --until DATE | revoke-sessions USER | reset-second-factor USER\n"
        "  apikeys list | create NAME --role R --department D --scope S [--addresses A] |\n"
        "          rotate ID | revoke ID\n"
        "  break-glass open --reason TEXT [--minutes N] | close ID | list [--unreviewed] |\n"
        "              review ID --note TEXT\n"
        "  policy reload | explain ... --customer ID\n"
        "  honeytokens list | add --department D\n"
        "  vault seal [--reason TEXT] | unseal [--key-file F]   (the emergency brake)\n"
        "  alerts list [--status S] [--severity S] | ack ID | close ID --reason TEXT\n"
        "  violations [--user U]\n"
        "  guard sanctions | block ADDRESS [--seconds N] | unblock ADDRESS | unlock USER |\n"
        "        unthrottle address|account X\n"
        "  guard check RULES | replay --rules RULES DIR      (offline)\n"
        "  drill start PLAYBOOK [--wait] | list | show ID | report ID [--lang L] [--format F]\n"
        "        [--out FILE]\n"
        "  training check COURSE_DIR | import DIR COURSE_DIR (offline) | courses | status |\n"
        "           results | assign | assignments | unassign | remind | report | valid-until\n"
        "  incident list | show | open | task | phase | owner | note | close | contain |\n"
        "           scope | evidence | evidence-index | filed | report   (custos incident)\n"
        "  phish check TEMPLATE | create TEMPLATE --roles R... | campaigns | metrics ID | mine |\n"
        "        report [LINK]\n"
        "  transactions add CUSTOMER FIELD=VALUE... | list CUSTOMER\n"
        "  communications add CUSTOMER FIELD=VALUE... | list CUSTOMER\n"
        "\n"
        "  audit checkpoint [--save F] | search [--actor U] [--customer ID] ... |\n"
        "        report subject ID | report actor U [--from T --to T] | proof ...\n"
        "\n"
        "offline, no key needed:\n"
        "  audit verify DIR [--pubkey F] [--checkpoint F]...  check the whole audit log\n"
        "  audit verify-bundle FILE [--pubkey F]  check an incident's evidence bundle offline\n"
        "\n"
        "  --json   machine-readable output\n",
        stderr);
}

int main(int argc, char **argv)
{
    /* Everything Custos creates is private (files 0600, folders 0700), whatever the umask
     * it was started with. */
    umask(077);
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
            bool flag = strcmp(a.argv[i], "--dry-run") == 0 ||
                        strcmp(a.argv[i], "--unreviewed") == 0 ||
                        strcmp(a.argv[i], "--other-department") == 0 ||
                        strcmp(a.argv[i], "--accept-audit-anchor") == 0 ||
                        strcmp(a.argv[i], "--drill") == 0 || strcmp(a.argv[i], "--compute") == 0 ||
                        strcmp(a.argv[i], "--wait") == 0;
            if (i + 1 < a.argc && strncmp(a.argv[i + 1], "--", 2) != 0 && !flag) {
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
        /* `accounts add DIR USER` works on the folder (the first admin); the rest is online */
        bool offline = a.npos >= 3 && strcmp(a.pos[0], "add") == 0;
        return offline ? cmd_accounts(&a) : cmd_accounts_online(&a);
    }
    if (strcmp(c, "apikeys") == 0) {
        return cmd_apikeys(&a);
    }
    if (strcmp(c, "requests") == 0) {
        return cmd_requests(&a);
    }
    if (strcmp(c, "exports") == 0) {
        return cmd_exports(&a);
    }
    if (strcmp(c, "break-glass") == 0) {
        return cmd_breakglass(&a);
    }
    if (strcmp(c, "me") == 0) {
        return cmd_me(&a);
    }
    if (strcmp(c, "honeytokens") == 0) {
        return cmd_honeytokens(&a);
    }
    if (strcmp(c, "vault") == 0) {
        return cmd_vault(&a);
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
    if (strcmp(c, "policy") == 0) {
        bool online = a.npos >= 1 &&
                      (strcmp(a.pos[0], "reload") == 0 ||
                       (strcmp(a.pos[0], "explain") == 0 && args_opt(&a, "--customer") != NULL));
        return online ? cmd_policy_online(&a) : cmd_policy(&a);
    }
    if (strcmp(c, "guard") == 0) {
        /* check and replay are offline; the rest asks the server */
        bool offline =
            a.npos >= 1 && (strcmp(a.pos[0], "check") == 0 || strcmp(a.pos[0], "replay") == 0);
        return offline ? cmd_guard(&a) : cmd_guard_online(&a);
    }
    if (strcmp(c, "alerts") == 0) {
        return cmd_alerts(&a);
    }
    if (strcmp(c, "training") == 0) {
        return cmd_training(&a);
    }
    if (strcmp(c, "drill") == 0) {
        return cmd_drill(&a);
    }
    if (strcmp(c, "incident") == 0) {
        return cmd_incident(&a);
    }
    if (strcmp(c, "phish") == 0) {
        return cmd_phish(&a);
    }
    if (strcmp(c, "violations") == 0) {
        return cmd_violations(&a);
    }
    if (strcmp(c, "transactions") == 0 || strcmp(c, "communications") == 0) {
        return cmd_records(&a, c);
    }
    fprintf(stderr, "custos: unknown command '%s'\n", c);
    usage();
    return 2;
}
