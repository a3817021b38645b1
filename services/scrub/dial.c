/*  dial.c — DialCheck and OptOutRequest from the dialer (see dial.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dial.h"
#include "plateau/audit_emit.h"
#include "plateau/error.h"

#define S_DAY_MS 86400000LL

static bool
s_e164 (const char *s)
{
    if (!s || s[0] != '+')
        return false;
    size_t n = 0;
    for (const char *p = s + 1; *p; p++, n++)
        if (*p < '0' || *p > '9')
            return false;
    return n >= 6 && n <= 15;
}

static bool
s_long (const char *s)
{
    return s && strlen (s) > SCRUB_DIAL_NAME_MAX;
}

static int
s_refuse (char *reason, size_t rsize, const char *why)
{
    snprintf (reason, rsize, "%s", why);
    return PL_EINVAL;
}

/* The lead's phone named `number`, or NULL. */
static const Plateau__V1__PhoneNumber *
s_phone_of (const Plateau__V1__Lead *lead, const char *number)
{
    if (lead->phone && lead->phone->e164 && strcmp (lead->phone->e164, number) == 0)
        return lead->phone;
    for (size_t i = 0; i < lead->n_alt_phones; i++)
        if (lead->alt_phones[i] && lead->alt_phones[i]->e164 && strcmp (lead->alt_phones[i]->e164, number) == 0)
            return lead->alt_phones[i];
    return NULL;
}

int
scrub_dial_check_read (const Plateau__V1__DialCheck *q, int64_t now_ms, int speed, scrub_dial_facts_t *out,
                       char *reason, size_t rsize)
{
    memset (out, 0, sizeof *out);
    if (!q || !q->check_id || !*q->check_id || strlen (q->check_id) > SCRUB_DIAL_CHECK_ID_MAX) {
        snprintf (reason, rsize, "a DialCheck needs a check_id of 1 to %d bytes", SCRUB_DIAL_CHECK_ID_MAX);
        return PL_EINVAL;
    }
    const Plateau__V1__Lead *lead = q->lead;
    if (!lead || !lead->id || !*lead->id || !lead->phone || !s_e164 (lead->phone->e164))
        return s_refuse (reason, rsize, "a DialCheck needs the lead, with its id and an E.164 phone");
    if (q->lead_id && *q->lead_id && strcmp (q->lead_id, lead->id) != 0)
        return s_refuse (reason, rsize, "lead_id is not the id of the lead it carries");
    const char *campaign = q->campaign && *q->campaign ? q->campaign : lead->campaign;
    if (!campaign || !*campaign)
        return s_refuse (reason, rsize, "a DialCheck needs a campaign");
    if (s_long (campaign) || s_long (q->tenant) || s_long (lead->id)
        || (lead->debt && s_long (lead->debt->account_ref)))
        return s_refuse (reason, rsize, "a name (campaign, tenant, lead id, debt reference) is over 128 bytes");
    if (!s_e164 (q->number))
        return s_refuse (reason, rsize, "number is not E.164");
    pl_rules_callee_t callee;
    if (pl_rules_callee_parse (lead->callee, &callee) != 0)
        return s_refuse (reason, rsize, "lead.callee is not consumer, business or sole-trader");
    const Plateau__V1__PhoneNumber *phone = s_phone_of (lead, q->number);
    if (!phone)
        return s_refuse (reason, rsize, "number is not one of the lead's numbers");
    int64_t skew = (int64_t) SCRUB_DIAL_MAX_SKEW_MS * (speed > 1 ? speed : 1);
    if (q->at_ms < now_ms - skew || q->at_ms > now_ms + skew) {
        snprintf (reason, rsize, "at_ms is more than %d s from scrub's clock", SCRUB_DIAL_MAX_SKEW_MS / 1000);
        return PL_EINVAL;
    }
    if (q->n_history > SCRUB_DIAL_MAX_HISTORY) {
        snprintf (reason, rsize, "more than %d history entries", SCRUB_DIAL_MAX_HISTORY);
        return PL_EINVAL;
    }
    for (size_t i = 0; i < q->n_history; i++) {
        const Plateau__V1__ContactEntry *e = q->history[i];
        if (!e || s_long (e->tenant) || s_long (e->campaign) || s_long (e->debt)) {
            snprintf (reason, rsize, "history[%zu]: a name over 128 bytes", i);
            return PL_EINVAL;
        }
    }
    out->calls = calloc (q->n_history ? q->n_history : 1, sizeof *out->calls);
    if (!out->calls) {
        snprintf (reason, rsize, "out of memory");
        return PL_ENOMEM;
    }
    /* One to one: the flags of the proto are the engine's bits. */
    const uint32_t known = PL_RULES_CALL_CONVERSATION | PL_RULES_CALL_REFUSAL | PL_RULES_CALL_ABANDONED
                         | PL_RULES_CALL_MACHINE | PL_RULES_CALL_OTHER_NUMBER;
    for (size_t i = 0; i < q->n_history; i++) {
        const Plateau__V1__ContactEntry *e = q->history[i];
        out->calls[i] = (pl_rules_call_t) { .at_ms = e->at_ms, .tenant = scrub_id_of (e->tenant),
                                            .campaign = scrub_id_of (e->campaign), .debt = scrub_id_of (e->debt),
                                            .flags = e->flags & known };
    }
    out->n_calls = q->n_history;
    scrub_number_t *n = &out->number;
    *n = (scrub_number_t) { .e164 = phone->e164, .phone_type = phone->type, .region = phone->region,
                            .zones = phone->zones, .n_zones = phone->n_zones, .zone_source = phone->zone_source };
    const char *debt = lead->debt && lead->debt->account_ref ? lead->debt->account_ref : "";
    out->ctx = (scrub_context_t) { .campaign = campaign, .country = lead->country, .state = lead->state,
                                   .postal_code = lead->postal_code, .debt_ref = debt,
                                   .tenant = q->tenant && *q->tenant ? q->tenant : NULL,
                                   .calls = out->calls, .n_calls = out->n_calls,
                                   .cli = q->caller_id && *q->caller_id ? q->caller_id : NULL,
                                   .callee = callee };
    out->tenant = q->tenant && *q->tenant ? q->tenant : "";
    out->campaign = campaign;
    out->at_ms = q->at_ms;
    out->kind = q->kind ? (int) q->kind
              : *debt ? PLATEAU__V1__CALL_KIND__DEBT_COLLECTION : PLATEAU__V1__CALL_KIND__CANVASSING;
    out->mode = q->manual ? PLATEAU__V1__DIAL_MODE__MANUAL : PLATEAU__V1__DIAL_MODE__AUTODIALED;
    out->ctx.dial = q->manual ? PL_RULES_DIAL_SET : PL_RULES_DIAL_SET | PL_RULES_DIAL_AUTODIALED;
    return 0;
}

