/*  door.h — the audit service's bus door: AuditEvents in, acks once durable.
 *
 *  Every AuditEvent received is appended to the store and its message held; the store's commit
 *  callback (audit_door_on_commit, run by pl_audit_store_dispatch in the loop's thread) answers
 *  the held messages once their batch is written and fdatasync'd. Duplicates of durable events
 *  are acked at once; malformed or oversized events are nacked for good (INVALID, TOO_LARGE);
 *  while the disk is full (or the size cap is reached) events are nacked UNAVAILABLE with a
 *  retry delay and the server stops reading, so the senders keep them in their outboxes, and
 *  reading resumes once the store writes again (audit_door_tick). With claims (claim.h), an
 *  event id is claimed across replicas before it is stored, and marked stored once durable, so
 *  that a retry reaching another replica is acked as a duplicate instead of stored twice.
 */
#ifndef AUDIT_DOOR_H
#define AUDIT_DOOR_H
#include <stdbool.h>
#include <stddef.h>
#include "plateau/bus.h"
#include "plateau/log.h"
#include "plateau/metrics.h"
#include "plateau/audit_store.h"
#include "claim.h"

typedef struct audit_door audit_door_t;

/* A door for store (borrowed). retry_after_ms is what UNAVAILABLE nacks ask senders to wait. */
audit_door_t *audit_door_new (pl_audit_store_t *store, const pl_clock_t *clock,
                              pl_metrics_t *metrics, pl_log_t *log, int retry_after_ms);
void audit_door_destroy (audit_door_t **self_p);

/* The store, when it was made after the door (its callbacks name the door). */
void audit_door_set_store (audit_door_t *self, pl_audit_store_t *store);
/* Claims across replicas (borrowed; NULL: this replica dedupes alone). */
void audit_door_set_claims (audit_door_t *self, audit_claims_t *claims);
/* The server whose messages the door answers (from pl_service_serve); set before any message. */
void audit_door_set_server (audit_door_t *self, pl_bus_server_t *server);

/* pl_bus_batch_fn: appends and holds, or answers at once. */
void audit_door_handle (void *arg, pl_bus_msg_t **msgs, size_t n);
/* pl_audit_commit_fn: acks the held messages of one durable batch. */
void audit_door_on_commit (void *arg, const pl_audit_committed_t *items, size_t n);
/* pl_audit_fsync_fn: plateau_audit_fsync_seconds. */
void audit_door_on_fsync (void *arg, double seconds);

/* Periodic: resumes reading once the store writes again (not while draining), and refreshes
 * the gauges from the store's statistics. */
void audit_door_tick (audit_door_t *self, int64_t now_ms, bool draining);

#endif
