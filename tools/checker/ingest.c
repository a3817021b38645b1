/*  ingest.c — reads the records of an audit export into the checker's compact state: the MUST
 *  fields of each type (docs/audit-events.md) first, then what each type says of a lead, an
 *  attempt, an opt-out, a consent or the pacing (promises and payments: promise.c).
 */
#include "check_int.h"

#include <stdlib.h>
#include <string.h>

/* MUST fields that cannot legitimately be a proto3 default (which the export omits). */
typedef struct {
    const char *type;
    const char *fields[16];         /* NULL-terminated */
} s_must_t;

static const s_must_t s_must[] = {
    {"lead.accepted", {"lead_id", "campaign", "tenant", "number", "external_id", "source",
                       "call_kind", "zones", "zone", "regions"}},
    {"lead.rejected", {"external_id", "source", "campaign", "tenant", "rules"}},
    {"lead.rejected_summary", {"source", "actor", "trace_id", "counts.rejected", "counts.recorded",
                               "counts.not_recorded"}},
    {"scrub.verdict", {"number", "lead_id", "tenant", "decision", "profile", "regions",
                       "evaluated_at_ms", "lists"}},
    {"dial.allowed", {"number", "lead_id", "campaign", "tenant", "attempt_id", "call_kind",
                      "profile", "zones", "zone", "regions", "evaluated_at_ms", "local_time",
                      "dial_mode", "caller_id", "decision"}},
    {"dial.denied", {"number", "lead_id", "campaign", "tenant", "attempt_id", "call_kind",
                     "profile", "zones", "evaluated_at_ms", "decision", "rules"}},
    {"dial.deferred", {"number", "lead_id", "campaign", "tenant", "attempt_id", "call_kind",
                       "profile", "zones", "evaluated_at_ms", "decision", "rules"}},
    {"dial.scheduled", {"lead_id", "campaign", "tenant", "number", "call_kind",
                        "schedule.due_at_ms", "schedule.attempt", "schedule.reason"}},
    {"dial.claimed", {"attempt_id", "lead_id", "campaign", "tenant", "number", "call_kind",
                      "dial_mode", "counts.attempt"}},
    {"call.requested", {"attempt_id", "lead_id", "campaign", "tenant", "number", "call_kind",
                        "dial_mode", "caller_id", "zone", "evaluated_at_ms",
                        "call.requested_at_ms", "call.place_before_ms", "call.ring_timeout_ms"}},
    {"call.outcome", {"number", "lead_id", "campaign", "tenant", "attempt_id", "call_kind", "zone",
                      "call.result"}},
    {"call.disposition", {"attempt_id", "number", "tenant", "disposition.code"}},
    {"lead.finished", {"lead_id", "campaign", "tenant", "schedule.reason"}},
    {"campaign.paused", {"campaign", "tenant", "actor"}},
    {"campaign.resumed", {"campaign", "tenant", "actor"}},
    {"pacing.report", {"campaign", "tenant", "pacing.mode", "pacing.period_from_ms",
                       "pacing.period_to_ms", "pacing.budget_ppm", "pacing.rule"}},
    {"optout.added", {"number", "tenant", "opt_out.list", "opt_out.scope", "opt_out.channel",
                      "opt_out.requested_at_ms", "opt_out.effective_at_ms"}},
    {"consent.recorded", {"number", "tenant", "consent.tenant", "consent.subject",
                          "consent.captured_at_ms"}},
    {"consent.revoked", {"number", "tenant", "consent.tenant", "consent.subject",
                         "consent.revoked_at_ms"}},
    /* promise.instalment may be 0 (the first), so it is no MUST here. */
    {"promise.made", {"promise.promise_id", "promise.account_ref", "promise.currency",
                      "promise.amount_minor", "promise.instalments", "promise.zone",
                      "promise.schedule", "tenant", "number"}},
    {"promise.kept", {"promise.promise_id"}},
    {"promise.partially_kept", {"promise.promise_id", "promise.instalment_due",
                                "promise.deadline_ms", "promise.follow_up_campaign"}},
    {"promise.broken", {"promise.promise_id", "promise.instalment_due", "promise.deadline_ms",
                        "promise.follow_up_campaign"}},
    {"promise.cancelled", {"promise.promise_id"}},
    {"promise.reopened", {"promise.promise_id"}},
    {"promise.instalment_paid", {"promise.promise_id", "promise.instalment_due"}},
    {"promise.reminded", {"promise.promise_id", "promise.instalment_due"}},
    {"payment.applied", {"promise.payment_id", "promise.payment_minor", "promise.paid_at_ms",
                         "promise.account_ref", "promise.currency", "promise.promise_id"}},
    {"payment.unmatched", {"promise.payment_id", "promise.payment_minor", "promise.paid_at_ms",
                           "promise.account_ref", "promise.currency"}},
    {"payment.reversed", {"promise.payment_id", "promise.payment_minor", "promise.paid_at_ms",
                          "promise.account_ref", "promise.currency"}},
};

