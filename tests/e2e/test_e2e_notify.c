/*  test_e2e_notify.c — webhooks back to the CRM, end to end (issue 15, acceptance), with real
 *  processes: plateau-intake, plateau-scrub and plateau-promise auditing to a real plateau-audit,
 *  plateau-notify following the audit's export, and a receiver in the test process that
 *  verifies every signature with the kit's verifier and de-duplicates by event id.
 *
 *  Leads submitted through the intake's API yield, at the receiver, their verdicts with the
 *  CRM's id and source taken from lead.accepted; a promise opened on the first lead through the
 *  promise service's API and paid in full yields promise.made, payment.received and
 *  promise.kept. The calls' outcomes and dispositions are the AuditEvents the dialer emits
 *  (docs/audit-events.md), sent here to the real audit's bus door for those leads, so that the
 *  test decides when each call ends. Then: the receiver down for a while and back gets every
 *  event in order per lead; notify SIGKILLed with deliveries in flight loses none.
 */
#include "test_notify_fixture.h"
#include "test_scrub_fixture.h"

#define N_LEADS 2
#define PAYER_SECRET "a-payment-bridge-secret-of-32-bytes!!"
#define OPS_TOKEN "0123456789abcdef-promise-ops"
#define PAY_TOKEN "0123456789abcdef-promise-pay"

typedef struct {
    nx_t *n;
    sx_t *s;
    char ids[N_LEADS][40];
    pid_t promise;
    int promise_port;
} e2e_t;

/* The calls, as the dialer records them. */
static const char *const s_calls[] = { "call.outcome", "call.disposition", NULL };

/* plateau-promise on the real audit, its API on promise_port. */
static void
s_start_promise (e2e_t *e)
{
    char dir[400], tokens[500], signing[500], log[500];
    snprintf (dir, sizeof dir, "%s", e->n->dir);
    snprintf (tokens, sizeof tokens, "%s/promise-tokens", dir);
    snprintf (signing, sizeof signing, "%s/promise-signing", dir);
    snprintf (log, sizeof log, "%s/promise.log", dir);
    FILE *fp = fopen (tokens, "w");
    fprintf (fp, "ops:%s\npay:%s\n", OPS_TOKEN, PAY_TOKEN);
    fclose (fp);
    fp = fopen (signing, "w");
    fprintf (fp, "pay:%s\n", PAYER_SECRET);
    fclose (fp);
    static char env[12][700];
    int k = 0;
    e->promise_port = pl_test_free_port ();
    snprintf (env[k++], 700, "PLATEAU_REDIS_URL=%s", pl_test_redis_url (e->s->srv));
    snprintf (env[k++], 700, "PLATEAU_OPS_ADDR=127.0.0.1");
    snprintf (env[k++], 700, "PLATEAU_OPS_PORT=0");
    snprintf (env[k++], 700, "PLATEAU_BUS_BIND=tcp://127.0.0.1:%d", pl_test_free_port ());
    snprintf (env[k++], 700, "PLATEAU_AUDIT_BUS=%s", e->n->audit->bus);
    snprintf (env[k++], 700, "PLATEAU_API_TOKENS_FILE=%s", tokens);
    snprintf (env[k++], 700, "PLATEAU_PROMISE_SIGNING_KEYS_FILE=%s", signing);
    snprintf (env[k++], 700, "PLATEAU_PROMISE_HTTP_ADDR=127.0.0.1");
    snprintf (env[k++], 700, "PLATEAU_PROMISE_HTTP_PORT=%d", e->promise_port);
    snprintf (env[k++], 700, "PLATEAU_PROMISE_OPERATORS=ops");
    snprintf (env[k++], 700, "PLATEAU_PROMISE_PAYERS=pay");
    char *envp[13];
    for (int i = 0; i < k; i++)
        envp[i] = env[i];
    envp[k] = NULL;
    char *argv[] = { "plateau-promise", NULL };
    e->promise = pl_test_spawn (argv, envp, log);
    assert_true (e->promise > 0 && pl_test_wait_started (e->promise, log, 20000));
}

