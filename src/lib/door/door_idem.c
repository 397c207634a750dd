/*
 * door_idem.c - the idempotency cache: a retried POST gets the first answer back.
 *
 * Nothing in the cache can be read or checked without the master key: the row's key and
 * the request's fingerprint are keyed MACs (keyring_mac, purpose "idempotency"), and the
 * answer is sealed under a key derived from the row's key. Rows expire after
 * DOOR_IDEM_TTL_US and are purged. A replay is audited. The server offers idempotency only
 * on routes whose requests carry no password or passphrase and whose answers carry no
 * secret (docs/API.md).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "door_int.h"

#define IDEM_MAC "idempotency"
#define IDEM_SEAL "idempotency.answer"
#define IDEM_FORMAT "2" /* meta idempotency_format: rows before 2 were unkeyed, in clear */
#define PURGE_EVERY_US ((int64_t)60 * 1000000)

static _Atomic int64_t last_purge_us;

err door_idem_init(vault *v)
{
    buf f;
    buf_init(&f, 64);
    err e = store_meta_get(v->st, "idempotency_format", &f);
    bool current = e == ERR_OK && strcmp(buf_cstr(&f), IDEM_FORMAT) == 0;
    buf_free(&f);
    if (e != ERR_OK && e != ERR_NOT_FOUND) {
        return e;
    }
    if (!current) {
        /* Older rows held fast hashes of request bodies and answers in clear: all go. */
        TRY(store_idem_purge(v->st, INT64_MAX, NULL));
        TRY(store_meta_set(v->st, "idempotency_format", IDEM_FORMAT));
    }
    return store_idem_purge(v->st, clock_now_us() - DOOR_IDEM_TTL_US, NULL);
}

static void idem_purge(vault *v, int64_t now)
{
    int64_t last = atomic_load(&last_purge_us);
    if (now - last < PURGE_EVERY_US ||
        !atomic_compare_exchange_strong(&last_purge_us, &last, now)) {
        return;
    }
    size_t n = 0;
    if (store_idem_purge(v->st, now - DOOR_IDEM_TTL_US, &n) != ERR_OK) {
        log_warn("idempotency.purge", "could not purge expired idempotency keys");
    }
}

err door_idem_begin(vault *v, const actor *a, const char *key, const char *method, const char *url,
                    slice body, door_idem *t, int *status, json_t **replay)
{
    memset(t, 0, sizeof *t);
    *replay = NULL;
    ENSURE(key && key[0] && strlen(key) <= 128, ERR_INPUT,
           "Idempotency-Key must be 1 to 128 characters");
    int64_t now = clock_now_us();
    idem_purge(v, now);
    buf b;
    buf_init(&b, (size_t)1 << 26);
    err rc = ERR_OK;
    GUARD(buf_appendf(&b, "key\n%s\n%s", a->account_id, key));
    keyring_mac(v->kr, IDEM_MAC, buf_slice(&b), t->k);
    buf_reset(&b);
    GUARD(buf_appendf(&b, "request\n%s\n%s\n%s\n", a->account_id, method, url));
    GUARD(buf_append(&b, body.p, body.len));
    keyring_mac(v->kr, IDEM_MAC, buf_slice(&b), t->h);
    buf_reset(&b);
    uint8_t stored_h[32];
    int st = 0;
    int64_t since = now - DOOR_IDEM_TTL_US;
    err ge = store_idem_get(v->st, t->k, since, stored_h, &st, &b);
    if (ge == ERR_NOT_FOUND) {
        err ce = store_idem_claim(v->st, t->k, t->h, now, since);
        if (ce == ERR_OK) {
            t->claimed = true;
            goto out;
        }
        CHECK(ce == ERR_CONFLICT, ce, "%s", err_message());
        /* Another request claimed it between the read and the claim: read again. */
        buf_reset(&b);
        ge = store_idem_get(v->st, t->k, since, stored_h, &st, &b);
        CHECK(ge != ERR_NOT_FOUND, ERR_CONFLICT,
              "a request with this Idempotency-Key is in progress; retry later");
    }
    GUARD(ge);
    CHECK(mem_eq_ct(t->h, stored_h, 32), ERR_CONFLICT,
          "Idempotency-Key was used before with a different request");
    CHECK(st != 0, ERR_CONFLICT, "a request with this Idempotency-Key is in progress; retry later");
    /* The first answer, sealed under a key only the keyring can derive. */
    uint8_t sk[32];
    keyring_mac(v->kr, IDEM_SEAL, slice_of(t->k, 32), sk);
    buf plain;
    buf_init(&plain, (size_t)1 << 26);
    rc = unseal(sk, "idempotency", "answer", buf_slice(&b), &plain);
    mem_wipe(sk, sizeof sk);
    json_t *j = rc == ERR_OK ? json_loadb((const char *)plain.p, plain.len, 0, NULL) : NULL;
    buf_free(&plain);
    GUARD(rc);
    CHECK(j != NULL, ERR_CRYPTO, "the remembered answer is not JSON");
    audit_entry e;
    door_entry(&e, a, "request.replay", "allow", "idempotency");
    rc = audit_append(v->au, &e, NULL);
    if (rc != ERR_OK) {
        json_decref(j);
        goto out;
    }
    *status = st;
    *replay = j;
out:
    buf_free(&b);
    return rc;
}

void door_idem_end(vault *v, door_idem *t, int status, const json_t *answer)
{
    if (!t->claimed) {
        return;
    }
    t->claimed = false;
    err rc = ERR_OK;
    if (status >= 200 && status < 300 && answer) {
        char *txt = json_dumps(answer, JSON_COMPACT);
        buf sealed;
        buf_init(&sealed, (size_t)1 << 26);
        uint8_t sk[32];
        keyring_mac(v->kr, IDEM_SEAL, slice_of(t->k, 32), sk);
        rc = txt ? seal(sk, 0, "idempotency", "answer", slice_cstr(txt), &sealed) : ERR_INTERNAL;
        mem_wipe(sk, sizeof sk);
        if (txt) {
            mem_wipe(txt, strlen(txt));
            free(txt);
        }
        if (rc == ERR_OK) {
            rc = store_idem_put(v->st, t->k, status, buf_slice(&sealed));
        }
        buf_free(&sealed);
        if (rc == ERR_OK) {
            return;
        }
        log_warn("idempotency.store", "could not remember an idempotency key");
    }
    /* Not answered (or not remembered): a retry does the work again. */
    if (store_idem_drop(v->st, t->k) != ERR_OK) {
        log_warn("idempotency.store", "could not release an idempotency key");
    }
}
