/*  floor.h — the simulated call-centre floor: calls in flight, agents, and their clock.
 *
 *  The floor is a discrete-event simulation on virtual time. Placing a call draws its fate
 *  (fate.h) and schedules what follows at exact virtual instants — the pickup, the AMD verdict,
 *  the bridge to an agent or the abandon two seconds after the greeting, the hang-up, the end of
 *  wrap-up — and telsim_floor_run() processes every event whose instant has come, in order,
 *  however far the clock jumped since the last call. What the dialer must hear (CallProgress,
 *  CallOutcome, AgentState, Disposition) goes to the sink as envelopes with ids derived from the
 *  dial id; the floor itself keeps no Redis state and knows nothing of the bus, so tests drive it
 *  as a library on a standing virtual clock.
 *
 *  Agents come from a spec "campaign:count,campaign:count": ids "<campaign>-a001"…, each
 *  logged in READY on its one campaign. A predictive call (no agent_id) is bridged on the greeting
 *  to the longest-idle READY agent of its campaign, or to the first agent of that campaign that
 *  becomes READY within 2 s; otherwise it is ABANDONED (the identification message plays for
 *  8 s). A progressive call reserves its agent (ON_CALL at once) and is bridged to it on answer;
 *  unanswered, the agent is READY again. The door never places a request naming an agent who is
 *  not READY (door.c); a caller of telsim_floor_place that does gets the call handled as
 *  predictive (logged).
 *
 *  With `payments`, a debtor who promised to pay on a call with a debt then pays as the call's
 *  fate says (fate.h): PaymentReceived envelopes (ids "<dial id>.pay1", ".pay2", ".bounce" for
 *  a reversal) go to the sink at their virtual instants, days later. They live in memory: a
 *  floor that restarts forgets the payments it still owed.
 *
 *  Not thread-safe: one floor belongs to the service loop.
 */
#ifndef TELSIM_FLOOR_H
#define TELSIM_FLOOR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fate.h"
#include "plateau/clock.h"
#include "plateau/envelope.h"
#include "plateau/log.h"
#include "plateau/metrics.h"

typedef struct telsim_floor telsim_floor_t;

/* Receives each message for the dialer; env (and everything it points to) is valid during the
 * call only. */
typedef void (telsim_sink_fn) (void *arg, pl_envelope_t *env);

typedef struct {
    uint64_t seed;                   /* PLATEAU_TELSIM_SEED */
    double amd_false_positive;       /* PLATEAU_TELSIM_AMD_FALSE_POSITIVE (0.02) */
    double person_scale;             /* PLATEAU_TELSIM_PERSON_SCALE (1; 0 means 1) */
    int64_t pause_ms;                /* length of a pause (0: agents never pause) */
    int64_t pause_every_ms;          /* mean time between an agent's pauses */
    const char *zoneinfo_dir;        /* NULL: the system's */
    const char *source;              /* envelope source ("telsim") */
    bool payments;                   /* debtors who promised pay (PaymentReceived to the sink) */
} telsim_floor_opts_t;

/* Reads a pause rate, "<pause>/<mean time between pauses>" in the kit's durations ("5m/2h"), or
 * "0" for none (both 0). 0, or PL_EINVAL. */
int telsim_pause_rate_parse (const char *text, int64_t *pause_ms, int64_t *every_ms);

/* Borrows clock, metrics and log (each may be NULL but the clock). */
telsim_floor_t *telsim_floor_new (const telsim_floor_opts_t *o, const pl_clock_t *clock, pl_metrics_t *metrics,
                                  pl_log_t *log, telsim_sink_fn *sink, void *sink_arg);
void telsim_floor_destroy (telsim_floor_t **self_p);

/* Checks an agents spec ("fr-canvass:20,us-collect:20"): 0, or PL_EINVAL with why in err. */
int telsim_floor_agents_check (const char *spec, char *err, size_t err_size);
/* Logs in the agents of spec, READY at now_ms (an AgentState each). 0 or PL_EINVAL / PL_ENOMEM. */
int telsim_floor_add_agents (telsim_floor_t *self, const char *spec, int64_t now_ms);

/* The facts of a request as telephony sees them at now_ms (line type, local hour…), and its fate. */
void telsim_floor_fate (telsim_floor_t *self, const Plateau__V1__CallRequest *req, int64_t now_ms,
                        telsim_fate_t *out);
/* Places req at now_ms (the caller has sent CallProgress PLACED): reserves its agent and
 * schedules its fate. trace_id (may be NULL) is carried by every message of the call.
 * 0, PL_EINVAL (no dial id, campaign or number; dial id over TELSIM_DIAL_ID_MAX), PL_ENOMEM. */
int telsim_floor_place (telsim_floor_t *self, const Plateau__V1__CallRequest *req, const char *trace_id,
                        int64_t now_ms);
/* The same with a given fate instead of the drawn one (tests). */
int telsim_floor_place_fate (telsim_floor_t *self, const Plateau__V1__CallRequest *req, const char *trace_id,
                             int64_t now_ms, const telsim_fate_t *fate);
#define TELSIM_DIAL_ID_MAX 100

/* Processes every event due at or before now_ms, each at its own instant. Returns how many. */
size_t telsim_floor_run (telsim_floor_t *self, int64_t now_ms);
/* The instant of the next event, or INT64_MAX. */
int64_t telsim_floor_next_ms (const telsim_floor_t *self);
/* Sends an AgentState for every agent (a dialer that takes over learns the floor). */
void telsim_floor_snapshot (telsim_floor_t *self);

/* For tests and metrics: an agent's state (Plateau__V1__AgentState__State, 0 if unknown) and
 * since when; calls not yet ended (or wrapping up). */
int telsim_floor_agent_state (const telsim_floor_t *self, const char *agent_id, int64_t *since_ms);
size_t telsim_floor_agents (const telsim_floor_t *self);
size_t telsim_floor_calls (const telsim_floor_t *self);

/* Lower-case names used as metric labels: "answered", "no_answer"…; "ready", "on_call"…. */
const char *telsim_result_str (int result);
const char *telsim_agent_state_str (int state);

#endif
