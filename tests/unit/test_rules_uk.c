/*  test_rules_uk.c — United Kingdom: marketing calls (uk-cc) and debt collection (uk-dc).
 *
 *  TPS/CTPS screening and its 28 days, 72 hours after an abandoned call, no retry the same day
 *  after an answering machine (local midnight, across the clock changes), caller id, and the
 *  collection window with the times the customer asked for.
 */
#include "test_rules_common.h"

#define TENANT 1

typedef struct {
    t_world_t w;
    pl_rules_campaign_t *cc, *cc_nocli, *dc;
    const pl_rules_tz_t *london;
} s_env_t;

static void
s_facts (t_facts_t *t, const pl_rules_tz_t *london, int64_t now)
{
    t_facts_init (t, "+447700900123", PL_RULES_LINE_MOBILE, london);
    t_add_list (t, "tps", false, now - 3 * T_DAY);
    t_add_list (t, "ctps", false, now - 3 * T_DAY);
    t_add_list (t, "internal-dnc", false, now);
}

static pl_rules_decision_t
s_decide (const pl_rules_campaign_t *c, const t_facts_t *t, int64_t now)
{
    pl_rules_decision_t d;
    assert_int_equal (pl_rules_decide (c, &t->f, now, &d), 0);
    if (d.verdict == PL_RULES_DEFER) {
        pl_rules_decision_t again;
        assert_int_equal (pl_rules_decide (c, &t->f, d.defer_until_ms, &again), 0);
        assert_int_equal (again.verdict, PL_RULES_ALLOW);
        if (d.defer_until_ms - T_SEC >= now) {
            assert_int_equal (pl_rules_decide (c, &t->f, d.defer_until_ms - T_SEC, &again), 0);
            assert_int_not_equal (again.verdict, PL_RULES_ALLOW);
        }
    }
    return d;
}

static void
s_expect (pl_rules_decision_t d, pl_rules_verdict_t v, int64_t until, int line)
{
    if (d.verdict != v || (v == PL_RULES_DEFER && d.defer_until_ms != until)) {
        t_dump (&d);
        fail_msg ("line %d: want %s", line, pl_rules_verdict_name (v));
    }
}
#define EXPECT(d, v, until) s_expect ((d), (v), (until), __LINE__)

static void
test_tps_and_ctps_screening (void **state)
{
    s_env_t *e = *state;
    int64_t now = t_local (e->london, 2026, 9, 15, 11, 0, 0);
    t_facts_t t;
    s_facts (&t, e->london, now);
    EXPECT (s_decide (e->cc, &t, now), PL_RULES_ALLOW, 0);
    t.lists[0].hit = true;
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "uk.tps");
    assert_string_equal (d.fired[d.decisive].name, "tps");
    /* The subscriber's consent to this caller lifts it. */
    t_add_consent (&t, TENANT, now - 10 * T_DAY, 0, NULL, false);
    d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_ALLOW, 0);
    assert_int_equal (d.fired[t_fired (&d, "uk.tps", NULL)].outcome, PL_RULES_EXEMPT);
    /* ... but not an own-list opt-out. */
    t.lists[2].hit = true;
    d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "uk.optout");
    /* Re-screen every 28 days (dates); both registers are needed. */
    s_facts (&t, e->london, now);
    t.lists[1].as_of_ms = now - 29 * T_DAY;
    d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_LIST_STALE);
    assert_string_equal (t_decisive (&d), "uk.ctps");
    assert_string_equal (d.fired[d.decisive].name, "ctps");
    t.f.n_lists = 1;
    d = s_decide (e->cc, &t, now);
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_NOT_SCREENED);
    assert_string_equal (t_decisive (&d), "uk.ctps");
    /* The registers apply by registration, whatever the lead calls its callee: a corporate
     * number on the CTPS is denied as a business, a sole trader on the TPS as a sole trader. */
    pl_rules_campaign_t *b2b = t_campaign (&e->w, "[campaign]\nprofile = uk-cc\ntenant = 1\n"
                                                  "callees = business sole-trader\ndialing = autodialed\ncli = +442079460000\n");
    s_facts (&t, e->london, now);
    t.f.callee = PL_RULES_CALLEE_BUSINESS;
    EXPECT (s_decide (b2b, &t, now), PL_RULES_ALLOW, 0);
    t.lists[1].hit = true;
    d = s_decide (b2b, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "uk.ctps");
    assert_int_equal (d.callee, PL_RULES_CALLEE_BUSINESS);
    s_facts (&t, e->london, now);
    t.f.callee = PL_RULES_CALLEE_SOLE_TRADER;
    t.lists[0].hit = true;
    d = s_decide (b2b, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "uk.tps");
    assert_int_equal (d.callee, PL_RULES_CALLEE_SOLE_TRADER);
    pl_rules_campaign_destroy (&b2b);
}

