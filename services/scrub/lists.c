/*  lists.c — list versions (one block of bytes each, in memory or mapped from a file), the set
 *  of current versions with its read-side sections and grace periods, and lookups.
 *
 *  A version is one block, the same bytes in memory and in its file:
 *
 *      0     header (512 bytes): magic "PLSCRUBL", format, names, kind, flags, dates, the
 *            offset and length of each section, a checksum of the whole block
 *      …     hits:     a numset block (numset.h)
 *      …     clear:    a numset block (answer lists only; else empty)
 *      …     prefixes: uint64 encoded wildcard blocks, increasing
 *      …     dates:    int32 days since 1970, one per hit (rnd only)
 *
 *  Every section starts on a 64-byte boundary; the block's size is a multiple of 64.
 *
 *  Read-side sections (sleepable-RCU style): a reader adds one to a counter — one of
 *  SCRUB_READER_SLOTS cache-line-sized slots chosen by its thread, in the half named by the
 *  epoch's low bit — then loads the snapshot pointer, answers, and subtracts one. A swap
 *  publishes the new snapshot, waits for the other half to drain, flips the epoch, waits for the
 *  first half to drain; after that no reader can hold the old snapshot (any reader that loaded
 *  it had counted itself in one of the two halves before the publication), and it is released.
 *  Readers never wait and never write a shared cache line with other threads' slots.
 */
#include "lists.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lists_internal.h"
#include "plateau/error.h"

#define LIST_MAGIC "PLSCRUBL"
#define LIST_FORMAT 1
#define LIST_HEADER 512
#define LIST_ALIGN 64
#define LIST_FLAG_PARTIAL 1u
#define DAY_MS 86400000LL

typedef struct {
    char magic[8];
    uint32_t format;
    uint32_t header_size;
    char name[SCRUB_LIST_NAME_MAX];
    char version[SCRUB_LIST_VERSION_MAX];
    char jurisdiction[SCRUB_JURISDICTION_MAX];
    uint32_t kind;
    uint32_t flags;
    int64_t taken_ms;
    int64_t built_ms;
    uint64_t size;
    uint64_t hits_off, hits_len;
    uint64_t clear_off, clear_len;
    uint64_t prefixes_off, n_prefixes;
    uint64_t dates_off, n_dates;
    uint64_t checksum;          /* of the whole block with this field zero */
} list_header_t;

_Static_assert (sizeof (list_header_t) <= LIST_HEADER, "list header fits its slot");

struct scrub_list {
    atomic_long refs;
    uint8_t *block;
    size_t size;
    bool mapped;
    list_header_t h;
    scrub_numset_t hits, clear;
    const uint64_t *prefixes;
    size_t n_prefixes;
    uint32_t prefix_lens;       /* bit L set when some block has L digits */
    const int32_t *dates;
};

/* ------------------------------------------------------------------------------------------- */
/* Blocks                                                                                       */

static inline uint64_t
s_align (uint64_t x)
{
    return (x + LIST_ALIGN - 1) & ~(uint64_t) (LIST_ALIGN - 1);
}

