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
#include <stdbool.h>
#include "campaign.h"
#include "plateau/bus.h"
#include "plateau/clock.h"
#include "plateau/log.h"
#include "plateau/loop.h"
#include "plateau/metrics.h"
#include "plateau/redis.h"

typedef struct dialer dialer_t;

typedef struct {
    pl_redis_t *redis;
    pl_clock_t *clock;
    const char *service, *replica;
    const dialer_campaigns_t *campaigns;
    bool audit;                  /* emit audit events (PLATEAU_AUDIT_BUS set) */
    pl_metrics_t *metrics;
    pl_log_t *log;
    double amd_false_positive;   /* estimated share of machine detections that were people */
    int batch;                   /* claims per campaign per pacing pass */
    pl_bus_client_t *scrub_client;   /* pulled right after a pacing pass sent checks */
} dialer_opts_t;

dialer_t *dialer_new (const dialer_opts_t *o);
void dialer_destroy (dialer_t **self_p);

/* The bus door: LeadCleared, DialCheckResult, CallProgress, CallOutcome, AgentState, Disposition. */
void dialer_handle (void *arg, pl_bus_msg_t **msgs, size_t n);
/* Leases: take or renew every campaign's (every second). */
int dialer_lease_tick (pl_loop_t *loop, void *arg);
/* Pacing of the campaigns this replica holds (every few milliseconds). */
int dialer_pace_tick (pl_loop_t *loop, void *arg);
/* Attempts stuck between claim and check on this replica's campaigns (a crash): voided. */
int dialer_recover_tick (pl_loop_t *loop, void *arg);

#endif
