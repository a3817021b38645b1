/*  audit_store.h — the audit store: one replica's append-only, hash-chained, durable log.
 *
 *  The store turns AuditEvents into records (audit_record.h) of its chain, writes them to segment
 *  files (audit_segment.h) with group commit, signs checkpoints (checkpoint.h), fills the SQLite index
 *  (index.h) behind the writes, and performs erasure and retention. It is the part of the audit
 *  service that does not need the bus; the service drives it from its loop like this:
 *
 *      on message:   rc = pl_audit_store_append (store, ev, pl_clock_now_ms (clock), msg);
 *                    0          accepted: on_commit will name msg once it is durable
 *                    PL_EEXIST  a duplicate of a durable event: ack msg now
 *                    PL_EBUSY   a duplicate of an event not yet durable: its first copy will be
 *                               acked by on_commit; drop this one without acking
 *                    PL_ENOSPC, PL_EIO, PL_EAGAIN, PL_ECLOSED   not stored: do not ack (the
 *                               sender keeps the event and sends it again); PL_EAGAIN means
 *                               the disk or the index is behind: read less for a moment
 *                    PL_EINVAL, PL_ETOOBIG   malformed: nack for good, with errstr as reason
 *      on readable pl_audit_store_fd (store):   pl_audit_store_dispatch (store)
 *                    -> on_commit (arg, items, n) in the loop's thread: ack each item's token
 *      every second: pl_audit_store_tick (store, now_ms)   (time checkpoints, retries)
 *
 *  Persist, then acknowledge: on_commit fires only after the batch holding the events was
 *  written and fdatasync'd. A batch is flushed when its oldest event has waited
 *  commit_interval_ms (default 5 ms) or it reaches batch_max_bytes, so one fdatasync covers
 *  hundreds of events; when the disk is slower than the events, batches grow (up to
 *  pending_max_bytes, then appends return PL_EAGAIN). A sealer thread does the cryptography and
 *  chains the hashes, a writer thread does the I/O, an indexer thread fills SQLite.
 *
 *  Disk full: a batch whose write or fdatasync fails with ENOSPC (or would pass size_cap) is
 *  cut back to the last good offset, kept in memory with its seqs and hashes, and retried
 *  every retry_interval_ms (or at once on pl_audit_store_sync / tick). Meanwhile appends return
 *  PL_ENOSPC, so nothing new is acknowledged; when space returns the kept batch is written
 *  first, the chain continues unbroken and the held events are committed. A failure other than
 *  ENOSPC (EIO from fdatasync) is permanent: the page cache can no longer be trusted, the store
 *  reports PL_EIO and the service must restart so that recovery reads what is really on disk.
 *
 *  Crash: open recovers the last segment's torn tail (audit_segment.h), so every record whose
 *  on_commit fired is present and the chain verifies.
 *
 *  Idempotency: an event id is stored once. Recent ids live in memory (idset.h), older ones are
 *  found in the index, so redeliveries never add a record.
 *
 *  Files, under <dir>/<chain_id>/: seg-*.plaud, checkpoints.plck, index.sqlite (+ -wal, -shm).
 *
 *  Threads: append, dispatch, sync, tick, checkpoint, erase, expire and stats may be called from
 *  any thread, but on_commit runs in whichever thread calls dispatch (or sync), so a service
 *  calls them all from its loop thread.
 */
#ifndef PL_AUDIT_STORE_H
#define PL_AUDIT_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plateau/v1/audit.pb-c.h"
#include "plateau/audit_keys.h"
#include "plateau/audit_retention.h"

typedef struct pl_audit_store pl_audit_store_t;

/* One event made durable: its id, its seq in the chain, and the token given to append. */
typedef struct {
    const char *event_id;
    uint64_t seq;
    void *token;
} pl_audit_committed_t;

/* Called by dispatch with the events of one durable batch, in seq order. */
typedef void (pl_audit_commit_fn) (void *arg, const pl_audit_committed_t *items, size_t n);
/* Called by the writer thread after each fdatasync with its duration (for a histogram such as
 * plateau_audit_fsync_seconds). Must be thread-safe and quick. */
typedef void (pl_audit_fsync_fn) (void *arg, double seconds);

typedef struct {
    const char *dir;                    /* data root; the chain lives in dir/<chain_id>/ */
    const char *chain_id;               /* replica identity: [A-Za-z0-9._-]{1,64} */
    pl_audit_keys_t *keys;              /* borrowed: signing, pseudonym and data keys */
    const pl_audit_retention_t *retention;  /* borrowed; NULL keeps everything */
    pl_audit_commit_fn *on_commit;
    void *on_commit_arg;
    pl_audit_fsync_fn *on_fsync;
    void *on_fsync_arg;
    int commit_interval_ms;             /* group commit window; default 5 */
    size_t batch_max_bytes;             /* flush early at this size; default 4 MiB */
    size_t segment_max_bytes;           /* start a new segment past this; default 64 MiB */
    size_t pending_max_bytes;           /* appends beyond this wait (PL_EAGAIN); default 16 MiB */
    uint64_t checkpoint_every;          /* records between checkpoints; default 10000 */
    int64_t checkpoint_interval_ms;     /* record time between checkpoints; default 60 s */
    uint64_t size_cap_bytes;            /* segment bytes allowed; 0 = no cap (tests, quotas) */
    int retry_interval_ms;              /* retry after ENOSPC; default 1000 */
    size_t recent_ids;                  /* ids kept in memory for idempotency; default 256 Ki */
    uint64_t index_lag_max;             /* appends wait (PL_EAGAIN) while the index is this many
                                         * records behind; default 2 Mi (bounds the memory the
                                         * unindexed ids take in a long burst) */
    bool no_index;                      /* do not run the indexer (benchmarks of the raw log) */
} pl_audit_store_config_t;