static inline uint64_t
s_rotl (uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

/* A fast 64-bit checksum of a 64-byte-multiple block (four independent multiply-rotate lanes,
 * memory-bound), the header's checksum field taken as zero. It catches a file cut short,
 * overwritten or mixed with another; it is not a cryptographic seal. */
static uint64_t
s_checksum (const uint8_t *block, size_t size)
{
    const uint64_t k = 0x9E3779B97F4A7C15ULL;
    uint64_t h[4] = { 1, 2, 3, 4 };
    size_t csum_at = offsetof (list_header_t, checksum);
    for (size_t off = 0; off < size; off += 32) {
        uint64_t w[4];
        memcpy (w, block + off, 32);
        if (off <= csum_at && csum_at < off + 32)
            w[(csum_at - off) / 8] = 0;
        for (int j = 0; j < 4; j++)
            h[j] = s_rotl ((h[j] ^ w[j]) * k, 29);
    }
    uint64_t r = size;
    for (int j = 0; j < 4; j++)
        r = s_rotl ((r ^ h[j]) * k, 31);
    return r;
}

static void
s_copy_name (char *dst, size_t cap, const char *src)
{
    memset (dst, 0, cap);
    if (src)
        strncpy (dst, src, cap - 1);
}

/* Reads a block's sections into `self` after checking every offset. */
static int
s_attach (scrub_list_t *self, uint8_t *block, size_t size, bool verify_checksum)
{
    if (size < LIST_HEADER || size % LIST_ALIGN)
        return PL_ECORRUPT;
    list_header_t h;
    memcpy (&h, block, sizeof h);
    if (memcmp (h.magic, LIST_MAGIC, 8) != 0 || h.format != LIST_FORMAT
        || h.header_size != LIST_HEADER || h.size != size)
        return PL_ECORRUPT;
    if (h.name[SCRUB_LIST_NAME_MAX - 1] || h.version[SCRUB_LIST_VERSION_MAX - 1]
        || h.jurisdiction[SCRUB_JURISDICTION_MAX - 1] || !h.name[0]
        || h.kind > SCRUB_LIST_CAMPAIGN)
        return PL_ECORRUPT;
    /* Sections: aligned, in order, inside the block. */
    uint64_t end = LIST_HEADER;
    const uint64_t offs[4] = { h.hits_off, h.clear_off, h.prefixes_off, h.dates_off };
    const uint64_t lens[4] = { h.hits_len, h.clear_len, h.n_prefixes * 8, h.n_dates * 4 };
    if (h.n_prefixes > size / 8 || h.n_dates > size / 4)
        return PL_ECORRUPT;
    for (int i = 0; i < 4; i++) {
        if (offs[i] % LIST_ALIGN || offs[i] < end || lens[i] > size || offs[i] > size - lens[i])
            return PL_ECORRUPT;
        end = offs[i] + lens[i];
    }
    if (verify_checksum && s_checksum (block, size) != h.checksum)
        return PL_ECORRUPT;
    if (scrub_numset_view (block + h.hits_off, h.hits_len, &self->hits) != 0)
        return PL_ECORRUPT;
    if (h.clear_len && scrub_numset_view (block + h.clear_off, h.clear_len, &self->clear) != 0)
        return PL_ECORRUPT;
    if (h.n_dates && h.n_dates != self->hits.n)
        return PL_ECORRUPT;
    self->prefixes = (const uint64_t *) (block + h.prefixes_off);
    self->n_prefixes = h.n_prefixes;
    self->prefix_lens = 0;
    for (size_t i = 0; i < self->n_prefixes; i++) {
        int len = SCRUB_PREFIX_LEN (self->prefixes[i]);
        if (len < 1 || len > 15 || (i && self->prefixes[i] <= self->prefixes[i - 1]))
            return PL_ECORRUPT;
        self->prefix_lens |= 1u << len;
    }
    self->dates = h.n_dates ? (const int32_t *) (block + h.dates_off) : NULL;
    self->h = h;
    self->block = block;
    self->size = size;
    return 0;
}

int
scrub__list_build (const scrub__meta_t *meta, const uint64_t *hits, size_t n_hits,
                   const int32_t *dates, const uint64_t *clear, size_t n_clear,
                   const uint64_t *prefixes, size_t n_prefixes, scrub_list_t **out)
{
    *out = NULL;
    if (!meta->name || !meta->name[0] || strlen (meta->name) >= SCRUB_LIST_NAME_MAX
        || !meta->version || strlen (meta->version) >= SCRUB_LIST_VERSION_MAX
        || (meta->jurisdiction && strlen (meta->jurisdiction) >= SCRUB_JURISDICTION_MAX))
        return PL_EINVAL;
    void *hb = NULL, *cb = NULL;
    size_t hl = 0, cl = 0;
    int rc = scrub_numset_build (hits, n_hits, SCRUB_NUMSET_AUTO_BITS, &hb, &hl);
    if (rc == 0 && meta->partial)
        rc = scrub_numset_build (clear, n_clear, SCRUB_NUMSET_AUTO_BITS, &cb, &cl);
    if (rc) {
        free (hb);
        return rc;
    }
    list_header_t h = { .format = LIST_FORMAT, .header_size = LIST_HEADER,
                        .kind = (uint32_t) meta->kind,
                        .flags = meta->partial ? LIST_FLAG_PARTIAL : 0,
                        .taken_ms = meta->taken_ms };
    memcpy (h.magic, LIST_MAGIC, 8);
    s_copy_name (h.name, sizeof h.name, meta->name);
    s_copy_name (h.version, sizeof h.version, meta->version);
    s_copy_name (h.jurisdiction, sizeof h.jurisdiction, meta->jurisdiction);
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    h.built_ms = (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
    h.hits_off = LIST_HEADER;
    h.hits_len = hl;
    h.clear_off = s_align (h.hits_off + hl);
    h.clear_len = cl;
    h.prefixes_off = s_align (h.clear_off + cl);
    h.n_prefixes = n_prefixes;
    h.dates_off = s_align (h.prefixes_off + n_prefixes * 8);
    h.n_dates = dates ? n_hits : 0;
    h.size = s_align (h.dates_off + h.n_dates * 4);

    scrub_list_t *self = calloc (1, sizeof *self);
    uint8_t *block = aligned_alloc (LIST_ALIGN, h.size);
    if (!self || !block) {
        free (self);
        free (block);
        free (hb);
        free (cb);
        return PL_ENOMEM;
    }
    memset (block, 0, h.size);
    memcpy (block + h.hits_off, hb, hl);
    if (cl)
        memcpy (block + h.clear_off, cb, cl);
    if (n_prefixes)
        memcpy (block + h.prefixes_off, prefixes, n_prefixes * 8);
    if (h.n_dates)
        memcpy (block + h.dates_off, dates, h.n_dates * 4);
    free (hb);
    free (cb);
    memcpy (block, &h, sizeof h);
    h.checksum = s_checksum (block, h.size);
    memcpy (block, &h, sizeof h);
    rc = s_attach (self, block, h.size, false);
    if (rc) {
        /* prefixes not increasing or out of range: the caller's bug or bad input */
        free (block);
        free (self);
        return PL_EINVAL;
    }
    atomic_init (&self->refs, 1);
    *out = self;
    return 0;
}

const scrub_numset_t *
scrub__list_hits (const scrub_list_t *self)
{
    return &self->hits;
}

const scrub_numset_t *
scrub__list_clear (const scrub_list_t *self)
{
    return &self->clear;
}

const int32_t *
scrub__list_dates (const scrub_list_t *self)
{
    return self->dates;
}

const uint64_t *
scrub__list_prefixes (const scrub_list_t *self, size_t *n)
{
    *n = self->n_prefixes;
    return self->prefixes;
}

bool
scrub__list_partial (const scrub_list_t *self)
{
    return (self->h.flags & LIST_FLAG_PARTIAL) != 0;
}

/* ------------------------------------------------------------------------------------------- */
/* Files                                                                                        */

static void
s_detail (char *detail, size_t len, const char *fmt, const char *path, int err)
{
    if (detail && len)
        snprintf (detail, len, fmt, path, err ? strerror (err) : "");
}

static int
s_write_all (int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write (fd, p, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t) w;
    }
    return 0;
}

int
scrub_list_save (const scrub_list_t *self, const char *path, char *detail, size_t detail_len)
{
    size_t plen = strlen (path);
    char *tmp = malloc (plen + 32);
    char *dir = malloc (plen + 1);
    if (!tmp || !dir) {
        free (tmp);
        free (dir);
        return PL_ENOMEM;
    }
    snprintf (tmp, plen + 32, "%s.tmp.%ld", path, (long) getpid ());
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0) {
        s_detail (detail, detail_len, "cannot create a file beside %s: %s", path, errno);
        rc = PL_EIO;
    } else if (s_write_all (fd, self->block, self->size) != 0 || fsync (fd) != 0) {
        s_detail (detail, detail_len, "cannot write %s: %s", tmp, errno);
        rc = PL_EIO;
    }
    if (fd >= 0 && close (fd) != 0 && rc == 0) {
        s_detail (detail, detail_len, "cannot write %s: %s", tmp, errno);
        rc = PL_EIO;
    }
    if (rc == 0 && rename (tmp, path) != 0) {
        s_detail (detail, detail_len, "cannot rename into %s: %s", path, errno);
        rc = PL_EIO;
    }
    if (rc) {
        unlink (tmp);
    } else {
        memcpy (dir, path, plen + 1);
        int dfd = open (dirname (dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync (dfd);
            close (dfd);
        }
    }
    free (tmp);
    free (dir);
    return rc;
}

int
scrub_list_map (const char *path, scrub_list_t **out, char *detail, size_t detail_len)
{
    *out = NULL;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        s_detail (detail, detail_len, "cannot open %s: %s", path, errno);
        return PL_EIO;
    }
    struct stat st;
    if (fstat (fd, &st) != 0) {
        s_detail (detail, detail_len, "cannot stat %s: %s", path, errno);
        close (fd);
        return PL_EIO;
    }
    size_t size = (size_t) st.st_size;
    if (size < LIST_HEADER || size % LIST_ALIGN) {
        s_detail (detail, detail_len, "%s is not a scrub list file (size)%s", path, 0);
        close (fd);
        return PL_ECORRUPT;
    }
    void *mem = mmap (NULL, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
    close (fd);
    if (mem == MAP_FAILED) {
        s_detail (detail, detail_len, "cannot map %s: %s", path, errno);
        return PL_EIO;
    }
    scrub_list_t *self = calloc (1, sizeof *self);
    if (!self) {
        munmap (mem, size);
        return PL_ENOMEM;
    }
    if (s_attach (self, mem, size, true) != 0) {
        s_detail (detail, detail_len, "%s failed its checks (layout, offsets or checksum)%s",
                  path, 0);
        munmap (mem, size);
        free (self);
        return PL_ECORRUPT;
    }
    madvise (mem, size, MADV_RANDOM);
    self->mapped = true;
    atomic_init (&self->refs, 1);
    *out = self;
    return 0;
}

scrub_list_t *
scrub_list_ref (scrub_list_t *self)
{
    atomic_fetch_add_explicit (&self->refs, 1, memory_order_relaxed);
    return self;
}

void
scrub_list_destroy (scrub_list_t **self_p)
{
    scrub_list_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    if (atomic_fetch_sub_explicit (&self->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (self->mapped)
        munmap (self->block, self->size);
    else
        free (self->block);
    free (self);
}

const char *
scrub_list_name (const scrub_list_t *self)
{
    return self->h.name;
}

const char *
scrub_list_version (const scrub_list_t *self)
{
    return self->h.version;
}

const char *
scrub_list_jurisdiction (const scrub_list_t *self)
{
    return self->h.jurisdiction;
}

scrub_list_kind_t
scrub_list_kind (const scrub_list_t *self)
{
    return (scrub_list_kind_t) self->h.kind;
}

int64_t
scrub_list_taken_ms (const scrub_list_t *self)
{
    return self->h.taken_ms;
}

uint64_t
scrub_list_count (const scrub_list_t *self)
{
    return self->hits.n;
}

uint64_t
scrub_list_clear_count (const scrub_list_t *self)
{
    return self->clear.n;
}

size_t
scrub_list_prefix_count (const scrub_list_t *self)
{
    return self->n_prefixes;
}

size_t
scrub_list_bytes (const scrub_list_t *self)
{
    return self->size;
}

bool
scrub_list_is_mapped (const scrub_list_t *self)
{
    return self->mapped;
}

/* ------------------------------------------------------------------------------------------- */
/* Answers                                                                                      */

static const uint64_t s_pow10[16] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
    100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
    10000000000000ULL, 100000000000000ULL, 1000000000000000ULL,
};

static bool
s_prefix_find (const uint64_t *p, size_t n, uint64_t needle)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid] < needle)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && p[lo] == needle;
}

