/*  counter.h — the template service's logic: count submitted leads per campaign, exactly once.
 *
 *  Kept apart from main.c so that it can be tested without the loop: given a batch of
 *  LeadSubmitted messages, it applies their effect through the inbox (one Redis pipeline) and
 *  prepares one AuditEvent per message for the audit service.
 */
#ifndef PL_TEMPLATE_COUNTER_H
#define PL_TEMPLATE_COUNTER_H
#include <stddef.h>
#include "plateau/bus.h"
#include "plateau/inbox.h"

typedef struct tpl_counter tpl_counter_t;

/* Borrows redis, clock and audit (audit may be NULL: no audit events sent). */
tpl_counter_t *tpl_counter_new (pl_redis_t *redis, const pl_clock_t *clock, pl_bus_client_t *audit,
                                const char *service);
void tpl_counter_destroy (tpl_counter_t **self_p);

/* Bus handler (pl_bus_batch_fn): applies, emits audit events, then acks; nacks UNAVAILABLE
 * when Redis is down. */
void tpl_counter_handle (void *self, pl_bus_msg_t **msgs, size_t n);

/* Key holding the per-campaign count: pl:{campaign:<c>}:template:leads */
#define TPL_COUNTER_KEY_FMT "pl:{campaign:%s}:template:leads"

#endif
