/*  test_sec_bus_audit.c — the attacks that once wrote forged evidence into the audit, run
 *  against a real plateau-audit on CURVE (its default): a plaintext sender, a key that is not in
 *  the key list, a listed identity that may not send AuditEvents, an event dated 1970, and an
 *  allowed sender claiming to be another service. None may be stored as claimed; every refusal
 *  shows in /metrics and in the log; `audit verify` stays green. And the service refuses to
 *  start with CURVE half-configured, naming the variable.
 */
#include <ctype.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <zmq.h>
#include "plateau/audit_emit.h"
#include "plateau/bus.h"
#include "pl_test.h"
#include "pl_test_http.h"
#include "../integration/test_audit_service_fixture.h"

#define AUTH "Authorization: Bearer " AX_TOKEN "\r\n"

/* The records of lead `lead` as JSON (the caller frees), or NULL. */
static json_t *
s_records (ax_t *f, const char *lead)
{
    char path[256];
    snprintf (path, sizeof path, "/v1/audit?lead=%s", lead);
    pl_test_http_resp_t resp = { 0 };
    json_t *items = NULL;
    if (pl_test_http_request (f->http_port, "GET", path, AUTH, NULL, 0, &resp) == 200) {
        json_t *j = json_loads (resp.body, 0, NULL);
        items = json_incref (json_object_get (j, "items"));
        json_decref (j);
    }
    pl_test_http_resp_free (&resp);
    return items;
}

/* The value of a metric line in the audit's /metrics ("name{labels}"), or -1. */
static double
s_metric (ax_t *f, const char *series)
{
    char *body = NULL;
    double v = -1;
    char line[300];
    snprintf (line, sizeof line, "\n%s ", series);      /* a sample, not its HELP or TYPE */
    if (pl_test_http_get (f->ops_port, "/metrics", &body) == 200 && body) {
        char *p = strstr (body, line);
        if (p)
            v = atof (p + strlen (line));
    }
    free (body);
    return v;
}

/* Sends one event about `lead` with the given claims through a new client speaking as
 * `opts` (NULL: plaintext). Returns the client's counters after `ms`: acked or dead. */
static void
s_forge (ax_t *f, const pl_bus_options_t *opts, const char *lead, const char *claimed_service,
         const char *type, int64_t at_ms, int ms, uint64_t *acked, uint64_t *dead)
{
    char err[512], owner[64];
    snprintf (owner, sizeof owner, "forger-%s", lead);
    pl_bus_client_t *c = pl_bus_client_new (f->redis, f->clock, owner, "audit", f->bus, opts, err, sizeof err);
    assert_non_null (c);
    pl_bus_client_set_ack_timeout (c, 300);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    pl_envelope_init (&env, &ids, claimed_service, f->clock, NULL);
    Plateau__V1__AuditEvent ev;
    char eid[64];
    snprintf (eid, sizeof eid, "EV-%s", lead);
    pl_audit_event_init (&ev, claimed_service, type, eid, at_ms);
    ev.lead_id = (char *) lead;
    ev.number = "+33612345678";
    ev.campaign = "forged";
    ev.decision = PLATEAU__V1__DECISION__ALLOW;
    env.body_case = PLATEAU__V1__ENVELOPE__BODY_AUDIT_EVENT;
    env.audit_event = &ev;
    pl_envelope_t *p = &env;
    assert_int_equal (pl_bus_client_send (c, &p, 1), 0);
    int64_t end = pl_clock_mono_ms () + ms;
    while (pl_clock_mono_ms () < end && pl_bus_client_inflight (c)) {
        zmq_pollitem_t item = { pl_bus_client_socket (c), 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 20);
        pl_bus_client_process (c);
        pl_bus_client_tick (c);
    }
    *acked = pl_bus_client_count (c, "acked");
    *dead = pl_bus_client_count (c, "dead");
    pl_bus_client_destroy (&c);
}

static bool
s_has_forged_ok (void *arg)
{
    json_t *items = s_records (arg, "L-OK");
    bool ok = items && json_array_size (items) == 1;
    json_decref (items);
    return ok;
}

static bool
s_refusals_logged (void *arg)
{
    ax_t *f = arg;
    return pl_test_file_has (f->log, "bus door refused");
}

