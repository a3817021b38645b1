/*  pacing.h — how many calls to place now: preview, progressive, predictive under a hard budget.
 *
 *  Pure arithmetic on what the floor looks like now, so that it is tested alone. The abandon
 *  budget is kept by construction: a predictive dialer may place more unreserved lines than it
 *  has ready agents only by as many calls as could ALL be answered and abandoned without the
 *  campaign's rate over its legal period passing the target:
 *
 *      (A + x) / (L + x) <= b   ⇔   x <= (b·L − A) / (1 − b)
 *
 *  where L is the live-answered calls of the period (abandoned included) and A the abandoned
 *  ones (plus the AMD false-positive estimate where the law counts it). With no history, L = 0
 *  and x = 0: the dialer is progressive until it has measured enough to predict (its warm-up),
 *  and near the budget x falls to 0 again. With fewer than PACING_MIN_AGENTS agents staffed it
 *  stays progressive.
 *
 *  Predictive lines are for the agents who will be free when the callees answer: the ready ones,
 *  and the share of those in wrap-up expected to finish within PACING_HORIZON_MS (a typical
 *  time from the dial to a person's answer), from the campaign's measured mean wrap-up. Dialling
 *  only for agents already ready makes each of them wait out the ring of its own lines, which
 *  on a cold list is most of the gain lost. The budget above stays the hard ceiling.
 */
#ifndef DIALER_PACING_H
#define DIALER_PACING_H
#include <stdint.h>
#include "campaign.h"

#define PACING_MIN_AGENTS 5
#define PACING_MAX_RATIO 3.0     /* lines per ready agent, at most */
#define PACING_WARMUP_CALLS 100  /* placed calls measured before the answer rate is trusted */
#define PACING_HORIZON_MS 10000  /* dial to a person's answer, typically: agents free by then count */

typedef struct {
    int ready;                   /* agents READY and not reserved for a call */
    int staffed;                 /* agents logged in and not paused (ready, reserved, on call, wrap-up) */
    int wrap_up;                 /* agents in wrap-up */
    double wrap_ms_mean;         /* measured mean wrap-up (0: not measured yet) */
    int inflight_unreserved;     /* predictive lines ringing with no agent reserved */
    int64_t placed_recent;       /* calls placed in the measuring window */
    int64_t answered_recent;     /* of those, answered by a person */
    int64_t live;                /* live-answered in the legal period (abandoned included) */
    int64_t abandoned;           /* abandoned in the legal period (+ AMD estimate when counted) */
    uint32_t budget_ppm;
} pacing_floor_t;

typedef struct {
    int lines;                   /* calls to place now */
    bool reserve;                /* each with an agent reserved (preview, progressive) */
    bool predicting;             /* over-dialling (predictive, warmed up, inside budget) */
    double soon;                 /* agents in wrap-up expected free within the horizon */
    int headroom;                /* abandons the budget could still absorb */
} pacing_plan_t;

/* The plan for a campaign in `mode`. */
pacing_plan_t pacing_plan (dialer_mode_t mode, const pacing_floor_t *f);
/* The budget's headroom: how many more calls could be answered and abandoned. */
int pacing_headroom (int64_t live, int64_t abandoned, uint32_t budget_ppm);

#endif
