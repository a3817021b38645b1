/*  door.c — AuditEvents from the bus into the store, acked once durable (see door.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "door.h"
#include "plateau/envelope.h"
#include "plateau/error.h"

struct audit_door {
    pl_audit_store_t *store;
    const pl_clock_t *clock;
    pl_bus_server_t *server;
    audit_claims_t *claims;
    pl_log_t *log;
    int retry_after_ms;
    size_t held;
    bool paused;                    /* paused by the door (full disk), not by draining */
    pl_metric_t *events;            /* plateau_audit_events_total{outcome} */
    pl_metric_t *fsync;             /* plateau_audit_fsync_seconds */
    pl_metric_t *chain_length, *checkpoint_age, *index_lag, *disk_full, *bytes, *held_g;
};

audit_door_t *
audit_door_new (pl_audit_store_t *store, const pl_clock_t *clock, pl_metrics_t *metrics,
                pl_log_t *log, int retry_after_ms)
{
    audit_door_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->clock = clock;
    self->log = log;
    self->retry_after_ms = retry_after_ms > 0 ? retry_after_ms : 1000;
    static const double fsync_bounds[] = { 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                           0.1, 0.25, 0.5, 1, 2.5 };
    self->events = pl_metrics_counter (metrics, "plateau_audit_events_total",
                                       "AuditEvents received, by outcome (stored, duplicate, "
                                       "invalid, too_large, held, stale)", "outcome");
    self->fsync = pl_metrics_histogram (metrics, "plateau_audit_fsync_seconds",
                                        "Duration of the group commit's fdatasync", NULL,
                                        fsync_bounds, sizeof fsync_bounds / sizeof *fsync_bounds);
    self->chain_length = pl_metrics_gauge (metrics, "plateau_audit_chain_length",
                                           "Records in this replica's chain (next seq)", NULL);
    self->checkpoint_age = pl_metrics_gauge (metrics, "plateau_audit_checkpoint_age_seconds",
                                             "Age of the last signed checkpoint", NULL);
    self->index_lag = pl_metrics_gauge (metrics, "plateau_audit_index_lag_records",
                                        "Durable records not yet in the SQLite index", NULL);
    self->disk_full = pl_metrics_gauge (metrics, "plateau_audit_disk_full",
                                        "1 while writes are held by a full disk or the size cap", NULL);
    self->bytes = pl_metrics_gauge (metrics, "plateau_audit_bytes", "Bytes of segment files", NULL);
    self->held_g = pl_metrics_gauge (metrics, "plateau_audit_unacked_events",
                                     "Events appended and not yet durable (acks owed)", NULL);
    return self;
}

