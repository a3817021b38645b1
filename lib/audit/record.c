/*  record.c — audit record frames: encoding, structure checks, hashing, decoding
 *  (see plateau/audit_record.h and encode.h). */
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "plateau/error.h"
#include "plateau/utf8.h"
#include "encode.h"
#include "parts.h"
#include "plateau/audit_record.h"

static const uint8_t s_zero_hash[PL_AUDIT_HASH_LEN];

/* The format written: version 2 carries the typed evidence; version 1 records are still read. */
#define S_VERSION 2

/* Numbers recur (a lead gets many decisions), so the encoder remembers recent pseudonyms:
 * one HMAC saved per event is a fifth of the encoding cost. Direct-mapped, wiped on destroy. */
#define S_PSEUD_SLOTS 1024
typedef struct {
    char number[20];
    uint8_t pseudonym[PL_AUDIT_PSEUDONYM_LEN];
} s_pseud_slot_t;

/* Nonces are drawn from the system in blocks rather than one syscall per record. */
#define S_NONCE_LEN 24
#define S_NONCE_POOL 128

struct pl_audit_codec {
    s_pseud_slot_t pseud[S_PSEUD_SLOTS];
    const pl_audit_keys_t *pseud_keys;      /* the keys the cached pseudonyms were made with */
    uint8_t nonces[S_NONCE_POOL * S_NONCE_LEN];
    size_t nonces_left;
    uint8_t *arena;             /* decoded strings and arrays */
    size_t arena_cap, arena_len;
    uint8_t *pd_plain;          /* decrypted personal part */
    size_t pd_plain_cap;
    uint8_t *pd_arena;
    size_t pd_arena_cap, pd_arena_len;
    pl_audit_record_t rec;
    Plateau__V1__AuditEvent *evidence;      /* unpacked evidence of the last decoded record */
    pl_audit_list_t *ev_lists;              /* its lists, in the record's form */
    size_t ev_lists_cap;
    pl_audit_personal_t pers;
    char errstr[256];
};

pl_audit_codec_t *
pl_audit_codec_new (void)
{
    if (sodium_init () < 0)
        return NULL;
    return calloc (1, sizeof (pl_audit_codec_t));
}

void
pl_audit_codec_destroy (pl_audit_codec_t **self_p)
{
    if (self_p && *self_p) {
        pl_audit_codec_t *self = *self_p;
        if (self->pd_plain)
            sodium_memzero (self->pd_plain, self->pd_plain_cap);
        free (self->pd_plain);
        if (self->pd_arena)
            sodium_memzero (self->pd_arena, self->pd_arena_cap);
        sodium_memzero (self->pseud, sizeof self->pseud);
        free (self->pd_arena);
        free (self->arena);
        if (self->evidence)
            protobuf_c_message_free_unpacked (&self->evidence->base, NULL);
        free (self->ev_lists);
        free (self);
        *self_p = NULL;
    }
}

const char *pl_audit_codec_errstr (const pl_audit_codec_t *self) { return self->errstr; }

const char *
pl_audit_decision_name (int decision)
{
    switch (decision) {
        case PLATEAU__V1__DECISION__ALLOW: return "allow";
        case PLATEAU__V1__DECISION__DENY:  return "deny";
        case PLATEAU__V1__DECISION__DEFER: return "defer";
        default:                           return "";
    }
}

