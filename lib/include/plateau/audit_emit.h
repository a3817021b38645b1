/*  audit_emit.h — the one way a service builds and sends an AuditEvent.
 *
 *  A service fills the typed fields of an event that pl_audit_event_init() prepared (every fact a
 *  compliance check needs has one; docs/audit-events.md lists them per event type) and hands it
 *  to pl_audit_emit(), which wraps it in an envelope whose id is the event id and stores it in the
 *  audit outbox inside the caller's atomic step (plateau/inbox.h): the audit event is durable
 *  exactly when the decision it records is. The main thread, which owns the bus client, may also
 *  send one directly with pl_audit_send().
 *
 *  Event ids must be derived from what the event is about ("<lead id>.accepted", "<dial id>.outcome")
 *  so that a step retried after a crash sends the same id again and the audit stores it once.
 */
#ifndef PL_AUDIT_EMIT_H
#define PL_AUDIT_EMIT_H
#include <stdint.h>
#include "plateau/bus.h"
#include "plateau/clock.h"
#include "plateau/inbox.h"
#include "plateau/outbox.h"
#include "plateau/v1/audit.pb-c.h"

/* Zeroes *ev and sets its header. Every string field becomes "" (never NULL), so that callers set
 * only what they know. Strings are borrowed: they must live until the event is emitted. */
void pl_audit_event_init (Plateau__V1__AuditEvent *ev, const char *service, const char *type,
                          const char *event_id, int64_t at_ms);

/* Adds ev, in an envelope from `service` with trace_id (NULL: a new one), to the step tx, for the
 * audit outbox `audit`. 0, or a negative PL_E* code (nothing added). */
int pl_audit_emit (pl_inbox_tx_t *tx, const pl_outbox_t *audit, const char *service,
                   const pl_clock_t *clock, const char *trace_id, Plateau__V1__AuditEvent *ev);

/* Sends ev through a bus client to the audit service (main thread only). 0 once durable in the
 * client's outbox, or a negative PL_E* code. */
int pl_audit_send (pl_bus_client_t *audit, const char *service, const pl_clock_t *clock,
                   const char *trace_id, Plateau__V1__AuditEvent *ev);

#endif
