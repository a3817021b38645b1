/*  test_intake_http.c — plateau-intake as a process, through its HTTP door: numbers normalise,
 *  a French Windows-1252 CSV keeps its accents, an idempotency key replays the same answer and a
 *  duplicate number is reported, auth and bad input get 401/403/413/415/400 with line and
 *  column, accepted leads reach the scrub stand-in and every decision the audit stand-in, the
 *  bus door applies a native Lead once, and the lead's callee is kept through every door.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <jansson.h>
#include <zlib.h>
#include "test_intake_fixture.h"

static json_t *
s_json (const pl_test_http_resp_t *r)
{
    json_t *j = json_loads (r->body ? r->body : "", 0, NULL);
    assert_non_null (j);
    return j;
}

static const char *
s_status_of (json_t *results, size_t i)
{
    return json_string_value (json_object_get (json_array_get (results, i), "status"));
}

static const char *
s_lead_of (json_t *results, size_t i)
{
    return json_string_value (json_object_get (json_array_get (results, i), "lead_id"));
}

static void
test_numbers_in_common_forms_normalise_and_invalid_ones_are_rejected (void **state)
{
    fx_t *f = *state;
    const char *body = "{\"leads\":["
                       "{\"phone\":\"06 12 34 56 78\",\"country\":\"FR\"},"
                       "{\"phone\":\"+33 6 12 34 56 79\"},"
                       "{\"phone\":\"0033 6 12 34 56 70\",\"country\":\"FR\"},"
                       "{\"phone\":\"(415) 555-0123\",\"country\":\"US\"},"
                       "{\"phone\":\"1-415-555-0124\",\"country\":\"US\"},"
                       "{\"phone\":\"020 7946 0000\",\"country\":\"GB\"},"
                       "{\"phone\":\"0692 12 34 56\",\"country\":\"FR\"},"
                       "{\"phone\":\"06 12\",\"country\":\"FR\"}]}";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, "?campaign=forms", FX_TOKEN, "application/json", NULL, body, strlen (body), &r), 200);
    json_t *j = s_json (&r);
    json_t *res = json_object_get (j, "results");
    assert_int_equal (json_array_size (res), 8);
    const char *want[] = { "+33612345678", "+33612345679", "+33612345670", "+14155550123",
                           "+14155550124", "+442079460000", "+262692123456" };
    for (size_t i = 0; i < 7; i++) {
        if (strcmp (s_status_of (res, i), "accepted") != 0)
            fprintf (stderr, "item %zu: %s\n", i, r.body);
        assert_string_equal (s_status_of (res, i), "accepted");
        pl_test_http_resp_t g = { 0 };
        assert_int_equal (fx_get_lead (f, s_lead_of (res, i), &g), 200);
        json_t *gj = s_json (&g);
        json_t *lead = json_object_get (gj, "lead");
        assert_string_equal (json_string_value (json_object_get (json_object_get (lead, "phone"), "e164")), want[i]);
        if (i == 6)
            assert_string_equal (json_string_value (json_array_get (
                                     json_object_get (json_object_get (lead, "phone"), "zones"), 0)),
                                 "Indian/Reunion");
        json_decref (gj);
        pl_test_http_resp_free (&g);
    }
    assert_string_equal (s_status_of (res, 7), "rejected");
    json_t *err = json_array_get (json_object_get (json_array_get (res, 7), "errors"), 0);
    assert_string_equal (json_string_value (json_object_get (err, "field")), "phone");
    assert_string_equal (json_string_value (json_object_get (err, "code")), "invalid_number");
    json_decref (j);
    pl_test_http_resp_free (&r);
}

static void
test_french_windows_1252_csv_imports_with_accents_intact (void **state)
{
    fx_t *f = *state;
    char path[1024];
    snprintf (path, sizeof path, "%s/tests/data/intake/fr_excel_cp1252_bom.csv", getenv ("PL_SOURCE_DIR"));
    size_t len;
    char *csv = fx_read_file (path, &len);
    assert_non_null (csv);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, "?campaign=paris&country=FR", FX_TOKEN, "text/csv; charset=windows-1252", NULL,
                               csv, len, &r), 200);
    /* NDJSON: one result per row, then the summary */
    char *save = NULL, *first_id = NULL;
    int accepted = 0;
    for (char *line = strtok_r (r.body, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        json_t *o = json_loads (line, 0, NULL);
        assert_non_null (o);
        const char *st = json_string_value (json_object_get (o, "status"));
        if (st && strcmp (st, "accepted") == 0) {
            accepted++;
            if (!first_id)
                first_id = strdup (json_string_value (json_object_get (o, "lead_id")));
            assert_true (json_integer_value (json_object_get (o, "line")) >= 2);
        }
        json_decref (o);
    }
    assert_true (accepted >= 2);
    pl_test_http_resp_t g = { 0 };
    assert_int_equal (fx_get_lead (f, first_id, &g), 200);
    json_t *gj = s_json (&g);
    json_t *lead = json_object_get (gj, "lead");
    assert_string_equal (json_string_value (json_object_get (lead, "first_name")), "Hélène");
    assert_string_equal (json_string_value (json_object_get (lead, "address")), "12, rue de l'Église");
    json_decref (gj);
    pl_test_http_resp_free (&g);
    free (first_id);
    free (csv);
    pl_test_http_resp_free (&r);
}

