/*  test_scrub_lists.c — national lists through the service (issue 10, acceptance 3 and the bad
 *  input rules): a stale copy denies its jurisdiction and a fresh one clears it, on every replica;
 *  bad lines are reported by line and, as asked, refuse the version or skip; an interrupted or
 *  cut-short upload never replaces the version in force; list.loaded is audited with its digest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <time.h>
#include <cmocka.h>

#include "test_scrub_fixture.h"

#define ON_LIST "+12025550199"
#define OFF_LIST "+12025550123"

static int
s_put (sx_t *f, int i, const char *query, const char *body, json_t **out)
{
    char path[256];
    snprintf (path, sizeof path, "/v1/lists/us-dnc?%s", query);
    pl_test_http_resp_t r = { 0 };
    int st = sx_http (&f->scrub[i], "PUT", path, SX_OPS_TOKEN, "text/plain", body, &r);
    if (out)
        *out = json_loads (r.body ? r.body : "", 0, NULL);
    pl_test_http_resp_free (&r);
    return st;
}

/* The decision and decisive rule ("" when none) for a number on replica i, under campaign for
 * a callee type (NULL: the jurisdiction's default campaign, the default callee). */
static void
s_decision_as (sx_t *f, int i, const char *number, const char *campaign, const char *callee, char *decision,
               char *decisive)
{
    char body[256];
    if (campaign)
        snprintf (body, sizeof body, "{\"numbers\":[\"%s\"],\"campaign\":\"%s\",\"callee\":\"%s\"}", number,
                  campaign, callee);
    else
        snprintf (body, sizeof body, "{\"numbers\":[\"%s\"]}", number);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (sx_http (&f->scrub[i], "POST", "/v1/scrub", SX_TOKEN, "application/json", body, &r), 200);
    json_t *o = json_loads (r.body ? r.body : "", 0, NULL);
    json_t *v = json_array_get (json_object_get (o, "results"), 0);
    snprintf (decision, 16, "%s", json_string_value (json_object_get (v, "decision")) ?: "?");
    snprintf (decisive, 32, "%s", json_string_value (json_object_get (v, "decisive")) ?: "");
    json_decref (o);
    pl_test_http_resp_free (&r);
}

static void
s_decisive (sx_t *f, int i, const char *number, char *decision, char *decisive)
{
    s_decision_as (f, i, number, NULL, NULL, decision, decisive);
}

/* us.b2b: a business on the National DNC Registry, in a campaign for businesses, is not denied
 * by it (only held to the house window for businesses, by the real clock here); as a consumer it
 * is; a campaign selling office supplies keeps the registry for businesses too. */
static void
test_a_business_on_the_national_registry_is_exempt_but_not_for_office_supplies (void **state)
{
    sx_t *f = *state;
    char fresh[11], q[128], d[16], why[32];
    pl_test_date (-1, fresh);
    snprintf (q, sizeof q, "jurisdiction=US&taken=%s", fresh);
    assert_int_equal (s_put (f, 0, q, "202,5550199\n", NULL), 201);
    s_decision_as (f, 0, ON_LIST, "us-b2b", "business", d, why);
    assert_string_not_equal (d, "deny");           /* allowed, or deferred to business hours */
    assert_string_not_equal (why, "us.dnc-national");
    s_decision_as (f, 0, ON_LIST, "us-b2b", "consumer", d, why);
    assert_string_equal (d, "deny");
    assert_string_equal (why, "us.dnc-national");
    s_decision_as (f, 0, ON_LIST, "us-supplies", "business", d, why);
    assert_string_equal (d, "deny");
    assert_string_equal (why, "us.dnc-national");
}

/* /readyz answers 200 and its warnings name the stale us-dnc copy. */
static bool
s_readyz_warns (void *arg)
{
    const sx_proc_t *p = arg;
    pl_test_http_resp_t r = { 0 };
    int st = pl_test_http_request (p->ops_port, "GET", "/readyz", NULL, NULL, 0, &r);
    bool ok = st == 200 && r.body && strstr (r.body, "\"check\":\"lists\"") && strstr (r.body, "us-dnc: copy of");
    pl_test_http_resp_free (&r);
    return ok;
}

