/*  test_template_counter.c — the template's counter module, without the service loop: the count
 *  lives under the campaign's hash tag, each message counts once, and its audit event is written in
 *  the same step, under an id derived from the message's.
 *
 *  The module is driven as the loop drives it: a real bus server hands it messages sent by a real
 *  client, against a private redis-server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zmq.h>
#include "counter.h"
#include "pl_test.h"
#include "plateau/outbox.h"

static void
test_the_count_lives_under_the_campaign_hash_tag (void **state)
{
    (void) state;
    char key[200];
    snprintf (key, sizeof key, TPL_COUNTER_KEY_FMT, "spring");
    assert_string_equal (key, "pl:{campaign:spring}:template:leads");
}

typedef struct {
    pl_test_redis_t *srv;
    pl_redis_t *redis;
    pl_bus_server_t *server;
    pl_bus_client_t *client;
    tpl_counter_t *counter;
} fx_t;

static int
setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    f->srv = pl_test_redis_start (NULL);
    if (!f->srv)
        return -1;
    f->redis = pl_redis_new (pl_test_redis_url (f->srv), 1000);
    char err[256];
    f->server = pl_bus_server_new ("tcp://127.0.0.1:*", NULL, err, sizeof err);
    f->client = pl_bus_client_new (f->redis, NULL, "crm", "template", pl_bus_server_endpoint (f->server), NULL,
                                   err, sizeof err);
    f->counter = tpl_counter_new (f->redis, NULL, "template", "template-0", true);
    pl_bus_server_set_handler (f->server, tpl_counter_handle, f->counter, NULL);
    *state = f;
    return f->server && f->client && f->counter ? 0 : -1;
}

static int
teardown (void **state)
{
    fx_t *f = *state;
    tpl_counter_destroy (&f->counter);
    pl_bus_client_destroy (&f->client);
    pl_bus_server_destroy (&f->server);
    pl_redis_destroy (&f->redis);
    pl_test_redis_stop (&f->srv);
    free (f);
    return 0;
}

/* Sends a LeadSubmitted for campaign with the given envelope id (a resend keeps its id). */
static void
s_send (fx_t *f, const char *id, const char *campaign)
{
    pl_envelope_t env, *p[1] = { &env };
    pl_envelope_ids_t ids;
    Plateau__V1__LeadSubmitted ls;
    Plateau__V1__Lead lead;
    pl_envelope_init (&env, &ids, "crm", NULL, NULL);
    snprintf (ids.id, sizeof ids.id, "%s", id);
    plateau__v1__lead_submitted__init (&ls);
    plateau__v1__lead__init (&lead);
    lead.id = "01JDLEAD000000000000000000";
    lead.campaign = (char *) campaign;
    ls.lead = &lead;
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD_SUBMITTED;
    env.lead_submitted = &ls;
    assert_int_equal (pl_bus_client_send (f->client, p, 1), 0);
}

/* Lets the server hand messages to the counter until the client has its acks. */
static void
s_pump (fx_t *f)
{
    for (int i = 0; i < 200 && pl_bus_client_inflight (f->client) > 0; i++) {
        zmq_pollitem_t items[2] = { { pl_bus_server_socket (f->server), 0, ZMQ_POLLIN, 0 },
                                    { pl_bus_client_socket (f->client), 0, ZMQ_POLLIN, 0 } };
        zmq_poll (items, 2, 10);
        pl_bus_server_process (f->server, 64);
        pl_bus_client_process (f->client);
        pl_bus_client_tick (f->client);
    }
    assert_int_equal (pl_bus_client_inflight (f->client), 0);
}

