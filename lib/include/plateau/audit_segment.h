/*  audit_segment.h — segment files: the append-only source of truth of one chain.
 *
 *  A chain is a directory of segment files named seg-<first seq, 20 digits>.plaud. Each starts
 *  with a 128-byte header and continues with record frames (audit_record.h) in sequence order:
 *
 *    0   8   magic "PLAUDSEG"
 *    8   u32 version 1
 *    12  u32 chain_len
 *    16  u64 first_seq        seq of the first record this segment holds
 *    24  i64 created_ms
 *    32  32  prev_hash        hash of record first_seq - 1 (zeros for the chain's genesis)
 *    64  64  chain_id         zero padded
 *
 *  The header is not hashed: verify checks it against the first record, which carries its own
 *  seq and prev_hash. Only the last segment is ever appended to; older ones change only when an
 *  erasure zeroes a personal blob, and disappear whole when retention expires them.
 *
 *  After a crash the last segment may end with a torn batch: pl_audit_seg_recover finds the
 *  last complete record and cuts what follows, keeping the cut bytes in a quarantine file
 *  beside the segment (seg-….plaud.torn-<offset>) rather than destroying them.
 */
#ifndef PL_AUDIT_SEGMENT_H
#define PL_AUDIT_SEGMENT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plateau/audit_record.h"

#define PL_AUDIT_SEG_HEADER 128
#define PL_AUDIT_SEG_NAME_MAX 40

typedef struct {
    uint64_t first_seq;
    int64_t created_ms;
    uint8_t prev_hash[PL_AUDIT_HASH_LEN];
    char chain_id[PL_AUDIT_CHAIN_MAX + 1];
} pl_audit_seg_header_t;

void pl_audit_seg_header_encode (const pl_audit_seg_header_t *h, uint8_t out[PL_AUDIT_SEG_HEADER]);
/* 0, PL_EAGAIN when len < 128, PL_ECORRUPT for a bad magic, version or chain id. */
int pl_audit_seg_header_decode (const uint8_t *p, size_t len, pl_audit_seg_header_t *h);

/* "seg-00000000000000000042.plaud" into out (at least PL_AUDIT_SEG_NAME_MAX bytes). */
void pl_audit_seg_name (uint64_t first_seq, char *out);

typedef struct {
    uint64_t first_seq;
    uint64_t size;
} pl_audit_seg_entry_t;

/* The segments of a chain directory sorted by first seq: *out is malloc'd (free it), *n their
 * count. 0, or PL_EIO when the directory cannot be read. */
int pl_audit_seg_list (const char *dir, pl_audit_seg_entry_t **out, size_t *n);

/* A read-only mapping of a whole file (or its first `len` bytes). */
typedef struct {
    const uint8_t *data;
    size_t len;
} pl_audit_map_t;

/* Maps path; limit 0 maps the whole file, otherwise at most limit bytes. An empty file maps to
 * data NULL, len 0. PL_EIO / PL_ENOTFOUND. */
int pl_audit_map_open (const char *path, uint64_t limit, pl_audit_map_t *m);
void pl_audit_map_close (pl_audit_map_t *m);

/* What recovery found at the end of the last segment. */
typedef struct {
    pl_audit_seg_header_t header;
    uint64_t records;               /* complete records kept */
    uint64_t last_seq;              /* seq of the last one (first_seq - 1 when none) */
    uint8_t last_hash[PL_AUDIT_HASH_LEN];  /* its hash (the header's prev_hash when none) */
    int64_t last_written_ms;
    uint64_t good_len;              /* bytes kept */
    uint64_t cut_len;               /* bytes cut (0 when the tail was clean) */
} pl_audit_seg_tail_t;

/* Scans the segment at path and, when `repair`, cuts a torn tail of at most max_cut bytes
 * back to the last complete record (copying the cut bytes to path.torn-<offset> first, then
 * truncating and fsyncing). 0; PL_EAGAIN when the file is shorter than its header (a segment
 * created by a batch that never completed: the caller removes it); PL_ECORRUPT when the damage
 * is not a torn tail — larger than max_cut, a complete record with a wrong hash, or a bad
 * header — so nothing is cut and the detail goes to err; PL_EIO. */
int pl_audit_seg_recover (const char *path, uint64_t max_cut, bool repair,
                          pl_audit_seg_tail_t *out, char *err, size_t err_len);

/* fsync of a directory, so that files created or removed in it survive a crash. */
int pl_audit_fsync_dir (const char *dir);

#endif
