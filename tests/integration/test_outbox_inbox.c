/*  test_outbox_inbox.c — the outbox keeps what is owed; the inbox applies each message once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pl_test.h"
#include "plateau/error.h"
#include "plateau/inbox.h"
#include "plateau/outbox.h"

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
    assert_true (pl_test_redis_int (srv, "EVAL %s 0",
        "local n = 0 for _, k in ipairs(redis.call('KEYS', 'pl:{lead:1}:seen:scrub:*')) do "
        "if redis.call('PTTL', k) > 30 * 86400000 then n = n + 1 else return -1 end end return n") >= 1);

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
    assert_int_equal (pl_test_redis_int (srv, "EVAL %s 0",
        "return #redis.call('KEYS', 'pl:{lead:2}:seen:scrub:d*')"), 2);

    pl_test_redis_kill (srv);
    pl_inbox_tx_t *tx = pl_inbox_tx_new ("lead:1", "M1000");
    pl_inbox_tx_cmdl (tx, "INCR", "pl:{lead:1}:total", NULL);
    assert_int_equal (pl_inbox_apply (in, &tx, 1, results), PL_EREDIS);
    pl_inbox_tx_destroy (&tx);
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
    };
    return cmocka_run_group_tests_name ("outbox_inbox", tests, NULL, NULL);
}
