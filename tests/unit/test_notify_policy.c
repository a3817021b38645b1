/*  test_notify_policy.c — the rules and the payload of webhooks (services/notify/policy.c,
 *  payload.c): which answers are final, the backoff's bounds, Retry-After, which URLs a
 *  subscription may name, audit records as events, and a body whose signature the kit's own
 *  verifier accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include <jansson.h>

#include "payload.h"
#include "policy.h"
#include "plateau/error.h"
#include "plateau/http.h"

static void
test_2xx_is_delivered_408_429_5xx_and_no_answer_retry_other_4xx_are_final (void **state)
{
    static const struct { int status; notify_verdict_t want; } cases[] = {
        { 200, NOTIFY_DELIVERED }, { 202, NOTIFY_DELIVERED }, { 204, NOTIFY_DELIVERED },
        { 0, NOTIFY_RETRY },       { 408, NOTIFY_RETRY },     { 429, NOTIFY_RETRY },
        { 500, NOTIFY_RETRY },     { 503, NOTIFY_RETRY },     { 400, NOTIFY_PERMANENT },
        { 401, NOTIFY_PERMANENT }, { 404, NOTIFY_PERMANENT }, { 410, NOTIFY_PERMANENT },
        { 301, NOTIFY_PERMANENT }, { 302, NOTIFY_PERMANENT },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        assert_int_equal (notify_policy_classify (cases[i].status), cases[i].want);
}

static void
test_backoff_is_full_jitter_under_a_doubling_ceiling_and_the_cap (void **state)
{
    uint64_t r = 0x12345678;
    for (int attempts = 1; attempts <= 30; attempts++) {
        int64_t ceiling = 1000;
        for (int i = 1; i < attempts && ceiling < 60000; i++)
            ceiling *= 2;
        if (ceiling > 60000)
            ceiling = 60000;
        int64_t max_seen = 0;
        for (int k = 0; k < 2000; k++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            int64_t d = notify_policy_backoff_ms (attempts, 1000, 60000, r, -1);
            assert_true (d >= 0 && d <= ceiling);
            if (d > max_seen)
                max_seen = d;
        }
        assert_true (max_seen > ceiling / 2);          /* the draw covers the range */
    }
    assert_int_equal (notify_policy_backoff_ms (3, 1000, 60000, 999999, 0), 0);
    assert_int_equal (notify_policy_backoff_ms (3, 1000, 60000, 1, 30000), 30000);   /* Retry-After */
    assert_int_equal (notify_policy_backoff_ms (3, 1000, 60000, 1, 7200000), 60000); /* capped */
}

static void
test_retry_after_reads_seconds_and_http_dates (void **state)
{
    int64_t now = 1793000000000LL;      /* 2026-10-26T… */
    assert_int_equal (notify_policy_retry_after_ms ("120", now), 120000);
    assert_int_equal (notify_policy_retry_after_ms (" 5 ", now), 5000);
    assert_int_equal (notify_policy_retry_after_ms (NULL, now), -1);
    assert_int_equal (notify_policy_retry_after_ms ("", now), -1);
    assert_int_equal (notify_policy_retry_after_ms ("soon", now), -1);
    assert_int_equal (notify_policy_retry_after_ms ("-3", now), -1);
    assert_int_equal (notify_policy_retry_after_ms ("Sun, 06 Nov 1994 08:49:37 GMT", now), 0);  /* past */
    /* 1793000060 s = now + 60 s */
    assert_int_equal (notify_policy_retry_after_ms ("Mon, 26 Oct 2026 07:34:20 GMT", now), 60000);
    /* A date of the far future is a year, not an overflow (found by fuzz_notify). */
    assert_int_equal (notify_policy_retry_after_ms ("Dec 25 1844674407 00:00:00 GMT", now), 365LL * 24 * 3600 * 1000);
}

