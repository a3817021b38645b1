/*  test_intake_audit.c — the evidence the intake's audit events carry for an independent checker:
 *  the tenant and call kind of each lead's campaign (from PLATEAU_CAMPAIGNS_DIR, else
 *  PLATEAU_INTAKE_TENANT and the lead's own debt), who is called (the lead's callee, else a
 *  consumer), and for a rejected item the CRM's id and one `intake.<code>` rule per error. The
 *  service runs as a process against a private Redis, its events caught by a real bus server
 *  standing in for the audit; a campaign file it cannot use stops it at start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <jansson.h>
#include "test_intake_fixture.h"
#include "plateau/v1/audit.pb-c.h"

#define S_MAX_EVENTS 256

/* Every audit event received, whole. */
static Plateau__V1__AuditEvent *s_events[S_MAX_EVENTS];
static size_t s_nevents;

static void
s_audit_handler (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    (void) arg;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[i]);
        if (e->audit_event && s_nevents < S_MAX_EVENTS) {
            size_t len = plateau__v1__audit_event__get_packed_size (e->audit_event);
            uint8_t *buf = malloc (len ? len : 1);
            plateau__v1__audit_event__pack (e->audit_event, buf);
            s_events[s_nevents++] = plateau__v1__audit_event__unpack (NULL, len, buf);
            free (buf);
        }
        pl_bus_msg_ack (msgs[i]);
    }
}

static void
s_events_clear (void)
{
    for (size_t i = 0; i < s_nevents; i++)
        plateau__v1__audit_event__free_unpacked (s_events[i], NULL);
    s_nevents = 0;
}

/* The event of `type` whose external id (or, with a NULL one, lead id) is `key`, waiting up to
 * 10 s for it. */
static const Plateau__V1__AuditEvent *
s_event (fx_t *f, const char *type, const char *external_id, const char *lead_id)
{
    for (int waited = 0; waited < 10000; waited += 50) {
        for (size_t i = 0; i < s_nevents; i++) {
            const Plateau__V1__AuditEvent *ev = s_events[i];
            if (strcmp (ev->type, type) == 0
                && (!external_id || strcmp (ev->external_id, external_id) == 0)
                && (!lead_id || strcmp (ev->lead_id, lead_id) == 0))
                return ev;
        }
        fx_pump (f, 50);
    }
    return NULL;
}

static const Plateau__V1__RuleHit *
s_rule (const Plateau__V1__AuditEvent *ev, const char *rule_id)
{
    for (size_t i = 0; i < ev->n_rules; i++)
        if (strcmp (ev->rules[i]->rule_id, rule_id) == 0)
            return ev->rules[i];
    return NULL;
}

static void
s_write (const char *dir, const char *name, const char *text)
{
    char path[600];
    int len = snprintf (path, sizeof path, "%s/%s", dir, name);
    assert_true (len > 0 && (size_t) len < sizeof path);
    FILE *fp = fopen (path, "w");
    assert_non_null (fp);
    fputs (text, fp);
    fclose (fp);
}

/* A campaign file as scrub and the dialer read it: the intake uses its tenant and profile. */
static const char s_winter[] =
    "# Collection for acme-energie: the intake reads [campaign] only.\n"
    "[campaign]\n"
    "profile = fr-dc\n"
    "tenant  = acme-energie\n"
    "name    = Winter arrears\n"
    "\n"
    "[rule fr.hours]\n"
    "hours = 10:00-12:00 14:00-19:00\n"
    "\n"
    "[dialer]\n"
    "mode = progressive\n"
    "\n"
    "[dialer-retry busy]\n"
    "delay = 15m\n";