bool
pl_audit_chain_id_valid (const char *id)
{
    if (!id)
        return false;
    size_t n = strlen (id);
    if (n == 0 || n > PL_AUDIT_CHAIN_MAX || strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* Frames                                                                                   */

int
pl_audit_frame_parse (const uint8_t *p, size_t avail, pl_audit_frame_t *f)
{
    if (avail < PL_AUDIT_FRAME_HEAD)
        return PL_EAGAIN;
    uint32_t frame_len = pl__get_u32 (p);
    uint32_t body_len = pl__get_u32 (p + 8);
    uint32_t pd_len = pl__get_u32 (p + 12);
    if (p[4] != 'P' || p[5] != 'A' || (p[6] != 1 && p[6] != S_VERSION)
        || (p[7] & ~PL_AUDIT_FLAG_ERASED)
        || body_len < PL_AUDIT_BODY_FIXED || body_len > PL_AUDIT_EVENT_MAX
        || pd_len > PL_AUDIT_EVENT_MAX
        || (uint64_t) frame_len
               != (uint64_t) PL_AUDIT_FRAME_HEAD + body_len + pd_len + PL_AUDIT_HASH_LEN)
        return PL_ECORRUPT;
    if (frame_len > avail)
        return PL_EAGAIN;
    f->frame_len = frame_len;
    f->version = p[6];
    f->flags = p[7];
    f->body = p + PL_AUDIT_FRAME_HEAD;
    f->body_len = body_len;
    f->pd = pd_len ? f->body + body_len : NULL;
    f->pd_len = pd_len;
    f->hash = f->body + body_len + pd_len;
    f->seq = pl__get_u64 (f->body);
    f->at_ms = (int64_t) pl__get_u64 (f->body + 8);
    f->written_ms = (int64_t) pl__get_u64 (f->body + 16);
    f->prev_hash = f->body + 24;
    f->pd_digest = f->body + 56;
    return 0;
}

int
pl_audit_frame_check (const pl_audit_frame_t *f, const char **what)
{
    uint8_t h[PL_AUDIT_HASH_LEN];
    crypto_hash_sha256 (h, f->body, f->body_len);
    if (memcmp (h, f->hash, PL_AUDIT_HASH_LEN) != 0) {
        *what = "hash does not match the record's content";
        return PL_ECORRUPT;
    }
    if (f->flags & PL_AUDIT_FLAG_ERASED)
        return 0;
    if (f->pd_len == 0) {
        if (memcmp (f->pd_digest, s_zero_hash, PL_AUDIT_HASH_LEN) != 0) {
            *what = "personal part missing but the record commits to one";
            return PL_ECORRUPT;
        }
        return 0;
    }
    crypto_hash_sha256 (h, f->pd, f->pd_len);
    if (memcmp (h, f->pd_digest, PL_AUDIT_HASH_LEN) != 0) {
        *what = "personal part does not match its digest";
        return PL_ECORRUPT;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Encoding                                                                                 */

static int
s_fail (pl_audit_codec_t *self, int rc, const char *fmt, const char *what)
{
    snprintf (self->errstr, sizeof self->errstr, fmt, what);
    return rc;
}

/* Each string of the event: valid UTF-8 (protobuf-c does not check) and within a u16 length. */
static int
s_check_str (pl_audit_codec_t *self, const char *s, const char *field)
{
    if (!s)
        return 0;
    size_t n = strlen (s);
    if (n > UINT16_MAX)
        return s_fail (self, PL_ETOOBIG, "%s: too long", field);
    if (!pl_utf8_valid (s, n))
        return s_fail (self, PL_EINVAL, "%s: not valid UTF-8", field);
    return 0;
}

static bool s_has (const char *s) { return s && s[0]; }

/* The evidence of ev: the event with its personal fields (number, reason, details) and the
 * fields the body holds field by field cleared, so that packing it gives the typed evidence
 * alone. Shallow: e borrows ev's strings and sub-messages. */
static void
s_evidence_of (const Plateau__V1__AuditEvent *ev, Plateau__V1__AuditEvent *e)
{
    *e = *ev;
    char *empty = (char *) protobuf_c_empty_string;
    e->event_id = e->service = e->type = e->lead_id = e->campaign = empty;
    e->number = e->trace_id = e->zone = e->reason = e->actor = empty;
    e->at_ms = 0;
    e->decision = PLATEAU__V1__DECISION__DECISION_UNSPECIFIED;
    e->n_rules = e->n_counts = e->n_details = 0;
    e->rules = NULL;
    e->counts = NULL;
    e->details = NULL;
}

/* The last 9 digits of an E.164 number: the national significant number of most plans, which
 * is what a national rendering of the number ("06 12 34 56 78") still contains. */
static const char *
s_tail9 (const char *e164)
{
    size_t n = strlen (e164);
    return n > 9 ? e164 + n - 9 : NULL;     /* shorter numbers: too few digits to tell */
}

/* True when s holds a run of digits (spaces, dots and dashes inside it ignored) that ends with
 * tail: the callee's number written in some form. */
static bool
s_mentions (const char *s, const char *tail)
{
    size_t tn = strlen (tail);
    char run[64];
    size_t rn = 0;
    for (const char *p = s;; p++) {
        bool digit = *p >= '0' && *p <= '9';
        if (digit) {
            if (rn < sizeof run)
                run[rn++] = *p;
            else {
                memmove (run, run + 1, sizeof run - 1);
                run[sizeof run - 1] = *p;
            }
            continue;
        }
        if (*p && (*p == ' ' || *p == '.' || *p == '-') && rn && p[1] >= '0' && p[1] <= '9')
            continue;
        if (rn >= tn && memcmp (run + rn - tn, tail, tn) == 0)
            return true;
        rn = 0;
        if (!*p)
            return false;
    }
}

/* Every string of the evidence, at any depth: valid UTF-8 within a u16 length, and never the
 * callee's number (tail: its last digits, or NULL without a number). Fields this audit does not
 * know are refused: public evidence is only what the audit can read and show. */
static int
s_check_message (pl_audit_codec_t *self, const ProtobufCMessage *m, const char *tail)
{
    if (m->n_unknown_fields)
        return s_fail (self, PL_EINVAL, "%s: holds fields unknown to this audit (upgrade it first)",
                       m->descriptor->short_name);
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *at = (const char *) m + f->offset;
        size_t n = 1;
        void *const *v = (void *const *) at;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *) ((const char *) m + f->quantifier_offset);
            v = *(void *const *const *) at;
        }
        for (size_t k = 0; k < n; k++) {
            if (!v[k])
                continue;
            int rc;
            if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if ((rc = s_check_message (self, v[k], tail)))
                    return rc;
                continue;
            }
            if ((rc = s_check_str (self, v[k], f->name)))
                return rc;
            if (tail && s_mentions (v[k], tail))
                return s_fail (self, PL_EINVAL,
                               "%s: holds the callee's number; evidence is public, the number is "
                               "only in `number`", f->name);
        }
    }
    return 0;
}

