/*  door.h — scrub's bus door: LeadSubmitted from the intake, ScrubRequest from the dialer.
 *
 *  A LeadSubmitted is judged number by number (verdict.h); its consents are recorded first (one
 *  step each, ids "<lead id>.c<i>", so a redelivery records nothing twice), then one atomic step
 *  under the lead's campaign tag, with the message's id as its seen marker, writes the verdict
 *  onto the intake's lead (fields verdict = cleared | suppressed, scrub = the verdicts as JSON,
 *  scrubbed_at), emits LeadCleared (the numbers that passed) or LeadSuppressed to the dialer, and
 *  one scrub.verdict audit event per number. A ScrubRequest is answered with one ScrubVerdict
 *  per number to the dialer (reply_to = the request's id) and audited the same way; opt-outs and
 *  consents are read from Redis at that instant.
 */
#ifndef SCRUB_DOOR_H
#define SCRUB_DOOR_H
#include <stdbool.h>
#include "catalog.h"
#include "campaigns.h"
#include "plateau/bus.h"
#include "plateau/clock.h"
#include "plateau/log.h"
#include "plateau/metrics.h"
#include "plateau/redis.h"

typedef struct scrub_door scrub_door_t;

#define SCRUB_REQUEST_MAX_NUMBERS 1000

/* Borrows everything. audit: whether audit events are emitted. */
scrub_door_t *scrub_door_new (pl_redis_t *redis, const pl_clock_t *clock, const char *service,
                              const char *replica, const scrub_campaigns_t *campaigns,
                              scrub_catalog_t *catalog, bool audit, pl_metrics_t *metrics, pl_log_t *log);
void scrub_door_destroy (scrub_door_t **self_p);

/* The bus batch handler (pl_bus_batch_fn). */
void scrub_door_handle (void *arg, pl_bus_msg_t **msgs, size_t n);

#endif
