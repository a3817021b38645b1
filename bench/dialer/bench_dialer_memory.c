/*  bench_dialer_memory.c — Redis memory per queued lead in the dialer (issue 11).
 *
 *  Leads are queued through the dialer's real bus door, as scrub sends them (LeadCleared with
 *  one ALLOW verdict, a realistic Lead: New York number with its zone and regions, name,
 *  address, ZIP, debt, trace id), with no agent ready, so nothing is dialled: the built
 *  plateau-dialer on a private redis-server (no persistence), a standing virtual clock, no audit
 *  (the dialer then writes no dial.scheduled event; with an audit the events leave Redis once
 *  acknowledged). Steps of --steps (default 10,000 then 100,000; --million adds 1,000,000):
 *  INFO memory's used_memory before and after each, bytes per queued lead overall and over the
 *  step (the slope), then where the bytes go: MEMORY USAGE (every element) of the dialer's own
 *  keys on an even sample of --sample leads — the lead's hash `pl:{camp:<c>}:dl:<lead>` and
 *  its fields, the number's `pl:{num:<e164>}:ld` — and of the whole queue `pl:{camp:<c>}:due`
 *  and the bus door's seen markers `pl:{camp:<c>}:seen:dialer:*`, each per lead; the rest is
 *  Redis's key space overhead (dict entries, expiry) and allocator slack. Extrapolates to 10
 *  million queued leads with the last step's slope. Goal: <= 200 bytes per queued lead.
 *
 *  Usage: bench_dialer_memory [--steps N,N,...] [--million] [--sample S] [--bin DIR]
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

#define MAX_STEPS 8
#define TEN_MILLION 10000000.0

static double
s_used (redisContext *c)
{
    /* let lazy frees and the allocator's statistics settle */
    usleep (300000);
    return fx_info (c, "memory", "used_memory");
}

static void
s_encoding (redisContext *c, const char *key, char *out, size_t size)
{
    redisReply *r = redisCommand (c, "OBJECT ENCODING %s", key);
    if (r && r->type == REDIS_REPLY_STRING)
        snprintf (out, size, "%s", r->str);
    if (r)
        freeReplyObject (r);
}

/* MEMORY USAGE of every key matching pattern, summed (SCAN). */
static double
s_usage_of (redisContext *c, const char *pattern, long long *keys)
{
    double sum = 0;
    *keys = 0;
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand (c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            if (r)
                freeReplyObject (r);
            break;
        }
        snprintf (cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            sum += (double) fx_int (c, "MEMORY USAGE %s SAMPLES 0", r->element[1]->element[i]->str);
            (*keys)++;
        }
        freeReplyObject (r);
    } while (strcmp (cursor, "0") != 0);
    return sum;
}