/* A request to the promise service's API; signed by the payer when sign. */
static int
s_promise_req (e2e_t *e, const char *path, const char *token, const char *body, bool sign)
{
    char sig[PL_HTTP_SIGNATURE_SIZE] = "", headers[512];
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    if (sign)
        pl_http_sign (PAYER_SECRET, strlen (PAYER_SECRET), ts.tv_sec, "POST", path, body, strlen (body), sig,
                      sizeof sig);
    snprintf (headers, sizeof headers, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n%s%s%s",
              token, sign ? PL_HTTP_SIGNATURE_HEADER ": " : "", sig, sign ? "\r\n" : "");
    pl_test_http_resp_t resp = { 0 };
    int st = pl_test_http_request (e->promise_port, "POST", path, headers, body, strlen (body), &resp);
    if (st < 200 || st > 299)
        fprintf (stderr, "promise %s: %d %s\n", path, st, resp.body ? resp.body : "");
    pl_test_http_resp_free (&resp);
    return st;
}

static void
s_submit (e2e_t *e)
{
    const char *csv = "external_id,phone,campaign,consent_scope,consent_channel,consent_source,"
                      "consent_captured_at,consent_proof_ref\n"
                      "crm-1001,0612345600,spring,canvassing,phone,web-form:example.fr,2026-10-01T10:00:00Z,p-0\n"
                      "crm-1002,0612345601,spring,,,,,\n";
    pl_test_http_resp_t resp = { 0 };
    assert_int_equal (sx_http (&e->s->intake, "POST", "/v1/leads", SX_TOKEN, "text/csv", csv, &resp), 200);
    int k = 0;
    for (char *line = strtok (resp.body, "\n"); line && k < N_LEADS; line = strtok (NULL, "\n")) {
        json_t *o = json_loads (line, 0, NULL);
        const char *id = json_string_value (json_object_get (o, "lead_id"));
        if (id)
            snprintf (e->ids[k++], 40, "%s", id);
        json_decref (o);
    }
    pl_test_http_resp_free (&resp);
    assert_int_equal (k, N_LEADS);
}

typedef struct {
    e2e_t *e;
    int want;
} s_wait_t;

static bool
s_got (void *arg)
{
    s_wait_t *w = arg;
    sx_pump (w->e->s, 5);
    ax_pump (w->e->n->audit, 5, false);
    return nx_rx_distinct (&w->e->n->rx) >= w->want;
}

static void
s_send_all (e2e_t *e, const char *const *types, int k0)
{
    for (int i = 0; i < N_LEADS; i++)
        for (int t = 0; types[t]; t++)
            assert_int_equal (nx_send (e->n, types[t], e->ids[i], k0 + t), 0);
}

