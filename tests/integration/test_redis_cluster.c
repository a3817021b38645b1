/*  test_redis_cluster.c — the kit on a real Redis Cluster of three masters on loopback: every
 *  command goes to the master of its key's slot, pipelines spanning the masters come back in
 *  order, scripts run on every master, a script whose keys are in two slots is refused (here and
 *  on a single Redis alike), SCAN, KEYS and DBSIZE cover every master, a slot migrated under a running client is
 *  followed through ASK and then MOVED, and the cluster restarted is found again.
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
#include "plateau/error.h"
#include "plateau/redis.h"

#define NKEYS 300

/* A command to one node directly (not through the cluster's routing). */
static pl_reply_t *
s_node (pl_test_redis_t *srv, int i, const char *fmt, ...)
{
    char url[64];
    snprintf (url, sizeof url, "redis://127.0.0.1:%d/0", pl_test_redis_node_port (srv, i));
    pl_redis_t *r = pl_redis_new (url, 2000);
    va_list ap;
    va_start (ap, fmt);
    pl_reply_t *rep = r ? pl_redis_vcommand (r, fmt, ap) : NULL;
    va_end (ap);
    pl_redis_destroy (&r);
    return rep;
}

static long long
s_node_int (pl_test_redis_t *srv, int i, const char *fmt, const char *arg)
{
    pl_reply_t *r = s_node (srv, i, fmt, arg);
    long long v = r && pl_reply_type (r) == PL_REPLY_INTEGER ? pl_reply_int (r) : -1;
    pl_reply_free (&r);
    return v;
}

/* The node (0-2) whose range holds slot: the harness gives node i slots [i·16384/3, …). */
static int
s_owner (int slot)
{
    return slot * 3 / 16384;
}

static void
test_commands_and_pipelines_go_to_the_master_of_each_slot (void **state)
{
    pl_test_redis_t *srv = *state;
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (srv), 2000);
    assert_non_null (r);
    /* One pipeline over every master; the replies in the order sent. */
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal (pl_redis_append (r, "SET pl:{t%d}:v %d", i, i), 0);
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal (pl_redis_append (r, "GET pl:{t%d}:v", i), 0);
    assert_int_equal (pl_redis_flush (r), 0);
    assert_int_equal (pl_redis_drain (r, NKEYS), 0);
    for (int i = 0; i < NKEYS; i++) {
        pl_reply_t *rep = NULL;
        assert_int_equal (pl_redis_get_reply (r, &rep), 0);
        assert_int_equal (atoi (pl_reply_str (rep, NULL)), i);
        pl_reply_free (&rep);
    }
    /* Each key is on the master its slot names, and every master has some. */
    long long total = 0;
    for (int n = 0; n < 3; n++) {
        long long k = s_node_int (srv, n, "DBSIZE", NULL);
        printf ("# node %d holds %lld keys\n", n, k);
        assert_true (k > 0);
        total += k;
    }
    assert_int_equal (total, NKEYS);
    for (int i = 0; i < NKEYS; i += 37) {
        char key[32];
        snprintf (key, sizeof key, "pl:{t%d}:v", i);
        int slot = pl_redis_key_slot (key, strlen (key));
        assert_int_equal (s_node_int (srv, s_owner (slot), "EXISTS %s", key), 1);
    }
    /* SCAN walks every master. */
    char cursor[48] = "0";
    int seen = 0;
    do {
        pl_reply_t *rep = pl_redis_command (r, "SCAN %s MATCH pl:{t*}:v COUNT 50", cursor);
        assert_int_equal (pl_reply_type (rep), PL_REPLY_ARRAY);
        snprintf (cursor, sizeof cursor, "%s", pl_reply_str (pl_reply_element (rep, 0), NULL));
        seen += (int) pl_reply_len (pl_reply_element (rep, 1));
        pl_reply_free (&rep);
    } while (strcmp (cursor, "0") != 0);
    assert_int_equal (seen, NKEYS);
    /* KEYS and DBSIZE ask every master. */
    pl_reply_t *k = pl_redis_command (r, "KEYS pl:{t*}:v");
    assert_int_equal (pl_reply_len (k), NKEYS);
    pl_reply_free (&k);
    k = pl_redis_command (r, "DBSIZE");
    assert_int_equal (pl_reply_int (k), NKEYS);
    pl_reply_free (&k);
    pl_redis_destroy (&r);
}

