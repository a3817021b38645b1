/*  feeder.c — to-queue → outbox, audit queue → audit (see feeder.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "feeder.h"
#include "plateau/envelope.h"
#include "plateau/error.h"
#include "plateau/outbox.h"
#include "store.h"

#define S_BATCH 1000

struct intake_feeder {
    pl_redis_t *redis;
    const pl_clock_t *clock;
    char *replica;
    char *service;
    pl_bus_client_t *scrub;
    pl_bus_client_t *audit;
    pl_outbox_t *outbox;            /* scrub's outbox when no scrub peer is configured */
    size_t high_water;
    long long to_queue, in_outbox;
    pl_metric_t *backlog;
    pl_metric_t *moved;
};

intake_feeder_t *
intake_feeder_new (pl_redis_t *redis, const pl_clock_t *clock, const char *replica, const char *service,
                   pl_bus_client_t *scrub, pl_bus_client_t *audit, pl_metrics_t *metrics)
{
    intake_feeder_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->redis = redis;
    self->clock = clock;
    self->replica = strdup (replica);
    self->service = strdup (service);
    self->scrub = scrub;
    self->audit = audit;
    self->high_water = 20000;
    if (!scrub)
        self->outbox = pl_outbox_new (redis, replica, "scrub");
    self->backlog = pl_metrics_gauge (metrics, "plateau_intake_outbox_backlog",
                                      "Leads stored and not yet acknowledged by scrub, by stage "
                                      "(to_queue: in Redis, waiting for room in the outbox; outbox: "
                                      "sent or waiting for scrub)", "stage");
    self->moved = pl_metrics_counter (metrics, "plateau_intake_queued_total",
                                      "Leads handed to the scrub outbox", NULL);
    return self;
}

void
intake_feeder_destroy (intake_feeder_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_feeder_t *self = *self_p;
    pl_outbox_destroy (&self->outbox);
    free (self->replica);
    free (self->service);
    free (self);
    *self_p = NULL;
}

void
intake_feeder_set_high_water (intake_feeder_t *self, size_t n)
{
    self->high_water = n ? n : 20000;
}

long long intake_feeder_to_queue (const intake_feeder_t *self) { return self->to_queue; }
long long intake_feeder_outbox (const intake_feeder_t *self) { return self->in_outbox; }

static size_t
s_room (intake_feeder_t *self, pl_bus_client_t *c)
{
    size_t inflight = c ? pl_bus_client_inflight (c) : 0;
    return inflight >= self->high_water ? 0 : self->high_water - inflight;
}

/* Queued audit events (duplicate, rejected), oldest first. */
static int
s_audit_queue (intake_feeder_t *self)
{
    if (!self->audit)
        return 0;
    size_t room = s_room (self, self->audit);
    if (room == 0)
        return 0;
    size_t want = room < S_BATCH ? room : S_BATCH;
    char key[256];
    intake_store_audit_key (key, sizeof key, self->replica);
    redisReply *r = pl_redis_command (self->redis, "LRANGE %s 0 %d", key, (int) want - 1);
    if (!r)
        return PL_EREDIS;
    int rc = 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        size_t n = r->elements;
        pl_envelope_t **envs = calloc (n, sizeof *envs);
        size_t k = 0;
        for (size_t i = 0; envs && i < n; i++) {
            char err[128];
            pl_envelope_t *e = pl_envelope_unpack ((const uint8_t *) r->element[i]->str, r->element[i]->len,
                                                   err, sizeof err);
            if (e)
                envs[k++] = e;     /* an undecodable entry is dropped: it can never be sent */
        }
        rc = envs ? pl_bus_client_send (self->audit, envs, k) : PL_ENOMEM;
        for (size_t i = 0; envs && i < k; i++)
            pl_envelope_free (&envs[i]);
        free (envs);
        if (rc == 0) {
            redisReply *t = pl_redis_command (self->redis, "LTRIM %s %d -1", key, (int) n);
            if (!t)
                rc = PL_EREDIS;
            else
                freeReplyObject (t);
        }
    }
    freeReplyObject (r);
    return rc;
}

