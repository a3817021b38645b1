/*  test_scrub_versions.c — versions of a list (services/scrub/lists.c, load.c): change lists add
 *  and delete on a base version and leave the base untouched; wildcard blocks come and go; rnd
 *  dates follow their numbers through a change; a saved version maps back from its file with
 *  the same answers, and a damaged or cut file is refused; a refused load changes nothing in
 *  force.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lists.h"
#include "pl_test.h"
#include "plateau/error.h"

#define TAKEN_MS 1777939200000LL        /* 2026-05-05 */
#define NEXT_DAY_MS (TAKEN_MS + 86400000LL)

static char s_path[4096];

static const char *
s_data (const char *name)
{
    const char *src = getenv ("PL_SOURCE_DIR");
    snprintf (s_path, sizeof s_path, "%s/tests/data/scrub/%s", src ? src : ".", name);
    return s_path;
}

static scrub_list_t *
s_load (const char *name, scrub_format_t format, scrub_load_mode_t mode, const char *file,
        const scrub_list_t *base, int64_t taken_ms)
{
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = { .name = name, .taken_ms = taken_ms, .format = format,
                               .mode = mode, .bad_lines = SCRUB_BAD_LINES_SKIP,
                               .kind = format == SCRUB_FORMAT_RND ? SCRUB_LIST_REASSIGNED
                                                                  : SCRUB_LIST_NATIONAL,
                               .default_region = "FR" };
    scrub_list_t *v = NULL;
    int rc = scrub_list_load_file (&o, s_data (file), base, r, &v);
    if (rc)
        fprintf (stderr, "%s: %s\n", file, scrub_load_report_errstr (r));
    assert_int_equal (rc, 0);
    scrub_load_report_destroy (&r);
    return v;
}

static scrub_list_t *
s_load_mem (const char *name, scrub_format_t format, scrub_load_mode_t mode, const char *body,
            const scrub_list_t *base)
{
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = { .name = name, .taken_ms = NEXT_DAY_MS, .format = format,
                               .mode = mode, .kind = SCRUB_LIST_INTERNAL,
                               .version = "v-next" };
    scrub_list_t *v = NULL;
    int rc = scrub_list_load_mem (&o, body, strlen (body), base, r, &v);
    if (rc)
        fprintf (stderr, "%s\n", scrub_load_report_errstr (r));
    assert_int_equal (rc, 0);
    scrub_load_report_destroy (&r);
    return v;
}

static bool
s_hit (scrub_list_t *v, const char *e164, scrub_hit_t *out)
{
    scrub_lists_t *set = scrub_lists_new ();
    assert_int_equal (scrub_lists_swap (set, v), 0);
    scrub_hit_t h;
    assert_int_equal (scrub_lists_lookup (set, e164, &h, 1), 1);
    scrub_lists_destroy (&set);
    if (out)
        *out = h;
    return h.hit;
}

static void
test_us_change_lists_add_and_delete_on_a_base_that_stays_as_it_was (void **state)
{
    (void) state;
    scrub_list_t *full = s_load ("us-dnc", SCRUB_FORMAT_US_DNC, SCRUB_LOAD_FULL,
                                 "us-dnc-full.txt", NULL, TAKEN_MS);
    assert_int_equal (scrub_list_count (full), 4);   /* 2015550123 2015550124 2122345678 7189876543 */

    scrub_list_t *added = s_load ("us-dnc", SCRUB_FORMAT_US_DNC, SCRUB_LOAD_ADD,
                                  "us-dnc-add.txt", full, NEXT_DAY_MS);
    assert_int_equal (scrub_list_count (added), 5);
    assert_true (s_hit (added, "+13052345678", NULL));
    assert_false (s_hit (full, "+13052345678", NULL));

    scrub_list_t *deleted = s_load ("us-dnc", SCRUB_FORMAT_US_DNC, SCRUB_LOAD_DELETE,
                                    "us-dnc-del.txt", added, NEXT_DAY_MS);
    assert_int_equal (scrub_list_count (deleted), 4);
    assert_false (s_hit (deleted, "+12015550123", NULL));
    assert_true (s_hit (added, "+12015550123", NULL));
    scrub_hit_t h;
    assert_true (s_hit (deleted, "+12015550124", &h));
    assert_string_equal (h.version, "us-dnc@2026-05-06");
    assert_int_equal (h.as_of_ms, NEXT_DAY_MS);

    /* one change file with both kinds of line (the bad action on line 4 is skipped) */
    scrub_list_t *changed = s_load ("us-dnc", SCRUB_FORMAT_US_DNC, SCRUB_LOAD_CHANGES,
                                    "us-dnc-changes.txt", full, NEXT_DAY_MS);
    assert_int_equal (scrub_list_count (changed), 4);
    assert_true (s_hit (changed, "+13052345678", NULL));
    assert_true (s_hit (changed, "+16462345678", NULL));
    assert_false (s_hit (changed, "+12015550123", NULL));
    assert_false (s_hit (changed, "+17189876543", NULL));
    assert_true (s_hit (changed, "+12122345678", NULL));
    assert_false (s_hit (changed, "+12122345679", NULL));

    scrub_list_destroy (&changed);
    scrub_list_destroy (&deleted);
    scrub_list_destroy (&added);
    scrub_list_destroy (&full);
}

