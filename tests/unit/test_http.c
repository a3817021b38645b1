/*  test_http.c — the HTTP server layer of the public APIs, over real sockets.
 *
 *  Every test starts a pl_http_t on 127.0.0.1 with a kernel-chosen port and talks to it with
 *  the harness's HTTP/1.1 client (pl_test_http.h): routing and path parameters, the limits
 *  (413), content types (415), bearer tokens (401/403), body signatures, streamed request and
 *  response bodies, per-thread contexts, request metrics and the graceful stop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <zlib.h>
#include "plateau/clock.h"
#include "plateau/error.h"
#include "plateau/http.h"
#include "plateau/metrics.h"
#include "pl_test_http.h"

/* ---- helpers ---------------------------------------------------------------------------- */

#define TOKEN_PARIS "paris-0123456789abcdef0123456789"
#define TOKEN_LYON  "lyon-fedcba9876543210fedcba98765"

static void
s_nap_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

static pl_http_t *
s_server (const pl_http_options_t *opts)
{
    pl_http_t *http = pl_http_new ("127.0.0.1", 0, opts);
    assert_non_null (http);
    return http;
}

static void
s_start (pl_http_t *http)
{
    assert_int_equal (pl_http_start (http), 0);
    assert_true (pl_http_port (http) > 0);
}

/* The parsed JSON body of a response (decref it). */
static json_t *
s_json (const pl_test_http_resp_t *r)
{
    json_error_t err;
    json_t *j = json_loads (r->body ? r->body : "", 0, &err);
    if (!j)
        fail_msg ("not JSON: %s (%s)", r->body ? r->body : "(null)", err.text);
    return j;
}

/* Checks the project's error format and the code; returns nothing. */
static void
s_assert_error (const pl_test_http_resp_t *r, int status, const char *code)
{
    assert_int_equal (r->status, status);
    char ctype[128];
    assert_non_null (pl_test_http_header (r, "Content-Type", ctype, sizeof ctype));
    assert_string_equal (ctype, "application/json");
    json_t *j = s_json (r);
    json_t *err = json_object_get (j, "error");
    assert_true (json_is_object (err));
    assert_string_equal (json_string_value (json_object_get (err, "code")), code);
    assert_true (json_is_string (json_object_get (err, "message")));
    json_decref (j);
}

static void
s_put_str (json_t *o, const char *key, const char *value)
{
    json_object_set_new (o, key, value ? json_string (value) : json_null ());
}

/* Echoes what the request looked like, as JSON. */
static int
s_echo (pl_http_req_t *req, void *arg)
{
    atomic_int *calls = arg;
    if (calls)
        atomic_fetch_add (calls, 1);
    json_t *o = json_object ();
    s_put_str (o, "method", pl_http_req_method (req));
    s_put_str (o, "path", pl_http_req_path (req));
    s_put_str (o, "route", pl_http_req_route (req));
    s_put_str (o, "id", pl_http_req_param (req, "id"));
    s_put_str (o, "status", pl_http_req_query (req, "status"));
    s_put_str (o, "q", pl_http_req_query (req, "q"));
    s_put_str (o, "missing", pl_http_req_query (req, "missing"));
    s_put_str (o, "x_test", pl_http_req_header (req, "x-test"));
    s_put_str (o, "source", pl_http_req_source (req));
    size_t len = 0;
    const char *body = pl_http_req_body (req, &len);
    json_object_set_new (o, "body_len", json_integer ((json_int_t) len));
    s_put_str (o, "body", body);
    char *text = json_dumps (o, JSON_COMPACT);
    json_decref (o);
    int rc = pl_http_reply_json (req, 200, text);
    free (text);
    return rc;
}

static const char *
s_jstr (json_t *j, const char *key)
{
    return json_string_value (json_object_get (j, key));
}

/* ---- routing ---------------------------------------------------------------------------- */

static void
test_path_parameters_are_decoded_segment_by_segment (void **state)
{
    (void) state;
    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "GET", "/v1/leads/{id}", s_echo, NULL, &open), 0);
    s_start (http);
    pl_test_http_resp_t r;
    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "GET", "/v1/leads/01JABC", NULL, NULL, 0, &r),
        200);
    json_t *j = s_json (&r);
    assert_string_equal (s_jstr (j, "id"), "01JABC");
    assert_string_equal (s_jstr (j, "route"), "/v1/leads/{id}");
    assert_string_equal (s_jstr (j, "path"), "/v1/leads/01JABC");
    json_decref (j);
    pl_test_http_resp_free (&r);

    /* An encoded slash stays inside its segment instead of splitting the path. */
    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "GET", "/v1/leads/a%2Fb%20c", NULL, NULL, 0, &r),
        200);
    j = s_json (&r);
    assert_string_equal (s_jstr (j, "id"), "a/b c");
    json_decref (j);
    pl_test_http_resp_free (&r);

    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "GET", "/v1/leads/%zz", NULL, NULL, 0, &r), 400);
    s_assert_error (&r, 400, "bad_path");
    pl_test_http_resp_free (&r);
    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "GET", "/v1/leads/a%00b", NULL, NULL, 0, &r),
        400);
    pl_test_http_resp_free (&r);
    /* A parameter matches one non-empty segment. */
    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "GET", "/v1/leads/", NULL, NULL, 0, &r), 404);
    pl_test_http_resp_free (&r);
    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "GET", "/v1/leads/a/b", NULL, NULL, 0, &r), 404);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
    assert_null (http);
    pl_http_destroy (&http);
}

static int
s_batch (pl_http_req_t *req, void *arg)
{
    (void) arg;
    return pl_http_reply (req, 200, "text/plain", "batch", 5);
}

static void
test_literal_segment_wins_over_parameter (void **state)
{
    (void) state;
    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "GET", "/v1/leads/{id}", s_echo, NULL, &open), 0);
    assert_int_equal (pl_http_route (http, "GET", "/v1/leads/batch", s_batch, NULL, &open), 0);
    s_start (http);
    pl_test_http_resp_t r;
    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "GET", "/v1/leads/batch", NULL, NULL, 0, &r),
        200);
    assert_string_equal (r.body, "batch");
    pl_test_http_resp_free (&r);
    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "GET", "/v1/leads/x1", NULL, NULL, 0, &r), 200);
    json_t *j = s_json (&r);
    assert_string_equal (s_jstr (j, "id"), "x1");
    json_decref (j);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
}

static void
test_query_and_headers_are_readable (void **state)
{
    (void) state;
    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "GET", "/v1/audit", s_echo, NULL, &open), 0);
    s_start (http);
    pl_test_http_resp_t r;
    assert_int_equal (pl_test_http_request (pl_http_port (http), "GET",
                                            "/v1/audit?status=new&q=a+b%21%2F", "X-Test: hello\r\n",
                                            NULL, 0, &r),
                      200);
    json_t *j = s_json (&r);
    assert_string_equal (s_jstr (j, "status"), "new");
    assert_string_equal (s_jstr (j, "q"), "a b!/");
    assert_true (json_is_null (json_object_get (j, "missing")));
    assert_string_equal (s_jstr (j, "x_test"), "hello");
    assert_string_equal (s_jstr (j, "path"), "/v1/audit");
    json_decref (j);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
}

static void
test_unknown_path_is_404_and_wrong_method_is_405 (void **state)
{
    (void) state;
    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "POST", "/v1/leads", s_echo, NULL, &open), 0);
    assert_int_equal (pl_http_route (http, "GET", "/v1/leads/{id}", s_echo, NULL, &open), 0);
    s_start (http);
    pl_test_http_resp_t r;
    pl_test_http_request (pl_http_port (http), "GET", "/v2/nothing", NULL, NULL, 0, &r);
    s_assert_error (&r, 404, "not_found");
    pl_test_http_resp_free (&r);
    pl_test_http_request (pl_http_port (http), "DELETE", "/v1/leads", NULL, NULL, 0, &r);
    s_assert_error (&r, 405, "method_not_allowed");
    char allow[64];
    assert_non_null (pl_test_http_header (&r, "Allow", allow, sizeof allow));
    assert_string_equal (allow, "POST");
    pl_test_http_resp_free (&r);
    pl_test_http_request (pl_http_port (http), "PUT", "/v1/leads/x", NULL, "{}", 2, &r);
    s_assert_error (&r, 405, "method_not_allowed");
    assert_non_null (pl_test_http_header (&r, "Allow", allow, sizeof allow));
    assert_string_equal (allow, "GET, HEAD");
    pl_test_http_resp_free (&r);
    /* A GET route answers HEAD with its headers only. */
    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "HEAD", "/v1/leads/x", NULL, NULL, 0, &r), 200);
    assert_int_equal (r.body_len, 0);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
}

