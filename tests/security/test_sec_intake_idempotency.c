/*  test_sec_intake_idempotency.c — Idempotency-Key as a lease, and bound to its body.
 *
 *  Attacks and accidents: the intake is SIGKILLed in the middle of an upload that carries an
 *  Idempotency-Key (the key stayed pending 10 minutes, and the retry the docs advise got 409
 *  without Retry-After); the same key is sent again with another body (its lead was dropped
 *  silently behind the old answer). Now: while the first request lives, the retry gets 409 with
 *  Retry-After; once the process has died its lease lapses within seconds and the retry runs;
 *  the same key and body replay the stored answer; the same key with another body is 422.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

#include "test_intake_fixture.h"

static const char s_body[] =
    "{\"phone\":\"+33 6 12 34 56 01\",\"external_id\":\"c-1\"}\n"
    "{\"phone\":\"+33 6 12 34 56 02\",\"external_id\":\"c-2\"}\n"
    "{\"phone\":\"+33 6 12 34 56 03\",\"external_id\":\"c-3\"}\n";

static int
setup (void **state)
{
    return fx_setup_with (state, NULL);
}

static int
teardown (void **state)
{
    return fx_teardown (state);
}

static bool
s_key_pending (void *arg)
{
    fx_t *f = arg;
    pl_reply_t *r = pl_redis_command (f->redis, "HGET pl:{idem:crm-a:upload-1} state");
    bool pending = r && pl_reply_type (r) == PL_REPLY_STRING && strcmp (pl_reply_str (r, NULL), "pending") == 0;
    pl_reply_free (&r);
    return pending;
}

static int
s_post_key (fx_t *f, const char *key, const char *body, pl_test_http_resp_t *r)
{
    char extra[200];
    snprintf (extra, sizeof extra, "Idempotency-Key: %s\r\n", key);
    return fx_post (f, "?campaign=idem", FX_TOKEN, "application/x-ndjson", extra, body, strlen (body), r);
}

static long
s_retry_after (const pl_test_http_resp_t *r)
{
    char v[32];
    return pl_test_http_header (r, "Retry-After", v, sizeof v) ? strtol (v, NULL, 10) : -1;
}

static void
test_a_killed_upload_blocks_its_retry_only_for_the_lease (void **state)
{
    fx_t *f = *state;
    /* An upload that has sent its first line, then hangs: the key is held. */
    int fd = pl_test_http_connect (f->http_port);
    assert_true (fd >= 0);
    char head[512];
    int hn = snprintf (head, sizeof head,
                       "POST /v1/leads?campaign=idem HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " FX_TOKEN
                       "\r\nContent-Type: application/x-ndjson\r\nIdempotency-Key: upload-1\r\n"
                       "Content-Length: %zu\r\n\r\n",
                       strlen (s_body));
    assert_true (pl_test_http_send_all (fd, head, (size_t) hn));
    assert_true (pl_test_http_send_all (fd, s_body, 40));
    assert_true (pl_test_wait_until (s_key_pending, f, 10000));

    /* While it lives, the same key is in progress: 409 with how long to wait. */
    pl_test_http_resp_t r = { 0 };
    assert_int_equal (s_post_key (f, "upload-1", s_body, &r), 409);
    long after = s_retry_after (&r);
    assert_true (after >= 1 && after <= 10);
    assert_non_null (strstr (r.body, "\"in_progress\""));
    pl_test_http_resp_free (&r);

    /* The intake dies mid-upload and comes back. */
    assert_int_equal (pl_test_stop (f->pid, SIGKILL, 5000), SIGKILL);
    close (fd);
    assert_true (fx_start (f, NULL) > 0);
    assert_true (pl_test_wait_until (fx_ready_fn, f, 15000));

    /* The retry, as a client does it: honour Retry-After; it runs once the lease has lapsed. */
    int64_t deadline = pl_clock_mono_ms () + 30000;
    int status, tries = 0;
    for (;;) {
        pl_test_http_resp_free (&r);
        status = s_post_key (f, "upload-1", s_body, &r);
        tries++;
        if (status != 409 || pl_clock_mono_ms () > deadline)
            break;
        after = s_retry_after (&r);
        assert_true (after >= 1 && after <= 10);
        sleep ((unsigned) after);
    }
    print_message ("retry after the crash: %d after %d tries\n", status, tries);
    assert_int_equal (status, 200);
    assert_non_null (strstr (r.body, "\"accepted\":3"));
    char *first = strdup (r.body);
    pl_test_http_resp_free (&r);

    /* The same key and body again: the stored answer, nothing stored twice. */
    assert_int_equal (s_post_key (f, "upload-1", s_body, &r), 200);
    char v[16];
    assert_non_null (pl_test_http_header (&r, "Idempotent-Replayed", v, sizeof v));
    assert_string_equal (r.body, first);
    pl_test_http_resp_free (&r);
    free (first);

    /* The same key with another body: refused, not answered with the old lead's result. */
    const char *other = "{\"phone\":\"+33 6 12 34 56 09\",\"external_id\":\"c-9\"}\n";
    assert_int_equal (s_post_key (f, "upload-1", other, &r), 422);
    assert_non_null (strstr (r.body, "\"idempotency_key_reused\""));
    pl_test_http_resp_free (&r);
    /* and nothing of it was stored: under a new key it is a new lead */
    assert_int_equal (s_post_key (f, "upload-2", other, &r), 200);
    assert_non_null (strstr (r.body, "\"accepted\":1"));
    pl_test_http_resp_free (&r);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_a_killed_upload_blocks_its_retry_only_for_the_lease, setup, teardown),
    };
    return cmocka_run_group_tests_name ("sec_intake_idempotency", tests, NULL, NULL);
}
