/*  main.c — plateau-telsim: a telephony and agent-floor simulator speaking the dialer's protocol.
 *
 *  Wiring only: reads the configuration, builds the floor (floor.c) and the bus door for
 *  CallRequest (door.c), and drives the floor from a timer that wakes every few real
 *  milliseconds and processes every simulated event whose virtual instant has come. What the
 *  floor says outside a request's step (progress, outcomes, agent states, dispositions) is
 *  stored in this replica's outbox and sent by the dialer's bus client (pl_bus_client_send);
 *  the simulated debtors' payments go to the promise service when PLATEAU_PROMISE_BUS names it.
 *  See README.md and docs/telephony.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "door.h"
#include "floor.h"
#include "plateau/service.h"

#define S_TICK_MS 5
#define S_BATCH_MAX 4096

/* Messages for one peer, waiting for the outbox. */
typedef struct {
    const char *peer;
    pl_bus_client_t *bus;
    pl_envelope_t *out[S_BATCH_MAX];    /* owned copies */
    size_t nout;
    int64_t last_warn_mono;
} s_batch_t;

typedef struct {
    pl_service_t *svc;
    telsim_floor_t *floor;
    s_batch_t dialer, promise;
    int64_t snapshot_every_ms, next_snapshot_mono;
} s_main_t;

static void s_flush (s_main_t *m, s_batch_t *b);

/* The floor's sink: keep a copy until the tick sends the batch (or sooner when it is full: a
 * clock moved by days processes many events in one tick). */
static void
s_sink (void *arg, pl_envelope_t *env)
{
    s_main_t *m = arg;
    s_batch_t *b = env->body_case == PLATEAU__V1__ENVELOPE__BODY_PAYMENT_RECEIVED ? &m->promise : &m->dialer;
    if (!b->bus)
        return;
    if (b->nout == S_BATCH_MAX)
        s_flush (m, b);
    size_t len = 0;
    uint8_t *buf = pl_envelope_pack (env, &len);
    char err[128];
    pl_envelope_t *copy = buf ? pl_envelope_unpack (buf, len, err, sizeof err) : NULL;
    free (buf);
    if (copy && b->nout < S_BATCH_MAX)
        b->out[b->nout++] = copy;
    else {
        pl_envelope_free (&copy);
        pl_log_error (pl_service_log (m->svc), NULL, "message dropped", "peer", b->peer, "type",
                      env->type ? env->type : "");
    }
}

/* Stores the batch in the outbox and sends it. Redis down: the batch waits for the next tick,
 * up to S_BATCH_MAX messages; beyond, the oldest batch is dropped (logged). */
static void
s_flush (s_main_t *m, s_batch_t *b)
{
    if (!b->nout)
        return;
    if (pl_bus_client_send (b->bus, b->out, b->nout) != 0) {
        int64_t now = pl_clock_mono_ms ();
        if (now - b->last_warn_mono > 10000) {
            b->last_warn_mono = now;
            pl_log_warn (pl_service_log (m->svc), NULL, "outbox unavailable: messages wait", "peer", b->peer,
                         "error", pl_bus_client_errstr (b->bus));
        }
        if (b->nout < S_BATCH_MAX)
            return;                      /* kept for the next tick */
        char n[32];
        snprintf (n, sizeof n, "%zu", b->nout);
        pl_log_error (pl_service_log (m->svc), NULL, "outbox unavailable: messages dropped", "peer", b->peer,
                      "count", n);
    }
    for (size_t i = 0; i < b->nout; i++)
        pl_envelope_free (&b->out[i]);
    b->nout = 0;
}

static void
s_batch_free (s_batch_t *b)
{
    for (size_t i = 0; i < b->nout; i++)
        pl_envelope_free (&b->out[i]);
    b->nout = 0;
}

/* Every few milliseconds: every event whose virtual instant has come, then the messages. */
static int
s_tick (pl_loop_t *loop, void *arg)
{
    (void) loop;
    s_main_t *m = arg;
    telsim_floor_run (m->floor, pl_clock_now_ms (pl_service_clock (m->svc)));
    int64_t mono = pl_clock_mono_ms ();
    if (mono >= m->next_snapshot_mono) {
        m->next_snapshot_mono = mono + m->snapshot_every_ms;
        telsim_floor_snapshot (m->floor);
    }
    s_flush (m, &m->dialer);
    s_flush (m, &m->promise);
    return 0;
}

