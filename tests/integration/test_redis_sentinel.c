/*  test_redis_sentinel.c — a pl_redis following a Sentinel failover, against real processes:
 *  a master, one replica and three sentinels on loopback (quorum 2). Writes acknowledged with
 *  WAIT 1 must survive a SIGKILL of the master, the same pl_redis_t must write again on the
 *  promoted replica within a bound, and a node that is no longer master must not take writes.
 *  Every process is killed in teardown (and with the test process: PR_SET_PDEATHSIG).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "pl_test.h"
#include "plateau/clock.h"
#include "plateau/error.h"
#include "plateau/inbox.h"
#include "plateau/redis.h"

#define S_SENTINELS 3
#define S_FOLLOW_BOUND_MS 15000

typedef struct {
    char *dir;
    int master_port, replica_port, sentinel_port[S_SENTINELS];
    pid_t master, replica, sentinel[S_SENTINELS];
    char url[256];
} fx_t;

static void
test_sentinel_url_forms_are_checked_with_a_reason (void **state)
{
    (void) state;
    char err[256];
    assert_int_equal (pl_redis_url_check ("redis+sentinel://10.0.0.1:26379,10.0.0.2:26380,s3/mymaster", err, sizeof err), 0);
    assert_int_equal (pl_redis_url_check ("redis+sentinel://:pw@s1:26379/mymaster/3", err, sizeof err), 0);
    assert_int_equal (pl_redis_url_check ("redis+sentinel://s1/m/", err, sizeof err), 0);
    struct { const char *url, *why; } bad[] = {
        { "redis+sentinel://s1:26379", "no /master name" },
        { "redis+sentinel:///mymaster", "no sentinel address" },
        { "redis+sentinel://s1:26379/", "missing master name" },
        { "redis+sentinel://s1:0/m", "sentinel port must be 1-65535" },
        { "redis+sentinel://s1:26379x/m", "sentinel port must be 1-65535" },
        { "redis+sentinel://s1,,s2/m", "empty sentinel host" },
        { "redis+sentinel://s1,/m", "empty sentinel address after ','" },
        { "redis+sentinel://s1/m/16", "database must be 0-15" },
        { "redis+sentinel://s1/m/x", "database must be 0-15" },
        { "redis+sentinel://pw@s1/m", "credentials must be ':password@'" },
        { "redis+sentinel://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q/m", "more than 16 sentinels" },
        { "sentinel://s1/m", "redis+sentinel://" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal (pl_redis_url_check (bad[i].url, err, sizeof err), PL_EINVAL);
        if (!strstr (err, bad[i].why))
            fail_msg ("%s: expected '%s' in '%s'", bad[i].url, bad[i].why, err);
    }
    assert_null (pl_redis_new ("redis+sentinel://s1:26379", 100));
    /* The plain form is untouched. */
    assert_int_equal (pl_redis_url_check ("redis://:s3cret@redis.plateau:6380/2", err, sizeof err), 0);
}

/* ---- the cluster ------------------------------------------------------------------------- */

static pid_t
s_spawn (fx_t *f, const char *name, int port, const char *conf_text, bool sentinel)
{
    char conf[600], log[600], p[16];
    snprintf (conf, sizeof conf, "%s/%s.conf", f->dir, name);
    snprintf (log, sizeof log, "%s/%s.log", f->dir, name);
    snprintf (p, sizeof p, "%d", port);
    FILE *fp = fopen (conf, "w");
    if (!fp)
        return -1;
    fprintf (fp, "port %d\nbind 127.0.0.1\ndaemonize no\nsave \"\"\nappendonly no\n%s", port, conf_text);
    fclose (fp);
    char *argv[] = { "/usr/bin/redis-server", conf, sentinel ? "--sentinel" : NULL, NULL };
    return pl_test_spawn (argv, NULL, log);
}

/* One command on a plain connection to 127.0.0.1:port (NULL when unreachable). */
static pl_reply_t *
s_cmd (int port, const char *fmt, ...)
{
    char url[64];
    snprintf (url, sizeof url, "redis://127.0.0.1:%d/0", port);
    pl_redis_t *r = pl_redis_new (url, 500);
    va_list ap;
    va_start (ap, fmt);
    pl_reply_t *reply = r ? pl_redis_vcommand (r, fmt, ap) : NULL;
    va_end (ap);
    pl_redis_destroy (&r);
    return reply;
}

static bool
s_reply_has (pl_reply_t *reply, const char *needle)
{
    const char *s = reply ? pl_reply_str (reply, NULL) : NULL;
    bool has = s && strstr (s, needle);
    pl_reply_free (&reply);
    return has;
}

static long long
s_array_len (pl_reply_t *reply)
{
    long long n = reply && pl_reply_type (reply) == PL_REPLY_ARRAY ? (long long) pl_reply_len (reply) : -1;
    pl_reply_free (&reply);
    return n;
}

