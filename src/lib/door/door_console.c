/*
 * door_console.c - the door's part of the web console's own routes (door_console.h): the
 * QR code's text of a second factor being enrolled, and the limits of the caller's session.
 */
#include "door/door_console.h"

#include <stdio.h>
#include <string.h>

#include "access/totp.h"
#include "core/mem.h"
#include "door_int.h"

#define CONSOLE_TOTP_ISSUER "Custos" /* as door_accounts.c names it in the URI */

err door_totp_pending_uri(vault *v, const actor *a, buf *uri)
{
    ENSURE(!a->via_key, ERR_INPUT, "an API key has no second factor");
    account acc;
    TRY(store_account_by_id(v->st, a->account_id, &acc));
    mem_wipe(acc.pwhash, sizeof acc.pwhash);
    err rc = ERR_OK;
    uint8_t *sec = NULL;
    if (!acc.totp[0] || acc.totp_enabled) {
        /* Nothing being enrolled, or enrolled already: the secret in use is never shown. */
        GUARD(door_deny(v, a, "account.totp_qr", NULL, NULL, "no-enrolment", ERR_CONFLICT,
                        "no second factor is being enrolled (POST /v1/me/totp/enrol first)"));
    }
    sec = secret_alloc(KEY_LEN);
    CHECK(sec != NULL, ERR_INTERNAL, "cannot lock memory for a key");
    GUARD(door_totp_secret(v, &acc, sec));
    audit_entry e;
    door_entry(&e, a, "account.totp_qr", "allow", "self");
    e.reason = acc.username;
    GUARD(audit_append(v->au, &e, NULL));
    GUARD(totp_uri(sec, CONSOLE_TOTP_ISSUER, acc.username, uri));
out:
    secret_free(sec);
    mem_wipe(acc.totp, sizeof acc.totp);
    return rc;
}

err door_session_info(vault *v, const actor *a, json_t **out)
{
    ENSURE(!a->via_key, ERR_INPUT, "an API key has no session");
    *out = json_pack("{s:I,s:I,s:b}", "idle_seconds", (json_int_t)(v->session_idle_us / 1000000),
                     "session_hours", (json_int_t)(v->session_ttl_us / 3600000000LL),
                     "second_factor_pending", (a->session_flags & SESSION_MFA_PENDING) != 0);
    ENSURE(*out != NULL, ERR_INTERNAL, "out of memory");
    return ERR_OK;
}
