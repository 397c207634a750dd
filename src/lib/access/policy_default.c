/*
 * policy_default.c - the default policy compiled into the binary: the text of
 * etc/policy.conf, byte for byte (tests/unit/policy_test.c compares the two).
 * After changing etc/policy.conf, regenerate the string below, e.g. with
 *   sed 's/\\/\\\\/g; s/"/\\"/g; s/^/    "/; s/$/\\n"/' etc/policy.conf
 */
#include "access/policy.h"

static const char DEFAULT_POLICY[] =
    "# Custos access policy: the shipped default (DESIGN §3).\n"
    "#\n"
    "# Deny by default: a role may do only what a line below grants it. The format\n"
    "# is described in docs/FORMATS-policy.md. Check a changed copy with\n"
    "# `custos policy check FILE` and compare it with `custos policy diff OLD NEW`.\n"
    "# The server uses VAULT/policy.conf when there is one (this text otherwise)\n"
    "# and reloads it on SIGHUP or POST /v1/policy/reload; each change is audited.\n"
    "version 1\n"
    "\n"
    "# Sales record and look up purchases, for their own department's customers\n"
    "# only; of the identity fields they see the name alone.\n"
    "grant sales read on identity.name, preferences\n"
    "grant sales read, create on transactions\n"
    "require own-department, training for sales\n"
    "\n"
    "# Customer service look up basic details and conversation history of any\n"
    "# department's customers and log conversations. The national ID number is\n"
    "# shown masked. Corrections to identity and contact details become change\n"
    "# requests that a data steward approves.\n"
    "grant customer_service read, request on identity, contact\n"
    "grant customer_service read on identity.id_number masked\n"
    "grant customer_service read on preferences\n"
    "grant customer_service read, create on communications\n"
    "require training for customer_service\n"
    "\n"
    "# Department data stewards manage their own department's customers: every\n"
    "# category, the whole-customer operations, and the approval of change\n"
    "# requests and exports.\n"
    "grant data_steward read, write on identity, contact, preferences, internal\n"
    "grant data_steward read, write, create on transactions, communications\n"
    "grant data_steward create, erase, import, export on customers\n"
    "grant data_steward requests.approve, exports.approve\n"
    "require own-department, training for data_steward\n"
    "\n"
    "# The other roles see no customer contents (separation of duties); they hold\n"
    "# the capabilities of their duties.\n"
    "grant security policy.manage, guard.manage, keys.manage, honeytokens.manage\n"
    "grant security break_glass.open, break_glass.review, audit.read, violations.read\n"
    "grant legal audit.read\n"
    "grant hr training.manage, violations.read\n"
    "grant auditor audit.read, break_glass.review\n"
    "grant admin accounts.manage, apikeys.manage\n";

const char *policy_default_text(void)
{
    return DEFAULT_POLICY;
}
