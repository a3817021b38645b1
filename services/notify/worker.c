/*  worker.c — timers and warnings of the notify service (see worker.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "worker.h"

#define S_TICK_MS 10

struct notify_worker {
    pl_service_t *svc;
    notify_follower_t *follower;
    notify_deliver_t *deliver;
    int poll_ms;
    int64_t next_poll;              /* mono ms */
    atomic_bool paused;
};

static int
s_follow (pl_loop_t *loop, void *arg)
{
    (void) loop;
    notify_worker_t *self = arg;
    if (pl_service_draining (self->svc) || pl_clock_mono_ms () < self->next_poll)
        return 0;
    /* A full page: read on at the next tick; caught up or failing: wait an interval. */
    int n = notify_follower_poll (self->follower);
    self->next_poll = pl_clock_mono_ms () + (n > 0 ? 0 : self->poll_ms);
    return 0;
}

static int
s_deliver (pl_loop_t *loop, void *arg)
{
    (void) loop;
    notify_worker_t *self = arg;
    notify_deliver_tick (self->deliver, pl_service_draining (self->svc));
    return 0;
}

static int
s_gauges (pl_loop_t *loop, void *arg)
{
    (void) loop;
    notify_worker_t *self = arg;
    atomic_store (&self->paused, notify_deliver_gauges (self->deliver));
    return 0;
}

static bool
s_audit_ok (void *arg, char *why, size_t size)
{
    notify_worker_t *self = arg;
    if (notify_follower_ok (self->follower))
        return true;
    snprintf (why, size, "the audit's export cannot be read: events wait in the audit");
    return false;
}

static bool
s_none_paused (void *arg, char *why, size_t size)
{
    notify_worker_t *self = arg;
    if (!atomic_load (&self->paused))
        return true;
    snprintf (why, size, "webhook subscriptions paused after failures (plateau_notify_subscriptions_paused)");
    return false;
}

notify_worker_t *
notify_worker_new (pl_service_t *svc, notify_follower_t *follower, notify_deliver_t *deliver, int poll_ms)
{
    notify_worker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->svc = svc;
    self->follower = follower;
    self->deliver = deliver;
    self->poll_ms = poll_ms;
    pl_loop_t *loop = pl_service_loop (svc);
    pl_ops_t *ops = pl_service_ops (svc);
    if (pl_loop_add_timer (loop, 20, s_follow, self) < 0 || pl_loop_add_timer (loop, S_TICK_MS, s_deliver, self) < 0
        || pl_loop_add_timer (loop, 1000, s_gauges, self) < 0
        || pl_ops_add_warning (ops, "audit", s_audit_ok, self) != 0
        || pl_ops_add_warning (ops, "webhooks", s_none_paused, self) != 0)
        notify_worker_destroy (&self);
    return self;
}

void
notify_worker_destroy (notify_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}
