/*  test_ops.c — the operations port: /healthz, /readyz, /metrics over real sockets.
 *
 *  Readiness follows its checks at every probe (503 naming the failing check, 200 again as
 *  soon as it passes, without a restart), draining forces 503, and /metrics serves the
 *  registry in the Prometheus text format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "plateau/error.h"
#include "plateau/metrics.h"
#include "plateau/ops.h"
#include "pl_test_http.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static int
s_get (int port, const char *path, pl_test_http_resp_t *r)
{
    return pl_test_http_request (port, "GET", path, NULL, NULL, 0, r);
}

static json_t *
s_json (const pl_test_http_resp_t *r)
{
    json_t *j = json_loads (r->body ? r->body : "", 0, NULL);
    if (!j)
        fail_msg ("not JSON: %s", r->body ? r->body : "(null)");
    return j;
}

/* A readiness check reading a flag another thread sets, as the header asks. */
typedef struct {
    atomic_bool ok;
    const char *reason;
    atomic_int calls;
} s_flag_t;

static bool
s_flag_check (void *arg, char *why, size_t why_size)
{
    s_flag_t *f = arg;
    atomic_fetch_add (&f->calls, 1);
    if (atomic_load (&f->ok))
        return true;
    if (f->reason)
        snprintf (why, why_size, "%s", f->reason);
    return false;
}

