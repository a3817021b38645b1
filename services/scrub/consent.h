/*  consent.h — the consent registry: proof that a person agreed to be called, and its revocation.
 *
 *  Consents are kept per number in the hash pl:{num:<e164>}:consents: field "<id>" holds the
 *  record as given (scope, source, captured time, evidence, wording, written or not), field
 *  "r:<id>" its revocation once revoked (when, by whom). Records are never rewritten: a
 *  revocation is one more field, so the proof of the consent and of its end stay side by side.
 *  pl:{consent:<id>}:number finds a consent's number from its id (written just before the step).
 *  Recording and revoking are atomic steps with their consent.recorded / consent.revoked events;
 *  a decision reads the hash, so a revocation applies to the next decision on any replica.
 *
 *  Scope: tenant (the professional), subject (what it covers, as the campaign's [campaign]
 *  subject; "" = everything of that tenant), campaign ("" = any), channel ("phone" or "" count
 *  for calls), purpose (free: "canvassing"). `ref` is whose consent it is (the lead or the CRM's
 *  reference, never the number).
 */
#ifndef SCRUB_CONSENT_H
#define SCRUB_CONSENT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "plateau/clock.h"
#include "plateau/inbox.h"
#include "plateau/outbox.h"
#include "plateau/redis.h"
#include "plateau/rules.h"

#define SCRUB_CONSENT_ID_MAX 96

typedef struct {
    char id[SCRUB_CONSENT_ID_MAX];
    const char *number, *tenant, *subject, *campaign, *channel, *purpose;
    const char *source;          /* where it was captured ("web-form:example.fr/offer") */
    const char *evidence_ref;    /* where the proof is kept */
    const char *wording_version;
    const char *ref;             /* whose: lead id or CRM reference */
    const char *actor;           /* the authenticated identity that recorded it */
    int64_t captured_at_ms;
    int64_t revoked_at_ms;       /* 0 while in force */
    const char *revoked_by;
    bool written, names_number;
} scrub_consent_t;

/* Records c (c->id set by the caller: a new id, or one derived from a lead). 1 recorded, 0 the
 * id was known already (nothing emitted), or a negative PL_E* code. */
int scrub_consent_record (pl_inbox_t *inbox, const pl_outbox_t *audit, const char *service,
                          const pl_clock_t *clock, const scrub_consent_t *c, const char *trace_id,
                          char *err, size_t err_size);
/* Revokes consent `id` as `actor` (at revoked_at_ms, 0: now). 0; PL_ENOTFOUND (no such id);
 * PL_EEXIST (revoked before). *number_out (may be NULL) gets the number, size 24. */
int scrub_consent_revoke (pl_redis_t *redis, pl_inbox_t *inbox, const pl_outbox_t *audit,
                          const char *service, const pl_clock_t *clock, const char *id,
                          const char *actor, int64_t revoked_at_ms, const char *trace_id,
                          char *err, size_t err_size);

/* Fills c from a record as stored (rec, the value of field "<id>") and its revocation (rev, the
 * value of "r:<id>", or NULL); missing or mistyped members read as "" or 0. Strings are
 * borrowed from rec and rev. */
void scrub_consent_from_json (scrub_consent_t *c, const char *id, json_t *rec, json_t *rev);

/* The consents of n numbers, read in one pipeline; strings owned by the set. */
typedef struct scrub_consents scrub_consents_t;
int scrub_consents_fetch (pl_redis_t *redis, const char *const *numbers, size_t n, scrub_consents_t **out);
void scrub_consents_destroy (scrub_consents_t **self_p);
size_t scrub_consents_count (const scrub_consents_t *self, size_t i);
const scrub_consent_t *scrub_consents_at (const scrub_consents_t *self, size_t i, size_t j);
/* The rules engine's view of number i's consents that count for a call of `campaign` (channel
 * phone or unset, campaign unset or this one): fills up to cap, returns how many. Strings point
 * into the set. */
size_t scrub_consents_rules (const scrub_consents_t *self, size_t i, const char *e164,
                             const char *campaign, pl_rules_consent_t *out, size_t cap);

#endif
