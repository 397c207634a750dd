/*
 * audit_cmd.c - `custos audit ...`: offline verification of a vault's log
 * (no passphrase, no server), and the client side of the audit API.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/checkpoint.h"
#include "cli/cli.h"
#include "core/mem.h"
#include "incident/bundle.h"

static char *slurp(const char *path, size_t max, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *p = malloc(max + 1);
    *n = p ? fread(p, 1, max, f) : 0;
    fclose(f);
    if (p) {
        p[*n] = '\0';
    }
    return p;
}

/* audit.pub ("ed25519 <hex>", "key_name <name>", "vkey <vkey>") or a bare vkey line. */
static err load_pubkey(const char *path, char *name, size_t name_max, uint8_t pk[32])
{
    size_t n = 0;
    char *text = slurp(path, 8192, &n);
    ENSURE(text != NULL, ERR_IO, "cannot read the public key file %s", path);
    err rc = ERR_INPUT;
    err_set(ERR_INPUT, __FILE__, __LINE__, "%s holds no usable public key", path);
    char *save = NULL;
    for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        const char *v = strncmp(line, "vkey ", 5) == 0 ? line + 5 : strchr(line, ' ') ? NULL : line;
        if (v && checkpoint_parse_vkey(v, name, name_max, pk) == ERR_OK) {
            rc = ERR_OK;
            break;
        }
    }
    free(text);
    return rc;
}

static int cmd_verify(args *a)
{
    if (a->npos < 2) {
        fputs("usage: custos audit verify DIR [--pubkey FILE] [--checkpoint FILE]...\n", stderr);
        return 2;
    }
    const char *dir = a->pos[1];
    char p[PATH_MAX], name[128];
    uint8_t pk[32];
    const char *pub = args_opt(a, "--pubkey");
    snprintf(p, sizeof p, "%s/audit.pub", dir);
    err e = load_pubkey(pub ? pub : p, name, sizeof name, pk);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    slice notes[64];
    char *held[64];
    size_t nn = 0;
    for (int i = 0; i + 1 < a->argc && nn < 64; i++) {
        if (strcmp(a->argv[i], "--checkpoint") == 0) {
            size_t n = 0;
            held[nn] = slurp(a->argv[i + 1], 65536, &n);
            if (!held[nn]) {
                fprintf(stderr, "custos: cannot read %s\n", a->argv[i + 1]);
                return 2;
            }
            notes[nn] = slice_of(held[nn], n);
            nn++;
        }
    }
    snprintf(p, sizeof p, "%s/audit.db", dir);
    audit_verify_report r;
    e = audit_verify_file(p, name, pk, notes, nn, &r);
    for (size_t i = 0; i < nn; i++) {
        free(held[i]);
    }
    if (a->json) {
        json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:s}", "ok", e == ERR_OK, "entries",
                              (json_int_t)r.entries, "checkpoints", (json_int_t)r.checkpoints,
                              "bad_index", (json_int_t)r.bad_index, "problem", r.problem);
        char *s = json_dumps(o, JSON_COMPACT);
        puts(s ? s : "{}");
        free(s);
        json_decref(o);
    } else if (e == ERR_OK) {
        printf("audit log OK: %llu entries, %llu signed checkpoints verified\n",
               (unsigned long long)r.entries, (unsigned long long)r.checkpoints);
    } else {
        printf("audit log FAILED at index %lld: %s\n", (long long)r.bad_index, r.problem);
    }
    return e == ERR_OK ? 0 : 1;
}

/* custos audit verify-bundle FILE [--pubkey F]: an incident's evidence bundle, offline. With
 * --pubkey (audit.pub or a vkey held apart) the bundle's key must be that one. */
static int cmd_verify_bundle(args *a)
{
    if (a->npos < 2) {
        fputs("usage: custos audit verify-bundle FILE [--pubkey FILE]\n", stderr);
        return 2;
    }
    char vkey[1024] = "";
    const char *pub = args_opt(a, "--pubkey");
    if (pub) {
        char name[CHECKPOINT_MAX_NAME + 1];
        uint8_t pk[32];
        buf vk;
        buf_init(&vk, 0);
        err e = load_pubkey(pub, name, sizeof name, pk);
        if (e == ERR_OK) {
            e = checkpoint_vkey(name, pk, &vk);
        }
        if (e != ERR_OK) {
            buf_free(&vk);
            return cli_fail(e);
        }
        snprintf(vkey, sizeof vkey, "%s", buf_cstr(&vk));
        buf_free(&vk);
    }
    size_t n = 0;
    char *text = slurp(a->pos[1], BUNDLE_MAX_BYTES + 1, &n);
    if (!text) {
        fprintf(stderr, "custos: cannot read %s\n", a->pos[1]);
        return 2;
    }
    bundle_report r;
    err e = bundle_verify(slice_of(text, n), pub ? vkey : NULL, &r);
    free(text);
    if (a->json) {
        json_t *o = json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:s, s:s}", "ok", e == ERR_OK,
                              "incident", r.incident, "entries", (json_int_t)r.entries, "documents",
                              (json_int_t)r.docs, "scope_size", (json_int_t)r.scope_size,
                              "latest_size", (json_int_t)r.latest_size, "manifest_sha256",
                              r.manifest_sha256, "problem", r.problem);
        char *s = json_dumps(o, JSON_COMPACT);
        puts(s ? s : "{}");
        free(s);
        json_decref(o);
    } else if (e == ERR_OK) {
        printf("evidence bundle OK: incident %s, %llu entries proven in the tree of size %llu, "
               "consistent with size %llu, %zu documents, manifest sha256 %s%s\n",
               r.incident, (unsigned long long)r.entries, (unsigned long long)r.scope_size,
               (unsigned long long)r.latest_size, r.docs, r.manifest_sha256,
               pub ? "" : " (key not compared with one held apart: use --pubkey)");
    } else {
        printf("evidence bundle FAILED: %s\n", r.problem);
    }
    return e == ERR_OK ? 0 : 1;
}