static void
test_route_registration_is_checked (void **state)
{
    (void) state;
    pl_http_t *http = s_server (NULL);
    assert_int_equal (pl_http_route (http, "GET", "v1/x", s_echo, NULL, NULL), PL_EINVAL);
    assert_int_equal (pl_http_route (http, "GET", "/v1/{}", s_echo, NULL, NULL), PL_EINVAL);
    assert_int_equal (pl_http_route (http, "GET", "/v1/{1d}", s_echo, NULL, NULL), PL_EINVAL);
    assert_int_equal (pl_http_route (http, "GET", "/v1/a{id}", s_echo, NULL, NULL), PL_EINVAL);
    assert_int_equal (pl_http_route (http, "get", "/v1/x", s_echo, NULL, NULL), PL_EINVAL);
    assert_int_equal (pl_http_route (http, "GET", "/v1/x", NULL, NULL, NULL), PL_EINVAL);
    assert_int_equal (pl_http_route (http, "GET", "/v1/leads/{id}", s_echo, NULL, NULL), 0);
    assert_int_equal (pl_http_route (http, "GET", "/v1/leads/{lead}", s_echo, NULL, NULL),
                      PL_EEXIST);
    assert_non_null (strstr (pl_http_errstr (http), "/v1/leads/{id}"));
    assert_int_equal (pl_http_route (http, "POST", "/v1/leads/{id}", s_echo, NULL, NULL), 0);
    s_start (http);
    assert_int_equal (pl_http_route (http, "GET", "/v1/late", s_echo, NULL, NULL), PL_EBUSY);
    pl_http_destroy (&http);
}

static void
test_port_in_use_is_reported (void **state)
{
    (void) state;
    pl_http_t *a = s_server (NULL);
    s_start (a);
    pl_http_t *b = pl_http_new ("127.0.0.1", pl_http_port (a), NULL);
    assert_non_null (b);
    assert_int_equal (pl_http_start (b), PL_EIO);
    assert_non_null (strstr (pl_http_errstr (b), "Address already in use"));
    pl_http_destroy (&b);
    pl_http_destroy (&a);
}

/* ---- responses -------------------------------------------------------------------------- */

static int
s_unavailable (pl_http_req_t *req, void *arg)
{
    (void) arg;
    pl_http_reply_header (req, "Retry-After", "30");
    return pl_http_reply_error (req, 503, "unavailable", "redis is unreachable", NULL);
}

static int
s_parse_error (pl_http_req_t *req, void *arg)
{
    (void) arg;
    return pl_http_reply_error_at (req, 400, "bad_json", "unexpected '}'", "leads", 3, 17);
}

static int
s_fails (pl_http_req_t *req, void *arg)
{
    (void) req;
    (void) arg;
    return PL_EREDIS;
}

static int
s_silent (pl_http_req_t *req, void *arg)
{
    (void) req;
    (void) arg;
    return 0;
}

static int
s_file (pl_http_req_t *req, void *arg)
{
    const char *path = arg;
    FILE *f = fopen (path, "re");
    if (!f)
        return PL_EIO;
    int fd = dup (fileno (f));
    fclose (f);
    lseek (fd, 5, SEEK_SET);                 /* served from the current offset */
    return pl_http_reply_fd (req, 200, "application/x-ndjson", fd);
}

static void
test_responses_carry_status_headers_and_error_format (void **state)
{
    (void) state;
    char path[] = "/tmp/pl-http-test-XXXXXX";
    int tmp = mkstemp (path);
    assert_true (tmp >= 0);
    const char content[] = "skip\n{\"a\":1}\n{\"a\":2}\n";
    assert_int_equal (write (tmp, content, sizeof content - 1), (ssize_t) (sizeof content - 1));
    close (tmp);

    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "GET", "/busy", s_unavailable, NULL, &open), 0);
    assert_int_equal (pl_http_route (http, "POST", "/parse", s_parse_error, NULL, &open), 0);
    assert_int_equal (pl_http_route (http, "GET", "/fails", s_fails, NULL, &open), 0);
    assert_int_equal (pl_http_route (http, "GET", "/silent", s_silent, NULL, &open), 0);
    assert_int_equal (pl_http_route (http, "GET", "/file", s_file, path, &open), 0);
    s_start (http);
    int port = pl_http_port (http);
    pl_test_http_resp_t r;
    char value[64];

    pl_test_http_request (port, "GET", "/busy", NULL, NULL, 0, &r);
    s_assert_error (&r, 503, "unavailable");
    assert_string_equal (pl_test_http_header (&r, "Retry-After", value, sizeof value), "30");
    pl_test_http_resp_free (&r);

    pl_test_http_request (port, "POST", "/parse", NULL, "{", 1, &r);
    s_assert_error (&r, 400, "bad_json");
    json_t *j = s_json (&r);
    json_t *err = json_object_get (j, "error");
    assert_string_equal (s_jstr (err, "field"), "leads");
    assert_int_equal (json_integer_value (json_object_get (err, "line")), 3);
    assert_int_equal (json_integer_value (json_object_get (err, "column")), 17);
    json_decref (j);
    pl_test_http_resp_free (&r);

    pl_test_http_request (port, "GET", "/fails", NULL, NULL, 0, &r);
    s_assert_error (&r, 500, "internal");
    pl_test_http_resp_free (&r);
    pl_test_http_request (port, "GET", "/silent", NULL, NULL, 0, &r);
    s_assert_error (&r, 500, "internal");
    pl_test_http_resp_free (&r);

    assert_int_equal (pl_test_http_request (port, "GET", "/file", NULL, NULL, 0, &r), 200);
    assert_string_equal (r.body, "{\"a\":1}\n{\"a\":2}\n");
    assert_string_equal (pl_test_http_header (&r, "Content-Type", value, sizeof value),
                         "application/x-ndjson");
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
    unlink (path);

    char *e = pl_http_error_json ("invalid_lead", "phone is not E.164", "phone");
    assert_string_equal (e, "{\"error\":{\"code\":\"invalid_lead\",\"message\":"
                            "\"phone is not E.164\",\"field\":\"phone\"}}");
    free (e);
    e = pl_http_error_json ("conflict", "say \"hi\"", NULL);
    assert_string_equal (e, "{\"error\":{\"code\":\"conflict\",\"message\":\"say \\\"hi\\\"\"}}");
    free (e);
}

/* ---- limits and content types ----------------------------------------------------------- */

static void
test_declared_body_over_the_limit_is_413_before_reading_it (void **state)
{
    (void) state;
    atomic_int calls = 0;
    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t opts = { .flags = PL_HTTP_PUBLIC, .max_body = 1024 };
    assert_int_equal (pl_http_route (http, "POST", "/v1/leads", s_echo, &calls, &opts), 0);
    s_start (http);
    /* Headers only: the answer comes without the body ever being sent. */
    int fd = pl_test_http_connect (pl_http_port (http));
    assert_true (fd >= 0);
    const char head[] = "POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: 1048576\r\n\r\n";
    assert_true (pl_test_http_send_all (fd, head, sizeof head - 1));
    pl_test_http_reader_t *rd = pl_test_http_reader_new (fd);
    pl_test_http_resp_t r;
    pl_test_http_read_response (rd, &r, false);
    s_assert_error (&r, 413, "too_large");
    pl_test_http_resp_free (&r);
    pl_test_http_reader_destroy (&rd);
    close (fd);

    /* Exactly the limit is fine. */
    char *body = malloc (1025);
    memset (body, 'x', 1025);
    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "POST", "/v1/leads", NULL, body, 1024, &r), 200);
    pl_test_http_resp_free (&r);
    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "POST", "/v1/leads", NULL, body, 1025, &r), 413);
    pl_test_http_resp_free (&r);
    free (body);
    assert_int_equal (atomic_load (&calls), 1);
    pl_http_destroy (&http);
}

