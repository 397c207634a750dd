/*
 * store_fake.h - a sealed customer row made up for the store tests: stand-in bytes where the
 * sealed fields and the wrapped key go (the store never opens them), a phone blind index.
 */
#ifndef CUSTOS_STORE_FAKE_H
#define CUSTOS_STORE_FAKE_H

#include <stdio.h>

#include "store/store.h"

static inline void fake_customer(sealed_customer *c, const char *dept, uint64_t phone_bi)
{
    sealed_customer_init(c);
    id_new(c->id, "cus");
    snprintf(c->department, sizeof c->department, "%s", dept);
    c->created_us = c->updated_us = 1000;
    c->dek_version = 1;
    c->kek_version = 1;
    /* An envelope's header names the KEK version (the store checks it against kek_version). */
    IGNORE(buf_set(&c->wrapped_dek, "\x01\x01\x00\x00\x00\x01wrapped-key", 17));
    IGNORE(buf_set(&c->field[CF_NAME], "sealed-name", 11));
    IGNORE(buf_set(&c->field[CF_PHONE], "sealed-phone", 12));
    c->has_blind[BI_PHONE] = true;
    c->blind[BI_PHONE] = phone_bi;
}

#endif