static int call(const args *a, const char *path, buf *resp, int *status)
{
    client c;
    IGNORE(client_load(&c));
    err e = client_call(&c, "GET", path, NULL, slice_of("", 0), status, resp, NULL);
    mem_wipe(c.token, sizeof c.token);
    return e == ERR_OK ? 0 : cli_fail(e);
}

static void add_arg(char *path, size_t max, const char *name, const char *value)
{
    if (!value) {
        return;
    }
    size_t n = strlen(path);
    snprintf(path + n, max - n, "%c%s=", strchr(path, '?') ? '&' : '?', name);
    n = strlen(path);
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *v = (const unsigned char *)value; *v && n + 4 < max; v++) {
        if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
            *v == '-' || *v == '_' || *v == '.' || *v == ':') {
            path[n++] = (char)*v;
        } else {
            path[n++] = '%';
            path[n++] = hex[*v >> 4];
            path[n++] = hex[*v & 15];
        }
    }
    path[n] = '\0';
}

int cmd_audit(args *a)
{
    const char *sub = a->npos ? a->pos[0] : "";
    if (strcmp(sub, "verify") == 0) {
        return cmd_verify(a);
    }
    if (strcmp(sub, "verify-bundle") == 0) {
        return cmd_verify_bundle(a);
    }
    char path[2048];
    buf resp;
    buf_init(&resp, (size_t)1 << 30);
    int status = 0, rc = 2;
    if (strcmp(sub, "checkpoint") == 0) {
        if ((rc = call(a, "/v1/audit/checkpoint", &resp, &status)) != 0) {
            goto out;
        }
        const char *save = args_opt(a, "--save");
        json_t *j = json_loadb((const char *)resp.p, resp.len, 0, NULL);
        const char *note = json_string_value(json_object_get(j, "checkpoint"));
        if (status == 200 && note && save) {
            FILE *f = fopen(save, "wx");
            if (!f || fputs(note, f) < 0) {
                fprintf(stderr, "custos: cannot write %s (it must not exist)\n", save);
                rc = 1;
            } else {
                printf("checkpoint for %lld entries saved to %s\n",
                       (long long)json_integer_value(json_object_get(j, "size")), save);
                rc = 0;
            }
            if (f) {
                fclose(f);
            }
        } else {
            rc = client_print(a, status, &resp);
        }
        json_decref(j);
        goto out;
    }
    if (strcmp(sub, "search") == 0) {
        snprintf(path, sizeof path, "/v1/audit/entries");
        add_arg(path, sizeof path, "actor", args_opt(a, "--actor"));
        add_arg(path, sizeof path, "customer", args_opt(a, "--customer"));
        add_arg(path, sizeof path, "action", args_opt(a, "--action"));
        add_arg(path, sizeof path, "decision", args_opt(a, "--decision"));
        add_arg(path, sizeof path, "from", args_opt(a, "--from"));
        add_arg(path, sizeof path, "to", args_opt(a, "--to"));
        add_arg(path, sizeof path, "after", args_opt(a, "--after"));
        add_arg(path, sizeof path, "limit", args_opt(a, "--limit"));
    } else if (strcmp(sub, "report") == 0 && a->npos >= 3 && strcmp(a->pos[1], "subject") == 0) {
        snprintf(path, sizeof path, "/v1/audit/reports/subject");
        add_arg(path, sizeof path, "customer", a->pos[2]);
    } else if (strcmp(sub, "report") == 0 && a->npos >= 3 && strcmp(a->pos[1], "actor") == 0) {
        snprintf(path, sizeof path, "/v1/audit/reports/actor");
        add_arg(path, sizeof path, "actor", a->pos[2]);
        add_arg(path, sizeof path, "from", args_opt(a, "--from"));
        add_arg(path, sizeof path, "to", args_opt(a, "--to"));
    } else if (strcmp(sub, "proof") == 0 && a->npos >= 2 && strcmp(a->pos[1], "inclusion") == 0) {
        snprintf(path, sizeof path, "/v1/audit/proof/inclusion");
        add_arg(path, sizeof path, "index", args_opt(a, "--index"));
        add_arg(path, sizeof path, "size", args_opt(a, "--size"));
    } else if (strcmp(sub, "proof") == 0 && a->npos >= 2 && strcmp(a->pos[1], "consistency") == 0) {
        snprintf(path, sizeof path, "/v1/audit/proof/consistency");
        add_arg(path, sizeof path, "from", args_opt(a, "--from"));
        add_arg(path, sizeof path, "to", args_opt(a, "--to"));
    } else {
        fputs("usage: custos audit verify DIR [--pubkey F] [--checkpoint F]...\n"
              "       custos audit verify-bundle FILE [--pubkey F]\n"
              "       custos audit checkpoint [--save FILE]\n"
              "       custos audit search [--actor U] [--customer ID] [--action A] "
              "[--decision allow|deny] [--from T] [--to T]\n"
              "       custos audit report subject CUSTOMER | report actor USER [--from T --to T]\n"
              "       custos audit proof inclusion --index I --size N | proof consistency "
              "--from M --to N\n",
              stderr);
        goto out;
    }
    if ((rc = call(a, path, &resp, &status)) == 0) {
        rc = client_print(a, status, &resp);
    }
out:
    buf_free(&resp);
    return rc;
}
