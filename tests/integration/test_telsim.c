/*  test_telsim.c — plateau-telsim as a process, against a real Redis and a real bus, on a
 *  running virtual clock (x100): the test sends CallRequests as the dialer and receives what
 *  telephony answers on a bus server bound as the dialer. A request resent (same envelope, or a
 *  new envelope for the same dial id) places one call; a request past its place_before_ms is not
 *  placed; a sender other than the dialer is refused; calls end with outcomes and dispositions;
 *  a bad configuration exits 2 naming the variable.
 *
 *  The harness's key list has no telsim identity, so this test writes its own: telsim, dialer
 *  and crm (the forger).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pl_test.h"
#include "plateau/bus.h"
#include "plateau/clock.h"
#include "plateau/envelope.h"
#include "plateau/redis.h"

#define MAXSEEN 4096
#define SPEED 100

typedef struct {
    int body_case;
    char id[160];
    char about[128];        /* dial id, or agent id */
    int what;               /* stage, result, state or code */
    int64_t started_at_ms;
} seen_t;

typedef struct {
    pl_test_redis_t *srv;
    char *dir;
    char keys[600], key_telsim[600], key_dialer[600], key_crm[600];
    pl_bus_options_t dialer_opts, crm_opts;
    char dialer_bus[64], telsim_bus[64], log[600];
    int ops_port;
    pl_bus_server_t *dialer;
    pid_t pid;
    int64_t start_ms, anchor_ms;
    pl_clock_t *clock;
    pl_redis_t *redis;
    pl_bus_client_t *as_dialer;
    seen_t seen[MAXSEEN];
    size_t nseen;
} fx_t;

static void
s_on_dialer (void *arg, pl_bus_msg_t **msgs, size_t n)
{
    fx_t *f = arg;
    for (size_t i = 0; i < n; i++) {
        const pl_envelope_t *e = pl_bus_msg_envelope (msgs[i]);
        if (f->nseen < MAXSEEN) {
            seen_t *s = &f->seen[f->nseen++];
            memset (s, 0, sizeof *s);
            s->body_case = e->body_case;
            snprintf (s->id, sizeof s->id, "%s", e->id);
            switch (e->body_case) {
            case PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS:
                snprintf (s->about, sizeof s->about, "%s", e->call_progress->dial_id);
                s->what = e->call_progress->stage;
                break;
            case PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME:
                snprintf (s->about, sizeof s->about, "%s", e->call_outcome->dial_id);
                s->what = e->call_outcome->result;
                s->started_at_ms = e->call_outcome->started_at_ms;
                break;
            case PLATEAU__V1__ENVELOPE__BODY_AGENT_STATE:
                snprintf (s->about, sizeof s->about, "%s", e->agent_state->agent_id);
                s->what = e->agent_state->state;
                break;
            case PLATEAU__V1__ENVELOPE__BODY_DISPOSITION:
                snprintf (s->about, sizeof s->about, "%s", e->disposition->dial_id);
                s->what = e->disposition->code;
                break;
            default:
                break;
            }
        }
        pl_bus_msg_ack (msgs[i]);
    }
}

static void
s_pump (fx_t *f, int ms)
{
    int64_t end = pl_clock_mono_ms () + ms;
    do {
        pl_bus_server_process (f->dialer, 256);
        if (f->as_dialer) {
            pl_bus_client_process (f->as_dialer);
            pl_bus_client_tick (f->as_dialer);
        }
        usleep (5000);
    } while (pl_clock_mono_ms () < end);
}

static size_t
s_count (fx_t *f, int body_case, const char *about, int what)
{
    size_t k = 0;
    for (size_t i = 0; i < f->nseen; i++)
        k += f->seen[i].body_case == body_case && (!about || strcmp (f->seen[i].about, about) == 0)
             && (what < 0 || f->seen[i].what == what);
    return k;
}

/* Waits (real time) until at least `want` messages match. */
static bool
s_wait (fx_t *f, int body_case, const char *about, int what, size_t want, int ms)
{
    int64_t end = pl_clock_mono_ms () + ms;
    while (s_count (f, body_case, about, what) < want && pl_clock_mono_ms () < end)
        s_pump (f, 20);
    return s_count (f, body_case, about, what) >= want;
}

static int64_t
s_virtual_now (fx_t *f)
{
    return f->start_ms + (pl_clock_now_ms (NULL) - f->anchor_ms) * SPEED;
}

