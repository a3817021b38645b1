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
#include <jansson.h>
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

/* fr.b2b: a business callee in a campaign for businesses (written "Business", which the intake
 * reads as business), called on a Tuesday at 09:00 without consent, breaks nothing; a consumer of the same campaign, called the same way, breaks the
 * hours and the consent; a business in a campaign not for businesses is a consumer. */
static void
test_a_business_callee_is_judged_outside_the_consumer_rules (void **state)
{
    s_fix_t *x = *state;
    s_write (x->dir, "campaigns/fr-b2b.campaign",
             "[campaign]\nprofile = fr-cc\ntenant = 101\nname = fr-b2b\ncli = +33162000001\n"
             "callees = consumer business\n[dialer]\nmode = progressive\nabandon-target = 3%\n");
    s_write (x->dir, "leads/fr-b2b.ndjson",
             "{\"external_id\":\"B-1\",\"campaign\":\"fr-b2b\",\"country\":\"FR\",\"callee\":\"Business\","
             "\"phone\":\"+33612345601\"}\n"
             "{\"external_id\":\"B-2\",\"campaign\":\"fr-b2b\",\"country\":\"FR\",\"callee\":\"consumer\","
             "\"phone\":\"+33612345602\"}\n");
    s_write (x->dir, "leads/fr-canvass.ndjson",
             "{\"external_id\":\"FR-1\",\"campaign\":\"fr-canvass\",\"country\":\"FR\",\"callee\":\"business\","
             "\"phone\":\"+33612345678\"}\n"
             "{\"external_id\":\"FR-2\",\"campaign\":\"fr-canvass\",\"country\":\"FR\",\"phone\":\"+33612345679\"}\n"
             "{\"external_id\":\"FR-3\",\"campaign\":\"fr-canvass\",\"country\":\"FR\",\"phone\":\"+33612345670\"}\n");
    s_clean (x, false);
    int64_t end = s_ms ("2026-12-20T12:00:00Z");
    s_accept (x, "B1", "B-1", "fr-b2b", "+33612345601", "Europe/Paris");
    s_accept (x, "B2", "B-2", "fr-b2b", "+33612345602", "Europe/Paris");
    /* Tuesday 8 December 2026, 09:00 in Paris. */
    s_call (x, "c1", "B1", "fr-b2b", "+33612345601", "Europe/Paris", s_ms ("2026-12-08T08:00:00Z"), "answered");
    s_call (x, "c2", "B2", "fr-b2b", "+33612345602", "Europe/Paris", s_ms ("2026-12-08T08:00:00Z"), "answered");
    /* B1 again on Saturday 12 December: the house window for businesses (fr.b2b-hours). */
    s_call (x, "c3", "B1", "fr-b2b", "+33612345601", "Europe/Paris", s_ms ("2026-12-12T10:00:00Z"), "answered");
    s_finish (x, "B1", "fr-b2b", "contacted", end);
    s_finish (x, "B2", "fr-b2b", "contacted", end);
    pl_check_t *ck = s_run (x);
    /* B2 (a consumer): hours and consent; B1: only its Saturday call (fr.b2b-hours). FR-1, a
     * business in a campaign for consumers only: its call at 10:30 without consent breaks
     * fr.consent. */
    assert_int_equal (pl_check_count (ck, "hours"), 2);
    assert_true (s_fact_has (ck, "hours", "09:00:00"));
    bool b2b_hours = false;
    for (size_t i = 0; i < pl_check_violations (ck); i++) {
        const char *attempt, *rule, *fact;
        pl_check_violation (ck, i, &attempt, &rule, &fact);
        b2b_hours |= strcmp (attempt, "c3") == 0 && strcmp (rule, "fr.b2b-hours") == 0;
    }
    assert_true (b2b_hours);
    assert_int_equal (pl_check_count (ck, "no_consent"), 2);
    for (size_t i = 0; i < pl_check_violations (ck); i++) {
        const char *attempt, *rule, *fact;
        pl_check_violation (ck, i, &attempt, &rule, &fact);
        assert_string_not_equal (attempt, "c1");
    }
    assert_int_equal (pl_check_violations (ck), 4);
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

/* ---- promises --------------------------------------------------------------------------------- */

/* Promises on the US debts: US-1 (L4, ACC-1, made on call a4) and US-2 (L5, ACC-2, call a5), in
 * USD. Due 15 December 2026 is late on the 16th at 05:00Z (New York's midnight), the 17th on
 * the 18th. The export ends on the 20th (the clean run's lead.finished records). */
typedef struct {
    const char *due;
    int64_t amount, tolerance;
} s_inst_t;

static int64_t
s_deadline (const char *due)
{
    char iso[32];
    snprintf (iso, sizeof iso, "%sT05:00:00Z", due);
    return s_ms (iso) + 86400000;
}

static void
s_prec (s_fix_t *x, const char *type, const char *id, int64_t at, const char *lead,
        const char *promise)
{
    bool us1 = strcmp (lead, "L4") == 0;
    char ev[4096];
    snprintf (ev, sizeof ev, "\"tenant\":\"102\",\"attempt_id\":\"%s\",\"call_kind\":\"debt_collection\","
                             "\"promise\":{%s}", us1 ? "a4" : "a5", promise);
    s_rec (x, type, id, at, lead, "us-collect", us1 ? "+12125550123" : "+13055550123",
           "America/New_York", ev);
}

static const char *
s_account (const char *lead)
{
    return strcmp (lead, "L4") == 0 ? "ACC-1" : "ACC-2";
}

/* promise.made, after the lead.finished of the call it was made on (as the dialer writes it). */
static void
s_made (s_fix_t *x, const char *pid, const char *lead, int64_t at, const s_inst_t *in, int n,
        bool schedule)
{
    char sched[2048] = "", pj[3072], id[96];
    size_t len = 0;
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        len += (size_t) snprintf (sched + len, sizeof sched - len,
                                  "%s{\"due\":\"%s\",\"amount_minor\":\"%lld\",\"deadline_ms\":\"%lld\"",
                                  i ? "," : "", in[i].due, (long long) in[i].amount,
                                  (long long) s_deadline (in[i].due));
        if (in[i].tolerance)
            len += (size_t) snprintf (sched + len, sizeof sched - len, ",\"tolerance_minor\":\"%lld\"",
                                      (long long) in[i].tolerance);
        len += (size_t) snprintf (sched + len, sizeof sched - len, "}");
        total += in[i].amount;
    }
    snprintf (pj, sizeof pj, "\"promise_id\":\"%s\",\"account_ref\":\"%s\",\"creditor\":\"bank-1\","
                             "\"currency\":\"USD\",\"amount_minor\":\"%lld\",\"instalments\":%d,"
                             "\"zone\":\"America/New_York\",\"status\":\"active\"%s%s%s", pid,
              s_account (lead), (long long) total, n, schedule ? ",\"schedule\":[" : "",
              schedule ? sched : "", schedule ? "]" : "");
    s_finish (x, lead, "us-collect", "contacted", at);
    snprintf (id, sizeof id, "%s.made", pid);
    s_prec (x, "promise.made", id, at, lead, pj);
}

