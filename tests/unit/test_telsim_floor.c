/*  test_telsim_floor.c — the floor as a library on a standing virtual clock, without the bus:
 *  agents log in READY, a predictive call is bridged to the longest-idle agent or abandoned 2 s
 *  after the greeting, a progressive call reserves its agent, and every event happens at its own
 *  virtual instant however far the clock jumps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "floor.h"
#include "plateau/metrics.h"

#define T0 1796630400000LL             /* 2026-12-05 08:00 UTC, 09:00 in Paris */
#define DAY 86400000LL
#define MAXMSG 256

typedef struct {
    pl_envelope_t *env[MAXMSG];
    size_t n;
    pl_clock_t *clock;
    pl_metrics_t *metrics;
    telsim_floor_t *floor;
} fx_t;

static void
s_sink (void *arg, pl_envelope_t *env)
{
    fx_t *fx = arg;
    size_t len;
    uint8_t *buf = pl_envelope_pack (env, &len);
    char err[64];
    assert_non_null (buf);
    assert_true (fx->n < MAXMSG);
    fx->env[fx->n++] = pl_envelope_unpack (buf, len, err, sizeof err);
    free (buf);
}

static fx_t *
s_fx_opts (const char *agents, bool payments)
{
    fx_t *fx = calloc (1, sizeof *fx);
    fx->clock = pl_clock_new_virtual (T0);
    fx->metrics = pl_metrics_new ();
    telsim_floor_opts_t o = { .seed = 1, .amd_false_positive = 0.02, .source = "telsim", .payments = payments };
    fx->floor = telsim_floor_new (&o, fx->clock, fx->metrics, NULL, s_sink, fx);
    assert_non_null (fx->floor);
    assert_int_equal (telsim_floor_add_agents (fx->floor, agents, T0), 0);
    return fx;
}

static fx_t *
s_fx (const char *agents)
{
    return s_fx_opts (agents, false);
}

static int
s_teardown (void **state)
{
    fx_t *fx = *state;
    for (size_t i = 0; i < fx->n; i++)
        pl_envelope_free (&fx->env[i]);
    telsim_floor_destroy (&fx->floor);
    pl_metrics_destroy (&fx->metrics);
    pl_clock_destroy (&fx->clock);
    free (fx);
    return 0;
}

static void
s_advance (fx_t *fx, int64_t ms)
{
    pl_clock_advance (fx->clock, ms);
    telsim_floor_run (fx->floor, pl_clock_now_ms (fx->clock));
}

static int64_t
s_now (fx_t *fx)
{
    return pl_clock_now_ms (fx->clock);
}

static Plateau__V1__CallRequest
s_req (const char *dial_id, const char *agent)
{
    Plateau__V1__CallRequest q = PLATEAU__V1__CALL_REQUEST__INIT;
    q.dial_id = (char *) dial_id;
    q.lead_id = "lead-1";
    q.campaign = "c";
    q.number = "+33612345678";
    q.tenant = "acme";
    q.ring_timeout_s = 30;
    q.agent_id = (char *) agent;
    q.kind = PLATEAU__V1__CALL_KIND__CANVASSING;
    return q;
}

static telsim_fate_t
s_fate (telsim_pickup_t p, int64_t ring, int64_t talk, int64_t wrap)
{
    return (telsim_fate_t) { .pickup = p, .ring_ms = ring, .talk_ms = talk, .wrap_ms = wrap,
                             .disposition = PLATEAU__V1__DISPOSITION__CODE__NOT_INTERESTED };
}

/* The k-th message of body case bc about dial_id (or agent state of agent), or NULL. */
static const pl_envelope_t *
s_find (fx_t *fx, pl_body_case_t bc, const char *about, int stage)
{
    for (size_t i = 0; i < fx->n; i++) {
        const pl_envelope_t *e = fx->env[i];
        if (e->body_case != bc)
            continue;
        if (bc == PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS && strcmp (e->call_progress->dial_id, about) == 0
            && (int) e->call_progress->stage == stage)
            return e;
        if (bc == PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME && strcmp (e->call_outcome->dial_id, about) == 0)
            return e;
        if (bc == PLATEAU__V1__ENVELOPE__BODY_DISPOSITION && strcmp (e->disposition->dial_id, about) == 0)
            return e;
    }
    return NULL;
}

static int
s_state (fx_t *fx, const char *agent, int64_t *since)
{
    return telsim_floor_agent_state (fx->floor, agent, since);
}

