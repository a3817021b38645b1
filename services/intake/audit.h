/*  audit.h — the AuditEvent of every intake decision: lead.accepted, lead.duplicate,
 *  lead.rejected, with reasons, field codes, number, lead id, campaign and trace id.
 *
 *  Events are built here and encoded as whole envelopes. The HTTP threads queue the duplicate
 *  and rejected ones in Redis (intake_store_audit_push); the feeder sends them, and builds the
 *  accepted ones itself from the to-queue with ids derived from the lead id, so that an
 *  accepted lead's event survives a crash (see feeder.h).
 */
#ifndef PL_INTAKE_AUDIT_H
#define PL_INTAKE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "lead.h"
#include "plateau/clock.h"

#define INTAKE_AUDIT_ACCEPTED "lead.accepted"
#define INTAKE_AUDIT_DUPLICATE "lead.duplicate"
#define INTAKE_AUDIT_REJECTED "lead.rejected"

typedef struct {
    const char *event_id;           /* NULL: a new ULID */
    const char *service;            /* "intake" */
    const char *type;               /* INTAKE_AUDIT_* */
    const char *lead_id;            /* the new or existing lead, or "" */
    const char *campaign;
    const char *number;             /* E.164, or "" */
    const char *zone;               /* the callee's first candidate zone, or "" */
    const char *trace_id;           /* may be NULL */
    const char *actor;              /* the source (CRM) */
    const char *reason;             /* one line */
    const char *dedupe;             /* duplicate: "external_id", "number", "message" */
    const char *format;             /* "json", "ndjson", "csv", "bus" */
    const intake_errors_t *errors;  /* rejected: field codes into details */
    size_t line;                    /* input line, 0 when none */
} intake_audit_t;

/* The envelope of one event, encoded; malloc'd (free it), NULL when out of memory. */
uint8_t *intake_audit_pack (const intake_audit_t *ev, const pl_clock_t *clock, size_t *len);

#endif
