/*  test_sec_scrub_bus.c — attacks on scrub's bus door: a lead pushed by someone other than the
 *  intake, a dial-time check asked by someone other than the dialer, plaintext, and requests
 *  that can never be answered (too many numbers, numbers that are not E.164). Each is refused
 *  for good (dead-lettered by its sender) and changes no state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "plateau/envelope.h"
#include "plateau/redis.h"
#include "test_scrub_fixture.h"

/* Sends one envelope to scrub as `identity` (NULL: plaintext): acked and dead counts after ms. */
static void
s_send (sx_t *f, const char *identity, pl_envelope_t *env, int ms, uint64_t *acked, uint64_t *dead)
{
    char err[512], owner[64];
    snprintf (owner, sizeof owner, "sender-%s-%d", identity ? identity : "plain", rand ());
    pl_redis_t *redis = pl_redis_new (pl_test_redis_url (f->srv), 1000);
    pl_bus_client_t *c = pl_bus_client_new (redis, NULL, owner, "scrub", f->scrub[0].bus,
                                            identity ? pl_test_bus_options (identity) : NULL, err, sizeof err);
    assert_non_null (c);
    pl_bus_client_set_ack_timeout (c, 300);
    assert_int_equal (pl_bus_client_send (c, &env, 1), 0);
    int64_t end = pl_clock_mono_ms () + ms;
    while (pl_clock_mono_ms () < end && pl_bus_client_inflight (c)) {
        pl_bus_client_process (c);
        pl_bus_client_tick (c);
        sx_pump (f, 10);
    }
    *acked = pl_bus_client_count (c, "acked");
    *dead = pl_bus_client_count (c, "dead");
    pl_bus_client_destroy (&c);
    pl_redis_destroy (&redis);
}

static void
s_lead (pl_envelope_t *env, pl_envelope_ids_t *ids, Plateau__V1__LeadSubmitted *ls, Plateau__V1__Lead *lead,
        Plateau__V1__PhoneNumber *ph)
{
    pl_envelope_init (env, ids, "intake", NULL, NULL);
    plateau__v1__lead_submitted__init (ls);
    plateau__v1__lead__init (lead);
    plateau__v1__phone_number__init (ph);
    ph->e164 = "+33612345600";
    lead->id = "01KFORGEDFORGEDFORGEDFORGE";
    lead->campaign = "forged";
    lead->phone = ph;
    ls->lead = lead;
    env->body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD_SUBMITTED;
    env->lead_submitted = ls;
}

static void
test_only_the_intake_submits_leads_and_only_the_dialer_asks (void **state)
{
    sx_t *f = *state;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    Plateau__V1__LeadSubmitted ls;
    Plateau__V1__Lead lead;
    Plateau__V1__PhoneNumber ph;
    uint64_t acked, dead;
    s_lead (&env, &ids, &ls, &lead, &ph);
    s_send (f, NULL, &env, 2000, &acked, &dead);           /* plaintext: no handshake */
    assert_int_equal (acked, 0);
    s_lead (&env, &ids, &ls, &lead, &ph);
    s_send (f, "dialer", &env, 5000, &acked, &dead);       /* a listed key, not the intake */
    assert_int_equal (acked, 0);
    assert_int_equal (dead, 1);

    Plateau__V1__ScrubRequest q = PLATEAU__V1__SCRUB_REQUEST__INIT;
    char *numbers[] = { "+33612345600" };
    q.n_numbers = 1;
    q.numbers = numbers;
    pl_envelope_init (&env, &ids, "dialer", NULL, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_SCRUB_REQUEST;
    env.scrub_request = &q;
    s_send (f, "intake", &env, 5000, &acked, &dead);       /* the intake may not ask */
    assert_int_equal (acked, 0);
    assert_int_equal (dead, 1);
    sx_pump (f, 200);
    assert_int_equal (f->ndialer, 0);
    assert_int_equal (pl_test_redis_int (f->srv, "EXISTS pl:{camp:forged}:lead:01KFORGEDFORGEDFORGEDFORGE"), 0);
    char *metrics = NULL;
    assert_int_equal (pl_test_http_get (f->scrub[0].ops_port, "/metrics", &metrics), 200);
    assert_non_null (strstr (metrics, "plateau_bus_refused_total{reason=\"forbidden\"} 2"));
    free (metrics);
}

static void
test_unanswerable_requests_are_refused_for_good (void **state)
{
    sx_t *f = *state;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    uint64_t acked, dead;
    Plateau__V1__ScrubRequest q = PLATEAU__V1__SCRUB_REQUEST__INIT;
    static char *many[1001];
    static char buf[1001][24];
    for (int i = 0; i < 1001; i++) {
        snprintf (buf[i], 24, "+336123%05d", i % 100000);
        many[i] = buf[i];
    }
    q.n_numbers = 1001;
    q.numbers = many;
    pl_envelope_init (&env, &ids, "dialer", NULL, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_SCRUB_REQUEST;
    env.scrub_request = &q;
    s_send (f, "dialer", &env, 5000, &acked, &dead);
    assert_int_equal (dead, 1);

    char *bad[] = { "+33612345600", "0612345600; DROP" };
    q.n_numbers = 2;
    q.numbers = bad;
    pl_envelope_init (&env, &ids, "dialer", NULL, NULL);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_SCRUB_REQUEST;
    env.scrub_request = &q;
    s_send (f, "dialer", &env, 5000, &acked, &dead);
    assert_int_equal (dead, 1);

    /* A lead without a number the rules can read. */
    Plateau__V1__LeadSubmitted ls;
    Plateau__V1__Lead lead;
    Plateau__V1__PhoneNumber ph;
    s_lead (&env, &ids, &ls, &lead, &ph);
    ph.e164 = "not a number";
    s_send (f, "intake", &env, 5000, &acked, &dead);
    assert_int_equal (dead, 1);
    sx_pump (f, 200);
    assert_int_equal (f->ndialer, 0);
}

static int
s_setup (void **state)
{
    sx_t *f = sx_new ();
    if (!f)
        return -1;
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
        cmocka_unit_test_setup_teardown (test_only_the_intake_submits_leads_and_only_the_dialer_asks, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_unanswerable_requests_are_refused_for_good, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
