/*  bus_helpers.h — small helpers shared by the bus integration tests. */
#ifndef PL_TEST_BUS_HELPERS_H
#define PL_TEST_BUS_HELPERS_H
#include <zmq.h>
#include "plateau/audit_emit.h"
#include "plateau/bus.h"
#include "plateau/clock.h"

/* Builds an AuditEvent envelope whose lead_id is `tag`. Storage in *ids and *ev. */
static inline pl_envelope_t *
s_event (pl_envelope_t *env, pl_envelope_ids_t *ids, Plateau__V1__AuditEvent *ev, const char *tag)
{
    pl_envelope_init (env, ids, "test", NULL, NULL);
    pl_audit_event_init (ev, "test", "test.event", env->id, 0);
    ev->lead_id = (char *) tag;
    env->body_case = PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT;
    env->audit_event = ev;
    return env;
}

/* Polls server and client for up to ms, until the client has nothing in flight. */
static inline bool
s_pump (pl_bus_server_t *server, pl_bus_client_t *client, int ms)
{
    int64_t end = pl_clock_mono_ms () + ms;
    while (pl_clock_mono_ms () < end) {
        zmq_pollitem_t items[2] = { { server ? pl_bus_server_socket (server) : NULL, 0, ZMQ_POLLIN, 0 },
                                    { pl_bus_client_socket (client), 0, ZMQ_POLLIN, 0 } };
        zmq_poll (server ? items : items + 1, server ? 2 : 1, 10);
        if (server)
            pl_bus_server_process (server, 256);
        pl_bus_client_process (client);
        pl_bus_client_tick (client);
        if (pl_bus_client_inflight (client) == 0)
            return true;
    }
    return false;
}
#endif
