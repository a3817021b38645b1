/*  test_checker.c — the independent checker catches each kind of violation in a small bundle
 *  and export built by hand, and passes the clean run they start from.
 *
 *  The bundle has three campaigns (fr-cc, us-dc, uk-cc) and six leads; the clean export accepts
 *  each lead, calls FR-1, US-1, US-2 and UK-1 once inside their windows and finishes them,
 *  finishes FR-2 (no consent) without a call and suppresses FR-3 (opted out). Each test adds
 *  the records of one wrong call (or leaves one out) and asserts the kind reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "check.h"
#include "law.h"
#include "pl_test.h"

typedef struct {
    char *dir;
    char audit[1024];
    FILE *f;
    int seq;
} s_fix_t;

static void
s_write (const char *dir, const char *rel, const char *text)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static int64_t
s_ms (const char *iso)
{
    int64_t ms;
    assert_int_equal (ck_parse_time (iso, &ms), 0);
    return ms;
}

static const char s_fr_campaign[] =
    "[campaign]\nprofile = fr-cc\ntenant = 101\nname = fr-canvass\ncli = +33162000001\n"
    "[dialer]\nmode = progressive\nabandon-target = 3%\n[dialer-retry busy]\ndelay = 10m\nmax = 2\n";
static const char s_us_campaign[] =
    "[campaign]\nprofile = us-dc\ntenant = 102\nname = us-collect\ncli = +16462000001\n"
    "[dialer]\nmode = predictive\namd = yes\nabandon-target = 3%\n";
static const char s_uk_campaign[] =
    "[campaign]\nprofile = uk-cc\ntenant = 103\nname = uk-sales\ncli = +441612000001\n"
    "[dialer]\nmode = progressive\nabandon-target = 3%\n";

static const char s_fr_leads[] =
    "{\"external_id\":\"FR-1\",\"campaign\":\"fr-canvass\",\"country\":\"FR\",\"postal_code\":\"75011\","
    "\"phone\":\"+33612345678\",\"consents\":[{\"scope\":\"tenant\",\"source\":\"web\","
    "\"captured_at\":\"2026-11-01T10:00:00Z\",\"proof_ref\":\"p1\"}]}\n"
    "{\"external_id\":\"FR-2\",\"campaign\":\"fr-canvass\",\"country\":\"FR\",\"postal_code\":\"69003\","
    "\"phone\":\"+33612345679\"}\n"
    "{\"external_id\":\"FR-3\",\"campaign\":\"fr-canvass\",\"country\":\"FR\",\"postal_code\":\"13001\","
    "\"phone\":\"+33612345670\",\"consents\":[{\"scope\":\"tenant\",\"source\":\"web\","
    "\"captured_at\":\"2026-11-01T10:00:00Z\"}]}\n";
static const char s_us_leads[] =
    "{\"external_id\":\"US-1\",\"campaign\":\"us-collect\",\"country\":\"US\",\"state\":\"NY\","
    "\"postal_code\":\"10001\",\"phone\":\"+12125550123\",\"debt\":{\"account_ref\":\"ACC-1\"}}\n"
    "{\"external_id\":\"US-2\",\"campaign\":\"us-collect\",\"country\":\"US\",\"state\":\"CA\","
    "\"postal_code\":\"90012\",\"phone\":\"+13055550123\",\"debt\":{\"account_ref\":\"ACC-2\"}}\n";
static const char s_uk_leads[] =
    "{\"external_id\":\"UK-1\",\"campaign\":\"uk-sales\",\"country\":\"GB\",\"phone\":\"+447911123456\"}\n";

/* ---- records ---------------------------------------------------------------------------------- */

static void
s_rec (s_fix_t *x, const char *type, const char *id, int64_t at, const char *lead,
       const char *campaign, const char *number, const char *zone, const char *evidence)
{
    fprintf (x->f, "{\"chain\":\"audit-0\",\"seq\":%d,\"at_ms\":%lld,\"event_id\":\"%s\","
                   "\"type\":\"%s\",\"service\":\"t\",\"lead_id\":\"%s\",\"campaign\":\"%s\","
                   "\"zone\":\"%s\",\"decision\":\"%s\",\"personal\":\"revealed\","
                   "\"number\":\"%s\",\"counts\":{\"attempt\":1},\"evidence\":{%s}}\n",
             x->seq++, (long long) at, id, type, lead, campaign, zone,
             strcmp (type, "scrub.verdict") == 0 ? "deny" : "allow", number, evidence);
}

