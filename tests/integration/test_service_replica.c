/*  test_service_replica.c — two services on one host never share an outbox.
 *
 *  The replica id owns a service's outboxes in Redis. When it defaulted to the bare host name,
 *  two services started on one host without PLATEAU_REPLICA_ID (a test stack, a VM with
 *  systemd units) wrote to the same outbox and each sent the other's messages under its own
 *  key, which the receiver refused as forbidden: leads were lost. Here two services send to
 *  the same peer with no replica id set: their messages land in two outboxes, one each, and an
 *  explicit PLATEAU_REPLICA_ID is still taken as given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "pl_test.h"
#include "plateau/bus.h"
#include "plateau/envelope.h"
#include "plateau/service.h"

static void
s_send_one (pl_service_t *svc, const char *id)
{
    pl_bus_client_t *c = pl_service_connect (svc, "audit", true);
    assert_non_null (c);
    Plateau__V1__ClockControl cc = PLATEAU__V1__CLOCK_CONTROL__INIT;
    cc.set_ms = 1;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, pl_service_name (svc), pl_service_clock (svc), NULL);
    env.id = (char *) id;
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_CLOCK_CONTROL;
    env.clock_control = &cc;
    pl_envelope_t *envs[1] = { &env };
    assert_int_equal (pl_bus_client_send (c, envs, 1), 0);
}

static void
test_two_services_on_one_host_have_their_own_outboxes (void **state)
{
    (void) state;
    pl_test_redis_t *srv = pl_test_redis_start (NULL);
    assert_non_null (srv);
    char host[64] = "local", want[2][160];
    gethostname (host, sizeof host - 1);
    setenv ("PLATEAU_REDIS_URL", pl_test_redis_url (srv), 1);
    setenv ("PLATEAU_OPS_ADDR", "127.0.0.1", 1);
    setenv ("PLATEAU_OPS_PORT", "0", 1);
    setenv ("PLATEAU_BUS_SECURITY", "plaintext", 1);
    char bus[64];
    snprintf (bus, sizeof bus, "tcp://127.0.0.1:%d", pl_test_free_port ());   /* nobody listens */
    setenv ("PLATEAU_AUDIT_BUS", bus, 1);
    unsetenv ("PLATEAU_REPLICA_ID");

    pl_service_t *a = pl_service_new ("intake");
    pl_service_t *b = pl_service_new ("scrub");
    assert_non_null (a);
    assert_non_null (b);
    snprintf (want[0], sizeof want[0], "intake-%s", host);
    snprintf (want[1], sizeof want[1], "scrub-%s", host);
    assert_string_equal (pl_service_replica (a), want[0]);
    assert_string_equal (pl_service_replica (b), want[1]);
    s_send_one (a, "from-intake");
    s_send_one (b, "from-scrub");
    assert_int_equal (pl_test_redis_int (srv, "HLEN pl:{ob:%s:audit}:msg", want[0]), 1);
    assert_int_equal (pl_test_redis_int (srv, "HLEN pl:{ob:%s:audit}:msg", want[1]), 1);
    assert_int_equal (pl_test_redis_int (srv, "HEXISTS pl:{ob:%s:audit}:msg from-scrub", want[0]), 0);
    pl_service_destroy (&a);
    pl_service_destroy (&b);

    setenv ("PLATEAU_REPLICA_ID", "scrub-7", 1);
    pl_service_t *c = pl_service_new ("scrub");
    assert_non_null (c);
    assert_string_equal (pl_service_replica (c), "scrub-7");
    pl_service_destroy (&c);
    unsetenv ("PLATEAU_REPLICA_ID");
    pl_test_redis_stop (&srv);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_two_services_on_one_host_have_their_own_outboxes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
