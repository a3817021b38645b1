/*  test_sec_scrub_http.c — attacks on scrub's HTTP routes: callers without a token, sources on
 *  an operator's routes, a source acting for another's tenant, bodies and batches over their
 *  limits, and input that is not what the route takes. Every answer is checked for its status
 *  and, where the project's error format names one, its field; nothing refused changes state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_scrub_fixture.h"

typedef struct {
    const char *what;
    const char *method, *path, *token, *ctype, *body;
    int status;
    const char *field;            /* "\"field\":\"…\"" expected in the answer, or NULL */
} s_case_t;

#define A SX_TOKEN
#define B SX_TOKEN_B
#define OPS SX_OPS_TOKEN
#define JSON "application/json"

static const s_case_t s_cases[] = {
    /* who may call */
    { "no token", "POST", "/v1/scrub", NULL, JSON, "{\"numbers\":[]}", 401, NULL },
    { "unknown token", "POST", "/v1/dnc", "0123456789abcdef-nobody", JSON, "{}", 401, NULL },
    { "no token on lists", "GET", "/v1/lists", NULL, NULL, NULL, 401, NULL },
    { "a CRM removes an opt-out", "DELETE", "/v1/dnc/+33612345678", A, NULL, NULL, 403, NULL },
    { "a CRM loads a list", "PUT", "/v1/lists/us-dnc?jurisdiction=US&taken=2026-01-01", A, "text/plain",
      "202,5550199\n", 403, NULL },
    { "an operator may not scrub", "POST", "/v1/scrub", OPS, JSON, "{\"numbers\":[]}", 403, NULL },
    { "opt-out for another's tenant", "POST", "/v1/dnc", B, JSON, "{\"number\":\"+33612345678\",\"tenant\":\"acme\"}",
      403, "\"field\":\"tenant\"" },
    { "consent for another's tenant", "POST", "/v1/consents", A, JSON,
      "{\"number\":\"+33612345678\",\"tenant\":\"globex\",\"source\":\"w\",\"evidence_ref\":\"e\","
      "\"captured_at\":\"2026-01-01T00:00:00Z\"}", 403, "\"field\":\"tenant\"" },
    /* bad input */
    { "broken JSON", "POST", "/v1/dnc", A, JSON, "{\"number\":", 400, "\"line\":1" },
    { "wrong type", "POST", "/v1/dnc", A, "text/plain", "+33612345678", 415, NULL },
    { "not a number", "POST", "/v1/dnc", A, JSON, "{\"number\":\"hello\"}", 400, "\"field\":\"number\"" },
    { "number missing", "POST", "/v1/dnc", A, JSON, "{\"channel\":\"call\"}", 400, "\"field\":\"number\"" },
    { "number not a string", "POST", "/v1/dnc", A, JSON, "{\"number\":33612345678}", 400, "\"field\":\"number\"" },
    { "opt-out from the future", "POST", "/v1/dnc", A, JSON,
      "{\"number\":\"+33612345678\",\"requested_at\":\"2099-01-01T00:00:00Z\"}", 400, "\"field\":\"requested_at\"" },
    { "consent without its time", "POST", "/v1/consents", A, JSON,
      "{\"number\":\"+33612345678\",\"source\":\"w\",\"evidence_ref\":\"e\"}", 400, "\"field\":\"captured_at\"" },
    { "consent on a strange channel", "POST", "/v1/consents", A, JSON,
      "{\"number\":\"+33612345678\",\"source\":\"w\",\"evidence_ref\":\"e\",\"channel\":\"pigeon\","
      "\"captured_at\":\"2026-01-01T00:00:00Z\"}", 400, "\"field\":\"channel\"" },
    { "scrub without numbers", "POST", "/v1/scrub", A, JSON, "{\"list\":[]}", 400, "\"field\":\"numbers\"" },
    { "scrub a non-string", "POST", "/v1/scrub", A, JSON, "{\"numbers\":[\"+33612345678\",{}]}", 400,
      "\"field\":\"numbers[1]\"" },
    { "scrub for no jurisdiction", "POST", "/v1/scrub", A, JSON, "{\"numbers\":[],\"jurisdiction\":\"ZZ\"}", 400,
      "\"field\":\"jurisdiction\"" },
    { "scrub for an unknown callee", "POST", "/v1/scrub", A, JSON, "{\"numbers\":[],\"callee\":\"robot\"}", 400,
      "\"field\":\"callee\"" },
    { "scrub for an unknown callee (query)", "POST", "/v1/scrub?callee=Business", A, "text/csv", "+33612345678\n", 400,
      "\"field\":\"callee\"" },
    { "revoke an unknown consent", "DELETE", "/v1/consents/nope", A, NULL, NULL, 404, "\"field\":\"id\"" },
    { "unknown list", "PUT", "/v1/lists/everyone?jurisdiction=US&taken=2026-01-01", OPS, "text/plain", "1\n", 400,
      "\"field\":\"name\"" },
    { "jurisdiction without a profile", "PUT", "/v1/lists/us-dnc?jurisdiction=ZZ&taken=2026-01-01", OPS,
      "text/plain", "1\n", 400, "\"field\":\"jurisdiction\"" },
    { "a copy from the future", "PUT", "/v1/lists/us-dnc?jurisdiction=US&taken=2099-01-01", OPS, "text/plain",
      "1\n", 400, "\"field\":\"taken\"" },
    { "a date that is not one", "PUT", "/v1/lists/us-dnc?jurisdiction=US&taken=2026-02-30", OPS, "text/plain",
      "1\n", 400, "\"field\":\"taken\"" },
    { "unknown mode", "PUT", "/v1/lists/us-dnc?jurisdiction=US&taken=2026-01-01&mode=merge", OPS, "text/plain",
      "1\n", 400, "\"field\":\"mode\"" },
    { "unknown format", "PUT", "/v1/lists/us-dnc?jurisdiction=US&taken=2026-01-01&format=xml", OPS, "text/plain",
      "1\n", 400, "\"field\":\"format\"" },
    { "bad_lines neither", "PUT", "/v1/lists/us-dnc?jurisdiction=US&taken=2026-01-01&bad_lines=maybe", OPS,
      "text/plain", "1\n", 400, "\"field\":\"bad_lines\"" },
    { "a delta with nothing in force", "PUT", "/v1/lists/tps?jurisdiction=GB&taken=2026-01-01&mode=delta", OPS,
      "text/plain", "02079460000,A\n", 422, "\"field\":\"body\"" },
};

