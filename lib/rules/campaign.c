/*  campaign.c — a campaign: its profile, its own settings, and the narrowing it applies.
 *
 *  A campaign runs under one base profile (fr-cc, us-dc…); the overlays that stack on that
 *  profile (us-fl, us-ok…) come with it and apply to leads of their regions. The campaign may
 *  tighten any per-call rule — shorter hours, fewer days, lower caps over longer windows, more
 *  suppression lists, younger lists, longer cool-downs, fewer exemptions — and add restrictions
 *  of its own in rules named campaign.<name>. It may never loosen one: every change is compared
 *  with the profile *semantically*, on the compiled clauses (a window must lie inside the
 *  profile's windows of that weekday, a cap must imply the profile's cap…), and refused with a
 *  reason if it does not.
 *
 *  Each accepted change recompiles the clause list that pl_rules_decide() walks: exemptions
 *  first (others refer to them), then the rules in profile order, overlays after their base,
 *  campaign rules last, and us.reassigned-like clauses at the very end because they look at
 *  whether the call relied on consent.
 */
#include "rules_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_fail (pl_rules_campaign_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (c->err, sizeof c->err, fmt, ap);
    va_end (ap);
}

static void
s_over_free (pl__override_t *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free (o[i].rule);
        for (size_t k = 0; k < o[i].n; k++) {
            free (o[i].p[k].key);
            free (o[i].p[k].value);
        }
        free (o[i].p);
    }
    free (o);
}

static pl__override_t *
s_over_copy (const pl__override_t *o, size_t n)
{
    pl__override_t *c = calloc (n ? n : 1, sizeof *c);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        c[i].rule = strdup (o[i].rule);
        c[i].p = calloc (o[i].n ? o[i].n : 1, sizeof *c[i].p);
        c[i].cap = o[i].n;
        if (!c[i].rule || !c[i].p) {
            s_over_free (c, i + 1);
            return NULL;
        }
        for (size_t k = 0; k < o[i].n; k++) {
            c[i].p[k].key = strdup (o[i].p[k].key);
            c[i].p[k].value = strdup (o[i].p[k].value);
            c[i].p[k].line = o[i].p[k].line;
            c[i].n++;
            if (!c[i].p[k].key || !c[i].p[k].value) {
                s_over_free (c, i + 1);
                return NULL;
            }
        }
    }
    return c;
}

pl_rules_campaign_t *
pl_rules_campaign_new (const pl_rules_profiles_t *profiles)
{
    if (!profiles)
        return NULL;
    pl_rules_campaign_t *self = calloc (1, sizeof *self);
    if (self) {
        self->ps = profiles;
        self->callees = PL_RULES_CALLEE_BIT (PL_RULES_CALLEE_CONSUMER);
    }
    return self;
}

void
pl_rules_campaign_destroy (pl_rules_campaign_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pl_rules_campaign_t *self = *self_p;
    s_over_free (self->over, self->n_over);
    free (self->clauses);
    pl__arena_free (&self->arena);
    free (self);
    *self_p = NULL;
}

const char *
pl_rules_campaign_errstr (const pl_rules_campaign_t *self)
{
    return self ? self->err : "no campaign";
}

const pl_rules_profile_t *
pl_rules_campaign_profile (const pl_rules_campaign_t *self)
{
    return self ? self->profile : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Rules of the campaign's profile and overlays                                                 */

static const pl_rules_rule_t *
s_profile_rule (const pl_rules_campaign_t *c, const char *id, const pl_rules_profile_t **owner)
{
    if (!c->profile)
        return NULL;
    const pl_rules_rule_t *r = pl_rules_profile_rule (c->profile, id);
    if (r) {
        if (owner)
            *owner = c->profile;
        return r;
    }
    for (size_t i = 0; i < c->ps->n_profiles; i++) {
        const pl_rules_profile_t *q = c->ps->profiles[i];
        if (q->base == c->profile && (r = pl_rules_profile_rule (q, id))) {
            if (owner)
                *owner = q;
            return r;
        }
    }
    return NULL;
}

static const pl__override_t *
s_find_over (const pl__override_t *o, size_t n, const char *rule)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (o[i].rule, rule) == 0)
            return &o[i];
    return NULL;
}

static bool
s_over_has (const pl__override_t *o, const char *key)
{
    for (size_t i = 0; o && i < o->n; i++)
        if (strcmp (o->p[i].key, key) == 0)
            return true;
    return false;
}

/* Profile params with the overridden keys replaced. Returns a malloc'd array of borrowed
 * entries. */
static pl__param_t *
s_merge (const pl_rules_rule_t *r, const pl__override_t *o, size_t *n_out)
{
    size_t n = (r ? r->n : 0) + (o ? o->n : 0);
    pl__param_t *m = calloc (n ? n : 1, sizeof *m);
    if (!m)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; r && i < r->n; i++)
        if (!s_over_has (o, r->p[i].key))
            m[k++] = r->p[i];
    for (size_t i = 0; o && i < o->n; i++)
        m[k++] = o->p[i];
    *n_out = k;
    return m;
}

/* ------------------------------------------------------------------------------------------ */
/* Narrowing: is clause set C (campaign) at least as strict as P (profile)?                    */

