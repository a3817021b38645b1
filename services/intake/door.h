/*  door.h — the intake's bus door: native Lead submissions from other services.
 *
 *  A service that submits natively sends a `Lead` envelope (body `lead`, numbers as the CRM
 *  wrote them in phone.raw, or already E.164 in phone.e164). The door validates it with the
 *  HTTP API's rules (intake_lead_from_pb runs the checks intake_lead_from_json does, on the
 *  message itself), stores it with the same step, with the envelope id as the kit's seen marker
 *  so that a redelivery changes nothing and finds the first answer, and then acks. An invalid
 *  lead is nacked INVALID with its first error as the reason, and audited lead.rejected; a
 *  duplicate is acked and audited lead.duplicate; Redis down nacks UNAVAILABLE.
 */
#ifndef PL_INTAKE_DOOR_H
#define PL_INTAKE_DOOR_H

#include <stdbool.h>
#include <stdint.h>

#include "campaigns.h"
#include "plateau/bus.h"
#include "plateau/log.h"
#include "plateau/metrics.h"
#include "plateau/redis.h"

typedef struct intake_door intake_door_t;

/* Borrows everything; audit: whether an audit service is configured (events are recorded);
 * campaigns: the tenant and call kind of each campaign, for those events (may be NULL). */
intake_door_t *intake_door_new (pl_redis_t *redis, const pl_clock_t *clock, const char *replica,
                                const char *service, int64_t dedupe_window_ms, bool audit,
                                const intake_campaigns_t *campaigns, pl_metrics_t *metrics,
                                pl_log_t *log);
void intake_door_destroy (intake_door_t **self_p);

/* The pl_bus_batch_fn for "Lead" messages. */
void intake_door_handle (void *arg, pl_bus_msg_t **msgs, size_t n);

#endif
