/*  test_intake_crm.c — the CRM export presets through plateau-intake's HTTP door, against a real
 *  Redis: each sample of tests/data/crm imports with its CRM id, every number and the postal
 *  code stored where GET /v1/leads/{id} shows them, and a re-import of the same file is all
 *  duplicates; HubSpot's Miami number is American though the source's default region is FR;
 *  ?mapping= names a preset, and an unknown one is a 400 naming the mappings there are;
 *  countries written in French (in a Windows-1252 file) are read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <jansson.h>
#include "test_intake_fixture.h"

typedef struct {
    const char *external_id;
    const char *phones[5];              /* phone, then alt_phones, in order */
    const char *postal_code;
    const char *country;
} crm_row_t;

typedef struct {
    const char *file;
    const char *preset;
    size_t nrows;
    crm_row_t rows[4];
} crm_file_t;

/* The same expectations as tests/unit/test_intake_csv.c (docs/crm.md: main phone, mobile,
 * home, work, other; an empty main phone gives way to the next number). */
static const crm_file_t s_files[] = {
    {"salesforce_leads.csv", "salesforce", 4, {
        {"00Q8d00000LxQ1aEAF", {"+33199001234", "+33612981234"}, "69003", "FR"},
        {"00Q8d00000LxQ1bEAF", {"+12125550108", "+19175550119"}, "10001", "US"},
        {"00Q8d00000LxQ1cEAF", {"+447911123123"}, "SW1A 0AA", "GB"},
        {"00Q8d00000LxQ1dEAF", {"+33612984567"}, "44000", "FR"}}},
    {"salesforce_contacts.csv", "salesforce", 3, {
        {"0038d00000QmZ7aAAF", {"+13055550121", "+17865550134", "+13055550177"}, "33131", "US"},
        {"0038d00000QmZ7bAAF", {"+33199003456", "+33612983456", "+33199003457", "+33612983458"},
         "75011", "FR"},
        {"0038d00000QmZ7cAAF", {"+447911123234", "+442079460321", "+447911123235"}, "CA12 5BX",
         "GB"}}},
    {"hubspot_contacts.csv", "hubspot", 4, {
        {"51234567801", {"+13055550142", "+17865550150"}, "33131", "US"},
        {"51234567802", {"+33199002345", "+33612982345"}, "59000", "FR"},
        {"51234567803", {"+447911123456"}, "M3 2BW", "GB"},
        {"51234567804", {"+15125550187"}, "78701", "US"}}},
    {"zoho_contacts.csv", "zoho", 4, {
        {"zcrm_5725767000000412001", {"+33199004567", "+33612984560", "+33199004568"}, "33000",
         "FR"},
        {"zcrm_5725767000000412002", {"+17865550112", "+13055550113"}, "33130", "US"},
        {"zcrm_5725767000000412003", {"+442079460456", "+447911123345"}, "BS1 4DJ", "GB"},
        {"zcrm_5725767000000412004", {"+33199005678"}, "31000", "FR"}}},
    {"dynamics_leads.csv", "dynamics", 3, {
        {"3f2b8c1e-6a4d-ef11-8409-000d3a5c7b01", {"+14045550131", "+16785550132"}, "30303", "US"},
        {"3f2b8c1e-6a4d-ef11-8409-000d3a5c7b02", {"+33612985678", "+33199006789"}, "35000", "FR"},
        {"3f2b8c1e-6a4d-ef11-8409-000d3a5c7b03", {"+441614960123", "+447911123567"}, "M3 3HN",
         "GB"}}},
    {"pipedrive_persons.csv", "pipedrive", 3, {
        {"1042", {"+33612987890", "+33199007890"}, "44000", "FR"},
        {"1043", {"+17255550146", "+17025550145", "+17025550144"}, "89109", "US"},
        {"1044", {"+447911123678", "+442079460678"}, "B1 2JP", "GB"}}},
};

static json_t *
s_json (const char *body)
{
    json_t *j = json_loads (body ? body : "", 0, NULL);
    if (!j)
        fail_msg ("not JSON: %s", body ? body : "(null)");
    return j;
}

