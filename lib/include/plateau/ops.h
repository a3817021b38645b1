/*  ops.h — the operations HTTP port every service has: /healthz, /readyz, /metrics.
 *
 *  /healthz answers 200 while the process is alive. /readyz answers 200 only when every
 *  readiness check passes (Redis reachable, sockets bound, not draining) and 503 with a JSON
 *  body naming the failing check otherwise; it recovers by itself when the check passes again.
 *  /metrics renders the pl_metrics_t registry. Services may add their own routes (the intake
 *  API and the audit query are served on their own ports with pl_http; see http.h).
 *
 *  The port runs in libmicrohttpd's own thread: a service's loop that is busy with a long Redis
 *  call must still answer probes, or Kubernetes restarts a healthy pod.
 */
#ifndef PL_OPS_H
#define PL_OPS_H
#include <stdint.h>
#include <stdbool.h>
#include "metrics.h"

typedef struct pl_ops pl_ops_t;

/* Readiness check: returns true when ready; on false writes a short reason into why. Called
 * from the HTTP thread: it must be thread-safe (read an atomic flag, not a socket). */
typedef bool (pl_ops_check_fn) (void *arg, char *why, size_t why_size);

/* Starts listening on addr:port (port 0 picks a free one, see pl_ops_port). Borrows metrics. */
pl_ops_t *pl_ops_new (const char *addr, int port, pl_metrics_t *metrics);
void pl_ops_destroy (pl_ops_t **self_p);
int pl_ops_port (const pl_ops_t *self);
/* Adds a named readiness check ("redis", "bus"). */
int pl_ops_add_check (pl_ops_t *self, const char *name, pl_ops_check_fn *fn, void *arg);
/* Draining makes /readyz answer 503 {"draining":true}. */
void pl_ops_set_draining (pl_ops_t *self, bool draining);
const char *pl_ops_errstr (const pl_ops_t *self);

#endif
