/*  explain.c — decisions in words, for compliance officers, audit stories and `plateauctl why`.
 *
 *  A decision carries structured facts only (codes, instants, counts, pointers to the profile's
 *  strings) so that deciding stays cheap; the sentences are built here, on demand. Instants are
 *  shown in the called person's local time (the binding zone) and in UTC.
 */
#include "rules_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
pl_rules_verdict_name (pl_rules_verdict_t v)
{
    switch (v) {
    case PL_RULES_ALLOW: return "allow";
    case PL_RULES_DENY:  return "deny";
    case PL_RULES_DEFER: return "defer";
    default:             return "?";
    }
}

const char *
pl_rules_outcome_name (pl_rules_outcome_t o)
{
    switch (o) {
    case PL_RULES_PASS:   return "pass";
    case PL_RULES_NA:     return "n/a";
    case PL_RULES_EXEMPT: return "exempt";
    case PL_RULES_DEFERS: return "defers";
    case PL_RULES_DENIES: return "denies";
    default:              return "?";
    }
}

const char *
pl_rules_zone_source_name (pl_rules_zone_source_t s)
{
    switch (s) {
    case PL_RULES_ZONE_NUMBER:  return "number prefix";
    case PL_RULES_ZONE_POSTAL:  return "postal code";
    case PL_RULES_ZONE_REGION:  return "state or department";
    case PL_RULES_ZONE_LEAD:    return "given with the lead";
    case PL_RULES_ZONE_COUNTRY: return "country default";
    default:                    return "?";
    }
}

const char *
pl_rules_region_source_name (pl_rules_region_source_t s)
{
    switch (s) {
    case PL_RULES_REGION_ADDRESS: return "address";
    case PL_RULES_REGION_NUMBER:  return "number area code";
    default:                      return "?";
    }
}

/* A growing buffer with snprintf semantics. */
typedef struct {
    char *buf;
    size_t len, used;
} s_out_t;

static void
s_put (s_out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *dst = o->used < o->len ? o->buf + o->used : NULL;
    size_t room = o->used < o->len ? o->len - o->used : 0;
    int n = vsnprintf (dst, room, fmt, ap);
    va_end (ap);
    if (n > 0)
        o->used += (size_t) n;
}

static void
s_utc (int64_t ms, char *out, size_t len)
{
    int64_t s = pl__floordiv (ms, 1000);
    int64_t days = pl__floordiv (s, PL__DAY_S);
    int32_t sod = (int32_t) (s - days * PL__DAY_S);
    int32_t y;
    int m, d;
    pl_civil_from_days (days, &y, &m, &d);
    int frac = (int) (ms - s * 1000);
    if (frac)
        snprintf (out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, sod / 3600,
                  (sod / 60) % 60, sod % 60, frac);
    else
        snprintf (out, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, sod / 3600,
                  (sod / 60) % 60, sod % 60);
}

static const char *const s_wday[] = { "", "Monday", "Tuesday", "Wednesday", "Thursday",
                                      "Friday", "Saturday", "Sunday" };

/* "Friday 2026-03-06 20:00:00 CET" in zone z (UTC when z is NULL). */
static void
s_local (const pl_rules_tz_t *z, int64_t ms, char *out, size_t len)
{
    if (!z) {
        s_utc (ms, out, len);
        return;
    }
    pl_rules_tm_t tm;
    pl_rules_tz_local (z, pl__floordiv (ms, 1000), &tm);
    snprintf (out, len, "%s %04d-%02d-%02d %02d:%02d:%02d %s", s_wday[tm.wday], tm.year,
              tm.month, tm.day, tm.hour, tm.minute, tm.second, tm.abbr);
}

static void
s_dur (int64_t ms, char *out, size_t len)
{
    int64_t s = ms / 1000;
    if (s % 86400 == 0 && s >= 86400)
        snprintf (out, len, "%lld day%s", (long long) (s / 86400), s == 86400 ? "" : "s");
    else if (s % 3600 == 0 && s >= 3600)
        snprintf (out, len, "%lld hour%s", (long long) (s / 3600), s == 3600 ? "" : "s");
    else if (s >= 86400)
        snprintf (out, len, "%lld d %lld h %lld min", (long long) (s / 86400),
                  (long long) (s % 86400 / 3600), (long long) (s % 3600 / 60));
    else if (s >= 3600)
        snprintf (out, len, "%lld h %lld min", (long long) (s / 3600),
                  (long long) (s % 3600 / 60));
    else if (s >= 60)
        snprintf (out, len, "%lld min %lld s", (long long) (s / 60), (long long) (s % 60));
    else
        snprintf (out, len, "%lld s", (long long) s);
}

