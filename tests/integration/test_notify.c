/*  test_notify.c — plateau-notify as a process, fed by a real plateau-audit: configuration errors
 *  exit 2 naming the variable; the subscriptions API keeps each source to its own and names the
 *  bad field; events are delivered signed, once, in order per lead; a receiver that is down
 *  gets everything once back; a permanent refusal is a dead letter that replay sends again; a
 *  slow endpoint with a backlog holds back no other; heads an earlier version queued are
 *  delivered; /readyz follows Redis; SIGTERM drains; SIGKILL mid-delivery loses nothing.
 */
#include <hiredis/hiredis.h>

#include "test_notify_fixture.h"

static nx_t *s_f;
static int s_ops_port;

static bool
s_ready_is (void *arg)
{
    return pl_test_http_get (s_ops_port, "/readyz", NULL) == (int) (intptr_t) arg;
}

static bool
s_nothing_pending (void *arg)
{
    nx_t *f = arg;
    return pl_test_redis_int (f->srv, "GET pl:{notify}:pending") == 0;
}

static void
s_up (nx_t *f, const char *const *extra)
{
    assert_true (nx_start (f, extra) > 0);
    s_ops_port = f->ops_port;
    assert_true (pl_test_wait_until (nx_ready_fn, f, 15000));
}

/* The events of one lead, in the order the services decide them. */
static const char *const s_story[] = { "scrub.verdict", "call.outcome", "call.disposition",
                                       "promise.made", "promise.kept", NULL };
static const char *const s_story_webhook = "lead.verdict,call.outcome,call.disposition,promise.made,promise.kept";

static void
s_send_story (nx_t *f, const char *lead)
{
    assert_int_equal (nx_send (f, "lead.accepted", lead, 0), 0);
    for (int i = 0; s_story[i]; i++)
        assert_int_equal (nx_send (f, s_story[i], lead, i + 1), 0);
}

/* Starts notify with a receiver answering 503 and patient retries, subscribes crm-a to every
 * event (its id in id[size]) and sends the stories of leads L1 and L2. */
static void
s_two_stories_while_down (nx_t *f, char *id, size_t size)
{
    atomic_store (&f->rx.status, 503);
    s_up (f, (const char *[]) { "PLATEAU_NOTIFY_PAUSE_AFTER=1000", "PLATEAU_NOTIFY_MAX_ATTEMPTS=1000", NULL });
    assert_int_equal (nx_subscribe (f, NX_TOKEN_A, "[\"*\"]", id, size), 201);
    s_send_story (f, "L1");
    s_send_story (f, "L2");
}

/* Both stories arrive, each in its order, once. */
static void
s_two_stories_received (nx_t *f)
{
    nx_wait_t w = { f, 10 };
    assert_true (pl_test_wait_until (nx_got_fn, &w, 30000));
    char types[400];
    nx_rx_types (&f->rx, "L1", types, sizeof types);
    assert_string_equal (types, s_story_webhook);
    nx_rx_types (&f->rx, "L2", types, sizeof types);
    assert_string_equal (types, s_story_webhook);
}

