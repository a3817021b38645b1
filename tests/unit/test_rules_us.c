/*  test_rules_us.c — United States: telemarketing (us-cc, with state overlays) and debt
 *  collection (us-dc), at the edges.
 *
 *  08:00-21:00 to the second, the DST nights in New York, the National and internal DNC lists
 *  with the EBR exemption (months computed exactly), wireless consent, revocation, reassigned
 *  numbers, Regulation F's 7-in-7 and 7 days after a conversation, a Florida lead whose area
 *  code says New York, Oklahoma, Maryland and state holidays.
 */
#include "test_rules_common.h"

#include "plateau/phone.h"

#define TENANT  1
#define SUBJECT 5
#define DEBT    777

typedef struct {
    t_world_t w;
    pl_rules_campaign_t *cc, *cc_auto, *dc, *dc_auto;
    const pl_rules_tz_t *ny, *chi, *la;
} s_env_t;

static void
s_facts (t_facts_t *t, const pl_rules_tz_t *zone, int64_t now)
{
    t_facts_init (t, "+12125550123", PL_RULES_LINE_FIXED, zone);
    t_add_list (t, "us-dnc", false, now - 2 * T_DAY);
    t_add_list (t, "internal-dnc", false, now);
    t->f.debt = DEBT;
}

static pl_rules_decision_t
s_decide (const pl_rules_campaign_t *c, const t_facts_t *t, int64_t now)
{
    pl_rules_decision_t d;
    assert_int_equal (pl_rules_decide (c, &t->f, now, &d), 0);
    if (d.verdict == PL_RULES_DEFER) {
        pl_rules_decision_t again;
        assert_int_equal (pl_rules_decide (c, &t->f, d.defer_until_ms, &again), 0);
        if (again.verdict != PL_RULES_ALLOW) {
            t_dump (&d);
            t_dump (&again);
            fail_msg ("defer_until is not allowed when asked again");
        }
        if (d.defer_until_ms - T_SEC >= now) {
            assert_int_equal (pl_rules_decide (c, &t->f, d.defer_until_ms - T_SEC, &again), 0);
            assert_int_not_equal (again.verdict, PL_RULES_ALLOW);
        }
    }
    return d;
}

#define EXPECT(d, verdict_, until_) s_expect ((d), (verdict_), (until_), __LINE__)

static void
s_expect (pl_rules_decision_t d, pl_rules_verdict_t v, int64_t until, int line)
{
    if (d.verdict != v || (v == PL_RULES_DEFER && d.defer_until_ms != until)) {
        t_dump (&d);
        fail_msg ("line %d: want %s", line, pl_rules_verdict_name (v));
    }
}

static void
test_eight_to_nine_local_to_the_second (void **state)
{
    s_env_t *e = *state;
    static const struct {
        int h, mi, s;
        pl_rules_verdict_t v;
        int ud, uh;
    } cases[] = {
        { 7, 59, 59, PL_RULES_DEFER, 15, 8 },  { 8, 0, 0, PL_RULES_ALLOW, 0, 0 },
        { 20, 59, 59, PL_RULES_ALLOW, 0, 0 },  { 21, 0, 0, PL_RULES_DEFER, 16, 8 },
        { 23, 30, 0, PL_RULES_DEFER, 16, 8 },  { 0, 0, 0, PL_RULES_DEFER, 15, 8 },
    };
    const pl_rules_tz_t *zones[] = { e->ny, e->la };
    for (int zi = 0; zi < 2; zi++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            int64_t now = t_local (zones[zi], 2026, 9, 15, cases[i].h, cases[i].mi, cases[i].s);
            t_facts_t t;
            s_facts (&t, zones[zi], now);
            pl_rules_decision_t d = s_decide (e->cc, &t, now);
            EXPECT (d, cases[i].v, t_local (zones[zi], 2026, 9, cases[i].ud, cases[i].uh, 0, 0));
            if (d.verdict == PL_RULES_DEFER)
                assert_string_equal (t_decisive (&d), "us.hours");
            /* Collection has the same window. */
            d = s_decide (e->dc, &t, now);
            EXPECT (d, cases[i].v, t_local (zones[zi], 2026, 9, cases[i].ud, cases[i].uh, 0, 0));
        }
}

