/*  test_rules_property.c — invariants of decisions over random (history, now, profile) cases.
 *
 *  For every case:
 *    - deciding twice gives the same decision (determinism);
 *    - an ALLOW is inside every calling window in every candidate zone, on an allowed day that
 *      is not a holiday, under every cap and past every cool-down — checked by a naive oracle
 *      written here from the calling rules, not from the engine;
 *    - a DEFER's instant is a whole second after now, is ALLOW when decided again with the same
 *      facts (and passes the oracle), and one second earlier is not ALLOW (it is the earliest);
 *    - a DENY names a rule that denies, and stays a DENY when decided again at every boundary
 *      of a dated rule (`from`, `until`) within the horizon and the second before it: a denial
 *      means that no legal instant can be found by waiting (a rule that lapses defers).
 *
 *  Callees are drawn too: for a business, the oracle drops what fr.b2b and us.b2b lift.
 *
 *  The suite runs PL_PROPERTY_DEFAULT_CASES cases; set PL_PROPERTY_CASES=5000000 to run more,
 *  and PL_PROPERTY_SEED to replay a failing run (the seed is printed).
 */
#include "test_rules_common.h"

#include <inttypes.h>

#define PL_PROPERTY_DEFAULT_CASES 300000

#define TENANT  1
#define CAMP    10
#define SUBJECT 5
#define DEBT    77

/* ------------------------------------------------------------------------------------------ */
/* Random                                                                                       */

static uint64_t s_state;