static long long
s_keys (fx_t *f)
{
    return pl_test_redis_int (f->srv, "DBSIZE");
}

static void
test_idempotency_key_retry_returns_the_same_answer_and_changes_nothing (void **state)
{
    fx_t *f = *state;
    const char *body = "{\"leads\":[{\"external_id\":\"c-1\",\"phone\":\"+33 6 11 22 33 44\"},"
                       "{\"external_id\":\"c-2\",\"phone\":\"+33 6 11 22 33 45\"},{\"phone\":\"nope\"}]}";
    pl_test_http_resp_t a = { 0 }, b = { 0 };
    assert_int_equal (fx_post (f, "?campaign=idem", FX_TOKEN, "application/json", "Idempotency-Key: k-42\r\n",
                               body, strlen (body), &a), 200);
    fx_pump (f, 300);
    long long keys = s_keys (f);
    assert_int_equal (fx_post (f, "?campaign=idem", FX_TOKEN, "application/json", "Idempotency-Key: k-42\r\n",
                               body, strlen (body), &b), 200);
    assert_string_equal (a.body, b.body);
    fx_pump (f, 300);
    assert_int_equal (s_keys (f), keys);

    /* Without the key: the CRM ids are duplicates of the same leads. */
    pl_test_http_resp_t c = { 0 };
    assert_int_equal (fx_post (f, "?campaign=idem", FX_TOKEN, "application/json", NULL, body, strlen (body), &c), 200);
    json_t *ja = s_json (&a), *jc = s_json (&c);
    json_t *ra = json_object_get (ja, "results"), *rc = json_object_get (jc, "results");
    assert_string_equal (s_status_of (rc, 0), "duplicate");
    assert_string_equal (s_lead_of (rc, 0), s_lead_of (ra, 0));
    assert_string_equal (s_status_of (rc, 2), "rejected");

    /* The same number under another CRM id in the same campaign: duplicate; another campaign: new. */
    const char *again = "{\"external_id\":\"c-9\",\"phone\":\"0611223344\",\"country\":\"FR\"}";
    pl_test_http_resp_t d = { 0 }, e = { 0 };
    assert_int_equal (fx_post (f, "?campaign=idem", FX_TOKEN, "application/json", NULL, again, strlen (again), &d), 200);
    json_t *jd = s_json (&d);
    assert_string_equal (json_string_value (json_object_get (jd, "status")), "duplicate");
    assert_string_equal (json_string_value (json_object_get (jd, "duplicate_of")), "number");
    assert_string_equal (json_string_value (json_object_get (jd, "lead_id")), s_lead_of (ra, 0));
    assert_int_equal (fx_post (f, "?campaign=other", FX_TOKEN, "application/json", NULL, again, strlen (again), &e), 201);
    json_decref (ja);
    json_decref (jc);
    json_decref (jd);
    pl_test_http_resp_free (&a);
    pl_test_http_resp_free (&b);
    pl_test_http_resp_free (&c);
    pl_test_http_resp_free (&d);
    pl_test_http_resp_free (&e);
}

