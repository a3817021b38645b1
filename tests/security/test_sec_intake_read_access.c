/*  test_sec_intake_read_access.c — a CRM reads only the leads it submitted.
 *
 *  Attack: crm-b, a valid API client that is not a reader, asks GET /v1/leads/{id} for a lead
 *  crm-a submitted (its id guessed, leaked or seen in a log). It gets 404 — the lead's
 *  existence is not told either — and no number of it; crm-a reads its own lead, and a source
 *  listed in PLATEAU_INTAKE_READERS reads every lead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

#include "test_intake_fixture.h"

static int
setup (void **state)
{
    fx_t *f = fx_new (NULL);
    if (!f)
        return -1;
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fx_destroy (*state);
    return 0;
}

static int
s_get_as (fx_t *f, const char *token, const char *id, pl_test_http_resp_t *r)
{
    char path[128], headers[160];
    snprintf (path, sizeof path, "/v1/leads/%s", id);
    snprintf (headers, sizeof headers, "Authorization: Bearer %s\r\n", token);
    return pl_test_http_request (f->http_port, "GET", path, headers, NULL, 0, r);
}

static void
test_a_source_that_is_not_a_reader_gets_404_for_another_sources_lead (void **state)
{
    fx_t *f = *state;
    const char *extra[] = { "PLATEAU_INTAKE_SOURCES=crm-a,crm-b", NULL };
    assert_true (fx_start (f, extra) > 0);
    assert_true (pl_test_wait_until (fx_ready_fn, f, 15000));
    const char *one = "{\"phone\":\"+33 6 12 34 56 73\",\"campaign\":\"mine\"}";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, NULL, FX_TOKEN, "application/json", NULL, one, strlen (one), &r), 201);
    json_t *j = json_loads (r.body, 0, NULL);
    char id[64];
    snprintf (id, sizeof id, "%s", json_string_value (json_object_get (j, "lead_id")));
    json_decref (j);
    pl_test_http_resp_free (&r);

    assert_int_equal (s_get_as (f, FX_TOKEN, id, &r), 200);                 /* crm-a: its own */
    assert_non_null (strstr (r.body, "+33612345673"));
    pl_test_http_resp_free (&r);
    assert_int_equal (s_get_as (f, FX_TOKEN_B, id, &r), 404);               /* crm-b: not told */
    assert_null (strstr (r.body, "+33612345673"));
    assert_non_null (strstr (r.body, "\"not_found\""));
    pl_test_http_resp_free (&r);
    /* the same answer as for an id that does not exist */
    assert_int_equal (s_get_as (f, FX_TOKEN_B, "01JAAAAAAAAAAAAAAAAAAAAAAA", &r), 404);
    pl_test_http_resp_free (&r);
}

static void
test_a_reader_reads_every_lead (void **state)
{
    fx_t *f = *state;
    const char *extra[] = { "PLATEAU_INTAKE_SOURCES=crm-a,crm-b", "PLATEAU_INTAKE_READERS=crm-b", NULL };
    assert_true (fx_start (f, extra) > 0);
    assert_true (pl_test_wait_until (fx_ready_fn, f, 15000));
    const char *one = "{\"phone\":\"+33 6 12 34 56 74\",\"campaign\":\"mine\"}";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, NULL, FX_TOKEN, "application/json", NULL, one, strlen (one), &r), 201);
    json_t *j = json_loads (r.body, 0, NULL);
    char id[64];
    snprintf (id, sizeof id, "%s", json_string_value (json_object_get (j, "lead_id")));
    json_decref (j);
    pl_test_http_resp_free (&r);
    assert_int_equal (s_get_as (f, FX_TOKEN_B, id, &r), 200);
    pl_test_http_resp_free (&r);
    /* and crm-a, not a reader, still gets 404 for crm-b's lead */
    const char *two = "{\"phone\":\"+33 6 12 34 56 75\",\"campaign\":\"theirs\"}";
    assert_int_equal (fx_post (f, NULL, FX_TOKEN_B, "application/json", NULL, two, strlen (two), &r), 201);
    j = json_loads (r.body, 0, NULL);
    snprintf (id, sizeof id, "%s", json_string_value (json_object_get (j, "lead_id")));
    json_decref (j);
    pl_test_http_resp_free (&r);
    assert_int_equal (s_get_as (f, FX_TOKEN, id, &r), 404);
    pl_test_http_resp_free (&r);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_a_source_that_is_not_a_reader_gets_404_for_another_sources_lead,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_reader_reads_every_lead, setup, teardown),
    };
    return cmocka_run_group_tests_name ("sec_intake_read_access", tests, NULL, NULL);
}
