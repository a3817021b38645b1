/*  test_e2e_scrub.c — a CRM file through the intake, scrub and the audit service, end to end
 *  (issue 10, acceptance 1), with real processes: every lead ends cleared or suppressed with its
 *  reasons in the intake's GET /v1/leads/{id}, and `plateauctl audit why` on a number tells the
 *  same story from the audit: the lead accepted, then scrub's verdict with the rule that decided.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <jansson.h>
#include "test_audit_service_fixture.h"
#include "test_scrub_fixture.h"

#define N_LEADS 4
#define CONSENTED "+33612345600"    /* x0: consent on record (France is opt-in) */
#define REFUSED "+33612345601"      /* x1: none */

#define S_B2B_LEADS 8

/* Every lead's status; done once each is cleared or suppressed. */
typedef struct {
    sx_t *f;
    int n;                      /* 0: N_LEADS */
    char ids[S_B2B_LEADS][40];
    char status[S_B2B_LEADS][32];
} s_run_t;

static bool
s_all_scrubbed (void *arg)
{
    s_run_t *r = arg;
    sx_pump (r->f, 50);
    for (int i = 0; i < (r->n ? r->n : N_LEADS); i++) {
        char path[320];
        snprintf (path, sizeof path, "/v1/leads/%s", r->ids[i]);
        pl_test_http_resp_t resp = { 0 };
        if (sx_http (&r->f->intake, "GET", path, SX_TOKEN, NULL, NULL, &resp) != 200) {
            pl_test_http_resp_free (&resp);
            return false;
        }
        json_t *o = json_loads (resp.body, 0, NULL);
        snprintf (r->status[i], sizeof r->status[i], "%s", json_string_value (json_object_get (o, "status")) ?: "");
        json_decref (o);
        pl_test_http_resp_free (&resp);
        /* Done means judged: any other status (queued, or one this test does not know) waits. */
        if (strcmp (r->status[i], "cleared") != 0 && strcmp (r->status[i], "suppressed") != 0)
            return false;
    }
    return true;
}

/* Posts csv to the intake and keeps the ids of its n leads in run. */
static void
s_post_csv (sx_t *f, const char *csv, s_run_t *run, int n)
{
    pl_test_http_resp_t resp = { 0 };
    assert_int_equal (sx_http (&f->intake, "POST", "/v1/leads", SX_TOKEN, "text/csv", csv, &resp), 200);
    int k = 0;
    for (char *line = strtok (resp.body, "\n"); line && k < n; line = strtok (NULL, "\n")) {
        json_t *o = json_loads (line, 0, NULL);
        const char *id = json_string_value (json_object_get (o, "lead_id"));
        if (id)
            snprintf (run->ids[k++], 40, "%s", id);
        json_decref (o);
    }
    pl_test_http_resp_free (&resp);
    assert_int_equal (k, n);
    run->n = n;
}

/* The number's story in the audit has both records. */
typedef struct {
    ax_t *a;
    const char *number;
} s_story_t;

static bool
s_story_complete (void *arg)
{
    s_story_t *s = arg;
    char path[128];
    snprintf (path, sizeof path, "/v1/audit?number=%%2B%s", s->number + 1);
    pl_test_http_resp_t resp = { 0 };
    bool ok = pl_test_http_request (s->a->http_port, "GET", path, "Authorization: Bearer " AX_TOKEN "\r\n", NULL, 0,
                                    &resp) == 200
           && strstr (resp.body, "lead.accepted") && strstr (resp.body, "scrub.verdict");
    pl_test_http_resp_free (&resp);
    return ok;
}

static char *
s_why (ax_t *a, const char *number)
{
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", a->http_port);
    char *text = NULL;
    char *argv[] = { "audit", "why", (char *) number, "--url", url, "--token", AX_TOKEN, NULL };
    assert_int_equal (ax_ctl (argv, &text), 0);
    printf ("%s", text);
    return text;
}