static const pl_rules_tz_t *
s_zone (const pl_rules_decision_t *d, int i)
{
    if (i >= 0 && (size_t) i < d->n_zones)
        return d->zones[i].zone;
    if (d->binding_zone >= 0 && (size_t) d->binding_zone < d->n_zones)
        return d->zones[d->binding_zone].zone;
    return d->n_zones ? d->zones[0].zone : NULL;
}

static const char *
s_events (const pl_rules_fired_t *r)
{
    /* The value text begins with the event for cool-downs ("conversation 7d by …"). */
    if (!r->value)
        return "event";
    if (strncmp (r->value, "conversation", 12) == 0)
        return "conversation";
    if (strncmp (r->value, "refusal", 7) == 0)
        return "refusal";
    if (strncmp (r->value, "abandon", 7) == 0)
        return "abandoned call";
    if (strncmp (r->value, "machine", 7) == 0)
        return "answering-machine detection";
    return "event";
}

/* The sentences that need at most one instant or name, then the rule's value: at says whether
 * the first is the instant evaluated (else the fact's name). */
static const struct {
    pl_rules_why_t why;
    bool at;
    const char *fmt;
} s_sentences[] = {
    {PL_RULES_WHY_NO_CONSENT, true,
     "no consent of this person to this professional for this subject at %s"},
    {PL_RULES_WHY_CONSENT_REVOKED, true, "the person's consent was revoked before %s"},
    {PL_RULES_WHY_CONSENT_EXPIRED, true, "the person's consent had expired by %s"},
    {PL_RULES_WHY_CONSENT_NOT_WRITTEN, false,
     "the consent on record is not prior express written consent"},
    {PL_RULES_WHY_CONSENT_OTHER_NUMBER, false, "the consent on record does not name this number"},
    {PL_RULES_WHY_NOT_SCREENED, false, "the number was not screened against %s"},
    {PL_RULES_WHY_EXEMPTION_ABSENT, true, "does not hold at %s"},
    {PL_RULES_WHY_EXEMPTION_OVERRIDDEN, false,
     "overridden: the person asked not to be called (%s)"},
    {PL_RULES_WHY_CLI_OK, false, "caller id %s is acceptable (%s)"},
    {PL_RULES_WHY_CLI_MISSING, false, "no caller id is presented"},
    {PL_RULES_WHY_CLI_INVALID, false, "caller id %s is not a valid diallable E.164 number"},
    {PL_RULES_WHY_CLI_NOT_ALLOWED, false, "caller id %s is outside the allowed ranges (%s)"},
    {PL_RULES_WHY_CLI_FORBIDDEN, false, "caller id %s is in a forbidden range (%s)"},
    {PL_RULES_WHY_LETTER_MISSING, false,
     "no first collection letter (reference and date) on record"},
    {PL_RULES_WHY_NO_REQUEST, false, "the person asked for no particular times"},
    {PL_RULES_WHY_RND_NOT_QUERIED, false, "%s not queried; the consent is relied on as given"},
    {PL_RULES_WHY_NOT_IN_FORCE, true, "not in force at %s"},
    {PL_RULES_WHY_CONDITION_NOT_MET, false, "does not apply to this call (line type or dialing)"},
    {PL_RULES_WHY_OTHER_REGION, false, "applies to other regions than the lead's"},
    {PL_RULES_WHY_NO_ZONE, false,
     "the number has no candidate time zone, so local time is unknown"},
    {PL_RULES_WHY_NOT_CONSENT_BASED, false, "the call does not rely on consent"},
};

static void s_reason_body (const pl_rules_decision_t *d, const pl_rules_fired_t *r, s_out_t *o);

