/*  dial.h — the dialer: a lead's life from cleared to finished, and the pacing that dials it.
 *
 *  The steps of one attempt (each one kit step: its Redis change, its messages and audit
 *  events at once; see docs/adr/0050):
 *    enqueue   LeadCleared → the lead's state and its place in the campaign's due queue
 *    claim     the pacing owner takes a due lead: attempt id <lead>.<n> (n = attempts so far
 *              + 1, compared and set: never reused), fenced by the campaign's lease token
 *    history   the attempt is recorded in the person's contact history (pl:{num:<e164>}:hist),
 *              which the same step reads: every other claim of any campaign is in it
 *    check     DialCheck to scrub with the lead and that history (fenced); scrub decides with
 *              lists, opt-outs, consents and the history, and answers DialCheckResult
 *    place     ALLOW, still inside its allowance → CallRequest to telephony (any replica; the
 *              attempt's state is compared and set, so a resent result places nothing twice)
 *    void      DENY / DEFER / too late → the history entry is removed, the lead requeued at the
 *              exact instant, moved to its next number, or finished
 *    outcome   CallOutcome → history flags (abandoned, machine), abandon counts, retry policy
 *    disposition   the agent's code → refusal, callback, do-not-call (OptOutRequest to scrub),
 *              promise (PromiseMade), wrong number, conversation
 *  A campaign's pacing runs on the replica holding its lease (pl:{camp:<c>}:lease, renewed every
 *  second, 5 s to live, token from pl:{camp:<c>}:fence); every other step runs wherever its
 *  message arrives.
 */
#ifndef DIALER_DIAL_H
#define DIALER_DIAL_H
#include <jansson.h>
#include <stdbool.h>
#include "campaign.h"
#include "plateau/bus.h"
#include "plateau/clock.h"
#include "plateau/log.h"
#include "plateau/loop.h"
#include "plateau/metrics.h"
#include "plateau/redis.h"
#include "plateau/v1/promise.pb-c.h"
#include "plateau/v1/dial.pb-c.h"

typedef struct dialer dialer_t;

typedef struct {
    pl_redis_t *redis;
    pl_clock_t *clock;
    const char *service, *replica;
    dialer_campaigns_t *campaigns;       /* grows and changes: definitions over the API */
    bool audit;                  /* emit audit events (PLATEAU_AUDIT_BUS set) */
    bool promise;                /* a promise service is connected (PLATEAU_PROMISE_BUS set): the
                                    right-party contacts go to it (promises made always do) */
    pl_metrics_t *metrics;
    pl_log_t *log;
    double amd_false_positive;   /* estimated share of machine detections that were people */
    int batch;                   /* claims per campaign per pacing pass */
    pl_bus_client_t *scrub_client;   /* pulled right after a pacing pass sent checks */
} dialer_opts_t;

dialer_t *dialer_new (const dialer_opts_t *o);
void dialer_destroy (dialer_t **self_p);

/* An agent's disposition of a call (the bus, or POST /v1/calls/{id}/disposition): refusal,
 * callback, do-not-call, promise, wrong number, conversation. step_id makes it idempotent (the
 * message id; NULL: none). 0; PL_EINVAL (unknown campaign, dial id or code); PL_ENOTFOUND (no
 * such call waiting for its disposition); PL_EAGAIN (its outcome has not arrived yet: later);
 * PL_EREDIS. */
int dialer_disposition (dialer_t *self, const Plateau__V1__Disposition *d, const char *step_id, const char *trace);
/* A promise made by a disposition holds the tenant's other leads of its debt: they are not
 * dialled (dial.scheduled, reason promise_active) until the promise is decided or its due date
 * has ended in every zone (due + 25 h).
 * A broken promise (PromiseBroken from the promise service) lifts its hold, and its finished lead
 * is queued again at once in the campaign named, under every rule at the dial. 0, PL_ENOTFOUND
 * (no such campaign or lead, or a lead not finished: nothing to do), PL_EREDIS. */
/* A kept promise (PromiseKept): its hold lifts (the hold of its tenant, else of its campaign's).
 * 0, PL_ENOTFOUND (neither known), PL_EREDIS. */
int dialer_promise_kept (dialer_t *self, const Plateau__V1__PromiseKept *pk);
int dialer_promise_broken (dialer_t *self, const Plateau__V1__PromiseBroken *pb, const char *step_id,
                           const char *trace);
/* A promise active on a debt that no disposition here made (opened over the API, or reopened by
 * a reversal): it holds the tenant's leads of the debt until its decision or until_ms, unless a
 * hold of another promise lasts longer. 0, PL_ENOTFOUND (no tenant: neither its own nor its
 * campaign's), PL_EREDIS. */
