/*  bench_e2e.c — leads per second end to end, from the HTTP intake through scrub to scheduled
 *  in the dialer, with the audit (issue 14, acceptance 3).
 *
 *  Everything runs as in production (bench/dialer/fixture.h): a private redis-server, the built
 *  plateau-audit, plateau-scrub, plateau-dialer and plateau-intake (CURVE on), the campaign
 *  us-bench (us-dc: no registry copy, no consent needed) with nobody ready, so that nothing is
 *  dialled and a lead's journey ends when the dialer has it in its due queue
 *  (pl:{camp:us-bench}:due). Every process runs on one virtual clock that starts at Monday
 *  2026-12-07 15:00 UTC (10:00 in New York, inside us-dc's window) and runs at real speed from a
 *  wall-clock anchor the bench shares: the due instant the dialer writes for a cleared lead is
 *  its clock when it scheduled the lead, so the bench reads every lead's scheduling instant back
 *  from Redis afterwards instead of polling for it.
 *
 *  1. Calibration (untimed): --sample leads through the whole chain while Redis's MONITOR
 *     records every command the services send (those inside scripts included).
 *  2. Sustained: --leads N as CSV (US debt collection leads, New York numbers in their usual
 *     written forms) over 2 HTTP connections, half each, from the first request until every
 *     lead is in the due queue; milestones: every lead answered by the intake, every lead
 *     judged by scrub (its metric, read every 100 ms), every lead scheduled (the latest due
 *     instant). Redis's INFO commandstats over the phase, until the services are quiet again,
 *     gives the commands per lead by name. ZCARD of the due queue every 5 ms is the bench's only
 *     Redis load meanwhile (subtracted from the counts).
 *  3. Latency: 1,000-lead JSON batches at a steady rate (--rate, default half the sustained
 *     rate) on 2 connections; for every lead, the time from the HTTP answer of its batch to the
 *     instant the dialer scheduled it (its due score), read with ZMSCORE once the run is over:
 *     p50 / p99 / max per lead, and per batch (its last lead). ZCARD every 20 ms meanwhile.
 *  4. Baseline, same redis-server: the calibration's commands replayed raw (replay.h: no
 *     scripts, no bus; each command as often per lead as the sustained phase sent it),
 *     pipelined 256 leads deep on one connection. Leads/s and the ratio.
 *
 *  Usage: bench_e2e [--leads N] [--rate R] [--batches B] [--sample S] [--bin DIR]
 *  Exit status 1 when not every lead was scheduled exactly once.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "leads.h"
#include "pl_test_http.h"
#include "replay.h"

#ifndef PL_BUILD_TYPE
#define PL_BUILD_TYPE "?"
#endif

#define BATCH 1000              /* leads in a latency batch */
#define DEPTH 256               /* leads a pipeline in the baseline */
#define DUE "pl:{camp:" FX_CAMPAIGN "}:due"
#define ID_LEN 40

typedef struct {
    size_t leads, sample, batches;
    double rate;
} opts_t;

static long long s_anchor;      /* the wall-clock ms at which the virtual clock reads FX_T0 */
static int s_http_port;

/* Wall-clock milliseconds: the time line every process's virtual clock runs on. */
static double
s_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

/* A wall-clock instant on the services' virtual clock. */
static double
s_virtual (double wall_ms)
{
    return (double) FX_T0 + (wall_ms - (double) s_anchor);
}

/* ---- INFO commandstats ------------------------------------------------------------------------ */

#define MAX_STATS 128

typedef struct {
    char name[48];
    double calls, usec;
} s_stat_t;

typedef struct {
    s_stat_t st[MAX_STATS];
    int n;
} s_stats_t;

static void
s_stats_read (redisContext *c, s_stats_t *s)
{
    s->n = 0;
    redisReply *r = redisCommand (c, "INFO commandstats");
    for (char *p = r && r->type == REDIS_REPLY_STRING ? strstr (r->str, "cmdstat_") : NULL; p && s->n < MAX_STATS;
         p = strstr (p + 1, "cmdstat_")) {
        s_stat_t *x = &s->st[s->n];
        if (sscanf (p, "cmdstat_%47[^:]:calls=%lf,usec=%lf", x->name, &x->calls, &x->usec) == 3)
            s->n++;
    }
    if (r)
        freeReplyObject (r);
}

