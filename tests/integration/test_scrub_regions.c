/*  test_scrub_regions.c — a state's rules by the number's area code or the address, end to end
 *  (issue 17, finding 4 and acceptance 3): leads through the intake and scrub at 20:30 New York
 *  time. A Florida number with no address is deferred by Florida's hours; the intake's lead shows
 *  its regions with their sources, scrub's verdict which one bound, and the audit's scrub.verdict
 *  carries both as typed fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_scrub_fixture.h"

/* 2026-09-15 20:30 in New York (EDT) = 2026-09-16T00:30:00Z; Florida allows calls until 20:00. */
#define NOW_MS 1789518600000LL
#define N_LEADS 3

static bool
s_all_judged (void *arg)
{
    sx_t *f = arg;
    sx_pump (f, 50);
    return sx_count_events (f, "scrub.verdict") >= N_LEADS;
}

/* "US:number US-FL:number" of a JSON array of {region, source[, binding]}; "*" marks binding. */
static void
s_regions (json_t *a, char *out, size_t len)
{
    out[0] = 0;
    for (size_t i = 0; i < json_array_size (a); i++) {
        json_t *r = json_array_get (a, i);
        size_t u = strlen (out);
        snprintf (out + u, len - u, "%s%s:%s%s", i ? " " : "", json_string_value (json_object_get (r, "region")),
                  json_string_value (json_object_get (r, "source")),
                  json_is_true (json_object_get (r, "binding")) ? "*" : "");
    }
}

/* The lead's GET: its phone's regions, and scrub's verdict for its number. */
static void
s_lead (sx_t *f, const char *id, char *regions, size_t rlen, char *verdict_regions, size_t vlen,
        char *decision, char *decisive, char *why_region)
{
    char path[320];
    snprintf (path, sizeof path, "/v1/leads/%s", id);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (sx_http (&f->intake, "GET", path, SX_TOKEN, NULL, NULL, &r), 200);
    json_t *o = json_loads (r.body, 0, NULL);
    assert_non_null (o);
    s_regions (json_object_get (json_object_get (json_object_get (o, "lead"), "phone"), "regions"), regions, rlen);
    json_t *v = json_array_get (json_object_get (json_object_get (o, "verdict"), "numbers"), 0);
    s_regions (json_object_get (v, "regions"), verdict_regions, vlen);
    snprintf (decision, 16, "%s", json_string_value (json_object_get (v, "decision")) ?: "?");
    snprintf (decisive, 32, "%s", json_string_value (json_object_get (v, "decisive")) ?: "");
    why_region[0] = 0;
    json_t *reasons = json_object_get (v, "reasons");
    for (size_t i = 0; i < json_array_size (reasons); i++) {
        json_t *x = json_array_get (reasons, i);
        if (strcmp (json_string_value (json_object_get (x, "rule")) ?: "", decisive) == 0
            && json_object_get (x, "region"))
            snprintf (why_region, 32, "%s:%s", json_string_value (json_object_get (x, "region")),
                      json_string_value (json_object_get (x, "region_source")));
    }
    json_decref (o);
    pl_test_http_resp_free (&r);
}

static const sx_event_t *
s_event (sx_t *f, const char *lead)
{
    for (size_t i = 0; i < f->naudit; i++)
        if (strcmp (f->events[i].type, "scrub.verdict") == 0 && strcmp (f->events[i].lead_id, lead) == 0)
            return &f->events[i];
    return NULL;
}

