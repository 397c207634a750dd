/*
 * door_health.c - is the vault ready to serve? Every customer request needs its
 * audit entry made durable first, so the vault is ready only while the audit
 * log can take the write lock and the disk has room for the write-ahead logs;
 * otherwise every request would be refused (fail closed) while a load
 * balancer kept sending traffic. Liveness (the process answers) is the
 * server's own business.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "audit/probe.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "door_int.h"

/* About what the two WALs grow to between checkpoints, plus a margin. */
#define READY_MIN_FREE_DEFAULT ((uint64_t)64 << 20)

uint64_t door_ready_min_free(const vault *v)
{
    return v->cfg.min_free_bytes ? v->cfg.min_free_bytes : READY_MIN_FREE_DEFAULT;
}

void door_readiness(vault *v, door_ready *out)
{
    memset(out, 0, sizeof *out);
    out->min_free = door_ready_min_free(v);
    struct statvfs st;
    out->disk_ok = true;
    if (statvfs(v->dir, &st) == 0) {
        out->free_bytes = (uint64_t)st.f_bavail * (uint64_t)st.f_frsize;
        out->disk_ok = out->free_bytes >= out->min_free;
    }
    char p[PATH_MAX];
    vault_path(v, VAULT_AUDIT, p, sizeof p);
    out->audit_ok = audit_probe_writable(p, 1000) == ERR_OK;
    out->ready = out->disk_ok && out->audit_ok;
}

void door_readiness_alert(vault *v, const door_ready *r)
{
    actor sys;
    actor_system(&sys, "readiness");
    char d[200];
    snprintf(d, sizeof d, "not ready:%s%s (free %llu MiB, needs %llu MiB)",
             r->audit_ok ? "" : " the audit log cannot be written",
             r->disk_ok ? "" : " free space below what the write-ahead logs need",
             (unsigned long long)(r->free_bytes >> 20), (unsigned long long)(r->min_free >> 20));
    door_alert(v, "high", "not-ready", &sys, d);
}

void door_stats_get(vault *v, bool with_customers, door_stats *out)
{
    memset(out, 0, sizeof *out);
    IGNORE(audit_size(v->au, &out->audit_entries));
    if (with_customers) {
        IGNORE(store_customer_count(v->st, &out->customers));
    }
}

bool door_metrics_token_set(const vault *v)
{
    return v->cfg.metrics_token_set;
}

bool door_metrics_token_ok(const vault *v, const char *token)
{
    if (!v->cfg.metrics_token_set || !token) {
        return false;
    }
    uint8_t got[32];
    hash_sha256((const uint8_t *)token, strlen(token), got);
    bool ok = mem_eq_ct(got, v->cfg.metrics_token_sha256, 32);
    mem_wipe(got, sizeof got);
    return ok;
}

err door_keyring_reload(vault *v)
{
    return keyring_reload(v->kr);
}