static double
s_stats_total (const s_stats_t *s)
{
    double t = 0;
    for (int i = 0; i < s->n; i++)
        if (strcmp (s->st[i].name, "info") != 0 && strncmp (s->st[i].name, "config", 6) != 0)
            t += s->st[i].calls;
    return t;
}

static s_stat_t *
s_stat (s_stats_t *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp (s->st[i].name, name) == 0)
            return &s->st[i];
    return NULL;
}

static int
s_by_calls (const void *a, const void *b)
{
    double x = ((const s_stat_t *) a)->calls, y = ((const s_stat_t *) b)->calls;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Waits until Redis is as quiet as before the phase: fewer commands in 250 ms than idle_250ms
 * (the services' own polling) twice running, or 30 s. The seconds it took. */
static double
s_settle (redisContext *c, double idle_250ms)
{
    double t0 = fx_now (), last = -1;
    s_stats_t s;
    int quiet = 0;
    while (fx_now () - t0 < 30 && quiet < 2) {
        s_stats_read (c, &s);
        double t = s_stats_total (&s);
        quiet = last >= 0 && t - last <= idle_250ms ? quiet + 1 : 0;
        last = t;
        usleep (250000);
    }
    return fx_now () - t0;
}

/* ---- HTTP clients ----------------------------------------------------------------------------- */

typedef struct {
    const char *query, *ctype;
    lb_buf_t *bodies;
    size_t nbodies, first, step;
    double start_ms, interval_ms;           /* paced: body i is sent at start + i * interval */
    double *sent_ms, *answer_ms;            /* per body, wall clock */
    char (*ids)[ID_LEN];                    /* when not NULL: BATCH lead ids per body */
    size_t accepted, other;                 /* summed over the summaries */
    int failures;
} s_client_t;

/* The summary's count of `field` ("accepted", …), or -1. */
static long
s_summary (const char *body, const char *field)
{
    const char *s = body ? strstr (body, "\"summary\":{") : NULL;
    char pat[48];
    snprintf (pat, sizeof pat, "\"%s\":", field);
    const char *p = s ? strstr (s, pat) : NULL;
    return p ? strtol (p + strlen (pat), NULL, 10) : -1;
}

static void *
s_client (void *arg)
{
    s_client_t *c = arg;
    char headers[256];
    snprintf (headers, sizeof headers, "Authorization: Bearer %s\r\nContent-Type: %s\r\n", FX_CRM_TOKEN, c->ctype);
    for (size_t i = c->first; i < c->nbodies; i += c->step) {
        if (c->interval_ms > 0) {
            double at = c->start_ms + (double) i * c->interval_ms, now;
            while ((now = s_wall_ms ()) < at)
                usleep ((useconds_t) ((at - now) * 1e3) + 1);
        }
        c->sent_ms[i] = s_wall_ms ();
        pl_test_http_resp_t r = { 0 };
        int st = pl_test_http_request (s_http_port, "POST", c->query, headers, c->bodies[i].data, c->bodies[i].len, &r);
        c->answer_ms[i] = s_wall_ms ();
        long acc = st == 200 ? s_summary (r.body, "accepted") : -1;
        long items = st == 200 ? s_summary (r.body, "items") : -1;
        if (acc < 0 || items != acc) {
            if (c->failures++ == 0)
                fprintf (stderr, "bench_e2e: HTTP %d: %.300s\n", st, r.body ? r.body : "");
        }
        c->accepted += acc > 0 ? (size_t) acc : 0;
        c->other += items > acc ? (size_t) (items - acc) : 0;
        if (c->ids) {
            /* the batch's results in order: {"status":"accepted","lead_id":"…"} */
            size_t k = 0;
            for (const char *p = r.body ? strstr (r.body, "\"lead_id\":\"") : NULL; p && k < BATCH;
                 p = strstr (p + 1, "\"lead_id\":\"")) {
                size_t n = strcspn (p + 11, "\"");
                snprintf (c->ids[i * BATCH + k++], ID_LEN, "%.*s", (int) (n < ID_LEN - 1 ? n : ID_LEN - 1), p + 11);
            }
            if (k != BATCH && c->failures++ == 0)
                fprintf (stderr, "bench_e2e: %zu lead ids in an answer of %d leads\n", k, BATCH);
        }
        pl_test_http_resp_free (&r);
    }
    return NULL;
}

/* Starts `clients` threads sending bodies (client k: bodies k, k + clients, …). */
static int
s_clients_start (pthread_t *th, s_client_t *c, int clients, const s_client_t *proto)
{
    for (int k = 0; k < clients; k++) {
        c[k] = *proto;
        c[k].first = (size_t) k;
        c[k].step = (size_t) clients;
        if (pthread_create (&th[k], NULL, s_client, &c[k]) != 0)
            return -1;
    }
    return 0;
}

/* ---- helpers ---------------------------------------------------------------------------------- */

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double
s_pct (const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t) ceil ((double) n * p) - 1;
    return sorted[i < n ? i : n - 1];
}

/* The highest due instant in the queue (the last lead scheduled), or -1. */
static double
s_max_due (redisContext *c)
{
    redisReply *r = redisCommand (c, "ZRANGE " DUE " -1 -1 WITHSCORES");
    double v = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? atof (r->element[1]->str) : -1;
    if (r)
        freeReplyObject (r);
    return v;
}

/* The lowest due instant at or after from_ms (the first lead of a phase scheduled), or -1. */
static double
s_first_due (redisContext *c, double from_ms)
{
    redisReply *r = redisCommand (c, "ZRANGEBYSCORE " DUE " %.0f +inf WITHSCORES LIMIT 0 1", floor (from_ms));
    double v = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? atof (r->element[1]->str) : -1;
    if (r)
        freeReplyObject (r);
    return v;
}

static double
s_scrubbed (const fx_t *f)
{
    return fx_metric (f->scrub_ops, "plateau_scrub_leads_total{");
}

typedef struct {
    double cpu[6];               /* audit, intake, scrub, dialer, redis-server, bench */
} s_cpu_t;

static void
s_cpu_read (const fx_t *f, redisContext *c, s_cpu_t *x)
{
    pid_t p[4] = { f->audit_pid, f->intake, f->scrub, f->dialer };
    for (int i = 0; i < 4; i++)
        x->cpu[i] = pl_test_proc_cpu (p[i]);
    x->cpu[4] = fx_redis_cpu (c);
    x->cpu[5] = pl_test_proc_cpu (getpid ());
}

static double
s_cpu_print (const char *what, const s_cpu_t *a, const s_cpu_t *b, size_t leads)
{
    static const char *names[6] = { "audit", "intake", "scrub", "dialer", "redis-server", "bench" };
    double total = 0;
    printf ("  cpu seconds %s:", what);
    for (int i = 0; i < 6; i++) {
        printf (" %s %.2f%s", names[i], b->cpu[i] - a->cpu[i], i < 5 ? "," : "");
        total += b->cpu[i] - a->cpu[i];
    }
    printf ("\n    = %.1f us of CPU per lead in all, %.1f us without the bench (its HTTP clients and polling)\n",
            total / (double) leads * 1e6, (total - (b->cpu[5] - a->cpu[5])) / (double) leads * 1e6);
    return total;
}

/* The port of a hiredis connection's own end, to tell the bench's commands in MONITOR. */
static int
s_local_port (const redisContext *c)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname (c->fd, (struct sockaddr *) &a, &len) != 0)
        return -1;
    return ntohs (a.sin_port);
}

