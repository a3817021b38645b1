/*  store.h — leads in Redis: each stored with its dedupe keys and the messages it causes, at once.
 *
 *  Every key a lead's storing touches lives under its campaign's hash tag, so that one atomic
 *  step of the kit (plateau/inbox.h) stores it on one Redis Cluster node (docs/adr/0033):
 *
 *      pl:{camp:<c>}:lead:<id>                 hash: pb (plateau.v1.Lead), source, replica, at
 *      pl:{camp:<c>}:num:<e164>                lead id; expires after the dedupe window
 *      pl:{camp:<c>}:xid:<source>:<ext id>     lead id (the CRM's id, per source)
 *      pl:{camp:<c>}:seen:intake:d<day>        the kit's seen markers of bus messages
 *      pl:{camp:<c>}:ob:<replica>:scrub        LeadSubmitted for scrub (the kit's outbox slot)
 *      pl:{camp:<c>}:ob:<replica>:audit        lead.accepted for the audit
 *
 *  The step either finds the lead a duplicate (same bus message, same CRM id, same number in the
 *  campaign within the window), changes nothing and emits nothing, or writes the lead, its dedupe
 *  keys, its LeadSubmitted and its lead.accepted together: a lead is never stored without being
 *  owed to scrub and to the audit. Duplicates and rejections change no state: their audit events
 *  are written by a second step, before the caller is answered (docs/adr/0006). And outside the
 *  step, written before it (another hash tag) and removed again for a duplicate:
 *
 *      pl:{lead:<id>}:campaign                 where to find lead <id> (GET /v1/leads/{id})
 *      pl:{idem:<source>:<key>}                hash: an Idempotency-Key's owner while pending, then
 *                                              its answer and the body's digest
 *
 *  An intake_store_t belongs to one thread (it holds the thread's Redis connection and inbox).
 */
#ifndef PL_INTAKE_STORE_H
#define PL_INTAKE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "plateau/clock.h"
#include "plateau/id.h"
#include "plateau/redis.h"
#include "plateau/v1/lead.pb-c.h"

typedef struct intake_store intake_store_t;

/* What storing one lead came to. */
typedef enum {
    INTAKE_STORE_UNKNOWN = 0,       /* not known to be stored (Redis failed before its reply) */
    INTAKE_STORE_STORED,            /* stored now */
    INTAKE_STORE_DUP_EXTERNAL,      /* same (source, external_id) in the campaign: existing id */
    INTAKE_STORE_DUP_NUMBER,        /* same number in the campaign within the window */
    INTAKE_STORE_DUP_MESSAGE,       /* same bus message applied before: its lead id */
} intake_store_outcome_t;

typedef struct {
    const Plateau__V1__Lead *lead;  /* borrowed; lead->id set by the caller (a new ULID); NULL: a
                                     * rejected item, whose audit event only is recorded */
    const char *message_id;         /* bus door: the envelope id (seen marker); else NULL */
    const intake_audit_t *audit;    /* context of its audit event (format, line, errors…); NULL:
                                     * no audit service configured */
    intake_store_outcome_t outcome; /* out */
    char lead_id[PL_ID_LEN + 1];    /* out: the new id, or the existing lead's */
} intake_store_item_t;

/* Borrows redis and clock. window_ms: how long the same number in a campaign is a duplicate (0:
 * never). service: the emitting service's name; replica: this replica's (outbox owner). */
intake_store_t *intake_store_new (pl_redis_t *redis, const pl_clock_t *clock, const char *service,
                                  const char *replica, int64_t window_ms);
void intake_store_destroy (intake_store_t **self_p);

/* Stores n items in one pipeline, in order: one script call per run of leads of the same
 * campaign, each lead stored or found a duplicate as if alone, then the audit events of the
 * duplicates and rejections. 0 when every step ran; PL_EREDIS otherwise: leads whose outcome is
 * still UNKNOWN may or may not have been stored (never half), and are reported "not accepted". */
int intake_store_put (intake_store_t *self, intake_store_item_t *items, size_t n, int64_t now_ms);
/* intake_store_put in two halves, so that the caller decodes its next batch while Redis stores
 * this one: send writes the steps (items must stay alive and unchanged until recv), recv reads
 * the outcomes and records the duplicates; recv answers as put. One batch in flight at a time. */
int intake_store_send (intake_store_t *self, intake_store_item_t *items, size_t n, int64_t now_ms);
int intake_store_recv (intake_store_t *self);

/* Records the lead.rejected_summary of a request (audit.h: ctx->rejected, recorded, first_*)
 * in one step of its own, with the id "<event_key>.rejected_summary". 0 or a negative PL_E*
 * code. Not while a batch is in flight (between send and recv). */
int intake_store_audit_summary (intake_store_t *self, const intake_audit_t *ctx, const char *event_key,
                                int64_t now_ms);

/* A stored lead and where it stands. */
typedef struct {
    Plateau__V1__Lead *lead;        /* free with plateau__v1__lead__free_unpacked */
    char replica[128];              /* the replica that accepted it */
    int64_t accepted_at_ms;
    char verdict[64];               /* what scrub said, "" while unknown */
} intake_store_lead_t;

/* Reads lead `id`: 0, PL_ENOTFOUND, PL_EREDIS. */
int intake_store_get (intake_store_t *self, const char *id, intake_store_lead_t *out);

/* Idempotency keys. A key is claimed by one request, its owner (a random id of the request),
 * for a lease: the pending key expires when the lease does, so the key of a request whose
 * process died is free again within lease_ms, and the owner renews the lease while it works.
 * Renewal, release and answer act only while the key is still pending and the caller's (Lua,
 * atomic): an owner whose lease lapsed and was taken over changes nothing. The answer is kept
 * with the SHA-256 of the body it answered (hex), so that a retry can be told from a new request
 * reusing the key. */
typedef struct {
    int status;
    char *ctype;                    /* malloc'd by claim (free with intake_store_answer_free) */
    char *body;
    size_t body_len;
    char digest[65];                /* hex SHA-256 of the request body, "" when not recorded */
    int64_t lease_left_ms;          /* claim → PL_EBUSY: how long the owner's lease still runs */
} intake_store_answer_t;

/* 1 claimed (go on), 0 an answer is stored (in *out), PL_EBUSY another request holds it (its
 * lease's time left in out->lease_left_ms), PL_EREDIS, PL_ENOMEM. */
int intake_store_idem_claim (intake_store_t *self, const char *source, const char *key, const char *owner,
                             int64_t lease_ms, intake_store_answer_t *out);
/* 0 done; PL_ENOTFOUND the key is no longer owner's (lapsed and taken over, or answered);
 * PL_EREDIS. */
int intake_store_idem_renew (intake_store_t *self, const char *source, const char *key, const char *owner,
                             int64_t lease_ms);
int intake_store_idem_save (intake_store_t *self, const char *source, const char *key, const char *owner,
                            int64_t ttl_ms, const intake_store_answer_t *answer);
int intake_store_idem_release (intake_store_t *self, const char *source, const char *key, const char *owner);
void intake_store_answer_free (intake_store_answer_t *answer);

const char *intake_store_errstr (const intake_store_t *self);

/* Messages owed to scrub and to the audit by this replica (its outboxes), or a negative code. */
long long intake_store_owed (intake_store_t *self, const char *destination);

/* Key helpers (buffers of 512 bytes are always enough for valid campaigns and ids). */
void intake_store_lead_key (char *out, size_t size, const char *campaign, const char *id);
void intake_store_index_key (char *out, size_t size, const char *id);

#endif
