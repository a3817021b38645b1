/*  audit_verify.h — proves that the audit log is whole and unaltered, or names where it is not.
 *
 *  Reads every chain under a data root (one directory per replica) from the segment files —
 *  never from the index — and checks, for each chain:
 *
 *    - every record's frame, its hash (SHA-256 of its body) and its personal-part digest;
 *    - sequence continuity and hash linkage from record to record and segment to segment;
 *    - that the chain starts at seq 0 from a zero hash, or at an anchor named by a recorded
 *      retention expiry;
 *    - every checkpoint's Ed25519 signature, by a trusted key, and that it signs the hash of
 *      the record at its seq; a checkpoint beyond the last record means the tail was cut;
 *    - that every record whose personal part was erased is covered by a later person.erased
 *      record for the same pseudonym, and that its personal part is blank.
 *
 *  The report names, per chain, the first bad sequence number and what is wrong with it.
 *  Segments are verified in parallel (hashing is the cost), so verification runs at the
 *  speed of SHA-256 on the machine's cores.
 */
#ifndef PL_AUDIT_VERIFY_H
#define PL_AUDIT_VERIFY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "plateau/audit_keys.h"
#include "plateau/audit_record.h"

typedef struct {
    const uint8_t (*trusted)[PL_AUDIT_KEY_LEN];  /* public keys whose checkpoints count */
    size_t n_trusted;
    bool live;              /* a store may be writing: a half-written last record is no fault */
    int threads;            /* 0: the online CPUs */
} pl_audit_verify_opts_t;

typedef struct {
    char chain[PL_AUDIT_CHAIN_MAX + 1];
    int status;             /* 0 verified; PL_ECORRUPT something is wrong; PL_EIO unreadable */
    bool has_bad_seq;
    uint64_t bad_seq;       /* the first bad sequence number */
    char what[512];         /* what is wrong there, for people */
    char file[128];         /* the file it was found in, relative to the chain directory */
    uint64_t offset;        /* and where */
    uint64_t problems;      /* how many distinct problems were found in all */
    uint64_t records, bytes, segments;
    bool empty;
    uint64_t first_seq, last_seq;   /* valid when !empty */
    uint64_t checkpoints, checkpoints_expired;
    uint64_t erased;        /* records whose personal part was erased */
    uint64_t torn_files;    /* torn tails set aside by recovery (seg-….torn-…) */
    char notes[256];
} pl_audit_chain_report_t;

typedef struct {
    int status;             /* 0 when every chain verified */
    size_t n_chains;
    pl_audit_chain_report_t *chains;
    uint64_t records, bytes;
    double seconds;
} pl_audit_verify_report_t;

/* Verifies every chain directory under root. 0 when all verify, PL_ECORRUPT when one does not
 * (see the report), PL_EINVAL without trusted keys, PL_EIO / PL_ENOTFOUND when root cannot be
 * read. *report is set in every case but PL_EINVAL / PL_ENOMEM; free it with
 * pl_audit_verify_report_destroy. */
int pl_audit_verify (const char *root, const pl_audit_verify_opts_t *opts,
                     pl_audit_verify_report_t **report);

void pl_audit_verify_report_destroy (pl_audit_verify_report_t **self_p);
/* The report for people, one paragraph per chain (malloc'd). */
char *pl_audit_verify_report_text (const pl_audit_verify_report_t *r);
/* The report as JSON (new reference). */
json_t *pl_audit_verify_report_json (const pl_audit_verify_report_t *r);

#endif
