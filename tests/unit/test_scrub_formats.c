/*  test_scrub_formats.c — every registry format loads from its sample in tests/data/scrub
 *  (services/scrub/load.c): the good lines become numbers of the version, every bad line is
 *  reported with its line number and reason, and the caller's choice decides between applying
 *  the good lines and refusing the whole version — never a silent partial load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lists.h"
#include "plateau/error.h"

#define TAKEN_MS 1777939200000LL        /* 2026-05-05T00:00:00Z */

static char s_path[4096];

static const char *
s_data (const char *name)
{
    const char *src = getenv ("PL_SOURCE_DIR");
    snprintf (s_path, sizeof s_path, "%s/tests/data/scrub/%s", src ? src : ".", name);
    return s_path;
}

static scrub_load_options_t
s_opts (const char *name, scrub_format_t format)
{
    return (scrub_load_options_t) { .name = name, .kind = SCRUB_LIST_NATIONAL,
                                    .taken_ms = TAKEN_MS, .format = format,
                                    .bad_lines = SCRUB_BAD_LINES_SKIP };
}

/* The bad lines a report kept, as line numbers. */
static size_t
s_bad_lines (const scrub_load_report_t *r, uint64_t *lines, size_t cap)
{
    size_t n = scrub_load_report_kept (r);
    for (size_t i = 0; i < n && i < cap; i++)
        assert_int_equal (scrub_load_report_bad_line (r, i, &lines[i], NULL), 0);
    return n;
}

static void
s_expect_bad (const scrub_load_report_t *r, const uint64_t *want, size_t n_want)
{
    uint64_t got[32];
    size_t n = s_bad_lines (r, got, 32);
    assert_int_equal (n, n_want);
    assert_int_equal (scrub_load_report_bad (r), n_want);
    for (size_t i = 0; i < n_want; i++)
        assert_int_equal (got[i], want[i]);
}

static const char *
s_reason (const scrub_load_report_t *r, size_t i)
{
    const char *reason = NULL;
    assert_int_equal (scrub_load_report_bad_line (r, i, NULL, &reason), 0);
    return reason;
}

/* Is e164 a hit of `v`? Through a list set, as the service asks. */
static bool
s_hit (scrub_list_t *v, const char *e164, scrub_hit_t *out)
{
    scrub_lists_t *set = scrub_lists_new ();
    assert_non_null (set);
    assert_int_equal (scrub_lists_swap (set, v), 0);
    scrub_hit_t h;
    assert_int_equal (scrub_lists_lookup (set, e164, &h, 1), 1);
    scrub_lists_destroy (&set);
    if (out)
        *out = h;
    return h.hit;
}

static scrub_list_t *
s_load (const scrub_load_options_t *o, const char *file, scrub_load_report_t *r)
{
    scrub_list_t *v = NULL;
    int rc = scrub_list_load_file (o, s_data (file), NULL, r, &v);
    if (rc != 0)
        fprintf (stderr, "load %s: %s\n", file, scrub_load_report_errstr (r));
    assert_int_equal (rc, 0);
    assert_non_null (v);
    return v;
}

static void
test_us_dnc_area_code_file_loads_and_names_its_bad_lines (void **state)
{
    (void) state;
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = s_opts ("us-dnc", SCRUB_FORMAT_US_DNC);
    o.jurisdiction = "US";
    scrub_list_t *v = s_load (&o, "us-dnc-full.txt", r);
    uint64_t bad[] = { 4, 5, 6, 7 };
    s_expect_bad (r, bad, 4);
    assert_string_equal (s_reason (r, 0), "not AAA,NNNNNNN");
    assert_string_equal (s_reason (r, 1), "not AAA,NNNNNNN");
    assert_string_equal (s_reason (r, 2), "not a NANP area code");
    assert_string_equal (s_reason (r, 3), "NANP exchange code must start with 2-9");
    assert_int_equal (scrub_load_report_lines (r), 8);
    assert_int_equal (scrub_load_report_good (r), 4);
    assert_int_equal (scrub_list_count (v), 4);
    scrub_hit_t h;
    assert_true (s_hit (v, "+12015550123", &h));
    assert_string_equal (h.list, "us-dnc");
    assert_string_equal (h.version, "us-dnc@2026-05-05");
    assert_string_equal (h.jurisdiction, "US");
    assert_int_equal (h.as_of_ms, TAKEN_MS);
    assert_true (h.known);
    assert_true (s_hit (v, "+17189876543", NULL));
    assert_false (s_hit (v, "+12015550125", NULL));
    assert_false (s_hit (v, "+33612345678", NULL));
    scrub_list_destroy (&v);
    scrub_load_report_destroy (&r);
}