static bool
s_replica_synced (void *arg)
{
    fx_t *f = arg;
    return s_reply_has (s_cmd (f->replica_port, "INFO replication"), "master_link_status:up");
}

/* Every sentinel knows the replica and the two other sentinels: a failover can start. */
static bool
s_sentinels_ready (void *arg)
{
    fx_t *f = arg;
    for (int i = 0; i < S_SENTINELS; i++)
        if (s_array_len (s_cmd (f->sentinel_port[i], "SENTINEL sentinels mymaster")) != S_SENTINELS - 1
            || s_array_len (s_cmd (f->sentinel_port[i], "SENTINEL replicas mymaster")) != 1)
            return false;
    return true;
}

static int
teardown (void **state)
{
    fx_t *f = *state;
    if (!f)
        return 0;
    if (f->master > 0)
        pl_test_stop (f->master, SIGKILL, 2000);
    if (f->replica > 0)
        pl_test_stop (f->replica, SIGKILL, 2000);
    for (int i = 0; i < S_SENTINELS; i++)
        if (f->sentinel[i] > 0)
            pl_test_stop (f->sentinel[i], SIGKILL, 2000);
    if (f->dir)
        pl_test_rmdir (f->dir);
    free (f->dir);
    free (f);
    *state = NULL;
    return 0;
}

static int
setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    *state = f;
    f->dir = pl_test_tmpdir ("pl-sentinel");
    f->master_port = pl_test_free_port ();
    f->replica_port = pl_test_free_port ();
    char conf[600];
    snprintf (conf, sizeof conf, "dir %s\ndbfilename master.rdb\n", f->dir);
    f->master = s_spawn (f, "master", f->master_port, conf, false);
    snprintf (conf, sizeof conf, "dir %s\ndbfilename replica.rdb\nreplicaof 127.0.0.1 %d\n", f->dir,
              f->master_port);
    f->replica = s_spawn (f, "replica", f->replica_port, conf, false);
    if (f->master < 0 || f->replica < 0 || !pl_test_wait_until (s_replica_synced, f, 10000)) {
        fprintf (stderr, "sentinel test: master/replica did not sync (logs in %s)\n", f->dir);
        return -1;
    }
    /* A dead address first: the kit must go on to the next sentinel. */
    int n = snprintf (f->url, sizeof f->url, "redis+sentinel://127.0.0.1:%d", pl_test_free_port ());
    for (int i = 0; i < S_SENTINELS; i++) {
        f->sentinel_port[i] = pl_test_free_port ();
        char name[32];
        snprintf (name, sizeof name, "sentinel%d", i);
        snprintf (conf, sizeof conf,
                  "dir %s\nsentinel monitor mymaster 127.0.0.1 %d 2\n"
                  "sentinel down-after-milliseconds mymaster 500\n"
                  "sentinel failover-timeout mymaster 2000\n"
                  "sentinel parallel-syncs mymaster 1\n", f->dir, f->master_port);
        f->sentinel[i] = s_spawn (f, name, f->sentinel_port[i], conf, true);
        n += snprintf (f->url + n, sizeof f->url - (size_t) n, ",127.0.0.1:%d", f->sentinel_port[i]);
    }
    snprintf (f->url + n, sizeof f->url - (size_t) n, "/mymaster/0");
    if (!pl_test_wait_until (s_sentinels_ready, f, 20000)) {
        fprintf (stderr, "sentinel test: sentinels did not find each other (logs in %s)\n", f->dir);
        return -1;
    }
    return 0;
}

/* The port of the node r is connected to, asked through r (-1 on failure). */
static int
s_node_port (pl_redis_t *r)
{
    pl_reply_t *reply = pl_redis_command (r, "CONFIG GET port");
    pl_reply_t *v = reply ? pl_reply_element (reply, 1) : NULL;
    int port = v && pl_reply_str (v, NULL) ? atoi (pl_reply_str (v, NULL)) : -1;
    pl_reply_free (&reply);
    return port;
}

static int
s_apply_set (pl_inbox_t *inbox, int i, int *result)
{
    char id[32], key[64];
    snprintf (id, sizeof id, "msg-%d", i);
    snprintf (key, sizeof key, "pl:{s}:acked:%d", i);
    pl_inbox_tx_t *tx = pl_inbox_tx_new ("s", id);
    pl_inbox_tx_cmdl (tx, "SET", key, "v", NULL);
    int rc = pl_inbox_apply (inbox, &tx, 1, result);
    pl_inbox_tx_destroy (&tx);
    return rc;
}

