/*  test_scrub_bus.c — the dialer's dial-time check on the bus: a ScrubRequest of a batch of
 *  numbers is answered with one ScrubVerdict per number, sent to the dialer, reading opt-outs
 *  from Redis at that instant; each answer is audited.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "plateau/envelope.h"
#include "plateau/redis.h"
#include "test_scrub_fixture.h"

static bool
s_answered (void *arg)
{
    sx_t *f = arg;
    sx_pump (f, 20);
    return f->ndialer >= 3;
}

static void
test_scrub_request_is_answered_per_number (void **state)
{
    sx_t *f = *state;
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (sx_http (&f->scrub[0], "POST", "/v1/consents", SX_TOKEN, "application/json",
                               "{\"number\":\"+33612345621\",\"source\":\"web\",\"evidence_ref\":\"p1\","
                               "\"captured_at\":\"2026-10-01T10:00:00Z\"}", &r), 201);
    pl_test_http_resp_free (&r);
    assert_int_equal (sx_http (&f->scrub[0], "POST", "/v1/consents", SX_TOKEN, "application/json",
                               "{\"number\":\"+33612345622\",\"source\":\"web\",\"evidence_ref\":\"p2\","
                               "\"captured_at\":\"2026-10-01T10:00:00Z\"}", &r), 201);
    pl_test_http_resp_free (&r);
    assert_int_equal (sx_http (&f->scrub[0], "POST", "/v1/dnc", SX_TOKEN, "application/json",
                               "{\"number\":\"+33612345622\"}", &r), 201);
    pl_test_http_resp_free (&r);

    /* The dialer asks: one consented, one opted out, one without consent. */
    pl_clock_t *clock = pl_clock_new_real ();
    pl_redis_t *redis = pl_redis_new (pl_test_redis_url (f->srv), 1000);
    char err[256] = "";
    pl_bus_client_t *c = pl_bus_client_new (redis, clock, "dialer-test", "scrub", f->scrub[0].bus,
                                            pl_test_bus_options ("dialer"), err, sizeof err);
    assert_non_null (c);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "dialer", clock, NULL);
    Plateau__V1__ScrubRequest q = PLATEAU__V1__SCRUB_REQUEST__INIT;
    char *numbers[] = { "+33612345621", "+33612345622", "+33612345623" };
    q.request_id = "req-1";
    q.lead_id = "01LEADLEADLEADLEADLEADLEAD";
    q.n_numbers = 3;
    q.numbers = numbers;
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_SCRUB_REQUEST;
    env.scrub_request = &q;
    pl_envelope_t *envs[1] = { &env };
    assert_int_equal (pl_bus_client_send (c, envs, 1), 0);
    for (int i = 0; i < 400 && pl_bus_client_inflight (c) > 0; i++) {
        pl_bus_client_process (c);
        pl_bus_client_tick (c);
        usleep (10000);
    }
    assert_true (pl_test_wait_until (s_answered, f, 15000));
    assert_int_equal (f->ndialer, 3);
    int by_number[3] = { 0 };
    for (size_t i = 0; i < f->ndialer; i++) {
        assert_string_equal (f->dialer_types[i], "ScrubVerdict");
        for (int k = 0; k < 3; k++)
            if (strcmp (f->dialer_leads[i], numbers[k]) == 0)
                by_number[k] = f->dialer_decisions[i];
    }
    assert_int_not_equal (by_number[0], PLATEAU__V1__DECISION__DENY);
    assert_int_not_equal (by_number[0], 0);
    assert_int_equal (by_number[1], PLATEAU__V1__DECISION__DENY);
    assert_int_equal (by_number[2], PLATEAU__V1__DECISION__DENY);
    for (int i = 0; i < 100 && sx_count_events (f, "scrub.verdict") < 3; i++)
        sx_pump (f, 50);
    assert_int_equal (sx_count_events (f, "scrub.verdict"), 3);
    pl_bus_client_destroy (&c);
    pl_redis_destroy (&redis);
    pl_clock_destroy (&clock);
}

/* The bus door reads who is called: a business without consent, in a campaign for businesses,
 * is not denied; a callee scrub does not know is refused (dead letter), with no verdict. */
static void
test_scrub_request_reads_the_callee_and_refuses_an_unknown_one (void **state)
{
    sx_t *f = *state;
    pl_clock_t *clock = pl_clock_new_real ();
    pl_redis_t *redis = pl_redis_new (pl_test_redis_url (f->srv), 1000);
    char err[256] = "";
    pl_bus_client_t *c = pl_bus_client_new (redis, clock, "dialer-test", "scrub", f->scrub[0].bus,
                                            pl_test_bus_options ("dialer"), err, sizeof err);
    assert_non_null (c);
    const char *callees[2] = { "business", "robot" };
    for (int k = 0; k < 2; k++) {
        pl_envelope_t env;
        pl_envelope_ids_t ids;
        pl_envelope_init (&env, &ids, "dialer", clock, NULL);
        Plateau__V1__ScrubRequest q = PLATEAU__V1__SCRUB_REQUEST__INIT;
        char *numbers[] = { "+33612345631" };
        q.request_id = (char *) callees[k];
        q.lead_id = "01LEADLEADLEADLEADLEADLEAE";
        q.n_numbers = 1;
        q.numbers = numbers;
        q.campaign = "trade";
        q.callee = (char *) callees[k];
        env.body_case = PLATEAU__V1__ENVELOPE__BODY_SCRUB_REQUEST;
        env.scrub_request = &q;
        pl_envelope_t *envs[1] = { &env };
        assert_int_equal (pl_bus_client_send (c, envs, 1), 0);
        for (int i = 0; i < 400 && pl_bus_client_inflight (c) > 0; i++) {
            pl_bus_client_process (c);
            pl_bus_client_tick (c);
            usleep (10000);
        }
        assert_int_equal (pl_bus_client_inflight (c), 0);
        assert_int_equal (pl_bus_client_count (c, "dead"), (uint64_t) k);
    }
    for (int i = 0; i < 50; i++)
        sx_pump (f, 20);
    assert_int_equal (f->ndialer, 1);          /* the business's verdict only */
    assert_int_not_equal (f->dialer_decisions[0], PLATEAU__V1__DECISION__DENY);
    pl_bus_client_destroy (&c);
    pl_redis_destroy (&redis);
    pl_clock_destroy (&clock);
}

static int
s_setup (void **state)
{
    sx_t *f = sx_new ();
    if (!f)
        return -1;
    sx_campaign (f, "trade", "[campaign]\nprofile = fr-cc\ntenant = acme\ncallees = consumer business\n");
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
        cmocka_unit_test_setup_teardown (test_scrub_request_is_answered_per_number, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_scrub_request_reads_the_callee_and_refuses_an_unknown_one, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