/* Sends body in chunked encoding, piece bytes at a time, then reads the answer. */
static int
s_post_chunked (int port, const char *path, const char *headers, const char *body, size_t len,
                size_t piece, pl_test_http_resp_t *r)
{
    int fd = pl_test_http_connect (port);
    if (fd < 0)
        return -1;
    char head[1024];
    int n = snprintf (head, sizeof head, "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      "Transfer-Encoding: chunked\r\n%s\r\n", path, headers ? headers : "");
    bool ok = pl_test_http_send_all (fd, head, (size_t) n);
    for (size_t off = 0; ok && off < len; off += piece) {
        size_t m = len - off < piece ? len - off : piece;
        char size[32];
        int k = snprintf (size, sizeof size, "%zx\r\n", m);
        ok = pl_test_http_send_all (fd, size, (size_t) k)
             && pl_test_http_send_all (fd, body + off, m) && pl_test_http_send_all (fd, "\r\n", 2);
    }
    if (ok)
        pl_test_http_send_all (fd, "0\r\n\r\n", 5);
    pl_test_http_reader_t *rd = pl_test_http_reader_new (fd);
    int status = pl_test_http_read_response (rd, r, false);
    pl_test_http_reader_destroy (&rd);
    close (fd);
    return status;
}

static void
test_chunked_body_over_the_limit_is_413_and_the_handler_never_runs (void **state)
{
    (void) state;
    atomic_int calls = 0;
    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t opts = { .flags = PL_HTTP_PUBLIC, .max_body = 1024 };
    assert_int_equal (pl_http_route (http, "POST", "/v1/leads", s_echo, &calls, &opts), 0);
    s_start (http);
    char body[3000];
    memset (body, 'y', sizeof body);
    pl_test_http_resp_t r;
    s_post_chunked (pl_http_port (http), "/v1/leads", NULL, body, sizeof body, 500, &r);
    s_assert_error (&r, 413, "too_large");
    pl_test_http_resp_free (&r);
    s_post_chunked (pl_http_port (http), "/v1/leads", NULL, body, 1000, 300, &r);
    assert_int_equal (r.status, 200);
    json_t *j = s_json (&r);
    assert_int_equal (json_integer_value (json_object_get (j, "body_len")), 1000);
    json_decref (j);
    pl_test_http_resp_free (&r);
    assert_int_equal (atomic_load (&calls), 1);
    pl_http_destroy (&http);
}

static int
s_typed (pl_http_req_t *req, void *arg)
{
    (void) arg;
    if (pl_http_require_type (req, "text/csv") < 0)
        return 0;
    return pl_http_reply (req, 202, "text/plain", "csv", 3);
}

static void
test_wrong_content_type_is_415 (void **state)
{
    (void) state;
    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t json_only = { .flags = PL_HTTP_PUBLIC,
                                       .content_types = "application/json, application/x-ndjson" };
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "POST", "/v1/leads", s_echo, NULL, &json_only), 0);
    assert_int_equal (pl_http_route (http, "POST", "/v1/leads/csv", s_typed, NULL, &open), 0);
    s_start (http);
    int port = pl_http_port (http);
    pl_test_http_resp_t r;
    pl_test_http_request (port, "POST", "/v1/leads", "Content-Type: text/csv\r\n", "a,b", 3, &r);
    s_assert_error (&r, 415, "unsupported_media_type");
    pl_test_http_resp_free (&r);
    pl_test_http_request (port, "POST", "/v1/leads", NULL, "{}", 2, &r);
    s_assert_error (&r, 415, "unsupported_media_type");
    pl_test_http_resp_free (&r);
    assert_int_equal (pl_test_http_request (port, "POST", "/v1/leads",
                                            "Content-Type: Application/JSON; charset=utf-8\r\n",
                                            "{}", 2, &r),
                      200);
    pl_test_http_resp_free (&r);
    assert_int_equal (pl_test_http_request (port, "POST", "/v1/leads",
                                            "Content-Type: application/x-ndjson\r\n", "{}\n", 3,
                                            &r),
                      200);
    pl_test_http_resp_free (&r);
    /* The helper, called by a handler. */
    pl_test_http_request (port, "POST", "/v1/leads/csv", "Content-Type: application/json\r\n", "{}",
                          2, &r);
    s_assert_error (&r, 415, "unsupported_media_type");
    pl_test_http_resp_free (&r);
    assert_int_equal (pl_test_http_request (port, "POST", "/v1/leads/csv",
                                            "Content-Type: text/csv\r\n", "a", 1, &r),
                      202);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
}

/* ---- authentication --------------------------------------------------------------------- */

static pl_http_tokens_t *
s_tokens (void)
{
    pl_http_tokens_t *t = pl_http_tokens_new ();
    assert_non_null (t);
    assert_int_equal (pl_http_tokens_parse (t, "# plateau API tokens\n"
                                               "crm-paris:" TOKEN_PARIS "\n"
                                               "\n"
                                               "  crm-lyon : " TOKEN_LYON "  \r\n"), 2);
    return t;
}

static void
test_bearer_tokens_give_401_403_or_the_source (void **state)
{
    (void) state;
    pl_http_tokens_t *tokens = s_tokens ();
    pl_http_options_t opts = { .tokens = tokens };
    pl_http_t *http = s_server (&opts);
    pl_http_route_opts_t paris_only = { .sources = "crm-paris,crm-nantes" };
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "POST", "/v1/leads", s_echo, NULL, &paris_only), 0);
    assert_int_equal (pl_http_route (http, "GET", "/v1/leads/{id}", s_echo, NULL, NULL), 0);
    assert_int_equal (pl_http_route (http, "GET", "/v1/ping", s_echo, NULL, &open), 0);
    s_start (http);
    int port = pl_http_port (http);
    pl_test_http_resp_t r;
    char value[128];

    pl_test_http_request (port, "POST", "/v1/leads", NULL, "{}", 2, &r);
    s_assert_error (&r, 401, "unauthorized");
    assert_non_null (pl_test_http_header (&r, "WWW-Authenticate", value, sizeof value));
    assert_int_equal (strncmp (value, "Bearer", 6), 0);
    pl_test_http_resp_free (&r);

    pl_test_http_request (port, "POST", "/v1/leads", "Authorization: Bearer " TOKEN_PARIS "x\r\n",
                          "{}", 2, &r);
    s_assert_error (&r, 401, "unauthorized");
    assert_non_null (strstr (pl_test_http_header (&r, "WWW-Authenticate", value, sizeof value),
                             "invalid_token"));
    pl_test_http_resp_free (&r);

    pl_test_http_request (port, "POST", "/v1/leads", "Authorization: Basic Zm9vOmJhcg==\r\n", "{}",
                          2, &r);
    s_assert_error (&r, 401, "unauthorized");
    pl_test_http_resp_free (&r);

    pl_test_http_request (port, "POST", "/v1/leads", "Authorization: Bearer " TOKEN_LYON "\r\n",
                          "{}", 2, &r);
    s_assert_error (&r, 403, "forbidden");
    pl_test_http_resp_free (&r);

    assert_int_equal (pl_test_http_request (port, "POST", "/v1/leads",
                                            "Authorization: bearer " TOKEN_PARIS "\r\n", "{}", 2,
                                            &r),
                      200);
    json_t *j = s_json (&r);
    assert_string_equal (s_jstr (j, "source"), "crm-paris");
    json_decref (j);
    pl_test_http_resp_free (&r);

    /* No sources list: any known source. */
    assert_int_equal (pl_test_http_request (port, "GET", "/v1/leads/7",
                                            "Authorization: Bearer " TOKEN_LYON "\r\n", NULL, 0,
                                            &r),
                      200);
    j = s_json (&r);
    assert_string_equal (s_jstr (j, "source"), "crm-lyon");
    json_decref (j);
    pl_test_http_resp_free (&r);

    /* Public: no token needed, and no source. */
    assert_int_equal (pl_test_http_request (port, "GET", "/v1/ping", NULL, NULL, 0, &r), 200);
    j = s_json (&r);
    assert_true (json_is_null (json_object_get (j, "source")));
    json_decref (j);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
    pl_http_tokens_destroy (&tokens);
    assert_null (tokens);
}

static void
test_server_without_tokens_fails_closed (void **state)
{
    (void) state;
    pl_http_t *http = s_server (NULL);
    assert_int_equal (pl_http_route (http, "GET", "/v1/leads/{id}", s_echo, NULL, NULL), 0);
    s_start (http);
    pl_test_http_resp_t r;
    pl_test_http_request (pl_http_port (http), "GET", "/v1/leads/1",
                          "Authorization: Bearer " TOKEN_PARIS "\r\n", NULL, 0, &r);
    s_assert_error (&r, 401, "unauthorized");
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
}

static void
test_token_lookup_matches_whole_tokens_only (void **state)
{
    (void) state;
    pl_http_tokens_t *t = s_tokens ();
    assert_int_equal (pl_http_tokens_count (t), 2);
    assert_string_equal (pl_http_tokens_lookup (t, TOKEN_PARIS), "crm-paris");
    assert_string_equal (pl_http_tokens_lookup (t, TOKEN_LYON), "crm-lyon");
    /* Digests are compared, whole: a prefix, an extension, a one-byte change, the empty
     * token and a case change all miss. */
    char near[sizeof TOKEN_PARIS];
    memcpy (near, TOKEN_PARIS, sizeof near);
    near[sizeof near - 2] ^= 1;
    const char *misses[] = { "paris-0123456789abcdef012345678", TOKEN_PARIS "0", near, "",
                             "PARIS-0123456789ABCDEF0123456789" };
    for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++)
        assert_null (pl_http_tokens_lookup (t, misses[i]));
    assert_null (pl_http_tokens_lookup (t, NULL));

    /* Rotation: one source, two tokens. */
    assert_int_equal (pl_http_tokens_add (t, "crm-paris", "paris-new-token-0000000000000"), 0);
    assert_string_equal (pl_http_tokens_lookup (t, "paris-new-token-0000000000000"), "crm-paris");
    assert_string_equal (pl_http_tokens_lookup (t, TOKEN_PARIS), "crm-paris");
    pl_http_tokens_destroy (&t);
}