static void
test_client_follows_a_failover_and_keeps_waited_writes (void **state)
{
    fx_t *f = *state;
    pl_redis_t *r = pl_redis_new (f->url, 500);
    assert_non_null (r);
    pl_redis_set_wait (r, 1, 1000);
    assert_int_equal (pl_redis_ping (r), 0);
    assert_int_equal (s_node_port (r), f->master_port);

    /* Plain writes, then steps acknowledged with WAIT 1. */
    for (int i = 0; i < 50; i++)
        assert_int_equal (pl_redis_exec (r, "SET pl:{s}:plain:%d %d", i, i), 0);
    pl_inbox_t *inbox = pl_inbox_new (r, "sentinel-test", 0);
    int acked = 0;
    for (int i = 0; i < 20; i++) {
        int res = 0;
        assert_int_equal (s_apply_set (inbox, i, &res), 0);
        assert_int_equal (res, 1);
        acked++;
    }
    /* WAIT for more replicas than exist: the step is not acknowledged, and says why. */
    pl_redis_set_wait (r, 2, 200);
    int res = 0;
    assert_int_equal (s_apply_set (inbox, 999, &res), PL_EREDIS);
    assert_int_equal (res, -1);
    assert_non_null (strstr (pl_inbox_errstr (inbox), "WAIT: 1 of 2 replicas"));
    pl_redis_set_wait (r, 1, 1000);

    /* The master dies without a word. */
    uint64_t gen = pl_redis_generation (r);
    pl_test_stop (f->master, SIGKILL, 2000);
    f->master = 0;
    int64_t t0 = pl_clock_mono_ms ();
    bool back = false;
    int failed_calls = 0;
    while (!back && pl_clock_mono_ms () - t0 < S_FOLLOW_BOUND_MS) {
        back = pl_redis_exec (r, "SET pl:{s}:after 1") == 0;
        if (!back) {
            failed_calls++;
            usleep (50000);
        }
    }
    int64_t took = pl_clock_mono_ms () - t0;
    print_message ("failover followed in %lld ms (%d failed calls; last error: %s)\n", (long long) took,
                   failed_calls, pl_redis_errstr (r));
    assert_true (back);
    assert_true (pl_redis_generation (r) > gen);
    assert_int_equal (s_node_port (r), f->replica_port);

    /* Every step acknowledged with WAIT 1 is on the new master. */
    for (int i = 0; i < acked; i++) {
        pl_reply_t *reply = pl_redis_command (r, "EXISTS pl:{s}:acked:%d", i);
        assert_non_null (reply);
        if (pl_reply_int (reply) != 1)
            fail_msg ("acknowledged step %d lost in the failover", i);
        pl_reply_free (&reply);
        char id[32];
        snprintf (id, sizeof id, "msg-%d", i);
        assert_int_equal (pl_inbox_seen (inbox, "s", id), 1);
    }
    /* A redelivery is still a duplicate (WAIT off: the new master has no replica left). */
    pl_redis_set_wait (r, 0, 0);
    assert_int_equal (s_apply_set (inbox, 3, &res), 0);
    assert_int_equal (res, 0);

    /* The new master is demoted behind the sentinels' back: the write is refused, and the kit
     * does not reconnect to it while it says ROLE slave. */
    pl_reply_t *reply = s_cmd (f->replica_port, "REPLICAOF 127.0.0.1 %d", f->master_port);
    assert_non_null (reply);
    pl_reply_free (&reply);
    assert_int_equal (s_apply_set (inbox, 100, &res), PL_EREDIS);
    assert_int_not_equal (res, 1);
    print_message ("step on the demoted node: %s\n", pl_inbox_errstr (inbox));
    assert_int_equal (pl_redis_exec (r, "SET pl:{s}:demoted 1"), PL_EREDIS);
    bool refused = false;
    for (int i = 0; i < 40 && !refused; i++) {
        refused = pl_redis_exec (r, "SET pl:{s}:demoted 1") == PL_EREDIS && strstr (pl_redis_errstr (r), "ROLE slave");
        if (!refused)
            usleep (50000);
    }
    if (!refused)
        fail_msg ("expected a refusal naming ROLE slave, got: %s", pl_redis_errstr (r));
    reply = s_cmd (f->replica_port, "EXISTS pl:{s}:demoted");
    assert_int_equal (pl_reply_int (reply), 0);
    pl_reply_free (&reply);
    /* Promoted back: the same client writes again. */
    reply = s_cmd (f->replica_port, "REPLICAOF NO ONE");
    pl_reply_free (&reply);
    back = false;
    for (int i = 0; i < 100 && !back; i++) {
        back = pl_redis_exec (r, "SET pl:{s}:demoted 2") == 0;
        if (!back)
            usleep (50000);
    }
    assert_true (back);

    pl_inbox_destroy (&inbox);
    pl_redis_destroy (&r);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_sentinel_url_forms_are_checked_with_a_reason),
        cmocka_unit_test_setup_teardown (test_client_follows_a_failover_and_keeps_waited_writes, setup, teardown),
    };
    return cmocka_run_group_tests_name ("redis_sentinel", tests, NULL, NULL);
}
