/*  test_bus.c — acks, nacks, dead letters, resends after a receiver restart, replay after a
 *  sender restart, and type routing, over real ZeroMQ sockets and a real Redis.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pl_test.h"
#include "bus_helpers.h"
#include "plateau/error.h"
#include "plateau/outbox.h"

typedef struct {
    pl_test_redis_t *srv;
    pl_redis_t *redis;
    char endpoint[64];
    int seen;
    int mode;                  /* 0 ack, 1 nack INVALID, 2 nack UNAVAILABLE once then ack */
    char last[64];
} fx_t;

static void
s_handler (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    fx_t *f = arg;
    for (size_t i = 0; i < n; i++) {
        f->seen++;
        snprintf (f->last, sizeof f->last, "%s", pl_bus_msg_envelope (msgs[i])->audit_event->lead_id);
        if (f->mode == 1)
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__INVALID, "lead has no phone", 0);
        else if (f->mode == 2) {
            pl_bus_msg_nack (msgs[i], PLATEAU__V1__NACK__CODE__UNAVAILABLE, "redis down", 50);
            f->mode = 0;
        }
        else
            pl_bus_msg_ack (msgs[i]);
    }
}

static pl_bus_server_t *
s_server (fx_t *f, const char *const *types)
{
    char err[256];
    pl_bus_server_t *s = pl_bus_server_new (f->endpoint, NULL, err, sizeof err);
    assert_non_null (s);
    pl_bus_server_set_handler (s, s_handler, f, types);
    return s;
}

static pl_bus_client_t *
s_client (fx_t *f)
{
    char err[256];
    pl_bus_client_t *c = pl_bus_client_new (f->redis, NULL, "tester", "receiver", f->endpoint, NULL, err, sizeof err);
    assert_non_null (c);
    pl_bus_client_set_ack_timeout (c, 200);
    return c;
}

static long long
s_outbox_len (fx_t *f, const char *suffix)
{
    return pl_test_redis_int (f->srv, "HLEN pl:{ob:tester:receiver}:%s", suffix);
}

static void
test_acked_messages_leave_the_outbox (void **state)
{
    fx_t *f = *state;
    const char *types[] = { "AuditEvent", NULL };
    pl_bus_server_t *s = s_server (f, types);
    pl_bus_client_t *c = s_client (f);
    pl_envelope_t env[100], *p[100];
    pl_envelope_ids_t ids[100];
    Plateau__V1__AuditEvent ev[100];
    for (int i = 0; i < 100; i++)
        p[i] = s_event (&env[i], &ids[i], &ev[i], "x");
    assert_int_equal (pl_bus_client_send (c, p, 100), 0);
    assert_int_equal (s_outbox_len (f, "msg"), 100);
    assert_true (s_pump (s, c, 5000));
    assert_int_equal (f->seen, 100);
    assert_int_equal (s_outbox_len (f, "msg"), 0);
    assert_int_equal (pl_bus_client_count (c, "acked"), 100);
    assert_int_equal (pl_bus_server_count (s, "acked"), 100);
    pl_bus_client_destroy (&c);
    pl_bus_server_destroy (&s);
}

static void
test_permanent_nacks_and_unknown_types_become_dead_letters (void **state)
{
    fx_t *f = *state;
    const char *types[] = { "LeadSubmitted", NULL };    /* AuditEvent is not handled here */
    pl_bus_server_t *s = s_server (f, types);
    pl_bus_client_t *c = s_client (f);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    Plateau__V1__AuditEvent ev;
    pl_envelope_t *p = s_event (&env, &ids, &ev, "unknown");
    assert_int_equal (pl_bus_client_send (c, &p, 1), 0);
    assert_true (s_pump (s, c, 5000));
    assert_int_equal (f->seen, 0);
    assert_int_equal (s_outbox_len (f, "msg"), 0);
    assert_int_equal (s_outbox_len (f, "dead"), 1);
    pl_bus_server_destroy (&s);

    const char *audit[] = { "AuditEvent", NULL };
    s = s_server (f, audit);
    f->mode = 1;
    p = s_event (&env, &ids, &ev, "invalid");
    assert_int_equal (pl_bus_client_send (c, &p, 1), 0);
    assert_true (s_pump (s, c, 5000));
    assert_int_equal (f->seen, 1);
    assert_int_equal (s_outbox_len (f, "dead"), 2);
    assert_int_equal (pl_bus_client_count (c, "dead"), 2);
    pl_bus_client_destroy (&c);
    pl_bus_server_destroy (&s);
}