/* Moves up to `want` leads of one campaign's to-queue. Returns how many, or a negative code. */
static int
s_campaign (intake_feeder_t *self, const char *campaign, size_t want)
{
    char tq[512];
    intake_store_toqueue_key (tq, sizeof tq, campaign, self->replica);
    redisReply *r = pl_redis_command (self->redis, "ZRANGE %s 0 %d", tq, (int) want - 1);
    if (!r)
        return PL_EREDIS;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        freeReplyObject (r);
        return 0;
    }
    size_t n = r->elements;
    char **ids = calloc (n, sizeof *ids);
    Plateau__V1__Lead **leads = calloc (n, sizeof *leads);
    int rc = ids && leads ? 0 : PL_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        ids[i] = strdup (r->element[i]->str);
        char key[512];
        intake_store_lead_key (key, sizeof key, campaign, ids[i]);
        if (pl_redis_append (self->redis, "HGET %s pb", key) != 0)
            rc = PL_EREDIS;
    }
    freeReplyObject (r);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        redisReply *h = NULL;
        if (pl_redis_get_reply (self->redis, &h) != 0) {
            rc = PL_EREDIS;
            break;
        }
        if (h->type == REDIS_REPLY_STRING)
            leads[i] = plateau__v1__lead__unpack (NULL, h->len, (const uint8_t *) h->str);
        freeReplyObject (h);
    }
    /* Envelopes with ids derived from the lead id. */
    pl_envelope_t *subs = calloc (n, sizeof *subs), *auds = calloc (n, sizeof *auds);
    pl_envelope_t **sp = calloc (n, sizeof *sp), **ap = calloc (n, sizeof *ap);
    pl_envelope_ids_t *sids = calloc (n, sizeof *sids), *aids = calloc (n, sizeof *aids);
    Plateau__V1__LeadSubmitted *ls = calloc (n, sizeof *ls);
    Plateau__V1__AuditEvent *evs = calloc (n, sizeof *evs);
    char (*sub_id)[64] = calloc (n, sizeof *sub_id), (*aud_id)[64] = calloc (n, sizeof *aud_id);
    if (rc == 0 && (!subs || !auds || !sp || !ap || !sids || !aids || !ls || !evs || !sub_id || !aud_id))
        rc = PL_ENOMEM;
    size_t k = 0;
    int64_t now = pl_clock_now_ms (self->clock);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        Plateau__V1__Lead *l = leads[i];
        if (!l)
            continue;
        pl_envelope_init (&subs[k], &sids[k], self->service, self->clock, l->trace_id);
        snprintf (sub_id[k], sizeof sub_id[k], "%s.submitted", l->id);
        subs[k].id = sub_id[k];
        plateau__v1__lead_submitted__init (&ls[k]);
        ls[k].lead = l;
        subs[k].body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD_SUBMITTED;
        subs[k].lead_submitted = &ls[k];
        sp[k] = &subs[k];
        pl_envelope_init (&auds[k], &aids[k], self->service, self->clock, l->trace_id);
        snprintf (aud_id[k], sizeof aud_id[k], "%s.accepted", l->id);
        auds[k].id = aud_id[k];
        plateau__v1__audit_event__init (&evs[k]);
        evs[k].event_id = aud_id[k];
        evs[k].service = self->service;
        evs[k].type = INTAKE_AUDIT_ACCEPTED;
        evs[k].at_ms = l->received_at_ms ? l->received_at_ms : now;
        evs[k].lead_id = l->id;
        evs[k].campaign = l->campaign;
        evs[k].number = l->phone && l->phone->e164 ? l->phone->e164 : "";
        evs[k].trace_id = auds[k].trace_id;
        evs[k].reason = "lead validated, stored and queued for scrub";
        evs[k].actor = l->source;
        evs[k].zone = l->phone && l->phone->n_zones ? l->phone->zones[0] : "";
        evs[k].decision = PLATEAU__V1__DECISION__ALLOW;
        auds[k].body_case = PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT;
        auds[k].audit_event = &evs[k];
        ap[k] = &auds[k];
        k++;
    }
    if (rc == 0 && k) {
        if (self->scrub)
            rc = pl_bus_client_send (self->scrub, sp, k);
        else {
            /* No scrub yet: straight into its outbox, where a future bus client finds it. */
            const char **oids = calloc (k, sizeof *oids), **types = calloc (k, sizeof *types);
            uint8_t **data = calloc (k, sizeof *data);
            size_t *sizes = calloc (k, sizeof *sizes);
            rc = oids && types && data && sizes ? 0 : PL_ENOMEM;
            for (size_t i = 0; rc == 0 && i < k; i++) {
                if (!(data[i] = pl_envelope_pack (sp[i], &sizes[i])))
                    rc = PL_ENOMEM;
                oids[i] = sp[i]->id;
                types[i] = sp[i]->type;
            }
            if (rc == 0)
                rc = pl_outbox_put (self->outbox, k, oids, types, (const uint8_t *const *) data, sizes);
            for (size_t i = 0; data && i < k; i++)
                free (data[i]);
            free (oids);
            free (types);
            free (data);
            free (sizes);
        }
    }
    if (rc == 0 && k && self->audit)
        rc = pl_bus_client_send (self->audit, ap, k);
    /* Index again (repairs a crash between the script and the index), then leave the queue. */
    int queued = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char key[512];
        intake_store_index_key (key, sizeof key, ids[i]);
        if (leads[i] && pl_redis_append (self->redis, "SET %s %s", key, campaign) == 0)
            queued++;
        if (pl_redis_append (self->redis, "ZREM %s %s", tq, ids[i]) == 0)
            queued++;
    }
    for (int q = 0; q < queued; q++) {
        redisReply *x = NULL;
        if (pl_redis_get_reply (self->redis, &x) != 0) {
            rc = PL_EREDIS;
            break;
        }
        freeReplyObject (x);
    }
    for (size_t i = 0; i < n; i++) {
        if (ids)
            free (ids[i]);
        if (leads && leads[i])
            plateau__v1__lead__free_unpacked (leads[i], NULL);
    }
    free (ids);
    free (leads);
    free (subs);
    free (auds);
    free (sp);
    free (ap);
    free (sids);
    free (aids);
    free (ls);
    free (evs);
    free (sub_id);
    free (aud_id);
    if (rc == 0)
        pl_metric_inc (self->moved, NULL, (double) k);
    return rc == 0 ? (int) n : rc;
}

