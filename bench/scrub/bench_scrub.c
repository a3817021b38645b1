/*  bench_scrub.c — scrub's lists in memory (services/scrub) beside Redis holding the same set.
 *
 *  For a French-size list (--fr, 10 million numbers) and a US-size list (--us, 250 million), on
 *  one core: random lookups, half of them hits, through the whole lookup path
 *  (scrub_lists_lookup: E.164 string in, read-side section, answer copied out) and through the
 *  bare set (scrub_numset_contains); the structure's bytes and the process's resident memory;
 *  the time to load a version from a raw registry file (US area-code format, read by hand) and
 *  from the shared serialized file (scrub_list_map), and to swap it in, idle and while another
 *  thread looks up. Beside it, in the same run, a private redis-server holding the same numbers
 *  as E.164 strings in one set: SISMEMBER pipelined 1,000 deep on one connection, and Redis's
 *  used_memory for the set. Ratios are printed.
 *
 *  Redis needs about 60 bytes a member, so 250 million members (15 GB and more while loading)
 *  do not fit beside everything else on a 24 GiB machine: Redis runs at --redis-max members
 *  (default 50 million) drawn evenly from the list when the list is larger, and the output says
 *  so; the ratio then compares our structure at full size with Redis at its size (memory per
 *  number, lookups per second — Redis's per-member cost does not fall with size, ours at full
 *  size is the harder case).
 *
 *  --compare measures the alternatives the ADR weighed on the same keys and queries: a sorted
 *  array with binary search, CRoaring (when the build found it), and the numset at other widths.
 *
 *  Numbers are synthetic: French numbers uniform over +33 1… to +33 9… (9 × 10^8), US numbers
 *  over valid NANP numbers (NPA 200-999 except N11, NXX 200-999), drawn as sorted distinct keys
 *  with random gaps. Benchmarks must run with nothing else busy: the load average is printed at
 *  the start and the end.
 */
#include <fcntl.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lists.h"
#include "numset.h"
#include "pl_test.h"
#include "plateau/error.h"

#ifdef PL_BENCH_ROARING
#include <roaring/roaring.h>
#endif

#ifndef PL_BUILD_TYPE
#define PL_BUILD_TYPE "?"
#endif

#define TAKEN_MS 1777939200000LL
#define REDIS_DEPTH 1000
#define SADD_BATCH 1000

typedef struct {
    uint64_t fr, us, lookups, redis_max, redis_lookups, batch, phone_sample;
    bool no_redis, no_raw, compare;
    const char *dir;
    const char *only;
} opts_t;