/* The longest wildcard block of `self` that `key` (nd digits) starts with, or 0 (its length
 * in *len). */
static uint64_t
s_prefix_match (const scrub_list_t *self, uint64_t key, int nd, int *len)
{
    for (int l = nd; l >= 1; l--) {
        if (!(self->prefix_lens & (1u << l)))
            continue;
        uint64_t v = key / s_pow10[nd - l];
        if (s_prefix_find (self->prefixes, self->n_prefixes, SCRUB_PREFIX_ENCODE (l, v))) {
            *len = l;
            return v;
        }
    }
    return 0;
}

/* The answer of `v` about `key`, whose rank among the hits (or -1) is known. */
static void
s_answer_ranked (const scrub_list_t *v, uint64_t key, int nd, bool readable, int64_t rank,
                 scrub_hit_t *out)
{
    memcpy (out->list, v->h.name, SCRUB_LIST_NAME_MAX);
    memcpy (out->version, v->h.version, SCRUB_LIST_VERSION_MAX);
    memcpy (out->jurisdiction, v->h.jurisdiction, SCRUB_JURISDICTION_MAX);
    out->kind = (scrub_list_kind_t) v->h.kind;
    out->as_of_ms = v->h.taken_ms;
    out->disconnected_ms = 0;
    out->prefix[0] = '\0';
    out->hit = false;
    out->known = false;
    if (!readable)
        return;
    if (rank >= 0) {
        out->hit = true;
        if (v->dates)
            out->disconnected_ms = (int64_t) v->dates[rank] * DAY_MS;
    } else if (v->n_prefixes) {
        int len = 0;
        uint64_t p = s_prefix_match (v, key, nd, &len);
        if (len) {
            out->hit = true;
            scrub_key_to_e164 (p, out->prefix, sizeof out->prefix);
        }
    }
    out->known = out->hit || !(v->h.flags & LIST_FLAG_PARTIAL)
                 || scrub_numset_contains (&v->clear, key);
}