static void
s_expect_error_at (pl_test_http_resp_t *r, long line, long column)
{
    json_t *j = s_json (r);
    json_t *e = json_object_get (j, "error");
    assert_non_null (e);
    assert_int_equal (json_integer_value (json_object_get (e, "line")), line);
    assert_int_equal (json_integer_value (json_object_get (e, "column")), column);
    json_decref (j);
}

static void
test_auth_and_bad_input_get_their_status_with_line_and_column (void **state)
{
    fx_t *f = *state;
    const char *one = "{\"phone\":\"+33 6 12 34 56 78\",\"campaign\":\"bad\"}";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, NULL, NULL, "application/json", NULL, one, strlen (one), &r), 401);
    pl_test_http_resp_free (&r);
    assert_int_equal (fx_post (f, NULL, "not-a-known-token-at-all", "application/json", NULL, one, strlen (one), &r), 401);
    pl_test_http_resp_free (&r);
    assert_int_equal (fx_post (f, NULL, FX_TOKEN_B, "application/json", NULL, one, strlen (one), &r), 403);
    pl_test_http_resp_free (&r);
    assert_int_equal (fx_post (f, NULL, FX_TOKEN, "text/plain", NULL, one, strlen (one), &r), 415);
    pl_test_http_resp_free (&r);
    char *big = malloc (5000);
    memset (big, ' ', 4999);
    big[0] = '{';
    big[4998] = '}';
    big[4999] = '\0';
    assert_int_equal (fx_post (f, NULL, FX_TOKEN, "application/json", NULL, big, 4999, &r), 413);
    pl_test_http_resp_free (&r);
    free (big);
    const char *broken = "{\"leads\":[\n{\"phone\": \"+33612345678\"},\n{\"phone\" \"x\"}]}";
    assert_int_equal (fx_post (f, "?campaign=bad", FX_TOKEN, "application/json", NULL, broken, strlen (broken), &r), 400);
    s_expect_error_at (&r, 3, 12);
    pl_test_http_resp_free (&r);
    const char *nophone = "nom;prénom\nDupont;Zoé\n";
    assert_int_equal (fx_post (f, "?campaign=bad", FX_TOKEN, "text/csv", NULL, nophone, strlen (nophone), &r), 400);
    json_t *j = s_json (&r);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (j, "error"), "line")), 1);
    json_decref (j);
    pl_test_http_resp_free (&r);
    const char *badline = "{\"phone\":\"+33612345671\"}\n{\"phone\": nope}\n";
    assert_int_equal (fx_post (f, "?campaign=bad", FX_TOKEN, "application/x-ndjson", NULL, badline, strlen (badline), &r), 200);
    assert_non_null (strstr (r.body, "\"line\":2"));
    assert_non_null (strstr (r.body, "\"column\":"));
    pl_test_http_resp_free (&r);
}

static bool
s_has_audit (fx_t *f, const char *type, const char *lead)
{
    for (size_t i = 0; i < f->naudit; i++)
        if (strcmp (f->audit_types[i], type) == 0 && (!lead || strcmp (f->audit_leads[i], lead) == 0))
            return true;
    return false;
}

static bool
s_submitted (fx_t *f, const char *lead)
{
    for (size_t i = 0; i < f->nsubmitted; i++)
        if (strcmp (f->submitted[i], lead) == 0)
            return true;
    return false;
}

