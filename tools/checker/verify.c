/*  verify.c — the checks, each recomputed from the records and the bundle with the checker's
 *  own tables (law.c): windows in every candidate zone, caps and cool-offs, lists, opt-outs and
 *  consents, attempt ids, abandon rates, and the end of every lead (then the promises:
 *  promise.c).
 */
#include "check_int.h"

#include <stdlib.h>
#include <string.h>

static ck_lead_t *
s_lead (pl_check_t *self, const ck_attempt_t *a)
{
    return a->lead >= 0 ? &self->leads[a->lead] : NULL;
}

static const char *
s_lead_name (pl_check_t *self, const ck_attempt_t *a)
{
    ck_lead_t *l = s_lead (self, a);
    return l ? l->ext : a->lead_id ? a->lead_id : "";
}

static const char *
s_number (pl_check_t *self, const ck_attempt_t *a)
{
    ck_lead_t *l = s_lead (self, a);
    if (a->number && *a->number)
        return a->number;
    return l && l->n_phones ? l->phones[0] : "";
}

static const char *
s_camp_name (pl_check_t *self, const ck_attempt_t *a)
{
    return a->campaign >= 0 ? self->campaigns[a->campaign].name : "";
}

/* Every candidate zone: the records' own, the lead's accepted ones, and the checker's. */
static int
s_zones (pl_check_t *self, const ck_attempt_t *a, const char **z)
{
    int n = 0;
    for (int i = 0; i < a->n_zones; i++)
        ck_zone_add (z, &n, a->zones[i]);
    ck_lead_t *l = s_lead (self, a);
    if (l)
        for (int i = 0; i < l->n_zones; i++)
            ck_zone_add (z, &n, l->zones[i]);
    ck_zones_derive (s_number (self, a), l ? l->country : NULL, l ? l->postal : NULL,
                     l ? l->state : NULL, z, &n);
    return n;
}

/* What the callee of a is outside of (CK_B2B_*): a business, in a campaign for businesses whose
 * sector the profile's callee rule does not except; 0 for everyone else. */
static unsigned
s_b2b (pl_check_t *self, const ck_attempt_t *a)
{
    const ck_lead_t *l = s_lead (self, a);
    if (!l || !l->business || a->campaign < 0)
        return 0;
    const ck_campaign_t *c = &self->campaigns[a->campaign];
    const ck_profile_t *p = c->profile;
    if (!c->for_business || !p->b2b_rule)
        return 0;
    for (int i = 0; i < 2 && p->b2b_except[i]; i++)
        if (c->sector && strcmp (c->sector, p->b2b_except[i]) == 0)
            return 0;
    return p->b2b;
}

static bool
s_florida (pl_check_t *self, const ck_attempt_t *a, const ck_profile_t *p)
{
    if (!p->florida && !(p->kind == 'D' && self->florida_dc && strncmp (p->id, "us-", 3) == 0))
        return false;
    ck_lead_t *l = s_lead (self, a);
    const char *st = ck_area_state (s_number (self, a));
    return (st && strcmp (st, "FL") == 0) || (l && strcasecmp (l->state, "FL") == 0);
}

/* ---- 1. windows ----------------------------------------------------------------------------- */

static bool
s_window (pl_check_t *self, const ck_attempt_t *a, const ck_window_t *w, const char **z, int n,
          int64_t at, const char *what)
{
    bool ok = true;
    for (int i = 0; i < n; i++) {
        struct tm tm;
        char why[256];
        if (ck_tz_local (self->tz, z[i], at, &tm) != 0) {
            ck_violation (self, "unknown_zone", "zone", a->id, s_lead_name (self, a),
                          s_camp_name (self, a), at, "zone '%s' is not in the tz database", z[i]);
            continue;
        }
        if (!ck_window_open (w, z[i], &tm, why, sizeof why)) {
            ck_violation (self, "hours", w->rule, a->id, s_lead_name (self, a),
                          s_camp_name (self, a), at, "%s: %s", what, why);
            ok = false;
        }
    }
    return ok;
}

