/*  test_rules_tz.c — the TZif reader and UTC <-> local conversion of the rules engine.
 *
 *  Conversions are checked against glibc's localtime_r (an independent reader of the same
 *  tzdata) for many instants in zones chosen for their oddities: DST in both hemispheres,
 *  half-hour DST, transitions at 24:00 and 25:00, negative DST, zones that skipped a day.
 *  The test itself may set TZ; the library never does.
 */
#include "test_rules_common.h"
#include "pl_test.h"

#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const s_zones[] = {
    "Europe/Paris", "Europe/London", "Europe/Dublin", "America/New_York", "America/Chicago",
    "America/Denver", "America/Phoenix", "America/Los_Angeles", "America/Anchorage",
    "Pacific/Honolulu", "America/Indiana/Indianapolis", "America/Indiana/Knox",
    "America/Kentucky/Louisville", "America/Boise", "America/Puerto_Rico", "Indian/Reunion",
    "Indian/Mayotte", "America/Martinique", "America/Guadeloupe", "America/Cayenne",
    "Pacific/Noumea", "Pacific/Tahiti", "America/Miquelon", "Asia/Jerusalem", "America/Santiago",
    "Australia/Lord_Howe", "Australia/Sydney", "Pacific/Apia", "America/Nuuk",
    "Africa/Casablanca", "Antarctica/Troll", "Asia/Kolkata", "Asia/Kathmandu", "UTC",
};

static uint64_t s_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
s_rand (void)
{
    return pl_test_rand (&s_rng);
}

static void
test_conversions_match_glibc_across_zones_and_years (void **state)
{
    t_world_t *w = *state;
    char tzenv[128];
    for (size_t zi = 0; zi < sizeof s_zones / sizeof s_zones[0]; zi++) {
        const pl_rules_tz_t *z = t_zone (w, s_zones[zi]);
        snprintf (tzenv, sizeof tzenv, ":%s", s_zones[zi]);
        setenv ("TZ", tzenv, 1);
        tzset ();
        for (int i = 0; i < 4000; i++) {
            /* 1970 .. 2150, and a dense sample around now. */
            int64_t t = i % 2 ? (int64_t) (s_rand () % 5680000000ULL)
                              : 1700000000LL + (int64_t) (s_rand () % 500000000ULL);
            time_t tt = (time_t) t;
            struct tm g;
            localtime_r (&tt, &g);
            pl_rules_tm_t m;
            pl_rules_tz_local (z, t, &m);
            if (m.year != g.tm_year + 1900 || m.month != g.tm_mon + 1 || m.day != g.tm_mday
                || m.hour != g.tm_hour || m.minute != g.tm_min || m.second != g.tm_sec
                || m.utoff != g.tm_gmtoff || m.isdst != (g.tm_isdst > 0)
                || strcmp (m.abbr, g.tm_zone) != 0 || m.wday != (g.tm_wday ? g.tm_wday : 7))
                fail_msg ("%s at %lld: ours %04d-%02d-%02d %02d:%02d:%02d %+d %s dst=%d, glibc "
                          "%04d-%02d-%02d %02d:%02d:%02d %+ld %s dst=%d", s_zones[zi],
                          (long long) t, m.year, m.month, m.day, m.hour, m.minute, m.second,
                          m.utoff, m.abbr, m.isdst, g.tm_year + 1900, g.tm_mon + 1, g.tm_mday,
                          g.tm_hour, g.tm_min, g.tm_sec, g.tm_gmtoff, g.tm_zone, g.tm_isdst);
            /* And back: local -> UTC finds t among the candidates. */
            int64_t back_first = 0, back_last = 0;
            int64_t local = t + m.utoff;
            int rc = pl_rules_tz_utc (z, local, PL_RULES_TZ_FIRST, &back_first);
            pl_rules_tz_utc (z, local, PL_RULES_TZ_LAST, &back_last);
            assert_int_not_equal (rc, 2);
            if (back_first != t && back_last != t)
                fail_msg ("%s: local %lld maps to %lld / %lld, not %lld", s_zones[zi],
                          (long long) local, (long long) back_first, (long long) back_last,
                          (long long) t);
        }
    }
    unsetenv ("TZ");
    tzset ();
}