/* A streamed answer: its item results in order, and its summary. */
static json_t *
s_results (pl_test_http_resp_t *r, json_t **summary)
{
    json_t *a = json_array ();
    *summary = NULL;
    char *save = NULL;
    for (char *line = strtok_r (r->body, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        json_t *o = s_json (line);
        if (json_object_get (o, "status"))
            json_array_append (a, o);
        else if (json_object_get (o, "summary"))
            *summary = json_incref (json_object_get (o, "summary"));
        json_decref (o);
    }
    assert_non_null (*summary);
    return a;
}

static const char *
s_str (const json_t *o, const char *key)
{
    const char *v = json_string_value (json_object_get (o, key));
    return v ? v : "";
}

/* POSTs one sample file as text/csv with `query`; returns its results and summary. */
static json_t *
s_post_sample (fx_t *f, const char *file, const char *query, json_t **summary)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/tests/data/crm/%s", getenv ("PL_SOURCE_DIR"), file);
    size_t len;
    char *csv = fx_read_file (path, &len);
    assert_non_null (csv);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, query, FX_TOKEN, "text/csv", NULL, csv, len, &r), 200);
    json_t *res = s_results (&r, summary);
    pl_test_http_resp_free (&r);
    free (csv);
    return res;
}

/* The stored lead, as GET /v1/leads/{id} shows it (a new reference). */
static json_t *
s_get_lead (fx_t *f, const char *id)
{
    pl_test_http_resp_t g = { 0 };
    assert_int_equal (fx_get_lead (f, id, &g), 200);
    json_t *gj = s_json (g.body);
    json_t *lead = json_incref (json_object_get (gj, "lead"));
    json_decref (gj);
    pl_test_http_resp_free (&g);
    return lead;
}

static void
s_check_stored (fx_t *f, const char *file, const crm_row_t *want, const char *lead_id)
{
    json_t *lead = s_get_lead (f, lead_id);
    assert_string_equal (s_str (lead, "external_id"), want->external_id);
    assert_string_equal (s_str (json_object_get (lead, "phone"), "e164"), want->phones[0]);
    json_t *alts = json_object_get (lead, "alt_phones");
    size_t nalt = 0;
    while (nalt + 1 < 5 && want->phones[nalt + 1])
        nalt++;
    if (json_array_size (alts) != nalt)
        fail_msg ("%s %s: %zu alt phones stored, want %zu", file, want->external_id,
                  json_array_size (alts), nalt);
    for (size_t k = 0; k < nalt; k++)
        assert_string_equal (s_str (json_array_get (alts, k), "e164"), want->phones[k + 1]);
    assert_string_equal (s_str (lead, "postal_code"), want->postal_code);
    assert_string_equal (s_str (lead, "country"), want->country);
    json_decref (lead);
}

/* The acceptance of the presets: every sample in, each lead as its CRM has it, then the same
 * file again is duplicates only, each found by its CRM id. The source's default region is FR,
 * as for the French call centre the exports failed at. */
static void
test_each_crm_sample_imports_whole_and_a_reimport_is_all_duplicates (void **state)
{
    fx_t *f = *state;
    for (size_t i = 0; i < sizeof s_files / sizeof s_files[0]; i++) {
        const crm_file_t *cf = &s_files[i];
        char query[128];
        snprintf (query, sizeof query, "?campaign=crm-%s-%zu&country=FR", cf->preset, i);
        json_t *summary;
        json_t *res = s_post_sample (f, cf->file, query, &summary);
        assert_string_equal (s_str (summary, "mapping"), cf->preset);
        assert_int_equal (json_integer_value (json_object_get (summary, "accepted")), cf->nrows);
        assert_int_equal (json_array_size (res), cf->nrows);
        const char *ids[4];
        for (size_t k = 0; k < cf->nrows; k++) {
            json_t *o = json_array_get (res, k);
            if (strcmp (s_str (o, "status"), "accepted") != 0)
                fail_msg ("%s row %zu: %s", cf->file, k + 1, json_dumps (o, JSON_COMPACT));
            ids[k] = s_str (o, "lead_id");
            s_check_stored (f, cf->file, &cf->rows[k], ids[k]);
        }

        json_t *summary2;
        json_t *again = s_post_sample (f, cf->file, query, &summary2);
        assert_int_equal (json_integer_value (json_object_get (summary2, "duplicate")), cf->nrows);
        assert_int_equal (json_integer_value (json_object_get (summary2, "accepted")), 0);
        for (size_t k = 0; k < cf->nrows; k++) {
            json_t *o = json_array_get (again, k);
            assert_string_equal (s_str (o, "status"), "duplicate");
            assert_string_equal (s_str (o, "duplicate_of"), "external_id");
            assert_string_equal (s_str (o, "lead_id"), ids[k]);
        }
        json_decref (again);
        json_decref (summary2);
        json_decref (res);
        json_decref (summary);
    }
}

