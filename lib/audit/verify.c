/*  verify.c — verification of every chain, checkpoint and erasure (see audit_verify.h).
 *
 *  Work is split per segment: a worker maps the file, walks its frames, hashes each one and
 *  checks its linkage to the one before, and notes what the join needs (first and last seq and
 *  hash, erasure and retention records, erased records, checkpoint matches). The join then
 *  runs in order: segment to segment, the chain's start, the checkpoints, the erasures. Every
 *  problem is kept as (seq, what); the report names the one with the lowest seq.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "plateau/error.h"
#include "chains.h"
#include "checkpoint.h"
#include "grow.h"
#include "plateau/audit_segment.h"
#include "wire.h"
#include "plateau/audit_verify.h"

static const uint8_t s_zero[PL_AUDIT_HASH_LEN];

typedef struct {
    uint64_t seq;
    uint8_t pseudonym[PL_AUDIT_PSEUDONYM_LEN];
} s_subject_t;

typedef struct {
    uint64_t seq, from_seq, anchor_seq;
    uint8_t anchor_hash[PL_AUDIT_HASH_LEN];
} s_expiry_t;

/* A growable array of fixed-size items. */
typedef struct {
    void *v;
    size_t n, cap, size;
} s_vec_t;

static void *
s_vec_push (s_vec_t *a)
{
    if (!pl__grow (&a->v, a->n, &a->cap, a->size, 16))
        return NULL;
    return (uint8_t *) a->v + a->size * a->n++;
}

/* The first problem found, by lowest seq; problems without a seq rank first. */
typedef struct {
    bool any, has_seq;
    uint64_t seq;
    uint64_t count;
    char what[512];
    char file[128];
    uint64_t offset;
} s_problem_t;

static void
s_problem (s_problem_t *p, bool has_seq, uint64_t seq, const char *file, uint64_t offset,
           const char *fmt, ...) __attribute__ ((format (printf, 6, 7)));

static void
s_problem (s_problem_t *p, bool has_seq, uint64_t seq, const char *file, uint64_t offset,
           const char *fmt, ...)
{
    p->count++;
    bool better = !p->any || (p->has_seq && (!has_seq || seq < p->seq));
    if (!better)
        return;
    p->any = true;
    p->has_seq = has_seq;
    p->seq = seq;
    p->offset = offset;
    snprintf (p->file, sizeof p->file, "%s", file ? file : "");
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (p->what, sizeof p->what, fmt, ap);
    va_end (ap);
}

static void
s_problem_merge (s_problem_t *into, const s_problem_t *p)
{
    if (!p->any)
        return;
    uint64_t count = into->count + p->count - 1;
    s_problem (into, p->has_seq, p->seq, p->file, p->offset, "%s", p->what);
    into->count = count;
}

typedef struct {
    /* in */
    const char *dir;
    uint64_t name_seq;
    bool last;
    /* out */
    int io;
    s_problem_t prob;
    bool any;
    uint64_t first_seq, last_seq, records, bytes;
    uint8_t first_prev[PL_AUDIT_HASH_LEN], last_hash[PL_AUDIT_HASH_LEN];
    s_vec_t erased, erasures, expiries, ckpt_hits;     /* ckpt_hits: size_t indexes */
    bool partial_tail;
} s_seg_result_t;

typedef struct {
    const char *chain;
    const pl_audit_ckpt_t *ckpts;       /* valid ones, sorted by seq */
    size_t n_ckpts;
    bool live;
    s_seg_result_t *results;
    size_t n;
    atomic_size_t next;
} s_job_t;

/* The public fields verify needs from a body without decoding all of it. */
typedef struct {
    const char *chain, *type;
    size_t chain_len, type_len;
    const uint8_t *pseudonym;
} s_peek_t;

