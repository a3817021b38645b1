/*  test_outbox_inbox.c — the outbox keeps what is owed; the inbox applies each message once. */
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
#include "plateau/error.h"
#include "plateau/inbox.h"
#include "plateau/outbox.h"
#include "plateau/redis.h"
#include "plateau/audit_emit.h"
#include "bus_helpers.h"

static void
test_outbox_stores_loads_acks_and_dead_letters (void **state)
{
    pl_test_redis_t *srv = *state;
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (srv), 1000);
    pl_outbox_t *ob = pl_outbox_new (r, "intake-0", "scrub");
    const char *ids[] = { "A", "B", "C" };
    const char *types[] = { "LeadSubmitted", "LeadSubmitted", "AuditEvent" };
    const uint8_t *data[] = { (const uint8_t *) "\x01\x02", (const uint8_t *) "", (const uint8_t *) "xyz" };
    size_t sizes[] = { 2, 0, 3 };
    assert_int_equal (pl_outbox_put (ob, 3, ids, types, data, sizes), 0);
    assert_int_equal (pl_outbox_size (ob), 3);

    pl_outbox_item_t *items;
    size_t n;
    assert_int_equal (pl_outbox_load (ob, &items, &n), 0);
    assert_int_equal (n, 3);
    for (size_t i = 0; i < n; i++)
        if (strcmp (items[i].id, "C") == 0) {
            assert_string_equal (items[i].type, "AuditEvent");
            assert_int_equal (items[i].size, 3);
            assert_memory_equal (items[i].data, "xyz", 3);
        }
    pl_outbox_items_free (items, n);

    const char *acked[] = { "A" };
    assert_int_equal (pl_outbox_ack (ob, 1, acked), 0);
    assert_int_equal (pl_outbox_dead (ob, "B", "INVALID: no phone"), 0);
    assert_int_equal (pl_outbox_size (ob), 1);
    assert_int_equal (pl_outbox_dead_size (ob), 1);

    /* Redis down: put fails loudly, nothing pretends to be stored. */
    pl_test_redis_kill (srv);
    assert_int_equal (pl_outbox_put (ob, 3, ids, types, data, sizes), PL_EREDIS);
    assert_non_null (strstr (pl_outbox_errstr (ob), "outbox put"));
    pl_outbox_destroy (&ob);
    pl_redis_destroy (&r);
}

static void
test_inbox_applies_each_message_once (void **state)
{
    pl_test_redis_t *srv = *state;
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (srv), 1000);
    pl_inbox_t *in = pl_inbox_new (r, "scrub", 0);
    enum { N = 50 };
    pl_inbox_tx_t *txs[N];
    int results[N];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            char id[16], field[16];
            snprintf (id, sizeof id, "M%d", i);
            snprintf (field, sizeof field, "%d", i);
            txs[i] = pl_inbox_tx_new ("lead:1", id);
            assert_int_equal (pl_inbox_tx_cmdl (txs[i], "HINCRBY", "pl:{lead:1}:count", field, "1", NULL), 0);
            assert_int_equal (pl_inbox_tx_cmdl (txs[i], "INCR", "pl:{lead:1}:total", NULL), 0);
        }
        assert_int_equal (pl_inbox_apply (in, txs, N, results), 0);
        for (int i = 0; i < N; i++) {
            assert_int_equal (results[i], round == 0 ? 1 : 0);    /* second round: duplicates */
            pl_inbox_tx_destroy (&txs[i]);
        }
    }
    assert_int_equal (pl_test_redis_int (srv, "GET pl:{lead:1}:total"), N);
    assert_int_equal (pl_inbox_seen (in, "lead:1", "M7"), 1);
    assert_int_equal (pl_inbox_seen (in, "lead:1", "M999"), 0);
    /* Markers expire eventually (bounded memory), long after any resend: every seen bucket of
     * the tag has a TTL over 30 days. */
    pl_reply_t *buckets = pl_redis_command (r, "KEYS pl:{lead:1}:seen:scrub:*");
    assert_true (pl_reply_len (buckets) >= 1);
    for (size_t i = 0; i < pl_reply_len (buckets); i++)
        assert_true (pl_test_redis_int (srv, "PTTL %s", pl_reply_str (pl_reply_element (buckets, i), NULL))
                     > 30 * 86400000LL);
    pl_reply_free (&buckets);

    /* ULID ids are remembered by the day written in them: a message made on one day and
     * redelivered much later is still a duplicate, and other days do not mix in. */
    const char *ulids[] = { "01JD000000000000000000000A", "01JD000000000000000000000A",
                            "01JD300000000000000000000B" };   /* about 100 million ms later */
    for (int i = 0; i < 3; i++) {
        pl_inbox_tx_t *t = pl_inbox_tx_new ("lead:2", ulids[i]);
        pl_inbox_tx_cmdl (t, "INCR", "pl:{lead:2}:total", NULL);
        assert_int_equal (pl_inbox_apply (in, &t, 1, results), 0);
        assert_int_equal (results[0], i == 1 ? 0 : 1);
        pl_inbox_tx_destroy (&t);
    }
    assert_int_equal (pl_test_redis_int (srv, "GET pl:{lead:2}:total"), 2);
    assert_int_equal (pl_inbox_seen (in, "lead:2", ulids[2]), 1);
    pl_reply_t *seen = pl_redis_command (r, "KEYS pl:{lead:2}:seen:scrub:d*");
    assert_int_equal (pl_reply_len (seen), 2);
    pl_reply_free (&seen);

    pl_test_redis_kill (srv);
    pl_inbox_tx_t *tx = pl_inbox_tx_new ("lead:1", "M1000");
    pl_inbox_tx_cmdl (tx, "INCR", "pl:{lead:1}:total", NULL);
    assert_int_equal (pl_inbox_apply (in, &tx, 1, results), PL_EREDIS);
    pl_inbox_tx_destroy (&tx);
    pl_inbox_destroy (&in);
    pl_redis_destroy (&r);
}

