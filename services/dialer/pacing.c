/*  pacing.c — lines to place now (see pacing.h for the budget argument). */
#include "pacing.h"

#include <math.h>

int
pacing_headroom (int64_t live, int64_t abandoned, uint32_t budget_ppm)
{
    if (budget_ppm >= 1000000)
        return 1 << 20;
    /* x <= (b·L − A) / (1 − b), in ppm to stay exact. */
    int64_t num = (int64_t) budget_ppm * live - 1000000LL * abandoned;
    if (num <= 0)
        return 0;
    int64_t x = num / (1000000LL - budget_ppm);
    return x > (1 << 20) ? 1 << 20 : (int) x;
}

pacing_plan_t
pacing_plan (dialer_mode_t mode, const pacing_floor_t *f)
{
    pacing_plan_t p = { 0 };
    p.headroom = pacing_headroom (f->live, f->abandoned, f->budget_ppm);
    int ready = f->ready > 0 ? f->ready : 0;
    bool warm = f->placed_recent >= PACING_WARMUP_CALLS && f->answered_recent > 0;
    int staffed = f->staffed > ready ? f->staffed : ready;
    if (mode != DIALER_PREDICTIVE || staffed < PACING_MIN_AGENTS || !warm || p.headroom == 0) {
        /* One line per ready agent, the agent reserved: nobody answered waits. */
        p.lines = ready;
        p.reserve = true;
        return p;
    }
    double rate = (double) f->answered_recent / (double) f->placed_recent;
    if (rate < 1.0 / PACING_MAX_RATIO)
        rate = 1.0 / PACING_MAX_RATIO;
    /* Agents in wrap-up leave it at about one per mean wrap-up each; within the horizon, that
     * share of them (all of them once the horizon passes the mean). */
    if (f->wrap_up > 0 && f->wrap_ms_mean > 0) {
        double share = PACING_HORIZON_MS / f->wrap_ms_mean;
        p.soon = f->wrap_up * (share < 1.0 ? share : 1.0);
    }
    /* Lines whose expected answers match the agents free by then, but never more unreserved
     * lines than the ready agents plus what the budget could absorb if every extra line were
     * abandoned. */
    int want = (int) floor (((double) ready + p.soon) / rate);
    int cap = ready + p.headroom;
    if (want > cap)
        want = cap;
    p.lines = want - f->inflight_unreserved;
    if (p.lines < 0)
        p.lines = 0;
    p.predicting = want > ready;
    return p;
}