static void
test_each_message_counts_once_and_is_audited_in_the_same_step (void **state)
{
    fx_t *f = *state;
    s_send (f, "01JD0000000000000000000001", "spring");
    s_pump (f);
    assert_int_equal (tpl_counter_last_reply (f->counter, 0), 1);
    s_send (f, "01JD0000000000000000000002", "spring");
    s_pump (f);
    assert_int_equal (tpl_counter_last_reply (f->counter, 0), 2);
    /* The first message again (a resend after a lost ack): not counted, same answer as then. */
    s_send (f, "01JD0000000000000000000001", "spring");
    s_pump (f);
    assert_int_equal (tpl_counter_last_reply (f->counter, 0), 1);
    assert_int_equal (pl_test_redis_int (f->srv, "GET pl:{campaign:spring}:template:leads"), 2);

    /* Two audit events, one per message, waiting in the outbox under the campaign's tag. */
    pl_outbox_t *audit = pl_outbox_new (f->redis, "template-0", "audit");
    assert_int_equal (pl_outbox_size (audit), 2);
    char cursor[PL_OUTBOX_SID_MAX] = "0-0";
    pl_outbox_item_t *items;
    size_t n;
    assert_int_equal (pl_outbox_slot_read (audit, "campaign:spring", cursor, 10, &items, &n), 0);
    assert_int_equal (n, 2);
    assert_string_equal (items[0].id, "01JD0000000000000000000001.counted");
    pl_envelope_t *env = pl_envelope_unpack (items[0].data, items[0].size, NULL, 0);
    assert_non_null (env);
    assert_string_equal (env->audit_event->type, "template.counted");
    assert_string_equal (env->audit_event->campaign, "spring");
    assert_string_equal (env->audit_event->lead_id, "01JDLEAD000000000000000000");
    pl_envelope_free (&env);
    pl_outbox_items_free (items, n);
    pl_outbox_destroy (&audit);
}

static void
test_redis_down_is_nacked_unavailable_and_the_sender_keeps_the_message (void **state)
{
    fx_t *f = *state;
    pl_test_redis_kill (f->srv);
    pl_redis_t *r = pl_redis_new ("redis://127.0.0.1:1", 200);   /* nothing listens there */
    tpl_counter_t *c = tpl_counter_new (r, NULL, "template", "template-0", true);
    pl_bus_server_set_handler (f->server, tpl_counter_handle, c, NULL);
    /* The sender keeps its outbox in a Redis of its own, which is up. */
    pl_test_redis_t *other = pl_test_redis_start (NULL);
    pl_redis_t *or = pl_redis_new (pl_test_redis_url (other), 1000);
    char err[256];
    pl_bus_client_t *sender = pl_bus_client_new (or, NULL, "crm", "template", pl_bus_server_endpoint (f->server),
                                                 NULL, err, sizeof err);
    pl_envelope_t env, *p[1] = { &env };
    pl_envelope_ids_t ids;
    Plateau__V1__LeadSubmitted ls;
    pl_envelope_init (&env, &ids, "crm", NULL, NULL);
    plateau__v1__lead_submitted__init (&ls);
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD_SUBMITTED;
    env.lead_submitted = &ls;
    assert_int_equal (pl_bus_client_send (sender, p, 1), 0);
    for (int i = 0; i < 500 && pl_bus_client_count (sender, "nacked") == 0; i++) {
        zmq_pollitem_t items[2] = { { pl_bus_server_socket (f->server), 0, ZMQ_POLLIN, 0 },
                                    { pl_bus_client_socket (sender), 0, ZMQ_POLLIN, 0 } };
        zmq_poll (items, 2, 10);
        pl_bus_server_process (f->server, 64);
        pl_bus_client_process (sender);
        pl_bus_client_tick (sender);
    }
    assert_true (pl_bus_client_count (sender, "nacked") >= 1);   /* UNAVAILABLE: kept, resent later */
    assert_int_equal (pl_bus_client_inflight (sender), 1);
    assert_int_equal (pl_bus_client_count (sender, "dead"), 0);
    pl_bus_client_destroy (&sender);
    pl_redis_destroy (&or);
    pl_test_redis_stop (&other);
    tpl_counter_destroy (&c);
    pl_redis_destroy (&r);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_count_lives_under_the_campaign_hash_tag),
        cmocka_unit_test_setup_teardown (test_each_message_counts_once_and_is_audited_in_the_same_step, setup, teardown),
        cmocka_unit_test_setup_teardown (test_redis_down_is_nacked_unavailable_and_the_sender_keeps_the_message, setup, teardown),
    };
    return cmocka_run_group_tests_name ("template_counter", tests, NULL, NULL);
}
