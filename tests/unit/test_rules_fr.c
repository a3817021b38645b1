/*  test_rules_fr.c — France: canvassing (fr-cc) and amicable collection (fr-dc), at the edges.
 *
 *  Edges of the two daily windows in Paris and in Réunion, the DST nights, every Easter-based
 *  and fixed holiday across years (checked against an independent holiday oracle), the 5th
 *  attempt within 30 days, the 60 days after a refusal, consent from 11 August 2026, Bloctel
 *  before it, caller-id ranges, the sector ban and the collection rules.
 */
#include "test_rules_common.h"

#define TENANT  1
#define CAMP    10
#define SUBJECT 5

typedef struct {
    t_world_t w;
    pl_rules_campaign_t *cc, *cc_auto, *dc;
} s_env_t;

/* Facts for a French mobile with fresh list verdicts and a consent given in January 2026. */
static void
s_facts (t_facts_t *t, const pl_rules_tz_t *zone, int64_t now)
{
    t_facts_init (t, "+33612345678", PL_RULES_LINE_MOBILE, zone);
    t_add_list (t, "bloctel", false, now - T_DAY);
    t_add_list (t, "internal-dnc", false, now);
    t_add_consent (t, TENANT, t_utc (2026, 1, 5, 9, 0, 0), 0, NULL, false);
}

static pl_rules_decision_t
s_decide (const pl_rules_campaign_t *c, const t_facts_t *t, int64_t now)
{
    pl_rules_decision_t d;
    int rc = pl_rules_decide (c, &t->f, now, &d);
    assert_int_equal (rc, 0);
    /* Every deferral must itself be allowed when asked again, and nothing earlier. */
    if (d.verdict == PL_RULES_DEFER) {
        pl_rules_decision_t again;
        assert_int_equal (pl_rules_decide (c, &t->f, d.defer_until_ms, &again), 0);
        if (again.verdict != PL_RULES_ALLOW) {
            t_dump (&d);
            t_dump (&again);
            fail_msg ("defer_until is not allowed when asked again");
        }
        if (d.defer_until_ms - T_SEC >= now) {
            assert_int_equal (pl_rules_decide (c, &t->f, d.defer_until_ms - T_SEC, &again), 0);
            if (again.verdict == PL_RULES_ALLOW) {
                t_dump (&d);
                fail_msg ("one second before defer_until is already allowed");
            }
        }
    }
    return d;
}

#define EXPECT_DEFER(d_, until_) s_expect_defer ((d_), (until_), __LINE__)

static void
s_expect_defer (pl_rules_decision_t d, int64_t until, int line)
{
    if (d.verdict != PL_RULES_DEFER || d.defer_until_ms != until) {
        t_dump (&d);
        fail_msg ("line %d: want a deferral", line);
    }
}

/* Independent oracle: French public holidays (mainland), Easter by Gauss's formula. */
static bool
s_fr_holiday (int y, int m, int d)
{
    static const int fixed[][2] = { { 1, 1 }, { 5, 1 }, { 5, 8 }, { 7, 14 },
                                    { 8, 15 }, { 11, 1 }, { 11, 11 }, { 12, 25 } };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i][0] == m && fixed[i][1] == d)
            return true;
    int a = y % 19, k = y / 100;
    int mm = 15 + (3 * k + 3) / 4 - (8 * k + 13) / 25, s = 2 - (3 * k + 3) / 4;
    int dd = (19 * a + mm) % 30, r = (dd + a / 11) / 29;
    int og = 21 + dd - r, sz = 7 - (y + y / 4 + s) % 7, oe = 7 - (og - sz) % 7;
    int64_t easter = pl_days_from_civil (y, 3, 1) + og + oe - 1;
    int64_t day = pl_days_from_civil (y, m, d);
    return day == easter + 1 || day == easter + 39 || day == easter + 50;
}

/* ------------------------------------------------------------------------------------------ */

static void
test_two_daily_windows_at_the_second_in_paris_and_reunion (void **state)
{
    s_env_t *e = *state;
    static const struct {
        int h, mi, s;
        pl_rules_verdict_t v;
        int ud, uh, umi, us;     /* DEFER: local day of September and time */
    } cases[] = {
        { 9, 59, 59, PL_RULES_DEFER, 15, 10, 0, 0 },
        { 10, 0, 0, PL_RULES_ALLOW, 0, 0, 0, 0 },
        { 12, 59, 59, PL_RULES_ALLOW, 0, 0, 0, 0 },
        { 13, 0, 0, PL_RULES_DEFER, 15, 14, 0, 0 },
        { 13, 59, 59, PL_RULES_DEFER, 15, 14, 0, 0 },
        { 14, 0, 0, PL_RULES_ALLOW, 0, 0, 0, 0 },
        { 19, 59, 59, PL_RULES_ALLOW, 0, 0, 0, 0 },
        { 20, 0, 0, PL_RULES_DEFER, 16, 10, 0, 0 },
        { 23, 59, 59, PL_RULES_DEFER, 16, 10, 0, 0 },
        { 0, 0, 0, PL_RULES_DEFER, 15, 10, 0, 0 },
    };
    static const char *const zones[] = { "Europe/Paris", "Indian/Reunion" };
    for (size_t zi = 0; zi < 2; zi++) {
        const pl_rules_tz_t *z = t_zone (&e->w, zones[zi]);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            /* Tuesday 15 September 2026: consent law in force. */
            int64_t now = t_local (z, 2026, 9, 15, cases[i].h, cases[i].mi, cases[i].s);
            t_facts_t t;
            s_facts (&t, z, now);
            pl_rules_decision_t d = s_decide (e->cc, &t, now);
            if (d.verdict != cases[i].v) {
                t_dump (&d);
                fail_msg ("%s %02d:%02d:%02d: %s, want %s", zones[zi], cases[i].h, cases[i].mi,
                          cases[i].s, pl_rules_verdict_name (d.verdict),
                          pl_rules_verdict_name (cases[i].v));
            }
            if (d.verdict == PL_RULES_DEFER) {
                int64_t want = t_local (z, 2026, 9, cases[i].ud, cases[i].uh, cases[i].umi,
                                        cases[i].us);
                char a[64], b[64];
                if (d.defer_until_ms != want)
                    fail_msg ("%s %02d:%02d:%02d: until %s, want %s", zones[zi], cases[i].h,
                              cases[i].mi, cases[i].s, t_fmt (z, d.defer_until_ms, a, sizeof a),
                              t_fmt (z, want, b, sizeof b));
                assert_string_equal (t_decisive (&d), "fr.hours");
                assert_int_equal (d.binding_zone, 0);
            }
            else {
                int i_hours = t_fired (&d, "fr.hours", NULL);
                assert_int_equal (d.fired[i_hours].outcome, PL_RULES_PASS);
                assert_int_equal (d.fired[i_hours].zone, 0);
            }
        }
    }
}

