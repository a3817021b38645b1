/*  test_sec_intake_signature.c — signed requests of a signing source (X-Plateau-Signature).
 *
 *  Attacks: a captured signed request sent again to another campaign, or after the window; a
 *  stale signature on a 200 MB body (the body must not be read, let alone spooled to disk); the
 *  same captured request sent again inside the window (its Idempotency-Key replays the answer,
 *  nothing is stored twice); a signed request without an Idempotency-Key.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "plateau/http.h"
#include "test_intake_fixture.h"

#define S_SECRET "a-signing-secret-of-crm-a-0123456789"

static int
setup (void **state)
{
    signal (SIGPIPE, SIG_IGN);
    fx_t *f = fx_new (NULL);
    if (!f)
        return -1;
    char keys[512], env[600];
    snprintf (keys, sizeof keys, "%s/signing", f->dir);
    FILE *fp = fopen (keys, "w");
    fprintf (fp, "crm-a:" S_SECRET "\n");
    fclose (fp);
    snprintf (env, sizeof env, "PLATEAU_INTAKE_SIGNING_KEYS_FILE=%s", keys);
    const char *extra[] = { env, NULL };
    if (fx_start (f, extra) <= 0 || !pl_test_wait_until (fx_ready_fn, f, 15000))
        return -1;
    *state = f;
    return 0;
}

static int
teardown (void **state)
{
    fx_destroy (*state);
    return 0;
}

/* POST target with a signature made at t for sign_target (the request as captured). */
static int
s_post_signed (fx_t *f, const char *target, const char *sign_target, int64_t t, const char *key, const char *body,
               pl_test_http_resp_t *r)
{
    char sig[PL_HTTP_SIGNATURE_SIZE], headers[1024];
    assert_int_equal (pl_http_sign (S_SECRET, strlen (S_SECRET), t, "POST", sign_target, body, strlen (body), sig,
                                    sizeof sig), 0);
    snprintf (headers, sizeof headers,
              "Authorization: Bearer " FX_TOKEN "\r\nContent-Type: application/json\r\nX-Plateau-Signature: %s\r\n%s%s%s",
              sig, key ? "Idempotency-Key: " : "", key ? key : "", key ? "\r\n" : "");
    return pl_test_http_request (f->http_port, "POST", target, headers, body, strlen (body), r);
}