static void
test_bad_lines_refuse_the_whole_version_unless_the_caller_chose_to_skip (void **state)
{
    (void) state;
    scrub_load_report_t *r = scrub_load_report_new (2);
    scrub_load_options_t o = s_opts ("us-dnc", SCRUB_FORMAT_US_DNC);
    o.bad_lines = SCRUB_BAD_LINES_REFUSE;
    scrub_list_t *v = (scrub_list_t *) 1;
    assert_int_equal (scrub_list_load_file (&o, s_data ("us-dnc-full.txt"), NULL, r, &v),
                      PL_EINVAL);
    assert_null (v);
    /* every bad line counted, the first two kept, and the refusal said */
    assert_int_equal (scrub_load_report_bad (r), 4);
    assert_int_equal (scrub_load_report_kept (r), 2);
    assert_non_null (strstr (scrub_load_report_errstr (r), "refused"));
    scrub_load_report_destroy (&r);
}

static void
test_tps_records_with_and_without_the_space_load_as_gb_numbers (void **state)
{
    (void) state;
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = s_opts ("tps", SCRUB_FORMAT_TPS);
    o.jurisdiction = "GB";
    scrub_list_t *v = s_load (&o, "tps-full.txt", r);
    uint64_t bad[] = { 6, 7 };
    s_expect_bad (r, bad, 2);
    assert_string_equal (s_reason (r, 0), "not a valid GB number: range not in use");
    assert_int_equal (scrub_list_count (v), 5);
    assert_true (s_hit (v, "+442073787244", NULL));
    assert_true (s_hit (v, "+441635506160", NULL));
    assert_true (s_hit (v, "+441915657153", NULL));
    assert_true (s_hit (v, "+447860338653", NULL));
    assert_true (s_hit (v, "+447911123456", NULL));
    assert_false (s_hit (v, "+447911123457", NULL));
    scrub_list_destroy (&v);
    scrub_load_report_destroy (&r);
}

static void
test_bloctel_answer_file_knows_registered_clear_and_unknown_numbers (void **state)
{
    (void) state;
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = s_opts ("bloctel", SCRUB_FORMAT_BLOCTEL);
    o.jurisdiction = "FR";
    scrub_list_t *v = s_load (&o, "bloctel-returned.csv", r);
    uint64_t bad[] = { 5, 6 };
    s_expect_bad (r, bad, 2);
    assert_string_equal (s_reason (r, 0), "not a valid FR number: too short");
    assert_non_null (strstr (s_reason (r, 1), "Bloctel status"));
    assert_int_equal (scrub_list_count (v), 2);
    assert_int_equal (scrub_list_clear_count (v), 2);
    scrub_hit_t h;
    assert_true (s_hit (v, "+33612345678", &h));
    assert_true (h.known);
    assert_true (s_hit (v, "+33612345679", NULL));
    assert_false (s_hit (v, "+33145678901", &h));          /* checked, clear */
    assert_true (h.known);
    assert_false (s_hit (v, "+33781234567", &h));
    assert_true (h.known);
    assert_false (s_hit (v, "+33699999999", &h));          /* never submitted */
    assert_false (h.known);
    /* the rules never see an unchecked number as clean */
    pl_rules_list_t rl;
    scrub_hit_to_rules (&h, 0, &rl);
    assert_true (rl.hit);
    assert_string_equal (rl.list, "bloctel");
    scrub_list_destroy (&v);
    scrub_load_report_destroy (&r);
}

