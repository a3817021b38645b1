/*  counter.h — the template service's logic: count submitted leads per campaign, exactly once,
 *  and audit each count in the same atomic step.
 *
 *  Kept apart from main.c so that it can be tested without the loop: given a batch of
 *  LeadSubmitted messages, it applies each one's effect with its seen marker and its AuditEvent
 *  as one step of the kit (plateau/inbox.h; one Redis pipeline for the batch), then acks. The
 *  service's bus client to the audit delivers the events from the outbox.
 */
#ifndef PL_TEMPLATE_COUNTER_H
#define PL_TEMPLATE_COUNTER_H
#include <stdbool.h>
#include <stddef.h>
#include "plateau/bus.h"
#include "plateau/inbox.h"

typedef struct tpl_counter tpl_counter_t;

/* Borrows redis and clock. owner: this replica's id (the outbox owner); audit: whether an
 * audit service is configured (else no events are written). */
tpl_counter_t *tpl_counter_new (pl_redis_t *redis, const pl_clock_t *clock, const char *service,
                                const char *owner, bool audit);
void tpl_counter_destroy (tpl_counter_t **self_p);

/* Bus handler (pl_bus_batch_fn): applies and records, then acks; nacks UNAVAILABLE when Redis is
 * down. Returns nothing: each message is answered. */
void tpl_counter_handle (void *self, pl_bus_msg_t **msgs, size_t n);

/* The count of a campaign after the step (the effect's reply), for tests: the reply of
 * message i of the last batch handled, or -1. */
long long tpl_counter_last_reply (const tpl_counter_t *self, size_t i);

/* Key holding the per-campaign count: pl:{campaign:<c>}:template:leads */
#define TPL_COUNTER_KEY_FMT "pl:{campaign:%s}:template:leads"

#endif
