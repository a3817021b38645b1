/*  test_rules_explain.c — decisions read well to a compliance officer.
 *
 *  The explanation of a denied or deferred call names the rule, its value, the facts it used
 *  and the binding zone, with instants in local time and UTC; numbers are masked unless asked.
 */
#include "test_rules_common.h"

static char s_buf[65536];

static void
s_has (const char *text, const char *needle)
{
    if (!strstr (text, needle))
        fail_msg ("explanation lacks \"%s\":\n%s", needle, text);
}

static void
test_a_deferred_call_names_rule_value_facts_and_binding_zone (void **state)
{
    t_world_t *w = *state;
    const pl_rules_tz_t *paris = t_zone (w, "Europe/Paris");
    pl_rules_campaign_t *c = t_campaign (w, "[campaign]\nprofile = fr-cc\ntenant = 1\n"
                                            "name = rentrée\n");
    int64_t now = t_local (paris, 2026, 9, 18, 20, 0, 0);   /* Friday 20:00 */
    t_facts_t t;
    t_facts_init (&t, "+33612345678", PL_RULES_LINE_MOBILE, paris);
    t_add_list (&t, "internal-dnc", false, now);
    t_add_consent (&t, 1, t_utc (2026, 9, 1, 8, 0, 0), 0, NULL, false);
    pl_rules_decision_t d;
    assert_int_equal (pl_rules_decide (c, &t.f, now, &d), 0);
    int len = pl_rules_explain (&d, 0, s_buf, sizeof s_buf);
    assert_int_equal (len, (int) strlen (s_buf));
    s_has (s_buf, "DEFER until Monday 2026-09-21 10:00:00 CEST (Europe/Paris) = "
                  "2026-09-21T08:00:00Z");
    s_has (s_buf, "decided by fr.hours (hours = 10:00-13:00 14:00-20:00)");
    s_has (s_buf, "Friday 2026-09-18 20:00:00 CEST in Europe/Paris is outside");
    s_has (s_buf, "source: Code de la consommation D223-9");
    s_has (s_buf, "Europe/Paris (from number prefix) [binding]");
    s_has (s_buf, "+3361234****");
    s_has (s_buf, "campaign rentrée");
    s_has (s_buf, "fr.days");
    s_has (s_buf, "is not a calling day");
    s_has (s_buf, "consent captured Tuesday 2026-09-01 10:00:00 CEST (test form)");
    assert_null (strstr (s_buf, "+33612345678"));
    pl_rules_explain (&d, PL_RULES_EXPLAIN_FULL_NUMBER, s_buf, sizeof s_buf);
    s_has (s_buf, "+33612345678");

    pl_rules_summary (&d, s_buf, sizeof s_buf);
    assert_string_equal (s_buf, "defer until 2026-09-21T08:00:00Z: fr.hours (10:00-13:00 "
                                "14:00-20:00) in Europe/Paris");

    /* Short form and truncation behave like snprintf. */
    int full = pl_rules_explain (&d, 0, NULL, 0);
    int brief = pl_rules_explain (&d, PL_RULES_EXPLAIN_DECISIVE, s_buf, sizeof s_buf);
    assert_true (brief < full);
    assert_null (strstr (s_buf, "rules checked"));
    char small[32];
    assert_int_equal (pl_rules_explain (&d, 0, small, sizeof small), full);
    assert_int_equal (strlen (small), sizeof small - 1);
    pl_rules_campaign_destroy (&c);
}

static void
test_a_cap_explains_count_window_and_when_the_oldest_leaves (void **state)
{
    t_world_t *w = *state;
    const pl_rules_tz_t *ny = t_zone (w, "America/New_York");
    const pl_rules_tz_t *chi = t_zone (w, "America/Chicago");
    pl_rules_campaign_t *c = t_campaign (w, "[campaign]\nprofile = us-dc\ntenant = 1\n");
    int64_t now = t_local (ny, 2026, 9, 15, 12, 0, 0);
    t_facts_t t;
    t_facts_init (&t, "+12125550123", PL_RULES_LINE_FIXED, ny);
    t_add_zone (&t, chi, PL_RULES_ZONE_POSTAL);
    t.f.debt = 5;
    for (int k = 0; k < 7; k++)
        t_add_call (&t, now - (6 - k) * T_DAY - 3 * T_HOUR, 1, 1, 5, 0, 0);
    pl_rules_decision_t d;
    assert_int_equal (pl_rules_decide (c, &t.f, now, &d), 0);
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    pl_rules_explain (&d, 0, s_buf, sizeof s_buf);
    s_has (s_buf, "decided by us.regf-7in7 (cap = 7 per 7d by tenant,debt)");
    s_has (s_buf, "7 matching calls in the 7 days before");
    s_has (s_buf, "reach the limit of 7");
    s_has (s_buf, "leaves the window");
    s_has (s_buf, "America/Chicago (from postal code)");
    s_has (s_buf, "12 CFR 1006.14(b)(2)");
    char line[512];
    int i = t_fired (&d, "us.regf-7in7", "after");
    assert_true (pl_rules_reason (&d, (size_t) i, line, sizeof line) > 0);
    assert_non_null (strstr (line, "no conversation within the cool-down"));
    assert_int_equal (pl_rules_reason (&d, 999, line, sizeof line), 0);
    pl_rules_campaign_destroy (&c);
}