/* When and how the person's request arrived, for the audit. */
static void
s_request (s_out_t *o, const pl_rules_fired_t *r, const char *ev)
{
    if (r->event_ms)
        s_put (o, " (request of %s", ev);
    else
        s_put (o, " (request of unknown date");
    s_put (o, ", by %s)", r->name && *r->name ? r->name : "unknown channel");
}

/* Whether a DEFERS with this reason is the rule's own kind of wait (a window, a cap); any other
 * reason defers only because the rule lapses on a date (ADR 0016). */
static bool
s_waits_by_nature (uint8_t why)
{
    switch ((pl_rules_why_t) why) {
    case PL_RULES_WHY_OUTSIDE_HOURS:
    case PL_RULES_WHY_DAY_EXCLUDED:
    case PL_RULES_WHY_HOLIDAY:
    case PL_RULES_WHY_CAP_REACHED:
    case PL_RULES_WHY_TOO_SOON_AFTER:
    case PL_RULES_WHY_OUTSIDE_REQUEST:
        return true;
    default:
        return false;
    }
}

static void
s_reason (const pl_rules_decision_t *d, const pl_rules_fired_t *r, s_out_t *o)
{
    s_reason_body (d, r, o);
    if (r->outcome == PL_RULES_DEFERS && !s_waits_by_nature (r->why)) {
        char until[64];
        s_local (s_zone (d, r->zone), r->until_ms, until, sizeof until);
        s_put (o, "; the rule is in force only until its last date: waiting until %s may make "
               "the call legal", until);
    }
}

