/*  test_bus_crash.c — 100,000 messages survive SIGKILLs of the receiver (twice) and the sender
 *  (once): every message is applied exactly once and the outbox ends empty.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "pl_test.h"

#define COUNT 100000

typedef struct {
    pl_test_redis_t *redis;
    char endpoint[64];
    char bind[64];
    char log[512];
    char *dir;
} fixture_t;

static long long
s_total (fixture_t *f)
{
    return pl_test_redis_int (f->redis, "GET pl:{probe}:total");
}

typedef struct {
    fixture_t *f;
    long long at_least;
} wait_t;

static bool
s_total_reached (void *arg)
{
    wait_t *w = arg;
    return s_total (w->f) >= w->at_least;
}

static pid_t
s_start_recv (fixture_t *f)
{
    char *argv[] = { "bus_probe", "recv", (char *) pl_test_redis_url (f->redis), f->bind, NULL };
    return pl_test_spawn (argv, NULL, f->log);
}

static pid_t
s_start_send (fixture_t *f)
{
    char count[16];
    snprintf (count, sizeof count, "%d", COUNT);
    char *argv[] = { "bus_probe", "send", (char *) pl_test_redis_url (f->redis), f->endpoint, count, "200", NULL };
    return pl_test_spawn (argv, NULL, f->log);
}

static void
test_messages_survive_kills_and_apply_exactly_once (void **state)
{
    fixture_t *f = *state;
    pid_t recv = s_start_recv (f);
    pid_t send = s_start_send (f);
    assert_true (recv > 0 && send > 0);

    /* Receiver killed mid-stream, twice; sender killed once. */
    wait_t w = { f, 15000 };
    assert_true (pl_test_wait_until (s_total_reached, &w, 60000));
    pl_test_stop (recv, SIGKILL, 2000);
    recv = s_start_recv (f);

    w.at_least = 40000;
    assert_true (pl_test_wait_until (s_total_reached, &w, 60000));
    pl_test_stop (send, SIGKILL, 2000);
    send = s_start_send (f);

    w.at_least = 65000;
    assert_true (pl_test_wait_until (s_total_reached, &w, 60000));
    pl_test_stop (recv, SIGKILL, 2000);
    recv = s_start_recv (f);

    /* The sender exits by itself once everything is acknowledged. */
    int status = -1;
    for (int i = 0; i < 1200 && waitpid (send, &status, WNOHANG) == 0; i++)
        usleep (100000);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    pl_test_stop (recv, SIGTERM, 5000);

    assert_int_equal (s_total (f), COUNT);
    assert_int_equal (pl_test_redis_int (f->redis, "HLEN pl:{probe}:applied"), COUNT);
    /* No sequence number applied twice. */
    assert_int_equal (pl_test_redis_int (f->redis,
        "EVAL %s 1 pl:{probe}:applied",
        "local n = 0 for _, v in ipairs(redis.call('HVALS', KEYS[1])) do if v ~= '1' then n = n + 1 end end return n"), 0);
    assert_int_equal (pl_test_redis_int (f->redis, "HLEN pl:{ob:probe-sender:probe-receiver}:msg"), 0);
}

static int
setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    f->redis = pl_test_redis_start (NULL);
    if (!f->redis)
        return -1;
    int port = pl_test_free_port ();
    snprintf (f->endpoint, sizeof f->endpoint, "tcp://127.0.0.1:%d", port);
    snprintf (f->bind, sizeof f->bind, "tcp://127.0.0.1:%d", port);
    f->dir = pl_test_tmpdir ("pl-bus-crash");
    snprintf (f->log, sizeof f->log, "%s/probe.log", f->dir);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *f = *state;
    pl_test_redis_stop (&f->redis);
    pl_test_rmdir (f->dir);
    free (f->dir);
    free (f);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_messages_survive_kills_and_apply_exactly_once, setup, teardown),
    };
    return cmocka_run_group_tests_name ("bus_crash", tests, NULL, NULL);
}