static void
test_a_denied_call_names_the_list_its_copy_and_age (void **state)
{
    t_world_t *w = *state;
    const pl_rules_tz_t *ny = t_zone (w, "America/New_York");
    pl_rules_campaign_t *c = t_campaign (w, "[campaign]\nprofile = us-cc\ntenant = 1\n");
    int64_t now = t_local (ny, 2026, 9, 15, 12, 0, 0);
    t_facts_t t;
    t_facts_init (&t, "+12125550123", PL_RULES_LINE_FIXED, ny);
    t.lists[t.f.n_lists++] =
        (pl_rules_list_t) { "us-dnc", false, "2026-08-01-full", now - 45 * T_DAY };
    t_add_list (&t, "internal-dnc", false, now);
    pl_rules_decision_t d;
    assert_int_equal (pl_rules_decide (c, &t.f, now, &d), 0);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    pl_rules_explain (&d, 0, s_buf, sizeof s_buf);
    s_has (s_buf, "DENY\n");
    s_has (s_buf, "decided by us.dnc-national (list = us-dnc; max age 31d)");
    s_has (s_buf, "the us-dnc copy 2026-08-01-full of");
    s_has (s_buf, "is 45 days old");
    s_has (s_buf, "the maximum is 31 days");
    s_has (s_buf, "16 CFR 310.4(b)(1)(iii)(B)");
    pl_rules_summary (&d, s_buf, sizeof s_buf);
    s_has (s_buf, "deny: us.dnc-national");
    pl_rules_campaign_destroy (&c);
}

static void
test_every_fired_rule_renders_a_sentence (void **state)
{
    t_world_t *w = *state;
    static const char *const profiles[] = { "fr-cc", "fr-dc", "us-cc", "us-dc", "uk-cc",
                                            "uk-dc" };
    const pl_rules_tz_t *z = t_zone (w, "Europe/Paris");
    for (size_t p = 0; p < sizeof profiles / sizeof profiles[0]; p++) {
        char text[256];
        snprintf (text, sizeof text, "[campaign]\nprofile = %s\ntenant = 1\n"
                                     "dialing = autodialed\ncli = +33162000000\n", profiles[p]);
        pl_rules_campaign_t *c = t_campaign (w, text);
        for (int variant = 0; variant < 4; variant++) {
            int64_t now = t_utc (2026, 9, 15, 6 + 5 * variant, 0, 0);
            t_facts_t t;
            t_facts_init (&t, "+33612345678", PL_RULES_LINE_MOBILE, z);
            t_add_region (&t, "US-FL");
            if (variant & 1) {
                t_add_list (&t, "internal-dnc", variant == 3, now);
                t_add_list (&t, "us-dnc", true, now);
                t_add_list (&t, "tps", false, now - 40 * T_DAY);
                t_add_consent (&t, 1, now - T_DAY, 0, "+33612345678", true);
                t_add_call (&t, now - T_HOUR, 1, 1, 0, 0,
                            PL_RULES_CALL_MACHINE | PL_RULES_CALL_REFUSAL);
                t.f.ebr_purchase_ms = now - 30 * T_DAY;
                t.f.letter_ref = "L-1";
                t.f.letter_ms = now - T_DAY;
            }
            pl_rules_decision_t d;
            assert_int_equal (pl_rules_decide (c, &t.f, now, &d), 0);
            for (size_t i = 0; i < d.n_fired; i++) {
                char line[1024];
                int n = pl_rules_reason (&d, i, line, sizeof line);
                if (n <= 0 || strstr (line, "(null)") || strcmp (line, "pass") == 0)
                    fail_msg ("%s %s: \"%s\"", profiles[p], d.fired[i].rule, line);
            }
            assert_true (pl_rules_explain (&d, 0, s_buf, sizeof s_buf) > 200);
        }
        pl_rules_campaign_destroy (&c);
    }
}

static void
test_no_zone_means_no_local_time_and_a_denial (void **state)
{
    t_world_t *w = *state;
    pl_rules_campaign_t *c = t_campaign (w, "[campaign]\nprofile = us-cc\n");
    t_facts_t t;
    t_facts_init (&t, "+12125550123", PL_RULES_LINE_FIXED, NULL);
    pl_rules_decision_t d;
    assert_int_equal (pl_rules_decide (c, &t.f, t_utc (2026, 9, 15, 16, 0, 0), &d), 0);
    assert_int_equal (d.verdict, PL_RULES_DENY);
    pl_rules_explain (&d, 0, s_buf, sizeof s_buf);
    s_has (s_buf, "no candidate time zone");
    s_has (s_buf, "zones    none");
    assert_string_equal (pl_rules_verdict_name (PL_RULES_DEFER), "defer");
    assert_string_equal (pl_rules_outcome_name (PL_RULES_EXEMPT), "exempt");
    assert_string_equal (pl_rules_zone_source_name (PL_RULES_ZONE_POSTAL), "postal code");
    pl_rules_campaign_destroy (&c);
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
        cmocka_unit_test (test_a_deferred_call_names_rule_value_facts_and_binding_zone),
        cmocka_unit_test (test_a_cap_explains_count_window_and_when_the_oldest_leaves),
        cmocka_unit_test (test_a_denied_call_names_the_list_its_copy_and_age),
        cmocka_unit_test (test_every_fired_rule_renders_a_sentence),
        cmocka_unit_test (test_no_zone_means_no_local_time_and_a_denial),
    };
    return cmocka_run_group_tests_name ("rules_explain", tests, s_setup, s_teardown);
}