static void
test_dst_nights_in_new_york (void **state)
{
    s_env_t *e = *state;
    const struct {
        int64_t now, until;
    } cases[] = {
        /* Saturday 7 March 2026 21:30 EST -> Sunday 08:00 EDT = 12:00Z. */
        { t_utc (2026, 3, 8, 2, 30, 0), t_utc (2026, 3, 8, 12, 0, 0) },
        /* 01:59:59 EST, a second before the jump. */
        { t_utc (2026, 3, 8, 6, 59, 59), t_utc (2026, 3, 8, 12, 0, 0) },
        /* 03:00 EDT, just after it. */
        { t_utc (2026, 3, 8, 7, 0, 0), t_utc (2026, 3, 8, 12, 0, 0) },
        /* Saturday 31 October 21:00 EDT -> Sunday 08:00 EST = 13:00Z. */
        { t_utc (2026, 11, 1, 1, 0, 0), t_utc (2026, 11, 1, 13, 0, 0) },
        /* 01:30 EDT, then 01:30 EST an hour later: both wait for 08:00 EST. */
        { t_utc (2026, 11, 1, 5, 30, 0), t_utc (2026, 11, 1, 13, 0, 0) },
        { t_utc (2026, 11, 1, 6, 30, 0), t_utc (2026, 11, 1, 13, 0, 0) },
        /* Sunday 1 November 20:59:59 EST is allowed; 21:00 EST = 02:00Z Monday is not. */
        { t_utc (2026, 11, 2, 1, 59, 59), 0 },
        { t_utc (2026, 11, 2, 2, 0, 0), t_utc (2026, 11, 2, 13, 0, 0) },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t_facts_t t;
        s_facts (&t, e->ny, cases[i].now);
        pl_rules_decision_t d = s_decide (e->cc, &t, cases[i].now);
        EXPECT (d, cases[i].until ? PL_RULES_DEFER : PL_RULES_ALLOW, cases[i].until);
    }
}

static void
test_national_dnc_with_ebr_exemption_and_list_age (void **state)
{
    s_env_t *e = *state;
    int64_t now = t_utc (2026, 7, 31, 16, 0, 0);      /* Friday 12:00 EDT */
    t_facts_t t;
    s_facts (&t, e->ny, now);
    t.lists[0].hit = true;
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "us.dnc-national");
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_LISTED);

    /* Purchase on 31 January 2025: 18 months end on 31 July 2026 at the same instant. */
    t.f.ebr_purchase_ms = t_utc (2025, 1, 31, 16, 0, 0);
    d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    d = s_decide (e->cc, &t, now - T_SEC);
    EXPECT (d, PL_RULES_ALLOW, 0);
    int i = t_fired (&d, "us.dnc-national", NULL);
    assert_int_equal (d.fired[i].outcome, PL_RULES_EXEMPT);
    assert_string_equal (d.fired[i].name, "us.ebr");
    i = t_fired (&d, "us.ebr", NULL);
    assert_int_equal (d.fired[i].until_ms, now);
    /* 31 August 2024 + 18 months = 28 February 2026 (no 31 February). */
    t.f.ebr_purchase_ms = t_utc (2024, 8, 31, 15, 0, 0);
    d = s_decide (e->cc, &t, t_utc (2026, 2, 27, 17, 0, 0));
    EXPECT (d, PL_RULES_ALLOW, 0);
    d = s_decide (e->cc, &t, t_utc (2026, 2, 28, 15, 0, 0));
    EXPECT (d, PL_RULES_DENY, 0);
    /* An inquiry gives 3 months. */
    t.f.ebr_purchase_ms = 0;
    t.f.ebr_inquiry_ms = now - 80 * T_DAY;
    EXPECT (s_decide (e->cc, &t, now), PL_RULES_ALLOW, 0);
    t.f.ebr_inquiry_ms = now - 100 * T_DAY;
    EXPECT (s_decide (e->cc, &t, now), PL_RULES_DENY, 0);
    /* A do-not-call request to the company overrides the EBR, and the internal list denies. */
    t.f.ebr_inquiry_ms = now - 10 * T_DAY;
    t.lists[1].hit = true;
    d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_int_equal (d.fired[t_fired (&d, "us.ebr", NULL)].why,
                      PL_RULES_WHY_EXEMPTION_OVERRIDDEN);
    assert_int_equal (d.fired[t_fired (&d, "us.dnc-national", NULL)].outcome, PL_RULES_DENIES);
    assert_int_equal (d.fired[t_fired (&d, "us.dnc-internal", NULL)].outcome, PL_RULES_DENIES);
    /* Prior express written consent also exempts from the national list. */
    t.lists[1].hit = false;
    t.f.ebr_inquiry_ms = 0;
    t_add_consent (&t, TENANT, now - 30 * T_DAY, 0, "+12125550123", true);
    d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_ALLOW, 0);
    assert_string_equal (d.fired[t_fired (&d, "us.dnc-national", NULL)].name, "written-consent");
    /* The copy consulted may be at most 31 days old, counted in dates. */
    t.f.n_consents = 0;
    t.lists[0].hit = false;
    t.lists[0].as_of_ms = now - 32 * T_DAY;
    d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_LIST_STALE);
    t.lists[0].as_of_ms = now - 31 * T_DAY;
    EXPECT (s_decide (e->cc, &t, now), PL_RULES_ALLOW, 0);
    t.f.n_lists = 1;                                   /* internal list not consulted */
    d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "us.dnc-internal");
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_NOT_SCREENED);
}

/* 16 CFR 310.4(b)(3)(iv): a registry copy serves calls made no more than 31 days after its
 * date. A copy of 28 April (06:00 in New York) serves the whole of 29 May, local date, and is
 * stale from midnight; 24-hour blocks refused 29 May from 10:00 UTC. */
