/*  idset.c — recent event ids: an open-addressing table plus a FIFO in seq order (see idset.h).
 *
 *  The table uses linear probing with backward-shift deletion (no tombstones), so lookups stay
 *  short however many ids come and go. The FIFO owns the id strings; table slots point at them.
 */
#include <stdlib.h>
#include <string.h>
#include "plateau/error.h"
#include "idset.h"

typedef struct {
    char *id;                   /* NULL: empty slot */
    uint64_t hash;
    uint64_t seq;
} s_slot_t;

typedef struct {
    char *id;
    uint64_t hash;
    uint64_t seq;
    int64_t at_ms;
} s_item_t;

struct pl_audit_idset {
    s_slot_t *slots;
    size_t mask;                /* slots - 1; slots is a power of two */
    size_t count;
    s_item_t *fifo;             /* ring in seq order */
    size_t fifo_cap, head, len;
    size_t capacity;
    int64_t mark;
};

static uint64_t
s_hash (const char *s)
{
    uint64_t h = 1469598103934665603ULL;           /* FNV-1a, then a final mix */
    for (; *s; s++)
        h = (h ^ (uint8_t) *s) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

pl_audit_idset_t *
pl_audit_idset_new (size_t capacity)
{
    pl_audit_idset_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = capacity ? capacity : 1;
    self->mask = 1023;
    self->slots = calloc (self->mask + 1, sizeof *self->slots);
    self->fifo_cap = 1024;
    self->fifo = malloc (self->fifo_cap * sizeof *self->fifo);
    self->mark = INT64_MIN;
    if (!self->slots || !self->fifo)
        pl_audit_idset_destroy (&self);
    return self;
}

void
pl_audit_idset_destroy (pl_audit_idset_t **self_p)
{
    if (self_p && *self_p) {
        pl_audit_idset_t *self = *self_p;
        for (size_t i = 0; self->fifo && i < self->len; i++)
            free (self->fifo[(self->head + i) % self->fifo_cap].id);
        free (self->fifo);
        free (self->slots);
        free (self);
        *self_p = NULL;
    }
}

static size_t
s_find (const pl_audit_idset_t *self, const char *id, uint64_t h)
{
    size_t i = h & self->mask;
    while (self->slots[i].id) {
        if (self->slots[i].hash == h && strcmp (self->slots[i].id, id) == 0)
            return i;
        i = (i + 1) & self->mask;
    }
    return i;                   /* the empty slot where id would go */
}

bool
pl_audit_idset_get (const pl_audit_idset_t *self, const char *id, uint64_t *seq)
{
    size_t i = s_find (self, id, s_hash (id));
    if (!self->slots[i].id)
        return false;
    if (seq)
        *seq = self->slots[i].seq;
    return true;
}

static int
s_grow_table (pl_audit_idset_t *self)
{
    size_t n = (self->mask + 1) * 2;
    s_slot_t *old = self->slots;
    size_t old_n = self->mask + 1;
    self->slots = calloc (n, sizeof *self->slots);
    if (!self->slots) {
        self->slots = old;
        return PL_ENOMEM;
    }
    self->mask = n - 1;
    for (size_t i = 0; i < old_n; i++)
        if (old[i].id) {
            size_t j = old[i].hash & self->mask;
            while (self->slots[j].id)
                j = (j + 1) & self->mask;
            self->slots[j] = old[i];
        }
    free (old);
    return 0;
}

static int
s_grow_fifo (pl_audit_idset_t *self)
{
    size_t n = self->fifo_cap * 2;
    s_item_t *f = malloc (n * sizeof *f);
    if (!f)
        return PL_ENOMEM;
    for (size_t i = 0; i < self->len; i++)
        f[i] = self->fifo[(self->head + i) % self->fifo_cap];
    free (self->fifo);
    self->fifo = f;
    self->fifo_cap = n;
    self->head = 0;
    return 0;
}

int
pl_audit_idset_put (pl_audit_idset_t *self, const char *id, uint64_t seq, int64_t at_ms)
{
    if (2 * (self->count + 1) > self->mask + 1 && s_grow_table (self) != 0)
        return PL_ENOMEM;
    if (self->len == self->fifo_cap && s_grow_fifo (self) != 0)
        return PL_ENOMEM;
    uint64_t h = s_hash (id);
    size_t i = s_find (self, id, h);
    if (self->slots[i].id) {
        self->slots[i].seq = seq;   /* already there: keep the first copy of the string */
        return 0;
    }
    char *copy = strdup (id);
    if (!copy)
        return PL_ENOMEM;
    self->slots[i] = (s_slot_t) {copy, h, seq};
    self->count++;
    self->fifo[(self->head + self->len) % self->fifo_cap] = (s_item_t) {copy, h, seq, at_ms};
    self->len++;
    return 0;
}

/* Removes the slot holding exactly this string, shifting followers back into the hole. */
static void
s_remove (pl_audit_idset_t *self, const char *id, uint64_t h)
{
    size_t i = h & self->mask;
    while (self->slots[i].id && self->slots[i].id != id)
        i = (i + 1) & self->mask;
    if (!self->slots[i].id)
        return;
    self->slots[i].id = NULL;
    self->count--;
    size_t j = i;
    for (;;) {
        j = (j + 1) & self->mask;
        if (!self->slots[j].id)
            break;
        size_t home = self->slots[j].hash & self->mask;
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            self->slots[i] = self->slots[j];
            self->slots[j].id = NULL;
            i = j;
        }
    }
}

void
pl_audit_idset_evict (pl_audit_idset_t *self, uint64_t below)
{
    while (self->len > self->capacity) {
        s_item_t *it = &self->fifo[self->head];
        if (it->seq >= below)
            break;
        s_remove (self, it->id, it->hash);
        if (it->at_ms > self->mark)
            self->mark = it->at_ms;
        free (it->id);
        self->head = (self->head + 1) % self->fifo_cap;
        self->len--;
    }
}

int64_t pl_audit_idset_evicted_mark (const pl_audit_idset_t *self) { return self->mark; }

void
pl_audit_idset_raise_mark (pl_audit_idset_t *self, int64_t at_ms)
{
    if (at_ms > self->mark)
        self->mark = at_ms;
}