/* The TPS copy serves calls made no more than 28 days after its date, in London dates: a copy
 * of 1 March 2026 serves 29 March (the night the clocks go forward) to its last second. */
static void
test_a_tps_copy_serves_calls_through_the_28th_date_after_it (void **state)
{
    s_env_t *e = *state;
    int64_t copy = t_local (e->london, 2026, 3, 1, 9, 0, 0);
    t_facts_t t;
    s_facts (&t, e->london, copy);
    t.lists[0].as_of_ms = copy;
    t.lists[1].as_of_ms = copy;
    EXPECT (s_decide (e->cc, &t, t_local (e->london, 2026, 3, 29, 20, 59, 59)), PL_RULES_ALLOW,
            0);
    pl_rules_decision_t d = s_decide (e->cc, &t, t_local (e->london, 2026, 3, 30, 8, 0, 0));
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "uk.tps");
    assert_int_equal (d.fired[d.decisive].until_ms, t_local (e->london, 2026, 3, 30, 0, 0, 0));
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_LIST_STALE);
}

static void
test_no_new_call_for_72_hours_after_an_abandoned_call (void **state)
{
    s_env_t *e = *state;
    int64_t now = t_local (e->london, 2026, 9, 15, 11, 0, 0);
    t_facts_t t;
    s_facts (&t, e->london, now);
    int64_t abandoned = now - 71 * T_HOUR - 59 * T_MIN;
    t_add_call (&t, abandoned, TENANT, 1, 0, 0, PL_RULES_CALL_ABANDONED);
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DEFER, abandoned + 72 * T_HOUR);
    assert_string_equal (t_decisive (&d), "uk.abandon-retry");
    t.calls[0].at_ms = now - 72 * T_HOUR;
    EXPECT (s_decide (e->cc, &t, now), PL_RULES_ALLOW, 0);
    t.calls[0].at_ms = abandoned;
    t.calls[0].flags |= PL_RULES_CALL_OTHER_NUMBER;          /* to another of their numbers */
    EXPECT (s_decide (e->cc, &t, now), PL_RULES_ALLOW, 0);
    t.calls[0].flags = PL_RULES_CALL_ABANDONED;
    t.f.dial = PL_RULES_DIAL_SET | PL_RULES_DIAL_AGENT_GUARANTEED;   /* an agent waits */
    d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_ALLOW, 0);
    assert_int_equal (d.fired[t_fired (&d, "uk.abandon-retry", NULL)].outcome, PL_RULES_NA);
}

static void
test_no_retry_the_same_day_after_an_answering_machine (void **state)
{
    s_env_t *e = *state;
    const struct {
        int64_t machine, now, until;    /* until 0: allowed */
    } cases[] = {
        /* Tuesday 15 September 2026 (BST): machine at 10:00, asked at 15:00 -> 00:00 BST. */
        { t_local (e->london, 2026, 9, 15, 10, 0, 0), t_local (e->london, 2026, 9, 15, 15, 0, 0),
          t_local (e->london, 2026, 9, 16, 0, 0, 0) },
        { t_local (e->london, 2026, 9, 15, 10, 0, 0), t_local (e->london, 2026, 9, 15, 23, 59, 59),
          t_local (e->london, 2026, 9, 16, 0, 0, 0) },
        { t_local (e->london, 2026, 9, 14, 23, 30, 0), t_local (e->london, 2026, 9, 15, 0, 0, 0),
          0 },
        /* Saturday 28 March 2026 (GMT): midnight is 00:00Z. */
        { t_utc (2026, 3, 28, 10, 0, 0), t_utc (2026, 3, 28, 18, 0, 0),
          t_utc (2026, 3, 29, 0, 0, 0) },
        /* Sunday 29 March (the clocks went forward at 01:00): midnight is 23:00Z. */
        { t_utc (2026, 3, 29, 9, 0, 0), t_utc (2026, 3, 29, 18, 0, 0),
          t_utc (2026, 3, 29, 23, 0, 0) },
        /* Sunday 25 October (the clocks went back): the day is 25 hours long. */
        { t_utc (2026, 10, 25, 0, 30, 0), t_utc (2026, 10, 25, 12, 0, 0),
          t_utc (2026, 10, 26, 0, 0, 0) },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t_facts_t t;
        s_facts (&t, e->london, cases[i].now);
        t_add_call (&t, cases[i].machine, TENANT, 1, 0, 0, PL_RULES_CALL_MACHINE);
        pl_rules_decision_t d = s_decide (e->cc, &t, cases[i].now);
        /* The rule's own deferral ends at local midnight; the house window (uk.hours) may then
         * push the call to 08:00. */
        int64_t retry = 0;
        for (size_t k = 0; k < d.n_fired; k++)
            if (strcmp (d.fired[k].rule, "uk.abandon-retry") == 0
                && d.fired[k].outcome == PL_RULES_DEFERS)
                retry = d.fired[k].until_ms;
        if (retry != cases[i].until) {
            t_dump (&d);
            fail_msg ("case %zu: uk.abandon-retry defers to the wrong instant", i);
        }
        if (cases[i].until) {
            assert_int_equal (d.verdict, PL_RULES_DEFER);
            assert_true (d.defer_until_ms >= cases[i].until);
            /* Collection is held to the same rule, then its own window (08:00). */
            d = s_decide (e->dc, &t, cases[i].now);
            assert_int_equal (d.verdict, PL_RULES_DEFER);
            assert_true (d.defer_until_ms >= cases[i].until);
        }
    }
}

