/*  test_template.c — the template service as a process: configuration errors exit 2 naming the
 *  variable; messages are applied once and audited; /readyz follows Redis; SIGTERM drains.
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
#include "plateau/bus.h"

typedef struct {
    pl_test_redis_t *srv;
    pl_redis_t *redis;
    char *dir;
    char log[512];
    char env[8][256];
    int ops_port;
    char bus[64];
    char audit_bus[64];
    pl_bus_server_t *audit;    /* stands in for the audit service */
    int audited;
    pid_t pid;
} fx_t;

static void
s_audit_handler (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    fx_t *f = arg;
    for (size_t i = 0; i < n; i++) {
        f->audited++;
        pl_bus_msg_ack (msgs[i]);
    }
}

static pid_t
s_start (fx_t *f, const char *extra)
{
    char *envp[10];
    int k = 0;
    snprintf (f->env[0], sizeof f->env[0], "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
    snprintf (f->env[1], sizeof f->env[1], "PLATEAU_OPS_PORT=%d", f->ops_port);
    snprintf (f->env[2], sizeof f->env[2], "PLATEAU_BUS_BIND=%s", f->bus);
    snprintf (f->env[3], sizeof f->env[3], "PLATEAU_AUDIT_BUS=%s", f->audit_bus);
    snprintf (f->env[4], sizeof f->env[4], "PLATEAU_OPS_ADDR=127.0.0.1");
    snprintf (f->env[5], sizeof f->env[5], "%s", extra ? extra : "PLATEAU_LOG_LEVEL=info");
    for (; k < 6; k++)
        envp[k] = f->env[k];
    envp[k] = NULL;
    char *argv[] = { "plateau-template", NULL };
    pid_t pid = pl_test_spawn (argv, envp, f->log);
    /* Its own "started" line: a /readyz 200 alone could come from another process that took
     * the port picked for this one. */
    assert_true (pl_test_wait_started (pid, f->log, 10000));
    return pid;
}

static int s_ops_port;
static bool
s_ready (void *arg)
{
    return pl_test_http_get (s_ops_port, "/readyz", NULL) == (int) (intptr_t) arg;
}

static void
test_bad_configuration_exits_2_naming_the_variable (void **state)
{
    fx_t *f = *state;
    char *envp[] = { "PLATEAU_REDIS_URL=localhost:6379", NULL };
    char *argv[] = { "plateau-template", NULL };
    unsetenv ("PLATEAU_REDIS_URL");
    pid_t pid = pl_test_spawn (argv, envp, f->log);
    int status;
    waitpid (pid, &status, 0);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 2);
    assert_true (pl_test_file_has (f->log, "PLATEAU_REDIS_URL"));

    char *envp2[] = { "PLATEAU_REDIS_URL=redis://127.0.0.1:1/0", "PLATEAU_GRACE_PERIOD=soon", NULL };
    pid = pl_test_spawn (argv, envp2, f->log);
    waitpid (pid, &status, 0);
    assert_int_equal (WEXITSTATUS (status), 2);
    assert_true (pl_test_file_has (f->log, "PLATEAU_GRACE_PERIOD"));
}

typedef struct { fx_t *f; int want; } count_wait_t;
static bool
s_counted (void *arg)
{
    count_wait_t *w = arg;
    return pl_test_redis_int (w->f->srv, "GET pl:{campaign:spring}:template:leads") == w->want;
}

