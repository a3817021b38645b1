/*  verdict.h — one number's verdict: gather its facts, ask the rules engine, keep the answer.
 *
 *  Scrub decides nothing by itself. For each number it gathers the facts — the answer of every
 *  list in force (the catalog: national and client lists with version and copy date), the
 *  internal do-not-call list (optout.h, read from Redis now), the consents of the number
 *  (consent.h), its line type, zones and regions — and calls pl_rules_decide under the campaign
 *  the number is judged for (campaigns.h). ALLOW and DEFER mean the number may be called some
 *  day; DENY that it may not. The verdict keeps the decision with every rule that fired and
 *  every list consulted, and renders it for the lead (JSON), the bus (ScrubVerdict) and the
 *  audit (scrub.verdict).
 */
#ifndef SCRUB_VERDICT_H
#define SCRUB_VERDICT_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "catalog.h"
#include "campaigns.h"
#include "plateau/redis.h"
#include "plateau/rules.h"
#include "plateau/v1/audit.pb-c.h"
#include "plateau/v1/scrub.pb-c.h"

#define SCRUB_VERDICT_MAX_CONSENTS 32

/* A number to judge. Every pointer may be NULL or empty except e164. */
typedef struct {
    const char *e164;
    int phone_type;              /* plateau.v1.PhoneNumber.Type; 0 unknown */
    const char *region;          /* the number's ISO 3166-1 region ("RE") */
    char *const *zones;          /* IANA candidates from the intake; none: from the number */
    size_t n_zones;
    const char *zone_source;     /* "override", "postal_code", "state", "prefix" */
} scrub_number_t;

/* What the numbers are judged for. */
typedef struct {
    const char *campaign;        /* "" or NULL: the jurisdiction's default */
    const char *jurisdiction;    /* "" or NULL: from each number's region */
    const char *country;         /* the lead's address: country (ISO alpha-2), state ("FL", */
    const char *state;           /* "Florida") and postal code, for a state's rules */
    const char *postal_code;
    const char *debt_ref;        /* collection: the debt, "" for none */
    /* At the instant of dialling (DialCheck); zero / NULL elsewhere. */
    const char *tenant;          /* the tenant the call is for: its opt-outs count too */
    const pl_rules_call_t *calls;  /* the person's contact history, ids from scrub_id_of */
    size_t n_calls;
    unsigned dial;               /* PL_RULES_DIAL_* | PL_RULES_DIAL_SET; 0: the campaign's */
    const char *cli;             /* the caller id presented; NULL: the campaign's */
    pl_rules_callee_t callee;    /* who is called, as the lead says (consumer when unknown) */
} scrub_context_t;

typedef struct {
    char number[24];
    int rc;                      /* 0 decided; PL_ENOTFOUND no profile covers it; other: failed */
    pl_rules_decision_t d;       /* when rc == 0 */
    scrub_list_fact_t lists[SCRUB_LIST_FACTS_MAX];
    size_t n_lists;
    char campaign[128], profile[24], tenant[128], jurisdiction[8];
    char region[8], zone[64];
    char zones[PL_RULES_MAX_ZONES][64];
    char zone_sources[PL_RULES_MAX_ZONES][16];
    size_t n_zones;
    char regions[PL_RULES_MAX_REGIONS][8];      /* the number's and the address's */
    char overlays[PL_RULES_MAX_REGIONS][16];    /* overlay profiles of those regions ("us-fl") */
    size_t n_overlays;
    uint8_t region_sources[PL_RULES_MAX_REGIONS]; /* pl_rules_region_source_t */
    size_t n_regions;
    /* The consents' evidence, which the decision cites: kept here so that it outlives the
     * consents read from Redis (pl_rules_reason reads it when the verdict is rendered). */
    char evidence[SCRUB_VERDICT_MAX_CONSENTS][96];
} scrub_verdict_t;

/* Judges n numbers at now_ms, reading opt-outs and consents from redis in one pipeline each.
 * out[i] for nums[i]. 0, or PL_EREDIS / PL_ENOMEM (nothing decided: answer "try again"). */
int scrub_verdict_judge (const scrub_campaigns_t *campaigns, scrub_catalog_t *catalog, pl_redis_t *redis,
                         const scrub_context_t *ctx, const scrub_number_t *nums, size_t n, int64_t now_ms,
                         scrub_verdict_t *out);

/* The same, each number with its own context and instant (a batch of dial-time checks): still
 * one pipeline for the opt-outs and one for the consents of the whole batch. */
int scrub_verdict_judge_each (const scrub_campaigns_t *campaigns, scrub_catalog_t *catalog, pl_redis_t *redis,
                              const scrub_context_t *const *ctxs, const scrub_number_t *nums,
                              const int64_t *at_ms, size_t n, scrub_verdict_t *out);

/* ALLOW only: the earliest end of the current allowance among the rules that passed with one
 * (the calling window's end in the binding zone); 0 when none ends or v is not an ALLOW. */
int64_t scrub_verdict_allowed_until (const scrub_verdict_t *v);
/* The decided instant in the binding zone, RFC 3339 with its offset ("2026-11-17T10:30:00.000+01:00");
 * "" when no zone bound it. out holds at least 40 bytes. */
void scrub_verdict_local_time (const scrub_verdict_t *v, char *out, size_t size);

/* The region a number is judged in: its own, else its prefix's ("+33…" → "FR"). */
const char *scrub_verdict_region (const scrub_number_t *num);

/* May this number ever be called (ALLOW or DEFER)? */
bool scrub_verdict_passes (const scrub_verdict_t *v);
/* "allow", "deny", "defer", or "error". */
const char *scrub_verdict_name (const scrub_verdict_t *v);

/* {"number","decision","defer_until","profile","campaign","regions":[…],"reasons":[…],"lists":[…]} */
json_t *scrub_verdict_json (const scrub_verdict_t *v, int64_t now_ms);

/* A ScrubVerdict and a scrub.verdict audit event of v; their storage lives in the holder until
 * scrub_verdict_pb_free. */
typedef struct scrub_verdict_pb scrub_verdict_pb_t;
scrub_verdict_pb_t *scrub_verdict_pb_new (const scrub_verdict_t *v, int64_t now_ms);
void scrub_verdict_pb_free (scrub_verdict_pb_t **self_p);
Plateau__V1__ScrubVerdict *scrub_verdict_pb_message (scrub_verdict_pb_t *self, const char *request_id,
                                                     const char *lead_id);
/* Fills the evidence of a scrub.verdict event ev (already initialised): number, decision,
 * tenant, campaign, profile, overlays, regions, zones, evaluated_at_ms, rules, lists, reason.
 * The dial.* events start from the same. */
void scrub_verdict_pb_audit (scrub_verdict_pb_t *self, Plateau__V1__AuditEvent *ev);

#endif