static void
test_a_valid_caller_id_is_presented (void **state)
{
    s_env_t *e = *state;
    int64_t now = t_local (e->london, 2026, 9, 15, 11, 0, 0);
    t_facts_t t;
    s_facts (&t, e->london, now);
    pl_rules_decision_t d = s_decide (e->cc_nocli, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "uk.cli");
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_CLI_MISSING);
    t.f.cli = "+44 20 7946 0000";
    assert_int_equal (s_decide (e->cc_nocli, &t, now).fired[d.decisive].why,
                      PL_RULES_WHY_CLI_INVALID);
    t.f.cli = "+442079460000";
    EXPECT (s_decide (e->cc_nocli, &t, now), PL_RULES_ALLOW, 0);
}

static void
test_collection_window_and_the_customers_requested_times (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *l = e->london;
    t_facts_t t;
    int64_t now = t_local (l, 2026, 9, 15, 7, 59, 59);
    s_facts (&t, l, now);
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_DEFER, t_local (l, 2026, 9, 15, 8, 0, 0));
    EXPECT (s_decide (e->dc, &t, now + T_SEC), PL_RULES_ALLOW, 0);
    EXPECT (s_decide (e->dc, &t, t_local (l, 2026, 9, 15, 21, 0, 0)), PL_RULES_DEFER,
            t_local (l, 2026, 9, 16, 8, 0, 0));
    /* The customer asked: weekdays 18:00-20:00 only, or Saturday morning. */
    t.requested[t.f.n_requested++] = (pl_rules_window_t) { 0x1f, 18 * 3600, 20 * 3600 };
    t.requested[t.f.n_requested++] = (pl_rules_window_t) { 0x20, 9 * 3600, 12 * 3600 };
    now = t_local (l, 2026, 9, 15, 12, 0, 0);
    pl_rules_decision_t d = s_decide (e->dc, &t, now);
    EXPECT (d, PL_RULES_DEFER, t_local (l, 2026, 9, 15, 18, 0, 0));
    assert_string_equal (t_decisive (&d), "uk.dc");
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_OUTSIDE_REQUEST);
    EXPECT (s_decide (e->dc, &t, t_local (l, 2026, 9, 18, 20, 0, 0)), PL_RULES_DEFER,
            t_local (l, 2026, 9, 19, 9, 0, 0));
    EXPECT (s_decide (e->dc, &t, t_local (l, 2026, 9, 19, 12, 0, 0)), PL_RULES_DEFER,
            t_local (l, 2026, 9, 21, 18, 0, 0));
    EXPECT (s_decide (e->dc, &t, t_local (l, 2026, 9, 16, 19, 30, 0)), PL_RULES_ALLOW, 0);
    /* A request outside the statutory default still cannot widen it. */
    t.f.n_requested = 0;
    t.requested[t.f.n_requested++] = (pl_rules_window_t) { 0x7f, 6 * 3600, 23 * 3600 };
    EXPECT (s_decide (e->dc, &t, t_local (l, 2026, 9, 16, 7, 0, 0)), PL_RULES_DEFER,
            t_local (l, 2026, 9, 16, 8, 0, 0));
    /* Malformed requests are refused, not guessed. */
    t.requested[0] = (pl_rules_window_t) { 0x7f, 20 * 3600, 18 * 3600 };
    pl_rules_decision_t bad;
    assert_int_equal (pl_rules_decide (e->dc, &t.f, now, &bad), PL_EINVAL);
}

/* CONC 7.9: a customer's request about how to be contacted is honoured — not by telephone, or
 * not on this number — and so is the firm's own do-not-call list. */
