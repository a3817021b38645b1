/*  test_openapi_kit.c — every pl_http_t serves the compiled-in OpenAPI document at
 *  GET /v1/openapi.json (lib/kit/http.c): without a token, as JSON, with "x-plateau-served"
 *  naming the service and the routes this server registered, in order, and otherwise the
 *  document byte for byte as docs/api/openapi.json holds it; a caller's own route for that path
 *  wins. The services' routes against the document: tests/integration/test_openapi_routes.mjs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "plateau/error.h"
#include "plateau/http.h"
#include "pl_test_http.h"

static int
s_hello (pl_http_req_t *req, void *arg)
{
    return pl_http_reply (req, 200, "text/plain", arg, strlen (arg));
}

/* A started server on a free port with one token and the given routes registered before. */
static pl_http_t *
s_server (pl_http_tokens_t **tokens, const char *service)
{
    *tokens = pl_http_tokens_new ();
    assert_int_equal (pl_http_tokens_add (*tokens, "crm", "0123456789abcdef0123"), 0);
    pl_http_options_t o = { .tokens = *tokens, .service = service };
    pl_http_t *http = pl_http_new ("127.0.0.1", 0, &o);
    assert_non_null (http);
    assert_int_equal (pl_http_route (http, "POST", "/v1/leads", s_hello, "posted", NULL), 0);
    assert_int_equal (pl_http_route (http, "GET", "/v1/leads/{id}", s_hello, "lead", NULL), 0);
    return http;
}

static json_t *
s_file_json (const char *path)
{
    json_error_t e;
    json_t *doc = json_load_file (path, 0, &e);
    if (!doc)
        fail_msg ("%s: line %d: %s", path, e.line, e.text);
    return doc;
}

static void
test_every_server_serves_the_document_without_a_token (void **state)
{
    (void) state;
    pl_http_tokens_t *tokens;
    pl_http_t *http = s_server (&tokens, "intake");
    assert_int_equal (pl_http_start (http), 0);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (pl_test_http_request (pl_http_port (http), "GET", "/v1/openapi.json", NULL, NULL, 0, &r), 200);
    char ctype[64];
    assert_non_null (pl_test_http_header (&r, "Content-Type", ctype, sizeof ctype));
    assert_string_equal (ctype, "application/json");
    json_error_t e;
    json_t *served = json_loadb (r.body, r.body_len, 0, &e);
    assert_non_null (served);
    assert_string_equal (json_string_value (json_object_get (served, "openapi")), "3.1.0");

    /* What this server registered, in order, its own route last. */
    json_t *x = json_object_get (served, "x-plateau-served");
    assert_string_equal (json_string_value (json_object_get (x, "service")), "intake");
    json_t *ops = json_object_get (x, "operations");
    assert_int_equal (json_array_size (ops), 3);
    assert_string_equal (json_string_value (json_array_get (ops, 0)), "POST /v1/leads");
    assert_string_equal (json_string_value (json_array_get (ops, 1)), "GET /v1/leads/{id}");
    assert_string_equal (json_string_value (json_array_get (ops, 2)), "GET /v1/openapi.json");

    /* Otherwise the document as the source tree holds it: compiled in, not read from a file. */
    char path[4096];
    snprintf (path, sizeof path, "%s/docs/api/openapi.json", getenv ("PL_SOURCE_DIR"));
    json_t *source = s_file_json (path);
    json_object_del (served, "x-plateau-served");
    assert_true (json_equal (served, source));
    json_decref (source);
    json_decref (served);
    pl_test_http_resp_free (&r);

    /* HEAD too (a GET route answers it); the API's routes still want their token. */
    assert_int_equal (pl_test_http_request (pl_http_port (http), "HEAD", "/v1/openapi.json", NULL, NULL, 0, &r), 200);
    pl_test_http_resp_free (&r);
    assert_int_equal (pl_test_http_request (pl_http_port (http), "GET", "/v1/leads/x", NULL, NULL, 0, &r), 401);
    pl_test_http_resp_free (&r);
    assert_int_equal (pl_test_http_request (pl_http_port (http), "POST", "/v1/openapi.json", NULL, "{}", 2, &r), 405);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
    pl_http_tokens_destroy (&tokens);
}

