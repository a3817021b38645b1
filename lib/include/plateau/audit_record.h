/*  audit_record.h — one audit record: its binary frame, its hash, and its personal-data part.
 *
 *  A record is what the audit keeps of one AuditEvent, as a frame in a segment file:
 *
 *    offset  size      field
 *    0       u32       frame_len   bytes of the whole frame, this field and the hash included
 *    4       2         magic "PA"
 *    6       u8        version     1 or 2 (2: the body ends with the evidence, below)
 *    7       u8        flags       bit 0: personal part erased. The only byte ever rewritten.
 *    8       u32       body_len
 *    12      u32       pd_len      0 when the event carried no personal data
 *    16      body_len  body        the public part (below); what the chain hashes
 *    …       pd_len    personal    24-byte nonce + XChaCha20-Poly1305 ciphertext; zeros once erased
 *    …       32        hash        SHA-256(body)
 *
 *  The body starts with a fixed head — seq u64, at_ms i64, written_ms i64, prev_hash[32],
 *  pd_digest[32] — followed by u16-length strings and u16-counted lists: chain_id, event_id,
 *  service, type, lead_id, campaign, pseudonym (u8 length 0 or 32, then bytes), decision (u8),
 *  trace_id, zone, actor, rules {rule_id, value, facts, reason, zone, defer_until_ms},
 *  lists {name, version, loaded_at_ms, age_ms}, counts {key, value}, attrs {key, value}.
 *  Version 2 appends the evidence: u32 length, then the AuditEvent packed as protobuf with only
 *  its typed evidence set — `lists` (whole ListVersions: hit, copy date) and fields 17 and up
 *  (tenant, attempt, zones with their sources, local time, call instants, consent, …); the
 *  fields the body already holds and the personal ones are cleared, and the body's own lists
 *  section is empty. The evidence is public and hashed, so it survives erasure (ADR 0026).
 *  All integers little-endian.
 *
 *  Personal data (the number in clear, the event's reason and details, which are free text) is
 *  never hashed directly: the body carries pd_digest = SHA-256(personal blob) and the chain
 *  hashes the body. Erasure zeroes the blob and sets the flag; the body, hence every hash,
 *  is untouched, and the digest of random ciphertext says nothing about the number. No CRC:
 *  the hash covers the body, the digest covers the blob, and the header is checked for
 *  consistency (lengths, magic, version, flags), which is enough to find a torn tail.
 *
 *  `attrs` are public key/value pairs the store writes on its own records (person.erased,
 *  retention.expired); events from services have none.
 */
#ifndef PL_AUDIT_RECORD_H
#define PL_AUDIT_RECORD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plateau/v1/audit.pb-c.h"
#include "plateau/audit_keys.h"

#define PL_AUDIT_HASH_LEN 32
#define PL_AUDIT_FRAME_HEAD 16
#define PL_AUDIT_BODY_FIXED 88              /* seq, at_ms, written_ms, prev_hash, pd_digest */
#define PL_AUDIT_EVENT_MAX (64 * 1024)      /* body + personal part; larger events are refused */
#define PL_AUDIT_FRAME_MAX (PL_AUDIT_FRAME_HEAD + PL_AUDIT_EVENT_MAX + PL_AUDIT_HASH_LEN)
#define PL_AUDIT_FLAG_ERASED 0x01
#define PL_AUDIT_ID_MAX 128                 /* event ids and types */
#define PL_AUDIT_CHAIN_MAX 64               /* chain ids: [A-Za-z0-9._-]{1,64} */

typedef struct { const char *rule_id, *value, *facts, *reason, *zone; int64_t defer_until_ms; }
    pl_audit_rule_t;
typedef struct {
    const char *name, *version;
    int64_t loaded_at_ms, age_ms;
    bool hit;                       /* version 2 only: the number is on the list */
    const char *copy_date;          /* version 2 only: YYYY-MM-DD of the registry copy, or "" */
} pl_audit_list_t;
typedef struct { const char *key; int64_t value; } pl_audit_count_t;
typedef struct { const char *key, *value; } pl_audit_attr_t;

/* The structure of one frame, without decoding the body past its fixed head. Pointers point
 * into the bytes given to pl_audit_frame_parse. */