static void
test_a_crm_file_ends_judged_with_its_reasons_in_the_lead_and_the_audit (void **state)
{
    (void) state;
    ax_t *a = ax_new ();
    assert_non_null (a);
    assert_true (ax_start (a, NULL) > 0);
    sx_t *f = sx_new ();
    assert_non_null (f);
    snprintf (f->audit_bus, sizeof f->audit_bus, "%s", a->bus);   /* the real audit service */
    assert_int_equal (sx_start_scrub (f, 0, NULL), 0);
    assert_int_equal (sx_start_intake (f), 0);

    char csv[2048] = "external_id,phone,campaign,consent_scope,consent_channel,consent_source,"
                     "consent_captured_at,consent_proof_ref\n";
    for (int i = 0; i < N_LEADS; i++) {
        char row[256];
        if (i % 2 == 0)
            snprintf (row, sizeof row, "x%d,06123456%02d,spring,canvassing,phone,web-form:example.fr,"
                                       "2026-10-01T10:00:00Z,proof-%d\n", i, i, i);
        else
            snprintf (row, sizeof row, "x%d,06123456%02d,spring,,,,,\n", i, i);
        strcat (csv, row);
    }
    s_run_t run = { .f = f };
    s_post_csv (f, csv, &run, N_LEADS);

    /* Every lead ends cleared or suppressed; the intake shows scrub's reasons. */
    assert_true (pl_test_wait_until (s_all_scrubbed, &run, 30000));
    for (int i = 0; i < N_LEADS; i++)
        assert_string_equal (run.status[i], i % 2 == 0 ? "cleared" : "suppressed");

    /* The audit tells each number's story: accepted, then judged, with the deciding rule. */
    s_story_t refused = { a, REFUSED }, consented = { a, CONSENTED };
    assert_true (pl_test_wait_until (s_story_complete, &refused, 20000));
    assert_true (pl_test_wait_until (s_story_complete, &consented, 20000));
    char *text = s_why (a, REFUSED);
    assert_non_null (strstr (text, "lead.accepted"));
    assert_non_null (strstr (text, "scrub.verdict"));
    assert_non_null (strstr (text, "fr.consent"));
    assert_non_null (strstr (text, "deny"));
    assert_non_null (strstr (text, "regions: FR (number)"));
    free (text);
    text = s_why (a, CONSENTED);
    assert_non_null (strstr (text, "scrub.verdict"));
    assert_non_null (strstr (text, "consent.recorded"));
    assert_null (strstr (text, "deny"));
    free (text);
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", a->http_port);
    char *verify[] = { "audit", "verify", "--url", url, "--token", AX_TOKEN, NULL };
    assert_int_equal (ax_ctl (verify, NULL), 0);

    sx_destroy (f);
    ax_destroy (&a);
}

/* Who is called, through the stack: a CRM file with a callee column. France: a business in a
 * campaign for businesses, without consent, is cleared, and both the lead's verdict and the
 * audit say which consumer rules did not apply and by which rule; a consumer of the same
 * campaign, and a business in a campaign for consumers only, are suppressed for want of consent.
 * US: a business on the National DNC is cleared, but not for office supplies, nor autodialed to
 * a possible mobile without consent. UK: a company on the CTPS and a sole trader on the TPS are
 * suppressed. */
