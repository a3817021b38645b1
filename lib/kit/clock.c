/*  clock.c — real and virtual clocks (see clock.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include "plateau/clock.h"
#include "plateau/error.h"

struct pl_clock {
    bool virtual_;
    _Atomic int64_t now_ms;        /* virtual clocks only */
};

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
        return atomic_load (&((pl_clock_t *) self)->now_ms);
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
pl_clock_set (pl_clock_t *self, int64_t ms)
{
    if (!self->virtual_)
        return PL_EINVAL;
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
