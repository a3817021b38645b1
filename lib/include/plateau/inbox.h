/*  inbox.h — apply a received message exactly once.
 *
 *  Transport is at-least-once: a message is resent until acknowledged, so a receiver sees some
 *  messages twice (a crash between applying and acking, a lost ack). The inbox makes the effect
 *  exactly-once: a transaction holds the Redis commands that are the message's effect, and
 *  pl_inbox_apply() runs them together with a "seen" marker for the message id in one Lua
 *  script — atomic on the server — unless the marker is already there. Only after that does the
 *  receiver acknowledge.
 *
 *  The marker is the field <message id> of the hash pl:{<tag>}:seen:<service>:d<day>, where <day>
 *  is the UTC day written in the message id (a ULID), so that every redelivery finds it; ids that
 *  are not ULIDs go to one of 64 hashed buckets. The hash shares the effect's hash tag, so the
 *  script runs on one Redis Cluster node, and expires one day after the inbox TTL (default 30
 *  days): longer than any sender keeps retrying.
 *
 *  Two cautions. Redis does not roll back a script that fails half-way, so commands must be
 *  well-formed and of the right key types (validate before). And a handler whose effect includes
 *  sending onward must, on a duplicate, send again with ids derived from the incoming id: the
 *  first attempt may have died between applying and handing its messages to the outbox, and the
 *  derived ids make the second sending harmless downstream.
 */
#ifndef PL_INBOX_H
#define PL_INBOX_H
#include <stddef.h>
#include <stdint.h>
#include "plateau/redis.h"

typedef struct pl_inbox pl_inbox_t;
typedef struct pl_inbox_tx pl_inbox_tx_t;

#define PL_INBOX_DEFAULT_TTL_MS (30LL * 24 * 3600 * 1000)

/* Borrows redis. ttl_ms <= 0 takes the default. */
pl_inbox_t *pl_inbox_new (pl_redis_t *redis, const char *service, int64_t ttl_ms);
void pl_inbox_destroy (pl_inbox_t **self_p);

/* A transaction for message_id whose effect lives under hash tag `tag` (e.g. "lead:01J…"). */
pl_inbox_tx_t *pl_inbox_tx_new (const char *tag, const char *message_id);
void pl_inbox_tx_destroy (pl_inbox_tx_t **self_p);
/* Adds one command (copied). argvlen may be NULL for C strings. */
int pl_inbox_tx_cmd (pl_inbox_tx_t *tx, int argc, const char *const *argv, const size_t *argvlen);
/* Convenience for commands of C strings: pl_inbox_tx_cmdl(tx, "HSET", key, "f", "v", NULL). */
int pl_inbox_tx_cmdl (pl_inbox_tx_t *tx, const char *arg0, ...) __attribute__ ((sentinel));

/* Applies n transactions in one pipeline. results[i] = 1 applied now, 0 already applied
 * before (duplicate). Returns 0, or PL_EREDIS when Redis failed (then any subset may have been
 * applied; redelivery is safe because each is idempotent). */
int pl_inbox_apply (pl_inbox_t *self, pl_inbox_tx_t *const *txs, size_t n, int *results);
/* Whether message_id under tag was applied: 1, 0, or PL_EREDIS. */
int pl_inbox_seen (pl_inbox_t *self, const char *tag, const char *message_id);
const char *pl_inbox_errstr (const pl_inbox_t *self);

#endif