static void
test_bad_configuration_exits_2_naming_the_variable (void **state)
{
    nx_t *f = *state;
    const char *no_url[] = { "PLATEAU_NOTIFY_AUDIT_URL=", NULL };
    const char *https[] = { "PLATEAU_NOTIFY_AUDIT_URL=https://audit:8080", NULL };
    const char *no_host[] = { "PLATEAU_NOTIFY_AUDIT_URL=http://", NULL };
    const char *bad_port[] = { "PLATEAU_NOTIFY_AUDIT_URL=http://audit:8080, http://audit-1:99999", NULL };
    const char *const *cases[] = { no_url, https, no_host, bad_port };
    for (int i = 0; i < 4; i++) {
        unlink (f->log);                 /* each case's own log: pl_test_spawn appends */
        char env[6][512];
        snprintf (env[0], 512, "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
        snprintf (env[1], 512, "PLATEAU_BUS_SECURITY=plaintext");
        snprintf (env[2], 512, "%s", cases[i][0]);
        snprintf (env[3], 512, "PLATEAU_OPS_PORT=0");
        snprintf (env[4], 512, "PLATEAU_API_TOKENS_FILE=%s", f->tokens);
        snprintf (env[5], 512, "PLATEAU_NOTIFY_AUDIT_TOKEN_FILE=%s", f->audit_token);
        char *envp[] = { env[0], env[1], env[2], env[3], env[4], env[5], NULL };
        char *argv[] = { "plateau-notify", NULL };
        pid_t pid = pl_test_spawn (argv, envp, f->log);
        int status = 0;
        waitpid (pid, &status, 0);
        assert_true (WIFEXITED (status));
        assert_int_equal (WEXITSTATUS (status), 2);
        assert_true (pl_test_file_has (f->log, "PLATEAU_NOTIFY_AUDIT_URL"));
    }
}

static void
s_expect_field (nx_t *f, const char *body, int want, const char *field)
{
    pl_test_http_resp_t resp = { 0 };
    assert_int_equal (nx_api (f, NX_TOKEN_A, "POST", "/v1/webhooks", body, &resp), want);
    if (field) {
        char needle[64];
        snprintf (needle, sizeof needle, "\"field\":\"%s\"", field);
        assert_non_null (strstr (resp.body, needle));
    }
    pl_test_http_resp_free (&resp);
}

static void
test_a_source_sees_only_its_own_webhooks_and_bad_bodies_name_the_field (void **state)
{
    nx_t *f = *state;
    s_up (f, NULL);
    char id[64], other[64];
    assert_int_equal (nx_subscribe (f, NX_TOKEN_A, "[\"lead.verdict\",\"call.outcome\"]", id, sizeof id), 201);
    assert_int_equal (nx_subscribe (f, NX_TOKEN_B, "[\"*\"]", other, sizeof other), 201);

    pl_test_http_resp_t resp = { 0 };
    char path[160];
    snprintf (path, sizeof path, "/v1/webhooks/%s", id);
    assert_int_equal (nx_api (f, NX_TOKEN_A, "GET", path, NULL, &resp), 200);
    assert_non_null (strstr (resp.body, "\"status\":\"active\""));
    assert_null (strstr (resp.body, NX_SECRET));                 /* never returned */
    pl_test_http_resp_free (&resp);
    assert_int_equal (nx_api (f, NX_TOKEN_A, "GET", "/v1/webhooks", NULL, &resp), 200);
    assert_non_null (strstr (resp.body, id));
    assert_null (strstr (resp.body, other));
    pl_test_http_resp_free (&resp);
    /* crm-b cannot read, list, replay or delete crm-a's. */
    assert_int_equal (nx_api (f, NX_TOKEN_B, "GET", path, NULL, &resp), 404);
    pl_test_http_resp_free (&resp);
    assert_int_equal (nx_api (f, NX_TOKEN_B, "DELETE", path, NULL, &resp), 404);
    pl_test_http_resp_free (&resp);
    snprintf (path, sizeof path, "/v1/webhooks/%s/replay", id);
    assert_int_equal (nx_api (f, NX_TOKEN_B, "POST", path, NULL, &resp), 404);
    pl_test_http_resp_free (&resp);
    snprintf (path, sizeof path, "/v1/webhooks/%s/dead-letters", id);
    assert_int_equal (nx_api (f, NX_TOKEN_B, "GET", path, NULL, &resp), 404);
    pl_test_http_resp_free (&resp);
    assert_int_equal (nx_api (f, NX_TOKEN_A, "GET", path, NULL, &resp), 200);
    assert_non_null (strstr (resp.body, "\"dead_letters\":[]"));
    pl_test_http_resp_free (&resp);

    /* Bad bodies: 400 naming the field; too large: 413. */
    s_expect_field (f, "{\"url\":\"ftp://x/\",\"events\":[\"*\"],\"secret\":\"" NX_SECRET "\"}", 400, "url");
    s_expect_field (f, "{\"url\":\"http://127.0.0.1:1/h\",\"events\":[\"lead.nope\"],\"secret\":\"" NX_SECRET "\"}", 400, "events");
    s_expect_field (f, "{\"url\":\"http://127.0.0.1:1/h\",\"events\":[],\"secret\":\"" NX_SECRET "\"}", 400, "events");
    s_expect_field (f, "{\"url\":\"http://127.0.0.1:1/h\",\"events\":[\"*\"],\"secret\":\"short\"}", 400, "secret");
    s_expect_field (f, "{\"url\":\"http://127.0.0.1:1/h\",\"events\":[\"*\"],\"secret\":\"" NX_SECRET "\",\"x\":1}", 400, "x");
    char *big = malloc (20000);
    int k = snprintf (big, 20000, "{\"url\":\"http://127.0.0.1:1/h\",\"events\":[\"*\"],\"secret\":\"" NX_SECRET "\",\"description\":\"");
    memset (big + k, 'a', 17000);
    strcpy (big + k + 17000, "\"}");
    s_expect_field (f, big, 413, NULL);
    free (big);

    snprintf (path, sizeof path, "/v1/webhooks/%s", id);
    assert_int_equal (nx_api (f, NX_TOKEN_A, "DELETE", path, NULL, &resp), 204);
    pl_test_http_resp_free (&resp);
    assert_int_equal (nx_api (f, NX_TOKEN_A, "GET", path, NULL, &resp), 404);
    pl_test_http_resp_free (&resp);
}

/* Who may call the API and with what: no token or a stranger's is 401; production URL rules
 * (https only, no private, loopback or link-local address) refuse naming the field; a body
 * that is not JSON is 415; a source has at most its limit of webhooks (409); an id that names
 * none is 404. */
static void
test_the_api_refuses_strangers_private_urls_and_more_than_the_limit (void **state)
{
    nx_t *f = *state;
    const char *extra[] = { "PLATEAU_NOTIFY_ALLOW_INSECURE_URLS=0", "PLATEAU_NOTIFY_MAX_SUBSCRIPTIONS=2", NULL };
    s_up (f, extra);
    pl_test_http_resp_t resp = { 0 };
    assert_int_equal (pl_test_http_request (f->http_port, "GET", "/v1/webhooks", NULL, NULL, 0, &resp), 401);
    pl_test_http_resp_free (&resp);
    assert_int_equal (nx_api (f, "0123456789abcdef-stranger", "GET", "/v1/webhooks", NULL, &resp), 401);
    pl_test_http_resp_free (&resp);
    assert_int_equal (nx_api (f, "0123456789abcdef-stranger", "POST", "/v1/webhooks", "{}", &resp), 401);
    pl_test_http_resp_free (&resp);

    static const char *const refused[] = { "http://crm.example.com/h", "https://127.0.0.1/h", "https://[::1]/h",
                                           "https://169.254.169.254/latest/meta-data", "https://localhost/h",
                                           "https://10.0.0.8/h", "https://192.168.1.20/h" };
    char body[600];
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        snprintf (body, sizeof body, "{\"url\":\"%s\",\"events\":[\"*\"],\"secret\":\"" NX_SECRET "\"}", refused[i]);
        s_expect_field (f, body, 400, "url");
    }
    snprintf (body, sizeof body, "{\"url\":\"https://crm.example.com/hooks\",\"events\":[\"*\"],\"secret\":\"" NX_SECRET "\"}");
    char headers[200];
    snprintf (headers, sizeof headers, "Authorization: Bearer %s\r\nContent-Type: text/plain\r\n", NX_TOKEN_A);
    assert_int_equal (pl_test_http_request (f->http_port, "POST", "/v1/webhooks", headers, body, strlen (body), &resp), 415);
    pl_test_http_resp_free (&resp);

    for (int i = 0; i < 2; i++) {
        assert_int_equal (nx_api (f, NX_TOKEN_A, "POST", "/v1/webhooks", body, &resp), 201);
        pl_test_http_resp_free (&resp);
    }
    assert_int_equal (nx_api (f, NX_TOKEN_A, "POST", "/v1/webhooks", body, &resp), 409);
    pl_test_http_resp_free (&resp);
    assert_int_equal (nx_api (f, NX_TOKEN_B, "POST", "/v1/webhooks", body, &resp), 201);   /* per source */
    pl_test_http_resp_free (&resp);

    char path[400] = "/v1/webhooks/";
    memset (path + strlen (path), 'x', 300);
    assert_int_equal (nx_api (f, NX_TOKEN_A, "GET", path, NULL, &resp), 404);
    pl_test_http_resp_free (&resp);
}