static const char *
s_tenant (const char *campaign)
{
    return campaign[1] == 'r' ? "101" : campaign[1] == 's' ? "102" : "103";
}

static void
s_accept (s_fix_t *x, const char *lead, const char *ext, const char *campaign, const char *number,
          const char *zone)
{
    char ev[512], id[64];
    snprintf (ev, sizeof ev, "\"tenant\":\"%s\",\"external_id\":\"%s\",\"source\":\"crm\","
                             "\"call_kind\":\"canvassing\",\"zones\":[{\"zone\":\"%s\",\"source\":"
                             "\"prefix\"}],\"regions\":[\"X\"]", s_tenant (campaign), ext, zone);
    snprintf (id, sizeof id, "%s.accepted", lead);
    s_rec (x, "lead.accepted", id, s_ms ("2026-12-06T12:00:00Z"), lead, campaign, number, zone, ev);
}

static void
s_finish (s_fix_t *x, const char *lead, const char *campaign, const char *reason, int64_t at)
{
    char ev[256], id[64];
    snprintf (ev, sizeof ev, "\"tenant\":\"%s\",\"schedule\":{\"reason\":\"%s\",\"attempt\":1}",
              s_tenant (campaign), reason);
    snprintf (id, sizeof id, "%s.finished", lead);
    s_rec (x, "lead.finished", id, at, lead, campaign, "", "", ev);
}

/* Claim, allow, request and outcome of one call at `at`. */
static void
s_call (s_fix_t *x, const char *attempt, const char *lead, const char *campaign,
        const char *number, const char *zone, int64_t at, const char *result)
{
    ck_tz_t *tz = ck_tz_new ();
    struct tm tm;
    char local[40], base[512], ev[1024], id[96];
    assert_int_equal (ck_tz_local (tz, zone, at - 1000, &tm), 0);
    ck_tz_format (&tm, local, sizeof local);
    ck_tz_destroy (&tz);
    snprintf (base, sizeof base, "\"tenant\":\"%s\",\"attempt_id\":\"%s\",\"call_kind\":\"canvassing\","
                                 "\"dial_mode\":\"autodialed\",\"caller_id\":\"+33162000001\","
                                 "\"zones\":[{\"zone\":\"%s\",\"source\":\"prefix\"}],\"profile\":\"p\","
                                 "\"regions\":[\"X\"]", s_tenant (campaign), attempt, zone);
    snprintf (id, sizeof id, "%s.claimed", attempt);
    s_rec (x, "dial.claimed", id, at - 2000, lead, campaign, number, zone, base);
    snprintf (ev, sizeof ev, "%s,\"evaluated_at_ms\":%lld,\"local_time\":\"%s\"", base,
              (long long) (at - 1000), local);
    snprintf (id, sizeof id, "%s.check", attempt);
    s_rec (x, "dial.allowed", id, at - 1000, lead, campaign, number, zone, ev);
    snprintf (ev, sizeof ev, "%s,\"evaluated_at_ms\":%lld,\"call\":{\"requested_at_ms\":%lld,"
                             "\"place_before_ms\":%lld,\"ring_timeout_ms\":20000}", base,
              (long long) (at - 1000), (long long) at, (long long) (at + 60000));
    snprintf (id, sizeof id, "%s.requested", attempt);
    s_rec (x, "call.requested", id, at, lead, campaign, number, zone, ev);
    snprintf (ev, sizeof ev, "%s,\"call\":{\"result\":\"%s\",\"placed_at_ms\":%lld,"
                             "\"answered_at_ms\":%lld,\"time_to_agent_ms\":%d}", base, result,
              (long long) (at + 500), (long long) (at + 8000), strcmp (result, "abandoned") ? 300 : -1);
    snprintf (id, sizeof id, "%s.outcome", attempt);
    s_rec (x, "call.outcome", id, at + 30000, lead, campaign, number, zone, ev);
}