/* The number that was read as French: (305) 555-0142 of a HubSpot contact in the United
 * States is +13055550142, in Miami's zone. */
static void
test_the_hubspot_miami_number_is_american (void **state)
{
    fx_t *f = *state;
    json_t *summary;
    json_t *res = s_post_sample (f, "hubspot_contacts.csv", "?campaign=miami&country=FR", &summary);
    json_t *lead = s_get_lead (f, s_str (json_array_get (res, 0), "lead_id"));
    json_t *phone = json_object_get (lead, "phone");
    assert_string_equal (s_str (phone, "e164"), "+13055550142");
    assert_string_equal (s_str (phone, "region"), "US");
    assert_string_equal (json_string_value (json_array_get (json_object_get (phone, "zones"), 0)),
                         "America/New_York");
    assert_string_equal (s_str (lead, "country"), "US");
    assert_string_equal (s_str (lead, "state"), "Florida");
    json_decref (lead);
    json_decref (res);
    json_decref (summary);
}

/* ?mapping= names a preset for an export its header does not give away (Salesforce's Data
 * Loader writes API names); a name that is neither a mapping nor a preset is refused, naming
 * the parameter and what it could have been. */
static void
test_mapping_names_a_preset_and_an_unknown_one_is_a_400 (void **state)
{
    fx_t *f = *state;
    const char *csv = "Id,FirstName,LastName,Phone,MobilePhone,MailingPostalCode,MailingCountry\r\n"
                      "0038d00000QmZ9aAAF,Ava,Brooks,,(212) 555-0161,10013,United States\r\n";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, "?campaign=dl&country=FR", FX_TOKEN, "text/csv", NULL, csv,
                               strlen (csv), &r), 200);
    json_t *summary;
    json_t *res = s_results (&r, &summary);
    assert_string_equal (s_str (json_array_get (res, 0), "status"), "rejected");  /* read as FR */
    assert_null (json_object_get (summary, "mapping"));
    json_decref (res);
    json_decref (summary);
    pl_test_http_resp_free (&r);

    assert_int_equal (fx_post (f, "?campaign=dl&country=FR&mapping=salesforce", FX_TOKEN,
                               "text/csv", NULL, csv, strlen (csv), &r), 200);
    res = s_results (&r, &summary);
    assert_string_equal (s_str (summary, "mapping"), "salesforce");
    assert_string_equal (s_str (json_array_get (res, 0), "status"), "accepted");
    json_t *lead = s_get_lead (f, s_str (json_array_get (res, 0), "lead_id"));
    assert_string_equal (s_str (json_object_get (lead, "phone"), "e164"), "+12125550161");
    assert_string_equal (s_str (lead, "postal_code"), "10013");
    assert_string_equal (s_str (lead, "country"), "US");
    json_decref (lead);
    json_decref (res);
    json_decref (summary);
    pl_test_http_resp_free (&r);

    assert_int_equal (fx_post (f, "?campaign=dl&mapping=sugarcrm", FX_TOKEN, "text/csv", NULL,
                               csv, strlen (csv), &r), 400);
    json_t *j = s_json (r.body);
    json_t *e = json_object_get (j, "error");
    assert_string_equal (s_str (e, "code"), "invalid_value");
    assert_string_equal (s_str (e, "field"), "mapping");
    assert_non_null (strstr (s_str (e, "message"), "unknown mapping 'sugarcrm'"));
    assert_non_null (strstr (s_str (e, "message"), "salesforce"));
    assert_non_null (strstr (s_str (e, "message"), "pipedrive"));
    json_decref (j);
    pl_test_http_resp_free (&r);

    /* Refused before its Idempotency-Key is taken: the corrected request with the same key is
     * read, not answered with the stored 400. */
    assert_int_equal (fx_post (f, "?campaign=dl&mapping=salesfroce", FX_TOKEN, "text/csv", "Idempotency-Key: k-map\r\n",
                               csv, strlen (csv), &r), 400);
    pl_test_http_resp_free (&r);
    assert_int_equal (fx_post (f, "?campaign=dl&mapping=salesforce", FX_TOKEN, "text/csv", "Idempotency-Key: k-map\r\n",
                               csv, strlen (csv), &r), 200);
    res = s_results (&r, &summary);
    assert_string_equal (s_str (summary, "mapping"), "salesforce");
    json_decref (res);
    json_decref (summary);
    pl_test_http_resp_free (&r);
}

