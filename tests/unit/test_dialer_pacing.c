/*  test_dialer_pacing.c — lines to place: progressive one per agent; predictive only once warm,
 *  with enough agents, for the ready agents and those about to leave wrap-up, and never more
 *  unreserved lines than the budget could absorb if every extra one were abandoned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "pacing.h"

static void
test_headroom_is_what_the_budget_can_absorb (void **state)
{
    (void) state;
    /* 3 %: 1000 live, 10 abandoned: (30 - 10) / 0.97 = 20.6 → 20 more all abandoned keep it. */
    assert_int_equal (pacing_headroom (1000, 10, 30000), 20);
    /* (10 + 20) / (1000 + 20) = 2.94 % ≤ 3 %; one more would be 3.04 %. */
    assert_true ((10.0 + 20) / (1000 + 20) <= 0.03);
    assert_true ((10.0 + 21) / (1000 + 21) > 0.03);
    assert_int_equal (pacing_headroom (0, 0, 30000), 0);
    assert_int_equal (pacing_headroom (1000, 30, 30000), 0);
    assert_int_equal (pacing_headroom (1000, 40, 30000), 0);
    assert_int_equal (pacing_headroom (1000, 0, 0), 0);
}

static void
test_progressive_is_one_reserved_line_per_ready_agent (void **state)
{
    (void) state;
    pacing_floor_t f = { .ready = 7, .placed_recent = 5000, .answered_recent = 1500, .live = 100000,
                         .budget_ppm = 30000 };
    pacing_plan_t p = pacing_plan (DIALER_PROGRESSIVE, &f);
    assert_int_equal (p.lines, 7);
    assert_true (p.reserve);
    assert_false (p.predicting);
    p = pacing_plan (DIALER_PREVIEW, &f);
    assert_int_equal (p.lines, 7);
    assert_true (p.reserve);
}

static void
test_predictive_waits_for_warm_up_agents_and_headroom (void **state)
{
    (void) state;
    /* Cold: nothing measured yet → progressive. */
    pacing_floor_t f = { .ready = 20, .budget_ppm = 30000 };
    pacing_plan_t p = pacing_plan (DIALER_PREDICTIVE, &f);
    assert_true (p.reserve);
    assert_int_equal (p.lines, 20);
    /* Warm, 25 % answer, wide headroom: 80 lines for 20 agents. */
    f = (pacing_floor_t) { .ready = 20, .placed_recent = 4000, .answered_recent = 1000, .live = 10000,
                           .abandoned = 50, .budget_ppm = 30000 };
    p = pacing_plan (DIALER_PREDICTIVE, &f);
    assert_false (p.reserve);
    assert_true (p.predicting);
    assert_int_equal (p.lines, 60);      /* 20 / 0.25 = 80, capped at 3 per agent = 60 */
    /* Narrow headroom: 10000 live, 295 abandoned → (300 - 295) / 0.97 = 5 extra lines only. */
    f.abandoned = 295;
    p = pacing_plan (DIALER_PREDICTIVE, &f);
    assert_int_equal (p.headroom, 5);
    assert_int_equal (p.lines, 25);
    /* Lines already ringing unreserved count against it. */
    f.inflight_unreserved = 22;
    p = pacing_plan (DIALER_PREDICTIVE, &f);
    assert_int_equal (p.lines, 3);
    /* At the budget: progressive again. */
    f.abandoned = 300;
    f.inflight_unreserved = 0;
    p = pacing_plan (DIALER_PREDICTIVE, &f);
    assert_true (p.reserve);
    assert_int_equal (p.lines, 20);
    /* Few agents: progressive. */
    f = (pacing_floor_t) { .ready = PACING_MIN_AGENTS - 1, .staffed = PACING_MIN_AGENTS - 1,
                           .placed_recent = 4000, .answered_recent = 1000, .live = 10000, .budget_ppm = 30000 };
    p = pacing_plan (DIALER_PREDICTIVE, &f);
    assert_true (p.reserve);
    assert_int_equal (p.lines, PACING_MIN_AGENTS - 1);
    /* The same few ready on a floor of many agents busy: predictive, the floor counts. */
    f.staffed = 40;
    p = pacing_plan (DIALER_PREDICTIVE, &f);
    assert_false (p.reserve);
    assert_int_equal (p.lines, 12);      /* 4 / 0.25 = 16, capped at 3 per agent = 12 */
}

