/*  evidence.h — the typed evidence of an audit record as JSON (internal to lib/audit).
 *
 *  One renderer for the index (its `evidence` column, which queries return) and for exports read
 *  from the segments, so that both show the same object. It walks the protobuf descriptors rather
 *  than naming fields, so a field added to AuditEvent's evidence appears without a change here:
 *  every field set (proto3 defaults left out, as in protobuf's JSON mapping), enums by their
 *  lower-case names ("autodialed", "debt_collection"), sub-messages as objects, repeated fields as
 *  arrays, names as in the .proto. `lists` is left out: the record's lists carry it.
 */
#ifndef PL_AUDIT_EVIDENCE_H
#define PL_AUDIT_EVIDENCE_H
#include <jansson.h>
#include "plateau/v1/audit.pb-c.h"

/* A new JSON object, or NULL when ev is NULL or sets no evidence. */
json_t *pl__audit_evidence_json (const Plateau__V1__AuditEvent *ev);

#endif