static void
test_forged_events_are_refused_and_the_sender_is_who_its_key_says (void **state)
{
    (void) state;
    ax_t *f = ax_new ();
    assert_non_null (f);
    const char *window[] = { "PLATEAU_BUS_MAX_AGE=7d", NULL };     /* the default */
    assert_true (ax_start (f, window) > 0);
    int64_t now = pl_clock_now_ms (f->clock);
    uint64_t acked, dead;

    /* 1. Plaintext: the handshake fails, nothing is even delivered. */
    s_forge (f, NULL, "L-PLAIN", "scrub", "optout.cleared", now, 3000, &acked, &dead);
    assert_int_equal (acked, 0);

    /* 2. A key of its own making, not in the key list. */
    char *dir = pl_test_tmpdir ("pl-forger");
    char pub[600], key[600];
    snprintf (pub, sizeof pub, "%s/forger.pub", dir);
    snprintf (key, sizeof key, "%s/forger.key", dir);
    assert_int_equal (pl_bus_curve_keygen (pub, key), 0);
    pl_bus_options_t stranger = *pl_test_bus_options ("intake");
    stranger.curve_secret_key_file = key;
    s_forge (f, &stranger, "L-STRANGER", "scrub", "person.erased", now, 3000, &acked, &dead);
    assert_int_equal (acked, 0);

    /* 3. A listed identity (a CRM connector) that may not send AuditEvents: refused for good. */
    s_forge (f, pl_test_bus_options ("crm"), "L-CRM", "scrub", "optout.cleared", now, 5000, &acked, &dead);
    assert_int_equal (acked, 0);
    assert_int_equal (dead, 1);

    /* 4. An allowed sender, but the decision is dated 1970. */
    s_forge (f, pl_test_bus_options ("intake"), "L-1970", "intake", "lead.accepted", 1000, 5000, &acked, &dead);
    assert_int_equal (acked, 0);
    assert_int_equal (dead, 1);

    /* 5. An allowed sender claiming to be scrub: stored, as the intake's. */
    s_forge (f, pl_test_bus_options ("intake"), "L-OK", "scrub", "scrub.cleared", now, 5000, &acked, &dead);
    assert_int_equal (acked, 1);
    assert_true (pl_test_wait_until (s_has_forged_ok, f, 10000));
    json_t *items = s_records (f, "L-OK");
    assert_string_equal (json_string_value (json_object_get (json_array_get (items, 0), "service")), "intake");
    json_decref (items);

    /* None of the refused ones was written. */
    const char *refused[] = { "L-PLAIN", "L-STRANGER", "L-CRM", "L-1970" };
    for (size_t i = 0; i < 4; i++) {
        items = s_records (f, refused[i]);
        assert_non_null (items);
        assert_int_equal (json_array_size (items), 0);
        json_decref (items);
    }

    /* Counted by reason, and logged. */
    assert_true (pl_test_wait_until (s_refusals_logged, f, 15000));
    assert_true (s_metric (f, "plateau_bus_refused_total{reason=\"handshake\"}") >= 1);
    assert_true (s_metric (f, "plateau_bus_refused_total{reason=\"unknown_key\"}") >= 1);
    assert_true (s_metric (f, "plateau_bus_refused_total{reason=\"forbidden\"}") >= 1);
    assert_true (s_metric (f, "plateau_bus_refused_total{reason=\"stale\"}") >= 1);
    assert_true (s_metric (f, "plateau_bus_plaintext") == 0);

    /* The chain still verifies. */
    char url[128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", f->http_port);
    setenv ("PLATEAU_API_TOKEN", AX_TOKEN, 1);
    char *args[] = { "audit", "verify", "--url", url, NULL };
    assert_int_equal (ax_ctl (args, NULL), 0);

    pl_test_rmdir (dir);
    free (dir);
    ax_destroy (&f);
}

/* Starts plateau-audit with extra settings and returns its exit status (it should not stay up). */
static int
s_start_status (ax_t *f, const char *const *extra, char *log_out, size_t size)
{
    snprintf (log_out, size, "%s/start-%d.log", f->dir, rand ());
    char *env[16];
    int k = 0;
    static char vars[16][600];
    snprintf (vars[k], sizeof vars[k], "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv)), k++;
    snprintf (vars[k], sizeof vars[k], "PLATEAU_OPS_PORT=0"), k++;
    snprintf (vars[k], sizeof vars[k], "PLATEAU_BUS_BIND=tcp://127.0.0.1:%d", pl_test_free_port ()), k++;
    snprintf (vars[k], sizeof vars[k], "PLATEAU_AUDIT_DATA_DIR=%s/d", f->dir), k++;
    for (int i = 0; extra[i] && k < 15; i++)
        snprintf (vars[k], sizeof vars[k], "%s", extra[i]), k++;
    for (int i = 0; i < k; i++)
        env[i] = vars[i];
    env[k] = NULL;
    char *argv[] = { "plateau-audit", NULL };
    pid_t pid = pl_test_spawn (argv, env, log_out);
    int st = pl_test_stop (pid, 0, 10000);
    return st >= 0 && WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

static void
test_curve_half_configured_exits_2_naming_the_variable (void **state)
{
    (void) state;
    ax_t *f = ax_new ();
    assert_non_null (f);
    char log[600];
    const char *keys = pl_test_bus_options ("audit")->keys_file;
    char keys_var[700];
    snprintf (keys_var, sizeof keys_var, "PLATEAU_BUS_KEYS_FILE=%s", keys);

    /* CURVE is the default: no secret key at all. */
    const char *no_key[] = { "PLATEAU_CURVE_SECRET_KEY_FILE=", keys_var, NULL };
    assert_int_equal (s_start_status (f, no_key, log, sizeof log), 2);
    assert_true (pl_test_file_has (log, "PLATEAU_CURVE_SECRET_KEY_FILE"));

    /* A key file that is not there. */
    const char *missing[] = { "PLATEAU_CURVE_SECRET_KEY_FILE=/nonexistent/audit.key", keys_var, NULL };
    assert_int_equal (s_start_status (f, missing, log, sizeof log), 2);
    assert_true (pl_test_file_has (log, "PLATEAU_CURVE_SECRET_KEY_FILE"));

    /* A key the list gives to someone else. */
    char other[700];
    snprintf (other, sizeof other, "PLATEAU_CURVE_SECRET_KEY_FILE=%s",
              pl_test_bus_options ("intake")->curve_secret_key_file);
    const char *wrong[] = { other, keys_var, NULL };
    assert_int_equal (s_start_status (f, wrong, log, sizeof log), 2);
    assert_true (pl_test_file_has (log, "PLATEAU_BUS_KEYS_FILE"));
    assert_true (pl_test_file_has (log, "listed as intake"));

    /* Not a mode. */
    const char *bogus[] = { "PLATEAU_BUS_SECURITY=none", NULL };
    assert_int_equal (s_start_status (f, bogus, log, sizeof log), 2);
    assert_true (pl_test_file_has (log, "PLATEAU_BUS_SECURITY"));
    ax_destroy (&f);
}

static bool
s_plaintext_shown (void *arg)
{
    ax_t *f = arg;
    char *body = NULL;
    bool shown = pl_test_http_get (f->ops_port, "/metrics", &body) == 200 && body
                 && strstr (body, "plateau_bus_plaintext 1\n");
    free (body);
    return shown;
}

static void
test_plaintext_only_when_asked_and_then_loudly (void **state)
{
    (void) state;
    ax_t *f = ax_new ();
    assert_non_null (f);
    const char *extra[] = { "PLATEAU_BUS_SECURITY=plaintext", NULL };
    assert_true (ax_start (f, extra) > 0);
    assert_true (pl_test_wait_until (s_plaintext_shown, f, 10000));
    assert_true (pl_test_file_has (f->log, "PLAINTEXT"));
    ax_destroy (&f);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_forged_events_are_refused_and_the_sender_is_who_its_key_says),
        cmocka_unit_test (test_curve_half_configured_exits_2_naming_the_variable),
        cmocka_unit_test (test_plaintext_only_when_asked_and_then_loudly),
    };
    return cmocka_run_group_tests_name ("sec_bus_audit", tests, NULL, NULL);
}