static int
setup (void **state)
{
    signal (SIGPIPE, SIG_IGN);
    fx_t *f = fx_new (NULL);
    if (!f)
        return -1;
    pl_bus_server_set_handler (f->audit, s_audit_handler, f, NULL);
    char campaigns[600], env_dir[700];
    snprintf (campaigns, sizeof campaigns, "%s/campaigns", f->dir);
    mkdir (campaigns, 0700);
    s_write (campaigns, "winter.campaign", s_winter);
    snprintf (env_dir, sizeof env_dir, "PLATEAU_CAMPAIGNS_DIR=%s", campaigns);
    const char *extra[] = { env_dir, "PLATEAU_INTAKE_TENANT=house", NULL };
    if (fx_start (f, extra) <= 0 || !pl_test_wait_until (fx_ready_fn, f, 15000)) {
        fx_destroy (f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    s_events_clear ();
    fx_destroy (*state);
    return 0;
}

static void
test_accepted_lead_carries_its_campaigns_tenant_and_call_kind (void **state)
{
    fx_t *f = *state;
    const char *body = "{\"leads\":["
                       "{\"external_id\":\"w-1\",\"campaign\":\"winter\",\"phone\":\"+33 6 12 34 56 78\"},"
                       "{\"external_id\":\"o-1\",\"campaign\":\"other\",\"phone\":\"+33 6 12 34 56 79\"},"
                       "{\"external_id\":\"o-2\",\"campaign\":\"other\",\"phone\":\"+33 6 12 34 56 80\","
                       "\"debt\":{\"account_ref\":\"A-17\",\"creditor\":\"Acme\"}}]}";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, NULL, FX_TOKEN, "application/json", NULL, body, strlen (body), &r), 200);
    assert_null (strstr (r.body, "\"status\":\"rejected\""));
    pl_test_http_resp_free (&r);

    /* The campaign's file says on whose behalf and which kind of calls (fr-dc: collection), even
     * for a lead that names no debt. */
    const Plateau__V1__AuditEvent *ev = s_event (f, "lead.accepted", "w-1", NULL);
    assert_non_null (ev);
    assert_string_equal (ev->campaign, "winter");
    assert_string_equal (ev->tenant, "acme-energie");
    assert_int_equal (ev->call_kind, PLATEAU__V1__CALL_KIND__DEBT_COLLECTION);
    assert_string_equal (ev->source, "crm-a");

    /* A campaign without a file: the default tenant, and the lead's own kind. */
    ev = s_event (f, "lead.accepted", "o-1", NULL);
    assert_non_null (ev);
    assert_string_equal (ev->tenant, "house");
    assert_int_equal (ev->call_kind, PLATEAU__V1__CALL_KIND__CANVASSING);
    ev = s_event (f, "lead.accepted", "o-2", NULL);
    assert_non_null (ev);
    assert_string_equal (ev->tenant, "house");
    assert_int_equal (ev->call_kind, PLATEAU__V1__CALL_KIND__DEBT_COLLECTION);

    /* The same lead again: its lead.duplicate says the same. */
    const char *again = "{\"external_id\":\"w-1\",\"campaign\":\"winter\",\"phone\":\"+33 6 12 34 56 78\"}";
    assert_int_equal (fx_post (f, NULL, FX_TOKEN, "application/json", NULL, again, strlen (again), &r), 200);
    pl_test_http_resp_free (&r);
    ev = s_event (f, "lead.duplicate", "w-1", NULL);
    assert_non_null (ev);
    assert_string_equal (ev->tenant, "acme-energie");
    assert_int_equal (ev->call_kind, PLATEAU__V1__CALL_KIND__DEBT_COLLECTION);
}