static void
s_reason_body (const pl_rules_decision_t *d, const pl_rules_fired_t *r, s_out_t *o)
{
    const pl_rules_tz_t *z = s_zone (d, r->zone);
    const char *zn = pl_rules_tz_name (z);
    char at[64], until[64], ev[64], span[48], age[48];
    s_local (z, r->at_ms, at, sizeof at);
    s_local (z, r->until_ms, until, sizeof until);
    s_local (z, r->event_ms, ev, sizeof ev);
    s_dur (r->span_ms, span, sizeof span);
    s_dur (r->at_ms - r->event_ms, age, sizeof age);
    const char *name = r->name ? r->name : "";
    for (size_t i = 0; i < sizeof s_sentences / sizeof *s_sentences; i++)
        if (s_sentences[i].why == (pl_rules_why_t) r->why) {
            s_put (o, s_sentences[i].fmt, s_sentences[i].at ? at : name, r->value);
            return;
        }
    switch ((pl_rules_why_t) r->why) {
    case PL_RULES_WHY_IN_WINDOW:
        s_put (o, "%s in %s is within %s; this window closes %s", at, zn, r->value, until);
        break;
    case PL_RULES_WHY_OUTSIDE_HOURS:
        s_put (o, "%s in %s is outside %s; first allowed instant %s", at, zn, r->value, until);
        break;
    case PL_RULES_WHY_DAY_EXCLUDED:
        s_put (o, "%s in %s is not a calling day (%s); first allowed instant %s", at, zn,
               r->value, until);
        break;
    case PL_RULES_WHY_HOLIDAY:
        s_put (o, "%s in %s falls on %s, a holiday (%s); first allowed instant %s", at, zn,
               name, r->value, until);
        break;
    case PL_RULES_WHY_NO_COMMON_TIME:
        s_put (o, "no instant within %d days is allowed by %s in every candidate zone",
               PL_RULES_HORIZON_DAYS, r->value);
        break;
    case PL_RULES_WHY_UNDER_CAP:
        if (r->count)
            s_put (o, "%d matching call%s in the %s before %s (limit %d); the oldest at %s",
                   r->count, r->count == 1 ? "" : "s", span, at, r->limit, ev);
        else
            s_put (o, "no matching call in the %s before %s (limit %d)", span, at, r->limit);
        break;
    case PL_RULES_WHY_CAP_REACHED:
        s_put (o, "%d matching calls in the %s before %s reach the limit of %d; the call at %s "
               "leaves the window %s", r->count, span, at, r->limit, ev, until);
        break;
    case PL_RULES_WHY_NO_RECENT_EVENT:
        if (r->count || r->event_ms)
            s_put (o, "last %s at %s, outside the cool-down (%s)", s_events (r), ev, r->value);
        else
            s_put (o, "no %s within the cool-down (%s)", s_events (r), r->value);
        break;
    case PL_RULES_WHY_TOO_SOON_AFTER:
        s_put (o, "%s at %s: no call before %s (%s)", s_events (r), ev, until, r->value);
        break;
    case PL_RULES_WHY_CONSENT_OK:
        s_put (o, "consent captured %s%s%s%s", ev, *name ? " (" : "", name, *name ? ")" : "");
        break;
    case PL_RULES_WHY_LIST_CLEAR:
        s_put (o, "not on %s (copy %s of %s, %s old%s%s)", name, r->version ? r->version : "?",
               ev, age, r->span_ms ? ", maximum " : "", r->span_ms ? span : "");
        break;
    case PL_RULES_WHY_LISTED:
        if (r->outcome == PL_RULES_EXEMPT)
            s_put (o, "on %s (copy %s) but exempt: %s holds", r->version ? r->version : "?",
                   ev, name);
        else
            s_put (o, "the number is on %s (copy %s of %s)", name, r->version ? r->version : "?",
                   ev);
        break;
    case PL_RULES_WHY_LIST_STALE:
        s_put (o, "the %s copy %s of %s is %s old at %s; the maximum is %s, counted in dates",
               name, r->version ? r->version : "?", ev, age, at, span);
        if (r->outcome == PL_RULES_DENIES)
            s_put (o, " (stale from %s)", until);
        break;
    case PL_RULES_WHY_EXEMPTION_HOLDS:
        if (r->name && (strcmp (r->name, "purchase") == 0 || strcmp (r->name, "inquiry") == 0))
            s_put (o, "established business relationship: last %s %s, holds until %s", name, ev,
                   until);
        else if (r->until_ms)
            s_put (o, "current contract on this subject since %s, until %s", ev, until);
        else
            s_put (o, "holds since %s%s%s", ev, *name ? ": " : "", name);
        break;
    case PL_RULES_WHY_SECTOR_OK:
        s_put (o, "sector %s is not banned", *name ? name : "(none)");
        break;
    case PL_RULES_WHY_SECTOR_BANNED:
        if (r->outcome == PL_RULES_EXEMPT)
            s_put (o, "sector %s is banned but exempt: %s holds", r->version ? r->version : "",
                   name);
        else
            s_put (o, "canvassing for %s is banned (%s)", name, r->value);
        break;
    case PL_RULES_WHY_LETTER_OK:
        s_put (o, "first letter %s of %s to be quoted", name, ev);
        break;
    case PL_RULES_WHY_REQUESTED_WINDOW:
        s_put (o, "%s in %s is within the times the person asked for", at, zn);
        s_request (o, r, ev);
        break;
    case PL_RULES_WHY_OUTSIDE_REQUEST:
        s_put (o, "%s in %s is outside the times the person asked for; first allowed %s", at, zn,
               until);
        s_request (o, r, ev);
        break;
    case PL_RULES_WHY_NO_OPTOUT:
        s_put (o, "no request to stop covers this call at %s", at);
        break;
    case PL_RULES_WHY_CEASE_REQUESTED:
    case PL_RULES_WHY_REFUSED_TO_PAY:
    case PL_RULES_WHY_MEDIUM_OPTED_OUT:
        s_put (o, "%s", r->why == PL_RULES_WHY_CEASE_REQUESTED
                            ? "the person asked to cease communication about this debt"
                        : r->why == PL_RULES_WHY_REFUSED_TO_PAY
                            ? "the person refused to pay this debt: no further calls about it"
                            : "the person asked not to be called");
        if (r->why == PL_RULES_WHY_MEDIUM_OPTED_OUT && r->version && *r->version == '+')
            s_put (o, " on %s", r->version);
        s_request (o, r, ev);
        break;
    case PL_RULES_WHY_REASSIGNED:
        s_put (o, "%s reports the number reassigned since the consent (copy %s): the consent "
               "no longer covers it", name, r->version ? r->version : "?");
        break;
    case PL_RULES_WHY_NOT_REASSIGNED:
        s_put (o, "%s: not reassigned since the consent (copy %s)", name,
               r->version ? r->version : "?");
        break;
    case PL_RULES_WHY_REVOKED:
        s_put (o, "the person revoked consent at %s and has not given it again", ev);
        break;
    case PL_RULES_WHY_NOT_REVOKED:
        if (r->event_ms)
            s_put (o, "consent revoked at %s was given again since", ev);
        else
            s_put (o, "no revocation on record");
        break;
    case PL_RULES_WHY_NOT_FOR_CALLEE:
        s_put (o, "does not apply to a %s callee (%s)", pl_rules_callee_name (d->callee), name);
        break;
    case PL_RULES_WHY_CALLEE_SCOPE:
        s_put (o, "the callee is a %s and the campaign is for %s callees: %s", name, name, r->value);
        break;
    case PL_RULES_WHY_CHECKED_AS_CONSUMER:
        s_put (o, "checked as a %s callee (the lead's type when the campaign is for it, else "
               "consumer): the rules it names apply", name);
        break;
    case PL_RULES_WHY_OTHER_CALLEE:
        s_put (o, "for other callee types than this one, a %s", name);
        break;
    case PL_RULES_WHY_SECTOR_KEEPS_RULES:
        s_put (o, "the campaign's sector %s keeps the rules it names for every callee", name);
        break;
    case PL_RULES_WHY_HORIZON:
        s_put (o, "no legal instant within %d days (last tried %s)", PL_RULES_HORIZON_DAYS,
               until);
        break;
    default:
        s_put (o, "%s", pl_rules_outcome_name (r->outcome));
        break;
    }
}