static void
test_agents_log_in_ready_and_are_announced (void **state)
{
    fx_t *fx = *state = s_fx ("fr-canvass:2,us-collect:1");
    assert_int_equal (telsim_floor_agents (fx->floor), 3);
    assert_int_equal (fx->n, 3);
    assert_string_equal (fx->env[0]->agent_state->agent_id, "fr-canvass-a001");
    assert_string_equal (fx->env[2]->agent_state->agent_id, "us-collect-a001");
    assert_int_equal (fx->env[2]->agent_state->state, PLATEAU__V1__AGENT_STATE__STATE__READY);
    assert_string_equal (fx->env[2]->agent_state->campaigns[0], "us-collect");
    assert_int_equal (fx->env[2]->agent_state->since_ms, T0);
    telsim_floor_snapshot (fx->floor);
    assert_int_equal (fx->n, 6);
    char err[128];
    assert_int_not_equal (telsim_floor_agents_check ("fr-canvass", err, sizeof err), 0);
    assert_int_not_equal (telsim_floor_agents_check ("a:0", err, sizeof err), 0);
    assert_int_not_equal (telsim_floor_agents_check ("a b:3", err, sizeof err), 0);
    assert_int_equal (telsim_floor_agents_check ("a:3, b:1", err, sizeof err), 0);
    /* A floor of thousands on one node (the agents benchmark), but not a typo's millions. */
    assert_int_equal (telsim_floor_agents_check ("us-collect:2000", err, sizeof err), 0);
    assert_int_not_equal (telsim_floor_agents_check ("us-collect:10000", err, sizeof err), 0);
}

static void
test_a_pause_rate_is_a_pause_and_a_mean_gap (void **state)
{
    int64_t len, every;
    assert_int_equal (telsim_pause_rate_parse ("5m/2h", &len, &every), 0);
    assert_int_equal (len, 300000);
    assert_int_equal (every, 7200000);
    assert_int_equal (telsim_pause_rate_parse ("0", &len, &every), 0);
    assert_int_equal (len + every, 0);
    assert_int_not_equal (telsim_pause_rate_parse ("5m", &len, &every), 0);
    assert_int_not_equal (telsim_pause_rate_parse ("5/2h", &len, &every), 0);
    assert_int_not_equal (telsim_pause_rate_parse ("0s/2h", &len, &every), 0);
}

static void
test_a_predictive_call_is_bridged_to_the_longest_idle_agent (void **state)
{
    fx_t *fx = *state = s_fx ("c:2");
    /* a001 takes a progressive call that rings out: it is READY again later than a002 */
    Plateau__V1__CallRequest r1 = s_req ("d1", "c-a001");
    telsim_fate_t f1 = s_fate (TELSIM_PICKUP_NO_ANSWER, 30000, 0, 0);
    assert_int_equal (telsim_floor_place_fate (fx->floor, &r1, NULL, s_now (fx), &f1), 0);
    assert_int_equal (s_state (fx, "c-a001", NULL), PLATEAU__V1__AGENT_STATE__STATE__ON_CALL);
    s_advance (fx, 40000);
    assert_int_equal (s_find (fx, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, "d1", 0)->call_outcome->result,
                      PLATEAU__V1__CALL_OUTCOME__RESULT__NO_ANSWER);
    int64_t since;
    assert_int_equal (s_state (fx, "c-a001", &since), PLATEAU__V1__AGENT_STATE__STATE__READY);
    assert_int_equal (since, T0 + 30000);                      /* at the instant, not when run */

    Plateau__V1__CallRequest r2 = s_req ("d2", "");
    telsim_fate_t f2 = s_fate (TELSIM_PICKUP_PERSON, 6000, 120000, 20000);
    f2.disposition = PLATEAU__V1__DISPOSITION__CODE__CALLBACK;
    f2.callback_slot = 1;
    int64_t placed = s_now (fx);
    assert_int_equal (telsim_floor_place_fate (fx->floor, &r2, NULL, placed, &f2), 0);
    s_advance (fx, 3600000);                                   /* one jump over the whole call */
    const pl_envelope_t *b = s_find (fx, PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS, "d2",
                                     PLATEAU__V1__CALL_PROGRESS__STAGE__BRIDGED);
    assert_non_null (b);
    assert_string_equal (b->call_progress->agent_id, "c-a002");
    assert_int_equal (b->call_progress->at_ms, placed + 6000);
    assert_string_equal (b->id, "d2.bridged");
    const Plateau__V1__CallOutcome *o = s_find (fx, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, "d2", 0)->call_outcome;
    assert_int_equal (o->result, PLATEAU__V1__CALL_OUTCOME__RESULT__ANSWERED);
    assert_int_equal (o->agent_connect_ms, 0);
    assert_int_equal (o->started_at_ms, placed);
    assert_int_equal (o->answered_at_ms, placed + 6000);
    assert_int_equal (o->ended_at_ms, placed + 126000);
    assert_string_equal (o->agent_id, "c-a002");
    const pl_envelope_t *d = s_find (fx, PLATEAU__V1__ENVELOPE__BODY_DISPOSITION, "d2", 0);
    assert_string_equal (d->id, "d2.disposition");
    assert_int_equal (d->disposition->at_ms, placed + 146000);
    assert_int_equal (d->disposition->code, PLATEAU__V1__DISPOSITION__CODE__CALLBACK);
    assert_string_equal (d->disposition->tenant, "acme");
    /* the next day at 09:30 in Paris (CET, UTC+1 in December) */
    assert_int_equal (d->disposition->callback_at_ms, (T0 / DAY + 1) * DAY + 8 * 3600000LL + 1800000);
    assert_int_equal (s_state (fx, "c-a002", &since), PLATEAU__V1__AGENT_STATE__STATE__READY);
    assert_int_equal (since, placed + 146000);
    assert_int_equal (telsim_floor_calls (fx->floor), 0);
    /* Talk is the bridged time only: a001's 30 s on a ringing line are not in it. */
    pl_metric_t *talk = pl_metrics_counter (fx->metrics, "plateau_telsim_talk_ms_total", "", "campaign");
    assert_int_equal ((int) pl_metric_value (talk, "c"), 120000);
}

