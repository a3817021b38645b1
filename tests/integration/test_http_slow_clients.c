/*  test_http_slow_clients.c — slow clients cannot stop a service's API or its ops port.
 *
 *  A kit HTTP server and an ops port, as every service has them, on 127.0.0.1. Seventy
 *  connections trickle a header line every two seconds for up to thirty seconds (more than the
 *  API's 64 connections) while a well-behaved client asks the API and /healthz about twice a
 *  second for those thirty seconds.
 *  Before the header deadline the slow connections held every thread until they gave up; now
 *  they are closed, the client gets its answers, a connection over the limit is answered 503
 *  with Retry-After instead of being reset, and a body trickled below the minimum rate is cut.
 *  Timings are only generous bounds: the machine is shared.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "plateau/clock.h"
#include "plateau/http.h"
#include "plateau/ops.h"
#include "pl_test_http.h"

#define S_SLOW 70
#define S_SLOW_FOR_MS 30000
#define S_TRICKLE_MS 2000

static int
s_ok (pl_http_req_t *req, void *arg)
{
    (void) arg;
    return pl_http_reply_json (req, 200, "{\"ok\":true}");
}

static pl_http_t *
s_server (unsigned max_connections, unsigned header_timeout_s)
{
    pl_http_options_t o = { .max_connections = max_connections,
                            .header_timeout_s = header_timeout_s,
                            .min_body_rate = 1024, .body_rate_window_s = 2 };
    pl_http_t *http = pl_http_new ("127.0.0.1", 0, &o);
    assert_non_null (http);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "GET", "/v1/ping", s_ok, NULL, &open), 0);
    assert_int_equal (pl_http_route (http, "POST", "/v1/upload", s_ok, NULL, &open), 0);
    assert_int_equal (pl_http_start (http), 0);
    return http;
}

static void
s_sleep_ms (int ms)
{
    struct timespec t = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&t, NULL);
}

/* True when the server has closed fd (EOF or reset); never blocks. */
static bool
s_closed_by_server (int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll (&p, 1, 0) <= 0)
        return false;
    char buf[512];
    ssize_t n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

typedef struct {
    int port;
    atomic_bool done;
    atomic_int cut;                  /* slow connections the server closed */
    int opened;
} s_slow_t;

/* 70 connections that never finish their headers; stops after S_SLOW_FOR_MS or when all are
 * closed. */
static void *
s_slow_run (void *arg)
{
    s_slow_t *s = arg;
    int fds[S_SLOW];
    for (int i = 0; i < S_SLOW; i++) {
        fds[i] = pl_test_http_connect (s->port);
        if (fds[i] >= 0) {
            s->opened++;
            const char line[] = "GET /v1/ping HTTP/1.1\r\nHost: x\r\n";
            if (send (fds[i], line, sizeof line - 1, MSG_NOSIGNAL) < 0) {
                close (fds[i]);
                fds[i] = -1;
                atomic_fetch_add (&s->cut, 1);
            }
        }
    }
    int64_t start = pl_clock_mono_ms (), last = start;
    int open = s->opened - atomic_load (&s->cut);
    while (open > 0 && pl_clock_mono_ms () - start < S_SLOW_FOR_MS) {
        bool trickle = pl_clock_mono_ms () - last >= S_TRICKLE_MS;
        if (trickle)
            last = pl_clock_mono_ms ();
        for (int i = 0; i < S_SLOW; i++) {
            if (fds[i] < 0)
                continue;
            bool closed = s_closed_by_server (fds[i]);
            if (!closed && trickle) {
                char line[64];
                int n = snprintf (line, sizeof line, "X-Slow-%d: still here\r\n", i);
                closed = send (fds[i], line, (size_t) n, MSG_NOSIGNAL) < 0;
            }
            if (closed) {
                close (fds[i]);
                fds[i] = -1;
                atomic_fetch_add (&s->cut, 1);
                open--;
            }
        }
        s_sleep_ms (100);
    }
    for (int i = 0; i < S_SLOW; i++)
        if (fds[i] >= 0)
            close (fds[i]);
    atomic_store (&s->done, true);
    return NULL;
}