static void
s_check_must (pl_check_t *self, json_t *rec, const char *type)
{
    bool erased = strcmp (ck_str (rec, "personal"), "erased") == 0;
    for (size_t i = 0; i < sizeof s_must / sizeof s_must[0]; i++) {
        if (strcmp (s_must[i].type, type) != 0)
            continue;
        for (const char *const *f = s_must[i].fields; *f; f++) {
            if (erased && strcmp (*f, "number") == 0)
                continue;       /* an erased person's number is gone by design */
            json_t *v = ck_field (rec, *f);
            if (v && !(json_is_string (v) && !*json_string_value (v)))
                continue;
            ck_violation (self, "missing_fact", type, ck_str (rec, "attempt_id"),
                          ck_str (rec, "lead_id"), ck_str (rec, "campaign"), ck_int (rec, "at_ms"),
                          "%s record %s has no %s", type, ck_str (rec, "event_id"), *f);
        }
        return;
    }
}

/* ---- leads and attempts --------------------------------------------------------------------- */

static void
s_add_zones (pl_check_t *self, json_t *rec, const char **zones, int *n)
{
    size_t i;
    json_t *z;
    json_array_foreach (ck_field (rec, "zones"), i, z) {
        const char *name = json_is_object (z) ? json_string_value (json_object_get (z, "zone"))
                                              : json_string_value (z);
        ck_zone_add (zones, n, ck_intern (self, name));
    }
    const char *zone = ck_str (rec, "zone");
    if (*zone)
        ck_zone_add (zones, n, ck_intern (self, zone));
}

static ck_lead_t *
s_lead_of (pl_check_t *self, json_t *rec)
{
    int64_t i = ck_map_get (&self->lead_by_id, ck_str (rec, "lead_id"));
    if (i < 0 && *ck_str (rec, "external_id")) {
        char key[512];
        ck_campaign_t *c = ck_campaign (self, ck_str (rec, "campaign"));
        snprintf (key, sizeof key, "%s\x1f%s", c ? c->name : ck_str (rec, "campaign"),
                  ck_str (rec, "external_id"));
        i = ck_map_get (&self->lead_by_ext, key);
    }
    if (i < 0 && *ck_str (rec, "number"))
        i = ck_map_get (&self->lead_by_number, ck_str (rec, "number"));
    return i >= 0 ? &self->leads[i] : NULL;
}

/* A lead.duplicate names the lead it duplicates (lead_id): the input lead it stands for is the
 * one of its external id. */
static ck_lead_t *
s_duplicate_of (pl_check_t *self, json_t *rec)
{
    if (*ck_str (rec, "external_id")) {
        char key[512];
        ck_campaign_t *c = ck_campaign (self, ck_str (rec, "campaign"));
        snprintf (key, sizeof key, "%s\x1f%s", c ? c->name : ck_str (rec, "campaign"), ck_str (rec, "external_id"));
        int64_t i = ck_map_get (&self->lead_by_ext, key);
        if (i >= 0)
            return &self->leads[i];
    }
    return s_lead_of (self, rec);
}