static void
test_scripts_run_on_every_master_and_keys_in_two_slots_are_refused (void **state)
{
    pl_test_redis_t *srv = *state;
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (srv), 2000);
    pl_redis_script_t *incr = pl_redis_script_new ("redis.call('INCRBY', KEYS[1], ARGV[1]); "
                                                   "return redis.call('INCRBY', KEYS[2], ARGV[1])");
    for (int i = 0; i < 30; i++) {
        char k1[32], k2[32], by[8] = "2";
        snprintf (k1, sizeof k1, "pl:{s%d}:a", i);
        snprintf (k2, sizeof k2, "pl:{s%d}:b", i);
        const char *argv[3] = { k1, k2, by };
        pl_reply_t *rep = pl_redis_eval (r, incr, 2, 3, argv, NULL);
        if (!rep)
            fail_msg ("%s", pl_redis_errstr (r));
        assert_int_equal (pl_reply_int (rep), 2);
        pl_reply_free (&rep);
    }
    for (int i = 0; i < 30; i++) {         /* and pipelined, over the three masters */
        char k1[32], k2[32], by[8] = "2";
        snprintf (k1, sizeof k1, "pl:{s%d}:a", i);
        snprintf (k2, sizeof k2, "pl:{s%d}:b", i);
        const char *argv[3] = { k1, k2, by };
        assert_int_equal (pl_redis_append_eval (r, incr, 2, 3, argv, NULL), 0);
    }
    for (int i = 0; i < 30; i++) {
        pl_reply_t *rep = NULL;
        assert_int_equal (pl_redis_get_reply (r, &rep), 0);
        assert_int_equal (pl_reply_int (rep), 4);
        pl_reply_free (&rep);
    }
    /* Keys of two tags: refused before anything is sent. */
    const char *argv[3] = { "pl:{x}:a", "pl:{y}:b", "1" };
    assert_null (pl_redis_eval (r, incr, 2, 3, argv, NULL));
    assert_non_null (strstr (pl_redis_errstr (r), "CROSSSLOT"));
    assert_int_equal (pl_redis_append_eval (r, incr, 2, 3, argv, NULL), PL_EINVAL);
    /* A plain multi-key command across slots: the cluster's own refusal reaches the caller. */
    pl_reply_t *rep = pl_redis_command (r, "MGET pl:{x}:a pl:{y}:b");
    assert_non_null (rep);
    assert_int_equal (pl_reply_type (rep), PL_REPLY_ERROR);
    pl_reply_free (&rep);
    pl_redis_script_destroy (&incr);
    pl_redis_destroy (&r);
}

/* The same refusal on one Redis: the test suites, which run on one, catch a script that a
 * cluster would refuse. */
static void
test_a_cross_slot_script_is_refused_on_a_single_redis_too (void **state)
{
    (void) state;
    const char *was = getenv ("PL_TEST_REDIS_CLUSTER");
    char *saved = was ? strdup (was) : NULL;
    unsetenv ("PL_TEST_REDIS_CLUSTER");
    pl_test_redis_t *one = pl_test_redis_start (NULL);
    if (saved) {
        setenv ("PL_TEST_REDIS_CLUSTER", saved, 1);
        free (saved);
    }
    assert_non_null (one);
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (one), 2000);
    pl_redis_script_t *s = pl_redis_script_new ("return redis.call('SET', KEYS[2], ARGV[1])");
    const char *bad[3] = { "pl:{x}:a", "pl:{y}:b", "1" }, *good[3] = { "pl:{x}:a", "pl:{x}:b", "1" };
    assert_null (pl_redis_eval (r, s, 2, 3, bad, NULL));
    assert_non_null (strstr (pl_redis_errstr (r), "CROSSSLOT"));
    pl_reply_t *rep = pl_redis_eval (r, s, 2, 3, good, NULL);
    assert_non_null (rep);
    pl_reply_free (&rep);
    pl_redis_script_destroy (&s);
    pl_redis_destroy (&r);
    pl_test_redis_stop (&one);
}

static void
s_myid (pl_test_redis_t *srv, int i, char *out, size_t size)
{
    pl_reply_t *r = s_node (srv, i, "CLUSTER MYID");
    snprintf (out, size, "%s", r && pl_reply_str (r, NULL) ? pl_reply_str (r, NULL) : "");
    pl_reply_free (&r);
}

typedef struct {
    pl_test_redis_t *srv;
    const char *key;
    const char *port1;
} s_agree_t;

/* Every node says the key's slot is node 1's: node 1 answers, the others redirect to it. */
static bool
s_all_agree (void *arg)
{
    s_agree_t *a = arg;
    bool ok = true;
    for (int n = 0; n < 3 && ok; n++) {
        pl_reply_t *r = s_node (a->srv, n, "EXISTS %s", a->key);
        const char *e = r && pl_reply_type (r) == PL_REPLY_ERROR ? pl_reply_str (r, NULL) : NULL;
        const char *colon = e ? strrchr (e, ':') : NULL;
        if (n == 1)
            ok = r && pl_reply_type (r) == PL_REPLY_INTEGER && pl_reply_int (r) == 1;
        else
            ok = e && strncmp (e, "MOVED ", 6) == 0 && colon && strcmp (colon + 1, a->port1) == 0;
        pl_reply_free (&r);
    }
    return ok;
}