static void
test_slow_headers_do_not_stop_the_api_nor_healthz (void **state)
{
    (void) state;
    pl_http_t *http = s_server (64, 5);
    pl_ops_t *ops = pl_ops_new ("127.0.0.1", 0, NULL);
    assert_non_null (ops);

    s_slow_t slow = { .port = pl_http_port (http) };
    atomic_init (&slow.done, false);
    atomic_init (&slow.cut, 0);
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_slow_run, &slow), 0);
    s_sleep_ms (1000);                              /* let them take every thread */

    /* The well-behaved client asks for the whole thirty seconds, whatever the slow ones do. */
    int answered = 0, busy = 0, refused = 0, healthz_ok = 0, healthz_bad = 0;
    int64_t until = pl_clock_mono_ms () + S_SLOW_FOR_MS;
    while (pl_clock_mono_ms () < until || !atomic_load (&slow.done)) {
        pl_test_http_resp_t r = { 0 };
        int status = pl_test_http_request (pl_http_port (http), "GET", "/v1/ping", NULL, NULL, 0,
                                           &r);
        if (status == 200) {
            answered++;
        } else if (status == 503) {
            char retry[16];
            assert_non_null (pl_test_http_header (&r, "Retry-After", retry, sizeof retry));
            busy++;
        } else {
            refused++;
        }
        pl_test_http_resp_free (&r);
        status = pl_test_http_request (pl_ops_port (ops), "GET", "/healthz", NULL, NULL, 0, &r);
        pl_test_http_resp_free (&r);
        if (status == 200)
            healthz_ok++;
        else
            healthz_bad++;
        s_sleep_ms (500);
    }
    pthread_join (thread, NULL);
    fprintf (stderr, "slow connections: %d opened, %d cut; API: %d answered, %d busy (503), "
             "%d refused; /healthz: %d ok, %d not\n", slow.opened, atomic_load (&slow.cut),
             answered, busy, refused, healthz_ok, healthz_bad);

    assert_true (slow.opened > 64);                  /* the API was saturated */
    assert_int_equal (atomic_load (&slow.cut), slow.opened);   /* every one closed by the server */
    /* The well-behaved client got its answers, and not just at the very end. */
    assert_true (answered >= 10);
    assert_int_equal (refused, 0);                   /* never a reset: 503 while saturated */
    assert_true (healthz_ok > 0);
    assert_int_equal (healthz_bad, 0);               /* /healthz stayed 200 throughout */
    /* Once they are gone the API answers at once. */
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (pl_test_http_request (pl_http_port (http), "GET", "/v1/ping", NULL, NULL,
                                            0, &r), 200);
    pl_test_http_resp_free (&r);
    pl_ops_destroy (&ops);
    pl_http_destroy (&http);
}

static void
test_connection_over_the_limit_is_answered_503_with_retry_after (void **state)
{
    (void) state;
    pl_http_t *http = s_server (2, 30);
    int idle[2];
    for (int i = 0; i < 2; i++) {
        idle[i] = pl_test_http_connect (pl_http_port (http));
        assert_true (idle[i] >= 0);
    }
    s_sleep_ms (200);                               /* accepted, in order */
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (pl_test_http_request (pl_http_port (http), "GET", "/v1/ping", NULL, NULL,
                                            0, &r), 503);
    char retry[16];
    assert_non_null (pl_test_http_header (&r, "Retry-After", retry, sizeof retry));
    assert_string_equal (retry, "1");
    pl_test_http_resp_free (&r);
    for (int i = 0; i < 2; i++)
        close (idle[i]);
    /* Their slots free again once the server has seen them close. */
    int status = 0;
    for (int i = 0; i < 50 && status != 200; i++) {
        s_sleep_ms (100);
        status = pl_test_http_request (pl_http_port (http), "GET", "/v1/ping", NULL, NULL, 0, &r);
        pl_test_http_resp_free (&r);
    }
    assert_int_equal (status, 200);
    pl_http_destroy (&http);
}

static void
test_body_below_the_minimum_rate_is_cut (void **state)
{
    (void) state;
    pl_http_t *http = s_server (8, 30);
    int fd = pl_test_http_connect (pl_http_port (http));
    assert_true (fd >= 0);
    const char head[] = "POST /v1/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n";
    assert_true (pl_test_http_send_all (fd, head, sizeof head - 1));
    /* 10 bytes a second, far below 1024 B/s over 2 s: closed well before the body ends. */
    int64_t start = pl_clock_mono_ms ();
    bool closed = false;
    while (!closed && pl_clock_mono_ms () - start < 20000) {
        closed = s_closed_by_server (fd)
                 || send (fd, "0123456789", 10, MSG_NOSIGNAL) < 0;
        s_sleep_ms (1000);
    }
    close (fd);
    assert_true (closed);
    /* A body at a normal pace is fine. */
    char body[4096];
    memset (body, 'x', sizeof body);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (pl_test_http_request (pl_http_port (http), "POST", "/v1/upload", NULL, body,
                                            sizeof body, &r), 200);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_connection_over_the_limit_is_answered_503_with_retry_after),
        cmocka_unit_test (test_body_below_the_minimum_rate_is_cut),
        cmocka_unit_test (test_slow_headers_do_not_stop_the_api_nor_healthz),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
