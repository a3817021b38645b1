/*  test_audit_support.h — what every audit test needs: keys, events, a store in a temp dir.
 *
 *  Linked into each test_audit_* executable (see audit.cmake). Keys are fixed so failures
 *  reproduce; events look like real ones (~300 bytes: a dial decision with a rule, a list and
 *  counts) and carry a number, so every record has a sealed personal part.
 */
#ifndef TEST_AUDIT_SUPPORT_H
#define TEST_AUDIT_SUPPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plateau/audit_keys.h"
#include "plateau/audit_store.h"
#include "plateau/audit_verify.h"
#include "plateau/v1/audit.pb-c.h"

#define TA_T0 1772539200000LL           /* 2026-03-03 12:00:00 UTC */

/* A test event and the storage behind its strings. */
typedef struct {
    Plateau__V1__AuditEvent ev;
    Plateau__V1__RuleHit rule;
    Plateau__V1__RuleHit *rules[1];
    Plateau__V1__ListVersion list;
    Plateau__V1__ListVersion *lists[1];
    Plateau__V1__AuditEvent__CountsEntry count;
    Plateau__V1__AuditEvent__CountsEntry *counts[1];
    Plateau__V1__AuditEvent__DetailsEntry detail;
    Plateau__V1__AuditEvent__DetailsEntry *details[1];
    char event_id[64], lead_id[32], number[24], trace_id[40], reason[96];
} ta_event_t;

/* Event i: id "ev-<i>", lead "L-<i % leads>", number "+336120000<i % numbers>" (8 digits),
 * type dial.denied for odd i, dial.allowed for even; at_ms = TA_T0 + i * 1000. */
void ta_event (ta_event_t *e, uint64_t i);
/* The same with an explicit number (NULL or "" for none) and lead. */
void ta_event_for (ta_event_t *e, uint64_t i, const char *number, const char *lead,
                   const char *campaign, const char *type);

/* Keys with fixed seeds: signing, pseudonym and data. Free with pl_audit_keys_destroy. */
pl_audit_keys_t *ta_keys (void);
/* A key set signing with another key (forgeries). */
pl_audit_keys_t *ta_other_keys (void);

/* Commits seen through on_commit. */
typedef struct {
    uint64_t n;
    uint64_t last_seq;
    bool seen_token_null;
} ta_commits_t;
void ta_on_commit (void *arg, const pl_audit_committed_t *items, size_t n);

/* A config for a store of chain `chain` under root: small segments when seg_bytes > 0. */
void ta_config (pl_audit_store_config_t *cfg, const char *root, const char *chain,
                pl_audit_keys_t *keys, size_t seg_bytes, ta_commits_t *commits);
/* Opens a store with cfg or fails the test. */
pl_audit_store_t *ta_open (const pl_audit_store_config_t *cfg);
/* Appends events [from, to) (ta_event) and syncs; fails the test on any error. */
void ta_append_range (pl_audit_store_t *s, uint64_t from, uint64_t to);

/* Verifies root with the test's public key; returns the status, the report in *out (may be
 * NULL: then it is freed here). Prints the report text when verbose or on failure. */
int ta_verify (const char *root, pl_audit_verify_report_t **out);

/* A fresh temp directory (removed by ta_rmdir). */
char *ta_tmpdir (void);
void ta_rmdir (char **path);

/* Path of segment first_seq of chain under root into out. */
void ta_seg_path (const char *root, const char *chain, uint64_t first_seq, char *out, size_t size);
/* Reads a whole file; *len its size; malloc'd. */
uint8_t *ta_read_file (const char *path, size_t *len);
void ta_write_file (const char *path, const uint8_t *data, size_t len);
/* Offset of record `seq` in the segment bytes (walking frames), or (size_t) -1. */
size_t ta_frame_offset (const uint8_t *seg, size_t len, uint64_t seq, size_t *frame_len);
/* True when needle occurs in any regular file under dir (recursively). */
bool ta_dir_contains (const char *dir, const void *needle, size_t n);

#endif
