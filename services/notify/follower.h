/*  follower.h — reads the audit's records by arrival, chain by chain, and turns them into
 *  deliveries.
 *
 *  notify is one more reader of the audit service (services/audit/README.md, ADR 0027): with a
 *  token of a source that is not an auditor, it gets records with numbers pseudonymised and
 *  personal text sealed, and its reads are not recorded as audit.export events. For each chain
 *  (listed by PLATEAU_NOTIFY_AUDIT_CHAINS, else discovered with GET /v1/audit/verify) it asks
 *  GET /v1/audit/export?chain=C&from_seq=N&limit=L from the cursor kept in Redis, and applies
 *  the page and the new cursor in one step (store.h): a crash repeats a page whole or not at
 *  all, and the page's deliveries are enqueued exactly once.
 */
#ifndef NOTIFY_FOLLOWER_H
#define NOTIFY_FOLLOWER_H
#include <stdbool.h>
#include <stdint.h>
#include "store.h"
#include "plateau/clock.h"
#include "plateau/log.h"
#include "plateau/metrics.h"

typedef struct notify_follower notify_follower_t;

typedef struct {
    const char *audit_url;          /* "http://audit:8080", or one URL per audit replica,
                                     * comma-separated (each replica serves its own chains) */
    const char *token;              /* bearer token (copied) */
    const char *chains;             /* "audit-0,audit-1", or NULL: discover */
    int64_t discover_ms;            /* how often chains are listed again when discovered */
    int page;                       /* records per export page (1-1000) */
    int timeout_ms;                 /* per HTTP exchange with the audit */
    int64_t lead_ttl_s;             /* how long a lead's identity is kept */
    int64_t wait_ms;                /* how long an event may wait for its lead.accepted */
    notify_store_t *store;          /* borrowed */
    const pl_clock_t *clock;        /* borrowed */
    pl_log_t *log;                  /* borrowed, may be NULL */
    pl_metrics_t *metrics;          /* borrowed, may be NULL */
} notify_follower_opts_t;

/* True when list names 1 to 16 audit replicas, each http://host[:port] (what _new accepts). */
bool notify_follower_urls_ok (const char *list);

/* NULL on bad options (an audit URL that is not http://host[:port]) or no memory. */
notify_follower_t *notify_follower_new (const notify_follower_opts_t *opts);
void notify_follower_destroy (notify_follower_t **self_p);

/* One pass: every chain once, at most one page each. Returns the number of records read
 * (> 0: call again soon, there may be more), 0 when caught up, or a negative PL_E* code when
 * the audit or Redis failed (logged, and notify_follower_ok false). */
int notify_follower_poll (notify_follower_t *self);

/* True when the last pass reached the audit and Redis (read from the ops thread). */
bool notify_follower_ok (const notify_follower_t *self);

#endif
