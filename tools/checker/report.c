/*  report.c — the checker's summary for people and the same as JSON for the driver's report.
 */
#include "check_int.h"

#include <string.h>

#define S_SHOW_PER_KIND 20

static json_t *
s_map_json (const ck_map_t *m)
{
    json_t *o = json_object ();
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i])
            json_object_set_new (o, m->keys[i], json_integer (m->vals[i]));
    return o;
}

static bool
s_has_promises (const ck_tally_t *t)
{
    return t->made || t->unmatched || t->rpc;
}

/* The kept rate in hundredths of a percent: kept of every promise decided; -1 none decided. */
static long
s_kept_rate (const ck_tally_t *t)
{
    long decided = t->kept + t->partial + t->broken;
    return decided ? (t->kept * 10000 + decided / 2) / decided : -1;
}

static json_t *
s_promises_json (const ck_tally_t *t)
{
    json_t *money = json_object ();
    for (int i = 0; i < t->n_money; i++)
        json_object_set_new (money, t->money[i].currency, json_pack ("{s:I, s:I, s:I}",
            "promised_minor", (json_int_t) t->money[i].promised, "collected_minor",
            (json_int_t) t->money[i].collected, "unmatched_minor", (json_int_t) t->money[i].unmatched));
    long rate = s_kept_rate (t);
    return json_pack ("{s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I}", "rpc", (json_int_t) t->rpc,
        "promises_per_rpc", t->rpc ? json_real ((double) t->made / (double) t->rpc) : json_null (),
        "made", (json_int_t) t->made,
        "kept", (json_int_t) t->kept, "partially_kept", (json_int_t) t->partial, "broken",
        (json_int_t) t->broken, "cancelled", (json_int_t) t->cancelled, "active",
        (json_int_t) t->active, "kept_rate_pct", rate < 0 ? json_null () : json_real (rate / 100.0),
        "by_currency", money, "unmatched_payments", (json_int_t) t->unmatched);
}

static json_t *
s_campaign_json (const ck_campaign_t *c)
{
    json_t *hours = json_array (), *bad = json_array ();
    for (int h = 0; h < 24; h++) {
        json_array_append_new (hours, json_integer (c->hours[h]));
        json_array_append_new (bad, json_integer (c->bad_hours[h]));
    }
    json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:i, s:I, s:o, s:o, s:o, s:O, s:o}", "name",
        c->name, "profile", c->profile_id, "tenant", c->tenant, "window", c->profile->window.rule,
        "abandon_budget_ppm", c->budget_ppm, "calls", (json_int_t) c->calls,
        "calls_by_local_hour", hours, "calls_outside_window_by_local_hour", bad, "outcomes",
        s_map_json (&c->outcomes), "abandon", c->abandon, "suppressions",
        s_map_json (&c->reasons));
    json_object_set_new (o, "leads", json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "input", (json_int_t) c->leads, "accepted", (json_int_t) c->accepted, "rejected",
        (json_int_t) c->rejected, "rejected_in_summary", (json_int_t) c->rejected_counted,
        "duplicate", (json_int_t) c->duplicate, "finished",
        (json_int_t) c->finished, "scheduled", (json_int_t) c->scheduled, "suppressed",
        (json_int_t) c->suppressed, "lost", (json_int_t) c->lost, "no_end", (json_int_t) c->open));
    json_object_set_new (o, "calls_on_registry_lists_not_binding",
                         json_integer (c->dnc_informational));
    if (c->business_leads)
        json_object_set_new (o, "business_callees", json_pack ("{s:s, s:I, s:I}", "rule", c->profile->b2b_rule,
                                                               "leads", (json_int_t) c->business_leads,
                                                               "calls", (json_int_t) c->business_calls));
    if (s_has_promises (&c->promises))
        json_object_set_new (o, "promises", s_promises_json (&c->promises));
    return o;
}