static ck_attempt_t *
s_attempt (pl_check_t *self, json_t *rec)
{
    const char *id = ck_str (rec, "attempt_id");
    if (!*id)
        return NULL;
    int64_t i = ck_map_get (&self->attempt_by_id, id);
    ck_attempt_t *a;
    if (i < 0) {
        if (ck_grow (&self->attempts, &self->cap_attempts, self->n_attempts, sizeof *a) != 0)
            return NULL;
        a = &self->attempts[self->n_attempts];
        memset (a, 0, sizeof *a);
        a->id = strdup (id);
        a->lead = -1;
        a->campaign = -1;
        a->time_to_agent = -1;
        ck_map_put (&self->attempt_by_id, id, (int64_t) self->n_attempts++);
    } else
        a = &self->attempts[i];
    const char *lead_id = ck_str (rec, "lead_id");
    if (*lead_id && a->lead_id && *a->lead_id && strcmp (a->lead_id, lead_id) != 0)
        ck_violation (self, "attempt_reused", "attempt-id", a->id, lead_id, ck_str (rec, "campaign"),
                      ck_int (rec, "at_ms"), "attempt %s is used for lead %s and lead %s", a->id,
                      a->lead_id, lead_id);
    if (*lead_id && (!a->lead_id || !*a->lead_id))
        a->lead_id = ck_intern (self, lead_id);
    if (a->lead < 0) {
        ck_lead_t *l = s_lead_of (self, rec);
        a->lead = l ? l - self->leads : -1;
    }
    ck_campaign_t *c = ck_campaign (self, ck_str (rec, "campaign"));
    if (c && a->campaign < 0)
        a->campaign = (int) (c - self->campaigns);
    if (*ck_str (rec, "tenant"))
        a->tenant = ck_intern (self, ck_str (rec, "tenant"));
    if (*ck_str (rec, "number"))
        a->number = ck_intern (self, ck_str (rec, "number"));
    s_add_zones (self, rec, a->zones, &a->n_zones);
    if (*ck_str (rec, "zone"))
        a->binding = ck_intern (self, ck_str (rec, "zone"));
    return a;
}

/* The reason a lead or number was stopped, for the summary: the first rule cited. */
static void
s_count_reason (pl_check_t *self, json_t *rec, const char *stage, const char *fallback)
{
    ck_campaign_t *c = ck_campaign (self, ck_str (rec, "campaign"));
    if (!c) {
        ck_lead_t *l = s_lead_of (self, rec);
        c = l && l->campaign >= 0 ? &self->campaigns[l->campaign] : NULL;
    }
    if (!c)
        return;
    /* The rule that decided: the first whose facts say it denies (or defers, for a deferral);
     * else the first listed. */
    json_t *rules = ck_field (rec, "rules"), *r = json_array_get (rules, 0);
    const char *want = strcmp (fallback, "deny") == 0 ? "denies" : "defers";
    for (size_t i = 0; i < json_array_size (rules); i++) {
        const char *facts = json_string_value (json_object_get (json_array_get (rules, i), "facts"));
        if (facts && strncmp (facts, want, strlen (want)) == 0) {
            r = json_array_get (rules, i);
            break;
        }
    }
    const char *why = json_string_value (json_object_get (r, "rule_id"));
    char key[256];
    snprintf (key, sizeof key, "%s: %s", stage, why && *why ? why : fallback);
    ck_count (&c->reasons, key);
}

/* local_time must be evaluated_at_ms in the binding zone (docs/audit-events.md). */
static void
s_check_local_time (pl_check_t *self, json_t *rec, ck_attempt_t *a)
{
    const char *lt = ck_str (rec, "local_time"), *zone = ck_str (rec, "zone");
    int64_t at = ck_int (rec, "evaluated_at_ms");
    struct tm tm;
    if (!*lt || !*zone || !at)
        return;
    if (ck_tz_local (self->tz, zone, at, &tm) != 0) {
        ck_violation (self, "unknown_zone", "zone", a ? a->id : "", ck_str (rec, "lead_id"),
                      ck_str (rec, "campaign"), at, "zone '%s' is not in the tz database", zone);
        return;
    }
    char mine[40];
    ck_tz_format (&tm, mine, sizeof mine);
    size_t n = strlen (lt);
    /* Seconds and offset must agree; fractions may differ, and "Z" is "+00:00". */
    bool zulu = n >= 20 && (lt[n - 1] == 'Z' || lt[n - 1] == 'z');
    bool same = n >= 20 && strncmp (lt, mine, 19) == 0
                && (zulu ? strcmp (mine + 19, "+00:00") == 0
                         : n >= 25 && strcmp (lt + n - 6, mine + 19) == 0);
    if (!same)
        ck_violation (self, "local_time", "zone", a ? a->id : "", ck_str (rec, "lead_id"),
                      ck_str (rec, "campaign"), at, "local_time %s, but %s in %s is %s", lt,
                      "evaluated_at_ms", zone, mine);
}