static void
test_a_registry_copy_serves_calls_through_the_31st_date_after_it (void **state)
{
    s_env_t *e = *state;
    int64_t copy = t_local (e->ny, 2026, 4, 28, 6, 0, 0);
    t_facts_t t;
    s_facts (&t, e->ny, copy);
    t.lists[0].as_of_ms = copy;
    t.lists[1].as_of_ms = copy;
    /* The instant of the report: 16:58 UTC on 29 May. */
    EXPECT (s_decide (e->cc, &t, t_utc (2026, 5, 29, 16, 58, 0)), PL_RULES_ALLOW, 0);
    /* Last valid day to its last second of calling hours. */
    EXPECT (s_decide (e->cc, &t, t_local (e->ny, 2026, 5, 29, 20, 59, 59)), PL_RULES_ALLOW, 0);
    /* First stale day, from its first calling second. */
    pl_rules_decision_t d = s_decide (e->cc, &t, t_local (e->ny, 2026, 5, 30, 8, 0, 0));
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "us.dnc-national");
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_LIST_STALE);
    assert_int_equal (d.fired[d.decisive].until_ms, t_local (e->ny, 2026, 5, 30, 0, 0, 0));
    /* Asked at 21:00 on the last day: the next window is on a stale date, so re-screen. */
    d = s_decide (e->cc, &t, t_local (e->ny, 2026, 5, 29, 21, 0, 0));
    EXPECT (d, PL_RULES_DENY, 0);
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_LIST_STALE);
    /* Two zones: the date that turns first binds (Chicago's copy date is 28 April too, but
     * New York reaches 30 May an hour earlier). */
    t_add_zone (&t, e->chi, PL_RULES_ZONE_POSTAL);
    d = s_decide (e->cc, &t, t_local (e->chi, 2026, 5, 29, 23, 30, 0));
    EXPECT (d, PL_RULES_DENY, 0);
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_LIST_STALE);
    assert_int_equal (d.fired[d.decisive].zone, 0);
}

static void
test_autodialed_calls_to_mobiles_need_written_consent_for_that_number (void **state)
{
    s_env_t *e = *state;
    int64_t now = t_local (e->ny, 2026, 9, 15, 12, 0, 0);
    static const struct {
        pl_rules_line_t line;
        bool consent, written;
        const char *number;
        pl_rules_verdict_t v;
        uint8_t outcome, why;
    } cases[] = {
        { PL_RULES_LINE_MOBILE, false, false, NULL, PL_RULES_DENY, PL_RULES_DENIES,
          PL_RULES_WHY_NO_CONSENT },
        { PL_RULES_LINE_MOBILE, true, true, "+12125550123", PL_RULES_ALLOW, PL_RULES_PASS,
          PL_RULES_WHY_CONSENT_OK },
        { PL_RULES_LINE_MOBILE, true, true, "+12125559999", PL_RULES_DENY, PL_RULES_DENIES,
          PL_RULES_WHY_CONSENT_OTHER_NUMBER },
        { PL_RULES_LINE_MOBILE, true, false, "+12125550123", PL_RULES_DENY, PL_RULES_DENIES,
          PL_RULES_WHY_CONSENT_NOT_WRITTEN },
        { PL_RULES_LINE_UNKNOWN, false, false, NULL, PL_RULES_DENY, PL_RULES_DENIES,
          PL_RULES_WHY_NO_CONSENT },
        { PL_RULES_LINE_FIXED, false, false, NULL, PL_RULES_ALLOW, PL_RULES_NA,
          PL_RULES_WHY_CONDITION_NOT_MET },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t_facts_t t;
        s_facts (&t, e->ny, now);
        t.f.line = cases[i].line;
        if (cases[i].consent)
            t_add_consent (&t, TENANT, now - T_DAY, 0, cases[i].number, cases[i].written);
        pl_rules_decision_t d = s_decide (e->cc_auto, &t, now);
        int f = t_fired (&d, "us.wireless-consent", NULL);
        if (d.verdict != cases[i].v || d.fired[f].outcome != cases[i].outcome
            || d.fired[f].why != cases[i].why) {
            t_dump (&d);
            fail_msg ("case %zu", i);
        }
        /* Dialed by hand, the rule does not apply. */
        d = s_decide (e->cc, &t, now);
        assert_int_equal (d.fired[t_fired (&d, "us.wireless-consent", NULL)].outcome,
                          PL_RULES_NA);
    }
}

