/*  test_scrub_consent.c — consent granted then revoked: allowed, then denied at once; the audit
 *  shows both with their evidence (issue 10, acceptance 5). Consents count only for their
 *  campaign when they name one, and a revoked consent cannot be revoked twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_scrub_fixture.h"

#define NUMBER "+33612345611"

static char *
s_record (sx_t *f, const char *body)
{
    pl_test_http_resp_t r = { 0 };
    int st = sx_http (&f->scrub[0], "POST", "/v1/consents", SX_TOKEN, "application/json", body, &r);
    json_t *o = st == 201 ? json_loads (r.body, 0, NULL) : NULL;
    char *id = o ? strdup (json_string_value (json_object_get (o, "id"))) : NULL;
    json_decref (o);
    pl_test_http_resp_free (&r);
    return id;
}

static void
test_consent_granted_then_revoked_allows_then_denies (void **state)
{
    sx_t *f = *state;
    char d[16];
    assert_int_equal (sx_decision (f, 0, NUMBER, NULL, d, sizeof d), 200);
    assert_string_equal (d, "deny");                       /* fr.consent: none yet */

    char *id = s_record (f, "{\"number\":\"" NUMBER "\",\"source\":\"web-form:example.fr/offer\","
                            "\"evidence_ref\":\"doc-8812\",\"wording_version\":\"v3\",\"channel\":\"phone\","
                            "\"purpose\":\"canvassing\",\"ref\":\"crm-42\",\"captured_at\":\"2026-10-01T10:00:00Z\"}");
    assert_non_null (id);
    assert_int_equal (sx_decision (f, 0, NUMBER, NULL, d, sizeof d), 200);
    assert_string_not_equal (d, "deny");                   /* allow, or defer to the next window */

    char path[160];
    snprintf (path, sizeof path, "/v1/consents/%s", id);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (sx_http (&f->scrub[0], "DELETE", path, SX_TOKEN, NULL, NULL, &r), 204);
    pl_test_http_resp_free (&r);
    assert_int_equal (sx_decision (f, 0, NUMBER, NULL, d, sizeof d), 200);
    assert_string_equal (d, "deny");
    assert_int_equal (sx_http (&f->scrub[0], "DELETE", path, SX_TOKEN, NULL, NULL, &r), 409);
    pl_test_http_resp_free (&r);
    assert_int_equal (sx_http (&f->scrub[0], "DELETE", "/v1/consents/01NOSUCHCONSENT", SX_TOKEN, NULL, NULL, &r), 404);
    pl_test_http_resp_free (&r);

    for (int i = 0; i < 100 && sx_count_events (f, "consent.revoked") < 1; i++)
        sx_pump (f, 50);
    int recorded = 0, revoked = 0;
    for (size_t i = 0; i < f->naudit; i++) {
        sx_event_t *e = &f->events[i];
        if (strcmp (e->type, "consent.recorded") == 0) {
            recorded++;
            assert_string_equal (e->evidence, "doc-8812");
            assert_int_equal (e->revoked_at_ms, 0);
        } else if (strcmp (e->type, "consent.revoked") == 0) {
            revoked++;
            assert_string_equal (e->evidence, "doc-8812");
            assert_true (e->revoked_at_ms > 0);
        }
    }
    assert_int_equal (recorded, 1);
    assert_int_equal (revoked, 1);
    free (id);
}

static void
test_consent_for_another_campaign_does_not_count (void **state)
{
    sx_t *f = *state;
    char *id = s_record (f, "{\"number\":\"+33612345612\",\"source\":\"web-form:example.fr\","
                            "\"evidence_ref\":\"doc-1\",\"campaign\":\"autumn\",\"tenant\":\"acme\","
                            "\"captured_at\":\"2026-10-01T10:00:00Z\"}");
    assert_non_null (id);
    char d[16];
    assert_int_equal (sx_decision (f, 0, "+33612345612", "spring", d, sizeof d), 200);
    assert_string_equal (d, "deny");
    assert_int_equal (sx_decision (f, 0, "+33612345612", "autumn", d, sizeof d), 200);
    assert_string_not_equal (d, "deny");
    free (id);
}

static void
test_consent_without_its_proof_is_refused_naming_the_field (void **state)
{
    sx_t *f = *state;
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (sx_http (&f->scrub[0], "POST", "/v1/consents", SX_TOKEN, "application/json",
                               "{\"number\":\"" NUMBER "\",\"source\":\"x\",\"captured_at\":\"2026-10-01T10:00:00Z\"}",
                               &r), 400);
    assert_non_null (strstr (r.body, "\"field\":\"evidence_ref\""));
    pl_test_http_resp_free (&r);
}

static int
s_setup (void **state)
{
    sx_t *f = sx_new ();
    if (!f)
        return -1;
    sx_campaign (f, "spring", "[campaign]\nprofile = fr-cc\ntenant = acme\n");
    sx_campaign (f, "autumn", "[campaign]\nprofile = fr-cc\ntenant = acme\n");
    if (sx_start_scrub (f, 0, NULL) != 0) {
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
        cmocka_unit_test_setup_teardown (test_consent_granted_then_revoked_allows_then_denies, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_consent_for_another_campaign_does_not_count, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_consent_without_its_proof_is_refused_naming_the_field, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