static void
s_check_windows (pl_check_t *self, ck_attempt_t *a)
{
    if (a->campaign < 0 || !a->t)
        return;
    ck_campaign_t *c = &self->campaigns[a->campaign];
    const char *z[CK_MAX_ZONES];
    int n = s_zones (self, a, z);
    if (n == 0) {
        ck_violation (self, "no_zone", "zone", a->id, s_lead_name (self, a), c->name, a->t,
                      "no candidate zone for %s", s_number (self, a));
        return;
    }
    bool ok = true;
    bool fl = s_florida (self, a, c->profile);
    /* A business in a campaign for businesses: the house window for businesses instead. */
    unsigned b2b = s_b2b (self, a);
    const ck_window_t *w = (b2b & CK_B2B_WINDOW) ? &c->profile->b2b_window : &c->profile->window;
    c->business_calls += b2b != 0;
    int64_t inst[2] = {a->requested_at, a->placed_at};
    const char *what[2] = {"call.requested", "call.outcome placed"};
    for (int k = 0; k < 2; k++) {
        if (!inst[k])
            continue;
        ok &= s_window (self, a, w, z, n, inst[k], what[k]);
        if (fl)
            ok &= s_window (self, a, &ck_florida_window, z, n, inst[k], what[k]);
    }
    struct tm tm;
    const char *bz = a->binding && *a->binding ? a->binding : z[0];
    if (ck_tz_local (self->tz, bz, a->t, &tm) == 0) {
        c->hours[tm.tm_hour]++;
        c->bad_hours[tm.tm_hour] += !ok;
    }
    c->calls++;
}

/* ---- 4. attempt ids ------------------------------------------------------------------------- */

static void
s_check_ids (pl_check_t *self, ck_attempt_t *a)
{
    const char *lead = s_lead_name (self, a), *camp = s_camp_name (self, a);
    if (a->claimed > 1)
        ck_violation (self, "attempt_reused", "dial.claimed", a->id, lead, camp, a->t,
                      "attempt %s claimed %d times", a->id, a->claimed);
    if (a->requested > 1)
        ck_violation (self, "attempt_reused", "call.requested", a->id, lead, camp, a->t,
                      "attempt %s requested %d times", a->id, a->requested);
    if (a->requested && !a->claimed)
        ck_violation (self, "unclaimed", "dial.claimed", a->id, lead, camp, a->t,
                      "call.requested without a dial.claimed of attempt %s", a->id);
    if ((a->requested || a->placed_at) && !a->allowed)
        ck_violation (self, "not_allowed", "dial.allowed", a->id, lead, camp, a->t,
                      "%s without a dial.allowed of attempt %s",
                      a->requested ? "call.requested" : "call.outcome", a->id);
    else if (a->requested && a->allowed_at > a->requested_at)
        ck_violation (self, "not_allowed", "dial.allowed", a->id, lead, camp, a->t,
                      "dial.allowed evaluated at %lld, after the request at %lld",
                      (long long) a->allowed_at, (long long) a->requested_at);
    if (a->requested && a->requested_at >= a->place_before)
        ck_violation (self, "allowance_expired", "call.requested", a->id, lead, camp, a->t,
                      "requested_at_ms %lld is not before place_before_ms %lld",
                      (long long) a->requested_at, (long long) a->place_before);
}

/* ---- 2. caps and cool-offs ------------------------------------------------------------------ */

enum { S_CALL, S_REFUSAL, S_CONVERSATION, S_ABANDONED, S_MACHINE };

typedef struct {
    const char *key;
    int64_t t;
    int type;
    size_t att;
} s_ev_t;

static int
s_ev_cmp (const void *x, const void *y)
{
    const s_ev_t *a = x, *b = y;
    int c = strcmp (a->key, b->key);
    return c ? c : a->t < b->t ? -1 : a->t > b->t;
}