static void
test_a_call_without_an_agent_is_abandoned_two_seconds_after_the_greeting (void **state)
{
    fx_t *fx = *state = s_fx ("c:1");
    Plateau__V1__CallRequest busy = s_req ("long", "c-a001");
    telsim_fate_t fl = s_fate (TELSIM_PICKUP_PERSON, 5000, 600000, 30000);
    assert_int_equal (telsim_floor_place_fate (fx->floor, &busy, NULL, s_now (fx), &fl), 0);
    Plateau__V1__CallRequest r = s_req ("ab", "");
    telsim_fate_t f = s_fate (TELSIM_PICKUP_PERSON, 10000, 60000, 20000);
    int64_t placed = s_now (fx);
    assert_int_equal (telsim_floor_place_fate (fx->floor, &r, NULL, placed, &f), 0);
    s_advance (fx, 11999);
    assert_non_null (s_find (fx, PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS, "ab", PLATEAU__V1__CALL_PROGRESS__STAGE__ANSWERED));
    pl_metric_t *ab = pl_metrics_counter (fx->metrics, "plateau_telsim_abandons_total", "", NULL);
    assert_int_equal ((int) pl_metric_value (ab, NULL), 0);
    s_advance (fx, 1);
    assert_int_equal ((int) pl_metric_value (ab, NULL), 1);
    assert_null (s_find (fx, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, "ab", 0));      /* message plays */
    s_advance (fx, 8000);
    const Plateau__V1__CallOutcome *o = s_find (fx, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, "ab", 0)->call_outcome;
    assert_int_equal (o->result, PLATEAU__V1__CALL_OUTCOME__RESULT__ABANDONED);
    assert_int_equal (o->agent_connect_ms, -1);
    assert_int_equal (o->answered_at_ms, placed + 10000);
    assert_int_equal (o->ended_at_ms, placed + 20000);
    assert_null (s_find (fx, PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS, "ab", PLATEAU__V1__CALL_PROGRESS__STAGE__BRIDGED));
    assert_null (s_find (fx, PLATEAU__V1__ENVELOPE__BODY_DISPOSITION, "ab", 0));
}