/* A French sheet names its countries in French, in Windows-1252: "États-Unis" reads a US
 * number, "Royaume-Uni" a British one; a country not known is that row's error alone. */
static void
test_country_names_in_french_are_read (void **state)
{
    fx_t *f = *state;
    const char *csv = "Record ID;Phone Number;Country/Region\r\n"
                      "fr-1;(305) 555-0144;\xC9tats-Unis\r\n"
                      "fr-2;020 7946 0112;Royaume-Uni\r\n"
                      "fr-3;030 901822;Allemagne\r\n"
                      "fr-4;(305) 555-0145;Floride du Nord\r\n";
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (fx_post (f, "?campaign=pays&country=FR", FX_TOKEN,
                               "text/csv; charset=windows-1252", NULL, csv, strlen (csv), &r), 200);
    json_t *summary;
    json_t *res = s_results (&r, &summary);
    assert_string_equal (s_str (summary, "mapping"), "hubspot");
    static const char *const want[][2] = {{"US", "+13055550144"}, {"GB", "+442079460112"},
                                          {"DE", "+4930901822"}};
    for (size_t i = 0; i < 3; i++) {
        json_t *o = json_array_get (res, i);
        assert_string_equal (s_str (o, "status"), "accepted");
        json_t *lead = s_get_lead (f, s_str (o, "lead_id"));
        assert_string_equal (s_str (lead, "country"), want[i][0]);
        assert_string_equal (s_str (json_object_get (lead, "phone"), "e164"), want[i][1]);
        json_decref (lead);
    }
    json_t *bad = json_array_get (res, 3);
    assert_string_equal (s_str (bad, "status"), "rejected");
    json_t *e = json_array_get (json_object_get (bad, "errors"), 0);
    assert_string_equal (s_str (e, "field"), "country");
    assert_string_equal (s_str (e, "code"), "invalid_country");
    assert_string_equal (s_str (e, "header"), "Country/Region");
    assert_int_equal (json_integer_value (json_object_get (e, "line")), 5);
    json_decref (res);
    json_decref (summary);
    pl_test_http_resp_free (&r);
}

static int
setup (void **state)
{
    const char *extra[] = { "PLATEAU_INTAKE_SOURCES=crm-a", NULL };
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
        cmocka_unit_test_setup_teardown (test_each_crm_sample_imports_whole_and_a_reimport_is_all_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown (test_the_hubspot_miami_number_is_american, setup, teardown),
        cmocka_unit_test_setup_teardown (test_mapping_names_a_preset_and_an_unknown_one_is_a_400, setup, teardown),
        cmocka_unit_test_setup_teardown (test_country_names_in_french_are_read, setup, teardown),
    };
    return cmocka_run_group_tests_name ("intake_crm", tests, NULL, NULL);
}
