/*  audit.c — AuditEvent envelopes of intake decisions (see audit.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "plateau/envelope.h"

uint8_t *
intake_audit_pack (const intake_audit_t *ev, const pl_clock_t *clock, size_t *len)
{
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, ev->service, clock, ev->trace_id);
    if (ev->event_id)
        env.id = (char *) ev->event_id;
    Plateau__V1__AuditEvent a;
    plateau__v1__audit_event__init (&a);
    a.event_id = env.id;
    a.service = (char *) ev->service;
    a.type = (char *) ev->type;
    a.at_ms = pl_clock_now_ms (clock);
    a.lead_id = (char *) (ev->lead_id ? ev->lead_id : "");
    a.campaign = (char *) (ev->campaign ? ev->campaign : "");
    a.number = (char *) (ev->number ? ev->number : "");
    a.zone = (char *) (ev->zone ? ev->zone : "");
    a.trace_id = env.trace_id;
    a.reason = (char *) (ev->reason ? ev->reason : "");
    a.actor = (char *) (ev->actor ? ev->actor : "");

    /* details: format, dedupe, line, and for rejections the first errors as
     * error.<i>.field / .code / .message (field codes are what auditors filter on). */
    enum { MAXD = 3 + 3 * 8 };
    Plateau__V1__AuditEvent__DetailsEntry d[MAXD], *dp[MAXD];
    char vals[MAXD][200], keys[MAXD][32];
    size_t nd = 0;
#define S_DETAIL(k, fmt, ...)                                                             \
    do {                                                                                  \
        plateau__v1__audit_event__details_entry__init (&d[nd]);                           \
        snprintf (keys[nd], sizeof keys[nd], "%s", k);                                     \
        snprintf (vals[nd], sizeof vals[nd], fmt, __VA_ARGS__);                            \
        d[nd].key = keys[nd];                                                              \
        d[nd].value = vals[nd];                                                            \
        dp[nd] = &d[nd];                                                                   \
        nd++;                                                                              \
    } while (0)
    if (ev->format)
        S_DETAIL ("format", "%s", ev->format);
    if (ev->dedupe)
        S_DETAIL ("dedupe", "%s", ev->dedupe);
    if (ev->line)
        S_DETAIL ("line", "%zu", ev->line);
    for (size_t i = 0; ev->errors && i < ev->errors->count && i < 8; i++) {
        char k[32];
        snprintf (k, sizeof k, "error.%zu.field", i);
        S_DETAIL (k, "%s", ev->errors->items[i].field);
        snprintf (k, sizeof k, "error.%zu.code", i);
        S_DETAIL (k, "%s", ev->errors->items[i].code ? ev->errors->items[i].code : "");
        snprintf (k, sizeof k, "error.%zu.message", i);
        S_DETAIL (k, "%s", ev->errors->items[i].message);
    }
#undef S_DETAIL
    a.n_details = nd;
    a.details = dp;
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT;
    env.audit_event = &a;
    return pl_envelope_pack (&env, len);
}
