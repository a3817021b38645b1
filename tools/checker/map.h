/*  map.h — a string-keyed hash map of int64 values (indexes into the checker's arrays).
 *
 *  Open addressing with linear probing; keys are copied. A zeroed ck_map_t is an empty map.
 */
#ifndef CK_MAP_H
#define CK_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char **keys;
    int64_t *vals;
    size_t cap, n;
} ck_map_t;

/* The value of key, or -1 when absent. */
int64_t ck_map_get (const ck_map_t *self, const char *key);
/* Sets key to val (val >= 0). 0, or -1 when out of memory. */
int ck_map_put (ck_map_t *self, const char *key, int64_t val);
void ck_map_clear (ck_map_t *self);

#endif
