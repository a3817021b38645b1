/*  store.h — webhook state in Redis: subscriptions, chain cursors, per-lead queues, leases,
 *  dead letters.
 *
 *  Every key is pl:{notify}:<what>: one hash tag, so that one step can advance a chain's cursor
 *  and enqueue every delivery the records read cause (ADR 0064). Each state change is one kit
 *  step (pl_inbox_tx_new ("notify", NULL) with an effect of this module), so a SIGKILL at any
 *  point leaves either all of it or none.
 *
 *    cursor:<chain>          next seq of the audit chain to read
 *    lead:<lead>             hash source, external_id, campaign (from lead.accepted)
 *    acct:<tenant>|<ref>     the lead of an account (from promise.made), for payments
 *    wait:<lead>, waiting    events of a lead whose lead.accepted is not read yet, and when
 *    sub:<id>, subs:<source> a subscription (hash) and the ids of a source (set)
 *    q:<sub>:<lead>          FIFO of event ids to deliver to sub about lead (the order a lead's
 *                            events go out in), qs:<sub> the leads with a queue
 *    d:<sub>:<event>         one delivery: type, lead, at, data, attempts, last_status, last_error
 *    due:<sub>               the leads of sub, scored by when their head may be attempted; a
 *                            claimed head is leased (score = now + lease), lease names the
 *                            replica ("<sub>|<lead>" → replica)
 *    subdue                  the subscriptions, scored by their earliest due head: a claim reads
 *                            these first, so one endpoint's backlog never hides another's
 *                            (an earlier version's single `due` set is moved at start)
 *    dl:<sub>:<event>, dead:<sub>   dead letters (hash, and their ids in order)
 *    paused, pending         paused subscription ids; deliveries queued
 *
 *  One store per thread (it holds a pl_inbox_t on the thread's connection). Errors: 0 / a
 *  negative PL_E* code, detail in notify_store_errstr().
 */
#ifndef NOTIFY_STORE_H
#define NOTIFY_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "payload.h"
#include "plateau/redis.h"

#define NOTIFY_KEY_PREFIX "pl:{notify}:"
#define NOTIFY_TAG "notify"
/* Dead letters kept per subscription: beyond, the oldest is dropped. */
#define NOTIFY_DEAD_LETTERS_MAX 10000

typedef struct notify_store notify_store_t;

/* Borrows redis; replica names the leases this process takes. NULL on no memory. */
notify_store_t *notify_store_new (pl_redis_t *redis, const char *replica);
void notify_store_destroy (notify_store_t **self_p);
const char *notify_store_errstr (const notify_store_t *self);

/* ---- the audit follower -------------------------------------------------------------------- */

/* The seq to read chain from (0 when never read), or a negative PL_E* code. */
int64_t notify_store_cursor (notify_store_t *self, const char *chain);

typedef struct {
    long routed;                /* deliveries enqueued */
    long waiting;               /* events set aside until their lead.accepted is read */
    long dropped;               /* events with no lead to route by */
} notify_ingest_counts_t;

/* One step: the records' effects (lead identities, deliveries to every subscription of the
 * lead's source that takes the type and was created before the event) and the chain's cursor
 * moved from from_seq to next_seq — only if it is still at from_seq: a page another replica
 * applied first is not applied again (counts all 0). lead_ttl_s: how long a lead's identity
 * is kept after its last record. */
int notify_store_ingest (notify_store_t *self, const char *chain, int64_t from_seq, int64_t next_seq,
                         const notify_event_t *evs, size_t n, int64_t now_ms, int64_t lead_ttl_s,
                         notify_ingest_counts_t *counts);

/* Drops the events still waiting for their lead after max_wait_ms; *dropped gets how many. */
int notify_store_sweep_waiting (notify_store_t *self, int64_t now_ms, int64_t max_wait_ms,
                                long *dropped);

/* ---- deliveries ---------------------------------------------------------------------------- */

