/*  test_sec_bus_intake.c — the intake's bus door once stored a lead claiming `source=signed`
 *  from anyone who reached the port, bypassing the token and the signature. On CURVE (the
 *  default): a plaintext sender gets nothing delivered, a listed identity that is not a CRM
 *  connector is refused for good, and a connector's lead carries the connector's identity as
 *  its source whatever the envelope and the lead claim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <jansson.h>
#include "../integration/test_intake_fixture.h"

static char s_source[64];          /* the source of the last lead the scrub stand-in got */
static size_t s_leads;

static void
s_scrub (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    (void) arg;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[i]);
        if (e->lead_submitted && e->lead_submitted->lead) {
            snprintf (s_source, sizeof s_source, "%s", e->lead_submitted->lead->source);
            s_leads++;
        }
        pl_bus_msg_ack (msgs[i]);
    }
}

/* Sends one native lead claiming to come from "signed" as `opts` (NULL: plaintext); the
 * client's acked and dead counters after at most ms. */
static void
s_send (fx_t *f, const pl_bus_options_t *opts, const char *ext, int ms, uint64_t *acked, uint64_t *dead)
{
    char err[512], owner[64];
    snprintf (owner, sizeof owner, "sender-%s", ext);
    pl_bus_client_t *c = pl_bus_client_new (f->redis, NULL, owner, "intake", f->bus, opts, err, sizeof err);
    assert_non_null (c);
    pl_bus_client_set_ack_timeout (c, 300);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, "signed", NULL, NULL);
    Plateau__V1__Lead lead;
    Plateau__V1__PhoneNumber ph;
    plateau__v1__lead__init (&lead);
    plateau__v1__phone_number__init (&ph);
    ph.raw = "06 98 76 54 32";
    lead.phone = &ph;
    lead.campaign = "forged";
    lead.country = "FR";
    lead.external_id = (char *) ext;
    lead.source = "signed";
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD;
    env.lead = &lead;
    pl_envelope_t *p = &env;
    assert_int_equal (pl_bus_client_send (c, &p, 1), 0);
    int64_t end = pl_clock_mono_ms () + ms;
    while (pl_clock_mono_ms () < end && pl_bus_client_inflight (c)) {
        pl_bus_client_process (c);
        pl_bus_client_tick (c);
        fx_pump (f, 10);
    }
    *acked = pl_bus_client_count (c, "acked");
    *dead = pl_bus_client_count (c, "dead");
    pl_bus_client_destroy (&c);
}

static long long
s_stored (fx_t *f)
{
    return pl_test_redis_int (f->srv, "EVAL %s 0", "return #redis.call('KEYS', 'pl:{camp:forged}:lead:*')");
}

static void
test_only_connectors_send_leads_and_their_identity_is_the_source (void **state)
{
    fx_t *f = *state;
    uint64_t acked, dead;
    s_send (f, NULL, "plain", 3000, &acked, &dead);                     /* plaintext */
    assert_int_equal (acked, 0);
    s_send (f, pl_test_bus_options ("scrub"), "scrub", 5000, &acked, &dead);   /* not a connector */
    assert_int_equal (acked, 0);
    assert_int_equal (dead, 1);
    assert_int_equal (s_stored (f), 0);
    assert_int_equal (s_leads, 0);

    s_send (f, pl_test_bus_options ("crm"), "crm", 5000, &acked, &dead);       /* PLATEAU_BUS_ALLOW */
    assert_int_equal (acked, 1);
    assert_int_equal (s_stored (f), 1);
    for (int i = 0; i < 200 && s_leads == 0; i++)
        fx_pump (f, 50);
    assert_int_equal (s_leads, 1);
    assert_string_equal (s_source, "crm");

    char *metrics = NULL;
    assert_int_equal (pl_test_http_get (f->ops_port, "/metrics", &metrics), 200);
    assert_non_null (strstr (metrics, "plateau_bus_refused_total{reason=\"forbidden\"} 1"));
    free (metrics);
}

static int
setup (void **state)
{
    fx_t *f = fx_new (NULL);
    if (!f)
        return -1;
    pl_bus_server_set_handler (f->scrub, s_scrub, f, NULL);
    fx_start (f, NULL);
    if (!pl_test_wait_until (fx_ready_fn, f, 10000))
        return -1;
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fx_destroy (*state);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_only_connectors_send_leads_and_their_identity_is_the_source,
                                         setup, teardown),
    };
    return cmocka_run_group_tests_name ("sec_bus_intake", tests, NULL, NULL);
}