/* A time the intake takes (a consent's capture) on an impossible date is refused through the
 * HTTP door with the field named, never read as another day: 422 for one lead, an item error in
 * a batch, and nothing stored. */
static void
test_an_impossible_date_is_refused_with_its_field (void **state)
{
    fx_t *f = *state;
    const char *one = "{\"phone\":\"+33 6 12 34 56 70\",\"campaign\":\"dates\","
                      "\"consents\":[{\"scope\":\"dates\",\"captured_at\":\"2026-02-30T10:00:00Z\"}]}";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, NULL, FX_TOKEN, "application/json", NULL, one, strlen (one), &r), 422);
    json_t *j = s_json (&r);
    json_t *e = json_array_get (json_object_get (j, "errors"), 0);
    assert_string_equal (json_string_value (json_object_get (e, "field")), "consents[0].captured_at");
    assert_string_equal (json_string_value (json_object_get (e, "code")), "invalid_time");
    json_decref (j);
    pl_test_http_resp_free (&r);
    const char *batch = "{\"leads\":[{\"phone\":\"+33 6 12 34 56 71\",\"consents\":[{\"scope\":\"dates\","
                        "\"captured_at\":\"2026-04-31T10:00:00Z\"}]},{\"phone\":\"+33 6 12 34 56 72\"}]}";
    assert_int_equal (fx_post (f, "?campaign=dates", FX_TOKEN, "application/json", NULL, batch, strlen (batch), &r),
                      200);
    j = s_json (&r);
    json_t *results = json_object_get (j, "results");
    assert_string_equal (json_string_value (json_object_get (json_array_get (results, 0), "status")), "rejected");
    assert_string_equal (json_string_value (json_object_get (json_array_get (results, 1), "status")), "accepted");
    json_decref (j);
    pl_test_http_resp_free (&r);
    pl_reply_t *dated = pl_redis_command (f->redis, "KEYS pl:{camp:dates}:lead:*");
    assert_int_equal (pl_reply_len (dated), 1);
    pl_reply_free (&dated);
}

/* A source reads the leads it submitted, not another source's: 404, as for an id that does not
 * exist, so that ids taken elsewhere (the audit) reveal nothing. */
static void
test_a_source_cannot_read_another_sources_lead (void **state)
{
    fx_t *f = *state;
    /* Both sources may use the API here. */
    pl_test_stop (f->pid, SIGTERM, 5000);
    const char *extra[] = { "PLATEAU_INTAKE_SOURCES=crm-a,crm-b", NULL };
    assert_true (fx_start (f, extra) > 0);
    assert_true (pl_test_wait_until (fx_ready_fn, f, 15000));
    const char *one = "{\"phone\":\"+33 6 12 34 56 73\",\"campaign\":\"mine\"}";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, NULL, FX_TOKEN, "application/json", NULL, one, strlen (one), &r), 201);
    json_t *j = s_json (&r);
    char id[64];
    snprintf (id, sizeof id, "%s", json_string_value (json_object_get (j, "lead_id")));
    json_decref (j);
    pl_test_http_resp_free (&r);
    assert_int_equal (fx_get_lead (f, id, &r), 200);              /* crm-a, its own */
    pl_test_http_resp_free (&r);
    char path[128];
    snprintf (path, sizeof path, "/v1/leads/%s", id);
    assert_int_equal (pl_test_http_request (f->http_port, "GET", path, "Authorization: Bearer " FX_TOKEN_B "\r\n",
                                            NULL, 0, &r), 404);           /* crm-b */
    assert_null (strstr (r.body, "+33612345673"));
    pl_test_http_resp_free (&r);
}