/* The heads due at now_ms ("<sub>|<lead>"), subscription by subscription in the order of their
 * earliest due head (at most max_subs of them), each with at most room (arg, sub) of its
 * oldest heads (none when room answers 0): a malloc'd array of malloc'd strings (*members, *n;
 * free with notify_store_strings_free). */
int notify_store_due (notify_store_t *self, int64_t now_ms, size_t max_subs,
                      int (*room) (void *arg, const char *sub), void *arg, char ***members, size_t *n);
void notify_store_strings_free (char **v, size_t n);

/* A claimed head: what to send. Free with notify_delivery_clear. */
typedef struct {
    char *sub, *lead, *audit_id;
    char *url, *secret, *type, *data, *source, *external_id, *campaign;
    int64_t at_ms;
    int attempts;               /* failed attempts so far */
} notify_delivery_t;
void notify_delivery_clear (notify_delivery_t *d);

/* Leases the given heads (those still due: another replica may have taken one) until
 * now_ms + lease_ms and loads each one's delivery into a malloc'd array (*out, *n_out; free
 * each with notify_delivery_clear, then the array). A paused subscription's heads wait for its
 * next probe, one head per probe_ms. */
int notify_store_claim (notify_store_t *self, char *const *members, size_t n, int64_t now_ms,
                        int64_t lease_ms, int64_t probe_ms, notify_delivery_t **out, size_t *n_out);

typedef enum { NOTIFY_DONE_DELIVERED, NOTIFY_DONE_RETRY, NOTIFY_DONE_DEAD } notify_done_t;

/* Records an attempt's end. DELIVERED: the next event of the lead is due now, the
 * subscription's failures reset (a paused one resumes). RETRY: due again at next_ms. DEAD: a
 * dead letter, and the next event is due. A failure counts toward pausing the subscription
 * after pause_after consecutive ones (probe after probe_ms). status 0 = no answer. *paused
 * (may be NULL) is set when this attempt paused it. */
int notify_store_done (notify_store_t *self, const notify_delivery_t *d, notify_done_t what,
                       int64_t now_ms, int64_t next_ms, int status, const char *error,
                       int pause_after, int64_t probe_ms, bool *paused);

/* Makes the heads this replica had leased due now (after a restart or at a drain). */
int notify_store_release (notify_store_t *self, int64_t now_ms);

/* Deliveries queued, and paused subscriptions; negative PL_E* code on failure. */
long notify_store_pending (notify_store_t *self);
long notify_store_paused (notify_store_t *self);

/* ---- subscriptions (the HTTP API) ---------------------------------------------------------- */

/* Creates a subscription for source: id (wh_<ULID>) into id_out. events: comma-separated
 * types or "*". PL_EBUSY when source already has max_per_source. */
int notify_store_sub_create (notify_store_t *self, const char *id, const char *source,
                             const char *url, const char *events, const char *secret,
                             const char *description, int64_t now_ms, int max_per_source);
/* One subscription of source as its API JSON object (a new jansson reference; secret left
 * out), NULL with *rc PL_ENOTFOUND (absent or another source's) or PL_EREDIS. */
struct json_t *notify_store_sub_json (notify_store_t *self, const char *source, const char *id, int *rc);
/* Every subscription of source: a JSON array, or NULL on a Redis failure. */
struct json_t *notify_store_sub_list (notify_store_t *self, const char *source);
/* Deletes a subscription of source with its queues and dead letters. 0 or PL_ENOTFOUND. */
int notify_store_sub_delete (notify_store_t *self, const char *source, const char *id);
/* The dead letters of a subscription of source (oldest first, at most max), JSON array. */
struct json_t *notify_store_dead_letters (notify_store_t *self, const char *source, const char *id,
                                          size_t max, int *rc);
/* Queues every dead letter again (at the end of its lead's queue) and resumes the
 * subscription. Returns how many (>= 0), or PL_ENOTFOUND / PL_EREDIS. */
long notify_store_replay (notify_store_t *self, const char *source, const char *id, int64_t now_ms);

#endif