static void
test_weekend_and_friday_evening_defer_to_monday_ten (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    static const struct {
        int d, h, mi;            /* September 2026: 18 Friday, 19 Saturday, 20 Sunday */
    } cases[] = { { 18, 20, 0 }, { 19, 11, 0 }, { 20, 15, 30 }, { 21, 9, 0 } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t now = t_local (paris, 2026, 9, cases[i].d, cases[i].h, cases[i].mi, 0);
        t_facts_t t;
        s_facts (&t, paris, now);
        pl_rules_decision_t d = s_decide (e->cc, &t, now);
        assert_int_equal (d.verdict, PL_RULES_DEFER);
        assert_int_equal (d.defer_until_ms, t_local (paris, 2026, 9, 21, 10, 0, 0));
    }
    /* On Saturday the days rule says why. */
    int64_t now = t_local (paris, 2026, 9, 19, 11, 0, 0);
    t_facts_t t;
    s_facts (&t, paris, now);
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    int i = t_fired (&d, "fr.days", NULL);
    assert_int_equal (d.fired[i].outcome, PL_RULES_DEFERS);
    assert_int_equal (d.fired[i].why, PL_RULES_WHY_DAY_EXCLUDED);
}

static void
test_dst_nights_in_paris_land_on_the_right_utc_instant (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    /* Friday evening before the spring change: Monday 10:00 is CEST, 08:00Z (not 09:00Z). */
    int64_t now = t_utc (2026, 3, 27, 19, 0, 0);   /* 20:00 CET */
    t_facts_t t;
    s_facts (&t, paris, now);
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    assert_int_equal (d.defer_until_ms, t_utc (2026, 3, 30, 8, 0, 0));
    /* Saturday night across the autumn change: Monday 10:00 CET is 09:00Z. */
    now = t_utc (2026, 10, 24, 18, 30, 0);         /* 20:30 CEST */
    s_facts (&t, paris, now);
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.defer_until_ms, t_utc (2026, 10, 26, 9, 0, 0));
    /* Collection (Mon-Sat 08-20): Saturday evening -> Monday 08:00 CEST = 06:00Z. */
    now = t_utc (2026, 3, 28, 19, 30, 0);
    s_facts (&t, paris, now);
    t.f.letter_ref = "LR-2026-0042";
    t.f.letter_ms = t_utc (2026, 3, 1, 9, 0, 0);
    t.f.debt = 99;
    d = s_decide (e->dc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    assert_int_equal (d.defer_until_ms, t_utc (2026, 3, 30, 6, 0, 0));

    /* A window inside the night itself, from a profile made for the test. */
    static bool loaded;
    if (!loaded) {
        assert_int_equal (pl_rules_profiles_load_text (e->w.ps, "night.profile",
                                                       "[profile]\nid = xx-night\n"
                                                       "jurisdiction = XX\nkind = CC\n"
                                                       "[rule xx.night]\nsource = test\n"
                                                       "hours = 02:00-02:30 02:30-03:30\n"),
                          0);
        loaded = true;
    }
    pl_rules_campaign_t *night = t_campaign (&e->w, "[campaign]\nprofile = xx-night\n");
    t_facts_init (&t, "+33612345678", PL_RULES_LINE_MOBILE, paris);
    /* 01:30 CET on the spring night: 02:00-03:00 does not exist; the window opens at 03:00
     * CEST = 01:00Z. */
    d = s_decide (night, &t, t_utc (2026, 3, 29, 0, 30, 0));
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    assert_int_equal (d.defer_until_ms, t_utc (2026, 3, 29, 1, 0, 0));
    /* 03:30 CEST closes at 01:30Z. */
    d = s_decide (night, &t, t_utc (2026, 3, 29, 1, 29, 59));
    assert_int_equal (d.verdict, PL_RULES_ALLOW);
    d = s_decide (night, &t, t_utc (2026, 3, 29, 1, 30, 0));
    assert_int_equal (d.defer_until_ms, t_utc (2026, 3, 30, 0, 0, 0));   /* 02:00 CEST Monday */
    /* Autumn: 02:00-03:30 happens from 00:00Z to 02:30Z, including both passes of 02:xx. */
    for (int64_t at = t_utc (2026, 10, 25, 0, 0, 0); at < t_utc (2026, 10, 25, 2, 30, 0);
         at += 7 * T_MIN)
        assert_int_equal (s_decide (night, &t, at).verdict, PL_RULES_ALLOW);
    d = s_decide (night, &t, t_utc (2026, 10, 25, 2, 30, 0));
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    assert_int_equal (d.defer_until_ms, t_utc (2026, 10, 26, 1, 0, 0));
    pl_rules_campaign_destroy (&night);
}