static void
test_accepted_leads_reach_scrub_and_every_decision_is_audited (void **state)
{
    fx_t *f = *state;
    const char *body = "{\"leads\":[{\"phone\":\"+44 20 7946 0001\"},{\"phone\":\"+44 20 7946 0001\"},{\"phone\":\"?\"}]}";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, "?campaign=flow", FX_TOKEN, "application/json", NULL, body, strlen (body), &r), 200);
    json_t *j = s_json (&r);
    const char *id = s_lead_of (json_object_get (j, "results"), 0);
    /* The events arrive in no fixed order (several outbox slots), so wait for all of them. */
    for (int i = 0; i < 400 && !(s_submitted (f, id) && s_has_audit (f, "lead.accepted", id)
                                 && s_has_audit (f, "lead.duplicate", id)
                                 && s_has_audit (f, "lead.rejected", NULL)); i++)
        fx_pump (f, 25);
    assert_true (s_submitted (f, id));
    assert_true (s_has_audit (f, "lead.accepted", id));
    assert_true (s_has_audit (f, "lead.duplicate", id));
    /* Duplicates carry the callee's zone too, so the audit story shows them in local time. */
    for (size_t i = 0; i < f->naudit; i++)
        if (strcmp (f->audit_types[i], "lead.duplicate") == 0 && strcmp (f->audit_leads[i], id) == 0)
            assert_string_equal (f->audit_zones[i], "Europe/London");
    assert_true (s_has_audit (f, "lead.rejected", NULL));
    /* acknowledged by scrub: the replica owes it nothing */
    assert_true (fx_scrub_owes_nothing (f, 5000));
    pl_test_http_resp_t g = { 0 };
    assert_int_equal (fx_get_lead (f, id, &g), 200);
    assert_non_null (strstr (g.body, "\"status\":\"queued_for_scrub\""));
    char *metrics = NULL;
    assert_int_equal (pl_test_http_get (f->ops_port, "/metrics", &metrics), 200);
    assert_non_null (strstr (metrics, "plateau_intake_leads_total{status=\"accepted\",source=\"crm-a\",format=\"json\"}"));
    assert_non_null (strstr (metrics, "plateau_intake_outbox_backlog"));
    free (metrics);
    json_decref (j);
    pl_test_http_resp_free (&r);
    pl_test_http_resp_free (&g);
}

static void
test_bus_door_applies_a_native_lead_once_and_nacks_an_invalid_one (void **state)
{
    fx_t *f = *state;
    char err[256];
    pl_bus_client_t *c = pl_bus_client_new (f->redis, NULL, "crm-native", "intake", f->bus, pl_test_bus_options ("crm"),
                                            err, sizeof err);
    assert_non_null (c);
    pl_envelope_t env[3], *p[3];
    pl_envelope_ids_t ids[3];
    Plateau__V1__Lead lead[3];
    Plateau__V1__PhoneNumber ph[3];
    const char *raw[3] = { "06 98 76 54 32", "06 98 76 54 32", "12" };
    for (int i = 0; i < 3; i++) {
        pl_envelope_init (&env[i], &ids[i], "crm-native", NULL, NULL);
        plateau__v1__lead__init (&lead[i]);
        plateau__v1__phone_number__init (&ph[i]);
        ph[i].raw = (char *) raw[i];
        lead[i].phone = &ph[i];
        lead[i].campaign = "native";
        lead[i].country = "FR";
        lead[i].external_id = i == 2 ? "n-2" : "n-1";
        env[i].body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD;
        env[i].lead = &lead[i];
        p[i] = &env[i];
    }
    strcpy (ids[1].id, ids[0].id);      /* a redelivery */
    assert_int_equal (pl_bus_client_send (c, p, 1), 0);
    int64_t end = pl_clock_mono_ms () + 10000;
    while (pl_clock_mono_ms () < end && pl_bus_client_inflight (c)) {
        pl_bus_client_process (c);
        pl_bus_client_tick (c);
        fx_pump (f, 10);
    }
    assert_int_equal (pl_bus_client_send (c, &p[1], 2), 0);
    end = pl_clock_mono_ms () + 10000;
    while (pl_clock_mono_ms () < end && pl_bus_client_inflight (c)) {
        pl_bus_client_process (c);
        pl_bus_client_tick (c);
        fx_pump (f, 10);
    }
    assert_int_equal (pl_bus_client_inflight (c), 0);
    assert_int_equal (pl_bus_client_count (c, "dead"), 1);     /* the invalid one */
    pl_reply_t *k = pl_redis_command (f->redis, "KEYS %s", "pl:{camp:native}:lead:*");
    assert_non_null (k);
    assert_int_equal (pl_reply_len (k), 1);
    pl_reply_free (&k);
    pl_bus_client_destroy (&c);
}