static void
s_answer (const scrub_list_t *v, uint64_t key, int nd, bool readable, scrub_hit_t *out)
{
    s_answer_ranked (v, key, nd, readable, readable ? scrub_numset_rank (&v->hits, key) : -1,
                     out);
}

void
scrub_hit_to_rules (const scrub_hit_t *hit, int64_t consent_ms, pl_rules_list_t *out)
{
    out->list = hit->list;
    out->version = hit->version;
    out->as_of_ms = hit->as_of_ms;
    out->hit = hit->hit || !hit->known;
    if (hit->kind == SCRUB_LIST_REASSIGNED && hit->hit && consent_ms > 0) {
        int64_t consent_day = consent_ms - (((consent_ms % DAY_MS) + DAY_MS) % DAY_MS);
        out->hit = hit->disconnected_ms >= consent_day;
    }
}

/* ------------------------------------------------------------------------------------------- */
/* The set of lists                                                                             */

#define SCRUB_READER_SLOTS 32

typedef struct {
    size_t n;
    scrub_list_t *v[];
} snapshot_t;

typedef struct {
    _Alignas (64) atomic_long count[2];
} reader_slot_t;

struct scrub_lists {
    reader_slot_t slots[SCRUB_READER_SLOTS];
    _Alignas (64) _Atomic (snapshot_t *) current;
    atomic_ulong epoch;
    pthread_mutex_t writer;
};