static void
s_hm (int32_t s, char *out, size_t len)
{
    if (s % 60)
        snprintf (out, len, "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    else
        snprintf (out, len, "%02d:%02d", s / 3600, (s / 60) % 60);
}

/* Says in why how the campaign loosens the profile; returns -1, the refusal. */
static int __attribute__ ((format (printf, 3, 4)))
s_refuse (char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (why, len, fmt, ap);
    va_end (ap);
    return -1;
}

static const char *const s_dayname[] = { "Monday", "Tuesday", "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday" };

static int
s_narrow_calendar (const pl__clause_t *p, const pl__clause_t *c, char *why, size_t len)
{
    for (int d = 0; d < 7; d++) {
        /* Merge touching profile windows, then every campaign window must fit in one. */
        pl__win_t m[PL__MAXWIN];
        int nm = 0;
        for (int i = 0; i < p->u.cal.nwin[d]; i++) {
            if (nm && m[nm - 1].hi == p->u.cal.win[d][i].lo)
                m[nm - 1].hi = p->u.cal.win[d][i].hi;
            else
                m[nm++] = p->u.cal.win[d][i];
        }
        for (int i = 0; i < c->u.cal.nwin[d]; i++) {
            pl__win_t w = c->u.cal.win[d][i];
            bool inside = false;
            for (int k = 0; k < nm && !inside; k++)
                inside = w.lo >= m[k].lo && w.hi <= m[k].hi;
            if (!inside) {
                char a[16], b[16];
                s_hm (w.lo, a, sizeof a);
                s_hm (w.hi, b, sizeof b);
                return s_refuse (why, len, "%s-%s on %s is not inside the profile's %s (%s)", a,
                                 b, s_dayname[d], nm ? "windows" : "days", p->value);
            }
        }
    }
    for (int i = 0; i < p->u.cal.ncal; i++) {
        bool kept = false;
        for (int k = 0; k < c->u.cal.ncal && !kept; k++)
            kept = c->u.cal.cal[k] == p->u.cal.cal[i];
        if (!kept)
            return s_refuse (why, len, "drops the holiday calendar '%s'", p->u.cal.cal[i]->id);
    }
    return 0;
}

static bool
s_cap_implies (const pl__clause_t *c, const pl__clause_t *p)
{
    if (c->u.cap.is_after != p->u.cap.is_after)
        return false;
    if ((c->u.cap.scope & ~p->u.cap.scope) != 0)
        return false;           /* counting fewer calls */
    if (!c->u.cap.is_after) {
        if (c->u.cap.events != 0 && c->u.cap.events != p->u.cap.events)
            return false;
        return c->u.cap.max <= p->u.cap.max && c->u.cap.window_ms >= p->u.cap.window_ms;
    }
    if (c->u.cap.events != p->u.cap.events)
        return false;
    if (p->u.cap.same_day)
        return c->u.cap.same_day || c->u.cap.window_ms >= 26 * 3600 * 1000LL;
    return !c->u.cap.same_day && c->u.cap.window_ms >= p->u.cap.window_ms;
}

/* Whether each of the ns names in `small` is among the nb in `big` (with prefix: starts with
 * one of them); the first that is not in *missing. Names are fixed-width arrays, `width`
 * bytes apart. */
static bool
s_covers (const void *big, size_t nb, const void *small, size_t ns, size_t width, bool prefix,
          const char **missing)
{
    for (size_t i = 0; i < ns; i++) {
        const char *name = (const char *) small + i * width;
        bool found = false;
        for (size_t k = 0; k < nb && !found; k++) {
            const char *b = (const char *) big + k * width;
            found = prefix ? strncmp (name, b, strlen (b)) == 0 : strcmp (name, b) == 0;
        }
        if (!found) {
            *missing = name;
            return false;
        }
    }
    return true;
}

/* Longest and shortest real length of a duration, in seconds. */
static int64_t
s_dur_max_s (const pl__dur_t *d)
{
    return d->unit == 's' ? d->n : d->unit == 'M' ? d->n * 31 * 86400 : d->n * 3 * 86400;
}

static int64_t
s_dur_min_s (const pl__dur_t *d)
{
    return d->unit == 's' ? d->n : d->unit == 'M' ? d->n * 28 * 86400 : d->n * 86400;
}

/* c is certainly no longer than p (months vary: compare like units, else worst cases). */
static bool
s_dur_not_longer (const pl__dur_t *c, const pl__dur_t *p)
{
    if (c->unit == p->unit)
        return c->n <= p->n;
    return s_dur_max_s (c) <= s_dur_min_s (p);
}

static int
s_narrow_one (const pl__clause_t *p, const pl__clause_t *c, char *why, size_t len)
{
    const char *missing = NULL;
    switch (p->kind) {
    case PL__CL_CALENDAR:
        return s_narrow_calendar (p, c, why, len);
    case PL__CL_LIST:
        if (!s_covers (c->u.list.names, c->u.list.n, p->u.list.names, p->u.list.n,
                       sizeof *p->u.list.names, false, &missing))
            return s_refuse (why, len, "drops the list '%s'", missing);
        if (p->u.list.max_age_ms
            && (!c->u.list.max_age_ms || c->u.list.max_age_ms > p->u.list.max_age_ms))
            return s_refuse (why, len, "accepts lists older than the profile's maximum age");
        if (p->u.list.required && !c->u.list.required)
            return s_refuse (why, len, "makes a required list optional");
        return 0;
    case PL__CL_CONSENT:
        if (c->u.consent.mode != p->u.consent.mode)
            return s_refuse (why, len, "changes the kind of consent required");
        return 0;
    case PL__CL_CLI:
        if (p->u.cli.valid && !c->u.cli.valid)
            return s_refuse (why, len, "no longer requires a valid caller id");
        if (p->u.cli.nallow) {
            if (!c->u.cli.nallow)
                return s_refuse (why, len, "drops the allowed caller-id ranges");
            if (!s_covers (p->u.cli.allow, p->u.cli.nallow, c->u.cli.allow, c->u.cli.nallow,
                           sizeof *c->u.cli.allow, true, &missing))
                return s_refuse (why, len, "allows %s, outside the profile's ranges", missing);
        }
        if (!s_covers (c->u.cli.forbid, c->u.cli.nforbid, p->u.cli.forbid, p->u.cli.nforbid,
                       sizeof *p->u.cli.forbid, true, &missing))
            return s_refuse (why, len, "no longer forbids %s", missing);
        return 0;
    case PL__CL_SECTOR:
        if (!s_covers (c->u.sector.names, c->u.sector.n, p->u.sector.names, p->u.sector.n,
                       sizeof *p->u.sector.names, false, &missing))
            return s_refuse (why, len, "no longer bans %s", missing);
        return 0;
    case PL__CL_EXEMPTION:
        if (c->u.ex.type != p->u.ex.type)
            return s_refuse (why, len, "changes the kind of exemption");
        if (p->u.ex.type == PL__EXT_EBR
            && (!s_dur_not_longer (&c->u.ex.purchase, &p->u.ex.purchase)
                || !s_dur_not_longer (&c->u.ex.inquiry, &p->u.ex.inquiry)))
            return s_refuse (why, len, "lengthens the exemption");
        if (!s_covers (c->u.ex.over, c->u.ex.n_over, p->u.ex.over, p->u.ex.n_over,
                       sizeof *p->u.ex.over, false, &missing))
            return s_refuse (why, len, "is no longer overridden by '%s'", missing);
        return 0;
    default:
        return 0;
    }
}

/* Every clause of P is matched by a clause of C at least as strict. */
static int
s_narrows (const pl__clause_t *P, size_t np, const pl__clause_t *C, size_t nc, char *why,
           size_t len)
{
    for (size_t i = 0; i < np; i++) {
        const pl__clause_t *p = &P[i];
        /* Exemptions may only be dropped. */
        for (size_t ci = 0; ci < nc; ci++) {
            if (C[ci].kind != p->kind || C[ci].n_exempt == 0)
                continue;
            const char *added;
            if (!s_covers (p->exempt_names, p->n_exempt, C[ci].exempt_names, C[ci].n_exempt,
                           sizeof *p->exempt_names, false, &added))
                return s_refuse (why, len, "adds the exemption %s", added);
        }
        if (p->kind == PL__CL_CAP) {
            bool ok = false;
            for (size_t ci = 0; ci < nc && !ok; ci++)
                ok = C[ci].kind == PL__CL_CAP && s_cap_implies (&C[ci], p);
            if (!ok)
                return s_refuse (why, len, "nothing in it is at least as strict as '%s %s'",
                                 p->key, p->value);
            continue;
        }
        const pl__clause_t *c = NULL;
        for (size_t ci = 0; ci < nc && !c; ci++)
            if (C[ci].kind == p->kind)
                c = &C[ci];
        if (!c)
            return s_refuse (why, len, "drops the %s check", p->key);
        if (s_narrow_one (p, c, why, len) != 0)
            return -1;
    }
    return 0;
}

/* Value-only keys: numbers that may only move one way. */
static int
s_narrow_info (const char *key, const char *pv, const char *cv, char *why, size_t len)
{
    pl__dur_t a, b;
    if (strcmp (key, "max-rate") == 0) {
        double x = strtod (pv, NULL), y = strtod (cv, NULL);
        if (y > x)
            return s_refuse (why, len, "%s is above the profile's %s", cv, pv);
        return 0;
    }
    if (strcmp (key, "agent-within") == 0 || strcmp (key, "honour-within") == 0
        || strcmp (key, "ring-at-least") == 0 || strcmp (key, "retain") == 0) {
        pl__parse_duration (pv, &a);
        pl__parse_duration (cv, &b);
        bool lower_is_stricter = key[0] == 'a' || key[0] == 'h';
        bool ok = a.unit == b.unit && (lower_is_stricter ? b.n <= a.n : b.n >= a.n);
        if (!ok)
            return s_refuse (why, len, "%s is %s than the profile's %s", cv,
                             lower_is_stricter ? "longer (or not comparable)" : "shorter (or not "
                             "comparable)", pv);
        return 0;
    }
    if (strcmp (key, "message") == 0) {
        if (strcmp (pv, "required") == 0 && strcmp (cv, "required") != 0)
            return s_refuse (why, len, "the message is required");
        return 0;
    }
    if (strcmp (pv, cv) != 0)
        return s_refuse (why, len, "a campaign cannot change it");
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Compile                                                                                      */

static int
s_kind_rank (uint8_t kind)
{
    return kind == PL__CL_EXEMPTION ? 0 : kind == PL__CL_REASSIGNED ? 2 : 1;
}

/* Compiles profile + overlays + overrides into *out. 0, or -1 with c->err. */
static int
s_compile (pl_rules_campaign_t *c, const pl__override_t *over, size_t n_over,
           pl__clause_t **out, size_t *n_out, pl__arena_t *arena, const char *origin)
{
    pl__clause_t *cl = NULL;
    size_t n = 0, cap = 0;
    pl__err_t e = { 0 };
    int rc = 0;
    const char *cur = "";
    const pl_rules_profile_t *chain[64];
    size_t nchain = 0;
    chain[nchain++] = c->profile;
    for (size_t i = 0; i < c->ps->n_profiles && nchain < 64; i++)
        if (c->ps->profiles[i]->base == c->profile)
            chain[nchain++] = c->ps->profiles[i];
    for (size_t k = 0; k < nchain && rc == 0; k++) {
        const pl_rules_profile_t *q = chain[k];
        for (size_t i = 0; i < q->n_rules && rc == 0; i++) {
            const pl_rules_rule_t *r = q->rules[i];
            if (!r->per_call)
                continue;
            cur = r->id;
            size_t nm = 0;
            pl__param_t *m = s_merge (r, s_find_over (over, n_over, r->id), &nm);
            if (!m) {
                rc = -1;
                snprintf (e.msg, sizeof e.msg, "out of memory");
                break;
            }
            rc = pl__rule_compile (c->ps, r->id, r->line, m, nm, q->regions_packed,
                                   q->n_regions, arena, &cl, &n, &cap, &e);
            free (m);
        }
    }
    for (size_t i = 0; i < n_over && rc == 0; i++) {
        if (strncmp (over[i].rule, "campaign.", 9) != 0)
            continue;
        cur = over[i].rule;
        size_t np = over[i].n;
        pl__param_t *p = calloc (np + 1, sizeof *p);
        if (!p) {
            snprintf (e.msg, sizeof e.msg, "out of memory");
            rc = -1;
            break;
        }
        memcpy (p, over[i].p, np * sizeof *p);
        if (!s_over_has (&over[i], "source"))
            p[np++] = (pl__param_t) { .key = "source", .value = "campaign setting", .line = 0 };
        rc = pl__rule_compile (c->ps, over[i].rule, 0, p, np, NULL, 0, arena, &cl, &n, &cap, &e);
        free (p);
    }
    if (rc == 0 && n > PL_RULES_MAX_FIRED) {
        snprintf (e.msg, sizeof e.msg, "%zu clauses, more than %d", n, PL_RULES_MAX_FIRED);
        rc = -1;
    }
    if (rc == 0) {
        /* Stable order by rank: exemptions, checks, reassigned. */
        pl__clause_t *sorted = malloc ((n ? n : 1) * sizeof *sorted);
        if (!sorted) {
            snprintf (e.msg, sizeof e.msg, "out of memory");
            rc = -1;
        }
        else {
            size_t k = 0;
            for (int rank = 0; rank < 3; rank++)
                for (size_t i = 0; i < n; i++)
                    if (s_kind_rank (cl[i].kind) == rank)
                        sorted[k++] = cl[i];
            free (cl);
            cl = sorted;
            rc = pl__clauses_link (cl, n, &e);
        }
    }
    if (rc != 0) {
        if (*e.key)
            s_fail (c, "%s: rule %s, key '%s': %s", origin, cur, e.key, e.msg);
        else
            s_fail (c, "%s: %s", origin, e.msg);
        free (cl);
        return -1;
    }
    *out = cl;
    *n_out = n;
    return 0;
}

/* Checks the override of one rule against the profile. 0 or -1 with c->err. */
static int
s_check_rule (pl_rules_campaign_t *c, const pl__override_t *o, const char *origin)
{
    const pl_rules_profile_t *owner = NULL;
    const pl_rules_rule_t *r = s_profile_rule (c, o->rule, &owner);
    char why[PL__ERRLEN];
    bool is_new = strncmp (o->rule, "campaign.", 9) == 0;
    if (!r && !is_new) {
        s_fail (c, "%s: rule %s is not in profile %s or its overlays (new restrictions go in "
                "a rule named campaign.<name>)", origin, o->rule, c->profile->id);
        return -1;
    }
    for (size_t i = 0; i < o->n; i++) {
        const pl__param_t *q = &o->p[i];
        bool per_call = false;
        if (!pl__key_known (q->key, &per_call)) {
            s_fail (c, "%s:%d: rule %s, key '%s': unknown key", origin, q->line, o->rule,
                    q->key);
            return -1;
        }
        if (is_new) {
            /* Exemptions and callee rules lift checks: a campaign may not add one. */
            static const char *const banned[] = { "exemption", "purchase", "inquiry",
                                                  "overridden-by", "reassigned", "revoke",
                                                  "callee", "lifts", "except-sector" };
            bool bad = !per_call && strcmp (q->key, "source") != 0
                       && strcmp (q->key, "summary") != 0 && strcmp (q->key, "when") != 0
                       && strcmp (q->key, "exempt-by") != 0 && strcmp (q->key, "note") != 0;
            for (size_t k = 0; k < sizeof banned / sizeof banned[0]; k++)
                bad |= strcmp (q->key, banned[k]) == 0;
            if (bad) {
                s_fail (c, "%s:%d: rule %s, key '%s': a campaign rule may only add "
                        "restrictions", origin, q->line, o->rule, q->key);
                return -1;
            }
            continue;
        }
        static const char *const fixed[] = { "source", "summary", "status", "basis", "when",
                                             "from", "until", "note", "period", "report",
                                             "disconnect-min", "consent", "letter", "requests",
                                             "exemption", "reassigned", "revoke", "cli",
                                             "optout", "callee", "lifts", "except-sector" };
        for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
            if (strcmp (q->key, fixed[k]) == 0) {
                s_fail (c, "%s:%d: rule %s, key '%s': a campaign cannot change it", origin,
                        q->line, o->rule, q->key);
                return -1;
            }
        const char *pv = pl_rules_rule_param (r, q->key);
        bool group_ok = pv != NULL || strcmp (q->key, "exempt-by") == 0;
        if (!pv && strncmp (q->key, "hours", 5) == 0)
            group_ok = pl_rules_rule_param (r, "hours") || pl_rules_rule_param (r, "days");
        if (!pv && (strcmp (q->key, "cap") == 0 || strcmp (q->key, "after") == 0))
            group_ok = pl_rules_rule_param (r, "cap") || pl_rules_rule_param (r, "after");
        if (!pv && (strcmp (q->key, "max-age") == 0 || strcmp (q->key, "required") == 0))
            group_ok = pl_rules_rule_param (r, "list") != NULL;
        if (!pv && strcmp (q->key, "days") == 0)
            group_ok = pl_rules_rule_param (r, "hours") != NULL;
        if (!pv && strcmp (q->key, "holidays") == 0)
            group_ok = pl_rules_rule_param (r, "hours") || pl_rules_rule_param (r, "days");
        if (!pv && strncmp (q->key, "cli-", 4) == 0)
            group_ok = pl_rules_rule_param (r, "cli") || pl_rules_rule_param (r, "cli-allow")
                       || pl_rules_rule_param (r, "cli-forbid");
        if (!group_ok) {
            s_fail (c, "%s:%d: rule %s, key '%s': the profile's rule has no such check to "
                    "narrow (new restrictions go in a rule named campaign.<name>)", origin,
                    q->line, o->rule, q->key);
            return -1;
        }
        if (!per_call && strcmp (q->key, "exempt-by") != 0 && pv
            && s_narrow_info (q->key, pv, q->value, why, sizeof why) != 0) {
            s_fail (c, "%s:%d: rule %s, key '%s': would widen the profile: %s", origin, q->line,
                    o->rule, q->key, why);
            return -1;
        }
    }
    if (is_new || !r->per_call)
        return 0;

    /* Semantic comparison of the compiled clauses. */
    pl__arena_t arena = { 0 };
    pl__clause_t *P = NULL, *C = NULL;
    size_t np = 0, nc = 0, capp = 0, capc = 0;
    pl__err_t e = { 0 };
    int rc = pl__rule_compile (c->ps, r->id, r->line, r->p, r->n, NULL, 0, &arena, &P, &np,
                               &capp, &e);
    size_t nm = 0;
    pl__param_t *m = rc == 0 ? s_merge (r, o, &nm) : NULL;
    if (rc == 0 && !m) {
        snprintf (e.msg, sizeof e.msg, "out of memory");
        rc = -1;
    }
    if (rc == 0)
        rc = pl__rule_compile (c->ps, r->id, r->line, m, nm, NULL, 0, &arena, &C, &nc, &capc,
                               &e);
    if (rc != 0)
        s_fail (c, "%s:%d: rule %s, key '%s': %s", origin, e.line, o->rule, e.key,
                e.msg);
    else if (s_narrows (P, np, C, nc, why, sizeof why) != 0) {
        s_fail (c, "%s: rule %s: would widen the profile: %s", origin, o->rule, why);
        rc = -1;
    }
    free (m);
    free (P);
    free (C);
    pl__arena_free (&arena);
    return rc;
}

/* Validates the overrides and, when all are fine, installs them with the compiled clauses.
 * Takes ownership of `over` either way. */
static int
s_install (pl_rules_campaign_t *c, pl__override_t *over, size_t n_over, const char *origin)
{
    int rc = 0;
    for (size_t i = 0; i < n_over && rc == 0; i++)
        rc = s_check_rule (c, &over[i], origin);
    pl__clause_t *cl = NULL;
    size_t n = 0;
    pl__arena_t arena = { 0 };
    if (rc == 0 && c->profile)
        rc = s_compile (c, over, n_over, &cl, &n, &arena, origin);
    if (rc != 0) {
        s_over_free (over, n_over);
        pl__arena_free (&arena);
        return PL_ECONFIG;
    }
    s_over_free (c->over, c->n_over);
    c->over = over;
    c->n_over = n_over;
    free (c->clauses);
    pl__arena_free (&c->arena);
    c->clauses = cl;
    c->n_clauses = n;
    c->arena = arena;
    c->has_reassigned = false;
    for (size_t i = 0; i < n; i++)
        c->has_reassigned |= cl[i].kind == PL__CL_REASSIGNED;
    c->err[0] = 0;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Settings                                                                                     */

static int
s_parse_u64 (const char *s, uint64_t *v)
{
    if (!isdigit ((unsigned char) *s))
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull (s, &end, 10);
    if (*end || errno)
        return -1;
    *v = x;
    return 0;
}

static int
s_set_general (pl_rules_campaign_t *c, const char *key, const char *value, const char *where)
{
    if (strcmp (key, "profile") == 0) {
        const pl_rules_profile_t *p = pl_rules_profiles_find (c->ps, value);
        if (!p) {
            s_fail (c, "%skey 'profile': no profile '%s' is loaded", where, value);
            return PL_ECONFIG;
        }
        if (p->base) {
            s_fail (c, "%skey 'profile': '%s' is an overlay; use its base '%s'", where, value,
                    p->base->id);
            return PL_ECONFIG;
        }
        if (c->profile && c->profile != p && c->n_over) {
            s_fail (c, "%skey 'profile': set the profile before narrowing its rules", where);
            return PL_ECONFIG;
        }
        const pl_rules_profile_t *old = c->profile;
        c->profile = p;
        pl__override_t *copy = s_over_copy (c->over, c->n_over);
        if (!copy) {
            c->profile = old;
            s_fail (c, "out of memory");
            return PL_ENOMEM;
        }
        int rc = s_install (c, copy, c->n_over, where);
        if (rc != 0)
            c->profile = old;
        return rc;
    }
    uint64_t v;
    bool b;
    if (strcmp (key, "tenant") == 0 || strcmp (key, "id") == 0 || strcmp (key, "subject") == 0) {
        /* Names stand for their id: the tenant "acme" is pl_rules_id_of ("acme") everywhere. */
        if (s_parse_u64 (value, &v) != 0 && strcmp (key, "id") != 0 && isalpha ((unsigned char) *value)
            && strlen (value) <= 128 && strspn (value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                      "0123456789._-") == strlen (value))
            v = pl_rules_id_of (value);
        else if (s_parse_u64 (value, &v) != 0) {
            s_fail (c, "%skey '%s': expected a decimal id", where, key);
            return PL_ECONFIG;
        }
        *(key[0] == 't' ? &c->tenant : key[0] == 'i' ? &c->id : &c->subject) = v;
        return 0;
    }
    if (strcmp (key, "dialing") == 0) {
        if (strcmp (value, "autodialed") == 0)
            c->dial |= PL_RULES_DIAL_AUTODIALED;
        else if (strcmp (value, "manual") == 0)
            c->dial &= ~(unsigned) PL_RULES_DIAL_AUTODIALED;
        else {
            s_fail (c, "%skey 'dialing': expected manual or autodialed", where);
            return PL_ECONFIG;
        }
        return 0;
    }
    if (strcmp (key, "prerecorded") == 0 || strcmp (key, "agent-guaranteed") == 0) {
        if (strcmp (value, "yes") == 0)
            b = true;
        else if (strcmp (value, "no") == 0)
            b = false;
        else {
            s_fail (c, "%skey '%s': expected yes or no", where, key);
            return PL_ECONFIG;
        }
        unsigned bit = key[0] == 'p' ? PL_RULES_DIAL_PRERECORDED : PL_RULES_DIAL_AGENT_GUARANTEED;
        c->dial = b ? c->dial | bit : c->dial & ~bit;
        return 0;
    }
    if (strcmp (key, "cli") == 0) {
        size_t l = strlen (value);
        bool ok = l == 0 || (value[0] == '+' && l >= 4 && l <= 16);
        for (size_t i = 1; ok && i < l; i++)
            ok = isdigit ((unsigned char) value[i]);
        if (!ok) {
            s_fail (c, "%skey 'cli': expected an E.164 number (+33162000000) or nothing", where);
            return PL_ECONFIG;
        }
        snprintf (c->cli, sizeof c->cli, "%s", value);
        return 0;
    }
    if (strcmp (key, "sector") == 0 || strcmp (key, "name") == 0) {
        char *dst = key[0] == 's' ? c->sector : c->name;
        size_t cap = key[0] == 's' ? sizeof c->sector : sizeof c->name;
        if (strlen (value) >= cap) {
            s_fail (c, "%skey '%s': too long", where, key);
            return PL_ECONFIG;
        }
        snprintf (dst, cap, "%s", value);
        return 0;
    }
    if (strcmp (key, "callees") == 0) {
        char why[96];
        unsigned m;
        if (pl__callees_mask (value, &m, why, sizeof why) != 0) {
            s_fail (c, "%skey 'callees': %s", where, why);
            return PL_ECONFIG;
        }
        c->callees = m;
        return 0;
    }
    s_fail (c, "%skey '%s': unknown campaign setting (profile, tenant, id, subject, dialing, "
            "prerecorded, agent-guaranteed, cli, sector, callees, name)", where, key);
    return PL_ECONFIG;
}

/* Adds (or, for `replace`, replaces all values of) key in rule within over. */
static int
s_over_put (pl__override_t **over, size_t *n_over, const char *rule, const char *key,
            const char *value, int line, bool replace)
{
    pl__override_t *o = NULL;
    for (size_t i = 0; i < *n_over; i++)
        if (strcmp ((*over)[i].rule, rule) == 0)
            o = &(*over)[i];
    if (!o) {
        pl__override_t *no = realloc (*over, (*n_over + 1) * sizeof *no);
        if (!no)
            return -1;
        *over = no;
        o = &no[(*n_over)++];
        memset (o, 0, sizeof *o);
        if (!(o->rule = strdup (rule))) {
            (*n_over)--;
            return -1;
        }
    }
    if (replace) {
        size_t w = 0;
        for (size_t i = 0; i < o->n; i++) {
            if (strcmp (o->p[i].key, key) == 0) {
                free (o->p[i].key);
                free (o->p[i].value);
            }
            else
                o->p[w++] = o->p[i];
        }
        o->n = w;
    }
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 4;
        pl__param_t *np = realloc (o->p, nc * sizeof *np);
        if (!np)
            return -1;
        o->p = np;
        o->cap = nc;
    }
    o->p[o->n].key = strdup (key);
    o->p[o->n].value = strdup (value);
    o->p[o->n].line = line;
    if (!o->p[o->n].key || !o->p[o->n].value) {
        free (o->p[o->n].key);
        free (o->p[o->n].value);
        return -1;
    }
    o->n++;
    return 0;
}

int
pl_rules_campaign_set (pl_rules_campaign_t *self, const char *section, const char *key,
                       const char *value)
{
    if (!self || !section || !key || !value)
        return PL_EINVAL;
    if (strcmp (section, "campaign") == 0)
        return s_set_general (self, key, value, "");
    if (!self->profile) {
        s_fail (self, "rule %s: set the campaign's profile first", section);
        return PL_ECONFIG;
    }
    pl__override_t *copy = s_over_copy (self->over, self->n_over);
    size_t n = self->n_over;
    int rc = copy ? 0 : -1;
    if (rc == 0 && (strcmp (key, "cap") == 0 || strcmp (key, "after") == 0)) {
        /* Multi-valued keys: "a; b" gives both values, replacing the campaign's earlier ones. */
        char buf[1024];
        snprintf (buf, sizeof buf, "%s", value);
        char *save = NULL;
        bool first = true;
        for (char *v = strtok_r (buf, ";", &save); v && rc == 0; v = strtok_r (NULL, ";", &save)) {
            while (*v == ' ')
                v++;
            size_t l = strlen (v);
            while (l && v[l - 1] == ' ')
                v[--l] = 0;
            rc = s_over_put (&copy, &n, section, key, v, 0, first);
            first = false;
        }
    }
    else if (rc == 0)
        rc = s_over_put (&copy, &n, section, key, value, 0, true);
    if (rc != 0) {
        s_over_free (copy, n);
        s_fail (self, "out of memory");
        return PL_ENOMEM;
    }
    return s_install (self, copy, n, "campaign");
}

int
pl_rules_campaign_load_text (pl_rules_campaign_t *self, const char *origin, const char *text)
{
    if (!self || !text)
        return PL_EINVAL;
    origin = origin ? origin : "(campaign)";
    pl__doc_t doc;
    pl__err_t e = { 0 };
    if (pl__doc_parse (origin, text, &doc, &e) != 0) {
        s_fail (self, "%s:%d: %s", origin, e.line, e.msg);
        return PL_ECONFIG;
    }
    /* Work on a copy; put the original back if anything fails. */
    pl_rules_campaign_t saved = *self;
    pl__override_t *copy = s_over_copy (self->over, self->n_over);
    size_t n = self->n_over;
    int rc = copy ? 0 : PL_ENOMEM;
    char where[300];
    for (size_t si = 0; si < doc.n && rc == 0; si++) {
        const pl__section_t *sec = &doc.s[si];
        if (strcmp (sec->type, "campaign") == 0) {
            for (size_t i = 0; i < sec->n && rc == 0; i++) {
                snprintf (where, sizeof where, "%s:%d: ", origin, sec->p[i].line);
                rc = s_set_general (self, sec->p[i].key, sec->p[i].value, where);
            }
            continue;
        }
        /* [dialer] and [dialer-retry …] sections belong to the dialer (pacing, retries, caller ids): it reads and
         * validates them from the same file; they never change what a call may do. */
        if (strncmp (sec->type, "dialer", 6) == 0 && (sec->type[6] == '\0' || sec->type[6] == '-'))
            continue;
        if (strcmp (sec->type, "rule") != 0 || !*sec->arg) {
            s_fail (self, "%s:%d: expected [campaign], [rule <id>] or [dialer …]", origin, sec->line);
            rc = PL_ECONFIG;
            break;
        }
        if (!self->profile) {
            s_fail (self, "%s:%d: set the profile in [campaign] before [rule %s]", origin,
                    sec->line, sec->arg);
            rc = PL_ECONFIG;
            break;
        }
        /* Keys of this section replace the campaign's earlier values of the same key. */
        for (size_t i = 0; i < sec->n && rc == 0; i++) {
            bool first = true;
            for (size_t j = 0; j < i; j++)
                first &= strcmp (sec->p[j].key, sec->p[i].key) != 0;
            if (s_over_put (&copy, &n, sec->arg, sec->p[i].key, sec->p[i].value,
                            sec->p[i].line, first) != 0)
                rc = PL_ENOMEM;
        }
    }
    if (rc == 0)
        rc = s_install (self, copy, n, origin);
    else
        s_over_free (copy, n);
    if (rc != 0) {
        char err[PL__ERRLEN];
        memcpy (err, self->err, sizeof err);
        /* The general settings were applied in place: restore them. s_install never ran
         * successfully, so the clause list is still the saved one, unless the profile changed:
         * recompile from the saved state in that case. */
        const pl_rules_profile_t *cur = self->profile;
        self->profile = saved.profile;
        self->tenant = saved.tenant;
        self->id = saved.id;
        self->subject = saved.subject;
        self->dial = saved.dial;
        memcpy (self->cli, saved.cli, sizeof self->cli);
        memcpy (self->sector, saved.sector, sizeof self->sector);
        memcpy (self->name, saved.name, sizeof self->name);
        self->callees = saved.callees;
        if (cur != saved.profile && saved.profile) {
            pl__override_t *back = s_over_copy (self->over, self->n_over);
            if (back)
                s_install (self, back, self->n_over, origin);
        }
        else if (cur != saved.profile) {
            free (self->clauses);
            pl__arena_free (&self->arena);
            self->clauses = NULL;
            self->n_clauses = 0;
        }
        memcpy (self->err, err, sizeof err);
        if (rc == PL_ENOMEM)
            s_fail (self, "out of memory");
    }
    pl__doc_free (&doc);
    return rc;
}

unsigned
pl_rules_campaign_callees (const pl_rules_campaign_t *self)
{
    return self ? self->callees : PL_RULES_CALLEE_BIT (PL_RULES_CALLEE_CONSUMER);
}

static const char *const s_callee_names[] = { "consumer", "business", "sole-trader" };

const char *
pl_rules_callee_name (pl_rules_callee_t c)
{
    return (unsigned) c < 3 ? s_callee_names[c] : "consumer";
}

int
pl_rules_callee_parse (const char *s, pl_rules_callee_t *out)
{
    pl_rules_callee_t c = PL_RULES_CALLEE_CONSUMER;
    if (s && *s) {
        size_t i = 0;
        while (i < 3 && strcmp (s, s_callee_names[i]) != 0)
            i++;
        if (i == 3)
            return PL_EINVAL;
        c = (pl_rules_callee_t) i;
    }
    if (out)
        *out = c;
    return 0;
}

int
pl__callees_mask (const char *value, unsigned *mask, char *why, size_t why_size)
{
    char buf[128];
    char *w[5];
    size_t nw = pl__split (value, buf, sizeof buf, w, 5);
    if (nw == 0 || nw > 3) {
        snprintf (why, why_size, "expected 1 to 3 of consumer, business, sole-trader");
        return PL_EINVAL;
    }
    unsigned m = 0;
    for (size_t i = 0; i < nw; i++) {
        pl_rules_callee_t t;
        if (!*w[i] || pl_rules_callee_parse (w[i], &t) != 0) {
            snprintf (why, why_size, "'%.40s' is not consumer, business or sole-trader", w[i]);
            return PL_EINVAL;
        }
        m |= PL_RULES_CALLEE_BIT (t);
    }
    *mask = m;
    return 0;
}

const char *
pl_rules_campaign_param (const pl_rules_campaign_t *self, const char *rule_id, const char *key)
{
    if (!self || !rule_id || !key)
        return NULL;
    const pl__override_t *o = s_find_over (self->over, self->n_over, rule_id);
    for (size_t i = 0; o && i < o->n; i++)
        if (strcmp (o->p[i].key, key) == 0)
            return o->p[i].value;
    const pl_rules_rule_t *r = s_profile_rule (self, rule_id, NULL);
    return r ? pl_rules_rule_param (r, key) : NULL;
}

int
pl_rules_campaign_abandon (const pl_rules_campaign_t *self, pl_rules_abandon_t *out)
{
    if (!self || !out || !self->profile)
        return PL_EINVAL;
    for (const pl_rules_profile_t *q = self->profile; q; q = q->base)
        for (size_t i = 0; i < q->n_rules; i++) {
            const pl_rules_rule_t *r = q->rules[i];
            if (!pl_rules_rule_param (r, "max-rate"))
                continue;
            const char *id = r->id;
            return pl__abandon_fill (id, pl_rules_rule_source (r),
                                     pl_rules_campaign_param (self, id, "max-rate"),
                                     pl_rules_campaign_param (self, id, "period"),
                                     pl_rules_campaign_param (self, id, "agent-within"),
                                     pl_rules_campaign_param (self, id, "ring-at-least"),
                                     pl_rules_campaign_param (self, id, "message"), out);
        }
    return PL_ENOTFOUND;
}

int
pl_rules_text_each (const char *origin, const char *text, pl_rules_text_fn *fn, void *arg,
                    char *err, size_t err_size)
{
    if (!text || !fn)
        return PL_EINVAL;
    origin = origin ? origin : "(text)";
    pl__doc_t doc;
    pl__err_t e = { 0 };
    if (pl__doc_parse (origin, text, &doc, &e) != 0) {
        if (err && err_size)
            snprintf (err, err_size, "%s:%d: %s", origin, e.line, e.msg);
        return PL_ECONFIG;
    }
    int rc = 0;
    for (size_t si = 0; si < doc.n && rc == 0; si++) {
        const pl__section_t *sec = &doc.s[si];
        if (sec->n == 0)
            rc = fn (arg, sec->type, sec->arg, NULL, NULL, sec->line);
        for (size_t i = 0; i < sec->n && rc == 0; i++)
            rc = fn (arg, sec->type, sec->arg, sec->p[i].key, sec->p[i].value, sec->p[i].line);
    }
    pl__doc_free (&doc);
    return rc;
}

uint64_t
pl_rules_id_of (const char *name)
{
    if (!name || !*name)
        return 0;
    bool digits = strlen (name) < 19;
    for (const char *p = name; *p && digits; p++)
        digits = isdigit ((unsigned char) *p);
    if (digits)
        return strtoull (name, NULL, 10);
    /* 63-bit FNV-1a, odd so that it is never 0 ("unknown"). */
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *) name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (h & 0x7fffffffffffffffULL) | 1;
}
