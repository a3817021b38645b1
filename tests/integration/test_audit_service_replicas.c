/*  test_audit_service_replicas.c — an event id is stored once across audit replicas: a retry
 *  that reaches another replica is acked as a duplicate; a claim left by a replica that crashed
 *  between claim and write holds the others off until that replica stores it; a claim whose
 *  replica never came back is taken over.
 *
 *  Two plateau-audit processes (audit-a, audit-b), each with its own data directory, share one
 *  Redis, as replicas of one StatefulSet do; each has its own sender (a bus client with its
 *  outbox). The claims are read in Redis as the replicas leave them.
 */
#include <jansson.h>
#include "plateau/audit_emit.h"
#include "test_audit_service_fixture.h"

#define AUTH_CRM "Authorization: Bearer " AX_TOKEN_CRM "\r\n"
#define T0 1772539200000LL          /* 2026-03-03T12:00:00Z */

typedef struct {
    ax_t *a, *b;
} s_pair_t;

static void
s_pair (s_pair_t *p)
{
    p->a = ax_new ();
    p->b = ax_new ();
    assert_non_null (p->a);
    assert_non_null (p->b);
    snprintf (p->a->replica, sizeof p->a->replica, "audit-a");
    snprintf (p->b->replica, sizeof p->b->replica, "audit-b");
    snprintf (p->b->redis_url, sizeof p->b->redis_url, "%s", pl_test_redis_url (p->a->srv));
    assert_true (ax_start (p->a, NULL) > 0);
    assert_true (ax_start (p->b, NULL) > 0);
    ax_connect (p->a);
    ax_connect (p->b);
    assert_non_null (p->a->client);
    assert_non_null (p->b->client);
}

static void
s_pair_destroy (s_pair_t *p)
{
    ax_destroy (&p->b);
    ax_destroy (&p->a);
}

static void
s_send (ax_t *f, const char *id)
{
    Plateau__V1__AuditEvent ev;
    pl_audit_event_init (&ev, "dialer", "dial.allowed", id, T0);
    ev.number = "+33612345678";
    ev.attempt_id = (char *) id;
    ev.zone = "Europe/Paris";
    assert_int_equal (pl_audit_send (f->client, "dialer", f->clock, NULL, &ev), 0);
}

/* The claim of id in the shared Redis, or "" (static buffer). */
static const char *
s_claim (s_pair_t *p, const char *id)
{
    static char v[128];
    v[0] = '\0';
    pl_reply_t *r = pl_redis_command (p->a->redis, "GET pl:{audit:%s}:claim", id);
    if (r && pl_reply_type (r) == PL_REPLY_STRING)
        snprintf (v, sizeof v, "%s", pl_reply_str (r, NULL));
    pl_reply_free (&r);
    return v;
}

static void
s_set_claim (s_pair_t *p, const char *id, const char *value)
{
    assert_int_equal (pl_redis_exec (p->a->redis, "SET pl:{audit:%s}:claim %s", id, value), 0);
}

/* Records of replica f with event id `id` (its own chain, by arrival). */
static int
s_stored (ax_t *f, const char *chain, const char *id)
{
    char path[128];
    snprintf (path, sizeof path, "/v1/audit/export?chain=%s&from_seq=0", chain);
    pl_test_http_resp_t resp = { 0 };
    int status = pl_test_http_request (f->http_port, "GET", path, AUTH_CRM, NULL, 0, &resp);
    int n = 0;
    if (status == 200) {
        json_t *j = json_loads (resp.body, 0, NULL);
        size_t i;
        json_t *o;
        json_array_foreach (json_object_get (j, "items"), i, o)
            n += strcmp (json_string_value (json_object_get (o, "event_id")), id) == 0;
        json_decref (j);
    } else
        assert_int_equal (status, 404);     /* a chain with nothing indexed yet */
    pl_test_http_resp_free (&resp);
    return n;
}

typedef struct {
    ax_t *f;
    const char *chain, *id;
} s_wait_t;

static bool
s_has_fn (void *arg)
{
    s_wait_t *w = arg;
    return s_stored (w->f, w->chain, w->id) == 1;
}

