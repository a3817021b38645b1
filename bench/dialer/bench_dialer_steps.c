/*  bench_dialer_steps.c — dial steps per second, end to end, with real processes (issue 11).
 *
 *  A dial step is claim + history + re-check + request: the dialer's pacing pass claims a due
 *  lead (fenced by its lease), writes the attempt into the person's contact history and reads it
 *  back whole, sends scrub a DialCheck; plateau-scrub reads the number's opt-outs and consents
 *  and judges it with every fact, answers DialCheckResult (ALLOW); the dialer moves the attempt
 *  to placed and emits the CallRequest to telephony. Everything runs as in production: a
 *  private redis-server, the built plateau-scrub and plateau-dialer (CURVE on), a standing
 *  virtual clock (a weekday, 10:00 in New York), an audit stand-in that acks every event
 *  (--no-audit: none), and a telephony stand-in (identity telsim) that acks and counts every
 *  CallRequest.
 *
 *  The bench queues --leads N leads through the dialer's bus door as scrub would (LeadCleared,
 *  one ALLOW each) while no agent is ready, so nothing is dialled; then announces N agents READY
 *  (AgentState as telsim), so that pacing is never agent-bound (progressive: a line per ready
 *  agent), and times the CallRequests from the first to the N-th: dial steps per second.
 *
 *  Baseline in the same run, on the same redis-server: the Redis work a dial step does, as raw
 *  commands of the same sizes pipelined 256 steps deep on one connection (no scripts, no bus):
 *  the pass's read of the lead, the claim's writes, the history's write and read-back, the
 *  checking write and the DialCheck into the outbox, scrub's two reads (opt-outs, consents),
 *  scrub's seen marker and answer, the dialer's read of the lead and the place's writes with the
 *  CallRequest, and the audit events when there is an audit. Printed: commands/s, the steps/s
 *  they amount to, and the ratio. Redis's own count of commands per dial step (INFO
 *  commandstats over the dial phase) is printed beside it, as are the CPU seconds each process
 *  used.
 *
 *  Usage: bench_dialer_steps [--leads N] [--batch B] [--pace-ms MS] [--no-audit] [--bin DIR]
 *  Exit status 1 when not every lead was dialled exactly once.
 */
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

#ifndef PL_BUILD_TYPE
#define PL_BUILD_TYPE "?"
#endif

#define DEPTH 256

typedef struct {
    size_t leads;
    int batch, pace_ms;
    bool audit;
} opts_t;

static double
s_self_cpu (void)
{
    return pl_test_proc_cpu (getpid ());
}

/* INFO commandstats: every command's calls, printed per dial step, most frequent first. */
typedef struct {
    char name[48];
    double calls, usec;
} s_stat_t;