static int
s_validate_evidence (pl_audit_codec_t *self, const Plateau__V1__AuditEvent *ev)
{
    bool has_number = s_has (ev->number);
    if (s_has (ev->caller_id)) {
        if (!pl_audit_is_e164 (ev->caller_id))
            return s_fail (self, PL_EINVAL, "%s: not an E.164 number", "caller_id");
        if (has_number && strcmp (ev->caller_id, ev->number) == 0)
            return s_fail (self, PL_EINVAL, "%s: is the callee's number", "caller_id");
    }
    Plateau__V1__AuditEvent e;
    s_evidence_of (ev, &e);
    return s_check_message (self, &e.base, has_number ? s_tail9 (ev->number) : NULL);
}

static int
s_validate (pl_audit_codec_t *self, const Plateau__V1__AuditEvent *ev)
{
    if (!ev->event_id || !ev->event_id[0])
        return s_fail (self, PL_EINVAL, "%s: missing", "event_id");
    if (strlen (ev->event_id) > PL_AUDIT_ID_MAX)
        return s_fail (self, PL_EINVAL, "%s: longer than 128 bytes", "event_id");
    if (!ev->type || !ev->type[0])
        return s_fail (self, PL_EINVAL, "%s: missing", "type");
    if (strlen (ev->type) > PL_AUDIT_ID_MAX)
        return s_fail (self, PL_EINVAL, "%s: longer than 128 bytes", "type");
    if (ev->number && ev->number[0] && !pl_audit_is_e164 (ev->number))
        return s_fail (self, PL_EINVAL, "%s: not an E.164 number", "number");
    if (ev->decision < 0 || ev->decision > PLATEAU__V1__DECISION__DEFER)
        return s_fail (self, PL_EINVAL, "%s: unknown value", "decision");
    int rc;
    const char *top[][2] = {
        {ev->event_id, "event_id"}, {ev->service, "service"}, {ev->type, "type"},
        {ev->lead_id, "lead_id"},   {ev->campaign, "campaign"}, {ev->trace_id, "trace_id"},
        {ev->zone, "zone"},         {ev->reason, "reason"},   {ev->actor, "actor"},
    };
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        if ((rc = s_check_str (self, top[i][0], top[i][1])))
            return rc;
    if (ev->n_rules > UINT16_MAX || ev->n_lists > UINT16_MAX || ev->n_counts > UINT16_MAX
        || ev->n_details > UINT16_MAX)
        return s_fail (self, PL_ETOOBIG, "%s: too many entries", "rules/lists/counts/details");
    for (size_t i = 0; i < ev->n_rules; i++) {
        const Plateau__V1__RuleHit *r = ev->rules[i];
        if ((rc = s_check_str (self, r->rule_id, "rules.rule_id"))
            || (rc = s_check_str (self, r->value, "rules.value"))
            || (rc = s_check_str (self, r->facts, "rules.facts"))
            || (rc = s_check_str (self, r->reason, "rules.reason"))
            || (rc = s_check_str (self, r->zone, "rules.zone")))
            return rc;
    }
    for (size_t i = 0; i < ev->n_counts; i++)
        if ((rc = s_check_str (self, ev->counts[i]->key, "counts.key")))
            return rc;
    for (size_t i = 0; i < ev->n_details; i++)
        if ((rc = s_check_str (self, ev->details[i]->key, "details.key"))
            || (rc = s_check_str (self, ev->details[i]->value, "details.value")))
            return rc;
    return s_validate_evidence (self, ev);
}