int
main (int argc, char **argv)
{
    size_t steps[MAX_STEPS] = { 10000, 100000 }, nsteps = 2, sample = 1000;
    bool million = false;
    const char *bin = NULL;
    static const struct option longs[] = { { "steps", required_argument, 0, 's' },
                                           { "million", no_argument, 0, 'm' },
                                           { "sample", required_argument, 0, 'S' },
                                           { "bin", required_argument, 0, 'B' },
                                           { "help", no_argument, 0, 'h' },
                                           { 0, 0, 0, 0 } };
    int c;
    while ((c = getopt_long (argc, argv, "s:mS:B:h", longs, NULL)) != -1) {
        switch (c) {
        case 's': {
            nsteps = 0;
            char *p = optarg;
            while (*p && nsteps < MAX_STEPS - 1) {
                steps[nsteps++] = strtoull (p, &p, 10);
                if (*p == ',')
                    p++;
            }
            break;
        }
        case 'm': million = true; break;
        case 'S': sample = strtoull (optarg, NULL, 10); break;
        case 'B': bin = optarg; break;
        default:
            fprintf (c == 'h' ? stdout : stderr,
                     "usage: bench_dialer_memory [--steps N,N,... (10000,100000)] [--million (adds 1000000)]\n"
                     "                           [--sample S (1000)] [--bin DIR (the services)]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (million)
        steps[nsteps++] = 1000000;
    for (size_t i = 0; i < nsteps; i++)
        if (steps[i] < 100 || (i && steps[i] <= steps[i - 1]) || steps[i] > 5000000) {
            fprintf (stderr, "bench_dialer_memory: --steps ascending, 100 to 5000000 each\n");
            return 2;
        }
    if (sample < 10)
        sample = 10;
    pl_test_bin_dir (bin);
    signal (SIGPIPE, SIG_IGN);
    size_t n_max = steps[nsteps - 1];

    printf ("bench_dialer_memory: Redis bytes per lead queued in plateau-dialer (through its bus door), %s build\n",
            PL_BUILD_TYPE);
    fx_loadavg ("the start");
    fx_t f;
    fx_opts_t fo = { .scrub = false, .audit = false, .batch = 200, .pace_ms = 20 };
    if (fx_start (&f, &fo, n_max) != 0) {
        fx_stop (&f);
        return 1;
    }
    redisContext *rc = redisConnect ("127.0.0.1", pl_test_redis_port (f.srv));
    if (!rc || rc->err) {
        fprintf (stderr, "bench_dialer_memory: cannot connect to redis-server\n");
        return 1;
    }
    double base = s_used (rc);
    printf ("Lead message %zu bytes packed (New York number, zone, 2 regions, name, address, ZIP, debt, trace id); "
            "used_memory with the dialer idle: %.0f bytes\n\n", fx_lead_size (0), base);
    printf ("%12s %14s %16s %16s %10s\n", "queued", "used_memory", "bytes/lead", "slope/lead", "leads/s");
    size_t prev = 0;
    double prev_used = base, slope = 0;
    for (size_t s = 0; s < nsteps; s++) {
        double t0 = fx_now ();
        if (fx_queue_leads (&f, prev, steps[s], 1000) != 0) {
            fprintf (stderr, "bench_dialer_memory: the leads were not all queued\n");
            fx_stop (&f);
            return 1;
        }
        double t = fx_now () - t0;
        double used = s_used (rc);
        slope = (used - prev_used) / (double) (steps[s] - prev);
        printf ("%12zu %14.0f %16.1f %16.1f %10.0f\n", steps[s], used, (used - base) / (double) steps[s], slope,
                (double) (steps[s] - prev) / t);
        prev = steps[s];
        prev_used = used;
    }
    double per_lead = (prev_used - base) / (double) n_max;

    /* Where the bytes go, at the last step. */
    char key[160], num[24], id[40];
    double dl = 0, leads = 0, pb = 0, fields[16] = { 0 };
    static const char *names[] = { "pb", "nums", "idx", "n", "state", "sched", "due" };
    size_t nf = sizeof names / sizeof *names, taken = 0;
    for (size_t k = 0; k < sample; k++) {
        size_t i = k * (n_max / sample);
        fx_lead_id (i, id);
        fx_number (i, num);
        snprintf (key, sizeof key, "pl:{camp:%s}:dl:%s", FX_CAMPAIGN, id);
        long long u = fx_int (rc, "MEMORY USAGE %s SAMPLES 0", key);
        if (u < 0)
            continue;
        taken++;
        dl += (double) u;
        for (size_t j = 0; j < nf; j++) {
            redisReply *r = redisCommand (rc, "HSTRLEN %s %s", key, names[j]);
            if (r && r->type == REDIS_REPLY_INTEGER)
                fields[j] += (double) r->integer;
            if (r)
                freeReplyObject (r);
        }
        snprintf (key, sizeof key, "pl:{num:%s}:ld", num);
        leads += (double) fx_int (rc, "MEMORY USAGE %s SAMPLES 0", key);
    }
    if (!taken) {
        fprintf (stderr, "bench_dialer_memory: no lead found in Redis\n");
        fx_stop (&f);
        return 1;
    }
    dl /= (double) taken;
    leads /= (double) taken;
    pb = fields[0] / (double) taken;
    snprintf (key, sizeof key, "pl:{camp:%s}:due", FX_CAMPAIGN);
    long long zcard = fx_int (rc, "ZCARD %s", key);
    double due = (double) fx_int (rc, "MEMORY USAGE %s SAMPLES 0", key) / (double) n_max;
    long long nseen = 0;
    snprintf (key, sizeof key, "pl:{camp:%s}:seen:*", FX_CAMPAIGN);
    double seen = s_usage_of (rc, key, &nseen) / (double) n_max;
    redisReply *r = redisCommand (rc, "DBSIZE");
    long long dbsize = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject (r);
    double rest = per_lead - dl - leads - due - seen;

    printf ("\nat %zu queued leads (%lld in the queue, %lld keys in Redis): where %.1f bytes per lead go "
            "(MEMORY USAGE on %zu leads)\n", n_max, zcard, dbsize, per_lead, taken);
    char enc_dl[32] = "?", enc_leads[32] = "?";
    fx_lead_id (0, id);
    fx_number (0, num);
    snprintf (key, sizeof key, "pl:{camp:%s}:dl:%s", FX_CAMPAIGN, id);
    s_encoding (rc, key, enc_dl, sizeof enc_dl);
    snprintf (key, sizeof key, "pl:{num:%s}:ld", num);
    s_encoding (rc, key, enc_leads, sizeof enc_leads);
    printf ("  %-44s %8.1f  (%4.1f%%)  encoding %s\n", "lead hash pl:{camp:c}:dl:<lead>", dl, 100 * dl / per_lead,
            enc_dl);
    printf ("    %-42s %8.1f\n", "of which field pb (the Lead protobuf)", pb);
    for (size_t j = 1; j < nf; j++)
        printf ("    %-42s %8.1f\n", names[j], fields[j] / (double) taken);
    printf ("    %-42s %8.1f\n", "field names, key name, hash overhead",
            dl - pb - (fields[1] + fields[2] + fields[3] + fields[4] + fields[5] + fields[6]) / (double) taken);
    printf ("  %-44s %8.1f  (%4.1f%%)  encoding %s\n", "number's index pl:{num:e164}:ld", leads,
            100 * leads / per_lead, enc_leads);
    printf ("  %-44s %8.1f  (%4.1f%%)\n", "queue pl:{camp:c}:due (per lead)", due, 100 * due / per_lead);
    printf ("  %-44s %8.1f  (%4.1f%%)  %lld bucket key(s)\n", "bus door's seen markers (per lead)", seen,
            100 * seen / per_lead, nseen);
    printf ("  %-44s %8.1f  (%4.1f%%)\n", "the rest: key space, expiries, allocator", rest, 100 * rest / per_lead);
    double at10m = prev_used - base + slope * (TEN_MILLION - (double) n_max);
    printf ("\nextrapolated to 10,000,000 queued leads with the last slope (%.1f bytes/lead): %.2f GB, %.1f bytes per "
            "lead\n", slope, at10m / 1e9, at10m / TEN_MILLION);
    printf ("goal      <= 200 bytes per queued lead: %.1f (%.2f of the goal)\n", at10m / TEN_MILLION,
            at10m / TEN_MILLION / 200);
    fx_loadavg ("the end");
    redisFree (rc);
    fx_stop (&f);
    return 0;
}
