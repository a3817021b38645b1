/*  optout.h — the internal do-not-call list (opt-outs) in Redis, the one truth every replica reads.
 *
 *  An opt-out is kept per number and scope in the hash pl:{num:<e164>}:optout, one field per
 *  scope: "<tenant>" (every call for that professional), "<tenant>|<debt ref>" (collection calls
 *  about one debt) or "*" (every tenant). Its value is a JSON record of who asked, when, through
 *  what. Adding one is an atomic step with its optout.added audit event; an opt-out already in
 *  force is kept as it was (the first request is the evidence) and nothing is emitted. A US
 *  number's hash lives at least five years after its latest entry (47 CFR 64.1200(d)(6)).
 *
 *  There is no cache: every decision reads the hash (one pipelined HGETALL per number of a
 *  batch), so an opt-out is in force on every replica as soon as its step has run.
 */
#ifndef SCRUB_OPTOUT_H
#define SCRUB_OPTOUT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plateau/clock.h"
#include "plateau/inbox.h"
#include "plateau/outbox.h"
#include "plateau/redis.h"

#define SCRUB_US_RETENTION_MS (5LL * 366 * 86400 * 1000)

typedef struct {
    const char *number;          /* E.164 */
    const char *tenant;          /* "*": every tenant */
    const char *debt_ref;        /* "" for every debt */
    const char *channel;         /* "call", "web", "letter", "crm", "api", "operator" */
    const char *actor;           /* the authenticated identity that recorded it */
    int64_t requested_at_ms;     /* when the person asked (0: now) */
    const char *message_id;      /* the bus message it applies (its seen marker), or NULL */
} scrub_optout_t;

/* Records o in one step (with its optout.added event when audit is not NULL). 1 added, 0 it
 * was in force already, or a negative PL_E* code (errstr in *err when given). */
int scrub_optout_add (pl_inbox_t *inbox, const pl_outbox_t *audit, const char *service,
                      const pl_clock_t *clock, const scrub_optout_t *o, const char *trace_id,
                      char *err, size_t err_size);
/* Removes the opt-out of number and scope (with an optout.removed event). 0, PL_ENOTFOUND. */
int scrub_optout_remove (pl_inbox_t *inbox, const pl_outbox_t *audit, const char *service,
                         const pl_clock_t *clock, const scrub_optout_t *o, const char *trace_id,
                         char *err, size_t err_size);

/* The opt-outs of n numbers, read in one pipeline. */
typedef struct scrub_optouts scrub_optouts_t;
int scrub_optouts_fetch (pl_redis_t *redis, const char *const *numbers, size_t n, scrub_optouts_t **out);
void scrub_optouts_destroy (scrub_optouts_t **self_p);
/* Whether number i is opted out for tenant (and debt_ref, "" when none): an entry for "*", for
 * the tenant, or for the tenant and that debt. */
bool scrub_optouts_hit (const scrub_optouts_t *self, size_t i, const char *tenant, const char *debt_ref);

void scrub_optout_key (char *out, size_t size, const char *number);

#endif