static void
test_events_are_delivered_signed_once_in_order_and_not_again_after_a_restart (void **state)
{
    nx_t *f = *state;
    s_up (f, NULL);
    char id[64];
    assert_int_equal (nx_subscribe (f, NX_TOKEN_A, "[\"*\"]", id, sizeof id), 201);
    s_send_story (f, "L1");
    s_send_story (f, "L2");
    s_two_stories_received (f);
    assert_int_equal (atomic_load (&f->rx.bad_signatures), 0);

    /* Killed once every attempt is recorded (a kill between the receiver's 200 and the record
     * sends that one again: at least once), and started again: the cursor and the queue are in
     * Redis; nothing is sent twice. */
    assert_true (pl_test_wait_until (s_nothing_pending, f, 10000));
    pl_test_stop (f->pid, SIGKILL, 5000);
    s_up (f, NULL);
    s_send_story (f, "L3");
    nx_wait_t w = { f, 15 };
    assert_true (pl_test_wait_until (nx_got_fn, &w, 20000));
    usleep (500 * 1000);
    assert_int_equal (f->rx.n_got, 15);                 /* every one exactly once */
    char *body = NULL;
    assert_int_equal (pl_test_http_get (f->ops_port, "/metrics", &body), 200);
    /* This process delivered the third lead's five. */
    assert_non_null (strstr (body, "plateau_notify_deliveries_total{outcome=\"delivered\"} 5"));
    free (body);
}

