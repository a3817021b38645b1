/*  claim.h — an event id is stored once across audit replicas: a claim per id in Redis.
 *
 *  Each replica dedupes its own chain (the store's recent ids and index), but a sender whose ack
 *  was lost retries, and its retry may reach another replica. Before storing an event, the door
 *  claims its id for its chain; the claim says what happened to the id everywhere:
 *
 *      absent                      nobody has it: claim it ("p <chain> <ms>") and store it
 *      "p <chain> <ms>" (pending)  a replica is storing it: ours -> store it (our store dedupes
 *                                  a redelivery); another's -> nack, retry later; another's for
 *                                  longer than orphan_ms (its replica never came back) -> take it
 *      "s <chain> <seq>" (stored)  durable on that chain: ack as a duplicate, store nothing
 *
 *  A claim becomes "stored" only after the record's batch was fdatasync'd, and is given up
 *  (compare-and-delete) when the event was refused or not written, so a crash between the claim
 *  and the write leaves a pending claim of the crashed replica: retries elsewhere wait for it
 *  to come back (the sender reaches every replica), and it then finds the id in its own store
 *  or stores it. See ADR 0028 for the crash analysis and the orphan case.
 *
 *  Keys: pl:{audit:<event id>}:claim, one per id (the hash tag spreads them over a cluster),
 *  kept keep_ms after the last change. Main thread only (it uses the service's connection).
 */
#ifndef AUDIT_CLAIM_H
#define AUDIT_CLAIM_H
#include <stddef.h>
#include <stdint.h>
#include "plateau/redis.h"

typedef struct audit_claims audit_claims_t;

typedef enum {
    AUDIT_CLAIM_MINE = 0,           /* store it (new, ours, or taken over from an orphan) */
    AUDIT_CLAIM_STORED = 1,         /* durable on some chain: ack, store nothing */
    AUDIT_CLAIM_BUSY = 2,           /* another replica is storing it: nack, retry later */
} audit_claim_t;

/* Claims for chain on redis (borrowed). NULL on allocation failure. */
audit_claims_t *audit_claims_new (pl_redis_t *redis, const char *chain, int64_t orphan_ms,
                                  int64_t keep_ms);
void audit_claims_destroy (audit_claims_t **self_p);

/* Claims ids[0..n) at now_ms in one round trip; out[i] answers for ids[i]. 0, or PL_EREDIS
 * (nothing is known: store nothing, nack for a retry). An empty id is MINE (the store refuses
 * it). */
int audit_claims_take (audit_claims_t *self, const char *const *ids, size_t n, int64_t now_ms,
                       audit_claim_t *out);
/* Marks ids as durable on this chain (seqs may be NULL: unknown). 0 or PL_EREDIS. */
int audit_claims_stored (audit_claims_t *self, const char *const *ids, const uint64_t *seqs,
                         size_t n);
/* Gives up this chain's pending claims of ids (others' claims are left alone). */
int audit_claims_release (audit_claims_t *self, const char *const *ids, size_t n);

#endif