static void
test_each_route_refuses_who_may_not_call_it_and_what_it_cannot_take (void **state)
{
    sx_t *f = *state;
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        const s_case_t *c = &s_cases[i];
        pl_test_http_resp_t r = { 0 };
        int st = sx_http (&f->scrub[0], c->method, c->path, c->token, c->ctype, c->body, &r);
        if (st != c->status || (c->field && (!r.body || !strstr (r.body, c->field))))
            fprintf (stderr, "%s: got %d %s\n", c->what, st, r.body ? r.body : "");
        assert_int_equal (st, c->status);
        if (c->field)
            assert_non_null (strstr (r.body, c->field));
        pl_test_http_resp_free (&r);
    }
    /* nothing refused left an opt-out, a consent or a list behind */
    assert_int_equal (pl_test_redis_int (f->srv, "EVAL %s 0", "return #redis.call('KEYS', 'pl:{num:*')"), 0);
    assert_int_equal (pl_test_redis_int (f->srv, "EXISTS pl:{scrub:lists}:current"), 0);
}

static void
test_bodies_and_batches_over_their_limits_are_refused (void **state)
{
    sx_t *f = *state;
    /* 10,001 numbers: one over the batch */
    size_t cap = 10001 * 18 + 64;
    char *body = malloc (cap);
    size_t n = (size_t) snprintf (body, cap, "{\"numbers\":[");
    for (int i = 0; i < 10001; i++)
        n += (size_t) snprintf (body + n, cap - n, "%s\"+3361%07d\"", i ? "," : "", i);
    snprintf (body + n, cap - n, "]}");
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (sx_http (&f->scrub[0], "POST", "/v1/scrub", SX_TOKEN, JSON, body, &r), 413);
    assert_non_null (strstr (r.body, "too_many_items"));
    pl_test_http_resp_free (&r);
    free (body);

    /* the same as CSV */
    cap = 10001 * 14 + 16;
    body = malloc (cap);
    n = 0;
    for (int i = 0; i < 10001; i++)
        n += (size_t) snprintf (body + n, cap - n, "+3361%07d\n", i);
    assert_int_equal (sx_http (&f->scrub[0], "POST", "/v1/scrub", SX_TOKEN, "text/csv", body, &r), 413);
    pl_test_http_resp_free (&r);
    free (body);

    /* a 3 MiB body to /v1/scrub, a 64 KiB one to /v1/dnc */
    body = malloc (3 << 20);
    memset (body, ' ', 3 << 20);
    body[(3 << 20) - 1] = '\0';
    assert_int_equal (sx_http (&f->scrub[0], "POST", "/v1/scrub", SX_TOKEN, JSON, body, &r), 413);
    pl_test_http_resp_free (&r);
    body[65536] = '\0';
    assert_int_equal (sx_http (&f->scrub[0], "POST", "/v1/dnc", SX_TOKEN, JSON, body, &r), 413);
    pl_test_http_resp_free (&r);
    free (body);

    /* 10,000 exactly: answered, one result per number, in order */
    cap = 10000 * 18 + 64;
    body = malloc (cap);
    n = (size_t) snprintf (body, cap, "{\"numbers\":[");
    for (int i = 0; i < 10000; i++)
        n += (size_t) snprintf (body + n, cap - n, "%s\"+3361%07d\"", i ? "," : "", i);
    snprintf (body + n, cap - n, "]}");
    assert_int_equal (sx_http (&f->scrub[0], "POST", "/v1/scrub", SX_TOKEN, JSON, body, &r), 200);
    json_t *o = json_loads (r.body, 0, NULL);
    json_t *res = json_object_get (o, "results");
    assert_int_equal (json_array_size (res), 10000);
    assert_int_equal (json_integer_value (json_object_get (json_array_get (res, 9999), "index")), 9999);
    json_decref (o);
    pl_test_http_resp_free (&r);
    free (body);
}

static int
s_setup (void **state)
{
    sx_t *f = sx_new ();
    if (!f)
        return -1;
    char lists[600];
    snprintf (lists, sizeof lists, "PLATEAU_SCRUB_LISTS_DIR=%s/lists", f->dir);
    const char *extra[] = { lists, "PLATEAU_SCRUB_SOURCE_TENANTS=crm-a=acme;crm-b=globex", NULL };
    if (sx_start_scrub (f, 0, extra) != 0) {
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
        cmocka_unit_test_setup_teardown (test_each_route_refuses_who_may_not_call_it_and_what_it_cannot_take,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bodies_and_batches_over_their_limits_are_refused, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