/* The callee GET /v1/leads/{id} shows for lead `id` ("" when it shows none). */
static void
s_expect_callee (fx_t *f, const char *id, const char *want)
{
    pl_test_http_resp_t g = { 0 };
    assert_non_null (id);
    assert_int_equal (fx_get_lead (f, id, &g), 200);
    json_t *gj = s_json (&g);
    const char *got = json_string_value (json_object_get (json_object_get (gj, "lead"), "callee"));
    assert_string_equal (got ? got : "", want);
    json_decref (gj);
    pl_test_http_resp_free (&g);
}

/* The item results of a streamed answer (NDJSON, CSV), in order, the summary left out. */
static json_t *
s_stream_results (pl_test_http_resp_t *r)
{
    json_t *a = json_array ();
    char *save = NULL;
    for (char *line = strtok_r (r->body, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        json_t *o = json_loads (line, 0, NULL);
        assert_non_null (o);
        if (json_object_get (o, "status"))
            json_array_append (a, o);
        json_decref (o);
    }
    return a;
}

static const json_t *
s_first_error (json_t *results, size_t i)
{
    return json_array_get (json_object_get (json_array_get (results, i), "errors"), 0);
}

/* Who is called comes in through every door, is stored with the lead (so scrub and the dialer get
 * it unchanged) and shown by GET; a value that is not one of the three names rejects its lead
 * alone, naming the field, and the good leads of the same request are kept. */
static void
test_the_callee_is_stored_and_shown_whichever_the_door (void **state)
{
    fx_t *f = *state;
    const char *body = "{\"leads\":[{\"phone\":\"+33 6 22 00 00 01\",\"callee\":\"business\"},"
                       "{\"phone\":\"+33 6 22 00 00 02\",\"callee\":\"b2b\"},"
                       "{\"phone\":\"+33 6 22 00 00 03\",\"callee\":\"Sole_Trader\"},"
                       "{\"phone\":\"+33 6 22 00 00 04\"}]}";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, "?campaign=callee", FX_TOKEN, "application/json", NULL, body, strlen (body), &r),
                      200);
    json_t *j = s_json (&r);
    json_t *res = json_object_get (j, "results");
    assert_string_equal (s_status_of (res, 0), "accepted");
    assert_string_equal (s_status_of (res, 1), "rejected");
    assert_string_equal (json_string_value (json_object_get (s_first_error (res, 1), "field")), "callee");
    assert_string_equal (json_string_value (json_object_get (s_first_error (res, 1), "code")), "invalid_value");
    assert_non_null (strstr (json_string_value (json_object_get (s_first_error (res, 1), "message")),
                             "consumer, business or sole-trader"));
    assert_string_equal (s_status_of (res, 2), "accepted");
    assert_string_equal (s_status_of (res, 3), "accepted");
    s_expect_callee (f, s_lead_of (res, 0), "business");
    s_expect_callee (f, s_lead_of (res, 2), "sole-trader");
    s_expect_callee (f, s_lead_of (res, 3), "");
    json_decref (j);
    pl_test_http_resp_free (&r);

    const char *nd = "{\"phone\":\"+33 6 22 00 00 05\",\"callee\":\"consumer\"}\n"
                     "{\"phone\":\"+33 6 22 00 00 06\",\"callee\":\"nobody\"}\n";
    assert_int_equal (fx_post (f, "?campaign=callee", FX_TOKEN, "application/x-ndjson", NULL, nd, strlen (nd), &r),
                      200);
    res = s_stream_results (&r);
    assert_int_equal (json_array_size (res), 2);
    assert_string_equal (s_status_of (res, 0), "accepted");
    s_expect_callee (f, s_lead_of (res, 0), "consumer");
    assert_string_equal (s_status_of (res, 1), "rejected");
    assert_string_equal (json_string_value (json_object_get (s_first_error (res, 1), "field")), "callee");
    assert_int_equal (json_integer_value (json_object_get (s_first_error (res, 1), "line")), 2);
    json_decref (res);
    pl_test_http_resp_free (&r);

    const char *csv = "phone,Callee Type\n+33 6 22 00 00 07,business\n+33 6 22 00 00 08,partner\n";
    assert_int_equal (fx_post (f, "?campaign=callee", FX_TOKEN, "text/csv", NULL, csv, strlen (csv), &r), 200);
    res = s_stream_results (&r);
    assert_int_equal (json_array_size (res), 2);
    assert_string_equal (s_status_of (res, 0), "accepted");
    s_expect_callee (f, s_lead_of (res, 0), "business");
    assert_string_equal (s_status_of (res, 1), "rejected");
    const json_t *e = s_first_error (res, 1);
    assert_string_equal (json_string_value (json_object_get (e, "field")), "callee");
    assert_int_equal (json_integer_value (json_object_get (e, "line")), 3);
    assert_int_equal (json_integer_value (json_object_get (e, "column")), 2);
    assert_string_equal (json_string_value (json_object_get (e, "header")), "Callee Type");
    json_decref (res);
    pl_test_http_resp_free (&r);

    /* The bus door: a native lead's callee is stored as it says; one naming another is nacked. */
    char err[256];
    pl_bus_client_t *c = pl_bus_client_new (f->redis, NULL, "crm-native", "intake", f->bus, pl_test_bus_options ("crm"),
                                            err, sizeof err);
    assert_non_null (c);
    pl_envelope_t env[2], *p[2];
    pl_envelope_ids_t ids[2];
    Plateau__V1__Lead lead[2];
    Plateau__V1__PhoneNumber ph[2];
    const char *raw[2] = { "06 22 00 00 09", "06 22 00 00 10" };
    const char *callee[2] = { "sole-trader", "individual" };
    for (int i = 0; i < 2; i++) {
        pl_envelope_init (&env[i], &ids[i], "crm-native", NULL, NULL);
        plateau__v1__lead__init (&lead[i]);
        plateau__v1__phone_number__init (&ph[i]);
        ph[i].raw = (char *) raw[i];
        lead[i].phone = &ph[i];
        lead[i].campaign = "native-callee";
        lead[i].country = "FR";
        lead[i].callee = (char *) callee[i];
        env[i].body_case = PLATEAU__V1__ENVELOPE__BODY_LEAD;
        env[i].lead = &lead[i];
        p[i] = &env[i];
    }
    assert_int_equal (pl_bus_client_send (c, p, 2), 0);
    int64_t end = pl_clock_mono_ms () + 10000;
    while (pl_clock_mono_ms () < end && pl_bus_client_inflight (c)) {
        pl_bus_client_process (c);
        pl_bus_client_tick (c);
        fx_pump (f, 10);
    }
    assert_int_equal (pl_bus_client_inflight (c), 0);
    assert_int_equal (pl_bus_client_count (c, "dead"), 1);     /* "individual" */
    pl_reply_t *k = pl_redis_command (f->redis, "KEYS %s", "pl:{camp:native-callee}:lead:*");
    assert_non_null (k);
    assert_int_equal (pl_reply_len (k), 1);
    pl_reply_t *pb = pl_redis_command (f->redis, "HGET %s pb", pl_reply_str (pl_reply_element (k, 0), NULL));
    assert_non_null (pb);
    size_t len;
    const char *bytes = pl_reply_str (pb, &len);
    Plateau__V1__Lead *stored = plateau__v1__lead__unpack (NULL, len, (const uint8_t *) bytes);
    assert_non_null (stored);
    assert_string_equal (stored->callee, "sole-trader");
    assert_string_equal (stored->phone->e164, "+33622000009");
    plateau__v1__lead__free_unpacked (stored, NULL);
    pl_reply_free (&pb);
    pl_reply_free (&k);
    pl_bus_client_destroy (&c);
}