static void
test_urls_must_be_https_public_and_without_credentials (void **state)
{
    static const struct { const char *url; bool insecure; int ok; } cases[] = {
        { "https://crm.example.com/hooks/plateau", false, 1 },
        { "https://crm.example.com:8443/h?x=1", false, 1 },
        { "http://crm.example.com/hooks", false, 0 },
        { "http://crm.example.com/hooks", true, 1 },
        { "http://127.0.0.1:8080/hooks", true, 1 },
        { "https://127.0.0.1/hooks", false, 0 },
        { "https://localhost/hooks", false, 0 },
        { "https://10.1.2.3/hooks", false, 0 },
        { "https://172.20.0.1/hooks", false, 0 },
        { "https://192.168.1.1/hooks", false, 0 },
        { "https://169.254.169.254/latest/meta-data", false, 0 },
        { "https://[::1]/hooks", false, 0 },
        { "https://[fd00::1]/hooks", false, 0 },
        { "https://user:pw@crm.example.com/hooks", false, 0 },
        { "https://crm.example.com/hooks#frag", false, 0 },
        { "ftp://crm.example.com/hooks", true, 0 },
        { "https://crm.example.com/a b", false, 0 },
        { "https://crm.ex\xc3\xa9mple.com/hooks", false, 0 },     /* non-ASCII: punycode it */
        { "https://xn--crm-exmple-e7a.com/hooks", false, 1 },
        { "HTTPS://CRM.EXAMPLE.COM/hooks", false, 1 },            /* schemes ignore case */
        { "", false, 0 },
    };
    char why[200];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = notify_policy_url_check (cases[i].url, 2048, cases[i].insecure, why, sizeof why);
        if ((rc == 0) != cases[i].ok)
            fail_msg ("%s: got %d (%s)", cases[i].url, rc, why);
    }
    char long_url[3000] = "https://crm.example.com/";
    memset (long_url + strlen (long_url), 'a', 2100);
    assert_int_not_equal (notify_policy_url_check (long_url, 2048, false, why, sizeof why), 0);
    assert_non_null (strstr (why, "too long"));
}

static void
test_private_addresses_are_refused_at_connect_time (void **state)
{
    static const struct { const char *addr; bool priv; } v4[] = {
        { "127.0.0.1", true }, { "10.0.0.5", true }, { "172.16.0.1", true }, { "172.31.255.1", true },
        { "172.32.0.1", false }, { "192.168.0.1", true }, { "169.254.169.254", true },
        { "100.64.0.1", true }, { "0.0.0.0", true }, { "8.8.8.8", false }, { "93.184.216.34", false },
    };
    for (size_t i = 0; i < sizeof v4 / sizeof *v4; i++) {
        struct sockaddr_in a = { .sin_family = AF_INET };
        inet_pton (AF_INET, v4[i].addr, &a.sin_addr);
        if (notify_policy_address_private ((struct sockaddr *) &a) != v4[i].priv)
            fail_msg ("%s", v4[i].addr);
    }
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
    inet_pton (AF_INET6, "::ffff:127.0.0.1", &a6.sin6_addr);
    assert_true (notify_policy_address_private ((struct sockaddr *) &a6));
    inet_pton (AF_INET6, "2606:4700::1111", &a6.sin6_addr);
    assert_false (notify_policy_address_private ((struct sockaddr *) &a6));
}

static void
test_audit_records_become_events_without_personal_data (void **state)
{
    const char *rec =
        "{\"chain\":\"audit-0\",\"seq\":7,\"at_ms\":1793000000000,\"event_id\":\"D-1.outcome\","
        "\"type\":\"call.outcome\",\"lead_id\":\"L1\",\"campaign\":\"spring\",\"number_pseudonym\":\"abcd\","
        "\"zone\":\"Europe/Paris\",\"personal\":\"sealed\",\"evidence\":{\"tenant\":\"acme\","
        "\"attempt_id\":\"D-1\",\"call\":{\"result\":\"answered\",\"ring_ms\":4000}}}";
    json_t *o = json_loads (rec, 0, NULL);
    notify_event_t ev;
    assert_int_equal (notify_event_from_record (o, &ev), 0);
    assert_int_equal (ev.kind, NOTIFY_RECORD_EVENT);
    assert_string_equal (ev.type, "call.outcome");
    assert_string_equal (ev.lead_id, "L1");
    assert_int_equal (ev.at_ms, 1793000000000LL);
    assert_non_null (strstr (ev.data, "\"result\":\"answered\""));
    assert_non_null (strstr (ev.data, "\"attempt_id\":\"D-1\""));
    assert_null (strstr (ev.data, "abcd"));            /* no pseudonym, no number */
    notify_event_clear (&ev);
    json_decref (o);

    static const struct { const char *audit, *webhook; notify_record_kind_t kind; } map[] = {
        { "scrub.verdict", "lead.verdict", NOTIFY_RECORD_EVENT },
        { "payment.applied", "payment.received", NOTIFY_RECORD_EVENT },
        { "promise.broken", "promise.broken", NOTIFY_RECORD_EVENT },
        { "lead.accepted", "lead.accepted", NOTIFY_RECORD_LEAD },
        { "dial.allowed", NULL, NOTIFY_RECORD_SKIP },
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
        json_t *r = json_pack ("{s:s, s:s, s:s}", "event_id", "x", "type", map[i].audit, "lead_id", "L");
        assert_int_equal (notify_event_from_record (r, &ev), 0);
        assert_int_equal (ev.kind, map[i].kind);
        if (map[i].webhook)
            assert_string_equal (ev.type, map[i].webhook);
        notify_event_clear (&ev);
        json_decref (r);
    }
    json_t *bad = json_pack ("{s:s}", "type", "call.outcome");
    assert_int_not_equal (notify_event_from_record (bad, &ev), 0);
    json_decref (bad);
}