static void
test_a_change_list_needs_a_base_of_the_same_list (void **state)
{
    (void) state;
    scrub_list_t *full = s_load ("us-dnc", SCRUB_FORMAT_US_DNC, SCRUB_LOAD_FULL,
                                 "us-dnc-full.txt", NULL, TAKEN_MS);
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = { .name = "tps", .taken_ms = TAKEN_MS,
                               .format = SCRUB_FORMAT_TPS, .mode = SCRUB_LOAD_ADD };
    scrub_list_t *v = NULL;
    assert_int_equal (scrub_list_load_file (&o, s_data ("tps-add.txt"), full, r, &v),
                      PL_EINVAL);
    assert_null (v);
    scrub_load_report_destroy (&r);
    scrub_list_destroy (&full);
}

static void
test_tps_daily_additions_apply_to_the_full_copy (void **state)
{
    (void) state;
    scrub_list_t *full = s_load ("tps", SCRUB_FORMAT_TPS, SCRUB_LOAD_FULL, "tps-full.txt",
                                 NULL, TAKEN_MS);
    scrub_list_t *next = s_load ("tps", SCRUB_FORMAT_TPS, SCRUB_LOAD_ADD, "tps-add.txt", full,
                                 NEXT_DAY_MS);
    assert_int_equal (scrub_list_count (next), scrub_list_count (full) + 2);
    assert_true (s_hit (next, "+447911123457", NULL));
    assert_true (s_hit (next, "+442079460001", NULL));
    assert_true (s_hit (next, "+442073787244", NULL));
    scrub_list_destroy (&next);
    scrub_list_destroy (&full);
}

static void
test_wildcard_blocks_match_the_longest_prefix_and_can_be_deleted (void **state)
{
    (void) state;
    scrub_list_t *v1 = s_load_mem ("internal-dnc", SCRUB_FORMAT_LINES, SCRUB_LOAD_FULL,
                                   "+33 8*\n+33899*\n+33612345678\n", NULL);
    scrub_hit_t h;
    assert_true (s_hit (v1, "+33899123456", &h));
    assert_string_equal (h.prefix, "+33899");
    assert_true (s_hit (v1, "+33812345678", &h));
    assert_string_equal (h.prefix, "+338");
    assert_true (s_hit (v1, "+33612345678", &h));
    assert_string_equal (h.prefix, "");
    assert_false (s_hit (v1, "+33712345678", NULL));
    assert_false (s_hit (v1, "+33", NULL));             /* shorter than every block */

    scrub_list_t *v2 = s_load_mem ("internal-dnc", SCRUB_FORMAT_LINES, SCRUB_LOAD_DELETE,
                                   "+33 8*\n", v1);
    assert_int_equal (scrub_list_prefix_count (v2), 1);
    assert_false (s_hit (v2, "+33812345678", NULL));
    assert_true (s_hit (v2, "+33899123456", &h));
    assert_string_equal (h.version, "v-next");
    scrub_list_destroy (&v2);
    scrub_list_destroy (&v1);
}

static void
test_rnd_changes_carry_dates_and_a_later_date_replaces_an_earlier_one (void **state)
{
    (void) state;
    scrub_list_t *v1 = s_load ("rnd", SCRUB_FORMAT_RND, SCRUB_LOAD_FULL, "rnd.txt", NULL,
                               TAKEN_MS);
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = { .name = "rnd", .kind = SCRUB_LIST_REASSIGNED,
                               .taken_ms = NEXT_DAY_MS, .format = SCRUB_FORMAT_RND,
                               .mode = SCRUB_LOAD_CHANGES };
    static const char body[] = "2015550123,2026-05-01,A\n2125551234,,D\n3055551234,2026-04-30,A\n";
    scrub_list_t *v2 = NULL;
    assert_int_equal (scrub_list_load_mem (&o, body, sizeof body - 1, v1, r, &v2), 0);
    scrub_hit_t h;
    assert_true (s_hit (v2, "+12015550123", &h));
    assert_int_equal (h.disconnected_ms, 1777593600000LL);      /* 2026-05-01 */
    assert_false (s_hit (v2, "+12125551234", NULL));
    assert_true (s_hit (v2, "+13055551234", &h));
    assert_int_equal (h.disconnected_ms, 1777507200000LL);      /* 2026-04-30 */
    assert_true (s_hit (v1, "+12015550123", &h));
    assert_int_equal (h.disconnected_ms, 1710460800000LL);      /* the base kept its date */
    scrub_list_destroy (&v2);
    scrub_list_destroy (&v1);
    scrub_load_report_destroy (&r);
}