static void
test_public_holidays_across_years_defer_to_the_next_working_day (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    int checked = 0, on_weekdays = 0;
    for (int y = 2024; y <= 2032; y++) {
        int em, ed;
        pl_rules_easter (y, &em, &ed);
        int64_t easter = pl_days_from_civil (y, em, ed);
        int64_t days[5] = { easter + 1, easter + 39, easter + 50,
                            pl_days_from_civil (y, 7, 14),
                            pl_days_from_civil (y, 8, 15) };
        for (int k = 0; k < 5; k++) {
            int32_t yy;
            int m, d;
            pl_civil_from_days (days[k], &yy, &m, &d);
            int64_t now = t_local (paris, yy, m, d, 11, 0, 0);
            t_facts_t t;
            s_facts (&t, paris, now);
            pl_rules_decision_t dec = s_decide (e->cc, &t, now);
            assert_int_equal (dec.verdict, PL_RULES_DEFER);
            /* Expected: the next weekday that the oracle does not call a holiday, 10:00. */
            int64_t next = days[k] + 1;
            for (;;) {
                int32_t ny;
                int nm, nd;
                pl_civil_from_days (next, &ny, &nm, &nd);
                if (pl_rules_weekday (next) <= 5 && !s_fr_holiday (ny, nm, nd))
                    break;
                next++;
            }
            int32_t ny;
            int nm, nd;
            pl_civil_from_days (next, &ny, &nm, &nd);
            int64_t want = t_local (paris, ny, nm, nd, 10, 0, 0);
            if (dec.defer_until_ms != want) {
                t_dump (&dec);
                fail_msg ("%d-%02d-%02d: wrong deferral", yy, m, d);
            }
            if (pl_rules_weekday (days[k]) <= 5) {
                int i = t_fired (&dec, "fr.days", NULL);
                assert_int_equal (dec.fired[i].why, PL_RULES_WHY_HOLIDAY);
                assert_non_null (dec.fired[i].name);
                assert_string_equal (t_decisive (&dec), "fr.hours");
                on_weekdays++;
            }
            checked++;
        }
    }
    assert_int_equal (checked, 45);
    assert_true (on_weekdays >= 30);
    /* The day after Whit Monday 2026 is an ordinary Tuesday. */
    int64_t now = t_local (paris, 2026, 5, 26, 11, 0, 0);
    t_facts_t t;
    s_facts (&t, paris, now);
    assert_int_equal (s_decide (e->cc, &t, now).verdict, PL_RULES_ALLOW);
}

static void
test_reunion_abolition_day_binds_reunion_only (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    const pl_rules_tz_t *reunion = t_zone (&e->w, "Indian/Reunion");
    /* Monday 20 December 2027, 15:00 in Réunion (12:00 in Paris). */
    int64_t now = t_local (reunion, 2027, 12, 20, 15, 0, 0);
    t_facts_t t;
    s_facts (&t, reunion, now);
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    assert_int_equal (d.defer_until_ms, t_local (reunion, 2027, 12, 21, 10, 0, 0));
    int i = t_fired (&d, "fr.days", NULL);
    assert_string_equal (d.fired[i].name, "Abolition de l'esclavage (La Réunion)");
    s_facts (&t, paris, now);
    assert_int_equal (s_decide (e->cc, &t, now).verdict, PL_RULES_ALLOW);
    /* Both candidate zones (number says Réunion, postal code says Paris): strictest. */
    s_facts (&t, paris, now);
    t_add_zone (&t, reunion, PL_RULES_ZONE_NUMBER);
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    assert_int_equal (d.binding_zone, 1);
    /* Next day: 10:00 Réunion is 07:00 Paris; 10:00 Paris is 13:00 Réunion (lunch): common
     * time starts at 14:00 Réunion = 11:00 Paris. */
    assert_int_equal (d.defer_until_ms, t_local (reunion, 2027, 12, 21, 14, 0, 0));
}