static void
s_lead_record (pl_check_t *self, json_t *rec, const char *type)
{
    ck_lead_t *l = strcmp (type, "lead.duplicate") == 0 ? s_duplicate_of (self, rec) : s_lead_of (self, rec);
    if (!l) {
        if (strcmp (type, "lead.accepted") == 0)
            self->unknown_leads++;
        return;
    }
    if (strcmp (type, "lead.accepted") == 0) {
        l->accepted = true;
        if (!l->lead_id && *ck_str (rec, "lead_id")) {
            l->lead_id = strdup (ck_str (rec, "lead_id"));
            ck_map_put (&self->lead_by_id, l->lead_id, l - self->leads);
        }
        s_add_zones (self, rec, l->zones, &l->n_zones);
    } else if (strcmp (type, "lead.rejected") == 0) {
        l->rejected = true;
        s_count_reason (self, rec, "intake rejected", "invalid");
    } else if (strcmp (type, "lead.duplicate") == 0)
        l->duplicate = true;
    else if (strcmp (type, "lead.suppressed") == 0)
        l->suppressed = true;
    else if (strcmp (type, "scrub.verdict") == 0) {
        bool deny = strcmp (ck_str (rec, "decision"), "deny") == 0;
        deny ? l->scrub_deny++ : l->scrub_allow++;
        if (deny)
            s_count_reason (self, rec, "scrub denied", "deny");
    } else if (strcmp (type, "lead.finished") == 0) {
        l->finished = true;
        int64_t at = ck_int (rec, "at_ms");
        if (!l->finished_at || at < l->finished_at)
            l->finished_at = at;
        if (at > l->refinished_at)
            l->refinished_at = at;
        ck_campaign_t *c = l->campaign >= 0 ? &self->campaigns[l->campaign] : NULL;
        char key[256];
        snprintf (key, sizeof key, "finished: %s", ck_str (rec, "schedule.reason"));
        if (c)
            ck_count (&c->reasons, key);
    } else if (strcmp (type, "dial.scheduled") == 0) {
        int64_t at = ck_int (rec, "at_ms");
        if (at > l->scheduled_at)
            l->scheduled_at = at;
        /* A broken promise reopens a finished lead (docs/audit-events.md, promises). */
        if (strcmp (ck_str (rec, "schedule.reason"), "promise_broken") == 0 && at > l->reopened_at)
            l->reopened_at = at;
    }
}

