/*  grow.h — room for one more item in an array that doubles.
 *
 *  The audit modules keep many arrays that grow an item at a time (segments, batch items,
 *  query hits, chain names, retention rules, erasure subjects); this is the one way they grow.
 *  Internal to the audit modules (the pl__ prefix).
 */
#ifndef PL_AUDIT_GROW_H
#define PL_AUDIT_GROW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for item n in the array at *array_p (a T ** of *cap items of `size` bytes),
 * doubling its capacity, or making it `first` when the array is empty. false when memory runs
 * out; the array and *cap are then unchanged. */
static inline bool
pl__grow (void *array_p, size_t n, size_t *cap, size_t size, size_t first)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? 2 * *cap : first;
    void *v;
    memcpy (&v, array_p, sizeof v);
    if (!(v = realloc (v, c * size)))
        return false;
    memcpy (array_p, &v, sizeof v);
    *cap = c;
    return true;
}
#endif