static bool
s_peek (const pl_audit_frame_t *f, s_peek_t *p)
{
    pl__rbuf_t r = {f->body, f->body_len, PL_AUDIT_BODY_FIXED, false};
    const char *s;
    size_t n;
    pl__rbuf_str (&r, &p->chain, &p->chain_len);
    pl__rbuf_str (&r, &s, &n);                          /* event_id */
    pl__rbuf_str (&r, &s, &n);                          /* service */
    pl__rbuf_str (&r, &p->type, &p->type_len);
    pl__rbuf_str (&r, &s, &n);                          /* lead_id */
    pl__rbuf_str (&r, &s, &n);                          /* campaign */
    uint8_t plen = pl__rbuf_u8 (&r);
    p->pseudonym = plen == PL_AUDIT_PSEUDONYM_LEN ? pl__rbuf_take (&r, plen) : NULL;
    return !r.err && (plen == 0 || plen == PL_AUDIT_PSEUDONYM_LEN);
}

static bool
s_is (const char *s, size_t n, const char *lit)
{
    return n == strlen (lit) && memcmp (s, lit, n) == 0;
}

static bool
s_blank (const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* A retention.expired record's anchor, from its attrs. */
static void
s_note_expiry (s_seg_result_t *res, pl_audit_codec_t *codec, const pl_audit_frame_t *f)
{
    const pl_audit_record_t *r;
    if (pl_audit_codec_decode (codec, f, &r) != 0)
        return;
    s_expiry_t e = {.seq = f->seq};
    bool from = false, anchor = false, hash = false;
    for (size_t i = 0; i < r->n_attrs; i++) {
        const char *k = r->attrs[i].key, *v = r->attrs[i].value;
        if (strcmp (k, "from_seq") == 0)
            e.from_seq = strtoull (v, NULL, 10), from = true;
        else if (strcmp (k, "anchor_seq") == 0)
            e.anchor_seq = strtoull (v, NULL, 10), anchor = true;
        else if (strcmp (k, "anchor_hash") == 0)
            hash = pl_audit_keys_parse_hex (v, e.anchor_hash) == 0;
    }
    s_expiry_t *slot;
    if (from && anchor && hash && (slot = s_vec_push (&res->expiries)))
        *slot = e;
}

static void
s_verify_segment (const s_job_t *job, s_seg_result_t *res, pl_audit_codec_t *codec)
{
    char name[PL_AUDIT_SEG_NAME_MAX], path[4096];
    pl_audit_seg_name (res->name_seq, name);
    snprintf (path, sizeof path, "%s/%s", res->dir, name);
    pl_audit_map_t m;
    if (pl_audit_map_open (path, 0, &m) != 0) {
        res->io = PL_EIO;
        s_problem (&res->prob, true, res->name_seq, name, 0, "segment cannot be read: %s",
                   strerror (errno));
        return;
    }
    res->bytes = m.len;
    pl_audit_seg_header_t h;
    int rc = pl_audit_seg_header_decode (m.data, m.len, &h);
    if (rc) {
        s_problem (&res->prob, true, res->name_seq, name, 0, "segment header %s",
                   rc == PL_EAGAIN ? "incomplete" : "damaged");
        pl_audit_map_close (&m);
        return;
    }
    if (strcmp (h.chain_id, job->chain) != 0)
        s_problem (&res->prob, true, res->name_seq, name, 0,
                   "segment header names chain %s", h.chain_id);
    if (h.first_seq != res->name_seq)
        s_problem (&res->prob, true, res->name_seq, name, 0,
                   "segment header names first seq %" PRIu64, h.first_seq);

    size_t chain_len = strlen (job->chain);
    uint64_t expected = res->name_seq;
    const uint8_t *prev = h.prev_hash;
    size_t ck = 0;
    size_t off = PL_AUDIT_SEG_HEADER;
    while (off < m.len) {
        pl_audit_frame_t f;
        rc = pl_audit_frame_parse (m.data + off, m.len - off, &f);
        if (rc == PL_EAGAIN && res->last && job->live) {
            res->partial_tail = true;       /* a batch being written */
            break;
        }
        if (rc) {
            s_problem (&res->prob, true, expected, name, off,
                       rc == PL_EAGAIN ? "record %" PRIu64 " incomplete: the segment ends inside it (torn tail)"
                                       : "record %" PRIu64 " has a damaged frame; the rest of the segment cannot be read",
                       expected);
            break;
        }
        const char *what = NULL;
        s_peek_t pk;
        /* A record that fails its hash cannot be trusted for its own seq: it stands where the
         * chain expected one, so one bad byte is one problem, not a cascade. */
        uint64_t here = expected;
        if (pl_audit_frame_check (&f, &what) != 0)
            s_problem (&res->prob, true, expected, name, off, "record %" PRIu64 ": %s", expected,
                       what);
        else if (!s_peek (&f, &pk))
            s_problem (&res->prob, true, expected, name, off, "record %" PRIu64 ": body does not decode",
                       expected);
        else {
            here = f.seq;
            if (f.seq != expected) {
                if (f.seq > expected)
                    s_problem (&res->prob, true, expected, name, off,
                               "record %" PRIu64 " missing: found %" PRIu64 " in its place "
                               "(records deleted or reordered)",
                               expected, f.seq);
                else
                    s_problem (&res->prob, true, expected, name, off,
                               "record %" PRIu64 " expected, found %" PRIu64 " (records reordered or repeated)",
                               expected, f.seq);
            } else if (memcmp (f.prev_hash, prev, PL_AUDIT_HASH_LEN) != 0)
                s_problem (&res->prob, true, expected, name, off,
                           off == PL_AUDIT_SEG_HEADER
                               ? "record %" PRIu64 " does not match the segment header's previous hash"
                               : "record %" PRIu64 " does not link to the record before it",
                           expected);
            if (pk.chain_len != chain_len || memcmp (pk.chain, job->chain, chain_len) != 0)
                s_problem (&res->prob, true, f.seq, name, off, "record %" PRIu64 " belongs to chain %.*s",
                           f.seq, (int) pk.chain_len, pk.chain);
            if (f.flags & PL_AUDIT_FLAG_ERASED) {
                s_subject_t *s = s_vec_push (&res->erased);
                if (s) {
                    s->seq = f.seq;
                    if (pk.pseudonym)
                        memcpy (s->pseudonym, pk.pseudonym, PL_AUDIT_PSEUDONYM_LEN);
                    else
                        memset (s->pseudonym, 0, PL_AUDIT_PSEUDONYM_LEN);
                }
                if (f.pd_len && !s_blank (f.pd, f.pd_len))
                    s_problem (&res->prob, true, f.seq, name, off,
                               "record %" PRIu64 " is flagged erased but its personal part is not blank",
                               f.seq);
            }
            if (s_is (pk.type, pk.type_len, "person.erased") && pk.pseudonym) {
                s_subject_t *s = s_vec_push (&res->erasures);
                if (s) {
                    s->seq = f.seq;
                    memcpy (s->pseudonym, pk.pseudonym, PL_AUDIT_PSEUDONYM_LEN);
                }
            } else if (s_is (pk.type, pk.type_len, "retention.expired"))
                s_note_expiry (res, codec, &f);
            while (ck < job->n_ckpts && job->ckpts[ck].seq < f.seq)
                ck++;
            for (size_t c = ck; c < job->n_ckpts && job->ckpts[c].seq == f.seq; c++) {
                size_t *hit = s_vec_push (&res->ckpt_hits);
                if (hit)
                    *hit = c;
                if (memcmp (job->ckpts[c].hash, f.hash, PL_AUDIT_HASH_LEN) != 0)
                    s_problem (&res->prob, true, f.seq, name, off,
                               "record %" PRIu64 " is not the record its signed checkpoint names "
                               "(the chain was rewritten)",
                               f.seq);
            }
        }
        if (!res->any) {
            res->any = true;
            res->first_seq = here;
            memcpy (res->first_prev, f.prev_hash, PL_AUDIT_HASH_LEN);
        }
        res->last_seq = here;
        memcpy (res->last_hash, f.hash, PL_AUDIT_HASH_LEN);
        res->records++;
        prev = f.hash;
        expected = here + 1;
        off += f.frame_len;
    }
    pl_audit_map_close (&m);
}

static void *
s_worker (void *arg)
{
    s_job_t *job = arg;
    pl_audit_codec_t *codec = pl_audit_codec_new ();
    for (;;) {
        size_t i = atomic_fetch_add (&job->next, 1);
        if (i >= job->n)
            break;
        if (codec)
            s_verify_segment (job, &job->results[i], codec);
        else
            job->results[i].io = PL_ENOMEM;
    }
    pl_audit_codec_destroy (&codec);
    return NULL;
}

static int
s_ckpt_cmp (const void *a, const void *b)
{
    uint64_t x = ((const pl_audit_ckpt_t *) a)->seq, y = ((const pl_audit_ckpt_t *) b)->seq;
    return x < y ? -1 : x > y;
}

static int
s_threads (const pl_audit_verify_opts_t *opts, size_t work)
{
    long n = opts->threads > 0 ? opts->threads : sysconf (_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if ((size_t) n > work)
        n = (long) (work ? work : 1);
    return n > 64 ? 64 : (int) n;
}

static void
s_count_torn (const char *dir, pl_audit_chain_report_t *out)
{
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir (d)))
        if (strstr (e->d_name, ".torn-"))
            out->torn_files++;
    closedir (d);
}

