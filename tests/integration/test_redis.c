/*  test_redis.c — URL parsing, commands, pipelines, scripts, reading replies, and an outage with
 *  recovery against a real redis-server.
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

static void
test_url_forms_are_checked_with_a_reason (void **state)
{
    char err[256];
    assert_int_equal (pl_redis_url_check ("redis://127.0.0.1:6379/0", err, sizeof err), 0);
    assert_int_equal (pl_redis_url_check ("redis://:s3cret@redis.plateau:6380/2", err, sizeof err), 0);
    assert_int_equal (pl_redis_url_check ("redis://user:pw@host", err, sizeof err), 0);
    assert_int_equal (pl_redis_url_check ("unix:///run/redis.sock?db=3", err, sizeof err), 0);
    assert_int_equal (pl_redis_url_check ("localhost:6379", err, sizeof err), PL_EINVAL);
    assert_non_null (strstr (err, "expected redis://"));
    assert_int_equal (pl_redis_url_check ("redis://host:99999/0", err, sizeof err), PL_EINVAL);
    assert_non_null (strstr (err, "port"));
    assert_int_equal (pl_redis_url_check ("redis://host:6379/42", err, sizeof err), PL_EINVAL);
    assert_non_null (strstr (err, "database"));
    assert_int_equal (pl_redis_url_check ("unix://relative.sock", err, sizeof err), PL_EINVAL);
    assert_null (pl_redis_new ("http://nope", 100));
}

static void
test_commands_pipelines_and_scripts_work (void **state)
{
    pl_test_redis_t *srv = *state;
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (srv), 1000);
    assert_non_null (r);
    assert_int_equal (pl_redis_ping (r), 0);
    assert_true (pl_redis_ok (r));
    for (int i = 0; i < 100; i++)
        assert_int_equal (pl_redis_append (r, "RPUSH pl:{t}:list %d", i), 0);
    assert_int_equal (pl_redis_pending (r), 100);
    for (int i = 0; i < 100; i++) {
        pl_reply_t *reply;
        assert_int_equal (pl_redis_get_reply (r, &reply), 0);
        assert_int_equal (pl_reply_type (reply), PL_REPLY_INTEGER);
        assert_int_equal (pl_reply_int (reply), i + 1);
        pl_reply_free (&reply);
        assert_null (reply);
    }
    pl_redis_script_t *s = pl_redis_script_new ("return redis.call('LLEN', KEYS[1]) + tonumber(ARGV[1])");
    const char *argv[] = { "pl:{t}:list", "5" };
    pl_reply_t *reply = pl_redis_eval (r, s, 1, 2, argv, NULL);
    assert_non_null (reply);
    assert_int_equal (pl_reply_int (reply), 105);
    pl_reply_free (&reply);
    /* A flushed script cache is handled (NOSCRIPT → reload). */
    assert_int_equal (pl_redis_exec (r, "SCRIPT FLUSH"), 0);
    reply = pl_redis_eval (r, s, 1, 2, argv, NULL);
    assert_non_null (reply);
    assert_int_equal (pl_reply_int (reply), 105);
    pl_reply_free (&reply);
    pl_redis_script_destroy (&s);
    pl_redis_destroy (&r);
    assert_null (r);
}

