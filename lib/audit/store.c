/*  store.c — the audit store: appends, group commit, checkpoints, indexing, erasure, retention.
 *
 *  Four threads meet here. The caller's thread appends: it checks the event id, assigns the seq
 *  and prepares the record's frame (validation, serialisation) in the pending batch. The sealer
 *  thread takes the pending batch when its window closes and completes each frame in seq order
 *  (pseudonym, sealed personal part, digest, link to the previous hash, hash) — the chain's
 *  order is the append order. The writer thread writes what the sealer hands it with one pwrite
 *  and one fdatasync and puts it on the completion list, which dispatch turns into on_commit
 *  calls in the caller's thread. The indexer thread follows the durable end of the segments and
 *  copies records into SQLite, at a lower priority than the rest.
 *
 *  Locks: `mu` guards the chain head, the batches, the segment list and the counters; the
 *  sealer and the writer hold it only to take and hand over batches, never while hashing or
 *  doing I/O. `index_mu` guards the index's write connection (indexer, erasure, retention).
 *  `maint_mu` serialises erasure and retention. `ckpt_mu` guards the checkpoint file. Order:
 *  maint_mu, index_mu, mu; ckpt_mu is never held with another.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "plateau/audit_emit.h"
#include "plateau/error.h"
#include "grow.h"
#include "checkpoint.h"
#include "idset.h"
#include "index.h"
#include "encode.h"
#include "plateau/audit_record.h"
#include "plateau/audit_segment.h"
#include "plateau/audit_store.h"

static char s_internal_token;                   /* token of the store's own records */
#define S_INTERNAL ((void *) &s_internal_token)
#define S_INDEX_CHUNK 32768                     /* rows per index transaction */

typedef struct {
    uint64_t seq;
    void *token;
    size_t id_off;                              /* into the batch's ids buffer */
    pl_audit_prep_t prep;                       /* what the sealer completes */
} s_item_t;

typedef struct s_batch {
    struct s_batch *next;
    pl__wbuf_t frames;
    pl__wbuf_t ids;
    s_item_t *items;
    size_t n, cap;
    uint64_t first_seq, last_seq;
    uint8_t last_hash[PL_AUDIT_HASH_LEN];
    int64_t first_written_ms, last_written_ms;
} s_batch_t;

typedef struct {
    uint64_t first_seq;
    uint64_t size;                              /* durable bytes */
} s_seg_t;

struct pl_audit_store {
    pl_audit_store_config_t cfg;
    char *root, *dir;
    char chain[PL_AUDIT_CHAIN_MAX + 1];
    char errstr[512];                           /* the caller's thread only */
    char werr[512], ierr[512];                  /* writer's and indexer's last failure, under mu */

    pthread_mutex_t mu, index_mu, maint_mu, ckpt_mu, dispatch_mu;
    pthread_cond_t writer_cv, done_cv, index_cv;
    bool opened, stop;
    pthread_t writer_th, indexer_th;
    bool writer_started, indexer_started;

    /* Appends go to `pending` (prepared, not sealed); the sealer thread seals them in seq order
     * into `ready`; the writer writes `ready`. */
    uint64_t next_seq;
    uint8_t head_hash[PL_AUDIT_HASH_LEN];       /* the sealer's: hash of the last sealed record */
    s_batch_t *pending, *ready, *free_batches;
    size_t ready_bytes;
    int64_t pending_since_ns;
    bool flush_now;
    pthread_t sealer_th;
    bool sealer_started, sealer_done;
    pthread_cond_t sealer_cv;
    pl_audit_codec_t *scodec;                   /* the sealer's */

    /* Writer. */
    int state;
    s_batch_t *held;                            /* written in vain: waits for space */
    uint64_t retry_req, retry_done;
    int64_t next_retry_ns;
    uint64_t durable_next;
    uint8_t durable_hash[PL_AUDIT_HASH_LEN];
    int64_t durable_written_ms;
    s_batch_t *done_head, *done_tail;
    int efd;
    s_seg_t *segs;
    size_t n_segs, cap_segs;
    int active_fd;                              /* writer only */
    uint64_t active_size;                       /* writer only (mirrored in segs) */
    uint64_t total_bytes;
    uint64_t size_cap;

    /* Checkpoints. */
    int ckpt_fd;
    bool ckpt_any;
    uint64_t ckpt_seq, ckpt_count;
    int64_t ckpt_ms;

    /* Idempotency. */
    pl_audit_idset_t *ids;
    pl_audit_index_t *lookup;                   /* read connection, used under mu */

    /* Indexer. */
    pl_audit_index_t *index;                    /* write connection, under index_mu */
    uint64_t indexed_next;
    int index_state;
    int64_t index_retry_ns;
    uint64_t index_started, index_rounds;       /* indexing attempts begun and finished */
    uint64_t ipos_seg, ipos_off, ipos_seq;      /* where the indexer stopped */
    bool ipos_valid;
    char index_err[512];

    pl_audit_codec_t *codec, *icodec;
    pl_audit_committed_t *dbuf;
    size_t dbuf_cap;

    uint64_t appended, duplicates, rejected, batches, fsyncs, lookups;
};

static int64_t
s_mono_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Waits on cv until the monotonic deadline (ns). */
static void
s_wait_until (pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ns)
{
    struct timespec ts = {deadline_ns / 1000000000, deadline_ns % 1000000000};
    pthread_cond_timedwait (cv, mu, &ts);
}

static int
s_errno_code (int e)
{
    return e == ENOSPC || e == EDQUOT || e == EFBIG ? PL_ENOSPC : PL_EIO;
}

static int
s_fail (pl_audit_store_t *self, int rc, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static int
s_fail (pl_audit_store_t *self, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->errstr, sizeof self->errstr, fmt, ap);
    va_end (ap);
    return rc;
}

static void
s_seg_path (const pl_audit_store_t *self, uint64_t first_seq, char *out, size_t size)
{
    char name[PL_AUDIT_SEG_NAME_MAX];
    pl_audit_seg_name (first_seq, name);
    snprintf (out, size, "%s/%s", self->dir, name);
}

/* ---------------------------------------------------------------------------------------- */
/* Batches                                                                                  */

static s_batch_t *
s_batch_get (pl_audit_store_t *self)
{
    s_batch_t *b = self->free_batches;
    if (b) {
        self->free_batches = b->next;
        b->next = NULL;
        return b;
    }
    return calloc (1, sizeof *b);
}

static void
s_batch_reset (s_batch_t *b)
{
    b->frames.len = 0;
    b->frames.err = false;
    b->ids.len = 0;
    b->ids.err = false;
    b->n = 0;
    b->next = NULL;
}

static void
s_batch_free (s_batch_t *b)
{
    if (b) {
        pl__wbuf_free (&b->frames);
        pl__wbuf_free (&b->ids);
        free (b->items);
        free (b);
    }
}

