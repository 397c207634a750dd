/*
 * door_int.h - helpers shared by the door's files (door*.c); not for callers.
 */
#ifndef CUSTOS_DOOR_INT_H
#define CUSTOS_DOOR_INT_H

#include "door.h"

/* Blind-index widths: see docs/FORMATS.md (what they leak, why these numbers). */
extern const unsigned DOOR_BLIND_BITS[BI__COUNT];
/* The field of each blind index kind. */
extern const int DOOR_BLIND_FIELD[BI__COUNT];

/* Audits a denial and returns code with message (code is ERR_DENIED or ERR_NOT_FOUND). */
MUST_USE err door_deny(vault *v, const actor *a, const char *action, const char *customer,
                       const char *fields, const char *rule, err code, const char *msg);
/* This thread's locked 32-byte buffer for a data key (wiped by callers after use). */
uint8_t *door_dek_buf(void);
/* Reloads the keyring when another process rewrote it (rotation). Cheap: one stat(). */
MUST_USE err door_keyring_fresh(vault *v);
/* Seals/blind-indexes the fields of rec into c (department goes to the clear column). */
MUST_USE err door_seal_customer(vault *v, const uint8_t dek[KEY_LEN], const record *rec,
                                sealed_customer *c, const bool *only);
/* Fetches a customer row and applies the department scope: ERR_NOT_FOUND (audited as a
 * denial) when it does not exist, is erased, or is outside the caller's department. */
MUST_USE err door_fetch_customer(vault *v, const actor *a, const char *action, const char *id,
                                 sealed_customer *c);
/* JSON of the customer with the fields the actor may read (masked as required). */
MUST_USE err door_render_customer(vault *v, const actor *a, const sealed_customer *c,
                                  const uint8_t dek[KEY_LEN], json_t **out);
/* Comma-separated names of the fields the actor will see of this row (for the audit entry). */
MUST_USE err door_visible_fields(const actor *a, const sealed_customer *c, buf *out);
/* Normalised blind value of a canonical field value. */
MUST_USE err door_blind_of(vault *v, blind_kind k, const char *canon, uint64_t *out);

#endif