/* ------------------------------------------------------------------------------------------- */
/* Measuring                                                                                    */

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
s_cpu (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
s_rss_mb (void)
{
    FILE *f = fopen ("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    while (f && fgets (line, sizeof line, f)) {
        if (strncmp (line, "VmRSS:", 6) == 0)
            kb = atof (line + 6);
    }
    if (f)
        fclose (f);
    return kb / 1024.0;
}

static void
s_loadavg (const char *when)
{
    char buf[128];
    pl_test_loadavg (buf, sizeof buf);
    printf ("load average at %s: %s\n", when, buf);
}

static uint64_t s_rng = 0x9E3779B97F4A7C15ULL;

static uint64_t
s_rand (void)
{
    return pl_test_rand (&s_rng);
}

/* ------------------------------------------------------------------------------------------- */
/* Synthetic lists                                                                              */

typedef enum { PROFILE_FR, PROFILE_US } profile_t;

/* The size of the index space and the key of index i (monotonic). */
/* US area codes in use by the synthetic list (all 792 by default; fewer keeps the registry's
 * density at a smaller size, for quick runs). */
static uint64_t s_us_npas = 792;

static uint64_t
s_space (profile_t p)
{
    return p == PROFILE_FR ? 900000000ULL : s_us_npas * 800ULL * 10000ULL;
}

/* NPA lookup table so that s_key_of is cheap in bulk. */
static uint16_t s_npa[792];

static void
s_npa_init (void)
{
    uint64_t k = 0;
    for (uint64_t a = 200; a < 1000; a++) {
        if (a % 100 == 11)
            continue;
        s_npa[k++] = (uint16_t) a;
    }
}

static inline uint64_t
s_key_fast (profile_t p, uint64_t i)
{
    if (p == PROFILE_FR)
        return 33100000000ULL + i;
    uint64_t rest = i % 8000000ULL;
    return 10000000000ULL + (uint64_t) s_npa[i / 8000000ULL] * 10000000ULL
           + (200 + rest / 10000) * 10000ULL + rest % 10000;
}

/* n sorted distinct keys over the profile's space, with random gaps. Returns the count made
 * (n, or fewer if the space ran out). */
static uint64_t *
s_make_keys (profile_t p, uint64_t n, uint64_t *made)
{
    uint64_t space = s_space (p);
    double mean_gap = (double) space / (double) n;
    uint64_t *k = malloc (n * sizeof *k);
    if (!k) {
        fprintf (stderr, "bench_scrub: out of memory for %llu keys\n", (unsigned long long) n);
        exit (1);
    }
    uint64_t idx = 0, m = 0;
    for (; m < n; m++) {
        double r = ((double) (s_rand () >> 11) + 1.0) / 9007199254740993.0;
        uint64_t gap = 1 + (uint64_t) (-log (r) * (mean_gap - 1.0));
        idx += m ? gap : gap / 2;
        if (idx >= space)
            break;
        k[m] = s_key_fast (p, idx);
    }
    *made = m;
    return k;
}

/* Queries: half taken from the list, half anywhere in the space. */
static uint64_t *
s_make_queries (profile_t p, const uint64_t *keys, uint64_t n, uint64_t q)
{
    uint64_t *out = malloc (q * sizeof *out);
    for (uint64_t i = 0; i < q; i++)
        out[i] = (i & 1) ? keys[s_rand () % n] : s_key_fast (p, s_rand () % s_space (p));
    return out;
}

static char *
s_strings (const uint64_t *q, uint64_t n)
{
    char *s = malloc (n * SCRUB_E164_MAX);
    for (uint64_t i = 0; i < n; i++)
        scrub_key_to_e164 (q[i], s + i * SCRUB_E164_MAX, SCRUB_E164_MAX);
    return s;
}

/* ------------------------------------------------------------------------------------------- */
/* Our lookups                                                                                  */

typedef struct {
    double per_s, cpu_per_s;
    uint64_t hits;
} rate_t;

static rate_t
s_numset_rate (const scrub_numset_t *set, const uint64_t *q, uint64_t n)
{
    double t0 = s_now (), c0 = s_cpu ();
    uint64_t hits = 0;
    for (uint64_t i = 0; i < n; i++)
        hits += scrub_numset_contains (set, q[i]);
    double t = s_now () - t0, c = s_cpu () - c0;
    return (rate_t) { n / t, n / c, hits };
}

static rate_t
s_lists_rate (scrub_lists_t *lists, const char *strs, uint64_t n)
{
    scrub_hit_t h;
    double t0 = s_now (), c0 = s_cpu ();
    uint64_t hits = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (scrub_lists_lookup (lists, strs + i * SCRUB_E164_MAX, &h, 1) == 1 && h.hit)
            hits++;
    }
    double t = s_now () - t0, c = s_cpu () - c0;
    return (rate_t) { n / t, n / c, hits };
}

static rate_t
s_numset_batch_rate (const scrub_numset_t *set, const uint64_t *q, uint64_t n, uint64_t batch)
{
    int64_t *ranks = malloc (batch * sizeof *ranks);
    double t0 = s_now (), c0 = s_cpu ();
    uint64_t hits = 0;
    for (uint64_t i = 0; i < n; i += batch) {
        uint64_t m = n - i < batch ? n - i : batch;
        scrub_numset_rank_many (set, q + i, m, ranks);
        for (uint64_t j = 0; j < m; j++)
            hits += ranks[j] >= 0;
    }
    double t = s_now () - t0, c = s_cpu () - c0;
    free (ranks);
    return (rate_t) { n / t, n / c, hits };
}

static rate_t
s_lists_batch_rate (scrub_lists_t *lists, const char *strs, uint64_t n, uint64_t batch)
{
    const char **ptrs = malloc (batch * sizeof *ptrs);
    scrub_hit_t *hits = malloc (batch * sizeof *hits);
    double t0 = s_now (), c0 = s_cpu ();
    uint64_t nhits = 0;
    for (uint64_t i = 0; i < n; i += batch) {
        uint64_t m = n - i < batch ? n - i : batch;
        for (uint64_t j = 0; j < m; j++)
            ptrs[j] = strs + (i + j) * SCRUB_E164_MAX;
        size_t nl = 0;
        scrub_lists_lookup_batch (lists, ptrs, m, hits, 1, &nl);
        for (uint64_t j = 0; j < m; j++)
            nhits += hits[j].hit;
    }
    double t = s_now () - t0, c = s_cpu () - c0;
    free (ptrs);
    free (hits);
    return (rate_t) { n / t, n / c, nhits };
}