/* /readyz answers 200 with no warnings. */
static bool
s_readyz_clean (void *arg)
{
    const sx_proc_t *p = arg;
    pl_test_http_resp_t r = { 0 };
    int st = pl_test_http_request (p->ops_port, "GET", "/readyz", NULL, NULL, 0, &r);
    bool ok = st == 200 && r.body && strstr (r.body, "\"warnings\":[]");
    pl_test_http_resp_free (&r);
    return ok;
}

static void
test_stale_copy_denies_and_fresh_copy_clears_on_every_replica (void **state)
{
    sx_t *f = *state;
    char old[11], fresh[11], q[128], d[16], why[32];
    pl_test_date (-40, old);
    pl_test_date (-1, fresh);

    /* No copy at all: not screened, denied. */
    s_decisive (f, 0, OFF_LIST, d, why);
    assert_string_equal (d, "deny");
    assert_string_equal (why, "us.dnc-national");

    snprintf (q, sizeof q, "jurisdiction=US&taken=%s", old);
    assert_int_equal (s_put (f, 0, q, "202,5550199\n", NULL), 201);
    s_decisive (f, 0, OFF_LIST, d, why);
    assert_string_equal (d, "deny");                   /* the copy is older than 31 days */
    assert_string_equal (why, "us.dnc-national");
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (sx_http (&f->scrub[0], "GET", "/v1/lists", SX_TOKEN, NULL, NULL, &r), 200);
    assert_non_null (strstr (r.body, "\"stale\":true"));
    pl_test_http_resp_free (&r);
    /* /readyz names the stale copy, and the replica stays in service. */
    assert_true (pl_test_wait_until (s_readyz_warns, &f->scrub[0], 5000));

    snprintf (q, sizeof q, "jurisdiction=US&taken=%s", fresh);
    json_t *rep = NULL;
    assert_int_equal (s_put (f, 0, q, "202,5550199\n", &rep), 201);
    assert_string_equal (json_string_value (json_object_get (rep, "copy_date")), fresh);
    assert_int_equal (strlen (json_string_value (json_object_get (rep, "digest"))), 64);
    json_decref (rep);
    s_decisive (f, 0, OFF_LIST, d, why);
    assert_string_not_equal (d, "deny");
    s_decisive (f, 0, ON_LIST, d, why);
    assert_string_equal (d, "deny");
    assert_string_equal (why, "us.dnc-national");
    assert_true (pl_test_wait_until (s_readyz_clean, &f->scrub[0], 5000));

    /* The other replica follows (it maps the saved version within a second or so). */
    int64_t t0 = pl_clock_mono_ms ();
    do {
        s_decisive (f, 1, OFF_LIST, d, why);
        if (strcmp (d, "deny") != 0)
            break;
        usleep (50000);
    } while (pl_clock_mono_ms () - t0 < 10000);
    printf ("replica 1 answered from the fresh copy after %lld ms\n", (long long) (pl_clock_mono_ms () - t0));
    assert_string_not_equal (d, "deny");
    s_decisive (f, 1, ON_LIST, d, why);
    assert_string_equal (d, "deny");

    for (int i = 0; i < 100 && sx_count_events (f, "list.loaded") < 2; i++)
        sx_pump (f, 50);
    assert_int_equal (sx_count_events (f, "list.loaded"), 2);
    char *metrics = NULL;
    assert_int_equal (pl_test_http_get (f->scrub[0].ops_port, "/metrics", &metrics), 200);
    assert_non_null (strstr (metrics, "plateau_scrub_list_stale{list=\"us-dnc\"}"));
    free (metrics);
}