static void
test_fifth_attempt_in_thirty_days_waits_for_the_oldest (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    int64_t now = t_local (paris, 2026, 9, 15, 11, 0, 0);   /* Tuesday */
    static const struct {
        int oldest_d, oldest_h, oldest_mi;   /* day of August 2026 or (>31) of Sept - 31 */
        uint64_t tenant;
        pl_rules_verdict_t v;
        int ud, uh, umi;                      /* September */
    } cases[] = {
        { 17, 11, 30, TENANT, PL_RULES_DEFER, 16, 11, 30 },   /* Wed 16 Sept 11:30 */
        { 17, 13, 30, TENANT, PL_RULES_DEFER, 16, 14, 0 },    /* leaves at lunch -> 14:00 */
        { 17, 20, 30, TENANT, PL_RULES_DEFER, 17, 10, 0 },    /* leaves at night -> next 10:00 */
        { 16, 11, 0, TENANT, PL_RULES_ALLOW, 0, 0, 0 },       /* exactly 30 days: out */
        { 16, 11, 1, TENANT, PL_RULES_DEFER, 15, 11, 1 },     /* 29 d 23 h 59 min: in */
        { 21, 10, 0, TENANT, PL_RULES_DEFER, 21, 10, 0 },     /* leaves Sun 10:00 -> Mon */
        { 20, 15, 0, TENANT, PL_RULES_DEFER, 21, 10, 0 },     /* leaves Sat 15:00 -> Mon */
        { 22, 15, 0, TENANT, PL_RULES_DEFER, 21, 15, 0 },     /* leaves Mon 15:00 */
        { 17, 11, 30, 2, PL_RULES_ALLOW, 0, 0, 0 },           /* another professional */
        { 17, 11, 30, 0, PL_RULES_DEFER, 16, 11, 30 },        /* unknown: counted */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t_facts_t t;
        s_facts (&t, paris, now);
        t_add_call (&t, t_local (paris, 2026, 8, cases[i].oldest_d, cases[i].oldest_h,
                                 cases[i].oldest_mi, 0), cases[i].tenant, 0, 0, 0, 0);
        t_add_call (&t, t_local (paris, 2026, 8, 27, 15, 0, 0), TENANT, CAMP, 0, 0, 0);
        t_add_call (&t, t_local (paris, 2026, 9, 3, 10, 5, 0), TENANT, 11, 0, 0, 0);
        t_add_call (&t, t_local (paris, 2026, 9, 14, 19, 0, 0), TENANT, CAMP, 0, 0,
                    PL_RULES_CALL_MACHINE);
        t_add_call (&t, t_local (paris, 2026, 9, 14, 12, 0, 0), 3, 0, 0, 0, 0);  /* other */
        pl_rules_decision_t d = s_decide (e->cc, &t, now);
        if (d.verdict != cases[i].v) {
            t_dump (&d);
            fail_msg ("case %zu: %s", i, pl_rules_verdict_name (d.verdict));
        }
        int f = t_fired (&d, "fr.freq", NULL);
        if (d.verdict == PL_RULES_DEFER) {
            int64_t want = t_local (paris, 2026, 9, cases[i].ud, cases[i].uh, cases[i].umi, 0);
            if (d.defer_until_ms != want) {
                t_dump (&d);
                fail_msg ("case %zu: wrong defer_until", i);
            }
            assert_int_equal (d.fired[f].outcome, PL_RULES_DEFERS);
            assert_int_equal (d.fired[f].count, 4);
            assert_int_equal (d.fired[f].limit, 4);
            assert_int_equal (d.fired[f].span_ms, 30 * T_DAY);
        }
        else
            assert_int_equal (d.fired[f].count, 3);
    }
}

static void
test_long_histories_count_the_same (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    int64_t now = t_local (paris, 2026, 9, 15, 11, 0, 0);
    /* 400 calls, more than are sorted per decision: 396 by other professionals, ours 4. */
    static pl_rules_call_t calls[400];
    for (int i = 0; i < 400; i++)
        calls[i] = (pl_rules_call_t) { now - (i + 1) * 3 * T_HOUR, 2 + (uint64_t) (i % 5), 0, 0,
                                       0, 0 };
    int64_t oldest = t_local (paris, 2026, 8, 17, 11, 30, 0);
    calls[150].tenant = calls[201].tenant = calls[222].tenant = TENANT;
    calls[399] = (pl_rules_call_t) { oldest, TENANT, 0, 0, 0, 0 };
    t_facts_t t;
    s_facts (&t, paris, now);
    t.f.calls = calls;
    t.f.n_calls = 400;
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    assert_int_equal (d.defer_until_ms, oldest + 30 * T_DAY);
    assert_int_equal (d.fired[t_fired (&d, "fr.freq", NULL)].count, 4);
    /* Fewer of them, few enough to be sorted per decision: the same answer. */
    t.f.calls = calls + 144;
    t.f.n_calls = 256;
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.defer_until_ms, oldest + 30 * T_DAY);
}

static void
test_refusal_blocks_calls_for_60_days (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    int64_t now = t_local (paris, 2026, 9, 15, 11, 0, 0);
    t_facts_t t;
    s_facts (&t, paris, now);
    int64_t refused = now - 59 * T_DAY;
    t_add_call (&t, refused, TENANT, CAMP, 0, SUBJECT,
                PL_RULES_CALL_CONVERSATION | PL_RULES_CALL_REFUSAL);
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    assert_int_equal (d.defer_until_ms, refused + 60 * T_DAY);
    assert_string_equal (t_decisive (&d), "fr.refusal");
    t.calls[0].at_ms = now - 60 * T_DAY;
    assert_int_equal (s_decide (e->cc, &t, now).verdict, PL_RULES_ALLOW);
    t.calls[0].tenant = 2;          /* refused another professional */
    t.calls[0].at_ms = refused;
    assert_int_equal (s_decide (e->cc, &t, now).verdict, PL_RULES_ALLOW);
}