static void
test_the_event_id_is_stable_and_opaque (void **state)
{
    char a[NOTIFY_EVENT_ID_SIZE], b[NOTIFY_EVENT_ID_SIZE], c[NOTIFY_EVENT_ID_SIZE];
    notify_event_id ("D-1.outcome", a);
    notify_event_id ("D-1.outcome", b);
    notify_event_id ("D-2.outcome", c);
    assert_string_equal (a, b);
    assert_string_not_equal (a, c);
    assert_int_equal (strlen (a), 36);
    assert_memory_equal (a, "evt_", 4);
}

static void
test_a_delivery_is_signed_as_the_kit_verifies (void **state)
{
    char *body = notify_payload_body ("evt_1", "call.outcome", 1793000000000LL, "crm-a", "L1",
                                      "CRM-9", "spring", "{\"call\":{\"result\":\"busy\"}}");
    assert_non_null (body);
    json_t *o = json_loads (body, 0, NULL);
    assert_string_equal (json_string_value (json_object_get (o, "time")), "2026-10-26T07:33:20.000Z");
    assert_string_equal (json_string_value (json_object_get (o, "external_id")), "CRM-9");
    json_decref (o);
    char target[256], sig[PL_HTTP_SIGNATURE_SIZE];
    assert_int_equal (notify_payload_target ("https://crm.example.com/hooks/p?tenant=acme", target, sizeof target), 0);
    assert_string_equal (target, "/hooks/p?tenant=acme");
    assert_int_equal (notify_payload_target ("https://crm.example.com", target, sizeof target), 0);
    assert_string_equal (target, "/");
    assert_int_equal (notify_payload_target ("https://crm.example.com/hooks/p?tenant=acme", target, sizeof target), 0);
    const char *secret = "a-webhook-secret-of-at-least-32-bytes!";
    assert_int_equal (pl_http_sign (secret, strlen (secret), 1793000000, "POST", target, body,
                                    strlen (body), sig, sizeof sig), 0);
    pl_http_sig_t *v = NULL;
    assert_int_equal (pl_http_sig_new (&v, secret, strlen (secret), sig, "POST", target, 1793000100, 300), 0);
    pl_http_sig_update (v, body, strlen (body));
    assert_int_equal (pl_http_sig_check (v), 0);
    pl_http_sig_destroy (&v);
    /* Another body, or an old timestamp, is refused. */
    assert_int_equal (pl_http_sig_new (&v, secret, strlen (secret), sig, "POST", target, 1793000000 + 301, 300), PL_ERANGE);
    assert_int_equal (pl_http_sig_new (&v, secret, strlen (secret), sig, "POST", target, 1793000000, 300), 0);
    pl_http_sig_update (v, "{}", 2);
    assert_int_not_equal (pl_http_sig_check (v), 0);
    pl_http_sig_destroy (&v);
    free (body);
    assert_null (notify_payload_body ("evt_1", "call.outcome", 0, "", "", "", "", "not json"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_2xx_is_delivered_408_429_5xx_and_no_answer_retry_other_4xx_are_final),
        cmocka_unit_test (test_backoff_is_full_jitter_under_a_doubling_ceiling_and_the_cap),
        cmocka_unit_test (test_retry_after_reads_seconds_and_http_dates),
        cmocka_unit_test (test_urls_must_be_https_public_and_without_credentials),
        cmocka_unit_test (test_private_addresses_are_refused_at_connect_time),
        cmocka_unit_test (test_audit_records_become_events_without_personal_data),
        cmocka_unit_test (test_the_event_id_is_stable_and_opaque),
        cmocka_unit_test (test_a_delivery_is_signed_as_the_kit_verifies),
    };
    return cmocka_run_group_tests_name ("notify_policy", tests, NULL, NULL);
}