/* Polls ZCARD of the due queue every poll_ms until it reaches `want` or stops growing for 60 s;
 * meanwhile notes the moment scrub's count of judged leads reached scrub_want (every 100 ms).
 * Returns the last count; *polls counts the ZCARDs sent. */
static long long
s_wait_scheduled (fx_t *f, redisContext *c, long long want, int poll_ms, double scrub_want, double *scrubbed_ms,
                  size_t *polls)
{
    long long n = -1, last = -1;
    double stuck = fx_now () + 60, next_metric = 0;
    while (fx_now () < stuck) {
        n = fx_int (c, "ZCARD " DUE);
        (*polls)++;
        if (n != last) {
            last = n;
            stuck = fx_now () + 60;
        }
        if (scrubbed_ms && *scrubbed_ms == 0 && fx_now () >= next_metric) {
            next_metric = fx_now () + 0.1;
            if (s_scrubbed (f) >= scrub_want)
                *scrubbed_ms = s_wall_ms ();
        }
        if (n >= want && (!scrubbed_ms || *scrubbed_ms > 0))
            break;
        usleep ((useconds_t) poll_ms * 1000);
    }
    return n;
}

/* The sustained phase's commands per lead by name, for the baseline's weights. */
typedef struct {
    s_stats_t *per_lead;         /* calls already divided by the leads */
    const rp_sample_t *sample;
    size_t sample_leads;
} s_weights_t;