static void
s_push (pl_check_t *self, s_ev_t **ev, size_t *n, size_t *cap, const char *k1, const char *k2,
        int64_t t, int type, size_t att)
{
    char key[512];
    snprintf (key, sizeof key, "%s|%s", k1, k2);
    if (!t || ck_grow (ev, cap, *n, sizeof **ev) != 0)
        return;
    (*ev)[(*n)++] = (s_ev_t) {ck_intern (self, key), t, type, att};
}

static s_ev_t *
s_events (pl_check_t *self, size_t *count)
{
    s_ev_t *ev = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < self->n_attempts; i++) {
        ck_attempt_t *a = &self->attempts[i];
        ck_lead_t *l = s_lead (self, a);
        char nk[256], dk[256];
        snprintf (nk, sizeof nk, "N|%s", a->tenant ? a->tenant : "");
        snprintf (dk, sizeof dk, "D|%s", a->tenant ? a->tenant : "");
        const char *num = s_number (self, a);
        const char *debt = l && *l->debt ? l->debt : a->lead_id ? a->lead_id : a->id;
        int64_t live = a->answered_at ? a->answered_at : a->outcome_t;
        int64_t disp = a->disp_at ? a->disp_at : live;
        s_push (self, &ev, &n, &cap, nk, num, a->t, S_CALL, i);
        s_push (self, &ev, &n, &cap, dk, debt, a->t, S_CALL, i);
        if (a->refusal)
            s_push (self, &ev, &n, &cap, nk, num, disp, S_REFUSAL, i);
        if (a->conversation)
            s_push (self, &ev, &n, &cap, dk, debt, disp, S_CONVERSATION, i);
        if (a->result && strcmp (a->result, "abandoned") == 0)
            s_push (self, &ev, &n, &cap, nk, num, live, S_ABANDONED, i);
        if (a->result && strcmp (a->result, "voicemail") == 0)
            s_push (self, &ev, &n, &cap, nk, num, a->outcome_t, S_MACHINE, i);
    }
    if (n)
        qsort (ev, n, sizeof *ev, s_ev_cmp);
    *count = n;
    return ev;
}

static void
s_cap (pl_check_t *self, const s_ev_t *g, size_t n, size_t k, const ck_cap_t *cap)
{
    int count = 0;
    for (size_t j = 0; j < n; j++)
        count += g[j].type == S_CALL && g[j].t <= g[k].t && g[j].t > g[k].t - cap->span_ms;
    if (count <= cap->max)
        return;
    ck_attempt_t *a = &self->attempts[g[k].att];
    ck_violation (self, "cap", cap->rule, a->id, s_lead_name (self, a), s_camp_name (self, a),
                  g[k].t, "call %d in %lld days (%s allows %d per %lld h, %s) to %s of tenant %s",
                  count, (long long) (cap->span_ms / CK_DAY_MS), cap->rule, cap->max,
                  (long long) (cap->span_ms / CK_HOUR_MS), cap->source, s_number (self, a),
                  a->tenant ? a->tenant : "");
}

static bool
s_same_local_day (pl_check_t *self, const char *zone, int64_t x, int64_t y)
{
    struct tm a, b;
    if (ck_tz_local (self->tz, zone, x, &a) != 0 || ck_tz_local (self->tz, zone, y, &b) != 0)
        return false;
    return a.tm_year == b.tm_year && a.tm_yday == b.tm_yday;
}