static void
test_rejected_item_carries_its_external_id_tenant_and_one_rule_per_error (void **state)
{
    fx_t *f = *state;
    const char *body = "{\"leads\":[{\"external_id\":\"bad-7\",\"campaign\":\"winter\",\"phone\":\"+33 12\","
                       "\"email\":\"jean.dupont@\"}]}";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, NULL, FX_TOKEN, "application/json", NULL, body, strlen (body), &r), 200);
    assert_non_null (strstr (r.body, "\"status\":\"rejected\""));
    pl_test_http_resp_free (&r);

    const Plateau__V1__AuditEvent *ev = s_event (f, "lead.rejected", "bad-7", NULL);
    assert_non_null (ev);
    assert_string_equal (ev->campaign, "winter");
    assert_string_equal (ev->tenant, "acme-energie");
    assert_int_equal (ev->call_kind, PLATEAU__V1__CALL_KIND__DEBT_COLLECTION);
    assert_string_equal (ev->source, "crm-a");
    assert_int_equal (ev->decision, PLATEAU__V1__DECISION__DENY);
    assert_int_equal (ev->n_rules, 2);
    const Plateau__V1__RuleHit *number = s_rule (ev, "intake.invalid_number");
    assert_non_null (number);
    assert_string_equal (number->value, "phone");
    assert_non_null (strstr (number->reason, "not a valid"));
    const Plateau__V1__RuleHit *email = s_rule (ev, "intake.invalid_email");
    assert_non_null (email);
    assert_string_equal (email->value, "email");
    /* Rules are public and outlive an erasure: the address the message quotes is left out. */
    assert_null (strstr (email->reason, "jean.dupont"));
    assert_non_null (strstr (email->reason, "is not an e-mail address"));

    /* A CSV row: the same, with where in the file it was. */
    const char *csv = "external_id,phone\ncsv-9,+33 12\n";
    assert_int_equal (fx_post (f, "?campaign=winter", FX_TOKEN, "text/csv", NULL, csv, strlen (csv), &r), 200);
    pl_test_http_resp_free (&r);
    ev = s_event (f, "lead.rejected", "csv-9", NULL);
    assert_non_null (ev);
    assert_string_equal (ev->tenant, "acme-energie");
    number = s_rule (ev, "intake.invalid_number");
    assert_non_null (number);
    assert_string_equal (number->value, "phone");
    assert_non_null (strstr (number->facts, "line 2"));
}

/* The lead id of each item of a JSON batch's answer, "" for those not stored. */
static void
s_results (const char *body, char ids[][32], size_t n)
{
    json_t *j = json_loads (body, 0, NULL);
    assert_non_null (j);
    json_t *res = json_object_get (j, "results");
    assert_int_equal (json_array_size (res), n);
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value (json_object_get (json_array_get (res, i), "lead_id"));
        snprintf (ids[i], 32, "%s", id ? id : "");
    }
    json_decref (j);
}

/* The callee GET /v1/leads/{id} shows ("" when none). */
static void
s_expect_stored_callee (fx_t *f, const char *id, const char *want)
{
    pl_test_http_resp_t g = { 0 };
    assert_int_equal (fx_get_lead (f, id, &g), 200);
    json_t *j = json_loads (g.body, 0, NULL);
    assert_non_null (j);
    const char *got = json_string_value (json_object_get (json_object_get (j, "lead"), "callee"));
    assert_string_equal (got ? got : "", want);
    json_decref (j);
    pl_test_http_resp_free (&g);
}

/* lead.accepted says who is called as a typed fact: the lead's callee, or "consumer" when the lead
 * says nothing. A re-import of the same CRM id is a duplicate whatever its callee: the stored lead
 * keeps the callee it was accepted with, and the lead.duplicate says the one submitted this time. */
