/*  outbox.h — messages a service has promised to deliver.
 *
 *  A sender puts an envelope in its outbox (a Redis hash per owner and destination) before it
 *  touches the wire, and deletes it when the receiver acknowledges. After a crash the outbox is
 *  the list of what is still owed; the bus client loads it and sends it again. A whole batch is
 *  one HSET and an acknowledged batch one HDEL, so the cost per message is a fraction of a Redis
 *  round trip. Permanently refused messages move to a dead-letter hash with their reason.
 *
 *  Keys: pl:{ob:<owner>:<destination>}:msg and …:dead. The owner is the sending replica's stable
 *  identity (PLATEAU_REPLICA_ID; a StatefulSet pod name on Kubernetes), so that a restarted
 *  replica finds its own outbox.
 */
#ifndef PL_OUTBOX_H
#define PL_OUTBOX_H
#include <stddef.h>
#include <stdint.h>
#include "plateau/redis.h"

typedef struct pl_outbox pl_outbox_t;

/* One stored message: id, type name and encoded envelope. */
typedef struct {
    char *id;
    char *type;
    uint8_t *data;
    size_t size;
} pl_outbox_item_t;

/* Returns a new outbox, or NULL. Borrows redis. */
pl_outbox_t *pl_outbox_new (pl_redis_t *redis, const char *owner, const char *destination);
void pl_outbox_destroy (pl_outbox_t **self_p);

/* Stores n messages in one step. 0 once durable in Redis; PL_EREDIS otherwise (nothing of the
 * batch may be assumed stored). */
int pl_outbox_put (pl_outbox_t *self, size_t n, const char *const *ids, const char *const *types,
                   const uint8_t *const *data, const size_t *sizes);
/* Deletes acknowledged messages in one step. */
int pl_outbox_ack (pl_outbox_t *self, size_t n, const char *const *ids);
/* Moves a message to the dead-letter hash with its reason. */
int pl_outbox_dead (pl_outbox_t *self, const char *id, const char *reason);
/* Everything still owed, for replay. *items is malloc'd; free with pl_outbox_items_free. */
int pl_outbox_load (pl_outbox_t *self, pl_outbox_item_t **items, size_t *n);
void pl_outbox_items_free (pl_outbox_item_t *items, size_t n);
/* Number of messages owed, or a negative code. */
long long pl_outbox_size (pl_outbox_t *self);
long long pl_outbox_dead_size (pl_outbox_t *self);
const char *pl_outbox_key (const pl_outbox_t *self);
const char *pl_outbox_errstr (const pl_outbox_t *self);

#endif
