/*  dial.h — the dialer's two requests at the instant of a call: DialCheck and OptOutRequest.
 *
 *  A DialCheck asks whether one number of a lead may be dialled at at_ms (within a minute of
 *  scrub's clock). Scrub judges it with every fact it has through the one verdict path of the
 *  other doors (verdict.h): the lists in force, the opt-outs and consents read from Redis at
 *  that instant, the lead's zones, regions, address and debt, and the person's contact history
 *  as the dialer's claim read it, with the dial mode (manual or autodialed) and the caller id.
 *  The answer, a DialCheckResult (id "<check id>.result", reply_to the check), and its audit
 *  event dial.allowed / dial.denied / dial.deferred (id "<check id>.check") are emitted in one
 *  step with the check's message id, so a resent check answers nothing twice.
 *
 *  An OptOutRequest puts the number on the internal do-not-call list for its tenant (and debt)
 *  at once, as POST /v1/dnc does, with the message id as the step's seen marker.
 *
 *  The readers below take no Redis and no clock of their own, so the fuzz target reaches them.
 */
#ifndef SCRUB_DIAL_H
#define SCRUB_DIAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "campaigns.h"
#include "optout.h"
#include "plateau/clock.h"
#include "plateau/envelope.h"
#include "plateau/inbox.h"
#include "plateau/outbox.h"
#include "verdict.h"

/* "<check id>.result" must fit an envelope id (PL_ENVELOPE_ID_MAX, 128 bytes), and
 * "<check id>.check" an audit event id (128): a longer check id could never be answered. */
#define SCRUB_DIAL_CHECK_ID_MAX (PL_ENVELOPE_ID_MAX - 7)
#define SCRUB_DIAL_MAX_HISTORY 2000
#define SCRUB_DIAL_MAX_SKEW_MS 60000        /* at_ms this far from scrub's clock, either way */
#define SCRUB_DIAL_NAME_MAX 128             /* tenant, campaign, debt reference, agent id */

/* What a DialCheck is judged with. Strings point into the check; calls is owned. */
typedef struct {
    scrub_number_t number;       /* the lead's phone the check names */
    scrub_context_t ctx;         /* campaign, address, debt, history, dial mode, caller id */
    pl_rules_call_t *calls;      /* the history, ids from scrub_id_of */
    size_t n_calls;
    const char *tenant;          /* whom the call is for: the check's, else the campaign's */
    const char *campaign;
    int64_t at_ms;
    int mode;                    /* plateau.v1.DialMode */
    int kind;                    /* plateau.v1.CallKind */
    /* The history counted at at_ms, this tenant's entries (and those of no tenant). */
    int64_t attempts_24h, attempts_7d, attempts_30d, conversations_7d;
} scrub_dial_facts_t;

/* Reads a DialCheck at now_ms (scrub's clock). 0 with *out filled; PL_EINVAL with the nack's
 * reason: a check id missing or over SCRUB_DIAL_CHECK_ID_MAX bytes, no lead (or one without id
 * or E.164 phone), a lead id that is not the lead's, no campaign, a number that is not one of
 * the lead's, at_ms more than SCRUB_DIAL_MAX_SKEW_MS of wall time from now_ms (speed: how fast
 * scrub's clock runs, pl_clock_speed; a simulation's minute of transit is not a wrong clock), more than
 * SCRUB_DIAL_MAX_HISTORY entries, a name over SCRUB_DIAL_NAME_MAX bytes. PL_ENOMEM. Release
 * with scrub_dial_facts_fini whatever the answer. */
int scrub_dial_check_read (const Plateau__V1__DialCheck *q, int64_t now_ms, int speed, scrub_dial_facts_t *out,
                           char *reason, size_t rsize);
/* Resolves the campaign it is judged under: PL_EINVAL with the reason when the campaign has a
 * file whose tenant is not the check's. Entries of the check's tenant then count as the judged
 * campaign's tenant, and the counts are taken. 0 otherwise. */
int scrub_dial_check_campaign (const scrub_campaigns_t *campaigns, scrub_dial_facts_t *f, char *reason,
                               size_t rsize);
void scrub_dial_facts_fini (scrub_dial_facts_t *f);

/* Emits into tx the DialCheckResult of v (to dialer, reply_to env) and, when audit is not NULL,
 * its dial.* event. 0 or a negative PL_E* code. */
int scrub_dial_answer (pl_inbox_tx_t *tx, const pl_outbox_t *dialer, const pl_outbox_t *audit, const char *service,
                       const pl_clock_t *clock, const pl_envelope_t *env, const scrub_dial_facts_t *f,
                       const scrub_verdict_t *v);

/* Reads an OptOutRequest as the opt-out it records (strings point into q; message_id is the
 * step's seen marker). 0; PL_EINVAL with the reason: a number that is not E.164, no tenant (or
 * "*", every tenant, which only an operator's request names), a name over SCRUB_DIAL_NAME_MAX
 * bytes, requested_at_ms more than five minutes after now_ms. */
int scrub_dial_optout_read (const Plateau__V1__OptOutRequest *q, const char *message_id, int64_t now_ms,
                            scrub_optout_t *out, char *reason, size_t rsize);

#endif