static void
test_tokens_file_errors_name_the_line_not_the_token (void **state)
{
    (void) state;
    pl_http_tokens_t *t = pl_http_tokens_new ();
    static const struct { const char *text; int rc; const char *detail; } cases[] = {
        { "crm:short\n", PL_EINVAL, "line 1: token of source 'crm' is shorter than 16 bytes" },
        { "# c\nno-colon-here-at-all-0123456\n", PL_EINVAL, "line 2: expected source:token" },
        { "bad source:0123456789abcdef0123\n", PL_EINVAL, "line 1: bad source name" },
        { "a:0123456789abcdef0123\nb:0123456789abcdef0123\n", PL_EEXIST,
          "line 2: token of source 'b' is already in the table" },
        { "a:0123456789 abcdef0123\n", PL_EINVAL, "line 1: token of source 'a' holds a blank" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal (pl_http_tokens_parse (t, cases[i].text), cases[i].rc);
        const char *err = pl_http_tokens_errstr (t);
        assert_int_equal (strncmp (err, cases[i].detail, strlen (cases[i].detail)), 0);
        assert_null (strstr (err, "0123456789"));
        /* All or nothing. */
        assert_int_equal (pl_http_tokens_count (t), 0);
    }
    /* From a file. */
    char path[] = "/tmp/pl-tokens-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    const char text[] = "# tokens\ncrm-paris:" TOKEN_PARIS "\n";
    assert_int_equal (write (fd, text, sizeof text - 1), (ssize_t) (sizeof text - 1));
    close (fd);
    assert_int_equal (pl_http_tokens_load (t, path), 1);
    assert_string_equal (pl_http_tokens_lookup (t, TOKEN_PARIS), "crm-paris");
    unlink (path);
    assert_int_equal (pl_http_tokens_load (t, path), PL_EIO);
    pl_http_tokens_destroy (&t);
}

/* ---- signatures ------------------------------------------------------------------------- */

static void
test_signature_covers_time_method_target_and_body (void **state)
{
    (void) state;
    /* HMAC-SHA256("Jefe", "1700000000.POST./v1/leads?campaign=c1.<body>"), from another
     * implementation. */
    const char body[] = "what do ya want for nothing?";
    const char want[] = "t=1700000000,v1="
                        "69c67bd2150635beb6561d8cde8697698197473888c78eae5b076eabeca1a96e";
    char sig[PL_HTTP_SIGNATURE_SIZE];
    assert_int_equal (pl_http_sign ("Jefe", 4, 1700000000, "POST", "/v1/leads?campaign=c1", body,
                                    sizeof body - 1, sig, sizeof sig), 0);
    assert_string_equal (sig, want);
    assert_int_equal (pl_http_sign ("Jefe", 4, 1700000000, "GET", "/v1/leads/01J", NULL, 0, sig,
                                    sizeof sig), 0);
    assert_string_equal (sig, "t=1700000000,v1="
                         "932d1678f99d61f00c432f32fa9524a64ab2d44ecc16b6153c43964c0b7a731f");
    assert_int_equal (pl_http_sign ("Jefe", 4, 1700000000, "GET", "/", NULL, 0, sig, 80),
                      PL_EINVAL);                                   /* 81 bytes needed */
    assert_int_equal (pl_http_sign ("Jefe", 4, -1, "GET", "/", NULL, 0, sig, sizeof sig),
                      PL_EINVAL);

    /* Verified chunk by chunk, with the same answer for every split. */
    pl_http_sig_t *sg = NULL;
    assert_int_equal (pl_http_sig_new (&sg, "Jefe", 4, want, "POST", "/v1/leads?campaign=c1",
                                       1700000000, 300), 0);
    pl_http_sig_update (sg, body, 5);
    pl_http_sig_update (sg, body + 5, 0);
    pl_http_sig_update (sg, body + 5, sizeof body - 1 - 5);
    assert_int_equal (pl_http_sig_check (sg), 0);
    assert_int_equal (pl_http_sig_check (sg), PL_EINVAL);          /* final already */
    pl_http_sig_destroy (&sg);
    assert_null (sg);
    pl_http_sig_destroy (&sg);

    /* Anything else signed: a mismatch, found at the end. */
    static const struct {
        const char *key, *method, *target;
        size_t body_len;
    } other[] = {
        { "Jeff", "POST", "/v1/leads?campaign=c1", sizeof body - 1 },
        { "Jefe", "PUT", "/v1/leads?campaign=c1", sizeof body - 1 },
        { "Jefe", "POST", "/v1/leads?campaign=c2", sizeof body - 1 },
        { "Jefe", "POST", "/v1/leads", sizeof body - 1 },
        { "Jefe", "POST", "/v1/leads?campaign=c1", sizeof body - 2 },
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        assert_int_equal (pl_http_sig_new (&sg, other[i].key, 4, want, other[i].method,
                                           other[i].target, 1700000000, 300), 0);
        pl_http_sig_update (sg, body, other[i].body_len);
        assert_int_equal (pl_http_sig_check (sg), PL_EPERM);
        pl_http_sig_destroy (&sg);
    }

    /* Refused from the header alone: missing, malformed, outside the window either way. */
    const struct {
        const char *value;
        int64_t now;
        int rc;
    } header[] = {
        { NULL, 1700000000, PL_ENOTFOUND },
        { "sha256=69c67bd2150635beb6561d8cde8697698197473888c78eae5b076eabeca1a96e",
          1700000000, PL_EINVAL },
        { "t=,v1=69c67bd2150635beb6561d8cde8697698197473888c78eae5b076eabeca1a96e",
          1700000000, PL_EINVAL },
        { "t=-5,v1=69c67bd2150635beb6561d8cde8697698197473888c78eae5b076eabeca1a96e",
          1700000000, PL_EINVAL },
        { "t=1700000000,v1=69c67bd2", 1700000000, PL_EINVAL },
        { "t=1700000000,v1=69c67bd2150635beb6561d8cde8697698197473888c78eae5b076eabeca1a96ex",
          1700000000, PL_EINVAL },
        { "t=1700000000", 1700000000, PL_EINVAL },
        { want, 1700000301, PL_ERANGE },
        { want, 1699999699, PL_ERANGE },
        { want, 1700000300, 0 },
        { want, 1699999700, 0 },
        { "t=1700000000, v1=69C67BD2150635BEB6561D8CDE8697698197473888C78EAE5B076EABECA1A96E ",
          1700000000, 0 },
    };
    for (size_t i = 0; i < sizeof header / sizeof header[0]; i++) {
        int rc = pl_http_sig_new (&sg, "Jefe", 4, header[i].value, "POST",
                                  "/v1/leads?campaign=c1", header[i].now, 300);
        if (rc != header[i].rc)
            fail_msg ("header %zu: %d, want %d", i, rc, header[i].rc);
        assert_true (rc == 0 ? sg != NULL : sg == NULL);
        pl_http_sig_destroy (&sg);
    }
}

#define S_SIGNING_SECRET "pay-secret-0123456789"

/* Source "paris" signs with S_SIGNING_SECRET; "lyon" does not sign. */
static const void *
s_signing_secret (const char *source, unsigned i, size_t *len, void *arg)
{
    (void) arg;
    if (strcmp (source, "paris") != 0 || i > 0)
        return NULL;
    *len = strlen (S_SIGNING_SECRET);
    return S_SIGNING_SECRET;
}

static void
test_signed_route_checks_the_header_first_and_the_body_before_the_handler (void **state)
{
    (void) state;
    pl_http_tokens_t *tokens = pl_http_tokens_new ();
    assert_int_equal (pl_http_tokens_add (tokens, "paris", TOKEN_PARIS), 0);
    assert_int_equal (pl_http_tokens_add (tokens, "lyon", TOKEN_LYON), 0);
    pl_clock_t *clock = pl_clock_new_virtual (1700000000000LL);
    setenv ("PLATEAU_HTTP_SIGNATURE_WINDOW", "60", 1);
    pl_http_options_t opts = { .tokens = tokens, .clock = clock };
    pl_http_t *http = s_server (&opts);
    unsetenv ("PLATEAU_HTTP_SIGNATURE_WINDOW");
    atomic_int calls = 0;
    pl_http_route_opts_t signed_route = { .secret = s_signing_secret };
    assert_int_equal (pl_http_route (http, "POST", "/v1/payments", s_echo, &calls, &signed_route),
                      0);
    s_start (http);
    int port = pl_http_port (http);
    const char body[] = "{\"promise\":\"p1\",\"amount\":1500,\"currency\":\"EUR\"}";
    char sig[PL_HTTP_SIGNATURE_SIZE], headers[512];
    pl_test_http_resp_t r;

    /* Good, with the query as part of what is signed. */
    pl_http_sign (S_SIGNING_SECRET, strlen (S_SIGNING_SECRET), 1700000000, "POST",
                  "/v1/payments?x=%41", body, sizeof body - 1, sig, sizeof sig);
    snprintf (headers, sizeof headers, "Authorization: Bearer " TOKEN_PARIS "\r\n"
              PL_HTTP_SIGNATURE_HEADER ": %s\r\n", sig);
    assert_int_equal (pl_test_http_request (port, "POST", "/v1/payments?x=%41", headers, body,
                                            sizeof body - 1, &r), 200);
    pl_test_http_resp_free (&r);
    assert_int_equal (atomic_load (&calls), 1);

    /* One byte changed in the body: refused at its end, the handler not called. */
    char tampered[sizeof body];
    memcpy (tampered, body, sizeof body);
    tampered[30] = '9';
    pl_test_http_request (port, "POST", "/v1/payments?x=%41", headers, tampered, sizeof body - 1,
                          &r);
    s_assert_error (&r, 401, "signature_mismatch");
    pl_test_http_resp_free (&r);

    /* The window comes from the environment: 61 s later, expired. */
    pl_clock_advance (clock, 61000);
    pl_test_http_request (port, "POST", "/v1/payments?x=%41", headers, body, sizeof body - 1, &r);
    s_assert_error (&r, 401, "signature_expired");
    pl_test_http_resp_free (&r);

    pl_test_http_request (port, "POST", "/v1/payments", "Authorization: Bearer " TOKEN_PARIS
                          "\r\n", body, sizeof body - 1, &r);
    s_assert_error (&r, 401, "signature_missing");
    char challenge[128];
    assert_non_null (pl_test_http_header (&r, "WWW-Authenticate", challenge, sizeof challenge));
    pl_test_http_resp_free (&r);
    pl_test_http_request (port, "POST", "/v1/payments", "Authorization: Bearer " TOKEN_PARIS
                          "\r\n" PL_HTTP_SIGNATURE_HEADER ": sha256=00\r\n", body,
                          sizeof body - 1, &r);
    s_assert_error (&r, 401, "signature_malformed");
    pl_test_http_resp_free (&r);
    assert_int_equal (atomic_load (&calls), 1);

    /* A source without a secret does not sign. */
    assert_int_equal (pl_test_http_request (port, "POST", "/v1/payments", "Authorization: Bearer "
                                            TOKEN_LYON "\r\n", body, sizeof body - 1, &r), 200);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
    pl_clock_destroy (&clock);
    pl_http_tokens_destroy (&tokens);
}

/* ---- streamed bodies -------------------------------------------------------------------- */

typedef struct {
    size_t total;
    size_t chunks;
    size_t max_chunk;
    uint64_t hash;
    atomic_int *freed;
} s_tally_t;

static void
s_tally_free (void *p)
{
    s_tally_t *t = p;
    atomic_fetch_add (t->freed, 1);
    free (t);
}

static uint64_t
s_fnv (uint64_t h, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char) data[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int
s_count_chunk (pl_http_req_t *req, const char *data, size_t size, void *arg)
{
    s_tally_t *t = pl_http_req_data (req);
    if (!t) {
        t = calloc (1, sizeof *t);
        t->hash = 14695981039346656037ULL;
        t->freed = arg;
        pl_http_req_set_data (req, t, s_tally_free);
    }
    assert_true (size > 0);
    t->total += size;
    t->chunks++;
    if (size > t->max_chunk)
        t->max_chunk = size;
    t->hash = s_fnv (t->hash, data, size);
    /* A poisoned byte makes the body fail, as a parser finding garbage would. */
    if (memchr (data, '!', size)) {
        pl_http_reply_error (req, 422, "invalid_lead", "line holds '!'", NULL);
        return PL_EINVAL;
    }
    return 0;
}

static int
s_count_done (pl_http_req_t *req, void *arg)
{
    (void) arg;
    s_tally_t *t = pl_http_req_data (req);
    size_t len = 99;
    const char *body = pl_http_req_body (req, &len);
    char text[256];
    snprintf (text, sizeof text,
              "{\"total\":%zu,\"chunks\":%zu,\"max_chunk\":%zu,\"hash\":\"%016llx\","
              "\"gathered\":%s,\"body_size\":%zu}",
              t ? t->total : 0, t ? t->chunks : 0, t ? t->max_chunk : 0,
              (unsigned long long) (t ? t->hash : 0), (body || len) ? "true" : "false",
              pl_http_req_body_size (req));
    return pl_http_reply_json (req, 200, text);
}

static char *
s_pattern (size_t n)
{
    char *p = malloc (n);
    for (size_t i = 0; i < n; i++)
        p[i] = (char) ('a' + (i * 7 + i / 4096) % 26);
    return p;
}

static void
test_streamed_body_arrives_in_bounded_chunks_in_order (void **state)
{
    (void) state;
    atomic_int freed = 0;
    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t opts = { .flags = PL_HTTP_PUBLIC, .on_body = s_count_chunk,
                                  .max_body = 64 * 1024 * 1024, .content_types = "text/csv" };
    assert_int_equal (pl_http_route (http, "POST", "/v1/leads/csv", s_count_done, &freed, &opts),
                      0);
    s_start (http);
    const size_t size = 8 * 1024 * 1024;     /* 8 times the default gathered-body limit */
    char *body = s_pattern (size);
    char expected[17];
    snprintf (expected, sizeof expected, "%016llx",
              (unsigned long long) s_fnv (14695981039346656037ULL, body, size));
    pl_test_http_resp_t r;
    /* With a Content-Length, … */
    assert_int_equal (pl_test_http_request (pl_http_port (http), "POST", "/v1/leads/csv",
                                            "Content-Type: text/csv\r\n", body, size, &r),
                      200);
    json_t *j = s_json (&r);
    assert_int_equal (json_integer_value (json_object_get (j, "total")), size);
    assert_int_equal (json_integer_value (json_object_get (j, "body_size")), size);
    assert_true (json_integer_value (json_object_get (j, "chunks")) > 100);
    assert_true (json_integer_value (json_object_get (j, "max_chunk")) <= 64 * 1024);
    assert_true (json_is_false (json_object_get (j, "gathered")));
    assert_string_equal (s_jstr (j, "hash"), expected);
    json_decref (j);
    pl_test_http_resp_free (&r);
    /* … and chunked, of unknown length. */
    assert_int_equal (s_post_chunked (pl_http_port (http), "/v1/leads/csv",
                                      "Content-Type: text/csv\r\n", body, size, 100000, &r), 200);
    j = s_json (&r);
    assert_int_equal (json_integer_value (json_object_get (j, "total")), size);
    assert_true (json_integer_value (json_object_get (j, "max_chunk")) <= 64 * 1024);
    assert_string_equal (s_jstr (j, "hash"), expected);
    json_decref (j);
    pl_test_http_resp_free (&r);
    free (body);
    pl_http_destroy (&http);
    assert_int_equal (atomic_load (&freed), 2);
}

/* data compressed as gzip (or zlib, HTTP's deflate); *out_len its size. Free it. */
static char *
s_compress (const char *data, size_t len, bool gzip, size_t *out_len)
{
    z_stream z = { 0 };
    assert_int_equal (deflateInit2 (&z, 6, Z_DEFLATED, gzip ? 31 : 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound (&z, len);
    char *out = malloc (cap);
    z.next_in = (Bytef *) data;
    z.avail_in = (uInt) len;
    z.next_out = (Bytef *) out;
    z.avail_out = (uInt) cap;
    assert_int_equal (deflate (&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    deflateEnd (&z);
    return out;
}

/* Content-Encoding gzip and deflate are decoded for gathered and streamed bodies alike, gzip's
 * members one after the other; a zip bomb is 413 after a few kilobytes, broken or cut data 400,
 * another encoding 415, and no error echoes what was sent. */
static void
test_compressed_bodies_are_decoded_within_their_limits (void **state)
{
    (void) state;
    atomic_int freed = 0;
    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t gathered = { .flags = PL_HTTP_PUBLIC, .max_body = 1024 * 1024 };
    pl_http_route_opts_t streamed = { .flags = PL_HTTP_PUBLIC, .on_body = s_count_chunk,
                                      .max_body = 64 * 1024 * 1024 };
    assert_int_equal (pl_http_route (http, "POST", "/v1/echo", s_echo, NULL, &gathered), 0);
    assert_int_equal (pl_http_route (http, "POST", "/v1/stream", s_count_done, &freed, &streamed), 0);
    s_start (http);
    int port = pl_http_port (http);
    pl_test_http_resp_t r;
    const char *text = "external_id,phone\nx1,0612345678\n";
    for (int k = 0; k < 4; k++) {
        size_t n;
        char *c = s_compress (text, strlen (text), k % 2 == 0, &n);
        const char *hdr = k == 0 ? "Content-Encoding: gzip\r\n" : k == 1 ? "Content-Encoding: deflate\r\n"
                        : k == 2 ? "Content-Encoding: x-gzip\r\n" : "Content-Encoding: Deflate\r\n";
        assert_int_equal (pl_test_http_request (port, "POST", "/v1/echo", hdr, c, n, &r), 200);
        json_t *j = s_json (&r);
        assert_string_equal (s_jstr (j, "body"), text);
        json_decref (j);
        pl_test_http_resp_free (&r);
        free (c);
    }
    /* 8 MiB streamed, compressed (text-like: a few bits of each byte random, as CSV is): every
     * decoded byte, in order, in bounded chunks. */
    const size_t size = 8 * 1024 * 1024;
    char *body = malloc (size), expected[17];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        body[i] = (char) ('0' + (x & 15));
    }
    snprintf (expected, sizeof expected, "%016llx", (unsigned long long) s_fnv (14695981039346656037ULL, body, size));
    size_t n;
    char *c = s_compress (body, size, true, &n);
    assert_int_equal (pl_test_http_request (port, "POST", "/v1/stream", "Content-Encoding: gzip\r\n", c, n, &r), 200);
    json_t *j = s_json (&r);
    assert_int_equal (json_integer_value (json_object_get (j, "total")), size);
    assert_true (json_integer_value (json_object_get (j, "max_chunk")) <= 64 * 1024);
    assert_string_equal (s_jstr (j, "hash"), expected);
    json_decref (j);
    pl_test_http_resp_free (&r);
    free (c);
    free (body);
    /* Zip bombs: 2 MiB of zeros in about 2 KB over the 1 MiB limit; 64 MiB in 64 KB, inside
     * the limit but over 200 times its size. */
    for (int k = 0; k < 2; k++) {
        size_t zn = k ? 64 * 1024 * 1024 - 1 : 2 * 1024 * 1024;
        char *zeros = calloc (1, zn);
        c = s_compress (zeros, zn, true, &n);
        printf ("zip bomb: %zu bytes compressed to %zu\n", zn, n);
        assert_true (n < 100 * 1024);
        assert_int_equal (pl_test_http_request (port, "POST", k ? "/v1/stream" : "/v1/echo",
                                                "Content-Encoding: gzip\r\n", c, n, &r), 413);
        s_assert_error (&r, 413, "too_large");
        pl_test_http_resp_free (&r);
        free (c);
        free (zeros);
    }
    /* Several gzip members one after the other ("cat a.gz b.gz") are one body; after a zlib
     * stream (deflate), or after a member, anything but a member is 400. */
    {
        const char *part2 = "x2,0698765432\n";
        size_t n1, n2;
        char *c1 = s_compress (text, strlen (text), true, &n1);
        char *c2 = s_compress (part2, strlen (part2), true, &n2);
        char *cat = malloc (n1 + n2 + 8);
        memcpy (cat, c1, n1);
        memcpy (cat + n1, c2, n2);
        assert_int_equal (pl_test_http_request (port, "POST", "/v1/echo", "Content-Encoding: gzip\r\n", cat,
                                                n1 + n2, &r), 200);
        j = s_json (&r);
        char both[128];
        snprintf (both, sizeof both, "%s%s", text, part2);
        assert_string_equal (s_jstr (j, "body"), both);
        json_decref (j);
        pl_test_http_resp_free (&r);
        /* the second member cut short */
        assert_int_equal (pl_test_http_request (port, "POST", "/v1/echo", "Content-Encoding: gzip\r\n", cat,
                                                n1 + n2 / 2, &r), 400);
        s_assert_error (&r, 400, "bad_encoding");
        pl_test_http_resp_free (&r);
        /* junk after a member */
        memcpy (cat + n1, "junk\x01\x02", 6);
        assert_int_equal (pl_test_http_request (port, "POST", "/v1/echo", "Content-Encoding: gzip\r\n", cat,
                                                n1 + 6, &r), 400);
        s_assert_error (&r, 400, "bad_encoding");
        assert_null (strstr (r.body, "junk"));
        pl_test_http_resp_free (&r);
        /* a zlib stream followed by a gzip member */
        free (c1);
        c1 = s_compress (text, strlen (text), false, &n1);
        memcpy (cat, c1, n1);
        memcpy (cat + n1, c2, n2);
        assert_int_equal (pl_test_http_request (port, "POST", "/v1/echo", "Content-Encoding: deflate\r\n", cat,
                                                n1 + n2, &r), 400);
        s_assert_error (&r, 400, "bad_encoding");
        pl_test_http_resp_free (&r);
        free (c1);
        free (c2);
        free (cat);
    }
    /* Not gzip, and cut short: 400, the bytes sent not echoed. */
    const char *junk = "\x01\x02binary\xff\xfe junk";
    assert_int_equal (pl_test_http_request (port, "POST", "/v1/echo", "Content-Encoding: gzip\r\n", junk,
                                            strlen (junk), &r), 400);
    s_assert_error (&r, 400, "bad_encoding");
    assert_null (strstr (r.body, "binary"));
    pl_test_http_resp_free (&r);
    c = s_compress (text, strlen (text), true, &n);
    assert_int_equal (pl_test_http_request (port, "POST", "/v1/echo", "Content-Encoding: gzip\r\n", c, n / 2, &r),
                      400);
    s_assert_error (&r, 400, "bad_encoding");
    pl_test_http_resp_free (&r);
    free (c);
    /* Another encoding: 415, naming the header, not its value. */
    assert_int_equal (pl_test_http_request (port, "POST", "/v1/echo", "Content-Encoding: br\r\n", "x", 1, &r), 415);
    s_assert_error (&r, 415, "unsupported_encoding");
    j = s_json (&r);
    assert_string_equal (json_string_value (json_object_get (json_object_get (j, "error"), "field")),
                         "Content-Encoding");
    json_decref (j);
    pl_test_http_resp_free (&r);
    /* Identity is no encoding. */
    assert_int_equal (pl_test_http_request (port, "POST", "/v1/echo", "Content-Encoding: identity\r\n", text,
                                            strlen (text), &r), 200);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
}

static void
test_streamed_body_error_is_answered_and_skips_the_handler (void **state)
{
    (void) state;
    atomic_int freed = 0;
    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t opts = { .flags = PL_HTTP_PUBLIC, .on_body = s_count_chunk,
                                  .max_body = 100000 };
    assert_int_equal (pl_http_route (http, "POST", "/v1/leads/ndjson", s_count_done, &freed, &opts),
                      0);
    s_start (http);
    char body[50000];
    memset (body, 'z', sizeof body);
    body[20000] = '!';
    pl_test_http_resp_t r;
    s_post_chunked (pl_http_port (http), "/v1/leads/ndjson", NULL, body, sizeof body, 4096, &r);
    s_assert_error (&r, 422, "invalid_lead");
    pl_test_http_resp_free (&r);
    /* Over the route's limit while streaming. */
    char *big = malloc (150000);
    memset (big, 'q', 150000);
    s_post_chunked (pl_http_port (http), "/v1/leads/ndjson", NULL, big, 150000, 8192, &r);
    s_assert_error (&r, 413, "too_large");
    pl_test_http_resp_free (&r);
    free (big);
    pl_http_destroy (&http);
    assert_int_equal (atomic_load (&freed), 2);
}

/* ---- streamed responses ----------------------------------------------------------------- */

typedef struct {
    long next, end;
    atomic_int *freed;
} s_lines_t;

static ssize_t
s_lines_fill (void *arg, char *buf, size_t max)
{
    s_lines_t *l = arg;
    size_t used = 0;
    while (l->next < l->end) {
        char line[64];
        int n = snprintf (line, sizeof line, "{\"line\":%ld}\n", l->next);
        if (used + (size_t) n > max)
            break;
        memcpy (buf + used, line, (size_t) n);
        used += (size_t) n;
        l->next++;
    }
    return (ssize_t) used;                   /* 0 once every line is out */
}

static void
s_lines_free (void *arg)
{
    s_lines_t *l = arg;
    atomic_fetch_add (l->freed, 1);
    free (l);
}

static int
s_export (pl_http_req_t *req, void *arg)
{
    const char *n = pl_http_req_query (req, "n");
    s_lines_t *l = calloc (1, sizeof *l);
    l->end = n ? atol (n) : 0;
    l->freed = arg;
    return pl_http_reply_stream (req, 200, "application/x-ndjson", s_lines_fill, l, s_lines_free);
}

static void
test_streamed_response_is_chunked_ndjson (void **state)
{
    (void) state;
    atomic_int freed = 0;
    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "GET", "/v1/export", s_export, &freed, &open), 0);
    s_start (http);
    pl_test_http_resp_t r;
    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "GET", "/v1/export?n=20000", NULL, NULL, 0, &r),
        200);
    char value[64];
    assert_string_equal (pl_test_http_header (&r, "Transfer-Encoding", value, sizeof value),
                         "chunked");
    long count = 0;
    for (char *line = r.body, *nl; (nl = strchr (line, '\n')) != NULL; line = nl + 1) {
        char want[64];
        snprintf (want, sizeof want, "{\"line\":%ld}", count);
        assert_int_equal (strncmp (line, want, strlen (want)), 0);
        count++;
    }
    assert_int_equal (count, 20000);
    pl_test_http_resp_free (&r);
    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "GET", "/v1/export?n=0", NULL, NULL, 0, &r),
        200);
    assert_int_equal (r.body_len, 0);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
    assert_int_equal (atomic_load (&freed), 2);
}

