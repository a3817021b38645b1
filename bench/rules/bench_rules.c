/*  bench_rules.c — compliance decisions per second on one core.
 *
 *  The dialer re-checks every rule at the instant of every dial, so a decision must cost
 *  nothing next to the Redis round trip around it: the goal is 1,000,000 decisions per second
 *  on one core. The mix is what production sees: five profiles (France canvassing and
 *  collection, US telemarketing with state overlays, US collection, UK marketing), contact
 *  histories of 0 to 20 calls over the last month, two candidate time zones per number, list
 *  verdicts and consents, and instants spread over the week (inside and outside the windows,
 *  so defers that walk days and holidays are part of the mix).
 *
 *  Beside it, in the same run, the baseline the engine's design replaced: local time through
 *  setenv("TZ") + tzset() + localtime_r() for the same zones, which is what checking only the
 *  calling hours would cost without an in-memory TZif reader.
 *
 *    bench_rules [--seconds S] [--profiles DIR] [--zoneinfo DIR] [--only fr-cc|us-cc|…]
 *                [--exact N]   (N decisions only, for instruction counts under callgrind)
 *
 *  Prints decisions/s, ns per decision, the verdict mix and the baseline ratio.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plateau/error.h"
#include "plateau/rules.h"
#include "pl_test.h"

#define POOL 4096
#define HOT 256
#define ROUND 8192
#define MAX_CALLS 20

typedef struct {
    pl_rules_facts_t f;
    pl_rules_zone_ref_t zones[2];
    const char *regions[1];
    pl_rules_call_t calls[MAX_CALLS];
    pl_rules_list_t lists[3];
    pl_rules_consent_t consent;
    const pl_rules_campaign_t *c;
    int64_t now;
    int profile;
} s_case_t;

static uint64_t s_rng = 88172645463325252ULL;

static uint64_t
s_rand (void)
{
    return pl_test_rand (&s_rng);
}

static int64_t
s_range (int64_t lo, int64_t hi)
{
    return lo + (int64_t) (s_rand () % (uint64_t) (hi - lo));
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double
s_now (clockid_t clk)
{
    struct timespec ts;
    clock_gettime (clk, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *const s_profiles[] = { "fr-cc", "us-cc", "us-dc", "uk-cc", "fr-dc" };
static const int s_weight[] = { 30, 30, 20, 10, 10 };   /* percent of the mix */
static const char *const s_zones[][2] = {
    { "Europe/Paris", "Indian/Reunion" },           /* fr-cc: number vs postal code */
    { "America/New_York", "America/Chicago" },      /* us-cc: area code vs postal code */
    { "America/Denver", "America/Phoenix" },        /* us-dc */
    { "Europe/London", "Europe/Dublin" },           /* uk-cc */
    { "Europe/Paris", "America/Martinique" },       /* fr-dc */
};

