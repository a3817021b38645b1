/*  audit_emit.c — building and sending AuditEvents (see audit_emit.h). */
#include <string.h>
#include "plateau/audit_emit.h"
#include "plateau/envelope.h"
#include "plateau/error.h"

void
pl_audit_event_init (Plateau__V1__AuditEvent *ev, const char *service, const char *type,
                     const char *event_id, int64_t at_ms)
{
    /* The generated initialiser sets every string to the shared empty string, sub-messages to
     * NULL and repeated fields to none: callers fill only what they know. */
    plateau__v1__audit_event__init (ev);
    ev->service = (char *) (service ? service : "");
    ev->type = (char *) (type ? type : "");
    ev->event_id = (char *) (event_id ? event_id : "");
    ev->at_ms = at_ms;
}

/* Wraps ev in env: the envelope id is the event id, so that a retried step sends the same
 * message id and every receiver stores it once. */
static void
s_wrap (pl_envelope_t *env, pl_envelope_ids_t *ids, const char *service, const pl_clock_t *clock,
        const char *trace_id, Plateau__V1__AuditEvent *ev)
{
    pl_envelope_init (env, ids, service, clock, trace_id);
    if (ev->event_id && *ev->event_id)
        env->id = ev->event_id;
    else
        ev->event_id = env->id;
    if (!ev->trace_id || !*ev->trace_id)
        ev->trace_id = env->trace_id;
    env->body_case = PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT;
    env->audit_event = ev;
}

int
pl_audit_emit (pl_inbox_tx_t *tx, const pl_outbox_t *audit, const char *service, const pl_clock_t *clock,
               const char *trace_id, Plateau__V1__AuditEvent *ev)
{
    if (!tx || !audit || !ev)
        return PL_EINVAL;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    s_wrap (&env, &ids, service, clock, trace_id, ev);
    int rc = pl_inbox_tx_emit (tx, audit, &env);
    if (ev->event_id == ids.id)
        ev->event_id = (char *) "";          /* do not leave a pointer into our stack */
    if (ev->trace_id == ids.trace_id)
        ev->trace_id = (char *) "";
    return rc;
}

int
pl_audit_send (pl_bus_client_t *audit, const char *service, const pl_clock_t *clock, const char *trace_id,
               Plateau__V1__AuditEvent *ev)
{
    if (!audit || !ev)
        return PL_EINVAL;
    pl_envelope_t env, *envs[1] = { &env };
    pl_envelope_ids_t ids;
    s_wrap (&env, &ids, service, clock, trace_id, ev);
    int rc = pl_bus_client_send (audit, envs, 1);
    if (ev->event_id == ids.id)
        ev->event_id = (char *) "";
    if (ev->trace_id == ids.trace_id)
        ev->trace_id = (char *) "";
    return rc;
}
