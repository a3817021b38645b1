/*  test_rules_campaign.c — campaigns narrow their profile and never widen it.
 *
 *  Every way of loosening a rule (longer hours, another day, a higher cap, a shorter window, an
 *  older list, a dropped list, an extra exemption, a different condition…) is refused with the
 *  rule and key named; narrowing is accepted and changes decisions.
 */
#include "test_rules_common.h"

static void
test_narrowing_is_accepted (void **state)
{
    t_world_t *w = *state;
    static const struct {
        const char *profile, *rule, *key, *value;
    } ok[] = {
        { "fr-cc", "fr.hours", "hours", "10:00-12:00 14:30-19:00" },
        { "fr-cc", "fr.hours", "hours", "10:00-13:00 14:00-20:00" },   /* equal is fine */
        { "fr-cc", "fr.hours", "days", "mon-thu" },
        { "fr-cc", "fr.days", "days", "tue-thu" },
        { "fr-cc", "fr.days", "holidays", "fr us-states" },
        { "fr-cc", "fr.freq", "cap", "3 per 30d by tenant" },
        { "fr-cc", "fr.freq", "cap", "4 per 60d by tenant" },
        { "fr-cc", "fr.freq", "cap", "4 per 30d" },                    /* counts every call */
        { "fr-cc", "fr.refusal", "after", "refusal 90d by tenant" },
        { "fr-cc", "fr.bloctel", "max-age", "15d" },
        { "fr-cc", "fr.bloctel", "list", "bloctel litigator" },
        { "fr-cc", "fr.consent", "exempt-by", "fr.contract-exempt" },
        { "fr-cc", "fr.cli", "cli-allow", "+33162 +33163" },
        { "fr-cc", "fr.cli", "cli-forbid", "+336 +337 +338" },
        { "fr-cc", "fr.sector-ban", "sectors-banned", "energy-renovation home-adaptation solar" },
        { "fr-dc", "fr.dc-hours", "hours.sat", "09:00-12:00" },
        { "fr-dc", "fr.dc-hours", "cap", "1 per 7d by tenant,debt" },
        { "us-cc", "us.abandon", "max-rate", "2%" },
        { "us-cc", "us.abandon", "ring-at-least", "20s" },
        { "us-cc", "us.abandon", "agent-within", "1s" },
        { "us-cc", "us.ebr", "purchase", "12mo" },
        { "us-cc", "us.ebr", "inquiry", "60d" },
        { "us-cc", "us.dnc-national", "exempt-by", "us.ebr" },
        { "us-cc", "us.fl", "hours", "09:00-19:00" },
        { "us-dc", "us.regf-7in7", "after", "conversation 10d by tenant,debt" },
        { "uk-cc", "uk.tps", "max-age", "14d" },
        { "uk-cc", "uk.abandon-retry", "after", "abandoned 96h by tenant; machine 48h" },
        { "uk-cc", "campaign.quiet", "cap", "2 per 7d by tenant" },
        { "uk-cc", "campaign.evenings", "hours", "09:00-20:00" },
        { "uk-cc", "campaign.suppress", "list", "litigator" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        pl_rules_campaign_t *c = pl_rules_campaign_new (w->ps);
        assert_int_equal (pl_rules_campaign_set (c, "campaign", "profile", ok[i].profile), 0);
        int rc = pl_rules_campaign_set (c, ok[i].rule, ok[i].key, ok[i].value);
        if (rc != 0)
            fail_msg ("%s %s = %s refused: %s", ok[i].rule, ok[i].key, ok[i].value,
                      pl_rules_campaign_errstr (c));
        const char *v = pl_rules_campaign_param (c, ok[i].rule, ok[i].key);
        assert_non_null (v);
        assert_memory_equal (v, ok[i].value, strlen (v));
        pl_rules_campaign_destroy (&c);
        pl_rules_campaign_destroy (&c);
        assert_null (c);
    }
}

static void
test_widening_is_refused_with_rule_key_and_reason (void **state)
{
    t_world_t *w = *state;
    static const struct {
        const char *profile, *rule, *key, *value, *why;
    } bad[] = {
        { "fr-cc", "fr.hours", "hours", "09:00-13:00 14:00-20:00", "not inside" },
        { "fr-cc", "fr.hours", "hours", "10:00-13:00 14:00-20:30", "not inside" },
        { "fr-cc", "fr.hours", "hours", "12:00-15:00", "not inside" },
        { "fr-cc", "fr.days", "days", "mon-sat", "Saturday" },
        { "fr-cc", "fr.days", "holidays", "us-states", "drops the holiday calendar 'fr'" },
        { "fr-cc", "fr.freq", "cap", "5 per 30d by tenant", "at least as strict" },
        { "fr-cc", "fr.freq", "cap", "4 per 29d by tenant", "at least as strict" },
        { "fr-cc", "fr.freq", "cap", "4 per 30d by tenant,campaign", "at least as strict" },
        { "fr-cc", "fr.freq", "cap", "4 per 30d of conversations", "at least as strict" },
        { "fr-cc", "fr.refusal", "after", "refusal 59d by tenant", "at least as strict" },
        { "fr-cc", "fr.refusal", "after", "conversation 60d by tenant", "at least as strict" },
        { "fr-cc", "fr.bloctel", "max-age", "31d", "older than" },
        { "fr-cc", "fr.bloctel", "required", "no", "optional" },
        { "fr-cc", "fr.bloctel", "list", "litigator", "drops the list 'bloctel'" },
        { "fr-cc", "fr.bloctel", "until", "2027-01-01", "cannot change" },
        { "fr-cc", "fr.consent", "from", "2027-01-01", "cannot change" },
        { "fr-cc", "fr.consent", "exempt-by", "fr.contract-exempt fr.other", "adds the exemption" },
        { "fr-cc", "fr.hours", "exempt-by", "fr.contract-exempt", "adds the exemption" },
        { "fr-cc", "fr.consent", "consent", "written-for-number", "cannot change" },
        { "fr-cc", "fr.cli", "when", "prerecorded", "cannot change" },
        { "fr-cc", "fr.cli", "cli-allow", "+33", "outside the profile's ranges" },
        { "fr-cc", "fr.cli", "cli-forbid", "+336", "no longer forbids +337" },
        { "fr-cc", "fr.sector-ban", "sectors-banned", "energy-renovation", "home-adaptation" },
        { "fr-cc", "fr.hours", "source", "none", "cannot change" },
        { "fr-cc", "fr.hours", "status", "unconfirmed", "cannot change" },
        { "fr-cc", "fr.hours", "cap", "1 per 1d", "no such check" },
        { "fr-cc", "fr.hours", "colour", "blue", "unknown key" },
        { "fr-cc", "fr.nothing", "hours", "10:00-11:00", "not in profile fr-cc" },
        { "fr-cc", "us.fl", "hours", "09:00-19:00", "not in profile fr-cc" },
        { "fr-dc", "fr.dc-hours", "hours.sun", "09:00-12:00", "excludes" },
        { "fr-dc", "fr.dc-hours", "cap", "2 per 24h by tenant,debt", "7 per 7d" },
        { "us-cc", "us.abandon", "max-rate", "5%", "above the profile's" },
        { "us-cc", "us.abandon", "ring-at-least", "10s", "shorter" },
        { "us-cc", "us.abandon", "agent-within", "3s", "longer" },
        { "us-cc", "us.abandon", "period", "7d", "cannot change" },
        { "us-cc", "us.abandon", "message", "none", "message is required" },
        { "us-cc", "us.ebr", "purchase", "24mo", "lengthens" },
        { "us-cc", "us.ebr", "inquiry", "120d", "lengthens" },
        { "us-cc", "us.ebr", "overridden-by", "litigator", "no longer overridden" },
        { "us-cc", "us.dnc-internal", "retain", "1y", "shorter" },
        { "us-cc", "us.dnc-internal", "honour-within", "20bd", "longer" },
        { "us-cc", "us.fl", "hours", "07:00-20:00", "not inside" },
        { "us-cc", "us.fl", "cap", "4 per 24h by tenant,subject", "at least as strict" },
        { "us-dc", "us.regf-7in7", "cap", "8 per 7d by tenant,debt", "at least as strict" },
        { "us-dc", "us.regf-7in7", "after", "conversation 6d by tenant,debt",
          "at least as strict" },
        { "uk-cc", "uk.abandon-retry", "after", "abandoned 72h by tenant,number",
          "machine same-day" },
        { "uk-cc", "uk.tps", "list", "ctps", "drops the list 'tps'" },
        { "uk-cc", "uk.tps", "exempt-by", "consent written-consent", "adds the exemption" },
        { "uk-cc", "campaign.x", "exemption", "contract", "only add restrictions" },
        { "uk-cc", "campaign.x", "max-rate", "1%", "only add restrictions" },
        { "uk-cc", "campaign.x", "hours", "25:00-26:00", "bad window" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pl_rules_campaign_t *c = pl_rules_campaign_new (w->ps);
        assert_int_equal (pl_rules_campaign_set (c, "campaign", "profile", bad[i].profile), 0);
        int rc = pl_rules_campaign_set (c, bad[i].rule, bad[i].key, bad[i].value);
        const char *err = pl_rules_campaign_errstr (c);
        if (rc != PL_ECONFIG || !strstr (err, bad[i].why) || !strstr (err, bad[i].rule))
            fail_msg ("%s %s = %s: rc %d, \"%s\" (want \"%s\")", bad[i].rule, bad[i].key,
                      bad[i].value, rc, err, bad[i].why);
        /* Refused means unchanged. */
        const char *now = pl_rules_campaign_param (c, bad[i].rule, bad[i].key);
        assert_true (now == NULL || strcmp (now, bad[i].value) != 0
                     || strcmp (bad[i].key, "cap") == 0 || strcmp (bad[i].key, "after") == 0);
        pl_rules_campaign_destroy (&c);
    }
}

static void
test_campaign_text_is_all_or_nothing_with_line_numbers (void **state)
{
    t_world_t *w = *state;
    pl_rules_campaign_t *c = t_campaign (w, "[campaign]\nprofile = fr-cc\ntenant = 7\n"
                                            "[rule fr.hours]\nhours = 10:00-12:00\n");
    int rc = pl_rules_campaign_load_text (c, "spring.campaign",
                                          "[campaign]\ntenant = 8\nname = spring\n"
                                          "[rule fr.freq]\ncap = 3 per 30d by tenant\n"
                                          "[rule fr.hours]\nhours = 09:00-12:00\n");
    assert_int_equal (rc, PL_ECONFIG);
    const char *err = pl_rules_campaign_errstr (c);
    if (!strstr (err, "spring.campaign") || !strstr (err, "fr.hours") || !strstr (err, "widen"))
        fail_msg ("error: %s", err);
    /* Nothing of the failed text stuck. */
    assert_string_equal (pl_rules_campaign_param (c, "fr.hours", "hours"), "10:00-12:00");
    assert_string_equal (pl_rules_campaign_param (c, "fr.freq", "cap"), "4 per 30d by tenant");
    assert_int_equal (pl_rules_campaign_load_text (c, "x", "[campaign]\nnope = 1\n"), PL_ECONFIG);
    assert_non_null (strstr (pl_rules_campaign_errstr (c), "x:2: key 'nope'"));
    assert_int_equal (pl_rules_campaign_load_text (c, "x", "[campaign]\ntenant = -4\n"),
                      PL_ECONFIG);
    assert_int_equal (pl_rules_campaign_load_text (c, "x", "[campaign]\ncli = 0162000000\n"),
                      PL_ECONFIG);
    assert_int_equal (pl_rules_campaign_load_text (c, "x", "[campaign]\nprofile = us-fl\n"),
                      PL_ECONFIG);
    assert_non_null (strstr (pl_rules_campaign_errstr (c), "overlay"));
    assert_int_equal (pl_rules_campaign_load_text (c, "x", "[campaign]\nprofile = uk-cc\n"),
                      PL_ECONFIG);   /* narrowing of fr rules already set */
    assert_string_equal (pl_rules_profile_id (pl_rules_campaign_profile (c)), "fr-cc");
    /* Two values of a multi-valued key in one section are both kept. */
    assert_int_equal (pl_rules_campaign_load_text (c, "y",
                                                   "[rule campaign.twice]\n"
                                                   "cap = 1 per 1d\ncap = 3 per 7d\n"),
                      0);
    pl_rules_campaign_destroy (&c);

    c = pl_rules_campaign_new (w->ps);
    assert_int_equal (
        pl_rules_campaign_load_text (c, "z", "[rule fr.hours]\nhours = 10:00-11:00\n"),
        PL_ECONFIG);
    assert_non_null (strstr (pl_rules_campaign_errstr (c), "profile"));
    assert_int_equal (pl_rules_campaign_set (c, "fr.hours", "hours", "10:00-11:00"), PL_ECONFIG);
    pl_rules_facts_t f = { 0 };
    pl_rules_decision_t d;
    assert_int_equal (pl_rules_decide (c, &f, 0, &d), PL_EINVAL);
    pl_rules_campaign_destroy (&c);
}

static void
test_narrowing_changes_decisions_and_budgets (void **state)
{
    t_world_t *w = *state;
    const pl_rules_tz_t *paris = t_zone (w, "Europe/Paris");
    pl_rules_campaign_t *c = t_campaign (w, "[campaign]\nprofile = fr-cc\ntenant = 1\n"
                                            "[rule fr.hours]\nhours = 10:00-12:00 14:00-18:00\n");
    t_facts_t t;
    t_facts_init (&t, "+33612345678", PL_RULES_LINE_MOBILE, paris);
    int64_t now = t_local (paris, 2026, 6, 3, 18, 30, 0);   /* Wednesday, before consent law */
    t_add_list (&t, "bloctel", false, now - T_DAY);
    t_add_list (&t, "internal-dnc", false, now);
    pl_rules_decision_t d;
    assert_int_equal (pl_rules_decide (c, &t.f, now, &d), 0);
    assert_int_equal (d.verdict, PL_RULES_DEFER);
    assert_string_equal (t_decisive (&d), "fr.hours");
    assert_int_equal (d.defer_until_ms, t_local (paris, 2026, 6, 4, 10, 0, 0));
    pl_rules_campaign_destroy (&c);

    c = t_campaign (w, "[campaign]\nprofile = us-cc\n[rule us.abandon]\nmax-rate = 2.5%\n");
    pl_rules_abandon_t a;
    assert_int_equal (pl_rules_campaign_abandon (c, &a), 0);
    assert_int_equal (a.max_rate_ppm, 25000);
    assert_int_equal (a.ring_min_ms, 15000);
    pl_rules_campaign_destroy (&c);
    c = t_campaign (w, "[campaign]\nprofile = fr-cc\n");
    assert_int_equal (pl_rules_campaign_abandon (c, &a), PL_ENOTFOUND);
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
        cmocka_unit_test (test_narrowing_is_accepted),
        cmocka_unit_test (test_widening_is_refused_with_rule_key_and_reason),
        cmocka_unit_test (test_campaign_text_is_all_or_nothing_with_line_numbers),
        cmocka_unit_test (test_narrowing_changes_decisions_and_budgets),
    };
    return cmocka_run_group_tests_name ("rules_campaign", tests, s_setup, s_teardown);
}