static int
s_by_calls (const void *a, const void *b)
{
    double x = ((const s_stat_t *) a)->calls, y = ((const s_stat_t *) b)->calls;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int
s_by_usec (const void *a, const void *b)
{
    double x = ((const s_stat_t *) a)->usec, y = ((const s_stat_t *) b)->usec;
    return x < y ? 1 : x > y ? -1 : 0;
}

static double
s_commandstats (redisContext *c, size_t steps)
{
    redisReply *r = redisCommand (c, "INFO commandstats");
    s_stat_t st[64];
    int n = 0;
    double total = 0;
    for (char *p = r && r->type == REDIS_REPLY_STRING ? strstr (r->str, "cmdstat_") : NULL; p && n < 64;
         p = strstr (p + 1, "cmdstat_")) {
        double calls = 0, usec = 0;
        char name[48];
        if (sscanf (p, "cmdstat_%47[^:]:calls=%lf,usec=%lf", name, &calls, &usec) < 2)
            continue;
        if (strcmp (name, "info") == 0 || strcmp (name, "config") == 0)
            continue;
        snprintf (st[n].name, sizeof st[n].name, "%s", name);
        st[n].usec = usec;
        st[n++].calls = calls;
        total += calls;
    }
    if (r)
        freeReplyObject (r);
    qsort (st, (size_t) n, sizeof *st, s_by_calls);
    printf ("  redis commands per dial step (INFO commandstats over the dial phase, the agents' states "
            "included): %.1f\n   ", total / (double) steps);
    for (int i = 0; i < n && i < 12; i++)
        printf (" %s %.2f", st[i].name, st[i].calls / (double) steps);
    qsort (st, (size_t) n, sizeof *st, s_by_usec);
    printf ("\n  Redis's CPU in commands per dial step (usec), most first (a script's includes its commands):\n   ");
    for (int i = 0; i < n && i < 8; i++)
        printf (" %s %.1f", st[i].name, st[i].usec / (double) steps);
    printf ("\n");
    return total / (double) steps;
}

/* ---- the baseline -------------------------------------------------------------------------------- */

static void
s_reply_or_die (redisContext *c)
{
    redisReply *r = NULL;
    if (redisGetReply (c, (void **) &r) != REDIS_OK || !r || r->type == REDIS_REPLY_ERROR) {
        fprintf (stderr, "bench_dialer_steps: baseline command failed: %s\n", r ? r->str : c->errstr);
        exit (1);
    }
    freeReplyObject (r);
}

/* Appends the raw commands of dial step i; returns how many. */
static int
s_raw_step (redisContext *c, size_t i, const char *pb, size_t pb_len, const char *check, size_t check_len,
            const char *small, bool audit, bool setup)
{
    char dl[96], hist[64], optout[64], consents[64], seen1[96], seen2[96], att[48], num[24], ms[24];
    char agent[32], entry[96];
    fx_number (i, num);
    snprintf (dl, sizeof dl, "bl:{camp:bl}:dl:01KBENCHLEAD%014zu", i);
    snprintf (hist, sizeof hist, "bl:{num:%s}:hist", num);
    snprintf (optout, sizeof optout, "bl:{num:%s}:optout", num);
    snprintf (consents, sizeof consents, "bl:{num:%s}:consents", num);
    snprintf (seen1, sizeof seen1, "bl:{camp:bl}:seen:scrub:01KBENCHSEEN%014zu.dc", i);
    snprintf (seen2, sizeof seen2, "bl:{camp:bl}:seen:dialer:01KBENCHSEEN%014zu.result", i);
    snprintf (att, sizeof att, "01KBENCHLEAD%014zu.1", i);
    snprintf (ms, sizeof ms, "%lld", FX_T0 + (long long) i);
    snprintf (agent, sizeof agent, "us-bench-a%06zu", i);
    snprintf (entry, sizeof entry, "%s|collect-us|us-bench|ACC-%010zu|0", ms, i);
    int n = 0;
    if (setup) {
        /* the lead as enqueued (untimed), so that the pass has something of the right size to read */
        redisAppendCommand (c, "HSET %s pb %b nums %s idx 0 n 0 state queued sched 1 due %s", dl, pb, pb_len, num, ms);
        return 1;
    }
    /* the pass reads the lead */
    redisAppendCommand (c, "HMGET %s state att agent nums n idx sched cb pb man", dl);
    n++;
    /* claim */
    redisAppendCommand (c, "HSET %s state claimed att %s n 1 agent %s at %s wall %s dm auto", dl, att, agent,
                        ms, ms);
    redisAppendCommand (c, "ZADD bl:{camp:bl}:inflight %s %s", ms, att);
    n += 2;
    if (audit) {
        redisAppendCommand (c, "XADD bl:{camp:bl}:ob:audit * m %b", small, (size_t) 360);
        n++;
    }
    /* history: the attempt in, the whole history back */
    redisAppendCommand (c, "HSET %s %s %s", hist, att, entry);
    redisAppendCommand (c, "HGETALL %s", hist);
    n += 2;
    /* checking, and the DialCheck (lead and history) into the outbox */
    redisAppendCommand (c, "HSET %s state checking", dl);
    redisAppendCommand (c, "XADD bl:{camp:bl}:ob:scrub * m %b", check, check_len);
    n += 2;
    /* scrub: opt-outs and consents of the number, its seen marker and answer (and event) */
    redisAppendCommand (c, "HKEYS %s", optout);
    redisAppendCommand (c, "HGETALL %s", consents);
    redisAppendCommand (c, "SET %s 1 PX 2592000000", seen1);
    redisAppendCommand (c, "XADD bl:{camp:bl}:ob:dialer * m %b", small, (size_t) 220);
    n += 4;
    if (audit) {
        redisAppendCommand (c, "XADD bl:{camp:bl}:ob:audit * m %b", small, (size_t) 420);
        n++;
    }
    /* place: the dialer reads the lead, marks the answer seen, moves the attempt, emits the call */
    redisAppendCommand (c, "HMGET %s state att agent nums n idx sched cb pb man", dl);
    redisAppendCommand (c, "SET %s 1 PX 2592000000", seen2);
    redisAppendCommand (c, "HSET %s state placed idx 0 sched 0 zone America/New_York last %b", dl, small,
                        (size_t) 60);
    redisAppendCommand (c, "ZADD bl:{camp:bl}:out:placed %s %s", ms, att);
    redisAppendCommand (c, "XADD bl:{camp:bl}:ob:telephony * m %b", small, (size_t) 240);
    n += 5;
    if (audit) {
        redisAppendCommand (c, "XADD bl:{camp:bl}:ob:audit * m %b", small, (size_t) 380);
        n++;
    }
    return n;
}

typedef struct {
    double ops_s, steps_s, redis_cpu;
    int per_step;
} s_base_t;

static s_base_t
s_baseline (redisContext *c, size_t steps, size_t pb_len, bool audit)
{
    char *pb = malloc (pb_len + 1), *check = malloc (pb_len + 400), small[512];
    memset (pb, 'p', pb_len);
    memset (check, 'c', pb_len + 400);
    memset (small, 's', sizeof small);
    s_base_t b = { 0 };
    double cpu0 = 0, t0 = 0;
    size_t ops = 0;
    for (int timed = 0; timed < 2; timed++) {
        if (timed) {
            cpu0 = fx_redis_cpu (c);
            t0 = fx_now ();
        }
        for (size_t i = 0; i < steps; i += DEPTH) {
            size_t m = steps - i < DEPTH ? steps - i : DEPTH, k = 0;
            for (size_t j = 0; j < m; j++) {
                int per = s_raw_step (c, i + j, pb, pb_len, check, pb_len + 400, small, audit, !timed);
                k += (size_t) per;
                if (timed)
                    b.per_step = per;
            }
            for (size_t j = 0; j < k; j++)
                s_reply_or_die (c);
            if (timed)
                ops += k;
        }
    }
    double t = fx_now () - t0;
    b.redis_cpu = fx_redis_cpu (c) - cpu0;
    b.ops_s = (double) ops / t;
    b.steps_s = (double) steps / t;
    free (pb);
    free (check);
    return b;
}

int
main (int argc, char **argv)
{
    opts_t o = { .leads = 100000, .batch = 2000, .pace_ms = 1, .audit = true };
    static const struct option longs[] = { { "leads", required_argument, 0, 'n' },
                                           { "batch", required_argument, 0, 'b' },
                                           { "pace-ms", required_argument, 0, 'p' },
                                           { "no-audit", no_argument, 0, 'A' },
                                           { "bin", required_argument, 0, 'B' },
                                           { "help", no_argument, 0, 'h' },
                                           { 0, 0, 0, 0 } };
    int c;
    const char *bin = NULL;
    while ((c = getopt_long (argc, argv, "n:b:p:AB:h", longs, NULL)) != -1) {
        switch (c) {
        case 'n': o.leads = strtoull (optarg, NULL, 10); break;
        case 'b': o.batch = atoi (optarg); break;
        case 'p': o.pace_ms = atoi (optarg); break;
        case 'A': o.audit = false; break;
        case 'B': bin = optarg; break;
        default:
            fprintf (c == 'h' ? stdout : stderr,
                     "usage: bench_dialer_steps [--leads N (100000)] [--batch B (PLATEAU_DIALER_BATCH, 2000)]\n"
                     "                          [--pace-ms MS (1)] [--no-audit] [--bin DIR (the services)]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (o.leads < 10 || o.leads > 10000000 || o.batch < 1 || o.batch > 5000 || o.pace_ms < 1) {
        fprintf (stderr, "bench_dialer_steps: --leads 10 to 10000000, --batch 1 to 5000, --pace-ms >= 1\n");
        return 2;
    }
    pl_test_bin_dir (bin);
    signal (SIGPIPE, SIG_IGN);

    printf ("bench_dialer_steps: claim + history + re-check + request through plateau-dialer and plateau-scrub "
            "(CURVE on), %s build, %ld cores\n", PL_BUILD_TYPE, sysconf (_SC_NPROCESSORS_ONLN));
    fx_loadavg ("the start");
    printf ("%zu leads (us-dc, New York numbers, Lead of %zu bytes), %zu agents ready, PLATEAU_DIALER_BATCH=%d, "
            "PLATEAU_DIALER_PACE_MS=%d, audit %s\n", o.leads, fx_lead_size (0), o.leads, o.batch, o.pace_ms,
            o.audit ? "stand-in acking every event" : "off");

    fx_t f;
    fx_opts_t fo = { .scrub = true, .audit = o.audit, .batch = o.batch, .pace_ms = o.pace_ms };
    if (fx_start (&f, &fo, o.leads) != 0) {
        fx_stop (&f);
        return 1;
    }
    redisContext *rc = redisConnect ("127.0.0.1", pl_test_redis_port (f.srv));
    if (!rc || rc->err) {
        fprintf (stderr, "bench_dialer_steps: cannot connect to redis-server\n");
        return 1;
    }
    char rv[32] = "?";
    {
        redisReply *r = redisCommand (rc, "INFO server");
        const char *v = r && r->type == REDIS_REPLY_STRING ? strstr (r->str, "redis_version:") : NULL;
        if (v)
            snprintf (rv, sizeof rv, "%.*s", (int) strcspn (v + 14, "\r\n"), v + 14);
        if (r)
            freeReplyObject (r);
    }
    printf ("redis %s (no persistence), plateau-dialer pid %d, plateau-scrub pid %d\n\n", rv, (int) f.dialer,
            (int) f.scrub);

    /* 1. the queue, with nobody ready to take a call */
    double t0 = fx_now ();
    if (fx_queue_leads (&f, 0, o.leads, 1000) != 0) {
        fprintf (stderr, "bench_dialer_steps: the leads were not all queued\n");
        fx_stop (&f);
        return 1;
    }
    double tq = fx_now () - t0;
    printf ("queued    %zu leads in %.2f s through the bus door: %.0f leads/s (LeadCleared, batches of 1000)\n",
            o.leads, tq, (double) o.leads / tq);

    /* 2. the agents, and the dials they let through */
    redisReply *rr = redisCommand (rc, "CONFIG RESETSTAT");
    if (rr)
        freeReplyObject (rr);
    double cpu_d0 = pl_test_proc_cpu (f.dialer), cpu_s0 = pl_test_proc_cpu (f.scrub), cpu_b0 = s_self_cpu ();
    double cpu_r0 = fx_redis_cpu (rc);
    double ta = fx_now (), agents_done = 0;
    if (fx_agents_ready (&f, 0, o.leads, 1000) != 0) {
        fprintf (stderr, "bench_dialer_steps: the agents' states were not stored\n");
        fx_stop (&f);
        return 1;
    }
    double stuck = fx_now () + 30;
    uint64_t seen = 0;
    while (f.calls < o.leads && fx_now () < stuck) {
        fx_pump (&f, 2);
        if (!agents_done && pl_bus_client_inflight (f.as_telsim) == 0)
            agents_done = fx_now ();
        if (f.calls != seen) {
            seen = f.calls;
            stuck = fx_now () + 30;
        }
    }
    double cpu_d = pl_test_proc_cpu (f.dialer) - cpu_d0, cpu_s = pl_test_proc_cpu (f.scrub) - cpu_s0;
    double cpu_b = s_self_cpu () - cpu_b0, cpu_r = fx_redis_cpu (rc) - cpu_r0;
    double span = f.last_call - f.first_call;
    double steps_s = f.calls > 1 && span > 0 ? (double) (f.calls - 1) / span : 0;
    printf ("dialled   %llu of %zu leads once each (%llu duplicate requests); first CallRequest %.3f s after the "
            "first agent was announced, the agents' %zu states all acknowledged at %+.2f s from the first call\n",
            (unsigned long long) f.calls, o.leads, (unsigned long long) f.call_dups, f.first_call - ta, o.leads,
            agents_done ? agents_done - f.first_call : -1.0);
    printf ("  first to last CallRequest   %.3f s: %.0f dial steps/s\n", span, steps_s);
    printf ("  cpu seconds over the dial phase: dialer %.2f, scrub %.2f, redis-server %.2f, bench (stand-ins, "
            "agents) %.2f: %.1f us of CPU per dial step in all\n", cpu_d, cpu_s, cpu_r, cpu_b,
            f.calls ? (cpu_d + cpu_s + cpu_r + cpu_b) / (double) f.calls * 1e6 : 0.0);
    double per_step = s_commandstats (rc, f.calls ? f.calls : 1);
    printf ("  the dialer's steps:\n");
    fx_print_metrics (f.dialer_ops, "plateau_dialer_steps_total{");
    bool ok = f.calls == o.leads && f.call_dups == 0;
    if (!ok) {
        printf ("  scrub's checks:\n");
        fx_print_metrics (f.scrub_ops, "plateau_scrub_");
    }

    /* 3. the baseline: the same Redis work as raw pipelined commands, same server */
    s_base_t b = s_baseline (rc, o.leads, fx_lead_size (0), o.audit);
    printf ("\nbaseline  raw commands of the same sizes, %d per dial step, pipelined %d steps deep, one "
            "connection, same redis-server\n", b.per_step, DEPTH);
    printf ("  %.0f commands/s = %.0f steps/s (redis-server cpu %.2f s)\n", b.ops_s, b.steps_s, b.redis_cpu);
    printf ("\nratio     dial steps/s / raw Redis steps/s: %.3f (the whole step runs at %.1f%% of its raw Redis "
            "writes and reads); Redis's own count is %.1f commands a step (scripts, bus outboxes, seen markers)\n",
            b.steps_s > 0 ? steps_s / b.steps_s : 0, b.steps_s > 0 ? 100 * steps_s / b.steps_s : 0, per_step);
    printf ("goal      >= 20,000 dial steps/s on 2 cores: %.0f (%.2f of the goal)\n", steps_s, steps_s / 20000);
    fx_loadavg ("the end");
    redisFree (rc);
    fx_stop (&f);
    return ok ? 0 : 1;
}
