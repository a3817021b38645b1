/*  test_rules_holidays.c — Easter and the holiday calendars shipped with the profiles.
 *
 *  Easter is checked against a table and against a second, independent algorithm; French
 *  holidays (including the Easter-based ones and the overseas departments' own) and the US
 *  state holidays against dates worked out by hand for several years.
 */
#include "test_rules_common.h"

/* Western Easter by Gauss's formula in Lichtenberg's form (exceptions included): independent
 * of the library's algorithm. */
static void
s_easter_gauss (int y, int *m, int *d)
{
    int a = y % 19, k = y / 100;
    int mm = 15 + (3 * k + 3) / 4 - (8 * k + 13) / 25;
    int s = 2 - (3 * k + 3) / 4;
    int dd = (19 * a + mm) % 30;
    int r = (dd + a / 11) / 29;
    int og = 21 + dd - r;
    int sz = 7 - (y + y / 4 + s) % 7;
    int oe = 7 - (og - sz) % 7;
    int os = og + oe;           /* day of March, may exceed 31 */
    *m = os > 31 ? 4 : 3;
    *d = os > 31 ? os - 31 : os;
}

static void
test_easter_matches_the_table_and_an_independent_formula (void **state)
{
    (void) state;
    static const int table[][3] = {
        { 2000, 4, 23 }, { 2001, 4, 15 }, { 2002, 3, 31 }, { 2003, 4, 20 }, { 2004, 4, 11 },
        { 2005, 3, 27 }, { 2006, 4, 16 }, { 2007, 4, 8 },  { 2008, 3, 23 }, { 2009, 4, 12 },
        { 2010, 4, 4 },  { 2011, 4, 24 }, { 2012, 4, 8 },  { 2013, 3, 31 }, { 2014, 4, 20 },
        { 2015, 4, 5 },  { 2016, 3, 27 }, { 2017, 4, 16 }, { 2018, 4, 1 },  { 2019, 4, 21 },
        { 2020, 4, 12 }, { 2021, 4, 4 },  { 2022, 4, 17 }, { 2023, 4, 9 },  { 2024, 3, 31 },
        { 2025, 4, 20 }, { 2026, 4, 5 },  { 2027, 3, 28 }, { 2028, 4, 16 }, { 2029, 4, 1 },
        { 2030, 4, 21 }, { 2031, 4, 13 }, { 2032, 3, 28 }, { 2033, 4, 17 }, { 2034, 4, 9 },
        { 2035, 3, 25 }, { 2036, 4, 13 }, { 2037, 4, 5 },  { 2038, 4, 25 }, { 2039, 4, 10 },
        { 2040, 4, 1 },  { 1818, 3, 22 }, { 2285, 3, 22 }, { 1943, 4, 25 },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        int m = 0, d = 0;
        assert_int_equal (pl_rules_easter (table[i][0], &m, &d), 0);
        if (m != table[i][1] || d != table[i][2])
            fail_msg ("Easter %d: %d-%d, want %d-%d", table[i][0], m, d, table[i][1],
                      table[i][2]);
    }
    for (int y = 1583; y <= 4099; y++) {
        int m, d, gm, gd;
        pl_rules_easter (y, &m, &d);
        s_easter_gauss (y, &gm, &gd);
        if (m != gm || d != gd)
            fail_msg ("Easter %d: ours %d-%d, Gauss %d-%d", y, m, d, gm, gd);
        /* Always between 22 March and 25 April, always a Sunday. */
        int64_t days = pl_days_from_civil (y, m, d);
        assert_int_equal (pl_rules_weekday (days), 7);
        assert_true ((m == 3 && d >= 22) || (m == 4 && d <= 25));
    }
    assert_int_equal (pl_rules_easter (1582, NULL, NULL), PL_ERANGE);
}

static const char *
s_hol (t_world_t *w, const char *cal, const char *zone, const char *region, int y, int m, int d)
{
    const pl_rules_calendar_t *c = pl_rules_profiles_calendar (w->ps, cal);
    assert_non_null (c);
    const char *regions[1] = { region };
    return pl_rules_calendar_holiday (c, pl_days_from_civil (y, m, d),
                                      zone ? t_zone (w, zone) : NULL, regions, region ? 1 : 0);
}

