/*
 * door_console.h - what the web console needs of the door beyond the routes every client
 * uses: the QR code of a second factor being enrolled, and the session's own limits. Both
 * are about the caller's own account; neither reads customer data.
 */
#ifndef CUSTOS_DOOR_CONSOLE_H
#define CUSTOS_DOOR_CONSOLE_H

#include "door/door.h"

/* The otpauth URI of the second factor the caller is enrolling (after
 * POST /v1/me/totp/enrol, before /v1/me/totp/confirm), into uri (a buf the caller wipes and
 * frees). ERR_CONFLICT when no enrolment is under way (nothing started, or enrolled already):
 * a second factor in use is never shown again. Audited as account.totp_qr. */
MUST_USE err door_totp_pending_uri(vault *v, const actor *a, buf *uri);

/* The caller's session: {"idle_seconds","session_hours","second_factor_pending"}. An API key
 * has no session (ERR_INPUT). */
MUST_USE err door_session_info(vault *v, const actor *a, json_t **out);

/* The before/after of a pending change request, each side shaped by the caller's read rights
 * (masked where the policy masks, absent where it hides): {"request","customer","status",
 * "fields":[{"field","before"?,"after"?}]}. For the requester and for those who may decide it
 * (a data steward of its department); anyone else gets ERR_NOT_FOUND like a request that does
 * not exist. Audited as customer.read with rule request-diff:<id>. */
MUST_USE err door_request_diff(vault *v, const actor *a, const char *id, json_t **out);

#endif