static int
s_pseudonym (pl_audit_codec_t *self, const pl_audit_keys_t *keys, const char *number,
             uint8_t out[PL_AUDIT_PSEUDONYM_LEN])
{
    if (self->pseud_keys != keys) {
        sodium_memzero (self->pseud, sizeof self->pseud);
        self->pseud_keys = keys;
    }
    size_t len = strlen (number);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t) number[i]) * 16777619u;
    s_pseud_slot_t *slot = &self->pseud[h % S_PSEUD_SLOTS];
    if (len < sizeof slot->number && strcmp (slot->number, number) == 0) {
        memcpy (out, slot->pseudonym, PL_AUDIT_PSEUDONYM_LEN);
        return 0;
    }
    int rc = pl_audit_keys_pseudonym (keys, number, out);
    if (rc == 0 && len < sizeof slot->number) {
        memcpy (slot->number, number, len + 1);
        memcpy (slot->pseudonym, out, PL_AUDIT_PSEUDONYM_LEN);
    }
    return rc;
}

static const uint8_t *
s_nonce (pl_audit_codec_t *self)
{
    if (self->nonces_left == 0) {
        randombytes_buf (self->nonces, sizeof self->nonces);
        self->nonces_left = S_NONCE_POOL;
    }
    const uint8_t *n = self->nonces + (S_NONCE_POOL - self->nonces_left) * S_NONCE_LEN;
    self->nonces_left--;
    return n;
}

/* Writes everything that needs no secret and no chain state: the frame with room for the
 * pseudonym, the previous hash, the digest, the sealed personal part (its plaintext put where
 * the ciphertext will be) and the hash. Cheap, so the caller's thread can do it. */