static void
s_cool_off (pl_check_t *self, const s_ev_t *g, size_t n, size_t k, const ck_profile_t *p)
{
    ck_attempt_t *a = &self->attempts[g[k].att];
    for (size_t j = 0; j < n; j++) {
        if (g[j].att == g[k].att || g[j].t >= g[k].t || g[j].type == S_CALL)
            continue;
        int64_t gap = g[k].t - g[j].t;
        const char *rule = NULL, *what = NULL;
        if (g[j].type == S_REFUSAL && p->refusal_days && gap < p->refusal_days * CK_DAY_MS
            && !(s_b2b (self, a) & CK_B2B_REFUSAL))
            rule = p->refusal_rule, what = "a refusal";
        else if (g[j].type == S_CONVERSATION && p->conversation_days
                 && gap < p->conversation_days * CK_DAY_MS)
            rule = p->conversation_rule, what = "a conversation about the debt";
        else if (g[j].type == S_ABANDONED && p->abandoned_hours
                 && gap < p->abandoned_hours * CK_HOUR_MS)
            rule = p->abandon_retry_rule, what = "an abandoned call";
        else if (g[j].type == S_MACHINE && p->machine_same_day
                 && s_same_local_day (self, p->abandon_zone ? p->abandon_zone : "UTC", g[j].t, g[k].t))
            rule = p->abandon_retry_rule, what = "an answering machine the same day";
        if (!rule)
            continue;
        char when[32];
        ck_iso (g[j].t, when, sizeof when);
        ck_violation (self, "cool_off", rule, a->id, s_lead_name (self, a), s_camp_name (self, a),
                      g[k].t, "called %lld min after %s at %s (attempt %s)",
                      (long long) (gap / 60000), what, when, self->attempts[g[j].att].id);
    }
}

static void
s_check_caps (pl_check_t *self)
{
    size_t n;
    s_ev_t *ev = s_events (self, &n);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && ev[j].key == ev[i].key)
            j++;
        bool by_debt = ev[i].key[0] == 'D';
        for (size_t k = i; k < j; k++) {
            ck_attempt_t *a = &self->attempts[ev[k].att];
            if (ev[k].type != S_CALL || a->campaign < 0)
                continue;
            const ck_profile_t *p = self->campaigns[a->campaign].profile;
            if (p->cap.max && p->cap.by_debt == by_debt && !(s_b2b (self, a) & CK_B2B_CAP))
                s_cap (self, ev + i, j - i, k - i, &p->cap);
            if (!by_debt && s_florida (self, a, p))
                s_cap (self, ev + i, j - i, k - i, &ck_florida_cap);
            s_cool_off (self, ev + i, j - i, k - i, p);
        }
        i = j;
    }
    free (ev);
}

/* ---- 3. lists, opt-outs, consents ----------------------------------------------------------- */

static bool
s_consent (pl_check_t *self, const ck_attempt_t *a, int64_t t)
{
    ck_lead_t *l = s_lead (self, a);
    const char *num = s_number (self, a), *tenant = a->tenant ? a->tenant : "";
    int64_t revoked_all = 0;   /* the latest revocation record in force at t */
    for (int64_t i = ck_map_get (&self->crec_head, num); i >= 0; i = self->crecs[i].next)
        if (self->crecs[i].revoke_all_before && self->crecs[i].revoke_all_before <= t
            && strcmp (self->crecs[i].tenant, tenant) == 0
            && self->crecs[i].revoke_all_before > revoked_all)
            revoked_all = self->crecs[i].revoke_all_before;
    for (int i = 0; l && i < l->n_consents; i++) {
        const ck_consent_t *k = &l->consents[i];
        if (k->captured && k->captured <= t && (!k->revoked || t < k->revoked)
            && (!l->revoked_at || t < l->revoked_at) && k->captured > revoked_all)
            return true;
        /* A consent later re-recorded still needs its own capture after a revocation. */
    }
    for (int64_t i = ck_map_get (&self->crec_head, num); i >= 0; i = self->crecs[i].next) {
        const ck_crec_t *k = &self->crecs[i];
        if (k->captured && k->captured <= t && (!k->revoked || t < k->revoked)
            && strcmp (k->tenant, tenant) == 0 && k->captured > revoked_all
            && !(l && l->revoked_at && t >= l->revoked_at && k->captured < l->revoked_at))
            return true;
    }
    return false;
}

