/*  numset.h — an immutable, compact set of phone numbers, as one flat block of bytes.
 *
 *  A registry copy is millions (France) to hundreds of millions (the US) of numbers asked about
 *  before every call. Each number is a key: the digits of its E.164 form read as an integer
 *  ("+33612345678" → 33612345678; E.164 has no leading zero, so the map is one to one and keys
 *  are below 10^15). The set keeps its sorted keys as a bucketed, bit-packed array (a flat
 *  cousin of Elias–Fano): the key's offset from the smallest key is split into a bucket (the
 *  high bits) and w low bits; a directory of 32-bit starts, one per bucket, says where the
 *  bucket's low bits begin in a packed array of w-bit fields. w is chosen when the set is built
 *  to make the whole smallest — about 22 keys per bucket — which costs about log2(span/n) + 6
 *  bits a number (1.4 bytes for the US registry, 1.6 for Bloctel's size). A lookup reads two
 *  neighbouring directory words and binary-searches one bucket of a few dozen bytes: two cache
 *  misses, no pointer chasing. docs/adr/0040 has the measurements that chose it.
 *
 *  The block has the same bytes in memory and on disk: scrub_numset_build() makes one in a
 *  malloc'd buffer, scrub_numset_view() reads one from any memory (a file mapped by ten
 *  replicas shares its pages), after checking every offset so that a damaged block can never
 *  make a lookup read outside it. A numset_t is a view: plain data, copyable, never owns the
 *  bytes.
 *
 *  Thread safety: a view is immutable; lookups from any number of threads are safe.
 */
#ifndef SCRUB_NUMSET_H
#define SCRUB_NUMSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keys are below 10^15 (15 E.164 digits). */
#define SCRUB_NUMSET_KEY_MAX 999999999999999ULL
/* At most 2^32 - 1 keys in one set (the directory holds 32-bit starts). */
#define SCRUB_NUMSET_MAX_KEYS 0xFFFFFFFFULL
/* Let the build choose the number of low bits. */
#define SCRUB_NUMSET_AUTO_BITS (-1)

typedef struct {
    const uint8_t *base;        /* the whole block */
    uint64_t n;                 /* keys */
    uint64_t lo, hi;            /* smallest and largest key (0, 0 when empty) */
    uint32_t w;                 /* low bits per key */
    uint64_t nbuckets;
    const uint32_t *dir;        /* nbuckets + 1 starts */
    const uint8_t *bits;        /* n * w bits, then 8 bytes of slack for unaligned reads */
    size_t size;                /* bytes of the block */
} scrub_numset_t;

/* Builds a block from `n` strictly increasing keys (each ≤ SCRUB_NUMSET_KEY_MAX). `low_bits` is
 * SCRUB_NUMSET_AUTO_BITS, or a forced width 0..56 (for measurements). On success *block_out is
 * a new malloc'd block of *size_out bytes (free() it) and returns 0; PL_EINVAL when the keys are
 * not strictly increasing or out of range, or a forced width would need more than 64 buckets a
 * key; PL_ETOOBIG over SCRUB_NUMSET_MAX_KEYS; PL_ENOMEM. */
int scrub_numset_build (const uint64_t *keys, size_t n, int low_bits, void **block_out,
                        size_t *size_out);

/* The bytes a block of these keys will take, without building it (same choice of w). */
size_t scrub_numset_size_for (const uint64_t *keys, size_t n, int low_bits);

/* Reads the block at `mem` (`len` bytes, 8-byte aligned) into *out after checking it: magic,
 * sizes, every offset, a directory that starts at 0, never decreases and ends at n. Returns 0,
 * or PL_ECORRUPT. The view borrows `mem`. */
int scrub_numset_view (const void *mem, size_t len, scrub_numset_t *out);

/* The rank of `key` in the set (0 for the smallest) when present, else -1. */
int64_t scrub_numset_rank (const scrub_numset_t *set, uint64_t key);

/* The ranks of `n` keys (-1 where absent) into ranks[0 .. n - 1]. Same answers as
 * scrub_numset_rank() one by one, faster on a large set: the directory words and buckets of a
 * group of keys are prefetched before any is searched, so that their cache misses overlap. */
void scrub_numset_rank_many (const scrub_numset_t *set, const uint64_t *keys, size_t n,
                             int64_t *ranks);

static inline bool
scrub_numset_contains (const scrub_numset_t *set, uint64_t key)
{
    return scrub_numset_rank (set, key) >= 0;
}

/* Writes the keys in increasing order to out[0 .. set->n - 1]. */
void scrub_numset_decode (const scrub_numset_t *set, uint64_t *out);

/* The key of "+<digits>" (1 to 15 digits, first not 0) in *key and its digit count in *ndigits
 * (either may be NULL); 0, or PL_EINVAL. No validation beyond the shape: callers pass numbers
 * already normalised to E.164. */
int scrub_key_from_e164 (const char *e164, uint64_t *key, int *ndigits);

/* Writes "+<digits>" of `key` into out (≥ 17 bytes). Returns the length. */
size_t scrub_key_to_e164 (uint64_t key, char *out, size_t size);

#endif
