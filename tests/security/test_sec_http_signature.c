/*  test_sec_http_signature.c — a captured signed request cannot be sent again, elsewhere.
 *
 *  A kit HTTP server with a signed route, its clock virtual. Before, the signature covered the
 *  body only, so a captured body and its header could be replayed at any time, to any path
 *  or campaign; and the check ran after the whole body was read. Now the signature covers the
 *  time, the method and the target as sent: a stale, future or malformed one is refused from
 *  the headers (a 64 MiB body is never read), and one for another method, target or body is
 *  refused before the handler runs. Inside the window the same request passes the kit: the
 *  API's Idempotency-Key is what stops that replay. While a source's secret is rotated it has
 *  two, and a request signed with either passes; with a third, none.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "plateau/clock.h"
#include "plateau/http.h"
#include "pl_test_http.h"

#define S_TOKEN "crm-paris-0123456789abcdef0123"
#define S_SECRET "whsec-0123456789abcdef0123456789"
#define S_NEW_SECRET "whsec-fedcba9876543210fedcba9876"
#define S_OTHER_SECRET "whsec-not-this-source-s-secret-00"
#define S_NOW 1767225600LL                     /* 2026-01-01T00:00:00Z */

typedef struct {
    atomic_int handled;
    atomic_size_t streamed;                    /* body bytes given to on_body */
} s_seen_t;

/* crm-paris signs with S_SECRET; during a rotation (s_phase 1) with S_NEW_SECRET too; after
 * it (s_phase 2) with S_NEW_SECRET only. */
static int s_phase;

static const void *
s_secret (const char *source, unsigned i, size_t *len, void *arg)
{
    (void) arg;
    static const char *const phases[3][3] = { { S_SECRET }, { S_SECRET, S_NEW_SECRET }, { S_NEW_SECRET } };
    if (strcmp (source, "crm-paris") != 0 || i >= 2 || !phases[s_phase][i])
        return NULL;
    *len = strlen (phases[s_phase][i]);
    return phases[s_phase][i];
}

static int
s_handler (pl_http_req_t *req, void *arg)
{
    s_seen_t *seen = arg;
    atomic_fetch_add (&seen->handled, 1);
    return pl_http_reply_json (req, 201, "{\"accepted\":true}");
}

static int
s_chunk (pl_http_req_t *req, const char *data, size_t size, void *arg)
{
    (void) req;
    (void) data;
    s_seen_t *seen = arg;
    atomic_fetch_add (&seen->streamed, size);
    return 0;
}

typedef struct {
    pl_clock_t *clock;
    pl_http_tokens_t *tokens;
    pl_http_t *http;
    s_seen_t seen;
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *f = calloc (1, sizeof *f);
    f->clock = pl_clock_new_virtual (S_NOW * 1000);
    f->tokens = pl_http_tokens_new ();
    assert_int_equal (pl_http_tokens_add (f->tokens, "crm-paris", S_TOKEN), 0);
    pl_http_options_t o = { .tokens = f->tokens, .clock = f->clock, .max_body = 128 << 20 };
    f->http = pl_http_new ("127.0.0.1", 0, &o);
    assert_non_null (f->http);
    pl_http_route_opts_t gathered = { .secret = s_secret };
    pl_http_route_opts_t streamed = { .secret = s_secret, .on_body = s_chunk };
    assert_int_equal (pl_http_route (f->http, "POST", "/v1/leads", s_handler, &f->seen,
                                     &gathered), 0);
    assert_int_equal (pl_http_route (f->http, "POST", "/v1/leads/csv", s_handler, &f->seen,
                                     &streamed), 0);
    assert_int_equal (pl_http_start (f->http), 0);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *f = *state;
    pl_http_destroy (&f->http);
    pl_http_tokens_destroy (&f->tokens);
    pl_clock_destroy (&f->clock);
    free (f);
    return 0;
}

