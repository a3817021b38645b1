/*  worker.h — the notify service's main-thread work on the service loop: follow the audit
 *  (follower.h) every poll interval, drive deliveries (deliver.h) every few milliseconds,
 *  refresh the gauges every second, and report both in /readyz as warnings (an unreachable
 *  audit or a paused subscription is for people to see; the API keeps answering).
 */
#ifndef NOTIFY_WORKER_H
#define NOTIFY_WORKER_H
#include "deliver.h"
#include "follower.h"
#include "plateau/service.h"

typedef struct notify_worker notify_worker_t;

/* Borrows svc, follower and deliver; registers the timers and warnings. NULL on no memory. */
notify_worker_t *notify_worker_new (pl_service_t *svc, notify_follower_t *follower,
                                    notify_deliver_t *deliver, int poll_ms);
void notify_worker_destroy (notify_worker_t **self_p);

#endif