int
scrub_dial_check_campaign (const scrub_campaigns_t *campaigns, scrub_dial_facts_t *f, char *reason, size_t rsize)
{
    scrub_campaign_t c;
    bool debt = f->ctx.debt_ref && *f->ctx.debt_ref;
    if (scrub_campaigns_find (campaigns, f->campaign, NULL, scrub_verdict_region (&f->number), debt, &c) != 0)
        return 0;               /* no profile covers it: the verdict denies (scrub.no-profile) */
    if (*c.name && *f->tenant && strcmp (f->tenant, c.tenant) != 0) {
        snprintf (reason, rsize, "tenant is not the tenant of campaign %.128s", c.name);
        return PL_EINVAL;
    }
    if (!*f->tenant)
        f->tenant = c.tenant;
    /* The check's tenant is the judged campaign's (a campaign without a file is judged for the
     * default tenant): its entries count against that campaign's caps. */
    uint64_t mine = scrub_id_of (c.tenant), asked = scrub_id_of (f->tenant);
    for (size_t i = 0; i < f->n_calls; i++)
        if (f->calls[i].tenant == asked)
            f->calls[i].tenant = mine;
    if (f->ctx.dial & PL_RULES_DIAL_AUTODIALED)
        f->ctx.dial |= c.dial;       /* prerecorded, agent-guaranteed: as the campaign says */
    if (f->ctx.dial & PL_RULES_DIAL_PRERECORDED)
        f->mode = PLATEAU__V1__DIAL_MODE__PRERECORDED;
    /* The counts the audit records: this tenant's attempts (and those of no tenant, which the
     * rules count too) before at_ms. */
    for (size_t i = 0; i < f->n_calls; i++) {
        const pl_rules_call_t *e = &f->calls[i];
        if (e->tenant && e->tenant != mine)
            continue;
        int64_t age = f->at_ms - e->at_ms;
        f->attempts_24h += age < S_DAY_MS;
        f->attempts_7d += age < 7 * S_DAY_MS;
        f->attempts_30d += age < 30 * S_DAY_MS;
        f->conversations_7d += age < 7 * S_DAY_MS && (e->flags & PL_RULES_CALL_CONVERSATION);
    }
    return 0;
}

void
scrub_dial_facts_fini (scrub_dial_facts_t *f)
{
    if (!f)
        return;
    free (f->calls);
    f->calls = NULL;
    f->n_calls = 0;
}

static Plateau__V1__Decision
s_decision (const scrub_verdict_t *v)
{
    if (v->rc != 0)
        return PLATEAU__V1__DECISION__DENY;
    return v->d.verdict == PL_RULES_ALLOW ? PLATEAU__V1__DECISION__ALLOW
         : v->d.verdict == PL_RULES_DEFER ? PLATEAU__V1__DECISION__DEFER
                                          : PLATEAU__V1__DECISION__DENY;
}