static void
test_an_agent_ready_within_two_seconds_takes_the_waiting_call (void **state)
{
    fx_t *fx = *state = s_fx ("c:1");
    Plateau__V1__CallRequest first = s_req ("first", "c-a001");
    telsim_fate_t f1 = s_fate (TELSIM_PICKUP_PERSON, 5000, 60000, 20000);   /* free at 85 s */
    assert_int_equal (telsim_floor_place_fate (fx->floor, &first, NULL, T0, &f1), 0);
    Plateau__V1__CallRequest r = s_req ("wait", "");
    telsim_fate_t f = s_fate (TELSIM_PICKUP_PERSON, 83500, 60000, 20000);   /* greeting at 83.5 s */
    assert_int_equal (telsim_floor_place_fate (fx->floor, &r, NULL, T0, &f), 0);
    s_advance (fx, 400000);
    const Plateau__V1__CallOutcome *o = s_find (fx, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, "wait", 0)->call_outcome;
    assert_int_equal (o->result, PLATEAU__V1__CALL_OUTCOME__RESULT__ANSWERED);
    assert_int_equal (o->agent_connect_ms, 1500);
    assert_string_equal (o->agent_id, "c-a001");
    assert_non_null (s_find (fx, PLATEAU__V1__ENVELOPE__BODY_DISPOSITION, "first", 0));
    assert_non_null (s_find (fx, PLATEAU__V1__ENVELOPE__BODY_DISPOSITION, "wait", 0));
}

static void
test_a_progressive_call_reserves_its_agent_and_frees_it_when_busy (void **state)
{
    fx_t *fx = *state = s_fx ("c:2");
    Plateau__V1__CallRequest r = s_req ("p1", "c-a002");
    telsim_fate_t f = s_fate (TELSIM_PICKUP_BUSY, 2000, 0, 0);
    size_t before = fx->n;
    assert_int_equal (telsim_floor_place_fate (fx->floor, &r, NULL, T0, &f), 0);
    assert_int_equal (fx->n, before + 1);                       /* ON_CALL at once */
    assert_int_equal (fx->env[before]->agent_state->state, PLATEAU__V1__AGENT_STATE__STATE__ON_CALL);
    assert_string_equal (fx->env[before]->agent_state->agent_id, "c-a002");
    s_advance (fx, 2000);
    assert_int_equal (s_find (fx, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, "p1", 0)->call_outcome->result,
                      PLATEAU__V1__CALL_OUTCOME__RESULT__BUSY);
    assert_int_equal (s_state (fx, "c-a002", NULL), PLATEAU__V1__AGENT_STATE__STATE__READY);
    /* a reserved agent is bridged on answer even when another agent idles longer */
    Plateau__V1__CallRequest r2 = s_req ("p2", "c-a002");
    telsim_fate_t f2 = s_fate (TELSIM_PICKUP_PERSON, 4000, 30000, 15000);
    assert_int_equal (telsim_floor_place_fate (fx->floor, &r2, NULL, s_now (fx), &f2), 0);
    s_advance (fx, 5000);
    assert_string_equal (s_find (fx, PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS, "p2",
                                 PLATEAU__V1__CALL_PROGRESS__STAGE__BRIDGED)->call_progress->agent_id, "c-a002");
}

static void
test_amd_reports_a_machine_as_voicemail_and_counts_false_positives (void **state)
{
    fx_t *fx = *state = s_fx ("c:1");
    Plateau__V1__CallRequest r = s_req ("m1", "");
    r.amd = true;
    telsim_fate_t f = s_fate (TELSIM_PICKUP_MACHINE, 8000, 10000, 15000);
    f.amd_ms = 2500;
    f.amd_machine = true;
    assert_int_equal (telsim_floor_place_fate (fx->floor, &r, NULL, T0, &f), 0);
    Plateau__V1__CallRequest r2 = s_req ("fp", "");
    r2.amd = true;
    telsim_fate_t f2 = s_fate (TELSIM_PICKUP_PERSON, 8000, 10000, 15000);
    f2.amd_ms = 2000;
    f2.amd_machine = f2.amd_false_positive = true;
    assert_int_equal (telsim_floor_place_fate (fx->floor, &r2, NULL, T0, &f2), 0);
    s_advance (fx, 60000);
    const Plateau__V1__CallOutcome *o = s_find (fx, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, "m1", 0)->call_outcome;
    assert_int_equal (o->result, PLATEAU__V1__CALL_OUTCOME__RESULT__VOICEMAIL);
    assert_int_equal (o->ended_at_ms, T0 + 10500);
    assert_null (s_find (fx, PLATEAU__V1__ENVELOPE__BODY_CALL_PROGRESS, "m1", PLATEAU__V1__CALL_PROGRESS__STAGE__ANSWERED));
    assert_int_equal (s_find (fx, PLATEAU__V1__ENVELOPE__BODY_CALL_OUTCOME, "fp", 0)->call_outcome->result,
                      PLATEAU__V1__CALL_OUTCOME__RESULT__VOICEMAIL);
    pl_metric_t *fpm = pl_metrics_counter (fx->metrics, "plateau_telsim_amd_false_positives_total", "", NULL);
    assert_int_equal ((int) pl_metric_value (fpm, NULL), 1);
}