static void
test_replies_read_as_plateau_types_without_copies (void **state)
{
    pl_test_redis_t *srv = *state;
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (srv), 1000);
    assert_int_equal (pl_redis_exec (r, "SET pl:{t}:s %b", "a\0b", (size_t) 3), 0);
    /* No reply (the command failed): an error without text, empty, zero — never a crash. */
    size_t nl = 7;
    assert_int_equal (pl_reply_type (NULL), PL_REPLY_ERROR);
    assert_null (pl_reply_str (NULL, &nl));
    assert_int_equal (nl, 0);
    assert_int_equal (pl_reply_len (NULL), 0);
    assert_null (pl_reply_element (NULL, 0));
    assert_int_equal (pl_reply_int (NULL), 0);

    pl_reply_t *reply = pl_redis_command (r, "GET pl:{t}:s");
    size_t len = 0;
    assert_int_equal (pl_reply_type (reply), PL_REPLY_STRING);
    assert_memory_equal (pl_reply_str (reply, &len), "a\0b", 3);
    assert_int_equal (len, 3);
    assert_int_equal (pl_reply_int (reply), 0);
    assert_int_equal (pl_reply_len (reply), 0);
    assert_null (pl_reply_element (reply, 0));
    pl_reply_free (&reply);
    pl_reply_free (&reply);                 /* safe twice */

    reply = pl_redis_command (r, "GET pl:{t}:absent");
    assert_int_equal (pl_reply_type (reply), PL_REPLY_NIL);
    assert_null (pl_reply_str (reply, &len));
    assert_int_equal (len, 0);
    pl_reply_free (&reply);

    reply = pl_redis_command (r, "PING");
    assert_int_equal (pl_reply_type (reply), PL_REPLY_STATUS);
    assert_string_equal (pl_reply_str (reply, NULL), "PONG");
    pl_reply_free (&reply);

    const char *argv[] = { "RPUSH", "pl:{t}:l", "x", "yy" };
    reply = pl_redis_commandv (r, 4, argv, NULL);
    assert_int_equal (pl_reply_type (reply), PL_REPLY_INTEGER);
    assert_int_equal (pl_reply_int (reply), 2);
    pl_reply_free (&reply);
    reply = pl_redis_command (r, "LRANGE pl:{t}:l 0 -1");
    assert_int_equal (pl_reply_type (reply), PL_REPLY_ARRAY);
    assert_int_equal (pl_reply_len (reply), 2);
    assert_string_equal (pl_reply_str (pl_reply_element (reply, 1), &len), "yy");
    assert_int_equal (len, 2);
    assert_null (pl_reply_element (reply, 2));
    pl_reply_free (&reply);

    /* An error reply is a reply: the caller reads it, or the helpers turn it into PL_EREDIS. */
    reply = pl_redis_command (r, "INCR pl:{t}:l");
    assert_int_equal (pl_reply_type (reply), PL_REPLY_ERROR);
    assert_non_null (strstr (pl_reply_str (reply, NULL), "WRONGTYPE"));
    pl_reply_free (&reply);
    assert_int_equal (pl_redis_exec (r, "INCR pl:{t}:l"), PL_EREDIS);
    assert_non_null (strstr (pl_redis_errstr (r), "WRONGTYPE"));
    assert_true (pl_redis_ok (r));          /* the connection is fine */

    /* A pipeline that must all succeed: every reply is read even after an error. */
    assert_int_equal (pl_redis_append (r, "SET pl:{t}:n 1"), 0);
    assert_int_equal (pl_redis_append (r, "INCR pl:{t}:l"), 0);
    assert_int_equal (pl_redis_append (r, "INCR pl:{t}:n"), 0);
    assert_int_equal (pl_redis_drain (r, 3), PL_EREDIS);
    assert_int_equal (pl_redis_pending (r), 0);
    assert_int_equal (pl_test_redis_int (srv, "GET pl:{t}:n"), 2);
    assert_int_equal (pl_redis_append (r, "INCR pl:{t}:n"), 0);
    assert_int_equal (pl_redis_drain (r, 1), 0);
    pl_redis_destroy (&r);
}

static void
test_outage_fails_fast_then_recovers_without_restart (void **state)
{
    pl_test_redis_t *srv = *state;
    pl_redis_t *r = pl_redis_new (pl_test_redis_url (srv), 500);
    pl_redis_script_t *s = pl_redis_script_new ("return 7");
    pl_reply_t *reply = pl_redis_eval (r, s, 0, 0, NULL, NULL);
    assert_non_null (reply);
    pl_reply_free (&reply);
    uint64_t gen = pl_redis_generation (r);

    assert_int_equal (pl_test_redis_kill (srv), 0);
    assert_int_equal (pl_redis_ping (r), PL_EREDIS);
    assert_false (pl_redis_ok (r));
    assert_non_null (strstr (pl_redis_errstr (r), "redis:"));
    assert_null (pl_redis_command (r, "GET x"));

    assert_int_equal (pl_test_redis_restart (srv), 0);
    /* Backoff is at most 5 s: within 10 s the connection is back. */
    bool back = false;
    for (int i = 0; i < 100 && !back; i++) {
        back = pl_redis_ping (r) == 0;
        if (!back)
            usleep (100000);
    }
    assert_true (back);
    assert_true (pl_redis_ok (r));
    assert_true (pl_redis_generation (r) > gen);
    /* The restarted server has no scripts: the script is loaded again. */
    reply = pl_redis_eval (r, s, 0, 0, NULL, NULL);
    assert_non_null (reply);
    assert_int_equal (pl_reply_int (reply), 7);
    pl_reply_free (&reply);
    pl_redis_script_destroy (&s);
    pl_redis_destroy (&r);
}

static int setup (void **state) { *state = pl_test_redis_start (NULL); return *state ? 0 : -1; }
static int teardown (void **state) { pl_test_redis_t *s = *state; pl_test_redis_stop (&s); return 0; }

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_url_forms_are_checked_with_a_reason),
        cmocka_unit_test_setup_teardown (test_commands_pipelines_and_scripts_work, setup, teardown),
        cmocka_unit_test_setup_teardown (test_replies_read_as_plateau_types_without_copies, setup, teardown),
        cmocka_unit_test_setup_teardown (test_outage_fails_fast_then_recovers_without_restart, setup, teardown),
    };
    return cmocka_run_group_tests_name ("redis", tests, NULL, NULL);
}