static void
test_consent_is_required_from_11_august_2026 (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    int64_t now = t_local (paris, 2026, 9, 15, 11, 0, 0);
    t_facts_t t;
    s_facts (&t, paris, now);
    t.f.n_consents = 0;
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_string_equal (t_decisive (&d), "fr.consent");
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_NO_CONSENT);

    t_add_consent (&t, 2, t_utc (2026, 1, 1, 0, 0, 0), 0, NULL, false);   /* someone else's */
    assert_int_equal (s_decide (e->cc, &t, now).verdict, PL_RULES_DENY);
    t.f.n_consents = 0;
    t_add_consent (&t, TENANT, t_utc (2026, 1, 1, 0, 0, 0), now - T_HOUR, NULL, false);
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_CONSENT_REVOKED);
    t.f.n_consents = 0;
    t_add_consent (&t, TENANT, t_utc (2026, 1, 1, 0, 0, 0), 0, "+33698765432", false);
    assert_int_equal (s_decide (e->cc, &t, now).verdict, PL_RULES_DENY);   /* other number */
    t.consents[0].number = "+33612345678";
    assert_int_equal (s_decide (e->cc, &t, now).verdict, PL_RULES_ALLOW);
    t.consents[0].subject = SUBJECT + 1;                               /* other subject */
    assert_int_equal (s_decide (e->cc, &t, now).verdict, PL_RULES_DENY);

    /* A current contract on the campaign's subject exempts. */
    t.f.n_consents = 0;
    t.contracts[t.f.n_contracts++] =
        (pl_rules_contract_t) { TENANT, SUBJECT, t_utc (2025, 1, 1, 0, 0, 0), 0 };
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_ALLOW);
    int i = t_fired (&d, "fr.consent", NULL);
    assert_int_equal (d.fired[i].outcome, PL_RULES_EXEMPT);
    assert_string_equal (d.fired[i].name, "fr.contract-exempt");
    assert_int_equal (d.fired[t_fired (&d, "fr.contract-exempt", NULL)].outcome, PL_RULES_PASS);
    t.contracts[0].end_ms = now - T_DAY;                               /* ended */
    assert_int_equal (s_decide (e->cc, &t, now).verdict, PL_RULES_DENY);

    /* Before 11 August the consent rule is not in force; Bloctel is. */
    now = t_local (paris, 2026, 8, 10, 11, 0, 0);
    s_facts (&t, paris, now);
    t.f.n_consents = 0;
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_ALLOW);
    assert_int_equal (d.fired[t_fired (&d, "fr.consent", NULL)].why, PL_RULES_WHY_NOT_IN_FORCE);
    assert_int_equal (d.fired[t_fired (&d, "fr.bloctel", NULL)].outcome, PL_RULES_PASS);
    /* Monday 10 August 20:30 without consent: the next window is on the 11th, when consent is
     * required: waiting does not help. */
    now = t_local (paris, 2026, 8, 10, 20, 30, 0);
    s_facts (&t, paris, now);
    t.f.n_consents = 0;
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_string_equal (t_decisive (&d), "fr.consent");
    assert_int_equal (d.fired[d.decisive].at_ms, t_local (paris, 2026, 8, 11, 10, 0, 0));
}

static void
test_bloctel_until_10_august_2026 (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    /* More than the horizon before the rule lapses: a hit denies. */
    int64_t now = t_local (paris, 2025, 6, 2, 11, 0, 0);
    t_facts_t t;
    s_facts (&t, paris, now);
    t.lists[0].hit = true;
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_string_equal (t_decisive (&d), "fr.bloctel");
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_LISTED);
    t.lists[0].hit = false;
    t.lists[0].as_of_ms = now - 31 * T_DAY;                 /* 31 dates after: stale */
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_LIST_STALE);
    t.lists[0].as_of_ms = now - 30 * T_DAY;                 /* 30 dates after: valid */
    assert_int_equal (s_decide (e->cc, &t, now).verdict, PL_RULES_ALLOW);
    /* Still fresh now, stale by the next window: deny (re-screen first). */
    now = t_local (paris, 2025, 6, 2, 20, 30, 0);
    t.lists[0].as_of_ms = now - 30 * T_DAY + T_HOUR;
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_LIST_STALE);
    t.f.n_lists = 1;
    t.lists[0] = (pl_rules_list_t) { "internal-dnc", false, "v", now };
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_NOT_SCREENED);
    /* A contract exempts from Bloctel. */
    now = t_local (paris, 2026, 6, 2, 11, 0, 0);
    s_facts (&t, paris, now);
    t.lists[0].hit = true;
    t.contracts[t.f.n_contracts++] = (pl_rules_contract_t) { TENANT, SUBJECT, 1, 0 };
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_ALLOW);
    assert_int_equal (d.fired[t_fired (&d, "fr.bloctel", NULL)].outcome, PL_RULES_EXEMPT);
    /* The internal opposition list has no exemption. */
    t.lists[1].hit = true;
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_string_equal (t_decisive (&d), "fr.opposition");
}

/* A file cleaned through Bloctel is valid 30 days, in French dates: returned on Monday 5 May
 * 2025 at 08:00, it serves Wednesday 4 June to the end of its last window and is stale on the
 * 5th. (In 2025 the rule's lapse, 11 August 2026, is beyond the horizon: a stale file denies.) */
static void
test_a_bloctel_file_serves_calls_through_the_30th_date_after_it (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    int64_t copy = t_local (paris, 2025, 5, 5, 8, 0, 0);
    t_facts_t t;
    s_facts (&t, paris, copy);
    t.lists[0].as_of_ms = copy;
    assert_int_equal (s_decide (e->cc, &t, t_local (paris, 2025, 6, 4, 19, 59, 59)).verdict,
                      PL_RULES_ALLOW);
    pl_rules_decision_t d = s_decide (e->cc, &t, t_local (paris, 2025, 6, 5, 10, 0, 0));
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_string_equal (t_decisive (&d), "fr.bloctel");
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_LIST_STALE);
    assert_int_equal (d.fired[d.decisive].until_ms, t_local (paris, 2025, 6, 5, 0, 0, 0));
}

/* Bloctel lapses after 10 August 2026; from the 11th the consent rule applies. A listed lead
 * with a consent, asked on 3 August 2026, is legal at the first window of the 11th: DEFER, not
 * DENY. Without a consent nothing helps; with a contract the call is legal now. */
