/*  audit.c — AuditEvents of intake decisions (see audit.h). */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "plateau/audit_emit.h"

static void
s_detail (intake_audit_event_t *o, const char *key, const char *value)
{
    size_t i = o->ev.n_details;
    if (i >= INTAKE_AUDIT_DETAILS_MAX)
        return;
    plateau__v1__audit_event__details_entry__init (&o->d[i]);
    snprintf (o->keys[i], sizeof o->keys[i], "%s", key);
    snprintf (o->vals[i], sizeof o->vals[i], "%s", value ? value : "");
    o->d[i].key = o->keys[i];
    o->d[i].value = o->vals[i];
    o->dp[i] = &o->d[i];
    o->ev.n_details = i + 1;
}

static void
s_count (intake_audit_event_t *o, const char *key, size_t value)
{
    size_t i = o->ev.n_counts;
    plateau__v1__audit_event__counts_entry__init (&o->c[i]);
    o->c[i].key = (char *) key;
    o->c[i].value = (int64_t) value;
    o->cp[i] = &o->c[i];
    o->ev.n_counts = i + 1;
}

/* The message without the input it quotes: a quoted span ('…' after a blank or at the start, up
 * to a quote before a blank, punctuation or the end) may hold an e-mail address or a fragment of
 * the line, which must not reach the public part of the record. An apostrophe inside a word
 * ("request's") is no quote. */
static void
s_public_text (const char *msg, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; msg[i] && o + 1 < size; i++) {
        if (msg[i] == '\'' && (i == 0 || msg[i - 1] == ' ' || msg[i - 1] == '(')) {
            const char *end = NULL;
            for (const char *q = msg + i + 1; *q && !end; q++)
                if (*q == '\'' && (!q[1] || strchr (" ,.;:)", q[1])))
                    end = q;
            if (end) {
                static const char hidden[] = "'\xe2\x80\xa6'";      /* '…' */
                if (o + sizeof hidden - 1 >= size)
                    break;
                memcpy (out + o, hidden, sizeof hidden - 1);
                o += sizeof hidden - 1;
                i = (size_t) (end - msg);
                continue;
            }
        }
        out[o++] = msg[i];
    }
    out[o] = '\0';
}

/* One RuleHit per error of a rejected item. */
static void
s_rules (intake_audit_event_t *o, const intake_errors_t *errors)
{
    size_t n = errors ? errors->count : 0;
    if (n > INTAKE_AUDIT_RULES_MAX)
        n = INTAKE_AUDIT_RULES_MAX;
    for (size_t i = 0; i < n; i++) {
        const intake_error_t *e = &errors->items[i];
        Plateau__V1__RuleHit *r = &o->rules[i];
        plateau__v1__rule_hit__init (r);
        snprintf (o->rule_ids[i], sizeof o->rule_ids[i], "intake.%s", e->code ? e->code : "invalid");
        s_public_text (e->message, o->rule_reasons[i], sizeof o->rule_reasons[i]);
        int k = snprintf (o->rule_facts[i], sizeof o->rule_facts[i], "%s%s", e->field[0] ? "field " : "the whole item",
                          e->field);
        if (e->line && k >= 0 && (size_t) k < sizeof o->rule_facts[i])
            k += snprintf (o->rule_facts[i] + k, sizeof o->rule_facts[i] - (size_t) k, ", line %zu", e->line);
        if (e->column && k >= 0 && (size_t) k < sizeof o->rule_facts[i])
            k += snprintf (o->rule_facts[i] + k, sizeof o->rule_facts[i] - (size_t) k, ", column %zu", e->column);
        if (e->header[0] && k >= 0 && (size_t) k < sizeof o->rule_facts[i])
            snprintf (o->rule_facts[i] + k, sizeof o->rule_facts[i] - (size_t) k, " (%s)", e->header);
        r->rule_id = o->rule_ids[i];
        r->value = (char *) e->field;
        r->reason = o->rule_reasons[i];
        r->facts = o->rule_facts[i];
        o->rulep[i] = r;
    }
    o->ev.rules = o->rulep;
    o->ev.n_rules = n;
}