/* The clean run; `skip_finish` leaves FR-1 without its end. */
static void
s_clean (s_fix_t *x, bool skip_finish)
{
    int64_t end = s_ms ("2026-12-20T12:00:00Z");
    s_accept (x, "L1", "FR-1", "fr-canvass", "+33612345678", "Europe/Paris");
    s_accept (x, "L2", "FR-2", "fr-canvass", "+33612345679", "Europe/Paris");
    s_accept (x, "L3", "FR-3", "fr-canvass", "+33612345670", "Europe/Paris");
    s_accept (x, "L4", "US-1", "us-collect", "+12125550123", "America/New_York");
    s_accept (x, "L5", "US-2", "us-collect", "+13055550123", "America/Los_Angeles");
    s_accept (x, "L6", "UK-1", "uk-sales", "+447911123456", "Europe/London");
    s_rec (x, "scrub.verdict", "L3.v0", s_ms ("2026-12-06T12:00:01Z"), "L3", "fr-canvass",
           "+33612345670", "", "\"tenant\":\"101\",\"profile\":\"fr-cc\",\"regions\":[\"FR\"],"
           "\"evaluated_at_ms\":1,\"lists\":[]");
    /* Monday 7 December 2026: Paris UTC+1, New York UTC-5, London UTC+0. */
    s_call (x, "a1", "L1", "fr-canvass", "+33612345678", "Europe/Paris",
            s_ms ("2026-12-07T09:30:00Z"), "answered");
    s_call (x, "a4", "L4", "us-collect", "+12125550123", "America/New_York",
            s_ms ("2026-12-07T19:00:00Z"), "answered");
    s_call (x, "a5", "L5", "us-collect", "+13055550123", "America/Los_Angeles",
            s_ms ("2026-12-07T20:00:00Z"), "answered");
    s_call (x, "a6", "L6", "uk-sales", "+447911123456", "Europe/London",
            s_ms ("2026-12-07T12:00:00Z"), "answered");
    if (!skip_finish)
        s_finish (x, "L1", "fr-canvass", "contacted", end);
    s_finish (x, "L2", "fr-canvass", "denied", end);
    s_finish (x, "L4", "us-collect", "contacted", end);
    s_finish (x, "L5", "us-collect", "contacted", end);
    s_finish (x, "L6", "uk-sales", "contacted", end);
}

static int
s_setup (void **state)
{
    s_fix_t *x = calloc (1, sizeof *x);
    x->dir = pl_test_tmpdir ("checker");
    assert_non_null (x->dir);
    char sub[1024];
    const char *subs[] = {"campaigns", "leads", "lists"};
    for (int i = 0; i < 3; i++) {
        snprintf (sub, sizeof sub, "%s/%s", x->dir, subs[i]);
        assert_int_equal (mkdir (sub, 0755), 0);
    }
    s_write (x->dir, "campaigns/fr-canvass.campaign", s_fr_campaign);
    s_write (x->dir, "campaigns/us-collect.campaign", s_us_campaign);
    s_write (x->dir, "campaigns/uk-sales.campaign", s_uk_campaign);
    s_write (x->dir, "leads/fr-canvass.ndjson", s_fr_leads);
    s_write (x->dir, "leads/us-collect.ndjson", s_us_leads);
    s_write (x->dir, "leads/uk-sales.ndjson", s_uk_leads);
    s_write (x->dir, "lists/manifest.tsv", "tps\tuk\ttps\t2026-12-06\ttps.txt\n");
    s_write (x->dir, "lists/tps.txt", "07911000001\n");
    s_write (x->dir, "optouts.ndjson",
             "{\"number\":\"+33612345670\",\"country\":\"FR\",\"tenant\":\"101\",\"debt_ref\":\"\","
             "\"channel\":\"crm\",\"requested_at\":\"2026-12-01T10:00:00Z\"}\n");
    s_write (x->dir, "consent-revocations.ndjson", "");
    snprintf (x->audit, sizeof x->audit, "%s/audit.ndjson", x->dir);
    x->f = fopen (x->audit, "w");
    assert_non_null (x->f);
    *state = x;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fix_t *x = *state;
    if (x->f)
        fclose (x->f);
    pl_test_rmdir (x->dir);
    free (x->dir);
    free (x);
    return 0;
}

/* Runs the checker on the fixture; prints what it found when `show`. */
static pl_check_t *
s_run (s_fix_t *x)
{
    fclose (x->f);
    x->f = NULL;
    pl_check_t *ck = pl_check_new ();
    assert_non_null (ck);
    if (pl_check_load_bundle (ck, x->dir) != 0 || pl_check_load_audit (ck, x->audit) != 0)
        fail_msg ("%s", pl_check_errstr (ck));
    pl_check_run (ck);
    for (size_t i = 0; i < pl_check_violations (ck); i++) {
        const char *attempt, *rule, *fact;
        const char *kind = pl_check_violation (ck, i, &attempt, &rule, &fact);
        printf ("    [%s %s %s] %s\n", kind, rule, attempt, fact);
    }
    return ck;
}

