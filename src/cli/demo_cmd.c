/*
 * demo_cmd.c - `custos demo DIR`: a vault full of realistic synthetic data,
 * created through the door like any other data (so it is sealed, indexed and
 * audited), with one account per role in two departments.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/mem.h"
#include "door/door.h"
#include "door/door_phish.h"
#include "door/door_training.h"
#include "model/demo.h"

static const struct {
    const char *user;
    role r;
    const char *dept;
} DEMO_ACCOUNTS[] = {
    {"sales1", ROLE_SALES, "beijing"},
    {"service1", ROLE_CUSTOMER_SERVICE, "beijing"},
    {"steward1", ROLE_DATA_STEWARD, "beijing"},
    {"steward3", ROLE_DATA_STEWARD, "beijing"}, /* a second person to approve */
    {"sales2", ROLE_SALES, "shanghai"},
    {"steward2", ROLE_DATA_STEWARD, "shanghai"},
    {"security1", ROLE_SECURITY, "security"},
    {"legal1", ROLE_LEGAL, "legal"},
    {"hr1", ROLE_HR, "hr"},
    {"auditor1", ROLE_AUDITOR, "audit"},
    {"admin", ROLE_ADMIN, "it"},
};

static actor demo_actor(vault *v, const char *user)
{
    actor a;
    if (door_actor_of(v, user, &a) != ERR_OK) {
        memset(&a, 0, sizeof a);
        a.training_until_us = INT64_MAX;
    }
    snprintf(a.source, sizeof a.source, "local");
    snprintf(a.request_id, sizeof a.request_id, "demo");
    return a;
}

/* Demo staff have this quarter's training; the demo vault signs in with passwords alone. */
static err demo_access(vault *v, const char *dir)
{
    int64_t until = clock_now_us() + (int64_t)365 * 86400 * 1000000;
    actor sys;
    actor_system(&sys, "demo");
    for (size_t i = 0; i < sizeof DEMO_ACCOUNTS / sizeof DEMO_ACCOUNTS[0]; i++) {
        TRY(door_account_training_offline(v, &sys, DEMO_ACCOUNTS[i].user, until));
    }
    char p[PATH_MAX];
    vault_path_in(dir, "custos.json", p, sizeof p);
    if (access(p, F_OK) == 0) {
        return ERR_OK; /* an operator's configuration is left alone */
    }
    FILE *f = fopen(p, "wx");
    ENSURE(f != NULL, ERR_IO, "cannot write %s", p);
    int ok = fputs("{\n  \"access\": {\"second_factor\": \"off\"}\n}\n", f) >= 0;
    ok = fclose(f) == 0 && ok;
    ENSURE(ok, ERR_IO, "cannot write %s", p);
    return ERR_OK;
}

/* The starter curriculum (training/security-basics, or --training DIR), assigned to every
 * role that reads customer data; skipped when the folder is not there. */
static err demo_training(vault *v, const args *a)
{
    const char *dir = args_opt(a, "--training");
    dir = dir ? dir : getenv("CUSTOS_TRAINING_DIR");
    dir = dir ? dir : "training/security-basics";
    char p[PATH_MAX];
    vault_path_in(dir, "course.json", p, sizeof p);
    if (access(p, R_OK) != 0) {
        return ERR_OK;
    }
    actor sys;
    actor_system(&sys, "demo");
    json_t *res = NULL;
    TRY(door_training_import(v, &sys, dir, &res));
    char id[80];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(res, "course")));
    json_decref(res);
    static const char *const ROLES[] = {"sales", "customer_service", "data_steward"};
    for (size_t i = 0; i < 3; i++) {
        TRY(door_training_assign(v, &sys, id, "role", ROLES[i], 0, &res));
        json_decref(res);
    }
    /* The demo's HR (department "hr") reads every department's training figures; without
     * this HR sees its own department only. An existing training.json is left alone. */
    vault_path(v, "training.json", p, sizeof p);
    static const char CFG[] = "{\"hr_scope\": {\"hr1\": [\"*\"]}}\n";
    err e = file_write_atomic(p, slice_of(CFG, sizeof CFG - 1), true);
    return e == ERR_CONFLICT ? ERR_OK : e;
}

/* A finished phishing-simulation campaign with its metrics (training/phishing, or
 * CUSTOS_PHISHING_DIR): last month's collector lure to sales, service and stewards; skipped
 * when the template is not there. */
static err demo_phishing(vault *v)
{
    const char *dir = getenv("CUSTOS_PHISHING_DIR");
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/collector-list.zh-CN.txt", dir ? dir : "training/phishing");
    FILE *f = fopen(p, "rb");
    if (!f) {
        return ERR_OK;
    }
    char *txt = calloc(1, (size_t)256 << 10);
    size_t n = txt ? fread(txt, 1, ((size_t)256 << 10) - 1, f) : 0;
    fclose(f);
    ENSURE(txt != NULL, ERR_INTERNAL, "out of memory");
    (void)n;
    json_t *res = NULL;
    err e = door_phish_demo(v, txt, NULL, 15, &res);
    json_decref(res);
    free(txt);
    return e;
}

