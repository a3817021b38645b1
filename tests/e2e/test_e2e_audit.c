/*  test_e2e_audit.c — a CRM's file through the intake to the audit service, end to end, with
 *  real processes: a private Redis each, plateau-intake sending its AuditEvents to a real
 *  plateau-audit, the operator's `plateauctl leads submit`, then `plateauctl audit why` on one
 *  of the file's numbers (its story in Paris time) and `plateauctl audit verify` through the
 *  audit's HTTP API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <jansson.h>
#include <sys/wait.h>
#include "test_audit_service_fixture.h"
#include "test_intake_fixture.h"

#define NUMBER "+33612345678"       /* fr-001 of tests/data/intake/demo_leads.csv */

static bool
s_audited (void *arg)
{
    ax_t *a = arg;
    pl_test_http_resp_t resp = { 0 };
    bool ok = pl_test_http_request (a->http_port, "GET", "/v1/audit?number=%2B33612345678",
                                    "Authorization: Bearer " AX_TOKEN "\r\n", NULL, 0, &resp) == 200
           && strstr (resp.body, "lead.accepted") != NULL;
    pl_test_http_resp_free (&resp);
    return ok;
}

static void
test_a_submitted_number_has_its_story_and_the_chain_verifies (void **state)
{
    ax_t *a = ax_new ();
    assert_non_null (a);
    assert_true (ax_start (a, NULL) > 0);
    fx_t *f = fx_new (NULL);
    assert_non_null (f);
    snprintf (f->audit_bus, sizeof f->audit_bus, "%s", a->bus);     /* the real audit */
    assert_true (fx_start (f, NULL) > 0);
    assert_true (pl_test_wait_until (fx_ready_fn, f, 15000));

    char file[600], url[128], token[128], out[600];
    snprintf (file, sizeof file, "%s/tests/data/intake/demo_leads.csv",
              getenv ("PL_SOURCE_DIR") ? getenv ("PL_SOURCE_DIR") : ".");
    snprintf (url, sizeof url, "PLATEAU_INTAKE_URL=http://127.0.0.1:%d", f->http_port);
    snprintf (token, sizeof token, "PLATEAU_API_TOKEN=%s", FX_TOKEN);
    snprintf (out, sizeof out, "%s/submit.out", f->dir);
    char *argv[] = { "plateauctl", "leads", "submit", file, "--campaign", "demo-fr", "--country", "FR", NULL };
    char *env[] = { url, token, NULL };
    pid_t pid = pl_test_spawn (argv, env, out);
    assert_true (pid > 0);
    int status = 0;
    int64_t end = pl_clock_mono_ms () + 30000;
    while (waitpid (pid, &status, WNOHANG) == 0 && pl_clock_mono_ms () < end)
        fx_pump (f, 20);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);

    /* The intake's feeder moves the events to the audit, which acks once durable. */
    int64_t until = pl_clock_mono_ms () + 20000;
    while (!s_audited (a) && pl_clock_mono_ms () < until)
        fx_pump (f, 100);
    assert_true (s_audited (a));

    char audit_url[64];
    snprintf (audit_url, sizeof audit_url, "http://127.0.0.1:%d", a->http_port);
    char *text = NULL;
    char *why[] = { "audit", "why", NUMBER, "--url", audit_url, "--token", AX_TOKEN, NULL };
    assert_int_equal (ax_ctl (why, &text), 0);
    printf ("%s", text);
    assert_non_null (strstr (text, "lead.accepted"));
    assert_non_null (strstr (text, "Europe/Paris"));
    assert_non_null (strstr (text, "demo-fr"));
    free (text);
    char *verify[] = { "audit", "verify", "--url", audit_url, "--token", AX_TOKEN, NULL };
    assert_int_equal (ax_ctl (verify, NULL), 0);

    pl_test_stop (f->pid, SIGTERM, 10000);
    f->pid = 0;
    fx_destroy (f);
    ax_destroy (&a);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_submitted_number_has_its_story_and_the_chain_verifies),
    };
    return cmocka_run_group_tests_name ("e2e_audit", tests, NULL, NULL);
}
