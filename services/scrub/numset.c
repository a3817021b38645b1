/*  numset.c — the compact immutable number set of numset.h: building, checking, looking up.
 *
 *  Block layout (little-endian, every section 64-byte aligned so that a mapped file gives
 *  aligned loads):
 *
 *      0     header (128 bytes): magic "PLNSET01", n, lo, hi, w, nbuckets, offsets, size
 *      128   dir: uint32[nbuckets + 1], the rank of each bucket's first key
 *      …     bits: n fields of w bits, key i at bit i*w, then 8 bytes of slack
 */
#include "numset.h"

#include <stdlib.h>
#include <string.h>

#include "plateau/error.h"

#define NSET_MAGIC "PLNSET01"
#define NSET_HEADER 128
#define NSET_ALIGN 64
#define NSET_SLACK 8
/* A directory is never allowed to outgrow this many buckets per key (plus a small floor). */
#define NSET_MAX_BUCKETS_PER_KEY 64

typedef struct {
    char magic[8];
    uint64_t n;
    uint64_t lo;
    uint64_t hi;
    uint32_t w;
    uint32_t reserved;
    uint64_t nbuckets;
    uint64_t dir_off;
    uint64_t bits_off;
    uint64_t size;
} nset_header_t;

_Static_assert (sizeof (nset_header_t) <= NSET_HEADER, "numset header fits its slot");

static inline uint64_t
s_align (uint64_t x)
{
    return (x + NSET_ALIGN - 1) & ~(uint64_t) (NSET_ALIGN - 1);
}

static inline uint64_t
s_load64 (const uint8_t *p)
{
    uint64_t v;
    memcpy (&v, p, sizeof v);
    return v;
}

static inline uint64_t
s_get (const uint8_t *bits, uint32_t w, uint64_t mask, uint64_t i)
{
    uint64_t bit = i * w;
    return (s_load64 (bits + (bit >> 3)) >> (bit & 7)) & mask;
}

static inline void
s_put (uint8_t *bits, uint32_t w, uint64_t i, uint64_t v)
{
    uint64_t bit = i * w;
    uint8_t *p = bits + (bit >> 3);
    uint64_t cur = s_load64 (p);
    cur |= v << (bit & 7);
    memcpy (p, &cur, sizeof cur);
}

/* Layout of a block for n keys spanning `span` (hi - lo) with w low bits; false when the
 * directory would be absurdly large for the keys (a tiny w over a wide span). */
static bool
s_layout (uint64_t n, uint64_t span, uint32_t w, uint64_t *nbuckets, uint64_t *dir_off,
          uint64_t *bits_off, uint64_t *size)
{
    uint64_t nb = (w >= 64 ? 0 : span >> w) + 1;
    if (nb > NSET_MAX_BUCKETS_PER_KEY * n + 1024)
        return false;
    *nbuckets = nb;
    *dir_off = NSET_HEADER;
    *bits_off = s_align (*dir_off + (nb + 1) * sizeof (uint32_t));
    *size = s_align (*bits_off + (n * w + 7) / 8 + NSET_SLACK);
    return true;
}

/* The width that makes the block smallest (ties: the smaller width, for smaller buckets). */
static uint32_t
s_choose_w (uint64_t n, uint64_t span)
{
    uint32_t best_w = 56;
    uint64_t best = UINT64_MAX;
    for (uint32_t w = 0; w <= 56; w++) {
        uint64_t nb, d, b, size;
        if (!s_layout (n, span, w, &nb, &d, &b, &size))
            continue;
        if (size < best) {
            best = size;
            best_w = w;
        }
    }
    return best_w;
}

static int
s_check_keys (const uint64_t *keys, size_t n)
{
    if ((uint64_t) n > SCRUB_NUMSET_MAX_KEYS)
        return PL_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        if (keys[i] > SCRUB_NUMSET_KEY_MAX || (i > 0 && keys[i] <= keys[i - 1]))
            return PL_EINVAL;
    }
    return 0;
}

static uint32_t
s_width (const uint64_t *keys, size_t n, int low_bits)
{
    if (n == 0)
        return 0;
    if (low_bits >= 0 && low_bits <= 56)
        return (uint32_t) low_bits;
    return s_choose_w (n, keys[n - 1] - keys[0]);
}