static void
s_attempt_record (pl_check_t *self, json_t *rec, const char *type)
{
    ck_attempt_t *a = s_attempt (self, rec);
    if (!a)
        return;
    int64_t at = ck_int (rec, "at_ms");
    if (strcmp (type, "dial.claimed") == 0)
        a->claimed++;
    else if (strcmp (type, "dial.allowed") == 0) {
        a->allowed++;
        int64_t ev = ck_int (rec, "evaluated_at_ms");
        a->allowed_at = ev ? ev : at;
        s_check_local_time (self, rec, a);
    } else if (strcmp (type, "dial.denied") == 0 || strcmp (type, "dial.deferred") == 0)
        s_count_reason (self, rec, strcmp (type, "dial.denied") == 0 ? "dial denied" : "dial deferred",
                        "rule");
    else if (strcmp (type, "call.requested") == 0) {
        a->requested++;
        a->requested_at = ck_int (rec, "call.requested_at_ms");
        a->place_before = ck_int (rec, "call.place_before_ms");
    } else if (strcmp (type, "call.outcome") == 0) {
        a->outcomes++;
        a->result = ck_intern (self, ck_str (rec, "call.result"));
        a->placed_at = ck_int (rec, "call.placed_at_ms");
        a->answered_at = ck_int (rec, "call.answered_at_ms");
        json_t *tta = ck_field (rec, "call.time_to_agent_ms");
        a->time_to_agent = tta ? json_integer_value (tta) : 0;
        a->outcome_t = a->placed_at ? a->placed_at : a->answered_at ? a->answered_at : at;
        a->outcome_seen = at;
    } else if (strcmp (type, "call.disposition") == 0) {
        json_t *d = ck_field (rec, "disposition");
        a->conversation |= json_is_true (json_object_get (d, "conversation"));
        a->refusal |= json_is_true (json_object_get (d, "refusal"));
        a->dnc |= json_is_true (json_object_get (d, "do_not_call"));
        a->disp_at = at;
        /* A conversation with the debtor on a collection call: a right-party contact, the
         * denominator of promises per contact. */
        if (json_is_true (json_object_get (d, "conversation"))
            && !strcmp (ck_str (rec, "call_kind"), "debt_collection")) {
            ck_campaign_t *c = a->campaign >= 0 ? &self->campaigns[a->campaign] : NULL;
            if (c)
                c->promises.rpc++;
            self->promise_total.rpc++;
        }
    }
}

/* ---- opt-outs, consents, pacing ------------------------------------------------------------- */

static void
s_optout_record (pl_check_t *self, json_t *rec, const char *type)
{
    const char *number = ck_str (rec, "number"), *tenant = ck_str (rec, "tenant");
    const char *debt = ck_str (rec, "opt_out.debt_ref");
    int64_t eff = ck_int (rec, "opt_out.effective_at_ms");
    if (!*number)
        return;
    if (strcmp (type, "optout.removed") == 0) {
        for (int64_t i = ck_map_get (&self->optout_head, number); i >= 0; i = self->optouts[i].next) {
            ck_optout_t *o = &self->optouts[i];
            if (strcmp (o->tenant, tenant) == 0 && strcmp (o->debt, debt) == 0 && !o->until
                && o->from <= eff)
                o->until = eff;
        }
        return;
    }
    if (ck_grow (&self->optouts, &self->cap_optouts, self->n_optouts, sizeof *self->optouts) != 0)
        return;
    const char *scope = ck_str (rec, "opt_out.scope");
    self->optouts[self->n_optouts] = (ck_optout_t) {
        ck_intern (self, number), ck_intern (self, tenant), ck_intern (self, debt),
        ck_intern (self, *scope ? scope : "tenant"), eff ? eff : ck_int (rec, "at_ms"), 0,
        ck_map_get (&self->optout_head, number)};
    ck_map_put (&self->optout_head, number, (int64_t) self->n_optouts++);
}

static void
s_consent_record (pl_check_t *self, json_t *rec, const char *type)
{
    const char *number = ck_str (rec, "number");
    const char *tenant = ck_str (rec, "consent.tenant");
    if (!*tenant)
        tenant = ck_str (rec, "tenant");
    if (!*number || ck_grow (&self->crecs, &self->cap_crecs, self->n_crecs, sizeof *self->crecs))
        return;
    ck_crec_t x = {ck_intern (self, number), ck_intern (self, tenant), 0, 0, 0,
                   ck_map_get (&self->crec_head, number)};
    if (strcmp (type, "consent.revoked") == 0) {
        int64_t r = ck_int (rec, "consent.revoked_at_ms");
        x.revoke_all_before = r ? r : ck_int (rec, "at_ms");
    } else {
        x.captured = ck_int (rec, "consent.captured_at_ms");
        x.revoked = ck_int (rec, "consent.revoked_at_ms");
    }
    self->crecs[self->n_crecs] = x;
    ck_map_put (&self->crec_head, number, (int64_t) self->n_crecs++);
}