static void
test_plain_lines_take_e164_national_numbers_and_wildcard_blocks (void **state)
{
    (void) state;
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = s_opts ("internal-dnc", SCRUB_FORMAT_LINES);
    o.kind = SCRUB_LIST_INTERNAL;
    o.default_region = "FR";
    scrub_list_t *v = s_load (&o, "lines-fr.txt", r);
    uint64_t bad[] = { 8, 9, 10 };
    s_expect_bad (r, bad, 3);
    assert_string_equal (s_reason (r, 0), "not a phone number");
    assert_non_null (strstr (s_reason (r, 2), "wildcard"));
    assert_int_equal (scrub_list_count (v), 3);
    assert_int_equal (scrub_list_prefix_count (v), 2);
    scrub_hit_t h;
    assert_true (s_hit (v, "+33612345678", &h));
    assert_string_equal (h.prefix, "");
    assert_true (s_hit (v, "+33698765432", NULL));
    assert_true (s_hit (v, "+33612345670", NULL));
    assert_true (s_hit (v, "+19005550100", &h));
    assert_string_equal (h.prefix, "+1900");
    assert_true (s_hit (v, "+442079460123", &h));
    assert_string_equal (h.prefix, "+44207946");
    assert_false (s_hit (v, "+442079560123", NULL));
    assert_false (s_hit (v, "+18005550100", NULL));
    scrub_list_destroy (&v);
    scrub_load_report_destroy (&r);
}

static void
test_csv_reads_the_named_column_with_quotes_and_reports_bad_rows (void **state)
{
    (void) state;
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = s_opts ("client:acme", SCRUB_FORMAT_CSV);
    o.kind = SCRUB_LIST_CLIENT;
    o.default_region = "FR";
    o.csv_column = "telephone";
    scrub_list_t *v = s_load (&o, "client.csv", r);
    uint64_t bad[] = { 4, 5, 7 };
    s_expect_bad (r, bad, 3);
    assert_string_equal (s_reason (r, 0), "empty number");
    assert_non_null (strstr (s_reason (r, 2), "unterminated quote"));
    assert_int_equal (scrub_list_count (v), 3);
    assert_true (s_hit (v, "+33612345678", NULL));
    assert_true (s_hit (v, "+33145678901", NULL));
    assert_true (s_hit (v, "+33698765431", NULL));

    /* a column that is not there refuses the file, whatever the choice */
    o.csv_column = "mobile";
    scrub_list_t *none = NULL;
    assert_int_equal (scrub_list_load_file (&o, s_data ("client.csv"), NULL, r, &none),
                      PL_EINVAL);
    assert_null (none);
    assert_non_null (strstr (scrub_load_report_errstr (r), "mobile"));
    scrub_list_destroy (&v);
    scrub_load_report_destroy (&r);
}

static void
test_rnd_keeps_each_numbers_latest_disconnect_date (void **state)
{
    (void) state;
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = s_opts ("rnd", SCRUB_FORMAT_RND);
    o.kind = SCRUB_LIST_REASSIGNED;
    o.jurisdiction = "US";
    scrub_list_t *v = s_load (&o, "rnd.txt", r);
    uint64_t bad[] = { 5, 6, 7 };
    s_expect_bad (r, bad, 3);
    assert_string_equal (s_reason (r, 0), "not a valid US number: too short");
    assert_non_null (strstr (s_reason (r, 1), "date"));
    assert_non_null (strstr (s_reason (r, 2), "no disconnect date"));
    assert_int_equal (scrub_list_count (v), 2);
    scrub_hit_t h;
    assert_true (s_hit (v, "+12015550123", &h));
    assert_int_equal (h.disconnected_ms, 1710460800000LL);     /* 2024-03-15 */
    assert_true (s_hit (v, "+12125551234", &h));
    assert_int_equal (h.disconnected_ms, 1735689600000LL);     /* 2025-01-01 */
    assert_false (s_hit (v, "+13055551234", &h));
    assert_int_equal (h.disconnected_ms, 0);

    /* "reassigned since the consent": only a disconnect on or after the consent's day */
    assert_true (s_hit (v, "+12015550123", &h));
    pl_rules_list_t rl;
    scrub_hit_to_rules (&h, 1704067200000LL, &rl);             /* consent 2024-01-01 */
    assert_true (rl.hit);
    scrub_hit_to_rules (&h, 1710460800000LL + 3600000, &rl);   /* consent that same day */
    assert_true (rl.hit);
    scrub_hit_to_rules (&h, 1717200000000LL, &rl);             /* consent 2024-06-01 */
    assert_false (rl.hit);
    scrub_list_destroy (&v);
    scrub_load_report_destroy (&r);
}