int
pl_rules_reason (const pl_rules_decision_t *d, size_t i, char *buf, size_t len)
{
    s_out_t o = { buf, len, 0 };
    if (len)
        buf[0] = 0;
    if (!d || i >= d->n_fired)
        return 0;
    s_reason (d, &d->fired[i], &o);
    return (int) o.used;
}

int
pl_rules_summary (const pl_rules_decision_t *d, char *buf, size_t len)
{
    s_out_t o = { buf, len, 0 };
    if (len)
        buf[0] = 0;
    if (!d)
        return 0;
    char t[40];
    s_put (&o, "%s", pl_rules_verdict_name (d->verdict));
    if (d->verdict == PL_RULES_DEFER) {
        s_utc (d->defer_until_ms, t, sizeof t);
        s_put (&o, " until %s", t);
    }
    if (d->decisive >= 0) {
        const pl_rules_fired_t *r = &d->fired[d->decisive];
        s_put (&o, ": %s (%s)", r->rule, r->value);
        if (d->binding_zone >= 0)
            s_put (&o, " in %s", pl_rules_tz_name (s_zone (d, d->binding_zone)));
    }
    else if (d->binding_zone >= 0)
        s_put (&o, ": every rule passes; binding zone %s",
               pl_rules_tz_name (s_zone (d, d->binding_zone)));
    return (int) o.used;
}

static void
s_number (const pl_rules_decision_t *d, unsigned flags, char *out, size_t len)
{
    snprintf (out, len, "%s", *d->number ? d->number : "(none)");
    if (flags & PL_RULES_EXPLAIN_FULL_NUMBER)
        return;
    size_t n = strlen (out);
    for (size_t i = n > 4 ? n - 4 : 0; i < n && *d->number; i++)
        out[i] = '*';
}

static const char *
s_line_name (pl_rules_line_t l)
{
    switch (l) {
    case PL_RULES_LINE_FIXED:    return "fixed line";
    case PL_RULES_LINE_MOBILE:   return "mobile";
    case PL_RULES_LINE_VOIP:     return "VoIP";
    case PL_RULES_LINE_TOLLFREE: return "toll-free";
    case PL_RULES_LINE_OTHER:    return "other line";
    default:                     return "line type unknown";
    }
}

/* For a state's or region's rule: which region of the lead made it apply, and from where. */
static void
s_region (const pl_rules_decision_t *d, const pl_rules_fired_t *r, s_out_t *o)
{
    if (r->region < 0 || (size_t) r->region >= d->n_regions)
        return;
    s_put (o, "applies: %s from the %s; ", d->regions[r->region],
           pl_rules_region_source_name (d->region_sources[r->region]));
}