static void
test_a_business_callee_is_cleared_outside_the_consumer_rules_and_says_why (void **state)
{
    (void) state;
    ax_t *a = ax_new ();
    assert_non_null (a);
    assert_true (ax_start (a, NULL) > 0);
    sx_t *f = sx_new ();
    assert_non_null (f);
    snprintf (f->audit_bus, sizeof f->audit_bus, "%s", a->bus);
    sx_campaign (f, "trade", "[campaign]\nprofile = fr-cc\ntenant = acme\ncallees = consumer business\n");
    sx_campaign (f, "spring", "[campaign]\nprofile = fr-cc\ntenant = acme\n");
    sx_campaign (f, "us-trade", "[campaign]\nprofile = us-cc\ntenant = acme\ncallees = business\n");
    sx_campaign (f, "us-trade-auto", "[campaign]\nprofile = us-cc\ntenant = acme\ncallees = business\n"
                                     "dialing = autodialed\n");
    sx_campaign (f, "us-supplies", "[campaign]\nprofile = us-cc\ntenant = acme\ncallees = business\n"
                                   "sector = office-supplies\n");
    sx_campaign (f, "uk-trade", "[campaign]\nprofile = uk-cc\ntenant = acme\ncallees = business sole-trader\n"
                                "cli = +442079460000\n");
    char lists[600];
    snprintf (lists, sizeof lists, "PLATEAU_SCRUB_LISTS_DIR=%s/lists", f->dir);
    const char *extra[] = { lists, NULL };
    assert_int_equal (sx_start_scrub (f, 0, extra), 0);
    assert_int_equal (sx_start_intake (f), 0);
    /* Registry copies of yesterday: a US number on the National DNC, a UK company on the
     * CTPS, a UK sole trader on the TPS. */
    char day[11], path[320];
    pl_test_date (-1, day);
    pl_test_http_resp_t resp = { 0 };
    const char *const loads[][3] = { { "us-dnc", "US", "202,5550199\n" }, { "ctps", "GB", "02079460123\n" },
                                     { "tps", "GB", "07911123456\n" } };
    for (int i = 0; i < 3; i++) {
        snprintf (path, sizeof path, "/v1/lists/%s?jurisdiction=%s&taken=%s", loads[i][0], loads[i][1], day);
        int st = sx_http (&f->scrub[0], "PUT", path, SX_OPS_TOKEN, "text/plain", loads[i][2], &resp);
        if (st != 201)
            fail_msg ("%s: %d %s", path, st, resp.body ? resp.body : "");
        pl_test_http_resp_free (&resp);
    }
    const char *csv = "external_id,phone,campaign,callee type\n"
                      "b0,0612345690,trade,business\n"
                      "b1,0612345691,trade,consumer\n"
                      "b2,0612345692,spring,business\n"
                      "u0,+12025550199,us-trade,business\n"
                      "u1,+12025550199,us-supplies,business\n"
                      "u2,+12025550123,us-trade-auto,business\n"
                      "k0,+442079460123,uk-trade,business\n"
                      "k1,+447911123456,uk-trade,sole-trader\n";
    s_run_t run = { .f = f };
    s_post_csv (f, csv, &run, S_B2B_LEADS);
    assert_true (pl_test_wait_until (s_all_scrubbed, &run, 30000));
    /* FR: the business cleared, the consumer and the business of a consumer campaign not
     * (no consent). US: the business on the registry cleared, not for office supplies, nor
     * autodialed to a possible mobile without consent (us.wireless-consent). UK: the company on
     * the CTPS and the sole trader on the TPS suppressed. */
    static const char *const want[S_B2B_LEADS][2] = {
        { "cleared", NULL }, { "suppressed", "fr.consent" }, { "suppressed", "fr.consent" },
        { "cleared", NULL }, { "suppressed", "us.dnc-national" }, { "suppressed", "us.wireless-consent" },
        { "suppressed", "uk.ctps" }, { "suppressed", "uk.tps" } };
    for (int i = 0; i < S_B2B_LEADS; i++) {
        snprintf (path, sizeof path, "/v1/leads/%s", run.ids[i]);
        assert_int_equal (sx_http (&f->intake, "GET", path, SX_TOKEN, NULL, NULL, &resp), 200);
        if (strcmp (run.status[i], want[i][0]) != 0 || (want[i][1] && !strstr (resp.body, want[i][1])))
            fail_msg ("lead %d: %s, want %s by %s: %s", i, run.status[i], want[i][0], want[i][1] ? want[i][1] : "-",
                      resp.body);
        pl_test_http_resp_free (&resp);
    }

    /* The lead's verdict: checked as a business, fr.consent not applied by fr.b2b. */
    snprintf (path, sizeof path, "/v1/leads/%s", run.ids[0]);
    assert_int_equal (sx_http (&f->intake, "GET", path, SX_TOKEN, NULL, NULL, &resp), 200);
    printf ("%s\n", resp.body);
    assert_non_null (strstr (resp.body, "\"callee\":\"business\""));
    assert_non_null (strstr (resp.body, "does not apply to a business callee (fr.b2b)"));
    pl_test_http_resp_free (&resp);

    /* The audit: the lead accepted as a business, the verdict with what did not apply. */
    s_story_t b0 = { a, "+33612345690" };
    assert_true (pl_test_wait_until (s_story_complete, &b0, 20000));
    char *text = s_why (a, "+33612345690");
    assert_non_null (strstr (text, "fr.b2b"));
    assert_null (strstr (text, "deny"));
    free (text);
    snprintf (path, sizeof path, "/v1/audit?number=%%2B33612345690");
    assert_int_equal (pl_test_http_request (a->http_port, "GET", path, "Authorization: Bearer " AX_TOKEN "\r\n", NULL,
                                            0, &resp), 200);
    assert_non_null (strstr (resp.body, "\"callee\":\"business\""));
    assert_non_null (strstr (resp.body, "\"callee_lifts\""));
    assert_non_null (strstr (resp.body, "\"by_rule\":\"fr.b2b\""));
    pl_test_http_resp_free (&resp);
    s_story_t b2 = { a, "+33612345692" };
    assert_true (pl_test_wait_until (s_story_complete, &b2, 20000));
    text = s_why (a, "+33612345692");
    assert_non_null (strstr (text, "fr.consent"));
    assert_non_null (strstr (text, "deny"));
    free (text);

    sx_destroy (f);
    ax_destroy (&a);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_crm_file_ends_judged_with_its_reasons_in_the_lead_and_the_audit),
        cmocka_unit_test (test_a_business_callee_is_cleared_outside_the_consumer_rules_and_says_why),
    };
    return cmocka_run_group_tests_name ("e2e_scrub", tests, NULL, NULL);
}