static int
s_verify_chain (const char *chain_dir, const char *chain_id,
                const pl_audit_verify_opts_t *opts, pl_audit_chain_report_t *out)
{
    memset (out, 0, sizeof *out);
    snprintf (out->chain, sizeof out->chain, "%s", chain_id);
    out->empty = true;
    s_problem_t prob = {0};

    /* Checkpoints: signatures first; the valid ones are matched against records below. */
    char path[4200];                /* the chain directory's path is under 4096 */
    snprintf (path, sizeof path, "%s/" PL_AUDIT_CKPT_FILE, chain_dir);
    pl_audit_ckpt_t *all = NULL;
    size_t n_all = 0, partial = 0, bad = 0;
    int rc = pl_audit_ckpt_load (path, &all, &n_all, &partial, &bad);
    if (rc == PL_ECORRUPT)
        s_problem (&prob, false, 0, PL_AUDIT_CKPT_FILE, bad * PL_AUDIT_CKPT_LEN,
                   "checkpoint entry %zu is malformed", bad);
    else if (rc) {
        out->status = PL_EIO;
        snprintf (out->what, sizeof out->what, "%s cannot be read", PL_AUDIT_CKPT_FILE);
        free (all);
        return out->status;
    }
    if (partial)
        snprintf (out->notes, sizeof out->notes,
                  "the checkpoint file ends with a partial entry (a write cut by a crash)");
    out->checkpoints = n_all;
    pl_audit_ckpt_t *ck = n_all ? malloc (n_all * sizeof *ck) : NULL;
    size_t n_ck = 0;
    for (size_t i = 0; i < n_all; i++) {
        const pl_audit_ckpt_t *c = &all[i];
        uint64_t off = i * PL_AUDIT_CKPT_LEN;
        if (strcmp (c->chain_id, chain_id) != 0) {
            s_problem (&prob, true, c->seq, PL_AUDIT_CKPT_FILE, off,
                       "checkpoint for seq %" PRIu64 " names chain %s", c->seq, c->chain_id);
            continue;
        }
        int v = pl_audit_ckpt_verify (c, opts->trusted, opts->n_trusted);
        if (v == PL_ECORRUPT)
            s_problem (&prob, true, c->seq, PL_AUDIT_CKPT_FILE, off,
                       "checkpoint for seq %" PRIu64 " has an invalid signature (forged or altered)",
                       c->seq);
        else if (v == PL_EPERM)
            s_problem (&prob, true, c->seq, PL_AUDIT_CKPT_FILE, off,
                       "checkpoint for seq %" PRIu64 " is signed by a key that is not trusted",
                       c->seq);
        else if (ck)
            ck[n_ck++] = *c;
    }
    free (all);
    if (n_ck)
        qsort (ck, n_ck, sizeof *ck, s_ckpt_cmp);

    pl_audit_seg_entry_t *segs = NULL;
    size_t n_segs = 0;
    rc = pl_audit_seg_list (chain_dir, &segs, &n_segs);
    if (rc) {
        free (ck);
        out->status = PL_EIO;
        snprintf (out->what, sizeof out->what, "chain directory cannot be read");
        return out->status;
    }
    out->segments = n_segs;
    s_seg_result_t *res = n_segs ? calloc (n_segs, sizeof *res) : NULL;
    if (n_segs && !res) {
        free (ck);
        free (segs);
        return out->status = PL_ENOMEM;
    }
    for (size_t i = 0; i < n_segs; i++) {
        res[i].dir = chain_dir;
        res[i].name_seq = segs[i].first_seq;
        res[i].last = i + 1 == n_segs;
        res[i].erased.size = res[i].erasures.size = sizeof (s_subject_t);
        res[i].expiries.size = sizeof (s_expiry_t);
        res[i].ckpt_hits.size = sizeof (size_t);
    }
    free (segs);
    s_job_t job = {.chain = chain_id, .ckpts = ck, .n_ckpts = n_ck, .live = opts->live,
                   .results = res, .n = n_segs};
    atomic_init (&job.next, 0);
    int nt = s_threads (opts, n_segs);
    pthread_t th[64];
    int started = 0;
    for (int t = 1; t < nt; t++)
        if (pthread_create (&th[started], NULL, s_worker, &job) == 0)
            started++;
    s_worker (&job);
    for (int t = 0; t < started; t++)
        pthread_join (th[t], NULL);

    /* Join, in seq order. */
    bool *hit = n_ck ? calloc (n_ck, sizeof *hit) : NULL;
    bool have = false;
    uint64_t last_seq = 0;
    uint8_t last_hash[PL_AUDIT_HASH_LEN];
    char name[PL_AUDIT_SEG_NAME_MAX];
    for (size_t i = 0; i < n_segs; i++) {
        s_seg_result_t *r = &res[i];
        s_problem_merge (&prob, &r->prob);
        if (r->io && !out->status)
            out->status = r->io;
        out->records += r->records;
        out->bytes += r->bytes;
        for (size_t j = 0; hit && j < r->ckpt_hits.n; j++)
            hit[((size_t *) r->ckpt_hits.v)[j]] = true;
        if (!r->any)
            continue;
        pl_audit_seg_name (r->name_seq, name);
        if (!have) {
            out->first_seq = r->first_seq;
            if (r->first_seq == 0) {
                if (memcmp (r->first_prev, s_zero, PL_AUDIT_HASH_LEN) != 0)
                    s_problem (&prob, true, 0, name, PL_AUDIT_SEG_HEADER,
                               "record 0 does not start from the zero hash");
            } else {
                /* A chain that starts later must start where a recorded expiry said. */
                bool anchored = false;
                uint64_t known_start = 0;
                for (size_t k = 0; k < n_segs && !anchored; k++) {
                    const s_expiry_t *e = res[k].expiries.v;
                    for (size_t x = 0; x < res[k].expiries.n && !anchored; x++) {
                        if (e[x].anchor_seq + 1 == r->first_seq)
                            anchored = memcmp (e[x].anchor_hash, r->first_prev, PL_AUDIT_HASH_LEN) == 0;
                        else if (e[x].from_seq < r->first_seq && r->first_seq <= e[x].anchor_seq)
                            anchored = true;        /* an expiry cut short by a crash */
                        if (e[x].anchor_seq + 1 <= r->first_seq && e[x].anchor_seq + 1 > known_start)
                            known_start = e[x].anchor_seq + 1;
                    }
                }
                if (!anchored)
                    s_problem (&prob, true, known_start, name, PL_AUDIT_SEG_HEADER,
                               "records %" PRIu64 " to %" PRIu64 " missing: the chain starts at %" PRIu64
                               " and no recorded retention expiry covers the gap",
                               known_start, r->first_seq - 1, r->first_seq);
            }
        } else {
            if (r->first_seq > last_seq + 1)
                s_problem (&prob, true, last_seq + 1, name, PL_AUDIT_SEG_HEADER,
                           "records %" PRIu64 " to %" PRIu64 " missing between segments",
                           last_seq + 1, r->first_seq - 1);
            else if (r->first_seq < last_seq + 1)
                s_problem (&prob, true, r->first_seq, name, PL_AUDIT_SEG_HEADER,
                           "record %" PRIu64 " appears in two segments", r->first_seq);
            else if (memcmp (r->first_prev, last_hash, PL_AUDIT_HASH_LEN) != 0)
                s_problem (&prob, true, r->first_seq, name, PL_AUDIT_SEG_HEADER,
                           "record %" PRIu64 " does not link to the last record of the segment before",
                           r->first_seq);
        }
        have = true;
        last_seq = r->last_seq;
        memcpy (last_hash, r->last_hash, PL_AUDIT_HASH_LEN);
        if (r->partial_tail)
            snprintf (out->notes, sizeof out->notes, "the last record is being written");
    }
    out->empty = !have;
    out->last_seq = last_seq;

    /* Checkpoints that matched no record. */
    for (size_t c = 0; c < n_ck; c++) {
        if (hit && hit[c])
            continue;
        uint64_t s = ck[c].seq;
        if (!have)
            s_problem (&prob, true, 0, PL_AUDIT_CKPT_FILE, 0,
                       "no records, but a checkpoint signs seq %" PRIu64 " (records deleted)", s);
        else if (s > last_seq)
            s_problem (&prob, true, last_seq + 1, PL_AUDIT_CKPT_FILE, 0,
                       "tail truncated: the chain ends at seq %" PRIu64 " but a checkpoint signs seq %" PRIu64,
                       last_seq, s);
        else if (s < out->first_seq)
            out->checkpoints_expired++;
        else
            s_problem (&prob, true, s, PL_AUDIT_CKPT_FILE, 0,
                       "record %" PRIu64 ", signed by a checkpoint, is missing", s);
    }

    /* Erased records need a later erasure record of the same pseudonym. */
    for (size_t i = 0; i < n_segs; i++) {
        const s_subject_t *er = res[i].erased.v;
        out->erased += res[i].erased.n;
        for (size_t j = 0; j < res[i].erased.n; j++) {
            bool covered = false;
            for (size_t k = 0; k < n_segs && !covered; k++) {
                const s_subject_t *x = res[k].erasures.v;
                for (size_t y = 0; y < res[k].erasures.n && !covered; y++)
                    covered = x[y].seq > er[j].seq
                           && memcmp (x[y].pseudonym, er[j].pseudonym, PL_AUDIT_PSEUDONYM_LEN) == 0;
            }
            if (!covered) {
                pl_audit_seg_name (res[i].name_seq, name);
                s_problem (&prob, true, er[j].seq, name, 0,
                           "record %" PRIu64 ": personal part removed without an erasure record",
                           er[j].seq);
            }
        }
    }
    s_count_torn (chain_dir, out);

    for (size_t i = 0; i < n_segs; i++) {
        free (res[i].erased.v);
        free (res[i].erasures.v);
        free (res[i].expiries.v);
        free (res[i].ckpt_hits.v);
    }
    free (res);
    free (hit);
    free (ck);
    if (prob.any) {
        if (!out->status)
            out->status = PL_ECORRUPT;
        out->has_bad_seq = prob.has_seq;
        out->bad_seq = prob.seq;
        out->problems = prob.count;
        out->offset = prob.offset;
        snprintf (out->what, sizeof out->what, "%s", prob.what);
        snprintf (out->file, sizeof out->file, "%s", prob.file);
    }
    return out->status;
}

