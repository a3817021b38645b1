/*  test_sec_http_budget.c — one request, or many at once, cannot take the server's memory.
 *
 *  A kit HTTP server with a 4 MiB memory budget receives sixteen 1 MiB bodies at once on a
 *  route that gathers them and holds each for half a second. Before the budget, all sixteen
 *  were held at once (and a few large ones could take gigabytes); now those that do not fit
 *  are answered 503 busy with Retry-After, at least one finishes even when all sixteen started
 *  at once (only one body at a time may pass the budget, by at most its own limit), it is all
 *  given back once they are done, and a small request is served at once afterwards.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "plateau/http.h"
#include "plateau/metrics.h"
#include "pl_test_http.h"

#define S_BUDGET (4 * 1024 * 1024)
#define S_BODY (1024 * 1024)
#define S_CLIENTS 16

static void
s_sleep_ms (int ms)
{
    struct timespec t = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&t, NULL);
}

typedef struct {
    pl_metric_t *reserved;
    atomic_int most;                 /* the most reserved bytes a handler saw */
} s_watch_t;

/* Holds the gathered body for a while, as a parser would, and notes the budget in use. */
static int
s_upload (pl_http_req_t *req, void *arg)
{
    s_watch_t *w = arg;
    size_t len = 0;
    const char *body = pl_http_req_body (req, &len);
    int seen = (int) pl_metric_value (w->reserved, NULL);
    int most = atomic_load (&w->most);
    while (seen > most && !atomic_compare_exchange_weak (&w->most, &most, seen))
        ;
    s_sleep_ms (500);
    char json[64];
    snprintf (json, sizeof json, "{\"len\":%zu,\"last\":%d}", len, body && len ? body[len - 1] : 0);
    return pl_http_reply_json (req, 200, json);
}

typedef struct {
    int port;
    const char *body;
    atomic_int ok, busy, busy_without_retry, other;
} s_flood_t;

static void *
s_client (void *arg)
{
    s_flood_t *f = arg;
    pl_test_http_resp_t r = { 0 };
    int status = pl_test_http_request (f->port, "POST", "/v1/upload",
                                       "Content-Type: application/json\r\n", f->body, S_BODY, &r);
    char retry[16];
    if (status == 200)
        atomic_fetch_add (&f->ok, 1);
    else if (status == 503 && r.body && strstr (r.body, "\"code\":\"busy\"")) {
        atomic_fetch_add (&f->busy, 1);
        if (!pl_test_http_header (&r, "Retry-After", retry, sizeof retry) || atoi (retry) < 1)
            atomic_fetch_add (&f->busy_without_retry, 1);
    }
    else {
        fprintf (stderr, "unexpected answer: %d %s\n", status, r.body ? r.body : "");
        atomic_fetch_add (&f->other, 1);
    }
    pl_test_http_resp_free (&r);
    return NULL;
}

static void
test_concurrent_large_bodies_beyond_the_budget_are_answered_busy (void **state)
{
    (void) state;
    pl_metrics_t *metrics = pl_metrics_new ();
    pl_http_options_t o = { .memory_budget = S_BUDGET, .max_body = 2 * S_BODY,
                            .metrics = metrics, .service = "sec" };
    pl_http_t *http = pl_http_new ("127.0.0.1", 0, &o);
    assert_non_null (http);
    s_watch_t w = { .reserved = pl_metrics_gauge (metrics, "plateau_sec_http_memory_reserved_bytes",
                                                  "", NULL) };
    atomic_init (&w.most, 0);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "POST", "/v1/upload", s_upload, &w, &open), 0);
    assert_int_equal (pl_http_start (http), 0);

    char *body = malloc (S_BODY);
    assert_non_null (body);
    memset (body, 'x', S_BODY);
    s_flood_t f = { .port = pl_http_port (http), .body = body };
    pthread_t threads[S_CLIENTS];
    for (int i = 0; i < S_CLIENTS; i++)
        assert_int_equal (pthread_create (&threads[i], NULL, s_client, &f), 0);
    for (int i = 0; i < S_CLIENTS; i++)
        pthread_join (threads[i], NULL);
    fprintf (stderr, "%d clients of %d bytes, budget %d: %d served, %d busy (503), %d other; "
             "most reserved seen by a handler: %d\n", S_CLIENTS, S_BODY, S_BUDGET,
             atomic_load (&f.ok), atomic_load (&f.busy), atomic_load (&f.other),
             atomic_load (&w.most));

    assert_int_equal (atomic_load (&f.other), 0);            /* a status for everyone */
    assert_true (atomic_load (&f.ok) >= 1);
    assert_true (atomic_load (&f.busy) >= 1);                /* 16 MiB did not fit in 4 */
    assert_int_equal (atomic_load (&f.busy_without_retry), 0);
    assert_true (atomic_load (&w.most) <= S_BUDGET + 2 * S_BODY + 1);   /* one body's overdraft */

    /* Everything is given back, and a small request is served. */
    double left = pl_metric_value (w.reserved, NULL);
    for (int i = 0; i < 200 && left != 0; i++) {
        s_sleep_ms (10);
        left = pl_metric_value (w.reserved, NULL);
    }
    assert_true (left == 0);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (pl_test_http_request (f.port, "POST", "/v1/upload", NULL, "{}", 2, &r), 200);
    pl_test_http_resp_free (&r);
    pl_metric_t *busy = pl_metrics_counter (metrics, "plateau_sec_http_busy_total", "", NULL);
    assert_true (pl_metric_value (busy, NULL) == atomic_load (&f.busy));

    free (body);
    pl_http_destroy (&http);
    pl_metrics_destroy (&metrics);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_concurrent_large_bodies_beyond_the_budget_are_answered_busy),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