static void
test_a_state_binds_by_the_numbers_area_code_or_the_address (void **state)
{
    sx_t *f = *state;
    /* A fresh registry copy, so that only the hours stand between each lead and a call. */
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (sx_http (&f->scrub[0], "PUT", "/v1/lists/us-dnc?jurisdiction=US&taken=2026-09-14",
                               SX_OPS_TOKEN, "text/plain", "202,5550199\n", &r), 201);
    pl_test_http_resp_free (&r);

    /* A Miami number with no address; the same with a New York address; a New York number with a
     * Florida address. */
    const char *body = "{\"leads\":["
                       "{\"external_id\":\"fl-none\",\"phone\":\"+13055550123\",\"campaign\":\"autumn\"},"
                       "{\"external_id\":\"fl-ny\",\"phone\":\"+13055550124\",\"campaign\":\"autumn\","
                       "\"country\":\"US\",\"state\":\"New York\"},"
                       "{\"external_id\":\"ny-fl\",\"phone\":\"+12125550125\",\"campaign\":\"autumn\","
                       "\"country\":\"US\",\"postal_code\":\"33101\"}]}";
    assert_int_equal (sx_http (&f->intake, "POST", "/v1/leads", SX_TOKEN, "application/json", body, &r), 200);
    json_t *o = json_loads (r.body, 0, NULL);
    pl_test_http_resp_free (&r);
    json_t *results = json_object_get (o, "results");
    assert_int_equal (json_array_size (results), N_LEADS);
    char ids[N_LEADS][40];
    for (int i = 0; i < N_LEADS; i++) {
        const char *id = json_string_value (json_object_get (json_array_get (results, i), "lead_id"));
        assert_non_null (id);
        snprintf (ids[i], sizeof ids[i], "%s", id);
    }
    json_decref (o);
    assert_true (pl_test_wait_until (s_all_judged, f, 30000));

    char regions[128], vregions[128], decision[16], decisive[32], why[32];
    /* 1. Florida by its number alone: deferred by us.fl, which applied through the number. */
    s_lead (f, ids[0], regions, sizeof regions, vregions, sizeof vregions, decision, decisive, why);
    assert_string_equal (regions, "US:number US-FL:number");
    assert_string_equal (decision, "defer");
    assert_string_equal (decisive, "us.fl");
    assert_string_equal (why, "US-FL:number");
    assert_string_equal (vregions, "US:number US-FL:number*");
    const sx_event_t *e = s_event (f, ids[0]);
    assert_non_null (e);
    assert_string_equal (e->decision, "defer");
    assert_string_equal (e->regions, "US:number US-FL:number");
    assert_non_null (strstr (e->rule_regions, "us.fl=US-FL:number"));

    /* 2. Florida by its number, New York by its address: both kept, Florida binds. */
    s_lead (f, ids[1], regions, sizeof regions, vregions, sizeof vregions, decision, decisive, why);
    assert_string_equal (regions, "US:number US-FL:number US-NY:address");
    assert_string_equal (decision, "defer");
    assert_string_equal (decisive, "us.fl");
    assert_string_equal (why, "US-FL:number");
    e = s_event (f, ids[1]);
    assert_non_null (e);
    assert_string_equal (e->regions, "US:number US-FL:number US-NY:address");

    /* 3. A New York number with a Miami ZIP code: Florida by the address. */
    s_lead (f, ids[2], regions, sizeof regions, vregions, sizeof vregions, decision, decisive, why);
    assert_string_equal (regions, "US:number US-NY:number US-FL:address");
    assert_string_equal (decision, "defer");
    assert_string_equal (decisive, "us.fl");
    assert_string_equal (why, "US-FL:address");
    assert_string_equal (vregions, "US:number US-NY:number US-FL:address*");
    e = s_event (f, ids[2]);
    assert_non_null (e);
    assert_non_null (strstr (e->rule_regions, "us.fl=US-FL:address"));
}

static int
s_setup (void **state)
{
    sx_t *f = sx_new ();
    if (!f)
        return -1;
    char clock[64], lists[600];
    snprintf (clock, sizeof clock, "PLATEAU_CLOCK=virtual:%lld", NOW_MS);
    snprintf (lists, sizeof lists, "PLATEAU_SCRUB_LISTS_DIR=%s/lists", f->dir);
    const char *extra[] = { clock, lists, NULL };
    if (sx_start_scrub (f, 0, extra) != 0 || sx_start_intake (f) != 0) {
        sx_destroy (f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    sx_destroy (*state);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_a_state_binds_by_the_numbers_area_code_or_the_address, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