static void
test_retryable_nack_and_absent_receiver_lead_to_resends (void **state)
{
    fx_t *f = *state;
    pl_bus_client_t *c = s_client (f);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    Plateau__V1__AuditEvent ev;
    pl_envelope_t *p = s_event (&env, &ids, &ev, "early");
    /* Nobody listens yet: the message is durable and waits. */
    assert_int_equal (pl_bus_client_send (c, &p, 1), 0);
    assert_false (s_pump (NULL, c, 300));
    assert_int_equal (pl_bus_client_inflight (c), 1);

    const char *types[] = { "AuditEvent", NULL };
    pl_bus_server_t *s = s_server (f, types);
    f->mode = 2;                       /* first answer: UNAVAILABLE, retry after 50 ms */
    assert_true (s_pump (s, c, 10000));
    assert_int_equal (f->seen, 2);
    assert_string_equal (f->last, "early");
    assert_int_equal (s_outbox_len (f, "msg"), 0);
    pl_bus_client_destroy (&c);
    pl_bus_server_destroy (&s);
}

static void
test_a_restarted_sender_replays_its_outbox (void **state)
{
    fx_t *f = *state;
    pl_bus_client_t *c = s_client (f);
    pl_envelope_t env[3], *p[3];
    pl_envelope_ids_t ids[3];
    Plateau__V1__AuditEvent ev[3];
    for (int i = 0; i < 3; i++)
        p[i] = s_event (&env[i], &ids[i], &ev[i], "owed");
    assert_int_equal (pl_bus_client_send (c, p, 3), 0);
    pl_bus_client_destroy (&c);        /* "crash" before any ack */
    assert_int_equal (s_outbox_len (f, "msg"), 3);

    const char *types[] = { "AuditEvent", NULL };
    pl_bus_server_t *s = s_server (f, types);
    c = s_client (f);
    assert_int_equal (pl_bus_client_inflight (c), 3);
    assert_true (s_pump (s, c, 10000));
    assert_int_equal (f->seen, 3);
    assert_int_equal (s_outbox_len (f, "msg"), 0);
    pl_bus_client_destroy (&c);
    pl_bus_server_destroy (&s);
}

static void
test_send_fails_loudly_when_the_outbox_cannot_store (void **state)
{
    fx_t *f = *state;
    pl_bus_client_t *c = s_client (f);
    pl_test_redis_kill (f->srv);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    Plateau__V1__AuditEvent ev;
    pl_envelope_t *p = s_event (&env, &ids, &ev, "lost?");
    assert_int_equal (pl_bus_client_send (c, &p, 1), PL_EREDIS);
    assert_int_equal (pl_bus_client_inflight (c), 0);    /* not sent either */
    pl_bus_client_destroy (&c);
}

static void
test_a_host_name_resolves_to_its_addresses (void **state)
{
    fx_t *f = *state;
    int port = pl_test_free_port ();
    snprintf (f->endpoint, sizeof f->endpoint, "tcp://localhost:%d", port);
    char bind[64];
    snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", port);
    char err[256];
    pl_bus_server_t *s = pl_bus_server_new (bind, NULL, err, sizeof err);
    const char *types[] = { "AuditEvent", NULL };
    pl_bus_server_set_handler (s, s_handler, f, types);
    pl_bus_client_t *c = s_client (f);
    assert_true (pl_bus_client_peers (c) >= 1);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    Plateau__V1__AuditEvent ev;
    pl_envelope_t *p = s_event (&env, &ids, &ev, "by-name");
    assert_int_equal (pl_bus_client_send (c, &p, 1), 0);
    assert_true (s_pump (s, c, 5000));
    pl_bus_client_destroy (&c);
    pl_bus_server_destroy (&s);
    assert_null (pl_bus_client_new (f->redis, NULL, "t", "r", "localhost:1", NULL, err, sizeof err));
    assert_non_null (strstr (err, "expected tcp://"));
}

static int
setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    f->srv = pl_test_redis_start (NULL);
    if (!f->srv)
        return -1;
    f->redis = pl_redis_new (pl_test_redis_url (f->srv), 1000);
    snprintf (f->endpoint, sizeof f->endpoint, "tcp://127.0.0.1:%d", pl_test_free_port ());
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fx_t *f = *state;
    pl_redis_destroy (&f->redis);
    pl_test_redis_stop (&f->srv);
    free (f);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_acked_messages_leave_the_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown (test_permanent_nacks_and_unknown_types_become_dead_letters, setup, teardown),
        cmocka_unit_test_setup_teardown (test_retryable_nack_and_absent_receiver_lead_to_resends, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_restarted_sender_replays_its_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown (test_send_fails_loudly_when_the_outbox_cannot_store, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_host_name_resolves_to_its_addresses, setup, teardown),
    };
    return cmocka_run_group_tests_name ("bus", tests, NULL, NULL);
}