/* A payment.applied / .reversed taken by promise pid (state after it: paid, credit, status), or
 * .unmatched (pid ""). */
static void
s_pay (s_fix_t *x, const char *type, const char *pay, const char *pid, const char *lead,
       const char *currency, int64_t amount, int64_t paid_at, int64_t at, int64_t paid,
       int64_t credit, const char *status)
{
    char pj[1024], id[96];
    int n = snprintf (pj, sizeof pj, "\"payment_id\":\"%s\",\"account_ref\":\"%s\",\"currency\":\"%s\","
                                     "\"payment_minor\":\"%lld\",\"paid_at_ms\":\"%lld\"", pay,
                      s_account (lead), currency, (long long) amount, (long long) paid_at);
    if (paid)
        n += snprintf (pj + n, sizeof pj - (size_t) n, ",\"paid_minor\":\"%lld\"", (long long) paid);
    if (credit)
        n += snprintf (pj + n, sizeof pj - (size_t) n, ",\"credit_minor\":\"%lld\"", (long long) credit);
    snprintf (id, sizeof id, "%s.%s", pay, strchr (type, '.') + 1);
    if (!*pid) {
        char ev[1200];
        snprintf (ev, sizeof ev, "\"call_kind\":\"debt_collection\",\"promise\":{%s,\"instalment\":-1}", pj);
        s_rec (x, type, id, at, "", "", "", "", ev);
        return;
    }
    snprintf (pj + n, sizeof pj - (size_t) n, ",\"promise_id\":\"%s\",\"status\":\"%s\"", pid, status);
    s_prec (x, type, id, at, lead, pj);
}