static void
test_a_retry_reaching_another_replica_is_acked_not_stored (void **state)
{
    s_pair_t p;
    s_pair (&p);
    s_send (p.a, "EV-1");
    ax_pump (p.a, 10000, true);
    assert_int_equal (pl_bus_client_inflight (p.a->client), 0);
    assert_true (strncmp (s_claim (&p, "EV-1"), "s audit-a ", 10) == 0);
    /* The sender's ack was lost; its retry goes to the other replica. */
    s_send (p.b, "EV-1");
    ax_pump (p.b, 10000, true);
    assert_int_equal (pl_bus_client_inflight (p.b->client), 0);
    s_wait_t w = { p.a, "audit-a", "EV-1" };
    assert_true (pl_test_wait_until (s_has_fn, &w, 10000));
    assert_int_equal (s_stored (p.b, "audit-b", "EV-1"), 0);
    char *metrics = NULL;
    assert_int_equal (pl_test_http_get (p.b->ops_port, "/metrics", &metrics), 200);
    assert_non_null (strstr (metrics, "plateau_audit_events_total{outcome=\"duplicate\"} 1"));
    free (metrics);
    /* A new event is stored by whichever replica it reaches. */
    s_send (p.b, "EV-2");
    ax_pump (p.b, 10000, true);
    w = (s_wait_t) { p.b, "audit-b", "EV-2" };
    assert_true (pl_test_wait_until (s_has_fn, &w, 10000));
    assert_true (strncmp (s_claim (&p, "EV-2"), "s audit-b ", 10) == 0);
    s_pair_destroy (&p);
}

static void
test_a_claim_of_a_crashed_replica_holds_the_others_until_it_stores_the_event (void **state)
{
    s_pair_t p;
    s_pair (&p);
    /* audit-a claimed EV-3 and died before writing it (the claim is all that is left). */
    char pending[64];
    snprintf (pending, sizeof pending, "p audit-a %lld", (long long) pl_clock_now_ms (p.a->clock));
    s_set_claim (&p, "EV-3", pending);
    /* The retry reaches audit-b: refused for now, kept in the sender's outbox. */
    s_send (p.b, "EV-3");
    ax_pump (p.b, 2500, false);
    assert_int_equal (pl_bus_client_inflight (p.b->client), 1);
    assert_int_equal (s_stored (p.b, "audit-b", "EV-3"), 0);
    /* audit-a is back and gets a copy: its own claim, so it stores it. */
    s_send (p.a, "EV-3");
    ax_pump (p.a, 10000, true);
    assert_int_equal (pl_bus_client_inflight (p.a->client), 0);
    assert_true (strncmp (s_claim (&p, "EV-3"), "s audit-a ", 10) == 0);
    /* audit-b's next retry finds it stored: acked, and still not stored twice. */
    ax_pump (p.b, 10000, true);
    assert_int_equal (pl_bus_client_inflight (p.b->client), 0);
    s_wait_t w = { p.a, "audit-a", "EV-3" };
    assert_true (pl_test_wait_until (s_has_fn, &w, 10000));
    assert_int_equal (s_stored (p.b, "audit-b", "EV-3"), 0);

    /* A claim whose replica never came back (older than the orphan delay) is taken over. */
    snprintf (pending, sizeof pending, "p audit-z %lld",
              (long long) (pl_clock_now_ms (p.a->clock) - 3600000));
    s_set_claim (&p, "EV-4", pending);
    s_send (p.b, "EV-4");
    ax_pump (p.b, 10000, true);
    assert_int_equal (pl_bus_client_inflight (p.b->client), 0);
    w = (s_wait_t) { p.b, "audit-b", "EV-4" };
    assert_true (pl_test_wait_until (s_has_fn, &w, 10000));
    assert_true (strncmp (s_claim (&p, "EV-4"), "s audit-b ", 10) == 0);
    s_pair_destroy (&p);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_retry_reaching_another_replica_is_acked_not_stored),
        cmocka_unit_test (test_a_claim_of_a_crashed_replica_holds_the_others_until_it_stores_the_event),
    };
    return cmocka_run_group_tests_name ("audit_service_replicas", tests, NULL, NULL);
}