static void
test_a_receiver_down_for_a_while_gets_every_event_in_order_once_back (void **state)
{
    nx_t *f = *state;
    char id[64];
    s_two_stories_while_down (f, id, sizeof id);
    ax_pump (f->audit, 3000, false);                    /* retried while down */
    assert_int_equal (nx_rx_distinct (&f->rx), 0);
    atomic_store (&f->rx.status, 200);
    s_two_stories_received (f);
    char *body = NULL;
    assert_int_equal (pl_test_http_get (f->ops_port, "/metrics", &body), 200);
    assert_non_null (strstr (body, "plateau_notify_deliveries_total{outcome=\"retry\"}"));
    assert_null (strstr (body, "plateau_notify_deliveries_total{outcome=\"retry\"} 0"));
    free (body);
}

static void
test_a_permanent_refusal_is_a_dead_letter_and_replay_sends_it_again (void **state)
{
    nx_t *f = *state;
    snprintf (f->rx.permanent_type, sizeof f->rx.permanent_type, "call.outcome");
    s_up (f, NULL);
    char id[64], path[160];
    assert_int_equal (nx_subscribe (f, NX_TOKEN_A, "[\"*\"]", id, sizeof id), 201);
    s_send_story (f, "L1");
    nx_wait_t w = { f, 4 };                             /* all but the refused one */
    assert_true (pl_test_wait_until (nx_got_fn, &w, 20000));
    pl_test_http_resp_t resp = { 0 };
    snprintf (path, sizeof path, "/v1/webhooks/%s/dead-letters", id);
    assert_int_equal (nx_api (f, NX_TOKEN_A, "GET", path, NULL, &resp), 200);
    assert_non_null (strstr (resp.body, "\"type\":\"call.outcome\""));
    assert_non_null (strstr (resp.body, "\"last_status\":410"));
    assert_non_null (strstr (resp.body, "\"lead_id\":\"L1\""));
    pl_test_http_resp_free (&resp);
    f->rx.permanent_type[0] = '\0';
    /* The operator's view and replay: plateauctl webhooks, with the CRM source's token. */
    char url[64], *out = NULL;
    snprintf (url, sizeof url, "http://127.0.0.1:%d", f->http_port);
    char *dead[] = { "webhooks", "dead-letters", id, "--url", url, "--token", NX_TOKEN_A, NULL };
    assert_int_equal (ax_ctl (dead, &out), 0);
    assert_non_null (strstr (out, "call.outcome"));
    assert_non_null (strstr (out, "lead L1"));
    free (out);
    char *list[] = { "webhooks", "list", "--url", url, "--token", NX_TOKEN_A, NULL };
    assert_int_equal (ax_ctl (list, &out), 0);
    assert_non_null (strstr (out, id));
    free (out);
    char *replay[] = { "webhooks", "replay", id, "--url", url, "--token", NX_TOKEN_A, NULL };
    assert_int_equal (ax_ctl (replay, &out), 0);
    assert_non_null (strstr (out, "1 dead letters queued again"));
    free (out);
    w.want = 5;
    assert_true (pl_test_wait_until (nx_got_fn, &w, 20000));
}