static void
test_agent_time_is_counted_in_virtual_ms_per_state (void **state)
{
    fx_t *fx = *state = s_fx ("c:1");
    Plateau__V1__CallRequest r = s_req ("t1", "");
    telsim_fate_t f = s_fate (TELSIM_PICKUP_PERSON, 10000, 100000, 30000);
    assert_int_equal (telsim_floor_place_fate (fx->floor, &r, NULL, T0, &f), 0);
    s_advance (fx, 200000);
    pl_metric_t *ms = pl_metrics_counter (fx->metrics, "plateau_telsim_agent_ms_total", "", "campaign,state");
    assert_int_equal ((int64_t) pl_metric_value (ms, "c,on_call"), 100000);
    assert_int_equal ((int64_t) pl_metric_value (ms, "c,wrap_up"), 30000);
    assert_int_equal ((int64_t) pl_metric_value (ms, "c,ready"), 70000);
}

/* PaymentReceived envelopes, in the order sent. */
static size_t
s_payments (fx_t *fx, const Plateau__V1__PaymentReceived **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->n && n < max; i++)
        if (fx->env[i]->body_case == PLATEAU__V1__ENVELOPE__BODY_PAYMENT_RECEIVED)
            out[n++] = fx->env[i]->payment_received;
    return n;
}

static void
test_a_debtor_who_promised_pays_as_the_fate_says_days_later (void **state)
{
    fx_t *fx = *state = s_fx_opts ("c:1", true);
    Plateau__V1__CallRequest r = s_req ("d9", "");
    r.kind = PLATEAU__V1__CALL_KIND__DEBT_COLLECTION;
    r.debt = "ACC-77";
    telsim_fate_t f = s_fate (TELSIM_PICKUP_PERSON, 5000, 60000, 20000);
    f.disposition = PLATEAU__V1__DISPOSITION__CODE__PROMISE_TO_PAY;
    f.promise_minor = 12000;
    f.promise_days = 10;
    f.payer = TELSIM_PAYER_SPLIT;
    f.n_payments = 2;
    f.pay_after_ms[0] = 2 * DAY;
    f.pay_minor[0] = 6000;
    f.pay_after_ms[1] = 5 * DAY;
    f.pay_minor[1] = 6000;
    f.bounce_after_ms = DAY;
    int64_t placed = s_now (fx);
    assert_int_equal (telsim_floor_place_fate (fx->floor, &r, "tr-9", placed, &f), 0);
    s_advance (fx, 3600000);
    const pl_envelope_t *d = s_find (fx, PLATEAU__V1__ENVELOPE__BODY_DISPOSITION, "d9", 0);
    assert_non_null (d);
    int64_t t = d->disposition->at_ms;
    assert_int_equal (t, placed + 85000);
    assert_int_equal (d->disposition->promise_amount->minor_units, 12000);
    assert_string_equal (d->disposition->promise_amount->currency, "EUR");       /* a French number */
    const Plateau__V1__PaymentReceived *p[8];
    assert_int_equal (s_payments (fx, p, 8), 0);                  /* nothing paid on the call */
    s_advance (fx, 2 * DAY);
    assert_int_equal (s_payments (fx, p, 8), 1);
    assert_string_equal (p[0]->payment_id, "d9.pay1");
    assert_string_equal (p[0]->account_ref, "ACC-77");
    assert_int_equal (p[0]->amount->minor_units, 6000);
    assert_string_equal (p[0]->amount->currency, "EUR");
    assert_int_equal (p[0]->received_at_ms, t + 2 * DAY);       /* at its instant, not when run */
    assert_string_equal (p[0]->reverses, "");
    s_advance (fx, 10 * DAY);                                    /* one jump over the rest */
    assert_int_equal (s_payments (fx, p, 8), 3);
    assert_string_equal (p[1]->payment_id, "d9.bounce");         /* a day after the first */
    assert_string_equal (p[1]->reverses, "d9.pay1");
    assert_int_equal (p[1]->amount->minor_units, 6000);
    assert_int_equal (p[1]->received_at_ms, t + 3 * DAY);
    assert_string_equal (p[2]->payment_id, "d9.pay2");
    assert_int_equal (p[2]->received_at_ms, t + 5 * DAY);
    pl_metric_t *m = pl_metrics_counter (fx->metrics, "plateau_telsim_payments_total", "", "kind");
    assert_int_equal ((int) pl_metric_value (m, "paid"), 2);
    assert_int_equal ((int) pl_metric_value (m, "reversed"), 1);
}

