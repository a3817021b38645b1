/*  test_scrub_intake.c — a CRM file through the intake and scrub, end to end (issue 10,
 *  acceptance 1): every lead ends cleared or suppressed, with its reasons per number in the
 *  intake's GET /v1/leads/{id}; the dialer gets LeadCleared or LeadSuppressed for each, and the
 *  audit one scrub.verdict per number, with every list consulted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_scrub_fixture.h"

#define N_LEADS 6

static bool
s_all_judged (void *arg)
{
    sx_t *f = arg;
    sx_pump (f, 50);
    return sx_count_events (f, "scrub.verdict") >= N_LEADS && f->ndialer >= N_LEADS;
}

static void
test_crm_file_ends_with_every_lead_cleared_or_suppressed (void **state)
{
    sx_t *f = *state;
    /* Three leads carry their consent (France is opt-in): they may be called some day. Three
     * do not: suppressed, fr.consent naming why. */
    char csv[4096] = "external_id,phone,campaign,consent_scope,consent_channel,consent_source,"
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
    pl_test_http_resp_t r = { 0 };
    int st = sx_http (&f->intake, "POST", "/v1/leads", SX_TOKEN, "text/csv", csv, &r);
    assert_int_equal (st, 200);
    /* one NDJSON result per row: collect the lead ids */
    char ids[N_LEADS][40];
    int n = 0;
    for (char *line = strtok (r.body, "\n"); line && n < N_LEADS; line = strtok (NULL, "\n")) {
        json_t *o = json_loads (line, 0, NULL);
        const char *id = json_string_value (json_object_get (o, "lead_id"));
        if (id)
            snprintf (ids[n++], 40, "%s", id);
        json_decref (o);
    }
    pl_test_http_resp_free (&r);
    assert_int_equal (n, N_LEADS);

    assert_true (pl_test_wait_until (s_all_judged, f, 30000));
    int cleared = 0, suppressed = 0;
    for (int i = 0; i < N_LEADS; i++) {
        char path[320];
        snprintf (path, sizeof path, "/v1/leads/%s", ids[i]);
        assert_int_equal (sx_http (&f->intake, "GET", path, SX_TOKEN, NULL, NULL, &r), 200);
        json_t *o = json_loads (r.body, 0, NULL);
        const char *status = json_string_value (json_object_get (o, "status"));
        json_t *numbers = json_object_get (json_object_get (o, "verdict"), "numbers");
        assert_non_null (status);
        assert_true (strcmp (status, "cleared") == 0 || strcmp (status, "suppressed") == 0);
        assert_int_equal (json_array_size (numbers), 1);
        json_t *v = json_array_get (numbers, 0);
        /* every list consulted is named, the internal list among them */
        assert_true (json_array_size (json_object_get (v, "lists")) >= 1);
        if (strcmp (status, "suppressed") == 0) {
            suppressed++;
            assert_string_equal (json_string_value (json_object_get (v, "decision")), "deny");
            assert_string_equal (json_string_value (json_object_get (v, "decisive")), "fr.consent");
            assert_true (json_array_size (json_object_get (v, "reasons")) >= 1);
        } else
            cleared++;
        json_decref (o);
        pl_test_http_resp_free (&r);
    }
    assert_int_equal (cleared, N_LEADS / 2);
    assert_int_equal (suppressed, N_LEADS / 2);
    /* The dialer heard of each lead, once, under the right type. */
    int lc = 0, ls = 0;
    for (size_t i = 0; i < f->ndialer; i++) {
        lc += strcmp (f->dialer_types[i], "LeadCleared") == 0;
        ls += strcmp (f->dialer_types[i], "LeadSuppressed") == 0;
    }
    assert_int_equal (lc, N_LEADS / 2);
    assert_int_equal (ls, N_LEADS / 2);
    /* The audit: a verdict per number citing internal-dnc, and the leads' consents recorded. */
    assert_int_equal (sx_count_events (f, "scrub.verdict"), N_LEADS);
    for (size_t i = 0; i < f->naudit; i++)
        if (strcmp (f->events[i].type, "scrub.verdict") == 0) {
            assert_non_null (strstr (f->events[i].list_names, "internal-dnc"));
            assert_true (*f->events[i].lead_id != '\0');
        }
    assert_int_equal (sx_count_events (f, "consent.recorded"), N_LEADS / 2);
}

static int
s_setup (void **state)
{
    sx_t *f = sx_new ();
    if (!f)
        return -1;
    if (sx_start_scrub (f, 0, NULL) != 0 || sx_start_intake (f) != 0) {
        sx_destroy (f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    sx_destroy (*state);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_crm_file_ends_with_every_lead_cleared_or_suppressed, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