/* ---- threads ---------------------------------------------------------------------------- */

static atomic_int s_inits, s_finis;

static void *
s_thread_init (void *arg)
{
    int *id = malloc (sizeof *id);
    *id = atomic_fetch_add (&s_inits, 1) + 1;
    (void) arg;
    return id;
}

static void
s_thread_fini (void *ctx, void *arg)
{
    (void) arg;
    atomic_fetch_add (&s_finis, 1);
    free (ctx);
}

static int
s_whoami (pl_http_req_t *req, void *arg)
{
    (void) arg;
    int *id = pl_http_req_thread_ctx (req);
    char text[32];
    snprintf (text, sizeof text, "%d", id ? *id : -1);
    return pl_http_reply (req, 200, "text/plain", text, strlen (text));
}

static void
test_each_connection_thread_gets_its_own_context (void **state)
{
    (void) state;
    atomic_store (&s_inits, 0);
    atomic_store (&s_finis, 0);
    pl_http_options_t opts = { .thread_init = s_thread_init, .thread_fini = s_thread_fini };
    pl_http_t *http = s_server (&opts);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "GET", "/whoami", s_whoami, NULL, &open), 0);
    s_start (http);
    /* Two requests on one kept-alive connection: one thread, one context. */
    int fd = pl_test_http_connect (pl_http_port (http));
    pl_test_http_reader_t *rd = pl_test_http_reader_new (fd);
    const char req[] = "GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n";
    pl_test_http_resp_t a, b, c;
    assert_true (pl_test_http_send_all (fd, req, sizeof req - 1));
    assert_int_equal (pl_test_http_read_response (rd, &a, false), 200);
    assert_true (pl_test_http_send_all (fd, req, sizeof req - 1));
    assert_int_equal (pl_test_http_read_response (rd, &b, false), 200);
    assert_string_equal (a.body, b.body);
    /* Another connection meanwhile: another thread, another context. */
    assert_int_equal (
        pl_test_http_request (pl_http_port (http), "GET", "/whoami", NULL, NULL, 0, &c), 200);
    assert_string_not_equal (a.body, c.body);
    assert_true (atoi (a.body) > 0 && atoi (c.body) > 0);
    pl_test_http_resp_free (&a);
    pl_test_http_resp_free (&b);
    pl_test_http_resp_free (&c);
    pl_test_http_reader_destroy (&rd);
    close (fd);
    pl_http_destroy (&http);
    assert_int_equal (atomic_load (&s_inits), 2);
    assert_int_equal (atomic_load (&s_finis), 2);
}