/* The only kinds found are `kind` (n of them, or at least one when n < 0). */
static void
s_expect (pl_check_t *ck, const char *kind, int n)
{
    size_t got = pl_check_count (ck, kind);
    if (n >= 0)
        assert_int_equal (got, (size_t) n);
    else
        assert_true (got >= 1);
    assert_int_equal (pl_check_violations (ck), got);
}

static bool
s_fact_has (pl_check_t *ck, const char *kind, const char *needle)
{
    for (size_t i = 0; i < pl_check_violations (ck); i++) {
        const char *fact;
        const char *k = pl_check_violation (ck, i, NULL, NULL, &fact);
        if (strcmp (k, kind) == 0 && strstr (fact, needle))
            return true;
    }
    return false;
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void
test_a_clean_run_passes (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_violations (ck), 0);
    pl_check_destroy (&ck);
}

static void
test_a_call_at_20_05_in_paris_is_outside_fr_hours (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_call (x, "b1", "L1", "fr-canvass", "+33612345678", "Europe/Paris",
            s_ms ("2026-12-08T19:05:00Z"), "no_answer");
    pl_check_t *ck = s_run (x);
    s_expect (ck, "hours", 1);
    assert_true (s_fact_has (ck, "hours", "20:05:00"));
    pl_check_destroy (&ck);
}

static void
test_a_call_on_a_french_holiday_or_saturday_is_refused (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    /* Saturday 12 December 2026, 11:00 Paris. */
    s_call (x, "b2", "L1", "fr-canvass", "+33612345678", "Europe/Paris",
            s_ms ("2026-12-12T10:00:00Z"), "no_answer");
    /* Friday 25 December 2026, 11:00 Paris: Noël (Code du travail L3133-1). */
    s_call (x, "b2h", "L1", "fr-canvass", "+33612345678", "Europe/Paris",
            s_ms ("2026-12-25T10:00:00Z"), "no_answer");
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_count (ck, "hours"), 2);    /* and a call after FR-1's end */
    assert_true (s_fact_has (ck, "hours", "Saturday"));
    assert_true (s_fact_has (ck, "hours", "public holiday"));
    pl_check_destroy (&ck);
}

static void
test_21_30_in_one_of_two_candidate_zones_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    /* US-2: a Miami number (America/New_York from its area code, derived by the checker) and a
     * Los Angeles address (the only zone the records carry). 02:30Z is 21:30 in New York and
     * 18:30 in Los Angeles. */
    s_call (x, "b3", "L5", "us-collect", "+13055550123", "America/Los_Angeles",
            s_ms ("2026-12-09T02:30:00Z"), "no_answer");
    pl_check_t *ck = s_run (x);
    s_expect (ck, "hours", 1);
    assert_true (s_fact_has (ck, "hours", "America/New_York"));
    assert_false (s_fact_has (ck, "hours", "America/Los_Angeles"));
    pl_check_destroy (&ck);
}

static void
test_a_fifth_call_in_30_days_breaks_fr_freq (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    const char *days[] = {"2026-12-08T09:30:00Z", "2026-12-09T09:30:00Z", "2026-12-10T09:30:00Z",
                          "2026-12-11T09:30:00Z"};
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf (id, sizeof id, "c%d", i);
        s_call (x, id, "L1", "fr-canvass", "+33612345678", "Europe/Paris", s_ms (days[i]),
                "no_answer");
    }
    pl_check_t *ck = s_run (x);
    s_expect (ck, "cap", 1);
    assert_true (s_fact_has (ck, "cap", "call 5"));
    pl_check_destroy (&ck);
}

static void
test_a_call_after_an_opt_out_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_rec (x, "optout.added", "o1.optout", s_ms ("2026-12-08T09:00:00Z"), "L1", "fr-canvass",
           "+33612345678", "", "\"tenant\":\"101\",\"opt_out\":{\"list\":\"internal-dnc\","
           "\"scope\":\"tenant\",\"channel\":\"call\",\"requested_at_ms\":1,"
           "\"effective_at_ms\":1796720400000}");
    /* 1796720400000 = 2026-12-08T09:00:00Z; the call is the day after. */
    s_call (x, "b4", "L1", "fr-canvass", "+33612345678", "Europe/Paris",
            s_ms ("2026-12-09T09:30:00Z"), "answered");
    pl_check_t *ck = s_run (x);
    s_expect (ck, "opted_out", 1);
    pl_check_destroy (&ck);
}