/* A store-if-absent effect: the reply says what happened, and only a fresh store emits. */
static const pl_inbox_effect_t s_put_once = {
    "test.put_once",
    "local old = redis.call('GET', K[1])\n"
    "if old then return 'dup ' .. old, false end\n"
    "redis.call('SET', K[1], A[1])\n"
    "return 'stored ' .. A[1]\n"
};

static pl_inbox_tx_t *
s_put_step (const char *message_id, const char *key, const char *value, const pl_outbox_t *ob)
{
    pl_inbox_tx_t *tx = pl_inbox_tx_new ("camp:c1", message_id);
    const char *keys[1] = { key }, *args[1] = { value };
    assert_int_equal (pl_inbox_tx_effect (tx, &s_put_once, 1, keys, 1, args, NULL), 0);
    Plateau__V1__AuditEvent ev;
    pl_audit_event_init (&ev, "test", "test.stored", NULL, 1);
    char eid[64];
    snprintf (eid, sizeof eid, "%s.stored", value);
    ev.event_id = eid;
    ev.lead_id = (char *) value;
    assert_int_equal (pl_audit_emit (tx, ob, "test", NULL, NULL, &ev), 0);
    return tx;
}

static void
test_a_step_runs_its_effect_once_answers_its_reply_and_emits_only_when_told (void **state)
{
    pl_test_redis_t *srv = *state;
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (srv), 1000);
    pl_inbox_t *in = pl_inbox_new (r, "intake", 0);
    pl_outbox_t *ob = pl_outbox_new (r, "intake-0", "audit");
    int res[3];

    /* A bus message: applied, then redelivered: the first reply comes back, nothing runs again. */
    pl_inbox_tx_t *t[3];
    t[0] = s_put_step ("01JD000000000000000000000A", "pl:{camp:c1}:k1", "L1", ob);
    /* A step of the service's own (no message id) that finds the key taken: no message. */
    t[1] = s_put_step (NULL, "pl:{camp:c1}:k1", "L2", ob);
    /* Another fresh one. */
    t[2] = s_put_step (NULL, "pl:{camp:c1}:k2", "L3", ob);
    assert_int_equal (pl_inbox_apply (in, t, 3, res), 0);
    assert_int_equal (res[0], 1);
    assert_string_equal (pl_inbox_tx_reply (t[0], NULL), "stored L1");
    assert_int_equal (res[1], 1);
    assert_string_equal (pl_inbox_tx_reply (t[1], NULL), "dup L1");
    assert_string_equal (pl_inbox_tx_reply (t[2], NULL), "stored L3");
    for (int i = 0; i < 3; i++)
        pl_inbox_tx_destroy (&t[i]);
    assert_int_equal (pl_outbox_size (ob), 2);            /* L1 and L3, not the duplicate */

    t[0] = s_put_step ("01JD000000000000000000000A", "pl:{camp:c1}:k1", "L9", ob);
    assert_int_equal (pl_inbox_apply (in, t, 1, res), 0);
    assert_int_equal (res[0], 0);
    assert_string_equal (pl_inbox_tx_reply (t[0], NULL), "stored L1");
    pl_inbox_tx_destroy (&t[0]);
    assert_int_equal (pl_outbox_size (ob), 2);

    /* The slot is registered and holds the two envelopes, in order. */
    char **tags;
    long long *scores;
    size_t n;
    assert_int_equal (pl_outbox_slots (ob, &tags, &scores, &n), 0);
    assert_int_equal (n, 1);
    assert_string_equal (tags[0], "camp:c1");
    pl_outbox_slots_free (tags, scores, n);
    char cursor[PL_OUTBOX_SID_MAX] = "0-0";
    pl_outbox_item_t *items;
    assert_int_equal (pl_outbox_slot_read (ob, "camp:c1", cursor, 10, &items, &n), 0);
    assert_int_equal (n, 2);
    assert_string_equal (items[0].id, "L1.stored");
    assert_string_equal (items[1].id, "L3.stored");
    assert_string_equal (items[0].type, "AuditEvent");
    pl_envelope_t *env = pl_envelope_unpack (items[0].data, items[0].size, NULL, 0);
    assert_non_null (env);
    assert_string_equal (env->audit_event->lead_id, "L1");
    pl_envelope_free (&env);
    pl_outbox_items_free (items, n);
    assert_int_equal (pl_outbox_slot_read (ob, "camp:c1", cursor, 10, &items, &n), 0);
    assert_int_equal (n, 0);                               /* the cursor moved past both */
    pl_outbox_items_free (items, n);

    /* An effect that lost a compare-and-set answers 'again': its reply comes back, nothing is
     * emitted, and no marker stays: the same message id runs afresh once the caller has read
     * again, instead of answering as a duplicate of a step that never happened. */
    static const pl_inbox_effect_t s_cas = {
        "test.cas",
        "if (redis.call('GET', K[1]) or '0') ~= A[1] then return 'retry', 'again' end\n"
        "redis.call('INCR', K[1])\n"
        "return 'ok'\n"
    };
    const char *ck[1] = { "pl:{camp:c1}:ver" }, *stale[1] = { "7" }, *fresh[1] = { "0" };
    pl_inbox_tx_t *cas = pl_inbox_tx_new ("camp:c1", "01JD000000000000000000000C");
    assert_int_equal (pl_inbox_tx_effect (cas, &s_cas, 1, ck, 1, stale, NULL), 0);
    Plateau__V1__AuditEvent ev;
    pl_audit_event_init (&ev, "test", "test.counted", "C.counted", 1);
    assert_int_equal (pl_audit_emit (cas, ob, "test", NULL, NULL, &ev), 0);
    assert_int_equal (pl_inbox_apply (in, &cas, 1, res), 0);
    assert_int_equal (res[0], 1);
    assert_string_equal (pl_inbox_tx_reply (cas, NULL), "retry");
    assert_int_equal (pl_inbox_seen (in, "camp:c1", "01JD000000000000000000000C"), 0);
    pl_inbox_tx_destroy (&cas);
    assert_int_equal (pl_outbox_size (ob), 2);            /* still L1 and L3 */
    cas = pl_inbox_tx_new ("camp:c1", "01JD000000000000000000000C");
    assert_int_equal (pl_inbox_tx_effect (cas, &s_cas, 1, ck, 1, fresh, NULL), 0);
    assert_int_equal (pl_inbox_apply (in, &cas, 1, res), 0);
    assert_int_equal (res[0], 1);                          /* ran: not a duplicate */
    assert_string_equal (pl_inbox_tx_reply (cas, NULL), "ok");
    assert_int_equal (pl_inbox_seen (in, "camp:c1", "01JD000000000000000000000C"), 1);
    pl_inbox_tx_destroy (&cas);

    /* An effect that fails reports it, emits nothing. */
    pl_inbox_tx_t *bad = pl_inbox_tx_new ("camp:c1", NULL);
    const char *keys[1] = { "pl:{camp:c1}:k1" }, *args[1] = { "x" };
    static const pl_inbox_effect_t s_fails = { "test.fails", "return redis.call('HGET', K[1], A[1])" };
    pl_inbox_tx_effect (bad, &s_fails, 1, keys, 1, args, NULL);
    assert_int_equal (pl_inbox_apply (in, &bad, 1, res), PL_EREDIS);
    assert_int_equal (res[0], -1);
    assert_non_null (strstr (pl_inbox_tx_reply (bad, NULL), "WRONGTYPE"));
    assert_non_null (strstr (pl_inbox_errstr (in), "test.fails"));
    pl_inbox_tx_destroy (&bad);

    pl_outbox_destroy (&ob);
    pl_inbox_destroy (&in);
    pl_redis_destroy (&r);
}

