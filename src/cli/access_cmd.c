/*
 * access_cmd.c - identity and access from the command line, as a client of the
 * server: accounts, API keys, change and export requests, break-glass, the
 * caller's own account and second factor, and the online policy commands.
 * Each command is one API request; the server authorizes and audits it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/mem.h"

static int get(const args *a, const char *path)
{
    return cli_call_print(a, "GET", path, NULL, slice_of("", 0));
}

static int post(const args *a, const char *path, json_t *o)
{
    return cli_send_json(a, "POST", path, o ? o : json_object());
}

/* Copies s into out for a URL path segment: ids and usernames are [a-z0-9_.-]. */
static bool seg(const char *s, char *out, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-')) {
            return false;
        }
    }
    memcpy(out, s, n + 1);
    return true;
}

static int bad(const char *usage)
{
    fprintf(stderr, "usage: %s\n", usage);
    return 2;
}

static void set_opt(json_t *o, const args *a, const char *opt, const char *key)
{
    const char *v = args_opt(a, opt);
    if (v) {
        json_object_set_new(o, key, json_string(v));
    }
}

/* ---- custos accounts (online) ---- */

#define ACCOUNTS_USAGE                                                                             \
    "custos accounts list | add USER --role R --department D | disable USER | enable USER |\n"     \
    "                reset-password USER | set USER [--role R] [--department D] |\n"               \
    "                training USER --until YYYY-MM-DD | revoke-sessions USER |\n"                  \
    "                reset-second-factor USER |\n"                                                 \
    "                handover USER --request ID --code-a A --code-b B\n"                           \
    "       (new passwords from CUSTOS_NEW_PASSWORD or the terminal; for a role that reads\n"      \
    "       customer data, add/set/reset print a request and half a hand-over code: a data\n"      \
    "       steward approves it and gets the other half; the holder runs handover)"

int cmd_accounts_online(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    char user[80], path[200];
    if (strcmp(sub, "list") == 0) {
        return get(a, "/v1/accounts");
    }
    if (a->npos < 2 || !seg(a->pos[1], user, sizeof user)) {
        return bad(ACCOUNTS_USAGE);
    }
    if (strcmp(sub, "handover") == 0) {
        const char *rq = args_opt(a, "--request"), *ca = args_opt(a, "--code-a"),
                   *cb = args_opt(a, "--code-b");
        if (!rq || !ca || !cb) {
            return bad(ACCOUNTS_USAGE);
        }
        char pw[1100];
        cli_read_secret(pw, sizeof pw, "new password: ", "CUSTOS_NEW_PASSWORD");
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "username", user, "request", rq, "code_a",
                              ca, "code_b", cb, "password", pw);
        mem_wipe(pw, sizeof pw);
        return post(a, "/v1/handover", o);
    }
    if (strcmp(sub, "add") == 0 || strcmp(sub, "reset-password") == 0) {
        char pw[1100];
        cli_read_secret(pw, sizeof pw, "new password: ", "CUSTOS_NEW_PASSWORD");
        json_t *o = json_pack("{s:s}", "password", pw);
        mem_wipe(pw, sizeof pw);
        if (strcmp(sub, "add") == 0) {
            json_object_set_new(o, "username", json_string(user));
            set_opt(o, a, "--role", "role");
            set_opt(o, a, "--department", "department");
            return post(a, "/v1/accounts", o);
        }
        snprintf(path, sizeof path, "/v1/accounts/%s/reset-password", user);
        return post(a, path, o);
    }
    if (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0 ||
        strcmp(sub, "revoke-sessions") == 0) {
        snprintf(path, sizeof path, "/v1/accounts/%s/%s", user, sub);
        return post(a, path, NULL);
    }
    snprintf(path, sizeof path, "/v1/accounts/%s", user);
    if (strcmp(sub, "set") == 0) {
        json_t *o = json_object();
        set_opt(o, a, "--role", "role");
        set_opt(o, a, "--department", "department");
        return cli_send_json(a, "PATCH", path, o);
    }
    if (strcmp(sub, "reset-second-factor") == 0) {
        snprintf(path, sizeof path, "/v1/accounts/%s/reset-second-factor", user);
        return post(a, path, NULL);
    }
    if (strcmp(sub, "training") == 0 && args_opt(a, "--until")) {
        snprintf(path, sizeof path, "/v1/accounts/%s/training", user);
        return cli_send_json(a, "PUT", path,
                             json_pack("{s:s}", "valid_until", args_opt(a, "--until")));
    }
    return bad(ACCOUNTS_USAGE);
}

