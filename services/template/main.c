/*  main.c — plateau-template: the smallest complete plateau service. Copy it to start one.
 *
 *  Consumes LeadSubmitted on its bus door, counts leads per campaign in Redis exactly once per
 *  message, and records an AuditEvent in the same atomic step; the kit's bus client delivers it to
 *  the audit service. Everything else — configuration, logs, /healthz /readyz /metrics, SIGTERM
 *  draining, outbox and resends — comes from the kit.
 *  See docs/new-service.md.
 */
#include <stdlib.h>
#include "counter.h"
#include "plateau/service.h"

int
main (void)
{
    pl_service_t *svc = pl_service_new ("template");
    /* Where audit events go (PLATEAU_AUDIT_BUS); optional so the template runs alone. */
    pl_bus_client_t *audit = pl_service_connect (svc, "audit", false);
    tpl_counter_t *counter = tpl_counter_new (pl_service_redis (svc), pl_service_clock (svc),
                                              pl_service_name (svc), pl_service_replica (svc), audit != NULL);
    const char *types[] = { "LeadSubmitted=intake", NULL };
    if (!pl_service_serve (svc, types, tpl_counter_handle, counter))
        return 2;
    int rc = pl_service_run (svc);
    tpl_counter_destroy (&counter);
    pl_service_destroy (&svc);
    return rc;
}