static json_t *
s_report_json (const pl_check_t *self)
{
    json_t *camps = json_array (), *viol = json_array ();
    for (int i = 0; i < self->n_campaigns; i++)
        json_array_append_new (camps, s_campaign_json (&self->campaigns[i]));
    for (size_t i = 0; i < self->n_violations; i++) {
        const ck_violation_t *v = &self->violations[i];
        char at[32] = "";
        if (v->at)
            ck_iso (v->at, at, sizeof at);
        json_array_append_new (viol, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}",
            "kind", v->kind, "rule", v->rule, "attempt_id", v->attempt, "lead", v->lead,
            "campaign", v->campaign, "at_ms", (json_int_t) v->at, "at", at, "fact", v->fact));
    }
    json_t *r = json_pack ("{s:s, s:I, s:I, s:I, s:I, s:o, s:o}", "verdict",
                           self->n_violations ? "FAIL" : "PASS", "violations_total",
                           (json_int_t) self->n_violations, "records", (json_int_t) self->records,
                           "duplicate_records", (json_int_t) self->duplicates,
                           "accepted_leads_not_in_bundle", (json_int_t) self->unknown_leads,
                           "campaigns", camps, "violations", viol);
    if (r && s_has_promises (&self->promise_total))
        json_object_set_new (r, "promises", s_promises_json (&self->promise_total));
    return r;
}

int
pl_check_write_json (const pl_check_t *self, const char *path)
{
    json_t *r = s_report_json (self);
    int rc = r ? json_dump_file (r, path, JSON_INDENT (2) | JSON_PRESERVE_ORDER
                                          | JSON_REAL_PRECISION (12)) : -1;
    json_decref (r);
    return rc == 0 ? 0 : -1;
}

static void
s_print_map (FILE *out, const char *title, const ck_map_t *m)
{
    fprintf (out, "  %s:", title);
    if (!m->n)
        fprintf (out, " none");
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i])
            fprintf (out, "\n    %-40s %lld", m->keys[i], (long long) m->vals[i]);
    fputc ('\n', out);
}

static void
s_print_promises (FILE *out, const char *title, const ck_tally_t *t)
{
    long rate = s_kept_rate (t);
    fprintf (out, "  %s: %ld made; %ld kept, %ld partially kept, %ld broken, %ld cancelled, %ld "
                  "active at the end", title, t->made, t->kept, t->partial, t->broken,
             t->cancelled, t->active);
    if (rate >= 0)
        fprintf (out, "; kept rate %ld.%02ld%%", rate / 100, rate % 100);
    if (t->rpc)
        fprintf (out, "; %ld right-party contacts, %.3f promises per contact", t->rpc,
                 (double) t->made / (double) t->rpc);
    fputc ('\n', out);
    for (int i = 0; i < t->n_money; i++)
        fprintf (out, "    %-4s promised %lld, collected %lld, unmatched %lld (minor units)\n",
                 *t->money[i].currency ? t->money[i].currency : "?",
                 (long long) t->money[i].promised, (long long) t->money[i].collected,
                 (long long) t->money[i].unmatched);
    if (t->unmatched)
        fprintf (out, "    %ld payments unmatched at the end\n", t->unmatched);
}

