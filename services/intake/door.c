/*  door.c — native Lead submissions on the bus (see door.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "door.h"
#include "lead.h"
#include "plateau/envelope.h"
#include "plateau/error.h"
#include "store.h"

struct intake_door {
    pl_redis_t *redis;
    const pl_clock_t *clock;
    char *service;
    bool audit;
    const intake_campaigns_t *campaigns;
    intake_store_t *store;
    pl_phone_t *phone;
    pl_metric_t *leads;
    pl_log_t *log;
};

intake_door_t *
intake_door_new (pl_redis_t *redis, const pl_clock_t *clock, const char *replica, const char *service,
                 int64_t dedupe_window_ms, bool audit, const intake_campaigns_t *campaigns, pl_metrics_t *metrics,
                 pl_log_t *log)
{
    intake_door_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->redis = redis;
    self->clock = clock;
    self->service = strdup (service);
    self->audit = audit;
    self->campaigns = campaigns;
    self->log = log;
    self->store = intake_store_new (redis, clock, service, replica, dedupe_window_ms);
    self->phone = pl_phone_new ();
    self->leads = pl_metrics_counter (metrics, "plateau_intake_leads_total",
                                      "Leads received, by outcome, source and format", "status,source,format");
    if (!self->service || !self->store || !self->phone)
        intake_door_destroy (&self);
    return self;
}

void
intake_door_destroy (intake_door_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_door_t *self = *self_p;
    intake_store_destroy (&self->store);
    pl_phone_destroy (&self->phone);
    free (self->service);
    free (self);
    *self_p = NULL;
}

/* Replaces a string member of a protobuf message (whose default is the shared empty string). */
static void
s_set (char **slot, const char *value)
{
    if (*slot && *slot != protobuf_c_empty_string)
        free (*slot);
    *slot = strdup (value);
}

static void
s_count (intake_door_t *self, const char *status, const char *source)
{
    char labels[256];
    snprintf (labels, sizeof labels, "%s,%s,bus", status, source && *source ? source : "unknown");
    pl_metric_inc (self->leads, labels, 1);
}

void
intake_door_handle (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    intake_door_t *self = arg;
    Plateau__V1__Lead **leads = calloc (n, sizeof *leads);
    intake_store_item_t *items = calloc (n, sizeof *items);
    intake_audit_t *ctx = calloc (n, sizeof *ctx);
    intake_errors_t *errors = calloc (n, sizeof *errors);
    char (*reasons)[400] = calloc (n, sizeof *reasons);
    if (!leads || !items || !ctx || !errors || !reasons) {
        for (size_t i = 0; i < n; i++)
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__UNAVAILABLE, "out of memory", 1000);
        goto done;
    }
    int64_t now = pl_clock_now_ms (self->clock);
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *env = pl_bus_msg_envelope (msgs[i]);
        const Plateau__V1__Lead *in = env->lead;
        /* The source is the sender's proven identity (the envelope's own claim only on a
         * plaintext bus, which trusts everyone by definition). */
        const char *source = pl_bus_msg_sender (msgs[i]) ? pl_bus_msg_sender (msgs[i]) : env->source;
        intake_lead_opts_t o = { .phone = self->phone, .source = source, .received_at_ms = now };
        int rc = intake_lead_from_pb (in, &o, &leads[i], &errors[i]);
        ctx[i] = (intake_audit_t) { .trace_id = env->trace_id, .actor = source, .format = "bus",
                                    .campaign = in ? in->campaign : "", .campaigns = self->campaigns };
        items[i].audit = self->audit ? &ctx[i] : NULL;
        items[i].message_id = env->id;
        if (rc != 0) {
            const intake_error_t *e = &errors[i].items[0];
            snprintf (reasons[i], sizeof reasons[i], "%s %s: %s", e->field, e->code ? e->code : "", e->message);
            ctx[i].reason = reasons[i];
            ctx[i].errors = rc == PL_EINVAL ? &errors[i] : NULL;
            if (rc == PL_EINVAL && errors[i].known.campaign[0])
                ctx[i].campaign = errors[i].known.campaign;     /* the campaign as it was read */
            s_count (self, "rejected", source);
            continue;
        }
        char id[PL_ID_LEN + 1];
        pl_id_new (id, now);
        s_set (&leads[i]->id, id);
        s_set (&leads[i]->trace_id, env->trace_id ? env->trace_id : "");
        items[i].lead = leads[i];
    }
    /* Stored with its messages and audit event in one step each, before any ack. */
    int rc = intake_store_put (self->store, items, n, now);
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *env = pl_bus_msg_envelope (msgs[i]);
        const char *source = pl_bus_msg_sender (msgs[i]) ? pl_bus_msg_sender (msgs[i]) : env->source;
        intake_store_outcome_t oc = items[i].outcome;
        if (rc != 0)
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__UNAVAILABLE, "redis unavailable", 1000);
        else if (!items[i].lead)
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__INVALID, reasons[i], 0);
        else {
            if (oc == INTAKE_STORE_DUP_EXTERNAL || oc == INTAKE_STORE_DUP_NUMBER)
                s_count (self, "duplicate", source);
            else if (oc == INTAKE_STORE_STORED)
                s_count (self, "accepted", source);
            pl_bus_msg_ack (msgs[i]);
        }
    }
    if (rc != 0)
        pl_log_warn (self->log, NULL, "bus leads not stored", "error", intake_store_errstr (self->store));
done:
    for (size_t i = 0; leads && i < n; i++)
        intake_lead_free (&leads[i]);
    free (leads);
    free (items);
    free (ctx);
    free (errors);
    free (reasons);
}
