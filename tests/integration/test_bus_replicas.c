/*  test_bus_replicas.c — a client endpoint that lists several replicas
 *  ("tcp://127.0.0.1:p1,tcp://127.0.0.1:p2") behaves as one name resolving to several pods:
 *  messages reach every replica, and what a replica that went away left unacknowledged is
 *  delivered by the others. Real ZeroMQ sockets, a real Redis.
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

#define S_MAX_IDS 512

/* One replica of the receiving service: what it saw. */
typedef struct {
    pl_bus_server_t *server;
    int seen;
} replica_t;

typedef struct {
    pl_test_redis_t *srv;
    pl_redis_t *redis;
    replica_t rep[2];
    char endpoint[256];        /* the comma-separated list */
    char *delivered[S_MAX_IDS];/* distinct lead ids acknowledged by any replica */
    size_t ndelivered;
    int duplicates;
} fx_t;

typedef struct {
    fx_t *f;
    replica_t *rep;
} handler_arg_t;

static handler_arg_t s_args[2];

static void
s_record (fx_t *f, const char *tag)
{
    for (size_t i = 0; i < f->ndelivered; i++)
        if (strcmp (f->delivered[i], tag) == 0) {
            f->duplicates++;   /* allowed: a receiver's inbox dedupes */
            return;
        }
    assert_true (f->ndelivered < S_MAX_IDS);
    f->delivered[f->ndelivered++] = strdup (tag);
}

static void
s_handler (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    handler_arg_t *a = arg;
    for (size_t i = 0; i < n; i++) {
        a->rep->seen++;
        s_record (a->f, pl_bus_msg_envelope (msgs[i])->audit_event->lead_id);
        pl_bus_msg_ack (msgs[i]);
    }
}

static bool
s_delivered (const fx_t *f, const char *tag)
{
    for (size_t i = 0; i < f->ndelivered; i++)
        if (strcmp (f->delivered[i], tag) == 0)
            return true;
    return false;
}

/* Polls the live replicas (those in `live`) and the client for ms, until the client has nothing
 * in flight when `until_empty`. */
static bool
s_pump_all (fx_t *f, pl_bus_client_t *c, const bool live[2], int ms, bool until_empty)
{
    int64_t end = pl_clock_mono_ms () + ms;
    while (pl_clock_mono_ms () < end) {
        zmq_pollitem_t items[3];
        int n = 0;
        for (int r = 0; r < 2; r++)
            if (live[r] && f->rep[r].server)
                items[n++] = (zmq_pollitem_t) { pl_bus_server_socket (f->rep[r].server), 0, ZMQ_POLLIN, 0 };
        items[n++] = (zmq_pollitem_t) { pl_bus_client_socket (c), 0, ZMQ_POLLIN, 0 };
        zmq_poll (items, n, 10);
        for (int r = 0; r < 2; r++)
            if (live[r] && f->rep[r].server)
                pl_bus_server_process (f->rep[r].server, 256);
        pl_bus_client_process (c);
        pl_bus_client_tick (c);
        if (until_empty && pl_bus_client_inflight (c) == 0)
            return true;
    }
    return pl_bus_client_inflight (c) == 0;
}