static void
s_print_campaign (FILE *out, const ck_campaign_t *c)
{
    fprintf (out, "\ncampaign %s (profile %s, tenant %s): %ld calls\n", c->name, c->profile_id,
             c->tenant, c->calls);
    fprintf (out, "  calls by the callee's local hour (binding zone; * = outside %s):\n",
             c->profile->window.rule);
    for (int h = 0; h < 24; h++)
        if (c->hours[h])
            fprintf (out, "    %02d:00  %7ld%s\n", h, c->hours[h], c->bad_hours[h] ? "  *" : "");
    s_print_map (out, "outcomes", &c->outcomes);
    fprintf (out, "  abandon rate (%s, budget %.2f%%):\n", c->profile->abandon_rule,
             c->budget_ppm / 10000.0);
    size_t i;
    json_t *p;
    json_array_foreach (c->abandon, i, p) {
        json_t *d = json_object_get (p, "dialer");
        fprintf (out, "    %s .. %s  %lld/%lld live%s = %.2f%%",
                 json_string_value (json_object_get (p, "from")),
                 json_string_value (json_object_get (p, "to")),
                 (long long) json_integer_value (json_object_get (p, "abandoned")),
                 (long long) json_integer_value (json_object_get (p, "live_answered")),
                 json_integer_value (json_object_get (p, "amd_false_positive_estimate"))
                     ? " (+AMD estimate)" : "",
                 json_integer_value (json_object_get (p, "rate_ppm")) / 10000.0);
        if (d)
            fprintf (out, "; dialer %lld/%lld = %.2f%%",
                     (long long) json_integer_value (json_object_get (d, "abandoned")),
                     (long long) json_integer_value (json_object_get (d, "live_answered")),
                     json_integer_value (json_object_get (d, "rate_ppm")) / 10000.0);
        fputc ('\n', out);
    }
    s_print_map (out, "suppressions and ends by reason", &c->reasons);
    char counted[64] = "";
    if (c->rejected_counted)
        snprintf (counted, sizeof counted, " (%ld of them in a lead.rejected_summary)", c->rejected_counted);
    fprintf (out, "  leads: %ld input, %ld accepted, %ld rejected%s, %ld duplicate; %ld finished, "
                  "%ld scheduled, %ld suppressed; %ld lost, %ld without an end\n",
             c->leads, c->accepted, c->rejected, counted, c->duplicate, c->finished, c->scheduled,
             c->suppressed, c->lost, c->open);
    if (c->dnc_informational)
        fprintf (out, "  %ld calls to numbers on a registry list this profile is not bound by\n",
                 c->dnc_informational);
    if (c->business_leads)
        fprintf (out, "  business callees (%s): %ld leads, %ld calls judged outside the consumer rules, inside %s\n",
                 c->profile->b2b_rule, c->business_leads, c->business_calls, c->profile->b2b_window.rule);
    if (s_has_promises (&c->promises))
        s_print_promises (out, "promises", &c->promises);
}

void
pl_check_print (const pl_check_t *self, FILE *out)
{
    fprintf (out, "plateau-check: %ld records (%ld repeated), %zu leads, %zu attempts\n",
             self->records, self->duplicates, self->n_leads, self->n_attempts);
    for (int i = 0; i < self->n_campaigns; i++)
        s_print_campaign (out, &self->campaigns[i]);
    if (s_has_promises (&self->promise_total)) {
        fputc ('\n', out);
        s_print_promises (out, "promises of every campaign", &self->promise_total);
    }
    if (self->n_violations)
        fprintf (out, "\nviolations (at most %d shown per kind; all in --json):\n", S_SHOW_PER_KIND);
    ck_map_t shown = {0};
    for (size_t i = 0; i < self->n_violations; i++) {
        const ck_violation_t *v = &self->violations[i];
        int64_t n = ck_map_get (&shown, v->kind);
        ck_map_put (&shown, v->kind, n < 0 ? 1 : n + 1);
        if (n >= S_SHOW_PER_KIND)
            continue;
        char at[32] = "-";
        if (v->at)
            ck_iso (v->at, at, sizeof at);
        fprintf (out, "  %-16s %-18s attempt %s lead %s campaign %s at %s: %s\n", v->kind, v->rule,
                 *v->attempt ? v->attempt : "-", *v->lead ? v->lead : "-",
                 *v->campaign ? v->campaign : "-", at, v->fact);
    }
    for (size_t i = 0; i < shown.cap; i++)
        if (shown.keys[i])
            fprintf (out, "  %s: %lld\n", shown.keys[i], (long long) shown.vals[i]);
    ck_map_clear (&shown);
    if (self->n_violations)
        fprintf (out, "checker: FAIL (%zu violations)\n", self->n_violations);
    else
        fprintf (out, "checker: PASS\n");
}