static void
test_a_call_to_a_bundle_opt_out_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_call (x, "b5", "L3", "fr-canvass", "+33612345670", "Europe/Paris",
            s_ms ("2026-12-09T09:30:00Z"), "answered");
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_count (ck, "opted_out"), 1);
    pl_check_destroy (&ck);
}

static void
test_a_french_call_without_consent_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_call (x, "b6", "L2", "fr-canvass", "+33612345679", "Europe/Paris",
            s_ms ("2026-12-09T09:30:00Z"), "answered");
    pl_check_t *ck = s_run (x);
    /* Only the missing consent: FR-2's end (denied) comes later. */
    assert_int_equal (pl_check_count (ck, "no_consent"), 1);
    assert_int_equal (pl_check_count (ck, "call_after_finished"), 0);
    assert_int_equal (pl_check_violations (ck), 1);
    pl_check_destroy (&ck);
}

static void
test_a_call_after_a_consent_revocation_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_write (x->dir, "consent-revocations.ndjson",
             "{\"external_id\":\"FR-1\",\"campaign\":\"fr-canvass\",\"at\":\"2026-12-08T10:00:00Z\"}\n");
    s_clean (x, false);
    s_call (x, "b7", "L1", "fr-canvass", "+33612345678", "Europe/Paris",
            s_ms ("2026-12-09T09:30:00Z"), "answered");
    pl_check_t *ck = s_run (x);
    s_expect (ck, "no_consent", 1);
    pl_check_destroy (&ck);
}

static void
test_an_attempt_id_claimed_twice_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_rec (x, "dial.claimed", "a1.claimed", s_ms ("2026-12-07T09:40:00Z"), "L1", "fr-canvass",
           "+33612345678", "Europe/Paris", "\"tenant\":\"101\",\"attempt_id\":\"a1\","
           "\"call_kind\":\"canvassing\",\"dial_mode\":\"autodialed\"");
    pl_check_t *ck = s_run (x);
    s_expect (ck, "attempt_reused", 1);
    pl_check_destroy (&ck);
}

static void
test_a_request_without_allowance_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_rec (x, "call.requested", "z1.requested", s_ms ("2026-12-08T10:00:00Z"), "L1", "fr-canvass",
           "+33612345678", "Europe/Paris", "\"tenant\":\"101\",\"attempt_id\":\"z1\","
           "\"call_kind\":\"canvassing\",\"dial_mode\":\"autodialed\",\"caller_id\":\"+33162000001\","
           "\"evaluated_at_ms\":1,\"call\":{\"requested_at_ms\":1796724000000,"
           "\"place_before_ms\":1796723000000,\"ring_timeout_ms\":20000}");
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_count (ck, "not_allowed"), 1);
    assert_int_equal (pl_check_count (ck, "unclaimed"), 1);
    assert_int_equal (pl_check_count (ck, "allowance_expired"), 1);
    pl_check_destroy (&ck);
}

static void
test_a_4_percent_abandon_rate_is_over_budget (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    /* 46 more answered calls and 2 abandoned, to distinct New York numbers of leads outside
     * the bundle: with the clean run's two answered calls, 2 abandoned of 50 = 4 %. */
    for (int i = 0; i < 48; i++) {
        char id[16], lead[16], num[20];
        snprintf (id, sizeof id, "p%d", i);
        snprintf (lead, sizeof lead, "X%d", i);
        snprintf (num, sizeof num, "+1212555%04d", 1000 + i);
        s_call (x, id, lead, "us-collect", num, "America/New_York",
                s_ms ("2026-12-07T16:00:00Z") + i * 60000, i < 2 ? "abandoned" : "answered");
    }
    pl_check_t *ck = s_run (x);
    s_expect (ck, "abandon_rate", -1);
    assert_true (s_fact_has (ck, "abandon_rate", "4.00%"));
    pl_check_destroy (&ck);
}