static void
test_revocation_and_reassigned_numbers (void **state)
{
    s_env_t *e = *state;
    int64_t now = t_local (e->ny, 2026, 9, 15, 12, 0, 0);
    t_facts_t t;
    s_facts (&t, e->ny, now);
    t.f.line = PL_RULES_LINE_MOBILE;
    t_add_consent (&t, TENANT, now - 90 * T_DAY, now - 2 * T_DAY, "+12125550123", true);
    pl_rules_decision_t d = s_decide (e->cc_auto, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    int i = t_fired (&d, "us.revoke", NULL);
    assert_int_equal (d.fired[i].outcome, PL_RULES_DENIES);
    assert_int_equal (d.fired[i].why, PL_RULES_WHY_REVOKED);
    assert_int_equal (d.fired[i].event_ms, now - 2 * T_DAY);
    /* Given again after the revocation. */
    t_add_consent (&t, TENANT, now - T_DAY, 0, "+12125550123", true);
    EXPECT (s_decide (e->cc_auto, &t, now), PL_RULES_ALLOW, 0);
    /* Collection, autodialed: the revocation stops it too; dialed by hand it does not. */
    t.f.n_consents = 1;
    d = s_decide (e->dc_auto, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "us.revoke");
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_ALLOW, 0);

    /* Reassigned Numbers Database: "yes" since the consent voids it. */
    t.f.n_consents = 0;
    t_add_consent (&t, TENANT, now - 400 * T_DAY, 0, "+12125550123", true);
    d = s_decide (e->cc_auto, &t, now);
    EXPECT (d, PL_RULES_ALLOW, 0);
    assert_int_equal (d.fired[t_fired (&d, "us.reassigned", NULL)].why,
                      PL_RULES_WHY_RND_NOT_QUERIED);
    t_add_list (&t, "rnd", true, now - T_DAY);
    d = s_decide (e->cc_auto, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "us.reassigned");
    t.lists[t.f.n_lists - 1].hit = false;
    EXPECT (s_decide (e->cc_auto, &t, now), PL_RULES_ALLOW, 0);
    /* A call that does not rely on consent does not care. */
    t.lists[t.f.n_lists - 1].hit = true;
    t.f.line = PL_RULES_LINE_FIXED;
    d = s_decide (e->cc_auto, &t, now);
    EXPECT (d, PL_RULES_ALLOW, 0);
    assert_int_equal (d.fired[t_fired (&d, "us.reassigned", NULL)].outcome, PL_RULES_NA);
}

static void
test_regulation_f_seven_in_seven_and_after_a_conversation (void **state)
{
    s_env_t *e = *state;
    int64_t now = t_local (e->ny, 2026, 9, 15, 12, 0, 0);   /* Tuesday */
    t_facts_t t;
    s_facts (&t, e->ny, now);
    /* Seven attempts about this debt in the last 7 days: the 8th waits for the oldest. */
    int64_t oldest = t_local (e->ny, 2026, 9, 8, 14, 30, 0);
    t_add_call (&t, oldest, TENANT, 1, DEBT, 0, 0);
    for (int k = 0; k < 6; k++)
        t_add_call (&t, t_local (e->ny, 2026, 9, 9 + k, 10, 0, 0), TENANT, 1, DEBT, 0,
                    PL_RULES_CALL_MACHINE);
    t_add_call (&t, t_local (e->ny, 2026, 9, 14, 11, 0, 0), TENANT, 1, DEBT + 1, 0, 0);
    pl_rules_decision_t d = s_decide (e->dc, &t, now);
    EXPECT (d, PL_RULES_DEFER, oldest + 7 * T_DAY);
    assert_string_equal (t_decisive (&d), "us.regf-7in7");
    int i = t_fired (&d, "us.regf-7in7", "cap");
    assert_int_equal (d.fired[i].count, 7);
    assert_int_equal (d.fired[i].limit, 7);
    assert_int_equal (d.fired[i].event_ms, oldest);
    /* Made to the debtor's other numbers (the dialer sends them flagged so), they count the same:
     * the cap is by debt, not by number. */
    for (size_t k = 0; k < t.f.n_calls; k++)
        t.calls[k].flags |= PL_RULES_CALL_OTHER_NUMBER;
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_DEFER, oldest + 7 * T_DAY);
    for (size_t k = 0; k < t.f.n_calls; k++)
        t.calls[k].flags &= ~(uint32_t) PL_RULES_CALL_OTHER_NUMBER;
    /* Another debt of the same person is not counted; the oldest gone, the 8th may go. */
    EXPECT (s_decide (e->dc, &t, oldest + 7 * T_DAY), PL_RULES_ALLOW, 0);
    t.calls[0].debt = DEBT + 2;
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_ALLOW, 0);
    /* Oldest leaving at 22:00: next 08:00, when it is gone. */
    t.calls[0].debt = DEBT;
    t.calls[0].at_ms = t_local (e->ny, 2026, 9, 8, 22, 0, 0);
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_DEFER, t_local (e->ny, 2026, 9, 16, 8, 0, 0));

    /* 6 days 23 hours after a conversation about this debt: not yet. */
    t.f.n_calls = 0;
    int64_t talk = now - 6 * T_DAY - 23 * T_HOUR;
    t_add_call (&t, talk, TENANT, 1, DEBT, 0, PL_RULES_CALL_CONVERSATION);
    d = s_decide (e->dc, &t, now);
    EXPECT (d, PL_RULES_DEFER, talk + 7 * T_DAY);
    i = t_fired (&d, "us.regf-7in7", "after");
    assert_int_equal (d.fired[i].why, PL_RULES_WHY_TOO_SOON_AFTER);
    t.calls[0].flags |= PL_RULES_CALL_OTHER_NUMBER;          /* the conversation on another number */
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_DEFER, talk + 7 * T_DAY);
    t.calls[0].flags &= ~(uint32_t) PL_RULES_CALL_OTHER_NUMBER;
    t.calls[0].at_ms = now - 7 * T_DAY;
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_ALLOW, 0);
    t.calls[0].at_ms = talk;
    t.calls[0].debt = DEBT + 1;          /* a conversation about another debt */
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_ALLOW, 0);
}