int
main (void)
{
    pl_loop_block_signals ();
    pl_service_t *svc = pl_service_new ("telsim");
    pl_config_t *cfg = pl_service_config (svc);
    telsim_floor_opts_t o = { .source = pl_service_name (svc) };
    o.seed = (uint64_t) pl_config_int (cfg, "PLATEAU_TELSIM_SEED", 1, 0, INT64_MAX);
    const char *fp = pl_config_str (cfg, "PLATEAU_TELSIM_AMD_FALSE_POSITIVE", "0.02");
    char *end = NULL;
    o.amd_false_positive = strtod (fp, &end);
    if (!end || end == fp || *end || !(o.amd_false_positive >= 0 && o.amd_false_positive <= 1))
        pl_config_fail (cfg, "PLATEAU_TELSIM_AMD_FALSE_POSITIVE", "a probability from 0 to 1", fp);
    /* A floor whose lists answer less (cold lists: 10 to 20 % of calls reach a person) or more. */
    const char *ps = pl_config_str (cfg, "PLATEAU_TELSIM_PERSON_SCALE", "1");
    end = NULL;
    o.person_scale = strtod (ps, &end);
    if (!end || end == ps || *end || !(o.person_scale >= 0.05 && o.person_scale <= 2))
        pl_config_fail (cfg, "PLATEAU_TELSIM_PERSON_SCALE", "a factor from 0.05 to 2", ps);
    const char *pause = pl_config_str (cfg, "PLATEAU_TELSIM_PAUSE_RATE", "5m/2h");
    if (telsim_pause_rate_parse (pause, &o.pause_ms, &o.pause_every_ms) != 0)
        pl_config_fail (cfg, "PLATEAU_TELSIM_PAUSE_RATE", "<pause>/<every>, e.g. 5m/2h, or 0", pause);
    o.zoneinfo_dir = pl_config_str (cfg, "PLATEAU_ZONEINFO_DIR", NULL);
    const char *agents = pl_config_str (cfg, "PLATEAU_TELSIM_AGENTS", "default:10");
    char err[200];
    if (telsim_floor_agents_check (agents, err, sizeof err) != 0)
        pl_config_fail (cfg, "PLATEAU_TELSIM_AGENTS", err, agents);
    static s_main_t m;
    m.svc = svc;
    m.snapshot_every_ms = pl_config_duration_ms (cfg, "PLATEAU_TELSIM_SNAPSHOT_EVERY", 30000);
    if (m.snapshot_every_ms <= 0)
        pl_config_fail (cfg, "PLATEAU_TELSIM_SNAPSHOT_EVERY", "a duration above 0", NULL);
    m.dialer = (s_batch_t) { .peer = "dialer", .bus = pl_service_connect (svc, "dialer", true) };
    /* The simulated debtors pay through the promise service when there is one. */
    m.promise = (s_batch_t) { .peer = "promise", .bus = pl_service_connect (svc, "promise", false) };
    o.payments = m.promise.bus != NULL;
    pl_service_config_done (svc);

    pl_clock_t *clock = pl_service_clock (svc);
    m.floor = telsim_floor_new (&o, clock, pl_service_metrics (svc), pl_service_log (svc), s_sink, &m);
    telsim_door_t *door = m.floor ? telsim_door_new (pl_service_redis (svc), clock, pl_service_name (svc),
                                                     pl_service_replica (svc), m.floor, pl_service_metrics (svc),
                                                     pl_service_log (svc)) : NULL;
    if (!door || telsim_floor_add_agents (m.floor, agents, pl_clock_now_ms (clock)) != 0) {
        pl_log_error (pl_service_log (svc), NULL, "cannot build the floor", "error", "out of memory");
        return 1;
    }
    char seed[32];
    snprintf (seed, sizeof seed, "%llu", (unsigned long long) o.seed);
    pl_log_info (pl_service_log (svc), NULL, "floor open", "agents", agents, "seed", seed);
    /* The agents logged in READY: that is the first snapshot. */
    m.next_snapshot_mono = pl_clock_mono_ms () + m.snapshot_every_ms;
    s_flush (&m, &m.dialer);

    const char *types[] = { "CallRequest=dialer", NULL };
    if (!pl_service_serve (svc, types, telsim_door_handle, door))
        return 2;
    pl_loop_add_timer (pl_service_loop (svc), S_TICK_MS, s_tick, &m);
    int rc = pl_service_run (svc);
    s_batch_free (&m.dialer);
    s_batch_free (&m.promise);
    telsim_door_destroy (&door);
    telsim_floor_destroy (&m.floor);
    pl_service_destroy (&svc);
    return rc;
}