static void
test_a_server_without_a_service_name_says_null (void **state)
{
    (void) state;
    pl_http_t *http = pl_http_new ("127.0.0.1", 0, NULL);
    assert_non_null (http);
    assert_int_equal (pl_http_route (http, "GET", "/healthz", s_hello, "ok",
                                     &(pl_http_route_opts_t) { .flags = PL_HTTP_PUBLIC }), 0);
    assert_int_equal (pl_http_start (http), 0);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (pl_test_http_request (pl_http_port (http), "GET", "/v1/openapi.json", NULL, NULL, 0, &r), 200);
    json_t *served = json_loadb (r.body, r.body_len, 0, NULL);
    json_t *x = json_object_get (served, "x-plateau-served");
    assert_true (json_is_null (json_object_get (x, "service")));
    assert_int_equal (json_array_size (json_object_get (x, "operations")), 2);
    json_decref (served);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
}

static void
test_a_route_of_the_caller_for_the_path_wins (void **state)
{
    (void) state;
    pl_http_t *http = pl_http_new ("127.0.0.1", 0, NULL);
    assert_int_equal (pl_http_route (http, "GET", "/v1/openapi.json", s_hello, "mine",
                                     &(pl_http_route_opts_t) { .flags = PL_HTTP_PUBLIC }), 0);
    assert_int_equal (pl_http_start (http), 0);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (pl_test_http_request (pl_http_port (http), "GET", "/v1/openapi.json", NULL, NULL, 0, &r), 200);
    assert_int_equal (r.body_len, 4);
    assert_memory_equal (r.body, "mine", 4);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
}

static void
test_routes_are_fixed_once_started_the_document_included (void **state)
{
    (void) state;
    pl_http_tokens_t *tokens;
    pl_http_t *http = s_server (&tokens, "intake");
    assert_int_equal (pl_http_start (http), 0);
    assert_int_equal (pl_http_start (http), 0);              /* started: nothing added twice */
    assert_int_equal (pl_http_route (http, "GET", "/v1/late", s_hello, "late", NULL), PL_EBUSY);
    pl_http_destroy (&http);
    pl_http_tokens_destroy (&tokens);
}

/* A start that fails (its port taken) can be tried again: the document's route is there once. */
static void
test_a_failed_start_is_retried_with_the_document_once (void **state)
{
    (void) state;
    pl_http_t *holder = pl_http_new ("127.0.0.1", 0, NULL);
    assert_int_equal (pl_http_start (holder), 0);
    int port = pl_http_port (holder);
    pl_http_t *http = pl_http_new ("127.0.0.1", port, NULL);
    assert_non_null (http);
    assert_true (pl_http_start (http) < 0);
    pl_http_destroy (&holder);
    assert_int_equal (pl_http_start (http), 0);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (pl_test_http_request (port, "GET", "/v1/openapi.json", NULL, NULL, 0, &r), 200);
    json_t *doc = json_loadb (r.body, r.body_len, 0, NULL);
    json_t *ops = json_object_get (json_object_get (doc, "x-plateau-served"), "operations");
    assert_int_equal (json_array_size (ops), 1);
    assert_string_equal (json_string_value (json_array_get (ops, 0)), "GET /v1/openapi.json");
    json_decref (doc);
    pl_test_http_resp_free (&r);
    pl_http_destroy (&http);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_server_serves_the_document_without_a_token),
        cmocka_unit_test (test_a_failed_start_is_retried_with_the_document_once),
        cmocka_unit_test (test_a_server_without_a_service_name_says_null),
        cmocka_unit_test (test_a_route_of_the_caller_for_the_path_wins),
        cmocka_unit_test (test_routes_are_fixed_once_started_the_document_included),
    };
    return cmocka_run_group_tests_name ("openapi_kit", tests, NULL, NULL);
}