/* Messages written by steps are delivered by the destination's bus client and leave the slot
 * once acknowledged; a restarted client delivers what was still owed. */
static void
test_the_bus_client_delivers_what_steps_emitted (void **state)
{
    pl_test_redis_t *srv = *state;
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (srv), 1000);
    pl_inbox_t *in = pl_inbox_new (r, "intake", 0);
    pl_outbox_t *ob = pl_outbox_new (r, "intake-0", "audit");
    enum { N = 300 };
    pl_inbox_tx_t *t[N];
    int res[N];
    for (int i = 0; i < N; i++) {
        char key[64], val[16];
        snprintf (key, sizeof key, "pl:{camp:c%d}:k%d", i % 3, i);
        snprintf (val, sizeof val, "V%d", i);
        t[i] = pl_inbox_tx_new (i % 3 == 0 ? "camp:c0" : i % 3 == 1 ? "camp:c1" : "camp:c2", NULL);
        const char *keys[1] = { key }, *args[1] = { val };
        pl_inbox_tx_effect (t[i], &s_put_once, 1, keys, 1, args, NULL);
        Plateau__V1__AuditEvent ev;
        pl_audit_event_init (&ev, "test", "test.stored", NULL, 1);
        char eid[64];
        snprintf (eid, sizeof eid, "%s.stored", val);
        ev.event_id = eid;
        pl_audit_emit (t[i], ob, "test", NULL, NULL, &ev);
    }
    assert_int_equal (pl_inbox_apply (in, t, N, res), 0);
    for (int i = 0; i < N; i++)
        pl_inbox_tx_destroy (&t[i]);
    assert_int_equal (pl_outbox_size (ob), N);

    char err[256];
    pl_bus_server_t *srvb = pl_bus_server_new ("tcp://127.0.0.1:*", NULL, err, sizeof err);
    assert_non_null (srvb);
    pl_redis_t *rc = pl_redis_new (pl_test_redis_url (srv), 1000);
    /* A first client takes a part only (small window, no receiver answering), then dies. */
    pl_bus_client_t *c = pl_bus_client_new (rc, NULL, "intake-0", "audit", pl_bus_server_endpoint (srvb),
                                            NULL, err, sizeof err);
    assert_non_null (c);
    pl_bus_client_set_window (c, 50);
    pl_bus_client_tick (c);
    assert_int_equal (pl_bus_client_inflight (c), 100);     /* twice the window, the rest in Redis */
    pl_bus_client_destroy (&c);
    /* The next one delivers everything, and the slots empty. */
    c = pl_bus_client_new (rc, NULL, "intake-0", "audit", pl_bus_server_endpoint (srvb), NULL, err, sizeof err);
    uint64_t received = 0;
    int64_t end = pl_clock_mono_ms () + 10000;
    while (pl_clock_mono_ms () < end && pl_outbox_size (ob) > 0) {
        s_pump (srvb, c, 50);
        received = pl_bus_server_count (srvb, "received");
    }
    assert_int_equal (pl_outbox_size (ob), 0);
    assert_true (received >= N);
    pl_bus_client_destroy (&c);
    pl_bus_server_destroy (&srvb);
    pl_redis_destroy (&rc);
    pl_outbox_destroy (&ob);
    pl_inbox_destroy (&in);
    pl_redis_destroy (&r);
}