static uint64_t
s_next (void)
{
    /* splitmix64 */
    uint64_t z = (s_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int64_t
s_range (int64_t lo, int64_t hi)   /* [lo, hi) */
{
    return lo + (int64_t) (s_next () % (uint64_t) (hi - lo));
}

static bool
s_chance (int percent)
{
    return (int) (s_next () % 100) < percent;
}

/* ------------------------------------------------------------------------------------------ */
/* The oracle: the calling rules restated plainly                                               */

typedef struct {
    uint8_t days;               /* bit 0 Monday */
    int lo, hi;                 /* seconds of the day */
} s_win_t;

typedef struct {
    int max;                    /* cap: at most max calls in any window (this one included) */
    int64_t window_ms;
    uint32_t events;            /* 0: any call */
    bool tenant, debt, subject, number;
    bool same_day;              /* cool-down until local midnight */
    bool after;                 /* cool-down: no call within window after a matching event */
    const char *region;         /* only for leads in this region */
} s_cap_t;

typedef struct {
    const char *name, *profile;
    const char *zones[6];
    size_t n_zones;
    s_win_t win[5][4];          /* window sets that must all hold */
    const char *win_region[5];  /* NULL: always; else only for that region */
    size_t n_sets;
    bool fr_holidays;
    s_cap_t caps[6];
    size_t n_caps;
    const char *lists[4];
    bool dc, needs_letter, consent_law, autodial_variant;
    const char *regions[3];     /* candidate regions to draw from (US overlays) */
    /* What does not bind a business callee (fr.b2b, us.b2b): window sets and caps by bit;
     * and the window sets that bind only a business (the house windows fr.b2b-hours,
     * us.b2b-hours). */
    uint8_t b2b_sets, b2b_caps, b2b_only_sets;
    pl_rules_campaign_t *c, *c_auto;
} s_scn_t;

#define H(x) ((x) * 3600)
#define WEEKDAYS 0x1f
#define ALLDAYS 0x7f

static s_scn_t s_scn[] = {
    { .name = "fr-cc", .profile = "fr-cc",
      .zones = { "Europe/Paris", "Indian/Reunion", "America/Martinique", "Indian/Mayotte",
                 "America/Cayenne", "America/Guadeloupe" },
      .n_zones = 6,
      .win = { { { WEEKDAYS, H (10), H (13) }, { WEEKDAYS, H (14), H (20) } },
               { { WEEKDAYS, H (8), H (20) } } },
      .n_sets = 2, .fr_holidays = true,
      .caps = { { .max = 4, .window_ms = 30 * T_DAY, .tenant = true },
                { .max = 1, .window_ms = 60 * T_DAY, .events = PL_RULES_CALL_REFUSAL,
                  .tenant = true, .after = true } },
      .n_caps = 2, .lists = { "bloctel", "internal-dnc" }, .consent_law = true,
      .autodial_variant = true, .b2b_sets = 1, .b2b_caps = 3, .b2b_only_sets = 2 },
    { .name = "fr-dc", .profile = "fr-dc",
      .zones = { "Europe/Paris", "Indian/Reunion", "America/Cayenne" },
      .n_zones = 3,
      .win = { { { 0x3f, H (8), H (20) } } },
      .n_sets = 1, .fr_holidays = true,
      .caps = { { .max = 2, .window_ms = T_DAY, .tenant = true, .debt = true },
                { .max = 7, .window_ms = 7 * T_DAY, .tenant = true, .debt = true } },
      .n_caps = 2, .dc = true, .needs_letter = true },
    { .name = "us-cc", .profile = "us-cc",
      .zones = { "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
                 "America/Los_Angeles", "America/Indiana/Knox" },
      .n_zones = 6,
      .win = { { { ALLDAYS, H (8), H (21) } }, { { ALLDAYS, H (8), H (20) } },
               { { ALLDAYS, H (8), H (20) } }, { { ALLDAYS, H (8), H (20) } },
               { { ALLDAYS, H (8), H (21) } } },
      .win_region = { NULL, "US-FL", "US-OK", "US-MD", NULL },
      .n_sets = 5,
      .caps = { { .max = 3, .window_ms = T_DAY, .tenant = true, .subject = true,
                  .region = "US-FL" },
                { .max = 3, .window_ms = T_DAY, .tenant = true, .subject = true,
                  .region = "US-OK" },
                { .max = 3, .window_ms = T_DAY, .tenant = true, .subject = true,
                  .region = "US-MD" } },
      .n_caps = 3, .lists = { "us-dnc", "internal-dnc" },
      .regions = { "US-FL", "US-OK", "US-MD" }, .autodial_variant = true,
      .b2b_sets = 1, .b2b_only_sets = 16 },    /* the federal hours; the states' stay */
    { .name = "us-dc", .profile = "us-dc",
      .zones = { "America/New_York", "America/Chicago", "America/Anchorage",
                 "Pacific/Honolulu", "America/Los_Angeles" },
      .n_zones = 5,
      .win = { { { ALLDAYS, H (8), H (21) } } },
      .n_sets = 1,
      .caps = { { .max = 7, .window_ms = 7 * T_DAY, .tenant = true, .debt = true },
                { .max = 1, .window_ms = 7 * T_DAY, .events = PL_RULES_CALL_CONVERSATION,
                  .tenant = true, .debt = true, .after = true } },
      .n_caps = 2, .dc = true },
    { .name = "uk-cc", .profile = "uk-cc",
      .zones = { "Europe/London" },
      .n_zones = 1,
      .win = { { { ALLDAYS, H (8), H (21) } } },   /* uk.hours: house policy */
      .n_sets = 1,
      .caps = { { .max = 1, .window_ms = 72 * T_HOUR, .events = PL_RULES_CALL_ABANDONED,
                  .tenant = true, .number = true, .after = true },
                { .max = 1, .events = PL_RULES_CALL_MACHINE, .tenant = true, .number = true,
                  .after = true, .same_day = true } },
      .n_caps = 2, .lists = { "tps", "ctps", "internal-dnc" } },
    { .name = "uk-dc", .profile = "uk-dc",
      .zones = { "Europe/London" },
      .n_zones = 1,
      .win = { { { ALLDAYS, H (8), H (21) } } },
      .n_sets = 1,
      .caps = { { .max = 1, .window_ms = 72 * T_HOUR, .events = PL_RULES_CALL_ABANDONED,
                  .tenant = true, .number = true, .after = true },
                { .max = 1, .events = PL_RULES_CALL_MACHINE, .tenant = true, .number = true,
                  .after = true, .same_day = true } },
      .n_caps = 2, .dc = true },
};

/* Mainland holidays plus each overseas department's own day; Easter by Gauss's formula. */
static bool
s_fr_holiday (const char *zone, int y, int m, int d)
{
    static const int fixed[][2] = { { 1, 1 }, { 5, 1 }, { 5, 8 }, { 7, 14 },
                                    { 8, 15 }, { 11, 1 }, { 11, 11 }, { 12, 25 } };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i][0] == m && fixed[i][1] == d)
            return true;
    static const struct {
        const char *zone;
        int m, d;
    } overseas[] = { { "Indian/Reunion", 12, 20 }, { "America/Guadeloupe", 5, 27 },
                     { "America/Martinique", 5, 22 }, { "America/Cayenne", 6, 10 },
                     { "Indian/Mayotte", 4, 27 } };
    for (size_t i = 0; i < sizeof overseas / sizeof overseas[0]; i++)
        if (strcmp (zone, overseas[i].zone) == 0 && overseas[i].m == m && overseas[i].d == d)
            return true;
    int a = y % 19, k = y / 100;
    int mm = 15 + (3 * k + 3) / 4 - (8 * k + 13) / 25, s = 2 - (3 * k + 3) / 4;
    int dd = (19 * a + mm) % 30, r = (dd + a / 11) / 29;
    int og = 21 + dd - r, sz = 7 - (y + y / 4 + s) % 7, oe = 7 - (og - sz) % 7;
    int64_t easter = pl_days_from_civil (y, 3, 1) + og + oe - 1;
    int64_t day = pl_days_from_civil (y, m, d);
    return day == easter + 1 || day == easter + 39 || day == easter + 50;
}

