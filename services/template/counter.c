/*  counter.c — count leads per campaign exactly once and audit it in the same step (see counter.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "counter.h"
#include "plateau/audit_emit.h"
#include "plateau/outbox.h"

#define S_LAST_MAX 1024

struct tpl_counter {
    const pl_clock_t *clock;
    pl_inbox_t *inbox;
    pl_outbox_t *audit;            /* NULL: no audit service */
    char *service;
    long long last[S_LAST_MAX];
    size_t nlast;
};

/* The effect: K = the campaign's counter; replies with the new count. A service's effect is a
 * Lua function body; it runs atomically with the message's seen marker and the audit event. */
static const pl_inbox_effect_t s_count = {
    "template.count",
    "return tostring(redis.call('INCR', K[1]))\n"
};

tpl_counter_t *
tpl_counter_new (pl_redis_t *redis, const pl_clock_t *clock, const char *service, const char *owner, bool audit)
{
    tpl_counter_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->clock = clock;
    self->service = strdup (service);
    self->inbox = pl_inbox_new (redis, service, 0);
    self->audit = audit ? pl_outbox_new (redis, owner, "audit") : NULL;
    if (!self->service || !self->inbox || (audit && !self->audit))
        tpl_counter_destroy (&self);
    return self;
}

void
tpl_counter_destroy (tpl_counter_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tpl_counter_t *self = *self_p;
    pl_inbox_destroy (&self->inbox);
    pl_outbox_destroy (&self->audit);
    free (self->service);
    free (self);
    *self_p = NULL;
}

long long
tpl_counter_last_reply (const tpl_counter_t *self, size_t i)
{
    return i < self->nlast ? self->last[i] : -1;
}

static const char *
s_campaign (const pl_envelope_t *env)
{
    const Plateau__V1__Lead *lead = env->lead_submitted ? env->lead_submitted->lead : NULL;
    return lead && lead->campaign && *lead->campaign ? lead->campaign : "none";
}

/* One step per message: the count, its seen marker and its audit event. The event's id derives
 * from the message's, so that nothing is ever recorded twice for one message. */
static pl_inbox_tx_t *
s_step (tpl_counter_t *self, const pl_envelope_t *in)
{
    char tag[160], key[200];
    snprintf (tag, sizeof tag, "campaign:%s", s_campaign (in));
    snprintf (key, sizeof key, TPL_COUNTER_KEY_FMT, s_campaign (in));
    pl_inbox_tx_t *tx = pl_inbox_tx_new (tag, in->id);
    const char *keys[1] = { key };
    if (!tx || pl_inbox_tx_effect (tx, &s_count, 1, keys, 0, NULL, NULL) != 0) {
        pl_inbox_tx_destroy (&tx);
        return NULL;
    }
    if (self->audit) {
        char id[96];
        snprintf (id, sizeof id, "%s.counted", in->id);
        Plateau__V1__AuditEvent ev;
        pl_audit_event_init (&ev, self->service, "template.counted", id, pl_clock_now_ms (self->clock));
        const Plateau__V1__Lead *lead = in->lead_submitted ? in->lead_submitted->lead : NULL;
        ev.lead_id = lead && lead->id ? lead->id : (char *) "";
        ev.campaign = (char *) s_campaign (in);
        ev.reason = (char *) "lead counted for its campaign";
        if (pl_audit_emit (tx, self->audit, self->service, self->clock, in->trace_id, &ev) != 0)
            pl_inbox_tx_destroy (&tx);
    }
    return tx;
}

void
tpl_counter_handle (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    tpl_counter_t *self = arg;
    pl_inbox_tx_t **txs = calloc (n, sizeof *txs);
    int *applied = calloc (n, sizeof *applied);
    int rc = txs && applied ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!(txs[i] = s_step (self, pl_bus_msg_envelope (msgs[i]))))
            rc = -1;
    /* One step each, then the ack: a crash anywhere resends the message, and its marker answers
     * with the first count without counting or recording again. */
    if (rc == 0)
        rc = pl_inbox_apply (self->inbox, txs, n, applied);
    self->nlast = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            if (self->nlast < S_LAST_MAX)
                self->last[self->nlast++] = strtoll (pl_inbox_tx_reply (txs[i], NULL), NULL, 10);
            pl_bus_msg_ack (msgs[i]);
        } else
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__UNAVAILABLE, "redis unavailable", 1000);
        if (txs)
            pl_inbox_tx_destroy (&txs[i]);
    }
    free (txs);
    free (applied);
}
