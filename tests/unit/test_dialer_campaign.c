/*  test_dialer_campaign.c — campaign files: the engine's sections and the dialer's, read from one
 *  file; every wrong value named by file, line and key; the abandon target never above the law's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "campaign.h"
#include "plateau/error.h"
#include "plateau/v1/common.pb-c.h"

static const char *s_us =
    "[campaign]\nprofile = us-dc\ntenant = collect-us\ncli = +12025550100\n\n"
    "[dialer]\nmode = predictive\npriority = 7\norder = newest\nring-timeout = 25s\namd = yes\n"
    "abandon-target = 2.5%\nmax-attempts = 6\n\n"
    "[dialer-retry busy]\ndelay = 15m\nmax = 3\n";

static int
s_setup (void **state)
{
    char err[512] = "";
    dialer_campaigns_t *c = dialer_campaigns_new (DIALER_PROFILES_DEFAULT, NULL, NULL, err, sizeof err);
    if (!c)
        fprintf (stderr, "%s\n", err);
    *state = c;
    return c ? 0 : -1;
}

static int
s_teardown (void **state)
{
    dialer_campaigns_t *c = *state;
    dialer_campaigns_destroy (&c);
    return 0;
}

static void
test_a_campaign_file_gives_the_engine_and_the_dialer_their_parts (void **state)
{
    dialer_campaigns_t *cs = *state;
    char err[512] = "";
    int rc = dialer_campaigns_load_text (cs, "us-collect", "us-collect.campaign", s_us, err, sizeof err);
    if (rc != 0)
        fail_msg ("%s", err);
    const dialer_campaign_t *c = dialer_campaigns_find (cs, "us-collect");
    assert_non_null (c);
    assert_string_equal (c->tenant, "collect-us");
    assert_string_equal (c->cli, "+12025550100");
    assert_string_equal (c->profile, "us-dc");
    assert_string_equal (c->jurisdiction, "US");
    assert_int_equal (c->kind, PLATEAU__V1__CALL_KIND__DEBT_COLLECTION);
    assert_int_equal (c->mode, DIALER_PREDICTIVE);
    assert_int_equal (c->priority, 7);
    assert_true (c->newest_first);
    assert_int_equal (c->ring_timeout_s, 25);
    assert_true (c->amd);
    assert_int_equal (c->abandon_ppm, 25000);
    assert_int_equal (c->max_attempts, 6);
    assert_int_equal (c->retry[DIALER_RETRY_BUSY].delay_ms, 15 * 60000);
    assert_int_equal (c->retry[DIALER_RETRY_BUSY].max, 3);
    /* Untouched outcomes keep their defaults. */
    assert_int_equal (c->retry[DIALER_RETRY_ABANDONED].delay_ms, 72 * 3600000LL);
    /* Collection is not telemarketing: no legal budget, the campaign's target as house policy. */
    assert_string_equal (c->abandon_rule, "dialer.abandon-target");
    assert_false (c->abandon_calendar_day);
    /* The same name twice is refused. */
    assert_int_equal (dialer_campaigns_load_text (cs, "us-collect", "again", s_us, err, sizeof err), PL_EEXIST);
}

static void
test_wrong_values_are_named_by_file_line_and_key (void **state)
{
    dialer_campaigns_t *cs = *state;
    struct { const char *text, *expect; } cases[] = {
        { "[campaign]\nprofile = fr-cc\ntenant = t\n[dialer]\nmode = turbo\n", "x.campaign:5: key 'mode'" },
        { "[campaign]\nprofile = fr-cc\ntenant = t\n[dialer]\nring-timeout = 10s\n", "x.campaign:5: key 'ring-timeout'" },
        { "[campaign]\nprofile = uk-cc\ntenant = t\n[dialer]\nabandon-target = 4%\n", "key 'abandon-target'" },
        { "[campaign]\nprofile = fr-cc\ntenant = t\n[dialer]\nspeed = 9\n", "x.campaign:5: key 'speed'" },
        { "[campaign]\nprofile = fr-cc\ntenant = t\n[dialer-retry maybe]\ndelay = 1h\n", "x.campaign:5: key 'delay'" },
        { "[campaign]\nprofile = fr-cc\ntenant = t\n[dialer-retry busy]\ndelay = 5s\n", "x.campaign:5: key 'delay'" },
        { "[campaign]\nprofile = fr-cc\n[dialer]\nmode = preview\n", "key 'tenant'" },
        /* The engine refuses what would widen the law, from the same file. */
        { "[campaign]\nprofile = fr-cc\ntenant = t\n[rule fr.hours]\nhours = 08:00-21:00\n", "fr.hours" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[512] = "", name[16];
        snprintf (name, sizeof name, "c%zu", i);
        int rc = dialer_campaigns_load_text (cs, name, "x.campaign", cases[i].text, err, sizeof err);
        assert_int_equal (rc, PL_ECONFIG);
        if (!strstr (err, cases[i].expect))
            fail_msg ("case %zu: '%s' does not say '%s'", i, err, cases[i].expect);
        assert_null (dialer_campaigns_find (cs, name));
    }
}

static void
test_uk_budget_is_per_calendar_day_in_london (void **state)
{
    dialer_campaigns_t *cs = *state;
    char err[512] = "";
    assert_int_equal (dialer_campaigns_load_text (cs, "uk-sales", "uk-sales.campaign",
                                                  "[campaign]\nprofile = uk-cc\ntenant = brit\n", err, sizeof err), 0);
    const dialer_campaign_t *c = dialer_campaigns_find (cs, "uk-sales");
    assert_true (c->abandon_calendar_day);
    assert_non_null (c->period_zone);
    assert_int_equal (c->mode, DIALER_PROGRESSIVE);
    assert_int_equal (c->abandon_ppm, 30000);
}

/* The example floor's campaigns, which the local stack runs, load as they are. */
static void
test_the_shipped_campaigns_load (void **state)
{
    (void) state;
    char err[512] = "";
    dialer_campaigns_t *cs = dialer_campaigns_new (DIALER_PROFILES_DEFAULT, NULL, DIALER_CAMPAIGNS_EXAMPLES, err, sizeof err);
    if (!cs)
        fail_msg ("%s", err);
    assert_int_equal (dialer_campaigns_count (cs), 3);
    assert_int_equal (dialer_campaigns_find (cs, "us-collect")->mode, DIALER_PREDICTIVE);
    assert_string_equal (dialer_campaigns_find (cs, "fr-canvass")->tenant, "acme-energie");
    assert_string_equal (dialer_campaigns_find (cs, "uk-sales")->abandon_rule, "uk.abandon");
    dialer_campaigns_destroy (&cs);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_a_campaign_file_gives_the_engine_and_the_dialer_their_parts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wrong_values_are_named_by_file_line_and_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_uk_budget_is_per_calendar_day_in_london, s_setup, s_teardown),
        cmocka_unit_test (test_the_shipped_campaigns_load),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