/* ------------------------------------------------------------------------------------------- */
/* Redis                                                                                        */

typedef struct {
    bool ran;
    uint64_t members;
    double used_bytes;              /* used_memory after − before */
    double per_s, per_redis_cpu_s;
    uint64_t hits, asked;
    double load_s;
} redis_result_t;

static double
s_info_field (redisContext *c, const char *section, const char *field)
{
    redisReply *r = redisCommand (c, "INFO %s", section);
    double v = -1;
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *p = strstr (r->str, field);
        if (p)
            v = atof (p + strlen (field) + 1);
    }
    freeReplyObject (r);
    return v;
}

static double
s_redis_cpu (redisContext *c)
{
    return s_info_field (c, "cpu", "used_cpu_user") + s_info_field (c, "cpu", "used_cpu_sys");
}

static void
s_redis (const uint64_t *keys, uint64_t n, uint64_t max, const uint64_t *queries, uint64_t nq,
         const char *qstr, redis_result_t *res)
{
    memset (res, 0, sizeof *res);
    pl_test_redis_t *srv = pl_test_redis_start ("appendonly no\n" PL_TEST_REDIS_TUNING);
    if (!srv) {
        fprintf (stderr, "bench_scrub: could not start redis-server; no baseline\n");
        return;
    }
    redisContext *c = redisConnect ("127.0.0.1", pl_test_redis_port (srv));
    if (!c || c->err) {
        fprintf (stderr, "bench_scrub: cannot connect to redis-server\n");
        pl_test_redis_stop (&srv);
        return;
    }
    double before = s_info_field (c, "memory", "used_memory");
    uint64_t stride = n > max ? (n + max - 1) / max : 1;
    uint64_t members = 0;
    const char *argv[SADD_BATCH + 2];
    size_t argl[SADD_BATCH + 2];
    char (*buf)[SCRUB_E164_MAX] = malloc (SADD_BATCH * SCRUB_E164_MAX);
    argv[0] = "SADD";
    argl[0] = 4;
    argv[1] = "bench:set";
    argl[1] = 9;
    double t0 = s_now ();
    int pending = 0;
    for (uint64_t i = 0; i < n;) {
        int m = 0;
        for (; m < SADD_BATCH && i < n; i += stride, m++) {
            argl[2 + m] = scrub_key_to_e164 (keys[i], buf[m], SCRUB_E164_MAX);
            argv[2 + m] = buf[m];
        }
        members += (uint64_t) m;
        redisAppendCommandArgv (c, 2 + m, argv, argl);
        if (++pending == 8 || i >= n) {
            for (; pending; pending--) {
                redisReply *r = NULL;
                if (redisGetReply (c, (void **) &r) != REDIS_OK) {
                    fprintf (stderr, "bench_scrub: redis SADD failed\n");
                    exit (1);
                }
                freeReplyObject (r);
            }
        }
    }
    res->load_s = s_now () - t0;
    free (buf);
    res->members = members;
    res->used_bytes = s_info_field (c, "memory", "used_memory") - before;

    /* the same queries (the subset's own hits are counted) */
    double cpu0 = s_redis_cpu (c);
    t0 = s_now ();
    uint64_t hits = 0;
    for (uint64_t j = 0; j < nq; j += REDIS_DEPTH) {
        uint64_t m = nq - j < REDIS_DEPTH ? nq - j : REDIS_DEPTH;
        for (uint64_t i = 0; i < m; i++) {
            const char *s = qstr + (j + i) * SCRUB_E164_MAX;
            redisAppendCommand (c, "SISMEMBER bench:set %b", s, strlen (s));
        }
        for (uint64_t i = 0; i < m; i++) {
            redisReply *r = NULL;
            if (redisGetReply (c, (void **) &r) != REDIS_OK) {
                fprintf (stderr, "bench_scrub: redis SISMEMBER failed\n");
                exit (1);
            }
            hits += r->type == REDIS_REPLY_INTEGER && r->integer == 1;
            freeReplyObject (r);
        }
    }
    double t = s_now () - t0;
    double cpu = s_redis_cpu (c) - cpu0;
    (void) queries;
    res->per_s = nq / t;
    res->per_redis_cpu_s = cpu > 0 ? nq / cpu : 0;
    res->hits = hits;
    res->asked = nq;
    res->ran = true;
    redisFree (c);
    pl_test_redis_stop (&srv);
}

