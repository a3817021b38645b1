/*  test_scrub_body.c — what scrub reads of a request before it acts (services/scrub/body.c and
 *  door.c): the numbers of POST /v1/scrub in JSON and CSV with the line of each, the refusals
 *  with their place, a consent's proof (a capture time before 1970 is no proof), and the lead a
 *  LeadSubmitted carries (an id too long for the ids made from it is refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "body.h"
#include "door.h"
#include "plateau/error.h"

#define NOW_MS 1777939200000LL          /* 2026-05-05T00:00:00Z */

static void
test_json_numbers_come_in_order_with_what_the_body_names (void **state)
{
    (void) state;
    const char *body = "{\"numbers\":[\"+33612345678\",\"06 12 34 56 79\"],\"campaign\":\"acme-fr\",\"country\":\"FR\"}";
    size_t lines[11] = { 0 };
    scrub_body_numbers_t b;
    scrub_body_error_t e;
    assert_int_equal (scrub_body_numbers (body, strlen (body), true, 10, lines, &b, &e), 0);
    assert_int_equal (b.n, 2);
    assert_string_equal (b.nums[0], "+33612345678");
    assert_string_equal (b.nums[1], "06 12 34 56 79");
    assert_string_equal (b.campaign, "acme-fr");
    assert_string_equal (b.country, "FR");
    assert_null (b.jurisdiction);
    assert_int_equal (lines[0], 0);             /* JSON numbers have no line */
    scrub_body_numbers_fini (&b);
}

static void
test_csv_numbers_are_first_cells_with_their_lines_after_a_header (void **state)
{
    (void) state;
    const char *body = "number,name\n+33612345678,Dupont\n\n\"06 12 34 56 79\";Martin\r\n0145678901\tParis";
    size_t lines[11] = { 0 };
    scrub_body_numbers_t b;
    scrub_body_error_t e;
    assert_int_equal (scrub_body_numbers (body, strlen (body), false, 10, lines, &b, &e), 0);
    assert_int_equal (b.n, 3);
    assert_string_equal (b.nums[0], "+33612345678");
    assert_string_equal (b.nums[1], "06 12 34 56 79");
    assert_string_equal (b.nums[2], "0145678901");
    assert_int_equal (lines[0], 2);
    assert_int_equal (lines[1], 4);
    assert_int_equal (lines[2], 5);
    assert_null (b.campaign);
    scrub_body_numbers_fini (&b);
}

static void
test_refused_bodies_say_why_and_where (void **state)
{
    (void) state;
    size_t lines[3] = { 0 };
    scrub_body_numbers_t b;
    scrub_body_error_t e;
    const char *broken = "{\"numbers\":[\n\"+33612345678\",]}";
    assert_int_equal (scrub_body_numbers (broken, strlen (broken), true, 2, lines, &b, &e), PL_EINVAL);
    assert_int_equal (e.status, 400);
    assert_string_equal (e.code, "bad_json");
    assert_int_equal (e.line, 2);
    scrub_body_numbers_fini (&b);

    const char *item = "{\"numbers\":[\"+33612345678\",12]}";
    assert_int_equal (scrub_body_numbers (item, strlen (item), true, 2, lines, &b, &e), PL_EINVAL);
    assert_string_equal (e.code, "invalid");
    assert_string_equal (e.field, "numbers[1]");
    scrub_body_numbers_fini (&b);

    const char *many = "+33612345678\n+33612345679\n+33612345670\n";
    assert_int_equal (scrub_body_numbers (many, strlen (many), false, 2, lines, &b, &e), PL_ETOOBIG);
    assert_int_equal (e.status, 413);
    assert_string_equal (e.code, "too_many_items");
    assert_string_equal (e.message, "at most 2 numbers a request");
    assert_int_equal (e.line, 3);
    scrub_body_numbers_fini (&b);
}

