/*  test_kit_timefmt.c — the one RFC 3339 parser and formatter, and civil-date conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "plateau/error.h"
#include "plateau/timefmt.h"

static void
test_valid_times_read_as_utc_milliseconds (void **state)
{
    static const struct {
        const char *text;
        int64_t ms;
    } good[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2026-03-01T10:00:00+01:00", INT64_C(1772355600000)},
        {"2026-03-01t09:00:00z", INT64_C(1772355600000)},
        {"2026-03-01 09:00:00.5Z", INT64_C(1772355600500)},
        {"2026-03-01T04:00:00.123456789-05:00", INT64_C(1772355600123)},
        {"2026-03-01T09:00:00-00:00", INT64_C(1772355600000)},
        {"2024-02-29T12:00:00Z", INT64_C(1709208000000)},          /* leap year */
        {"2000-02-29T00:00:00Z", INT64_C(951782400000)},           /* divisible by 400 */
        {"2026-12-31T23:59:59.999Z", INT64_C(1798761599999)},
        {"1969-12-31T23:59:59Z", -1000},                            /* before 1970: negative */
        {"2026-01-01T00:30:00+23:59", INT64_C(1767141060000)},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = -7;
        if (pl_time_parse_rfc3339 (good[i].text, &ms) != 0)
            fail_msg ("'%s' refused", good[i].text);
        if (ms != good[i].ms)
            fail_msg ("'%s' read as %lld, expected %lld", good[i].text, (long long) ms,
                      (long long) good[i].ms);
    }
}

static void
test_impossible_dates_and_malformed_times_are_refused (void **state)
{
    static const char *const bad[] = {
        "2026-02-30T00:00:00Z",     /* 30 February */
        "2026-04-31T00:00:00Z",     /* April has 30 days */
        "2025-02-29T00:00:00Z",     /* not a leap year */
        "2100-02-29T00:00:00Z",     /* century, not divisible by 400 */
        "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z",
        "2026-01-32T00:00:00Z",
        "2026-03-01T24:00:00Z", "2026-03-01T10:60:00Z", "2026-03-01T10:00:60Z",
        "2026-03-01", "2026-03-01T10:00:00", "2026-03-01T10:00Z", "2026-03-01T10:00:00+1:00",
        "2026-03-01T10:00:00+0100", "2026-03-01T10:00:00+24:00", "2026-03-01T10:00:00+01:60",
        "2026-03-01T10:00:00.Z", "2026-03-01T10:00:00.1234567890Z", "2026-03-01T10:00:00,5Z",
        "2026-03-01T10:00:00Zjunk", "2026-03-01X10:00:00Z", "+026-03-01T10:00:00Z",
        " 2026-03-01T10:00:00Z", "2026-3-01T10:00:00Z", "1772355600000", "", NULL};
    for (int i = 0; bad[i]; i++) {
        int64_t ms = 42;
        int rc = pl_time_parse_rfc3339 (bad[i], &ms);
        if (rc != PL_EINVAL)
            fail_msg ("'%s' gave %d, expected PL_EINVAL", bad[i], rc);
        assert_int_equal (ms, 42);                      /* left alone */
    }
    int64_t ms;
    assert_int_equal (pl_time_parse_rfc3339 (NULL, &ms), PL_EINVAL);
}

static void
test_format_writes_utc_with_milliseconds_and_reads_back (void **state)
{
    char buf[PL_TIME_RFC3339_MAX];
    assert_int_equal (pl_time_format_rfc3339 (INT64_C(1772355600250), buf, sizeof buf), 24);
    assert_string_equal (buf, "2026-03-01T09:00:00.250Z");
    pl_time_format_rfc3339 (0, buf, sizeof buf);
    assert_string_equal (buf, "1970-01-01T00:00:00.000Z");
    pl_time_format_rfc3339 (-1, buf, sizeof buf);
    assert_string_equal (buf, "1969-12-31T23:59:59.999Z");
    /* Truncation is reported the snprintf way. */
    char small[8];
    assert_int_equal (pl_time_format_rfc3339 (0, small, sizeof small), 24);
    assert_string_equal (small, "1970-01");
    /* Every millisecond of a spread of instants, both sides of 1970, survives a round trip. */
    for (int64_t ms = -INT64_C(62135596800000); ms < INT64_C(253402300799999);
         ms += INT64_C(7777777777)) {
        int64_t back;
        pl_time_format_rfc3339 (ms, buf, sizeof buf);
        assert_int_equal (pl_time_parse_rfc3339 (buf, &back), 0);
        assert_int_equal (back, ms);
    }
}

static void
test_civil_dates_round_trip_and_know_leap_years (void **state)
{
    assert_int_equal (pl_days_from_civil (1970, 1, 1), 0);
    assert_int_equal (pl_days_from_civil (2026, 3, 1), 20513);
    assert_int_equal (pl_days_from_civil (1969, 12, 31), -1);
    assert_int_equal (pl_days_from_civil (2000, 3, 1) - pl_days_from_civil (2000, 2, 28), 2);
    assert_int_equal (pl_days_from_civil (2100, 3, 1) - pl_days_from_civil (2100, 2, 28), 1);
    for (int64_t days = -800000; days < 800000; days += 13) {
        int32_t y;
        int m, d;
        pl_civil_from_days (days, &y, &m, &d);
        assert_true (pl_civil_valid (y, m, d));
        assert_int_equal (pl_days_from_civil (y, m, d), days);
    }
    int32_t y;
    pl_civil_from_days (pl_days_from_civil (2024, 2, 29), &y, NULL, NULL);
    assert_int_equal (y, 2024);
    assert_true (pl_civil_valid (2024, 2, 29));
    assert_false (pl_civil_valid (2100, 2, 29));
    assert_false (pl_civil_valid (2026, 2, 30));
    assert_false (pl_civil_valid (2026, 4, 31));
    assert_false (pl_civil_valid (2026, 13, 1));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_valid_times_read_as_utc_milliseconds),
        cmocka_unit_test (test_impossible_dates_and_malformed_times_are_refused),
        cmocka_unit_test (test_format_writes_utc_with_milliseconds_and_reads_back),
        cmocka_unit_test (test_civil_dates_round_trip_and_know_leap_years),
    };
    return cmocka_run_group_tests_name ("kit_timefmt", tests, NULL, NULL);
}
