/*  ops.h — the operations HTTP port every service has: /healthz, /readyz, /metrics.
 *
 *  /healthz answers 200 while the process is alive. /readyz answers 200 only when every
 *  readiness check passes (Redis reachable, sockets bound, not draining) and 503 with a JSON
 *  body naming the failing check otherwise; it recovers by itself when the check passes again.
 *  /metrics renders the pl_metrics_t registry. Services may add their own routes (the intake
 *  API and the audit query are served on their own ports with pl_http; see http.h).
 *
 *  The port runs in libmicrohttpd's own thread: a service's loop that is busy with a long Redis
 *  call must still answer probes, or Kubernetes restarts a healthy pod. It is a server of its
 *  own (its own daemon, threads and limit of 16 connections), so a saturated API never takes
 *  its threads; a connection that has not sent its request's headers within 5 s is closed, so
 *  slow clients on this port hold it for seconds, not for as long as they like.
 *
 *  Answers (all JSON but /metrics, all with Cache-Control: no-store):
 *    GET /healthz  200 {"status":"ok"}
 *    GET /readyz   200 {"status":"ready","checks":["redis","bus"]}
 *                  503 {"status":"not_ready","draining":false,
 *                       "failing":[{"check":"redis","reason":"connection refused"}],
 *                       "error":{"code":"not_ready",
 *                                "message":"not ready: redis: connection refused"}}
 *                  503 {"status":"draining","draining":true,"failing":[…],
 *                       "error":{"code":"draining","message":"the service is draining"}}
 *    GET /metrics  200 text/plain; version=0.0.4 — the Prometheus text format
 *  Other paths 404 and other methods 405, with {"error":{…}} bodies. No authentication: the
 *  port is for the cluster's probes and scrapers and must not be exposed outside it.
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

/* Starts listening on addr:port (port 0 picks a free one, see pl_ops_port). Borrows metrics
 * (may be NULL: /metrics is then empty). NULL when the port cannot be bound (errno tells). */
pl_ops_t *pl_ops_new (const char *addr, int port, pl_metrics_t *metrics);
void pl_ops_destroy (pl_ops_t **self_p);
int pl_ops_port (const pl_ops_t *self);
/* Adds a named readiness check ("redis", "bus"); may be called while serving. Every check
 * runs at every /readyz, so it must be quick. PL_EEXIST for a name used already. */
int pl_ops_add_check (pl_ops_t *self, const char *name, pl_ops_check_fn *fn, void *arg);
/* Adds a named warning: checked like a readiness check at every /readyz, but a failing one
 * never makes the service unready; it is listed under "warnings" (check, reason) of the answer
 * instead. For conditions people must see that pulling the pod from service would make worse
 * (a stale registry copy: its numbers are denied, every other answer is still right). */
int pl_ops_add_warning (pl_ops_t *self, const char *name, pl_ops_check_fn *fn, void *arg);
/* Adds a gate: a readiness check that fails with "<what> not started" until pl_ops_open_gate
 * opens it, for the parts a service starts after its ops port (its HTTP API: "http", "HTTP
 * API"). PL_EEXIST for a name used already. */
int pl_ops_add_gate (pl_ops_t *self, const char *name, const char *what);
/* Opens the gate `name` for good; thread-safe. PL_ENOTFOUND when there is no such gate. */
int pl_ops_open_gate (pl_ops_t *self, const char *name);
/* Draining makes /readyz answer 503 {"draining":true}; thread-safe. */
void pl_ops_set_draining (pl_ops_t *self, bool draining);
bool pl_ops_draining (const pl_ops_t *self);
const char *pl_ops_errstr (const pl_ops_t *self);

#endif