int
scrub_dial_answer (pl_inbox_tx_t *tx, const pl_outbox_t *dialer, const pl_outbox_t *audit, const char *service,
                   const pl_clock_t *clock, const pl_envelope_t *env, const scrub_dial_facts_t *f,
                   const scrub_verdict_t *v)
{
    const Plateau__V1__DialCheck *q = env->dial_check;
    scrub_verdict_pb_t *pb = scrub_verdict_pb_new (v, f->at_ms);
    if (!pb)
        return PL_ENOMEM;
    Plateau__V1__Decision decision = s_decision (v);
    const char *type = decision == PLATEAU__V1__DECISION__ALLOW ? "dial.allowed"
                     : decision == PLATEAU__V1__DECISION__DEFER ? "dial.deferred" : "dial.denied";
    char id[PL_ENVELOPE_ID_MAX + 16], local[64];
    /* The event, built first: the answer shares its rules and lists. */
    Plateau__V1__AuditEvent ev;
    snprintf (id, sizeof id, "%s.check", q->check_id);
    pl_audit_event_init (&ev, service, type, id, pl_clock_now_ms (clock));
    scrub_verdict_pb_audit (pb, &ev);
    ev.lead_id = q->lead->id;
    ev.campaign = (char *) f->campaign;
    ev.tenant = (char *) f->tenant;
    ev.attempt_id = q->check_id;
    ev.call_kind = f->kind;
    ev.dial_mode = f->mode;
    /* The audit refuses an event whose caller id is not E.164 or is the callee's number. */
    if (q->caller_id && s_e164 (q->caller_id) && strcmp (q->caller_id, v->number) != 0)
        ev.caller_id = q->caller_id;
    scrub_verdict_local_time (v, local, sizeof local);
    ev.local_time = local;
    static const char *const keys[] = { "history", "attempts_24h", "attempts_7d", "attempts_30d",
                                        "conversations_7d" };
    const int64_t vals[] = { (int64_t) f->n_calls, f->attempts_24h, f->attempts_7d, f->attempts_30d,
                             f->conversations_7d };
    Plateau__V1__AuditEvent__CountsEntry ce[5], *cp[5];
    for (size_t i = 0; i < 5; i++) {
        plateau__v1__audit_event__counts_entry__init (&ce[i]);
        ce[i].key = (char *) keys[i];
        ce[i].value = vals[i];
        cp[i] = &ce[i];
    }
    ev.n_counts = 5;
    ev.counts = cp;

    Plateau__V1__DialCheckResult r = PLATEAU__V1__DIAL_CHECK_RESULT__INIT;
    r.check_id = q->check_id;
    r.decision = decision;
    r.defer_until_ms = decision == PLATEAU__V1__DECISION__DEFER ? v->d.defer_until_ms : 0;
    r.n_rules = ev.n_rules;
    r.rules = ev.rules;
    r.n_lists = ev.n_lists;
    r.lists = ev.lists;
    r.binding_zone = (char *) v->zone;
    r.lead_id = q->lead->id;
    r.number = (char *) v->number;
    r.campaign = (char *) f->campaign;
    r.allowed_until_ms = scrub_verdict_allowed_until (v);
    r.evaluated_at_ms = f->at_ms;
    r.profile = (char *) v->profile;
    pl_envelope_t out;
    pl_envelope_ids_t ids;
    pl_envelope_init (&out, &ids, service, clock, env->trace_id);
    char rid[PL_ENVELOPE_ID_MAX + 16];
    snprintf (rid, sizeof rid, "%s.result", q->check_id);
    out.id = rid;
    out.reply_to = env->id;
    out.body_case = PLATEAU__V1__ENVELOPE__BODY_DIAL_CHECK_RESULT;
    out.dial_check_result = &r;
    int rc = pl_inbox_tx_emit (tx, dialer, &out);
    if (rc == 0 && audit)
        rc = pl_audit_emit (tx, audit, service, clock, env->trace_id, &ev);
    scrub_verdict_pb_free (&pb);
    return rc;
}

int
scrub_dial_optout_read (const Plateau__V1__OptOutRequest *q, const char *message_id, int64_t now_ms,
                        scrub_optout_t *out, char *reason, size_t rsize)
{
    memset (out, 0, sizeof *out);
    if (!q || !s_e164 (q->number))
        return s_refuse (reason, rsize, "number is not E.164");
    if (!q->tenant || !*q->tenant || strcmp (q->tenant, "*") == 0)
        return s_refuse (reason, rsize, "an OptOutRequest needs the tenant it is for");
    if (s_long (q->tenant) || s_long (q->debt_ref) || s_long (q->channel) || s_long (q->agent_id))
        return s_refuse (reason, rsize, "a name (tenant, debt_ref, channel, agent_id) is over 128 bytes");
    if (q->requested_at_ms > now_ms + 5 * 60000)
        return s_refuse (reason, rsize, "requested_at_ms is in the future");
    *out = (scrub_optout_t) {
        .number = q->number, .tenant = q->tenant, .debt_ref = q->debt_ref ? q->debt_ref : "",
        .channel = q->channel && *q->channel ? q->channel : "phone",
        .actor = q->agent_id && *q->agent_id ? q->agent_id : "dialer",
        .requested_at_ms = q->requested_at_ms > 0 ? q->requested_at_ms : 0, .message_id = message_id,
    };
    return 0;
}