/* ---- custos apikeys ---- */

#define APIKEYS_USAGE                                                                              \
    "custos apikeys list | create NAME --role R --department D --scope S [--addresses CIDRS] |\n"  \
    "               rotate ID | revoke ID\n"                                                       \
    "       scope: category:op,op;... e.g. transactions:read,create;preferences:read"

int cmd_apikeys(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    char id[80], path[200];
    if (strcmp(sub, "list") == 0) {
        return get(a, "/v1/apikeys");
    }
    if (a->npos < 2 || !seg(a->pos[1], id, sizeof id)) {
        return bad(APIKEYS_USAGE);
    }
    if (strcmp(sub, "create") == 0) {
        json_t *o = json_pack("{s:s}", "name", id);
        set_opt(o, a, "--role", "role");
        set_opt(o, a, "--department", "department");
        set_opt(o, a, "--scope", "scope");
        set_opt(o, a, "--addresses", "addresses");
        return post(a, "/v1/apikeys", o);
    }
    if (strcmp(sub, "rotate") == 0 || strcmp(sub, "revoke") == 0) {
        snprintf(path, sizeof path, "/v1/apikeys/%s/%s", id, sub);
        return post(a, path, NULL);
    }
    return bad(APIKEYS_USAGE);
}

/* ---- custos requests / exports ---- */

#define REQUESTS_USAGE                                                                             \
    "custos requests list [--status pending|applied|rejected|approved|used] | show ID |\n"         \
    "                approve ID [--note N] | reject ID [--note N]\n"                               \
    "       (changes, exports, API keys, account hand-overs and break-glass; approving a\n"        \
    "       hand-over prints the approver's half of its code, once)"

int cmd_requests(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    char id[80], path[200];
    if (strcmp(sub, "list") == 0) {
        const char *st = args_opt(a, "--status");
        if (st && !seg(st, id, sizeof id)) {
            return bad(REQUESTS_USAGE);
        }
        snprintf(path, sizeof path, "/v1/requests%s%s", st ? "?status=" : "", st ? id : "");
        return get(a, path);
    }
    if (a->npos < 2 || !seg(a->pos[1], id, sizeof id)) {
        return bad(REQUESTS_USAGE);
    }
    if (strcmp(sub, "show") == 0) {
        snprintf(path, sizeof path, "/v1/requests/%s", id);
        return get(a, path);
    }
    if (strcmp(sub, "approve") == 0 || strcmp(sub, "reject") == 0) {
        snprintf(path, sizeof path, "/v1/requests/%s/%s", id, sub);
        json_t *o = json_object();
        set_opt(o, a, "--note", "note");
        return post(a, path, o);
    }
    return bad(REQUESTS_USAGE);
}

int cmd_exports(args *a)
{
    if (a->npos < 1 || strcmp(a->pos[0], "request") != 0) {
        return bad("custos exports request [--format csv|jsonl]   (a data steward approves; then "
                   "custos customers export --request ID)");
    }
    const char *f = args_opt(a, "--format");
    return cli_send_json(a, "POST", "/v1/exports", json_pack("{s:s}", "format", f ? f : "csv"));
}

/* ---- custos break-glass ---- */

#define BG_USAGE                                                                                   \
    "custos break-glass open --reason TEXT [--minutes N] | close ID | list [--unreviewed] |\n"     \
    "                   review ID --note TEXT\n"                                                   \
    "       (open files a request a data steward approves with `custos requests approve`,\n"       \
    "       unless custos.json allows self-service)"