static void
test_a_consent_needs_its_proof_and_a_capture_time_after_1970 (void **state)
{
    (void) state;
    scrub_body_consent_t b;
    scrub_body_error_t e;
    const char *good = "{\"number\":\"+33612345678\",\"source\":\"web\",\"evidence_ref\":\"s3://p/1\","
                       "\"captured_at\":\"2026-05-01T09:30:00Z\",\"written\":true,\"channel\":\"phone\"}";
    assert_int_equal (scrub_body_consent (good, strlen (good), NOW_MS, &b, &e), 0);
    assert_string_equal (b.number, "+33612345678");
    assert_int_equal (b.captured_at_ms, 1777627800000LL);
    assert_true (b.written);
    assert_string_equal (b.tenant, "");
    scrub_body_consent_fini (&b);

    /* A zero date from a CRM ("0001-01-01") is no capture time. */
    const char *old = "{\"number\":\"+33612345678\",\"source\":\"web\",\"evidence_ref\":\"s3://p/1\","
                      "\"captured_at\":\"0001-01-01T00:00:00Z\"}";
    assert_int_equal (scrub_body_consent (old, strlen (old), NOW_MS, &b, &e), PL_EINVAL);
    assert_string_equal (e.code, "invalid");
    assert_string_equal (e.field, "captured_at");
    scrub_body_consent_fini (&b);

    const char *missing = "{\"number\":\"+33612345678\",\"source\":\"web\",\"captured_at\":1777000000000}";
    assert_int_equal (scrub_body_consent (missing, strlen (missing), NOW_MS, &b, &e), PL_EINVAL);
    assert_string_equal (e.code, "missing");
    assert_string_equal (e.field, "evidence_ref");
    scrub_body_consent_fini (&b);

    assert_int_equal (scrub_body_consent (NULL, 0, NOW_MS, &b, &e), PL_EINVAL);
    assert_string_equal (e.code, "bad_json");
    assert_string_equal (e.message, "empty body");
    scrub_body_consent_fini (&b);
}

static void
test_an_opt_out_needs_its_number (void **state)
{
    (void) state;
    scrub_body_optout_t b;
    scrub_body_error_t e;
    const char *good = "{\"number\":\"06 12 34 56 78\",\"country\":\"FR\",\"requested_at\":1777000000000}";
    assert_int_equal (scrub_body_optout (good, strlen (good), &b, &e), 0);
    assert_string_equal (b.number, "06 12 34 56 78");
    assert_string_equal (b.debt_ref, "");
    assert_int_equal (b.requested_at_ms, 1777000000000LL);
    scrub_body_optout_fini (&b);

    const char *twice = "{\"number\":\"+33612345678\",\"number\":\"+33612345679\"}";
    assert_int_equal (scrub_body_optout (twice, strlen (twice), &b, &e), PL_EINVAL);
    assert_string_equal (e.code, "bad_json");
    scrub_body_optout_fini (&b);

    const char *country = "{\"number\":\"0612345678\",\"country\":\"FRA\"}";
    assert_int_equal (scrub_body_optout (country, strlen (country), &b, &e), PL_EINVAL);
    assert_string_equal (e.field, "country");
    scrub_body_optout_fini (&b);
}

static void
test_a_lead_id_too_long_for_its_consent_ids_is_refused (void **state)
{
    (void) state;
    Plateau__V1__PhoneNumber phone = PLATEAU__V1__PHONE_NUMBER__INIT;
    phone.e164 = "+33612345678";
    Plateau__V1__Consent k = PLATEAU__V1__CONSENT__INIT;
    Plateau__V1__Consent *ks[11];
    for (size_t i = 0; i < 11; i++)
        ks[i] = &k;
    char id[SCRUB_LEAD_ID_MAX + 2];
    memset (id, 'L', SCRUB_LEAD_ID_MAX);
    id[SCRUB_LEAD_ID_MAX] = '\0';
    Plateau__V1__Lead lead = PLATEAU__V1__LEAD__INIT;
    lead.id = id;
    lead.campaign = "acme-fr";
    lead.phone = &phone;
    lead.consents = ks;
    lead.n_consents = 11;
    scrub_number_t nums[SCRUB_LEAD_MAX_NUMBERS];
    size_t n = 0;
    char reason[256];
    assert_int_equal (scrub_door_lead_numbers (&lead, nums, &n, reason, sizeof reason), 0);
    assert_int_equal (n, 1);
    /* At the bound, every consent keeps an id of its own. */
    scrub_consent_t c1, c10;
    assert_true (scrub_door_lead_consent (&lead, 1, "acme", &c1));
    assert_true (scrub_door_lead_consent (&lead, 10, "acme", &c10));
    assert_string_not_equal (c1.id, c10.id);
    assert_string_equal (c10.id + SCRUB_LEAD_ID_MAX, ".c10");

    strcat (id, "L");
    assert_int_equal (scrub_door_lead_numbers (&lead, nums, &n, reason, sizeof reason), PL_EINVAL);
    assert_non_null (strstr (reason, "an id of at most 64 bytes"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_json_numbers_come_in_order_with_what_the_body_names),
        cmocka_unit_test (test_csv_numbers_are_first_cells_with_their_lines_after_a_header),
        cmocka_unit_test (test_refused_bodies_say_why_and_where),
        cmocka_unit_test (test_a_consent_needs_its_proof_and_a_capture_time_after_1970),
        cmocka_unit_test (test_an_opt_out_needs_its_number),
        cmocka_unit_test (test_a_lead_id_too_long_for_its_consent_ids_is_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