static err fill(vault *v, long n, uint64_t seed)
{
    demo_rng rng;
    demo_rng_seed(&rng, seed);
    actor st[2] = {demo_actor(v, "steward1"), demo_actor(v, "steward2")};
    actor sales[2] = {demo_actor(v, "sales1"), demo_actor(v, "sales2")};
    actor service = demo_actor(v, "service1");
    err rc = ERR_OK;
    for (long i = 0; i < n; i++) {
        int d = (int)(i % 2);
        record rec;
        record_init(&rec, REC_CUSTOMER);
        char id[ID_LEN + 1];
        rc = demo_customer(&rng, d ? "shanghai" : "beijing", d ? "sales2" : "sales1", &rec);
        if (rc == ERR_OK) {
            rc = door_customer_create(v, &st[d], &rec, id);
        }
        record_free(&rec);
        TRY(rc);
        uint32_t nt = demo_rng_below(&rng, 4), nc = demo_rng_below(&rng, 3);
        for (uint32_t k = 0; k < nt; k++) {
            record t;
            record_init(&t, REC_TRANSACTION);
            char rid[ID_LEN + 1];
            rc = demo_transaction(&rng, &t);
            if (rc == ERR_OK) {
                rc = door_record_create(v, &sales[d], REC_TRANSACTION, id, &t, rid);
            }
            record_free(&t);
            TRY(rc);
        }
        for (uint32_t k = 0; k < nc; k++) {
            record c;
            record_init(&c, REC_COMMUNICATION);
            char rid[ID_LEN + 1];
            rc = demo_communication(&rng, "service1", &c);
            if (rc == ERR_OK) {
                /* Customer service logs conversations with any department's customers. */
                rc = door_record_create(v, &service, REC_COMMUNICATION, id, &c, rid);
            }
            record_free(&c);
            TRY(rc);
        }
        if ((i + 1) % 250 == 0) {
            fprintf(stderr, "  %ld customers\n", i + 1);
        }
    }
    return ERR_OK;
}

int cmd_demo(args *a)
{
    if (a->npos < 1) {
        fputs("usage: custos demo DIR [--customers N] [--key-file F]\n", stderr);
        return 2;
    }
    const char *dir = a->pos[0];
    const char *nstr = args_opt(a, "--customers");
    long n = nstr ? strtol(nstr, NULL, 10) : 1000;
    if (n < 0 || n > 10000000) {
        fputs("custos: --customers must be 0 to 10,000,000\n", stderr);
        return 2;
    }
    vault_key src;
    err e = vault_key_from_env(args_opt(a, "--key-file"), &src);
    if (e != ERR_OK) {
        return cli_fail(e);
    }
    char p[PATH_MAX];
    vault_path_in(dir, VAULT_KEYRING, p, sizeof p);
    if (access(p, F_OK) != 0) {
        vault_init_opts o = {&src, VAULT_KDF_MODERATE, NULL, NULL};
#ifdef CUSTOS_TESTING /* CUSTOS_TEST_KDF=fast lowers the keyring's cost in test builds only */
        const char *f = getenv("CUSTOS_TEST_KDF");
        if (f && !strcmp(f, "fast")) {
            o.kdf = VAULT_KDF_FAST;
        }
#endif
        if ((e = vault_init(dir, &o)) != ERR_OK) {
            return cli_fail(e);
        }
    }
    vault *v = NULL;
    if ((e = vault_open(dir, &src, &v)) != ERR_OK) {
        return cli_fail(e);
    }
    if (door_account_exists(v, "admin")) {
        vault_close(v);
        printf("demo data already present in %s\n", dir);
        return 0;
    }
    char pw[64];
    const char *env = getenv("CUSTOS_DEMO_PASSWORD");
    bool generated = !env || !env[0];
    if (generated) {
        uint8_t r[12];
        rand_bytes(r, sizeof r);
        b64url_encode(pw, sizeof pw, r, sizeof r);
        mem_wipe(r, sizeof r);
    } else {
        snprintf(pw, sizeof pw, "%s", env);
    }
    actor sys;
    actor_system(&sys, "demo");
    for (size_t i = 0; i < sizeof DEMO_ACCOUNTS / sizeof DEMO_ACCOUNTS[0] && e == ERR_OK; i++) {
        e = door_account_create(v, &sys, DEMO_ACCOUNTS[i].user, pw, DEMO_ACCOUNTS[i].r,
                                DEMO_ACCOUNTS[i].dept);
    }
    if (e == ERR_OK) {
        e = demo_access(v, dir);
    }
    if (e == ERR_OK) {
        e = demo_training(v, a);
    }
    e = e == ERR_OK ? demo_phishing(v) : e;
    /* Two honeytokens per department: nobody's job opens them. */
    for (int i = 0; i < 4 && e == ERR_OK; i++) {
        e = door_honeytoken_add(v, &sys, i % 2 ? "shanghai" : "beijing", NULL);
    }
    if (e == ERR_OK) {
        IGNORE(door_mark_demo(v));
        const char *seed = getenv("CUSTOS_DEMO_SEED");
        e = fill(v, n, seed ? strtoull(seed, NULL, 10) : (uint64_t)clock_now_us());
    }
    vault_close(v);
    if (e != ERR_OK) {
        mem_wipe(pw, sizeof pw);
        return cli_fail(e);
    }
    printf("demo vault ready in %s: %ld customers in departments beijing and shanghai\n", dir, n);
    printf("accounts: sales1 service1 steward1 steward3 (beijing), sales2 steward2 (shanghai), "
           "security1 legal1 hr1 auditor1 admin\n");
    if (generated) {
        printf("demo password (all accounts, shown once): %s\n", pw);
    }
    printf("second factor: OFF for this demo vault (custos.json access.second_factor = off), so "
           "the demo logins work with passwords alone; a vault made by `custos init` requires "
           "TOTP for every role that reads customer data\n");
    mem_wipe(pw, sizeof pw);
    return 0;
}
