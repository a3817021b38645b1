/*  parts.h — the repeated parts of an audit record (rules, lists, counts, attrs), described once.
 *
 *  Each part is an array of small structs. The body decoder reads them field by field in this
 *  order, and the index writes them as JSON objects with these names, so the two cannot drift.
 *  Internal to the audit modules (the pl__ prefix).
 */
#ifndef PL_AUDIT_PARTS_H
#define PL_AUDIT_PARTS_H
#include <stddef.h>
#include "plateau/audit_record.h"

typedef enum { PL__FIELD_STR, PL__FIELD_I64, PL__FIELD_BOOL } pl__field_kind_t;

/* One member of a part's struct: its name (as in JSON), its kind and its offset. */
typedef struct {
    const char *name;
    pl__field_kind_t kind;
    size_t off;
} pl__field_t;

#define PL__FIELD(type, member, kind) {#member, PL__FIELD_##kind, offsetof (type, member)}
#define PL__NFIELDS(fields) (sizeof fields / sizeof *fields)

static const pl__field_t pl__rule_fields[] = {
    PL__FIELD (pl_audit_rule_t, rule_id, STR), PL__FIELD (pl_audit_rule_t, value, STR),
    PL__FIELD (pl_audit_rule_t, facts, STR),   PL__FIELD (pl_audit_rule_t, reason, STR),
    PL__FIELD (pl_audit_rule_t, zone, STR),    PL__FIELD (pl_audit_rule_t, defer_until_ms, I64)};

/* The body holds the first four; the last two come with the typed evidence (format 2). */
static const pl__field_t pl__list_fields[] = {
    PL__FIELD (pl_audit_list_t, name, STR),         PL__FIELD (pl_audit_list_t, version, STR),
    PL__FIELD (pl_audit_list_t, loaded_at_ms, I64), PL__FIELD (pl_audit_list_t, age_ms, I64),
    PL__FIELD (pl_audit_list_t, hit, BOOL),         PL__FIELD (pl_audit_list_t, copy_date, STR)};
#define PL__LIST_BODY_FIELDS 4

/* Maps: key, then value. Personal details are attrs too. */
static const pl__field_t pl__count_fields[] = {PL__FIELD (pl_audit_count_t, key, STR),
                                               PL__FIELD (pl_audit_count_t, value, I64)};
static const pl__field_t pl__attr_fields[] = {PL__FIELD (pl_audit_attr_t, key, STR),
                                              PL__FIELD (pl_audit_attr_t, value, STR)};
#endif