void
audit_door_destroy (audit_door_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

void
audit_door_set_store (audit_door_t *self, pl_audit_store_t *store)
{
    self->store = store;
}

void
audit_door_set_claims (audit_door_t *self, audit_claims_t *claims)
{
    self->claims = claims;
}

void
audit_door_set_server (audit_door_t *self, pl_bus_server_t *server)
{
    self->server = server;
}

static void
s_unavailable (audit_door_t *self, pl_bus_msg_t *msg, const char *why, int retry_ms)
{
    pl_metric_inc (self->events, "held", 1);
    pl_bus_msg_nack (msg, PLATEAU__V1__NACK__CODE__UNAVAILABLE, why, retry_ms);
}

/* The AuditEvent of msg, or NULL (then msg was nacked INVALID). */
static const Plateau__V1__AuditEvent *
s_event (audit_door_t *self, pl_bus_msg_t *msg)
{
    const pl_envelope_t *env = pl_bus_msg_envelope (msg);
    if (!env || env->body_case != PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT || !env->audit_event) {
        pl_metric_inc (self->events, "invalid", 1);
        pl_bus_msg_nack (msg, PLATEAU__V1__NACK__CODE__INVALID, "not an AuditEvent", 0);
        return NULL;
    }
    Plateau__V1__AuditEvent *ev = env->audit_event;
    /* A decision dated far from now is not one being taken now: an event from 1970, or from
     * next week, is refused rather than written into the evidence. */
    if (!pl_bus_msg_time_ok (msg, ev->at_ms)) {
        char why[160];
        snprintf (why, sizeof why, "at_ms %lld is too far from this receiver's clock", (long long) ev->at_ms);
        pl_metric_inc (self->events, "stale", 1);
        pl_bus_msg_nack (msg, PLATEAU__V1__NACK__CODE__STALE, why, 0);
        return NULL;
    }
    /* The emitting service is the sender's proven identity, not the field it filled in. */
    const char *sender = pl_bus_msg_sender (msg);
    if (sender && strcmp (ev->service, sender) != 0) {
        char *copy = strdup (sender);
        if (!copy) {
            s_unavailable (self, msg, "out of memory", self->retry_after_ms);
            return NULL;
        }
        if (ev->service && ev->service != protobuf_c_empty_string)
            free (ev->service);
        ev->service = copy;
    }
    return ev;
}

/* Stores one claimed event, or answers it. Adds its id to *stored (a duplicate of ours: its
 * claim can say stored) or *release (not written: another replica may take it). */
static void
s_append (audit_door_t *self, pl_bus_msg_t *msg, const Plateau__V1__AuditEvent *ev, int64_t now,
          const char **stored, size_t *n_stored, const char **release, size_t *n_release)
{
    int rc = pl_audit_store_append (self->store, ev, now, msg);
    if (rc != 0 && rc != PL_EEXIST && rc != PL_EBUSY)
        release[(*n_release)++] = ev->event_id;
    switch (rc) {
    case 0:
        pl_bus_msg_hold (msg);
        self->held++;
        break;
    case PL_EEXIST:
        stored[(*n_stored)++] = ev->event_id;
        pl_metric_inc (self->events, "duplicate", 1);
        pl_bus_msg_ack (msg);
        break;
    case PL_EBUSY:
        /* Its first copy is not durable yet and will be acked by on_commit; ask for this
         * copy again a little later, when it will be acked as a duplicate. */
        pl_metric_inc (self->events, "duplicate", 1);
        pl_bus_msg_nack (msg, PLATEAU__V1__NACK__CODE__UNAVAILABLE, "duplicate not yet durable", 100);
        break;
    case PL_EINVAL:
        pl_metric_inc (self->events, "invalid", 1);
        pl_bus_msg_nack (msg, PLATEAU__V1__NACK__CODE__INVALID, pl_audit_store_errstr (self->store), 0);
        break;
    case PL_ETOOBIG:
        pl_metric_inc (self->events, "too_large", 1);
        pl_bus_msg_nack (msg, PLATEAU__V1__NACK__CODE__TOO_LARGE, pl_audit_store_errstr (self->store), 0);
        break;
    case PL_ENOSPC:
        s_unavailable (self, msg, "audit disk full", self->retry_after_ms);
        if (!self->paused && self->server) {
            pl_bus_server_pause (self->server, true);
            self->paused = true;
            pl_log_warn (self->log, NULL, "disk full: acknowledgements stopped", "error",
                         pl_audit_store_errstr (self->store));
        }
        break;
    case PL_EAGAIN:
        s_unavailable (self, msg, "audit store busy", 100);
        break;
    default:
        s_unavailable (self, msg, pl_strerror (rc), self->retry_after_ms);
        break;
    }
}

void
audit_door_handle (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    audit_door_t *self = arg;
    int64_t now = pl_clock_now_ms (self->clock);
    /* One array for the events, their ids, the claims' answers and the ids to report back. */
    const Plateau__V1__AuditEvent **evs = calloc (n ? n : 1, sizeof *evs);
    const char **ids = calloc (3 * (n ? n : 1), sizeof *ids);
    audit_claim_t *claim = calloc (n ? n : 1, sizeof *claim);
    if (!evs || !ids || !claim) {
        for (size_t i = 0; i < n; i++)
            s_unavailable (self, msgs[i], "out of memory", self->retry_after_ms);
        free (evs);
        free (ids);
        free (claim);
        return;
    }
    const char **stored = ids + n, **release = ids + 2 * n;
    size_t n_stored = 0, n_release = 0;
    for (size_t i = 0; i < n; i++) {
        evs[i] = s_event (self, msgs[i]);
        ids[i] = evs[i] ? evs[i]->event_id : NULL;
    }
    if (self->claims && audit_claims_take (self->claims, ids, n, now, claim) != 0) {
        for (size_t i = 0; i < n; i++)
            if (evs[i])
                s_unavailable (self, msgs[i], "event id claims unavailable", self->retry_after_ms);
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!evs[i])
            continue;
        if (claim[i] == AUDIT_CLAIM_STORED) {
            pl_metric_inc (self->events, "duplicate", 1);
            pl_bus_msg_ack (msgs[i]);
        } else if (claim[i] == AUDIT_CLAIM_BUSY)
            s_unavailable (self, msgs[i], "being stored by another audit replica", self->retry_after_ms);
        else
            s_append (self, msgs[i], evs[i], now, stored, &n_stored, release, &n_release);
    }
    if (self->claims && ((n_stored && audit_claims_stored (self->claims, stored, NULL, n_stored))
                         || (n_release && audit_claims_release (self->claims, release, n_release))))
        pl_log_warn (self->log, NULL, "event id claims not updated", "error", "redis");
    free (evs);
    free (ids);
    free (claim);
}