/* An ETL tool's gzip body, and French Excel's "sep=;" file: both import. A gzip body sent
 * without its Content-Encoding is refused without echoing its bytes; another encoding is 415. */
static void
test_a_gzip_body_and_an_excel_sep_file_import (void **state)
{
    fx_t *f = *state;
    const char *csv = "sep=;\r\nexternal_id;t\u00e9l\u00e9phone\r\nz1;06 12 34 56 01\r\nz2;06 12 34 56 02\r\n";
    z_stream z = { 0 };
    assert_int_equal (deflateInit2 (&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    unsigned char gz[512];
    z.next_in = (Bytef *) csv;
    z.avail_in = (uInt) strlen (csv);
    z.next_out = gz;
    z.avail_out = sizeof gz;
    assert_int_equal (deflate (&z, Z_FINISH), Z_STREAM_END);
    size_t n = sizeof gz - z.avail_out;
    deflateEnd (&z);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, "?campaign=gz&country=FR", FX_TOKEN, "text/csv", "Content-Encoding: gzip\r\n", gz, n, &r), 200);
    assert_non_null (strstr (r.body, "\"accepted\":2"));
    assert_non_null (strstr (r.body, "\"line\":3"));        /* the file's lines, sep= included */
    pl_test_http_resp_free (&r);
    assert_int_equal (fx_post (f, "?campaign=gz2", FX_TOKEN, "text/csv", NULL, gz, n, &r), 400);
    for (const char *p = r.body; *p; p++)
        if ((unsigned char) *p < 0x20 && *p != '\n')
            fail_msg ("byte 0x%02x echoed: %s", (unsigned char) *p, r.body);
    assert_null (strstr (r.body, "\\u001f"));         /* nor escaped in the JSON */
    pl_test_http_resp_free (&r);
    assert_int_equal (fx_post (f, "?campaign=gz3", FX_TOKEN, "text/csv", "Content-Encoding: br\r\n", gz, n, &r), 415);
    pl_test_http_resp_free (&r);
}