void
pl_audit_verify_report_destroy (pl_audit_verify_report_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->chains);
        free (*self_p);
        *self_p = NULL;
    }
}

int
pl_audit_verify (const char *root, const pl_audit_verify_opts_t *opts,
                 pl_audit_verify_report_t **report)
{
    *report = NULL;
    if (!opts || !opts->trusted || opts->n_trusted == 0)
        return PL_EINVAL;
    pl_audit_verify_report_t *r = calloc (1, sizeof *r);
    if (!r)
        return PL_ENOMEM;
    *report = r;
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    char **names;
    size_t n;
    if ((r->status = pl__audit_chains (root, &names, &n)) != 0)
        return r->status;
    r->chains = n ? calloc (n, sizeof *r->chains) : NULL;
    for (size_t i = 0; r->chains && i < n; i++) {
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", root, names[i]);
        int rc = s_verify_chain (path, names[i], opts, &r->chains[r->n_chains]);
        r->records += r->chains[r->n_chains].records;
        r->bytes += r->chains[r->n_chains].bytes;
        r->n_chains++;
        if (rc && (!r->status || rc == PL_ECORRUPT))
            r->status = rc;
    }
    pl__audit_chains_free (names, n);
    clock_gettime (CLOCK_MONOTONIC, &t1);
    r->seconds = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (n && !r->chains)
        r->status = PL_ENOMEM;
    return r->status;
}