static pl_ops_t *
s_ops (pl_metrics_t *metrics)
{
    pl_ops_t *ops = pl_ops_new ("127.0.0.1", 0, metrics);
    assert_non_null (ops);
    assert_true (pl_ops_port (ops) > 0);
    return ops;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void
test_healthz_answers_ok (void **state)
{
    (void) state;
    pl_ops_t *ops = s_ops (NULL);
    pl_test_http_resp_t r;
    assert_int_equal (s_get (pl_ops_port (ops), "/healthz", &r), 200);
    assert_string_equal (r.body, "{\"status\":\"ok\"}");
    char value[64];
    assert_string_equal (pl_test_http_header (&r, "Content-Type", value, sizeof value),
                         "application/json");
    assert_string_equal (pl_test_http_header (&r, "Cache-Control", value, sizeof value),
                         "no-store");
    pl_test_http_resp_free (&r);
    assert_int_equal (
        pl_test_http_request (pl_ops_port (ops), "HEAD", "/healthz", NULL, NULL, 0, &r), 200);
    assert_int_equal (r.body_len, 0);
    pl_test_http_resp_free (&r);
    pl_ops_destroy (&ops);
    assert_null (ops);
    pl_ops_destroy (&ops);
}

static void
test_readiness_follows_its_checks_without_restart (void **state)
{
    (void) state;
    pl_ops_t *ops = s_ops (NULL);
    int port = pl_ops_port (ops);
    s_flag_t redis = { .reason = "connection refused" };
    s_flag_t bus = { .reason = NULL };
    atomic_store (&redis.ok, true);
    atomic_store (&bus.ok, true);
    pl_test_http_resp_t r;
    /* No checks yet: ready. */
    assert_int_equal (s_get (port, "/readyz", &r), 200);
    pl_test_http_resp_free (&r);
    assert_int_equal (pl_ops_add_check (ops, "redis", s_flag_check, &redis), 0);
    assert_int_equal (pl_ops_add_check (ops, "bus", s_flag_check, &bus), 0);
    assert_int_equal (pl_ops_add_check (ops, "redis", s_flag_check, &redis), PL_EEXIST);
    assert_int_equal (pl_ops_add_check (ops, "", s_flag_check, &redis), PL_EINVAL);

    assert_int_equal (s_get (port, "/readyz", &r), 200);
    assert_string_equal (r.body, "{\"status\":\"ready\",\"checks\":[\"redis\",\"bus\"],\"warnings\":[]}");
    pl_test_http_resp_free (&r);

    /* Redis goes away. */
    atomic_store (&redis.ok, false);
    assert_int_equal (s_get (port, "/readyz", &r), 503);
    json_t *j = s_json (&r);
    assert_string_equal (json_string_value (json_object_get (j, "status")), "not_ready");
    assert_true (json_is_false (json_object_get (j, "draining")));
    json_t *failing = json_object_get (j, "failing");
    assert_int_equal (json_array_size (failing), 1);
    json_t *f0 = json_array_get (failing, 0);
    assert_string_equal (json_string_value (json_object_get (f0, "check")), "redis");
    assert_string_equal (json_string_value (json_object_get (f0, "reason")), "connection refused");
    json_t *err = json_object_get (j, "error");
    assert_string_equal (json_string_value (json_object_get (err, "code")), "not_ready");
    assert_string_equal (json_string_value (json_object_get (err, "message")),
                         "not ready: redis: connection refused");
    json_decref (j);
    pl_test_http_resp_free (&r);

    /* Both fail; a check that gives no reason still gets one. */
    atomic_store (&bus.ok, false);
    assert_int_equal (s_get (port, "/readyz", &r), 503);
    j = s_json (&r);
    failing = json_object_get (j, "failing");
    assert_int_equal (json_array_size (failing), 2);
    assert_string_equal (json_string_value (json_object_get (json_array_get (failing, 1), "reason")),
                         "check failed");
    assert_non_null (strstr (json_string_value (json_object_get (json_object_get (j, "error"),
                                                                 "message")), "and 1 more"));
    json_decref (j);
    pl_test_http_resp_free (&r);

    /* They come back: 200 again, same process, same port. */
    atomic_store (&redis.ok, true);
    atomic_store (&bus.ok, true);
    assert_int_equal (s_get (port, "/readyz", &r), 200);
    pl_test_http_resp_free (&r);
    /* Liveness never depended on readiness. */
    atomic_store (&redis.ok, false);
    assert_int_equal (s_get (port, "/healthz", &r), 200);
    pl_test_http_resp_free (&r);
    /* Checks run at each probe, not from a cache. */
    int before = atomic_load (&redis.calls);
    assert_int_equal (s_get (port, "/readyz", &r), 503);
    pl_test_http_resp_free (&r);
    assert_int_equal (atomic_load (&redis.calls), before + 1);
    pl_ops_destroy (&ops);
}

static void
test_draining_makes_readiness_fail_until_undone (void **state)
{
    (void) state;
    pl_ops_t *ops = s_ops (NULL);
    int port = pl_ops_port (ops);
    s_flag_t redis = { .reason = "timeout" };
    atomic_store (&redis.ok, true);
    assert_int_equal (pl_ops_add_check (ops, "redis", s_flag_check, &redis), 0);
    assert_false (pl_ops_draining (ops));
    pl_ops_set_draining (ops, true);
    assert_true (pl_ops_draining (ops));
    pl_test_http_resp_t r;
    assert_int_equal (s_get (port, "/readyz", &r), 503);
    json_t *j = s_json (&r);
    assert_true (json_is_true (json_object_get (j, "draining")));
    assert_string_equal (json_string_value (json_object_get (j, "status")), "draining");
    assert_int_equal (json_array_size (json_object_get (j, "failing")), 0);
    assert_string_equal (json_string_value (json_object_get (json_object_get (j, "error"), "code")),
                         "draining");
    json_decref (j);
    pl_test_http_resp_free (&r);
    /* Draining and failing: both said. */
    atomic_store (&redis.ok, false);
    assert_int_equal (s_get (port, "/readyz", &r), 503);
    j = s_json (&r);
    assert_true (json_is_true (json_object_get (j, "draining")));
    assert_int_equal (json_array_size (json_object_get (j, "failing")), 1);
    json_decref (j);
    pl_test_http_resp_free (&r);
    /* Health stays green while draining: the pod is not to be restarted. */
    assert_int_equal (s_get (port, "/healthz", &r), 200);
    pl_test_http_resp_free (&r);
    atomic_store (&redis.ok, true);
    pl_ops_set_draining (ops, false);
    assert_int_equal (s_get (port, "/readyz", &r), 200);
    pl_test_http_resp_free (&r);
    pl_ops_destroy (&ops);
}

static void
test_metrics_serves_the_registry_in_text_format (void **state)
{
    (void) state;
    pl_metrics_t *metrics = pl_metrics_new ();
    pl_metric_t *c = pl_metrics_counter (metrics, "plateau_test_leads_total", "Leads.", "status");
    const double bounds[] = { 0.5 };
    pl_metric_t *h = pl_metrics_histogram (metrics, "plateau_test_seconds", "Time.", NULL,
                                           bounds, 1);
    pl_metric_inc (c, "accepted", 3);
    pl_metric_observe (h, NULL, 0.25);
    pl_ops_t *ops = s_ops (metrics);
    pl_test_http_resp_t r;
    assert_int_equal (s_get (pl_ops_port (ops), "/metrics", &r), 200);
    char value[128];
    assert_non_null (pl_test_http_header (&r, "Content-Type", value, sizeof value));
    assert_int_equal (strncmp (value, "text/plain; version=0.0.4", 25), 0);
    assert_string_equal (r.body,
        "# HELP plateau_test_leads_total Leads.\n"
        "# TYPE plateau_test_leads_total counter\n"
        "plateau_test_leads_total{status=\"accepted\"} 3\n"
        "# HELP plateau_test_seconds Time.\n"
        "# TYPE plateau_test_seconds histogram\n"
        "plateau_test_seconds_bucket{le=\"0.5\"} 1\n"
        "plateau_test_seconds_bucket{le=\"+Inf\"} 1\n"
        "plateau_test_seconds_sum 0.25\n"
        "plateau_test_seconds_count 1\n");
    pl_test_http_resp_free (&r);
    /* Live: an update shows on the next scrape. */
    pl_metric_inc (c, "accepted", 1);
    assert_int_equal (s_get (pl_ops_port (ops), "/metrics", &r), 200);
    assert_non_null (strstr (r.body, "plateau_test_leads_total{status=\"accepted\"} 4\n"));
    pl_test_http_resp_free (&r);
    pl_ops_destroy (&ops);
    pl_metrics_destroy (&metrics);

    /* Without a registry: an empty page. */
    ops = s_ops (NULL);
    assert_int_equal (s_get (pl_ops_port (ops), "/metrics", &r), 200);
    assert_int_equal (r.body_len, 0);
    pl_test_http_resp_free (&r);
    pl_ops_destroy (&ops);
}

static void
test_other_paths_and_methods_get_json_errors (void **state)
{
    (void) state;
    pl_ops_t *ops = s_ops (NULL);
    pl_test_http_resp_t r;
    assert_int_equal (s_get (pl_ops_port (ops), "/status", &r), 404);
    json_t *j = s_json (&r);
    assert_string_equal (json_string_value (json_object_get (json_object_get (j, "error"), "code")),
                         "not_found");
    json_decref (j);
    pl_test_http_resp_free (&r);
    assert_int_equal (
        pl_test_http_request (pl_ops_port (ops), "POST", "/readyz", NULL, "{}", 2, &r), 405);
    j = s_json (&r);
    assert_string_equal (json_string_value (json_object_get (json_object_get (j, "error"), "code")),
                         "method_not_allowed");
    json_decref (j);
    char allow[32];
    assert_string_equal (pl_test_http_header (&r, "Allow", allow, sizeof allow), "GET, HEAD");
    pl_test_http_resp_free (&r);
    pl_ops_destroy (&ops);
}

static void
test_two_ports_side_by_side_and_a_taken_port_fails (void **state)
{
    (void) state;
    pl_ops_t *a = s_ops (NULL);
    pl_ops_t *b = s_ops (NULL);
    assert_int_not_equal (pl_ops_port (a), pl_ops_port (b));
    pl_ops_set_draining (a, true);
    pl_test_http_resp_t r;
    assert_int_equal (s_get (pl_ops_port (a), "/readyz", &r), 503);
    pl_test_http_resp_free (&r);
    assert_int_equal (s_get (pl_ops_port (b), "/readyz", &r), 200);
    pl_test_http_resp_free (&r);
    errno = 0;
    pl_ops_t *c = pl_ops_new ("127.0.0.1", pl_ops_port (a), NULL);
    assert_null (c);
    assert_int_equal (errno, EADDRINUSE);
    pl_ops_destroy (&a);
    pl_ops_destroy (&b);
}

/* A warning is shown while it fails but never makes the service unready; a real check still
 * does, and then the answer is the usual 503. */
static void
test_warnings_are_shown_without_making_the_service_unready (void **state)
{
    (void) state;
    pl_ops_t *ops = s_ops (NULL);
    int port = pl_ops_port (ops);
    s_flag_t lists = { .reason = "us-dnc: copy of 2026-10-01, 64 days old, legal age 31 days" };
    s_flag_t redis = { .reason = "connection refused" };
    atomic_store (&lists.ok, true);
    atomic_store (&redis.ok, true);
    assert_int_equal (pl_ops_add_warning (ops, "lists", s_flag_check, &lists), 0);
    assert_int_equal (pl_ops_add_check (ops, "lists", s_flag_check, &redis), PL_EEXIST);
    assert_int_equal (pl_ops_add_check (ops, "redis", s_flag_check, &redis), 0);
    pl_test_http_resp_t r;
    assert_int_equal (s_get (port, "/readyz", &r), 200);
    json_t *j = s_json (&r);
    assert_int_equal (json_array_size (json_object_get (j, "warnings")), 0);
    json_decref (j);
    pl_test_http_resp_free (&r);

    atomic_store (&lists.ok, false);
    assert_int_equal (s_get (port, "/readyz", &r), 200);
    j = s_json (&r);
    assert_string_equal (json_string_value (json_object_get (j, "status")), "ready");
    json_t *w = json_object_get (j, "warnings");
    assert_int_equal (json_array_size (w), 1);
    assert_string_equal (json_string_value (json_object_get (json_array_get (w, 0), "check")), "lists");
    assert_string_equal (json_string_value (json_object_get (json_array_get (w, 0), "reason")), lists.reason);
    json_decref (j);
    pl_test_http_resp_free (&r);

    atomic_store (&redis.ok, false);
    assert_int_equal (s_get (port, "/readyz", &r), 503);
    j = s_json (&r);
    assert_int_equal (json_array_size (json_object_get (j, "failing")), 1);
    json_decref (j);
    pl_test_http_resp_free (&r);
    pl_ops_destroy (&ops);
}

/* A gate keeps the service unready, naming what has not started, until it is opened. */
static void
test_a_gate_keeps_readiness_failing_until_opened (void **state)
{
    (void) state;
    pl_ops_t *ops = pl_ops_new ("127.0.0.1", 0, NULL);
    assert_non_null (ops);
    int port = pl_ops_port (ops);
    assert_int_equal (pl_ops_add_gate (ops, "http", "HTTP API"), 0);
    assert_int_equal (pl_ops_add_gate (ops, "http", "HTTP API"), PL_EEXIST);
    assert_int_equal (pl_ops_open_gate (ops, "bus"), PL_ENOTFOUND);
    pl_test_http_resp_t r;
    assert_int_equal (s_get (port, "/readyz", &r), 503);
    json_t *j = s_json (&r);
    json_t *f = json_array_get (json_object_get (j, "failing"), 0);
    assert_string_equal (json_string_value (json_object_get (f, "check")), "http");
    assert_string_equal (json_string_value (json_object_get (f, "reason")), "HTTP API not started");
    json_decref (j);
    pl_test_http_resp_free (&r);

    assert_int_equal (pl_ops_open_gate (ops, "http"), 0);
    assert_int_equal (s_get (port, "/readyz", &r), 200);
    pl_test_http_resp_free (&r);
    pl_ops_destroy (&ops);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_healthz_answers_ok),
        cmocka_unit_test (test_readiness_follows_its_checks_without_restart),
        cmocka_unit_test (test_draining_makes_readiness_fail_until_undone),
        cmocka_unit_test (test_warnings_are_shown_without_making_the_service_unready),
        cmocka_unit_test (test_a_gate_keeps_readiness_failing_until_opened),
        cmocka_unit_test (test_metrics_serves_the_registry_in_text_format),
        cmocka_unit_test (test_other_paths_and_methods_get_json_errors),
        cmocka_unit_test (test_two_ports_side_by_side_and_a_taken_port_fails),
    };
    return cmocka_run_group_tests_name ("ops", tests, NULL, NULL);
}
