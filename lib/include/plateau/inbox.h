/*  inbox.h — atomic steps: a state change, its seen marker and the messages it causes, at once.
 *
 *  Every state change of a plateau service is one step, run by one Lua script on the Redis node
 *  that holds its hash tag, so that it happens whole or not at all:
 *
 *    - its effect: plain commands (pl_inbox_tx_cmd) or a script of the service's own
 *      (pl_inbox_tx_effect) whose reply comes back to the caller (pl_inbox_tx_reply: the
 *      existing lead id, "already paid"…);
 *    - for a received bus message, its seen marker: the step runs only if the message id was not
 *      applied before; on a redelivery nothing runs again and the reply of the first application
 *      comes back instead. This is the one exactly-once scheme of plateau;
 *    - the messages the change causes (pl_inbox_tx_emit), written into the transactional outbox
 *      under the same hash tag (see outbox.h). The bus client of the destination finds and
 *      delivers them; nothing is sent unless the change happened, nothing is lost if it did.
 *
 *  Any thread may run steps (one pl_inbox_t per thread, on that thread's Redis connection); the
 *  bus client that delivers the emitted messages belongs to the thread that polls it.
 *
 *  The marker is the field <message id> of the hash pl:{<tag>}:seen:<service>:d<day>, where <day>
 *  is the UTC day written in the message id (a ULID), so that every redelivery finds it; ids that
 *  are not ULIDs go to one of 64 hashed buckets. Its value is the effect's reply. The hash shares
 *  the effect's hash tag, so the script runs on one Redis Cluster node, and expires one day after
 *  the inbox TTL (default 30 days): longer than any sender keeps retrying.
 *
 *  Redis does not roll back a script that fails half-way: commands must be well-formed and of the
 *  right key types (validate before). A failing step keeps its marker and whatever its effect did
 *  before the failure, and emits nothing; the failure is reported.
 */
#ifndef PL_INBOX_H
#define PL_INBOX_H
#include <stddef.h>
#include <stdint.h>
#include "plateau/envelope.h"
#include "plateau/outbox.h"
#include "plateau/redis.h"

typedef struct pl_inbox pl_inbox_t;
typedef struct pl_inbox_tx pl_inbox_tx_t;

#define PL_INBOX_DEFAULT_TTL_MS (30LL * 24 * 3600 * 1000)

/* A service's own effect, written as the body of a Lua function of (K, A) — its keys and
 * arguments as given to pl_inbox_tx_effect — that returns its reply (a string, or nil) and,
 * optionally, false when the step's messages must not be emitted ("duplicate: nothing to send"),
 * or 'again' when the effect wrote nothing and the step must be able to run again: a lost
 * compare-and-set that the caller will retry after reading afresh. 'again' emits nothing and
 * leaves no seen marker (a marker would answer the retry, with the same message id, as a
 * duplicate of a step that never happened).
 * Declare one as a static constant; inboxes load it on first use. */
typedef struct {
    const char *name;          /* for error messages: "intake.store_lead" */
    const char *lua;           /* the function's body */
} pl_inbox_effect_t;

/* service names the seen markers. Borrows redis. ttl_ms <= 0 takes the default. */
pl_inbox_t *pl_inbox_new (pl_redis_t *redis, const char *service, int64_t ttl_ms);
void pl_inbox_destroy (pl_inbox_t **self_p);

/* A step under hash tag `tag` (e.g. "camp:spring"). message_id: the received message it applies
 * (seen marker), or NULL for a step of the service's own (an HTTP request, a timer). */
pl_inbox_tx_t *pl_inbox_tx_new (const char *tag, const char *message_id);
void pl_inbox_tx_destroy (pl_inbox_tx_t **self_p);
/* Adds one command (copied). argvlen may be NULL for C strings. Its key (argv[1]) must carry
 * the step's hash tag: PL_EINVAL otherwise (a cluster would refuse the step). */
int pl_inbox_tx_cmd (pl_inbox_tx_t *tx, int argc, const char *const *argv, const size_t *argvlen);
/* Convenience for commands of C strings: pl_inbox_tx_cmdl(tx, "HSET", key, "f", "v", NULL). */
int pl_inbox_tx_cmdl (pl_inbox_tx_t *tx, const char *arg0, ...) __attribute__ ((sentinel));
/* Makes the step's effect a call of `effect` (instead of commands) with keys and args (copied;
 * lens may be NULL for C strings). Keys must carry the step's hash tag: PL_EINVAL otherwise. */
int pl_inbox_tx_effect (pl_inbox_tx_t *tx, const pl_inbox_effect_t *effect, int nkeys,
                        const char *const *keys, int nargs, const char *const *args,
                        const size_t *lens);
/* Adds a message the step causes, for the destination of `outbox` (packed now: env may be freed
 * afterwards; env->type is set from its body). Written only if the effect happens. Borrows
 * outbox until the step is applied; a step emits to at most 8 outboxes (PL_EINVAL beyond). */
int pl_inbox_tx_emit (pl_inbox_tx_t *tx, const pl_outbox_t *outbox, pl_envelope_t *env);
/* Adds a command to send just before the step, in the same pipeline, for a key of ANOTHER hash
 * tag that the step's result needs in place first (an id → campaign index, say). It is not part
 * of the atomic step: it runs even if the step then finds a duplicate, and a crash may leave it
 * without the step — write only what is harmless alone. A failing one fails pl_inbox_apply. */
int pl_inbox_tx_before (pl_inbox_tx_t *tx, int argc, const char *const *argv, const size_t *argvlen);
/* After pl_inbox_apply: the effect's reply (the first application's on a duplicate), "" if
 * none, or the error of a failed step. Owned by tx. */
const char *pl_inbox_tx_reply (const pl_inbox_tx_t *tx, size_t *len);

/* Runs n steps in one pipeline, in order (one script call per run of steps of one tag and
 * effect). results[i] = 1 applied now, 0 already applied before (duplicate: nothing ran), -1
 * failed (its reply says why). Returns 0 when every step ran or was a duplicate; PL_EREDIS when
 * Redis failed or a step failed (then any subset may have been applied: a retry is safe for
 * steps with a message id, and the caller must not acknowledge the others as done). */
int pl_inbox_apply (pl_inbox_t *self, pl_inbox_tx_t *const *txs, size_t n, int *results);
/* pl_inbox_apply in two halves, so that a caller can prepare its next batch while Redis runs
 * this one: send queues and writes the steps (0, or a negative code: nothing sent); recv reads
 * their replies, with the same txs, and answers as pl_inbox_apply. One sending at a time per
 * inbox; nothing else may use the connection in between. */
int pl_inbox_send (pl_inbox_t *self, pl_inbox_tx_t *const *txs, size_t n);
int pl_inbox_recv (pl_inbox_t *self, pl_inbox_tx_t *const *txs, size_t n, int *results);
/* Whether message_id under tag was applied: 1, 0, or PL_EREDIS. */
int pl_inbox_seen (pl_inbox_t *self, const char *tag, const char *message_id);
const char *pl_inbox_errstr (const pl_inbox_t *self);

#endif