char *
pl_audit_verify_report_text (const pl_audit_verify_report_t *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    if (!f)
        return NULL;
    if (r->n_chains == 0)
        fprintf (f, "no chains found\n");
    for (size_t i = 0; i < r->n_chains; i++) {
        const pl_audit_chain_report_t *c = &r->chains[i];
        if (c->status == 0) {
            if (c->empty)
                fprintf (f, "chain %s: OK, empty\n", c->chain);
            else
                fprintf (f,
                         "chain %s: OK, records %" PRIu64 " to %" PRIu64 " (%" PRIu64
                         " records, %" PRIu64 " segments), %" PRIu64 " checkpoints verified",
                         c->chain, c->first_seq, c->last_seq, c->records, c->segments,
                         c->checkpoints - c->checkpoints_expired);
            if (!c->empty && c->erased)
                fprintf (f, ", %" PRIu64 " erased", c->erased);
            if (!c->empty)
                fprintf (f, "\n");
        } else {
            fprintf (f, "chain %s: FAILED", c->chain);
            if (c->has_bad_seq)
                fprintf (f, " at seq %" PRIu64, c->bad_seq);
            fprintf (f, ": %s", c->what);
            if (c->file[0])
                fprintf (f, " [%s offset %" PRIu64 "]", c->file, c->offset);
            if (c->problems > 1)
                fprintf (f, " (%" PRIu64 " problems in all)", c->problems);
            fprintf (f, "\n");
        }
        if (c->notes[0])
            fprintf (f, "  note: %s\n", c->notes);
        if (c->torn_files)
            fprintf (f, "  note: %" PRIu64 " torn tail(s) set aside at recovery (*.torn-*)\n",
                     c->torn_files);
    }
    fprintf (f, "%s: %zu chain(s), %" PRIu64 " records, %.1f MB in %.2f s\n",
             r->status == 0 ? "verified" : "NOT verified", r->n_chains, r->records,
             (double) r->bytes / 1e6, r->seconds);
    fclose (f);
    return buf;
}