int
pl_audit_codec_prepare (pl_audit_codec_t *self, pl__wbuf_t *out,
                        const Plateau__V1__AuditEvent *ev, const pl_audit_encode_ctx_t *ctx,
                        pl_audit_prep_t *prep)
{
    int rc = s_validate (self, ev);
    if (rc)
        return rc;
    bool has_number = s_has (ev->number);
    bool has_pd = has_number || s_has (ev->reason) || ev->n_details > 0;
    if (has_number && !pl_audit_keys_has_pseudonym (ctx->keys))
        return s_fail (self, PL_EINVAL, "%s", "no pseudonym key: cannot store a number");
    if (has_pd && !pl_audit_keys_has_data (ctx->keys))
        return s_fail (self, PL_EINVAL, "%s", "no data key: cannot store personal data");
    bool has_subject = has_number || ctx->pseudonym;

    memset (prep, 0, sizeof *prep);
    size_t start = out->len;
    prep->frame_off = start;
    pl__wbuf_zeros (out, PL_AUDIT_FRAME_HEAD);
    size_t body_at = out->len;
    prep->body_off = body_at;
    pl__wbuf_u64 (out, ctx->seq);
    pl__wbuf_u64 (out, (uint64_t) ev->at_ms);
    pl__wbuf_u64 (out, (uint64_t) ctx->written_ms);
    pl__wbuf_zeros (out, 2 * PL_AUDIT_HASH_LEN);        /* prev_hash, pd_digest: at sealing */
    pl__wbuf_str (out, ctx->chain_id);
    pl__wbuf_str (out, ev->event_id);
    pl__wbuf_str (out, ev->service);
    pl__wbuf_str (out, ev->type);
    pl__wbuf_str (out, ev->lead_id);
    pl__wbuf_str (out, ev->campaign);
    pl__wbuf_u8 (out, has_subject ? PL_AUDIT_PSEUDONYM_LEN : 0);
    if (has_number) {
        prep->pseud_off = out->len;                     /* the HMAC goes here at sealing */
        pl__wbuf_zeros (out, PL_AUDIT_PSEUDONYM_LEN);
    } else if (ctx->pseudonym)
        pl__wbuf_bytes (out, ctx->pseudonym, PL_AUDIT_PSEUDONYM_LEN);
    pl__wbuf_u8 (out, (uint8_t) ev->decision);
    pl__wbuf_str (out, ev->trace_id);
    pl__wbuf_str (out, ev->zone);
    pl__wbuf_str (out, ev->actor);
    pl__wbuf_u16 (out, (uint16_t) ev->n_rules);
    for (size_t i = 0; i < ev->n_rules; i++) {
        const Plateau__V1__RuleHit *r = ev->rules[i];
        pl__wbuf_str (out, r->rule_id);
        pl__wbuf_str (out, r->value);
        pl__wbuf_str (out, r->facts);
        pl__wbuf_str (out, r->reason);
        pl__wbuf_str (out, r->zone);
        pl__wbuf_u64 (out, (uint64_t) r->defer_until_ms);
    }
    pl__wbuf_u16 (out, 0);                              /* lists: in the evidence */
    pl__wbuf_u16 (out, (uint16_t) ev->n_counts);
    for (size_t i = 0; i < ev->n_counts; i++) {
        pl__wbuf_str (out, ev->counts[i]->key);
        pl__wbuf_u64 (out, (uint64_t) ev->counts[i]->value);
    }
    if (ctx->n_attrs > UINT16_MAX)
        out->err = true;
    pl__wbuf_u16 (out, (uint16_t) ctx->n_attrs);
    for (size_t i = 0; i < ctx->n_attrs; i++) {
        pl__wbuf_str (out, ctx->attrs[i].key);
        pl__wbuf_str (out, ctx->attrs[i].value);
    }
    Plateau__V1__AuditEvent e;
    s_evidence_of (ev, &e);
    size_t ev_len = protobuf_c_message_get_packed_size (&e.base);
    if (ev_len > PL_AUDIT_EVENT_MAX)
        out->err = true;
    pl__wbuf_u32 (out, (uint32_t) ev_len);
    if (!out->err && ev_len && pl__wbuf_reserve (out, ev_len)) {
        protobuf_c_message_pack (&e.base, out->p + out->len);
        out->len += ev_len;
    }
    prep->body_len = out->len - body_at;

    size_t pd_len = 0;
    if (has_pd) {
        /* nonce | plaintext (encrypted in place at sealing) | tag */
        prep->pd_off = out->len;
        pl__wbuf_zeros (out, 24);
        size_t plain_at = out->len;
        pl__wbuf_str (out, ev->number);
        pl__wbuf_str (out, ev->reason);
        pl__wbuf_u16 (out, (uint16_t) ev->n_details);
        for (size_t i = 0; i < ev->n_details; i++) {
            pl__wbuf_str (out, ev->details[i]->key);
            pl__wbuf_str (out, ev->details[i]->value);
        }
        prep->plain_len = out->len - plain_at;
        pl__wbuf_zeros (out, 16);
        pd_len = out->len - prep->pd_off;
    }
    pl__wbuf_zeros (out, PL_AUDIT_HASH_LEN);
    if (out->err || prep->body_len + pd_len > PL_AUDIT_EVENT_MAX) {
        rc = out->err ? PL_ENOMEM : PL_ETOOBIG;
        /* Anything of the personal data written so far goes before the bytes are reused. */
        if (out->p && out->len > start)
            sodium_memzero (out->p + start, (out->len < out->cap ? out->len : out->cap) - start);
        out->len = start;
        out->err = false;
        return s_fail (self, rc, "%s", rc == PL_ETOOBIG ? "event larger than 64 KiB" : "out of memory");
    }
    prep->frame_len = out->len - start;
    uint8_t *h = out->p + start;
    pl__put_u32 (h, (uint32_t) prep->frame_len);
    h[4] = 'P';
    h[5] = 'A';
    h[6] = S_VERSION;
    h[7] = 0;
    pl__put_u32 (h + 8, (uint32_t) prep->body_len);
    pl__put_u32 (h + 12, (uint32_t) pd_len);
    return 0;
}

