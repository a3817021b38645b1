/*  feeder.h — moves stored leads on: to-queue → scrub's outbox, audit queue → audit.
 *
 *  HTTP threads and the bus door only write Redis (the lead, its dedupe keys and its to-queue
 *  entry in one script; duplicate and rejected audit events in a list). The feeder, on the main
 *  thread that owns the bus clients, hands them to the bus:
 *
 *    - for every lead id in this replica's to-queues: a LeadSubmitted to scrub and a
 *      lead.accepted AuditEvent, with envelope ids derived from the lead id
 *      ("<lead id>.submitted", "<lead id>.accepted"), then the to-queue entry is removed. A crash
 *      before the removal sends them again under the same ids: the receivers' inboxes skip them.
 *      Without a scrub peer configured, the LeadSubmitted goes into the outbox all the same and
 *      waits there for a scrub service to exist;
 *    - the queued audit events, in order, then trimmed from the list.
 *
 *  Memory stays bounded: the feeder moves nothing while a bus client has more than its high
 *  water of unacknowledged messages; the rest waits in Redis.
 */
#ifndef PL_INTAKE_FEEDER_H
#define PL_INTAKE_FEEDER_H

#include <stddef.h>

#include "plateau/bus.h"
#include "plateau/metrics.h"
#include "plateau/redis.h"

typedef struct intake_feeder intake_feeder_t;

/* Borrows everything; scrub and audit may be NULL (peer not configured). */
intake_feeder_t *intake_feeder_new (pl_redis_t *redis, const pl_clock_t *clock, const char *replica,
                                    const char *service, pl_bus_client_t *scrub,
                                    pl_bus_client_t *audit, pl_metrics_t *metrics);
void intake_feeder_destroy (intake_feeder_t **self_p);

/* Unacknowledged messages per bus client above which nothing more is moved (default 20000). */
void intake_feeder_set_high_water (intake_feeder_t *self, size_t n);

/* One pass: moves what there is room for. Returns the number of leads moved, or PL_EREDIS. */
int intake_feeder_tick (intake_feeder_t *self);

/* Leads waiting in this replica's to-queues and in its scrub outbox (last pass). */
long long intake_feeder_to_queue (const intake_feeder_t *self);
long long intake_feeder_outbox (const intake_feeder_t *self);

#endif