/* Sends `body` to `target` with the given signature header value (NULL: none); the status,
 * and the error code in `code`. */
static int
s_send (s_fixture_t *f, const char *target, const char *sig, const char *body, char *code,
        size_t code_size)
{
    char headers[512];
    snprintf (headers, sizeof headers, "Authorization: Bearer " S_TOKEN "\r\n%s%s%s",
              sig ? PL_HTTP_SIGNATURE_HEADER ": " : "", sig ? sig : "", sig ? "\r\n" : "");
    pl_test_http_resp_t r = { 0 };
    int status = pl_test_http_request (pl_http_port (f->http), "POST", target, headers, body,
                                       strlen (body), &r);
    code[0] = '\0';
    const char *c = r.body ? strstr (r.body, "\"code\":\"") : NULL;
    if (c)
        snprintf (code, code_size, "%.*s", (int) strcspn (c + 8, "\""), c + 8);
    pl_test_http_resp_free (&r);
    return status;
}

static void
test_only_a_fresh_signature_of_this_method_target_and_body_passes (void **state)
{
    s_fixture_t *f = *state;
    const char body[] = "{\"phone\":\"+33612345678\",\"campaign\":\"c1\"}";
    const char target[] = "/v1/leads?campaign=c1&mode=sync";
    char sig[PL_HTTP_SIGNATURE_SIZE], code[64];
    static const struct {
        const char *what;
        int64_t t;
        const char *method, *target, *body;
        int status;
        const char *code;
    } cases[] = {
        { "good", S_NOW, "POST", "/v1/leads?campaign=c1&mode=sync", NULL, 201, "" },
        { "good, 299 s old", S_NOW - 299, "POST", "/v1/leads?campaign=c1&mode=sync", NULL, 201,
          "" },
        { "stale", S_NOW - 301, "POST", "/v1/leads?campaign=c1&mode=sync", NULL, 401,
          "signature_expired" },
        { "captured yesterday", S_NOW - 86400, "POST", "/v1/leads?campaign=c1&mode=sync", NULL,
          401, "signature_expired" },
        { "future", S_NOW + 301, "POST", "/v1/leads?campaign=c1&mode=sync", NULL, 401,
          "signature_expired" },
        { "another method", S_NOW, "PUT", "/v1/leads?campaign=c1&mode=sync", NULL, 401,
          "signature_mismatch" },
        { "another campaign", S_NOW, "POST", "/v1/leads?campaign=c2&mode=sync", NULL, 401,
          "signature_mismatch" },
        { "another path", S_NOW, "POST", "/v1/leads/csv?campaign=c1&mode=sync", NULL, 401,
          "signature_mismatch" },
        { "without the query", S_NOW, "POST", "/v1/leads", NULL, 401, "signature_mismatch" },
        { "another body", S_NOW, "POST", "/v1/leads?campaign=c1&mode=sync",
          "{\"phone\":\"+33612345679\",\"campaign\":\"c1\"}", 401, "signature_mismatch" },
    };
    int handled = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *signed_body = cases[i].body ? cases[i].body : body;
        assert_int_equal (pl_http_sign (S_SECRET, strlen (S_SECRET), cases[i].t, cases[i].method,
                                        cases[i].target, signed_body, strlen (signed_body), sig,
                                        sizeof sig), 0);
        int status = s_send (f, target, sig, body, code, sizeof code);
        fprintf (stderr, "%-20s %d %s\n", cases[i].what, status, code);
        if (status != cases[i].status || strcmp (code, cases[i].code) != 0)
            fail_msg ("%s: %d %s, want %d %s", cases[i].what, status, code, cases[i].status,
                      cases[i].code);
        handled += status == 201;
    }
    assert_int_equal (atomic_load (&f->seen.handled), handled);

    /* Malformed or missing headers. */
    static const char *malformed[] = {
        "sha256=0f7b5ec1f8d0c5f5a4a0e3c5c1d2b3a4f5e6d7c8b9a0f1e2d3c4b5a6978a9b0c",
        "t=1767225600",
        "t=now,v1=0f7b5ec1f8d0c5f5a4a0e3c5c1d2b3a4f5e6d7c8b9a0f1e2d3c4b5a6978a9b0c",
        "t=1767225600,v1=0f7b5e",
        "v1=0f7b5ec1f8d0c5f5a4a0e3c5c1d2b3a4f5e6d7c8b9a0f1e2d3c4b5a6978a9b0c,t=1767225600",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        assert_int_equal (s_send (f, target, malformed[i], body, code, sizeof code), 401);
        assert_string_equal (code, "signature_malformed");
    }
    assert_int_equal (s_send (f, target, NULL, body, code, sizeof code), 401);
    assert_string_equal (code, "signature_missing");
    assert_int_equal (atomic_load (&f->seen.handled), handled);

    /* Inside the window the very same request passes the kit again: stopping that replay is
     * the API's Idempotency-Key. Once the window has passed, it is refused. */
    pl_http_sign (S_SECRET, strlen (S_SECRET), S_NOW, "POST", target, body, strlen (body), sig,
                  sizeof sig);
    assert_int_equal (s_send (f, target, sig, body, code, sizeof code), 201);
    pl_clock_advance (f->clock, 301 * 1000);
    assert_int_equal (s_send (f, target, sig, body, code, sizeof code), 401);
    assert_string_equal (code, "signature_expired");
}