/* ------------------------------------------------------------------------------------------- */
/* Loading and swapping                                                                         */

static void
s_write_us_file (const char *path, const uint64_t *keys, uint64_t n)
{
    FILE *f = fopen (path, "w");
    if (!f) {
        perror (path);
        exit (1);
    }
    static char buf[1 << 20];
    setvbuf (f, buf, _IOFBF, sizeof buf);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t nat = keys[i] - 10000000000ULL;
        fprintf (f, "%03llu,%07llu\n", (unsigned long long) (nat / 10000000ULL),
                 (unsigned long long) (nat % 10000000ULL));
    }
    fclose (f);
}

typedef struct {
    scrub_lists_t *lists;
    const char *strs;
    uint64_t n;
    atomic_bool stop;
    atomic_ulong done, errors;
} hammer_t;

static void *
s_hammer (void *arg)
{
    hammer_t *h = arg;
    scrub_hit_t hit;
    uint64_t i = 0;
    while (!atomic_load (&h->stop)) {
        if (scrub_lists_lookup (h->lists, h->strs + (i % h->n) * SCRUB_E164_MAX, &hit, 1) != 1)
            atomic_fetch_add (&h->errors, 1);
        atomic_fetch_add_explicit (&h->done, 1, memory_order_relaxed);
        i++;
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------- */
/* Alternatives (--compare)                                                                     */

static int
s_cmp_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return (x > y) - (x < y);
}

static void
s_compare (const char *label, const uint64_t *keys, uint64_t n, const uint64_t *q, uint64_t nq)
{
    printf ("\n  alternatives on the %s keys (%llu numbers, %llu lookups, one core)\n", label,
            (unsigned long long) n, (unsigned long long) nq);
    printf ("    %-34s %12s %10s %14s\n", "structure", "bytes", "bytes/num", "lookups/s");
    /* sorted array, binary search */
    {
        double t0 = s_now ();
        uint64_t hits = 0;
        for (uint64_t i = 0; i < nq; i++)
            hits += bsearch (&q[i], keys, n, sizeof *keys, s_cmp_u64) != NULL;
        double t = s_now () - t0;
        printf ("    %-34s %12llu %10.2f %14.0f   (hits %llu)\n", "sorted uint64 array, bsearch",
                (unsigned long long) (n * 8), 8.0, nq / t, (unsigned long long) hits);
    }
#ifdef PL_BENCH_ROARING
    {
        /* keys relative to the smallest, split by their high 32 bits into 32-bit bitmaps */
        uint64_t lo = keys[0];
        uint64_t parts = ((keys[n - 1] - lo) >> 32) + 1;
        roaring_bitmap_t **bm = calloc (parts, sizeof *bm);
        double r0 = s_rss_mb ();
        for (uint64_t p = 0; p < parts; p++)
            bm[p] = roaring_bitmap_create ();
        uint32_t chunk[4096];
        uint64_t i = 0;
        while (i < n) {
            uint64_t part = (keys[i] - lo) >> 32;
            size_t m = 0;
            while (i < n && m < 4096 && ((keys[i] - lo) >> 32) == part)
                chunk[m++] = (uint32_t) (keys[i++] - lo);
            roaring_bitmap_add_many (bm[part], m, chunk);
        }
        size_t bytes = 0;
        for (uint64_t p = 0; p < parts; p++) {
            roaring_bitmap_run_optimize (bm[p]);
            roaring_bitmap_shrink_to_fit (bm[p]);
            bytes += roaring_bitmap_portable_size_in_bytes (bm[p]);
        }
        double rss = s_rss_mb () - r0;
        double t0 = s_now ();
        uint64_t hits = 0;
        for (uint64_t j = 0; j < nq; j++) {
            if (q[j] < lo)
                continue;
            uint64_t d = q[j] - lo, part = d >> 32;
            hits += part < parts && roaring_bitmap_contains (bm[part], (uint32_t) d);
        }
        double t = s_now () - t0;
        printf ("    %-34s %12zu %10.2f %14.0f   (hits %llu; resident +%.0f MB)\n",
                "CRoaring 0.2 (portable size)", bytes, (double) bytes / n, nq / t,
                (unsigned long long) hits, rss);
        for (uint64_t p = 0; p < parts; p++)
            roaring_bitmap_free (bm[p]);
        free (bm);
    }
#else
    printf ("    %-34s (not built: libroaring-dev not found)\n", "CRoaring");
#endif
    size_t auto_size = scrub_numset_size_for (keys, n, SCRUB_NUMSET_AUTO_BITS);
    void *probe = NULL;
    size_t sz = 0;
    scrub_numset_build (keys, n, SCRUB_NUMSET_AUTO_BITS, &probe, &sz);
    scrub_numset_t ps;
    scrub_numset_view (probe, sz, &ps);
    int w_auto = (int) ps.w;
    free (probe);
    for (int w = w_auto + 2; w >= w_auto - 3 && w >= 0; w--) {
        void *block = NULL;
        size_t size = 0;
        if (scrub_numset_build (keys, n, w, &block, &size) != 0)
            continue;
        scrub_numset_t s;
        scrub_numset_view (block, size, &s);
        rate_t r = s_numset_rate (&s, q, nq);
        char name[64];
        snprintf (name, sizeof name, "numset w=%d (%.1f keys/bucket)%s", w,
                  (double) n / (double) s.nbuckets, size == auto_size ? " *" : "");
        printf ("    %-34s %12zu %10.2f %14.0f   (hits %llu)\n", name, size,
                (double) size / n, r.per_s, (unsigned long long) r.hits);
        free (block);
    }
    printf ("    (* the width the build chooses: the smallest block)\n");
}

/* ------------------------------------------------------------------------------------------- */
/* One list                                                                                     */

static void
s_run (const opts_t *o, const char *label, profile_t p, uint64_t want)
{
    printf ("\n== %s list: %llu numbers ==\n", label, (unsigned long long) want);
    double t0 = s_now ();
    uint64_t n = 0;
    uint64_t *keys = s_make_keys (p, want, &n);
    uint64_t nq = o->lookups;
    uint64_t *q = s_make_queries (p, keys, n, nq);
    char *qs = s_strings (q, nq);
    printf ("  generated %llu numbers and %llu queries in %.1f s\n", (unsigned long long) n,
            (unsigned long long) nq, s_now () - t0);

    if (o->compare)
        s_compare (label, keys, n, q, nq);

    char path[4096], raw[4096];
    snprintf (path, sizeof path, "%s/%s.list", o->dir, label);
    snprintf (raw, sizeof raw, "%s/%s-raw.txt", o->dir, label);
    scrub_load_report_t *rep = scrub_load_report_new (0);
    double raw_s = -1, raw_n = 0, raw_rss = 0;
    if (!o->no_raw) {
        /* a raw registry file of as many numbers, US area-code format (the fast path) */
        uint64_t rn = 0;
        uint64_t *rk = p == PROFILE_US ? keys : s_make_keys (PROFILE_US, n, &rn);
        if (p == PROFILE_US)
            rn = n;
        s_write_us_file (raw, rk, rn);
        if (rk != keys)
            free (rk);
        scrub_load_options_t lo = { .name = "raw", .taken_ms = TAKEN_MS,
                                    .format = SCRUB_FORMAT_US_DNC };
        double r0 = s_rss_mb ();
        double l0 = s_now ();
        scrub_list_t *rv = NULL;
        if (scrub_list_load_file (&lo, raw, NULL, rep, &rv) != 0) {
            fprintf (stderr, "bench_scrub: raw load: %s\n", scrub_load_report_errstr (rep));
            exit (1);
        }
        raw_s = s_now () - l0;
        raw_rss = s_rss_mb () - r0;
        raw_n = (double) scrub_list_count (rv);
        scrub_list_destroy (&rv);
        unlink (raw);
    }

    /* formats read through libphonenumber (TPS, Bloctel, lines, CSV): a sample of the list */
    double phone_rate = 0;
    uint64_t sample = o->phone_sample < n ? o->phone_sample : n;
    if (!o->no_raw && sample) {
        FILE *f = fopen (raw, "w");
        char e164[SCRUB_E164_MAX];
        for (uint64_t i = 0; f && i < sample; i++) {
            scrub_key_to_e164 (keys[(i * (n / sample))], e164, sizeof e164);
            fprintf (f, "%s\n", e164);
        }
        if (f)
            fclose (f);
        scrub_load_options_t lo = { .name = "sample", .taken_ms = TAKEN_MS,
                                    .format = SCRUB_FORMAT_LINES,
                                    .bad_lines = SCRUB_BAD_LINES_SKIP };
        scrub_list_t *sv = NULL;
        double l0 = s_now ();
        if (scrub_list_load_file (&lo, raw, NULL, rep, &sv) == 0)
            phone_rate = (double) scrub_load_report_lines (rep) / (s_now () - l0);
        scrub_list_destroy (&sv);
        unlink (raw);
    }

    /* the version from the sorted numbers (the loaders' last step), then its shared file */
    double b0 = s_now ();
    scrub_load_options_t vo = { .name = label, .taken_ms = TAKEN_MS, .kind = SCRUB_LIST_NATIONAL,
                                .jurisdiction = p == PROFILE_FR ? "FR" : "US" };
    scrub_list_t *ver = NULL;
    if (scrub_list_from_keys (&vo, keys, n, &ver) != 0) {
        fprintf (stderr, "bench_scrub: version build failed\n");
        exit (1);
    }
    double build_s = s_now () - b0;
    void *block = NULL;
    size_t bsize = 0;
    scrub_numset_build (keys, n, SCRUB_NUMSET_AUTO_BITS, &block, &bsize);
    scrub_numset_t set;
    scrub_numset_view (block, bsize, &set);
    double s0 = s_now ();
    char detail[256];
    if (scrub_list_save (ver, path, detail, sizeof detail) != 0) {
        fprintf (stderr, "bench_scrub: %s\n", detail);
        exit (1);
    }
    double save_s = s_now () - s0;
    size_t vbytes = scrub_list_bytes (ver);
    scrub_list_destroy (&ver);

    double r0 = s_rss_mb ();
    double m0 = s_now ();
    scrub_list_t *mapped = NULL;
    if (scrub_list_map (path, &mapped, detail, sizeof detail) != 0) {
        fprintf (stderr, "bench_scrub: %s\n", detail);
        exit (1);
    }
    double map_s = s_now () - m0;
    double map_rss = s_rss_mb () - r0;

    scrub_lists_t *lists = scrub_lists_new ();
    double w0 = s_now ();
    scrub_lists_swap (lists, mapped);
    double swap_idle_s = s_now () - w0;

    /* lookups, one core */
    rate_t bare = s_numset_rate (&set, q, nq);
    rate_t full = s_lists_rate (lists, qs, nq);
    rate_t bare_b = s_numset_batch_rate (&set, q, nq, o->batch);
    rate_t full_b = s_lists_batch_rate (lists, qs, nq, o->batch);

    /* swap again while another thread hammers lookups */
    hammer_t h = { .lists = lists, .strs = qs, .n = nq };
    atomic_init (&h.stop, false);
    atomic_init (&h.done, 0);
    atomic_init (&h.errors, 0);
    pthread_t th;
    pthread_create (&th, NULL, s_hammer, &h);
    while (atomic_load (&h.done) < 100000)
        ;
    double busy_swaps = 0;
    const int rounds = 10;
    for (int i = 0; i < rounds; i++) {
        scrub_list_t *again = NULL;
        scrub_list_map (path, &again, NULL, 0);
        double x0 = s_now ();
        scrub_lists_swap (lists, again);
        busy_swaps += s_now () - x0;
        scrub_list_destroy (&again);
    }
    atomic_store (&h.stop, true);
    pthread_join (th, NULL);

    printf ("\n  ours (services/scrub, %s build)\n", PL_BUILD_TYPE);
    printf ("    structure: %zu bytes = %.2f bytes/number (numset w=%u, %.1f numbers a bucket); "
            "version file %zu bytes\n",
            bsize, (double) bsize / n, set.w, (double) n / set.nbuckets, vbytes);
    printf ("    resident memory of the mapped version: +%.0f MB\n", map_rss);
    printf ("    lookups/s, one core, full path (E.164 string, section, answer): %12.0f  "
            "(%.0f per CPU-second, %.0f ns each; hits %llu of %llu)\n",
            full.per_s, full.cpu_per_s, 1e9 / full.per_s, (unsigned long long) full.hits,
            (unsigned long long) nq);
    printf ("    lookups/s, one core, full path in batches of %-4llu (lookup_batch): %12.0f  "
            "(%.0f per CPU-second, %.0f ns each; hits %llu)\n",
            (unsigned long long) o->batch, full_b.per_s, full_b.cpu_per_s, 1e9 / full_b.per_s,
            (unsigned long long) full_b.hits);
    printf ("    lookups/s, one core, bare set (key in), one by one:            %12.0f  "
            "(%.0f ns each; hits %llu)\n",
            bare.per_s, 1e9 / bare.per_s, (unsigned long long) bare.hits);
    printf ("    lookups/s, one core, bare set in batches (rank_many):          %12.0f  "
            "(%.0f ns each; hits %llu)\n",
            bare_b.per_s, 1e9 / bare_b.per_s, (unsigned long long) bare_b.hits);
    if (raw_s >= 0)
        printf ("    load from the raw file (US area-code format, %.0f numbers): %.2f s "
                "(%.0f lines/s; resident +%.0f MB after)\n",
                raw_n, raw_s, raw_n / raw_s, raw_rss);
    if (phone_rate > 0)
        printf ("    load through libphonenumber (E.164 lines, %llu-line sample): %.0f lines/s, "
                "so %.0f s for the whole list\n",
                (unsigned long long) sample, phone_rate, (double) n / phone_rate);
    printf ("    build from sorted numbers: %.2f s; save the shared file: %.2f s\n", build_s,
            save_s);
    printf ("    load from the shared file (map + checks + checksum, page cache warm): %.3f s\n",
            map_s);
    printf ("    swap: idle %.3f ms; under a lookup thread %.3f ms on average (%d swaps, "
            "%lu lookups meanwhile, %lu errors)\n",
            swap_idle_s * 1e3, busy_swaps / rounds * 1e3, rounds,
            (unsigned long) atomic_load (&h.done), (unsigned long) atomic_load (&h.errors));

    redis_result_t rr;
    if (!o->no_redis) {
        s_redis (keys, n, o->redis_max, q, o->redis_lookups < nq ? o->redis_lookups : nq, qs,
                 &rr);
        if (rr.ran) {
            double rbpm = rr.used_bytes / rr.members;
            printf ("\n  Redis (a private redis-server), the same numbers as E.164 strings in "
                    "one set\n");
            if (rr.members < n)
                printf ("    ONLY %llu of the %llu numbers (every %llu-th): more does not fit "
                        "this machine (--redis-max)\n",
                        (unsigned long long) rr.members, (unsigned long long) n,
                        (unsigned long long) ((n + rr.members - 1) / rr.members));
            printf ("    used_memory for the set: %.0f bytes = %.1f bytes/member (SADD load "
                    "%.1f s)\n",
                    rr.used_bytes, rbpm, rr.load_s);
            printf ("    SISMEMBER pipelined %d deep, one connection: %12.0f lookups/s "
                    "(%.0f per Redis CPU-second; hits %llu of %llu)\n",
                    REDIS_DEPTH, rr.per_s, rr.per_redis_cpu_s, (unsigned long long) rr.hits,
                    (unsigned long long) rr.asked);
            printf ("\n  ratios (goal: >= 20x the lookups/s at <= 1/20 of the memory)\n");
            printf ("    lookups/s, full path in batches / Redis pipelined: %7.1fx  (per CPU-second "
                    "of each: %.1fx)\n",
                    full_b.per_s / rr.per_s, full_b.cpu_per_s / rr.per_redis_cpu_s);
            printf ("    lookups/s, full path one by one / Redis pipelined: %7.1fx\n",
                    full.per_s / rr.per_s);
            printf ("    lookups/s, bare set in batches / Redis pipelined:  %7.1fx\n",
                    bare_b.per_s / rr.per_s);
            printf ("    memory per number, Redis / ours:                   %7.1fx  (ours is 1/%.0f "
                    "of Redis's)\n",
                    rbpm / ((double) bsize / n), rbpm / ((double) bsize / n));
            if (rr.members < n)
                printf ("    (Redis measured at %llu members, ours at %llu)\n",
                        (unsigned long long) rr.members, (unsigned long long) n);
            if (rr.members == n) {
                uint64_t ours = 0;
                for (uint64_t i = 0; i < rr.asked; i++)
                    ours += scrub_numset_contains (&set, q[i]);
                printf ("    same answers: %s (hits: ours %llu, Redis %llu, of %llu)\n",
                        ours == rr.hits ? "yes" : "NO", (unsigned long long) ours,
                        (unsigned long long) rr.hits, (unsigned long long) rr.asked);
            }
        }
    }
    scrub_lists_destroy (&lists);
    scrub_list_destroy (&mapped);
    free (block);
    unlink (path);
    scrub_load_report_destroy (&rep);
    free (qs);
    free (q);
    free (keys);
}

static void
s_usage (void)
{
    printf ("bench_scrub: scrub's lists in memory beside Redis holding the same set.\n"
            "  --fr N            French-size list (default 10000000; 0 to skip)\n"
            "  --us N            US-size list (default 250000000; 0 to skip)\n"
            "  --lookups N       random lookups, half hits (default 10000000)\n"
            "  --redis-max N     most members Redis is given (default 50000000)\n"
            "  --redis-lookups N SISMEMBERs asked (default 2000000)\n"
            "  --batch N         numbers per lookup_batch call (default 100, a dial-time batch)\n"
            "  --no-redis        no Redis baseline\n"
            "  --no-raw          skip the loads from raw files\n"
            "  --phone-sample N  lines of the libphonenumber-read sample (default 100000)\n"
            "  --compare         also measure the alternatives (sorted array, Roaring, widths)\n"
            "  --us-npas K       US numbers in the first K of 792 area codes (default 792):\n"
            "                    keeps the registry's density in a smaller run\n"
            "  --dir PATH        where the raw and shared files go (default $TMPDIR or /tmp)\n");
}

int
main (int argc, char **argv)
{
    opts_t o = { .fr = 10000000ULL, .us = 250000000ULL, .lookups = 10000000ULL,
                 .redis_max = 50000000ULL, .redis_lookups = 2000000ULL, .batch = 100,
                 .phone_sample = 100000 };
    static const struct option longs[] = {
        { "fr", required_argument, 0, 'f' },        { "us", required_argument, 0, 'u' },
        { "lookups", required_argument, 0, 'l' },   { "redis-max", required_argument, 0, 'm' },
        { "redis-lookups", required_argument, 0, 'q' },
        { "no-redis", no_argument, 0, 'n' },        { "no-raw", no_argument, 0, 'r' },
        { "compare", no_argument, 0, 'c' },         { "dir", required_argument, 0, 'd' },
        { "us-npas", required_argument, 0, 'a' },  { "batch", required_argument, 0, 'b' },
        { "phone-sample", required_argument, 0, 'p' },
        { "help", no_argument, 0, 'h' },            { 0, 0, 0, 0 },
    };
    int ch;
    while ((ch = getopt_long (argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'f': o.fr = strtoull (optarg, NULL, 10); break;
        case 'u': o.us = strtoull (optarg, NULL, 10); break;
        case 'l': o.lookups = strtoull (optarg, NULL, 10); break;
        case 'm': o.redis_max = strtoull (optarg, NULL, 10); break;
        case 'q': o.redis_lookups = strtoull (optarg, NULL, 10); break;
        case 'n': o.no_redis = true; break;
        case 'r': o.no_raw = true; break;
        case 'c': o.compare = true; break;
        case 'd': o.dir = optarg; break;
        case 'p': o.phone_sample = strtoull (optarg, NULL, 10); break;
        case 'b':
            o.batch = strtoull (optarg, NULL, 10);
            o.batch = o.batch ? o.batch : 1;
            break;
        case 'a':
            s_us_npas = strtoull (optarg, NULL, 10);
            if (s_us_npas < 1 || s_us_npas > 792)
                s_us_npas = 792;
            break;
        case 'h': s_usage (); return 0;
        default: s_usage (); return 2;
        }
    }
    if (!o.dir)
        o.dir = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
    if (o.lookups == 0)
        o.lookups = 1;
    s_npa_init ();
    printf ("bench_scrub: %s build, %ld CPUs; French list %llu, US list %llu (in %llu area "
            "codes), %llu lookups; Redis up to %llu members\n",
            PL_BUILD_TYPE, sysconf (_SC_NPROCESSORS_ONLN), (unsigned long long) o.fr,
            (unsigned long long) o.us, (unsigned long long) s_us_npas,
            (unsigned long long) o.lookups, (unsigned long long) o.redis_max);
    s_loadavg ("start");
    if (o.fr)
        s_run (&o, "french", PROFILE_FR, o.fr);
    if (o.us)
        s_run (&o, "us", PROFILE_US, o.us);
    printf ("\n");
    s_loadavg ("end");
    return 0;
}