static void
test_collection_honours_a_request_not_to_be_called (void **state)
{
    s_env_t *e = *state;
    int64_t now = t_local (e->london, 2026, 9, 15, 12, 0, 0);
    t_facts_t t;
    s_facts (&t, e->london, now);
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_ALLOW, 0);
    t.lists[2].hit = true;
    pl_rules_decision_t d = s_decide (e->dc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "uk.dc-optout");
    t.lists[2].hit = false;
    pl_rules_optout_t o = { PL_RULES_OPTOUT_MEDIUM, now - T_DAY, 1, 0, "phone",
                            "+447700900123", "email" };
    t.f.optouts = &o;
    t.f.n_optouts = 1;
    d = s_decide (e->dc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "uk.dc-optout");
    assert_string_equal (d.fired[d.decisive].name, "email");
    o.at_ms = now + T_SEC;                         /* made after the instant decided */
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_ALLOW, 0);
}

/* The UK has no statutory hours for marketing calls; uk.hours is a house window, 08:00-21:00
 * local, marked as policy (not law) in the profile and in every decision, and a campaign may
 * narrow it but not widen it. */
static void
test_marketing_calls_keep_the_house_window_marked_as_policy (void **state)
{
    s_env_t *e = *state;
    const pl_rules_tz_t *l = e->london;
    int64_t now = t_local (l, 2026, 9, 15, 3, 0, 0);
    t_facts_t t;
    s_facts (&t, l, now);
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DEFER, t_local (l, 2026, 9, 15, 8, 0, 0));
    assert_string_equal (t_decisive (&d), "uk.hours");
    assert_true (d.fired[d.decisive].policy);
    assert_false (d.fired[t_fired (&d, "uk.tps", NULL)].policy);
    EXPECT (s_decide (e->cc, &t, t_local (l, 2026, 9, 15, 20, 59, 59)), PL_RULES_ALLOW, 0);
    EXPECT (s_decide (e->cc, &t, t_local (l, 2026, 9, 15, 21, 0, 0)), PL_RULES_DEFER,
            t_local (l, 2026, 9, 16, 8, 0, 0));
    static char text[8192];
    pl_rules_explain (&d, 0, text, sizeof text);
    assert_non_null (strstr (text, "(house policy, not law)"));
    const pl_rules_profile_t *p = pl_rules_profiles_find (e->w.ps, "uk-cc");
    assert_true (pl_rules_rule_policy (pl_rules_profile_rule (p, "uk.hours")));
    assert_false (pl_rules_rule_policy (pl_rules_profile_rule (p, "uk.tps")));
    /* Narrowed per campaign; never widened; its basis is fixed. */
    pl_rules_campaign_t *c = t_campaign (&e->w, "[campaign]\nprofile = uk-cc\ntenant = 1\n"
                                                "cli = +442079460000\n"
                                                "[rule uk.hours]\nhours = 09:00-20:00\n");
    EXPECT (s_decide (c, &t, t_local (l, 2026, 9, 15, 20, 0, 0)), PL_RULES_DEFER,
            t_local (l, 2026, 9, 16, 9, 0, 0));
    assert_int_equal (pl_rules_campaign_set (c, "uk.hours", "hours", "07:00-21:00"),
                      PL_ECONFIG);
    assert_int_equal (pl_rules_campaign_set (c, "uk.hours", "basis", "law"), PL_ECONFIG);
    pl_rules_campaign_destroy (&c);
}

static int
s_setup (void **state)
{
    static s_env_t e;
    t_world_open (&e.w);
    e.cc = t_campaign (&e.w, "[campaign]\nprofile = uk-cc\ntenant = 1\ndialing = autodialed\n"
                             "cli = +442079460000\n");
    e.cc_nocli = t_campaign (&e.w, "[campaign]\nprofile = uk-cc\ntenant = 1\n");
    e.dc = t_campaign (&e.w, "[campaign]\nprofile = uk-dc\ntenant = 1\ncli = +442079460000\n");
    e.london = t_zone (&e.w, "Europe/London");
    *state = &e;
    return 0;
}

static int
s_teardown (void **state)
{
    s_env_t *e = *state;
    pl_rules_campaign_destroy (&e->cc);
    pl_rules_campaign_destroy (&e->cc_nocli);
    pl_rules_campaign_destroy (&e->dc);
    t_world_close (&e->w);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_tps_and_ctps_screening),
        cmocka_unit_test (test_a_tps_copy_serves_calls_through_the_28th_date_after_it),
        cmocka_unit_test (test_no_new_call_for_72_hours_after_an_abandoned_call),
        cmocka_unit_test (test_no_retry_the_same_day_after_an_answering_machine),
        cmocka_unit_test (test_a_valid_caller_id_is_presented),
        cmocka_unit_test (test_collection_window_and_the_customers_requested_times),
        cmocka_unit_test (test_collection_honours_a_request_not_to_be_called),
        cmocka_unit_test (test_marketing_calls_keep_the_house_window_marked_as_policy),
    };
    return cmocka_run_group_tests_name ("rules_uk", tests, s_setup, s_teardown);
}