typedef struct {
    int port;
    int n;
    atomic_int ok;
} s_hammer_t;

static void *
s_hammer (void *arg)
{
    s_hammer_t *h = arg;
    for (int i = 0; i < h->n; i++) {
        pl_test_http_resp_t r;
        char path[64];
        snprintf (path, sizeof path, "/v1/leads/%d?status=s%d", i, i);
        if (pl_test_http_request (h->port, "GET", path, NULL, NULL, 0, &r) == 200) {
            json_t *j = json_loads (r.body, 0, NULL);
            char want[32];
            snprintf (want, sizeof want, "%d", i);
            if (j && strcmp (s_jstr (j, "id"), want) == 0)
                atomic_fetch_add (&h->ok, 1);
            json_decref (j);
        }
        pl_test_http_resp_free (&r);
    }
    return NULL;
}

static void
test_concurrent_clients_are_served_and_counted (void **state)
{
    (void) state;
    pl_metrics_t *metrics = pl_metrics_new ();
    pl_http_options_t opts = { .metrics = metrics, .service = "test" };
    pl_http_t *http = s_server (&opts);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "GET", "/v1/leads/{id}", s_echo, NULL, &open), 0);
    s_start (http);
    s_hammer_t h = { .port = pl_http_port (http), .n = 50 };
    pthread_t threads[8];
    for (int i = 0; i < 8; i++)
        pthread_create (&threads[i], NULL, s_hammer, &h);
    for (int i = 0; i < 8; i++)
        pthread_join (threads[i], NULL);
    assert_int_equal (atomic_load (&h.ok), 400);
    pl_test_http_resp_t r;
    pl_test_http_request (pl_http_port (http), "GET", "/nope", NULL, NULL, 0, &r);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
    char *text = pl_metrics_render (metrics);
    assert_non_null (strstr (text, "plateau_test_http_requests_total{method=\"GET\","
                                   "route=\"/v1/leads/{id}\",status=\"200\"} 400\n"));
    assert_non_null (strstr (text, "plateau_test_http_requests_total{method=\"GET\","
                                   "route=\"unmatched\",status=\"404\"} 1\n"));
    assert_non_null (strstr (text, "plateau_test_http_request_duration_seconds_count"
                                   "{route=\"/v1/leads/{id}\"} 400\n"));
    free (text);
    pl_metrics_destroy (&metrics);
}