/* GET /v1/webhooks/{id} as crm-a: the subscription, or NULL unless 200. */
static json_t *
s_webhook (nx_t *f, const char *id)
{
    char path[160];
    snprintf (path, sizeof path, "/v1/webhooks/%s", id);
    pl_test_http_resp_t resp = { 0 };
    json_t *o = nx_api (f, NX_TOKEN_A, "GET", path, NULL, &resp) == 200 ? json_loads (resp.body, 0, NULL) : NULL;
    pl_test_http_resp_free (&resp);
    return o;
}

static bool
s_status_is (nx_t *f, const char *id, const char *status)
{
    json_t *o = s_webhook (f, id);
    const char *st = json_string_value (json_object_get (o, "status"));
    bool ok = st && strcmp (st, status) == 0;
    json_decref (o);
    return ok;
}

static char s_sub[64];
static bool
s_paused (void *arg)
{
    return s_status_is (arg, s_sub, "paused");
}

static bool
s_metric_paused (void *arg)
{
    nx_t *f = arg;
    char *body = NULL;
    bool ok = pl_test_http_get (f->ops_port, "/metrics", &body) == 200
           && strstr (body, "plateau_notify_subscriptions_paused 1");
    free (body);
    return ok;
}

static void
test_a_failing_endpoint_is_paused_visibly_and_a_probe_resumes_it (void **state)
{
    nx_t *f = *state;
    atomic_store (&f->rx.status, 500);
    s_up (f, (const char *[]) { "PLATEAU_NOTIFY_PAUSE_AFTER=3", "PLATEAU_NOTIFY_PROBE_INTERVAL=1s",
                                "PLATEAU_NOTIFY_MAX_ATTEMPTS=1000", NULL });
    assert_int_equal (nx_subscribe (f, NX_TOKEN_A, "[\"*\"]", s_sub, sizeof s_sub), 201);
    s_send_story (f, "L1");
    assert_true (pl_test_wait_until (s_paused, f, 20000));
    assert_true (pl_test_wait_until (s_metric_paused, f, 10000));
    char *body = NULL;
    assert_int_equal (pl_test_http_get (f->ops_port, "/readyz", &body), 200);     /* a warning */
    assert_non_null (strstr (body, "paused"));
    free (body);
    atomic_store (&f->rx.status, 200);                  /* the next probe resumes it */
    nx_wait_t w = { f, 5 };
    assert_true (pl_test_wait_until (nx_got_fn, &w, 20000));
    assert_true (s_status_is (f, s_sub, "active"));
}

static void
test_sigkill_mid_delivery_loses_no_event (void **state)
{
    nx_t *f = *state;
    atomic_store (&f->rx.delay_ms, 700);                /* a slow receiver: transfers in flight */
    s_up (f, NULL);
    char id[64];
    assert_int_equal (nx_subscribe (f, NX_TOKEN_A, "[\"*\"]", id, sizeof id), 201);
    s_send_story (f, "L1");
    s_send_story (f, "L2");
    nx_wait_t w = { f, 1 };
    assert_true (pl_test_wait_until (nx_got_fn, &w, 20000));
    pl_test_stop (f->pid, SIGKILL, 5000);               /* the next ones are in flight */
    atomic_store (&f->rx.delay_ms, 0);
    s_up (f, NULL);
    s_two_stories_received (f);
}

static bool
s_pending_at_least (void *arg)
{
    nx_t *f = s_f;
    ax_pump (f->audit, 10, false);
    return pl_test_redis_int (f->srv, "GET pl:{notify}:pending") >= (long long) (intptr_t) arg;
}