static void
test_pacing_reports_are_compared_with_the_records (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    /* The US campaign's two answered calls fall on 7 December; the dialer says 3. */
    s_rec (x, "pacing.report", "us-collect.pacing.1", s_ms ("2026-12-08T00:00:00Z"), "",
           "us-collect", "", "", "\"tenant\":\"102\",\"pacing\":{\"mode\":\"predictive\","
           "\"period_from_ms\":1794096000000,\"period_to_ms\":1796688000000,\"live_answered\":3,"
           "\"budget_ppm\":30000,\"rule\":\"us.abandon\"}");
    pl_check_t *ck = s_run (x);
    s_expect (ck, "pacing_mismatch", 1);
    pl_check_destroy (&ck);
}

/* A report counts what the dialer knew when it reported: calls placed in its period whose
 * outcome was recorded later are not expected in it. The same two answered calls, reported
 * before either outcome was recorded, make a report of 0 that agrees. */
static void
test_a_pacing_report_counts_the_outcomes_known_when_it_was_made (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_rec (x, "pacing.report", "us-collect.pacing.0", s_ms ("2026-12-07T00:00:00Z"), "",
           "us-collect", "", "", "\"tenant\":\"102\",\"pacing\":{\"mode\":\"predictive\","
           "\"period_from_ms\":1794096000000,\"period_to_ms\":1796688000000,"
           "\"budget_ppm\":30000,\"rule\":\"us.abandon\"}");
    pl_check_t *ck = s_run (x);
    s_expect (ck, "pacing_mismatch", 0);
    pl_check_destroy (&ck);
}

/* A duplicate names the lead it duplicates; the input lead it stands for is the one of its own
 * external id, which is then accounted for, not lost. */
static void
test_a_duplicate_accounts_for_its_own_input_lead (void **state)
{
    s_fix_t *x = *state;
    s_accept (x, "L1", "FR-1", "fr-canvass", "+33612345678", "Europe/Paris");
    s_accept (x, "L3", "FR-3", "fr-canvass", "+33612345670", "Europe/Paris");
    s_rec (x, "lead.duplicate", "D2.duplicate", s_ms ("2026-12-06T12:00:00Z"), "L1", "fr-canvass",
           "+33612345678", "", "\"tenant\":\"101\",\"external_id\":\"FR-2\",\"source\":\"crm\","
           "\"call_kind\":\"canvassing\"");
    pl_check_t *ck = s_run (x);
    /* The leads never submitted are lost; FR-2, the duplicate, is not among them. */
    assert_true (s_fact_has (ck, "lead_lost", "US-1"));
    assert_false (s_fact_has (ck, "lead_lost", "FR-2"));
    pl_check_destroy (&ck);
}

/* A request's rejections beyond the first recorded one by one are counted in one
 * lead.rejected_summary: its input leads are accounted for, never more than it counts, and the
 * summary must agree with the lead.rejected records of its trace. */
static void
s_summary (s_fix_t *x, const char *trace, const char *campaign, int rejected, int recorded, int not_recorded)
{
    fprintf (x->f, "{\"chain\":\"audit-0\",\"seq\":%d,\"at_ms\":%lld,\"event_id\":\"%s.rejected_summary\","
                   "\"type\":\"lead.rejected_summary\",\"service\":\"intake\",\"campaign\":\"%s\","
                   "\"source\":\"crm\",\"actor\":\"crm\",\"trace_id\":\"%s\",\"decision\":\"deny\","
                   "\"counts\":{\"rejected\":%d,\"recorded\":%d,\"not_recorded\":%d},\"evidence\":{}}\n",
             x->seq++, (long long) s_ms ("2026-12-06T12:00:00Z"), trace, campaign, trace, rejected, recorded,
             not_recorded);
}

static void
s_rejected (s_fix_t *x, const char *ext, const char *campaign, const char *trace)
{
    char ev[512], id[64];
    snprintf (ev, sizeof ev, "\"tenant\":\"%s\",\"external_id\":\"%s\",\"source\":\"crm\",\"trace_id\":\"%s\","
                             "\"rules\":[{\"rule_id\":\"intake.invalid_number\"}]", s_tenant (campaign), ext, trace);
    snprintf (id, sizeof id, "%s.rejected", ext);
    s_rec (x, "lead.rejected", id, s_ms ("2026-12-06T12:00:00Z"), "", campaign, "", "", ev);
}