/* Completes a prepared frame: the pseudonym, the sealed personal part and its digest, the link
 * to the previous record and the record's hash. The chain's order is the sealing order. */
void
pl_audit_codec_seal (pl_audit_codec_t *self, uint8_t *buf, const pl_audit_prep_t *prep,
                     const pl_audit_keys_t *keys, const uint8_t prev_hash[PL_AUDIT_HASH_LEN],
                     uint8_t hash_out[PL_AUDIT_HASH_LEN])
{
    uint8_t *body = buf + prep->body_off;
    memcpy (body + 24, prev_hash, PL_AUDIT_HASH_LEN);
    if (prep->pd_off) {
        uint8_t *pd = buf + prep->pd_off;
        uint8_t *plain = pd + 24;
        if (prep->pseud_off) {
            /* The number is the plaintext's first string. */
            char number[24];
            size_t n = pl__get_u16 (plain);
            snprintf (number, sizeof number, "%.*s", (int) (n < 23 ? n : 23), (const char *) plain + 2);
            s_pseudonym (self, keys, number, buf + prep->pseud_off);
            sodium_memzero (number, sizeof number);
        }
        uint8_t ad[PL_AUDIT_CHAIN_MAX + 8];
        pl__rbuf_t r = {body, prep->body_len, PL_AUDIT_BODY_FIXED, false};
        const char *chain;
        size_t chain_len;
        pl__rbuf_str (&r, &chain, &chain_len);
        memcpy (ad, chain, chain_len);
        memcpy (ad + chain_len, body, 8);                   /* seq, little-endian */
        memcpy (pd, s_nonce (self), 24);
        pl_audit_keys_seal_with (keys, pd, plain, prep->plain_len, ad, chain_len + 8, pd);
        crypto_hash_sha256 (body + 56, pd, 24 + prep->plain_len + 16);
    }
    crypto_hash_sha256 (hash_out, body, prep->body_len);
    memcpy (buf + prep->frame_off + prep->frame_len - PL_AUDIT_HASH_LEN, hash_out,
            PL_AUDIT_HASH_LEN);
}