int cmd_breakglass(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    char id[80], path[200];
    if (strcmp(sub, "open") == 0) {
        json_t *o = json_object();
        set_opt(o, a, "--reason", "reason");
        const char *m = args_opt(a, "--minutes");
        if (m) {
            json_object_set_new(o, "minutes", json_integer(strtol(m, NULL, 10)));
        }
        return post(a, "/v1/break-glass", o);
    }
    if (strcmp(sub, "list") == 0) {
        return get(a, args_flag(a, "--unreviewed") ? "/v1/break-glass?unreviewed=1"
                                                   : "/v1/break-glass");
    }
    if (a->npos < 2 || !seg(a->pos[1], id, sizeof id)) {
        return bad(BG_USAGE);
    }
    if (strcmp(sub, "close") == 0) {
        snprintf(path, sizeof path, "/v1/break-glass/%s/close", id);
        return post(a, path, NULL);
    }
    if (strcmp(sub, "review") == 0) {
        snprintf(path, sizeof path, "/v1/break-glass/%s/review", id);
        json_t *o = json_object();
        set_opt(o, a, "--note", "note");
        return post(a, path, o);
    }
    return bad(BG_USAGE);
}

/* ---- custos me ---- */

#define ME_USAGE                                                                                   \
    "custos me | password | totp enrol | totp confirm CODE | totp verify CODE |\n"                 \
    "          totp recover CODE | notices [--after ID]"

int cmd_me(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    if (a->npos == 0) {
        return get(a, "/v1/me");
    }
    if (strcmp(sub, "password") == 0) {
        char old_pw[1100], new_pw[1100];
        cli_read_secret(old_pw, sizeof old_pw, "current password: ", "CUSTOS_PASSWORD");
        cli_read_secret(new_pw, sizeof new_pw, "new password: ", "CUSTOS_NEW_PASSWORD");
        json_t *o = json_pack("{s:s,s:s}", "old_password", old_pw, "new_password", new_pw);
        mem_wipe(old_pw, sizeof old_pw);
        mem_wipe(new_pw, sizeof new_pw);
        return post(a, "/v1/me/password", o);
    }
    if (strcmp(sub, "notices") == 0) {
        const char *after = args_opt(a, "--after");
        char path[80];
        snprintf(path, sizeof path, "/v1/notices?after=%lld",
                 after ? strtoll(after, NULL, 10) : 0LL);
        return get(a, path);
    }
    if (strcmp(sub, "totp") == 0 && a->npos >= 2) {
        const char *what = a->pos[1];
        if (strcmp(what, "enrol") == 0) {
            return cli_call_print(a, "POST", "/v1/me/totp/enrol", NULL, slice_of("", 0));
        }
        if (a->npos >= 3 && strcmp(what, "confirm") == 0) {
            return post(a, "/v1/me/totp/confirm", json_pack("{s:s}", "code", a->pos[2]));
        }
        if (a->npos >= 3 && strcmp(what, "verify") == 0) {
            return post(a, "/v1/me/totp/verify", json_pack("{s:s}", "code", a->pos[2]));
        }
        if (a->npos >= 3 && strcmp(what, "recover") == 0) {
            return post(a, "/v1/me/totp/verify", json_pack("{s:s}", "recovery_code", a->pos[2]));
        }
    }
    return bad(ME_USAGE);
}

/* ---- custos policy reload | explain --customer (online) ---- */

static void url_part(const char *in, char *out, size_t max)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && k + 4 < max; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '_' || *p == '.' || *p == '-') {
            out[k++] = (char)*p;
        } else {
            out[k++] = '%';
            out[k++] = hex[*p >> 4];
            out[k++] = hex[*p & 15];
        }
    }
    out[k] = '\0';
}

int cmd_policy_online(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    if (strcmp(sub, "reload") == 0) {
        return post(a, "/v1/policy/reload", NULL);
    }
    const char *r = args_opt(a, "--role"), *o = args_opt(a, "--op"), *c = args_opt(a, "--category"),
               *cu = args_opt(a, "--customer");
    if (strcmp(sub, "explain") == 0 && r && o && c && cu) {
        char er[100], eo[100], ec[100], ecu[100], path[600];
        url_part(r, er, sizeof er);
        url_part(o, eo, sizeof eo);
        url_part(c, ec, sizeof ec);
        url_part(cu, ecu, sizeof ecu);
        snprintf(path, sizeof path, "/v1/policy/explain?role=%s&op=%s&category=%s&customer=%s", er,
                 eo, ec, ecu);
        return get(a, path);
    }
    return bad("custos policy reload | explain --role R --op OP --category C --customer ID");
}

/* ---- custos honeytokens ---- */