int
main (int argc, char **argv)
{
    double seconds = 3.0;
    const char *profiles = getenv ("PL_SOURCE_DIR") ? NULL : PL_RULES_BENCH_PROFILES;
    const char *zoneinfo = NULL;
    int only = -1;
    long long exact = 0;
    char buf[4096];
    if (!profiles) {
        snprintf (buf, sizeof buf, "%s/lib/rules/profiles", getenv ("PL_SOURCE_DIR"));
        profiles = buf;
    }
    static const struct option opts[] = { { "seconds", required_argument, NULL, 's' },
                                          { "profiles", required_argument, NULL, 'p' },
                                          { "zoneinfo", required_argument, NULL, 'z' },
                                          { "only", required_argument, NULL, 'o' },
                                          { "exact", required_argument, NULL, 'x' },
                                          { NULL, 0, NULL, 0 } };
    int o;
    while ((o = getopt_long (argc, argv, "s:p:z:o:x:", opts, NULL)) != -1) {
        if (o == 's')
            seconds = atof (optarg);
        else if (o == 'p')
            profiles = optarg;
        else if (o == 'z')
            zoneinfo = optarg;
        else if (o == 'x')
            exact = atoll (optarg);
        else if (o == 'o') {
            for (int p = 0; p < 5; p++)
                if (strcmp (optarg, s_profiles[p]) == 0)
                    only = p;
            if (only < 0) {
                fprintf (stderr, "--only: one of fr-cc us-cc us-dc uk-cc fr-dc\n");
                return 2;
            }
        }
        else {
            fprintf (stderr, "usage: %s [--seconds S] [--profiles DIR] [--zoneinfo DIR] "
                     "[--only PROFILE] [--exact N]\n", argv[0]);
            return 2;
        }
    }

    pl_rules_tzdb_t *tz = pl_rules_tzdb_new (zoneinfo);
    pl_rules_profiles_t *ps = pl_rules_profiles_new (tz);
    if (pl_rules_profiles_load_dir (ps, profiles) < 0) {
        fprintf (stderr, "profiles: %s\n", pl_rules_profiles_errstr (ps));
        return 1;
    }
    pl_rules_campaign_t *camp[5][2];
    for (int p = 0; p < 5; p++)
        for (int a = 0; a < 2; a++) {
            camp[p][a] = pl_rules_campaign_new (ps);
            char text[256];
            snprintf (text, sizeof text, "[campaign]\nprofile = %s\ntenant = 1\nid = 10\n"
                                         "subject = 5\ncli = +33162000000\ndialing = %s\n",
                      s_profiles[p], a ? "autodialed" : "manual");
            if (pl_rules_campaign_load_text (camp[p][a], "bench", text) != 0) {
                fprintf (stderr, "campaign: %s\n", pl_rules_campaign_errstr (camp[p][a]));
                return 1;
            }
        }

    /* The pool of cases. */
    static s_case_t pool[POOL];
    const int64_t base = 1767225600000LL;   /* 2026-01-01T00:00:00Z */
    for (int i = 0; i < POOL; i++) {
        s_case_t *k = &pool[i];
        memset (k, 0, sizeof *k);
        int r = (int) (s_rand () % 100), p = 0;
        for (int acc = s_weight[0]; r >= acc; acc += s_weight[++p])
            ;
        if (only >= 0)
            p = only;
        k->profile = p;
        k->c = camp[p][s_rand () % 3 == 0];
        k->now = base + s_range (0, 365LL * 86400000);
        for (int z = 0; z < 2; z++) {
            const pl_rules_tz_t *zone = NULL;
            if (pl_rules_tzdb_load (tz, s_zones[p][z], &zone) != 0) {
                fprintf (stderr, "zone: %s\n", pl_rules_tzdb_errstr (tz));
                return 1;
            }
            k->zones[z] = (pl_rules_zone_ref_t) { zone, z ? PL_RULES_ZONE_POSTAL
                                                          : PL_RULES_ZONE_NUMBER };
        }
        k->f.e164 = p == 1 || p == 2 ? "+12125550123" : p == 3 ? "+447700900123"
                                                               : "+33612345678";
        k->f.line = s_rand () % 2 ? PL_RULES_LINE_MOBILE : PL_RULES_LINE_FIXED;
        k->f.zones = k->zones;
        k->f.n_zones = 2;
        if (p == 1 && s_rand () % 4 == 0) {
            k->regions[0] = "US-FL";
            k->f.regions = k->regions;
            k->f.n_regions = 1;
        }
        k->f.debt = 77;
        k->f.letter_ref = "L-1";
        k->f.letter_ms = k->now - 40LL * 86400000;
        int n = (int) s_range (0, MAX_CALLS + 1);
        for (int c = 0; c < n; c++) {
            uint32_t fl = 0;
            int x = (int) (s_rand () % 100);
            if (x < 15)
                fl |= PL_RULES_CALL_CONVERSATION;
            else if (x < 25)
                fl |= PL_RULES_CALL_MACHINE;
            else if (x < 28)
                fl |= PL_RULES_CALL_ABANDONED;
            k->calls[c] = (pl_rules_call_t) { k->now - s_range (0, 30LL * 86400000),
                                              s_rand () % 10 ? 1 : 2, 10, 77, 5, fl };
        }
        k->f.calls = k->calls;
        k->f.n_calls = (size_t) n;
        static const char *const lists[][3] = { { "bloctel", "internal-dnc", NULL },
                                                { "us-dnc", "internal-dnc", NULL },
                                                { NULL, NULL, NULL },
                                                { "tps", "ctps", "internal-dnc" },
                                                { NULL, NULL, NULL } };
        for (int l = 0; l < 3 && lists[p][l]; l++)
            k->lists[k->f.n_lists++] = (pl_rules_list_t) { lists[p][l], s_rand () % 50 == 0,
                                                           "2026-W01",
                                                           k->now - s_range (0, 20LL * 86400000) };
        k->f.lists = k->lists;
        k->consent = (pl_rules_consent_t) { .captured_ms = k->now - 90LL * 86400000,
                                            .tenant = 1, .number = k->f.e164, .written = true,
                                            .evidence = "bench" };
        k->f.consents = &k->consent;
        k->f.n_consents = s_rand () % 10 ? 1 : 0;
    }

    /* Warm up and check every case decides. */
    pl_rules_decision_t d;
    long long verdicts[3] = { 0 }, iters = 0;
    for (int i = 0; i < POOL; i++) {
        if (pl_rules_decide (pool[i].c, &pool[i].f, pool[i].now, &d) != 0) {
            fprintf (stderr, "decide failed on case %d\n", i);
            return 1;
        }
        verdicts[d.verdict]++;
        iters += d.iterations;
    }

    if (exact > 0) {
        /* A fixed number of decisions over the hot cases and nothing else: for instruction
         * counts under a profiler (valgrind --tool=callgrind), which do not depend on load. */
        for (long long k = 0, i = 0; k < exact; k++, i = i + 1 == HOT ? 0 : i + 1)
            pl_rules_decide (pool[i].c, &pool[i].f, pool[i].now, &d);
        printf ("rules: %lld decisions\n", exact);
        return 0;
    }

    /* Timed: decisions on one core, in rounds of ROUND decisions, CPU time per round. Hot:
     * cycling over HOT cases whose facts stay in cache, as at dial time when the history was
     * just read. Cold: over the whole pool (megabytes), so that every decision first fetches
     * its facts from memory. On a shared machine rounds vary; the median is the figure, the
     * best round shows the uncontended core. */
    unsigned sink = 0;
    double med[2], best[2];
    long long count = 0;
    double cpu = 0;
    for (int pass = 0; pass < 2; pass++) {
        int span = pass == 0 ? HOT : POOL;
        static double rates[100000];
        int nr = 0, i = 0;
        double t0 = s_now (CLOCK_MONOTONIC);
        do {
            double c0 = s_now (CLOCK_PROCESS_CPUTIME_ID);
            for (int k = 0; k < ROUND; k++) {
                pl_rules_decide (pool[i].c, &pool[i].f, pool[i].now, &d);
                sink += (unsigned) d.verdict;
                i = i + 1 == span ? 0 : i + 1;
            }
            double c = s_now (CLOCK_PROCESS_CPUTIME_ID) - c0;
            rates[nr++] = ROUND / c;
            if (pass == 0) {
                count += ROUND;
                cpu += c;
            }
        } while (s_now (CLOCK_MONOTONIC) - t0 < seconds / 2 && nr < 100000);
        qsort (rates, (size_t) nr, sizeof rates[0], s_cmp_double);
        med[pass] = rates[nr / 2];
        best[pass] = rates[nr - 1];
    }
    double rate = med[0];

    /* Per profile, facts in cache: up to HOT cases of each. */
    double per[5] = { 0 };
    for (int p = 0; p < 5; p++) {
        static int idx[HOT];
        int m = 0;
        for (int i = 0; i < POOL && m < HOT; i++)
            if (pool[i].profile == p)
                idx[m++] = i;
        if (!m)
            continue;
        static double rates[100000];
        int nr = 0, j = 0;
        double t0 = s_now (CLOCK_MONOTONIC);
        do {
            double c0 = s_now (CLOCK_PROCESS_CPUTIME_ID);
            for (int r = 0; r < ROUND; r++) {
                const s_case_t *k = &pool[idx[j]];
                pl_rules_decide (k->c, &k->f, k->now, &d);
                sink += (unsigned) d.verdict;
                j = j + 1 == m ? 0 : j + 1;
            }
            rates[nr++] = ROUND / (s_now (CLOCK_PROCESS_CPUTIME_ID) - c0);
        } while (s_now (CLOCK_MONOTONIC) - t0 < seconds / 10 && nr < 100000);
        qsort (rates, (size_t) nr, sizeof rates[0], s_cmp_double);
        per[p] = rates[nr / 2];
    }

    /* Baseline: local time of the two zones through setenv/tzset/localtime_r only. */
    long long bn = 0;
    double b0 = s_now (CLOCK_PROCESS_CPUTIME_ID);
    for (int rep = 0; rep < 8; rep++)
        for (int i = 0; i < POOL; i++) {
            for (int z = 0; z < 2; z++) {
                char env[128];
                snprintf (env, sizeof env, ":%s", s_zones[pool[i].profile][z]);
                setenv ("TZ", env, 1);
                tzset ();
                time_t tt = (time_t) (pool[i].now / 1000);
                struct tm tm;
                localtime_r (&tt, &tm);
                sink += (unsigned) tm.tm_hour;
            }
            bn++;
        }
    double brate = bn / (s_now (CLOCK_PROCESS_CPUTIME_ID) - b0);

    /* Conversion alone. */
    const pl_rules_tz_t *paris = pl_rules_tzdb_find (tz, "Europe/Paris");
    long long cn = 0;
    double z0 = s_now (CLOCK_PROCESS_CPUTIME_ID);
    for (int rep = 0; rep < 500; rep++)
        for (int i = 0; i < POOL; i++) {
            pl_rules_tm_t tm;
            pl_rules_tz_local (paris, pool[i].now / 1000, &tm);
            sink += (unsigned) tm.hour;
            cn++;
        }
    double crate = cn / (s_now (CLOCK_PROCESS_CPUTIME_ID) - z0);

#ifndef __OPTIMIZE__
    printf ("warning: built without optimisation; use a Release build for figures\n");
#endif
    printf ("rules: %lld decisions in %.2f s CPU on one core, rounds of %d\n", count, cpu,
            ROUND);
    printf ("rules: %.0f decisions/s (median round), %.0f ns/decision, facts in cache "
            "(goal 1000000/s: %s); best round %.0f/s\n", rate, 1e9 / rate,
            rate >= 1e6 ? "met" : "NOT met", best[0]);
    printf ("rules: %.0f decisions/s (median round), %.0f ns/decision, facts fetched from "
            "memory (%d cases); best round %.0f/s\n", med[1], 1e9 / med[1], POOL, best[1]);
    printf ("rules: mix %.0f%% allow, %.0f%% defer, %.0f%% deny; %.2f instants tried per "
            "decision\n", 100.0 * verdicts[PL_RULES_ALLOW] / POOL,
            100.0 * verdicts[PL_RULES_DEFER] / POOL, 100.0 * verdicts[PL_RULES_DENY] / POOL,
            (double) iters / POOL);
    for (int p = 0; p < 5; p++)
        printf ("rules:   %-6s %10.0f decisions/s (median round, facts in cache)\n",
                s_profiles[p], per[p]);
    printf ("rules: local time of 2 zones via setenv(TZ)+localtime_r: %.0f/s; whole decisions "
            "are %.1fx that\n", brate, rate / brate);
    printf ("rules: pl_rules_tz_local alone: %.0f conversions/s\n", crate);
    if (sink == 42)
        printf ("\n");
    for (int p = 0; p < 5; p++)
        for (int a = 0; a < 2; a++)
            pl_rules_campaign_destroy (&camp[p][a]);
    pl_rules_profiles_destroy (&ps);
    pl_rules_tzdb_destroy (&tz);
    return 0;
}
