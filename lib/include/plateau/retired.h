/*  retired.h — things replaced while another thread may still hold them, freed a while later.
 *
 *  A campaign definition replaced over the API is still in the hands of the thread judging a
 *  call with it; freeing it at once would pull it from under that thread. The owner keeps it
 *  here instead: each add first frees what was kept longer than keep_ms (a step lasts seconds at
 *  most), and destroy frees the rest. Not thread-safe: the owner's lock covers it.
 */
#ifndef PL_RETIRED_H
#define PL_RETIRED_H
#include <stddef.h>
#include <stdint.h>

typedef struct pl_retired pl_retired_t;
typedef void (pl_retired_free_fn) (void *item);

/* free_fn releases one item. NULL when out of memory. */
pl_retired_t *pl_retired_new (pl_retired_free_fn *free_fn, int64_t keep_ms);
/* Frees every item still kept, then the list. */
void pl_retired_destroy (pl_retired_t **self_p);
/* Frees the items kept longer than keep_ms (monotonic time), then keeps item. 0, or PL_ENOMEM
 * (item not taken: the caller still owns it). */
int pl_retired_add (pl_retired_t *self, void *item);
/* Items kept. */
size_t pl_retired_count (const pl_retired_t *self);

#endif