/* FDCPA 1692c(c) and Regulation F 1006.14(h), 1006.6(b)(1)(i): a debtor's requests to stop, per
 * debt or per medium, and the times they asked for, each counted from the instant it was made
 * and audited with that instant and its channel. The collector's own do-not-call list is
 * honoured too. */
static void
test_collection_honours_the_debtors_requests_to_stop (void **state)
{
    s_env_t *e = *state;
    int64_t now = t_local (e->ny, 2026, 9, 15, 12, 0, 0);   /* Tuesday */
    int64_t asked = t_local (e->ny, 2026, 9, 10, 16, 0, 0);
    t_facts_t t;
    s_facts (&t, e->ny, now);
    pl_rules_optout_t out[2] = { { PL_RULES_OPTOUT_CEASE, asked, TENANT, DEBT, NULL, NULL,
                                   "letter" } };
    t.f.optouts = out;
    t.f.n_optouts = 1;
    pl_rules_decision_t d = s_decide (e->dc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "us.dc-cease");
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_CEASE_REQUESTED);
    assert_int_equal (d.fired[d.decisive].event_ms, asked);
    assert_string_equal (d.fired[d.decisive].name, "letter");
    char text[4096];
    pl_rules_explain (&d, 0, text, sizeof text);
    assert_non_null (strstr (text, "cease communication about this debt (request of"));
    assert_non_null (strstr (text, "by letter)"));
    /* Per debt: calls about another debt go on; a refusal to pay stops that debt too. */
    t.f.debt = DEBT + 1;
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_ALLOW, 0);
    out[0].kind = PL_RULES_OPTOUT_REFUSE_PAY;
    out[0].debt = DEBT + 1;
    d = s_decide (e->dc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_REFUSED_TO_PAY);
    /* Made to another collector: not this one's request. */
    out[0].tenant = TENANT + 1;
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_ALLOW, 0);
    /* Made after the instant decided: it does not count yet, and binds from its instant. */
    out[0].tenant = TENANT;
    out[0].at_ms = now + 2 * T_HOUR;
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_ALLOW, 0);
    d = s_decide (e->dc, &t, t_local (e->ny, 2026, 9, 14, 22, 0, 0));    /* window at 08:00 */
    EXPECT (d, PL_RULES_DEFER, t_local (e->ny, 2026, 9, 15, 8, 0, 0));
    out[0].at_ms = t_local (e->ny, 2026, 9, 15, 7, 0, 0);             /* before the window */
    d = s_decide (e->dc, &t, t_local (e->ny, 2026, 9, 14, 22, 0, 0));
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "us.dc-cease");

    /* A medium opt-out: no calls at all, or not on this number; other media are not calls. */
    t.f.debt = DEBT;
    out[0] = (pl_rules_optout_t) { PL_RULES_OPTOUT_MEDIUM, asked, TENANT, 0, "email", NULL,
                                   "web" };
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_ALLOW, 0);
    out[0].medium = "phone";
    d = s_decide (e->dc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "us.dc-medium");
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_MEDIUM_OPTED_OUT);
    out[0].number = "+12125559999";
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_ALLOW, 0);
    out[0].number = "+12125550123";
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_DENY, 0);
    t.f.n_optouts = 0;
    /* The collector's own do-not-call list is no longer ignored. */
    t.lists[1].hit = true;
    d = s_decide (e->dc, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "us.dc-medium");
    assert_int_equal (d.fired[d.decisive].why, PL_RULES_WHY_LISTED);
    t.lists[1].hit = false;

    /* Inconvenient times: asked by phone on the 10th to be called 18:00-20:00 on weekdays. */
    t.requested[t.f.n_requested++] = (pl_rules_window_t) { 0x1f, 18 * 3600, 20 * 3600, asked,
                                                           "phone" };
    d = s_decide (e->dc, &t, now);
    EXPECT (d, PL_RULES_DEFER, t_local (e->ny, 2026, 9, 15, 18, 0, 0));
    assert_string_equal (t_decisive (&d), "us.dc-times");
    assert_int_equal (d.fired[d.decisive].event_ms, asked);
    assert_string_equal (d.fired[d.decisive].name, "phone");
    /* Asked only at 15:00 today: the morning is still open; from 15:00 the request binds. */
    t.requested[0].at_ms = t_local (e->ny, 2026, 9, 15, 15, 0, 0);
    EXPECT (s_decide (e->dc, &t, now), PL_RULES_ALLOW, 0);
    d = s_decide (e->dc, &t, t_local (e->ny, 2026, 9, 14, 21, 30, 0));
    EXPECT (d, PL_RULES_DEFER, t_local (e->ny, 2026, 9, 15, 8, 0, 0));
    EXPECT (s_decide (e->dc, &t, t_local (e->ny, 2026, 9, 15, 14, 59, 59)), PL_RULES_ALLOW, 0);
    d = s_decide (e->dc, &t, t_local (e->ny, 2026, 9, 15, 15, 0, 0));
    EXPECT (d, PL_RULES_DEFER, t_local (e->ny, 2026, 9, 15, 18, 0, 0));
}

