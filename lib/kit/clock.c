/*  clock.c — real and virtual clocks (see clock.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include "plateau/clock.h"
#include "plateau/error.h"

struct pl_clock {
    bool virtual_;
    _Atomic int64_t now_ms;        /* virtual clocks only: the standing time, or the base */
    /* A running virtual clock: now = now_ms + speed × (wall − anchor). The pair is read and
     * written under one lock-free sequence (seq odd while it changes). */
    _Atomic int64_t anchor_real_ms;     /* 0: standing */
    _Atomic int64_t speed;
    _Atomic uint64_t seq;
};

static int64_t
s_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The virtual time now: standing, or running from its anchor. */
static int64_t
s_virtual_now (const pl_clock_t *c)
{
    pl_clock_t *self = (pl_clock_t *) c;
    for (;;) {
        uint64_t s1 = atomic_load (&self->seq);
        if (s1 & 1)
            continue;
        int64_t base = atomic_load (&self->now_ms);
        int64_t anchor = atomic_load (&self->anchor_real_ms);
        int64_t speed = atomic_load (&self->speed);
        if (atomic_load (&self->seq) != s1)
            continue;
        if (!anchor)
            return base;
        int64_t wall = s_wall_ms ();
        return wall > anchor ? base + speed * (wall - anchor) : base;
    }
}

static pl_clock_t *
s_new (bool virtual_, int64_t start_ms)
{
    pl_clock_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->virtual_ = virtual_;
    atomic_store (&self->now_ms, start_ms);
    return self;
}

pl_clock_t *pl_clock_new_real (void) { return s_new (false, 0); }
pl_clock_t *pl_clock_new_virtual (int64_t start_ms) { return s_new (true, start_ms); }

void
pl_clock_destroy (pl_clock_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

bool pl_clock_is_virtual (const pl_clock_t *self) { return self && self->virtual_; }

int64_t
pl_clock_now_ms (const pl_clock_t *self)
{
    if (self && self->virtual_)
        return s_virtual_now (self);
    return s_wall_ms ();
}

bool
pl_clock_is_running (const pl_clock_t *self)
{
    return self && self->virtual_ && atomic_load (&((pl_clock_t *) self)->anchor_real_ms) != 0;
}

int
pl_clock_speed (const pl_clock_t *self)
{
    if (!pl_clock_is_running (self))
        return 1;
    return (int) atomic_load (&((pl_clock_t *) self)->speed);
}

/* Replaces base, anchor and speed together (writers are rare: a ClockControl, a set). */
static void
s_store (pl_clock_t *self, int64_t base, int64_t anchor, int64_t speed)
{
    atomic_fetch_add (&self->seq, 1);
    atomic_store (&self->now_ms, base);
    atomic_store (&self->anchor_real_ms, anchor);
    atomic_store (&self->speed, speed);
    atomic_fetch_add (&self->seq, 1);
}

int
pl_clock_run (pl_clock_t *self, int64_t set_ms, int64_t anchor_real_ms, int speed)
{
    if (!self || !self->virtual_ || anchor_real_ms <= 0 || speed < 1 || speed > 1000000)
        return PL_EINVAL;
    /* Never backwards: the new reading at this wall instant must not be behind the current. */
    int64_t wall = s_wall_ms ();
    int64_t next = wall > anchor_real_ms ? set_ms + (int64_t) speed * (wall - anchor_real_ms) : set_ms;
    if (next < s_virtual_now (self))
        return PL_EINVAL;
    s_store (self, set_ms, anchor_real_ms, speed);
    return 0;
}

int
pl_clock_set (pl_clock_t *self, int64_t ms)
{
    if (!self->virtual_)
        return PL_EINVAL;
    if (pl_clock_is_running (self)) {
        /* Jump a running clock: it goes on at its speed from ms, from this wall instant. */
        int64_t cur = s_virtual_now (self);
        if (ms < cur)
            return PL_EINVAL;
        s_store (self, ms, s_wall_ms (), atomic_load (&self->speed));
        return 0;
    }
    int64_t cur = atomic_load (&self->now_ms);
    while (ms > cur)
        if (atomic_compare_exchange_weak (&self->now_ms, &cur, ms))
            return 0;
    return ms == cur ? 0 : PL_EINVAL;      /* time never goes backwards */
}

int
pl_clock_advance (pl_clock_t *self, int64_t delta_ms)
{
    if (!self->virtual_ || delta_ms < 0)
        return PL_EINVAL;
    if (pl_clock_is_running (self))
        return pl_clock_set (self, s_virtual_now (self) + delta_ms);
    atomic_fetch_add (&self->now_ms, delta_ms);
    return 0;
}

int64_t
pl_clock_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