static void
s_keypair (fx_t *f, const char *who, char *secret, FILE *list)
{
    char pub[700], line[64] = "";
    snprintf (pub, sizeof pub, "%s/%s.pub", f->dir, who);
    snprintf (secret, 600, "%s/%s.key", f->dir, who);
    assert_int_equal (pl_bus_curve_keygen (pub, secret), 0);
    FILE *in = fopen (pub, "r");
    assert_non_null (in);
    assert_non_null (fgets (line, sizeof line, in));
    fclose (in);
    fprintf (list, "%s %s", who, line);
}

static pid_t
s_spawn (fx_t *f, const char *extra, const char *log)
{
    static char env[16][700];
    int k = 0;
    snprintf (env[k++], sizeof env[0], "PLATEAU_REDIS_URL=%s", pl_test_redis_url (f->srv));
    snprintf (env[k++], sizeof env[0], "PLATEAU_OPS_PORT=%d", f->ops_port);
    snprintf (env[k++], sizeof env[0], "PLATEAU_OPS_ADDR=127.0.0.1");
    snprintf (env[k++], sizeof env[0], "PLATEAU_BUS_BIND=%s", f->telsim_bus);
    snprintf (env[k++], sizeof env[0], "PLATEAU_DIALER_BUS=%s", f->dialer_bus);
    snprintf (env[k++], sizeof env[0], "PLATEAU_REPLICA_ID=telsim-0");
    snprintf (env[k++], sizeof env[0], "PLATEAU_CURVE_SECRET_KEY_FILE=%s", f->key_telsim);
    snprintf (env[k++], sizeof env[0], "PLATEAU_BUS_KEYS_FILE=%s", f->keys);
    snprintf (env[k++], sizeof env[0], "PLATEAU_CLOCK=virtual:%lld@%lldx%d", (long long) f->start_ms,
              (long long) f->anchor_ms, SPEED);
    snprintf (env[k++], sizeof env[0], "PLATEAU_TELSIM_AGENTS=it:3");
    snprintf (env[k++], sizeof env[0], "PLATEAU_TELSIM_SEED=11");
    snprintf (env[k++], sizeof env[0], "PLATEAU_TELSIM_PAUSE_RATE=0");
    snprintf (env[k++], sizeof env[0], "PLATEAU_TELSIM_SNAPSHOT_EVERY=1s");
    if (extra)
        snprintf (env[k++], sizeof env[0], "%s", extra);
    char *envp[17];
    for (int i = 0; i < k; i++)
        envp[i] = env[i];
    envp[k] = NULL;
    char *argv[] = { "plateau-telsim", NULL };
    return pl_test_spawn (argv, envp, log);
}

static void
s_dump (const char *path)
{
    char buf[4096];
    size_t n;
    FILE *fp = fopen (path, "r");
    while (fp && (n = fread (buf, 1, sizeof buf, fp)) > 0)
        fwrite (buf, 1, n, stderr);
    if (fp)
        fclose (fp);
}

