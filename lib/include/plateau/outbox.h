/*  outbox.h — messages a service has promised to deliver.
 *
 *  A sender puts an envelope in its outbox (a Redis hash per owner and destination) before it
 *  touches the wire, and deletes it when the receiver acknowledges. After a crash the outbox is
 *  the list of what is still owed; the bus client loads it and sends it again. A whole batch is
 *  one HSET and an acknowledged batch one HDEL, so the cost per message is a fraction of a Redis
 *  round trip. Permanently refused messages move to a dead-letter hash with their reason.
 *
 *  Keys: pl:{ob:<owner>:<destination>}:msg and …:dead (with …:dead:at, when each died). The owner is the sending replica's stable
 *  identity (PLATEAU_REPLICA_ID; a StatefulSet pod name on Kubernetes), so that a restarted
 *  replica finds its own outbox.
 *
 *  The transactional part. A state change and the messages it causes are written by one atomic
 *  step (inbox.h), so the messages must live under the state's hash tag: each tag that ever held
 *  messages for this owner and destination has a slot, a Redis stream pl:{<tag>}:ob:<owner>:
 *  <destination> (entries: i = message id, t = type, e = envelope). Before its step, a writer
 *  bumps the tag's score in the registry, the sorted set pl:{ob:<owner>:<destination>}:slots, so
 *  that the bus client knows where to look; the client reads each slot from a cursor, sends what it
 *  finds and deletes (XDEL) each entry once acknowledged. After a restart the cursors start again
 *  from the beginning: whatever is still in a slot is still owed.
 *
 *  A pl_outbox_t only names keys once made, so one object may be shared by threads for
 *  pl_inbox_tx_emit(); its Redis calls belong to the thread that owns its connection.
 */
#ifndef PL_OUTBOX_H
#define PL_OUTBOX_H
#include <stddef.h>
#include <stdint.h>
#include "plateau/redis.h"

typedef struct pl_outbox pl_outbox_t;

/* One stored message: id, type name and encoded envelope; sid: its stream entry id when read from
 * a slot, NULL from the hash. */
typedef struct {
    char *id;
    char *type;
    uint8_t *data;
    size_t size;
    char *sid;
} pl_outbox_item_t;

/* Longest slot cursor or stream entry id ("1733312345678-12"), NUL included. */
#define PL_OUTBOX_SID_MAX 48

/* Returns a new outbox, or NULL. Borrows redis. */
pl_outbox_t *pl_outbox_new (pl_redis_t *redis, const char *owner, const char *destination);
void pl_outbox_destroy (pl_outbox_t **self_p);

/* Stores n messages in one step. 0 once durable in Redis; PL_EREDIS otherwise (nothing of the
 * batch may be assumed stored). */
int pl_outbox_put (pl_outbox_t *self, size_t n, const char *const *ids, const char *const *types,
                   const uint8_t *const *data, const size_t *sizes);
/* Deletes acknowledged messages in one step. */
int pl_outbox_ack (pl_outbox_t *self, size_t n, const char *const *ids);
/* Dead letters keep whole envelopes — phone numbers included — for an operator to read and
 * replay: each is kept PL_OUTBOX_DEAD_TTL_MS (or what pl_outbox_set_dead_ttl says) and then
 * purged, and a person's erasure deletes those that mention their number. */
#define PL_OUTBOX_DEAD_TTL_MS (7LL * 24 * 3600 * 1000)
void pl_outbox_set_dead_ttl (pl_outbox_t *self, int64_t ms);
/* Moves a message to the dead-letter hash with its reason. */
int pl_outbox_dead (pl_outbox_t *self, const char *id, const char *reason);
/* Deletes this outbox's dead letters older than the TTL (at most 1000 per call). Returns how
 * many, or PL_EREDIS. */
int pl_outbox_dead_purge (pl_outbox_t *self);
/* Deletes every dead letter in this Redis — of any owner and destination — whose envelope has
 * `number` in any of its text fields, nested messages included. *erased: how many. 0 or
 * PL_EREDIS (some may be deleted already; running it again is harmless). */
int pl_outbox_dead_erase (pl_redis_t *redis, const char *number, size_t *erased);
/* Everything still owed, for replay. *items is malloc'd; free with pl_outbox_items_free. */
int pl_outbox_load (pl_outbox_t *self, pl_outbox_item_t **items, size_t *n);
void pl_outbox_items_free (pl_outbox_item_t *items, size_t n);
/* Number of messages owed, or a negative code. */
long long pl_outbox_size (pl_outbox_t *self);
long long pl_outbox_dead_size (pl_outbox_t *self);

/* ---- slots: the transactional outbox ------------------------------------------------------- */

/* Writes the key of tag's slot, pl:{<tag>}:ob:<owner>:<destination>; returns its length (as
 * snprintf). And the registry's key. Thread-safe. */
int pl_outbox_slot_key (const pl_outbox_t *self, const char *tag, char *out, size_t size);
const char *pl_outbox_registry_key (const pl_outbox_t *self);
/* The registered tags and their scores (a counter bumped before each write). *tags is malloc'd,
 * each tag too; free with pl_outbox_slots_free. */
int pl_outbox_slots (pl_outbox_t *self, char ***tags, long long **scores, size_t *n);
void pl_outbox_slots_free (char **tags, long long *scores, size_t n);
/* Reads at most max messages of tag's slot after cursor ("0-0" from the start), advancing it. */
int pl_outbox_slot_read (pl_outbox_t *self, const char *tag, char cursor[PL_OUTBOX_SID_MAX],
                         size_t max, pl_outbox_item_t **items, size_t *n);
/* Deletes acknowledged entries of tag's slot in one step. */
int pl_outbox_slot_ack (pl_outbox_t *self, const char *tag, size_t n, const char *const *sids);
/* Moves a slot entry to the dead-letter hash with its reason (dead first, then deleted: a crash
 * between leaves it owed and it is refused again). */
int pl_outbox_slot_dead (pl_outbox_t *self, const char *tag, const pl_outbox_item_t *item,
                         const char *reason);
/* Forgets tag's slot if it is empty and its score is still `score` (no writer came since):
 * 1 when forgotten, 0 when kept, or a negative code. */
int pl_outbox_slot_forget (pl_outbox_t *self, const char *tag, long long score);
/* Messages owed in every slot (XLEN summed), or a negative code. */
long long pl_outbox_slots_size (pl_outbox_t *self);
const char *pl_outbox_key (const pl_outbox_t *self);
const char *pl_outbox_errstr (const pl_outbox_t *self);

#endif