static void
test_french_easter_based_and_fixed_holidays_across_years (void **state)
{
    t_world_t *w = *state;
    static const struct {
        int y;
        int em, ed;             /* Easter Monday */
        int am, ad;             /* Ascension */
        int wm, wd;             /* Whit Monday */
    } years[] = {
        { 2024, 4, 1, 5, 9, 5, 20 },  { 2025, 4, 21, 5, 29, 6, 9 },
        { 2026, 4, 6, 5, 14, 5, 25 }, { 2027, 3, 29, 5, 6, 5, 17 },
        { 2028, 4, 17, 5, 25, 6, 5 }, { 2029, 4, 2, 5, 10, 5, 21 },
        { 2030, 4, 22, 5, 30, 6, 10 }, { 2038, 4, 26, 6, 3, 6, 14 },
    };
    for (size_t i = 0; i < sizeof years / sizeof years[0]; i++) {
        int y = years[i].y;
        for (int z = 0; z < 3; z++) {
            const char *zone = z == 0 ? "Europe/Paris" : z == 1 ? "Indian/Reunion"
                                                                : "America/Martinique";
            const char *h;
            h = s_hol (w, "fr", zone, NULL, y, years[i].em, years[i].ed);
            assert_non_null (h);
            assert_string_equal (h, "Lundi de Pâques");
            h = s_hol (w, "fr", zone, NULL, y, years[i].am, years[i].ad);
            assert_non_null (h);
            assert_string_equal (h, "Ascension");
            h = s_hol (w, "fr", zone, NULL, y, years[i].wm, years[i].wd);
            assert_non_null (h);
            assert_string_equal (h, "Lundi de Pentecôte");
            h = s_hol (w, "fr", zone, NULL, y, 7, 14);
            assert_non_null (h);
            assert_string_equal (h, "Fête nationale");
            h = s_hol (w, "fr", zone, NULL, y, 8, 15);
            assert_non_null (h);
            assert_string_equal (h, "Assomption");
            /* The days around them are ordinary days. */
            assert_null (s_hol (w, "fr", zone, NULL, y, 7, 13));
            assert_null (s_hol (w, "fr", zone, NULL, y, 8, 16));
            int32_t yy;
            int mm, dd;
            pl_civil_from_days (pl_days_from_civil (y, years[i].em, years[i].ed) + 1,
                                      &yy, &mm, &dd);
            assert_null (s_hol (w, "fr", zone, NULL, yy, mm, dd));
            /* Easter Sunday itself is not in the list (it is a Sunday anyway). */
            pl_civil_from_days (pl_days_from_civil (y, years[i].em, years[i].ed) - 1,
                                      &yy, &mm, &dd);
            assert_null (s_hol (w, "fr", zone, NULL, yy, mm, dd));
        }
    }
}

static void
test_overseas_departments_have_their_own_abolition_day (void **state)
{
    t_world_t *w = *state;
    static const struct {
        const char *zone;
        int m, d;
    } days[] = {
        { "Indian/Reunion", 12, 20 },   { "America/Guadeloupe", 5, 27 },
        { "America/Martinique", 5, 22 }, { "America/Cayenne", 6, 10 },
        { "Indian/Mayotte", 4, 27 },
    };
    for (int y = 2024; y <= 2030; y++)
        for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
            const char *h = s_hol (w, "fr", days[i].zone, NULL, y, days[i].m, days[i].d);
            /* Some years a national holiday falls on the same day (Whit Monday 2030 is 10
             * June): then only "a holiday" can be asserted. */
            const char *national = s_hol (w, "fr", "Europe/Paris", NULL, y, days[i].m, days[i].d);
            if (!h || (!national && !strstr (h, "Abolition")))
                fail_msg ("%s %d-%02d-%02d: %s", days[i].zone, y, days[i].m, days[i].d,
                          h ? h : "not a holiday");
            if (national)
                continue;
            /* Not a holiday in the other departments. */
            for (size_t k = 0; k < sizeof days / sizeof days[0]; k++)
                if (k != i && !(days[k].m == days[i].m && days[k].d == days[i].d))
                    assert_null (s_hol (w, "fr", days[k].zone, NULL, y, days[i].m, days[i].d));
        }
    /* Alsace-Moselle: Good Friday and 26 December only with the region known. */
    assert_null (s_hol (w, "fr", "Europe/Paris", NULL, 2026, 4, 3));
    assert_non_null (s_hol (w, "fr", "Europe/Paris", "FR-67", 2026, 4, 3));
    assert_non_null (s_hol (w, "fr", "Europe/Paris", "FR-57", 2027, 12, 26));
    assert_null (s_hol (w, "fr", "Europe/Paris", "FR-75", 2027, 12, 26));
}