/* promise.kept / .partially_kept / .broken (of instalment inst, due `due`) / .reopened. */
static void
s_decided (s_fix_t *x, const char *status, const char *pid, const char *lead, int inst,
           const char *due, int64_t at)
{
    char pj[1024], id[96], type[48];
    int n = snprintf (pj, sizeof pj, "\"promise_id\":\"%s\",\"account_ref\":\"%s\",\"currency\":\"USD\","
                                     "\"status\":\"%s\"", pid, s_account (lead),
                      strcmp (status, "reopened") == 0 ? "active" : status);
    if (due) {
        if (inst)       /* 0, the first, is a default: omitted */
            n += snprintf (pj + n, sizeof pj - (size_t) n, ",\"instalment\":%d", inst);
        snprintf (pj + n, sizeof pj - (size_t) n, ",\"instalment_due\":\"%s\",\"deadline_ms\":\"%lld\","
                                                  "\"follow_up_campaign\":\"us-collect\"", due,
                  (long long) s_deadline (due));
    } else
        snprintf (pj + n, sizeof pj - (size_t) n, ",\"instalment\":-1");
    snprintf (type, sizeof type, "promise.%s", status);
    snprintf (id, sizeof id, "%s.%s", pid, status);
    s_prec (x, type, id, at, lead, pj);
}

/* The dialer's follow-up of a broken promise: the lead queued again. */
static void
s_follow_up (s_fix_t *x, const char *pid, const char *lead, int64_t at)
{
    char ev[512], id[96];
    snprintf (ev, sizeof ev, "\"tenant\":\"102\",\"call_kind\":\"debt_collection\",\"schedule\":{"
                             "\"due_at_ms\":%lld,\"attempt\":2,\"reason\":\"promise_broken\","
                             "\"outcome\":\"%s\"}", (long long) at, pid);
    snprintf (id, sizeof id, "%s.followup", pid);
    s_rec (x, "dial.scheduled", id, at, lead, "us-collect", strcmp (lead, "L4") ? "+13055550123"
           : "+12125550123", "", ev);
}

static const s_inst_t s_one[] = {{"2026-12-15", 10000, 200}};
static const s_inst_t s_two[] = {{"2026-12-15", 5000, 100}, {"2026-12-17", 5000, 100}};

static void
test_a_kept_promise_passes (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, true);
    int64_t t = s_ms ("2026-12-10T15:00:00Z");
    s_pay (x, "payment.applied", "pay1", "P1", "L4", "USD", 10000, t - 60000, t, 10000, 0, "kept");
    s_decided (x, "kept", "P1", "L4", -1, NULL, t);
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_violations (ck), 0);
    pl_check_destroy (&ck);
}

/* A step's records may reach the audit out of order (a restart between its deliveries): a
 * decision is judged once its instant is over, after the payments recorded at that instant.
 * A payment at a later instant does not count for it. */
static void
test_a_decision_recorded_before_its_payment_at_the_same_instant_passes (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, true);
    int64_t t = s_ms ("2026-12-10T15:00:00Z");
    s_decided (x, "kept", "P1", "L4", -1, NULL, t);
    s_pay (x, "payment.applied", "pay1", "P1", "L4", "USD", 10000, t - 60000, t, 10000, 0, "kept");
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_violations (ck), 0);
    pl_check_destroy (&ck);
}

static void
test_a_payment_after_the_decision_s_instant_does_not_count_for_it (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, true);
    int64_t t = s_ms ("2026-12-10T15:00:00Z");
    s_decided (x, "kept", "P1", "L4", -1, NULL, t);
    s_pay (x, "payment.applied", "pay1", "P1", "L4", "USD", 10000, t, t + 1000, 10000, 0, "kept");
    pl_check_t *ck = s_run (x);
    assert_true (s_fact_has (ck, "promise_decision", "holds 0 of 10000"));
    pl_check_destroy (&ck);
}

static void
test_a_part_paid_promise_missed_is_partially_kept (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_two, 2, true);
    int64_t t = s_ms ("2026-12-10T15:00:00Z"), d = s_deadline ("2026-12-15") + 120000;
    s_pay (x, "payment.applied", "pay1", "P1", "L4", "USD", 3000, t, t, 3000, 0, "active");
    s_decided (x, "partially_kept", "P1", "L4", 0, "2026-12-15", d);
    s_follow_up (x, "P1", "L4", d + 1000);
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_violations (ck), 0);
    pl_check_destroy (&ck);
}

