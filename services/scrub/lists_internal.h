/*  lists_internal.h — what the loaders (load.c) need from the versions (lists.c): building a
 *  version from sorted arrays, and reading a version's parts back. Not for the service.
 */
#ifndef SCRUB_LISTS_INTERNAL_H
#define SCRUB_LISTS_INTERNAL_H

#include "lists.h"
#include "numset.h"

/* A wildcard block as stored: (digits << 56 | value), so that sorting groups blocks by length. */
#define SCRUB_PREFIX_ENCODE(len, value) (((uint64_t) (len) << 56) | (uint64_t) (value))
#define SCRUB_PREFIX_LEN(p) ((int) ((p) >> 56))
#define SCRUB_PREFIX_VALUE(p) ((p) & ((1ULL << 56) - 1))

typedef struct {
    const char *name;
    const char *version;
    const char *jurisdiction;
    scrub_list_kind_t kind;
    bool partial;               /* an answer list: keeps the numbers found clear too */
    int64_t taken_ms;
} scrub__meta_t;

/* Builds a new version (refs = 1) from strictly increasing arrays: hits (with `dates`, days
 * since 1970, one per hit, or NULL), clear numbers (partial lists), and encoded prefixes.
 * 0, PL_EINVAL, PL_ETOOBIG or PL_ENOMEM. */
int scrub__list_build (const scrub__meta_t *meta, const uint64_t *hits, size_t n_hits,
                       const int32_t *dates, const uint64_t *clear, size_t n_clear,
                       const uint64_t *prefixes, size_t n_prefixes, scrub_list_t **out);

/* A version's parts, borrowed from it. */
const scrub_numset_t *scrub__list_hits (const scrub_list_t *self);
const scrub_numset_t *scrub__list_clear (const scrub_list_t *self);
const int32_t *scrub__list_dates (const scrub_list_t *self);        /* NULL unless rnd */
const uint64_t *scrub__list_prefixes (const scrub_list_t *self, size_t *n);
bool scrub__list_partial (const scrub_list_t *self);

#endif