static void
test_a_rejected_summary_accounts_for_as_many_leads_as_it_counts (void **state)
{
    s_fix_t *x = *state;
    s_rejected (x, "US-1", "us-collect", "t1");
    s_rejected (x, "US-X", "us-collect", "t1");    /* a row the input bundle does not hold: still the request's */
    s_summary (x, "t1", "us-collect", 3, 2, 1);     /* US-2: rejected, not recorded one by one */
    s_summary (x, "t2", "fr-canvass", 1, 0, 1);     /* one of FR-1, FR-2, FR-3; the two others lost */
    pl_check_t *ck = s_run (x);
    assert_false (s_fact_has (ck, "lead_lost", "US-1"));
    assert_false (s_fact_has (ck, "lead_lost", "US-2"));
    assert_true (s_fact_has (ck, "lead_lost", "UK-1"));   /* another campaign's summary does not cover it */
    assert_int_equal (pl_check_count (ck, "lead_lost"), 3);
    assert_int_equal (pl_check_count (ck, "rejected_summary"), 0);
    pl_check_destroy (&ck);
}

static void
test_a_rejected_summary_that_does_not_add_up_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_rejected (x, "US-1", "us-collect", "t1");
    s_summary (x, "t1", "us-collect", 3, 2, 1);     /* says 2 recorded: the audit holds 1 */
    s_summary (x, "t3", "uk-sales", 2, 0, 1);       /* 2 rejected but 0 + 1 accounted */
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_count (ck, "rejected_summary"), 2);
    assert_true (s_fact_has (ck, "rejected_summary", "trace t1"));
    pl_check_destroy (&ck);
}

static void
test_a_uk_call_within_72_hours_of_an_abandoned_one_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_call (x, "u1", "L6", "uk-sales", "+447911123456", "Europe/London",
            s_ms ("2026-12-08T12:00:00Z"), "abandoned");
    s_call (x, "u2", "L6", "uk-sales", "+447911123456", "Europe/London",
            s_ms ("2026-12-09T12:00:00Z"), "answered");
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_count (ck, "cool_off"), 1);
    pl_check_destroy (&ck);
}

/* A broken promise queues a finished lead again (dial.scheduled promise_broken): its follow-up
 * call is no call after the end, and its second lead.finished ends it again; a call before the
 * reopening, or after the second end, still is one. */
static void
s_reopen (s_fix_t *x, const char *lead, const char *campaign, const char *number, int64_t at)
{
    char ev[512], id[64];
    snprintf (ev, sizeof ev, "\"tenant\":\"%s\",\"call_kind\":\"canvassing\",\"schedule\":{\"due_at_ms\":%lld,"
                             "\"attempt\":2,\"reason\":\"promise_broken\",\"outcome\":\"P-1\"}",
              s_tenant (campaign), (long long) at);
    snprintf (id, sizeof id, "%s.s2", lead);
    s_rec (x, "dial.scheduled", id, at, lead, campaign, number, "", ev);
}

static void
test_a_broken_promise_reopens_a_finished_lead (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_reopen (x, "L4", "us-collect", "+12125550123", s_ms ("2026-12-21T14:00:00Z"));
    s_call (x, "a4b", "L4", "us-collect", "+12125550123", "America/New_York", s_ms ("2026-12-21T15:00:00Z"),
            "answered");
    char ev[256];
    snprintf (ev, sizeof ev, "\"tenant\":\"%s\",\"schedule\":{\"reason\":\"contacted\",\"attempt\":2}",
              s_tenant ("us-collect"));
    s_rec (x, "lead.finished", "L4.finished.1", s_ms ("2026-12-21T16:00:00Z"), "L4", "us-collect", "", "", ev);
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_violations (ck), 0);
    pl_check_destroy (&ck);
}

static void
test_calls_outside_a_reopening_are_calls_after_the_end (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    /* Before the reopening, then after the second end. */
    s_call (x, "a4a", "L4", "us-collect", "+12125550123", "America/New_York", s_ms ("2026-12-21T13:00:00Z"),
            "no_answer");
    s_reopen (x, "L4", "us-collect", "+12125550123", s_ms ("2026-12-21T14:00:00Z"));
    char ev[256];
    snprintf (ev, sizeof ev, "\"tenant\":\"%s\",\"schedule\":{\"reason\":\"contacted\",\"attempt\":2}",
              s_tenant ("us-collect"));
    s_rec (x, "lead.finished", "L4.finished.1", s_ms ("2026-12-21T16:00:00Z"), "L4", "us-collect", "", "", ev);
    s_call (x, "a4c", "L4", "us-collect", "+12125550123", "America/New_York", s_ms ("2026-12-21T17:00:00Z"),
            "no_answer");
    pl_check_t *ck = s_run (x);
    s_expect (ck, "call_after_finished", 2);
    pl_check_destroy (&ck);
}