static void
test_a_bloctel_hit_with_a_consent_waits_for_11_august_2026 (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    int64_t now = t_local (paris, 2026, 8, 3, 11, 0, 0);
    t_facts_t t;
    s_facts (&t, paris, now);
    t.lists[0].hit = true;
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    if (d.verdict != PL_RULES_DEFER || d.defer_until_ms != t_local (paris, 2026, 8, 11, 10, 0, 0)) {
        t_dump (&d);
        fail_msg ("want a deferral to 2026-08-11 10:00 Paris");
    }
    int i = t_fired (&d, "fr.bloctel", NULL);
    assert_int_equal (d.fired[i].outcome, PL_RULES_DEFERS);
    assert_int_equal (d.fired[i].why, PL_RULES_WHY_LISTED);
    assert_int_equal (d.fired[i].until_ms, t_local (paris, 2026, 8, 11, 0, 0, 0));
    char text[256];
    pl_rules_reason (&d, (size_t) i, text, sizeof text);
    assert_non_null (strstr (text, "in force only until its last date"));
    /* A stale Bloctel file lapses with the rule as well. */
    t.lists[0].hit = false;
    t.lists[0].as_of_ms = now - 40 * T_DAY;
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    assert_int_equal (d.defer_until_ms, t_local (paris, 2026, 8, 11, 10, 0, 0));
    /* No consent: from the 11th the consent rule denies, so waiting does not help. */
    t.lists[0] = (pl_rules_list_t) { "bloctel", true, "v", now - T_DAY };
    t.f.n_consents = 0;
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_string_equal (t_decisive (&d), "fr.consent");
    /* A consent given on 6 August lifts nothing before the 11th, and is enough from then. */
    t_add_consent (&t, TENANT, t_local (paris, 2026, 8, 6, 15, 0, 0), 0, NULL, false);
    EXPECT_DEFER (s_decide (e->cc, &t, now), t_local (paris, 2026, 8, 11, 10, 0, 0));
    /* A contract that starts on 5 August exempts from Bloctel from then on. */
    t.f.n_consents = 0;
    t.contracts[t.f.n_contracts++] =
        (pl_rules_contract_t) { TENANT, SUBJECT, t_local (paris, 2026, 8, 5, 12, 0, 0), 0 };
    EXPECT_DEFER (s_decide (e->cc, &t, now), t_local (paris, 2026, 8, 5, 12, 0, 0));
}

static void
test_autodialed_caller_id_ranges (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    int64_t now = t_local (paris, 2026, 9, 15, 11, 0, 0);
    static const struct {
        const char *cli;
        pl_rules_verdict_t v;
        uint8_t why;
    } cases[] = {
        { "+33162000000", PL_RULES_ALLOW, PL_RULES_WHY_CLI_OK },
        { "+33949123456", PL_RULES_ALLOW, PL_RULES_WHY_CLI_OK },
        { "+339475123456", PL_RULES_ALLOW, PL_RULES_WHY_CLI_OK },
        { "+33612345678", PL_RULES_DENY, PL_RULES_WHY_CLI_FORBIDDEN },
        { "+33712345678", PL_RULES_DENY, PL_RULES_WHY_CLI_FORBIDDEN },
        { "+33145678901", PL_RULES_DENY, PL_RULES_WHY_CLI_NOT_ALLOWED },
        { "+339480123456", PL_RULES_ALLOW, PL_RULES_WHY_CLI_OK },
        { "0162000000", PL_RULES_DENY, PL_RULES_WHY_CLI_INVALID },
        { "", PL_RULES_DENY, PL_RULES_WHY_CLI_MISSING },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t_facts_t t;
        s_facts (&t, paris, now);
        t.f.cli = cases[i].cli;
        pl_rules_decision_t d = s_decide (e->cc_auto, &t, now);
        int f = t_fired (&d, "fr.cli", NULL);
        if (d.verdict != cases[i].v || d.fired[f].why != cases[i].why) {
            t_dump (&d);
            fail_msg ("cli %s", cases[i].cli);
        }
        /* Dialed by hand, the range rule does not apply. */
        d = s_decide (e->cc, &t, now);
        assert_int_equal (d.fired[t_fired (&d, "fr.cli", NULL)].outcome, PL_RULES_NA);
        t.f.dial = PL_RULES_DIAL_SET | PL_RULES_DIAL_AUTODIALED;
        assert_int_equal (s_decide (e->cc, &t, now).verdict, cases[i].v);
    }
}