static reader_slot_t *
s_slot (scrub_lists_t *self)
{
    uint64_t t = (uint64_t) (uintptr_t) pthread_self ();
    return &self->slots[(t * 0x9E3779B97F4A7C15ULL) >> 59];
}

static inline unsigned
s_enter (scrub_lists_t *self, reader_slot_t *slot)
{
    unsigned idx = (unsigned) (atomic_load (&self->epoch) & 1);
    atomic_fetch_add (&slot->count[idx], 1);        /* seq_cst: before the snapshot load */
    return idx;
}

static inline void
s_leave (reader_slot_t *slot, unsigned idx)
{
    atomic_fetch_sub_explicit (&slot->count[idx], 1, memory_order_release);
}

static void
s_drain (scrub_lists_t *self, unsigned idx)
{
    for (int i = 0; i < SCRUB_READER_SLOTS; i++) {
        unsigned spins = 0;
        while (atomic_load (&self->slots[i].count[idx]) != 0) {
            if (++spins < 64) {
                sched_yield ();
            } else {
                struct timespec ts = { 0, 50000 };
                nanosleep (&ts, NULL);
            }
        }
    }
}

/* Called with the writer lock held, after the new snapshot was published. */
static void
s_synchronize (scrub_lists_t *self)
{
    unsigned cur = (unsigned) (atomic_load (&self->epoch) & 1);
    s_drain (self, cur ^ 1);
    atomic_fetch_add (&self->epoch, 1);
    s_drain (self, cur);
}

static void
s_snapshot_free (snapshot_t *snap)
{
    if (!snap)
        return;
    for (size_t i = 0; i < snap->n; i++)
        scrub_list_destroy (&snap->v[i]);
    free (snap);
}

scrub_lists_t *
scrub_lists_new (void)
{
    scrub_lists_t *self = aligned_alloc (64, (sizeof (scrub_lists_t) + 63) & ~(size_t) 63);
    if (!self)
        return NULL;
    memset (self, 0, sizeof *self);
    snapshot_t *empty = calloc (1, sizeof *empty);
    if (!empty) {
        free (self);
        return NULL;
    }
    for (int i = 0; i < SCRUB_READER_SLOTS; i++) {
        atomic_init (&self->slots[i].count[0], 0);
        atomic_init (&self->slots[i].count[1], 0);
    }
    atomic_init (&self->current, empty);
    atomic_init (&self->epoch, 0);
    pthread_mutex_init (&self->writer, NULL);
    return self;
}

void
scrub_lists_destroy (scrub_lists_t **self_p)
{
    scrub_lists_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    s_snapshot_free (atomic_load (&self->current));
    pthread_mutex_destroy (&self->writer);
    free (self);
}