static void
s_batch_free_list (s_batch_t *b)
{
    while (b) {
        s_batch_t *next = b->next;
        s_batch_free (b);
        b = next;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Config, new, destroy                                                                     */

void
pl_audit_store_config_defaults (pl_audit_store_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    cfg->commit_interval_ms = 5;
    cfg->batch_max_bytes = 4u << 20;
    cfg->segment_max_bytes = 64u << 20;
    cfg->pending_max_bytes = 16u << 20;
    cfg->checkpoint_every = 10000;
    cfg->checkpoint_interval_ms = 60000;
    cfg->retry_interval_ms = 1000;
    cfg->recent_ids = 1u << 18;
    cfg->index_lag_max = 1u << 21;
}

pl_audit_store_t *
pl_audit_store_new (const pl_audit_store_config_t *cfg)
{
    pl_audit_store_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    if (self->cfg.batch_max_bytes < 64 * 1024)
        self->cfg.batch_max_bytes = 64 * 1024;
    if (self->cfg.pending_max_bytes < self->cfg.batch_max_bytes)
        self->cfg.pending_max_bytes = self->cfg.batch_max_bytes;
    if (self->cfg.segment_max_bytes < 4096)
        self->cfg.segment_max_bytes = 4096;
    if (self->cfg.commit_interval_ms < 0)
        self->cfg.commit_interval_ms = 0;
    if (self->cfg.retry_interval_ms <= 0)
        self->cfg.retry_interval_ms = 1000;
    if (!self->cfg.checkpoint_every)
        self->cfg.checkpoint_every = 10000;
    if (!self->cfg.index_lag_max)
        self->cfg.index_lag_max = 1u << 21;
    if (self->cfg.checkpoint_interval_ms <= 0)
        self->cfg.checkpoint_interval_ms = 60000;
    self->size_cap = cfg->size_cap_bytes;
    self->root = strdup (cfg->dir ? cfg->dir : "");
    snprintf (self->chain, sizeof self->chain, "%s", cfg->chain_id ? cfg->chain_id : "");
    self->cfg.dir = self->root;
    self->cfg.chain_id = self->chain;
    size_t dlen = strlen (self->root) + strlen (self->chain) + 2;
    self->dir = malloc (dlen);
    if (self->dir)
        snprintf (self->dir, dlen, "%s/%s", self->root, self->chain);
    self->efd = -1;
    self->active_fd = -1;
    self->ckpt_fd = -1;
    pthread_mutex_init (&self->mu, NULL);
    pthread_mutex_init (&self->index_mu, NULL);
    pthread_mutex_init (&self->maint_mu, NULL);
    pthread_mutex_init (&self->ckpt_mu, NULL);
    pthread_mutex_init (&self->dispatch_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init (&ca);
    pthread_condattr_setclock (&ca, CLOCK_MONOTONIC);
    pthread_cond_init (&self->writer_cv, &ca);
    pthread_cond_init (&self->sealer_cv, &ca);
    pthread_cond_init (&self->done_cv, &ca);
    pthread_cond_init (&self->index_cv, &ca);
    pthread_condattr_destroy (&ca);
    self->codec = pl_audit_codec_new ();
    self->icodec = pl_audit_codec_new ();
    self->scodec = pl_audit_codec_new ();
    self->ids = pl_audit_idset_new (self->cfg.recent_ids ? self->cfg.recent_ids : 1);
    if (!self->root || !self->dir || !self->codec || !self->icodec || !self->scodec || !self->ids) {
        pl_audit_store_destroy (&self);
        return NULL;
    }
    return self;
}


const char *
pl_audit_store_errstr (pl_audit_store_t *self)
{
    return self->errstr;
}

int
pl_audit_store_fd (pl_audit_store_t *self)
{
    return self->efd;
}

int
pl_audit_store_state (pl_audit_store_t *self)
{
    pthread_mutex_lock (&self->mu);
    int s = self->state;
    pthread_mutex_unlock (&self->mu);
    return s;
}

static void s_checkpoint (pl_audit_store_t *self, bool force);

void
pl_audit_store_destroy (pl_audit_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_audit_store_t *self = *self_p;
    if (self->opened) {
        pl_audit_store_sync (self);
        s_checkpoint (self, true);
    }
    pthread_mutex_lock (&self->mu);
    self->stop = true;
    pthread_cond_broadcast (&self->sealer_cv);
    pthread_cond_broadcast (&self->writer_cv);
    pthread_cond_broadcast (&self->index_cv);
    pthread_cond_broadcast (&self->done_cv);
    pthread_mutex_unlock (&self->mu);
    if (self->sealer_started)
        pthread_join (self->sealer_th, NULL);
    if (self->writer_started)
        pthread_join (self->writer_th, NULL);
    if (self->indexer_started)
        pthread_join (self->indexer_th, NULL);
    if (self->opened)
        pl_audit_store_dispatch (self);
    s_batch_free (self->pending);
    s_batch_free (self->ready);
    s_batch_free (self->held);
    s_batch_free_list (self->done_head);
    s_batch_free_list (self->free_batches);
    if (self->active_fd >= 0)
        close (self->active_fd);
    if (self->ckpt_fd >= 0)
        close (self->ckpt_fd);
    if (self->efd >= 0)
        close (self->efd);
    pl_audit_index_destroy (&self->index);
    pl_audit_index_destroy (&self->lookup);
    pl_audit_idset_destroy (&self->ids);
    pl_audit_codec_destroy (&self->codec);
    pl_audit_codec_destroy (&self->icodec);
    pl_audit_codec_destroy (&self->scodec);
    pthread_mutex_destroy (&self->mu);
    pthread_mutex_destroy (&self->index_mu);
    pthread_mutex_destroy (&self->maint_mu);
    pthread_mutex_destroy (&self->ckpt_mu);
    pthread_mutex_destroy (&self->dispatch_mu);
    pthread_cond_destroy (&self->writer_cv);
    pthread_cond_destroy (&self->sealer_cv);
    pthread_cond_destroy (&self->done_cv);
    pthread_cond_destroy (&self->index_cv);
    free (self->segs);
    free (self->dbuf);
    free (self->root);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Writer                                                                                   */

static int
s_pwrite_all (int fd, const struct iovec *iov, int iovcnt, uint64_t off)
{
    struct iovec v[4];
    memcpy (v, iov, (size_t) iovcnt * sizeof *v);
    int i = 0;
    while (i < iovcnt) {
        ssize_t w = pwritev (fd, v + i, iovcnt - i, (off_t) off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        if (w == 0)
            return ENOSPC;
        off += (uint64_t) w;
        size_t left = (size_t) w;
        while (i < iovcnt && left >= v[i].iov_len) {
            left -= v[i].iov_len;
            i++;
        }
        if (i < iovcnt) {
            v[i].iov_base = (uint8_t *) v[i].iov_base + left;
            v[i].iov_len -= left;
        }
    }
    return 0;
}

static int
s_segs_push (pl_audit_store_t *self, uint64_t first_seq, uint64_t size)
{
    if (!pl__grow (&self->segs, self->n_segs, &self->cap_segs, sizeof *self->segs, 16))
        return PL_ENOMEM;
    self->segs[self->n_segs++] = (s_seg_t) {first_seq, size};
    return 0;
}

/* Writes b to the active segment, or to a new one when the active one is full: one write, one
 * fdatasync. On failure nothing of b remains in any file. Runs in the writer thread. */
static int
s_wfail (char *err, int rc, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static int
s_wfail (char *err, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, 512, fmt, ap);
    va_end (ap);
    return rc;
}

static int
s_write_batch (pl_audit_store_t *self, s_batch_t *b, uint64_t cap, double *fsync_s, char *err)
{
    size_t len = b->frames.len;
    bool rotate = self->active_fd < 0
               || (self->active_size > PL_AUDIT_SEG_HEADER
                   && self->active_size + len > self->cfg.segment_max_bytes);
    uint64_t need = len + (rotate ? PL_AUDIT_SEG_HEADER : 0);
    pthread_mutex_lock (&self->mu);
    uint64_t total = self->total_bytes;
    pthread_mutex_unlock (&self->mu);
    if (cap && total + need > cap)
        return s_wfail (err, PL_ENOSPC, "size cap of %" PRIu64 " bytes reached", cap);

    int64_t t0;
    if (rotate) {
        char path[4096];
        s_seg_path (self, b->first_seq, path, sizeof path);
        int fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd < 0)
            return s_wfail (err, s_errno_code (errno), "%s: %s", path, strerror (errno));
        pl_audit_seg_header_t h = {.first_seq = b->first_seq, .created_ms = b->first_written_ms};
        memcpy (h.prev_hash, self->durable_hash, PL_AUDIT_HASH_LEN);
        snprintf (h.chain_id, sizeof h.chain_id, "%s", self->chain);
        uint8_t hb[PL_AUDIT_SEG_HEADER];
        pl_audit_seg_header_encode (&h, hb);
        struct iovec iov[2] = {{hb, sizeof hb}, {b->frames.p, len}};
        int e = s_pwrite_all (fd, iov, 2, 0);
        t0 = s_mono_ns ();
        if (!e && fdatasync (fd) != 0)
            e = errno;
        *fsync_s = (double) (s_mono_ns () - t0) / 1e9;
        if (!e && pl_audit_fsync_dir (self->dir) != 0)
            e = EIO;
        if (e) {
            close (fd);
            unlink (path);
            return s_wfail (err, s_errno_code (e), "%s: %s", path, strerror (e));
        }
        pthread_mutex_lock (&self->mu);
        int rc = s_segs_push (self, b->first_seq, need);
        if (rc == 0)
            self->total_bytes += need;
        pthread_mutex_unlock (&self->mu);
        if (rc) {
            close (fd);
            return s_wfail (err, PL_EIO, "out of memory after writing a segment");
        }
        if (self->active_fd >= 0)
            close (self->active_fd);
        self->active_fd = fd;
        self->active_size = need;
        return 0;
    }
    struct iovec iov[1] = {{b->frames.p, len}};
    int e = s_pwrite_all (self->active_fd, iov, 1, self->active_size);
    t0 = s_mono_ns ();
    if (!e && fdatasync (self->active_fd) != 0)
        e = errno;
    *fsync_s = (double) (s_mono_ns () - t0) / 1e9;
    if (e) {
        /* Nothing half-written stays behind: cut back to the last good offset. */
        if (ftruncate (self->active_fd, (off_t) self->active_size) != 0)
            return s_wfail (err, PL_EIO, "cannot cut a failed write back: %s", strerror (errno));
        return s_wfail (err, s_errno_code (e), "segment write: %s", strerror (e));
    }
    self->active_size += len;
    pthread_mutex_lock (&self->mu);
    self->segs[self->n_segs - 1].size = self->active_size;
    self->total_bytes += len;
    pthread_mutex_unlock (&self->mu);
    return 0;
}

/* Signs the latest durable record when due (or when forced and it has no checkpoint yet). */
static void
s_checkpoint (pl_audit_store_t *self, bool force)
{
    pthread_mutex_lock (&self->mu);
    /* Only a record that is in a segment: a new chain, or one just opened, may have none. */
    bool any = self->n_segs > 0 && self->durable_next > self->segs[0].first_seq;
    uint64_t seq = self->durable_next - 1;
    uint8_t hash[PL_AUDIT_HASH_LEN];
    memcpy (hash, self->durable_hash, sizeof hash);
    int64_t at = self->durable_written_ms;
    pthread_mutex_unlock (&self->mu);
    if (!any)
        return;
    pthread_mutex_lock (&self->ckpt_mu);
    bool due = !self->ckpt_any
            || (seq > self->ckpt_seq
                && (force || seq - self->ckpt_seq >= self->cfg.checkpoint_every
                    || at - self->ckpt_ms >= self->cfg.checkpoint_interval_ms));
    if (due && self->ckpt_fd >= 0) {
        pl_audit_ckpt_t c = {.seq = seq, .at_ms = at};
        snprintf (c.chain_id, sizeof c.chain_id, "%s", self->chain);
        memcpy (c.hash, hash, sizeof hash);
        /* A checkpoint that cannot be written now (full disk) is simply signed later. */
        if (pl_audit_ckpt_sign (&c, self->cfg.keys) == 0
            && pl_audit_ckpt_append (self->ckpt_fd, &c) == 0) {
            self->ckpt_any = true;
            self->ckpt_seq = seq;
            self->ckpt_ms = at;
            self->ckpt_count++;
        }
    }
    pthread_mutex_unlock (&self->ckpt_mu);
}

/* The sealer: when the pending batch's window closes (or it is full, or a flush is asked),
 * takes it, computes pseudonyms, seals personal parts and chains the hashes, record by record
 * in seq order, and hands the result to the writer — appending to what the writer has not taken
 * yet, so a slow disk makes bigger batches rather than a queue. */
static void *
s_sealer (void *arg)
{
    pl_audit_store_t *self = arg;
    int64_t interval_ns = (int64_t) self->cfg.commit_interval_ms * 1000000;
    pthread_mutex_lock (&self->mu);
    for (;;) {
        int64_t now = s_mono_ns ();
        s_batch_t *b = self->pending;
        bool due = b && b->n > 0
                && (self->flush_now || self->stop || now - self->pending_since_ns >= interval_ns
                    || b->frames.len >= self->cfg.batch_max_bytes);
        if (!due) {
            if (self->stop)
                break;
            if (b && b->n > 0)
                s_wait_until (&self->sealer_cv, &self->mu, self->pending_since_ns + interval_ns);
            else
                pthread_cond_wait (&self->sealer_cv, &self->mu);
            continue;
        }
        self->pending = s_batch_get (self);
        self->flush_now = false;
        pthread_mutex_unlock (&self->mu);

        uint8_t hash[PL_AUDIT_HASH_LEN];
        for (size_t i = 0; i < b->n; i++) {
            pl_audit_codec_seal (self->scodec, b->frames.p, &b->items[i].prep, self->cfg.keys,
                                 self->head_hash, hash);
            memcpy (self->head_hash, hash, PL_AUDIT_HASH_LEN);
        }
        memcpy (b->last_hash, self->head_hash, PL_AUDIT_HASH_LEN);

        pthread_mutex_lock (&self->mu);
        s_batch_t *r = self->ready;
        if (!r || r->frames.len + b->frames.len > 2 * self->cfg.batch_max_bytes) {
            /* A ready batch already as big as a write should be: this one waits its turn. */
            while (self->ready && !self->stop)
                pthread_cond_wait (&self->sealer_cv, &self->mu);
            if (!self->ready) {
                self->ready = b;
                self->ready_bytes = b->frames.len;
                b = NULL;
            }
            r = self->ready;
        }
        if (b) {
            /* Join the batch the writer has not taken yet: items keep their order. */
            size_t ids_base = r->ids.len;
            pl__wbuf_bytes (&r->frames, b->frames.p, b->frames.len);
            pl__wbuf_bytes (&r->ids, b->ids.p, b->ids.len);
            bool ok = !r->frames.err && !r->ids.err;
            if (ok && r->n + b->n > r->cap) {
                s_item_t *v = realloc (r->items, (r->n + b->n) * sizeof *v);
                ok = v != NULL;
                if (v) {
                    r->items = v;
                    r->cap = r->n + b->n;
                }
            }
            if (ok) {
                for (size_t i = 0; i < b->n; i++) {
                    r->items[r->n + i] = b->items[i];
                    r->items[r->n + i].id_off += ids_base;
                }
                r->n += b->n;
                r->last_seq = b->last_seq;
                r->last_written_ms = b->last_written_ms;
                memcpy (r->last_hash, b->last_hash, PL_AUDIT_HASH_LEN);
                self->ready_bytes = r->frames.len;
                s_batch_reset (b);
                b->next = self->free_batches;
                self->free_batches = b;
            } else {
                /* Out of memory: the store cannot keep its promise of order; stop writing. */
                self->state = PL_EIO;
                snprintf (self->werr, sizeof self->werr, "out of memory joining batches");
                s_batch_free (b);
                pthread_cond_broadcast (&self->done_cv);
            }
        }
        pthread_cond_signal (&self->writer_cv);
    }
    self->sealer_done = true;
    pthread_cond_signal (&self->writer_cv);
    pthread_mutex_unlock (&self->mu);
    return NULL;
}

static void *
s_writer (void *arg)
{
    pl_audit_store_t *self = arg;
    pthread_mutex_lock (&self->mu);
    for (;;) {
        s_batch_t *b = NULL;
        uint64_t attempt = 0;
        while (!b) {
            int64_t now = s_mono_ns ();
            if (self->state == PL_EIO) {
                if (self->stop)
                    goto out;
                pthread_cond_wait (&self->writer_cv, &self->mu);
            } else if (self->held) {
                if (self->retry_done < self->retry_req || now >= self->next_retry_ns) {
                    b = self->held;
                    attempt = self->retry_req;
                } else if (self->stop)
                    goto out;
                else
                    s_wait_until (&self->writer_cv, &self->mu, self->next_retry_ns);
            } else if (self->ready) {
                b = self->ready;
                self->ready = NULL;
                self->ready_bytes = 0;
                attempt = self->retry_req;
                pthread_cond_signal (&self->sealer_cv);
            } else if (self->stop && self->sealer_done)
                goto out;
            else
                pthread_cond_wait (&self->writer_cv, &self->mu);
        }
        uint64_t cap = self->size_cap;
        pthread_mutex_unlock (&self->mu);

        double fsync_s = 0;
        char err[512];
        int rc = s_write_batch (self, b, cap, &fsync_s, err);
        if (fsync_s > 0 && self->cfg.on_fsync)
            self->cfg.on_fsync (self->cfg.on_fsync_arg, fsync_s);

        pthread_mutex_lock (&self->mu);
        if (rc == 0) {
            self->durable_next = b->last_seq + 1;
            memcpy (self->durable_hash, b->last_hash, PL_AUDIT_HASH_LEN);
            self->durable_written_ms = b->last_written_ms;
            self->held = NULL;
            self->state = 0;
            self->batches++;
            self->fsyncs++;
            if (self->done_tail)
                self->done_tail->next = b;
            else
                self->done_head = b;
            self->done_tail = b;
            pthread_cond_signal (&self->index_cv);
            pthread_cond_broadcast (&self->done_cv);
            pthread_mutex_unlock (&self->mu);
            uint64_t one = 1;
            ssize_t w = write (self->efd, &one, sizeof one);
            (void) w;
            s_checkpoint (self, false);
            pthread_mutex_lock (&self->mu);
        } else {
            /* Keep the batch, with its seqs and hashes, for the next attempt: the chain in
             * memory stays whole, the files hold nothing of it. */
            self->held = b;
            self->state = rc == PL_ENOSPC ? PL_ENOSPC : PL_EIO;
            memcpy (self->werr, err, sizeof self->werr);
            self->retry_done = attempt;
            self->next_retry_ns = s_mono_ns () + (int64_t) self->cfg.retry_interval_ms * 1000000;
            pthread_cond_broadcast (&self->done_cv);
        }
    }
out:
    pthread_mutex_unlock (&self->mu);
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Indexer                                                                                  */

static void
s_publish_indexed (pl_audit_store_t *self, uint64_t next)
{
    pthread_mutex_lock (&self->mu);
    if (next > self->indexed_next)
        self->indexed_next = next;
    pthread_cond_broadcast (&self->done_cv);
    pthread_mutex_unlock (&self->mu);
}

/* Indexes records [from, to) from the segments (a snapshot of the list). Called with index_mu. */
static int
s_index_range (pl_audit_store_t *self, const s_seg_t *segs, size_t n, uint64_t from, uint64_t to)
{
    if (n == 0 || from >= to)
        return 0;
    uint64_t seq = from;
    if (seq < segs[0].first_seq)
        seq = segs[0].first_seq;                /* expired below: nothing to index there */
    size_t i = 0;
    while (i + 1 < n && segs[i + 1].first_seq <= seq)
        i++;
    uint64_t off = PL_AUDIT_SEG_HEADER;
    bool walk = true;
    if (self->ipos_valid && self->ipos_seq == seq && self->ipos_seg == segs[i].first_seq) {
        off = self->ipos_off;
        walk = false;
    }
    int rc = pl_audit_index_begin (self->index);
    if (rc)
        return rc;
    size_t rows = 0;
    while (seq < to && i < n) {
        char path[4096];
        s_seg_path (self, segs[i].first_seq, path, sizeof path);
        pl_audit_map_t m;
        rc = pl_audit_map_open (path, segs[i].size, &m);
        if (rc) {
            snprintf (self->index_err, sizeof self->index_err, "index: cannot map %.300s", path);
            break;
        }
        while (off < m.len && seq < to) {
            pl_audit_frame_t f;
            if (pl_audit_frame_parse (m.data + off, m.len - off, &f) != 0) {
                snprintf (self->index_err, sizeof self->index_err,
                          "index: %.300s: no record at offset %" PRIu64, path, off);
                rc = PL_ECORRUPT;
                break;
            }
            if (walk && f.seq < seq) {
                off += f.frame_len;
                continue;
            }
            walk = false;
            if (f.seq != seq) {
                snprintf (self->index_err, sizeof self->index_err,
                          "index: %.300s: expected seq %" PRIu64 " at offset %" PRIu64 ", found %" PRIu64,
                          path, seq, off, f.seq);
                rc = PL_ECORRUPT;
                break;
            }
            const pl_audit_record_t *r;
            bool dup = false;
            rc = pl_audit_codec_decode (self->icodec, &f, &r);
            if (rc == 0)
                rc = pl_audit_index_add (self->index, r, segs[i].first_seq, off, &dup);
            if (rc) {
                snprintf (self->index_err, sizeof self->index_err, "%s",
                          rc == PL_ECORRUPT ? pl_audit_codec_errstr (self->icodec)
                                            : pl_audit_index_errstr (self->index));
                break;
            }
            off += f.frame_len;
            seq++;
            if (++rows % S_INDEX_CHUNK == 0) {
                if ((rc = pl_audit_index_commit (self->index, seq))
                    || (rc = pl_audit_index_begin (self->index)))
                    break;
                s_publish_indexed (self, seq);
            }
        }
        pl_audit_map_close (&m);
        if (rc)
            break;
        if (seq < to) {
            i++;
            off = PL_AUDIT_SEG_HEADER;
        }
    }
    if (rc == 0 && (rc = pl_audit_index_commit (self->index, seq)) == 0) {
        s_publish_indexed (self, seq);
        self->ipos_valid = i < n;
        if (self->ipos_valid) {
            self->ipos_seg = segs[i].first_seq;
            self->ipos_off = off;
            self->ipos_seq = seq;
        }
        return 0;
    }
    if (rc != PL_ECORRUPT && !self->index_err[0])
        snprintf (self->index_err, sizeof self->index_err, "%s",
                  pl_audit_index_errstr (self->index));
    pl_audit_index_rollback (self->index);
    self->ipos_valid = false;
    return rc;
}

static void *
s_indexer (void *arg)
{
    pl_audit_store_t *self = arg;
    /* Durable appends come first: when the machine is short of CPU the index lags (and
     * catches up later) rather than the service acknowledging fewer events. */
    setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 10);
    pthread_mutex_lock (&self->mu);
    while (!self->stop) {
        int64_t now = s_mono_ns ();
        if (self->index_state && now < self->index_retry_ns) {
            s_wait_until (&self->index_cv, &self->mu, self->index_retry_ns);
            continue;
        }
        if (self->indexed_next >= self->durable_next) {
            pthread_cond_wait (&self->index_cv, &self->mu);
            continue;
        }
        uint64_t from = self->indexed_next, to = self->durable_next;
        self->index_started++;
        size_t n = self->n_segs;
        s_seg_t *snap = malloc ((n ? n : 1) * sizeof *snap);
        if (snap && n)
            memcpy (snap, self->segs, n * sizeof *snap);
        pthread_mutex_unlock (&self->mu);

        int rc = PL_ENOMEM;
        if (snap) {
            pthread_mutex_lock (&self->index_mu);
            self->index_err[0] = '\0';
            rc = s_index_range (self, snap, n, from, to);
            pthread_mutex_unlock (&self->index_mu);
            free (snap);
        }
        pthread_mutex_lock (&self->mu);
        self->index_state = rc;
        self->index_rounds++;
        pthread_cond_broadcast (&self->done_cv);
        if (rc) {
            memcpy (self->ierr, self->index_err, sizeof self->ierr);
            self->index_retry_ns = s_mono_ns () + 1000000000;
            pthread_cond_broadcast (&self->done_cv);
        }
    }
    pthread_mutex_unlock (&self->mu);
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Open                                                                                     */

static int
s_mkdir (const char *path)
{
    if (mkdir (path, 0750) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

static int
s_mkdir_p (const char *path)
{
    char tmp[4096];
    snprintf (tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (s_mkdir (tmp) != 0)
                return -1;
            *p = '/';
        }
    return s_mkdir (tmp);
}

/* Puts the ids of records [from, end) into the id set: they are durable but not indexed. */
static int
s_load_unindexed_ids (pl_audit_store_t *self, uint64_t from)
{
    for (size_t i = 0; i < self->n_segs; i++) {
        uint64_t seg_end = i + 1 < self->n_segs ? self->segs[i + 1].first_seq : self->next_seq;
        if (seg_end <= from)
            continue;
        char path[4096];
        s_seg_path (self, self->segs[i].first_seq, path, sizeof path);
        pl_audit_map_t m;
        int rc = pl_audit_map_open (path, self->segs[i].size, &m);
        if (rc)
            return s_fail (self, rc, "%s: cannot map", path);
        size_t off = PL_AUDIT_SEG_HEADER;
        while (rc == 0 && off < m.len) {
            pl_audit_frame_t f;
            const pl_audit_record_t *r;
            if (pl_audit_frame_parse (m.data + off, m.len - off, &f) != 0) {
                rc = s_fail (self, PL_ECORRUPT, "%s: no record at offset %zu", path, off);
                break;
            }
            if (f.seq >= from) {
                if ((rc = pl_audit_codec_decode (self->icodec, &f, &r)) == 0)
                    rc = pl_audit_idset_put (self->ids, r->event_id, r->seq, r->at_ms);
                if (rc == PL_ECORRUPT)
                    s_fail (self, rc, "%s", pl_audit_codec_errstr (self->icodec));
            }
            off += f.frame_len;
        }
        pl_audit_map_close (&m);
        if (rc)
            return rc;
    }
    return 0;
}

static void
s_unlink_index (const char *dir)
{
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf (path, sizeof path, "%s/" PL_AUDIT_INDEX_FILE "%s", dir, suffix[i]);
        unlink (path);
    }
}

static int
s_open_index (pl_audit_store_t *self)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/" PL_AUDIT_INDEX_FILE, self->dir);
    uint64_t next = 0;
    int rc = PL_ENOMEM;
    for (int attempt = 0; attempt < 2; attempt++) {
        pl_audit_index_destroy (&self->index);
        self->index = pl_audit_index_new ();
        if (!self->index)
            return PL_ENOMEM;
        rc = pl_audit_index_open (self->index, path, self->chain, false);
        if (rc == 0)
            rc = pl_audit_index_next_seq (self->index, &next);
        if (rc != PL_ECORRUPT)
            break;
        /* The index is derived data: a damaged or foreign one is rebuilt from the segments. */
        pl_audit_index_destroy (&self->index);
        s_unlink_index (self->dir);
    }
    if (rc)
        return s_fail (self, rc, "%s", self->index ? pl_audit_index_errstr (self->index) : path);
    if (next > self->next_seq) {
        /* The index knows records the segments no longer hold (restored from an older copy). */
        if ((rc = pl_audit_index_truncate_from (self->index, self->next_seq)))
            return s_fail (self, rc, "%s", pl_audit_index_errstr (self->index));
        next = self->next_seq;
    }
    uint64_t first = self->n_segs ? self->segs[0].first_seq : 0;
    self->indexed_next = next < first ? first : next;
    self->lookup = pl_audit_index_new ();
    if (!self->lookup)
        return PL_ENOMEM;
    if ((rc = pl_audit_index_open (self->lookup, path, self->chain, true)))
        return s_fail (self, rc, "%s", pl_audit_index_errstr (self->lookup));
    /* Ids below indexed_next are found in the index: any event not newer than the newest of
     * them must be looked up there. */
    int64_t max_at;
    if ((rc = pl_audit_index_max_at (self->lookup, &max_at)))
        return s_fail (self, rc, "%s", pl_audit_index_errstr (self->lookup));
    pl_audit_idset_raise_mark (self->ids, max_at);
    return s_load_unindexed_ids (self, next);
}

static int
s_open_checkpoints (pl_audit_store_t *self)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/" PL_AUDIT_CKPT_FILE, self->dir);
    pl_audit_ckpt_t *v;
    size_t n, partial, bad;
    int rc = pl_audit_ckpt_load (path, &v, &n, &partial, &bad);
    if (rc) {
        free (v);
        return s_fail (self, rc, "%s: checkpoint %zu does not decode", path, bad);
    }
    if (n) {
        self->ckpt_any = true;
        self->ckpt_seq = v[n - 1].seq;
        self->ckpt_ms = v[n - 1].at_ms;
        self->ckpt_count = n;
    }
    free (v);
    self->ckpt_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (self->ckpt_fd < 0)
        return s_fail (self, PL_EIO, "%s: %s", path, strerror (errno));
    if (partial && ftruncate (self->ckpt_fd, (off_t) (n * PL_AUDIT_CKPT_LEN)) != 0)
        return s_fail (self, PL_EIO, "%s: cannot cut a torn entry", path);
    if (self->ckpt_any && self->ckpt_seq >= self->next_seq)
        return s_fail (self, PL_ECORRUPT,
                       "chain %s ends at seq %" PRIu64 " but a checkpoint signs seq %" PRIu64
                       ": records are missing; run verify",
                       self->chain, self->next_seq ? self->next_seq - 1 : 0, self->ckpt_seq);
    return 0;
}

static int
s_open_segments (pl_audit_store_t *self)
{
    pl_audit_seg_entry_t *list;
    size_t n;
    int rc = pl_audit_seg_list (self->dir, &list, &n);
    if (rc)
        return s_fail (self, rc, "%s: cannot list segments", self->dir);
    uint64_t max_cut = self->cfg.batch_max_bytes + PL_AUDIT_FRAME_MAX + PL_AUDIT_SEG_HEADER;
    pl_audit_seg_tail_t tail;
    bool have_tail = false;
    while (n > 0 && !have_tail) {
        char path[4096], err[512];
        s_seg_path (self, list[n - 1].first_seq, path, sizeof path);
        rc = pl_audit_seg_recover (path, max_cut, true, &tail, err, sizeof err);
        if (rc == PL_EAGAIN) {
            /* Created by a batch that never completed: nothing in it was ever durable. */
            char q[4200];
            snprintf (q, sizeof q, "%s.torn-0", path);
            if (rename (path, q) != 0) {
                free (list);
                return s_fail (self, PL_EIO, "%s: cannot set aside", path);
            }
            pl_audit_fsync_dir (self->dir);
            n--;
            continue;
        }
        if (rc) {
            free (list);
            return s_fail (self, rc, "%s", err);
        }
        if (strcmp (tail.header.chain_id, self->chain) != 0
            || tail.header.first_seq != list[n - 1].first_seq) {
            free (list);
            return s_fail (self, PL_ECORRUPT, "%s: header names chain %s seq %" PRIu64, path,
                           tail.header.chain_id, tail.header.first_seq);
        }
        list[n - 1].size = tail.good_len;
        have_tail = true;
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = s_segs_push (self, list[i].first_seq, list[i].size))) {
            free (list);
            return rc;
        }
        self->total_bytes += list[i].size;
    }
    free (list);
    if (have_tail) {
        self->next_seq = tail.last_seq + 1;
        memcpy (self->head_hash, tail.last_hash, PL_AUDIT_HASH_LEN);
        self->durable_written_ms = tail.last_written_ms;
        char path[4096];
        s_seg_path (self, tail.header.first_seq, path, sizeof path);
        self->active_fd = open (path, O_RDWR | O_CLOEXEC);
        if (self->active_fd < 0)
            return s_fail (self, PL_EIO, "%s: %s", path, strerror (errno));
        self->active_size = tail.good_len;
    }
    self->durable_next = self->next_seq;
    memcpy (self->durable_hash, self->head_hash, PL_AUDIT_HASH_LEN);
    return 0;
}

int
pl_audit_store_open (pl_audit_store_t *self)
{
    if (self->opened)
        return 0;
    if (!pl_audit_chain_id_valid (self->chain))
        return s_fail (self, PL_ECONFIG, "chain id '%s': expected 1 to 64 of [A-Za-z0-9._-]",
                       self->chain);
    if (!self->root[0])
        return s_fail (self, PL_ECONFIG, "no data directory");
    if (!self->cfg.keys || !pl_audit_keys_has_signing (self->cfg.keys)
        || !pl_audit_keys_has_pseudonym (self->cfg.keys) || !pl_audit_keys_has_data (self->cfg.keys))
        return s_fail (self, PL_ECONFIG, "the signing, pseudonym and data keys are all required");
    if (s_mkdir_p (self->root) != 0 || s_mkdir (self->dir) != 0)
        return s_fail (self, s_errno_code (errno), "%s: %s", self->dir, strerror (errno));
    int rc;
    if ((rc = s_open_segments (self)) || (rc = s_open_checkpoints (self))
        || (!self->cfg.no_index && (rc = s_open_index (self))))
        return rc;
    self->efd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->efd < 0)
        return s_fail (self, PL_EIO, "eventfd: %s", strerror (errno));
    if (self->cfg.no_index)
        self->indexed_next = 0;
    if (pthread_create (&self->writer_th, NULL, s_writer, self) != 0)
        return s_fail (self, PL_ENOMEM, "cannot start the writer thread");
    self->writer_started = true;
    if (pthread_create (&self->sealer_th, NULL, s_sealer, self) != 0) {
        self->sealer_done = true;               /* lets the writer stop */
        return s_fail (self, PL_ENOMEM, "cannot start the sealer thread");
    }
    self->sealer_started = true;
    if (!self->cfg.no_index) {
        if (pthread_create (&self->indexer_th, NULL, s_indexer, self) != 0)
            return s_fail (self, PL_ENOMEM, "cannot start the indexer thread");
        self->indexer_started = true;
        pthread_mutex_lock (&self->mu);
        pthread_cond_signal (&self->index_cv);
        pthread_mutex_unlock (&self->mu);
    }
    self->opened = true;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Append, dispatch, sync                                                                   */

static int
s_item_add (s_batch_t *b, uint64_t seq, void *token, const char *id)
{
    if (!pl__grow (&b->items, b->n, &b->cap, sizeof *b->items, 256))
        return PL_ENOMEM;
    size_t off = b->ids.len;
    pl__wbuf_bytes (&b->ids, id, strlen (id) + 1);
    if (b->ids.err) {
        b->ids.err = false;
        b->ids.len = off;
        return PL_ENOMEM;
    }
    b->items[b->n++] = (s_item_t) {seq, token, off};
    return 0;
}

/* Appends under mu. The store's own records pass token S_INTERNAL, public attrs and a subject
 * pseudonym; their event id, when empty, is derived from the chain and seq. */
static int
s_append_locked (pl_audit_store_t *self, const Plateau__V1__AuditEvent *ev, int64_t now_ms,
                 void *token, const pl_audit_attr_t *attrs, size_t n_attrs,
                 const uint8_t *pseudonym, uint64_t *seq_out)
{
    if (!self->opened || self->stop)
        return s_fail (self, PL_ECLOSED, "store closed");
    if (self->state)
        return s_fail (self, self->state, "%s", self->werr);
    Plateau__V1__AuditEvent internal;
    char gen_id[PL_AUDIT_CHAIN_MAX + 64];
    if (token == S_INTERNAL && (!ev->event_id || !ev->event_id[0])) {
        internal = *ev;
        snprintf (gen_id, sizeof gen_id, "%s:%" PRIu64 ":%s", self->chain, self->next_seq, ev->type);
        internal.event_id = gen_id;
        ev = &internal;
    }
    if (!ev->event_id || !ev->event_id[0]) {
        self->rejected++;
        return s_fail (self, PL_EINVAL, "event_id: missing");
    }
    uint64_t seq;
    if (pl_audit_idset_get (self->ids, ev->event_id, &seq)) {
        self->duplicates++;
        if (seq_out)
            *seq_out = seq;
        return seq < self->durable_next ? PL_EEXIST : PL_EBUSY;
    }
    if (self->lookup && ev->at_ms <= pl_audit_idset_evicted_mark (self->ids)) {
        self->lookups++;
        int found = pl_audit_index_find_event (self->lookup, ev->event_id, &seq);
        if (found < 0)
            return s_fail (self, PL_EAGAIN, "%s", pl_audit_index_errstr (self->lookup));
        if (found) {
            self->duplicates++;
            if (seq_out)
                *seq_out = seq;
            return PL_EEXIST;
        }
    }
    if (!self->pending && !(self->pending = s_batch_get (self)))
        return s_fail (self, PL_ENOMEM, "out of memory");
    s_batch_t *b = self->pending;
    size_t queued = b->frames.len + self->ready_bytes + (self->held ? self->held->frames.len : 0);
    if (queued >= self->cfg.pending_max_bytes)
        return s_fail (self, PL_EAGAIN, "%zu bytes wait for the disk", queued);
    /* Ids leave memory only once indexed: an index far behind would hold them all. */
    if (!self->cfg.no_index && self->next_seq - self->indexed_next > self->cfg.index_lag_max)
        return s_fail (self, PL_EAGAIN, "the index is %" PRIu64 " records behind",
                       self->next_seq - self->indexed_next);

    seq = self->next_seq;
    pl_audit_encode_ctx_t ctx = {
        .seq = seq, .chain_id = self->chain, .written_ms = now_ms, .keys = self->cfg.keys,
        .attrs = attrs, .n_attrs = n_attrs, .pseudonym = pseudonym,
    };
    pl_audit_prep_t prep;
    size_t before = b->frames.len;
    int rc = pl_audit_codec_prepare (self->codec, &b->frames, ev, &ctx, &prep);
    if (rc) {
        self->rejected++;
        return s_fail (self, rc, "%s", pl_audit_codec_errstr (self->codec));
    }
    if ((rc = s_item_add (b, seq, token, ev->event_id)) != 0
        || (rc = pl_audit_idset_put (self->ids, ev->event_id, seq, ev->at_ms)) != 0) {
        if (b->n && b->items[b->n - 1].seq == seq)
            b->n--;
        sodium_memzero (b->frames.p + before, b->frames.len - before);
        b->frames.len = before;
        return s_fail (self, rc, "out of memory");
    }
    b->items[b->n - 1].prep = prep;
    if (b->n == 1) {
        b->first_seq = seq;
        b->first_written_ms = now_ms;
        self->pending_since_ns = s_mono_ns ();
        pthread_cond_signal (&self->sealer_cv);
    }
    b->last_seq = seq;
    b->last_written_ms = now_ms;
    self->next_seq = seq + 1;
    self->appended++;
    if (b->frames.len >= self->cfg.batch_max_bytes)
        pthread_cond_signal (&self->sealer_cv);
    if (!self->cfg.no_index)
        pl_audit_idset_evict (self->ids, self->indexed_next);
    else
        pl_audit_idset_evict (self->ids, self->durable_next);
    if (seq_out)
        *seq_out = seq;
    return 0;
}

int
pl_audit_store_append (pl_audit_store_t *self, const Plateau__V1__AuditEvent *ev,
                       int64_t now_ms, void *token)
{
    pthread_mutex_lock (&self->mu);
    int rc = s_append_locked (self, ev, now_ms, token, NULL, 0, NULL, NULL);
    pthread_mutex_unlock (&self->mu);
    return rc;
}

size_t
pl_audit_store_dispatch (pl_audit_store_t *self)
{
    uint64_t v;
    ssize_t r = read (self->efd, &v, sizeof v);     /* clears the eventfd; EAGAIN when empty */
    (void) r;
    pthread_mutex_lock (&self->dispatch_mu);
    pthread_mutex_lock (&self->mu);
    s_batch_t *list = self->done_head;
    self->done_head = self->done_tail = NULL;
    pthread_mutex_unlock (&self->mu);
    size_t total = 0;
    for (s_batch_t *b = list; b; b = b->next) {
        if (b->n > self->dbuf_cap) {
            pl_audit_committed_t *d = realloc (self->dbuf, b->n * sizeof *d);
            if (!d)
                continue;                /* cannot happen in practice; events stay unacked */
            self->dbuf = d;
            self->dbuf_cap = b->n;
        }
        size_t n = 0;
        for (size_t i = 0; i < b->n; i++)
            if (b->items[i].token != S_INTERNAL)
                self->dbuf[n++] = (pl_audit_committed_t) {
                    (const char *) b->ids.p + b->items[i].id_off, b->items[i].seq,
                    b->items[i].token};
        if (n && self->cfg.on_commit)
            self->cfg.on_commit (self->cfg.on_commit_arg, self->dbuf, n);
        total += n;
    }
    pthread_mutex_lock (&self->mu);
    while (list) {
        s_batch_t *next = list->next;
        s_batch_reset (list);
        list->next = self->free_batches;
        self->free_batches = list;
        list = next;
    }
    pthread_mutex_unlock (&self->mu);
    pthread_mutex_unlock (&self->dispatch_mu);
    return total;
}

/* Waits until seq `target` (exclusive) is durable, asking the writer to flush and to retry
 * a held batch once. Called with mu held. */
static int
s_wait_durable_locked (pl_audit_store_t *self, uint64_t target)
{
    uint64_t req = ++self->retry_req;
    self->flush_now = true;
    pthread_cond_signal (&self->sealer_cv);
    pthread_cond_signal (&self->writer_cv);
    while (self->durable_next < target) {
        if (self->state == PL_EIO || self->stop || !self->writer_started)
            break;
        if (self->state == PL_ENOSPC && self->retry_done >= req)
            break;
        pthread_cond_wait (&self->done_cv, &self->mu);
    }
    if (self->durable_next >= target)
        return 0;
    if (self->state)
        return s_fail (self, self->state, "%s", self->werr);
    return s_fail (self, PL_ECLOSED, "store closed");
}

int
pl_audit_store_sync (pl_audit_store_t *self)
{
    if (!self->opened)
        return PL_ECLOSED;
    pthread_mutex_lock (&self->mu);
    int rc = s_wait_durable_locked (self, self->next_seq);
    pthread_mutex_unlock (&self->mu);
    pl_audit_store_dispatch (self);
    return rc;
}

int
pl_audit_store_tick (pl_audit_store_t *self, int64_t now_ms)
{
    if (!self->opened)
        return PL_ECLOSED;
    pthread_mutex_lock (&self->mu);
    if (self->held) {
        self->retry_req++;
        pthread_cond_signal (&self->writer_cv);
    }
    int state = self->state;
    pthread_mutex_unlock (&self->mu);
    pthread_mutex_lock (&self->ckpt_mu);
    bool due = now_ms - self->ckpt_ms >= self->cfg.checkpoint_interval_ms;
    pthread_mutex_unlock (&self->ckpt_mu);
    if (due)
        s_checkpoint (self, true);
    return state;
}

/* Waits until every seq below target is indexed. An indexer in error is asked to try again
 * at once, and its answer to that attempt is what counts. Called with mu held. */
static int
s_wait_indexed_locked (pl_audit_store_t *self, uint64_t target)
{
    uint64_t round = self->index_started;      /* an attempt begun after now must answer */
    self->index_retry_ns = 0;
    pthread_cond_signal (&self->index_cv);
    while (self->indexed_next < target && !self->stop) {
        if (self->index_state && self->index_rounds > round)
            break;
        pthread_cond_wait (&self->done_cv, &self->mu);
    }
    if (self->indexed_next >= target)
        return 0;
    if (self->index_state)
        return s_fail (self, self->index_state, "%s", self->ierr);
    return s_fail (self, PL_ECLOSED, "store closed");
}

int
pl_audit_store_wait_indexed (pl_audit_store_t *self)
{
    if (!self->opened)
        return PL_ECLOSED;
    if (self->cfg.no_index)
        return 0;
    pthread_mutex_lock (&self->mu);
    int rc = s_wait_indexed_locked (self, self->durable_next);
    pthread_mutex_unlock (&self->mu);
    return rc;
}

void
pl_audit_store_set_size_cap (pl_audit_store_t *self, uint64_t bytes)
{
    pthread_mutex_lock (&self->mu);
    self->size_cap = bytes;
    self->retry_req++;
    pthread_cond_signal (&self->writer_cv);
    pthread_mutex_unlock (&self->mu);
}

void
pl_audit_store_stats (pl_audit_store_t *self, pl_audit_store_stats_t *out)
{
    memset (out, 0, sizeof *out);
    pthread_mutex_lock (&self->mu);
    out->next_seq = self->next_seq;
    out->durable_next = self->durable_next;
    out->indexed_next = self->cfg.no_index ? 0 : self->indexed_next;
    out->first_seq = self->n_segs ? self->segs[0].first_seq : 0;
    out->appended = self->appended;
    out->duplicates = self->duplicates;
    out->rejected = self->rejected;
    out->batches = self->batches;
    out->fsyncs = self->fsyncs;
    out->segments = self->n_segs;
    out->bytes = self->total_bytes;
    out->index_lookups = self->lookups;
    out->state = self->state;
    out->index_state = self->index_state;
    pthread_mutex_unlock (&self->mu);
    pthread_mutex_lock (&self->ckpt_mu);
    out->checkpoints = self->ckpt_count;
    out->last_checkpoint_seq = self->ckpt_seq;
    out->last_checkpoint_ms = self->ckpt_any ? self->ckpt_ms : 0;
    pthread_mutex_unlock (&self->ckpt_mu);
}

/* ---------------------------------------------------------------------------------------- */
/* Erasure and retention                                                                    */

/* Appends one of the store's own records and waits until it is durable; *seq receives its
 * seq (or that of the earlier record with the same event id). */
static int
s_append_internal (pl_audit_store_t *self, const Plateau__V1__AuditEvent *ev, int64_t now_ms,
                   const pl_audit_attr_t *attrs, size_t n_attrs, const uint8_t *pseudonym,
                   uint64_t *seq)
{
    pthread_mutex_lock (&self->mu);
    int rc = s_append_locked (self, ev, now_ms, S_INTERNAL, attrs, n_attrs, pseudonym, seq);
    if (rc == 0 || rc == PL_EEXIST || rc == PL_EBUSY)
        rc = s_wait_durable_locked (self, *seq + 1);
    pthread_mutex_unlock (&self->mu);
    /* No dispatch here: on_commit answers bus messages, which only the loop's thread may do;
     * the eventfd tells the loop that this batch is durable. */
    return rc;
}

static int
s_wait_indexed_through (pl_audit_store_t *self, uint64_t seq)
{
    pthread_mutex_lock (&self->mu);
    int rc = s_wait_indexed_locked (self, seq + 1);
    pthread_mutex_unlock (&self->mu);
    return rc;
}

/* Sets the erased flag (pass 1) or zeroes the sealed personal part (pass 2) of the frame at
 * loc, after checking that the frame there is the expected record. */
static int
s_erase_frame (int fd, const pl_audit_loc_t *loc, int pass)
{
    uint8_t head[PL_AUDIT_FRAME_HEAD + 8];
    if (pread (fd, head, sizeof head, (off_t) loc->offset) != (ssize_t) sizeof head)
        return PL_EIO;
    uint32_t body_len = pl__get_u32 (head + 8), pd_len = pl__get_u32 (head + 12);
    if (head[4] != 'P' || head[5] != 'A' || pl__get_u64 (head + PL_AUDIT_FRAME_HEAD) != loc->seq
        || pd_len < PL_AUDIT_SEAL_OVERHEAD || pd_len > PL_AUDIT_EVENT_MAX)
        return PL_ECORRUPT;
    if (pass == 1) {
        uint8_t flags = head[7] | PL_AUDIT_FLAG_ERASED;
        return pwrite (fd, &flags, 1, (off_t) loc->offset + 7) == 1 ? 0 : PL_EIO;
    }
    uint8_t zeros[PL_AUDIT_EVENT_MAX];
    memset (zeros, 0, pd_len);
    off_t at = (off_t) (loc->offset + PL_AUDIT_FRAME_HEAD + body_len);
    return pwrite (fd, zeros, pd_len, at) == (ssize_t) pd_len ? 0 : PL_EIO;
}

int
pl_audit_store_record (pl_audit_store_t *self, const Plateau__V1__AuditEvent *ev, int64_t now_ms,
                       uint64_t *seq)
{
    if (!self->opened)
        return PL_ECLOSED;
    uint64_t s = 0;
    int rc = s_append_internal (self, ev, now_ms, NULL, 0, NULL, &s);
    if (seq)
        *seq = s;
    return rc;
}

int
pl_audit_store_erase (pl_audit_store_t *self, const char *e164, int64_t now_ms,
                      const char *actor, const char *request_id, size_t *erased)
{
    if (erased)
        *erased = 0;
    if (!self->opened)
        return PL_ECLOSED;
    if (self->cfg.no_index)
        return s_fail (self, PL_EINVAL, "erasure needs the index");
    uint8_t pseud[PL_AUDIT_PSEUDONYM_LEN];
    if (pl_audit_keys_pseudonym (self->cfg.keys, e164, pseud) != 0)
        return s_fail (self, PL_EINVAL, "number: expected E.164");
    char hex[2 * PL_AUDIT_PSEUDONYM_LEN + 1];
    sodium_bin2hex (hex, sizeof hex, pseud, sizeof pseud);

    pthread_mutex_lock (&self->maint_mu);
    /* 1. The erasure is on record, and durable, before anything is erased: a crash in between
     * leaves readable data and a record promising its erasure, which running again fulfils. */
    Plateau__V1__AuditEvent ev;
    pl_audit_event_init (&ev, "audit", "person.erased", request_id, now_ms);
    ev.actor = (char *) (actor ? actor : "");
    ev.reason = "";
    pl_audit_attr_t attrs[] = {{"scope", "personal data of every earlier record of this pseudonym"}};
    uint64_t seq = 0;
    int rc = s_append_internal (self, &ev, now_ms, attrs, 1, pseud, &seq);
    if (rc == 0)
        rc = s_wait_indexed_through (self, seq);
    pl_audit_loc_t *locs = NULL;
    size_t n = 0;
    if (rc == 0) {
        pthread_mutex_lock (&self->index_mu);
        rc = pl_audit_index_personal_locs (self->index, hex, seq, &locs, &n);
        if (rc)
            s_fail (self, rc, "%s", pl_audit_index_errstr (self->index));
        pthread_mutex_unlock (&self->index_mu);
    }
    /* 2. Flag every frame as erased and make that durable, then zero the blobs: a crash
     * between the two leaves flagged frames still holding data, never unflagged frames
     * without it (which verify would report). */
    for (int pass = 1; rc == 0 && pass <= 2; pass++) {
        int fd = -1;
        uint64_t fd_seg = UINT64_MAX;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (locs[i].segment != fd_seg) {
                if (fd >= 0 && fdatasync (fd) != 0)
                    rc = s_fail (self, s_errno_code (errno), "erase: fdatasync: %s", strerror (errno));
                if (fd >= 0)
                    close (fd);
                char path[4096];
                s_seg_path (self, locs[i].segment, path, sizeof path);
                fd = open (path, O_RDWR | O_CLOEXEC);
                fd_seg = locs[i].segment;
                if (fd < 0)
                    rc = s_fail (self, PL_EIO, "erase: %s: %s", path, strerror (errno));
            }
            if (rc == 0 && (rc = s_erase_frame (fd, &locs[i], pass)))
                s_fail (self, rc, "erase: record %" PRIu64 " is not where the index says",
                        locs[i].seq);
        }
        if (fd >= 0) {
            if (rc == 0 && fdatasync (fd) != 0)
                rc = s_fail (self, s_errno_code (errno), "erase: fdatasync: %s", strerror (errno));
            close (fd);
        }
    }
    if (rc == 0) {
        pthread_mutex_lock (&self->index_mu);
        size_t rows = 0;
        rc = pl_audit_index_erase (self->index, hex, seq, &rows);
        if (rc)
            s_fail (self, rc, "%s", pl_audit_index_errstr (self->index));
        pthread_mutex_unlock (&self->index_mu);
    }
    if (rc == 0 && erased)
        *erased = n;
    free (locs);
    pthread_mutex_unlock (&self->maint_mu);
    return rc;
}

/* When every record of the mapped segment has passed its retention at now_ms: true, with the
 * seq and hash of its last record. */
static bool
s_segment_expired (pl_audit_store_t *self, const pl_audit_map_t *m, int64_t now_ms,
                   uint64_t *last_seq, uint8_t last_hash[PL_AUDIT_HASH_LEN])
{
    size_t off = PL_AUDIT_SEG_HEADER;
    const pl_audit_frame_t *last = NULL;
    pl_audit_frame_t f;
    while (off < m->len) {
        const pl_audit_record_t *r;
        if (pl_audit_frame_parse (m->data + off, m->len - off, &f) != 0
            || pl_audit_codec_decode (self->icodec, &f, &r) != 0)
            return false;
        int64_t keep = pl_audit_retention_for (self->cfg.retention, r->type);
        int64_t t = r->at_ms > 0 ? r->at_ms : r->written_ms;
        if (keep == PL_AUDIT_FOREVER || t > INT64_MAX - keep || now_ms < t + keep)
            return false;
        last = &f;
        off += f.frame_len;
    }
    if (!last)
        return false;
    *last_seq = last->seq;
    memcpy (last_hash, last->hash, PL_AUDIT_HASH_LEN);
    return true;
}

int
pl_audit_store_expire (pl_audit_store_t *self, int64_t now_ms, size_t *removed)
{
    if (removed)
        *removed = 0;
    if (!self->opened)
        return PL_ECLOSED;
    if (!self->cfg.retention || pl_audit_retention_keeps_all (self->cfg.retention))
        return 0;
    pthread_mutex_lock (&self->maint_mu);
    pthread_mutex_lock (&self->mu);
    size_t n = self->n_segs;
    s_seg_t *snap = malloc ((n ? n : 1) * sizeof *snap);
    if (snap && n)             /* segs is NULL in a store with nothing written yet */
        memcpy (snap, self->segs, n * sizeof *snap);
    uint64_t indexed = self->cfg.no_index ? self->durable_next : self->indexed_next;
    int state = self->state;
    pthread_mutex_unlock (&self->mu);
    if (!snap || state) {
        free (snap);
        pthread_mutex_unlock (&self->maint_mu);
        return snap ? state : PL_ENOMEM;
    }
    /* Only whole segments, oldest first, never the one being written, and only once indexed
     * (the indexer never looks back into a removed file). */
    size_t k = 0;
    uint64_t anchor_seq = 0, bytes = 0;
    uint8_t anchor_hash[PL_AUDIT_HASH_LEN];
    pthread_mutex_lock (&self->index_mu);           /* icodec is the indexer's */
    while (k + 1 < n && snap[k + 1].first_seq <= indexed) {
        char path[4096];
        s_seg_path (self, snap[k].first_seq, path, sizeof path);
        pl_audit_map_t m;
        if (pl_audit_map_open (path, snap[k].size, &m) != 0)
            break;
        bool expired = s_segment_expired (self, &m, now_ms, &anchor_seq, anchor_hash);
        pl_audit_map_close (&m);
        if (!expired || anchor_seq + 1 != snap[k + 1].first_seq)
            break;
        bytes += snap[k].size;
        k++;
    }
    pthread_mutex_unlock (&self->index_mu);
    int rc = 0;
    if (k > 0) {
        char from_s[24], anchor_s[24], hash_s[2 * PL_AUDIT_HASH_LEN + 1], segs_s[24], bytes_s[24];
        snprintf (from_s, sizeof from_s, "%" PRIu64, snap[0].first_seq);
        snprintf (anchor_s, sizeof anchor_s, "%" PRIu64, anchor_seq);
        sodium_bin2hex (hash_s, sizeof hash_s, anchor_hash, PL_AUDIT_HASH_LEN);
        snprintf (segs_s, sizeof segs_s, "%zu", k);
        snprintf (bytes_s, sizeof bytes_s, "%" PRIu64, bytes);
        pl_audit_attr_t attrs[] = {
            {"from_seq", from_s}, {"anchor_seq", anchor_s}, {"anchor_hash", hash_s},
            {"segments", segs_s}, {"bytes", bytes_s},
        };
        Plateau__V1__AuditEvent ev;
        pl_audit_event_init (&ev, "audit", "retention.expired", "", now_ms);
        uint64_t seq;
        /* Recorded first: a crash before the files go leaves them, and a record that verify
         * accepts either way. */
        rc = s_append_internal (self, &ev, now_ms, attrs, sizeof attrs / sizeof attrs[0], NULL,
                                &seq);
        for (size_t i = 0; rc == 0 && i < k; i++) {
            char path[4096];
            s_seg_path (self, snap[i].first_seq, path, sizeof path);
            if (unlink (path) != 0 && errno != ENOENT)
                rc = s_fail (self, PL_EIO, "%s: %s", path, strerror (errno));
        }
        if (rc == 0)
            pl_audit_fsync_dir (self->dir);
        if (rc == 0) {
            pthread_mutex_lock (&self->mu);
            memmove (self->segs, self->segs + k, (self->n_segs - k) * sizeof *self->segs);
            self->n_segs -= k;
            self->total_bytes -= bytes;
            self->retry_req++;                      /* space came back */
            pthread_cond_signal (&self->writer_cv);
            pthread_mutex_unlock (&self->mu);
            pthread_mutex_lock (&self->index_mu);
            if (self->index && pl_audit_index_delete_through (self->index, anchor_seq) != 0)
                s_fail (self, PL_EIO, "%s", pl_audit_index_errstr (self->index));
            pthread_mutex_unlock (&self->index_mu);
            if (removed)
                *removed = k;
        }
    }
    free (snap);
    pthread_mutex_unlock (&self->maint_mu);
    return rc;
}
