/*
 * witness.h - getting checkpoints (and, for a SIEM, entries) out of the
 * server's reach: a file appended to, RFC 5424 syslog over UDP, a webhook
 * (JSON over HTTPS with libcurl, retried). A copy held elsewhere is what lets
 * an auditor prove that the log was never rewritten, even by someone with full
 * control of this machine. Publishing runs on its own thread: a slow receiver
 * never slows a request.
 */
#ifndef CUSTOS_WITNESS_H
#define CUSTOS_WITNESS_H

#include <limits.h>
#include <stdint.h>

#include "audit/audit.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/net.h"

#define VAULT_PROXIES_MAX 64

typedef struct vault_config {
    uint64_t checkpoint_every; /* entries between checkpoints (0: default 1000) */
    int64_t checkpoint_us;     /* or time with new entries (0: default 10 s) */
    char witness_file[PATH_MAX];
    char witness_syslog[128]; /* "127.0.0.1:514" */
    char witness_webhook[1024];
    char webhook_cacert[PATH_MAX];
    char siem_syslog[128]; /* every entry as RFC 5424, with its index and leaf hash */
    /* "access" section */
    int totp;                /* VAULT_TOTP_*: who must use a second factor */
    int64_t session_us;      /* absolute session lifetime (0: default 8 h) */
    int64_t session_idle_us; /* idle limit (0: default 30 min) */
    int lockout_after;       /* failed logins before a lockout (0: default 5) */
    int64_t lockout_us;      /* first lockout; each next one doubles, up to 24 h (0: 1 min) */
    /* "server" section */
    net_range trusted_proxies[VAULT_PROXIES_MAX]; /* whose forwarding header is believed */
    size_t ntrusted_proxies;
    int forwarded_header;   /* fwd_header: which header they write */
    bool metrics_token_set; /* /metrics on the public listener with this bearer token */
    uint8_t metrics_token_sha256[32];
    uint64_t min_free_bytes; /* readiness: less free space is not ready (0: 64 MiB) */
    /* "erasures" section: the erasure journal, kept apart from the vault and its backups
     * (absolute path; empty: VAULT/erasures.journal) */
    char erasure_journal[PATH_MAX];
    /* "retention" section: rows older than this leave the growing tables (0: default) */
    int64_t keep_violations_us; /* violation register (default 365 days) */
    int64_t keep_alerts_us;     /* closed alerts (default 365 days) */
    int64_t keep_addresses;     /* known addresses per account, newest first (default 256) */
    int64_t keep_sessions_us;   /* ended and expired sessions (default 30 days) */
    bool breakglass_self;       /* break-glass opens without a steward's approval (emergency) */
    int64_t breakglass_self_us; /* ... for at most this long (0: default 30 min) */
} vault_config;

#define VAULT_TOTP_CUSTOMER_ROLES 0 /* every role that can read customer data (default) */
#define VAULT_TOTP_ALL 1
#define VAULT_TOTP_OFF 2 /* demo vaults only: the server says so at start */

/* Reads DIR/custos.json when present (docs/OPERATIONS.md); absent means defaults. A malformed
 * file is an error naming the key: the vault does not start on a half-understood config. */
MUST_USE err vault_config_load(const char *dir, vault_config *c);
MUST_USE err vault_config_parse(slice json, vault_config *c);

typedef struct witness witness;
/* NULL (nothing to do) when no sink is configured. */
MUST_USE err witness_start(const vault_config *c, audit *a, witness **out);
/* Queues the latest note (older unsent notes are superseded: each covers the previous). */
void witness_publish(witness *w, slice note);
/* Stops reading the log (before the log is closed); checkpoints still go out. */
void witness_detach(witness *w);
/* Sends what is queued, then stops. */
void witness_stop(witness *w);

/* One RFC 5424 line for an entry (exposed for tests and the export endpoint). */
MUST_USE err witness_syslog_line(uint64_t index, slice entry, const uint8_t leaf[32], buf *out);

#endif