static void
test_leads_are_counted_once_and_audited (void **state)
{
    fx_t *f = *state;
    f->pid = s_start (f, NULL);
    s_ops_port = f->ops_port;
    assert_true (pl_test_wait_until (s_ready, (void *) (intptr_t) 200, 10000));

    char err[256];
    pl_bus_client_t *c = pl_bus_client_new (f->redis, NULL, "test", "template", f->bus,
                                            pl_test_bus_options ("intake"), err, sizeof err);
    pl_envelope_t env[3], *p[3];
    pl_envelope_ids_t ids[3];
    Plateau__V1__LeadSubmitted ls[3];
    Plateau__V1__Lead lead[3];
    for (int i = 0; i < 3; i++) {
        pl_envelope_init (&env[i], &ids[i], "test", NULL, NULL);
        plateau__v1__lead_submitted__init (&ls[i]);
        plateau__v1__lead__init (&lead[i]);
        lead[i].id = "L";
        lead[i].campaign = "spring";
        ls[i].lead = &lead[i];
        env[i].body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD_SUBMITTED;
        env[i].lead_submitted = &ls[i];
        p[i] = &env[i];
    }
    strcpy (ids[2].id, ids[1].id);     /* a redelivery of the second message */
    assert_int_equal (pl_bus_client_send (c, p, 2), 0);
    pl_bus_client_t *c2 = pl_bus_client_new (f->redis, NULL, "test2", "template", f->bus,
                                             pl_test_bus_options ("intake"), err, sizeof err);
    assert_int_equal (pl_bus_client_send (c2, &p[2], 1), 0);
    int64_t end = pl_clock_mono_ms () + 10000;
    while (pl_clock_mono_ms () < end && (pl_bus_client_inflight (c) || pl_bus_client_inflight (c2) || f->audited < 3)) {
        usleep (10000);
        pl_bus_client_process (c);
        pl_bus_client_process (c2);
        pl_bus_client_tick (c);
        pl_bus_client_tick (c2);
        pl_bus_server_process (f->audit, 64);
    }
    count_wait_t w = { f, 2 };
    assert_true (s_counted (&w));
    assert_true (f->audited >= 2);     /* the redelivery is audited again under the same id */
    char *body = NULL;
    assert_int_equal (pl_test_http_get (f->ops_port, "/metrics", &body), 200);
    assert_non_null (strstr (body, "plateau_bus_received_total"));
    free (body);
    pl_bus_client_destroy (&c);
    pl_bus_client_destroy (&c2);
}

static void
test_readiness_follows_redis_without_restart (void **state)
{
    fx_t *f = *state;
    f->pid = s_start (f, NULL);
    s_ops_port = f->ops_port;
    assert_true (pl_test_wait_until (s_ready, (void *) (intptr_t) 200, 10000));
    assert_int_equal (pl_test_http_get (f->ops_port, "/healthz", NULL), 200);
    pl_test_redis_kill (f->srv);
    assert_true (pl_test_wait_until (s_ready, (void *) (intptr_t) 503, 10000));
    char *body = NULL;
    assert_int_equal (pl_test_http_get (f->ops_port, "/readyz", &body), 503);
    assert_non_null (strstr (body, "redis"));
    free (body);
    assert_int_equal (pl_test_http_get (f->ops_port, "/healthz", NULL), 200);   /* alive all along */
    assert_int_equal (pl_test_redis_restart (f->srv), 0);
    assert_true (pl_test_wait_until (s_ready, (void *) (intptr_t) 200, 15000));
}

static void
test_sigterm_drains_and_exits_within_the_grace_period (void **state)
{
    fx_t *f = *state;
    f->pid = s_start (f, "PLATEAU_GRACE_PERIOD=2s");
    s_ops_port = f->ops_port;
    assert_true (pl_test_wait_until (s_ready, (void *) (intptr_t) 200, 10000));
    int64_t t0 = pl_clock_mono_ms ();
    int status = pl_test_stop (f->pid, SIGTERM, 10000);
    f->pid = 0;
    assert_true (status >= 0);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    assert_true (pl_clock_mono_ms () - t0 < 3000);
    assert_true (pl_test_file_has (f->log, "draining"));
}

static int
setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    f->srv = pl_test_redis_start (NULL);
    if (!f->srv)
        return -1;
    f->redis = pl_redis_new (pl_test_redis_url (f->srv), 1000);
    f->dir = pl_test_tmpdir ("pl-template");
    snprintf (f->log, sizeof f->log, "%s/template.log", f->dir);
    f->ops_port = pl_test_free_port ();
    snprintf (f->bus, sizeof f->bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
    f->audit = pl_test_bus_server_free (f->audit_bus, sizeof f->audit_bus, "audit");
    pl_bus_server_set_handler (f->audit, s_audit_handler, f, NULL);
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fx_t *f = *state;
    if (f->pid > 0)
        pl_test_stop (f->pid, SIGKILL, 2000);
    pl_bus_server_destroy (&f->audit);
    pl_redis_destroy (&f->redis);
    pl_test_redis_stop (&f->srv);
    pl_test_rmdir (f->dir);
    free (f->dir);
    free (f);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_bad_configuration_exits_2_naming_the_variable, setup, teardown),
        cmocka_unit_test_setup_teardown (test_leads_are_counted_once_and_audited, setup, teardown),
        cmocka_unit_test_setup_teardown (test_readiness_follows_redis_without_restart, setup, teardown),
        cmocka_unit_test_setup_teardown (test_sigterm_drains_and_exits_within_the_grace_period, setup, teardown),
    };
    return cmocka_run_group_tests_name ("template", tests, NULL, NULL);
}