/* Deleting every number of an rnd list leaves an empty dated version that change lists still
 * apply to. */
static void
test_an_rnd_list_emptied_by_deletions_takes_new_additions (void **state)
{
    (void) state;
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = { .name = "rnd", .kind = SCRUB_LIST_REASSIGNED, .taken_ms = TAKEN_MS,
                               .format = SCRUB_FORMAT_RND, .mode = SCRUB_LOAD_FULL };
    scrub_list_t *v1 = NULL, *v2 = NULL, *v3 = NULL;
    static const char full[] = "2015550123,2024-03-15\n", del[] = "2015550123\n",
                      add[] = "2015550124,2024-04-01\n";
    assert_int_equal (scrub_list_load_mem (&o, full, sizeof full - 1, NULL, r, &v1), 0);
    o.mode = SCRUB_LOAD_DELETE;
    o.taken_ms = NEXT_DAY_MS;
    assert_int_equal (scrub_list_load_mem (&o, del, sizeof del - 1, v1, r, &v2), 0);
    assert_int_equal (scrub_list_count (v2), 0);
    o.mode = SCRUB_LOAD_ADD;
    o.taken_ms = NEXT_DAY_MS + 86400000LL;
    int rc = scrub_list_load_mem (&o, add, sizeof add - 1, v2, r, &v3);
    if (rc)
        fprintf (stderr, "%s\n", scrub_load_report_errstr (r));
    assert_int_equal (rc, 0);
    scrub_hit_t h;
    assert_true (s_hit (v3, "+12015550124", &h));
    assert_int_equal (h.disconnected_ms, 1711929600000LL);      /* 2024-04-01 */
    assert_false (s_hit (v3, "+12015550123", NULL));
    scrub_list_destroy (&v3);
    scrub_list_destroy (&v2);
    scrub_list_destroy (&v1);
    scrub_load_report_destroy (&r);
}

static void
test_a_saved_version_maps_back_with_the_same_answers (void **state)
{
    (void) state;
    char *dir = pl_test_tmpdir ("scrub-versions");
    char path[4096];
    snprintf (path, sizeof path, "%s/bloctel.list", dir);
    scrub_list_t *v = s_load ("bloctel", SCRUB_FORMAT_BLOCTEL, SCRUB_LOAD_FULL,
                              "bloctel-returned.csv", NULL, TAKEN_MS);
    char detail[256];
    assert_int_equal (scrub_list_save (v, path, detail, sizeof detail), 0);
    scrub_list_t *m = NULL;
    assert_int_equal (scrub_list_map (path, &m, detail, sizeof detail), 0);
    assert_true (scrub_list_is_mapped (m));
    assert_string_equal (scrub_list_name (m), "bloctel");
    assert_string_equal (scrub_list_version (m), scrub_list_version (v));
    assert_int_equal (scrub_list_taken_ms (m), TAKEN_MS);
    assert_int_equal (scrub_list_count (m), scrub_list_count (v));
    assert_int_equal (scrub_list_clear_count (m), scrub_list_clear_count (v));
    assert_int_equal (scrub_list_bytes (m), scrub_list_bytes (v));
    static const char *const probes[] = { "+33612345678", "+33612345679", "+33145678901",
                                          "+33712345678", "+33699999999" };
    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
        scrub_hit_t a, b;
        assert_int_equal (s_hit (v, probes[i], &a), s_hit (m, probes[i], &b));
        assert_int_equal (a.known, b.known);
    }

    /* rnd dates and wildcard blocks survive the file too */
    char path2[4096];
    snprintf (path2, sizeof path2, "%s/rnd.list", dir);
    scrub_list_t *rv = s_load ("rnd", SCRUB_FORMAT_RND, SCRUB_LOAD_FULL, "rnd.txt", NULL,
                               TAKEN_MS);
    assert_int_equal (scrub_list_save (rv, path2, NULL, 0), 0);
    scrub_list_t *rm = NULL;
    assert_int_equal (scrub_list_map (path2, &rm, NULL, 0), 0);
    scrub_hit_t h;
    assert_true (s_hit (rm, "+12015550123", &h));
    assert_int_equal (h.disconnected_ms, 1710460800000LL);
    scrub_list_t *wv = s_load_mem ("internal-dnc", SCRUB_FORMAT_LINES, SCRUB_LOAD_FULL,
                                   "+1900*\n", NULL);
    assert_int_equal (scrub_list_save (wv, path2, NULL, 0), 0);      /* replaces the file */
    scrub_list_t *wm = NULL;
    assert_int_equal (scrub_list_map (path2, &wm, NULL, 0), 0);
    assert_true (s_hit (wm, "+19005550100", &h));
    assert_string_equal (h.prefix, "+1900");
    assert_true (s_hit (rm, "+12015550123", NULL));                 /* the old mapping lives */

    /* a flipped byte, then a file cut short: refused, never read */
    int fd = open (path, O_RDWR);
    assert_true (fd >= 0);
    uint8_t byte;
    off_t at = (off_t) scrub_list_bytes (v) - 100;
    assert_int_equal (pread (fd, &byte, 1, at), 1);
    byte ^= 0x10;
    assert_int_equal (pwrite (fd, &byte, 1, at), 1);
    scrub_list_t *bad = NULL;
    assert_int_equal (scrub_list_map (path, &bad, detail, sizeof detail), PL_ECORRUPT);
    assert_null (bad);
    assert_non_null (strstr (detail, "checks"));
    assert_int_equal (ftruncate (fd, (off_t) scrub_list_bytes (v) - 64), 0);
    close (fd);
    assert_int_equal (scrub_list_map (path, &bad, NULL, 0), PL_ECORRUPT);
    assert_int_equal (scrub_list_map ("/nonexistent/x.list", &bad, NULL, 0), PL_EIO);

    scrub_list_destroy (&wm);
    scrub_list_destroy (&wv);
    scrub_list_destroy (&rm);
    scrub_list_destroy (&rv);
    scrub_list_destroy (&m);
    scrub_list_destroy (&v);
    pl_test_rmdir (dir);
    free (dir);
}

