/*
 * metrics.c - the guard's counters in the Prometheus text exposition format
 * (version 0.0.4). Rule names are restricted by the parser to letters, digits
 * and "._-", so they need no escaping as label values.
 */
#include <stdio.h>
#include <string.h>

#include "guard/guard_int.h"

static err family(buf *out, const char *name, const char *type, const char *help)
{
    return buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

err guard_metrics(guard *g, buf *out)
{
    static const char *const kinds[GUARD_EV__COUNT] = {
        "login_ok", "login_fail", "request",        "denied",     "customer_read",
        "notice",   "bad_token",  "customer_write", "search_miss"};
    static const char *const actions[6] = {"block", "throttle", "lock", "revoke", "reauth", "seal"};
    const guard_rules *r = g->r;
    int64_t now = guard_now(g);
    TRY(family(out, "custos_guard_up", "gauge", "1 while the guard runs."));
    TRY(buf_appendf(out, "custos_guard_up 1\n"));
    TRY(family(out, "custos_guard_healthy", "gauge",
               "1 when the guard thread runs, its store works and no event was dropped in the "
               "last minute."));
    TRY(buf_appendf(out, "custos_guard_healthy %d\n", guard_healthy(g) ? 1 : 0));
    TRY(family(out, "custos_guard_admissions_total", "counter",
               "Admission decisions by scope (address, account) and verdict."));
    for (int v = 0; v < 3; v++) {
        TRY(buf_appendf(out,
                        "custos_guard_admissions_total{scope=\"address\",verdict=\"%s\"} %llu\n",
                        guard_verdict_name((guard_verdict)v),
                        (unsigned long long)gtable_verdicts(&g->addr, (guard_verdict)v)));
        TRY(buf_appendf(out,
                        "custos_guard_admissions_total{scope=\"account\",verdict=\"%s\"} %llu\n",
                        guard_verdict_name((guard_verdict)v),
                        (unsigned long long)gtable_verdicts(&g->acct, (guard_verdict)v)));
    }
    TRY(family(out, "custos_guard_blocks_active", "gauge", "Addresses blocked now."));
    TRY(buf_appendf(out, "custos_guard_blocks_active %lld\n",
                    (long long)gtable_count(&g->addr, SANC_BLOCK, now)));
    TRY(family(out, "custos_guard_throttles_active", "gauge",
               "Addresses and accounts throttled now."));
    TRY(buf_appendf(out, "custos_guard_throttles_active{scope=\"address\"} %lld\n",
                    (long long)gtable_count(&g->addr, SANC_THROTTLE, now)));
    TRY(buf_appendf(out, "custos_guard_throttles_active{scope=\"account\"} %lld\n",
                    (long long)gtable_count(&g->acct, SANC_THROTTLE, now)));
    TRY(family(out, "custos_guard_connections_untracked_total", "counter",
               "Connections admitted without counting (every slot of the probe window busy)."));
    TRY(buf_appendf(out, "custos_guard_connections_untracked_total %llu\n",
                    (unsigned long long)atomic_load(&g->conn_untracked)));
    TRY(family(out, "custos_guard_events_total", "counter", "Events processed, by kind."));
    for (int k = 0; k < GUARD_EV__COUNT; k++) {
        TRY(buf_appendf(out, "custos_guard_events_total{kind=\"%s\"} %llu\n", kinds[k],
                        (unsigned long long)atomic_load(&g->events[k])));
    }
    TRY(family(out, "custos_guard_events_processed_total", "counter",
               "Events the detectors have processed."));
    TRY(buf_appendf(out, "custos_guard_events_processed_total %llu\n",
                    (unsigned long long)atomic_load(&g->processed)));
    TRY(family(out, "custos_guard_events_dropped_total", "counter",
               "Events dropped because the queue was full."));
    TRY(buf_appendf(out, "custos_guard_events_dropped_total %llu\n",
                    (unsigned long long)atomic_load(&g->dropped)));
    TRY(family(out, "custos_guard_queue_depth", "gauge", "Events waiting for the detectors."));
    TRY(buf_appendf(out, "custos_guard_queue_depth %zu\n", gqueue_depth(&g->q)));
    TRY(family(out, "custos_guard_queue_capacity", "gauge", "Size of the event queue."));
    TRY(buf_appendf(out, "custos_guard_queue_capacity %zu\n", g->q.mask + 1));
    TRY(family(out, "custos_guard_rule_firings_total", "counter",
               "Detections per rule (aggregated into open alerts or not)."));
    for (int i = 0; i < r->nrules; i++) {
        TRY(buf_appendf(out, "custos_guard_rule_firings_total{rule=\"%s\"} %llu\n",
                        r->rules[i].name, (unsigned long long)atomic_load(&g->firings[i])));
    }
    TRY(family(out, "custos_guard_alerts_total", "counter", "New alerts per rule and severity."));
    for (int i = 0; i < r->nrules; i++) {
        TRY(buf_appendf(out, "custos_guard_alerts_total{rule=\"%s\",severity=\"%s\"} %llu\n",
                        r->rules[i].name, gsev_name(r->rules[i].sev),
                        (unsigned long long)atomic_load(&g->alerts_new[i])));
    }
    TRY(family(out, "custos_guard_responses_total", "counter",
               "Responses carried out, by action."));
    for (int i = 0; i < 6; i++) {
        TRY(buf_appendf(out, "custos_guard_responses_total{action=\"%s\"} %llu\n", actions[i],
                        (unsigned long long)atomic_load(&g->responses[i])));
    }
    TRY(family(out, "custos_guard_hook_failures_total", "counter",
               "Hooks (lock, revoke, reauth, seal) that returned an error."));
    TRY(buf_appendf(out, "custos_guard_hook_failures_total %llu\n",
                    (unsigned long long)atomic_load(&g->hook_failures)));
    gdeliver_stats ds;
    gdeliver_get_stats(g->dl, &ds);
    TRY(family(out, "custos_guard_deliveries_total", "counter", "Alerts delivered, by sink."));
    for (int k = 0; k < 4; k++) {
        TRY(buf_appendf(out, "custos_guard_deliveries_total{sink=\"%s\"} %llu\n",
                        gsink_kind_name((gsink_kind)k), (unsigned long long)ds.sent[k]));
    }
    TRY(family(out, "custos_guard_delivery_failures_total", "counter",
               "Alert deliveries given up after every attempt, by sink."));
    for (int k = 0; k < 4; k++) {
        TRY(buf_appendf(out, "custos_guard_delivery_failures_total{sink=\"%s\"} %llu\n",
                        gsink_kind_name((gsink_kind)k), (unsigned long long)ds.failed[k]));
    }
    TRY(family(out, "custos_guard_delivery_pending", "gauge", "Deliveries waiting or retrying."));
    TRY(buf_appendf(out, "custos_guard_delivery_pending %llu\n", (unsigned long long)ds.pending));
    TRY(family(out, "custos_guard_delivery_dropped_total", "counter",
               "Deliveries dropped because the delivery queue was full."));
    TRY(buf_appendf(out, "custos_guard_delivery_dropped_total %llu\n",
                    (unsigned long long)ds.dropped));
    TRY(family(out, "custos_guard_nftables_total", "counter",
               "nftables updates by result (ok, failed)."));
    TRY(buf_appendf(out, "custos_guard_nftables_total{result=\"ok\"} %llu\n",
                    (unsigned long long)ds.nft_ok));
    TRY(buf_appendf(out, "custos_guard_nftables_total{result=\"failed\"} %llu\n",
                    (unsigned long long)ds.nft_failed));
    return ERR_OK;
}