static const char *s_waiting_sub;
static bool
s_waiting_none (void *arg)
{
    json_t *o = s_webhook (arg, s_waiting_sub);
    bool none = o && json_integer_value (json_object_get (o, "leads_waiting")) == 0;
    json_decref (o);
    return none;
}

static nx_receiver_t *s_slow_rx;
static bool
s_slow_got (void *arg)
{
    ax_pump (s_f->audit, 10, false);
    return nx_rx_distinct (s_slow_rx) >= (int) (intptr_t) arg;
}

/* A slow endpoint with a long backlog (a CRM answering in seconds, thousands of leads due) holds
 * back only itself: another endpoint's events, due after the whole backlog, are sent at once. */
static void
test_a_slow_endpoint_with_a_backlog_does_not_hold_back_the_others (void **state)
{
    nx_t *f = *state;
    nx_receiver_t slow = { 0 };
    assert_int_equal (nx_rx_start (&slow), 0);
    atomic_store (&slow.delay_ms, 1500);
    s_up (f, (const char *[]) { "PLATEAU_NOTIFY_MAX_PER_ENDPOINT=4", "PLATEAU_NOTIFY_TIMEOUT=10s", NULL });
    char body[512], slow_id[64], fast_id[64];
    snprintf (body, sizeof body,
              "{\"url\":\"http://127.0.0.1:%d/hooks\",\"events\":[\"lead.verdict\"],\"secret\":\"%s\"}",
              slow.port, NX_SECRET);
    pl_test_http_resp_t resp = { 0 };
    assert_int_equal (nx_api (f, NX_TOKEN_A, "POST", "/v1/webhooks", body, &resp), 201);
    json_t *o = json_loads (resp.body, 0, NULL);
    snprintf (slow_id, sizeof slow_id, "%s", json_string_value (json_object_get (o, "id")));
    json_decref (o);
    pl_test_http_resp_free (&resp);
    /* 400 leads for the slow endpoint alone: its backlog, due now. */
    char lead[32];
    for (int i = 0; i < 400; i++) {
        snprintf (lead, sizeof lead, "S%03d", i);
        assert_int_equal (nx_send (f, "lead.accepted", lead, 0), 0);
        assert_int_equal (nx_send (f, "scrub.verdict", lead, 1), 0);
    }
    assert_true (pl_test_wait_until (s_pending_at_least, (void *) (intptr_t) 390, 30000));
    /* Then a fast endpoint, and five leads for both. */
    assert_int_equal (nx_subscribe (f, NX_TOKEN_A, "[\"lead.verdict\"]", fast_id, sizeof fast_id), 201);
    for (int i = 0; i < 5; i++) {
        snprintf (lead, sizeof lead, "F%d", i);
        assert_int_equal (nx_send (f, "lead.accepted", lead, 0), 0);
        assert_int_equal (nx_send (f, "scrub.verdict", lead, 1), 0);
    }
    nx_wait_t w = { f, 5 };
    assert_true (pl_test_wait_until (nx_got_fn, &w, 15000));
    int slow_got = nx_rx_distinct (&slow);
    print_message ("fast endpoint: 5 of 5 while the slow one had %d of 405\n", slow_got);
    assert_true (slow_got < 200);                       /* the backlog was still there */
    /* and it shows, on the slow subscription only */
    o = s_webhook (f, slow_id);
    assert_non_null (o);
    long long waiting = json_integer_value (json_object_get (o, "leads_waiting"));
    print_message ("slow endpoint: %lld leads waiting\n", waiting);
    assert_true (waiting <= 405 && waiting >= 405 - slow_got - 8);     /* a few more may end meanwhile */
    json_decref (o);
    /* the fast one's last delivery is recorded a moment after the receiver has it */
    s_waiting_sub = fast_id;
    assert_true (pl_test_wait_until (s_waiting_none, f, 5000));
    s_slow_rx = &slow;                                  /* and it is served meanwhile, 4 at a time */
    assert_true (pl_test_wait_until (s_slow_got, (void *) (intptr_t) 8, 15000));
    pl_http_destroy (&slow.http);
    pthread_mutex_destroy (&slow.mu);
}

/* Heads queued by an earlier version, in one set of every "<sub>|<lead>", are moved to their
 * subscription's set at start and delivered, in order, once. */
