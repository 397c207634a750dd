/*
 * store_incident.c - the incident row's helpers (store_incident.h), backend-neutral.
 */
#include "store/store_incident.h"

#include <string.h>

#define INCIDENT_BODY_MAX ((size_t)16 << 20)

void incident_row_init(incident_row *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->playbook_text, (size_t)64 << 10);
    buf_init(&r->wrapped_dek, 4096);
    buf_init(&r->body, INCIDENT_BODY_MAX);
    buf_init(&r->scope, INCIDENT_BODY_MAX);
}

void incident_row_free(incident_row *r)
{
    buf_free(&r->playbook_text);
    buf_free(&r->wrapped_dek);
    buf_free(&r->body);
    buf_free(&r->scope);
}