static void
test_a_promise_broken_before_its_deadline_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, true);
    int64_t d = s_ms ("2026-12-15T20:00:00Z");     /* 15:00 in New York on its due date */
    s_decided (x, "broken", "P1", "L4", 0, "2026-12-15", d);
    s_follow_up (x, "P1", "L4", d + 1000);
    pl_check_t *ck = s_run (x);
    s_expect (ck, "promise_decision", 1);
    assert_true (s_fact_has (ck, "promise_decision", "before instalment 0's deadline"));
    pl_check_destroy (&ck);
}

static void
test_a_promise_kept_while_short_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, true);
    int64_t t = s_ms ("2026-12-10T15:00:00Z");
    /* 9000 of 10000 with a tolerance of 200: short. */
    s_pay (x, "payment.applied", "pay1", "P1", "L4", "USD", 9000, t, t, 9000, 0, "kept");
    s_decided (x, "kept", "P1", "L4", -1, NULL, t);
    pl_check_t *ck = s_run (x);
    s_expect (ck, "promise_decision", 1);
    assert_true (s_fact_has (ck, "promise_decision", "holds 9000 of 10000"));
    pl_check_destroy (&ck);
}

static void
test_a_wrong_allocation_is_caught_once (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_two, 2, true);
    int64_t t = s_ms ("2026-12-10T15:00:00Z");
    /* 10000 fills both instalments: the record puts 1000 of it in credit. */
    s_pay (x, "payment.applied", "pay1", "P1", "L4", "USD", 10000, t, t, 9000, 1000, "kept");
    s_decided (x, "kept", "P1", "L4", -1, NULL, t);
    /* 500 more: the same wrong split again, reported once per promise. */
    s_pay (x, "payment.applied", "pay2", "P1", "L4", "USD", 500, t + 1000, t + 1000, 9000, 1500, "kept");
    pl_check_t *ck = s_run (x);
    s_expect (ck, "promise_money", 1);
    assert_true (s_fact_has (ck, "promise_money", "10000 and 0"));
    pl_check_destroy (&ck);
}

static void
test_a_payment_in_another_currency_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, true);
    int64_t t = s_ms ("2026-12-10T15:00:00Z");
    s_pay (x, "payment.applied", "pay1", "P1", "L4", "EUR", 10000, t, t, 0, 0, "active");
    s_pay (x, "payment.applied", "pay2", "P1", "L4", "USD", 10000, t + 1000, t + 1000, 10000, 0, "kept");
    s_decided (x, "kept", "P1", "L4", -1, NULL, t + 1000);
    pl_check_t *ck = s_run (x);
    s_expect (ck, "promise_money", 1);
    assert_true (s_fact_has (ck, "promise_money", "in EUR"));
    pl_check_destroy (&ck);
}

/* Kept, a reversal leaves the second instalment short before its deadline: active again, then
 * kept again by the next payment (the excess is credit). */
static void
test_a_reversal_reopens_a_kept_promise (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_two, 2, true);
    int64_t t = s_ms ("2026-12-09T15:00:00Z");
    s_pay (x, "payment.applied", "pay1", "P1", "L4", "USD", 10000, t, t, 10000, 0, "kept");
    s_decided (x, "kept", "P1", "L4", -1, NULL, t);
    t = s_ms ("2026-12-10T15:00:00Z");
    s_pay (x, "payment.reversed", "rev1", "P1", "L4", "USD", 4000, t, t, 6000, 0, "active");
    s_decided (x, "reopened", "P1", "L4", -1, NULL, t);
    t = s_ms ("2026-12-11T15:00:00Z");
    s_pay (x, "payment.applied", "pay2", "P1", "L4", "USD", 6000, t, t, 10000, 2000, "kept");
    s_decided (x, "kept", "P1", "L4", -1, NULL, t);
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_violations (ck), 0);
    pl_check_destroy (&ck);
}