/* A step's message leaves as soon as the service asks its client to pull, with no tick between:
 * the dialer's dial-time verdicts do not wait for the timer. */
static void
test_a_pull_sends_what_a_step_just_emitted_without_waiting_for_a_tick (void **state)
{
    pl_test_redis_t *srv = *state;
    char err[256];
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (srv), 1000);
    pl_inbox_t *in = pl_inbox_new (r, "scrub", 0);
    pl_outbox_t *ob = pl_outbox_new (r, "scrub-0", "dialer");
    pl_bus_server_t *srvb = pl_bus_server_new ("tcp://127.0.0.1:*", NULL, err, sizeof err);
    assert_non_null (srvb);
    pl_bus_client_t *c = pl_bus_client_new (r, NULL, "scrub-0", "dialer", pl_bus_server_endpoint (srvb), NULL,
                                            err, sizeof err);
    assert_non_null (c);
    pl_bus_client_tick (c);              /* the first tick: nothing owed from before */
    assert_int_equal (pl_bus_client_inflight (c), 0);

    /* Round 0 connects (a message sent before the connection is up waits for a tick's resend);
     * the next ones see no tick at all. */
    for (int round = 0; round < 4; round++) {
        char key[64], val[16], eid[32];
        snprintf (key, sizeof key, "pl:{lead:l%d}:k", round);
        snprintf (val, sizeof val, "V%d", round);
        char tag[16];
        snprintf (tag, sizeof tag, "lead:l%d", round);
        pl_inbox_tx_t *t = pl_inbox_tx_new (tag, NULL);
        const char *keys[1] = { key }, *args[1] = { val };
        pl_inbox_tx_effect (t, &s_put_once, 1, keys, 1, args, NULL);
        Plateau__V1__AuditEvent ev;
        pl_audit_event_init (&ev, "test", "test.stored", NULL, 1);
        snprintf (eid, sizeof eid, "%s.stored", val);
        ev.event_id = eid;
        pl_audit_emit (t, ob, "test", NULL, NULL, &ev);
        int res;
        assert_int_equal (pl_inbox_apply (in, &t, 1, &res), 0);
        pl_inbox_tx_destroy (&t);
        assert_int_equal (pl_bus_client_inflight (c), 0);     /* in Redis, not yet read */

        assert_int_equal (pl_bus_client_pull (c), 0);
        assert_int_equal (pl_bus_client_inflight (c), 1);
        if (round == 0) {
            assert_true (s_pump (srvb, c, 5000));
            continue;
        }
        /* Only the server is pumped, and the client reads its ack: no tick. */
        int64_t end = pl_clock_mono_ms () + 5000;
        while (pl_clock_mono_ms () < end && pl_bus_client_inflight (c) > 0) {
            zmq_pollitem_t items[2] = { { pl_bus_server_socket (srvb), 0, ZMQ_POLLIN, 0 },
                                        { pl_bus_client_socket (c), 0, ZMQ_POLLIN, 0 } };
            zmq_poll (items, 2, 10);
            pl_bus_server_process (srvb, 256);
            pl_bus_client_process (c);
        }
        assert_int_equal (pl_bus_client_inflight (c), 0);
        assert_int_equal (pl_bus_server_count (srvb, "received"), (uint64_t) round + 1);
    }
    assert_int_equal (pl_bus_client_pull (c), 0);          /* nothing new: nothing sent */
    assert_int_equal (pl_bus_client_inflight (c), 0);

    pl_bus_client_destroy (&c);
    pl_bus_server_destroy (&srvb);
    pl_outbox_destroy (&ob);
    pl_inbox_destroy (&in);
    pl_redis_destroy (&r);
}