static void
test_heads_queued_by_an_earlier_version_are_delivered (void **state)
{
    nx_t *f = *state;
    char id[64];
    s_two_stories_while_down (f, id, sizeof id);
    assert_true (pl_test_wait_until (s_pending_at_least, (void *) (intptr_t) 10, 20000));
    assert_true (pl_test_stop (f->pid, SIGKILL, 5000) >= 0);
    f->pid = 0;
    /* Back to the earlier layout. */
    redisContext *c = redisConnect ("127.0.0.1", pl_test_redis_port (f->srv));
    assert_true (c && !c->err);
    char key[128];
    snprintf (key, sizeof key, "pl:{notify}:due:%s", id);
    redisReply *r = redisCommand (c, "ZRANGE %s 0 -1 WITHSCORES", key);
    assert_true (r && r->type == REDIS_REPLY_ARRAY && r->elements == 4);      /* L1 and L2 */
    for (size_t i = 0; i < r->elements; i += 2)
        freeReplyObject (redisCommand (c, "ZADD pl:{notify}:due %s %s|%s", r->element[i + 1]->str, id,
                                       r->element[i]->str));
    freeReplyObject (r);
    freeReplyObject (redisCommand (c, "DEL %s pl:{notify}:subdue", key));
    redisFree (c);
    atomic_store (&f->rx.status, 200);
    s_up (f, NULL);
    s_two_stories_received (f);
    assert_true (pl_test_wait_until (s_nothing_pending, f, 10000));
    assert_int_equal (pl_test_redis_int (f->srv, "EXISTS pl:{notify}:due"), 0);
}

static void
test_readiness_follows_redis_without_restart (void **state)
{
    nx_t *f = *state;
    s_up (f, NULL);
    pl_test_redis_kill (f->srv);
    assert_true (pl_test_wait_until (s_ready_is, (void *) (intptr_t) 503, 10000));
    assert_int_equal (pl_test_http_get (f->ops_port, "/healthz", NULL), 200);
    assert_int_equal (pl_test_redis_restart (f->srv), 0);
    assert_true (pl_test_wait_until (s_ready_is, (void *) (intptr_t) 200, 15000));
}

static void
test_sigterm_drains_and_exits_within_the_grace_period (void **state)
{
    nx_t *f = *state;
    s_up (f, (const char *[]) { "PLATEAU_GRACE_PERIOD=2s", NULL });
    int64_t t0 = pl_clock_mono_ms ();
    int status = pl_test_stop (f->pid, SIGTERM, 10000);
    f->pid = 0;
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    assert_true (pl_clock_mono_ms () - t0 < 3000);
    assert_true (pl_test_file_has (f->log, "draining"));
}

static int
setup (void **state)
{
    s_f = nx_new ();
    *state = s_f;
    return s_f ? 0 : -1;
}

static int
teardown (void **state)
{
    nx_t *f = *state;
    nx_destroy (&f);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_bad_configuration_exits_2_naming_the_variable, setup, teardown),
        cmocka_unit_test_setup_teardown (test_the_api_refuses_strangers_private_urls_and_more_than_the_limit, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_source_sees_only_its_own_webhooks_and_bad_bodies_name_the_field, setup, teardown),
        cmocka_unit_test_setup_teardown (test_events_are_delivered_signed_once_in_order_and_not_again_after_a_restart, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_receiver_down_for_a_while_gets_every_event_in_order_once_back, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_permanent_refusal_is_a_dead_letter_and_replay_sends_it_again, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_failing_endpoint_is_paused_visibly_and_a_probe_resumes_it, setup, teardown),
        cmocka_unit_test_setup_teardown (test_sigkill_mid_delivery_loses_no_event, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_slow_endpoint_with_a_backlog_does_not_hold_back_the_others, setup, teardown),
        cmocka_unit_test_setup_teardown (test_heads_queued_by_an_earlier_version_are_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown (test_readiness_follows_redis_without_restart, setup, teardown),
        cmocka_unit_test_setup_teardown (test_sigterm_drains_and_exits_within_the_grace_period, setup, teardown),
    };
    return cmocka_run_group_tests_name ("notify", tests, NULL, NULL);
}
