/*  deliver.h — sends due deliveries with libcurl's multi interface and records how each ended.
 *
 *  Each tick claims the heads that are due (one event per (subscription, lead) at a time, so
 *  a lead's events go out in order), at most max_per_endpoint in flight per subscription and
 *  max_in_flight in all, and drives the transfers without blocking the service's loop. A
 *  transfer is a POST of the event's JSON, signed with pl_http_sign() over the URL's path and
 *  query and the body, TLS verified, redirects not followed, bounded by timeout_ms. Its answer
 *  becomes a step (store.h): delivered, retried after a backoff with full jitter (Retry-After
 *  honoured, capped), or a dead letter (a permanent 4xx, or max_attempts reached).
 *
 *  The claim is a lease: a replica killed mid-transfer leaves heads that come due again when
 *  the lease ends (or at once when the same replica restarts), so every event is delivered at
 *  least once; receivers de-duplicate by event id.
 */
#ifndef NOTIFY_DELIVER_H
#define NOTIFY_DELIVER_H
#include <stdbool.h>
#include <stdint.h>
#include "store.h"
#include "plateau/clock.h"
#include "plateau/log.h"
#include "plateau/metrics.h"

typedef struct notify_deliver notify_deliver_t;

typedef struct {
    notify_store_t *store;          /* borrowed */
    const pl_clock_t *clock;        /* borrowed: the service's (schedules, leases) */
    pl_log_t *log;                  /* borrowed, may be NULL */
    pl_metrics_t *metrics;          /* borrowed, may be NULL */
    int timeout_ms;                 /* per attempt (10 s) */
    int max_per_endpoint;           /* transfers in flight per subscription (4) */
    int max_in_flight;              /* in all (64) */
    int max_attempts;               /* then a dead letter (10) */
    int64_t backoff_base_ms;        /* first retry's ceiling (1 s) */
    int64_t backoff_cap_ms;         /* longest wait between attempts (1 h) */
    int pause_after;                /* consecutive failures that pause a subscription (20) */
    int64_t probe_ms;               /* a paused subscription's probe interval (5 min) */
    bool allow_insecure;            /* connect to private and loopback addresses (dev, tests) */
} notify_deliver_opts_t;

/* NULL on no memory or when libcurl cannot start. */
notify_deliver_t *notify_deliver_new (const notify_deliver_opts_t *opts);
/* Cuts the transfers in flight (their heads come due again when released) and frees. */
void notify_deliver_destroy (notify_deliver_t **self_p);

/* Drives transfers, records the ended ones, claims new ones unless `draining`. Returns the
 * number of transfers in flight afterwards, or a negative PL_E* code when Redis failed. */
int notify_deliver_tick (notify_deliver_t *self, bool draining);

/* Refreshes the gauges (queue depth, paused subscriptions) from Redis; true when any
 * subscription is paused. */
bool notify_deliver_gauges (notify_deliver_t *self);

#endif