/* Calls of a Redis command so far (INFO commandstats). */
static long long
s_calls (pl_redis_t *r, const char *cmd)
{
    pl_reply_t *rep = pl_redis_command (r, "INFO commandstats");
    const char *text = rep ? pl_reply_str (rep, NULL) : NULL;
    char key[64];
    snprintf (key, sizeof key, "cmdstat_%s:calls=", cmd);
    const char *at = text ? strstr (text, key) : NULL;
    long long n = at ? atoll (at + strlen (key)) : 0;
    pl_reply_free (&rep);
    return n;
}

/* n steps, one message each, every one under its own tag num:+3361234<first + i>. */
static void
s_emit_one_off (pl_inbox_t *in, pl_outbox_t *ob, int first, int n)
{
    for (int i = 0; i < n; i++) {
        char tag[32], key[64], eid[32];
        snprintf (tag, sizeof tag, "num:+3361234%04d", first + i);
        snprintf (key, sizeof key, "pl:{%s}:optout:%d", tag, first);
        snprintf (eid, sizeof eid, "%d.%d.stored", first, i);
        pl_inbox_tx_t *t = pl_inbox_tx_new (tag, NULL);
        const char *keys[1] = { key }, *args[1] = { eid };
        pl_inbox_tx_effect (t, &s_put_once, 1, keys, 1, args, NULL);
        Plateau__V1__AuditEvent ev;
        pl_audit_event_init (&ev, "test", "test.stored", NULL, 1);
        ev.event_id = eid;
        pl_audit_emit (t, ob, "test", NULL, NULL, &ev);
        int res;
        assert_int_equal (pl_inbox_apply (in, &t, 1, &res), 0);
        pl_inbox_tx_destroy (&t);
    }
}