static void
test_bad_lines_refuse_or_skip_as_asked_and_cut_uploads_change_nothing (void **state)
{
    sx_t *f = *state;
    char fresh[11], q[160], d[16], why[32];
    pl_test_date (-1, fresh);
    snprintf (q, sizeof q, "jurisdiction=US&taken=%s", fresh);
    assert_int_equal (s_put (f, 0, q, "202,5550199\n", NULL), 201);

    /* A bad line, refused (the default): 422, the line named, nothing replaced. */
    json_t *rep = NULL;
    assert_int_equal (s_put (f, 0, q, "202,5550123\n20x,1\n", &rep), 422);
    json_t *bad = json_object_get (rep, "bad_lines");
    assert_int_equal (json_array_size (bad), 1);
    assert_int_equal (json_integer_value (json_object_get (json_array_get (bad, 0), "line")), 2);
    json_decref (rep);
    s_decisive (f, 0, OFF_LIST, d, why);
    assert_string_not_equal (d, "deny");

    /* A last line without its newline: cut short, refused. */
    assert_int_equal (s_put (f, 0, q, "202,5550123\n202,555012", NULL), 422);
    s_decisive (f, 0, OFF_LIST, d, why);
    assert_string_not_equal (d, "deny");

    /* An upload that stops mid-body never reaches the loader. */
    int fd = pl_test_http_connect (f->scrub[0].http_port);
    char head[512];
    int n = snprintf (head, sizeof head, "PUT /v1/lists/us-dnc?%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                      SX_OPS_TOKEN "\r\nContent-Length: 100000\r\n\r\n202,5550123\n", q);
    assert_true (pl_test_http_send_all (fd, head, (size_t) n));
    usleep (200000);
    close (fd);
    usleep (200000);
    s_decisive (f, 0, OFF_LIST, d, why);
    assert_string_not_equal (d, "deny");

    /* Skipping, asked for: applied, the bad line still reported. */
    snprintf (q, sizeof q, "jurisdiction=US&taken=%s&bad_lines=apply", fresh);
    assert_int_equal (s_put (f, 0, q, "202,5550123\n20x,1\n", &rep), 201);
    assert_int_equal (json_integer_value (json_object_get (rep, "bad")), 1);
    json_decref (rep);
    s_decisive (f, 0, OFF_LIST, d, why);
    assert_string_equal (d, "deny");

    /* A delta (change list) on top of it. */
    snprintf (q, sizeof q, "jurisdiction=US&taken=%s&mode=delta", fresh);
    assert_int_equal (s_put (f, 0, q, "202,5550123,D\n", NULL), 201);
    s_decisive (f, 0, OFF_LIST, d, why);
    assert_string_not_equal (d, "deny");
}

/* Every load of a list gets its own version id, on any replica, even when copies share a date:
 * the id names the evidence (list.loaded, each verdict) and the shared file. */
static void
test_loads_of_one_copy_date_each_get_their_own_version (void **state)
{
    sx_t *f = *state;
    char date[11], q[160], seen[4][64];
    pl_test_date (-1, date);
    snprintf (q, sizeof q, "jurisdiction=US&taken=%s", date);
    const char *bodies[4] = { "202,5550101\n", "202,5550102\n", "202,5550103\n", "202,5550104\n" };
    for (int i = 0; i < 4; i++) {
        json_t *rep = NULL;
        assert_int_equal (s_put (f, i % 2, q, bodies[i], &rep), 201);     /* replicas in turn */
        snprintf (seen[i], sizeof seen[i], "%s", json_string_value (json_object_get (rep, "version")) ?: "");
        json_decref (rep);
        assert_non_null (strstr (seen[i], date));
        for (int j = 0; j < i; j++)
            assert_string_not_equal (seen[i], seen[j]);
        usleep (5000);                         /* ids carry the load's millisecond */
    }
    assert_true (strcmp (seen[0], "us-dnc@") > 0 && strlen (seen[0]) == strlen ("us-dnc@") + 10);
}

static int
s_setup (void **state)
{
    sx_t *f = sx_new ();
    if (!f)
        return -1;
    char lists[600];
    snprintf (lists, sizeof lists, "PLATEAU_SCRUB_LISTS_DIR=%s/lists", f->dir);
    const char *extra[] = { lists, NULL };
    sx_campaign (f, "us-b2b", "[campaign]\nprofile = us-cc\ntenant = acme\ncallees = consumer business\n");
    sx_campaign (f, "us-supplies", "[campaign]\nprofile = us-cc\ntenant = acme\ncallees = business\n"
                                   "sector = office-supplies\n");
    if (sx_start_scrub (f, 0, extra) != 0 || sx_start_scrub (f, 1, extra) != 0) {
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
        cmocka_unit_test_setup_teardown (test_a_business_on_the_national_registry_is_exempt_but_not_for_office_supplies,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_stale_copy_denies_and_fresh_copy_clears_on_every_replica, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_lines_refuse_or_skip_as_asked_and_cut_uploads_change_nothing,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_loads_of_one_copy_date_each_get_their_own_version, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
