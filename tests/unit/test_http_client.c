/*  test_http_client.c — the kit's HTTP/1.1 client against the kit's own server on 127.0.0.1:
 *  whole exchanges, bodies framed by length and by chunks, kept-alive connections, the body
 *  bound, the deadline on a peer that never answers, refused connections and URL parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "plateau/error.h"
#include "plateau/http.h"
#include "plateau/http_client.h"

/* ---- a server ---------------------------------------------------------------------------- */

/* POST /echo: the body back, with its method and length in headers. */
static int
s_echo (pl_http_req_t *req, void *arg)
{
    size_t n;
    const char *body = pl_http_req_body (req, &n);
    const char *who = pl_http_req_header (req, "X-Who");
    pl_http_reply_header (req, "X-Who", who ? who : "nobody");
    return pl_http_reply (req, 200, "text/plain", body, n);
}

/* GET /stream: 3 × 1000 bytes through the streamed (chunked) response. */
typedef struct {
    int left;
} s_stream_t;

static ssize_t
s_stream_next (void *arg, char *buf, size_t max)
{
    s_stream_t *s = arg;
    if (s->left == 0)
        return 0;
    size_t n = max < 1000 ? max : 1000;
    memset (buf, 'a' + (3 - s->left), n);
    if (n == 1000)
        s->left--;
    return (ssize_t) n;
}

static int
s_stream (pl_http_req_t *req, void *arg)
{
    s_stream_t *s = malloc (sizeof *s);
    s->left = 3;
    return pl_http_reply_stream (req, 200, "text/plain", s_stream_next, s, free);
}

static int
s_nothing (pl_http_req_t *req, void *arg)
{
    return pl_http_reply (req, 204, NULL, NULL, 0);
}

static int
s_setup (void **state)
{
    pl_http_t *http = pl_http_new ("127.0.0.1", 0, NULL);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "POST", "/echo", s_echo, NULL, &open), 0);
    assert_int_equal (pl_http_route (http, "GET", "/stream", s_stream, NULL, &open), 0);
    assert_int_equal (pl_http_route (http, "DELETE", "/nothing", s_nothing, NULL, &open), 0);
    assert_int_equal (pl_http_start (http), 0);
    *state = http;
    return 0;
}