json_t *
pl_audit_verify_report_json (const pl_audit_verify_report_t *r)
{
    json_t *chains = json_array ();
    for (size_t i = 0; i < r->n_chains; i++) {
        const pl_audit_chain_report_t *c = &r->chains[i];
        json_t *o = json_pack ("{s:s, s:b, s:I, s:I, s:I, s:I, s:I}", "chain", c->chain, "ok",
                               c->status == 0, "records", (json_int_t) c->records, "segments",
                               (json_int_t) c->segments, "checkpoints",
                               (json_int_t) c->checkpoints, "erased", (json_int_t) c->erased,
                               "torn_files", (json_int_t) c->torn_files);
        if (!c->empty) {
            json_object_set_new (o, "first_seq", json_integer ((json_int_t) c->first_seq));
            json_object_set_new (o, "last_seq", json_integer ((json_int_t) c->last_seq));
        }
        if (c->status) {
            if (c->has_bad_seq)
                json_object_set_new (o, "bad_seq", json_integer ((json_int_t) c->bad_seq));
            json_object_set_new (o, "error", json_string (c->what));
            json_object_set_new (o, "file", json_string (c->file));
            json_object_set_new (o, "offset", json_integer ((json_int_t) c->offset));
            json_object_set_new (o, "problems", json_integer ((json_int_t) c->problems));
        }
        if (c->notes[0])
            json_object_set_new (o, "note", json_string (c->notes));
        json_array_append_new (chains, o);
    }
    return json_pack ("{s:b, s:o, s:I, s:I, s:f}", "ok", r->status == 0, "chains", chains,
                      "records", (json_int_t) r->records, "bytes", (json_int_t) r->bytes,
                      "seconds", r->seconds);
}
