/*  encode.h — turning an AuditEvent into a record frame (internal to lib/audit).
 *
 *  The public half of the record format (parsing, checking, decoding) is plateau/audit_record.h;
 *  writing frames is the store's business alone (and the tests'), so it stays here, beside the
 *  byte-writing helpers of wire.h it needs.
 */
#ifndef PL_AUDIT_ENCODE_H
#define PL_AUDIT_ENCODE_H
#include "plateau/audit_record.h"
#include "wire.h"

/* What the chain supplies when an event becomes a record. */
typedef struct {
    uint64_t seq;
    const char *chain_id;
    int64_t written_ms;
    const uint8_t *prev_hash;               /* 32 bytes */
    const pl_audit_keys_t *keys;            /* pseudonym + data keys */
    const pl_audit_attr_t *attrs;           /* the store's own public attributes; may be NULL */
    size_t n_attrs;
    const uint8_t *pseudonym;               /* the store's own records: a subject given by its
                                             * pseudonym alone (ev->number left empty); NULL */
} pl_audit_encode_ctx_t;

/* Where the parts of a prepared frame are in its buffer (offsets from the buffer's start). */
typedef struct {
    size_t frame_off, frame_len;
    size_t body_off, body_len;
    size_t pseud_off;               /* 0: no number to pseudonymise */
    size_t pd_off;                  /* 0: no personal part */
    size_t plain_len;
} pl_audit_prep_t;

/* Encoding in two steps, so that the caller's thread does the cheap part and another thread the
 * cryptography and the chaining. prepare validates ev and appends its frame to out with the
 * pseudonym, the personal part, the hashes still to fill (ctx->prev_hash is not used); seal
 * fills them, given the previous record's hash. prepare's errors are encode's. */
int pl_audit_codec_prepare (pl_audit_codec_t *self, pl__wbuf_t *out,
                            const Plateau__V1__AuditEvent *ev, const pl_audit_encode_ctx_t *ctx,
                            pl_audit_prep_t *prep);
void pl_audit_codec_seal (pl_audit_codec_t *self, uint8_t *buf, const pl_audit_prep_t *prep,
                          const pl_audit_keys_t *keys, const uint8_t prev_hash[PL_AUDIT_HASH_LEN],
                          uint8_t hash_out[PL_AUDIT_HASH_LEN]);

/* Both at once: appends the frame of ev to out and writes its hash to hash_out. 0; PL_EINVAL for a malformed
 * event (no id or type, invalid UTF-8, a number that is not E.164, missing keys), PL_ETOOBIG
 * over PL_AUDIT_EVENT_MAX, PL_ENOMEM. out is unchanged on failure. Detail in errstr. */
int pl_audit_codec_encode (pl_audit_codec_t *self, pl__wbuf_t *out,
                           const Plateau__V1__AuditEvent *ev, const pl_audit_encode_ctx_t *ctx,
                           uint8_t hash_out[PL_AUDIT_HASH_LEN]);

#endif
