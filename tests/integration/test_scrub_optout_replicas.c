/*  test_scrub_optout_replicas.c — an opt-out recorded on one replica denies the number on
 *  another within one second (issue 10, acceptance 2), and its removal, by an operator, lets it
 *  be called again; each change is audited with its typed facts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_scrub_fixture.h"

#define NUMBER "+33612345699"

static void
test_optout_on_one_replica_denies_on_the_other_within_one_second (void **state)
{
    sx_t *f = *state;
    pl_test_http_resp_t r = { 0 };
    /* Consent first, so that the number may be called (France is opt-in). */
    assert_int_equal (sx_http (&f->scrub[0], "POST", "/v1/consents", SX_TOKEN, "application/json",
                               "{\"number\":\"" NUMBER "\",\"source\":\"web-form:example.fr\","
                               "\"evidence_ref\":\"proof-99\",\"captured_at\":\"2026-10-01T10:00:00Z\"}", &r), 201);
    pl_test_http_resp_free (&r);
    char d[16];
    assert_int_equal (sx_decision (f, 1, NUMBER, NULL, d, sizeof d), 200);
    assert_string_not_equal (d, "deny");

    /* The opt-out on replica 0; replica 1 is asked until it denies. */
    assert_int_equal (sx_http (&f->scrub[0], "POST", "/v1/dnc", SX_TOKEN, "application/json",
                               "{\"number\":\"" NUMBER "\",\"channel\":\"call\"}", &r), 201);
    pl_test_http_resp_free (&r);
    int64_t t0 = pl_clock_mono_ms (), seen = -1;
    while (pl_clock_mono_ms () - t0 < 10000) {
        sx_decision (f, 1, NUMBER, NULL, d, sizeof d);
        if (strcmp (d, "deny") == 0) {
            seen = pl_clock_mono_ms () - t0;
            break;
        }
        usleep (10000);
    }
    printf ("opt-out recorded on replica 0 denied on replica 1 after %lld ms\n", (long long) seen);
    assert_true (seen >= 0);
    /* No cache: the first question after the answer already sees it. */
    assert_true (seen <= 1000);

    /* Recording it again changes nothing: the first request stays the evidence. */
    assert_int_equal (sx_http (&f->scrub[1], "POST", "/v1/dnc", SX_TOKEN, "application/json",
                               "{\"number\":\"" NUMBER "\"}", &r), 200);
    pl_test_http_resp_free (&r);

    /* Only an operator removes it. */
    assert_int_equal (sx_http (&f->scrub[1], "DELETE", "/v1/dnc/" NUMBER, SX_TOKEN, NULL, NULL, &r), 403);
    pl_test_http_resp_free (&r);
    assert_int_equal (sx_http (&f->scrub[1], "DELETE", "/v1/dnc/" NUMBER, SX_OPS_TOKEN, NULL, NULL, &r), 204);
    pl_test_http_resp_free (&r);
    assert_int_equal (sx_decision (f, 0, NUMBER, NULL, d, sizeof d), 200);
    assert_string_not_equal (d, "deny");
    assert_int_equal (sx_http (&f->scrub[1], "DELETE", "/v1/dnc/" NUMBER, SX_OPS_TOKEN, NULL, NULL, &r), 404);
    pl_test_http_resp_free (&r);

    for (int i = 0; i < 100 && (sx_count_events (f, "optout.added") < 1 || sx_count_events (f, "optout.removed") < 1); i++)
        sx_pump (f, 50);
    assert_int_equal (sx_count_events (f, "optout.added"), 1);
    assert_int_equal (sx_count_events (f, "optout.removed"), 1);
}

static void
test_us_optout_is_kept_five_years (void **state)
{
    sx_t *f = *state;
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (sx_http (&f->scrub[0], "POST", "/v1/dnc", SX_TOKEN, "application/json",
                               "{\"number\":\"+12025550147\",\"debt_ref\":\"acct-1\",\"channel\":\"letter\"}", &r), 201);
    pl_test_http_resp_free (&r);
    /* the opt-out is kept with its debt; a US entry lives five years */
    long long ttl = pl_test_redis_int (f->srv, "PTTL pl:{num:+12025550147}:optout");
    assert_true (ttl > 4LL * 365 * 86400 * 1000);
}

static int
s_setup (void **state)
{
    sx_t *f = sx_new ();
    if (!f)
        return -1;
    if (sx_start_scrub (f, 0, NULL) != 0 || sx_start_scrub (f, 1, NULL) != 0) {
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
        cmocka_unit_test_setup_teardown (test_optout_on_one_replica_denies_on_the_other_within_one_second, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_us_optout_is_kept_five_years, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
