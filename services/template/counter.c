/*  counter.c — count leads per campaign exactly once and audit it (see counter.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "counter.h"

struct tpl_counter {
    pl_redis_t *redis;
    const pl_clock_t *clock;
    pl_bus_client_t *audit;
    pl_inbox_t *inbox;
    char *service;
};

tpl_counter_t *
tpl_counter_new (pl_redis_t *redis, const pl_clock_t *clock, pl_bus_client_t *audit, const char *service)
{
    tpl_counter_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->redis = redis;
    self->clock = clock;
    self->audit = audit;
    self->service = strdup (service);
    self->inbox = pl_inbox_new (redis, service, 0);
    return self;
}

void
tpl_counter_destroy (tpl_counter_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_inbox_destroy (&(*self_p)->inbox);
    free ((*self_p)->service);
    free (*self_p);
    *self_p = NULL;
}

static const char *
s_campaign (const pl_envelope_t *env)
{
    const Plateau__V1__Lead *lead = env->lead_submitted ? env->lead_submitted->lead : NULL;
    return lead && lead->campaign && *lead->campaign ? lead->campaign : "none";
}

/* One audit event per message, with an id derived from the message's: sending it again after
 * a duplicate is harmless because the audit stores each id once. */
static int
s_audit (tpl_counter_t *self, pl_bus_msg_t **msgs, size_t n)
{
    if (!self->audit)
        return 0;
    pl_envelope_t *envs = calloc (n, sizeof *envs);
    pl_envelope_t **ptrs = calloc (n, sizeof *ptrs);
    pl_envelope_ids_t *ids = calloc (n, sizeof *ids);
    Plateau__V1__AuditEvent *evs = calloc (n, sizeof *evs);
    char (*derived)[64] = calloc (n, sizeof *derived);
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *in = pl_bus_msg_envelope (msgs[i]);
        pl_envelope_init (&envs[i], &ids[i], self->service, self->clock, in->trace_id);
        snprintf (derived[i], sizeof derived[i], "%s.audit", in->id);
        envs[i].id = derived[i];
        plateau__v1__audit_event__init (&evs[i]);
        evs[i].event_id = derived[i];
        evs[i].service = self->service;
        evs[i].type = "template.counted";
        evs[i].at_ms = pl_clock_now_ms (self->clock);
        evs[i].lead_id = in->lead_submitted->lead ? in->lead_submitted->lead->id : "";
        evs[i].campaign = (char *) s_campaign (in);
        evs[i].trace_id = in->trace_id;
        evs[i].reason = "lead counted for its campaign";
        envs[i].body_case = PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT;
        envs[i].audit_event = &evs[i];
        ptrs[i] = &envs[i];
    }
    int rc = pl_bus_client_send (self->audit, ptrs, n);
    free (envs);
    free (ptrs);
    free (ids);
    free (evs);
    free (derived);
    return rc;
}

void
tpl_counter_handle (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    tpl_counter_t *self = arg;
    pl_inbox_tx_t **txs = calloc (n, sizeof *txs);
    int *applied = calloc (n, sizeof *applied);
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *env = pl_bus_msg_envelope (msgs[i]);
        char tag[160], key[200];
        snprintf (tag, sizeof tag, "campaign:%s", s_campaign (env));
        snprintf (key, sizeof key, TPL_COUNTER_KEY_FMT, s_campaign (env));
        txs[i] = pl_inbox_tx_new (tag, env->id);
        pl_inbox_tx_cmdl (txs[i], "INCR", key, NULL);
    }
    /* Effect first, then the audit event, then the ack: a crash anywhere resends the message,
     * the inbox skips the effect and the audit event goes again under the same id. */
    int rc = pl_inbox_apply (self->inbox, txs, n, applied);
    if (rc == 0)
        rc = s_audit (self, msgs, n);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            pl_bus_msg_ack (msgs[i]);
        else
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__UNAVAILABLE, "redis unavailable", 1000);
        pl_inbox_tx_destroy (&txs[i]);
    }
    free (txs);
    free (applied);
}