static long long
s_count_keys (fx_t *f, const char *pattern)
{
    long long n = 0;
    char cursor[32] = "0";
    do {
        pl_reply_t *r = pl_redis_command (f->redis, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        snprintf (cursor, sizeof cursor, "%s", pl_reply_str (pl_reply_element (r, 0), NULL));
        n += (long long) pl_reply_len (pl_reply_element (r, 1));
        pl_reply_free (&r);
    } while (strcmp (cursor, "0") != 0);
    return n;
}

static void
test_a_captured_request_replays_only_its_answer_and_only_where_it_was_signed (void **state)
{
    fx_t *f = *state;
    const char *body = "{\"phone\":\"+33 6 12 34 56 21\"}";
    int64_t now = (int64_t) time (NULL);
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (s_post_signed (f, "/v1/leads?campaign=sig-a", "/v1/leads?campaign=sig-a", now, "cap-1", body, &r),
                      201);
    char *first = strdup (r.body);
    pl_test_http_resp_free (&r);
    /* the same captured request inside the window: the stored answer, nothing stored twice */
    assert_int_equal (s_post_signed (f, "/v1/leads?campaign=sig-a", "/v1/leads?campaign=sig-a", now, "cap-1", body, &r),
                      201);
    char v[16];
    assert_non_null (pl_test_http_header (&r, "Idempotent-Replayed", v, sizeof v));
    assert_string_equal (r.body, first);
    pl_test_http_resp_free (&r);
    free (first);
    assert_int_equal (s_count_keys (f, "pl:{camp:sig-a}:lead:*"), 1);
    /* sent to another campaign, or after the window: refused */
    assert_int_equal (s_post_signed (f, "/v1/leads?campaign=sig-b", "/v1/leads?campaign=sig-a", now, "cap-2", body, &r),
                      401);
    pl_test_http_resp_free (&r);
    assert_int_equal (s_post_signed (f, "/v1/leads?campaign=sig-a", "/v1/leads?campaign=sig-a", now - 3600, "cap-3",
                                     body, &r), 401);
    assert_non_null (strstr (r.body, "signature_expired"));
    pl_test_http_resp_free (&r);
    assert_int_equal (s_count_keys (f, "pl:{camp:sig-b}:lead:*"), 0);
    /* and a signing source names each request */
    assert_int_equal (s_post_signed (f, "/v1/leads?campaign=sig-a", "/v1/leads?campaign=sig-a", now, NULL, body, &r),
                      400);
    assert_non_null (strstr (r.body, "idempotency_key_required"));
    pl_test_http_resp_free (&r);
}

/* Bytes of the deleted (unlinked, spooled) files the process holds open. */
static long long
s_spooled (pid_t pid)
{
    char dir[64], path[600], link[600];
    snprintf (dir, sizeof dir, "/proc/%d/fd", (int) pid);
    DIR *d = opendir (dir);
    long long total = 0;
    for (struct dirent *e; d && (e = readdir (d));) {
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        ssize_t n = readlink (path, link, sizeof link - 1);
        struct stat st;
        if (n > 0 && (link[n] = '\0', strstr (link, "(deleted)")) && stat (path, &st) == 0)
            total += (long long) st.st_size;
    }
    if (d)
        closedir (d);
    return total;
}

static void
test_a_stale_signature_on_a_huge_body_is_refused_before_the_body (void **state)
{
    fx_t *f = *state;
    const long long size = 200LL << 20;
    char sig[PL_HTTP_SIGNATURE_SIZE];
    assert_int_equal (pl_http_sign (S_SECRET, strlen (S_SECRET), (int64_t) time (NULL) - 3600, "POST",
                                    "/v1/leads?campaign=huge", "", 0, sig, sizeof sig), 0);
    int fd = pl_test_http_connect (f->http_port);
    assert_true (fd >= 0);
    char head[1024];
    int hn = snprintf (head, sizeof head,
                       "POST /v1/leads?campaign=huge HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " FX_TOKEN
                       "\r\nContent-Type: application/x-ndjson\r\nIdempotency-Key: huge-1\r\nX-Plateau-Signature: %s\r\n"
                       "Content-Length: %lld\r\n\r\n", sig, size);
    assert_true (pl_test_http_send_all (fd, head, (size_t) hn));
    /* The answer comes from the headers alone: not one byte of the body has been sent. */
    struct timeval tv = { .tv_sec = 10 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    pl_test_http_reader_t *rd = pl_test_http_reader_new (fd);
    pl_test_http_resp_t r = { 0 };
    assert_true (pl_test_http_read_response (rd, &r, false) >= 0);
    assert_int_equal (r.status, 401);
    assert_non_null (strstr (r.body, "signature_expired"));
    pl_test_http_resp_free (&r);
    pl_test_http_reader_destroy (&rd);
    /* The client sends the body anyway: the service spools none of it and stops reading. */
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    static char chunk[65536];
    memset (chunk, '\n', sizeof chunk);
    long long sent = 0, peak = 0;
    while (sent < size && pl_test_http_send_all (fd, chunk, sizeof chunk)) {
        sent += (long long) sizeof chunk;
        long long s = s_spooled (f->pid);
        if (s > peak)
            peak = s;
    }
    close (fd);
    print_message ("stale signature: %lld of %lld body bytes accepted by the socket, %lld spooled\n", sent, size, peak);
    assert_true (sent < 32LL << 20);
    assert_true (peak < 1LL << 20);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_a_captured_request_replays_only_its_answer_and_only_where_it_was_signed,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_stale_signature_on_a_huge_body_is_refused_before_the_body, setup,
                                         teardown),
    };
    return cmocka_run_group_tests_name ("sec_intake_signature", tests, NULL, NULL);
}