static void
test_accepted_lead_says_who_is_called (void **state)
{
    fx_t *f = *state;
    const char *body = "{\"leads\":["
                       "{\"external_id\":\"k-1\",\"campaign\":\"winter\",\"phone\":\"+33 6 44 00 00 01\","
                       "\"callee\":\"business\"},"
                       "{\"external_id\":\"k-2\",\"campaign\":\"winter\",\"phone\":\"+33 6 44 00 00 02\"},"
                       "{\"external_id\":\"k-3\",\"campaign\":\"winter\",\"phone\":\"+33 6 44 00 00 03\","
                       "\"callee\":\"Sole_Trader\"},"
                       "{\"external_id\":\"k-4\",\"campaign\":\"winter\",\"phone\":\"+33 6 44 00 00 04\","
                       "\"callee\":\"b2b\"}]}";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, NULL, FX_TOKEN, "application/json", NULL, body, strlen (body), &r), 200);
    char ids[4][32];
    s_results (r.body, ids, 4);
    pl_test_http_resp_free (&r);

    const Plateau__V1__AuditEvent *ev = s_event (f, "lead.accepted", "k-1", NULL);
    assert_non_null (ev);
    assert_string_equal (ev->callee, "business");
    ev = s_event (f, "lead.accepted", "k-2", NULL);
    assert_non_null (ev);
    assert_string_equal (ev->callee, "consumer");
    ev = s_event (f, "lead.accepted", "k-3", NULL);
    assert_non_null (ev);
    assert_string_equal (ev->callee, "sole-trader");
    s_expect_stored_callee (f, ids[0], "business");
    s_expect_stored_callee (f, ids[1], "");            /* stored as said: not said */
    s_expect_stored_callee (f, ids[2], "sole-trader");

    /* the bad one: rejected alone, the field named in its rule */
    assert_string_equal (ids[3], "");
    ev = s_event (f, "lead.rejected", "k-4", NULL);
    assert_non_null (ev);
    assert_int_equal (ev->n_rules, 1);
    const Plateau__V1__RuleHit *rule = s_rule (ev, "intake.invalid_value");
    assert_non_null (rule);
    assert_string_equal (rule->value, "callee");

    /* the same CRM id again, now said to be a consumer: a duplicate, nothing changes */
    const char *again = "{\"external_id\":\"k-1\",\"campaign\":\"winter\",\"phone\":\"+33 6 44 00 00 01\","
                        "\"callee\":\"consumer\"}";
    assert_int_equal (fx_post (f, NULL, FX_TOKEN, "application/json", NULL, again, strlen (again), &r), 200);
    assert_non_null (strstr (r.body, "\"duplicate\""));
    pl_test_http_resp_free (&r);
    ev = s_event (f, "lead.duplicate", "k-1", NULL);
    assert_non_null (ev);
    assert_string_equal (ev->lead_id, ids[0]);
    assert_string_equal (ev->callee, "consumer");
    s_expect_stored_callee (f, ids[0], "business");
}

/* A campaign file without its tenant: the intake cannot say on whose behalf its leads come, and
 * does not start. */
static void
test_campaign_file_without_tenant_stops_the_intake_with_exit_2 (void **state)
{
    fx_t *f = *state;
    char dir[600], env_dir[700], env_redis[300], env_tokens[500], log[600];
    snprintf (dir, sizeof dir, "%s/broken", f->dir);
    mkdir (dir, 0700);
    s_write (dir, "nameless.campaign", "[campaign]\nprofile = fr-cc\n\n[dialer]\nmode = preview\n");
    snprintf (env_dir, sizeof env_dir, "PLATEAU_CAMPAIGNS_DIR=%s", dir);
    snprintf (env_redis, sizeof env_redis, "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
    snprintf (env_tokens, sizeof env_tokens, "PLATEAU_API_TOKENS_FILE=%s", f->tokens);
    snprintf (log, sizeof log, "%s/broken.log", f->dir);
    char *envp[] = { env_redis, env_tokens, env_dir, "PLATEAU_BUS_BIND=tcp://127.0.0.1:0",
                     "PLATEAU_INTAKE_HTTP_PORT=0", "PLATEAU_OPS_PORT=0", NULL };
    char *argv[] = { "plateau-intake", NULL };
    pid_t pid = pl_test_spawn (argv, envp, log);
    assert_true (pid > 0);
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 2);
    assert_true (pl_test_file_has (log, "PLATEAU_CAMPAIGNS_DIR"));
    assert_true (pl_test_file_has (log, "nameless.campaign"));
    assert_true (pl_test_file_has (log, "tenant"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_accepted_lead_carries_its_campaigns_tenant_and_call_kind, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_rejected_item_carries_its_external_id_tenant_and_one_rule_per_error,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_accepted_lead_says_who_is_called, setup, teardown),
        cmocka_unit_test_setup_teardown (test_campaign_file_without_tenant_stops_the_intake_with_exit_2, setup,
                                         teardown),
    };
    return cmocka_run_group_tests_name ("intake_audit", tests, NULL, NULL);
}