/* Until nothing is owed any more (every message acknowledged and deleted), or 30 s. The server's
 * count is no measure: a slow (sanitized) build resends, and a resend counts again. */
static void
s_pump_until_empty (pl_bus_server_t *srvb, pl_bus_client_t *c, pl_outbox_t *ob)
{
    int64_t end = pl_clock_mono_ms () + 30000;
    while (pl_clock_mono_ms () < end && pl_outbox_size (ob) != 0)
        s_pump (srvb, c, 100);
}

/* A tag per number (opt-outs, consents) makes thousands of one-off slots: once drained they are
 * read again a bounded number at a time, then forgotten in Redis and in the client, and a
 * forgotten tag written again is delivered like a new one. */
static void
test_thousands_of_one_off_slots_cost_a_bounded_pull_and_are_forgotten (void **state)
{
    pl_test_redis_t *srv = *state;
    char err[256];
    enum { N = 2000 };
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (srv), 2000);
    pl_inbox_t *in = pl_inbox_new (r, "scrub", 0);
    pl_outbox_t *ob = pl_outbox_new (r, "scrub-0", "audit");
    pl_bus_server_t *srvb = pl_bus_server_new ("tcp://127.0.0.1:*", NULL, err, sizeof err);
    assert_non_null (srvb);
    pl_redis_t *rc = pl_redis_new (pl_test_redis_url (srv), 2000);
    pl_bus_client_t *c = pl_bus_client_new (rc, NULL, "scrub-0", "audit", pl_bus_server_endpoint (srvb), NULL,
                                            err, sizeof err);
    assert_non_null (c);
    pl_bus_client_set_slot_idle (c, 300);
    pl_bus_client_tick (c);

    s_emit_one_off (in, ob, 0, N);
    s_pump_until_empty (srvb, c, ob);
    assert_int_equal (pl_outbox_size (ob), 0);
    assert_true (pl_bus_server_count (srvb, "received") >= N);
    assert_true (s_pump (srvb, c, 5000));

    /* A second later every slot is due to be read again: one pull reads 64 at most. */
    usleep (1200 * 1000);
    long long before = s_calls (r, "xrange");
    assert_int_equal (pl_bus_client_pull (c), 0);
    long long reads = s_calls (r, "xrange") - before;
    printf ("one pull over %d drained slots read %lld of them\n", N, reads);
    assert_true (reads <= 64);

    /* Idle, they are forgotten: the registry empties. */
    char zcard[300];
    snprintf (zcard, sizeof zcard, "ZCARD %s", pl_outbox_registry_key (ob));
    long long left = -1;
    for (int i = 0; i < 400 && left != 0; i++) {
        usleep (50 * 1000);
        pl_bus_client_pull (c);
        pl_reply_t *z = pl_redis_command (r, "%s", zcard);
        left = z ? pl_reply_int (z) : -1;
        pl_reply_free (&z);
    }
    assert_int_equal (left, 0);

    /* Written again (half of them forgotten tags, half new), all delivered. */
    uint64_t before_second = pl_bus_server_count (srvb, "received");
    s_emit_one_off (in, ob, N - 100, 200);
    s_pump_until_empty (srvb, c, ob);
    assert_int_equal (pl_outbox_size (ob), 0);
    assert_true (pl_bus_server_count (srvb, "received") >= before_second + 200);

    pl_bus_client_destroy (&c);
    pl_bus_server_destroy (&srvb);
    pl_redis_destroy (&rc);
    pl_outbox_destroy (&ob);
    pl_inbox_destroy (&in);
    pl_redis_destroy (&r);
}

static int setup (void **state) { *state = pl_test_redis_start (NULL); return *state ? 0 : -1; }
static int teardown (void **state) { pl_test_redis_t *s = *state; pl_test_redis_stop (&s); return 0; }

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_outbox_stores_loads_acks_and_dead_letters, setup, teardown),
        cmocka_unit_test_setup_teardown (test_inbox_applies_each_message_once, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_step_runs_its_effect_once_answers_its_reply_and_emits_only_when_told, setup, teardown),
        cmocka_unit_test_setup_teardown (test_the_bus_client_delivers_what_steps_emitted, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_pull_sends_what_a_step_just_emitted_without_waiting_for_a_tick, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_thousands_of_one_off_slots_cost_a_bounded_pull_and_are_forgotten,
                                         setup, teardown),
    };
    return cmocka_run_group_tests_name ("outbox_inbox", tests, NULL, NULL);
}