static int
s_send (pl_bus_client_t *c, const char *prefix, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        char tag[32];
        snprintf (tag, sizeof tag, "%s-%d", prefix, i);
        pl_envelope_t env;
        pl_envelope_ids_t ids;
        Plateau__V1__AuditEvent ev;
        pl_envelope_t *p = s_event (&env, &ids, &ev, tag);
        int rc = pl_bus_client_send (c, &p, 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static pl_bus_client_t *
s_client (fx_t *f, const char *endpoint, int ack_timeout_ms)
{
    char err[256];
    pl_bus_client_t *c = pl_bus_client_new (f->redis, NULL, "sender", "receiver", endpoint, NULL, err,
                                            sizeof err);
    if (!c)
        fail_msg ("client: %s", err);
    pl_bus_client_set_ack_timeout (c, ack_timeout_ms);
    return c;
}

static void
test_a_list_of_replicas_is_balanced_and_survives_losing_one (void **state)
{
    fx_t *f = *state;
    pl_bus_client_t *c = s_client (f, f->endpoint, 600);
    assert_int_equal (pl_bus_client_peers (c), 2);
    const bool both[2] = { true, true }, second[2] = { false, true };

    /* Both replicas get work once both connections are up (ZeroMQ queues only to completed
     * ones): send one at a time until each has seen some. */
    int sent = 0;
    while (sent < 200 && (f->rep[0].seen == 0 || f->rep[1].seen == 0)) {
        assert_int_equal (s_send (c, "warm", sent++, 1), 0);
        assert_true (s_pump_all (f, c, both, 2000, true));
    }
    assert_true (f->rep[0].seen > 0);
    assert_true (f->rep[1].seen > 0);
    assert_int_equal (f->ndelivered, (size_t) sent);

    /* Now the first replica stops answering (it is about to die): its share stays unacked. */
    enum { N = 40 };
    int first_before = f->rep[0].seen;
    assert_int_equal (s_send (c, "owed", 0, N), 0);
    s_pump_all (f, c, second, 200, false);
    size_t owed = pl_bus_client_inflight (c);
    assert_true (owed > 0);
    assert_true (owed < N);                      /* the second replica acked its share */
    assert_int_equal (f->rep[0].seen, first_before);

    /* It goes away: everything it held is delivered by the other. */
    pl_bus_server_destroy (&f->rep[0].server);
    assert_true (s_pump_all (f, c, second, 15000, true));
    for (int i = 0; i < N; i++) {
        char tag[32];
        snprintf (tag, sizeof tag, "owed-%d", i);
        assert_true (s_delivered (f, tag));
    }
    assert_int_equal (f->ndelivered, (size_t) (sent + N));
    assert_true (pl_bus_client_count (c, "resent") >= owed);
    assert_int_equal (pl_test_redis_int (f->srv, "HLEN pl:{ob:sender:receiver}:msg"), 0);
    assert_int_equal (pl_bus_client_peers (c), 2);   /* the list still names it: it may return */
    pl_bus_client_destroy (&c);
}

static void
test_each_element_is_resolved_and_a_bad_one_is_named (void **state)
{
    fx_t *f = *state;
    /* A host name element resolves to its addresses; the union is deduplicated. */
    const char *second = pl_bus_server_endpoint (f->rep[1].server);
    const char *port0 = strrchr (pl_bus_server_endpoint (f->rep[0].server), ':') + 1;
    char ep[300];
    snprintf (ep, sizeof ep, "tcp://localhost:%s, %s,%s", port0, second, second);
    pl_bus_client_t *c = s_client (f, ep, 2000);
    assert_int_equal (pl_bus_client_peers (c), 2);
    pl_bus_client_set_resolve_interval (c, 50);
    const bool both[2] = { true, true };
    assert_int_equal (s_send (c, "named", 0, 10), 0);
    assert_true (s_pump_all (f, c, both, 5000, true));
    assert_int_equal (pl_bus_client_peers (c), 2);  /* re-resolved on the timer, unchanged */
    assert_int_equal (f->ndelivered, 10);
    pl_bus_client_destroy (&c);

    /* An element that does not resolve drops none of the others. */
    snprintf (ep, sizeof ep, "%s,tcp://no-such-host.invalid:5560", second);
    c = s_client (f, ep, 2000);
    assert_int_equal (pl_bus_client_peers (c), 1);
    assert_int_equal (s_send (c, "partial", 0, 3), 0);
    assert_true (s_pump_all (f, c, both, 5000, true));
    pl_bus_client_destroy (&c);

    char err[512];
    snprintf (ep, sizeof ep, "%s,localhost:5562", second);
    assert_null (pl_bus_client_new (f->redis, NULL, "t", "r", ep, NULL, err, sizeof err));
    assert_non_null (strstr (err, "'localhost:5562' in"));
    snprintf (ep, sizeof ep, "%s,", second);
    assert_null (pl_bus_client_new (f->redis, NULL, "t", "r", ep, NULL, err, sizeof err));
    assert_non_null (strstr (err, "endpoint '' in"));
    assert_null (pl_bus_client_new (f->redis, NULL, "t", "r", "tcp://127.0.0.1:", NULL, err, sizeof err));
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
    const char *types[] = { "AuditEvent", NULL };
    for (int r = 0; r < 2; r++) {
        char err[256];
        f->rep[r].server = pl_bus_server_new ("tcp://127.0.0.1:*", NULL, err, sizeof err);
        if (!f->rep[r].server)
            return -1;
        s_args[r] = (handler_arg_t) { f, &f->rep[r] };
        pl_bus_server_set_handler (f->rep[r].server, s_handler, &s_args[r], types);
    }
    snprintf (f->endpoint, sizeof f->endpoint, "%s,%s", pl_bus_server_endpoint (f->rep[0].server),
              pl_bus_server_endpoint (f->rep[1].server));
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fx_t *f = *state;
    for (int r = 0; r < 2; r++)
        pl_bus_server_destroy (&f->rep[r].server);
    for (size_t i = 0; i < f->ndelivered; i++)
        free (f->delivered[i]);
    pl_redis_destroy (&f->redis);
    pl_test_redis_stop (&f->srv);
    free (f);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_a_list_of_replicas_is_balanced_and_survives_losing_one, setup, teardown),
        cmocka_unit_test_setup_teardown (test_each_element_is_resolved_and_a_bad_one_is_named, setup, teardown),
    };
    return cmocka_run_group_tests_name ("bus_replicas", tests, NULL, NULL);
}