size_t
scrub_numset_size_for (const uint64_t *keys, size_t n, int low_bits)
{
    uint64_t span = n ? keys[n - 1] - keys[0] : 0;
    uint32_t w = s_width (keys, n, low_bits);
    uint64_t nb, d, b, size;
    if (!s_layout (n, span, w, &nb, &d, &b, &size))
        return SIZE_MAX;
    return (size_t) size;
}

int
scrub_numset_build (const uint64_t *keys, size_t n, int low_bits, void **block_out,
                    size_t *size_out)
{
    *block_out = NULL;
    *size_out = 0;
    int rc = s_check_keys (keys, n);
    if (rc)
        return rc;
    uint64_t lo = n ? keys[0] : 0, hi = n ? keys[n - 1] : 0;
    uint32_t w = s_width (keys, n, low_bits);
    uint64_t nb, dir_off, bits_off, size;
    if (!s_layout (n, hi - lo, w, &nb, &dir_off, &bits_off, &size))
        return PL_EINVAL;
    uint8_t *block = aligned_alloc (NSET_ALIGN, size);
    if (!block)
        return PL_ENOMEM;
    memset (block, 0, size);

    nset_header_t h = { .n = n, .lo = lo, .hi = hi, .w = w, .nbuckets = nb,
                        .dir_off = dir_off, .bits_off = bits_off, .size = size };
    memcpy (h.magic, NSET_MAGIC, 8);
    memcpy (block, &h, sizeof h);

    uint32_t *dir = (uint32_t *) (block + dir_off);
    uint8_t *bits = block + bits_off;
    uint64_t mask = w ? (UINT64_MAX >> (64 - w)) : 0;
    uint64_t b = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t d = keys[i] - lo;
        uint64_t kb = d >> w;
        while (b <= kb)
            dir[b++] = (uint32_t) i;
        if (w)
            s_put (bits, w, i, d & mask);
    }
    while (b <= nb)
        dir[b++] = (uint32_t) n;
    *block_out = block;
    *size_out = (size_t) size;
    return 0;
}

int
scrub_numset_view (const void *mem, size_t len, scrub_numset_t *out)
{
    memset (out, 0, sizeof *out);
    if (!mem || len < NSET_HEADER || ((uintptr_t) mem & 7))
        return PL_ECORRUPT;
    nset_header_t h;
    memcpy (&h, mem, sizeof h);
    if (memcmp (h.magic, NSET_MAGIC, 8) != 0 || h.w > 56 || h.n > SCRUB_NUMSET_MAX_KEYS
        || h.hi < h.lo || h.hi > SCRUB_NUMSET_KEY_MAX || h.size != len)
        return PL_ECORRUPT;
    uint64_t nb, dir_off, bits_off, size;
    if (!s_layout (h.n, h.hi - h.lo, h.w, &nb, &dir_off, &bits_off, &size) || nb != h.nbuckets
        || dir_off != h.dir_off || bits_off != h.bits_off || size != h.size)
        return PL_ECORRUPT;
    const uint32_t *dir = (const uint32_t *) ((const uint8_t *) mem + dir_off);
    if (dir[0] != 0 || dir[nb] != h.n)
        return PL_ECORRUPT;
    for (uint64_t b = 0; b < nb; b++) {
        if (dir[b + 1] < dir[b])
            return PL_ECORRUPT;
    }
    out->base = mem;
    out->n = h.n;
    out->lo = h.lo;
    out->hi = h.hi;
    out->w = h.w;
    out->nbuckets = nb;
    out->dir = dir;
    out->bits = (const uint8_t *) mem + bits_off;
    out->size = len;
    return 0;
}