static int
setup (void **state)
{
    const char *extra[] = { "PLATEAU_INTAKE_SOURCES=crm-a", "PLATEAU_INTAKE_MAX_JSON_BODY=4k", NULL };
    return fx_setup_with (state, extra);
}

static int
teardown (void **state)
{
    return fx_teardown (state);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_numbers_in_common_forms_normalise_and_invalid_ones_are_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown (test_french_windows_1252_csv_imports_with_accents_intact, setup, teardown),
        cmocka_unit_test_setup_teardown (test_idempotency_key_retry_returns_the_same_answer_and_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown (test_auth_and_bad_input_get_their_status_with_line_and_column, setup, teardown),
        cmocka_unit_test_setup_teardown (test_an_impossible_date_is_refused_with_its_field, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_source_cannot_read_another_sources_lead, setup, teardown),
        cmocka_unit_test_setup_teardown (test_accepted_leads_reach_scrub_and_every_decision_is_audited, setup, teardown),
        cmocka_unit_test_setup_teardown (test_bus_door_applies_a_native_lead_once_and_nacks_an_invalid_one, setup, teardown),
        cmocka_unit_test_setup_teardown (test_the_callee_is_stored_and_shown_whichever_the_door, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_gzip_body_and_an_excel_sep_file_import, setup, teardown),
    };
    return cmocka_run_group_tests_name ("intake_http", tests, NULL, NULL);
}