typedef struct {
    size_t frame_len;
    uint8_t version;
    uint8_t flags;
    const uint8_t *body;
    size_t body_len;
    const uint8_t *pd;
    size_t pd_len;
    const uint8_t *hash;
    uint64_t seq;
    int64_t at_ms, written_ms;
    const uint8_t *prev_hash, *pd_digest;
} pl_audit_frame_t;

/* Reads the frame at p (avail bytes there). 0 when the structure is sound; PL_EAGAIN when
 * avail is too short for the frame it announces (a tail being written, or torn); PL_ECORRUPT
 * when the header is inconsistent. Does not hash. */
int pl_audit_frame_parse (const uint8_t *p, size_t avail, pl_audit_frame_t *f);
/* Recomputes the hash and, unless erased, the personal digest. 0, or PL_ECORRUPT with *what set
 * to a static description. */
int pl_audit_frame_check (const pl_audit_frame_t *f, const char **what);

/* A decoded record: data read field by field, so a plain struct. Strings are NUL-terminated,
 * never NULL ("" when absent); everything points into the decoder and is valid until its next
 * decode. */
typedef struct {
    uint64_t seq;
    int64_t at_ms;                  /* when the service took the decision */
    int64_t written_ms;             /* when the audit store accepted it */
    uint8_t prev_hash[PL_AUDIT_HASH_LEN];
    uint8_t pd_digest[PL_AUDIT_HASH_LEN];
    uint8_t hash[PL_AUDIT_HASH_LEN];
    const char *chain_id, *event_id, *service, *type, *lead_id, *campaign;
    bool has_pseudonym;
    uint8_t pseudonym[PL_AUDIT_PSEUDONYM_LEN];
    int decision;                   /* PLATEAU__V1__DECISION__* */
    const char *trace_id, *zone, *actor;
    size_t n_rules, n_lists, n_counts, n_attrs;
    const pl_audit_rule_t *rules;
    const pl_audit_list_t *lists;
    const pl_audit_count_t *counts;
    const pl_audit_attr_t *attrs;
    /* Version 2: the typed evidence (lists and fields 17 and up of the AuditEvent; every other
     * field empty). NULL for a version 1 record. */
    const Plateau__V1__AuditEvent *evidence;
    uint8_t version;
    uint8_t flags;
    const uint8_t *pd;              /* the personal blob as stored (NULL when none) */
    size_t pd_len;
    size_t frame_len;
} pl_audit_record_t;

/* The personal part, once decrypted. */
typedef struct {
    const char *number;             /* E.164 or "" */
    const char *reason;
    size_t n_details;
    const pl_audit_attr_t *details;
} pl_audit_personal_t;

typedef struct pl_audit_codec pl_audit_codec_t;

/* Returns a new encoder/decoder (scratch memory, error detail); NULL on allocation failure. */
pl_audit_codec_t *pl_audit_codec_new (void);
void pl_audit_codec_destroy (pl_audit_codec_t **self_p);

/* Decodes the body of a parsed frame (not checking hashes: see pl_audit_frame_check).
 * 0 or PL_ECORRUPT; *out valid until the next decode. */
int pl_audit_codec_decode (pl_audit_codec_t *self, const pl_audit_frame_t *f,
                           const pl_audit_record_t **out);
/* Decrypts the personal part of r. PL_ENOTFOUND when the record has none or it was erased,
 * PL_EINVAL without the data key, PL_ECORRUPT if it does not decrypt. *out valid until the next
 * call. */
int pl_audit_codec_personal (pl_audit_codec_t *self, const pl_audit_record_t *r,
                             const pl_audit_keys_t *keys, const pl_audit_personal_t **out);

/* The same for a sealed blob held elsewhere (the index), bound to chain_id and seq. */
int pl_audit_codec_open_personal (pl_audit_codec_t *self, const char *chain_id, uint64_t seq,
                                  const uint8_t *blob, size_t blob_len,
                                  const pl_audit_keys_t *keys, const pl_audit_personal_t **out);

const char *pl_audit_codec_errstr (const pl_audit_codec_t *self);

/* "allow", "deny", "defer" or "" for an unspecified decision. */
const char *pl_audit_decision_name (int decision);
/* True when chain_id is 1 to 64 of [A-Za-z0-9._-] and not "." or "..". */
bool pl_audit_chain_id_valid (const char *chain_id);

#endif