/* The same reversal after the first deadline: decided at once (partially kept), no reopening. */
static void
test_a_reversal_after_the_deadline_decides_at_once (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, true);
    int64_t t = s_ms ("2026-12-09T15:00:00Z");
    s_pay (x, "payment.applied", "pay1", "P1", "L4", "USD", 10000, t, t, 10000, 0, "kept");
    s_decided (x, "kept", "P1", "L4", -1, NULL, t);
    t = s_ms ("2026-12-17T15:00:00Z");
    s_pay (x, "payment.reversed", "rev1", "P1", "L4", "USD", 3000, t, t, 7000, 0, "partially_kept");
    s_decided (x, "partially_kept", "P1", "L4", 0, "2026-12-15", t);
    s_follow_up (x, "P1", "L4", t + 1000);
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_violations (ck), 0);
    pl_check_destroy (&ck);
}

/* Reopened although the short instalment's deadline had passed. */
static void
test_a_reopening_after_the_deadline_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, true);
    int64_t t = s_ms ("2026-12-09T15:00:00Z");
    s_pay (x, "payment.applied", "pay1", "P1", "L4", "USD", 10000, t, t, 10000, 0, "kept");
    s_decided (x, "kept", "P1", "L4", -1, NULL, t);
    t = s_ms ("2026-12-17T15:00:00Z");
    s_pay (x, "payment.reversed", "rev1", "P1", "L4", "USD", 3000, t, t, 7000, 0, "active");
    s_decided (x, "reopened", "P1", "L4", -1, NULL, t);
    pl_check_t *ck = s_run (x);
    assert_true (s_fact_has (ck, "promise_decision", "decided at once"));
    /* And, active again with its deadline long gone, it is never decided. */
    assert_int_equal (pl_check_count (ck, "promise_decision"), 1);
    assert_int_equal (pl_check_count (ck, "promise_undecided"), 1);
    assert_int_equal (pl_check_violations (ck), 2);
    pl_check_destroy (&ck);
}

/* Paid in full after the deadline, before the service's sweep: the clock is read first, and the
 * promise is broken on the money before it (none), the late money still allocated. */
static void
test_a_payment_after_the_deadline_is_late (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, true);
    int64_t t = s_deadline ("2026-12-15") + 30000;
    s_pay (x, "payment.applied", "pay1", "P1", "L4", "USD", 10000, t - 10000, t, 10000, 0, "broken");
    s_decided (x, "broken", "P1", "L4", 0, "2026-12-15", t);
    s_follow_up (x, "P1", "L4", t + 1000);
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_violations (ck), 0);
    pl_check_destroy (&ck);
}

static void
test_a_second_decision_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_two, 2, true);
    int64_t d = s_deadline ("2026-12-15") + 60000;
    s_decided (x, "broken", "P1", "L4", 0, "2026-12-15", d);
    s_follow_up (x, "P1", "L4", d + 1000);
    s_decided (x, "broken", "P1", "L4", 1, "2026-12-17", s_deadline ("2026-12-17") + 60000);
    pl_check_t *ck = s_run (x);
    s_expect (ck, "promise_decision", 1);
    assert_true (s_fact_has (ck, "promise_decision", "already broken"));
    pl_check_destroy (&ck);
}

static void
test_a_broken_promise_without_follow_up_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, true);
    s_decided (x, "broken", "P1", "L4", 0, "2026-12-15", s_deadline ("2026-12-15") + 180000);
    /* A follow-up of another promise, and one of this promise for another lead, do not count. */
    s_follow_up (x, "P2", "L4", s_deadline ("2026-12-15") + 200000);
    s_follow_up (x, "P1", "L5", s_deadline ("2026-12-15") + 200000);
    pl_check_t *ck = s_run (x);
    s_expect (ck, "promise_no_follow_up", 1);
    pl_check_destroy (&ck);
}

static void
test_a_broken_promise_followed_up_passes (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, true);
    int64_t d = s_deadline ("2026-12-15") + 180000;
    s_decided (x, "broken", "P1", "L4", 0, "2026-12-15", d);
    s_follow_up (x, "P1", "L4", d + 2000);
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_violations (ck), 0);
    pl_check_destroy (&ck);
}

static void
test_a_promise_left_undecided_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_two, 2, true);
    int64_t t = s_ms ("2026-12-10T15:00:00Z");
    s_pay (x, "payment.applied", "pay1", "P1", "L4", "USD", 6000, t, t, 6000, 0, "active");
    pl_check_t *ck = s_run (x);
    s_expect (ck, "promise_undecided", 1);
    assert_true (s_fact_has (ck, "promise_undecided", "instalment 1 short"));
    pl_check_destroy (&ck);
}