static void
test_florida_lead_with_a_new_york_area_code_gets_the_strictest_window (void **state)
{
    s_env_t *e = *state;
    /* +1 212 says New York (Eastern); the postal code says Pensacola, Florida (Central). */
    static const struct {
        int h, mi, s;            /* New York time, Tuesday 15 September 2026 */
        pl_rules_verdict_t v;
        int ud, uh;              /* New York time */
        int binding;             /* 0 New York, 1 Chicago */
        const char *rule;
    } cases[] = {
        { 8, 30, 0, PL_RULES_DEFER, 15, 9, 1, NULL },        /* 07:30 in Pensacola */
        { 8, 59, 59, PL_RULES_DEFER, 15, 9, 1, NULL },
        { 9, 0, 0, PL_RULES_ALLOW, 0, 0, -1, NULL },
        { 19, 59, 59, PL_RULES_ALLOW, 0, 0, 0, NULL },       /* New York closes first */
        { 20, 0, 0, PL_RULES_DEFER, 16, 9, 1, "us.fl" },      /* 20:00: Florida's limit */
        { 20, 59, 59, PL_RULES_DEFER, 16, 9, 1, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t now = t_local (e->ny, 2026, 9, 15, cases[i].h, cases[i].mi, cases[i].s);
        t_facts_t t;
        s_facts (&t, e->ny, now);
        t_add_zone (&t, e->chi, PL_RULES_ZONE_POSTAL);
        t_add_region (&t, "US-NY");
        t_add_region (&t, "US-FL");
        pl_rules_decision_t d = s_decide (e->cc, &t, now);
        EXPECT (d, cases[i].v, t_local (e->ny, 2026, 9, cases[i].ud, cases[i].uh, 0, 0));
        if (cases[i].binding >= 0 && d.binding_zone != cases[i].binding) {
            t_dump (&d);
            fail_msg ("case %zu: binding zone %d", i, d.binding_zone);
        }
        if (cases[i].rule)
            assert_string_equal (t_decisive (&d), cases[i].rule);
        int f = t_fired (&d, "us.fl", "hours");
        assert_int_not_equal (d.fired[f].outcome, PL_RULES_NA);
        /* With the number alone (New York), 20:30 is fine: Florida does not apply. */
        s_facts (&t, e->ny, now);
        t_add_region (&t, "US-NY");
        d = s_decide (e->cc, &t, now);
        assert_int_equal (d.fired[t_fired (&d, "us.fl", "hours")].why, PL_RULES_WHY_OTHER_REGION);
    }
    /* Florida's 3 calls per 24 hours on the same subject. */
    int64_t now = t_local (e->chi, 2026, 9, 15, 12, 0, 0);
    t_facts_t t;
    s_facts (&t, e->chi, now);
    t_add_region (&t, "US-FL");
    int64_t first = now - 20 * T_HOUR;
    t_add_call (&t, first, TENANT, 1, 0, SUBJECT, 0);
    t_add_call (&t, now - 5 * T_HOUR, TENANT, 2, 0, SUBJECT, 0);
    t_add_call (&t, now - 1 * T_HOUR, TENANT, 3, 0, SUBJECT, PL_RULES_CALL_MACHINE);
    t_add_call (&t, now - 2 * T_HOUR, TENANT, 3, 0, SUBJECT + 1, 0);
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DEFER, first + 24 * T_HOUR);
    assert_string_equal (t_decisive (&d), "us.fl");
    t.calls[0].subject = SUBJECT + 1;
    EXPECT (s_decide (e->cc, &t, now), PL_RULES_ALLOW, 0);
}

/* A state's rules apply when either the number's area code or the address is in the state. A
 * Miami number (+1 305, Eastern time like New York) with no address, at 20:30 New York time:
 * Florida's 20:00 limit defers it to 08:00. The explanation shows where the region came from. */
