/*
 * incident_fixture.h - what the incident tests share: the shipped playbook "customer data read
 * by someone who should not have", the people who work on it, and a fixed moment of awareness.
 */
#ifndef CUSTOS_INCIDENT_FIXTURE_H
#define CUSTOS_INCIDENT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "access/policy.h"
#include "incident/incident.h"
#include "test.h"

#define S 1000000LL
#define T0 (1772415000LL * S)

static playbook *pb;
static const inc_actor SEC __attribute__((unused)) = {"security1", ROLE_SECURITY};
static const inc_actor LEGAL __attribute__((unused)) = {"legal1", ROLE_LEGAL};
static const inc_actor AUD __attribute__((unused)) = {"auditor1", ROLE_AUDITOR};
static const inc_actor STEW __attribute__((unused)) = {"steward1", ROLE_DATA_STEWARD};
static const inc_actor SVC __attribute__((unused)) = {"service1", ROLE_CUSTOMER_SERVICE};
static const inc_actor ADMIN __attribute__((unused)) = {"admin", ROLE_ADMIN};

static void load(void)
{
    size_t n = 0;
    char *b = test_slurp("etc/playbooks/customer-data-misread.playbook", &n);
    if (!b || playbook_parse("customer-data-misread.playbook", b, n, &pb) != ERR_OK) {
        printf("cannot read the shipped playbook: %s\n", err_message());
        exit(1);
    }
    free(b);
}

#endif
