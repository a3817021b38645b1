/*  checkpoint.h — signed checkpoints: a replica's signature on (chain, seq, hash, time).
 *
 *  Every N records or T seconds the store signs the hash of its latest durable record with its
 *  Ed25519 key and appends the checkpoint to checkpoints.plck in the chain directory. Because
 *  each record's hash covers all the records before it, one signature vouches for the whole
 *  chain up to that seq: rewriting history means recomputing every later hash, and no one
 *  without the key can sign the result. The last checkpoint is also what tells a truncated
 *  tail from a short chain.
 *
 *  The file is a sequence of fixed 216-byte entries:
 *
 *    0    4   magic "PLCK"
 *    4    u8  version 1
 *    5    u8  chain_len
 *    6    u16 reserved (0)
 *    8    u64 seq
 *    16   i64 at_ms          record time of the checkpointed record
 *    24   32  hash           hash of record `seq`
 *    56   64  chain_id       zero padded
 *    120  32  signer         Ed25519 public key that signed
 *    152  64  signature      over "plateau.audit.checkpoint.v1" followed by bytes 0..151
 *
 *  The signer travels in the entry so keys can rotate; verify accepts only signers it is told
 *  to trust (the published public key files).
 */
#ifndef PL_AUDIT_CHECKPOINT_H
#define PL_AUDIT_CHECKPOINT_H
#include <stddef.h>
#include <stdint.h>
#include "plateau/audit_keys.h"
#include "plateau/audit_record.h"

#define PL_AUDIT_CKPT_LEN 216
#define PL_AUDIT_CKPT_FILE "checkpoints.plck"

typedef struct {
    char chain_id[PL_AUDIT_CHAIN_MAX + 1];
    uint64_t seq;
    int64_t at_ms;
    uint8_t hash[PL_AUDIT_HASH_LEN];
    uint8_t signer[PL_AUDIT_KEY_LEN];
    uint8_t sig[PL_AUDIT_SIG_LEN];
} pl_audit_ckpt_t;

/* Signs c (chain_id, seq, at_ms, hash set by the caller): fills signer and sig. PL_EINVAL
 * without a signing key. */
int pl_audit_ckpt_sign (pl_audit_ckpt_t *c, const pl_audit_keys_t *keys);
void pl_audit_ckpt_encode (const pl_audit_ckpt_t *c, uint8_t out[PL_AUDIT_CKPT_LEN]);
/* 0 or PL_ECORRUPT for a malformed entry (magic, version, lengths, reserved bytes). */
int pl_audit_ckpt_decode (const uint8_t in[PL_AUDIT_CKPT_LEN], pl_audit_ckpt_t *c);
/* 0 when sig verifies and signer is one of the n trusted keys; PL_EPERM when the signer is not
 * trusted; PL_ECORRUPT when the signature does not verify. */
int pl_audit_ckpt_verify (const pl_audit_ckpt_t *c, const uint8_t (*trusted)[PL_AUDIT_KEY_LEN],
                          size_t n_trusted);

/* Appends one entry to fd and fdatasyncs. 0, PL_ENOSPC or PL_EIO; a failed write is cut back. */
int pl_audit_ckpt_append (int fd, const pl_audit_ckpt_t *c);
/* Reads every entry of path into *out (malloc'd; free it). *partial receives the size of a
 * trailing partial entry (a write torn by a crash), which is not returned. A missing file is
 * zero entries. 0, PL_ECORRUPT (an entry that does not decode; *n then counts the good ones
 * before it and *bad_index names it), PL_EIO. */
int pl_audit_ckpt_load (const char *path, pl_audit_ckpt_t **out, size_t *n, size_t *partial,
                        size_t *bad_index);

#endif
