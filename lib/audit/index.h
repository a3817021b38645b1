/*  index.h — the SQLite index of one chain: what auditors open, what queries read.
 *
 *  One database per chain (index.sqlite in the chain directory), in WAL mode, filled from the
 *  segments by the store's indexer thread and rebuildable from them at any time: delete the
 *  file and the store refills it. It is never the source of truth; verify reads segments.
 *
 *    events(seq INTEGER PRIMARY KEY, chain, at_ms, written_ms, event_id, service, type,
 *           lead_id, campaign, number_pseudonym, decision, trace_id, zone, actor,
 *           rules, lists, counts, attrs, evidence,  -- JSON text
 *           personal BLOB,                          -- sealed personal part; NULL once erased
 *           erased, hash, prev_hash,                -- hashes as hex
 *           segment, offset,                        -- where the frame lives
 *           event_key, number_key)                  -- integer keys of the id and pseudonym
 *    meta(key, value)                               -- chain, schema, next_seq
 *
 *  Event ids and pseudonyms are random strings: indexed as text they make the two largest
 *  B-trees with inserts all over them, which halves the indexer's speed once they outgrow the
 *  cache. So they are indexed by 64-bit keys instead — event_key is the first 8 bytes of
 *  SHA-256(event_id), number_key the first 8 bytes of the pseudonym, both read little-endian as
 *  signed integers — and lookups check the full value too. Absent values are NULL (not ""), so
 *  the partial indexes on lead, number and campaign stay small. secure_delete is on: erased
 *  personal blobs do not linger in free pages.
 */
#ifndef PL_AUDIT_INDEX_H
#define PL_AUDIT_INDEX_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plateau/audit_record.h"

#define PL_AUDIT_INDEX_FILE "index.sqlite"

typedef struct pl_audit_index pl_audit_index_t;

/* One row as read back; strings NUL-terminated, NULL when absent; valid during the callback. */
typedef struct {
    const char *chain;
    uint64_t seq;
    int64_t at_ms, written_ms;
    const char *event_id, *service, *type, *lead_id, *campaign, *pseudonym_hex, *decision;
    const char *trace_id, *zone, *actor;
    const char *rules_json, *lists_json, *counts_json, *attrs_json, *evidence_json;
    const uint8_t *personal;
    size_t personal_len;
    bool erased;
    const char *hash_hex, *prev_hash_hex;
    bool has_number_key;
    int64_t number_key;
} pl_audit_row_t;

/* Rows strictly after a position in (at_ms, chain, seq) order: the pagination cursor. */
typedef struct {
    int64_t at_ms;
    char chain[PL_AUDIT_CHAIN_MAX + 1];
    uint64_t seq;
} pl_audit_pos_t;

typedef struct {
    const char *lead_id, *campaign, *type;  /* NULL: any */
    const char *pseudonym_hex;              /* NULL: any */
    bool has_from, has_to;
    int64_t from_ms, to_ms;                 /* from inclusive, to exclusive */
    const pl_audit_pos_t *after;            /* NULL: from the start */
    bool has_from_seq;                      /* by arrival: seq >= from_seq, in seq order */
    uint64_t from_seq;
    size_t limit;                           /* 0: all */
} pl_audit_filter_t;

/* Returns nonzero to stop the walk. */
typedef int (pl_audit_row_fn) (void *arg, const pl_audit_row_t *row);

pl_audit_index_t *pl_audit_index_new (void);
/* Closes and frees *self_p; safe twice. */
void pl_audit_index_destroy (pl_audit_index_t **self_p);

/* Opens path, creating the schema unless read_only. A database of another chain or schema is
 * PL_ECORRUPT (the store then rebuilds it). */
int pl_audit_index_open (pl_audit_index_t *self, const char *path, const char *chain_id,
                         bool read_only);
/* The next seq to index (0 for an empty index). */
int pl_audit_index_next_seq (pl_audit_index_t *self, uint64_t *next);

/* Writing, from one thread: begin, add records, commit with the next seq to index. */
int pl_audit_index_begin (pl_audit_index_t *self);
/* Adds r (its frame at `offset` in segment `segment`). A row whose seq is already there is
 * skipped (*dup set): indexing the same records twice changes nothing. */
int pl_audit_index_add (pl_audit_index_t *self, const pl_audit_record_t *r, uint64_t segment,
                        uint64_t offset, bool *dup);
int pl_audit_index_commit (pl_audit_index_t *self, uint64_t next_seq);
void pl_audit_index_rollback (pl_audit_index_t *self);

/* The integer keys the index uses for event ids and number pseudonyms. */
int64_t pl_audit_index_event_key (const char *event_id);
int64_t pl_audit_index_number_key (const uint8_t pseudonym[PL_AUDIT_PSEUDONYM_LEN]);

/* 1 and *seq when event_id is indexed, 0 when not, negative on error. */
int pl_audit_index_find_event (pl_audit_index_t *self, const char *event_id, uint64_t *seq);
/* Largest at_ms indexed (INT64_MIN when empty). */
int pl_audit_index_max_at (pl_audit_index_t *self, int64_t *out);

/* Where the still-readable personal parts of a pseudonym are, for records with seq < before. */
typedef struct {
    uint64_t seq, segment, offset;
} pl_audit_loc_t;
int pl_audit_index_personal_locs (pl_audit_index_t *self, const char *pseudonym_hex,
                                  uint64_t before, pl_audit_loc_t **out, size_t *n);
/* Clears them (personal = NULL, erased = 1) and checkpoints the WAL so the old pages go. */
int pl_audit_index_erase (pl_audit_index_t *self, const char *pseudonym_hex, uint64_t before,
                          size_t *rows);
/* Removes rows with seq <= last (retention). */
int pl_audit_index_delete_through (pl_audit_index_t *self, uint64_t last);
/* Removes rows with seq >= first and lowers next_seq (after a tail was cut). */
int pl_audit_index_truncate_from (pl_audit_index_t *self, uint64_t first);

/* Rows matching f in (at_ms, seq) order, or in seq order with has_from_seq. */
int pl_audit_index_query (pl_audit_index_t *self, const pl_audit_filter_t *f,
                          pl_audit_row_fn *fn, void *arg);

const char *pl_audit_index_errstr (const pl_audit_index_t *self);

#endif