static int
s_setup (void **state)
{
    signal (SIGPIPE, SIG_IGN);
    fx_t *f = calloc (1, sizeof *f);
    *state = f;
    f->srv = pl_test_redis_start (NULL);
    if (!f->srv)
        return -1;
    f->dir = pl_test_tmpdir ("pl-telsim");
    snprintf (f->keys, sizeof f->keys, "%s/keys", f->dir);
    FILE *list = fopen (f->keys, "w");
    s_keypair (f, "telsim", f->key_telsim, list);
    s_keypair (f, "dialer", f->key_dialer, list);
    s_keypair (f, "crm", f->key_crm, list);
    fclose (list);
    f->dialer_opts = (pl_bus_options_t) { .curve_secret_key_file = f->key_dialer, .keys_file = f->keys };
    f->crm_opts = (pl_bus_options_t) { .curve_secret_key_file = f->key_crm, .keys_file = f->keys };
    snprintf (f->dialer_bus, sizeof f->dialer_bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
    char err[256];
    f->dialer = pl_bus_server_new (f->dialer_bus, &f->dialer_opts, err, sizeof err);
    if (!f->dialer)
        return -1;
    pl_bus_server_allow (f->dialer, "*", "*");
    pl_bus_server_set_handler (f->dialer, s_on_dialer, f, NULL);
    f->clock = pl_clock_new_real ();
    f->redis = pl_redis_new (pl_test_redis_url (f->srv), 1000);
    f->start_ms = 1796630400000LL;                       /* 2026-12-05 09:00 in Paris */
    snprintf (f->log, sizeof f->log, "%s/telsim.log", f->dir);
    for (int attempt = 0; attempt < 3 && !f->pid; attempt++) {
        f->ops_port = pl_test_free_port ();
        snprintf (f->telsim_bus, sizeof f->telsim_bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
        f->anchor_ms = pl_clock_now_ms (NULL);
        f->pid = s_spawn (f, NULL, f->log);
        if (f->pid > 0 && pl_test_wait_started (f->pid, f->log, 20000))
            break;
        pl_test_stop (f->pid, SIGKILL, 2000);
        f->pid = 0;
    }
    if (!f->pid) {
        s_dump (f->log);
        return -1;
    }
    f->as_dialer = pl_bus_client_new (f->redis, f->clock, "dialer-test", "telsim", f->telsim_bus, &f->dialer_opts,
                                      err, sizeof err);
    return f->as_dialer ? 0 : -1;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    if (!f)
        return 0;
    if (f->pid > 0) {
        s_dump (f->log);
        pl_test_stop (f->pid, SIGTERM, 10000);
    }
    pl_bus_client_destroy (&f->as_dialer);
    pl_bus_server_destroy (&f->dialer);
    pl_redis_destroy (&f->redis);
    pl_clock_destroy (&f->clock);
    pl_test_redis_stop (&f->srv);
    if (f->dir) {
        pl_test_rmdir (f->dir);
        free (f->dir);
    }
    free (f);
    return 0;
}

/* A CallRequest envelope (storage in the caller's structs). */
static pl_envelope_t *
s_request (fx_t *f, pl_envelope_t *env, pl_envelope_ids_t *ids, Plateau__V1__CallRequest *q, const char *dial_id,
           const char *agent, int64_t place_before)
{
    pl_envelope_init (env, ids, "dialer", f->clock, NULL);
    *q = (Plateau__V1__CallRequest) PLATEAU__V1__CALL_REQUEST__INIT;
    q->dial_id = (char *) dial_id;
    q->lead_id = "lead-it";
    q->campaign = "it";
    q->number = "+33612345678";
    q->tenant = "acme";
    q->ring_timeout_s = 30;
    q->agent_id = (char *) agent;
    q->requested_at_ms = s_virtual_now (f);
    q->place_before_ms = place_before;
    q->kind = PLATEAU__V1__CALL_KIND__CANVASSING;
    env->body_case = PLATEAU__V1__ENVELOPE__BODY_CALL_REQUEST;
    env->call_request = q;
    return env;
}

static void
s_send (fx_t *f, pl_bus_client_t *c, pl_envelope_t *env)
{
    pl_envelope_t *envs[1] = { env };
    assert_int_equal (pl_bus_client_send (c, envs, 1), 0);
    for (int i = 0; i < 500 && pl_bus_client_inflight (c) > 0; i++) {
        pl_bus_client_process (c);
        pl_bus_client_tick (c);
        s_pump (f, 10);
    }
}

static void
test_agents_are_announced_ready_at_start (void **state)
{
    fx_t *f = *state;
    assert_true (s_wait (f, PLATEAU__V1__ENVELOPE__BODY_AGENT_STATE, NULL, PLATEAU__V1__AGENT_STATE__STATE__READY, 3, 15000));
    assert_true (s_count (f, PLATEAU__V1__ENVELOPE__BODY_AGENT_STATE, "it-a001", -1) >= 1);
    assert_true (s_count (f, PLATEAU__V1__ENVELOPE__BODY_AGENT_STATE, "it-a003", -1) >= 1);
}

static void
test_the_floor_is_sent_again_as_a_snapshot (void **state)
{
    fx_t *f = *state;
    size_t before = s_count (f, PLATEAU__V1__ENVELOPE__BODY_AGENT_STATE, "it-a003", -1);
    assert_true (s_wait (f, PLATEAU__V1__ENVELOPE__BODY_AGENT_STATE, "it-a003", -1, before + 2, 10000));
}

static void
test_a_resent_request_places_one_call (void **state)
{
    fx_t *f = *state;
    pl_envelope_t env, env2;
    pl_envelope_ids_t ids, ids2;
    Plateau__V1__CallRequest q, q2;
    s_request (f, &env, &ids, &q, "it-once", "it-a001", 0);
    s_send (f, f->as_dialer, &env);
    /* the same envelope again, from another sender's outbox (a resend after a lost ack) */
    char err[256];
    pl_bus_client_t *again = pl_bus_client_new (f->redis, f->clock, "dialer-test-2", "telsim", f->telsim_bus,
                                                &f->dialer_opts, err, sizeof err);
    assert_non_null (again);
    s_send (f, again, &env);
    /* and a new envelope for the same dial id */
    s_request (f, &env2, &ids2, &q2, "it-once", "it-a001", 0);
    s_send (f, again, &env2);
    assert_int_equal (pl_bus_client_count (again, "acked"), 2);
    pl_bus_client_destroy (&again);
    assert_true (s_wait (f, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, "it-once", -1, 1, 30000));
    s_pump (f, 500);
    assert_int_equal (s_count (f, PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS, "it-once",
                               PLATEAU__V1__CALL_PROGRESS__STAGE__PLACED), 1);
    assert_int_equal (s_count (f, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, "it-once", -1), 1);
    /* the reserved agent went ON_CALL at once */
    assert_true (s_count (f, PLATEAU__V1__ENVELOPE__BODY_AGENT_STATE, "it-a001", PLATEAU__V1__AGENT_STATE__STATE__ON_CALL) >= 1);
    long long claims = pl_test_redis_int (f->srv, "EXISTS pl:{camp:it}:telsim:dial:it-once");
    assert_int_equal (claims, 1);
}

static void
test_a_request_past_place_before_is_not_placed (void **state)
{
    fx_t *f = *state;
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    Plateau__V1__CallRequest q;
    s_request (f, &env, &ids, &q, "it-late", "", s_virtual_now (f) - 1000);
    s_send (f, f->as_dialer, &env);
    assert_true (s_wait (f, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, "it-late", PLATEAU__V1__CALL_OUTCOME__RESULT__FAILED, 1, 15000));
    for (size_t i = 0; i < f->nseen; i++)
        if (strcmp (f->seen[i].about, "it-late") == 0 && f->seen[i].body_case == PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME) {
            assert_int_equal (f->seen[i].started_at_ms, 0);
            assert_string_equal (f->seen[i].id, "it-late.outcome");
        }
    s_pump (f, 300);
    assert_int_equal (s_count (f, PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS, "it-late", -1), 0);
    assert_true (pl_test_file_has (f->log, "not placed"));
}

/* A reserved line placed without its agent would take another agent or be abandoned, outside
 * the abandon budget: telsim answers FAILED, not placed, when the agent named is not READY. */
static void
test_a_request_for_an_agent_not_ready_is_not_placed (void **state)
{
    fx_t *f = *state;
    pl_envelope_t env[3];
    pl_envelope_ids_t ids[3];
    Plateau__V1__CallRequest q[3];
    pl_envelope_t *envs[3] = {
        s_request (f, &env[0], &ids[0], &q[0], "it-resv-1", "it-a002", 0),
        s_request (f, &env[1], &ids[1], &q[1], "it-resv-2", "it-a002", 0),    /* same batch, same agent */
        s_request (f, &env[2], &ids[2], &q[2], "it-resv-3", "it-a999", 0),    /* no such agent */
    };
    assert_int_equal (pl_bus_client_send (f->as_dialer, envs, 3), 0);
    assert_true (s_wait (f, PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS, "it-resv-1",
                         PLATEAU__V1__CALL_PROGRESS__STAGE__PLACED, 1, 15000));
    const char *refused[2] = { "it-resv-2", "it-resv-3" };
    for (int k = 0; k < 2; k++) {
        assert_true (s_wait (f, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, refused[k],
                             PLATEAU__V1__CALL_OUTCOME__RESULT__FAILED, 1, 15000));
        for (size_t i = 0; i < f->nseen; i++)
            if (strcmp (f->seen[i].about, refused[k]) == 0
                && f->seen[i].body_case == PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME)
                assert_int_equal (f->seen[i].started_at_ms, 0);
    }
    s_pump (f, 300);
    assert_int_equal (s_count (f, PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS, "it-resv-2", -1), 0);
    assert_int_equal (s_count (f, PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS, "it-resv-3", -1), 0);
    assert_true (pl_test_file_has (f->log, "not READY: not placed"));
    char *body = NULL;
    assert_int_equal (pl_test_http_get (f->ops_port, "/metrics", &body), 200);
    assert_non_null (strstr (body, "plateau_telsim_requests_total{outcome=\"no_agent\"} 2"));
    free (body);
}

static void
test_a_forged_sender_is_refused (void **state)
{
    fx_t *f = *state;
    char err[256];
    pl_bus_client_t *crm = pl_bus_client_new (f->redis, f->clock, "crm-test", "telsim", f->telsim_bus, &f->crm_opts,
                                              err, sizeof err);
    assert_non_null (crm);
    pl_envelope_t env;
    pl_envelope_ids_t ids;
    Plateau__V1__CallRequest q;
    s_request (f, &env, &ids, &q, "it-forged", "", 0);
    s_send (f, crm, &env);
    assert_int_equal (pl_bus_client_count (crm, "dead"), 1);
    pl_bus_client_destroy (&crm);
    s_pump (f, 500);
    assert_int_equal (s_count (f, PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS, "it-forged", -1), 0);
    assert_int_equal (pl_test_redis_int (f->srv, "EXISTS pl:{camp:it}:telsim:dial:it-forged"), 0);
}

static void
test_calls_end_with_outcomes_and_dispositions (void **state)
{
    fx_t *f = *state;
    enum { CALLS = 16 };
    static char names[CALLS][32];
    pl_envelope_t env[CALLS];
    pl_envelope_ids_t ids[CALLS];
    Plateau__V1__CallRequest q[CALLS];
    pl_envelope_t *envs[CALLS];
    for (int i = 0; i < CALLS; i++) {
        snprintf (names[i], sizeof names[i], "it-call-%02d", i);
        envs[i] = s_request (f, &env[i], &ids[i], &q[i], names[i], "", 0);
    }
    assert_int_equal (pl_bus_client_send (f->as_dialer, envs, CALLS), 0);
    size_t before = s_count (f, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, NULL, -1);
    assert_true (s_wait (f, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, NULL, -1, before + CALLS, 60000));
    /* talk (~150 s) and wrap-up (≤ 60 s) take a few real seconds at x100 */
    size_t answered = s_count (f, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, NULL, PLATEAU__V1__CALL_OUTCOME__RESULT__ANSWERED);
    assert_true (answered >= 1);
    assert_true (s_wait (f, PLATEAU__V1__ENVELOPE__BODY_DISPOSITION, NULL, -1, answered, 30000));
    for (int i = 0; i < CALLS; i++)
        assert_int_equal (s_count (f, PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS, names[i],
                                   PLATEAU__V1__CALL_PROGRESS__STAGE__PLACED), 1);
    char *body = NULL;
    assert_int_equal (pl_test_http_get (f->ops_port, "/metrics", &body), 200);
    assert_non_null (strstr (body, "plateau_telsim_agent_ms_total{campaign=\"it\",state=\"ready\"}"));
    assert_non_null (strstr (body, "plateau_telsim_calls_placed_total"));
    free (body);
}

static void
test_a_bad_configuration_exits_2_naming_the_variable (void **state)
{
    fx_t *f = *state;
    char log[700];
    snprintf (log, sizeof log, "%s/bad.log", f->dir);
    int ops = f->ops_port;
    char bus[64];
    memcpy (bus, f->telsim_bus, sizeof bus);
    f->ops_port = 0;                              /* not the running telsim's ports */
    snprintf (f->telsim_bus, sizeof f->telsim_bus, "tcp://127.0.0.1:%d", pl_test_free_port ());
    pid_t pid = s_spawn (f, "PLATEAU_TELSIM_AGENTS=it", log);
    f->ops_port = ops;
    memcpy (f->telsim_bus, bus, sizeof bus);
    int status = pl_test_stop (pid, 0, 10000);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 2);
    if (!pl_test_file_has (log, "PLATEAU_TELSIM_AGENTS"))
        s_dump (log);
    assert_true (pl_test_file_has (log, "PLATEAU_TELSIM_AGENTS"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_agents_are_announced_ready_at_start),
        cmocka_unit_test (test_the_floor_is_sent_again_as_a_snapshot),
        cmocka_unit_test (test_a_resent_request_places_one_call),
        cmocka_unit_test (test_a_request_past_place_before_is_not_placed),
        cmocka_unit_test (test_a_request_for_an_agent_not_ready_is_not_placed),
        cmocka_unit_test (test_a_forged_sender_is_refused),
        cmocka_unit_test (test_calls_end_with_outcomes_and_dispositions),
        cmocka_unit_test (test_a_bad_configuration_exits_2_naming_the_variable),
    };
    return cmocka_run_group_tests_name ("telsim", tests, s_setup, s_teardown);
}