/* A secret rotated without a gap: while the source has two, a request signed with either
 * passes, on a gathered and a streamed route alike, and one signed with neither does not;
 * once the old one is gone, only the new one passes. */
static void
test_during_a_rotation_either_secret_passes (void **state)
{
    s_fixture_t *f = *state;
    const char body[] = "{\"phone\":\"+33612345678\",\"campaign\":\"c1\"}";
    const char *targets[] = { "/v1/leads?campaign=c1", "/v1/leads/csv?campaign=c1" };
    const char *secrets[] = { S_SECRET, S_NEW_SECRET, S_OTHER_SECRET };
    char sig[PL_HTTP_SIGNATURE_SIZE], code[64];
    s_phase = 1;
    for (size_t t = 0; t < 2; t++)
        for (size_t k = 0; k < 3; k++) {
            pl_http_sign (secrets[k], strlen (secrets[k]), S_NOW, "POST", targets[t], body, strlen (body),
                          sig, sizeof sig);
            int status = s_send (f, targets[t], sig, body, code, sizeof code);
            fprintf (stderr, "rotating: %s with secret %zu: %d %s\n", targets[t], k, status, code);
            assert_int_equal (status, k < 2 ? 201 : 401);
            if (k == 2)
                assert_string_equal (code, "signature_mismatch");
        }
    assert_int_equal (atomic_load (&f->seen.handled), 4);
    s_phase = 2;                                /* the old line removed */
    pl_http_sign (S_SECRET, strlen (S_SECRET), S_NOW, "POST", targets[0], body, strlen (body), sig,
                  sizeof sig);
    assert_int_equal (s_send (f, targets[0], sig, body, code, sizeof code), 401);
    assert_string_equal (code, "signature_mismatch");
    pl_http_sign (S_NEW_SECRET, strlen (S_NEW_SECRET), S_NOW, "POST", targets[0], body, strlen (body),
                  sig, sizeof sig);
    assert_int_equal (s_send (f, targets[0], sig, body, code, sizeof code), 201);
    s_phase = 0;
}