static void
test_a_florida_number_with_no_address_gets_floridas_hours (void **state)
{
    s_env_t *e = *state;
    int64_t now = t_local (e->ny, 2026, 9, 15, 20, 30, 0);
    t_facts_t t;
    s_facts (&t, e->ny, now);
    t.f.e164 = "+13055550123";
    const char *st = pl_phone_us_state_for_number (t.f.e164);
    assert_non_null (st);
    char region[8];
    snprintf (region, sizeof region, "US-%s", st);
    uint8_t sources[PL_RULES_MAX_REGIONS] = { PL_RULES_REGION_NUMBER };
    t_add_region (&t, region);
    t.f.region_sources = sources;
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DEFER, t_local (e->ny, 2026, 9, 16, 8, 0, 0));
    assert_string_equal (t_decisive (&d), "us.fl");
    assert_int_equal (d.fired[d.decisive].region, 0);
    assert_int_equal (d.region_sources[0], PL_RULES_REGION_NUMBER);
    static char text[8192];
    pl_rules_explain (&d, 0, text, sizeof text);
    if (!strstr (text, "US-FL (from number area code) [binding]")
        || !strstr (text, "applies: US-FL from the number area code")) {
        print_message ("%s\n", text);
        fail_msg ("the explanation does not say the number put the lead in Florida");
    }
    /* Number and address in two states: both apply, and each shows where it came from. */
    t_add_region (&t, "US-GA");
    d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DEFER, t_local (e->ny, 2026, 9, 16, 8, 0, 0));
    pl_rules_explain (&d, 0, text, sizeof text);
    assert_non_null (strstr (text, "US-GA (from address)"));
    /* A New York number with a Florida address: the address binds. */
    s_facts (&t, e->ny, now);
    t_add_region (&t, "US-NY");
    t.f.region_sources = sources;
    t_add_region (&t, "US-FL");
    d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DEFER, t_local (e->ny, 2026, 9, 16, 8, 0, 0));
    assert_int_equal (d.fired[d.decisive].region, 1);
    assert_int_equal (d.region_sources[1], PL_RULES_REGION_ADDRESS);
}

static void
test_oklahoma_maryland_and_state_holidays (void **state)
{
    s_env_t *e = *state;
    int64_t now = t_local (e->chi, 2026, 9, 15, 20, 0, 0);
    t_facts_t t;
    s_facts (&t, e->chi, now);
    t_add_region (&t, "US-OK");
    pl_rules_decision_t d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DEFER, t_local (e->chi, 2026, 9, 16, 8, 0, 0));
    assert_string_equal (t_decisive (&d), "us.ok");
    now = t_local (e->ny, 2026, 9, 15, 20, 0, 0);
    s_facts (&t, e->ny, now);
    t_add_region (&t, "US-MD");
    d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DEFER, t_local (e->ny, 2026, 9, 16, 8, 0, 0));
    assert_string_equal (t_decisive (&d), "us.md");
    /* Thanksgiving in Alabama: no telemarketing (unconfirmed rule), next day 08:00. */
    now = t_local (e->chi, 2026, 11, 26, 12, 0, 0);
    s_facts (&t, e->chi, now);
    t_add_region (&t, "US-AL");
    d = s_decide (e->cc, &t, now);
    EXPECT (d, PL_RULES_DEFER, t_local (e->chi, 2026, 11, 27, 8, 0, 0));
    int i = t_fired (&d, "us.state-holidays", NULL);
    assert_int_equal (d.fired[i].why, PL_RULES_WHY_HOLIDAY);
    assert_true (d.fired[i].unconfirmed);
    s_facts (&t, e->chi, now);
    t_add_region (&t, "US-TX");
    EXPECT (s_decide (e->cc, &t, now), PL_RULES_ALLOW, 0);
}

/* us.b2b: a call to a business, in a campaign for businesses, is outside the TSR's and the
 * TCPA's residential rules (the National DNC Registry, calling hours); the TCPA's consent for
 * an autodialed call to a wireless number still applies, whoever holds the number; a campaign
 * selling office or cleaning supplies keeps them all. */
