/*  door.h — telsim's bus door: CallRequest from the dialer, each applied exactly once.
 *
 *  A CallRequest is one step of the kit under the campaign's hash tag, with the envelope id as
 *  its seen marker: its effect claims the dial id (pl:{camp:<c>}:telsim:dial:<dial id>, SET NX,
 *  kept 7 days), and it emits the first answer to the dialer through this replica's outbox —
 *  CallProgress PLACED (id "<dial id>.placed"), or CallOutcome FAILED (id "<dial id>.outcome",
 *  started_at 0) when the request arrived at or after its place_before_ms. A resent envelope
 *  finds its marker, and a new envelope for a dial id already claimed finds the claim: neither
 *  places a second call nor emits anything. Only a step that claimed the dial id now hands the
 *  call to the floor (floor.h).
 */
#ifndef TELSIM_DOOR_H
#define TELSIM_DOOR_H
#include "floor.h"
#include "plateau/bus.h"
#include "plateau/log.h"
#include "plateau/metrics.h"
#include "plateau/redis.h"

typedef struct telsim_door telsim_door_t;

/* Borrows everything. replica: this replica's id (the outbox owner). */
telsim_door_t *telsim_door_new (pl_redis_t *redis, const pl_clock_t *clock, const char *service,
                                const char *replica, telsim_floor_t *floor, pl_metrics_t *metrics, pl_log_t *log);
void telsim_door_destroy (telsim_door_t **self_p);

/* The bus batch handler (pl_bus_batch_fn). */
void telsim_door_handle (void *arg, pl_bus_msg_t **msgs, size_t n);

/* Checks what a request must carry: 0, or PL_EINVAL with the nack's reason. */
int telsim_door_check (const Plateau__V1__CallRequest *q, char *reason, size_t rsize);

/* Key claiming a dial id: pl:{camp:<campaign>}:telsim:dial:<dial id> */
#define TELSIM_DIAL_KEY_FMT "pl:{camp:%s}:telsim:dial:%s"

#endif