static void
test_a_submitted_lead_reaches_the_crm_signed_in_order_once_through_outages_and_a_crash (void **state)
{
    (void) state;
    e2e_t e = { 0 };
    e.n = nx_new ();
    assert_non_null (e.n);
    e.s = sx_new ();
    assert_non_null (e.s);
    snprintf (e.s->audit_bus, sizeof e.s->audit_bus, "%s", e.n->audit->bus);   /* the real audit */
    assert_int_equal (sx_start_scrub (e.s, 0, NULL), 0);
    assert_int_equal (sx_start_intake (e.s), 0);
    assert_true (nx_start (e.n, NULL) > 0);
    assert_true (pl_test_wait_until (nx_ready_fn, e.n, 15000));
    char id[64];
    assert_int_equal (nx_subscribe (e.n, NX_TOKEN_A, "[\"*\"]", id, sizeof id), 201);

    /* 1. Through the intake: each lead's verdict, with the CRM's id, signed. */
    s_submit (&e);
    s_wait_t w = { &e, N_LEADS };
    assert_true (pl_test_wait_until (s_got, &w, 30000));
    s_send_all (&e, s_calls, 1);
    w.want = N_LEADS * 3;
    assert_true (pl_test_wait_until (s_got, &w, 30000));

    /* The first lead's debtor promises on the call and pays in full: the promise service's
     * own events, through its API. */
    s_start_promise (&e);
    char due[11], body[1024];
    pl_test_date (20, due);
    snprintf (body, sizeof body,
              "{\"promise_id\":\"P-e2e\",\"account\":\"ACC-e2e\",\"creditor\":\"bank-1\",\"tenant\":\"acme\","
              "\"phone\":\"+33612345600\",\"currency\":\"EUR\",\"installments\":[{\"due\":\"%s\",\"amount\":5000}],"
              "\"campaign\":\"spring\",\"lead\":\"%s\"}", due, e.ids[0]);
    assert_int_equal (s_promise_req (&e, "/v1/promises", OPS_TOKEN, body, false), 201);
    w.want = N_LEADS * 3 + 1;
    assert_true (pl_test_wait_until (s_got, &w, 30000));     /* promise.made first */
    assert_int_equal (s_promise_req (&e, "/v1/payments", PAY_TOKEN,
                                     "{\"payment_id\":\"pay-e2e\",\"account\":\"ACC-e2e\",\"amount\":5000,"
                                     "\"currency\":\"EUR\"}", true), 201);
    w.want = N_LEADS * 3 + 3;
    assert_true (pl_test_wait_until (s_got, &w, 30000));
    char types[400];
    nx_rx_types (&e.n->rx, e.ids[0], types, sizeof types);
    assert_string_equal (types, "lead.verdict,call.outcome,call.disposition,promise.made,payment.received,promise.kept");
    nx_rx_types (&e.n->rx, e.ids[1], types, sizeof types);
    assert_string_equal (types, "lead.verdict,call.outcome,call.disposition");
    assert_int_equal (atomic_load (&e.n->rx.bad_signatures), 0);
    for (int i = 0; i < e.n->rx.n_got; i++) {       /* the CRM's own ids, from lead.accepted */
        const nx_got_t *g = &e.n->rx.got[i];
        assert_string_equal (g->source, "crm-a");
        assert_string_equal (g->external_id, strcmp (g->lead_id, e.ids[0]) == 0 ? "crm-1001" : "crm-1002");
    }

    /* 2. The receiver down for a while, then back: every event, in order per lead. */
    static const char *const want[N_LEADS][2] = {
        { "lead.verdict,call.outcome,call.disposition,promise.made,payment.received,promise.kept,"
          "call.outcome,call.disposition",
          "lead.verdict,call.outcome,call.disposition,promise.made,payment.received,promise.kept,"
          "call.outcome,call.disposition,call.outcome,call.disposition" },
        { "lead.verdict,call.outcome,call.disposition,call.outcome,call.disposition",
          "lead.verdict,call.outcome,call.disposition,call.outcome,call.disposition,call.outcome,call.disposition" },
    };
    int before = nx_rx_distinct (&e.n->rx);
    atomic_store (&e.n->rx.status, 503);
    s_send_all (&e, s_calls, 10);
    int64_t end = pl_clock_mono_ms () + 2500;
    while (pl_clock_mono_ms () < end)
        s_got (&w);
    assert_int_equal (nx_rx_distinct (&e.n->rx), before);
    atomic_store (&e.n->rx.status, 200);
    w.want = before + N_LEADS * 2;
    assert_true (pl_test_wait_until (s_got, &w, 30000));
    for (int i = 0; i < N_LEADS; i++) {
        nx_rx_types (&e.n->rx, e.ids[i], types, sizeof types);
        assert_string_equal (types, want[i][0]);
    }

    /* 3. SIGKILL with deliveries in flight (a slow receiver): none lost once it is back. */
    before = nx_rx_distinct (&e.n->rx);
    atomic_store (&e.n->rx.delay_ms, 600);
    s_send_all (&e, s_calls, 20);
    w.want = before + 1;
    assert_true (pl_test_wait_until (s_got, &w, 30000));
    pl_test_stop (e.n->pid, SIGKILL, 5000);
    atomic_store (&e.n->rx.delay_ms, 0);
    assert_true (nx_start (e.n, NULL) > 0);
    w.want = before + N_LEADS * 2;
    assert_true (pl_test_wait_until (s_got, &w, 30000));
    for (int i = 0; i < N_LEADS; i++) {
        nx_rx_types (&e.n->rx, e.ids[i], types, sizeof types);
        assert_string_equal (types, want[i][1]);
    }
    assert_int_equal (atomic_load (&e.n->rx.bad_signatures), 0);
    pl_test_stop (e.promise, SIGKILL, 5000);
    sx_destroy (e.s);
    nx_destroy (&e.n);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_submitted_lead_reaches_the_crm_signed_in_order_once_through_outages_and_a_crash),
    };
    return cmocka_run_group_tests_name ("e2e_notify", tests, NULL, NULL);
}