static bool
s_has_region (const t_facts_t *t, const char *r)
{
    for (size_t i = 0; i < t->f.n_regions; i++)
        if (strcmp (t->regions[i], r) == 0)
            return true;
    return false;
}

/* Why the oracle refuses a call at t, or NULL when it would allow it (windows and caps). */
static const char *
s_oracle (const s_scn_t *sc, const t_facts_t *t, int64_t t_ms)
{
    int64_t ts = t_ms >= 0 ? t_ms / 1000 : -((-t_ms + 999) / 1000);
    /* The campaigns are for every callee type: the lead's is the one checked. */
    bool biz = t->f.callee == PL_RULES_CALLEE_BUSINESS;
    for (size_t zi = 0; zi < t->f.n_zones; zi++) {
        const pl_rules_tz_t *z = t->f.zones[zi].zone;
        pl_rules_tm_t tm;
        pl_rules_tz_local (z, ts, &tm);
        int sod = tm.hour * 3600 + tm.minute * 60 + tm.second;
        for (size_t k = 0; k < sc->n_sets; k++) {
            if ((sc->win_region[k] && !s_has_region (t, sc->win_region[k]))
                || (biz && (sc->b2b_sets >> k & 1)) || (!biz && (sc->b2b_only_sets >> k & 1)))
                continue;
            bool in = false;
            for (size_t w = 0; w < 4 && sc->win[k][w].days; w++)
                in |= (sc->win[k][w].days >> (tm.wday - 1) & 1) && sod >= sc->win[k][w].lo
                      && sod < sc->win[k][w].hi;
            if (!in)
                return "outside a calling window";
        }
        if (sc->fr_holidays
            && s_fr_holiday (pl_rules_tz_name (z), tm.year, tm.month, tm.day))
            return "on a holiday";
    }
    for (size_t k = 0; k < sc->n_caps; k++) {
        const s_cap_t *cp = &sc->caps[k];
        if ((cp->region && !s_has_region (t, cp->region)) || (biz && (sc->b2b_caps >> k & 1)))
            continue;
        int count = 0;
        for (size_t i = 0; i < t->f.n_calls; i++) {
            const pl_rules_call_t *c = &t->calls[i];
            if (cp->events && !(c->flags & cp->events))
                continue;
            if ((cp->tenant && c->tenant && c->tenant != TENANT)
                || (cp->debt && c->debt && c->debt != DEBT)
                || (cp->subject && c->subject && c->subject != SUBJECT)
                || (cp->number && (c->flags & PL_RULES_CALL_OTHER_NUMBER)))
                continue;
            if (cp->same_day) {
                for (size_t zi = 0; zi < t->f.n_zones; zi++) {
                    pl_rules_tm_t a, b;
                    pl_rules_tz_local (t->f.zones[zi].zone, ts, &a);
                    pl_rules_tz_local (t->f.zones[zi].zone,
                                       c->at_ms >= 0 ? c->at_ms / 1000 : -1, &b);
                    if (a.days == b.days)
                        return "same day as an answering machine";
                }
                continue;
            }
            if (c->at_ms > t_ms - cp->window_ms)
                count++;
        }
        if (count >= cp->max)
            return cp->after ? "inside a cool-down" : "over a cap";
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Cases                                                                                        */

static void
s_case (t_world_t *w, const s_scn_t *sc, t_facts_t *t, int64_t *now)
{
    *now = s_range (t_utc (2024, 1, 1, 0, 0, 0), t_utc (2031, 1, 1, 0, 0, 0));
    if (sc->consent_law && s_chance (20))   /* around the end of Bloctel, 10 August 2026 */
        *now = s_range (t_utc (2026, 6, 1, 0, 0, 0), t_utc (2026, 8, 20, 0, 0, 0));
    if (s_chance (10))
        *now -= *now % T_MIN;               /* land on round instants too */
    const pl_rules_tz_t *z = t_zone (w, sc->zones[s_range (0, (int64_t) sc->n_zones)]);
    t_facts_init (t, "+33612345678", s_chance (50) ? PL_RULES_LINE_MOBILE : PL_RULES_LINE_FIXED,
                  z);
    if (sc->n_zones > 1 && s_chance (40)) {
        const pl_rules_tz_t *z2 = t_zone (w, sc->zones[s_range (0, (int64_t) sc->n_zones)]);
        if (z2 != z)
            t_add_zone (t, z2, PL_RULES_ZONE_POSTAL);
    }
    for (size_t i = 0; i < 3 && sc->regions[i]; i++)
        if (s_chance (25))
            t_add_region (t, sc->regions[i]);
    t->f.callee = s_chance (70) ? PL_RULES_CALLEE_CONSUMER
                  : s_chance (67) ? PL_RULES_CALLEE_BUSINESS
                                  : PL_RULES_CALLEE_SOLE_TRADER;
    t->f.debt = DEBT;
    t->f.letter_ref = "L-1";
    t->f.letter_ms = *now - 40 * T_DAY;
    int n = (int) s_range (0, 21);
    int64_t span = strncmp (sc->name, "uk", 2) == 0 ? 4 * T_DAY
                   : s_chance (50)                   ? 3 * T_DAY
                                                     : 70 * T_DAY;
    for (int i = 0; i < n; i++) {
        uint32_t flags = 0;
        if (s_chance (15))
            flags |= PL_RULES_CALL_CONVERSATION;
        if (s_chance (3))
            flags |= PL_RULES_CALL_REFUSAL;
        if (s_chance (6))
            flags |= PL_RULES_CALL_ABANDONED;
        if (s_chance (12))
            flags |= PL_RULES_CALL_MACHINE;
        if (s_chance (5))
            flags |= PL_RULES_CALL_OTHER_NUMBER;
        int64_t at = *now - s_range (0, span);
        if (s_chance (10))
            at -= at % T_HOUR;
        t_add_call (t, at, s_chance (85) ? TENANT : s_chance (50) ? 2 : 0,
                    s_chance (70) ? CAMP : 11, s_chance (80) ? DEBT : DEBT + 1,
                    s_chance (80) ? SUBJECT : SUBJECT + 1, flags);
    }
    /* List copies of any age up to their limit: some go stale while a call waits. */
    for (size_t i = 0; i < 4 && sc->lists[i]; i++)
        t_add_list (t, sc->lists[i], s_chance (i == 0 && sc->consent_law ? 15 : 3),
                    *now - s_range (0, (s_chance (70) ? 20 : 31) * T_DAY));
    /* Consents, some of which end (revoked or expiring) within the next days. */
    if (s_chance (90)) {
        t_add_consent (t, TENANT, *now - s_range (T_HOUR, 300 * T_DAY), 0, "+33612345678",
                       true);
        if (s_chance (10))
            t->consents[t->f.n_consents - 1].revoked_ms = *now + s_range (T_SEC, 4 * T_DAY);
        else if (s_chance (10))
            t->consents[t->f.n_consents - 1].expires_ms = *now + s_range (T_SEC, 4 * T_DAY);
    }
    /* Exemptions that hold now and may stop while a call waits. */
    if (s_chance (20))
        t->contracts[t->f.n_contracts++] = (pl_rules_contract_t) {
            TENANT, SUBJECT, *now - 100 * T_DAY,
            s_chance (50) ? 0 : *now + s_range (T_SEC, 4 * T_DAY) };
    if (s_chance (20))
        t->f.ebr_purchase_ms = *now - s_range (17 * 30 * T_DAY, 19 * 30 * T_DAY);
    if (s_chance (20))
        t->f.ebr_inquiry_ms = *now - s_range (80 * T_DAY, 95 * T_DAY);
}

/* The instants at which a dated rule of the decision enters or leaves force in a candidate
 * zone (local midnight of `from`, of the day after `until`), and the second before each. */
static size_t
s_boundaries (t_world_t *w, const t_facts_t *t, const pl_rules_decision_t *d, int64_t *out,
              size_t max)
{
    static const char *const profiles[] = { "fr-cc", "fr-dc", "us-cc", "us-dc", "us-fl",
                                            "us-ok", "us-md", "uk-cc", "uk-dc" };
    size_t n = 0;
    for (size_t i = 0; i < d->n_fired; i++) {
        const pl_rules_rule_t *r = NULL;
        for (size_t k = 0; k < sizeof profiles / sizeof profiles[0] && !r; k++) {
            const pl_rules_profile_t *p = pl_rules_profiles_find (w->ps, profiles[k]);
            r = p ? pl_rules_profile_rule (p, d->fired[i].rule) : NULL;
        }
        const char *dates[2] = { r ? pl_rules_rule_param (r, "from") : NULL,
                                 r ? pl_rules_rule_param (r, "until") : NULL };
        for (int k = 0; k < 2; k++) {
            int y, m, day;
            if (!dates[k] || sscanf (dates[k], "%d-%d-%d", &y, &m, &day) != 3)
                continue;
            int64_t days = pl_days_from_civil (y, m, day) + k;
            int32_t yy;
            pl_civil_from_days (days, &yy, &m, &day);
            for (size_t zi = 0; zi < t->f.n_zones && n + 2 <= max; zi++) {
                int64_t b = t_local (t->f.zones[zi].zone, yy, m, day, 0, 0, 0);
                out[n++] = b;
                out[n++] = b - T_SEC;
            }
        }
    }
    return n;
}

static bool
s_same (const pl_rules_decision_t *a, const pl_rules_decision_t *b)
{
    return a->verdict == b->verdict && a->defer_until_ms == b->defer_until_ms
           && a->decisive == b->decisive && a->binding_zone == b->binding_zone
           && a->n_fired == b->n_fired && a->iterations == b->iterations
           && memcmp (a->fired, b->fired, a->n_fired * sizeof a->fired[0]) == 0;
}

static void
s_report (const s_scn_t *sc, uint64_t seed, uint64_t i, const pl_rules_decision_t *d,
          const char *what)
{
    t_dump (d);
    fail_msg ("%s: case %" PRIu64 " (PL_PROPERTY_SEED=%" PRIu64 "): %s", sc->name, i, seed,
              what);
}

static void
test_random_decisions_keep_the_invariants (void **state)
{
    t_world_t *w = *state;
    uint64_t cases = PL_PROPERTY_DEFAULT_CASES;
    const char *env = getenv ("PL_PROPERTY_CASES");
    if (env && *env)
        cases = strtoull (env, NULL, 10);
    uint64_t seed = 20260811;
    env = getenv ("PL_PROPERTY_SEED");
    if (env && *env)
        seed = strtoull (env, NULL, 10);
    s_state = seed;
    print_message ("property: %" PRIu64 " cases, seed %" PRIu64 "\n", cases, seed);

    for (size_t k = 0; k < sizeof s_scn / sizeof s_scn[0]; k++) {
        char text[256];
        snprintf (text, sizeof text, "[campaign]\nprofile = %s\ntenant = %d\nid = %d\n"
                                     "subject = %d\ncli = +33162000000\n"
                                     "callees = consumer business sole-trader\n",
                  s_scn[k].profile, TENANT, CAMP, SUBJECT);
        s_scn[k].c = t_campaign (w, text);
        strcat (text, "dialing = autodialed\n");
        s_scn[k].c_auto = t_campaign (w, text);
    }

    uint64_t counts[3] = { 0 }, boundaries = 0;
    static t_facts_t t;
    for (uint64_t i = 0; i < cases; i++) {
        const s_scn_t *sc = &s_scn[s_next () % (sizeof s_scn / sizeof s_scn[0])];
        int64_t now;
        s_case (w, sc, &t, &now);
        const pl_rules_campaign_t *c = sc->autodial_variant && s_chance (30) ? sc->c_auto : sc->c;
        pl_rules_decision_t d, again;
        assert_int_equal (pl_rules_decide (c, &t.f, now, &d), 0);
        assert_int_equal (pl_rules_decide (c, &t.f, now, &again), 0);
        if (!s_same (&d, &again))
            s_report (sc, seed, i, &d, "not deterministic");
        counts[d.verdict]++;
        /* The consumer rules of a business callee are lifted by fr.b2b / us.b2b (unless not in
         * force); nobody else's are. */
        static const char *const lifted[] = { "fr.consent", "fr.bloctel", "fr.days", "fr.hours",
                                              "fr.freq", "fr.refusal", "us.dnc-national", "us.hours" };
        for (size_t k = 0; k < d.n_fired; k++) {
            const pl_rules_fired_t *r = &d.fired[k];
            bool is_lifted = false;
            for (size_t m = 0; m < sizeof lifted / sizeof *lifted; m++)
                is_lifted |= strcmp (r->rule, lifted[m]) == 0;
            bool biz = t.f.callee == PL_RULES_CALLEE_BUSINESS && sc->b2b_sets;   /* fr-cc, us-cc */
            if (r->why == PL_RULES_WHY_NOT_FOR_CALLEE && !(biz && is_lifted))
                s_report (sc, seed, i, &d, "a rule lifted for a callee it does not lift for");
            if (biz && is_lifted && r->why != PL_RULES_WHY_NOT_FOR_CALLEE
                && r->why != PL_RULES_WHY_NOT_IN_FORCE)
                s_report (sc, seed, i, &d, "a consumer rule checked for a business callee");
        }
        const char *why;
        switch (d.verdict) {
        case PL_RULES_ALLOW:
            if ((why = s_oracle (sc, &t, now)))
                s_report (sc, seed, i, &d, why);
            break;
        case PL_RULES_DEFER:
            if (d.defer_until_ms <= now || d.defer_until_ms % 1000 != 0)
                s_report (sc, seed, i, &d, "defer_until not a whole second after now");
            if ((why = s_oracle (sc, &t, d.defer_until_ms)))
                s_report (sc, seed, i, &d, why);
            assert_int_equal (pl_rules_decide (c, &t.f, d.defer_until_ms, &again), 0);
            if (again.verdict != PL_RULES_ALLOW) {
                t_dump (&again);
                s_report (sc, seed, i, &d, "defer_until is not allowed when decided again");
            }
            if (d.defer_until_ms - T_SEC >= now) {
                assert_int_equal (pl_rules_decide (c, &t.f, d.defer_until_ms - T_SEC, &again),
                                  0);
                if (again.verdict == PL_RULES_ALLOW)
                    s_report (sc, seed, i, &d, "one second before defer_until is allowed");
            }
            break;
        case PL_RULES_DENY: {
            if (d.decisive < 0 || d.fired[d.decisive].outcome != PL_RULES_DENIES)
                s_report (sc, seed, i, &d, "a denial without a denying rule");
            int64_t b[64];
            size_t nb = s_boundaries (w, &t, &d, b, sizeof b / sizeof b[0]);
            int64_t horizon = now + PL_RULES_HORIZON_DAYS * T_DAY;
            for (size_t k = 0; k < nb; k++) {
                if (b[k] <= now || b[k] > horizon)
                    continue;
                assert_int_equal (pl_rules_decide (c, &t.f, b[k], &again), 0);
                boundaries++;
                if (again.verdict == PL_RULES_ALLOW
                    || (again.verdict == PL_RULES_DEFER && again.defer_until_ms <= horizon)) {
                    t_dump (&again);
                    s_report (sc, seed, i, &d, "a denial that waiting until a rule boundary "
                              "lifts");
                }
            }
            break;
        }
        }
    }
    print_message ("property: %" PRIu64 " allow, %" PRIu64 " defer, %" PRIu64 " deny; %" PRIu64
                   " denials decided again at rule boundaries\n", counts[0], counts[2], counts[1],
                   boundaries);
    /* The generator must exercise all three verdicts. */
    assert_true (counts[0] > cases / 20);
    assert_true (counts[1] > cases / 50);
    assert_true (counts[2] > cases / 5);
    for (size_t k = 0; k < sizeof s_scn / sizeof s_scn[0]; k++) {
        pl_rules_campaign_destroy (&s_scn[k].c);
        pl_rules_campaign_destroy (&s_scn[k].c_auto);
    }
}

static int
s_setup (void **state)
{
    static t_world_t w;
    t_world_open (&w);
    *state = &w;
    return 0;
}

static int
s_teardown (void **state)
{
    t_world_close (*state);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_random_decisions_keep_the_invariants),
    };
    return cmocka_run_group_tests_name ("rules_property", tests, s_setup, s_teardown);
}