/* Paris, last Sunday of March 2026: 02:00 CET -> 03:00 CEST; last Sunday of October: 03:00
 * CEST -> 02:00 CET. New York, 8 March 2026 02:00 EST -> 03:00 EDT; 1 November 02:00 EDT ->
 * 01:00 EST. */
static void
test_gap_and_repeated_hour_resolve_exactly (void **state)
{
    t_world_t *w = *state;
    const pl_rules_tz_t *paris = t_zone (w, "Europe/Paris");
    const pl_rules_tz_t *ny = t_zone (w, "America/New_York");
    struct {
        const pl_rules_tz_t *z;
        int y, mo, d, h, mi;
        int rc;                 /* 0 once, 1 twice, 2 gap */
        int64_t first, last;    /* UTC seconds */
    } cases[] = {
        { paris, 2026, 3, 29, 1, 59, 0, t_utc (2026, 3, 29, 0, 59, 0) / 1000, 0 },
        { paris, 2026, 3, 29, 2, 0, 2, t_utc (2026, 3, 29, 1, 0, 0) / 1000, 0 },
        { paris, 2026, 3, 29, 2, 30, 2, t_utc (2026, 3, 29, 1, 0, 0) / 1000, 0 },
        { paris, 2026, 3, 29, 3, 0, 0, t_utc (2026, 3, 29, 1, 0, 0) / 1000, 0 },
        { paris, 2026, 10, 25, 2, 30, 1, t_utc (2026, 10, 25, 0, 30, 0) / 1000,
          t_utc (2026, 10, 25, 1, 30, 0) / 1000 },
        { paris, 2026, 10, 25, 3, 0, 0, t_utc (2026, 10, 25, 2, 0, 0) / 1000, 0 },
        { ny, 2026, 3, 8, 2, 30, 2, t_utc (2026, 3, 8, 7, 0, 0) / 1000, 0 },
        { ny, 2026, 3, 8, 3, 0, 0, t_utc (2026, 3, 8, 7, 0, 0) / 1000, 0 },
        { ny, 2026, 11, 1, 1, 30, 1, t_utc (2026, 11, 1, 5, 30, 0) / 1000,
          t_utc (2026, 11, 1, 6, 30, 0) / 1000 },
        { ny, 2026, 11, 1, 2, 0, 0, t_utc (2026, 11, 1, 7, 0, 0) / 1000, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t local = pl_days_from_civil (cases[i].y, cases[i].mo, cases[i].d) * 86400
                        + cases[i].h * 3600 + cases[i].mi * 60;
        int64_t u1 = 0, u2 = 0;
        int rc = pl_rules_tz_utc (cases[i].z, local, PL_RULES_TZ_FIRST, &u1);
        pl_rules_tz_utc (cases[i].z, local, PL_RULES_TZ_LAST, &u2);
        if (rc != cases[i].rc || u1 != cases[i].first
            || (cases[i].rc == 1 && u2 != cases[i].last))
            fail_msg ("case %zu: rc %d (want %d), first %lld (want %lld), last %lld", i, rc,
                      cases[i].rc, (long long) u1, (long long) cases[i].first, (long long) u2);
    }
}

static void
test_windows_open_in_the_gap_and_in_both_passes_of_the_repeated_hour (void **state)
{
    t_world_t *w = *state;
    const pl_rules_tz_t *paris = t_zone (w, "Europe/Paris");
    int64_t d = pl_days_from_civil (2026, 3, 29) * 86400;
    /* A window 02:30-04:00 on the spring night opens when the clocks jump to 03:00. */
    int64_t u = pl_rules_tz_next_local (paris, t_utc (2026, 3, 28, 12, 0, 0) / 1000,
                                        d + 9000, d + 14400);
    assert_int_equal (u, t_utc (2026, 3, 29, 1, 0, 0) / 1000);
    /* A window 02:00-02:30 that lies wholly in the gap never opens that night. */
    u = pl_rules_tz_next_local (paris, t_utc (2026, 3, 28, 12, 0, 0) / 1000, d + 7200, d + 9000);
    assert_true (u == PL_RULES_TZ_NEVER);
    /* Autumn: 02:00-02:30 happens twice; from 02:45 CEST (00:45Z) the second pass opens at
     * 02:00 CET (01:00Z). */
    d = pl_days_from_civil (2026, 10, 25) * 86400;
    u = pl_rules_tz_next_local (paris, t_utc (2026, 10, 25, 0, 45, 0) / 1000, d + 7200, d + 9000);
    assert_int_equal (u, t_utc (2026, 10, 25, 1, 0, 0) / 1000);
    /* From inside the first pass it is open at once. */
    u = pl_rules_tz_next_local (paris, t_utc (2026, 10, 25, 0, 10, 0) / 1000, d + 7200, d + 9000);
    assert_int_equal (u, t_utc (2026, 10, 25, 0, 10, 0) / 1000);
}

static void
test_civil_calendar_helpers_round_trip (void **state)
{
    (void) state;
    for (int64_t days = -800000; days < 800000; days += 37) {
        int32_t y;
        int m, d;
        pl_civil_from_days (days, &y, &m, &d);
        assert_int_equal (pl_days_from_civil (y, m, d), days);
    }
    assert_int_equal (pl_days_from_civil (1970, 1, 1), 0);
    assert_int_equal (pl_rules_weekday (0), 4);                                    /* Thursday */
    assert_int_equal (pl_rules_weekday (pl_days_from_civil (2026, 3, 2)), 1); /* Monday */
    assert_int_equal (pl_rules_weekday (pl_days_from_civil (2024, 2, 29)), 4);
    assert_int_equal (pl_rules_weekday (-1), 3);
}

static void
test_zone_loading_errors_are_precise (void **state)
{
    t_world_t *w = *state;
    assert_int_equal (pl_rules_tzdb_load (w->tz, "Europe/Nowhere", NULL), PL_ENOTFOUND);
    assert_non_null (strstr (pl_rules_tzdb_errstr (w->tz), "Europe/Nowhere"));
    assert_int_equal (pl_rules_tzdb_load (w->tz, "../etc/passwd", NULL), PL_EINVAL);
    assert_int_equal (pl_rules_tzdb_load (w->tz, "/etc/passwd", NULL), PL_EINVAL);
    assert_int_equal (pl_rules_tzdb_load (w->tz, "zone.tab", NULL), PL_ECORRUPT);
    assert_int_equal (pl_rules_tzdb_load_tzif (w->tz, "Bad/Magic", "TZxx", 4, NULL),
                      PL_ECORRUPT);

    /* Every truncation of a real file is refused (or, once the data is whole, accepted). */
    char path[4096];
    snprintf (path, sizeof path, "%s/Europe/Paris", t_zoneinfo ());
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    static unsigned char buf[1 << 16];
    size_t len = fread (buf, 1, sizeof buf, f);
    fclose (f);
    pl_rules_tzdb_t *db = pl_rules_tzdb_new (t_zoneinfo ());
    for (size_t cut = 0; cut < len; cut += 7) {
        char name[32];
        snprintf (name, sizeof name, "Cut/%zu", cut);
        int rc = pl_rules_tzdb_load_tzif (db, name, buf, cut, NULL);
        assert_true (rc == 0 || rc == PL_ECORRUPT);
    }
    /* Random bytes after a valid header never crash the reader. */
    for (int i = 0; i < 2000; i++) {
        unsigned char junk[512];
        memcpy (junk, buf, 64);
        for (size_t k = 20; k < sizeof junk; k++)
            junk[k] = (unsigned char) s_rand ();
        char name[32];
        snprintf (name, sizeof name, "Junk/%d", i);
        (void) pl_rules_tzdb_load_tzif (db, name, junk, sizeof junk, NULL);
    }
    pl_rules_tzdb_destroy (&db);
    pl_rules_tzdb_destroy (&db);   /* safe twice */
    assert_null (db);
}

static void
test_zoneinfo_directory_is_configurable (void **state)
{
    (void) state;
    char dir[512];
    snprintf (dir, sizeof dir, "%s/pl_rules_tz_XXXXXX", t_tmp ());
    assert_non_null (mkdtemp (dir));
    char sub[4200], dst[4300], src[4200];
    snprintf (sub, sizeof sub, "%s/Test", dir);
    assert_int_equal (mkdir (sub, 0700), 0);
    snprintf (src, sizeof src, "%s/Europe/Paris", t_zoneinfo ());
    snprintf (dst, sizeof dst, "%s/Zone", sub);
    FILE *in = fopen (src, "rb"), *out = fopen (dst, "wb");
    assert_non_null (in);
    assert_non_null (out);
    char b[8192];
    size_t n;
    while ((n = fread (b, 1, sizeof b, in)) > 0)
        fwrite (b, 1, n, out);
    fclose (in);
    fclose (out);
    char notz[4300];
    snprintf (notz, sizeof notz, "%s/README", dir);
    out = fopen (notz, "w");
    fputs ("not a zone\n", out);
    fclose (out);

    pl_rules_tzdb_t *db = pl_rules_tzdb_new (dir);
    const pl_rules_tz_t *z = NULL;
    assert_int_equal (pl_rules_tzdb_load (db, "Test/Zone", &z), 0);
    assert_string_equal (pl_rules_tz_name (z), "Test/Zone");
    assert_int_equal (pl_rules_tz_offset (z, t_utc (2026, 7, 1, 12, 0, 0) / 1000), 7200);
    assert_int_equal (pl_rules_tzdb_load (db, "Europe/Paris", NULL), PL_ENOTFOUND);
    assert_ptr_equal (pl_rules_tzdb_find (db, "Test/Zone"), z);
    assert_null (pl_rules_tzdb_find (db, "Europe/Paris"));
    assert_int_equal (pl_rules_tzdb_load_all (db), 1);     /* README skipped */
    assert_int_equal (pl_rules_tzdb_count (db), 1);
    pl_rules_tzdb_destroy (&db);

    db = pl_rules_tzdb_new (dir);
    assert_int_equal (pl_rules_tzdb_load_all (db), 1);
    assert_non_null (pl_rules_tzdb_find (db, "Test/Zone"));
    pl_rules_tzdb_destroy (&db);
    unlink (dst);
    unlink (notz);
    rmdir (sub);
    rmdir (dir);
}

static void
test_whole_system_tzdata_loads (void **state)
{
    (void) state;
    pl_rules_tzdb_t *db = pl_rules_tzdb_new (t_zoneinfo ());
    int n = pl_rules_tzdb_load_all (db);
    assert_true (n > 300);
    assert_non_null (pl_rules_tzdb_find (db, "Indian/Reunion"));
    assert_non_null (pl_rules_tzdb_find (db, "America/Indiana/Knox"));
    pl_rules_tzdb_destroy (&db);
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
        cmocka_unit_test (test_conversions_match_glibc_across_zones_and_years),
        cmocka_unit_test (test_gap_and_repeated_hour_resolve_exactly),
        cmocka_unit_test (test_windows_open_in_the_gap_and_in_both_passes_of_the_repeated_hour),
        cmocka_unit_test (test_civil_calendar_helpers_round_trip),
        cmocka_unit_test (test_zone_loading_errors_are_precise),
        cmocka_unit_test (test_zoneinfo_directory_is_configurable),
        cmocka_unit_test (test_whole_system_tzdata_loads),
    };
    return cmocka_run_group_tests_name ("rules_tz", tests, s_setup, s_teardown);
}