/* Lines for the agents about to leave wrap-up: a share horizon / mean wrap-up of them, all of
 * them once the horizon passes the mean; nothing before a wrap-up was measured; the budget still
 * caps what goes out. */
static void
test_predictive_dials_ahead_for_agents_leaving_wrap_up (void **state)
{
    (void) state;
    pacing_floor_t f = { .ready = 0, .staffed = 50, .wrap_up = 10, .placed_recent = 4000,
                         .answered_recent = 2000, .live = 10000, .abandoned = 50, .budget_ppm = 30000 };
    /* Not measured yet: nobody is expected free, no line. */
    pacing_plan_t p = pacing_plan (DIALER_PREDICTIVE, &f);
    assert_int_equal (p.lines, 0);
    assert_true (p.soon == 0);
    /* Mean wrap-up 4 horizons: a quarter of the 10 expected free → 2.5 agents, 5 lines at 50 %. */
    f.wrap_ms_mean = 4.0 * PACING_HORIZON_MS;
    p = pacing_plan (DIALER_PREDICTIVE, &f);
    assert_false (p.reserve);
    assert_true (p.soon > 2.49 && p.soon < 2.51);
    assert_int_equal (p.lines, 5);
    /* With 3 ready besides: (3 + 2.5) / 0.5 = 11. */
    f.ready = 3;
    p = pacing_plan (DIALER_PREDICTIVE, &f);
    assert_int_equal (p.lines, 11);
    /* A wrap-up shorter than the horizon: every one of them. (3 + 10) / 0.5 = 26. */
    f.wrap_ms_mean = PACING_HORIZON_MS / 2.0;
    p = pacing_plan (DIALER_PREDICTIVE, &f);
    assert_int_equal (p.lines, 26);
    /* Headroom of 5: 3 ready + 5 at most. */
    f.abandoned = 295;
    p = pacing_plan (DIALER_PREDICTIVE, &f);
    assert_int_equal (p.lines, 8);
    /* Progressive ignores them: one line per ready agent. */
    p = pacing_plan (DIALER_PROGRESSIVE, &f);
    assert_int_equal (p.lines, 3);
}

/* Whatever the floor, the worst case — every unreserved line beyond the ready agents answered
 * and abandoned — keeps the rate inside the budget. */
static void
test_worst_case_never_passes_the_budget (void **state)
{
    (void) state;
    unsigned seed = 7;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        pacing_floor_t f = { .ready = (int) (seed % 60), .budget_ppm = 10000 + seed % 40000 };
        f.wrap_up = (int) (seed % 23);
        f.staffed = f.ready + f.wrap_up + (int) (seed % 5);
        f.wrap_ms_mean = (double) (seed % 90000);
        seed = seed * 1103515245u + 12345u;
        f.live = seed % 20000;
        seed = seed * 1103515245u + 12345u;
        f.abandoned = f.live ? seed % (f.live / 20 + 1) : 0;
        f.placed_recent = 1000;
        f.answered_recent = 100 + seed % 800;
        seed = seed * 1103515245u + 12345u;
        f.inflight_unreserved = (int) (seed % 10);
        pacing_plan_t p = pacing_plan (DIALER_PREDICTIVE, &f);
        if (p.reserve || p.lines == 0)
            continue;       /* nothing placed: the lines ringing were planned on an earlier floor */
        int extra = f.inflight_unreserved + p.lines - f.ready;
        if (extra <= 0)
            continue;
        double worst = (double) (f.abandoned + extra) / (double) (f.live + extra);
        assert_true (worst * 1e6 <= f.budget_ppm + 1e-6);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_headroom_is_what_the_budget_can_absorb),
        cmocka_unit_test (test_progressive_is_one_reserved_line_per_ready_agent),
        cmocka_unit_test (test_predictive_waits_for_warm_up_agents_and_headroom),
        cmocka_unit_test (test_predictive_dials_ahead_for_agents_leaving_wrap_up),
        cmocka_unit_test (test_worst_case_never_passes_the_budget),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