/* A payment before its promise waits for the account's next one (7 days at most). */
static void
test_an_unmatched_payment_later_applied_passes (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    int64_t u = s_ms ("2026-12-07T12:00:00Z"), m = s_ms ("2026-12-07T19:05:00Z");
    s_pay (x, "payment.unmatched", "pay0", "", "L4", "USD", 10000, u, u, 0, 0, "");
    s_made (x, "P1", "L4", m, s_one, 1, true);
    s_pay (x, "payment.applied", "pay0", "P1", "L4", "USD", 10000, u, m, 10000, 0, "kept");
    s_decided (x, "kept", "P1", "L4", -1, NULL, m);
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_violations (ck), 0);
    pl_check_destroy (&ck);
}

static void
test_an_unmatched_payment_taken_after_7_days_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    int64_t u = s_ms ("2026-11-30T12:00:00Z"), m = s_ms ("2026-12-07T19:05:00Z");
    s_pay (x, "payment.unmatched", "pay0", "", "L4", "USD", 10000, u, u, 0, 0, "");
    s_made (x, "P1", "L4", m, s_one, 1, true);
    s_pay (x, "payment.applied", "pay0", "P1", "L4", "USD", 10000, u, m, 10000, 0, "kept");
    s_decided (x, "kept", "P1", "L4", -1, NULL, m);
    pl_check_t *ck = s_run (x);
    s_expect (ck, "promise_money", 1);
    assert_true (s_fact_has (ck, "promise_money", "within 7 days"));
    pl_check_destroy (&ck);
}

/* US-3, another lead of tenant 102 with the same debt ACC-1, called while US-1's promise on it
 * is active; and once after the promise was decided, which is allowed. */
static void
test_a_call_on_the_debt_of_an_active_promise_is_caught (void **state)
{
    s_fix_t *x = *state;
    s_write (x->dir, "leads/us-extra.ndjson",
             "{\"external_id\":\"US-3\",\"campaign\":\"us-collect\",\"country\":\"US\",\"state\":\"NY\","
             "\"postal_code\":\"10001\",\"phone\":\"+12125550199\",\"debt\":{\"account_ref\":\"ACC-1\"}}\n");
    s_clean (x, false);
    s_accept (x, "L7", "US-3", "us-collect", "+12125550199", "America/New_York");
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, true);
    s_call (x, "a7", "L7", "us-collect", "+12125550199", "America/New_York",
            s_ms ("2026-12-09T19:00:00Z"), "answered");
    int64_t d = s_deadline ("2026-12-15") + 180000;
    s_decided (x, "broken", "P1", "L4", 0, "2026-12-15", d);
    s_follow_up (x, "P1", "L4", d + 1000);
    s_call (x, "a7b", "L7", "us-collect", "+12125550199", "America/New_York",
            s_ms ("2026-12-17T19:00:00Z"), "answered");
    s_finish (x, "L7", "us-collect", "contacted", s_ms ("2026-12-20T12:00:00Z"));
    pl_check_t *ck = s_run (x);
    s_expect (ck, "promise_active_call", 1);
    const char *attempt;
    for (size_t i = 0; i < pl_check_violations (ck); i++)
        if (strcmp (pl_check_violation (ck, i, &attempt, NULL, NULL), "promise_active_call") == 0)
            assert_string_equal (attempt, "a7");
    pl_check_destroy (&ck);
}

static void
test_a_promise_without_its_schedule_is_a_missing_fact (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    s_made (x, "P1", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, false);
    pl_check_t *ck = s_run (x);
    s_expect (ck, "missing_fact", 1);
    assert_true (s_fact_has (ck, "missing_fact", "promise.schedule"));
    pl_check_destroy (&ck);
}

/* Three promises of us-collect: kept, partially kept, broken; 23000 promised, 11000 collected,
 * and a payment on US-2's debt unmatched at the end. */