/* Replaces (or adds, or with version NULL removes) the list `name`. */
static int
s_replace (scrub_lists_t *self, const char *name, scrub_list_t *version)
{
    pthread_mutex_lock (&self->writer);
    snapshot_t *old = atomic_load (&self->current);
    size_t at = old->n;
    for (size_t i = 0; i < old->n; i++) {
        if (strcmp (old->v[i]->h.name, name) == 0)
            at = i;
    }
    if (!version && at == old->n) {
        pthread_mutex_unlock (&self->writer);
        return PL_ENOTFOUND;
    }
    size_t n = version ? (at == old->n ? old->n + 1 : old->n) : old->n - 1;
    snapshot_t *snap = malloc (sizeof *snap + n * sizeof (scrub_list_t *));
    if (!snap) {
        pthread_mutex_unlock (&self->writer);
        return PL_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < old->n; i++) {
        if (i == at) {
            if (version)
                snap->v[k++] = scrub_list_ref (version);
        } else {
            snap->v[k++] = scrub_list_ref (old->v[i]);
        }
    }
    if (version && at == old->n)
        snap->v[k++] = scrub_list_ref (version);
    snap->n = k;
    atomic_store (&self->current, snap);
    s_synchronize (self);
    pthread_mutex_unlock (&self->writer);
    s_snapshot_free (old);
    return 0;
}

int
scrub_lists_swap (scrub_lists_t *self, scrub_list_t *version)
{
    return s_replace (self, version->h.name, version);
}

int
scrub_lists_remove (scrub_lists_t *self, const char *name)
{
    return s_replace (self, name, NULL);
}

scrub_list_t *
scrub_lists_get (scrub_lists_t *self, const char *name)
{
    reader_slot_t *slot = s_slot (self);
    unsigned idx = s_enter (self, slot);
    snapshot_t *snap = atomic_load (&self->current);
    scrub_list_t *found = NULL;
    for (size_t i = 0; i < snap->n; i++) {
        if (strcmp (snap->v[i]->h.name, name) == 0) {
            found = scrub_list_ref (snap->v[i]);
            break;
        }
    }
    s_leave (slot, idx);
    return found;
}

size_t
scrub_lists_count (scrub_lists_t *self)
{
    reader_slot_t *slot = s_slot (self);
    unsigned idx = s_enter (self, slot);
    size_t n = atomic_load (&self->current)->n;
    s_leave (slot, idx);
    return n;
}

int
scrub_lists_lookup (scrub_lists_t *self, const char *e164, scrub_hit_t *hits, size_t cap)
{
    uint64_t key;
    int nd;
    if (scrub_key_from_e164 (e164, &key, &nd) != 0)
        return PL_EINVAL;
    reader_slot_t *slot = s_slot (self);
    unsigned idx = s_enter (self, slot);
    snapshot_t *snap = atomic_load (&self->current);
    size_t n = snap->n;
    for (size_t i = 0; i < n && i < cap; i++)
        s_answer (snap->v[i], key, nd, true, &hits[i]);
    s_leave (slot, idx);
    return (int) n;
}

/* Numbers of a batch handled together: each list is asked about them all at once
 * (scrub_numset_rank_many), so that their cache misses overlap. */
#define LOOKUP_GROUP 64

int
scrub_lists_lookup_batch (scrub_lists_t *self, const char *const *e164, size_t count,
                          scrub_hit_t *hits, size_t cap, size_t *n_lists)
{
    int unreadable = 0;
    uint64_t keys[LOOKUP_GROUP];
    int nds[LOOKUP_GROUP];
    bool ok[LOOKUP_GROUP];
    int64_t ranks[LOOKUP_GROUP];
    reader_slot_t *slot = s_slot (self);
    unsigned idx = s_enter (self, slot);
    snapshot_t *snap = atomic_load (&self->current);
    for (size_t g = 0; g < count; g += LOOKUP_GROUP) {
        size_t m = count - g < LOOKUP_GROUP ? count - g : LOOKUP_GROUP;
        for (size_t j = 0; j < m; j++) {
            ok[j] = scrub_key_from_e164 (e164[g + j], &keys[j], &nds[j]) == 0;
            if (!ok[j]) {
                keys[j] = 0;            /* below every set: ranked -1 */
                nds[j] = 0;
                unreadable++;
            }
        }
        for (size_t i = 0; i < snap->n && i < cap; i++) {
            const scrub_list_t *v = snap->v[i];
            scrub_numset_rank_many (&v->hits, keys, m, ranks);
            for (size_t j = 0; j < m; j++)
                s_answer_ranked (v, keys[j], nds[j], ok[j], ranks[j], &hits[(g + j) * cap + i]);
        }
    }
    if (n_lists)
        *n_lists = snap->n;
    s_leave (slot, idx);
    return unreadable;
}