int
pl_audit_codec_encode (pl_audit_codec_t *self, pl__wbuf_t *out,
                       const Plateau__V1__AuditEvent *ev, const pl_audit_encode_ctx_t *ctx,
                       uint8_t hash_out[PL_AUDIT_HASH_LEN])
{
    pl_audit_prep_t prep;
    int rc = pl_audit_codec_prepare (self, out, ev, ctx, &prep);
    if (rc == 0)
        pl_audit_codec_seal (self, out->p, &prep, ctx->keys, ctx->prev_hash, hash_out);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Decoding                                                                                 */

/* Bump allocation in a block sized before decoding (see s_decode_body), so pointers never
 * move while a record is being built. */
static void *
s_alloc (uint8_t *arena, size_t cap, size_t *len, size_t n, size_t align)
{
    size_t at = (*len + align - 1) & ~(align - 1);
    if (at + n > cap)
        return NULL;
    *len = at + n;
    return arena + at;
}

static const char *
s_dup (uint8_t *arena, size_t cap, size_t *len, pl__rbuf_t *r)
{
    const char *s;
    size_t n;
    pl__rbuf_str (r, &s, &n);
    char *d = s_alloc (arena, cap, len, n + 1, 1);
    if (!d) {
        r->err = true;
        return "";
    }
    memcpy (d, s, n);
    d[n] = '\0';
    return d;
}

/* Reads n items of a part into a new array in the arena: the first `stored` of its nf fields
 * from r, the others empty ("", 0, false). NULL when the arena is full. */
static void *
s_read_part (uint8_t *a, size_t cap, size_t *len, pl__rbuf_t *r, size_t n, size_t size,
             const pl__field_t *f, size_t nf, size_t stored)
{
    uint8_t *v = s_alloc (a, cap, len, n * size, 8);
    for (size_t i = 0; v && i < n && !r->err; i++)
        for (size_t j = 0; j < nf; j++) {
            uint8_t *p = v + i * size + f[j].off;
            switch (f[j].kind) {
                case PL__FIELD_STR:
                    *(const char **) p = j < stored ? s_dup (a, cap, len, r) : "";
                    break;
                case PL__FIELD_I64:
                    *(int64_t *) p = j < stored ? (int64_t) pl__rbuf_u64 (r) : 0;
                    break;
                case PL__FIELD_BOOL: *(bool *) p = j < stored && pl__rbuf_u8 (r); break;
            }
        }
    return v;
}

static bool
s_arena_reserve (uint8_t **arena, size_t *cap, size_t need)
{
    if (*cap >= need)
        return true;
    uint8_t *p = realloc (*arena, need);
    if (!p)
        return false;
    *arena = p;
    *cap = need;
    return true;
}

/* Version 2: unpacks the evidence at r and gives the record its lists (hit, copy date). */
static int
s_decode_evidence (pl_audit_codec_t *self, pl__rbuf_t *r, pl_audit_record_t *rec)
{
    const uint8_t *p = pl__rbuf_take (r, 4);
    uint32_t n = p ? pl__get_u32 (p) : 0;
    const uint8_t *data = p ? pl__rbuf_take (r, n) : NULL;
    if (!data)
        return PL_ECORRUPT;
    Plateau__V1__AuditEvent *e = plateau__v1__audit_event__unpack (NULL, n, data);
    if (!e)
        return PL_ECORRUPT;
    self->evidence = e;
    rec->evidence = e;
    if (rec->n_lists || !e->n_lists)
        return rec->n_lists ? PL_ECORRUPT : 0;
    if (e->n_lists > self->ev_lists_cap) {
        pl_audit_list_t *v = realloc (self->ev_lists, e->n_lists * sizeof *v);
        if (!v)
            return PL_ENOMEM;
        self->ev_lists = v;
        self->ev_lists_cap = e->n_lists;
    }
    for (size_t i = 0; i < e->n_lists; i++) {
        const Plateau__V1__ListVersion *l = e->lists[i];
        self->ev_lists[i] = (pl_audit_list_t) { l->name, l->version, l->loaded_at_ms, l->age_ms,
                                                l->hit, l->copy_date };
    }
    rec->lists = self->ev_lists;
    rec->n_lists = e->n_lists;
    return 0;
}

int
pl_audit_codec_decode (pl_audit_codec_t *self, const pl_audit_frame_t *f,
                       const pl_audit_record_t **out)
{
    /* Every encoded byte costs at most 4.5 arena bytes (an attribute of two empty strings is
     * 4 bytes encoded, 18 decoded), plus alignment slack for the four arrays. */
    size_t need = 5 * f->body_len + 64;
    if (!s_arena_reserve (&self->arena, &self->arena_cap, need))
        return PL_ENOMEM;
    uint8_t *a = self->arena;
    size_t cap = self->arena_cap, len = 0;
    pl_audit_record_t *rec = &self->rec;
    memset (rec, 0, sizeof *rec);
    if (self->evidence) {
        protobuf_c_message_free_unpacked (&self->evidence->base, NULL);
        self->evidence = NULL;
    }
    rec->seq = f->seq;
    rec->at_ms = f->at_ms;
    rec->written_ms = f->written_ms;
    memcpy (rec->prev_hash, f->prev_hash, PL_AUDIT_HASH_LEN);
    memcpy (rec->pd_digest, f->pd_digest, PL_AUDIT_HASH_LEN);
    memcpy (rec->hash, f->hash, PL_AUDIT_HASH_LEN);
    rec->version = f->version;
    rec->flags = f->flags;
    rec->pd = f->pd;
    rec->pd_len = f->pd_len;
    rec->frame_len = f->frame_len;

    pl__rbuf_t r = {f->body, f->body_len, PL_AUDIT_BODY_FIXED, false};
    rec->chain_id = s_dup (a, cap, &len, &r);
    rec->event_id = s_dup (a, cap, &len, &r);
    rec->service = s_dup (a, cap, &len, &r);
    rec->type = s_dup (a, cap, &len, &r);
    rec->lead_id = s_dup (a, cap, &len, &r);
    rec->campaign = s_dup (a, cap, &len, &r);
    uint8_t plen = pl__rbuf_u8 (&r);
    if (plen == PL_AUDIT_PSEUDONYM_LEN) {
        const uint8_t *p = pl__rbuf_take (&r, plen);
        if (p) {
            memcpy (rec->pseudonym, p, plen);
            rec->has_pseudonym = true;
        }
    } else if (plen != 0)
        r.err = true;
    rec->decision = pl__rbuf_u8 (&r);
    rec->trace_id = s_dup (a, cap, &len, &r);
    rec->zone = s_dup (a, cap, &len, &r);
    rec->actor = s_dup (a, cap, &len, &r);

    rec->n_rules = pl__rbuf_u16 (&r);
    rec->rules = s_read_part (a, cap, &len, &r, rec->n_rules, sizeof *rec->rules,
                              pl__rule_fields, PL__NFIELDS (pl__rule_fields),
                              PL__NFIELDS (pl__rule_fields));
    rec->n_lists = pl__rbuf_u16 (&r);
    rec->lists = s_read_part (a, cap, &len, &r, rec->n_lists, sizeof *rec->lists,
                              pl__list_fields, PL__NFIELDS (pl__list_fields), PL__LIST_BODY_FIELDS);
    rec->n_counts = pl__rbuf_u16 (&r);
    rec->counts = s_read_part (a, cap, &len, &r, rec->n_counts, sizeof *rec->counts,
                               pl__count_fields, 2, 2);
    rec->n_attrs = pl__rbuf_u16 (&r);
    rec->attrs = s_read_part (a, cap, &len, &r, rec->n_attrs, sizeof *rec->attrs,
                              pl__attr_fields, 2, 2);
    if (f->version >= 2 && !r.err && s_decode_evidence (self, &r, rec) != 0)
        r.err = true;
    if (r.err || r.pos != r.len || !rec->rules || !rec->lists || !rec->counts || !rec->attrs) {
        snprintf (self->errstr, sizeof self->errstr, "record %llu: body does not decode",
                  (unsigned long long) f->seq);
        return PL_ECORRUPT;
    }
    *out = rec;
    return 0;
}

int
pl_audit_codec_personal (pl_audit_codec_t *self, const pl_audit_record_t *r,
                         const pl_audit_keys_t *keys, const pl_audit_personal_t **out)
{
    if (r->flags & PL_AUDIT_FLAG_ERASED)
        return PL_ENOTFOUND;
    return pl_audit_codec_open_personal (self, r->chain_id, r->seq, r->pd, r->pd_len, keys, out);
}

int
pl_audit_codec_open_personal (pl_audit_codec_t *self, const char *chain_id, uint64_t seq,
                              const uint8_t *blob, size_t blob_len, const pl_audit_keys_t *keys,
                              const pl_audit_personal_t **out)
{
    if (!blob || blob_len == 0)
        return PL_ENOTFOUND;
    if (!keys || !pl_audit_keys_has_data (keys))
        return PL_EINVAL;
    if (blob_len < PL_AUDIT_SEAL_OVERHEAD)
        return PL_ECORRUPT;
    size_t plain_len = blob_len - PL_AUDIT_SEAL_OVERHEAD;
    if (!s_arena_reserve (&self->pd_plain, &self->pd_plain_cap, plain_len + 1)
        || !s_arena_reserve (&self->pd_arena, &self->pd_arena_cap, 5 * plain_len + 64))
        return PL_ENOMEM;
    uint8_t ad[PL_AUDIT_CHAIN_MAX + 8];
    size_t chain_len = strlen (chain_id);
    if (chain_len > PL_AUDIT_CHAIN_MAX)
        return PL_ECORRUPT;
    memcpy (ad, chain_id, chain_len);
    pl__put_u64 (ad + chain_len, seq);
    int rc = pl_audit_keys_open (keys, blob, blob_len, ad, chain_len + 8, self->pd_plain);
    if (rc)
        return rc;
    uint8_t *a = self->pd_arena;
    size_t cap = self->pd_arena_cap, len = 0;
    pl__rbuf_t rd = {self->pd_plain, plain_len, 0, false};
    pl_audit_personal_t *p = &self->pers;
    p->number = s_dup (a, cap, &len, &rd);
    p->reason = s_dup (a, cap, &len, &rd);
    p->n_details = pl__rbuf_u16 (&rd);
    p->details = s_read_part (a, cap, &len, &rd, p->n_details, sizeof *p->details,
                              pl__attr_fields, 2, 2);
    if (rd.err || rd.pos != rd.len || !p->details)
        return PL_ECORRUPT;
    *out = p;
    return 0;
}
