/*  audit_retention.h — how long each type of audit event must be kept.
 *
 *  Law sets different periods per kind of record (US internal do-not-call requests: 5 years),
 *  so retention is a table from event type to duration, read from PLATEAU_AUDIT_RETENTION:
 *
 *      "dnc.*=5y, lead.rejected=400d, default=3y"
 *
 *  An entry is an exact type or a prefix ending in '*' (the longest matching prefix wins);
 *  `default` covers the rest; without a default, other types are kept forever. Units: d (days),
 *  y (years), h, m, s, ms; a year counts 366 days so a retention period never ends early.
 *  "forever" keeps a type for good. The store expires a whole segment only when every record
 *  in it has passed its own type's period.
 */
#ifndef PL_AUDIT_RETENTION_H
#define PL_AUDIT_RETENTION_H
#include <stdint.h>

#define PL_AUDIT_FOREVER INT64_MAX

typedef struct pl_audit_retention pl_audit_retention_t;

/* A table keeping everything forever until told otherwise. NULL on allocation failure. */
pl_audit_retention_t *pl_audit_retention_new (void);
void pl_audit_retention_destroy (pl_audit_retention_t **self_p);

/* Adds the entries of spec (format above). 0, or PL_EINVAL with the offending entry in errstr. */
int pl_audit_retention_parse (pl_audit_retention_t *self, const char *spec);
/* The period for type, in ms (PL_AUDIT_FOREVER when kept for good). */
int64_t pl_audit_retention_for (const pl_audit_retention_t *self, const char *type);
/* True when no entry can ever expire anything. */
int pl_audit_retention_keeps_all (const pl_audit_retention_t *self);

const char *pl_audit_retention_errstr (const pl_audit_retention_t *self);

#endif
