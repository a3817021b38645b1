/*  audit_query.h — reading the audit: filtered pages, stories for people, full exports.
 *
 *  A reader opens every chain under a data root (each replica's index.sqlite, read-only) and
 *  answers across all of them, merged in time order:
 *
 *    pl_audit_reader_query   what GET /v1/audit returns: records filtered by lead, number
 *                            (E.164, turned into its pseudonym), campaign, type and time, a page
 *                            at a time with an opaque cursor, as JSON objects or NDJSON lines;
 *    pl_audit_reader_story   what `plateauctl audit why` prints: the history of a number or a
 *                            lead in sentences, in the callee's local time, rules cited;
 *    pl_audit_reader_arrivals   one chain's records by arrival (seq), from a seq on: the
 *                            incremental export that never skips a late event;
 *    pl_audit_reader_export  every record of every chain as NDJSON, read from the segments
 *                            (the source of truth) with its hashes.
 *
 *  Personal data (the number in clear, the event's reason and details) is sealed in the
 *  records; it is shown only when the caller asks to `reveal` and the reader holds the data
 *  key. Records whose personal part was erased say so ("personal": "erased"). Every record
 *  written in format 2 also carries its typed evidence ("evidence": zones, local time, call
 *  instants, …; lists with "hit" and "copy_date"), public and kept after an erasure.
 */
#ifndef PL_AUDIT_QUERY_H
#define PL_AUDIT_QUERY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "plateau/audit_keys.h"

#define PL_AUDIT_QUERY_LIMIT_DEFAULT 100
#define PL_AUDIT_QUERY_LIMIT_MAX 1000

typedef struct pl_audit_reader pl_audit_reader_t;

typedef struct {
    const char *lead;               /* lead id, or NULL */
    const char *number;             /* E.164, or NULL */
    const char *campaign;
    const char *type;
    bool has_from, has_to;
    int64_t from_ms, to_ms;         /* UTC ms; from inclusive, to exclusive */
    const char *cursor;             /* from a previous page, or NULL */
    size_t limit;                   /* 0: PL_AUDIT_QUERY_LIMIT_DEFAULT; at most _MAX */
    bool reveal;                    /* decrypt personal data (authorised callers only) */
} pl_audit_query_t;

/* Receives output bytes; returns 0, or nonzero to stop (the call then returns PL_ECLOSED). */
typedef int (pl_audit_sink_fn) (void *arg, const char *data, size_t len);

/* A reader of the chains under root. keys is borrowed and may be NULL: without the pseudonym
 * key numbers cannot be searched, without the data key nothing can be revealed. */
pl_audit_reader_t *pl_audit_reader_new (const char *root, const pl_audit_keys_t *keys);
void pl_audit_reader_destroy (pl_audit_reader_t **self_p);

/* One page of records matching q, oldest first: *items receives a JSON array (new reference);
 * *next_cursor a malloc'd cursor when more records follow, else NULL. 0, or PL_EINVAL (bad
 * number, cursor or range; errstr says which), PL_EIO. */
int pl_audit_reader_query (pl_audit_reader_t *self, const pl_audit_query_t *q, json_t **items,
                           char **next_cursor);
/* The same page written as NDJSON lines (one record per line) through sink. */
int pl_audit_reader_query_ndjson (pl_audit_reader_t *self, const pl_audit_query_t *q,
                                  pl_audit_sink_fn *sink, void *arg, char **next_cursor);

/* The story of a number ("+33…") or a lead id: every record about it, oldest first, in
 * sentences and in the callee's local time, with rule ids, list versions and counts cited.
 * *text is malloc'd. PL_ENOTFOUND when nothing is recorded about subject. */
int pl_audit_reader_story (pl_audit_reader_t *self, const char *subject, bool reveal,
                           char **text);

/* By arrival: up to limit records (0: the default page; at most _MAX) of chain with seq >=
 * from_seq, in seq order, as a JSON array in *items (new reference); *next_seq receives the seq to
 * ask for next (from_seq when nothing is there yet). An event that arrives late gets a later seq,
 * so an exporter that always resumes from next_seq sees every record once. Records not yet in the
 * index are not returned yet (their seq is next_seq or after). 0, or PL_EINVAL (bad chain id),
 * PL_ENOTFOUND (no such chain), PL_EIO. */
int pl_audit_reader_arrivals (pl_audit_reader_t *self, const char *chain, uint64_t from_seq,
                              size_t limit, bool reveal, json_t **items, uint64_t *next_seq);

/* Every record of every chain (chains in name order, records in seq order) as NDJSON through
 * sink, straight from the segments. *count receives the number of records written. */
int pl_audit_reader_export (pl_audit_reader_t *self, bool reveal, pl_audit_sink_fn *sink,
                            void *arg, uint64_t *count);

/* Where tz files are read for stories (default /usr/share/zoneinfo); tests use their own. */
void pl_audit_reader_set_zoneinfo (pl_audit_reader_t *self, const char *dir);

const char *pl_audit_reader_errstr (const pl_audit_reader_t *self);

#endif
