/*  idset.h — the event ids the store has seen recently, for idempotent appends.
 *
 *  An event id is stored once, whatever the redeliveries. The index holds every id ever
 *  stored (a unique SQLite index), but asking SQLite for each of 100,000 events a second would
 *  cost a core; and the index lags the segments. So the store keeps the ids of its latest
 *  records here, in insertion (= seq) order, and asks the index only about events this set
 *  cannot vouch for.
 *
 *  Which events are those? A redelivery is the same message, so it carries the same at_ms as
 *  the original. The set remembers the largest at_ms it ever evicted: an event whose at_ms is
 *  above it cannot be an evicted id, and a miss in the set proves it new. Only events at or
 *  below that mark (late redeliveries, skewed clocks) cost an index lookup. Ids are evicted
 *  only once indexed, so set + index always cover every stored record.
 */
#ifndef PL_AUDIT_IDSET_H
#define PL_AUDIT_IDSET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pl_audit_idset pl_audit_idset_t;

/* A set that keeps at least `capacity` ids before evicting. NULL on allocation failure. */
pl_audit_idset_t *pl_audit_idset_new (size_t capacity);
void pl_audit_idset_destroy (pl_audit_idset_t **self_p);

/* True when id is in the set; *seq receives the seq it was stored under. */
bool pl_audit_idset_get (const pl_audit_idset_t *self, const char *id, uint64_t *seq);
/* Adds id (copied). Ids must come in increasing seq order. 0 or PL_ENOMEM. */
int pl_audit_idset_put (pl_audit_idset_t *self, const char *id, uint64_t seq, int64_t at_ms);
/* Evicts the oldest ids while more than capacity are held, never one with seq >= below
 * (not yet indexed). */
void pl_audit_idset_evict (pl_audit_idset_t *self, uint64_t below);
/* Largest at_ms among evicted ids; INT64_MIN when none. Callers may raise it to account for
 * ids they never put in the set (those already in the index at open). */
int64_t pl_audit_idset_evicted_mark (const pl_audit_idset_t *self);
void pl_audit_idset_raise_mark (pl_audit_idset_t *self, int64_t at_ms);

#endif
