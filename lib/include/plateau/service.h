/*  service.h — what every plateau service has, built from PLATEAU_* variables in one call.
 *
 *  pl_service_new() reads the common configuration, and exits with status 2 and a message naming
 *  the variable when something is wrong. It builds the logger, the metrics registry, the ops port
 *  (/healthz, /readyz, /metrics), the main thread's Redis connection, the clock and the loop, and
 *  handles SIGTERM: /readyz turns 503 at once, the bus server stops reading (senders keep their
 *  messages in their outboxes for another replica), and the service exits once its clients have
 *  no message in flight, or when the grace period ends, whichever is first.
 *
 *  Common variables:
 *    PLATEAU_REDIS_URL       redis://[:password@]host:port/db or unix:///path   (required)
 *    PLATEAU_REPLICA_ID      stable identity of this replica, owner of its outboxes: unique among
 *                            every service sharing the Redis (default: <service>-<hostname>)
 *    PLATEAU_OPS_ADDR        ops port address (default 0.0.0.0)
 *    PLATEAU_OPS_PORT        ops port (default 9100; 0 picks a free one)
 *    PLATEAU_BUS_BIND        where this service receives work (e.g. tcp://0.0.0.0:5560), if it does
 *    PLATEAU_<PEER>_BUS      where to send to service <peer> (e.g. PLATEAU_AUDIT_BUS): one
 *                            endpoint, or a comma-separated list of the peer's replicas
 *                            (tcp://127.0.0.1:5562,tcp://127.0.0.1:5570), balanced as one
 *                            (bus.h, Addresses)
 *    PLATEAU_<PEER>_IDENTITY the peer's identity in the key list when another service plays
 *                            its part (PLATEAU_TELEPHONY_IDENTITY=telsim); default: <peer>
 *    PLATEAU_CLOCK           "real" (default) or "virtual[:<start UTC ms>]"
 *    PLATEAU_GRACE_PERIOD    drain limit after SIGTERM (default 25s; Kubernetes gives 30s)
 *    PLATEAU_LOG_LEVEL       debug | info | warn | error (default info)
 *
 *  The bus (see bus.h for identities, the key list and refusals):
 *    PLATEAU_BUS_SECURITY    "curve" (default) or "plaintext" (a warning at start, and
 *                            plateau_bus_plaintext 1 in /metrics; never in production)
 *    PLATEAU_CURVE_SECRET_KEY_FILE   this service's secret key (required with curve)
 *    PLATEAU_BUS_KEYS_FILE   the key list, '<identity> <public key>' per line (required with
 *                            curve); every peer this service sends to must be in it
 *    PLATEAU_BUS_IDENTITY    this service's name in the key list (default: the service's name)
 *    PLATEAU_BUS_ALLOW       who may send what, over the service's defaults:
 *                            "Lead=crm-bridge,erp;AuditEvent=*" (see pl_service_serve)
 *    PLATEAU_BUS_MAX_FUTURE  envelopes sent further ahead of this clock are refused (5m)
 *    PLATEAU_BUS_MAX_AGE     envelopes sent longer ago are refused (7d: an outbox backlog older
 *                            than that is an incident to replay by hand, not traffic)
 *    PLATEAU_DEAD_LETTER_TTL how long refused messages are kept for operators (7d; they hold
 *                            numbers, and a person's erasure deletes theirs sooner)
 *  Metrics: plateau_bus_refused_total{reason}, plateau_bus_handshake_failures_total{peer},
 *  plateau_bus_plaintext. Refusals are logged at most once every 10 s, with totals.
 */
#ifndef PL_SERVICE_H
#define PL_SERVICE_H
#include <stdbool.h>
#include "plateau/bus.h"
#include "plateau/clock.h"
#include "plateau/config.h"
#include "plateau/log.h"
#include "plateau/loop.h"
#include "plateau/metrics.h"
#include "plateau/ops.h"
#include "plateau/redis.h"

typedef struct pl_service pl_service_t;

/* Builds the service named `name` from the environment; exits 2 on bad configuration. */
pl_service_t *pl_service_new (const char *name);
void pl_service_destroy (pl_service_t **self_p);

const char *pl_service_name (const pl_service_t *self);
const char *pl_service_replica (const pl_service_t *self);
pl_config_t *pl_service_config (pl_service_t *self);
pl_log_t *pl_service_log (pl_service_t *self);
pl_metrics_t *pl_service_metrics (pl_service_t *self);
pl_ops_t *pl_service_ops (pl_service_t *self);
pl_redis_t *pl_service_redis (pl_service_t *self);
pl_clock_t *pl_service_clock (pl_service_t *self);
pl_loop_t *pl_service_loop (pl_service_t *self);

/* Binds PLATEAU_BUS_BIND and dispatches messages of `types` (NULL-terminated) to fn in
 * batches. Each entry is "Type=identities": the type, and the identities allowed to send it by
 * default (comma-separated names of the key list, "*" for all of them, nothing for no one until
 * PLATEAU_BUS_ALLOW names someone). With a virtual clock, ClockControl messages (from the
 * identity "plateauctl") are also accepted and move the clock. */
pl_bus_server_t *pl_service_serve (pl_service_t *self, const char *const *types,
                                   pl_bus_batch_fn *fn, void *arg);
/* A client to peer at PLATEAU_<PEER>_BUS (required when `required`; NULL when absent and not
 * required). Polled, ticked and drained by the service. */
pl_bus_client_t *pl_service_connect (pl_service_t *self, const char *peer, bool required);

/* Call after all configuration is read: exits 2 if any value was bad. */
void pl_service_config_done (pl_service_t *self);
bool pl_service_draining (const pl_service_t *self);
/* Runs until SIGTERM has drained (or the grace period ended). Returns the exit status. */
int pl_service_run (pl_service_t *self);

#endif
