/*  door.h — scrub's bus door: LeadSubmitted from the intake; ScrubRequest, DialCheck and
 *  OptOutRequest from the dialer.
 *
 *  A LeadSubmitted is judged number by number (verdict.h); its consents are recorded first (one
 *  step each, ids "<lead id>.c<i>", so a redelivery records nothing twice), then one atomic step
 *  under the lead's campaign tag, with the message's id as its seen marker, writes the verdict
 *  onto the intake's lead (fields verdict = cleared | suppressed, scrub = the verdicts as JSON,
 *  scrubbed_at), emits LeadCleared (the numbers that passed) or LeadSuppressed to the dialer, and
 *  one scrub.verdict audit event per number. A ScrubRequest is answered with one ScrubVerdict
 *  per number to the dialer (reply_to = the request's id) and audited the same way; opt-outs and
 *  consents are read from Redis at that instant. DialCheck and OptOutRequest are dial.h's: the
 *  opt-outs of a batch are applied first, then its checks are judged together (one pipeline).
 */
#ifndef SCRUB_DOOR_H
#define SCRUB_DOOR_H
#include <stdbool.h>
#include "catalog.h"
#include "campaigns.h"
#include "consent.h"
#include "plateau/bus.h"
#include "plateau/clock.h"
#include "plateau/log.h"
#include "plateau/metrics.h"
#include "plateau/redis.h"
#include "verdict.h"

typedef struct scrub_door scrub_door_t;

#define SCRUB_REQUEST_MAX_NUMBERS 1000
#define SCRUB_LEAD_MAX_NUMBERS 9        /* a lead's phone and at most 8 alternates (the intake's bound) */
#define SCRUB_LEAD_ID_MAX 64            /* bytes of a lead id (the intake's are 26-character ULIDs) */

/* Borrows everything. audit: whether audit events are emitted. */
scrub_door_t *scrub_door_new (pl_redis_t *redis, const pl_clock_t *clock, const char *service,
                              const char *replica, const scrub_campaigns_t *campaigns,
                              scrub_catalog_t *catalog, bool audit, pl_metrics_t *metrics, pl_log_t *log);
void scrub_door_destroy (scrub_door_t **self_p);

/* The bus batch handler (pl_bus_batch_fn). */
void scrub_door_handle (void *arg, pl_bus_msg_t **msgs, size_t n);

/* What the door reads of a message before judging it, without Redis. */

/* The numbers of a LeadSubmitted's lead as they are judged: its phone, then each alternate that
 * is E.164 (out holds SCRUB_LEAD_MAX_NUMBERS; they point into lead). 0 and *n; PL_EINVAL with
 * the nack's reason when the lead lacks an id (of at most SCRUB_LEAD_ID_MAX bytes), a campaign
 * or an E.164 phone, or has more than SCRUB_LEAD_MAX_NUMBERS - 1 alternates. */
int scrub_door_lead_numbers (const Plateau__V1__Lead *lead, scrub_number_t *out, size_t *n, char *reason,
                             size_t rsize);
/* The lead's i-th consent as it is recorded (id "<lead id>.c<i>"; strings point into lead and
 * tenant); false when it has no E.164 number (neither its own nor the lead's phone). The lead
 * must have passed scrub_door_lead_numbers. */
bool scrub_door_lead_consent (const Plateau__V1__Lead *lead, size_t i, const char *tenant, scrub_consent_t *out);
/* Checks a ScrubRequest: 1 to SCRUB_REQUEST_MAX_NUMBERS numbers, each E.164. 0 with jur (jsize
 * bytes) set to the jurisdiction it names ("uk" read as "GB"; "" for none); PL_EINVAL with the
 * nack's reason. */
int scrub_door_request_check (const Plateau__V1__ScrubRequest *q, char *jur, size_t jsize, char *reason,
                              size_t rsize);

#endif