int dialer_promise_active (dialer_t *self, const Plateau__V1__PromiseActive *pa, const char *step_id);
/* An agent's state for each of its campaigns this dialer runs (the bus, or PUT
 * /v1/agents/{id}/state). 0, PL_EINVAL, PL_EREDIS. */
int dialer_agent_state (dialer_t *self, const Plateau__V1__AgentState *a, const char *step_id);
/* An id of 1..max bytes of letters, digits and - _ . @ : (lead, agent and dial ids: never a
 * separator of the keys and fields they go into). */
bool dialer_ident_ok (const char *s, size_t max);

/* Why a lead will be called when it will, or why never: its state, numbers, attempts, next
 * attempt (UTC and the callee's local time) with the reason, the last check's decision and the
 * rule that bound it, the finish reason, the contact history of its current number. NULL with
 * *rc PL_ENOTFOUND (no such lead in that campaign) or PL_EREDIS. */
json_t *dialer_why (dialer_t *self, const char *campaign, const char *lead_id, int *rc);
/* The leads a number belongs to, as "<campaign>/<lead id>" (free each and the array). 0,
 * PL_EINVAL (not E.164), PL_EREDIS. */
int dialer_leads_of (dialer_t *self, const char *e164, char ***out, size_t *n);
/* A campaign's queue: the replica pacing it, depth, lines in flight, agents by state, the abandon rate of its legal
 * period, and its head (up to limit leads by due time, each with why it is there). NULL with *rc
 * PL_ENOTFOUND (no such campaign) or PL_EREDIS. */
json_t *dialer_queue (dialer_t *self, const char *campaign, int limit, int *rc);
/* An agent's dial of a queued lead now (a manual dial, a callback taken early): the lead is due
 * at once, reserved for that agent, and goes through the same claim and check as every dial; the
 * check is told it is manual. 0; PL_ENOTFOUND (no such lead); PL_EBUSY (the lead is not waiting
 * in the queue: being dialled, or finished); PL_ECLOSED (the campaign is paused); PL_EREDIS. */
int dialer_dial_now (dialer_t *self, const char *campaign, const char *lead_id, const char *agent_id);

/* An operator's pause (pause true) or resume of a campaign: while paused, nothing of it is
 * claimed (the pacing's and the agents' dials alike; the claim reads the pause atomically), and
 * attempts already claimed run to their outcome. Audited as campaign.paused / campaign.resumed
 * with the actor and reason. *changed is false when it was already so (no event). 0;
 * PL_ENOTFOUND (no such campaign); PL_EINVAL (actor missing or over 64 bytes, reason over 200);
 * PL_EREDIS. */
int dialer_pause (dialer_t *self, const char *campaign, bool pause, const char *actor, const char *reason,
                  bool *changed);

/* An operator's definition of campaign `name` (PUT /v1/campaigns/{id}): checked whole, stored in
 * the campaign registry and audited as campaign.configured with every value, in one step; in
 * force on this replica at once and on the others (scrub and the intake too) within a second.
 * *created: a new campaign rather than a new definition. 0; PL_EEXIST (a file defines it);
 * PL_ECONFIG ("body:<line>: key '<k>': why"); PL_ENOSPC (the registry is full); PL_EREDIS.
 * err says why. */
int dialer_configure (dialer_t *self, const char *name, const char *text, const char *actor, bool *created, char *err,
                      size_t err_size);
/* campaign.configured for every campaign as loaded (at start): once per definition, whichever
 * replica starts first. 0 or PL_EREDIS. */
int dialer_announce (dialer_t *self);

/* The bus door: LeadCleared, DialCheckResult, CallProgress, CallOutcome, AgentState, Disposition. */
void dialer_handle (void *arg, pl_bus_msg_t **msgs, size_t n);
/* Campaign definitions over the API, from the registry when it moved (every second). */
int dialer_registry_tick (pl_loop_t *loop, void *arg);
/* Leases: take or renew every campaign's (every second). */
int dialer_lease_tick (pl_loop_t *loop, void *arg);
/* Pacing of the campaigns this replica holds (every few milliseconds). */
int dialer_pace_tick (pl_loop_t *loop, void *arg);
/* Attempts stuck between claim and check on this replica's campaigns (a crash): voided. */
int dialer_recover_tick (pl_loop_t *loop, void *arg);
/* For pl_bus_client_on_dead on the scrub client: a DialCheck refused for good voids its attempt
 * and requeues the lead a few minutes later. */
void dialer_on_dead_check (void *arg, const pl_envelope_t *env, const char *reason);

#endif