void
intake_audit_build (intake_audit_event_t *o, const char *service, const char *type, const intake_audit_t *ctx,
                    const Plateau__V1__Lead *lead, const char *lead_id, const char *dedupe,
                    const char *event_key, int64_t at_ms)
{
    const char *suffix = strchr (type, '.') ? strchr (type, '.') + 1 : type;
    snprintf (o->event_id, sizeof o->event_id, "%s.%s", event_key, suffix);
    pl_audit_event_init (&o->ev, service, type, o->event_id, at_ms);
    Plateau__V1__AuditEvent *ev = &o->ev;
    ev->details = o->dp;
    ev->actor = (char *) (ctx->actor ? ctx->actor : "");
    ev->source = ev->actor;
    ev->lead_id = (char *) (lead_id ? lead_id : "");
    ev->campaign = (char *) (lead ? lead->campaign : ctx->campaign ? ctx->campaign : "");
    if (ctx->trace_id)
        ev->trace_id = (char *) ctx->trace_id;

    if (lead) {
        const Plateau__V1__PhoneNumber *p = lead->phone;
        ev->external_id = lead->external_id ? lead->external_id : (char *) "";
        ev->number = p && p->e164 ? p->e164 : (char *) "";
        /* A typed fact, never left to a default: a lead that says nothing is a consumer's. */
        ev->callee = lead->callee && *lead->callee ? lead->callee : (char *) "consumer";
        /* Every candidate zone, with how it was found: the rules bind to the strictest, and an
         * auditor must see all of them to check that. The first is the event's zone for stories. */
        size_t nz = p ? p->n_zones : 0;
        if (nz > INTAKE_AUDIT_ZONES_MAX)
            nz = INTAKE_AUDIT_ZONES_MAX;
        for (size_t i = 0; i < nz; i++) {
            plateau__v1__zone_candidate__init (&o->zones[i]);
            o->zones[i].zone = p->zones[i];
            o->zones[i].source = p->zone_source ? p->zone_source : (char *) "";
            o->zonep[i] = &o->zones[i];
        }
        ev->n_zones = nz;
        ev->zones = o->zonep;
        ev->zone = nz ? p->zones[0] : (char *) "";
        /* Every region with its source (number, address): a state's rules apply by either. */
        size_t nr = p ? p->n_regions : 0;
        if (nr > INTAKE_AUDIT_REGIONS_MAX)
            nr = INTAKE_AUDIT_REGIONS_MAX;
        for (size_t i = 0; i < nr; i++) {
            o->rsrc[i] = *p->regions[i];
            o->rsrcp[i] = &o->rsrc[i];
            o->regions[i] = p->regions[i]->region;
        }
        ev->n_regions = nr;
        ev->n_region_sources = nr;
        ev->region_sources = o->rsrcp;
        ev->regions = o->regions;
    } else {
        ev->number = (char *) (ctx->number ? ctx->number : "");
        if (ctx->errors)
            ev->external_id = (char *) ctx->errors->known.external_id;
    }

    /* On whose behalf, and which kind of calls the lead is for: from its campaign's file, else
     * the default tenant and the lead's own debt. A request's summary is about the campaign the
     * request named, and has a kind only when that campaign has a file. */
    const intake_campaigns_t *cs = ctx->campaigns;
    ev->tenant = (char *) intake_campaigns_tenant (cs, ev->campaign);
    if (strcmp (type, INTAKE_AUDIT_REJECTED_SUMMARY) != 0)
        ev->call_kind = intake_campaigns_kind (cs, ev->campaign,
                                               lead ? lead->debt != NULL : ctx->errors && ctx->errors->known.debt);
    else if (intake_campaigns_has (cs, ev->campaign))
        ev->call_kind = intake_campaigns_kind (cs, ev->campaign, false);

    if (strcmp (type, INTAKE_AUDIT_ACCEPTED) == 0) {
        ev->decision = PLATEAU__V1__DECISION__ALLOW;
        ev->reason = (char *) "lead validated, stored and queued for scrub";
    } else if (strcmp (type, INTAKE_AUDIT_DUPLICATE) == 0) {
        ev->decision = PLATEAU__V1__DECISION__DENY;
        snprintf (o->reason, sizeof o->reason, "duplicate of lead %s (%s)", lead_id ? lead_id : "",
                  dedupe && strcmp (dedupe, "external_id") == 0 ? "same CRM id from the same source in this campaign"
                  : dedupe && strcmp (dedupe, "message") == 0   ? "same bus message"
                                                                : "same number in this campaign within the dedupe window");
        ev->reason = o->reason;
    } else if (strcmp (type, INTAKE_AUDIT_REJECTED_SUMMARY) == 0) {
        /* The facts are counts, typed: an auditor checks them against the lead.rejected records
         * of the same trace id. */
        ev->decision = PLATEAU__V1__DECISION__DENY;
        ev->counts = o->cp;
        s_count (o, "rejected", ctx->rejected);
        s_count (o, "recorded", ctx->recorded);
        s_count (o, "not_recorded", ctx->rejected - ctx->recorded);
        s_count (o, "first_not_recorded_index", ctx->first_index);
        s_count (o, "first_not_recorded_line", ctx->first_line);
        snprintf (o->reason, sizeof o->reason, "%zu rejected items of one request beyond the %zu recorded one by one",
                  ctx->rejected - ctx->recorded, ctx->recorded);
        ev->reason = o->reason;
    } else {
        ev->decision = PLATEAU__V1__DECISION__DENY;
        ev->reason = (char *) (ctx->reason ? ctx->reason : "invalid lead");
        s_rules (o, ctx->errors);
    }
    /* details: format, dedupe, line, and for rejections the first errors as
     * error.<i>.field / .code / .message (field codes are what people filter on). */
    if (ctx->format)
        s_detail (o, "format", ctx->format);
    if (dedupe)
        s_detail (o, "dedupe", dedupe);
    if (ctx->line) {
        char line[24];
        snprintf (line, sizeof line, "%zu", ctx->line);
        s_detail (o, "line", line);
    }
    for (size_t i = 0; ctx->errors && i < ctx->errors->count && i < 8; i++) {
        char k[32];
        snprintf (k, sizeof k, "error.%zu.field", i);
        s_detail (o, k, ctx->errors->items[i].field);
        snprintf (k, sizeof k, "error.%zu.code", i);
        s_detail (o, k, ctx->errors->items[i].code ? ctx->errors->items[i].code : "");
        snprintf (k, sizeof k, "error.%zu.message", i);
        s_detail (o, k, ctx->errors->items[i].message);
    }
}
