/*  audit.h — the AuditEvent of every intake decision: lead.accepted, lead.duplicate,
 *  lead.rejected, and lead.rejected_summary for the rejections of a request beyond those
 *  recorded one by one (docs/audit-events.md).
 *
 *  Events are built here, with the kit's pl_audit_event_init, from the lead and the context of the
 *  request (format, line, errors); the store emits them with pl_audit_emit inside the step that
 *  stores the lead (accepted) or right after it (duplicates, rejections). Their ids derive from
 *  the lead id ("<lead id>.accepted"), so a step retried after a crash sends the same event.
 */
#ifndef PL_INTAKE_AUDIT_H
#define PL_INTAKE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "campaigns.h"
#include "lead.h"
#include "plateau/v1/audit.pb-c.h"

#define INTAKE_AUDIT_ACCEPTED "lead.accepted"
#define INTAKE_AUDIT_DUPLICATE "lead.duplicate"
#define INTAKE_AUDIT_REJECTED "lead.rejected"
#define INTAKE_AUDIT_REJECTED_SUMMARY "lead.rejected_summary"

/* What the request knows of one item. */
typedef struct {
    const char *trace_id;           /* may be NULL */
    const char *actor;              /* the authenticated source (CRM) */
    const char *format;             /* "json", "ndjson", "csv", "bus" */
    const char *campaign;           /* rejected items: as given, may be "" */
    const intake_campaigns_t *campaigns;    /* tenant and call kind of each campaign; may be NULL */
    const char *reason;             /* rejected: one line */
    const intake_errors_t *errors;  /* rejected: field codes into details */
    const char *number;             /* rejected: the number if it was valid, else "" */
    size_t line;                    /* input line, 0 when none */
    /* lead.rejected_summary: the request's rejected items, those recorded one by one, and the
     * first one that was not (its index, and its line or 0) */
    size_t rejected, recorded, first_index, first_line;
} intake_audit_t;

#define INTAKE_AUDIT_ZONES_MAX 16
#define INTAKE_AUDIT_REGIONS_MAX 4       /* PL_PHONE_MAX_REGIONS */
#define INTAKE_AUDIT_DETAILS_MAX (3 + 3 * 8)
#define INTAKE_AUDIT_RULES_MAX INTAKE_MAX_ERRORS

/* An event and the storage its fields point into. */
typedef struct {
    Plateau__V1__AuditEvent ev;
    Plateau__V1__ZoneCandidate zones[INTAKE_AUDIT_ZONES_MAX], *zonep[INTAKE_AUDIT_ZONES_MAX];
    char *regions[INTAKE_AUDIT_REGIONS_MAX];
    Plateau__V1__RegionCandidate rsrc[INTAKE_AUDIT_REGIONS_MAX], *rsrcp[INTAKE_AUDIT_REGIONS_MAX];
    Plateau__V1__AuditEvent__DetailsEntry d[INTAKE_AUDIT_DETAILS_MAX], *dp[INTAKE_AUDIT_DETAILS_MAX];
    Plateau__V1__AuditEvent__CountsEntry c[5], *cp[5];
    Plateau__V1__RuleHit rules[INTAKE_AUDIT_RULES_MAX], *rulep[INTAKE_AUDIT_RULES_MAX];
    char rule_ids[INTAKE_AUDIT_RULES_MAX][48], rule_facts[INTAKE_AUDIT_RULES_MAX][200];
    char rule_reasons[INTAKE_AUDIT_RULES_MAX][400];   /* a message with its quotes hidden */
    char keys[INTAKE_AUDIT_DETAILS_MAX][32], vals[INTAKE_AUDIT_DETAILS_MAX][200];
    char event_id[96];
    char reason[160];
} intake_audit_event_t;

/* Builds the event of `type` about item ctx: lead (NULL for a rejection) stored as lead_id (the
 * new or the existing lead), dedupe ("external_id", "number", "message") for a duplicate.
 * event_key names what the event is about, for its id (the lead id, or the rejected item's own
 * id). Strings are borrowed from the arguments: they must live until the event is emitted.
 *
 * Every lead.* event carries the tenant and call kind of its campaign (campaigns.h). A rejection
 * also carries the CRM's id of the item when it could be read (ctx->errors->known) and one
 * RuleHit per error: rule_id "intake.<code>", value the field path, reason the message with any
 * quoted input left out (rules are public and outlive the person's erasure; the whole message
 * stays in the personal details), facts where in the input it was. */
void intake_audit_build (intake_audit_event_t *out, const char *service, const char *type,
                         const intake_audit_t *ctx, const Plateau__V1__Lead *lead,
                         const char *lead_id, const char *dedupe, const char *event_key,
                         int64_t at_ms);

#endif