/* ---- memory budget ---------------------------------------------------------------------- */

/* Reserves ?bytes= of the budget; 200 when granted, 503 busy (Retry-After: 7) when not. */
static int
s_reserving (pl_http_req_t *req, void *arg)
{
    (void) arg;
    const char *bytes = pl_http_req_query (req, "bytes");
    if (pl_http_req_reserve (req, bytes ? strtoull (bytes, NULL, 10) : 0) == PL_EBUSY)
        return pl_http_reply_busy (req, NULL, 7);
    return pl_http_reply_json (req, 200, "{\"reserved\":true}");
}

/* The budget in use as the gauge says, once it has settled at `want` (the request's end runs
 * just after its answer is sent). */
static double
s_reserved_settles (pl_metrics_t *metrics, double want)
{
    pl_metric_t *gauge = pl_metrics_gauge (metrics, "plateau_test_http_memory_reserved_bytes",
                                           "", NULL);
    double v = pl_metric_value (gauge, NULL);
    for (int i = 0; i < 200 && v != want; i++) {
        s_nap_ms (10);
        v = pl_metric_value (gauge, NULL);
    }
    return v;
}

static void
test_budget_reservations_are_refused_503_busy_and_given_back (void **state)
{
    (void) state;
    pl_metrics_t *metrics = pl_metrics_new ();
    pl_http_options_t opts = { .memory_budget = 100000, .metrics = metrics, .service = "test" };
    pl_http_t *http = s_server (&opts);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "GET", "/v1/reserve", s_reserving, NULL, &open), 0);
    assert_int_equal (pl_http_route (http, "POST", "/v1/echo", s_echo, NULL, &open), 0);
    s_start (http);
    int port = pl_http_port (http);
    pl_test_http_resp_t r;

    assert_int_equal (pl_test_http_request (port, "GET", "/v1/reserve?bytes=60000", NULL, NULL,
                                            0, &r), 200);
    pl_test_http_resp_free (&r);
    assert_true (s_reserved_settles (metrics, 0) == 0);

    /* More than the whole budget: busy, with the handler's Retry-After. */
    assert_int_equal (pl_test_http_request (port, "GET", "/v1/reserve?bytes=100001", NULL, NULL,
                                            0, &r), 503);
    s_assert_error (&r, 503, "busy");
    char retry[16];
    assert_non_null (pl_test_http_header (&r, "Retry-After", retry, sizeof retry));
    assert_string_equal (retry, "7");
    pl_test_http_resp_free (&r);

    /* A declared body that cannot fit is refused before it is read; a small one is fine. */
    static char big[150000];
    memset (big, 'x', sizeof big);
    assert_int_equal (pl_test_http_request (port, "POST", "/v1/echo", NULL, big, 100000, &r),
                      503);
    s_assert_error (&r, 503, "busy");
    assert_non_null (pl_test_http_header (&r, "Retry-After", retry, sizeof retry));
    assert_string_equal (retry, "1");
    pl_test_http_resp_free (&r);
    assert_int_equal (pl_test_http_request (port, "POST", "/v1/echo", NULL, big, 5000, &r), 200);
    pl_test_http_resp_free (&r);
    assert_true (s_reserved_settles (metrics, 0) == 0);

    pl_metric_t *busy = pl_metrics_counter (metrics, "plateau_test_http_busy_total", "", NULL);
    assert_true (pl_metric_value (busy, NULL) == 2);
    pl_http_destroy (&http);
    pl_metrics_destroy (&metrics);
}