static void
test_us_state_holidays_follow_their_rules (void **state)
{
    t_world_t *w = *state;
    static const struct {
        const char *region;
        int y, m, d;
        const char *name;       /* NULL: not a holiday */
    } cases[] = {
        { "US-AL", 2026, 11, 26, "Thanksgiving Day" },      /* 4th Thursday */
        { "US-AL", 2026, 11, 19, NULL },
        { "US-UT", 2027, 1, 18, "Martin Luther King Jr. Day / Robert E. Lee Day" },
        { "US-RI", 2026, 5, 25, "Memorial Day" },           /* last Monday of May */
        { "US-RI", 2026, 5, 18, NULL },
        { "US-MS", 2026, 4, 27, "Confederate Memorial Day" }, /* last Monday of April */
        { "US-AL", 2026, 4, 27, "Confederate Memorial Day" }, /* 4th Monday of April */
        { "US-AL", 2027, 4, 26, "Confederate Memorial Day" },
        { "US-MS", 2027, 4, 26, "Confederate Memorial Day" },
        { "US-LA", 2026, 2, 17, "Mardi Gras" },
        { "US-LA", 2026, 4, 3, "Good Friday" },
        { "US-AL", 2026, 2, 17, NULL },
        { "US-AL", 2026, 7, 3, "Independence Day" },        /* 4 July 2026 is a Saturday */
        { "US-AL", 2026, 7, 4, "Independence Day" },
        { "US-AL", 2027, 12, 24, "Christmas Day" },         /* 25 Dec 2027 is a Saturday */
        { "US-AL", 2027, 12, 31, "New Year's Day" },        /* 1 Jan 2028 is a Saturday */
        { "US-UT", 2021, 6, 18, NULL },                     /* Juneteenth from 2022 only */
        { "US-UT", 2022, 6, 20, "Juneteenth" },             /* 19 June 2022 was a Sunday */
        { "US-UT", 2026, 7, 24, "Pioneer Day" },
        { "US-RI", 2026, 7, 24, NULL },
        { "US-RI", 2026, 8, 10, "Victory Day" },            /* 2nd Monday of August */
        { "US-FL", 2026, 11, 26, NULL },                    /* Florida is not in this list */
        { NULL, 2026, 11, 26, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *h = s_hol (w, "us-states", NULL, cases[i].region, cases[i].y, cases[i].m,
                               cases[i].d);
        if ((h == NULL) != (cases[i].name == NULL) || (h && strcmp (h, cases[i].name) != 0))
            fail_msg ("%s %d-%02d-%02d: got %s, want %s", cases[i].region ? cases[i].region : "-",
                      cases[i].y, cases[i].m, cases[i].d, h ? h : "none",
                      cases[i].name ? cases[i].name : "none");
    }
}

static void
test_calendar_lists_a_year_in_order (void **state)
{
    t_world_t *w = *state;
    const pl_rules_calendar_t *fr = pl_rules_profiles_calendar (w->ps, "fr");
    pl_rules_holiday_t out[32];
    size_t n = pl_rules_calendar_list (fr, 2026, t_zone (w, "Europe/Paris"), NULL, 0, out, 32);
    assert_int_equal (n, 11);
    for (size_t i = 1; i < n; i++)
        assert_true (out[i].days > out[i - 1].days);
    n = pl_rules_calendar_list (fr, 2026, t_zone (w, "Indian/Reunion"), NULL, 0, out, 32);
    assert_int_equal (n, 12);
    assert_string_equal (out[10].name, "Abolition de l'esclavage (La Réunion)");
    assert_int_equal (out[10].days, pl_days_from_civil (2026, 12, 20));
    assert_int_equal (pl_rules_calendar_list (fr, 2026, NULL, NULL, 0, out, 2), 11);
    assert_string_equal (pl_rules_calendar_id (fr), "fr");
    assert_false (pl_rules_calendar_unconfirmed (fr));
    assert_true (pl_rules_calendar_unconfirmed (pl_rules_profiles_calendar (w->ps, "us-states")));
    assert_non_null (strstr (pl_rules_calendar_source (fr), "L3133-1"));
}

static void
test_holiday_entries_are_validated (void **state)
{
    t_world_t *w = *state;
    static const struct {
        const char *value;
        const char *msg;
    } bad[] = {
        { "13-01 \"x\"", "bad date" },
        { "02-30 \"x\"", "bad date" },
        { "easter*2 \"x\"", "bad date" },
        { "mon#6/01 \"x\"", "bad date" },
        { "xyz#1/01 \"x\"", "bad date" },
        { "01-01", "missing holiday name" },
        { "01-01 bogus=1 \"x\"", "unknown option" },
        { "easter+1 observed \"x\"", "only applies to fixed" },
        { "01-01 from=2030 until=2020 \"x\"", "until= is before" },
        { "01-01 region=not-a-region-code \"x\"", "bad or too many regions" },
        { "01-01 zone=Europe/Atlantis \"x\"", "Europe/Atlantis" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf (text, sizeof text, "[calendar test-%zu]\nsource = test\nholiday = %s\n", i,
                  bad[i].value);
        int rc = pl_rules_profiles_load_text (w->ps, "bad.holidays", text);
        assert_int_equal (rc, PL_ECONFIG);
        const char *err = pl_rules_profiles_errstr (w->ps);
        if (!strstr (err, bad[i].msg) || !strstr (err, "bad.holidays:3: key 'holiday'"))
            fail_msg ("%s: error '%s' lacks '%s'", bad[i].value, err, bad[i].msg);
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
        cmocka_unit_test (test_easter_matches_the_table_and_an_independent_formula),
        cmocka_unit_test (test_french_easter_based_and_fixed_holidays_across_years),
        cmocka_unit_test (test_overseas_departments_have_their_own_abolition_day),
        cmocka_unit_test (test_us_state_holidays_follow_their_rules),
        cmocka_unit_test (test_calendar_lists_a_year_in_order),
        cmocka_unit_test (test_holiday_entries_are_validated),
    };
    return cmocka_run_group_tests_name ("rules_holidays", tests, s_setup, s_teardown);
}