static void
test_a_lead_with_no_end_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, true);
    pl_check_t *ck = s_run (x);
    s_expect (ck, "lead_no_end", 1);
    pl_check_destroy (&ck);
}

static void
test_records_before_their_lead_accepted_still_find_their_lead (void **state)
{
    s_fix_t *x = *state;
    /* An export by arrival: FR-1's end arrived before its acceptance. */
    s_finish (x, "L1", "fr-canvass", "contacted", s_ms ("2026-12-20T12:00:00Z"));
    s_clean (x, true);
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_violations (ck), 0);
    pl_check_destroy (&ck);
}

static void
test_a_wrong_local_time_in_a_dial_check_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    /* 09:00Z is 10:00 in Paris, not 09:00. */
    s_rec (x, "dial.allowed", "w1.check", s_ms ("2026-12-08T09:00:00Z"), "L1", "fr-canvass",
           "+33612345678", "Europe/Paris", "\"tenant\":\"101\",\"attempt_id\":\"w1\","
           "\"call_kind\":\"canvassing\",\"dial_mode\":\"autodialed\",\"caller_id\":\"+33162000001\","
           "\"zones\":[{\"zone\":\"Europe/Paris\",\"source\":\"prefix\"}],\"profile\":\"fr-cc\","
           "\"regions\":[\"FR\"],\"evaluated_at_ms\":1796720400000,"
           "\"local_time\":\"2026-12-08T09:00:00+01:00\"");
    pl_check_t *ck = s_run (x);
    s_expect (ck, "local_time", 1);
    pl_check_destroy (&ck);
}

static void
test_a_record_missing_a_must_field_is_a_violation (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_rec (x, "call.outcome", "a1.outcome2", s_ms ("2026-12-07T09:31:00Z"), "L1", "fr-canvass",
           "+33612345678", "Europe/Paris", "\"tenant\":\"101\",\"attempt_id\":\"a1\","
           "\"call_kind\":\"canvassing\"");
    pl_check_t *ck = s_run (x);
    assert_true (pl_check_count (ck, "missing_fact") >= 1);
    assert_true (s_fact_has (ck, "missing_fact", "call.result"));
    pl_check_destroy (&ck);
}

static void
test_a_line_that_is_not_a_record_is_bad_input (void **state)
{
    s_fix_t *x = *state;
    fputs ("{\"type\":\"lead.accepted\"\n", x->f);
    fclose (x->f);
    x->f = NULL;
    pl_check_t *ck = pl_check_new ();
    assert_int_equal (pl_check_load_bundle (ck, x->dir), 0);
    assert_int_equal (pl_check_load_audit (ck, x->audit), -1);
    assert_non_null (strstr (pl_check_errstr (ck), ":1:"));
    pl_check_destroy (&ck);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_a_clean_run_passes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_call_at_20_05_in_paris_is_outside_fr_hours, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_call_on_a_french_holiday_or_saturday_is_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_21_30_in_one_of_two_candidate_zones_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_fifth_call_in_30_days_breaks_fr_freq, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_call_after_an_opt_out_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_call_to_a_bundle_opt_out_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_french_call_without_consent_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_call_after_a_consent_revocation_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_an_attempt_id_claimed_twice_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_request_without_allowance_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_4_percent_abandon_rate_is_over_budget, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_pacing_reports_are_compared_with_the_records, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_pacing_report_counts_the_outcomes_known_when_it_was_made, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_duplicate_accounts_for_its_own_input_lead, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_uk_call_within_72_hours_of_an_abandoned_one_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_broken_promise_reopens_a_finished_lead, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_calls_outside_a_reopening_are_calls_after_the_end, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_lead_with_no_end_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_records_before_their_lead_accepted_still_find_their_lead, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_rejected_summary_accounts_for_as_many_leads_as_it_counts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_rejected_summary_that_does_not_add_up_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_wrong_local_time_in_a_dial_check_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_record_missing_a_must_field_is_a_violation, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_line_that_is_not_a_record_is_bad_input, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name ("checker", tests, NULL, NULL);
}