static void
test_a_last_line_without_newline_is_reported_as_cut_short (void **state)
{
    (void) state;
    static const char body[] = "201,5550123\n201,5550124\n212,23456";
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = s_opts ("us-dnc", SCRUB_FORMAT_US_DNC);
    o.bad_lines = SCRUB_BAD_LINES_REFUSE;
    scrub_list_t *v = NULL;
    assert_int_equal (scrub_list_load_mem (&o, body, sizeof body - 1, NULL, r, &v), PL_EINVAL);
    assert_null (v);
    uint64_t bad[] = { 3 };
    s_expect_bad (r, bad, 1);
    assert_non_null (strstr (s_reason (r, 0), "cut short"));
    scrub_load_report_destroy (&r);
}

static void
test_an_empty_full_list_is_refused_unless_allowed (void **state)
{
    (void) state;
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = s_opts ("us-dnc", SCRUB_FORMAT_US_DNC);
    scrub_list_t *v = NULL;
    assert_int_equal (scrub_list_load_mem (&o, "", 0, NULL, r, &v), PL_EINVAL);
    assert_null (v);
    o.allow_empty = true;
    assert_int_equal (scrub_list_load_mem (&o, "\n", 1, NULL, r, &v), 0);
    assert_int_equal (scrub_list_count (v), 0);
    assert_false (s_hit (v, "+12015550123", NULL));
    scrub_list_destroy (&v);
    scrub_load_report_destroy (&r);
}

static void
test_options_that_do_not_fit_are_refused_with_a_reason (void **state)
{
    (void) state;
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_list_t *v = NULL;
    scrub_load_options_t o = s_opts ("us-dnc", SCRUB_FORMAT_US_DNC);
    o.taken_ms = 0;
    assert_int_equal (scrub_list_load_mem (&o, "201,5550123\n", 12, NULL, r, &v), PL_EINVAL);
    o = s_opts ("us-dnc", SCRUB_FORMAT_US_DNC);
    o.mode = SCRUB_LOAD_ADD;                                /* no base */
    assert_int_equal (scrub_list_load_mem (&o, "201,5550123\n", 12, NULL, r, &v), PL_EINVAL);
    assert_non_null (strstr (scrub_load_report_errstr (r), "applies to"));
    assert_int_equal (scrub_list_load_file (&(scrub_load_options_t) { .name = "x",
                                                .taken_ms = TAKEN_MS },
                                            "/nonexistent/file", NULL, r, &v),
                      PL_EIO);
    assert_null (v);
    scrub_load_report_destroy (&r);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_us_dnc_area_code_file_loads_and_names_its_bad_lines),
        cmocka_unit_test (test_bad_lines_refuse_the_whole_version_unless_the_caller_chose_to_skip),
        cmocka_unit_test (test_tps_records_with_and_without_the_space_load_as_gb_numbers),
        cmocka_unit_test (test_bloctel_answer_file_knows_registered_clear_and_unknown_numbers),
        cmocka_unit_test (test_plain_lines_take_e164_national_numbers_and_wildcard_blocks),
        cmocka_unit_test (test_csv_reads_the_named_column_with_quotes_and_reports_bad_rows),
        cmocka_unit_test (test_rnd_keeps_each_numbers_latest_disconnect_date),
        cmocka_unit_test (test_a_last_line_without_newline_is_reported_as_cut_short),
        cmocka_unit_test (test_an_empty_full_list_is_refused_unless_allowed),
        cmocka_unit_test (test_options_that_do_not_fit_are_refused_with_a_reason),
    };
    return cmocka_run_group_tests_name ("scrub_formats", tests, NULL, NULL);
}
