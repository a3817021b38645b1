/*  door.c — CallRequest from the dialer: claim the dial id and answer in one step (door.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "door.h"
#include "plateau/error.h"
#include "plateau/inbox.h"
#include "plateau/outbox.h"

#define S_CLAIM_TTL_MS "604800000"      /* 7 days: longer than any dialer resends */

struct telsim_door {
    const pl_clock_t *clock;
    pl_inbox_t *inbox;
    pl_outbox_t *dialer;
    char *service;
    telsim_floor_t *floor;
    pl_log_t *log;
    pl_metric_t *m_requests, *m_calls;
};

/* What becomes of a request: placed, or answered FAILED without being placed. */
typedef enum { S_PLACE, S_LATE, S_NO_AGENT } s_fate_t;

/* K[1] the dial id's claim; A[1] what this request does ("placed", "late" or "no_agent"), A[2]
 * its TTL.
 * A dial id already claimed replies "dup:<first>" and emits nothing. */
static const pl_inbox_effect_t s_claim = {
    "telsim.claim",
    "if redis.call('SET', K[1], A[1], 'NX', 'PX', A[2]) then return A[1] end\n"
    "return 'dup:' .. (redis.call('GET', K[1]) or ''), false\n"
};

telsim_door_t *
telsim_door_new (pl_redis_t *redis, const pl_clock_t *clock, const char *service, const char *replica,
                 telsim_floor_t *floor, pl_metrics_t *metrics, pl_log_t *log)
{
    telsim_door_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->clock = clock;
    self->floor = floor;
    self->log = log;
    self->service = strdup (service);
    self->inbox = pl_inbox_new (redis, service, 0);
    self->dialer = pl_outbox_new (redis, replica, "dialer");
    self->m_requests = pl_metrics_counter (metrics, "plateau_telsim_requests_total",
                                           "CallRequests received, by what became of them", "outcome");
    self->m_calls = pl_metrics_counter (metrics, "plateau_telsim_calls_total", "Calls ended, by CallOutcome result",
                                        "result");
    if (!self->service || !self->inbox || !self->dialer)
        telsim_door_destroy (&self);
    return self;
}

void
telsim_door_destroy (telsim_door_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    telsim_door_t *self = *self_p;
    pl_inbox_destroy (&self->inbox);
    pl_outbox_destroy (&self->dialer);
    free (self->service);
    free (self);
    *self_p = NULL;
}

int
telsim_door_check (const Plateau__V1__CallRequest *q, char *reason, size_t rsize)
{
    const char *why = !q                                                 ? "no CallRequest body"
                      : !q->dial_id || !*q->dial_id                      ? "dial_id missing"
                      : strlen (q->dial_id) > TELSIM_DIAL_ID_MAX         ? "dial_id over 100 bytes"
                      : !q->campaign || !*q->campaign                    ? "campaign missing"
                      : strlen (q->campaign) > 64 || strchr (q->campaign, ',') || strchr (q->campaign, '}')
                          ? "campaign over 64 bytes or with ',' or '}'"
                      : !q->number || q->number[0] != '+'                ? "number not E.164"
                      : q->ring_timeout_s != 0 && q->ring_timeout_s < 15 ? "ring_timeout_s below 15 s (us.abandon, uk.abandon)"
                                                                         : NULL;
    if (!why)
        return 0;
    snprintf (reason, rsize, "%s", why);
    return PL_EINVAL;
}

/* The request's step: its claim, its seen marker, and the first answer to the dialer. */
static pl_inbox_tx_t *
s_step (telsim_door_t *self, const pl_envelope_t *in, s_fate_t fate, int64_t now)
{
    const Plateau__V1__CallRequest *q = in->call_request;
    char tag[96], key[256];
    snprintf (tag, sizeof tag, "camp:%s", q->campaign);
    snprintf (key, sizeof key, TELSIM_DIAL_KEY_FMT, q->campaign, q->dial_id);
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, in->id);
    const char *keys[1] = { key };
    static const char *const claims[] = { "placed", "late", "no_agent" };
    const char *args[2] = { claims[fate], S_CLAIM_TTL_MS };
    if (!tx || pl_inbox_tx_effect (tx, &s_claim, 1, keys, 2, args, NULL) != 0) {
        pl_inbox_tx_destroy (&tx);
        return NULL;
    }
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, self->service, self->clock, in->trace_id);
    char id[PL_ENVELOPE_ID_MAX + 1];
    Plateau__V1__CallProgress p = PLATEAU__V1__CALL_PROGRESS__INIT;
    Plateau__V1__CallOutcome o = PLATEAU__V1__CALL_OUTCOME__INIT;
    if (fate != S_PLACE) {
        o.dial_id = q->dial_id;
        o.lead_id = q->lead_id;
        o.campaign = q->campaign;
        o.number = q->number;
        o.tenant = q->tenant;
        o.result = PLATEAU__V1__CALL_OUTCOME__RESULT__FAILED;
        o.ended_at_ms = now;
        o.agent_id = "";
        o.agent_connect_ms = -1;
        env.body_case = PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME;
        env.call_outcome = &o;
        snprintf (id, sizeof id, "%s.outcome", q->dial_id);
    } else {
        p.dial_id = q->dial_id;
        p.campaign = q->campaign;
        p.stage = PLATEAU__V1__CALL_PROGRESS__STAGE__PLACED;
        p.at_ms = now;
        p.agent_id = q->agent_id ? q->agent_id : "";
        env.body_case = PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS;
        env.call_progress = &p;
        snprintf (id, sizeof id, "%s.placed", q->dial_id);
    }
    env.id = id;
    if (pl_inbox_tx_emit (tx, self->dialer, &env) != 0)
        pl_inbox_tx_destroy (&tx);
    return tx;
}