static void
test_a_refused_load_leaves_the_version_in_force (void **state)
{
    (void) state;
    scrub_lists_t *set = scrub_lists_new ();
    scrub_list_t *v1 = s_load ("us-dnc", SCRUB_FORMAT_US_DNC, SCRUB_LOAD_FULL,
                               "us-dnc-full.txt", NULL, TAKEN_MS);
    assert_int_equal (scrub_lists_swap (set, v1), 0);
    scrub_list_t *base = scrub_lists_get (set, "us-dnc");
    assert_ptr_equal (base, v1);
    /* a change list cut short in its last line, refused as the caller asked */
    scrub_load_report_t *r = scrub_load_report_new (0);
    scrub_load_options_t o = { .name = "us-dnc", .taken_ms = NEXT_DAY_MS,
                               .format = SCRUB_FORMAT_US_DNC, .mode = SCRUB_LOAD_DELETE };
    static const char body[] = "201,5550123\n718,98765";
    scrub_list_t *v2 = NULL;
    assert_int_equal (scrub_list_load_mem (&o, body, sizeof body - 1, base, r, &v2), PL_EINVAL);
    assert_null (v2);
    scrub_hit_t h;
    assert_int_equal (scrub_lists_lookup (set, "+12015550123", &h, 1), 1);
    assert_true (h.hit);
    assert_string_equal (h.version, "us-dnc@2026-05-05");
    assert_int_equal (scrub_lists_count (set), 1);
    assert_null (scrub_lists_get (set, "tps"));
    assert_int_equal (scrub_lists_remove (set, "tps"), PL_ENOTFOUND);
    assert_int_equal (scrub_lists_remove (set, "us-dnc"), 0);
    assert_int_equal (scrub_lists_lookup (set, "+12015550123", &h, 1), 0);
    assert_int_equal (scrub_lists_lookup (set, "12015550123", &h, 1), PL_EINVAL);
    scrub_load_report_destroy (&r);
    scrub_list_destroy (&base);
    scrub_list_destroy (&v1);
    scrub_lists_destroy (&set);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_us_change_lists_add_and_delete_on_a_base_that_stays_as_it_was),
        cmocka_unit_test (test_a_change_list_needs_a_base_of_the_same_list),
        cmocka_unit_test (test_tps_daily_additions_apply_to_the_full_copy),
        cmocka_unit_test (test_wildcard_blocks_match_the_longest_prefix_and_can_be_deleted),
        cmocka_unit_test (test_rnd_changes_carry_dates_and_a_later_date_replaces_an_earlier_one),
        cmocka_unit_test (test_an_rnd_list_emptied_by_deletions_takes_new_additions),
        cmocka_unit_test (test_a_saved_version_maps_back_with_the_same_answers),
        cmocka_unit_test (test_a_refused_load_leaves_the_version_in_force),
    };
    return cmocka_run_group_tests_name ("scrub_versions", tests, NULL, NULL);
}