/* Fills cfg with the defaults above (dir, chain_id and keys left NULL). */
void pl_audit_store_config_defaults (pl_audit_store_config_t *cfg);

/* A store for cfg (copied; keys and retention stay borrowed). No I/O yet. NULL on allocation
 * failure. */
pl_audit_store_t *pl_audit_store_new (const pl_audit_store_config_t *cfg);
/* Opens the chain: creates its directory, recovers a torn tail, loads checkpoints, opens or
 * rebuilds the index, starts the writer and indexer threads. 0, or PL_ECONFIG (bad chain id,
 * missing keys), PL_ECORRUPT (damage that is not a torn tail: nothing is cut; run verify),
 * PL_EIO, PL_ENOSPC. Detail in errstr. */
int pl_audit_store_open (pl_audit_store_t *self);
/* Flushes what is pending (one attempt), signs a last checkpoint, stops the threads, runs the
 * last on_commit callbacks, closes and frees *self_p; safe twice. */
void pl_audit_store_destroy (pl_audit_store_t **self_p);

/* Appends ev, accepted at now_ms (the store's clock; ev->at_ms stays the decision time).
 * token is handed back by on_commit. Return codes: see the top of this file. */
int pl_audit_store_append (pl_audit_store_t *self, const Plateau__V1__AuditEvent *ev,
                           int64_t now_ms, void *token);

/* A file descriptor that becomes readable when durable events wait for dispatch (an eventfd):
 * poll it in the service loop. */
int pl_audit_store_fd (pl_audit_store_t *self);
/* Runs on_commit for every durable batch not yet reported. Returns the number of events
 * reported. */
size_t pl_audit_store_dispatch (pl_audit_store_t *self);

/* Flushes now, waits until every event appended so far is durable, then dispatches. 0, or
 * PL_ENOSPC (after one more attempt; the events stay pending), PL_EIO. */
int pl_audit_store_sync (pl_audit_store_t *self);
/* Periodic work: a checkpoint when checkpoint_interval_ms of record time passed since the last
 * one, a prompt retry when writes are held by a full disk. Returns the store's state. */
int pl_audit_store_tick (pl_audit_store_t *self, int64_t now_ms);
/* Waits until the index holds every durable record (tests, erasure). 0, or the indexer's
 * error. */
int pl_audit_store_wait_indexed (pl_audit_store_t *self);

/* Appends an event of the audit's own (audit.export: a read of numbers in clear) from any thread
 * and returns once it is durable, so that what it records may then happen. *seq (may be NULL)
 * receives its seq. 0, PL_EEXIST when its id is already stored, or append's errors. */
int pl_audit_store_record (pl_audit_store_t *self, const Plateau__V1__AuditEvent *ev, int64_t now_ms,
                           uint64_t *seq);

/* Erases the readable personal data of the person with number e164: records the erasure as a
 * "person.erased" record (subject: the number's pseudonym, never the number; request_id as its
 * event id, or one derived from the chain and seq when NULL), waits for it to be durable, then
 * zeroes the sealed personal part of every earlier record of that pseudonym in the segments
 * and clears it in the index. Every hash is untouched, so the chain still verifies. Safe to
 * run again with the same request_id after a crash. *erased receives the number of records
 * cleared. */
int pl_audit_store_erase (pl_audit_store_t *self, const char *e164, int64_t now_ms,
                          const char *actor, const char *request_id, size_t *erased);

/* Removes the oldest whole segments whose every record has passed its retention at now_ms.
 * The expiry is recorded first as a "retention.expired" record naming the new anchor of the
 * chain (anchor_seq, anchor_hash), so verify accepts the shorter chain. *removed receives the
 * number of segments removed. */
int pl_audit_store_expire (pl_audit_store_t *self, int64_t now_ms, size_t *removed);

/* Changes the size cap (0 = none) and retries held writes at once. */
void pl_audit_store_set_size_cap (pl_audit_store_t *self, uint64_t bytes);

/* 0 while writing; PL_ENOSPC while held by a full disk; PL_EIO after a permanent failure. */
int pl_audit_store_state (pl_audit_store_t *self);

typedef struct {
    uint64_t next_seq;              /* seq the next record will get */
    uint64_t durable_next;          /* every seq below is durable */
    uint64_t indexed_next;          /* every seq below is in the index */
    uint64_t first_seq;             /* oldest seq still stored (the anchor after retention) */
    uint64_t appended, duplicates, rejected;
    uint64_t batches, fsyncs;
    uint64_t segments, bytes;
    uint64_t checkpoints;
    uint64_t last_checkpoint_seq;
    int64_t last_checkpoint_ms;     /* record time of the last checkpoint; 0 when none */
    uint64_t index_lookups;         /* ids the in-memory set could not vouch for */
    int state, index_state;
} pl_audit_store_stats_t;

void pl_audit_store_stats (pl_audit_store_t *self, pl_audit_store_stats_t *out);

/* Detail of the last failure. */
const char *pl_audit_store_errstr (pl_audit_store_t *self);

#endif