void
audit_door_on_commit (void *arg, const pl_audit_committed_t *items, size_t n)
{
    audit_door_t *self = arg;
    /* Durable now: the ids' claims say so before the senders hear it. */
    if (self->claims && n) {
        const char **ids = calloc (n, sizeof *ids);
        uint64_t *seqs = calloc (n, sizeof *seqs);
        for (size_t i = 0; ids && seqs && i < n; i++) {
            ids[i] = items[i].event_id;
            seqs[i] = items[i].seq;
        }
        if (!ids || !seqs || audit_claims_stored (self->claims, ids, seqs, n) != 0)
            pl_log_warn (self->log, NULL, "event id claims not marked stored", "error", "redis");
        free (ids);
        free (seqs);
    }
    for (size_t i = 0; i < n; i++) {
        pl_bus_msg_t *msg = items[i].token;
        if (!msg)
            continue;
        pl_bus_server_answer (self->server, &msg, 0, NULL, 0);
        if (self->held)
            self->held--;
    }
    pl_metric_inc (self->events, "stored", (double) n);
}

void
audit_door_on_fsync (void *arg, double seconds)
{
    audit_door_t *self = arg;
    pl_metric_observe (self->fsync, NULL, seconds);
}

void
audit_door_tick (audit_door_t *self, int64_t now_ms, bool draining)
{
    pl_audit_store_stats_t st;
    pl_audit_store_stats (self->store, &st);
    pl_metric_set (self->chain_length, NULL, (double) st.next_seq);
    pl_metric_set (self->checkpoint_age, NULL,
                   st.last_checkpoint_ms > 0 ? (double) (now_ms - st.last_checkpoint_ms) / 1000.0 : 0);
    pl_metric_set (self->index_lag, NULL,
                   st.durable_next > st.indexed_next ? (double) (st.durable_next - st.indexed_next) : 0);
    pl_metric_set (self->disk_full, NULL, st.state == PL_ENOSPC ? 1 : 0);
    pl_metric_set (self->bytes, NULL, (double) st.bytes);
    pl_metric_set (self->held_g, NULL, (double) self->held);
    if (self->paused && st.state == 0) {
        self->paused = false;
        if (!draining && self->server)
            pl_bus_server_pause (self->server, false);
        pl_log_info (self->log, NULL, "disk has room again: acknowledgements resumed");
    }
}
