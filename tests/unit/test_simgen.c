/*  test_simgen.c — the simulation's input bundle: the same seed gives the same bundle byte for
 *  byte, another seed another one, the shares hold, and every campaign file loads in the rules
 *  engine with the repository's profiles (the dialer's [dialer] sections skipped by it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pl_test.h"
#include "plateau/rules.h"
#include "plateau/rules_tz.h"
#include "check.h"
#include "simgen.h"

static const char *const s_files[] = {
    "campaigns/fr-canvass.campaign", "campaigns/us-collect.campaign",
    "campaigns/uk-sales.campaign",   "leads/fr-canvass.ndjson",
    "leads/us-collect.ndjson",       "leads/uk-sales.ndjson",
    "lists/manifest.tsv",            "optouts.ndjson",
    "consent-revocations.ndjson",    "manifest.json",
};
enum { S_N_FILES = sizeof s_files / sizeof s_files[0] };

static char *
s_read (const char *dir, const char *rel, size_t *len)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = malloc ((size_t) n + 1);
    if (buf && fread (buf, 1, (size_t) n, f) != (size_t) n) {
        free (buf);
        buf = NULL;
    }
    fclose (f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t) n;
    }
    return buf;
}

static long
s_lines (const char *dir, const char *rel)
{
    size_t n;
    char *t = s_read (dir, rel, &n);
    assert_non_null (t);
    long lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += t[i] == '\n';
    free (t);
    return lines;
}

static char *
s_generate (uint64_t seed, long leads)
{
    char *dir = pl_test_tmpdir ("simgen");
    assert_non_null (dir);
    char err[256] = "";
    pl_simgen_opts_t o = {.out = dir, .leads = leads, .seed = seed, .start = "2026-12-07"};
    int rc = pl_simgen_run (&o, err, sizeof err);
    if (rc != 0)
        fail_msg ("simgen: %s", err);
    return dir;
}

static void
test_same_seed_gives_the_same_bundle_byte_for_byte (void **state)
{
    char *a = s_generate (42, 2000), *b = s_generate (42, 2000), *c = s_generate (43, 2000);
    bool some_differ = false;
    for (size_t i = 0; i < S_N_FILES; i++) {
        size_t na, nb, nc;
        char *ta = s_read (a, s_files[i], &na), *tb = s_read (b, s_files[i], &nb),
             *tc = s_read (c, s_files[i], &nc);
        assert_non_null (ta);
        assert_non_null (tb);
        assert_non_null (tc);
        assert_int_equal (na, nb);
        assert_memory_equal (ta, tb, na);
        some_differ |= na != nc || memcmp (ta, tc, na) != 0;
        free (ta);
        free (tb);
        free (tc);
    }
    assert_true (some_differ);
    pl_test_rmdir (a);
    pl_test_rmdir (b);
    pl_test_rmdir (c);
    free (a);
    free (b);
    free (c);
}

static void
test_shares_of_the_three_campaigns (void **state)
{
    char *d = s_generate (5, 1000);
    assert_int_equal (s_lines (d, "leads/fr-canvass.ndjson"), 400);
    assert_int_equal (s_lines (d, "leads/us-collect.ndjson"), 400);
    assert_int_equal (s_lines (d, "leads/uk-sales.ndjson"), 200);
    assert_int_equal (s_lines (d, "lists/manifest.tsv"), 3);     /* us-dnc, tps, ctps */
    long optouts = s_lines (d, "optouts.ndjson");
    assert_true (optouts > 10 && optouts < 60);         /* ~3 % of 1,000 */
    pl_test_rmdir (d);
    free (d);
}

static void
test_campaign_files_load_in_the_rules_engine (void **state)
{
    char *d = s_generate (9, 300);
    char profiles[1024];
    snprintf (profiles, sizeof profiles, "%s/lib/rules/profiles", getenv ("PL_SOURCE_DIR"));
    pl_rules_tzdb_t *tz = pl_rules_tzdb_new (NULL);
    assert_non_null (tz);
    pl_rules_profiles_t *ps = pl_rules_profiles_new (tz);
    assert_non_null (ps);
    if (pl_rules_profiles_load_dir (ps, profiles) < 0)
        fail_msg ("profiles: %s", pl_rules_profiles_errstr (ps));
    for (int i = 0; i < 3; i++) {
        size_t n;
        char *text = s_read (d, s_files[i], &n);
        assert_non_null (text);
        pl_rules_campaign_t *c = pl_rules_campaign_new (ps);
        assert_non_null (c);
        if (pl_rules_campaign_load_text (c, s_files[i], text) != 0)
            fail_msg ("%s: %s", s_files[i], pl_rules_campaign_errstr (c));
        assert_non_null (pl_rules_campaign_profile (c));
        pl_rules_campaign_destroy (&c);
        free (text);
    }
    pl_rules_profiles_destroy (&ps);
    pl_rules_tzdb_destroy (&tz);
    pl_test_rmdir (d);
    free (d);
}

/* The checker reads the bundle as written: with an empty export every lead is lost. */
static void
test_the_checker_reads_the_bundle (void **state)
{
    char *d = s_generate (11, 300);
    char audit[1024];
    snprintf (audit, sizeof audit, "%s/empty.ndjson", d);
    FILE *f = fopen (audit, "w");
    assert_non_null (f);
    fclose (f);
    pl_check_t *ck = pl_check_new ();
    assert_non_null (ck);
    if (pl_check_load_bundle (ck, d) != 0 || pl_check_load_audit (ck, audit) != 0)
        fail_msg ("%s", pl_check_errstr (ck));
    pl_check_run (ck);
    assert_int_equal (pl_check_count (ck, "lead_lost"), 300);
    assert_int_equal (pl_check_violations (ck), 300);
    pl_check_destroy (&ck);
    pl_test_rmdir (d);
    free (d);
}

static void
test_bad_options_are_refused (void **state)
{
    char err[256];
    pl_simgen_opts_t o = {.out = "/nonexistent-dir/x", .leads = 10, .seed = 1,
                          .start = "2026-02-30"};
    assert_int_not_equal (pl_simgen_run (&o, err, sizeof err), 0);
    assert_non_null (strstr (err, "--start"));
    o.start = "2026-12-07";
    o.leads = 0;
    assert_int_not_equal (pl_simgen_run (&o, err, sizeof err), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_same_seed_gives_the_same_bundle_byte_for_byte),
        cmocka_unit_test (test_shares_of_the_three_campaigns),
        cmocka_unit_test (test_campaign_files_load_in_the_rules_engine),
        cmocka_unit_test (test_the_checker_reads_the_bundle),
        cmocka_unit_test (test_bad_options_are_refused),
    };
    return cmocka_run_group_tests_name ("simgen", tests, NULL, NULL);
}