static void
test_the_report_shows_the_promises (void **state)
{
    s_fix_t *x = *state;
    s_clean (x, false);
    int64_t t = s_ms ("2026-12-09T15:00:00Z");
    s_made (x, "PA", "L4", s_ms ("2026-12-07T19:05:00Z"), s_one, 1, true);
    s_pay (x, "payment.applied", "pay1", "PA", "L4", "USD", 10000, t, t, 10000, 0, "kept");
    s_decided (x, "kept", "PA", "L4", -1, NULL, t);
    static const s_inst_t b[] = {{"2026-12-15", 4000, 0}, {"2026-12-17", 4000, 0}};
    s_made (x, "PB", "L5", s_ms ("2026-12-07T20:05:00Z"), b, 2, true);
    s_pay (x, "payment.applied", "pay2", "PB", "L5", "USD", 1000, t, t, 1000, 0, "active");
    static const s_inst_t c[] = {{"2026-12-15", 5000, 0}};
    s_made (x, "PC", "L4", s_ms ("2026-12-11T15:00:00Z"), c, 1, true);
    int64_t d = s_deadline ("2026-12-15") + 120000;
    s_decided (x, "partially_kept", "PB", "L5", 0, "2026-12-15", d);
    s_decided (x, "broken", "PC", "L4", 0, "2026-12-15", d);
    s_follow_up (x, "PB", "L5", d + 1000);
    s_follow_up (x, "PC", "L4", d + 1000);
    int64_t u = s_ms ("2026-12-18T15:00:00Z");
    s_pay (x, "payment.unmatched", "pay3", "", "L5", "USD", 700, u, u, 0, 0, "");
    pl_check_t *ck = s_run (x);
    assert_int_equal (pl_check_violations (ck), 0);
    char path[1100];
    snprintf (path, sizeof path, "%s/report.json", x->dir);
    assert_int_equal (pl_check_write_json (ck, path), 0);
    json_error_t je;
    json_t *r = json_load_file (path, 0, &je);
    assert_non_null (r);
    json_t *pr = NULL, *camp;
    size_t i;
    json_array_foreach (json_object_get (r, "campaigns"), i, camp) {
        if (strcmp (json_string_value (json_object_get (camp, "name")), "us-collect") == 0)
            pr = json_object_get (camp, "promises");
        else
            assert_null (json_object_get (camp, "promises"));   /* only where there are some */
    }
    assert_non_null (pr);
    assert_int_equal (json_integer_value (json_object_get (pr, "made")), 3);
    assert_int_equal (json_integer_value (json_object_get (pr, "kept")), 1);
    assert_int_equal (json_integer_value (json_object_get (pr, "partially_kept")), 1);
    assert_int_equal (json_integer_value (json_object_get (pr, "broken")), 1);
    assert_int_equal (json_integer_value (json_object_get (pr, "active")), 0);
    double rate = json_real_value (json_object_get (pr, "kept_rate_pct"));
    assert_true (rate > 33.32 && rate < 33.34);
    json_t *usd = json_object_get (json_object_get (pr, "by_currency"), "USD");
    assert_int_equal (json_integer_value (json_object_get (usd, "promised_minor")), 23000);
    assert_int_equal (json_integer_value (json_object_get (usd, "collected_minor")), 11000);
    assert_int_equal (json_integer_value (json_object_get (usd, "unmatched_minor")), 700);
    assert_int_equal (json_integer_value (json_object_get (pr, "unmatched_payments")), 1);
    assert_non_null (json_object_get (r, "promises"));
    json_decref (r);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    pl_check_print (ck, out);
    fclose (out);
    assert_non_null (strstr (text, "kept rate 33.33%"));
    free (text);
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
        cmocka_unit_test_setup_teardown (test_a_business_callee_is_judged_outside_the_consumer_rules, s_setup,
                                         s_teardown),
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
        cmocka_unit_test_setup_teardown (test_a_kept_promise_passes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_part_paid_promise_missed_is_partially_kept, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_promise_broken_before_its_deadline_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_promise_kept_while_short_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_decision_recorded_before_its_payment_at_the_same_instant_passes, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_a_payment_after_the_decision_s_instant_does_not_count_for_it, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_a_wrong_allocation_is_caught_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_payment_in_another_currency_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_reversal_reopens_a_kept_promise, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_reversal_after_the_deadline_decides_at_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_reopening_after_the_deadline_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_payment_after_the_deadline_is_late, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_second_decision_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_broken_promise_without_follow_up_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_broken_promise_followed_up_passes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_promise_left_undecided_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_an_unmatched_payment_later_applied_passes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_an_unmatched_payment_taken_after_7_days_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_call_on_the_debt_of_an_active_promise_is_caught, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_promise_without_its_schedule_is_a_missing_fact, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_the_report_shows_the_promises, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name ("checker", tests, NULL, NULL);
}
