/*
 * door_account_rmw.c - the one way an account row is changed: read fresh inside a write
 * transaction, changed by the caller's function, written and committed (door_int.h), and the
 * lock and unlock built on it. Below the accounts and sign-in files, which both use it.
 */
#include <string.h>

#include "door_int.h"

err door_account_rmw(vault *v, const char *account_id, const char *username, door_account_fn fn,
                     void *ctx, account *out)
{
    account acc;
    memset(&acc, 0, sizeof acc);
    store_tx *tx = NULL;
    err rc = ERR_OK;
    GUARD(store_begin(v->st, &tx));
    store *st = store_tx_store(tx);
    GUARD(account_id ? store_account_by_id(st, account_id, &acc)
                     : store_account_by_name(st, username ? username : "", &acc));
    GUARD(fn(v, st, &acc, ctx));
    GUARD(store_account_update(st, &acc));
    GUARD(store_commit(&tx));
    if (out) {
        *out = acc;
    }
out:
    store_rollback(&tx);
    identity_account_wipe(&acc);
    return rc;
}

static err lock_fn(vault *v, store *st, account *acc, void *ctx)
{
    (void)v;
    (void)st;
    int64_t until = *(const int64_t *)ctx;
    if (acc->locked_until_us < until) {
        acc->locked_until_us = until;
    }
    return ERR_OK;
}

static err unlock_fn(vault *v, store *st, account *acc, void *ctx)
{
    (void)v;
    (void)st;
    (void)ctx;
    acc->locked_until_us = 0;
    acc->failed_logins = 0;
    return ERR_OK;
}

err door_account_unlock(vault *v, const char *username)
{
    identity_logins_forget(&v->id, username);
    return door_account_rmw(v, NULL, username, unlock_fn, NULL, NULL);
}

err door_account_lock(vault *v, const char *username, int64_t until_us, account *out)
{
    account acc;
    TRY(door_account_rmw(v, NULL, username, lock_fn, &until_us, &acc));
    identity_account_wipe(&acc);
    err e = identity_sessions_revoke(&v->id, acc.id, NULL);
    if (out) {
        *out = acc;
    }
    return e;
}