static int
s_teardown (void **state)
{
    pl_http_t *http = *state;
    pl_http_stop (http, 1000);
    pl_http_destroy (&http);
    return 0;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void
test_request_sends_body_and_headers_and_reads_the_answer (void **state)
{
    pl_http_t *http = *state;
    pl_http_client_t *c = pl_http_client_new ("127.0.0.1", pl_http_port (http), 10000);
    assert_non_null (c);
    pl_http_response_t r;
    const char body[] = "hello\0world";                  /* binary-safe both ways */
    assert_int_equal (pl_http_client_request (c, "POST", "/echo", "X-Who: alice\r\n", body,
                                              sizeof body, &r), 200);
    assert_int_equal (r.body_len, sizeof body);
    assert_memory_equal (r.body, body, sizeof body);
    char v[64];
    assert_string_equal (pl_http_response_header (&r, "x-who", v, sizeof v), "alice");
    assert_string_equal (pl_http_response_header (&r, "Content-Type", v, sizeof v), "text/plain");
    assert_null (pl_http_response_header (&r, "X-Absent", v, sizeof v));
    assert_int_equal (strncmp (r.head, "HTTP/1.1 200", 12), 0);
    pl_http_response_free (&r);
    pl_http_response_free (&r);                          /* safe twice */
    /* The same client makes a second whole exchange (request closes, the next reconnects). */
    assert_int_equal (pl_http_client_request (c, "GET", "/missing", NULL, NULL, 0, &r), 404);
    pl_http_response_free (&r);
    assert_int_equal (pl_http_client_request (c, "DELETE", "/nothing", NULL, NULL, 0, &r), 204);
    assert_int_equal (r.body_len, 0);
    pl_http_response_free (&r);
    pl_http_client_destroy (&c);
    pl_http_client_destroy (&c);
    assert_null (c);
}

static void
test_chunked_body_is_decoded (void **state)
{
    pl_http_t *http = *state;
    pl_http_client_t *c = pl_http_client_new ("localhost", pl_http_port (http), 10000);
    pl_http_response_t r;
    assert_int_equal (pl_http_client_request (c, "GET", "/stream", NULL, NULL, 0, &r), 200);
    char v[32];
    assert_string_equal (pl_http_response_header (&r, "Transfer-Encoding", v, sizeof v), "chunked");
    assert_int_equal (r.body_len, 3000);
    assert_int_equal (r.body[0], 'a');
    assert_int_equal (r.body[1500], 'b');
    assert_int_equal (r.body[2999], 'c');
    assert_int_equal (r.body[3000], '\0');
    pl_http_response_free (&r);
    pl_http_client_destroy (&c);
}

static void
test_kept_alive_connection_carries_several_requests (void **state)
{
    pl_http_t *http = *state;
    pl_http_client_t *c = pl_http_client_new ("127.0.0.1", pl_http_port (http), 10000);
    pl_http_response_t r;
    for (int i = 0; i < 3; i++) {
        char who[32];
        snprintf (who, sizeof who, "X-Who: n%d\r\n", i);
        assert_int_equal (pl_http_client_send_head (c, "POST", "/echo", who, 2), 0);
        assert_int_equal (pl_http_client_send (c, "ok", 2), 0);
        assert_int_equal (pl_http_client_read (c, &r, false), 200);
        char v[32];
        snprintf (who, sizeof who, "n%d", i);
        assert_string_equal (pl_http_response_header (&r, "X-Who", v, sizeof v), who);
        assert_string_equal (r.body, "ok");
        pl_http_response_free (&r);
    }
    /* A HEAD answer has headers and no body, and the connection goes on after it. */
    assert_int_equal (pl_http_client_send_head (c, "HEAD", "/stream", NULL, -1), 0);
    assert_int_equal (pl_http_client_read (c, &r, true), 200);
    assert_int_equal (r.body_len, 0);
    pl_http_response_free (&r);
    pl_http_client_destroy (&c);
}

static void
test_body_over_the_bound_is_refused (void **state)
{
    pl_http_t *http = *state;
    pl_http_client_t *c = pl_http_client_new ("127.0.0.1", pl_http_port (http), 10000);
    pl_http_client_set_max_body (c, 100);
    char big[101];
    memset (big, 'x', sizeof big);
    pl_http_response_t r;
    assert_int_equal (pl_http_client_request (c, "POST", "/echo", NULL, big, 100, &r), 200);
    pl_http_response_free (&r);
    assert_int_equal (pl_http_client_request (c, "POST", "/echo", NULL, big, 101, &r),
                      PL_ETOOBIG);
    assert_non_null (strstr (pl_http_client_errstr (c), "over 100 bytes"));
    pl_http_response_free (&r);
    /* The same holds when the length is only known from the chunks. */
    assert_int_equal (pl_http_client_request (c, "GET", "/stream", NULL, NULL, 0, &r),
                      PL_ETOOBIG);
    pl_http_response_free (&r);
    pl_http_client_destroy (&c);
}

static void
test_silent_peer_times_out_and_closed_port_is_refused (void **state)
{
    /* A socket that listens and never accepts: the kernel completes the connection, nobody
     * ever answers. */
    int l = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    assert_int_equal (bind (l, (struct sockaddr *) &a, sizeof a), 0);
    assert_int_equal (listen (l, 4), 0);
    socklen_t al = sizeof a;
    getsockname (l, (struct sockaddr *) &a, &al);
    int port = ntohs (a.sin_port);
    pl_http_client_t *c = pl_http_client_new ("127.0.0.1", port, 200);
    pl_http_response_t r;
    assert_int_equal (pl_http_client_request (c, "GET", "/", NULL, NULL, 0, &r), PL_ETIMEDOUT);
    assert_non_null (strstr (pl_http_client_errstr (c), "receive"));
    pl_http_response_free (&r);
    pl_http_client_destroy (&c);
    close (l);
    /* Closed now: refused, with the address in the detail. */
    c = pl_http_client_new ("127.0.0.1", port, 2000);
    assert_int_equal (pl_http_client_request (c, "GET", "/", NULL, NULL, 0, &r), PL_EIO);
    char want[64];
    snprintf (want, sizeof want, "connect 127.0.0.1:%d", port);
    assert_non_null (strstr (pl_http_client_errstr (c), want));
    pl_http_response_free (&r);
    pl_http_client_destroy (&c);
    char err[128];
    assert_int_equal (pl_http_dial ("127.0.0.1", 0, 100, err, sizeof err), PL_EINVAL);
    assert_null (pl_http_client_new ("127.0.0.1", 70000, 100));
    assert_null (pl_http_client_new (NULL, 80, 100));
}

static void
test_urls_name_host_and_port (void **state)
{
    static const struct {
        const char *url, *host;
        int port;
    } good[] = {
        {"http://127.0.0.1:8080", "127.0.0.1", 8080},
        {"http://intake.internal", "intake.internal", 80},
        {"http://intake:9000/v1/leads?x=1", "intake", 9000},
        {"http://[::1]:8081/", "::1", 8081},
        {"http://host/", "host", 80},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char host[64];
        int port = 0;
        assert_int_equal (pl_http_url_parse (good[i].url, host, sizeof host, &port), 0);
        assert_string_equal (host, good[i].host);
        assert_int_equal (port, good[i].port);
    }
    static const char *const bad[] = {"https://host", "host:80", "http://", "http://:80",
                                      "http://h:0", "http://h:65536", "http://h:8x",
                                      "http://[::1", "http://h:", NULL};
    for (int i = 0; bad[i]; i++) {
        char host[64];
        int port;
        if (pl_http_url_parse (bad[i], host, sizeof host, &port) == 0)
            fail_msg ("'%s' accepted", bad[i]);
    }
    char tiny[4];
    int port;
    assert_int_equal (pl_http_url_parse ("http://longhost", tiny, sizeof tiny, &port), PL_EINVAL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_request_sends_body_and_headers_and_reads_the_answer),
        cmocka_unit_test (test_chunked_body_is_decoded),
        cmocka_unit_test (test_kept_alive_connection_carries_several_requests),
        cmocka_unit_test (test_body_over_the_bound_is_refused),
        cmocka_unit_test (test_silent_peer_times_out_and_closed_port_is_refused),
        cmocka_unit_test (test_urls_name_host_and_port),
    };
    return cmocka_run_group_tests_name ("http_client", tests, s_setup, s_teardown);
}