static double
s_weight (void *arg, const char *name)
{
    s_weights_t *w = arg;
    s_stat_t *st = s_stat (w->per_lead, name);
    size_t n = rp_count (w->sample, name);
    if (!st || n == 0)
        return 0;
    return st->calls / ((double) n / (double) w->sample_leads);
}

int
main (int argc, char **argv)
{
    opts_t o = { .leads = 100000, .sample = 1000, .batches = 30, .rate = 0 };
    static const struct option longs[] = { { "leads", required_argument, 0, 'n' },
                                           { "rate", required_argument, 0, 'r' },
                                           { "batches", required_argument, 0, 'k' },
                                           { "sample", required_argument, 0, 's' },
                                           { "bin", required_argument, 0, 'B' },
                                           { "help", no_argument, 0, 'h' },
                                           { 0, 0, 0, 0 } };
    int ch;
    const char *bin = NULL;
    while ((ch = getopt_long (argc, argv, "n:r:k:s:B:h", longs, NULL)) != -1) {
        switch (ch) {
        case 'n': o.leads = strtoull (optarg, NULL, 10); break;
        case 'r': o.rate = atof (optarg); break;
        case 'k': o.batches = strtoull (optarg, NULL, 10); break;
        case 's': o.sample = strtoull (optarg, NULL, 10); break;
        case 'B': bin = optarg; break;
        default:
            fprintf (ch == 'h' ? stdout : stderr,
                     "usage: bench_e2e [--leads N (100000)] [--rate LEADS/S (half the sustained rate)]\n"
                     "                 [--batches B (30 JSON batches of %d for the latency)]\n"
                     "                 [--sample S (1000 leads recorded with MONITOR for the baseline)]\n"
                     "                 [--bin DIR (the services; default: beside this program)]\n",
                     BATCH);
            return ch == 'h' ? 0 : 2;
        }
    }
    if (o.leads < 1000 || o.leads > 5000000 || o.sample < 100 || o.sample > 20000 || o.batches < 1
        || o.batches > 10000 || o.rate < 0) {
        fprintf (stderr, "bench_e2e: --leads 1000 to 5000000, --sample 100 to 20000, --batches 1 to 10000, "
                         "--rate >= 0\n");
        return 2;
    }
    o.leads -= o.leads % 2;
    pl_test_bin_dir (bin);
    signal (SIGPIPE, SIG_IGN);
    setvbuf (stdout, NULL, _IOLBF, 0);          /* each phase's lines as they come, into a log too */

    /* the leads: the calibration's [0, S), the sustained run's [S, S + N), then the batches' */
    const size_t S = o.sample, N = o.leads, L0 = S + N, NL = o.batches * BATCH;
    lb_buf_t cal = { 0 }, half[2] = { { 0 } };
    lb_csv (&cal, 0, S);
    lb_csv (&half[0], S, S + N / 2);
    lb_csv (&half[1], S + N / 2, L0);
    lb_buf_t *batches = calloc (o.batches, sizeof *batches);
    char (*ids)[ID_LEN] = calloc (NL, ID_LEN);
    double *sent = calloc (o.batches + 2, sizeof *sent), *answered = calloc (o.batches + 2, sizeof *answered);
    double *lat = calloc (NL, sizeof *lat), *blat = calloc (o.batches, sizeof *blat);
    double *http_ms = calloc (o.batches, sizeof *http_ms);
    if (!batches || !ids || !sent || !answered || !lat || !blat || !http_ms)
        return 1;
    for (size_t b = 0; b < o.batches; b++)
        lb_json (&batches[b], L0 + b * BATCH, L0 + (b + 1) * BATCH);

    printf ("bench_e2e: leads from HTTP intake through scrub to scheduled in the dialer, with the audit; "
            "%s build, %ld CPUs\n", PL_BUILD_TYPE, sysconf (_SC_NPROCESSORS_ONLN));
    fx_loadavg ("the start");

    /* One virtual clock for all, running from FX_T0 at real speed. */
    s_anchor = (long long) s_wall_ms ();
    char clock[96];
    snprintf (clock, sizeof clock, "virtual:%lld@%lldx1", FX_T0, s_anchor);
    fx_t f;
    fx_opts_t fo = { .scrub = true, .audit = true, .real_audit = true, .intake = true, .batch = 200,
                     .pace_ms = 20, .clock = clock };
    if (fx_start (&f, &fo, 0) != 0) {
        fx_stop (&f);
        return 1;
    }
    s_http_port = f.intake_http;
    redisContext *rc = redisConnect ("127.0.0.1", pl_test_redis_port (f.srv));
    if (!rc || rc->err) {
        fprintf (stderr, "bench_e2e: cannot connect to redis-server\n");
        fx_stop (&f);
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
    printf ("redis %s (no persistence; the audit fdatasyncs its own store), pids: plateau-audit %d, "
            "plateau-intake %d, plateau-scrub %d, plateau-dialer %d (PLATEAU_DIALER_BATCH=%d, PACE_MS=%d)\n",
            rv, (int) f.audit_pid, (int) f.intake, (int) f.scrub, (int) f.dialer, fo.batch, fo.pace_ms);
    printf ("campaign %s (us-dc, nobody ready: nothing dialled), virtual clock %s (10:00 New York at the "
            "start, running at real speed)\n", FX_CAMPAIGN, clock);

    /* The services' own idle traffic (pacing passes, bus ticks): the settle threshold. */
    s_stats_t st0, st1;
    s_stats_read (rc, &st0);
    usleep (1000000);
    s_stats_read (rc, &st1);
    double idle_s = s_stats_total (&st1) - s_stats_total (&st0) - 1;
    double idle_250 = idle_s / 4 * 2 + 20;
    int ok = 1;
    char q[128];
    snprintf (q, sizeof q, "/v1/leads?campaign=%s&results=errors", FX_CAMPAIGN);

    /* ---- 1. calibration: every command of S leads' journeys, with MONITOR ------------------- */
    rp_sample_t *sample = rp_monitor_start (pl_test_redis_port (f.srv), s_local_port (rc));
    if (!sample) {
        fprintf (stderr, "bench_e2e: MONITOR failed\n");
        fx_stop (&f);
        return 1;
    }
    pthread_t th[2];
    s_client_t cl[2];
    size_t polls = 0;
    s_client_t proto = { .query = q, .ctype = "text/csv", .bodies = &cal, .nbodies = 1, .sent_ms = sent,
                         .answer_ms = answered };
    if (s_clients_start (th, cl, 1, &proto) != 0)
        return 1;
    pthread_join (th[0], NULL);
    long long n = s_wait_scheduled (&f, rc, (long long) S, 20, 0, NULL, &polls);
    s_settle (rc, idle_250);
    rp_monitor_stop (sample);
    if (cl[0].failures || cl[0].accepted != S || n != (long long) S) {
        fprintf (stderr, "bench_e2e: calibration: %zu of %zu leads accepted, %lld scheduled\n", cl[0].accepted, S, n);
        fx_stop (&f);
        return 1;
    }
    printf ("calibration: %zu leads through the chain under MONITOR (untimed): %zu commands recorded for the "
            "baseline (%.1f a lead)\n\n", S, rp_total (sample), (double) rp_total (sample) / (double) S);

    /* ---- 2. sustained: N leads as CSV on 2 connections ---------------------------------------- */
    double scrubbed0 = s_scrubbed (&f);
    redisReply *rr = redisCommand (rc, "CONFIG RESETSTAT");
    if (rr)
        freeReplyObject (rr);
    s_cpu_t c0, c1, c2;
    s_cpu_read (&f, rc, &c0);
    polls = 0;
    double t0 = s_wall_ms (), t_scrubbed = 0;
    proto = (s_client_t) { .query = q, .ctype = "text/csv", .bodies = half, .nbodies = 2, .sent_ms = sent,
                           .answer_ms = answered };
    if (s_clients_start (th, cl, 2, &proto) != 0)
        return 1;
    n = s_wait_scheduled (&f, rc, (long long) (S + N), 5, scrubbed0 + (double) N, &t_scrubbed, &polls);
    pthread_join (th[0], NULL);
    pthread_join (th[1], NULL);
    double t_poll = s_wall_ms ();
    s_cpu_read (&f, rc, &c1);
    double t_answered = answered[0] > answered[1] ? answered[0] : answered[1];
    double first_due = s_first_due (rc, s_virtual (t0)), last_due = s_max_due (rc);
    double t_last = (double) s_anchor + (last_due - (double) FX_T0);
    double t_first = (double) s_anchor + (first_due - (double) FX_T0);
    size_t accepted = cl[0].accepted + cl[1].accepted, refused = cl[0].other + cl[1].other;
    int failures = cl[0].failures + cl[1].failures;
    double span = (t_last - t0) / 1e3, rate = span > 0 ? (double) N / span : 0;
    printf ("sustained  %zu leads as CSV, 2 connections (half each, %.1f MB in all)\n", N,
            (double) (half[0].len + half[1].len) / 1e6);
    printf ("  %-48s %8.3f s  %8.0f leads/s\n", "all answered by the intake (stored, owed to scrub)",
            (t_answered - t0) / 1e3, (double) N / ((t_answered - t0) / 1e3));
    if (t_scrubbed > 0)
        printf ("  %-48s %8.3f s  %8.0f leads/s  (scrub's metric, read every 100 ms)\n", "all judged by scrub",
                (t_scrubbed - t0) / 1e3, (double) N / ((t_scrubbed - t0) / 1e3));
    else
        printf ("  all judged by scrub: not seen (%.0f of %zu)\n", s_scrubbed (&f) - scrubbed0, N);
    printf ("  %-48s %8.3f s  %8.0f leads/s  <- end to end\n", "all scheduled in the dialer (last due instant)",
            span, rate);
    printf ("  first lead scheduled %.3f s after the first request; the poll saw the last at %.3f s\n",
            (t_first - t0) / 1e3, (t_poll - t0) / 1e3);
    s_cpu_print ("until all scheduled", &c0, &c1, N);
    if (failures || accepted != N || n != (long long) (S + N)) {
        printf ("  FAILED: %zu of %zu accepted (%zu other), %lld of %zu in the due queue\n", accepted, N, refused,
                n - (long long) S, N);
        ok = 0;
    }
    double settle = s_settle (rc, idle_250);
    s_cpu_read (&f, rc, &c2);
    s_stats_t stats, per;
    s_stats_read (rc, &stats);
    s_stat_t *zc = s_stat (&stats, "zcard");
    if (zc)
        zc->calls -= (double) polls;            /* the bench's own */
    per = stats;
    double cmds = 0;
    for (int i = 0; i < per.n; i++) {
        per.st[i].calls /= (double) N;
        per.st[i].usec /= (double) N;
        if (strcmp (per.st[i].name, "info") == 0 || strncmp (per.st[i].name, "config", 6) == 0) {
            per.st[i].calls = 0;
            continue;
        }
        cmds += per.st[i].calls;
    }
    qsort (per.st, (size_t) per.n, sizeof per.st[0], s_by_calls);
    char what[96];
    snprintf (what, sizeof what, "until Redis was quiet again (%.1f s more: last acks and outbox deletes)", settle);
    s_cpu_print (what, &c0, &c2, N);
    printf ("  redis commands per lead (INFO commandstats over the phase, scripts' own commands included): %.1f\n",
            cmds);
    for (int i = 0, col = 0; i < per.n; i++) {
        if (per.st[i].calls < 0.005)
            continue;
        printf ("%s%-18s %6.2f %7.1f us", col % 3 == 0 ? "    " : "   ", per.st[i].name, per.st[i].calls,
                per.st[i].usec);
        if (++col % 3 == 0)
            printf ("\n");
    }
    printf ("\n    (name, calls per lead, Redis's time per lead: a script's includes its commands')\n");
    printf ("  the dialer's enqueue steps:\n");
    fx_print_metrics (f.dialer_ops, "plateau_dialer_steps_total{step=\"enqueue\"");
    printf ("  scrub's leads:\n");
    fx_print_metrics (f.scrub_ops, "plateau_scrub_leads_total{");

    /* ---- 3. latency at a steady rate --------------------------------------------------------- */
    double lrate = o.rate > 0 ? o.rate : rate / 2;
    if (lrate < 1)
        lrate = 1;
    double interval = (double) BATCH / lrate * 1e3;
    printf ("\nlatency    %zu JSON batches of %d leads at %.0f leads/s (a batch every %.0f ms, 2 connections)\n",
            o.batches, BATCH, lrate, interval);
    snprintf (q, sizeof q, "/v1/leads?campaign=%s", FX_CAMPAIGN);
    proto = (s_client_t) { .query = q, .ctype = "application/json", .bodies = batches, .nbodies = o.batches,
                           .start_ms = s_wall_ms () + 50, .interval_ms = interval, .sent_ms = sent,
                           .answer_ms = answered, .ids = ids };
    polls = 0;
    if (s_clients_start (th, cl, 2, &proto) != 0)
        return 1;
    pthread_join (th[0], NULL);
    pthread_join (th[1], NULL);
    n = s_wait_scheduled (&f, rc, (long long) (L0 + NL), 20, 0, NULL, &polls);
    accepted = cl[0].accepted + cl[1].accepted;
    failures = cl[0].failures + cl[1].failures;
    double t_end = s_wall_ms ();
    /* every lead's due instant, read now that the run is over */
    size_t nlat = 0, missing = 0, deferred = 0;
    for (size_t b = 0; b < o.batches; b++) {
        const char *av[2 + BATCH];
        size_t al[2 + BATCH];
        av[0] = "ZMSCORE";
        al[0] = 7;
        av[1] = DUE;
        al[1] = strlen (DUE);
        for (size_t j = 0; j < BATCH; j++) {
            av[2 + j] = ids[b * BATCH + j];
            al[2 + j] = strlen (ids[b * BATCH + j]);
        }
        redisReply *r = redisCommandArgv (rc, 2 + BATCH, av, al);
        double answer_v = s_virtual (answered[b]), worst = 0;
        for (size_t j = 0; r && r->type == REDIS_REPLY_ARRAY && j < r->elements; j++) {
            const redisReply *e = r->element[j];
            if (e->type != REDIS_REPLY_STRING) {
                missing++;
                continue;
            }
            double d = atof (e->str) - answer_v;
            if (atof (e->str) > s_virtual (t_end) + 1000) {
                deferred++;            /* scheduled for later than now: a deferral, not a latency */
                continue;
            }
            lat[nlat++] = d;
            worst = d > worst ? d : worst;
        }
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != BATCH)
            missing += BATCH;
        if (r)
            freeReplyObject (r);
        blat[b] = worst;
        http_ms[b] = answered[b] - sent[b];
    }
    qsort (lat, nlat, sizeof *lat, s_cmp);
    qsort (blat, o.batches, sizeof *blat, s_cmp);
    qsort (http_ms, o.batches, sizeof *http_ms, s_cmp);
    printf ("  HTTP answer of a batch (sent -> answered)     p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms\n",
            s_pct (http_ms, o.batches, 0.5), s_pct (http_ms, o.batches, 0.99), http_ms[o.batches - 1]);
    printf ("  answer -> scheduled, per lead (%6zu leads)  p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms\n", nlat,
            s_pct (lat, nlat, 0.5), s_pct (lat, nlat, 0.99), nlat ? lat[nlat - 1] : 0.0);
    printf ("  answer -> scheduled, per batch (its last)     p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms\n",
            s_pct (blat, o.batches, 0.5), s_pct (blat, o.batches, 0.99), blat[o.batches - 1]);
    printf ("  (each lead's due instant, written by the dialer from its clock as it scheduled the lead, read "
            "with ZMSCORE after the run; ZCARD every 20 ms meanwhile)\n");
    if (failures || accepted != NL || missing || deferred || n != (long long) (L0 + NL)) {
        printf ("  FAILED: %zu of %zu accepted, %zu not in the due queue, %zu deferred, %lld of %zu queued\n",
                accepted, NL, missing, deferred, n, L0 + NL);
        ok = 0;
    }
    /* exactly once: as many members in the queue as leads accepted, and every id distinct */
    long long queued = fx_int (rc, "ZCARD " DUE);
    if (queued != (long long) (L0 + NL)) {
        printf ("  FAILED: %lld leads in the due queue, %zu sent\n", queued, L0 + NL);
        ok = 0;
    }

    /* ---- 4. baseline: the same Redis work, raw, pipelined ------------------------------------- */
    if (rp_prepare (sample, rc) != 0) {
        fprintf (stderr, "bench_e2e: COMMAND GETKEYS failed\n");
        ok = 0;
    }
    s_weights_t w = { .per_lead = &per, .sample = sample, .sample_leads = S };
    double sample_per_lead = (double) rp_total (sample) / (double) S, replay_per_lead = 0;
    for (size_t i = 0; rp_name (sample, i); i++)
        replay_per_lead += s_weight (&w, rp_name (sample, i)) * (double) rp_count (sample, rp_name (sample, i)) /
                           (double) S;
    /* at least 20,000 leads, so that a small run's baseline is not a fraction of a second */
    size_t base_n = N > 20000 ? N : 20000, rounds = (base_n + S - 1) / S, chunk = (size_t) (replay_per_lead * DEPTH);
    double rcpu0 = fx_redis_cpu (rc);
    rp_result_t b = rp_replay (sample, rc, rounds, chunk ? chunk : 1, s_weight, &w);
    double rcpu = fx_redis_cpu (rc) - rcpu0, base_leads = (double) (rounds * S);
    double base_rate = b.seconds > 0 ? base_leads / b.seconds : 0;
    printf ("\nbaseline   the commands of the calibration's journeys replayed raw (no scripts, no bus), each as "
            "often per lead as in the sustained phase: %.1f a lead (%.1f in the sample); %d leads a pipeline, "
            "one connection, same redis-server\n", replay_per_lead, sample_per_lead, DEPTH);
    printf ("  %.0f leads in %.3f s: %.0f commands/s = %.0f leads/s (redis-server cpu %.2f s, %.1f us a lead)%s\n",
            base_leads, b.seconds, (double) b.commands / b.seconds, base_rate, rcpu, rcpu / base_leads * 1e6,
            b.errors ? "" : "; no error replies");
    if (b.errors)
        printf ("  %zu error replies (first: %s)\n", b.errors, b.first_error);
    printf ("  not in the replay: ");
    int none = 1;
    for (int i = 0; i < per.n; i++)
        if (per.st[i].calls >= 0.005 && rp_replayable (per.st[i].name) && rp_count (sample, per.st[i].name) == 0) {
            printf ("%s %.2f/lead (not seen in the calibration)  ", per.st[i].name, per.st[i].calls);
            none = 0;
        }
    printf ("%sscripts (evalsha, eval: their commands are in), connection and server commands\n", none ? "" : "; ");

    printf ("\nratio      end to end / raw Redis of the same work: %.0f / %.0f leads/s = %.3f (the chain runs at "
            "%.1f%% of its Redis floor)\n", rate, base_rate, base_rate > 0 ? rate / base_rate : 0,
            base_rate > 0 ? 100 * rate / base_rate : 0);
    printf ("goal       >= 20,000 leads/s end to end on 2 cores: %.0f (%.2f of the goal)\n", rate, rate / 20000);
    printf ("checks     %zu + %zu leads accepted, each in the due queue once (%lld members): %s\n", N, NL,
            queued - (long long) S, ok ? "ok" : "FAILED");
    fx_loadavg ("the end");
    rp_destroy (&sample);
    redisFree (rc);
    fx_stop (&f);
    lb_free (&cal);
    lb_free (&half[0]);
    lb_free (&half[1]);
    for (size_t i = 0; i < o.batches; i++)
        lb_free (&batches[i]);
    free (batches);
    free (ids);
    free (sent);
    free (answered);
    free (lat);
    free (blat);
    free (http_ms);
    return ok ? 0 : 1;
}
