/*  test_service_clock.c — a ClockControl read in the same batch as other work.
 *
 *  A service's bus door moves its virtual clock itself and hands the rest of the batch to the
 *  service's handler. It once did so by compacting the server's own batch in place: a batch of
 *  [ClockControl, A, B] became [A, B, B], so B was freed twice (the scrub replica of a two-week
 *  simulation died with "double free or corruption" when the clock started while dial checks
 *  were arriving) and the ClockControl was never answered. Here a real service, on a real socket,
 *  reads the three in one batch: the clock moves, the handler sees A and B once each, and the
 *  sender is answered for all three.
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
#include "plateau/clock.h"
#include "plateau/envelope.h"
#include "plateau/service.h"

typedef struct {
    size_t calls, seen;
    char ids[8][64];
} t_handler_t;

static void
s_handler (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    t_handler_t *h = arg;
    h->calls++;
    for (size_t i = 0; i < n; i++) {
        if (h->seen < 8)
            snprintf (h->ids[h->seen], sizeof h->ids[0], "%s", pl_bus_msg_envelope (msgs[i])->id);
        h->seen++;
        pl_bus_msg_ack (msgs[i]);
    }
}

static void
test_a_clock_move_among_other_messages_is_answered_and_frees_nothing_twice (void **state)
{
    (void) state;
    const int64_t start = 1790000000000;
    pl_test_redis_t *srv = pl_test_redis_start (NULL);
    assert_non_null (srv);
    char bind[64], clock[64];
    snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", pl_test_free_port ());
    snprintf (clock, sizeof clock, "virtual:%lld", (long long) start);
    setenv ("PLATEAU_REDIS_URL", pl_test_redis_url (srv), 1);
    setenv ("PLATEAU_OPS_ADDR", "127.0.0.1", 1);
    setenv ("PLATEAU_OPS_PORT", "0", 1);
    setenv ("PLATEAU_BUS_SECURITY", "plaintext", 1);
    setenv ("PLATEAU_BUS_BIND", bind, 1);
    setenv ("PLATEAU_CLOCK", clock, 1);
    setenv ("PLATEAU_REPLICA_ID", "telsim-clock-test", 1);

    pl_service_t *svc = pl_service_new ("telsim");
    assert_non_null (svc);
    t_handler_t h = { 0 };
    const char *types[] = { "AgentState=*", NULL };
    pl_bus_server_t *server = pl_service_serve (svc, types, s_handler, &h);
    assert_non_null (server);

    /* The sender's own clock: envelopes stamped at the service's virtual time are fresh. */
    pl_clock_t *sender_clock = pl_clock_new_virtual (start);
    char err[256] = "";
    pl_bus_options_t plain = { 0 };
    pl_bus_client_t *c = pl_bus_client_new (pl_service_redis (svc), sender_clock, "clock-test-sender", "telsim",
                                            bind, &plain, err, sizeof err);
    assert_non_null (c);

    Plateau__V1__ClockControl cc = PLATEAU__V1__CLOCK_CONTROL__INIT;
    cc.advance_ms = 3600000;
    Plateau__V1__AgentState as[2] = { PLATEAU__V1__AGENT_STATE__INIT, PLATEAU__V1__AGENT_STATE__INIT };
    pl_envelope_t env[3];
    pl_envelope_ids_t ids[3];
    const char *id[3] = { "move-clock", "work-a", "work-b" };
    for (int i = 0; i < 3; i++) {
        pl_envelope_init (&env[i], &ids[i], "plateauctl", sender_clock, NULL);
        env[i].id = (char *) id[i];
        if (i == 0) {
            env[i].body_case = PLATEAU__V1__ENVELOPE__BODY_CLOCK_CONTROL;
            env[i].clock_control = &cc;
        }
        else {
            as[i - 1].agent_id = (char *) id[i];
            as[i - 1].state = PLATEAU__V1__AGENT_STATE__STATE__READY;
            env[i].body_case = PLATEAU__V1__ENVELOPE__BODY_AGENT_STATE;
            env[i].agent_state = &as[i - 1];
        }
    }
    pl_envelope_t *envs[3] = { &env[0], &env[1], &env[2] };
    assert_int_equal (pl_bus_client_send (c, envs, 3), 0);
    usleep (500 * 1000);           /* all three wait on the socket: one batch reads them together */
    for (int i = 0; i < 300 && (h.seen < 2 || pl_bus_client_inflight (c) > 0); i++) {
        pl_bus_server_process (server, 512);
        pl_bus_client_process (c);
        pl_bus_client_tick (c);
        usleep (10 * 1000);
    }
    assert_int_equal (h.calls, 1);      /* the three were one batch: the case this test is for */
    assert_int_equal (h.seen, 2);
    assert_string_equal (h.ids[0], "work-a");
    assert_string_equal (h.ids[1], "work-b");
    assert_int_equal (pl_clock_now_ms (pl_service_clock (svc)), start + 3600000);
    assert_int_equal (pl_bus_client_inflight (c), 0);   /* all three answered */
    assert_int_equal (pl_bus_client_count (c, "dead"), 0);

    pl_bus_client_destroy (&c);
    pl_clock_destroy (&sender_clock);
    pl_service_destroy (&svc);
    const char *vars[] = { "PLATEAU_BUS_BIND", "PLATEAU_CLOCK", "PLATEAU_REPLICA_ID", "PLATEAU_BUS_SECURITY" };
    for (size_t i = 0; i < 4; i++)
        unsetenv (vars[i]);
    pl_test_redis_stop (&srv);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_clock_move_among_other_messages_is_answered_and_frees_nothing_twice),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
