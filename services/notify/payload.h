/*  payload.h — what a webhook says: audit records read as webhook events, and the signed body.
 *
 *  The audit's export gives records (docs/audit-events.md); notify_event_from_record() keeps
 *  those a CRM is told about, under the webhook type names of the API (scrub.verdict becomes
 *  lead.verdict, payment.applied payment.received) with their typed facts only: never a
 *  number, a pseudonym, a reason or details (the audit's personal part). lead.accepted records
 *  are kept as the lead's identity (source, CRM id, campaign) that later events are routed by.
 *
 *  The body is built when it is sent, from the stored facts and the lead's identity, and is
 *  the same on every attempt: its id is derived from the audit event id, its time is the
 *  decision's.
 */
#ifndef NOTIFY_PAYLOAD_H
#define NOTIFY_PAYLOAD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;

/* The webhook event types, "*" excluded. */
extern const char *const notify_event_types[];

/* True for a webhook event type name (or "*" when star is true). */
bool notify_event_type_known (const char *type, bool star);

typedef enum {
    NOTIFY_RECORD_SKIP = 0,       /* nothing a webhook carries */
    NOTIFY_RECORD_LEAD,           /* lead.accepted: the lead's identity */
    NOTIFY_RECORD_EVENT           /* an event to deliver */
} notify_record_kind_t;

/* One record as notify uses it. Strings are malloc'd; free with notify_event_clear. */
typedef struct {
    notify_record_kind_t kind;
    char *audit_id;             /* the audit event id */
    char *type;                 /* the webhook type ("lead.verdict"); "lead.accepted" for a lead */
    char *lead_id;              /* "" when the record names none (some payments) */
    char *account;              /* "<tenant>|<account_ref>" for promise and payment records, else "" */
    int64_t at_ms;              /* the decision's time */
    char *data;                 /* the typed facts, compact JSON object */
    char *source, *external_id, *campaign;      /* lead.accepted (campaign: every record) */
} notify_event_t;

/* Reads one item of GET /v1/audit/export into *ev (cleared first). 0 (kind SKIP for records
 * notify does not deliver), or PL_EINVAL for an item without event_id or type, PL_ENOMEM. */
int notify_event_from_record (const struct json_t *item, notify_event_t *ev);
void notify_event_clear (notify_event_t *ev);

/* The webhook's stable event id: "evt_" and the first 32 hex digits of SHA-256(audit id), so
 * that every copy of one event, on any attempt and any replica, carries the same id. out must
 * hold NOTIFY_EVENT_ID_SIZE bytes. */
#define NOTIFY_EVENT_ID_SIZE 37
void notify_event_id (const char *audit_id, char out[NOTIFY_EVENT_ID_SIZE]);

/* The JSON body of a delivery (malloc'd, compact; NULL on no memory or when data is not a JSON
 * object): {"id","type","time","source","lead_id","external_id","campaign","data"}. */
char *notify_payload_body (const char *event_id, const char *type, int64_t at_ms,
                           const char *source, const char *lead_id, const char *external_id,
                           const char *campaign, const char *data);

/* The path and query of url as it will be sent ("/hooks?x=1"; "/" when it has none), the part
 * the signature covers, into out[size]. 0, or PL_EINVAL. */
int notify_payload_target (const char *url, char *out, size_t size);

#endif