static void
test_a_slot_migrated_under_a_running_client_is_followed (void **state)
{
    pl_test_redis_t *srv = *state;
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (srv), 2000);
    /* A key of node 0's, read once: the client has the map. */
    char key[32] = "";
    int slot = -1;
    for (int i = 0; slot < 0 || s_owner (slot) != 0; i++) {
        snprintf (key, sizeof key, "pl:{m%d}:k", i);
        slot = pl_redis_key_slot (key, strlen (key));
    }
    assert_int_equal (pl_redis_exec (r, "SET %s before", key), 0);
    char id0[64], id1[64], id2[64];
    s_myid (srv, 0, id0, sizeof id0);
    s_myid (srv, 1, id1, sizeof id1);
    s_myid (srv, 2, id2, sizeof id2);
    /* Node 1 imports the slot, node 0 migrates it, the key moves: node 0 answers ASK. */
    pl_reply_t *x = s_node (srv, 1, "CLUSTER SETSLOT %d IMPORTING %s", slot, id0);
    assert_int_equal (pl_reply_type (x), PL_REPLY_STATUS);
    pl_reply_free (&x);
    x = s_node (srv, 0, "CLUSTER SETSLOT %d MIGRATING %s", slot, id1);
    assert_int_equal (pl_reply_type (x), PL_REPLY_STATUS);
    pl_reply_free (&x);
    char port1[16];
    snprintf (port1, sizeof port1, "%d", pl_test_redis_node_port (srv, 1));
    x = s_node (srv, 0, "MIGRATE 127.0.0.1 %s %s 0 5000 KEYS %s", port1, "", key);
    assert_int_equal (pl_reply_type (x), PL_REPLY_STATUS);
    pl_reply_free (&x);
    pl_reply_t *rep = pl_redis_command (r, "GET %s", key);
    assert_int_equal (pl_reply_type (rep), PL_REPLY_STRING);
    assert_string_equal (pl_reply_str (rep, NULL), "before");
    pl_reply_free (&rep);
    /* The slot is node 1's everywhere: node 0 answers MOVED, in a pipeline too. The new owner
     * is told first, as redis-cli does: it claims the slot with a new config epoch, so a ping
     * from node 0 still claiming it cannot hand it back (which left node 1 answering MOVED to
     * node 0 and node 0 MOVED to node 1 for good). */
    static const int order[3] = { 1, 0, 2 };
    for (int n = 0; n < 3; n++) {
        x = s_node (srv, order[n], "CLUSTER SETSLOT %d NODE %s", slot, id1);
        assert_int_equal (pl_reply_type (x), PL_REPLY_STATUS);
        pl_reply_free (&x);
    }
    (void) id2;
    s_agree_t agree = { srv, key, port1 };
    assert_true (pl_test_wait_until (s_all_agree, &agree, 20000));
    for (int i = 0; i < 20; i++) {
        if (i % 2)
            assert_int_equal (pl_redis_append (r, "GET %s", key), 0);
        else
            assert_int_equal (pl_redis_append (r, "SET pl:{mv%d}:k %d", i, i), 0);
    }
    for (int i = 0; i < 20; i++) {
        assert_int_equal (pl_redis_get_reply (r, &rep), 0);
        if (i % 2)
            assert_string_equal (pl_reply_str (rep, NULL), "before");
        else
            assert_int_equal (pl_reply_type (rep), PL_REPLY_STATUS);
        pl_reply_free (&rep);
    }
    assert_int_equal (s_node_int (srv, 1, "EXISTS %s", key), 1);
    assert_int_equal (pl_redis_exec (r, "SET %s after", key), 0);
    rep = s_node (srv, 1, "GET %s", key);
    assert_string_equal (pl_reply_str (rep, NULL), "after");
    pl_reply_free (&rep);
    pl_redis_destroy (&r);
}

static void
test_the_cluster_restarted_is_found_again (void **state)
{
    pl_test_redis_t *srv = *state;
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (srv), 500);
    assert_int_equal (pl_redis_exec (r, "SET pl:{r}:k 1"), 0);
    assert_int_equal (pl_test_redis_kill (srv), 0);
    assert_int_equal (pl_redis_exec (r, "SET pl:{r}:k 2"), PL_EREDIS);
    assert_false (pl_redis_ok (r));
    assert_int_equal (pl_test_redis_restart (srv), 0);
    int rc = PL_EREDIS;
    for (int i = 0; i < 100 && rc != 0; i++) {
        rc = pl_redis_exec (r, "SET pl:{r}:k 3");
        if (rc)
            usleep (100 * 1000);
    }
    assert_int_equal (rc, 0);
    assert_true (pl_redis_ok (r));
    pl_redis_destroy (&r);
}

static int
setup (void **state)
{
    setenv ("PL_TEST_REDIS_CLUSTER", "1", 1);
    *state = pl_test_redis_start (NULL);
    return *state ? 0 : -1;
}

static int
teardown (void **state)
{
    pl_test_redis_t *srv = *state;
    pl_test_redis_stop (&srv);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_commands_and_pipelines_go_to_the_master_of_each_slot, setup, teardown),
        cmocka_unit_test_setup_teardown (test_scripts_run_on_every_master_and_keys_in_two_slots_are_refused, setup,
                                         teardown),
        cmocka_unit_test (test_a_cross_slot_script_is_refused_on_a_single_redis_too),
        cmocka_unit_test_setup_teardown (test_a_slot_migrated_under_a_running_client_is_followed, setup, teardown),
        cmocka_unit_test_setup_teardown (test_the_cluster_restarted_is_found_again, setup, teardown),
    };
    return cmocka_run_group_tests_name ("redis_cluster", tests, NULL, NULL);
}