void
telsim_door_handle (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    telsim_door_t *self = arg;
    pl_inbox_tx_t **txs = calloc (n, sizeof *txs);
    int *applied = calloc (n, sizeof *applied);
    s_fate_t *fate = calloc (n, sizeof *fate);
    size_t *map = calloc (n, sizeof *map);         /* step k → message */
    if (!txs || !applied || !fate || !map) {
        for (size_t i = 0; i < n; i++)
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__UNAVAILABLE, "out of memory", 1000);
        free (txs), free (applied), free (fate), free (map);
        return;
    }
    int64_t now = pl_clock_now_ms (self->clock);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *env = pl_bus_msg_envelope (msgs[i]);
        char reason[128];
        const Plateau__V1__CallRequest *q = env->body_case == PLATEAU__V1__ENVELOPE__BODY_CALL_REQUEST
                                            ? env->call_request : NULL;
        if (telsim_door_check (q, reason, sizeof reason) != 0) {
            pl_metric_inc (self->m_requests, "invalid", 1);
            pl_log_warn (self->log, env->trace_id, "CallRequest refused", "reason", reason);
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__INVALID, reason, 0);
            continue;
        }
        fate[k] = q->place_before_ms > 0 && now >= q->place_before_ms ? S_LATE : S_PLACE;
        /* A reserved line is outside the abandon budget (the pacing counts on its agent being
         * there at the greeting): placed without that agent it could only be bridged to another
         * one, taken from a predictive call, or abandoned. An agent named twice in one batch is
         * free for the first request only. */
        if (fate[k] == S_PLACE && q->agent_id && *q->agent_id) {
            bool taken = telsim_floor_agent_state (self->floor, q->agent_id, NULL)
                         != PLATEAU__V1__AGENT_STATE__STATE__READY;
            for (size_t j = 0; j < k && !taken; j++) {
                const Plateau__V1__CallRequest *p = pl_bus_msg_envelope (msgs[map[j]])->call_request;
                taken = fate[j] == S_PLACE && p->agent_id && strcmp (p->agent_id, q->agent_id) == 0;
            }
            if (taken)
                fate[k] = S_NO_AGENT;
        }
        if (!(txs[k] = s_step (self, env, fate[k], now))) {
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__INTERNAL, "cannot build the step", 1000);
            continue;
        }
        applied[k] = -1;
        map[k++] = i;
    }
    /* One step each, then the ack: a crash in between resends the request, and its marker (or
     * the dial id's claim) answers without placing again. */
    if (k)
        pl_inbox_apply (self->inbox, txs, k, applied);
    for (size_t j = 0; j < k; j++) {
        pl_bus_msg_t *msg = msgs[map[j]];
        const pl_envelope_t *env = pl_bus_msg_envelope (msg);
        const Plateau__V1__CallRequest *q = env->call_request;
        const char *reply = pl_inbox_tx_reply (txs[j], NULL);
        if (applied[j] < 0) {
            pl_bus_msg_nack (msg, PLATEAU__V1__NACK__CODE__UNAVAILABLE, "redis unavailable", 1000);
        } else if (applied[j] == 0 || strncmp (reply, "dup:", 4) == 0) {
            pl_metric_inc (self->m_requests, "duplicate", 1);
            pl_log_info (self->log, env->trace_id, "CallRequest for a dial id already handled: nothing placed",
                         "dial_id", q->dial_id, "campaign", q->campaign);
            pl_bus_msg_ack (msg);
        } else if (fate[j] == S_NO_AGENT) {
            pl_metric_inc (self->m_requests, "no_agent", 1);
            pl_metric_inc (self->m_calls, "failed", 1);
            pl_log_warn (self->log, env->trace_id, "CallRequest for an agent who is not READY: not placed",
                         "dial_id", q->dial_id, "campaign", q->campaign, "agent_id", q->agent_id,
                         "state", telsim_agent_state_str (telsim_floor_agent_state (self->floor, q->agent_id, NULL)));
            pl_bus_msg_ack (msg);
        } else if (fate[j] == S_LATE) {
            char before[32], at[32];
            snprintf (before, sizeof before, "%lld", (long long) q->place_before_ms);
            snprintf (at, sizeof at, "%lld", (long long) now);
            pl_metric_inc (self->m_requests, "late", 1);
            pl_metric_inc (self->m_calls, "failed", 1);
            pl_log_warn (self->log, env->trace_id, "CallRequest arrived at or after its place_before_ms: not placed",
                         "dial_id", q->dial_id, "campaign", q->campaign, "place_before_ms", before, "now_ms", at);
            pl_bus_msg_ack (msg);
        } else {
            pl_metric_inc (self->m_requests, "placed", 1);
            if (telsim_floor_place (self->floor, q, env->trace_id, now) != 0)
                pl_log_error (self->log, env->trace_id, "call claimed but not simulated", "dial_id", q->dial_id);
            pl_bus_msg_ack (msg);
        }
    }
    for (size_t j = 0; j < k; j++)
        pl_inbox_tx_destroy (&txs[j]);
    free (txs);
    free (applied);
    free (fate);
    free (map);
}