int
intake_feeder_tick (intake_feeder_t *self)
{
    int rc = s_audit_queue (self);
    if (rc < 0)
        return rc;
    char key[256];
    intake_store_campaigns_key (key, sizeof key, self->replica);
    redisReply *r = pl_redis_command (self->redis, "SMEMBERS %s", key);
    if (!r)
        return PL_EREDIS;
    int moved = 0;
    long long waiting = 0;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const char *c = r->element[i]->str;
        for (int pass = 0; pass < 8; pass++) {
            size_t room = s_room (self, self->scrub);
            if (self->audit) {
                size_t a = s_room (self, self->audit);
                room = a < room ? a : room;
            }
            if (room == 0)
                break;
            int n = s_campaign (self, c, room < S_BATCH ? room : S_BATCH);
            if (n < 0) {
                freeReplyObject (r);
                return n;
            }
            moved += n;
            if (n < S_BATCH)
                break;
        }
        char tq[512];
        intake_store_toqueue_key (tq, sizeof tq, c, self->replica);
        redisReply *z = pl_redis_command (self->redis, "ZCARD %s", tq);
        if (z && z->type == REDIS_REPLY_INTEGER)
            waiting += z->integer;
        if (z)
            freeReplyObject (z);
    }
    freeReplyObject (r);
    self->to_queue = waiting;
    self->in_outbox = self->scrub ? (long long) pl_bus_client_inflight (self->scrub)
                                  : pl_outbox_size (self->outbox);
    pl_metric_set (self->backlog, "to_queue", (double) self->to_queue);
    pl_metric_set (self->backlog, "outbox", (double) (self->in_outbox > 0 ? self->in_outbox : 0));
    return moved;
}