/* The keys file behind it: a source on two lines has two secrets, in the file's order. */
static void
test_a_source_on_two_lines_has_two_secrets (void **state)
{
    (void) state;
    pl_http_keys_t *k = pl_http_keys_new ();
    char err[128];
    assert_int_equal (pl_http_keys_parse (k, "crm-paris:" S_NEW_SECRET "\nbank:" S_OTHER_SECRET
                                             "\ncrm-paris:" S_SECRET "\n", err, sizeof err), 0);
    size_t len = 0;
    assert_string_equal (pl_http_keys_nth (k, "crm-paris", 0, &len), S_NEW_SECRET);
    assert_int_equal (len, strlen (S_NEW_SECRET));
    assert_string_equal (pl_http_keys_nth (k, "crm-paris", 1, &len), S_SECRET);
    assert_null (pl_http_keys_nth (k, "crm-paris", 2, &len));
    assert_int_equal (len, 0);
    assert_string_equal (pl_http_keys_secret (k, "bank", NULL), S_OTHER_SECRET);
    assert_null (pl_http_keys_nth (k, "bank", 1, NULL));
    pl_http_keys_destroy (&k);
}

/* Reads one response's head from fd within timeout_ms; the status, or -1. */
static int
s_read_status (int fd, char *buf, size_t size, int timeout_ms)
{
    size_t got = 0;
    while (got < size - 1 && !strstr (buf, "\r\n\r\n")) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll (&p, 1, timeout_ms) <= 0)
            return -1;
        ssize_t n = recv (fd, buf + got, size - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t) n;
        buf[got] = '\0';
    }
    return strncmp (buf, "HTTP/1.1 ", 9) == 0 ? atoi (buf + 9) : -1;
}

static void
test_a_stale_signature_on_a_large_body_is_refused_before_the_body_is_read (void **state)
{
    s_fixture_t *f = *state;
    const size_t declared = 64 << 20;
    char sig[PL_HTTP_SIGNATURE_SIZE];
    static const char *targets[] = { "/v1/leads/csv", "/v1/leads" };   /* streamed, gathered */
    for (size_t i = 0; i < 2; i++) {
        /* Signed an hour ago for whatever body: only the headers are sent. */
        pl_http_sign (S_SECRET, strlen (S_SECRET), S_NOW - 3600, "POST", targets[i], "x", 1, sig,
                      sizeof sig);
        int fd = pl_test_http_connect (pl_http_port (f->http));
        assert_true (fd >= 0);
        char head[512];
        int n = snprintf (head, sizeof head, "POST %s HTTP/1.1\r\nHost: x\r\n"
                          "Authorization: Bearer " S_TOKEN "\r\n" PL_HTTP_SIGNATURE_HEADER
                          ": %s\r\nContent-Length: %zu\r\n\r\n", targets[i], sig, declared);
        assert_true (pl_test_http_send_all (fd, head, (size_t) n));
        /* The answer comes with no body byte sent. */
        char answer[2048] = "";
        int status = s_read_status (fd, answer, sizeof answer, 10000);
        fprintf (stderr, "%s, %zu bytes declared, none sent: %d; streamed to the route: %zu\n",
                 targets[i], declared, status, atomic_load (&f->seen.streamed));
        assert_int_equal (status, 401);
        assert_non_null (strstr (answer, "\"code\":\"signature_expired\""));
        close (fd);
    }
    assert_int_equal (atomic_load (&f->seen.streamed), 0);
    assert_int_equal (atomic_load (&f->seen.handled), 0);

    /* A fresh signature on the streamed route: the body does reach on_body. */
    const char body[] = "phone\n+33612345678\n";
    pl_http_sign (S_SECRET, strlen (S_SECRET), S_NOW, "POST", "/v1/leads/csv", body,
                  sizeof body - 1, sig, sizeof sig);
    char code[64];
    assert_int_equal (s_send (f, "/v1/leads/csv", sig, body, code, sizeof code), 201);
    assert_int_equal (atomic_load (&f->seen.streamed), sizeof body - 1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_only_a_fresh_signature_of_this_method_target_and_body_passes, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            test_a_stale_signature_on_a_large_body_is_refused_before_the_body_is_read, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (test_during_a_rotation_either_secret_passes, s_setup, s_teardown),
        cmocka_unit_test (test_a_source_on_two_lines_has_two_secrets),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