static void
test_no_payments_without_a_promise_service_or_a_debt (void **state)
{
    fx_t *fx = *state = s_fx ("c:2");                  /* payments off */
    telsim_fate_t f = s_fate (TELSIM_PICKUP_PERSON, 5000, 60000, 20000);
    f.disposition = PLATEAU__V1__DISPOSITION__CODE__PROMISE_TO_PAY;
    f.promise_minor = 5000;
    f.promise_days = 3;
    f.payer = TELSIM_PAYER_FULL;
    f.n_payments = 1;
    f.pay_after_ms[0] = DAY;
    f.pay_minor[0] = 5000;
    Plateau__V1__CallRequest r = s_req ("d10", "");
    r.debt = "ACC-1";
    assert_int_equal (telsim_floor_place_fate (fx->floor, &r, NULL, s_now (fx), &f), 0);
    s_advance (fx, 5 * DAY);
    const Plateau__V1__PaymentReceived *p[2];
    assert_non_null (s_find (fx, PLATEAU__V1__ENVELOPE__BODY_DISPOSITION, "d10", 0));
    assert_int_equal (s_payments (fx, p, 2), 0);

    fx_t *fx2 = s_fx_opts ("c:1", true);               /* payments on, but no debt on the call */
    Plateau__V1__CallRequest r2 = s_req ("d11", "");
    assert_int_equal (telsim_floor_place_fate (fx2->floor, &r2, NULL, s_now (fx2), &f), 0);
    s_advance (fx2, 5 * DAY);
    assert_non_null (s_find (fx2, PLATEAU__V1__ENVELOPE__BODY_DISPOSITION, "d11", 0));
    assert_int_equal (s_payments (fx2, p, 2), 0);
    void *st = fx2;
    s_teardown (&st);
}

static void
test_agents_pause_at_the_configured_rate (void **state)
{
    fx_t *fx = calloc (1, sizeof *fx);
    *state = fx;
    fx->clock = pl_clock_new_virtual (T0);
    fx->metrics = pl_metrics_new ();
    telsim_floor_opts_t o = { .seed = 9, .pause_ms = 300000, .pause_every_ms = 7200000, .source = "telsim" };
    fx->floor = telsim_floor_new (&o, fx->clock, fx->metrics, NULL, NULL, NULL);
    assert_int_equal (telsim_floor_add_agents (fx->floor, "c:20", T0), 0);
    for (int h = 0; h < 100; h++)
        s_advance (fx, 3600000);
    pl_metric_t *ms = pl_metrics_counter (fx->metrics, "plateau_telsim_agent_ms_total", "", "campaign,state");
    double paused = pl_metric_value (ms, "c,paused"), ready = pl_metric_value (ms, "c,ready");
    assert_int_equal ((int64_t) (paused + ready), 20LL * 100 * 3600000);
    double share = paused / (paused + ready);              /* 5 min per 2 h 5 min ≈ 4 % */
    assert_true (share > 0.03 && share < 0.05);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_agents_log_in_ready_and_are_announced, s_teardown),
        cmocka_unit_test (test_a_pause_rate_is_a_pause_and_a_mean_gap),
        cmocka_unit_test_teardown (test_a_predictive_call_is_bridged_to_the_longest_idle_agent, s_teardown),
        cmocka_unit_test_teardown (test_a_call_without_an_agent_is_abandoned_two_seconds_after_the_greeting, s_teardown),
        cmocka_unit_test_teardown (test_an_agent_ready_within_two_seconds_takes_the_waiting_call, s_teardown),
        cmocka_unit_test_teardown (test_a_progressive_call_reserves_its_agent_and_frees_it_when_busy, s_teardown),
        cmocka_unit_test_teardown (test_amd_reports_a_machine_as_voicemail_and_counts_false_positives, s_teardown),
        cmocka_unit_test_teardown (test_agent_time_is_counted_in_virtual_ms_per_state, s_teardown),
        cmocka_unit_test_teardown (test_agents_pause_at_the_configured_rate, s_teardown),
        cmocka_unit_test_teardown (test_a_debtor_who_promised_pays_as_the_fate_says_days_later, s_teardown),
        cmocka_unit_test_teardown (test_no_payments_without_a_promise_service_or_a_debt, s_teardown),
    };
    return cmocka_run_group_tests_name ("telsim_floor", tests, NULL, NULL);
}