static int
s_reserve_twice (pl_http_req_t *req, void *arg)
{
    (void) arg;
    /* Both within one request: the second sees the first still held. */
    int first = pl_http_req_reserve (req, 600);
    int second = pl_http_req_reserve (req, 600);
    int zero = pl_http_req_reserve (req, 0);
    char json[96];
    snprintf (json, sizeof json, "{\"first\":%d,\"second\":%d,\"zero\":%d}", first, second, zero);
    return pl_http_reply_json (req, 200, json);
}

static void
test_budget_comes_from_the_environment_when_not_given (void **state)
{
    (void) state;
    setenv ("PLATEAU_HTTP_MEMORY_BUDGET", "1000", 1);
    pl_http_t *http = s_server (NULL);
    unsetenv ("PLATEAU_HTTP_MEMORY_BUDGET");
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "GET", "/v1/twice", s_reserve_twice, NULL, &open), 0);
    s_start (http);
    pl_test_http_resp_t r;
    assert_int_equal (pl_test_http_request (pl_http_port (http), "GET", "/v1/twice", NULL, NULL,
                                            0, &r), 200);
    char want[96];
    snprintf (want, sizeof want, "{\"first\":0,\"second\":%d,\"zero\":0}", PL_EBUSY);
    assert_string_equal (r.body, want);
    pl_test_http_resp_free (&r);
    /* Given back at the end of the request: the next one has the whole budget again. */
    int status = 0;
    for (int i = 0; i < 100 && status != 200; i++) {
        assert_int_equal (pl_test_http_request (pl_http_port (http), "GET", "/v1/twice", NULL,
                                                NULL, 0, &r), 200);
        status = strcmp (r.body, want) == 0 ? 200 : 0;
        pl_test_http_resp_free (&r);
    }
    assert_int_equal (status, 200);
    pl_http_destroy (&http);
}

/* ---- graceful stop ---------------------------------------------------------------------- */

typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    bool entered;
    bool released;
} s_gate_t;

static int
s_slow (pl_http_req_t *req, void *arg)
{
    s_gate_t *g = arg;
    pthread_mutex_lock (&g->mutex);
    g->entered = true;
    pthread_cond_broadcast (&g->cond);
    while (!g->released)
        pthread_cond_wait (&g->cond, &g->mutex);
    pthread_mutex_unlock (&g->mutex);
    return pl_http_reply_json (req, 200, "{\"done\":true}");
}

typedef struct {
    int port;
    pl_test_http_resp_t resp;
} s_client_t;

static void *
s_client (void *arg)
{
    s_client_t *c = arg;
    pl_test_http_request (c->port, "GET", "/slow", NULL, NULL, 0, &c->resp);
    return NULL;
}

typedef struct {
    pl_http_t *http;
    int timeout_ms;
    int rc;
} s_stopper_t;

static void *
s_stopper (void *arg)
{
    s_stopper_t *s = arg;
    s->rc = pl_http_stop (s->http, s->timeout_ms);
    return NULL;
}

static bool
s_refused (int port)
{
    int fd = pl_test_http_connect (port);
    if (fd < 0)
        return true;
    close (fd);
    return false;
}

static void
test_stop_refuses_new_connections_and_finishes_requests_in_flight (void **state)
{
    (void) state;
    s_gate_t gate = { .mutex = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "GET", "/slow", s_slow, &gate, &open), 0);
    s_start (http);
    int port = pl_http_port (http);

    s_client_t client = { .port = port };
    pthread_t ct;
    pthread_create (&ct, NULL, s_client, &client);
    pthread_mutex_lock (&gate.mutex);
    while (!gate.entered)
        pthread_cond_wait (&gate.cond, &gate.mutex);
    pthread_mutex_unlock (&gate.mutex);
    assert_int_equal (pl_http_in_flight (http), 1);

    s_stopper_t stopper = { .http = http, .timeout_ms = 30000 };
    pthread_t st;
    pthread_create (&st, NULL, s_stopper, &stopper);
    /* The port closes while the slow request is still being handled. */
    bool refused = false;
    for (int i = 0; i < 2000 && !refused; i++) {
        refused = s_refused (port);
        if (!refused)
            s_nap_ms (5);
    }
    assert_true (refused);

    pthread_mutex_lock (&gate.mutex);
    gate.released = true;
    pthread_cond_broadcast (&gate.cond);
    pthread_mutex_unlock (&gate.mutex);
    pthread_join (ct, NULL);
    pthread_join (st, NULL);
    assert_int_equal (client.resp.status, 200);
    assert_string_equal (client.resp.body, "{\"done\":true}");
    char value[32];
    assert_non_null (pl_test_http_header (&client.resp, "Connection", value, sizeof value));
    assert_string_equal (value, "close");
    pl_test_http_resp_free (&client.resp);
    assert_int_equal (stopper.rc, 0);
    assert_int_equal (pl_http_in_flight (http), 0);
    assert_int_equal (pl_http_start (http), PL_ECLOSED);
    pl_http_destroy (&http);
}

static void
test_stop_cuts_requests_still_running_after_the_timeout (void **state)
{
    (void) state;
    pl_http_t *http = s_server (NULL);
    pl_http_route_opts_t open = { .flags = PL_HTTP_PUBLIC };
    assert_int_equal (pl_http_route (http, "POST", "/v1/leads", s_echo, NULL, &open), 0);
    s_start (http);
    /* A client that promises 100 bytes and sends 10: its request never completes. */
    int fd = pl_test_http_connect (pl_http_port (http));
    const char head[] = "POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789";
    assert_true (pl_test_http_send_all (fd, head, sizeof head - 1));
    for (int i = 0; i < 2000 && pl_http_in_flight (http) == 0; i++)
        s_nap_ms (5);
    assert_int_equal (pl_http_in_flight (http), 1);
    assert_int_equal (pl_http_stop (http, 50), PL_ETIMEDOUT);
    assert_non_null (strstr (pl_http_errstr (http), "in flight"));
    char buf[64];
    ssize_t n;
    do
        n = recv (fd, buf, sizeof buf, 0);
    while (n > 0);
    assert_true (n <= 0);                    /* closed by the server, no answer */
    close (fd);
    assert_int_equal (pl_http_in_flight (http), 0);
    pl_http_destroy (&http);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_path_parameters_are_decoded_segment_by_segment),
        cmocka_unit_test (test_literal_segment_wins_over_parameter),
        cmocka_unit_test (test_query_and_headers_are_readable),
        cmocka_unit_test (test_unknown_path_is_404_and_wrong_method_is_405),
        cmocka_unit_test (test_route_registration_is_checked),
        cmocka_unit_test (test_port_in_use_is_reported),
        cmocka_unit_test (test_responses_carry_status_headers_and_error_format),
        cmocka_unit_test (test_declared_body_over_the_limit_is_413_before_reading_it),
        cmocka_unit_test (test_chunked_body_over_the_limit_is_413_and_the_handler_never_runs),
        cmocka_unit_test (test_wrong_content_type_is_415),
        cmocka_unit_test (test_bearer_tokens_give_401_403_or_the_source),
        cmocka_unit_test (test_server_without_tokens_fails_closed),
        cmocka_unit_test (test_token_lookup_matches_whole_tokens_only),
        cmocka_unit_test (test_tokens_file_errors_name_the_line_not_the_token),
        cmocka_unit_test (test_signature_covers_time_method_target_and_body),
        cmocka_unit_test (test_signed_route_checks_the_header_first_and_the_body_before_the_handler),
        cmocka_unit_test (test_streamed_body_arrives_in_bounded_chunks_in_order),
        cmocka_unit_test (test_streamed_body_error_is_answered_and_skips_the_handler),
        cmocka_unit_test (test_streamed_response_is_chunked_ndjson),
        cmocka_unit_test (test_each_connection_thread_gets_its_own_context),
        cmocka_unit_test (test_concurrent_clients_are_served_and_counted),
        cmocka_unit_test (test_budget_reservations_are_refused_503_busy_and_given_back),
        cmocka_unit_test (test_budget_comes_from_the_environment_when_not_given),
        cmocka_unit_test (test_stop_refuses_new_connections_and_finishes_requests_in_flight),
        cmocka_unit_test (test_stop_cuts_requests_still_running_after_the_timeout),
        cmocka_unit_test (test_compressed_bodies_are_decoded_within_their_limits),
    };
    return cmocka_run_group_tests_name ("http", tests, NULL, NULL);
}
