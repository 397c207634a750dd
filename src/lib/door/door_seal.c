/*
 * door_seal.c - the emergency brake. Sealing wipes the keys that open customer
 * data (keyring_seal) and every customer request is refused until an operator
 * unseals the vault with the passphrase or key file. The audit log keeps
 * recording throughout (its keys are not the master key's).
 */
#include <stdio.h>
#include <string.h>

#include "door_int.h"

bool door_sealed(vault *v)
{
    return keyring_sealed(v->kr);
}

err door_vault_seal(vault *v, const actor *a, const char *reason)
{
    if (a->role != ROLE__COUNT) { /* the guard seals as the system */
        TRY(door_need(v, a, CAP_GUARD_MANAGE, "vault.seal"));
    }
    audit_entry e;
    door_entry(&e, a, "vault.seal", "allow", a->role == ROLE__COUNT ? "guard" : "guard.manage");
    e.reason = reason;
    TRY(audit_append(v->au, &e, NULL));
    keyring_seal(v->kr);
    door_alert(v, "critical", "vault-sealed", a, reason ? reason : "");
    return ERR_OK;
}

err door_vault_unseal(vault *v, const actor *a, const vault_key *key)
{
    TRY(door_need(v, a, CAP_GUARD_MANAGE, "vault.unseal"));
    ENSURE(keyring_sealed(v->kr), ERR_CONFLICT, "the vault is not sealed");
    kek_source src = door_kek(key);
    err e = keyring_unseal(v->kr, &src);
    if (e != ERR_OK) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s", err_message());
        audit_entry en;
        door_entry(&en, a, "vault.unseal", "deny", "bad-key");
        TRY(audit_append(v->au, &en, NULL));
        BAIL(e == ERR_AUTH ? ERR_AUTH : e, "%s", msg);
    }
    audit_entry en;
    door_entry(&en, a, "vault.unseal", "allow", "guard.manage");
    return audit_append(v->au, &en, NULL);
}