static void
s_pacing_record (pl_check_t *self, json_t *rec)
{
    ck_campaign_t *c = ck_campaign (self, ck_str (rec, "campaign"));
    if (!c || ck_grow (&c->pacing, &c->cap_pacing, c->n_pacing, sizeof *c->pacing) != 0)
        return;
    c->pacing[c->n_pacing++] = (ck_pacing_t) {
        ck_int (rec, "pacing.period_from_ms"), ck_int (rec, "pacing.period_to_ms"),
        ck_int (rec, "pacing.live_answered"), ck_int (rec, "pacing.abandoned"),
        ck_int (rec, "pacing.machine_detected"), ck_int (rec, "pacing.amd_false_positive_estimate"),
        ck_int (rec, "pacing.rate_ppm"), ck_int (rec, "pacing.budget_ppm"), ck_int (rec, "at_ms")};
}

static void
s_summary_record (pl_check_t *self, json_t *rec)
{
    if (ck_grow (&self->summaries, &self->cap_summaries, self->n_summaries, sizeof *self->summaries) != 0)
        return;
    ck_campaign_t *c = ck_campaign (self, ck_str (rec, "campaign"));
    int64_t not_recorded = ck_int (rec, "counts.not_recorded");
    self->summaries[self->n_summaries++] = (ck_summary_t) {
        ck_intern (self, ck_str (rec, "trace_id")), c ? c->name : "", ck_int (rec, "at_ms"),
        ck_int (rec, "counts.rejected"), ck_int (rec, "counts.recorded"), not_recorded};
    if (not_recorded > 0)
        *(c ? &c->rejected_unrecorded : &self->rejected_unrecorded) += not_recorded;
}

void
ck_ingest_lead_id (pl_check_t *self, json_t *rec)
{
    if (strcmp (ck_str (rec, "type"), "lead.accepted") != 0 || !*ck_str (rec, "lead_id"))
        return;
    ck_lead_t *l = s_lead_of (self, rec);
    if (l && !l->lead_id) {
        l->lead_id = strdup (ck_str (rec, "lead_id"));
        ck_map_put (&self->lead_by_id, l->lead_id, l - self->leads);
    }
}

int
ck_ingest (pl_check_t *self, json_t *rec)
{
    const char *type = ck_str (rec, "type");
    json_t *seq = json_object_get (rec, "seq");
    if (json_is_integer (seq) && *ck_str (rec, "chain")) {
        char key[160];
        snprintf (key, sizeof key, "%.100s|%lld", ck_str (rec, "chain"),
                  (long long) json_integer_value (seq));
        if (ck_map_get (&self->seen, key) >= 0) {
            self->duplicates++;     /* the same record twice (overlapping pages) */
            return 0;
        }
        ck_map_put (&self->seen, key, 1);
    }
    self->records++;
    int64_t at = ck_int (rec, "at_ms");
    if (at > self->last_at)
        self->last_at = at;
    s_check_must (self, rec, type);
    /* Counted by trace whether or not the input holds its lead: a summary is checked against
     * every lead.rejected its request wrote. */
    if (strcmp (type, "lead.rejected") == 0)
        ck_count (&self->rejected_by_trace, ck_str (rec, "trace_id"));
    if (strcmp (type, "lead.rejected_summary") == 0)
        s_summary_record (self, rec);
    else if (strncmp (type, "lead.", 5) == 0 || strcmp (type, "scrub.verdict") == 0
        || strcmp (type, "dial.scheduled") == 0)
        s_lead_record (self, rec, type);
    if (strncmp (type, "dial.", 5) == 0 || strncmp (type, "call.", 5) == 0)
        s_attempt_record (self, rec, type);
    else if (strcmp (type, "optout.added") == 0 || strcmp (type, "optout.removed") == 0)
        s_optout_record (self, rec, type);
    else if (strncmp (type, "consent.", 8) == 0)
        s_consent_record (self, rec, type);
    else if (strcmp (type, "pacing.report") == 0)
        s_pacing_record (self, rec);
    if (strncmp (type, "promise.", 8) == 0 || strncmp (type, "payment.", 8) == 0
        || strcmp (type, "dial.scheduled") == 0)
        ck_promise_record (self, rec, type);
    return 0;
}