static const char *
s_list_rule (const char *list)
{
    return strcmp (list, "us-dnc") == 0    ? "us.dnc-national"
           : strcmp (list, "bloctel") == 0 ? "fr.bloctel"
           : strcmp (list, "ctps") == 0    ? "uk.ctps"
                                           : "uk.tps";
}

static void
s_check_lists (pl_check_t *self, ck_attempt_t *a)
{
    if (a->campaign < 0 || !a->t)
        return;
    ck_campaign_t *c = &self->campaigns[a->campaign];
    const ck_profile_t *p = c->profile;
    const char *num = s_number (self, a), *lead = s_lead_name (self, a);
    unsigned b2b = s_b2b (self, a);
    for (int i = 0; i < self->n_lists; i++) {
        ck_list_t *l = &self->lists[i];
        if (ck_map_get (&l->numbers, num) < 0)
            continue;
        bool binds = false;
        for (int k = 0; k < 3 && p->lists[k] && !(b2b & CK_B2B_LISTS); k++)
            binds |= strcmp (p->lists[k], l->name) == 0;
        if (!binds) {
            c->dnc_informational++;
            continue;
        }
        if (p->lists_exempt_by_consent && s_consent (self, a, a->t))
            continue;
        char taken[16];
        ck_iso (l->taken, taken, sizeof taken);
        taken[10] = '\0';
        ck_violation (self, "listed", s_list_rule (l->name), a->id, lead, c->name, a->t,
                      "%s is on the %s copy of %s", num, l->name, taken);
    }
    for (int i = 0; i < self->n_lists; i++) {
        ck_list_t *l = &self->lists[i];
        int age = ck_list_max_age_days (l->name);
        bool binds = false;
        for (int k = 0; k < 3 && p->lists[k] && !(b2b & CK_B2B_LISTS); k++)
            binds |= strcmp (p->lists[k], l->name) == 0;
        if (binds && age && a->t >= l->taken + (int64_t) (age + 1) * CK_DAY_MS + CK_DAY_MS)
            ck_violation (self, "list_stale", s_list_rule (l->name), a->id, lead, c->name, a->t,
                          "the %s copy in the bundle is over %d days old at the call", l->name, age);
    }
    ck_lead_t *ld = s_lead (self, a);
    for (int64_t i = ck_map_get (&self->optout_head, num); i >= 0; i = self->optouts[i].next) {
        const ck_optout_t *o = &self->optouts[i];
        bool who = strcmp (o->scope, "all") == 0 || !*o->tenant
                   || (a->tenant && strcmp (o->tenant, a->tenant) == 0);
        bool debt = !*o->debt || (ld && strcmp (o->debt, ld->debt) == 0);
        if (who && debt && o->from <= a->t && (!o->until || a->t < o->until)) {
            char when[32];
            ck_iso (o->from, when, sizeof when);
            ck_violation (self, "opted_out", "internal-dnc", a->id, lead, c->name, a->t,
                          "%s opted out for tenant %s%s%s from %s", num,
                          *o->tenant ? o->tenant : "(all)", *o->debt ? ", debt " : "", o->debt,
                          when);
            break;
        }
    }
    if (p->consent_rule && !(b2b & CK_B2B_CONSENT)) {
        struct tm tm;
        char day[48];
        if (ck_tz_local (self->tz, "Europe/Paris", a->t, &tm) == 0) {
            snprintf (day, sizeof day, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
            if (strcmp (day, p->consent_from) >= 0 && !s_consent (self, a, a->t))
                ck_violation (self, "no_consent", p->consent_rule, a->id, lead, c->name, a->t,
                              "no consent of %s to tenant %s in force at the call (opt-in since %s)",
                              num, a->tenant ? a->tenant : "", p->consent_from);
        }
    }
}

/* ---- 5. abandon rates ----------------------------------------------------------------------- */

typedef struct {
    int64_t t;                  /* placed */
    int64_t seen;               /* the outcome's record: when the dialer knew it */
    char r;                     /* 'a' answered, 'x' abandoned, 'm' machine */
} s_out_t;

static int
s_out_cmp (const void *x, const void *y)
{
    const s_out_t *a = x, *b = y;
    return a->t < b->t ? -1 : a->t > b->t;
}

static void
s_tally (const s_out_t *o, size_t n, int64_t from, int64_t to, int64_t seen_by, int64_t *live,
         int64_t *ab, int64_t *mach)
{
    *live = *ab = *mach = 0;
    for (size_t i = 0; i < n; i++)
        if (o[i].t >= from && o[i].t < to && o[i].seen <= seen_by) {
            *live += o[i].r != 'm';
            *ab += o[i].r == 'x';
            *mach += o[i].r == 'm';
        }
}

static const ck_pacing_t *
s_report_for (const ck_campaign_t *c, int64_t from, int64_t to)
{
    const ck_pacing_t *best = NULL;
    for (size_t i = 0; i < c->n_pacing; i++)
        if (c->pacing[i].from >= from - 1000 && c->pacing[i].from <= from + 1000
            && c->pacing[i].to <= to + 1000 && (!best || c->pacing[i].to > best->to))
            best = &c->pacing[i];
    return best;
}

static void
s_period (pl_check_t *self, ck_campaign_t *c, const s_out_t *o, size_t n, int64_t from,
          int64_t to, bool day)
{
    int64_t live, ab, mach, est = 0;
    s_tally (o, n, from, to, INT64_MAX, &live, &ab, &mach);
    if (!live && !mach)
        return;
    const ck_pacing_t *rep = s_report_for (c, from, to);
    if (day)
        est = rep ? rep->estimate : c->amd ? (mach * 2 + 99) / 100 : 0;
    int64_t rate = live + est ? (ab + est) * 1000000 / (live + est) : 0;
    char f[32], t[32];
    ck_iso (from, f, sizeof f);
    ck_iso (to, t, sizeof t);
    json_t *p = json_pack ("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:i}", "from", f, "to", t,
                           "live_answered", (json_int_t) live, "abandoned", (json_int_t) ab,
                           "machine_detected", (json_int_t) mach, "amd_false_positive_estimate",
                           (json_int_t) est, "rate_ppm", (json_int_t) rate, "budget_ppm",
                           c->budget_ppm);
    if (rep)
        json_object_set_new (p, "dialer", json_pack ("{s:I, s:I, s:I, s:I, s:I}", "live_answered",
            (json_int_t) rep->live, "abandoned", (json_int_t) rep->abandoned, "machine_detected",
            (json_int_t) rep->machine, "amd_false_positive_estimate", (json_int_t) rep->estimate,
            "rate_ppm", (json_int_t) rep->rate_ppm));
    json_array_append_new (c->abandon, p);
    if (rate > c->budget_ppm)
        ck_violation (self, "abandon_rate", c->profile->abandon_rule, "", "", c->name, to,
                      "%lld abandoned%s of %lld live-answered%s = %.2f%% in [%s, %s), budget %.2f%%",
                      (long long) ab, est ? " (+ AMD estimate)" : "", (long long) live,
                      est ? " (+ AMD estimate)" : "", rate / 10000.0, f, t, c->budget_ppm / 10000.0);
}

static void
s_check_abandon (pl_check_t *self, ck_campaign_t *c)
{
    size_t n = 0, cap = 0;
    s_out_t *o = NULL;
    int ci = (int) (c - self->campaigns);
    for (size_t i = 0; i < self->n_attempts; i++) {
        const ck_attempt_t *a = &self->attempts[i];
        if (a->campaign != ci || !a->result || !a->outcome_t)
            continue;
        char r = strcmp (a->result, "answered") == 0 ? 'a' : strcmp (a->result, "abandoned") == 0
                 ? 'x' : strcmp (a->result, "voicemail") == 0 ? 'm' : 0;
        if (r && ck_grow (&o, &cap, n, sizeof *o) == 0)
            o[n++] = (s_out_t) {a->outcome_t, a->outcome_seen ? a->outcome_seen : a->outcome_t, r};
    }
    if (n)
        qsort (o, n, sizeof *o, s_out_cmp);
    const ck_profile_t *p = c->profile;
    if (n && p->abandon_period == CK_PERIOD_RUN)
        s_period (self, c, o, n, o[0].t, o[n - 1].t + 1, false);
    else if (n && p->abandon_period == CK_PERIOD_ROLLING_30D)
        for (int64_t end = (o[0].t / CK_DAY_MS + 1) * CK_DAY_MS;; end += CK_DAY_MS) {
            s_period (self, c, o, n, end - 30 * CK_DAY_MS, end, false);
            if (end > o[n - 1].t)
                break;
        }
    else if (n)
        for (size_t i = 0; i < n;) {
            struct tm tm;
            if (ck_tz_local (self->tz, p->abandon_zone, o[i].t, &tm) != 0)
                break;
            int64_t start = o[i].t - ((int64_t) tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) * 1000
                            - o[i].t % 1000;
            int64_t end = start + 26 * CK_HOUR_MS;      /* the next local midnight, DST or not */
            if (ck_tz_local (self->tz, p->abandon_zone, end, &tm) == 0)
                end -= ((int64_t) tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) * 1000 + end % 1000;
            s_period (self, c, o, n, start, end, true);
            while (i < n && o[i].t < end)
                i++;
        }
    /* The dialer's own figures, period by period: a report counts the calls of its period whose
     * outcome the dialer had recorded when it reported (a call still ringing is not known yet). */
    for (size_t i = 0; i < c->n_pacing; i++) {
        const ck_pacing_t *r = &c->pacing[i];
        int64_t live, ab, mach;
        s_tally (o, n, r->from, r->to, r->reported ? r->reported : INT64_MAX, &live, &ab, &mach);
        if (live != r->live || ab != r->abandoned || mach != r->machine)
            ck_violation (self, "pacing_mismatch", p->abandon_rule, "", "", c->name, r->to,
                          "pacing.report of [%lld, %lld) says %lld live, %lld abandoned, %lld "
                          "machine; the call.outcome records say %lld, %lld, %lld",
                          (long long) r->from, (long long) r->to, (long long) r->live,
                          (long long) r->abandoned, (long long) r->machine, (long long) live,
                          (long long) ab, (long long) mach);
    }
    free (o);
}

/* ---- 6. every lead ends --------------------------------------------------------------------- */

static void
s_check_leads (pl_check_t *self)
{
    for (size_t i = 0; i < self->n_attempts; i++) {
        ck_attempt_t *a = &self->attempts[i];
        ck_lead_t *l = s_lead (self, a);
        if (!l || !a->t)
            continue;
        if (a->t > l->last_attempt)
            l->last_attempt = a->t;
        /* A call after the lead finished is one only a broken promise's reopening allows: after
         * the reopening, and before the lead finished again. */
        bool reopened = l->reopened_at && l->reopened_at >= l->finished_at && a->t >= l->reopened_at
                        && (l->refinished_at <= l->reopened_at || a->t <= l->refinished_at);
        if (l->finished && a->t > l->finished_at && !reopened)
            ck_violation (self, "call_after_finished", "lead.finished", a->id, l->ext,
                          s_camp_name (self, a), a->t, "lead %s was finished before this call",
                          l->ext);
    }
    for (size_t i = 0; i < self->n_leads; i++) {
        ck_lead_t *l = &self->leads[i];
        if (l->campaign < 0)
            continue;
        ck_campaign_t *c = &self->campaigns[l->campaign];
        if (l->rejected)
            c->rejected++;
        else if (l->duplicate && !l->accepted)
            c->duplicate++;
        else if (!l->accepted && (c->rejected_unrecorded > 0 || self->rejected_unrecorded > 0)) {
            /* One of the rejections a lead.rejected_summary counts: it has no lead id, so it
             * cannot have been called. */
            if (c->rejected_unrecorded > 0)
                c->rejected_unrecorded--;
            else
                self->rejected_unrecorded--;
            c->rejected++;
            c->rejected_counted++;
        } else if (!l->accepted) {
            c->lost++;
            ck_violation (self, "lead_lost", "lead", "", l->ext, c->name, 0,
                          "no lead.accepted, lead.rejected or lead.duplicate for external id %s",
                          l->ext);
        } else {
            c->accepted++;
            if (l->finished && (!l->reopened_at || l->refinished_at >= l->reopened_at))
                c->finished++;
            else if (l->suppressed || (l->scrub_deny && !l->scrub_allow && !l->last_attempt))
                c->suppressed++;
            else if (l->scheduled_at && l->scheduled_at >= l->last_attempt)
                c->scheduled++;
            else {
                c->open++;
                char last[32] = "never";
                if (l->last_attempt)
                    ck_iso (l->last_attempt, last, sizeof last);
                ck_violation (self, "lead_no_end", "lead", "", l->ext, c->name, l->last_attempt,
                              "lead %s accepted, last call %s, and no lead.finished, no "
                              "dial.scheduled after it, no suppression", l->lead_id ? l->lead_id : "",
                              last);
            }
        }
    }
}

/* A summary's own arithmetic, and the lead.rejected records it says its request wrote. */
static void
s_check_summaries (pl_check_t *self)
{
    for (size_t i = 0; i < self->n_summaries; i++) {
        const ck_summary_t *s = &self->summaries[i];
        int64_t have = ck_map_get (&self->rejected_by_trace, s->trace);
        if (have < 0)
            have = 0;
        if (s->recorded + s->not_recorded != s->rejected || have != s->recorded)
            ck_violation (self, "rejected_summary", "lead.rejected_summary", "", "", s->campaign, s->at,
                          "trace %s: %lld rejected = %lld recorded + %lld not recorded, and %lld "
                          "lead.rejected records carry the trace", s->trace, (long long) s->rejected,
                          (long long) s->recorded, (long long) s->not_recorded, (long long) have);
    }
}

void
ck_verify (pl_check_t *self)
{
    /* A do-not-call request made on a call is an opt-out from that instant. */
    for (size_t i = 0; i < self->n_attempts; i++) {
        ck_attempt_t *a = &self->attempts[i];
        a->t = a->requested_at ? a->requested_at : a->placed_at;
        if (a->lead < 0 && a->lead_id)
            a->lead = ck_map_get (&self->lead_by_id, a->lead_id);
        if (!a->dnc || !a->disp_at
            || ck_grow (&self->optouts, &self->cap_optouts, self->n_optouts, sizeof *self->optouts))
            continue;
        const char *num = s_number (self, a);
        self->optouts[self->n_optouts] = (ck_optout_t) {
            ck_intern (self, num), a->tenant ? a->tenant : "", "", "tenant", a->disp_at, 0,
            ck_map_get (&self->optout_head, num)};
        ck_map_put (&self->optout_head, num, (int64_t) self->n_optouts++);
    }
    for (size_t i = 0; i < self->n_attempts; i++) {
        s_check_ids (self, &self->attempts[i]);
        s_check_windows (self, &self->attempts[i]);
        s_check_lists (self, &self->attempts[i]);
    }
    s_check_caps (self);
    for (int i = 0; i < self->n_campaigns; i++) {
        ck_campaign_t *c = &self->campaigns[i];
        s_check_abandon (self, c);
        for (size_t k = 0; k < self->n_attempts; k++)
            if (self->attempts[k].campaign == i && self->attempts[k].result)
                ck_count (&c->outcomes, self->attempts[k].result);
    }
    s_check_summaries (self);
    s_check_leads (self);
    ck_promise_verify (self);
}