int cmd_honeytokens(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    if (strcmp(sub, "list") == 0) {
        return get(a, "/v1/honeytokens");
    }
    if (strcmp(sub, "add") == 0 && args_opt(a, "--department")) {
        return post(a, "/v1/honeytokens",
                    json_pack("{s:s}", "department", args_opt(a, "--department")));
    }
    return bad("custos honeytokens list | add --department D");
}

/* ---- custos vault seal | unseal ---- */

int cmd_vault(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    if (strcmp(sub, "seal") == 0) {
        json_t *o = json_object();
        set_opt(o, a, "--reason", "reason");
        return post(a, "/v1/vault/seal", o);
    }
    if (strcmp(sub, "unseal") == 0) {
        if (args_opt(a, "--key-file")) {
            return post(a, "/v1/vault/unseal",
                        json_pack("{s:s}", "key_file", args_opt(a, "--key-file")));
        }
        char pw[1100];
        cli_read_secret(pw, sizeof pw, "passphrase: ", "CUSTOS_PASSPHRASE");
        json_t *o = json_pack("{s:s}", "passphrase", pw);
        mem_wipe(pw, sizeof pw);
        return post(a, "/v1/vault/unseal", o);
    }
    return bad("custos vault seal [--reason TEXT] | unseal [--key-file F]   (passphrase: "
               "CUSTOS_PASSPHRASE or the terminal)");
}

/* ---- custos alerts | violations | guard (online side) ---- */

int cmd_alerts(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "list";
    char path[300], id[32];
    if (strcmp(sub, "list") == 0) {
        const char *st = args_opt(a, "--status"), *sev = args_opt(a, "--severity");
        char es[40] = "", ev[40] = "";
        if ((st && !seg(st, es, sizeof es)) || (sev && !seg(sev, ev, sizeof ev))) {
            return bad("custos alerts list [--status open|acknowledged|closed] [--severity S]");
        }
        snprintf(path, sizeof path, "/v1/alerts?limit=100%s%s%s%s", st ? "&status=" : "", es,
                 sev ? "&severity=" : "", ev);
        return get(a, path);
    }
    if (a->npos >= 2 && seg(a->pos[1], id, sizeof id) &&
        (strcmp(sub, "ack") == 0 || strcmp(sub, "close") == 0)) {
        snprintf(path, sizeof path, "/v1/alerts/%s/%s", id, sub);
        json_t *o = json_object();
        set_opt(o, a, "--reason", "reason");
        return post(a, path, o);
    }
    return bad("custos alerts list [--status S] [--severity S] | ack ID | close ID --reason TEXT");
}

int cmd_violations(args *a)
{
    char path[200], u[80];
    const char *user = args_opt(a, "--user");
    if (user && !seg(user, u, sizeof u)) {
        return bad("custos violations [--user USERNAME]");
    }
    snprintf(path, sizeof path, "/v1/violations%s%s", user ? "?username=" : "", user ? u : "");
    return get(a, path);
}

int cmd_guard_online(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    if (strcmp(sub, "sanctions") == 0) {
        return get(a, "/v1/guard/sanctions");
    }
    if (a->npos >= 2 && strcmp(sub, "block") == 0) {
        const char *sec = args_opt(a, "--seconds");
        json_t *o = json_pack("{s:s,s:I}", "address", a->pos[1], "seconds",
                              (json_int_t)(sec ? strtol(sec, NULL, 10) : 3600));
        set_opt(o, a, "--reason", "reason");
        return post(a, "/v1/guard/block", o);
    }
    if (a->npos >= 2 && strcmp(sub, "unblock") == 0) {
        return post(a, "/v1/guard/unblock", json_pack("{s:s}", "address", a->pos[1]));
    }
    if (a->npos >= 2 && strcmp(sub, "unlock") == 0) {
        return post(a, "/v1/guard/unlock", json_pack("{s:s}", "account", a->pos[1]));
    }
    if (a->npos >= 3 && strcmp(sub, "unthrottle") == 0 &&
        (strcmp(a->pos[1], "address") == 0 || strcmp(a->pos[1], "account") == 0)) {
        return post(a, "/v1/guard/unthrottle", json_pack("{s:s}", a->pos[1], a->pos[2]));
    }
    return bad("custos guard sanctions | block ADDRESS [--seconds N] [--reason R] |\n"
               "                   unblock ADDRESS | unlock USER | unthrottle address|account X");
}