static void
test_a_business_callee_is_exempt_from_the_registry_but_not_from_wireless_consent (void **state)
{
    s_env_t *e = *state;
    pl_rules_campaign_t *b2b = t_campaign (&e->w, "[campaign]\nprofile = us-cc\ntenant = 1\nsubject = 5\n"
                                                  "callees = business\n");
    pl_rules_campaign_t *b2b_auto = t_campaign (&e->w, "[campaign]\nprofile = us-cc\ntenant = 1\n"
                                                       "subject = 5\ncallees = business\ndialing = autodialed\n");
    pl_rules_campaign_t *supplies = t_campaign (&e->w, "[campaign]\nprofile = us-cc\ntenant = 1\n"
                                                       "subject = 5\ncallees = business\nsector = office-supplies\n");
    int64_t now = t_utc (2026, 7, 31, 16, 0, 0);      /* Friday 12:00 EDT */
    t_facts_t t;
    s_facts (&t, e->ny, now);
    t.lists[0].hit = true;                          /* on the National DNC Registry */
    t.f.callee = PL_RULES_CALLEE_BUSINESS;
    pl_rules_decision_t d = s_decide (b2b, &t, now);
    EXPECT (d, PL_RULES_ALLOW, 0);
    const pl_rules_fired_t *r = &d.fired[t_fired (&d, "us.dnc-national", NULL)];
    assert_int_equal (r->why, PL_RULES_WHY_NOT_FOR_CALLEE);
    assert_string_equal (r->name, "us.b2b");
    assert_int_equal (d.fired[t_fired (&d, "us.b2b", NULL)].outcome, PL_RULES_PASS);
    /* 22:30 in New York: the TSR's hours do not bind a business call; the house window for
     * businesses (us.b2b-hours, policy) defers it to 08:00. */
    d = s_decide (b2b, &t, t_utc (2026, 8, 1, 2, 30, 0));
    EXPECT (d, PL_RULES_DEFER, t_utc (2026, 8, 1, 12, 0, 0));
    assert_string_equal (t_decisive (&d), "us.b2b-hours");
    assert_true (d.fired[d.decisive].policy);
    assert_int_equal (d.fired[t_fired (&d, "us.hours", NULL)].why, PL_RULES_WHY_NOT_FOR_CALLEE);
    /* A consumer's call does not see the house window for businesses. */
    t.f.callee = PL_RULES_CALLEE_CONSUMER;
    d = s_decide (b2b, &t, now);
    assert_int_equal (d.fired[t_fired (&d, "us.b2b-hours", NULL)].why, PL_RULES_WHY_OTHER_CALLEE);
    t.f.callee = PL_RULES_CALLEE_BUSINESS;
    /* The company's own list still binds. */
    t.lists[1].hit = true;
    d = s_decide (b2b, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "us.dnc-internal");
    t.lists[1].hit = false;
    /* Autodialed to a wireless number without consent: denied. */
    t.f.line = PL_RULES_LINE_MOBILE;
    d = s_decide (b2b_auto, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "us.wireless-consent");
    t.f.line = PL_RULES_LINE_FIXED;
    /* Office supplies: the exemption does not apply; the registry denies. */
    d = s_decide (supplies, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "us.dnc-national");
    const pl_rules_fired_t *b = &d.fired[t_fired (&d, "us.b2b", NULL)];
    assert_int_equal (b->outcome, PL_RULES_NA);
    assert_int_equal (b->why, PL_RULES_WHY_SECTOR_KEEPS_RULES);
    assert_string_equal (b->name, "office-supplies");
    /* The same number as a consumer: the registry denies. */
    t.f.callee = PL_RULES_CALLEE_CONSUMER;
    d = s_decide (b2b, &t, now);
    EXPECT (d, PL_RULES_DENY, 0);
    assert_string_equal (t_decisive (&d), "us.dnc-national");
    pl_rules_campaign_destroy (&supplies);
    pl_rules_campaign_destroy (&b2b_auto);
    pl_rules_campaign_destroy (&b2b);
}

static int
s_setup (void **state)
{
    static s_env_t e;
    t_world_open (&e.w);
    e.cc = t_campaign (&e.w, "[campaign]\nprofile = us-cc\ntenant = 1\nsubject = 5\n");
    e.cc_auto = t_campaign (&e.w, "[campaign]\nprofile = us-cc\ntenant = 1\nsubject = 5\n"
                                  "dialing = autodialed\n");
    e.dc = t_campaign (&e.w, "[campaign]\nprofile = us-dc\ntenant = 1\n");
    e.dc_auto = t_campaign (&e.w, "[campaign]\nprofile = us-dc\ntenant = 1\n"
                                  "dialing = autodialed\n");
    e.ny = t_zone (&e.w, "America/New_York");
    e.chi = t_zone (&e.w, "America/Chicago");
    e.la = t_zone (&e.w, "America/Los_Angeles");
    *state = &e;
    return 0;
}

static int
s_teardown (void **state)
{
    s_env_t *e = *state;
    pl_rules_campaign_destroy (&e->cc);
    pl_rules_campaign_destroy (&e->cc_auto);
    pl_rules_campaign_destroy (&e->dc);
    pl_rules_campaign_destroy (&e->dc_auto);
    t_world_close (&e->w);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_business_callee_is_exempt_from_the_registry_but_not_from_wireless_consent),
        cmocka_unit_test (test_eight_to_nine_local_to_the_second),
        cmocka_unit_test (test_dst_nights_in_new_york),
        cmocka_unit_test (test_national_dnc_with_ebr_exemption_and_list_age),
        cmocka_unit_test (test_a_registry_copy_serves_calls_through_the_31st_date_after_it),
        cmocka_unit_test (test_autodialed_calls_to_mobiles_need_written_consent_for_that_number),
        cmocka_unit_test (test_revocation_and_reassigned_numbers),
        cmocka_unit_test (test_regulation_f_seven_in_seven_and_after_a_conversation),
        cmocka_unit_test (test_collection_honours_the_debtors_requests_to_stop),
        cmocka_unit_test (test_florida_lead_with_a_new_york_area_code_gets_the_strictest_window),
        cmocka_unit_test (test_a_florida_number_with_no_address_gets_floridas_hours),
        cmocka_unit_test (test_oklahoma_maryland_and_state_holidays),
    };
    return cmocka_run_group_tests_name ("rules_us", tests, s_setup, s_teardown);
}