static void
test_energy_renovation_canvassing_is_banned_without_a_contract (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    pl_rules_campaign_t *c = t_campaign (&e->w, "[campaign]\nprofile = fr-cc\ntenant = 1\n"
                                                "subject = 5\nsector = energy-renovation\n");
    int64_t now = t_local (paris, 2026, 9, 15, 11, 0, 0);
    t_facts_t t;
    s_facts (&t, paris, now);
    pl_rules_decision_t d = s_decide (c, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_string_equal (t_decisive (&d), "fr.sector-ban");
    t.contracts[t.f.n_contracts++] = (pl_rules_contract_t) { TENANT, SUBJECT, 1, 0 };
    d = s_decide (c, &t, now);
    assert_int_equal (d.verdict, PL_RULES_ALLOW);
    assert_int_equal (d.fired[t_fired (&d, "fr.sector-ban", NULL)].outcome, PL_RULES_EXEMPT);
    pl_rules_campaign_destroy (&c);
}

static void
test_collection_needs_the_letter_and_keeps_its_window_and_caps (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    int64_t now = t_local (paris, 2026, 9, 19, 19, 59, 59);   /* Saturday */
    t_facts_t t;
    s_facts (&t, paris, now);
    t.f.debt = 99;
    pl_rules_decision_t d = s_decide (e->dc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_string_equal (t_decisive (&d), "fr.dc-reference");
    t.f.letter_ref = "LR-2026-0042";
    t.f.letter_ms = t_utc (2026, 9, 20, 9, 0, 0);                 /* sent after now: none yet */
    assert_int_equal (s_decide (e->dc, &t, now).verdict, PL_RULES_DENY);
    t.f.letter_ms = t_utc (2026, 8, 1, 9, 0, 0);
    assert_int_equal (s_decide (e->dc, &t, now).verdict, PL_RULES_ALLOW);
    d = s_decide (e->dc, &t, now + T_SEC);                      /* Saturday 20:00 */
    assert_int_equal (d.defer_until_ms, t_local (paris, 2026, 9, 21, 8, 0, 0));
    /* 2 per 24 h per debt: two calls this Monday, a third waits 24 h after the first. */
    now = t_local (paris, 2026, 9, 21, 15, 0, 0);
    t_add_call (&t, t_local (paris, 2026, 9, 21, 8, 30, 0), TENANT, CAMP, 99, 0, 0);
    t_add_call (&t, t_local (paris, 2026, 9, 21, 12, 0, 0), TENANT, CAMP, 99, 0, 0);
    t_add_call (&t, t_local (paris, 2026, 9, 21, 13, 0, 0), TENANT, CAMP, 98, 0, 0);
    d = s_decide (e->dc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    assert_int_equal (d.defer_until_ms, t_local (paris, 2026, 9, 22, 8, 30, 0));
    /* The 15 August holiday applies to collection too (conservative default). */
    now = t_local (paris, 2026, 8, 15, 10, 0, 0);
    t.f.n_calls = 0;
    d = s_decide (e->dc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    assert_int_equal (d.defer_until_ms, t_local (paris, 2026, 8, 17, 8, 0, 0));
    /* fr.dc-payments is data, not a per-call check. */
    assert_int_equal (t_fired (&d, "fr.dc-payments", NULL), -1);
}

/* Amicable collection: a debtor who asked not to be called (the collector's own list, or a
 * request on record) is not called; the house rule is marked unconfirmed. */
static void
test_collection_honours_a_debtors_request_not_to_be_called (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    int64_t now = t_local (paris, 2026, 9, 15, 11, 0, 0);
    t_facts_t t;
    s_facts (&t, paris, now);
    t.f.debt = 99;
    t.f.letter_ref = "LR-2026-0042";
    t.f.letter_ms = t_utc (2026, 8, 1, 9, 0, 0);
    assert_int_equal (s_decide (e->dc, &t, now).verdict, PL_RULES_ALLOW);
    t.lists[1].hit = true;
    pl_rules_decision_t d = s_decide (e->dc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_string_equal (t_decisive (&d), "fr.dc-optout");
    assert_true (d.fired[d.decisive].unconfirmed);
    t.lists[1].hit = false;
    pl_rules_optout_t o = { PL_RULES_OPTOUT_MEDIUM, now - T_DAY, TENANT, 0, NULL, NULL, "phone" };
    t.f.optouts = &o;
    t.f.n_optouts = 1;
    d = s_decide (e->dc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_string_equal (t_decisive (&d), "fr.dc-optout");
}

/* fr.b2b: a business called about its professional activity, in a campaign for businesses, is
 * outside the consumer code's canvassing rules (consent, Bloctel, days, hours, 4 in 30 days,
 * refusal); its right to object is not. A consumer, a sole trader, or a business in a campaign
 * that is not for businesses: the consumer rules. */
static void
test_a_business_callee_is_outside_the_consumer_canvassing_rules (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *paris = t_zone (&e->w, "Europe/Paris");
    pl_rules_campaign_t *b2b = t_campaign (&e->w, "[campaign]\nprofile = fr-cc\ntenant = 1\nid = 10\n"
                                                  "subject = 5\ncallees = consumer business\n");
    assert_int_equal (pl_rules_campaign_callees (b2b),
                      PL_RULES_CALLEE_BIT (PL_RULES_CALLEE_CONSUMER) | PL_RULES_CALLEE_BIT (PL_RULES_CALLEE_BUSINESS));
    int64_t now = t_local (paris, 2026, 9, 15, 9, 0, 0);        /* a Tuesday, 09:00 */
    t_facts_t t;
    s_facts (&t, paris, now);
    t.f.n_consents = 0;
    t.f.callee = PL_RULES_CALLEE_BUSINESS;
    pl_rules_decision_t d = s_decide (b2b, &t, now);
    if (d.verdict != PL_RULES_ALLOW)
        t_dump (&d);
    assert_int_equal (d.verdict, PL_RULES_ALLOW);
    assert_int_equal (d.callee, PL_RULES_CALLEE_BUSINESS);
    static const char *const lifted[] = { "fr.consent", "fr.days", "fr.hours", "fr.freq", "fr.refusal" };
    for (size_t k = 0; k < sizeof lifted / sizeof *lifted; k++) {
        const pl_rules_fired_t *r = &d.fired[t_fired (&d, lifted[k], NULL)];
        assert_int_equal (r->outcome, PL_RULES_NA);
        assert_int_equal (r->why, PL_RULES_WHY_NOT_FOR_CALLEE);
        assert_string_equal (r->name, "fr.b2b");
    }
    /* Bloctel ended on 10 August: not in force says more than the callee. */
    assert_int_equal (d.fired[t_fired (&d, "fr.bloctel", NULL)].why, PL_RULES_WHY_NOT_IN_FORCE);
    const pl_rules_fired_t *b = &d.fired[t_fired (&d, "fr.b2b", NULL)];
    assert_int_equal (b->outcome, PL_RULES_PASS);
    assert_int_equal (b->why, PL_RULES_WHY_CALLEE_SCOPE);
    char text[8192], why[512];
    pl_rules_explain (&d, 0, text, sizeof text);
    assert_non_null (strstr (text, "callee   business"));
    pl_rules_reason (&d, (size_t) t_fired (&d, "fr.consent", NULL), why, sizeof why);
    assert_string_equal (why, "does not apply to a business callee (fr.b2b)");
    pl_rules_reason (&d, (size_t) t_fired (&d, "fr.b2b", NULL), why, sizeof why);
    assert_non_null (strstr (why, "not fr.consent fr.bloctel fr.days fr.hours fr.freq fr.refusal"));
    /* Business hours still hold, as a house window (fr.b2b-hours, policy): 20:30 waits for
     * 08:00 the next day, a Saturday for Monday. */
    d = s_decide (b2b, &t, t_local (paris, 2026, 9, 15, 20, 30, 0));
    EXPECT_DEFER (d, t_local (paris, 2026, 9, 16, 8, 0, 0));
    assert_string_equal (t_decisive (&d), "fr.b2b-hours");
    assert_true (d.fired[d.decisive].policy);
    EXPECT_DEFER (s_decide (b2b, &t, t_local (paris, 2026, 9, 19, 11, 0, 0)), t_local (paris, 2026, 9, 21, 8, 0, 0));
    /* Five calls in the last week: no cap for a business. */
    for (int k = 1; k <= 5; k++)
        t_add_call (&t, now - k * T_DAY, TENANT, CAMP, 0, SUBJECT, 0);
    assert_int_equal (s_decide (b2b, &t, now).verdict, PL_RULES_ALLOW);
    t.f.n_calls = 0;
    /* The same number as a consumer: no consent, denied. */
    t.f.callee = PL_RULES_CALLEE_CONSUMER;
    d = s_decide (b2b, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_string_equal (t_decisive (&d), "fr.consent");
    assert_int_equal (d.fired[t_fired (&d, "fr.b2b", NULL)].why, PL_RULES_WHY_CHECKED_AS_CONSUMER);
    /* A sole trader is read as a consumer. */
    t.f.callee = PL_RULES_CALLEE_SOLE_TRADER;
    d = s_decide (b2b, &t, now);
    assert_int_equal (d.callee, PL_RULES_CALLEE_CONSUMER);  /* the campaign is not for sole traders */
    assert_string_equal (t_decisive (&d), "fr.consent");
    /* A business in a campaign not declared for businesses: checked as a consumer. */
    t.f.callee = PL_RULES_CALLEE_BUSINESS;
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_int_equal (d.callee, PL_RULES_CALLEE_CONSUMER);
    assert_string_equal (t_decisive (&d), "fr.consent");
    /* A business on the professional's internal opposition list: denied. */
    t.lists[1].hit = true;
    d = s_decide (b2b, &t, now);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    assert_string_equal (t_decisive (&d), "fr.opposition");
    /* A campaign cannot lift a rule itself. */
    pl_rules_campaign_t *c = pl_rules_campaign_new (e->w.ps);
    assert_int_equal (pl_rules_campaign_load_text (c, "t.campaign", "[campaign]\nprofile = fr-cc\n"
                                                   "[rule campaign.mine]\nsource = s\ncallee = business\n"
                                                   "lifts = fr.opposition\n"), PL_ECONFIG);
    assert_non_null (strstr (pl_rules_campaign_errstr (c), "only add restrictions"));
    assert_int_equal (pl_rules_campaign_load_text (c, "t.campaign", "[campaign]\nprofile = fr-cc\n"
                                                   "[rule fr.b2b]\nlifts = fr.opposition\n"), PL_ECONFIG);
    assert_int_equal (pl_rules_campaign_load_text (c, "t.campaign", "[campaign]\nprofile = fr-cc\n"
                                                   "callees = robots\n"), PL_ECONFIG);
    assert_non_null (strstr (pl_rules_campaign_errstr (c), "t.campaign:3: key 'callees'"));
    pl_rules_campaign_destroy (&c);
    pl_rules_campaign_destroy (&b2b);
}

static int
s_setup (void **state)
{
    static s_env_t e;
    t_world_open (&e.w);
    e.cc = t_campaign (&e.w, "[campaign]\nprofile = fr-cc\ntenant = 1\nid = 10\nsubject = 5\n"
                             "name = test-fr\n");
    e.cc_auto = t_campaign (&e.w, "[campaign]\nprofile = fr-cc\ntenant = 1\nid = 10\n"
                                  "subject = 5\ndialing = autodialed\ncli = +33162000000\n");
    e.dc = t_campaign (&e.w, "[campaign]\nprofile = fr-dc\ntenant = 1\nid = 10\n");
    *state = &e;
    return 0;
}

static int
s_teardown (void **state)
{
    s_env_t *e = *state;
    pl_rules_campaign_destroy (&e->cc);
    pl_rules_campaign_destroy (&e->cc_auto);
    pl_rules_campaign_destroy (&e->dc);
    t_world_close (&e->w);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_two_daily_windows_at_the_second_in_paris_and_reunion),
        cmocka_unit_test (test_weekend_and_friday_evening_defer_to_monday_ten),
        cmocka_unit_test (test_dst_nights_in_paris_land_on_the_right_utc_instant),
        cmocka_unit_test (test_public_holidays_across_years_defer_to_the_next_working_day),
        cmocka_unit_test (test_reunion_abolition_day_binds_reunion_only),
        cmocka_unit_test (test_fifth_attempt_in_thirty_days_waits_for_the_oldest),
        cmocka_unit_test (test_long_histories_count_the_same),
        cmocka_unit_test (test_refusal_blocks_calls_for_60_days),
        cmocka_unit_test (test_consent_is_required_from_11_august_2026),
        cmocka_unit_test (test_bloctel_until_10_august_2026),
        cmocka_unit_test (test_a_bloctel_hit_with_a_consent_waits_for_11_august_2026),
        cmocka_unit_test (test_a_bloctel_file_serves_calls_through_the_30th_date_after_it),
        cmocka_unit_test (test_autodialed_caller_id_ranges),
        cmocka_unit_test (test_a_business_callee_is_outside_the_consumer_canvassing_rules),
        cmocka_unit_test (test_energy_renovation_canvassing_is_banned_without_a_contract),
        cmocka_unit_test (test_collection_needs_the_letter_and_keeps_its_window_and_caps),
        cmocka_unit_test (test_collection_honours_a_debtors_request_not_to_be_called),
    };
    return cmocka_run_group_tests_name ("rules_fr", tests, s_setup, s_teardown);
}
