/*  retired.c — things replaced while another thread may still hold them (see retired.h). */
#include "plateau/retired.h"

#include <stdlib.h>

#include "plateau/clock.h"
#include "plateau/error.h"

struct pl_retired {
    pl_retired_free_fn *free_fn;
    int64_t keep_ms;
    void **items;
    int64_t *at;                 /* monotonic ms each was kept from */
    size_t n, cap;
};

pl_retired_t *
pl_retired_new (pl_retired_free_fn *free_fn, int64_t keep_ms)
{
    pl_retired_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->free_fn = free_fn;
    self->keep_ms = keep_ms;
    return self;
}

void
pl_retired_destroy (pl_retired_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_retired_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        self->free_fn (self->items[i]);
    free (self->items);
    free (self->at);
    free (self);
    *self_p = NULL;
}

int
pl_retired_add (pl_retired_t *self, void *item)
{
    int64_t now = pl_clock_mono_ms ();
    size_t k = 0;
    for (size_t i = 0; i < self->n; i++) {
        if (now - self->at[i] > self->keep_ms)
            self->free_fn (self->items[i]);
        else {
            self->items[k] = self->items[i];
            self->at[k++] = self->at[i];
        }
    }
    self->n = k;
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 8;
        void **items = realloc (self->items, cap * sizeof *items);
        if (!items)
            return PL_ENOMEM;
        self->items = items;
        int64_t *at = realloc (self->at, cap * sizeof *at);
        if (!at)
            return PL_ENOMEM;
        self->at = at;
        self->cap = cap;
    }
    self->items[self->n] = item;
    self->at[self->n++] = now;
    return 0;
}

size_t
pl_retired_count (const pl_retired_t *self)
{
    return self ? self->n : 0;
}