static void
s_fired (const pl_rules_decision_t *d, size_t i, s_out_t *o)
{
    const pl_rules_fired_t *r = &d->fired[i];
    char up[16];
    snprintf (up, sizeof up, "%s", pl_rules_outcome_name (r->outcome));
    for (char *p = up; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char) (*p - 'a' + 'A');
    s_put (o, "  %-7s %s  [%s: %s]%s%s\n", up, r->rule, r->key, r->value,
           r->unconfirmed ? "  (source unconfirmed)" : "",
           r->policy ? "  (house policy, not law)" : "");
    s_put (o, "          ");
    s_region (d, r, o);
    s_reason (d, r, o);
    s_put (o, "\n          source: %s\n", r->source ? r->source : "");
}

int
pl_rules_explain (const pl_rules_decision_t *d, unsigned flags, char *buf, size_t len)
{
    s_out_t o = { buf, len, 0 };
    if (len)
        buf[0] = 0;
    if (!d)
        return 0;
    const pl_rules_tz_t *bz = s_zone (d, d->binding_zone);
    char a[64], b[40], num[24];
    if (d->verdict == PL_RULES_DEFER) {
        s_local (bz, d->defer_until_ms, a, sizeof a);
        s_utc (d->defer_until_ms, b, sizeof b);
        s_put (&o, "DEFER until %s (%s) = %s\n", a, pl_rules_tz_name (bz), b);
    }
    else
        s_put (&o, "%s\n", d->verdict == PL_RULES_ALLOW ? "ALLOW" : "DENY");
    if (d->decisive >= 0) {
        const pl_rules_fired_t *r = &d->fired[d->decisive];
        s_put (&o, "  decided by %s (%s = %s): ", r->rule, r->key, r->value);
        s_region (d, r, &o);
        s_reason (d, r, &o);
        s_put (&o, "\n  source: %s%s%s\n", r->source ? r->source : "",
               r->unconfirmed ? " (unconfirmed)" : "",
               r->policy ? " (house policy, not law)" : "");
    }
    s_local (bz, d->now_ms, a, sizeof a);
    s_utc (d->now_ms, b, sizeof b);
    s_put (&o, "asked at %s (%s) = %s\n", a, pl_rules_tz_name (bz), b);
    s_number (d, flags, num, sizeof num);
    s_put (&o, "number   %s (%s)\n", num, s_line_name (d->line));
    s_put (&o, "zones   ");
    for (size_t i = 0; i < d->n_zones; i++)
        s_put (&o, "%s %s (from %s)%s", i ? ";" : "", pl_rules_tz_name (d->zones[i].zone),
               pl_rules_zone_source_name (d->zones[i].source),
               (int) i == d->binding_zone ? " [binding]" : "");
    s_put (&o, "%s\n", d->n_zones ? "" : " none");
    /* Regions, each with its source; [binding] marks those that made a rule of the decision
     * apply (a state's rules apply by area code or address). */
    s_put (&o, "regions ");
    for (size_t i = 0; i < d->n_regions; i++) {
        bool bound = false;
        for (size_t k = 0; k < d->n_fired && !bound; k++)
            bound = d->fired[k].region >= 0 && (size_t) d->fired[k].region < d->n_regions
                    && strcmp (d->regions[d->fired[k].region], d->regions[i]) == 0;
        s_put (&o, "%s %s (from %s)%s", i ? ";" : "", d->regions[i],
               pl_rules_region_source_name (d->region_sources[i]), bound ? " [binding]" : "");
    }
    s_put (&o, "%s\n", d->n_regions ? "" : " none");
    s_put (&o, "profile  %s%s%s\n", d->profile ? d->profile : "?",
           d->campaign && *d->campaign ? "; campaign " : "", d->campaign ? d->campaign : "");
    s_put (&o, "callee   %s\n", pl_rules_callee_name (d->callee));
    if (flags & PL_RULES_EXPLAIN_DECISIVE)
        return (int) o.used;
    s_put (&o, "rules checked (%zu):\n", d->n_fired);
    for (size_t i = 0; i < d->n_fired; i++)
        s_fired (d, i, &o);
    return (int) o.used;
}
