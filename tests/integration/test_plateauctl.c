/*  test_plateauctl.c — the operator's command line as a process, against real services: `clock`
 *  moves the virtual clock of running services (and leaves nothing in Redis), refuses to move
 *  it backwards, gives up on a target that never answers; `keygen` writes a usable key pair;
 *  usage errors exit 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>
#include "pl_test.h"
#include "plateau/clock.h"

#define START_MS 1764403200000LL         /* 2025-11-29T08:00:00Z */
#define DAY_MS 86400000LL

typedef struct {
    pid_t pid;
    int ops_port;
    char bus[64];
    char to[80];               /* template@<bus>: plateauctl names its target (CURVE) */
    char log[512];
} svc_t;

typedef struct {
    pl_test_redis_t *srv;
    char *dir;
    char out[512];             /* plateauctl's stdout and stderr */
    svc_t svc[2];
} fx_t;

static int s_ready_port;
static bool
s_ready (void *arg)
{
    return pl_test_http_get (s_ready_port, "/readyz", NULL) == 200;
}

/* Starts plateau-template on a virtual clock standing at START_MS. */
static void
s_start_service (fx_t *f, svc_t *s, const char *name)
{
    s->ops_port = pl_test_free_port ();
    snprintf (s->bus, sizeof s->bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
    snprintf (s->to, sizeof s->to, "template@%s", s->bus);
    snprintf (s->log, sizeof s->log, "%s/%s.log", f->dir, name);
    static char env[6][256];
    snprintf (env[0], sizeof env[0], "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
    snprintf (env[1], sizeof env[1], "PLATEAU_OPS_PORT=%d", s->ops_port);
    snprintf (env[2], sizeof env[2], "PLATEAU_OPS_ADDR=127.0.0.1");
    snprintf (env[3], sizeof env[3], "PLATEAU_BUS_BIND=%s", s->bus);
    snprintf (env[4], sizeof env[4], "PLATEAU_CLOCK=virtual:%lld", START_MS);
    snprintf (env[5], sizeof env[5], "PLATEAU_REPLICA_ID=%s", name);
    char *envp[] = { env[0], env[1], env[2], env[3], env[4], env[5], NULL };
    char *argv[] = { "plateau-template", NULL };
    s->pid = pl_test_spawn (argv, envp, s->log);
    assert_true (s->pid > 0);
    s_ready_port = s->ops_port;
    assert_true (pl_test_wait_until (s_ready, NULL, 10000));
}

/* Runs plateauctl with argv (NULL-terminated, without the program name); returns its exit
 * status. Output goes to f->out, emptied first. */
static int
s_ctl (fx_t *f, const char *arg0, ...)
{
    char *argv[32] = { "plateauctl" };
    int n = 1;
    va_list ap;
    va_start (ap, arg0);
    for (const char *a = arg0; a && n < 31; a = va_arg (ap, const char *))
        argv[n++] = (char *) a;
    va_end (ap);
    argv[n] = NULL;
    unlink (f->out);
    pid_t pid = pl_test_spawn (argv, NULL, f->out);
    int status = pl_test_stop (pid, 0, 60000);     /* signal 0: just wait */
    assert_true (status >= 0 && WIFEXITED (status));
    return WEXITSTATUS (status);
}

/* Keys plateauctl's outboxes left in Redis (there should be none). */
static long long
s_outbox_keys (fx_t *f)
{
    return pl_test_redis_int (f->srv, "EVAL %s 0", "return #redis.call('KEYS', 'pl:{ob:plateauctl*')");
}

static void
test_clock_advance_moves_every_target (void **state)
{
    fx_t *f = *state;
    s_start_service (f, &f->svc[0], "one");
    s_start_service (f, &f->svc[1], "two");
    assert_int_equal (s_ctl (f, "clock", "advance", "7d", "--to", f->svc[0].to, "--to", f->svc[1].to, NULL), 0);
    char want[64];
    snprintf (want, sizeof want, "\"now_ms\":\"%lld\"", START_MS + 7 * DAY_MS);
    for (int i = 0; i < 2; i++) {
        assert_true (pl_test_file_has (f->svc[i].log, "virtual clock moved"));
        assert_true (pl_test_file_has (f->svc[i].log, want));
    }
    assert_true (pl_test_file_has (f->out, " ack: clock advanced by 7d"));
    assert_int_equal (s_outbox_keys (f), 0);
}

static void
test_clock_set_goes_forward_and_never_back (void **state)
{
    fx_t *f = *state;
    s_start_service (f, &f->svc[0], "one");
    /* Forward, in ISO-8601 with an offset: 2025-12-01T10:30:00+01:00 = 09:30Z. */
    assert_int_equal (s_ctl (f, "clock", "set", "2025-12-01T10:30:00+01:00", "--to", f->svc[0].to, NULL), 0);
    assert_true (pl_test_file_has (f->svc[0].log, "\"now_ms\":\"1764581400000\""));
    assert_true (pl_test_file_has (f->out, "2025-12-01T09:30:00.000Z"));

    /* Back to an earlier time, in UTC milliseconds: refused with the service's reason. */
    char earlier[32];
    snprintf (earlier, sizeof earlier, "%lld", START_MS);
    assert_int_equal (s_ctl (f, "clock", "set", earlier, "--to", f->svc[0].to, NULL), 1);
    assert_true (pl_test_file_has (f->out, "refused: INVALID: virtual time never goes backwards"));
    assert_int_equal (s_outbox_keys (f), 0);       /* no dead letter left behind */
}

static void
test_clock_gives_up_on_a_silent_target (void **state)
{
    fx_t *f = *state;
    char nobody[64];
    snprintf (nobody, sizeof nobody, "template@tcp://127.0.0.1:%d", pl_test_free_port ());
    assert_int_equal (s_ctl (f, "clock", "advance", "1h", "--to", nobody, "--timeout", "300ms", NULL), 1);
    assert_true (pl_test_file_has (f->out, "no answer within 300 ms"));
    assert_int_equal (s_outbox_keys (f), 0);       /* nobody would ever resend it */
}

static void
s_check_key_file (const char *path, mode_t mode)
{
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, mode);
    FILE *fp = fopen (path, "r");
    assert_non_null (fp);
    char line[128] = "";
    assert_non_null (fgets (line, sizeof line, fp));
    fclose (fp);
    line[strcspn (line, "\n")] = '\0';
    assert_int_equal (strlen (line), 40);
    uint8_t bin[32];
    assert_non_null (zmq_z85_decode (bin, line));
}

static void
test_keygen_writes_a_key_pair_with_a_private_secret (void **state)
{
    fx_t *f = *state;
    char dir[600], pub[700], key[700];
    snprintf (dir, sizeof dir, "%s/keys/bus", f->dir);
    snprintf (pub, sizeof pub, "%s/intake.pub", dir);
    snprintf (key, sizeof key, "%s/intake.key", dir);
    assert_int_equal (s_ctl (f, "keygen", "intake", "--dir", dir, NULL), 0);
    s_check_key_file (pub, 0644);
    s_check_key_file (key, 0600);
    /* An existing pair is kept unless --force. */
    assert_int_equal (s_ctl (f, "keygen", "intake", "--dir", dir, NULL), 1);
    assert_true (pl_test_file_has (f->out, "exists already"));
    assert_int_equal (s_ctl (f, "keygen", "intake", "--dir", dir, "--force", NULL), 0);
    s_check_key_file (key, 0600);
}

static void
test_usage_errors_exit_2 (void **state)
{
    fx_t *f = *state;
    const char *to = "template@tcp://127.0.0.1:5999";
    assert_int_equal (s_ctl (f, NULL), 2);
    assert_int_equal (s_ctl (f, "frobnicate", NULL), 2);
    assert_int_equal (s_ctl (f, "clock", NULL), 2);
    assert_int_equal (s_ctl (f, "clock", "rewind", "1h", "--to", to, NULL), 2);
    assert_int_equal (s_ctl (f, "clock", "advance", "7d", NULL), 2);                  /* no --to */
    assert_int_equal (s_ctl (f, "clock", "advance", "soon", "--to", to, NULL), 2);
    assert_int_equal (s_ctl (f, "clock", "advance", "0", "--to", to, NULL), 2);
    assert_int_equal (s_ctl (f, "clock", "set", "yesterday", "--to", to, NULL), 2);
    assert_int_equal (s_ctl (f, "clock", "set", "2025-11-29T08:00:00", "--to", to, NULL), 2); /* no zone */
    assert_int_equal (s_ctl (f, "clock", "set", "2025-02-30T08:00:00Z", "--to", to, NULL), 2);
    assert_int_equal (s_ctl (f, "clock", "advance", "1h", "--to", "localhost:5999", NULL), 2);
    /* The bus runs CURVE: a bare endpoint does not say whose key to expect. */
    assert_int_equal (s_ctl (f, "clock", "advance", "1h", "--to", "tcp://127.0.0.1:5999", NULL), 2);
    assert_true (pl_test_file_has (f->out, "name the service"));
    assert_int_equal (s_ctl (f, "clock", "advance", "1h", "--to", to, "--redis", "localhost", NULL), 2);
    assert_int_equal (s_ctl (f, "clock", "advance", "1h", "--to", to, NULL), 2);      /* no Redis */
    assert_true (pl_test_file_has (f->out, "PLATEAU_REDIS_URL"));
    assert_int_equal (s_ctl (f, "keygen", NULL), 2);
    assert_int_equal (s_ctl (f, "keygen", "a/b", NULL), 2);
    assert_int_equal (s_ctl (f, "clock", "--bogus", NULL), 2);
    /* Help is not an error. */
    assert_int_equal (s_ctl (f, "help", NULL), 0);
    assert_true (pl_test_file_has (f->out, "keygen"));
    assert_int_equal (s_ctl (f, "help", "clock", NULL), 0);
    assert_int_equal (s_ctl (f, "clock", "--help", NULL), 0);
    assert_true (pl_test_file_has (f->out, "usage: plateauctl clock set"));
    assert_int_equal (s_ctl (f, "keygen", "--help", NULL), 0);
    assert_true (pl_test_file_has (f->out, "usage: plateauctl keygen"));
}

static int
setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    f->srv = pl_test_redis_start (NULL);
    if (!f->srv)
        return -1;
    f->dir = pl_test_tmpdir ("pl-ctl");
    snprintf (f->out, sizeof f->out, "%s/plateauctl.out", f->dir);
    /* Each test says where Redis is, or that it is nowhere. */
    setenv ("PLATEAU_REDIS_URL", pl_test_redis_url (f->srv), 1);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fx_t *f = *state;
    for (int i = 0; i < 2; i++)
        if (f->svc[i].pid > 0)
            pl_test_stop (f->svc[i].pid, SIGKILL, 2000);
    pl_test_redis_stop (&f->srv);
    pl_test_rmdir (f->dir);
    free (f->dir);
    free (f);
    return 0;
}

static int
setup_no_redis (void **state)
{
    int rc = setup (state);
    unsetenv ("PLATEAU_REDIS_URL");
    return rc;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_clock_advance_moves_every_target, setup, teardown),
        cmocka_unit_test_setup_teardown (test_clock_set_goes_forward_and_never_back, setup, teardown),
        cmocka_unit_test_setup_teardown (test_clock_gives_up_on_a_silent_target, setup, teardown),
        cmocka_unit_test_setup_teardown (test_keygen_writes_a_key_pair_with_a_private_secret, setup, teardown),
        cmocka_unit_test_setup_teardown (test_usage_errors_exit_2, setup_no_redis, teardown),
    };
    return cmocka_run_group_tests_name ("plateauctl", tests, NULL, NULL);
}
