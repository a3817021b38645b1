/*  map.c — a string-keyed hash map of int64 values (see map.h). */
#include "map.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
s_hash (const char *s)
{
    uint64_t h = 1469598103934665603ULL;        /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char) *s) * 1099511628211ULL;
    return h;
}

int64_t
ck_map_get (const ck_map_t *self, const char *key)
{
    if (!self->cap || !key)
        return -1;
    for (size_t i = s_hash (key) & (self->cap - 1);; i = (i + 1) & (self->cap - 1)) {
        if (!self->keys[i])
            return -1;
        if (strcmp (self->keys[i], key) == 0)
            return self->vals[i];
    }
}

static int
s_grow (ck_map_t *self)
{
    size_t cap = self->cap ? self->cap * 2 : 64;
    char **keys = calloc (cap, sizeof *keys);
    int64_t *vals = calloc (cap, sizeof *vals);
    if (!keys || !vals) {
        free (keys);
        free (vals);
        return -1;
    }
    for (size_t j = 0; j < self->cap; j++) {
        if (!self->keys[j])
            continue;
        size_t i = s_hash (self->keys[j]) & (cap - 1);
        while (keys[i])
            i = (i + 1) & (cap - 1);
        keys[i] = self->keys[j];
        vals[i] = self->vals[j];
    }
    free (self->keys);
    free (self->vals);
    self->keys = keys;
    self->vals = vals;
    self->cap = cap;
    return 0;
}

int
ck_map_put (ck_map_t *self, const char *key, int64_t val)
{
    if ((self->n + 1) * 10 > self->cap * 7 && s_grow (self) != 0)
        return -1;
    size_t i = s_hash (key) & (self->cap - 1);
    for (; self->keys[i]; i = (i + 1) & (self->cap - 1))
        if (strcmp (self->keys[i], key) == 0) {
            self->vals[i] = val;
            return 0;
        }
    self->keys[i] = strdup (key);
    if (!self->keys[i])
        return -1;
    self->vals[i] = val;
    self->n++;
    return 0;
}

void
ck_map_clear (ck_map_t *self)
{
    for (size_t i = 0; i < self->cap; i++)
        free (self->keys[i]);
    free (self->keys);
    free (self->vals);
    memset (self, 0, sizeof *self);
}