int64_t
scrub_numset_rank (const scrub_numset_t *set, uint64_t key)
{
    if (set->n == 0 || key < set->lo || key > set->hi)
        return -1;
    uint64_t d = key - set->lo;
    uint32_t w = set->w;
    uint64_t mask = w ? (UINT64_MAX >> (64 - w)) : 0;
    uint64_t b = d >> w, low = d & mask;
    uint64_t first = set->dir[b], len = set->dir[b + 1] - first;
    /* lower bound of `low` among the bucket's low parts */
    while (len > 0) {
        uint64_t half = len >> 1;
        if (s_get (set->bits, w, mask, first + half) < low) {
            first += half + 1;
            len -= half + 1;
        } else {
            len = half;
        }
    }
    if (first < set->dir[b + 1] && s_get (set->bits, w, mask, first) == low)
        return (int64_t) first;
    return -1;
}

/* Keys searched together: enough misses in flight to fill the memory pipeline, few enough that
 * the group's lines stay in L1. */
#define NSET_GROUP 16

void
scrub_numset_rank_many (const scrub_numset_t *set, const uint64_t *keys, size_t n,
                        int64_t *ranks)
{
    uint32_t w = set->w;
    uint64_t mask = w ? (UINT64_MAX >> (64 - w)) : 0;
    uint64_t bucket[NSET_GROUP];
    for (size_t g = 0; g < n; g += NSET_GROUP) {
        size_t m = n - g < NSET_GROUP ? n - g : NSET_GROUP;
        /* 1: the directory words */
        for (size_t i = 0; i < m; i++) {
            uint64_t k = keys[g + i];
            if (set->n == 0 || k < set->lo || k > set->hi) {
                bucket[i] = UINT64_MAX;
                continue;
            }
            bucket[i] = (k - set->lo) >> w;
            __builtin_prefetch (&set->dir[bucket[i]]);
        }
        /* 2: the middle of each bucket's low bits (where the binary search starts) */
        for (size_t i = 0; i < m; i++) {
            if (bucket[i] == UINT64_MAX)
                continue;
            uint64_t first = set->dir[bucket[i]], last = set->dir[bucket[i] + 1];
            __builtin_prefetch (set->bits + (((first + last) / 2) * w >> 3));
        }
        /* 3: the searches */
        for (size_t i = 0; i < m; i++) {
            if (bucket[i] == UINT64_MAX) {
                ranks[g + i] = -1;
                continue;
            }
            uint64_t low = (keys[g + i] - set->lo) & mask;
            uint64_t first = set->dir[bucket[i]], end = set->dir[bucket[i] + 1];
            uint64_t len = end - first;
            while (len > 0) {
                uint64_t half = len >> 1;
                if (s_get (set->bits, w, mask, first + half) < low) {
                    first += half + 1;
                    len -= half + 1;
                } else {
                    len = half;
                }
            }
            ranks[g + i] = first < end && s_get (set->bits, w, mask, first) == low
                               ? (int64_t) first : -1;
        }
    }
}

void
scrub_numset_decode (const scrub_numset_t *set, uint64_t *out)
{
    uint32_t w = set->w;
    uint64_t mask = w ? (UINT64_MAX >> (64 - w)) : 0;
    for (uint64_t b = 0; b < set->nbuckets; b++) {
        uint64_t base = set->lo + (w >= 64 ? 0 : b << w);
        for (uint64_t i = set->dir[b]; i < set->dir[b + 1]; i++)
            out[i] = base + s_get (set->bits, w, mask, i);
    }
}

int
scrub_key_from_e164 (const char *e164, uint64_t *key, int *ndigits)
{
    if (!e164 || e164[0] != '+' || e164[1] < '1' || e164[1] > '9')
        return PL_EINVAL;
    uint64_t k = 0;
    int n = 0;
    for (const char *p = e164 + 1; *p; p++) {
        if (*p < '0' || *p > '9' || n == 15)
            return PL_EINVAL;
        k = k * 10 + (uint64_t) (*p - '0');
        n++;
    }
    if (key)
        *key = k;
    if (ndigits)
        *ndigits = n;
    return 0;
}

size_t
scrub_key_to_e164 (uint64_t key, char *out, size_t size)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char) ('0' + key % 10);
        key /= 10;
    } while (key && n < sizeof tmp);
    if (size < n + 2) {
        if (size)
            out[0] = '\0';
        return 0;
    }
    out[0] = '+';
    for (size_t i = 0; i < n; i++)
        out[1 + i] = tmp[n - 1 - i];
    out[n + 1] = '\0';
    return n + 1;
}
